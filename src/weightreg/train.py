"""One training loop for every chapter: model, loss, optimizer or hand-written update, penalty.

Introduced in the chapter *Overfitting in high dimensions* (``book/overfitting.md``).

Conventions
-----------
* ``squared_loss(y_hat, y) = (y_hat - y)**2 / 2`` per example (d2l's convention,
  with the factor 1/2); a minibatch objective is the **mean** over the batch plus
  the penalty: ``mean_i loss_i + penalty()``.
* ``penalty`` is a zero-argument callable returning a scalar tensor, so that
  a chapter says exactly which tensors are penalized (usually the weight, not
  the bias): ``penalty=lambda: lambd / 2 * (w**2).sum()``.
* The loop checks the objective every step; a NaN or infinite objective stops
  training with :class:`TrainingDiverged`, which suggests a smaller learning rate.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import torch

from .validation import check_positive, check_positive_int

__all__ = [
    "History",
    "TrainingDiverged",
    "accuracy",
    "evaluate_loss",
    "linreg",
    "squared_loss",
    "train",
]

Loss = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


class TrainingDiverged(RuntimeError):
    """Raised when the training objective becomes NaN or infinite."""


def linreg(X: torch.Tensor, w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """The linear model ``X @ w + b`` (d2l's ``linreg``)."""
    return X @ w + b


def squared_loss(y_hat: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Per-example squared loss ``(y_hat - y)**2 / 2`` (note the 1/2, as in d2l)."""
    return (y_hat - y.reshape(y_hat.shape)) ** 2 / 2


def accuracy(logits: torch.Tensor, y: torch.Tensor) -> float:
    """Fraction of rows whose arg-max equals the integer label ``y``."""
    return float((logits.argmax(dim=-1) == y).to(torch.float64).mean())


@torch.no_grad()
def evaluate_loss(
    net: Callable[[torch.Tensor], torch.Tensor], X: torch.Tensor, y: torch.Tensor, loss: Loss
) -> float:
    """Mean per-example ``loss`` of ``net`` on ``(X, y)`` (d2l's ``evaluate_loss``)."""
    return float(loss(net(X), y).mean())


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

    @property
    def train_loss(self) -> list[float]:
        return self.curves["train"]

    @property
    def test_loss(self) -> list[float]:
        return self.curves["test"]

    def final(self, name: str) -> float:
        """The last recorded value of ``curves[name]``."""
        return self.curves[name][-1]


def _sgd_update(params: Sequence[torch.Tensor], lr: float) -> None:
    with torch.no_grad():
        for p in params:
            p -= lr * p.grad


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

    Each step computes ``objective = mean(loss(net(X), y)) + penalty()``,
    back-propagates it into ``params`` and then takes one step with
    ``optimizer.step()`` if an optimizer is given, otherwise
    ``update(params, lr)`` (default: plain SGD ``p -= lr * p.grad``).
    After every epoch the mean ``loss`` on each set of ``eval_data`` and each
    callable of ``record`` (e.g. ``{"norm_w": lambda: float(w.norm())}``) is stored.
    """
    num_epochs = check_positive_int("num_epochs", num_epochs)
    params = list(params)
    if not params or not all(isinstance(p, torch.Tensor) and p.requires_grad for p in params):
        raise ValueError("params must be a non-empty list of tensors with requires_grad=True")
    if optimizer is not None and (lr is not None or update is not None):
        raise ValueError("pass either optimizer, or lr (with an optional update), not both")
    if optimizer is None:
        if lr is None:
            raise ValueError("lr is required when no optimizer is given")
        lr = check_positive("lr", lr)
        update = update or _sgd_update
    eval_data = eval_data or {}
    record = record or {}
    history = History(curves={name: [] for name in [*eval_data, *record]})

    for epoch in range(num_epochs):
        for step, (X, y) in enumerate(train_iter):
            objective = loss(net(X), y).mean()
            if penalty is not None:
                objective = objective + penalty()
            value = float(objective.detach())
            if not math.isfinite(value):
                hint = f"lr={lr}" if optimizer is None else "the optimizer's lr"
                raise TrainingDiverged(
                    f"training diverged at epoch {epoch + 1}, step {step + 1}: the objective is "
                    f"{value}. Try a smaller learning rate (now {hint})."
                )
            for p in params:
                p.grad = None
            objective.backward()
            if optimizer is not None:
                optimizer.step()
            else:
                update(params, lr)
        for name, (X, y) in eval_data.items():
            history.curves[name].append(evaluate_loss(net, X, y, loss))
        for name, fn in record.items():
            value = fn()
            if isinstance(value, torch.Tensor):
                value = value.detach()
            history.curves[name].append(float(value))
    history.params = [p.detach().clone() for p in params]
    return history
