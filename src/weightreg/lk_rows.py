"""Many linear regressions with different Lk penalties, trained as one batched computation.

Introduced in the chapter *L0.5: weights that jump across zero* (``book/lk/lhalf.md``)
and used by *L3 and L10* and *The Lk family side by side*, whose sweeps over
``k``, ``alpha``, the learning rate and the starting point run here as rows of
one weight matrix instead of a Python loop over configurations.

Conventions
-----------
* Row ``c`` of ``W`` (shape ``(C, d)``) with bias ``b[c]`` is one model
  ``x -> x @ W[c] + b[c]`` with its own ``k[c]``, ``alpha[c]`` and ``lr[c]``.
* Each row minimizes the book's objective (see :mod:`weightreg.train`)

  ``mean_i (x_i @ w + b - y_i)**2 / 2 + alpha * mean_j |w_j|**k``

  (the bias is not penalized), by one of two updates:

  - ``"grad"``: gradient descent on the whole objective, with the penalty's
    gradient taken as 0 at ``w_j = 0`` for ``k <= 1`` (as :func:`weightreg.penalties.lk_grad`);
  - ``"prox"``: a gradient step on the loss, then the proximal operator of
    ``lr * alpha * mean|w|**k`` (``k`` in {0.5, 1, 2}: :func:`~weightreg.penalties.prox_lhalf`,
    :func:`~weightreg.penalties.prox_l1`, :func:`~weightreg.penalties.prox_l2`,
    with threshold ``t = lr * alpha / d``, and ``2 * lr * alpha / d`` for k = 2);
  - ``"auto"``: ``"prox"`` for rows with ``k <= 1``, ``"grad"`` for the others.
* Every row sees the same minibatches in the same order (one shared generator),
  and by default starts from the same ``N(0, 1)`` weights and zero bias (d2l's
  initialization), so rows differ only by what the sweep varies.
* A row whose weights become non-finite or exceed ``1e6`` in magnitude is marked
  ``diverged``: it is frozen and reported with NaN weights and losses.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .data import Split, load_array
from .penalties import prox_l1, prox_l2, prox_lhalf
from .validation import check_finite_tensor, check_positive_int

__all__ = ["RowsResult", "lk_grad_rows", "objective_rows", "train_rows"]

_BLOWUP = 1e6
_METHODS = ("grad", "prox", "auto")


def _as_column(name: str, value: float | torch.Tensor, dtype: torch.dtype, *, positive: bool):
    t = torch.as_tensor(value, dtype=dtype)
    if t.dim() > 1:
        raise ValueError(f"{name} must be a number or a 1-D tensor (one value per row)")
    check_finite_tensor(name, t.reshape(-1))
    if positive and bool((t <= 0).any()):
        raise ValueError(f"{name} must be > 0 for every row")
    if not positive and bool((t < 0).any()):
        raise ValueError(f"{name} must be >= 0 for every row")
    return t.reshape(-1)


def lk_grad_rows(W: torch.Tensor, k: torch.Tensor, alpha: torch.Tensor) -> torch.Tensor:
    r"""Gradient of ``alpha[c] * mean_j |W[c, j]|**k[c]`` for every row ``c`` at once.

    .. math:: \frac{\partial}{\partial W_{cj}} = \frac{\alpha_c k_c}{d}
              \operatorname{sign}(W_{cj}) |W_{cj}|^{k_c - 1}, \quad \text{0 where } W_{cj} = 0,

    the row-wise batch of :func:`weightreg.penalties.lk_grad` (same values, same
    choice 0 at ``w = 0``), with one ``k`` and one ``alpha`` per row (shape ``(C,)``).
    Introduced in *L0.5*.
    """
    check_finite_tensor("W", W)
    if W.dim() != 2:
        raise ValueError(f"W must have shape (rows, d), got {tuple(W.shape)}")
    k = _as_column("k", k, W.dtype, positive=True)
    alpha = _as_column("alpha", alpha, W.dtype, positive=False)
    zero = W == 0
    safe = torch.where(zero, torch.ones_like(W), W)
    g = k[:, None] * torch.sign(safe) * safe.abs() ** (k[:, None] - 1)
    g = torch.where(zero, torch.zeros_like(W), g)
    return alpha[:, None] / W.shape[1] * g


def objective_rows(
    X: torch.Tensor,
    y: torch.Tensor,
    W: torch.Tensor,
    b: torch.Tensor,
    k: float | torch.Tensor,
    alpha: float | torch.Tensor,
) -> torch.Tensor:
    r"""The training objective of every row ``c``, shape ``(C,)``.

    .. math:: \frac{1}{n}\sum_i \tfrac12 (x_i^\top W_c + b_c - y_i)^2
              + \alpha_c \frac{1}{d}\sum_j |W_{cj}|^{k_c}

    ``k`` and ``alpha`` are numbers or one value per row.  Introduced in *L0.5*.
    """
    k = _as_column("k", k, W.dtype, positive=True)
    alpha = _as_column("alpha", alpha, W.dtype, positive=False)
    loss = _losses(X, y, W, b)
    zero = W == 0
    safe = torch.where(zero, torch.ones_like(W), W).abs()
    pen = torch.where(zero, torch.zeros_like(W), safe ** k[:, None]).mean(dim=1)
    return loss + alpha * pen


def _losses(X: torch.Tensor, y: torch.Tensor, W: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    resid = X @ W.T + b - y.reshape(-1, 1)
    return (resid**2 / 2).mean(dim=0)


@dataclass(frozen=True)
class RowsResult:
    """What :func:`train_rows` returns.

    ``W (C, d)`` and ``b (C,)`` are the final parameters; ``losses[name]`` has
    shape ``(C, num_epochs)``: the mean squared loss (with the 1/2) on the
    training set (``"train"``) and on every set of ``eval_data`` after each
    epoch; ``flips (C,)`` counts sign changes of the weights during the last
    epoch (summed over weights and steps); ``diverged (C,)`` flags rows that
    blew up (their weights and losses are NaN).
    """

    W: torch.Tensor
    b: torch.Tensor
    losses: dict[str, torch.Tensor]
    flips: torch.Tensor
    diverged: torch.Tensor

    def final(self, name: str) -> torch.Tensor:
        """The last epoch's ``losses[name]``, shape ``(C,)``."""
        return self.losses[name][:, -1]


def train_rows(
    split: Split,
    k: float | torch.Tensor,
    alpha: float | torch.Tensor,
    *,
    lr: float | torch.Tensor,
    num_epochs: int,
    method: str = "grad",
    W0: torch.Tensor | None = None,
    batch_size: int | None = None,
    seed: int = 0,
    eval_data: dict[str, tuple[torch.Tensor, torch.Tensor]] | None = None,
    dtype: torch.dtype | None = None,
) -> RowsResult:
    r"""Train ``C`` penalized linear regressions on ``split`` at once; see the module notes.

    ``k``, ``alpha`` and ``lr`` are numbers or 1-D tensors of length ``C``
    (broadcast against each other and against the rows of ``W0``).  ``W0``
    (shape ``(C, d)`` or ``(d,)``) is the starting point; ``None`` draws one
    ``N(0, 1)`` vector from a generator seeded with ``seed`` and gives it to every
    row.  ``batch_size=None`` takes full-batch steps (one step per epoch);
    otherwise minibatches of :func:`weightreg.data.load_array`, shuffled by a
    generator seeded with ``seed``.  ``method`` is ``"grad"``, ``"prox"`` or
    ``"auto"``.  ``eval_data`` maps names to ``(X, y)`` sets to evaluate after
    every epoch (the training set is always evaluated as ``"train"``).
    Runs in ``dtype`` (default: the dtype of ``split.X_train``): the float32 baseline
    of *Overfitting in high dimensions* can be trained in float64 on the same data.
    """
    if method not in _METHODS:
        raise ValueError(f"method must be one of {_METHODS}, got {method!r}")
    num_epochs = check_positive_int("num_epochs", num_epochs)
    dtype = split.X_train.dtype if dtype is None else dtype
    if not dtype.is_floating_point:
        raise TypeError(f"dtype must be a floating dtype, got {dtype}")
    X, y = split.X_train.to(dtype), split.y_train.to(dtype)
    d = X.shape[1]
    k_c = _as_column("k", k, dtype, positive=True)
    a_c = _as_column("alpha", alpha, dtype, positive=False)
    lr_c = _as_column("lr", lr, dtype, positive=True)
    if W0 is None:
        gen = torch.Generator().manual_seed(seed)
        W0 = torch.normal(0.0, 1.0, (d,), generator=gen, dtype=split.X_train.dtype)
    check_finite_tensor("W0", W0)
    if W0.shape[-1] != d or W0.dim() > 2:
        raise ValueError(f"W0 must have shape (d,) or (rows, d) with d={d}, got {tuple(W0.shape)}")
    n_rows = torch.broadcast_shapes(
        k_c.shape, a_c.shape, lr_c.shape, W0.shape[:-1] if W0.dim() == 2 else (1,)
    )[0]
    k_c, a_c, lr_c = (t.expand(n_rows).clone() for t in (k_c, a_c, lr_c))
    W = W0.to(dtype).expand(n_rows, d).clone()
    b = torch.zeros(n_rows, dtype=dtype)
    use_prox = torch.zeros(n_rows, dtype=torch.bool)
    if method in ("prox", "auto"):
        proxable = (k_c == 0.5) | (k_c == 1) | (k_c == 2)
        use_prox = proxable if method == "prox" else k_c <= 1
        if method == "prox" and not bool(proxable.all()):
            raise ValueError("method='prox' needs k in {0.5, 1, 2} for every row")
        if method == "auto" and not bool(((k_c > 1) | proxable).all()):
            raise ValueError("method='auto' needs k in {0.5, 1} for rows with k <= 1")
    t_c = lr_c * a_c / d
    lr_col, t_col = lr_c[:, None], t_c[:, None]
    is_half, is_one = (k_c == 0.5)[:, None], (k_c == 1)[:, None]
    is_two = (k_c == 2)[:, None]
    prox_rows = use_prox[:, None]

    sets = {"train": (X, y)}
    for name, (Xs, ys) in (eval_data or {}).items():
        sets[name] = (Xs.to(dtype), ys.to(dtype))
    losses = {name: torch.empty(n_rows, num_epochs, dtype=dtype) for name in sets}
    alive = torch.ones(n_rows, dtype=torch.bool)
    flips = torch.zeros(n_rows, dtype=torch.long)
    if batch_size is None:
        batches = None
    else:
        batch_size = check_positive_int("batch_size", batch_size)
        batches = load_array((X, y), batch_size, generator=torch.Generator().manual_seed(seed))

    def step(Xb: torch.Tensor, yb: torch.Tensor) -> torch.Tensor:
        nonlocal W, b, alive
        resid = Xb @ W.T + b - yb.reshape(-1, 1)  # (B, C)
        g_w = resid.T @ Xb / len(Xb)
        g_b = resid.mean(dim=0)
        z = W - lr_col * g_w
        new = z - lr_col * lk_grad_rows(W, k_c, a_c)
        if bool(use_prox.any()):
            prox = torch.where(is_half, prox_lhalf(z, t_col), prox_l1(z, t_col))
            prox = torch.where(is_two, prox_l2(z, 2 * t_col), prox)
            prox = torch.where(is_one | is_half | is_two, prox, new)
            new = torch.where(prox_rows, prox, new)
        b_new = b - lr_c * g_b
        ok = torch.isfinite(new).all(dim=1) & (new.abs().amax(dim=1) < _BLOWUP)
        ok &= torch.isfinite(b_new) & alive
        alive = ok
        flipped = (torch.sign(new) * torch.sign(W) < 0).sum(dim=1)
        W = torch.where(ok[:, None], new, torch.zeros_like(W))
        b = torch.where(ok, b_new, torch.zeros_like(b))
        return flipped

    for epoch in range(num_epochs):
        flips_epoch = torch.zeros(n_rows, dtype=torch.long)
        for Xb, yb in batches if batches is not None else [(X, y)]:
            flips_epoch += step(Xb, yb)
        flips = flips_epoch
        for name, (Xs, ys) in sets.items():
            losses[name][:, epoch] = _losses(Xs, ys, W, b)
    nan = torch.tensor(float("nan"), dtype=dtype)
    dead = ~alive
    W = torch.where(dead[:, None], nan, W)
    b = torch.where(dead, nan, b)
    for v in losses.values():
        v[dead] = nan
    return RowsResult(W=W, b=b, losses=losses, flips=flips, diverged=dead)
