"""Naive path enumeration: d out / d x = sum over paths of the product of local partials.

Exponential in depth on purpose (seed 003's layered graph has 2^L paths): it shows why the
other two modes exist. Before walking anything, a dynamic program counts the paths and the
multiplications exactly (Python ints), so a job over ``max_paths`` is refused at once with
its exact size instead of hanging. The walk itself uses an explicit stack.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator

from backprop.engine.backends import FLOAT
from backprop.engine.count_text import fmt_count
from backprop.engine.counts import Counts
from backprop.engine.evaluate import SELECTS, local_partials
from backprop.engine.modes import ModeResult
from backprop.errors import LimitError
from backprop.limits import Limits


@dataclass(frozen=True)
class PathPlan:
    """Exact cost of enumerating, known before walking a single path."""

    paths: int  # over every output and every wrt input
    edge_visits: int  # sum of path lengths
    edges: int  # distinct edges lying on some path (each partial evaluated once)
    pairs: int  # (output, input) pairs joined by at least one path
    longest: int  # edges on the longest path
    trivial: int = 0  # paths of no edges (an output that is itself an input)

    @property
    def multiplications(self) -> int:
        """A path of k >= 1 edges multiplies k - 1 times; an empty path costs nothing."""
        return self.edge_visits - (self.paths - self.trivial)

    @property
    def additions(self) -> int:
        return self.paths - self.pairs


def plan(graph, wrt) -> PathPlan:
    """Count paths, path lengths and edges with two dynamic programs per output."""
    nodes = graph.nodes
    is_source = graph.depends_on(wrt)
    # from_inputs[i]: paths from any wrt input to node i; longest[i]: edges on the longest.
    from_inputs = [0] * len(nodes)
    longest = [0] * len(nodes)
    for w in wrt:
        from_inputs[w] = 1
    for i, node in enumerate(nodes):
        if node.args and is_source[i]:
            from_inputs[i] = sum(from_inputs[a] for a in node.args)
            longest[i] = 1 + max(longest[a] for a in node.args if is_source[a])
    paths = visits = pairs = deepest = trivial = 0
    on_some_path: set[int] = set()
    for out in graph.outputs:
        to_output = graph.paths_to(out)
        paths += sum(to_output[w] for w in wrt)
        pairs += sum(1 for w in wrt if to_output[w])
        trivial += out in wrt
        deepest = max(deepest, longest[out] if is_source[out] else 0)
        for i in range(out, -1, -1):
            if to_output[i] and is_source[i] and nodes[i].args:
                on_some_path.add(i)
                visits += to_output[i] * sum(from_inputs[a] for a in nodes[i].args)
    edges = sum(1 for i in on_some_path for a in nodes[i].args if from_inputs[a])
    return PathPlan(paths, visits, edges, pairs, deepest, trivial)


def check_limit(path_plan: PathPlan, counts: Counts, max_paths: int = Limits.max_paths,
                max_ops: int = Limits.max_ops) -> None:
    """Refuse at once, with the exact size, an enumeration over --max-paths or --max-ops."""
    if path_plan.paths > max_paths:
        raise LimitError(
            f"path enumeration would walk {fmt_count(path_plan.paths)} paths "
            f"({fmt_count(path_plan.multiplications)} multiplications), over --max-paths "
            f"{fmt_count(max_paths)}",
            hint="reverse mode needs one sweep (backprop grad --mode reverse); "
                 "or raise --max-paths")
    if counts.arithmetic > max_ops:
        raise LimitError(
            f"path enumeration would take {fmt_count(counts.arithmetic)} operations over "
            f"{fmt_count(path_plan.paths)} paths (longest {fmt_count(path_plan.longest)} "
            f"edges), over --max-ops {fmt_count(max_ops)}",
            hint="reverse mode needs one sweep (backprop grad --mode reverse); "
                 "or raise --max-ops")


@dataclass(frozen=True)
class Path:
    """One input-to-output path: its nodes (input first) and the partial on each edge."""

    output: int
    nodes: tuple[int, ...]
    partials: tuple
    slots: tuple[int, ...] = ()  # per edge, which argument of the later node it enters (0-based)
    untaken: bool = False  # crosses a branch a selecting op did not take: product 0 (evaluate.py)

    def product(self):
        if self.untaken:
            return 0.0
        result = self.partials[0]
        for p in self.partials[1:]:
            result = result * p
        return result


def iter_paths(graph, values, wrt, backend=FLOAT, cache=None) -> Iterator[Path]:
    """Every path from a wrt input to each output, walked backwards with an explicit stack."""
    nodes = graph.nodes
    targets = set(wrt)
    is_source = graph.depends_on(wrt)
    cache = {} if cache is None else cache
    for out in graph.outputs:
        if not is_source[out]:
            continue
        if out in targets:  # the output is an input itself: one path of no edges
            yield Path(out, (out,), (1,))
        # stack frames: (node, index of the next argument to try)
        stack, trail, factors, slots = [[out, 0]], [out], [], []
        untaken = []  # per edge of the trail: a selecting op's exact-zero partial
        while stack:
            frame = stack[-1]
            node_id, k = frame
            args = nodes[node_id].args
            if k == len(args):
                stack.pop()
                trail.pop()
                if factors:
                    factors.pop()
                    slots.pop()
                    untaken.pop()
                continue
            frame[1] = k + 1
            arg = args[k]
            if not is_source[arg]:
                continue
            if node_id not in cache:
                cache[node_id] = local_partials(graph, values, node_id, backend)
            factors.append(cache[node_id][k])
            slots.append(k)
            untaken.append(nodes[node_id].op in SELECTS and _is_zero(factors[-1]))
            trail.append(arg)
            if arg in targets:
                yield Path(out, tuple(reversed(trail)), tuple(reversed(factors)),
                           tuple(reversed(slots)), any(untaken))
            stack.append([arg, 0])


def _is_zero(partial) -> bool:
    """An exact-zero partial (a number; a formula is never taken for zero)."""
    try:
        return bool(partial == 0)
    except TypeError:
        return False


@dataclass(frozen=True)
class Walked:
    """A watched enumeration walked ``path`` and multiplied its partials into ``product``."""

    path: Path
    product: Any
    mode: str = "paths"


def paths(graph, values, wrt, backend=FLOAT, max_paths: int = Limits.max_paths,
          max_ops: int = Limits.max_ops, watch=None) -> ModeResult:
    """Every path's product, summed per (output, input), after refusing an enumeration over
    the limits; ``watch`` (optional) sees every path walked (modes/__init__)."""
    path_plan = plan(graph, wrt)
    counts = estimate(graph, wrt, path_plan)
    check_limit(path_plan, counts, max_paths, max_ops)
    return ModeResult("paths", sum_paths(graph, values, wrt, backend, watch), counts)


def sum_paths(graph, values, wrt, backend=FLOAT, watch=None) -> list[list[Any]]:
    """The Jacobian as sums of path products, in walk order, with no limit: for callers
    that have checked the plan against their own limits already (``paths``, the listing)."""
    column = {w: k for k, w in enumerate(wrt)}
    row_of = {out: o for o, out in enumerate(graph.outputs)}
    sums: dict[tuple[int, int], object] = {}
    cache: dict[int, tuple] = {}
    for path in iter_paths(graph, values, wrt, backend, cache):
        key = (row_of[path.output], column[path.nodes[0]])
        product = path.product()
        if watch is not None:
            watch(Walked(path, product))
        sums[key] = sums[key] + product if key in sums else product
    return [[sums.get((o, k), 0) for k in range(len(wrt))] for o in range(len(graph.outputs))]


def estimate(graph, wrt, path_plan: PathPlan | None = None) -> Counts:
    """The exact counts of enumerating, from ``plan`` alone: no path is walked.

    Partials are cached per node, so each edge on some path is evaluated once; the walk
    holds the cache and its current trail (at most ``longest`` + 1 nodes) besides the values.
    """
    path_plan = path_plan or plan(graph, wrt)
    return Counts("paths", sweeps=0, primitive_evals=sum(1 for n in graph.nodes if n.args),
                  partial_evals=path_plan.edges, multiplications=path_plan.multiplications,
                  additions=path_plan.additions, paths=path_plan.paths,
                  peak_values=len(graph.nodes) + path_plan.edges + path_plan.longest + 1)
