"""seed_everything makes runs repeatable; validation messages name the argument and range."""

from __future__ import annotations

import random
import subprocess
import sys

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from weightreg import validation as v
from weightreg.seeding import Streams, seed_everything, streams


def test_seed_everything_repeats_all_streams_and_matches_a_generator():
    gen = seed_everything(11)
    a = (random.random(), np.random.rand(), torch.randn(3))  # noqa: NPY002
    assert torch.equal(
        torch.randn(4, generator=gen), torch.randn(4, generator=torch.Generator().manual_seed(11))
    )
    seed_everything(11)
    b = (random.random(), np.random.rand(), torch.randn(3))  # noqa: NPY002
    assert a[0] == b[0] and a[1] == b[1] and torch.equal(a[2], b[2])
    assert torch.equal(
        torch.randn(5, generator=seed_everything(2)), (seed_everything(2), torch.randn(5))[1]
    )


@pytest.mark.parametrize("bad", [-1, 1.5, "3", True])
def test_seed_everything_rejects_bad_seeds(bad):
    with pytest.raises((TypeError, ValueError), match="seed"):
        seed_everything(bad)


@given(st.floats(min_value=1e-300, max_value=1e300))
def test_positive_accepts_positive_floats(x):
    assert v.check_positive("lr", x) == x


@pytest.mark.parametrize(
    ("fn", "value", "exc", "words"),
    [
        (v.check_positive, 0.0, ValueError, "lr must be > 0, got 0.0"),
        (v.check_positive, float("inf"), ValueError, "lr must be finite"),
        (v.check_nonnegative, -1e-9, ValueError, "lr must be >= 0"),
        (v.check_nonnegative, "1", TypeError, "lr must be a real number, got str"),
        (v.check_nonnegative, True, TypeError, "lr must be a real number, got bool"),
        (v.check_probability, 1.0, ValueError, r"lr must lie in \[0, 1\)"),
        (v.check_positive_int, 0, ValueError, "lr must be >= 1"),
    ],
)
def test_scalar_checks_name_argument_and_range(fn, value, exc, words):
    with pytest.raises(exc, match=words):
        fn("lr", value)


def test_tensor_checks():
    assert v.check_nonnegative("alpha", torch.tensor(2.0)) == 2.0
    with pytest.raises(TypeError, match="w must be a torch.Tensor, got list"):
        v.check_finite_tensor("w", [1.0])
    with pytest.raises(TypeError, match="floating dtype"):
        v.check_finite_tensor("w", torch.tensor([1, 2]))
    with pytest.raises(ValueError, match="w must not be empty"):
        v.check_finite_tensor("w", torch.ones(0))
    with pytest.raises(ValueError, match="w must contain only finite values"):
        v.check_finite_tensor("w", torch.tensor([1.0, float("nan")]))
    assert len(v.as_tensor_list("w", [torch.ones(2), torch.ones(3)])) == 2
    with pytest.raises(ValueError, match=r"w\[1\] must contain only finite"):
        v.as_tensor_list("w", [torch.ones(2), torch.tensor([float("inf")])])
    with pytest.raises(TypeError, match="non-empty list"):
        v.as_tensor_list("w", [])
    with pytest.raises(
        ValueError, match=r"a and b must have the same shape, got \(2,\) and \(3,\)"
    ):
        v.check_same_shape("a", torch.ones(2), "b", torch.ones(3))


@pytest.fixture
def _restore_determinism():
    old = (
        torch.are_deterministic_algorithms_enabled(),
        torch.is_deterministic_algorithms_warn_only_enabled(),
    )
    yield
    torch.use_deterministic_algorithms(old[0], warn_only=old[1])


@pytest.mark.usefixtures("_restore_determinism")
def test_seed_everything_documents_and_sets_deterministic_algorithms():
    doc = seed_everything.__doc__
    assert "use_deterministic_algorithms(True, warn_only=True)" in doc and "stay changed" in doc
    torch.use_deterministic_algorithms(False)
    seed_everything(0)
    assert torch.are_deterministic_algorithms_enabled()
    assert torch.is_deterministic_algorithms_warn_only_enabled()
    seed_everything(0, deterministic=False)
    assert not torch.are_deterministic_algorithms_enabled()


@pytest.mark.usefixtures("_restore_determinism")
@pytest.mark.parametrize(
    ("kwargs", "exc", "words"),
    [
        ({"deterministic": "False"}, TypeError, "deterministic must be True or False"),
        ({"threads": 0}, ValueError, "threads must be >= 1"),
        ({"threads": 1.0}, TypeError, "threads must be an int"),
        ({"seed": None}, TypeError, "seed must be an int >= 0"),
    ],
)
def test_seed_everything_refuses_bad_options(kwargs, exc, words):
    with pytest.raises(exc, match=words):
        seed_everything(**kwargs)


def test_streams_same_seed_same_streams_init_and_shuffle_differ():
    a, b, c = streams(7), streams(7), streams(8)
    draw = lambda g: torch.randn(6, generator=g)  # noqa: E731
    init_a, shuffle_a = draw(a.init), draw(a.shuffle)
    assert torch.equal(init_a, draw(b.init)) and torch.equal(shuffle_a, draw(b.shuffle))
    assert not torch.equal(init_a, shuffle_a)
    assert not torch.equal(init_a, draw(c.init)) and not torch.equal(shuffle_a, draw(c.shuffle))
    # neither stream is the plain generator seeded with the seed itself (issue 10, defect 4)
    plain = draw(torch.Generator().manual_seed(7))
    assert not torch.equal(init_a, plain) and not torch.equal(shuffle_a, plain)
    assert isinstance(a, Streams) and a._fields == ("init", "shuffle", "noise")


def test_the_noise_stream_is_new_and_leaves_the_first_two_unchanged():
    import numpy as np

    a = streams(7)
    draw = lambda g: torch.randn(6, generator=g)  # noqa: E731
    noise = draw(a.noise)
    assert not torch.equal(noise, draw(streams(7).init))
    assert not torch.equal(noise, draw(streams(7).shuffle))
    # the first two children of SeedSequence(7) are those of the two-stream version
    two = np.random.SeedSequence(7).spawn(2)
    init = int(two[0].generate_state(1, dtype=np.uint64)[0] % 2**63)
    assert torch.equal(draw(streams(7).init), draw(torch.Generator().manual_seed(init)))


@pytest.mark.parametrize("bad", [None, -1, 1.5, "0", True])
def test_streams_refuses_bad_seeds(bad):
    with pytest.raises((TypeError, ValueError), match="seed"):
        streams(bad)


@pytest.mark.parametrize("good", [True, False])
def test_check_bool_accepts_bools(good):
    assert v.check_bool("flag", good) is good


@pytest.mark.parametrize("bad", ["False", "True", 0, 1, None, 1.0, np.bool_(True)])
def test_check_bool_refuses_everything_else(bad):
    with pytest.raises(TypeError, match="flag must be True or False"):
        v.check_bool("flag", bad)


def test_check_int_and_check_seed():
    assert v.check_int("n", 3) == 3 and v.check_int("n", -3) == -3
    assert v.check_int("n", 0, minimum=0) == 0
    with pytest.raises(ValueError, match="n must be >= 1, got 0"):
        v.check_int("n", 0, minimum=1)
    for bad in (True, 2.0, "2", None, np.float64(2)):
        with pytest.raises(TypeError, match="n must be an int"):
            v.check_int("n", bad)
    with pytest.raises(TypeError, match="minimum must be None or an int"):
        v.check_int("n", 3, minimum=1.5)
    assert v.check_seed("seed", 0) == 0 and v.check_seed("seed", 2**40) == 2**40
    with pytest.raises(TypeError, match="seed must be an int >= 0, got None"):
        v.check_seed("seed", None)
    with pytest.raises(ValueError, match="seed must be >= 0, got -1"):
        v.check_seed("seed", -1)


def test_check_choice():
    assert v.check_choice("method", "prox", ("grad", "prox")) == "prox"
    assert v.check_choice("k", 1, [1, 2]) == 1
    with pytest.raises(ValueError, match=r"method must be one of \('grad', 'prox'\), got 'Grad'"):
        v.check_choice("method", "Grad", ("grad", "prox"))
    with pytest.raises(ValueError, match="k must be one of"):
        v.check_choice("k", True, (1, 2))  # True == 1, but a bool is not a choice
    with pytest.raises(TypeError, match="choices must be a non-empty tuple or list"):
        v.check_choice("method", "g", "grad")  # a str is not a list of choices


@given(st.floats(allow_nan=False, allow_infinity=False) | st.integers(-(2**60), 2**60))
def test_check_real_accepts_finite_reals(x):
    assert v.check_real("b", x) == float(x)


@pytest.mark.parametrize(
    ("value", "exc", "words"),
    [
        (float("nan"), ValueError, "b must be finite"),
        (float("-inf"), ValueError, "b must be finite"),
        (True, TypeError, "b must be a real number, got bool"),
        (1j, TypeError, "b must be a real number, got complex"),
        ("1", TypeError, "b must be a real number, got str"),
        (torch.ones(2), TypeError, "b must be a real number, got a tensor"),
    ],
)
def test_check_real_refuses(value, exc, words):
    with pytest.raises(exc, match=words):
        v.check_real("b", value)


@pytest.mark.parametrize("dtype", [torch.complex64, torch.complex128, torch.int64, torch.bool])
def test_check_finite_tensor_refuses_complex_integer_and_bool(dtype):
    with pytest.raises(TypeError, match="w must have a real floating dtype"):
        v.check_finite_tensor("w", torch.ones(2, dtype=dtype))


def test_check_float_dtype():
    assert v.check_float_dtype("dtype", torch.float64) is torch.float64
    with pytest.raises(TypeError, match="dtype must be a real floating dtype"):
        v.check_float_dtype("dtype", torch.int64)
    with pytest.raises(TypeError, match="dtype must be a torch.dtype"):
        v.check_float_dtype("dtype", "float32")


@pytest.mark.parametrize("name", [None, 1, ""])
def test_every_check_needs_a_name(name):
    with pytest.raises(TypeError, match="name must be a non-empty str"):
        v.check_positive(name, 1.0)
    with pytest.raises(TypeError, match="name must be a non-empty str"):
        v.check_bool(name, True)
    with pytest.raises(TypeError, match="name_a must be a non-empty str"):
        v.check_same_shape(name, torch.ones(2), "b", torch.ones(2))


def test_seed_everything_does_not_import_the_compiler():
    """The determinism flag is set without importing torch._inductor (about 2 s per kernel)."""
    code = (
        "import sys, torch; from weightreg.seeding import seed_everything; seed_everything(0); "
        "assert torch.are_deterministic_algorithms_enabled(); "
        "assert torch.is_deterministic_algorithms_warn_only_enabled(); "
        "print('torch._inductor' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
