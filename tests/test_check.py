"""The check must be able to fail: it compares against SymPy's diff, not against itself."""

from __future__ import annotations

import math

import pytest
import sympy

from backprop.check.check import check
from backprop.check.symbolic import symbols_for
from backprop.frontends.parse import parse


def test_check_passes_a_correct_gradient_at_a_point():
    graph = parse("sin(2*x+y)")
    import math
    result = check(graph, ["x", "y"], [[2 * math.cos(4), math.cos(4)]], {"x": 1.0, "y": 2.0})
    assert result.status == "pass"
    assert result.max_error < 1e-15


def test_check_fails_a_wrong_number():
    graph = parse("sin(2*x+y)")
    result = check(graph, ["x", "y"], [[1.0, 2.0]], {"x": 1.0, "y": 2.0})
    assert result.status == "fail"
    assert "dx" in result.reason


def test_check_fails_a_wrong_formula_and_passes_a_right_one():
    graph = parse("x*sin(x)")
    x = symbols_for(graph)["x"]
    assert check(graph, ["x"], [[sympy.cos(x)]], None).status == "fail"
    right = sympy.sin(x) + x * sympy.cos(x)
    assert check(graph, ["x"], [[right]], None).status == "pass"


def test_check_times_out_and_says_so():
    graph = parse("x*exp(exp(exp(10*e)))")  # SymPy evaluates e^(e^(e^27)): never ends
    result = check(graph, ["x"], [[math.inf]], {"x": 1.0}, timeout=0.5)
    assert result.status == "skipped"
    assert "did not finish within 0.5 s" in result.reason and "--check-timeout" in result.reason


def test_the_verdict_figure_is_relative():
    graph = parse("1e6*x")
    result = check(graph, ["x"], [[1e6 + 1e-4]], {"x": 1.0})
    assert result.status == "pass"
    assert result.max_error == pytest.approx(1e-10, rel=1e-3)
    assert result.max_abs_error == pytest.approx(1e-4, rel=1e-3)


def test_check_samples_variables_on_large_graphs():
    text = "+".join(f"x{i}*x{i+1}" for i in range(40))
    graph = parse(text)
    names = list(graph.input_names)
    point = {n: 1.0 for n in names}
    gradient = [[2.0 if 0 < k < 40 else 1.0 for k in range(len(names))]]
    result = check(graph, names, gradient, point)
    assert result.status == "pass"
    assert "sample of 20 of 41" in result.method and len(result.checked) == 20
