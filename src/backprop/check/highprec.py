"""High-precision differences: a reference derivative from the op table's values only
(no symbolic expression, no chain rule), for graphs too large for SymPy and for the
one-sided derivatives behind a note."""

from __future__ import annotations

import math

from backprop.engine.graph import Graph

MP_DIGITS = 80  # working precision of the high-precision differences


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

    def compare(test):
        return _compare_numbers(nan, test)

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
        pi=mpmath.pi,
        max=lambda a, b: a if a >= b else b if b > a else nan,
        min=lambda a, b: a if a <= b else b if b < a else nan,
        lt=compare(lambda a, b: a < b), le=compare(lambda a, b: a <= b),
        gt=compare(lambda a, b: a > b), ge=compare(lambda a, b: a >= b),
        where=lambda c, a, b: a if c > 0 else b if c == 0 else nan,
        atan2=mpmath.atan2, hypot=mpmath.hypot, floor=mpmath.floor, ceil=mpmath.ceil,
        erf=mpmath.erf, expm1=lambda a: mpmath.expm1(a) if a < EXP_LIMIT else inf,
        log1p=lambda a: mpmath.log1p(a) if a > -1 else (-inf if a == -1 else nan),
    )


def _compare_numbers(nan, test):
    """A comparison as the float backend makes it: 1, 0, or nan for nan."""
    return lambda a, b: nan if a != a or b != b else (1 if test(a, b) else 0)


def _kinked(op: str, B, here, args) -> bool:
    """The node is on a kink of its op (the op table's kink set; where's condition)."""
    from backprop.engine.ops import OPS

    rule = OPS[op].kink
    return rule is not None and rule(B, here, *args) is not None
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
            elif len(args) == 1:
                m0 = get(args[0])
                if m0 is None:
                    continue
                moved = [m0]
            else:
                moved = [get(a) for a in args]
                if not any(moved):
                    continue
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
                if _kinked(op, B, here, args):
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
