"""Time the batched hyper-parameter sweep against a per-configuration Python loop.

    make bench                      # = .venv/bin/python bench/sweep.py
    .venv/bin/python bench/sweep.py --epochs 5 --optimizers adam

The work is the grid of the chapter *Why L2 fails under Adam* (``book/decay/adamw.md``):
8 learning rates x 8 weight decays x 3 seeds of a 64-32-10 ReLU network on 200 digits,
for each optimizer with coupled (L2) and decoupled decay.
:func:`weightreg.optim_sweep.sweep` trains each grid as one batched computation;
:func:`weightreg.optim_sweep.sweep_loop` trains the same configurations one after the
other with the ``torch.optim.Optimizer`` classes of :mod:`weightreg.optim`.  Both start
from the same weights, see the same minibatches and run on one thread.

The work is done twice:

* in **float64**, to check that the two agree: every test error identical and every
  parameter within ``--tol``.  The batched and the single matrix products add in
  different orders, so they differ by rounding (about 1e-16); at the largest learning
  rates SGD is chaotic and amplifies that to about 1e-6 in 10 epochs, hence the
  default tolerance;
* in **float32**, the dtype the chapter uses, for the timing that the last line
  ``speed-up: N.Nx`` reports (total loop time / total batched time).

Exits with status 1 if the float64 runs disagree.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np
import torch

from weightreg.data import digits_split
from weightreg.optim_sweep import sweep, sweep_loop

LEARNING_RATES = {
    "sgd": np.logspace(-2.5, 0, 8),
    "adam": np.logspace(-3.5, -1, 8),
}
WEIGHT_DECAYS = np.logspace(-5, -0.5, 8)


def _run_pair(split, kw: dict) -> tuple[float, float, float, int]:
    """Batched and loop training of one grid.

    Returns (batched seconds, loop seconds, largest parameter gap, number of configurations
    whose test errors are identical).
    """
    batched = sweep(split, **kw)
    loop = sweep_loop(split, **kw)
    gap = max(float((a - b).abs().max()) for a, b in zip(batched.params, loop.params, strict=True))
    same = int(np.sum(batched.test_error == loop.test_error))
    return batched.seconds, loop.seconds, gap, same


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10, help="epochs per configuration")
    parser.add_argument("--n-train", type=int, default=200, help="training examples")
    parser.add_argument(
        "--optimizers", nargs="+", default=["sgd", "adam"], choices=sorted(LEARNING_RATES)
    )
    parser.add_argument("--tol", type=float, default=1e-5, help="largest float64 parameter gap")
    args = parser.parse_args(argv)

    totals = {torch.float64: [0.0, 0.0], torch.float32: [0.0, 0.0]}
    worst, all_same = 0.0, True
    for dtype in (torch.float64, torch.float32):
        split = digits_split(args.n_train, seed=0, dtype=dtype)
        print(f"-- {str(dtype).removeprefix('torch.')}")
        for optimizer in args.optimizers:
            for decoupled in (False, True):
                kw = {
                    "optimizer": optimizer,
                    "decoupled": decoupled,
                    "lrs": LEARNING_RATES[optimizer],
                    "weight_decays": WEIGHT_DECAYS,
                    "seeds": (0, 1, 2),
                    "num_epochs": args.epochs,
                    "dtype": dtype,
                }
                t_batched, t_loop, gap, n_same = _run_pair(split, kw)
                totals[dtype][0] += t_batched
                totals[dtype][1] += t_loop
                n = len(LEARNING_RATES[optimizer]) * len(WEIGHT_DECAYS) * 3
                if dtype == torch.float64:
                    worst, all_same = max(worst, gap), all_same and n_same == n
                name = f"{optimizer}{'W' if decoupled else ' + L2'}"
                print(
                    f"{name:9s} {n} configurations x {args.epochs} epochs: "
                    f"batched {t_batched:6.2f} s, loop {t_loop:6.2f} s "
                    f"({t_loop / t_batched:5.1f}x); largest parameter gap {gap:.1e}; "
                    f"identical test errors {n_same}/{n}",
                    flush=True,
                )
        batched, loop = totals[dtype]
        print(f"   total: batched {batched:.2f} s, loop {loop:.2f} s ({loop / batched:.1f}x)")
        if dtype == torch.float32:
            print(
                "   (float32 rounding is amplified in the chaotic largest-learning-rate SGD runs, "
                "so only float64 is held to agreement)"
            )
    ok = worst <= args.tol and all_same
    print(
        f"agreement (float64): {'OK' if ok else 'FAILED'}: largest parameter gap {worst:.1e} "
        f"(tolerance {args.tol:.0e}), test errors {'identical' if all_same else 'differ'}"
    )
    batched, loop = totals[torch.float32]
    print(f"speed-up: {loop / batched:.1f}x")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
