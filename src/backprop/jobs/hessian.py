"""The ``hessian`` job: second derivatives as two first-order sweeps composed.

The first sweep (reverse or forward mode) runs on a backend whose values are graph nodes,
so it returns the gradient program P (``engine.program.gradient_program``): a Graph whose
outputs are df/dx_k. The second sweep is an ordinary mode on P, whose Jacobian is the
Hessian. Each pairing is named second-over-first, as JAX names them:

    fwd-rev   forward mode on P (reverse program)    n sweeps: H's columns
    rev-rev   reverse mode on P (reverse program)    n sweeps: one per output of P
    rev-fwd   reverse mode on P' (forward program)   n sweeps
    fwd-fwd   forward mode on P' (forward program)   n sweeps over a program n times larger

Nothing is rewritten: the two sweeps are the engine's, and their counts are the modes' own.
H v (``--vector``) is one forward sweep on P seeded by v on every input at once
(Pearlmutter's R-operator), so H is never formed for it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

from backprop.check.verdict import CheckResult
from backprop.engine.counts import Counts
from backprop.engine.evaluate import evaluate, non_finite_warnings
from backprop.engine.graph import Graph
from backprop.engine.modes import agreement, relative_difference, run_mode
from backprop.engine.printer import to_text
from backprop.errors import InputError, LimitError
from backprop.frontends.point import parse_point, point_warnings
from backprop.jobs.common import input_ids, run_modes
from backprop.limits import Limits

# pairing -> (the sweep that builds the gradient program, the mode run on that program)
PAIRINGS = {"fwd-rev": ("reverse", "forward"), "rev-rev": ("reverse", "reverse"),
            "rev-fwd": ("forward", "reverse"), "fwd-fwd": ("forward", "forward")}
PAIRING_CHOICES = (*PAIRINGS, "all")
SYMBOLIC_NODE_LIMIT = 400  # Hessian formulas (no --at) above this many nodes are refused
HVP_RTOL = 1e-6  # H v against H times v and against differences of the gradient


@dataclass(frozen=True)
class Pairing:
    """One pairing's Hessian and its exact cost: the gradient program (built once, its op
    nodes evaluated once at the point) and the second mode's own counts on it."""

    name: str
    program_nodes: int
    program_ops: int  # op nodes of the program: its primal pass at the point
    counts: Counts  # the second mode on the program (sweeps, partials, ...)
    hessian: list[list[Any]]  # floats at a point, else SymPy formulas

    @property
    def total_ops(self) -> int:
        """The program's evaluation plus the second sweep's arithmetic."""
        return self.program_ops + self.counts.arithmetic


@dataclass(frozen=True)
class Hvp:
    """H v in one forward-over-reverse sweep, checked two ways."""

    vector: dict[str, float]
    product: list[float]
    program_ops: int
    counts: Counts  # one forward sweep on the gradient program
    by_hessian: list[float] | None  # H v from the formed Hessian, when one was formed
    by_differences: list[float] | None  # central differences of the gradient along v
    difference: float | None  # the largest relative difference of the two comparisons
    status: str  # "pass", "fail" or "skipped"


@dataclass(frozen=True)
class HessianReport:
    """Everything ``hessian`` found, built once: renderers only read it."""

    graph: Graph
    text: str | None
    wrt: list[str]
    point: dict[str, float] | None
    value: Any  # f at the point (float), else its formula
    pairings: dict[str, Pairing]
    timings: dict[str, float]
    refused: dict[str, str]
    symmetry: float | None  # largest |H - H^T| relative (at a point)
    agreement: float | None  # the pairings' largest relative difference (2+ at a point)
    verdict: str  # which pairing is cheapest, and why
    check: CheckResult | None
    hvp: Hvp | None = None
    warnings: list[str] = field(default_factory=list)
    strict_error: str | None = None
    explanation: Any = None  # jobs.explain.Explanation of the second sweep (--explain)

    @property
    def hessian(self) -> list[list[Any]]:
        """The Hessian the report stands by: the first pairing that ran."""
        return next(iter(self.pairings.values())).hessian


def pairings_for(mode: str) -> tuple[str, ...]:
    if mode not in PAIRING_CHOICES:
        raise InputError(f"unknown mode {mode!r}",
                         hint="choose one of: " + ", ".join(PAIRING_CHOICES))
    return tuple(PAIRINGS) if mode == "all" else (mode,)


def hessian(graph: Graph, *, at=None, wrt: str | None = None, mode: str = "fwd-rev",
            vector=None,
            run_check: bool = True, rtol: float = 1e-9, atol: float = 1e-12,
            limits: Limits | None = None, strict: bool = False,
            explain: bool = False) -> HessianReport:
    """The Hessian of a one-output ``graph`` by the pairings asked for, at a point or as
    formulas, with the check; with ``vector``, H v in one sweep as well; with ``explain``,
    every step of the first pairing's second sweep over its gradient program. ``wrt``
    (``x,y``) limits the Hessian to those variables, the others held at the point."""
    limits = limits or Limits()
    names = _one_output(graph)
    if wrt is not None:
        from backprop.frontends.point import parse_wrt

        names = parse_wrt(wrt, graph)
    pairings = pairings_for(mode)
    point = parse_point(at, graph)
    if vector is not None and point is None:
        raise InputError("--vector needs a point", hint="give one: --at x=1,...")
    v = parse_vector(vector, names) if vector is not None else None
    refusals = {name: why for name in pairings if (why := over_limit(graph, name, limits))}
    if len(refusals) == len(pairings):  # nothing affordable: refuse before any work
        raise LimitError(refusals[pairings[0]],
                         hint="raise --max-ops / --max-nodes, or pick a cheaper --mode")
    if point is None:
        _symbolic_fits(graph)
    wrt = input_ids(graph, names)
    warnings = point_warnings(point)
    programs: dict[str, Graph] = {}

    def run(name: str) -> Pairing:
        if name in refusals:
            raise LimitError(refusals[name])
        return pairing_of(name, graph, wrt, names, point, programs)

    results, timings, refused = run_modes(pairings, run)
    warnings += [f"{name} not run: {message}" for name, message in refused.items()]
    value, formula_graph = _value(graph, point, warnings)
    from backprop.jobs.hessian_check import check_hessian, formulas_as_text

    hvp = None
    if v is not None:
        program = programs.get("reverse") or _program(graph, wrt, "reverse", programs)
        hvp = hvp_sweep(program, names, point, v, results.get("fwd-rev"))
    if point is None:
        results, value, check = formulas_as_text(graph, names, results, value, run_check,
                                                 limits.check_timeout)
        symmetry = difference = None
    else:
        first = next(iter(results.values()))
        check = check_hessian(graph, programs[PAIRINGS[first.name][0]], names, first.hessian,
                              point, rtol, atol, limits.check_timeout) if run_check else None
        symmetry = symmetry_of(first.hessian)
        difference = agreement([r.hessian for r in results.values()])
        warnings += _non_finite(names, first.hessian)
    strict_error = None
    if strict and point is not None and warnings:
        strict_error = "a value is not finite at this point (--strict): " + \
            "; ".join(warnings[:3])
    explanation = _explained(next(iter(results.values())), programs, names, point,
                             limits.check_timeout) if explain else None
    return HessianReport(formula_graph, to_text(graph, 2000), names, point, value, results,
                         timings, refused, symmetry, difference, cheapest(results, graph),
                         check, hvp, warnings, strict_error, explanation)


def _explained(pairing: Pairing, programs: dict[str, Graph], names: list[str], point,
               timeout: float):
    """The first pairing's second sweep, step by step: the explanation ``grad --explain``
    writes, run on the gradient program (its outputs are df/dx_i, so the sweep's Jacobian
    is the Hessian), bounded like grad's by --check-timeout."""
    from backprop.jobs.explain import Narrated, check_size, explain_bounded

    first, second = PAIRINGS[pairing.name]
    program = _outputs_named(programs[first])
    check_size(program)
    present = [k for k, name in enumerate(names) if name in program.input_names]
    printed = {} if point is None else \
        {second: [[row[k] for k in present] for row in pairing.hessian]}
    narrated = Narrated(program, [names[k] for k in present], point, (second,), printed)
    return explain_bounded(narrated, timeout)


def _outputs_named(program: Graph) -> Graph:
    """The program with each unlabelled output op named as its output, (df/dx), so that an
    explanation calls the derivatives it differentiates by those names."""
    named = dict(zip(program.outputs, program.output_names))
    return replace(program, nodes=tuple(
        node._replace(label=f"({named[i]})") if i in named and node.label is None and node.args
        else node for i, node in enumerate(program.nodes)))


def _one_output(graph: Graph) -> list[str]:
    if len(graph.outputs) != 1:
        raise InputError(f"a Hessian needs one output; this has {len(graph.outputs)} "
                         f"({', '.join(graph.output_names[:5])})",
                         hint="give one expression (a Hessian is of f: R^n -> R)")
    return list(graph.input_names)


def _symbolic_fits(graph: Graph) -> None:
    from backprop.check.symbolic import check_formula_depth

    check_formula_depth(graph)
    if len(graph) > SYMBOLIC_NODE_LIMIT:
        raise LimitError(f"the graph has {len(graph):,} nodes, too many for Hessian formulas "
                         f"(limit {SYMBOLIC_NODE_LIMIT:,})", hint="give a point: --at x=1,...")


def over_limit(graph: Graph, pairing: str, limits: Limits) -> str:
    """Why a pairing is refused before any work ("" if it is not): the gradient program's
    size bound over --max-nodes, or its second sweep's bound over --max-ops."""
    first, _ = PAIRINGS[pairing]
    n = len(graph.inputs)
    nodes = program_bound(graph, n, first)
    if nodes > limits.max_nodes:
        return (f"{pairing}: its gradient program may have up to {nodes:,} nodes "
                f"(limit --max-nodes {limits.max_nodes:,})")
    work = 3 * 2 * nodes * n  # n sweeps, two edges a node at most, 3 operations an edge
    if work <= limits.max_ops:
        return ""
    # The coarse bound is over: build the program (within --max-nodes, linear) and count
    # its second sweep exactly where a dynamic program can (forward mode's estimate),
    # else bound it by the program's own edges; still before any second sweep runs.
    program = _program(graph, list(graph.inputs), first, {})
    second = PAIRINGS[pairing][1]
    inputs = [i for i, node in enumerate(program.nodes) if node.op == "input"]
    if second == "forward":
        from backprop.engine.modes.forward import estimate

        work, exact = estimate(program, inputs).arithmetic, True
    else:
        work, exact = 3 * program.edge_count * len(program.outputs), False
    if work > limits.max_ops:
        return (f"{pairing}: its second sweep {'takes' if exact else 'may take up to'} "
                f"{work:,} operations (limit --max-ops {limits.max_ops:,})")
    return ""


PROGRAM_NODES_PER_EDGE = 8  # a partial's formula (pow's: 5 nodes), its product, its sum


def program_bound(graph: Graph, n: int, first: str) -> int:
    """At most how many nodes the gradient program by ``first`` mode has: the function's
    nodes, then per edge visited its partial's formula, one product and one sum; reverse
    mode visits each edge once, forward mode once per input (n sweeps)."""
    sweeps = 1 if first == "reverse" else n
    return len(graph) + PROGRAM_NODES_PER_EDGE * graph.edge_count * sweeps


def _program(graph: Graph, wrt: list[int], first: str, programs: dict) -> Graph:
    """The gradient program by ``first`` mode, built once and shared by the pairings."""
    if first not in programs:
        from backprop.engine.program import gradient_program

        programs[first] = gradient_program(graph, wrt, mode=first)
    return programs[first]


def _values(program: Graph, point):
    """The program's values at the point, or its nodes as SymPy formulas."""
    if point is not None:
        return evaluate(program, point), None
    from backprop.check.symbolic import symbolic_values
    from backprop.engine.backends import symbolic

    return symbolic_values(program), symbolic()


def pairing_of(name, graph, wrt, names, point, programs) -> Pairing:
    first, second = PAIRINGS[name]
    program = _program(graph, wrt, first, programs)
    values, backend = _values(program, point)
    result = run_mode(second, program, values, _inputs_of(program, names), backend)
    hessian = _with_absent(result.jacobian, program, names)
    if point is not None:  # seeds and constant partials are exact ints: report floats
        hessian = [[float(h) for h in row] for row in hessian]
    return Pairing(name, len(program), sum(1 for node in program.nodes if node.args),
                   result.counts, hessian)


def run_pairing(name: str, graph: Graph, point: dict[str, float]) -> Pairing:
    """One pairing at a point from scratch (its gradient program built anew, nothing
    shared): what ``compare --order 2`` and ``scale --order 2`` count and time."""
    names = _one_output(graph)
    return pairing_of(name, graph, input_ids(graph, names), names, point, {})


def _inputs_of(program: Graph, names: list[str]) -> list[int]:
    """The program's input ids for ``names`` that it has (an input that no derivative
    reads may be absent from it)."""
    return input_ids(program, [n for n in names if n in program.input_names])


def _with_absent(jacobian, program: Graph, names: list[str]) -> list[list[Any]]:
    """Columns for every name, 0 for the inputs the program does not read."""
    present = {n: k for k, n in enumerate(n for n in names if n in program.input_names)}
    return [[row[present[n]] if n in present else 0 for n in names] for row in jacobian]


def _value(graph: Graph, point, warnings: list[str]):
    """f at the point (a float, with its non-finite warnings), or f's formula."""
    if point is not None:
        values = evaluate(graph, point)
        warnings += non_finite_warnings(graph, values)
        return values[graph.outputs[0]], graph
    from backprop.check.symbolic import symbolic_values

    return symbolic_values(graph)[graph.outputs[0]], graph


def symmetry_of(hessian: list[list[float]]) -> float:
    """The largest |H_ij - H_ji| relative (to max(1, |H_ij|)); 0.0 when exactly symmetric."""
    return max((relative_difference(hessian[i][j], hessian[j][i])
                for i in range(len(hessian)) for j in range(i)), default=0.0)


def cheapest(results: dict[str, Pairing], graph: Graph) -> str:
    """The verdict: the pairing with the least work, and why (from the counts)."""
    if not results:
        return ""
    n = len(graph.inputs)
    best = min(results.values(), key=lambda r: r.total_ops)
    plural = "s" if n != 1 else ""
    why = (f"f has {n} input{plural} and one output, so reverse mode builds the gradient "
           "program in one sweep, about as large as f, and forward mode on it gives H's "
           f"{n} column{plural} in {n} sweep{plural}")
    head = (f"{best.name} ran alone" if len(results) == 1 else
            f"{best.name} is cheapest") + f" ({best.total_ops:,} operations)"
    reference = results.get("fwd-rev")
    if best.name == "fwd-rev" or reference is None:
        return f"{head}: {why}"
    return (f"{head}; fwd-rev takes {reference.total_ops:,}. On a function this small the "
            f"programs are about the same size. As n grows fwd-rev wins: {why}, while a "
            "forward-mode program grows with n")


def _non_finite(names: list[str], hessian) -> list[str]:
    bad = [f"d2f/d{a}d{b} is {hessian[i][j]!r}" for i, a in enumerate(names)
           for j, b in enumerate(names) if not math.isfinite(hessian[i][j])]
    return bad[:5]


# -- H v ---------------------------------------------------------------------------------

def parse_vector(texts, names: list[str]) -> dict[str, float]:
    """``--vector x=1,y=0``: every input once, a number each (the --at syntax, with its
    carets; ``*=0`` fills the components not named)."""
    from backprop.frontends.point import point_items

    texts = [texts] if isinstance(texts, str) else list(texts)
    vector: dict[str, float] = {}
    fill = None
    for text in texts:
        try:
            items = list(point_items(text))
        except InputError as error:
            raise _renamed(error) from None
        for name, value, column in items:
            if name in vector or (name == "*" and fill is not None):
                raise _vector_error(text, column, f"--vector gives {name} twice",
                                    "give each component once")
            if name != "*" and name not in names:
                raise _vector_error(text, column, f"--vector {name}: the expression has no "
                                    f"variable {name!r}", "components: " + ", ".join(names))
            if name == "*":
                fill = value
            else:
                vector[name] = value
    missing = [n for n in names if n not in vector]
    if missing and fill is None:
        raise _vector_error(texts[-1], len(texts[-1]), "--vector gives no component for "
                            + ", ".join(missing), "add " + ",".join(f"{n}=..." for n in
                                                                    missing[:5]))
    return {n: vector.get(n, fill) for n in names}


def _vector_error(text: str, column: int, message: str, hint: str) -> InputError:
    return InputError(message, hint=hint, source="--vector " + text, column=column + 9)


def _renamed(error: InputError) -> InputError:
    """An --at syntax error from point.py, told about --vector (its caret moved along)."""
    return InputError(error.message.replace("--at", "--vector"),
                      hint=(error.hint or "").replace("--at", "--vector") or None,
                      source="--vector " + (error.source or "--at ")[5:],
                      column=None if error.column is None else error.column + 4)


def hvp_sweep(program: Graph, names: list[str], point, vector: dict[str, float],
              formed: Pairing | None) -> Hvp:
    """H v: forward mode on the gradient program, every input seeded by its component of v
    at once: one sweep. Compared with H v from a formed H and with high-precision central
    differences of the gradient (the program's outputs) along v."""
    from backprop.engine.modes.forward import forward

    values = evaluate(program, point)
    present = [n for n in names if n in program.input_names]
    seed = {i: vector[n] for i, n in zip(input_ids(program, present), present)}
    result = forward(program, values, [], seeds=[seed])
    product = [float(row[0]) for row in result.jacobian]
    by_hessian = None if formed is None else \
        [math.fsum(h * vector[n] for h, n in zip(row, names)) for row in formed.hessian]
    by_differences = _differences_along(program, present, point, vector)
    found = [d for d in (by_hessian, by_differences) if d is not None]
    difference = max((relative_difference(a, b) for ref in found
                      for a, b in zip(product, ref)), default=None)
    status = "skipped" if difference is None or not math.isfinite(difference) else \
        "pass" if difference <= HVP_RTOL else "fail"
    return Hvp(vector, product, sum(1 for node in program.nodes if node.args),
               result.counts, by_hessian, by_differences, difference, status)


def _differences_along(program: Graph, present: list[str], point,
                       vector: dict[str, float]) -> list[float] | None:
    """(grad f(x + h v) - grad f(x - h v)) / 2h as h -> 0, from the 80-digit differences of
    each program output by each input (check/highprec.py), combined along v."""
    from backprop.check.highprec import differences

    found = differences(program, present, point)
    return [math.fsum(found[o, n][0] * vector[n] for n in present)
            for o in range(len(program.outputs))]
