"""Every limit a job obeys, with its default, written once (docs/errors.md lists them).

The CLI declares one option per field (``--max-nodes`` for ``max_nodes``) with the
field's default, and jobs take one ``Limits``; a library call without one gets these.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

from backprop.errors import InputError

MAX_CHECK_TIMEOUT = 1e9  # seconds: about 30 years; the OS timers take no more


UNLIMITED = 2**62  # a whole-number limit above this is no limit (and fits a C ssize_t)


def _shown(value: float) -> str:
    """A limit as typed back: 1e+400 for an int too long to read (or to make a float of)."""
    if isinstance(value, float):
        return f"{value:g}"
    digits = str(abs(value))
    if len(digits) <= 15:
        return f"{value:,}"
    return f"{'-' if value < 0 else ''}{digits[0]}.{digits[1:3]}e+{len(digits) - 1}"


def nonnegative(name: str, value: float) -> None:
    """Refuse a negative, infinite or nan option value."""
    shown = _shown(value)
    if value < 0:
        raise InputError(f"{name} must not be negative (got {shown})")
    if isinstance(value, float) and not math.isfinite(value):
        raise InputError(f"{name} must be a finite number (got {shown})")


@dataclass(frozen=True)
class Limits:
    """Limits on the work a command may do. Fields are validated in this order."""

    max_values: int = 50_000_000  # numbers a network may hold (400 MB as float64)
    max_units: int = 100_000  # units in one layer of a network
    max_jvps: int = 20_000  # forward mode on the array engine: one JVP per weight entry
    max_nodes: int = 5_000_000
    max_depth: int = 5_000_000
    max_paths: int = 1_000_000
    max_bytes: int = 16 * 1024 * 1024  # input text: an expression or a spec file
    check_timeout: float = 10.0  # seconds
    max_ops: int = 20_000_000  # few paths can still be long: 1e5 paths of 1e5 edges each
    max_forward_sweeps: int = 10_000  # compare, scale: estimate, not run, over this
    max_elimination_vertices: int = 16  # compare --eliminations: the exact search is 2^k

    def __post_init__(self) -> None:
        for item in fields(self):
            value = getattr(self, item.name)
            nonnegative("--" + item.name.replace("_", "-"), value)
            if isinstance(value, int) and value > UNLIMITED:
                object.__setattr__(self, item.name, UNLIMITED)
        if self.check_timeout > MAX_CHECK_TIMEOUT:
            raise InputError(f"--check-timeout must be at most {MAX_CHECK_TIMEOUT:g} s "
                             f"(got {self.check_timeout:g})")

