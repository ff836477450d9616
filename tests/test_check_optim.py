"""The optimizer chapters' self-checks accept the solutions and name typical mistakes."""

from __future__ import annotations

import math
import re

import pytest
import torch

from weightreg import check
from weightreg.optim import adam_update_, sgd_update_

# ----------------------------------------------------------------------------- sgdw_step


def sgdw_solution(w, grad, buf, lr, momentum, weight_decay):
    buf = momentum * buf + grad
    return w * (1 - lr * weight_decay) - lr * buf, buf


def sgdw_numpy_round_trip(w, grad, buf, lr, momentum, weight_decay):
    """A correct answer through NumPy and back with torch.Tensor (which makes float32)."""
    new_buf = momentum * buf.numpy() + grad.numpy()
    new_w = w.numpy() * (1 - lr * weight_decay) - lr * new_buf
    return torch.Tensor(new_w), torch.Tensor(new_buf)


def sgdw_zeros_loop(w, grad, buf, lr, momentum, weight_decay):
    """A correct answer filling torch.zeros(w.shape) (float32) element by element."""
    new_w, new_buf = torch.zeros(w.shape), torch.zeros(w.shape)
    for i in range(w.numel()):
        new_buf.view(-1)[i] = momentum * buf.reshape(-1)[i] + grad.reshape(-1)[i]
        new_w.view(-1)[i] = w.reshape(-1)[i] * (1 - lr * weight_decay) - lr * new_buf.view(-1)[i]
    return new_w, new_buf


def sgdw_in_place_on_clones(w, grad, buf, lr, momentum, weight_decay):
    new_buf = buf.clone().mul_(momentum).add_(grad)
    return w.clone().mul_(1 - lr * weight_decay).add_(new_buf, alpha=-lr), new_buf


def sgdw_mixed_dtypes(w, grad, buf, lr, momentum, weight_decay):
    """float64 weights with a float32 buffer: agrees to float32 precision."""
    new_buf = torch.zeros(w.shape)
    new_buf.copy_(momentum * buf + grad)
    return w.double() * (1 - lr * weight_decay) - lr * new_buf, new_buf


def sgdw_in_float32(w, grad, buf, lr, momentum, weight_decay):
    """A correct answer computed (and returned) in float32, whatever the inputs' dtype."""
    return sgdw_solution(w.float(), grad.float(), buf.float(), lr, momentum, weight_decay)


SGDW_CORRECT = [
    sgdw_solution,
    sgdw_in_float32,
    sgdw_numpy_round_trip,
    sgdw_zeros_loop,
    sgdw_in_place_on_clones,
    sgdw_mixed_dtypes,
]


@pytest.mark.parametrize("solution", SGDW_CORRECT)
def test_sgdw_correct_answers_pass(solution, capsys):
    """Written differently from the reference: NumPy round trips and torch.zeros(w.shape)
    (float32) never crash the check (they used to end in a dtype RuntimeError or be refused)."""
    check.sgdw_step(solution)
    assert "sgdw_step passed all 6 checks" in capsys.readouterr().out
    assert check.sgdw_step(solution, quiet=True)


def test_sgdw_hands_float32_tensors_as_the_chapter_computes():
    seen = []

    def spy(w, grad, buf, lr, momentum, weight_decay):
        seen.append({w.dtype, grad.dtype, buf.dtype})
        return sgdw_solution(w, grad, buf, lr, momentum, weight_decay)

    check.sgdw_step(spy)
    assert seen and all(dtypes == {torch.float32} for dtypes in seen)


def test_sgdw_a_float64_answer_passes_with_a_note():
    def in_float64(w, grad, buf, lr, momentum, weight_decay):
        return sgdw_solution(w.double(), grad.double(), buf.double(), lr, momentum, weight_decay)

    verdict = check.sgdw_step(in_float64, quiet=True)
    assert verdict and "float64 while the inputs are float32" in verdict.notes[0]


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        ("_coupled", "the decay term went into the momentum buffer"),
        ("_no_lr", "lambda_LH, the decay per step"),
        ("_after", "shrunk after the gradient step"),
    ],
)
def test_sgdw_float32_mistakes_are_still_caught(wrong, message):
    """The float32 tolerance is far smaller than any diagnosed mistake."""
    fn = globals()[wrong]

    def in_float32(w, g, buf, lr, mu, wd):
        return fn(w.float(), g.float(), buf.float(), lr, mu, wd)

    with pytest.raises(check.CheckFailed, match=re.escape(message)):
        check.sgdw_step(in_float32)


def test_sgdw_float32_rounding_size_error_is_accepted_but_larger_is_not(capsys):
    """A float32 answer off by a relative 1e-6 (float32 rounding) passes; 1e-3 does not."""

    def off_by(rel):
        def fn(w, g, buf, lr, mu, wd):
            new_w, new_buf = sgdw_in_float32(w, g, buf, lr, mu, wd)
            return new_w * (1 + rel), new_buf

        return fn

    check.sgdw_step(off_by(1e-6))
    with pytest.raises(check.CheckFailed, match="the new weights are wrong"):
        check.sgdw_step(off_by(1e-3))


def _coupled(w, g, buf, lr, mu, wd):
    buf = mu * buf + g + wd * w
    return w - lr * buf, buf


def _coupled_buffer_only(w, g, buf, lr, mu, wd):
    buf2 = mu * buf + g + wd * w
    return w * (1 - lr * wd) - lr * buf2, buf2


def _no_lr(w, g, buf, lr, mu, wd):
    buf = mu * buf + g
    return w * (1 - wd) - lr * buf, buf


def _after(w, g, buf, lr, mu, wd):
    buf = mu * buf + g
    return (w - lr * buf) * (1 - lr * wd), buf


def _damped(w, g, buf, lr, mu, wd):
    buf = mu * buf + (1 - mu) * g
    return w * (1 - lr * wd) - lr * buf, buf


def _raw_gradient(w, g, buf, lr, mu, wd):
    return w * (1 - lr * wd) - lr * g, mu * buf + g


def _in_place(w, g, buf, lr, mu, wd):
    buf.mul_(mu).add_(g)
    w.mul_(1 - lr * wd).sub_(lr * buf)
    return w, buf


def _lr_in_buffer(w, g, buf, lr, mu, wd):
    buf = mu * buf + lr * g
    return w * (1 - lr * wd) - buf, buf


def _velocity(w, g, buf, lr, mu, wd):
    buf = mu * buf - lr * g
    return w * (1 - lr * wd) + buf, buf


def _grad_is_the_buffer_at_zero_momentum(w, g, buf, lr, mu, wd):
    new_buf = g if mu == 0 else mu * buf + g
    return w * (1 - lr * wd) - lr * new_buf, new_buf


def _old_buffer_in_step(w, g, buf, lr, mu, wd):
    return w * (1 - lr * wd) - lr * buf, mu * buf + g


def _returns_old_buffer_tensor(w, g, buf, lr, mu, wd):
    return w * (1 - lr * wd) - lr * (mu * buf + g), buf


def _nesterov(w, g, buf, lr, mu, wd):
    buf = mu * buf + g
    return w * (1 - lr * wd) - lr * (g + mu * buf), buf


def _library(w, g, buf, lr, mu, wd):
    w, buf = w.clone(), buf.clone()
    sgd_update_(w, g, buf, lr=lr, momentum=mu, weight_decay=wd, decoupled=True)
    return w, buf


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (_coupled, "the decay term went into the momentum buffer"),
        (_coupled_buffer_only, "the decay term went into the momentum buffer"),
        (_no_lr, "the shrink factor ignores the learning rate"),
        (_no_lr, "Loshchilov and Hutter's lambda_LH"),
        (_after, "shrunk after the gradient step"),
        (_damped, "damped by (1 - momentum)"),
        (_raw_gradient, "the step uses the raw gradient"),
        (lambda w, g, b, lr, mu, wd: (w - lr * (mu * b + g), mu * b + g), "not decayed at all"),
        (lambda w, g, b, lr, mu, wd: (w * (1 - lr * wd) - lr * b, b), "the old one"),
        (
            lambda w, g, b, lr, mu, wd: sgdw_solution(w, g, b, lr, mu, wd)[0],
            "return the tuple (new_w, new_buf)",
        ),
        (_in_place, "changed its input w in place"),
        # the first case used to have lr = 1 - momentum, where this read as a damped buffer
        (_lr_in_buffer, "the buffer took lr * grad"),
        (_velocity, "the 'velocity' form"),
        (lambda w, g, b, lr, mu, wd: (w * (1 - lr * wd) - lr * (b + g), b + g), "not multiplied"),
        (_grad_is_the_buffer_at_zero_momentum, "your new_buf is the tensor grad itself"),
        (_returns_old_buffer_tensor, "the returned buffer is the old one"),
        (_old_buffer_in_step, "the step uses the old buffer"),
        (_library, "calls weightreg's sgd_update_, which is the answer"),
        (_nesterov, "Nesterov's step"),
        (lambda w, g, b, lr, mu, wd: sgdw_solution(w, g, b, lr, mu, wd)[::-1], "(new_w, new_buf)"),
    ],
)
def test_sgdw_typical_mistakes_get_specific_messages(wrong, message):
    with pytest.raises(check.CheckFailed, match=re.escape(message)):
        check.sgdw_step(wrong)
    verdict = check.sgdw_step(wrong, quiet=True)
    assert not verdict and message in verdict.message


def test_sgdw_damped_and_lr_scaled_buffers_are_told_apart():
    """Both at once, then each alone: the message names the mistake actually made."""
    with pytest.raises(check.CheckFailed, match=re.escape("damped by (1 - momentum)")):
        check.sgdw_step(_damped)
    with pytest.raises(check.CheckFailed, match=re.escape("took lr * grad")):
        check.sgdw_step(_lr_in_buffer)


# ----------------------------------------------------------------------------- adamw_step


def adamw_solution(w, grad, m, v, step, lr, betas, eps, weight_decay):
    beta1, beta2 = betas
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad**2
    m_hat, v_hat = m / (1 - beta1**step), v / (1 - beta2**step)
    return w * (1 - lr * weight_decay) - lr * m_hat / (v_hat.sqrt() + eps), m, v


def adamw_library(w, grad, m, v, step, lr, betas, eps, weight_decay):
    w, m, v = w.clone(), m.clone(), v.clone()
    adam_update_(
        w, grad, m, v, step, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, decoupled=True
    )
    return w, m, v


def adamw_torch_form(w, grad, m, v, step, lr, betas, eps, weight_decay):
    """torch.optim.AdamW's arrangement: lr / bias_correction1, sqrt(v) / sqrt(bc2)."""
    b1, b2 = betas
    m, v = m * b1 + grad * (1 - b1), v * b2 + grad * grad * (1 - b2)
    denom = v.sqrt() / math.sqrt(1 - b2**step) + eps
    return w * (1 - lr * weight_decay) - (lr / (1 - b1**step)) * m / denom, m, v


def adamw_numpy_round_trip(w, grad, m, v, step, lr, betas, eps, weight_decay):
    """Moments through NumPy and back with torch.Tensor: float32 moments, float64 step."""
    b1, b2 = betas
    new_m = torch.Tensor(b1 * m.numpy() + (1 - b1) * grad.numpy())
    new_v = torch.Tensor(b2 * v.numpy() + (1 - b2) * grad.numpy() ** 2)
    m_hat, v_hat = new_m / (1 - b1**step), new_v / (1 - b2**step)
    return w * (1 - lr * weight_decay) - lr * m_hat / (v_hat.sqrt() + eps), new_m, new_v


def adamw_zeros_loop(w, grad, m, v, step, lr, betas, eps, weight_decay):
    b1, b2 = betas
    new_w, new_m, new_v = torch.zeros(w.shape), torch.zeros(w.shape), torch.zeros(w.shape)
    for i in range(w.numel()):
        g = grad.reshape(-1)[i]
        new_m.view(-1)[i] = b1 * m.reshape(-1)[i] + (1 - b1) * g
        new_v.view(-1)[i] = b2 * v.reshape(-1)[i] + (1 - b2) * g * g
        m_hat = new_m.view(-1)[i] / (1 - b1**step)
        v_hat = new_v.view(-1)[i] / (1 - b2**step)
        new_w.view(-1)[i] = w.reshape(-1)[i] * (1 - lr * weight_decay) - lr * m_hat / (
            v_hat.sqrt() + eps
        )
    return new_w, new_m, new_v


def adamw_via_torch(w, grad, m, v, step, lr, betas, eps, weight_decay):
    """torch.optim.AdamW with its state set to (m, v, step - 1)."""
    p = w.clone().requires_grad_(True)
    opt = torch.optim.AdamW([p], lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)
    p.grad = grad.clone()
    opt.state[p] = {
        "step": torch.tensor(float(step - 1)),
        "exp_avg": m.clone(),
        "exp_avg_sq": v.clone(),
    }
    opt.step()
    state = opt.state[p]
    return p.detach(), state["exp_avg"], state["exp_avg_sq"]


def adamw_in_float32(w, grad, m, v, step, lr, betas, eps, weight_decay):
    """A correct answer computed (and returned) in float32."""
    return adamw_solution(
        w.float(), grad.float(), m.float(), v.float(), step, lr, betas, eps, weight_decay
    )


@pytest.mark.parametrize(
    "solution",
    [
        adamw_solution,
        adamw_via_torch,
        adamw_in_float32,
        adamw_torch_form,
        adamw_numpy_round_trip,
        adamw_zeros_loop,
    ],
)
def test_adamw_correct_answers_pass(solution, capsys):
    check.adamw_step(solution)
    assert "adamw_step passed all 5 checks" in capsys.readouterr().out
    assert check.adamw_step(solution, quiet=True)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"coupled": True}, "the decay term went into the moments"),
        ({"no_lr": True}, "the shrink factor ignores the learning rate"),
        ({"no_bias": True}, "without bias correction"),
    ],
)
def test_adamw_float32_mistakes_are_still_caught(changes, message):
    wrong = _variant(**changes)

    def in_float32(w, g, m, v, *rest):
        return wrong(w.float(), g.float(), m.float(), v.float(), *rest)

    with pytest.raises(check.CheckFailed, match=re.escape(message)):
        check.adamw_step(in_float32)


def _variant(**changes):
    """The solution with one mistake."""

    def fn(w, grad, m, v, step, lr, betas, eps, wd):
        b1, b2 = betas
        g = grad + wd * w if changes.get("coupled") else grad
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * (g if changes.get("v_not_squared") else g**2)
        t = step + changes.get("bias_shift", 0)
        if changes.get("no_bias"):
            m_hat, v_hat = m, v
        else:
            m_hat, v_hat = m / (1 - b1**t), v / (1 - b2**t)
        denom = (v_hat + eps).sqrt() if changes.get("eps_inside") else v_hat.sqrt() + eps
        if changes.get("no_sqrt"):
            denom = v_hat + eps
        if changes.get("return_hats"):
            m, v = m_hat, v_hat
        shrink = 1 - (wd if changes.get("no_lr") else lr * wd)
        if changes.get("coupled") or changes.get("no_decay"):
            shrink = 1.0
        if changes.get("after"):
            return (w - lr * m_hat / denom) * shrink, m, v
        return w * shrink - lr * m_hat / denom, m, v

    return fn


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (_variant(coupled=True), "the decay term went into the moments"),
        (_variant(no_bias=True), "without bias correction"),
        (_variant(eps_inside=True), "eps belongs outside the square root"),
        (_variant(no_lr=True), "the shrink factor ignores the learning rate"),
        (_variant(after=True), "shrunk after the Adam step"),
        (_variant(no_decay=True), "not decayed at all"),
        (_variant(v_not_squared=True), "yours is not squared"),
        (_variant(bias_shift=-1), "off by one step: you used beta**(step - 1)"),
        (_variant(bias_shift=1), "off by one step: you used beta**(step + 1)"),
        (_variant(no_sqrt=True), "the square root is missing"),
        (_variant(return_hats=True), "you returned the bias-corrected moments m_hat and v_hat"),
        (adamw_library, "calls weightreg's adam_update_, which is the answer"),
        (lambda *a: (lambda w, m, v: (w, v, m))(*adamw_solution(*a)), "in the order (new_w, new_m"),
        (lambda w, g, m, v, *a: (w.clone(), m + 0, v + 0), "return the updated moments"),
        (lambda *a: (a[0],) + adamw_solution(*a)[1:], "new_w equals w"),
        (lambda *a: adamw_solution(*a)[:2], "return the tuple (new_w, new_m, new_v)"),
        (lambda *a: tuple(x.numpy() for x in adamw_solution(*a)), "a NumPy array"),
        (lambda *a: tuple(x.long() for x in adamw_solution(*a)), "has dtype torch.int64"),
    ],
)
def test_adamw_typical_mistakes_get_specific_messages(wrong, message):
    with pytest.raises(check.CheckFailed, match=re.escape(message)):
        check.adamw_step(wrong)
    verdict = check.adamw_step(wrong, quiet=True)
    assert not verdict and message in verdict.message


def _inf_at_step_one(w, grad, m, v, step, lr, betas, eps, weight_decay):
    """A bias correction that divides by zero at step 1 only (a zero-based count there)."""
    b1, b2 = betas
    t = step - 1 if step == 1 else step
    m, v = b1 * m + (1 - b1) * grad, b2 * v + (1 - b2) * grad**2
    m_hat, v_hat = m / (1 - b1**t), v / (1 - b2**t)
    return w * (1 - lr * weight_decay) - lr * m_hat / (v_hat.sqrt() + eps), m, v


def test_adamw_inf_or_nan_at_step_one_points_at_the_bias_correction():
    with pytest.raises(check.CheckFailed, match=re.escape("At step 1, a bias correction")):
        check.adamw_step(_inf_at_step_one)


def test_adamw_mistakes_of_the_moments_are_named():
    def no_weight_on_grad(w, grad, m, v, step, lr, betas, eps, wd):
        new_w, _, new_v = adamw_solution(w, grad, m, v, step, lr, betas, eps, wd)
        return new_w, betas[0] * m + grad, new_v

    def beta2_for_m(w, grad, m, v, step, lr, betas, eps, wd):
        b1, b2 = betas
        new_w, _, new_v = adamw_solution(w, grad, m, v, step, lr, betas, eps, wd)
        return new_w, b2 * m + (1 - b2) * grad, new_v

    with pytest.raises(check.CheckFailed, match="without its weight 1 - beta1"):
        check.adamw_step(no_weight_on_grad)
    with pytest.raises(check.CheckFailed, match="beta1 belongs to m, beta2 to v"):
        check.adamw_step(beta2_for_m)


def _adam_step(w, grad, m, v, step, lr, betas, eps, weight_decay, *, step_of):
    b1, b2 = betas
    m, v = b1 * m + (1 - b1) * grad, b2 * v + (1 - b2) * grad**2
    new_w = w * (1 - lr * weight_decay) - step_of(m / (1 - b1**step), v / (1 - b2**step), lr, eps)
    return new_w, m, v


@pytest.mark.parametrize(
    ("step_of", "message"),
    [
        (lambda mh, vh, lr, eps: lr * mh, "the step is lr * m_hat"),
        (lambda mh, vh, lr, eps: mh / (vh.sqrt() + eps), "not multiplied by lr"),
        (lambda mh, vh, lr, eps: -lr * mh / (vh.sqrt() + eps), "the step has the wrong sign"),
        (lambda mh, vh, lr, eps: lr * mh / vh.sqrt(), "eps is missing"),
    ],
)
def test_adamw_mistakes_in_the_step_are_named(step_of, message):
    def wrong(*args):
        return _adam_step(*args, step_of=step_of)

    with pytest.raises(check.CheckFailed, match=re.escape(message)):
        check.adamw_step(wrong)


def test_unfinished_stubs_read_as_unfinished():
    def stub(*args):
        raise NotImplementedError("Complete my_step")

    for check_fn in (check.sgdw_step, check.adamw_step):
        with pytest.raises(NotImplementedError):
            check_fn(stub)


def test_crash_is_reported_kindly():
    with pytest.raises(check.CheckFailed, match="raised ZeroDivisionError"):
        check.adamw_step(lambda *a: 1 / 0)


@pytest.mark.parametrize("check_fn", [check.sgdw_step, check.adamw_step])
def test_no_error_of_the_check_reaches_the_student(check_fn):
    """Results of odd dtypes or shapes get a message, never a traceback of the reference."""
    for odd in (
        lambda w, *a: (w.long(),) * 3,
        lambda w, *a: (w[None],) * 3,
        lambda w, *a: (w.half(),) * 3,
        lambda w, *a: (w.numpy(),) * 3,
    ):
        verdict = check_fn(
            lambda *a, odd=odd: odd(*a)[: 2 if check_fn is check.sgdw_step else 3], quiet=True
        )
        assert not verdict and "Traceback" not in verdict.message
