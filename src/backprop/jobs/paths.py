"""The ``paths`` job as plain data: every input-to-output path, its local partials, their sum.

Seed 003's pathwise aggregation, spelled out: d out / d x is the sum, over every path from x
to the output, of the product of the local partials on the path's edges. The paths are
counted exactly first (``modes.paths.plan``), so a job over ``--max-paths`` is refused at
once with its exact size; then the enumeration itself (``modes.paths.sum_paths``) walks every
path, watched: the listing writes down the paths it walked. Only the first ``limit`` paths
are kept for display, but the sum always covers every path, and it is set against reverse
mode's gradient.

Without a point, partials and products are SymPy formulas (the op table on the SymPy
backend, with ``check.symbolic_values`` as the node values); with ``--at`` they are floats.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from backprop.engine.counts import Counts
from backprop.errors import LimitError
from backprop.engine.evaluate import evaluate, non_finite_warnings
from backprop.engine.graph import Graph
from backprop.limits import Limits
from backprop.engine.modes import paths as paths_mode
from backprop.engine.modes import relative_difference
from backprop.engine.modes.paths import PathPlan
from backprop.engine.count_text import fmt_count
from backprop.engine.printer import name_table

DEFAULT_LIMIT = 1_000  # paths listed; the sum still covers all of them
SYMBOLIC_PATH_LIMIT = 20_000  # SymPy products are slow: past this, numbers (--at) are needed
SYMBOLIC_NODE_LIMIT = 5_000
AGREEMENT_RTOL = 1e-9  # the path sum against reverse mode's gradient, at a point
NAME_CHARS = 24  # unlabelled nodes shorter than this print as their expression text


@dataclass(frozen=True)
class ListedPath:
    output: str
    input: str
    nodes: list[str]  # input first, output last
    slots: list[int]  # per edge, which argument (1-based) of the later node it enters
    ambiguous: list[bool]  # per edge: the later node reads the earlier one more than once
    partials: list[Any]  # per edge: d later / d earlier (float or SymPy formula)
    product: Any


@dataclass(frozen=True)
class PathSum:
    output: str
    input: str
    paths: int  # every path from this input to this output
    total: Any  # the sum of their products
    gradient: Any  # reverse mode's d output / d input, the same number or formula
    agrees: bool | None  # None: SymPy could not settle it in time
    difference: float | None = None  # at a point: |total - gradient| / max(1, |gradient|)


@dataclass(frozen=True)
class PathListing:
    graph: Graph
    text: str | None
    wrt: list[str]
    point: dict[str, float] | None
    plan: PathPlan
    counts: Counts  # path enumeration's exact counts
    listed: list[ListedPath]
    limit: int
    sums: list[PathSum]
    warnings: list[str] = field(default_factory=list)

    @property
    def symbolic(self) -> bool:
        return self.point is None

    @property
    def total_paths(self) -> int:
        return self.plan.paths


def display_names(graph: Graph, max_chars: int = NAME_CHARS) -> list[str]:
    """A readable name per node: its label, else its short expression text, else its
    name in ``backprop graph`` (v<n>): the graph's naming table, ``readable`` view."""
    return list(name_table(graph).readable(max_chars))


def list_paths(graph: Graph, *, at: str | None = None, wrt: str | None = None,
               limit: int = DEFAULT_LIMIT, limits: Limits | None = None) -> PathListing:
    """Walk every path from the wrt inputs to each output; keep the first ``limit``."""
    from backprop.frontends.point import parse_point, parse_wrt, point_warnings
    from backprop.jobs.common import input_ids

    limits = limits or Limits()
    point = parse_point(at, graph)
    names = parse_wrt(wrt, graph)
    wrt_ids = input_ids(graph, names)
    path_plan = paths_mode.plan(graph, wrt_ids)
    counts = paths_mode.estimate(graph, wrt_ids, path_plan)
    paths_mode.check_limit(path_plan, counts, limits.max_paths, limits.max_ops)
    warnings: list[str] = []
    if point is None:
        from backprop.check.check import check_formula_depth

        check_formula_depth(graph)
        if path_plan.paths > SYMBOLIC_PATH_LIMIT or len(graph) > SYMBOLIC_NODE_LIMIT:
            what = f"{fmt_count(path_plan.paths)} paths" \
                if path_plan.paths > SYMBOLIC_PATH_LIMIT else f"{len(graph):,} nodes"
            raise LimitError(f"{what} are too many for formulas (limit "
                             f"{SYMBOLIC_PATH_LIMIT:,} paths, {SYMBOLIC_NODE_LIMIT:,} nodes)",
                             hint="give a point for numbers: --at x=1,...")
        # SymPy can spend minutes in one call (ordering a sum's terms evaluates e^(e^...)):
        # the formulas are made, compared and printed in a side process with a deadline.
        from backprop.check import sympy_side

        job = (graph, names, wrt_ids, limit, path_plan, counts, limits.check_timeout)
        try:
            return sympy_side.run(_formulas, *job, timeout=limits.check_timeout)
        except (sympy_side.TimedOut, sympy_side.Died):
            raise LimitError(f"the path formulas did not finish within "
                             f"{limits.check_timeout:g} s", hint="give a point for numbers "
                             "(--at x=1,...) or more time (--check-timeout 60)") from None
    from backprop.engine.backends import FLOAT

    values = evaluate(graph, point)
    warnings += point_warnings(point) + non_finite_warnings(graph, values)
    return _walk(graph, FLOAT, values, point, names, wrt_ids, limit, path_plan, counts,
                 limits.check_timeout, warnings)


def _formulas(graph, names, wrt_ids, limit, path_plan, counts, timeout) -> PathListing:
    """The listing without a point, its formulas as text (run on the side: see above)."""
    from dataclasses import replace

    from backprop.engine.backends import symbolic
    from backprop.check.check import symbolic_values

    listing = _walk(graph, symbolic(), symbolic_values(graph), None, names, wrt_ids, limit,
                    path_plan, counts, timeout, [])
    return replace(
        listing,
        listed=[replace(p, partials=[str(f) for f in p.partials], product=str(p.product))
                for p in listing.listed],
        sums=[replace(s, total=str(s.total), gradient=str(s.gradient)) for s in listing.sums])


def _walk(graph, backend, values, point, names, wrt_ids, limit, path_plan, counts, timeout,
          warnings) -> PathListing:
    """Every path's partials and product, the first ``limit`` listed, and the sums."""
    from backprop.engine.modes.reverse import reverse
    from backprop.engine.printer import to_text

    shown = display_names(graph)
    out_name = {out: _output_name(graph, o, shown) for o, out in enumerate(graph.outputs)}
    listed: list[ListedPath] = []
    terms: dict[tuple[int, int], list] = {}

    def walked(event) -> None:  # every path the enumeration walks, as it walks it
        path, product = event.path, _number(event.product, point is None)
        terms.setdefault((path.output, path.nodes[0]), []).append(product)
        if len(listed) < limit:
            listed.append(_listed(graph, path, product, shown, out_name, point is None))

    paths_mode.sum_paths(graph, values, wrt_ids, backend, watch=walked)  # plan checked above

    gradient = reverse(graph, values, wrt_ids, backend).jacobian
    sums = []
    to_output = {}
    for o, out in enumerate(graph.outputs):
        if out not in to_output:
            to_output[out] = graph.paths_to(out)
        for k, w in enumerate(wrt_ids):
            parts = terms.get((out, w), [])
            total = _total(parts, point is None)
            exact = _number(gradient[o][k], point is None)
            difference = None if point is None else relative_difference(total, exact)
            agrees = _same_formula(total, exact, timeout) if point is None \
                else difference <= AGREEMENT_RTOL or math.isnan(difference) and total != total
            sums.append(PathSum(out_name[out], graph.nodes[w].label, to_output[out][w], total,
                                exact, agrees, difference))
    text = to_text(graph, 2000) if len(graph.outputs) == 1 else None
    return PathListing(graph, text, names, point, path_plan, counts, listed, limit, sums,
                       warnings)


def _output_name(graph: Graph, o: int, shown: list[str]) -> str:
    out = graph.outputs[o]
    if len(graph.outputs) > 1 and o < len(graph.output_names):
        return graph.output_names[o]
    return shown[out] if len(shown[out]) <= NAME_CHARS else "f"


def _listed(graph, path, product, shown, out_name, symbolic) -> ListedPath:
    nodes = path.nodes
    ambiguous = [graph.nodes[nodes[k + 1]].args.count(nodes[k]) > 1
                 for k in range(len(nodes) - 1)]
    return ListedPath(out_name[path.output], shown[nodes[0]], [shown[i] for i in nodes],
                      [s + 1 for s in path.slots], ambiguous,
                      [_number(p, symbolic) for p in path.partials] if path.slots else [],
                      product)


def _number(value, symbolic: bool):
    """Floats at a point; SymPy objects without one (constant partials are Python ints)."""
    if symbolic:
        import sympy

        return sympy.Integer(value) if isinstance(value, int) else value
    return float(value)


def _total(parts: list, symbolic: bool):
    if symbolic:
        import sympy

        return sympy.Add(*parts) if parts else sympy.Integer(0)
    total = 0.0
    for k, part in enumerate(parts):
        total = part if k == 0 else total + part
    return total


def _same_formula(total, gradient, timeout: float) -> bool | None:
    import sympy

    from backprop.check.check import CheckTimeout, time_limit

    difference = total - gradient
    if difference == 0:
        return True
    try:
        with time_limit(timeout):
            return sympy.simplify(difference) == 0
    except (CheckTimeout, RecursionError, ArithmeticError, ValueError, TypeError):
        return None
