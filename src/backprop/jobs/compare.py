"""The ``compare`` job as plain data: every mode on one graph, what it costs, and a verdict.

For each mode: its exact counts (counts.py), its measured time and both as a multiple of one
function evaluation, and its cost against the function's beside the textbook bound it must
respect (jobs/bounds.py). A mode over a limit is *estimated, not run*: its exact counts come
from a dynamic program over the graph (``modes.forward.estimate``, ``modes.paths.plan``),
never from running it.

Times come from the one helper (jobs/timing.py): a warm-up, then k samples, the median
with its best and spread. Every mode and the evaluation they are divided by are timed on
the same engine, pure Python; the compiled core's evaluation and reverse sweep are timed
apart (``compiled``) and never ranked against them.

The verdict (``verdict``, over a dict of candidates: a compressed or checkpointed mode can
join it) ranks by passes over the graph (forward: one sweep per input, reverse: one sweep
per output, paths: one walk per path), then by exact operation count; timing never decides
it, so it is the same on every machine and every run. Where the measured times rank two
modes the other way beyond the noise, the verdict says so and why (``TimingNote``).

Nothing here prints; render/compare_view.py and render/compare_json.py do.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from backprop.engine.accel import CORE
from backprop.engine.counts import Counts
from backprop.errors import InputError
from backprop.engine.evaluate import evaluate, non_finite_warnings
from backprop.engine.graph import Graph
from backprop.limits import Limits
from backprop.engine.modes import MODES, agreement, run_mode
from backprop.engine.modes import forward as forward_mode
from backprop.jobs.bounds import Bounds, mode_bounds, ratio
from backprop.jobs.common import input_ids
from backprop.jobs.timing import (DEFAULT_REPEATS, PYTHON, TIME_BUDGET, Timing, faster,
                                  median_time)
from backprop.engine.modes import paths as paths_mode
from backprop.engine.count_text import counted, fmt_count

__all__ = ["DEFAULT_REPEATS", "TIME_BUDGET", "Timing", "median_time", "ratio", "compare",
           "verdict", "cost_modes", "ModeCost", "Comparison", "PerEvaluation",
           "random_point"]

RANDOM_RANGE = (0.1, 0.9)  # inside every op's domain (log, sqrt, asin, acos, ...)
RULE = ("exact counts decide, never times: forward takes one sweep per input, reverse one "
        "per output, path enumeration one walk per path, and each pass visits up to every "
        "edge, so the work grows as passes × edges: fewest passes wins, exact operations "
        "break ties")


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
    """Run every mode within the limits, timed on the pure-Python engine (jobs/timing.py);
    estimate the others exactly."""
    costs = {}
    for mode, (counts, reason) in plan_modes(graph, wrt_ids, limits).items():
        if reason is not None:
            costs[mode] = ModeCost(mode, counts, ran=False, reason=reason)
            continue
        options = {"max_paths": limits.max_paths, "max_ops": limits.max_ops} \
            if mode == "paths" else {}
        result, timing = median_time(
            lambda: run_mode(mode, graph, values, wrt_ids, PYTHON, **options), repeats,
            budget)
        jacobian = [[float(v) for v in row] for row in result.jacobian]
        costs[mode] = ModeCost(mode, result.counts, ran=True, timing=timing, jacobian=jacobian)
    return {mode: costs[mode] for mode in MODES}


@dataclass(frozen=True)
class TimingNote:
    """Where the measured times rank two modes the other way round from the counts,
    beyond the noise of both (jobs/timing.faster), and why."""

    faster: str  # the mode measured faster
    slower: str  # the mode the counts rank before it
    reason: str

    @property
    def text(self) -> str:
        return (f"{self.faster} measured faster than {self.slower}, beyond the noise: "
                f"{self.reason}")


@dataclass(frozen=True)
class Verdict:
    winners: list[str]  # one mode, or the modes that tie
    ranking: list[str]  # cheapest first
    text: str
    shape: str  # forward's sweeps against reverse's for this Jacobian shape
    rule: str = RULE
    disagreements: list[TimingNote] = field(default_factory=list)
    close: list[tuple[str, str]] = field(default_factory=list)  # timed pairs within the noise

    @property
    def times(self) -> str:
        """What the measured times say about the ranking, in one sentence."""
        if self.disagreements:
            return "; ".join(note.text for note in self.disagreements)
        within = "" if not self.close else " (" + ", ".join(
            f"{a} and {b} within the noise" for a, b in self.close) + ")"
        return "measured times agree with the counts' ranking" + within


def _order(mode: str) -> int:
    """Ties list reverse first (one sweep serves every input), candidates beyond the three
    modes after them."""
    order = ("reverse", "forward", "paths")
    return order.index(mode) if mode in order else len(order)


def verdict(costs: dict, outputs: int, inputs: int) -> Verdict:
    """Name the cheapest candidate and why: fewest passes over the graph, then fewest
    operations. ``costs``: name -> a candidate with ``mode``, ``passes``, ``passes_text()``,
    ``operations``, ``ran`` and ``timing`` (a ModeCost, or any cost of that shape)."""
    ranked = sorted(costs.values(), key=lambda c: (c.passes, c.operations, _order(c.mode)))
    best = ranked[0]
    tied = [c for c in ranked if (c.passes, c.operations) == (best.passes, best.operations)]
    tied.sort(key=lambda c: (MODES.index(c.mode) if c.mode in MODES else len(MODES)))
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
    forward = costs["forward"].counts.sweeps if "forward" in costs else inputs
    reverse = costs["reverse"].counts.sweeps if "reverse" in costs else outputs
    shape = (f"{counted(outputs, 'output')} x {counted(inputs, 'input')}: forward needs "
             f"{counted(forward, 'sweep')} (one per input), reverse "
             f"{fmt_count(reverse)} (one per output)")
    shape += ", so " + ("reverse wins for this shape" if reverse < forward else
                        "forward wins for this shape" if forward < reverse else
                        "the shape favours neither")
    order = tied + rest_costs
    disagreements, close = timing_notes(order)
    return Verdict([c.mode for c in tied], [c.mode for c in order],
                   "; ".join([head, *rest]), shape, RULE, disagreements, close)


def timing_notes(ranked: list) -> tuple[list[TimingNote], list[tuple[str, str]]]:
    """For every two timed candidates, cheapest by the counts first: a TimingNote where
    the later one was measured faster beyond the noise, else the pair if within it."""
    timed = [c for c in ranked if c.ran and c.timing is not None]
    notes, close = [], []
    for k, first in enumerate(timed):
        for second in timed[k + 1:]:
            if faster(second.timing, first.timing):
                notes.append(TimingNote(second.mode, first.mode, _reason(second, first)))
            elif not faster(first.timing, second.timing):
                close.append((first.mode, second.mode))
    return notes, close


def _reason(quick, ranked_first) -> str:
    """Why a candidate the counts rank later ran faster: the counts say it when they can."""
    if quick.operations < ranked_first.operations:
        return (f"it does fewer operations here ({fmt_count(quick.operations)} against "
                f"{fmt_count(ranked_first.operations)}); the counts rank by passes first "
                "because passes × edges is what grows with the graph")
    return (f"with as many operations or more ({fmt_count(quick.operations)} against "
            f"{fmt_count(ranked_first.operations)}), its Python loop pays less per step "
            "(per-sweep and per-node bookkeeping, which exact counts do not weigh)")


def _why(cost) -> str:
    text = f"{cost.passes_text()}, {counted(cost.operations, 'operation')}"
    return text + ("" if cost.ran else " (estimated, not run)")


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
    compiled: dict[str, Timing] | None = None  # the core's evaluation and reverse, apart
    bounds: Bounds | None = None  # each mode against the function (jobs/bounds.py)
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
    values = evaluate(graph, point)
    _, evaluation = median_time(lambda: evaluate(graph, point, PYTHON), repeats)
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
                      compiled_timings(graph, point, values, wrt_ids, repeats),
                      mode_bounds(graph, wrt_ids, costs) if wrt_ids else None,
                      sparse, eliminated)


def compiled_timings(graph: Graph, point: dict[str, float], values: list[float],
                     wrt_ids: list[int], repeats: int = DEFAULT_REPEATS,
                     budget: float = TIME_BUDGET) -> dict[str, Timing] | None:
    """The compiled core's evaluation and reverse sweep, timed apart (None without it)."""
    if CORE is None:
        return None
    _, evaluation = median_time(lambda: evaluate(graph, point), repeats, budget, "compiled")
    _, reverse = median_time(lambda: run_mode("reverse", graph, values, wrt_ids), repeats,
                             budget, "compiled")
    return {"evaluation": evaluation, "reverse": reverse}
