r"""Self-checks for the exercises of the chapters on weight decay and optimizers.

* :func:`sgdw_step`: one step of SGD with momentum and decoupled weight decay
  (*L2 regularization is weight decay under SGD*, ``book/decay/sgd.md``);
* :func:`adamw_step`: one AdamW step (*Why L2 fails under Adam, and what AdamW does*,
  ``book/decay/adamw.md``).

Notation (the book's glossary): ``lr`` is the learning rate :math:`\eta`, ``weight_decay``
the weight-decay coefficient :math:`\lambda` in PyTorch's convention, so decoupled decay
multiplies the weights by :math:`1 - \eta\lambda` per step; Loshchilov and Hutter's
coefficient is :math:`\lambda_{\mathrm{LH}} = \eta\lambda`.

Each check compares the student's step with the reference on several cases (non-zero
momentum buffers, first and later steps, zero decay, float32 inputs) and, when they differ,
recognizes the usual mistakes by recomputing them: decay sent through the momentum buffer or
the adaptive scaling (that is L2), decay not multiplied by the learning rate (the paper's
convention), decay applied after the gradient step, a damped momentum buffer, missing bias
correction, ``eps`` inside the square root.

Answers are compared in float64 with a tolerance set by the answer's dtype: ``rtol=1e-9``
for float64, ``rtol=2e-5`` (a few float32 roundings) for float32 or lower precision, so a
correct answer computed in float32 passes and every diagnosed mistake still differs by far
more than that.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from ._core import call_student, fail, passed

__all__ = ["adamw_step", "sgdw_step"]

Tensor = torch.Tensor


def _close(a: Tensor, b: Tensor) -> bool:
    """``a`` equals ``b`` up to the rounding of the less precise of their dtypes."""
    if a.shape != b.shape:
        return False
    single = a.dtype != torch.float64 or b.dtype != torch.float64
    rtol, atol = (2e-5, 1e-6) if single else (1e-9, 1e-12)
    a64, b64 = a.to(torch.float64), b.to(torch.float64)
    return bool(torch.allclose(a64, b64, rtol=rtol, atol=atol * max(1.0, float(b64.abs().max()))))


def _as_tuple(out: object, n: int, names: str) -> tuple[Tensor, ...]:
    if not isinstance(out, tuple | list) or len(out) != n:
        fail(f"return a tuple ({names}); your function returned {type(out).__name__}.")
    for name, value in zip(names.split(", "), out, strict=True):
        if not isinstance(value, Tensor):
            fail(f"{name} must be a torch tensor, got {type(value).__name__}.")
        if not value.is_floating_point():
            fail(f"{name} must hold floating-point numbers, got dtype {value.dtype}.")
    return tuple(t.detach() for t in out)


def _diagnose(got: Tensor, expected: Tensor, mistakes: list[tuple[Tensor, str]], where: str):
    """Fail with the message of the first known mistake that ``got`` reproduces."""
    for value, message in mistakes:
        if _close(got, value) and not _close(value, expected):
            fail(f"{where}: {message}")


# ------------------------------------------------------------------------------- SGDW


def _sgdw(w, g, buf, lr, mu, wd, *, coupled=False, no_lr=False, after=False, damp=False):
    """The reference step and, with a flag, one typical mistake."""
    grad = g + wd * w if coupled else g
    buf = mu * buf + ((1 - mu) if damp else 1) * grad
    shrink = 1 - (wd if no_lr else lr * wd)
    if coupled:
        return w - lr * buf, buf
    if after:
        return (w - lr * buf) * shrink, buf
    return w * shrink - lr * buf, buf


def sgdw_step(
    fn: Callable[[Tensor, Tensor, Tensor, float, float, float], tuple[Tensor, Tensor]],
) -> None:
    """Check ``fn(w, grad, buf, lr, momentum, weight_decay) -> (new_w, new_buf)``.

    The reference is SGD with momentum and decoupled decay, PyTorch's convention::

        buf = momentum * buf + grad
        new_w = w * (1 - lr * weight_decay) - lr * buf

    Diagnoses: the decay added to the gradient (it then goes through the momentum
    buffer: that is L2), a shrink factor without ``lr``, the shrink applied after the
    gradient step, a damped buffer ``(1 - momentum) * grad``, the buffer ignored or not
    returned updated, inputs modified in place.
    """
    gen = torch.Generator().manual_seed(3)

    def rnd(*shape):
        return torch.randn(*shape, generator=gen, dtype=torch.float64)

    cases = [
        (rnd(5), rnd(5), rnd(5), 0.1, 0.9, 0.5),
        (rnd(3, 4), rnd(3, 4), rnd(3, 4), 0.05, 0.8, 2.0),
        (rnd(4), rnd(4), torch.zeros(4, dtype=torch.float64), 0.2, 0.9, 0.3),
        (rnd(4), rnd(4), rnd(4), 0.3, 0.0, 0.1),
        (rnd(4), rnd(4), rnd(4), 0.1, 0.5, 0.0),
        (rnd(6).float(), rnd(6).float(), rnd(6).float(), 0.1, 0.9, 0.5),
    ]
    for w, g, buf, lr, mu, wd in cases:
        where = f"with lr={lr}, momentum={mu}, weight_decay={wd}"
        if w.dtype == torch.float32:
            where += " (float32 tensors)"
        args = (w.clone(), g.clone(), buf.clone())
        out = call_student(
            fn, *args, lr, mu, wd, what=f"a {'x'.join(map(str, w.shape))} tensor {where}"
        )
        if not all(torch.equal(a, b) for a, b in zip(args, (w, g, buf), strict=True)):
            fail("your function changed its inputs in place; compute and return new tensors.")
        new_w, new_buf = _as_tuple(out, 2, "new_w, new_buf")
        w, g, buf = w.double(), g.double(), buf.double()  # references in float64
        ref_w, ref_buf = _sgdw(w, g, buf, lr, mu, wd)
        if not _close(new_buf, ref_buf):
            _diagnose(
                new_buf,
                ref_buf,
                [
                    (
                        _sgdw(w, g, buf, lr, mu, wd, coupled=True)[1],
                        "the decay term went into the momentum buffer; with decoupled decay the "
                        "buffer accumulates the loss gradient only.",
                    ),
                    (
                        _sgdw(w, g, buf, lr, mu, wd, damp=True)[1],
                        "the gradient was damped by (1 - momentum); this buffer adds the gradient "
                        "undamped, as torch.optim.SGD does.",
                    ),
                    (buf, "the returned buffer is the old one: update it with the new gradient."),
                    (
                        g,
                        "the returned buffer is just the gradient: it must remember the old "
                        "buffer, scaled by the momentum.",
                    ),
                ],
                where,
            )
            fail(f"{where}: the new momentum buffer is wrong.")
        if not _close(new_w, ref_w):
            _diagnose(
                new_w,
                ref_w,
                [
                    (
                        _sgdw(w, g, buf, lr, mu, wd, coupled=True)[0],
                        "this is coupled decay, the L2 penalty (weight_decay/2)*||w||^2: the "
                        "decay term weight_decay*w goes through the momentum buffer; decoupled "
                        "decay shrinks the weights directly instead.",
                    ),
                    (
                        _sgdw(w, g, buf, lr, mu, wd, no_lr=True)[0],
                        "the shrink factor ignores the learning rate: that reads weight_decay as "
                        "Loshchilov and Hutter's lambda_LH, the decay per step. Here weight_decay "
                        "is PyTorch's lambda, and the decay per step is lr * weight_decay.",
                    ),
                    (
                        _sgdw(w, g, buf, lr, mu, wd, after=True)[0],
                        "the weights were shrunk after the gradient step; shrink the old weights, "
                        "then take the step.",
                    ),
                    (
                        w * (1 - lr * wd) - lr * g,
                        "the step uses the raw gradient; step along the momentum buffer.",
                    ),
                    (w - lr * ref_buf, "the weights were not decayed at all."),
                    (
                        w * (1 + lr * wd) - lr * ref_buf,
                        "the decay has the wrong sign: it must shrink w.",
                    ),
                ],
                where,
            )
            fail(f"{where}: the new weights are wrong (the buffer is right).")
    passed("sgdw_step", len(cases))


# ------------------------------------------------------------------------------ AdamW


def _adamw(
    w,
    g,
    m,
    v,
    t,
    lr,
    betas,
    eps,
    wd,
    *,
    coupled=False,
    no_lr=False,
    after=False,
    no_bias=False,
    eps_inside=False,
):
    """The reference AdamW step and, with a flag, one typical mistake."""
    b1, b2 = betas
    grad = g + wd * w if coupled else g
    m = b1 * m + (1 - b1) * grad
    v = b2 * v + (1 - b2) * grad**2
    m_hat, v_hat = (m, v) if no_bias else (m / (1 - b1**t), v / (1 - b2**t))
    denom = (v_hat + eps).sqrt() if eps_inside else v_hat.sqrt() + eps
    step = lr * m_hat / denom
    shrink = 1.0 if coupled else 1 - (wd if no_lr else lr * wd)
    new_w = (w - step) * shrink if after else w * shrink - step
    return new_w, m, v


def adamw_step(
    fn: Callable[..., tuple[Tensor, Tensor, Tensor]],
) -> None:
    """Check ``fn(w, grad, m, v, step, lr, betas, eps, weight_decay) -> (new_w, new_m, new_v)``.

    The reference is ``torch.optim.AdamW``'s update for step number ``step`` (1, 2, ...)::

        m = beta1 * m + (1 - beta1) * grad;   v = beta2 * v + (1 - beta2) * grad**2
        m_hat = m / (1 - beta1**step);        v_hat = v / (1 - beta2**step)
        new_w = w * (1 - lr * weight_decay) - lr * m_hat / (sqrt(v_hat) + eps)

    Diagnoses: the decay added to the gradient (Adam + L2), no bias correction, ``eps``
    inside the square root, a shrink factor without ``lr``, the shrink applied after the
    step, moments not updated, inputs modified in place.
    """
    gen = torch.Generator().manual_seed(4)

    def rnd(*shape, scale=1.0):
        return scale * torch.randn(*shape, generator=gen, dtype=torch.float64)

    cases = [
        (
            rnd(5),
            rnd(5),
            torch.zeros(5, dtype=torch.float64),
            torch.zeros(5, dtype=torch.float64),
            1,
            0.01,
            (0.9, 0.999),
            1e-8,
            0.1,
        ),
        (
            rnd(3, 4),
            rnd(3, 4),
            rnd(3, 4, scale=0.1),
            rnd(3, 4).abs(),
            3,
            0.05,
            (0.8, 0.99),
            1e-3,
            2.0,
        ),
        (
            rnd(4),
            rnd(4, scale=1e-3),
            rnd(4, scale=1e-3),
            rnd(4, scale=1e-4).abs(),
            10,
            0.1,
            (0.9, 0.999),
            0.01,
            0.5,
        ),
        (rnd(4), rnd(4), rnd(4), rnd(4).abs(), 2, 0.02, (0.5, 0.9), 1e-8, 0.0),
        (
            rnd(6).float(),
            rnd(6).float(),
            rnd(6, scale=0.1).float(),
            rnd(6).abs().float(),
            5,
            0.01,
            (0.9, 0.999),
            1e-8,
            0.1,
        ),
    ]
    for w, g, m, v, t, lr, betas, eps, wd in cases:
        where = f"at step {t} with lr={lr}, betas={betas}, eps={eps}, weight_decay={wd}"
        if w.dtype == torch.float32:
            where += " (float32 tensors)"
        args = (w.clone(), g.clone(), m.clone(), v.clone())
        out = call_student(fn, *args, t, lr, betas, eps, wd, what=f"a tensor {where}")
        if not all(torch.equal(a, b) for a, b in zip(args, (w, g, m, v), strict=True)):
            fail("your function changed its inputs in place; compute and return new tensors.")
        new_w, new_m, new_v = _as_tuple(out, 3, "new_w, new_m, new_v")
        w, g, m, v = w.double(), g.double(), m.double(), v.double()  # references in float64
        ref_w, ref_m, ref_v = _adamw(w, g, m, v, t, lr, betas, eps, wd)

        def variant(**flag):
            return _adamw(w, g, m, v, t, lr, betas, eps, wd, **flag)  # noqa: B023

        if not _close(new_m, ref_m) or not _close(new_v, ref_v):
            coupled = variant(coupled=True)
            if _close(new_m, coupled[1]) and not _close(coupled[1], ref_m):
                fail(
                    f"{where}: the decay term went into the moments; in AdamW the moments "
                    "see the loss gradient only (otherwise it is Adam + L2)."
                )
            if _close(new_m, m) or _close(new_v, v):
                fail(f"{where}: return the updated moments m and v, not the old ones.")
            if not _close(new_m, ref_m):
                fail(
                    f"{where}: the first moment m is wrong: it is an exponential moving "
                    "average of the gradient with weight beta1 on the old value."
                )
            fail(
                f"{where}: the second moment v is wrong: it averages the squared gradient "
                "with weight beta2 on the old value."
            )
        if not _close(new_w, ref_w):
            _diagnose(
                new_w,
                ref_w,
                [
                    (
                        w
                        - (ref_m / (1 - betas[0] ** t))
                        * lr
                        / ((ref_v / (1 - betas[1] ** t)).sqrt() + eps),
                        "the weights were not decayed at all.",
                    ),
                    (
                        variant(coupled=True)[0],
                        "this is Adam + L2 (the decay is rescaled by the adaptive denominator); "
                        "shrink the weights directly instead.",
                    ),
                    (
                        variant(no_bias=True)[0],
                        "the moments were used without bias correction; "
                        "divide by (1 - beta**step).",
                    ),
                    (
                        variant(eps_inside=True)[0],
                        "eps belongs outside the square root, added to sqrt(v_hat).",
                    ),
                    (
                        variant(no_lr=True)[0],
                        "the shrink factor ignores the learning rate: that reads weight_decay as "
                        "Loshchilov and Hutter's lambda_LH, the decay per step. Here weight_decay "
                        "is PyTorch's lambda, and the decay per step is lr * weight_decay.",
                    ),
                    (
                        variant(after=True)[0],
                        "the weights were shrunk after the Adam step; shrink the old weights, then "
                        "take the step.",
                    ),
                ],
                where,
            )
            fail(f"{where}: the new weights are wrong (the moments are right).")
    passed("adamw_step", len(cases))
