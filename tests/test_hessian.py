"""``backprop hessian``: the four pairings of the two sweeps against SymPy's hessian, each
other, symmetry, the pure-Python engine; H v against H times v and central differences;
how each pairing's cost grows with n; the command's bad inputs."""

from __future__ import annotations

import json
import math
import random

import pytest

from backprop.check.symbolic import symbolic_values, symbols_for
from backprop.engine.evaluate import evaluate
from backprop.engine.modes import run_mode
from backprop.engine.ops import OPS
from backprop.frontends.load import load_graph
from backprop.jobs.hessian import PAIRINGS, hessian
from backprop.limits import Limits
from conftest import run_cli

VARIABLES = ("x", "y", "z")
UNARY = sorted(name for name, op in OPS.items() if op.is_function and op.arity == 1)
CALLS = sorted(name for name, op in OPS.items() if op.is_function and op.arity == 2)
BINARY = {"add": "+", "sub": "-", "mul": "*", "div": "/", "pow": "^"}
# each function's argument kept inside its domain and away from its kinks (abs, relu at 0)
# each function's argument kept inside its domain, away from its kinks (abs, relu, sign,
# step at 0) and from overflow (exp of exp of ...)
INSIDE = {"asin": "sigmoid({})*0.9", "acos": "sigmoid({})*0.9", "log": "sigmoid({}) + 0.5",
          "sqrt": "sigmoid({}) + 0.5", "abs": "tanh({}) + 3", "relu": "tanh({}) + 3",
          "sign": "tanh({}) + 3", "step": "tanh({}) + 3", "exp": "tanh({})*2",
          "sinh": "tanh({})*2", "cosh": "tanh({})*2", "tan": "tanh({})"}


def _graph(text: str):
    return load_graph([text], max_nodes=10**6, max_depth=10**6)


def random_expression(rng: random.Random, depth: int) -> str:
    """A random expression over x, y, z with every function and operator (seeded)."""
    if depth == 0 or rng.random() < 0.2:
        return rng.choice(VARIABLES + ("2", "0.5", "1.5"))
    kind = rng.random()
    if kind < 0.45:
        op = rng.choice(UNARY)
        inner = random_expression(rng, depth - 1)
        return f"{op}({INSIDE.get(op, '{}').format(inner)})"
    op = rng.choice(sorted(BINARY))
    a, b = random_expression(rng, depth - 1), random_expression(rng, depth - 1)
    if op == "pow":
        return f"(sigmoid({a}) + 0.5)^(tanh({b}))"  # a positive base
    if op == "div":
        return f"({a}) / (sigmoid({b}) + 1)"
    return f"({a}) {BINARY[op]} ({b})"


def _expressions(count: int) -> list[str]:
    """``count`` random expressions in x, y and z, then one per op, so that every op
    of the table appears."""
    rng = random.Random(13)
    found = []
    while len(found) < count:
        text = random_expression(rng, 3)
        if set(_graph(text).input_names) == set(VARIABLES):
            found.append(text)
    found += [f"{op}({INSIDE.get(op, '{}').format('x*y + 0.3*z')}) * x" for op in UNARY]
    found += [f"(x*z) {symbol} (y + 2)" for symbol in BINARY.values()]
    found += [f"{op}(x*z, y + 2) * sin(x*y)" for op in CALLS]  # times: the programs' op
    return found


EXPRESSIONS = _expressions(30)
POINT = {"x": 0.4, "y": 0.7, "z": 0.3}
AT = ",".join(f"{k}={v}" for k, v in POINT.items())
BIG = Limits(max_ops=10**12, max_nodes=10**9)


def _sympy_hessian(graph) -> list[list[float]]:
    """SymPy's hessian of the graph's own expression, evaluated in 30 digits."""
    import sympy

    symbols = symbols_for(graph)
    f = symbolic_values(graph)[graph.outputs[0]]
    names = list(graph.input_names)
    reference = sympy.hessian(f, [symbols[n] for n in names])
    subs = {symbols[n]: sympy.Float(POINT[n], 30) for n in names}
    return [[float(reference[i, j].evalf(30, subs=subs)) for j in range(len(names))]
            for i in range(len(names))]


def _close(ours: float, reference: float, rel: float, near_zero: float) -> bool:
    return abs(ours - reference) <= max(near_zero, rel * abs(reference))


def test_every_op_appears():
    used = " ".join(EXPRESSIONS)
    assert all(f"{op}(" in used for op in UNARY + CALLS)
    assert all(symbol in used for symbol in BINARY.values())
    assert len(EXPRESSIONS) >= 30 + len(UNARY)


@pytest.mark.parametrize("text", EXPRESSIONS)
def test_every_pairing_is_sympys_hessian_symmetric_and_agrees(text):
    graph = _graph(text)
    report = hessian(graph, at=AT, mode="all", run_check=False, limits=BIG)
    assert set(report.pairings) == set(PAIRINGS)
    reference = _sympy_hessian(graph)
    first = report.pairings["fwd-rev"].hessian
    for name, pairing in report.pairings.items():
        for row, ref_row, first_row in zip(pairing.hessian, reference, first):
            for ours, ref, other in zip(row, ref_row, first_row):
                assert math.isfinite(ours), (name, text)
                assert _close(ours, ref, 1e-9, 1e-12), (name, text, ours, ref)
                assert _close(ours, other, 1e-12, 1e-12), (name, text, ours, other)
        n = len(pairing.hessian)
        assert all(_close(pairing.hessian[i][j], pairing.hessian[j][i], 1e-12, 1e-12)
                   for i in range(n) for j in range(n))
    assert report.symmetry <= 1e-12 and report.agreement <= 1e-12


def test_the_check_passes_on_every_op():
    for text in EXPRESSIONS[-8:]:
        report = hessian(_graph(text), at=AT, limits=BIG)
        assert report.check.status == "pass", (text, report.check)


def test_the_same_under_the_pure_python_engine():
    """One process with the compiled core off gives every pairing's Hessian bit for bit."""
    text = " + ".join(f"({t})" for t in EXPRESSIONS[:4])
    args = ("hessian", text, "--at", AT, "--mode", "all", "--json", "--no-check")
    here = json.loads(run_cli(*args).stdout)
    pure = run_cli(*args, env={"BACKPROP_PURE_PYTHON": "1"}, process=True)
    assert pure.returncode == 0, pure.stderr
    pure = json.loads(pure.stdout)
    assert [p["hessian"] for p in pure["pairings"].values()] == \
        [p["hessian"] for p in here["pairings"].values()]
    assert pure["pairings"]["fwd-fwd"]["counts"] == here["pairings"]["fwd-fwd"]["counts"]


def _gradient(graph, point) -> list[float]:
    values = evaluate(graph, point)
    wrt = list(graph.inputs)
    return [float(v) for v in run_mode("reverse", graph, values, wrt).jacobian[0]]


@pytest.mark.parametrize("text", EXPRESSIONS[:10])
def test_hvp_is_h_times_v_and_central_differences_of_the_gradient(text):
    graph = _graph(text)
    v = {"x": 0.3, "y": -1.2, "z": 0.7}
    report = hessian(graph, at=AT, vector=",".join(f"{k}={x}" for k, x in v.items()),
                     run_check=False, limits=BIG)
    hvp = report.hvp
    assert hvp.status == "pass" and hvp.counts.sweeps == 1
    names = list(graph.input_names)
    h = report.pairings["fwd-rev"].hessian
    by_h = [sum(h[i][j] * v[n] for j, n in enumerate(names)) for i in range(len(names))]
    step = 1e-5
    plus = _gradient(graph, {n: POINT[n] + step * v[n] for n in names})
    minus = _gradient(graph, {n: POINT[n] - step * v[n] for n in names})
    central = [(a - b) / (2 * step) for a, b in zip(plus, minus)]
    scale = max(1.0, max(abs(c) for c in central))
    for ours, a, b in zip(hvp.product, by_h, central):
        assert abs(ours - a) <= 1e-6 * max(1.0, abs(a))
        assert abs(ours - b) <= 1e-6 * scale, (text, ours, b)


def test_hvp_costs_one_sweep_against_n_to_form_h():
    n = 40
    report = hessian(_graph(_family(n)), at="*=0.3", vector="*=1", run_check=False,
                     limits=BIG)
    formed = report.pairings["fwd-rev"].counts
    assert report.hvp.counts.sweeps == 1 and formed.sweeps == n
    assert report.hvp.counts.arithmetic * 10 < formed.arithmetic


def _family(n: int) -> str:
    return "s = " + " + ".join(f"sin(x{i})" for i in range(n)) + "; f = s*s*s"


def test_costs_fwd_rev_at_n_sweeps_and_fwd_fwd_growing_as_n_squared():
    totals = {}
    for n in (10, 100):
        report = hessian(_graph(_family(n)), at="*=0.5", mode="all", run_check=False,
                         limits=BIG)
        assert report.pairings["fwd-rev"].counts.sweeps == n
        assert report.pairings["fwd-rev"].program_nodes <= 3 * len(_graph(_family(n)))
        totals[n] = {name: p.total_ops for name, p in report.pairings.items()}
        assert report.verdict.startswith("fwd-rev is cheapest")
    assert totals[100]["fwd-fwd"] >= 0.8 * 100 * totals[10]["fwd-fwd"]  # 10x n: ~100x work


def test_formulas_without_a_point():
    report = hessian(_graph("x^3*y + sin(y)"), mode="all")
    assert report.check.status == "pass"
    assert report.pairings["fwd-rev"].hessian[0][0] == "6*x*y"
    assert {p.hessian[0][1] for p in report.pairings.values()} == {"3*x**2"}


def test_the_check_falls_back_to_differences_of_the_gradient_on_large_graphs():
    text = " + ".join(f"sin(x*{k} + y)*exp(y/{k})" for k in range(1, 120))
    report = hessian(_graph(text), at="x=0.3,y=0.2", limits=BIG)
    assert report.check.status == "pass"
    assert "differences" in report.check.method


# -- the command -------------------------------------------------------------------------

def test_cli_text_json_markdown():
    text = run_cli("hessian", "x^2*y + sin(y)", "--at", "x=1,y=2", "--mode", "all")
    assert text.returncode == 0, text.stderr
    assert "fwd-fwd" in text.stdout and "verdict" in text.stdout
    doc = json.loads(run_cli("hessian", "x^2*y + sin(y)", "--at", "x=1,y=2", "--json",
                             "--vector", "x=1,y=0").stdout)
    assert doc["version"] == 1 and doc["command"] == "hessian"
    assert doc["hessian"] == [[4.0, 2.0], [2.0, -math.sin(2.0)]]
    assert doc["hvp"]["product"] == [4.0, 2.0] and doc["check"]["status"] == "pass"
    markdown = run_cli("hessian", "x^2*y", "--at", "x=1,y=2", "--format", "markdown")
    assert markdown.returncode == 0 and "| pairing |" in markdown.stdout


@pytest.mark.parametrize("args, column", [
    (("--vector", "x=1"), None),
    (("--vector", "x=1,y=2,z=3"), "z=3"),
    (("--vector", "x=1,y=a"), "a"),
    (("--vector", "x=1,x=2,y=0"), "x=2"),
    (("--vector", "x=1,,y=0"), ",y"),
])
def test_bad_vectors_are_exit_2_with_a_caret(args, column):
    result = run_cli("hessian", "x^2*y", "--at", "x=1,y=2", *args)
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    source = next(line for line in lines if line.strip().startswith("--vector"))
    caret = lines[lines.index(source) + 1]
    assert caret.strip() == "^"
    if column is not None:
        assert source[caret.index("^"):].startswith(column)


@pytest.mark.parametrize("args, code", [
    (("x*y", "x+y", "--at", "x=1,y=2"), 2),  # two outputs
    (("x*y", "--vector", "x=1,y=2"), 2),  # --vector without a point
    (("x*y", "--at", "x=1,y=2", "--mode", "forward"), 2),
    (("x*y", "--at", "x=1,y=2", "--json", "--format", "markdown"), 2),
    (("x*y*z*w", "--at", "*=1", "--max-ops", "20"), 3),
    (("x*y*z*w", "--at", "*=1", "--max-ops", "20", "--mode", "all"), 3),
    (("log(x)*y", "--at", "x=0,y=1", "--strict", "--no-check"), 4),
])
def test_bad_inputs_and_limits(args, code):
    assert run_cli("hessian", *args).returncode == code


@pytest.mark.parametrize("args", [("examples/mnist_shaped.yaml",),
                                  ("examples/seed004.yaml", "--max-ops", "500"),
                                  ("examples/seed004.yaml", "--max-nodes", "100")])
def test_a_spec_too_large_is_refused_before_any_work(args):
    result = run_cli("hessian", *args)
    assert result.returncode == 3 and result.stdout == ""


def test_a_spec_s_hessian_by_every_pairing():
    result = run_cli("hessian", "examples/seed004.yaml", "--mode", "all", "--json")
    document = json.loads(result.stdout)
    assert result.returncode == 0 and document["check"]["status"] == "pass", document["check"]
    assert document["agreement"] <= 1e-12 and document["symmetry"] <= 1e-12


@pytest.mark.parametrize("text", ["x^3*y + sin(y)",
                                  " + ".join(f"sin(x*{k} + y)" for k in range(1, 150))])
def test_the_check_fails_a_wrong_hessian(text):
    """Both references (SymPy's hessian; differences of the gradient) catch a wrong entry."""
    from backprop.engine.program import gradient_program
    from backprop.jobs.hessian_check import compare_hessian

    graph = _graph(text)
    report = hessian(graph, at="x=0.3,y=0.2", run_check=False, limits=BIG)
    wrong = [list(row) for row in report.hessian]
    wrong[0][1] += 1e-6 * max(1.0, abs(wrong[0][1]))
    program = gradient_program(graph, list(graph.inputs))
    names = list(graph.input_names)
    point = {"x": 0.3, "y": 0.2}
    for hessian_matrix, status in ((report.hessian, "pass"), (wrong, "fail")):
        verdict = compare_hessian(graph, program, names, names, hessian_matrix, point,
                                  1e-9, 1e-12, "method")
        assert verdict.status == status, verdict


def test_explain_narrates_the_second_sweep_over_the_gradient_program(cli):
    """--explain writes the steps of the first pairing's second sweep, run on the gradient
    program: they add up to the printed Hessian, in every format; rev-rev narrates reverse
    mode; a symbolic explanation gives the formulas."""
    import json

    proc = cli("hessian", "x*y^2 + sin(x)", "--at", "x=1,y=2", "--explain")
    assert proc.returncode == 0, proc.stderr
    assert "Forward mode" in proc.stdout
    assert "✓ the steps of forward mode add up to the printed gradient" in proc.stdout
    assert "∂(df/dx)/∂y = 4.0" in proc.stdout
    back = cli("hessian", "x*y^2 + sin(x)", "--at", "x=1,y=2", "--explain", "--mode", "rev-rev")
    assert "Reverse mode" in back.stdout and "✓" in back.stdout
    document = json.loads(cli("hessian", "x*y^2 + sin(x)", "--at", "x=1,y=2", "--explain",
                              "--json").stdout)
    assert document["explain"]["agrees"] is True and document["explain"]["modes"] == ["forward"]
    markdown = cli("hessian", "x*y^2", "--at", "x=1,y=2", "--explain", "--format", "markdown")
    assert "<details>" in markdown.stdout
    symbolic = cli("hessian", "x*y^2", "--explain")
    assert "∂(df/dy)/∂y = 2*x" in symbolic.stdout
    plain = cli("hessian", "x*y^2", "--at", "x=1,y=2")
    assert "Step by step" not in plain.stdout
