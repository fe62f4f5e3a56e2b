"""Step-by-step explanations of a gradient, as plain data (``--explain``).

``explain`` walks the same graph the modes walk and writes down every step a student
would do by hand:

1. the forward sweep: each node in topological order, its op, its inputs and its value;
2. the local partial on every edge that carries a derivative, as a formula over node
   names and, at a point, as a number;
3. the chosen mode(s) step by step: reverse mode's adjoint updates in sweep order
   (``adj[a] += adj[z] * cos(a) = 1 * -0.6536 = -0.6536``), forward mode's tangents, or
   every path's product (seed 004's worked example);
4. a last line showing that the steps add up to the printed gradient.

Without a point the numbers are SymPy expressions (``check.symbolic_values`` on
``backends.symbolic()``). Nodes are named so that a person can find them in the
expression: statement labels, variable names, and for unlabelled nodes a short text such
as ``2*x`` (the graph's naming table, ``printer.name_table``); the single unnamed output is called ``f``.

No sweep is written here: each mode runs its own sweep with a watch, and the steps format
what it did (``explain_steps``), so the numbers are the very numbers the modes compute.
Names, numbers and formulas as text live in ``explain_text``. Nothing here prints or
imports rich; the renderers live in ``render/explain_view.py`` (terminal),
``render/json_doc.py`` and ``render/markdown.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence

from backprop.errors import InputError, LimitError
from backprop.engine.graph import Graph
from backprop.jobs.common import input_ids
from backprop.jobs.explain_steps import Narrator, Step
# the words of a step; pictures (jobs/picture.py) name nodes and numbers as explanations do
from backprop.jobs.explain_text import PartialFormulas, names_and_precedence, short

__all__ = ["EXPLAIN_MAX_NODES", "EXPLAIN_MAX_PATHS", "SECTION_TITLES", "Explanation",
           "Narrated", "PartialFormulas", "Step", "check_size", "explain", "explain_bounded",
           "explain_report", "names_and_precedence", "short"]

EXPLAIN_MAX_NODES = 300  # graphs larger than this are refused (exit 3): the text would be a book
EXPLAIN_MAX_PATHS = 500  # path enumeration writes one step per path

SECTION_TITLES = {
    "value": "Forward sweep: every node's value, inputs first",
    "partial": "Local partials: one per edge that carries a derivative",
    "forward": "Forward mode: one tangent sweep per input (t_x[n] = ∂n/∂x)",
    "paths": "Path enumeration: the product of the local partials along every path",
    "reverse": "Reverse mode: adjoints from the output back to the inputs "
               "(adj[n] = ∂output/∂n)",
    "total": "Total",
}

@dataclass(frozen=True)
class Explanation:
    modes: tuple[str, ...]
    symbolic: bool  # True when there is no point: numbers are SymPy expressions
    steps: tuple[Step, ...]
    agrees: bool | None  # the steps reproduce the printed gradient (None: nothing to compare)
    gradient: tuple[tuple[Any, ...], ...]  # what the steps add up to, per output and wrt

    def sections(self) -> list[tuple[str, list[Step]]]:
        """Consecutive steps grouped under their section title, in order."""
        groups: list[tuple[str, list[Step]]] = []
        last = None
        for step in self.steps:
            key = step.section
            if key != last:
                groups.append((SECTION_TITLES.get(key, key), []))
                last = key
            groups[-1][1].append(step)
        return groups

    def lines(self) -> list[str]:
        """Plain text: section titles and indented steps (for Markdown and logs)."""
        out: list[str] = []
        for title, steps in self.sections():
            out.append(title)
            out.extend("  " + step.text for step in steps)
        return out


def check_size(graph: Graph, max_nodes: int = EXPLAIN_MAX_NODES) -> None:
    """Refuse (exit 3) before any work when the explanation would be unreadably long."""
    if len(graph) > max_nodes:
        raise LimitError(
            f"--explain writes a step for every node and edge; this graph has "
            f"{len(graph):,} nodes, over the explanation limit of {max_nodes:,}",
            hint="drop --explain, or look at the graph with: backprop graph ... --format text")


def explain(graph: Graph, wrt: Iterable[str] | None = None, point: Mapping[str, Any] | None = None,
            modes: Sequence[str] = ("reverse",), gradients: Mapping[str, Any] | None = None, *,
            max_nodes: int = EXPLAIN_MAX_NODES, max_paths: int = EXPLAIN_MAX_PATHS
            ) -> Explanation:
    """Explain d(outputs)/d(wrt) in ``modes`` (forward, paths, reverse), at ``point`` or
    symbolically.

    ``gradients`` maps a mode to the Jacobian that was printed for it, so that the last
    step can say the steps add up to it.
    """
    check_size(graph, max_nodes)
    names_in = list(graph.input_names if wrt is None else wrt)
    for name in names_in:
        if name not in graph.input_names:
            raise InputError(f"cannot explain d/d{name}: the expression has no variable {name!r}")
    wrt_ids = input_ids(graph, names_in)
    for mode in modes:
        if mode not in SECTION_TITLES or mode in ("value", "partial", "total"):
            raise InputError(f"cannot explain mode {mode!r}",
                             hint="modes: forward, paths, reverse")
    symbolic = point is None
    if symbolic:
        from backprop.check.symbolic import symbolic_values
        from backprop.engine.backends import symbolic as symbolic_backend

        values, backend = symbolic_values(graph), symbolic_backend()
    else:
        from backprop.engine.backends import FLOAT
        from backprop.engine.evaluate import evaluate

        values, backend = evaluate(graph, point), FLOAT
    if "paths" in modes:
        from backprop.engine.modes.paths import plan

        count = plan(graph, wrt_ids).paths
        if count > max_paths:
            raise LimitError(f"--explain --mode paths would write {count:,} paths, over the "
                             f"explanation limit of {max_paths:,}",
                             hint="explain --mode reverse instead (one step per edge)")

    names, precedence = names_and_precedence(graph)
    formulas = PartialFormulas(graph, names, precedence)
    ctx = Narrator(graph, values, backend, names, precedence, formulas, wrt_ids, symbolic)
    steps: list[Step] = []
    steps += ctx.forward_sweep()
    steps += ctx.partial_steps()
    results: dict[str, list[list[Any]]] = {}
    for mode in modes:
        mode_steps, jacobian = {"reverse": ctx.reverse, "forward": ctx.forward,
                                "paths": ctx.paths}[mode]()
        steps += mode_steps
        results[mode] = jacobian
    total, agrees = ctx.total(results, gradients)
    steps.append(total)
    first = results[modes[0]] if modes else []
    return Explanation(tuple(modes), symbolic, tuple(steps), agrees,
                       tuple(tuple(row) for row in first))


@dataclass(frozen=True)
class Narrated:
    """What an explanation narrates: the sweeps of ``modes`` over ``graph`` by ``wrt`` at
    ``point`` (None: symbolically), and the Jacobian each mode printed, to which the last
    step compares its sum (``gradients``; empty: nothing to compare)."""

    graph: Graph
    wrt: Sequence[str]
    point: Mapping[str, Any] | None
    modes: tuple[str, ...]
    gradients: Mapping[str, Any]

    @classmethod
    def of(cls, report) -> "Narrated":
        """The sweeps of a ``jobs.grad.GradReport``, in the modes it ran."""
        modes = tuple(report.results)
        return cls(report.graph, report.wrt, report.point, modes,
                   {m: report.results[m].jacobian for m in modes})

    def explain(self) -> Explanation:
        return explain(self.graph, self.wrt, self.point, self.modes, self.gradients)


def explain_report(report) -> Explanation:
    """Explain a ``jobs.grad.GradReport`` in the modes it ran."""
    return Narrated.of(report).explain()


def explain_bounded(narrated: Narrated, timeout: float) -> Explanation:
    """``narrated.explain()`` in a side process killed after ``timeout`` seconds, its SymPy
    numbers as text: printing a formula orders its terms, which can evaluate e^(e^(6.4e11))
    for ever. Past the deadline, a LimitError (exit 3)."""
    from backprop.check import sympy_side

    try:
        return sympy_side.run(_explained_as_text, narrated, timeout=timeout)
    except (sympy_side.TimedOut, sympy_side.Died):
        raise LimitError(f"the explanation did not finish within {timeout:g} s",
                         hint="give more time with --check-timeout 60, or a point: "
                              "--at x=1,...") from None


def _explained_as_text(narrated: Narrated) -> Explanation:
    from dataclasses import replace

    def plain(value):
        return value if value is None or isinstance(value, (bool, int, float)) else \
            float(value) if getattr(value, "shape", None) == () else str(value)

    explanation = narrated.explain()
    return replace(explanation,
                   steps=tuple(replace(step, number=plain(step.number))
                               for step in explanation.steps),
                   gradient=tuple(tuple(plain(v) for v in row) for row in explanation.gradient))
