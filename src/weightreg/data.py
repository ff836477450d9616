"""Data sets of the book: the d2l high-dimensional regression problem and small real sets.

Introduced in the chapter *Overfitting in high dimensions* (``book/overfitting.md``).

Conventions
-----------
* ``synthetic_data(w, b, n)`` draws ``X ~ N(0, 1)^(n x d)`` and
  ``y = X w + b + eps`` with ``eps ~ N(0, noise^2)``, in exactly the order d2l's
  ``d2l.synthetic_data`` does, so the same seed gives the same numbers.
* Targets are column vectors of shape ``(n, 1)``.
* Real data sets ship with scikit-learn (no download); features are
  standardized with the *training* split's mean and standard deviation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch.utils import data as tdata

from .validation import check_finite_tensor, check_nonnegative, check_positive_int

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


def synthetic_data(
    w: torch.Tensor,
    b: float,
    num_examples: int,
    *,
    noise: float = 0.01,
    generator: torch.Generator | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Linear-regression data ``y = X w + b + N(0, noise^2)``; returns ``X (n, d)``, ``y (n, 1)``.

    Same draws, in the same order, as ``d2l.synthetic_data``: with
    ``generator=None`` it uses torch's global generator like d2l does.
    """
    check_finite_tensor("w", w)
    if w.dim() != 1:
        raise ValueError(f"w must be a 1-D tensor of weights, got shape {tuple(w.shape)}")
    num_examples = check_positive_int("num_examples", num_examples)
    noise = check_nonnegative("noise", noise)
    X = torch.normal(0.0, 1.0, (num_examples, len(w)), generator=generator, dtype=w.dtype)
    y = X @ w + b
    y = y + torch.normal(0.0, noise, y.shape, generator=generator, dtype=w.dtype)
    return X, y.reshape(-1, 1)


def load_array(
    arrays: tuple[torch.Tensor, ...],
    batch_size: int,
    *,
    shuffle: bool = True,
    generator: torch.Generator | None = None,
) -> tdata.DataLoader:
    """A minibatch iterator over equally long tensors (d2l's ``load_array``).

    ``shuffle=True`` reshuffles every epoch, drawing from ``generator`` (or
    torch's global generator when ``None``, as d2l does).
    """
    batch_size = check_positive_int("batch_size", batch_size)
    n = {len(a) for a in arrays}
    if len(n) != 1:
        raise ValueError(f"arrays must have the same length, got lengths {sorted(n)}")
    dataset = tdata.TensorDataset(*arrays)
    return tdata.DataLoader(dataset, batch_size, shuffle=shuffle, generator=generator)


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

    ``true_w = w_value * ones(num_inputs)``, ``true_b = b``; the training set is
    drawn first and the test set second from one generator seeded with ``seed``, in
    float32 whatever ``dtype`` is (then cast), so ``dtype=torch.float64`` gives the same
    data set as the default, in double precision.
    With 200 inputs and 20 examples the least-squares problem is underdetermined:
    an unregularized model can fit the training set exactly.
    """
    num_inputs = check_positive_int("num_inputs", num_inputs)
    n_train = check_positive_int("n_train", n_train)
    n_test = check_positive_int("n_test", n_test)
    gen = torch.Generator().manual_seed(seed)
    # Draw in float32 (torch's sampler draws differently per dtype), then cast: every dtype
    # gets the same data set, at its own precision.
    true_w = torch.full((num_inputs,), float(w_value), dtype=torch.float32)
    X_train, y_train = synthetic_data(true_w, b, n_train, noise=noise, generator=gen)
    X_test, y_test = synthetic_data(true_w, b, n_test, noise=noise, generator=gen)
    arrays = (a.to(dtype) for a in (X_train, y_train, X_test, y_test, true_w))
    return Split(*arrays, float(b))


def _standardized_split(
    X: np.ndarray, y: np.ndarray, n_train: int, seed: int, dtype: torch.dtype, y_float: bool
) -> Split:
    n_train = check_positive_int("n_train", n_train)
    if n_train >= len(X):
        raise ValueError(f"n_train must be < {len(X)} (the data set's size), got {n_train}")
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

    A small ``n_train`` makes regularization matter.  Labels are ``long``
    class indices; pixels are standardized with training statistics.
    """
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    return _standardized_split(X.astype(np.float64), y, n_train, seed, dtype, y_float=False)


def diabetes_split(
    n_train: int = 300, *, seed: int = 0, dtype: torch.dtype = torch.float64
) -> Split:
    """scikit-learn's diabetes regression (442 patients, 10 features), split at random.

    Targets are centred and scaled by the training standard deviation.
    """
    from sklearn.datasets import load_diabetes

    X, y = load_diabetes(return_X_y=True)
    rng_perm = np.random.default_rng(seed).permutation(len(X))
    tr = rng_perm[:n_train] if 0 < n_train < len(X) else rng_perm
    y = (y - y[tr].mean()) / y[tr].std()
    return _standardized_split(X.astype(np.float64), y, n_train, seed, dtype, y_float=True)
