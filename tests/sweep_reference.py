"""Two independent implementations of :func:`weightreg.optim_sweep.sweep`, for tests and bench.

* :func:`sweep_loop` trains the configurations one after the other, each with its own
  parameters, autograd and a ``torch.optim.Optimizer`` (the book's :mod:`weightreg.optim`
  classes, or :mod:`torch.optim`'s);
* :func:`sweep_vmap` is PyTorch's own way to train many small models at once
  (``torch.func.stack_module_state`` + ``vmap`` + ``functional_call`` over ``nn.Sequential``
  copies), with the same update rule applied to the stacked parameters.

Both start from :func:`~weightreg.optim_sweep.init_mlp`'s weights, see
:func:`~weightreg.optim_sweep.minibatch_order`'s batches, run on one thread and return a
:class:`~weightreg.optim_sweep.SweepResult` with the same layout.  They apply no divergence
policy: they are references for grids that do not diverge.  :func:`sweep_loop` also covers
``normalization="batch"`` (``torch.nn.functional.batch_norm`` in training mode, the
weight-norm and angle history); :func:`sweep_vmap` does not.  ``tests/test_optim_sweep.py``
and ``bench/sweep.py`` (``make bench``) import this module: one copy.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import time
from typing import Literal

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call, grad, stack_module_state, vmap

from weightreg.data import Split
from weightreg.optim import SGD, Adam
from weightreg.optim_sweep import (
    BATCH_NORM_EPS,
    SweepConfig,
    SweepResult,
    _single_threaded,
    check_split,
    config_update_,
    init_mlp,
    minibatch_order,
    schedule_multipliers,
)
from weightreg.seeding import streams

__all__ = ["sweep_loop", "sweep_vmap"]


_one_thread = _single_threaded  # one thread, like sweep


def angle_between(u: torch.Tensor, v: torch.Tensor) -> float:
    """The angle between ``u`` and ``v`` (float64, radians) by Kahan's formula
    ``2 atan2(||u/|u| - v/|v|||, ||u/|u| + v/|v|||)``: accurate for tiny angles, and a
    different formula from the sweep's."""
    a = u.to(torch.float64).flatten()
    b = v.to(torch.float64).flatten()
    a, b = a / a.norm(), b / b.norm()
    return 2.0 * math.atan2(float((a - b).norm()), float((a + b).norm()))


def _make_optimizer(groups: list[dict], config: SweepConfig, backend: str, lr: float):
    if config.optimizer == "sgd":
        if backend == "torch":
            return torch.optim.SGD(groups, lr=lr, momentum=config.momentum)
        return SGD(groups, lr=lr, momentum=config.momentum, decoupled=config.decoupled)
    if backend == "torch":
        cls = torch.optim.AdamW if config.decoupled else torch.optim.Adam
        return cls(groups, lr=lr, betas=config.betas, eps=config.eps)
    return Adam(groups, lr=lr, betas=config.betas, eps=config.eps, decoupled=config.decoupled)


@_one_thread
def sweep_loop(
    split: Split, config: SweepConfig, *, backend: Literal["weightreg", "torch"] = "weightreg"
) -> SweepResult:
    """The same training as ``sweep``, one configuration after the other.

    Each configuration gets its own parameters and its own optimizer with two parameter
    groups (weights decayed, biases not): :class:`weightreg.optim.SGD` / ``Adam``
    (``backend="weightreg"``) or ``torch.optim.SGD``, ``Adam`` and ``AdamW``
    (``backend="torch"``; PyTorch has no SGDW, so ``optimizer="sgd", decoupled=True`` raises
    ``ValueError`` there); with ``decay_w2=False`` ``W2`` joins the biases' group.
    ``normalization="batch"``: ``F.batch_norm(X W1, training=True,
    eps=BATCH_NORM_EPS)`` without affine parameters, then ``+ b1``.  With ``history_every > 0``
    the result's history has the keys ``"epoch"``, ``"w1_norm"``, ``"w2_norm"`` and
    ``"w1_angle"`` (the angle by :func:`angle_between`), and ``"test_error"`` and
    ``"train_loss"`` from :meth:`SweepResult.evaluate` of the recorded weights.
    """
    if backend not in ("weightreg", "torch"):
        raise ValueError(f"backend must be 'weightreg' or 'torch', got {backend!r}")
    if backend == "torch" and config.optimizer == "sgd" and config.decoupled:
        raise ValueError("backend='torch' has no decoupled SGD: use backend='weightreg'")
    k = check_split(split)
    start = time.perf_counter()
    X, y = split.X_train.to(config.dtype), split.y_train
    n, d = X.shape
    orders = {s: minibatch_order(n, config.batch_size, config.num_epochs, s) for s in config.seeds}
    etas = schedule_multipliers(len(orders[config.seeds[0]]), config.schedule)
    finals, states = [], []
    G = len(config.lrs) * len(config.weight_decays)
    steps_per_epoch = len(etas) // config.num_epochs
    every = config.history_every
    epochs = [
        e
        for e in range(1, config.num_epochs + 1)
        if every and (e % every == 0 or e == config.num_epochs)
    ]
    logs: list[dict[str, list]] = []  # per configuration: norms, angles, weights per epoch
    for c, (lr, wd, seed) in enumerate(config.grid()):
        g = c // len(config.seeds)  # the configuration's index among its seed's G
        noise = streams(seed).noise  # replayed: the same masks as sweep's
        W1, b1, W2, b2 = init_mlp(d, config.hidden, k, seed, dtype=config.dtype)
        for p in (W1, b1, W2, b2):
            p.requires_grad_(True)
        decayed, free = ([W1, W2], [b1, b2]) if config.decay_w2 else ([W1], [b1, W2, b2])
        groups = [
            {"params": decayed, "weight_decay": config.torch_decay(lr, wd)},
            {"params": free, "weight_decay": 0.0},
        ]
        opt = _make_optimizer(groups, config, backend, lr)
        log: dict[str, list] = {"w1_norm": [], "w2_norm": [], "w1_angle": [], "params": []}
        angles: list[float] = []
        for t, eta in enumerate(etas):
            for group in opt.param_groups:
                group["lr"] = lr * eta
            rows = orders[seed][t]
            Xb, B = X[rows], len(rows)
            m_in = m_h = None
            if config.input_dropout > 0:
                keep = torch.rand(B, d, generator=noise, dtype=config.dtype) >= config.input_dropout
                m_in = keep.to(config.dtype) / (1 - config.input_dropout)
            if config.dropout > 0:
                shape = (G, B, config.hidden)
                keep = torch.rand(*shape, generator=noise, dtype=config.dtype) >= config.dropout
                m_h = keep[g].to(config.dtype) / (1 - config.dropout)
            if m_in is not None:
                Xb = Xb * m_in
            pre = Xb @ W1
            if config.normalization == "batch":
                pre = F.batch_norm(pre, None, None, training=True, eps=BATCH_NORM_EPS)
            hidden = torch.relu(pre + b1)
            if m_h is not None:
                hidden = hidden * m_h
            loss = F.cross_entropy(
                hidden @ W2 + b2, y[rows], label_smoothing=config.label_smoothing
            )
            opt.zero_grad()
            loss.backward()
            before = W1.detach().clone()
            opt.step()
            angles.append(angle_between(before, W1.detach()))
            if (t + 1) % steps_per_epoch == 0 and (t + 1) // steps_per_epoch in epochs:
                log["w1_norm"].append(float(W1.detach().to(torch.float64).norm()))
                log["w2_norm"].append(float(W2.detach().to(torch.float64).norm()))
                log["w1_angle"].append(float(np.mean(angles[-steps_per_epoch:])))
                log["params"].append([p.detach().clone() for p in (W1, b1, W2, b2)])
        logs.append(log)
        finals.append([p.detach() for p in (W1, b1, W2, b2)])
        states.append(
            {
                key: [opt.state[p][key] for p in (W1, b1, W2, b2)]
                for key in opt.state[W1]
                if key != "step"
            }
        )
    seconds = time.perf_counter() - start
    params = [torch.stack([f[i] for f in finals]) for i in range(4)]
    state = {
        key: [torch.stack([st[key][i] for st in states]) for i in range(4)] for key in states[0]
    }
    result = SweepResult.evaluate(
        split, config, params, seconds=seconds, state=state, steps=len(etas)
    )
    if not epochs:
        return result
    history = {"epoch": np.asarray(epochs), "val_error": None}
    for key in ("w1_norm", "w2_norm", "w1_angle"):
        history[key] = np.array([log[key] for log in logs]).reshape(*config.shape, -1)
    at_epoch = [
        SweepResult.evaluate(
            split, config, [torch.stack([log["params"][e][i] for log in logs]) for i in range(4)]
        )
        for e in range(len(epochs))
    ]
    for key in ("test_error", "train_loss"):
        history[key] = np.stack([getattr(r, key) for r in at_epoch], axis=-1)
    return dataclasses.replace(result, history=history)


@_one_thread
def sweep_vmap(split: Split, config: SweepConfig) -> SweepResult:
    """The same training as ``sweep`` with ``torch.func``: PyTorch's ensembling recipe.

    ``C`` copies of ``nn.Sequential(nn.Linear(d, hidden), nn.ReLU(), nn.Linear(hidden, k))``
    get :func:`~weightreg.optim_sweep.init_mlp`'s weights (transposed: ``nn.Linear`` stores
    ``(out, in)``); ``stack_module_state`` stacks them; every step computes all ``C``
    gradients with ``vmap(grad(loss))`` over ``functional_call``, and the book's update
    kernels update the stacks with per-configuration ``lr`` and ``weight_decay``.
    """
    if config.normalization != "none":
        raise ValueError("sweep_vmap has no BatchNorm: use sweep_loop")
    k = check_split(split)
    start = time.perf_counter()
    X, y = split.X_train.to(config.dtype), split.y_train
    n, d = X.shape
    grid = config.grid()
    C = len(grid)
    inits = {s: init_mlp(d, config.hidden, k, s, dtype=config.dtype) for s in config.seeds}
    models = []
    for _, _, s in grid:
        W1, b1, W2, b2 = inits[s]
        model = nn.Sequential(nn.Linear(d, config.hidden), nn.ReLU(), nn.Linear(config.hidden, k))
        model = model.to(config.dtype)
        with torch.no_grad():
            model[0].weight.copy_(W1.T)
            model[0].bias.copy_(b1[0])
            model[2].weight.copy_(W2.T)
            model[2].bias.copy_(b2[0])
        models.append(model)
    params, _ = stack_module_state(models)
    params = {name: p.detach() for name, p in params.items()}
    base = copy.deepcopy(models[0]).to("meta")

    def loss_fn(p: dict[str, torch.Tensor], xb: torch.Tensor, yb: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(functional_call(base, p, (xb,)), yb)

    grad_all = vmap(grad(loss_fn))
    names = ["0.weight", "0.bias", "2.weight", "2.bias"]
    lr = torch.tensor([g[0] for g in grid], dtype=torch.float64)
    wd = torch.tensor([config.torch_decay(g[0], g[1]) for g in grid], dtype=torch.float64)
    shapes = {name: (C,) + (1,) * (params[name].dim() - 1) for name in names}
    decays = {
        name: (
            wd.reshape(shapes[name]).to(config.dtype)
            if name == "0.weight" or (name == "2.weight" and config.decay_w2)
            else 0.0
        )
        for name in names
    }
    m = {name: torch.zeros_like(params[name]) for name in names}
    v = {name: torch.zeros_like(params[name]) for name in names}
    use_buf = config.optimizer == "sgd" and config.momentum != 0
    orders = {s: minibatch_order(n, config.batch_size, config.num_epochs, s) for s in config.seeds}
    order = torch.stack([orders[s] for _, _, s in grid], dim=1)  # (T, C, B)
    etas = schedule_multipliers(order.shape[0], config.schedule)
    for t, eta in enumerate(etas):
        rows = order[t]
        grads = grad_all(params, X[rows], y[rows])
        lr_t = (lr * eta).to(config.dtype)
        for name in names:
            lr_n = lr_t.reshape(shapes[name])
            config_update_(
                config, params[name], grads[name], m[name], v[name], t + 1, lr_n, decays[name]
            )
    seconds = time.perf_counter() - start

    def layout(t: dict[str, torch.Tensor]) -> list[torch.Tensor]:  # nn.Linear -> (C, in, out)
        return [
            t["0.weight"].transpose(1, 2),
            t["0.bias"][:, None],
            t["2.weight"].transpose(1, 2),
            t["2.bias"][:, None],
        ]

    if config.optimizer == "adam":
        state = {"exp_avg": layout(m), "exp_avg_sq": layout(v)}
    else:
        state = {"momentum_buffer": layout(m)} if use_buf else {}
    return SweepResult.evaluate(
        split, config, layout(params), seconds=seconds, state=state, steps=len(etas)
    )
