"""The ``compare`` job as plain data: every mode on one graph, what it costs, and a verdict.

For each mode: its exact counts (counts.py), its measured time (the median of a few runs,
``time.perf_counter``) and both as a multiple of one function evaluation. A mode over a
limit is *estimated, not run*: its exact counts come from a dynamic program over the graph
(``modes.forward.estimate``, ``modes.paths.plan``), never from running it.

The verdict ranks the modes by passes over the graph (forward: one sweep per input,
reverse: one sweep per output, paths: one walk per path), then by exact operation count;
timing never decides it, so it is the same on every machine and every run.

Nothing here prints; render/compare_view.py and render/compare_json.py do.
"""

from __future__ import annotations

import random
import statistics
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from backprop.engine.counts import Counts
from backprop.errors import InputError
from backprop.engine.evaluate import evaluate, non_finite_warnings
from backprop.engine.graph import Graph
from backprop.limits import Limits
from backprop.engine.modes import MODES, agreement, run_mode
from backprop.engine.modes import forward as forward_mode
from backprop.jobs.common import input_ids
from backprop.engine.modes import paths as paths_mode
from backprop.engine.count_text import counted, fmt_count

DEFAULT_REPEATS = 5
TIME_BUDGET = 1.0  # seconds: stop repeating a measurement once this much was spent
RANDOM_RANGE = (0.1, 0.9)  # inside every op's domain (log, sqrt, asin, acos, ...)
RULE = "fewest sweeps or paths wins (each is one pass over the graph); operations break ties"


@dataclass(frozen=True)
class Timing:
    seconds: float  # the median of the runs
    repeats: int


def median_time(function: Callable[[], Any], repeats: int = DEFAULT_REPEATS,
                budget: float = TIME_BUDGET) -> tuple[Any, Timing]:
    """Run ``function`` up to ``repeats`` times (fewer once ``budget`` seconds are spent)."""
    times, result = [], None
    for _ in range(max(1, repeats)):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
        if sum(times) >= budget:
            break
    return result, Timing(statistics.median(times), len(times))


@dataclass(frozen=True)
class ModeCost:
    """One mode on one graph: exact counts, and either a measured run or why it was not run."""

    mode: str
    counts: Counts
    ran: bool
    reason: str | None = None  # why it is estimated, not run
    timing: Timing | None = None
    jacobian: list[list[float]] | None = None

    @property
    def operations(self) -> int:
        return self.counts.arithmetic

    @property
    def passes(self) -> int:
        """Sweeps (forward, reverse) or paths walked (path enumeration)."""
        return (self.counts.paths or 0) if self.mode == "paths" else self.counts.sweeps

    def passes_text(self) -> str:
        return counted(self.passes, "path" if self.mode == "paths" else "sweep")

    @property
    def seconds(self) -> float | None:
        return self.timing.seconds if self.timing else None


def plan_modes(graph: Graph, wrt_ids: list[int], limits: Limits) \
        -> dict[str, tuple[Counts | None, str | None]]:
    """Per mode: its exact counts where known before running, and why it must not run."""
    decisions: dict[str, tuple[Counts | None, str | None]] = {}
    sweeps = len(wrt_ids)
    if sweeps > limits.max_forward_sweeps:
        decisions["forward"] = (forward_mode.estimate(graph, wrt_ids),
                                f"{counted(sweeps, 'sweep')}, over --max-forward-sweeps "
                                f"{fmt_count(limits.max_forward_sweeps)}")
    elif sweeps * 3 * graph.edge_count <= limits.max_ops:  # cannot be over: skip the estimate
        decisions["forward"] = (None, None)
    else:
        counts = forward_mode.estimate(graph, wrt_ids)
        decisions["forward"] = (counts, _over_ops(counts, limits))
    path_plan = paths_mode.plan(graph, wrt_ids)
    counts = paths_mode.estimate(graph, wrt_ids, path_plan)
    if path_plan.paths > limits.max_paths:
        decisions["paths"] = (counts, f"{counted(path_plan.paths, 'path')}, over "
                                      f"--max-paths {fmt_count(limits.max_paths)}")
    else:
        decisions["paths"] = (counts, _over_ops(counts, limits))
    decisions["reverse"] = (None, None)
    return decisions


def _over_ops(counts: Counts, limits: Limits) -> str | None:
    if counts.arithmetic > limits.max_ops:
        return (f"{counted(counts.arithmetic, 'operation')}, over --max-ops "
                f"{fmt_count(limits.max_ops)}")
    return None


def cost_modes(graph: Graph, values: list[float], wrt_ids: list[int], limits: Limits,
               repeats: int = DEFAULT_REPEATS, budget: float = TIME_BUDGET) \
        -> dict[str, ModeCost]:
    """Run (and time) every mode within the limits; estimate the others exactly."""
    costs = {}
    for mode, (counts, reason) in plan_modes(graph, wrt_ids, limits).items():
        if reason is not None:
            costs[mode] = ModeCost(mode, counts, ran=False, reason=reason)
            continue
        options = {"max_paths": limits.max_paths, "max_ops": limits.max_ops} \
            if mode == "paths" else {}
        result, timing = median_time(
            lambda: run_mode(mode, graph, values, wrt_ids, **options), repeats, budget)
        jacobian = [[float(v) for v in row] for row in result.jacobian]
        costs[mode] = ModeCost(mode, result.counts, ran=True, timing=timing, jacobian=jacobian)
    return {mode: costs[mode] for mode in MODES}


@dataclass(frozen=True)
class Verdict:
    winners: list[str]  # one mode, or the modes that tie
    ranking: list[str]  # cheapest first
    text: str
    shape: str  # forward's sweeps against reverse's for this Jacobian shape
    rule: str = RULE


def verdict(costs: dict[str, ModeCost], outputs: int, inputs: int) -> Verdict:
    """Name the cheapest mode and why: fewest passes over the graph, then fewest operations."""
    order = {mode: k for k, mode in enumerate(("reverse", "forward", "paths"))}
    ranked = sorted(costs.values(), key=lambda c: (c.passes, c.operations, order[c.mode]))
    best = ranked[0]
    tied = [c for c in ranked if (c.passes, c.operations) == (best.passes, best.operations)]
    tied.sort(key=lambda c: MODES.index(c.mode))
    if inputs == 0:
        text = "nothing to differentiate: the expression has no variables"
        return Verdict([], [c.mode for c in ranked], text, text)
    if len(tied) > 1:
        names = [c.mode for c in tied]
        names = ", ".join(names[:-1]) + " and " + names[-1]
        units = {c.passes_text() for c in tied}
        passes = units.pop() if len(units) == 1 else \
            counted(best.passes, "sweep or path", "sweeps or paths")
        head = f"{names} tie: {passes}, {counted(best.operations, 'operation')} each"
    else:
        head = f"{best.mode} wins: {_why(best)}"
        runner = ranked[1]
        if runner.passes == best.passes:
            head += f" (as few {'sweeps' if best.mode != 'paths' else 'passes'} as "\
                    f"{runner.mode}, fewer operations)"
    rest_costs = [c for c in ranked if c not in tied]
    rest = [f"{c.mode}: {_why(c)}" for c in rest_costs]
    forward, reverse = costs["forward"].counts.sweeps, costs["reverse"].counts.sweeps
    shape = (f"{counted(outputs, 'output')} x {counted(inputs, 'input')}: forward needs "
             f"{counted(forward, 'sweep')} (one per input), reverse "
             f"{fmt_count(reverse)} (one per output)")
    shape += ", so " + ("reverse wins for this shape" if reverse < forward else
                        "forward wins for this shape" if forward < reverse else
                        "the shape favours neither")
    return Verdict([c.mode for c in tied], [c.mode for c in tied + rest_costs],
                   "; ".join([head, *rest]), shape)


def _why(cost: ModeCost) -> str:
    text = f"{cost.passes_text()}, {counted(cost.operations, 'operation')}"
    return text + ("" if cost.ran else " (estimated, not run)")


def ratio(numerator: int, denominator: int) -> float | int | None:
    """numerator / denominator as a float, or the exact whole quotient (an int) when a float
    cannot hold it (counts such as 2^2000 paths); None when the denominator is 0."""
    if not denominator:
        return None
    try:
        return numerator / denominator
    except OverflowError:
        return numerator // denominator


class PerEvaluation:
    """What a comparison measures against one evaluation of f (``compare`` at either
    order): its ``graph``, its ``evaluation`` time and its ``costs`` by name."""

    @property
    def primitives(self) -> int:
        return sum(1 for node in self.graph.nodes if node.args)

    def relative_time(self, name: str) -> float | None:
        """The cost's time over one function evaluation's (the shared primal pass excluded)."""
        seconds = self.costs[name].seconds
        if seconds is None or self.evaluation.seconds <= 0:
            return None
        return seconds / self.evaluation.seconds


@dataclass(frozen=True)
class Comparison(PerEvaluation):
    """Everything ``compare`` found, built once: renderers only read it."""

    graph: Graph
    text: str | None  # the graph printed back as an expression, when it is short
    wrt: list[str]
    point: dict[str, float]
    random_point: bool  # no --at: a seeded random point
    seed: int
    evaluation: Timing  # one primal pass
    costs: dict[str, ModeCost]
    verdict: Verdict
    warnings: list[str] = field(default_factory=list)
    mode_difference: float | None = None  # the largest relative difference of the modes run
    sparse: Any = None  # jobs/sparse.SparseReport: with several outputs
    eliminations: Any = None  # jobs/eliminate.EliminationReport: with --eliminations

    def relative_operations(self, mode: str) -> float | int | None:
        """Exact: the mode's partials + multiplications + additions per primitive evaluated."""
        return ratio(self.costs[mode].operations, self.primitives)


def random_point(graph: Graph, seed: int) -> dict[str, float]:
    rng = random.Random(seed)
    return {name: rng.uniform(*RANDOM_RANGE) for name in graph.input_names}


def compare(graph: Graph, *, at: str | None = None, wrt: str | None = None, seed: int = 0,
            repeats: int = DEFAULT_REPEATS, limits: Limits | None = None,
            eliminations: bool = False) -> Comparison:
    """Every mode on ``graph`` at a point (``--at``, else a seeded random one); with
    several outputs, the compressed modes too (jobs/sparse.py); ``eliminations``: vertex
    elimination orders (jobs/eliminate.py, refused over its limit before any work)."""
    from backprop.jobs import eliminate as eliminate_job, sparse as sparse_job

    from backprop.engine.printer import to_text
    from backprop.frontends.point import parse_point, parse_wrt, point_warnings

    limits = limits or Limits()
    if repeats < 1:
        raise InputError(f"--repeats must be at least 1 (got {repeats})")
    point = parse_point(at, graph)
    chosen = point is None
    if chosen:
        point = random_point(graph, seed)
    names = parse_wrt(wrt, graph)
    wrt_ids = input_ids(graph, names)
    shape = eliminate_job.check_size(graph, wrt_ids, limits) if eliminations else None
    values, evaluation = median_time(lambda: evaluate(graph, point), repeats)
    warnings = point_warnings(point) + non_finite_warnings(graph, values)
    costs = cost_modes(graph, values, wrt_ids, limits, repeats)
    text = to_text(graph, 2000) if len(graph.outputs) == 1 else None
    difference = agreement([c.jacobian for c in costs.values() if c.jacobian is not None])
    sparse = sparse_job.sparse_costs(graph, values, wrt_ids, limits, costs) \
        if len(graph.outputs) > 1 else None
    eliminated = eliminate_job.eliminations(graph, values, wrt_ids, limits, costs, shape) \
        if eliminations else None
    return Comparison(graph, text, names, point, chosen, seed, evaluation, costs,
                      verdict(costs, len(graph.outputs), len(wrt_ids)), warnings, difference,
                      sparse, eliminated)
