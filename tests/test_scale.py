"""``scale``: the graph families, size parsing, growth fits, and the command's output."""

from __future__ import annotations

import csv
import io
import json

import pytest

from backprop.errors import InputError, LimitError
from backprop.frontends.families import FAMILIES
from backprop.limits import Limits
from backprop.frontends.parse import parse
from backprop.jobs.scale import fit_growth, get_family, parse_sizes, scale

from conftest import run_cli


@pytest.mark.parametrize("name", list(FAMILIES))
@pytest.mark.parametrize("size", [1, 2, 3, 4])
def test_each_family_is_the_graph_its_text_parses_to(name, size):
    family = FAMILIES[name]
    built, parsed = family.build(size), parse(family.text(size))
    assert built.nodes == parsed.nodes
    assert built.outputs == parsed.outputs
    assert len(built) == family.nodes(size)


@pytest.mark.parametrize("size", [1, 5, 10, 30])
def test_layered_family_has_2_to_the_l_paths_and_computes_x_to_the_2_to_the_l(size):
    from backprop.engine.evaluate import evaluate
    from backprop.engine.modes.paths import plan

    graph = FAMILIES["layered"].build(size)
    assert plan(graph, list(graph.inputs)).paths == 2**size
    x = 1 + 1e-10
    assert evaluate(graph, {"x": x})[graph.outputs[0]] == pytest.approx(x ** 2**size, rel=1e-9)


def test_family_shapes():
    assert len(FAMILIES["wide"].build(10).inputs) == 20
    assert len(FAMILIES["fanout"].build(10).inputs) == 1
    assert FAMILIES["chain"].build(50).depth == 50
    mlp = FAMILIES["mlp"].build(4)
    assert len(mlp.inputs) == 3 * 16 + 4 * 4  # weights, biases and x: 3n^2 + 4n


def test_sizes_parse_ranges_steps_and_lists():
    family = FAMILIES["chain"]
    assert parse_sizes("1:4", family, 10**6) == [1, 2, 3, 4]
    assert parse_sizes("10:40:10", family, 10**6) == [10, 20, 30, 40]
    assert parse_sizes("1,2,4,8", family, 10**6) == [1, 2, 4, 8]


@pytest.mark.parametrize("text, error", [
    ("5:1", InputError), ("abc", InputError), ("0:3", InputError), ("1:2:0", InputError),
    ("1:2:3:4", InputError), ("", InputError), ("1:100000", LimitError),
    ("2000000", LimitError),
])
def test_bad_sizes_are_refused(text, error):
    with pytest.raises(error):
        parse_sizes(text, FAMILIES["chain"], 10**9)


def test_sizes_over_max_nodes_are_a_limit():
    with pytest.raises(LimitError, match="over --max-nodes"):
        parse_sizes("1000", FAMILIES["chain"], 100)


def test_unknown_family_lists_the_families():
    with pytest.raises(InputError) as raised:
        get_family("nosuchfamily")
    assert all(name in raised.value.hint for name in FAMILIES)


def test_fits_recognise_linear_polynomial_and_exponential_growth():
    sizes = list(range(1, 17))
    assert fit_growth(sizes, [5 * s for s in sizes]).model == "linear"
    quadratic = fit_growth(sizes, [3 * s * s for s in sizes])
    assert quadratic.model == "polynomial" and quadratic.exponent == pytest.approx(2, abs=1e-9)
    doubling = fit_growth(sizes, [2**s for s in sizes])
    assert doubling.model == "exponential" and doubling.factor == pytest.approx(2, rel=1e-9)
    assert fit_growth(sizes, [1] * 16).model == "constant"
    assert fit_growth([1, 2], [1, 2]).model is None
    assert fit_growth(sizes, [None] * 16).model is None


def test_layered_scale_finds_exponential_paths_and_linear_sweeps():
    result = scale("layered", "1:12", repeats=1)
    assert [row.costs["paths"].counts.paths for row in result.rows] == [2**L for L in range(1, 13)]
    assert [row.costs["reverse"].operations for row in result.rows] == [5 * L for L in
                                                                         range(1, 13)]
    fits = result.fits
    assert fits["paths"]["passes"].model == "exponential"
    assert fits["paths"]["passes"].factor == pytest.approx(2.0, rel=1e-9)
    assert fits["forward"]["operations"].model == "linear"
    assert fits["reverse"]["passes"].model == "constant"


def test_scale_estimates_paths_over_the_limit():
    result = scale("layered", "8:12", repeats=1, limits=Limits(max_paths=2**10))
    statuses = {row.size: row.costs["paths"].ran for row in result.rows}
    assert statuses == {8: True, 9: True, 10: True, 11: False, 12: False}
    assert result.rows[-1].costs["paths"].counts.paths == 2**12
    assert "over --max-paths 1,024" in result.rows[-1].costs["paths"].reason


def test_wide_scale_shows_forward_paying_a_sweep_per_input():
    result = scale("wide", "10:40:10", repeats=1)
    assert [row.costs["forward"].counts.sweeps for row in result.rows] == [20, 40, 60, 80]
    assert all(row.costs["reverse"].counts.sweeps == 1 for row in result.rows)
    assert result.fits["forward"]["operations"].model == "polynomial"


# -- the command --------------------------------------------------------------------------

def test_scale_layered_1_to_16_runs_and_its_json_parses():
    proc = run_cli("scale", "layered", "--sizes", "1:16", "--json", timeout=120)  # hang guard
    assert proc.returncode == 0, proc.stderr
    document = json.loads(proc.stdout)
    assert document["command"] == "scale" and document["sizes"] == list(range(1, 17))
    last = document["rows"][-1]["modes"]
    assert last["paths"]["counts"]["paths"] == 65536
    assert last["reverse"]["operations"] == 80
    assert document["growth"]["paths"]["passes"]["model"] == "exponential"


def test_scale_prints_table_growth_and_chart():
    proc = run_cli("scale", "layered", "--sizes", "1:24", "--repeats", "1",
                   "--max-paths", "5000")
    assert proc.returncode == 0, proc.stderr
    assert "Fitted growth" in proc.stdout
    assert "exponential, ×2.00 per +1" in proc.stdout
    assert "P" in proc.stdout and "p paths" in proc.stdout  # estimated and run marks
    assert "paths: estimated, not run" in proc.stdout


def test_scale_csv_has_a_row_per_size_and_mode():
    proc = run_cli("scale", "fanout", "--sizes", "1:3", "--csv", "--repeats", "1")
    assert proc.returncode == 0, proc.stderr
    rows = list(csv.DictReader(io.StringIO(proc.stdout)))
    assert [(r["size"], r["mode"]) for r in rows] == [
        (str(s), m) for s in (1, 2, 3) for m in ("forward", "paths", "reverse")]
    assert all(r["status"] == "run" for r in rows)


@pytest.mark.parametrize("args, code, text", [
    (["scale", "nosuchfamily"], 2, "layered, chain, wide, fanout, mlp"),
    (["scale", "layered", "--sizes", "5:1"], 2, "the range is empty"),
    (["scale", "layered", "--sizes", "1:100000"], 3, "over the limit of 200"),
    (["scale", "mlp", "--sizes", "65"], 3, "limit of 64"),
    (["scale", "chain", "--sizes", "1000", "--max-nodes", "10"], 3, "--max-nodes"),
    (["scale", "layered", "--json", "--csv"], 2, "two formats"),
    (["scale", "layered", "--max-ops", "-1"], 2, "must not be negative"),
    (["scale"], 2, "FAMILY"),
])
def test_scale_bad_input_exits_cleanly(args, code, text):
    proc = run_cli(*args)
    assert proc.returncode == code, proc.stderr
    assert proc.stderr.startswith("backprop: error:")
    assert text in proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
