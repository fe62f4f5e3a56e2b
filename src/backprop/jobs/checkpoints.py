"""``compare --checkpoints C`` and ``scale FAMILY --checkpoints C``: reverse mode's memory
against its time, each schedule run on the real graph (engine/checkpoint.py).

Per schedule: the stored states and primal values held at peak and the extra forward steps,
all counted by running it; its closed form beside them, and whether its gradient equals
plain reverse mode's bit for bit. A schedule whose work is over ``--max-ops`` is not run:
its extra steps still come exactly from its formula, and its peak is not shown.
Nothing here prints; render/checkpoint_view.py does.
"""

from __future__ import annotations

from dataclasses import dataclass

from backprop.engine import checkpoint as ck
from backprop.engine.count_text import counted, fmt_count
from backprop.engine.evaluate import evaluate
from backprop.engine.graph import Graph
from backprop.engine.modes.reverse import reverse
from backprop.errors import InputError
from backprop.limits import Limits

MAX_BUDGETS = 40  # budgets drawn per size in ``scale --checkpoints``


def check_budget(budget: int, graph: Graph | None = None) -> None:
    """C must be a whole number >= 1, and checkpointing reverses one output's sweep."""
    if budget < 1:
        raise InputError(f"--checkpoints must be at least 1 (got {fmt_count(budget)})",
                         hint="1 keeps only the inputs (recompute-all)")
    if graph is not None and len(graph.outputs) != 1:
        raise InputError(f"--checkpoints reverses one output's sweep; this has "
                         f"{len(graph.outputs)} outputs", hint="give one expression")


@dataclass(frozen=True)
class ScheduleRow:
    strategy: str
    label: str
    states: int | None  # stored states at peak (x_0 included), counted by running
    extra_steps: int  # counted by running, else the closed form (ran False)
    formula: int  # the closed form of this schedule
    optimum: int | None  # the fewest extra steps any schedule needs with this many states
    peak_values: int | None  # primal values held at peak, counted by running
    equal: bool | None  # gradient equal to reverse mode's, bit for bit
    ran: bool = True
    reason: str | None = None


@dataclass(frozen=True)
class CheckpointTable:
    steps: int  # op nodes: the chain's length n
    budget: int  # C as asked
    used: int  # min(C, n): more states than steps stores all
    widest: int  # the most values one state holds
    nodes: int
    rows: list[ScheduleRow]

    @property
    def note(self) -> str | None:
        if self.budget >= self.steps:
            return (f"--checkpoints {fmt_count(self.budget)} >= {counted(self.steps, 'step')}: "
                    f"binomial stores every state (store-all)")
        return None


def _work(n: int, extra: int, chain: ck.Chain) -> int:
    """A bound on a run's work: its steps, and a state copied per restore or store."""
    return extra + n + 2 * n * (chain.widest + 2)


def schedule_row(graph: Graph, point: dict, wrt: list[int], strategy: str, c: int,
                 reference: list, chain: ck.Chain, limits: Limits) -> ScheduleRow:
    n = chain.n
    formula = ck.closed_form(strategy, n, c)
    work = _work(n, formula, chain)
    if work > limits.max_ops:
        return ScheduleRow(strategy, ck.LABELS[strategy], None, formula, formula,
                           None, None, None, ran=False,
                           reason=f"{counted(formula, 'extra step')}, {fmt_count(work)} "
                                  f"operations with the sweeps and state copies, over "
                                  f"--max-ops {fmt_count(limits.max_ops)}")
    run = ck.run_schedule(graph, point, wrt, strategy, c, chain)
    return ScheduleRow(strategy, ck.LABELS[strategy], run.peak_states, run.extra_steps,
                       formula, ck.closed_form("binomial", n, max(run.peak_states, 1)),
                       run.peak_values, ck.same_bits(reference, run.gradient))


def checkpoint_table(graph: Graph, point: dict, wrt: list[int], budget: int,
                     limits: Limits | None = None) -> CheckpointTable:
    """The four schedules on ``graph`` at ``point`` (binomial with ``budget`` states)."""
    limits = limits or Limits()
    check_budget(budget, graph)
    chain = ck.chain_of(graph)
    reference = reverse(graph, evaluate(graph, point), wrt).jacobian[0]
    used = max(1, min(budget, chain.n))
    rows = [schedule_row(graph, point, wrt, strategy, used, reference, chain, limits)
            for strategy in ck.STRATEGIES]
    return CheckpointTable(chain.n, budget, used, chain.widest, len(graph), rows)


@dataclass(frozen=True)
class WithCheckpoints:
    """``compare --checkpoints``: the comparison and the checkpointing table."""

    comparison: object  # jobs.compare.Comparison
    table: CheckpointTable


def _first_order(order: int) -> None:
    if order != 1:
        raise InputError("--checkpoints checkpoints reverse mode's sweep (order 1)",
                         hint="leave out --order 2")


def compare_job(graph: Graph, budget: int, order: int, limits: Limits, job):
    """``compare``'s job followed by the table at the same point (checked before any work)."""
    _first_order(order)
    check_budget(budget, graph)

    def run(graph, **options) -> WithCheckpoints:
        from backprop.jobs.common import input_ids

        comparison = job(graph, **options)
        wrt = input_ids(graph, comparison.wrt)
        return WithCheckpoints(comparison, checkpoint_table(graph, comparison.point, wrt,
                                                            budget, options.get("limits")))
    return run


def curve_job(budget: int, order: int):
    """``scale``'s job with ``--checkpoints``: the curve (``--repeats`` times nothing)."""
    _first_order(order)
    check_budget(budget)
    return lambda family, sizes, *, limits, repeats, seed: checkpoint_curve(
        family, sizes, budget, limits=limits, seed=seed)


# -- scale FAMILY --checkpoints C: the memory-time curve -------------------------------------

@dataclass(frozen=True)
class CurvePoint:
    budget: int
    row: ScheduleRow  # binomial with this many states


@dataclass(frozen=True)
class CurveSize:
    size: int
    table: CheckpointTable  # the four schedules with the largest budget
    curve: list[CurvePoint]  # binomial at each budget


@dataclass(frozen=True)
class CheckpointCurve:
    family: object  # frontends.families.Family
    budget: int
    sizes: list[int]
    rows: list[CurveSize]


def budgets(budget: int, n: int) -> list[int]:
    """1..min(C, n), or MAX_BUDGETS of them spread evenly on a log scale."""
    top = max(1, min(budget, n))
    if top <= MAX_BUDGETS:
        return list(range(1, top + 1))
    chosen = {1, top}
    for k in range(MAX_BUDGETS - 1):
        chosen.add(max(1, round(top ** (k / (MAX_BUDGETS - 1)))))
    return sorted(chosen)


def checkpoint_curve(family_name: str, sizes_text: str | None, budget: int, *,
                     limits: Limits | None = None, seed: int = 0) -> CheckpointCurve:
    """Per size of a family: the four schedules, and binomial's extra steps and peak at
    every budget up to ``budget`` (the memory-time curve)."""
    from backprop.jobs.compare import random_point
    from backprop.jobs.scale import get_family, parse_sizes

    limits = limits or Limits()
    check_budget(budget)
    family = get_family(family_name)
    sizes = parse_sizes(family.default_sizes if sizes_text is None else sizes_text, family,
                        limits.max_nodes)
    rows = []
    for size in sizes:
        graph = family.build(size)
        point = random_point(graph, seed)
        wrt = list(graph.inputs)
        table = checkpoint_table(graph, point, wrt, budget, limits)
        chain = ck.chain_of(graph)
        reference = reverse(graph, evaluate(graph, point), wrt).jacobian[0]
        curve = [CurvePoint(c, schedule_row(graph, point, wrt, "binomial", c, reference,
                                            chain, limits))
                 for c in budgets(budget, chain.n)]
        rows.append(CurveSize(size, table, curve))
        del graph
    return CheckpointCurve(family, budget, sizes, rows)
