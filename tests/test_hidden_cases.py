"""The hidden test cases of the nbgrader course (``tools/hidden_cases.py``), without nbgrader.

Each hidden case is a code template run in the student's kernel after the chapter (see
``tools/grading.py``).  Here it runs in a fresh namespace holding one answer, with the
chapter's default dtype, exactly as the grader's test cell would run it (``_HIDDEN_COMPARE``,
then ``HIDDEN[name].format(fn=<the answer's function>)``):

1. every self-check called in a chapter's check cell has hidden cases, and no entry is stale;
2. every correct answer of the collection ``tests/fixtures/answers/<check>.yaml`` passes them;
3. a stub that raises ``NotImplementedError`` fails them, and so do at least one of the
   collection's mistakes (or, for a check the collection does not cover yet, one of the
   mistakes written below); ``test_catch_counts`` prints how many mistakes each check's
   hidden cases catch;
4. the chapter's own reference solution (its cell tagged ``solution``, run with the names the
   chapter's first code cell imports) passes them.

No chapter is executed: a hidden case only needs the answer's function and the library.
"""

from __future__ import annotations

import ast
import contextlib
import io
import linecache
import math
import re
import warnings
from pathlib import Path

import jupytext
import numpy as np
import pytest
import torch
import torch.nn.functional as F
import yaml
from conftest import load_tool

ROOT = Path(__file__).resolve().parents[1]
ANSWERS = ROOT / "tests" / "fixtures" / "answers"
DTYPES = {"float32": torch.float32, "float64": torch.float64}
CALL = re.compile(r"^check\.(\w+)\((\w+)", flags=re.M)

hidden_cases = load_tool("hidden_cases")
HIDDEN: dict[str, str] = hidden_cases.HIDDEN


def _chapter_calls() -> dict[str, tuple[Path, str]]:
    """Check name -> (chapter, the student's function) for every check cell of the book."""
    found = {}
    for chapter in sorted((ROOT / "book").rglob("*.md")):
        if "reference" in chapter.relative_to(ROOT / "book").parts[:1]:
            continue
        for name, function in CALL.findall(chapter.read_text()):
            found[name] = (chapter, function)
    return found


CALLS = _chapter_calls()


def _corpus(name: str) -> dict | None:
    path = ANSWERS / f"{name}.yaml"
    return yaml.safe_load(path.read_text()) if path.exists() else None


CORPUS = {name: data for name in sorted(HIDDEN) if (data := _corpus(name)) is not None}


def _chapter_dtype(chapter: Path) -> torch.dtype:
    """The default dtype the chapter's first code cell sets (torch's float32 otherwise)."""
    setup = _first_code_cell(chapter)
    if re.search(r"set_default_dtype\((torch\.float64|f64|torch\.double)\)", setup):
        return torch.float64
    return torch.float32


def _first_code_cell(chapter: Path) -> str:
    nb = jupytext.read(chapter)
    return next(c.source for c in nb.cells if c.cell_type == "code")


@contextlib.contextmanager
def _default_dtype(dtype: torch.dtype):
    previous = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        yield
    finally:
        torch.set_default_dtype(previous)


def _exec(code: str, filename: str, namespace: dict) -> None:
    """Run code as a notebook cell would (its source registered for tracebacks)."""
    linecache.cache[filename] = (len(code), None, code.splitlines(keepends=True), filename)
    exec(compile(code, filename, "exec"), namespace)


def run_hidden(name: str, code: str, function: str, dtype: torch.dtype, namespace=None) -> str:
    """'' if the answer (``code`` defining ``function``) passes the hidden cases of ``name``,
    else the exception it raised, in one line."""
    namespace = {"__name__": "__main__"} if namespace is None else namespace
    out = io.StringIO()
    with (
        _default_dtype(dtype),
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(out),
        warnings.catch_warnings(),
    ):
        warnings.simplefilter("ignore")
        try:
            _exec(code, f"<answer of {name}>", namespace)
            _exec(hidden_cases._HIDDEN_COMPARE, "<hidden compare>", namespace)
            _exec(HIDDEN[name].format(fn=function), f"<hidden {name}>", namespace)
        except Exception as e:  # noqa: BLE001 - any exception fails the hidden test cell
            return f"{type(e).__name__}: {e}".splitlines()[0][:200] or type(e).__name__
    return ""


# Typical mistakes for the checks the collection does not cover yet (used only while
# tests/fixtures/answers/<check>.yaml is absent): (function's code, what it gets wrong).
EXTRA_MISTAKES = {
    "decay_free_run": [
        "import torch\n"
        "def my_decay_free_run(grad_fn, w0, lr, weight_decay, steps):\n"
        "    q = 1 - lr * weight_decay\n"
        "    w, out = w0.clone(), [w0.clone()]\n"
        "    for t in range(steps):\n"
        "        w = w - lr * q ** (-2 * t) * grad_fn(w)\n"
        "        out.append(w)\n"
        "    return torch.stack(out)\n",
    ],
    "consecutive_angles": [
        "import torch\n"
        "def my_angles(W):\n"
        "    a = W[..., :-1, :] / W[..., :-1, :].norm(dim=-1, keepdim=True)\n"
        "    b = W[..., 1:, :] / W[..., 1:, :].norm(dim=-1, keepdim=True)\n"
        "    return torch.asin(((a - (a * b).sum(-1, keepdim=True) * b)).norm(dim=-1))\n",
        "def my_angles(W):\n    return (W[..., 1:, :] - W[..., :-1, :]).norm(dim=-1)\n",
    ],
    "clip_grad_norm": [
        "import torch\n"
        "def my_clip_grad_norm(grads, max_norm):\n"
        "    return [g * torch.clamp(max_norm / g.norm(), max=1.0) for g in grads]\n",
        "def my_clip_grad_norm(grads, max_norm):\n"
        "    return [g.clamp(-max_norm, max_norm) for g in grads]\n",
    ],
    "weight_angle": [
        "import torch\n"
        "def my_weight_angle(W_before, W_after):\n"
        "    u, v = W_before.flatten(), W_after.flatten()\n"
        "    return torch.acos(torch.clamp(u @ v / (u.norm() * v.norm()), -1, 1))\n",
        "import math\n"
        "def my_weight_angle(W_before, W_after):\n"
        "    u, v = W_before.flatten(), W_after.flatten()\n"
        "    return math.degrees(float((u @ v / (u.norm() * v.norm())).clamp(-1, 1).acos()))\n",
    ],
    "ema_weights": [
        "def my_ema_weights(w0, updates, lrs, weight_decay):\n"
        "    w = w0.clone()\n"
        "    for u, lr in zip(updates, lrs):\n"
        "        w = (1 - weight_decay) * w - lr * u\n"
        "    return w\n",
    ],
}


def _mistakes(name: str) -> list[tuple[str, str, str]]:
    """``(id, code, function)`` of the mistakes for check ``name``."""
    data = CORPUS.get(name)
    if data is not None:
        return [
            (a["id"], a["code"], data["function"])
            for a in data["answers"]
            if a["verdict"] == "fail"
        ]
    function = CALLS[name][1]
    return [(f"{name}-extra-{i}", c, function) for i, c in enumerate(EXTRA_MISTAKES.get(name, []))]


def _dtype(name: str) -> torch.dtype:
    data = CORPUS.get(name)
    return DTYPES[data["dtype"]] if data is not None else _chapter_dtype(CALLS[name][0])


# (1) coverage --------------------------------------------------------------------------------


def test_every_chapter_check_has_hidden_cases():
    assert len(CALLS) >= 25, sorted(CALLS)
    missing = sorted(set(CALLS) - set(HIDDEN))
    assert not missing, f"checks called by a chapter without hidden cases: {missing}"
    stale = sorted(set(HIDDEN) - set(CALLS))
    assert not stale, f"hidden cases of checks no chapter calls: {stale}"


@pytest.mark.parametrize("name", sorted(HIDDEN))
def test_template_defines_only_private_names(name):
    """The hidden code runs in the student's kernel: every name it binds starts with '_'."""
    code = hidden_cases._HIDDEN_COMPARE + HIDDEN[name].format(fn="my_function")
    bound = set()
    for node in ast.parse(code).body:
        if isinstance(node, ast.FunctionDef | ast.ClassDef):
            bound.add(node.name)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            bound |= {(a.asname or a.name).split(".")[0] for a in node.names}
        else:
            for sub in ast.walk(node):
                if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Store):
                    bound.add(sub.id)
    public = sorted(b for b in bound if not b.startswith("_"))
    assert not public, f"{name}: the hidden code binds {public} in the student's kernel"


# (2) every correct answer of the collection passes ---------------------------------------------

CORRECT = [
    (name, answer)
    for name, data in CORPUS.items()
    for answer in data["answers"]
    if answer["verdict"] == "pass"
]


@pytest.mark.parametrize(("name", "answer"), CORRECT, ids=[a["id"] for _, a in CORRECT])
def test_correct_answer_passes(name, answer):
    """In the collection's dtype, and in the one the chapter's setup cell sets if it differs."""
    data = CORPUS[name]
    for dtype in dict.fromkeys([DTYPES[data["dtype"]], _chapter_dtype(CALLS[name][0])]):
        reason = run_hidden(name, answer["code"], data["function"], dtype)
        assert not reason, f"{answer['id']} ({answer['note']}), {dtype}: {reason}"


# (3) stubs and mistakes fail ----------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(HIDDEN))
def test_stub_fails(name):
    function = CALLS[name][1]
    stub = f"def {function}(*args, **kwargs):\n    raise NotImplementedError\n"
    assert run_hidden(name, stub, function, _dtype(name)).startswith("NotImplementedError")


def _catch_counts() -> dict[str, tuple[int, int, list[str]]]:
    counts = {}
    for name in sorted(HIDDEN):
        mistakes = _mistakes(name)
        missed = [i for i, code, fn in mistakes if not run_hidden(name, code, fn, _dtype(name))]
        counts[name] = (len(mistakes) - len(missed), len(mistakes), missed)
    return counts


def test_catch_counts():
    counts = _catch_counts()
    lines = ["hidden cases: mistakes caught per check (source: collection or extra)"]
    for name, (caught, total, missed) in counts.items():
        source = "collection" if name in CORPUS else "extra"
        lines.append(f"  {name:24s} {caught:2d}/{total:<2d} {source:10s} missed: {missed or '-'}")
    caught = sum(c for c, _, _ in counts.values())
    total = sum(t for _, t, _ in counts.values())
    lines.append(f"  total {caught}/{total}")
    print("\n".join(lines))
    none_caught = [n for n, (c, t, _) in counts.items() if t and not c]
    assert not none_caught, f"hidden cases catch none of the mistakes of {none_caught}"
    without = [n for n, (_, t, _) in counts.items() if not t]
    assert not without, f"no mistake to measure the hidden cases of {without} with"


# (4) the chapter's reference solution passes -------------------------------------------------


def _solution_cell(chapter: Path, function: str) -> str:
    nb = jupytext.read(chapter)
    for cell in nb.cells:
        tags = cell.metadata.get("tags", [])
        if "solution" in tags and re.search(rf"^def {function}\(", cell.source, flags=re.M):
            lines = cell.source.splitlines()
            kept = [ln for ln in lines if ln.strip() not in ("# BEGIN SOLUTION", "# END SOLUTION")]
            return "\n".join(kept) + "\n"
    raise AssertionError(f"{chapter.name}: no solution cell defines {function}")


def _setup_namespace(chapter: Path) -> dict:
    """torch, math, numpy, F and every name the chapter's first code cell imports."""
    namespace = {"__name__": "__main__", "torch": torch, "math": math, "np": np, "F": F}
    tree = ast.parse(_first_code_cell(chapter))
    imports = [node for node in tree.body if isinstance(node, ast.Import | ast.ImportFrom)]
    code = ast.unparse(ast.Module(body=imports, type_ignores=[]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        exec(compile(code, f"<imports of {chapter.name}>", "exec"), namespace)
    return namespace


@pytest.mark.parametrize("name", sorted(HIDDEN))
def test_reference_solution_passes(name):
    chapter, function = CALLS[name]
    solution = _solution_cell(chapter, function)
    namespace = _setup_namespace(chapter)
    reason = run_hidden(name, solution, function, _chapter_dtype(chapter), namespace)
    assert not reason, f"{chapter.relative_to(ROOT)}: the reference solution fails: {reason}"
