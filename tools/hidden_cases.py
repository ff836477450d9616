"""Hidden test cases of the code exercises, for the nbgrader course (``tools/grading.py``).

:data:`HIDDEN` maps a self-check's name (``check.<name>``) to Python code that the grader runs
in the student's kernel after the chapter, in a test cell the student never sees: ``{fn}`` is
the student's function (the first argument of the check call) and ``_hidden_compare(got,
expected, what)`` (:data:`_HIDDEN_COMPARE`, defined in the same cell) asserts that a result has
the expected shape and values. The cases use other inputs (shapes, seeds, parameters) than the
visible self-check, and compare with the library's reference or a reference written here.
Literal braces in the code are doubled (``{{_k}}``): the code is a ``str.format`` template.
"""

from __future__ import annotations

_HIDDEN_COMPARE = """\
def _hidden_compare(got, expected, what):
    import torch as _t
    if not isinstance(got, _t.Tensor) and isinstance(got, (int, float)):
        got = _t.tensor(float(got))
    assert isinstance(got, _t.Tensor), f"hidden case {what}: not a tensor or a number"
    if expected.dim() == 0 and got.numel() == 1:
        got = got.reshape(())
    assert tuple(got.shape) == tuple(expected.shape), f"hidden case {what}: wrong shape"
    ok = _t.allclose(got.detach().double(), expected.double(), rtol=2e-5, atol=1e-6)
    assert ok, f"hidden case {what}: wrong values"
"""

HIDDEN: dict[str, str] = {
    "lk_grad": """\
import torch as _t
import weightreg.penalties as _p
_gen = _t.Generator().manual_seed(2718)
for _k, _alpha in [(1.3, 0.7), (2.5, 1.9), (4.0, 0.3), (0.75, 1.1)]:
    _w = _t.randn(3, 5, generator=_gen, dtype=_t.float64) * 2
    _hidden_compare({fn}(_w.clone(), _k, _alpha), _p.lk_grad(_w, _k, _alpha), f"k={{_k}}")
""",
    "prox_l1": """\
import torch as _t
import weightreg.penalties as _p
_gen = _t.Generator().manual_seed(2718)
for _tau in [0.05, 0.4, 1.7]:
    _z = _t.randn(4, 6, generator=_gen, dtype=_t.float64) * 2
    _hidden_compare({fn}(_z.clone(), _tau), _p.prox_l1(_z, _tau), f"t={{_tau}}")
""",
    "project_l2_ball": """\
import torch as _t
import weightreg.constraints as _c
_gen = _t.Generator().manual_seed(2718)
for _r in [0.3, 2.5, 7.0]:
    _w = _t.randn(4, 3, generator=_gen, dtype=_t.float32) * 3
    _hidden_compare({fn}(_w.clone(), _r), _c.project_l2_ball(_w, _r), f"radius={{_r}}")
""",
    "shift_images": """\
import torch as _t
def _reference_shift(images, dx, dy):
    out = _t.zeros_like(images)
    h, w = images.shape[-2:]
    for i in range(h):
        for j in range(w):
            if 0 <= i + dy < h and 0 <= j + dx < w:
                out[:, i + dy, j + dx] = images[:, i, j]
    return out
_gen = _t.Generator().manual_seed(2718)
_images = _t.rand(2, 7, 4, generator=_gen, dtype=_t.float64) + 0.5
for _dx, _dy in [(3, 1), (-2, -4), (1, 5)]:
    _hidden_compare({fn}(_images.clone(), _dx, _dy), _reference_shift(_images, _dx, _dy),
                    f"dx={{_dx}}, dy={{_dy}}")
""",
    "l2_penalty": """\
import torch as _t
_gen = _t.Generator().manual_seed(2718)
for _lambd in [0.01, 1.3, 4.0]:
    _w = _t.randn(5, 3, generator=_gen, dtype=_t.float32)
    _hidden_compare({fn}(_w.clone(), _lambd), _lambd / 2 * (_w.double() ** 2).sum(), _lambd)
""",
    "lk_norm": """\
import torch as _t
_gen = _t.Generator().manual_seed(2718)
for _k in [0.7, 1.0, 2.0, 3.5, float("inf")]:
    _w = _t.randn(3, 4, generator=_gen, dtype=_t.float64)
    _a = _w.abs()
    _ref = _a.max() if _k == float("inf") else (_a**_k).sum() ** (1 / _k)
    _hidden_compare({fn}(_w.clone(), _k), _ref, f"k={{_k}}")
""",
    "smoothed_cross_entropy": """\
import torch as _t
import torch.nn.functional as _F
_gen = _t.Generator().manual_seed(2718)
for _eps in [0.05, 0.3]:
    _logits = _t.randn(7, 4, generator=_gen, dtype=_t.float32) * 3
    _labels = _t.randint(0, 4, (7,), generator=_gen)
    _ref = _F.cross_entropy(_logits.double(), _labels, label_smoothing=_eps)
    _hidden_compare({fn}(_logits.clone(), _labels.clone(), _eps), _ref, f"eps={{_eps}}")
""",
    "dropout_penalty": """\
import torch as _t
import weightreg.dropout as _d
_gen = _t.Generator().manual_seed(2718)
for _p in [0.1, 0.45, 0.8]:
    _X = _t.randn(9, 4, generator=_gen, dtype=_t.float64)
    _w = _t.randn(4, generator=_gen, dtype=_t.float64)
    _ref = _t.as_tensor(_d.dropout_penalty(_X, _w, _p), dtype=_t.float64)
    _hidden_compare({fn}(_X.clone(), _w.clone(), _p), _ref, f"p={{_p}}")
""",
    "ridge_loo": """\
import torch as _t
import weightreg.selection as _s
_gen = _t.Generator().manual_seed(2718)
for _n, _d, _alpha in [(11, 3, 0.4), (6, 9, 2.5)]:
    _X = _t.randn(_n, _d, generator=_gen, dtype=_t.float64)
    _y = _t.randn(_n, generator=_gen, dtype=_t.float64)
    _ref = _s.ridge_loo_residuals(_X, _y, _alpha)
    _hidden_compare({fn}(_X.clone(), _y.clone(), _alpha), _ref, f"n={{_n}}, d={{_d}}")
""",
    "null_space_part": """\
import torch as _t
_gen = _t.Generator().manual_seed(2718)
for _n, _d in [(3, 8), (5, 11)]:
    _X = _t.randn(_n, _d, generator=_gen, dtype=_t.float32)
    _w = _t.randn(_d, generator=_gen, dtype=_t.float32)
    _Xd, _wd = _X.double(), _w.double()
    _ref = _wd - _t.linalg.pinv(_Xd) @ (_Xd @ _wd)
    _hidden_compare({fn}(_X.clone(), _w.clone()), _ref, f"n={{_n}}, d={{_d}}")
""",
    "flow_decay": """\
import torch as _t
import weightreg.dynamics as _dyn
for _w0, _k, _alpha, _tf in [(1.7, 3.0, 0.4, 0.9), (-0.6, 4.5, 1.3, 0.05), (2.2, 10.0, 0.02, 3.0)]:
    _ref = _t.as_tensor(_dyn.flow_solution(_t.tensor(_w0, dtype=_t.float64), _k, _alpha, _tf))
    _hidden_compare({fn}(_t.tensor(_w0, dtype=_t.float64), _k, _alpha, _tf),
                    _ref.reshape(()), f"w0={{_w0}}, k={{_k}}")
""",
    "ema_weights": """\
import torch as _t
_gen = _t.Generator().manual_seed(2718)
for _T, _wd in [(6, 0.1), (9, 0.02)]:
    _w0 = _t.randn(2, 3, generator=_gen, dtype=_t.float64)
    _u = _t.randn(_T, 2, 3, generator=_gen, dtype=_t.float64)
    _lrs = _t.rand(_T, generator=_gen, dtype=_t.float64) * 0.5
    _ref = _w0.clone()
    for _i in range(_T):
        _ref = (1 - _lrs[_i] * _wd) * _ref - _lrs[_i] * _u[_i]
    _hidden_compare({fn}(_w0.clone(), _u.clone(), _lrs.clone(), _wd), _ref, f"T={{_T}}")
""",
}
"""Hidden cases per self-check: code run in the student's kernel after the chapter, with
``{fn}`` the student's function; it asserts (via ``_hidden_compare``) that the function agrees
with the library's reference (or a reference written here) on random inputs of other shapes,
seeds and parameters than the self-check's. A check not listed here has no hidden test cell
yet, and its self-check carries all the points of the exercise."""


