"""Reproducibility: one call at the top of every chapter fixes all random streams.

Introduced in the preface (``book/preface.md``) and used by every chapter.
"""

from __future__ import annotations

import random

import numpy as np
import torch

__all__ = ["seed_everything"]


def seed_everything(seed: int = 0, *, threads: int | None = 1) -> torch.Generator:
    """Seed Python's, NumPy's and torch's global generators and return a torch generator.

    ``seed_everything(s)`` makes ``torch.randn`` produce the same numbers as
    ``torch.Generator().manual_seed(s)``, so d2l's functions (which draw from the
    global generator) and ours (which take a ``generator``) can be compared.
    ``threads`` sets torch's intra-op threads (default 1) so that results do not
    depend on the machine's core count; the book's tensors are small, and one thread is
    also the fastest for them (``None`` leaves the setting alone).
    """
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"seed must be an int, got {type(seed).__name__}")
    if seed < 0:
        raise ValueError(f"seed must be >= 0, got {seed}")
    random.seed(seed)
    np.random.seed(seed % 2**32)  # noqa: NPY002 (seeds the legacy global stream on purpose)
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True, warn_only=True)
    if threads is not None:
        torch.set_num_threads(threads)
    return torch.Generator().manual_seed(seed)
