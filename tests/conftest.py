"""Shared helpers: run the ``backprop`` command the way a user does, mostly in this process.

Starting the command costs about half a second (the interpreter, typer, rich, SymPy in the
side process); a suite of hundreds of command runs spends most of its time there. So
``run_cli`` calls the console script's own entry point, ``backprop.entry.run``, here, with
the same argv, standard streams (bytes, in the encodings a child would get), environment
and working directory a child would have, and gives the same result. A real process runs
where the process is the point: ``process=True`` (exit by signal, pipes, start-up), and an
environment variable read only when a module is imported (``IMPORT_TIME_ENV``).
tests/test_in_process.py runs representative commands both ways and compares them.
"""

from __future__ import annotations

import contextlib
import faulthandler
import io
import os
import shutil
import subprocess
import sys
import traceback
from pathlib import Path

import pytest

# Imported first, before any test module: cli.py blocks typer's rich helpers only if no one
# has loaded them yet, as in the command itself.
import backprop.cli  # noqa: F401
from backprop import entry
from backprop.check import sympy_side

import schemas  # noqa: E402  (tests/schemas.py)

# The command's SymPy process (check/sympy_side.py) is a fork of the process that runs the
# command: with SymPy loaded here once, each one starts with it loaded, as the command's does
# once its import is done, instead of importing it again for every command run.
import sympy  # noqa: E402,F401

ROOT = Path(__file__).resolve().parent.parent
BASE_ENV = {"NO_COLOR": "1", "COLUMNS": "120"}
# Read once, when a module is imported: a run that sets one needs a fresh interpreter.
IMPORT_TIME_ENV = {"BACKPROP_PURE_PYTHON"}  # engine/accel.py


def backprop_executable() -> str:
    """The console script next to this interpreter (the test venv), else the one on PATH."""
    here = Path(sys.executable).parent / "backprop"
    if here.exists():
        return str(here)
    found = shutil.which("backprop")
    if found is None:
        pytest.skip("the backprop command is not installed")
    return found


HANG_GUARD = 300  # seconds: a command in this process that takes longer has hung


def run_cli(*args: str, stdin: str | bytes | None = None, timeout: float = 60,
            env: dict | None = None, process: bool = False) -> subprocess.CompletedProcess:
    """Run ``backprop ARGS`` from the repo root; text output, NO_COLOR set, 120 columns.

    In this process unless ``process`` is set or ``env`` sets an import-time variable.
    ``timeout`` is a hang guard: a process is killed; in this process, the tests stop with
    every thread's traceback (there is no killing a call), so the guard there is never
    under HANG_GUARD seconds: a slow, loaded machine must not end the whole run."""
    data = stdin.encode() if isinstance(stdin, str) else stdin
    if process or IMPORT_TIME_ENV & set(env or {}):
        proc = run_process(args, data, timeout, env)
    else:
        faulthandler.dump_traceback_later(max(timeout, HANG_GUARD), exit=True,
                                          file=sys.__stderr__)
        try:
            proc = run_here(args, data, env)
        finally:
            faulthandler.cancel_dump_traceback_later()
    schemas.check_output(args, proc)  # every --json document of the suite fits its schema
    return proc


def run_process(args, data: bytes | None, timeout: float,
                env: dict | None) -> subprocess.CompletedProcess:
    """The installed command in a child process."""
    full_env = {**os.environ, **BASE_ENV, **(env or {})}
    proc = subprocess.run([backprop_executable(), *args], input=data, capture_output=True,
                          timeout=timeout, cwd=ROOT, env=full_env)
    proc.stdout = proc.stdout.decode("utf-8", "replace")
    proc.stderr = proc.stderr.decode("utf-8", "replace")
    return proc


def run_here(args, data: bytes | None, env: dict | None) -> subprocess.CompletedProcess:
    """The console script's entry point in this process, as a child would run it."""
    out, err = io.BytesIO(), io.BytesIO()
    with _as_a_child(args, data, out, err, env):
        code = _exit_code(entry.run)
        # read while the text streams live: a collected TextIOWrapper closes its buffer
        stdout, stderr = (raw.getvalue().decode("utf-8", "replace") for raw in (out, err))
    return subprocess.CompletedProcess([backprop_executable(), *args], code, stdout, stderr)


def _exit_code(main) -> int:
    """What the interpreter makes of ``main()``: SystemExit's code, or a traceback and 1."""
    try:
        main()
    except SystemExit as done:
        if done.code is None or isinstance(done.code, int):
            return done.code or 0
        print(done.code, file=sys.stderr)
        return 1
    except BaseException as error:  # an uncaught error (--debug): the interpreter's report
        traceback.print_exception(error, file=sys.stderr)
        return 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
    return 0


@contextlib.contextmanager
def _as_a_child(args, data: bytes | None, out: io.BytesIO, err: io.BytesIO,
                env: dict | None):
    """argv, standard streams, environment and working directory as a child's, then back.

    The streams get the encodings and error handlers this interpreter's own have, which
    are what a child with the same environment gets."""
    saved_streams = sys.argv, sys.stdin, sys.stdout, sys.stderr
    saved_env, saved_cwd = dict(os.environ), os.getcwd()
    sys.argv = [backprop_executable(), *args]
    sys.stdin = _text_stream(io.BytesIO(data or b""), sys.__stdin__)
    sys.stdout = _text_stream(out, sys.__stdout__)
    sys.stderr = _text_stream(err, sys.__stderr__)
    os.environ.update({**BASE_ENV, **(env or {})})
    os.chdir(ROOT)
    try:
        yield
    finally:
        sympy_side._stop()  # a side process started for nothing goes at exit, as in the command
        sys.argv, sys.stdin, sys.stdout, sys.stderr = saved_streams
        os.environ.clear()
        os.environ.update(saved_env)
        os.chdir(saved_cwd)


def _text_stream(raw: io.BytesIO, like) -> io.TextIOWrapper:
    """A text stream over ``raw`` that encodes as ``like`` (a standard stream) does."""
    return io.TextIOWrapper(raw, encoding=getattr(like, "encoding", None) or "utf-8",
                            errors=getattr(like, "errors", None) or "strict",
                            write_through=True)


@pytest.fixture
def cli():
    return run_cli
