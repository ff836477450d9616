"""weightreg.linear against scikit-learn, numpy, autograd, torch.optim, the book's training
loop and hand-written iterations; its conventions (prox scaling, seeding, divergence, sign
flips) and its argument checks."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.linear_model import Lasso, Ridge, lasso_path

from weightreg.data import high_dim_regression, load_array
from weightreg.divergence import DivergenceWarning, TrainingDiverged
from weightreg.linear import (
    LinearFit,
    _sign_changes,
    fit,
    lipschitz_step,
    loss_rows,
    objective_rows,
    ridge_path,
)
from weightreg.penalties import lk_penalty, prox_lhalf
from weightreg.seeding import streams
from weightreg.train import linreg, squared_loss, train

F64 = torch.float64


def _data(n=12, d=30, seed=0):
    gen = torch.Generator().manual_seed(seed)
    X = torch.randn(n, d, generator=gen, dtype=F64)
    w = torch.randn(d, generator=gen, dtype=F64) * 0.3
    y = X @ w + 0.7 + 0.1 * torch.randn(n, generator=gen, dtype=F64)
    return X, y.reshape(-1, 1)


def _objective(X, y, w, b, k, alpha):
    return squared_loss(X @ w + b, y.reshape(-1)).mean() + lk_penalty(w, k, alpha)


@pytest.fixture(scope="module")
def split():
    return high_dim_regression(num_inputs=40, n_train=20, n_test=30, dtype=F64)


# --- ridge_path: the closed form --------------------------------------------------------


@pytest.mark.parametrize("shape", [(12, 30), (40, 8)])
def test_ridge_path_matches_sklearn_and_the_augmented_normal_equations(shape):
    X, y = _data(*shape)
    n, d = X.shape
    alphas = torch.tensor([0.01, 0.3, 2.0, 50.0])
    res = ridge_path(X, y, alphas)
    assert isinstance(res, LinearFit) and not res.diverged.any()
    for c, alpha in enumerate(alphas.tolist()):
        sk = Ridge(alpha=2 * n * alpha / d, fit_intercept=True).fit(X.numpy(), y.numpy().ravel())
        np.testing.assert_allclose(res.W[c].numpy(), sk.coef_, atol=1e-10)
        assert float(res.b[c]) == pytest.approx(float(sk.intercept_), abs=1e-10)
        A = np.hstack([X.numpy(), np.ones((n, 1))])
        P = np.diag([2 * alpha / d] * d + [0.0])
        theta = np.linalg.solve(A.T @ A / n + P, A.T @ y.numpy().ravel() / n)
        np.testing.assert_allclose(np.r_[res.W[c].numpy(), res.b[c].item()], theta, atol=1e-10)


def test_ridge_path_gradient_vanishes_by_autograd():
    X, y = _data()
    res = ridge_path(X, y, torch.tensor([0.5, 5.0]))
    for c, alpha in enumerate([0.5, 5.0]):
        w = res.W[c].clone().requires_grad_()
        bb = res.b[c].clone().requires_grad_()
        gw, gb = torch.autograd.grad(_objective(X, y, w, bb, 2, alpha), [w, bb])
        assert gw.abs().max() < 1e-12 and abs(float(gb)) < 1e-12


def test_ridge_path_under_deterministic_algorithms_with_many_alphas():
    from weightreg.seeding import seed_everything

    seed_everything(0)
    try:
        X, y = _data(n=20, d=200)
        alphas = torch.logspace(-1, 4, 21)
        W = ridge_path(X, y, alphas).W
        for c in (0, 20):
            w1 = ridge_path(X, y, alphas[c : c + 1]).W
            torch.testing.assert_close(W[c], w1[0], atol=1e-12, rtol=0)
    finally:
        torch.use_deterministic_algorithms(False)


def test_ridge_path_alpha_zero_is_least_squares_when_unique_and_refused_with_the_reason():
    """D13: the message states the real condition, with the data's n, d and rank."""
    X, y = _data(n=40, d=8)
    res = ridge_path(X, y, 0.0)
    A = np.hstack([X.numpy(), np.ones((40, 1))])
    theta = np.linalg.lstsq(A, y.numpy().ravel(), rcond=None)[0]
    np.testing.assert_allclose(np.r_[res.W[0].numpy(), res.b[0].item()], theta, atol=1e-10)
    X, y = _data(n=12, d=30)
    with pytest.raises(ValueError, match=r"rank 11 < d = 30 \(n = 12 examples, d = 30 weights\)"):
        ridge_path(X, y, torch.tensor([0.0, 1.0]))
    X, y = _data(n=10, d=10)  # n = d: the centred X has rank 9 < 10, though n >= d
    with pytest.raises(ValueError, match="rank 9 < d = 10"):
        ridge_path(X, y, 0.0)


# --- D1: the engine's prox convention ---------------------------------------------------


def test_prox_k2_matches_ridge_path_to_machine_precision():
    """D1: the proximal step of alpha * mean(w**2) solves ridge with alpha, not alpha / 2."""
    X, y = _data(n=40, d=10)
    alphas = torch.tensor([0.05, 0.3, 2.0, 20.0])
    lr = lipschitz_step(X)
    res = fit(X, y, 2.0, alphas, lr=lr, epochs=3000, method="prox", init="zeros", accelerate=True)
    exact = ridge_path(X, y, alphas)
    torch.testing.assert_close(res.W, exact.W, atol=1e-12, rtol=0)
    torch.testing.assert_close(res.b, exact.b, atol=1e-12, rtol=0)
    half = ridge_path(X, y, alphas / 2)  # what the old fit_rows(prox=prox_l2) solved
    assert float((res.W - half.W).abs().max()) > 1e-3


def test_gradient_steps_converge_to_ridge():
    X, y = _data(n=40, d=10)
    alphas = torch.tensor([0.05, 0.3, 2.0])
    res = fit(X, y, 2.0, alphas, lr=lipschitz_step(X), epochs=1500, init="zeros")
    exact = ridge_path(X, y, alphas)
    torch.testing.assert_close(res.W, exact.W, atol=1e-10, rtol=0)
    torch.testing.assert_close(res.b, exact.b, atol=1e-10, rtol=0)


def test_prox_l1_matches_sklearn_lasso_and_lasso_path_with_the_stated_scaling():
    """alpha * mean|w| over d weights == Lasso(alpha=alpha / d) (sklearn: ||r||^2 / (2n))."""
    X, y = _data(n=30, d=12, seed=5)
    n, d = X.shape
    alphas = torch.tensor([0.5, 2.0, 8.0])
    res = fit(
        X,
        y,
        1.0,
        alphas,
        lr=lipschitz_step(X),
        epochs=2000,
        method="prox",
        init="zeros",
        accelerate=True,
    )
    for c, alpha in enumerate(alphas.tolist()):
        sk = Lasso(alpha=alpha / d, fit_intercept=True, tol=1e-14, max_iter=10**6)
        sk.fit(X.numpy(), y.numpy().ravel())
        np.testing.assert_allclose(res.W[c].numpy(), sk.coef_, atol=1e-9)
        assert float(res.b[c]) == pytest.approx(float(sk.intercept_), abs=1e-9)
        np.testing.assert_array_equal(res.W[c].numpy() == 0, sk.coef_ == 0)
    Xc = (X - X.mean(0)).numpy()
    yc = (y - y.mean()).numpy().ravel()
    sk_alphas, coefs, _ = lasso_path(Xc, yc, alphas=(alphas / d).numpy(), tol=1e-14, max_iter=10**6)
    order = np.argsort(-alphas.numpy())  # lasso_path sorts its alphas in decreasing order
    np.testing.assert_allclose(res.W[order].numpy(), coefs.T, atol=1e-9)
    assert (res.W == 0).sum() > 0


def test_per_row_k_with_prox_matches_closed_forms_sklearn_and_a_hand_iteration(split):
    """D18: one call, rows with k in {0.5, 1, 2}: each row is what its own solver gives."""
    X, y = split.X_train, split.y_train
    n, d = X.shape
    ks = torch.tensor([0.5, 1.0, 2.0, 0.5, 1.0, 2.0], dtype=F64)
    alphas = torch.tensor([20.0, 0.8, 10.0, 5.0, 2.0, 30.0], dtype=F64)
    lr = lipschitz_step(X)
    res = fit(X, y, ks, alphas, lr=lr, epochs=4000, method="prox", init="zeros")
    ridge = ridge_path(X, y, alphas[[2, 5]])
    torch.testing.assert_close(res.W[[2, 5]], ridge.W, atol=1e-9, rtol=0)
    for c in (1, 4):
        sk = Lasso(alpha=float(alphas[c]) / d, tol=1e-14, max_iter=10**6)
        sk.fit(X.numpy(), y.numpy().ravel())
        torch.testing.assert_close(res.W[c], torch.from_numpy(sk.coef_), atol=1e-7, rtol=0)
    for c in (0, 3):  # non-convex: compare with the same iteration by hand
        w, b = torch.zeros(d, dtype=F64), torch.tensor(0.0, dtype=F64)
        for _ in range(4000):
            r = X @ w + b - y.reshape(-1)
            w = prox_lhalf(w - lr * X.T @ r / n, lr * float(alphas[c]) / d)
            b = b - lr * r.mean()
        torch.testing.assert_close(res.W[c], w, atol=1e-12, rtol=0)
        assert (res.W[c] == 0).any()


def test_lhalf_prox_rows_from_random_starts_follow_the_hand_iteration(split):
    X, y = split.X_train, split.y_train
    W0 = torch.randn(3, 40, generator=torch.Generator().manual_seed(1), dtype=F64)
    res = fit(X, y, 0.5, 20.0, lr=0.02, epochs=30, method="prox", init=W0)
    for c in range(3):
        w, b = W0[c].clone(), torch.tensor(0.0, dtype=F64)
        for _ in range(30):
            r = X @ w + b - y.reshape(-1)
            w = prox_lhalf(w - 0.02 * X.T @ r / 20, 0.02 * 20.0 / 40)
            b = b - 0.02 * r.mean()
        torch.testing.assert_close(res.W[c], w)


@pytest.mark.parametrize("k", [1.0, 2.0])
def test_full_batch_gradient_steps_match_torch_optim_sgd(k):
    X, y = _data(seed=3)
    alphas = torch.tensor([0.2, 4.0], dtype=F64)
    w0 = torch.randn(X.shape[1], generator=torch.Generator().manual_seed(1), dtype=F64)
    res = fit(X, y, k, alphas, lr=0.02, epochs=60, init=w0)
    for c, alpha in enumerate(alphas.tolist()):
        w = w0.clone().requires_grad_()
        bb = torch.zeros((), dtype=F64, requires_grad=True)
        opt = torch.optim.SGD([w, bb], lr=0.02)
        for _ in range(60):
            opt.zero_grad()
            _objective(X, y, w, bb, k, alpha).backward()
            opt.step()
        torch.testing.assert_close(res.W[c], w.detach(), atol=1e-12, rtol=0)
        assert float(res.b[c]) == pytest.approx(float(bb.detach()), abs=1e-12)


def test_minibatch_rows_equal_the_book_training_loop_with_separate_streams(split):
    """D4: init from streams(seed).init, batch order from streams(seed).shuffle, as
    weightreg.train.train with load_array(generator=streams(seed).shuffle)."""
    ks = torch.tensor([0.5, 1.5, 3.0, 10.0])
    alphas = torch.tensor([2.0, 5.0, 20.0, 1.0])
    test = {"test": (split.X_test, split.y_test)}
    res = fit(
        split.X_train,
        split.y_train,
        ks,
        alphas,
        lr=0.003,
        epochs=8,
        batch_size=5,
        seed=7,
        eval_sets=test,
    )
    for c in range(4):
        st_ = streams(7)
        w = torch.normal(0.0, 1.0, (40,), generator=st_.init, dtype=torch.float32).double()
        w.requires_grad_()
        b = torch.zeros(1, dtype=F64, requires_grad=True)
        it = load_array((split.X_train, split.y_train), 5, generator=st_.shuffle)
        k, a = float(ks[c]), float(alphas[c])
        hist = train(
            lambda X, w=w, b=b: linreg(X, w, b),
            [w, b],
            it,
            num_epochs=8,
            lr=0.003,
            penalty=lambda k=k, a=a, w=w: lk_penalty(w, k, a),
            eval_data={
                "train": (split.X_train, split.y_train),
                "test": (split.X_test, split.y_test),
            },
        )
        torch.testing.assert_close(res.W[c], w.detach(), rtol=1e-10, atol=1e-12)
        torch.testing.assert_close(res.b[c], b.detach()[0], rtol=1e-10, atol=1e-12)
        assert res.history["test"][c].tolist() == pytest.approx(hist.test_loss, rel=1e-10)
        assert res.history["train"][c].tolist() == pytest.approx(hist.train_loss, rel=1e-10)


def test_init_and_shuffle_streams_are_independent(split):
    """D4: changing nothing but the batch order leaves the initial weights alone."""
    X, y = split.X_train, split.y_train
    one = fit(X, y, 2.0, 0.0, lr=1e-12, epochs=1, seed=3)
    w = torch.normal(0.0, 1.0, (40,), generator=streams(3).init, dtype=torch.float32)
    torch.testing.assert_close(one.W[0], w.double(), atol=1e-10, rtol=0)
    same_seed = torch.normal(
        0.0, 1.0, (40,), generator=torch.Generator().manual_seed(3), dtype=torch.float32
    )
    assert not torch.allclose(one.W[0].float(), same_seed, atol=1e-3)
    # float32 and float64 runs start from the same draw
    f32 = fit(X.float(), y.float(), 2.0, 0.0, lr=1e-12, epochs=1, seed=3)
    torch.testing.assert_close(f32.W[0], w, atol=1e-6, rtol=0)


def test_auto_mixes_prox_and_grad(split):
    X, y = split.X_train, split.y_train
    ks = torch.tensor([0.5, 1.0, 3.0])
    auto = fit(X, y, ks, 1.0, lr=0.02, epochs=20, method="auto")
    prox = fit(X, y, ks[:2], 1.0, lr=0.02, epochs=20, method="prox")
    grad = fit(X, y, ks[2:], 1.0, lr=0.02, epochs=20, method="grad")
    torch.testing.assert_close(auto.W[:2], prox.W)
    torch.testing.assert_close(auto.W[2:], grad.W)


@settings(max_examples=15, deadline=None)
@given(
    ks=st.lists(st.sampled_from([0.5, 1.0, 1.5, 2.0, 3.0]), min_size=2, max_size=4),
    data=st.data(),
)
def test_rows_are_independent(ks, data):
    """Property: a row's result does not depend on the other rows of the call."""
    X, y = _data(n=10, d=6, seed=2)
    C = len(ks)
    alphas = data.draw(st.lists(st.floats(0.0, 5.0), min_size=C, max_size=C))
    lrs = data.draw(st.lists(st.floats(1e-3, 0.05), min_size=C, max_size=C))
    batch = data.draw(st.sampled_from([None, 3, 10]))
    kw = dict(epochs=5, method="auto", batch_size=batch, seed=1)
    k_t, a_t, lr_t = (torch.tensor(v, dtype=F64) for v in (ks, alphas, lrs))
    res = fit(X, y, k_t, a_t, lr=lr_t, **kw)
    c = data.draw(st.integers(0, C - 1))
    one = fit(X, y, ks[c], alphas[c], lr=lrs[c], **kw)
    torch.testing.assert_close(res.W[c], one.W[0], atol=1e-13, rtol=0)
    torch.testing.assert_close(res.b[c], one.b[0], atol=1e-13, rtol=0)
    assert int(res.flips[c]) == int(one.flips[0])


# --- lipschitz_step (D2) -------------------------------------------------------------------


def test_lipschitz_step_is_one_over_L_and_every_ista_step_descends():
    """D2: it returns 1 / L (the safe step), not the stability limit 2 / L."""
    X, y = _data()
    n = len(X)
    A = np.hstack([X.numpy(), np.ones((n, 1))])
    L = np.linalg.norm(A, 2) ** 2 / n
    assert lipschitz_step(X) == pytest.approx(1 / L, rel=1e-12)
    prev = math.inf
    for steps in range(1, 30):
        res = fit(X, y, 1.0, 3.0, lr=lipschitz_step(X), epochs=steps, method="prox", init="zeros")
        now = float(objective_rows(X, y, res.W, res.b, 1.0, 3.0)[0])
        assert now <= prev + 1e-15
        prev = now
    # 2/L is the stability limit of the loss alone: just below it converges, just above not
    w_sol = ridge_path(X, y, 1e-9).W[0]
    below = fit(X, y, 2.0, 0.0, lr=1.99 / L, epochs=4000, init="zeros")
    assert torch.isfinite(below.W).all() and float(below.final("train")[0]) < 1e-6
    assert float((below.W[0] - w_sol).norm()) < float(w_sol.norm())
    with pytest.raises(TrainingDiverged):
        fit(X, y, 2.0, 0.0, lr=2.05 / L, epochs=4000, init="zeros")


# --- D3: sign flips ------------------------------------------------------------------------


def test_sign_changes_count_a_change_through_an_exact_zero():
    """D3: +0.2 -> 0 -> -0.068 is one sign change; +0.2 -> 0 -> +0.1 none."""
    seq = torch.tensor([[0.2, 0.2, 0.0], [0.0, 0.0, 0.0], [-0.068, 0.1, -0.3]], dtype=F64)
    last = torch.sign(seq[0])[None]
    counts = []
    for w in seq[1:]:
        c, last = _sign_changes(last, w[None])
        counts.append(int(c[0]))
    assert counts == [0, 1]
    assert last.tolist() == [[-1.0, 1.0, -1.0]]


def test_flips_count_every_sign_change_of_the_last_epoch(split):
    """The engine's counter against a trajectory recorded by hand, zeros included."""
    X, y = split.X_train, split.y_train
    lr, alpha = 0.02, 20.0
    W0 = torch.randn(1, 40, generator=torch.Generator().manual_seed(4), dtype=F64)
    res = fit(X, y, 0.5, alpha, lr=lr, epochs=6, method="prox", init=W0)
    w, b = W0[0].clone(), torch.tensor(0.0, dtype=F64)
    traj = [w]
    for _ in range(6):
        r = X @ w + b - y.reshape(-1)
        w = prox_lhalf(w - lr * X.T @ r / 20, lr * alpha / 40)
        b = b - lr * r.mean()
        traj.append(w)
    changes = 0
    for j in range(40):  # the last non-zero sign before the last step vs the last value
        nonzero = [float(t[j]) for t in traj[:-1] if t[j] != 0]
        if nonzero and float(traj[-1][j]) * nonzero[-1] < 0:
            changes += 1
    assert int(res.flips[0]) == changes
    quiet = fit(X, y, 2.0, 0.1, lr=1e-3, epochs=3, init=torch.full((40,), 5.0, dtype=F64))
    assert int(quiet.flips[0]) == 0


# --- histories, divergence -----------------------------------------------------------------


def test_history_is_the_loss_after_each_epoch(split):
    X, y = split.X_train, split.y_train
    res = fit(X, y, 1.5, 2.0, lr=0.01, epochs=3, eval_sets={"test": (split.X_test, split.y_test)})
    last = loss_rows(split.X_test, split.y_test, res.W, res.b)
    assert res.history["test"].shape == (1, 3)
    torch.testing.assert_close(res.final("test"), last)
    with pytest.raises(KeyError, match="no history named 'val'"):
        res.final("val")


def test_eval_sets_must_not_replace_the_training_set(split):
    """D5: a set named 'train' would have replaced the training-set evaluation silently."""
    with pytest.raises(ValueError, match="eval_sets must not contain 'train'"):
        fit(
            split.X_train,
            split.y_train,
            2.0,
            1.0,
            lr=0.01,
            epochs=2,
            eval_sets={"train": (split.X_test, split.y_test)},
        )


def test_diverging_rows_are_frozen_nan_and_reported(split):
    X, y = split.X_train, split.y_train
    with pytest.warns(DivergenceWarning, match=r"1 of 2 rows diverged.*1 \(k=10, alpha=10000"):
        res = fit(
            X,
            y,
            10.0,
            torch.tensor([0.0, 1e4]),
            lr=0.01,
            epochs=30,
            init=3 * torch.ones(40, dtype=F64),
        )
    assert res.diverged.tolist() == [False, True]
    assert torch.isnan(res.W[1]).all() and torch.isfinite(res.W[0]).all()
    assert torch.isnan(res.history["train"][1]).all()


@pytest.mark.parametrize("batch_size", [None, 5])
def test_a_huge_learning_rate_raises_instead_of_returning_nan(split, batch_size):
    with pytest.raises(TrainingDiverged, match="every one of the 2 rows diverged"):
        fit(
            split.X_train,
            split.y_train,
            2.0,
            torch.tensor([0.1, 1.0]),
            lr=1e3,
            epochs=50,
            batch_size=batch_size,
        )


def test_a_blowup_on_the_last_step_is_caught(split):
    """Finite but a million times the start after the only step: diverged, not returned."""
    with pytest.raises(TrainingDiverged):
        fit(split.X_train, split.y_train, 2.0, 0.0, lr=1e4, epochs=1)


# --- loss_rows, objective_rows -------------------------------------------------------------


def test_loss_rows_and_objective_rows_against_direct_computation(split):
    X, y = split.X_train, split.y_train
    W = torch.randn(2, 40, generator=torch.Generator().manual_seed(2), dtype=F64)
    W[0, 3] = 0.0
    b = torch.tensor([0.1, -0.2], dtype=F64)
    obj = objective_rows(X, y, W, b, torch.tensor([0.5, 3.0]), 0.7)
    loss = loss_rows(X, y, W, b)
    for c, k in enumerate([0.5, 3.0]):
        ref = squared_loss(X @ W[c] + b[c], y.reshape(-1)).mean()
        assert float(loss[c]) == pytest.approx(float(ref), rel=1e-14)
        assert float(obj[c]) == pytest.approx(float(ref + lk_penalty(W[c], k, 0.7)), rel=1e-14)


# --- bad input: clear errors naming the public argument --------------------------------------


def _bad_calls():
    X, y = _data()
    W, b = torch.zeros(2, 30, dtype=F64), torch.zeros(2, dtype=F64)
    ok = dict(lr=0.01, epochs=2)
    return [
        (lambda: fit(X, y, 0.0, 1.0, **ok), ValueError, "k must be > 0"),
        (lambda: fit(X, y, 1.0, -1.0, **ok), ValueError, "alpha must be >= 0"),
        (lambda: fit(X, y, 1.0, 1.0, lr=0.0, epochs=2), ValueError, "lr must be > 0"),
        (lambda: fit(X, y, 1.0, 1.0, lr=-1.0, epochs=2), ValueError, "lr must be > 0"),
        (lambda: fit(X, y, 1.0, 1.0, lr=math.nan, epochs=2), ValueError, "lr must contain only"),
        (lambda: fit(X, y, 1.0, math.inf, **ok), ValueError, "alpha must contain only finite"),
        (lambda: fit(X, y, True, 1.0, **ok), TypeError, "k must be a number"),
        (lambda: fit(X, y, 1.0, "1", **ok), TypeError, "alpha must be a number"),
        (lambda: fit(X, y, 1.0, torch.ones(2, 2), **ok), ValueError, "alpha must be a number"),
        (lambda: fit(X, y, 1.0, torch.tensor([1 + 1j]), **ok), TypeError, "alpha must hold real"),
        (lambda: fit(X, y, torch.ones(2), torch.ones(3), **ok), ValueError, "k: 2, alpha: 3"),
        (lambda: fit(X, y, 3.0, 1.0, method="prox", **ok), ValueError, "needs k in"),
        (lambda: fit(X, y, 0.7, 1.0, method="auto", **ok), ValueError, "needs k in"),
        (lambda: fit(X, y, 1.0, 1.0, method="newton", **ok), ValueError, "method must be one of"),
        (lambda: fit(X, y, 1.0, 1.0, init=torch.ones(5), **ok), ValueError, "init must be"),
        (lambda: fit(X, y, 1.0, 1.0, init="ones", **ok), ValueError, "init must be one of"),
        (lambda: fit(X, y, 1.0, 1.0, lr=0.01, epochs=0), ValueError, "epochs must be >= 1"),
        (lambda: fit(X, y, 1.0, 1.0, lr=0.01, epochs=2.0), TypeError, "epochs must be an int"),
        (lambda: fit(X, y, 1.0, 1.0, accelerate="False", **ok), TypeError, "accelerate must be"),
        (lambda: fit(X, y, 1.0, 1.0, batch_size=0, **ok), ValueError, "batch_size must be >= 1"),
        (
            lambda: fit(X, y, 1.0, 1.0, batch_size=4, accelerate=True, **ok),
            ValueError,
            "accelerate=True needs full-batch",
        ),
        (lambda: fit(X, y, 1.0, 1.0, seed=-1, **ok), ValueError, "seed must be >= 0"),
        (lambda: fit(X, y, 1.0, 1.0, seed=None, **ok), TypeError, "seed must be an int"),
        (lambda: fit(X, y[:5], 1.0, 1.0, **ok), ValueError, "y must have shape"),
        (lambda: fit(X[0], y, 1.0, 1.0, **ok), ValueError, "X must have shape"),
        (lambda: fit(X.numpy(), y, 1.0, 1.0, **ok), TypeError, "X must be a torch.Tensor"),
        (lambda: fit(X.long(), y, 1.0, 1.0, **ok), TypeError, "X must have a real floating"),
        (lambda: fit(X, y * math.nan, 1.0, 1.0, **ok), ValueError, "y must contain only finite"),
        (
            lambda: fit(X, y, 1.0, 1.0, eval_sets={"v": (X[:, :3], y)}, **ok),
            ValueError,
            "eval_sets['v'] X must have d = 30",
        ),
        (lambda: fit(X, y, 1.0, 1.0, eval_sets={"v": X}, **ok), TypeError, "eval_sets['v']"),
        (lambda: ridge_path(X, y, -1.0), ValueError, "alphas must be >= 0"),
        (lambda: ridge_path(X, y, 1.7e308), ValueError, "overflows"),
        (
            lambda: ridge_path(X, y, torch.tensor([math.nan], dtype=X.dtype)),
            ValueError,
            "alphas must contain only finite",
        ),
        (lambda: ridge_path(X, y, [0.1, 1.0]), TypeError, "alphas must be a number"),
        (lambda: fit(X, y, 1.0, torch.tensor([0, 1]), **ok), TypeError, "alpha must hold real"),
        (lambda: ridge_path(X, y.long(), 1.0), TypeError, "y must have a real floating"),
        (lambda: loss_rows(X, y, W, b[:1]), ValueError, "b must have shape (2,)"),
        (lambda: loss_rows(X, y, W[:, :3], b), ValueError, "W must have shape (rows, 30)"),
        (lambda: loss_rows(X, y[:3], W, b), ValueError, "y must have shape"),
        (lambda: objective_rows(X, y, W, b, 0.0, 1.0), ValueError, "k must be > 0"),
        (lambda: objective_rows(X, y, W, b, 1.0, torch.ones(3)), ValueError, "W: 2, alpha: 3"),
        (lambda: lipschitz_step(X[0]), ValueError, "X must have shape"),
        (lambda: loss_rows(X, y, W + 1e300, b), ValueError, "the loss overflows"),
        (lambda: objective_rows(X, y, W + 1e200, b, 2.0, 1.0), ValueError, "objective overflows"),
        (lambda: lipschitz_step(X.to(torch.complex128)), TypeError, "X must have a real"),
    ]


@pytest.mark.parametrize("case", range(len(_bad_calls())))
def test_bad_inputs_name_the_argument(case):
    call, exc, words = _bad_calls()[case]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(exc) as info:
            call()
    assert words in str(info.value)


def test_minibatch_fit_in_the_default_dtype_matches_torch_optim(dtype):
    """In float32 (the baseline's dtype) and float64: fit == torch.optim.SGD on the same batches."""
    split = high_dim_regression(num_inputs=30, n_train=20, n_test=10, dtype=dtype)
    X, y = split.X_train, split.y_train
    res = fit(X, y, 1.5, 2.0, lr=0.01, epochs=4, batch_size=8, seed=5)
    assert res.W.dtype == dtype
    st_ = streams(5)
    w = torch.normal(0.0, 1.0, (30,), generator=st_.init, dtype=torch.float32).to(dtype)
    w.requires_grad_()
    b = torch.zeros((), dtype=dtype, requires_grad=True)
    opt = torch.optim.SGD([w, b], lr=0.01)
    for _ in range(4):
        for Xb, yb in load_array((X, y), 8, generator=st_.shuffle):
            opt.zero_grad()
            _objective(Xb, yb, w, b, 1.5, 2.0).backward()
            opt.step()
    tol = 1e-5 if dtype == torch.float32 else 1e-12
    torch.testing.assert_close(res.W[0], w.detach(), atol=tol, rtol=tol)
    torch.testing.assert_close(res.b[0], b.detach(), atol=tol, rtol=tol)
