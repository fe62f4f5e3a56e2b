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
