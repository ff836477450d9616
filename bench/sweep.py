"""Time the batched hyper-parameter sweep against a Python loop, vmap and the matmul roofline.

    make bench                      # = .venv/bin/python bench/sweep.py
    .venv/bin/python bench/sweep.py --epochs 5 --optimizers adam

The work is the grid of the chapter *Why L2 fails under Adam* (``book/decay/adamw.md``):
8 learning rates x 8 weight decays x 3 seeds of a 64-32-10 ReLU network on 200 digits,
for each optimizer with coupled (L2) and decoupled decay.  Three implementations train it:

* **loop**: ``tests/sweep_reference.py::sweep_loop``, one configuration after the other with
  the ``torch.optim.Optimizer`` classes of :mod:`weightreg.optim` and autograd;
* **vmap**: ``tests/sweep_reference.py::sweep_vmap``, PyTorch's own way to train many small
  models at once (``torch.func.stack_module_state`` + ``vmap`` + ``functional_call``), with
  the same update rule on the stacked parameters;
* **ours**: :func:`weightreg.optim_sweep.sweep`.

All three start from the same weights, see the same minibatches and run on one thread.  The
**roofline** is the batched matrix products that one training step needs (forward, and the
backward products for the weight and hidden-layer gradients), with the sweep's shapes, timed
in the same run for the same number of steps: what the sweep would cost if it were nothing but
its matrix products.  Its GFLOP/s are the useful FLOPs of the training divided by that time.

The work is done twice:

* in **float64**, to check that the three agree: every test error identical and every
  parameter within ``--tol``.  The batched and the single matrix products add in different
  orders, so they differ by rounding (about 1e-16); at the largest learning rates SGD is
  chaotic and amplifies that to about 1e-6 in 10 epochs, hence the default tolerance;
* in **float32**, the dtype the chapter uses, for the timing table (best of ``--repeat``
  runs; the loop, many times slower, runs once).

Also times **ours with BatchNorm** (``normalization="batch"``, the same float32 grids) and
prints its cost relative to the plain network.

Prints ratios measured in one run (there are no timed tests).  Exits with status 1 if the
float64 runs disagree.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from sweep_reference import sweep_loop, sweep_vmap  # noqa: E402

from weightreg.data import digits_split  # noqa: E402
from weightreg.optim_sweep import SweepConfig, sweep  # noqa: E402

LEARNING_RATES = {
    "sgd": np.logspace(-2.5, 0, 8),
    "adam": np.logspace(-3.5, -1, 8),
}
WEIGHT_DECAYS = np.logspace(-5, -0.5, 8)
IMPLEMENTATIONS = {"loop": sweep_loop, "vmap": sweep_vmap, "ours": sweep}


def train_flops(config: SweepConfig, n: int, d: int, k: int) -> float:
    """Matrix-product FLOPs of one sweep: per step and configuration, ``2 B (d h + h k)``
    forward and ``2 B (d h + 2 h k)`` backward (weight gradients and the hidden layer's)."""
    B, h = config.batch_size, config.hidden
    steps = config.num_epochs * (n // B)
    configs = len(config.grid())
    return float(configs * steps * B * (4 * d * h + 6 * h * k))


def roofline_seconds(config: SweepConfig, n: int, d: int, k: int, repeat: int) -> float:
    """Time the five batched products of every step with the sweep's shapes (one thread)."""
    B, h, C = config.batch_size, config.hidden, len(config.grid())
    steps = config.num_epochs * (n // B)
    gen = torch.Generator().manual_seed(0)

    def r(*shape):
        return torch.randn(*shape, generator=gen, dtype=config.dtype)

    X, W1, H, W2, G = r(C, B, d), r(C, d, h), r(C, B, h), r(C, h, k), r(C, B, k)
    out = [r(C, B, h), r(C, B, k), r(C, h, k), r(C, B, h), r(C, d, h)]
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        best = float("inf")
        for _ in range(repeat):
            start = time.perf_counter()
            for _ in range(steps):
                torch.bmm(X, W1, out=out[0])  # forward, first layer
                torch.bmm(H, W2, out=out[1])  # forward, second layer
                torch.bmm(H.transpose(1, 2), G, out=out[2])  # dW2
                torch.bmm(G, W2.transpose(1, 2), out=out[3])  # dH
                torch.bmm(X.transpose(1, 2), H, out=out[4])  # dW1
            best = min(best, time.perf_counter() - start)
    finally:
        torch.set_num_threads(threads)
    return best


def _gap(a, b) -> float:
    return max(float((x - y).abs().max()) for x, y in zip(a.params, b.params, strict=True))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10, help="epochs per configuration")
    parser.add_argument("--n-train", type=int, default=200, help="training examples")
    parser.add_argument(
        "--optimizers", nargs="+", default=["sgd", "adam"], choices=sorted(LEARNING_RATES)
    )
    parser.add_argument("--tol", type=float, default=1e-5, help="largest float64 parameter gap")
    parser.add_argument("--repeat", type=int, default=3, help="timing repeats (best is kept)")
    args = parser.parse_args(argv)

    worst, all_same = 0.0, True
    seconds = dict.fromkeys([*IMPLEMENTATIONS, "roofline"], 0.0)
    batchnorm = 0.0
    flops = 0.0
    for dtype in (torch.float64, torch.float32):
        split = digits_split(args.n_train, seed=0, dtype=dtype)
        n, d = split.X_train.shape
        k = int(max(split.y_train.max(), split.y_test.max())) + 1
        print(f"-- {str(dtype).removeprefix('torch.')}")
        for optimizer in args.optimizers:
            for decoupled in (False, True):
                config = SweepConfig(
                    optimizer=optimizer,
                    decoupled=decoupled,
                    lrs=LEARNING_RATES[optimizer],
                    weight_decays=WEIGHT_DECAYS,
                    seeds=(0, 1, 2),
                    num_epochs=args.epochs,
                    dtype=dtype,
                )
                name = f"{optimizer}{'W' if decoupled else ' + L2'}"
                repeat = 1 if dtype == torch.float64 else args.repeat
                results, times = {}, {}
                for impl, fn in IMPLEMENTATIONS.items():
                    results[impl] = fn(split, config)
                    again = 0 if impl == "loop" else repeat - 1  # the loop is slow: timed once
                    times[impl] = min(
                        [results[impl].seconds] + [fn(split, config).seconds for _ in range(again)]
                    )
                ours = results["ours"]
                n_cfg = ours.test_error.size
                if dtype == torch.float64:
                    gaps = {impl: _gap(ours, results[impl]) for impl in ("loop", "vmap")}
                    same = {
                        impl: int(np.sum(ours.test_error == results[impl].test_error))
                        for impl in ("loop", "vmap")
                    }
                    worst = max(worst, *gaps.values())
                    all_same = all_same and all(v == n_cfg for v in same.values())
                    print(
                        f"{name:9s} {n_cfg} configurations x {args.epochs} epochs: largest "
                        f"parameter gap to loop {gaps['loop']:.1e}, to vmap {gaps['vmap']:.1e}; "
                        f"identical test errors {same['loop']}/{n_cfg} (loop), "
                        f"{same['vmap']}/{n_cfg} (vmap)",
                        flush=True,
                    )
                else:
                    roof = roofline_seconds(config, n, d, k, args.repeat)
                    bn = dataclasses.replace(config, normalization="batch")
                    batchnorm += min(sweep(split, bn).seconds for _ in range(args.repeat))
                    for impl, t in times.items():
                        seconds[impl] += t
                    seconds["roofline"] += roof
                    flops += train_flops(config, n, d, k)
                    print(
                        f"{name:9s} {n_cfg} configurations x {args.epochs} epochs: "
                        + ", ".join(f"{impl} {t:.3f} s" for impl, t in times.items())
                        + f", roofline {roof:.3f} s",
                        flush=True,
                    )
    ok = worst <= args.tol and all_same
    print(
        f"agreement (float64): {'OK' if ok else 'FAILED'}: largest parameter gap {worst:.1e} "
        f"(tolerance {args.tol:.0e}), test errors {'identical' if all_same else 'differ'}"
    )
    print(f"\nfloat32, one thread, all grids ({flops / 1e9:.2f} GFLOP of matrix products):")
    print(f"{'':9s} {'time':>9s} {'rate':>13s} {'ours is':>9s} {'of roofline':>12s}")
    for impl, t in seconds.items():
        print(
            f"{impl:9s} {t:7.3f} s {flops / t / 1e9:7.2f} GFLOP/s {t / seconds['ours']:8.2f}x "
            f"{seconds['roofline'] / t:11.0%}"
        )
    print(
        f"ours vs vmap: {seconds['vmap'] / seconds['ours']:.2f}x faster; "
        f"ours vs loop: {seconds['loop'] / seconds['ours']:.1f}x faster; "
        f"ours reaches {seconds['roofline'] / seconds['ours']:.0%} of the roofline"
    )
    print(
        f"ours with BatchNorm (normalization='batch'): {batchnorm:.3f} s, "
        f"{batchnorm / seconds['ours']:.2f}x the plain network"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
