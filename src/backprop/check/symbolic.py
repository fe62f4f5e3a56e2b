"""SymPy's side of the check: the graph's own expression (each op's ``value`` on the SymPy
backend, never the user's text), SymPy's diff of it, and the two checks made with it:
symbolic (formulas, no point) and numeric (evaluated at the point)."""

from __future__ import annotations

import math
import random

from backprop.check.deadline import QUICK, CheckTimeout, time_limit
from backprop.check.highprec import differences
from backprop.check.verdict import CheckResult, verdict
from backprop.engine.graph import Graph

# SymPy builds, prints and differentiates expressions recursively: past this depth Python's
# stack overflows, so formulas stop here (numbers at a point have no such limit).
FORMULA_MAX_DEPTH = 100


def check_formula_depth(graph: Graph) -> None:
    """Refuse formulas (exit 3) for a graph too deep for SymPy, before any work."""
    if graph.depth > FORMULA_MAX_DEPTH:
        from backprop.errors import LimitError

        raise LimitError(f"the expression is {graph.depth:,} operations deep; formulas are "
                         f"shown up to a depth of {FORMULA_MAX_DEPTH} (SymPy works "
                         "recursively)", hint="give a point for numbers: --at x=1,...")


def sympy_constant(node):
    """A const node as an exact SymPy number where that is cheap (2, -1/2, pi, e)."""
    import sympy

    text = node.label
    sign = -1 if text.startswith("-") else 1
    text = text.lstrip("-").lower()
    if text in ("pi", "e"):
        return sign * (sympy.pi if text == "pi" else sympy.E)
    if len(text) <= 40 and "e" not in text:  # a plain decimal: exact
        from fractions import Fraction

        fraction = Fraction(text)
        return sign * sympy.Rational(fraction.numerator, fraction.denominator)
    return sympy.Float(node.const)


def symbols_for(graph: Graph) -> dict[str, object]:
    """One real SymPy symbol per input name (``I`` or ``E`` stay plain variables)."""
    import sympy

    return {name: sympy.Symbol(name, real=True) for name in graph.input_names}


def symbolic_values(graph: Graph) -> list:
    """Every node as a SymPy expression, from the op table's value formulas."""
    from backprop.engine.backends import symbolic
    from backprop.engine.evaluate import evaluate

    return evaluate(graph, symbols_for(graph), symbolic(), sympy_constant)


def _references(graph: Graph, checked: list[str], point: dict | None = None):
    """SymPy's derivative of each output by each checked variable, with the output itself.

    At a point, the variables that are not checked enter as 30-digit numbers rather than
    symbols, so SymPy folds every subexpression that does not depend on a checked variable:
    on a large graph the expression it differentiates stays small.
    """
    import sympy

    from backprop.engine.backends import symbolic
    from backprop.engine.evaluate import evaluate

    symbolic_names = checked if point is not None else graph.input_names  # all, without a point
    symbols = {name: sympy.Symbol(name, real=True) for name in symbolic_names}
    inputs = {name: symbols[name] if name in symbols or point is None
              else sympy.Float(point[name], 30) for name in graph.input_names}
    if point is None:
        symbols = inputs
    exprs = evaluate(graph, inputs, symbolic(), sympy_constant)
    for o, out in enumerate(graph.outputs):
        for name in checked:
            yield o, name, sympy.diff(exprs[out], symbols[name]), symbols, exprs[out]


def evalf(expr, subs) -> float:
    """SymPy's value at a point as a float; nan where SymPy cannot give a real number."""
    try:
        return float(expr.evalf(30, subs=subs))
    except (TypeError, ValueError, OverflowError, ZeroDivisionError):
        return math.nan


def _finite_soon(expr, subs) -> bool:
    """SymPy's value is a finite real number, found within ``QUICK`` seconds (else False:
    e^(e^(e^27)) is finite, but evaluating it never ends)."""
    try:
        with time_limit(QUICK):
            return math.isfinite(evalf(expr, subs))
    except CheckTimeout:
        return False


def _limit(expr, symbol, at: float, subs) -> tuple[float, str]:
    """SymPy's limit of ``expr`` as ``symbol`` -> ``at`` (both sides, else from above)."""
    import sympy

    expr = expr.subs({s: v for s, v in subs.items() if s != symbol})
    for direction, how in (("+-", "SymPy's limit"), ("+", "SymPy's limit from above")):
        try:
            value = float(sympy.limit(expr, symbol, sympy.Rational(at), dir=direction))
        except (TypeError, ValueError, OverflowError, ZeroDivisionError, NotImplementedError):
            continue
        if math.isfinite(value):
            return value, how
    return math.nan, ""


def check_numeric(graph, wrt, checked, jacobian, point, rtol, atol, method) -> CheckResult:
    import sympy

    from backprop.engine.evaluate import evaluate

    values = evaluate(graph, point)
    entries = []
    for o, name, reference, symbols, output in _references(graph, checked, point):
        subs = {symbols[k]: sympy.Float(v, 30) for k, v in point.items() if k in symbols}
        expected, by = evalf(reference, subs), "SymPy's diff"
        ours = float(jacobian[o][wrt.index(name)])
        if not math.isfinite(expected) and not math.isfinite(ours):
            expected, by = _limit(reference, symbols[name], point[name], subs)
            expected = expected if math.isfinite(expected) else evalf(reference, subs)
        if not math.isfinite(expected) and math.isfinite(ours):
            # SymPy has no number here (0**x*log(0) for d(0^x)/dx): the differences may
            estimate = differences(graph, [name], point)[o, name][0]
            if math.isfinite(estimate):
                expected, by = estimate, "high-precision differences"
        defined = math.isfinite(values[graph.outputs[o]]) or _finite_soon(output, subs)
        entries.append((o, name, ours, expected, by, defined))
    if any(entry[4] == "high-precision differences" for entry in entries):
        method += "; high-precision differences where SymPy gives no number"
    return verdict(graph, point, entries, rtol, atol, method, checked)


def check_symbolic(graph, wrt, checked, jacobian, rtol, atol, method) -> CheckResult:
    import sympy

    rng = random.Random(0)
    for o, name, reference, symbols, _ in _references(graph, checked):
        difference = jacobian[o][wrt.index(name)] - reference
        if sympy.simplify(difference) == 0:
            continue
        # Simplification did not settle it: compare at random points inside the domain.
        compared = 0
        for _ in range(12):
            subs = {s: sympy.Float(rng.uniform(0.1, 0.9), 30) for s in symbols.values()}
            value = evalf(difference, subs)
            if math.isfinite(value):
                compared += 1
                scale = abs(evalf(reference, subs))
                if abs(value) > atol + rtol * scale:
                    return CheckResult("fail", method, f"d/d{name} differs from SymPy's "
                                                       f"{reference} by {value:g} at a sample "
                                                       "point", checked=checked)
            if compared >= 3:
                break
        if compared == 0:
            return CheckResult("skipped", method, f"d/d{name}: simplification did not settle it "
                                                  "and no sample point was finite",
                               checked=checked)
        method = method.replace("compared symbolically",
                                "compared symbolically, else at random points")
    return CheckResult("pass", method, checked=checked)
