"""`backprop grad` end to end, through the installed command."""

from __future__ import annotations

import json
import math

import pytest

from conftest import run_cli


def grad_json(*args: str) -> dict:
    proc = run_cli("grad", *args, "--json")
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_seed_004_numbers_and_a_passing_check():
    proc = run_cli("grad", "sin(2*x+y)", "--at", "x=1,y=2")
    assert proc.returncode == 0, proc.stderr
    assert repr(2 * math.cos(4)) in proc.stdout and repr(math.cos(4)) in proc.stdout
    assert "check passed" in proc.stdout
    assert "2*cos(2*x + y)" in proc.stdout


def test_json_gives_the_same_numbers():
    doc = grad_json("sin(2*x+y)", "--at", "x=1,y=2")
    assert doc["version"] == 1
    assert doc["gradient"]["x"]["value"] == 2 * math.cos(4)
    assert doc["gradient"]["y"]["value"] == math.cos(4)
    assert doc["gradient"]["x"]["formula"] == "2*cos(2*x + y)"
    assert doc["outputs"][0]["value"] == math.sin(4)
    assert doc["check"]["status"] == "pass"
    assert doc["modes"]["reverse"]["counts"]["sweeps"] == 1


def test_without_a_point_it_prints_formulas():
    doc = grad_json("sin(2*x+y)")
    assert doc["gradient"]["x"] == {"value": None, "formula": "2*cos(2*x + y)"}
    assert doc["gradient"]["y"]["formula"] == "cos(2*x + y)"
    assert doc["check"]["status"] == "pass"
    proc = run_cli("grad", "sin(2*x+y)")
    assert "2*cos(2*x + y)" in proc.stdout and "cos(2*x + y)" in proc.stdout


@pytest.mark.parametrize("expr, point, expected", [
    ("cos(x^2)", "x=0.7", {"x": -2 * 0.7 * math.sin(0.49)}),
    ("sin(x^2)+cos(x^2)", "x=0.7", {"x": -2 * 0.7 * math.sin(0.49) + 2 * 0.7 * math.cos(0.49)}),
    ("h1 = x*x; h2 = h1*h1; h3 = h2*h2; h4 = h3*h3; h5 = h4*h4", "x=1.1",
     {"x": 32 * 1.1**31}),
])
def test_seed_expressions(expr, point, expected):
    doc = grad_json(expr, "--at", point, "--mode", "all")
    for name, value in expected.items():
        assert doc["gradient"][name]["value"] == pytest.approx(value, rel=1e-13)
        for mode in ("forward", "paths", "reverse"):
            column = doc["wrt"].index(name)
            assert doc["modes"][mode]["jacobian"][0][column] == pytest.approx(value, rel=1e-13)
    assert doc["check"]["status"] == "pass"
    assert doc["agreement"] < 1e-12


def test_named_intermediates_keep_their_names():
    proc = run_cli("grad", "a = 2*x + y; z = sin(a)", "--at", "x=1,y=2")
    assert "a = 2*x + y; z = sin(a)" in proc.stdout


def test_wrt_selects_variables():
    doc = grad_json("x*y*z", "--at", "x=1,y=2,z=3", "--wrt", "z,x")
    assert list(doc["gradient"]) == ["z", "x"]
    assert doc["gradient"]["z"]["value"] == 2.0 and doc["gradient"]["x"]["value"] == 6.0


def test_stdin_and_expr_option():
    proc = run_cli("grad", "-", "--at", "x=2", "--json", stdin="x^3\n")
    assert json.loads(proc.stdout)["gradient"]["x"]["value"] == 12.0
    doc = grad_json("-e", "-x^2", "--at", "x=3")
    assert doc["gradient"]["x"]["value"] == -6.0
    assert doc["outputs"][0]["value"] == -9.0


def test_version_and_help():
    assert run_cli("--version").stdout.startswith("backprop ")
    help_text = run_cli("grad", "--help").stdout
    assert "Examples:" in help_text and "--at" in help_text
    assert run_cli("grad", "-h").returncode == 0


def test_python_dash_m_works():
    import subprocess
    import sys
    proc = subprocess.run([sys.executable, "-m", "backprop", "--version"], capture_output=True,
                          text=True)
    assert proc.returncode == 0 and proc.stdout.startswith("backprop ")


def test_jacobian_of_several_expressions():
    doc = grad_json("x*y", "x+y", "sin(x)", "--at", "x=1,y=2")
    rows = [[o["gradient"][n]["value"] for n in ("x", "y")] for o in doc["outputs"]]
    assert rows == [[2.0, 1.0], [1.0, 1.0], [math.cos(1), 0.0]]
    assert doc["gradient"] is None
    assert doc["modes"]["reverse"]["counts"]["sweeps"] == 3


def test_non_finite_values_warn_and_strict_exits_4():
    proc = run_cli("grad", "log(x)", "--at", "x=0")
    assert proc.returncode == 0
    assert "-inf" in proc.stdout and "warning" in proc.stderr  # stdout is the report
    proc = run_cli("grad", "log(x)", "--at", "x=0", "--strict")
    assert proc.returncode == 4
    assert "backprop: error:" in proc.stderr and "-inf" in proc.stdout  # the result, then 4


BAD_EXPRESSIONS = ["sin(2*x+", "2x", "x +* y", "sin()", "sin(x, y)", "foo(x)", "x.__class__",
                   "__import__('os')", "lambda: 1", '"x"', "", "(" * 10_000 + "x" + ")" * 9_999]


@pytest.mark.parametrize("expr", BAD_EXPRESSIONS)
def test_bad_expressions_give_one_clear_error(expr):
    proc = run_cli("grad", expr, "--at", "x=1", timeout=30)  # a hang guard; 5 s: benchmarks
    assert proc.returncode == 2
    assert proc.stderr.startswith("backprop: error: ")
    assert "Traceback" not in proc.stderr + proc.stdout
    assert proc.stdout == ""


def test_ten_thousand_nested_parentheses_work():
    doc = grad_json("(" * 10_000 + "x^2" + ")" * 10_000, "--at", "x=3")
    assert doc["gradient"]["x"]["value"] == 6.0


def test_huge_constant_exponent_is_ieee_not_a_hang():
    proc = run_cli("grad", "x**10**10**10", "--at", "x=1", timeout=30)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr
    assert "warning" in proc.stderr


@pytest.mark.parametrize("args, message", [
    (["--at", "x=abc"], "not a number"),
    (["--at", "x"], "expected name=value"),
    (["--at", "x=1,y=2,z=1"], "no variable 'z'"),
    (["--at", "x=1,x=2,y=1"], "twice"),
    (["--at", "x=1"], "no value for y"),
    (["--at", "x=1,y=2", "--wrt", "q"], "no variable 'q'"),
    (["--at", "=1,y=2"], "name is missing"),
    (["--at", "x=,y=2"], "value of x is missing"),
    (["--at", "x=1e400,y=2"], "out of range"),
    (["--at", "x=1,y=2", "--mode", "sideways"], "unknown mode"),
    (["--at", "x=1,y=2", "--max-paths", "-1"], "must not be negative"),
    (["--nosuchoption"], "No such option"),
])
def test_bad_points_and_options(args, message):
    proc = run_cli("grad", "sin(2*x+y)", *args)
    assert proc.returncode == 2, proc.stderr
    assert message in proc.stderr
    assert proc.stderr.startswith("backprop: error: ")
    assert "Traceback" not in proc.stderr


def test_a_50_megabyte_expression_on_stdin_is_refused_quickly():
    proc = run_cli("grad", "-", "--at", "x=1", stdin="x+" * (25 * 1024 * 1024) + "x",
                   timeout=30)
    assert proc.returncode == 3
    assert "bytes" in proc.stderr and "--max-bytes" in proc.stderr


def test_binary_stdin_is_a_clean_error():
    proc = run_cli("grad", "-", stdin=b"\xff\xfe\x00garbage")
    assert proc.returncode == 2 and "UTF-8" in proc.stderr


def test_path_enumeration_over_the_limit_exits_3_at_once():
    text = "; ".join(["h1 = x*x"] + [f"h{i} = h{i-1}*h{i-1}" for i in range(2, 61)])
    proc = run_cli("grad", text, "--at", "x=1", "--mode", "paths", timeout=30)
    assert proc.returncode == 3
    assert f"{2**60:,}" in proc.stderr


def test_errors_show_a_caret_under_the_column():
    proc = run_cli("grad", "sin(2*x+y) + 3z")
    lines = proc.stderr.splitlines()
    assert lines[0] == "backprop: error: missing operator before 'z'"
    assert lines[1].strip() == "sin(2*x+y) + 3z"
    assert lines[2].index("^") - lines[1].index("s") == len("sin(2*x+y) + 3")
    assert "write 3*z" in lines[3]


def test_debug_anywhere_shows_the_traceback_of_an_error():
    proc = run_cli("grad", "sin(", "--debug")
    assert proc.returncode != 0
    assert "Traceback" in proc.stderr and "InputError" in proc.stderr
    proc = run_cli("grad", "sin(")
    assert "Traceback" not in proc.stderr


def test_expressions_too_deep_for_formulas_are_a_limit_not_a_crash():
    deep = "sin(" * 200 + "x" + ")" * 200
    proc = run_cli("grad", deep)
    assert proc.returncode == 3 and "formulas" in proc.stderr
    assert "Traceback" not in proc.stderr
    for args in (["--at", "x=1"], ["--at", "x=1", "--json"], ["--at", "x=1", "--format",
                                                              "markdown"]):
        proc = run_cli("grad", deep, *args)
        assert proc.returncode == 0, proc.stderr
    doc = json.loads(run_cli("grad", deep, "--at", "x=1", "--json").stdout)
    expected = 1.0
    v = 1.0
    for _ in range(200):
        expected *= math.cos(v)
        v = math.sin(v)
    assert doc["gradient"]["x"]["value"] == pytest.approx(expected, rel=1e-12)
    assert doc["gradient"]["x"]["formula"] is None
    assert run_cli("paths", deep).returncode == 3
