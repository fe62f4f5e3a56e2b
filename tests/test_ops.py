"""The op table proves itself: SymPy's diff of each value equals the declared partial,
and central differences agree at sample points inside each op's domain."""

from __future__ import annotations

import math

import pytest
import sympy

from backprop.engine.backends import FLOAT, symbolic
from backprop.engine.ops import OPS

# A point inside every op's domain: asin/acos need |a| < 1, log/sqrt need a > 0.
SAMPLES = {"a": [0.3, 0.7, 0.55], "b": [1.7, 0.4, 2.5], "c": [0.9, 1.1, 3.5]}
WHOLE = ("floor", "ceil")  # SymPy leaves d floor/dx unevaluated: their partial is 0 (below)


@pytest.mark.parametrize("name", sorted(OPS))
def test_declared_partial_equals_sympy_diff(name):
    op = OPS[name]
    S = symbolic()
    args = sympy.symbols("a b c", positive=True)[: op.arity]
    out = op.value(S, *args)
    declared = op.partials(S, out, *args)
    assert len(declared) == op.arity
    if name in WHOLE:
        assert declared == (0,)  # floor and ceil are constant between whole numbers
        return
    for arg, partial in zip(args, declared):
        difference = sympy.diff(out, arg) - partial
        if sympy.simplify(difference) != 0:  # piecewise rules: compare at sample points
            for values in zip(*(SAMPLES[str(a)] for a in args)):
                assert abs(float(difference.subs(dict(zip(args, values))))) < 1e-12, name


@pytest.mark.parametrize("name", sorted(OPS))
def test_partials_match_central_differences(name):
    op = OPS[name]
    for values in zip(SAMPLES["a"], SAMPLES["b"], SAMPLES["c"]):
        args = list(values[: op.arity])
        out = op.value(FLOAT, *args)
        declared = op.partials(FLOAT, out, *args)
        for k in range(op.arity):
            h = 1e-6
            up, down = list(args), list(args)
            up[k] += h
            down[k] -= h
            estimate = (op.value(FLOAT, *up) - op.value(FLOAT, *down)) / (2 * h)
            assert math.isclose(float(declared[k]), estimate, rel_tol=1e-6, abs_tol=1e-8), name


@pytest.mark.parametrize("name", sorted(OPS))
def test_float_and_sympy_values_agree(name):
    op = OPS[name]
    S = symbolic()
    for values in zip(SAMPLES["a"], SAMPLES["b"], SAMPLES["c"]):
        args = values[: op.arity]
        ours = op.value(FLOAT, *args)
        reference = float(op.value(S, *(sympy.Float(v) for v in args)))
        assert math.isclose(ours, reference, rel_tol=1e-12)


@pytest.mark.parametrize("expr, value", [
    (lambda B: B.log(0.0), -math.inf),
    (lambda B: B.div(1.0, 0.0), math.inf),
    (lambda B: B.div(-1.0, 0.0), -math.inf),
    (lambda B: B.exp(1000.0), math.inf),
    (lambda B: B.pow(0.0, -1.0), math.inf),
    (lambda B: B.pow(0.0, 0.0), 1.0),
    (lambda B: B.pow(10.0, 1e10), math.inf),
    (lambda B: B.sigmoid(-1000.0), 0.0),
    (lambda B: B.cosh(1000.0), math.inf),
])
def test_float_backend_follows_ieee(expr, value):
    assert expr(FLOAT) == value


@pytest.mark.parametrize("expr", [
    lambda B: B.log(-1.0), lambda B: B.sqrt(-1.0), lambda B: B.div(0.0, 0.0),
    lambda B: B.asin(2.0), lambda B: B.pow(-8.0, 1 / 3), lambda B: B.sin(math.inf),
])
def test_float_backend_gives_nan_outside_the_domain(expr):
    assert math.isnan(expr(FLOAT))


def test_kink_conventions_are_zero():
    """abs'(0) = relu'(0) = 0, on floats and in SymPy alike (docs/expressions.md)."""
    S = symbolic()
    x = sympy.Symbol("x", real=True)
    for name in ("abs", "relu"):
        op = OPS[name]
        assert op.partials(FLOAT, op.value(FLOAT, 0.0), 0.0) == (0.0,)
        partial = op.partials(S, op.value(S, x), x)[0]
        assert partial.subs(x, 0) == 0


@pytest.mark.parametrize("name", ["sign", "step"])
def test_a_zero_partial_is_the_derivative_where_one_is_defined(name):
    """sign' and step' are 0 on both sides of the jump (SymPy's diff there: DiracDelta,
    or a Piecewise of zeros, evaluated off 0); at 0 none exists and 0 is the convention."""
    op = OPS[name]
    S = symbolic()
    a = sympy.Symbol("a", real=True)
    out = op.value(S, a)
    assert op.partials(S, out, a) == (0,)
    assert op.partials(FLOAT, op.value(FLOAT, 0.0), 0.0) == (0,)
    for point in (-2.5, -0.3, 0.3, 2.5):
        assert sympy.diff(out, a).subs(a, point) == 0, (name, point)
    assert op.value(FLOAT, -1e-300) != op.value(FLOAT, 1e-300)  # a jump: no derivative at 0


def test_times_is_a_product_whose_zero_factor_is_an_exact_zero():
    times = OPS["times"]
    assert times.value(FLOAT, 0.0, math.inf) == 0.0 and times.value(FLOAT, -0.0, math.nan) == 0.0
    assert times.value(FLOAT, 2.0, 3.5) == 7.0
    assert math.isnan(times.value(FLOAT, math.inf, 0.0))  # only the first factor is special
