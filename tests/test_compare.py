"""``compare``: every mode's counts and time, estimated modes, the verdict; its CLI, JSON and
CSV; bad input; and Ctrl-C during a long enumeration (exit 130, no traceback)."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import subprocess
import time

import pytest

from backprop.compare import ModeLimits, compare, median_time
from backprop.parse import parse

from conftest import ROOT, backprop_executable, run_cli

LAYERED_5 = "h1 = x*x; h2 = h1*h1; h3 = h2*h2; h4 = h3*h3; h5 = h4*h4"


def test_reverse_wins_on_seed_004_with_the_documented_verdict():
    result = compare(parse("sin(2*x+y)"), at="x=1,y=2", repeats=1)
    assert result.verdict.winners == ["reverse"]
    assert result.verdict.text == ("reverse wins: 1 sweep, 8 operations; paths: 2 paths, "
                                   "7 operations; forward: 2 sweeps, 10 operations")
    assert "reverse wins for this shape" in result.verdict.shape
    assert result.agreement() == 0.0
    assert all(cost.ran and cost.seconds > 0 for cost in result.costs.values())
    assert result.relative_operations("reverse") == pytest.approx(8 / 3)


def test_forward_wins_a_tall_jacobian():
    result = compare(parse("x*y", "x+y", "sin(x)", "x-y"), repeats=1)
    assert result.verdict.winners == ["forward"]
    assert result.verdict.text.startswith("forward wins: 2 sweeps")
    assert "4 outputs x 2 inputs" in result.verdict.shape
    assert "forward wins for this shape" in result.verdict.shape


def test_forward_and_reverse_tie_on_the_layered_graph():
    result = compare(parse(LAYERED_5), repeats=1)
    assert result.verdict.winners == ["forward", "reverse"]
    assert result.verdict.text == ("forward and reverse tie: 1 sweep, 25 operations each; "
                                   "paths: 32 paths, 169 operations")


def test_without_a_point_a_seeded_random_point_is_used():
    first = compare(parse("sin(2*x+y)"), repeats=1, seed=7)
    again = compare(parse("sin(2*x+y)"), repeats=1, seed=7)
    assert first.random_point and first.point == again.point
    assert all(0.1 <= v <= 0.9 for v in first.point.values())


def test_modes_over_a_limit_are_estimated_with_exact_counts_and_not_run():
    graph = parse("+".join(f"x{i}" for i in range(1, 31)))
    limited = compare(graph, repeats=1, limits=ModeLimits(max_paths=10, max_forward_sweeps=10))
    free = compare(graph, repeats=1)
    for mode in ("forward", "paths"):
        assert not limited.costs[mode].ran and limited.costs[mode].seconds is None
        assert limited.costs[mode].jacobian is None
        assert limited.costs[mode].counts == free.costs[mode].counts  # estimate == real run
    assert "over --max-forward-sweeps 10" in limited.costs["forward"].reason
    assert "over --max-paths 10" in limited.costs["paths"].reason
    by_ops = compare(graph, repeats=1, limits=ModeLimits(max_ops=100))
    assert "over --max-ops 100" in by_ops.costs["forward"].reason


def test_median_time_stops_repeating_once_the_budget_is_spent():
    calls = []
    _, timing = median_time(lambda: calls.append(time.sleep(0.02)), repeats=50, budget=0.05)
    assert timing.repeats == len(calls) < 50 and timing.seconds >= 0.02


# -- the command --------------------------------------------------------------------------

def test_compare_prints_a_row_per_mode_and_the_verdict():
    proc = run_cli("compare", "sin(2*x+y)", "--at", "x=1,y=2", "--repeats", "1")
    assert proc.returncode == 0, proc.stderr
    for mode in ("forward", "paths", "reverse"):
        assert any(line.split()[:1] == [mode] for line in proc.stdout.splitlines())
    assert "verdict: reverse wins: 1 sweep" in proc.stdout
    assert "one function evaluation: 3 primitives" in proc.stdout


def test_compare_says_when_the_point_is_random():
    proc = run_cli("compare", "sin(x)", "--repeats", "1")
    assert proc.returncode == 0, proc.stderr
    assert "random point (seed 0" in proc.stdout


def test_compare_json_parses_with_the_documented_fields():
    proc = run_cli("compare", "x*y", "x+y", "sin(x)", "x-y", "--json", "--repeats", "2")
    assert proc.returncode == 0, proc.stderr
    document = json.loads(proc.stdout)
    assert document["command"] == "compare" and document["point_source"] == "random"
    assert document["shape"] == {"outputs": 4, "inputs": 2}
    assert document["verdict"]["winners"] == ["forward"]
    forward = document["modes"]["forward"]
    assert forward["status"] == "run" and forward["counts"]["sweeps"] == 2
    assert forward["operations"] == 14 and forward["seconds"] > 0
    assert len(forward["jacobian"]) == 4 and len(forward["jacobian"][0]) == 2
    assert document["modes"]["reverse"]["counts"]["sweeps"] == 4


def test_compare_csv_parses_one_row_per_mode():
    proc = run_cli("compare", LAYERED_5, "--csv", "--repeats", "1")
    assert proc.returncode == 0, proc.stderr
    rows = list(csv.DictReader(io.StringIO(proc.stdout)))
    assert [r["mode"] for r in rows] == ["forward", "paths", "reverse"]
    paths = rows[1]
    assert (paths["paths"], paths["multiplications"], paths["operations"]) == ("32", "128", "169")
    assert float(paths["seconds"]) > 0


def test_compare_on_a_100000_input_sum_estimates_forward_mode():
    text = "+".join(f"x{i}" for i in range(100_000))
    proc = run_cli("compare", "-", "--json", "--repeats", "1", stdin=text, timeout=120)
    assert proc.returncode == 0, proc.stderr
    modes = json.loads(proc.stdout)["modes"]
    forward = modes["forward"]
    assert forward["status"] == "estimated" and forward["seconds"] is None
    assert "over --max-forward-sweeps 10,000" in forward["reason"]
    assert forward["counts"]["sweeps"] == 100_000
    assert forward["counts"]["partial_evals"] == 5_000_049_999
    assert modes["reverse"]["status"] == "run"


def test_raising_the_forward_limit_runs_forward_mode():
    text = "+".join(f"x{i}" for i in range(30))
    limited = json.loads(run_cli("compare", text, "--json", "--repeats", "1",
                                 "--max-forward-sweeps", "10").stdout)
    raised = json.loads(run_cli("compare", text, "--json", "--repeats", "1",
                                "--max-forward-sweeps", "100").stdout)
    assert limited["modes"]["forward"]["status"] == "estimated"
    assert raised["modes"]["forward"]["status"] == "run"
    assert limited["modes"]["forward"]["counts"] == raised["modes"]["forward"]["counts"]


@pytest.mark.parametrize("args, code", [
    (["compare", "sin(x)", "--json", "--csv"], 2),
    (["compare", "sin(x)", "--max-paths", "-1"], 2),
    (["compare", "sin(x)", "--max-forward-sweeps", "-1"], 2),
    (["compare", "sin(x)", "--repeats", "0"], 2),
    (["compare", "sin(x)", "--at", "x=abc"], 2),
    (["compare", "sin(x"], 2),
    (["compare"], 2),
])
def test_compare_bad_input_exits_cleanly(args, code):
    proc = run_cli(*args)
    assert proc.returncode == code, proc.stderr
    assert proc.stderr.startswith("backprop: error:")
    assert "Traceback" not in proc.stdout + proc.stderr


# -- Ctrl-C ---------------------------------------------------------------------------------

def _interrupt(args: list[str]) -> subprocess.CompletedProcess:
    """Start a long enumeration, let it run, send SIGINT as a terminal's Ctrl-C would."""
    proc = subprocess.Popen([backprop_executable(), *args], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env={**os.environ, "NO_COLOR": "1"},
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    time.sleep(3.0)  # well past start-up: the walk over 16 million paths has begun
    assert proc.poll() is None, "the enumeration finished before it could be interrupted"
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out.decode(), err.decode())


LAYERED_24 = "h1 = x*x" + "".join(f"; h{i} = h{i - 1}*h{i - 1}" for i in range(2, 25))


@pytest.mark.parametrize("args", [
    ["paths", LAYERED_24, "--at", "x=1", "--max-paths", "100000000", "--max-ops", "10000000000"],
    ["grad", LAYERED_24, "--at", "x=1", "--mode", "paths", "--max-paths", "100000000",
     "--max-ops", "10000000000", "--no-check"],
])
def test_ctrl_c_during_a_long_enumeration_exits_130_without_a_traceback(args):
    proc = _interrupt(args)
    assert proc.returncode == 130, proc.stderr
    assert "backprop: interrupted" in proc.stderr
    assert "Traceback" not in proc.stderr
