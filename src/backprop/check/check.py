"""The independent check: a reference derivative that never uses our chain rule.

On a small graph SymPy differentiates the graph's own expression (each op's ``value`` on
the SymPy backend, never the user's text). On a large one, where that expression would
swell, central differences in high precision (mpmath) with Richardson extrapolation
evaluate the op table's values only. Either way a wrong partial in the op table or a bug
in a sweep shows up as a disagreement. ``check`` runs in a side process killed at its
deadline, samples variables on large graphs, and its verdict is pass, fail or skipped
with the reason; where IEEE arithmetic made our result nan or inf but the derivative
exists, a note says at which node and what the true value is.
"""

from __future__ import annotations

import math
import random
import signal
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field

from backprop.check import sympy_side
from backprop.engine.graph import Graph
from backprop.limits import Limits

DEFAULT_RTOL = 1e-9
DEFAULT_ATOL = 1e-12
MAX_CHECKED_VARIABLES = 20
SYMPY_MAX_NODES = 400  # beyond this (or FORMULA_MAX_DEPTH, or SYMPY_MAX_TREE), differences
# nodes of the expression written out as a tree (shared nodes again) times the variables
# checked: SymPy takes about a second per 1,000 (a 3-layer net of 8 parameters: 1,064)
SYMPY_MAX_TREE = 1_000
QUICK = 1.0  # seconds for one side question (is this value finite?) inside the check
MP_DIGITS = 80  # working precision of the high-precision differences
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


@dataclass
class CheckResult:
    status: str  # "pass", "fail" or "skipped"
    method: str  # how it was checked, in words
    reason: str = ""  # why it failed or was skipped
    max_error: float | None = None  # largest relative difference (the verdict's figure)
    checked: list[str] = field(default_factory=list)  # the variables that were checked
    max_abs_error: float | None = None  # largest |ours - reference|
    # where ours is not finite by IEEE arithmetic but the derivative exists: one dict each
    # (entry, ours, met, node, true, by, text), see docs/json.md
    notes: list[dict] = field(default_factory=list)

    def differences(self) -> str:
        """The figures behind the verdict: ``largest relative difference 2e-16`` (and the
        absolute one where it is not the same number), or "" where none were compared."""
        if self.max_error is None:
            return ""
        text = f"largest relative difference {self.max_error:.3g}"
        if self.max_abs_error is not None and f"{self.max_abs_error:.3g}" != \
                f"{self.max_error:.3g}":
            text += f", absolute {self.max_abs_error:.3g}"
        return text


CheckTimeout = sympy_side.TimedOut  # what the in-process timer raises, as the side does


@contextmanager
def time_limit(seconds: float):
    """Raise CheckTimeout after ``seconds`` (a no-op off the main thread or without
    SIGALRM; C code that never returns to Python is not interrupted: sympy_side kills)."""
    if seconds <= 0 or not hasattr(signal, "setitimer") \
            or threading.current_thread() is not threading.main_thread():
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
    from backprop.engine.backends import symbolic
    from backprop.engine.evaluate import evaluate

    return evaluate(graph, symbols_for(graph), symbolic(), sympy_constant)


def close(ours: float, reference: float, rtol: float, atol: float) -> bool:
    return abs(ours - reference) <= atol + rtol * abs(reference)


def _sample(names: list[str], seed: int = 0) -> list[str]:
    if len(names) <= MAX_CHECKED_VARIABLES:
        return names
    return sorted(random.Random(seed).sample(names, MAX_CHECKED_VARIABLES), key=names.index)


def sympy_fits(graph: Graph, checked: int = 1) -> bool:
    """SymPy's diff is the reference where the expression is small (see ``_too_large``)."""
    return not _too_large(graph, checked)


def _too_large(graph: Graph, checked: int) -> str:
    """Why the expression is too large for SymPy ("" if it is not): many nodes, deep, or a
    tree form (every shared node written out again) that swells, times the number of
    ``checked`` variables (SymPy differentiates and evaluates it once for each)."""
    if len(graph) > SYMPY_MAX_NODES:
        return f"{len(graph):,} nodes"
    if graph.depth > FORMULA_MAX_DEPTH:
        return f"{graph.depth:,} operations deep"
    tree = max(sum(graph.paths_to(out)) for out in graph.outputs)
    if tree * checked > SYMPY_MAX_TREE:
        return f"{tree:,} nodes as a tree, for {checked} variable(s)"
    return ""


def check(graph: Graph, wrt: list[str], jacobian: list[list], point: dict | None, *,
          rtol: float = DEFAULT_RTOL, atol: float = DEFAULT_ATOL,
          timeout: float = Limits.check_timeout) -> CheckResult:
    """``compare``, in a side process killed after ``timeout`` seconds."""
    try:
        return sympy_side.run(compare, graph, wrt, jacobian, point, rtol, atol,
                              timeout=timeout)
    except (sympy_side.TimedOut, sympy_side.Died) as error:
        return unfinished(error, graph, wrt, point, timeout)


def unfinished(error, graph: Graph, wrt: list[str], point: dict | None,
               timeout: float) -> CheckResult:
    """The verdict when the side process timed out or died: the gradient stands, unchecked."""
    if isinstance(error, sympy_side.TimedOut):
        return timed_out(method_for(graph, wrt, point), timeout)
    return CheckResult("skipped", method_for(graph, wrt, point), str(error))


def timed_out(method: str, timeout: float) -> CheckResult:
    """The verdict when the check's deadline passed: the gradient stands, unchecked."""
    more = max(60, 6 * math.ceil(timeout))
    return CheckResult("skipped", method, f"the check did not finish within {timeout:g} s, "
                                          "so this gradient is not checked; give it more time "
                                          f"with --check-timeout {more}")


def method_for(graph: Graph, wrt: list[str], point: dict | None) -> str:
    """The check's method, in words, as ``compare`` will choose it."""
    checked = _sample(list(wrt))
    if point is None:
        method = "sympy.diff of the graph's expression, compared symbolically"
    elif not (why := _too_large(graph, len(checked))):
        method = "sympy.diff of the graph's expression, evaluated at the point"
    else:
        method = (f"central differences in {MP_DIGITS}-digit arithmetic (mpmath) with "
                  f"Richardson extrapolation (too large for SymPy: {why})")
    if len(checked) < len(wrt):
        method += f" (a sample of {len(checked)} of {len(wrt):,} variables)"
    return method


def compare(graph: Graph, wrt: list[str], jacobian: list[list], point: dict | None,
            rtol: float = DEFAULT_RTOL, atol: float = DEFAULT_ATOL) -> CheckResult:
    """Compare our Jacobian (floats at ``point``, or SymPy formulas) with a reference that
    does not use our chain rule: SymPy's diff on small graphs, high-precision differences
    on large ones. No time limit here: ``check`` runs this under one."""
    checked = _sample(list(wrt))
    method = method_for(graph, wrt, point)
    try:
        if point is None:
            return _check_symbolic(graph, wrt, checked, jacobian, rtol, atol, method)
        if sympy_fits(graph, len(checked)):
            return _check_numeric(graph, wrt, checked, jacobian, point, rtol, atol, method)
        return _check_differences(graph, wrt, checked, jacobian, point, rtol, atol, method)
    except RecursionError:
        return CheckResult("skipped", method, "the expression is too deep for SymPy",
                           checked=checked)
    except MemoryError:
        return CheckResult("skipped", method, "the reference value is too large to compute "
                           "(a number such as e^(e^(5e11)) on the way)", checked=checked)
    except (ArithmeticError, ValueError, TypeError) as error:
        why = str(error) or type(error).__name__
        return CheckResult("skipped", method, f"SymPy could not evaluate it ({why})",
                           checked=checked)


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


def _evalf(expr, subs) -> float:
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
            return math.isfinite(_evalf(expr, subs))
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


def _check_numeric(graph, wrt, checked, jacobian, point, rtol, atol, method) -> CheckResult:
    import sympy

    from backprop.engine.evaluate import evaluate

    values = evaluate(graph, point)
    entries = []
    for o, name, reference, symbols, output in _references(graph, checked, point):
        subs = {symbols[k]: sympy.Float(v, 30) for k, v in point.items() if k in symbols}
        expected, by = _evalf(reference, subs), "SymPy's diff"
        ours = float(jacobian[o][wrt.index(name)])
        if not math.isfinite(expected) and not math.isfinite(ours):
            expected, by = _limit(reference, symbols[name], point[name], subs)
            expected = expected if math.isfinite(expected) else _evalf(reference, subs)
        if not math.isfinite(expected) and math.isfinite(ours):
            # SymPy has no number here (0**x*log(0) for d(0^x)/dx): the differences may
            estimate = differences(graph, [name], point)[o, name][0]
            if math.isfinite(estimate):
                expected, by = estimate, "high-precision differences"
        defined = math.isfinite(values[graph.outputs[o]]) or _finite_soon(output, subs)
        entries.append((o, name, ours, expected, by, defined))
    if any(entry[4] == "high-precision differences" for entry in entries):
        method += "; high-precision differences where SymPy gives no number"
    return _verdict(graph, point, entries, rtol, atol, method, checked)


def _verdict(graph, point, entries, rtol, atol, method, checked) -> CheckResult:
    """pass, fail or skipped from (output, variable, ours, reference, how the reference was
    found, the output is finite there) per checked entry.

    An output that is not finite (or not real) has no derivative to compare. Where ours is
    not finite but the reference is, IEEE arithmetic in the chain rule is the cause, and the
    note says at which node and what the true derivative is.
    """
    from backprop.engine.evaluate import evaluate
    from backprop.engine.modes import relative_difference

    values = None
    worst = worst_abs = 0.0
    skipped, notes = 0, []
    for o, name, ours, expected, by, defined in entries:
        label = f"d{graph.output_names[o] if len(graph.outputs) > 1 else 'f'}/d{name}"
        if not defined:
            skipped += 1
            continue
        if math.isfinite(expected) and not math.isfinite(ours):
            if values is None:
                values = evaluate(graph, point)
            notes.append(_note(graph, values, o, name, label, ours, expected, by,
                               one_sided(graph, point, o, name)))
            continue
        if not (math.isfinite(expected) and math.isfinite(ours)):
            if expected != ours:  # nan on either side, or infinities that differ
                skipped += 1
            continue
        worst = max(worst, relative_difference(ours, expected))
        worst_abs = max(worst_abs, abs(ours - expected))
        if not close(ours, expected, rtol, atol):
            return CheckResult("fail", method, f"{label}: ours {ours!r}, {by} {expected!r}",
                               worst, checked, worst_abs, notes)
    reasons = []
    for kind, why in (("exists", "are not finite by IEEE arithmetic although the derivative "
                                 "exists"),
                      ("kink", "have no derivative at this point: the one-sided derivatives "
                               "differ"),
                      ("unconfirmed", "are not finite, and no finite derivative could be "
                                      "confirmed there")):
        count = sum(1 for note in notes if note["kind"] == kind)
        if count:
            reasons.append(f"{count} partial(s) {why} (see the notes)")
    if skipped:
        reasons.append(f"{skipped} partial(s) are not finite at this point (or their output "
                       "is not), so they cannot be compared")
    status = "skipped" if reasons else "pass"
    return CheckResult(status, method, "; ".join(reasons), worst, checked, worst_abs, notes)


def _note(graph, values, o, name, label, ours, expected, by, sides) -> dict:
    """What the chain rule met on the way to a non-finite ``label``, and what is true there.

    The reference (SymPy's diff or limit) is stated as the true derivative only where the
    one-sided difference quotients confirm it (one side may lie outside the domain); where
    both sides are finite and differ there is no derivative (a kink, |x| at 0); otherwise
    nothing is claimed (SymPy's number is shown, unconfirmed).
    """
    from backprop.engine.modes import relative_difference

    wrt = graph.inputs[graph.input_names.index(name)]
    met, node = chain_rule_trouble(graph, values, graph.outputs[o], wrt, ours)
    where = ""
    if node is not None:
        from backprop.engine.printer import node_texts

        text, name = node_texts(graph, 60)[node], graph.name(node)
        where = name + (f" = {text}" if text and text != name else "")
    finite = [side for side in sides if math.isfinite(side)]
    if len(finite) == 2 and relative_difference(*finite) > 1e-9:
        kind = "kink"
    elif finite and all(relative_difference(side, expected) <= 1e-6 for side in finite):
        kind = "exists"
    else:
        kind = "unconfirmed"
    text = f"{label}: the chain rule met {met}" + (f" at {where}" if where else "") \
        + f", so it gives {ours!r}; "
    left, right = (f"{side:.6g}" for side in sides)
    text += {
        "exists": f"the true derivative ({by}) is {expected!r}",
        "kink": f"no derivative exists here: from the left it is {left}, from the right "
                f"{right} ({by} gives {expected!r})",
        "unconfirmed": f"{by} gives {expected!r}, but high-precision differences do not "
                       f"confirm a finite derivative here (from the left {left}, from the "
                       f"right {right})",
    }[kind]
    return {"entry": label, "ours": ours, "met": met, "node": where, "kind": kind,
            "true": expected if kind == "exists" else None, "by": by,
            "one_sided": list(sides), "text": text}


def chain_rule_trouble(graph: Graph, values: list, output: int, wrt: int,
                       ours: float) -> tuple[str, int | None]:
    """Where IEEE arithmetic in the reverse sweep first made a ``nan`` (``ours`` nan) or an
    infinity (``ours`` inf) on the way from ``output`` to input ``wrt``: what, and the node.

    This re-runs our own sweep to explain a result, never to check one."""
    from backprop.engine.evaluate import local_partials

    active = graph.depends_on([wrt])
    adjoint: dict[int, float] = {output: 1.0}
    first_inf = None
    for i in range(output, -1, -1):
        a = adjoint.get(i)
        node = graph.nodes[i]
        if a is None or not node.args:
            continue
        for arg, p in zip(node.args, local_partials(graph, values, i)):
            if not active[arg]:
                continue
            p = float(p)
            term = p * a
            if term != term and a == a:
                if p != p:
                    kind = "inf/inf" if math.isinf(values[i] or 0.0) else "0/0"
                    return f"nan (a {kind} in the value or partial)", i
                return "0·inf", i
            if math.isinf(term) and first_inf is None:
                first_inf = ("an infinite partial", i)
            old = adjoint.get(arg)
            new = term if old is None else old + term
            if new != new and old == old and term == term:
                return "inf−inf", arg
            adjoint[arg] = new
    if ours != ours or first_inf is None:
        return "nan", None
    return first_inf


def _mp_backend():
    """The op table's functions on mpmath numbers, with the float backend's IEEE rules:
    real results only (nan outside the domain), log(0) = -inf, 1/0 = inf."""
    import mpmath

    nan, inf = mpmath.mpf("nan"), mpmath.mpf("inf")

    def real(fn):
        def safe(*args):
            try:
                result = fn(*args)
            except (ValueError, ZeroDivisionError):
                return nan
            return nan if isinstance(result, mpmath.mpc) else result

        return safe

    def div(a, b):
        if b == 0:
            return nan if a == 0 or a != a else mpmath.sign(a) * inf
        return a / b

    def pow_(a, b):
        if a == 0 and b < 0:
            return inf
        return real(lambda x, y: x ** y)(a, b)

    def log(a):
        return mpmath.log(a) if a > 0 else (-inf if a == 0 else nan)

    def exp(a):  # e^(1e8) has 1.4e8 bits: past that, a number too large to write is inf
        return inf if a > EXP_LIMIT else mpmath.mpf(0) if a < -EXP_LIMIT else mpmath.exp(a)

    def huge(fn, sign):  # sinh, cosh past EXP_LIMIT: infinite, with the sign they take
        return lambda a: (sign(a) * inf if abs(a) > EXP_LIMIT else fn(a)) if a == a else nan

    from types import SimpleNamespace

    return SimpleNamespace(
        name="mpmath", one=mpmath.mpf(1), div=div, pow=pow_, log=log,
        exp=exp, sqrt=lambda a: mpmath.sqrt(a) if a >= 0 else nan,
        sin=mpmath.sin, cos=mpmath.cos, tan=real(mpmath.tan),
        asin=lambda a: mpmath.asin(a) if -1 <= a <= 1 else nan,
        acos=lambda a: mpmath.acos(a) if -1 <= a <= 1 else nan,
        atan=mpmath.atan, sinh=huge(mpmath.sinh, mpmath.sign),
        cosh=huge(mpmath.cosh, lambda a: 1), tanh=mpmath.tanh,
        abs=abs, sign=mpmath.sign, sigmoid=lambda a: 1 / (1 + exp(-a)),
        relu=lambda a: a if a > 0 else (a if a != a else 0 * a),
        step=lambda a: mpmath.mpf(1) if a > 0 else (nan if a != a else mpmath.mpf(0)),
        times=lambda z, x: 0 * z if z == 0 else z * x,
    )


KINKS = ("abs", "relu")  # ops whose derivative at 0 is a convention, not a limit
EXP_LIMIT = 10**8  # exp beyond this is out of any memory in high precision
_STEPS = (1, -1, 0.5, -0.5)  # x + s*h: central differences at h and h/2


def differences(graph: Graph, names: list[str], point: dict) -> dict[tuple[int, str], tuple]:
    """d(output o)/d(name) by central differences in high precision, from values only.

    Each checked input is moved by +-h and +-h/2 (h = 1e-30 relative) and the change of
    every node that depends on it is propagated in ``MP_DIGITS``-digit arithmetic, node by
    node in topological order; other nodes keep their float values. A sum passes a change
    through untouched, so a long sum costs a dict lookup per node. Richardson extrapolation
    combines h and h/2. Returns (estimate, output defined there, at a kink, the one-sided
    difference quotients from the left and the right) per entry.
    """
    import mpmath

    from backprop.engine.evaluate import evaluate
    from backprop.engine.ops import OPS

    values = evaluate(graph, point)
    nodes = graph.nodes
    with mpmath.workdps(MP_DIGITS):
        B = _mp_backend()
        mpf = mpmath.mpf
        base: dict[int, object] = {}  # high-precision values of the nodes that move
        change: dict[int, dict] = {}  # node -> name -> its change at each step
        step, kinked = {}, set()
        position = dict(zip(graph.input_names, graph.inputs))
        for name in names:
            i = position[name]
            x = mpf(point[name])
            step[name] = mpf(10) ** -30 * max(1, abs(x))
            base[i] = x
            change[i] = {name: [s * step[name] for s in _STEPS]}

        def at(a):
            return base[a] if a in base else mpf(values[a])

        first = min((position[n] for n in names), default=0)
        get = change.get
        for i in range(first, len(nodes)):
            op, args = nodes[i][:2]
            if not args:
                continue
            # the common case first, cheaply: nothing that this node reads has moved
            if len(args) == 2:
                m0, m1 = get(args[0]), get(args[1])
                if m0 is None and m1 is None:
                    continue
                moved = [m0, m1]
            else:
                m0 = get(args[0])
                if m0 is None:
                    continue
                moved = [m0]
            node = nodes[i]
            if op in ("add", "sub", "neg"):
                sign = (1, -1) if op == "sub" else (-1,) if op == "neg" else (1, 1)
                if len(moved) == 1 or not (moved[0] and moved[1]):
                    k = 0 if moved[0] else 1
                    change[i] = moved[k] if sign[k] == 1 else \
                        {n: [-d for d in row] for n, row in moved[k].items()}
                else:
                    merged = {n: list(row) for n, row in moved[0].items()}
                    for n, row in moved[1].items():
                        old = merged.get(n, [0, 0, 0, 0])
                        merged[n] = [u + sign[1] * d for u, d in zip(old, row)]
                    change[i] = merged
                if not math.isfinite(values[i]):
                    base[i] = OPS[op].value(B, *(at(a) for a in node.args))
                continue
            args = [at(a) for a in node.args]
            here = OPS[op].value(B, *args)
            base[i] = here
            out = {}
            for name in {n for m in moved if m for n in m}:
                if op in KINKS and args[0] == 0:
                    kinked.add(name)
                rows = [m.get(name) if m else None for m in moved]
                out[name] = [OPS[op].value(B, *(x + r[k] if r else x for x, r in
                                                 zip(args, rows))) - here for k in range(4)]
            change[i] = out
        result = {}
        for o, out in enumerate(graph.outputs):
            defined = bool(mpmath.isfinite(at(out)))
            for name in names:
                row = change.get(out, {}).get(name)
                if row is None:
                    estimate = 0.0
                else:
                    h = step[name]
                    d1 = (row[0] - row[1]) / (2 * h)
                    d2 = (row[2] - row[3]) / h
                    estimate = float((4 * d2 - d1) / 3)
                    sides = (_side(-row[1] / h), _side(row[0] / h))
                result[o, name] = (estimate, defined, name in kinked,
                                   (estimate, estimate) if row is None else sides)
    return result


def _side(quotient) -> float:
    """A one-sided difference quotient as a float (nan outside the domain or where complex)."""
    import mpmath

    try:
        return float(quotient) if mpmath.isfinite(quotient) else math.nan
    except TypeError:  # a complex number: that side is outside the real domain
        return math.nan


def one_sided(graph: Graph, point: dict, output: int, name: str) -> tuple[float, float]:
    """The difference quotients from the left and the right (nan where that side is outside
    the domain or the change cannot be followed)."""
    return differences(graph, [name], point)[output, name][3]


def _check_differences(graph, wrt, checked, jacobian, point, rtol, atol,
                       method) -> CheckResult:
    found = differences(graph, checked, point)
    entries, kinks = [], 0
    for (o, name), (estimate, defined, kinked, _) in found.items():
        if kinked:  # abs or relu exactly at 0 on the way: the convention, not a limit
            kinks += 1
            continue
        entries.append((o, name, float(jacobian[o][wrt.index(name)]), estimate,
                        "high-precision differences", defined))
    result = _verdict(graph, point, entries, rtol, atol, method, checked)
    if kinks and result.status == "pass":
        result.status = "skipped"
        result.reason = (f"{kinks} partial(s) pass through abs or relu exactly at 0, where "
                         "the derivative is a convention (0), so differences cannot check them")
    return result


def _check_symbolic(graph, wrt, checked, jacobian, rtol, atol, method) -> CheckResult:
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
