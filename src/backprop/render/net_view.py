"""How ``backprop net`` shows a NetReport: rich tables on a terminal, or one JSON document.

Named parameters get a table of values and gradients; weight matrices get one summary row
each (shape, entries, norm, min, max of the gradient), or every entry with ``--full``.
The JSON shape is documented in docs/spec.md ("JSON").
"""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape

from backprop.jobs.net_report import NetReport, flat_list
from backprop.render.console import (counts_table, fmt, new_table, print_table, render_check,
                      render_warnings)
from backprop.render.json_doc import JSON_VERSION, check_document, number
from backprop.render.net_hvp_view import hvp_document, render_hvp
from backprop.render.numbers import counted

MAX_ROWS = 50  # rows of a selection shown without --full
MAX_TABLE_ROWS = 2_000  # beyond this, --full prints plain lines instead of a table


def _short(value: float) -> str:
    return f"{value:.4g}"


def network_line(report: NetReport) -> str:
    spec = report.spec
    acts = ", ".join(layer.activation for layer in spec.layers)
    named = f" ({len(spec.params)} named)" if spec.params else ""
    return (f"network {spec.shape_text()} ({acts}), {spec.loss} loss, "
            f"{counted(spec.batch, 'example')}, "
            f"{counted(report.parameter_count, 'parameter')}{named}")


def engine_line(report: NetReport) -> str:
    size = report.size
    if report.engine == "scalar":
        what = f"scalar graph, {counted(size['nodes'], 'node')}, {counted(size['edges'], 'edge')}"
    else:
        what = f"array graph, {size['nodes']} array nodes, VJPs and JVPs"
    return f"engine: {what} ({report.engine_reason})"


def _value_of(report: NetReport, name: str) -> float:
    if name in report.named:
        return report.named[name]
    for group in report.layers:
        if name in group.names:
            return float(group.values[group.names.index(name)])
    raise KeyError(name)


def _ran(report: NetReport) -> list[str]:
    return [m for m, run in report.runs.items() if run.ran]


def _rows_table(report: NetReport, title: str, names) -> object:
    """Name, value and gradient (the reference mode's; --json has every mode's)."""
    ref = report.reference
    if len(_ran(report)) > 1:
        title += f" ({ref} mode)"
    table = new_table(title)
    table.add_column("parameter", no_wrap=True)
    table.add_column("value", justify="right", no_wrap=True)
    table.add_column("∂L/∂", justify="right", no_wrap=True)
    for name in names:
        table.add_row(escape(name), fmt(float(_value_of(report, name))),
                      fmt(report.gradient(name, ref)))
    return table


def _layers_table(report: NetReport) -> object:
    ref = report.reference
    table = new_table(f"Gradient by layer ({ref} mode)")
    table.caption = "--full lists every entry, --param picks some"
    table.caption_justify = "left"
    table.add_column("weights", no_wrap=True)
    table.add_column("shape", justify="right", no_wrap=True)
    table.add_column("count", justify="right", no_wrap=True)
    table.add_column("norm", justify="right", no_wrap=True)
    table.add_column("min", justify="right", no_wrap=True)
    table.add_column("max", justify="right", no_wrap=True)
    for group in report.layers:
        if not len(group.names):
            continue
        norm, low, high = group.summaries[ref]
        shape = "×".join(str(s) for s in group.shape)
        table.add_row(f"{group.layer}.{group.kind}", shape, f"{len(group.names):,}",
                      _short(norm), _short(low), _short(high))
    return table


def _print_lines(console: Console, report: NetReport, names) -> None:
    """Every entry as a plain tab-separated line: name, value, gradient (reference mode)."""
    ref = report.reference
    lines = [f"parameter\tvalue\tdL/d ({ref})"]
    for name in names:
        lines.append(f"{name}\t{fmt(float(_value_of(report, name)))}\t"
                     f"{fmt(report.gradient(name, ref))}")
    console.file.write("\n".join(lines) + "\n")


def _entry_names(report: NetReport):
    for group in report.layers:
        yield from group.names


def render_net(report: NetReport, console: Console, full: bool = False) -> None:
    spec = report.spec
    title = f": {spec.name}" if spec.name else ""
    console.print(f"[bold]{escape(spec.source)}[/bold]{escape(title)}", soft_wrap=True)
    console.print(escape(network_line(report)), soft_wrap=True)
    console.print(escape(engine_line(report)), soft_wrap=True)
    console.print(f"loss L = {fmt(report.loss)}", soft_wrap=True)
    console.print()
    if report.selected is not None:
        names = report.selected if full else report.selected[:MAX_ROWS]
        if len(names) > MAX_TABLE_ROWS:
            _print_lines(console, report, names)
        else:
            print_table(console, _rows_table(report, "Gradient", names))
        if len(names) < len(report.selected):
            console.print(f"... {len(report.selected) - len(names):,} more selected "
                          "(--full lists them all)")
        _render_paths(console, report)
    else:
        if report.named:
            print_table(console, _rows_table(report, "Named parameters", list(report.named)))
        entries = sum(len(g.names) for g in report.layers)
        if entries and full:
            if entries > MAX_TABLE_ROWS:
                _print_lines(console, report, _entry_names(report))
            else:
                print_table(console,
                            _rows_table(report, "Weights and biases", _entry_names(report)))
        elif entries:
            print_table(console, _layers_table(report))
    agreement = report.mode_difference
    if agreement is not None:
        console.print(f"modes agree: largest relative difference {agreement:.3g}")
    console.print()
    label = {m: m if run.ran else f"{m}*" for m, run in report.runs.items()}
    results = {label[m]: run for m, run in report.runs.items()}
    timings = {label[m]: run.seconds for m, run in report.runs.items()}
    print_table(console, counts_table(results, timings))
    if any(not run.ran for run in report.runs.values()):
        console.print("* counted exactly, not run", soft_wrap=True)
    render_warnings([f"{m} mode not run: {why}" for m, why in report.refused.items()]
                    + report.warnings)
    render_check(console, report.check)
    render_hvp(console, report, full)


def _render_paths(console: Console, report: NetReport) -> None:
    for name, terms in report.paths.items():
        console.print(f"[bold]{counted(len(terms), 'path')} from {escape(name)} to L[/bold]: the "
                      "product of the local partials along each (factors of 1 from sums "
                      "left out)", soft_wrap=True)
        for term in terms:
            factors = [f for f, kept in zip(term.factors, term.kept) if kept]
            product = " × ".join(_short(f) for f in factors) or "1"
            console.print("  " + escape(" → ".join(term.nodes)), soft_wrap=True)
            console.print(f"    = {escape(product)} = {fmt(term.product)}", soft_wrap=True)
        if terms:
            console.print(f"  ∂L/∂{escape(name)} = {fmt(report.path_sums[name])}")


# --------------------------------------------------------------------------- JSON


def _gradient_values(report: NetReport, name: str) -> dict:
    return {mode: number(report.gradient(name, mode)) for mode in _ran(report)}


def net_document(report: NetReport, full: bool = False) -> dict:
    """Everything ``backprop net`` computed, as plain data (docs/spec.md, "JSON")."""
    spec = report.spec
    modes = _ran(report)
    layers = []
    for group in report.layers:
        entry = {"name": f"{group.layer}.{group.kind}", "layer": group.layer,
                 "kind": group.kind, "shape": list(group.shape), "entries": len(group.names),
                 "summary": {}}
        for mode in modes:
            norm, low, high = group.summaries[mode]
            entry["summary"][mode] = {"norm": number(norm), "min": number(low),
                                      "max": number(high)}
        if full:
            entry["names"] = list(group.names)
            entry["values"] = [number(v) for v in flat_list(group.values)]
            entry["gradients"] = {mode: [number(v) for v in flat_list(group.gradients[mode])]
                                  for mode in modes}
        layers.append(entry)
    document = {
        "version": JSON_VERSION,
        "command": "net",
        "spec": spec.source,
        "name": spec.name,
        "network": {
            "shape": [spec.features] + [layer.units for layer in spec.layers],
            "layers": [{"name": layer.name, "activation": layer.activation,
                        "inputs": layer.inputs, "units": layer.units, "bias": layer.has_bias,
                        "generated": layer.init is not None} for layer in spec.layers],
            "loss": spec.loss,
            "batch": spec.batch,
            "parameters": report.parameter_count,
            "entries": spec.parameters,
        },
        "engine": {"name": report.engine, "reason": report.engine_reason, **report.size},
        "loss": number(report.loss),
        "parameters": {name: {"value": number(value),
                              "gradient": _gradient_values(report, name)}
                       for name, value in report.named.items()},
        "layers": layers,
        "selected": None if report.selected is None else {
            name: {"value": number(_value_of(report, name)),
                   "gradient": _gradient_values(report, name)}
            for name in report.selected},
        "paths": {name: [{"nodes": t.nodes, "factors": [number(f) for f in t.factors],
                          "product": number(t.product)} for t in terms]
                  for name, terms in report.paths.items()},
        "modes": {mode: {"ran": run.ran, "counts": run.counts.as_dict(),
                         "seconds": run.seconds} for mode, run in report.runs.items()},
        "refused": report.refused,
        "agreement": report.mode_difference,
        "check": check_document(report.check),
        "warnings": report.warnings,
    }
    if report.hvp is not None:  # only with --hvp / --hessian: other documents are unchanged
        document["hvp"] = hvp_document(report, full)
    return document
