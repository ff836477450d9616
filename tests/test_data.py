"""weightreg.data against d2l's own functions, and its argument checks."""

from __future__ import annotations

import inspect

import pytest
import torch
from d2l import torch as d2l

from weightreg import data


def test_synthetic_data_matches_d2l_draw_for_draw():
    torch.set_default_dtype(torch.float32)  # d2l draws in the default dtype
    w = torch.full((30,), 0.01, dtype=torch.float32)
    torch.manual_seed(7)
    X_ref, y_ref = d2l.synthetic_data(w, 0.05, 12)
    torch.manual_seed(7)
    X, y = data.synthetic_data(w, 0.05, 12)
    assert torch.equal(X, X_ref) and torch.equal(y, y_ref)
    gen = torch.Generator().manual_seed(7)
    X_gen, y_gen = data.synthetic_data(w, 0.05, 12, generator=gen)
    assert torch.equal(X_gen, X_ref) and torch.equal(y_gen, y_ref)


def test_synthetic_data_follows_the_linear_model():
    w = torch.tensor([2.0, -3.4], dtype=torch.float64)
    X, y = data.synthetic_data(w, 4.2, 5000, noise=0.0, generator=torch.Generator().manual_seed(0))
    assert torch.allclose(y, (X @ w + 4.2).reshape(-1, 1))
    X, y = data.synthetic_data(w, 4.2, 20000, noise=0.5, generator=torch.Generator().manual_seed(0))
    resid = y.flatten() - (X @ w + 4.2)
    assert abs(float(resid.std()) - 0.5) < 0.02
    assert abs(float(X.mean())) < 0.02 and abs(float(X.std()) - 1) < 0.02


def test_high_dim_regression_is_d2l_setup_and_deterministic():
    torch.set_default_dtype(torch.float32)
    a, b = data.high_dim_regression(seed=3), data.high_dim_regression(seed=3)
    assert a.X_train.shape == (20, 200) and a.y_train.shape == (20, 1)
    assert a.X_test.shape == (100, 200) and a.y_test.shape == (100, 1)
    assert torch.equal(a.true_w, torch.full((200,), 0.01)) and a.true_b == 0.05
    assert torch.equal(a.X_train, b.X_train) and torch.equal(a.y_test, b.y_test)
    c = data.high_dim_regression(seed=4)
    assert not torch.equal(a.X_train, c.X_train)
    # the residual of the true model is the noise, of standard deviation 0.01
    resid = a.y_test.flatten() - (a.X_test @ a.true_w + a.true_b)
    assert 0.005 < float(resid.std()) < 0.02


def test_high_dim_regression_is_the_same_data_in_every_dtype():
    a = data.high_dim_regression(seed=2, dtype=torch.float32)
    b = data.high_dim_regression(seed=2, dtype=torch.float64)
    assert b.X_train.dtype == torch.float64 and b.true_w.dtype == torch.float64
    assert torch.equal(b.X_train, a.X_train.double()) and torch.equal(b.y_test, a.y_test.double())


def test_load_array_has_d2l_signature_and_batches():
    params = list(inspect.signature(data.load_array).parameters.values())
    d2l_params = list(inspect.signature(d2l.load_array).parameters.values())
    assert [(p.name, p.default) for p in params[:3]] == [(p.name, p.default) for p in d2l_params]
    assert params[3].name == "generator" and params[3].kind is inspect.Parameter.KEYWORD_ONLY


@pytest.mark.parametrize("is_train", [True, False])
def test_load_array_gives_d2ls_batches_under_the_same_seed(is_train):
    X = torch.arange(26.0).reshape(13, 2)
    y = torch.arange(13)
    torch.manual_seed(5)
    ref = [
        (bx.clone(), by.clone()) for _ in range(2) for bx, by in d2l.load_array((X, y), 4, is_train)
    ]
    torch.manual_seed(5)
    ours = [(bx, by) for _ in range(2) for bx, by in data.load_array((X, y), 4, is_train)]
    assert len(ours) == len(ref) == 8
    assert all(
        torch.equal(a, c) and torch.equal(b, d) for (a, b), (c, d) in zip(ours, ref, strict=True)
    )
    # with a generator: reproducible, and torch's global generator is left alone
    state = torch.get_rng_state()
    runs = [
        torch.cat([by for _, by in data.load_array((X, y), 4, is_train, generator=g)])
        for g in (torch.Generator().manual_seed(5), torch.Generator().manual_seed(5))
    ]
    assert torch.equal(runs[0], runs[1]) and torch.equal(torch.get_rng_state(), state)


def test_load_array_batches_and_shuffles_with_generator():
    X = torch.arange(10.0).reshape(10, 1)
    y = torch.arange(10.0)
    batches = list(data.load_array((X, y), 4, is_train=False))
    assert [len(bx) for bx, _ in batches] == [4, 4, 2]
    assert torch.equal(torch.cat([bx for bx, _ in batches]).flatten(), y)
    it1 = data.load_array((X, y), 3, generator=torch.Generator().manual_seed(0))
    it2 = data.load_array((X, y), 3, generator=torch.Generator().manual_seed(0))
    order1 = torch.cat([by for _, by in it1])
    assert torch.equal(order1, torch.cat([by for _, by in it2]))
    assert sorted(order1.tolist()) == y.tolist() and not torch.equal(order1, y)


def test_real_splits_are_standardized_and_deterministic():
    d = data.digits_split(300, seed=0)
    assert d.X_train.shape == (300, 64) and d.X_test.shape == (1797 - 300, 64)
    assert d.y_train.dtype == torch.long and set(d.y_train.tolist()) <= set(range(10))
    nonconst = d.X_train.std(dim=0) > 0
    assert torch.allclose(d.X_train.mean(dim=0), torch.zeros(64, dtype=d.X_train.dtype), atol=1e-5)
    assert torch.allclose(
        d.X_train.std(dim=0, unbiased=False)[nonconst],
        torch.ones(int(nonconst.sum()), dtype=d.X_train.dtype),
        atol=1e-4,
    )
    assert torch.equal(d.X_test, data.digits_split(300, seed=0).X_test)
    assert not torch.equal(d.X_test, data.digits_split(300, seed=1).X_test)
    r = data.diabetes_split(300, seed=0)
    assert r.X_train.shape == (300, 10) and r.y_test.shape == (142, 1)
    assert (
        abs(float(r.y_train.mean())) < 1e-10
        and abs(float(r.y_train.std(unbiased=False)) - 1) < 1e-10
    )


@pytest.mark.parametrize(
    ("call", "exc", "words"),
    [
        (lambda: data.synthetic_data([0.1], 0.0, 3), TypeError, "w must be a torch.Tensor"),
        (lambda: data.synthetic_data(torch.ones(2, 2), 0.0, 3), ValueError, "1-D"),
        (
            lambda: data.synthetic_data(torch.ones(2), 0.0, 0),
            ValueError,
            "num_examples must be >= 1",
        ),
        (
            lambda: data.synthetic_data(torch.ones(2), 0.0, 3, noise=-1.0),
            ValueError,
            "noise must be >= 0",
        ),
        (lambda: data.synthetic_data(torch.tensor([float("nan")]), 0.0, 3), ValueError, "finite"),
        (lambda: data.load_array((torch.ones(3), torch.ones(4)), 2), ValueError, "same length"),
        (lambda: data.load_array((torch.ones(3),), 0), ValueError, "batch_size must be >= 1"),
        (lambda: data.digits_split(5000), ValueError, "n_train must be <"),
        (lambda: data.high_dim_regression(n_train=0), ValueError, "n_train must be >= 1"),
        # issue 10: the public argument is named, never an internal one
        (lambda: data.high_dim_regression(w_value=float("nan")), ValueError, "w_value must be"),
        (lambda: data.high_dim_regression(w_value=1e300), ValueError, "w_value must fit"),
        (lambda: data.high_dim_regression(b=1e39), ValueError, "w_value, b and noise"),
        (lambda: data.high_dim_regression(dtype=torch.int64), TypeError, "dtype must be a real"),
        (lambda: data.high_dim_regression(seed=-1), ValueError, "seed must be >= 0"),
        (lambda: data.synthetic_data(torch.ones(2).float(), 1e300, 3), ValueError, "overflow"),
        (lambda: data.synthetic_data(torch.ones(2), 0.0, 3, generator=0), TypeError, "generator"),
        # the same seed policy everywhere: None and negative seeds are refused
        (lambda: data.digits_split(300, seed=None), TypeError, "seed must be an int >= 0"),
        (lambda: data.digits_split(300, seed=-1), ValueError, "seed must be >= 0"),
        (lambda: data.diabetes_split(300, seed=None), TypeError, "seed must be an int >= 0"),
        (lambda: data.diabetes_split(442), ValueError, "n_train must be < 442"),
        (lambda: data.diabetes_split(0), ValueError, "n_train must be >= 1"),
        (lambda: data.diabetes_split("300"), TypeError, "n_train must be an int"),
        (lambda: data.digits_split(300, dtype=torch.int64), TypeError, "dtype must be a real"),
        # 'False' is not False
        (lambda: data.load_array((torch.ones(3),), 2, "False"), TypeError, "is_train must be True"),
        (lambda: data.load_array(torch.ones(3, 2), 2), TypeError, "data_arrays must be a tuple"),
        (
            lambda: data.load_array((torch.tensor([1.0, float("nan")]),), 2),
            ValueError,
            r"data_arrays\[0\] must contain only finite",
        ),
        (lambda: data.load_array((), 2), ValueError, "at least one tensor"),
    ],
)
def test_bad_input_is_named(call, exc, words):
    with pytest.raises(exc, match=words):
        call()
