"""Self-checks for the exercises of the baseline chapters."""

from __future__ import annotations

__all__: list[str] = []
