"""Train a whole grid of (learning rate, weight decay, seed) configurations at once.

Introduced in the chapter *L2 regularization is weight decay under SGD*
(``book/decay/sgd.md``) and used for the learning-rate x weight-decay heatmaps of *The
paper's Figure 2, replicated* (``book/decay/adamw_figure2.md``), the network of *Why L2
fails under Adam, and what AdamW does* (``book/decay/adamw.md``) and, with BatchNorm, the
part *Weight decay in normalized networks* (``book/normalized/``).

The model is a one-hidden-layer ReLU network ``logits = relu(X W1 + b1) W2 + b2``
(or, with ``normalization="batch"``, ``relu(BN(X W1) + b1) W2 + b2``, see below)
trained with the mean cross-entropy on minibatches.  A :class:`SweepConfig` names the grid
and the training (checked once, when it is made); :func:`sweep` trains its ``C``
configurations as **one** computation and returns a :class:`SweepResult`.

Conventions
-----------
* **Layout**: every parameter is a stack with a leading configuration dimension, ``(C, in,
  out)``: ``W1`` is ``(C, d, hidden)``, ``b1`` is ``(C, 1, hidden)``, ``W2`` is ``(C, hidden,
  k)``, ``b2`` is ``(C, 1, k)``.  Configuration ``c`` has index ``(i_lr * n_wd + i_wd) *
  n_seed + i_seed``; per-configuration results come back as arrays of shape ``(n_lr, n_wd,
  n_seed)``.
* Weight decay applies to ``W1`` and ``W2`` (to ``W1`` only with ``decay_w2=False``), never
  to the biases.
* **Seeding** (:func:`weightreg.seeding.streams`): seed ``s`` gives two independent
  generators, one for the initial weights (:func:`init_mlp`, ``nn.Linear``'s uniform
  ``U(-1/sqrt(fan_in), 1/sqrt(fan_in))``) and one for the minibatch order
  (:func:`minibatch_order`: a fresh permutation every epoch, the last incomplete batch
  dropped).  All configurations of one seed start from the same weights and see the same
  batches.
* Notation (the book's glossary): the learning rate of step ``t`` (0, 1, ..., T-1) is
  ``eta_t = eta * s_t``, with ``eta`` an entry of ``lrs`` and the schedule multiplier
  ``s_t = 1`` (``"constant"``) or ``(1 + cos(pi t / T)) / 2`` (``"cosine"``); ``mu`` is
  ``momentum``.
* ``weight_decays`` means, for ``decoupled=False``, the L2 coefficient ``lambda``
  (``lambda * w``, the gradient of ``lambda / 2 * ||w||^2``, is added to the gradient; the
  same in both conventions); for ``decoupled=True`` with ``decay_convention="paper"``
  (default), Loshchilov & Hutter's ``lambda_LH``: each step shrinks ``w`` by the factor
  ``1 - s_t * lambda_LH``, whatever the learning rate; with ``decay_convention="torch"``,
  PyTorch's ``lambda``: ``1 - eta_t * lambda``.  The two agree when ``lambda_LH = eta *
  lambda`` (:func:`weightreg.optim.torch_weight_decay`).
* **Regularizers without a penalty** (part *Regularizers without a penalty*,
  ``book/implicit/``), all off by default: ``dropout`` (drop probability :math:`p` of the
  hidden units) and ``input_dropout`` (of the inputs) are *inverted* dropout: a kept unit is
  scaled by :math:`1/(1-p)` during training, nothing changes at evaluation.  The masks come
  from the seed's third stream, ``streams(s).noise``: at every step, first the input mask
  ``(B, d)`` (shared by all configurations of the seed, which see the same batch), then the
  hidden mask ``(G, B, hidden)`` (one per configuration of the seed, in the order of
  :meth:`SweepConfig.grid`), each ``rand >= p``.  ``label_smoothing`` ``eps``
  trains on the targets ``(1 - eps) * onehot(y) + eps / K`` (PyTorch's
  ``cross_entropy(label_smoothing=eps)``); the reported ``train_loss`` stays the plain
  cross-entropy.
* **BatchNorm** (``normalization="batch"``; default ``"none"``): in training, the hidden
  pre-activations ``A = X_batch W1`` are normalized per hidden unit ``j`` over the minibatch,
  ``Xhat_bj = (A_bj - m_j) / sqrt(v_j + eps)`` with the batch mean ``m_j``, the *biased* batch
  variance ``v_j`` and ``eps = BATCH_NORM_EPS = 1e-5`` (``torch.nn.BatchNorm1d``'s training
  mode), then ``b1`` is added: ``b1`` is BatchNorm's shift ``beta``; there is no scale
  ``gamma`` (ReLU is positively homogeneous and ``W2`` absorbs it).  The backward is
  written out: with ``dXhat`` the gradient reaching ``Xhat``, ``dA = (dXhat - mean_b(dXhat)
  - Xhat * mean_b(dXhat * Xhat)) / sqrt(v_j + eps)`` per unit.  At **evaluation** (test
  error, training loss, validation error, history, :meth:`SweepResult.evaluate`) ``m_j`` and
  ``v_j`` are those of the **whole training set** ``split.X_train`` under the current
  weights (not running averages): the network is then a fixed function of its weights.
  Each column of ``W1`` (a hidden unit's incoming weights), and ``W1`` as a whole, is then
  scale-invariant up to ``eps`` (the loss is unchanged when a column is multiplied by
  ``c > 0`` and its gradient is orthogonal to it, both exactly only as ``eps / v_j -> 0``);
  ``W2`` and the biases are not.  Needs ``batch_size >= 2``.
* **History**: with ``history_every = m > 0`` the test error, the training loss and (given
  ``validation``) the validation error of every configuration are recorded after every
  ``m``-th epoch (and after the last), in ``SweepResult.history``, with the Frobenius norms
  ``w1_norm`` and ``w2_norm`` of ``W1`` and ``W2`` at that moment and ``w1_angle``: the mean,
  over the steps of the epoch just ended, of the angle (radians) between ``W1`` before and
  after the step, ``W1`` taken as one vector (computed in float64 as ``atan2(||u||
  ||delta_perp||, u . (u + delta))`` with ``u`` the old ``W1``, ``delta`` the step and
  ``delta_perp`` its part orthogonal to ``u``, accurate for tiny angles unless the step is
  almost exactly radial).  The angles cost a
  few passes over ``W1`` per step of a recorded epoch.
* **Divergence** (:mod:`weightreg.divergence`): a configuration whose minibatch loss (or,
  after the last step, its training loss) is not finite or exceeds ``BLOWUP_FACTOR`` times
  its first minibatch loss (at least 1) is frozen: its parameters become NaN, it takes no
  further update, ``SweepResult.diverged`` marks it and its results are NaN.  At the end a
  :class:`~weightreg.divergence.DivergenceWarning` names the diverged configurations, or
  :class:`~weightreg.divergence.TrainingDiverged` is raised if all diverged.  NaN or
  infinite *data* is refused up front with a ``ValueError``.

The per-configuration loop that :func:`sweep` is tested and benchmarked against lives with
its users, in ``tests/sweep_reference.py`` (``bench/sweep.py`` imports it).
"""

from __future__ import annotations

import dataclasses
import functools
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal, ParamSpec, TypeVar

import numpy as np
import torch

from .data import Split
from .divergence import blowup_limit, diverged_rows, report
from .optim import adam_kernel_, sgd_kernel_
from .seeding import streams
from .validation import (
    check_bool,
    check_choice,
    check_finite_tensor,
    check_int,
    check_nonnegative,
    check_positive,
    check_positive_int,
    check_probability,
    check_seed,
)

__all__ = [
    "BATCH_NORM_EPS",
    "SweepConfig",
    "SweepResult",
    "init_mlp",
    "minibatch_order",
    "schedule_multipliers",
    "sweep",
]

Optimizer = Literal["sgd", "adam"]
Schedule = Literal["constant", "cosine"]
Convention = Literal["paper", "torch"]
Normalization = Literal["none", "batch"]

BATCH_NORM_EPS = 1e-5
"""BatchNorm's ``eps`` (``normalization="batch"``): ``torch.nn.BatchNorm1d``'s default."""
P = ParamSpec("P")
R = TypeVar("R")


def _check_dtype(dtype: object) -> torch.dtype:
    if dtype not in (torch.float32, torch.float64):
        raise TypeError(f"dtype must be torch.float32 or torch.float64, got {dtype!r}")
    return dtype


def _values(name: str, values: object, check: Callable[[str, object], float]) -> tuple:
    if isinstance(values, str | bytes) or not hasattr(values, "__len__"):
        raise TypeError(f"{name} must be a sequence of numbers, got {type(values).__name__}")
    if len(values) == 0:
        raise ValueError(f"{name} must list at least one value")
    return tuple(check(f"{name}[{i}]", v) for i, v in enumerate(list(values)))


@dataclass(frozen=True)
class SweepConfig:
    """What :func:`sweep` trains: the grid and the training, checked once when made.

    ``dropout``, ``input_dropout`` (each in ``[0, 1)``), ``label_smoothing`` (in ``[0, 1)``)
    and ``history_every`` (an int ``>= 0``) are described in the module docstring; all are
    off (0) by default.  ``normalization`` is ``"none"`` (default) or ``"batch"``: BatchNorm
    (no ``gamma``, ``b1`` as the shift, batch statistics in training, the whole training
    set's at evaluation; module docstring), which needs ``batch_size >= 2``.
    ``decay_w2=False`` leaves the output weights ``W2`` undecayed (the decay, L2 or
    decoupled, then acts on ``W1`` alone: with BatchNorm, on the scale-invariant weights only).
    ``optimizer`` is ``"sgd"`` (``weightreg.optim.sgd_kernel_``, with
    ``momentum``) or ``"adam"`` (``weightreg.optim.adam_kernel_``, with ``betas`` and ``eps``);
    ``decoupled`` picks L2 (False) or decoupled decay (True); ``weight_decays`` are read as
    the module docstring says (``decay_convention``).  The grid is every combination of
    ``lrs`` (each ``> 0``), ``weight_decays`` (each ``>= 0``) and ``seeds`` (ints ``>= 0``).
    Sequences are stored as tuples of floats (ints for seeds), so a config is hashable and
    ``dataclasses.replace`` makes a variant.
    """

    optimizer: Optimizer
    decoupled: bool
    lrs: Sequence[float]
    weight_decays: Sequence[float]
    seeds: Sequence[int] = (0, 1, 2)
    hidden: int = 32
    num_epochs: int = 20
    batch_size: int = 32
    momentum: float = 0.9
    betas: tuple[float, float] = (0.9, 0.999)
    eps: float = 1e-8
    schedule: Schedule = "cosine"
    decay_convention: Convention = "paper"
    dtype: torch.dtype = torch.float64
    dropout: float = 0.0
    input_dropout: float = 0.0
    label_smoothing: float = 0.0
    history_every: int = 0
    normalization: Normalization = "none"
    decay_w2: bool = True

    def __post_init__(self) -> None:
        def put(name: str, value: object) -> None:
            object.__setattr__(self, name, value)

        check_choice("optimizer", self.optimizer, ("sgd", "adam"))
        check_bool("decoupled", self.decoupled)
        check_bool("decay_w2", self.decay_w2)
        put("lrs", _values("lrs", self.lrs, check_positive))
        put("weight_decays", _values("weight_decays", self.weight_decays, check_nonnegative))
        put("seeds", _values("seeds", self.seeds, check_seed))
        check_positive_int("hidden", self.hidden)
        check_positive_int("num_epochs", self.num_epochs)
        check_positive_int("batch_size", self.batch_size)
        put("momentum", check_probability("momentum", self.momentum))
        if not isinstance(self.betas, tuple | list) or len(self.betas) != 2:
            raise TypeError(f"betas must be a pair (beta1, beta2), got {self.betas!r}")
        put(
            "betas",
            (
                check_probability("betas[0]", self.betas[0]),
                check_probability("betas[1]", self.betas[1]),
            ),
        )
        put("eps", check_positive("eps", self.eps))
        check_choice("schedule", self.schedule, ("constant", "cosine"))
        check_choice("decay_convention", self.decay_convention, ("paper", "torch"))
        _check_dtype(self.dtype)
        for name in ("dropout", "input_dropout"):  # drop probabilities, in [0, 1)
            put(name, check_probability(name, getattr(self, name)))
        put("label_smoothing", check_probability("label_smoothing", self.label_smoothing))
        put("history_every", check_int("history_every", self.history_every, minimum=0))
        check_choice("normalization", self.normalization, ("none", "batch"))
        if self.normalization == "batch" and self.batch_size < 2:
            raise ValueError(
                f"batch_size must be >= 2 with normalization='batch' (a batch variance needs "
                f"two examples), got {self.batch_size}"
            )

    @property
    def shape(self) -> tuple[int, int, int]:
        """``(n_lr, n_wd, n_seed)``: the shape of the per-configuration results."""
        return len(self.lrs), len(self.weight_decays), len(self.seeds)

    def grid(self) -> list[tuple[float, float, int]]:
        """``(lr, weight_decay, seed)`` of every configuration, in index order ``c``."""
        return [(lr, wd, s) for lr in self.lrs for wd in self.weight_decays for s in self.seeds]

    def torch_decay(self, lr: float, weight_decay: float) -> float:
        """The ``weight_decay`` handed to the update rule: PyTorch's ``lambda``.

        ``weight_decay`` itself, except for decoupled decay in the paper's convention, where
        it is ``lambda_LH`` and PyTorch's ``lambda = lambda_LH / lr`` (shrink ``1 - eta_t *
        lambda = 1 - s_t * lambda_LH``).
        """
        paper = self.decoupled and self.decay_convention == "paper"
        return weight_decay / lr if paper else weight_decay

    def labels(self) -> list[str]:
        """One ``"lr=..., weight_decay=..., seed=..."`` per configuration (for messages)."""
        return [f"lr={lr:g}, weight_decay={wd:g}, seed={s}" for lr, wd, s in self.grid()]


@dataclass(frozen=True)
class SweepResult:
    """What :func:`sweep` measured after the last step.

    ``test_error`` and ``train_loss`` have shape ``(n_lr, n_wd, n_seed)``; a configuration
    that diverged (:mod:`weightreg.divergence`) has ``diverged`` set and NaN in both.
    ``params`` are the final stacks ``[W1, b1, W2, b2]`` (layout ``(C, in, out)``, NaN where
    diverged); ``seconds`` is the wall time of the training.  ``state`` holds the
    optimizer's final state in the same layout: ``{"momentum_buffer": [...]}`` for SGD with
    momentum, ``{"exp_avg": [...], "exp_avg_sq": [...]}`` for Adam (not bias-corrected),
    after ``steps`` steps.  ``history``: see the attribute.
    """

    lrs: np.ndarray
    weight_decays: np.ndarray
    seeds: tuple[int, ...]
    test_error: np.ndarray
    train_loss: np.ndarray
    diverged: np.ndarray
    params: list[torch.Tensor]
    seconds: float
    state: dict[str, list[torch.Tensor]] = field(default_factory=dict)
    steps: int = 0
    config: SweepConfig | None = None
    history: dict[str, np.ndarray | None] | None = None
    """With ``config.history_every > 0``: ``{"epoch": (E,), "test_error", "train_loss",
    "val_error", "w1_norm", "w2_norm", "w1_angle"}``, each but ``epoch`` ``(n_lr, n_wd,
    n_seed, E)`` (``val_error`` ``None`` without a validation set); NaN where a configuration
    had diverged.  ``w1_norm``/``w2_norm``: Frobenius norms after the recorded epoch;
    ``w1_angle``: mean angle (radians) between consecutive ``W1`` over that epoch's steps
    (module docstring).  ``None`` otherwise."""

    @classmethod
    def evaluate(
        cls,
        split: Split,
        config: SweepConfig,
        params: Sequence[torch.Tensor],
        *,
        seconds: float = 0.0,
        state: dict[str, list[torch.Tensor]] | None = None,
        steps: int = 0,
        diverged: torch.Tensor | None = None,
    ) -> SweepResult:
        """Evaluate final stacks ``params`` (layout ``(C, in, out)``) of ``config`` on ``split``.

        Training loss (mean cross-entropy) and test error per configuration; NaN, and
        ``diverged`` set, where ``diverged`` (a ``(C,)`` mask) says so or a parameter is not
        finite.  With ``config.normalization == "batch"`` the BatchNorm statistics are those
        of the whole training set ``split.X_train`` under ``params``.  Used by
        :func:`sweep` and by the reference implementations it is tested
        against.
        """
        W1, b1, W2, b2 = (p.detach() for p in params)
        C, d, h = W1.shape
        mask = torch.zeros(C, dtype=torch.bool) if diverged is None else diverged.clone()
        for p in (W1, b1, W2, b2):
            mask |= ~torch.isfinite(p).reshape(C, -1).all(dim=1)
        norm_X = split.X_train if config.normalization == "batch" else None
        with torch.no_grad():
            train_loss = _mean_cross_entropy((W1, b1, W2, b2), split.X_train, split.y_train, norm_X)
            err = _error_rate((W1, b1, W2, b2), split.X_test, split.y_test, norm_X)
        shape = config.shape
        train_loss = torch.where(mask, torch.nan, train_loss).numpy().reshape(shape)
        err = torch.where(mask, torch.nan, err).numpy().reshape(shape)
        return cls(
            np.asarray(config.lrs),
            np.asarray(config.weight_decays),
            tuple(config.seeds),
            err,
            train_loss,
            mask.numpy().reshape(shape),
            [p.detach() for p in params],
            seconds,
            state or {},
            steps,
            config,
        )

    def mean_error(self) -> np.ndarray:
        """Test error averaged over seeds, shape ``(n_lr, n_wd)`` (NaN if any diverged)."""
        return self.test_error.mean(axis=2)

    def best(self) -> tuple[float, float, float]:
        """``(lr, weight_decay, mean test error)`` of the best cell of the grid."""
        err = np.where(np.isnan(self.mean_error()), np.inf, self.mean_error())
        i, j = np.unravel_index(np.argmin(err), err.shape)
        return float(self.lrs[i]), float(self.weight_decays[j]), float(err[i, j])

    def best_decays(self, within: float = 0.25) -> tuple[np.ndarray, np.ndarray]:
        """The best weight decay of each good learning rate: ``(lrs, decays)``.

        A learning rate (a row of the grid) is *good* when its best mean test error is
        at most ``(1 + within)`` times the grid's best.  Its best decay is the vertex of
        the parabola through the row's smallest error and its two neighbours, in
        ``log10(weight_decay)`` (the grid point itself at the edge of the grid), so the
        estimate is not stuck to the grid.  Requires positive weight decays.
        """
        within = check_nonnegative("within", within)
        if np.any(self.weight_decays <= 0) or len(self.weight_decays) < 3:
            raise ValueError("best_decays needs at least 3 weight decays, all > 0")
        err = np.where(np.isnan(self.mean_error()), np.inf, self.mean_error())
        x = np.log10(self.weight_decays)
        good = err.min(axis=1) <= (1 + within) * err.min()
        decays = []
        for row in err[good]:
            j = int(np.argmin(row))
            xj = x[j]
            if 0 < j < len(x) - 1 and np.all(np.isfinite(row[j - 1 : j + 2])):
                a, b, _ = np.polyfit(x[j - 1 : j + 2], row[j - 1 : j + 2], 2)
                if a > 0:
                    xj = float(np.clip(-b / (2 * a), x[j - 1], x[j + 1]))
            decays.append(10**xj)
        return self.lrs[good], np.asarray(decays)

    def ridge_fit(self, within: float = 0.25) -> tuple[float, float]:
        """``(slope, intercept)`` of the least-squares line ``log10(best decay)`` against
        ``log10(lr)`` over :meth:`best_decays`; NaN for both with fewer than two good rows."""
        lrs, decays = self.best_decays(within)
        if len(lrs) < 2:
            return float("nan"), float("nan")
        slope, intercept = np.polyfit(np.log10(lrs), np.log10(decays), 1)
        return float(slope), float(intercept)

    def ridge_slope(self, within: float = 0.25) -> float:
        """Slope ``s`` of ``log10(best decay)`` against ``log10(lr)`` over the good rows.

        ``s = 0``: the best weight decay does not depend on the learning rate (the good
        region is axis-aligned, the two hyper-parameters are *separable*); ``s = 1``: the
        best decay is proportional to the learning rate (a diagonal valley).  Least
        squares over :meth:`best_decays` (:meth:`ridge_fit`); NaN with fewer than two good
        rows.
        """
        return self.ridge_fit(within)[0]


def _logits(
    params: Sequence[torch.Tensor], X: torch.Tensor, norm_X: torch.Tensor | None = None
) -> torch.Tensor:
    """Logits ``(C, N, k)`` of the stacks ``params`` (layout ``(C, in, out)``) on ``X``.

    ``norm_X`` given: BatchNorm of the pre-activations with the mean and biased variance of
    ``norm_X @ W1`` (the evaluation convention of ``normalization="batch"``).
    """
    W1, b1, W2, b2 = params
    C, d, h = W1.shape
    W1_all = W1.permute(1, 0, 2).reshape(d, C * h)  # every first layer in one product
    A = (X.to(W1.dtype) @ W1_all).view(-1, C, h)
    if norm_X is not None:
        R = A if norm_X is X else (norm_X.to(W1.dtype) @ W1_all).view(-1, C, h)
        mean = R.mean(dim=0)
        var = (R - mean).square_().mean(dim=0)
        A = (A - mean).mul_(var.add_(BATCH_NORM_EPS).rsqrt_())
    A = A.add_(b1.view(1, C, h)).relu_()
    return torch.baddbmm(b2, A.transpose(0, 1), W2)


def _mean_cross_entropy(
    params: Sequence[torch.Tensor],
    X: torch.Tensor,
    y: torch.Tensor,
    norm_X: torch.Tensor | None = None,
):
    """Mean cross-entropy ``(C,)`` (float64) of every configuration on ``(X, y)``."""
    z = _logits(params, X, norm_X)
    target = y.reshape(1, -1, 1).expand(z.shape[0], -1, 1)
    return (z.logsumexp(-1) - z.gather(-1, target)[..., 0]).mean(dim=1).to(torch.float64)


def _error_rate(
    params: Sequence[torch.Tensor],
    X: torch.Tensor,
    y: torch.Tensor,
    norm_X: torch.Tensor | None = None,
):
    """Classification error ``(C,)`` (float64) of every configuration on ``(X, y)``."""
    z = _logits(params, X, norm_X)
    return (z.argmax(dim=-1) != y.reshape(1, -1)).to(torch.float64).mean(1)


def schedule_multipliers(num_steps: int, schedule: Schedule = "cosine") -> list[float]:
    """The schedule multipliers ``s_0, ..., s_{T-1}``: all 1, or ``(1 + cos(pi t / T)) / 2``.

    The learning rate of step ``t`` is ``eta_t = eta * s_t`` (the book's notation; Loshchilov
    & Hutter write ``eta_t`` for the multiplier itself).
    """
    num_steps = check_positive_int("num_steps", num_steps)
    check_choice("schedule", schedule, ("constant", "cosine"))
    if schedule == "constant":
        return [1.0] * num_steps
    return [0.5 * (1.0 + math.cos(math.pi * t / num_steps)) for t in range(num_steps)]


def init_mlp(
    num_inputs: int, hidden: int, num_outputs: int, seed: int, *, dtype: torch.dtype
) -> list[torch.Tensor]:
    """Initial ``[W1 (d, hidden), b1 (1, hidden), W2 (hidden, k), b2 (1, k)]`` for ``seed``.

    Every entry of a layer with ``fan_in`` inputs is drawn from
    ``U(-1/sqrt(fan_in), 1/sqrt(fan_in))`` (``nn.Linear``'s default), in float64 from the
    initialization stream ``streams(seed).init`` (:mod:`weightreg.seeding`), in the order
    W1, b1, W2, b2, then cast to ``dtype`` (float32 or float64).
    """
    num_inputs = check_positive_int("num_inputs", num_inputs)
    hidden = check_positive_int("hidden", hidden)
    num_outputs = check_positive_int("num_outputs", num_outputs)
    dtype = _check_dtype(dtype)
    gen = streams(seed).init
    out = []
    for fan_in, fan_out in ((num_inputs, hidden), (hidden, num_outputs)):
        bound = 1.0 / math.sqrt(fan_in)
        for shape in ((fan_in, fan_out), (1, fan_out)):
            u = torch.rand(shape, generator=gen, dtype=torch.float64)
            out.append(((2 * u - 1) * bound).to(dtype))
    return out


def minibatch_order(n: int, batch_size: int, num_epochs: int, seed: int) -> torch.Tensor:
    """Row indices of every minibatch, shape ``(num_epochs * (n // batch_size), batch_size)``.

    A new random permutation of ``range(n)`` each epoch, drawn from the shuffling stream
    ``streams(seed).shuffle`` (:mod:`weightreg.seeding`, independent of :func:`init_mlp`'s);
    the last ``n % batch_size`` rows of each permutation are dropped.
    """
    n = check_positive_int("n", n)
    batch_size = check_positive_int("batch_size", batch_size)
    num_epochs = check_positive_int("num_epochs", num_epochs)
    if batch_size > n:
        raise ValueError(f"batch_size must be <= {n} (the training set's size), got {batch_size}")
    gen = streams(seed).shuffle
    per_epoch = n // batch_size
    batches = [
        torch.randperm(n, generator=gen)[: per_epoch * batch_size].reshape(per_epoch, batch_size)
        for _ in range(num_epochs)
    ]
    return torch.cat(batches)


def check_split(split: object) -> int:
    """Check a classification split for :func:`sweep`; return the number of classes ``k``.

    Features must be finite real floating tensors with the same number of columns, labels
    1-d integer tensors of matching length with values ``>= 0``.  Bad data is reported as
    bad data (``ValueError``/``TypeError``), never later as a divergence.
    """
    if not isinstance(split, Split):
        raise TypeError(f"split must be a weightreg.data.Split, got {type(split).__name__}")
    for part in ("train", "test"):
        X = check_finite_tensor(f"split.X_{part}", getattr(split, f"X_{part}"))
        y = getattr(split, f"y_{part}")
        if not isinstance(y, torch.Tensor) or y.dtype not in (torch.int32, torch.int64):
            raise TypeError(f"split.y_{part} must be an integer (class index) tensor")
        if X.ndim != 2 or y.shape != (X.shape[0],):
            raise ValueError(
                f"split.X_{part} must be (n, d) and split.y_{part} (n,), got "
                f"{tuple(X.shape)} and {tuple(y.shape)}"
            )
        if int(y.min()) < 0:
            raise ValueError(f"split.y_{part} must hold class indices >= 0")
    if split.X_test.shape[1] != split.X_train.shape[1]:
        raise ValueError("split.X_train and split.X_test must have the same number of columns")
    return int(max(split.y_train.max(), split.y_test.max())) + 1


def _single_threaded(fn: Callable[P, R]) -> Callable[P, R]:
    """Run ``fn`` with one intra-op thread, restoring the previous count afterwards."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            return fn(*args, **kwargs)
        finally:
            torch.set_num_threads(threads)

    return wrapper


def config_update_(
    config: SweepConfig,
    p: torch.Tensor,
    grad: torch.Tensor,
    buf: torch.Tensor,
    sq: torch.Tensor | None,
    step: int,
    lr: torch.Tensor,
    weight_decay: torch.Tensor | float,
) -> None:
    """One update of ``p`` in place with ``config``'s rule (unchecked, for inner loops).

    ``"sgd"``: ``weightreg.optim.sgd_kernel_`` with ``buf`` as the momentum buffer (unused
    when ``config.momentum == 0``); ``"adam"``: ``weightreg.optim.adam_kernel_`` with
    ``buf`` and ``sq`` as the first and second moments and ``step`` (1, 2, ...).  Shared by
    :func:`sweep` and the references it is tested against.
    """
    if config.optimizer == "sgd":
        sgd_kernel_(
            p,
            grad,
            buf if config.momentum != 0 else None,
            lr=lr,
            momentum=config.momentum,
            weight_decay=weight_decay,
            decoupled=config.decoupled,
        )
    else:
        adam_kernel_(
            p,
            grad,
            buf,
            sq,
            step,
            lr=lr,
            betas=config.betas,
            eps=config.eps,
            weight_decay=weight_decay,
            decoupled=config.decoupled,
        )


def _step_angle(pair: torch.Tensor) -> torch.Tensor:
    """Angles ``(S, G)`` (float64, radians) between ``u`` and ``u + delta``, from ``pair``
    ``(S, G, 2, d, h)`` float64 holding ``u = pair[:, :, 0]`` and ``delta = pair[:, :, 1]``
    (each ``(d, h)`` slice one vector): ``atan2(||u|| ||delta_perp||, u . u + u . delta)``
    with ``||delta_perp||^2 = delta . delta - (u . delta)^2 / u . u`` the squared norm of the
    step's part orthogonal to ``u``.  The three dot products are one batched matrix product
    (the Gram matrix of ``u`` and ``delta``).  Working with ``delta`` rather than ``u +
    delta`` keeps tiny angles accurate (``acos`` of the cosine returns 0 below about 1e-8);
    the relative error is about ``1e-16 ||delta||^2 / ||delta_perp||^2``, small unless the
    step is almost exactly radial."""
    S, G, _, d, h = pair.shape
    Q = pair.view(S * G, 2, d * h)
    gram = torch.bmm(Q, Q.transpose(1, 2))  # (S * G, 2, 2)
    uu, ud, dd = gram[:, 0, 0], gram[:, 0, 1], gram[:, 1, 1]
    perp2 = (dd - ud * ud / uu).clamp_(min=0.0)
    return torch.atan2(perp2.mul_(uu).sqrt_(), uu + ud).view(S, G)


@_single_threaded
def sweep(
    split: Split,
    config: SweepConfig,
    *,
    validation: tuple[torch.Tensor, torch.Tensor] | None = None,
) -> SweepResult:
    """Train every (lr, weight decay, seed) configuration of ``config`` at once.

    See the module for the conventions (layout, seeding, schedule, decay, dropout, label
    smoothing, BatchNorm, history, divergence).  ``validation=(X_val, y_val)`` (inputs with
    the training set's ``d`` columns, integer labels) is only read by the history
    (``config.history_every > 0``).
    Returns a :class:`SweepResult`; warns (``DivergenceWarning``) if some configurations
    diverged and raises ``TrainingDiverged`` if all did.

    How: the ``G = n_lr * n_wd`` configurations of one seed see the same minibatch, so the
    first layer of all of them is **one** matrix product per seed, ``X_batch (B, d) @ [W1_1
    ... W1_G] (d, G * hidden)``, and so is its weight gradient; the second layer is a batched
    product over the ``C`` configurations.  Forward and backward are written out (no
    autograd), and the update rules of :mod:`weightreg.optim` run on the stacks with
    per-configuration ``lr`` and ``weight_decay`` tensors.  Runs on one thread (restored
    afterwards): the products are small, and on a shared machine a second intra-op thread
    made the sweep several times slower.
    """
    if not isinstance(config, SweepConfig):
        raise TypeError(f"config must be a SweepConfig, got {type(config).__name__}")
    k = check_split(split)
    if validation is not None:
        if not isinstance(validation, tuple | list) or len(validation) != 2:
            raise TypeError(
                f"validation must be None or a pair (X_val, y_val), got {validation!r:.60}"
            )
        try:
            check_split(Split(split.X_train, split.y_train, *validation))
        except (TypeError, ValueError) as exc:
            raise type(exc)(f"validation: {exc}") from exc
    n, d = split.X_train.shape
    if config.batch_size > n:
        raise ValueError(
            f"config.batch_size must be <= {n} (the training set's size), got {config.batch_size}"
        )
    start = time.perf_counter()
    dtype, B, h = config.dtype, config.batch_size, config.hidden
    S, G = len(config.seeds), len(config.lrs) * len(config.weight_decays)
    J = S * G  # internal order j = s * G + g (seed-major); external c = g * S + s
    X, y = split.X_train.to(dtype), split.y_train.to(torch.int64)

    # per-configuration lr and decay, internal order, float64
    lr_g = torch.tensor(
        [lr for lr in config.lrs for _ in config.weight_decays], dtype=torch.float64
    )
    wd_g = torch.tensor(
        [config.torch_decay(lr, wd) for lr in config.lrs for wd in config.weight_decays],
        dtype=torch.float64,
    )
    lr_j, wd_j = lr_g.repeat(S), wd_g.repeat(S)

    # parameters: W1 as (S, d, G * h) so that a seed's first layer is one product
    inits = [init_mlp(d, h, k, s, dtype=dtype) for s in config.seeds]
    W1 = torch.stack([i[0] for i in inits])[:, :, None, :].expand(S, d, G, h).reshape(S, d, G * h)
    b1 = torch.stack([i[1] for i in inits])[:, None].expand(S, G, 1, h).reshape(J, 1, h).clone()
    W2 = torch.stack([i[2] for i in inits])[:, None].expand(S, G, h, k).reshape(J, h, k).clone()
    b2 = torch.stack([i[3] for i in inits])[:, None].expand(S, G, 1, k).reshape(J, 1, k).clone()
    params = [W1, b1, W2, b2]
    views = [W1.view(S, d, G, h), b1, W2, b2]  # the update sees one slice per configuration
    lr_shapes = [(S, 1, G, 1), (J, 1, 1), (J, 1, 1), (J, 1, 1)]
    wd_2 = wd_j.reshape(J, 1, 1).to(dtype) if config.decay_w2 else 0.0
    decays = [wd_j.reshape(S, 1, G, 1).to(dtype), 0.0, wd_2, 0.0]
    m = [torch.zeros_like(v) for v in views]  # momentum buffer / Adam's first moment
    v2 = [torch.zeros_like(v) for v in views] if config.optimizer == "adam" else []
    use_buf = config.optimizer == "sgd" and config.momentum != 0

    order = torch.stack(
        [minibatch_order(n, B, config.num_epochs, s) for s in config.seeds]
    )  # (S, T, B)
    etas = schedule_multipliers(order.shape[1], config.schedule)  # s_t
    steps_per_epoch = order.shape[1] // config.num_epochs
    noise = [streams(s).noise for s in config.seeds]
    p_in, p_h, eps_ls = config.input_dropout, config.dropout, config.label_smoothing
    frozen = torch.zeros(J, dtype=torch.bool)
    limit = None
    H = torch.empty(S, G, B, h, dtype=dtype)
    onehot_idx = torch.empty(J, B, 1, dtype=torch.int64)

    def external(tensors: list[torch.Tensor]) -> list[torch.Tensor]:
        """Internal layout (seed-major, W1 as (S, d, G, h)) to the public (C, in, out)."""
        t1, *rest = tensors
        out = [t1.view(S, d, G, h).permute(2, 0, 1, 3).reshape(G * S, d, h)]
        for t_ in rest:
            out.append(t_.view(S, G, *t_.shape[1:]).transpose(0, 1).reshape(J, *t_.shape[1:]))
        return out

    bn = config.normalization == "batch"
    norm_X = split.X_train if bn else None
    keys = ("test_error", "train_loss", "val_error", "w1_norm", "w2_norm", "w1_angle")
    record: dict[str, list] = {"epoch": [], **{key: [] for key in keys}}
    angle_sum = torch.zeros(S, G, dtype=torch.float64)  # this epoch's W1 angles, summed
    if config.history_every:  # W1 before a step and the step, float64, for the angles
        pair = torch.empty(S, G, 2, d, h, dtype=torch.float64)

    def snapshot(epoch: int) -> None:
        ext = external(params)
        dead = frozen.view(S, G).T.reshape(-1)
        with torch.no_grad():
            rows_ = [
                ("test_error", _error_rate(ext, split.X_test, split.y_test, norm_X)),
                ("train_loss", _mean_cross_entropy(ext, split.X_train, split.y_train, norm_X)),
                ("w1_norm", ext[0].to(torch.float64).square().sum(dim=(1, 2)).sqrt()),
                ("w2_norm", ext[2].to(torch.float64).square().sum(dim=(1, 2)).sqrt()),
                ("w1_angle", angle_sum.T.reshape(-1) / steps_per_epoch),
            ]
            if validation is not None:
                rows_.append(("val_error", _error_rate(ext, *validation, norm_X)))
        record["epoch"].append(epoch)
        for key, value in rows_:
            record[key].append(torch.where(dead, torch.nan, value).numpy())

    def masks(seed_index: int) -> tuple[torch.Tensor | None, torch.Tensor | None]:
        gen = noise[seed_index]
        m_in = m_h = None
        if p_in > 0:
            m_in = (torch.rand(B, d, generator=gen, dtype=dtype) >= p_in).to(dtype) / (1 - p_in)
        if p_h > 0:
            m_h = (torch.rand(G, B, h, generator=gen, dtype=dtype) >= p_h).to(dtype) / (1 - p_h)
        return m_in, m_h

    def recorded(epoch: int) -> bool:
        every = config.history_every
        return every > 0 and (epoch % every == 0 or epoch == config.num_epochs)

    for t, eta in enumerate(etas):
        rows = order[:, t]  # (S, B)
        Xb = X[rows]  # (S, B, d): one batch per seed
        drawn = [masks(i) for i in range(S)] if p_in > 0 or p_h > 0 else None
        if p_in > 0:
            Xb = Xb * torch.stack([m[0] for m in drawn])
        A = torch.bmm(Xb, W1).view(S, B, G, h).transpose(1, 2)  # (S, G, B, h) pre-activations
        if bn:  # normalize each unit over the batch (biased variance), b1 is the shift
            Xhat = A - A.mean(dim=2, keepdim=True)
            inv_sigma = Xhat.square().mean(dim=2, keepdim=True).add_(BATCH_NORM_EPS).rsqrt_()
            A = Xhat.mul_(inv_sigma)
        torch.add(A, b1.view(S, G, 1, h), out=H)
        H.relu_()
        if p_h > 0:
            M_h = torch.stack([m[1] for m in drawn])  # (S, G, B, h)
            H.mul_(M_h)
        Hj = H.view(J, B, h)
        Z = torch.baddbmm(b2, Hj, W2)  # (J, B, k)
        onehot_idx.copy_(y[rows][:, None, :, None].expand(S, G, B, 1).reshape(J, B, 1))
        lse = Z.logsumexp(-1, keepdim=True)
        nll = lse - Z.gather(-1, onehot_idx)
        if eps_ls > 0:  # cross-entropy with targets (1 - eps) onehot + eps / k
            nll = (1 - eps_ls) * nll + eps_ls * (lse - Z.mean(dim=-1, keepdim=True))
        loss = nll.mean(dim=(1, 2))  # (J,) minibatch losses
        if limit is None:
            limit = blowup_limit(loss.to(torch.float64))
        bad = diverged_rows(loss.to(torch.float64), limit) & ~frozen
        if bool(bad.any()):
            frozen |= bad
            for p, shape in zip(views, lr_shapes, strict=True):
                p.masked_fill_(bad.view(shape), torch.nan)  # frozen: NaN from now on
        # backward of the sum over configurations of the mean losses, by hand
        dZ = Z.sub_(lse).exp_()  # softmax, in Z's memory
        if eps_ls > 0:
            dZ.sub_(eps_ls / k)
        dZ.scatter_add_(-1, onehot_idx, torch.full_like(lse, -(1.0 - eps_ls))).div_(B)
        db2 = dZ.sum(dim=1, keepdim=True)
        dW2 = torch.bmm(Hj.transpose(1, 2), dZ)
        dHj = torch.bmm(dZ, W2.transpose(1, 2))
        if p_h > 0:  # through the mask: zero where dropped, 1 / (1 - p) where kept
            dHj.mul_(M_h.view(J, B, h))
        dH = torch.ops.aten.threshold_backward(dHj, Hj, 0.0)
        db1 = dH.sum(dim=1, keepdim=True)
        dA = dH.view(S, G, B, h)
        if bn:  # dA = (dXhat - mean(dXhat) - Xhat * mean(dXhat * Xhat)) / sigma, per unit
            proj = (dA * Xhat).mean(dim=2, keepdim=True)
            dA = (dA - dA.mean(dim=2, keepdim=True)).sub_(Xhat.mul_(proj)).mul_(inv_sigma)
        dHt = dA.transpose(1, 2).reshape(S, B, G * h)  # seed-major again
        dW1 = torch.bmm(Xb.transpose(1, 2), dHt).view(S, d, G, h)  # one product per seed
        grads = [dW1, db1, dW2, db2]
        lr_t = (lr_j * eta).to(dtype)  # eta_t = eta * s_t in float64, used in the params' dtype
        track = recorded(t // steps_per_epoch + 1)
        if track:  # W1 before the step, one contiguous vector per configuration
            pair[:, :, 0].copy_(W1.view(S, d, G, h).permute(0, 2, 1, 3))
        for i, (p, g) in enumerate(zip(views, grads, strict=True)):
            lr_i = lr_t.reshape(lr_shapes[i])
            config_update_(config, p, g, m[i], v2[i] if v2 else None, t + 1, lr_i, decays[i])
        if track:
            pair[:, :, 1].copy_(W1.view(S, d, G, h).permute(0, 2, 1, 3))
            pair[:, :, 1].sub_(pair[:, :, 0])  # the step, exact (Sterbenz) or nearly
            angle_sum += _step_angle(pair)
        if config.history_every and (t + 1) % steps_per_epoch == 0:
            if recorded((t + 1) // steps_per_epoch):
                snapshot((t + 1) // steps_per_epoch)
            angle_sum.zero_()
    seconds = time.perf_counter() - start

    final = external(params)
    diverged = frozen.view(S, G).T.reshape(-1)
    if config.optimizer == "adam":
        state = {"exp_avg": external(m), "exp_avg_sq": external(v2)}
    else:
        state = {"momentum_buffer": external(m)} if use_buf else {}
    kw = {"seconds": seconds, "state": state, "steps": len(etas)}
    result = SweepResult.evaluate(split, config, final, diverged=diverged, **kw)
    # a blow-up on the last step: the final training loss against the same limit
    limit_c = limit.view(S, G).T.reshape(-1)  # external order
    late = diverged_rows(torch.as_tensor(result.train_loss.reshape(-1)), limit_c)
    late &= ~torch.as_tensor(result.diverged.reshape(-1))
    if bool(late.any()):
        final = [torch.where(late.view(-1, 1, 1), torch.nan, p) for p in final]
        result = SweepResult.evaluate(split, config, final, diverged=diverged | late, **kw)
    if config.history_every:
        dead = result.diverged.reshape(-1)
        history: dict[str, np.ndarray | None] = {"epoch": np.asarray(record["epoch"])}
        for key in keys:
            if not record[key]:
                history[key] = None
                continue
            values = np.stack(record[key], axis=-1)  # (C, E)
            values[dead, -1] = np.nan  # a blow-up on the last step shows in the last record
            history[key] = values.reshape(*config.shape, -1)
        result = dataclasses.replace(result, history=history)
    report(
        torch.as_tensor(result.diverged.reshape(-1)),
        labels=config.labels(),
        advice="lower the learning rate (or, with decoupled decay, the weight decay)",
    )
    return result
