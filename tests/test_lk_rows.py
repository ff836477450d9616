"""weightreg.lk_rows: the batched trainer against the book's loop, scikit-learn and autograd."""

from __future__ import annotations

import pytest
import torch
from sklearn.linear_model import Lasso, Ridge

from weightreg.data import high_dim_regression, load_array
from weightreg.lk_rows import lk_grad_rows, objective_rows, train_rows
from weightreg.penalties import lk_grad, lk_penalty, prox_lhalf
from weightreg.train import linreg, train


@pytest.fixture(scope="module")
def split():
    return high_dim_regression(num_inputs=40, n_train=20, n_test=30, dtype=torch.float64)


def test_lk_grad_rows_matches_lk_grad_and_autograd():
    gen = torch.Generator().manual_seed(0)
    W = torch.randn(6, 9, generator=gen, dtype=torch.float64)
    W[0, 3] = 0.0
    ks = torch.tensor([0.5, 1.0, 1.5, 2.0, 3.0, 10.0], dtype=torch.float64)
    alphas = torch.tensor([0.3, 1.0, 2.0, 0.0, 5.0, 0.1], dtype=torch.float64)
    G = lk_grad_rows(W, ks, alphas)
    for c in range(6):
        torch.testing.assert_close(G[c], lk_grad(W[c], float(ks[c]), float(alphas[c])))
        w = W[c].clone().requires_grad_()
        lk_penalty(w, float(ks[c]), float(alphas[c])).backward()
        torch.testing.assert_close(G[c], w.grad)
    assert G[0, 3] == 0


def _book_loop(split, k, alpha, seed):
    """The reference: weightreg.train.train with an lk_penalty, d2l-style parameters."""
    w = torch.normal(0.0, 1.0, (split.num_inputs,), generator=torch.Generator().manual_seed(seed))
    w.requires_grad_()
    b = torch.zeros(1, requires_grad=True)
    it = load_array(
        (split.X_train, split.y_train), 5, generator=torch.Generator().manual_seed(seed)
    )
    hist = train(
        lambda X: linreg(X, w, b),
        [w, b],
        it,
        num_epochs=8,
        lr=0.003,
        penalty=lambda: lk_penalty(w, k, alpha),
        eval_data={"train": (split.X_train, split.y_train), "test": (split.X_test, split.y_test)},
    )
    return w.detach(), b.detach()[0], hist


def test_grad_rows_equal_the_book_training_loop(split):
    """Minibatch SGD on loss + lk_penalty: train_rows == weightreg.train.train, row by row."""
    ks = torch.tensor([0.5, 1.5, 3.0, 10.0])
    alphas = torch.tensor([2.0, 5.0, 20.0, 1.0])
    test = {"test": (split.X_test, split.y_test)}
    res = train_rows(
        split, ks, alphas, lr=0.003, num_epochs=8, batch_size=5, seed=7, eval_data=test
    )
    for c in range(4):
        w, b, hist = _book_loop(split, float(ks[c]), float(alphas[c]), seed=7)
        torch.testing.assert_close(res.W[c], w, rtol=1e-10, atol=1e-12)
        torch.testing.assert_close(res.b[c], b, rtol=1e-10, atol=1e-12)
        assert res.losses["test"][c].tolist() == pytest.approx(hist.test_loss, rel=1e-10)
        assert res.losses["train"][c].tolist() == pytest.approx(hist.train_loss, rel=1e-10)


def test_prox_l1_rows_agree_with_sklearn_lasso(split):
    """Full-batch proximal gradient, alpha * mean|w| == Lasso(alpha=alpha/d) on the same data."""
    alphas = torch.tensor([0.8, 2.0])
    res = train_rows(
        split, 1.0, alphas, lr=0.05, num_epochs=2000, method="prox", W0=torch.zeros(40)
    )
    X, y = split.X_train.numpy(), split.y_train.numpy().ravel()
    for c in range(2):
        sk = Lasso(alpha=float(alphas[c]) / 40, tol=1e-14, max_iter=200000).fit(X, y)
        torch.testing.assert_close(res.W[c], torch.tensor(sk.coef_), atol=1e-6, rtol=0)
        assert float(res.b[c]) == pytest.approx(float(sk.intercept_), abs=1e-6)
    assert (res.W == 0).sum() > 0


def test_prox_l2_rows_agree_with_sklearn_ridge(split):
    """prox with k = 2 converges to Ridge(alpha = 2 n alpha / d)."""
    alpha = 0.5
    res = train_rows(split, 2.0, alpha, lr=0.3, num_epochs=4000, method="prox", W0=torch.zeros(40))
    sk = Ridge(alpha=2 * 20 * alpha / 40, tol=1e-14).fit(
        split.X_train.numpy(), split.y_train.numpy().ravel()
    )
    torch.testing.assert_close(res.W[0], torch.tensor(sk.coef_), atol=1e-7, rtol=0)


def test_prox_lhalf_rows_follow_the_iteration_by_hand(split):
    W0 = torch.randn(3, 40, generator=torch.Generator().manual_seed(1))
    res = train_rows(split, 0.5, 20.0, lr=0.02, num_epochs=30, method="prox", W0=W0)
    X, y = split.X_train, split.y_train.reshape(-1)
    for c in range(3):
        w, b = W0[c].clone(), torch.tensor(0.0)
        for _ in range(30):
            r = X @ w + b - y
            w = prox_lhalf(w - 0.02 * X.T @ r / 20, 0.02 * 20.0 / 40)
            b = b - 0.02 * r.mean()
        torch.testing.assert_close(res.W[c], w)
        assert (res.W[c] == 0).any()


def test_auto_mixes_prox_and_grad(split):
    ks = torch.tensor([0.5, 1.0, 3.0])
    auto = train_rows(split, ks, 1.0, lr=0.02, num_epochs=20, method="auto")
    prox = train_rows(split, ks[:2], 1.0, lr=0.02, num_epochs=20, method="prox")
    grad = train_rows(split, ks[2:], 1.0, lr=0.02, num_epochs=20, method="grad")
    torch.testing.assert_close(auto.W[:2], prox.W)
    torch.testing.assert_close(auto.W[2:], grad.W)


def test_objective_rows_matches_direct_computation(split):
    W = torch.randn(2, 40, generator=torch.Generator().manual_seed(2))
    b = torch.tensor([0.1, -0.2])
    obj = objective_rows(split.X_train, split.y_train, W, b, torch.tensor([0.5, 3.0]), 0.7)
    for c, k in enumerate([0.5, 3.0]):
        loss = ((split.X_train @ W[c] + b[c] - split.y_train.reshape(-1)) ** 2 / 2).mean()
        assert float(obj[c]) == pytest.approx(float(loss + lk_penalty(W[c], k, 0.7)))


def test_divergent_rows_are_flagged_not_raised(split):
    res = train_rows(
        split, 10.0, torch.tensor([0.0, 1e4]), lr=0.01, num_epochs=30, W0=3 * torch.ones(40)
    )
    assert res.diverged.tolist() == [False, True]
    assert torch.isnan(res.W[1]).all() and torch.isfinite(res.W[0]).all()
    assert torch.isnan(res.final("train")[1])


def test_flips_count_sign_changes_of_the_last_epoch(split):
    r = 0.3
    res = train_rows(split, 0.5, 40.0 * 1e3, lr=1e-3, num_epochs=3, W0=torch.full((40,), r))
    assert int(res.flips[0]) > 0
    quiet = train_rows(split, 2.0, 0.1, lr=1e-3, num_epochs=3, W0=torch.full((40,), 5.0))
    assert int(quiet.flips[0]) == 0


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"k": 0.0, "alpha": 1.0}, "k must be > 0"),
        ({"k": 1.0, "alpha": -1.0}, "alpha must be >= 0"),
        ({"k": 1.0, "alpha": 1.0, "lr": 0.0}, "lr must be > 0"),
        ({"k": 3.0, "alpha": 1.0, "method": "prox"}, "needs k in"),
        ({"k": 0.7, "alpha": 1.0, "method": "auto"}, "needs k in"),
        ({"k": 1.0, "alpha": 1.0, "method": "newton"}, "method must be one of"),
        ({"k": 1.0, "alpha": 1.0, "W0": torch.ones(5)}, "W0 must have shape"),
        ({"k": 1.0, "alpha": 1.0, "num_epochs": 0}, "num_epochs must be >= 1"),
        ({"k": torch.ones(2, 2), "alpha": 1.0}, "k must be a number or a 1-D tensor"),
    ],
)
def test_bad_inputs(split, kwargs, match):
    kwargs = {"lr": 0.01, "num_epochs": 2, **kwargs}
    with pytest.raises((TypeError, ValueError), match=match):
        train_rows(split, **kwargs)


def test_dtype_casts_a_float32_split_and_keeps_its_initial_draw():
    s32 = high_dim_regression(num_inputs=40, n_train=20, n_test=30, dtype=torch.float32)
    res = train_rows(s32, 1.5, 2.0, lr=0.01, num_epochs=5, batch_size=5, dtype=torch.float64)
    assert res.W.dtype == torch.float64
    w0 = torch.normal(
        0.0, 1.0, (40,), generator=torch.Generator().manual_seed(0), dtype=torch.float32
    )
    s64 = type(s32)(*(t.double() for t in (s32.X_train, s32.y_train, s32.X_test, s32.y_test)))
    ref = train_rows(s64, 1.5, 2.0, lr=0.01, num_epochs=5, batch_size=5, W0=w0.double())
    torch.testing.assert_close(res.W, ref.W)
    with pytest.raises(TypeError, match="dtype must be a floating dtype"):
        train_rows(s32, 1.5, 2.0, lr=0.01, num_epochs=1, dtype=torch.int64)
