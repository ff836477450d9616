"""Reproducibility: one call at the top of every chapter fixes all random streams.

Introduced in the preface (``book/preface.md``) and used by every chapter.

The seeding policy
------------------
* A chapter calls :func:`seed_everything` once: the global generators of Python, NumPy and
  torch are seeded (d2l's functions draw from torch's global generator).
* Every helper that draws at random takes a ``seed`` (an int ``>= 0``, never ``None``) and
  draws from its own generators, never from the global ones.  A trainer that both initializes
  and shuffles uses :func:`streams`: two *independent* generators derived from the one seed
  (NumPy's ``SeedSequence.spawn``), so that changing the batch order does not change the
  initial weights and no two purposes share a stream.
"""

from __future__ import annotations

import random
from typing import NamedTuple

import numpy as np
import torch

from .validation import check_bool, check_int, check_seed

__all__ = ["Streams", "seed_everything", "streams"]


def seed_everything(
    seed: int = 0, *, threads: int | None = 1, deterministic: bool = True
) -> torch.Generator:
    """Seed Python's, NumPy's and torch's global generators and return a torch generator.

    ``seed_everything(s)`` makes ``torch.randn`` produce the same numbers as
    ``torch.Generator().manual_seed(s)``, so d2l's functions (which draw from the
    global generator) and ours (which take a ``seed``) can be compared.

    Two process-wide settings change too, and stay changed:

    * ``threads`` sets torch's intra-op threads (default 1) so that results do not depend on
      the machine's core count; the book's tensors are small, and one thread is also the
      fastest for them (``None`` leaves the setting alone);
    * ``deterministic=True`` (default) calls
      ``torch.use_deterministic_algorithms(True, warn_only=True)``: operations that have a
      deterministic implementation use it, the others warn.  ``False`` turns it off.
    """
    seed = check_seed("seed", seed)
    deterministic = check_bool("deterministic", deterministic)
    if threads is not None:
        threads = check_int("threads", threads, minimum=1)
    random.seed(seed)
    np.random.seed(seed % 2**32)  # noqa: NPY002 (seeds the legacy global stream on purpose)
    torch.manual_seed(seed)
    _set_deterministic(deterministic)
    if threads is not None:
        torch.set_num_threads(threads)
    return torch.Generator().manual_seed(seed)


def _set_deterministic(on: bool) -> None:
    """``torch.use_deterministic_algorithms(on, warn_only=True)``, without its import cost.

    The public call also sets the flag of ``torch.compile``'s code generator, and for that
    imports ``torch._inductor`` (about 2 s, paid by every chapter's fresh kernel; the book
    never compiles).  The flag that eager operations read is set directly when torch exposes
    its setter, and through the public call otherwise.
    """
    setter = getattr(torch._C, "_set_deterministic_algorithms", None)
    if setter is None:  # pragma: no cover - a torch without the private setter
        torch.use_deterministic_algorithms(on, warn_only=True)
    else:
        setter(on, warn_only=True)


class Streams(NamedTuple):
    """Independent torch generators derived from one seed: see :func:`streams`."""

    init: torch.Generator
    shuffle: torch.Generator
    noise: torch.Generator


def streams(seed: int) -> Streams:
    """Independent generators for initialization, shuffling and training noise, from one ``seed``.

    ``streams(s).init``, ``streams(s).shuffle`` and ``streams(s).noise`` (dropout masks,
    augmentation) are seeded with the first three children of
    ``numpy.random.SeedSequence(s)``: the same ``s`` always gives the same streams, and they
    never coincide.  (Children are numbered, so adding the third stream left the first two
    unchanged.)  Introduced in the preface; used by every trainer that draws.
    """
    seed = check_seed("seed", seed)
    init, shuffle, noise = (
        int(child.generate_state(1, dtype=np.uint64)[0] % 2**63)
        for child in np.random.SeedSequence(seed).spawn(3)
    )
    return Streams(
        torch.Generator().manual_seed(init),
        torch.Generator().manual_seed(shuffle),
        torch.Generator().manual_seed(noise),
    )
