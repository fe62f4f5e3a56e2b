"""Every command shown in README.md and docs/*.md runs as written.

Commands are the ``$ `` lines of ```console blocks. A block whose shown output contains
``backprop: error:`` must fail with exit 2 or 3; every other command must exit 0. No
command may print a traceback. The README's set-up commands are the ones .ci/run runs.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(r"```console\n(.*?)```", re.S)


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


@pytest.mark.parametrize("command, shown", list(shown_commands()))
def test_documented_command_runs_as_written(command, shown):
    env = {**os.environ, "NO_COLOR": "1",
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    proc = subprocess.run(["bash", "-o", "pipefail", "-c", command], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)
    assert "Traceback" not in proc.stdout + proc.stderr
    if "backprop: error:" in shown:
        assert proc.returncode in (2, 3), proc.stderr
        assert shown.splitlines()[0] in proc.stderr
    else:
        assert proc.returncode == 0, proc.stderr
        first = shown.strip().splitlines()[0] if shown.strip() else ""
        if first and "time" not in first and "µs" not in first:
            assert first.strip() in proc.stdout, f"shown output does not match: {first!r}"


def test_ci_runs_the_readme_setup_commands_exactly():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    setup = re.search(r"## Set up.*?```sh\n(.*?)```", readme, re.S).group(1).strip().splitlines()
    assert len(setup) == 2, "README gives exactly two set-up commands"
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    for command in setup:
        assert command in ci, f".ci/run does not run {command!r}"
