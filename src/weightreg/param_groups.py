"""Which parameters to decay: torch.optim parameter groups by a named rule.

Introduced in the chapter *Weight decay in practice* (``book/normalized/practice.md``).
"""

from __future__ import annotations

__all__: list[str] = []
