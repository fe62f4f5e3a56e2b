"""The words of an explanation: node names, numbers and formulas as text.

Names come from the graph's one naming table (``printer.name_table``): a statement label,
a variable, else the node's expression text (``2*x``) up to ``NAME_MAX_CHARS``, else its
name in ``backprop graph`` (``v7``); the single unnamed output is called ``f``. Partial derivatives are
written from the op table on the SymPy backend, over symbols that print as those names.
Pictures (``jobs/picture.py``) name nodes and write numbers the same way.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

from backprop.engine.graph import Graph
from backprop.engine.ops import OPS
from backprop.engine.printer import compose, name_table

NAME_MAX_CHARS = 40  # an unlabelled node with a longer text goes by its graph name (v7)
FORMULA_MAX_CHARS = 200  # longer formulas and symbolic numbers are cut with "…"

_ATOM = 100
# printer precedence (1: + -, 2: * /, 3: unary -, 4: ^, 100: atom) -> SymPy's scale
# (a product or quotient name sits below Add, so that it is parenthesised even in the
# denominator of a negative product, where SymPy lowers its own level to Add's)
_SYMPY_PRECEDENCE = {0: 35, 1: 40, 2: 39, 3: 39, 4: 55, _ATOM: 1000}


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


def _mark(k: int) -> str:
    """The k-th node that prints like an earlier one: x′, x″, x‴, then x⁽⁵⁾."""
    if k <= 4:
        return "′" * (k - 1) if k < 4 else "‴"
    return "⁽" + str(k).translate(str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")) + "⁾"


def names_and_precedence(graph: Graph, max_chars: int = NAME_MAX_CHARS
                         ) -> tuple[list[str], list[int]]:
    """A readable, unique name per node and how tightly it binds (printer precedence).

    The graph's naming table, ``readable`` view: the label, else the expression text up to
    ``max_chars``, else the node's name in ``backprop graph`` (v7), which the forward sweep
    then defines (``v7 = a*z*y*x*z + sin(a*z*x)``). The single unnamed output is ``f``."""
    table = name_table(graph)
    readable, texts = table.readable(max_chars), table.texts(max_chars)
    out = output_name(graph)
    out_id = graph.outputs[0] if out is not None else -1
    names: list[str] = []
    precedence: list[int] = []
    seen: dict[str, int] = {}
    for i, node in enumerate(graph.nodes):
        name = out if i == out_id else readable[i]
        if node.label is not None:
            prec = 3 if name.startswith("-") else _ATOM
        elif i != out_id and texts[i] is not None:
            prec = OPS[node.op].precedence
        else:
            prec = _ATOM
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
    """An op applied to texts of given precedence, with the fewest parentheses (the
    printer's rule: ``printer.compose``)."""
    return compose(op_name, args, spaced)[0]


def _number_precedence(text: str) -> int:
    return 3 if text.startswith("-") else _ATOM


def _same_text(formula: str, number: Any) -> bool:
    """Whether a symbolic number would only repeat the formula (x^2 vs x**2)."""
    def norm(s: str) -> str:
        return s.replace("**", "^").replace(" ", "")
    return norm(formula) == norm(str(number))
