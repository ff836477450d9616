r"""Self-checks for the exercises of the chapters on weight decay and optimizers.

* :func:`sgdw_step`: one step of SGD with momentum and decoupled weight decay
  (*L2 regularization is weight decay under SGD*, ``book/decay/sgd.md``);
* :func:`adamw_step`: one AdamW step (*Why L2 fails under Adam, and what AdamW does*,
  ``book/decay/adamw.md``).

Notation (the book's glossary): ``lr`` is the learning rate :math:`\eta`, ``weight_decay``
the weight-decay coefficient :math:`\lambda` in PyTorch's convention, so decoupled decay
multiplies the weights by :math:`1 - \eta\lambda` per step; Loshchilov and Hutter's
coefficient is :math:`\lambda_{\mathrm{LH}} = \eta\lambda`.

Both chapters compute in PyTorch's default float32, so the checks hand the student float32
tensors and compare with a float64 reference at float32's tolerance (the dtype policy of
``weightreg.check._core.agrees``: a float64 answer that agrees passes with a note).  When
an answer differs, the usual mistakes are recognized by recomputing them (each case is chosen
so that the mistakes it names differ from the reference by far more than float32 rounding):
decay sent through the momentum buffer or the adaptive scaling (that is L2), decay not
multiplied by the learning rate (the paper's convention), decay applied after the step, a
damped buffer, ``lr`` put into the buffer, the bias correction missing or off by one step, a
missing square root, ``eps`` misplaced, the bias-corrected moments returned.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

import torch

from ..optim import SGD, Adam, adam_kernel_, adam_update_, sgd_kernel_, sgd_update_
from ._core import agrees, as_tensor, call_untouched, close, fail, passed, selfcheck, tolerance
from ._core import uses_library as _uses_library

__all__ = ["adamw_step", "sgdw_step"]

Tensor = torch.Tensor
DTYPE = torch.float32
"""The dtype the two chapters compute in (PyTorch's default): the checks' inputs are float32."""


def _call(fn: Callable, args: tuple, names: tuple[str, ...], what: str) -> tuple[object, tuple]:
    """Call ``fn`` on copies of ``args`` (failing if it changes one in place).

    Returns its result and the copies it was handed, to find a result that *is* an input.
    """
    seen: list[tuple] = []

    def spy(*a):
        seen.append(a)
        return fn(*a)

    out = call_untouched(spy, *args, what=what, names=names)
    return out, seen[0]


def _shares_memory(a: Tensor, b: object) -> bool:
    return (
        isinstance(b, Tensor)
        and a.numel() > 0
        and b.numel() > 0
        and a.untyped_storage().data_ptr() == b.untyped_storage().data_ptr()
    )


def _as_tuple(out: object, shape: torch.Size, names: tuple[str, ...], what: str) -> list[Tensor]:
    listed = ", ".join(names)
    if not isinstance(out, tuple | list) or len(out) != len(names):
        got = f"{len(out)} items" if isinstance(out, tuple | list) else type(out).__name__
        fail(f"on {what} return the tuple ({listed}); your function returned {got}.")
    tensors = []
    for name, value in zip(names, out, strict=True):
        value = as_tensor(
            value, what=f"{what} ({name})", shape=shape, purpose=f"{name} has the shape of w"
        )
        tensors.append(value.detach())
    return tensors


def _no_alias(raw: object, inputs: tuple, names: tuple[str, ...], what: str) -> None:
    """Fail if a returned tensor is one of the inputs (or a view of one)."""
    for out_name, value in zip(names, raw, strict=True):
        for in_name, given in inputs:
            if _shares_memory(value, given):
                extra = ""
                if in_name == "grad":
                    extra = (
                        " A buffer that is the caller's gradient changes whenever the next "
                        "gradient is written into that tensor (loss.backward(), grad.zero_())."
                    )
                fail(
                    f"on {what} your {out_name} is the tensor {in_name} itself (or a view of "
                    f"it): return a new tensor (e.g. {in_name}.clone() where no arithmetic "
                    f"is left to do).{extra}"
                )


def _finite(values: list[Tensor], names: tuple[str, ...], what: str, hint: str = "") -> None:
    for name, value in zip(names, values, strict=True):
        if not bool(torch.isfinite(value).all()):
            fail(f"on {what} your {name} contains inf or NaN.{hint}")


def _scale(*tensors: Tensor) -> float:
    """The size of the numbers a result is computed from (the absolute tolerance's unit)."""
    return max(1e-12, *(float(t.abs().max()) for t in tensors))


def _permuted(outs: list[Tensor], refs: list[Tensor], scale: float) -> bool:
    """The results are the references in another order (not the right one)."""
    for order in itertools.permutations(range(len(refs))):
        if list(order) == list(range(len(refs))):
            continue
        if all(
            close(out, refs[j], tolerance(out.dtype, DTYPE), scale)
            for out, j in zip(outs, order, strict=True)
        ):
            return True
    return False


class _Match:
    """Compare a student's result with recomputed variants at the tolerance of its dtype."""

    def __init__(self, got: Tensor, reference: Tensor, scale: float):
        self.got, self.reference, self.scale = got, reference, scale
        self.tol = tolerance(got.dtype, DTYPE)

    def __call__(self, variant: Tensor) -> bool:
        """``got`` is this variant, and the variant is not the reference on this case."""
        return close(self.got, variant, self.tol, self.scale) and not close(
            variant, self.reference, self.tol, self.scale
        )

    def diagnose(self, mistakes: list[tuple[Tensor, str]], where: str) -> None:
        for value, message in mistakes:
            if bool(torch.isfinite(value).all()) and self(value):
                fail(f"{where}: {message}")


NO_LR_MESSAGE = (
    "the shrink factor ignores the learning rate: that reads weight_decay as Loshchilov and "
    "Hutter's lambda_LH, the decay per step. Here weight_decay is PyTorch's lambda, and the "
    "decay per step is lr * weight_decay."
)


# ------------------------------------------------------------------------------- SGDW


def _sgdw(w, g, buf, lr, mu, wd, *, coupled=False, no_lr=False, after=False, damp=False):
    """The reference step and, with a flag, one typical mistake (float64)."""
    grad = g + wd * w if coupled else g
    buf = mu * buf + ((1 - mu) if damp else 1) * grad
    shrink = 1 - (wd if no_lr else lr * wd)
    if coupled:
        return w - lr * buf, buf
    if after:
        return (w - lr * buf) * shrink, buf
    return w * shrink - lr * buf, buf


def _sgdw_cases() -> list[tuple[Tensor, Tensor, Tensor, float, float, float]]:
    """Float32 cases ``(w, grad, buf, lr, momentum, weight_decay)``.

    No case has ``lr == 1 - momentum``, so a buffer damped by ``1 - momentum`` and a buffer
    that took ``lr * grad`` differ everywhere but at ``momentum = 0`` (where the damped buffer
    is right).
    """
    gen = torch.Generator().manual_seed(3)

    def rnd(*shape):
        return torch.randn(*shape, generator=gen, dtype=torch.float64).to(DTYPE)

    return [
        (rnd(5), rnd(5), rnd(5), 0.05, 0.9, 0.5),
        (rnd(3, 4), rnd(3, 4), rnd(3, 4), 0.3, 0.8, 2.0),
        (rnd(4), rnd(4), torch.zeros(4, dtype=DTYPE), 0.2, 0.9, 0.3),
        (rnd(4), rnd(4), rnd(4), 0.3, 0.0, 0.1),
        (rnd(4), rnd(4), rnd(4), 0.1, 0.5, 0.0),
        (rnd(6), rnd(6), rnd(6), 0.02, 0.99, 1.0),
    ]


@selfcheck
def sgdw_step(
    fn: Callable[[Tensor, Tensor, Tensor, float, float, float], tuple[Tensor, Tensor]],
) -> None:
    """Check ``fn(w, grad, buf, lr, momentum, weight_decay) -> (new_w, new_buf)``.

    The reference is SGD with momentum and decoupled decay, PyTorch's convention::

        buf = momentum * buf + grad
        new_w = w * (1 - lr * weight_decay) - lr * buf

    The inputs are float32 (the chapter's dtype); six cases: momentum 0, 0.5 to 0.99, a zero
    buffer, no decay, a 3x4 tensor.  Diagnoses: the decay added to the gradient (it then goes
    through the momentum buffer: that is L2), a shrink factor without ``lr``, the shrink
    applied after the gradient step, a buffer damped by ``(1 - momentum)``, ``lr * grad`` put
    into the buffer, the old buffer not scaled by the momentum (or the momentum on the
    gradient), the "velocity" form ``momentum * buf - lr * grad``, the old buffer (or the raw
    gradient) in the weight step, a step or decay of the wrong sign, the results returned in
    the wrong order, Nesterov's step, a returned tensor that *is* an input (e.g. ``grad``
    itself as the buffer at ``momentum = 0``), inputs modified in place, NaN or inf, a call
    to the library's ``sgd_update_`` (or ``weightreg.optim.SGD``).
    """
    _uses_library(fn, sgd_update_, sgd_kernel_, SGD, exercise="this exercise (one SGDW step)")
    cases = _sgdw_cases()
    names = ("new_w", "new_buf")
    for w, g, buf, lr, mu, wd in cases:
        where = f"with lr={lr}, momentum={mu}, weight_decay={wd}"
        what = f"float32 tensors of shape {tuple(w.shape)} {where}"
        raw, given = _call(fn, (w, g, buf, lr, mu, wd), ("w", "grad", "buf"), what)
        new_w, new_buf = _as_tuple(raw, w.shape, names, what)
        _finite([new_w, new_buf], names, what)
        w64, g64, b64 = w.double(), g.double(), buf.double()  # references in float64
        ref_w, ref_buf = _sgdw(w64, g64, b64, lr, mu, wd)
        s_buf = _scale(mu * b64, g64)
        s_w = _scale(w64, lr * ref_buf)
        match_buf, match_w = _Match(new_buf, ref_buf, s_buf), _Match(new_w, ref_w, s_w)
        if _permuted([new_w, new_buf], [ref_w, ref_buf], max(s_w, s_buf)):
            fail(
                f"{where}: you returned (new_buf, new_w); return them in the order "
                "(new_w, new_buf)."
            )
        if not agrees(new_buf, ref_buf, dtype=DTYPE, what=f"{what} (new_buf)", scale=s_buf):
            match_buf.diagnose(
                [
                    (
                        _sgdw(w64, g64, b64, lr, mu, wd, coupled=True)[1],
                        "the decay term went into the momentum buffer; with decoupled decay "
                        "the buffer accumulates the loss gradient only.",
                    ),
                    (
                        mu * b64 + lr * g64,
                        "the buffer took lr * grad: in this convention (torch.optim.SGD's) the "
                        "buffer accumulates the gradient itself, and lr multiplies the whole "
                        "buffer in the weight step.",
                    ),
                    (
                        mu * b64 - lr * g64,
                        "your buffer holds -lr * grad (the 'velocity' form); in this convention "
                        "the buffer accumulates +grad, and the weight step subtracts lr * buf.",
                    ),
                    (
                        _sgdw(w64, g64, b64, lr, mu, wd, damp=True)[1],
                        "the gradient was damped by (1 - momentum); this buffer adds the "
                        "gradient undamped, as torch.optim.SGD does.",
                    ),
                    (
                        b64 + g64,
                        "the old buffer was not multiplied by the momentum before the gradient "
                        "was added.",
                    ),
                    (
                        b64 + mu * g64,
                        "the momentum multiplies the gradient; it should multiply the old buffer.",
                    ),
                    (b64, "the returned buffer is the old one: update it with the new gradient."),
                    (
                        g64,
                        "the returned buffer is just the gradient: it must remember the old "
                        "buffer, scaled by the momentum.",
                    ),
                    (-ref_buf, "the buffer has the wrong sign."),
                ],
                where,
            )
            fail(f"{where}: the new momentum buffer is wrong.")
        if not agrees(new_w, ref_w, dtype=DTYPE, what=f"{what} (new_w)", scale=s_w):
            shrink = 1 - lr * wd
            match_w.diagnose(
                [
                    (
                        _sgdw(w64, g64, b64, lr, mu, wd, coupled=True)[0],
                        "this is coupled decay, the L2 penalty (weight_decay/2)*||w||^2: the "
                        "decay term weight_decay*w goes through the momentum buffer; decoupled "
                        "decay shrinks the weights directly instead.",
                    ),
                    (_sgdw(w64, g64, b64, lr, mu, wd, no_lr=True)[0], NO_LR_MESSAGE),
                    (
                        _sgdw(w64, g64, b64, lr, mu, wd, after=True)[0],
                        "the weights were shrunk after the gradient step; shrink the old "
                        "weights, then take the step.",
                    ),
                    (
                        w64 * shrink - lr * g64,
                        "the step uses the raw gradient; step along the momentum buffer.",
                    ),
                    (
                        w64 * shrink - lr * b64,
                        "the step uses the old buffer; step along the updated one.",
                    ),
                    (
                        w64 * shrink - ref_buf,
                        "the step along the buffer is not multiplied by lr.",
                    ),
                    (w64 - lr * ref_buf, "the weights were not decayed at all."),
                    (
                        w64 * (1 + lr * wd) - lr * ref_buf,
                        "the decay has the wrong sign: it must shrink w.",
                    ),
                    (
                        w64 * shrink + lr * ref_buf,
                        "the step has the wrong sign: move against the buffer (minus lr * buf).",
                    ),
                    (
                        w64 * (1 - lr * lr * wd) - lr * ref_buf,
                        "the shrink factor has lr twice: it is 1 - lr * weight_decay.",
                    ),
                    (
                        w64 * shrink - lr * (g64 + mu * ref_buf),
                        "this is Nesterov's step (grad + momentum * buf); this exercise steps "
                        "along the buffer itself, as torch.optim.SGD does without nesterov=True.",
                    ),
                ],
                where,
            )
            fail(f"{where}: the new weights are wrong (the buffer is right).")
        _no_alias(
            raw,
            tuple(zip(("w", "grad", "buf"), given[:3], strict=False)),
            names,
            what,
        )
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
    bias_steps=None,
    no_sqrt=False,
):
    """The reference AdamW step and, with a flag, one typical mistake (float64).

    ``bias_steps=(t1, t2)``: the bias corrections use these step numbers instead of ``t``.
    """
    b1, b2 = betas
    grad = g + wd * w if coupled else g
    m = b1 * m + (1 - b1) * grad
    v = b2 * v + (1 - b2) * grad**2
    t1, t2 = bias_steps or (t, t)
    m_hat, v_hat = (m, v) if no_bias else (m / (1 - b1**t1), v / (1 - b2**t2))
    if no_sqrt:
        denom = v_hat + eps
    else:
        denom = (v_hat + eps).sqrt() if eps_inside else v_hat.sqrt() + eps
    step = lr * m_hat / denom
    shrink = 1.0 if coupled else 1 - (wd if no_lr else lr * wd)
    new_w = (w - step) * shrink if after else w * shrink - step
    return new_w, m, v


def _adamw_cases() -> list[tuple]:
    """Float32 cases ``(w, grad, m, v, step, lr, betas, eps, weight_decay)``.

    The first is a later step (3) with non-zero moments, where the diagnosed mistakes all
    differ from each other; the second is step 1 from zero moments (where a bias correction
    with ``step - 1`` divides by zero, and ``m_hat`` equals the gradient); a large ``eps``
    tells ``eps`` inside the square root, a missing ``eps`` and a missing square root apart;
    the learning rates are large enough that every diagnosed mistake in the step moves
    ``new_w`` by far more than float32 rounding.
    """
    gen = torch.Generator().manual_seed(4)

    def rnd(*shape, scale=1.0):
        return (scale * torch.randn(*shape, generator=gen, dtype=torch.float64)).to(DTYPE)

    def zeros(n):
        return torch.zeros(n, dtype=DTYPE)

    cases = [
        (rnd(5), rnd(5), zeros(5), zeros(5), 1, 0.1, (0.9, 0.999), 1e-8, 0.1),
        (
            rnd(3, 4),
            rnd(3, 4),
            rnd(3, 4, scale=0.1),
            rnd(3, 4).abs(),
            3,
            0.2,
            (0.8, 0.99),
            1e-3,
            2.0,
        ),
        (
            rnd(4, scale=0.1),
            rnd(4, scale=1e-3),
            rnd(4, scale=1e-3),
            rnd(4, scale=1e-4).abs(),
            10,
            0.1,
            (0.9, 0.999),
            0.01,
            0.5,
        ),
        (rnd(4), rnd(4), rnd(4), rnd(4).abs(), 2, 0.3, (0.5, 0.9), 1e-8, 0.0),
        (
            rnd(6, scale=0.3),
            rnd(6),
            rnd(6, scale=0.1),
            rnd(6).abs(),
            5,
            0.05,
            (0.9, 0.999),
            1e-8,
            0.1,
        ),
    ]
    return [cases[1], cases[0], *cases[2:]]


@selfcheck
def adamw_step(
    fn: Callable[..., tuple[Tensor, Tensor, Tensor]],
) -> None:
    """Check ``fn(w, grad, m, v, step, lr, betas, eps, weight_decay) -> (new_w, new_m, new_v)``.

    The reference is ``torch.optim.AdamW``'s update for step number ``step`` (1, 2, ...)::

        m = beta1 * m + (1 - beta1) * grad;   v = beta2 * v + (1 - beta2) * grad**2
        m_hat = m / (1 - beta1**step);        v_hat = v / (1 - beta2**step)
        new_w = w * (1 - lr * weight_decay) - lr * m_hat / (sqrt(v_hat) + eps)

    The inputs are float32 (the chapter's dtype); five cases: step 1 from zero moments, later
    steps, a large ``eps``, no decay.  Diagnoses: the decay added to the gradient (Adam + L2),
    no bias correction, a bias correction off by one step (``step - 1`` divides by zero at
    step 1: inf or NaN) or applied to one moment only, the bias-corrected moments returned
    instead of ``m`` and ``v``, a missing square root, ``eps`` inside the square root or
    missing, a step without ``lr`` or of the wrong sign, a shrink factor without ``lr``, the
    shrink applied after the step, the moments' weights swapped, ``v`` not squared, moments
    not updated, results in the wrong order, a returned tensor that is an input, inputs
    modified in place, a call to the library's ``adam_update_`` (or ``weightreg.optim.Adam``).
    """
    _uses_library(fn, adam_update_, adam_kernel_, Adam, exercise="this exercise (one AdamW step)")
    cases = _adamw_cases()
    names = ("new_w", "new_m", "new_v")
    for w, g, m, v, t, lr, betas, eps, wd in cases:
        where = f"at step {t} with lr={lr}, betas={betas}, eps={eps}, weight_decay={wd}"
        what = f"float32 tensors of shape {tuple(w.shape)} {where}"
        raw, given = _call(fn, (w, g, m, v, t, lr, betas, eps, wd), ("w", "grad", "m", "v"), what)
        new_w, new_m, new_v = _as_tuple(raw, w.shape, names, what)
        w64, g64, m64, v64 = w.double(), g.double(), m.double(), v.double()
        b1, b2 = betas

        def variant(**flag):
            return _adamw(w64, g64, m64, v64, t, lr, betas, eps, wd, **flag)  # noqa: B023

        ref_w, ref_m, ref_v = variant()
        m_hat, v_hat = ref_m / (1 - b1**t), ref_v / (1 - b2**t)
        bias_hint = ""
        if t == 1:
            bias_hint = (
                " At step 1, a bias correction 1 - beta**(step - 1) is 0: the step number "
                "counts from 1, and the correction uses step itself."
            )
        _finite([new_m, new_v], names[1:], what)
        s_m, s_v = _scale(b1 * m64, (1 - b1) * g64), _scale(b2 * v64, (1 - b2) * g64**2)
        step = w64 * (1 - lr * wd) - ref_w  # lr * m_hat / (sqrt(v_hat) + eps)
        s_w = _scale(w64, step)
        if _Match(new_m, ref_m, s_m)(m_hat) and _Match(new_v, ref_v, s_v)(v_hat):
            fail(
                f"{where}: you returned the bias-corrected moments m_hat and v_hat; return "
                "m and v themselves (the correction only enters the step, the running "
                "averages stay uncorrected)."
            )
        m_ok = agrees(new_m, ref_m, dtype=DTYPE, what=f"{what} (new_m)", scale=s_m)
        v_ok = agrees(new_v, ref_v, dtype=DTYPE, what=f"{what} (new_v)", scale=s_v)
        if not (m_ok and v_ok):
            if _permuted([new_w, new_m, new_v], [ref_w, ref_m, ref_v], max(s_w, s_m, s_v)):
                fail(f"{where}: return the tuple in the order (new_w, new_m, new_v).")
            coupled = variant(coupled=True)
            if _Match(new_m, ref_m, s_m)(coupled[1]):
                fail(
                    f"{where}: the decay term went into the moments; in AdamW the moments "
                    "see the loss gradient only (otherwise it is Adam + L2)."
                )
            if _Match(new_m, ref_m, s_m)(m64) or _Match(new_v, ref_v, s_v)(v64):
                fail(f"{where}: return the updated moments m and v, not the old ones.")
            if not m_ok:
                if _Match(new_m, ref_m, s_m)(b1 * m64 + g64):
                    fail(
                        f"{where}: the gradient enters m without its weight 1 - beta1: m is an "
                        "average, beta1 * m + (1 - beta1) * grad."
                    )
                if _Match(new_m, ref_m, s_m)(b2 * m64 + (1 - b2) * g64):
                    fail(f"{where}: m was averaged with beta2; beta1 belongs to m, beta2 to v.")
                if _Match(new_m, ref_m, s_m)((1 - b1) * m64 + b1 * g64):
                    fail(
                        f"{where}: the weights of m's average are swapped: beta1 weighs the "
                        "old m, 1 - beta1 the new gradient."
                    )
                if _Match(new_m, ref_m, s_m)(m_hat):
                    fail(
                        f"{where}: you returned the bias-corrected m_hat as the new m; return "
                        "m itself (the correction only enters the step)."
                    )
                fail(
                    f"{where}: the first moment m is wrong: it is an exponential moving "
                    "average of the gradient with weight beta1 on the old value."
                )
            match_v = _Match(new_v, ref_v, s_v)
            if match_v((1 - b2) * v64 + b2 * g64**2):
                fail(
                    f"{where}: the weights of v's average are swapped: beta2 weighs the old v, "
                    "1 - beta2 the new squared gradient."
                )
            if match_v(b2 * v64 + (1 - b2) * g64) or match_v(b2 * v64 + (1 - b2) * g64.abs()):
                fail(f"{where}: v averages the squared gradient; yours is not squared.")
            if match_v(v_hat):
                fail(
                    f"{where}: you returned the bias-corrected v_hat as the new v; return v "
                    "itself (the correction only enters the step)."
                )
            fail(
                f"{where}: the second moment v is wrong: it averages the squared gradient "
                "with weight beta2 on the old value."
            )
        _finite(
            [new_w],
            names[:1],
            what,
            bias_hint or " A division by zero, or the square root of a negative number?",
        )
        if not agrees(new_w, ref_w, dtype=DTYPE, what=f"{what} (new_w)", scale=s_w):
            shrink = 1 - lr * wd
            off_by_one = "the bias correction is off by one step: "
            _Match(new_w, ref_w, s_w).diagnose(
                [
                    (w64, "new_w equals w: the weights were not updated."),
                    (w64 - step, "the weights were not decayed at all."),
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
                        variant(bias_steps=(t + 1, t + 1))[0],
                        off_by_one + "you used beta**(step + 1); step is already the number "
                        "of this step (1 at the first).",
                    ),
                    (
                        variant(bias_steps=(t - 1, t - 1))[0],
                        off_by_one + "you used beta**(step - 1); step is already the number "
                        "of this step (1 at the first).",
                    ),
                    (
                        w64 * shrink - lr * m_hat / (ref_v.sqrt() + eps),
                        "only m was bias-corrected: v_hat = v / (1 - beta2**step) too.",
                    ),
                    (
                        w64 * shrink - lr * ref_m / (v_hat.sqrt() + eps),
                        "only v was bias-corrected: m_hat = m / (1 - beta1**step) too.",
                    ),
                    (
                        variant(no_sqrt=True)[0],
                        "the square root is missing: divide by sqrt(v_hat) + eps, not by "
                        "v_hat + eps.",
                    ),
                    (
                        variant(eps_inside=True)[0],
                        "eps belongs outside the square root, added to sqrt(v_hat).",
                    ),
                    (
                        w64 * shrink - lr * m_hat / v_hat.sqrt(),
                        "eps is missing from the denominator: sqrt(v_hat) + eps.",
                    ),
                    (
                        w64 * shrink - lr * m_hat,
                        "the step is lr * m_hat: it must be divided by sqrt(v_hat) + eps, "
                        "the adaptive scaling that makes it Adam.",
                    ),
                    (
                        w64 * shrink - step / lr,
                        "the Adam step is not multiplied by lr.",
                    ),
                    (
                        w64 * shrink + step,
                        "the step has the wrong sign: move against m_hat (minus lr * ...).",
                    ),
                    (variant(no_lr=True)[0], NO_LR_MESSAGE),
                    (
                        variant(after=True)[0],
                        "the weights were shrunk after the Adam step; shrink the old weights, "
                        "then take the step.",
                    ),
                    (
                        w64 * (1 + lr * wd) - step,
                        "the decay has the wrong sign: it must shrink w.",
                    ),
                ],
                where,
            )
            fail(f"{where}: the new weights are wrong (the moments are right).")
        _no_alias(
            raw,
            tuple(zip(("w", "grad", "m", "v"), given[:4], strict=False)),
            names,
            what,
        )
    passed("adamw_step", len(cases))
