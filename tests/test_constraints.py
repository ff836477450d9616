"""Tests of weightreg.constraints against scipy.optimize, exact optimality certificates,
torch.renorm, torch.optim.SGD and the book's training loop."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import example, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy import optimize

from weightreg.constraints import (
    ProjectedSGD,
    ball_projection,
    project_l1_ball,
    project_l2_ball,
    project_linf_ball,
    project_max_norm,
    projected_gradient_descent,
    projected_update,
)
from weightreg.data import load_array
from weightreg.train import linreg, train

# exactness is the point here: float64 (the float32 chapters' uses are tested explicitly)
pytestmark = pytest.mark.usefixtures("float64_default")

PROJECTIONS = {1: project_l1_ball, 2: project_l2_ball, math.inf: project_linf_ball}
DUAL = {1: math.inf, 2: 2, math.inf: 1}


def _norm(z: torch.Tensor, p: float) -> float:
    """||z||_p without underflow in the powers (a norm of 1e-262 is not 0)."""
    m = z.abs().max()
    if float(m) == 0.0:
        return 0.0
    return float(m) * float(torch.linalg.vector_norm(z.flatten() / m, ord=p))


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
@example(np.array([9.49909023e-262, 0.0]), 0.0, 2)  # a norm whose square underflows
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


@pytest.mark.parametrize("dt", [torch.float32, torch.float64])  # hard.md runs in float32
def test_max_norm_matches_torch_renorm_and_batches(dt):
    g = torch.Generator().manual_seed(0)
    W = torch.randn(6, 10, generator=g, dtype=dt)  # nn.Linear layout: (out, in), a unit is a row
    torch.testing.assert_close(
        project_max_norm(W, 1.5, layout="out_in"),
        torch.renorm(W, 2, 0, 1.5),
        atol=1e-6,
        rtol=1e-6,
    )
    # the book's layout (in, out): a unit is a column; the same matrix transposed
    torch.testing.assert_close(
        project_max_norm(W.T, 1.5, layout="in_out"), torch.renorm(W, 2, 0, 1.5).T
    )
    Wb = torch.randn(3, 10, 6, generator=g, dtype=dt)  # configurations as rows: (C, in, out)
    c = torch.tensor([0.5, 1.0, 100.0], dtype=dt).reshape(3, 1, 1)
    z = project_max_norm(Wb, c, layout="in_out")
    for k in range(3):
        torch.testing.assert_close(z[k], project_max_norm(Wb[k], float(c[k]), layout="in_out"))
        assert (z[k].norm(dim=0) <= float(c[k]) * (1 + 1e-6)).all()
    assert torch.equal(z[2], Wb[2])  # a loose constraint changes nothing
    assert z.dtype == dt


def test_max_norm_layout_must_be_given_and_known():
    W = torch.ones(3, 4)
    with pytest.raises(TypeError, match="layout"):
        project_max_norm(W, 1.0)
    with pytest.raises(ValueError, match="layout must be one of"):
        project_max_norm(W, 1.0, layout="rows")
    # the two layouts constrain different vectors
    assert not torch.equal(
        project_max_norm(W, 1.0, layout="in_out"), project_max_norm(W, 1.0, layout="out_in")
    )


def test_max_norm_errors_name_its_own_arguments():
    """The errors name max_norm and weight (they used to say radius and w)."""
    W = torch.ones(3, 4)
    with pytest.raises(ValueError, match="max_norm must be >= 0"):
        project_max_norm(W, -1.0, layout="in_out")
    with pytest.raises(ValueError, match="max_norm must be a number >= 0 or inf, got NaN"):
        project_max_norm(W, math.nan, layout="in_out")
    with pytest.raises(TypeError, match="max_norm must be a real number"):
        project_max_norm(W, "1", layout="in_out")
    with pytest.raises(TypeError, match="max_norm must be a real number"):
        project_max_norm(W, True, layout="in_out")
    with pytest.raises(ValueError, match="max_norm of shape"):
        project_max_norm(torch.ones(2, 3, 4), torch.ones(2, 3, 1), layout="in_out")
    with pytest.raises(ValueError, match="weight must contain only finite"):
        project_max_norm(torch.tensor([[1.0, math.nan]]), 1.0, layout="in_out")
    with pytest.raises(TypeError, match="weight must have a real floating dtype"):
        project_max_norm(torch.ones(2, 2, dtype=torch.complex64), 1.0, layout="in_out")


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
    with pytest.raises(ValueError, match="weight must have at least 2 dimensions"):
        project_max_norm(torch.ones(3), 1.0, layout="out_in")


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
        it = load_array((X, y), 10, generator=torch.Generator().manual_seed(5))
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
    for Xb, yb in load_array((X, y), 10, generator=torch.Generator().manual_seed(5)):
        res = Xb @ w + b - yb
        w = proj(w - 0.05 * Xb.T @ res / len(Xb))
        b = b - 0.05 * res.mean()
    wc = torch.full((8, 1), 2.0, requires_grad=True)
    bc = torch.zeros(1, requires_grad=True)
    opt = ProjectedSGD([{"params": [wc], "project": proj}, {"params": [bc]}], lr=0.05)
    opt.project_()
    it = load_array((X, y), 10, generator=torch.Generator().manual_seed(5))
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
    radii = torch.tensor([0.05, 0.1, 0.2, 10.0], dtype=torch.float64).reshape(-1, 1)
    grad = lambda W: (W @ Xt.T - yt) @ Xt / 50  # noqa: E731  rows are problems
    sol = projected_gradient_descent(
        grad,
        lambda W: project_l2_ball(W, radii, dim=1),
        torch.zeros(4, 6, dtype=torch.float64),
        lr=1 / L,
        steps=3000,
    )
    assert not sol.diverged.any()
    for k, r in enumerate(radii.flatten().tolist()):
        np.testing.assert_allclose(sol.W[k].numpy(), _ridge_norm_match(X, y, r), atol=1e-10)


def _fista_reference(grad, project, W0, lr, steps):
    """The former loop of projected_gradient_descent (batched FISTA with gradient restart),
    kept here as an independent reference for the one solver in weightreg.proximal."""
    w = project(W0.clone())
    shape = (w.shape[0], *([1] * (w.dim() - 1)))
    t = torch.ones(shape, dtype=w.dtype)
    v = w
    for _ in range(steps):
        w_new = project(v - lr * grad(v))
        prod = ((v - w_new) * (w_new - w)).flatten(1).sum(dim=1).reshape(shape)
        t = torch.where(prod > 0, torch.ones_like(t), t)
        t_new = (1 + torch.sqrt(1 + 4 * t * t)) / 2
        v = w_new + (t - 1) / t_new * (w_new - w)
        w, t = w_new, t_new
    return w


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
    W0 = torch.zeros(3, 40, dtype=torch.float64)

    def proj(W):
        return project_l1_ball(W, radii, dim=1)

    W = projected_gradient_descent(grad, proj, W0, lr=1 / L, steps=3000, accelerate=True).W
    torch.testing.assert_close(W, W_ref, atol=1e-9, rtol=0)
    # the multiplier of the L1 constraint is the lasso's alpha: ||grad||_inf = alpha
    torch.testing.assert_close(
        grad(W).abs().amax(dim=1), torch.tensor(alphas.copy()), atol=1e-9, rtol=0
    )
    # the same solution as the former hand-written FISTA loop (which started its momentum one
    # step later, so the iterates differ on the way)
    torch.testing.assert_close(W, _fista_reference(grad, proj, W0, 1 / L, 3000), atol=1e-9, rtol=0)
    Wb = projected_gradient_descent(grad, proj, W0, lr=1 / L, steps=300, accelerate=True).W
    # restarts are per problem: each row alone gives the same iterates
    for k in range(3):
        wk = projected_gradient_descent(
            grad,
            lambda w, k=k: project_l1_ball(w, radii[k : k + 1], dim=1),
            W0[k : k + 1],
            lr=1 / L,
            steps=300,
            accelerate=True,
        ).W
        torch.testing.assert_close(Wb[k : k + 1], wk, atol=1e-12, rtol=0)
    # and plain PGD is slower: after the same 300 steps it is further from the solution
    W_plain = projected_gradient_descent(grad, proj, W0, lr=1 / L, steps=300).W
    assert (W_plain - W_ref).norm() > 3 * (Wb - W_ref).norm()


def test_projected_gradient_descent_checks():
    W0, ident = torch.ones(1, 2), lambda w: w  # noqa: E731
    with pytest.raises(ValueError, match="steps must be >= 1"):
        projected_gradient_descent(ident, ident, W0, lr=0.1, steps=0)
    with pytest.raises(TypeError, match="grad must be a callable"):
        projected_gradient_descent(None, ident, W0, lr=0.1, steps=1)
    with pytest.raises(TypeError, match="project must be a callable"):
        projected_gradient_descent(ident, 3, W0, lr=0.1, steps=1)
    with pytest.raises(ValueError, match="project must return a tensor of W0's shape"):
        projected_gradient_descent(ident, lambda w: w[:, :1], W0, lr=0.1, steps=1)
    with pytest.raises(ValueError, match="W0 must have a first dimension"):
        projected_gradient_descent(ident, ident, torch.tensor(1.0), lr=0.1, steps=1)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"accelerate": "False"}, TypeError, "accelerate must be True or False"),
        ({"accelerate": 0}, TypeError, "accelerate must be True or False"),
        ({"lr": 0.0}, ValueError, "lr must be > 0"),
        ({"lr": -1.0}, ValueError, "lr must be > 0"),
        ({"lr": math.nan}, ValueError, "lr must be finite"),
        ({"lr": True}, TypeError, "lr must be a real number"),
        ({"lr": "0.1"}, TypeError, "lr must be a real number"),
        ({"lr": None}, TypeError, "lr must be a real number"),
        ({"lr": [0.1]}, TypeError, "lr must be a real number"),
        ({"lr": torch.tensor([0.1, -0.1])}, ValueError, "lr must be > 0"),
        ({"lr": torch.ones(3)}, ValueError, "lr must be a number > 0 or one value per row"),
        ({"steps": 2.0}, TypeError, "steps must be an int"),
        ({"steps": True}, TypeError, "steps must be an int"),
        ({"W0": torch.ones(2, 2, dtype=torch.long)}, TypeError, "W0 must have a real floating"),
        ({"W0": torch.ones(2, 2, dtype=torch.complex64)}, TypeError, "W0 must have a real"),
        ({"W0": torch.tensor([[1.0, math.inf]])}, ValueError, "W0 must contain only finite"),
        ({"W0": [[1.0, 2.0]]}, TypeError, "W0 must be a torch.Tensor"),
    ],
)
def test_projected_gradient_descent_bad_inputs(kwargs, error, match):
    args = {"W0": torch.ones(2, 2), "lr": 0.1, "steps": 3} | kwargs
    W0 = args.pop("W0")
    with pytest.raises(error, match=match):
        projected_gradient_descent(
            lambda w: w, lambda w: project_l2_ball(w, 1.0, dim=1), W0, **args
        )


def test_projected_gradient_descent_reports_divergence_instead_of_nan():
    """A too-large lr used to return NaN without a word; now the divergence policy applies."""
    from weightreg.divergence import DivergenceWarning, TrainingDiverged

    grad = lambda W: 1e3 * W  # noqa: E731  L = 1000: lr = 10 diverges
    with pytest.raises(TrainingDiverged, match="lower lr"):
        projected_gradient_descent(grad, lambda w: w, torch.ones(3, 2), lr=10.0, steps=200)
    # radius inf in one row (no constraint): that row diverges, the bounded rows do not
    radii = torch.tensor([[math.inf], [1.0], [2.0]])

    def proj(W):
        return project_l2_ball(W, radii, dim=1)

    with pytest.warns(DivergenceWarning, match="1 of 3 rows diverged"):
        sol = projected_gradient_descent(grad, proj, torch.ones(3, 2), lr=10.0, steps=200)
    assert sol.diverged.tolist() == [True, False, False]
    assert sol.W[0].isnan().all() and sol.W[1:].isfinite().all()


def test_add_param_group_checks_lr_and_project():
    """D8: ProjectedSGD.add_param_group accepted lr = -5."""
    w, b = torch.ones(2, requires_grad=True), torch.ones(1, requires_grad=True)
    opt = ProjectedSGD([w], lr=0.1)
    with pytest.raises(ValueError, match="lr of param group 1 must be > 0"):
        opt.add_param_group({"params": [b], "lr": -5})
    with pytest.raises(TypeError, match="lr of param group 1 must be a real number"):
        opt.add_param_group({"params": [b], "lr": "0.1"})
    with pytest.raises(TypeError, match="project of param group 1 must be a callable"):
        opt.add_param_group({"params": [b], "project": 3})
    assert len(opt.param_groups) == 1
    opt.add_param_group({"params": [b]})  # inherits the checked default lr
    assert opt.param_groups[1]["lr"] == 0.1 and opt.param_groups[1]["project"] is None
    with pytest.raises(ValueError, match="lr of param group 0 must be > 0"):
        ProjectedSGD([{"params": [w], "lr": 0.0}], lr=0.1)
    with pytest.raises(TypeError, match="lr must be a real number"):
        ProjectedSGD([w], lr=True)
    with pytest.raises(TypeError, match="params must be an iterable"):
        ProjectedSGD(None, lr=0.1)
    with pytest.raises(TypeError, match="params must be an iterable"):
        ProjectedSGD(w, lr=0.1)
    with pytest.raises(ValueError, match="params must not be empty"):
        ProjectedSGD([], lr=0.1)


def test_projected_update_names_the_parameter_without_gradient():
    """D8: projected_update raised an opaque TypeError (add_ on None) for a missing gradient."""
    w, b = torch.ones(2, requires_grad=True), torch.ones(1, requires_grad=True)
    w.grad = torch.ones(2)
    up = projected_update([None, None])
    with pytest.raises(ValueError, match=r"params\[1\] has no gradient"):
        up([w, b], 0.1)
    with pytest.raises(TypeError, match="projections must be a sequence"):
        projected_update(lambda w: w)


def test_optimizer_and_hook_take_the_same_step():
    g = torch.Generator().manual_seed(4)
    W0, G = torch.randn(3, 5, generator=g), torch.randn(3, 5, generator=g)
    radii = torch.tensor([[0.1], [1.0], [math.inf]])

    def proj(W):
        return project_l2_ball(W, radii, dim=1)

    a, b = W0.clone().requires_grad_(), W0.clone().requires_grad_()
    a.grad, b.grad = G.clone(), G.clone()
    ProjectedSGD([a], lr=0.3, project=proj).step()
    projected_update([proj])([b], 0.3)
    assert torch.equal(a.detach(), b.detach())  # one step rule
    torch.testing.assert_close(a.detach(), proj(W0 - 0.3 * G))


@pytest.mark.parametrize("p", [1, 2, math.inf])
@pytest.mark.parametrize("dt", [torch.float32, torch.float64])
def test_ball_projection_equals_the_checked_projections(p, dt):
    g = torch.Generator().manual_seed(7)
    W = torch.randn(5, 8, generator=g, dtype=dt) * 2
    radii = torch.tensor([[0.0], [0.5], [1.0], [3.0], [math.inf]])
    project = ball_projection(p, radii, dim=1)
    for _ in range(2):  # the second call takes the cached path
        assert torch.equal(project(W), PROJECTIONS[p](W, radii, dim=1))
    # a new shape is checked again: a radius per row does not fit 4 rows
    with pytest.raises(ValueError, match="radius of shape"):
        project(W[:4])
    whole = ball_projection(p, 1.5)
    assert torch.equal(whole(W), PROJECTIONS[p](W, 1.5))


@pytest.mark.parametrize(
    ("args", "kwargs", "error", "match"),
    [
        ((3, 1.0), {}, ValueError, "p must be one of 1, 2, inf"),
        ((True, 1.0), {}, ValueError, "p must be one of"),
        (("2", 1.0), {}, ValueError, "p must be one of"),
        ((2, -1.0), {}, ValueError, "radius must be >= 0"),
        ((2, math.nan), {}, ValueError, "radius must be a number >= 0 or inf, got NaN"),
        ((2, "1"), {}, TypeError, "radius must be a real number"),
        ((2, torch.tensor([1, 2])), {}, TypeError, "radius must be a real number or a real"),
        ((2, 1.0), {"dim": 1.5}, TypeError, "dim must be None or an int"),
    ],
)
def test_ball_projection_bad_inputs(args, kwargs, error, match):
    with pytest.raises(error, match=match):
        ball_projection(*args, **kwargs)


def test_ball_projection_checks_w_on_first_sight():
    project = ball_projection(2, 1.0, dim=1)
    with pytest.raises(TypeError, match="w must be a torch.Tensor"):
        project([1.0, 2.0])
    with pytest.raises(TypeError, match="w must have a real floating dtype"):
        project(torch.ones(2, 2, dtype=torch.long))
    with pytest.raises(ValueError, match="dim must lie in"):
        project(torch.ones(3))
