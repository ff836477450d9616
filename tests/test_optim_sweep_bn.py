"""The BatchNorm option and the weight-norm/angle history of weightreg.optim_sweep.sweep.

Against ``tests/sweep_reference.py::sweep_loop`` (autograd through
``torch.nn.functional.batch_norm(training=True)``, torch.optim-style optimizers, Kahan's
angle formula), against ``F.batch_norm`` in evaluation mode for the evaluation convention,
and against the scale invariance that BatchNorm gives the first layer.
"""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from sweep_reference import angle_between, sweep_loop, sweep_vmap

from weightreg.data import digits_split
from weightreg.divergence import DivergenceWarning
from weightreg.optim_sweep import (
    BATCH_NORM_EPS,
    SweepConfig,
    SweepResult,
    _step_angle,
    init_mlp,
    sweep,
)

SPLIT = digits_split(64, seed=1, dtype=torch.float64)
# Digits has pixels that are constant within a minibatch; with BatchNorm the gradient of
# their first-layer weights is exactly zero in exact arithmetic and rounding noise (1e-17)
# in floating point, which Adam (dividing by sqrt(v) + eps) turns into steps of lr * 1e-9
# that differ between two correct implementations.  Continuous features have no such
# columns: there the batched sweep and the autograd loop agree to rounding.
_gen = torch.Generator().manual_seed(0)
NOISY = dataclasses.replace(
    SPLIT,
    X_train=SPLIT.X_train
    + 0.1 * torch.randn(SPLIT.X_train.shape, generator=_gen, dtype=torch.float64),
)
SMALL = {"seeds": (0, 3), "hidden": 8, "num_epochs": 3, "batch_size": 16}
GRIDS = {
    "sgd": {"lrs": [0.05, 0.3], "weight_decays": [1e-3, 3e-2]},
    "adam": {"lrs": [3e-3, 3e-2], "weight_decays": [1e-3, 3e-2]},
}
HISTORY_KEYS = ("w1_norm", "w2_norm", "w1_angle", "test_error", "train_loss")


def _max_diff(a, b):
    return max(float((x - y).abs().max()) for x, y in zip(a.params, b.params, strict=True))


def _config(optimizer, **kw) -> SweepConfig:
    return SweepConfig(optimizer=optimizer, **{**SMALL, **GRIDS[optimizer], **kw})


@pytest.mark.parametrize(
    ("optimizer", "extra"),
    [
        ("sgd", {}),
        ("sgd", {"momentum": 0.0}),
        ("adam", {}),
    ],
    ids=["sgd-momentum", "sgd-plain", "adam"],
)
@pytest.mark.parametrize("decoupled", [False, True])
@pytest.mark.parametrize("dropout", [0.0, 0.3])
def test_batchnorm_sweep_equals_the_autograd_loop(optimizer, extra, decoupled, dropout):
    """Parameters, state, final results and the whole history agree to rounding (float64)."""
    config = _config(
        optimizer,
        decoupled=decoupled,
        normalization="batch",
        dropout=dropout,
        history_every=1,
        **extra,
    )
    batched, loop = sweep(NOISY, config), sweep_loop(NOISY, config)
    assert _max_diff(batched, loop) < 1e-12
    for key, stacks in batched.state.items():
        for a, b in zip(stacks, loop.state[key], strict=True):
            torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-13)
    np.testing.assert_array_equal(batched.test_error, loop.test_error)
    np.testing.assert_allclose(batched.train_loss, loop.train_loss, rtol=1e-12)
    np.testing.assert_array_equal(batched.history["epoch"], loop.history["epoch"])
    for key in HISTORY_KEYS:
        assert batched.history[key].shape == (*config.shape, 3)
        np.testing.assert_allclose(batched.history[key], loop.history[key], rtol=1e-11, atol=0)
    # BatchNorm changed the training
    plain = sweep(NOISY, dataclasses.replace(config, normalization="none"))
    assert _max_diff(batched, plain) > 1e-3


@pytest.mark.parametrize(
    ("optimizer", "decoupled", "tol"),
    [("sgd", False, 1e-12), ("sgd", True, 1e-12), ("adam", False, 1e-12), ("adam", True, 1e-9)],
)
def test_batchnorm_on_digits_with_input_dropout_and_smoothing(optimizer, decoupled, tol):
    """On digits itself (pixels constant within a batch), with every other option on.

    AdamW's tolerance is lr * 1e-8: see the comment at ``NOISY``."""
    config = _config(
        optimizer,
        decoupled=decoupled,
        normalization="batch",
        dropout=0.2,
        input_dropout=0.1,
        label_smoothing=0.1,
    )
    batched, loop = sweep(SPLIT, config), sweep_loop(SPLIT, config)
    assert _max_diff(batched, loop) < tol
    np.testing.assert_array_equal(batched.test_error, loop.test_error)


def test_batchnorm_matches_torch_optim_adamw():
    config = _config("adam", decoupled=True, normalization="batch")
    ref = sweep_loop(NOISY, config, backend="torch")
    assert _max_diff(sweep(NOISY, config), ref) < 1e-12


def test_evaluation_uses_the_training_set_statistics():
    """Train loss = BatchNorm in training mode on the whole training set; test error =
    F.batch_norm in evaluation mode with the training set's mean and biased variance."""
    config = _config("sgd", decoupled=False, normalization="batch")
    res = sweep(SPLIT, config)
    W1, b1, W2, b2 = res.params
    losses, errors = [], []
    for c in range(W1.shape[0]):
        A = SPLIT.X_train @ W1[c]
        mean, var = A.mean(0), A.var(0, unbiased=False)
        train = F.batch_norm(A, None, None, training=True, eps=BATCH_NORM_EPS)
        logits = torch.relu(train + b1[c]) @ W2[c] + b2[c]
        losses.append(float(F.cross_entropy(logits, SPLIT.y_train)))
        test = F.batch_norm(SPLIT.X_test @ W1[c], mean, var, training=False, eps=BATCH_NORM_EPS)
        pred = (torch.relu(test + b1[c]) @ W2[c] + b2[c]).argmax(1)
        errors.append(float((pred != SPLIT.y_test).double().mean()))
    np.testing.assert_allclose(res.train_loss.reshape(-1), losses, rtol=1e-13)
    np.testing.assert_array_equal(res.test_error.reshape(-1), errors)
    # and SweepResult.evaluate is that convention
    again = SweepResult.evaluate(SPLIT, config, res.params)
    np.testing.assert_array_equal(again.train_loss, res.train_loss)


def _one_step_gradient(normalization: str) -> tuple[torch.Tensor, torch.Tensor]:
    """W1 before one full-batch SGD step with lr 1 and no decay, and the gradient it took."""
    config = SweepConfig(
        optimizer="sgd",
        decoupled=False,
        lrs=[1.0],
        weight_decays=[0.0],
        seeds=(2,),
        hidden=8,
        num_epochs=1,
        batch_size=64,
        momentum=0.0,
        schedule="constant",
        normalization=normalization,
    )
    W1 = init_mlp(SPLIT.num_inputs, 8, 10, 2, dtype=torch.float64)[0]
    return W1, W1 - sweep(SPLIT, config).params[0][0]


def test_batchnorm_gradient_is_orthogonal_to_each_column():
    """<grad_j, w_j> = 0 for every hidden unit j, up to BatchNorm's eps: |cos| is below
    eps / v_j (v_j the unit's pre-activation variance), about 1e-4 here; without
    normalization the cosines are of order 0.1."""
    W1, g = _one_step_gradient("batch")
    var = (SPLIT.X_train @ W1).var(0, unbiased=False)
    cos = (g * W1).sum(0) / (g.norm(dim=0) * W1.norm(dim=0))
    assert torch.all(cos.abs() <= 2 * BATCH_NORM_EPS / var)
    assert float(cos.abs().max()) < 1e-3
    W1, g = _one_step_gradient("none")
    cos = (g * W1).sum(0) / (g.norm(dim=0) * W1.norm(dim=0))
    assert float(cos.abs().max()) > 0.05


@pytest.mark.parametrize("scale", [0.5, 3.0])
def test_loss_is_invariant_to_the_scale_of_a_first_layer_column(scale):
    """Multiplying a hidden unit's incoming weights by c > 0 leaves the training loss and the
    predictions unchanged (up to eps / v_j) with BatchNorm; without it the loss moves."""
    for normalization, changes in (("batch", False), ("none", True)):
        config = _config("sgd", decoupled=False, normalization=normalization)
        res = sweep(SPLIT, config)
        W1 = res.params[0].clone()
        W1[:, :, 3] *= scale
        scaled = SweepResult.evaluate(SPLIT, config, [W1, *res.params[1:]])
        gap = np.abs(scaled.train_loss - res.train_loss).max()
        if changes:
            assert gap > 1e-3
        else:
            assert gap < 1e-5
            np.testing.assert_array_equal(scaled.test_error, res.test_error)
    # and W1 as a whole
    config = _config("adam", decoupled=True, normalization="batch")
    res = sweep(SPLIT, config)
    scaled = SweepResult.evaluate(SPLIT, config, [scale * res.params[0], *res.params[1:]])
    np.testing.assert_allclose(scaled.train_loss, res.train_loss, rtol=1e-5)


def test_normalization_none_is_the_plain_sweep_bit_for_bit():
    """The default is "none", and asking for the history (which tracks the angles) does not
    change a single bit of the training."""
    for optimizer in ("sgd", "adam"):
        config = _config(optimizer, decoupled=True, dropout=0.1)
        explicit = dataclasses.replace(config, normalization="none")
        assert config.normalization == "none"
        a, b = sweep(SPLIT, config), sweep(SPLIT, explicit)
        c = sweep(SPLIT, dataclasses.replace(config, history_every=1))
        for x, y, z in zip(a.params, b.params, c.params, strict=True):
            assert torch.equal(x, y) and torch.equal(x, z)


def test_history_norms_and_angles():
    """w1_norm/w2_norm are the norms of the weights at the recorded epoch; the last one is the
    final weights'; the angles are positive and recorded without normalization too."""
    for normalization in ("none", "batch"):
        config = _config(
            "sgd", decoupled=False, normalization=normalization, history_every=2, num_epochs=5
        )
        res = sweep(SPLIT, config)
        h = res.history
        np.testing.assert_array_equal(h["epoch"], [2, 4, 5])
        W1, _, W2, _ = res.params
        np.testing.assert_allclose(
            h["w1_norm"][..., -1], W1.norm(dim=(1, 2)).numpy().reshape(config.shape), rtol=1e-14
        )
        np.testing.assert_allclose(
            h["w2_norm"][..., -1], W2.norm(dim=(1, 2)).numpy().reshape(config.shape), rtol=1e-14
        )
        assert np.all(h["w1_angle"] > 0) and np.all(h["w1_angle"] < 1)
        loop = sweep_loop(SPLIT, config)
        for key in HISTORY_KEYS:
            np.testing.assert_allclose(h[key], loop.history[key], rtol=1e-11, atol=0)


def _exact_angle(u: torch.Tensor, v: torch.Tensor) -> float:
    """The angle between the float vectors ``u`` and ``v``, to 40 digits (mpmath)."""
    mpmath = pytest.importorskip("mpmath")
    with mpmath.workdps(50):
        a = [mpmath.mpf(float(x)) for x in u.flatten()]
        b = [mpmath.mpf(float(x)) for x in v.flatten()]
        uu = mpmath.fsum(x * x for x in a)
        ud = mpmath.fsum(x * (y - x) for x, y in zip(a, b, strict=True))
        dd = mpmath.fsum((y - x) ** 2 for x, y in zip(a, b, strict=True))
        perp = mpmath.sqrt(dd - ud**2 / uu)
        return float(mpmath.atan2(perp * mpmath.sqrt(uu), uu + ud))


def test_step_angle_is_accurate_for_tiny_and_large_angles():
    """Against the exact angle of the float vectors (mpmath).  acos of the cosine would give
    0 for an angle of 1e-12 (the cosine rounds to 1); the sweep's formula works with the step
    and is accurate to about 1e-16 (|delta| / |delta_perp|)^2 relative, so also when the step
    shrinks the weights (weight decay) by much more than it turns them."""
    gen = torch.Generator().manual_seed(0)
    S, d, G, h = 2, 5, 3, 4
    u = torch.randn(S, d, G, h, generator=gen, dtype=torch.float64)
    e = torch.randn(S, d, G, h, generator=gen, dtype=torch.float64)

    def step_angle(u, v):  # (S, d, G, h) layout to the sweep's internal pair
        pair = torch.stack([u, v.to(torch.float64) - u], dim=2).permute(0, 3, 2, 1, 4)
        return _step_angle(pair.contiguous())

    cases = [(u + t * e, 1e-12) for t in (1e-12, 1e-7, 0.3, 5.0)]
    cases += [
        (u + 1e-9 * e - 3e-10 * u, 1e-12),  # a tiny step, partly radial
        ((1 - 1e-3) * u + 1e-6 * e, 1e-9),  # decay 1e3 times larger than the turn
        (1.7 * (u + 0.3 * e), 1e-12),
    ]
    for v, rel in cases:
        got = step_angle(u, v)
        for s_, g in ((0, 0), (1, 2), (0, 1)):
            exact = _exact_angle(u[s_, :, g], v[s_, :, g])
            assert float(got[s_, g]) == pytest.approx(exact, rel=rel)
            kahan = angle_between(u[s_, :, g], v[s_, :, g])  # the loop's formula
            assert kahan == pytest.approx(exact, rel=1e-12, abs=1e-15)
    # float32 weights: the angle between the float32 values
    v32 = (u + 1e-3 * e).to(torch.float32)
    got = step_angle(u, v32)
    assert float(got[1, 2]) == pytest.approx(_exact_angle(u[1, :, 2], v32[1, :, 2]), rel=1e-12)


def test_diverged_configurations_have_nan_history():
    config = SweepConfig(
        optimizer="sgd",
        decoupled=False,
        lrs=[0.05, 1e6],
        weight_decays=[0.0],
        normalization="batch",
        history_every=1,
        **SMALL,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DivergenceWarning)
        res = sweep(SPLIT, config)
    assert res.diverged[1].all() and not res.diverged[0].any()
    for key in HISTORY_KEYS:
        assert np.isnan(res.history[key][1]).all()
        assert np.isfinite(res.history[key][0]).all()


def test_float32_batchnorm_is_close_to_float64():
    config = _config("adam", decoupled=True, normalization="batch", history_every=1)
    a = sweep(SPLIT, config)
    split32 = digits_split(64, seed=1, dtype=torch.float32)
    b = sweep(split32, dataclasses.replace(config, dtype=torch.float32))
    assert b.params[0].dtype == torch.float32
    np.testing.assert_allclose(b.train_loss, a.train_loss, rtol=1e-3)
    # the angles less so: float32 rounding in the (exactly zero) gradients of pixels constant
    # within a batch is ~1e-9, no longer negligible next to Adam's eps (see ``NOISY``)
    np.testing.assert_allclose(b.history["w1_angle"], a.history["w1_angle"], rtol=5e-2)


@pytest.mark.parametrize(
    ("kw", "exc", "words"),
    [
        ({"normalization": "layer"}, ValueError, "normalization must be one of"),
        ({"normalization": True}, ValueError, "normalization must be one of"),
        ({"normalization": None}, ValueError, "normalization must be one of"),
        (
            {"normalization": "batch", "batch_size": 1},
            ValueError,
            "batch_size must be >= 2 with normalization='batch'",
        ),
    ],
)
def test_normalization_option_is_checked(kw, exc, words):
    with pytest.raises(exc, match=words):
        SweepConfig(optimizer="sgd", decoupled=False, lrs=[0.1], weight_decays=[0.0], **kw)


def test_vmap_reference_refuses_batchnorm():
    with pytest.raises(ValueError, match="no BatchNorm"):
        sweep_vmap(SPLIT, _config("sgd", decoupled=False, normalization="batch"))


@pytest.mark.parametrize(
    ("optimizer", "decoupled"), [("sgd", True), ("adam", False), ("adam", True)]
)
@pytest.mark.parametrize("normalization", ["none", "batch"])
def test_decay_on_the_first_layer_only(optimizer, decoupled, normalization):
    """decay_w2=False: W2 joins the biases' undecayed group (loop and vmap references)."""
    config = _config(optimizer, decoupled=decoupled, normalization=normalization, decay_w2=False)
    batched, loop = sweep(NOISY, config), sweep_loop(NOISY, config)
    assert _max_diff(batched, loop) < 1e-12
    if normalization == "none":
        assert _max_diff(batched, sweep_vmap(NOISY, config)) < 1e-12
    both = sweep(NOISY, dataclasses.replace(config, decay_w2=True))
    assert _max_diff(batched, both) > 1e-4


def test_decay_w2_is_checked():
    with pytest.raises(TypeError, match="decay_w2 must be True or False"):
        SweepConfig(optimizer="sgd", decoupled=False, lrs=[0.1], weight_decays=[0.0], decay_w2=1)
