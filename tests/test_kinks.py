"""Kinks made visible, and the untaken branch that never poisons the gradient.

At every piecewise op's kink, grad reports the node, the one-sided derivatives and the one
taken, every mode uses the documented one, --strict exits 4, and the JSON carries it. A
where (or max, min, clip) whose untaken branch is nan gives an exact 0 from that branch in
every mode, both engines, and the gradient program. Bad input: one line, a caret, exit 2."""

from __future__ import annotations

import json
import math

import pytest

from backprop.engine.evaluate import evaluate
from backprop.engine.kinks import find_kinks
from backprop.engine.modes.forward import forward
from backprop.engine.modes.paths import paths
from backprop.engine.modes.reverse import reverse
from backprop.engine.program import gradient_program
from backprop.frontends.parse import parse
from conftest import run_cli
from test_core import pure_python

# expression, point, the op on the kink, left and right partials (per argument of that
# node), the gradient every mode gives (the documented convention), per input
KINKS = [
    ("abs(x)", "x=0", "abs", [-1], [1], {"x": 0.0}),
    ("relu(x)", "x=0", "relu", [0], [1], {"x": 0.0}),
    ("sign(x)*3", "x=0", "sign", [0], [0], {"x": 0.0}),
    ("max(x, y)", "x=1,y=1", "max", [0, 0], [1, 1], {"x": 1.0, "y": 0.0}),
    ("min(x, y)", "x=1,y=1", "min", [1, 1], [0, 0], {"x": 1.0, "y": 0.0}),
    ("max(x, 2, y)", "x=2,y=1", "max", [0, 0], [1, 1], {"x": 1.0, "y": 0.0}),
    ("clip(x, 0, 1)", "x=0", "max", [0, 0], [1, 1], {"x": 1.0}),
    ("clip(x, 0, 1)", "x=1", "min", [1, 1], [0, 0], {"x": 1.0}),
    ("where(x > 1, 3*x, 2*x)", "x=1", "where", [0, 0, 1], [0, 1, 0], {"x": 2.0}),
    ("where(x >= 1, 3*x, 2*x)", "x=1", "where", [0, 0, 1], [0, 1, 0], {"x": 3.0}),
    ("where(x < 1, 3*x, 2*x)", "x=1", "where", [0, 1, 0], [0, 0, 1], {"x": 2.0}),
    ("where(1 <= x, 3*x, 2*x)", "x=1", "where", [0, 1, 0], [0, 0, 1], {"x": 3.0}),
    ("leaky_relu(x, 0.1)", "x=0", "leaky_relu", [0.1, 0], [1, 0], {"x": 0.1}),
    ("hypot(x, y)", "x=0,y=0", "hypot", [-1, -1], [1, 1], {"x": 0.0, "y": 0.0}),
    ("floor(x)*y", "x=2,y=3", "floor", [0], [0], {"x": 0.0, "y": 2.0}),
    ("ceil(x)*y", "x=-1,y=3", "ceil", [0], [0], {"x": 0.0, "y": -1.0}),
]


@pytest.mark.parametrize("text, at, op, left, right, gradient", KINKS)
def test_a_kink_is_reported_and_every_mode_takes_the_documented_side(text, at, op, left,
                                                                       right, gradient):
    result = run_cli("grad", text, "--at", at, "--mode", "all", "--json")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    kink = next(k for k in document["kinks"] if k["op"] == op)
    assert kink["left"] == left and kink["right"] == right
    for mode in ("forward", "paths", "reverse"):
        assert document["modes"][mode]["jacobian"][0] == \
            [gradient[n] for n in document["wrt"]], mode
    assert any("on a kink" in w and kink["node"] in w for w in document["warnings"])
    assert document["check"]["status"] in ("pass", "skipped")  # a convention, not a failure
    strict = run_cli("grad", text, "--at", at, "--strict")
    assert strict.returncode == 4
    assert "on a kink" in strict.stderr and "--strict" in strict.stderr


@pytest.mark.parametrize("text, at, op, left, right, gradient", KINKS)
def test_the_taken_side_is_the_same_in_both_engines(text, at, op, left, right, gradient):
    graph = parse(text)
    point = dict((pair.split("=")[0], float(pair.split("=")[1])) for pair in at.split(","))
    values = evaluate(graph, point)
    found = find_kinks(graph, values)
    assert found and any(k.op == op for k in found)
    ours = reverse(graph, values, graph.inputs).jacobian
    with pure_python():
        reference = reverse(graph, evaluate(graph, point), graph.inputs).jacobian
    assert ours == reference == [[gradient[n] for n in graph.input_names]]


def test_the_console_names_the_node_and_both_sides():
    result = run_cli("grad", "max(x, y)", "--at", "x=1,y=1")
    assert result.returncode == 0
    assert "max(x, y) is on a kink, max at a tie" in result.stdout + result.stderr
    assert "d/dx: 0 from the left, 1 from the right, 1 taken" in result.stdout + result.stderr


@pytest.mark.parametrize("text", ["abs(x - 1)", "relu(x)", "max(x, 3)", "where(x > 0, x, -x)"])
def test_away_from_a_kink_nothing_is_said(text):
    result = run_cli("grad", text, "--at", "x=0.5", "--json", "--strict")
    assert result.returncode == 0
    assert "kinks" not in json.loads(result.stdout)


# --------------------------------------------------------------------------- untaken branch

POISON = [
    ("where(x > 0, sqrt(x), 0)", {"x": -1.0}, [0.0]),
    ("where(x < 0, 0, log(x)) * 2", {"x": -3.0}, [0.0]),
    ("where(x > 0, log(x), x)", {"x": 0.0}, [1.0]),
    ("y * where(x > 0, sqrt(x), x^2)", {"x": -2.0, "y": 3.0}, [4.0, -12.0]),  # y, x
    ("max(where(x > 0, sqrt(x), 0), x)", {"x": -1.0}, [0.0]),
    ("s = sqrt(x); where(x > 0, s, 1) + where(x > 0, s*s, 2)", {"x": -1.0}, [0.0]),
]


@pytest.mark.parametrize("text, point, expected", POISON)
def test_the_untaken_branch_gives_an_exact_zero_in_every_mode(text, point, expected):
    graph = parse(text)
    at = {n: point[n] for n in graph.input_names}
    values = evaluate(graph, at)
    for mode in (forward, paths, reverse):
        assert mode(graph, values, graph.inputs).jacobian == [expected], mode.__name__
    with pure_python():
        values = evaluate(graph, at)
        assert reverse(graph, values, graph.inputs).jacobian == [expected]
    for sweep in ("reverse", "forward"):
        program = gradient_program(graph, graph.inputs, sweep)
        program_values = evaluate(program, at)
        assert [program_values[o] for o in program.outputs] == expected, sweep


def test_grad_says_zero_in_every_mode_and_explain_says_why():
    result = run_cli("grad", "where(x > 0, sqrt(x), 0)", "--at", "x=-1", "--mode", "all",
                     "--json")
    document = json.loads(result.stdout)
    assert result.returncode == 0
    assert all(m["jacobian"] == [[0.0]] for m in document["modes"].values())
    explained = run_cli("grad", "where(x > 0, sqrt(x), 0)", "--at", "x=-1", "--mode", "all",
                        "--explain", "--no-check")
    assert explained.returncode == 0
    lines = [line for line in explained.stdout.splitlines() if "a branch not taken" in line]
    assert any(line.strip().startswith("adj[x]") for line in lines)  # reverse mode
    assert any(line.strip().startswith("t_x[") for line in lines)  # forward mode
    assert any(line.strip().startswith("path") for line in lines)  # path enumeration


def test_without_a_selecting_op_ieee_arithmetic_is_unchanged():
    """0 * log(x) at 0 keeps its nan (the check's note explains it): only where, max and
    min make an exact zero of the branch they do not take."""
    graph = parse("0*log(x) + x")
    values = evaluate(graph, {"x": 0.0})
    assert math.isnan(reverse(graph, values, graph.inputs).jacobian[0][0])


# --------------------------------------------------------------------------- bad input

@pytest.mark.parametrize("text, column", [
    ("where(x, 1, 2)", 0), ("x < y", 2), ("max()", 4), ("clip(x, 1)", 9), ("min(x)", 5),
    ("where(x > 0, 1)", 14), ("where(x > 0 > 1, 1, 2)", 12), ("1 + (x > 0)", 7),
    ("where(x == 0, 1, 2)", 8), ("logsumexp()", 10), ("atan2(y)", 7),
    ("hypot(x, y, z)", 10), ("floor(x, 1)", 7), ("where(x => 0, 1, 2)", 8),
    ("where(x > 0, 1, 2) < 3", 19), ("leaky_relu(x)", 12),
])
def test_bad_input_is_one_line_with_a_caret_and_exit_2(text, column):
    result = run_cli("grad", text, "--at", "x=1,y=2,z=3")
    assert result.returncode == 2, result.stdout
    lines = result.stderr.splitlines()
    assert lines[0].startswith("backprop: error: ") and "Traceback" not in result.stderr
    caret = next(line for line in lines if line.strip() == "^")
    assert caret.index("^") - 2 == column, result.stderr
