"""The self-checks measured on a collection of student answers (issue 14, "Done when").

``tests/fixtures/answers/<check>.yaml`` holds, for every code exercise of the chapters it
covers, answers written the way students write them, independently of the checks: correct
variants (``verdict: pass``) written differently from the reference solution, and typical
mistakes (``verdict: fail``) with ``keywords``, words of which at least one must appear in the
check's message for the mistake to count as *named*. A correct answer with ``note_keywords``
must pass with a printed note that contains one of them (a float32 result in a float64
chapter: the dtype policy of ``weightreg.check._core`` accepts it and says so). Each
answer's code is run as a notebook cell would run it (its own namespace, its source
registered with ``linecache``, the chapter's default dtype) and handed to
``weightreg.check.<check>``.

Targets: every correct answer accepted, at least 98% of the mistakes caught with a message
that names them. A check that raises anything but ``CheckFailed`` is a crash: wrong for every
answer.
"""

from __future__ import annotations

import contextlib
import io
import linecache
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch
import yaml

import weightreg.check as check

ROOT = Path(__file__).resolve().parent.parent
ANSWERS = ROOT / "tests" / "fixtures" / "answers"
# The chapters the collection covers.
CHAPTERS = [
    ROOT / "book" / "overfitting.md",
    *sorted((ROOT / "book" / "lk").glob("*.md")),
    *sorted((ROOT / "book" / "constraints").glob("*.md")),
    *sorted((ROOT / "book" / "decay").glob("*.md")),
    *sorted((ROOT / "book" / "implicit").glob("*.md")),
    *sorted((ROOT / "book" / "normalized").glob("*.md")),
]
DTYPES = {"float32": torch.float32, "float64": torch.float64}
MIN_ANSWERS, MIN_CORRECT, MIN_MISTAKES = 150, 3, 4
TARGET_CORRECT, TARGET_CAUGHT = 1.0, 0.98


def _load() -> list[dict]:
    return [yaml.safe_load(p.read_text()) | {"_path": p} for p in sorted(ANSWERS.glob("*.yaml"))]


FILES = _load()
ENTRIES = [(data, answer) for data in FILES for answer in data.get("answers", [])]


def _chapter_checks() -> dict[str, Path]:
    """Check name -> the chapter (covered here) whose check cell calls it."""
    found = {}
    for chapter in CHAPTERS:
        for name in re.findall(r"^check\.(\w+)\(", chapter.read_text(), flags=re.M):
            if name in check.__all__:
                found[name] = chapter
    return found


@dataclass
class Outcome:
    passed: bool | None  # None: the check crashed
    message: str
    crash: str = ""
    notes: str = ""


_CACHE: dict[str, Outcome] = {}


def _function(data: dict, answer: dict):
    """Run the answer's code as a notebook cell and return the function it defines."""
    filename = f"<answer {answer['id']}>"
    code = answer["code"]
    linecache.cache[filename] = (len(code), None, code.splitlines(keepends=True), filename)
    namespace = {"__name__": "__main__"}
    exec(compile(code, filename, "exec"), namespace)
    return namespace[data["function"]]


def run_answer(data: dict, answer: dict) -> Outcome:
    """The check's verdict on one answer (cached: every answer runs once per session)."""
    if answer["id"] in _CACHE:
        return _CACHE[answer["id"]]
    check_fn = getattr(check, data["check"])
    previous = torch.get_default_dtype()
    out = io.StringIO()
    try:
        torch.set_default_dtype(DTYPES[data["dtype"]])
        fn = _function(data, answer)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
            try:
                verdict = check_fn(fn, quiet=True)
            except TypeError as e:
                if "quiet" not in str(e):
                    raise
                check_fn(fn)  # the check has no verdict API yet: it raises or returns
                verdict = True
        message = getattr(verdict, "message", None)
        notes = " ".join(getattr(verdict, "notes", ()))
        outcome = Outcome(
            bool(verdict), out.getvalue() if message is None else str(message), notes=notes
        )
    except check.CheckFailed as e:
        outcome = Outcome(False, f"{e}\n{out.getvalue()}")
    except Exception as e:  # noqa: BLE001 - anything else escaping a check is a crash
        outcome = Outcome(None, out.getvalue(), crash=f"{type(e).__name__}: {e}")
    finally:
        torch.set_default_dtype(previous)
    _CACHE[answer["id"]] = outcome
    return outcome


def names_mistake(answer: dict, message: str) -> bool:
    text = message.lower()
    return any(str(k).lower() in text for k in answer["keywords"])


def problem(data: dict, answer: dict) -> str:
    """'' if the check gets this answer right, else a one-line reason."""
    o = run_answer(data, answer)
    first = " ".join(o.message.split())[:160]
    if o.passed is None:
        return f"check crashed: {o.crash[:160]}"
    if answer["verdict"] == "pass":
        if not o.passed:
            return f"correct answer rejected: {first}"
        wanted = answer.get("note_keywords")
        if wanted and not any(k.lower() in o.notes.lower() for k in wanted):
            return f"passed without a note naming any of {wanted}"
        return ""
    if o.passed:
        return "mistake accepted"
    if not names_mistake(answer, o.message):
        return f"caught, but the message names none of {answer['keywords']}: {first}"
    return ""


# (1) the collection's shape ---------------------------------------------------------------


def test_collection_size_and_unique_ids():
    ids = [a["id"] for _, a in ENTRIES]
    assert len(ids) >= MIN_ANSWERS, f"{len(ids)} answers, want >= {MIN_ANSWERS}"
    assert len(set(ids)) == len(ids), sorted({i for i in ids if ids.count(i) > 1})


def test_every_covered_check_has_enough_answers():
    by_check = {d["check"]: d for d in FILES}
    for name, chapter in _chapter_checks().items():
        assert name in by_check, f"no answers for check.{name} ({chapter.relative_to(ROOT)})"
        answers = by_check[name]["answers"]
        correct = sum(a["verdict"] == "pass" for a in answers)
        mistakes = sum(a["verdict"] == "fail" for a in answers)
        assert correct >= MIN_CORRECT and mistakes >= MIN_MISTAKES, (name, correct, mistakes)


@pytest.mark.parametrize("data", FILES, ids=lambda d: d["_path"].name)
def test_file_well_formed(data):
    assert set(data) >= {"check", "chapter", "function", "dtype", "answers"}
    assert data["_path"].stem == data["check"]
    assert data["check"] in check.__all__
    assert data["dtype"] in DTYPES
    chapter = ROOT / data["chapter"]
    text = chapter.read_text()
    assert re.search(rf"^check\.{data['check']}\({data['function']}\)", text, flags=re.M)
    assert re.search(rf"^def {data['function']}\(", text, flags=re.M)
    for answer in data["answers"]:
        assert answer["verdict"] in ("pass", "fail"), answer["id"]
        assert answer["id"].startswith(data["check"] + "-"), answer["id"]
        assert isinstance(answer["code"], str) and f"def {data['function']}(" in answer["code"]
        compile(answer["code"], answer["id"], "exec")
        if answer["verdict"] == "pass":
            assert answer.get("note"), answer["id"]
        else:
            assert answer.get("mistake"), answer["id"]
            keywords = answer.get("keywords")
            assert isinstance(keywords, list) and keywords, answer["id"]
            # strings (a bare YAML off/null/2 would parse as False/None/int), not one letter
            assert all(isinstance(k, str) and len(k.strip()) >= 2 for k in keywords), answer["id"]


# (2) one test per answer --------------------------------------------------------------------


@pytest.mark.parametrize(("data", "answer"), ENTRIES, ids=[a["id"] for _, a in ENTRIES])
def test_answer(data, answer):
    reason = problem(data, answer)
    assert not reason, reason


# (3) the rates ------------------------------------------------------------------------------


def rates() -> dict[str, object]:
    correct = [(d, a) for d, a in ENTRIES if a["verdict"] == "pass"]
    mistakes = [(d, a) for d, a in ENTRIES if a["verdict"] == "fail"]
    accepted = sum(run_answer(d, a).passed is True for d, a in correct)
    caught = sum(run_answer(d, a).passed is False for d, a in mistakes)
    named = sum(
        run_answer(d, a).passed is False and names_mistake(a, run_answer(d, a).message)
        for d, a in mistakes
    )
    crashes = sum(run_answer(d, a).passed is None for d, a in ENTRIES)
    failures = [(a["id"], problem(d, a)) for d, a in ENTRIES if problem(d, a)]
    return {
        "correct": len(correct),
        "accepted": accepted,
        "mistakes": len(mistakes),
        "caught": caught,
        "named": named,
        "crashes": crashes,
        "failures": failures,
    }


def test_rates():
    r = rates()
    print(
        f"\ncorrect accepted {r['accepted']}/{r['correct']}, mistakes caught "
        f"{r['caught']}/{r['mistakes']}, caught with a naming message "
        f"{r['named']}/{r['mistakes']}, crashes {r['crashes']}"
    )
    for answer_id, reason in r["failures"]:
        print(f"  {answer_id}: {reason}")
    assert r["accepted"] >= TARGET_CORRECT * r["correct"]
    assert r["named"] >= TARGET_CAUGHT * r["mistakes"]
