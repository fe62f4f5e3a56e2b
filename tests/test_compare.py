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

from backprop.jobs.compare import compare, median_time
from backprop.limits import Limits
from backprop.frontends.parse import parse

from conftest import ROOT, backprop_executable, run_cli

LAYERED_5 = "h1 = x*x; h2 = h1*h1; h3 = h2*h2; h4 = h3*h3; h5 = h4*h4"


def test_reverse_wins_on_seed_004_with_the_documented_verdict():
    result = compare(parse("sin(2*x+y)"), at="x=1,y=2", repeats=1)
    assert result.verdict.winners == ["reverse"]
    assert result.verdict.text == ("reverse wins: 1 sweep, 8 operations; paths: 2 paths, "
                                   "7 operations; forward: 2 sweeps, 10 operations")
    assert "reverse wins for this shape" in result.verdict.shape
    assert result.mode_difference == 0.0
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
    limited = compare(graph, repeats=1, limits=Limits(max_paths=10, max_forward_sweeps=10))
    free = compare(graph, repeats=1)
    for mode in ("forward", "paths"):
        assert not limited.costs[mode].ran and limited.costs[mode].seconds is None
        assert limited.costs[mode].jacobian is None
        assert limited.costs[mode].counts == free.costs[mode].counts  # estimate == real run
    assert "over --max-forward-sweeps 10" in limited.costs["forward"].reason
    assert "over --max-paths 10" in limited.costs["paths"].reason
    by_ops = compare(graph, repeats=1, limits=Limits(max_ops=100))
    assert "over --max-ops 100" in by_ops.costs["forward"].reason


def test_median_time_stops_repeating_once_the_budget_is_spent(monkeypatch):
    clock = [0.0]  # a fake clock: each call of the function takes 0.02 s
    monkeypatch.setattr("backprop.jobs.timing.time.perf_counter", lambda: clock[0])
    calls = []

    def work():
        calls.append(1)
        clock[0] += 0.02

    _, timing = median_time(work, repeats=50, budget=0.05)
    # the warm-up, then two samples (the first is the calibrating call): 0.06 s spent
    assert len(calls) == 3 and timing.repeats == 2 and timing.seconds == pytest.approx(0.02)


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

def _wait_for_cpu(proc: subprocess.Popen, seconds: float, deadline: float = 120) -> None:
    """Poll until ``proc`` has used ``seconds`` of CPU (not wall time: the machine may be busy)."""
    tick = os.sysconf("SC_CLK_TCK")
    start = time.monotonic()
    while time.monotonic() - start < deadline and proc.poll() is None:
        with open(f"/proc/{proc.pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        if (int(fields[11]) + int(fields[12])) / tick >= seconds:  # utime + stime
            return
        time.sleep(0.05)


def _interrupt(args: list[str]) -> subprocess.CompletedProcess:
    """Start a long enumeration, let it run, send SIGINT as a terminal's Ctrl-C would."""
    proc = subprocess.Popen([backprop_executable(), *args], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env={**os.environ, "NO_COLOR": "1"},
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    _wait_for_cpu(proc, 1.5)  # well past start-up (0.3 s): the walk over 16M paths has begun
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


# -- huge counts and every limit option (issue 11) --------------------------------------------

def layered(layers: int) -> str:
    return "; ".join(f"h{i} = {'x' if i == 1 else f'h{i - 1}'}*{'x' if i == 1 else f'h{i - 1}'}"
                     for i in range(1, layers + 1))


def run_in_process(args: list[str], capsys, stdin: str | None = None, monkeypatch=None):
    """``backprop ARGS`` in this process (fast); returns (exit code, stdout, stderr)."""
    from backprop.cli import main

    if stdin is not None:
        monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(stdin.encode())))
    capsys.readouterr()
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def test_compare_on_2000_layers_keeps_huge_counts_exact(capsys):
    code, out, err = run_in_process(["compare", layered(2000), "--repeats", "1", "--json"],
                                    capsys)
    assert code == 0, err
    doc = json.loads(out)
    paths = doc["modes"]["paths"]
    assert paths["status"] == "estimated"
    assert paths["counts"]["paths"] == 2**2000  # an int, not a float or "inf"
    assert isinstance(paths["relative_operations"], int)
    assert paths["operations"] == paths["relative_operations"] * 2000 + \
        paths["operations"] % 2000
    code, out, err = run_in_process(["compare", layered(2000), "--repeats", "1"], capsys)
    assert code == 0 and "Traceback" not in err and "1.15e+602 paths" in out
    code, out, err = run_in_process(["compare", layered(2000), "--repeats", "1", "--csv"],
                                    capsys)
    rows = {row["mode"]: row for row in csv.DictReader(io.StringIO(out))}
    assert int(rows["paths"]["paths"]) == 2**2000


def test_counts_past_python_int_text_limit_print_whole(capsys, monkeypatch):
    import sys

    code, out, err = run_in_process(["compare", "-", "--repeats", "1", "--json"], capsys,
                                    stdin=layered(15_000), monkeypatch=monkeypatch)
    assert code == 0, err
    digits = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(0)
    try:
        assert json.loads(out)["modes"]["paths"]["counts"]["paths"] == 2**15_000
    finally:
        sys.set_int_max_str_digits(digits)


def test_compare_runs_paths_under_the_max_ops_it_was_given(monkeypatch):
    """The enumeration itself gets --max-ops, not the default (20 layers were refused)."""
    import backprop.jobs.compare as compare_module

    seen = {}
    real = compare_module.run_mode

    def spy(mode, *args, **options):
        seen[mode] = options
        return real(mode, *args, **options)

    monkeypatch.setattr(compare_module, "run_mode", spy)
    limits = Limits(max_paths=10**7, max_ops=10**10)
    compare(parse(LAYERED_5), repeats=1, limits=limits)
    assert seen["paths"] == {"max_paths": 10**7, "max_ops": 10**10}


@pytest.mark.parametrize("value", ["1e10", "10000000000", "1E10", "1.5e3"])
def test_limit_options_take_whole_numbers_in_e_notation(value, capsys):
    code, out, err = run_in_process(["compare", "sin(x)", "--max-ops", value, "--json",
                                     "--repeats", "1"], capsys)
    assert code == 0, err


@pytest.mark.parametrize("value", ["1.5", "1e-3", "abc", "1_000", "１２", "1e1000"])
def test_limit_options_refuse_what_is_not_a_whole_number(value, capsys):
    code, out, err = run_in_process(["compare", "sin(x)", "--max-paths", value], capsys)
    assert code == 2 and out == ""
    assert err.startswith("backprop: error:") and "Traceback" not in err


# Each limit option of each command, set just under what the input needs: refused (exit 3)
# or, where compare and scale estimate instead of running, named as the reason.
REFUSED = [
    (["compare", LAYERED_5, "--max-nodes", "3"], "--max-nodes"),
    (["compare", LAYERED_5, "--max-depth", "2"], "--max-depth"),
    (["compare", LAYERED_5, "--max-bytes", "10"], "--max-bytes"),
    (["paths", LAYERED_5, "--at", "x=1", "--max-nodes", "3"], "--max-nodes"),
    (["paths", LAYERED_5, "--at", "x=1", "--max-depth", "2"], "--max-depth"),
    (["paths", LAYERED_5, "--at", "x=1", "--max-bytes", "10"], "--max-bytes"),
    (["paths", LAYERED_5, "--at", "x=1", "--max-paths", "31"], "--max-paths 31"),
    (["paths", LAYERED_5, "--at", "x=1", "--max-ops", "100"], "--max-ops 100"),
    (["scale", "layered", "--sizes", "1:5", "--max-nodes", "5"], "--max-nodes 5"),
    (["grad", LAYERED_5, "--at", "x=1", "--no-check", "--max-nodes", "3"], "3 nodes"),
    (["grad", LAYERED_5, "--at", "x=1", "--no-check", "--max-depth", "2"], "--max-depth"),
    (["grad", LAYERED_5, "--at", "x=1", "--no-check", "--max-bytes", "10"], "--max-bytes"),
    (["grad", LAYERED_5, "--at", "x=1", "--no-check", "--mode", "paths", "--max-paths", "31"],
     "--max-paths 31"),
    (["grad", LAYERED_5, "--at", "x=1", "--no-check", "--mode", "paths", "--max-ops", "100"],
     "--max-ops 100"),
    (["graph", LAYERED_5, "--max-nodes", "3"], "3 nodes"),
    (["graph", LAYERED_5, "--max-depth", "2"], "--max-depth"),
    (["graph", LAYERED_5, "--max-bytes", "10"], "--max-bytes"),
    (["net", "examples/seed004.yaml", "--no-check", "--engine", "scalar", "--max-nodes", "3"],
     "--max-nodes 3"),
    (["net", "examples/seed004.yaml", "--no-check", "--mode", "paths", "--max-paths", "1"],
     "--max-paths 1"),
    (["net", "examples/seed004.yaml", "--no-check", "--max-bytes", "10"], "10 bytes"),
    (["net", "examples/seed004.yaml", "--no-check", "--max-values", "3"], "--max-values 3"),
    (["net", "examples/seed004.yaml", "--no-check", "--max-units", "1"], "--max-units 1"),
    (["net", "examples/seed004.yaml", "--no-check", "--engine", "array", "--mode", "forward",
      "--max-jvps", "1"], "--max-jvps 1"),
    (["net", "examples/seed004.yaml", "--no-check", "--engine", "scalar", "--max-depth", "1"],
     "--max-depth 1"),
    (["grad", "examples/seed004.yaml", "--no-check", "--max-depth", "1"], "--max-depth 1"),
]


@pytest.mark.parametrize("args, named", REFUSED)
def test_each_limit_option_is_honoured(args, named, capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    code, out, err = run_in_process(args, capsys)
    assert code == 3, err
    assert err.startswith("backprop: error:") and named in err  # the line or its hint


ESTIMATED = [
    (["compare", LAYERED_5, "--max-paths", "31"], "paths", "--max-paths 31"),
    (["compare", LAYERED_5, "--max-ops", "100"], "paths", "--max-ops 100"),
    (["compare", "x*y+z", "--max-forward-sweeps", "2"], "forward", "--max-forward-sweeps 2"),
    (["scale", "layered", "--sizes", "1:5", "--max-paths", "31"], "paths", "--max-paths 31"),
    (["scale", "layered", "--sizes", "1:5", "--max-ops", "100"], "paths", "--max-ops 100"),
    (["scale", "wide", "--sizes", "1:3", "--max-forward-sweeps", "5"], "forward",
     "--max-forward-sweeps 5"),
]


@pytest.mark.parametrize("args, mode, named", ESTIMATED)
def test_each_estimating_limit_option_is_honoured(args, mode, named, capsys):
    code, out, err = run_in_process(args + ["--repeats", "1", "--json"], capsys)
    assert code == 0, err
    doc = json.loads(out)
    costs = [doc["modes"][mode]] if doc["command"] == "compare" else \
        [row["modes"][mode] for row in doc["rows"]]
    assert costs[-1]["status"] == "estimated" and named in costs[-1]["reason"]
    raised = [a if a != named.split()[1] else "1e9" for a in args]
    code, out, err = run_in_process(raised + ["--repeats", "1", "--json"], capsys)
    doc = json.loads(out)
    costs = [doc["modes"][mode]] if doc["command"] == "compare" else \
        [row["modes"][mode] for row in doc["rows"]]
    assert all(cost["status"] == "run" for cost in costs)
