"""The batched grid training of weightreg.optim_sweep against one-by-one loops and vmap."""

from __future__ import annotations

import dataclasses
import re
import warnings

import numpy as np
import pytest
import torch
from sweep_reference import sweep_loop, sweep_vmap

from weightreg.data import Split, digits_split
from weightreg.divergence import DivergenceWarning, TrainingDiverged
from weightreg.optim_sweep import (
    SweepConfig,
    SweepResult,
    init_mlp,
    minibatch_order,
    schedule_multipliers,
    sweep,
)
from weightreg.seeding import streams

SPLIT = digits_split(64, seed=1, dtype=torch.float64)
SMALL = {"seeds": (0, 3), "hidden": 8, "num_epochs": 3, "batch_size": 16}
GRIDS = {
    "sgd": {"lrs": [0.05, 0.3], "weight_decays": [1e-3, 3e-2]},
    "adam": {"lrs": [3e-3, 3e-2], "weight_decays": [1e-3, 3e-2]},
}


def _config(**kw) -> SweepConfig:
    return SweepConfig(**kw)


def _max_diff(a, b):
    return max(float((x - y).abs().max()) for x, y in zip(a.params, b.params, strict=True))


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
@pytest.mark.parametrize("decoupled", [False, True])
@pytest.mark.parametrize("schedule", ["cosine", "constant"])
def test_batched_sweep_equals_loop(optimizer, decoupled, schedule):
    config = SweepConfig(
        optimizer=optimizer, decoupled=decoupled, schedule=schedule, **SMALL, **GRIDS[optimizer]
    )
    batched = sweep(SPLIT, config)
    loop = sweep_loop(SPLIT, config)
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
    config = SweepConfig(optimizer=optimizer, decoupled=decoupled, **SMALL, **GRIDS[optimizer])
    batched = sweep(SPLIT, config)
    ref = sweep_loop(SPLIT, config, backend="torch")
    assert _max_diff(batched, ref) < 1e-12
    for key, stacks in batched.state.items():  # torch.optim's state has the same names
        for a, b in zip(stacks, ref.state[key], strict=True):
            torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-13)


def test_torch_backend_has_no_sgdw():
    with pytest.raises(ValueError, match="no decoupled SGD"):
        sweep_loop(
            SPLIT,
            SweepConfig(optimizer="sgd", decoupled=True, **SMALL, **GRIDS["sgd"]),
            backend="torch",
        )


def test_configurations_do_not_interact():
    """A cell of a big grid ends exactly where the same configuration trained alone ends."""
    config = SweepConfig(optimizer="adam", decoupled=True, **SMALL, **GRIDS["adam"])
    big = sweep(SPLIT, config)
    alone = sweep(SPLIT, dataclasses.replace(config, lrs=[3e-2], weight_decays=[1e-3], seeds=(3,)))
    c = (1 * 2 + 0) * 2 + 1  # i_lr = 1, i_wd = 0, i_seed = 1
    for p_big, p_alone in zip(big.params, alone.params, strict=True):
        torch.testing.assert_close(p_big[c], p_alone[0], rtol=1e-13, atol=1e-14)


def test_paper_and_torch_conventions():
    """Paper lambda at base lr alpha is PyTorch weight_decay lambda / alpha."""
    lr, lam = 0.03, 0.01
    base = SweepConfig(optimizer="adam", decoupled=True, lrs=[lr], weight_decays=[lam], **SMALL)
    paper = sweep(SPLIT, base)
    torch_ = sweep(
        SPLIT, dataclasses.replace(base, weight_decays=[lam / lr], decay_convention="torch")
    )
    assert _max_diff(paper, torch_) < 1e-13
    # for coupled L2 the convention is irrelevant
    a = sweep(SPLIT, dataclasses.replace(base, decoupled=False))
    b = sweep(SPLIT, dataclasses.replace(base, decoupled=False, decay_convention="torch"))
    assert _max_diff(a, b) == 0.0


def test_biases_are_not_decayed():
    """A tiny lr with lr * weight_decay = 1 (PyTorch's convention): W vanishes, b stays."""
    lr = 2.0**-60
    config = SweepConfig(
        optimizer="sgd",
        decoupled=True,
        lrs=[lr],
        weight_decays=[1 / lr],
        decay_convention="torch",
        schedule="constant",
        momentum=0.0,
        **{**SMALL, "seeds": (0,)},
    )
    res = sweep(SPLIT, config)
    W1, b1, W2, b2 = (p[0] for p in res.params)
    init = init_mlp(SPLIT.num_inputs, 8, 10, 0, dtype=torch.float64)
    assert float(W1.abs().max()) < 1e-15 and float(W2.abs().max()) < 1e-15
    assert float(init[0].abs().max()) > 0.1
    torch.testing.assert_close(b1, init[1], rtol=0, atol=1e-15)
    torch.testing.assert_close(b2, init[3], rtol=0, atol=1e-15)


def test_divergence_is_flagged_and_contained():
    config = SweepConfig(
        optimizer="sgd",
        decoupled=False,
        lrs=[0.05, 1e15],
        weight_decays=[0.0, 1e15],
        **SMALL,
    )
    with pytest.warns(DivergenceWarning, match=r"diverged.*lr=1e\+15.*lower the learning rate"):
        res = sweep(SPLIT, config)
    assert res.diverged[1, 1].all() and not res.diverged[0, 0].any()
    assert np.isnan(res.test_error[1, 1]).all() and np.isfinite(res.test_error[0, 0]).all()
    lr, wd, err = res.best()
    assert not np.isnan(err) and err == pytest.approx(np.nanmin(res.mean_error()))
    # the healthy configurations are untouched by their diverged neighbours
    alone = sweep(SPLIT, dataclasses.replace(config, lrs=[0.05], weight_decays=[0.0]))
    for p_all, p_alone in zip(res.params, alone.params, strict=True):
        torch.testing.assert_close(p_all[:2], p_alone, rtol=1e-13, atol=1e-14)


def test_finite_blowup_is_divergence():
    """lrs=[1e4] used to end at a train loss of 2.8e35 with diverged=False."""
    config = SweepConfig(
        optimizer="sgd", decoupled=False, lrs=[0.1, 1e4], weight_decays=[0.0], **SMALL
    )
    with pytest.warns(DivergenceWarning, match="2 of 4 configurations diverged"):
        res = sweep(SPLIT, config)
    assert res.diverged[1].all() and not res.diverged[0].any()
    assert np.isnan(res.train_loss[1]).all() and np.all(res.train_loss[0] < 10)
    assert all(torch.isnan(p[2:]).all() for p in res.params)  # frozen and reported as NaN


def test_all_diverged_raises():
    config = SweepConfig(optimizer="sgd", decoupled=False, lrs=[1e4], weight_decays=[0.0], **SMALL)
    with pytest.raises(TrainingDiverged, match="every one of the 2 configurations diverged"):
        sweep(SPLIT, config)


def test_no_warning_when_nothing_diverges():
    config = SweepConfig(optimizer="adam", decoupled=True, **SMALL, **GRIDS["adam"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = sweep(SPLIT, config)
    assert not res.diverged.any()


@pytest.mark.parametrize("part", ["X_train", "X_test"])
def test_nan_in_the_data_is_bad_data_not_divergence(part):
    X = getattr(SPLIT, part).clone()
    X[3, 5] = float("nan")
    bad = dataclasses.replace(SPLIT, **{part: X})
    config = SweepConfig(optimizer="sgd", decoupled=False, **SMALL, **GRIDS["sgd"])
    with pytest.raises(ValueError, match=f"split.{part} must contain only finite values"):
        sweep(SPLIT if part is None else bad, config)


def test_bad_labels_and_split_type():
    config = SweepConfig(optimizer="sgd", decoupled=False, **SMALL, **GRIDS["sgd"])
    floats = dataclasses.replace(SPLIT, y_train=SPLIT.y_train.to(torch.float64))
    with pytest.raises(TypeError, match="y_train must be an integer"):
        sweep(floats, config)
    with pytest.raises(TypeError, match="split must be a weightreg.data.Split"):
        sweep((SPLIT.X_train, SPLIT.y_train), config)
    with pytest.raises(TypeError, match="config must be a SweepConfig"):
        sweep(SPLIT, {"optimizer": "sgd"})
    assert isinstance(SPLIT, Split)


def test_seeding_uses_independent_streams():
    """Initial weights and batch order come from streams(seed).init and .shuffle."""
    W1 = init_mlp(64, 8, 10, 4, dtype=torch.float64)[0]
    u = torch.rand((64, 8), generator=streams(4).init, dtype=torch.float64)
    torch.testing.assert_close(W1, (2 * u - 1) / 8, rtol=0, atol=1e-17)
    order = minibatch_order(40, 8, 1, seed=4)
    expected = torch.randperm(40, generator=streams(4).shuffle)[:40].reshape(5, 8)
    assert torch.equal(order, expected)


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
    ("kwargs", "exc", "match"),
    [
        ({"lrs": [-0.1]}, ValueError, r"lrs\[0\] must be > 0"),
        ({"lrs": [0.0]}, ValueError, r"lrs\[0\] must be > 0"),
        ({"weight_decays": [-1e-3]}, ValueError, r"weight_decays\[0\] must be >= 0"),
        ({"optimizer": "rmsprop"}, ValueError, "optimizer must be one of"),
        ({"decay_convention": "keras"}, ValueError, "decay_convention must be one of"),
        ({"schedule": "linear"}, ValueError, "schedule must be one of"),
        ({"momentum": 1.0}, ValueError, r"momentum must lie in \[0, 1\)"),
        ({"betas": (0.9, 1.0)}, ValueError, r"betas\[1\] must lie in \[0, 1\)"),
        ({"seeds": (-1,)}, ValueError, r"seeds\[0\] must be >= 0"),
        ({"seeds": (None,)}, TypeError, r"seeds\[0\] must be an int >= 0, got None"),
        ({"lrs": []}, ValueError, "lrs must list at least one value"),
        ({"lrs": 0.1}, TypeError, "lrs must be a sequence"),
        ({"decoupled": "False"}, TypeError, "decoupled must be True or False"),
        ({"hidden": 0}, ValueError, "hidden must be >= 1"),
        ({"eps": 0.0}, ValueError, "eps must be > 0"),
        ({"dtype": torch.int64}, TypeError, "dtype must be torch.float32 or torch.float64"),
    ],
)
def test_bad_config(kwargs, exc, match):
    args = {"optimizer": "sgd", "decoupled": False, **SMALL, **GRIDS["sgd"], **kwargs}
    with pytest.raises(exc, match=match):
        SweepConfig(**args)


def test_batch_size_larger_than_the_data():
    config = SweepConfig(
        optimizer="sgd", decoupled=False, **{**SMALL, "batch_size": 100}, **GRIDS["sgd"]
    )
    with pytest.raises(ValueError, match="batch_size must be <= 64"):
        sweep(SPLIT, config)


def test_config_is_normalized_and_hashable():
    config = SweepConfig(
        optimizer="adam", decoupled=True, lrs=np.array([1e-3, 1e-2]), weight_decays=[0, 1]
    )
    assert config.lrs == (1e-3, 1e-2) and config.weight_decays == (0.0, 1.0)
    assert config.shape == (2, 2, 3) and len(config.grid()) == 12
    assert hash(config) == hash(dataclasses.replace(config))
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.hidden = 3


def test_init_mlp_refuses_integer_dtype_and_bad_seed():
    with pytest.raises(TypeError, match="dtype must be torch.float32 or torch.float64"):
        init_mlp(4, 3, 2, 0, dtype=torch.int64)
    with pytest.raises(TypeError, match="seed must be an int >= 0, got None"):
        init_mlp(4, 3, 2, None, dtype=torch.float64)


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


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_vmap_reference_equals_sweep(optimizer):
    """PyTorch's own ensembling recipe (stack_module_state + vmap) trains the same networks."""
    config = SweepConfig(optimizer=optimizer, decoupled=True, **SMALL, **GRIDS[optimizer])
    ours, ref = sweep(SPLIT, config), sweep_vmap(SPLIT, config)
    assert _max_diff(ours, ref) < 1e-12
    np.testing.assert_array_equal(ours.test_error, ref.test_error)
    for key, stacks in ours.state.items():
        for a, b in zip(stacks, ref.state[key], strict=True):
            torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-13)


def test_bench_script_runs_and_its_three_implementations_agree(capsys):
    """`make bench` runs bench/sweep.py: loop, vmap and ours agree (float64) and it prints the
    table with the roofline."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "bench" / "sweep.py"
    spec = importlib.util.spec_from_file_location("bench_sweep", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    code = bench.main(["--epochs", "1", "--n-train", "64", "--optimizers", "adam", "--repeat", "1"])
    out = capsys.readouterr().out
    assert code == 0
    assert "agreement (float64): OK" in out
    for name in ("loop", "vmap", "ours", "roofline"):
        assert re.search(rf"^{name}\s+\d+\.\d+ s\s+\d+\.\d+ GFLOP/s", out, re.M), name


# --- regularizers without a penalty: dropout, input dropout, label smoothing, history --------


@pytest.mark.parametrize(
    "extra",
    [
        {"dropout": 0.5},
        {"input_dropout": 0.2},
        {"label_smoothing": 0.1},
        {"dropout": 0.3, "input_dropout": 0.1, "label_smoothing": 0.2},
    ],
    ids=["dropout", "input_dropout", "label_smoothing", "all"],
)
@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_sweep_with_regularizers_equals_the_autograd_loop(extra, optimizer):
    """The hand-written backward through the masks and the smoothed targets is autograd's,
    with PyTorch's cross_entropy(label_smoothing=...) as the loss and the same masks."""
    config = SweepConfig(optimizer=optimizer, decoupled=False, **SMALL, **GRIDS[optimizer], **extra)
    batched = sweep(SPLIT, config)
    loop = sweep_loop(SPLIT, config)
    assert _max_diff(batched, loop) < 1e-12
    np.testing.assert_allclose(batched.train_loss, loop.train_loss, rtol=1e-12)
    # and the regularizer changed the training
    plain = sweep(
        SPLIT, dataclasses.replace(config, dropout=0.0, input_dropout=0.0, label_smoothing=0.0)
    )
    assert _max_diff(batched, plain) > 1e-4


def test_dropout_masks_come_from_the_noise_stream_and_leave_the_rest_alone():
    base = SweepConfig(optimizer="sgd", decoupled=False, **SMALL, **GRIDS["sgd"])
    a = sweep(SPLIT, dataclasses.replace(base, dropout=0.5))
    b = sweep(SPLIT, dataclasses.replace(base, dropout=0.5))
    assert _max_diff(a, b) == 0.0  # deterministic
    # p = 0 is exactly the plain sweep (no draw, no scaling)
    c = sweep(SPLIT, dataclasses.replace(base, dropout=0.0))
    assert _max_diff(c, sweep(SPLIT, base)) == 0.0


def test_history_records_every_epoch_and_ends_at_the_final_result():
    config = SweepConfig(optimizer="sgd", decoupled=False, history_every=1, **SMALL, **GRIDS["sgd"])
    X_val, y_val = SPLIT.X_test[:20], SPLIT.y_test[:20]
    result = sweep(SPLIT, config, validation=(X_val, y_val))
    h = result.history
    np.testing.assert_array_equal(h["epoch"], [1, 2, 3])
    assert h["test_error"].shape == (*config.shape, 3) == h["val_error"].shape
    np.testing.assert_allclose(h["test_error"][..., -1], result.test_error)
    np.testing.assert_allclose(h["train_loss"][..., -1], result.train_loss, rtol=1e-12)
    # the validation error is the test error on the first 20 test examples
    short = Split(SPLIT.X_train, SPLIT.y_train, X_val, y_val)
    np.testing.assert_allclose(
        h["val_error"][..., -1], SweepResult.evaluate(short, config, result.params).test_error
    )
    every2 = sweep(SPLIT, dataclasses.replace(config, history_every=2))
    np.testing.assert_array_equal(every2.history["epoch"], [2, 3])  # and always the last
    assert every2.history["val_error"] is None
    assert sweep(SPLIT, dataclasses.replace(config, history_every=0)).history is None


@pytest.mark.parametrize(
    ("kw", "exc", "words"),
    [
        ({"dropout": 1.0}, ValueError, r"dropout must lie in \[0, 1\)"),
        ({"input_dropout": -0.1}, ValueError, "input_dropout"),
        ({"label_smoothing": 1.5}, ValueError, "label_smoothing"),
        ({"history_every": -1}, ValueError, "history_every"),
        ({"history_every": 1.5}, TypeError, "history_every"),
    ],
)
def test_regularizer_options_are_checked(kw, exc, words):
    with pytest.raises(exc, match=words):
        SweepConfig(optimizer="sgd", decoupled=False, lrs=[0.1], weight_decays=[0.0], **kw)


def test_validation_set_is_checked():
    config = SweepConfig(optimizer="sgd", decoupled=False, history_every=1, **SMALL, **GRIDS["sgd"])
    with pytest.raises(TypeError, match="validation"):
        sweep(SPLIT, config, validation=SPLIT.X_test)
    with pytest.raises(ValueError, match="validation"):
        sweep(SPLIT, config, validation=(SPLIT.X_test[:, :3], SPLIT.y_test))
