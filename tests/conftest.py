"""Shared helpers: run the installed ``backprop`` command the way a user does."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def backprop_executable() -> str:
    """The console script next to this interpreter (the test venv), else the one on PATH."""
    here = Path(sys.executable).parent / "backprop"
    if here.exists():
        return str(here)
    found = shutil.which("backprop")
    if found is None:
        pytest.skip("the backprop command is not installed")
    return found


def run_cli(*args: str, stdin: str | bytes | None = None, timeout: float = 60,
            env: dict | None = None) -> subprocess.CompletedProcess:
    """Run ``backprop ARGS`` from the repo root; text output, NO_COLOR set."""
    full_env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "120", **(env or {})}
    data = stdin.encode() if isinstance(stdin, str) else stdin
    proc = subprocess.run([backprop_executable(), *args], input=data, capture_output=True,
                          timeout=timeout, cwd=ROOT, env=full_env)
    proc.stdout = proc.stdout.decode("utf-8", "replace")
    proc.stderr = proc.stderr.decode("utf-8", "replace")
    return proc


@pytest.fixture
def cli():
    return run_cli
