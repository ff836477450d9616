"""Self-checks for the exercises of ``book/normalized/equilibrium.md``."""

from __future__ import annotations

__all__: list[str] = []
