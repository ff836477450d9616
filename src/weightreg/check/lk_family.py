"""Self-checks for the exercises of the L0.5, L3/L10 and Lk-family chapters."""

from __future__ import annotations

__all__: list[str] = []
