"""Check built HTML pages in a real, offline, headless Chromium.

Used by ``tests/test_browser.py`` (the whole book, and synthetic bad pages that prove each
check can fail). A page is served by a localhost ``http.server``; Chromium runs with every
non-loopback request blocked (a dead proxy and a host-resolver rule), so a page that needs
the network shows it. :func:`check_page` returns a :class:`PageReport` listing what is wrong:

* ``math``: raw TeX left in the text (``$...$``, ``\\(``, ``\\[``, ``\\frac``...), a math
  element MathJax did not typeset, a MathJax error, or MathJax not loading;
* ``images``: an ``<img>`` that did not load (``naturalWidth == 0``);
* ``outputs``: an execution error, a traceback, a warning on stderr, a docutils error box;
* ``explorers``: an explorer whose image does not change when its slider moves, or changes to
  another frame than the one of the values its sliders show (read from the frames and labels
  embedded in the page);
* ``links``: an internal link to a missing file or a missing anchor;
* ``network``: a request to anything but 127.0.0.1, or a local resource that failed (404);
* ``scripts``: a JavaScript error on the console.
"""

from __future__ import annotations

import functools
import html.parser
import json
import re
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urldefrag, urlsplit

BROWSERS = ("chromium", "chromium-browser", "google-chrome")
DRIVERS = ("chromedriver",)
LOCAL_HOSTS = {"127.0.0.1", "localhost"}
CATEGORIES = ("math", "images", "outputs", "explorers", "links", "network", "scripts")
# Console errors that say nothing about the book: the browser asks for /favicon.ico, and the
# pydata theme logs its own fallback when a first visit has no colour mode stored yet.
BENIGN_CONSOLE = ("favicon.ico", "Got invalid theme mode")

# Chromium flags: headless, no first-run work, no phoning home. The dead proxy (port 9,
# "discard", nothing listens) and the resolver rule block every host but the loopback.
CHROMIUM_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-default-apps",
    "--metrics-recording-only",
    "--hide-scrollbars",
    "--proxy-server=http://127.0.0.1:9",
    "--proxy-bypass-list=127.0.0.1;localhost",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost",
)


def find_browser() -> tuple[str, str] | None:
    """Paths of a Chromium and its chromedriver, or ``None`` if either is missing."""
    browser = next((p for p in map(shutil.which, BROWSERS) if p), None)
    driver = next((p for p in map(shutil.which, DRIVERS) if p), None)
    return (browser, driver) if browser and driver else None


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


@contextmanager
def serve(root: Path) -> Iterator[str]:
    """Serve the folder ``root`` on 127.0.0.1 (a free port) in a thread; yield its base URL."""
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@contextmanager
def headless_chromium(width: int = 1280, height: int = 900) -> Iterator[object]:
    """A selenium ``WebDriver`` on headless Chromium with the network blocked.

    The chromedriver path is passed explicitly, so selenium's driver manager never runs
    (it would try to download a driver). Raises ``RuntimeError`` if Chromium is missing.
    """
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    found = find_browser()
    if found is None:
        raise RuntimeError("Chromium or chromedriver not found: run `make browser`")
    browser, driver_path = found
    profile = tempfile.mkdtemp(prefix="wr-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    options.add_argument(f"--window-size={width},{height}")
    options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    try:
        driver.set_page_load_timeout(60)
        driver.set_script_timeout(60)
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


@dataclass
class PageReport:
    """What :func:`check_page` found on one page; ``problems[category]`` lists messages."""

    page: str
    problems: dict[str, list[str]] = field(default_factory=lambda: {c: [] for c in CATEGORIES})
    n_math: int = 0
    n_images: int = 0
    n_explorers: int = 0
    n_proofs: int = 0
    n_links: int = 0
    seconds: float = 0.0
    wide_equations: list[str] = field(default_factory=list)  # informational, not a failure

    def add(self, category: str, message: str) -> None:
        self.problems[category].append(message)

    @property
    def ok(self) -> bool:
        return not any(self.problems.values())


# Runs in the page once it has loaded: waits for MathJax and images, then inspects the DOM.
_INSPECT_JS = (Path(__file__).with_name("browser_inspect.js")).read_text(encoding="utf-8")

# The state of explorer number arguments[0]: its image, the values shown, the slider values.
_EXPLORER_STATE_JS = r"""
const root = document.querySelectorAll("div.wr-explorer")[arguments[0]];
const img = root.querySelector("img.wr-frame");
const outs = Array.from(root.querySelectorAll("output")).map((o) => o.textContent);
const inputs = Array.from(root.querySelectorAll("input[type=range], select")).map((i) => i.value);
const done = arguments[arguments.length - 1];
const finish = () => done({src: img ? img.getAttribute("src") : null,
  key: img ? img.getAttribute("data-key") : null,
  width: img ? img.naturalWidth : 0, outputs: outs, values: inputs});
if (img && img.decode) img.decode().then(finish, finish); else finish();
"""


class _Ids(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for key, value in attrs:
            if key in ("id", "name") and value:
                self.ids.add(value)


@functools.lru_cache(maxsize=512)
def _ids_of(path: Path, mtime: float) -> frozenset[str]:
    parser = _Ids()
    parser.feed(path.read_text(encoding="utf-8", errors="replace"))
    return frozenset(parser.ids)


def _local_file(root: Path, base: str, url: str) -> Path | None:
    """The file under ``root`` that a served ``url`` maps to (``None`` if not local)."""
    if not url.startswith(base):
        return None
    rel = unquote(urlsplit(url).path)[len(urlsplit(base).path) :]
    path = root / rel
    if rel == "" or rel.endswith("/"):
        path = path / "index.html"
    return path


def check_links(report: PageReport, root: Path, base: str, links: list[str]) -> None:
    """Every internal link must point to an existing file and, with a ``#fragment``, id."""
    report.n_links = len(links)
    for url in sorted(set(links)):
        target, frag = urldefrag(url)
        host = urlsplit(target).hostname
        if urlsplit(target).scheme not in ("http", "https") or host not in LOCAL_HOSTS:
            continue  # external link (Binder, Colab, the repository): allowed, not followed
        path = _local_file(root, base, target)
        if path is None or not path.is_file():
            report.add("links", f"dead link: {url[len(base) :] if path else url}")
            continue
        if frag and path.suffix == ".html":
            if unquote(frag) not in _ids_of(path, path.stat().st_mtime):
                report.add("links", f"missing anchor: {url[len(base) :]}")


def _network_problems(report: PageReport, entries: list[dict]) -> None:
    for entry in entries:
        msg = json.loads(entry["message"])["message"]
        method, params = msg.get("method"), msg.get("params", {})
        if method == "Network.requestWillBeSent":
            url = params["request"]["url"]
            parts = urlsplit(url)
            if parts.scheme in ("data", "blob", "about", "chrome"):
                continue
            if parts.hostname not in LOCAL_HOSTS:
                report.add("network", f"external request: {url[:120]}")
        elif method == "Network.responseReceived":
            url, status = params["response"]["url"], params["response"]["status"]
            if status >= 400 and not url.endswith("/favicon.ico"):
                report.add("network", f"HTTP {status}: {url[:120]}")


_OPEN_ANCESTORS_JS = """
for (let e = arguments[0]; e; e = e.parentElement) {
  if (e.tagName === "DETAILS") e.open = true;
}
arguments[0].scrollIntoView({block: "center"});
"""


def _press(driver: object, slider: object, key: str) -> None:
    """Press ``key`` on a range input as a reader would: scroll to it (opening any collapsed
    ``<details>`` around it, e.g. a hidden cell output) and type on it."""
    driver.execute_script(_OPEN_ANCESTORS_JS, slider)
    slider.send_keys(key)


_EMBEDDED = re.compile(
    r"var frames = (?P<frames>\{.*?\}), names = (?P<names>\[.*?\]), "
    r"labels = (?P<labels>\{.*?\});",
    re.DOTALL,
)


def embedded_frames(script: str) -> tuple[dict[str, str], list[str], dict[str, list[str]]]:
    """(frames, names, labels) as an explorer's script embeds them (``weightreg.widgets``)."""
    m = _EMBEDDED.search(script)
    if m is None:
        raise ValueError("no frames, names and labels in the explorer's script")
    return json.loads(m["frames"]), json.loads(m["names"]), json.loads(m["labels"])


def frame_problem(state: dict, frames: dict[str, str], names: list[str], labels: dict) -> str:
    """What is wrong with an explorer's ``state`` (:data:`_EXPLORER_STATE_JS`), or ``""``.

    The image must be the frame of the values the sliders are at (frames are keyed
    ``"i,j,..."`` by the index of each slider's value) and each slider's value shown.
    """
    key = ",".join(state["values"])
    if key not in frames:
        return f"the sliders are at {key}, which has no frame"
    if state["src"] != "data:image/png;base64," + frames[key]:
        shown = next((k for k, f in frames.items() if state["src"].endswith(f)), "none")
        return f"the sliders are at {key} but the image is frame {shown}"
    if state["key"] != key:
        return f"the sliders are at {key} but the image says it is frame {state['key']}"
    want = [labels[n][int(v)] for n, v in zip(names, state["values"], strict=True)]
    if state["outputs"] != want:
        return f"the values shown are {state['outputs']}, not {want}"
    return ""


def check_explorers(driver: object, report: PageReport) -> None:
    """Move every slider of every explorer with the keyboard, and pick the other end of every
    drop-down list: the image must change, to the frame of the values the controls now show."""
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.common.by import By

    explorers = driver.find_elements(By.CSS_SELECTOR, "div.wr-explorer")
    report.n_explorers = len(explorers)
    for i, root in enumerate(explorers):
        sliders = root.find_elements(By.CSS_SELECTOR, "input[type=range], select")
        img = root.find_elements(By.CSS_SELECTOR, "img.wr-frame")
        name = root.get_attribute("id") or f"explorer {i}"
        if not sliders or not img:
            report.add("explorers", f"{name}: no slider or no img.wr-frame")
            continue
        # the frames the page embeds; without them (no script) the sliders cannot work, which
        # the moves below report
        scripts = root.find_elements(By.TAG_NAME, "script")
        try:
            text = scripts[0].get_attribute("textContent") if scripts else ""
            frames, names, labels = embedded_frames(text)
        except ValueError:
            frames = None
        for j, slider in enumerate(sliders):
            before = driver.execute_async_script(_EXPLORER_STATE_JS, i)
            if slider.tag_name == "select":
                top = str(len(slider.find_elements(By.TAG_NAME, "option")) - 1)
                low = "0"
            else:
                top, low = slider.get_attribute("max"), slider.get_attribute("min")
            at_max = slider.get_attribute("value") == top
            if top == low:
                continue  # a single-valued control cannot move
            label = f"{name} control {j} ({slider.get_attribute('aria-label')})"
            try:
                _move(driver, slider, to_end=not at_max)
            except WebDriverException as exc:
                report.add("explorers", f"{label}: a reader cannot reach the control ({exc.msg})")
                continue
            after = driver.execute_async_script(_EXPLORER_STATE_JS, i)
            if after["values"] == before["values"]:
                report.add("explorers", f"{label}: the control did not move")
            elif after["src"] == before["src"]:
                report.add("explorers", f"{label}: the image did not change")
            elif not after["width"]:
                report.add("explorers", f"{label}: the new image does not load")
            elif slider.tag_name != "select" and after["outputs"] == before["outputs"]:
                report.add("explorers", f"{label}: the value shown did not change")
            elif frames and (problem := frame_problem(after, frames, names, labels)):
                report.add("explorers", f"{label}: {problem}")
            # put it back, so the next control starts from the initial frame
            _move(driver, slider, to_end=at_max)


def _move(driver: object, control: object, *, to_end: bool) -> None:
    """Move a slider with the keyboard (End/Home), or pick a drop-down's last/first option."""
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.select import Select

    if control.tag_name == "select":
        choice = Select(control)
        choice.select_by_index(len(choice.options) - 1 if to_end else 0)
    else:
        _press(driver, control, Keys.END if to_end else Keys.HOME)


def check_page(driver: object, root: Path, base: str, rel: str) -> PageReport:
    """Open ``base + rel`` (a file under ``root``) and run every check on it."""
    start = time.perf_counter()
    report = PageReport(rel)
    driver.get_log("performance")  # drop the previous page's events
    driver.get(base + rel)
    result = driver.execute_async_script(_INSPECT_JS)
    if "fatal" in result:
        report.add("outputs", f"the page check itself failed: {result['fatal']}")
        return report
    report.n_math, report.n_images = result["nMath"], result["nImages"]
    report.n_proofs = result["nProofs"]
    report.wide_equations = result["wide"]
    for category in ("math", "images", "outputs"):
        for message in result[category]:
            report.add(category, message)
    check_explorers(driver, report)
    check_links(report, root, base, result["links"])
    _network_problems(report, driver.get_log("performance"))
    for entry in driver.get_log("browser"):
        message = entry.get("message", "")
        if entry.get("level") == "SEVERE" and not any(b in message for b in BENIGN_CONSOLE):
            report.add("scripts", f"console error: {message[:200]}")
    report.seconds = time.perf_counter() - start
    return report


def set_color_mode(driver: object, mode: str) -> None:
    """Switch the pydata theme to ``"light"`` or ``"dark"`` (stored in localStorage)."""
    if mode not in ("light", "dark"):
        raise ValueError(f"mode must be 'light' or 'dark', got {mode!r}")
    driver.execute_script(
        "localStorage.setItem('mode', arguments[0]); localStorage.setItem('theme', arguments[0]);"
        "document.documentElement.dataset.mode = arguments[0];"
        "document.documentElement.dataset.theme = arguments[0];",
        mode,
    )


def wait_for_math(driver: object) -> None:
    """Wait until MathJax, if the page loads it, has typeset the page."""
    driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "if (!document.querySelector(\"script[src*='mathjax']\")) { done(false); return; }"
        "(async () => { for (let i = 0; i < 200 && !(window.MathJax && MathJax.startup"
        " && MathJax.startup.promise); i++) await new Promise(r => setTimeout(r, 50));"
        " if (window.MathJax && MathJax.startup) await MathJax.startup.promise; done(true); })()"
        ".catch(() => done(false));"
    )


def screenshots(
    driver: object, base: str, shots: list[tuple[str, str | None, Path]], mode: str
) -> None:
    """Save PNGs in colour ``mode``: for each ``(page, selector, path)`` open ``base + page``,
    scroll to ``selector`` (the top if ``None``) and save the window to ``path``."""
    driver.get(base + shots[0][0])
    set_color_mode(driver, mode)  # stored in localStorage: every page of the origin uses it
    for page, selector, path in shots:
        driver.get(base + page)
        wait_for_math(driver)
        driver.execute_async_script(
            "const [sel, done] = [arguments[0], arguments[arguments.length - 1]];"
            "const el = sel && document.querySelector(sel);"
            "if (el) { el.scrollIntoView({block: 'start'}); window.scrollBy(0, -80); }"
            "requestAnimationFrame(() => requestAnimationFrame(() => done(true)));",
            selector,
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(path))


def book_pages(root: Path) -> list[str]:
    """Every HTML page of a built book, relative to ``root`` (no _static/_sources copies)."""
    skip = {"_static", "_sources", "_images", "mathjax", "reports", "_sphinx_design_static"}
    return sorted(
        str(p.relative_to(root))
        for p in root.rglob("*.html")
        if not (set(p.relative_to(root).parts) & skip)
    )
