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
as ``2*x`` (``printer.node_texts``); the single unnamed output is called ``f``.

Every sweep here is a loop in (reverse) topological order that mirrors the mode modules
operation for operation, so the numbers are the very numbers the modes computed. Paths
come from ``modes.paths.iter_paths`` itself. Nothing here prints or imports rich; the
renderers live in ``render/explain_view.py`` (terminal), ``render/json_doc.py`` and
``render/markdown.py``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence

from backprop.errors import InputError, LimitError
from backprop.engine.graph import Graph
from backprop.engine.ops import OPS

EXPLAIN_MAX_NODES = 300  # graphs larger than this are refused (exit 3): the text would be a book
EXPLAIN_MAX_PATHS = 500  # path enumeration writes one step per path
NAME_MAX_CHARS = 40  # longer node texts are shortened in the middle ("sin(x…y)")
FORMULA_MAX_CHARS = 200  # longer formulas and symbolic numbers are cut with "…"
SUM_MAX_TERMS = 8  # terms written out in a sum of path products

_ATOM = 100
# printer precedence (1: + -, 2: * /, 3: unary -, 4: ^, 100: atom) -> SymPy's scale
# (a product or quotient name sits below Add, so that it is parenthesised even in the
# denominator of a negative product, where SymPy lowers its own level to Add's)
_SYMPY_PRECEDENCE = {1: 40, 2: 39, 3: 39, 4: 55, _ATOM: 1000}

MODE_NAMES = {"reverse": "reverse mode", "forward": "forward mode", "paths": "path enumeration"}
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


# --------------------------------------------------------------------------- names


def output_name(graph: Graph) -> str | None:
    """The name of a single unlabelled output: ``f`` unless the expression uses f."""
    if len(graph.outputs) != 1:
        return None
    node = graph.nodes[graph.outputs[0]]
    if node.label is not None or not node.args:
        return None
    taken = {n.label for n in graph.nodes if n.label is not None}
    for candidate in ("f", "out", "output", "f_out"):
        if candidate not in taken:
            return candidate
    return "f′"


def _shorten(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    keep = max(1, (limit - 1) // 2)
    return text[:keep] + "…" + text[-keep:]


def _mark(k: int) -> str:
    """The k-th node that prints like an earlier one: x′, x″, x‴, then x⁽⁵⁾."""
    if k <= 4:
        return "′" * (k - 1) if k < 4 else "‴"
    return "⁽" + str(k).translate(str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")) + "⁾"


def names_and_precedence(graph: Graph, max_chars: int = NAME_MAX_CHARS
                         ) -> tuple[list[str], list[int]]:
    """A readable, unique name per node and how tightly it binds (printer precedence)."""
    from backprop.engine.printer import node_texts

    texts = node_texts(graph, 2 * max_chars)
    out = output_name(graph)
    out_id = graph.outputs[0] if out is not None else -1
    names: list[str] = []
    precedence: list[int] = []
    seen: dict[str, int] = {}
    for i, node in enumerate(graph.nodes):
        if node.label is not None:
            name = node.label
            prec = 3 if name.startswith("-") else _ATOM
        elif i == out_id:
            name, prec = out, _ATOM
        else:
            prec = OPS[node.op].precedence
            text = texts[i]
            if text is None:  # too long to print whole: build it from the short arg names
                text = apply_text(node.op, [(names[a], precedence[a]) for a in node.args])
            name = _shorten(text, max_chars)
        if name in seen:  # two different nodes that print alike: keep them apart
            seen[name] += 1
            name = f"{name}{_mark(seen[name])}"
        seen[name] = seen.get(name, 0) + 1
        names.append(name)
        precedence.append(prec)
    return names, precedence


def node_names(graph: Graph, max_chars: int = NAME_MAX_CHARS) -> list[str]:
    """name[i]: how a person finds node i in the expression (never an internal id)."""
    return names_and_precedence(graph, max_chars)[0]


def wrap(name: str, precedence: int) -> str:
    """A name as the variable of a derivative: ``∂f/∂(x^2)``, ``∂f/∂sin(x)``."""
    return name if precedence == _ATOM else f"({name})"


# --------------------------------------------------------------------------- formulas


def clip(text: str, limit: int = FORMULA_MAX_CHARS) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def short(value: Any) -> str:
    """A number for a step: 4 significant digits, exact ints, SymPy as text (clipped)."""
    if value is None:
        return "?"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        text = f"{value:.4g}"
        return "0" if text == "-0" else text
    shape = getattr(value, "shape", None)
    if shape is not None and tuple(shape) != ():
        return "array" + "×".join(str(s) for s in shape).join("[]")
    if shape is not None:  # numpy scalar
        return short(float(value))
    return clip(str(value))


def exact(value: Any) -> str:
    """A number to its last digit (the printed gradient's form)."""
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else str(value)
    return clip(str(value))


class PartialFormulas:
    """Local partials as formulas over node names, from the op table on the SymPy backend.

    Each node stands in as a SymPy symbol that prints as its name, with parentheses where
    its precedence needs them, so ``d tanh(z1)/d z1`` reads ``1 - a1**2`` when the tanh
    node is called a1, and ``d sin(x^2)/d(x^2)`` reads ``cos(x^2)``.
    """

    def __init__(self, graph: Graph, names: Sequence[str], precedence: Sequence[int]):
        import sympy
        from sympy.printing.str import StrPrinter

        from backprop.engine.backends import symbolic
        from backprop.check.check import sympy_constant

        self.graph = graph
        self.names = names
        self.precedence = precedence
        self._sympy = sympy
        self._backend = symbolic()
        self._constant = sympy_constant
        self._symbols: dict[int, Any] = {}
        self._cache: dict[int, tuple] = {}
        table: dict[Any, tuple[str, int]] = {}
        self._table = table

        class NamePrinter(StrPrinter):
            def _print_Symbol(self, expr):
                found = table.get(expr)
                return found[0] if found is not None else super()._print_Symbol(expr)

            def parenthesize(self, item, level, strict=False):
                found = table.get(item)
                if found is None:
                    return super().parenthesize(item, level, strict)
                text, prec, _ = found
                if prec < level or (not strict and prec <= level):
                    return f"({text})"
                return text

            def _print_Rational(self, expr):  # constants as the user wrote them: 0.1, not 1/10
                text = _decimal(expr.p, expr.q)
                return text if text is not None else super()._print_Rational(expr)

            def _print_Piecewise(self, expr):  # relu' = step: (1 if x > 0 else 0)
                parts = []
                for value, condition in expr.args:
                    if condition == sympy.true:
                        parts.append(self._print(value))
                        break
                    parts.append(f"{self._print(value)} if {self._print(condition)} else")
                else:
                    parts.append("undefined")
                return "(" + " ".join(parts) + ")"

        self._printer = NamePrinter()

    def symbol(self, i: int):
        node = self.graph.nodes[i]
        if node.op == "const":
            return self._constant(node)
        found = self._symbols.get(i)
        if found is None:
            found = self._sympy.Symbol(f"_n{i}", real=True)
            self._symbols[i] = found
            prec = self.precedence[i]
            self._table[found] = (self.names[i], _SYMPY_PRECEDENCE[prec], prec)
        return found

    def _expr(self, value):
        if isinstance(value, bool):
            value = int(value)
        if isinstance(value, int):
            return self._sympy.Integer(value)
        if isinstance(value, float):
            return self._sympy.Float(value)
        return value

    def partials(self, i: int) -> tuple:
        """The SymPy expressions of d(node i)/d(each argument), over name symbols."""
        found = self._cache.get(i)
        if found is None:
            node = self.graph.nodes[i]
            found = tuple(self._expr(p) for p in OPS[node.op].partials(
                self._backend, self.symbol(i), *(self.symbol(a) for a in node.args)))
            self._cache[i] = found
        return found

    def text(self, expr) -> str:
        # names print with ^ (the expression language); SymPy's own powers follow suit
        return clip(self._printer.doprint(self._expr(expr)).replace("**", "^"))

    def factor(self, expr) -> str:
        """The formula as a factor of a product: parenthesised where it is a sum or negative."""
        expr = self._expr(expr)
        text = self.text(expr)
        found = self._table.get(expr)
        if found is not None:  # a name: a sum or a negation needs parentheses
            needs = found[2] in (1, 3)
        else:
            needs = expr.is_Add or bool(expr.could_extract_minus_sign())
        return f"({text})" if needs else text


def _decimal(p: int, q: int) -> str | None:
    """p/q as an exact decimal (0.1, -2.5) where it has one, else None (1/3)."""
    if q == 1:
        return str(p)
    twos = fives = 0
    rest = q
    while rest % 2 == 0:
        rest //= 2
        twos += 1
    while rest % 5 == 0:
        rest //= 5
        fives += 1
    if rest != 1 or max(twos, fives) > 30:
        return None
    digits = max(twos, fives)
    scaled = abs(p) * 10**digits // q
    whole, frac = divmod(scaled, 10**digits)
    text = f"{whole}.{frac:0{digits}d}".rstrip("0").rstrip(".")
    return ("-" if p < 0 else "") + text


def factor_number(value: Any) -> str:
    """A number as a factor (SymPy sums get parentheses; floats stay as the brief shows)."""
    text = short(value)
    if not isinstance(value, (int, float)) and getattr(value, "is_Add", False):
        return f"({text})"
    return text


def apply_text(op_name: str, args: Sequence[tuple[str, int]], spaced: bool = False) -> str:
    """An op applied to texts of given precedence, with the fewest parentheses."""
    op = OPS[op_name]
    if op.is_function:
        return f"{op.symbol}({args[0][0]})"
    if op.arity == 1:
        inner, p = args[0]
        return "-" + (inner if p > op.precedence else f"({inner})")
    (left, lp), (right, rp) = args
    if op.name == "pow":
        left = left if lp > op.precedence else f"({left})"
        right = right if rp >= op.precedence - 1 and not right.startswith("-") else f"({right})"
        return f"{left}^{right}"
    left = left if lp >= op.precedence else f"({left})"
    right = right if rp > op.precedence and not right.startswith("-") else f"({right})"
    if op.precedence == 1 or spaced:
        return f"{left} {op.symbol} {right}"
    return f"{left}{op.symbol}{right}"


def _number_precedence(text: str) -> int:
    return 3 if text.startswith("-") else _ATOM


def _same_text(formula: str, number: Any) -> bool:
    """Whether a symbolic number would only repeat the formula (x^2 vs x**2)."""
    def norm(s: str) -> str:
        return s.replace("**", "^").replace(" ", "")
    return norm(formula) == norm(str(number))


# --------------------------------------------------------------------------- equality


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


# --------------------------------------------------------------------------- explain


def check_size(graph: Graph, max_nodes: int = EXPLAIN_MAX_NODES) -> None:
    """Refuse (exit 3) before any work when the explanation would be unreadably long."""
    if len(graph) > max_nodes:
        raise LimitError(
            f"--explain writes a step for every node and edge; this graph has "
            f"{len(graph):,} nodes, over the explanation limit of {max_nodes:,}",
            hint="drop --explain, or look at the graph with: backprop graph ... --format text")


def explain(graph: Graph, wrt: Iterable[str] | None = None, point: Mapping[str, Any] | None = None,
            modes: Sequence[str] = ("reverse",), gradients: Mapping[str, Any] | None = None, *,
            values: Sequence[Any] | None = None, backend=None,
            max_nodes: int = EXPLAIN_MAX_NODES, max_paths: int = EXPLAIN_MAX_PATHS
            ) -> Explanation:
    """Explain d(outputs)/d(wrt) in ``modes`` (forward, paths, reverse), at ``point`` or
    symbolically.

    ``gradients`` maps a mode to the Jacobian that was printed for it, so that the last
    step can say the steps add up to it. ``values``/``backend`` let a caller that already
    evaluated the graph (for instance on numpy) pass its values in.
    """
    check_size(graph, max_nodes)
    names_in = list(graph.input_names if wrt is None else wrt)
    for name in names_in:
        if name not in graph.input_names:
            raise InputError(f"cannot explain d/d{name}: the expression has no variable {name!r}")
    wrt_ids = [graph.inputs[graph.input_names.index(n)] for n in names_in]
    for mode in modes:
        if mode not in SECTION_TITLES or mode in ("value", "partial", "total"):
            raise InputError(f"cannot explain mode {mode!r}",
                             hint="modes: forward, paths, reverse")
    symbolic = point is None and values is None
    if values is None:
        if point is None:
            from backprop.engine.backends import symbolic as symbolic_backend
            from backprop.check.check import symbolic_values

            values = symbolic_values(graph)
            backend = symbolic_backend()
        else:
            from backprop.engine.evaluate import evaluate

            values = evaluate(graph, point)
    if backend is None:
        from backprop.engine.backends import FLOAT

        backend = FLOAT
    if "paths" in modes:
        from backprop.engine.modes.paths import plan

        count = plan(graph, wrt_ids).paths
        if count > max_paths:
            raise LimitError(f"--explain --mode paths would write {count:,} paths, over the "
                             f"explanation limit of {max_paths:,}",
                             hint="explain --mode reverse instead (one step per edge)")

    names, precedence = names_and_precedence(graph)
    formulas = PartialFormulas(graph, names, precedence)
    ctx = _Context(graph, values, backend, names, precedence, formulas, wrt_ids, symbolic)
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


def explain_report(report, modes: Sequence[str] | None = None, **options) -> Explanation:
    """Explain a ``report.GradReport`` (or any report with graph, wrt, point, results)."""
    modes = tuple(modes or report.results)
    gradients = {m: report.results[m].jacobian for m in modes if m in report.results}
    return explain(report.graph, report.wrt, report.point, modes, gradients, **options)


def explain_bounded(report, timeout: float) -> Explanation:
    """``explain_report`` in a side process killed after ``timeout`` seconds, its SymPy
    numbers as text: printing a formula orders its terms, which can evaluate e^(e^(6.4e11))
    for ever. Past the deadline, a LimitError (exit 3)."""
    from backprop.check import sympy_side

    try:
        return sympy_side.run(_explained_as_text, report, timeout=timeout)
    except (sympy_side.TimedOut, sympy_side.Died):
        raise LimitError(f"the explanation did not finish within {timeout:g} s",
                         hint="give more time with --check-timeout 60, or a point: "
                              "--at x=1,...") from None


def _explained_as_text(report) -> Explanation:
    from dataclasses import replace

    def plain(value):
        return value if value is None or isinstance(value, (bool, int, float)) else \
            float(value) if getattr(value, "shape", None) == () else str(value)

    explanation = explain_report(report)
    return replace(explanation,
                   steps=tuple(replace(step, number=plain(step.number))
                               for step in explanation.steps),
                   gradient=tuple(tuple(plain(v) for v in row) for row in explanation.gradient))


class _Context:
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
        self._partials: dict[int, tuple] = {}
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
    def local(self, i: int) -> tuple:
        found = self._partials.get(i)
        if found is None:
            from backprop.engine.evaluate import local_partials

            found = local_partials(self.graph, self.values, i, self.backend)
            self._partials[i] = found
        return found

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
        steps, skipped = [], 0
        for i, node in enumerate(self.nodes):
            if not node.args or not self.useful[i]:
                continue
            exprs = self.formulas.partials(i)
            local = self.local(i)
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

    def edge_terms(self, i: int, k: int) -> tuple[str, str, Any]:
        """(factor formula, factor number, partial value) of edge k of node i."""
        expr = self.formulas.partials(i)[k]
        p = self.local(i)[k]
        return self.formulas.factor(expr), self.nf(p), p

    # -- 3a. reverse mode (mirrors modes/reverse.py)
    def reverse(self) -> tuple[list[Step], list[list[Any]]]:
        steps: list[Step] = []
        nodes, active = self.nodes, self.active
        fan_in = [0] * len(nodes)
        for i, node in enumerate(nodes):
            if self.useful[i] and node.args:
                for a in node.args:
                    if active[a]:
                        fan_in[a] += 1
        for a, users in enumerate(fan_in):
            if users > 1 and len(self.graph.outputs) == 1:
                steps.append(Step("note", f"{self.names[a]} feeds {users} edges, so adj["
                                          f"{self.names[a]}] collects {users} contributions",
                                  mode="reverse", node=self.names[a]))
        jacobian = []
        for o, out in enumerate(self.graph.outputs):
            adjoint: dict[int, Any] = {}
            if active[out]:
                adjoint[out] = 1
                steps.append(Step("seed", f"adj[{self.names[out]}] = 1   (∂{self.d(out)}/∂"
                                          f"{self.d(out)} = 1)", f"adj[{self.names[out]}] = 1", 1,
                                  "reverse", self.names[out]))
            for i in range(out, -1, -1):
                a = adjoint.get(i)
                node = nodes[i]
                if a is None or not node.args:
                    continue
                local = self.local(i)
                for k, (arg, p) in enumerate(zip(node.args, local)):
                    if not active[arg]:
                        continue
                    factor, factor_num, _ = self.edge_terms(i, k)
                    contribution = p * a
                    formula = f"adj[{self.names[arg]}] += adj[{self.names[i]}] * {factor}"
                    text = f"{formula} = {self.nf(a)} * {factor_num} = {self.n(contribution)}"
                    if arg in adjoint:
                        old = adjoint[arg]
                        adjoint[arg] = old + contribution
                        text += f", so adj[{self.names[arg]}] = " + (
                            self.n(adjoint[arg]) if self.symbolic else
                            f"{self.n(old)} + {self.nf(contribution)} = "
                            f"{self.n(adjoint[arg])}")
                    else:
                        adjoint[arg] = contribution
                    steps.append(Step("adjoint", text, formula, contribution, "reverse",
                                      self.names[arg]))
            row = []
            for w in self.wrt:
                value = adjoint.get(w, 0)
                source = f"adj[{self.names[w]}]" if w in adjoint else None
                steps.append(self.result_step(o, w, value, source, "reverse"))
                row.append(value)
            jacobian.append(row)
        return steps, jacobian

    def result_step(self, o: int, w: int, value, source: str | None, mode: str) -> Step:
        """The last step of a sweep: d output_o / d w read off an adjoint or a tangent."""
        head = self.derivative(o, w)
        text = f"{head} = {source} = {self.n(value)}" if source else \
            f"{head} = 0 (no path from {self.names[w]})"
        return Step("result", text, f"{head} = {source or 0}", value, mode, self.names[w])

    # -- 3b. forward mode (mirrors modes/forward.py)
    def forward(self) -> tuple[list[Step], list[list[Any]]]:
        steps: list[Step] = []
        nodes = self.nodes
        columns = []
        for w in self.wrt:
            t = f"t_{self.names[w]}"
            tangent: dict[int, Any] = {w: 1}
            steps.append(Step("seed", f"{t}[{self.names[w]}] = 1   (∂{self.d(w)}/∂"
                                      f"{self.d(w)} = 1)", f"{t}[{self.names[w]}] = 1", 1,
                              "forward", self.names[w]))
            for i in range(w + 1, len(nodes)):
                node = nodes[i]
                if not node.args:
                    continue
                total = None
                terms, numbers = [], []
                for k, arg in enumerate(node.args):
                    ta = tangent.get(arg)
                    if ta is None:
                        continue
                    factor, factor_num, p = self.edge_terms(i, k)
                    contribution = p * ta
                    total = contribution if total is None else total + contribution
                    terms.append(f"{t}[{self.names[arg]}] * {factor}")
                    numbers.append(f"{self.nf(ta)} * {factor_num}")
                if total is None:
                    continue
                tangent[i] = total
                formula = f"{t}[{self.names[i]}] = " + " + ".join(terms)
                text = f"{formula} = {' + '.join(numbers)} = {self.n(total)}"
                steps.append(Step("tangent", text, formula, total, "forward", self.names[i]))
            column = []
            for o, out in enumerate(self.graph.outputs):
                value = tangent.get(out, 0)
                source = f"{t}[{self.names[out]}]" if out in tangent else None
                steps.append(self.result_step(o, w, value, source, "forward"))
                column.append(value)
            columns.append(column)
        jacobian = [[column[o] for column in columns] for o in range(len(self.graph.outputs))]
        return steps, jacobian

    # -- 3c. path enumeration (walks modes.paths.iter_paths)
    def paths(self) -> tuple[list[Step], list[list[Any]]]:
        from backprop.engine.modes.paths import iter_paths

        steps: list[Step] = []
        graph = self.graph
        column = {w: k for k, w in enumerate(self.wrt)}
        row_of = {out: o for o, out in enumerate(graph.outputs)}
        products: dict[tuple[int, int], list[Any]] = {}
        cache: dict[int, tuple] = {}
        count = 0
        for path in iter_paths(graph, self.values, self.wrt, self.backend, cache):
            count += 1
            key = (row_of[path.output], column[path.nodes[0]])
            product = path.product()
            products.setdefault(key, []).append(product)
            chain = " → ".join(self.names[n] for n in reversed(path.nodes))
            if len(path.nodes) == 1:
                text = f"path {count}: {chain} (the output is the variable itself) = 1"
                steps.append(Step("path", text, "1", product, "paths", self.names[path.nodes[0]]))
                continue
            factors, numbers = [], []
            for k in range(len(path.nodes) - 2, -1, -1):  # output end first, as seed 004 does
                node_id, arg = path.nodes[k + 1], path.nodes[k]
                position = self._position(cache, node_id, arg, path.partials[k])
                factor, _, _ = self.edge_terms(node_id, position)
                factors.append(factor)
                numbers.append(self.nf(path.partials[k]))
            formula = " * ".join(factors)
            parts = [formula, " * ".join(numbers), self.n(product)]
            parts = [part for k, part in enumerate(parts) if k == 0 or part != parts[k - 1]]
            text = f"path {count}: {chain}: " + " = ".join(parts)
            steps.append(Step("path", text, formula, product, "paths",
                              self.names[path.nodes[0]]))
        jacobian = []
        for o in range(len(graph.outputs)):
            row = []
            for k, w in enumerate(self.wrt):
                terms = products.get((o, k), [])
                head = self.derivative(o, w)
                if not terms:
                    value, text = 0, f"{head} = 0 (no path from {self.names[w]})"
                else:
                    value = terms[0]
                    for term in terms[1:]:
                        value = value + term
                    shown = " + ".join(self.nf(t) for t in terms[:SUM_MAX_TERMS])
                    if len(terms) > SUM_MAX_TERMS:
                        shown += f" + … ({len(terms) - SUM_MAX_TERMS} more)"
                    if len(terms) == 1:
                        text = f"{head} = {self.n(value)} (one path)"
                    else:
                        text = f"{head} = sum over {len(terms)} paths = {shown} = {self.n(value)}"
                steps.append(Step("sum", text, f"{head} = sum of path products", value, "paths",
                                  self.names[w]))
                row.append(value)
            jacobian.append(row)
        return steps, jacobian

    def _position(self, cache: dict, node_id: int, arg: int, factor: Any) -> int:
        """Which argument slot an edge of a path went through (x*x has two)."""
        args = self.nodes[node_id].args
        slots = [k for k, a in enumerate(args) if a == arg]
        if len(slots) > 1:
            local = cache.get(node_id, ())
            for k in slots:
                if k < len(local) and local[k] is factor:
                    return k
        return slots[0]

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
