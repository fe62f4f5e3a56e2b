"""The terminal view of ``hessian``: f and the point, the Hessian table, one cost row per
pairing and the verdict, symmetry and agreement, H v, the check. Formatting only."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape

from backprop.render.console import (MAX_ROWS, new_table, print_table, render_check,
                                     render_warnings)
from backprop.render.hessian_text import (COST_KEY, COST_TITLE, cost_cells, cost_headers,
                                          hvp_lines, quality_lines)
from backprop.render.numbers import fmt


def render_hessian(report, console: Console) -> None:
    names = ", ".join(report.graph.input_names)  # all of f's inputs; H is over report.wrt
    console.print(f"[bold]f({escape(names[:200])})[/bold] = {escape(report.text or '')}")
    if report.point is not None:
        where = ", ".join(f"{k} = {fmt(v)}" for k, v in list(report.point.items())[:100])
        console.print(f"at {escape(where[:500])}:  f = {fmt(report.value)}")
    else:
        console.print(f"f = {escape(str(report.value))}")
    console.print()
    print_table(console, _hessian_table(report))
    for line in quality_lines(report):
        console.print(line)
    if report.symmetry is not None or report.agreement is not None:
        console.print()
    print_table(console, _costs_table(report))
    console.print(f"[dim]{COST_KEY}[/dim]")
    console.print(f"verdict: {escape(report.verdict)}")
    console.print()
    for line in hvp_lines(report):
        console.print(escape(line))
    if report.hvp is not None:
        console.print()
    render_warnings(report.warnings)
    render_check(console, report.check)
    if report.explanation is not None:
        from backprop.render.explain_view import render_explanation

        render_explanation(report.explanation, console)


def _hessian_table(report):
    """H by the first pairing run: a row and a column per variable (the first MAX_ROWS)."""
    first = next(iter(report.pairings.values()))
    numeric = report.point is not None
    shown = report.wrt[:MAX_ROWS]
    table = new_table(f"Hessian ({first.name})")
    table.add_column("", no_wrap=True)
    for name in shown:
        table.add_column(f"∂/∂{name}", justify="right" if numeric else "left",
                         overflow="fold")
    for k, name in enumerate(shown):
        row = first.hessian[k][:MAX_ROWS]
        table.add_row(f"∂²f/∂{escape(name)}", *(escape(fmt(h)) for h in row))
    if len(report.wrt) > MAX_ROWS:
        table.add_row(f"... {len(report.wrt) - MAX_ROWS:,} more (see --json)")
    return table


def _costs_table(report):
    """One row per pairing: the gradient program, then the second mode's own counts."""
    table = new_table(COST_TITLE)
    for k, header in enumerate(cost_headers()):
        table.add_column(header, justify="left" if k == 0 else "right", no_wrap=True)
    for name, pairing in report.pairings.items():
        table.add_row(*cost_cells(pairing, report.timings.get(name)))
    for name, why in report.refused.items():
        table.add_row(name, f"not run: {escape(why)}")
    return table
