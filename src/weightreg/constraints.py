"""Hard constraints on weights: Euclidean projections onto norm balls, projected gradient steps.

Introduced in the chapter *The hard-constraint view* (``book/constraints/hard.md``) and used
again in *The soft-constraint view* (``book/constraints/soft.md``).

Conventions
-----------
* Notation (the book's glossary): ``d`` weights, ``r`` the radius of a ball, ``theta`` the
  bound of the hard L2 constraint, ``c`` the max-norm bound (argument ``max_norm``), ``eta``
  the learning rate (argument ``lr``), ``t`` the step.
* The **projection** of ``w`` onto a closed convex set ``C`` is the nearest point of ``C``,
  ``P_C(w) = argmin_{z in C} ||z - w||_2``.  The balls are
  ``B_p(r) = {z : ||z||_p <= r}`` for ``p`` in ``{1, 2, inf}`` and a radius ``r >= 0``;
  ``B_inf(r)`` is the **box** ``|z_i| <= r``.  Note the *radius*: the book's constraint
  ``||w||_2^2 <= theta`` is the L2 ball of radius ``sqrt(theta)``.
* ``dim=None`` treats the whole tensor as one vector.  ``dim=d`` projects every slice along
  ``d`` onto its own ball, and ``radius`` may then be a tensor that broadcasts against the
  slice norms (``w``'s shape with ``d`` reduced to size 1), so that one call projects a batch
  of configurations with different radii.
* **Configurations as rows**, the book's one batched layout: the first dimension of a batched
  tensor indexes the configurations.  Linear models are ``(C, d)``: ``dim=1`` projects every
  row onto its own ball, with radii of shape ``(C, 1)``.  Stacked layers of small networks
  use the layout of :mod:`weightreg.optim_sweep`, ``(C, in_features, out_features)``
  (``logits = relu(X @ W1 + b1) @ W2 + b2``).
* ``radius=inf`` is allowed and means "no constraint" (the projection is the identity), so a
  batched sweep can include the unconstrained model; a negative or NaN radius is an error.
* A **projected gradient step** with learning rate ``eta = lr > 0`` is
  ``w_{t+1} = P_C(w_t - eta * grad l(w_t))``.
  The in-place minibatch step on a parameter is written once (``_projected_step_``) and
  used by :class:`ProjectedSGD` (a ``torch.optim.Optimizer``) and by :func:`projected_update`
  (the ``update(params, lr)`` hook of :func:`weightreg.train.train`);
  :func:`projected_gradient_descent` runs full-batch iterations on rows of problems with the
  book's one proximal solver, :mod:`weightreg.proximal` (a projection is the proximal
  operator of the set's indicator), and its divergence policy (:mod:`weightreg.divergence`).
* **Max-norm** (Hinton et al., 2012; Srivastava et al., 2014, section 5.1): the incoming
  weight vector ``w_j`` of every hidden unit ``j`` is kept in the L2 ball ``||w_j||_2 <= c``
  (``c = max_norm``), a *per-unit L2 cap*: :func:`project_max_norm`, which must be told the
  weight's ``layout`` (a unit's incoming weights are a *column* of an ``(in, out)`` matrix
  and a *row* of an ``nn.Linear`` weight ``(out, in)``).  It is neither the box
  ``B_inf(r)`` (:func:`project_linf_ball`, which caps every single weight) nor the max-norm
  of a matrix of Srebro and Shraibman (2005), a factorization norm.  The papers cap hidden
  layers; which weight matrices to cap is the caller's choice (*The hard-constraint view*
  caps the hidden layer only).

The projections never modify their input; they return a new tensor.  Their arguments are
checked (a ``TypeError`` or ``ValueError`` naming the argument); the private kernels
``_l2_ball``, ``_linf_ball`` and ``_l1_ball`` are not.  Inside a solver's loop, use
:func:`ball_projection`: it checks ``p``, ``radius`` and ``dim`` once and returns a function
that calls the kernel.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import torch

from .proximal import Solution, proximal_gradient
from .validation import check_choice, check_finite_tensor, check_positive

__all__ = [
    "MAX_NORM_LAYOUTS",
    "ProjectedSGD",
    "ball_projection",
    "project_l1_ball",
    "project_l2_ball",
    "project_linf_ball",
    "project_max_norm",
    "projected_gradient_descent",
    "projected_update",
]

Projection = Callable[[torch.Tensor], torch.Tensor]

MAX_NORM_LAYOUTS = ("in_out", "out_in")
"""The weight layouts :func:`project_max_norm` knows: ``"in_out"`` for ``(..., in, out)``
(``X @ W``, :mod:`weightreg.optim_sweep`), ``"out_in"`` for ``(..., out, in)`` (``nn.Linear``)."""


# ---------------------------------------------------------------------------------- checks


def _check_w(name: str, w: object) -> torch.Tensor:
    return check_finite_tensor(name, w)


def _check_dim(w: torch.Tensor, dim: object) -> int | None:
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


def _radius_tensor(
    name: str, radius: object, dtype: torch.dtype, device: torch.device
) -> torch.Tensor:
    """``radius`` as a tensor of ``dtype``; raise unless a real number or floating tensor,
    non-empty, without NaN, ``>= 0`` (``inf`` allowed)."""
    if isinstance(radius, torch.Tensor):
        if not radius.is_floating_point():
            raise TypeError(
                f"{name} must be a real number or a real floating tensor, got {radius.dtype}"
            )
        r = radius.detach().to(dtype=dtype, device=device)
        if r.numel() == 0:
            raise ValueError(f"{name} must not be empty")
    elif isinstance(radius, bool) or not isinstance(radius, int | float):
        raise TypeError(f"{name} must be a real number or a tensor, got {type(radius).__name__}")
    else:
        r = torch.tensor(float(radius), dtype=dtype, device=device)
    if bool(torch.isnan(r).any()):
        raise ValueError(f"{name} must be a number >= 0 or inf, got NaN")
    if bool((r < 0).any()):
        raise ValueError(f"{name} must be >= 0, got {float(r.min())}")
    return r


def _fit_radius(
    name: str, r: torch.Tensor, w: torch.Tensor, dim: int | None, w_name: str = "w"
) -> torch.Tensor:
    """``r`` expanded to the slice norms of ``w`` (keepdim); raise if it does not broadcast."""
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
            f"{name} of shape {tuple(r.shape)} does not broadcast to one radius per slice: "
            f"for {where} of {w_name} with shape {tuple(w.shape)} it must broadcast to "
            f"{tuple(target)}"
        )
    return r.expand(target)


def _check_radius(
    name: str, radius: object, w: torch.Tensor, dim: int | None, w_name: str = "w"
) -> torch.Tensor:
    """Return ``radius`` as a tensor shaped like the slice norms of ``w`` (keepdim)."""
    r = _radius_tensor(name, radius, w.dtype, w.device)
    return _fit_radius(name, r, w, dim, w_name)


def _check_projection(name: str, project: object) -> None:
    if project is not None and not callable(project):
        raise TypeError(
            f"{name} must be a callable tensor -> tensor or None, got {type(project).__name__}"
        )


# ----------------------------------------------------------------- unchecked kernels


def _l2_ball(w: torch.Tensor, r: torch.Tensor, dim: int | None) -> torch.Tensor:
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


def _linf_ball(w: torch.Tensor, r: torch.Tensor, dim: int | None) -> torch.Tensor:
    return torch.minimum(torch.maximum(w, -r), r)


def _l1_ball(w: torch.Tensor, r: torch.Tensor, dim: int | None) -> torch.Tensor:
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


# ---------------------------------------------------------------------- projections


def project_l2_ball(
    w: torch.Tensor, radius: float | torch.Tensor = 1.0, *, dim: int | None = None
) -> torch.Tensor:
    """Euclidean projection onto the L2 ball ``{z : ||z||_2 <= radius}``.

    ``P(w) = w * min(1, radius / ||w||_2)``: a point inside is returned unchanged, a point
    outside is scaled back along its own direction onto the sphere.  For the book's
    constraint ``||w||_2^2 <= theta`` pass ``radius=sqrt(theta)``.  With ``dim`` every slice
    along ``dim`` is projected onto its own ball (see the module's conventions; rows of a
    ``(C, d)`` batch: ``dim=1``, radii ``(C, 1)``).
    """
    w = _check_w("w", w)
    dim = _check_dim(w, dim)
    return _l2_ball(w, _check_radius("radius", radius, w, dim), dim)


def project_linf_ball(
    w: torch.Tensor, radius: float | torch.Tensor = 1.0, *, dim: int | None = None
) -> torch.Tensor:
    """Euclidean projection onto the L-infinity ball, the box ``{z : max_i |z_i| <= radius}``.

    The ball is a box (``r = radius``), so the projection clips every coordinate on its own:
    ``P(w)_i = clamp(w_i, -radius, radius)``.  With ``dim`` every slice along ``dim`` has its
    own radius.  Not the max-norm (:func:`project_max_norm`), which caps the L2 norm of each
    unit's incoming weight vector, not each weight.
    """
    w = _check_w("w", w)
    dim = _check_dim(w, dim)
    return _linf_ball(w, _check_radius("radius", radius, w, dim), dim)


def project_l1_ball(
    w: torch.Tensor, radius: float | torch.Tensor = 1.0, *, dim: int | None = None
) -> torch.Tensor:
    """Exact Euclidean projection onto the L1 ball ``{z : sum_i |z_i| <= radius}``.

    Outside the ball the projection is a soft threshold, ``P(w)_i = sign(w_i) max(|w_i| - tau,
    0)``, with the one ``tau >= 0`` that lands on the sphere ``sum_i max(|w_i| - tau, 0) =
    radius``.  ``tau`` is found exactly by sorting (Duchi et al., 2008, Fig. 1): with
    ``u`` the magnitudes sorted in decreasing order and ``rho`` the largest ``k`` such that
    ``u_k > (u_1 + ... + u_k - radius) / k``, ``tau = (u_1 + ... + u_rho - radius) / rho``.
    Cost ``O(d log d)`` per slice of ``d`` entries, no iteration.  Coordinates with
    ``|w_i| <= tau`` become exactly 0: the corners of the L1 ball.  With ``dim`` every slice
    along ``dim`` is projected onto its own ball.
    """
    w = _check_w("w", w)
    dim = _check_dim(w, dim)
    return _l1_ball(w, _check_radius("radius", radius, w, dim), dim)


_KERNELS = {1.0: _l1_ball, 2.0: _l2_ball, math.inf: _linf_ball}


def ball_projection(
    p: float, radius: float | torch.Tensor, *, dim: int | None = None
) -> Projection:
    """The projection onto the ``L_p`` ball of ``radius`` as a function ``w -> P(w)``, checked
    once: for the inner loop of a solver.

    ``ball_projection(p, radius, dim=dim)(w)`` equals ``project_lp_ball(w, radius, dim=dim)``
    (:func:`project_l1_ball`, :func:`project_l2_ball`, :func:`project_linf_ball` for ``p``
    = 1, 2, ``inf``).  ``p``, ``radius`` and ``dim`` are checked here; the returned function
    checks the shape of ``w`` against ``radius`` and ``dim`` the first time it meets a shape,
    and otherwise calls the unchecked kernel (``w`` itself is not checked for NaN: the
    solver's divergence policy watches the iterates).  E.g. every row of a ``(C, d)`` batch
    onto its own ball: ``ball_projection(1, budgets, dim=1)`` with ``budgets`` of shape
    ``(C, 1)``.  Introduced in *The hard-constraint view*.
    """
    if isinstance(p, bool) or not isinstance(p, int | float) or float(p) not in _KERNELS:
        raise ValueError(f"p must be one of 1, 2, inf (a ball with an exact projection), got {p!r}")
    if dim is not None and (isinstance(dim, bool) or not isinstance(dim, int)):
        raise TypeError(f"dim must be None or an int, got {type(dim).__name__}")
    kernel = _KERNELS[float(p)]
    # a copy: a radius tensor changed in place later does not change the projection
    r0 = _radius_tensor("radius", radius, torch.float64, torch.device("cpu")).clone()
    fitted: dict[tuple, tuple[torch.Tensor, int | None]] = {}

    def project(w: torch.Tensor) -> torch.Tensor:
        key = (w.shape, w.dtype, w.device) if isinstance(w, torch.Tensor) else None
        if key not in fitted:
            w = _check_w("w", w)
            d = _check_dim(w, dim)
            r = _fit_radius("radius", r0.to(dtype=w.dtype, device=w.device), w, d)
            fitted[key] = (r, d)
        r, d = fitted[key]
        return kernel(w, r, d)

    return project


def project_max_norm(
    weight: torch.Tensor, max_norm: float | torch.Tensor, *, layout: str
) -> torch.Tensor:
    """Max-norm projection: every unit's incoming weight vector onto an L2 ball of radius ``c``.

    The constraint ``||w_j||_2 <= c`` (``c = max_norm``) on the incoming weights ``w_j`` of
    every unit ``j`` of the layer is the max-norm constraint of Hinton et al. (2012) and
    Srivastava et al. (2014, section 5.1), who apply it to hidden units: a per-unit L2 cap, not
    the box ``|w_i| <= r`` (:func:`project_linf_ball`).  Which slice holds a unit's incoming
    weights depends on the layout, which must be given (one layout mistaken for the other
    silently constrains the wrong vectors):

    * ``layout="in_out"``: ``weight`` is ``(..., in_features, out_features)``, used as
      ``X @ weight`` (the book's layout, :mod:`weightreg.optim_sweep`); unit ``j``'s incoming
      weights are the **column** ``weight[..., :, j]`` (norms over ``dim=-2``);
    * ``layout="out_in"``: ``weight`` is ``nn.Linear``'s ``(..., out_features, in_features)``;
      unit ``j``'s incoming weights are the **row** ``weight[..., j, :]`` (norms over
      ``dim=-1``), like ``torch.renorm(weight, 2, 0, max_norm)``.

    Units inside their ball are unchanged; the others are scaled back.  ``weight`` may carry
    leading configuration dimensions (``(C, in, out)``) and ``max_norm`` may then be a tensor
    of shape ``(C, 1, 1)``; ``inf`` means no constraint.
    """
    weight = _check_w("weight", weight)
    layout = check_choice("layout", layout, MAX_NORM_LAYOUTS)
    if weight.dim() < 2:
        raise ValueError(
            f"weight must have at least 2 dimensions (a matrix, layout {layout!r}), got shape "
            f"{tuple(weight.shape)}"
        )
    dim = weight.dim() - (2 if layout == "in_out" else 1)
    r = _check_radius("max_norm", max_norm, weight, dim, w_name="weight")
    return _l2_ball(weight, r, dim)


# ------------------------------------------------------------------ projected steps


def _apply(p: torch.Tensor, project: Projection | None) -> None:
    """``p <- project(p)`` in place (no autograd), checking the projection's output shape."""
    if project is None:
        return
    new = project(p)
    if not isinstance(new, torch.Tensor) or new.shape != p.shape:
        raise ValueError(
            f"a projection must return a tensor of the parameter's shape {tuple(p.shape)}, got "
            f"{getattr(new, 'shape', type(new).__name__)}"
        )
    p.copy_(new)


def _projected_step_(p: torch.Tensor, lr: float, project: Projection | None) -> None:
    """The one projected SGD step, unchecked, in place: ``p <- project(p - lr * p.grad)``."""
    p.add_(p.grad, alpha=-lr)
    _apply(p, project)


class ProjectedSGD(torch.optim.Optimizer):
    """Projected stochastic gradient descent: ``p <- project(p - eta * p.grad)``, ``eta = lr > 0``.

    Each parameter group may carry its own ``project`` (a function ``tensor -> tensor``, e.g.
    ``lambda w: project_l2_ball(w, r)``); groups without one (``project=None``, the default,
    e.g. the biases) take plain SGD steps::

        opt = ProjectedSGD([{"params": [w], "project": lambda w: project_l2_ball(w, r)},
                            {"params": [b]}], lr=0.01)

    Every group's ``lr`` and ``project`` are checked when the group is added, including groups
    added later with :meth:`add_param_group`.  Parameters without a gradient are skipped, as
    by ``torch.optim.SGD``.  Call :meth:`project_` once before training to start from a
    feasible point.  Introduced in *The hard-constraint view*.
    """

    def __init__(
        self,
        params: Iterable[torch.Tensor] | Iterable[dict[str, Any]],
        lr: float,
        project: Projection | None = None,
    ) -> None:
        if isinstance(params, torch.Tensor | str) or not isinstance(params, Iterable):
            raise TypeError(
                "params must be an iterable of tensors or of param-group dicts, got "
                f"{type(params).__name__}"
            )
        params = list(params)
        if not params:
            raise ValueError("params must not be empty")
        lr = check_positive("lr", lr)
        _check_projection("project", project)
        super().__init__(params, {"lr": lr, "project": project})

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group (as ``torch.optim.Optimizer`` does) after checking its ``lr`` (a number
        > 0) and ``project`` (a callable or None)."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, got {type(param_group).__name__}")
        i = len(self.param_groups)
        if "lr" in param_group:
            param_group["lr"] = check_positive(f"lr of param group {i}", param_group["lr"])
        if "project" in param_group:
            _check_projection(f"project of param group {i}", param_group["project"])
        super().add_param_group(param_group)

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
                if p.grad is not None:
                    _projected_step_(p, group["lr"], group["project"])
        return loss


def projected_update(
    projections: Sequence[Projection | None],
) -> Callable[[Sequence[torch.Tensor], float], None]:
    """The ``update(params, lr)`` hook of :func:`weightreg.train.train` for projected SGD.

    ``projections[i]`` is applied to ``params[i]`` after its step ``p -= lr * p.grad``;
    ``None`` leaves that parameter unconstrained (e.g. the bias)::

        train(net, [w, b], it, lr=0.003, num_epochs=100,
              update=projected_update([lambda w: project_l2_ball(w, r), None]))

    The same step as :class:`ProjectedSGD`.  ``train`` checks ``lr > 0``; the hook raises a
    ``ValueError`` naming the parameter if one has no gradient.
    """
    if isinstance(projections, str | torch.Tensor) or not isinstance(projections, Sequence):
        raise TypeError(
            "projections must be a sequence with one callable or None per parameter, got "
            f"{type(projections).__name__}"
        )
    projections = list(projections)
    for i, pr in enumerate(projections):
        _check_projection(f"projections[{i}]", pr)

    def update(params: Sequence[torch.Tensor], lr: float) -> None:
        params = list(params)
        if len(params) != len(projections):
            raise ValueError(
                f"projected_update got {len(projections)} projections for {len(params)} "
                "params: give one per parameter (None for an unconstrained one)"
            )
        with torch.no_grad():
            for i, (p, pr) in enumerate(zip(params, projections, strict=True)):
                if p.grad is None:
                    raise ValueError(
                        f"params[{i}] has no gradient (its .grad is None): it does not take "
                        "part in the loss, or backward() was not called; leave it out of params"
                    )
                _projected_step_(p, lr, pr)

    return update


def projected_gradient_descent(
    grad: Callable[[torch.Tensor], torch.Tensor | tuple[torch.Tensor, torch.Tensor]],
    project: Projection,
    W0: torch.Tensor,
    *,
    lr: float | torch.Tensor,
    steps: int,
    accelerate: bool = False,
) -> Solution:
    """Full-batch projected gradient descent ``W <- project(W - lr * grad(W))``, rows = problems.

    The first dimension of ``W0`` indexes independent problems (configurations as rows; one
    problem is one row, ``(1, d)``), and ``grad`` and ``project`` act row by row.  Starts
    from ``project(W0)``.  For an ``L``-smooth convex loss and a closed convex set,
    ``lr <= 1 / L`` makes every row converge to its constrained minimizer.

    ``accelerate=True`` uses Nesterov momentum (FISTA, Beck and Teboulle, 2009) with the
    gradient restart of O'Donoghue and Candes (2015), each row restarting its own momentum:
    much faster on ill-conditioned problems such as the lasso.

    The iterations are :func:`weightreg.proximal.proximal_gradient` with the projection as
    the proximal operator (the prox of the set's indicator), and its divergence policy: a
    row whose iterates blow up (or ``grad``'s per-row loss, if it returns ``(G, loss)``) is
    frozen, NaN in the result and reported; if every row diverges, ``TrainingDiverged`` is
    raised.  ``lr > 0`` is a number or one value per row.  Returns a
    :class:`weightreg.proximal.Solution` ``(W, diverged)``.  Introduced in *The
    hard-constraint view*.
    """
    if not callable(grad):
        raise TypeError(f"grad must be a callable tensor -> tensor, got {type(grad).__name__}")
    if not callable(project):
        raise TypeError(
            f"project must be a callable tensor -> tensor, got {type(project).__name__}"
        )
    if not isinstance(lr, torch.Tensor):
        lr = check_positive("lr", lr)  # a number here; a tensor (one lr per row) is checked below
    W0 = check_finite_tensor("W0", W0)
    if W0.dim() < 1:
        raise ValueError(
            "W0 must have a first dimension that indexes problems (rows), got a 0-d tensor"
        )
    start = project(W0.detach().clone())
    if not isinstance(start, torch.Tensor) or start.shape != W0.shape:
        raise ValueError(
            f"project must return a tensor of W0's shape {tuple(W0.shape)}, got "
            f"{getattr(start, 'shape', type(start).__name__)}"
        )
    return proximal_gradient(grad, project, start, lr=lr, steps=steps, accelerate=accelerate)
