"""Self-checks for the new exercises of the chapters *L1* and *L0.5*.

``book/lk/l1.md`` and ``book/lk/lhalf.md``.
"""

from __future__ import annotations

__all__: list[str] = []
