"""Self-checks of the L0.5, L3/L10 and Lk-family exercises: right answers pass, typical
mistakes fail with the intended message, unfinished stubs read as unfinished."""

from __future__ import annotations

import math

import pytest
import torch

from weightreg import check
from weightreg.check import CheckFailed
from weightreg.dynamics import flow_solution
from weightreg.penalties import lk_grad, prox_l1, prox_lhalf

# ---------------------------------------------------------------- lhalf_prox_step


def good_step(w, grad, lr, alpha):
    return prox_lhalf(w - lr * grad, lr * alpha / w.numel())


def test_lhalf_prox_step_accepts_the_solution(capsys):
    check.lhalf_prox_step(good_step)
    assert "Well done: lhalf_prox_step passed all 4 checks." in capsys.readouterr().out


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (lambda w, g, lr, a: prox_lhalf(w - lr * g, lr * a), "d times too large"),
        (lambda w, g, lr, a: prox_lhalf(w - lr * g, a / w.numel()), "misses the learning rate"),
        (lambda w, g, lr, a: prox_lhalf(w, lr * a / w.numel()) - lr * g, "order is reversed"),
        (lambda w, g, lr, a: prox_l1(w - lr * g, lr * a / w.numel()), "soft thresholding"),
        (lambda w, g, lr, a: w - lr * g, "penalty is missing"),
        (lambda w, g, lr, a: w - lr * g - lr * lk_grad(w, 0.5, a), "(sub)gradient step"),
        (lambda w, g, lr, a: prox_lhalf(w - lr * g, lr * a / w.shape[0]), "ALL its entries"),
        (lambda w, g, lr, a: 0.5 * good_step(w, g, lr, a), "does not match"),
        (lambda w, g, lr, a: prox_lhalf(w + lr * g, lr * a / w.numel()), "climbs the loss"),
        (lambda w, g, lr, a: good_step(w, g.neg_(), lr, a), "changed its input grad in place"),
    ],
)
def test_lhalf_prox_step_names_the_mistake(wrong, message):
    with pytest.raises(CheckFailed, match=re_escape(message)):
        check.lhalf_prox_step(wrong)


def test_lhalf_prox_step_accepts_float32_answers(capsys):
    check.lhalf_prox_step(lambda w, g, lr, a: good_step(w, g, lr, a).float())
    out = capsys.readouterr().out
    assert "passed all 4 checks" in out and "Note: your result is float32" in out


def test_lhalf_prox_step_rejects_in_place_updates():
    def in_place(w, grad, lr, alpha):
        w -= lr * grad
        return prox_lhalf(w, lr * alpha / w.numel())

    with pytest.raises(CheckFailed, match="in place"):
        check.lhalf_prox_step(in_place)


def test_lhalf_prox_step_rejects_non_tensors_and_shapes():
    with pytest.raises(CheckFailed, match="torch tensor"):
        check.lhalf_prox_step(lambda w, g, lr, a: good_step(w, g, lr, a).tolist())
    with pytest.raises(CheckFailed, match="the shape of w"):
        check.lhalf_prox_step(lambda w, g, lr, a: good_step(w, g, lr, a).flatten()[:3])


# ---------------------------------------------------------------- flow_decay


def good_flow(w0, k, alpha, t):
    if w0 == 0:
        return 0.0
    m = k - 2
    return math.copysign((abs(w0) ** -m + m * k * alpha * t) ** (-1 / m), w0)


def test_flow_decay_accepts_the_solution(capsys):
    check.flow_decay(good_flow)
    assert "passed all 6 checks" in capsys.readouterr().out


def test_flow_decay_accepts_float32_answers(capsys):
    def in_float32(w0, k, alpha, t):
        return torch.tensor(good_flow(w0, k, alpha, t), dtype=torch.float32)

    check.flow_decay(in_float32)
    assert "passed all 6 checks" in capsys.readouterr().out


def _flow_without_sign(w0, k, alpha, t):
    return abs(good_flow(w0, k, alpha, t))


def _flow_wrong_exponent(w0, k, alpha, t):
    m = k - 2
    return math.copysign((abs(w0) ** -m + m * k * alpha * t) ** (-1 / k), w0) if w0 else 0.0


def _flow_missing_k(w0, k, alpha, t):
    m = k - 2
    return math.copysign((abs(w0) ** -m + m * alpha * t) ** (-1 / m), w0) if w0 else 0.0


def _flow_geometric(w0, k, alpha, t):
    return w0 * math.exp(-k * alpha * t)


def _flow_exp_l2(w0, k, alpha, t):
    return w0 * math.exp(-2 * alpha * t)


def _flow_start_power(w0, k, alpha, t):
    m = k - 2
    return math.copysign((abs(w0) ** m + m * k * alpha * t) ** (-1 / m), w0) if w0 else 0.0


def _flow_library(w0, k, alpha, t):
    return float(flow_solution(torch.tensor([w0]), k, alpha, t)[0])


def test_flow_decay_notices_the_library_answer():
    with pytest.raises(CheckFailed, match="calls weightreg's flow_solution, which is the answer"):
        check.flow_decay(_flow_library)


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (_flow_without_sign, "wrong sign"),
        (_flow_wrong_exponent, "check the exponent"),
        (_flow_missing_k, "check the factor k"),
        (_flow_geometric, "exponential decay, the law of k = 2"),
        (_flow_start_power, "check the start term"),
        (_flow_exp_l2, "exponential decay"),
    ],
)
def test_flow_decay_names_the_mistake(wrong, message):
    with pytest.raises(CheckFailed, match=re_escape(message)):
        check.flow_decay(wrong)


def test_flow_decay_reports_a_crash_at_zero():
    def crashes(w0, k, alpha, t):
        m = k - 2
        return math.copysign((abs(w0) ** -m + m * k * alpha * t) ** (-1 / m), w0)

    with pytest.raises(CheckFailed, match="ZeroDivisionError.*handle the start w0 = 0"):
        check.flow_decay(crashes)


def test_unfinished_stub_reads_as_unfinished():
    def stub(*args):
        raise NotImplementedError("Complete my_flow_decay")

    with pytest.raises(NotImplementedError, match="Complete"):
        check.flow_decay(stub)


# ---------------------------------------------------------------- lk_norm


def good_norm(w, k):
    a = w.abs().flatten()
    return a.max() if k == math.inf else (a**k).sum() ** (1 / k)


def test_lk_norm_accepts_the_solution_and_torch(capsys):
    check.lk_norm(good_norm)
    check.lk_norm(lambda w, k: torch.linalg.vector_norm(w.flatten(), ord=k))
    assert capsys.readouterr().out.count("Well done: lk_norm passed all 13 checks.\n") == 2


def test_lk_norm_accepts_float32_answers(capsys):
    check.lk_norm(lambda w, k: good_norm(w.float(), k))
    out = capsys.readouterr().out
    assert "passed all 13 checks" in out and "Note: your result is float32" in out


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (lambda w, k: (w.abs() ** k).sum(), "k-th power of the norm"),
        (
            lambda w, k: (w.abs() ** k).mean() ** (1 / k) if k != math.inf else w.abs().max(),
            "not a mean",
        ),
        (lambda w, k: (w.abs() ** k).sum() ** 0.5 if k != math.inf else w.abs().max(), "not 1/2"),
        (lambda w, k: w.max() if k == math.inf else good_norm(w, k), "ABSOLUTE"),
        (lambda w, k: (w.abs() ** 1e9).sum() if k == math.inf else good_norm(w, k), "k = inf"),
        (
            lambda w, k: (w**k).sum() ** (1 / k) if k != math.inf else w.abs().max(),
            "absolute value",
        ),
    ],
)
def test_lk_norm_names_the_mistake(wrong, message):
    with pytest.raises(CheckFailed, match=re_escape(message)):
        check.lk_norm(wrong)


def _abs_in_place(w, k):
    a = w.abs_().flatten()
    return a.max() if k == math.inf else (a**k).sum() ** (1 / k)


def _scaled(w, k):
    a = w.abs().flatten()
    m = a.max()
    return m if k == math.inf else m * ((a / m) ** k).sum() ** (1 / k)


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        # handed a clone, the check missed the caller's tensor being overwritten
        (_abs_in_place, "changed its input w in place"),
        # no all-zero case: 0/0 went unnoticed
        (_scaled, "the norm of the zero tensor is 0"),
        (lambda w, k: torch.linalg.norm(w, ord=k), "matrix norm"),
        (lambda w, k: w.abs().max(dim=0).values if k == math.inf else good_norm(w, k), "shape"),
    ],
)
def test_lk_norm_names_the_new_mistakes(wrong, message):
    with pytest.raises(CheckFailed, match=message):
        check.lk_norm(wrong)


def test_lk_norm_matrix_hint():
    def rows_only(w, k):
        return good_norm(w[0] if w.dim() > 1 else w, k)

    with pytest.raises(CheckFailed, match="all 9 entries together"):
        check.lk_norm(rows_only)


def re_escape(text: str) -> str:
    import re

    return re.escape(text)
