"""Tests of weightreg.constraints against scipy.optimize, exact optimality certificates,
torch.renorm, torch.optim.SGD and the book's training loop."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy import optimize

from weightreg.constraints import (
    ProjectedSGD,
    project_l1_ball,
    project_l2_ball,
    project_linf_ball,
    project_max_norm,
    projected_gradient_descent,
    projected_update,
)
from weightreg.data import load_array
from weightreg.train import linreg, train

PROJECTIONS = {1: project_l1_ball, 2: project_l2_ball, math.inf: project_linf_ball}
DUAL = {1: math.inf, 2: 2, math.inf: 1}


def _norm(z: torch.Tensor, p: float) -> float:
    return float(torch.linalg.vector_norm(z.flatten(), ord=p))


def _scipy_projection(w: np.ndarray, radius: float, p: float) -> np.ndarray:
    """argmin ||z - w||^2 subject to ||z||_p <= radius, by SLSQP on a smooth reformulation."""
    d = len(w)
    if p == 1:  # z = a - b with a, b >= 0 and sum(a + b) <= radius
        fun = lambda x: 0.5 * np.sum((x[:d] - x[d:] - w) ** 2)  # noqa: E731
        jac = lambda x: np.concatenate([x[:d] - x[d:] - w, -(x[:d] - x[d:] - w)])  # noqa: E731
        cons = [
            {"type": "ineq", "fun": lambda x: radius - x.sum(), "jac": lambda x: -np.ones(2 * d)}
        ]
        res = optimize.minimize(
            fun,
            np.zeros(2 * d),
            jac=jac,
            constraints=cons,
            bounds=[(0, None)] * (2 * d),
            method="SLSQP",
            options={"ftol": 1e-14, "maxiter": 1000},
        )
        return res.x[:d] - res.x[d:]
    if p == 2:
        cons = [{"type": "ineq", "fun": lambda z: radius**2 - z @ z, "jac": lambda z: -2 * z}]
        bounds = None
    else:
        cons, bounds = [], [(-radius, radius)] * d
    res = optimize.minimize(
        lambda z: 0.5 * np.sum((z - w) ** 2),
        np.zeros(d),
        jac=lambda z: z - w,
        constraints=cons,
        bounds=bounds,
        method="SLSQP",
        options={"ftol": 1e-14, "maxiter": 1000},
    )
    return res.x


@pytest.mark.parametrize("p", [1, 2, math.inf])
@pytest.mark.parametrize("seed", range(8))
def test_projection_matches_scipy(p, seed):
    rng = np.random.default_rng(seed)
    d = int(rng.integers(2, 9))
    w = rng.normal(size=d) * rng.uniform(0.2, 3.0)
    radius = float(rng.uniform(0.1, 2.0))
    z = PROJECTIONS[p](torch.tensor(w), radius).numpy()
    ref = _scipy_projection(w, radius, p)
    np.testing.assert_allclose(z, ref, atol=1e-6)
    # scipy's answer may sit slightly outside the ball; ours may not
    assert _norm(torch.tensor(z), p) <= radius * (1 + 1e-12)


def test_l1_projection_brute_force_over_supports():
    """For every support S, the best point of the L1 sphere with that support; take the best."""
    rng = np.random.default_rng(1)
    for _ in range(20):
        w = rng.normal(size=5) * 2
        radius = 1.3
        best, best_d = None, np.inf
        s = np.sign(w)
        for mask in range(1, 2**5):
            S = np.array([(mask >> i) & 1 for i in range(5)], dtype=bool)
            tau = (np.abs(w[S]).sum() - radius) / S.sum()
            z = np.zeros(5)
            z[S] = s[S] * (np.abs(w[S]) - tau)
            if np.any(np.abs(w[S]) - tau < 0):
                continue  # the sign pattern would flip: not a point of this face
            dist = np.sum((z - w) ** 2)
            if dist < best_d:
                best, best_d = z, dist
        z = project_l1_ball(torch.tensor(w), radius).numpy()
        np.testing.assert_allclose(z, best, atol=1e-12)


finite = st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False)
vectors = arrays(np.float64, st.integers(1, 12), elements=finite)
radii = st.floats(0.0, 50.0, allow_nan=False)


@settings(max_examples=200, deadline=None)
@given(vectors, radii, st.sampled_from([1, 2, math.inf]))
def test_projection_properties(w, radius, p):
    """In the ball, idempotent, and optimal: the variational inequality holds exactly.

    z = P(w) iff z is in the ball and <w - z, y - z> <= 0 for every y in the ball, i.e.
    radius * ||w - z||_q <= <w - z, z> with q the dual exponent.
    """
    w = torch.tensor(w)
    proj = PROJECTIONS[p]
    z = proj(w, radius)
    scale = 1.0 + float(w.abs().max())
    assert _norm(z, p) <= radius * (1 + 1e-12) + 1e-12
    torch.testing.assert_close(proj(z, radius), z, atol=1e-12 * scale, rtol=1e-12)
    g = w - z
    assert radius * _norm(g, DUAL[p]) <= float(g @ z) + 1e-9 * scale**2
    if _norm(w, p) <= radius:
        assert torch.equal(z, w)


@settings(max_examples=100, deadline=None)
@given(vectors, st.sampled_from([1, 2, math.inf]))
def test_radius_zero_gives_zero(w, p):
    z = PROJECTIONS[p](torch.tensor(w), 0.0)
    assert torch.equal(z, torch.zeros_like(z))


def test_l1_projection_is_soft_threshold_and_sparse():
    w = torch.tensor([3.0, -1.0, 0.5, 0.2])
    z = project_l1_ball(w, 2.0)
    # tau = (3 + 1 - 2) / 2 = 1: soft threshold at 1
    torch.testing.assert_close(z, torch.tensor([2.0, 0.0, 0.0, 0.0]))
    z = project_l1_ball(w, 3.0)  # tau = (3 + 1 - 3) / 2 = 0.5
    torch.testing.assert_close(z, torch.tensor([2.5, -0.5, 0.0, 0.0]))


def test_l2_and_linf_formulas():
    w = torch.tensor([3.0, -4.0])
    torch.testing.assert_close(project_l2_ball(w, 1.0), torch.tensor([0.6, -0.8]))
    torch.testing.assert_close(project_linf_ball(w, 2.0), torch.tensor([2.0, -2.0]))


@pytest.mark.parametrize("p", [1, 2, math.inf])
@pytest.mark.parametrize("dim", [0, 1, -1, 2])
def test_slicewise_equals_loop(p, dim):
    g = torch.Generator().manual_seed(3)
    w = torch.randn(3, 4, 5, generator=g)
    shape = [1, 1, 1]
    shape[dim] = 1
    rshape = list(w.shape)
    rshape[dim] = 1
    radius = torch.rand(rshape, generator=g) * 2
    z = PROJECTIONS[p](w, radius, dim=dim)
    wm, zm, rm = w.movedim(dim, -1), z.movedim(dim, -1), radius.movedim(dim, -1)
    for idx in np.ndindex(*wm.shape[:-1]):
        ref = PROJECTIONS[p](wm[idx], float(rm[idx][0]))
        torch.testing.assert_close(zm[idx], ref)


def test_projections_do_not_modify_input_and_keep_dtype():
    for proj in PROJECTIONS.values():
        w = torch.tensor([3.0, -4.0, 1.0], dtype=torch.float32)
        before = w.clone()
        z = proj(w, 0.5)
        assert torch.equal(w, before)
        assert z.dtype == torch.float32


def test_max_norm_matches_torch_renorm_and_batches():
    g = torch.Generator().manual_seed(0)
    W = torch.randn(6, 10, generator=g)
    torch.testing.assert_close(
        project_max_norm(W, 1.5), torch.renorm(W, 2, 0, 1.5), atol=1e-6, rtol=1e-6
    )
    Wb = torch.randn(3, 6, 10, generator=g)
    c = torch.tensor([0.5, 1.0, 100.0]).reshape(3, 1, 1)
    z = project_max_norm(Wb, c)
    for k in range(3):
        torch.testing.assert_close(z[k], project_max_norm(Wb[k], float(c[k])))
    assert torch.equal(z[2], Wb[2])  # a loose constraint changes nothing


@pytest.mark.parametrize("proj", list(PROJECTIONS.values()))
def test_bad_inputs(proj):
    w = torch.ones(3)
    with pytest.raises(ValueError, match="radius must be >= 0"):
        proj(w, -1.0)
    with pytest.raises(ValueError, match="got NaN"):
        proj(w, math.nan)
    with pytest.raises(ValueError, match="got NaN"):
        proj(torch.ones(2, 3), torch.tensor([[1.0], [math.nan]]), dim=-1)
    with pytest.raises(TypeError, match="radius must be a real number"):
        proj(w, "1")
    with pytest.raises(ValueError, match="w must not be empty"):
        proj(torch.ones(0), 1.0)
    with pytest.raises(ValueError, match="w must contain only finite"):
        proj(torch.tensor([1.0, math.nan]), 1.0)
    with pytest.raises(ValueError, match="w must contain only finite"):
        proj(torch.tensor([1.0, math.inf]), 1.0)
    with pytest.raises(TypeError, match="w must be a torch.Tensor"):
        proj([1.0, 2.0], 1.0)
    with pytest.raises(TypeError, match="floating dtype"):
        proj(torch.ones(3, dtype=torch.long), 1.0)
    with pytest.raises(ValueError, match="dim must lie in"):
        proj(torch.ones(2, 3), 1.0, dim=2)
    with pytest.raises(ValueError, match="does not broadcast"):
        proj(torch.ones(2, 3), torch.ones(3), dim=-1)
    with pytest.raises(ValueError, match="radius must be >= 0"):
        proj(torch.ones(2, 3), torch.tensor([[1.0], [-1.0]]), dim=-1)


@pytest.mark.parametrize("proj", list(PROJECTIONS.values()))
def test_infinite_radius_is_no_constraint(proj):
    w = torch.tensor([[1e300, -3.0], [2.0, 0.5]])
    assert torch.equal(proj(w, math.inf), w)
    z = proj(w, torch.tensor([[math.inf], [1.0]]), dim=-1)
    assert torch.equal(z[0], w[0])
    assert torch.equal(z[1], proj(w[1], 1.0))


def test_max_norm_needs_a_matrix():
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        project_max_norm(torch.ones(3), 1.0)


def test_projected_sgd_without_projection_is_torch_sgd():
    g = torch.Generator().manual_seed(0)
    X, y = torch.randn(30, 4, generator=g), torch.randn(30, generator=g)
    w1 = torch.randn(4, generator=g).requires_grad_()
    w2 = w1.detach().clone().requires_grad_()
    o1, o2 = ProjectedSGD([w1], lr=0.05), torch.optim.SGD([w2], lr=0.05)
    for _ in range(20):
        for w, o in ((w1, o1), (w2, o2)):
            o.zero_grad()
            ((X @ w - y) ** 2).mean().backward()
            o.step()
    torch.testing.assert_close(w1, w2, rtol=0, atol=0)


def test_projected_sgd_matches_hand_written_steps_and_train_hook():
    g = torch.Generator().manual_seed(1)
    X = torch.randn(40, 8, generator=g)
    y = (X @ torch.ones(8) + 0.5).reshape(-1, 1)
    r = 0.7

    def proj(w):
        return project_l2_ball(w, r)

    def run(kind):
        w = torch.full((8, 1), 2.0, requires_grad=True)
        b = torch.zeros(1, requires_grad=True)
        it = load_array((X, y), 10, shuffle=True, generator=torch.Generator().manual_seed(5))
        net = lambda X: linreg(X, w, b)  # noqa: E731
        if kind == "optimizer":
            opt = ProjectedSGD([{"params": [w], "project": proj}, {"params": [b]}], lr=0.05)
            opt.project_()
            train(net, [w, b], it, num_epochs=3, optimizer=opt)
        else:
            with torch.no_grad():
                w.copy_(proj(w))
            train(net, [w, b], it, num_epochs=3, lr=0.05, update=projected_update([proj, None]))
        return w.detach(), b.detach()

    wa, ba = run("optimizer")
    wb, bb = run("hook")
    torch.testing.assert_close(wa, wb, rtol=0, atol=0)
    torch.testing.assert_close(ba, bb, rtol=0, atol=0)
    assert float(wa.norm()) <= r + 1e-12
    assert abs(float(wa.norm()) - r) < 1e-12  # the constraint is active here
    # and by hand: the first full pass reproduces the same iterates
    w = proj(torch.full((8, 1), 2.0))
    b = torch.zeros(1)
    for Xb, yb in load_array((X, y), 10, shuffle=True, generator=torch.Generator().manual_seed(5)):
        res = Xb @ w + b - yb
        w = proj(w - 0.05 * Xb.T @ res / len(Xb))
        b = b - 0.05 * res.mean()
    wc = torch.full((8, 1), 2.0, requires_grad=True)
    bc = torch.zeros(1, requires_grad=True)
    opt = ProjectedSGD([{"params": [wc], "project": proj}, {"params": [bc]}], lr=0.05)
    opt.project_()
    it = load_array((X, y), 10, shuffle=True, generator=torch.Generator().manual_seed(5))
    train(lambda X: linreg(X, wc, bc), [wc, bc], it, num_epochs=1, optimizer=opt)
    torch.testing.assert_close(wc.detach(), w)
    torch.testing.assert_close(bc.detach(), b)


def test_projected_update_checks():
    with pytest.raises(TypeError, match=r"projections\[0\]"):
        projected_update([1.0])
    up = projected_update([None])
    w, b = torch.ones(2, requires_grad=True), torch.ones(1, requires_grad=True)
    with pytest.raises(ValueError, match="1 projections for 2 params"):
        up([w, b], 0.1)
    with pytest.raises(ValueError, match="lr must be > 0"):
        ProjectedSGD([w], lr=0.0)
    with pytest.raises(TypeError, match="project must be a callable"):
        ProjectedSGD([w], lr=0.1, project=3)
    opt = ProjectedSGD([w], lr=0.1, project=lambda p: p[:1])
    with pytest.raises(ValueError, match="parameter's shape"):
        opt.project_()


def _ridge_norm_match(X, y, r):
    """Constrained least squares min ||Xw - y||^2 / (2n), ||w|| <= r, by root-finding lambda."""
    n, d = X.shape
    H, c = X.T @ X / n, X.T @ y / n

    def w_of(lam):
        return np.linalg.solve(H + lam * np.eye(d), c)

    if np.linalg.norm(np.linalg.lstsq(X, y, rcond=None)[0]) <= r:
        return np.linalg.lstsq(X, y, rcond=None)[0]
    lam = optimize.brentq(lambda lam: np.linalg.norm(w_of(lam)) - r, 1e-12, 1e6, xtol=1e-15)
    return w_of(lam)


def test_projected_gradient_descent_solves_constrained_least_squares():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(50, 6)), rng.normal(size=50)
    Xt, yt = torch.tensor(X), torch.tensor(y)
    L = float(torch.linalg.eigvalsh(Xt.T @ Xt / 50).max())
    radii = torch.tensor([0.05, 0.1, 0.2, 10.0]).reshape(-1, 1)
    grad = lambda W: (W @ Xt.T - yt) @ Xt / 50  # noqa: E731  rows are problems
    W = projected_gradient_descent(
        grad,
        torch.zeros(4, 6),
        lambda W: project_l2_ball(W, radii, dim=-1),
        lr=1 / L,
        num_steps=3000,
    )
    for k, r in enumerate(radii.flatten().tolist()):
        np.testing.assert_allclose(W[k].numpy(), _ridge_norm_match(X, y, r), atol=1e-10)


def test_accelerated_pgd_solves_the_l1_constrained_lasso():
    """Constrained to the L1 ball of the sklearn lasso solution's norm, PGD finds that solution."""
    from sklearn.linear_model import lasso_path

    rng = np.random.default_rng(2)
    X, y = rng.normal(size=(15, 40)), rng.normal(size=15)
    alphas, coefs, _ = lasso_path(X, y, alphas=[0.3, 0.1, 0.03], tol=1e-14, max_iter=10**6)
    W_ref = torch.tensor(coefs.T.copy())
    radii = W_ref.abs().sum(dim=1, keepdim=True)
    Xt, yt = torch.tensor(X), torch.tensor(y)
    L = float(torch.linalg.eigvalsh(Xt.T @ Xt / 15).max())
    grad = lambda W: (W @ Xt.T - yt) @ Xt / 15  # noqa: E731

    def proj(W):
        return project_l1_ball(W, radii, dim=-1)

    W = projected_gradient_descent(
        grad, torch.zeros(3, 40), proj, lr=1 / L, num_steps=3000, accelerated=True, batched=True
    )
    torch.testing.assert_close(W, W_ref, atol=1e-9, rtol=0)
    # the multiplier of the L1 constraint is the lasso's alpha: ||grad||_inf = alpha
    torch.testing.assert_close(
        grad(W).abs().amax(dim=1), torch.tensor(alphas.copy()), atol=1e-9, rtol=0
    )
    # batched restarts are per problem: each row alone gives the same iterates
    Wb = projected_gradient_descent(
        grad, torch.zeros(3, 40), proj, lr=1 / L, num_steps=300, accelerated=True, batched=True
    )
    for k in range(3):
        wk = projected_gradient_descent(
            grad,
            torch.zeros(40),
            lambda w, k=k: project_l1_ball(w, radii[k]),
            lr=1 / L,
            num_steps=300,
            accelerated=True,
        )
        torch.testing.assert_close(Wb[k], wk, atol=1e-12, rtol=0)
    # and plain PGD is slower: after the same 300 steps it is further from the solution
    W_plain = projected_gradient_descent(grad, torch.zeros(3, 40), proj, lr=1 / L, num_steps=300)
    assert (W_plain - W_ref).norm() > 3 * (Wb - W_ref).norm()


def test_projected_gradient_descent_checks():
    with pytest.raises(ValueError, match="num_steps must be >= 1"):
        projected_gradient_descent(lambda w: w, torch.ones(2), lambda w: w, lr=0.1, num_steps=0)
    with pytest.raises(TypeError, match="callables"):
        projected_gradient_descent(None, torch.ones(2), lambda w: w, lr=0.1, num_steps=1)
