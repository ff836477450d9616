"""Tests of weightreg.fullbatch against scikit-learn, numpy, autograd and torch.optim."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.linear_model import Lasso, Ridge

from weightreg.fullbatch import fit_rows, loss_rows, max_stable_lr, ridge_rows
from weightreg.penalties import lk_penalty, prox_l1, prox_l2
from weightreg.train import squared_loss


def _data(n=12, d=30, seed=0):
    gen = torch.Generator().manual_seed(seed)
    X = torch.randn(n, d, generator=gen, dtype=torch.float64)
    w = torch.randn(d, generator=gen, dtype=torch.float64) * 0.3
    y = X @ w + 0.7 + 0.1 * torch.randn(n, generator=gen, dtype=torch.float64)
    return X, y.reshape(-1, 1)


def _objective(X, y, w, b, k, alpha):
    return squared_loss(X @ w + b, y.reshape(-1)).mean() + lk_penalty(w, k, alpha)


@pytest.mark.parametrize("shape", [(12, 30), (40, 8)])
def test_ridge_rows_matches_sklearn_and_the_augmented_normal_equations(shape):
    X, y = _data(*shape)
    n, d = X.shape
    alphas = torch.tensor([0.01, 0.3, 2.0, 50.0])
    W, b = ridge_rows(X, y, alphas)
    for c, alpha in enumerate(alphas.tolist()):
        sk = Ridge(alpha=2 * n * alpha / d, fit_intercept=True).fit(X.numpy(), y.numpy().ravel())
        np.testing.assert_allclose(W[c].numpy(), sk.coef_, atol=1e-10)
        assert float(b[c]) == pytest.approx(float(sk.intercept_), abs=1e-10)
        # numpy: minimize over (w, b) with the penalty on w only, as one augmented system
        A = np.hstack([X.numpy(), np.ones((n, 1))])
        P = np.diag([2 * alpha / d] * d + [0.0])
        theta = np.linalg.solve(A.T @ A / n + P, A.T @ y.numpy().ravel() / n)
        np.testing.assert_allclose(np.r_[W[c].numpy(), b[c].item()], theta, atol=1e-10)


def test_ridge_rows_under_deterministic_algorithms_with_many_alphas():
    """seed_everything() turns on deterministic algorithms; the batched solve must still work."""
    from weightreg.seeding import seed_everything

    seed_everything(0)
    try:
        X, y = _data(n=20, d=200)
        alphas = torch.logspace(-1, 4, 21)
        W, b = ridge_rows(X, y, alphas)
        for c in (0, 20):
            w1, b1 = ridge_rows(X, y, alphas[c : c + 1])
            torch.testing.assert_close(W[c], w1[0], atol=1e-12, rtol=0)
    finally:
        torch.use_deterministic_algorithms(False)


def test_ridge_rows_gradient_vanishes_by_autograd():
    X, y = _data()
    W, b = ridge_rows(X, y, torch.tensor([0.5, 5.0]))
    for c, alpha in enumerate([0.5, 5.0]):
        w = W[c].clone().requires_grad_()
        bb = b[c].clone().requires_grad_()
        gw, gb = torch.autograd.grad(_objective(X, y, w, bb, 2, alpha), [w, bb])
        assert gw.abs().max() < 1e-12 and abs(float(gb)) < 1e-12


def test_fit_rows_gradient_descent_converges_to_ridge():
    X, y = _data(n=40, d=10)
    alphas = torch.tensor([0.05, 0.3, 2.0])  # penalty curvature 2 * alpha / d stays below L
    W, b = fit_rows(X, y, alphas, lr=max_stable_lr(X), steps=1500, grad=lambda W: 2 * W)
    W_ref, b_ref = ridge_rows(X, y, alphas)
    torch.testing.assert_close(W, W_ref, atol=1e-10, rtol=0)
    torch.testing.assert_close(b, b_ref, atol=1e-10, rtol=0)
    # the proximal step of the same penalty reaches the same point
    W2, b2 = fit_rows(
        X, y, alphas, lr=max_stable_lr(X), steps=1500, prox=lambda Z, t: prox_l2(Z, 2 * t)
    )
    torch.testing.assert_close(W2, W_ref, atol=1e-10, rtol=0)


@pytest.mark.parametrize("k, grad", [(2, lambda W: 2 * W), (1, torch.sign)])
def test_fit_rows_matches_torch_optim_sgd_on_lk_penalty(k, grad):
    X, y = _data(seed=3)
    alphas = torch.tensor([0.2, 4.0])
    gen = torch.Generator().manual_seed(1)
    w0 = torch.randn(X.shape[1], generator=gen, dtype=torch.float64)
    W, b = fit_rows(X, y, alphas, lr=0.02, steps=60, grad=grad, W0=w0)
    for c, alpha in enumerate(alphas.tolist()):
        w = w0.clone().requires_grad_()
        bb = torch.zeros((), dtype=torch.float64, requires_grad=True)
        opt = torch.optim.SGD([w, bb], lr=0.02)
        for _ in range(60):
            opt.zero_grad()
            _objective(X, y, w, bb, k, alpha).backward()
            opt.step()
        torch.testing.assert_close(W[c], w.detach(), atol=1e-12, rtol=0)
        assert float(b[c]) == pytest.approx(float(bb.detach()), abs=1e-12)


def test_fit_rows_proximal_l1_matches_sklearn_lasso_with_the_stated_scaling():
    X, y = _data(n=30, d=12, seed=5)
    n, d = X.shape
    alphas = torch.tensor([0.5, 2.0, 8.0])
    W, b = fit_rows(X, y, alphas, lr=max_stable_lr(X), steps=2000, prox=prox_l1)
    for c, alpha in enumerate(alphas.tolist()):
        sk = Lasso(alpha=alpha / d, fit_intercept=True, tol=1e-14, max_iter=10**6)
        sk.fit(X.numpy(), y.numpy().ravel())
        np.testing.assert_allclose(W[c].numpy(), sk.coef_, atol=1e-8)
        assert float(b[c]) == pytest.approx(float(sk.intercept_), abs=1e-8)
        np.testing.assert_array_equal(W[c].numpy() == 0, sk.coef_ == 0)
    assert (W == 0).sum() > 0


def test_fit_rows_rows_are_independent():
    X, y = _data()
    alphas = torch.tensor([0.1, 1.0, 10.0])
    W, b = fit_rows(X, y, alphas, lr=0.05, steps=40, prox=prox_l1)
    for c in range(3):
        Wc, bc = fit_rows(X, y, alphas[c : c + 1], lr=0.05, steps=40, prox=prox_l1)
        torch.testing.assert_close(W[c : c + 1], Wc, atol=1e-13, rtol=0)
        torch.testing.assert_close(b[c : c + 1], bc, atol=1e-13, rtol=0)


def test_max_stable_lr_is_one_over_the_top_eigenvalue_and_ista_descends():
    X, y = _data()
    n = len(X)
    A = np.hstack([X.numpy(), np.ones((n, 1))])
    assert max_stable_lr(X) == pytest.approx(1 / np.linalg.norm(A, 2) ** 2 * n, rel=1e-12)
    # with lr = 1/L every proximal step decreases the L1 objective
    w, b, alpha = torch.zeros(X.shape[1], dtype=torch.float64), torch.zeros(1), 3.0
    prev = float(_objective(X, y, w, b, 1, alpha))
    for steps in range(1, 30):
        W, B = fit_rows(X, y, torch.tensor([alpha]), lr=max_stable_lr(X), steps=steps, prox=prox_l1)
        now = float(_objective(X, y, W[0], B[0], 1, alpha))
        assert now <= prev + 1e-15
        prev = now


def test_loss_rows_is_the_mean_squared_loss_with_one_half():
    X, y = _data()
    W = torch.randn(4, X.shape[1], dtype=torch.float64)
    b = torch.randn(4, dtype=torch.float64)
    expected = torch.stack([squared_loss(X @ W[c] + b[c], y.reshape(-1)).mean() for c in range(4)])
    torch.testing.assert_close(loss_rows(X, y, W, b), expected)


@pytest.mark.parametrize(
    "call, exc, words",
    [
        (
            lambda X, y: ridge_rows(X, y, torch.tensor([0.0, 1.0])),
            ValueError,
            "alphas must all be > 0",
        ),
        (lambda X, y: ridge_rows(X, y[:5], torch.tensor([1.0])), ValueError, "y must have shape"),
        (lambda X, y: ridge_rows(X[0], y, torch.tensor([1.0])), ValueError, "X must have shape"),
        (lambda X, y: ridge_rows(X.numpy(), y, [1.0]), TypeError, "X must be a torch.Tensor"),
        (lambda X, y: fit_rows(X, y, [-1.0], lr=0.1, steps=3, prox=prox_l1), ValueError, ">= 0"),
        (
            lambda X, y: fit_rows(X, y, [1.0], lr=0.0, steps=3, prox=prox_l1),
            ValueError,
            "lr must be > 0",
        ),
        (lambda X, y: fit_rows(X, y, [1.0], lr=0.1, steps=0, prox=prox_l1), ValueError, "steps"),
        (lambda X, y: fit_rows(X, y, [1.0], lr=0.1, steps=3), ValueError, "exactly one of"),
        (
            lambda X, y: fit_rows(X, y, [1.0], lr=0.1, steps=3, grad=torch.sign, prox=prox_l1),
            ValueError,
            "exactly one of",
        ),
        (
            lambda X, y: fit_rows(X, y, [1.0], lr=0.1, steps=3, prox=prox_l1, W0=torch.zeros(3)),
            ValueError,
            "W0 must have shape",
        ),
        (
            lambda X, y: fit_rows(X, y * float("nan"), [1.0], lr=0.1, steps=3, prox=prox_l1),
            ValueError,
            "y must contain only finite",
        ),
    ],
)
def test_bad_inputs_name_the_argument(call, exc, words):
    X, y = _data()
    with pytest.raises(exc) as info:
        call(X, y)
    assert words in str(info.value)


def test_accelerated_prox_reaches_the_lasso_solution_that_plain_ista_does_not():
    """FISTA with restart: same fixed point as ISTA, reached in far fewer steps (vs sklearn)."""
    import numpy as np
    from sklearn.linear_model import Lasso

    from weightreg.data import high_dim_regression
    from weightreg.fullbatch import fit_rows, max_stable_lr
    from weightreg.penalties import prox_l1

    split = high_dim_regression(num_inputs=60, n_train=15, seed=3, dtype=torch.float64)
    X, y = split.X_train, split.y_train
    alphas = torch.tensor([0.05, 0.5])
    lr = max_stable_lr(X)
    W_fast, b_fast = fit_rows(X, y, alphas, lr=lr, steps=3000, prox=prox_l1, accelerate=True)
    W_slow, _ = fit_rows(X, y, alphas, lr=lr, steps=3000, prox=prox_l1)
    for i, a in enumerate(alphas.tolist()):
        ref = Lasso(alpha=a / X.shape[1], tol=1e-15, max_iter=1_000_000).fit(
            X.numpy(), y.numpy().ravel()
        )
        assert np.abs(ref.coef_ - W_fast[i].numpy()).max() < 1e-7
        assert abs(ref.intercept_ - float(b_fast[i])) < 1e-7
    assert float((W_slow - W_fast).abs().max()) > 1e-6
