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

pytestmark = pytest.mark.usefixtures("float64_default")  # exact comparisons: float64


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
        net, load_array((split.X_test, split.y_test), 7, is_train=False), squared_loss
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
    # stopped by the blow-up rule long before the weights overflow
    assert math.isfinite(float(w.detach().abs().max()))


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


def _line(dtype=torch.float64):
    split = _problem(dtype)
    w = torch.zeros(split.num_inputs, 1, dtype=dtype, requires_grad=True)
    b = torch.zeros(1, dtype=dtype, requires_grad=True)
    return split, w, b, (lambda X: linreg(X, w, b))


def test_training_diverged_is_the_policy_class():
    from weightreg import divergence
    from weightreg import train as train_module

    assert train_module.TrainingDiverged is divergence.TrainingDiverged


def test_finite_blowup_is_divergence():
    """float64, lr = 5: losses of 8.7e135 used to come back without a word."""
    split, w, b, net = _line()
    with pytest.raises(TrainingDiverged, match=r"above 1e\+06 x its start.*smaller learning rate"):
        train(
            net,
            [w, b],
            [(split.X_train, split.y_train)],
            num_epochs=100,
            lr=5.0,
            eval_data={"train": (split.X_train, split.y_train)},
        )


def test_huge_lr_is_divergence_even_on_the_last_step():
    """lr = 1e200 used to return a curve of [inf]; one step, so only the end-of-epoch check."""
    split, w, b, net = _line()
    with pytest.raises(TrainingDiverged, match="smaller learning rate"):
        train(
            net,
            [w, b],
            [(split.X_train, split.y_train)],
            num_epochs=1,
            lr=1e200,
            eval_data={"train": (split.X_train, split.y_train)},
        )
    split, w, b, net = _line()
    with pytest.raises(TrainingDiverged, match="(after the last step|not finite)"):
        train(net, [w, b], [(split.X_train, split.y_train)], num_epochs=1, lr=1e200)


def test_nan_in_the_data_is_bad_data_not_a_learning_rate_problem():
    split, w, b, _ = _line()

    def net(X):  # no argument checks in the model: train() itself must tell bad data
        return X @ w + b

    X = split.X_train.clone()
    X[2, 3] = float("nan")
    with pytest.raises(ValueError, match=r"data is bad.*NaN or inf in X"):
        train(net, [w, b], [(X, split.y_train)], num_epochs=2, lr=0.01)
    with pytest.raises(ValueError, match=r"eval_data\['test'\]\[0\] must contain only finite"):
        train(
            net,
            [w, b],
            [(split.X_train, split.y_train)],
            num_epochs=1,
            lr=0.01,
            eval_data={"test": (X, split.y_train)},
        )


def test_name_collision_between_eval_data_and_record_raises():
    """D6: the two curves used to be interleaved into one of double length."""
    split, w, b, net = _line()
    with pytest.raises(
        ValueError, match=r"eval_data and record both use the name\(s\) \['train'\]"
    ):
        train(
            net,
            [w, b],
            [(split.X_train, split.y_train)],
            num_epochs=2,
            lr=0.01,
            eval_data={"train": (split.X_train, split.y_train)},
            record={"train": lambda: 1.0},
        )


def test_one_shot_iterators_are_refused():
    """D6: a generator trained one epoch, then silently nothing."""
    split, w, b, net = _line()
    batches = [(split.X_train, split.y_train)]
    with pytest.raises(TypeError, match="one-shot iterator.*DataLoader"):
        train(net, [w, b], iter(batches), num_epochs=3, lr=0.01)

    class Once:  # an iterable (not an iterator) that is exhausted after one pass
        def __init__(self):
            self.it = iter(batches)

        def __iter__(self):
            return self.it

    with pytest.raises(ValueError, match="no batches in epoch 2.*one-shot.*DataLoader"):
        train(net, [w, b], Once(), num_epochs=3, lr=0.01)
    hist = train(net, [w, b], iter(batches), num_epochs=1, lr=0.01)  # one epoch is fine
    assert len(hist.params) == 2


def test_empty_iterator_raises():
    split, w, b, net = _line()
    with pytest.raises(ValueError, match="train_iter is empty"):
        train(net, [w, b], [], num_epochs=2, lr=0.01)


def test_optimizer_gradients_are_cleared_too():
    """D6: a parameter the optimizer holds but `params` omits used to accumulate gradient."""
    split, w, b, net = _line()
    batches = [(split.X_train[:6], split.y_train[:6]), (split.X_train[6:], split.y_train[6:])]
    opt = torch.optim.SGD([w, b], lr=0.01)
    train(net, [w], batches, num_epochs=3, optimizer=opt)  # b is trained but not listed
    w_ref = torch.zeros_like(w.detach()).requires_grad_(True)
    b_ref = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    opt_ref = torch.optim.SGD([w_ref, b_ref], lr=0.01)
    for _ in range(3):
        for X, y in batches:
            opt_ref.zero_grad()
            squared_loss(linreg(X, w_ref, b_ref), y).mean().backward()
            opt_ref.step()
    torch.testing.assert_close(b.detach(), b_ref.detach(), rtol=1e-12, atol=1e-14)
    torch.testing.assert_close(w.detach(), w_ref.detach(), rtol=1e-12, atol=1e-14)


def test_history_train_loss_without_a_train_set_is_a_clear_error():
    """D17: a bare KeyError('train') used to come out."""
    split, w, b, net = _line()
    hist = train(
        net,
        [w, b],
        [(split.X_train, split.y_train)],
        num_epochs=2,
        lr=0.01,
        eval_data={"test": (split.X_test, split.y_test)},
    )
    assert len(hist.test_loss) == 2
    with pytest.raises(KeyError, match=r"no curve named 'train'.*eval_data=\{'train': \(X, y\)"):
        _ = hist.train_loss


@pytest.mark.parametrize(
    ("logits", "y", "exc", "match"),
    [
        (torch.eye(4)[[1, 0, 0, 1]], torch.tensor([[1], [0], [1], [1]]), None, 0.75),
        (
            torch.tensor([[float("nan"), 0.0], [0.0, 1.0]]),
            torch.tensor([0, 1]),
            ValueError,
            "logits must contain only finite",
        ),
        (torch.eye(2), torch.tensor([0, 2]), ValueError, r"labels in \[0, 2\)"),
        (torch.eye(2), torch.tensor([-1, 0]), ValueError, r"labels in \[0, 2\)"),
        (torch.eye(2), torch.tensor([0.0, 1.0]), TypeError, "integer class labels"),
        (torch.eye(2), torch.tensor([True, False]), TypeError, "integer class labels"),
        (torch.eye(3), torch.tensor([0, 1]), ValueError, r"shape \(3,\) or \(3, 1\)"),
        (torch.eye(3)[0], torch.tensor([0]), ValueError, r"logits must have shape \(n, k\)"),
        (torch.eye(2).long(), torch.tensor([0, 1]), TypeError, "real floating dtype"),
    ],
)
def test_accuracy_validates_its_input(logits, y, exc, match):
    """(n, 1) labels used to give 0.3125 for a true 0.75; NaN logits 0.5; bad labels 0.0."""
    if exc is None:
        assert accuracy(logits, y) == match
        assert accuracy(logits, y.reshape(-1)) == match
    else:
        with pytest.raises(exc, match=match):
            accuracy(logits, y)


def test_evaluate_loss_claims_only_what_its_signature_gives():
    """D12: the docstring used to call it d2l's evaluate_loss, whose signature differs."""
    import inspect

    ours = list(inspect.signature(evaluate_loss).parameters)
    theirs = list(inspect.signature(d2l.evaluate_loss).parameters)
    doc = inspect.getdoc(evaluate_loss)
    assert ours != theirs  # (net, X, y, loss) vs (net, data_iter, loss) ...
    assert "(d2l's ``evaluate_loss``)" not in doc  # ... so no compatibility claim
    assert "not* a drop-in\nreplacement" in doc


@pytest.mark.parametrize(
    ("args", "exc", "match"),
    [
        ((torch.ones(1, 4, 3), torch.ones(3, 1), torch.zeros(1)), ValueError, "X must be a matrix"),
        ((torch.ones(4, 3), torch.ones(1, 3, 1), torch.zeros(1)), ValueError, r"w must have shape"),
        ((torch.ones(4, 3), torch.ones(3, 1, 1), torch.zeros(1)), ValueError, r"w must have shape"),
        (
            (torch.ones(4, 3), torch.tensor([[1.0], [float("nan")], [0.0]]), torch.zeros(1)),
            ValueError,
            "w must contain only finite",
        ),
        (
            (torch.ones(4, 3, dtype=torch.int64), torch.ones(3, 1), torch.zeros(1)),
            TypeError,
            "X must have a real floating dtype",
        ),
    ],
)
def test_linreg_refuses_what_it_would_broadcast_silently(args, exc, match):
    with pytest.raises(exc, match=match):
        linreg(*args)


def test_squared_loss_checks_its_input():
    with pytest.raises(ValueError, match="y must have as many entries as y_hat"):
        squared_loss(torch.ones(4, 1), torch.ones(3))
    with pytest.raises(ValueError, match="y_hat must contain only finite"):
        squared_loss(torch.tensor([float("nan")]), torch.ones(1))
    with pytest.raises(TypeError, match="y must have a real floating dtype"):
        squared_loss(torch.ones(2, 1), torch.ones(2, dtype=torch.complex64))


def test_diverging_parameters_are_divergence_not_bad_input():
    """float32, lr = 1e30: the weights overflow within an epoch; the next forward pass must not
    report them as a bad argument of linreg."""
    split = _problem(torch.float32)
    w = torch.zeros(split.num_inputs, 1, requires_grad=True, dtype=torch.float32)
    b = torch.zeros(1, requires_grad=True, dtype=torch.float32)
    batches = [(split.X_train[:6], split.y_train[:6]), (split.X_train[6:], split.y_train[6:])]
    with pytest.raises(TrainingDiverged, match="smaller learning rate"):
        train(lambda X: linreg(X, w, b), [w, b], batches, num_epochs=3, lr=1e30)
