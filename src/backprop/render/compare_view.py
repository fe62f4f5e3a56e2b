"""Terminal views of ``compare``, ``paths`` and ``scale`` (rich): tables, a verdict, a chart."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from backprop.render.console import new_table, print_table, render_warnings
from backprop.render.numbers import CELL_EXACT_BELOW, counted, fmt, fmt_count, fmt_ratio, fmt_seconds

SUBSCRIPTS = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")
PATH_NODES_SHOWN = 12  # longer paths show their two ends


def _cell(value: int | None) -> str:
    """A count in a table cell or the chart: exact up to a quadrillion."""
    return fmt_count(value, CELL_EXACT_BELOW)


def _point_line(point: dict, random_seed: int | None) -> str:
    items = list(point.items())
    shown = ", ".join(f"{k} = {fmt(v)}" for k, v in items[:6])
    if len(items) > 6:
        shown += f", ... ({counted(len(items), 'input')})"
    if random_seed is not None:
        return f"at a random point (seed {random_seed}; give --at to choose one): {shown}"
    return f"at {shown}"


def _title(graph, text: str | None) -> str:
    names = ", ".join(graph.input_names[:8]) + (", ..." if len(graph.inputs) > 8 else "")
    if text is not None:
        joiner = ":" if "=" in text else " ="
        return f"[bold]f({escape(names)})[/bold]{joiner} {escape(text)}"
    if len(graph.outputs) > 1:
        outputs = ", ".join(graph.output_names)
        return f"[bold]f({escape(names)})[/bold] = ({escape(outputs[:500])})"
    return (f"[bold]f({escape(names)})[/bold]: {counted(len(graph), 'node')}, "
            f"{counted(graph.edge_count, 'edge')}, {counted(len(graph.inputs), 'input')}")


# -- compare ---------------------------------------------------------------------------------

def _compare_head(c, console: Console, table: Table, verdict: str, rule: str) -> None:
    """f, the point, one evaluation's cost, the cost table, the verdict and its rule: what
    both orders open with."""
    console.print(_title(c.graph, c.text))
    console.print(escape(_point_line(c.point, c.seed if c.random_point else None)))
    console.print(f"one function evaluation: {counted(c.primitives, 'primitive')}, "
                  f"{fmt_seconds(c.evaluation.seconds)} (median of {c.evaluation.repeats})")
    console.print()
    print_table(console, table)
    console.print(f"[bold]verdict:[/bold] {escape(verdict)}")
    console.print(f"[dim]rule: {escape(rule)}[/dim]")


def render_compare(comparison, console: Console) -> None:
    c = comparison
    _compare_head(c, console, compare_table(c), c.verdict.text, c.verdict.rule)
    console.print(f"shape: {escape(c.verdict.shape)}")
    if c.mode_difference is not None:
        console.print(f"modes agree: largest relative difference {c.mode_difference:.3g}")
    for mode, cost in c.costs.items():
        if not cost.ran:
            console.print(f"[yellow]{mode}: estimated, not run[/yellow]: {escape(cost.reason)}")
    render_warnings(c.warnings)


def compare_table(c) -> Table:
    table = new_table("Cost per mode (beyond the shared primal pass)")
    table.collapse_padding = True  # ten columns in 80
    table.add_column("mode", no_wrap=True)
    for name in ("sweeps", "paths", "partials", "mults", "adds", "peak", "ops/eval", "time",
                 "×eval"):
        table.add_column(name, justify="right", overflow="fold")
    for mode, cost in c.costs.items():
        counts = cost.counts
        table.add_row(
            mode, _cell(counts.sweeps), _cell(counts.paths),
            _cell(counts.partial_evals), _cell(counts.multiplications),
            _cell(counts.additions), _cell(counts.peak_values),
            fmt_ratio(c.relative_operations(mode)),
            fmt_seconds(cost.seconds) if cost.ran else "not run",
            fmt_ratio(c.relative_time(mode)), style="" if cost.ran else "dim")
    repeats = max((x.timing.repeats for x in c.costs.values() if x.timing), default=0)
    table.caption = ("ops/eval: exact partials + mults + adds per primitive evaluated; "
                     f"×eval: measured time (median of up to {counted(repeats, 'run')}) "
                     "over one evaluation's time")
    table.caption_justify = "left"
    return table


# -- compare --order 2: the Hessian's pairings -------------------------------------------------

def render_pairings(comparison, console: Console) -> None:
    c = comparison
    _compare_head(c, console, pairings_table(c), c.verdict, c.rule)
    render_warnings(c.warnings)


def pairings_table(c) -> Table:
    """One row per pairing: jobs/hessian's cost columns (the Hessian's own table), then
    the work and the time per function evaluation."""
    from backprop.render.hessian_text import COST_COLUMNS

    table = new_table("Cost per pairing (second over first)")
    table.collapse_padding = True
    table.add_column("pairing", no_wrap=True)
    for header, _ in COST_COLUMNS:
        table.add_column(header, justify="right", overflow="fold")
    for name in ("ops/eval", "time", "×eval"):
        table.add_column(name, justify="right", overflow="fold")
    for name, cost in c.costs.items():
        if cost.pairing is None:
            table.add_row(name, *["-"] * len(COST_COLUMNS), "-", "not run", "-", style="dim")
            continue
        table.add_row(name, *(_cell(figure(cost.pairing)) for _, figure in COST_COLUMNS),
                      fmt_ratio(c.relative_operations(name)), fmt_seconds(cost.seconds),
                      fmt_ratio(c.relative_time(name)))
    repeats = max((x.timing.repeats for x in c.costs.values() if x.timing), default=0)
    table.caption = ("nodes, ops: the gradient program (its ops evaluated once); sweeps to "
                     "peak: the second mode on it; total: ops + partials + mults + adds; "
                     "ops/eval: total per primitive of f; ×eval: measured time (median of up "
                     f"to {counted(repeats, 'run')}, both sweeps) over one evaluation's time")
    table.caption_justify = "left"
    return table


# -- paths -----------------------------------------------------------------------------------

def path_text(path) -> str:
    """x → h1 → h2; an arrow into a node that reads the same node twice says which argument."""
    parts = [path.nodes[0]]
    for k, node in enumerate(path.nodes[1:]):
        arrow = "→" + (str(path.slots[k]).translate(SUBSCRIPTS) if path.ambiguous[k] else "")
        parts.append(f"{arrow} {node}")
    if len(parts) > PATH_NODES_SHOWN:
        half = PATH_NODES_SHOWN // 2
        parts = parts[:half] + [f"→ ... ({len(parts) - 2 * half:,} more) ..."] + parts[-half:]
    return " ".join(parts)


def _factors_text(factors: list) -> str:
    if not factors:
        return "(no edges)"
    texts = [fmt(f) for f in factors]
    if len(texts) > PATH_NODES_SHOWN:
        half = PATH_NODES_SHOWN // 2
        texts = texts[:half] + [f"... ({len(texts) - 2 * half:,} more)"] + texts[-half:]
    return " · ".join(texts)


def render_paths(listing, console: Console) -> None:
    graph = listing.graph
    console.print(_title(graph, listing.text))
    if listing.point is not None:
        console.print(escape(_point_line(listing.point, None)))
    total = listing.total_paths
    if not listing.wrt:
        console.print("the expression has no variables: there is no path to list")
        return
    console.print(f"{counted(total, 'path')} from {escape(', '.join(listing.wrt[:8]))}"
                  f"{' ...' if len(listing.wrt) > 8 else ''} to the output"
                  f"{'s' if len(graph.outputs) > 1 else ''} (counted exactly, before walking)")
    console.print()
    table = new_table("Paths" + ("" if listing.symbolic else " (numbers at the point)"))
    table.add_column("#", justify="right", no_wrap=True)
    if len(graph.outputs) > 1:
        table.add_column("output", overflow="fold")
    table.add_column("path", overflow="fold")
    table.add_column("local partials", overflow="fold")
    table.add_column("product", justify="left" if listing.symbolic else "right",
                     overflow="fold")
    for k, path in enumerate(listing.listed, 1):
        cells = [str(k)] + ([escape(path.output)] if len(graph.outputs) > 1 else [])
        cells += [escape(path_text(path)), escape(_factors_text(path.partials)),
                  escape(fmt(path.product))]
        table.add_row(*cells)
    if any(any(p.ambiguous) for p in listing.listed):
        table.caption = ("→₁ →₂: through the first or second argument of a node that reads "
                         "the same node twice (x*x)")
        table.caption_justify = "left"
    print_table(console, table)
    shown = len(listing.listed)
    if shown < total:
        console.print(f"[yellow]showing the first {shown:,} of {fmt_count(total)} paths "
                      f"(--limit {listing.limit:,}); the sums below cover all "
                      f"{fmt_count(total)}[/yellow]")
    print_table(console, sums_table(listing))
    counts = listing.counts
    console.print(f"cost: {counted(counts.paths, 'path')}, "
                  f"{counted(counts.partial_evals, 'partial')}, "
                  f"{counted(counts.multiplications, 'multiplication')}, "
                  f"{counted(counts.additions, 'addition')} (docs/counting.md)")
    render_warnings(listing.warnings)


def sums_table(listing) -> Table:
    multi = len(listing.graph.outputs) > 1
    table = new_table("Sum over paths = gradient")
    if multi:
        table.add_column("output", overflow="fold")
    table.add_column("∂/∂", no_wrap=True)
    table.add_column("paths", justify="right", no_wrap=True)
    justify = "left" if listing.symbolic else "right"
    table.add_column("sum of products", justify=justify, overflow="fold")
    table.add_column("reverse mode", justify=justify, overflow="fold")
    table.add_column("", no_wrap=True)
    for s in listing.sums:
        mark = "[green]✓[/green]" if s.agrees else "[red]✗[/red]" if s.agrees is False \
            else "[yellow]?[/yellow]"
        cells = ([escape(s.output)] if multi else []) + [
            escape(s.input), _cell(s.paths), escape(fmt(s.total)), escape(fmt(s.gradient)),
            mark]
        table.add_row(*cells)
    return table


# -- scale -----------------------------------------------------------------------------------

def _scale_head(result, console: Console, command: str = "scale") -> None:
    """The family, its sizes, the point and the repeats: what both orders open with."""
    family = result.family
    console.print(f"[bold]{command}: {family.name}[/bold] ({escape(family.summary)}); "
                  f"{counted(len(result.sizes), 'size')}, {family.size_name} "
                  f"{result.sizes[0]:,} to {result.sizes[-1]:,}")
    repeats = max((r.evaluation.repeats for r in result.rows), default=1)
    console.print(f"at a random point (seed {result.seed}); times are medians of up to "
                  f"{counted(repeats, 'run')}")
    console.print()


def render_scale(result, console: Console) -> None:
    _scale_head(result, console)
    print_table(console, scale_table(result))
    print_table(console, growth_table(result))
    render_chart(result, console)
    for mode in result.fits:
        skipped = [row.size for row in result.rows if not row.costs[mode].ran]
        if skipped:
            reason = next(row.costs[mode].reason for row in result.rows
                          if not row.costs[mode].ran)
            console.print(f"[yellow]{mode}: estimated, not run[/yellow] at "
                          f"{counted(len(skipped), 'size')} (first {skipped[0]:,}: "
                          f"{escape(reason)})")


def scale_table(result) -> Table:
    table = new_table("Operations (partials + mults + adds) and time per size")
    table.collapse_padding = True
    table.add_column(result.family.size_name, justify="right", no_wrap=True)
    table.add_column("nodes", justify="right", overflow="fold")
    table.add_column("inputs", justify="right", overflow="fold")
    for mode in result.fits:
        table.add_column(f"{mode}\nops", justify="right", overflow="fold")
        table.add_column("time", justify="right", overflow="fold")
    for row in result.rows:
        cells = [f"{row.size:,}", _cell(row.nodes), _cell(row.inputs)]
        for mode in result.fits:
            cost = row.costs[mode]
            cells.append(Text(_cell(cost.operations), style="" if cost.ran else "dim"))
            cells.append(fmt_seconds(cost.seconds) if cost.ran else "not run")
        table.add_row(*cells)
    if any(not cost.ran for row in result.rows for cost in row.costs.values()):
        table.caption = "not run: over a limit; its operations are still exact (estimated)"
        table.caption_justify = "left"
    return table


def growth_table(result) -> Table:
    table = new_table("Fitted growth (larger half of the sizes)")
    table.add_column("mode", no_wrap=True)
    table.add_column("sweeps or paths", overflow="fold")
    table.add_column("operations", overflow="fold")
    table.add_column("time", overflow="fold")
    for mode, fits in result.fits.items():
        table.add_row(mode, fits["passes"].text, fits["operations"].text, fits["seconds"].text)
    return table


def render_chart(result, console: Console) -> None:
    """Each mode's exact operations against the size, drawn (render/plot_term.py): on log
    axes where they span decades."""
    from backprop.render.plot import scale_plot
    from backprop.render.plot_term import render_plot

    render_plot(scale_plot(result), console)


# -- scale --order 2 -------------------------------------------------------------------------

def render_scale_pairings(result, console: Console) -> None:
    _scale_head(result, console, "scale --order 2")
    print_table(console, scale_pairings_table(result))
    print_table(console, scale_pairings_table(result, time=True))
    console.print(f"[dim]{PAIRING_WORK_KEY}[/dim]")
    console.print()
    print_table(console, pairings_growth_table(result))
    for name in result.fits:
        skipped = [row for row in result.rows if not row.costs[name].ran]
        if skipped:
            console.print(f"[yellow]{name}: not run[/yellow] at "
                          f"{counted(len(skipped), 'size')} (first {skipped[0].size:,}: "
                          f"{escape(skipped[0].costs[name].reason)})")


PAIRING_WORK_KEY = ("total work: the gradient program's ops once, plus the second sweep's "
                    "partials + mults + adds; time: both sweeps, the median")


def scale_pairings_table(result, time: bool = False) -> Table:
    """Per size, each pairing's total work (or, with ``time``, its measured time)."""
    table = new_table("Time per size" if time else "Total work per size")
    table.collapse_padding = True
    table.add_column(result.family.size_name, justify="right", no_wrap=True)
    table.add_column("nodes", justify="right", overflow="fold")
    table.add_column("inputs", justify="right", overflow="fold")
    for name in result.fits:
        table.add_column(name, justify="right", overflow="fold")
    for row in result.rows:
        cells = [f"{row.size:,}", _cell(row.nodes), _cell(row.inputs)]
        for name in result.fits:
            cost = row.costs[name]
            cells.append("not run" if not cost.ran else fmt_seconds(cost.seconds) if time
                         else _cell(cost.operations))
        table.add_row(*cells)
    return table


def pairings_growth_table(result) -> Table:
    table = new_table("Fitted growth (larger half of the sizes)")
    table.add_column("pairing", no_wrap=True)
    for header in ("sweeps", "program nodes", "mults", "total work", "time"):
        table.add_column(header, overflow="fold")
    for name, fits in result.fits.items():
        table.add_row(name, *(fit.text for fit in fits.values()))
    return table
