"""Sphinx glue for the book (loaded by ``_config.yml`` as a local extension).

* Tells notebooks executed during the build to render their explorers in the
  static, kernel-free face (``WEIGHTREG_STATIC_WIDGETS=1``; kernels inherit the
  environment of the build process).
* Makes the build use non-interactive matplotlib and a fixed hash seed so two
  builds produce identical outputs.
* **Offline pages.** With Thebe off (``launch_buttons.thebe: false``) it removes
  sphinx-thebe's page scripts, which name ``https://unpkg.com/thebe`` and, added twice
  by Jupyter Book, stop every page with a JavaScript ``SyntaxError``; and it warns
  (an error under ``-W``) about any page that would load a script or stylesheet from
  the network.
* **Math in the bibliography.** ``$...$`` in a BibTeX title (``$\\ell_1$-ball``)
  becomes real inline math, typeset by MathJax, instead of raw TeX.
* **Pages that read the book's sources.** The instructor page builds its tables from every
  chapter's source with ``tools/homework.py`` when it executes. The execution cache knows
  only a page's own code, so the pages named in the config value ``bookext_source_readers``
  lose their cached execution and are read (so executed) again whenever another page's
  source, ``_toc.yml`` or a file of ``tools/`` changes, and only then: a chapter edit
  re-executes that chapter and this page.
* **Time estimates from one source.** A chapter's overview writes ``{chapter-time}`45```: its
  reading time. The role renders "about 45 minutes, plus E for the exercises", E summed from
  the ``Time: NN min`` of the page's exercises (``tools/homework.py`` parses both). The
  preface's ``{book-time}`range``` renders the shortest and longest chapter (reading plus
  exercises) of the whole book, and the instructor page's table uses the same numbers.
* **One citation style.** The text cites author-year (``bibtex_reference_style: author_year``);
  the bibliography's labels are author-year too (the pybtex style ``wr_authoryear`` registered
  here: "Hanson and Pratt 1988", "Zhang et al. 2023"), entries sorted by author and year.
* **The API page.** Headings in docstrings (``Conventions`` underlined) become rubrics. The
  directive ``{weightreg-api}`` documents one module of
  :mod:`weightreg` per line of its body, in a section of its own that first links the
  chapter(s) introducing the module's helpers, then lists them with autodoc::

      ```{weightreg-api}
      weightreg.data       ch-overfitting
      weightreg.penalties
      ```

  The labels after the module name are the chapters' labels, the introducing chapter
  first; without them the chapters are read from the ``book/....md`` paths in the first
  paragraph of the module's docstring.
"""

from __future__ import annotations

import hashlib
import importlib
import inspect
import os
import re
from pathlib import Path

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.application import Sphinx
from sphinx.transforms.post_transforms import SphinxPostTransform
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

logger = logging.getLogger(__name__)

_EXTERNAL = re.compile(r"^\s*(https?:)?//", re.IGNORECASE)
_URL_IN_CODE = re.compile(r"https?://", re.IGNORECASE)
_DOLLAR_MATH = re.compile(r"\$([^$]+)\$")
_CHAPTER_PATH = re.compile(r"``(book/[\w/.-]+)\.md``")


# --- offline pages -----------------------------------------------------------------------


def _drop_thebe(app: Sphinx) -> None:
    """Disconnect sphinx-thebe's page scripts when the book has no Thebe button."""
    launch = app.config.html_theme_options.get("launch_buttons") or {}
    if launch.get("thebe"):
        return
    unwanted = {"init_thebe_core", "update_thebe_context"}
    for listeners in list(app.events.listeners.values()):
        for listener in list(listeners):
            handler = listener.handler
            module = getattr(handler, "__module__", "") or ""
            if module.startswith("sphinx_thebe") and handler.__name__ in unwanted:
                app.disconnect(listener.id)


def _asset_name(asset: object) -> str:
    return str(getattr(asset, "filename", None) or asset or "")


def _check_offline_assets(
    app: Sphinx, pagename: str, templatename: str, context: dict, doctree: object
) -> None:
    """Warn about scripts and stylesheets that a page would fetch from the network."""
    for key in ("script_files", "css_files"):
        for asset in context.get(key) or []:
            name = _asset_name(asset)
            body = (getattr(asset, "attributes", None) or {}).get("body", "") or ""
            if _EXTERNAL.match(name) or _URL_IN_CODE.search(body):
                logger.warning(
                    "page %s loads %s from the network (%s): the book must read offline; "
                    "serve it from _static or drop it",
                    pagename,
                    "a script" if key == "script_files" else "a stylesheet",
                    name or body[:80],
                    type="bookext",
                    subtype="offline",
                )


# --- pages that read the book's sources ------------------------------------------------------


def sources_digest(srcdir: Path | str, docnames: set[str] | list[str], skip: str) -> str:
    """Hash of what a source-reading page depends on: every page's source but ``skip``'s own,
    ``_toc.yml`` and the files of ``tools/``."""
    root = Path(srcdir)
    files = [root / "_toc.yml", *sorted((root / "tools").glob("*.py"))]
    for docname in sorted(set(docnames) - {skip}):
        files += [root / f"{docname}{suffix}" for suffix in (".md", ".ipynb")]
    digest = hashlib.sha256()
    for path in files:
        if path.is_file():
            digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def _source_readers_outdated(
    app: Sphinx, env: object, added: set[str], changed: set[str], removed: set[str]
) -> list[str]:
    """Execute and read again the pages of ``bookext_source_readers`` whose inputs changed."""
    digests = getattr(env, "bookext_source_digests", None)
    if digests is None:
        digests = env.bookext_source_digests = {}
    stale = []
    for docname in app.config.bookext_source_readers:
        if docname not in env.found_docs:
            continue
        digest = sources_digest(app.srcdir, env.found_docs, docname)
        if digests.get(docname) != digest:
            _forget_execution(env, Path(app.srcdir), docname)
            if docname not in added | changed:
                stale.append(docname)
        digests[docname] = digest
    return stale


def _forget_execution(env: object, srcdir: Path, docname: str) -> None:
    """Remove ``docname``'s executed notebooks from MyST-NB's jupyter-cache, if any."""
    config = getattr(env, "mystnb_config", None)
    path = getattr(config, "execution_cache_path", "") or ""
    if not path or not (Path(path) / "global.db").is_file():
        return
    from jupyter_cache import get_cache

    cache = get_cache(path)
    sources = {(srcdir / f"{docname}{suffix}").resolve() for suffix in (".md", ".ipynb")}
    for record in cache.list_cache_records():
        if Path(record.uri).resolve() in sources:
            cache.remove_cache(record.pk)


# --- time estimates -------------------------------------------------------------------------


def _homework(srcdir: Path | str):
    # The book's own tools/ (next to _ext/), also when Sphinx builds another source folder,
    # such as the student edition's.
    tools = str(Path(__file__).resolve().parents[1] / "tools")
    import sys

    if tools not in sys.path:
        sys.path.insert(0, tools)
    return importlib.import_module("homework")


def chapter_time_text(srcdir: Path | str, docname: str, reading: str) -> str:
    """What ``{chapter-time}`reading``` renders on page ``docname``."""
    if not reading.strip().isdigit() or int(reading) <= 0:
        raise ValueError(f"chapter-time takes the reading time in whole minutes, got {reading!r}")
    chapter = _homework(srcdir).read_chapter(Path(srcdir), docname)
    if chapter.minutes:
        return f"about {int(reading)} minutes, plus {chapter.minutes} for the exercises"
    return f"about {int(reading)} minutes"


def book_time_text(srcdir: Path | str) -> str:
    """What ``{book-time}`range``` renders: the shortest and longest chapter, all included."""
    homework = _homework(srcdir)
    low, high = homework.time_range(homework.book_chapters(Path(srcdir)))
    return f"{low} to {high} minutes, exercises included"


def _time_role(kind: str):
    def role(name, rawtext, text, lineno, inliner, options=None, content=None):
        env = inliner.document.settings.env
        try:
            if kind == "chapter":
                out = chapter_time_text(env.srcdir, env.docname, text)
            else:
                out = book_time_text(env.srcdir)
        except Exception as exc:  # noqa: BLE001 - reported as a build error at the role
            msg = inliner.reporter.error(f"{name}: {exc}", line=lineno)
            return [inliner.problematic(rawtext, rawtext, msg)], [msg]
        return [nodes.Text(out)], []

    return role


# --- one citation style ---------------------------------------------------------------------


def _last_names(person: object) -> str:
    names = [*person.prelast_names, *person.last_names]
    return " ".join(names).replace("{", "").replace("}", "")


def author_year_label(entry: object) -> str:
    """The bibliography label of a pybtex entry in the text's style: "Hanson and Pratt 1988"."""
    people = entry.persons.get("author") or entry.persons.get("editor") or []
    year = entry.fields.get("year", "n.d.")
    if not people:
        who = entry.fields.get("title", entry.key).split(":")[0]
    elif len(people) == 1:
        who = _last_names(people[0])
    elif len(people) == 2:
        who = f"{_last_names(people[0])} and {_last_names(people[1])}"
    else:
        who = f"{_last_names(people[0])} et al."
    return f"{who} {year}"


def _register_citation_style() -> None:
    from pybtex.plugin import register_plugin
    from pybtex.style.formatting.unsrt import Style as Unsrt
    from pybtex.style.labels import BaseLabelStyle

    class AuthorYearLabels(BaseLabelStyle):
        def format_labels(self, sorted_entries):
            labels = [author_year_label(entry) for entry in sorted_entries]
            counts = {label: labels.count(label) for label in labels}
            seen: dict[str, int] = {}
            for label in labels:
                # Two works of the same authors and year: 2021a, 2021b.
                seen[label] = seen.get(label, 0) + 1
                yield label if counts[label] == 1 else f"{label}{chr(ord('a') + seen[label] - 1)}"

    class AuthorYearStyle(Unsrt):
        default_label_style = "wr_authoryear"
        default_sorting_style = "author_year_title"

    register_plugin("pybtex.style.labels", "wr_authoryear", AuthorYearLabels, force=True)
    register_plugin("pybtex.style.formatting", "wr_authoryear", AuthorYearStyle, force=True)


# --- math in the bibliography --------------------------------------------------------------


def merge_texts(element: nodes.Element) -> None:
    """Join adjacent Text children below ``element`` (pybtex emits a title in pieces)."""
    for node in list(element.findall(nodes.Element)):
        merged: list[nodes.Node] = []
        for child in node.children:
            if merged and isinstance(child, nodes.Text) and isinstance(merged[-1], nodes.Text):
                merged[-1] = nodes.Text(str(merged[-1]) + str(child))
            else:
                merged.append(child)
        if len(merged) != len(node.children):
            node.children = []
            node.extend(merged)


def dollar_math(element: nodes.Element) -> bool:
    """Replace ``$...$`` in the text below ``element`` by inline math nodes; True if any."""
    merge_texts(element)
    changed = False
    for text in list(element.findall(nodes.Text)):
        source = str(text)
        if not _DOLLAR_MATH.search(source):
            continue
        pieces: list[nodes.Node] = []
        pos = 0
        for match in _DOLLAR_MATH.finditer(source):
            if match.start() > pos:
                pieces.append(nodes.Text(source[pos : match.start()]))
            latex = match.group(1).strip()
            pieces.append(nodes.math(latex, latex))
            pos = match.end()
        if pos < len(source):
            pieces.append(nodes.Text(source[pos:]))
        text.parent.replace(text, pieces)
        changed = True
    return changed


class BibliographyMath(SphinxPostTransform):
    """Turn ``$...$`` in the rendered bibliography entries into inline math nodes."""

    default_priority = 20  # after sphinxcontrib-bibtex (5) has rendered the entries
    formats = ("html",)

    def run(self, **kwargs: object) -> None:
        changed = False
        for citation in list(self.document.findall(nodes.citation)):
            changed |= dollar_math(citation)
        if changed:
            # MathJax is only added to pages that the math domain knows to contain math.
            self.env.get_domain("math").data["has_equations"][self.env.docname] = True


# --- the API page ----------------------------------------------------------------------------

_UNDERLINE = re.compile(r"^\s*([-=~^])\1{2,}\s*$")


def _headings_to_rubrics(
    app: Sphinx, what: str, name: str, obj: object, options: object, lines: list[str]
) -> None:
    """Docstring headings (``Conventions`` over ``-----``) become rubrics, not sections.

    A section inside a docstring would nest in the API page's structure and clash with the
    headings of other modules ("duplicate target name").
    """
    for i in range(len(lines) - 1):
        title = lines[i].strip()
        if title and _UNDERLINE.match(lines[i + 1]) and len(lines[i + 1].strip()) >= len(title):
            indent = lines[i][: len(lines[i]) - len(lines[i].lstrip())]
            lines[i] = f"{indent}.. rubric:: {title}"
            lines[i + 1] = ""


def _chapters_of(module: object) -> list[str]:
    doc = inspect.getdoc(module) or ""
    first = doc.split("\n\n", 2)[:2]
    return [f"/{p}" for p in dict.fromkeys(_CHAPTER_PATH.findall("\n\n".join(first)))]


class WeightregApi(SphinxDirective):
    """One section per ``module [chapter-label ...]`` line: chapter link(s) + autodoc."""

    has_content = True
    required_arguments = 0
    option_spec = {}

    def run(self) -> list[nodes.Node]:
        out: list[nodes.Node] = []
        for line in self.content:
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            name, *labels = line.split()
            try:
                module = importlib.import_module(name)
            except ImportError as exc:
                raise self.error(f"weightreg-api: cannot import {name}: {exc}") from exc
            if labels:
                links = [f"{{ref}}`{label}`" for label in labels]
            else:
                links = [f"{{doc}}`{path}`" for path in _chapters_of(module)]
            if not links:
                raise self.error(
                    f"weightreg-api: {name} names no chapter: give its label after the module "
                    "name, or name the chapter's ``book/....md`` file in the module docstring"
                )
            section = nodes.section()
            section["names"].append(f"api {name}")
            self.state.document.note_implicit_target(section, section)
            section += nodes.title("", "", nodes.literal(name, name))
            intro = f"Introduced in {links[0]}" + (
                "; used again in " + ", ".join(links[1:]) + "." if len(links) > 1 else "."
            )
            body = [
                intro,
                "",
                "```{eval-rst}",
                f".. automodule:: {name}",
                "   :members:",
                "   :show-inheritance:",
                "```",
            ]
            self.state.nested_parse(StringList(body, source=self.get_source_info()[0]), 0, section)
            out.append(section)
        return out


def setup(app: Sphinx) -> dict:  # noqa: D103
    os.environ["WEIGHTREG_STATIC_WIDGETS"] = "1"
    os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    os.environ["PYTHONHASHSEED"] = "0"
    app.add_config_value("bookext_source_readers", [], "env", types=[list])
    app.connect("env-get-outdated", _source_readers_outdated)
    app.connect("builder-inited", _drop_thebe)
    app.connect("html-page-context", _check_offline_assets, priority=900)
    app.add_post_transform(BibliographyMath)
    app.add_directive("weightreg-api", WeightregApi)
    _register_citation_style()
    app.add_role("chapter-time", _time_role("chapter"))
    app.add_role("book-time", _time_role("book"))
    app.connect("autodoc-process-docstring", _headings_to_rubrics)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
