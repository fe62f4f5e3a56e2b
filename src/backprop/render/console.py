"""The terminal view of reports (rich). Colour only on a terminal, never with NO_COLOR."""

from __future__ import annotations

import sys
from itertools import islice

from rich import box
from rich.console import Console
from rich.markup import escape
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

from backprop.engine.counts import FIELDS
from backprop.render.numbers import counted, fmt, fmt_seconds

COUNT_HEADERS = {"sweeps": "sweeps", "primitive_evals": "prims", "partial_evals": "partials",
                 "multiplications": "mults", "additions": "adds", "paths": "paths",
                 "peak_values": "peak"}


MAX_ROWS = 50  # longer gradients are cut in the terminal view; --json has every entry


def new_table(title: str) -> Table:
    """The house style: a title on the left and light rules, so tables fit 80 columns."""
    return Table(title=title, title_justify="left", title_style="bold", box=box.SIMPLE_HEAD,
                 pad_edge=False)


def make_console(stderr: bool = False, stream=None) -> Console:
    """stdout wraps tables to the terminal; stderr never wraps, so an error stays one line;
    ``stream`` (an -o file's text) is written as stdout is when it is not a terminal.

    No emoji codes: text such as "A:B:STEP" or a spec path must print as written, not as 🅱.
    Lines lose the trailing spaces that rich pads tables with."""
    stream = stream if stream is not None else sys.stderr if stderr else sys.stdout
    return Console(file=_NoTrailingSpaces(stream), highlight=False, soft_wrap=stderr,
                   emoji=False)


class _NoTrailingSpaces:
    """A text stream that writes each finished line without its trailing spaces."""

    def __init__(self, stream) -> None:
        self._stream = stream
        self._pending = ""

    def write(self, text: str) -> int:
        lines = (self._pending + text).split("\n")
        self._pending = lines.pop()
        if lines:
            self._stream.write("\n".join(line.rstrip(" ") for line in lines) + "\n")
        return len(text)

    def flush(self) -> None:
        if self._pending:
            self._stream.write(self._pending)
            self._pending = ""
        self._stream.flush()

    def __getattr__(self, name: str):  # isatty, fileno, encoding: the stream's own
        return getattr(self._stream, name)


def print_table(console: Console, table: Table) -> None:
    """Print ``table`` so that no number is ever cut or folded: text columns give way
    (folding at spaces), and where even that does not fit, one "header: value" line per cell."""
    if fit_columns(console, table):
        console.print(table)
    else:
        print_stacked(console, table)


def fit_columns(console: Console, table: Table) -> bool:
    """Fix column widths so every word of every cell stays whole (no_wrap cells whole);
    False when that is wider than the console."""
    wide = console.options.update_width(1_000_000)
    spans = []
    for column in table.columns:
        sizes = [Measurement.get(console, wide, cell) for cell in [column.header, *column.cells]]
        longest = max(size.maximum for size in sizes)
        spans.append((longest if column.no_wrap else max(size.minimum for size in sizes),
                      longest))
    widest = sum(high for _, high in spans)
    room = console.width - (Measurement.get(console, wide, table).maximum - widest)
    if widest <= room:
        return True
    if sum(low for low, _ in spans) > room and any(table.padding):
        table.padding = (0, 0, 0, 0)  # one space between columns, then try again
        room = console.width - (Measurement.get(console, wide, table).maximum - widest)
    if sum(low for low, _ in spans) > room:
        return False
    widths = [low for low, _ in spans]
    spare = room - sum(widths)
    for k in sorted(range(len(spans)), key=lambda k: spans[k][1] - spans[k][0]):
        grow = min(spare, spans[k][1] - widths[k])
        widths[k] += grow
        spare -= grow
    for column, width in zip(table.columns, widths):
        column.width = max(width, 1)
    return True


def print_stacked(console: Console, table: Table) -> None:
    """The table for a narrow terminal: per row its first cell, then "header: cell" lines."""
    if table.title:
        console.print(table.title, style="bold")
    headers = [Text.from_markup(c.header).plain.replace("\n", " ") if isinstance(c.header, str)
               else str(c.header) for c in table.columns]
    for row in zip(*(column.cells for column in table.columns)):
        console.print(row[0], style="bold")
        for header, cell in zip(headers[1:], row[1:]):
            if isinstance(cell, str) and not cell:
                continue  # a row that fills only its first cell ("... 12 more")
            line = Text("  " + (f"{header}: " if header else ""))
            line.append(Text.from_markup(cell) if isinstance(cell, str) else cell)
            console.print(line)
    if table.caption:
        console.print(table.caption, style="dim")
    console.print()


def counts_table(results: dict, timings: dict | None = None, title: str = "Cost") -> Table:
    """One row per mode. The primal pass is the same for every mode, so it goes in the title."""
    primitives = max((r.counts.primitive_evals for r in results.values()), default=0)
    table = new_table(f"{title}  (shared primal pass: "
                      f"{counted(primitives, 'primitive evaluation')})")
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
    figures = check.differences()
    if check.status == "pass":
        error = f" ({figures})" if figures else ""
        console.print(f"[green]✓ check passed[/green]: {escape(check.method)}{error}")
    elif check.status == "fail":
        console.print(f"[red]✗ check FAILED[/red]: {escape(check.reason)}  "
                      f"[dim]({escape(check.method)})[/dim]")
    else:
        console.print(f"[yellow]- check skipped[/yellow]: {escape(check.reason)}  "
                      f"[dim]({escape(check.method)})[/dim]")
    for note in check.notes:
        console.print(f"  [yellow]note[/yellow]: {escape(note['text'])}")


def render_warnings(warnings: list[str]) -> None:
    """Warnings are talk, not data: one line each on stderr (stdout is the report)."""
    if warnings:
        console = make_console(stderr=True)
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
        console.print(f"[bold]f({escape(names[:200])})[/bold]: {counted(len(graph), 'node')}, "
                      f"{counted(graph.edge_count, 'edge')}")
    if report.point is not None:
        # cut at 500 characters, which 100 items ("x = 1, " at least) always fill
        where = ", ".join(f"{k} = {fmt(v)}" for k, v in islice(report.point.items(), 100))
        values = ", ".join(fmt(v) for v in report.output_values)
        console.print(f"at {escape(where[:500])}:  f = {values}")
    console.print()
    if single:
        print_table(console, _gradient_table(report))
    else:
        print_table(console, _jacobian_table(report))
    if report.mode_difference is not None:  # (a table ends with its own blank line)
        console.print(f"modes agree: largest relative difference {report.mode_difference:.3g}")
        console.print()
    print_table(console, counts_table(report.results, report.timings))
    render_warnings(report.warnings)
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
    more = len(getattr(error, "more", ()))
    for k, line in enumerate(error.detail_lines()):
        console.print(f"backprop: error: {escape(line)}" if k < more else escape(line))
