"""How numbers and times read, the same in every view (terminal, Markdown)."""

from __future__ import annotations

import math
from typing import Any

from backprop.engine.count_text import counted, fmt_count  # noqa: F401 (the views use them)


def fmt(value: Any) -> str:
    """Numbers to the last digit (shortest round-trip repr); anything else as text."""
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else str(value)
    return str(value)


def fmt_seconds(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 1e-3:
        return f"{seconds * 1e6:.0f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds:.2f} s"


CELL_EXACT_BELOW = 10**15  # in a table cell


def fmt_ratio(value: float | int | None) -> str:
    """A float to three digits; an int (a ratio too large for a float) as a count."""
    if isinstance(value, int):
        return fmt_count(value, CELL_EXACT_BELOW)
    if value is None or not math.isfinite(value):
        return "-"
    return f"{value:.3g}"

