"""``backprop net``: a network spec's loss and every parameter's gradient, in any mode.

Two engines compute the same thing:

* the **scalar engine** (small networks, ``net_scalar``): ``spec.build_scalar_graph``
  makes a scalar Graph whose inputs are the parameters, and the ordinary modes, path
  enumeration and the SymPy check run on it unchanged;
* the **array engine** (larger networks, ``net_array``): a small graph of array-valued
  nodes run on the array op table (``engine/arrays.py``): one sweep of VJPs, one JVP per
  weight entry, and central finite differences as the check.

Counts are exact on both: the scalar engine's are the modes' own; the array engine's are
those of the same scalar graph, from ``net_counts`` (tests check both agree).
``peak_values`` is each engine's own: the scalar graph's values, or the floats the array
engine holds. docs/spec.md has the details. This module picks the engine, runs it, and
applies ``--param`` and ``--strict``; ``net_report`` holds the NetReport it returns.
"""

from __future__ import annotations

import math

from backprop.errors import InputError, LimitError
from backprop.frontends.spec import Spec, load_spec, scalar_size
from backprop.jobs.net_array import run_array
from backprop.jobs.net_hvp import HESSIAN_LIMIT, refuse_hessian, summarize
from backprop.jobs.net_report import NetReport, finish, flat_list
from backprop.jobs.net_scalar import path_listing, run_scalar
from backprop.limits import Limits

SCALAR_ENGINE_LIMIT = 5_000  # scalar graphs up to this many nodes (upper bound) by default
ENGINES = ("auto", "scalar", "array")


def choose_engine(spec: Spec, engine: str, max_nodes: int) -> tuple[str, str]:
    if engine not in ENGINES:
        raise InputError(f"unknown engine {engine!r}", hint="choose one of: " + ", ".join(ENGINES))
    size = scalar_size(spec)
    if engine == "scalar":
        if size > max_nodes:
            raise LimitError(f"the {spec.shape_text()} network's scalar graph would have about "
                             f"{size:,} nodes, over --max-nodes {max_nodes:,}",
                             hint="use --engine array, or raise --max-nodes")
        return "scalar", "asked for with --engine scalar"
    if engine == "array":
        return "array", "asked for with --engine array"
    if size <= min(SCALAR_ENGINE_LIMIT, max_nodes):
        return "scalar", f"a scalar graph of at most {size:,} nodes: each parameter is an input"
    return "array", (f"its scalar graph would have about {size:,} nodes, over "
                     f"{min(SCALAR_ENGINE_LIMIT, max_nodes):,}")


def run_net(path: str, *, mode: str = "reverse", params: str | None = None,
            engine: str = "auto", run_check: bool = True, limits: Limits | None = None,
            strict: bool = False, hvp=None, text: str | None = None,
            progress=None) -> NetReport:
    """Load the spec, differentiate in the chosen modes, check, and return plain data;
    with ``hvp`` (a ``net_hvp.HvpRequest``), H v as well; with ``text``, that is the spec
    and ``path`` only names it. ``progress(done, total, label)``, if given, hears each stage
    begin (render/progress.py draws it)."""
    from backprop.jobs.common import modes_for

    limits = limits or Limits()
    modes = modes_for(mode)
    if progress is not None:
        progress(0, 2, "reading the spec")
    spec = load_spec(path, max_bytes=limits.max_bytes, max_values=limits.max_values,
                     max_units=limits.max_units, text=text)
    if hvp is not None and hvp.hessian:
        refuse_hessian(spec)
    chosen, reason = choose_engine(spec, engine, limits.max_nodes)
    if hvp is not None:
        chosen, reason = hvp_engine(spec, engine, chosen, reason, hvp.hessian,
                                    limits.max_nodes)
    if progress is not None:
        progress(1, 2, f"{', '.join(modes)}{' and the check' if run_check else ''} on the "
                       f"{chosen} engine")
    if chosen == "scalar":
        report = run_scalar(spec, modes, reason, run_check, limits.max_paths,
                            limits.check_timeout, limits.max_depth, hvp)
    else:
        report = run_array(spec, modes, reason, run_check, limits.max_paths, limits.max_jvps,
                           hvp)
    selected = select(report, params) if params is not None else None
    paths, path_sums = path_listing(report, selected, max_terms=12) \
        if selected is not None and chosen == "scalar" else ({}, {})
    if report.hvp is not None:
        report = summarize(report)
    warnings, strict_error = _non_finite(report, strict)
    return finish(report, warnings=[*spec.warnings, *report.warnings, *warnings],
                  selected=selected, paths=paths, path_sums=path_sums,
                  strict_error=strict_error)


def hvp_engine(spec: Spec, engine: str, chosen: str, reason: str, hessian: bool,
               max_nodes: int) -> tuple[str, str]:
    """H v on the scalar engine forms H to check it: over HESSIAN_LIMIT parameters, auto
    picks the array engine (its R-operator), and --engine scalar is refused before work;
    --hessian needs the scalar engine (auto picks it for any net --hessian takes)."""
    count = spec.parameters + len(spec.params)
    if hessian and engine == "array":
        raise InputError("--hessian needs the scalar engine", hint="drop --engine array, "
                         "or use --hvp")
    if hessian and chosen != "scalar":
        choose_engine(spec, "scalar", max_nodes)  # over --max-nodes: refused before work
        return "scalar", "--hessian: the scalar engine forms H"
    if chosen != "scalar" or count <= HESSIAN_LIMIT:
        return chosen, reason
    if engine == "scalar":
        raise LimitError(f"--hvp on the scalar engine forms the Hessian to check H v: up to "
                         f"{count:,} parameters, over {HESSIAN_LIMIT}",
                         hint="use --engine array (the R-operator), or drop --engine")
    return "array", (f"H v: up to {count:,} parameters, over {HESSIAN_LIMIT} for the scalar "
                     "engine's Hessian, so the array engine's R-operator")


def select(report: NetReport, text: str) -> list[str]:
    """--param: parameter names, entry names (layer1.W[0][1]), or a layer's W, b or all."""
    wanted = [item.strip() for item in text.split(",") if item.strip()]
    if not wanted:
        raise InputError("--param names no parameter", hint=_params_hint(report))
    chosen: list[str] = []
    for item in wanted:
        if item in report.named:
            found = [item]
        else:
            groups = [g for g in report.layers if item in (g.layer, f"{g.layer}.{g.kind}")]
            if groups:
                found = [n for g in groups for n in g.names] + _named_in(report.spec, item)
            else:
                found = [item for g in report.layers if item in g.names][:1]
        if not found:
            raise InputError(f"--param {item}: the network has no parameter {item!r}",
                             hint=_params_hint(report))
        chosen += [name for name in found if name not in chosen]
    return chosen


def _named_in(spec: Spec, item: str) -> list[str]:
    names = []
    for layer in spec.layers:
        if item in (layer.name, f"{layer.name}.W"):
            names += [e for row in (layer.weights or []) for e in row if isinstance(e, str)]
        if item in (layer.name, f"{layer.name}.b"):
            names += [e for e in (layer.bias or []) if isinstance(e, str)]
    return list(dict.fromkeys(names))


def _params_hint(report: NetReport) -> str:
    names = list(report.named)[:12]
    groups = [f"{g.layer}.{g.kind}" for g in report.layers if g.names]
    return "parameters: " + ", ".join(names + groups) + " (or an entry such as layer1.W[0][1])"


def _non_finite(report: NetReport, strict: bool) -> tuple[list[str], str | None]:
    """Warnings for a loss or gradients that are not finite, and --strict's verdict."""
    bad = []
    if not math.isfinite(report.loss):
        bad.append(f"the loss is {report.loss!r}")
    ref = report.reference
    count = sum(1 for v in report.named_gradients[ref].values() if not math.isfinite(v))
    count += sum(1 for g in report.layers for v in flat_list(g.gradients[ref])
                 if not math.isfinite(v))
    if count:
        bad.append(f"{count:,} gradient " + ("entry is" if count == 1 else "entries are")
                   + " not finite")
    warnings = [f"{text} (IEEE arithmetic)" for text in bad]
    verdict = "a result is not finite (--strict): " + "; ".join(bad) if strict and bad else None
    return warnings, verdict

