"""The ``grad`` job as plain data: parse, evaluate, differentiate, check.

Nothing here prints or imports rich/typer; ``render`` turns a ``GradReport`` into text,
JSON or Markdown and ``cli`` maps errors to exit codes.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field, replace
from typing import Any, Sequence

from . import sympy_side
from .check import (CheckResult, FORMULA_MAX_DEPTH, QUICK, check_formula_depth, compare,
                   symbolic_values, unfinished)
from .errors import InputError, LimitError
from .evaluate import evaluate, non_finite_warnings
from .graph import Graph
from .limits import Limits
from .modes import MODES, ModeResult, agreement, run_mode
from .printer import to_text

FORMULA_NODE_LIMIT = 400  # above this, formulas are skipped when numbers are asked for
SYMBOLIC_NODE_LIMIT = 5_000  # above this, a gradient without --at is refused
MODE_CHOICES = (*MODES, "all")


@dataclass
class GradReport:
    graph: Graph
    text: str | None  # the graph printed back as an expression
    wrt: list[str]
    point: dict[str, float] | None
    output_values: list[Any] | None  # floats at the point
    output_formulas: list[Any] | None  # SymPy expressions, or their text at a point
    results: dict[str, ModeResult]  # per mode; numbers at a point, else formulas
    timings: dict[str, float]  # seconds per mode
    formulas: list[list[Any]] | None  # the symbolic Jacobian (its text at a point), if affordable
    check: CheckResult | None
    refused: dict[str, str] = field(default_factory=dict)  # mode -> why it was not run
    warnings: list[str] = field(default_factory=list)
    strict_error: str | None = None  # --strict's verdict: why the command exits 4

    @property
    def jacobian(self) -> list[list[Any]]:
        """The gradient the report stands by: reverse mode's when it ran."""
        for mode in ("reverse", "forward", "paths"):
            if mode in self.results:
                return self.results[mode].jacobian
        raise LookupError("no mode ran")

    def agreement(self) -> float | None:
        """Largest relative difference between the numeric Jacobians of the modes run."""
        if self.point is None or len(self.results) < 2:
            return None
        return agreement([self.jacobian] + [r.jacobian for r in self.results.values()])


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
        for name, value, column in _point_items(text):
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


def _point_items(text: str):
    """(name, value, column) for each ``name=value`` of one --at text."""
    from .parse import point_number

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


def modes_for(mode: str) -> tuple[str, ...]:
    if mode not in MODE_CHOICES:
        raise InputError(f"unknown mode {mode!r}", hint="choose one of: " + ", ".join(MODE_CHOICES))
    return MODES if mode == "all" else (mode,)


def grad(graph: Graph, *, at: str | None = None, wrt: str | None = None, mode: str = "reverse",
         run_check: bool = True, rtol: float = 1e-9, atol: float = 1e-12,
         limits: Limits | None = None, strict: bool = False) -> GradReport:
    """Differentiate ``graph`` in the chosen modes, at a point or symbolically, and check."""
    limits = limits or Limits()
    modes = modes_for(mode)
    point = parse_point(at, graph)
    names = parse_wrt(wrt, graph)
    position = {name: k for k, name in enumerate(graph.input_names)}
    wrt_ids = [graph.inputs[position[n]] for n in names]
    warnings: list[str] = []
    small = len(graph) <= FORMULA_NODE_LIMIT and graph.depth <= FORMULA_MAX_DEPTH
    if point is None:
        check_formula_depth(graph)
    if point is None and len(graph) > SYMBOLIC_NODE_LIMIT:
        raise LimitError(f"the graph has {len(graph):,} nodes, too many for symbolic formulas "
                         f"(limit {SYMBOLIC_NODE_LIMIT:,})", hint="give a point: --at x=1,...")

    if point is not None:
        values = evaluate(graph, point)
        warnings += point_warnings(point)
        warnings += non_finite_warnings(graph, values)
        output_values, output_formulas = [values[o] for o in graph.outputs], None
    else:
        values = symbolic_values(graph)
        output_values, output_formulas = None, [values[o] for o in graph.outputs]

    results, timings, refused = {}, {}, {}
    for name in modes:
        try:
            start = time.perf_counter()
            results[name] = _run(name, graph, values, wrt_ids, point, limits)
            timings[name] = time.perf_counter() - start
        except LimitError as error:
            if len(modes) == 1:
                raise
            refused[name] = error.message
            warnings.append(f"{name} mode not run: {error.message}")

    formulas = next(iter(results.values())).jacobian if point is None else None
    text = to_text(graph, 2000) if len(graph.outputs) == 1 else None
    report = GradReport(graph, text, names, point, output_values,
                        output_formulas, results, timings, formulas, None, refused, warnings)
    # All of SymPy's work (formulas as text included: ordering a sum's terms can evaluate
    # e^(e^(6.4e11)) for ever) runs in a side process killed at --check-timeout.
    timeout = limits.check_timeout
    if point is None:
        job = (graph, names, report.output_formulas, report.formulas, run_check, rtol, atol,
               timeout)
        try:
            report.output_formulas, report.formulas, report.check = sympy_side.run(
                _sympy_symbolic, *job, timeout=timeout)
        except (sympy_side.TimedOut, sympy_side.Died) as error:
            report.output_formulas = [_unordered(f) for f in report.output_formulas]
            report.formulas = [[_unordered(f) for f in row] for row in report.formulas]
            report.check = unfinished(error, graph, names, None, timeout) if run_check \
                else None
    else:
        warnings += _undefined_gradients(report)
        warnings += _non_finite_gradient_warnings(report)
        # At a point, formulas come with the check (--no-check never loads SymPy), in the
        # side process that cli.grad started, if it did, else in a fresh one.
        if run_check:
            job = (graph, names, wrt_ids, report.jacobian, point, small, rtol, atol, timeout)
            try:
                report.output_formulas, report.formulas, report.check = sympy_side.run(
                    _sympy_at_point, *job, timeout=timeout, fresh=not small)
            except (sympy_side.TimedOut, sympy_side.Died) as error:
                report.check = unfinished(error, graph, names, point, timeout)
    if strict and point is not None and _has_non_finite(report):
        report.strict_error = ("a value is not finite at this point (--strict): "
                               + "; ".join(warnings[:3]))
    return report


def _sympy_at_point(graph, names, wrt_ids, jacobian, point, with_formulas, rtol, atol,
                    timeout):
    """SymPy's part of a numeric grad: the check, then the formulas (as text) if they come
    within a quarter of the time the check left (else none: the numbers stand without
    them, and the verdict is never lost to the formulas' time)."""
    from .check import CheckTimeout, time_limit

    start = time.monotonic()
    verdict = compare(graph, names, jacobian, point, rtol, atol)
    if not with_formulas:
        return None, None, verdict
    timeout = max(timeout - (time.monotonic() - start), 0.01) if timeout > 0 else 0
    try:
        with time_limit(timeout / 4):
            sym_values = symbolic_values(graph)
            jacobian = run_mode("reverse", graph, sym_values, wrt_ids, _symbolic()).jacobian
    except CheckTimeout:
        return None, None, verdict
    output_formulas, formulas = _texts([sym_values[o] for o in graph.outputs], jacobian,
                                       min(QUICK, timeout / 4))
    return output_formulas, formulas, verdict


def _sympy_symbolic(graph, names, output_formulas, formulas, run_check, rtol, atol, timeout):
    """SymPy's part of a symbolic grad: the formulas as text, and the check."""
    output_formulas, texts = _texts(output_formulas, formulas, min(QUICK, timeout / 4))
    return (output_formulas, texts,
            compare(graph, names, formulas, None, rtol, atol) if run_check else None)


def _texts(outputs: list, jacobian: list[list], seconds: float) -> tuple[list, list[list]]:
    """Formulas as SymPy prints them, or with their terms unordered after ``seconds``."""
    from .check import CheckTimeout, time_limit

    try:
        with time_limit(seconds):
            return [str(f) for f in outputs], [[str(f) for f in row] for row in jacobian]
    except CheckTimeout:
        return [_unordered(f) for f in outputs], [[_unordered(f) for f in row]
                                                  for row in jacobian]


def _unordered(expr) -> str:
    """A formula as text without ordering its terms (which can evaluate numbers for ever)."""
    from sympy.printing.str import sstr

    return sstr(expr, order="none")


def _symbolic():
    from .backends import symbolic

    return symbolic()


def _run(name, graph, values, wrt_ids, point, limits) -> ModeResult:
    backend = None if point is not None else _symbolic()
    options = {"max_paths": limits.max_paths, "max_ops": limits.max_ops} if name == "paths" else {}
    result = run_mode(name, graph, values, wrt_ids, backend, **options)
    if point is None:
        return result
    # Seeds and constant partials are exact ints (they serve SymPy too): report floats.
    return replace(result, jacobian=[[float(v) for v in row] for row in result.jacobian])


def _undefined_gradients(report: GradReport) -> list[str]:
    """Where an output is nan (log(-1)), the function is not defined at the point, so
    neither is its gradient: every mode's row becomes nan, and a warning says why."""
    warnings = []
    for o, value in enumerate(report.output_values):
        if value == value:
            continue
        label = report.graph.output_names[o] if len(report.graph.outputs) > 1 else "f"
        row = report.jacobian[o]
        if any(v == v for v in row):
            warnings.append(f"{label} is nan at this point (outside its domain), so its "
                            "gradient is not valid there: reported as nan (the chain rule "
                            f"alone gives {', '.join(repr(v) for v in row[:3])})")
        for name, result in report.results.items():
            jacobian = [list(r) for r in result.jacobian]
            jacobian[o] = [math.nan] * len(jacobian[o])
            report.results[name] = replace(result, jacobian=jacobian)
    return warnings


def _non_finite_gradient_warnings(report: GradReport) -> list[str]:
    warnings = []
    for o, row in enumerate(report.jacobian):
        for name, value in zip(report.wrt, row):
            if not math.isfinite(value):
                label = report.graph.output_names[o] if len(report.graph.outputs) > 1 else "f"
                warnings.append(f"d{label}/d{name} is {value!r}")
    return warnings[:5]


def _has_non_finite(report: GradReport) -> bool:
    values = [v for row in report.jacobian for v in row] + list(report.output_values or []) \
        + list(report.point.values())
    return any(not math.isfinite(v) for v in values)
