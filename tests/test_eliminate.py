"""Vertex elimination (engine/eliminate.py, jobs/eliminate.py): forward and reverse order
reproduce forward and reverse mode's multiplications under the documented mapping, the
searched optimum is the exhaustive one, and every order gives the modes' Jacobian."""

from __future__ import annotations

import itertools
import json
import random

import pytest

from backprop.engine import eliminate as elim
from backprop.engine.evaluate import evaluate
from backprop.engine.modes import agreement, run_mode
from backprop.frontends.families import FAMILIES
from backprop.frontends.load import load_graph
from backprop.frontends.parse import parse

from conftest import ROOT, run_cli
from test_sparse import random_graphs

SEED_EXPRESSIONS = ["sin(2*x+y)", "cos(x^2)", "sin(x^2)+cos(x^2)",
                    "h1 = x*x; h2 = h1*h1; h3 = h2*h2; h4 = h3*h3; h5 = h4*h4"]
SHAPES = [("x*y", "sin(x*y)", "x"), ("x", "x", "x*x"), ("x*y", "x+y", "sin(x)", "x-y"),
          ("a = x*y; b = a*a", "a2 = x*y; sin(a2) + x"), ("x*x*x",), ("2*3",),
          ("exp(x) + y", "exp(x)")]


def _seed004(wrt_names=None):
    graph = load_graph([str(ROOT / "examples" / "seed004.yaml")], max_nodes=10**6,
                       max_depth=10**6)
    names = wrt_names or graph.input_names
    return graph, [i for i in graph.inputs if graph.nodes[i].label in names]


def _cases():
    for text in SEED_EXPRESSIONS:
        graph = parse(text)
        yield graph, list(graph.inputs)
    for texts in SHAPES:
        graph = parse(*texts)
        yield graph, list(graph.inputs)
    yield _seed004(["w5"])  # the seed's own example: dL/dw5
    yield _seed004()
    graph = FAMILIES["tridiag"].build(6)
    yield graph, list(graph.inputs)
    for graph in random_graphs(50, seed=21):
        yield graph, list(graph.inputs)


def _values(graph):
    if graph.defaults:
        return evaluate(graph, graph.defaults)
    rng = random.Random(0)
    return evaluate(graph, {n: rng.uniform(0.1, 0.9) for n in graph.input_names})


@pytest.mark.parametrize("pure", [False, True])
def test_forward_and_reverse_order_reproduce_the_modes_multiplications(pure, monkeypatch):
    """mode = order + seeds + parallel + dead - copies, each term counted from the graph."""
    if pure:
        monkeypatch.setattr("backprop.engine.modes.reverse.CORE", None)
    for graph, wrt in _cases():
        values = _values(graph)
        shape = elim.structure(graph, wrt)
        mapping = elim.mode_mapping(graph, wrt, shape)
        for mode in ("forward", "reverse"):
            ran = run_mode(mode, graph, values, wrt).counts.multiplications
            order = elim.eliminate(graph, values, wrt, mode, shape).multiplications
            assert ran == order + mapping[mode].difference, (graph.output_names, mode)


def test_without_seeds_parallel_slots_dead_nodes_or_copies_the_counts_are_equal():
    """With no parallel slots, dead nodes or copies, forward mode is forward order plus one
    product per slot reading an input (the unit seed times the partial), 3 here."""
    graph = parse("sin(x*y) + exp(x)")
    wrt = list(graph.inputs)
    values = _values(graph)
    shape = elim.structure(graph, wrt)
    mapping = elim.mode_mapping(graph, wrt, shape)
    assert mapping["forward"].parallel == mapping["forward"].dead == 0
    assert mapping["forward"].copies == 0
    ran = run_mode("forward", graph, values, wrt).counts.multiplications
    assert mapping["forward"].seeds == 3
    assert ran == elim.eliminate(graph, values, wrt, "forward", shape).multiplications + 3


def _brute_force(graph, values, wrt, shape) -> int:
    return min(elim.eliminate(graph, values, wrt, "any", shape, order=order).multiplications
               for order in itertools.permutations(shape.intermediates))


def test_the_searched_optimum_is_the_exhaustive_minimum_on_small_graphs():
    checked = 0
    more = ((graph, list(graph.inputs)) for graph in random_graphs(200, seed=99))
    for graph, wrt in itertools.chain(_cases(), more):
        shape = elim.structure(graph, wrt)
        if len(shape.intermediates) > 7 or checked >= 60:
            continue
        values = _values(graph)
        best, order = elim.search_optimum(shape)
        assert best == _brute_force(graph, values, wrt, shape)
        assert elim.eliminate(graph, values, wrt, "optimal", shape,
                              order=order).multiplications == best
        checked += 1
    assert checked == 60


def test_on_the_seeds_examples_the_optimum_is_at_most_the_better_of_forward_and_reverse():
    cases = [parse(text) for text in SEED_EXPRESSIONS]
    for graph in cases:
        _check_optimum(graph, list(graph.inputs))
    _check_optimum(*_seed004(["w5"]))


def _check_optimum(graph, wrt):
    values = _values(graph)
    shape = elim.structure(graph, wrt)
    best, _ = elim.search_optimum(shape)
    forward, reverse = (elim.eliminate(graph, values, wrt, name, shape).multiplications
                        for name in ("forward", "reverse"))
    markowitz = elim.eliminate(graph, values, wrt, "markowitz", shape).multiplications
    assert best <= min(forward, reverse) and best <= markowitz


def test_every_order_gives_the_modes_jacobian():
    for graph, wrt in _cases():
        values = _values(graph)
        shape = elim.structure(graph, wrt)
        reference = run_mode("reverse", graph, values, wrt).jacobian
        orders = [elim.eliminate(graph, values, wrt, name, shape).jacobian
                  for name in elim.ORDERS]
        if len(shape.intermediates) <= 7:
            orders.append(elim.eliminate(graph, values, wrt, "optimal", shape,
                                         order=elim.search_optimum(shape)[1]).jacobian)
        floats = [[[float(v) for v in row] for row in jacobian] for jacobian in orders]
        assert agreement([reference, *floats]) < 1e-12


def test_every_order_gives_the_symbolic_jacobian_exactly():
    import sympy

    from backprop.check.symbolic import symbolic_values
    from backprop.engine.backends import symbolic

    for texts in [("sin(x^2)+cos(x^2)",), ("x*y", "sin(x*y)", "x"), ("exp(x) + y", "exp(x)")]:
        graph = parse(*texts)
        wrt = list(graph.inputs)
        values = symbolic_values(graph)
        reference = run_mode("forward", graph, values, wrt, symbolic()).jacobian
        for name in elim.ORDERS:
            got = elim.eliminate(graph, values, wrt, name, backend=symbolic()).jacobian
            for row, ref_row in zip(got, reference):
                for a, b in zip(row, ref_row):
                    assert sympy.simplify(a - b) == 0


def test_markowitz_takes_the_smallest_degree_product_first():
    graph = parse("sin(x*y+z)*cos(x-y*z)+exp(x*z)")
    wrt = list(graph.inputs)
    shape = elim.structure(graph, wrt)
    run = elim.eliminate(graph, _values(graph), wrt, "markowitz", shape)
    # replay: at each step no remaining vertex had a smaller product than the one taken
    for step, v in enumerate(run.order):
        done = set(run.order[:step])
        cost = {u: _degree(shape, done, u) for u in shape.intermediates if u not in done}
        assert cost[v] == min(cost.values())


def _degree(shape, done, v) -> int:
    """|pred| x |succ| of v after eliminating ``done``: vertices joined through done."""
    def reach(start, step):
        found, stack = set(), [start]
        while stack:
            for u in step(stack.pop()):
                if u in done:
                    stack.append(u)
                else:
                    found.add(u)
        return found
    succs = {}
    for w, preds in shape.edges.items():
        for u in preds:
            succs.setdefault(u, []).append(w)
    return len(reach(v, lambda u: shape.edges.get(u, ()))) * len(reach(v, lambda u: succs.get(u, ())))


# -- the command line --------------------------------------------------------------------------

def test_compare_eliminations_shows_every_order_and_the_mapping():
    result = run_cli("compare", "sin(x^2)+cos(x^2)", "--eliminations", "--json")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)["eliminations"]
    assert list(document["orders"]) == ["forward", "reverse", "markowitz", "optimal"]
    assert document["modes"]["forward"]["reproduced"] is True
    assert document["modes"]["reverse"]["reproduced"] is True
    assert document["optimum_at_most_forward_and_reverse"] is True
    text = run_cli("compare", "sin(x^2)+cos(x^2)", "--eliminations").stdout
    assert "vertex elimination: 3 intermediate vertices" in text and "reproduced" in text


def test_eliminations_over_the_search_limit_exit_3_with_one_line():
    spec = str(ROOT / "examples" / "seed004.yaml")
    result = run_cli("compare", spec, "--eliminations")
    assert result.returncode == 3
    lines = result.stderr.strip().splitlines()
    assert "--max-elimination-vertices 16" in lines[0] and "Traceback" not in result.stderr
    assert result.stdout == ""
    small = run_cli("compare", spec, "--eliminations", "--wrt", "w5", "--json")
    assert small.returncode == 0, small.stderr
    assert json.loads(small.stdout)["eliminations"]["intermediates"] <= 16


@pytest.mark.parametrize("args", [["--order", "2"], ["--max-elimination-vertices", "-1"],
                                  ["--max-elimination-vertices", "x"]])
def test_bad_eliminations_options_exit_2(args):
    result = run_cli("compare", "x*y", "--eliminations", *args)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) <= 2


def test_a_graph_with_nothing_to_eliminate_has_no_cost():
    result = run_cli("compare", "x*y", "x+y", "--eliminations", "--json")
    document = json.loads(result.stdout)["eliminations"]
    assert document["intermediates"] == 0
    assert all(order["multiplications"] == 0 for order in document["orders"].values())
