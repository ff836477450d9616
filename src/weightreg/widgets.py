"""Interactive explorers that work in Jupyter *and* in the static HTML book.

Introduced in the chapter on L2 regularization and used by every chapter with
sliders.  ``explorer(draw, controls)`` has two faces:

* **live** (a student's Jupyter session): ``ipywidgets`` controls; every move
  calls ``draw`` again in the kernel;
* **static** (the HTML book, built without a kernel behind it): every
  combination of the control values is drawn once at build time, and the page
  gets range sliders and drop-down lists plus a few lines of inline JavaScript
  that swap the pre-rendered images.  No kernel, no network, no external script.

A control whose values are all numbers (``int``/``float``, not ``bool``) is a **slider**;
any other control (strings such as ``"coupled"``/``"decoupled"``, booleans) is
**categorical** and gets a **drop-down list** in both faces (:func:`categorical`).

Which face is shown: ``live=None`` picks *static* when the environment variable
``WEIGHTREG_STATIC_WIDGETS`` is ``"1"`` (the book's build sets it) and *live*
otherwise.  Keep the grid small: at most :data:`MAX_FRAMES` combinations.
"""

from __future__ import annotations

import base64
import hashlib
import html
import io
import itertools
import json
import math
import numbers
import os
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import matplotlib.pyplot as plt

from .validation import check_positive_int

__all__ = ["MAX_FRAMES", "StaticExplorer", "categorical", "explorer", "static_mode"]

MAX_FRAMES = 150
"""Upper bound on the number of pre-rendered frames of one static explorer."""

Draw = Callable[..., None]


def static_mode() -> bool:
    """True when explorers should render the static (kernel-free) face."""
    return os.environ.get("WEIGHTREG_STATIC_WIDGETS", "") == "1"


def categorical(values: Sequence[Any]) -> bool:
    """True when a control's ``values`` are not all real numbers: it gets a drop-down list.

    Numbers (``int``, ``float``, not ``bool``) make an ordered scale, shown as a slider;
    names, booleans and anything else are choices without an order.  ``values`` is a
    non-empty sequence (not a string).
    """
    if isinstance(values, str | bytes | dict) or not isinstance(values, Iterable):
        raise TypeError(f"values must be a sequence of control values, got {values!r:.60}")
    values = list(values)
    if not values:
        raise ValueError("values must list at least one control value")
    return not all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in values)


def _check_controls(controls: dict[str, Sequence[Any]]) -> dict[str, list[Any]]:
    if not isinstance(controls, dict) or not controls:
        raise TypeError("controls must be a non-empty dict {name: sequence of values}")
    out = {}
    for name, values in controls.items():
        if not isinstance(name, str) or not name:
            raise TypeError(
                f"controls keys must be parameter names of draw (non-empty str), got {name!r}"
            )
        if isinstance(values, str | bytes | dict) or not isinstance(values, Iterable):
            raise TypeError(
                f"controls[{name!r}] must be a sequence of the values its slider steps through, "
                f"got {type(values).__name__}"
            )
        values = list(values)
        if not values:
            raise ValueError(f"controls[{name!r}] must list at least one value")
        out[name] = values
    n = 1
    for values in out.values():
        n *= len(values)
    if n > MAX_FRAMES:
        raise ValueError(
            f"controls give {n} combinations; the static explorer allows at most {MAX_FRAMES}: "
            "use fewer values per control"
        )
    return out


def _check_figsize(figsize: object) -> tuple[float, float]:
    ok = (
        isinstance(figsize, tuple | list)
        and len(figsize) == 2
        and all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in figsize)
    )
    if not ok:
        raise TypeError(f"figsize must be a pair (width, height) of numbers, got {figsize!r:.60}")
    if not all(math.isfinite(v) and v > 0 for v in figsize):
        raise ValueError(f"figsize must hold two finite numbers > 0 (inches), got {figsize!r}")
    return (float(figsize[0]), float(figsize[1]))


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _render(
    draw: Draw, figsize: tuple[float, float], dpi: int, params: dict[str, Any], box: Any
) -> tuple[str, Any]:
    """Draw one frame; return it as base64 PNG, and the box (inches) it was saved with.

    ``box=None`` (the first frame of an explorer) computes the box: the union of the figure's
    own extent and the padded tight bounding box of its artists, so that nothing inside the
    figure is ever cropped and what sticks out of the first frame is kept. The later frames
    are saved with that same box: all frames have the same size (steady when scrubbing), and
    each is laid out once, where ``bbox_inches="tight"`` lays every frame out twice.
    """
    from matplotlib.transforms import Bbox

    fig = plt.figure(figsize=figsize)
    try:
        draw(fig, **params)
        if box is None:
            fig.draw_without_rendering()
            tight = fig.get_tightbbox().padded(plt.rcParams["savefig.pad_inches"])
            box = Bbox.union([tight, Bbox.from_bounds(0, 0, *fig.get_size_inches())])
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=dpi, bbox_inches=box)
    finally:
        plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii"), box


_SCRIPT = """
(function () {
  var root = document.getElementById("%(id)s");
  if (!root || root.getAttribute("data-ready")) { return; }
  var frames = %(frames)s, names = %(names)s, labels = %(labels)s;
  var img = root.querySelector("img.wr-frame");
  var inputs = root.querySelectorAll("input[type=range], select");
  var outputs = root.querySelectorAll("output");
  function update() {
    var key = [];
    for (var i = 0; i < inputs.length; i++) {
      key.push(inputs[i].value);
      outputs[i].textContent = labels[names[i]][+inputs[i].value];
    }
    var frame = frames[key.join(",")];
    if (frame === undefined) { return; }
    img.src = "data:image/png;base64," + frame;
    img.setAttribute("data-key", key.join(","));
  }
  for (var i = 0; i < inputs.length; i++) {
    inputs[i].addEventListener("input", update);
    inputs[i].addEventListener("change", update);
  }
  root.setAttribute("data-ready", "1");
  update();
})();
"""

_COUNTER = itertools.count()
"""Numbers the explorers of one kernel session, so that two identical explorers on one page
get different element ids (deterministic: the n-th explorer of a notebook gets n)."""


def _json_for_script(value: Any) -> str:
    """JSON that is safe inside an HTML ``<script>`` element (no ``</script>``, no ``<!--``)."""
    text = json.dumps(value)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


class StaticExplorer:
    """Pre-rendered frames plus sliders; its ``_repr_html_`` is self-contained HTML."""

    def __init__(
        self,
        frames: dict[str, str],
        controls: dict[str, list[Any]],
        initial: dict[str, int],
        title: str | None,
    ) -> None:
        self.frames = frames
        self.controls = controls
        self.initial = initial
        self.title = title
        self.number = next(_COUNTER)

    def _repr_html_(self) -> str:
        digest = hashlib.sha1("".join(self.frames.values()).encode()).hexdigest()
        uid = f"wr-{digest[:12]}-{self.number}"
        names = list(self.controls)
        labels = {n: [_fmt(v) for v in vals] for n, vals in self.controls.items()}
        rows = []
        for i, name in enumerate(names):
            top = len(self.controls[name]) - 1
            start = self.initial[name]
            attrs = f'data-name="{html.escape(name)}" aria-label="{html.escape(name)}"'
            shown = html.escape(labels[name][start])
            if categorical(self.controls[name]):
                options = "".join(
                    f'<option value="{j}"{" selected" if j == start else ""}>'
                    f"{html.escape(label)}</option>"
                    for j, label in enumerate(labels[name])
                )
                control = f'<select {attrs} style="max-width:22em">{options}</select>'
                # the drop-down shows its value itself; the hidden output keeps one per control
                output = f'<output id="{uid}-val-{i}" hidden>{shown}</output>'
            else:
                control = (
                    f'<input type="range" min="0" max="{top}" step="1" value="{start}" '
                    f'{attrs} style="flex:1;max-width:22em">'
                )
                output = f'<output id="{uid}-val-{i}" style="min-width:5em">{shown}</output>'
            rows.append(
                f'<label style="display:flex;flex-wrap:wrap;gap:.6em;align-items:center;'
                f'margin:.2em 0"><span style="min-width:7em"><code>{html.escape(name)}</code>'
                f"</span>{control}{output}</label>"
            )
        first = ",".join(str(self.initial[n]) for n in names)
        title = f"<p><strong>{html.escape(self.title)}</strong></p>" if self.title else ""
        script = _SCRIPT % {
            "id": uid,
            "frames": _json_for_script(self.frames),
            "names": _json_for_script(names),
            "labels": _json_for_script(labels),
        }
        return (
            f'<div class="wr-explorer" id="{uid}" data-frames="{len(self.frames)}">{title}'
            + "".join(rows)
            + f'<img class="wr-frame" alt="explorer figure" style="max-width:100%" '
            f'data-key="{first}" src="data:image/png;base64,{self.frames[first]}">'
            + f"<script>{script}</script></div>"
        )


def explorer(
    draw: Draw,
    controls: dict[str, Sequence[Any]],
    *,
    initial: dict[str, Any] | None = None,
    title: str | None = None,
    figsize: tuple[float, float] = (8.0, 3.2),
    dpi: int = 80,
    live: bool | None = None,
):
    """An explorer of ``draw(fig, **params)`` over the values listed in ``controls``.

    ``draw`` receives an empty matplotlib ``Figure`` and one keyword per
    control, and draws into the figure.  ``controls`` maps each parameter name
    to the values its slider steps through (e.g. ``{"k": [0.5, 1, 2, 3]}``);
    ``initial`` picks the starting values (default: the first of each).
    Returns an ``ipywidgets`` widget in live mode and a :class:`StaticExplorer`
    (display it, or let it be the cell's last expression) in static mode.
    """
    if not callable(draw):
        raise TypeError("draw must be a callable draw(fig, **params)")
    controls = _check_controls(controls)
    if initial is None:
        initial = {}
    if not isinstance(initial, dict):
        raise TypeError(f"initial must be None or a dict {{name: value}}, got {initial!r:.60}")
    if title is not None and not isinstance(title, str):
        raise TypeError(f"title must be None or a str, got {type(title).__name__}")
    figsize = _check_figsize(figsize)
    dpi = check_positive_int("dpi", dpi)
    if live is not None and not isinstance(live, bool):
        raise TypeError(f"live must be None, True or False, got {live!r:.60}")
    unknown = set(initial) - set(controls)
    if unknown:
        raise ValueError(f"initial names unknown controls: {sorted(unknown)}")
    start = {}
    for name, values in controls.items():
        if name in initial:
            if initial[name] not in values:
                raise ValueError(f"initial[{name!r}]={initial[name]!r} is not among its values")
            start[name] = values.index(initial[name])
        else:
            start[name] = 0
    if live is None:
        live = not static_mode()
    if live:
        return _live(draw, controls, start, figsize)
    frames = {}
    box = None
    for idx in itertools.product(*(range(len(v)) for v in controls.values())):
        params = {n: controls[n][i] for n, i in zip(controls, idx, strict=True)}
        frames[",".join(map(str, idx))], box = _render(draw, figsize, dpi, params, box)
    return StaticExplorer(frames, controls, start, title)


def _live(draw: Draw, controls: dict[str, list[Any]], start: dict[str, int], figsize):
    import ipywidgets as W

    def control(name: str, values: list[Any]):
        kind = W.Dropdown if categorical(values) else W.SelectionSlider
        extra = {} if kind is W.Dropdown else {"continuous_update": False}
        return kind(
            options=[(_fmt(v), v) for v in values],
            value=values[start[name]],
            description=name,
            **extra,
        )

    sliders = {name: control(name, values) for name, values in controls.items()}
    out = W.Output()

    def redraw(**params: Any) -> None:
        with out:
            out.clear_output(wait=True)
            fig = plt.figure(figsize=figsize)
            draw(fig, **params)
            plt.show()

    W.interactive_output(redraw, sliders)
    return W.VBox([*sliders.values(), out])
