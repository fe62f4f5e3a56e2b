"""How the command line fails: every error as one line on stderr and its exit code.

``cli.main`` runs the app and hands each outcome here, once: a BackpropError is rendered
(``backprop: error: ...``, the caret, the hint), a usage error gets a hint (a misspelt
command, an expression that starts with '-'), a failed write to standard output exits 141
quietly (the reader has gone) or 74. Part of the CLI layer, like cli.py.
"""

from __future__ import annotations

import difflib
import errno
import os
import sys

import typer

from backprop.errors import EXIT_BROKEN_PIPE, BackpropError, InputError, OutputError


# typer names BadParameter but not its bases, click's UsageError (a bad command line) and
# ClickException (any error click reports); typer carries its own click since 0.26, so
# they are taken from BadParameter's class hierarchy rather than from a private module.
UsageError = typer.BadParameter.__base__
ClickException = UsageError.__base__


def check_point_words(argv: list[str]) -> None:
    """Refuse ``--at x=1 y=2``: a point written with a space reads as a second expression."""
    for k, word in enumerate(argv[:-1]):
        if word != "--at" and not word.startswith("--at="):
            continue
        value, following = (argv[k + 1], argv[k + 2:k + 3]) if word == "--at" \
            else (word[len("--at="):], argv[k + 1:k + 2])
        name, sep, raw = following[0].partition("=") if following else ("", "", "")
        if sep and name.isidentifier():
            from backprop.frontends.parse import point_number

            if point_number(raw.strip()) is not None:
                raise InputError(f"{following[0]!r} after --at {value} reads as an expression",
                                 hint=f"a point is one word, comma-separated: "
                                      f"--at {value},{following[0]}")


_WRITE_ERRNOS = {errno.EPIPE, errno.ENOSPC, errno.EIO, errno.EFBIG, errno.EDQUOT}


def is_write_error(error: OSError) -> bool:
    """A failed write to standard output (``-o`` files fail as OutputError in outfile)."""
    return error.errno in _WRITE_ERRNOS and error.filename is None


def output_failed(error: OSError) -> int:
    """Standard output failed: 141 quietly if the reader has gone, else one line and 74.

    What is still buffered would fail again at interpreter exit, so stdout's descriptor
    is pointed at /dev/null first, as Python's documentation of SIGPIPE recommends.
    """
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # stdout has no descriptor (captured in a test)
        pass
    if error.errno == errno.EPIPE:
        return EXIT_BROKEN_PIPE
    return fail(OutputError(f"cannot write standard output: {error.strerror}"))


def usage_hint(error: UsageError, argv: list[str]) -> str:
    ctx = getattr(error, "ctx", None)
    command = ctx.command_path if ctx is not None else "backprop"
    commands = getattr(ctx.command, "commands", None) if ctx is not None else None
    if commands is not None:  # a group: a misspelt command?
        word = next((a for a in argv if not a.startswith("-")), None)
        if word is not None and word not in commands:
            close = difflib.get_close_matches(word, list(commands), n=1)
            if close:
                return f"did you mean '{close[0]}'?"
    bad = getattr(error, "option_name", "") or ""
    takes_expr = ctx is not None and any("--expr" in p.opts for p in ctx.command.params)
    if "No such option" in error.format_message() and takes_expr and not bad.startswith("--"):
        return f"see '{command} --help'; an expression that starts with '-' goes after -e: " \
               f"{command} -e \"{bad}\""
    return f"see '{command} --help'"


def fail(error: BackpropError) -> int:
    from backprop.render.console import make_console, render_error

    render_error(make_console(stderr=True), error)
    return error.exit_code
