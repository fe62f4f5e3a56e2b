"""The three differentiation modes. Each is a small module with one function

    mode(graph, values, wrt, backend) -> ModeResult

built on the same local partials from the op table (``evaluate.local_partials``).
"""

from __future__ import annotations

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


def run_mode(name: str, graph, values, wrt, backend=None, **options) -> ModeResult:
    """Dispatch to a mode by name; SymPy or float values both work."""
    from . import forward, paths, reverse
    from ..backends import FLOAT

    backend = backend or FLOAT
    function = {"forward": forward.forward, "paths": paths.paths, "reverse": reverse.reverse}[name]
    return function(graph, values, wrt, backend, **options)
