"""The training loop: exact agreement with a hand-written loop, with d2l, and its failure modes."""

from __future__ import annotations

import math

import pytest
import torch
from d2l import torch as d2l

from weightreg.data import high_dim_regression, load_array
from weightreg.seeding import seed_everything
from weightreg.train import (
    TrainingDiverged,
    accuracy,
    evaluate_loss,
    linreg,
    squared_loss,
    train,
)


def _problem(dtype=torch.float64):
    split = high_dim_regression(num_inputs=30, n_train=12, n_test=40, seed=1, dtype=dtype)
    return split


def test_squared_loss_and_linreg_match_d2l():
    gen = torch.Generator().manual_seed(0)
    X, w, b = torch.randn(7, 3, generator=gen), torch.randn(3, 1, generator=gen), torch.randn(1)
    y = torch.randn(7, generator=gen)
    assert torch.equal(linreg(X, w, b), d2l.linreg(X, w, b))
    assert torch.equal(squared_loss(linreg(X, w, b), y), d2l.squared_loss(d2l.linreg(X, w, b), y))
    assert torch.allclose(
        squared_loss(torch.tensor([3.0]), torch.tensor([1.0])), torch.tensor([2.0])
    )


def test_train_equals_a_handwritten_full_batch_gradient_descent():
    split = _problem()
    lambd, lr, epochs = 0.5, 0.05, 30
    w = torch.zeros(split.num_inputs, 1, requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    full = [(split.X_train, split.y_train)]  # one batch per epoch
    hist = train(
        lambda X: linreg(X, w, b),
        [w, b],
        full,
        num_epochs=epochs,
        lr=lr,
        penalty=lambda: lambd / 2 * (w**2).sum(),
        eval_data={"train": (split.X_train, split.y_train)},
    )
    # closed-form gradient descent on mean((Xw + b - y)^2 / 2) + lambd/2 ||w||^2
    X, y = split.X_train, split.y_train
    w_ref, b_ref = torch.zeros(split.num_inputs, 1), torch.zeros(1)
    for _ in range(epochs):
        r = X @ w_ref + b_ref - y
        w_ref, b_ref = w_ref - lr * (X.T @ r / len(X) + lambd * w_ref), b_ref - lr * r.mean(0)
    assert torch.allclose(hist.params[0], w_ref, atol=1e-12)
    assert torch.allclose(hist.params[1], b_ref, atol=1e-12)
    assert hist.final("train") == pytest.approx(float(squared_loss(X @ w_ref + b_ref, y).mean()))
    assert hist.epochs == list(range(1, epochs + 1))


def test_train_with_torch_optimizer_equals_penalty():
    """weight_decay in torch.optim.SGD == the L2 penalty in the loss (float64, exact to 1e-12)."""
    split = _problem()
    out = []
    for use_opt in (False, True):
        seed_everything(0)
        w = torch.normal(0, 1, (split.num_inputs, 1), requires_grad=True)
        b = torch.zeros(1, requires_grad=True)
        it = load_array((split.X_train, split.y_train), 4)
        kwargs = (
            {
                "optimizer": torch.optim.SGD(
                    [{"params": [w], "weight_decay": 2.0}, {"params": [b]}], lr=0.01
                )
            }
            if use_opt
            else {"lr": 0.01, "penalty": lambda w=w: (w**2).sum()}
        )
        out.append(train(lambda X, w=w, b=b: linreg(X, w, b), [w, b], it, num_epochs=20, **kwargs))
    assert torch.allclose(out[0].params[0], out[1].params[0], atol=1e-12)


def test_train_matches_d2l_scratch_loop():
    torch.set_default_dtype(torch.float32)  # as d2l
    split = _problem(torch.float32)

    def ours():
        seed_everything(5)
        w = torch.normal(0, 1, (split.num_inputs, 1), requires_grad=True)
        b = torch.zeros(1, requires_grad=True)
        it = load_array((split.X_train, split.y_train), 4)
        return train(
            lambda X: linreg(X, w, b),
            [w, b],
            it,
            num_epochs=15,
            lr=0.003,
            penalty=lambda: 3 * (w**2).sum() / 2,
        ).params[0]

    def theirs():
        seed_everything(5)
        w = torch.normal(0, 1, (split.num_inputs, 1), requires_grad=True)
        b = torch.zeros(1, requires_grad=True)
        for _ in range(15):
            for X, y in d2l.load_array((split.X_train, split.y_train), 4):
                loss = d2l.squared_loss(d2l.linreg(X, w, b), y) + 3 * (w**2).sum() / 2
                loss.sum().backward()
                d2l.sgd([w, b], 0.003, 4)
        return w.detach()

    assert torch.allclose(ours(), theirs(), atol=1e-5)


def test_evaluate_loss_matches_d2l_and_accuracy():
    split = _problem()
    w, b = torch.randn(split.num_inputs, 1), torch.zeros(1)
    net = lambda X: linreg(X, w, b)  # noqa: E731
    ours = evaluate_loss(net, split.X_test, split.y_test, squared_loss)
    theirs = d2l.evaluate_loss(
        net, load_array((split.X_test, split.y_test), 7, shuffle=False), squared_loss
    )
    assert ours == pytest.approx(theirs, rel=1e-12)
    logits = torch.tensor([[1.0, 2.0], [3.0, 0.0], [0.0, 1.0], [5.0, 1.0]])
    assert accuracy(logits, torch.tensor([1, 0, 0, 1])) == 0.5


def test_divergence_stops_with_a_helpful_message():
    split = _problem()
    w = torch.zeros(split.num_inputs, 1, requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    with pytest.raises(
        TrainingDiverged, match=r"diverged at epoch \d+.*smaller learning rate.*lr=50"
    ):
        train(
            lambda X: linreg(X, w, b),
            [w, b],
            [(split.X_train, split.y_train)],
            num_epochs=200,
            lr=50.0,
        )
    assert not math.isfinite(float(w.detach().abs().max())) or float(w.detach().abs().max()) > 1e10


@pytest.mark.parametrize(
    ("kwargs", "exc", "words"),
    [
        ({"num_epochs": 0, "lr": 0.1}, ValueError, "num_epochs must be >= 1"),
        ({"num_epochs": 1}, ValueError, "lr is required"),
        ({"num_epochs": 1, "lr": -0.1}, ValueError, "lr must be > 0"),
        ({"num_epochs": 1, "lr": float("nan")}, ValueError, "lr must be finite"),
        ({"num_epochs": 1.5, "lr": 0.1}, TypeError, "num_epochs must be an int"),
    ],
)
def test_bad_arguments(kwargs, exc, words):
    w = torch.zeros(3, 1, requires_grad=True)
    with pytest.raises(exc, match=words):
        train(lambda X: X @ w, [w], [(torch.ones(2, 3), torch.ones(2, 1))], **kwargs)


def test_params_must_require_grad_and_optimizer_excludes_lr():
    w = torch.zeros(3, 1)
    with pytest.raises(ValueError, match="requires_grad"):
        train(lambda X: X @ w, [w], [], num_epochs=1, lr=0.1)
    w.requires_grad_(True)
    opt = torch.optim.SGD([w], lr=0.1)
    with pytest.raises(ValueError, match="either optimizer"):
        train(lambda X: X @ w, [w], [], num_epochs=1, lr=0.1, optimizer=opt)
