"""Property tests over random expressions that use every op in the table.

At points inside each op's domain: forward, paths and reverse agree to 1e-12 relative;
they agree with SymPy's diff and with central differences; printing a parsed expression
and parsing it again gives the same graph; arbitrary text only ever yields a clean error.
"""

from __future__ import annotations

import math

import sympy
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from backprop.check.symbolic import symbolic_values, symbols_for
from backprop.errors import BackpropError
from backprop.engine.evaluate import evaluate
from backprop.engine.modes import run_mode
from backprop.engine.ops import OPS
from backprop.frontends.parse import parse
from backprop.engine.printer import to_text

VARIABLES = ("x", "y", "z")
FUNCTIONS = sorted(name for name, op in OPS.items() if op.is_function and op.arity == 1)
BINARY = {"add": "+", "sub": "-", "mul": "*", "div": "/", "pow": "^"}


def expressions(max_leaves: int = 12):
    """Random expression text over x, y, z, small constants, every function and operator."""
    leaves = st.one_of(st.sampled_from(VARIABLES),
                       st.sampled_from(["2", "0.5", "3", "pi", "1.5", "e"]))

    def extend(children):
        return st.one_of(
            st.tuples(st.sampled_from(FUNCTIONS), children).map(lambda t: f"{t[0]}({t[1]})"),
            st.tuples(children, st.sampled_from(sorted(BINARY.values())), children)
            .map(lambda t: f"({t[0]}) {t[1]} ({t[2]})"),
            children.map(lambda c: f"-({c})"),
        )

    return st.recursive(leaves, extend, max_leaves=max_leaves)


POINTS = st.fixed_dictionaries({v: st.floats(0.15, 0.85) for v in VARIABLES})
SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


def finite_gradients(text: str, point: dict):
    graph = parse(text)
    assume(graph.inputs)
    values = evaluate(graph, {k: point[k] for k in graph.input_names})
    assume(all(isinstance(v, float) and math.isfinite(v) and abs(v) < 1e6 for v in values))
    results = {m: run_mode(m, graph, values, graph.inputs) for m in ("forward", "reverse")}
    results["paths"] = run_mode("paths", graph, values, graph.inputs, max_paths=20_000)
    for result in results.values():
        assume(all(math.isfinite(float(g)) and abs(float(g)) < 1e8
                   for g in result.jacobian[0]))
    return graph, values, results


def close(a: float, b: float, rel: float, scale: float = 1.0) -> bool:
    return abs(a - b) <= rel * max(abs(a), abs(b), scale)


@SETTINGS
@given(expressions(), POINTS)
def test_the_three_modes_agree(text, point):
    graph, _, results = finite_gradients(text, point)
    reference = results["reverse"].jacobian[0]
    for mode in ("forward", "paths"):
        for a, b in zip(results[mode].jacobian[0], reference):
            assert close(float(a), float(b), 1e-12), (text, mode)


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(expressions(max_leaves=8), POINTS)
def test_modes_agree_with_sympy_and_central_differences(text, point):
    graph, values, results = finite_gradients(text, point)
    ours = [float(g) for g in results["reverse"].jacobian[0]]
    expr = symbolic_values(graph)[graph.outputs[0]]
    symbols = symbols_for(graph)
    subs = {symbols[n]: sympy.Float(point[n], 30) for n in graph.input_names}
    for name, value in zip(graph.input_names, ours):
        try:
            reference = float(sympy.diff(expr, symbols[name]).evalf(30, subs=subs))
        except (TypeError, ValueError, ZeroDivisionError):
            continue  # SymPy gave no real number (a branch cut): nothing to compare
        assert close(value, reference, 1e-9), (text, name, value, reference)
    for k, name in enumerate(graph.input_names):
        h = 1e-6
        up = dict(point, **{name: point[name] + h})
        down = dict(point, **{name: point[name] - h})
        f_up = evaluate(graph, {n: up[n] for n in graph.input_names})[graph.outputs[0]]
        f_down = evaluate(graph, {n: down[n] for n in graph.input_names})[graph.outputs[0]]
        estimate = (f_up - f_down) / (2 * h)
        assume(math.isfinite(estimate))
        # central differences are good to about h^2 * f''' and eps/h: a loose, stated bound
        assert close(ours[k], estimate, 1e-4, scale=1.0 + abs(values[graph.outputs[0]])), \
            (text, name)


@SETTINGS
@given(expressions())
def test_printing_and_parsing_again_gives_the_same_graph(text):
    graph = parse(text)
    printed = to_text(graph)
    again = parse(printed)
    assert again.nodes == graph.nodes, (text, printed)
    assert again.outputs == graph.outputs


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=60))
def test_arbitrary_text_only_gives_clean_errors(text):
    try:
        parse(text)
    except BackpropError as error:
        assert error.message and "\n" not in error.message
        assert error.exit_code in (2, 3)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["x", "y", "2", ".5", "1e3", "(", ")", "+", "-", "*", "/",
                                 "**", "^", "sin", "log", "=", ";", "\n", " ", "a", ",", "e",
                                 "pi", "1e", "2x", "#"]), max_size=30))
def test_token_soup_only_gives_clean_errors(parts):
    text = "".join(parts)
    try:
        graph = parse(text)
    except BackpropError as error:
        assert error.message and error.exit_code in (2, 3)
    else:
        assert all(arg < i for i, n in enumerate(graph.nodes) for arg in n.args)


# -- the spec loader ---------------------------------------------------------------------

def load_spec_text(text: str):
    """Everything ``backprop net``/``grad SPEC`` does with a spec, short of differentiating."""
    from backprop.frontends.spec import build_scalar_graph, check_size, parse_yaml, resolve, \
        scalar_size, validate

    spec = validate(parse_yaml(text, "fuzz.yaml"), "fuzz.yaml")
    check_size(spec, 10_000, 1_000)
    if scalar_size(spec) <= 5_000:
        build_scalar_graph(resolve(spec))


YAML_SCALARS = st.one_of(st.integers(-3, 3), st.floats(-2, 2, allow_nan=False),
                         st.sampled_from(["sigmoid", "tanh", "relu", "linear", "softmax",
                                          "half_sse", "mse", "cross_entropy", "w1", "b",
                                          "xavier", "he", "zeros", "1e-3", ".nan", "", "x"]))
YAML_KEYS = st.sampled_from(["version", "inputs", "targets", "loss", "params", "layers",
                             "activation", "weights", "bias", "units", "init", "scheme",
                             "seed", "w1", "b", "random", "shape", "name", "extra"])
YAML_VALUES = st.recursive(YAML_SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(YAML_KEYS, inner, max_size=5)),
    max_leaves=25)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(YAML_KEYS, YAML_VALUES, max_size=7))
def test_random_yaml_documents_only_give_clean_spec_errors(document):
    import yaml

    text = yaml.safe_dump(document)  # writing test input only; the tool never loads with yaml
    try:
        load_spec_text(text)
    except BackpropError as error:
        assert error.message and error.exit_code in (2, 3)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80))
def test_arbitrary_text_as_a_spec_only_gives_clean_errors(text):
    try:
        load_spec_text(text)
    except BackpropError as error:
        assert error.message and error.exit_code in (2, 3)
