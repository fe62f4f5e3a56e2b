"""Every command shown in README.md and docs/*.md runs as written and prints what is shown.

Commands are the ``$ `` lines of ```console blocks; the lines after one, up to the next
``$ `` or the block's end, are its shown output. A shown output containing
``backprop: error:`` is stderr and the command must exit 2 or 3; any other is stdout and
the command must exit 0. No command may print a traceback. A command shown without output
is only run. The README's set-up commands are the ones .ci/run runs.

A plain ``backprop ARGS`` line runs in this process (conftest's ``run_cli``); a line that
needs the shell (a pipe, ``$(...)``, another program) runs in bash, all of those at once.

Shown and printed outputs are compared whole, line by line, after ``normalise``. A line
``...`` in a shown output stands for any run of lines: the docs skip what does not matter
there, and rows that depend on timing.
"""

from __future__ import annotations

import difflib
import os
import re
import shlex
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from conftest import run_cli

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(r"```console\n(.*?)```", re.S)
ELISION = "..."
TIME = re.compile(r"(?<![\w.])\d+(?:\.\d+)? ?(?:µs|ms|s)\b")
JSON_SECONDS = re.compile(r'("\w*seconds": )[-+.\deE]+')
COLUMNS = "80"  # the width the documented outputs were printed at


def shown_commands():
    for path in DOCS:
        for block in BLOCK.findall(path.read_text(encoding="utf-8")):
            lines = block.splitlines()
            for k, line in enumerate(lines):
                if line.startswith("$ "):
                    output = []
                    for rest in lines[k + 1:]:
                        if rest.startswith("$ "):
                            break
                        output.append(rest)
                    yield pytest.param(line[2:], "\n".join(output),
                                       id=f"{path.name}:{line[2:60]}")


def normalise(text: str) -> list[str]:
    """The lines of text with every time made one placeholder (``1.72 ms``, ``16 µs``,
    ``"seconds": 0.0012``); a time's width moves the columns after it, so runs of spaces
    and of ``─`` inside a line count as one. Line ends and trailing blank lines go."""
    lines = []
    for line in text.splitlines():
        line = JSON_SECONDS.sub(r"\1<time>", TIME.sub("<time>", line.rstrip()))
        body = line.lstrip(" ")
        indent = line[:len(line) - len(body)]
        lines.append(indent + re.sub("─{2,}", "─", re.sub(" {2,}", " ", body)))
    while lines and not lines[-1]:
        lines.pop()
    return lines


def matches(shown: list[str], printed: list[str]) -> bool:
    """Whether printed matches shown line for line: a line ``...`` matches any run of lines,
    and a line ending in `` ...`` any line that starts with what comes before it."""
    fits = [True] + [False] * len(printed)  # fits[j]: the shown lines so far match printed[:j]
    for line in shown:
        if line.strip() == ELISION:
            for j in range(1, len(fits)):
                fits[j] = fits[j] or fits[j - 1]
        else:
            fits = [False] + [fits[j - 1] and _same_line(line, printed[j - 1])
                              for j in range(1, len(fits))]
    return fits[-1]


def _same_line(shown: str, printed: str) -> bool:
    if shown.endswith(" " + ELISION):
        return printed.startswith(shown[:-len(ELISION)])
    return printed == shown


def plain_words(command: str) -> list[str] | None:
    """The arguments of a ``backprop ARGS`` line that needs no shell, else None."""
    if "$" in command or "`" in command:
        return None
    lexer = shlex.shlex(command, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    words = list(lexer)
    if words[0] != "backprop" or any(set(word) <= set(lexer.punctuation_chars)
                                     for word in words):
        return None
    return shlex.split(command)[1:]


def in_bash(command: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", "-o", "pipefail", "-c", command], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)  # a hang guard


@pytest.fixture(scope="module")
def started(request):
    """Every selected documented command that needs the shell, started at once on a few
    threads (with an environment made here: run_cli changes os.environ while it runs)."""
    commands = {item.callspec.params["command"] for item in request.session.items
                if item.module is sys.modules[__name__] and "command" in getattr(
                    getattr(item, "callspec", None), "params", {})}
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": COLUMNS,
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    pool = ThreadPoolExecutor(max_workers=2 * (os.cpu_count() or 1))
    yield {command: pool.submit(in_bash, command, env) for command in commands
           if plain_words(command) is None}
    pool.shutdown(cancel_futures=True)


def test_plain_lines_and_shell_lines():
    assert plain_words('backprop grad "a = 2*x + y; z = sin(a)" --at x=1') == \
        ["grad", "a = 2*x + y; z = sin(a)", "--at", "x=1"]
    for line in ['backprop grad "x" | cut -c1', "backprop grad x > out", 'backprop "$(seq 3)"',
                 "backprop grad x; ls", "python3 -c 'print(1)' | backprop grad -"]:
        assert plain_words(line) is None, line


@pytest.mark.parametrize("command, shown", list(shown_commands()))
def test_documented_command_runs_as_written(command, shown, started):
    words = plain_words(command)
    proc = started[command].result() if words is None else \
        run_cli(*words, env={"COLUMNS": COLUMNS})
    assert "Traceback" not in proc.stdout + proc.stderr
    if "backprop: error:" in shown:
        assert proc.returncode in (2, 3), proc.stderr
        printed = proc.stderr
    else:
        assert proc.returncode == 0, proc.stderr
        printed = proc.stdout
    expected, actual = normalise(shown), normalise(printed)
    if expected and not matches(expected, actual):
        diff = "\n".join(difflib.unified_diff(expected, actual, "shown", "printed", lineterm=""))
        pytest.fail(f"the shown output of {command!r} differs (normalised):\n{diff}")


def test_normalise_and_elision():
    shown = normalise(" reverse    1   1.72 ms\n ───────\n...\ndone  \n\n")
    printed = normalise(" reverse  1  16 µs\n ───\nmore\nlines\ndone\n")
    assert shown == [" reverse 1 <time>", " ─", "...", "done"]
    assert matches(shown, printed) and matches(shown, printed[:2] + printed[-1:])
    assert not matches(shown, printed[:-1]) and not matches(shown[:2], printed)
    assert normalise('"seconds": 0.0435,') == ['"seconds": <time>,']
    assert matches(["a b ..."], ["a b c"]) and not matches(["a b ..."], ["a c"])


def test_ci_runs_the_readme_setup_commands_exactly():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    setup = re.search(r"## Set up.*?```sh\n(.*?)```", readme, re.S).group(1).strip().splitlines()
    assert len(setup) == 2, "README gives exactly two set-up commands"
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    for command in setup:
        assert command in ci, f".ci/run does not run {command!r}"
