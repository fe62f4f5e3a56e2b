"""Graphviz's ``dot``: drawing DOT source as svg or png bytes, within a time limit.

An adapter for an external program, like ``outfile`` for files: the ``graph`` job asks
``find_dot`` before any work (so a missing Graphviz fails at once, with how to install
it), and ``render/picture_text.py`` hands the DOT text to ``render_with_dot``.
"""

from __future__ import annotations

import shutil
import subprocess

from backprop.errors import BackpropError, InputError, LimitError

DOT_TIMEOUT = 60.0  # seconds dot may take
INSTALL_HINT = ("install Graphviz (Debian/Ubuntu: apt-get install graphviz; macOS: brew install "
                "graphviz), or use --format dot, which needs no Graphviz, and draw it elsewhere")


def find_dot() -> str:
    found = shutil.which("dot")
    if found is None:
        raise InputError("svg and png are drawn by Graphviz's dot program, which is not "
                         "installed", hint=INSTALL_HINT)
    return found


def render_with_dot(source: str, fmt: str, timeout: float = DOT_TIMEOUT) -> bytes:
    """Run ``dot -T<fmt>`` on DOT source and return the picture's bytes."""
    if fmt not in ("svg", "png"):
        raise InputError(f"dot renders svg or png here, not {fmt!r}")
    program = find_dot()
    try:
        proc = subprocess.run([program, f"-T{fmt}"], input=source.encode("utf-8"),
                              capture_output=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise LimitError(f"Graphviz's dot did not finish within {timeout:g} s",
                         hint="use --format dot and render it yourself") from None
    except OSError as error:
        raise InputError(f"could not run Graphviz's dot ({error.strerror or error})",
                         hint=INSTALL_HINT) from None
    if proc.returncode != 0 or not proc.stdout:
        first = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise DotFailed(f"Graphviz's dot failed (exit {proc.returncode})"
                        + (f": {first[0]}" if first else ""),
                        hint="--format dot prints the source it was given")
    return proc.stdout


class DotFailed(BackpropError):
    """dot rejected our source or crashed: not the user's input, so a bug-like exit."""

    exit_code = 70
