"""Checkpointing reverse mode (engine/checkpoint.py, docs/checkpointing.md).

The oracles: a search of every action sequence (store, free, restore, advance, adjoint
step) for small chains; the dynamic program over every split for chains up to 40 steps and
5 states; Griewank's closed form; and plain reverse mode's gradient, bit for bit."""

from __future__ import annotations

import json
import random
from collections import deque

import pytest

from backprop.engine import checkpoint as ck
from backprop.engine.evaluate import evaluate
from backprop.engine.modes.reverse import reverse
from backprop.frontends.families import FAMILIES
from backprop.frontends.load import load_graph as _load
from backprop.jobs.checkpoints import checkpoint_table
from conftest import run_cli
from test_hessian import random_expression


def load_graph(texts):
    return _load(texts, max_nodes=10**6, max_depth=10**6)


def every_schedule(n: int, c: int) -> int:
    """The fewest extra forward steps over EVERY sequence of actions (a 0-1 breadth-first
    search): the primal pass (free) may store states; afterwards states may be stored,
    freed or restored, the working state advanced one step (cost 1), and the adjoint step k
    taken when the working state is x_(k-1). At most c states are stored at once."""
    start = ("primal", frozenset(), 0)
    best = {start: 0}
    queue = deque([start])
    while queue:
        state = queue.popleft()
        cost = best[state]
        if state[0] == "reverse" and state[3] == 0:
            return cost
        moves = []
        if state[0] == "primal":
            _, stored, p = state
            if p not in stored and len(stored) < c:
                moves.append((("primal", stored | {p}, p), 0))
            moves.append(((("primal", stored, p + 1) if p + 1 < n
                           else ("reverse", stored, None, n)), 0))
        else:
            _, stored, current, k = state
            for q in stored:
                if q < k:
                    moves.append((("reverse", stored, q, k), 0))
                moves.append((("reverse", stored - {q}, current, k), 0))
            if current is not None:
                if current + 1 < k:
                    moves.append((("reverse", stored, current + 1, k), 1))
                if current not in stored and len(stored) < c:
                    moves.append((("reverse", stored | {current}, current, k), 0))
                if current == k - 1:
                    moves.append((("reverse", stored, None, k - 1), 0))
        for after, step in moves:
            if cost + step < best.get(after, 1 << 62):
                best[after] = cost + step
                (queue.appendleft if step == 0 else queue.append)(after)
    raise AssertionError("no schedule")


def test_the_split_program_is_the_optimum_over_every_action_sequence():
    table = ck.optimal_extra(9, 4)
    for n in range(1, 10):
        for c in range(1, 5):
            assert table[n][c] == every_schedule(n, c), (n, c)


def test_griewank_closed_form_equals_the_dynamic_program():
    table = ck.optimal_extra(60, 8)
    for n in range(1, 61):
        for c in range(1, 9):
            assert ck.closed_form("binomial", n, c) == table[n][c], (n, c)


def _run(graph, strategy, c, point=None):
    point = point or {name: 0.3 + 0.1 * k for k, name in enumerate(graph.input_names)}
    wrt = list(graph.inputs)
    reference = reverse(graph, evaluate(graph, point), wrt).jacobian[0]
    run = ck.run_schedule(graph, point, wrt, strategy, c)
    assert ck.same_bits(reference, run.gradient), (strategy, c, reference, run.gradient)
    return run


def test_binomial_runs_reach_the_exhaustive_optimum_up_to_40_steps_and_5_states():
    table = ck.optimal_extra(40, 5)
    for n in range(1, 41):
        graph = FAMILIES["chain"].build(n)
        for c in range(1, 6):
            run = _run(graph, "binomial", c)
            assert run.extra_steps == table[n][c], (n, c)
            assert run.peak_states <= c
            assert run.adjoint_steps == n


def test_binomial_schedules_stay_optimal_and_within_budget_up_to_80_steps_and_8_states():
    """The actions alone (no graph): advances counted, states never over the budget."""
    table = ck.optimal_extra(80, 8)
    for n in range(1, 81):
        for c in range(1, 9):
            extra, stored, position = 0, set(), 0
            for action in ck.actions("binomial", n, c):
                if action[0] == "primal":
                    stored = set(action[1])
                elif action[0] == "restore":
                    assert action[1] in stored
                    position = action[1]
                elif action[0] == "advance":
                    extra += action[1] - position
                    position = action[1]
                elif action[0] == "store":
                    stored.add(action[1])
                elif action[0] == "free":
                    stored.discard(action[1])
                assert len(stored) <= c
            assert extra == table[n][c], (n, c)


@pytest.mark.parametrize("n", [1, 2, 3, 7, 12, 40, 150])
def test_one_checkpoint_costs_n_times_n_minus_1_over_2(n):
    graph = FAMILIES["chain"].build(n)
    for strategy in ("binomial", "recompute-all"):
        run = _run(graph, strategy, 1)
        assert run.extra_steps == n * (n - 1) // 2
        assert run.peak_states == 1


def test_the_textbook_numbers_on_the_chain():
    """One value per state: store-all keeps all n + 1, recompute-all the input, the working
    value with the one it makes, and the value at hand; every-√n stores ~2√n states."""
    n = 100
    graph = FAMILIES["chain"].build(n)
    store_all = _run(graph, "store-all", 1)
    assert (store_all.extra_steps, store_all.peak_states, store_all.peak_values) == (0, n, n + 1)
    recompute = _run(graph, "recompute-all", 1)
    assert (recompute.extra_steps, recompute.peak_values) == (n * (n - 1) // 2, 4)
    sqrt = _run(graph, "every-sqrt", 1)
    assert sqrt.extra_steps == n - 10 and sqrt.peak_states == 10 + 9
    binomial = _run(graph, "binomial", 5)
    assert binomial.peak_values == 5 + 3


def test_store_all_holds_what_reverse_mode_counts():
    """store-all's values plus reverse mode's adjoints are reverse mode's peak_values."""
    for name in ("sin(2*x+y)", "sin(x^2)+cos(x^2)", "h1 = x*x; h2 = h1*h1; h3 = h2*h2"):
        graph = load_graph([name])
        run = _run(graph, "store-all", 1)
        counts = reverse(graph, evaluate(graph, {"x": 0.5, "y": 0.25}), list(graph.inputs))
        adjoints = counts.counts.peak_values - len(graph)
        assert run.peak_values + adjoints == counts.counts.peak_values


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_every_schedule_gives_reverse_modes_bits_on_every_family(family):
    for size in (1, 2, 3):
        graph = FAMILIES[family].build(size)
        n = ck.chain_of(graph).n
        for strategy in ck.STRATEGIES:
            for c in (1, 2, 3, n + 5):
                run = _run(graph, strategy, c)
                assert run.extra_steps == ck.closed_form(strategy, n, c)


def test_every_schedule_gives_reverse_modes_bits_on_random_expressions():
    rng = random.Random(14)
    for _ in range(40):
        graph = load_graph([random_expression(rng, 4)])
        n = ck.chain_of(graph).n
        point = {name: rng.uniform(-2, 2) for name in graph.input_names}
        for strategy in ck.STRATEGIES:
            for c in (1, 2, 4):
                run = _run(graph, strategy, c, point)
                assert run.extra_steps == ck.closed_form(strategy, n, c)


def test_non_finite_values_keep_their_bits():
    graph = load_graph(["log(x) * sqrt(y) + exp(1/x)"])
    for strategy in ck.STRATEGIES:
        _run(graph, strategy, 2, {"x": 0.0, "y": -1.0})


def test_over_max_ops_a_schedule_is_counted_not_run():
    from backprop.limits import Limits

    graph = FAMILIES["chain"].build(300)
    table = checkpoint_table(graph, {"x": 0.5}, list(graph.inputs), 2,
                             Limits(max_ops=20_000))
    rows = {row.strategy: row for row in table.rows}
    assert not rows["recompute-all"].ran and rows["recompute-all"].extra_steps == 300 * 299 // 2
    assert rows["store-all"].ran and rows["store-all"].equal


# -- the command line ----------------------------------------------------------------------

def test_compare_checkpoints_table_and_json():
    text = run_cli("compare", "sin(sin(sin(sin(x))))", "--at", "x=0.5", "--checkpoints", "1")
    assert text.returncode == 0, text.stderr
    assert "Checkpointing reverse mode: 4 steps" in text.stdout
    lines = {line.split()[0]: line.split() for line in text.stdout.splitlines()
             if line.strip().startswith(("recompute-all", "binomial", "store-all"))}
    assert lines["binomial"][1:3] == ["1", "6"] and lines["binomial"][-1] == "yes"
    assert lines["store-all"][1:3] == ["4", "0"]
    doc = json.loads(run_cli("compare", "sin(sin(sin(x)))", "--checkpoints", "2",
                             "--json").stdout)
    assert doc["modes"]["reverse"]["status"] == "run"
    schedules = {s["strategy"]: s for s in doc["checkpoints"]["schedules"]}
    assert schedules["binomial"]["extra_steps"] == ck.closed_form("binomial", 3, 2)
    assert all(s["gradient_equal"] for s in schedules.values())


def test_compare_checkpoints_csv_has_one_row_per_schedule():
    out = run_cli("compare", "x*sin(x)", "--checkpoints", "1", "--csv").stdout.splitlines()
    assert out[0].startswith("steps,budget,strategy") and len(out) == 1 + len(ck.STRATEGIES)


def test_more_states_than_steps_stores_every_state():
    result = run_cli("compare", "sin(cos(x))", "--checkpoints", "1e30")
    assert result.returncode == 0
    assert "binomial stores every state (store-all)" in result.stdout


@pytest.mark.parametrize("value, words", [
    ("0", "at least 1"), ("-3", "at least 1"), ("2.5", "whole number"),
    ("two", "whole number"), ("", "whole number")])
def test_bad_budgets_are_one_line_errors(value, words):
    result = run_cli("compare", "sin(x)", "--checkpoints", value)
    assert result.returncode == 2 and words in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""


def test_checkpoints_need_one_output_and_order_one():
    several = run_cli("compare", "x*y", "x+y", "--checkpoints", "2")
    assert several.returncode == 2 and "2 outputs" in several.stderr
    second = run_cli("compare", "x*y", "--checkpoints", "2", "--order", "2")
    assert second.returncode == 2 and "order" in second.stderr
    scale = run_cli("scale", "chain", "--checkpoints", "2", "--order", "2")
    assert scale.returncode == 2


def test_scale_draws_the_memory_time_curve():
    result = run_cli("scale", "chain", "--sizes", "40", "--checkpoints", "5", "--csv")
    assert result.returncode == 0, result.stderr
    rows = result.stdout.splitlines()[1:]
    extra = [int(row.split(",")[7]) for row in rows]
    table = ck.optimal_extra(40, 5)
    assert extra == [table[40][c] for c in range(1, 6)] and extra[0] == 780
    text = run_cli("scale", "chain", "--sizes", "20", "--checkpoints", "3")
    assert "Memory against time" in text.stdout and "█" in text.stdout
    doc = json.loads(run_cli("scale", "wide", "--sizes", "2,3", "--checkpoints", "2",
                             "--json").stdout)
    assert [row["size"] for row in doc["rows"]] == [2, 3]
    assert all(p["gradient_equal"] for row in doc["rows"] for p in row["curve"])
