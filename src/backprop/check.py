"""The independent check: SymPy differentiates the graph's own expression and we compare.

The SymPy expression is built from the Graph (each op's ``value`` on the SymPy backend),
never from the user's text; only the *derivative* comes from SymPy, so a wrong partial in
the op table or a bug in a sweep shows up as a disagreement. The check runs in bounded
time (a SIGALRM timer), samples variables on large graphs, and its verdict is
pass, fail or skipped with the reason.
"""

from __future__ import annotations

import math
import random
import signal
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field

from .graph import Graph

DEFAULT_TIMEOUT = 10.0
DEFAULT_RTOL = 1e-9
DEFAULT_ATOL = 1e-12
MAX_CHECKED_VARIABLES = 20
# SymPy builds, prints and differentiates expressions recursively: past this depth Python's
# stack overflows, so formulas stop here (numbers at a point have no such limit).
FORMULA_MAX_DEPTH = 100


def check_formula_depth(graph: Graph) -> None:
    """Refuse formulas (exit 3) for a graph too deep for SymPy, before any work."""
    if graph.depth > FORMULA_MAX_DEPTH:
        from .errors import LimitError

        raise LimitError(f"the expression is {graph.depth:,} operations deep; formulas are "
                         f"shown up to a depth of {FORMULA_MAX_DEPTH} (SymPy works "
                         "recursively)", hint="give a point for numbers: --at x=1,...")


@dataclass
class CheckResult:
    status: str  # "pass", "fail" or "skipped"
    method: str  # how it was checked, in words
    reason: str = ""  # why it failed or was skipped
    max_error: float | None = None  # largest |ours - reference| seen, where numeric
    checked: list[str] = field(default_factory=list)  # the variables that were checked


class CheckTimeout(Exception):
    pass


@contextmanager
def time_limit(seconds: float):
    """Raise CheckTimeout after ``seconds`` (a no-op off the main thread)."""
    if seconds <= 0 or threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(signum, frame):
        raise CheckTimeout()

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


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
    from .backends import symbolic
    from .evaluate import evaluate

    return evaluate(graph, symbols_for(graph), symbolic(), sympy_constant)


def _close(ours: float, reference: float, rtol: float, atol: float) -> bool:
    return abs(ours - reference) <= atol + rtol * abs(reference)


def _sample(names: list[str], seed: int = 0) -> list[str]:
    if len(names) <= MAX_CHECKED_VARIABLES:
        return names
    return sorted(random.Random(seed).sample(names, MAX_CHECKED_VARIABLES), key=names.index)


def check(graph: Graph, wrt: list[str], jacobian: list[list], point: dict | None, *,
          rtol: float = DEFAULT_RTOL, atol: float = DEFAULT_ATOL,
          timeout: float = DEFAULT_TIMEOUT) -> CheckResult:
    """Compare our Jacobian (floats at ``point``, or SymPy formulas) with sympy.diff."""
    checked = _sample(list(wrt))
    method = "sympy.diff of the graph's expression, " + (
        "evaluated at the point" if point is not None else "compared symbolically")
    if len(checked) < len(wrt):
        method += f" (a sample of {len(checked)} of {len(wrt)} variables)"
    try:
        with time_limit(timeout):
            if point is not None:
                return _check_numeric(graph, wrt, checked, jacobian, point, rtol, atol, method)
            return _check_symbolic(graph, wrt, checked, jacobian, rtol, atol, method)
    except CheckTimeout:
        return CheckResult("skipped", method, f"SymPy did not finish within {timeout:g} s "
                                               "(raise --check-timeout)", checked=checked)
    except RecursionError:
        return CheckResult("skipped", method, "the expression is too deep for SymPy",
                           checked=checked)
    except (ArithmeticError, ValueError, TypeError) as error:
        why = str(error) or type(error).__name__
        return CheckResult("skipped", method, f"SymPy could not evaluate it ({why})",
                           checked=checked)


def _references(graph: Graph, checked: list[str], point: dict | None = None):
    """SymPy's derivative of each output by each checked variable.

    At a point, the variables that are not checked enter as 30-digit numbers rather than
    symbols, so SymPy folds every subexpression that does not depend on a checked variable:
    on a large graph the expression it differentiates stays small.
    """
    import sympy

    from .backends import symbolic
    from .evaluate import evaluate

    symbols = {name: sympy.Symbol(name, real=True) for name in checked}
    inputs = {name: symbols[name] if name in symbols or point is None
              else sympy.Float(point[name], 30) for name in graph.input_names}
    if point is None:
        symbols = inputs
    exprs = evaluate(graph, inputs, symbolic(), sympy_constant)
    for o, out in enumerate(graph.outputs):
        for name in checked:
            yield o, name, sympy.diff(exprs[out], symbols[name]), symbols


def _evalf(expr, subs) -> float:
    """SymPy's value at a point as a float; nan where SymPy cannot give a real number."""
    try:
        return float(expr.evalf(30, subs=subs))
    except (TypeError, ValueError, OverflowError, ZeroDivisionError):
        return math.nan


def _check_numeric(graph, wrt, checked, jacobian, point, rtol, atol, method) -> CheckResult:
    import sympy

    from .evaluate import evaluate

    values = evaluate(graph, point)
    # An output that is inf or nan here has no derivative to compare: SymPy folds x + oo to
    # oo (derivative 0) while IEEE sweeps give 1, so such entries count as not comparable.
    unbounded = {o for o, out in enumerate(graph.outputs) if not math.isfinite(values[out])}
    worst = 0.0
    skipped = 0
    for o, name, reference, symbols in _references(graph, checked, point):
        subs = {symbols[k]: sympy.Float(v, 30) for k, v in point.items() if k in symbols}
        expected = _evalf(reference, subs)
        ours = float(jacobian[o][wrt.index(name)])
        if o in unbounded:
            skipped += 1
            continue
        if not (math.isfinite(expected) and math.isfinite(ours)):
            if expected != ours:  # nan on either side, or infinities that differ
                skipped += 1
            continue
        worst = max(worst, abs(ours - expected))
        if not _close(ours, expected, rtol, atol):
            label = graph.output_names[o] if len(graph.outputs) > 1 else "f"
            return CheckResult("fail", method, f"d{label}/d{name}: ours {ours!r}, "
                                               f"SymPy {expected!r}", worst, checked)
    if skipped:
        return CheckResult("skipped", method, f"{skipped} partial(s) are not finite at this "
                                              "point (or their output is not), so they cannot "
                                              "be compared", worst, checked)
    return CheckResult("pass", method, "", worst, checked)


def _check_symbolic(graph, wrt, checked, jacobian, rtol, atol, method) -> CheckResult:
    import sympy

    rng = random.Random(0)
    for o, name, reference, symbols in _references(graph, checked):
        difference = jacobian[o][wrt.index(name)] - reference
        if sympy.simplify(difference) == 0:
            continue
        # Simplification did not settle it: compare at random points inside the domain.
        compared = 0
        for _ in range(12):
            subs = {s: sympy.Float(rng.uniform(0.1, 0.9), 30) for s in symbols.values()}
            value = _evalf(difference, subs)
            if math.isfinite(value):
                compared += 1
                scale = abs(_evalf(reference, subs))
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
