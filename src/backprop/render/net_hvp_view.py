"""How ``backprop net --hvp`` / ``--hessian`` shows H v: a section of the text view and the
``hvp`` key of the JSON document (docs/spec.md, "Hessian-vector products"). Formatting
only: every number, the per-block rows included, comes from jobs/net_hvp.py."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape

from backprop.jobs.net_hvp import HVP_RTOL, canonical_names, power
from backprop.jobs.net_report import NetReport
from backprop.render.console import fmt, new_table, print_table
from backprop.render.json_doc import number, numbers

MAX_ROWS = 50  # parameters listed one by one without --full (as net_view's tables)
MAX_HESSIAN = 12  # parameters whose Hessian is printed as rows in the text view


def _short(value: float) -> str:
    return f"{value:.4g}"


def cost_line(report: NetReport) -> str:
    counts = report.hvp.counts
    if report.engine == "scalar":
        return (f"cost: one forward sweep on the gradient program ({counts['program_ops']:,} "
                f"ops once, then {counts['arithmetic']:,} operations: "
                f"{counts['partial_evals']:,} partials, "
                f"{counts['multiplications']:,} mults, {counts['additions']:,} adds); forming "
                f"H by fwd-rev takes {counts['hessian_sweeps']:,} sweeps, "
                f"{counts['hessian_operations']:,} operations")
    return (f"cost: {counts['sweeps']} sweeps on the array graph: one tangent sweep "
            f"({counts['tangent_nodes']} array ops), one reverse sweep carrying R{{adjoint}} "
            f"({counts['reverse_rules']} array-op rules: VJPs and their changes); array "
            "rules, not scalar operations")


def check_line(report: NetReport) -> str:
    hvp = report.hvp
    figure = "" if hvp.difference is None else \
        f": largest relative difference {hvp.difference:.3g}"
    return f"H v check {hvp.status} against {hvp.method}{figure} (tolerance {power(HVP_RTOL)})"


def render_hvp(console: Console, report: NetReport, full: bool = False) -> None:
    hvp = report.hvp
    if hvp is None:
        return
    names = canonical_names(report.named, report.layers)
    console.print()
    console.print(f"[bold]H v[/bold]: the loss's Hessian over the {len(names):,} parameters "
                  f"times v: {escape(hvp.direction)}", soft_wrap=True)
    if full or len(names) <= MAX_ROWS:
        table = new_table("H v")
        for header in ("parameter", "v", "(H v)"):
            table.add_column(header, justify="left" if header == "parameter" else "right",
                             no_wrap=True)
        for name, v, hv in zip(names, hvp.vector.tolist(), hvp.product.tolist()):
            table.add_row(escape(name), fmt(v), fmt(hv))
    else:
        table = new_table("H v by layer")
        for header in ("parameters", "count", "|v|", "|H v|", "min", "max"):
            table.add_column(header, justify="left" if header == "parameters" else "right",
                             no_wrap=True)
        for label, size, vnorm, hnorm, low, high in hvp.blocks:
            table.add_row(label, f"{size:,}", *(_short(x) for x in (vnorm, hnorm, low, high)))
    print_table(console, table)
    _render_hessian(console, names, hvp.hessian)
    console.print(escape(cost_line(report)))
    colour = {"pass": "green", "fail": "red"}.get(hvp.status, "yellow")
    console.print(f"[{colour}]{escape(check_line(report))}[/{colour}]")


def _render_hessian(console: Console, names: list[str], hessian) -> None:
    if hessian is None:
        return
    if len(names) > MAX_HESSIAN:
        console.print(f"Hessian: {len(names)} × {len(names)} (--json has every entry)")
        return
    console.print(f"Hessian ({len(names)} × {len(names)}, rows and columns in the order above):")
    width = max(len(n) for n in names)
    for name, row in zip(names, hessian):
        console.print(f"  {escape(name.ljust(width))}  " + "  ".join(f"{h:10.4g}" for h in row),
                      soft_wrap=True)


def hvp_document(report: NetReport, full: bool = False) -> dict | None:
    """The ``hvp`` key: the direction, H v (every entry up to MAX_ROWS parameters or with
    --full), per-block summaries, what was counted, the check, and H with --hessian."""
    hvp = report.hvp
    if hvp is None:
        return None
    names = canonical_names(report.named, report.layers)
    listed = full or len(names) <= MAX_ROWS
    return {
        "engine": report.engine,
        "direction": hvp.direction,
        "parameters": len(names),
        "names": names if listed else None,
        "vector": numbers(hvp.vector.tolist()) if listed else None,
        "product": numbers(hvp.product.tolist()) if listed else None,
        "blocks": [{"name": label, "entries": size, "v_norm": number(vn),
                    "hv_norm": number(hn), "min": number(lo), "max": number(hi)}
                   for label, size, vn, hn, lo, hi in hvp.blocks],
        "counts": dict(hvp.counts),
        "check": {"status": hvp.status, "against": hvp.method,
                  "difference": number(hvp.difference), "tolerance": HVP_RTOL},
        "hessian": None if hvp.hessian is None else [numbers(row) for row in hvp.hessian],
    }
