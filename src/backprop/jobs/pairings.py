"""``compare --order 2`` and ``scale --order 2``: the Hessian's four mode pairings side by
side, their exact costs first, then their measured times.

Every count is jobs/hessian.py's own (``run_pairing``: the gradient program built by the
first sweep, the second mode's counts on it); nothing is re-derived here. Times use
``compare``'s one helper (``median_time``), each pairing run from scratch, so a time holds
both sweeps. A pairing over a limit (``hessian.over_limit``, a bound known before any work)
is not run: its reason is shown, and it has no counts, since they come only from running.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from backprop.engine.evaluate import evaluate, non_finite_warnings
from backprop.engine.graph import Graph
from backprop.errors import InputError, LimitError
from backprop.jobs.compare import (DEFAULT_REPEATS, TIME_BUDGET, PerEvaluation, Timing,
                                   median_time, random_point, ratio)
from backprop.jobs.timing import PYTHON  # f timed on the pairings' engine, Python
from backprop.jobs.hessian import PAIRINGS, Pairing, cheapest, over_limit, run_pairing
from backprop.limits import Limits

ORDERS = (1, 2)
RULE = ("least total work wins (the gradient program's ops evaluated once, plus the second "
        "sweep's partials, mults and adds); every pairing takes n sweeps, and timing never "
        "decides")


def check_order(order: int, command: str) -> None:
    """``--order``: 1 (the modes) or 2 (the Hessian's pairings); anything else is exit 2."""
    if order not in ORDERS:
        raise InputError(f"--order {order}: {command} knows order 1 (the three modes) and "
                         "order 2 (the Hessian's four pairings)", hint="give --order 1 or 2")


@dataclass(frozen=True)
class PairingCost:
    """One pairing on one graph: jobs/hessian's Pairing and its time, or why it did not run."""

    name: str
    pairing: Pairing | None
    reason: str | None = None  # over a limit: not run
    timing: Timing | None = None

    @property
    def ran(self) -> bool:
        return self.pairing is not None

    @property
    def operations(self) -> int | None:
        return None if self.pairing is None else self.pairing.total_ops

    @property
    def sweeps(self) -> int | None:
        return None if self.pairing is None else self.pairing.counts.sweeps

    @property
    def multiplications(self) -> int | None:
        return None if self.pairing is None else self.pairing.counts.multiplications

    @property
    def program_nodes(self) -> int | None:
        return None if self.pairing is None else self.pairing.program_nodes

    @property
    def seconds(self) -> float | None:
        return self.timing.seconds if self.timing else None


def cost_pairings(graph: Graph, point: dict[str, float], limits: Limits,
                  repeats: int = DEFAULT_REPEATS, budget: float = TIME_BUDGET,
                  refuse_all: bool = True) -> dict[str, PairingCost]:
    """Run and time every pairing within the limits; with ``refuse_all``, refuse before any
    work when none fits (``scale`` shows such a size as not run instead)."""
    refusals = {name: why for name in PAIRINGS if (why := over_limit(graph, name, limits))}
    if refuse_all and len(refusals) == len(PAIRINGS):
        raise LimitError(next(iter(refusals.values())),
                         hint="raise --max-ops / --max-nodes")
    costs = {}
    for name in PAIRINGS:
        if name in refusals:
            costs[name] = PairingCost(name, None, refusals[name])
            continue
        pairing, timing = median_time(lambda: run_pairing(name, graph, point), repeats,
                                      budget)
        costs[name] = PairingCost(name, pairing, timing=timing)
    return costs


@dataclass(frozen=True)
class PairingComparison(PerEvaluation):
    """Everything ``compare --order 2`` found, built once: renderers only read it."""

    graph: Graph
    text: str | None
    wrt: list[str]
    point: dict[str, float]
    random_point: bool
    seed: int
    evaluation: Timing
    costs: dict[str, PairingCost]
    verdict: str
    rule: str = RULE
    warnings: list[str] = field(default_factory=list)

    def relative_operations(self, name: str) -> float | int | None:
        """Exact: the pairing's total work per primitive of f evaluated."""
        operations = self.costs[name].operations
        return None if operations is None else ratio(operations, self.primitives)


def compare_pairings(graph: Graph, *, at=None, wrt: str | None = None, seed: int = 0,
                     repeats: int = DEFAULT_REPEATS, limits: Limits | None = None) \
        -> PairingComparison:
    """The four pairings on a one-output ``graph`` at a point (``--at``, else seeded random)."""
    from backprop.engine.printer import to_text
    from backprop.frontends.point import parse_point, point_warnings

    limits = limits or Limits()
    if repeats < 1:
        raise InputError(f"--repeats must be at least 1 (got {repeats})")
    if wrt is not None:
        raise InputError("--wrt is for --order 1: a Hessian is by every input",
                         hint="drop --wrt")
    if len(graph.outputs) != 1:
        run_pairing("fwd-rev", graph, {})  # hessian's own refusal of several outputs
    point = parse_point(at, graph)
    chosen = point is None
    if chosen:
        point = random_point(graph, seed)
    values, evaluation = median_time(lambda: evaluate(graph, point, PYTHON), repeats)
    warnings = point_warnings(point) + non_finite_warnings(graph, values)
    costs = cost_pairings(graph, point, limits, repeats)
    ran = {name: cost.pairing for name, cost in costs.items() if cost.pairing is not None}
    warnings += [f"{name} not run: {cost.reason}" for name, cost in costs.items()
                 if not cost.ran]
    return PairingComparison(graph, to_text(graph, 2000), list(graph.input_names), point,
                             chosen, seed, evaluation, costs, cheapest(ran, graph),
                             warnings=warnings)
