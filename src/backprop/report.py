"""The ``grad`` job as plain data: parse, evaluate, differentiate, check.

Nothing here prints or imports rich/typer; ``render`` turns a ``GradReport`` into text,
JSON or Markdown and ``cli`` maps errors to exit codes.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field, replace
from typing import Any

from . import sympy_side
from .check import (FORMULA_MAX_DEPTH, CheckResult, check, check_formula_depth,
                    symbolic_values)
from .errors import InputError, LimitError, NonFiniteError
from .evaluate import evaluate, non_finite_warnings
from .graph import Graph
from .modes import MODES, ModeResult, agreement, run_mode
from .modes.paths import DEFAULT_MAX_OPS, DEFAULT_MAX_PATHS
from .printer import to_text

FORMULA_NODE_LIMIT = 400  # above this, formulas are skipped when numbers are asked for
SYMBOLIC_NODE_LIMIT = 5_000  # above this, a gradient without --at is refused
MODE_CHOICES = (*MODES, "all")


@dataclass
class Limits:
    max_nodes: int = 5_000_000
    max_depth: int = 5_000_000
    max_paths: int = DEFAULT_MAX_PATHS
    max_ops: int = DEFAULT_MAX_OPS
    check_timeout: float = 10.0


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


def parse_point(text: str | None, graph: Graph) -> dict[str, float] | None:
    """``x=1,y=2`` -> {"x": 1.0, "y": 2.0}, with a clear error for every way it can be wrong."""
    defaults = getattr(graph, "defaults", None)  # a spec's parameter values
    if text is None:
        return dict(defaults) if defaults is not None else None
    point: dict[str, float] = {}
    fill: float | None = None  # "*=v" gives every variable not named the value v
    known = set(graph.input_names)
    for item in text.split(","):
        item = item.strip()
        if not item:
            continue
        name, sep, raw = item.partition("=")
        name, raw = name.strip(), raw.strip()
        if not sep:
            raise InputError(f"--at {item!r}: expected name=value", hint="write --at x=1,y=2")
        if not name:
            raise InputError(f"--at {item!r}: the variable name is missing",
                             hint="write --at x=1,y=2")
        if not raw:
            raise InputError(f"--at {item!r}: the value of {name} is missing",
                             hint=f"write --at {name}=1")
        try:
            value = float(raw)
        except ValueError:
            raise InputError(f"--at {item!r}: {raw!r} is not a number",
                             hint="numbers look like 1, -2.5, 1e-3, inf or nan") from None
        if math.isinf(value) and "inf" not in raw.lower():
            raise InputError(f"--at {item!r}: {raw} is out of range for a double",
                             hint="write inf if infinity is meant")
        if name in point or (name == "*" and fill is not None):
            raise InputError(f"--at gives {name} twice")
        if name == "*":
            fill = value
            continue
        if name not in known:
            raise InputError(f"--at {name}: the expression has no variable {name!r}",
                             hint=_variables_hint(graph))
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


def _variables_hint(graph: Graph) -> str:
    names = graph.input_names
    return "variables: " + ", ".join(names[:20]) + (" ..." if len(names) > 20 else "") \
        if names else "the expression has no variables"


def parse_wrt(text: str | None, graph: Graph) -> list[str]:
    if text is None:
        return list(graph.input_names)
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names:
        raise InputError("--wrt names no variable", hint=_variables_hint(graph))
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
    if point is None:
        if run_check:
            report.check = check(graph, names, report.jacobian, None, rtol=rtol, atol=atol,
                                 timeout=limits.check_timeout)
    else:
        warnings += _non_finite_gradient_warnings(report)
        # At a point, formulas come with the check (--no-check never loads SymPy), and all
        # of SymPy's work goes to the side process that cli.grad started, if it did.
        if run_check:
            job = (graph, names, wrt_ids, report.jacobian, point, small, rtol, atol,
                   limits.check_timeout)
            report.output_formulas, report.formulas, report.check = (
                sympy_side.run(_sympy_at_point, *job) if small else _sympy_at_point(*job))
    if strict and point is not None and (_has_non_finite(report)):
        raise NonFiniteError("a result is not finite at this point (--strict): "
                             + "; ".join(warnings[:3]))
    return report


def _sympy_at_point(graph, names, wrt_ids, jacobian, point, with_formulas, rtol, atol,
                    timeout):
    """SymPy's part of a numeric grad: the formulas (as text) and the check."""
    output_formulas = formulas = None
    if with_formulas:
        sym_values = symbolic_values(graph)
        output_formulas = [str(sym_values[o]) for o in graph.outputs]
        formulas = [[str(f) for f in row] for row in
                    run_mode("reverse", graph, sym_values, wrt_ids, _symbolic()).jacobian]
    return output_formulas, formulas, check(graph, names, jacobian, point, rtol=rtol,
                                            atol=atol, timeout=timeout)


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


def _non_finite_gradient_warnings(report: GradReport) -> list[str]:
    warnings = []
    for o, row in enumerate(report.jacobian):
        for name, value in zip(report.wrt, row):
            if not math.isfinite(value):
                label = report.graph.output_names[o] if len(report.graph.outputs) > 1 else "f"
                warnings.append(f"d{label}/d{name} is {value!r}")
    return warnings[:5]


def _has_non_finite(report: GradReport) -> bool:
    values = [v for row in report.jacobian for v in row] + list(report.output_values or [])
    return any(not math.isfinite(v) for v in values)
