"""Views of ``compare --checkpoints`` and ``scale --checkpoints`` (jobs/checkpoints.py): a
rich table and a text chart, JSON and CSV. Formatting only."""

from __future__ import annotations

import csv
import io

from rich.console import Console
from rich.markup import escape

from backprop.render.console import new_table, print_table
from backprop.render.json_doc import JSON_VERSION
from backprop.render.numbers import counted, fmt_count

CHART_WIDTH = 40
ROW_FIELDS = ("strategy", "status", "states", "extra_steps", "formula", "optimum",
              "peak_values", "gradient_equal")


def _cell(value) -> str:
    return "-" if value is None else fmt_count(value)


def _equal(row) -> str:
    return "-" if row.equal is None else "yes" if row.equal else "NO"


def checkpoint_rows_table(table, title: str):
    grid = new_table(title)
    grid.collapse_padding = True
    grid.add_column("schedule", no_wrap=True)
    for name in ("states", "extra steps", "formula", "optimum", "values kept", "gradient"):
        grid.add_column(name, justify="right", overflow="fold")
    for row in table.rows:
        grid.add_row(row.label, _cell(row.states), fmt_count(row.extra_steps),
                     fmt_count(row.formula), _cell(row.optimum), _cell(row.peak_values),
                     "not run" if not row.ran else _equal(row),
                     style="" if row.ran else "dim")
    grid.caption = ("states: stored at peak (the inputs' included); extra steps: forward "
                    "steps after the primal pass, counted by running; formula: the "
                    "schedule's closed form; optimum: the fewest with as many states "
                    "(Griewank); values kept: primal values held at peak; gradient: equal "
                    "to reverse mode's, bit for bit")
    grid.caption_justify = "left"
    return grid


def render_checkpoints(table, console: Console) -> None:
    console.print()
    print_table(console, checkpoint_rows_table(
        table, f"Checkpointing reverse mode: {counted(table.steps, 'step')}, "
               f"binomial with {counted(table.used, 'state')} (--checkpoints "
               f"{fmt_count(table.budget)})"))
    if table.note:
        console.print(escape(table.note))
    for row in table.rows:
        if not row.ran:
            console.print(f"[yellow]{row.label}: counted, not run[/yellow]: "
                          f"{escape(row.reason)}")
    console.print(f"[dim]a state holds at most {counted(table.widest, 'value')}; the graph "
                  f"has {counted(table.nodes, 'node')} (docs/checkpointing.md)[/dim]")


def _row_document(row) -> dict:
    return {"strategy": row.strategy, "status": "run" if row.ran else "counted",
            "reason": row.reason, "states": row.states, "extra_steps": row.extra_steps,
            "formula": row.formula, "optimum": row.optimum, "peak_values": row.peak_values,
            "gradient_equal": row.equal}


def checkpoint_document(table) -> dict:
    return {"steps": table.steps, "budget": table.budget, "states_used": table.used,
            "widest_state": table.widest, "note": table.note,
            "schedules": [_row_document(row) for row in table.rows]}


def _csv(fields, rows) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def _csv_row(row) -> dict:
    document = _row_document(row)
    return {field: document[field] for field in ROW_FIELDS} | {"status": document["status"]}


def checkpoint_csv(table) -> str:
    return _csv(("steps", "budget") + ROW_FIELDS,
                [{"steps": table.steps, "budget": table.used, **_csv_row(row)}
                 for row in table.rows])


def compare_views(document, render):
    """``compare --checkpoints``: the comparison's JSON with a "checkpoints" member, the
    table's CSV (one row per schedule), and the comparison's view then the table."""
    def view(result, console: Console) -> None:
        render(result.comparison, console)
        render_checkpoints(result.table, console)
    return (lambda r: {**document(r.comparison), "checkpoints": checkpoint_document(r.table)},
            lambda r: checkpoint_csv(r.table), view)


# -- scale --checkpoints: the memory-time curve ----------------------------------------------

def render_curve(result, console: Console) -> None:
    family = result.family
    console.print(f"[bold]{escape(family.name)}[/bold]: {escape(family.summary)}; "
                  f"checkpointing reverse mode with 1 to "
                  f"{counted(result.budget, 'state')}")
    for size in result.rows:
        table = size.table
        console.print()
        print_table(console, checkpoint_rows_table(
            table, f"{family.size_name} {size.size:,}: {counted(table.steps, 'step')}, "
                   f"binomial with {counted(table.used, 'state')}"))
        grid = new_table("Memory against time: binomial at each budget")
        grid.collapse_padding = True
        for name in ("states", "values kept", "extra steps"):
            grid.add_column(name, justify="right")
        grid.add_column("", no_wrap=True)
        top = max((p.row.extra_steps for p in size.curve), default=0) or 1
        for point in size.curve:
            row = point.row
            bar = "█" * round(CHART_WIDTH * row.extra_steps / top)
            grid.add_row(fmt_count(point.budget), _cell(row.peak_values),
                         fmt_count(row.extra_steps), bar, style="" if row.ran else "dim")
        grid.caption = ("extra steps: forward steps after the primal pass (counted by "
                        "running; dim: over --max-ops, from the formula); bars: linear scale")
        grid.caption_justify = "left"
        console.print()
        print_table(console, grid)


def curve_document(result) -> dict:
    family = result.family
    return {"version": JSON_VERSION, "command": "scale --checkpoints", "family": family.name,
            "description": family.summary, "size_name": family.size_name,
            "sizes": result.sizes, "budget": result.budget,
            "rows": [{"size": size.size, **checkpoint_document(size.table),
                      "curve": [{"budget": p.budget, **_row_document(p.row)}
                                for p in size.curve]}
                     for size in result.rows]}


def curve_csv(result) -> str:
    rows = []
    for size in result.rows:
        for point in size.curve:
            rows.append({"family": result.family.name, "size": size.size,
                         "steps": size.table.steps, "budget": point.budget,
                         **_csv_row(point.row)})
    return _csv(("family", "size", "steps", "budget") + ROW_FIELDS, rows)
