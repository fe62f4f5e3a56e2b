"""Views of the sparse Jacobian (jobs/sparse.py) and of vertex elimination
(jobs/eliminate.py): terminal tables and JSON pieces, for ``compare`` and ``scale``.
Formatting only: every number comes from the jobs."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape

from backprop.render.console import new_table, print_table
from backprop.render.numbers import counted, fmt_count

PATTERN_SHOWN = 12  # patterns up to this many rows and columns are drawn


def _dash(value) -> str:
    return "-" if value is None else fmt_count(value)


# -- the sparse Jacobian in compare -----------------------------------------------------------

def render_sparse(report, console: Console) -> None:
    p = report.pattern
    console.print()
    console.print(f"[bold]sparse Jacobian:[/bold] {len(p.rows)} x {p.columns}, "
                  f"{counted(p.nonzeros, 'structural nonzero')}")
    if len(p.rows) <= PATTERN_SHOWN and p.columns <= PATTERN_SHOWN:
        for row in p.as_lists():
            console.print("  " + " ".join("x" if v else "." for v in row))
    if report.columns is not None:
        for colouring, mode in ((report.columns, "forward"), (report.rows, "reverse")):
            bound = "optimal" if colouring.optimal else f"at least {colouring.lower_bound}"
            console.print(f"{colouring.side} coloured: {counted(colouring.colours, 'colour')} "
                          f"({bound}) = {counted(colouring.colours, mode + ' sweep')}")
    print_table(console, table(report.candidates.values(), "Dense and compressed sweeps"))
    same = [c.identical for c in report.candidates.values() if c.identical is not None]
    if same:
        console.print("compressed Jacobian equals the dense one: "
                      + ("yes, bit for bit" if all(same) else "NO"))
    console.print(f"[bold]sparse verdict:[/bold] {escape(report.text)}")
    console.print(f"[dim]rule: {escape(report.rule)}[/dim]")
    if report.reason:
        console.print(f"[yellow]not coloured[/yellow]: {escape(report.reason)}")
    else:
        for c in list(report.candidates.values())[2:]:
            if not c.ran:
                console.print(f"[yellow]{c.name}: not run[/yellow]: {escape(c.reason)}")


def table(candidates, title: str):
    out = new_table(title)
    out.add_column("candidate", no_wrap=True)
    for name in ("sweeps", "partials", "mults", "adds", "ops"):
        out.add_column(name, justify="right")
    for c in candidates:
        counts = c.counts
        out.add_row(c.name, fmt_count(c.sweeps), _dash(counts and counts.partial_evals),
                    _dash(counts and counts.multiplications), _dash(counts and counts.additions),
                    _dash(c.operations), style="" if c.ran else "dim")
    return out


def sparse_document(report) -> dict:
    def colouring(c):
        return None if c is None else {"colours": c.colours, "lower_bound": c.lower_bound,
                                       "optimal": c.optimal, "colour": list(c.colour)}
    return {"pattern": report.pattern.as_lists(), "nonzeros": report.pattern.nonzeros,
            "columns": colouring(report.columns), "rows": colouring(report.rows),
            "candidates": {name: c.as_dict() for name, c in report.candidates.items()},
            "verdict": {"winner": report.winner, "text": report.text, "rule": report.rule},
            "reason": report.reason}


# -- vertex elimination in compare --eliminations ---------------------------------------------

def render_eliminations(report, console: Console) -> None:
    console.print()
    vertices = counted(report.intermediates, "intermediate vertex", "intermediate vertices")
    console.print(f"[bold]vertex elimination:[/bold] {vertices}, a {report.dependents} x "
                  f"{report.independents} Jacobian")
    out = new_table("Elimination orders")
    for name in ("order", "mults", "adds", "fill"):
        out.add_column(name, justify="left" if name == "order" else "right")
    out.add_column("sequence", overflow="fold")
    for cost in report.orders.values():
        sequence = ", ".join(cost.order[:8]) + (", ..." if len(cost.order) > 8 else "")
        out.add_row(cost.name, fmt_count(cost.multiplications), fmt_count(cost.additions),
                    fmt_count(cost.fill), escape(sequence))
    print_table(console, out)
    for mode in ("forward", "reverse"):
        m = report.mapping[mode]
        order = report.orders[mode].multiplications
        terms = f"{order} + {m.seeds} seed"
        if m.parallel:
            terms += f" + {m.parallel} parallel"
        if m.dead:
            terms += f" + {m.dead} dead"
        if m.copies:
            terms += f" - {m.copies} copy"
        mark = "reproduced" if report.reproduced[mode] else "NOT reproduced"
        console.print(f"{mode} mode: {_dash(report.modes[mode])} mults = {terms} "
                      f"({mark}; docs/sparsity.md)")
    best = report.orders["optimal"].multiplications
    console.print(f"optimal: {counted(best, 'multiplication')}, "
                  + ("at most" if report.optimum_at_most_both else "MORE than")
                  + " forward's and reverse's")
    if report.difference is not None:
        console.print(f"orders agree with the modes: largest relative difference "
                      f"{report.difference:.3g}")


def eliminations_document(report) -> dict:
    return {"intermediates": report.intermediates, "independents": report.independents,
            "dependents": report.dependents, "limit": report.limit,
            "orders": {name: {"multiplications": c.multiplications, "additions": c.additions,
                              "fill": c.fill, "order": c.order}
                       for name, c in report.orders.items()},
            "modes": {mode: {"multiplications": report.modes[mode],
                             "mapping": {"seeds": report.mapping[mode].seeds,
                                         "parallel": report.mapping[mode].parallel,
                                         "dead": report.mapping[mode].dead,
                                         "copies": report.mapping[mode].copies},
                             "reproduced": report.reproduced[mode]}
                      for mode in ("forward", "reverse")},
            "optimum_at_most_forward_and_reverse": report.optimum_at_most_both,
            "agreement": report.difference}


# -- scale: compressed sweeps per size --------------------------------------------------------

def render_scale_sparse(result, console: Console) -> None:
    rows = [row for row in result.rows if getattr(row, "sparse", None) is not None]
    if not rows:
        return
    out = new_table("Compressed sweeps: colours set by the band, not by n")
    out.add_column(result.family.size_name, justify="right")
    for name in ("dense fwd", "dense rev", "colours fwd", "colours rev", "fwd ops", "rev ops",
                 "same J"):
        out.add_column(name, justify="right")
    for row in rows:
        s = row.sparse
        c = s.candidates
        same = [x.identical for x in c.values() if x.identical is not None]
        out.add_row(fmt_count(row.size), fmt_count(c["dense forward"].sweeps),
                    fmt_count(c["dense reverse"].sweeps),
                    _dash(s.columns and s.columns.colours), _dash(s.rows and s.rows.colours),
                    _dash(c["compressed forward"].operations),
                    _dash(c["compressed reverse"].operations),
                    "-" if not same else "yes" if all(same) else "NO")
    console.print()
    print_table(console, out)
