"""The check is bounded (it stops at --check-timeout and says so), leaves no process behind
on any way out, chooses its method by size, and its verdicts are true."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import time

import pytest

from backprop.check.check import check, method_for
from backprop.check.highprec import differences
from backprop.check.notes import chain_rule_trouble
from backprop.engine.evaluate import evaluate
from backprop.frontends.parse import parse

BACKPROP = [sys.executable, "-m", "backprop"]
# SymPy evaluates e^(e^(e^27)) to compare x * it: a check that never ends by itself.
ENDLESS = ["grad", "x*exp(exp(exp(10*e)))", "--at", "x=1"]


def run(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([*BACKPROP, *args], capture_output=True, text=True, timeout=timeout)


def children_of(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    fields = stat.read().rsplit(")", 1)[1].split()
                if int(fields[1]) == pid:
                    found.append(int(entry))
            except (OSError, IndexError, ValueError):
                pass
    return found


def cpu_ticks(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def alive(pid: int) -> bool:
    """Running (not gone, not a zombie waiting to be reaped)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def wait_for(condition, guard: float = 30.0):
    """Poll ``condition`` until it is true (a hang guard, not a timing assertion)."""
    end = time.monotonic() + guard
    while time.monotonic() < end:
        value = condition()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError("gave up waiting (hang guard)")


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGKILL, signal.SIGINT])
def test_no_child_outlives_the_parent(how):
    # as a shell starts a command: SIGINT at its default (a test runner's worker may
    # ignore it, and a process started with SIGINT ignored keeps ignoring it)
    parent = subprocess.Popen([*BACKPROP, *ENDLESS, "--check-timeout", "120"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                              start_new_session=True,
                              preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        child = wait_for(lambda: children_of(parent.pid))[0]
        wait_for(lambda: cpu_ticks(child) > 30)  # SymPy is at work on the check
        parent.send_signal(how)
        code = parent.wait(timeout=30)
        assert code in (-how, 128 + how, 130)
        wait_for(lambda: not alive(child))
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()
    if how == signal.SIGTERM:
        assert "Traceback" not in parent.stderr.read().decode()


def test_the_check_stops_at_its_timeout_and_the_gradient_stands():
    proc = run(*ENDLESS, "--check-timeout", "1", "--json")
    assert proc.returncode == 0, proc.stderr
    document = json.loads(proc.stdout)
    assert document["outputs"][0]["gradient"]["x"]["value"] == "inf"
    assert document["check"]["status"] == "skipped"
    assert "did not finish within 1 s" in document["check"]["reason"]
    assert "--check-timeout" in document["check"]["reason"]


def test_formulas_without_a_point_are_bounded_too():
    from backprop.render.json_doc import grad_document
    from backprop.limits import Limits
    from backprop.jobs.grad import grad

    report = grad(parse("exp(exp(exp(10*e)))+x"), limits=Limits(check_timeout=2))
    document = grad_document(report)
    assert document["outputs"][0]["gradient"]["x"]["formula"] == "1"
    assert "exp(exp(exp(10*E)))" in document["outputs"][0]["formula"]


def deep_linear_spec(tmp_path, layers: int = 64):
    lines = ["version: 1", "name: deep linear", "inputs: [0.5, -0.25]", "targets: [0.1, 0.2]",
             "loss: half_sse", "layers:"] + ["  - {activation: linear, units: 2}"] * layers
    path = tmp_path / "deep.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_a_deep_net_is_checked_by_high_precision_differences(tmp_path):
    proc = run("net", str(deep_linear_spec(tmp_path)), "--json")
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)["check"]
    assert result["status"] == "pass"
    assert "mpmath" in result["method"] and "Richardson" in result["method"]


def test_the_method_follows_the_size():
    small, big = parse("sin(x*y)"), parse("+".join(f"sin(x{i}*x{i + 1})" for i in range(300)))
    assert method_for(small, ["x"], {"x": 1.0}).startswith("sympy.diff")
    assert "mpmath" in method_for(big, list(big.input_names), {})


def test_differences_are_independent_and_exact_enough():
    graph = parse("exp(sin(x)*y) / (1 + x^2)")
    point = {"x": 0.7, "y": -1.3}
    found = differences(graph, ["x", "y"], point)
    x, y = 0.7, -1.3
    f = math.exp(math.sin(x) * y) / (1 + x * x)
    dfdx = f * (math.cos(x) * y - 2 * x / (1 + x * x))
    assert found[0, "x"][0] == pytest.approx(dfdx, rel=1e-13)
    assert found[0, "y"][0] == pytest.approx(f * math.sin(x), rel=1e-13)


def test_a_wrong_gradient_fails_by_differences_too():
    graph = parse("+".join(f"x{i}*x{i + 1}" for i in range(250)))
    names = list(graph.input_names)
    point = {n: 0.5 for n in names}
    wrong = [[2.0] * len(names)]  # the right values are 1.0 (0.5 at either end)
    result = check(graph, names, wrong, point)
    assert "mpmath" in result.method and result.status == "fail"


def report_of(text: str, at: str | None = None):
    from backprop.jobs.grad import grad

    return grad(parse(text), at=at)


def document_of(text: str, at: str | None = None) -> dict:
    from backprop.render.json_doc import grad_document

    return json.loads(json.dumps(grad_document(report_of(text, at))))


@pytest.mark.parametrize("text, at, met, true", [
    ("x*sqrt(x)", 0.0, "0·inf", 0.0),
    ("sqrt(x^4)", 0.0, "0·inf", 0.0),
    ("log(exp(x))", 1000.0, "0·inf", 1.0),
])
def test_ieee_trouble_is_explained_with_the_true_derivative(text, at, met, true):
    from backprop.render.json_doc import grad_document
    from backprop.render.markdown import grad_markdown

    report = report_of(text, f"x={at}")
    notes = grad_document(report)["check"]["notes"]
    assert len(notes) == 1
    assert notes[0]["met"].startswith(met) and notes[0]["true"] == true
    assert notes[0]["node"].startswith("v")
    assert "the chain rule met" in grad_markdown(report)


@pytest.mark.parametrize("text, at, sides", [
    ("sqrt(x^2)", "x=0", [-1.0, 1.0]),  # |x|
    ("sqrt((x-1)^2) * 3", "x=1", [-3.0, 3.0]),
    ("sqrt(x^2 + y^2)", "x=0,y=0", [-1.0, 1.0]),  # a cone's tip
])
def test_where_no_derivative_exists_the_note_says_so_with_both_sides(text, at, sides):
    """SymPy's diff gives sign(0) = 0 at the tip of |x|; the note gives the two slopes."""
    report = report_of(text, at)
    notes = document_of(text, at)["check"]["notes"]
    assert notes and all(note["true"] is None and note["kind"] == "kink" for note in notes)
    assert notes[0]["one_sided"] == pytest.approx(sides, rel=1e-12)
    assert report.check.status == "skipped" and "no derivative" in report.check.reason


@pytest.mark.parametrize("text, at", [
    ("acos(x)", "x=1"),  # the slope is -inf: SymPy's evalf gives -2.96e79
    ("atan(1/x)", "x=0"),  # a jump: SymPy's limit gives -1
    ("x/x", "x=0"),  # not defined at 0: SymPy's x/x is 1
])
def test_no_true_derivative_is_claimed_where_differences_do_not_confirm_one(text, at):
    notes = document_of(text, at)["check"]["notes"]
    assert notes and all(n["kind"] == "unconfirmed" and n["true"] is None for n in notes)
    assert "do not confirm" in notes[0]["text"]


def test_a_reference_too_large_to_compute_is_a_skip_not_a_crash():
    report = report_of("exp(exp(exp(x)))-exp(exp(exp(x)))", "x=27")
    assert report.check.status == "skipped"


def test_chain_rule_trouble_names_the_node_as_backprop_graph_lists_it():
    from backprop.render.picture_text import listing

    graph = parse("x*sqrt(x)")
    values = evaluate(graph, {"x": 0.0})
    met, node = chain_rule_trouble(graph, values, graph.outputs[0], graph.inputs[0],
                                   math.nan)
    assert met == "0·inf" and graph.nodes[node].op == "sqrt"
    name = report_of("x*sqrt(x)", "x=0").check.notes[0]["node"].split(" = ")[0]
    assert f"{name} = sqrt x" in listing(graph)


def test_a_gradient_where_the_function_is_nan_is_not_valid():
    document = document_of("log(x)", "x=-1")
    assert document["outputs"][0]["gradient"]["x"]["value"] == "nan"


def test_formulas_follow_the_op_table_at_a_zero_base():
    formula = document_of("0^x")["outputs"][0]["gradient"]["x"]["formula"]
    assert "zoo" not in formula and "nan" not in formula


def test_the_verdict_prints_the_relative_difference():
    result = report_of("tan(x)", "x=1.5707963267948966").check
    assert result.status == "pass"
    assert result.differences().startswith("largest relative difference")
    assert "absolute" in result.differences()  # the two differ here: both are shown
