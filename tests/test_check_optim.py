"""The optimizer chapters' self-checks accept the solutions and name typical mistakes."""

from __future__ import annotations

import re

import pytest
import torch

from weightreg import check
from weightreg.optim import adam_update_, sgd_update_

# ----------------------------------------------------------------------------- sgdw_step


def sgdw_solution(w, grad, buf, lr, momentum, weight_decay):
    buf = momentum * buf + grad
    return w * (1 - lr * weight_decay) - lr * buf, buf


def sgdw_via_library(w, grad, buf, lr, momentum, weight_decay):
    """An independent correct answer: weightreg.optim's in-place update on copies."""
    w, buf = w.clone(), buf.clone()
    sgd_update_(w, grad, buf, lr=lr, momentum=momentum, weight_decay=weight_decay, decoupled=True)
    return w, buf


def sgdw_in_float32(w, grad, buf, lr, momentum, weight_decay):
    """A correct answer computed (and returned) in float32, whatever the inputs' dtype."""
    return sgdw_solution(w.float(), grad.float(), buf.float(), lr, momentum, weight_decay)


@pytest.mark.parametrize("solution", [sgdw_solution, sgdw_via_library, sgdw_in_float32])
def test_sgdw_reference_solutions_pass(solution, capsys):
    check.sgdw_step(solution)
    assert "sgdw_step passed all 6 checks" in capsys.readouterr().out


def test_sgdw_checks_a_float32_case(capsys):
    """One case hands float32 tensors to the student, and float32 results pass."""
    seen = []

    def spy(w, grad, buf, lr, momentum, weight_decay):
        seen.append(w.dtype)
        return sgdw_solution(w, grad, buf, lr, momentum, weight_decay)

    check.sgdw_step(spy)
    assert torch.float32 in seen and torch.float64 in seen


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


def test_sgdw_float64_answers_keep_the_strict_tolerance():
    def fn(w, g, buf, lr, mu, wd):
        new_w, new_buf = sgdw_solution(w, g, buf, lr, mu, wd)
        return new_w * (1 + 1e-6), new_buf

    with pytest.raises(check.CheckFailed, match="the new weights are wrong"):
        check.sgdw_step(fn)


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
        (lambda w, g, b, lr, mu, wd: sgdw_solution(w, g, b, lr, mu, wd)[0], "return a tuple"),
        (_in_place, "changed its inputs in place"),
    ],
)
def test_sgdw_typical_mistakes_get_specific_messages(wrong, message):
    with pytest.raises(check.CheckFailed, match=re.escape(message)):
        check.sgdw_step(wrong)


# ----------------------------------------------------------------------------- adamw_step


def adamw_solution(w, grad, m, v, step, lr, betas, eps, weight_decay):
    beta1, beta2 = betas
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad**2
    m_hat, v_hat = m / (1 - beta1**step), v / (1 - beta2**step)
    return w * (1 - lr * weight_decay) - lr * m_hat / (v_hat.sqrt() + eps), m, v


def adamw_via_library(w, grad, m, v, step, lr, betas, eps, weight_decay):
    w, m, v = w.clone(), m.clone(), v.clone()
    adam_update_(
        w, grad, m, v, step, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, decoupled=True
    )
    return w, m, v


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
    "solution", [adamw_solution, adamw_via_library, adamw_via_torch, adamw_in_float32]
)
def test_adamw_reference_solutions_pass(solution, capsys):
    check.adamw_step(solution)
    assert "adamw_step passed all 5 checks" in capsys.readouterr().out


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
        if changes.get("no_bias"):
            m_hat, v_hat = m, v
        else:
            m_hat, v_hat = m / (1 - b1**step), v / (1 - b2**step)
        denom = (v_hat + eps).sqrt() if changes.get("eps_inside") else v_hat.sqrt() + eps
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
        (_variant(v_not_squared=True), "the second moment v is wrong"),
        (lambda w, g, m, v, *a: (w, m, v), "return the updated moments"),
        (lambda *a: adamw_solution(*a)[:2], "return a tuple (new_w, new_m, new_v)"),
        (lambda *a: tuple(x.numpy() for x in adamw_solution(*a)), "must be a torch tensor"),
        (lambda *a: tuple(x.long() for x in adamw_solution(*a)), "floating-point numbers"),
    ],
)
def test_adamw_typical_mistakes_get_specific_messages(wrong, message):
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
