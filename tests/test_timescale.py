"""weightreg.timescale: AdamW's weights rebuilt from its updates, and its timescale."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from weightreg.data import digits_split
from weightreg.timescale import ema_weights, timescale_epochs, timescale_iters

f64 = torch.float64


def loop_weights(w0, updates, rates, weight_decay):
    """The recursion itself, one step at a time (the independent reference)."""
    out = [w0.to(f64)]
    for u, lr in zip(updates.to(f64), rates, strict=True):
        out.append((1 - lr * weight_decay) * out[-1] - lr * u)
    return torch.stack(out)


def closed_form_last(w0, updates, rates, weight_decay):
    """The unrolled sum for w_T, with the products written out (small T only)."""
    T = len(rates)
    factor = lambda a, b: math.prod(1 - float(rates[s]) * weight_decay for s in range(a, b))  # noqa: E731
    w = factor(0, T) * w0.to(f64)
    for t in range(T):
        w = w - float(rates[t]) * factor(t + 1, T) * updates[t].to(f64)
    return w


def adamw_log(steps=60, lr=0.01, weight_decay=0.5, schedule=False, seed=0):
    """Train a small float64 MLP on digits with torch.optim.AdamW and log, per step, the rate
    and every parameter's Adam direction u_t read from the optimizer's state."""
    torch.manual_seed(seed)
    split = digits_split(200, seed=seed, dtype=f64)
    model = torch.nn.Sequential(torch.nn.Linear(64, 16), torch.nn.ReLU(), torch.nn.Linear(16, 10))
    model = model.to(f64)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    sched = None
    if schedule:
        sched = torch.optim.lr_scheduler.LambdaLR(
            opt, lambda t: 0.5 * (1 + math.cos(math.pi * t / steps))
        )
    params = list(model.parameters())
    w0 = [p.detach().clone() for p in params]
    logged = [[] for _ in params]
    rates = []
    gen = torch.Generator().manual_seed(seed)
    beta1, beta2 = opt.defaults["betas"]
    eps = opt.defaults["eps"]
    for _ in range(steps):
        idx = torch.randperm(200, generator=gen)[:20]
        loss = torch.nn.functional.cross_entropy(model(split.X_train[idx]), split.y_train[idx])
        opt.zero_grad()
        loss.backward()
        rates.append(opt.param_groups[0]["lr"])
        opt.step()
        for i, p in enumerate(params):
            st_ = opt.state[p]
            t = float(st_["step"])
            m_hat = st_["exp_avg"] / (1 - beta1**t)
            v_hat = st_["exp_avg_sq"] / (1 - beta2**t)
            logged[i].append(m_hat / (v_hat.sqrt() + eps))
        if sched is not None:
            sched.step()
    return w0, [torch.stack(u) for u in logged], torch.tensor(rates, dtype=f64), params


@pytest.mark.parametrize("schedule", [False, True])
def test_rebuilds_torch_adamw_to_float64_precision(schedule):
    w0, updates, rates, params = adamw_log(schedule=schedule)
    for start, u, p in zip(w0, updates, params, strict=True):
        lr = rates if schedule else float(rates[0])
        rebuilt = ema_weights(start, u, lr, 0.5)
        scale = float(p.detach().abs().max())
        assert float((rebuilt[-1] - p.detach()).abs().max()) < 1e-13 * max(1.0, scale)
    if schedule:
        assert float(rates[-1]) < 0.01 * float(rates[0])


def test_wrong_orders_do_not_rebuild_torch_adamw():
    """Decay after the step, or the factor 1 - lambda, would be far off: the test can fail."""
    w0, updates, rates, params = adamw_log()
    start, u, p = w0[0], updates[0], params[0].detach()
    after = start.clone()
    for ut in u:
        after = (1 - 0.01 * 0.5) * (after - 0.01 * ut)
    assert float((after - p).abs().max()) > 1e-6
    no_lr = ema_weights(start, u, 0.01, 0.5 / 0.01)  # shrink 1 - lambda per step
    assert float((no_lr[-1] - p).abs().max()) > 1e-3


@pytest.mark.parametrize("T", [1, 2, 3, 7, 64, 100])
def test_matches_the_loop_and_the_closed_form(T):
    gen = torch.Generator().manual_seed(T)
    w0 = torch.randn(3, 4, generator=gen, dtype=f64)
    u = torch.randn(T, 3, 4, generator=gen, dtype=f64)
    rates = 0.05 * torch.rand(T, generator=gen, dtype=f64)
    got = ema_weights(w0, u, rates, 2.0)
    assert got.shape == (T + 1, 3, 4) and got.dtype == f64
    torch.testing.assert_close(got, loop_weights(w0, u, rates, 2.0), rtol=1e-13, atol=1e-13)
    torch.testing.assert_close(got[-1], closed_form_last(w0, u, rates, 2.0), rtol=1e-12, atol=1e-12)


def test_no_underflow_over_many_timescales():
    """prod(1 - eta lambda) = 0.5**4000 underflows; the scan never divides by it."""
    gen = torch.Generator().manual_seed(1)
    u = torch.randn(4000, 5, generator=gen, dtype=f64)
    w0 = torch.randn(5, generator=gen, dtype=f64)
    got = ema_weights(w0, u, 0.5, 1.0)
    ref = loop_weights(w0, u, torch.full((4000,), 0.5, dtype=f64), 1.0)
    assert torch.isfinite(got).all()
    torch.testing.assert_close(got, ref, rtol=1e-12, atol=1e-12)


def test_constant_update_converges_to_minus_u_over_lambda():
    """An EMA of a constant -u/lambda tends to it: w_T -> -u/lambda, error (1-eta lambda)^T."""
    u = torch.full((500, 2), 0.3, dtype=f64)
    got = ema_weights(torch.zeros(2, dtype=f64), u, 0.1, 0.2)
    expected = -0.3 / 0.2 * (1 - (1 - 0.02) ** 500)
    torch.testing.assert_close(got[-1], torch.full((2,), expected, dtype=f64))


def test_float32_inputs_give_float64_and_zero_decay_is_a_plain_sum():
    u = torch.ones(10, 3)
    got = ema_weights(torch.zeros(3), u, 0.1, 0.0)
    assert got.dtype == f64
    torch.testing.assert_close(got[-1], torch.full((3,), -1.0, dtype=f64))


@settings(max_examples=40, deadline=None)
@given(
    T=st.integers(1, 40),
    shape=st.lists(st.integers(1, 3), max_size=2),
    lr=st.floats(1e-4, 0.5),
    wd=st.floats(0.0, 3.0),
    seed=st.integers(0, 10_000),
)
def test_property_scan_equals_loop(T, shape, lr, wd, seed):
    gen = torch.Generator().manual_seed(seed)
    w0 = torch.randn(tuple(shape), generator=gen, dtype=f64)
    u = torch.randn((T, *shape), generator=gen, dtype=f64)
    got = ema_weights(w0, u, lr, wd)
    ref = loop_weights(w0, u, torch.full((T,), lr, dtype=f64), wd)
    torch.testing.assert_close(got, ref, rtol=1e-12, atol=1e-12)


def test_timescales():
    assert timescale_iters(0.01, 0.5) == pytest.approx(200.0)
    assert timescale_epochs(0.01, 0.5, 600, 25) == pytest.approx(200.0 * 25 / 600)
    # the e-folding time of the factor is tau_iter - 1/2 to first order
    tau = timescale_iters(1e-3, 0.1)
    assert -1 / math.log(1 - 1e-4) == pytest.approx(tau - 0.5, abs=1e-3)
    # the scaling rule: lambda proportional to 1/n keeps tau_epoch fixed
    assert timescale_epochs(0.01, 0.4, 300, 25) == pytest.approx(
        timescale_epochs(0.01, 0.1, 1200, 25)
    )


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: timescale_iters(0.0, 1.0), "lr"),
        (lambda: timescale_iters(0.1, 0.0), "weight_decay"),
        (lambda: timescale_iters(1e-200, 1e-200), r"lr \* weight_decay"),
        (lambda: timescale_epochs(0.1, 1.0, 10, 20), "batch_size"),
        (lambda: timescale_epochs(0.1, 1.0, 10.0, 2), "n"),
        (lambda: ema_weights(torch.zeros(3), torch.zeros(4, 2), 0.1, 0.1), "updates"),
        (lambda: ema_weights(torch.zeros(3), torch.zeros(4, 3), torch.ones(3), 0.1), "lr"),
        (lambda: ema_weights(torch.zeros(3), torch.zeros(2, 3), -torch.ones(2), 0.1), "lr"),
        (lambda: ema_weights(torch.zeros(3), torch.zeros(2, 3), torch.ones(2, 1), 0.1), "lr"),
        (lambda: ema_weights(torch.zeros(3), torch.zeros(2, 3), 0.1, -1.0), "weight_decay"),
        (lambda: ema_weights([0.0], torch.zeros(2, 1), 0.1, 0.1), "w0"),
    ],
)
def test_bad_input_is_refused_clearly(call, match):
    with pytest.raises((TypeError, ValueError), match=match):
        call()
