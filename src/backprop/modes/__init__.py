"""The three differentiation modes. Each is a small module with one function

    mode(graph, values, wrt, backend) -> ModeResult

built on the same local partials from the op table (``evaluate.local_partials``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from ..counts import Counts

MODES = ("forward", "paths", "reverse")


@dataclass(frozen=True)
class ModeResult:
    """jacobian[o][k] = d output_o / d wrt_k, and what it cost."""

    mode: str
    jacobian: list[list[Any]]
    counts: Counts


def agreement(jacobians: list[list[list[float]]]) -> float | None:
    """Largest relative difference between numeric Jacobians (None with fewer than two).

    Relative to max(1, |reference|), so entries near zero compare absolutely; a non-finite
    entry agrees only with the same value (nan with nan), else the answer is inf.
    """
    if len(jacobians) < 2:
        return None
    worst = 0.0
    reference = jacobians[0]
    for jacobian in jacobians[1:]:
        for row, ref_row in zip(jacobian, reference):
            for a, b in zip(row, ref_row):
                if math.isfinite(a) and math.isfinite(b):
                    worst = max(worst, abs(a - b) / max(1.0, abs(b)))
                elif not (a == b or (a != a and b != b)):
                    return math.inf
    return worst


def run_mode(name: str, graph, values, wrt, backend=None, **options) -> ModeResult:
    """Dispatch to a mode by name; SymPy or float values both work."""
    from . import forward, paths, reverse
    from ..backends import FLOAT

    backend = backend or FLOAT
    function = {"forward": forward.forward, "paths": paths.paths, "reverse": reverse.reverse}[name]
    return function(graph, values, wrt, backend, **options)
