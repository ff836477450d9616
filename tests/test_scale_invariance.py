"""``weightreg.normalization.exponential_lr_schedule``: the formula against brute force, and Li &
Arora's equivalence on a real scale-invariant network (torch.nn with BatchNorm, float64, digits).

Chapter: *Scale invariance* (``book/normalized/scale_invariance.md``).
"""

from __future__ import annotations

import math
from fractions import Fraction

import pytest
import torch
from torch import nn

from weightreg.data import digits_split
from weightreg.normalization import exponential_lr_schedule

F64 = torch.float64


# --------------------------------------------------------------------------------------------
# The formula


@pytest.mark.parametrize(
    ("lr", "weight_decay", "steps"),
    [(0.1, 0.01, 10), (0.5, 0.02, 300), (1.0, 0.5, 7), (3.0, 0.3, 1)],
)
def test_formula_against_brute_force(lr, weight_decay, steps):
    got = exponential_lr_schedule(lr, weight_decay, steps)
    assert got.dtype == F64 and got.shape == (steps,)
    # brute force in exact rational arithmetic: eta_0 = eta / (1 - eta lambda), then each step
    # divides twice more by (1 - eta lambda)
    q = 1 - Fraction(lr) * Fraction(weight_decay)
    want, rate = [], Fraction(lr) / q
    for _ in range(steps):
        want.append(float(rate))
        rate /= q * q
    torch.testing.assert_close(got, torch.tensor(want, dtype=F64), rtol=1e-13, atol=0)


def test_ratio_and_limits():
    s = exponential_lr_schedule(0.2, 0.05, 50)
    q = 1 - 0.2 * 0.05
    torch.testing.assert_close(
        s[1:] / s[:-1], torch.full((49,), q**-2, dtype=F64), rtol=1e-13, atol=0
    )
    # tiny decay: the schedule is nearly constant, eta (1 + (2t + 1) eta lambda) to first order
    tiny = exponential_lr_schedule(0.1, 1e-9, 5)
    first = 0.1 * (1 + (2 * torch.arange(5, dtype=F64) + 1) * 0.1 * 1e-9)
    torch.testing.assert_close(tiny, first, rtol=1e-15, atol=0)


# --------------------------------------------------------------------------------------------
# Li & Arora on a real network


H, K = 24, 10


def _net(seed: int, eps: float = 1e-30, train_last: bool = False) -> nn.Sequential:
    """Linear -> BatchNorm (no affine, batch statistics) -> ReLU, twice, then a fixed classifier.

    Every trained parameter is then scale-invariant (``eps`` tiny: var + eps = var in float64).
    """
    torch.manual_seed(seed)
    net = nn.Sequential(
        nn.Linear(64, H, bias=False),
        nn.BatchNorm1d(H, eps=eps, affine=False, track_running_stats=False),
        nn.ReLU(),
        nn.Linear(H, H, bias=False),
        nn.BatchNorm1d(H, eps=eps, affine=False, track_running_stats=False),
        nn.ReLU(),
        nn.Linear(H, K),
    ).to(F64)
    with torch.no_grad():
        net[6].weight.mul_(4.0)
    net[6].weight.requires_grad_(train_last)
    net[6].bias.requires_grad_(train_last)
    return net


@pytest.fixture(scope="module")
def data():
    split = digits_split(200, seed=3, dtype=F64)
    return split.X_train, split.y_train


def _angle(a: torch.Tensor, b: torch.Tensor) -> float:
    a, b = a / a.norm(), b / b.norm()
    return float(2 * torch.atan2((a - b).norm(), (a + b).norm()))


def _two_runs(data, seed, lr, weight_decay, steps, **net_kw):
    """torch.optim.SGD with weight_decay, and SGD without decay on the exponential schedule."""
    X, y = data
    net_a, net_b = _net(seed, **net_kw), _net(seed, **net_kw)
    opt_a = torch.optim.SGD(
        [p for p in net_a.parameters() if p.requires_grad], lr=lr, weight_decay=weight_decay
    )
    opt_b = torch.optim.SGD([p for p in net_b.parameters() if p.requires_grad], lr=lr)
    schedule = exponential_lr_schedule(lr, weight_decay, steps)
    angles, ratios = [], []
    for t in range(steps):
        for net, opt in ((net_a, opt_a), (net_b, opt_b)):
            opt.zero_grad()
            nn.functional.cross_entropy(net(X), y).backward()
        opt_b.param_groups[0]["lr"] = float(schedule[t])
        opt_a.step()
        opt_b.step()
        for i in (0, 3):
            wa, wb = net_a[i].weight.detach(), net_b[i].weight.detach()
            angles.append(_angle(wa, wb))
            # the theorem: w~_{t+1} = (1 - eta lambda)^{-(t+1)} w_{t+1}, entry by entry
            ratios.append(float((wb - (1 - lr * weight_decay) ** -(t + 1) * wa).norm() / wb.norm()))
    return max(angles), max(ratios)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_li_arora_equivalence_on_batchnorm_network(data, seed):
    max_angle, max_gap = _two_runs(data, seed, lr=0.5, weight_decay=0.02, steps=150)
    assert max_angle < 1e-12, max_angle
    assert max_gap < 1e-12, max_gap


def test_equivalence_fails_without_scale_invariance(data):
    """Negative controls: the test above can fail. A trained classifier (not scale-invariant),
    or torch's default eps = 1e-5 (invariance only approximate), breaks the identity."""
    angle_last, _ = _two_runs(data, 0, lr=0.5, weight_decay=0.02, steps=60, train_last=True)
    assert angle_last > 1e-6, angle_last
    angle_eps, _ = _two_runs(data, 0, lr=0.5, weight_decay=0.02, steps=60, eps=1e-5)
    assert angle_eps > 1e-9, angle_eps


@pytest.mark.parametrize("seed", [0, 1])
def test_gradient_orthogonal_and_norm_growth_without_decay(data, seed):
    """Plain GD on the scale-invariant layers: <g, w> = 0, so ||w_{t+1}||^2 = ||w_t||^2 +
    eta^2 ||g_t||^2 exactly; and the gradient at c w is the gradient at w divided by c."""
    X, y = data
    net, lr = _net(seed), 0.5
    for _ in range(40):
        net.zero_grad()
        nn.functional.cross_entropy(net(X), y).backward()
        with torch.no_grad():
            for i in (0, 3):
                w, g = net[i].weight, net[i].weight.grad
                assert abs(float((w * g).sum())) < 1e-13 * float(w.norm() * g.norm())
                before = float(w.norm() ** 2)
                w -= lr * g
                predicted = before + lr**2 * float(g.norm() ** 2)
                assert math.isclose(float(w.norm() ** 2), predicted, rel_tol=1e-13)
    # the gradient's scaling, layer by layer
    net.zero_grad()
    nn.functional.cross_entropy(net(X), y).backward()
    g0 = [net[i].weight.grad.clone() for i in (0, 3)]
    for j, i in enumerate((0, 3)):
        for c in (0.1, 7.0):
            with torch.no_grad():
                net[i].weight.mul_(c)
            net.zero_grad()
            nn.functional.cross_entropy(net(X), y).backward()
            torch.testing.assert_close(net[i].weight.grad, g0[j] / c, rtol=1e-11, atol=1e-15)
            with torch.no_grad():
                net[i].weight.div_(c)


# --------------------------------------------------------------------------------------------
# Bad input


@pytest.mark.parametrize(
    ("args", "name"),
    [
        ((0.0, 0.1, 5), "lr"),
        ((-0.1, 0.1, 5), "lr"),
        ((math.nan, 0.1, 5), "lr"),
        ((0.1, 0.0, 5), "weight_decay"),
        ((0.1, -1.0, 5), "weight_decay"),
        ((0.1, math.inf, 5), "weight_decay"),
        ((0.1, 0.1, 0), "steps"),
        ((2.0, 0.5, 5), "lr \\* weight_decay"),
        ((2.0, 0.6, 5), "lr \\* weight_decay"),
    ],
)
def test_bad_values_refused(args, name):
    with pytest.raises(ValueError, match=name):
        exponential_lr_schedule(*args)


@pytest.mark.parametrize(
    ("args", "name"),
    [
        (("0.1", 0.1, 5), "lr"),
        ((0.1, None, 5), "weight_decay"),
        ((0.1, 0.1, "5"), "steps"),
        ((0.1, 0.1, 2.5), "steps"),
        ((True, 0.1, 5), "lr"),
    ],
)
def test_bad_types_refused(args, name):
    with pytest.raises((TypeError, ValueError), match=name):
        exponential_lr_schedule(*args)


def test_equivalence_with_minibatches_and_a_trained_classifier(data):
    """Two extensions stated in the chapter: minibatch SGD (the same minibatches in both runs),
    and a trained, non-invariant classifier kept on its own learning rate and decay in the
    decay-free run (a second parameter group); the invariant layers go on the schedule."""
    X, y = data
    lr, wd, steps = 0.3, 0.03, 80
    net_a, net_b = _net(5, train_last=True), _net(5, train_last=True)
    opt_a = torch.optim.SGD(net_a.parameters(), lr=lr, weight_decay=wd)
    invariant_b = [net_b[0].weight, net_b[3].weight]
    opt_b = torch.optim.SGD(
        [
            {"params": invariant_b, "lr": lr, "weight_decay": 0.0},
            {"params": list(net_b[6].parameters()), "lr": lr, "weight_decay": wd},
        ]
    )
    schedule = exponential_lr_schedule(lr, wd, steps)
    order = torch.randperm(len(y), generator=torch.Generator().manual_seed(0))
    batches = order.reshape(4, -1)  # minibatches of 50, cycled
    q = 1 - lr * wd
    for t in range(steps):
        idx = batches[t % 4]
        for net, opt in ((net_a, opt_a), (net_b, opt_b)):
            opt.zero_grad()
            nn.functional.cross_entropy(net(X[idx]), y[idx]).backward()
        opt_b.param_groups[0]["lr"] = float(schedule[t])
        opt_a.step()
        opt_b.step()
        for i in (0, 3):
            wa, wb = net_a[i].weight.detach(), net_b[i].weight.detach()
            assert _angle(wa, wb) < 1e-12
            torch.testing.assert_close(wb, q ** -(t + 1) * wa, rtol=1e-11, atol=1e-14)
        torch.testing.assert_close(net_b[6].weight, net_a[6].weight, rtol=1e-11, atol=1e-14)
        torch.testing.assert_close(net_b[6].bias, net_a[6].bias, rtol=1e-11, atol=1e-14)


def test_exponential_lr_schedule_refuses_to_overflow():
    """(1 - eta lambda)^(-2t-1) overflows float64 for long runs: an error, never inf."""
    with pytest.raises(ValueError, match="overflows float64 at step"):
        exponential_lr_schedule(0.5, 1.9, 1000)
    assert torch.isfinite(exponential_lr_schedule(0.5, 1.9, 100)).all()
