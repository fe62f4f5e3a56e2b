"""What ``--help`` shows: every command's summary whole, and every example runnable as printed.

The examples are the lines after ``Examples:`` in a command's ``--help`` (its epilog). The
rule they follow, checked here: each line is a shell command line, and what describes it is
a shell comment: after two spaces and ``# `` on the same line, or a ``# `` line before it.
So a line copied whole into a shell runs exactly its command. Each one is run as printed,
in bash, in a fresh directory where ``examples/`` is the repository's (a command that
writes a file writes it there), and must exit 0 without a traceback, or with the status
its comment states as ``exit N`` (``backprop check`` on a sheet with a wrong claim).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from conftest import run_cli

ROOT = Path(__file__).resolve().parent.parent
COMMAND_ROW = re.compile(r"^  (\S+)  +(\S.*)$")  # a name at the section's indent


def help_text(*command: str) -> str:
    proc = run_cli(*command, "--help")
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def section(text: str, title: str) -> list[str]:
    """The lines of a help section (``Commands:``, ``Examples:``): those after its title
    that are indented deeper than the title, up to the first that is not."""
    lines = text.splitlines()
    start = next(k for k, line in enumerate(lines) if line.strip() == title)
    indent = len(lines[start]) - len(lines[start].lstrip()) + 1
    end = next((k for k in range(start + 1, len(lines))
                if not lines[k][:indent].isspace() or not lines[k].strip()), len(lines))
    return lines[start + 1:end]


def summaries() -> dict[str, str]:
    """Each command's summary as ``backprop --help`` lists it, its wrapped lines joined."""
    rows: dict[str, str] = {}
    name = None
    for line in section(help_text(), "Commands:"):
        row = COMMAND_ROW.match(line)
        if row:
            name = row.group(1)
            rows[name] = row.group(2)
        else:
            rows[name] += " " + line.strip()
    return rows


COMMANDS = list(summaries())


def examples() -> list[tuple[str, str, int]]:
    """(command, example line, the exit status its comment documents: ``exit N``, else 0)."""
    found = []
    for name in COMMANDS:
        lines = [line.strip() for line in section(help_text(name), "Examples:")]
        for before, line in zip([""] + lines, lines):
            if not line.startswith("#"):
                status = re.search(r"\bexit (\d+)", line.partition("  # ")[2]
                                   + (before if before.startswith("#") else ""))
                found.append((name, line, int(status.group(1)) if status else 0))
    return found


def test_every_command_has_examples():
    assert {"grad", "graph", "net", "paths", "compare", "scale", "hessian"} <= set(COMMANDS)
    for name in COMMANDS:
        assert section(help_text(name), "Examples:"), f"backprop {name} --help: no examples"


@pytest.mark.parametrize("name", COMMANDS)
def test_summary_is_whole(name):
    """The summary is the first sentence of the command's own help, not cut short."""
    summary = summaries()[name]
    assert "..." not in summary and "…" not in summary, summary
    described = help_text(name).split("\n\n")[1]
    squeeze = lambda text: re.sub(r"\s+", "", text)  # wrapping breaks lines at hyphens too
    assert squeeze(described).startswith(squeeze(summary.rstrip("."))), (summary, described)


def test_examples_follow_the_rule():
    """Every example says what it shows in a shell comment, after it or on the line before:
    so a description can never run as arguments (``--format mermaid for Markdown`` drew
    ``for`` and ``Markdown`` as two more outputs)."""
    for name in COMMANDS:
        lines = [line.strip() for line in section(help_text(name), "Examples:")]
        for before, line in zip([""] + lines, lines):
            if line.startswith("#"):
                continue
            command, comment, _ = line.partition("  # ")
            assert "backprop " in command, line
            assert comment or before.startswith("# "), \
                f"backprop {name} --help: {line!r} has no '  # ' comment"
            assert not re.search(r"\S {2,}\S", command), \
                f"backprop {name} --help: {line!r} runs its description as arguments"


def _run_example(line: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "120",
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    return subprocess.run(["bash", "-o", "pipefail", "-c", line], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600)  # a hang guard


@pytest.fixture(scope="module")
def example_runs(tmp_path_factory):
    """Every example, run at once on a few threads, each in its own directory."""
    lines = [line for _, line, _ in examples()]
    cwds = []
    for k, _ in enumerate(lines):
        cwd = tmp_path_factory.mktemp(f"example{k}")
        (cwd / "examples").symlink_to(ROOT / "examples")
        cwds.append(cwd)
    with ThreadPoolExecutor(max_workers=2 * (os.cpu_count() or 1)) as pool:
        runs = dict(zip(lines, pool.map(_run_example, lines, cwds)))
    return runs, dict(zip(lines, cwds))


@pytest.mark.parametrize("name, line, status", examples())
def test_example_runs_as_printed(name, line, status, example_runs):
    if "-o " in line and " -o -" not in line and shutil.which("dot") is None \
            and line.split("-o ", 1)[1].split()[0].endswith((".svg", ".png")):
        pytest.skip("Graphviz's dot is not installed (docs/graph.md)")
    runs, cwds = example_runs
    proc = runs[line]
    assert "Traceback" not in proc.stdout + proc.stderr, proc.stderr
    assert proc.returncode == status, f"{line}\n{proc.stderr}"
    written = set(cwds[line].iterdir()) - {cwds[line] / "examples"}
    assert proc.stdout.strip() or written, f"{line}: printed nothing and wrote nothing"


def test_completion_script_and_answers():
    """--show-completion prints the script that --install-completion installs; the shell
    then runs backprop with _BACKPROP_COMPLETE set and gets the candidates back."""
    # what --show-completion prints once typer has found the shell among the parent
    # processes (which depends on how the tests are started), asked for bash directly
    script = run_cli(env={"_BACKPROP_COMPLETE": "source_bash"}, process=True)
    assert script.returncode == 0, script.stderr
    assert "_BACKPROP_COMPLETE=complete_bash" in script.stdout
    assert "complete " in script.stdout and "backprop" in script.stdout
    for words, cword, expected in [("backprop gr", "1", {"grad", "graph"}),
                                   ("backprop grad --max-n", "2", {"--max-nodes"}),
                                   ("backprop net --hv", "2", {"--hvp"})]:
        proc = run_cli(env={"_BACKPROP_COMPLETE": "complete_bash", "COMP_WORDS": words,
                            "COMP_CWORD": cword})
        assert proc.returncode == 0, proc.stderr
        assert set(proc.stdout.split()) == expected, (words, proc.stdout)
    assert "--install-completion" in help_text()
