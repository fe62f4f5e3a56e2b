"""The piecewise, multi-argument and stable primitives against SymPy's own functions (Max,
Min, Piecewise, Heaviside, atan2, erf, floor ...): each op's value and partials at 200
random points away from its kinks, to 1e-12; every mode and both engines on graphs made of
them; the printer's text parses back to the same graph."""

from __future__ import annotations

import math
import random
import struct

import mpmath
import pytest
import sympy

from backprop.engine.accel import CORE
from backprop.engine.backends import FLOAT
from backprop.engine.evaluate import evaluate
from backprop.engine.modes.forward import forward
from backprop.engine.modes.paths import paths
from backprop.engine.modes.reverse import reverse
from backprop.engine.ops import OPS
from backprop.engine.printer import to_text
from backprop.frontends.parse import parse
from test_core import pure_python

a, b, c = sympy.symbols("a b c", real=True)
H = sympy.Heaviside


def _uniform(low, high, away=()):
    """A sampler of floats in [low, high] at least 1e-3 from each point of ``away``."""
    def sample(rng):
        while True:
            x = rng.uniform(low, high)
            if all(abs(x - k) > 1e-3 for k in away):
                return x
    return sample


def _pair(low, high, apart=True):
    def sample(rng):
        while True:
            x, y = rng.uniform(low, high), rng.uniform(low, high)
            if not apart or abs(x - y) > 1e-3:
                return x, y
    return sample


def _off_whole(rng):
    x = rng.uniform(-50, 50)
    return x if abs(x - round(x)) > 1e-3 else x + 0.5


# op -> (SymPy's own formula of it, a sampler of points away from its kinks)
REFERENCE = {
    "max": (sympy.Max(a, b), _pair(-5, 5)),
    "min": (sympy.Min(a, b), _pair(-5, 5)),
    "where": (sympy.Piecewise((b, a > 0), (c, True)),  # where(a, b, c), a a comparison's 1 or 0
              lambda rng: (rng.choice([0.0, 1.0]), rng.uniform(-5, 5), rng.uniform(-5, 5))),
    "atan2": (sympy.atan2(a, b), lambda rng: (rng.uniform(-5, 5), rng.uniform(-5, 5))),
    "hypot": (sympy.sqrt(a**2 + b**2), lambda rng: (rng.uniform(-5, 5), rng.uniform(-5, 5))),
    "floor": (sympy.floor(a), _off_whole),
    "ceil": (sympy.ceiling(a), _off_whole),
    "leaky_relu": (sympy.Piecewise((a, a > 0), (b * a, True)),
                   lambda rng: (_uniform(-5, 5, (0,))(rng), rng.uniform(0, 0.5))),
    "elu": (sympy.Piecewise((a, a > 0), (sympy.exp(a) - 1, True)), _uniform(-20, 20, (0,))),
    "gelu": (a / 2 * (1 + sympy.erf(a / sympy.sqrt(2))), _uniform(-8, 8)),
    "erf": (sympy.erf(a), _uniform(-6, 6)),
    "log1p": (sympy.log(1 + a), _uniform(-0.999, 50)),
    "expm1": (sympy.exp(a) - 1, _uniform(-30, 30)),
    "softplus": (sympy.log(1 + sympy.exp(a)), _uniform(-40, 40)),
    "log_sigmoid": (-sympy.log(1 + sympy.exp(-a)), _uniform(-40, 40)),
    "logsumexp": (sympy.log(sympy.exp(a) + sympy.exp(b)), _pair(-40, 40, apart=False)),
}
NEW = sorted(REFERENCE)
MP = [{"Heaviside": lambda x, h=0.5: 1 if x > 0 else 0 if x < 0 else h,
       "floor": mpmath.floor, "ceiling": mpmath.ceil}, "mpmath"]


def test_every_new_op_is_in_the_table():
    assert set(NEW) <= set(OPS)
    assert {"lt", "le", "gt", "ge"} <= set(OPS)  # where's conditions


def _derivative(formula, symbol):
    """SymPy's diff; floor and ceiling, which SymPy leaves unevaluated, are flat between
    the whole numbers (the only points sampled)."""
    found = sympy.diff(formula, symbol)
    return sympy.S.Zero if found.has(sympy.Derivative) else found


@pytest.mark.parametrize("name", NEW)
def test_value_and_partials_equal_sympys_at_200_points(name):
    op = OPS[name]
    formula, sample = REFERENCE[name]
    symbols = (a, b, c)[: op.arity]
    reference = sympy.lambdify(symbols, formula, MP)
    derivatives = [sympy.lambdify(symbols, _derivative(formula, s), MP) for s in symbols]
    rng = random.Random(f"ops-{name}")
    with mpmath.workdps(30):
        for _ in range(200):
            point = sample(rng)
            point = point if isinstance(point, tuple) else (point,)
            ours = op.value(FLOAT, *point)
            partials = op.partials(FLOAT, ours, *point)
            expected = [reference(*point)] + [d(*point) for d in derivatives]
            for got, want in zip([ours, *partials], expected):
                want = float(want)
                assert abs(float(got) - want) <= 1e-12 * max(1.0, abs(want)), \
                    (name, point, got, want)


# graphs made of the new ops, and points away from their kinks
GRAPHS = [
    "max(x, y, 2*z) * min(x^2, y, z + 1)",
    "clip(x*y, -1, 1) + where(x > y, sin(x), cos(y))",
    "where(x <= 0.5, x*y, y/x) + where(z >= 0, z^2, -z)",
    "atan2(y, x) * hypot(x, z) + floor(3*x) * y + ceil(y) * z",
    "leaky_relu(x - y, 0.2) + elu(y - 2) + gelu(x*z) + erf(y)",
    "log1p(x*y) + expm1(z) + softplus(x - z) + log_sigmoid(y*z) + logsumexp(x, y, z, 1)",
    "s = softplus(x*y); t = max(s, z); where(t < 2, t*s, log(t)) + logsumexp(s, t)",
]
POINTS = [{"x": 0.31, "y": 1.7, "z": 0.45}, {"x": 1.3, "y": -0.6, "z": -0.35},
          {"x": 2.2, "y": 0.83, "z": 1.9}, {"x": -0.7, "y": 2.6, "z": 0.05}]


def bits(x: float) -> bytes:
    return struct.pack("<d", x)


def _jacobians(graph, point):
    values = evaluate(graph, point)
    return values, {mode.__name__: mode(graph, values, graph.inputs).jacobian
                    for mode in (forward, paths, reverse)}


@pytest.mark.parametrize("text", GRAPHS)
@pytest.mark.parametrize("point", POINTS)
def test_every_mode_agrees_with_sympy_and_the_engines_bit_for_bit(text, point):
    graph = parse(text)
    at = {n: point[n] for n in graph.input_names}
    values, jacobians = _jacobians(graph, at)
    reference = jacobians["reverse"][0]
    for mode, jacobian in jacobians.items():
        for ours, want in zip(jacobian[0], reference):
            assert abs(ours - want) <= 1e-12 * max(1.0, abs(want)), (mode, text)
    from backprop.check.symbolic import symbolic_values, symbols_for

    symbols = symbols_for(graph)
    f = symbolic_values(graph)[graph.outputs[0]]
    subs = {symbols[n]: sympy.Float(v, 30) for n, v in at.items()}
    for name, ours in zip(graph.input_names, reference):
        want = float(sympy.diff(f, symbols[name]).evalf(30, subs=subs))
        assert abs(ours - want) <= 1e-12 * max(1.0, abs(want)), (text, name)
    with pure_python():
        ref_values, ref_jacobians = _jacobians(parse(text), at)
    assert [bits(v) for v in values] == [bits(v) for v in ref_values]
    for mode in jacobians:
        assert [bits(float(v)) for v in jacobians[mode][0]] == \
            [bits(float(v)) for v in ref_jacobians[mode][0]], mode


@pytest.mark.skipif(CORE is None, reason="the compiled core was not built")
@pytest.mark.parametrize("name", NEW + ["lt", "le", "gt", "ge"])
def test_the_core_runs_each_new_op_as_python_does_at_special_points(name):
    """The generated C kernel of each op against its Python formula, bit for bit, at
    points where IEEE rules decide (0, -0, +-1, +-inf, nan, huge, ties)."""
    op = OPS[name]
    if op.precedence == 0:
        text = f"where(x {op.symbol} y, x*y, x - y)"
    elif name == "where":
        text = "where(x > y, sqrt(x), log(y))"
    else:
        text = f"{name}(x)" if op.arity == 1 else f"{name}(x, y)"
    graph = parse(text)
    special = [0.0, -0.0, 1.0, -1.0, 0.5, -2.5, 3.0, 1e300, -1e300, 800.0, -800.0,
               math.inf, -math.inf, math.nan]
    for x in special:
        for y in special:
            at = {n: {"x": x, "y": y}[n] for n in graph.input_names}
            assert CORE.evaluate(graph.nodes, at) is not None
            values = evaluate(graph, at)
            grad = reverse(graph, values, graph.inputs).jacobian[0]
            with pure_python():
                ref_values = evaluate(graph, at)
                ref_grad = reverse(graph, ref_values, graph.inputs).jacobian[0]
            same = [bits(float(u)) == bits(float(v)) or (u != u and v != v)
                    for u, v in zip(values + grad, ref_values + ref_grad)]
            assert all(same), (text, at)


@pytest.mark.parametrize("text", GRAPHS + [
    "max(max(x, y), z)", "max(x, max(y, z))", "m = max(x, y); max(m, z)",
    "clip(x, 0, 1)", "where(x + 1 > 2*y, -x, y^2)", "where(-x < y, x, y)",
])
def test_the_printed_text_parses_back_to_the_same_graph(text):
    graph = parse(text)
    printed = to_text(graph)
    assert parse(printed).nodes == graph.nodes, printed


def test_variadic_calls_print_as_one_call():
    assert to_text(parse("max(x, y, z, 2)")) == "max(x, y, z, 2)"
    assert to_text(parse("logsumexp(x, y, z)")) == "logsumexp(x, y, z)"
    assert to_text(parse("max(x, max(y, z))")) == "max(x, max(y, z))"  # not a left fold
    assert to_text(parse("clip(x, 0, 1)")) == "min(max(x, 0), 1)"  # clip is min of max
    assert to_text(parse("where(x < 1, x, 1)")) == "where(x < 1, x, 1)"
