"""Self-checks for the exercises of ``book/normalized/figure2_bn.md``."""

from __future__ import annotations

__all__: list[str] = []
