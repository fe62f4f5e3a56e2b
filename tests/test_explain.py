"""--explain: the steps are the modes' own arithmetic, written for a person, and they add up."""

from __future__ import annotations

import json
import math
import re

import pytest
import sympy

from backprop.errors import LimitError
from backprop.engine.printer import node_texts
from backprop.jobs.paths import display_names
from backprop.jobs.explain import EXPLAIN_MAX_NODES, explain, explain_report
from backprop.jobs.explain_text import names_and_precedence, node_names
from backprop.engine.graph import GraphBuilder
from backprop.frontends.parse import parse
from backprop.jobs.grad import grad
from conftest import run_cli

EXPRESSIONS = [
    ("sin(x^2)+cos(x^2)", "x=0.5"),
    ("a = 2*x + y; z = sin(a)", "x=1,y=2"),
    ("x*x*y - x/y + exp(-x)*tanh(y)", "x=0.7,y=1.3"),
    ("h1 = x*x; h2 = h1*h1; h3 = h2*h2", "x=1.1"),
    ("sqrt(x^2 + y^2) + log(x) - atan(y/x)", "x=2,y=0.5"),
]
MODES = ("forward", "paths", "reverse")


def by_kind(explanation, kind, mode=None):
    return [s for s in explanation.steps if s.kind == kind and (mode is None or s.mode == mode)]


@pytest.mark.parametrize("expr, at", EXPRESSIONS)
def test_numeric_steps_add_up_to_the_printed_gradient(expr, at):
    report = grad(parse(expr), at=at, mode="all", run_check=False)
    explanation = explain_report(report)
    assert explanation.agrees is True
    assert explanation.steps[-1].kind == "total" and "✓" in explanation.steps[-1].text
    wrt_ids = [report.graph.inputs[report.graph.input_names.index(n)] for n in report.wrt]
    names = node_names(report.graph)
    for k, name in enumerate(report.wrt):
        expected = report.results["reverse"].jacobian[0][k]
        # reverse: the contributions into adj[x] add up to the gradient
        contributions = [s.number for s in by_kind(explanation, "adjoint", "reverse")
                         if s.node == names[wrt_ids[k]]]
        assert math.fsum(contributions) == pytest.approx(expected, rel=1e-12, abs=1e-15)
        # paths: the path products that start at x add up to the gradient
        products = [s.number for s in by_kind(explanation, "path", "paths")
                    if s.node == names[wrt_ids[k]]]
        assert math.fsum(products) == pytest.approx(expected, rel=1e-12, abs=1e-15)
        # every mode's result steps are exactly its printed column
        for mode in MODES:
            results = [s for s in explanation.steps
                       if s.kind in ("result", "sum") and s.mode == mode and s.node == name]
            assert [float(s.number) for s in results] == [report.results[mode].jacobian[0][k]]


@pytest.mark.parametrize("expr, _", EXPRESSIONS[:4])
def test_symbolic_steps_add_up_to_sympys_derivative(expr, _):
    graph = parse(expr)
    report = grad(graph, mode="all", run_check=False)
    explanation = explain_report(report)
    assert explanation.symbolic and explanation.agrees is True
    symbols = {n: sympy.Symbol(n, real=True) for n in graph.input_names}
    from backprop.check.check import symbolic_values

    output = symbolic_values(graph)[graph.outputs[0]]
    names = node_names(graph)
    for k, name in enumerate(report.wrt):
        reference = sympy.diff(output, symbols[name])
        node = names[graph.inputs[graph.input_names.index(name)]]
        contributions = [s.number for s in by_kind(explanation, "adjoint", "reverse")
                         if s.node == node]
        assert sympy.simplify(sum(contributions) - reference) == 0
        products = [s.number for s in by_kind(explanation, "path", "paths") if s.node == node]
        assert sympy.simplify(sum(products) - reference) == 0


def test_shared_square_adjoint_collects_both_contributions():
    graph = parse("sin(x^2)+cos(x^2)")
    explanation = explain(graph, ["x"], {"x": 0.5}, ("reverse",))
    into_square = [s for s in by_kind(explanation, "adjoint") if s.node == "x^2"]
    assert len(into_square) == 2
    assert {s.formula for s in into_square} == {"adj[x^2] += adj[sin(x^2)] * cos(x^2)",
                                                "adj[x^2] += adj[cos(x^2)] * (-sin(x^2))"}
    assert "so adj[x^2] =" in into_square[1].text  # the second one adds to the first
    total = into_square[0].number + into_square[1].number
    assert total == pytest.approx(math.cos(0.25) - math.sin(0.25), rel=1e-15)
    notes = [s.text for s in by_kind(explanation, "note", "reverse")]
    assert any("x^2 feeds 2 edges" in text for text in notes)


def test_the_brief_example_reads_as_written():
    graph = parse("a = 2*x + y; z = sin(a)")
    explanation = explain(graph, None, {"x": 1.0, "y": 2.0}, ("reverse",))
    texts = [s.text for s in explanation.steps]
    assert "adj[a] += adj[z] * cos(a) = 1 * -0.6536 = -0.6536" in texts
    assert "∂z/∂a = cos(a) = -0.6536" in texts
    assert "a = 2*x + y = 2 + 2 = 4   [add]" in texts


def test_paths_are_written_from_the_output_back_like_seed_004():
    graph = parse("a = 2*x + y; z = sin(a)")
    explanation = explain(graph, ["x"], {"x": 1.0, "y": 2.0}, ("paths",))
    (path,) = by_kind(explanation, "path")
    assert path.text.startswith("path 1: z → a → 2*x → x: cos(a) * 1 * 2 = -0.6536 * 1 * 2")
    assert path.number == pytest.approx(2 * math.cos(4), rel=1e-15)


def test_forward_mode_writes_each_tangent():
    graph = parse("sin(x^2)+cos(x^2)")
    explanation = explain(graph, ["x"], {"x": 0.5}, ("forward",))
    tangents = [s.formula for s in by_kind(explanation, "tangent")]
    assert tangents[-1] == "t_x[f] = t_x[sin(x^2)] * 1 + t_x[cos(x^2)] * 1"


def test_names_are_findable_never_internal_ids():
    graph = parse("a = 2*x + y; b = a*a; sin(b) + 3*x")
    explanation = explain(graph, None, {"x": 1.0, "y": 2.0}, ("reverse", "forward"))
    for step in explanation.steps:
        assert not re.search(r"\bv\d+\b|_n\d+", step.text), step.text
    names = node_names(graph)
    assert {"a", "b", "x", "y", "2*x", "3*x", "sin(b)", "f"} <= set(names)
    assert len(set(names)) == len(names)


def test_long_names_are_the_graph_names_and_stay_unique():
    text = "+".join(f"sin(x{i})" for i in range(60))
    graph = parse(text)
    names, precedence = names_and_precedence(graph)
    assert max(len(n) for n in names) <= 40
    assert len(set(names)) == len(names)
    long = [i for i, name in enumerate(names) if name != "f" and len(name) < 40
            and name == graph.names[i] and graph.nodes[i].label is None]
    assert long, "some sum is too long to print whole, so it goes by its graph name"
    assert all(precedence[i] == 100 for i in long)  # a name binds like an atom


def test_every_view_names_a_node_from_the_one_table():
    graph = parse("x*y*z*x*y*z*x + sin(x*y*z*x*y*z*x*y*z*x*y*z) + 1")
    texts = node_texts(graph)
    explained, listed = names_and_precedence(graph)[0], display_names(graph)
    assert explained != listed  # the views differ in width, not in where names come from
    for i, node in enumerate(graph.nodes):
        if i not in graph.outputs:
            for view in (explained[i], listed[i]):
                assert view in (node.label, texts[i], graph.names[i])


def test_labels_with_odd_characters_print_as_they_are():
    builder = GraphBuilder()
    x = builder.input("hidden.a[0]")
    out = builder.apply("tanh", x)
    builder.label(out, 'say "hi" <b>')
    graph = builder.build([out])
    explanation = explain(graph, None, {"hidden.a[0]": 0.3}, ("reverse",))
    texts = "\n".join(s.text for s in explanation.steps)
    assert 'adj[hidden.a[0]] += adj[say "hi" <b>] * (1 - say "hi" <b>^2)' in texts


def test_huge_graphs_are_refused_with_a_limit():
    graph = parse("+".join(f"x{i}" for i in range(EXPLAIN_MAX_NODES)))
    with pytest.raises(LimitError, match="explanation limit"):
        explain(graph, None, None)
    layered = parse("; ".join(["h1 = x*x"] + [f"h{k} = h{k - 1}*h{k - 1}" for k in range(2, 11)]))
    with pytest.raises(LimitError, match="1,024 paths"):
        explain(layered, None, {"x": 1.0}, ("paths",))


def test_cli_explain_text_json_and_limits():
    proc = run_cli("grad", "sin(x^2)+cos(x^2)", "--at", "x=0.5", "--explain")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("adj[x^2] +=") == 2
    assert "✓ the steps of reverse mode add up to the printed gradient: ∂f/∂x = " \
           f"{-2 * 0.5 * math.sin(0.25) + 2 * 0.5 * math.cos(0.25)!r}" in proc.stdout

    proc = run_cli("grad", "sin(2*x+y)", "--at", "x=1,y=2", "--explain", "--json",
                   "--mode", "all")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    steps = doc["explain"]["steps"]
    assert doc["explain"]["agrees"] is True and doc["explain"]["symbolic"] is False
    assert {s["section"] for s in steps} == {"value", "partial", "forward", "paths", "reverse",
                                             "total"}
    assert steps[-1]["kind"] == "total"
    results = [s for s in steps if s["kind"] == "result" and s["mode"] == "reverse"]
    assert [s["number"] for s in results] == [doc["gradient"]["x"]["value"],
                                              doc["gradient"]["y"]["value"]]
    assert "explain" not in json.loads(run_cli("grad", "x", "--json").stdout)

    proc = run_cli("grad", "sin(2*x+y)", "--explain", "--json")
    numbers = [s["number"] for s in json.loads(proc.stdout)["explain"]["steps"]
               if s["kind"] == "result"]
    assert numbers == ["2*cos(2*x + y)", "cos(2*x + y)"]

    big = "+".join(f"sin(x*{i})" for i in range(1, 200))
    proc = run_cli("grad", "-", "--at", "x=1", "--explain", stdin=big)
    assert proc.returncode == 3 and "explanation limit" in proc.stderr
    assert "Traceback" not in proc.stderr and proc.stdout == ""


def test_cli_markdown_report():
    proc = run_cli("grad", "sin(x^2)+cos(x^2)", "--at", "x=0.5", "--format", "markdown",
                   "--mode", "all", "--explain")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert out.startswith("## backprop grad\n")
    assert "| `x` | 0.7215084624561218 | 0.7215084624561218 | 0.7215084624561218 |" in out
    assert "| mode | sweeps | primitive_evals |" in out and "| paths | 0 |" in out
    assert "✅ **check passed**" in out
    assert "```mermaid\nflowchart LR" in out
    assert "<details><summary>Step by step (--explain)</summary>" in out
    big = run_cli("grad", "-", "--at", "x=1", "--format", "markdown",
                  stdin="+".join(f"sin(x*{i})" for i in range(1, 30)))
    assert big.returncode == 0 and "```mermaid" not in big.stdout
    assert "pictures are embedded up to 50 nodes" in big.stdout


def test_cli_format_choices():
    assert json.loads(run_cli("grad", "x*y", "--format", "json").stdout)["command"] == "grad"
    assert json.loads(run_cli("grad", "x*y", "--json").stdout)["command"] == "grad"
    for args in (["--format", "bmp"], ["--json", "--format", "markdown"]):
        proc = run_cli("grad", "x*y", *args)
        assert proc.returncode == 2 and proc.stderr.startswith("backprop: error:")
        assert "Traceback" not in proc.stderr


def test_an_explanation_stops_at_the_check_timeout():
    """Printing a symbolic step orders its terms, which can evaluate e^(e^(6.4e11)) for
    ever: the explanation runs on the side and stops at --check-timeout (exit 3)."""
    from backprop.errors import LimitError
    from backprop.jobs.explain import Narrated, explain_bounded
    from backprop.limits import Limits

    report = grad(parse("exp(exp(exp(10*e)))+x"), limits=Limits(check_timeout=1))
    with pytest.raises(LimitError, match="did not finish within 1 s"):
        explain_bounded(Narrated.of(report), 1)
    quick = grad(parse("sin(x^2)"))
    assert [(s.text, str(s.number)) for s in explain_bounded(Narrated.of(quick), 10).steps] == \
        [(s.text, str(s.number)) for s in explain_report(quick).steps]
