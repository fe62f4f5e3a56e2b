"""The ``grad`` job as plain data: parse, evaluate, differentiate, check.

Nothing here prints or imports rich/typer; ``render`` turns a ``GradReport`` into text,
JSON or Markdown and ``cli`` maps errors to exit codes.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from backprop.check import sympy_side
from backprop.check.verdict import CheckResult
from backprop.errors import LimitError
from backprop.engine.evaluate import evaluate, non_finite_warnings
from backprop.engine.graph import Graph
from backprop.limits import Limits
from backprop.engine.modes import ModeResult, agreement, run_mode
from backprop.frontends.point import parse_point, parse_wrt, point_warnings
from backprop.jobs.common import input_ids, modes_for, run_modes
from backprop.engine.printer import to_text

if TYPE_CHECKING:
    from backprop.jobs.picture import Picture

GRAD_REPEATS = 5
GRAD_BUDGET = 0.05  # seconds per mode spent on repeats
GRAD_ALONE = 0.25  # seconds: a run this long on a graph of GRAD_LARGE edges or more is its
GRAD_LARGE = 100_000  # own figure (its one-time costs are a small part of it): not re-run
FORMULA_NODE_LIMIT = 400  # above this, formulas are skipped when numbers are asked for
SYMBOLIC_NODE_LIMIT = 5_000  # above this, a gradient without --at is refused


@dataclass(frozen=True)
class GradReport:
    """Everything ``grad`` found, built once when the job is done: renderers only read it."""

    graph: Graph
    text: str | None  # the graph printed back as an expression
    wrt: list[str]
    point: dict[str, float] | None
    output_values: list[Any] | None  # floats at the point
    output_formulas: list[Any] | None  # SymPy expressions, or their text at a point
    results: dict[str, ModeResult]  # per mode; numbers at a point, else formulas
    timings: dict[str, float]  # seconds per mode: the median (jobs/timing.py)
    formulas: list[list[Any]] | None  # the symbolic Jacobian (its text at a point), if affordable
    check: CheckResult | None
    refused: dict[str, str] = field(default_factory=dict)  # mode -> why it was not run
    warnings: list[str] = field(default_factory=list)
    strict_error: str | None = None  # --strict's verdict: why the command exits 4
    mode_difference: float | None = None  # the modes' largest relative difference, if 2+ ran
    picture: Picture | None = None  # the annotated graph, when asked for and small enough
    explanation: Any = None  # jobs.explain.Explanation, every step (--explain), when asked
    kinks: list = field(default_factory=list)  # engine.kinks.Kink: nodes on a kink at the point
    timing_details: dict[str, Any] = field(default_factory=dict)  # mode -> jobs.timing.Timing

    @property
    def jacobian(self) -> list[list[Any]]:
        """The gradient the report stands by: reverse mode's when it ran."""
        return stood_by(self.results)

    def agreement(self) -> float | None:
        """Largest relative difference between the numeric Jacobians of the modes run."""
        return self.mode_difference


def stood_by(results: dict[str, ModeResult]) -> list[list[Any]]:
    """The Jacobian a report stands by: reverse mode's when it ran, else forward's, paths'."""
    for mode in ("reverse", "forward", "paths"):
        if mode in results:
            return results[mode].jacobian
    raise LookupError("no mode ran")


def grad(graph: Graph, *, at: str | None = None, wrt: str | None = None, mode: str = "reverse",
         run_check: bool = True, rtol: float = 1e-9, atol: float = 1e-12,
         limits: Limits | None = None, strict: bool = False, picture: bool = False,
         explain: bool = False, repeats: int = GRAD_REPEATS) -> GradReport:
    """Differentiate ``graph`` in the chosen modes, at a point or symbolically, and check;
    with ``picture``, annotate small graphs for a picture too (``--format markdown``);
    with ``explain``, write every step down (``--explain``)."""
    limits = limits or Limits()
    if explain:
        from backprop.jobs.explain import check_size

        check_size(graph)  # refuse a huge explanation before any work
    modes = modes_for(mode)
    point = parse_point(at, graph)
    names = parse_wrt(wrt, graph)
    wrt_ids = input_ids(graph, names)
    warnings: list[str] = []
    kinks: list = []
    if point is None:
        from backprop.check.symbolic import check_formula_depth

        check_formula_depth(graph)
    if point is None and len(graph) > SYMBOLIC_NODE_LIMIT:
        raise LimitError(f"the graph has {len(graph):,} nodes, too many for symbolic formulas "
                         f"(limit {SYMBOLIC_NODE_LIMIT:,})", hint="give a point: --at x=1,...")

    if point is not None:
        values = evaluate(graph, point)
        warnings += point_warnings(point)
        warnings += non_finite_warnings(graph, values)
        from backprop.engine.kinks import find_kinks, kink_warnings

        kinks = find_kinks(graph, values)
        warnings += kink_warnings(kinks)
    else:
        from backprop.check.symbolic import symbolic_values

        values = symbolic_values(graph)
    outputs = [values[o] for o in graph.outputs]

    results, timings, refused = run_modes(
        modes, lambda name: _run(name, graph, values, wrt_ids, point, limits))
    warnings += [f"{name} mode not run: {message}" for name, message in refused.items()]
    details = time_modes(results, timings, graph, values, wrt_ids, point, limits, repeats)
    timings = {name: timing.seconds for name, timing in details.items()}
    # All of SymPy's work (formulas as text included: ordering a sum's terms can evaluate
    # e^(e^(6.4e11)) for ever) runs in a side process killed at --check-timeout.
    sympy_job = SympyJob(graph, names, run_check, rtol, atol, limits.check_timeout)
    if point is None:
        output_values = None
        # the first mode's formulas, as they came (modes agree, but not in the same form)
        first = next(iter(results.values())).jacobian
        output_formulas, formulas, check = sympy_job.symbolic(outputs, first)
    else:
        output_values = outputs
        results, undefined = _undefined_gradients(graph, output_values, results)
        jacobian = stood_by(results)
        warnings += undefined + _non_finite_gradient_warnings(graph, names, jacobian)
        output_formulas, formulas, check = sympy_job.at_point(wrt_ids, jacobian, point)
    strict_error = None
    if strict and point is not None and _has_non_finite(stood_by(results), output_values, point):
        strict_error = ("a value is not finite at this point (--strict): "
                        + "; ".join(warnings[:3]))
    elif strict and kinks:
        strict_error = "the point lies on a kink (--strict): " + kinks[0].message()
    report = GradReport(graph, to_text(graph, 2000) if len(graph.outputs) == 1 else None,
                        names, point, output_values, output_formulas, results, timings,
                        formulas, check, refused, warnings, strict_error,
                        _mode_difference(results, point),
                        _picture(graph, point) if picture else None, kinks=kinks,
                        timing_details=details)
    if not explain:
        return report
    from backprop.jobs.explain import Narrated, explain_bounded

    # the explanation narrates the finished report, so it completes a copy of it
    narrated = Narrated.of(report)
    return replace(report, explanation=explain_bounded(narrated, limits.check_timeout))


def time_modes(results: dict[str, ModeResult], first: dict[str, float], graph: Graph,
               values: list, wrt_ids: list[int], point, limits: Limits,
               repeats: int = GRAD_REPEATS, budget: float = GRAD_BUDGET) -> dict[str, Any]:
    """Each mode's Timing (jobs/timing.py): warmed up and repeated within ``budget``. One
    mode is timed on the engine that ran it; several on one engine, pure Python (the core
    sweeps reverse mode only), so that their times compare. On a large graph a mode whose
    own run took GRAD_ALONE or more is not run again: that run is its figure, one sample."""
    from backprop.engine.accel import CORE
    from backprop.jobs.timing import PYTHON, median_time, summarize

    details = {}
    for name in results:
        if point is None:
            backend, engine = _symbolic(), "sympy"
        elif len(results) > 1:
            backend, engine = PYTHON, "python"
        else:
            backend = None
            engine = "compiled" if name == "reverse" and CORE is not None else "python"
        if first[name] >= GRAD_ALONE and graph.edge_count >= GRAD_LARGE \
                and (len(results) == 1 or point is None):
            details[name] = summarize([first[name]], 1, engine)
            continue
        options = {"max_paths": limits.max_paths, "max_ops": limits.max_ops} \
            if name == "paths" else {}
        _, details[name] = median_time(
            lambda: run_mode(name, graph, values, wrt_ids, backend, **options), repeats,
            budget, engine, warm=engine == "python" and len(results) > 1)
    return details


def _mode_difference(results: dict[str, ModeResult], point) -> float | None:
    if point is None or len(results) < 2:
        return None
    return agreement([stood_by(results)] + [r.jacobian for r in results.values()])


def _picture(graph: Graph, point) -> Picture | None:
    """The annotated graph for a report's picture, or None when too large to draw there."""
    from backprop.jobs.picture import EMBED_MAX_NODES, build

    if len(graph) > EMBED_MAX_NODES:
        return None

    return build(graph, point)


@dataclass(frozen=True)
class SympyJob:
    """SymPy's part of ``grad`` (formulas as text, the check) in a side process."""

    graph: Graph
    names: list[str]
    run_check: bool
    rtol: float
    atol: float
    timeout: float

    def symbolic(self, outputs: list, jacobian: list[list]) -> tuple:
        """(output formulas, Jacobian formulas, check) without a point."""
        job = (self.graph, self.names, outputs, jacobian, self.run_check, self.rtol, self.atol,
               self.timeout)
        try:
            return sympy_side.run(_sympy_symbolic, *job, timeout=self.timeout)
        except (sympy_side.TimedOut, sympy_side.Died) as error:
            from backprop.check.check import unfinished

            return ([unordered_text(f) for f in outputs],
                    [[unordered_text(f) for f in row] for row in jacobian],
                    unfinished(error, self.graph, self.names, None, self.timeout)
                    if self.run_check else None)

    def at_point(self, wrt_ids: list[int], jacobian: list[list], point) -> tuple:
        """(output formulas, Jacobian formulas, check) at a point: formulas come with the
        check (--no-check never loads SymPy), in the side process that cli.grad started,
        if it did, else in a fresh one."""
        if not self.run_check:
            return None, None, None
        from backprop.check.check import FORMULA_MAX_DEPTH, unfinished

        graph = self.graph
        small = len(graph) <= FORMULA_NODE_LIMIT and graph.depth <= FORMULA_MAX_DEPTH
        job = (graph, self.names, wrt_ids, jacobian, point, small, self.rtol, self.atol,
               self.timeout)
        try:
            return sympy_side.run(_sympy_at_point, *job, timeout=self.timeout, fresh=not small)
        except (sympy_side.TimedOut, sympy_side.Died) as error:
            return None, None, unfinished(error, graph, self.names, point, self.timeout)


def _sympy_at_point(graph, names, wrt_ids, jacobian, point, with_formulas, rtol, atol,
                    timeout):
    """SymPy's part of a numeric grad: the check, then the formulas (as text) if they come
    within a quarter of the time the check left (else none: the numbers stand without
    them, and the verdict is never lost to the formulas' time)."""
    from backprop.check.check import (QUICK, CheckTimeout, compare, symbolic_values,
                                      time_limit)

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
    output_formulas, formulas = formula_texts([sym_values[o] for o in graph.outputs], jacobian,
                                       min(QUICK, timeout / 4))
    return output_formulas, formulas, verdict


def _sympy_symbolic(graph, names, output_formulas, formulas, run_check, rtol, atol, timeout):
    """SymPy's part of a symbolic grad: the formulas as text, and the check."""
    from backprop.check.check import QUICK, compare

    output_formulas, texts = formula_texts(output_formulas, formulas, min(QUICK, timeout / 4))
    return (output_formulas, texts,
            compare(graph, names, formulas, None, rtol, atol) if run_check else None)


def formula_texts(outputs: list, jacobian: list[list], seconds: float) -> tuple[list, list[list]]:
    """Formulas as SymPy prints them, or with their terms unordered after ``seconds``."""
    from backprop.check.check import CheckTimeout, time_limit

    try:
        with time_limit(seconds):
            return [str(f) for f in outputs], [[str(f) for f in row] for row in jacobian]
    except CheckTimeout:
        return [unordered_text(f) for f in outputs], [[unordered_text(f) for f in row]
                                                  for row in jacobian]


def unordered_text(expr) -> str:
    """A formula as text without ordering its terms (which can evaluate numbers for ever)."""
    from sympy.printing.str import sstr

    return sstr(expr, order="none")


def _symbolic():
    from backprop.engine.backends import symbolic

    return symbolic()


def _run(name, graph, values, wrt_ids, point, limits) -> ModeResult:
    backend = None if point is not None else _symbolic()
    options = {"max_paths": limits.max_paths, "max_ops": limits.max_ops} if name == "paths" else {}
    result = run_mode(name, graph, values, wrt_ids, backend, **options)
    if point is None:
        return result
    # Seeds and constant partials are exact ints (they serve SymPy too): report floats.
    return replace(result, jacobian=[[float(v) for v in row] for row in result.jacobian])


def _undefined_gradients(graph: Graph, output_values: list, results: dict[str, ModeResult]) \
        -> tuple[dict[str, ModeResult], list[str]]:
    """Where an output is nan (log(-1)), the function is not defined at the point, so
    neither is its gradient: every mode's row becomes nan, and a warning says why."""
    warnings = []
    results = dict(results)
    for o, value in enumerate(output_values):
        if value == value:
            continue
        label = graph.output_names[o] if len(graph.outputs) > 1 else "f"
        row = stood_by(results)[o]
        if any(v == v for v in row):
            warnings.append(f"{label} is nan at this point (outside its domain), so its "
                            "gradient is not valid there: reported as nan (the chain rule "
                            f"alone gives {', '.join(repr(v) for v in row[:3])})")
        for name, result in results.items():
            jacobian = [list(r) for r in result.jacobian]
            jacobian[o] = [math.nan] * len(jacobian[o])
            results[name] = replace(result, jacobian=jacobian)
    return results, warnings


def _non_finite_gradient_warnings(graph: Graph, wrt: list[str], jacobian) -> list[str]:
    warnings = []
    for o, row in enumerate(jacobian):
        for name, value in zip(wrt, row):
            if not math.isfinite(value):
                label = graph.output_names[o] if len(graph.outputs) > 1 else "f"
                warnings.append(f"d{label}/d{name} is {value!r}")
    return warnings[:5]


def _has_non_finite(jacobian, output_values, point) -> bool:
    values = [v for row in jacobian for v in row] + list(output_values or []) \
        + list(point.values())
    return any(not math.isfinite(v) for v in values)


# --------------------------------------------------------------------------- --program


@dataclass(frozen=True)
class ProgramReport:
    """``grad --program``: the gradient as a graph (engine/program.py) and its cost
    against the function's, with the ratios the cheap-gradient principle bounds."""

    graph: Graph
    name: str  # the function's name: its output's label (z = ...), else f
    text: str | None  # the function printed back (one output, up to 120 characters)
    program: Graph
    mode: str  # the sweep the program is made of: reverse or forward
    wrt: list[str]
    function_cost: Any  # engine.program.ProgramCost
    program_cost: Any
    ops_ratio: float | None  # program ops / function ops (None: the function has none)
    nonscalar_ratio: float | None  # program / function nonscalar operations
    picture: Any = None  # the program's listing notes (jobs.picture.Picture, no point)


def grad_program(graph: Graph, *, wrt: str | None = None, mode: str = "reverse") \
        -> ProgramReport:
    """The gradient program of ``graph`` by the ``mode`` sweep, counted."""
    from backprop.engine.program import cost, gradient_program
    from backprop.errors import InputError
    from backprop.jobs.picture import program_picture

    if mode not in ("reverse", "forward"):
        raise InputError(f"--program builds the program of one sweep, not of mode {mode!r}",
                         hint="--mode reverse (the default) or --mode forward")
    names = parse_wrt(wrt, graph)
    program = gradient_program(graph, input_ids(graph, names), mode)
    function_cost, program_cost = cost(graph), cost(program)
    text = to_text(graph, 120) if len(graph.outputs) == 1 else None
    out = graph.nodes[graph.outputs[0]]
    name = out.label if text is not None and out.args and out.label else "f"
    return ProgramReport(graph, name, text, program, mode, names, function_cost, program_cost,
                         _ratio(program_cost.ops, function_cost.ops),
                         _ratio(program_cost.nonscalar, function_cost.nonscalar),
                         program_picture(program, formulas=False))


def _ratio(program: int, function: int) -> float | None:
    return program / function if function else None
