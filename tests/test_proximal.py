"""weightreg.proximal: ISTA / FISTA with restart against hand iterations and scikit-learn; the
divergence policy; argument checks at the public boundary."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from sklearn.linear_model import Lasso

from weightreg.divergence import DivergenceWarning, TrainingDiverged
from weightreg.penalties import prox_l1
from weightreg.proximal import Solution, proximal_gradient, solve

F64 = torch.float64


def _problem(n=15, d=40, seed=3):
    gen = torch.Generator().manual_seed(seed)
    X = torch.randn(n, d, generator=gen, dtype=F64)
    y = X @ (0.3 * torch.randn(d, generator=gen, dtype=F64)) + 0.1
    Xc, yc = X - X.mean(0), y - y.mean()
    L = float(torch.linalg.eigvalsh(Xc.T @ Xc / n).max())
    return Xc, yc, L


def _lasso_parts(Xc, yc, alphas):
    n, d = Xc.shape

    def grad(W):
        return (W @ Xc.T - yc) @ Xc / n

    def prox(Z, lr):
        return prox_l1(Z, lr * alphas[:, None] / d)

    return grad, prox


def test_ista_is_the_hand_iteration():
    Xc, yc, L = _problem()
    alphas = torch.tensor([0.1, 1.0], dtype=F64)
    grad, prox = _lasso_parts(Xc, yc, alphas)
    lr = 1 / L
    sol = proximal_gradient(
        grad, lambda Z: prox(Z, lr), torch.zeros(2, 40, dtype=F64), lr=lr, steps=25
    )
    assert isinstance(sol, Solution) and not sol.diverged.any()
    W = torch.zeros(2, 40, dtype=F64)
    for _ in range(25):
        W = prox(W - lr * grad(W), lr)
    torch.testing.assert_close(sol.W, W, atol=0, rtol=0)


def test_fista_with_restart_reaches_sklearn_lasso_where_ista_has_not():
    Xc, yc, L = _problem()
    n, d = Xc.shape
    alphas = torch.tensor([0.05, 0.5], dtype=F64)
    grad, prox = _lasso_parts(Xc, yc, alphas)
    lr = 1 / L
    W0 = torch.zeros(2, d, dtype=F64)
    fast = proximal_gradient(grad, lambda Z: prox(Z, lr), W0, lr=lr, steps=3000, accelerate=True)
    slow = proximal_gradient(grad, lambda Z: prox(Z, lr), W0, lr=lr, steps=3000)
    for c, a in enumerate(alphas.tolist()):
        ref = Lasso(alpha=a / d, fit_intercept=False, tol=1e-15, max_iter=10**6)
        ref.fit(Xc.numpy(), yc.numpy())
        np.testing.assert_allclose(fast.W[c].numpy(), ref.coef_, atol=1e-8)
    assert float((slow.W - fast.W).abs().max()) > 1e-6


def test_per_row_learning_rates_and_the_step_hook():
    Xc, yc, L = _problem()
    alphas = torch.tensor([0.1, 1.0], dtype=F64)
    grad, prox = _lasso_parts(Xc, yc, alphas)
    lrs = torch.tensor([0.5 / L, 1 / L], dtype=F64)
    sol = proximal_gradient(
        grad, lambda Z: prox(Z, lrs[:, None]), torch.zeros(2, 40, dtype=F64), lr=lrs, steps=10
    )
    for c in range(2):
        one = proximal_gradient(
            grad,
            lambda Z, c=c: prox(Z, lrs[c]),
            torch.zeros(2, 40, dtype=F64),
            lr=float(lrs[c]),
            steps=10,
        )
        torch.testing.assert_close(sol.W[c], one.W[c], atol=1e-15, rtol=0)
    seen = []

    def on_step(step, W):
        seen.append(step)
        return torch.tensor([False, step == 4])

    with pytest.warns(DivergenceWarning):  # the kernel does not report; the wrapper would
        res = solve(
            grad, lambda Z: prox(Z, 1 / L), torch.zeros(2, 40, dtype=F64), 1 / L, 10, False, on_step
        )
        from weightreg.divergence import report

        report(res.diverged, what="rows")
    assert seen == list(range(10))
    assert res.diverged.tolist() == [False, True] and torch.isnan(res.W[1]).all()


def test_divergence_is_frozen_reported_and_all_diverged_raises():
    Xc, yc, L = _problem()
    alphas = torch.tensor([0.1, 1.0], dtype=F64)
    grad, prox = _lasso_parts(Xc, yc, alphas)
    lrs = torch.tensor([1 / L, 5 / L], dtype=F64)
    with pytest.warns(DivergenceWarning, match="1 of 2 rows diverged"):
        sol = proximal_gradient(
            grad, lambda Z: prox(Z, lrs[:, None]), torch.ones(2, 40, dtype=F64), lr=lrs, steps=200
        )
    assert sol.diverged.tolist() == [False, True]
    assert torch.isfinite(sol.W[0]).all() and torch.isnan(sol.W[1]).all()
    with pytest.raises(TrainingDiverged, match="every one of the 2 rows"):
        proximal_gradient(grad, lambda Z: Z, torch.ones(2, 40, dtype=F64), lr=1e3, steps=50)


@pytest.mark.parametrize(
    "kwargs, exc, words",
    [
        ({"accelerate": "False"}, TypeError, "accelerate must be True or False"),
        ({"lr": 0.0}, ValueError, "lr must be > 0"),
        ({"lr": -1.0}, ValueError, "lr must be > 0"),
        ({"lr": float("nan")}, ValueError, "lr must contain only finite"),
        ({"lr": True}, TypeError, "lr must be a number"),
        ({"lr": [1.0]}, TypeError, "lr must be a number"),
        ({"lr": torch.ones(3)}, ValueError, "one value per row"),
        ({"steps": 0}, ValueError, "steps must be >= 1"),
        ({"steps": 2.5}, TypeError, "steps must be an int"),
        ({"W0": torch.tensor(1.0, dtype=F64)}, ValueError, "W0 must have a first dimension"),
        ({"W0": torch.ones(2, 3, dtype=torch.long)}, TypeError, "W0 must have a real floating"),
        ({"W0": torch.full((2, 3), float("nan"))}, ValueError, "W0 must contain only finite"),
        ({"grad": "grad"}, TypeError, "grad and prox must be callables"),
    ],
)
def test_bad_inputs_name_the_argument(kwargs, exc, words):
    args = {
        "grad": lambda W: W,
        "prox": lambda Z: Z,
        "W0": torch.ones(2, 3, dtype=F64),
        "lr": 0.1,
        "steps": 3,
        **kwargs,
    }
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(exc) as info:
            proximal_gradient(args.pop("grad"), args.pop("prox"), args.pop("W0"), **args)
    assert words in str(info.value)
