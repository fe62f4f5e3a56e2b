"""The steps of an explanation, formatted from what the real sweeps did.

Every mode is run here with a ``watch`` (``engine.modes``): forward mode's tangents,
reverse mode's adjoint updates and every path's product are the events of the very sweep
the modes module runs, so the numbers are its numbers; this module only writes them down,
over node names, with each edge's partial as a formula (``explain_text``). The seed is the
exact 1 (``_exact_seed``): the same bits, and a derivative that is exactly 1 reads as 1.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import groupby
from types import SimpleNamespace
from typing import Any, Mapping

from backprop.engine.modes import Edge, Seed
from backprop.jobs.explain_text import apply_text, exact, factor_number, short, wrap, \
    _number_precedence, _same_text

SUM_MAX_TERMS = 8  # terms written out in a sum of path products
UNTAKEN = ("   (a branch not taken: an exact 0, never 0 * nan, so the untaken branch "
           "cannot poison the gradient; docs/expressions.md)")


def _times_float(a, b) -> float:
    try:
        return float(a) * float(b)
    except (TypeError, ValueError):
        return 0.0


def _untaken(partial, carried, contribution) -> str:
    """The note on a step where a branch not taken made an exact 0 of 0 * nan or 0 * inf
    (engine/evaluate.py): "" elsewhere."""
    try:
        naive = float(partial) * float(carried)
    except (TypeError, ValueError):
        return ""
    return UNTAKEN if contribution == 0 and naive != naive else ""
MODE_NAMES = {"reverse": "reverse mode", "forward": "forward mode", "paths": "path enumeration"}


@dataclass(frozen=True)
class Step:
    """One line of an explanation.

    ``kind`` is one of value, partial, seed, tangent, adjoint, path, sum, result, total,
    note; ``mode`` names the mode a step belongs to (None for the shared sweep, the
    partials and the total); ``node`` is the name of the node the step is about;
    ``formula`` is the step written over node names; ``number`` its value (a float at a
    point, a SymPy expression without one, None for notes).
    """

    kind: str
    text: str
    formula: str | None = None
    number: Any = None
    mode: str | None = None
    node: str | None = None

    @property
    def section(self) -> str:
        if self.kind == "total":
            return "total"
        if self.mode is None and self.kind == "note":
            return "partial"
        return self.mode or self.kind


def _equal(a: Any, b: Any) -> bool:
    """Whether the steps' result and the printed gradient are the same number/formula."""
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        a, b = float(a), float(b)
        if a == b or (a != a and b != b):
            return True
        return math.isfinite(a) and math.isfinite(b) and \
            abs(a - b) <= 1e-12 * max(1.0, abs(a), abs(b))
    try:
        if a == b:
            return True
        import sympy

        return sympy.simplify(a - b) == 0
    except Exception:  # noqa: BLE001 - a comparison that cannot be settled is not equal
        return False


def _exact_seed(backend):
    """The backend with the seed 1 as an exact int: ``p * 1`` is ``p`` to the bit, and a
    derivative that is exactly 1 (x + y) stays the int 1 in the steps, as written by hand."""
    return SimpleNamespace(**{**vars(backend), "one": 1})


def _by_sweep(events: list, sweeps: int) -> list[list]:
    """The watched events of each sweep, in order (a sweep may have none)."""
    grouped: list[list] = [[] for _ in range(sweeps)]
    for event in events:
        grouped[event.sweep].append(event)
    return grouped


class Narrator:
    """Writes the steps of one explanation: the values, the partials, each mode's sweep."""

    def __init__(self, graph, values, backend, names, precedence, formulas, wrt_ids, symbolic):
        self.graph = graph
        self.nodes = graph.nodes
        self.values = values
        self.backend = backend
        self.names = names
        self.precedence = precedence
        self.formulas = formulas
        self.wrt = wrt_ids
        self.symbolic = symbolic
        self.active = graph.depends_on(wrt_ids)
        # useful[i]: some output is computed from node i (so its edges matter)
        useful = [False] * len(self.nodes)
        for out in graph.outputs:
            useful[out] = True
        for i in range(len(self.nodes) - 1, -1, -1):
            if useful[i]:
                for a in self.nodes[i].args:
                    useful[a] = True
        self.useful = useful

    # -- helpers
    def n(self, value: Any) -> str:
        """A number in a step: 4 digits at a point, a SymPy formula (written with ^) without."""
        if self.symbolic and not isinstance(value, (int, float)) and hasattr(value, "free_symbols"):
            return self.formulas.text(value)
        return short(value)

    def nf(self, value: Any) -> str:
        """A number as a factor: SymPy sums and negative formulas get parentheses."""
        if self.symbolic and not isinstance(value, (int, float)) and hasattr(value, "free_symbols"):
            return self.formulas.factor(value)
        return factor_number(value)

    def d(self, i: int) -> str:
        return wrap(self.names[i], self.precedence[i])

    def derivative(self, o: int, w: int) -> str:
        return f"∂{self.d(self.graph.outputs[o])}/∂{self.d(w)}"

    def with_number(self, head: str, formula: str, number: Any) -> str:
        """``head = formula = number`` (symbolic: the number only where it adds something)."""
        if _same_text(formula, self.n(number)):
            return f"{head} = {formula}"
        return f"{head} = {formula} = {self.n(number)}"

    # -- 1. forward sweep
    def forward_sweep(self) -> list[Step]:
        """Every node's value, as an expression over names and with the numbers put in."""
        steps = []
        for i, node in enumerate(self.nodes):
            name, value = self.names[i], self.values[i]
            if node.op == "input":
                text = f"{name} is an input" if self.symbolic else f"{name} = {self.n(value)}" \
                    " (input)"
                steps.append(Step("value", text, name, value, node=name))
                continue
            if node.op == "const":
                shown = self.n(node.const)
                text = f"{name} is a constant" if shown == name or self.symbolic \
                    else f"{name} = {shown} (constant)"
                steps.append(Step("value", text, name, value, node=name))
                continue
            expr = apply_text(node.op, [(self.names[a], self.precedence[a]) for a in node.args])
            head = name if expr == name else f"{name} = {expr}"
            if self.symbolic:
                text = head if _same_text(expr, self.n(value)) else f"{head} = {self.n(value)}"
            else:
                numbers = [(self.n(self.values[a]), _number_precedence(self.n(self.values[a])))
                           for a in node.args]
                text = f"{head} = {apply_text(node.op, numbers, spaced=True)} = {self.n(value)}"
            text += f"   [{node.op}]"
            steps.append(Step("value", text, expr, value, node=name))
        return steps

    # -- 2. local partials
    def partial_steps(self) -> list[Step]:
        """Each edge's partial from the op table: as a formula over names, and its number."""
        from backprop.engine.evaluate import local_partials

        steps, skipped = [], 0
        for i, node in enumerate(self.nodes):
            if not node.args or not self.useful[i]:
                continue
            exprs = self.formulas.partials(i)
            local = local_partials(self.graph, self.values, i, self.backend)
            for k, a in enumerate(node.args):
                if not self.active[a]:
                    skipped += 1
                    continue
                formula = self.formulas.text(exprs[k])
                head = f"∂{self.d(i)}/∂{self.d(a)}"
                steps.append(Step("partial", self.with_number(head, formula, local[k]),
                                  f"{head} = {formula}", local[k], node=self.names[i]))
        if skipped:
            many = skipped > 1
            steps.append(Step("note", f"(left out: {skipped} edge{'s' if many else ''} from "
                                      "constants or from variables not differentiated by; no "
                                      f"derivative flows along {'them' if many else 'it'})"))
        return steps

    def factor(self, edge) -> str:
        """The formula of an edge's partial, as a factor of a product."""
        return self.formulas.factor(self.formulas.partials(edge.node)[edge.slot])

    # -- 3a. reverse mode (the sweep of modes/reverse.py, watched)
    def reverse(self) -> tuple[list[Step], list[list[Any]]]:
        from backprop.engine.modes.reverse import reverse

        steps = self.fan_in_notes()
        events: list = []
        jacobian = reverse(self.graph, self.values, self.wrt, _exact_seed(self.backend),
                           watch=events.append).jacobian
        outputs = self.graph.outputs
        for o, (out, sweep) in enumerate(zip(outputs, _by_sweep(events, len(outputs)))):
            reached = set()
            for event in sweep:
                if isinstance(event, Seed):
                    reached.add(out)
                    steps.append(Step("seed", f"adj[{self.names[out]}] = 1   (∂{self.d(out)}/∂"
                                              f"{self.d(out)} = 1)", f"adj[{self.names[out]}] = 1",
                                      1, "reverse", self.names[out]))
                else:
                    reached.add(event.arg)
                    steps.append(self.adjoint_step(event))
            for k, w in enumerate(self.wrt):
                source = f"adj[{self.names[w]}]" if w in reached else None
                steps.append(self.result_step(o, w, jacobian[o][k], source, "reverse"))
        return steps, jacobian

    def fan_in_notes(self) -> list[Step]:
        """Where an adjoint collects several contributions (one output only)."""
        if len(self.graph.outputs) != 1:
            return []
        fan_in = [0] * len(self.nodes)
        for i, node in enumerate(self.nodes):
            if self.useful[i] and node.args:
                for a in node.args:
                    if self.active[a]:
                        fan_in[a] += 1
        return [Step("note", f"{self.names[a]} feeds {users} edges, so adj[{self.names[a]}] "
                             f"collects {users} contributions", mode="reverse",
                     node=self.names[a])
                for a, users in enumerate(fan_in) if users > 1]

    def adjoint_step(self, edge) -> Step:
        """adj[arg] += adj[node] * partial, with the numbers the sweep multiplied and added."""
        arg, node = self.names[edge.arg], self.names[edge.node]
        formula = f"adj[{arg}] += adj[{node}] * {self.factor(edge)}"
        text = f"{formula} = {self.nf(edge.carried)} * {self.nf(edge.partial)} = " \
               f"{self.n(edge.contribution)}"
        text += _untaken(edge.partial, edge.carried, edge.contribution)
        if edge.before is not None:
            text += f", so adj[{arg}] = " + (
                self.n(edge.after) if self.symbolic else
                f"{self.n(edge.before)} + {self.nf(edge.contribution)} = {self.n(edge.after)}")
        return Step("adjoint", text, formula, edge.contribution, "reverse", arg)

    def result_step(self, o: int, w: int, value, source: str | None, mode: str) -> Step:
        """The last step of a sweep: d output_o / d w read off an adjoint or a tangent."""
        head = self.derivative(o, w)
        text = f"{head} = {source} = {self.n(value)}" if source else \
            f"{head} = 0 (no path from {self.names[w]})"
        return Step("result", text, f"{head} = {source or 0}", value, mode, self.names[w])

    # -- 3b. forward mode (the sweep of modes/forward.py, watched)
    def forward(self) -> tuple[list[Step], list[list[Any]]]:
        from backprop.engine.modes.forward import forward

        events: list = []
        jacobian = forward(self.graph, self.values, self.wrt, _exact_seed(self.backend),
                           watch=events.append).jacobian
        steps: list[Step] = []
        for k, (w, sweep) in enumerate(zip(self.wrt, _by_sweep(events, len(self.wrt)))):
            t = f"t_{self.names[w]}"
            steps.append(Step("seed", f"{t}[{self.names[w]}] = 1   (∂{self.d(w)}/∂"
                                      f"{self.d(w)} = 1)", f"{t}[{self.names[w]}] = 1", 1,
                              "forward", self.names[w]))
            reached = {w}
            edges = [event for event in sweep if isinstance(event, Edge)]
            for i, into in groupby(edges, key=lambda edge: edge.node):
                into = list(into)
                reached.add(i)
                formula = f"{t}[{self.names[i]}] = " + " + ".join(
                    f"{t}[{self.names[edge.arg]}] * {self.factor(edge)}" for edge in into)
                numbers = " + ".join(f"{self.nf(edge.carried)} * {self.nf(edge.partial)}"
                                     for edge in into)
                total = into[-1].after
                why = "".join(_untaken(e.partial, e.carried, e.contribution) for e in into)
                steps.append(Step("tangent", f"{formula} = {numbers} = {self.n(total)}{why}",
                                  formula, total, "forward", self.names[i]))
            for o, out in enumerate(self.graph.outputs):
                source = f"{t}[{self.names[out]}]" if out in reached else None
                steps.append(self.result_step(o, w, jacobian[o][k], source, "forward"))
        return steps, jacobian

    # -- 3c. path enumeration (the walk of modes/paths.py, watched)
    def paths(self) -> tuple[list[Step], list[list[Any]]]:
        from backprop.engine.modes.paths import sum_paths

        walked: list = []
        jacobian = sum_paths(self.graph, self.values, self.wrt, self.backend, walked.append)
        column = {w: k for k, w in enumerate(self.wrt)}
        row_of = {out: o for o, out in enumerate(self.graph.outputs)}
        products: dict[tuple[int, int], list[Any]] = {}
        steps = []
        for count, event in enumerate(walked, 1):
            path = event.path
            products.setdefault((row_of[path.output], column[path.nodes[0]]), []).append(
                event.product)
            steps.append(self.path_step(count, path, event.product))
        for o in range(len(self.graph.outputs)):
            for k, w in enumerate(self.wrt):
                steps.append(self.sum_step(o, w, products.get((o, k), []), jacobian[o][k]))
        return steps, jacobian

    def path_step(self, count: int, path, product) -> Step:
        """One path: its nodes from the output back, its partials' formulas and numbers."""
        chain = " → ".join(self.names[n] for n in reversed(path.nodes))
        if len(path.nodes) == 1:
            text = f"path {count}: {chain} (the output is the variable itself) = 1"
            return Step("path", text, "1", product, "paths", self.names[path.nodes[0]])
        edges = range(len(path.nodes) - 2, -1, -1)  # output end first, as seed 004 does
        formula = " * ".join(self.formulas.factor(self.formulas.partials(
            path.nodes[k + 1])[path.slots[k]]) for k in edges)
        parts = [formula, " * ".join(self.nf(path.partials[k]) for k in edges), self.n(product)]
        parts = [part for k, part in enumerate(parts) if k == 0 or part != parts[k - 1]]
        text = f"path {count}: {chain}: " + " = ".join(parts)
        if getattr(path, "untaken", False):
            naive = 1.0
            for p in path.partials:
                naive = _times_float(naive, p)
            text += UNTAKEN if naive != naive else ""
        return Step("path", text, formula, product, "paths", self.names[path.nodes[0]])

    def sum_step(self, o: int, w: int, terms: list, value) -> Step:
        """d output_o / d w: the sum of its paths' products (the walk's own sum)."""
        head = self.derivative(o, w)
        if not terms:
            text = f"{head} = 0 (no path from {self.names[w]})"
        elif len(terms) == 1:
            text = f"{head} = {self.n(value)} (one path)"
        else:
            shown = " + ".join(self.nf(t) for t in terms[:SUM_MAX_TERMS])
            if len(terms) > SUM_MAX_TERMS:
                shown += f" + … ({len(terms) - SUM_MAX_TERMS} more)"
            text = f"{head} = sum over {len(terms)} paths = {shown} = {self.n(value)}"
        return Step("sum", text, f"{head} = sum of path products", value, "paths",
                    self.names[w])

    # -- 4. the last line
    def total(self, results: dict, gradients: Mapping[str, Any] | None) -> tuple[Step, bool | None]:
        graph = self.graph
        agrees: bool | None = None
        if gradients:
            agrees = True
            for mode, jacobian in results.items():
                printed = gradients.get(mode)
                if printed is None:
                    continue
                for row, printed_row in zip(jacobian, printed):
                    for ours, theirs in zip(row, printed_row):
                        if not _equal(ours, theirs):
                            agrees = False
        first = next(iter(results.values()), [])
        reference = first
        if gradients:
            reference = next((gradients[m] for m in results if m in gradients), first)
        parts = []
        for o in range(len(graph.outputs)):
            for k, w in enumerate(self.wrt):
                value = reference[o][k] if o < len(reference) else None
                parts.append(f"{self.derivative(o, w)} = {exact(value)}")
        formula = "; ".join(parts)
        modes = [MODE_NAMES.get(m, m) for m in results]
        which = f"the steps of {modes[0]}" if len(modes) == 1 else \
            "the steps of " + ", ".join(modes[:-1]) + f" and {modes[-1]}"
        if agrees is None:
            text = f"{which} give {formula}"
        elif agrees:
            word = "add" if len(modes) == 1 else "each add"
            text = f"✓ {which} {word} up to the printed gradient: {formula}"
        else:
            text = f"✗ {which} do not add up to the printed gradient ({formula}): a bug, " \
                   "please report it"
        number = reference[0][0] if len(parts) == 1 and reference else None
        return Step("total", text, formula, number), agrees
