"""optimal_logit_gap against numerical minimization (torch autograd), PyTorch's label_smoothing
convention, enumeration of the closed form and hypothesis properties."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from weightreg.label_smoothing import optimal_logit_gap

pytestmark = pytest.mark.usefixtures("float64_default")


def smoothed_targets(labels: torch.Tensor, k: int, eps: float) -> torch.Tensor:
    """(1 - eps) * onehot + eps / K, written out independently of PyTorch."""
    return (1 - eps) * F.one_hot(labels, k).double() + eps / k


def minimize_logits(k: int, eps: float, steps: int = 300) -> torch.Tensor:
    """Minimize the smoothed cross-entropy of one example (class 0) over its K logits by L-BFGS
    with autograd; the loss is torch's own ``label_smoothing``."""
    z = torch.zeros(1, k, requires_grad=True)
    opt = torch.optim.LBFGS(
        [z],
        lr=1.0,
        max_iter=steps,
        tolerance_grad=1e-14,
        tolerance_change=1e-16,
        line_search_fn="strong_wolfe",
    )
    label = torch.zeros(1, dtype=torch.long)

    def closure():
        opt.zero_grad()
        loss = F.cross_entropy(z, label, label_smoothing=eps)
        loss.backward()
        return loss

    opt.step(closure)
    return z.detach()[0]


@pytest.mark.parametrize("k", [2, 3, 10, 100])
@pytest.mark.parametrize("eps", [0.01, 0.1, 0.3, 0.9])
def test_gap_matches_numerical_minimum(k, eps):
    z = minimize_logits(k, eps)
    gaps = z[0] - z[1:]
    expected = optimal_logit_gap(k, eps)
    assert torch.allclose(gaps, torch.full_like(gaps, expected), rtol=1e-6, atol=1e-7)
    # the minimum value is the entropy of the target
    q = smoothed_targets(torch.zeros(1, dtype=torch.long), k, eps)[0]
    loss = F.cross_entropy(z[None], torch.zeros(1, dtype=torch.long), label_smoothing=eps)
    assert math.isclose(float(loss), float(-(q * q.log()).sum()), rel_tol=1e-10)


def test_gradient_descent_from_zero_reaches_the_gap():
    """Plain gradient descent on the logits (autograd), a second minimizer."""
    k, eps = 5, 0.2
    z = torch.zeros(1, k, requires_grad=True)
    label = torch.tensor([3])
    for _ in range(4000):
        loss = F.cross_entropy(z, label, label_smoothing=eps)
        (g,) = torch.autograd.grad(loss, z)
        with torch.no_grad():
            z -= 2.0 * g
    gaps = z.detach()[0, 3] - z.detach()[0, [0, 1, 2, 4]]
    assert torch.allclose(gaps, torch.full((4,), optimal_logit_gap(k, eps)), atol=1e-8)


@pytest.mark.parametrize("eps", [0.0, 0.05, 0.1, 0.5, 1.0])
def test_pytorch_label_smoothing_is_one_minus_eps_onehot_plus_eps_over_k(eps):
    """PyTorch's convention is exactly (1 - eps) y + eps / K (not eps / (K - 1))."""
    gen = torch.Generator().manual_seed(0)
    k = 7
    logits = torch.randn(50, k, generator=gen) * 3
    labels = torch.randint(0, k, (50,), generator=gen)
    q = smoothed_targets(labels, k, eps)
    ours = -(q * F.log_softmax(logits, dim=1)).sum(dim=1).mean()
    torch_ls = F.cross_entropy(logits, labels, label_smoothing=eps)
    torch_soft = F.cross_entropy(logits, q)  # soft targets, a third route
    assert torch.allclose(ours, torch_ls, rtol=1e-12)
    assert torch.allclose(ours, torch_soft, rtol=1e-12)
    if 0 < eps < 1:
        other = (1 - eps) * F.one_hot(labels, k).double() + eps / (k - 1) * (
            1 - F.one_hot(labels, k).double()
        )
        wrong = -(other * F.log_softmax(logits, dim=1)).sum(dim=1).mean()
        assert not torch.allclose(wrong, torch_ls, rtol=1e-6)


def test_softmax_at_the_gap_is_the_target():
    """Enumeration: logits (gap, 0, ..., 0) have softmax exactly (1 - eps) y + eps / K."""
    for k in (2, 4, 10, 1000):
        for eps in (1e-6, 0.01, 0.25, 0.75, 1.0):
            z = torch.zeros(k)
            z[0] = optimal_logit_gap(k, eps)
            q = smoothed_targets(torch.tensor([0]), k, eps)[0]
            assert torch.allclose(torch.softmax(z, 0), q, rtol=1e-12, atol=0)


def test_binary_case_is_the_logistic_margin():
    """K = 2: the optimal margin of a logistic model with targets 1 - eps/2, eps/2."""
    for eps in (0.01, 0.1, 0.5):
        p = 1 - eps / 2
        assert math.isclose(optimal_logit_gap(2, eps), math.log(p / (1 - p)), rel_tol=1e-13)


@settings(max_examples=200, deadline=None)
@given(
    k=st.integers(2, 10_000),
    eps=st.floats(1e-12, 1.0, allow_nan=False, exclude_min=False),
)
def test_properties(k, eps):
    gap = optimal_logit_gap(k, eps)
    assert math.isfinite(gap) and gap >= 0
    # closed form, in another arrangement
    assert math.isclose(gap, math.log((1 - eps + eps / k) / (eps / k)), rel_tol=1e-9, abs_tol=1e-12)
    # decreasing in eps, increasing in K
    if eps < 0.99:
        assert optimal_logit_gap(k, eps * 1.01) < gap
    assert optimal_logit_gap(k + 1, eps) >= gap


def test_limits():
    assert optimal_logit_gap(10, 1.0) == 0.0
    # eps -> 0: the gap grows like log(K / eps)
    assert math.isclose(optimal_logit_gap(10, 1e-9), math.log(10 / 1e-9), rel_tol=1e-6)
    assert math.isfinite(optimal_logit_gap(10, 5e-324))
    assert isinstance(optimal_logit_gap(3, torch.tensor(0.1)), float)


@pytest.mark.parametrize(
    "args, error, match",
    [
        ((1, 0.1), ValueError, "num_classes"),
        ((2.0, 0.1), TypeError, "num_classes"),
        ((True, 0.1), TypeError, "num_classes"),
        ((10, 0.0), ValueError, "eps must be > 0"),
        ((10, -0.1), ValueError, "eps"),
        ((10, 1.5), ValueError, "eps"),
        ((10, math.nan), ValueError, "eps"),
        ((10, "0.1"), TypeError, "eps"),
    ],
)
def test_bad_input(args, error, match):
    with pytest.raises(error, match=match):
        optimal_logit_gap(*args)
