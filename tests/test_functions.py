"""User-defined functions (``def f(u) = ...``): expansion, labels, every command, errors.

The oracles are independent of frontends/functions.py: the same expression inlined by
hand (the graphs must be the same, node for node), SymPy's own diff and hessian of an
expression written here with SymPy's functions, and the exit codes and carets a user sees.
"""

from __future__ import annotations

import json
import math
import random

import pytest

from backprop.engine.evaluate import evaluate
from backprop.engine.printer import to_text
from backprop.errors import InputError, LimitError
from backprop.frontends.parse import parse

from conftest import run_cli


def shape(graph, labels: bool = False):
    """The graph up to node order (and intermediate labels unless ``labels``): each node as
    its structure (a nested tuple made in one loop, a node's from its arguments'), and the
    outputs'."""
    keys = []
    for n in graph.nodes:
        keys.append((n.op, tuple(keys[a] for a in n.args), n.const,
                     n.label if labels or not n.args else None))
    return len(graph.nodes), set(keys), [keys[o] for o in graph.outputs]


@pytest.mark.parametrize("text, inlined", [
    ("def softplus2(u) = log(1 + exp(u)); softplus2(x*y) + softplus2(y)",
     "log(1 + exp(x*y)) + log(1 + exp(y))"),
    ("def f(u, v) = u*sin(v) - v; f(x, y*y)", "x*sin(y*y) - y*y"),
    ("def sq(u) = u*u; def q(u, v) = sq(u) + sq(v); q(x, 2*y)", "x*x + (2*y)*(2*y)"),
    ("def f(u) = exp(u); f(f(x))", "exp(exp(x))"),
    ("def f(x) = x*x; f(y) + x", "y*y + x"),  # a parameter hides nothing outside its body
    ("a = x + y; def g(u) = sin(u)/u; g(a)*a", "a = x + y; sin(a)/a*a"),
    ("def f(u) = u^2\ndef g(u, v) = f(u) - f(v)\ng(x, y)", "x^2 - y^2"),
    ("def f(u, v, w) = u*v + w; f(y, x, -x)", "y*x + -x"),
    ("def f(u) = -2*u + pi; f(x)", "-2*x + pi"),
    ("def f(u) = u*u; f(x) + x*x", "x*x + x*x"),  # identical nodes merge across calls
])
def test_a_call_expands_to_the_inlined_graph(text, inlined):
    assert shape(parse(text)) == shape(parse(inlined))


def test_calls_are_labelled_by_call_site_and_statement_names_win():
    graph = parse("def sp(u) = log(1 + exp(u)); a = sp(x); sp(x*y) + a + sp(y)")
    labels = [n.label for n in graph.nodes if n.args and n.label]
    assert labels == ["a", "sp_1", "sp_2"]  # sp(x) is named a; the next calls count on
    # a number whose name the text uses is skipped, and a second text counts on
    graph = parse("def f(u) = u*u; f_1 = x + 1; f(f_1)", "def f(u) = u + u; f(x)")
    assert [n.label for n in graph.nodes if n.args and n.label] == ["f_1", "f_2", "f_3"]
    # calls inside a body are calls too
    graph = parse("def sq(u) = u*u; def g(u) = sq(u) + 1; g(x)")
    assert [n.label for n in graph.nodes if n.args and n.label] == ["sq_1", "g_1"]


@pytest.mark.parametrize("text", [
    "def softplus2(u) = log(1 + exp(u)); softplus2(x*y) + softplus2(y)",
    "def sq(u) = u*u; def q(u, v) = sq(u) + sq(v); a = q(x, y); a*q(y, x)",
])
def test_the_printed_graph_parses_back_to_the_same_graph(text):
    graph = parse(text)
    assert shape(parse(to_text(graph)), labels=True) == shape(graph, labels=True)


def test_the_compiled_parser_leaves_definitions_to_python():
    from backprop.engine.accel import CORE
    from backprop.engine.graph import Node

    if CORE is None:
        pytest.skip("the compiled core is not built")
    assert CORE.parse(("def f(u) = u*u; f(x)",), 1000, 1000, Node) is None


# ------------------------------------------------------------------ numbers against SymPy


def _sympy_cases():
    import sympy as sp

    x, y = sp.symbols("x y")
    softplus = lambda u: sp.log(1 + sp.exp(u))  # noqa: E731
    return [
        ("def softplus2(u) = log(1 + exp(u)); softplus2(x*y) + softplus2(y)",
         softplus(x * y) + softplus(y)),
        ("def swish(u) = u*sigmoid(u); def h(u, v) = swish(u)*tanh(v) + swish(v)\nh(x, y*x)",
         x / (1 + sp.exp(-x)) * sp.tanh(y * x) + y * x / (1 + sp.exp(-y * x))),
        ("def r(u, v) = sqrt(u*u + v*v); atan(y/x) + r(x, y)", sp.atan(y / x) + sp.sqrt(x**2 + y**2)),
    ], (x, y)


def test_every_mode_agrees_with_sympy_at_random_points():
    import sympy as sp

    cases, symbols = _sympy_cases()
    rng = random.Random(15)
    for text, expr in cases:
        for _ in range(5):
            at = {"x": rng.uniform(0.2, 2.0), "y": rng.uniform(-2.0, 2.0)}
            result = run_cli("grad", text, "--at", ",".join(f"{k}={v!r}" for k, v in at.items()),
                             "--mode", "all", "--json", "--no-check")
            assert result.returncode == 0, result.stderr
            doc = json.loads(result.stdout)
            subs = {s: at[str(s)] for s in symbols}
            assert doc["outputs"][0]["value"] == pytest.approx(float(expr.subs(subs)), rel=1e-12)
            for mode in ("forward", "paths", "reverse"):
                row = dict(zip(doc["wrt"], doc["modes"][mode]["jacobian"][0]))
                for s in symbols:
                    want = float(sp.diff(expr, s).subs(subs))
                    assert row[str(s)] == pytest.approx(want, rel=1e-12, abs=1e-14), (text, mode)


def test_the_check_and_the_hessian_see_the_expanded_expression():
    import sympy as sp

    text = "def sp(u) = log(1 + exp(u)); def f(u, v) = sp(u*v) + u; f(x, y)*y"
    result = run_cli("grad", text, "--at", "x=0.5,y=-1.5")
    assert result.returncode == 0 and "check passed" in result.stdout
    result = run_cli("hessian", text, "--at", "x=0.5,y=-1.5", "--json")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    x, y = sp.symbols("x y")
    expr = (sp.log(1 + sp.exp(x * y)) + x) * y
    H = sp.hessian(expr, (x, y)).subs({x: 0.5, y: -1.5})
    found = json.dumps(doc)
    for value in (float(H[0, 0]), float(H[0, 1]), float(H[1, 1])):
        assert any(math.isclose(value, float(tok), rel_tol=1e-12) for tok in
                   _numbers(found)), value


def _numbers(text: str) -> list[str]:
    import re

    return re.findall(r"-?\d+\.\d+(?:e-?\d+)?", text)


@pytest.mark.parametrize("command", [("grad", "--at", "x=1,y=2"), ("graph",),
                                     ("paths", "--at", "x=1,y=2"),
                                     ("compare", "--at", "x=1,y=2"),
                                     ("hessian", "--at", "x=1,y=2"),
                                     ("grad", "--program")])
def test_every_command_takes_definitions(command):
    text = "def sp(u) = log(1 + exp(u)); sp(x*y) + sp(y)"
    result = run_cli(command[0], text, *command[1:])
    assert result.returncode == 0, result.stderr
    assert "sp_1" in result.stdout


def test_definitions_come_from_stdin_over_several_lines():
    text = "# a file of expressions\ndef sq(u) = u*u\ndef norm2(u, v) = sq(u) + sq(v)\n" \
           "norm2(x, y)\n"
    result = run_cli("grad", "-", "--at", "x=3,y=4", "--json", stdin=text)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["gradient"] == {
        "x": {"value": 6.0, "formula": "2*x"}, "y": {"value": 8.0, "formula": "2*y"}}


def test_graph_shows_each_call_by_name():
    result = run_cli("graph", "def softplus2(u) = log(1 + exp(u)); softplus2(x*y) + softplus2(y)")
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    assert "softplus2_1 = log v3" in lines and "softplus2_2 = log v5" in lines
    assert any(line.startswith("v6 = add softplus2_1 softplus2_2") for line in lines)


def test_explain_steps_name_the_calls():
    result = run_cli("grad", "def sq(u) = u*u; sq(x + y)*y", "--at", "x=1,y=2", "--explain")
    assert result.returncode == 0
    assert "sq_1 = v1*v1" in result.stdout or "sq_1 = (x + y)*(x + y)" in result.stdout
    assert "adj[sq_1]" in result.stdout


# -------------------------------------------------------------------------------- errors


@pytest.mark.parametrize("text, message, column", [
    ("def f(u) = f(u); f(x)", "recursion", 11),
    ("def sin(u) = u; sin(x)", "built-in function", 4),
    ("def pi(u) = u; pi(x)", "built-in constant", 4),
    ("def f(u) = u; g(x)", "unknown function 'g'", 14),
    ("def f(u) = g(u); def g(u) = u; f(x)", "unknown function 'g'", 11),
    ("def f(u) = u; f(x, y)", "takes 1 argument", 17),
    ("def f(u, v) = u*v; f(x)", "takes 2 arguments, got 1", 22),
    ("def f(u) = u; f()", "needs an argument", 16),
    ("def f(u, u) = u; f(x, x)", "given twice", 9),
    ("def f(u) = u*y; f(x)", "'y' is not a parameter of f", 13),
    ("a = x; def f(u) = u*a; f(x)", "'a' is not a parameter of f", 20),
    ("def f(u) = ; f(x)", "has no body", 11),
    ("def f(u) =", "has no body", 10),
    ("def f(u) = u", "ends with a definition", 0),
    ("a = x; def f(u) = u", "ends with a definition", 7),
    ("def f(u) = u; def f(v) = v; f(x)", "already defined", 18),
    ("def f(u) = u; f = 2; f", "already defined", 14),
    ("a = 2*x; def a(u) = u; a", "already used as a variable", 13),
    ("y = f*2; def f(u) = u; f(y)", "already used as a variable", 13),
    ("def f() = 1; f(x)", "at least one parameter", 6),
    ("def f(u,) = u; f(x)", "expected a parameter name", 8),
    ("def f(u v) = u; f(x)", "expected ',' or ')'", 8),
    ("def f u = u; f(x)", "expected '('", 6),
    ("def f(u) u; f(x)", "expected '='", 9),
    ("def 3(u) = u; x", "expected a function name", 4),
    ("def f(exp) = exp; f(x)", "cannot be called 'exp'", 6),
    ("def f(u) = u; f + 1", "f is a function", 14),
    ("def f(u) = u; x*2; def g(u) = u", "only the last statement", 19),
])
def test_bad_definitions_are_errors_with_a_caret(text, message, column):
    with pytest.raises(InputError) as caught:
        parse(text)
    assert message in caught.value.message
    assert caught.value.column == column
    result = run_cli("grad", text, "--at", "x=1,y=2")
    assert result.returncode == 2
    first, source, caret = result.stderr.splitlines()[:3]
    assert first.startswith("backprop: error: ") and message in first
    assert caret.strip() == "^" and caret.index("^") - 2 == column
    assert "Traceback" not in result.stderr


def test_an_error_on_a_later_line_names_the_line():
    with pytest.raises(InputError) as caught:
        parse("def f(u) = u\ndef g(u) = u*z\ng(x)")
    assert caught.value.line == 2 and caught.value.column == 13


def test_expansion_is_bounded_by_the_node_limit_and_needs_no_recursion():
    # each definition doubles the body: 40 levels would be 2^40 nodes
    lines = ["def f0(u) = u + 1"] + [f"def f{k}(u) = f{k - 1}(u) + f{k - 1}(u + {k})"
                                      for k in range(1, 41)]
    with pytest.raises(LimitError):
        parse("\n".join(lines + ["f40(x)"]), max_nodes=100_000)
    result = run_cli("grad", "\n".join(lines + ["f40(x)"]), "--at", "x=1",
                     "--max-nodes", "100000")
    assert result.returncode == 3
    # a chain of 5,000 nested calls (5 times Python's recursion limit) expands in a loop
    text = "def g(u) = u + 1; " + "g(" * 5_000 + "x" + ")" * 5_000
    graph = parse(text, max_depth=10**6)
    assert evaluate(graph, {"x": 0.5})[graph.outputs[0]] == 5_000.5


def test_definitions_are_per_text():
    with pytest.raises(InputError):  # a second -e does not see the first one's defs
        parse("def f(u) = u*u; f(x)", "f(y)")
