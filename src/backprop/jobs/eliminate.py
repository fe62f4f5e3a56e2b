"""``compare --eliminations`` as plain data: the Jacobian accumulated by vertex elimination
in forward, reverse and Markowitz order and in an optimal order found by exhaustive search,
each with its exact multiplications, set beside forward and reverse mode's own counts
through the exact mapping of engine/eliminate.py (docs/sparsity.md).

The search is exponential in the intermediate vertices, so a graph with more than
``--max-elimination-vertices`` of them is refused (exit 3) before any work.
Nothing here prints: render/sparse_view.py does.
"""

from __future__ import annotations

from dataclasses import dataclass

from backprop.engine import eliminate as elim
from backprop.engine.count_text import counted, fmt_count
from backprop.engine.modes import agreement
from backprop.errors import LimitError
from backprop.limits import Limits

ORDER_NAMES = (*elim.ORDERS, "optimal")


@dataclass(frozen=True)
class OrderCost:
    name: str
    order: list[str]  # the intermediates' names, first eliminated first
    multiplications: int
    additions: int
    fill: int


@dataclass(frozen=True)
class EliminationReport:
    intermediates: int
    independents: int
    dependents: int
    orders: dict[str, OrderCost]
    modes: dict[str, int | None]  # forward and reverse mode's multiplications (None: not run)
    mapping: dict[str, elim.Mapping]
    reproduced: dict[str, bool | None]  # mode == order + mapping.difference
    difference: float | None  # largest relative difference from the modes' Jacobian
    limit: int

    @property
    def optimum_at_most_both(self) -> bool:
        best = self.orders["optimal"].multiplications
        return best <= min(self.orders["forward"].multiplications,
                           self.orders["reverse"].multiplications)


def check_size(graph, wrt: list[int], limits: Limits) -> elim.Structure:
    """The linearized graph's structure, or exit 3 when the exact search is over the limit."""
    shape = elim.structure(graph, wrt)
    k = len(shape.intermediates)
    if k > limits.max_elimination_vertices:
        raise LimitError(f"the exact elimination search would try 2^{k} vertex sets: "
                         f"{counted(k, 'intermediate vertex', 'intermediate vertices')}, over "
                         f"--max-elimination-vertices "
                         f"{fmt_count(limits.max_elimination_vertices)}",
                         hint="raise --max-elimination-vertices, or narrow --wrt")
    return shape


def eliminations(graph, values, wrt: list[int], limits: Limits, dense: dict,
                 shape: elim.Structure | None = None) -> EliminationReport:
    """Every order on ``graph`` at ``values``; ``dense`` maps "forward" and "reverse" to
    compare's ModeCosts (their counts and Jacobians where they ran)."""
    shape = shape or check_size(graph, wrt, limits)
    _, optimal = elim.search_optimum(shape)
    runs = {name: elim.eliminate(graph, values, wrt, name, shape) for name in elim.ORDERS}
    runs["optimal"] = elim.eliminate(graph, values, wrt, "optimal", shape, order=optimal)
    names = graph.names
    orders = {name: OrderCost(name, [names[v] for v in run.order], run.multiplications,
                              run.additions, run.fill) for name, run in runs.items()}
    mapping = elim.mode_mapping(graph, wrt, shape)
    modes = {mode: dense[mode].counts.multiplications for mode in ("forward", "reverse")}
    reproduced = {mode: modes[mode] == runs[mode].multiplications + mapping[mode].difference
                  for mode in modes}
    reference = [dense[m].jacobian for m in ("reverse", "forward")
                 if dense[m].jacobian is not None]
    jacobians = [[[float(v) for v in row] for row in run.jacobian] for run in runs.values()]
    difference = agreement(reference[:1] + jacobians) if reference else None
    return EliminationReport(len(shape.intermediates), len(shape.independents),
                             sum(d is not None for d in shape.dependents), orders, modes,
                             mapping, reproduced, difference, limits.max_elimination_vertices)
