"""Self-checks for the exercises of ``book/normalized/scale_invariance.md``."""

from __future__ import annotations

__all__: list[str] = []
