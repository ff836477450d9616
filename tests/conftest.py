"""Shared fixtures. Book tests read the HTML that `make test` builds into $BOOK_HTML."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _float64_default():
    """Tests run in float64 unless they say otherwise; the default dtype is restored after."""
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(old)


@pytest.fixture(autouse=True)
def _one_thread():
    """One torch thread, as in the book (seed_everything): fastest for these small tensors."""
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


@pytest.fixture(scope="session")
def book_html() -> Path:
    """The built book (``make test`` sets BOOK_HTML); tests that need it skip without it."""
    path = Path(os.environ.get("BOOK_HTML", ROOT / "_build/test/_build/html"))
    if not (path / "index.html").exists():
        pytest.skip(f"no built book at {path}: run `make test`")
    return path
