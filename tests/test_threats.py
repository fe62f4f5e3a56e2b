"""The threat list for expressions and the command line (docs/errors.md), from the
installed command: every case ends in a result or one clean error line, with the documented
exit code, within 1 GiB of address space, and never prints a traceback. Nothing here is
timed (machines are noisy): a 30 s timeout guards against hangs, and
benchmarks/bad_inputs.py measures each case against its 5 s target.

The cases where memory is the threat (huge numbers, deep nesting, a huge input) and the
start-up without arguments run the installed command under the 1 GiB limit; the others
run in this process (``run_cli``), where a limit on address space cannot be set."""

from __future__ import annotations

import os
import resource
import subprocess

import pytest

from conftest import ROOT, backprop_executable, run_cli

GIB = 1024**3


def run(*args: str) -> subprocess.CompletedProcess:
    """``backprop ARGS`` in this process, with ``out`` and ``err`` as limited_run gives them."""
    proc = run_cli(*args)
    proc.out, proc.err = proc.stdout, proc.stderr
    return proc


def limited_run(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    """The installed command within 1 GiB of address space."""
    def limit_memory():
        resource.setrlimit(resource.RLIMIT_AS, (GIB, GIB))

    proc = subprocess.run([backprop_executable(), *args], input=stdin, capture_output=True,
                          timeout=30, cwd=ROOT, env={**os.environ, "NO_COLOR": "1"},
                          preexec_fn=limit_memory)
    proc.out = proc.stdout.decode("utf-8", "replace")
    proc.err = proc.stderr.decode("utf-8", "replace")
    return proc


def assert_clean(proc, code: int):
    assert "Traceback" not in proc.out + proc.err
    assert proc.returncode == code, proc.err
    if code in (2, 3, 4):  # one error line (warnings may come before it under --strict)
        errors = [line for line in proc.err.splitlines() if line.startswith("backprop: error: ")]
        assert len(errors) == 1, proc.err


INJECTION = ["x.__class__", "__import__('os')", "x[0]", "lambda: 1", "[x for x in y]",
             "f'{x}'", "'x'", "x < 1", "x == y", "x and y", "not x", "x if y else z",
             "__builtins__", "x.real", "{x}", "x @ y", "x % 2", "x // 2", "x | y", "!x",
             "os.system('ls')", "x; import os", "`x`", "$x", "x\\\ny"]


@pytest.mark.parametrize("expr", INJECTION)
def test_code_injection_is_a_parse_error(expr):
    assert_clean(run("grad", expr, "--at", "x=1,y=1"), 2)


@pytest.mark.parametrize("name", ["N", "S", "I", "E", "Q", "beta", "gamma", "O", "exec",
                                  "eval", "pi_", "zeta"])
def test_names_sympy_treats_specially_are_plain_variables(name):
    proc = run("grad", f"{name}^2 + 3*{name}", "--at", f"{name}=2", "--json")
    assert_clean(proc, 0)
    import json
    doc = json.loads(proc.out)
    assert doc["gradient"][name]["value"] == 7.0
    assert doc["gradient"][name]["formula"] == f"2*{name} + 3"
    assert doc["check"]["status"] == "pass"


@pytest.mark.parametrize("expr, code", [
    ("x**10**10**10", 0), ("9**9**9", 0), ("9" * 5000, 2), ("0." + "0" * 4990 + "1", 0),
    ("1e999999", 2), ("2**1e308**2", 0),
])
def test_huge_numbers_are_bounded(expr, code):
    assert_clean(limited_run("grad", f"x + {expr}", "--at", "x=1"), code)


def test_a_million_nested_parentheses():
    text = ("(" * 1_000_000 + "x" + ")" * 1_000_000).encode()
    proc = limited_run("grad", "-", "--at", "x=1", "--no-check", stdin=text)
    assert_clean(proc, 0)


def test_a_100_megabyte_input_is_refused_as_a_limit():
    proc = limited_run("grad", "-", "--at", "x=1", stdin=b"x+" * (50 * 1024 * 1024))
    assert_clean(proc, 3)
    assert "--max-bytes" in proc.err


@pytest.mark.parametrize("expr, point", [
    ("log(x)", "x=0"), ("log(x)", "x=-1"), ("sqrt(x)", "x=-1"), ("1/x", "x=0"),
    ("x**-1", "x=0"), ("exp(x)", "x=1000"), ("x*y", "x=nan,y=1"),
    ("x*y", "x=inf,y=1"), ("x*sqrt(x)", "x=0"), ("0**-1 + x", "x=1"),
])
def test_numerics_are_ieee_with_a_warning_and_strict_exits_4(expr, point):
    import json
    proc = run("grad", expr, "--at", point, "--mode", "all", "--json")
    assert_clean(proc, 0)
    doc = json.loads(proc.out)
    assert doc["warnings"], "a non-finite value must be named in a warning"
    jacobians = [m["jacobian"] for m in doc["modes"].values()]
    assert all(j == jacobians[0] for j in jacobians), "the same in every mode"
    assert_clean(run("grad", expr, "--at", point, "--strict"), 4)


def test_zero_to_the_zero_is_one_and_its_derivatives_are_zero():
    import json
    proc = run("grad", "0^0 + x", "--at", "x=1", "--json", "--strict")
    assert_clean(proc, 0)
    assert json.loads(proc.out)["outputs"][0]["value"] == 2.0
    proc = run("grad", "x^0 + x^y", "--at", "x=0,y=2", "--mode", "all", "--json",
                       "--strict")
    assert_clean(proc, 0)
    doc = json.loads(proc.out)
    for mode in doc["modes"].values():
        assert mode["jacobian"] == [[0.0, 0.0]]


@pytest.mark.parametrize("expr", ["abs(x)", "relu(x)"])
def test_kinks_at_zero_give_zero_in_every_mode(expr):
    import json
    proc = run("grad", expr, "--at", "x=0", "--mode", "all", "--json")
    assert_clean(proc, 0)
    doc = json.loads(proc.out)
    assert [m["jacobian"][0][0] for m in doc["modes"].values()] == [0.0, 0.0, 0.0]
    assert doc["check"]["status"] == "pass"


@pytest.mark.parametrize("args, code", [
    (["x", "--at", "x="], 2), (["x", "--at", "=1"], 2), (["x", "--at", "x==1"], 2),
    (["x", "--at", "x=1e400"], 2), (["x", "--at", "x=-1"], 0), (["-x"], 2),
    (["-e", "-x", "--at", "x=-1"], 0), (["x", "--unknown"], 2), (["x", "--at", "é=1"], 2),
    (["é"], 2), (["x", "--max-nodes", "abc"], 2), (["x", "--check-timeout", "-1"], 2),
    ([], 2),
])
def test_command_line_mistakes(args, code):
    assert_clean(run("grad", *args), code)


def test_no_arguments_prints_help_on_stderr_and_exits_2():
    proc = limited_run()
    assert "Traceback" not in proc.out + proc.err
    assert proc.returncode == 2 and not proc.out
    assert "grad" in proc.err
