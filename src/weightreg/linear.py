"""Penalized linear regression for many configurations at once: the book's one linear engine.

Introduced in the chapter *L2: shrinking every weight* (``book/lk/l2.md``) and used by every
Lk chapter (*L1*, *L0.5*, *L3 and L10*, *The Lk family side by side*): a sweep over ``k``,
``alpha``, the learning rate or the starting point is one batched computation, not a Python
loop over configurations.

Conventions
-----------
* **Configurations as rows.** Row ``c`` of ``W`` (shape ``(C, d)``) with bias ``b[c]`` (shape
  ``(C,)``) is one model ``x -> x @ W[c] + b[c]`` with its own ``k[c]``, ``alpha[c]`` and
  ``lr[c]``.
* **The objective** of row ``c`` is the book's (:mod:`weightreg.train`,
  :mod:`weightreg.penalties`)

  ``F_c(w, b) = mean_i (x_i @ w + b - y_i)**2 / 2 + alpha[c] * mean_j |w_j|**k[c]``,

  the bias never penalized.  ``y`` may be ``(n,)`` or ``(n, 1)``; everything runs in the
  dtype of ``X``.
* **The exact solution** exists in closed form for ``k = 2`` only: :func:`ridge_path`.
  :func:`fit` is the iterative one, for every ``k``: per row, gradient steps on the whole
  objective (``method="grad"``; the penalty's gradient is 0 at ``w_j = 0``, as
  :func:`weightreg.penalties.lk_grad`) or proximal gradient steps (``method="prox"``: a
  gradient step on the loss, then :func:`weightreg.penalties.prox_lk`, ``k`` in {0.5, 1, 2});
  ``"auto"`` takes the proximal step for the rows with ``k <= 1``.  Full batch (one step per
  epoch, optionally accelerated: FISTA with restart) or minibatches.  Every step runs through
  ``weightreg.proximal.solve`` (the unchecked kernel of
  :func:`weightreg.proximal.proximal_gradient`) on the iterate ``[W, b]`` (shape
  ``(C, d + 1)``), the prox acting on the ``W`` columns only.
* **Seeding** (:mod:`weightreg.seeding`): the initial weights are drawn from
  ``streams(seed).init``, the minibatch order from ``streams(seed).shuffle``; every row sees the
  same minibatches in the same order.
* **Divergence** (:mod:`weightreg.divergence`): a row whose training loss is not finite or
  exceeds ``BLOWUP_FACTOR`` times its start is frozen, reported as NaN and named in a
  :class:`~weightreg.divergence.DivergenceWarning`; when every row diverges,
  :class:`~weightreg.divergence.TrainingDiverged` is raised.
* Arguments are checked once, at the public functions; the loops run unchecked kernels.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import torch

from .divergence import blowup_limit, diverged_rows_kernel, report
from .penalties import PROX_KS, _elementwise_grad, _lk_penalty_rows, _prox_lk
from .proximal import solve
from .seeding import streams
from .validation import (
    check_bool,
    check_choice,
    check_finite_tensor,
    check_int,
    check_seed,
)

__all__ = [
    "LinearFit",
    "fit",
    "lipschitz_step",
    "loss_rows",
    "objective_rows",
    "ridge_path",
]

METHODS = ("grad", "prox", "auto")
"""The update of :func:`fit`: gradient steps, proximal steps, or proximal for ``k <= 1``."""

EvalSets = dict[str, tuple[torch.Tensor, torch.Tensor]]


@dataclass(frozen=True)
class LinearFit:
    """What :func:`fit` and :func:`ridge_path` return, one entry per row (configuration).

    ``W (C, d)`` and ``b (C,)`` are the final parameters.  ``history[name]`` has shape
    ``(C, epochs)``: the mean squared loss (with the 1/2) on the training set (``"train"``) and
    on every set of ``eval_sets`` after each epoch (empty for :func:`ridge_path`).  ``flips
    (C,)`` counts the sign changes of the weights during the last epoch, summed over weights
    and steps; a weight that passes through an exact 0 (``+0.2 -> 0 -> -0.07``) changed sign
    once.  ``diverged (C,)`` flags the rows that diverged: their ``W``, ``b`` and histories are
    NaN.
    """

    W: torch.Tensor
    b: torch.Tensor
    history: dict[str, torch.Tensor]
    flips: torch.Tensor
    diverged: torch.Tensor

    def final(self, name: str) -> torch.Tensor:
        """The last epoch's ``history[name]``, shape ``(C,)``."""
        if name not in self.history:
            raise KeyError(f"no history named {name!r}; there are {sorted(self.history)}")
        return self.history[name][:, -1]


# --- checks (public boundary only) ---------------------------------------------------------


def _check_data(X: object, y: object, *, names: tuple[str, str] = ("X", "y"), d: int | None = None):
    nx, ny = names
    X = check_finite_tensor(nx, X)
    if X.dim() != 2:
        raise ValueError(f"{nx} must have shape (n, d), got {tuple(X.shape)}")
    if d is not None and X.shape[1] != d:
        raise ValueError(f"{nx} must have d = {d} columns (as the training X), got {X.shape[1]}")
    y = check_finite_tensor(ny, y)
    y = y.reshape(-1) if y.dim() == 2 and y.shape[1] == 1 else y
    if y.shape != (X.shape[0],):
        raise ValueError(
            f"{ny} must have shape (n,) or (n, 1) with n = {X.shape[0]} (the rows of {nx}), "
            f"got {tuple(y.shape)}"
        )
    return X, y.to(X.dtype)


def _check_per_row(name: str, value: object, dtype: torch.dtype, *, positive: bool) -> torch.Tensor:
    """A real number or a real floating 0-d/1-D tensor, all ``> 0`` (or ``>= 0``); 1-D result.

    A list (``[0.1, 1.0]``) or an integer tensor is refused with a ``TypeError``: per-row values
    are a float tensor whose dtype the caller chose (``torch.tensor([0, 1, 10])`` is int64, and
    a list's values would be silently rounded to ``dtype``).
    """
    if isinstance(value, torch.Tensor):
        if not value.is_floating_point():
            raise TypeError(
                f"{name} must hold real floating numbers (a number or a float 1-D tensor, one "
                f"value per row), got dtype {value.dtype}"
            )
        t = value.detach().to(dtype)
    elif isinstance(value, numbers.Real) and not isinstance(value, bool):
        t = torch.tensor(float(value), dtype=dtype)
    else:
        raise TypeError(
            f"{name} must be a number or a real floating 1-D tensor (one value per row), "
            f"got {type(value).__name__} {value!r:.60}"
        )
    if t.dim() > 1:
        raise ValueError(
            f"{name} must be a number or a 1-D tensor (one value per row), got shape "
            f"{tuple(t.shape)}"
        )
    t = check_finite_tensor(name, t.reshape(-1))
    if positive and bool((t <= 0).any()):
        raise ValueError(f"{name} must be > 0 for every row, got a minimum of {float(t.min()):g}")
    if not positive and bool((t < 0).any()):
        raise ValueError(f"{name} must be >= 0 for every row, got a minimum of {float(t.min()):g}")
    return t


def _num_rows(**columns: torch.Tensor) -> int:
    sizes = {name: len(t) for name, t in columns.items() if len(t) != 1}
    if len(set(sizes.values())) > 1:
        raise ValueError(
            "the per-row arguments must have one value or the same number of rows, got "
            + ", ".join(f"{name}: {size}" for name, size in sizes.items())
        )
    return next(iter(sizes.values()), 1)


# --- losses --------------------------------------------------------------------------------


def _loss_rows(X: torch.Tensor, y: torch.Tensor, W: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Unchecked kernel of :func:`loss_rows` (``y`` of shape ``(n,)``)."""
    residual = X @ W.T + b - y[:, None]  # (n, C)
    return (residual * residual).mean(dim=0) / 2


def _check_params(W: object, b: object, d: int) -> tuple[torch.Tensor, torch.Tensor]:
    W = check_finite_tensor("W", W)
    if W.dim() != 2 or W.shape[1] != d:
        raise ValueError(
            f"W must have shape (rows, {d}), one weight vector per row, got {tuple(W.shape)}"
        )
    b = check_finite_tensor("b", b)
    if b.shape != (W.shape[0],):
        raise ValueError(
            f"b must have shape ({W.shape[0]},), one bias per row of W, got {tuple(b.shape)}"
        )
    return W, b


def loss_rows(X: torch.Tensor, y: torch.Tensor, W: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    r"""The mean squared loss of every row, shape ``(C,)``:

    .. math:: \ell_c = \frac1n \sum_{i=1}^n \tfrac12 (x_i^\top W_c + b_c - y_i)^2

    (with the factor 1/2 of :func:`weightreg.train.squared_loss`).  ``W`` has shape
    ``(C, d)`` and ``b`` shape ``(C,)``: no broadcasting of a short ``b``.  Introduced in *L2*.
    """
    X, y = _check_data(X, y)
    W, b = _check_params(W, b, X.shape[1])
    return _finite_or_raise(_loss_rows(X, y, W.to(X.dtype), b.to(X.dtype)), "the loss")


def _finite_or_raise(value: torch.Tensor, what: str, args: str = "X, y, W and b") -> torch.Tensor:
    if not bool(torch.isfinite(value).all()):
        raise ValueError(
            f"{what} overflows the range of {value.dtype} for these {args} (finite inputs): "
            "rescale the data or the weights"
        )
    return value


def objective_rows(
    X: torch.Tensor,
    y: torch.Tensor,
    W: torch.Tensor,
    b: torch.Tensor,
    k: float | torch.Tensor,
    alpha: float | torch.Tensor,
) -> torch.Tensor:
    r"""The training objective of every row ``c``, shape ``(C,)``:

    .. math:: \frac{1}{n}\sum_i \tfrac12 (x_i^\top W_c + b_c - y_i)^2
              + \alpha_c \frac{1}{d}\sum_j |W_{cj}|^{k_c}

    ``k > 0`` and ``alpha >= 0`` are numbers or one value per row.  Introduced in *L0.5*.
    """
    X, y = _check_data(X, y)
    W, b = _check_params(W, b, X.shape[1])
    k_c = _check_per_row("k", k, X.dtype, positive=True)
    a_c = _check_per_row("alpha", alpha, X.dtype, positive=False)
    _num_rows(W=W, k=k_c, alpha=a_c)
    W, b = W.to(X.dtype), b.to(X.dtype)
    value = _loss_rows(X, y, W, b) + _lk_penalty_rows(W, k_c[:, None], a_c[:, None])
    return _finite_or_raise(value, "the objective", "X, y, W, b, k and alpha")


def lipschitz_step(X: torch.Tensor) -> float:
    r"""``1 / L``, the classical safe constant step for the squared loss in ``(w, b)``.

    ``L`` is the Lipschitz constant of the loss gradient, the largest eigenvalue of its
    Hessian :math:`\tfrac1n A^\top A`:

    .. math:: L = \max_{\lVert \mathbf v\rVert_2 = 1} \tfrac1n \lVert A\mathbf v\rVert_2^2,
              \qquad A = [X \;\; \mathbf 1] .

    With a step ``lr <= 1 / L`` every (proximal) gradient step decreases the objective of a
    convex penalty, so :func:`fit` converges.  This is *not* the stability limit: plain
    gradient descent on the loss alone stays stable up to ``2 / L`` (less with the penalty's
    curvature), but no longer decreases the objective monotonically there.
    Introduced in *L2*.
    """
    X = check_finite_tensor("X", X)
    if X.dim() != 2:
        raise ValueError(f"X must have shape (n, d), got {tuple(X.shape)}")
    A = torch.cat([X, torch.ones(len(X), 1, dtype=X.dtype)], dim=1)
    H = A.T @ A / len(X)
    if not bool(torch.isfinite(H).all()):
        raise ValueError(
            f"X is too large: X^T X / n overflows the range of {X.dtype} (largest |X| = "
            f"{float(X.abs().max()):.3g}); rescale X"
        )
    try:
        L = float(torch.linalg.eigvalsh(H).max())
    except torch.linalg.LinAlgError as exc:
        raise ValueError(
            f"X is too badly scaled for the eigenvalues of X^T X / n ({exc}); rescale X"
        ) from None
    if not 0 < L < math.inf:
        raise ValueError(f"X gives no finite step: the largest eigenvalue is {L:g}; rescale X")
    return 1.0 / L


# --- the exact ridge solutions -------------------------------------------------------------


def ridge_path(X: torch.Tensor, y: torch.Tensor, alphas: float | torch.Tensor) -> LinearFit:
    r"""The exact minimizers of ``mean_i (x_i @ w + b - y_i)**2 / 2 + alpha * mean_j w_j**2``.

    One row per entry of ``alphas`` (each ``>= 0``).  With centred data ``X_c = X - mean(X)``,
    ``y_c = y - mean(y)`` and the weight-decay coefficient of the same penalty,
    :math:`\lambda = 2\alpha/d` (the penalty is :math:`\frac{\lambda}{2}\lVert w\rVert_2^2`;
    see the glossary's "Two scalings of the same penalty"):

    .. math:: \Big(\tfrac1n X_c^\top X_c + \lambda I\Big) w = \tfrac1n X_c^\top y_c,
              \qquad b = \bar y - \bar x^\top w .

    Setting the gradient in ``b`` to zero gives ``b``; substituting it leaves the centred
    normal equations, all solved in one batched call.  ``alpha = 0`` is accepted only when the
    centred ``X`` has full column rank (``rank = d``, which needs ``n > d``): otherwise the
    minimizer is not unique and the error says so with the data's ``n``, ``d`` and rank.
    Equivalent to scikit-learn's ``Ridge(alpha=2 * n * alpha / d, fit_intercept=True)``
    (:math:`n\lambda`).
    Returns a :class:`LinearFit` (no history, no flips, nothing diverged).  Introduced in *L2*.
    """
    X, y = _check_data(X, y)
    a = _check_per_row("alphas", alphas, X.dtype, positive=False)
    n, d = X.shape
    x_mean, y_mean = X.mean(dim=0), y.mean()
    Xc, yc = X - x_mean, y - y_mean
    H = Xc.T @ Xc / n
    if bool((a == 0).any()):
        rank = int(torch.linalg.matrix_rank(Xc))
        if rank < d:
            raise ValueError(
                f"alphas must be > 0 here: alpha = 0 has no unique solution because the centred "
                f"X has rank {rank} < d = {d} (n = {n} examples, d = {d} weights)"
            )
    eye = torch.eye(d, dtype=X.dtype)
    rhs = (Xc.T @ yc / n).repeat(len(a), 1).unsqueeze(-1)  # (C, d, 1)
    # Symmetric positive definite: Cholesky.  (Batched LU in torch.linalg.solve fails on some
    # MKL builds with 2 threads: "Pivots given to lu_solve".)
    system = H + (2 * a / d)[:, None, None] * eye
    if not bool(torch.isfinite(system).all()):
        raise ValueError(
            f"alphas must be below {torch.finfo(X.dtype).max / 2:.3g} in {X.dtype}: the system "
            "matrix H + (2 * alpha / d) I overflows"
        )
    chol = torch.linalg.cholesky(system)
    W = torch.cholesky_solve(rhs, chol).squeeze(-1)
    C = len(a)
    return LinearFit(
        W=W,
        b=y_mean - W @ x_mean,
        history={},
        flips=torch.zeros(C, dtype=torch.long),
        diverged=torch.zeros(C, dtype=torch.bool),
    )


# --- the iterative fit ---------------------------------------------------------------------


def _initial_weights(init: object, d: int, seed: int, dtype: torch.dtype) -> torch.Tensor:
    """``(1, d)`` or ``(C, d)`` starting weights from ``init``."""
    if isinstance(init, str):
        check_choice("init", init, ("normal", "zeros"))
        if init == "zeros":
            return torch.zeros(1, d, dtype=dtype)
        # drawn in float32 whatever the dtype: a float64 run starts where the float32 one does
        w = torch.normal(0.0, 1.0, (d,), generator=streams(seed).init, dtype=torch.float32)
        return w.to(dtype)[None]
    W0 = check_finite_tensor("init", init)
    if W0.dim() not in (1, 2) or W0.shape[-1] != d:
        raise ValueError(
            f"init must be 'normal', 'zeros' or a tensor of shape ({d},) or (rows, {d}), "
            f"got shape {tuple(W0.shape)}"
        )
    return W0.detach().to(dtype).reshape(-1, d)


def _check_eval_sets(eval_sets: object, d: int, dtype: torch.dtype) -> EvalSets:
    if eval_sets is None:
        return {}
    if not isinstance(eval_sets, dict):
        raise TypeError(f"eval_sets must be a dict name -> (X, y), got {type(eval_sets).__name__}")
    out = {}
    for name, pair in eval_sets.items():
        if not isinstance(name, str):
            raise TypeError(f"eval_sets keys must be names (str), got {name!r}")
        if name == "train":
            raise ValueError(
                "eval_sets must not contain 'train': the training set is always evaluated "
                "under that name; give the other set another name"
            )
        if not isinstance(pair, tuple | list) or len(pair) != 2:
            raise TypeError(f"eval_sets[{name!r}] must be a pair (X, y)")
        Xs, ys = _check_data(*pair, names=(f"eval_sets[{name!r}] X", f"eval_sets[{name!r}] y"), d=d)
        out[name] = (Xs.to(dtype), ys.to(dtype))
    return out


def fit(
    X: torch.Tensor,
    y: torch.Tensor,
    k: float | torch.Tensor,
    alpha: float | torch.Tensor,
    *,
    lr: float | torch.Tensor,
    epochs: int,
    method: str = "grad",
    init: str | torch.Tensor = "normal",
    batch_size: int | None = None,
    accelerate: bool = False,
    seed: int = 0,
    eval_sets: EvalSets | None = None,
) -> LinearFit:
    r"""Train ``C`` penalized linear regressions at once, one per row; see the module notes.

    ``k > 0``, ``alpha >= 0`` and ``lr > 0`` are numbers or 1-D tensors of length ``C`` (one
    value per row; a number is shared by all rows); ``lr`` is the learning rate
    :math:`\eta`.  ``method`` is ``"grad"``, ``"prox"``
    (every ``k`` in {0.5, 1, 2}) or ``"auto"`` (proximal for ``k <= 1``, then ``k`` in
    {0.5, 1}; gradient for ``k > 1``).  One step of row ``c`` from ``(W_c, b_c)`` with the
    (minibatch) loss gradients ``g_w``, ``g_b``:

    .. math:: W_c \leftarrow \operatorname{prox}_c\big(W_c - \eta_c (g_w + [\text{grad}]\,
              \nabla \Omega_c(W_c))\big), \qquad b_c \leftarrow b_c - \eta_c g_b,

    where ``prox_c`` is :func:`weightreg.penalties.prox_lk` of ``eta_c * alpha_c *
    mean|w|**k_c`` for proximal rows, and the identity (with the penalty gradient added) for
    gradient rows.

    ``init`` is ``"normal"`` (``N(0, 1)`` weights drawn in float32 from
    ``streams(seed).init`` and shared by all rows: d2l's initialization), ``"zeros"``, or a
    tensor of shape ``(d,)`` or ``(C, d)``; the bias starts at 0.  ``batch_size=None`` takes
    one full-batch step per epoch (``accelerate=True``: FISTA with gradient restart, full batch
    only); otherwise every epoch walks through minibatches in an order drawn from
    ``streams(seed).shuffle``, exactly as :func:`weightreg.data.load_array` with that generator
    does.  ``eval_sets`` maps names to ``(X, y)`` sets evaluated after every epoch, next to the
    training set (``"train"``, a reserved name).  Runs in the dtype of ``X``.  Returns a
    :class:`LinearFit`; rows that diverge are reported as :mod:`weightreg.divergence` says.
    Introduced in *L2*; the proximal step and acceleration in *L1*, minibatches in *L0.5*.
    """
    X, y = _check_data(X, y)
    n, d = X.shape
    dtype = X.dtype
    k_c = _check_per_row("k", k, dtype, positive=True)
    a_c = _check_per_row("alpha", alpha, dtype, positive=False)
    lr_c = _check_per_row("lr", lr, dtype, positive=True)
    epochs = check_int("epochs", epochs, minimum=1)
    method = check_choice("method", method, METHODS)
    accelerate = check_bool("accelerate", accelerate)
    seed = check_seed("seed", seed)
    if batch_size is not None:
        batch_size = check_int("batch_size", batch_size, minimum=1)
        if accelerate:
            raise ValueError("accelerate=True needs full-batch steps (batch_size=None)")
    W0 = _initial_weights(init, d, seed, dtype)
    C = _num_rows(k=k_c, alpha=a_c, lr=lr_c, init=W0)
    k_c, a_c, lr_c = (t.expand(C).clone() for t in (k_c, a_c, lr_c))
    if method == "grad":
        use_prox = torch.zeros(C, dtype=torch.bool)
    elif method == "prox":
        use_prox = torch.ones(C, dtype=torch.bool)
    else:
        use_prox = k_c <= 1
    proxable = torch.isin(k_c, torch.tensor(PROX_KS, dtype=dtype))
    if bool((use_prox & ~proxable).any()):
        bad = sorted({float(v) for v in k_c[use_prox & ~proxable]})
        raise ValueError(
            f"method={method!r} takes proximal steps for "
            f"{'every row' if method == 'prox' else 'the rows with k <= 1'}, which needs k in "
            f"{PROX_KS}; got k = {bad}"
        )
    sets = {"train": (X, y), **_check_eval_sets(eval_sets, d, dtype)}
    for name, (Xs, ys) in sets.items():
        start = _loss_rows(Xs, ys, W0, torch.zeros(W0.shape[0], dtype=dtype))
        if not bool(torch.isfinite(start).all()):
            what = "X and y" if name == "train" else f"eval_sets[{name!r}]"
            raise ValueError(
                f"the starting loss on {what} overflows the range of {dtype} (finite inputs, "
                f"largest |X| = {float(Xs.abs().max()):.3g}, |y| = {float(ys.abs().max()):.3g}, "
                "init): rescale X and y"
            )
    return _fit(
        X, y, k_c, a_c, lr_c, W0.expand(C, d), use_prox, epochs, batch_size, accelerate, seed, sets
    )


def _sign_changes(last_sign: torch.Tensor, W: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Sign changes of each row of ``W`` since ``last_sign``, the last *non-zero* sign of each
    weight (0 while it has been zero since the start), and the updated ``last_sign``.

    Zeros in between are skipped: ``+0.2 -> 0 -> -0.07`` is one change (counted when the
    negative value appears), ``+0.2 -> 0 -> +0.1`` none.
    """
    sign = torch.sign(W)
    changes = (sign * last_sign < 0).sum(dim=1)
    return changes, torch.where(sign != 0, sign, last_sign)


def _groups(k_c: torch.Tensor, rows: torch.Tensor) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """The distinct values ``k`` of ``k_c`` on the selected ``rows``, each with its row indices:
    ``[(k as a 0-d tensor, indices), ...]``."""
    return [(k, torch.nonzero(rows & (k_c == k)).reshape(-1)) for k in torch.unique(k_c[rows])]


def _fit(
    X: torch.Tensor,
    y: torch.Tensor,
    k_c: torch.Tensor,
    a_c: torch.Tensor,
    lr_c: torch.Tensor,
    W0: torch.Tensor,
    use_prox: torch.Tensor,
    epochs: int,
    batch_size: int | None,
    accelerate: bool,
    seed: int,
    sets: EvalSets,
) -> LinearFit:
    """Unchecked kernel of :func:`fit` (per-row tensors of shape ``(C,)``)."""
    n, d = X.shape
    C = W0.shape[0]
    dtype = X.dtype
    t_col = (lr_c * a_c / d)[:, None]  # the per-weight threshold of one proximal step
    # Rows are grouped by (update, k): each group runs with a scalar k (the cheap branch of the
    # prox and of the power), on its own rows only.
    prox_groups = _groups(k_c, use_prox)
    grad_groups = [(float(k), i, (a_c[i] / d)[:, None]) for k, i in _groups(k_c, ~use_prox)]
    whole = len(prox_groups) == 1 and len(prox_groups[0][1]) == C

    k_whole = prox_groups[0][0].reshape(1) if whole else None

    def prox(Z: torch.Tensor) -> torch.Tensor:
        if whole:  # every row proximal, one k
            return torch.cat([_prox_lk(Z[:, :d], k_whole, t_col), Z[:, d:]], dim=1)
        P = Z.clone()
        for k, idx in prox_groups:
            P[idx, :d] = _prox_lk(Z[idx, :d], k, t_col[idx])
        return P

    # minibatches: the order of weightreg.data.load_array(..., generator=streams(seed).shuffle)
    full = batch_size is None
    if batch_size is None:
        per_epoch = 1
    else:
        per_epoch = -(-n // batch_size)
        shuffle = streams(seed).shuffle
    state = {"Xp": X, "yp": y, "step": 0}
    y_col = y[:, None]

    def grad(V: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        step = state["step"]
        state["step"] = step + 1
        if full:
            Xb, yb_col = X, y_col
        else:
            j = step % per_epoch
            if j == 0:  # the draws of a DataLoader epoch: a base seed, then the sampler's
                torch.empty((), dtype=torch.int64).random_(generator=shuffle)
                perm = torch.randperm(n, generator=shuffle)
                torch.randperm(n, generator=shuffle)  # RandomSampler's second, empty slice
                state["Xp"], state["yp"] = X[perm], y[perm]
            lo = j * batch_size
            Xb, yb_col = state["Xp"][lo : lo + batch_size], state["yp"][lo : lo + batch_size, None]
        W, b = V[:, :d], V[:, d]
        residual = Xb @ W.T + b - yb_col  # (B, C)
        g_w = residual.T @ Xb / len(Xb)
        for k, idx, a_per_weight in grad_groups:
            g_w[idx] += a_per_weight * _elementwise_grad(W[idx], k)
        loss = (residual * residual).mean(dim=0) / 2
        if reuse_train_loss and step > 0:  # V is the iterate after `step` full-batch epochs
            history["train"][:, step - 1] = loss
        return torch.cat([g_w, residual.mean(dim=0)[:, None]], dim=1), loss

    history = {name: torch.full((C, epochs), float("nan"), dtype=dtype) for name in sets}
    # Full batch without acceleration: the gradient is taken at the last iterate, so its loss
    # is the training history; only the last epoch needs its own evaluation.
    reuse_train_loss = full and not accelerate
    others = {name: v for name, v in sets.items() if name != "train" or not reuse_train_loss}
    last_epoch_start = (epochs - 1) * per_epoch
    last_sign = torch.sign(W0)
    flips = torch.zeros(C, dtype=torch.long)  # sign changes during the last epoch
    start = torch.zeros(C, dtype=dtype)
    limit = blowup_limit(_loss_rows(X, y, W0, start))

    def on_step(step: int, V: torch.Tensor) -> torch.Tensor | None:
        nonlocal last_sign
        W = V[:, :d]
        if step < last_epoch_start:  # only the last non-zero sign of each weight matters
            sign = torch.sign(W)
            last_sign = torch.where(sign != 0, sign, last_sign)
        else:
            changes, last_sign = _sign_changes(last_sign, W)
            flips.add_(changes)
        epoch, j = divmod(step, per_epoch)
        if j != per_epoch - 1:
            return None
        b = V[:, d]
        for name, (Xs, ys) in others.items():
            history[name][:, epoch] = _loss_rows(Xs, ys, W, b)
        if reuse_train_loss and epoch == epochs - 1:
            history["train"][:, epoch] = _loss_rows(X, y, W, b)
        elif reuse_train_loss:
            return None  # solve watches the same loss at the next step
        return diverged_rows_kernel(history["train"][:, epoch], limit)

    theta0 = torch.cat([W0, start[:, None]], dim=1)
    sol = solve(grad, prox, theta0, lr_c[:, None], epochs * per_epoch, accelerate, on_step)
    dead = sol.diverged
    for v in history.values():
        v[dead] = float("nan")
    labels = [
        f"k={float(k):g}, alpha={float(a):g}, lr={float(r):g}"
        for k, a, r in zip(k_c, a_c, lr_c, strict=True)
    ]
    report(
        dead,
        labels=labels,
        advice="lower lr for those rows (lipschitz_step(X) = 1/L is safe for the loss; a "
        "penalty with k > 2 needs less from large starting weights)",
        what="rows",
    )
    return LinearFit(W=sol.W[:, :d], b=sol.W[:, d], history=history, flips=flips, diverged=dead)
