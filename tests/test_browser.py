"""The book in a real browser: headless Chromium, network blocked, every page checked.

``make test`` installs Chromium (``make browser``), builds the book into ``$BOOK_HTML`` and
runs this module: every HTML page of the book is served on 127.0.0.1 and opened with all
other hosts unreachable. On each page, math must be typeset by the book's own MathJax, every
image must load, no execution error, traceback or warning may show, every explorer must
answer its sliders, every internal link must resolve, nothing may be requested from another
host, and no script may fail (see ``tests/browser_util.py``). Screenshots of key pages, in
light and dark mode, go to ``_build/screenshots/`` with a timing report.

The checks are first run on small synthetic pages, one per kind of defect, to show that each
of them fails when it should (and that a clean page passes).
"""

from __future__ import annotations

import base64
import os
import time
from pathlib import Path

import pytest
import yaml
from browser_util import (
    CATEGORIES,
    PageReport,
    book_pages,
    check_page,
    find_browser,
    headless_chromium,
    screenshots,
    serve,
)

from weightreg.widgets import explorer

ROOT = Path(__file__).resolve().parents[1]
MATHJAX = ROOT / "_vendor" / "mathjax"
SCREENSHOTS = ROOT / "_build" / "screenshots"


@pytest.fixture(scope="module")
def driver():
    """One headless Chromium for the module. Under ``make test`` (BOOK_HTML set) it must exist."""
    if find_browser() is None:
        message = "Chromium or chromedriver not found: run `make browser`"
        if os.environ.get("BOOK_HTML"):
            pytest.fail(message)
        pytest.skip(message)
    with headless_chromium() as d:
        yield d


# --- synthetic pages: each check must fail on its defect ----------------------------------

HEAD = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>{title}</title>
<script>window.MathJax = {{"options": {{"processHtmlClass": "math"}}}}</script>
{mathjax}</head><body><section class="tex2jax_ignore mathjax_ignore" id="top">
<h1>{title}</h1>{body}</section></body></html>"""
MATHJAX_TAG = '<script defer src="mathjax/tex-chtml.js"></script>'


def _draw(fig, k, alpha):
    ax = fig.add_subplot()
    ax.plot([0, 1, 2], [0, alpha, alpha * k])
    ax.set_title(f"k={k}, alpha={alpha}")


def _synthetic_site(folder: Path) -> dict[str, str]:
    """Write the synthetic pages into ``folder``; return {page: the category it must fail}."""
    demo = explorer(_draw, {"k": [1, 2, 3], "alpha": [0.5, 1.0]}, title="demo", live=False)
    live_html = demo._repr_html_()
    # a second one, in a collapsed output (myst-nb's hide-output): the reader opens it first
    hidden = explorer(_draw, {"k": [1, 2], "alpha": [1.0]}, live=False)._repr_html_()
    hidden_html = f"<details><summary>Show output</summary>{hidden}</details>"
    dead_html = live_html.split("<script>")[0] + "</div>"
    # sliders that show another frame than the one of their values (indices read backwards)
    good_lookup = 'var frame = frames[key.join(",")];'
    wrong_html = explorer(_draw, {"k": [1, 2], "alpha": [0.5, 1.0]}, live=False)._repr_html_()
    assert good_lookup in wrong_html
    wrong_html = wrong_html.replace(good_lookup, 'var frame = frames[key.reverse().join(",")];')
    frame = base64.b64decode(next(iter(demo.frames.values())))
    (folder / "figure.png").write_bytes(frame)
    (folder / "mathjax").symlink_to(MATHJAX, target_is_directory=True)

    math = (
        '<p>Inline <span class="math notranslate nohighlight">\\(\\lambda w^2\\)</span>.</p>'
        '<div class="math notranslate nohighlight" id="equation-demo">'
        '<span class="eqno">(1.1)</span>'
        "\\[\\frac{\\lambda}{2}\\lVert \\mathbf{w}\\rVert_2^2\\]</div>"
    )
    pages = {
        "good.html": (
            MATHJAX_TAG,
            math
            + '<img src="figure.png" alt="figure">'
            + live_html
            + hidden_html
            + '<p><a href="other.html#there">a link</a> <a href="#top">up</a> '
            '<a href="https://mybinder.org/v2/gh/x/y/main">Binder</a></p>'
            "<pre>$ make book  # a shell prompt in code is not math</pre>",
        ),
        "other.html": ("", '<p id="there">Target.</p>'),
        "raw_latex.html": ("", "<p>The penalty $\\lambda \\lVert w\\rVert^2$ shrinks w.</p>"),
        "untypeset.html": ("", math),
        "bad_tex.html": (MATHJAX_TAG, '<span class="math notranslate">\\(\\frac{1}\\)</span>'),
        "broken_image.html": ("", '<p>A figure:</p><img src="missing.png" alt="missing">'),
        "error_output.html": (
            "",
            '<div class="cell_output docutils container"><div class="output traceback '
            'highlight-ipythontb notranslate"><div class="highlight"><pre>'
            "ValueError: lr must be positive</pre></div></div></div>",
        ),
        "stderr_warning.html": (
            "",
            '<div class="cell_output docutils container"><div class="output stderr '
            'highlight-myst-ansi notranslate"><div class="highlight"><pre>'
            "/x.py:3: UserWarning: the loss diverged</pre></div></div></div>",
        ),
        "dead_explorer.html": ("", dead_html),
        "wrong_frame.html": ("", wrong_html),
        "dead_link.html": (
            "",
            '<a href="nowhere.html">gone</a> <a href="other.html#no-such-anchor">lost</a>',
        ),
        "external.html": (
            "",
            '<script src="https://cdn.jsdelivr.net/npm/plotly.js@2/plotly.min.js"></script>',
        ),
        "js_error.html": ("", "<script>callSomethingThatDoesNotExist();</script>"),
    }
    expected = {
        "good.html": "",
        "other.html": "",
        "raw_latex.html": "math",
        "untypeset.html": "math",
        "bad_tex.html": "math",
        "broken_image.html": "images",
        "error_output.html": "outputs",
        "stderr_warning.html": "outputs",
        "dead_explorer.html": "explorers",
        "wrong_frame.html": "explorers",
        "dead_link.html": "links",
        "external.html": "network",
        "js_error.html": "scripts",
    }
    for name, (mathjax, body) in pages.items():
        title = name.removesuffix(".html")
        (folder / name).write_text(
            HEAD.format(title=title, mathjax=mathjax, body=body), encoding="utf-8"
        )
    return expected


@pytest.fixture(scope="module")
def synthetic(driver, tmp_path_factory) -> dict[str, tuple[str, PageReport]]:
    if not (MATHJAX / "tex-chtml.js").is_file():
        pytest.skip("MathJax is not in _vendor/mathjax: run `make install`")
    folder = tmp_path_factory.mktemp("synthetic-site")
    expected = _synthetic_site(folder)
    with serve(folder) as base:
        return {name: (c, check_page(driver, folder, base, name)) for name, c in expected.items()}


def test_a_clean_page_passes_every_check(synthetic):
    for name in ("good.html", "other.html"):
        report = synthetic[name][1]
        assert report.ok, f"{name}: {report.problems}"
    good = synthetic["good.html"][1]
    assert good.n_math == 2 and good.n_images == 3 and good.n_explorers == 2


@pytest.mark.parametrize(
    "page",
    [
        "raw_latex.html",
        "untypeset.html",
        "bad_tex.html",
        "broken_image.html",
        "error_output.html",
        "stderr_warning.html",
        "dead_explorer.html",
        "wrong_frame.html",
        "dead_link.html",
        "external.html",
        "js_error.html",
    ],
)
def test_each_defect_is_flagged(synthetic, page):
    category, report = synthetic[page]
    assert report.problems[category], f"{page}: its {category} defect was not flagged"


def test_flags_name_the_defect(synthetic):
    assert any("raw TeX" in m for m in synthetic["raw_latex.html"][1].problems["math"])
    assert any("MathJax error" in m for m in synthetic["bad_tex.html"][1].problems["math"])
    assert any("missing.png" in m for m in synthetic["broken_image.html"][1].problems["images"])
    assert any("ValueError" in m for m in synthetic["error_output.html"][1].problems["outputs"])
    links = synthetic["dead_link.html"][1].problems["links"]
    assert any("nowhere.html" in m for m in links)
    assert any("no-such-anchor" in m for m in links)
    assert any("jsdelivr" in m for m in synthetic["external.html"][1].problems["network"])
    dead = synthetic["dead_explorer.html"][1].problems["explorers"]
    assert any("did not change" in m for m in dead)
    wrong = synthetic["wrong_frame.html"][1].problems["explorers"]
    assert any("sliders are at 1,0 but the image is frame 0,1" in m for m in wrong), wrong


def test_scrubbing_a_slider_shows_the_frame_drawn_for_its_value(driver, tmp_path):
    """Scrub the sliders of an explorer as a reader does; after each move the image must be
    the figure that ``draw`` makes for the values now selected (rendered here on its own)."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    controls = {"k": [1, 2, 3], "alpha": [0.5, 1.0]}
    page = explorer(_draw, controls, title="scrub", live=False)._repr_html_()
    (tmp_path / "scrub.html").write_text(
        HEAD.format(title="scrub", mathjax="", body=page), encoding="utf-8"
    )
    with serve(tmp_path) as base:
        driver.get(base + "scrub.html")
        k, alpha = driver.find_elements(By.CSS_SELECTOR, "div.wr-explorer input[type=range]")
        moves = [
            (k, Keys.END, 3, 0.5),
            (alpha, Keys.END, 3, 1.0),
            (k, Keys.ARROW_LEFT, 2, 1.0),
            (alpha, Keys.HOME, 2, 0.5),
        ]
        for slider, key, k_value, alpha_value in moves:
            slider.send_keys(key)
            shown = driver.find_element(By.CSS_SELECTOR, "img.wr-frame").get_attribute("src")
            alone = explorer(_draw, {"k": [k_value], "alpha": [alpha_value]}, live=False)
            assert shown == "data:image/png;base64," + alone.frames["0,0"], (
                f"not the figure of k={k_value}, alpha={alpha_value}"
            )
            values = [o.text for o in driver.find_elements(By.CSS_SELECTOR, "output")]
            assert values == [str(k_value), str(alpha_value).removesuffix(".0")]


def _draw_kind(fig, kind, k):
    ax = fig.add_subplot()
    ax.plot([0, 1], [0, k if kind == "up" else -k])


def test_picking_from_a_drop_down_shows_the_frame_drawn_for_its_value(driver, tmp_path):
    """A categorical control is a drop-down list; picking an option shows that option's frame."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.select import Select

    controls = {"kind": ["up", "down"], "k": [1, 2]}
    page = explorer(_draw_kind, controls, title="pick", live=False)._repr_html_()
    (tmp_path / "pick.html").write_text(
        HEAD.format(title="pick", mathjax="", body=page), encoding="utf-8"
    )
    with serve(tmp_path) as base:
        driver.get(base + "pick.html")
        (kind,) = driver.find_elements(By.CSS_SELECTOR, "div.wr-explorer select")
        Select(kind).select_by_visible_text("down")
        shown = driver.find_element(By.CSS_SELECTOR, "img.wr-frame").get_attribute("src")
        alone = explorer(_draw_kind, {"kind": ["down"], "k": [1]}, live=False)
        assert shown == "data:image/png;base64," + alone.frames["0,0"]


# --- the book ----------------------------------------------------------------------------


def _toc_docnames() -> list[str]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    return [toc["root"]] + [c["file"] for part in toc["parts"] for c in part["chapters"]]


def _key_pages(reports: dict[str, PageReport]) -> list[tuple[str, str | None]]:
    """(page, selector to scroll to) for the screenshots: preface, the chapter with the most
    explorers (top and first explorer), the one with the most proofs, glossary, API page."""
    chosen = [("book/preface.html", None)]
    explorer_pages = [r for r in reports.values() if r.n_explorers and r.n_math]
    if explorer_pages:
        page = max(explorer_pages, key=lambda r: (r.n_explorers, r.n_math)).page
        chosen += [(page, None), (page, "div.wr-explorer")]
    proof_pages = [r for r in reports.values() if r.n_proofs and r.n_math]
    if proof_pages:
        chosen += [(max(proof_pages, key=lambda r: r.n_proofs).page, "div.proof")]
    chosen += [("book/reference/glossary.html", None), ("book/reference/api.html", None)]
    return [(p, s) for p, s in chosen if p in reports]


@pytest.fixture(scope="module")
def book(book_html: Path, driver) -> dict[str, PageReport]:
    start = time.perf_counter()
    with serve(book_html) as base:
        reports = {rel: check_page(driver, book_html, base, rel) for rel in book_pages(book_html)}
        checked = time.perf_counter() - start
        plan = []
        for page, selector in _key_pages(reports):
            stem = page.removesuffix(".html").replace("/", "_").removeprefix("book_")
            if selector:
                stem += "_" + selector.split(".")[-1]
            plan.append((page, selector, stem))
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        for old in SCREENSHOTS.glob("*.png"):  # the folder shows this run only
            old.unlink()
        for mode in ("light", "dark"):
            screenshots(
                driver,
                base,
                [(p, s, SCREENSHOTS / f"{stem}-{mode}.png") for p, s, stem in plan],
                mode,
            )
        shots = [f"{stem}-{mode}.png" for _, _, stem in plan for mode in ("light", "dark")]
    total = time.perf_counter() - start
    lines = [
        f"{len(reports)} pages checked in {checked:.1f} s; with screenshots {total:.1f} s",
        f"{'page':48s} {'s':>5s} {'math':>5s} {'img':>4s} {'expl':>4s} {'prf':>4s} {'links':>5s}"
        "  problems",
    ]
    for r in reports.values():
        bad = sum(len(v) for v in r.problems.values())
        lines.append(
            f"{r.page:48s} {r.seconds:5.2f} {r.n_math:5d} {r.n_images:4d} {r.n_explorers:4d} "
            f"{r.n_proofs:4d} {r.n_links:5d}  {bad}"
        )
    wide = [f"  {p}: {eq}" for p, r in reports.items() for eq in r.wide_equations]
    lines += ["", "display equations wider than the column at 1280 px (they scroll):", *wide]
    lines += ["", "screenshots: " + ", ".join(shots)]
    (SCREENSHOTS / "browser-report.txt").write_text("\n".join(lines) + "\n")
    return reports


def _problems(book: dict[str, PageReport], category: str) -> dict[str, list[str]]:
    return {p: r.problems[category] for p, r in book.items() if r.problems[category]}


@pytest.mark.book
def test_every_toc_page_was_opened(book):
    missing = [d for d in _toc_docnames() if f"{d}.html" not in book]
    assert not missing, f"pages of _toc.yml without HTML: {missing}"
    assert len(book) >= len(_toc_docnames())


@pytest.mark.book
@pytest.mark.parametrize("category", CATEGORIES)
def test_book_pages_pass(book, category):
    problems = _problems(book, category)
    assert not problems, f"{category} problems on {len(problems)} page(s): {problems}"


@pytest.mark.book
def test_math_is_typeset_on_pages_with_math(book):
    with_math = [p for p, r in book.items() if r.n_math]
    assert "book/preface.html" in with_math and len(with_math) >= 3


@pytest.mark.book
def test_the_book_has_working_explorers(book):
    assert sum(r.n_explorers for r in book.values()) >= 1, "no explorer in the whole book"


@pytest.mark.book
def test_screenshots_were_saved(book):
    shots = sorted(SCREENSHOTS.glob("*-dark.png"))
    assert shots and all(p.stat().st_size > 10_000 for p in shots)
    assert (SCREENSHOTS / "preface-light.png").is_file()
