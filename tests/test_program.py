"""Gradient programs (engine/program.py): the real sweep run on a backend that builds graph
nodes. Evaluated at a point, a program gives the float sweep's numbers to the last bit, for
every op, inside and outside every domain, with the compiled core and without; it is made
of op-table primitives, prints and parses back, and costs what the cheap-gradient
principle says (Baur and Strassen 1983: at most 3 times the nonscalar multiplications)."""

from __future__ import annotations

import json
import math
import struct
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from backprop.engine.evaluate import evaluate
from backprop.engine.modes.forward import forward
from backprop.engine.modes.reverse import reverse
from backprop.engine.ops import FUNCTIONS, OPS
from backprop.engine.printer import to_text
from backprop.engine.program import cost, gradient_program
from backprop.frontends.parse import parse
from conftest import run_cli
from test_core import pure_python  # the reference engine: no call site sees the core

SWEEPS = {"reverse": reverse, "forward": forward}
UNARY = [f for f in FUNCTIONS if OPS[f].arity == 1]
SPECIAL = [0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 2.0, -2.0, 3.0, 1e-300, 710.0, -710.0, 1e308,
           math.inf, -math.inf, math.nan]
POINT_VALUES = st.one_of(st.sampled_from(SPECIAL), st.floats(allow_nan=True, allow_infinity=True),
                         st.floats(-3, 3))
SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def same_number(a, b) -> bool:
    """Equal to the last bit (-0.0 is not 0.0); every nan is a nan."""
    a, b = float(a), float(b)
    return struct.pack("<d", a) == struct.pack("<d", b) or (a != a and b != b)


def expressions(max_leaves: int = 10):
    """Every op of the table, times and the program primitives included."""
    leaves = st.sampled_from(["x", "y", "z", "2", "0.5", "0", "pi", "3"])

    def extend(children):
        return st.one_of(
            st.tuples(st.sampled_from(UNARY), children).map(lambda t: f"{t[0]}({t[1]})"),
            st.tuples(children, children).map(lambda t: f"times({t[0]}, {t[1]})"),
            st.tuples(children, st.sampled_from(["+", "-", "*", "/", "^"]), children)
            .map(lambda t: f"({t[0]}){t[1]}({t[2]})"),
            children.map(lambda c: f"-({c})"),
        )

    return st.recursive(leaves, extend, max_leaves=max_leaves)


def program_values(program, at):
    values = evaluate(program, at)
    return [values[o] for o in program.outputs]


def sweep_values(graph, at, mode):
    values = evaluate(graph, at)
    jacobian = SWEEPS[mode](graph, values, list(graph.inputs)).jacobian
    return [entry for row in jacobian for entry in row]


def assert_bit_exact(text, point, mode):
    graph = parse(text)
    at = {name: point[name] for name in graph.input_names}
    program = gradient_program(graph, graph.inputs, mode)
    assert program.input_names == graph.input_names
    got, expected = program_values(program, at), sweep_values(graph, at, mode)
    assert len(got) == len(expected)
    assert all(map(same_number, got, expected)), (text, at, got, expected)


@SETTINGS
@given(expressions(), st.sampled_from(["reverse", "forward"]),
       st.fixed_dictionaries({name: POINT_VALUES for name in "xyz"}))
def test_a_program_gives_the_sweeps_numbers_to_the_last_bit(text, mode, point):
    assert_bit_exact(text, point, mode)
    with pure_python():
        assert_bit_exact(text, point, mode)


@pytest.mark.parametrize("text", [f"{f}(x)" for f in UNARY] + [
    "times(x, y)", "x^y", "x^0", "0^y", "x/y", "x*y - y", "-(x*x)", "x^2 + x^2", "2*y"])
@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_every_op_at_its_edges(text, mode):
    for x in SPECIAL:
        for y in SPECIAL:
            assert_bit_exact(text, {"x": x, "y": y}, mode)


@SETTINGS
@given(expressions(8), st.fixed_dictionaries({name: POINT_VALUES for name in "xyz"}))
def test_a_program_prints_and_parses_back(text, point):
    """One output at a time (a program with several outputs is several expressions)."""
    graph = parse(text)
    assume(graph.inputs)
    at = {name: point[name] for name in graph.input_names}
    program = gradient_program(graph, graph.inputs[:1], "reverse")
    printed = to_text(program)
    again = parse(printed)
    assert all(node.op in OPS or node.op in ("input", "const") for node in again.nodes)
    assert all(map(same_number, program_values(again, {n: at[n] for n in again.input_names}),
                   program_values(program, at))), printed


def test_programs_are_graphs_of_op_table_primitives_named_by_output_and_input():
    graph = parse("a = 2*x + y; z = sin(a)")
    program = gradient_program(graph, graph.inputs)
    assert program.output_names == ("dz/dx", "dz/dy")
    assert to_text(program) == "a = 2*x + y; 2*cos(a); cos(a)"
    assert gradient_program(parse("x*y"), parse("x*y").inputs).output_names == ("df/dx", "df/dy")
    product = parse("x^y")
    assert {n.op for n in gradient_program(product, product.inputs).nodes} >= {"times", "log"}


def test_only_exact_folds():
    """1*t, t*1, (-1)*t and the seed fold; t + 0 and constant arithmetic stay nodes."""
    assert to_text(gradient_program(parse("x - y"), parse("x - y").inputs)) == "1; -1"
    program = gradient_program(parse("x^2"), parse("x^2").inputs)
    assert to_text(program) == "2*x^(2 - 1)"
    assert to_text(gradient_program(parse("x^0"), parse("x^0").inputs)) == "0"


def test_a_program_can_be_differentiated_again():
    graph = parse("x^3*y + sin(x*y)")
    gradient = gradient_program(graph, graph.inputs)
    hessian = gradient_program(gradient, gradient.inputs)
    at = {"x": 0.7, "y": -1.3}
    values = program_values(hessian, at)
    x, y = at["x"], at["y"]
    exact = [6 * x * y - y * y * math.sin(x * y),
             3 * x * x + math.cos(x * y) - x * y * math.sin(x * y)]
    exact += [exact[1], -x * x * math.sin(x * y)]
    assert all(math.isclose(a, b, rel_tol=1e-12) for a, b in zip(values, exact))


def ratio(text: str) -> float:
    graph = parse(text)
    function, program = cost(graph), cost(gradient_program(graph, graph.inputs))
    assert function.nonscalar > 0
    return program.nonscalar / function.nonscalar


def determinant_3x3() -> str:
    a = [[f"a{i}{j}" for j in range(3)] for i in range(3)]
    return (f"{a[0][0]}*({a[1][1]}*{a[2][2]} - {a[1][2]}*{a[2][1]})"
            f" - {a[0][1]}*({a[1][0]}*{a[2][2]} - {a[1][2]}*{a[2][0]})"
            f" + {a[0][2]}*({a[1][0]}*{a[2][1]} - {a[1][1]}*{a[2][0]})")


def mlp(width: int = 4) -> str:
    """Two tanh layers of ``width`` units over ``width`` inputs, weights as inputs too."""
    lines = []
    for i in range(width):
        total = " + ".join(f"w1_{i}{j}*x{j}" for j in range(width))
        lines.append(f"h{i} = tanh({total})")
    lines.append(" + ".join(f"w2_{i}*h{i}" for i in range(width)))
    return "; ".join(lines)


EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
SEEDS = [(EXAMPLES / name).read_text() for name in
         ("seed004_expression.txt", "layered.txt", "shared_square.txt", "regression.txt")]
SEED_004_NETWORK = "a = w1*x1 + w2*x2; b = w3*x1 + w4*x2; sigmoid(w5*tanh(a) + w6*tanh(b))"


@pytest.mark.parametrize("mode", ["reverse"])
@pytest.mark.parametrize("text", [determinant_3x3(), mlp(4), "*".join(f"x{i}" for i in range(1, 9)),
                                  SEED_004_NETWORK, *SEEDS])
def test_all_partials_cost_at_most_three_times_the_nonscalar_operations(text, mode):
    assert ratio(text) <= 3


def test_nonscalar_operations_are_the_nonlinear_ones():
    """Products of two input-dependent factors, divisions by one, functions and powers of
    one; never +, -, negation, or a product with (or a division by) a constant."""
    assert cost(parse("2*x + y/3 - -x + x*pi")).nonscalar == 0
    assert cost(parse("x*y + 1/x + sin(x) + x^2 + 2^x + times(x, y)")).nonscalar == 6
    assert cost(parse("sin(2)*x")).nonscalar == 0


def test_the_program_of_a_long_sum_grows_linearly():
    sizes = {}
    for n in (10, 100, 1000):
        text = " + ".join(f"sin(x{i}*x{i + 1})" for i in range(n))
        graph = parse(text)
        sizes[n] = len(gradient_program(graph, graph.inputs).nodes)
    per_term = [sizes[n] / n for n in (10, 100, 1000)]
    assert max(per_term) < 12 and per_term[2] <= per_term[1] <= per_term[0] + 1


# -- the command line: grad --program, graph --program ----------------------------------


def test_grad_program_lists_the_program_its_outputs_and_its_cost():
    proc = run_cli("grad", "a = x*y; z = sin(a)", "--program")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert "v1 = cos a     # cos(a)" in lines and "  dz/dx = v2" in lines
    rows = {line.split()[0]: line.split()[-3:] for line in lines
            if line.startswith(("ops", "nonscalar"))}
    assert rows == {"ops": ["2", "4", "2.00"], "nonscalar": ["2", "4", "2.00"]}


def test_grad_program_json_carries_the_same():
    proc = run_cli("grad", "x*y*z", "--program", "--json", "--mode", "forward", "--wrt", "x,y")
    assert proc.returncode == 0, proc.stderr
    document = json.loads(proc.stdout)
    program = parse("x*y*z")
    expected = gradient_program(program, program.inputs[:2], "forward")
    assert document["mode"] == "forward" and document["wrt"] == ["x", "y"]
    assert [o["name"] for o in document["program"]["outputs"]] == ["df/dx", "df/dy"]
    assert len(document["program"]["nodes"]) == len(expected.nodes)
    assert document["program"]["cost"]["nonscalar"] == cost(expected).nonscalar
    assert document["ratio"]["nonscalar"] == cost(expected).nonscalar / 2


@pytest.mark.parametrize("args", [("--mode", "paths"), ("--at", "x=1"), ("--format", "markdown"),
                                  ("--explain",)])
def test_grad_program_refuses_what_it_cannot_show(args):
    proc = run_cli("grad", "x*y", "--program", *args)
    assert proc.returncode == 2 and proc.stderr.startswith("backprop: error:")


def test_graph_program_draws_the_program_with_its_values():
    proc = run_cli("graph", "x*y + sin(x)", "--program", "--at", "x=0.5,y=2")
    assert proc.returncode == 0, proc.stderr
    assert "df/dx = 2.878" in proc.stdout  # y + cos(x)
    dot = run_cli("graph", "x^y", "--program", "--format", "dot")
    assert dot.returncode == 0 and "times" in dot.stdout


@pytest.mark.parametrize("text, times", [("x/y/z", 4), ("x^y", 5), ("exp(y*log(x))", 7 / 3)])
def test_where_the_table_passes_the_bound_as_docs_counting_says(text, times):
    """A division's partials are two divisions, x^y's a power, a log and two products."""
    assert ratio(text) == pytest.approx(times)
