"""Sparse Jacobians: the pattern read from the graph, the colourings, the compressed sweeps
run by the real modes, and what compare and scale show of them (docs/sparsity.md)."""

from __future__ import annotations

import itertools
import json
import math
import random

import pytest

from backprop.engine.colouring import (colour_columns, colour_rows, forward_seeds,
                                       recover_columns, recover_rows, reverse_seeds)
from backprop.engine.evaluate import evaluate
from backprop.engine.modes import forward as forward_mode
from backprop.engine.modes import reverse as reverse_mode
from backprop.engine.sparsity import Pattern, pattern
from backprop.frontends.families import FAMILIES
from backprop.frontends.parse import parse

from conftest import run_cli

UNARY = ["sin", "cos", "tanh", "exp", "sqrt", "log"]
VARIABLES = ["x1", "x2", "x3", "x4", "x5"]


def random_expression(rng: random.Random, depth: int) -> str:
    """A random expression over a few of x1..x5 (seeded), positive where it matters."""
    if depth == 0 or rng.random() < 0.25:
        return rng.choice(VARIABLES[:rng.randint(1, 5)] + ["0.5"])
    if rng.random() < 0.4:
        op = rng.choice(UNARY)
        inner = random_expression(rng, depth - 1)
        return f"{op}(1 + ({inner})^2)" if op in ("sqrt", "log") else f"{op}({inner})"
    a, b = random_expression(rng, depth - 1), random_expression(rng, depth - 1)
    return f"({a}) {rng.choice('+-*')} ({b})"


def random_graphs(count: int, seed: int = 7):
    rng = random.Random(seed)
    for _ in range(count):
        yield parse(*[random_expression(rng, 4) for _ in range(rng.randint(2, 5))])


def _point(graph, seed=0):
    rng = random.Random(seed)
    return evaluate(graph, {n: rng.uniform(0.1, 0.9) for n in graph.input_names})


def _dense(graph, values):
    wrt = list(graph.inputs)
    return (forward_mode.forward(graph, values, wrt).jacobian,
            reverse_mode.reverse(graph, values, wrt).jacobian)


def _bits_equal(a, b) -> bool:
    return all(x == y or (math.isnan(x) and math.isnan(y))
               for ra, rb in zip(a, b) for x, y in zip(ra, rb))


# -- the tridiagonal family: what the issue asks to show ----------------------------------

@pytest.mark.parametrize("n", [10, 100, 1000])
def test_a_tridiagonal_function_needs_3_compressed_forward_sweeps_and_gives_the_dense_j(n):
    graph = FAMILIES["tridiag"].build(n)
    wrt = list(graph.inputs)
    assert len(wrt) == len(graph.outputs) == n
    found = pattern(graph, wrt)
    assert found.max_row == 3 and found.nonzeros == 3 * n - 2
    columns = colour_columns(found)
    assert columns.colours == 3 and columns.optimal
    values = _point(graph)
    compressed = forward_mode.forward(graph, values, wrt,
                                      seeds=forward_seeds(columns, wrt, 1.0))
    assert compressed.counts.sweeps == 3
    dense = forward_mode.forward(graph, values, wrt)
    assert dense.counts.sweeps == n
    recovered = recover_columns(compressed.jacobian, columns, found)
    assert recovered == dense.jacobian  # bit for bit, zeros included
    rows = colour_rows(found)
    back = reverse_mode.reverse(graph, values, wrt,
                                seeds=reverse_seeds(rows, graph.outputs, 1.0))
    assert rows.colours == 3 and back.counts.sweeps == 3
    assert recover_rows(back.jacobian, rows, found) == \
        reverse_mode.reverse(graph, values, wrt).jacobian


def test_the_tridiagonal_pattern_is_the_band():
    graph = FAMILIES["tridiag"].build(6)
    expected = [[int(abs(i - j) <= 1) for j in range(6)] for i in range(6)]
    assert pattern(graph, list(graph.inputs)).as_lists() == expected


# -- the pattern against the numbers ---------------------------------------------------------

def test_the_pattern_holds_every_nonzero_and_its_zeros_are_exact():
    for graph in random_graphs(40):
        found = pattern(graph, list(graph.inputs)).as_lists()
        values = _point(graph)
        for jacobian in _dense(graph, values):
            for row, marks in zip(jacobian, found):
                for value, mark in zip(row, marks):
                    assert mark or value == 0  # a structural zero is an exact zero


def test_the_pattern_is_sympys_for_expressions_without_cancellation():
    import sympy

    graph = parse("x1*x2 + sin(x2)", "exp(x3)", "x1 - x4*x4", "x5")
    symbols = {n: sympy.Symbol(n) for n in graph.input_names}
    formulas = [symbols["x1"] * symbols["x2"] + sympy.sin(symbols["x2"]),
                sympy.exp(symbols["x3"]), symbols["x1"] - symbols["x4"] ** 2, symbols["x5"]]
    expected = [[int(sympy.diff(f, symbols[n]) != 0) for n in graph.input_names]
                for f in formulas]
    assert pattern(graph, list(graph.inputs)).as_lists() == expected


# -- colourings ------------------------------------------------------------------------------

def _random_pattern(rng, rows, columns) -> Pattern:
    return Pattern(tuple(rng.getrandbits(columns) & rng.getrandbits(columns)
                         for _ in range(rows)), columns)


def _fewest_colours(p: Pattern) -> int:
    """The exact chromatic number of the column intersection graph (exhaustive)."""
    conflict = {(j, k) for bits in p.rows for j in range(p.columns) for k in range(p.columns)
                if j != k and bits >> j & 1 and bits >> k & 1}
    for colours in range(1, p.columns + 1):
        for assignment in itertools.product(range(colours), repeat=p.columns):
            if all(assignment[j] != assignment[k] for j, k in conflict):
                return colours
    return 0


def test_colourings_are_structurally_orthogonal_and_bounded_by_the_exact_optimum():
    rng = random.Random(3)
    for _ in range(150):
        p = _random_pattern(rng, rng.randint(1, 6), rng.randint(1, 6))
        for colouring, lines in ((colour_columns(p), p.rows),
                                 (colour_rows(p), p.column_rows)):
            for bits in lines:  # no line holds two members of one colour
                members = [k for k in range(len(colouring.colour)) if bits >> k & 1]
                assert len({colouring.colour[k] for k in members}) == len(members)
            assert colouring.colours >= colouring.lower_bound
        fewest = _fewest_colours(p)
        columns = colour_columns(p)
        assert columns.colours >= fewest
        if columns.optimal:
            assert columns.colours == fewest


def test_compressed_sweeps_give_the_dense_jacobian_bit_for_bit_on_random_functions():
    for graph in random_graphs(40, seed=11):
        wrt = list(graph.inputs)
        found = pattern(graph, wrt)
        values = _point(graph, 1)
        dense_forward, dense_reverse = _dense(graph, values)
        columns, rows = colour_columns(found), colour_rows(found)
        forward = forward_mode.forward(graph, values, wrt, seeds=forward_seeds(columns, wrt, 1.0))
        reverse = reverse_mode.reverse(graph, values, wrt,
                                       seeds=reverse_seeds(rows, graph.outputs, 1.0))
        assert forward.counts.sweeps == columns.colours <= len(wrt)
        assert reverse.counts.sweeps == rows.colours <= len(graph.outputs)
        assert _bits_equal(recover_columns(forward.jacobian, columns, found), dense_forward)
        assert _bits_equal(recover_rows(reverse.jacobian, rows, found), dense_reverse)


# -- reverse mode's seeds --------------------------------------------------------------------

def test_a_weighted_reverse_seed_is_a_vector_jacobian_product():
    graph = parse("x1*x2 + sin(x3)", "exp(x1 - x3)", "x2*x2*x3")
    wrt = list(graph.inputs)
    values = _point(graph)
    rows = reverse_mode.reverse(graph, values, wrt).jacobian
    weights = [0.5, -2.0, 3.0]
    seeded = reverse_mode.reverse(graph, values, wrt,
                                  seeds=[dict(zip(graph.outputs, weights))])
    assert seeded.counts.sweeps == 1
    expected = [sum(w * row[k] for w, row in zip(weights, rows)) for k in range(len(wrt))]
    assert seeded.jacobian[0] == pytest.approx(expected, rel=1e-12)


def test_unit_reverse_seeds_are_the_unseeded_sweeps_bit_for_bit():
    for graph in random_graphs(20, seed=5):
        wrt = list(graph.inputs)
        values = _point(graph)
        plain = reverse_mode.reverse(graph, values, wrt)  # the compiled core where built
        seeded = reverse_mode.reverse(graph, values, wrt,
                                      seeds=[{o: 1.0} for o in graph.outputs])
        assert _bits_equal(seeded.jacobian, plain.jacobian)
        assert seeded.counts == plain.counts


# -- compare and scale -----------------------------------------------------------------------

TRIDIAG_4 = FAMILIES["tridiag"].expressions(4)


def test_compare_chooses_among_the_four_and_shows_the_compressed_sweeps():
    result = run_cli("compare", *TRIDIAG_4, "--json")
    assert result.returncode == 0, result.stderr
    sparse = json.loads(result.stdout)["sparse"]
    candidates = sparse["candidates"]
    assert list(candidates) == ["dense forward", "dense reverse", "compressed forward",
                                "compressed reverse"]
    assert candidates["compressed forward"]["sweeps"] == 3
    assert candidates["dense forward"]["sweeps"] == 4
    assert candidates["compressed forward"]["identical"] is True
    assert candidates["compressed reverse"]["identical"] is True
    assert sparse["verdict"]["winner"] == "compressed reverse"  # 3 sweeps, fewer operations
    text = run_cli("compare", *TRIDIAG_4)
    assert "sparse verdict: compressed reverse wins: 3 sweeps" in " ".join(text.stdout.split())
    assert "bit for bit" in text.stdout


def test_compare_of_one_output_shows_no_sparse_part():
    document = json.loads(run_cli("compare", "sin(2*x+y)", "--json").stdout)
    assert "sparse" not in document and "eliminations" not in document


def test_scale_tridiag_needs_3_colours_at_every_size():
    result = run_cli("scale", "tridiag", "--sizes", "10,100,1000", "--repeats", "1", "--json")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)["rows"]
    assert [row["size"] for row in rows] == [10, 100, 1000]
    for row in rows:
        assert row["sparse"]["columns"]["colours"] == 3
        assert row["sparse"]["rows"]["colours"] == 3
        assert row["sparse"]["candidates"]["dense forward"]["sweeps"] == row["size"]
        assert row["sparse"]["candidates"]["compressed forward"]["identical"] is True
    assert "Compressed sweeps" in run_cli("scale", "tridiag", "--sizes", "5,10",
                                          "--repeats", "1").stdout


def test_a_pattern_too_large_to_colour_is_said_not_coloured():
    text = run_cli("compare", *TRIDIAG_4, "--max-ops", "10", "--json")
    sparse = json.loads(text.stdout)["sparse"]
    assert sparse["columns"] is None and "over --max-ops" in sparse["reason"]
    assert sparse["verdict"]["winner"].startswith("dense")


def test_compressed_sweeps_over_max_ops_are_not_run_and_the_verdict_takes_the_rest():
    document = json.loads(run_cli("compare", *TRIDIAG_4, "--max-ops", "60", "--json").stdout)
    sparse = document["sparse"]
    assert sparse["columns"]["colours"] == 3  # coloured (30 steps), but not swept
    for name in ("compressed forward", "compressed reverse"):
        candidate = sparse["candidates"][name]
        assert candidate["ran"] is False and "over --max-ops 60" in candidate["reason"]
        assert candidate["operations"] is None
    assert sparse["verdict"]["winner"] == "dense reverse"

