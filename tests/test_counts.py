"""Exact counts, worked out by hand in docs/counting.md, asserted for every mode.

The tables below are the documentation's numbers: if a mode's loop or the convention
changes, these tests and docs/counting.md must change together.
"""

from __future__ import annotations

import pytest

from backprop.engine.counts import Counts
from backprop.engine.evaluate import evaluate
from backprop.frontends.families import FAMILIES
from backprop.engine.modes import run_mode
from backprop.engine.modes import forward as forward_mode
from backprop.engine.modes import paths as paths_mode
from backprop.frontends.parse import parse

LAYERED_5 = "h1 = x*x; h2 = h1*h1; h3 = h2*h2; h4 = h3*h3; h5 = h4*h4"

# (sweeps, primitive_evals, partial_evals, multiplications, additions, paths, peak_values)
EXPECTED = {
    "sin(2*x+y)": {
        "forward": (2, 3, 5, 5, 0, None, 10),
        "paths": (0, 3, 4, 3, 0, 2, 14),
        "reverse": (1, 3, 4, 4, 0, None, 11),
    },
    "sin(x^2)+cos(x^2)": {
        "forward": (1, 4, 5, 5, 1, None, 11),
        "paths": (0, 4, 5, 4, 1, 2, 15),
        "reverse": (1, 4, 5, 5, 1, None, 11),
    },
    "cos(x^2)": {
        "forward": (1, 2, 2, 2, 0, None, 7),
        "paths": (0, 2, 2, 1, 0, 1, 9),
        "reverse": (1, 2, 2, 2, 0, None, 7),
    },
    LAYERED_5: {
        "forward": (1, 5, 10, 10, 5, None, 12),
        "paths": (0, 5, 10, 128, 31, 32, 22),
        "reverse": (1, 5, 10, 10, 5, None, 12),
    },
}

JACOBIAN = ("x*y", "x+y", "sin(x)", "x-y")
JACOBIAN_EXPECTED = {
    "forward": (2, 4, 7, 7, 0, None, 11),
    "paths": (0, 4, 7, 0, 0, 7, 15),
    "reverse": (4, 4, 7, 7, 0, None, 9),
}


def counts_of(graph, mode: str) -> Counts:
    values = evaluate(graph, {name: 0.3 + 0.1 * k for k, name in enumerate(graph.input_names)})
    return run_mode(mode, graph, values, list(graph.inputs)).counts


def as_tuple(counts: Counts) -> tuple:
    return (counts.sweeps, counts.primitive_evals, counts.partial_evals,
            counts.multiplications, counts.additions, counts.paths, counts.peak_values)


@pytest.mark.parametrize("text", list(EXPECTED))
@pytest.mark.parametrize("mode", ["forward", "paths", "reverse"])
def test_seed_examples_have_the_documented_counts(text, mode):
    assert as_tuple(counts_of(parse(text), mode)) == EXPECTED[text][mode]


@pytest.mark.parametrize("mode", ["forward", "paths", "reverse"])
def test_jacobian_example_has_the_documented_counts(mode):
    assert as_tuple(counts_of(parse(*JACOBIAN), mode)) == JACOBIAN_EXPECTED[mode]


def test_operations_are_partials_plus_multiplications_plus_additions():
    counts = counts_of(parse("sin(2*x+y)"), "reverse")
    assert counts.arithmetic == 4 + 4 + 0


@pytest.mark.parametrize("layers", range(1, 11))
def test_layered_counts_follow_the_closed_forms(layers):
    graph = FAMILIES["layered"].build(layers)
    paths = 2 ** layers
    assert counts_of(graph, "reverse").arithmetic == 5 * layers
    assert counts_of(graph, "forward").arithmetic == 5 * layers
    counts = counts_of(graph, "paths")
    assert counts.paths == paths
    assert counts.multiplications == (layers - 1) * paths
    assert counts.additions == paths - 1
    assert counts.arithmetic == 2 * layers + (layers - 1) * paths + paths - 1


def test_sum_of_twenty_inputs_matches_the_documented_estimate():
    graph = parse("+".join(f"x{i}" for i in range(1, 21)))
    estimated = forward_mode.estimate(graph, list(graph.inputs))
    n = 20
    assert estimated.partial_evals == (n - 1) + n * (n - 1) // 2 == 209
    assert as_tuple(estimated) == (20, 19, 209, 209, 0, None, 59)
    assert estimated == counts_of(graph, "forward")
    assert as_tuple(counts_of(graph, "paths")) == (0, 19, 38, 189, 0, 20, 97)
    assert as_tuple(counts_of(graph, "reverse")) == (1, 19, 38, 38, 0, None, 78)


def test_sum_of_100000_inputs_is_estimated_exactly_without_running():
    n = 100_000
    graph = parse("+".join(f"x{i}" for i in range(n)), max_nodes=10**7, max_depth=10**7)
    wrt = list(graph.inputs)
    estimated = forward_mode.estimate(graph, wrt)
    assert estimated.sweeps == n
    assert estimated.partial_evals == (n - 1) + n * (n - 1) // 2 == 5_000_049_999
    assert estimated.peak_values == len(graph) + n  # x0's cone: x0 and every addition
    plan = paths_mode.plan(graph, wrt)
    assert plan.paths == n
    assert plan.multiplications == 5_000_049_999 - n
    assert plan.additions == 0


def test_paths_counts_come_from_the_plan_before_any_walk():
    text = "h1 = x*x" + "".join(f"; h{i} = h{i - 1}*h{i - 1}" for i in range(2, 61))
    graph = parse(text)
    plan = paths_mode.plan(graph, list(graph.inputs))
    assert plan.paths == 2**60
    assert plan.multiplications == 59 * 2**60
    assert plan.edges == 120
    assert paths_mode.estimate(graph, list(graph.inputs), plan).paths == 2**60


def test_wrt_subset_counts_only_the_edges_that_carry_a_derivative():
    graph = parse("sin(2*x+y)")
    y = [graph.inputs[graph.input_names.index("y")]]
    values = evaluate(graph, {"x": 1.0, "y": 2.0})
    assert as_tuple(run_mode("reverse", graph, values, y).counts) == (1, 3, 2, 2, 0, None, 9)
    assert as_tuple(run_mode("forward", graph, values, y).counts) == (1, 3, 2, 2, 0, None, 9)
    assert as_tuple(run_mode("paths", graph, values, y).counts) == (0, 3, 2, 1, 0, 1, 11)
