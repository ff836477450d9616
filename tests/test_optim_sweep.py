"""The batched grid training of weightreg.optim_sweep against one-by-one loops."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from weightreg.data import digits_split
from weightreg.optim_sweep import (
    SweepResult,
    init_mlp,
    minibatch_order,
    schedule_multipliers,
    sweep,
    sweep_loop,
)

SPLIT = digits_split(64, seed=1, dtype=torch.float64)
SMALL = {"seeds": (0, 3), "hidden": 8, "num_epochs": 3, "batch_size": 16}
GRIDS = {
    "sgd": {"lrs": [0.05, 0.3], "weight_decays": [1e-3, 3e-2]},
    "adam": {"lrs": [3e-3, 3e-2], "weight_decays": [1e-3, 3e-2]},
}


def _max_diff(a, b):
    return max(float((x - y).abs().max()) for x, y in zip(a.params, b.params, strict=True))


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
@pytest.mark.parametrize("decoupled", [False, True])
@pytest.mark.parametrize("schedule", ["cosine", "constant"])
def test_batched_sweep_equals_loop(optimizer, decoupled, schedule):
    kw = {**SMALL, **GRIDS[optimizer], "schedule": schedule}
    batched = sweep(SPLIT, optimizer=optimizer, decoupled=decoupled, **kw)
    loop = sweep_loop(SPLIT, optimizer=optimizer, decoupled=decoupled, **kw)
    assert batched.test_error.shape == (2, 2, 2)
    assert _max_diff(batched, loop) < 1e-12
    assert (
        set(batched.state)
        == set(loop.state)
        == ({"exp_avg", "exp_avg_sq"} if optimizer == "adam" else {"momentum_buffer"})
    )
    for key, stacks in batched.state.items():
        for a, b in zip(stacks, loop.state[key], strict=True):
            torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-13)
    assert batched.steps == loop.steps == 3 * (64 // 16)
    np.testing.assert_array_equal(batched.test_error, loop.test_error)
    np.testing.assert_allclose(batched.train_loss, loop.train_loss, rtol=1e-12)
    # the grid matters: different cells end in different places
    W1 = batched.params[0]
    assert float((W1[0] - W1[-2]).abs().max()) > 1e-3


@pytest.mark.parametrize(
    ("optimizer", "decoupled"), [("sgd", False), ("adam", False), ("adam", True)]
)
def test_batched_sweep_equals_torch_optim_loop(optimizer, decoupled):
    kw = {**SMALL, **GRIDS[optimizer]}
    batched = sweep(SPLIT, optimizer=optimizer, decoupled=decoupled, **kw)
    ref = sweep_loop(SPLIT, optimizer=optimizer, decoupled=decoupled, backend="torch", **kw)
    assert _max_diff(batched, ref) < 1e-12
    for key, stacks in batched.state.items():  # torch.optim's state has the same names
        for a, b in zip(stacks, ref.state[key], strict=True):
            torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-13)


def test_torch_backend_has_no_sgdw():
    with pytest.raises(ValueError, match="no decoupled SGD"):
        sweep_loop(SPLIT, optimizer="sgd", decoupled=True, backend="torch", **SMALL, **GRIDS["sgd"])


def test_configurations_do_not_interact():
    """A cell of a big grid ends exactly where the same configuration trained alone ends."""
    big = sweep(SPLIT, optimizer="adam", decoupled=True, **SMALL, **GRIDS["adam"])
    alone = sweep(
        SPLIT,
        optimizer="adam",
        decoupled=True,
        lrs=[3e-2],
        weight_decays=[1e-3],
        **{**SMALL, "seeds": (3,)},
    )
    c = (1 * 2 + 0) * 2 + 1  # i_lr = 1, i_wd = 0, i_seed = 1
    for p_big, p_alone in zip(big.params, alone.params, strict=True):
        torch.testing.assert_close(p_big[c], p_alone[0], rtol=1e-13, atol=1e-14)


def test_paper_and_torch_conventions():
    """Paper lambda at base lr alpha is PyTorch weight_decay lambda / alpha."""
    lr, lam = 0.03, 0.01
    kw = {**SMALL, "lrs": [lr]}
    paper = sweep(SPLIT, optimizer="adam", decoupled=True, weight_decays=[lam], **kw)
    torch_ = sweep(
        SPLIT,
        optimizer="adam",
        decoupled=True,
        weight_decays=[lam / lr],
        decay_convention="torch",
        **kw,
    )
    assert _max_diff(paper, torch_) < 1e-13
    # for coupled L2 the convention is irrelevant
    a = sweep(SPLIT, optimizer="adam", decoupled=False, weight_decays=[lam], **kw)
    b = sweep(
        SPLIT,
        optimizer="adam",
        decoupled=False,
        weight_decays=[lam],
        decay_convention="torch",
        **kw,
    )
    assert _max_diff(a, b) == 0.0


def test_biases_are_not_decayed():
    """A tiny lr with lr * weight_decay = 1 (PyTorch's convention): W vanishes, b stays."""
    lr = 2.0**-60
    res = sweep(
        SPLIT,
        optimizer="sgd",
        decoupled=True,
        lrs=[lr],
        weight_decays=[1 / lr],
        decay_convention="torch",
        schedule="constant",
        momentum=0.0,
        **{**SMALL, "seeds": (0,)},
    )
    W1, b1, W2, b2 = (p[0] for p in res.params)
    init = init_mlp(SPLIT.num_inputs, 8, 10, 0, dtype=torch.float64)
    assert float(W1.abs().max()) < 1e-15 and float(W2.abs().max()) < 1e-15
    assert float(init[0].abs().max()) > 0.1
    torch.testing.assert_close(b1, init[1], rtol=0, atol=1e-15)
    torch.testing.assert_close(b2, init[3], rtol=0, atol=1e-15)


def test_divergence_is_flagged_and_contained():
    res = sweep(
        SPLIT,
        optimizer="sgd",
        decoupled=False,
        lrs=[0.05, 1e15],
        weight_decays=[0.0, 1e15],
        **SMALL,
    )
    assert res.diverged[1, 1].all() and not res.diverged[0, 0].any()
    assert np.isnan(res.test_error[1, 1]).all() and np.isfinite(res.test_error[0, 0]).all()
    lr, wd, err = res.best()
    assert not np.isnan(err) and err == pytest.approx(np.nanmin(res.mean_error()))


def test_minibatch_order():
    order = minibatch_order(50, 16, 3, seed=7)
    assert order.shape == (9, 16)
    for epoch in range(3):
        rows = order[3 * epoch : 3 * epoch + 3].flatten()
        assert len(set(rows.tolist())) == 48  # no row twice within an epoch
        assert int(rows.min()) >= 0 and int(rows.max()) < 50
    assert torch.equal(order, minibatch_order(50, 16, 3, seed=7))
    assert not torch.equal(order, minibatch_order(50, 16, 3, seed=8))
    assert not torch.equal(order[:3], order[3:6])  # reshuffled every epoch
    with pytest.raises(ValueError, match="batch_size must be <= 50"):
        minibatch_order(50, 51, 1, seed=0)


def test_init_mlp_bounds_and_determinism():
    W1, b1, W2, b2 = init_mlp(64, 20, 10, seed=5, dtype=torch.float64)
    assert W1.shape == (64, 20) and b1.shape == (1, 20) and W2.shape == (20, 10)
    assert float(W1.abs().max()) <= 1 / 8 and float(b2.abs().max()) <= 1 / np.sqrt(20)
    assert float(W1.abs().max()) > 0.9 / 8  # uses the whole interval
    again = init_mlp(64, 20, 10, seed=5, dtype=torch.float64)
    assert all(torch.equal(a, b) for a, b in zip((W1, b1, W2, b2), again, strict=True))


def test_schedule_multipliers():
    cos = schedule_multipliers(10, "cosine")
    assert cos[0] == 1.0 and all(a > b > 0 for a, b in zip(cos, cos[1:], strict=False))
    assert cos[5] == pytest.approx(0.5)
    assert schedule_multipliers(4, "constant") == [1.0] * 4
    with pytest.raises(ValueError, match="schedule must be"):
        schedule_multipliers(4, "linear")


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"lrs": [-0.1]}, r"lrs\[0\] must be > 0"),
        ({"weight_decays": [-1e-3]}, "weight_decays must be finite and >= 0"),
        ({"optimizer": "rmsprop"}, "optimizer must be 'sgd' or 'adam'"),
        ({"decay_convention": "keras"}, "decay_convention must be"),
        ({"momentum": 1.0}, r"momentum must lie in \[0, 1\)"),
        ({"betas": (0.9, 1.0)}, r"betas\[1\] must lie in \[0, 1\)"),
        ({"seeds": (-1,)}, r"seeds\[0\] must be an int >= 0"),
        ({"batch_size": 100}, "batch_size must be <= 64"),
        ({"lrs": []}, "must each list at least one value"),
    ],
)
def test_bad_input(kwargs, match):
    args = {"optimizer": "sgd", "decoupled": False, **SMALL, **GRIDS["sgd"], **kwargs}
    with pytest.raises(ValueError, match=match):
        sweep(SPLIT, **args)


def _synthetic(slope: float, offset: float = -0.5) -> SweepResult:
    """A grid whose error is a parabola in log10(wd) centred on slope * log10(lr) + offset."""
    lrs, wds = np.logspace(-3, 0, 7), np.logspace(-4, 0, 9)
    L, Wd = np.meshgrid(np.log10(lrs), np.log10(wds), indexing="ij")
    err = 0.1 + 0.05 * (Wd - (slope * L + offset)) ** 2 + 0.01 * (L + 1.5) ** 2
    err = err[..., None]
    return SweepResult(lrs, wds, (0,), err, err, np.zeros(err.shape, dtype=bool), [], 0.0)


@pytest.mark.parametrize(("slope", "offset"), [(0.0, -0.5), (0.5, -0.5), (1.0, -0.5), (-0.4, -1.5)])
def test_ridge_slope_recovers_the_valley(slope, offset):
    res = _synthetic(slope, offset)
    lrs, decays = res.best_decays(within=10.0)
    assert len(lrs) == 7
    np.testing.assert_allclose(np.log10(decays), slope * np.log10(lrs) + offset, atol=1e-9)
    assert res.ridge_slope(within=10.0) == pytest.approx(slope, abs=1e-9)


def test_best_decays_keeps_only_good_rows_and_checks_input():
    res = _synthetic(0.0)
    lrs, _ = res.best_decays(within=0.0)
    assert lrs.tolist() == [res.lrs[np.argmin(np.abs(np.log10(res.lrs) + 1.5))]]
    assert np.isnan(res.ridge_slope(within=0.0))  # one good row: no slope
    lrs, _ = res.best_decays(within=0.05)
    assert 1 < len(lrs) < 7
    bad = SweepResult(
        res.lrs,
        np.array([0.0, 1e-3, 1e-2]),
        (0,),
        res.test_error[:, :3],
        res.train_loss[:, :3],
        res.diverged[:, :3],
        [],
        0.0,
    )
    with pytest.raises(ValueError, match="at least 3 weight decays, all > 0"):
        bad.best_decays()
    with pytest.raises(ValueError, match="within must be >= 0"):
        res.best_decays(within=-1.0)


def test_bench_script_agrees_and_ends_with_the_speed_up(capsys):
    """`make bench` runs bench/sweep.py: it checks agreement and prints `speed-up: N.Nx` last."""
    import importlib.util
    import re
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "bench" / "sweep.py"
    spec = importlib.util.spec_from_file_location("bench_sweep", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    code = bench.main(["--epochs", "1", "--n-train", "64", "--optimizers", "adam"])
    lines = capsys.readouterr().out.strip().splitlines()
    assert code == 0
    assert "agreement (float64): OK" in lines[-2]
    assert re.fullmatch(r"speed-up: \d+\.\dx", lines[-1])
