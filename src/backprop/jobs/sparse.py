"""Sparse Jacobians as plain data: the pattern, its colourings, the compressed sweeps run
by the real modes, and which of dense forward, dense reverse, compressed forward and
compressed reverse costs least (docs/sparsity.md).

The compressed modes RUN: ``modes.forward.forward`` with one seed per column colour and
``modes.reverse.reverse`` with one seed per row colour; their counts are the sweeps' own.
The Jacobian recovered from them is compared entry by entry with the dense modes': it is
the same bits, since every output's entry gathers exactly the contributions the dense
sweep gathers, in the same order (no other column of its colour reaches that output).

Nothing here prints: render/sparse_view.py does.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from backprop.engine.colouring import (Colouring, colour_columns, colour_rows, forward_seeds,
                                       recover_columns, recover_rows, reverse_seeds, work)
from backprop.engine.backends import FLOAT
from backprop.engine.counts import Counts
from backprop.engine.count_text import counted, fmt_count
from backprop.engine.modes import forward as forward_mode
from backprop.engine.modes import reverse as reverse_mode
from backprop.engine.sparsity import Pattern, pattern
from backprop.limits import Limits

CANDIDATES = ("dense forward", "dense reverse", "compressed forward", "compressed reverse")
RULE = ("fewest sweeps wins (each is one pass over the graph); operations break ties; "
        "recovering J from compressed sweeps is a copy, no arithmetic")


@dataclass(frozen=True)
class Candidate:
    """One way to get the whole Jacobian, with its exact counts (None: not known)."""

    name: str
    sweeps: int
    counts: Counts | None
    ran: bool
    reason: str | None = None  # why it did not run
    identical: bool | None = None  # compressed: recovered J == the dense mode's, bit for bit

    @property
    def operations(self) -> int | None:
        return None if self.counts is None else self.counts.arithmetic

    def as_dict(self) -> dict:
        counts = self.counts
        return {"name": self.name, "sweeps": self.sweeps, "ran": self.ran,
                "reason": self.reason, "identical": self.identical,
                "partials": counts and counts.partial_evals,
                "multiplications": counts and counts.multiplications,
                "additions": counts and counts.additions,
                "operations": self.operations}


@dataclass(frozen=True)
class SparseReport:
    pattern: Pattern
    columns: Colouring | None  # None: not coloured (over --max-ops)
    rows: Colouring | None
    candidates: dict[str, Candidate]
    winner: str
    text: str  # the verdict among the four, with its reason
    rule: str = RULE
    reason: str | None = None  # why the pattern was not coloured


def _same(a: list[list], b: list[list]) -> bool:
    """Entry by entry the same float (nan matches nan; 0 and 0.0 are one zero)."""
    return all(x == y or (isinstance(x, float) and isinstance(y, float)
                          and math.isnan(x) and math.isnan(y))
               for row_a, row_b in zip(a, b) for x, y in zip(row_a, row_b))


def sparse_costs(graph, values, wrt: list[int], limits: Limits, dense: dict) -> SparseReport:
    """The four candidates for ``graph``'s Jacobian; ``dense`` maps "forward" and
    "reverse" to compare's ModeCosts (their counts, and their Jacobians where they ran)."""
    found = pattern(graph, wrt)
    candidates = {f"dense {mode}": Candidate(f"dense {mode}", cost.counts.sweeps, cost.counts,
                                             cost.ran, cost.reason)
                  for mode, cost in ((m, dense[m]) for m in ("forward", "reverse"))}
    reason = None
    if work(found) > limits.max_ops:
        reason = (f"colouring a pattern of {counted(found.nonzeros, 'nonzero')} takes up to "
                  f"{counted(work(found), 'step')}, over --max-ops {fmt_count(limits.max_ops)}")
        columns = rows = None
        for name in CANDIDATES[2:]:
            candidates[name] = Candidate(name, 0, None, False, reason)
    else:
        columns, rows = colour_columns(found), colour_rows(found)
        candidates["compressed forward"] = _compressed(
            "forward", graph, values, wrt, found, columns, limits, dense["forward"])
        candidates["compressed reverse"] = _compressed(
            "reverse", graph, values, wrt, found, rows, limits, dense["reverse"])
    winner, text = choose(candidates)
    return SparseReport(found, columns, rows, candidates, winner, text, reason=reason)


def _compressed(mode: str, graph, values, wrt, found: Pattern, colouring: Colouring,
                limits: Limits, dense) -> Candidate:
    name = f"compressed {mode}"
    if mode == "forward" and colouring.colours > limits.max_forward_sweeps:
        return Candidate(name, colouring.colours, None, False,
                         f"{counted(colouring.colours, 'sweep')}, over --max-forward-sweeps "
                         f"{fmt_count(limits.max_forward_sweeps)}")
    bound = colouring.colours * 3 * graph.edge_count  # partials + mults + adds, at most
    if bound > limits.max_ops:
        return Candidate(name, colouring.colours, None, False,
                         f"up to {counted(bound, 'operation')} in "
                         f"{counted(colouring.colours, 'sweep')}, over --max-ops "
                         f"{fmt_count(limits.max_ops)}")
    if mode == "forward":
        result = forward_mode.forward(graph, values, wrt,
                                      seeds=forward_seeds(colouring, wrt, FLOAT.one))
        jacobian = recover_columns(result.jacobian, colouring, found)
    else:
        result = reverse_mode.reverse(graph, values, wrt,
                                      seeds=reverse_seeds(colouring, graph.outputs, FLOAT.one))
        jacobian = recover_rows(result.jacobian, colouring, found)
    identical = _same(jacobian, dense.jacobian) if dense.jacobian is not None else None
    return Candidate(name, result.counts.sweeps, result.counts, True, identical=identical)


def choose(candidates: dict[str, Candidate]) -> tuple[str, str]:
    """The cheapest candidate by (sweeps, operations), dense first and forward first on
    ties; and the verdict's text."""
    known = [c for c in candidates.values() if c.counts is not None]
    ranked = sorted(known, key=lambda c: (c.sweeps, c.operations, CANDIDATES.index(c.name)))
    best = ranked[0]
    others = "; ".join(f"{c.name}: {counted(c.sweeps, 'sweep')}, "
                       f"{counted(c.operations, 'operation')}" for c in ranked[1:])
    text = (f"{best.name} wins: {counted(best.sweeps, 'sweep')}, "
            f"{counted(best.operations, 'operation')}" + (f"; {others}" if others else ""))
    return best.name, text
