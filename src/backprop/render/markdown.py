"""Markdown reports for a CI job summary (``--format markdown``).

GitHub-flavoured Markdown: pipe tables, a check verdict, a Mermaid picture of small
graphs (GitHub draws ```mermaid blocks), and the step-by-step explanation folded in a
``<details>`` block. The pieces (``table``, ``counts_table``, ``check_section``,
``mermaid_block``, ``explanation_block``) are public so that other commands (net, compare)
can assemble their own reports from them. Plain strings only: no rich here.
"""

from __future__ import annotations

from typing import Any, Iterable, Sequence

from backprop.engine.counts import FIELDS
from backprop.jobs.picture import EMBED_MAX_NODES as PICTURE_MAX_NODES
from backprop.render.numbers import fmt, fmt_seconds
from backprop.render.timing_text import timing_caption



def cell(text: Any) -> str:
    """Plain text safe inside a table cell: no pipes, no HTML, one line."""
    text = str(text).replace("\\", "\\\\").replace("|", "\\|")
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return " ".join(text.split())


def code(text: Any) -> str:
    """Inline code safe inside a table cell (pipes escaped as GitHub requires)."""
    text = " ".join(str(text).split()).replace("|", "\\|")
    fence = "``" if "`" in text else "`"
    pad = " " if fence == "``" else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def table(headers: Sequence[str], rows: Iterable[Sequence[str]],
          right: Sequence[bool] | None = None) -> str:
    """A pipe table; cells are taken as already escaped Markdown."""
    right = right or [False] * len(headers)
    lines = ["| " + " | ".join(headers) + " |",
             "|" + "|".join("---:" if r else "---" for r in right) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def counts_table(results: dict, timings: dict | None = None) -> str:
    """One row per mode, one column per count field (docs/counting.md), then the time."""
    headers = ["mode", *FIELDS] + (["time"] if timings is not None else [])
    rows = []
    for mode, result in results.items():
        counts = result.counts
        row = [cell(mode)] + ["-" if getattr(counts, f) is None else f"{getattr(counts, f):,}"
                              for f in FIELDS]
        if timings is not None:
            row.append(fmt_seconds(timings.get(mode)))
        rows.append(row)
    return table(headers, rows, [False] + [True] * (len(headers) - 1))


def check_section(check) -> str:
    """The check's verdict in one line, then its notes as a list."""
    if check is None:
        return "➖ **check skipped** (--no-check)"
    figures = check.differences()
    notes = "".join(f"\n- {cell(note['text'])}" for note in check.notes)
    if notes:
        notes = "\n" + notes
    if check.status == "pass":
        error = f" ({figures})" if figures else ""
        return f"✅ **check passed**: {cell(check.method)}{error}{notes}"
    if check.status == "fail":
        return f"❌ **check FAILED**: {cell(check.reason)} ({cell(check.method)}){notes}"
    return f"➖ **check skipped**: {cell(check.reason)} ({cell(check.method)}){notes}"


def mermaid_block(picture) -> str:
    """A ```mermaid picture of an annotated graph (``jobs.picture.Picture``)."""
    from backprop.render.picture_text import to_mermaid

    return "```mermaid\n" + to_mermaid(picture) + "```"


def too_large_note(nodes: int) -> str:
    """What stands instead of a picture the job did not draw: the graph is too large."""
    return (f"_The graph has {nodes:,} nodes; pictures are embedded up to "
            f"{PICTURE_MAX_NODES} nodes. Draw it with `backprop graph ... --format svg`._")


def explanation_block(explanation, summary: str = "Step by step") -> str:
    """The explanation folded in a <details> block, its steps in a text code block."""
    body = "\n".join(explanation.lines()).replace("```", "'''")
    return (f"<details><summary>{cell(summary)}</summary>\n\n```text\n{body}\n```\n\n"
            "</details>")


def _gradient_table(report) -> str:
    numeric = report.point is not None
    modes = list(report.results) if numeric else []
    with_formula = report.formulas is not None
    graph = report.graph
    if len(graph.outputs) == 1:
        headers = ["∂f/∂"] + [f"value ({m})" if len(modes) > 1 else "value" for m in modes] \
            + (["formula"] if with_formula else [])
        rows = []
        for k, name in enumerate(report.wrt):
            row = [code(name)] + [fmt(report.results[m].jacobian[0][k]) for m in modes]
            if with_formula:
                row.append(code(report.formulas[0][k]))
            rows.append(row)
        return table(headers, rows, [False] + [True] * len(modes) + [False] * with_formula)
    headers = ["output"] + [f"∂/∂{cell(name)}" for name in report.wrt]
    rows = []
    for o, row in enumerate(report.jacobian):
        cells = []
        for k, value in enumerate(row):
            if numeric:
                text = fmt(value)
                if report.formulas is not None:
                    text += f" ({code(report.formulas[o][k])})"
            else:
                text = code(value)
            cells.append(text)
        rows.append([code(graph.output_names[o])] + cells)
    return table(headers, rows)


def grad_markdown(report) -> str:
    """The whole ``grad`` report: what was differentiated, the gradient, the cost of each
    mode, the check, warnings, a picture of small graphs (the one the job annotated, for a
    report asked with ``picture=True``), and the explanation if asked."""
    graph = report.graph
    names = ", ".join(graph.input_names)
    parts = ["## backprop grad", ""]
    if report.text is not None:
        joiner = ": " if "=" in report.text else " = "
        head = f"f({names}){joiner}{report.text}"
    else:
        head = f"f({names[:200]}): {len(graph):,} nodes, {graph.edge_count:,} edges"
    line = code(head)
    if report.point is not None:
        where = ", ".join(f"{k} = {fmt(v)}" for k, v in report.point.items())
        values = ", ".join(fmt(v) for v in report.output_values)
        line += f" at {cell(where[:500])}: f = {values}"
    parts += [line, ""]
    parts += ["### Gradient" if len(graph.outputs) == 1 else "### Jacobian", "",
              _gradient_table(report), ""]
    if report.mode_difference is not None:
        parts += [f"Modes agree: largest relative difference {report.mode_difference:.3g}.",
                  ""]
    parts += ["### Cost per mode", "", counts_table(report.results, report.timings), ""]
    caption = timing_caption(report.timing_details)
    if caption:
        parts += [cell(caption[0].upper() + caption[1:]) + ".", ""]
    if report.refused:
        parts += [f"- {cell(mode)} not run: {cell(why)}" for mode, why in report.refused.items()]
        parts.append("")
    parts += ["### Check", "", check_section(report.check), ""]
    if report.warnings:
        parts += ["### Warnings", ""] + [f"- {cell(w)}" for w in report.warnings] + [""]
    if report.picture is not None:
        parts += ["### Graph", "", mermaid_block(report.picture), ""]
    elif len(graph) > PICTURE_MAX_NODES:
        parts += ["### Graph", "", too_large_note(len(graph)), ""]
    if report.explanation is not None:
        parts += [explanation_block(report.explanation, "Step by step (--explain)"), ""]
    return "\n".join(parts)


def hessian_markdown(report) -> str:
    """``backprop hessian`` as a Markdown report: H, each pairing's cost and the verdict,
    symmetry and agreement, H v, the check."""
    from backprop.render.hessian_text import (COST_KEY, COST_TITLE, cost_cells,
                                              cost_headers, hvp_lines, quality_lines)

    first = next(iter(report.pairings.values()))
    numeric = report.point is not None
    where = ""
    if numeric:
        where = ", ".join(f"{k} = {fmt(v)}" for k, v in report.point.items())
    rows = [[code(f"d2f/d{name}")] + [cell(fmt(h)) if numeric else code(h) for h in row]
            for name, row in zip(report.wrt, first.hessian)]
    costs = [[cell(c) for c in cost_cells(p, report.timings.get(name))]
             for name, p in report.pairings.items()]
    costs += [[cell(name), cell(f"not run: {why}")] + [""] * (len(cost_headers()) - 2)
              for name, why in report.refused.items()]
    heading = f"## backprop hessian: {code(report.text or '')}"
    parts = [heading + (f" at {cell(where)}" if where else ""),
             f"f = {cell(fmt(report.value)) if numeric else code(report.value)}",
             f"### Hessian ({first.name})",
             table(["", *(code(f"d/d{n}") for n in report.wrt)], rows,
                   [False] + [numeric] * len(report.wrt)),
             f"### {COST_TITLE}",
             table(cost_headers(), costs, [False] + [True] * (len(cost_headers()) - 1)),
             f"_{cell(COST_KEY)}_",
             f"**Verdict**: {cell(report.verdict)}"]
    parts += [cell(line) for line in quality_lines(report)]
    if report.hvp is not None:
        parts.append("### H v\n\n```text\n" + "\n".join(hvp_lines(report)) + "\n```")
    parts += [f"- ⚠️ {cell(w)}" for w in report.warnings]
    parts.append(check_section(report.check))
    if report.explanation is not None:
        parts.append(explanation_block(report.explanation))
    return "\n\n".join(parts) + "\n"
