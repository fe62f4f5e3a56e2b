"""The three differentiation modes. Each is a small module with one function

    mode(graph, values, wrt, backend, watch=None) -> ModeResult

built on the same local partials from the op table (``evaluate.local_partials``).

A sweep can be watched: ``watch`` is called with every step it takes (a ``Seed`` at the
start of each sweep, an ``Edge`` for every derivative carried across an edge, a ``Walked``
for every path), so ``--explain`` and path listings format what the real sweep did instead
of redoing its arithmetic. Unwatched (``watch=None``) a sweep pays one test per edge, and
reverse mode keeps running in the compiled core; a watched sweep runs in Python, which
computes the same bits.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from backprop.engine.counts import Counts

MODES = ("forward", "paths", "reverse")


@dataclass(frozen=True)
class ModeResult:
    """jacobian[o][k] = d output_o / d wrt_k, and what it cost."""

    mode: str
    jacobian: list[list[Any]]
    counts: Counts


@dataclass(frozen=True)
class Seed:
    """A sweep starts: ``node`` (the wrt input in forward mode, the output in reverse mode)
    holds the seed ``backend.one``; ``sweep`` counts the sweeps from 0."""

    mode: str
    sweep: int
    node: int


@dataclass(frozen=True)
class Edge:
    """One derivative carried across the edge from ``arg`` into ``node`` (its argument
    ``slot``): ``contribution = partial * carried``, where ``carried`` is the tangent of
    ``arg`` (forward) or the adjoint of ``node`` (reverse). The contribution is added to
    the ``receiver`` (node forward, arg reverse): its sum went from ``before`` (None: this
    is the first contribution, a store) to ``after``."""

    mode: str
    sweep: int
    node: int
    slot: int
    arg: int
    partial: Any
    carried: Any
    contribution: Any
    before: Any
    after: Any

    @property
    def receiver(self) -> int:
        return self.node if self.mode == "forward" else self.arg


def relative_difference(a: float, b: float) -> float:
    """|a - b| / max(1, |b|): entries near zero compare absolutely. A non-finite entry
    agrees (0.0) only with the same value, nan with nan; otherwise the difference is inf."""
    a, b = float(a), float(b)
    if math.isfinite(a) and math.isfinite(b):
        return abs(a - b) / max(1.0, abs(b))
    return 0.0 if (a == b or (a != a and b != b)) else math.inf


def agreement(jacobians: list[list[list[float]]]) -> float | None:
    """Largest relative difference between numeric Jacobians (None with fewer than two)."""
    if len(jacobians) < 2:
        return None
    reference = jacobians[0]
    return max((relative_difference(a, b)
                for jacobian in jacobians[1:]
                for row, ref_row in zip(jacobian, reference)
                for a, b in zip(row, ref_row)), default=0.0)


def run_mode(name: str, graph, values, wrt, backend=None, **options) -> ModeResult:
    """Dispatch to a mode by name; SymPy or float values both work (options: ``watch``, and
    path enumeration's limits)."""
    from backprop.engine.modes import forward
    from backprop.engine.modes import paths
    from backprop.engine.modes import reverse
    from backprop.engine.backends import FLOAT

    backend = backend or FLOAT
    function = {"forward": forward.forward, "paths": paths.paths, "reverse": reverse.reverse}[name]
    return function(graph, values, wrt, backend, **options)
