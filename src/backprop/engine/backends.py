"""Backends: the few functions the op table is written against.

``FLOAT`` follows IEEE 754 where Python's math module raises instead: log(0) is -inf,
1/0 is inf, sqrt(-1) is nan, exp(1000) is inf. No ValueError, ZeroDivisionError or
OverflowError ever leaves a primitive, so a bad point gives a non-finite number (and a
warning naming the node), not a traceback.

``symbolic()`` returns the SymPy backend; SymPy is imported only when it is asked for.
"""

from __future__ import annotations

import math
from types import SimpleNamespace

INF = math.inf
NAN = math.nan


def _guard(fn, on_error):
    """Wrap a math function so that a domain or range error becomes an IEEE value."""

    def safe(a):
        try:
            return fn(a)
        except (ValueError, OverflowError):
            return on_error(a)

    safe.__name__ = fn.__name__
    return safe


def _div(a, b):
    try:
        return a / b
    except ZeroDivisionError:
        if a != a or a == 0:
            return NAN
        return math.copysign(INF, a) * math.copysign(1.0, b)


def _pow(a, b):
    try:
        return math.pow(a, b)
    except OverflowError:
        if a < 0 and float(b).is_integer() and int(b) % 2 == 1:
            return -INF
        return INF
    except ValueError:  # 0 ** negative, or negative ** fraction
        if a == 0:
            return INF
        return NAN


def _log(a):
    if a > 0:
        return math.log(a)
    if a == 0:
        return -INF
    return NAN


def _sigmoid(a):
    if a >= 0:
        return 1.0 / (1.0 + math.exp(-a))
    z = math.exp(a)  # never overflows for a < 0
    return z / (1.0 + z)


def _sign(a):
    return 1.0 if a > 0 else -1.0 if a < 0 else 0.0 if a == 0 else NAN


def _compare(test):
    """A comparison as a number: 1.0 true, 0.0 false, nan when an operand is nan."""

    def compare(a, b):
        if a != a or b != b:
            return NAN
        return 1.0 if test(a, b) else 0.0

    return compare


def _where(c, a, b):
    """a where the condition c (a comparison's 1.0 or 0.0) holds, b where not, nan for nan."""
    return a if c > 0 else b if c == 0 else NAN


def _max(a, b):
    return a if a >= b else b if b > a else NAN  # a tie gives a; nan gives nan


def _min(a, b):
    return a if a <= b else b if b < a else NAN


def _hypot(x, y):
    """sqrt(x^2 + y^2) without overflow or underflow: m * sqrt(1 + (n/m)^2) with
    m = max(|x|, |y|), n = min(|x|, |y|); n/m is 1 where n = m (the origin, inf and inf).
    Written out (not math.hypot) so that the compiled core's f_hypot gives the same bits."""
    a, b = abs(x), abs(y)
    m, n = _max(a, b), _min(a, b)
    r = n / m if n < m else 1.0 if n == m else NAN
    return m * math.sqrt(1.0 + r * r)


def _whole(fn):
    """floor or ceil as C computes it: a float with a's sign (ceil(-0.5) is -0.0); inf
    and nan stay themselves (math raises on them)."""

    def whole(a):
        return math.copysign(float(fn(a)), a) if math.isfinite(a) else a

    whole.__name__ = fn.__name__
    return whole


FLOAT = SimpleNamespace(
    name="float",
    one=1.0,  # the seed of a sweep: a float, so that every derivative stays a float
    div=_div,
    pow=_pow,
    log=_log,
    exp=_guard(math.exp, lambda a: INF),
    sqrt=_guard(math.sqrt, lambda a: NAN),
    sin=_guard(math.sin, lambda a: NAN),
    cos=_guard(math.cos, lambda a: NAN),
    tan=_guard(math.tan, lambda a: NAN),
    asin=_guard(math.asin, lambda a: NAN),
    acos=_guard(math.acos, lambda a: NAN),
    atan=math.atan,
    sinh=_guard(math.sinh, lambda a: math.copysign(INF, a)),
    cosh=_guard(math.cosh, lambda a: INF),
    tanh=math.tanh,
    abs=abs,
    sign=_sign,
    sigmoid=_sigmoid,
    relu=lambda a: a if a > 0 else (a if a != a else 0.0),
    step=lambda a: 1.0 if a > 0 else (NAN if a != a else 0.0),
    # z * x where a zero factor z is an exact zero: 0 * inf is 0 (d(x^0)/dx at x = 0)
    times=lambda z, x: 0.0 if z == 0 else z * x,
    pi=math.pi,
    max=_max,
    min=_min,
    lt=_compare(lambda a, b: a < b),
    le=_compare(lambda a, b: a <= b),
    gt=_compare(lambda a, b: a > b),
    ge=_compare(lambda a, b: a >= b),
    where=_where,
    atan2=math.atan2,  # IEEE: atan2 never raises
    hypot=_hypot,
    floor=_whole(math.floor),
    ceil=_whole(math.ceil),
    erf=math.erf,
    log1p=_guard(math.log1p, lambda a: -INF if a == -1 else NAN),
    expm1=_guard(math.expm1, lambda a: INF),
)

_symbolic = None


def symbolic():
    """The SymPy backend (built on first use, so that numeric runs never import SymPy)."""
    global _symbolic
    if _symbolic is None:
        import sympy

        def sym_pow(a, b):
            # 10**10**10 would make SymPy build a ten-billion-digit integer: hand
            # oversized constant powers to IEEE floats instead.
            if a.is_Number and b.is_Number and (abs(b) > 256 or abs(a) > 2**64):
                return sympy.Float(_pow(float(a), float(b)))
            return a**b

        def sym_times(z, x):
            # As on floats, a zero factor is an exact zero (structural: symbols are not 0).
            # d(0^y)/dy = 0^y * log(0): 0 where y > 0, and 1 or inf times -inf = -inf else.
            if z == 0:
                return 0
            if x is sympy.zoo and z.is_Pow and z.base == 0:
                return sympy.Piecewise((0, z.exp > 0), (-sympy.oo, True))
            return z * x

        def sym_compare(relation):
            return lambda a, b: sympy.Piecewise((1, relation(a, b)), (0, True))

        def sym_where(c, a, b):
            # c is a comparison's Piecewise((1, cond), (0, True)): branch on cond itself
            if isinstance(c, sympy.Piecewise) and len(c.args) == 2 and c.args[0][0] == 1 \
                    and c.args[1] == (0, True):
                return sympy.Piecewise((a, c.args[0][1]), (b, True))
            return sympy.Piecewise((a, sympy.Gt(c, 0)), (b, True))

        def flat(function):
            # floor and ceiling with the derivative 0 where it is defined (SymPy leaves
            # Derivative(floor(x), x) unevaluated); they print as SymPy's own
            return type(function.__name__, (function,), {"fdiff": lambda self, i=1: sympy.S.Zero})

        _symbolic = SimpleNamespace(
            name="sympy",
            one=1,
            div=lambda a, b: a / b,
            pow=sym_pow,
            log=sympy.log,
            exp=sympy.exp,
            sqrt=sympy.sqrt,
            sin=sympy.sin,
            cos=sympy.cos,
            tan=sympy.tan,
            asin=sympy.asin,
            acos=sympy.acos,
            atan=sympy.atan,
            sinh=sympy.sinh,
            cosh=sympy.cosh,
            tanh=sympy.tanh,
            abs=sympy.Abs,
            sign=sympy.sign,
            sigmoid=lambda a: 1 / (1 + sympy.exp(-a)),
            relu=lambda a: sympy.Piecewise((a, a > 0), (0, True)),
            step=lambda a: sympy.Piecewise((1, a > 0), (0, True)),
            times=sym_times,
            pi=sympy.pi,
            max=sympy.Max,
            min=sympy.Min,
            lt=sym_compare(sympy.Lt),
            le=sym_compare(sympy.Le),
            gt=sym_compare(sympy.Gt),
            ge=sym_compare(sympy.Ge),
            where=sym_where,
            atan2=sympy.atan2,
            hypot=lambda x, y: sympy.sqrt(x * x + y * y),
            floor=flat(sympy.floor),
            ceil=flat(sympy.ceiling),
            erf=sympy.erf,
            log1p=lambda a: sympy.log(1 + a),
            expm1=lambda a: sympy.exp(a) - 1,
        )
    return _symbolic


_array = None


def array():
    """The numpy backend for array-valued nodes (network specs), built on first use.

    Elementwise, same IEEE results as ``FLOAT`` (log(0) = -inf, 1/0 = inf, no warnings:
    every call runs under ``np.errstate(all="ignore")``), so an op-table entry's value and
    partial serve a whole array at once. Also reachable as ``backends.ARRAY``.
    """
    global _array
    if _array is None:
        import numpy as np

        def quiet(fn):
            def safe(*args):
                with np.errstate(all="ignore"):
                    return fn(*args)

            safe.__name__ = getattr(fn, "__name__", "op")
            return safe

        def sigmoid(a):
            e = np.exp(-np.abs(a))  # never overflows
            return np.where(a >= 0, 1.0 / (1.0 + e), e / (1.0 + e))

        def compare(test):
            def numbers(a, b):
                unknown = np.isnan(a) | np.isnan(b)
                return np.where(unknown, np.nan, np.asarray(test(a, b), dtype=float))

            return numbers

        _array = SimpleNamespace(
            name="numpy",
            one=1.0,
            div=quiet(np.divide),
            pow=quiet(np.power),
            log=quiet(np.log),
            exp=quiet(np.exp),
            sqrt=quiet(np.sqrt),
            sin=quiet(np.sin),
            cos=quiet(np.cos),
            tan=quiet(np.tan),
            asin=quiet(np.arcsin),
            acos=quiet(np.arccos),
            atan=quiet(np.arctan),
            sinh=quiet(np.sinh),
            cosh=quiet(np.cosh),
            tanh=quiet(np.tanh),
            abs=quiet(np.abs),
            sign=quiet(np.sign),
            sigmoid=quiet(sigmoid),
            relu=quiet(lambda a: np.maximum(a, 0.0)),  # nan stays nan
            step=quiet(lambda a: np.heaviside(a, 0.0)),  # step(0) = 0, step(nan) = nan
            times=quiet(lambda z, x: np.where(z == 0, 0.0, z * x)),
            pi=np.pi,
            max=quiet(lambda a, b: np.where(a >= b, a, np.where(b > a, b, np.nan))),
            min=quiet(lambda a, b: np.where(a <= b, a, np.where(b < a, b, np.nan))),
            lt=quiet(compare(np.less)),
            le=quiet(compare(np.less_equal)),
            gt=quiet(compare(np.greater)),
            ge=quiet(compare(np.greater_equal)),
            where=quiet(lambda c, a, b: np.where(c > 0, a, np.where(c == 0, b, np.nan))),
            atan2=quiet(np.arctan2),
            hypot=quiet(np.hypot),
            floor=quiet(np.floor),
            ceil=quiet(np.ceil),
            erf=quiet(np.vectorize(math.erf, otypes=[float])),  # numpy has no erf
            log1p=quiet(np.log1p),
            expm1=quiet(np.expm1),
        )
    return _array


def __getattr__(name: str):
    if name == "ARRAY":
        return array()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
