"""Timings a user can trust (jobs/timing.py) and verdicts that explain themselves: one
engine for every mode, a warm-up, k runs with their spread, the noise rule, the verdict's
stability over runs, and scale's fits (counts for growth, times with their quality).
No assertion here depends on how fast anything ran."""

from __future__ import annotations

import math
import struct

import pytest

from backprop.engine.evaluate import evaluate
from backprop.engine.modes import run_mode
from backprop.frontends.parse import parse
from backprop.jobs.compare import compare
from backprop.jobs.scale import Fit, fit_growth, fit_time, scale
from backprop.jobs.timing import PYTHON, Timing, faster, median_time, summarize
from conftest import run_cli

README_EXAMPLES = [("x*y", "x+y", "sin(x)", "x-y"), ("sin(2*x+y)",), ("sin(x^2)+cos(x^2)",),
                   ("h1 = x*x; h2 = h1*h1; h3 = h2*h2; h4 = h3*h3; h5 = h4*h4",)]


def bits(values) -> list[bytes]:
    return [struct.pack("<d", float(v)) for v in values]


@pytest.mark.parametrize("text", ["sin(2*x+y)", "x/y/z + log(x)*exp(-y)", "x^y + tanh(z)"])
def test_the_python_engine_gives_the_compiled_engines_bits(text):
    graph = parse(text)
    point = {"x": 0.7, "y": 1.3, "z": 0.4}
    values = evaluate(graph, point)
    assert bits(evaluate(graph, point, PYTHON)) == bits(values)
    for mode in ("forward", "paths", "reverse"):
        fast = run_mode(mode, graph, values, list(graph.inputs))
        slow = run_mode(mode, graph, values, list(graph.inputs), PYTHON)
        assert bits(fast.jacobian[0]) == bits(slow.jacobian[0])
        assert fast.counts == slow.counts


def test_a_short_call_is_looped_within_a_sample_and_the_warm_up_is_not_counted(monkeypatch):
    clock = [0.0]
    monkeypatch.setattr("backprop.jobs.timing.time.perf_counter", lambda: clock[0])
    calls = []

    def work():  # the first call is slow (cold), every later one takes 1 µs
        clock[0] += 0.5 if not calls else 1e-6
        calls.append(1)
        return len(calls)

    result, timing = median_time(work, repeats=4, budget=10)
    assert result == 1  # the warm-up's result
    assert timing.loops == 2000 and timing.repeats == 4
    assert timing.seconds == pytest.approx(1e-6) and timing.best == pytest.approx(1e-6)
    assert len(calls) == 1 + 1 + 4 * 2000  # warm-up, calibration, samples


def test_the_spread_is_robust_and_unknown_with_one_run():
    timing = summarize([1.0, 1.1, 0.9, 1.0, 50.0])
    assert timing.seconds == 1.0 and timing.best == 0.9
    assert timing.spread == pytest.approx(0.1)  # one disturbed sample does not move it
    assert summarize([1.0]).spread is None


def test_two_times_differ_only_beyond_the_noise():
    quick, slow = summarize([1.0, 1.01, 1.02]), summarize([2.0, 2.02, 2.04])
    assert faster(quick, slow) and not faster(slow, quick)
    near = summarize([1.1, 1.11, 1.12])  # within the 25% floor
    assert not faster(quick, near) and not faster(near, quick)
    noisy = summarize([1.5, 3.0, 4.5])  # a spread of 1.5 s: 100% of its median
    assert not faster(quick, noisy)
    once = Timing(1.6, 1, 1.6)  # one run: only a factor of 2 counts
    assert not faster(quick, once) and faster(quick, Timing(2.5, 1, 2.5))


@pytest.mark.parametrize("texts", README_EXAMPLES)
def test_compare_gives_the_same_verdict_ten_times_and_never_contradicts_its_table(texts):
    graph = parse(*texts)
    verdicts = set()
    for _ in range(10):
        c = compare(graph, at=None, repeats=3)
        verdicts.add((c.verdict.text, tuple(c.verdict.ranking), c.verdict.rule))
        ranking = c.verdict.ranking
        noted = {(n.faster, n.slower) for n in c.verdict.disagreements}
        for k, first in enumerate(ranking):
            for later in ranking[k + 1:]:
                a, b = c.costs[first].timing, c.costs[later].timing
                # the table shows the later mode faster beyond the noise: the verdict says so
                assert faster(b, a) == ((later, first) in noted)
        for n in c.verdict.disagreements:
            assert n.faster in c.verdict.times and n.slower in c.verdict.times
        assert all(cost.timing.engine == "python" for cost in c.costs.values())
    assert len(verdicts) == 1


def test_every_timing_column_shows_its_spread_and_runs():
    proc = run_cli("compare", "sin(2*x+y)", "--at", "x=1,y=2", "--repeat", "3")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    header = next(line for line in lines if line.split()[:3] == ["mode", "best", "median"])
    assert header.split()[3:5] == ["spread", "runs"]
    rows = [line.split() for line in lines[lines.index(header) + 2:]][:3]
    assert [row[0] for row in rows] == ["forward", "paths", "reverse"]
    assert all(any(cell.startswith("±") for cell in row) and "3" in row for row in rows)
    assert any(line.startswith("times: ") for line in lines)
    assert "pure Python" in proc.stdout


def test_repeat_and_repeats_are_one_option():
    for flag in ("--repeat", "--repeats"):
        proc = run_cli("compare", "x*y", "--at", "x=1,y=2", flag, "2", "--json")
        assert proc.returncode == 0, proc.stderr
        assert '"runs": 2' in proc.stdout
    bad = run_cli("compare", "x*y", "--repeat", "0")
    assert bad.returncode == 2 and bad.stderr.startswith("backprop: error:")


def test_grad_times_each_mode_warm_on_one_engine():
    import json

    proc = run_cli("grad", "sin(2*x+y)", "--at", "x=1,y=2", "--mode", "all", "--no-check",
                   "--json", "--repeat", "3")
    document = json.loads(proc.stdout)
    timings = [mode["timing"] for mode in document["modes"].values()]
    assert {t["engine"] for t in timings} == {"python"}
    assert all(t["runs"] == 3 and t["best_seconds"] <= t["median_seconds"] for t in timings)
    one = json.loads(run_cli("grad", "x*y", "--at", "x=1,y=2", "--no-check", "--json").stdout)
    assert one["modes"]["reverse"]["timing"]["runs"] == 5


# -- scale: growth from the counts, times with their quality -----------------------------

def test_path_enumeration_on_layered_grows_exactly_twofold_from_its_counts():
    result = scale("layered", "4:12", repeats=1)
    passes = result.fits["paths"]["passes"]
    assert passes.model == "exponential" and passes.factor == pytest.approx(2.0, abs=1e-12)
    assert [row.costs["paths"].passes for row in result.rows] == [2 ** L for L in range(4, 13)]
    assert result.fits["reverse"]["operations"].model == "linear"
    time_fit = result.fits["paths"]["seconds"]
    assert time_fit.model in ("exponential", "flat", "noise")  # the counts' model, or none
    assert time_fit.model == "flat" or time_fit.r2 is not None


def test_a_flat_time_series_is_never_called_exponential():
    sizes = list(range(1, 11))
    counts = fit_growth(sizes, [2 ** s for s in sizes])
    assert counts.model == "exponential"
    flat = fit_time(sizes, [1e-5 * (1 + 0.1 * math.sin(s)) for s in sizes], counts)
    assert flat.model == "flat" and "exponential" not in flat.text
    grows = fit_time(sizes, [1e-6 * 2.0 ** s for s in sizes], counts)
    assert grows.model == "exponential" and grows.factor == pytest.approx(2.0)
    assert grows.r2 == pytest.approx(1.0) and "R² 1.00" in grows.text
    noisy = fit_time(sizes, [1e-5 * (3 if s % 2 else 1) for s in sizes], counts)
    assert noisy.model == "noise" and "exponential" not in noisy.text


def test_scale_json_carries_the_fit_quality():
    import json

    proc = run_cli("scale", "chain", "--sizes", "1:6", "--repeat", "1", "--json")
    growth = json.loads(proc.stdout)["growth"]
    assert all("r2" in fit for fits in growth.values() for fit in fits.values())
    assert isinstance(Fit("flat", factor=1.1).text, str)
