"""Data sets of the book: the d2l high-dimensional regression problem and small real sets.

Introduced in the chapter *Overfitting in high dimensions* (``book/overfitting.md``).

Conventions
-----------
* ``synthetic_data(w, b, n)`` draws ``n`` examples of ``d = len(w)`` inputs,
  ``X ~ N(0, 1)^(n x d)``, and ``y = X w + b + xi`` with the noise ``xi ~ N(0, noise^2)``
  (the book's xi), in exactly the order d2l's ``d2l.synthetic_data`` does, so the same seed
  gives the same numbers.
* Targets are column vectors of shape ``(n, 1)``.
* Real data sets ship with scikit-learn (no download); features are
  standardized with the *training* split's mean and standard deviation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch.utils import data as tdata

from .validation import (
    check_bool,
    check_finite_tensor,
    check_float_dtype,
    check_nonnegative,
    check_positive_int,
    check_real,
    check_seed,
)

__all__ = [
    "Split",
    "synthetic_data",
    "load_array",
    "high_dim_regression",
    "digits_split",
    "diabetes_split",
]


@dataclass(frozen=True)
class Split:
    """A train/test split: ``X_train (n, d)``, ``y_train``, ``X_test``, ``y_test``.

    ``true_w`` and ``true_b`` hold the generating parameters for synthetic data
    (``None`` for real data).
    """

    X_train: torch.Tensor
    y_train: torch.Tensor
    X_test: torch.Tensor
    y_test: torch.Tensor
    true_w: torch.Tensor | None = None
    true_b: float | None = None

    @property
    def num_inputs(self) -> int:
        """Number of input features ``d``."""
        return int(self.X_train.shape[1])


def _check_generator(generator: object) -> torch.Generator | None:
    if generator is not None and not isinstance(generator, torch.Generator):
        raise TypeError(
            f"generator must be a torch.Generator or None, got {type(generator).__name__}"
        )
    return generator


def _check_finite_data(dtype: torch.dtype, what: str, *tensors: torch.Tensor) -> None:
    if not all(bool(torch.isfinite(t).all()) for t in tensors):
        raise ValueError(
            f"the data overflow {dtype}: {what} must be small enough for X w + b + noise to be "
            "finite"
        )


def synthetic_data(
    w: torch.Tensor,
    b: float,
    num_examples: int,
    *,
    noise: float = 0.01,
    generator: torch.Generator | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Linear-regression data ``y = X w + b + N(0, noise^2)``; returns ``X (n, d)``, ``y (n, 1)``.

    ``n = num_examples`` examples of ``d = len(w)`` inputs.

    Same draws, in the same order, as ``d2l.synthetic_data``: with
    ``generator=None`` it uses torch's global generator like d2l does.  ``w`` is a 1-D real
    floating tensor (its dtype is the data's), ``b`` a finite number, ``noise >= 0``.
    """
    check_finite_tensor("w", w)
    if w.dim() != 1:
        raise ValueError(f"w must be a 1-D tensor of weights, got shape {tuple(w.shape)}")
    b = check_real("b", b)
    num_examples = check_positive_int("num_examples", num_examples)
    noise = check_nonnegative("noise", noise)
    generator = _check_generator(generator)
    X = torch.normal(0.0, 1.0, (num_examples, len(w)), generator=generator, dtype=w.dtype)
    y = X @ w + b
    y = y + torch.normal(0.0, noise, y.shape, generator=generator, dtype=w.dtype)
    _check_finite_data(w.dtype, f"w (max |w| = {float(w.abs().max()):.3g}), b and noise", y)
    return X, y.reshape(-1, 1)


def _check_arrays(data_arrays: object) -> tuple[torch.Tensor, ...]:
    if isinstance(data_arrays, torch.Tensor) or not isinstance(data_arrays, tuple | list):
        raise TypeError(
            f"data_arrays must be a tuple of tensors, e.g. (X, y), got {type(data_arrays).__name__}"
        )
    if not data_arrays:
        raise ValueError("data_arrays must hold at least one tensor, got an empty tuple")
    for i, a in enumerate(data_arrays):
        name = f"data_arrays[{i}]"
        if not isinstance(a, torch.Tensor):
            raise TypeError(f"{name} must be a torch.Tensor, got {type(a).__name__}")
        if a.dim() == 0:
            raise ValueError(f"{name} must have a first dimension (examples), got a 0-d tensor")
        if a.is_complex():
            raise TypeError(f"{name} must be real (floating or integer labels), got {a.dtype}")
        if a.is_floating_point():
            check_finite_tensor(name, a, allow_empty=True)
    lengths = [len(a) for a in data_arrays]
    if len(set(lengths)) != 1:
        raise ValueError(f"data_arrays must have the same length, got lengths {lengths}")
    if lengths[0] == 0:
        raise ValueError("data_arrays must hold at least one example, got length 0")
    return tuple(data_arrays)


def load_array(
    data_arrays: tuple[torch.Tensor, ...],
    batch_size: int,
    is_train: bool = True,
    *,
    generator: torch.Generator | None = None,
) -> tdata.DataLoader:
    """A minibatch iterator over equally long tensors: d2l's ``load_array``, same signature.

    ``load_array((X, y), batch_size, is_train=True)`` is ``d2l.load_array``: ``is_train=True``
    reshuffles every epoch, drawing from torch's global generator like d2l does, or from
    ``generator`` (a keyword of ours; the book passes a seeded one); ``is_train=False`` keeps the
    order.  The last batch may be smaller.  Introduced in *Overfitting in high dimensions*.
    """
    arrays = _check_arrays(data_arrays)
    batch_size = check_positive_int("batch_size", batch_size)
    is_train = check_bool("is_train", is_train)
    generator = _check_generator(generator)
    dataset = tdata.TensorDataset(*arrays)
    return tdata.DataLoader(dataset, batch_size, shuffle=is_train, generator=generator)


def high_dim_regression(
    *,
    num_inputs: int = 200,
    n_train: int = 20,
    n_test: int = 100,
    w_value: float = 0.01,
    b: float = 0.05,
    noise: float = 0.01,
    seed: int = 0,
    dtype: torch.dtype = torch.float32,
) -> Split:
    """The overfitting baseline of d2l's weight-decay section.

    ``n_train`` examples (the book's ``n``) of ``num_inputs`` inputs (the book's ``d``),
    ``true_w = w_value * ones(num_inputs)``, ``true_b = b``; the training set is
    drawn first and the test set second from one generator seeded with ``seed`` (an int
    ``>= 0``), in float32 whatever ``dtype`` is (then cast), so ``dtype=torch.float64`` gives the
    same data set as the default, in double precision.  ``dtype`` must be a real floating dtype.
    With ``d = 200`` inputs and ``n = 20`` examples the least-squares problem is
    underdetermined: an unregularized model can fit the training set exactly, and gradient
    descent never changes the part of its initial weights in the null space of the training
    inputs (see :mod:`weightreg.baseline`).
    """
    num_inputs = check_positive_int("num_inputs", num_inputs)
    n_train = check_positive_int("n_train", n_train)
    n_test = check_positive_int("n_test", n_test)
    w_value = check_real("w_value", w_value)
    b = check_real("b", b)
    noise = check_nonnegative("noise", noise)
    seed = check_seed("seed", seed)
    dtype = check_float_dtype("dtype", dtype)
    if abs(w_value) > torch.finfo(torch.float32).max:
        raise ValueError(f"w_value must fit in float32 (the data are drawn in it), got {w_value:g}")
    gen = torch.Generator().manual_seed(seed)
    # Draw in float32 (torch's sampler draws differently per dtype), then cast: every dtype
    # gets the same data set, at its own precision.
    true_w = torch.full((num_inputs,), w_value, dtype=torch.float32)
    what = "w_value, b and noise"
    try:
        X_train, y_train = synthetic_data(true_w, b, n_train, noise=noise, generator=gen)
        X_test, y_test = synthetic_data(true_w, b, n_test, noise=noise, generator=gen)
    except ValueError as exc:  # true_w or y not finite in float32
        raise ValueError(
            f"the data overflow torch.float32 (they are drawn in float32): {what} must be "
            f"small enough, got w_value={w_value:g}, b={b:g}, noise={noise:g}"
        ) from exc
    arrays = [a.to(dtype) for a in (X_train, y_train, X_test, y_test, true_w)]
    _check_finite_data(dtype, what, *arrays)
    return Split(*arrays, b)


def _check_split_args(
    n_train: object, seed: object, dtype: object, size: int
) -> tuple[int, int, torch.dtype]:
    n_train = check_positive_int("n_train", n_train)
    if n_train >= size:
        raise ValueError(f"n_train must be < {size} (the data set's size), got {n_train}")
    return n_train, check_seed("seed", seed), check_float_dtype("dtype", dtype)


def _standardized_split(
    X: np.ndarray, y: np.ndarray, n_train: int, seed: int, dtype: torch.dtype, y_float: bool
) -> Split:
    perm = np.random.default_rng(seed).permutation(len(X))
    tr, te = perm[:n_train], perm[n_train:]
    mean = X[tr].mean(axis=0)
    std = X[tr].std(axis=0)
    std[std == 0] = 1.0
    Xs = (X - mean) / std
    to_x = lambda a: torch.as_tensor(a, dtype=dtype)  # noqa: E731
    if y_float:
        y_tr = torch.as_tensor(y[tr], dtype=dtype).reshape(-1, 1)
        y_te = torch.as_tensor(y[te], dtype=dtype).reshape(-1, 1)
    else:
        y_tr = torch.as_tensor(y[tr], dtype=torch.long)
        y_te = torch.as_tensor(y[te], dtype=torch.long)
    return Split(to_x(Xs[tr]), y_tr, to_x(Xs[te]), y_te)


def digits_split(n_train: int = 300, *, seed: int = 0, dtype: torch.dtype = torch.float32) -> Split:
    """scikit-learn's 8x8 digits (1797 images, 64 pixels, 10 classes), split at random.

    ``1 <= n_train < 1797`` training images drawn by a permutation seeded with ``seed`` (an int
    ``>= 0``; the same seed gives the same split), the rest for testing.  A small ``n_train``
    makes regularization matter.  Labels are ``long`` class indices; pixels are standardized
    with training statistics, in ``dtype`` (real floating).
    """
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    n_train, seed, dtype = _check_split_args(n_train, seed, dtype, len(X))
    return _standardized_split(X.astype(np.float64), y, n_train, seed, dtype, y_float=False)


def diabetes_split(
    n_train: int = 300, *, seed: int = 0, dtype: torch.dtype = torch.float64
) -> Split:
    """scikit-learn's diabetes regression (442 patients, 10 features), split at random.

    ``1 <= n_train < 442``, ``seed`` and ``dtype`` as in :func:`digits_split`.  Targets are
    centred and scaled by the training mean and standard deviation.
    """
    from sklearn.datasets import load_diabetes

    X, y = load_diabetes(return_X_y=True)
    n_train, seed, dtype = _check_split_args(n_train, seed, dtype, len(X))
    tr = np.random.default_rng(seed).permutation(len(X))[:n_train]
    std = y[tr].std()
    y = (y - y[tr].mean()) / (std if std > 0 else 1.0)
    return _standardized_split(X.astype(np.float64), y, n_train, seed, dtype, y_float=True)
