"""The book's one notation (``book/reference/_notation.md``), enforced where a pattern can tell.

The table gives each symbol one meaning. Some retired uses are easy to recognise in a source,
and are refused here: the primed coefficients of the first edition (``\\lambda'``,
``\\alpha'``), eigenvalues written ``\\lambda_i`` (they are ``\\sigma_i^2``), ``\\mu`` outside the
chapters on weight decay (``book/decay/``, ``book/normalized/``: momentum only; multipliers
are ``\\nu``), and raw subscripts in plot labels (``"lambda_i"``, ``"λ_i"``: typeset them
with mathtext, ``r"$\\lambda$"``).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = sorted(p for p in (ROOT / "book").rglob("*.md") if not p.name.startswith("_"))

RETIRED = {
    r"\\lambda'": "the primed L2 coefficient is retired: lambda (or lambda_L2 beside decoupled)",
    r"\\alpha'": "the primed coefficient is retired: convert with lambda = 2 alpha / d",
    r"\\lambda_i\b|\\lambda_\{?[ijk]\}?": "eigenvalues are sigma_i^2, not lambda_i",
    r"\\lambda_\{?\\text\{PT\}": "PyTorch's coefficient is plain lambda",
}
# A string in code with a raw subscript such as "lambda_i", "alpha_max" or "λ_i" outside $...$.
RAW_LABEL = re.compile(
    r"""(?P<q>["'])(?:(?!(?P=q)).)*?(?<![\\$\w])(?:lambda|alpha|sigma|eta|mu|nu|tau|theta|[λασημντθ])_\w"""
)


def _code_lines(text: str) -> list[str]:
    lines, inside = [], False
    for line in text.splitlines():
        if line.startswith("```{code-cell}"):
            inside = True
            continue
        if inside and line.startswith("```"):
            inside = False
            continue
        if inside:
            lines.append(line)
    return lines


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_retired_symbol(page):
    text = page.read_text(encoding="utf-8")
    found = [
        f"{why}: {m.group(0)!r} at line {text.count(chr(10), 0, m.start()) + 1}"
        for pattern, why in RETIRED.items()
        for m in re.finditer(pattern, text)
    ]
    assert not found, "\n".join(found)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_mu_is_momentum_only(page):
    rel = page.relative_to(ROOT).as_posix()
    # the chapters where momentum appears: the decay part and the normalized-networks part
    if rel.startswith(("book/decay/", "book/normalized/")) or rel == "book/reference/glossary.md":
        return
    text = page.read_text(encoding="utf-8")
    lines = [i + 1 for i, line in enumerate(text.splitlines()) if "\\mu" in line]
    assert not lines, f"\\mu (momentum only) outside the weight-decay chapters, lines {lines}"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_plot_labels_are_typeset(page):
    bad = []
    for line in _code_lines(page.read_text(encoding="utf-8")):
        stripped = line.strip()
        if stripped.startswith("#") or "glue(" in stripped or "[" in stripped.split("=")[0]:
            continue
        if any(k in stripped for k in ("label", "title", "text(", "annotate(", "legend(")):
            if RAW_LABEL.search(stripped) and "$" not in stripped:
                bad.append(stripped)
    assert not bad, "raw subscripts in figure text (typeset them):\n" + "\n".join(bad)


_LIST_MARK = re.compile(r"^\s*[+\-*]\s")
_INLINE_DOLLAR = re.compile(r"(?<![\\$])\$(?!\$)")


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_line_inside_inline_math_starts_a_list(page):
    """A line that starts with "+ ", "- " or "* " while an inline ``$...$`` is still open is
    read by Markdown as a new list item: the math breaks and shows as raw TeX. End the line
    before with the operator instead."""
    bad, code, display, open_math = [], False, False, False
    for number, line in enumerate(page.read_text(encoding="utf-8").split("\n"), start=1):
        stripped = line.strip()
        if stripped.startswith("```"):
            code, open_math = not code, False
            continue
        if code:
            continue
        if stripped.startswith("$$"):
            display ^= stripped.count("$$") == 1
            open_math = False
            continue
        if display:
            continue
        if not stripped:
            open_math = False
            continue
        if open_math and _LIST_MARK.match(line):
            bad.append(f"line {number}: {stripped[:60]}")
        if len(_INLINE_DOLLAR.findall(line)) % 2:
            open_math = not open_math
    assert not bad, "\n".join(bad)
