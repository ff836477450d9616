"""The bad-input battery: a registry of every public callable of :mod:`weightreg`, and a fuzzer.

Every name in the ``__all__`` of every module of the package (found by walking it with
``pkgutil``; ``weightreg.check.*`` excluded: its functions take a student's function) that is
callable is either

* registered in :data:`REGISTRY`: a valid **baseline** call and, for each parameter, its
  **kind** (see :data:`KINDS`), e.g.
  ``"weightreg.data.synthetic_data": entry(lambda: ((vec(), 0.05, 5), {}), w="vector", ...)``;
* listed in :data:`PENDING` (its module is being rewritten; the name is listed explicitly);
* or an exception/warning class or a result container listed in :data:`RESULT_TYPES`.

The battery calls the baseline once (it must return normally, finite, without a warning), then
mutates ONE argument at a time with the bad values of its kind (a fixed catalogue plus values
drawn by ``hypothesis`` strategies) and classifies what happens:

* ``clear``: a ``TypeError``/``ValueError`` whose message names the mutated argument (for a
  diverging learning rate also :class:`~weightreg.divergence.TrainingDiverged` or a
  :class:`~weightreg.divergence.DivergenceWarning` naming it or "learning rate");
* ``unclear``: any other exception, or a message that does not name the argument;
* ``silent``: it returned normally (or returned NaN/inf from finite input);
* ``ok``: an *extreme but valid* value (1e300, a 0-d tensor, ...) was accepted and the result
  is finite.

A factory whose returned function checks its arguments at the first call (e.g.
``weightreg.constraints.ball_projection``) is registered with ``then=lambda f: f(...)``: the
battery calls the returned function too, and classifies both calls as one.

To register a new helper: add ``"weightreg.<module>.<name>": entry(lambda: (args, kwargs),
<param>="<kind>", ...)`` to :data:`REGISTRY` (a kind for every parameter; new kinds go in
:data:`KINDS`), then run ``pytest tests/test_bad_input.py``.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import math
import pkgutil
import random
import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import weightreg  # noqa: E402
from weightreg.divergence import DivergenceWarning, TrainingDiverged  # noqa: E402

NAN, INF = math.nan, math.inf

# --------------------------------------------------------------------------------------------
# Discovery


def public_callables() -> dict[str, Any]:
    """``{"weightreg.<module>.<name>": object}`` for every callable name in a module's ``__all__``
    (``weightreg.check.*`` excluded)."""
    found: dict[str, Any] = {}
    for info in pkgutil.walk_packages(weightreg.__path__, "weightreg."):
        if info.name == "weightreg.check" or info.name.startswith("weightreg.check."):
            continue
        module = importlib.import_module(info.name)
        for name in getattr(module, "__all__", ()):
            obj = getattr(module, name, None)
            if callable(obj):
                found[f"{info.name}.{name}"] = obj
    return found


def is_exception_type(obj: object) -> bool:
    return isinstance(obj, type) and issubclass(obj, BaseException)


# --------------------------------------------------------------------------------------------
# Kinds: what a parameter accepts, and therefore which values are bad for it.


@dataclass(frozen=True)
class Kind:
    """``bad(base)``: values that must be refused; ``draw(base)``: a hypothesis strategy of more
    of them; ``extreme(base)``: valid but extreme values (may be refused clearly, or accepted
    with a finite result)."""

    bad: Callable[[Any], list[Any]]
    draw: Callable[[Any], st.SearchStrategy]
    extreme: Callable[[Any], list[Any]] = lambda base: []
    diverging: bool = False  # extreme values make a trainer diverge (TrainingDiverged is clear)


_WRONG_TYPES = ["1.0", None, [1.0], True, 1j]
_NONFINITE = [NAN, INF, -INF]
_texts = st.text(max_size=5)


def _numbers(extra: list[Any], draw: st.SearchStrategy, extreme: list[Any] = ()) -> Kind:
    return Kind(
        bad=lambda base: _NONFINITE + _WRONG_TYPES + list(extra),
        draw=lambda base: draw | st.sampled_from(_NONFINITE) | _texts | st.booleans(),
        extreme=lambda base: list(extreme),
    )


def _neg():
    return st.floats(max_value=-1e-300, allow_infinity=False)


def _one(base: Any) -> torch.Tensor:
    """The tensor to mutate: ``base``, or the first tensor of a list of them."""
    return base[0] if isinstance(base, list | tuple) else base


def _tensor_bads(base: torch.Tensor) -> list[Any]:
    f = _one(base).detach().clone()
    out: list[Any] = []
    for v in _NONFINITE:
        x = f.clone()
        x.reshape(-1)[0] = v
        out.append(x)
    out += [
        f.to(torch.int64),
        f > 0,
        f.to(torch.complex128),
        torch.empty(0, dtype=f.dtype),
        f.tolist(),
        f.numpy(),
        None,
        "tensor",
    ]
    return out


def _tensor_draw(base: torch.Tensor) -> st.SearchStrategy:
    f = _one(base).detach().clone()

    def put(pair):
        value, index = pair
        x = f.clone()
        x.reshape(-1)[index] = value
        return x

    dtypes = [torch.int8, torch.int32, torch.int64, torch.uint8, torch.bool, torch.complex64]
    return st.one_of(
        st.tuples(st.sampled_from(_NONFINITE), st.integers(0, f.numel() - 1)).map(put),
        st.sampled_from(dtypes).map(lambda d: f.to(d)),
        _texts,
        st.floats(allow_nan=True),
    )


def _tensor_extreme(base: torch.Tensor) -> list[Any]:
    f = _one(base).detach()
    huge = torch.finfo(f.dtype).max / 10
    return [torch.full_like(f, huge), torch.full_like(f, -huge)]


def _tensor(shape_bads: Callable[[torch.Tensor], list[Any]] = lambda b: [], any_shape=True):
    def extreme(base):
        out = _tensor_extreme(base)
        base = _one(base)
        if any_shape:  # any shape is valid: a 0-d and a 3-d tensor too
            out += [base.detach().reshape(-1)[0].clone(), base.detach().reshape(1, 1, -1).clone()]
        return out

    return Kind(
        bad=lambda base: _tensor_bads(base) + shape_bads(_one(base)),
        draw=_tensor_draw,
        extreme=extreme,
    )


def _drop_last(b: torch.Tensor) -> torch.Tensor:
    return b[:-1].clone() if b.dim() and b.shape[0] > 1 else torch.cat([b, b])


def _double(b: torch.Tensor) -> torch.Tensor:
    return torch.cat([b.reshape(1, *b.shape)] * 2) if b.dim() == 0 else torch.cat([b, b])


def _nonneg_or_tensor(allow_inf: bool = False) -> Kind:
    def bad(base):
        z = torch.ones(3, dtype=torch.float64)
        out = [NAN, -1.0, -1e-12, *_WRONG_TYPES]
        out += [] if allow_inf else [INF]
        out += [-z, z.to(torch.int64), z.to(torch.complex128), torch.tensor([NAN, 1.0, 1.0])]
        out += [torch.ones(7, 5, 3)]  # does not broadcast
        return out

    return Kind(bad=bad, draw=lambda base: _neg() | st.just(NAN) | _texts | st.booleans())


def _labels_bads(base: torch.Tensor) -> list[Any]:
    return [
        base.to(torch.float64),
        base + 1000,
        base - 1000,
        base.unsqueeze(-1).expand(-1, 2),
        _drop_last(base),
        base.tolist(),
        None,
        torch.empty(0, dtype=torch.long),
    ]


def _arrays_bads(base: tuple) -> list[Any]:
    X, y = base
    nan = X.clone()
    nan[0, 0] = NAN
    return [
        X,  # a bare tensor, not a tuple of them
        (),
        (X, y[:-1]),
        (X.tolist(), y),
        (X, None),
        (nan, y),
        (X.to(torch.complex128), y),
        (torch.tensor(1.0), torch.tensor(2.0)),
        (X[:0], y[:0]),
        None,
        "arrays",
    ]


def _curves_bads(base: dict) -> list[Any]:
    return [
        {},
        None,
        [1.0, 2.0],
        "train",
        {"a": "abc"},
        {"a": [[1.0, 2.0], [3.0, 4.0]]},
        {"a": []},
        {"a": [1.0, -1.0]},  # log scale: a negative loss
        {"a": [1.0, 1j]},
        {"a": None},
    ]


def _weights_bads(base: dict) -> list[Any]:
    return [
        {},
        None,
        [torch.ones(3)],
        {"a": torch.tensor([NAN, 1.0])},
        {"a": torch.tensor([INF, 1.0])},
        {"a": torch.ones(0)},
        {"a": "abc"},
        {"a": torch.tensor([1 + 1j])},
        {"a": None},
    ]


def _betas_bads(base) -> list[Any]:
    return [(1.0, 0.999), (0.9, 1.0), (-0.1, 0.999), (NAN, 0.999), 0.9, None, (0.9,), ("a", 0.9)]


KINDS: dict[str, Kind] = {
    # numbers (a finite real; bool, str, None, complex refused)
    "real": _numbers([], st.just(NAN), extreme=[1e300, -1e300]),
    "positive": _numbers(
        [0.0, -1.0, -1e-12], st.floats(max_value=0.0, allow_infinity=False), [1e300, 1e-300]
    ),
    "nonnegative": _numbers([-1.0, -1e-12], _neg(), [1e300, 0.0]),
    "probability": _numbers(
        [1.0, 1.5, -0.1], st.floats(min_value=1.0, allow_infinity=False) | _neg(), [0.0]
    ),
    "lr": dataclasses.replace(
        _numbers([0.0, -1.0], st.floats(max_value=0.0, allow_infinity=False)),
        extreme=lambda base: [1e4, 1e300],
        diverging=True,
    ),
    "int>=0": _numbers([-1, 1.5, 2.0, "3"], st.integers(max_value=-1) | st.floats(0.5, 9.5)),
    "int>=1": _numbers([0, -1, 1.5, 2.0, "3"], st.integers(max_value=0) | st.floats(0.5, 9.5)),
    "int>=1|None": Kind(
        bad=lambda base: [0, -1, 1.5, 2.0, "3", True, NAN],
        draw=lambda base: st.integers(max_value=0) | st.floats(0.5, 9.5),
    ),
    "seed": Kind(
        bad=lambda base: [None, -1, 1.5, "0", True, np.float64(1.0)],
        draw=lambda base: st.integers(max_value=-1) | st.floats() | _texts | st.none(),
        extreme=lambda base: [2**40],
    ),
    "bool": Kind(
        bad=lambda base: ["False", "True", 0, 1, None, "yes", 1.0, np.bool_(True)],
        draw=lambda base: _texts | st.integers() | st.floats() | st.none(),
    ),
    "callable": Kind(
        bad=lambda base: [None, 1.0, "f", []],
        draw=lambda base: _texts | st.floats() | st.none(),
    ),
    "choice": Kind(
        bad=lambda base: ["bogus", None, True, 1, ""],
        draw=lambda base: _texts.map(lambda s: "bogus-" + s) | st.none() | st.integers(),
    ),
    "str": Kind(
        bad=lambda base: [None, 1, 1.5, ["x"]],
        draw=lambda base: st.integers() | st.floats() | st.none(),
    ),
    "str|None": Kind(
        bad=lambda base: [1, 1.5, ["x"], True], draw=lambda base: st.integers() | st.floats()
    ),
    "dtype": Kind(
        bad=lambda base: [
            torch.int64,
            torch.int32,
            torch.bool,
            torch.complex64,
            "float32",
            None,
            float,
            np.float64,
        ],
        draw=lambda base: st.sampled_from([torch.uint8, torch.int16, torch.complex128]) | _texts,
    ),
    "generator|None": Kind(
        bad=lambda base: [0, "gen", 1.5, np.random.default_rng(0), True],
        draw=lambda base: st.integers() | _texts,
    ),
    "ax|None": Kind(
        bad=lambda base: [1, "ax", [], True],
        draw=lambda base: st.integers() | _texts,
    ),
    "dim|None": Kind(
        bad=lambda base: [5, -5, 1.5, "0", True],
        draw=lambda base: st.integers(min_value=5) | st.integers(max_value=-5) | _texts,
    ),
    "betas": Kind(
        bad=_betas_bads,
        draw=lambda base: (
            st.tuples(st.floats(min_value=1.0), st.floats(0.0, 0.99))
            | st.tuples(st.floats(0.0, 0.99), _neg())
        ),
    ),
    # tensors: real floating (float32/float64), finite, non-empty
    "tensor": _tensor(),
    "tensor|list": _tensor(lambda b: [[], [b.clone(), torch.tensor([NAN])], [b.clone(), "w"]]),
    "vector": _tensor(lambda b: [b.unsqueeze(0).clone(), b.reshape(-1)[0].clone()], False),
    "matrix": _tensor(lambda b: [b.reshape(-1).clone(), b.unsqueeze(0).clone()], False),
    # exactly the shape that the other arguments imply
    "shaped": _tensor(
        lambda b: [_drop_last(b), b.unsqueeze(-1).clone(), b.unsqueeze(0).clone(), _double(b)],
        False,
    ),
    # as many entries as the other arguments imply (reshaped)
    "sized": _tensor(lambda b: [_drop_last(b), _double(b)], False),
    "shaped|None": Kind(
        bad=lambda base: (
            [x for x in _tensor_bads(base) if x is not None]
            + [_drop_last(base), base.unsqueeze(-1).clone()]
        ),
        draw=_tensor_draw,
    ),
    "tensor>0": _tensor(lambda b: [-b.abs(), torch.zeros_like(b)]),
    "bool_mask": Kind(
        bad=lambda base: [
            base.to(torch.float64) * 0.5,
            base.to(torch.int64),
            None,
            "mask",
            torch.empty(0, dtype=torch.bool),
            [0.5, 0.0],
        ],
        draw=lambda base: _texts | st.floats(),
    ),
    "nonneg|tensor": _nonneg_or_tensor(),
    "radius": _nonneg_or_tensor(allow_inf=True),
    "labels": Kind(  # integer class indices, one per row of the logits; (n, 1) may be accepted
        bad=_labels_bads,
        draw=lambda base: _texts | st.floats(),
        extreme=lambda base: [base.unsqueeze(-1).clone()],
    ),
    "arrays": Kind(bad=_arrays_bads, draw=lambda base: _texts | st.floats() | st.none()),
    "curves": Kind(bad=_curves_bads, draw=lambda base: _texts | st.floats() | st.none()),
    "weights_map": Kind(bad=_weights_bads, draw=lambda base: _texts | st.floats() | st.none()),
    "labels|None": Kind(
        bad=lambda base: ["ab", ["only one"], [1, 2], 5],
        draw=lambda base: st.lists(st.text(), min_size=3, max_size=4) | st.integers(),
    ),
}

# --------------------------------------------------------------------------------------------
# The registry


@dataclass(frozen=True)
class Entry:
    """A valid call of one public callable and the kind of each of its parameters."""

    baseline: Callable[[], tuple[tuple, dict]]
    kinds: dict[str, str]
    extra: dict[str, list] = field(default_factory=dict)  # more bad values per parameter
    names: dict[str, str] = field(default_factory=dict)  # word the message must contain
    allow_inf: bool = False  # the function may return inf from finite input (by contract)
    # applied to the result of every call (its checks count as the call's): for a factory
    # whose returned function checks its arguments at its first call
    then: Callable[[Any], Any] | None = None

    def bind(self, fn: Callable) -> Callable:
        """``fn``, followed by :attr:`then` if there is one."""
        if self.then is None:
            return fn
        then = self.then
        return lambda *args, **kwargs: then(fn(*args, **kwargs))


def entry(baseline, /, *, extra=None, names=None, allow_inf=False, then=None, **kinds) -> Entry:
    return Entry(baseline, kinds, extra or {}, names or {}, allow_inf, then)


def f64(*values) -> torch.Tensor:
    return torch.tensor(values, dtype=torch.float64)


def vec() -> torch.Tensor:
    return f64(0.5, -1.0, 0.0, 2.0)


def _lin():
    X = torch.arange(12, dtype=torch.float64).reshape(4, 3) / 10
    return X, f64(0.1, -0.2, 0.3).reshape(3, 1), f64(0.5)


def _quadratic_grad(W):
    return W - 1.0


def _identity(Z):
    return Z


def _loader_arrays():
    return (torch.arange(10, dtype=torch.float64).reshape(5, 2), torch.arange(5.0))


def _sgd():
    p, g = vec(), f64(0.1, 0.2, -0.3, 0.0)
    return (p, g, torch.zeros(4, dtype=torch.float64)), {
        "lr": 0.1,
        "momentum": 0.9,
        "weight_decay": 0.01,
    }


def _adam():
    p, g = vec(), f64(0.1, 0.2, -0.3, 0.0)
    z = torch.zeros(4, dtype=torch.float64)
    return (p, g, z, z.clone(), 1), {
        "lr": 0.1,
        "betas": (0.9, 0.999),
        "eps": 1e-8,
        "weight_decay": 0.01,
    }


def _xy():
    g = torch.Generator().manual_seed(0)
    X = torch.randn(6, 3, generator=g, dtype=torch.float64)
    return X, X @ f64(1.0, -1.0, 0.5) + 0.1


def _rows_wb():
    return torch.zeros(2, 3, dtype=torch.float64), torch.zeros(2, dtype=torch.float64)


def _c_proj(W):
    from weightreg.constraints import project_l2_ball

    return project_l2_ball(W, 1.0, dim=1)


def _c_params():
    return [torch.ones(3, dtype=torch.float64, requires_grad=True)]


def _c_quad():
    from weightreg.constraint_geometry import example_quadratic

    return example_quadratic()


def _fig():
    return plt.figure(figsize=(4.0, 2.0))


def _draw_nothing(fig, a):
    fig.add_subplot().plot([0.0, 1.0], [0.0, a])


V = "weightreg.validation."

REGISTRY: dict[str, Entry] = {
    # ---------------------------------------------------------------- data
    "weightreg.data.synthetic_data": entry(
        lambda: ((vec(), 0.05, 5), {"noise": 0.01, "generator": torch.Generator().manual_seed(0)}),
        w="vector",
        b="real",
        num_examples="int>=1",
        noise="nonnegative",
        generator="generator|None",
    ),
    "weightreg.data.load_array": entry(
        lambda: (
            (_loader_arrays(), 2),
            {"is_train": True, "generator": torch.Generator().manual_seed(0)},
        ),
        data_arrays="arrays",
        batch_size="int>=1",
        is_train="bool",
        generator="generator|None",
    ),
    "weightreg.data.high_dim_regression": entry(
        lambda: ((), {"num_inputs": 5, "n_train": 3, "n_test": 4}),
        num_inputs="int>=1",
        n_train="int>=1",
        n_test="int>=1",
        w_value="real",
        b="real",
        noise="nonnegative",
        seed="seed",
        dtype="dtype",
    ),
    "weightreg.data.digits_split": entry(
        lambda: ((300,), {}),
        n_train="int>=1",
        seed="seed",
        dtype="dtype",
        extra={"n_train": [1797, 5000]},
    ),
    "weightreg.data.diabetes_split": entry(
        lambda: ((300,), {}),
        n_train="int>=1",
        seed="seed",
        dtype="dtype",
        extra={"n_train": [442, 5000]},
    ),
    # ---------------------------------------------------------------- plotting
    "weightreg.plotting.use_book_style": entry(lambda: ((), {})),
    "weightreg.plotting.plot_curves": entry(
        lambda: (({"train": [3.0, 2.0, 1.0], "test": [4.0, 3.0, 2.5]},), {"title": "t"}),
        curves="curves",
        ax="ax|None",
        xlabel="str",
        ylabel="str",
        logy="bool",
        title="str|None",
    ),
    "weightreg.plotting.weight_histogram": entry(
        lambda: (({"a": vec(), "b": np.array([0.0, 0.5])},), {"bins": 10}),
        weights="weights_map",
        ax="ax|None",
        bins="int>=1",
        title="str|None",
    ),
    # ---------------------------------------------------------------- seeding
    "weightreg.seeding.seed_everything": entry(
        lambda: ((3,), {"threads": 1, "deterministic": True}),
        seed="seed",
        threads="int>=1|None",
        deterministic="bool",
    ),
    "weightreg.seeding.streams": entry(lambda: ((3,), {}), seed="seed"),
    # ---------------------------------------------------------------- divergence
    "weightreg.divergence.blowup_limit": entry(lambda: ((f64(1.0, 0.5),), {}), initial="tensor"),
    "weightreg.divergence.diverged_rows": entry(
        lambda: ((f64(1.0, NAN, 3.0), f64(2.0, 2.0, 2.0)), {}),
        value="bool_mask_value",
        limit="shaped",
    ),
    "weightreg.divergence.report": entry(
        lambda: ((torch.tensor([False, False]),), {"labels": ["a", "b"]}),
        diverged="bool_mask",
        labels="labels|None",
        advice="str",
        what="str",
    ),
    # ---------------------------------------------------------------- validation
    V + "check_real": entry(
        lambda: (("alpha", 0.5), {}), name="str", value="real", names={"value": "alpha"}
    ),
    V + "check_positive": entry(
        lambda: (("lr", 0.5), {}), name="str", value="positive", names={"value": "lr"}
    ),
    V + "check_nonnegative": entry(
        lambda: (("alpha", 0.5), {}), name="str", value="nonnegative", names={"value": "alpha"}
    ),
    V + "check_probability": entry(
        lambda: (("beta", 0.5), {}), name="str", value="probability", names={"value": "beta"}
    ),
    V + "check_positive_int": entry(
        lambda: (("steps", 3), {}), name="str", value="int>=1", names={"value": "steps"}
    ),
    V + "check_int": entry(
        lambda: (("steps", 3), {"minimum": 0}),
        name="str",
        value="int>=0",
        minimum="int|None",
        names={"value": "steps"},
    ),
    V + "check_seed": entry(
        lambda: (("seed", 3), {}), name="str", value="seed", names={"value": "seed"}
    ),
    V + "check_bool": entry(
        lambda: (("decoupled", False), {}), name="str", value="bool", names={"value": "decoupled"}
    ),
    V + "check_choice": entry(
        lambda: (("method", "grad", ("grad", "prox")), {}),
        name="str",
        value="choice",
        choices="choices",
        names={"value": "method"},
    ),
    V + "check_finite_tensor": entry(
        lambda: (("w", vec()), {"allow_empty": False}),
        name="str",
        value="tensor",
        allow_empty="bool",
        names={"value": "w"},
    ),
    V + "check_float_dtype": entry(
        lambda: (("dtype", torch.float32), {}), name="str", value="dtype", names={"value": "dtype"}
    ),
    V + "as_tensor_list": entry(
        lambda: (("w", [vec(), f64(1.0)]), {}),
        name="str",
        value="tensor|list",
        names={"value": "w"},
    ),
    V + "check_same_shape": entry(
        lambda: (("a", vec(), "b", vec()), {}),
        name_a="str",
        a="tensor_any",
        name_b="str",
        b="same_shape",
        names={"a": "a", "b": "b"},
    ),
    # ---------------------------------------------------------------- penalties (stable leaves)
    "weightreg.penalties.lk_penalty": entry(
        lambda: ((vec(), 1.5), {"alpha": 0.1}), w="tensor|list", k="positive", alpha="nonnegative"
    ),
    "weightreg.penalties.lk_grad": entry(
        lambda: ((vec(), 1.5), {"alpha": 0.1}), w="tensor|list", k="positive", alpha="nonnegative"
    ),
    "weightreg.penalties.lk_grad_per_weight": entry(
        lambda: ((vec(), 1.5), {"alpha": 0.1}), w="tensor", k="positive", alpha="nonnegative"
    ),
    "weightreg.penalties.prox_l1": entry(lambda: ((vec(), 0.3), {}), z="tensor", t="nonneg|tensor"),
    "weightreg.penalties.prox_l2": entry(lambda: ((vec(), 0.3), {}), z="tensor", t="nonneg|tensor"),
    "weightreg.penalties.prox_lhalf": entry(
        lambda: ((vec(), 0.3), {}), z="tensor", t="nonneg|tensor"
    ),
    "weightreg.penalties.prox_lk": entry(
        lambda: ((vec(), 1.0, 0.1, 0.5, 4), {}),
        z="tensor",
        k="prox_k",
        alpha="nonneg|tensor",
        lr="lr_tensor",
        num_weights="int>=1",
    ),
    "weightreg.penalties.lhalf_threshold": entry(lambda: ((0.3,), {}), t="times"),
    # ---------------------------------------------------------------- constraints (leaves)
    "weightreg.constraints.project_l1_ball": entry(
        lambda: ((vec(), 1.0), {"dim": None}), w="tensor", radius="radius", dim="dim|None"
    ),
    "weightreg.constraints.project_l2_ball": entry(
        lambda: ((vec(), 1.0), {"dim": None}), w="tensor", radius="radius", dim="dim|None"
    ),
    "weightreg.constraints.project_linf_ball": entry(
        lambda: ((vec(), 1.0), {"dim": None}), w="tensor", radius="radius", dim="dim|None"
    ),
    # ---------------------------------------------------------------- dynamics
    "weightreg.dynamics.flow_solution": entry(
        lambda: ((vec(), 1.5, 0.1, 2.0), {}),
        w0="tensor",
        k="positive",
        alpha="nonnegative",
        t="times",
    ),
    "weightreg.dynamics.extinction_time": entry(
        lambda: ((vec(), 1.5, 0.1), {}),
        w0="tensor",
        k="positive",
        alpha="nonnegative",
        allow_inf=True,
    ),
    "weightreg.dynamics.halving_time": entry(
        lambda: ((f64(0.5, 1.0), 3.0, 0.1), {}), r0="tensor>0", k="positive", alpha="positive"
    ),
    "weightreg.dynamics.dead_zone_radius": entry(
        lambda: ((3.0, 0.1, 10.0), {}), k="positive", alpha="positive", horizon="positive"
    ),
    "weightreg.dynamics.overshoot_free_radius": entry(
        lambda: ((3.0, 0.1, 0.1), {}), k="positive", alpha="positive", lr="positive"
    ),
    "weightreg.dynamics.gd_two_cycle_radius": entry(
        lambda: ((3.0, 0.1, 0.1), {}), k="positive", alpha="positive", lr="positive"
    ),
    "weightreg.dynamics.gd_two_cycle_slope": entry(lambda: ((1.5,), {}), k="positive"),
    "weightreg.dynamics.gd_flow_bounds": entry(
        lambda: ((f64(0.5, -0.3), 3.0, 0.1, 0.1, 5), {}),
        w0="tensor",
        k="positive",
        alpha="positive",
        lr="positive",
        steps="int>=1",
    ),
    "weightreg.dynamics.gd_flow_gap_bound": entry(
        lambda: ((f64(0.5, -0.3), 3.0, 0.1, 0.1), {}),
        w0="tensor",
        k="positive",
        alpha="positive",
        lr="positive",
    ),
    # ---------------------------------------------------------------- proximal
    "weightreg.proximal.proximal_gradient": entry(
        lambda: (
            (_quadratic_grad, _identity, torch.zeros(2, 3, dtype=torch.float64)),
            {"lr": 0.5, "steps": 5, "accelerate": False},
        ),
        grad="callable",
        prox="callable",
        W0="rows",
        lr="lr",
        steps="int>=1",
        accelerate="bool",
    ),
    # ---------------------------------------------------------------- constraints
    "weightreg.constraints.ball_projection": entry(
        lambda: ((2.0, 1.0), {"dim": None}),
        p="ball_p",
        radius="radius",
        dim="dim|None",
        then=lambda project: project(vec()),  # shape checks run at the first call
    ),
    "weightreg.constraints.project_max_norm": entry(
        lambda: ((torch.ones(3, 2, dtype=torch.float64), 1.0), {"layout": "in_out"}),
        weight="matrix+",
        max_norm="radius",
        layout="choice",
    ),
    "weightreg.constraints.projected_gradient_descent": entry(
        lambda: (
            (_quadratic_grad, _c_proj, torch.zeros(2, 3, dtype=torch.float64)),
            {"lr": 0.5, "steps": 5, "accelerate": False},
        ),
        grad="callable",
        project="callable",
        W0="rows",
        lr="lr",
        steps="int>=1",
        accelerate="bool",
    ),
    "weightreg.constraints.ProjectedSGD": entry(
        lambda: ((_c_params(), 0.1), {"project": None}),
        params="params",
        lr="positive",
        project="callable|None",
    ),
    "weightreg.constraints.projected_update": entry(
        lambda: (([None, _c_proj],), {}), projections="projections"
    ),
    # ---------------------------------------------------------------- constraint geometry
    "weightreg.constraint_geometry.Quadratic2D": entry(
        lambda: ((torch.eye(2, dtype=torch.float64), f64(1.0, 0.5)), {}), H="H2", center="point2"
    ),
    "weightreg.constraint_geometry.constrained_argmin_2d": entry(
        lambda: ((_c_quad(), 1.0, 1.0), {"num": 101}),
        quad="quad",
        p="p",
        radius="positive",
        num="int>=1",
    ),
    "weightreg.constraint_geometry.example_quadratic": entry(
        lambda: ((), {"dtype": torch.float64}), dtype="dtype"
    ),
    "weightreg.constraint_geometry.lp_norm_2d": entry(
        lambda: ((f64(1.0, -2.0), 2.0), {}), W="point2", p="p"
    ),
    "weightreg.constraint_geometry.lp_sphere": entry(
        lambda: ((2.0, 1.0, 11), {}), p="p", radius="nonnegative", num="int>=1"
    ),
    "weightreg.figures.constraints.draw_constrained_problem": entry(
        lambda: (
            (plt.subplots()[1], _c_quad(), 1.0, 1.0),
            {"solution": f64(1.0, 0.0), "lim": 2.0, "levels": 3, "color": "k", "title": None},
        ),
        ax="ax|None",
        quad="quad",
        p="p|None",
        radius="nonnegative",
        solution="shaped|None",
        lim="positive",
        levels="int>=1",
        color="str",
        title="str|None",
    ),
    # ---------------------------------------------------------------- linear
    "weightreg.linear.fit": entry(
        lambda: ((*_xy(), 2.0, f64(0.0, 0.1)), {"lr": 0.1, "epochs": 3}),
        X="matrix",
        y="sized",
        k="positive",
        alpha="nonneg|tensor",
        lr="lr",
        epochs="int>=1",
        method="choice",
        init="choice",
        batch_size="int>=1|None",
        accelerate="bool",
        seed="seed",
        eval_sets="eval_sets|None",
    ),
    "weightreg.linear.ridge_path": entry(
        lambda: ((*_xy(), f64(0.1, 1.0)), {}), X="matrix", y="sized", alphas="nonneg|tensor"
    ),
    "weightreg.linear.lipschitz_step": entry(lambda: ((_xy()[0],), {}), X="matrix"),
    "weightreg.linear.loss_rows": entry(
        lambda: ((*_xy(), *_rows_wb()), {}), X="matrix", y="sized", W="shaped", b="shaped"
    ),
    "weightreg.linear.objective_rows": entry(
        lambda: ((*_xy(), *_rows_wb(), 2.0, 0.1), {}),
        X="matrix",
        y="sized",
        W="shaped",
        b="shaped",
        k="positive",
        alpha="nonnegative",
    ),
    # ---------------------------------------------------------------- penalties (rows, descent)
    "weightreg.penalties.lk_penalty_rows": entry(
        lambda: ((vec().reshape(2, 2), 1.5, 0.1), {}), W="matrix", k="positive", alpha="nonnegative"
    ),
    "weightreg.penalties.lk_grad_rows": entry(
        lambda: ((vec().reshape(2, 2), 1.5, 0.1), {}), W="matrix", k="positive", alpha="nonnegative"
    ),
    "weightreg.penalties.prox_descent": entry(
        lambda: ((vec(), 1.0, 0.1, 0.1, 5), {}),
        w0="tensor",
        k="prox_k",
        alpha="nonnegative",
        lr="lr",
        steps="int>=1",
    ),
    "weightreg.penalties.penalty_descent": entry(
        lambda: ((vec(), 1.5, 0.1, 0.1, 5), {}),
        w0="tensor",
        k="positive~diverging",  # the step is lr * alpha * k * |w|**(k-1): any can diverge
        alpha="nonnegative~diverging",
        lr="lr",
        steps="int>=1",
    ),
    # ---------------------------------------------------------------- figures.lk
    "weightreg.figures.lk.plot_penalty_and_grad": entry(
        lambda: ((1.5,), {"alpha": 1.0, "xlim": 2.0, "ax": None, "num": 41}),
        k="positive",
        alpha="nonnegative",
        xlim="positive",
        ax="ax|None",
        num="int>=2",
    ),
    "weightreg.figures.lk.step_table": entry(
        lambda: ((1.5,), {"alpha": 0.1, "lr": 0.1, "sizes": (2.0, 0.1)}),
        k="positive",
        alpha="nonnegative",
        lr="positive",
        sizes="sizes",
    ),
    "weightreg.figures.lk.penalty_trajectories": entry(
        lambda: ((vec(), 1.5, 0.1, 0.1, 5), {}),
        w0="tensor",
        k="positive",
        alpha="nonnegative",
        lr="positive",
        steps="int>=1",
        allow_inf=True,  # diverging entries are NaN by contract (the figure shows them)
    ),
    "weightreg.figures.lk.draw_penalty_dynamics": entry(
        lambda: ((_fig(), 1.5, 0.1, 0.1), {"method": "gradient", "steps": 5, "w0": (0.5, -1.0)}),
        fig="figure",
        k="positive",
        alpha="nonnegative",
        lr="positive",
        method="choice",
        steps="int>=1",
        w0="floats",
    ),
    "weightreg.figures.lk.dynamics_explorer": entry(
        lambda: (
            (),
            {
                "ks": (1.5,),
                "alphas": (0.1,),
                "lrs": (0.1,),
                "methods": ("gradient",),
                "initial": None,
                "title": None,
            },
        ),
        ks="positives",
        alphas="nonnegatives",
        lrs="positives",
        methods="methods",
        initial="initial|None",
        title="str|None",
    ),
    # ---------------------------------------------------------------- widgets
    "weightreg.widgets.static_mode": entry(lambda: ((), {})),
    "weightreg.widgets.explorer": entry(
        lambda: (
            (_draw_nothing, {"a": [1.0, 2.0]}),
            {"initial": None, "title": None, "figsize": (2.0, 1.0), "dpi": 20, "live": False},
        ),
        draw="callable",
        controls="controls",
        initial="initial|None",
        title="str|None",
        figsize="figsize",
        dpi="int>=1",
        live="bool|None",
    ),
    # ---------------------------------------------------------------- optim (leaves)
    "weightreg.optim.sgd_update_": entry(
        _sgd,
        p="tensor",
        grad="shaped",
        momentum_buffer="shaped|None",
        lr="positive",
        momentum="probability",
        weight_decay="nonnegative",
        decoupled="bool",
    ),
    "weightreg.optim.adam_update_": entry(
        _adam,
        p="tensor",
        grad="shaped",
        exp_avg="shaped",
        exp_avg_sq="shaped",
        step="int>=1",
        lr="positive",
        betas="betas",
        eps="positive",
        weight_decay="nonnegative",
        decoupled="bool",
        extra={"exp_avg_sq": [f64(-1.0, 0.0, 0.0, 0.0)]},
    ),
    "weightreg.optim.torch_weight_decay": entry(
        lambda: ((0.01, 0.1), {}), paper_lambda="nonnegative", lr="positive"
    ),
    # ---------------------------------------------------------------- train (leaves)
    "weightreg.train.squared_loss": entry(
        lambda: ((f64(1.0, 2.0, 3.0).reshape(3, 1), f64(1.5, 2.0, 2.0)), {}),
        y_hat="tensor",
        y="sized",
    ),
    "weightreg.train.linreg": entry(lambda: (_lin(), {}), X="matrix", w="shaped", b="tensor"),
    "weightreg.train.accuracy": entry(
        lambda: ((f64(1.0, 0.0, 0.0, 2.0, 0.5, 0.1).reshape(3, 2), torch.tensor([0, 1, 1])), {}),
        logits="matrix",
        y="labels",
    ),
}

# kinds used by a single entry
KINDS["bool_mask_value"] = Kind(  # a loss per configuration: NaN/inf allowed (that is the point)
    bad=lambda base: [base.to(torch.complex128), None, "v", _drop_last(base), base.tolist()],
    draw=lambda base: _texts | st.floats(),
)
KINDS["same_shape"] = Kind(  # only the shape matters
    bad=lambda base: [_drop_last(base), base.unsqueeze(-1), None, "b", [1.0]],
    draw=lambda base: _texts,
)
KINDS["times"] = dataclasses.replace(  # a number or a tensor of any shape, >= 0
    KINDS["nonneg|tensor"], bad=lambda base: KINDS["nonneg|tensor"].bad(base)[:-1]
)
KINDS["rows"] = _tensor(lambda b: [b.reshape(-1)[0].clone()], False)  # (C, ...): >= 1-D
KINDS["tensor_any"] = Kind(bad=lambda base: [None, "a", [1.0], 1.0], draw=lambda base: _texts)
KINDS["int|None"] = Kind(bad=lambda base: [1.5, "0", True], draw=lambda base: _texts | st.floats())
KINDS["choices"] = Kind(bad=lambda base: ["grad", None, 3, ()], draw=lambda base: st.integers())
KINDS["prox_k"] = Kind(
    bad=lambda base: [3.0, 0.0, -1.0, 1.5, NAN, "1", None, True, f64(1.0, 3.0)],
    draw=lambda base: st.floats().filter(lambda x: x not in (0.5, 1.0, 2.0)) | _texts,
)
KINDS["lr_tensor"] = Kind(
    bad=lambda base: [0.0, -1.0, NAN, INF, "1", None, True, 1j, f64(-1.0), f64(0.1, -0.1)],
    draw=lambda base: st.floats(max_value=0.0) | _texts,
    extreme=lambda base: [1e300],
)

# kinds of the constraints, linear, figures and widgets entries
KINDS["callable|None"] = Kind(
    bad=lambda base: [1.0, "f", [], True], draw=lambda base: _texts | st.floats()
)
KINDS["projections"] = Kind(
    bad=lambda base: [None, "ab", 1.0, [1.0], [_identity, "x"], _identity],
    draw=lambda base: _texts | st.floats(),
)
KINDS["params"] = Kind(
    bad=lambda base: [None, "ab", 1.0, [], [1.0], torch.ones(2)],
    draw=lambda base: _texts | st.floats(),
)
KINDS["quad"] = Kind(
    bad=lambda base: [None, "q", 1.0, (torch.eye(2), torch.zeros(2))],
    draw=lambda base: _texts | st.floats(),
)
KINDS["p"] = Kind(  # an exponent p > 0, inf allowed (the max norm)
    bad=lambda base: [NAN, -INF, 0.0, -1.0, -1e-12, *_WRONG_TYPES],
    draw=lambda base: st.floats(max_value=0.0, allow_infinity=False) | st.just(NAN) | _texts,
    extreme=lambda base: [INF, 1e300, 1e-3],
)
KINDS["p|None"] = Kind(bad=lambda base: [0.0, -1.0, NAN, "1", True], draw=lambda base: _texts)
KINDS["ball_p"] = Kind(
    bad=lambda base: [3.0, 0.0, -1.0, 1.5, NAN, "1", None, True], draw=lambda base: _texts
)
KINDS["point2"] = _tensor(
    lambda b: [b.reshape(-1)[:1].clone(), torch.ones(3, dtype=b.dtype), b.unsqueeze(-1).clone()],
    False,
)
KINDS["H2"] = _tensor(lambda b: [torch.eye(3, dtype=b.dtype), -b, b[:1].clone()], False)
KINDS["matrix+"] = _tensor(  # >= 2-D
    lambda b: [b.reshape(-1).clone(), b.reshape(-1)[0].clone()], False
)
_NAN_SET = (torch.full((6, 3), NAN, dtype=torch.float64), torch.ones(6, dtype=torch.float64))
# a trainer's hyperparameter that sets the step size with lr: an extreme value may diverge (a
# TrainingDiverged or DivergenceWarning naming it is clear)
KINDS["positive~diverging"] = dataclasses.replace(KINDS["positive"], diverging=True)
KINDS["nonnegative~diverging"] = dataclasses.replace(KINDS["nonnegative"], diverging=True)
KINDS["eval_sets|None"] = Kind(
    bad=lambda b: [
        {"x": None},
        {"x": (torch.ones(2, 3, dtype=torch.float64), torch.ones(3, dtype=torch.float64))},
        [1],
        "sets",
        {"x": _NAN_SET},
    ],
    draw=lambda b: st.text(),
)
KINDS["int>=2"] = _numbers(
    [1, 0, -1, 1.5, 2.0, "3"], st.integers(max_value=1) | st.floats(0.5, 9.5)
)
KINDS["figure"] = Kind(
    bad=lambda base: [None, 1, "fig", []], draw=lambda base: st.integers() | _texts
)
_SEQ_BADS = [[], None, "ab", 1.0, [NAN], [INF], [1.0, "x"], [True], [1j]]
KINDS["floats"] = Kind(  # a non-empty sequence of finite reals
    bad=lambda base: list(_SEQ_BADS), draw=lambda base: _texts | st.floats()
)
KINDS["sizes"] = Kind(  # a non-empty sequence of reals > 0
    bad=lambda base: [*_SEQ_BADS, [0.0], [-1.0]], draw=lambda base: _texts | st.floats()
)
KINDS["positives"] = Kind(
    bad=lambda base: [*_SEQ_BADS, [0.0], [-1.0]], draw=lambda base: _texts | st.floats()
)
KINDS["nonnegatives"] = Kind(
    bad=lambda base: [*_SEQ_BADS, [-1.0]], draw=lambda base: _texts | st.floats()
)
KINDS["methods"] = Kind(
    bad=lambda base: [[], None, "gradient", ["bogus"], [1], ("gradient", None)],
    draw=lambda base: _texts | st.floats(),
)
KINDS["initial|None"] = Kind(
    bad=lambda base: [{"zz": 1.0}, {"a": 99.0}, {"k": 99.0}, [1], "k", 1.0],
    draw=lambda base: _texts | st.floats(),
)
KINDS["controls"] = Kind(
    bad=lambda base: [
        {},
        None,
        [1.0],
        "a",
        {"a": []},
        {"a": 5},
        {1: [1.0]},
        {"a": list(range(1000))},
    ],
    draw=lambda base: _texts | st.floats(),
)
KINDS["figsize"] = Kind(
    bad=lambda base: [(0.0, 1.0), (-1.0, 2.0), None, "ab", (1.0,), (NAN, 1.0), (1.0, 2.0, 3.0)],
    draw=lambda base: _texts | st.floats(),
)
KINDS["bool|None"] = Kind(
    bad=lambda base: ["yes", 0, 1, 1.0, "False"], draw=lambda base: _texts | st.floats()
)

# --------------------------------------------------------------------------------------------
# optim, optim_sweep, train, figures.decay (issue 10: registered at integration)

_F64 = torch.float64


def _opt_params():
    return [vec().requires_grad_(True)]


def _opt_step(opt):
    """One step of an optimizer with every gradient 1: the parameters after it."""
    for group in opt.param_groups:
        for p in group["params"]:
            p.grad = torch.ones_like(p)
    opt.step()
    return [p.detach().clone() for group in opt.param_groups for p in group["params"]]


def _tiny_split():
    from weightreg.data import Split

    g = torch.Generator().manual_seed(0)
    X = torch.randn(24, 3, generator=g, dtype=_F64)
    y = (X[:, 0] > 0).to(torch.int64)
    return Split(X[:16], y[:16], X[16:], y[16:])


def _tiny_config(**changes):
    from weightreg.optim_sweep import SweepConfig

    kw = {"optimizer": "sgd", "decoupled": False, "lrs": [0.1, 0.3], "seeds": [0]}
    kw.update({"weight_decays": [1e-4, 1e-3, 1e-2], "hidden": 4, "num_epochs": 2})
    kw.update({"batch_size": 8, **changes})
    return SweepConfig(**kw)


_SWEEP_RESULT: list = []


def _sweep_result():
    """One small sweep, computed once (a SweepResult is frozen)."""
    if not _SWEEP_RESULT:
        from weightreg.optim_sweep import sweep

        _SWEEP_RESULT.append(sweep(_tiny_split(), _tiny_config()))
    return _SWEEP_RESULT[0]


def _split_variants(base, *, y_wrong_dtype, y_bad_values=None) -> list[Any]:
    """Splits that break one rule each (for classification and regression splits alike)."""
    from weightreg.data import Split

    X, y, Xt, yt = base.X_train, base.y_train, base.X_test, base.y_test
    nan = X.clone()
    nan[0, 0] = NAN
    out = [
        None,
        "split",
        (X, y),
        Split(nan, y, Xt, yt),
        Split(X, y.to(y_wrong_dtype), Xt, yt),
        Split(X, y[:-1], Xt, yt),
        Split(X, y, Xt[:, :2], yt),
        Split(X, y, Xt, yt[:-1]),
        Split(X.to(torch.complex128), y, Xt, yt),
    ]
    if y_bad_values is not None:
        out.append(Split(X, y_bad_values(y), Xt, yt))
    return out


def _split_bads(base) -> list[Any]:
    return _split_variants(base, y_wrong_dtype=_F64, y_bad_values=lambda y: y - 5)


def _train_baseline():
    X, y = _xy()
    w = torch.zeros(3, 1, dtype=_F64, requires_grad=True)
    b = torch.zeros(1, dtype=_F64, requires_grad=True)

    def net(Z):
        return Z @ w + b

    batches = [(X[:3], y[:3]), (X[3:], y[3:])]
    return (net, [w, b], batches), {
        "num_epochs": 2,
        "lr": 0.1,
        "eval_data": {"train": (X, y)},
        "record": {"norm_w": lambda: float(w.detach().norm())},
    }


def _row_sum(Z):
    return Z.sum(1, keepdim=True)


def _paths():
    return {"sgd": f64(1.0, 1.0, 0.5, 0.6, 0.2, 0.3).reshape(3, 2), "adam": np.zeros((2, 2))}


def _contour():
    w = np.linspace(-1.0, 1.0, 5)
    W1, W2 = np.meshgrid(w, w)
    return W1, W2, W1**2 + W2**2


def _heatmap_baseline():
    return (_fig().add_subplot(), _sweep_result()), {"title": "t", "vmin": 0.0, "vmax": 1.0}


def _panel_baseline():
    return (_fig().add_subplot(), _paths()), {
        "targets": {"limit": (0.0, 0.1)},
        "contour": _contour(),
        "title": "t",
    }


KINDS["seeds"] = Kind(  # a non-empty sequence of ints >= 0
    bad=lambda base: [[], None, "ab", 1.0, [-1], [1.5], [True], ["0"], [NAN]],
    draw=lambda base: _texts | st.floats(),
)
KINDS["split"] = Kind(bad=_split_bads, draw=lambda base: _texts | st.floats() | st.none())
KINDS["sweep_config"] = Kind(
    bad=lambda base: [None, "config", {"optimizer": "sgd"}, 1.0, _tiny_config(batch_size=100)],
    draw=lambda base: _texts | st.floats() | st.none(),
)
KINDS["sweep_result"] = Kind(
    bad=lambda base: [None, "result", {}, 1.0, _tiny_config()],
    draw=lambda base: _texts | st.floats() | st.none(),
)
KINDS["ax"] = Kind(
    bad=lambda base: [None, 1, "ax", [], _fig()], draw=lambda base: st.integers() | _texts
)
KINDS["real|None"] = Kind(
    bad=lambda base: [NAN, INF, -INF, "1.0", True, 1j, [1.0]],
    draw=lambda base: st.sampled_from(_NONFINITE) | _texts | st.booleans(),
)
KINDS["batches"] = Kind(
    bad=lambda b: [
        [],
        iter(b),  # one-shot: trains one epoch, then nothing
        None,
        1.0,
        [(torch.full((2, 3), NAN, dtype=_F64), torch.ones(2, dtype=_F64))],
        [(1.0, 2.0)],
        [torch.ones(2, 3, dtype=_F64)],
    ],
    draw=lambda b: st.text(min_size=1),
)
KINDS["optimizer|None"] = Kind(bad=lambda b: ["sgd", 1, True], draw=lambda b: st.text())
KINDS["record|None"] = Kind(
    bad=lambda b: [{"train": lambda: 1.0}, {"x": 1.0}, [1], "", {1: lambda: 1.0}],
    draw=lambda b: st.text(),
)
KINDS["paths"] = Kind(
    bad=lambda base: [
        {},
        None,
        [f64(1.0, 2.0)],
        "paths",
        {"a": f64(1.0, 2.0, 3.0)},
        {"a": f64(NAN, 1.0).reshape(1, 2)},
        {"a": "abc"},
        {"a": torch.ones(0, 2)},
        {"a": torch.ones(2, 2, dtype=torch.complex128)},
        {"a": None},
        {1: f64(1.0, 2.0).reshape(1, 2)},
    ],
    draw=lambda base: _texts | st.floats() | st.none(),
)
KINDS["targets|None"] = Kind(
    bad=lambda base: [
        {"a": (NAN, 1.0)},
        {"a": (1.0,)},
        [1.0],
        "t",
        {"a": "xy"},
        {"a": None},
        {1: (0.0, 0.0)},
    ],
    draw=lambda base: _texts | st.floats(),
)
KINDS["contour|None"] = Kind(
    bad=lambda base: [
        "c",
        1.0,
        (np.zeros((2, 2)), np.zeros((2, 2))),
        (np.zeros((2, 2)), np.zeros((2, 2)), np.zeros((3, 3))),
        (np.zeros((2, 2)), np.full((2, 2), NAN), np.zeros((2, 2))),
        (np.zeros((2, 2)), np.zeros((2, 2)), "z"),
    ],
    draw=lambda base: _texts | st.floats(),
)

REGISTRY.update(
    {
        "weightreg.optim.SGD": entry(
            lambda: ((_opt_params(),), {"lr": 0.1, "momentum": 0.9, "weight_decay": 0.01}),
            params="params",
            lr="lr",
            momentum="probability",
            weight_decay="nonnegative",
            decoupled="bool",
            then=_opt_step,
        ),
        "weightreg.optim.Adam": entry(
            lambda: ((_opt_params(),), {"lr": 0.1, "weight_decay": 0.01}),
            params="params",
            lr="lr",
            betas="betas",
            eps="positive",
            weight_decay="nonnegative",
            decoupled="bool",
            then=_opt_step,
        ),
        "weightreg.optim_sweep.SweepConfig": entry(
            lambda: (
                (),
                {
                    "optimizer": "adam",
                    "decoupled": True,
                    "lrs": [0.1],
                    "weight_decays": [0.0, 1e-3],
                },
            ),
            optimizer="choice",
            decoupled="bool",
            lrs="positives",
            weight_decays="nonnegatives",
            seeds="seeds",
            hidden="int>=1",
            num_epochs="int>=1",
            batch_size="int>=1",
            momentum="probability",
            betas="betas",
            eps="positive",
            schedule="choice",
            decay_convention="choice",
            dtype="dtype",
            dropout="probability",
            input_dropout="probability",
            label_smoothing="probability",
            history_every="int>=0",
        ),
        "weightreg.optim_sweep.init_mlp": entry(
            lambda: ((4, 3, 2, 0), {"dtype": _F64}),
            num_inputs="int>=1",
            hidden="int>=1",
            num_outputs="int>=1",
            seed="seed",
            dtype="dtype",
        ),
        "weightreg.optim_sweep.minibatch_order": entry(
            lambda: ((10, 3, 2, 0), {}),
            n="int>=1",
            batch_size="int>=1",
            num_epochs="int>=1",
            seed="seed",
            extra={"batch_size": [11]},
        ),
        "weightreg.optim_sweep.schedule_multipliers": entry(
            lambda: ((5,), {"schedule": "cosine"}), num_steps="int>=1", schedule="choice"
        ),
        "weightreg.optim_sweep.sweep": entry(
            lambda: (
                (_tiny_split(), _tiny_config(lrs=[0.1], weight_decays=[1e-3])),
                {"validation": (_tiny_split().X_test, _tiny_split().y_test)},
            ),
            split="split",
            config="sweep_config",
            validation="validation|None",
        ),
        "weightreg.train.evaluate_loss": entry(
            lambda: ((_row_sum, *_xy()), {"loss": _squared_loss()}),
            net="callable",
            X="rows",
            y="sized",
            loss="callable",
        ),
        "weightreg.train.train": entry(
            _train_baseline,
            net="callable",
            params="tensor|list",
            train_iter="batches",
            num_epochs="int>=1",
            lr="lr",
            optimizer="optimizer|None",
            update="callable|None",
            loss="callable",
            penalty="callable|None",
            eval_data="eval_sets|None",
            record="record|None",
        ),
        "weightreg.figures.decay.sweep_heatmap": entry(
            _heatmap_baseline,
            ax="ax",
            result="sweep_result",
            title="str|None",
            ylabel="str|None",
            per_step="bool",
            vmin="real|None",
            vmax="real|None",
            within="nonnegative",
        ),
        "weightreg.figures.decay.trajectory_panel": entry(
            _panel_baseline,
            ax="ax",
            paths="paths",
            targets="targets|None",
            contour="contour|None",
            xlabel="str|None",
            ylabel="str|None",
            title="str|None",
        ),
    }
)


def _squared_loss():
    from weightreg.train import squared_loss

    return squared_loss


# weightreg.claims: tensors or NumPy arrays (both are results a chapter holds)
KINDS["array"] = dataclasses.replace(
    KINDS["tensor"],
    bad=lambda base: [v for v in KINDS["tensor"].bad(base) if not isinstance(v, np.ndarray)],
)
KINDS["array_vector"] = dataclasses.replace(
    KINDS["vector"],
    bad=lambda base: [v for v in KINDS["vector"].bad(base) if not isinstance(v, np.ndarray)],
)
KINDS["axes_names|None"] = Kind(
    bad=lambda base: ["ab", ["lr"], ["lr", 2], 5, ["a", "b", "c"]], draw=lambda base: st.integers()
)
KINDS["name_pair"] = Kind(
    bad=lambda base: ["AB", ("A",), ("A", 1), None, ["A", "B"]], draw=lambda base: st.integers()
)


def _grid() -> torch.Tensor:
    g = torch.ones(3, 3, dtype=torch.float64)
    g[1, 1] = 0.0
    return g


REGISTRY["weightreg.claims.best_inside_grid"] = entry(
    lambda: ((_grid(),), {"minimize": True, "axes_names": ["lr", "decay"]}),
    values="array",
    minimize="bool",
    axes_names="axes_names|None",
)
REGISTRY["weightreg.claims.difference_exceeds_spread"] = entry(
    lambda: ((f64(2.0, 2.1, 1.9, 2.05, 1.95), f64(1.0, 1.1, 0.9, 1.05, 0.95)), {}),
    a="array_vector",
    b="array_vector",
    labels="name_pair",
    min_draws="int>=1",
)

# Modules under rewrite (issue 10): a public callable that cannot be registered yet is listed
# here by name, so that nothing goes unregistered silently; a test fails if a name here no
# longer exists (remove it, and register what replaced it).  Empty now: keep the mechanism.
PENDING: frozenset[str] = frozenset()

# Classes that only carry results (constructed by the package, not by a reader's arguments).
RESULT_TYPES: frozenset[str] = frozenset(
    {
        "weightreg.baseline.BaselineReferences",
        "weightreg.data.Split",
        "weightreg.seeding.Streams",
        "weightreg.proximal.Solution",
        "weightreg.linear.LinearFit",
        "weightreg.widgets.StaticExplorer",  # what explorer() returns in static mode
        "weightreg.optim_sweep.SweepResult",  # what sweep() returns
        "weightreg.train.History",  # what train() returns
    }
)

# --------------------------------------------------------------------------------------------
# The fuzzer

CLEAR, UNCLEAR, SILENT, OK = "clear", "unclear", "silent", "ok"


@dataclass(frozen=True)
class Outcome:
    callable: str
    param: str
    value: str
    outcome: str
    detail: str

    @property
    def module(self) -> str:
        return self.callable.rsplit(".", 1)[0]


def _nonfinite(result: Any) -> bool:
    if isinstance(result, torch.Tensor):
        if result.is_floating_point() or result.is_complex():
            return not bool(torch.isfinite(result.detach()).all())
        return False
    if isinstance(result, float):
        return not math.isfinite(result)
    if isinstance(result, tuple | list):
        return any(_nonfinite(r) for r in result)
    if dataclasses.is_dataclass(result) and not isinstance(result, type):
        return any(_nonfinite(getattr(result, f.name)) for f in dataclasses.fields(result))
    return False


def _names(word: str, text: str) -> bool:
    return re.search(rf"(?<![A-Za-z0-9_]){re.escape(word)}(?![A-Za-z0-9_])", text) is not None


def _short(value: Any) -> str:
    if isinstance(value, torch.Tensor):
        body = repr(value.tolist()) if value.numel() <= 6 else f"shape {tuple(value.shape)}"
        return f"tensor({body}, {value.dtype})"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def call(fn: Callable, args: tuple, kwargs: dict) -> tuple[str, Any, list]:
    """``("ok", result, warnings)`` or ``("raised", exception, warnings)``; figures closed."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = fn(*args, **kwargs)
            status = "ok"
        except Exception as exc:  # noqa: BLE001 (classified, not swallowed)
            result, status = exc, "raised"
        finally:
            plt.close("all")
    return status, result, list(caught)


def classify(key: str, entry: Entry, param: str, value: Any, must_raise: bool) -> Outcome:
    fn = resolve(key)
    args, kwargs = entry.baseline()
    bound = inspect.signature(fn).bind(*args, **kwargs)
    bound.apply_defaults()
    bound.arguments[param] = value
    fn = entry.bind(fn)
    word = entry.names.get(param, param)
    diverging = KINDS[entry.kinds[param]].diverging
    status, result, caught = call(fn, bound.args, bound.kwargs)

    def out(outcome: str, detail: str) -> Outcome:
        return Outcome(key, param, _short(value), outcome, detail[:200])

    def named(text: str) -> bool:
        return _names(word, text) or (diverging and "learning rate" in text)

    if status == "raised":
        text = f"{type(result).__name__}: {result}"
        if isinstance(result, TypeError | ValueError):
            return out(CLEAR if named(str(result)) else UNCLEAR, text)
        if isinstance(result, TrainingDiverged) and diverging:
            return out(CLEAR if named(str(result)) else UNCLEAR, text)
        return out(UNCLEAR, text)
    div = [w for w in caught if issubclass(w.category, DivergenceWarning)]
    if div and diverging:
        return out(CLEAR if named(str(div[0].message)) else UNCLEAR, f"warned: {div[0].message}")
    if div:
        return out(UNCLEAR, f"warned: {div[0].message}")
    if _nonfinite(result) and not entry.allow_inf:
        return out(SILENT, "returned NaN/inf" + ("" if must_raise else " from finite input"))
    return out(SILENT if must_raise else OK, f"returned {_short(result)}")


_CALLABLES: dict[str, Any] = {}


def resolve(key: str) -> Any:
    if not _CALLABLES:
        _CALLABLES.update(public_callables())
    if key not in _CALLABLES:
        module, name = key.rsplit(".", 1)
        _CALLABLES[key] = getattr(importlib.import_module(module), name)
    return _CALLABLES[key]


def check_baseline(key: str, entry: Entry) -> str | None:
    """``None`` when the baseline call returns normally, finite and without a warning."""
    fn = entry.bind(resolve(key))
    args, kwargs = entry.baseline()
    status, result, caught = call(fn, args, kwargs)
    if status == "raised":
        return f"baseline raised {type(result).__name__}: {result}"
    if caught:
        return f"baseline warned: {caught[0].message}"
    if _nonfinite(result) and not entry.allow_inf:
        return "baseline returned NaN/inf"
    return None


class _GlobalState:
    """Save and restore what seed_everything changes (RNGs, threads, determinism)."""

    def __enter__(self):
        self.state = (
            random.getstate(),
            np.random.get_state(),  # noqa: NPY002
            torch.get_rng_state(),
            torch.get_num_threads(),
            torch.are_deterministic_algorithms_enabled(),
            torch.is_deterministic_algorithms_warn_only_enabled(),
            torch.get_default_dtype(),
        )
        return self

    def __exit__(self, *exc):
        py, npy, trng, threads, det, warn_only, dtype = self.state
        random.setstate(py)
        np.random.set_state(npy)  # noqa: NPY002
        torch.set_rng_state(trng)
        torch.set_num_threads(threads)
        torch.use_deterministic_algorithms(det, warn_only=warn_only)
        torch.set_default_dtype(dtype)


def run_battery(registry: dict[str, Entry] | None = None, draws: int = 3) -> list[Outcome]:
    """Every registered callable, every parameter, every bad value: the classified outcomes.

    The fixed catalogue of each kind, plus ``draws`` values drawn by hypothesis per parameter
    (derandomized: the same values every run).
    """
    registry = REGISTRY if registry is None else registry
    outcomes: list[Outcome] = []
    with _GlobalState():
        for key, ent in registry.items():
            args, kwargs = ent.baseline()
            bound = inspect.signature(resolve(key)).bind(*args, **kwargs)
            bound.apply_defaults()
            for param, kind_name in ent.kinds.items():
                kind = KINDS[kind_name]
                base = bound.arguments[param]
                for value in kind.bad(base) + ent.extra.get(param, []):
                    outcomes.append(classify(key, ent, param, value, must_raise=True))
                for value in kind.extreme(base):
                    outcomes.append(classify(key, ent, param, value, must_raise=False))

        strategies = []
        for key, ent in registry.items():
            args, kwargs = ent.baseline()
            bound = inspect.signature(resolve(key)).bind(*args, **kwargs)
            bound.apply_defaults()
            for param, kind_name in ent.kinds.items():
                strategies.append((key, ent, param, KINDS[kind_name].draw(bound.arguments[param])))

        @settings(
            max_examples=draws,
            derandomize=True,
            database=None,
            deadline=None,
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(st.data())
        def fuzz(data):
            for key, ent, param, strategy in strategies:
                value = data.draw(strategy, label=f"{key}({param}=...)")
                outcomes.append(classify(key, ent, param, value, must_raise=True))

        fuzz()
    return outcomes


def summarize(outcomes: list[Outcome]) -> dict[str, dict[str, int]]:
    """``{module: {outcome: count}}`` plus a ``"total"`` row."""
    table: dict[str, dict[str, int]] = {}
    for o in outcomes:
        for row in (o.module, "total"):
            counts = table.setdefault(row, {CLEAR: 0, UNCLEAR: 0, SILENT: 0, OK: 0})
            counts[o.outcome] += 1
    return dict(sorted(table.items(), key=lambda kv: (kv[0] == "total", kv[0])))


# weightreg.baseline: one regression split, a start of its d weights
def _regression_split():
    from weightreg.data import high_dim_regression

    return high_dim_regression(num_inputs=6, n_train=3, n_test=4, dtype=_F64)


def _regression_split_bads(base) -> list[Any]:
    return _split_variants(base, y_wrong_dtype=torch.float32)


KINDS["regression_split"] = Kind(
    bad=_regression_split_bads, draw=lambda base: _texts | st.floats() | st.none()
)
REGISTRY["weightreg.baseline.min_norm_interpolant"] = entry(
    lambda: ((_regression_split().X_train, _regression_split().y_train), {"bias_in_norm": True}),
    X="tensor",
    y="same_shape",
    bias_in_norm="bool",
)
REGISTRY["weightreg.baseline.null_space_part"] = entry(
    lambda: ((_regression_split().X_train, f64(*range(6))), {"b0": 0.5}),
    X="tensor",
    w0="vector",
    b0="real",
)
REGISTRY["weightreg.baseline.references"] = entry(
    lambda: ((_regression_split(),), {"w0": f64(*range(6)), "b0": 0.0}),
    split="regression_split",
    w0="vector|None",
    b0="real",
)
KINDS["vector|None"] = dataclasses.replace(
    KINDS["vector"], bad=lambda base: [v for v in KINDS["vector"].bad(base) if v is not None]
)
KINDS["control_values"] = Kind(
    bad=lambda base: [[], "ab", None, 5, {"a": 1}], draw=lambda base: st.integers() | st.none()
)
REGISTRY["weightreg.widgets.categorical"] = entry(
    lambda: ((["a", "b"],), {}),
    values="control_values",
)


# weightreg.figures.decay.error_colorbar: the heatmap's mesh and its Axes
def _colorbar_baseline():
    from weightreg.figures.decay import sweep_heatmap

    ax = _fig().add_subplot()
    return (sweep_heatmap(ax, _sweep_result()), ax), {"label": "err"}


KINDS["validation|None"] = Kind(  # a pair (X_val, y_val) for the sweep's history
    bad=lambda base: [
        "val",
        base[0],
        (base[0],),
        (base[0][:, :2], base[1]),
        (base[0], base[1][:-1]),
        (base[0], base[1].to(torch.float64)),
    ],
    draw=lambda base: _texts | st.floats(),
)
KINDS["mappable"] = Kind(bad=lambda base: [None, "mesh", 1.0, []], draw=lambda base: _texts)
REGISTRY["weightreg.figures.decay.error_colorbar"] = entry(
    _colorbar_baseline, mesh="mappable", ax="ax", label="str"
)


# weightreg.figures.lk: the L1 and L0.5 pictures (issue 11)
REGISTRY["weightreg.figures.lk.step_table_markdown"] = entry(
    lambda: ((1.5,), {"alpha": 0.1, "lr": 0.1, "sizes": (2.0, 0.1)}),
    k="positive",
    alpha="nonnegative",
    lr="positive",
    sizes="sizes",
)
REGISTRY["weightreg.figures.lk.draw_prox_maps"] = entry(
    lambda: ((_fig(), 0.5), {"zlim": 1.5}), fig="figure", tau="positive", zlim="positive"
)
REGISTRY["weightreg.figures.lk.draw_implicit_euler"] = entry(
    lambda: ((_fig(), 1.0, 1.0, 0.1), {"w0": 1.0, "steps": 4}),
    fig="figure",
    k="prox_k",
    alpha="positive",
    lr="positive",
    w0="real",
    steps="int>=1",
)
REGISTRY["weightreg.figures.lk.draw_ball_optima"] = entry(
    lambda: ((_fig(), _c_quad(), 1.0, f64(1.0, 0.0), f64(0.9, 0.4)), {"lim": 2.4}),
    fig="figure",
    quad="quad",
    radius="positive",
    w_l1="point2",
    w_l2="point2",
    lim="positive",
)
REGISTRY["weightreg.figures.lk.draw_priors"] = entry(
    lambda: ((_fig(),), {"scale": 1.0, "wlim": 4.0}),
    fig="figure",
    scale="positive",
    wlim="positive",
)


# weightreg.dropout: dropout as an adaptive L2 (issue 12)
REGISTRY["weightreg.dropout.dropout_penalty"] = entry(
    lambda: (
        (torch.arange(12, dtype=torch.float64).reshape(4, 3) / 10, f64(0.1, -0.2, 0.3), 0.5),
        {},
    ),
    X="matrix",
    w="shaped",
    p="probability",
)


# weightreg.early_stopping: the two spectral filters (issue 12)
KINDS["eigvals"] = _tensor(lambda b: [-b - 1.0])  # a floating tensor of any shape, entries >= 0
REGISTRY["weightreg.early_stopping.gd_filter"] = entry(
    lambda: ((f64(0.0, 0.1, 0.5, 1.0), 0.5, 7), {}),
    eigvals="eigvals",
    lr="positive",
    steps="int>=0",
)
REGISTRY["weightreg.early_stopping.ridge_filter"] = entry(
    lambda: ((f64(0.0, 0.1, 0.5, 1.0), 0.2), {}), eigvals="eigvals", alpha="nonnegative"
)


# weightreg.penalties.prox_elastic_net and weightreg.selection (issue 12, elastic net)
def _unit_or_tensor_bads(base):
    z = torch.ones(3, dtype=torch.float64)
    return [
        NAN,
        INF,
        -0.1,
        1.5,
        *_WRONG_TYPES,
        torch.tensor([0.5, 1.5, 0.2]),
        -z,
        z.to(torch.int64),
        z.to(torch.complex128),
        torch.tensor([NAN, 0.5, 0.5]),
        torch.ones(7, 5, 3),
    ]


KINDS["unit|tensor"] = Kind(
    bad=_unit_or_tensor_bads,
    draw=lambda base: _neg() | st.floats(min_value=1.0001, allow_infinity=False) | _texts,
)
KINDS["positive|vector"] = Kind(
    bad=lambda base: [
        0.0,
        -1.0,
        NAN,
        INF,
        *_WRONG_TYPES,
        f64(1.0, -1.0),
        f64(1.0, 0.0),
        f64(1.0, NAN),
        torch.ones(2, 2, dtype=torch.float64),
        torch.ones(2, dtype=torch.int64),
        torch.ones(2, dtype=torch.complex128),
        torch.empty(0, dtype=torch.float64),
    ],
    draw=lambda base: st.floats(max_value=0.0, allow_infinity=False) | _texts | st.booleans(),
    extreme=lambda base: [1e300, f64(1e-3, 1e300)],
)
KINDS["seed|None"] = Kind(
    bad=lambda base: [-1, 1.5, "0", True, np.float64(1.0)],
    draw=lambda base: st.integers(max_value=-1) | st.floats() | _texts,
)
REGISTRY["weightreg.penalties.prox_elastic_net"] = entry(
    lambda: ((vec(), 0.3, 0.5), {}), z="tensor", t="nonneg|tensor", l1_ratio="unit|tensor"
)
REGISTRY["weightreg.selection.ridge_loo_residuals"] = entry(
    lambda: ((*_xy(), 1.0), {}), X="matrix", y="sized", alpha="positive|vector"
)
REGISTRY["weightreg.selection.ridge_gcv"] = entry(
    lambda: ((*_xy(), f64(0.1, 1.0)), {}), X="matrix", y="sized", alpha="positive|vector"
)
REGISTRY["weightreg.selection.kfold_indices"] = entry(
    lambda: ((10, 3), {"seed": 0}),
    n="int>=2",
    k="int>=2",
    seed="seed|None",
    extra={"k": [11, 100]},
)
REGISTRY["weightreg.selection.one_standard_error"] = entry(
    lambda: ((torch.arange(12, dtype=torch.float64).reshape(3, 4) % 5,), {}),
    fold_errors="matrix",
    extra={"fold_errors": [torch.ones(1, 4, dtype=torch.float64)]},
)


# weightreg.bayes: the evidence of Bayesian ridge (issue 12)
KINDS["precision"] = Kind(  # a number > 0 or a 0-d/1-D float tensor of them (alpha, beta)
    bad=lambda base: [
        NAN,
        INF,
        0.0,
        -1.0,
        -1e-12,
        *_WRONG_TYPES,
        -torch.ones(3, dtype=torch.float64),
        torch.ones(3, dtype=torch.int64),
        torch.ones(3, dtype=torch.complex128),
        torch.tensor([NAN, 1.0, 1.0]),
        torch.ones(2, 2, dtype=torch.float64),
    ],
    draw=lambda base: _neg() | st.just(0.0) | st.just(NAN) | _texts | st.booleans(),
    extreme=lambda base: [1e-8, 1e8, torch.tensor([1e-8, 1.0, 1e8], dtype=torch.float64)],
)
REGISTRY["weightreg.bayes.ridge_log_evidence"] = entry(
    lambda: ((*_xy(), 0.5, 2.0), {}), X="matrix", y="sized", alpha="precision", beta="precision"
)


# weightreg.label_smoothing (issue 12)
KINDS["(0,1]"] = _numbers(
    [0.0, -0.1, 1.5, 1.0 + 1e-9],
    st.floats(min_value=1.0, exclude_min=True, allow_infinity=False)
    | st.floats(max_value=0.0, allow_infinity=False),
    [1e-300, 5e-324, 1.0],
)
REGISTRY["weightreg.label_smoothing.optimal_logit_gap"] = entry(
    lambda: ((10, 0.1), {}), num_classes="int>=2", eps="(0,1]"
)


# weightreg.normalization.exponential_lr_schedule (issue 13, the scale-invariance chapter)
REGISTRY["weightreg.normalization.exponential_lr_schedule"] = entry(
    lambda: ((0.1, 0.01, 10), {}), lr="positive", weight_decay="positive", steps="int>=1"
)


# weightreg.timescale: AdamW's weights as a moving average of its updates (issue 13)
KINDS["updates"] = _tensor(  # (T, *w0.shape): a wrong trailing shape or no step axis is refused
    lambda b: [b[:, :-1].clone(), b[0].clone(), b.unsqueeze(-1).clone()], False
)


def _ts_updates() -> torch.Tensor:
    return torch.linspace(-1, 1, 15, dtype=torch.float64).reshape(5, 3)


REGISTRY["weightreg.timescale.timescale_iters"] = entry(
    lambda: ((0.01, 0.5), {}), lr="positive", weight_decay="positive"
)
REGISTRY["weightreg.timescale.timescale_epochs"] = entry(
    lambda: ((0.01, 0.5, 600, 25), {}),
    lr="positive",
    weight_decay="positive",
    n="int>=1",
    batch_size="int>=1",
)
REGISTRY["weightreg.timescale.ema_weights"] = entry(
    lambda: ((vec()[:3].clone(), _ts_updates(), 0.05, 0.5), {}),
    w0="shaped",
    updates="updates",
    lr="lr_tensor",
    weight_decay="nonnegative",
)


# weightreg.normalization: the equilibrium of weight decay (issue 13, ch-equilibrium)
KINDS["number|numbers>0"] = Kind(  # a number > 0 or a non-empty sequence of them
    bad=lambda base: [NAN, INF, 0.0, -1.0, "1.0", None, True, 1j, [], [NAN], ["a"], [0.0], [-1.0]],
    draw=lambda base: _neg() | st.just(0.0) | st.just(NAN) | _texts | st.booleans(),
)
KINDS["number|numbers>=0"] = Kind(  # a number >= 0 or a non-empty sequence of them
    bad=lambda base: [NAN, INF, -1.0, "1.0", None, True, 1j, [], [NAN], ["a"], [-1.0]],
    draw=lambda base: _neg() | st.just(NAN) | _texts | st.booleans(),
)
REGISTRY["weightreg.normalization.equilibrium_angle"] = entry(
    lambda: (("adamw", 1e-3, 0.5), {"momentum": 0.9, "betas": (0.9, 0.999)}),
    optimizer="choice",
    lr="positive",
    weight_decay="positive",
    momentum="probability",
    betas="betas",
)
REGISTRY["weightreg.normalization.adamw_equilibrium_norm"] = entry(
    lambda: ((1e-3, 0.5, 100), {}), lr="positive", weight_decay="positive", num_entries="int>=1"
)
REGISTRY["weightreg.normalization.sgd_equilibrium_norm"] = entry(
    lambda: ((0.1, 1e-3, 2.0), {"momentum": 0.9}),
    lr="positive",
    weight_decay="positive",
    grad_norm="positive",
    momentum="probability",
)
REGISTRY["weightreg.normalization.simulate_equilibrium"] = entry(
    lambda: (
        ("sgd", (0.1, 0.2), (0.01, 0.02)),
        {"momentum": 0.5, "num_entries": 4, "steps": 3, "seeds": (0, 1)},
    ),
    optimizer="choice",
    lr="number|numbers>0",
    weight_decay="number|numbers>=0",
    momentum="probability",
    betas="betas",
    eps="positive",
    num_entries="int>=2",
    steps="int>=1",
    seeds="seeds",
    init_norm="positive",
    dtype="dtype",
)
RESULT_TYPES = RESULT_TYPES | {"weightreg.normalization.EquilibriumRun"}
# issue 13: SweepConfig's BatchNorm option (helper E)
REGISTRY["weightreg.optim_sweep.SweepConfig"] = dataclasses.replace(
    REGISTRY["weightreg.optim_sweep.SweepConfig"],
    kinds={**REGISTRY["weightreg.optim_sweep.SweepConfig"].kinds, "normalization": "choice"},
)


# weightreg.param_groups and weightreg.transformer (issue 13, the practice chapter)
KINDS["module"] = Kind(  # a torch.nn.Module with trainable parameters
    bad=lambda base: [
        None,
        "model",
        1.0,
        torch.ones(3),
        [torch.nn.Linear(2, 2)],
        torch.nn.Linear(2, 2).requires_grad_(False),
    ],
    draw=lambda base: _texts | st.floats() | st.none(),
)
KINDS["name_set"] = Kind(  # a set of parameter names
    bad=lambda base: [None, "tok_emb.weight", 1.0, {1, 2}, [None]],
    draw=lambda base: st.integers() | st.floats() | st.none(),
)
KINDS["positive|None"] = Kind(
    bad=lambda base: [0.0, -1.0, NAN, INF, "1", True],
    draw=lambda base: st.floats(max_value=0.0) | _texts,
)
KINDS["char_corpus"] = Kind(
    bad=lambda base: [None, "some text", torch.arange(5), {"train": torch.arange(5)}],
    draw=lambda base: _texts | st.floats() | st.none(),
)
KINDS["run_configs"] = Kind(
    bad=lambda base: [None, [], "nanogpt", ["nanogpt"], base[0], [base[0], 1.0]],
    draw=lambda base: _texts | st.floats() | st.none(),
)
KINDS["model_kwargs|None"] = Kind(
    bad=lambda base: ["width", 1, [("width", 4)], {"seed": 1}, {"width": 0}, {"norm": "batch"}],
    draw=lambda base: _texts | st.floats(),
)


def _tiny_corpus():
    from weightreg.transformer import CharCorpus

    return CharCorpus(torch.arange(60) % 5, torch.arange(30) % 5, "abcde", ("tiny",))


def _tiny_configs():
    from weightreg.transformer import RunConfig

    return [RunConfig(frozenset({"tok_emb.weight", "blocks.0.fc.weight"}), 0.1, 1.0)]


_TINY_GPT = {"width": 4, "context": 4, "heads": 2, "layers": 1}

REGISTRY["weightreg.param_groups.decay_groups"] = entry(
    lambda: ((torch.nn.Linear(3, 2), "nanogpt"), {"weight_decay": 0.1}),
    model="module",
    rule="choice",
    weight_decay="nonnegative",
)
REGISTRY["weightreg.param_groups.decay_parameter_names"] = entry(
    lambda: ((torch.nn.Linear(3, 2), "huggingface"), {}), model="module", rule="choice"
)
REGISTRY["weightreg.transformer.char_corpus"] = entry(
    lambda: ((), {"validation_every": 10, "block": 500}),
    validation_every="int>=2",
    block="int>=1",
)
REGISTRY["weightreg.transformer.CharGPT"] = entry(
    lambda: ((5,), {"context": 4, "width": 4, "layers": 1, "heads": 2, "norm": "layer", "seed": 0}),
    vocab_size="int>=2",
    context="int>=1",
    width="int>=1",
    layers="int>=1",
    heads="int>=1",
    norm="choice",
    seed="seed",
)
REGISTRY["weightreg.transformer.RunConfig"] = entry(
    lambda: ((frozenset({"tok_emb.weight"}),), {"weight_decay": 0.1, "clip": 1.0, "label": "x"}),
    decay="name_set",
    weight_decay="nonnegative",
    clip="positive|None",
    label="str",
)
REGISTRY["weightreg.transformer.train_char_gpt"] = entry(
    lambda: (
        (_tiny_corpus(), _tiny_configs()),
        {
            "seeds": (0, 1),
            "steps": 2,
            "batch_size": 2,
            "lr": 1e-2,
            "betas": (0.9, 0.95),
            "model_kwargs": dict(_TINY_GPT),
            "eval_every": 1,
            "dtype": torch.float32,
        },
    ),
    corpus="char_corpus",
    configs="run_configs",
    seeds="seeds",
    steps="int>=1",
    batch_size="int>=1",
    lr="lr",
    betas="betas",
    model_kwargs="model_kwargs|None",
    eval_every="int>=0",
    dtype="dtype",
)
RESULT_TYPES = RESULT_TYPES | frozenset(
    {"weightreg.transformer.CharCorpus", "weightreg.transformer.GPTRuns"}
)
REGISTRY["weightreg.optim_sweep.SweepConfig"] = dataclasses.replace(
    REGISTRY["weightreg.optim_sweep.SweepConfig"],
    kinds={**REGISTRY["weightreg.optim_sweep.SweepConfig"].kinds, "decay_w2": "bool"},
)


# weightreg.normalization.angle (the angular update of ch-equilibrium)
REGISTRY["weightreg.normalization.angle"] = entry(
    lambda: ((f64([1.0, 0.0, 2.0], [0.5, 1.0, 0.0]), f64([0.0, 1.0, 1.0], [1.0, 0.2, 0.3])), {}),
    a="tensor",
    b="tensor",
)
