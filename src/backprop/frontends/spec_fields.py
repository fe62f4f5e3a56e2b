"""Reading one field of a spec for people: typed values from YAML text, and every problem
as ``spec.yaml:LINE: path.to.field: what is wrong`` (with a did-you-mean where a name is
close), collected rather than raised so that one run lists them all.

Scalars stay text until a field asks for them: ``1e-3`` is a number (YAML 1.1 would make
it a string), ``true`` is a boolean only where a field wants one, ``.nan`` and ``.inf`` are
refused (a non-finite weight makes every gradient meaningless), quoted text is never a
number.
"""

from __future__ import annotations

import difflib
import math
import re

from backprop.errors import InputError
from backprop.frontends.spec_yaml import YNode

MAX_PROBLEMS = 50  # validation stops collecting after this many

NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
INT = re.compile(r"[-+]?[0-9]+\Z")
FLOAT = re.compile(r"[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?\Z")
NON_FINITE = re.compile(r"[-+]?\.?(?:inf|infinity|nan)\Z", re.IGNORECASE)
NULL = ("", "~", "null", "Null", "NULL")
TRUE = ("true", "True", "TRUE")
FALSE = ("false", "False", "FALSE")


class SpecError(InputError):
    """Every problem validation found: the first is the message, the rest print below it."""

    def __init__(self, problems: list[str], *, hint: str | None = None) -> None:
        total = len(problems)
        if hint is None and total > 1:
            more = f"{total}+" if total >= MAX_PROBLEMS else str(total)
            hint = f"{more} problems in this spec; fix them top to bottom"
        super().__init__(problems[0], hint=hint)
        self.problems = problems
        self.more = tuple(problems[1:])  # render.console prints each on its own line


def describe(node: YNode | None) -> str:
    """What was written where a field wanted something else, in words for the message."""
    if node is None:
        return "nothing"
    if node.kind == "map":
        return "a mapping"
    if node.kind == "seq":
        return "a list"
    if node.plain and node.value in NULL:
        return "nothing (null)"
    text = node.value if len(node.value) <= 40 else node.value[:37] + "..."
    return f"the text {text!r}" if node.plain else f"the quoted text {text!r}"


def matrix_shape(rows: int, columns: int) -> str:
    """A shape as the messages write it (``2×3``), one spelling everywhere."""
    return f"{rows}×{columns}"


class Validator:
    """Walks the YNode tree once, collecting every problem with its line and field path."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.problems: list[tuple[int, str]] = []

    def error(self, where: YNode | int, path: str, message: str) -> None:
        line = where if isinstance(where, int) else where.line
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append((line, f"{self.source}:{line}: {path}: {message}"))

    @property
    def full(self) -> bool:
        return len(self.problems) >= MAX_PROBLEMS

    # -- scalars -------------------------------------------------------------------------

    def _non_finite(self, node: YNode, path: str) -> None:
        self.error(node, path, f"{node.value} is not a finite number; a spec's numbers must "
                               "be finite (nan and inf are refused)")

    def number(self, node: YNode | None, path: str, line: int = 0) -> float | None:
        if node is None:
            self.error(line, path, "a number is missing")
            return None
        if node.kind == "scalar" and node.plain:
            text = node.value
            if FLOAT.match(text):
                value = float(text)
                if math.isinf(value):
                    self.error(node, path, f"{text} is out of range for a double")
                    return None
                return value
            if NON_FINITE.match(text):
                self._non_finite(node, path)
                return None
        if node.kind == "scalar" and not node.plain and FLOAT.match(node.value.strip()):
            self.error(node, path, f"expected a number, got the quoted text {node.value!r}: "
                                   f"quoted text is never a number (write {node.value.strip()} "
                                   "without quotes)")
            return None
        self.error(node, path, f"expected a number, got {describe(node)}")
        return None

    def integer(self, node: YNode | None, path: str, line: int = 0, minimum: int = 0,
                what: str = "a whole number") -> int | None:
        value = self.number(node, path, line)
        if value is None:
            return None
        if INT.match(node.value):
            value = int(node.value)
        elif value.is_integer() and abs(value) < 2**53:
            value = int(value)
        else:
            self.error(node, path, f"expected {what}, got {node.value}")
            return None
        if value < minimum:
            self.error(node, path, f"expected {what} of at least {minimum}, got {value}")
            return None
        return value

    def boolean(self, node: YNode, path: str) -> bool | None:
        if node.kind == "scalar" and node.plain and node.value in TRUE + FALSE:
            return node.value in TRUE
        self.error(node, path, f"expected true or false, got {describe(node)}")
        return None

    def text(self, node: YNode, path: str) -> str | None:
        if node.kind == "scalar" and not (node.plain and node.value in NULL):
            return node.value
        self.error(node, path, f"expected text, got {describe(node)}")
        return None

    def choice(self, node: YNode | None, path: str, choices: tuple[str, ...], what: str,
               line: int = 0) -> str | None:
        if node is None:
            self.error(line, path, f"missing; choose one of: {', '.join(choices)}")
            return None
        if node.kind == "scalar" and node.value in choices:
            return node.value
        if node.kind == "scalar":
            close = difflib.get_close_matches(node.value, choices, n=1)
            guess = f" (did you mean {close[0]}?)" if close else ""
            self.error(node, path, f"unknown {what} {node.value!r}{guess}; choose one of: "
                                   f"{', '.join(choices)}")
        else:
            self.error(node, path, f"expected one of {', '.join(choices)}, got "
                                   f"{describe(node)}")
        return None

    # -- containers ----------------------------------------------------------------------

    def mapping(self, node: YNode, path: str, allowed: tuple[str, ...],
                required: tuple[str, ...] = ()) -> dict[str, YNode] | None:
        if node.kind != "map":
            self.error(node, path, f"expected a mapping ({', '.join(allowed)}), got "
                                   f"{describe(node)}")
            return None
        for key in node.value:
            if key not in allowed:
                close = difflib.get_close_matches(key, allowed, n=1)
                guess = f" (did you mean {close[0]}?)" if close else ""
                self.error(node.key_lines[key], _join(path, key),
                           f"unknown field{guess}; valid fields: {', '.join(allowed)}")
        for key in required:
            if key not in node.value:
                self.error(node, _join(path, key), "missing")
        return node.value

    def sequence(self, node: YNode, path: str, what: str = "a list") -> list[YNode] | None:
        if node.kind != "seq":
            self.error(node, path, f"expected {what}, got {describe(node)}")
            return None
        if not node.value:
            self.error(node, path, f"expected {what}, got an empty list")
            return None
        return node.value

    def matrix(self, node: YNode, path: str) -> list[list[float]] | None:
        """A number, a list of numbers (one row) or a list of equal rows."""
        if node.kind == "scalar":
            value = self.number(node, path)
            return None if value is None else [[value]]
        items = self.sequence(node, path, "a list of numbers or a list of rows")
        if items is None:
            return None
        if items[0].kind != "seq":
            row = [self.number(item, f"{path}[{i}]") for i, item in enumerate(items)]
            return None if None in row else [row]
        rows: list[list[float]] = []
        ok = True
        for r, item in enumerate(items):
            cells = self.sequence(item, f"{path}[{r}]", "a row (a list of numbers)")
            if cells is None:
                ok = False
                continue
            if len(cells) != len(items[0].value):
                self.error(item, f"{path}[{r}]", f"this row has {len(cells)} numbers, row 0 "
                                                 f"has {len(items[0].value)}")
                ok = False
                continue
            row = [self.number(cell, f"{path}[{r}][{c}]") for c, cell in enumerate(cells)]
            if None in row:
                ok = False
                if self.full:
                    break
            rows.append(row)
        return rows if ok else None


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key
