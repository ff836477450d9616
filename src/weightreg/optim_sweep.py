"""Train a whole grid of (learning rate, weight decay, seed) configurations at once.

Introduced in the chapter *L2 regularization is weight decay under SGD*
(``book/decay/sgd.md``) and used for the learning-rate x weight-decay heatmaps of *Why
L2 fails under Adam, and what AdamW does* (``book/decay/adamw.md``).

The model is a one-hidden-layer ReLU network ``logits = relu(X W1 + b1) W2 + b2``
trained with the mean cross-entropy on minibatches.  ``C`` configurations are
trained as **one** computation: every parameter is stored as a stack with a leading
dimension ``C`` (``W1`` is ``(C, d, hidden)``), the forward pass is two batched
matrix products (:func:`torch.baddbmm`), one backward pass through the sum of the
``C`` mean losses gives every configuration its own gradient (the configurations do
not interact), and the update rules of :mod:`weightreg.optim` run on the stacks with
per-configuration ``lr`` and ``weight_decay`` tensors of shape ``(C, 1, 1)``.

Conventions
-----------
* Configuration ``c`` has index ``(i_lr * n_wd + i_wd) * n_seed + i_seed``; results
  come back as arrays of shape ``(n_lr, n_wd, n_seed)``.
* Weight decay applies to ``W1`` and ``W2``, never to the biases.
* A seed fixes the initial weights (``nn.Linear``'s uniform
  ``U(-1/sqrt(fan_in), 1/sqrt(fan_in))``) and the minibatch order (a fresh permutation
  every epoch, the last incomplete batch dropped), so all configurations of one seed
  start from the same weights and see the same batches.
* The learning rate of step ``t`` (0, 1, ..., T-1) is ``lr * eta_t`` with the schedule
  multiplier ``eta_t = 1`` (``"constant"``) or ``(1 + cos(pi t / T)) / 2`` (``"cosine"``).
* ``weight_decays`` means, for ``decoupled=False``, the L2 coefficient ``lambda'``
  (``lambda' * w`` is added to the gradient); for ``decoupled=True`` with
  ``decay_convention="paper"`` (default), Loshchilov & Hutter's ``lambda``: each step
  shrinks ``w`` by the factor ``1 - eta_t * lambda``, whatever the learning rate; with
  ``decay_convention="torch"``, PyTorch's: ``1 - lr * eta_t * lambda``.

:func:`sweep_loop` trains the same configurations one by one with the
:class:`torch.optim.Optimizer` classes of :mod:`weightreg.optim` (or of
:mod:`torch.optim`): the reference that the batched :func:`sweep` is tested against.
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal, ParamSpec, TypeVar

import numpy as np
import torch
import torch.nn.functional as F

from .data import Split
from .optim import SGD, Adam, adam_update_, sgd_update_
from .validation import (
    check_nonnegative,
    check_positive,
    check_positive_int,
    check_probability,
)

__all__ = [
    "SweepResult",
    "init_mlp",
    "minibatch_order",
    "schedule_multipliers",
    "sweep",
    "sweep_loop",
]

Optimizer = Literal["sgd", "adam"]
Schedule = Literal["constant", "cosine"]
Convention = Literal["paper", "torch"]
P = ParamSpec("P")
R = TypeVar("R")


@dataclass(frozen=True)
class SweepResult:
    """What :func:`sweep` (or :func:`sweep_loop`) measured after the last step.

    ``test_error`` and ``train_loss`` have shape ``(n_lr, n_wd, n_seed)``; a
    configuration whose weights became NaN or infinite has ``diverged`` set and NaN
    in both.  ``params`` are the final stacked parameters ``[W1, b1, W2, b2]`` with a
    leading configuration dimension; ``seconds`` is the wall time of the training.
    ``state`` holds the optimizer's final state in the same layout:
    ``{"momentum_buffer": [...]}`` for SGD with momentum, ``{"exp_avg": [...],
    "exp_avg_sq": [...]}`` for Adam (not bias-corrected), after ``steps`` steps.
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

    def ridge_slope(self, within: float = 0.25) -> float:
        """Slope ``s`` of ``log10(best decay)`` against ``log10(lr)`` over the good rows.

        ``s = 0``: the best weight decay does not depend on the learning rate (the good
        region is axis-aligned, the two hyper-parameters are *separable*); ``s = 1``: the
        best decay is proportional to the learning rate (a diagonal valley).  Least
        squares over :meth:`best_decays`; NaN with fewer than two good rows.
        """
        lrs, decays = self.best_decays(within)
        if len(lrs) < 2:
            return float("nan")
        return float(np.polyfit(np.log10(lrs), np.log10(decays), 1)[0])


def schedule_multipliers(num_steps: int, schedule: Schedule = "cosine") -> list[float]:
    """The multipliers ``eta_0, ..., eta_{T-1}``: all 1, or ``(1 + cos(pi t / T)) / 2``."""
    num_steps = check_positive_int("num_steps", num_steps)
    if schedule == "constant":
        return [1.0] * num_steps
    if schedule == "cosine":
        return [0.5 * (1.0 + math.cos(math.pi * t / num_steps)) for t in range(num_steps)]
    raise ValueError(f"schedule must be 'constant' or 'cosine', got {schedule!r}")


def init_mlp(
    num_inputs: int, hidden: int, num_outputs: int, seed: int, *, dtype: torch.dtype
) -> list[torch.Tensor]:
    """Initial ``[W1 (d, hidden), b1 (1, hidden), W2 (hidden, k), b2 (1, k)]`` for ``seed``.

    Every entry of a layer with ``fan_in`` inputs is drawn from
    ``U(-1/sqrt(fan_in), 1/sqrt(fan_in))`` (``nn.Linear``'s default), from a generator
    seeded with ``seed``, in the order W1, b1, W2, b2.
    """
    gen = torch.Generator().manual_seed(seed)
    out = []
    for fan_in, fan_out in ((num_inputs, hidden), (hidden, num_outputs)):
        bound = 1.0 / math.sqrt(fan_in)
        for shape in ((fan_in, fan_out), (1, fan_out)):
            u = torch.rand(shape, generator=gen, dtype=torch.float64)
            out.append(((2 * u - 1) * bound).to(dtype))
    return out


def minibatch_order(n: int, batch_size: int, num_epochs: int, seed: int) -> torch.Tensor:
    """Row indices of every minibatch, shape ``(num_epochs * (n // batch_size), batch_size)``.

    A new random permutation of ``range(n)`` each epoch (generator seeded with
    ``seed + 1_000_003``, independent of :func:`init_mlp`'s); the last ``n %
    batch_size`` rows of each permutation are dropped.
    """
    n = check_positive_int("n", n)
    batch_size = check_positive_int("batch_size", batch_size)
    num_epochs = check_positive_int("num_epochs", num_epochs)
    if batch_size > n:
        raise ValueError(f"batch_size must be <= {n} (the training set's size), got {batch_size}")
    gen = torch.Generator().manual_seed(seed + 1_000_003)
    per_epoch = n // batch_size
    batches = [
        torch.randperm(n, generator=gen)[: per_epoch * batch_size].reshape(per_epoch, batch_size)
        for _ in range(num_epochs)
    ]
    return torch.cat(batches)


def _check_args(
    lrs: Sequence[float],
    weight_decays: Sequence[float],
    seeds: Sequence[int],
    optimizer: str,
    convention: str,
    momentum: float,
    betas: tuple[float, float],
    eps: float,
    hidden: int,
    num_epochs: int,
) -> tuple[np.ndarray, np.ndarray, tuple[int, ...]]:
    lrs = np.asarray([check_positive(f"lrs[{i}]", v) for i, v in enumerate(lrs)])
    wds = np.asarray([float(v) for v in weight_decays])
    if lrs.size == 0 or wds.size == 0 or len(seeds) == 0:
        raise ValueError("lrs, weight_decays and seeds must each list at least one value")
    if not np.all(np.isfinite(wds)) or np.any(wds < 0):
        raise ValueError(f"weight_decays must be finite and >= 0, got {wds.tolist()}")
    for i, s in enumerate(seeds):
        if isinstance(s, bool) or not isinstance(s, int) or s < 0:
            raise ValueError(f"seeds[{i}] must be an int >= 0, got {s!r}")
    if optimizer not in ("sgd", "adam"):
        raise ValueError(f"optimizer must be 'sgd' or 'adam', got {optimizer!r}")
    if convention not in ("paper", "torch"):
        raise ValueError(f"decay_convention must be 'paper' or 'torch', got {convention!r}")
    check_probability("momentum", momentum)
    check_probability("betas[0]", betas[0])
    check_probability("betas[1]", betas[1])
    check_positive("eps", eps)
    check_positive_int("hidden", hidden)
    check_positive_int("num_epochs", num_epochs)
    return lrs, wds, tuple(seeds)


def _torch_decay(wd: float, lr: float, decoupled: bool, convention: str) -> float:
    """The ``weight_decay`` handed to the update rule (PyTorch's convention)."""
    return wd / lr if decoupled and convention == "paper" else wd


def _result(
    params: list[torch.Tensor],
    split: Split,
    lrs: np.ndarray,
    wds: np.ndarray,
    seeds: tuple[int, ...],
    seconds: float,
    state: dict[str, list[torch.Tensor]],
    steps: int,
) -> SweepResult:
    """Evaluate stacked parameters: train loss, test error, NaN where diverged."""
    W1, b1, W2, b2 = params

    def logits(X: torch.Tensor) -> torch.Tensor:
        return torch.relu(torch.matmul(X, W1) + b1) @ W2 + b2

    with torch.no_grad():
        z_tr = logits(split.X_train.to(W1.dtype))
        C, n, k = z_tr.shape
        y_tr = split.y_train.expand(C, n).reshape(-1)
        loss = F.cross_entropy(z_tr.reshape(C * n, k), y_tr, reduction="none")
        train_loss = loss.reshape(C, n).mean(dim=1).to(torch.float64)
        z_te = logits(split.X_test.to(W1.dtype))
        err = (z_te.argmax(dim=-1) != split.y_test).to(torch.float64).mean(dim=1)
        finite = torch.stack([torch.isfinite(p).flatten(1).all(dim=1) for p in params])
        finite = finite.all(dim=0)
    shape = (len(lrs), len(wds), len(seeds))
    train_loss = torch.where(finite, train_loss, torch.nan).numpy().reshape(shape)
    err = torch.where(finite, err, torch.nan).numpy().reshape(shape)
    return SweepResult(
        lrs, wds, seeds, err, train_loss, np.isnan(err), params, seconds, state, steps
    )


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


@_single_threaded
def sweep(
    split: Split,
    *,
    optimizer: Optimizer,
    decoupled: bool,
    lrs: Sequence[float],
    weight_decays: Sequence[float],
    seeds: Sequence[int] = (0, 1, 2),
    hidden: int = 32,
    num_epochs: int = 20,
    batch_size: int = 32,
    momentum: float = 0.9,
    betas: tuple[float, float] = (0.9, 0.999),
    eps: float = 1e-8,
    schedule: Schedule = "cosine",
    decay_convention: Convention = "paper",
    dtype: torch.dtype = torch.float64,
) -> SweepResult:
    """Train every (lr, weight decay, seed) configuration of the grid at once; see the module.

    ``optimizer="sgd"`` uses :func:`weightreg.optim.sgd_update_` with ``momentum``;
    ``"adam"`` uses :func:`weightreg.optim.adam_update_` with ``betas`` and ``eps``.
    ``decoupled`` picks L2 (False) or decoupled decay (True), and ``weight_decays``
    are read as the module docstring says.  Returns a :class:`SweepResult`.

    Runs on one thread (restored afterwards): the batched products are small, and
    on a shared machine a second intra-op thread made the sweep several times slower.
    """
    lrs, wds, seeds = _check_args(
        lrs,
        weight_decays,
        seeds,
        optimizer,
        decay_convention,
        momentum,
        betas,
        eps,
        hidden,
        num_epochs,
    )
    start = time.perf_counter()
    X, y = split.X_train.to(dtype), split.y_train
    n, d = X.shape
    k = int(max(split.y_train.max(), split.y_test.max())) + 1
    grid = [(lr, wd, s) for lr in lrs for wd in wds for s in range(len(seeds))]
    seed_of = torch.tensor([s for _, _, s in grid])
    lr = torch.tensor([g[0] for g in grid], dtype=torch.float64).reshape(-1, 1, 1)
    wd = [_torch_decay(g[1], g[0], decoupled, decay_convention) for g in grid]
    wd = torch.tensor(wd, dtype=torch.float64).reshape(-1, 1, 1)

    inits = [init_mlp(d, hidden, k, s, dtype=dtype) for s in seeds]
    params = [torch.stack([inits[s][i] for s in seed_of.tolist()]) for i in range(4)]
    for p in params:
        p.requires_grad_(True)
    decays = [wd.to(dtype), 0.0, wd.to(dtype), 0.0]  # W1, b1, W2, b2: no decay on the biases
    m = [torch.zeros_like(p) for p in params]  # momentum buffer / Adam's first moment
    v = [torch.zeros_like(p) for p in params]  # Adam's second moment
    order = torch.stack([minibatch_order(n, batch_size, num_epochs, s) for s in seeds])
    etas = schedule_multipliers(order.shape[1], schedule)

    for t, eta in enumerate(etas):
        rows = order[seed_of, t]  # (C, batch_size): the batch each configuration sees
        W1, b1, W2, b2 = params
        z = torch.baddbmm(b2, torch.relu(torch.baddbmm(b1, X[rows], W1)), W2)
        loss = F.cross_entropy(z.reshape(-1, k), y[rows].reshape(-1), reduction="sum")
        grads = torch.autograd.grad(loss / batch_size, params)  # the sum of C mean losses
        lr_t = (lr * eta).to(dtype)  # multiplied in float64, used in the parameters' dtype
        with torch.no_grad():
            for i, (p, g) in enumerate(zip(params, grads, strict=True)):
                if optimizer == "sgd":
                    buf = m[i] if momentum else None
                    sgd_update_(
                        p,
                        g,
                        buf,
                        lr=lr_t,
                        momentum=momentum,
                        weight_decay=decays[i],
                        decoupled=decoupled,
                    )
                else:
                    adam_update_(
                        p,
                        g,
                        m[i],
                        v[i],
                        t + 1,
                        lr=lr_t,
                        betas=betas,
                        eps=eps,
                        weight_decay=decays[i],
                        decoupled=decoupled,
                    )
    params = [p.detach() for p in params]
    if optimizer == "adam":
        state = {"exp_avg": m, "exp_avg_sq": v}
    else:
        state = {"momentum_buffer": m} if momentum else {}
    seconds = time.perf_counter() - start
    return _result(params, split, lrs, wds, seeds, seconds, state, len(etas))


@_single_threaded
def sweep_loop(
    split: Split,
    *,
    optimizer: Optimizer,
    decoupled: bool,
    lrs: Sequence[float],
    weight_decays: Sequence[float],
    seeds: Sequence[int] = (0, 1, 2),
    hidden: int = 32,
    num_epochs: int = 20,
    batch_size: int = 32,
    momentum: float = 0.9,
    betas: tuple[float, float] = (0.9, 0.999),
    eps: float = 1e-8,
    schedule: Schedule = "cosine",
    decay_convention: Convention = "paper",
    dtype: torch.dtype = torch.float64,
    backend: Literal["weightreg", "torch"] = "weightreg",
) -> SweepResult:
    """The same training as :func:`sweep`, one configuration after the other.

    Each configuration gets its own parameters and its own optimizer with two
    parameter groups (weights decayed, biases not): :class:`weightreg.optim.SGD` /
    :class:`weightreg.optim.Adam` (``backend="weightreg"``) or ``torch.optim.SGD``,
    ``Adam`` and ``AdamW`` (``backend="torch"``; PyTorch has no SGDW, so
    ``optimizer="sgd", decoupled=True`` raises ``ValueError`` there).  The reference
    that :func:`sweep` is tested and benchmarked against (one thread, like :func:`sweep`).
    """
    lrs, wds, seeds = _check_args(
        lrs,
        weight_decays,
        seeds,
        optimizer,
        decay_convention,
        momentum,
        betas,
        eps,
        hidden,
        num_epochs,
    )
    if backend not in ("weightreg", "torch"):
        raise ValueError(f"backend must be 'weightreg' or 'torch', got {backend!r}")
    if backend == "torch" and optimizer == "sgd" and decoupled:
        raise ValueError("backend='torch' has no decoupled SGD: use backend='weightreg'")
    start = time.perf_counter()
    X, y = split.X_train.to(dtype), split.y_train
    n, d = X.shape
    k = int(max(split.y_train.max(), split.y_test.max())) + 1
    orders = [minibatch_order(n, batch_size, num_epochs, s) for s in seeds]
    etas = schedule_multipliers(orders[0].shape[0], schedule)
    finals, states = [], []
    for lr in lrs:
        for wd in wds:
            for s, seed in enumerate(seeds):
                W1, b1, W2, b2 = init_mlp(d, hidden, k, seed, dtype=dtype)
                for p in (W1, b1, W2, b2):
                    p.requires_grad_(True)
                groups = [
                    {
                        "params": [W1, W2],
                        "weight_decay": _torch_decay(wd, lr, decoupled, decay_convention),
                    },
                    {"params": [b1, b2], "weight_decay": 0.0},
                ]
                opt = _make_optimizer(
                    groups, optimizer, decoupled, backend, float(lr), momentum, betas, eps
                )
                for t, eta in enumerate(etas):
                    for group in opt.param_groups:
                        group["lr"] = float(lr) * eta
                    rows = orders[s][t]
                    loss = F.cross_entropy(torch.relu(X[rows] @ W1 + b1) @ W2 + b2, y[rows])
                    opt.zero_grad()
                    loss.backward()
                    opt.step()
                finals.append([p.detach() for p in (W1, b1, W2, b2)])
                states.append(
                    {
                        k: [opt.state[p][k] for p in (W1, b1, W2, b2)]
                        for k in opt.state[W1]
                        if k != "step"
                    }
                )
    params = [torch.stack([f[i] for f in finals]) for i in range(4)]
    state = {k: [torch.stack([st[k][i] for st in states]) for i in range(4)] for k in states[0]}
    seconds = time.perf_counter() - start
    return _result(params, split, lrs, wds, seeds, seconds, state, len(etas))


def _make_optimizer(
    groups: list[dict],
    optimizer: str,
    decoupled: bool,
    backend: str,
    lr: float,
    momentum: float,
    betas: tuple[float, float],
    eps: float,
) -> torch.optim.Optimizer:
    if optimizer == "sgd":
        if backend == "torch":
            return torch.optim.SGD(groups, lr=lr, momentum=momentum)
        return SGD(groups, lr=lr, momentum=momentum, decoupled=decoupled)
    if backend == "torch":
        cls = torch.optim.AdamW if decoupled else torch.optim.Adam
        return cls(groups, lr=lr, betas=betas, eps=eps)
    return Adam(groups, lr=lr, betas=betas, eps=eps, decoupled=decoupled)
