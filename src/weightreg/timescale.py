"""AdamW's weights as an exponential moving average of its updates, and its timescale.

Introduced in the chapter *The timescale of AdamW* (``book/normalized/timescale.md``).
"""

from __future__ import annotations

__all__: list[str] = []
