"""Tests of weightreg.penalties.prox_elastic_net: brute force, composition, scikit-learn."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from weightreg.penalties import prox_elastic_net, prox_l1, prox_l2

pytestmark = pytest.mark.usefixtures("float64_default")

floats = st.floats(-20, 20, allow_nan=False, allow_infinity=False, allow_subnormal=False)
ts = st.floats(0, 10, allow_nan=False, allow_infinity=False)
rhos = st.floats(0, 1, allow_nan=False)


def _objective(x: np.ndarray, z: float, t: float, rho: float) -> np.ndarray:
    return 0.5 * (x - z) ** 2 + t * (rho * np.abs(x) + (1 - rho) / 2 * x**2)


@pytest.mark.parametrize("rho", [0.0, 0.3, 0.7, 1.0])
@pytest.mark.parametrize("t", [0.0, 0.4, 2.5])
def test_matches_grid_minimization(rho, t):
    """Brute force: the minimizer on a fine grid (spacing 1e-4) around the closed form."""
    z = torch.linspace(-3, 3, 25)
    out = prox_elastic_net(z, t, rho)
    grid = np.linspace(-4, 4, 80_001)
    for zi, xi in zip(z.tolist(), out.tolist(), strict=True):
        values = _objective(grid, zi, t, rho)
        assert abs(grid[values.argmin()] - xi) <= 1e-4
        assert _objective(np.array(xi), zi, t, rho) <= values.min() + 1e-12


@settings(max_examples=200, deadline=None)
@given(z=floats, t=ts, rho=rhos)
def test_is_soft_threshold_then_scaling(z, t, rho):
    zt = torch.tensor([z])
    expected = prox_l2(prox_l1(zt, t * rho), t * (1 - rho))
    assert torch.allclose(prox_elastic_net(zt, t, rho), expected, rtol=1e-14, atol=1e-15)


@settings(max_examples=200, deadline=None)
@given(z=floats, t=ts, rho=rhos)
def test_optimality_condition(z, t, rho):
    """0 is in the subdifferential: x - z + t (rho * s + (1 - rho) x), s in sign(x)."""
    x = float(prox_elastic_net(torch.tensor([z]), t, rho)[0])
    r = x - z + t * (1 - rho) * x
    if x != 0:
        assert abs(r + t * rho * np.sign(x)) <= 1e-10 * (1 + abs(z))
    else:
        assert abs(z) <= t * rho + 1e-12


def test_endpoints_and_zeros():
    z = torch.tensor([-2.0, -0.5, 0.0, 0.5, 2.0])
    assert torch.equal(prox_elastic_net(z, 0.7, 1.0), prox_l1(z, 0.7))
    assert torch.allclose(prox_elastic_net(z, 0.7, 0.0), prox_l2(z, 0.7))
    assert torch.equal(prox_elastic_net(z, 0.0, 0.4), z)
    out = prox_elastic_net(z, 1.0, 0.6)  # threshold 0.6: |z| <= 0.6 -> exact zero
    assert (out[1:4] == 0).all() and (out[[0, 4]] != 0).all()


def test_per_row_tensors():
    Z = torch.randn(3, 5, generator=torch.Generator().manual_seed(0))
    t = torch.tensor([[0.1], [0.5], [1.0]])
    rho = torch.tensor([[0.0], [0.5], [1.0]])
    out = prox_elastic_net(Z, t, rho)
    for i in range(3):
        assert torch.allclose(out[i], prox_elastic_net(Z[i], float(t[i]), float(rho[i])))


def test_proximal_gradient_matches_sklearn_elastic_net():
    """ISTA with this prox (t = lr * a) converges to sklearn's ElasticNet without intercept."""
    from sklearn.linear_model import ElasticNet

    g = torch.Generator().manual_seed(1)
    n, d, a, rho = 40, 12, 0.1, 0.4
    X = torch.randn(n, d, generator=g)
    y = X[:, :3].sum(1) + 0.3 * torch.randn(n, generator=g)
    lr = 1 / float(torch.linalg.eigvalsh(X.T @ X / n).max())
    w = torch.zeros(d)
    for _ in range(5000):
        w = prox_elastic_net(w - lr * X.T @ (X @ w - y) / n, lr * a, rho)
    sk = ElasticNet(alpha=a, l1_ratio=rho, fit_intercept=False, tol=1e-14, max_iter=100_000)
    sk.fit(X.numpy(), y.numpy())
    assert np.abs(sk.coef_ - w.numpy()).max() < 1e-9
    assert (sk.coef_ == 0).any()


@pytest.mark.parametrize(
    "args, match",
    [
        ((torch.ones(3), -0.1, 0.5), "t"),
        ((torch.ones(3), 0.1, 1.5), "l1_ratio"),
        ((torch.ones(3), 0.1, -0.1), "l1_ratio"),
        ((torch.ones(3), 0.1, torch.tensor([[0.2], [1.2], [0.1]])), "l1_ratio"),
        ((torch.tensor([1.0, float("nan")]), 0.1, 0.5), "z"),
    ],
)
def test_bad_input(args, match):
    with pytest.raises(ValueError, match=match):
        prox_elastic_net(*args)
