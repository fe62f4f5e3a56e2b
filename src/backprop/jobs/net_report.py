"""What ``backprop net`` returns: a NetReport, plain data for the renderers.

Both engines (``net_scalar``, ``net_array``) fill the same record: the loss, the named
parameters, each weight matrix's unnamed entries with every mode's gradients, each
mode's counts, and the check. Everything a view shows is computed here or in the job,
never in render/ (the sum of a path listing included).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

from backprop.check.check import CheckResult
from backprop.engine.counts import Counts
from backprop.engine.modes import relative_difference
from backprop.frontends.spec import Spec

FD_SEED = 0  # the seed of every sample a check takes (SymPy's or finite differences')


@dataclass
class LayerGradient:
    """One weight matrix or bias vector: its unnamed entries' values and gradients."""

    layer: str
    kind: str  # "W" or "b"
    shape: tuple[int, ...]
    names: list[str]  # entry names, row-major (named entries are left out)
    values: Any  # flat, same order as names
    gradients: dict[str, Any]  # mode -> flat gradients
    mask: Any = None  # array engine: which flat entries are unnamed (None: all)
    summaries: dict[str, tuple[float, float, float]] = field(default_factory=dict)
    # mode -> (norm, min, max) of its gradients, for the per-layer table (see finish)


@dataclass
class ModeRun:
    mode: str
    counts: Counts
    seconds: float | None
    ran: bool = True  # False: counted exactly, not run (refused by a limit)
    jacobian: list[float] | None = None  # scalar engine: dL/d(every graph input)


@dataclass
class PathTerm:
    """One path from a parameter to L and the local partials along it (scalar engine)."""

    nodes: list[str]  # the parameter, the labelled nodes on the way (z, a), and L
    factors: list[float]  # one local partial per edge
    product: float
    kept: list[bool]  # False for the factors of 1 that sums contribute (left out in print)


@dataclass(frozen=True)
class NetHvp:
    """H v of the loss over the parameters (``--hvp``, ``--hessian``; jobs/net_hvp.py):
    flat arrays in the canonical order (named parameters, then every layer's entries)."""

    direction: str  # how v was chosen
    vector: Any
    product: Any  # H v
    by_hessian: Any  # H times v (scalar engine), else None
    by_differences: Any  # central differences of the gradient along v
    difference: float | None  # the largest relative difference from either reference
    status: str  # "pass", "fail" or "skipped"
    method: str  # what it was checked against
    counts: dict[str, int]  # what the engine counted (docs/spec.md, "H v")
    hessian: list[list[float]] | None = None  # --hessian: H, canonical order
    blocks: list[tuple[str, int, float, float, float, float]] = field(default_factory=list)
    # (named parameters or layer.W/.b, entries, |v|, |H v|, min and max of H v), by summarize


@dataclass(frozen=True)
class NetReport:
    spec: Spec
    engine: str  # "scalar" or "array"
    engine_reason: str
    size: dict[str, int]  # this engine's nodes and edges; scalar_bound: spec.scalar_size
    loss: float
    named: dict[str, float]  # name -> value
    named_gradients: dict[str, dict[str, float]]  # mode -> name -> gradient
    layers: list[LayerGradient]
    runs: dict[str, ModeRun]  # run or counted-only, in mode order
    refused: dict[str, str]
    check: CheckResult | None
    warnings: list[str] = field(default_factory=list)
    selected: list[str] | None = None  # --param, as entry or parameter names
    paths: dict[str, list[PathTerm]] = field(default_factory=dict)  # --param on small nets
    path_sums: dict[str, float] = field(default_factory=dict)  # each listing's sum
    strict_error: str | None = None  # --strict's verdict: why the command exits 4
    mode_difference: float | None = None  # how closely the modes agree, by finish()
    hvp: NetHvp | None = None  # --hvp / --hessian
    graph: Any = field(default=None, repr=False)  # scalar engine: the Graph and its values
    values: Any = field(default=None, repr=False)

    @property
    def reference(self) -> str:
        for mode in ("reverse", "forward", "paths"):
            if mode in self.runs and self.runs[mode].ran:
                return mode
        raise LookupError("no mode ran")

    @property
    def parameter_count(self) -> int:
        return len(self.named) + sum(len(g.names) for g in self.layers)

    def gradient(self, name: str, mode: str | None = None) -> float:
        """One parameter's gradient (named or an entry name), from ``mode`` or the reference."""
        mode = mode or self.reference
        if name in self.named:
            return self.named_gradients[mode][name]
        for group in self.layers:
            if name.startswith(f"{group.layer}.{group.kind}["):
                return float(group.gradients[mode][group.names.index(name)])
        raise KeyError(name)


def finish(report: NetReport, **changes) -> NetReport:
    """The report with ``changes`` and what the views show beyond the gradients, computed
    once here (render/ only formats): each layer's gradient summary per mode, and how
    closely the modes agree."""
    layers = [replace(group, summaries={mode: summary(values)
                                        for mode, values in group.gradients.items()})
              for group in report.layers]
    done = replace(report, layers=layers, **changes)
    return replace(done, mode_difference=_mode_difference(done))


def _mode_difference(report: NetReport) -> float | None:
    """Largest relative difference between the modes that ran (None if only one did)."""
    ran = [m for m, r in report.runs.items() if r.ran]
    if len(ran) < 2:
        return None
    ref = report.reference
    worst = 0.0
    for mode in ran:
        for name, value in report.named_gradients[mode].items():
            worst = max(worst, relative_difference(value, report.named_gradients[ref][name]))
        for group in report.layers:
            for a, b in zip(flat_list(group.gradients[mode]), flat_list(group.gradients[ref])):
                worst = max(worst, relative_difference(a, b))
    return worst


def flat_list(values) -> list[float]:
    return values.tolist() if hasattr(values, "tolist") else list(values)


def summary(values) -> tuple[float, float, float]:
    """(L2 norm, min, max) of a flat list or array."""
    if hasattr(values, "dtype"):
        import numpy as np

        if not values.size:
            return 0.0, 0.0, 0.0
        return float(np.linalg.norm(values)), float(values.min()), float(values.max())
    items = flat_list(values)
    if not items:
        return 0.0, 0.0, 0.0
    return math.sqrt(math.fsum(v * v for v in items)), min(items), max(items)

