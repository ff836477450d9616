"""weightreg.optim against torch.optim: same iterates, many steps, every option."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from weightreg.optim import (
    SGD,
    Adam,
    adam_kernel_,
    adam_update_,
    sgd_kernel_,
    sgd_update_,
    torch_weight_decay,
)

pytestmark = pytest.mark.usefixtures("float64_default")  # iterate-for-iterate: float64

STEPS = 150


def _problem(seed: int = 0):
    """A small two-layer network on random data: four parameters, a non-convex loss."""
    gen = torch.Generator().manual_seed(seed)
    X = torch.randn(40, 6, generator=gen)
    y = torch.randn(40, 2, generator=gen)
    params = [
        torch.randn(6, 5, generator=gen) / 3,
        torch.randn(5, generator=gen) / 3,
        torch.randn(5, 2, generator=gen) / 3,
        torch.randn(2, generator=gen) / 3,
    ]
    return X, y, params


def _loss(X, y, params, step):
    W1, b1, W2, b2 = params
    rows = slice(step % 4 * 10, step % 4 * 10 + 10)  # four minibatches in turn
    return ((torch.tanh(X[rows] @ W1 + b1) @ W2 + b2 - y[rows]) ** 2).mean()


def _run(make_opt, steps=STEPS, *, groups=True, scheduler=None, pre_step=None):
    """Train the problem with ``make_opt(param_groups)``; return the parameters after each step."""
    X, y, params = _problem()
    params = [p.clone().requires_grad_(True) for p in params]
    if groups:  # weights decayed at the default rate, biases not decayed and a smaller lr
        arg = [
            {"params": [params[0], params[2]]},
            {"params": [params[1], params[3]], "weight_decay": 0.0, "lr": 0.02},
        ]
    else:
        arg = params
    opt = make_opt(arg)
    sched = scheduler(opt) if scheduler else None
    trajectory = []
    for step in range(steps):
        opt.zero_grad()
        _loss(X, y, params, step).backward()
        if pre_step is not None:
            pre_step(opt)
        opt.step()
        if sched is not None:
            sched.step()
        trajectory.append(torch.cat([p.detach().flatten() for p in params]))
    return torch.stack(trajectory)


def _assert_same(a, b):
    assert a.dtype == torch.float64
    torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("momentum", [0.0, 0.9])
@pytest.mark.parametrize("weight_decay", [0.0, 0.05])
@pytest.mark.parametrize("groups", [True, False])
def test_sgd_matches_torch_sgd(momentum, weight_decay, groups):
    kw = {"lr": 0.1, "momentum": momentum, "weight_decay": weight_decay}
    ours = _run(lambda p: SGD(p, **kw), groups=groups)
    ref = _run(lambda p: torch.optim.SGD(p, **kw), groups=groups)
    _assert_same(ours, ref)
    assert (ours[-1] - ours[0]).abs().max() > 1e-2  # it did move


def _shrink_decayed(opt):
    """Decoupled decay done by hand before a plain torch.optim.SGD step."""
    with torch.no_grad():
        for group in opt.param_groups:
            for p in group["params"]:
                p.mul_(1 - group["lr"] * group["wd_by_hand"])


@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_decoupled_sgd_is_shrink_then_torch_sgd(momentum):
    ours = _run(lambda p: SGD(p, lr=0.1, momentum=momentum, weight_decay=0.3, decoupled=True))

    def make_ref(p):
        opt = torch.optim.SGD(p, lr=0.1, momentum=momentum)
        opt.param_groups[0]["wd_by_hand"] = 0.3
        opt.param_groups[1]["wd_by_hand"] = 0.0  # the biases' group
        return opt

    ref = _run(make_ref, pre_step=_shrink_decayed)
    _assert_same(ours, ref)
    coupled = _run(lambda p: SGD(p, lr=0.1, momentum=momentum, weight_decay=0.3))
    if momentum:  # with momentum the two differ; without, they are Prop. 1's twins
        assert (ours - coupled).abs().max() > 1e-4
    else:
        torch.testing.assert_close(ours, coupled, rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("weight_decay", [0.0, 0.1])
@pytest.mark.parametrize("betas", [(0.9, 0.999), (0.5, 0.9)])
@pytest.mark.parametrize("groups", [True, False])
def test_adam_matches_torch_adam(weight_decay, betas, groups):
    kw = {"lr": 0.01, "betas": betas, "eps": 1e-6, "weight_decay": weight_decay}
    ours = _run(lambda p: Adam(p, **kw), groups=groups)
    ref = _run(lambda p: torch.optim.Adam(p, **kw), groups=groups)
    _assert_same(ours, ref)


@pytest.mark.parametrize("weight_decay", [0.0, 0.5])
@pytest.mark.parametrize("groups", [True, False])
def test_decoupled_adam_matches_torch_adamw(weight_decay, groups):
    kw = {"lr": 0.01, "eps": 1e-8, "weight_decay": weight_decay}
    ours = _run(lambda p: Adam(p, decoupled=True, **kw), groups=groups)
    ref = _run(lambda p: torch.optim.AdamW(p, **kw), groups=groups)
    _assert_same(ours, ref)
    ref2 = _run(lambda p: torch.optim.Adam(p, decoupled_weight_decay=True, **kw), groups=groups)
    _assert_same(ours, ref2)


def test_adam_coupled_and_decoupled_differ():
    """Proposition 2 in practice: Adam + L2 and AdamW part ways from the first step."""
    coupled = _run(lambda p: Adam(p, lr=0.01, weight_decay=0.5))
    decoupled = _run(lambda p: Adam(p, lr=0.01, weight_decay=0.5, decoupled=True))
    assert (coupled[0] - decoupled[0]).abs().max() > 1e-4


@pytest.mark.parametrize(
    ("ours", "ref"),
    [
        (lambda p: SGD(p, lr=0.2, momentum=0.9, weight_decay=0.1), torch.optim.SGD),
        (lambda p: Adam(p, lr=0.02, weight_decay=0.1), torch.optim.Adam),
        (lambda p: Adam(p, lr=0.02, weight_decay=0.1, decoupled=True), torch.optim.AdamW),
    ],
)
def test_match_under_lr_scheduler(ours, ref):
    """A scheduler changes ``group['lr']`` every step; the decay must follow it."""

    def sched(opt):
        return torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=STEPS)

    kw = {"momentum": 0.9} if ref is torch.optim.SGD else {}
    a = _run(ours, scheduler=sched)
    b = _run(lambda p: ref(p, lr=0.2 if kw else 0.02, weight_decay=0.1, **kw), scheduler=sched)
    _assert_same(a, b)


def test_paper_convention_via_torch_weight_decay():
    """AdamW with weight_decay = lambda / alpha follows the paper's eta_t * lambda shrink."""
    alpha, lam, eps = 0.01, 0.002, 1e-8
    b1, b2 = 0.9, 0.999

    def sched(opt):
        return torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=STEPS)

    wd = torch_weight_decay(lam, alpha)
    ours = _run(
        lambda p: Adam(p, lr=alpha, weight_decay=wd, decoupled=True), groups=False, scheduler=sched
    )
    # The paper's Algorithm 2, written out: x <- x - eta_t (alpha m_hat / (sqrt(v_hat)+eps) + lam x)
    X, y, params = _problem()
    x = [p.clone().requires_grad_(True) for p in params]
    m = [torch.zeros_like(p) for p in x]
    v = [torch.zeros_like(p) for p in x]
    traj = []
    for t in range(STEPS):
        eta = 0.5 * (1 + math.cos(math.pi * t / STEPS))
        grads = torch.autograd.grad(_loss(X, y, x, t), x)
        with torch.no_grad():
            for p, g, mi, vi in zip(x, grads, m, v, strict=True):
                mi.mul_(b1).add_((1 - b1) * g)
                vi.mul_(b2).add_((1 - b2) * g * g)
                m_hat, v_hat = mi / (1 - b1 ** (t + 1)), vi / (1 - b2 ** (t + 1))
                p -= eta * (alpha * m_hat / (v_hat.sqrt() + eps) + lam * p)
        traj.append(torch.cat([p.detach().flatten() for p in x]))
    torch.testing.assert_close(ours, torch.stack(traj), rtol=1e-10, atol=1e-12)


def test_closure_and_missing_grad():
    w = torch.tensor([1.0, -2.0], requires_grad=True)
    frozen = torch.tensor([3.0], requires_grad=True)  # never gets a gradient
    opt = SGD([w, frozen], lr=0.5, weight_decay=0.1, decoupled=True)

    def closure():
        opt.zero_grad()
        loss = (w**2).sum()
        loss.backward()
        return loss

    loss = opt.step(closure)
    assert float(loss.detach()) == 5.0
    # p (1 - lr lambda) - lr * 2p = p (1 - 0.05 - 1)
    torch.testing.assert_close(w.detach(), torch.tensor([-0.05, 0.1]))
    assert float(frozen.detach()) == 3.0
    opt2 = Adam([frozen], lr=0.1)
    opt2.step()
    assert float(frozen.detach()) == 3.0 and not opt2.state


@settings(max_examples=40, deadline=None)
@given(
    lr=st.floats(1e-4, 1.0),
    wd=st.floats(0.0, 10.0),
    p=st.lists(st.floats(-5, 5), min_size=3, max_size=3),
    g=st.lists(st.floats(-5, 5), min_size=3, max_size=3),
)
def test_plain_sgd_coupled_equals_decoupled(lr, wd, p, g):
    """Proposition 1 for one step: without momentum, L2 and decoupled decay coincide."""
    p1, p2, grad = torch.tensor(p), torch.tensor(p), torch.tensor(g)
    sgd_update_(p1, grad, None, lr=lr, weight_decay=wd)
    sgd_update_(p2, grad, None, lr=lr, weight_decay=wd, decoupled=True)
    torch.testing.assert_close(p1, p2, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(p1, torch.tensor(p) * (1 - lr * wd) - lr * grad)


@settings(max_examples=25, deadline=None)
@given(
    decoupled=st.booleans(),
    lrs=st.lists(st.floats(1e-4, 0.5), min_size=3, max_size=3),
    wds=st.lists(st.floats(0.0, 2.0), min_size=3, max_size=3),
    seed=st.integers(0, 1000),
)
def test_batched_updates_equal_one_by_one(decoupled, lrs, wds, seed):
    """Tensor lr and weight_decay of shape (C, 1, 1) update each slice with its own values."""
    gen = torch.Generator().manual_seed(seed)
    p = torch.randn(3, 4, 2, generator=gen)
    grads = [torch.randn(3, 4, 2, generator=gen) for _ in range(4)]
    lr = torch.tensor(lrs).reshape(3, 1, 1)
    wd = torch.tensor(wds).reshape(3, 1, 1)
    pb, buf = p.clone(), torch.zeros_like(p)
    pa, m2, v2 = p.clone(), torch.zeros_like(p), torch.zeros_like(p)
    singles = [(p[c].clone(), torch.zeros(4, 2)) for c in range(3)]
    adam_singles = [(p[c].clone(), torch.zeros(4, 2), torch.zeros(4, 2)) for c in range(3)]
    for step, g in enumerate(grads, start=1):
        sgd_update_(pb, g, buf, lr=lr, momentum=0.9, weight_decay=wd, decoupled=decoupled)
        adam_update_(pa, g, m2, v2, step, lr=lr, weight_decay=wd, decoupled=decoupled)
        for c in range(3):
            sgd_update_(
                singles[c][0],
                g[c],
                singles[c][1],
                lr=lrs[c],
                momentum=0.9,
                weight_decay=wds[c],
                decoupled=decoupled,
            )
            q, mc, vc = adam_singles[c]
            adam_update_(q, g[c], mc, vc, step, lr=lrs[c], weight_decay=wds[c], decoupled=decoupled)
    for c in range(3):
        torch.testing.assert_close(pb[c], singles[c][0], rtol=1e-13, atol=1e-14)
        torch.testing.assert_close(pa[c], adam_singles[c][0], rtol=1e-13, atol=1e-14)


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda p: SGD(p, lr=-0.1), "lr must be > 0"),
        (lambda p: SGD(p, lr=0.0), "lr must be > 0"),  # as ProjectedSGD: lr > 0 everywhere
        (lambda p: SGD(p, lr=0.1, weight_decay=-1.0), "weight_decay must be >= 0"),
        (lambda p: SGD(p, lr=0.1, momentum=1.0), r"momentum must lie in \[0, 1\)"),
        (lambda p: SGD(p, lr=0.1, momentum=-0.5), r"momentum must lie in \[0, 1\)"),
        (lambda p: Adam(p, lr=-1e-3), "lr must be > 0"),
        (lambda p: Adam(p, lr=0.0), "lr must be > 0"),
        (lambda p: Adam(p, betas=(0.9, 1.0)), r"betas\[1\] must lie in \[0, 1\)"),
        (lambda p: Adam(p, betas=(-0.1, 0.999)), r"betas\[0\] must lie in \[0, 1\)"),
        (lambda p: Adam(p, eps=0.0), "eps must be > 0"),
        (lambda p: Adam(p, weight_decay=float("nan")), "weight_decay must be finite"),
        (lambda p: SGD([{"params": p, "lr": -1.0}], lr=0.1), "lr must be > 0"),
        (lambda p: Adam([{"params": p, "betas": (0.9, 1.5)}]), r"betas\[1\] must lie"),
    ],
)
def test_bad_options_raise_value_error(make, match):
    with pytest.raises(ValueError, match=match):
        make([torch.zeros(2, requires_grad=True)])


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda p: SGD(p, lr="0.1"), "lr must be a real number"),
        (lambda p: Adam(p, betas=0.9), "betas must be a pair"),
        (lambda p: Adam(p, decoupled="yes"), "decoupled must be True or False"),
        (lambda p: SGD(p, lr=0.1, decoupled="False"), "decoupled must be True or False"),
        (lambda p: SGD(p, lr=True), "lr must be a real number"),
    ],
)
def test_bad_option_types_raise_type_error(make, match):
    with pytest.raises(TypeError, match=match):
        make([torch.zeros(2, requires_grad=True)])


def test_torch_weight_decay_converts_and_checks():
    assert torch_weight_decay(0.05, 1e-3) == pytest.approx(50.0)
    with pytest.raises(ValueError, match="lr must be > 0"):
        torch_weight_decay(0.05, 0.0)
    with pytest.raises(ValueError, match="paper_lambda must be >= 0"):
        torch_weight_decay(-0.05, 0.1)


def _adam_args(**change):
    p = torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64)
    args = {
        "p": p,
        "grad": torch.tensor([0.3, -0.1, 2.0], dtype=torch.float64),
        "exp_avg": torch.zeros(3, dtype=torch.float64),
        "exp_avg_sq": torch.zeros(3, dtype=torch.float64),
        "step": 1,
        "lr": 0.1,
    }
    args.update(change)
    return args


@pytest.mark.parametrize(
    ("change", "exc", "match"),
    [
        ({"step": 0}, ValueError, "step must be >= 1"),
        ({"step": -1}, ValueError, "step must be >= 1"),
        ({"step": 2.5}, TypeError, "step must be an int"),
        ({"step": True}, TypeError, "step must be an int"),
        ({"betas": (1.0, 0.999)}, ValueError, r"betas\[0\] must lie in \[0, 1\)"),
        ({"betas": (0.9,)}, TypeError, "betas must be a pair"),
        (
            {"exp_avg_sq": torch.tensor([-1.0, 0.0, 0.0], dtype=torch.float64)},
            ValueError,
            "exp_avg_sq must be >= 0",
        ),
        ({"lr": 0.0}, ValueError, "lr must be > 0"),
        ({"lr": -1.0}, ValueError, "lr must be > 0"),
        ({"lr": torch.tensor([0.1, 0.0, 0.1])}, ValueError, "every entry of lr must be > 0"),
        ({"lr": torch.ones(2)}, ValueError, "lr must broadcast to p's shape"),
        ({"eps": 0.0}, ValueError, "eps must be > 0"),
        ({"weight_decay": -0.1}, ValueError, "weight_decay must be >= 0"),
        ({"decoupled": "False"}, TypeError, "decoupled must be True or False"),
        ({"decoupled": 0}, TypeError, "decoupled must be True or False"),
        ({"grad": torch.ones(4, dtype=torch.float64)}, ValueError, "grad must have the shape"),
        ({"grad": torch.tensor([float("nan"), 0, 0])}, ValueError, "grad must contain only finite"),
        ({"p": torch.ones(3, dtype=torch.int64)}, TypeError, "p must have a real floating dtype"),
        ({"exp_avg": torch.zeros(3, dtype=torch.complex64)}, TypeError, "exp_avg must have a real"),
    ],
)
def test_adam_update_refuses_what_would_give_nan_or_a_silent_result(change, exc, match):
    """Each of these gave NaN from finite input, or was accepted silently, before the checks."""
    args = _adam_args(**change)
    before = args["p"].clone()
    with pytest.raises(exc, match=match):
        adam_update_(**args)
    assert torch.equal(args["p"], before)  # nothing was changed


@pytest.mark.parametrize(
    ("change", "exc", "match"),
    [
        ({"lr": 0.0}, ValueError, "lr must be > 0"),
        ({"lr": -1.0}, ValueError, "lr must be > 0"),
        ({"momentum": 1.0}, ValueError, r"momentum must lie in \[0, 1\)"),
        ({"momentum": torch.tensor([[0.5], [1.0]])}, ValueError, r"momentum must be in \[0, 1\)"),
        ({"weight_decay": -1e-3}, ValueError, "weight_decay must be >= 0"),
        ({"weight_decay": float("inf")}, ValueError, "weight_decay must be finite"),
        ({"decoupled": "False"}, TypeError, "decoupled must be True or False"),
        ({"lr": True}, TypeError, "lr must be a real number"),
        ({"momentum_buffer": torch.zeros(3)}, ValueError, "momentum_buffer must have the shape"),
    ],
)
def test_sgd_update_refuses_bad_input(change, exc, match):
    args = {
        "p": torch.ones(2, 3),
        "grad": torch.ones(2, 3),
        "momentum_buffer": torch.zeros(2, 3),
        "lr": 0.1,
        "momentum": 0.9,
        **change,
    }
    with pytest.raises(exc, match=match):
        sgd_update_(**args)


@settings(max_examples=60, deadline=None)
@given(
    step=st.integers(1, 10_000),
    beta1=st.floats(0.0, 0.999),
    beta2=st.floats(0.0, 0.9999),
    lr=st.floats(1e-6, 10.0),
    wd=st.floats(0.0, 10.0),
    eps=st.floats(1e-12, 1.0),
    decoupled=st.booleans(),
    g=st.lists(st.floats(-1e3, 1e3), min_size=3, max_size=3),
    v=st.lists(st.floats(0.0, 1e3), min_size=3, max_size=3),
)
def test_adam_update_is_finite_on_finite_valid_input(
    step, beta1, beta2, lr, wd, eps, decoupled, g, v
):
    """Whatever the checks accept gives a finite result: no NaN from finite input."""
    args = _adam_args(
        step=step,
        grad=torch.tensor(g, dtype=torch.float64),
        exp_avg_sq=torch.tensor(v, dtype=torch.float64),
        lr=lr,
    )
    adam_update_(**args, betas=(beta1, beta2), eps=eps, weight_decay=wd, decoupled=decoupled)
    assert torch.isfinite(args["p"]).all()
    assert torch.isfinite(args["exp_avg"]).all() and (args["exp_avg_sq"] >= 0).all()


def test_checked_updates_equal_their_kernels():
    """The public forms only check: they compute exactly what the kernels compute."""
    gen = torch.Generator().manual_seed(3)
    p, g = torch.randn(4, 3, generator=gen), torch.randn(4, 3, generator=gen)
    lr = torch.rand(4, 1, generator=gen) + 0.01
    a, b = p.clone(), p.clone()
    ba, bb = torch.zeros_like(p), torch.zeros_like(p)
    for _ in range(3):
        sgd_update_(a, g, ba, lr=lr, momentum=0.9, weight_decay=0.1, decoupled=True)
        sgd_kernel_(b, g, bb, lr=lr, momentum=0.9, weight_decay=0.1, decoupled=True)
    assert torch.equal(a, b) and torch.equal(ba, bb)
    a, b = p.clone(), p.clone()
    m = [torch.zeros_like(p) for _ in range(4)]
    for step in (1, 2, 3):
        adam_update_(a, g, m[0], m[1], step, lr=lr, weight_decay=0.1)
        adam_kernel_(b, g, m[2], m[3], step, lr=lr, weight_decay=0.1)
    assert torch.equal(a, b) and torch.equal(m[1], m[3])
