"""The bad-input battery (issue 10): every public callable, fuzzed one argument at a time.

Bad input must give a clear error naming the argument, never a silent wrong answer.  The
registry, the kinds of parameters and the fuzzer live in ``tests/badinput.py``; register a new
helper there the day it is added.  ``pytest -s`` prints the summary; it is also written to
``_build/bad_input_battery.json``.
"""

from __future__ import annotations

import functools
import inspect
import json
import math
from collections import Counter
from pathlib import Path

import badinput as bi
import pytest

ROOT = Path(__file__).resolve().parents[1]
MAX_UNCLEAR = 0.05

# Silent results known in other engineers' modules (being rewritten now): strict xfail, so the
# day the owner fixes one the test XPASSes and fails, asking to delete the line here.
KNOWN_SILENT: dict[str, str] = {}


@functools.cache
def outcomes() -> tuple[bi.Outcome, ...]:
    return tuple(bi.run_battery())


def test_every_public_callable_is_registered():
    found = bi.public_callables()
    missing = sorted(
        key
        for key, obj in found.items()
        if key not in bi.REGISTRY
        and key not in bi.PENDING
        and key not in bi.RESULT_TYPES
        and not bi.is_exception_type(obj)
    )
    assert not missing, (
        "public callables without a bad-input registry entry (add one to REGISTRY in "
        f"tests/badinput.py): {missing}"
    )


def test_pending_and_registered_names_exist():
    found = bi.public_callables()
    gone = sorted((bi.PENDING | set(bi.REGISTRY) | bi.RESULT_TYPES) - set(found))
    assert not gone, (
        f"no longer public callables of weightreg (remove them from tests/badinput.py, and "
        f"register what replaced them): {gone}"
    )
    both = sorted(bi.PENDING & set(bi.REGISTRY))
    assert not both, f"both registered and pending (remove them from PENDING): {both}"


@pytest.mark.parametrize("key", sorted(bi.REGISTRY))
def test_registry_entry_is_complete_and_its_baseline_is_valid(key):
    entry = bi.REGISTRY[key]
    fn = bi.resolve(key)
    params = [
        name
        for name, p in inspect.signature(fn).parameters.items()
        if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    ]
    assert sorted(entry.kinds) == sorted(params), f"a kind for every parameter of {key}"
    unknown = {k for k in entry.kinds.values() if k not in bi.KINDS}
    assert not unknown, f"unknown kinds {unknown}: add them to KINDS"
    with bi._GlobalState():
        problem = bi.check_baseline(key, entry)
    assert problem is None, f"{key}: {problem}"


def _silent_params():
    marks = {
        key: pytest.mark.xfail(strict=True, reason=reason) for key, reason in KNOWN_SILENT.items()
    }
    return [pytest.param(k, marks=marks[k]) if k in marks else k for k in sorted(bi.REGISTRY)]


@pytest.mark.parametrize("key", _silent_params())
def test_no_silent_result(key):
    silent = [o for o in outcomes() if o.callable == key and o.outcome == bi.SILENT]
    assert not silent, "\n".join(f"{o.param}={o.value}: {o.detail}" for o in silent)


def test_unclear_errors_are_rare():
    counts = Counter(o.outcome for o in outcomes())
    errors = [o for o in outcomes() if o.outcome != bi.OK]
    unclear = [o for o in errors if o.outcome == bi.UNCLEAR]
    assert len(unclear) <= MAX_UNCLEAR * len(errors), (
        f"{len(unclear)} unclear of {len(errors)} ({dict(counts)}):\n"
        + "\n".join(f"{o.callable}({o.param}={o.value}): {o.detail}" for o in unclear[:40])
    )


def test_battery_summary_is_written():
    table = bi.summarize(list(outcomes()))
    width = max(len(m) for m in table)
    lines = [f"{'module':{width}}  clear unclear silent    ok"]
    lines += [
        f"{m:{width}}  {c['clear']:5d} {c['unclear']:7d} {c['silent']:6d} {c['ok']:5d}"
        for m, c in table.items()
    ]
    print("\nbad-input battery\n" + "\n".join(lines))
    path = ROOT / "_build" / "bad_input_battery.json"
    path.parent.mkdir(exist_ok=True)
    detail = [o.__dict__ for o in outcomes() if o.outcome in (bi.UNCLEAR, bi.SILENT)]
    path.write_text(json.dumps({"summary": table, "problems": detail}, indent=1))
    assert table["total"]["clear"] > 0


def _lenient(x, flag=False):
    return x * 2


def _strict(x, flag=False):
    if not isinstance(x, float) or not math.isfinite(x) or x <= 0:
        raise ValueError(f"x must be a number > 0, got {x!r}")
    if not isinstance(flag, bool):
        raise TypeError("the option must be a bool")  # does not name the argument
    return x


def _crashes(x, flag=False):
    return {}[x]


@pytest.mark.parametrize(
    ("fn", "expected"),
    [
        (_lenient, {bi.SILENT, bi.UNCLEAR}),
        (_strict, {bi.CLEAR, bi.UNCLEAR, bi.OK}),
        (_crashes, {bi.UNCLEAR}),
    ],
)
def test_the_battery_tells_clear_unclear_and_silent_apart(fn, expected):
    key = f"tests.{fn.__name__}"
    bi._CALLABLES[key] = fn
    registry = {key: bi.entry(lambda: ((1.0,), {}), x="positive", flag="bool")}
    got = bi.run_battery(registry, draws=1)
    assert {o.outcome for o in got} - {bi.OK} <= expected and got
    if fn is _lenient:  # "1.0" * 2, inf * 2, True * 2: returned
        assert ("x", bi.SILENT) in {(o.param, o.outcome) for o in got}
    by_param = {(o.param, o.outcome) for o in got}
    if fn is _strict:
        assert ("x", bi.CLEAR) in by_param and ("flag", bi.UNCLEAR) in by_param
        assert ("x", bi.SILENT) not in by_param
