"""Self-checks for the new exercises of the AdamW pages.

``book/decay/adamw.md`` and ``book/decay/adamw_figure2.md``.
"""

from __future__ import annotations

__all__: list[str] = []
