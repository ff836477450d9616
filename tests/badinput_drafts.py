"""Draft bad-input registry entries for callables still in ``badinput.PENDING``.

Written against the APIs in the working tree during the issue-10 rewrite; not run by the test
suite.  At integration, move each entry that still matches its function into
``badinput.REGISTRY`` (and its name out of ``PENDING``).  Run the drafts alone with
``.venv/bin/python tests/badinput_drafts.py`` to list what the battery finds.
"""

from __future__ import annotations

import collections

import badinput as bi
import torch
from badinput import KINDS, Kind, entry, f64
from hypothesis import strategies as st

_F64 = torch.float64


def _xy():
    g = torch.Generator().manual_seed(0)
    X = torch.randn(6, 3, generator=g, dtype=_F64)
    return X, X @ f64(1.0, -1.0, 0.5) + 0.1


def _train_baseline():
    X, y = _xy()
    w = torch.zeros(3, 1, dtype=_F64, requires_grad=True)
    b = torch.zeros(1, dtype=_F64, requires_grad=True)

    def net(Z):
        return Z @ w + b

    batches = [(X[:3], y[:3]), (X[3:], y[3:])]
    return (net, [w, b], batches), {
        "num_epochs": 2,
        "lr": 0.1,
        "eval_data": {"train": (X, y)},
        "record": {"norm_w": lambda: float(w.detach().norm())},
    }


def _squared(y_hat, y):
    return (y_hat - y.reshape(y_hat.shape)) ** 2 / 2


DRAFT_KINDS: dict[str, Kind] = {  # "eval_sets|None" is in badinput.KINDS
    "batches": Kind(
        bad=lambda b: [
            [],
            iter(b),  # one-shot: trains one epoch, then nothing
            None,
            [(torch.full((2, 3), float("nan"), dtype=_F64), torch.ones(2, dtype=_F64))],
        ],
        draw=lambda b: st.text(),
    ),
    "optimizer|None": Kind(bad=lambda b: ["sgd", 1], draw=lambda b: st.text()),
    "callable|None": Kind(bad=lambda b: [1.0, "f", ""], draw=lambda b: st.text()),
    "record|None": Kind(
        bad=lambda b: [{"train": lambda: 1.0}, {"x": 1.0}, [1], ""], draw=lambda b: st.text()
    ),
}

DRAFTS: dict[str, bi.Entry] = {
    "weightreg.optim_sweep.init_mlp": entry(
        lambda: ((4, 3, 2, 0), {"dtype": _F64}),
        num_inputs="int>=1",
        hidden="int>=1",
        num_outputs="int>=1",
        seed="seed",
        dtype="dtype",
    ),
    "weightreg.optim_sweep.minibatch_order": entry(
        lambda: ((10, 3, 2, 0), {}),
        n="int>=1",
        batch_size="int>=1",
        num_epochs="int>=1",
        seed="seed",
    ),
    "weightreg.optim_sweep.schedule_multipliers": entry(
        lambda: ((5,), {"schedule": "cosine"}), num_steps="int>=1", schedule="choice"
    ),
    "weightreg.train.evaluate_loss": entry(
        lambda: ((lambda Z: Z.sum(1, keepdim=True), *_xy(), _squared), {}),
        net="callable",
        X="matrix",
        y="sized",
        loss="callable",
    ),
    "weightreg.train.train": entry(
        _train_baseline,
        net="callable",
        params="tensor|list",
        train_iter="batches",
        num_epochs="int>=1",
        lr="lr",
        optimizer="optimizer|None",
        update="callable|None",
        loss="callable",
        penalty="callable|None",
        eval_data="eval_sets|None",
        record="record|None",
    ),
}


def main() -> None:
    KINDS.update(DRAFT_KINDS)
    ok = {}
    for key, ent in DRAFTS.items():
        try:
            with bi._GlobalState():
                problem = bi.check_baseline(key, ent)
        except Exception as exc:  # noqa: BLE001 (the function may be gone)
            problem = f"{type(exc).__name__}: {exc}"
        if problem:
            print("draft out of date:", key, problem)
        else:
            ok[key] = ent
    out = bi.run_battery(ok, draws=2)
    for module, counts in bi.summarize(out).items():
        print(module, counts)
    found = collections.defaultdict(list)
    for o in out:
        if o.outcome in (bi.SILENT, bi.UNCLEAR):
            found[(o.callable, o.param, o.outcome)].append(f"{o.value[:50]} -> {o.detail[:90]}")
    for (name, param, outcome), cases in sorted(found.items()):
        print(f"{outcome:8s} {name}({param}=...): {len(cases)}, e.g. {cases[0]}")


if __name__ == "__main__":
    main()
