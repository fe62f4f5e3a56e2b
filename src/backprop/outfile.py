"""Writing a result to ``-o FILE`` (or standard output): checked before any work, written
only to that file.

``check_writable`` runs before the graph is even parsed, so a typo in a directory name
fails at once (exit 2) rather than after a long render. ``write`` opens exactly the path it
was given (no temporary files beside it) and turns every OSError into a one-line error (exit 74).
"""

from __future__ import annotations

import os
from pathlib import Path

from backprop.errors import InputError, OutputError


def check_writable(path: str) -> Path:
    """The -o path, or an InputError that says what is wrong with it."""
    if not path or not path.strip():
        raise InputError("-o needs a file name", hint="write -o graph.svg")
    target = Path(path)
    if target.is_dir():
        raise InputError(f"-o {path}: is a directory", hint="give a file name, e.g. "
                         f"-o {Path(path) / 'graph.svg'}")
    parent = target.parent if str(target.parent) else Path(".")
    if not parent.exists():
        raise InputError(f"-o {path}: the directory {parent} does not exist",
                         hint=f"create it first (mkdir -p {parent}) or pick another place")
    if not parent.is_dir():
        raise InputError(f"-o {path}: {parent} is not a directory")
    if target.exists() and not os.access(target, os.W_OK):
        raise InputError(f"-o {path}: the file is not writable (permission denied)")
    if not target.exists() and not os.access(parent, os.W_OK | os.X_OK):
        raise InputError(f"-o {path}: cannot create files in {parent} (permission denied)")
    return target


def write(path: str, data: bytes | str) -> None:
    """Write ``data`` to ``path`` (text as UTF-8); a failure is an OutputError (exit 74)."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    try:
        with open(path, "wb") as handle:
            handle.write(data)
    except OSError as error:
        raise OutputError(f"cannot write {path}: {error.strerror or error}") from None


def deliver(data: bytes | str, output: str | None) -> None:
    """``data`` to the ``-o`` file if one was given, else to standard output (bytes as
    they are, after any text already printed)."""
    import sys

    if output is not None:
        write(output, data)
    elif isinstance(data, bytes):
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    else:
        sys.stdout.write(data)
