"""The ``backprop`` command's entry point: SymPy's import starts first, then the CLI loads.

``grad`` at a point and ``net`` spend much of their check importing SymPy, which the side
process (sympy_side.py) can do on the other core while typer, rich and our own modules
load, if it starts before them. So this reads the words of the command line before any
parsing. A wrong guess costs only the overlap: ``sympy_side.run`` forks a fresh child
when none was started, and an unused child is killed at exit.
"""

from __future__ import annotations

import sys


def wants_sympy(argv: list[str]) -> bool:
    """``grad ... --at POINT`` or ``net SPEC``, without ``--no-check`` or ``--help``."""
    command = next((word for word in argv if not word.startswith("-")), None)
    at = any(a == "--at" or a.startswith("--at=") for a in argv)
    return ((command == "grad" and at) or command == "net") \
        and not {"--no-check", "--help", "-h"} & set(argv)


def run() -> None:
    if wants_sympy(sys.argv[1:]):
        from backprop.check import sympy_side

        sympy_side.start()
    from backprop.cli import run as run_cli

    run_cli()
