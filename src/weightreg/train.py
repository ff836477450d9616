"""One training loop for every chapter: model, loss, optimizer or hand-written update, penalty.

Introduced in the chapter *Overfitting in high dimensions* (``book/overfitting.md``).

Conventions
-----------
* ``squared_loss(y_hat, y) = (y_hat - y)**2 / 2`` per example (d2l's convention,
  with the factor 1/2); a minibatch objective is the **mean** over the batch plus
  the penalty: ``mean_i loss_i + penalty()``.
* ``penalty`` is a zero-argument callable returning a scalar tensor, so that
  a chapter says exactly which tensors are penalized (usually the weight, not
  the bias): ``penalty=lambda: lambd / 2 * (w**2).sum()``, the L2 penalty with the
  weight-decay coefficient ``lambd`` (the book's lambda, PyTorch's ``weight_decay``).
* Divergence follows the book's one policy (:mod:`weightreg.divergence`) for a single
  configuration: training stops with :class:`~weightreg.divergence.TrainingDiverged`, which
  suggests a smaller learning rate, as soon as the objective of a step is not finite or exceeds
  ``BLOWUP_FACTOR`` times the first step's objective (at least 1), when an update leaves a
  parameter that is not finite, when after an epoch an evaluation loss is above that limit,
  and when the objective of the last batch after the last update is (so a blow-up on the
  last step is caught).
  Non-finite *data* is reported as bad data (``ValueError``), not as a divergence.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

import torch

from .divergence import BLOWUP_FACTOR, TrainingDiverged
from .validation import check_finite_tensor, check_positive, check_positive_int

__all__ = [
    "History",
    "accuracy",
    "evaluate_loss",
    "linreg",
    "squared_loss",
    "train",
]

Loss = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def linreg(X: torch.Tensor, w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """The linear model ``X @ w + b`` (d2l's ``linreg``).

    ``X`` is ``(n, d)``, ``w`` is ``(d,)`` or ``(d, m)``, ``b`` broadcasts against ``X @ w``;
    all finite real floating tensors (``TypeError``/``ValueError`` otherwise: a 3-d ``w`` or
    ``X`` would silently broadcast into a batch of products).
    """
    check_finite_tensor("X", X)
    check_finite_tensor("w", w)
    check_finite_tensor("b", b)
    if X.ndim != 2:
        raise ValueError(f"X must be a matrix (n, d), got shape {tuple(X.shape)}")
    if w.ndim not in (1, 2) or w.shape[0] != X.shape[1]:
        raise ValueError(
            f"w must have shape ({X.shape[1]},) or ({X.shape[1]}, m) to match X's "
            f"{X.shape[1]} columns, got {tuple(w.shape)}"
        )
    return X @ w + b


def _squared_loss(y_hat: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """:func:`squared_loss` without checks: :func:`train`'s default loss, whose overflow is a
    divergence (reported by train's policy), not bad input."""
    return (y_hat - y.reshape(y_hat.shape)) ** 2 / 2


def squared_loss(y_hat: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Per-example squared loss ``(y_hat - y)**2 / 2`` (note the 1/2, as in d2l).

    ``y`` is reshaped to ``y_hat``'s shape, so it must have as many entries; both are finite
    real floating tensors (``TypeError``/``ValueError`` otherwise).  A ``ValueError`` also
    when the square overflows (``|y_hat - y|`` above about ``1e154`` in float64): finite
    input never gives an infinite loss silently.  (:func:`train` computes its default loss
    unchecked and reports such an overflow as a divergence.)
    """
    check_finite_tensor("y_hat", y_hat)
    check_finite_tensor("y", y)
    if y.numel() != y_hat.numel():
        raise ValueError(
            f"y must have as many entries as y_hat ({y_hat.numel()}, shape "
            f"{tuple(y_hat.shape)}), got {y.numel()} (shape {tuple(y.shape)})"
        )
    out = _squared_loss(y_hat, y)
    if not bool(torch.isfinite(out.detach()).all()):
        raise ValueError(
            f"the squared loss overflows {y_hat.dtype}: y_hat - y is too large (some |y_hat - y|"
            f" = {float((y_hat.detach() - y.detach().reshape(y_hat.shape)).abs().max()):.3g})"
        )
    return out


def accuracy(logits: torch.Tensor, y: torch.Tensor) -> float:
    """Fraction of the ``n`` rows of ``logits`` (shape ``(n, m)``, ``m`` classes) whose arg-max
    equals ``y``.

    ``y`` holds integer class labels in ``[0, m)``, of shape ``(n,)`` or ``(n, 1)``.  Raises
    ``TypeError``/``ValueError`` for non-finite or non-floating logits, float or bool labels,
    labels out of range and shapes that do not match (a ``(n, 1)`` label tensor used to be
    broadcast against ``(n,)`` predictions, comparing every row with every label).
    """
    logits = check_finite_tensor("logits", logits)
    if logits.ndim != 2:
        raise ValueError(f"logits must have shape (n, k), got {tuple(logits.shape)}")
    n, k = logits.shape
    if not isinstance(y, torch.Tensor):
        raise TypeError(f"y must be a torch.Tensor of class labels, got {type(y).__name__}")
    if y.dtype not in (torch.int8, torch.int16, torch.int32, torch.int64, torch.uint8):
        raise TypeError(f"y must hold integer class labels, got dtype {y.dtype}")
    if y.shape not in ((n,), (n, 1)):
        raise ValueError(
            f"y must have shape ({n},) or ({n}, 1) to match logits, got {tuple(y.shape)}"
        )
    y = y.reshape(n)
    if n and (int(y.min()) < 0 or int(y.max()) >= k):
        raise ValueError(
            f"y must hold class labels in [0, {k}), got values in [{int(y.min())}, {int(y.max())}]"
        )
    return float((logits.argmax(dim=-1) == y).to(torch.float64).mean())


@torch.no_grad()
def evaluate_loss(
    net: Callable[[torch.Tensor], torch.Tensor], X: torch.Tensor, y: torch.Tensor, loss: Loss
) -> float:
    """Mean per-example ``loss`` of ``net`` on the whole set ``(X, y)``.

    The same number as d2l's ``evaluate_loss(net, data_iter, loss)`` computes from an
    iterator over ``(X, y)``, but taking the tensors themselves (it is *not* a drop-in
    replacement: the signature differs).

    Raises ``TypeError``/``ValueError`` unless ``net`` and ``loss`` are callable, ``X`` is a
    finite real floating tensor of at least one dimension and ``y`` a tensor (finite if
    floating) with as many rows as ``X``; and when the mean loss is not finite (a net or a
    loss that overflows on these X and y).
    """
    _check_callable("net", net)
    _check_callable("loss", loss)
    _check_set("X", "y", X, y)
    if loss is squared_loss:  # its checks here, its overflow below (naming X and y)
        if not y.is_floating_point():
            raise TypeError(f"y must be a real floating tensor for squared_loss, got {y.dtype}")
        loss = _squared_loss
    value = _evaluate_loss(net, X, y, loss)
    if not math.isfinite(value):
        raise ValueError(
            f"the mean loss of net on X and y is {value}: not finite (the net's output or the "
            "loss overflows on these X and y)"
        )
    return value


@torch.no_grad()
def _evaluate_loss(net: Callable, X: torch.Tensor, y: torch.Tensor, loss: Loss) -> float:
    """:func:`evaluate_loss` unchecked (train's divergence policy judges the value)."""
    return float(loss(net(X), y).mean())


def _check_callable(name: str, value: object, *, optional: bool = False) -> None:
    if (value is not None or not optional) and not callable(value):
        accepted = "callable or None" if optional else "callable"
        raise TypeError(f"{name} must be {accepted}, got {type(value).__name__} {value!r}")


def _check_set(name_x: str, name_y: str, X: object, y: object) -> None:
    """``X`` a finite real floating tensor (>= 1-d), ``y`` a tensor with as many rows."""
    X = check_finite_tensor(name_x, X)
    if X.ndim == 0:
        raise ValueError(f"{name_x} must have a row per example (>= 1-d), got a 0-d tensor")
    if not isinstance(y, torch.Tensor):
        raise TypeError(f"{name_y} must be a torch.Tensor, got {type(y).__name__}")
    if y.is_floating_point():
        check_finite_tensor(name_y, y)
    elif y.is_complex():
        raise TypeError(f"{name_y} must be real, got dtype {y.dtype}")
    if y.ndim == 0 or y.shape[0] != X.shape[0]:
        raise ValueError(
            f"{name_y} must have as many rows as {name_x} ({X.shape[0]}), got shape "
            f"{tuple(y.shape)}"
        )


@dataclass
class History:
    """What :func:`train` measured.

    ``curves[name]`` holds one value per epoch: the mean loss on each evaluation
    set (``"train"``, ``"test"``, ...) and every quantity passed in ``record``.
    ``params`` are detached copies of the parameters after the last epoch.
    """

    curves: dict[str, list[float]] = field(default_factory=dict)
    params: list[torch.Tensor] = field(default_factory=list)

    @property
    def epochs(self) -> list[int]:
        """Epoch numbers 1, 2, ... for the x-axis."""
        n = max((len(v) for v in self.curves.values()), default=0)
        return list(range(1, n + 1))

    def _curve(self, name: str) -> list[float]:
        if name not in self.curves:
            raise KeyError(
                f"no curve named {name!r}: train() records the loss on the sets of eval_data, "
                f"so pass eval_data={{{name!r}: (X, y), ...}} (recorded: {sorted(self.curves)})"
            )
        return self.curves[name]

    @property
    def train_loss(self) -> list[float]:
        """``curves["train"]``: needs ``eval_data={"train": (X_train, y_train), ...}``."""
        return self._curve("train")

    @property
    def test_loss(self) -> list[float]:
        """``curves["test"]``: needs ``eval_data={"test": (X_test, y_test), ...}``."""
        return self._curve("test")

    def final(self, name: str) -> float:
        """The last recorded value of ``curves[name]``."""
        return self._curve(name)[-1]


def _sgd_update(params: Sequence[torch.Tensor], lr: float) -> None:
    with torch.no_grad():
        for p in params:
            p -= lr * p.grad


def _bad_batch(batch: object) -> str | None:
    """What is wrong with a batch of ``train_iter``: not an ``(X, y)`` pair of tensors, or
    NaN/inf in X or y; None if nothing."""
    if (
        not isinstance(batch, tuple | list)
        or len(batch) != 2
        or not all(isinstance(t, torch.Tensor) for t in batch)
    ):
        return f"not a pair (X, y) of tensors (got {type(batch).__name__})"
    for name, t in zip(("X", "y"), batch, strict=True):
        if isinstance(t, torch.Tensor) and t.is_floating_point():
            if not bool(torch.isfinite(t).all()):
                return f"the data is bad, not the learning rate: NaN or inf in {name}"
    return None


def train(
    net: Callable[[torch.Tensor], torch.Tensor],
    params: Sequence[torch.Tensor],
    train_iter: Iterable[tuple[torch.Tensor, torch.Tensor]],
    *,
    num_epochs: int,
    lr: float | None = None,
    optimizer: torch.optim.Optimizer | None = None,
    update: Callable[[Sequence[torch.Tensor], float], None] | None = None,
    loss: Loss = squared_loss,
    penalty: Callable[[], torch.Tensor] | None = None,
    eval_data: dict[str, tuple[torch.Tensor, torch.Tensor]] | None = None,
    record: dict[str, Callable[[], float]] | None = None,
) -> History:
    """Minibatch training; returns a :class:`History`.

    Each step computes ``objective = mean(loss(net(X), y)) + penalty()``, clears the
    gradients (of ``params`` and, if given, every parameter ``optimizer`` holds),
    back-propagates the objective and takes one step with ``optimizer.step()`` if an
    optimizer is given, otherwise ``update(params, lr)`` (default: plain SGD ``p -= lr *
    p.grad``, with the learning rate ``lr``, the book's eta).  After every epoch the mean
    ``loss`` on each set of ``eval_data`` and each callable of ``record`` (e.g.
    ``{"norm_w": lambda: float(w.norm())}``) is stored.

    ``train_iter`` is iterated once per epoch, so it must be re-iterable (a list, or a
    ``torch.utils.data.DataLoader`` such as :func:`weightreg.data.load_array`'s), not a
    one-shot iterator or generator.  Raises ``ValueError`` for an empty ``train_iter``, an
    epoch without batches, a name used both in ``eval_data`` and in ``record``, and
    non-finite data; ``TypeError``/``ValueError`` naming the argument for other bad arguments
    (a ``net``, ``loss``, ``update`` or ``penalty`` that is not callable, an ``optimizer``
    that is not a ``torch.optim.Optimizer``, ``eval_data`` or ``record`` that is not a dict
    of the right values, a batch that is not an ``(X, y)`` pair of tensors);
    :class:`~weightreg.divergence.TrainingDiverged` as the module says.
    """
    _check_callable("net", net)
    if isinstance(params, torch.Tensor | str) or not isinstance(params, Iterable):
        raise TypeError(
            f"params must be a list of tensors with requires_grad=True, got {type(params).__name__}"
        )
    if isinstance(train_iter, str | bytes) or not isinstance(train_iter, Iterable):
        raise TypeError(
            "train_iter must be a re-iterable of (X, y) batches (a list, or a DataLoader), got "
            f"{type(train_iter).__name__}"
        )
    num_epochs = check_positive_int("num_epochs", num_epochs)
    if optimizer is not None and not isinstance(optimizer, torch.optim.Optimizer):
        raise TypeError(
            f"optimizer must be a torch.optim.Optimizer or None, got {type(optimizer).__name__}"
        )
    _check_callable("update", update, optional=True)
    _check_callable("loss", loss)
    _check_callable("penalty", penalty, optional=True)
    if eval_data is not None and not isinstance(eval_data, Mapping):
        raise TypeError(
            f"eval_data must be a dict of name -> (X, y) or None, got {type(eval_data).__name__}"
        )
    if record is not None and not isinstance(record, Mapping):
        raise TypeError(
            f"record must be a dict of name -> callable or None, got {type(record).__name__}"
        )
    params = list(params)
    if not params or not all(isinstance(p, torch.Tensor) and p.requires_grad for p in params):
        raise ValueError("params must be a non-empty list of tensors with requires_grad=True")
    if optimizer is not None and (lr is not None or update is not None):
        raise ValueError("pass either optimizer, or lr (with an optional update), not both")
    if optimizer is None:
        if lr is None:
            raise ValueError("lr is required when no optimizer is given")
        lr = check_positive("lr", lr)
        update = _sgd_update if update is None else update
    if isinstance(train_iter, Iterator) and num_epochs > 1:
        raise TypeError(
            "train_iter is a one-shot iterator: it would be exhausted after the first epoch. "
            "Pass a re-iterable: a list of batches or a DataLoader (weightreg.data.load_array)"
        )
    eval_data = dict(eval_data or {})
    record = dict(record or {})
    clash = sorted(set(eval_data) & set(record))
    if clash:
        raise ValueError(
            f"eval_data and record both use the name(s) {clash}: each curve needs its own name"
        )
    for name, pair in eval_data.items():
        if not isinstance(name, str):
            raise TypeError(f"the names of eval_data must be str, got {name!r}")
        if not isinstance(pair, tuple | list) or len(pair) != 2:
            raise TypeError(f"eval_data[{name!r}] must be a pair (X, y), got {pair!r}")
        _check_set(f"eval_data[{name!r}][0]", f"eval_data[{name!r}][1]", *pair)
    for name, fn in record.items():
        if not isinstance(name, str):
            raise TypeError(f"the names of record must be str, got {name!r}")
        _check_callable(f"record[{name!r}]", fn)
    if loss is squared_loss:  # unchecked: an overflow is a divergence, judged below
        loss = _squared_loss
    history = History(curves={name: [] for name in [*eval_data, *record]})
    hint = f"lr={lr}" if optimizer is None else "the optimizer's lr"
    limit = None

    def diverged(where: str, value: float) -> TrainingDiverged:
        return TrainingDiverged(
            f"training diverged {where}: the objective is {value:.3g} (not finite or above "
            f"{BLOWUP_FACTOR:g} x its start). Try a smaller learning rate (now {hint}).",
            [0],
        )

    for epoch in range(num_epochs):
        steps = 0
        for step, batch in enumerate(train_iter):
            steps += 1
            bad = _bad_batch(batch)
            if bad is not None:
                error = ValueError if bad.startswith("the data") else TypeError
                raise error(f"batch {step + 1} of epoch {epoch + 1} of train_iter: {bad}")
            X, y = batch
            objective = loss(net(X), y).mean()
            if penalty is not None:
                objective = objective + penalty()
            value = float(objective.detach())
            if limit is None:
                limit = BLOWUP_FACTOR * max(value, 1.0) if math.isfinite(value) else math.nan
            if not math.isfinite(value) or value > limit:
                raise diverged(f"at epoch {epoch + 1}, step {step + 1}", value)
            for p in params:
                p.grad = None
            if optimizer is not None:
                optimizer.zero_grad(set_to_none=True)
            objective.backward()
            if optimizer is not None:
                optimizer.step()
            else:
                update(params, lr)
            with torch.no_grad():  # before the next forward pass meets a non-finite weight
                if not all(bool(torch.isfinite(p).all()) for p in params):
                    raise diverged(
                        f"at epoch {epoch + 1}, step {step + 1}: a parameter is not finite",
                        math.nan,
                    )
        if steps == 0:
            if epoch == 0:
                raise ValueError("train_iter is empty: there is nothing to train on")
            raise ValueError(
                f"train_iter gave no batches in epoch {epoch + 1} (it did in epoch 1): it is "
                "a one-shot iterable. Pass a re-iterable: a list of batches or a DataLoader "
                "(weightreg.data.load_array)"
            )
        for name, (X, y) in eval_data.items():
            value = _evaluate_loss(net, X, y, loss)
            if not math.isfinite(value) or value > limit:
                raise diverged(f"in epoch {epoch + 1} (loss on {name!r})", value)
            history.curves[name].append(value)
        for name, fn in record.items():
            value = fn()
            if isinstance(value, torch.Tensor):
                value = value.detach()
            history.curves[name].append(float(value))
    # the last step is checked too: the objective on the last batch, after the last update
    with torch.no_grad():
        objective = loss(net(X), y).mean()
        if penalty is not None:
            objective = objective + penalty()
        value = float(objective)
    if not math.isfinite(value) or value > limit:
        raise diverged("after the last step", value)
    history.params = [p.detach().clone() for p in params]
    return history
