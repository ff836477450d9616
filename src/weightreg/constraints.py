"""Hard constraints on weights: Euclidean projections onto norm balls, projected gradient steps.

Introduced in the chapter *The hard-constraint view* (``book/constraints/hard.md``) and used
again in *The soft-constraint view* (``book/constraints/soft.md``).

Conventions
-----------
* The **projection** of ``w`` onto a closed convex set ``C`` is the nearest point of ``C``,
  ``P_C(w) = argmin_{z in C} ||z - w||_2``.  The balls are
  ``B_p(r) = {z : ||z||_p <= r}`` for ``p`` in ``{1, 2, inf}`` and a radius ``r >= 0``.
  Note the *radius*: the book's constraint ``||w||_2^2 <= theta`` is the L2 ball of radius
  ``sqrt(theta)``.
* ``dim=None`` treats the whole tensor as one vector.  ``dim=d`` projects every slice along
  ``d`` onto its own ball (for a matrix and ``dim=-1``: every row), and ``radius`` may then be
  a tensor that broadcasts against the slice norms (``w``'s shape with ``d`` reduced to size
  1), so that one call projects a batch of configurations with different radii.
* ``radius=inf`` is allowed and means "no constraint" (the projection is the identity), so a
  batched sweep can include the unconstrained model; a negative or NaN radius is an error.
* A **projected gradient step** is ``w <- P_C(w - lr * grad)``.  :class:`ProjectedSGD` does it
  as a ``torch.optim.Optimizer``; :func:`projected_update` builds the ``update(params, lr)``
  hook of :func:`weightreg.train.train`; :func:`projected_gradient_descent` runs full-batch
  iterations for a given gradient function.
* **Max-norm** (Srebro and Shraibman, 2005; Hinton et al., 2012): every unit's incoming weight
  vector, a *row* of an ``nn.Linear`` weight of shape ``(out_features, in_features)``, is kept
  in an L2 ball of radius ``c``: :func:`project_max_norm`.

The projections never modify their input; they return a new tensor.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import torch

from .validation import check_finite_tensor, check_positive, check_positive_int

__all__ = [
    "ProjectedSGD",
    "project_l1_ball",
    "project_l2_ball",
    "project_linf_ball",
    "project_max_norm",
    "projected_gradient_descent",
    "projected_update",
]

Projection = Callable[[torch.Tensor], torch.Tensor]


def _check_dim(w: torch.Tensor, dim: int | None) -> int | None:
    if dim is None:
        return None
    if isinstance(dim, bool) or not isinstance(dim, int):
        raise TypeError(f"dim must be None or an int, got {type(dim).__name__}")
    if not -w.dim() <= dim < w.dim():
        raise ValueError(
            f"dim must lie in [{-w.dim()}, {w.dim() - 1}] for w of shape "
            f"{tuple(w.shape)}, got {dim}"
        )
    return dim % w.dim()


def _check_radius(radius: object, w: torch.Tensor, dim: int | None) -> torch.Tensor:
    """Return ``radius`` as a tensor shaped like the slice norms of ``w`` (keepdim)."""
    if isinstance(radius, torch.Tensor):
        if not radius.is_floating_point():
            raise TypeError(
                f"radius must be a real number or a floating tensor, got {radius.dtype}"
            )
        r = radius.detach().to(dtype=w.dtype, device=w.device)
        if r.numel() == 0:
            raise ValueError("radius must not be empty")
    elif isinstance(radius, bool) or not isinstance(radius, int | float):
        raise TypeError(f"radius must be a real number or a tensor, got {type(radius).__name__}")
    else:
        r = torch.tensor(float(radius), dtype=w.dtype, device=w.device)
    if bool(torch.isnan(r).any()):
        raise ValueError("radius must be a number >= 0 or inf, got NaN")
    if bool((r < 0).any()):
        raise ValueError(f"radius must be >= 0, got {float(r.min())}")
    target = (
        torch.Size([1] * w.dim())
        if dim is None
        else torch.Size(1 if i == dim else n for i, n in enumerate(w.shape))
    )
    try:
        shape = torch.broadcast_shapes(r.shape, target)
    except RuntimeError:
        shape = None
    if shape != target:
        where = "the whole tensor (dim=None)" if dim is None else f"slices along dim={dim}"
        raise ValueError(
            f"radius of shape {tuple(r.shape)} does not broadcast to one radius per slice: "
            f"for {where} of w with shape {tuple(w.shape)} it must broadcast to {tuple(target)}"
        )
    return r.expand(target)


def _check_w(w: object) -> torch.Tensor:
    w = check_finite_tensor("w", w)
    if w.is_complex():
        raise TypeError("w must be a real floating tensor, got a complex one")
    return w


def project_l2_ball(
    w: torch.Tensor, radius: float | torch.Tensor = 1.0, *, dim: int | None = None
) -> torch.Tensor:
    """Euclidean projection onto the L2 ball ``{z : ||z||_2 <= radius}``.

    ``P(w) = w * min(1, radius / ||w||_2)``: a point inside is returned unchanged, a point
    outside is scaled back along its own direction onto the sphere.  For the book's
    constraint ``||w||_2^2 <= theta`` pass ``radius=sqrt(theta)``.  With ``dim`` every slice
    along ``dim`` is projected onto its own ball (see the module's conventions).
    """
    w = _check_w(w)
    dim = _check_dim(w, dim)
    r = _check_radius(radius, w, dim)
    # ||w|| = m * ||w / m|| with m = max |w_i|: no underflow or overflow in the squares.
    tiny = torch.finfo(w.dtype).tiny
    if dim is None:
        m = w.abs().amax()
        norm = m * (w / m.clamp_min(tiny)).norm()
    else:
        m = w.abs().amax(dim=dim, keepdim=True)
        norm = m * (w / m.clamp_min(tiny)).norm(dim=dim, keepdim=True)
    scale = torch.where(norm > r, r / norm.clamp_min(tiny), 1.0)
    return torch.where(r == 0, torch.zeros_like(w), w * scale)


def project_linf_ball(
    w: torch.Tensor, radius: float | torch.Tensor = 1.0, *, dim: int | None = None
) -> torch.Tensor:
    """Euclidean projection onto the L-infinity ball ``{z : max_i |z_i| <= radius}``.

    The ball is a box, so the projection clips every coordinate on its own:
    ``P(w)_i = clamp(w_i, -radius, radius)``.  With ``dim`` every slice along ``dim`` has its
    own radius.
    """
    w = _check_w(w)
    dim = _check_dim(w, dim)
    r = _check_radius(radius, w, dim)
    return torch.minimum(torch.maximum(w, -r), r)


def project_l1_ball(
    w: torch.Tensor, radius: float | torch.Tensor = 1.0, *, dim: int | None = None
) -> torch.Tensor:
    """Exact Euclidean projection onto the L1 ball ``{z : sum_i |z_i| <= radius}``.

    Outside the ball the projection is a soft threshold, ``P(w)_i = sign(w_i) max(|w_i| - tau,
    0)``, with the one ``tau >= 0`` that lands on the sphere ``sum_i max(|w_i| - tau, 0) =
    radius``.  ``tau`` is found exactly by sorting (Duchi et al., 2008, Fig. 1): with
    ``u`` the magnitudes sorted in decreasing order and ``rho`` the largest ``k`` such that
    ``u_k > (u_1 + ... + u_k - radius) / k``, ``tau = (u_1 + ... + u_rho - radius) / rho``.
    Cost ``O(n log n)`` per slice, no iteration.  Coordinates with ``|w_i| <= tau`` become
    exactly 0: the corners of the L1 ball.  With ``dim`` every slice along ``dim`` is
    projected onto its own ball.
    """
    w = _check_w(w)
    dim = _check_dim(w, dim)
    r = _check_radius(radius, w, dim)
    # Move the slices to the rows of a 2-D view: (number of slices, slice length).
    if dim is None:
        v, r2 = w.reshape(1, -1), r.reshape(1, 1)
    else:
        v = w.movedim(dim, -1)
        r2 = r.movedim(dim, -1)
        batch = v.shape[:-1]
        v = v.reshape(-1, v.shape[-1])
        r2 = r2.expand(*batch, 1).reshape(-1, 1)
    a = v.abs()
    u, _ = torch.sort(a, dim=-1, descending=True)
    css = u.cumsum(dim=-1) - r2
    k = torch.arange(1, u.shape[-1] + 1, dtype=w.dtype, device=w.device)
    rho = (u - css / k > 0).sum(dim=-1, keepdim=True).clamp_min(1)
    tau = css.gather(-1, rho - 1) / rho.to(w.dtype)
    inside = a.sum(dim=-1, keepdim=True) <= r2
    tau = torch.where(inside, torch.zeros_like(tau), tau.clamp_min(0.0))
    out = torch.sign(v) * (a - tau).clamp_min(0.0)
    out = torch.where(r2 == 0, torch.zeros_like(out), out)
    if dim is None:
        return out.reshape(w.shape)
    return out.reshape(*batch, w.shape[dim]).movedim(-1, dim)


def project_max_norm(weight: torch.Tensor, max_norm: float | torch.Tensor) -> torch.Tensor:
    """Max-norm projection: every row of ``weight`` onto its own L2 ball of radius ``max_norm``.

    A row of an ``nn.Linear`` weight ``(out_features, in_features)`` is one unit's incoming
    weight vector; the constraint ``||weight[j, :]||_2 <= max_norm`` for every unit ``j`` is
    the max-norm regularizer (Srebro and Shraibman, 2005; Hinton et al., 2012).  Rows inside
    their ball are unchanged; the others are scaled back, like ``torch.renorm(weight, 2, 0,
    max_norm)``.  ``weight`` may carry leading batch dimensions (e.g. ``(configs, out, in)``)
    and ``max_norm`` may then be a tensor of shape ``(configs, 1, 1)``.
    """
    weight = _check_w(weight)
    if weight.dim() < 2:
        raise ValueError(
            f"weight must have at least 2 dimensions (out_features, in_features), got shape "
            f"{tuple(weight.shape)}"
        )
    return project_l2_ball(weight, max_norm, dim=-1)


def _apply(p: torch.Tensor, project: Projection | None) -> None:
    if project is None:
        return
    new = project(p)
    if not isinstance(new, torch.Tensor) or new.shape != p.shape:
        raise ValueError(
            f"a projection must return a tensor of the parameter's shape {tuple(p.shape)}, got "
            f"{getattr(new, 'shape', type(new).__name__)}"
        )
    p.copy_(new)


class ProjectedSGD(torch.optim.Optimizer):
    """Projected stochastic gradient descent: ``p <- project(p - lr * p.grad)``.

    Each parameter group may carry its own ``project`` (a function ``tensor -> tensor``, e.g.
    ``lambda w: project_l2_ball(w, r)``); groups without one (``project=None``, the default,
    e.g. the biases) take plain SGD steps::

        opt = ProjectedSGD([{"params": [w], "project": lambda w: project_l2_ball(w, r)},
                            {"params": [b]}], lr=0.01)

    Call :meth:`project_` once before training to start from a feasible point.
    Introduced in *The hard-constraint view*.
    """

    def __init__(
        self,
        params: Iterable[torch.Tensor] | Iterable[dict[str, Any]],
        lr: float,
        project: Projection | None = None,
    ) -> None:
        lr = check_positive("lr", lr)
        if project is not None and not callable(project):
            raise TypeError(f"project must be a callable or None, got {type(project).__name__}")
        super().__init__(params, {"lr": lr, "project": project})
        for group in self.param_groups:
            if group["project"] is not None and not callable(group["project"]):
                raise TypeError("every param group's project must be a callable or None")
            check_positive("lr", group["lr"])

    @torch.no_grad()
    def project_(self) -> None:
        """Project every parameter onto its group's set now (no gradient step)."""
        for group in self.param_groups:
            for p in group["params"]:
                _apply(p, group["project"])

    @torch.no_grad()
    def step(self, closure: Callable[[], torch.Tensor] | None = None) -> torch.Tensor | None:
        """One gradient step on every parameter with a gradient, then its group's projection."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                p.add_(p.grad, alpha=-group["lr"])
                _apply(p, group["project"])
        return loss


def projected_update(
    projections: Sequence[Projection | None],
) -> Callable[[Sequence[torch.Tensor], float], None]:
    """The ``update(params, lr)`` hook of :func:`weightreg.train.train` for projected SGD.

    ``projections[i]`` is applied to ``params[i]`` after its step ``p -= lr * p.grad``;
    ``None`` leaves that parameter unconstrained (e.g. the bias)::

        train(net, [w, b], it, lr=0.003, num_epochs=100,
              update=projected_update([lambda w: project_l2_ball(w, r), None]))
    """
    projections = list(projections)
    for i, pr in enumerate(projections):
        if pr is not None and not callable(pr):
            raise TypeError(f"projections[{i}] must be a callable or None, got {type(pr).__name__}")

    def update(params: Sequence[torch.Tensor], lr: float) -> None:
        params = list(params)
        if len(params) != len(projections):
            raise ValueError(
                f"projected_update got {len(projections)} projections for {len(params)} "
                "params: give one per parameter (None for an unconstrained one)"
            )
        with torch.no_grad():
            for p, pr in zip(params, projections, strict=True):
                p.add_(p.grad, alpha=-lr)
                _apply(p, pr)

    return update


def projected_gradient_descent(
    grad: Callable[[torch.Tensor], torch.Tensor],
    w0: torch.Tensor,
    project: Projection,
    *,
    lr: float,
    num_steps: int,
    accelerated: bool = False,
    batched: bool = False,
) -> torch.Tensor:
    """Full-batch projected gradient descent ``w <- project(w - lr * grad(w))``.

    Starts from ``project(w0)``; ``grad`` returns the gradient of the loss at ``w`` (same
    shape).  For an ``L``-smooth convex loss and a closed convex set, ``lr <= 1 / L`` makes
    the iterates converge to a constrained minimizer.  Returns the last iterate.

    ``accelerated=True`` uses Nesterov momentum (FISTA, Beck and Teboulle, 2009) with the
    adaptive restart of O'Donoghue and Candes (2015): take the step from the extrapolated
    point ``v = w_k + (t_{k-1} - 1) / t_k * (w_k - w_{k-1})`` and reset the momentum
    (``t = 1``) whenever ``<v - w_{k+1}, w_{k+1} - w_k> > 0``, i.e. when the last step went
    against the momentum.  Much faster on ill-conditioned problems such as the lasso.

    ``batched=True`` says that the first dimension of ``w0`` indexes independent problems
    (with a ``project`` and ``grad`` that act row by row), so that each row restarts its
    own momentum.  Introduced in *The hard-constraint view*.
    """
    if not callable(grad) or not callable(project):
        raise TypeError("grad and project must be callables tensor -> tensor")
    w = check_finite_tensor("w0", w0).detach().clone()
    lr = check_positive("lr", lr)
    num_steps = check_positive_int("num_steps", num_steps)
    if batched and w.dim() < 1:
        raise ValueError("batched=True needs w0 with a first dimension that indexes problems")
    w = project(w)
    if not accelerated:
        for _ in range(num_steps):
            w = project(w - lr * grad(w))
        return w
    # one momentum coefficient t per problem: a scalar, or (rows, 1, ..., 1) when batched
    shape = (w.shape[0], *([1] * (w.dim() - 1))) if batched else ()
    t = torch.ones(shape, dtype=w.dtype, device=w.device)
    v = w
    for _ in range(num_steps):
        w_new = project(v - lr * grad(v))
        prod = (v - w_new) * (w_new - w)
        prod = prod.flatten(1).sum(dim=1).reshape(shape) if batched else prod.sum()
        t = torch.where(prod > 0, torch.ones_like(t), t)
        t_new = (1 + torch.sqrt(1 + 4 * t * t)) / 2
        v = w_new + (t - 1) / t_new * (w_new - w)
        w, t = w_new, t_new
    return w
