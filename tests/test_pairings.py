"""``compare --order 2`` and ``scale --order 2``: the Hessian's four pairings side by side.

Their counts are jobs/hessian's own (nothing re-derived), and on the decay family (one
output, n inputs, a sparse Hessian) the pairings part as n grows: forward over reverse takes
n sweeps and its work grows as n; forward over forward's grows as n^2.
"""

from __future__ import annotations

import csv
import io
import json

import pytest

from backprop.frontends.families import FAMILIES
from backprop.frontends.parse import parse
from backprop.jobs.compare import random_point
from backprop.jobs.hessian import PAIRINGS, hessian
from backprop.jobs.pairings import compare_pairings
from backprop.jobs.scale import scale_pairings
from backprop.limits import Limits

from conftest import run_cli

EXPR = "x^2*y + sin(y)*z - exp(x*z)"
RAISED = Limits(max_ops=10**12, max_nodes=10**9)


def test_compare_counts_are_the_hessian_jobs():
    graph = parse(EXPR)
    found = compare_pairings(graph, at="x=0.5,y=2,z=1.5", repeats=1)
    report = hessian(graph, at="x=0.5,y=2,z=1.5", mode="all", run_check=False)
    assert list(found.costs) == list(PAIRINGS)
    for name, cost in found.costs.items():
        mine, theirs = cost.pairing, report.pairings[name]
        assert (mine.counts, mine.program_nodes, mine.program_ops, mine.total_ops) == \
            (theirs.counts, theirs.program_nodes, theirs.program_ops, theirs.total_ops)
        assert cost.seconds is not None and cost.seconds > 0
    assert found.verdict == report.verdict


def test_scale_counts_are_the_hessian_jobs_at_every_size():
    result = scale_pairings("decay", "3,6", repeats=1, budget=0.01)
    for row in result.rows:
        graph = FAMILIES["decay"].build(row.size)
        for name in PAIRINGS:
            point = ",".join(f"{k}={v!r}" for k, v in random_point(graph, 0).items())
            theirs = hessian(graph, at=point, mode=name, run_check=False).pairings[name]
            assert row.costs[name].pairing.counts == theirs.counts
            assert row.costs[name].operations == theirs.total_ops


def test_decay_at_10_100_1000_forward_over_reverse_takes_n_sweeps_and_grows_as_n():
    """At the default --max-nodes the forward-mode programs are refused at n = 1000 by
    their size bound, before any work (their forward loop would take minutes there)."""
    result = scale_pairings("decay", "10,100,1000", limits=Limits(max_ops=10**12), repeats=1,
                            budget=0.01)
    fwd_rev = [row.costs["fwd-rev"] for row in result.rows]
    assert [cost.sweeps for cost in fwd_rev] == [10, 100, 1000]
    assert [row.inputs for row in result.rows] == [10, 100, 1000]
    assert abs(result.fits["fwd-rev"]["multiplications"].exponent - 1) <= 0.1
    assert abs(result.fits["fwd-rev"]["operations"].exponent - 1) <= 0.1
    assert not result.rows[-1].costs["fwd-fwd"].ran
    assert "fwd-fwd" in result.rows[-1].costs["fwd-fwd"].reason


def test_decay_forward_over_forward_grows_as_n_squared():
    result = scale_pairings("decay", "10,20,40,80,160", limits=RAISED, repeats=1,
                            budget=0.01)
    fits = result.fits
    assert abs(fits["fwd-fwd"]["multiplications"].exponent - 2) <= 0.1
    assert abs(fits["fwd-rev"]["multiplications"].exponent - 1) <= 0.1
    assert [row.costs["fwd-fwd"].sweeps for row in result.rows] == result.sizes
    largest = result.rows[-1].costs
    assert largest["fwd-rev"].operations * 10 < largest["fwd-fwd"].operations


def test_compare_order_2_json_has_the_documented_keys():
    proc = run_cli("compare", EXPR, "--order", "2", "--at", "x=0.5,y=2,z=1.5", "--json",
                   "--repeats", "1")
    assert proc.returncode == 0, proc.stderr
    document = json.loads(proc.stdout)
    assert {"version", "command", "order", "expression", "inputs", "point", "evaluation",
            "pairings", "verdict", "warnings"} <= set(document)
    assert document["order"] == 2 and list(document["pairings"]) == list(PAIRINGS)
    for entry in document["pairings"].values():
        assert {"status", "program", "counts", "total_ops", "seconds",
                "relative_operations", "relative_time"} <= set(entry)
        assert entry["total_ops"] == entry["program"]["ops"] + \
            entry["counts"]["partial_evals"] + entry["counts"]["multiplications"] + \
            entry["counts"]["additions"]
    assert {"text", "rule"} <= set(document["verdict"])


def test_compare_order_2_text_and_csv():
    text = run_cli("compare", EXPR, "--order", "2", "--repeats", "1")
    assert text.returncode == 0, text.stderr
    assert all(name in text.stdout for name in PAIRINGS)
    assert "verdict:" in text.stdout and "rule:" in text.stdout
    table = run_cli("compare", EXPR, "--order", "2", "--csv", "--repeats", "1")
    rows = list(csv.DictReader(io.StringIO(table.stdout)))
    assert [row["pairing"] for row in rows] == list(PAIRINGS)
    assert all(int(row["sweeps"]) == 3 for row in rows)


def test_scale_order_2_json_and_csv():
    proc = run_cli("scale", "decay", "--order", "2", "--sizes", "2,4,8", "--json",
                   "--repeats", "1")
    assert proc.returncode == 0, proc.stderr
    document = json.loads(proc.stdout)
    assert document["order"] == 2 and document["sizes"] == [2, 4, 8]
    assert [row["pairings"]["fwd-rev"]["counts"]["sweeps"] for row in document["rows"]] \
        == [2, 4, 8]
    assert set(document["growth"]["fwd-fwd"]) == {"sweeps", "program_nodes",
                                                  "multiplications", "operations", "seconds"}
    table = run_cli("scale", "wide", "--order", "2", "--sizes", "1,2", "--csv",
                    "--repeats", "1")
    rows = list(csv.DictReader(io.StringIO(table.stdout)))
    assert [(row["size"], row["pairing"]) for row in rows] == \
        [(s, p) for s in ("1", "2") for p in PAIRINGS]


def test_the_pairings_part_on_scale_order_2_text():
    proc = run_cli("scale", "decay", "--order", "2", "--sizes", "10,20,40",
                   "--repeats", "1")
    assert proc.returncode == 0, proc.stderr
    assert "Fitted growth" in proc.stdout


@pytest.mark.parametrize("args, text", [
    (["compare", "x*y", "--order", "3"], "--order 3"),
    (["scale", "decay", "--order", "3"], "--order 3"),
    (["compare", "x*y", "--order", "0"], "--order 0"),
    (["compare", "x*y", "x+y", "--order", "2"], "one output"),
    (["compare", "x*y", "--order", "2", "--wrt", "x"], "--wrt"),
    (["scale", "chain", "--order", "2"], "chain has 1 input"),
    (["scale", "layered", "--order", "2"], "layered has 1 input"),
    (["scale", "fanout", "--order", "2"], "fanout has 1 input"),
])
def test_bad_input_exits_2(args, text):
    proc = run_cli(*args)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert text in proc.stderr
    assert "Traceback" not in proc.stderr


def test_compare_order_2_refuses_when_every_pairing_is_over_the_limit():
    proc = run_cli("compare", EXPR, "--order", "2", "--max-ops", "10")
    assert proc.returncode == 3, proc.stderr
    assert "--max-ops" in proc.stderr


def test_first_order_is_the_default_and_unchanged():
    first = run_cli("compare", "x*y", "--at", "x=1,y=2", "--csv", "--repeats", "1")
    explicit = run_cli("compare", "x*y", "--at", "x=1,y=2", "--csv", "--repeats", "1",
                       "--order", "1")
    mode_column = [row["mode"] for row in csv.DictReader(io.StringIO(first.stdout))]
    assert mode_column == ["forward", "paths", "reverse"]
    assert [row["mode"] for row in csv.DictReader(io.StringIO(explicit.stdout))] == \
        mode_column
