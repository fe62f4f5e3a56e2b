"""Each mode against the function's own cost (jobs/bounds.py): Baur and Strassen's bound
on nonscalar operations for reverse mode (3 per output), counted by engine/program.py's
one rule on the mode's own gradient program, and the operation bound every sweep obeys.
Where the op table's partials pass the first bound (docs/counting.md) the ops are named
and pinned here, so that a new exception cannot slip in unseen."""

from __future__ import annotations

import random

import pytest

from backprop.engine.ops import OPS
from backprop.engine.program import cost, gradient_program
from backprop.frontends.parse import parse
from backprop.jobs.bounds import EXCEPTIONS, exceptional_ops
from backprop.jobs.compare import compare
from conftest import run_cli
from test_program import SEED_004_NETWORK, SEEDS, determinant_3x3, mlp

UNARY = [name for name, op in OPS.items() if op.is_function and op.arity == 1]
WITHIN = [name for name in UNARY if name not in EXCEPTIONS]


def random_expression(rng: random.Random, depth: int, functions: list[str]) -> str:
    """+, -, * and unary functions over four variables and two constants."""
    if depth == 0 or rng.random() < 0.2:
        return rng.choice(["x", "y", "z", "w", "2", "0.5"])
    if rng.random() < 0.35:
        return f"{rng.choice(functions)}({random_expression(rng, depth - 1, functions)})"
    return (f"({random_expression(rng, depth - 1, functions)}) {rng.choice('+-*')} "
            f"({random_expression(rng, depth - 1, functions)})")


def random_expressions(count: int = 50, functions=None) -> list[str]:
    found, seed = [], 0
    while len(found) < count:
        text = random_expression(random.Random(seed), 6, functions or WITHIN)
        seed += 1
        graph = parse(text)
        if graph.inputs and cost(graph).nonscalar:
            found.append(text)
    return found


def reverse_bound(text: str):
    return compare(parse(text), repeats=1).bounds


@pytest.mark.parametrize("text", [determinant_3x3(), mlp(4), SEED_004_NETWORK, *SEEDS,
                                  *random_expressions()])
def test_reverse_mode_stays_within_three_times_the_nonscalar_operations(text):
    bounds = reverse_bound(text)
    reverse = bounds.modes["reverse"]
    graph = parse(text)
    expected = cost(gradient_program(graph, graph.inputs)).nonscalar  # the one rule
    assert reverse.nonscalar == expected
    assert reverse.nonscalar_ratio == expected / cost(graph).nonscalar
    assert reverse.nonscalar_ratio <= 3 and reverse.within


def test_the_issues_examples_give_the_textbook_ratios():
    """The 3x3 determinant: 28 multiplications charged per edge over its 9 nonscalar
    products looked like 3.11; its program has 18 nonscalar operations, 2.0 times. The
    width-4 tanh MLP (24 nonscalar): 60 in its program, 2.5 times."""
    det = reverse_bound(determinant_3x3())
    assert (det.nonscalar, det.modes["reverse"].nonscalar) == (9, 18)
    net = reverse_bound(mlp(4))
    assert (net.nonscalar, net.modes["reverse"].nonscalar) == (24, 60)


@pytest.mark.parametrize("text", random_expressions(30, UNARY + ["sqrt"]) + [
    "x/y/z", "x^y", "asin(asin(x))", determinant_3x3()])
def test_every_sweep_pays_at_most_three_operations_per_edge(text):
    bounds = reverse_bound(text)
    for mode in ("forward", "reverse"):
        m = bounds.modes[mode]
        assert m.operations_ratio <= m.operations_bound


@pytest.mark.parametrize("text, ratio, ops", [("x/y/z", 4, ["div"]), ("x^y", 5, ["pow"]),
                                              ("asin(asin(x))", 4, ["asin"]),
                                              ("acos(acos(x))", 4, ["acos"])])
def test_where_the_table_passes_the_bound_it_says_which_op(text, ratio, ops):
    reverse = reverse_bound(text).modes["reverse"]
    assert reverse.nonscalar_ratio == pytest.approx(ratio) and reverse.within is False
    assert exceptional_ops(parse(text)) == ops
    assert EXCEPTIONS[ops[0]] in reverse.note


def test_only_the_documented_ops_pass_the_bound():
    """Over many random expressions with every op, each one over 3 has a named exception."""
    for text in random_expressions(80, UNARY):
        reverse = reverse_bound(text).modes["reverse"]
        if reverse.nonscalar_ratio > 3:
            assert exceptional_ops(parse(text)), text


def test_constants_and_signs_are_not_nonscalar():
    """x*y - 2*x + (-y): the edge count charges 6 multiplications, 1 is nonscalar."""
    bounds = reverse_bound("x*y - 2*x + (-y)")
    assert bounds.nonscalar == 1
    assert bounds.modes["reverse"].nonscalar <= 3


def test_compare_prints_the_bounds_and_json_carries_them():
    proc = run_cli("compare", "sin(2*x+y)", "--at", "x=1,y=2", "--repeat", "1")
    assert "Against f: 3 primitives, 1 nonscalar" in proc.stdout
    row = next(line.split() for line in proc.stdout.splitlines()
               if line.split()[:1] == ["reverse"] and "≤" in line)
    assert row[1:] == ["2.67", "≤", "6", "1", "1", "≤", "3"]
    import json

    document = json.loads(run_cli("compare", "sin(2*x+y)", "--at", "x=1,y=2", "--repeat",
                                  "1", "--json").stdout)
    reverse = document["bounds"]["modes"]["reverse"]
    assert reverse["nonscalar_ratio"] == 1 and reverse["nonscalar_bound"] == 3
    assert document["bounds"]["function"] == {"primitives": 3, "nonscalar": 1, "arity": 2}
