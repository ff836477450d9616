"""weightreg.normalization: the equilibrium predictions against the simulated model, the
simulator against torch.optim.SGD / torch.optim.AdamW, and the exponential schedule."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from weightreg.normalization import (
    EquilibriumRun,
    _gradient_noise,
    _initial_weights,
    _orthogonal_gradient,
    adamw_equilibrium_norm,
    angle,
    equilibrium_angle,
    exponential_lr_schedule,
    sgd_equilibrium_norm,
    simulate_equilibrium,
)

F64 = torch.float64


def test_closed_forms():
    assert equilibrium_angle("sgd", 0.1, 0.01) == pytest.approx(math.sqrt(2e-3))
    assert equilibrium_angle("sgd", 0.1, 0.01, momentum=0.9) == pytest.approx(math.sqrt(2e-3 / 1.9))
    assert equilibrium_angle("adamw", 1e-3, 1.0, betas=(0.0, 0.999)) == pytest.approx(
        math.sqrt(2e-3)
    )
    assert equilibrium_angle("adamw", 1e-3, 1.0) == pytest.approx(math.sqrt(2e-3 * 0.1 / 1.9))
    assert adamw_equilibrium_norm(1e-3, 0.5, 1000) == pytest.approx(1.0)
    assert sgd_equilibrium_norm(0.1, 0.05, 1.0) == pytest.approx(1.0)


@settings(max_examples=60, deadline=None)
@given(
    lr=st.floats(1e-4, 1.0),
    wd=st.floats(1e-4, 0.9),
    mu=st.floats(0.0, 0.99),
    b1=st.floats(0.0, 0.99),
    c=st.floats(1.1, 100.0),
)
def test_scaling_properties(lr, wd, mu, b1, c):
    """The angle depends on eta * lambda only; AdamW's norm scales as sqrt(eta / lambda);
    momentum and beta1 only shrink the angle; beta1 never changes AdamW's norm."""
    if lr * wd * c >= 1:
        return
    for opt in ("sgd", "adamw"):
        a = equilibrium_angle(opt, lr, wd, momentum=mu, betas=(b1, 0.999))
        assert equilibrium_angle(opt, lr * c, wd / c, momentum=mu, betas=(b1, 0.999)) == (
            pytest.approx(a, rel=1e-12)
        )
        assert a <= equilibrium_angle(opt, lr, wd) * (1 + 1e-12) or opt == "adamw"
        assert a <= math.sqrt(2 * lr * wd) * (1 + 1e-12)
    n = adamw_equilibrium_norm(lr, wd, 100)
    assert adamw_equilibrium_norm(lr * c, wd, 100) == pytest.approx(n * math.sqrt(c))
    assert adamw_equilibrium_norm(lr, wd / c, 100) == pytest.approx(n * math.sqrt(c))


def test_predictions_match_the_simulated_model():
    """Every prediction within 3% of the simulated model, averaged over the last 40%."""
    C = 256
    lrs, wds = (0.05, 0.2, 0.1), (0.02, 0.01, 0.04)
    for mu in (0.0, 0.9):
        run = simulate_equilibrium(
            "sgd", lrs, wds, momentum=mu, num_entries=C, steps=1500, seeds=(0, 1)
        )
        angle, norm = run.tail_means(0.4)
        for r, (lr, wd) in enumerate(zip(lrs, wds, strict=True)):
            pa = equilibrium_angle("sgd", lr, wd, momentum=mu)
            pn = sgd_equilibrium_norm(lr, wd, math.sqrt(C - 1), momentum=mu)
            assert torch.allclose(angle[r], torch.full_like(angle[r], pa), rtol=0.03)
            assert torch.allclose(norm[r], torch.full_like(norm[r], pn), rtol=0.03)
    lrs, wds = (2e-3, 4e-3, 1e-3), (1.0, 0.5, 2.0)
    for b1 in (0.0, 0.9):
        run = simulate_equilibrium(
            "adamw",
            lrs,
            wds,
            betas=(b1, 0.99),
            num_entries=C,
            steps=3000,
            seeds=(0, 1),
            init_norm=0.5,
        )
        angle, norm = run.tail_means(0.4)
        for r, (lr, wd) in enumerate(zip(lrs, wds, strict=True)):
            pa = equilibrium_angle("adamw", lr, wd, betas=(b1, 0.99))
            pn = adamw_equilibrium_norm(lr, wd, C)
            assert torch.allclose(angle[r], torch.full_like(angle[r], pa), rtol=0.03), b1
            assert torch.allclose(norm[r], torch.full_like(norm[r], pn), rtol=0.03), b1


def _torch_run(optimizer, lr, wd, seed, steps, C, momentum=0.0, betas=(0.9, 0.999)):
    """The same model stepped by torch.optim, one configuration and one seed at a time."""
    w0, gens = _initial_weights((seed,), C, 1.0, F64)
    w = torch.nn.Parameter(w0[0].clone())
    if optimizer == "sgd":
        opt = torch.optim.SGD([w], lr=lr, momentum=momentum, weight_decay=wd)
    else:
        opt = torch.optim.AdamW([w], lr=lr, betas=betas, weight_decay=wd)
    norms, angles = [w.detach().norm()], []
    for z in _gradient_noise(gens, steps, C, F64):
        before = w.detach().clone()
        w.grad = _orthogonal_gradient(before, z[0], before.norm())
        opt.step()
        norms.append(w.detach().norm())
        a, b = before / before.norm(), w.detach() / w.detach().norm()
        angles.append(torch.acos(torch.clamp(a @ b, -1.0, 1.0)))
    return torch.stack(norms), torch.stack(angles)


@pytest.mark.parametrize(
    ("optimizer", "kw"),
    [("sgd", {"momentum": 0.9}), ("sgd", {}), ("adamw", {"betas": (0.8, 0.99)})],
)
def test_simulator_equals_torch_optim(optimizer, kw):
    lrs, wds, seeds, steps, C = (0.05, 0.3), (0.02, 0.001), (3, 7), 300, 16
    if optimizer == "adamw":
        lrs, wds = (1e-2, 3e-3), (0.5, 2.0)
    run = simulate_equilibrium(optimizer, lrs, wds, num_entries=C, steps=steps, seeds=seeds, **kw)
    assert isinstance(run, EquilibriumRun)
    assert run.norms.shape == (2, 2, steps + 1) and run.angles.shape == (2, 2, steps)
    for r in range(2):
        for s, seed in enumerate(seeds):
            norms, angles = _torch_run(optimizer, lrs[r], wds[r], seed, steps, C, **kw)
            torch.testing.assert_close(run.norms[r, s], norms, rtol=1e-10, atol=1e-12)
            # acos is the independent (less accurate) formula: 1e-7 absolute
            torch.testing.assert_close(run.angles[r, s], angles, rtol=0, atol=1e-7)


def test_seed_streams_do_not_depend_on_other_seeds_or_configurations():
    a = simulate_equilibrium("adamw", 1e-2, 0.5, num_entries=8, steps=300, seeds=(4,))
    b = simulate_equilibrium("adamw", (3e-3, 1e-2), 0.5, num_entries=8, steps=300, seeds=(1, 4))
    torch.testing.assert_close(a.norms[0, 0], b.norms[1, 1], rtol=0, atol=0)


def test_orthogonal_gradient_properties():
    gen = torch.Generator().manual_seed(0)
    w = torch.randn(5, 7, generator=gen, dtype=F64)
    z = torch.randn(5, 7, generator=gen, dtype=F64)

    def grad(w):
        return _orthogonal_gradient(w, z, w.norm(dim=-1, keepdim=True))

    g = grad(w)
    assert (g * w).sum(-1).abs().max() < 1e-12
    torch.testing.assert_close(grad(3 * w), g / 3)


def test_bad_input_is_rejected():
    with pytest.raises(ValueError, match="optimizer"):
        equilibrium_angle("adam", 0.1, 0.1)
    with pytest.raises(ValueError, match="weight_decay"):
        equilibrium_angle("sgd", 0.1, 0.0)
    with pytest.raises(ValueError, match="lr \\* weight_decay"):
        adamw_equilibrium_norm(2.0, 1.0, 10)
    with pytest.raises(TypeError, match="betas"):
        equilibrium_angle("adamw", 0.1, 0.1, betas=0.9)
    with pytest.raises(ValueError, match="momentum"):
        equilibrium_angle("sgd", 0.1, 0.1, momentum=1.0)
    with pytest.raises(TypeError, match="num_entries"):
        adamw_equilibrium_norm(0.1, 0.1, 10.0)
    with pytest.raises(ValueError, match="one length"):
        simulate_equilibrium("sgd", (0.1, 0.2), (0.1, 0.2, 0.3))
    with pytest.raises(TypeError, match="seeds"):
        simulate_equilibrium("sgd", 0.1, 0.1, seeds=3)


def test_exponential_lr_schedule_brute_force():
    lr, wd = 0.1, 0.3
    out = exponential_lr_schedule(lr, wd, 5)
    expected = torch.tensor([lr * (1 - lr * wd) ** (-2 * t - 1) for t in range(5)], dtype=F64)
    torch.testing.assert_close(out, expected, rtol=1e-14, atol=0)


def test_angle_agrees_with_acos_and_stays_accurate_for_tiny_angles():
    """angle = acos of the cosine for moderate angles; exact where acos rounds to 0."""
    gen = torch.Generator().manual_seed(3)
    a = torch.randn(4, 5, 7, generator=gen, dtype=torch.float64)
    b = torch.randn(4, 5, 7, generator=gen, dtype=torch.float64)
    cos = (a * b).sum(-1) / (a.norm(dim=-1) * b.norm(dim=-1))
    torch.testing.assert_close(angle(a, b), torch.acos(cos), rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(angle(3 * a, b / 2), angle(a, b), rtol=1e-13, atol=0)
    # a tiny rotation in a plane: the angle is exactly phi, acos of the cosine gives 0
    phi = 1e-10
    u = torch.tensor([1.0, 0.0, 0.0], dtype=torch.float64)
    v = torch.tensor([math.cos(phi), math.sin(phi), 0.0], dtype=torch.float64)
    assert abs(float(angle(u, 2 * v)) - phi) < 1e-20
    assert float(torch.acos(torch.clamp(u @ v, -1, 1))) == 0.0
    assert abs(float(angle(u, -u)) - math.pi) < 1e-15


def test_angle_refuses_zero_vectors_and_mismatched_shapes():
    with pytest.raises(ValueError, match="zero vectors"):
        angle(torch.zeros(2, 3, dtype=torch.float64), torch.ones(2, 3, dtype=torch.float64))
    with pytest.raises(ValueError, match="same shape"):
        angle(torch.ones(2, 3, dtype=torch.float64), torch.ones(3, 2, dtype=torch.float64))
