"""The point and the variables a command works at: ``--at x=1,y=2`` and ``--wrt x,y``.

Every way they can be wrong is an InputError with a caret under the bad spot.
"""

from __future__ import annotations

import math
from typing import Sequence

from backprop.engine.graph import Graph
from backprop.errors import InputError


def parse_point(text: str | Sequence[str] | None, graph: Graph) -> dict[str, float] | None:
    """``x=1,y=2`` -> {"x": 1.0, "y": 2.0}; several texts (--at given twice) merge.

    Every way it can be wrong is an InputError with a caret under the bad spot.
    """
    defaults = getattr(graph, "defaults", None)  # a spec's parameter values
    texts = [text] if isinstance(text, str) else list(text or [])
    if not texts:
        return dict(defaults) if defaults is not None else None
    point: dict[str, float] = {}
    fill: float | None = None  # "*=v" gives every variable not named the value v
    known = set(graph.input_names)
    for text in texts:
        for name, value, column in point_items(text):
            if name in point or (name == "*" and fill is not None):
                raise _point_error(text, column, f"--at gives {name} twice",
                                   "give each variable once")
            if name == "*":
                fill = value
            elif name not in known:
                raise _point_error(text, column, f"--at {name}: the expression has no "
                                   f"variable {name!r}", _variables_hint(graph))
            else:
                point[name] = value
    if fill is not None:
        point = {n: point.get(n, fill) for n in graph.input_names}
    if defaults is not None:
        point = {n: point[n] if n in point else defaults[n] for n in graph.input_names}
    missing = [n for n in graph.input_names if n not in point]
    if missing:
        raise InputError(f"--at gives no value for {', '.join(missing)}",
                         hint="add " + ",".join(f"{n}=..." for n in missing))
    return point


def point_warnings(point: dict[str, float] | None) -> list[str]:
    """A warning for each of the first three --at values that is inf or nan."""
    return [f"--at {n}={v!r} is not finite" for n, v in (point or {}).items()
            if not math.isfinite(v)][:3]


def point_items(text: str):
    """(name, value, column) for each ``name=value`` of one --at text."""
    from backprop.frontends.parse import point_number

    if not text.strip():
        raise _point_error(text, 0, "--at is empty", "write --at x=1,y=2")
    start = 0
    for item in text.split(","):
        column = start + len(item) - len(item.lstrip())
        start += len(item) + 1
        name, sep, raw = item.strip().partition("=")
        if not item.strip():
            raise _point_error(text, column, "--at has an empty item (a comma too many)",
                               "write --at x=1,y=2")
        if not sep:
            raise _point_error(text, column, f"--at {item.strip()!r}: expected name=value",
                               "write --at x=1,y=2")
        if not name.strip():
            raise _point_error(text, column, f"--at {item.strip()!r}: the variable name is "
                               "missing", "write --at x=1,y=2")
        value_column = column + len(name) + 1 + len(raw) - len(raw.lstrip())
        name, raw = name.strip(), raw.strip()
        if not raw:
            raise _point_error(text, value_column, f"--at {item.strip()!r}: the value of "
                               f"{name} is missing", f"write --at {name}=1")
        value = point_number(raw)
        if value is None:
            spaced = any(c.isspace() for c in raw)
            raise _point_error(text, value_column, f"--at {name}: {raw!r} is not a number",
                               "separate variables with commas: --at x=1,y=2" if spaced else
                               "numbers look like 1, -2.5, 1e-3, pi, inf or nan")
        if math.isinf(value) and "inf" not in raw.lower():
            raise _point_error(text, value_column, f"--at {name}: {raw} is out of range for a "
                               "double", "write inf if infinity is meant")
        yield name, value, column


def _point_error(text: str, column: int, message: str, hint: str) -> InputError:
    """An error in --at TEXT with a caret under ``column``."""
    return InputError(message, hint=hint, source="--at " + text, column=column + 5)


def _variables_hint(graph: Graph) -> str:
    names = graph.input_names
    return "variables: " + ", ".join(names[:20]) + (" ..." if len(names) > 20 else "") \
        if names else "the expression has no variables"


def parse_wrt(text: str | None, graph: Graph) -> list[str]:
    if text is None:
        return list(graph.input_names)
    names = [n.strip() for n in text.split(",")]
    if not any(names):
        raise InputError("--wrt names no variable", hint=_variables_hint(graph))
    column = len("--wrt ")
    for item in text.split(","):
        if not item.strip():
            raise InputError("--wrt has an empty item (a comma too many)",
                             hint="write --wrt x,y", source="--wrt " + text, column=column)
        column += len(item) + 1
    known = set(graph.input_names)
    for name in names:
        if name not in known:
            raise InputError(f"--wrt {name}: the expression has no variable {name!r}",
                             hint=_variables_hint(graph))
    if len(set(names)) != len(names):
        raise InputError("--wrt names a variable twice")
    return names
