"""Exit codes and one-line errors for what a user can type (issue 11, section 3).

Process behaviour (closed pipes, full disks, exit codes of the real command) runs the
installed command; everything else calls ``cli.main`` in-process, which is faster.
"""

from __future__ import annotations

import errno
import json
import os
import subprocess
from pathlib import Path

import pytest

from backprop.cli import main
from backprop.errors import EXIT_BROKEN_PIPE, EXIT_IO_ERROR
from conftest import ROOT, backprop_executable, run_cli

SEED = "examples/seed004.yaml"

# One command line per command and output format; none of them warns.
EVERY_OUTPUT = [
    ["grad", "sin(2*x+y)", "--at", "x=1,y=2", "--no-check"],
    ["grad", "sin(2*x+y)", "--at", "x=1,y=2", "--no-check", "--json"],
    ["grad", "sin(2*x+y)", "--at", "x=1,y=2", "--no-check", "--format", "markdown"],
    ["paths", "sin(2*x+y)", "--at", "x=1,y=2"],
    ["paths", "sin(2*x+y)", "--at", "x=1,y=2", "--json"],
    ["compare", "sin(2*x+y)", "--at", "x=1,y=2", "--repeats", "1"],
    ["compare", "sin(2*x+y)", "--at", "x=1,y=2", "--repeats", "1", "--json"],
    ["compare", "sin(2*x+y)", "--at", "x=1,y=2", "--repeats", "1", "--csv"],
    ["scale", "chain", "--sizes", "1:3", "--repeats", "1"],
    ["scale", "chain", "--sizes", "1:3", "--repeats", "1", "--json"],
    ["scale", "chain", "--sizes", "1:3", "--repeats", "1", "--csv"],
    ["graph", "sin(2*x+y)", "--at", "x=1,y=2"],
    ["graph", "sin(2*x+y)", "--at", "x=1,y=2", "--format", "tree"],
    ["graph", "sin(2*x+y)", "--format", "dot"],
    ["graph", "sin(2*x+y)", "--format", "mermaid"],
    ["net", SEED, "--no-check"],
    ["net", SEED, "--no-check", "--json"],
    ["--help"],
    ["--version"],
]


def _ids(args):
    return " ".join(a for a in args if a not in ("--at", "x=1,y=2", "--no-check"))[:60]


def _run(args, stdout) -> tuple[int, str]:
    """Run the installed command with ``stdout`` (a file object or PIPE)."""
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "100"}
    proc = subprocess.Popen([backprop_executable(), *args], stdout=stdout,
                            stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, cwd=ROOT, env=env)
    if stdout is subprocess.PIPE:
        proc.stdout.close()  # the reader is gone before the command writes a byte
    try:
        err = proc.stderr.read().decode("utf-8", "replace")
        return proc.wait(timeout=60), err  # a hang guard
    finally:
        proc.kill()


def one_error_line(err: str) -> str:
    """The ``backprop: error:`` line of ``err``, asserting that there is exactly one."""
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.startswith("backprop: error:")]
    assert len(lines) == 1, err
    return lines[0]


@pytest.mark.parametrize("args", EVERY_OUTPUT, ids=_ids)
def test_a_closed_stdout_exits_141_quietly(args):
    code, err = _run(args, subprocess.PIPE)
    assert code == EXIT_BROKEN_PIPE == 141
    assert err == ""


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
@pytest.mark.parametrize("args", EVERY_OUTPUT, ids=_ids)
def test_a_full_disk_is_an_io_error(args):
    with open("/dev/full", "w") as full:
        code, err = _run(args, full)
    assert code == EXIT_IO_ERROR == 74
    line = one_error_line(err)
    assert "cannot write" in line and os.strerror(errno.ENOSPC) in line


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_a_failed_write_to_an_output_file_is_an_io_error(capsys):
    assert main(["graph", "sin(x)", "--format", "dot", "-o", "/dev/full"]) == EXIT_IO_ERROR
    captured = capsys.readouterr()
    assert "cannot write /dev/full" in one_error_line(captured.err) and captured.out == ""


# -- --wrt: any subset, every mode, with and without a point ---------------------------------

@pytest.mark.parametrize("mode", ["forward", "paths", "reverse", "all"])
@pytest.mark.parametrize("point", [[], ["--at", "x=1,y=2,z=3"]], ids=["formulas", "numbers"])
def test_grad_wrt_a_subset_in_every_mode(mode, point, capsys):
    assert main(["grad", "x*y + sin(z)", "--wrt", "z,x", "-m", mode, "--json", *point]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["wrt"] == ["z", "x"] and doc["check"]["status"] == "pass"


@pytest.mark.parametrize("command", ["paths", "compare"])
@pytest.mark.parametrize("point", [[], ["--at", "x=1,y=2,z=3"]], ids=["formulas", "numbers"])
def test_paths_and_compare_take_a_wrt_subset(command, point, capsys):
    if command == "compare":
        point = [*point, "--repeats", "1"]
    assert main([command, "x*y + sin(z)", "--wrt", "x", "--json", *point]) == 0
    json.loads(capsys.readouterr().out)


# -- --at: exactly the documented numbers, merged, with a caret where it is wrong ------------

BAD_POINTS = ["x=1,,y=2", "x=1,y=2,", ",x=1,y=2", "x=１２,y=2", "x=1_000,y=2", "x=0x10,y=2",
              "x=1e,y=2", "x=infinity,y=2", "x=1e400,y=2", "", " ", "x=1,x=2,y=1", "x=2 y=1"]


@pytest.mark.parametrize("command", ["grad", "graph", "paths", "compare"])
@pytest.mark.parametrize("text", BAD_POINTS)
def test_a_bad_point_is_one_error_with_a_caret(command, text, capsys):
    assert main([command, "x*y", "--at", text]) == 2
    captured = capsys.readouterr()
    one_error_line(captured.err)
    source, caret = captured.err.splitlines()[1:3]
    assert source.strip().startswith("--at") and caret.strip() == "^"
    assert captured.out == ""


@pytest.mark.parametrize("text, value", [("1", 1.0), ("-2.5", -2.5), (".5", 0.5), ("1.", 1.0),
                                         ("+1E+2", 100.0), ("-pi", -3.141592653589793),
                                         ("e", 2.718281828459045), ("-inf", -float("inf"))])
def test_the_documented_number_forms(text, value):
    from backprop.frontends.parse import parse
    from backprop.frontends.point import parse_point

    assert parse_point(f"x={text}", parse("x")) == {"x": value}


@pytest.mark.parametrize("command", ["grad", "graph", "paths", "compare"])
def test_repeated_at_merges_and_a_name_twice_is_an_error(command, capsys):
    extra = ["--json"] if command != "graph" else []
    assert main([command, "x*y", "--at", "x=3", "--at", "y=2", *extra]) == 0
    if extra:
        assert json.loads(capsys.readouterr().out)["point"] == {"x": 3.0, "y": 2.0}
    assert main([command, "x*y", "--at", "x=3", "--at", "x=2,y=1"]) == 2
    assert "x twice" in one_error_line(capsys.readouterr().err)


@pytest.mark.parametrize("command", ["grad", "graph", "paths", "compare"])
def test_a_point_split_by_a_space_gets_its_own_hint(command, capsys):
    assert main([command, "x*y", "--at", "x=1", "y=2"]) == 2
    err = capsys.readouterr().err
    one_error_line(err)
    assert "--at x=1,y=2" in err


@pytest.mark.parametrize("value", ["nan", "inf", "-inf"])
def test_a_non_finite_point_warns_and_strict_exits_4(value, capsys):
    assert main(["grad", "x*y", "--at", f"x={value},y=1", "--no-check"]) == 0
    assert f"x={value}" in capsys.readouterr().err
    assert main(["grad", "x*y", "--at", f"x={value},y=1", "--no-check", "--strict"]) == 4


# -- every exit with a result prints the whole result first ----------------------------------

@pytest.mark.parametrize("output", ["text", "json", "markdown"])
def test_strict_prints_the_whole_result_then_exits_4(output, capsys):
    assert main(["grad", "log(x)", "--at", "x=0", "--no-check", "--strict",
                 "--format", output]) == 4
    captured = capsys.readouterr()
    assert "not finite" in one_error_line(captured.err)
    if output == "json":
        assert str(json.loads(captured.out)["gradient"]["x"]["value"]) == "inf"
    else:
        assert "inf" in captured.out


@pytest.mark.parametrize("json_out", [[], ["--json"]], ids=["text", "json"])
def test_net_strict_prints_the_whole_result_then_exits_4(json_out, tmp_path, capsys):
    spec = tmp_path / "overflow.yaml"
    spec.write_text("version: 1\ninputs: [1e300]\ntargets: [0]\nloss: half_sse\n"
                    "layers:\n  - {activation: linear, units: 1}\n")
    assert main(["net", str(spec), "--no-check", "--strict", *json_out]) == 4
    captured = capsys.readouterr()
    one_error_line(captured.err)
    if json_out:
        assert json.loads(captured.out)["command"] == "net"
    else:
        assert captured.out.strip()


# -- the command itself ----------------------------------------------------------------------

def test_no_command_prints_help_on_stderr_and_exits_2():
    code, err = _run([], subprocess.DEVNULL)
    assert code == 2 and "Usage" in err and "grad" in err
    assert err.strip() == run_cli("--help").stdout.strip()  # the same help as --help


def test_a_misspelt_command_gets_a_suggestion(capsys):
    assert main(["gard", "x"]) == 2
    err = capsys.readouterr().err
    one_error_line(err)
    assert "did you mean 'grad'?" in err


@pytest.mark.parametrize("args", [
    ["grad", ""], ["grad", "   "], ["grad", "="], ["grad", "x = "], ["grad", "é"],
    ["grad", "a = a + x"], ["grad", "x*y", "--wrt", ","], ["grad", "x*y", "--wrt", "x,,y"],
    ["grad", "x", "--at", "x=1", "--rtol", "nan"], ["grad", "x", "--atol", "inf"],
    ["grad", "x", "--check-timeout", "inf"], ["grad", "x", "--check-timeout", "nan"],
    ["grad", "x", "--check-timeout", "1e300"], ["paths", "x", "--check-timeout", "nan"],
    ["net", SEED, "--check-timeout", "inf"], ["grad", "x", "--at", "x=1e400"],
])
def test_more_bad_inputs_are_one_line_and_exit_2(args, capsys):
    assert main(args) == 2
    captured = capsys.readouterr()
    one_error_line(captured.err)
    assert captured.out == ""
