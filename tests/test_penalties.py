"""Tests of weightreg.penalties against autograd, finite differences, brute force and scipy."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import minimize_scalar

from weightreg.penalties import (
    lhalf_threshold,
    lk_grad,
    lk_grad_per_weight,
    lk_penalty,
    penalty_descent,
    prox_l1,
    prox_l2,
    prox_lhalf,
)

pytestmark = pytest.mark.usefixtures("float64_default")  # exactness tests

KS = [0.5, 1.0, 1.5, 2.0, 3.0, 10.0]
floats = st.floats(-50, 50, allow_nan=False, allow_infinity=False, allow_subnormal=False)
ts = st.floats(0, 10, allow_nan=False, allow_infinity=False)


# --- lk_penalty and lk_grad -------------------------------------------------------------


def _naive_penalty(w: torch.Tensor, k: float, alpha: float) -> torch.Tensor:
    """An independent expression; its autograd is exact wherever no entry is 0."""
    return alpha * (w.abs() ** k).mean()


@pytest.mark.parametrize("k", KS)
@pytest.mark.parametrize("seed", range(8))
def test_lk_grad_matches_autograd_of_independent_formula(k, seed):
    gen = torch.Generator().manual_seed(seed)
    shape = [(7,), (3, 5), (2, 3, 4)][seed % 3]
    w = (torch.randn(shape, generator=gen) * 2).requires_grad_()
    alpha = float(torch.rand((), generator=gen)) * 3
    (g,) = torch.autograd.grad(_naive_penalty(w, k, alpha), w)
    torch.testing.assert_close(lk_grad(w, k, alpha), g, rtol=1e-12, atol=1e-14)
    # and lk_penalty's own autograd agrees too, and its value matches numpy
    (g2,) = torch.autograd.grad(lk_penalty(w, k, alpha), w)
    torch.testing.assert_close(g2, g, rtol=1e-12, atol=1e-14)
    ref = alpha * np.mean(np.abs(w.detach().numpy()) ** k)
    assert float(lk_penalty(w.detach(), k, alpha)) == pytest.approx(ref, rel=1e-12)


@pytest.mark.parametrize("k", KS)
def test_lk_grad_matches_central_finite_differences(k):
    gen = torch.Generator().manual_seed(123)
    w = torch.randn(4, 6, generator=gen)
    w = torch.where(w.abs() < 0.05, torch.full_like(w, 0.3), w)  # stay away from the kink
    alpha, h = 0.7, 1e-6
    g = lk_grad(w, k, alpha)
    fd = torch.empty_like(w)
    for i in range(w.numel()):
        e = torch.zeros(w.numel())
        e[i] = h
        e = e.reshape(w.shape)
        fd.view(-1)[i] = (lk_penalty(w + e, k, alpha) - lk_penalty(w - e, k, alpha)) / (2 * h)
    torch.testing.assert_close(g, fd, rtol=1e-6, atol=1e-8)


def test_lk_grad_sign_at_negative_weights_and_mean_scaling():
    w = torch.tensor([-2.0, 3.0, -0.5, 1.0])
    g = lk_grad(w, 2.0, alpha=0.5)
    torch.testing.assert_close(g, 0.5 * 2 * w / 4)
    assert (torch.sign(lk_grad(w, 1.0)) == torch.sign(w)).all()
    torch.testing.assert_close(lk_grad(w, 1.0, 2.0), 2.0 * torch.sign(w) / 4)


@pytest.mark.parametrize("k", KS)
def test_value_and_gradient_at_zero(k):
    w = torch.tensor([0.0, 0.0, 1.0], requires_grad=True)
    p = lk_penalty(w, k, 3.0)
    assert float(p.detach()) == pytest.approx(3.0 / 3)
    p.backward()
    assert torch.isfinite(w.grad).all()
    assert w.grad[0] == 0 and w.grad[1] == 0
    torch.testing.assert_close(w.grad, lk_grad(w, k, 3.0))


def test_list_of_tensors_means_over_all_entries():
    gen = torch.Generator().manual_seed(1)
    a, b = torch.randn(3, 4, generator=gen), torch.randn(5, generator=gen)
    both = torch.cat([a.flatten(), b])
    for k in KS:
        assert float(lk_penalty([a, b], k, 1.3)) == pytest.approx(float(lk_penalty(both, k, 1.3)))
        ga, gb = lk_grad([a, b], k, 1.3)
        g = lk_grad(both, k, 1.3)
        torch.testing.assert_close(torch.cat([ga.flatten(), gb]), g)
        assert ga.shape == a.shape


def test_lk_penalty_keeps_second_derivatives_for_k2():
    w = torch.tensor([0.0, -1.0, 2.0], requires_grad=True)
    (g,) = torch.autograd.grad(lk_penalty(w, 2.0, 1.5), w, create_graph=True)
    h = torch.stack([torch.autograd.grad(g[i], w, retain_graph=True)[0] for i in range(3)])
    torch.testing.assert_close(h, 1.5 * 2 / 3 * torch.eye(3))


# --- proximal operators against brute force ---------------------------------------------

GRID = torch.linspace(-12, 12, 2_400_001, dtype=torch.float64)  # spacing 1e-5


def _brute(z: float, g) -> tuple[float, float]:
    f = 0.5 * (GRID - z) ** 2 + g(GRID)
    i = int(f.argmin())
    return float(GRID[i]), float(f[i])


@pytest.mark.parametrize("z", [-7.3, -2.0, -1.0, -0.4, 0.0, 0.25, 0.9, 1.7, 4.0, 9.5])
@pytest.mark.parametrize("t", [0.0, 0.3, 1.0, 2.5])
def test_prox_l1_and_l2_match_brute_force(z, t):
    x1 = float(prox_l1(torch.tensor([z]), t))
    b1, _ = _brute(z, lambda x: t * x.abs())
    assert x1 == pytest.approx(b1, abs=2e-5)
    x2 = float(prox_l2(torch.tensor([z]), t))
    b2, _ = _brute(z, lambda x: t / 2 * x**2)
    assert x2 == pytest.approx(b2, abs=2e-5)


def _f_half(x, z, t):
    return 0.5 * (x - z) ** 2 + t * math.sqrt(abs(x))


@pytest.mark.parametrize("z", [-9.0, -3.1, -1.6, -0.5, 0.0, 0.3, 1.2, 1.49, 1.51, 2.2, 5.0, 11.0])
@pytest.mark.parametrize("t", [0.1, 0.5, 1.0, 3.0])
def test_prox_lhalf_matches_brute_force_and_scipy(z, t):
    x = float(prox_lhalf(torch.tensor([z]), t))
    bx, bf = _brute(z, lambda v: t * v.abs().sqrt())
    fx = _f_half(x, z, t)
    # Never worse than the grid's best point; close to it unless the two minima nearly tie.
    assert fx <= bf + 1e-12
    if abs(abs(z) - lhalf_threshold(t)) > 1e-3:
        assert x == pytest.approx(bx, abs=2e-5)
    # scipy on the half line of z's sign, then compared with the candidate 0
    if z != 0:
        lo, hi = (0.0, abs(z)) if z > 0 else (-abs(z), 0.0)
        res = minimize_scalar(
            lambda v: _f_half(v, z, t), bounds=(lo, hi), method="bounded", options={"xatol": 1e-12}
        )
        best = min(res.fun, _f_half(0.0, z, t))
        assert fx == pytest.approx(best, abs=1e-9)


@pytest.mark.parametrize("t", [0.01, 0.2, 1.0, 4.0, 17.0])
def test_prox_lhalf_tie_at_threshold(t):
    thr = lhalf_threshold(t)
    assert thr == pytest.approx(54 ** (1 / 3) / 4 * (2 * t) ** (2 / 3))  # Xu et al.'s form
    z = torch.tensor([thr, -thr], dtype=torch.float64)
    # exactly at the threshold: the tie is broken toward 0
    assert (prox_lhalf(z, t) == 0).all()
    # the two minimizers 0 and (2/3) z have equal objective values there
    assert _f_half(0.0, thr, t) == pytest.approx(_f_half(2 * thr / 3, thr, t), rel=1e-12)
    # just above: the non-zero root, of magnitude just above t**(2/3)
    above = prox_lhalf(torch.tensor([thr * (1 + 1e-9)]), t)
    assert float(above) == pytest.approx(t ** (2 / 3), rel=1e-4)
    assert float(prox_lhalf(torch.tensor([thr * (1 - 1e-9)]), t)) == 0.0


def test_prox_lhalf_t_zero_is_identity_and_tensor_t_broadcasts():
    z = torch.linspace(-3, 3, 11)
    torch.testing.assert_close(prox_lhalf(z, 0.0), z)
    t = torch.tensor([[0.0], [0.5], [2.0]])
    Z = z.expand(3, -1)
    for prox in (prox_l1, prox_l2, prox_lhalf):
        out = prox(Z, t)
        for i in range(3):
            torch.testing.assert_close(out[i], prox(z, float(t[i])))


# --- hypothesis properties -------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(a=floats, b=floats, t=ts)
def test_prox_l1_non_expansive_odd_shrinking(a, b, t):
    z = torch.tensor([a, b])
    pa, pb = prox_l1(z, t)
    assert abs(float(pa - pb)) <= abs(a - b) + 1e-12
    torch.testing.assert_close(prox_l1(-z, t), -prox_l1(z, t))
    assert abs(float(pa)) <= abs(a) and float(pa) * a >= 0
    assert (float(pa) == 0) == (abs(a) <= t)
    if abs(a) > t:
        assert abs(float(pa)) == pytest.approx(abs(a) - t)


@settings(max_examples=300, deadline=None)
@given(a=floats, b=floats, t=ts)
def test_prox_l2_is_a_contraction_by_one_over_one_plus_t(a, b, t):
    z = torch.tensor([a, b])
    pa, pb = prox_l2(z, t)
    assert abs(float(pa - pb)) == pytest.approx(abs(a - b) / (1 + t), abs=1e-12)
    assert (float(pa) == 0) == (a == 0)


@settings(max_examples=400, deadline=None)
@given(a=floats, b=floats, t=st.floats(1e-3, 10))
def test_prox_lhalf_properties(a, b, t):
    z = torch.tensor([a, b])
    p = prox_lhalf(z, t)
    pa = float(p[0])
    thr = lhalf_threshold(t)
    torch.testing.assert_close(prox_lhalf(-z, t), -p)  # odd
    assert (pa == 0) == (abs(a) <= thr)  # exact zeros exactly below the threshold
    assert abs(pa) <= abs(a) and pa * a >= 0  # shrinks toward 0, keeps the sign
    if pa != 0:
        assert abs(pa) >= t ** (2 / 3) * (1 - 1e-9)  # the jump: no small non-zero output
        # stationarity of the smooth branch: x - z + t * sign(x) / (2 sqrt|x|) = 0
        assert pa - a + t * math.copysign(1, pa) / (2 * math.sqrt(abs(pa))) == pytest.approx(
            0, abs=1e-8 * (1 + abs(a))
        )
    # global optimality against the other candidate 0, and monotone in z
    assert _f_half(pa, a, t) <= _f_half(0.0, a, t) + 1e-12
    if a <= b:
        assert pa <= float(p[1]) + 1e-12


# --- pure-penalty gradient descent -------------------------------------------------------


def test_penalty_descent_l2_is_geometric_and_batches_independently():
    w0 = torch.tensor([[1.0, -2.0], [0.5, 0.0]])
    traj = penalty_descent(w0, 2, alpha=0.5, lr=0.1, steps=20)
    assert traj.shape == (21, 2, 2)
    s = torch.arange(21).reshape(-1, 1, 1)
    torch.testing.assert_close(traj, w0 * (1 - 2 * 0.1 * 0.5) ** s)
    single = penalty_descent(torch.tensor([-2.0]), 2, 0.5, 0.1, 20)
    torch.testing.assert_close(traj[:, 0, 1], single[:, 0])


@pytest.mark.parametrize("k", KS)
def test_penalty_descent_matches_a_hand_loop_using_lk_grad(k):
    w0 = torch.tensor([1.3, -0.7, 0.2])
    traj = penalty_descent(w0, k, alpha=0.3, lr=0.05, steps=15)
    w = w0.clone()
    for s in range(15):
        # the per-weight penalty alpha * |w_i|**k is lk_penalty of the one-entry tensor w_i
        g = torch.cat([lk_grad(w[i : i + 1], k, 0.3) for i in range(3)])
        w = w - 0.05 * g
        torch.testing.assert_close(traj[s + 1], w)


def test_penalty_descent_l1_chatters_with_amplitude_lr_alpha():
    traj = penalty_descent(torch.tensor([1.0]), 1, alpha=1.0, lr=0.3, steps=30)
    tail = traj[10:, 0]
    assert (tail.abs() <= 0.3 + 1e-12).all()  # never further than one step from 0
    assert (tail[1:] - tail[:-1]).abs().max() == pytest.approx(0.3)


# --- bad inputs ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call, exc, words",
    [
        (lambda: lk_penalty(torch.ones(3), 0), ValueError, "k must be > 0"),
        (lambda: lk_penalty(torch.ones(3), -1.5), ValueError, "k must be > 0"),
        (lambda: lk_grad(torch.ones(3), 0.0), ValueError, "k must be > 0"),
        (lambda: lk_grad(torch.ones(3), float("nan")), ValueError, "k must be finite"),
        (lambda: lk_penalty(torch.ones(3), 2, alpha=-0.1), ValueError, "alpha must be >= 0"),
        (lambda: lk_grad(torch.ones(3), 2, alpha=-1), ValueError, "alpha must be >= 0"),
        (lambda: lk_penalty([1.0, 2.0], 2), TypeError, "w[0] must be a torch.Tensor"),
        (lambda: lk_penalty(np.ones(3), 2), TypeError, "w must be a torch.Tensor"),
        (lambda: lk_grad(torch.tensor([1.0, float("nan")]), 2), ValueError, "w must contain"),
        (lambda: lk_penalty(torch.tensor([float("inf")]), 2), ValueError, "w must contain"),
        (lambda: lk_penalty(torch.ones(3), "2"), TypeError, "k must be a real number"),
        (lambda: prox_l1(torch.ones(3), -0.1), ValueError, "t must be >= 0"),
        (lambda: prox_l2(torch.ones(3), -1), ValueError, "t must be >= 0"),
        (lambda: prox_lhalf(torch.ones(3), -1), ValueError, "t must be >= 0"),
        (lambda: prox_lhalf(torch.ones(3), torch.tensor([1.0, -1.0, 0])), ValueError, "t must"),
        (lambda: prox_l1(torch.ones(3), torch.ones(2)), ValueError, "broadcastable"),
        (lambda: prox_l1([1.0, 2.0], 1.0), TypeError, "z must be a torch.Tensor"),
        (lambda: prox_lhalf(torch.tensor([float("nan")]), 1.0), ValueError, "z must contain"),
        (lambda: prox_l1(torch.ones(3, dtype=torch.long), 1.0), TypeError, "floating dtype"),
        (lambda: penalty_descent(torch.ones(2), 2, 1.0, 0.0, 5), ValueError, "lr must be > 0"),
        (lambda: penalty_descent(torch.ones(2), 2, 1.0, 0.1, 0), ValueError, "steps must be"),
        (lambda: penalty_descent(torch.ones(2), -2, 1.0, 0.1, 3), ValueError, "k must be > 0"),
        (lambda: lhalf_threshold(-1.0), ValueError, "t must be >= 0"),
    ],
)
def test_bad_inputs_name_the_argument(call, exc, words):
    with pytest.raises(exc) as info:
        call()
    assert words in str(info.value)


@pytest.mark.parametrize("k", KS)
def test_lk_grad_per_weight_is_lk_grad_times_the_count_and_autograd_of_the_sum(k):
    gen = torch.Generator().manual_seed(7)
    w = torch.randn(3, 4, generator=gen)
    w[0, 0] = 0.0
    g = lk_grad_per_weight(w, k, 0.8)
    torch.testing.assert_close(g, lk_grad(w, k, 0.8) * w.numel())
    v = w.clone().requires_grad_()
    (ga,) = torch.autograd.grad(0.8 * lk_penalty(v, k, 1.0) * v.numel(), v)
    torch.testing.assert_close(g, ga)
    assert g[0, 0] == 0
    with pytest.raises(ValueError, match="alpha must be >= 0"):
        lk_grad_per_weight(w, k, -1.0)


# --- rows, prox_lk, prox_descent, the divergence policy of penalty_descent ----------------


from weightreg.divergence import DivergenceWarning, TrainingDiverged  # noqa: E402
from weightreg.penalties import (  # noqa: E402
    PROX_KS,
    lk_grad_rows,
    lk_penalty_rows,
    prox_descent,
    prox_lk,
)


def test_rows_penalty_and_gradient_match_lk_penalty_lk_grad_and_autograd():
    gen = torch.Generator().manual_seed(0)
    W = torch.randn(6, 9, generator=gen, dtype=torch.float64)
    W[0, 3] = W[1, 2] = 0.0
    ks = torch.tensor(KS, dtype=torch.float64)
    alphas = torch.tensor([0.3, 1.0, 2.0, 0.0, 5.0, 0.1], dtype=torch.float64)
    G, P = lk_grad_rows(W, ks, alphas), lk_penalty_rows(W, ks, alphas)
    for c in range(6):
        k, a = float(ks[c]), float(alphas[c])
        torch.testing.assert_close(G[c], lk_grad(W[c], k, a))
        w = W[c].clone().requires_grad_()
        value = lk_penalty(w, k, a)
        value.backward()
        torch.testing.assert_close(G[c], w.grad)
        torch.testing.assert_close(P[c], value.detach())
    assert G[0, 3] == 0 and G[1, 2] == 0
    with pytest.raises(
        ValueError, match=r"alpha must be a number or one value per row, shape \(6,\)"
    ):
        lk_grad_rows(W, 1.0, torch.ones(4))
    with pytest.raises(ValueError, match="W must have shape"):
        lk_penalty_rows(W[0], 1.0, 1.0)
    with pytest.raises(ValueError, match="k must be > 0 for every row"):
        lk_grad_rows(W, torch.zeros(6), 1.0)


def _ista_with_prox_lk(X, y, k, alpha, steps):
    """Proximal gradient on mean (x w + b - y)^2 / 2 + alpha mean|w|^k, the prox by prox_lk."""
    from weightreg.linear import lipschitz_step
    from weightreg.proximal import proximal_gradient

    n, d = X.shape
    A = torch.cat([X, torch.ones(n, 1, dtype=X.dtype)], dim=1)
    lr = lipschitz_step(X)

    def grad(V):
        return (A @ V.T - y[:, None]).T @ A / n

    def prox(Z):
        return torch.cat([prox_lk(Z[:, :d], k, alpha, lr, d), Z[:, d:]], dim=1)

    sol = proximal_gradient(
        grad, prox, torch.zeros(1, d + 1, dtype=X.dtype), lr=lr, steps=steps, accelerate=True
    )
    return sol.W[0, :d], sol.W[0, d]


def test_prox_lk_solves_ridge_with_alpha_and_lasso_with_alpha_over_d():
    """The scaling stated in prox_lk: k = 2 is the closed-form ridge solution with the same
    alpha (not alpha / 2), k = 1 is sklearn's Lasso(alpha=alpha / d)."""
    from sklearn.linear_model import Lasso

    from weightreg.linear import ridge_path

    gen = torch.Generator().manual_seed(4)
    X = torch.randn(30, 12, generator=gen, dtype=torch.float64)
    y = X @ torch.randn(12, generator=gen, dtype=torch.float64) + 0.3
    w, b = _ista_with_prox_lk(X, y, 2.0, 1.5, 3000)
    exact = ridge_path(X, y, 1.5)
    torch.testing.assert_close(w, exact.W[0], atol=1e-12, rtol=0)
    assert float(b) == pytest.approx(float(exact.b[0]), abs=1e-12)
    w, b = _ista_with_prox_lk(X, y, 1.0, 3.0, 3000)
    sk = Lasso(alpha=3.0 / 12, tol=1e-15, max_iter=10**6).fit(X.numpy(), y.numpy())
    np.testing.assert_allclose(w.numpy(), sk.coef_, atol=1e-9)
    assert float(b) == pytest.approx(float(sk.intercept_), abs=1e-9)
    assert (w == 0).any()


@pytest.mark.parametrize("k", PROX_KS)
def test_prox_lk_is_the_brute_force_argmin_of_t_abs_x_to_the_k(k):
    z = torch.linspace(-3, 3, 61, dtype=torch.float64)
    alpha, lr, d = 2.0, 0.3, 4
    t = lr * alpha / d
    x = torch.linspace(-4, 4, 160_001, dtype=torch.float64)
    obj = 0.5 * (x[None] - z[:, None]) ** 2 + t * x.abs()[None] ** k
    brute = x[obj.argmin(dim=1)]
    torch.testing.assert_close(prox_lk(z, k, alpha, lr, d), brute, atol=1e-4, rtol=0)


def test_prox_lk_per_row_k_and_bad_inputs():
    z = torch.tensor([[1.0, -0.2], [1.0, -0.2], [1.0, -0.2]], dtype=torch.float64)
    k = torch.tensor([[0.5], [1.0], [2.0]], dtype=torch.float64)
    out = prox_lk(z, k, 1.0, 0.4, 2)
    torch.testing.assert_close(out[0], prox_lhalf(z[0], 0.2))
    torch.testing.assert_close(out[1], prox_l1(z[1], 0.2))
    torch.testing.assert_close(out[2], prox_l2(z[2], 0.4))
    with pytest.raises(ValueError, match="k must be one of"):
        prox_lk(z, 1.5, 1.0, 0.1, 2)
    with pytest.raises(ValueError, match="lr must be > 0"):
        prox_lk(z, 1.0, 1.0, 0.0, 2)
    with pytest.raises(ValueError, match="alpha must be >= 0"):
        prox_lk(z, 1.0, torch.tensor([[-1.0], [1.0], [1.0]]), 0.1, 2)
    with pytest.raises(TypeError, match="num_weights must be an int"):
        prox_lk(z, 1.0, 1.0, 0.1, 2.0)
    with pytest.raises(TypeError, match="k must be a real number"):
        prox_lk(z, True, 1.0, 0.1, 2)


def test_prox_descent_l1_reaches_exact_zero_in_ceil_steps_and_stays():
    w0 = torch.tensor([1.03, -0.37, 0.05, 0.0], dtype=torch.float64)  # not multiples of t
    traj = prox_descent(w0, 1, alpha=0.5, lr=0.2, steps=20)
    for j, w in enumerate(w0.tolist()):
        s_star = math.ceil(abs(w) / 0.1 - 1e-12)
        assert (traj[s_star:, j] == 0).all()
        if s_star > 0:
            assert traj[s_star - 1, j] != 0


def test_prox_descent_l2_is_division_by_one_plus_two_lr_alpha():
    w0 = torch.tensor([1.5, -0.2], dtype=torch.float64)
    traj = prox_descent(w0, 2, alpha=0.5, lr=0.3, steps=10)
    s = torch.arange(11, dtype=torch.float64)[:, None]
    torch.testing.assert_close(traj, w0 / (1 + 2 * 0.3 * 0.5) ** s)


def test_prox_descent_lhalf_zeroes_weights_below_the_threshold_in_one_step():
    thr = lhalf_threshold(0.2)
    w0 = torch.tensor([0.99 * thr, -0.5 * thr, 3.0], dtype=torch.float64)
    traj = prox_descent(w0, 0.5, alpha=1.0, lr=0.2, steps=3)
    assert (traj[1, :2] == 0).all() and traj[1, 2] != 0
    torch.testing.assert_close(traj[1, 2], prox_lhalf(w0[2:], 0.2)[0])


def test_prox_descent_rejects_k_without_a_prox():
    with pytest.raises(ValueError, match="k must be one of"):
        prox_descent(torch.ones(2), 1.5, 1.0, 0.1, 3)
    with pytest.raises(ValueError, match="lr must be > 0"):
        prox_descent(torch.ones(2), 1, 1.0, -0.1, 3)
    with pytest.raises(TypeError, match="w0 must be a torch.Tensor"):
        prox_descent([1.0], 1, 1.0, 0.1, 3)


def test_penalty_descent_follows_the_divergence_policy():
    """A too-large lr: diverged entries are frozen as NaN and reported, never silent NaN."""
    w0 = torch.tensor([0.5, 2.0], dtype=torch.float64)
    with pytest.warns(DivergenceWarning, match=r"1 of 2 starting weights diverged.*: 1"):
        traj = penalty_descent(w0, 10, 1.0, 0.1, 30)
    assert torch.isfinite(traj[:, 0]).all()
    first_nan = int(torch.isnan(traj[:, 1]).double().argmax())
    assert first_nan > 0 and torch.isnan(traj[first_nan:, 1]).all()
    assert (traj[first_nan - 1, 1].abs() <= 1e6 * 2.0) or first_nan == 1
    with pytest.raises(TrainingDiverged, match="every one of the 1 starting weights"):
        penalty_descent(torch.tensor([3.0]), 2, 1.0, 10.0, 50)


@pytest.mark.parametrize(
    "call",
    [
        lambda: lk_penalty(torch.tensor([1.8e307, 1.0]), 2.0),
        lambda: lk_grad(torch.tensor([2.0, 0.5]), 1e300),
        lambda: lk_grad_per_weight(torch.tensor([2.0, 0.5]), 1e300),
    ],
)
def test_overflow_is_an_error_naming_w_and_k_not_inf(call):
    with pytest.raises(ValueError, match="overflows the range of torch.float64 for these w and k"):
        call()
    # below the overflow the huge exponent is fine: |w| < 1 gives exactly 0
    assert float(lk_penalty(torch.tensor([0.5, -0.9]), 1e300)) == 0.0


def test_rows_forms_refuse_to_overflow():
    W = torch.tensor([[2.0, 0.5]], dtype=torch.float64)
    with pytest.raises(ValueError, match="overflows"):
        lk_grad_rows(W, 1e300, 1.0)
    with pytest.raises(ValueError, match="overflows"):
        lk_penalty_rows(W * 1e200, 2.0, 1.0)
