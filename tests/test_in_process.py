"""``run_cli`` runs the command in this process: it must give what the real command gives.

Representative command lines of every command, output format and exit code run both ways
(in this process and as the installed command) and must print the same stdout and stderr
and exit with the same code. Measured times differ from run to run, so they are made one
placeholder first (as tests/test_docs.py does for the documented outputs).
"""

from __future__ import annotations

import re
import subprocess

import pytest

import conftest
from conftest import run_cli
from test_docs import normalise

SEED = "examples/seed004.yaml"
POINT = ["--at", "x=1,y=2"]

REPRESENTATIVE = [
    ["grad", "sin(2*x+y)", *POINT],  # the check on the side (SymPy in a child process)
    ["grad", "sin(2*x+y)", *POINT, "--json"],
    ["grad", "sin(2*x+y)", *POINT, "--format", "markdown", "--mode", "all"],
    ["grad", "a = 2*x + y; z = sin(a)", *POINT, "--explain"],
    ["grad", "x*y + exp(x)"],  # formulas, no point
    ["grad", "log(x)", "--at", "x=0", "--strict"],  # a warning, then exit 4
    ["grad", "x*y", "--at", "x=1", "y=2"],  # a usage mistake with its own hint: exit 2
    ["grad", "sin(sin(x))", "--at", "x=1", "--max-nodes", "2"],  # a limit: exit 3
    ["grad", "é", "--at", "x=1"],
    ["grad", "-x"],  # click's own usage error
    ["paths", "sin(2*x+y)", *POINT],
    ["paths", "x*y + sin(x)", "--json"],
    ["compare", "sin(2*x+y)", *POINT, "--repeats", "1"],
    ["compare", "x*y", *POINT, "--repeats", "1", "--json"],
    ["scale", "chain", "--sizes", "3:1"],  # scale's times decide its fitted growth: errors only
    ["graph", "sin(2*x+y)", *POINT, "--format", "tree"],
    ["graph", "sin(2*x+y)", "--format", "dot"],
    ["graph", "sin(2*x+y)", "--format", "mermaid"],
    ["net", SEED],
    ["net", SEED, "--json", "--no-check"],
    ["net", "no-such-file.yaml"],
    ["--version"],
    ["--help"],
    ["grad", "--help"],
    [],  # help on stderr, exit 2
    ["gard", "x"],
]


RELATIVE_TIME = re.compile(r'("relative_time": )[-+.\deE]+')
# what compare's times say of its ranking is the clock's too (docs/performance.md)
TIMES_NOTE = re.compile(r'^times: .*?(?=^shape: )|("times": )".*?"|("disagreements": )\[.*?\]',
                        re.S | re.M)


def untimed(text: str) -> list[str]:
    """The lines of ``text`` without what a clock decides: times, and on a line with a time,
    what follows it (times relative to others)."""
    text = TIMES_NOTE.sub(lambda m: (m.group(1) or m.group(2) or "") + "<time>", text)
    lines = normalise(RELATIVE_TIME.sub(r"\1<time>", text))
    return [line[:line.index("<time>")] if "<time>" in line else line for line in lines]


def both_ways(*args: str, **kwargs) -> tuple[subprocess.CompletedProcess, ...]:
    return run_cli(*args, **kwargs), run_cli(*args, process=True, **kwargs)


def assert_same(here: subprocess.CompletedProcess, there: subprocess.CompletedProcess):
    assert here.returncode == there.returncode, (here.stderr, there.stderr)
    assert untimed(here.stdout) == untimed(there.stdout)
    assert untimed(here.stderr) == untimed(there.stderr)
    assert "Traceback" not in here.stderr


@pytest.mark.parametrize("args", REPRESENTATIVE, ids=lambda args: " ".join(args)[:50])
def test_in_process_runs_give_what_the_command_gives(args):
    assert_same(*both_ways(*args))


@pytest.mark.parametrize("stdin", ["sin(x)*y", "x+" * 20 + "x", b"\xff\xfe x"],
                         ids=["text", "long", "not-utf8"])
def test_standard_input_is_the_same(stdin):
    assert_same(*both_ways("grad", "-", "--at", "x=1,y=2", "--json", stdin=stdin))


def test_a_variable_read_at_call_time_is_honoured_in_process():
    """BACKPROP_YAML_LOADER is read when a spec is loaded, so it needs no new process."""
    spec = ["net", SEED, "--no-check", "--json"]
    assert_same(*both_ways(*spec, env={"BACKPROP_YAML_LOADER": "python"}))


def test_the_in_process_path_starts_no_command(monkeypatch):
    """The speed this is for: no ``backprop`` process unless asked for (the check's own
    SymPy child is the command's behaviour, not a start of the command)."""
    def refuse(*args, **kwargs):
        raise AssertionError(f"a process was started: {args}")

    monkeypatch.setattr(subprocess, "run", refuse)
    assert run_cli("graph", "x*y", "--format", "dot").returncode == 0
    with pytest.raises(AssertionError, match="a process was started"):
        run_cli("--version", process=True)
    with pytest.raises(AssertionError, match="a process was started"):
        run_cli("--version", env={name: "1" for name in conftest.IMPORT_TIME_ENV})


def test_an_uncaught_error_is_a_traceback_and_exit_1_both_ways():
    """--debug lets an error through to the interpreter; in-process, the same report."""
    here, there = both_ways("--debug", "grad", "x", "--at", "x=1e400")
    assert here.returncode == there.returncode == 1
    assert here.stderr.startswith("Traceback") and there.stderr.startswith("Traceback")
    assert here.stderr.splitlines()[-1] == there.stderr.splitlines()[-1]
    assert here.stdout == there.stdout
