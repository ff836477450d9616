"""Hidden test cases of the code exercises, for the nbgrader course (``tools/grading.py``).

:data:`HIDDEN` maps a self-check's name (``check.<name>``) to Python code that the grader runs
in the student's kernel after the chapter, in a test cell the student never sees: ``{fn}`` is
the student's function (the first argument of the check call) and ``_hidden_compare(got,
expected, what)`` (:data:`_HIDDEN_COMPARE`, defined in the same cell) asserts that a result has
the expected shape and values: a tensor (a number where a 0-d tensor is expected), a tuple or
list compared item by item, a NumPy array (a tensor or a list accepted, NaN where NaN is
expected), a float (a one-number tensor or array accepted unless ``number=True``: then a
Python or NumPy number only), an int or a bool (exactly); ``rtol``/``atol`` set the tolerance
(float32 answers of the float32 chapters pass). ``_hidden_untouched(given, original, what)``
asserts that the function left an input it was handed (a clone) unchanged, and
``_hidden_new(result, inputs, what)`` that no returned tensor is an input (or a view of one).
The cases use other inputs (shapes, seeds, parameters) than the visible self-check, and compare
with the library's reference or a reference written here; every name they bind starts with
``_`` (they run in the student's kernel), and they hand the student clones of what they reuse.
Literal braces in the code are doubled (``{{_k}}``): the code is a ``str.format`` template.
"""

from __future__ import annotations

_HIDDEN_COMPARE = """\
def _hidden_compare(got, expected, what, rtol=2e-5, atol=1e-6, number=False):
    import math as _m
    import numpy as _np
    import torch as _t
    if isinstance(expected, (tuple, list)):
        assert isinstance(got, (tuple, list)), f"hidden case {what}: not a tuple or a list"
        assert len(got) == len(expected), f"hidden case {what}: {len(got)} results"
        for _i, (_g, _e) in enumerate(zip(got, expected)):
            _hidden_compare(_g, _e, f"{what}, result {_i}", rtol, atol, number)
        return
    if isinstance(expected, bool):
        assert isinstance(got, (bool, _np.bool_)), f"hidden case {what}: not a bool"
        assert bool(got) == expected, f"hidden case {what}: wrong value"
        return
    if isinstance(expected, int):
        ok = isinstance(got, (int, _np.integer)) and not isinstance(got, bool)
        assert ok, f"hidden case {what}: not an int"
        assert int(got) == expected, f"hidden case {what}: wrong value"
        return
    if isinstance(expected, float):
        if number:
            ok = isinstance(got, (int, float, _np.floating)) and not isinstance(got, bool)
            assert ok, f"hidden case {what}: not a Python float"
        if isinstance(got, (_t.Tensor, _np.ndarray)):
            _n = got.numel() if isinstance(got, _t.Tensor) else got.size
            assert _n == 1, f"hidden case {what}: not one number"
            got = got.item()
        ok = isinstance(got, (int, float, _np.number)) and not isinstance(got, bool)
        assert ok, f"hidden case {what}: not a number"
        got = float(got)
        ok = _m.isfinite(got) and abs(got - expected) <= atol + rtol * abs(expected)
        assert ok, f"hidden case {what}: wrong value"
        return
    if isinstance(expected, _np.ndarray):
        if isinstance(got, _t.Tensor):
            got = got.detach().cpu().numpy()
        try:
            got = _np.asarray(got, dtype=_np.float64)
        except (TypeError, ValueError):
            raise AssertionError(f"hidden case {what}: not an array of numbers") from None
        assert got.shape == expected.shape, f"hidden case {what}: wrong shape"
        ok = _np.allclose(got, expected, rtol=rtol, atol=atol, equal_nan=True)
        assert ok, f"hidden case {what}: wrong values"
        return
    if not isinstance(got, _t.Tensor) and isinstance(got, (int, float, _np.floating)):
        got = _t.tensor(float(got))
    assert isinstance(got, _t.Tensor), f"hidden case {what}: not a tensor or a number"
    if expected.dim() == 0 and got.numel() == 1:
        got = got.reshape(())
    assert tuple(got.shape) == tuple(expected.shape), f"hidden case {what}: wrong shape"
    ok = _t.allclose(got.detach().double(), expected.double(), rtol=rtol, atol=atol)
    assert ok, f"hidden case {what}: wrong values"
def _hidden_untouched(given, original, what):
    import numpy as _np
    import torch as _t
    same = tuple(given.shape) == tuple(original.shape)
    if same and isinstance(original, _t.Tensor):
        same = bool(_t.equal(given, original))
    elif same:
        same = bool(_np.array_equal(given, original, equal_nan=True))
    assert same, f"hidden case {what}: your function changed an input in place"
def _hidden_new(result, inputs, what):
    import torch as _t
    for _r in result if isinstance(result, (tuple, list)) else [result]:
        for _x in inputs:
            if isinstance(_r, _t.Tensor) and _r.numel() > 0 and _x.numel() > 0:
                _same = _r.untyped_storage().data_ptr() == _x.untyped_storage().data_ptr()
                assert not _same, f"hidden case {what}: a result is an input (or a view of one)"
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
_taus = [0.05, 0.4, 1.7, _t.rand(6, generator=_gen, dtype=_t.float64) * 1.5]
for _i, _tau in enumerate(_taus):
    _z = _t.randn(4, 6, generator=_gen, dtype=_t.float64) * 2
    _given = _z.clone()
    _what = f"t={{_tau}}" if _i < 3 else "a tensor t of shape (6,)"
    _out = {fn}(_given, _tau.clone() if isinstance(_tau, _t.Tensor) else _tau)
    _hidden_untouched(_given, _z, _what)
    _hidden_compare(_out, _p.prox_l1(_z, _tau), _what)
""",
    "project_l2_ball": """\
import torch as _t
import weightreg.constraints as _c
_gen = _t.Generator().manual_seed(2718)
for _r in [0.3, 2.5, 7.0]:
    _w = _t.randn(4, 3, generator=_gen, dtype=_t.float32) * 3
    _given = _w.clone()
    _out = {fn}(_given, _r)
    _hidden_untouched(_given, _w, f"radius={{_r}}")
    _hidden_compare(_out, _c.project_l2_ball(_w, _r), f"radius={{_r}}")
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
    _given = _images.clone()
    _out = {fn}(_given, _dx, _dy)
    _hidden_untouched(_given, _images, f"dx={{_dx}}, dy={{_dy}}")
    _hidden_compare(_out, _reference_shift(_images, _dx, _dy), f"dx={{_dx}}, dy={{_dy}}")
""",
    "l2_penalty": """\
import torch as _t
_gen = _t.Generator().manual_seed(2718)
for _lambd in [0.01, 1.3, 4.0]:
    _w = _t.randn(5, 3, generator=_gen, dtype=_t.float32)
    _given = _w.clone().requires_grad_(True)
    _out = {fn}(_given, _lambd)
    _hidden_untouched(_given.detach(), _w, _lambd)
    assert isinstance(_out, _t.Tensor) and _out.dim() == 0, f"hidden case {{_lambd}}: not 0-d"
    _hidden_compare(_out, _lambd / 2 * (_w.double() ** 2).sum(), _lambd)
    assert _out.requires_grad, f"hidden case {{_lambd}}: autograd cannot differentiate it"
    _out.backward()
    _hidden_compare(_given.grad, _lambd * _w.double(), f"{{_lambd}}, gradient")
""",
    "lk_norm": """\
import torch as _t
_gen = _t.Generator().manual_seed(2718)
for _k in [0.7, 1.0, 2.0, 3.5, float("inf")]:
    _w = _t.randn(3, 4, generator=_gen, dtype=_t.float64)
    _a = _w.abs()
    _ref = _a.max() if _k == float("inf") else (_a**_k).sum() ** (1 / _k)
    _given = _w.clone()
    _out = {fn}(_given, _k)
    _hidden_untouched(_given, _w, f"k={{_k}}")
    _hidden_compare(_out, _ref, f"k={{_k}}")
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
    _args = (_X.clone(), _w.clone())
    _out = {fn}(*_args)
    _hidden_untouched(_args[0], _X, f"n={{_n}}, d={{_d}}")
    _hidden_untouched(_args[1], _w, f"n={{_n}}, d={{_d}}")
    _hidden_compare(_out, _ref, f"n={{_n}}, d={{_d}}")
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
    _args = (_w0.clone(), _u.clone(), _lrs.clone())
    _out = {fn}(*_args, _wd)
    for _given, _orig in zip(_args, (_w0, _u, _lrs)):
        _hidden_untouched(_given, _orig, f"T={{_T}}")
    _hidden_compare(_out, _ref, f"T={{_T}}")
""",
    "sgdw_step": """\
import torch as _t
import weightreg.optim as _o
_gen = _t.Generator().manual_seed(2718)
for _shape, _lr, _mu, _wd in [((7,), 0.07, 0.6, 0.8), ((2, 3, 2), 0.25, 0.95, 0.05),
                              ((5, 1), 0.01, 0.0, 3.0)]:
    _w, _g, _buf = (_t.randn(_shape, generator=_gen, dtype=_t.float64).float() for _ in range(3))
    _args = (_w.clone(), _g.clone(), _buf.clone())
    _what = f"shape {{_shape}}, lr={{_lr}}, momentum={{_mu}}, weight_decay={{_wd}}"
    _out = {fn}(*_args, _lr, _mu, _wd)
    for _given, _orig in zip(_args, (_w, _g, _buf)):
        _hidden_untouched(_given, _orig, _what)
    _hidden_new(_out, _args, _what)
    _ref_w, _ref_buf = _w.double(), _buf.double()
    _o.sgd_update_(_ref_w, _g.double(), _ref_buf, lr=_lr, momentum=_mu, weight_decay=_wd,
                   decoupled=True)
    _hidden_compare(_out, (_ref_w, _ref_buf), _what, atol=1e-5)
""",
    "adamw_step": """\
import torch as _t
import weightreg.optim as _o
_gen = _t.Generator().manual_seed(2718)
for _shape, _step, _lr, _betas, _eps, _wd in [
    ((2, 4), 1, 0.05, (0.85, 0.995), 1e-6, 0.3),
    ((7,), 4, 0.3, (0.7, 0.9), 1e-2, 1.5),
    ((3, 1, 2), 12, 0.02, (0.95, 0.98), 0.5, 0.0),
]:
    _w, _g = (_t.randn(_shape, generator=_gen, dtype=_t.float64).float() for _ in range(2))
    _m, _v = _t.zeros(_shape), _t.zeros(_shape)
    if _step > 1:
        _m = 0.3 * _t.randn(_shape, generator=_gen, dtype=_t.float64)
        _v = _t.randn(_shape, generator=_gen, dtype=_t.float64).abs()
    _m, _v = _m.float(), _v.float()
    _args = (_w.clone(), _g.clone(), _m.clone(), _v.clone())
    _what = f"step {{_step}}, lr={{_lr}}, betas={{_betas}}, eps={{_eps}}, weight_decay={{_wd}}"
    _out = {fn}(*_args, _step, _lr, _betas, _eps, _wd)
    for _given, _orig in zip(_args, (_w, _g, _m, _v)):
        _hidden_untouched(_given, _orig, _what)
    _hidden_new(_out, _args, _what)
    _ref = (_w.double(), _m.double(), _v.double())
    _o.adam_update_(_ref[0], _g.double(), _ref[1], _ref[2], _step, lr=_lr, betas=_betas,
                    eps=_eps, weight_decay=_wd, decoupled=True)
    _hidden_compare(_out, _ref, _what, atol=1e-5)
""",
    "l2_multiplier": """\
import math as _m
import torch as _t
import weightreg.constraints as _c
_gen = _t.Generator().manual_seed(2718)
_cases = []
for _shape, _theta in [((3, 4), 2.7), ((9,), 0.4), ((2, 2), 6.0), ((5,), 1.9), ((8,), 3.3)]:
    _w = 4 * _t.randn(_shape, generator=_gen, dtype=_t.float64)
    _w = _c.project_l2_ball(_w.float(), _m.sqrt(_theta))
    _lam = 0.5 + 4 * float(_t.rand((), generator=_gen, dtype=_t.float64))
    _cases.append((_w, -_lam * _w, _theta))
_w = _t.randn(3, 2, generator=_gen, dtype=_t.float64).float()
_e = _t.randn(3, 2, generator=_gen, dtype=_t.float64)
_e = (_e - (_e * _w).sum() / (_w.double() ** 2).sum() * _w).float()  # orthogonal to w
_cases.append((_w, -1.7 * _w + 0.3 * _e, float((_w.double() ** 2).sum())))
_cases.append((_w, -2.5 * _w, float((_w.double() ** 2).sum()) * (1 + 5e-7)))
_cases.append((_w, -2.5 * _w, 2 * float((_w.double() ** 2).sum())))
for _i, (_w, _g, _theta) in enumerate(_cases):
    _wd, _gd = _w.double(), _g.double()
    _sq = float((_wd**2).sum())
    _ref = 0.0 if _sq < (1 - 1e-6) * _theta else float(-(_gd * _wd).sum() / _sq)
    _args = (_w.clone(), _g.clone())
    _what = f"case {{_i}}, theta={{_theta:.4g}}"
    _out = {fn}(*_args, _theta)
    _hidden_untouched(_args[0], _w, _what)
    _hidden_untouched(_args[1], _g, _what)
    _hidden_compare(_out, _ref, _what, number=True)
""",
    "lasso_kkt": """\
import torch as _t
from sklearn.linear_model import Lasso as _Lasso
def _kkt_ref(X, y, w, b, alpha):
    n, d = X.shape
    r = X @ w + b - y
    g = X.T @ r / n
    each = [abs(float(g[j]) + alpha / d * (1.0 if w[j] > 0 else -1.0)) if w[j] != 0
            else max(abs(float(g[j])) - alpha / d, 0.0) for j in range(d)]
    return max(max(each), abs(float(r.mean())))
_gen = _t.Generator().manual_seed(2718)
_X = _t.randn(25, 10, generator=_gen, dtype=_t.float64) + 0.5
_true = _t.tensor([0.0, 2.0, 0.0, -1.2, 0.0, 0.0, 0.7, 0.0, 0.0, 0.0], dtype=_t.float64)
_y = _X @ _true - 0.8 + 0.3 * _t.randn(25, generator=_gen, dtype=_t.float64)
_alpha = 4.0
_fit = _Lasso(alpha=_alpha / 10, tol=1e-14, max_iter=1_000_000).fit(_X.numpy(), _y.numpy())
_w_opt, _b_opt = _t.from_numpy(_fit.coef_.copy()), float(_fit.intercept_)
_w_pert = _w_opt.clone()
_w_pert[1] -= 0.08
_w_pert[2] = 0.03
_w_box = _w_opt.clone()
_w_box[_w_box != 0] = 0.0
_w_box[1] = 1.0
_cases = [
    (_w_opt, _b_opt, _alpha),
    (_w_pert, _b_opt - 0.02, _alpha),
    (_w_opt, _b_opt + 0.25, 2 * _alpha),
    (_w_box, float(_y.mean()), 0.5 * _alpha),
    (_t.zeros(10, dtype=_t.float64), float(_y.mean()) + 0.01, 30.0),
    (_w_pert, _b_opt, 0.3),
]
for _i, (_w, _b, _a) in enumerate(_cases):
    _args = (_X.clone(), _y.clone(), _w.clone())
    _what = f"case {{_i}}, alpha={{_a}}"
    _out = {fn}(_args[0], _args[1], _args[2], _b, _a)
    for _given, _orig in zip(_args, (_X, _y, _w)):
        _hidden_untouched(_given, _orig, _what)
    _hidden_compare(_out, _kkt_ref(_X, _y, _w, _b, _a), _what, atol=1e-8)
""",
    "lhalf_prox_step": """\
import torch as _t
import weightreg.penalties as _p
_gen = _t.Generator().manual_seed(2718)
for _shape, _lr, _alpha in [((3, 4), 0.2, 6.0), ((15,), 0.05, 40.0), ((2, 2, 3), 0.7, 1.2)]:
    _w = _t.randn(_shape, generator=_gen, dtype=_t.float64)
    _w.view(-1)[0] = 0.0
    _w.view(-1)[1] = -0.01
    _g = _t.randn(_shape, generator=_gen, dtype=_t.float64)
    _args = (_w.clone(), _g.clone())
    _what = f"shape {{_shape}}, lr={{_lr}}, alpha={{_alpha}}"
    _out = {fn}(_args[0], _args[1], _lr, _alpha)
    _hidden_untouched(_args[0], _w, _what)
    _hidden_untouched(_args[1], _g, _what)
    _ref = _p.prox_lhalf(_w - _lr * _g, _lr * _alpha / _w.numel())
    _hidden_compare(_out, _ref, _what)
""",
    "ridge_eigen": """\
import torch as _t
_gen = _t.Generator().manual_seed(2718)
for _n, _d, _shift, _lambd in [(7, 13, 1.5, 0.3), (15, 5, -2.0, 1.7), (10, 10, 0.8, 0.01)]:
    _X = _t.randn(_n, _d, generator=_gen, dtype=_t.float64) + _shift
    _y = _X @ _t.randn(_d, generator=_gen, dtype=_t.float64) - 1.5
    _y = _y + 0.2 * _t.randn(_n, generator=_gen, dtype=_t.float64)
    _Xc, _yc = _X - _X.mean(dim=0), _y - _y.mean()
    _H = _Xc.T @ _Xc / _n + _lambd * _t.eye(_d, dtype=_t.float64)
    _ref = _t.linalg.solve(_H, _Xc.T @ _yc / _n)
    _args = (_X.clone(), _y.clone())
    _what = f"X of shape ({{_n}}, {{_d}}), lambd={{_lambd}}"
    _out = {fn}(_args[0], _args[1], _lambd)
    _hidden_untouched(_args[0], _X, _what)
    _hidden_untouched(_args[1], _y, _what)
    _hidden_compare(_out, _ref, _what)
""",
    "best_decay_per_lr": """\
import numpy as _np
_rng = _np.random.default_rng(2718)
_wds = _np.array([3e-3, 1e-1, 1e-4, 3e-2, 1e-3, 3e-1])
_err = 0.1 + 0.05 * _rng.random((4, 6))
_err[0, 4] = 0.01
_err[1, :] = _np.nan
_err[2, [0, 2, 5]] = _np.nan
_err[2, 1] = 0.02
_err[3, 2] = _np.nan
_err[3, 0] = 0.03
_cases = [(_err, _wds), (_err.astype(_np.float32), _wds.astype(_np.float32)),
          (_err[[3, 0, 2]][:, ::-1].copy(), _wds[::-1].copy())]
for _i, (_e, _d) in enumerate(_cases):
    _ref = _np.full(_e.shape[0], _np.nan)
    for _r in range(_e.shape[0]):
        _ok = _np.flatnonzero(_np.isfinite(_e[_r]))
        if _ok.size:
            _ref[_r] = float(_d[_ok[_np.argmin(_e[_r][_ok])]])
    _args = (_e.copy(), _d.copy())
    _what = f"grid {{_i}} of shape {{_e.shape}}"
    _out = {fn}(*_args)
    _hidden_untouched(_args[0], _e, _what)
    _hidden_untouched(_args[1], _d, _what)
    _hidden_compare(_out, _ref, _what, rtol=1e-6, atol=0.0)
""",
    "early_stopped_weights": """\
import torch as _t
_gen = _t.Generator().manual_seed(2718)
for _n, _d, _frac, _steps in [(6, 15, 0.7, 5), (25, 8, 0.3, 60), (12, 12, 0.95, 2)]:
    _X = _t.randn(_n, _d, generator=_gen, dtype=_t.float64) + 1.5
    _y = 2 * _t.randn(_n, generator=_gen, dtype=_t.float64) + 1.0
    _Xc, _yc = _X - _X.mean(dim=0), _y - _y.mean()
    _lr = _frac / float(_t.linalg.eigvalsh(_Xc.T @ _Xc / _n).max())
    _ref = _t.zeros(_d, dtype=_t.float64)
    for _ in range(_steps):
        _ref = _ref - _lr * _Xc.T @ (_Xc @ _ref - _yc) / _n
    _args = (_X.clone(), _y.clone())
    _what = f"X of shape ({{_n}}, {{_d}}), steps={{_steps}}"
    _out = {fn}(_args[0], _args[1], _lr, _steps)
    _hidden_untouched(_args[0], _X, _what)
    _hidden_untouched(_args[1], _y, _what)
    _hidden_compare(_out, _ref, _what)
""",
    "posterior_predictive": """\
import torch as _t
_gen = _t.Generator().manual_seed(2718)
for _n, _d, _m, _alpha, _beta in [(9, 4, 6, 1.5, 2.0), (3, 8, 2, 0.2, 25.0),
                                  (20, 3, 7, 5.0, 0.5)]:
    _X = _t.randn(_n, _d, generator=_gen, dtype=_t.float64)
    _y = _X @ _t.randn(_d, generator=_gen, dtype=_t.float64) + 0.5 * _t.randn(
        _n, generator=_gen, dtype=_t.float64)
    _Xn = 1.5 * _t.randn(_m, _d, generator=_gen, dtype=_t.float64)
    _A = _alpha * _t.eye(_d, dtype=_t.float64) + _beta * _X.T @ _X
    _mean = _Xn @ _t.linalg.solve(_A, _beta * _X.T @ _y)
    _var = 1 / _beta + (_Xn * _t.linalg.solve(_A, _Xn.T).T).sum(dim=1)
    _args = (_X.clone(), _y.clone(), _Xn.clone())
    _what = f"X of shape ({{_n}}, {{_d}}), {{_m}} new rows, alpha={{_alpha}}, beta={{_beta}}"
    _out = {fn}(*_args, _alpha, _beta)
    for _given, _orig in zip(_args, (_X, _y, _Xn)):
        _hidden_untouched(_given, _orig, _what)
    _hidden_compare(_out, (_mean, _var), _what)
""",
    "decay_free_run": """\
import torch as _t
import weightreg.normalization as _nz
def _si_grad(A, b):
    def grad_fn(w):
        w64 = w.to(_t.float64)
        u = w64 / w64.norm()
        v = A @ u + b
        return ((v - (u @ v) * u) / w64.norm()).to(w.dtype)
    return grad_fn
_gen = _t.Generator().manual_seed(2718)
for _d, _lr, _wd, _steps in [(6, 0.15, 0.3, 12), (3, 0.4, 0.05, 25), (10, 0.05, 1.2, 8)]:
    _M = _t.randn(_d, _d, generator=_gen, dtype=_t.float64)
    _grad = _si_grad(_M @ _M.T / _d, _t.randn(_d, generator=_gen, dtype=_t.float64))
    _w0 = 0.8 * _t.randn(_d, generator=_gen, dtype=_t.float64)
    _rates = _nz.exponential_lr_schedule(_lr, _wd, _steps)
    _ref = [_w0.clone()]
    for _k in range(_steps):
        _ref.append(_ref[-1] - float(_rates[_k]) * _grad(_ref[-1]))
    _given = _w0.clone()
    _what = f"d={{_d}}, lr={{_lr}}, weight_decay={{_wd}}, steps={{_steps}}"
    _out = {fn}(_grad, _given, _lr, _wd, _steps)
    _hidden_untouched(_given, _w0, _what)
    _hidden_compare(_out, _t.stack(_ref), _what)
""",
    "consecutive_angles": """\
import math as _m
import torch as _t
import weightreg.normalization as _nz
_gen = _t.Generator().manual_seed(2718)
_W1 = _t.randn(2, 3, 5, 7, generator=_gen, dtype=_t.float64)
_W1 = _W1 * _t.exp(2 * _t.rand(2, 3, 5, 1, generator=_gen, dtype=_t.float64) - 1)
_W2 = [_t.randn(30, generator=_gen, dtype=_t.float64)]
for _k in range(8):
    _step = _t.randn(30, generator=_gen, dtype=_t.float64) * 0.02 * _W2[-1].norm() / _m.sqrt(30)
    _W2.append((_W2[-1] + _step) * (4.0 if _k % 3 == 0 else 0.3))
_W2[4] = -0.9 * _W2[3] + 0.3 * _W2[3].norm() * _t.randn(30, generator=_gen,
                                                       dtype=_t.float64) / _m.sqrt(30)
_W2 = _t.stack(_W2)
_W3 = _t.randn(3, 1, 9, generator=_gen, dtype=_t.float64)  # tiny angles, about 1e-8 rad
_W3 = _t.cat([_W3, 2.5 * (_W3 + 1e-8 * _t.randn(3, 1, 9, generator=_gen, dtype=_t.float64))], 1)
for _W, _rtol, _atol in [(_W1, 2e-3, 1e-5), (_W2, 2e-3, 1e-5), (_W3, 1e-4, 0.0)]:
    _what = f"W of shape {{tuple(_W.shape)}}"
    _ref = _nz.angle(_W[..., :-1, :], _W[..., 1:, :])
    _given = _W.clone()
    _out = {fn}(_given)
    _hidden_untouched(_given, _W, _what)
    _hidden_compare(_out, _ref, _what, rtol=_rtol, atol=_atol)
""",
    "clip_grad_norm": """\
import torch as _t
_gen = _t.Generator().manual_seed(2718)
_shapes = [(2, 3), (4,), (1, 2, 2)]
_big = [3 * _t.randn(_s, generator=_gen, dtype=_t.float64) for _s in _shapes]
_cases = [(_big, 0.7), ([0.05 * _g for _g in _big], 5.0), ([_g.float() for _g in _big], 2.0),
          ([_t.full((3,), 0.6, dtype=_t.float64), _t.full((2, 2), 0.6, dtype=_t.float64)], 1.0),
          ([_t.randn(6, generator=_gen, dtype=_t.float64)], 1e3)]
for _i, (_grads, _max) in enumerate(_cases):
    _params = [_t.zeros(_g.shape, dtype=_t.float64) for _g in _grads]
    for _p, _g in zip(_params, _grads):
        _p.grad = _g.double().clone()
    _t.nn.utils.clip_grad_norm_(_params, _max)  # clips the parameters' .grad
    _ref = [_p.grad for _p in _params]
    _what = f"case {{_i}}: {{len(_grads)}} tensors, max_norm={{_max}}"
    _given = [_g.clone() for _g in _grads]
    _out = {fn}(list(_given), _max)
    for _g, _o in zip(_given, _grads):
        _hidden_untouched(_g, _o, _what)
    _hidden_new(_out, _given, _what)
    _hidden_compare(_out, _ref, _what)
""",
    "weight_angle": """\
import math as _m
import torch as _t
import weightreg.normalization as _nz
_gen = _t.Generator().manual_seed(2718)
def _turned(shape, angle, scale):
    u = _t.randn(shape, generator=_gen, dtype=_t.float64)
    e = _t.randn(shape, generator=_gen, dtype=_t.float64)
    e = e - (e * u).sum() / (u * u).sum() * u
    e = e * (u.norm() / e.norm())
    return u, scale * (_m.cos(angle) * u + _m.sin(angle) * e)
_cases = [(*_turned((16, 8), 0.7, 1.3), 1e-6), (*_turned((3, 5, 2), 2.9, 0.4), 1e-6),
          (*_turned((32, 16), 1e-7, 1 - 1e-5), 1e-5)]
_u, _v = _turned((20, 10), 5e-3, 1.1)
_cases.append((_u.float(), _v.float(), 1e-3))
_u, _v = _turned((6, 5), 0.05, 1.0)
_v[:, 1] = 2.5 * _u[:, 1]
_cases.append((_u, _v, 1e-6))
for _i, (_u, _v, _rtol) in enumerate(_cases):
    _ref = float(_nz.angle(_u.double().flatten(), _v.double().flatten()))
    _what = f"case {{_i}}: tensors of shape {{tuple(_u.shape)}}"
    _args = (_u.clone(), _v.clone())
    _out = {fn}(*_args)
    _hidden_untouched(_args[0], _u, _what)
    _hidden_untouched(_args[1], _v, _what)
    _hidden_compare(_out, _ref, _what, rtol=_rtol, atol=0.0)
""",
}
"""Hidden cases per self-check: code run in the student's kernel after the chapter, with
``{fn}`` the student's function; it asserts (via ``_hidden_compare``) that the function agrees
with the library's reference (or a reference written here) on random inputs of other shapes,
seeds and parameters than the self-check's. A check not listed here has no hidden test cell
yet, and its self-check carries all the points of the exercise."""
