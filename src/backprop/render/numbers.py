"""How numbers and times read, the same in every view (terminal, Markdown)."""

from __future__ import annotations

import math
from typing import Any


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


EXACT_BELOW = 10**30  # counts print exactly below this (JSON and CSV always do)
CELL_EXACT_BELOW = 10**15  # in a table cell


def fmt_count(value: int | None, exact_below: int = EXACT_BELOW) -> str:
    """Exact with separators below ``exact_below``; beyond, three digits and an exponent
    (computed on the int itself: 2^2000 paths is no float)."""
    if value is None:
        return "-"
    size = abs(value)
    if size < max(exact_below, 1000):
        return f"{value:,}"
    exponent = int(math.log10(size))
    while 10**exponent > size:
        exponent -= 1
    while 10**(exponent + 1) <= size:
        exponent += 1
    lead = (size // 10**(exponent - 3) + 5) // 10  # three digits, rounded
    if lead == 1000:
        lead, exponent = 100, exponent + 1
    return f"{'-' if value < 0 else ''}{lead // 100}.{lead % 100:02d}e+{exponent}"


def fmt_ratio(value: float | int | None) -> str:
    """A float to three digits; an int (a ratio too large for a float) as a count."""
    if isinstance(value, int):
        return fmt_count(value, CELL_EXACT_BELOW)
    if value is None or not math.isfinite(value):
        return "-"
    return f"{value:.3g}"


def counted(value: int, noun: str, plural: str | None = None) -> str:
    """``1 path``, ``2 paths``, ``1.14e+602 paths``: a count and its noun, singular when 1."""
    return f"{fmt_count(value)} {noun if value == 1 else plural or noun + 's'}"
