"""Each mode's cost as a ratio to the function's own, beside the bound it must respect
(docs/counting.md, "The textbook bounds").

- **All operations** (the cheap-gradient ratio): a sweep visits every edge that carries a
  derivative at most once, and a visit costs one partial, one multiplication and at most one
  addition, so a sweep costs at most 3 · a operations per primitive, a being the largest
  arity of the graph's ops (2 for binary ones). Forward mode's bound is n such sweeps,
  reverse mode's m: a constant for a gradient (m = 1), growing with the inputs for forward.
  Path enumeration has none: its work grows with the number of paths.
- **Nonscalar operations** (Baur and Strassen, 1983): the gradient of one output costs at
  most 3 times the function's nonscalar operations. They are counted by the one rule of
  ``engine/program.py`` (``cost``) on the mode's own gradient program, the real sweep run
  on the graph backend, so a multiplication by a constant, a sign or a folded 1 is not one.
  Where the op table's partials pass the bound (``EXCEPTIONS``: a division by a variable,
  x^y with both variable, asin, acos, atan) the graph's exceptional ops are named.

Programs are built only up to ``PROGRAM_MAX_VISITS`` edge visits (the sweep's partials);
beyond, the nonscalar count is not taken (None, with the reason).
"""

from __future__ import annotations

from dataclasses import dataclass

from backprop.engine.graph import Graph
from backprop.engine.count_text import fmt_count

PROGRAM_MAX_VISITS = 50_000
BAUR_STRASSEN = 3  # per output
OPERATIONS_PER_EDGE = 3  # a partial, a multiplication, at most one addition
# ops whose partials in the op table cost more than Baur and Strassen's construction
# (docs/counting.md, "Where the table passes the bound"; tests/test_bounds.py pins them)
EXCEPTIONS = {
    "div": "a division by a variable (its partials are two divisions)",
    "pow": "x^y with both variable (a power, a log and two products)",
    "asin": "asin (its partial 1/sqrt(1 - x^2) is three nonscalar operations)",
    "acos": "acos (its partial is three nonscalar operations)",
    "atan": "atan (its partial 1/(1 + x^2) is two nonscalar operations)",
    "erf": "erf (its partial 2 exp(-x^2)/sqrt(pi) is three nonscalar operations)",
    "gelu": "gelu (its partial Phi(x) + x phi(x) is an erf, an exp and two products)",
    "elu": "elu (its partial where(x > 0, 1, exp(x)) is a comparison, a where and an exp)",
}


@dataclass(frozen=True)
class ModeBound:
    mode: str
    operations: int  # partials + mults + adds (the mode's exact counts)
    operations_ratio: float | int | None  # per primitive of f
    operations_bound: int | None  # 3 · a · sweeps; None: no bound (paths)
    nonscalar: int | None  # of the mode's gradient program; None: not counted
    nonscalar_ratio: float | None  # per nonscalar operation of f
    nonscalar_bound: int | None  # Baur and Strassen's 3 per output (reverse); else None
    note: str | None = None  # why not counted, or which ops pass the bound

    @property
    def within(self) -> bool | None:
        """Does the mode respect its bounds (None: there is none to respect)?"""
        checks = [(self.operations_ratio, self.operations_bound),
                  (self.nonscalar_ratio, self.nonscalar_bound)]
        checks = [(r, b) for r, b in checks if r is not None and b is not None]
        return all(r <= b for r, b in checks) if checks else None


@dataclass(frozen=True)
class Bounds:
    """The function's own cost and each mode's against it."""

    primitives: int  # op nodes of f
    nonscalar: int  # Baur and Strassen's measure of f (engine/program.py)
    arity: int  # the largest arity of f's ops
    modes: dict[str, ModeBound]

    def as_dict(self) -> dict:
        return {"function": {"primitives": self.primitives, "nonscalar": self.nonscalar,
                             "arity": self.arity},
                "modes": {m: {"operations": b.operations,
                              "operations_ratio": b.operations_ratio,
                              "operations_bound": b.operations_bound,
                              "nonscalar": b.nonscalar, "nonscalar_ratio": b.nonscalar_ratio,
                              "nonscalar_bound": b.nonscalar_bound, "within": b.within,
                              "note": b.note}
                          for m, b in self.modes.items()}}


def exceptional_ops(graph: Graph) -> list[str]:
    """The graph's ops whose table partials pass Baur and Strassen's bound (EXCEPTIONS)."""
    active = graph.active
    found = []
    for node in graph.nodes:
        if node.op not in EXCEPTIONS or node.op in found:
            continue
        args = [active[a] for a in node.args]
        if (node.op == "div" and args[1]) or (node.op == "pow" and all(args)) \
                or (node.op not in ("div", "pow") and args[0]):
            found.append(node.op)
    return found


def ratio(numerator: int, denominator: int) -> float | int | None:
    """numerator / denominator as a float, or the exact whole quotient (an int) when a float
    cannot hold it (counts such as 2^2000 paths); None when the denominator is 0."""
    if not denominator:
        return None
    try:
        return numerator / denominator
    except OverflowError:
        return numerator // denominator


def mode_bounds(graph: Graph, wrt_ids: list[int], costs: dict) -> Bounds:
    """``costs``: mode -> an object with ``mode``, ``counts``, ``operations`` and ``ran``
    (jobs/compare.ModeCost)."""
    from backprop.engine.program import cost, gradient_program

    function = cost(graph)
    arity = max((len(node.args) for node in graph.nodes if node.args), default=0)
    bounds = {}
    for mode, c in costs.items():
        sweeps = c.counts.sweeps
        operations_bound = OPERATIONS_PER_EDGE * arity * sweeps if mode != "paths" else None
        nonscalar = share = bound = note = None
        if mode in ("forward", "reverse") and wrt_ids:
            visits = c.counts.partial_evals
            if not c.ran:
                note = "estimated, not run: no program built"
            elif visits > PROGRAM_MAX_VISITS:
                note = (f"not counted: its program would take {fmt_count(visits)} edge "
                        f"visits, over {fmt_count(PROGRAM_MAX_VISITS)}")
            else:
                nonscalar = cost(gradient_program(graph, wrt_ids, mode)).nonscalar
                share = ratio(nonscalar, function.nonscalar)
            if mode == "reverse":
                bound = BAUR_STRASSEN * len(graph.outputs)
                if share is not None and share > bound:
                    found = exceptional_ops(graph)
                    note = ("over the bound where the op table's partials pass it: "
                            + "; ".join(EXCEPTIONS[op] for op in found)) if found else \
                        "over the bound with none of the known exceptions: a bug to report"
        elif mode == "paths":
            note = "no bound: enumeration's work grows with the number of paths"
        bounds[mode] = ModeBound(mode, c.operations, ratio(c.operations, function.ops),
                                 operations_bound, nonscalar, share, bound, note)
    return Bounds(function.ops, function.nonscalar, arity, bounds)
