"""A small character-level transformer and an offline text corpus, for the practice chapter.

Introduced in the chapter *Weight decay in practice* (``book/normalized/practice.md``).
"""

from __future__ import annotations

__all__: list[str] = []
