"""Errors for people, each with the exit code DESIGN.md assigns to its kind.

The CLI maps every ``BackpropError`` to one line on stderr and its exit code, once.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_CHECK_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_LIMIT = 3
EXIT_NON_FINITE = 4
EXIT_IO_ERROR = 74  # EX_IOERR (sysexits.h): a result could not be written
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE: the reader closed standard output


class BackpropError(Exception):
    """Base error: a message, an optional hint, and where in the input it happened."""

    exit_code = EXIT_BAD_INPUT

    def __init__(self, message: str, *, hint: str | None = None, source: str | None = None,
                 column: int | None = None, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.source = source  # the line of input the column points into
        self.column = column  # 0-based column in ``source``
        self.line = line  # 1-based line, for multi-line input

    def __str__(self) -> str:
        return self.message

    def detail_lines(self) -> list[str]:
        """What follows the one-line message: further problems, the input line with a caret
        under the column, the hint. The CLI prints them under ``backprop: error:``; the
        Python API attaches them to the exception as notes."""
        lines = list(getattr(self, "more", ()))  # further problems (a spec's validation)
        if self.source is not None and self.column is not None:
            source, column = self.source, self.column
            if column > 60:  # keep the caret on screen in a long line
                source, column = "..." + source[column - 40:], 43
            lines += ["  " + source[:column + 40], "  " + " " * column + "^"]
        if self.hint:
            lines.append(f"  hint: {self.hint}")
        return lines


class InputError(BackpropError):
    """Bad input: usage, parse, spec or point (exit 2)."""


class LimitError(BackpropError):
    """A limit refused the work: size, depth, path count or time (exit 3)."""

    exit_code = EXIT_LIMIT


class NonFiniteError(BackpropError):
    """A non-finite result under --strict (exit 4)."""

    exit_code = EXIT_NON_FINITE


class OutputError(BackpropError):
    """A result could not be written: stdout or -o FILE (exit 74)."""

    exit_code = EXIT_IO_ERROR
