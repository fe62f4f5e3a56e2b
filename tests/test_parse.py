"""The expression language: grammar, precedence, statements, errors, and size."""

from __future__ import annotations

import math

import pytest

from backprop.engine.ops import FUNCTIONS

from backprop.errors import InputError, LimitError
from backprop.engine.evaluate import evaluate
from backprop.frontends.parse import parse, tokenize
from backprop.engine.printer import to_text


def value(text: str, **point: float) -> float:
    graph = parse(text)
    return evaluate(graph, point)[graph.outputs[0]]


@pytest.mark.parametrize("text, expected", [
    ("2", 2.0), ("2.5", 2.5), (".5", 0.5), ("1e-3", 1e-3), ("2.5E+2", 250.0),
    ("-x**2", -9.0), ("-x^2", -9.0), ("(-x)^2", 9.0), ("2**3**2", 512.0), ("2^3^2", 512.0),
    ("2**-1", 0.5), ("2**-x", 2.0 ** -3), ("-2**2", -4.0), ("+x", 3.0), ("- -x", 3.0),
    ("x - 1 - 1", 1.0), ("x / 3 / 3", 1 / 3), ("x * 2 + 1", 7.0), ("1 + x * 2", 7.0),
    ("(1 + x) * 2", 8.0), ("2*pi", 2 * math.pi), ("e", math.e), ("sin(x)^2", math.sin(3) ** 2),
    ("sqrt(x*x)", 3.0), ("abs(-x)", 3.0), ("relu(-x)", 0.0), ("sigmoid(0)", 0.5),
])
def test_values_follow_the_grammar(text, expected):
    assert value(text, x=3.0) == pytest.approx(expected, rel=1e-15)


def test_every_function_parses():
    for name in ("sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "tanh", "exp",
                 "log", "sqrt", "abs", "sigmoid", "relu"):
        assert parse(f"{name}(x)").nodes[-1].op == name


def test_statements_name_intermediate_nodes():
    graph = parse("a = 2*x + y; z = sin(a)")
    labels = [n.label for n in graph.nodes if n.args]
    assert "a" in labels and "z" in labels
    assert graph.name(graph.outputs[0]) == "z"
    assert graph.output_names == ("z",)


def test_newlines_separate_statements_and_last_bare_expression_is_the_output():
    graph = parse("a = x*x\nb = a*a\n\na + b\n")
    x = 1.5
    assert evaluate(graph, {"x": x})[graph.outputs[0]] == pytest.approx(x**2 + x**4)


def test_identical_subexpressions_are_one_node():
    graph = parse("sin(x^2)+cos(x^2)")
    squares = [i for i, n in enumerate(graph.nodes) if n.op == "pow"]
    assert len(squares) == 1
    users = [n for n in graph.nodes if squares[0] in n.args]
    assert len(users) == 2


def test_a_node_used_twice_by_one_op_has_two_edges():
    graph = parse("x*x")
    x = graph.inputs[0]
    assert graph.nodes[-1].args == (x, x)


def test_layered_graph_text_grows_linearly():
    layers = 60
    text = "; ".join(["h1 = x*x"] + [f"h{i} = h{i-1}*h{i-1}" for i in range(2, layers + 1)])
    graph = parse(text)
    assert len(graph) == layers + 1
    assert graph.paths_to(graph.outputs[0])[graph.inputs[0]] == 2**layers


@pytest.mark.parametrize("text, message, column, hint", [
    ("sin(2*x+", "ends too early", 8, None),
    ("2x", "missing operator", 1, "write 2*x"),
    ("x +* y", "expected a number", 3, None),
    ("sin()", "needs an argument", 4, None),
    ("sin(x, y)", "takes 1 argument", 5, None),
    ("times(x)", "times takes 2 arguments", 7, None),
    ("times(x, y, z)", "times takes 2 arguments", 10, None),
    ("(x, y)", "unexpected ','", 2, None),
    ("foo(x)", "unknown function 'foo'", 0, "functions: sin"),
    ("x.__class__", "unexpected character '.'", 1, None),
    ("__import__('os')", "unknown function '__import__'", 0, None),
    ("lambda: 1", "unexpected character ':'", 6, None),
    ('"x"', "unexpected character", 0, "strings"),
    ("", "empty expression", 0, None),
    ("x = 1; x = 2", "already defined", 7, None),
    ("y = x; x = 2", "used as an input before", 7, None),
    ("a = a + x", "used in its own definition", 4, None),
    ("b = x; a = b*(x + a)", "used in its own definition", 18, None),
    ("a = sin(a)", "used in its own definition", 8, None),
    ("sin = x", "built-in name", 0, None),
    ("(x", "never closed", 0, None),
    ("x)", "unmatched ')'", 1, None),
    ("x; y", "only the last statement", 3, None),
    ("1e999999", "too large", 0, None),
    ("x[0]", "unexpected character '['", 1, None),
    ("x < 1", "only as the condition of where", 2, "where(x > 0, a, b)"),
    ("x[0] < 1", "unexpected character '['", 1, None),
    ("where(x, 1, 2)", "must be a comparison", 0, "where(x > 0, a, b)"),
    ("max()", "needs 2 or more arguments", 4, "max(a, b, ...)"),
    ("clip(x, 1)", "takes 3 arguments, got 2", 9, "clip(x, lo, hi)"),
    ("clip(x, 1, 2, 3)", "takes 3 arguments", 12, "clip(x, lo, hi)"),
    ("where(x > 0 > 1, 1, 2)", "do not chain", 12, None),
    ("where((x > 0), 1, 2)", "only as the condition of where", 9, None),
    ("where(1, x > 0, 2)", "only as the condition of where", 11, None),
    ("sqrt(x > 0)", "only as the condition of where", 7, None),
    ("where(x == 0, 1, 2)", "'==' is not a comparison", 8, "< <= > >="),
    ("where(x != 0, 1, 2)", "'!=' is not a comparison", 8, None),
    ("where(x >= 0, 1)", "takes 3 arguments, got 2", 15, None),
    ("c = x < 1; c", "only as the condition of where", 6, None),
    ("α*2", "unexpected character", 0, "ASCII"),
    ("__x", "may not start with '__'", 0, None),
    ("sin x", "is a function", 0, "sin(...)"),
    ("x = ", "ends too early", 4, None),
])
def test_errors_name_the_column(text, message, column, hint):
    with pytest.raises(InputError) as caught:
        parse(text)
    error = caught.value
    assert message in error.message
    assert error.column == column
    if hint:
        assert hint in error.hint


@pytest.mark.parametrize("text", ["a = a + x", "b = x; a = b*(x + a)", "a = sin(a)",
                                  "y = x; x = 2"])
def test_the_compiled_parser_refuses_a_name_used_before_its_definition(text):
    from backprop.engine.accel import CORE
    from backprop.engine.graph import Node

    if CORE is None:
        pytest.skip("the compiled core is not built")
    assert CORE.parse((text,), 1000, 1000, Node) is None  # None: Python words the error


def test_errors_on_later_lines_report_the_line():
    with pytest.raises(InputError) as caught:
        parse("a = x\nb = a +\n")
    assert caught.value.line == 2
    assert caught.value.source == "b = a +"


def test_deep_nesting_works_without_recursion():
    depth = 100_000
    graph = parse("(" * depth + "x" + ")" * depth)
    assert len(graph) == 1
    graph = parse("sin(" * depth + "x" + ")" * depth)
    assert graph.depth == depth


def test_depth_and_size_limits_refuse_with_limit_error():
    with pytest.raises(LimitError):
        parse("sin(" * 50 + "x" + ")" * 50, max_depth=10)
    with pytest.raises(LimitError):
        parse("+".join(f"x{i}" for i in range(100)), max_nodes=50)


def test_large_sum_parses():
    n = 100_000
    graph = parse("+".join(f"sin(x_{i}*x_{i+1})" for i in range(n)))
    assert len(graph.inputs) == n + 1
    assert len(graph) == (n + 1) + n + n + (n - 1)  # inputs, muls, sins, adds


def test_tokens_remember_adjacency():
    tokens = tokenize("2x + 2 x")
    assert tokens[1].adjacent and not tokens[4].adjacent


@pytest.mark.parametrize("text", [
    "sin(2*x+y)", "-x^2", "(-x)^2", "2^-x", "x - (y - z)", "x/(y/z)", "(x^y)^z", "x^y^z",
    "a = 2*x + y; z = sin(a)", "a = x*x; b = a*a; a + b", "-2*x", "x*(-2)", "-(x*y)",
    "sqrt(abs(x - y))/exp(-x)", "x - -2", "2*pi + e",
    "times(x^y, log(x)) + sign(x)*step(y)", "a = times(2*x + 1, -y); a*a", "times(-2, x)",
])
def test_printing_then_parsing_gives_the_same_graph(text):
    graph = parse(text)
    again = parse(to_text(graph))
    assert again.nodes == graph.nodes and again.outputs == graph.outputs


def test_the_hint_offers_every_function_and_gradient_program_primitives_parse():
    """sign, step and times are functions like the others (gradient programs are made of
    them, and a printed program reads back), so the hint for an unknown function lists them."""
    with pytest.raises(InputError) as caught:
        parse("foo(x)")
    assert caught.value.hint == "functions: " + ", ".join(FUNCTIONS) + ", clip"
    assert {"sign", "step", "times"} <= set(FUNCTIONS)
    assert [n.op for n in parse("times(sign(x), step(y))").nodes if n.args] == \
        ["sign", "step", "times"]
