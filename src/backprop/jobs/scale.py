"""The ``scale`` job as plain data: one graph family over a range of sizes, every mode's cost.

Per size: the graph's shape, each mode's exact counts and measured time (modes over a limit
are estimated, not run, exactly as in ``compare``; times on the pure-Python engine, warmed
up and repeated by jobs/timing.py). Per mode: the fitted growth of its passes (sweeps or
paths) and of its operations, both exact counts, and of its measured time.

A count's fit is a least squares line through log(value) against size (exponential: a
factor per step) and against log(size) (polynomial: an exponent); exponential wins only
when its residual is less than half the polynomial's. A time is fitted with the model its
operations follow (the counts say how the work grows; the time says at what rate), and
shown with R², the share of log(time)'s variance the line explains. A time series that
stays within ``FLAT_SPAN`` from its smallest to its largest figure is called flat, never
given a model, and one whose line explains less than ``MIN_R2`` of it, or falls as the
sizes grow, is called noise.
Only the larger half of the sizes is fitted (at least 3 of them), so that
the constant terms of small sizes do not blur the asymptotic growth.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

from typing import Any

from backprop.jobs.compare import ModeCost, cost_modes, median_time, random_point, Timing
from backprop.jobs.timing import NOISE_FLOOR, PYTHON
from backprop.errors import InputError, LimitError
from backprop.engine.evaluate import evaluate
from backprop.frontends.families import FAMILIES, Family
from backprop.limits import Limits
from backprop.engine.modes import MODES
from backprop.jobs.sparse import sparse_costs

DEFAULT_REPEATS = 3
TIME_BUDGET = 0.5  # seconds per measurement
MAX_SIZES = 200  # sizes per run
MIN_FIT_POINTS = 3
FLAT_SPAN = 1 + 2 * NOISE_FLOOR  # a time series within ×1.5 end to end is flat
MIN_R2 = 0.5  # a time fit that explains less than half of log(time)'s variance: noise


def get_family(name: str) -> Family:
    family = FAMILIES.get(name.strip().lower())
    if family is None:
        raise InputError(f"unknown family {name!r}", hint="families: " + ", ".join(FAMILIES))
    return family


def parse_sizes(text: str, family: Family, max_nodes: int) -> list[int]:
    """``A:B`` (every size from A to B), ``A:B:STEP``, or a list ``1,2,4,8``."""
    text = text.strip()
    try:
        if ":" in text:
            parts = [int(p) for p in text.split(":")]
            if len(parts) not in (2, 3):
                raise ValueError
            start, stop, step = parts[0], parts[1], parts[2] if len(parts) == 3 else 1
            if step < 1:
                raise InputError(f"--sizes {text}: the step must be at least 1")
            if start > stop:
                raise InputError(f"--sizes {text}: the range is empty ({start} > {stop})",
                                 hint=f"write --sizes {stop}:{start}")
            if (stop - start) // step + 1 > MAX_SIZES:
                raise LimitError(f"--sizes {text} gives {(stop - start) // step + 1:,} sizes, "
                                 f"over the limit of {MAX_SIZES}",
                                 hint="use a step: --sizes A:B:STEP")
            sizes = list(range(start, stop + 1, step))
        else:
            sizes = [int(p) for p in text.split(",") if p.strip()]
    except ValueError:
        raise InputError(f"--sizes {text!r}: expected A:B, A:B:STEP or a list like 1,2,4",
                         hint="for example --sizes 1:12") from None
    if not sizes:
        raise InputError("--sizes names no size", hint="for example --sizes 1:12")
    if len(sizes) > MAX_SIZES:
        raise LimitError(f"--sizes gives {len(sizes):,} sizes, over the limit of {MAX_SIZES}")
    if min(sizes) < 1:
        raise InputError(f"--sizes {text}: sizes start at 1 (got {min(sizes)})")
    if max(sizes) > family.max_size:
        raise LimitError(f"size {max(sizes):,} is over the {family.name} family's limit of "
                         f"{family.max_size:,} {family.size_name}",
                         hint=f"choose sizes up to {family.max_size:,}")
    nodes = family.nodes(max(sizes))
    if nodes > max_nodes:
        raise LimitError(f"{family.name} at size {max(sizes):,} has {nodes:,} nodes, over "
                         f"--max-nodes {max_nodes:,}", hint="choose smaller sizes")
    return sizes


@dataclass(frozen=True)
class Fit:
    model: str | None  # constant, linear, polynomial, exponential; times also flat, noise
    exponent: float | None = None  # polynomial: value ~ size^exponent
    factor: float | None = None  # exponential: value ~ factor^size; flat: largest / smallest
    points: int = 0
    r2: float | None = None  # times: the share of log(time)'s variance the line explains

    @property
    def text(self) -> str:
        if self.model is None:
            return f"too few sizes to fit (need {MIN_FIT_POINTS})"
        quality = "" if self.r2 is None else f" (R² {self.r2:.2f})"
        if self.model == "flat":
            return f"flat: within the noise (×{self.factor:.2f} end to end)"
        if self.model == "noise":
            return f"no clear growth: noise{quality}"
        if self.model == "polynomial":
            return f"polynomial, n^{self.exponent:.2f}{quality}"
        if self.model == "exponential":
            return f"exponential, ×{self.factor:.2f} per +1{quality}"
        return self.model + quality

    def as_dict(self) -> dict:
        return {"model": self.model, "exponent": self.exponent, "factor": self.factor,
                "points": self.points, "r2": self.r2, "text": self.text}


def _line(xs: list[float], ys: list[float]) -> tuple[float, float]:
    """Least squares slope and residual sum of squares of y against x."""
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx if sxx else 0.0
    residual = sum((y - my - slope * (x - mx)) ** 2 for x, y in zip(xs, ys))
    return slope, residual


def _fitted(sizes: list[int], values: list[float | int | None]) -> list[tuple[int, float]]:
    """The (size, value) pairs a fit uses: positive values, the larger half of the sizes
    (at least MIN_FIT_POINTS); empty when there are fewer sizes than that."""
    pairs = sorted((s, v) for s, v in zip(sizes, values) if v is not None and v > 0)
    if len({s for s, _ in pairs}) < MIN_FIT_POINTS:
        return []
    return pairs[-max(MIN_FIT_POINTS, (len(pairs) + 1) // 2):]


def fit_time(sizes: list[int], seconds: list[float | None], counts: Fit) -> Fit:
    """A time series fitted with the model of the counts ``counts`` (their fit), with its
    R²; flat when it stays within FLAT_SPAN end to end, whatever the counts do."""
    pairs = _fitted(sizes, seconds)
    if not pairs:
        return Fit(None, points=sum(1 for v in seconds if v))
    ys = [math.log(v) for _, v in pairs]
    span = math.exp(max(ys) - min(ys))
    if span < FLAT_SPAN:
        return Fit("flat", factor=span, points=len(pairs))
    exponential = counts.model == "exponential"
    xs = [float(s) if exponential else math.log(s) for s, _ in pairs]
    slope, residual = _line(xs, ys)
    mean = sum(ys) / len(ys)
    total = sum((y - mean) ** 2 for y in ys)
    r2 = 1 - residual / total if total else 1.0
    if r2 < MIN_R2 or slope < 0:  # a time that falls as the work grows is noise too
        return Fit("noise", factor=span, points=len(pairs), r2=r2)
    if exponential:
        return Fit("exponential", factor=math.exp(slope), points=len(pairs), r2=r2)
    model = "constant" if abs(slope) < 0.15 else "linear" if abs(slope - 1) < 0.15 \
        else "polynomial"
    return Fit(model, exponent=slope, points=len(pairs), r2=r2)


def fit_growth(sizes: list[int], values: list[float | int | None]) -> Fit:
    """Choose between value ~ size^k and value ~ f^size on the larger half of the sizes."""
    pairs = _fitted(sizes, values)
    if not pairs:
        return Fit(None, points=sum(1 for v in values if v is not None and v > 0))
    ys = [math.log(v) for _, v in pairs]
    if max(ys) - min(ys) < 1e-9:
        return Fit("constant", exponent=0.0, points=len(pairs))
    k, poly_residual = _line([math.log(s) for s, _ in pairs], ys)
    b, exp_residual = _line([float(s) for s, _ in pairs], ys)
    if exp_residual < poly_residual * 0.5 and b > 0:  # exponential only when clearly better
        return Fit("exponential", factor=math.exp(b), points=len(pairs))
    model = "constant" if abs(k) < 0.15 else "linear" if abs(k - 1) < 0.15 else "polynomial"
    return Fit(model, exponent=k, points=len(pairs))


@dataclass(frozen=True)
class SizeRow:
    size: int
    nodes: int
    edges: int
    inputs: int
    outputs: int
    depth: int
    evaluation: Timing
    costs: dict[str, ModeCost]
    sparse: Any = None  # jobs/sparse.SparseReport: families with several outputs


@dataclass(frozen=True)
class ScaleResult:
    family: Family
    sizes: list[int]
    rows: list[SizeRow]
    limits: Limits
    seed: int
    fits: dict[str, dict[str, Fit]] = field(default_factory=dict)  # mode -> quantity -> fit


def family_sizes(family: Family, sizes_text: str | None, limits: Limits,
                 repeats: int) -> list[int]:
    """--sizes (else the family's own) within --max-nodes, and --repeat at least 1."""
    if repeats < 1:
        raise InputError(f"--repeats must be at least 1 (got {repeats})")
    return parse_sizes(family.default_sizes if sizes_text is None else sizes_text, family,
                       limits.max_nodes)


def sized_graphs(family: Family, sizes: list[int], seed: int, progress=None):
    """Each size's graph and its seeded random point, telling ``progress(done, total,
    label)`` (render/progress.py) as each begins."""
    for done, size in enumerate(sizes):
        if progress is not None:
            progress(done, len(sizes), f"{family.size_name} {size:,}")
        graph = family.build(size)
        yield size, graph, random_point(graph, seed)


def scale(family_name: str, sizes_text: str | None = None, *, limits: Limits | None = None,
          repeats: int = DEFAULT_REPEATS, seed: int = 0,
          budget: float = TIME_BUDGET, progress=None) -> ScaleResult:
    limits = limits or Limits()
    family = get_family(family_name)
    sizes = family_sizes(family, sizes_text, limits, repeats)
    warm_up = family.build(1)  # first calls pay one-time costs: keep them out of size 1
    cost_modes(warm_up, evaluate(warm_up, random_point(warm_up, seed)), list(warm_up.inputs),
               limits, 1, budget)
    rows = []
    for size, graph, point in sized_graphs(family, sizes, seed, progress):
        values = evaluate(graph, point)
        _, evaluation = median_time(lambda: evaluate(graph, point, PYTHON), repeats, budget)
        costs = cost_modes(graph, values, list(graph.inputs), limits, repeats, budget)
        sparse = sparse_costs(graph, values, list(graph.inputs), limits, costs) \
            if len(graph.outputs) > 1 else None
        # only the counts and times are kept per size
        costs = {mode: replace(cost, jacobian=None) for mode, cost in costs.items()}
        rows.append(SizeRow(size, len(graph), graph.edge_count, len(graph.inputs),
                            len(graph.outputs), graph.depth, evaluation, costs, sparse))
        del graph, values
    fits = {}
    for mode in MODES:
        costs = [row.costs[mode] for row in rows]
        operations = fit_growth(sizes, [c.operations for c in costs])
        fits[mode] = {
            "passes": fit_growth(sizes, [c.passes for c in costs]),
            "operations": operations,
            "seconds": fit_time(sizes, [c.seconds for c in costs], operations),
        }
    return ScaleResult(family, sizes, rows, limits, seed, fits)


# -- --order 2: the Hessian's pairings as n grows -----------------------------------------

PAIRING_QUANTITIES = ("sweeps", "program_nodes", "multiplications", "operations", "seconds")


@dataclass(frozen=True)
class PairingSizeRow:
    size: int
    nodes: int
    inputs: int
    evaluation: Timing
    costs: dict  # pairing -> jobs.pairings.PairingCost (its Hessian dropped)


@dataclass(frozen=True)
class PairingScaleResult(ScaleResult):
    """A ScaleResult whose rows are PairingSizeRows and whose fits are per pairing."""


def check_grows_inputs(family: Family) -> None:
    """Second order scales a family of f: R^n -> R whose n grows; refuse the others."""
    small, larger = family.build(1), family.build(2)
    if len(larger.outputs) != 1 or len(larger.inputs) <= len(small.inputs):
        what = (f"{len(larger.outputs)} outputs" if len(larger.outputs) != 1 else
                f"{len(small.inputs)} input at every size")
        fitting = [f.name for f in FAMILIES.values()
                   if len(f.build(2).inputs) > len(f.build(1).inputs)]
        raise InputError(f"scale --order 2 needs one output and inputs that grow with the "
                         f"size; {family.name} has {what}",
                         hint="families for --order 2: " + ", ".join(fitting))


def scale_pairings(family_name: str, sizes_text: str | None = None, *,
                   limits: Limits | None = None, repeats: int = DEFAULT_REPEATS,
                   seed: int = 0, budget: float = TIME_BUDGET,
                   progress=None) -> PairingScaleResult:
    """Each pairing's cost per size (jobs/hessian's counts) and its fitted growth."""
    from backprop.jobs.pairings import cost_pairings

    limits = limits or Limits()
    family = get_family(family_name)
    check_grows_inputs(family)
    sizes = family_sizes(family, sizes_text, limits, repeats)
    warm_up = family.build(1)  # first calls pay one-time costs: keep them out of size 1
    cost_pairings(warm_up, random_point(warm_up, seed), limits, 1, budget)
    rows = []
    for size, graph, point in sized_graphs(family, sizes, seed, progress):
        _, evaluation = median_time(lambda: evaluate(graph, point), repeats, budget)
        costs = cost_pairings(graph, point, limits, repeats, budget, refuse_all=False)
        costs = {name: cost if cost.pairing is None else
                 replace(cost, pairing=replace(cost.pairing, hessian=[]))
                 for name, cost in costs.items()}  # only the counts and times are kept
        rows.append(PairingSizeRow(size, len(graph), len(graph.inputs), evaluation, costs))
        del graph
    fits = {name: {quantity: fit_growth(sizes, [getattr(row.costs[name], quantity)
                                                for row in rows])
                   for quantity in PAIRING_QUANTITIES}
            for name in rows[0].costs}
    return PairingScaleResult(family, sizes, rows, limits, seed, fits)
