"""The terminal view of reports (rich). Colour only on a terminal, never with NO_COLOR."""

from __future__ import annotations

from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ..counts import FIELDS
from .numbers import fmt, fmt_seconds

COUNT_HEADERS = {"sweeps": "sweeps", "primitive_evals": "prims", "partial_evals": "partials",
                 "multiplications": "mults", "additions": "adds", "paths": "paths",
                 "peak_values": "peak"}


MAX_ROWS = 50  # longer gradients are cut in the terminal view; --json has every entry


def new_table(title: str) -> Table:
    """The house style: a title on the left and light rules, so tables fit 80 columns."""
    return Table(title=title, title_justify="left", title_style="bold", box=box.SIMPLE_HEAD,
                 pad_edge=False)


def make_console(stderr: bool = False) -> Console:
    """stdout wraps tables to the terminal; stderr never wraps, so an error stays one line.

    No emoji codes: text such as "A:B:STEP" or a spec path must print as written, not as 🅱."""
    return Console(stderr=stderr, highlight=False, soft_wrap=stderr, emoji=False)


def counts_table(results: dict, timings: dict | None = None, title: str = "Cost") -> Table:
    """One row per mode. The primal pass is the same for every mode, so it goes in the title."""
    primitives = max((r.counts.primitive_evals for r in results.values()), default=0)
    table = new_table(f"{title}  (shared primal pass: {primitives:,} primitive evaluations)")
    table.add_column("mode", no_wrap=True)
    fields = [f for f in FIELDS if f != "primitive_evals"]
    for name in fields:
        table.add_column(COUNT_HEADERS[name], justify="right", overflow="fold")
    if timings is not None:
        table.add_column("time", justify="right", overflow="fold")
    for mode, result in results.items():
        counts = result.counts
        cells = [mode] + ["-" if getattr(counts, f) is None else f"{getattr(counts, f):,}"
                          for f in fields]
        if timings is not None:
            cells.append(fmt_seconds(timings.get(mode)))
        table.add_row(*cells)
    return table


def render_check(console: Console, check) -> None:
    if check is None:
        console.print("[dim]check: skipped (--no-check)[/dim]")
        return
    if check.status == "pass":
        error = f" (largest difference {check.max_error:.3g})" if check.max_error is not None \
            else ""
        console.print(f"[green]✓ check passed[/green]: {escape(check.method)}{error}")
    elif check.status == "fail":
        console.print(f"[red]✗ check FAILED[/red]: {escape(check.reason)}  "
                      f"[dim]({escape(check.method)})[/dim]")
    else:
        console.print(f"[yellow]- check skipped[/yellow]: {escape(check.reason)}")


def render_warnings(console: Console, warnings: list[str]) -> None:
    for warning in warnings:
        console.print(f"[yellow]warning:[/yellow] {escape(warning)}")


def render_grad(report, console: Console) -> None:
    graph = report.graph
    names = ", ".join(graph.input_names)
    single = len(graph.outputs) == 1
    if report.text is not None:
        joiner = ":" if "=" in report.text else " ="  # statements, or one formula
        console.print(f"[bold]f({escape(names)})[/bold]{joiner} {escape(report.text)}")
    elif not single:
        outputs = ", ".join(graph.output_names)
        console.print(f"[bold]f({escape(names)})[/bold] = ({escape(outputs[:2000])})")
    else:
        console.print(f"[bold]f({escape(names[:200])})[/bold]: {len(graph):,} nodes, "
                      f"{graph.edge_count:,} edges")
    if report.point is not None:
        where = ", ".join(f"{k} = {fmt(v)}" for k, v in report.point.items())
        values = ", ".join(fmt(v) for v in report.output_values)
        console.print(f"at {escape(where[:500])}:  f = {values}")
    console.print()
    if single:
        console.print(_gradient_table(report))
    else:
        console.print(_jacobian_table(report))
    agreement = report.agreement()
    if agreement is not None:
        console.print(f"modes agree: largest relative difference {agreement:.3g}")
    console.print()
    console.print(counts_table(report.results, report.timings))
    render_warnings(console, report.warnings)
    render_check(console, report.check)


def _gradient_table(report) -> Table:
    """One row per variable: its value (one column per mode run) and, if it fits, its formula."""
    numeric = report.point is not None
    modes = report.results if numeric else {}
    with_formula = report.formulas is not None and len(modes) <= 1
    table = new_table("Gradient")
    table.add_column("∂f/∂", no_wrap=True)
    for mode in modes:
        table.add_column(mode if len(modes) > 1 else "value", justify="right", no_wrap=True)
    if report.formulas is not None and len(modes) > 1:
        table.caption = "formulas: " + "; ".join(
            f"∂f/∂{name} = {report.formulas[0][k]}" for k, name in enumerate(report.wrt))
        table.caption_justify = "left"
    if with_formula:
        table.add_column("formula", overflow="fold")
    for k, name in enumerate(report.wrt[:MAX_ROWS]):
        cells = [name] + [fmt(result.jacobian[0][k]) for result in modes.values()]
        if with_formula:
            cells.append(escape(str(report.formulas[0][k])))
        table.add_row(*cells)
    if len(report.wrt) > MAX_ROWS:
        table.add_row(f"... {len(report.wrt) - MAX_ROWS:,} more (see --json, or pick with --wrt)")
    return table


def _jacobian_table(report) -> Table:
    numeric = report.point is not None
    table = new_table("Jacobian")
    table.add_column("output", overflow="fold")
    for name in report.wrt:
        table.add_column(f"∂/∂{name}", justify="right" if numeric else "left",
                         overflow="fold")
    for o, row in enumerate(report.jacobian):
        cells = []
        for k, value in enumerate(row):
            text = fmt(value) if numeric else str(value)
            if numeric and report.formulas is not None:
                text += f"\n[dim]{escape(str(report.formulas[o][k]))}[/dim]"
            cells.append(text if numeric else escape(text))
        table.add_row(escape(report.graph.output_names[o]), *cells)
    return table


def render_error(console: Console, error) -> None:
    """One line, ``backprop: error: <what>``, then the caret and the hint where known."""
    where = f"line {error.line}, column {error.column + 1}: " if error.line else ""
    console.print(f"backprop: error: {escape(where + error.message)}")
    for more in getattr(error, "more", ()):  # further problems (a spec's validation)
        console.print(f"backprop: error: {escape(more)}")
    if error.source is not None and error.column is not None:
        source, column = error.source, error.column
        if column > 60:  # keep the caret on screen in a long line
            source, column = "..." + source[column - 40:], 43
        console.print("  " + escape(source[:column + 40]))
        console.print("  " + " " * column + "^")
    if error.hint:
        console.print(f"  hint: {escape(error.hint)}")
