"""weightreg.widgets: the explorer's static (kernel-free) face and its argument checks.

The static face is also exercised in a real browser by tests/test_browser.py (its slider must
change the image); here we check the HTML it writes and the frames it renders.
"""

from __future__ import annotations

import base64
import html.parser
import json
import re

import pytest

from weightreg import widgets
from weightreg.widgets import MAX_FRAMES, StaticExplorer, explorer, static_mode

PNG = b"\x89PNG\r\n\x1a\n"


def draw(fig, k, alpha):
    ax = fig.add_subplot()
    ax.plot([0, 1], [0, k * alpha])
    ax.set_title(f"{k} {alpha}")


class _Tags(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.scripts: list[str] = []
        self._script = False

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, {k: v or "" for k, v in attrs}))
        self._script = tag == "script"

    def handle_endtag(self, tag):
        self._script = False

    def handle_data(self, data):
        if self._script:
            self.scripts.append(data)


def parse(text: str) -> _Tags:
    parser = _Tags()
    parser.feed(text)
    return parser


@pytest.fixture(scope="module")
def demo() -> StaticExplorer:
    return explorer(draw, {"k": [1, 2, 3], "alpha": [0.5, 1.0]}, initial={"k": 2}, live=False)


def test_one_png_frame_per_combination(demo):
    assert set(demo.frames) == {f"{i},{j}" for i in range(3) for j in range(2)}
    for frame in demo.frames.values():
        assert base64.b64decode(frame).startswith(PNG)
    assert len(set(demo.frames.values())) == 6  # every combination draws something different


def test_html_has_sliders_image_and_script(demo):
    page = parse(demo._repr_html_())
    sliders = [a for t, a in page.tags if t == "input"]
    assert [(s["type"], s["min"], s["max"], s["value"]) for s in sliders] == [
        ("range", "0", "2", "1"),  # k starts at 2, index 1
        ("range", "0", "1", "0"),
    ]
    imgs = [a for t, a in page.tags if t == "img"]
    assert len(imgs) == 1 and "wr-frame" in imgs[0]["class"]
    assert imgs[0]["data-key"] == "1,0"
    assert imgs[0]["src"] == "data:image/png;base64," + demo.frames["1,0"]
    assert len(page.scripts) == 1
    # nothing fetched: no URL, no request, no script loading
    fetching = r"https?://|fetch\(|XMLHttpRequest|createElement|import\("
    assert not re.search(fetching, page.scripts[0])
    outputs = [a for t, a in page.tags if t == "output"]
    assert len(outputs) == 2


def test_script_embeds_every_frame_and_label(demo):
    script = parse(demo._repr_html_()).scripts[0]
    frames = json.loads(re.search(r"var frames = (\{.*?\}),", script).group(1))
    assert frames == demo.frames
    labels = json.loads(re.search(r"labels = (\{.*?\});", script).group(1))
    assert labels == {"k": ["1", "2", "3"], "alpha": ["0.5", "1"]}


def test_two_identical_explorers_get_different_ids():
    a = explorer(draw, {"k": [1, 2], "alpha": [1.0]}, live=False)
    b = explorer(draw, {"k": [1, 2], "alpha": [1.0]}, live=False)
    ids = [
        next(attrs["id"] for tag, attrs in parse(e._repr_html_()).tags if tag == "div")
        for e in (a, b)
    ]
    assert ids[0] != ids[1]
    assert a._repr_html_() == a._repr_html_()  # rendering twice gives the same HTML


def test_frames_are_deterministic():
    a = explorer(draw, {"k": [1, 2], "alpha": [1.0]}, live=False)
    b = explorer(draw, {"k": [1, 2], "alpha": [1.0]}, live=False)
    assert a.frames == b.frames


def test_names_cannot_break_out_of_the_script():
    nasty = "</script><script>alert(1)</script>"
    e = explorer(lambda fig, **kw: fig.add_subplot(), {nasty: [1, 2]}, live=False)
    text = e._repr_html_()
    assert text.count("</script>") == 1
    page = parse(text)
    assert len(page.scripts) == 1
    assert "\\u003c/script\\u003e" in page.scripts[0]


def test_static_mode_follows_the_environment(monkeypatch):
    monkeypatch.setenv("WEIGHTREG_STATIC_WIDGETS", "1")
    assert static_mode()
    assert isinstance(explorer(draw, {"k": [1], "alpha": [1.0]}), StaticExplorer)
    monkeypatch.setenv("WEIGHTREG_STATIC_WIDGETS", "0")
    assert not static_mode()


def test_live_face_is_an_ipywidgets_box():
    ipywidgets = pytest.importorskip("ipywidgets")
    box = explorer(draw, {"k": [1, 2], "alpha": [0.5]}, live=True)
    assert isinstance(box, ipywidgets.VBox)
    sliders = [c for c in box.children if isinstance(c, ipywidgets.SelectionSlider)]
    assert [s.description for s in sliders] == ["k", "alpha"]


def draw_method(fig, method, k):
    ax = fig.add_subplot()
    ax.plot([0, 1], [0, k if method == "prox" else -k])
    ax.set_title(f"{method} {k}")


@pytest.mark.parametrize(
    ("values", "expected"),
    [([1, 2.5], False), (["prox", "gradient"], True), ([True, False], True), ([1, "a"], True)],
)
def test_categorical_is_anything_but_plain_numbers(values, expected):
    assert widgets.categorical(values) is expected


def test_categorical_controls_are_drop_down_lists_in_html():
    e = explorer(draw_method, {"method": ["gradient", "prox"], "k": [1, 2]}, live=False)
    page = parse(e._repr_html_())
    selects = [a for t, a in page.tags if t == "select"]
    assert [s["data-name"] for s in selects] == ["method"]
    options = [(a["value"], "selected" in a) for t, a in page.tags if t == "option"]
    assert options == [("0", True), ("1", False)]
    sliders = [a for t, a in page.tags if t == "input"]
    assert [s["data-name"] for s in sliders] == ["k"]
    # one output per control, in control order, so the script addresses them alike
    assert len([a for t, a in page.tags if t == "output"]) == 2
    assert 'querySelectorAll("input[type=range], select")' in page.scripts[0]


def test_live_categorical_control_is_a_dropdown():
    pytest.importorskip("ipywidgets")
    box = explorer(draw_method, {"method": ["gradient", "prox"], "k": [1, 2]}, live=True)
    kinds = [type(c).__name__ for c in box.children[:2]]
    assert kinds == ["Dropdown", "SelectionSlider"]
    assert box.children[0].value == "gradient"


@pytest.mark.parametrize(
    ("controls", "initial", "error", "match"),
    [
        ({}, None, TypeError, "non-empty dict"),
        ([("k", [1])], None, TypeError, "non-empty dict"),
        ({"k": []}, None, ValueError, "at least one value"),
        ({"k": range(MAX_FRAMES + 1)}, None, ValueError, "at most"),
        ({"k": [1, 2]}, {"q": 1}, ValueError, "unknown controls"),
        ({"k": [1, 2]}, {"k": 3}, ValueError, "not among its values"),
    ],
)
def test_bad_arguments_are_explained(controls, initial, error, match):
    with pytest.raises(error, match=match):
        explorer(draw, controls, initial=initial, live=False)


def test_draw_must_be_callable():
    with pytest.raises(TypeError, match="callable"):
        explorer("not a function", {"k": [1]}, live=False)


def test_figures_are_closed():
    import matplotlib.pyplot as plt

    before = len(plt.get_fignums())
    explorer(draw, {"k": [1, 2, 3], "alpha": [1.0]}, live=False)
    assert len(plt.get_fignums()) == before


def test_each_frame_is_drawn_once_with_its_own_values():
    calls = []

    def record(fig, k, alpha):
        calls.append((k, alpha))
        draw(fig, k, alpha)

    e = explorer(record, {"k": [1, 2, 3], "alpha": [0.5, 1.0]}, live=False)
    assert sorted(calls) == sorted((k, a) for k in (1, 2, 3) for a in (0.5, 1.0))
    # the frame stored under "i,j" is the drawing of the i-th k and the j-th alpha
    again = explorer(draw, {"k": [3], "alpha": [0.5]}, live=False)
    assert e.frames["2,0"] == again.frames["0,0"]
    assert e.frames["0,1"] == explorer(draw, {"k": [1], "alpha": [1.0]}, live=False).frames["0,0"]


@pytest.mark.parametrize(
    ("shape", "ok"),
    [((MAX_FRAMES,), True), ((MAX_FRAMES, 1), True), ((MAX_FRAMES // 2 + 1, 2), False)],
)
def test_the_frame_limit_counts_combinations(monkeypatch, shape, ok):
    """Up to MAX_FRAMES combinations of all the controls render; one more is refused."""
    rendered = []
    monkeypatch.setattr(
        widgets, "_render", lambda d, f, dpi, params, box: (rendered.append(params) or "", box)
    )
    controls = {f"c{i}": list(range(n)) for i, n in enumerate(shape)}
    if ok:
        assert len(explorer(draw, controls, live=False).frames) == len(rendered) == MAX_FRAMES
    else:
        with pytest.raises(
            ValueError, match=f"combinations; the static explorer allows at most {MAX_FRAMES}"
        ):
            explorer(draw, controls, live=False)
        assert rendered == []


def test_frames_share_one_size_and_keep_what_sticks_out():
    """Every frame is saved with one box: the figure's extent plus what the first frame draws
    outside it (here a label left of the figure), so scrubbing never changes the image size."""

    def wide(fig, k):
        ax = fig.add_axes((0.0, 0.1, 1.0, 0.8))
        ax.set_ylabel("a label outside the figure " * k)
        ax.plot([0, 1], [0, k])

    e = explorer(wide, {"k": [1, 2]}, figsize=(4.0, 3.0), dpi=50, live=False)
    sizes = {
        (int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big"))
        for png in (base64.b64decode(f) for f in e.frames.values())
    }
    assert len(sizes) == 1
    width, height = sizes.pop()
    assert width > 4 * 50 and height >= 3 * 50  # the outside label is kept, nothing cropped
