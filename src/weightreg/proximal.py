"""Proximal gradient descent (ISTA) and its accelerated form with restart (FISTA), batched.

Introduced in the chapter *L1: exact zeros* (``book/lk/l1.md``); the one iterative solver
under the batched linear engine :mod:`weightreg.linear` and the projected gradient descent of
:mod:`weightreg.constraints` (a projection is the proximal operator of a set's indicator).

Conventions
-----------
* The iterate ``W`` has shape ``(C, ...)``: its first dimension indexes ``C`` independent
  problems (configurations as rows); ``grad`` and ``prox`` act row by row.
* One step with learning rate ``lr`` (the book's eta; a number, or one value per row, shape
  ``(C,)``) is

  ``W <- prox(V - lr * grad(V))``

  where ``prox`` is already bound to the step (for a penalty ``g``: ``prox_{lr * g}``, see
  :func:`weightreg.penalties.prox_lk`; for a constraint: the projection, whatever ``lr``).
  ``V = W`` for ISTA; with ``accelerate=True``, ``V`` is the extrapolated point
  ``W + (a_t - 1) / a_{t+1} * (W - W_prev)`` of Beck & Teboulle (2009, FISTA) at step ``t``,
  with ``a_0 = 1`` and ``a_{t+1} = (1 + sqrt(1 + 4 a_t**2)) / 2`` (their ``t_k``; ``theta`` in
  the code), and each row's sequence is reset (``a_t = 1``) when its step went against its last
  move, ``<V - W_new, W_new - W> > 0`` (the gradient restart of O'Donoghue & Candes 2015).
  Same fixed points, far fewer steps on ill-conditioned rows.  (This extrapolation is not the
  momentum ``mu`` of the optimizer chapters.)
* Divergence follows :mod:`weightreg.divergence`: ``grad`` may return ``(G, loss)`` with one
  loss per row, otherwise the norm of each row of ``W`` is watched; a row that diverges is
  frozen (NaN in the result) and reported.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import torch

from .divergence import blowup_limit, report
from .validation import check_bool, check_finite_tensor, check_int

__all__ = ["Solution", "proximal_gradient"]

Grad = Callable[[torch.Tensor], torch.Tensor | tuple[torch.Tensor, torch.Tensor]]
Prox = Callable[[torch.Tensor], torch.Tensor]


class Solution(NamedTuple):
    """What :func:`proximal_gradient` returns: the last iterate ``W`` (NaN rows where
    ``diverged``) and the boolean mask ``diverged`` (shape ``(C,)``)."""

    W: torch.Tensor
    diverged: torch.Tensor


def _rows(x: torch.Tensor, C: int) -> torch.Tensor:
    return x.reshape(C, -1)


def _grad_and_watch(grad: Grad, V: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    out = grad(V)
    if isinstance(out, tuple):
        return out[0], out[1]
    return out, torch.linalg.vector_norm(_rows(V, V.shape[0]), dim=1)


OnStep = Callable[[int, torch.Tensor], torch.Tensor | None]


def solve(
    grad: Grad,
    prox: Prox,
    W0: torch.Tensor,
    lr: float | torch.Tensor,
    steps: int,
    accelerate: bool,
    on_step: OnStep | None = None,
) -> Solution:
    """The unchecked kernel of :func:`proximal_gradient` (same arguments, ``lr`` broadcastable
    against ``W0``); for inner loops and other helpers of the package.

    ``on_step(t, W_new)``, if given, is called after step ``t`` (0-based) with the new iterate,
    before diverged rows are frozen; it may return a boolean mask (shape ``(C,)``) of further
    rows to declare diverged (e.g. from a loss it evaluates), or ``None``.  ``grad`` is called
    exactly once per step, so a stateful ``grad`` may walk through minibatches.
    """
    C = W0.shape[0]
    bshape = (C,) + (1,) * (W0.dim() - 1)
    W = W0
    W_prev = W
    theta = torch.ones(bshape, dtype=W.dtype)
    alive = torch.ones(C, dtype=torch.bool)
    all_alive = True
    limit = None
    for step in range(steps):
        if accelerate:
            theta_next = (1 + torch.sqrt(1 + 4 * theta * theta)) / 2
            V = W + (theta - 1) / theta_next * (W - W_prev)
        else:
            V = W
        G, watched = _grad_and_watch(grad, V)
        if limit is None:
            limit = blowup_limit(watched)
        W_new = prox(V - lr * G)
        # diverged_rows_kernel(watched, limit) in one comparison (NaN and inf fail it too)
        bad = ~(watched.detach() <= limit)
        if not bool(torch.isfinite(W_new).all()):  # rare: find the rows
            bad = bad | ~torch.isfinite(_rows(W_new, C)).all(dim=1)
        if on_step is not None:
            more = on_step(step, W_new)
            if more is not None:
                bad = bad | more
        if bool(bad.any()):  # rare: freeze the rows that diverged at this step
            alive = alive & ~bad
            all_alive = False
            if not bool(alive.any()):
                break
        if not all_alive:
            W_new = torch.where(alive.reshape(bshape), W_new, W)
        if accelerate:
            against = _rows((V - W_new) * (W_new - W), C).sum(dim=1).reshape(bshape) > 0
            theta = torch.where(against, torch.ones_like(theta), theta_next)
        W_prev, W = W, W_new
    W = torch.where(alive.reshape(bshape), W, torch.full_like(W, float("nan")))
    return Solution(W, ~alive)


def proximal_gradient(
    grad: Grad,
    prox: Prox,
    W0: torch.Tensor,
    *,
    lr: float | torch.Tensor,
    steps: int,
    accelerate: bool = False,
) -> Solution:
    """Run ``steps`` proximal gradient steps on every row of ``W0``; see the module notes.

    ``grad(W)`` returns the gradient of the smooth part at ``W`` (same shape), or a pair
    ``(gradient, loss per row)``; ``prox(Z)`` returns the proximal point of ``Z`` for the
    step (same shape).  ``lr > 0`` is a number or one value per row.  For an ``L``-smooth
    convex loss and a convex ``g``, ``lr <= 1 / L`` makes every row converge to a minimizer
    of ``loss + g`` (:func:`weightreg.linear.lipschitz_step` computes ``1 / L`` for least
    squares).  Returns a :class:`Solution`; rows that diverged are NaN and reported as
    :mod:`weightreg.divergence` says.  Introduced in *L1: exact zeros*.
    """
    if not callable(grad) or not callable(prox):
        raise TypeError("grad and prox must be callables tensor -> tensor")
    W0 = check_finite_tensor("W0", W0)
    if W0.dim() < 1:
        raise ValueError("W0 must have a first dimension that indexes problems (rows), got 0-d")
    steps = check_int("steps", steps, minimum=1)
    accelerate = check_bool("accelerate", accelerate)
    C = W0.shape[0]
    if isinstance(lr, bool) or not isinstance(lr, int | float | torch.Tensor):
        raise TypeError(
            f"lr must be a number > 0 or a tensor of one value per row, got {type(lr).__name__}"
        )
    lr_t = torch.as_tensor(lr, dtype=W0.dtype) if not isinstance(lr, torch.Tensor) else lr
    if lr_t.is_complex() or lr_t.dtype == torch.bool:
        raise TypeError(f"lr must hold real numbers, got dtype {lr_t.dtype}")
    lr_t = lr_t.to(W0.dtype)
    if lr_t.dim() > 1 or lr_t.numel() not in (1, C):
        raise ValueError(f"lr must be a number > 0 or one value per row (shape ({C},))")
    lr_t = check_finite_tensor("lr", lr_t)
    if bool((lr_t <= 0).any()):
        raise ValueError("lr must be > 0 (for every row)")
    lr_b = lr_t.reshape(-1, *([1] * (W0.dim() - 1))) if lr_t.dim() == 1 else lr_t
    if not bool(torch.isfinite(torch.linalg.vector_norm(_rows(W0.detach(), C), dim=1)).all()):
        raise ValueError(
            f"W0 is too large: the norm of a row overflows the range of {W0.dtype} (largest "
            f"|W0| = {float(W0.detach().abs().max()):.3g}); rescale W0"
        )
    result = solve(grad, prox, W0.detach().clone(), lr_b, steps, accelerate)
    report(
        result.diverged, advice="lower lr (1 / L is always safe for an L-smooth loss)", what="rows"
    )
    return result
