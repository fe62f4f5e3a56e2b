"""A count as people read it, for messages written below the render layer.

The engine's limit messages (``modes.paths.check_limit``) state exact sizes such as
2^2000 paths, and the engine must not import render/, so the count format lives here, the
lowest layer that needs it; ``render.numbers`` and the jobs import it from here.
"""

from __future__ import annotations

import math

EXACT_BELOW = 10**30  # counts print exactly below this (JSON and CSV always do)


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


def counted(value: int, noun: str, plural: str | None = None) -> str:
    """``1 path``, ``2 paths``, ``1.14e+602 paths``: a count and its noun, singular when 1."""
    return f"{fmt_count(value)} {noun if value == 1 else plural or noun + 's'}"
