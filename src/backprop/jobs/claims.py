"""The ``check`` job: is each claimed gradient or derivative formula right?

A claimed number is compared with backprop's gradient at the claim's point. A claimed
formula is compared twice, and must pass the first:

1. numerically, against backprop's gradient at seeded random points (and at the claim's
   point, if it gives one): any point where the two differ beyond the tolerances is a
   counterexample, and the claim is wrong;
2. symbolically, where SymPy can reduce ``diff(f, x) - claim`` to 0 within the time limit
   (in the killable side process): then the claim is proven. Where it cannot, the claim
   passes on the numeric evidence, and the method says so.

Plain data out (``ClaimsReport``); render/claims_view.py formats it.
"""

from __future__ import annotations

import math
import random
import time
from dataclasses import dataclass

from backprop.check.verdict import close
from backprop.engine.evaluate import evaluate
from backprop.engine.graph import Graph
from backprop.engine.modes import run_mode
from backprop.errors import BackpropError
from backprop.frontends.claims_file import Claim, read_claims
from backprop.limits import Limits

RANGES = ((0.1, 0.9), (-2.0, 2.0), (1.0, 5.0))  # where the random points are drawn
POINTS_PER_RANGE = 4
MIN_POINTS = 3  # fewer points where both sides are finite: undecided


@dataclass(frozen=True)
class Finding:
    """One claimed partial: d(expr)/d(wrt), what was claimed and what it is."""

    wrt: str
    kind: str  # "value" (a number at the point) or "formula"
    claimed: str  # as written (a formula) or the number's repr
    actual: str | None  # backprop's value at the point; the formula's counterexample value
    ok: bool
    method: str  # how it was decided
    detail: str = ""  # the counterexample, or why it is undecided


@dataclass(frozen=True)
class ClaimResult:
    claim: Claim
    findings: tuple[Finding, ...]
    seconds: float

    @property
    def ok(self) -> bool:
        return all(f.ok for f in self.findings)


@dataclass(frozen=True)
class ClaimsReport:
    """Everything ``check`` found: one result per claim, in the file's order."""

    source: str
    results: tuple[ClaimResult, ...]

    @property
    def failed(self) -> int:
        return sum(not r.ok for r in self.results)

    @property
    def passed(self) -> int:
        return len(self.results) - self.failed


def check_claims(path: str, *, limits: Limits | None = None, text: str | None = None) \
        -> ClaimsReport:
    """Read the whole file (a bad one fails before any work), then check every claim."""
    limits = limits or Limits()
    claims = read_claims(path, max_bytes=limits.max_bytes, text=text)
    if any(claim.formulas for claim in claims):
        # loaded once here, so each formula's side process (forked, killed at the time
        # limit) starts with SymPy in memory instead of importing it again
        import sympy  # noqa: F401
    return ClaimsReport(path, tuple(_check(claim, limits) for claim in claims))


def _check(claim: Claim, limits: Limits) -> ClaimResult:
    from backprop.frontends.load import load_graph
    from backprop.frontends.point import parse_point

    start = time.perf_counter()
    graph = load_graph([claim.expr], max_nodes=limits.max_nodes, max_depth=limits.max_depth)
    findings = []
    if claim.numbers:
        gradient = _gradient(graph, parse_point(claim.at, graph))
        for wrt, value in claim.numbers.items():
            actual = gradient.get(wrt, 0.0)
            ok = _agree(value, actual, claim)
            findings.append(Finding(wrt, "value", repr(value), repr(actual), ok,
                                    "backprop's gradient at the point",
                                    "" if ok else _off_by(value, actual, claim)))
    for wrt, formula in claim.formulas.items():
        findings.append(_formula(graph, claim, wrt, formula, limits))
    return ClaimResult(claim, tuple(findings), time.perf_counter() - start)


def _gradient(graph: Graph, point: dict[str, float]) -> dict[str, float]:
    """d output / d input by name, by reverse mode: backprop's own gradient."""
    values = evaluate(graph, point)
    row = run_mode("reverse", graph, values, list(graph.inputs)).jacobian[0]
    return dict(zip(graph.input_names, row))


def _off_by(claimed: float, actual: float, claim: Claim) -> str:
    text = f"backprop's gradient is {actual!r}"
    if math.isfinite(claimed) and math.isfinite(actual) and actual:
        text += (f", a relative difference of {abs(claimed - actual) / abs(actual):.2g} "
                 f"(rtol {claim.rtol:g}, atol {claim.atol:g})")
    return text


def _agree(claimed: float, actual: float, claim: Claim) -> bool:
    if math.isnan(claimed) or math.isnan(actual):
        return math.isnan(claimed) and math.isnan(actual)
    if math.isinf(claimed) or math.isinf(actual):
        return claimed == actual
    return close(claimed, actual, claim.rtol, claim.atol)


def _formula(graph: Graph, claim: Claim, wrt: str, formula: str, limits: Limits) -> Finding:
    from backprop.frontends.parse import parse
    from backprop.frontends.point import parse_point

    claimed = parse(formula, max_nodes=limits.max_nodes, max_depth=limits.max_depth)
    names = sorted(set(graph.input_names) | set(claimed.input_names) | {wrt})
    points = _points(names, claim.line)
    if claim.at is not None:
        points.insert(0, parse_point(claim.at, graph))
    tried = 0
    for point in points:
        actual = _at(lambda: _gradient(graph, _only(point, graph)).get(wrt, 0.0))
        value = _at(lambda: evaluate(claimed, _only(point, claimed))[claimed.outputs[0]])
        if actual is None or value is None:  # outside a domain: no evidence either way
            continue
        tried += 1
        if not _agree(value, actual, claim):
            where = ", ".join(f"{n}={point[n]:.6g}" for n in names if n in point)
            return Finding(wrt, "formula", formula, repr(actual), False,
                           "a counterexample",
                           f"at {where} the claim is {value:.10g}, the derivative "
                           f"{actual:.10g}")
    if tried < MIN_POINTS:
        return Finding(wrt, "formula", formula, None, False, "undecided",
                       f"both sides are finite at only {tried} of {len(points)} points; "
                       "give at: inside the domain")
    symbolic = _sympy_equal(graph, claimed, wrt, limits.check_timeout)
    if symbolic is True:
        return Finding(wrt, "formula", formula, None, True,
                       "SymPy: the difference simplifies to 0")
    why = "SymPy timed out" if symbolic is None else \
        "SymPy did not reduce the difference to 0"
    return Finding(wrt, "formula", formula, None, True,
                   f"equal to backprop's gradient at {tried} points ({why})")


def _points(names: list[str], seed: int) -> list[dict[str, float]]:
    generator = random.Random(seed)
    return [{n: generator.uniform(low, high) for n in names}
            for low, high in RANGES for _ in range(POINTS_PER_RANGE)]


def _only(point: dict[str, float], graph: Graph) -> dict[str, float]:
    return {n: point[n] for n in graph.input_names}


def _at(compute) -> float | None:
    """A finite real number, or None (outside the domain: nan, inf, an error)."""
    try:
        value = compute()
    except (ArithmeticError, ValueError, BackpropError):
        return None
    return value if isinstance(value, float) and math.isfinite(value) else None


def _sympy_equal(graph: Graph, claimed: Graph, wrt: str, timeout: float) -> bool | None:
    """True when SymPy proves diff(f, wrt) == claim; False when it does not; None when it
    ran out of time (the side process is killed)."""
    from backprop.check import sympy_side

    try:
        return sympy_side.run(_difference_is_zero, graph, claimed, wrt, timeout=timeout)
    except sympy_side.TimedOut:
        return None
    except sympy_side.Died:
        return False


def _difference_is_zero(graph: Graph, claimed: Graph, wrt: str) -> bool:
    import sympy

    from backprop.check.symbolic import symbolic_values

    f = symbolic_values(graph)[graph.outputs[0]]
    c = symbolic_values(claimed)[claimed.outputs[0]]
    symbol = sympy.Symbol(wrt, real=True)
    return sympy.simplify(sympy.diff(f, symbol) - c) == 0
