"""``backprop check CASES``: claims of gradients and derivative formulas, checked against
backprop's gradient (an oracle proven elsewhere against SymPy) and SymPy; exit 0 / 1 / 2;
table, JSON, Markdown and JUnit XML (parsed by junitparser, as CI systems read it)."""

from __future__ import annotations

import json
import random

import pytest

from conftest import ROOT, run_cli

SHEET = str(ROOT / "examples" / "check" / "exercises.yaml")


def _claims(tmp_path, text: str, name: str = "claims.yaml") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_the_example_sheet_finds_its_one_wrong_answer():
    out = run_cli("check", SHEET, "--json")
    assert out.returncode == 1, out.stderr
    doc = json.loads(out.stdout)
    assert doc["command"] == "check" and doc["passed"] == 4 and doc["failed"] == 1
    wrong = [c for c in doc["claims"] if c["status"] == "fail"]
    assert [c["name"] for c in wrong] == ["quotient rule"]
    assert "counterexample" in wrong[0]["checks"][0]["method"]
    text = run_cli("check", SHEET)
    assert text.returncode == 1
    assert "FAIL  quotient rule" in text.stdout and "1 claim wrong: quotient rule" in text.stdout


def test_junit_is_read_by_junitparser_one_case_per_claim(tmp_path):
    junitparser = pytest.importorskip("junitparser")
    report = tmp_path / "report.xml"
    out = run_cli("check", SHEET, "--format", "junit", "-o", str(report))
    assert out.returncode == 1 and out.stdout == ""
    xml = junitparser.JUnitXml.fromfile(str(report))
    cases = [case for suite in xml for case in suite]
    assert len(cases) == 5
    failed = [case.name for case in cases if not case.is_passed]
    assert failed == ["quotient rule"]
    assert all(case.time >= 0 for case in cases)
    suite = next(iter(xml))
    assert suite.tests == 5 and suite.failures == 1 and suite.errors == 0


def test_markdown_for_a_job_summary():
    out = run_cli("check", SHEET, "--format", "markdown")
    assert out.returncode == 1
    assert out.stdout.startswith("## backprop check")
    rows = [line for line in out.stdout.splitlines() if line.startswith("| ") and "FAIL" in line]
    assert len(rows) == 1 and "quotient rule" in rows[0]


def test_all_right_is_exit_0_and_stdin_reads_yaml(tmp_path):
    text = ("version: 1\nclaims:\n"
            "  - expr: x^3\n    derivative: {x: 3*x^2}\n"
            "  - expr: exp(x)*y\n    at: x=0,y=2\n    gradient: {x: 2, y: 1}\n")
    out = run_cli("check", _claims(tmp_path, text))
    assert out.returncode == 0, out.stdout + out.stderr
    piped = run_cli("check", "-", "--json", stdin=text)
    assert piped.returncode == 0 and json.loads(piped.stdout)["file"] == "<stdin>"


def test_csv_claims_one_row_per_partial(tmp_path):
    text = ('name,expr,at,wrt,claim\n'
            'chain,sin(2*x+y),"x=1,y=2",x,-1.3072872417272239\n'
            'power,x^3,,x,3*x^2\n'
            'wrong,x^3,,x,3*x\n')
    out = run_cli("check", _claims(tmp_path, text, "claims.csv"), "--json")
    assert out.returncode == 1, out.stderr
    doc = json.loads(out.stdout)
    assert [c["status"] for c in doc["claims"]] == ["pass", "pass", "fail"]
    assert [c["line"] for c in doc["claims"]] == [2, 3, 4]


def _sympy_derivatives(expr: str, names: list[str]) -> dict[str, str]:
    """SymPy's own derivative of expr, written in our syntax: an independent claim."""
    import sympy

    symbols = {n: sympy.Symbol(n, real=True) for n in names}
    f = sympy.sympify(expr.replace("^", "**"), locals=symbols)
    return {n: str(sympy.diff(f, symbols[n])).replace("**", "^") for n in names}


@pytest.mark.parametrize("seed", range(6))
def test_true_formulas_pass_and_perturbed_ones_fail(tmp_path, seed):
    """Property: SymPy's derivative, as a claim, holds; the same plus a small term fails."""
    rng = random.Random(seed)
    ops = ["sin({})", "cos({})", "exp({})", "({})^2", "({})*y", "log(1 + ({})^2)",
           "tanh({})", "sqrt(1 + ({})^2)"]
    expr = "x"
    for _ in range(3):
        expr = rng.choice(ops).format(expr)
    expr = f"{expr} + x*y"
    truth = _sympy_derivatives(expr, ["x", "y"])
    right = "\n".join(f"      {n}: \"{f}\"" for n, f in truth.items())
    wrong = "\n".join(f"      {n}: \"{f} + 0.001*x\"" for n, f in truth.items())
    text = (f"version: 1\nclaims:\n  - name: right\n    expr: \"{expr}\"\n    derivative:\n"
            f"{right}\n  - name: wrong\n    expr: \"{expr}\"\n    derivative:\n{wrong}\n")
    out = run_cli("check", _claims(tmp_path, text), "--json")
    doc = json.loads(out.stdout)
    assert out.returncode == 1, out.stderr
    right_claim, wrong_claim = doc["claims"]
    assert right_claim["status"] == "pass", right_claim
    assert all(c["status"] == "fail" for c in wrong_claim["checks"]), wrong_claim


def test_numeric_evidence_when_sympy_runs_out_of_time(tmp_path):
    text = "version: 1\nclaims:\n  - expr: sin(x)^2 + cos(x)^2 + x\n    derivative: {x: 1}\n"
    out = run_cli("check", _claims(tmp_path, text), "--check-timeout", "0.001", "--json")
    assert out.returncode == 0, out.stderr
    method = json.loads(out.stdout)["claims"][0]["checks"][0]["method"]
    assert "points" in method and "SymPy" in method


def test_tolerances_per_file_and_per_claim(tmp_path):
    text = ("version: 1\nrtol: 1e-3\nclaims:\n"
            "  - name: loose\n    expr: sqrt(x)\n    at: {x: 2}\n    gradient: {x: 0.3535}\n"
            "  - name: tight\n    expr: sqrt(x)\n    at: {x: 2}\n    gradient: {x: 0.3535}\n"
            "    rtol: 1e-9\n")
    doc = json.loads(run_cli("check", _claims(tmp_path, text), "--json").stdout)
    assert [c["status"] for c in doc["claims"]] == ["pass", "fail"]


def test_a_derivative_outside_the_expression_is_zero(tmp_path):
    text = "version: 1\nclaims:\n  - expr: x^2\n    derivative: {z: 0}\n"
    assert run_cli("check", _claims(tmp_path, text)).returncode == 0


@pytest.mark.parametrize("text, line, words", [
    ("claims: []\nversion: 1\n", None, "no claims"),
    ("version: 1\n", 1, "claims: missing"),
    ("version: 2\nclaims: []\n", 1, "version"),
    ("version: 1\nclaim:\n  - expr: x\n", 2, "unknown field 'claim'"),
    ("version: 1\nclaims:\n  - expr: sin(x\n    derivative: {x: cos(x)}\n", 3, "never closed"),
    ("version: 1\nclaims:\n  - expr: x^2\n    derivative: {x: 2*x +}\n", 3, "derivative x"),
    ("version: 1\nclaims:\n  - expr: x^2\n    gradient: {x: 2}\n", 4, "needs the point"),
    ("version: 1\nclaims:\n  - expr: x^2\n    at: {y: 1}\n    gradient: {x: 2}\n", 3, "'y'"),
    ("version: 1\nclaims:\n  - expr: x^2\n    at: {x: 1}\n    gradient: {x: two}\n", 5,
     "not a number"),
    ("version: 1\nclaims:\n  - expr: x^2\n", 3, "claims nothing"),
    ("version: 1\nclaims:\n  - x^2\n", 3, "mapping"),
    ("version: 1\nclaims:\n  - expr: x^2\n    derivative: {x: 2*x}\n    rtol: -1\n", 5,
     "tolerance"),
    ("version: 1\nclaims:\n  - expr: x^2\n    derivative: {x: 2*x}\n    colour: red\n", 5,
     "unknown field 'colour'"),
    ("- a\n- b\n", 1, "mapping"),
    ("version: 1\nclaims:\n  - expr: [1, 2]\n    derivative: {x: 1}\n", 3, "text or a number"),
    ("version: 1\nclaims:\n  - expr: \"x; y\"\n    derivative: {x: 1}\n", 3, "only the last"),
])
def test_bad_files_are_exit_2_with_file_and_line(tmp_path, text, line, words):
    path = _claims(tmp_path, text)
    out = run_cli("check", path)
    assert out.returncode == 2, out.stdout + out.stderr
    first = out.stderr.splitlines()[0]
    assert first.startswith("backprop: error: ") and "Traceback" not in out.stderr
    assert (f"{path}:{line}:" in first) if line else path in first
    assert words in out.stderr


@pytest.mark.parametrize("name, data, words", [
    ("missing.yaml", None, "claims file not found"),
    ("empty.yaml", b"", "empty"),
    ("binary.yaml", b"\x00\x01", "binary"),
    ("bad.csv", b"expr,claim\nx,1\n", "columns"),
    ("cells.csv", b"name,expr,at,wrt,claim\na,x,x=1,x\n", "cells"),
    ("nopoint.csv", b"name,expr,at,wrt,claim\na,x^2,,x,2\n", "point"),
])
def test_bad_files_of_every_kind(tmp_path, name, data, words):
    path = tmp_path / name
    if data is not None:
        path.write_bytes(data)
    out = run_cli("check", str(path))
    assert out.returncode == 2 and words in out.stderr and "Traceback" not in out.stderr


def test_bad_options():
    assert run_cli("check", SHEET, "--format", "xml").returncode == 2
    assert run_cli("check", SHEET, "--json", "--format", "junit").returncode == 2
    assert run_cli("check", str(ROOT)).returncode == 2
