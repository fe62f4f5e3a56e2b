"""The three modes on random expressions and random graphs; forward's exact estimate; the
``paths`` listing and command.

Random expressions: forward, paths and reverse agree to 1e-12 relative, and with SymPy's diff
of the same expression. Random DAGs (shared nodes, repeated arguments, several outputs,
subsets of inputs): ``forward.estimate`` equals the counts of a real forward run, and
``paths.plan`` equals what walking every path finds.
"""

from __future__ import annotations

import math
import random
import subprocess
import sys
from pathlib import Path

import pytest
import sympy
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from backprop.check.check import symbolic_values, symbols_for
from backprop.engine.evaluate import evaluate
from backprop.frontends.families import FAMILIES
from backprop.engine.graph import GraphBuilder
from backprop.engine.modes import Edge, Seed, run_mode
from backprop.engine.modes import forward as forward_mode
from backprop.engine.modes import paths as paths_mode
from backprop.frontends.parse import parse
from backprop.jobs.paths import display_names, list_paths

from conftest import run_cli

LAYERED_5 = "h1 = x*x; h2 = h1*h1; h3 = h2*h2; h4 = h3*h3; h5 = h4*h4"
SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])

# -- random expressions: the modes agree with each other and with SymPy -----------------------

UNARY = ["sin", "cos", "tanh", "exp", "sigmoid", "atan", "sqrt", "log", "sinh"]
BINARY = ["+", "-", "*", "/", "^"]


def expressions():
    leaves = st.sampled_from(["x", "y", "z", "x", "2", "0.5", "3"])

    def extend(children):
        return st.one_of(
            st.tuples(st.sampled_from(UNARY), children).map(lambda t: f"{t[0]}({t[1]})"),
            st.tuples(children, st.sampled_from(BINARY), children)
            .map(lambda t: f"({t[0]}){t[1]}({t[2]})"),
        )

    return st.recursive(leaves, extend, max_leaves=8)


POINTS = st.fixed_dictionaries({v: st.floats(0.2, 0.8) for v in ("x", "y", "z")})


def gradients(text: str, point: dict):
    graph = parse(text)
    at = {name: point[name] for name in graph.input_names}
    values = evaluate(graph, at)
    assume(all(math.isfinite(v) and abs(v) < 1e6 for v in values if isinstance(v, float)))
    results = {mode: [float(v) for v in run_mode(mode, graph, values, list(graph.inputs))
                      .jacobian[0]] for mode in ("forward", "paths", "reverse")}
    for row in results.values():
        assume(all(math.isfinite(v) and abs(v) < 1e8 for v in row))
    return graph, at, results


def close(a: float, b: float, rel: float) -> bool:
    return abs(a - b) <= rel * max(1.0, abs(a), abs(b))


@SETTINGS
@given(expressions(), POINTS)
def test_forward_paths_and_reverse_agree_to_1e_12(text, point):
    _, _, results = gradients(text, point)
    for a, b, c in zip(results["forward"], results["paths"], results["reverse"]):
        assert close(a, c, 1e-12) and close(b, c, 1e-12), (text, results)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                HealthCheck.filter_too_much])
@given(expressions(), POINTS)
def test_every_mode_agrees_with_sympy_diff(text, point):
    graph, at, results = gradients(text, point)
    expr = symbolic_values(graph)[graph.outputs[0]]
    symbols = symbols_for(graph)
    subs = {symbols[k]: sympy.Float(v, 30) for k, v in at.items()}
    for k, name in enumerate(graph.input_names):
        expected = complex(sympy.diff(expr, symbols[name]).evalf(30, subs=subs))
        assume(abs(expected.imag) < 1e-20 and math.isfinite(expected.real))
        for mode, row in results.items():
            assert close(row[k], expected.real, 1e-9), (text, mode, name)


# -- random DAGs: forward's estimate and the path plan are exact ----------------------------

def random_graph(seed: int):
    """A DAG with shared nodes, repeated arguments (x*x) and one to three outputs."""
    rng = random.Random(seed)
    b = GraphBuilder()
    ids = [b.input(name) for name in ("a", "b", "c", "d")[:rng.randint(1, 4)]]
    ids.append(b.const(2.0, "2"))
    for _ in range(rng.randint(1, 14)):
        op = rng.choice(["add", "mul", "mul", "sub", "sin", "tanh"])
        if op in ("sin", "tanh"):
            ids.append(b.apply(op, rng.choice(ids)))
        else:
            left = rng.choice(ids)
            right = left if rng.random() < 0.25 else rng.choice(ids)
            ids.append(b.apply(op, left, right))
    ops = [i for i in range(len(b)) if b.node(i).args] or [ids[0]]
    outputs = sorted(set(rng.sample(ops, min(len(ops), rng.randint(1, 3)))))
    graph = b.build(outputs, [f"o{k}" for k in range(len(outputs))])
    wrt = [w for w in graph.inputs if rng.random() < 0.8] or list(graph.inputs[:1])
    return graph, wrt


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 10**9))
def test_forward_estimate_equals_a_real_run(seed):
    graph, wrt = random_graph(seed)
    values = evaluate(graph, {name: 0.4 for name in graph.input_names})
    assert forward_mode.estimate(graph, wrt) == run_mode("forward", graph, values, wrt).counts


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 10**9))
def test_a_watched_sweep_computes_the_same_bits_and_its_steps_add_up(seed):
    """Watching changes nothing (reverse leaves the compiled core for Python: same bits),
    and the watched contributions rebuild every gradient entry exactly, in sweep order."""
    graph, wrt = random_graph(seed)
    values = evaluate(graph, {name: 0.4 for name in graph.input_names})
    for mode in ("forward", "reverse"):
        events = []
        watched = run_mode(mode, graph, values, wrt, watch=events.append)
        plain = run_mode(mode, graph, values, wrt)
        assert watched.jacobian == plain.jacobian and watched.counts == plain.counts
        edges = [e for e in events if isinstance(e, Edge)]
        assert len(edges) == plain.counts.partial_evals
        assert sum(e.before is not None for e in edges) == plain.counts.additions
        seeds = {(e.sweep, e.node) for e in events if isinstance(e, Seed)}
        sums = {}  # (sweep, receiver) -> the running sum, rebuilt from the contributions
        for e in edges:
            assert e.contribution == e.partial * e.carried
            assert e.before == sums.get((e.sweep, e.receiver))
            sums[e.sweep, e.receiver] = e.contribution if e.before is None \
                else e.before + e.contribution
            assert e.after == sums[e.sweep, e.receiver]
        for o, out in enumerate(graph.outputs):
            for k, w in enumerate(wrt):
                key = (k, out) if mode == "forward" else (o, w)
                seeded = (key[0], w if mode == "forward" else out) in seeds and out == w
                expected = 1.0 if seeded else sums.get(key, 0)
                assert watched.jacobian[o][k] == expected


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 10**9))
def test_watched_paths_are_the_walk_and_their_products_the_sum(seed):
    graph, wrt = random_graph(seed)
    values = evaluate(graph, {name: 0.4 for name in graph.input_names})
    walked = []
    result = run_mode("paths", graph, values, wrt, watch=walked.append)
    assert [w.path for w in walked] == list(paths_mode.iter_paths(graph, values, wrt))
    assert result.jacobian == run_mode("paths", graph, values, wrt).jacobian
    sums = {}
    for w in walked:
        assert w.product == w.path.product()
        key = (graph.outputs.index(w.path.output), wrt.index(w.path.nodes[0]))
        sums[key] = sums[key] + w.product if key in sums else w.product
    assert result.jacobian == [[sums.get((o, k), 0) for k in range(len(wrt))]
                               for o in range(len(graph.outputs))]


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 10**9))
def test_path_plan_equals_what_the_walk_finds(seed):
    graph, wrt = random_graph(seed)
    values = evaluate(graph, {name: 0.4 for name in graph.input_names})
    walked = list(paths_mode.iter_paths(graph, values, wrt))
    plan = paths_mode.plan(graph, wrt)
    assert plan.paths == len(walked)
    assert plan.edge_visits == sum(len(p.nodes) - 1 for p in walked)
    assert plan.multiplications == sum(max(0, len(p.nodes) - 2) for p in walked)
    assert plan.longest == max((len(p.nodes) - 1 for p in walked), default=0)
    assert plan.edges == len({(p.nodes[k + 1], p.slots[k], p.nodes[k])
                              for p in walked for k in range(len(p.slots))})
    for p in walked:  # slots name the argument each edge enters
        for k, slot in enumerate(p.slots):
            assert graph.nodes[p.nodes[k + 1]].args[slot] == p.nodes[k]


@pytest.mark.parametrize("family", list(FAMILIES))
@pytest.mark.parametrize("size", [1, 2, 3, 5, 8])
def test_forward_estimate_equals_a_real_run_on_every_family(family, size):
    graph = FAMILIES[family].build(size)
    values = evaluate(graph, {name: 0.4 for name in graph.input_names})
    wrt = list(graph.inputs)
    assert forward_mode.estimate(graph, wrt) == run_mode("forward", graph, values, wrt).counts


def test_forward_estimate_of_a_million_node_chain_is_iterative():
    graph = FAMILIES["chain"].build(1_000_000)
    counts = forward_mode.estimate(graph, list(graph.inputs))  # no RecursionError
    assert (counts.partial_evals, counts.peak_values) == (1_000_000, 2_000_002)


# -- the paths listing ----------------------------------------------------------------------

def test_layered_graph_lists_32_paths_summing_to_32_x_to_the_31():
    listing = list_paths(parse(LAYERED_5))
    x = sympy.Symbol("x", real=True)
    assert listing.total_paths == 32 and len(listing.listed) == 32
    assert all(p.product == str(x**31) for p in listing.listed)  # formulas come as text
    assert all(p.partials == [str(f) for f in (x, x**2, x**4, x**8, x**16)]
               for p in listing.listed)
    assert all(p.nodes == ["x", "h1", "h2", "h3", "h4", "h5"] for p in listing.listed)
    assert len({tuple(p.slots) for p in listing.listed}) == 32  # each a different edge choice
    (total,) = listing.sums
    assert total.paths == 32 and total.total == str(32 * x**31) and total.agrees is True


def test_formulas_of_paths_stop_at_the_check_timeout():
    """Printing a sum orders its terms, which can evaluate e^(e^(6.4e11)) for ever: the
    formulas are made on the side and the command stops at --check-timeout (exit 3)."""
    from backprop.errors import LimitError
    from backprop.limits import Limits

    with pytest.raises(LimitError, match="did not finish within 1 s"):
        list_paths(parse("exp(exp(exp(10*e)))*x + x"), limits=Limits(check_timeout=1))


def test_listing_at_a_point_gives_numbers_and_the_limit_keeps_the_sum_whole():
    listing = list_paths(parse(LAYERED_5), at="x=1.1", limit=3)
    assert len(listing.listed) == 3 and listing.total_paths == 32
    (total,) = listing.sums
    assert total.total == pytest.approx(32 * 1.1**31, rel=1e-13)
    assert total.agrees is True and total.difference < 1e-13


def test_seed_004_paths_read_naturally():
    listing = list_paths(parse("sin(2*x+y)"), at="x=1,y=2")
    first, second = listing.listed
    assert first.nodes == ["x", "2*x", "2*x + y", "sin(2*x + y)"]
    assert first.partials == [2.0, 1.0, math.cos(4.0)]
    assert second.nodes == ["y", "2*x + y", "sin(2*x + y)"]
    assert [s.total for s in listing.sums] == [2 * math.cos(4.0), math.cos(4.0)]


def test_display_names_prefer_labels_then_short_text_then_v_numbers():
    graph = parse("a = 2*x + y; sin(a) + " + "+".join(f"x{i}" for i in range(12)))
    names = display_names(graph)
    assert "a" in names and "sin(a)" in names
    assert any(n.startswith("v") and n[1:].isdigit() for n in names)


# -- the paths command ----------------------------------------------------------------------

def test_paths_command_shows_32_paths_and_32_x_to_the_31():
    proc = run_cli("paths", LAYERED_5)
    assert proc.returncode == 0, proc.stderr
    assert "32 paths from x" in proc.stdout
    assert "32*x**31" in proc.stdout
    assert proc.stdout.count("x**31") >= 33  # 32 products and the sum


def test_paths_command_limit_says_the_sum_covers_every_path():
    proc = run_cli("paths", LAYERED_5, "--at", "x=1.1", "--limit", "5")
    assert proc.returncode == 0, proc.stderr
    assert "showing the first 5 of 32 paths" in proc.stdout
    assert "the sums below cover all 32" in proc.stdout


def test_paths_json_parses_and_holds_every_sum():
    import json

    proc = run_cli("paths", LAYERED_5, "--limit", "4", "--json")
    assert proc.returncode == 0, proc.stderr
    document = json.loads(proc.stdout)
    assert (document["command"], document["total_paths"], document["listed"]) == ("paths", 32, 4)
    assert document["sums"] == [{"output": "h5", "input": "x", "paths": 32, "sum": "32*x**31",
                                 "gradient": "32*x**31", "agrees": True, "difference": None}]
    assert document["paths"][1]["args"] == [2, 1, 1, 1, 1]
    assert document["counts"]["multiplications"] == 128


def test_paths_over_the_limit_are_refused_at_once_with_the_exact_count():
    text = "h1 = x*x" + "".join(f"; h{i} = h{i - 1}*h{i - 1}" for i in range(2, 61))
    proc = run_cli("paths", text, "--at", "x=1", timeout=30)  # a hang guard, not a timing
    assert proc.returncode == 3
    assert "1,152,921,504,606,846,976 paths" in proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize("args, code", [
    (["paths", "sin(x)", "--max-paths", "-1"], 2),
    (["paths", "sin(x)", "--limit", "-2"], 2),
    (["paths", "sin(x)", "--at", "y=1"], 2),
    (["paths", "sin(x)", "--wrt", "q"], 2),
    (["paths", "x1+x2+x3+x4+x5+x6+x7+x8", "--at", "*=1", "--max-ops", "10"], 3),
])
def test_paths_bad_input_exits_cleanly(args, code):
    proc = run_cli(*args)
    assert proc.returncode == code, proc.stderr
    assert proc.stderr.startswith("backprop: error:")
    assert "Traceback" not in proc.stderr


def test_forward_mode_overflows_to_inf_rather_than_failing():
    """Seeds are floats: 2^1100 paths of x overflow by IEEE rules, in every mode."""
    lines = ["a0 = x"] + [f"a{i} = a{i - 1} + a{i - 1}" for i in range(1, 1100)] + ["sin(a1099)"]
    backprop = Path(sys.executable).parent / "backprop"
    for mode in ("forward", "reverse"):
        proc = subprocess.run([str(backprop), "grad", "\n".join(lines), "--at", "x=0",
                               "--no-check", "--mode", mode, "--json"],
                              capture_output=True, text=True, timeout=60)
        assert proc.returncode == 0, proc.stderr
        assert '"value": "inf"' in proc.stdout
