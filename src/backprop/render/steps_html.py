"""The step-through page (``graph --format html``): one self-contained HTML file.

The page holds the graph drawn as inline SVG (a layered layout made here: inputs on the
left, outputs on the right, one column per depth; no Graphviz needed), a table of every
node's value and adjoint (or tangent), the gradient, and buttons (and arrow keys) that
step through ``jobs.steps``' steps: the forward sweep's values, then every adjoint update
of reverse mode, one sweep per output (or, chosen on the page, every tangent of forward
mode, one sweep per input), ending at the gradient. Each step shows ``--explain``'s line,
highlights its node and edges, and its running sum.

Formatting only: every number on the page is a number the Python side computed, written
by ``render.numbers.fmt`` (the shortest text that reads back as the same float, as
``--json`` writes it) and embedded as JSON (``page_data``); the inline script only shows
them, it does no arithmetic. No network: no CDN, no external fonts, scripts or images.
"""

from __future__ import annotations

import html
import json
from typing import Any

from backprop.jobs.picture import GraphPicture
from backprop.render.numbers import fmt
from backprop.render.picture_text import edge_text

COLUMN_WIDTH, ROW_HEIGHT = 270, 74  # the picture's grid, in px
NODE_WIDTH, NODE_HEIGHT = 160, 46
MARGIN = 24
LABEL_MAX = 22  # characters of a name or an edge label in the picture (the table has all)


def number(value: Any) -> str | None:
    """A number as ``--json`` writes it (``repr`` of the float); None stays None."""
    return None if value is None else fmt(float(value))


def edge_id(target: int, slot: int) -> str:
    return f"e{target}-{slot}"


def step_data(step) -> dict:
    """A ``jobs.steps.PageStep`` as plain data, its numbers as ``--json`` writes them."""
    return {"phase": step.phase, "kind": step.kind, "text": step.text, "node": step.node,
            "sweep": step.sweep, "output": step.output, "wrt": step.wrt,
            "value": number(step.value), "before": number(step.before),
            "after": number(step.after), "edges": [edge_id(*t.edge) for t in step.terms],
            "terms": [{"edge": edge_id(*t.edge), "partial": number(t.partial),
                       "carried": number(t.carried), "contribution": number(t.contribution)}
                      for t in step.terms]}


def page_data(job: GraphPicture) -> dict:
    """Everything the page shows, as plain data (embedded in the page as JSON)."""
    graph, picture, steps = job.graph, job.picture, job.steps
    edges, slots = [], {}
    for edge in picture.edges:
        slot = slots.get(edge.target, 0)
        slots[edge.target] = slot + 1
        edges.append({"id": edge_id(edge.target, slot), "source": edge.source,
                      "target": edge.target, "slot": slot, "active": edge.active,
                      "label": edge_text(edge), "partial": number(edge.number)})
    names = [node.name for node in picture.nodes]
    return {
        "title": picture.title,
        "outputs": [names[o] for o in graph.outputs],
        "wrt": [names[w] for w in steps.wrt],
        "nodes": [{"id": node.index, "name": node.name, "op": node.op, "kind": node.kind,
                   "value": number(node.value)} for node in picture.nodes],
        "edges": edges,
        "values": [step_data(s) for s in steps.values],
        "modes": {mode: [step_data(s) for s in mode_steps]
                  for mode, mode_steps in steps.modes.items()},
        "gradients": {mode: [[number(v) for v in row] for row in rows]
                      for mode, rows in steps.gradients.items()},
    }


# --------------------------------------------------------------------------- the picture


def layout(graph) -> dict[int, tuple[int, int]]:
    """Each node's (column, row): inputs in column 0, an op one column right of its
    furthest argument, a constant just left of its first user, an output nothing uses in
    the last column; rows ordered by the mean row of the arguments (fewer crossings)."""
    nodes = graph.nodes
    column = [0] * len(nodes)
    users: list[list[int]] = [[] for _ in nodes]
    for i, node in enumerate(nodes):
        if node.args:
            column[i] = 1 + max(0 if nodes[a].op == "const" else column[a] for a in node.args)
            for a in node.args:
                users[a].append(i)
    for i, node in enumerate(nodes):
        if node.op == "const" and users[i]:
            column[i] = max(0, min(column[u] for u in users[i]) - 1)
    last = max(column, default=0)
    for o in graph.outputs:
        if not users[o]:
            column[o] = last
    by_column: dict[int, list[int]] = {}
    for i in range(len(nodes)):
        by_column.setdefault(column[i], []).append(i)
    row: dict[int, float] = {}
    place: dict[int, tuple[int, int]] = {}
    for c in sorted(by_column):
        def key(i: int) -> tuple[float, int]:
            placed = [row[a] for a in nodes[i].args if a in row]
            return (sum(placed) / len(placed) if placed else float(i), i)
        for r, i in enumerate(sorted(by_column[c], key=key)):
            row[i] = r
            place[i] = (c, r)
    return place


def _clip(text: str, limit: int = LABEL_MAX) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def svg(job: GraphPicture, data: dict) -> str:
    """The graph as inline SVG: nodes ``<g id="n3">``, edges ``<g id="e5-1">`` (labelled
    with their local partial), the ids the script highlights."""
    place = layout(job.graph)
    rows = max((r for _, r in place.values()), default=0) + 1
    per_column: dict[int, int] = {}
    for c, r in place.values():
        per_column[c] = max(per_column.get(c, 0), r + 1)
    columns = max(per_column, default=0) + 1

    def centre(i: int) -> tuple[float, float]:
        c, r = place[i]
        top = (rows - per_column[c]) * ROW_HEIGHT / 2  # each column centred vertically
        return (MARGIN + c * COLUMN_WIDTH + NODE_WIDTH / 2,
                MARGIN + top + r * ROW_HEIGHT + NODE_HEIGHT / 2)

    width = 2 * MARGIN + (columns - 1) * COLUMN_WIDTH + NODE_WIDTH
    height = 2 * MARGIN + (rows - 1) * ROW_HEIGHT + NODE_HEIGHT
    out = [f'<svg id="graph" role="img" aria-labelledby="graph-title" width="{width}" '
           f'height="{height}" viewBox="0 0 {width} {height}">',
           f'<title id="graph-title">{html.escape(data["title"])}</title>',
           '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="9" '
           'markerHeight="9" markerUnits="userSpaceOnUse" orient="auto-start-reverse">'
           '<path d="M 0 0 L 10 5 L 0 10 z"/></marker></defs>']
    pairs: dict[tuple[int, int], int] = {}
    for edge in data["edges"]:
        (x1, y1), (x2, y2) = centre(edge["source"]), centre(edge["target"])
        x1 += NODE_WIDTH / 2
        x2 -= NODE_WIDTH / 2
        pair = (edge["source"], edge["target"])
        bend = 14 * pairs.get(pair, 0)  # x*x: two edges between the same nodes
        pairs[pair] = pairs.get(pair, 0) + 1
        mid = (x1 + x2) / 2
        path = f"M {x1:.1f} {y1:.1f} C {mid:.1f} {y1 + bend:.1f}, {mid:.1f} {y2 + bend:.1f}, " \
               f"{x2:.1f} {y2:.1f}"
        kind = "edge" if edge["active"] else "edge inactive"
        label = edge["label"]
        out.append(f'<g class="{kind}" id="{edge["id"]}"><path d="{path}" '
                   f'marker-end="url(#arrow)"/>')
        if label:
            out.append(f'<text x="{mid:.1f}" y="{(y1 + y2) / 2 + bend - 4:.1f}" '
                       f'text-anchor="middle"><title>{html.escape(label)}</title>'
                       f'{html.escape(_clip(label))}</text>')
        out.append("</g>")
    for node in data["nodes"]:
        x, y = centre(node["id"])
        op = {"input": "input", "const": "constant"}.get(node["op"], node["op"])
        out.append(
            f'<g class="node {node["kind"]}" id="n{node["id"]}" data-node="{node["id"]}">'
            f'<title>{html.escape(node["name"])}</title>'
            f'<rect x="{x - NODE_WIDTH / 2:.1f}" y="{y - NODE_HEIGHT / 2:.1f}" '
            f'width="{NODE_WIDTH}" height="{NODE_HEIGHT}" rx="8"/>'
            f'<text x="{x:.1f}" y="{y - 4:.1f}" text-anchor="middle" class="name">'
            f'{html.escape(_clip(node["name"]))}</text>'
            f'<text x="{x:.1f}" y="{y + 13:.1f}" text-anchor="middle" class="op">{op}</text>'
            "</g>")
    out.append("</svg>")
    return "\n".join(out)


# --------------------------------------------------------------------------- the page


def _json_for_script(data: dict) -> str:
    """JSON that cannot end the <script> element it sits in (``<``, ``>``, ``&`` escaped
    inside strings; the parsed data is unchanged)."""
    text = json.dumps(data, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def to_html(job: GraphPicture) -> str:
    """The whole page: picture, controls, tables, the data and the script, inline."""
    from backprop.render.steps_page import CSS, SCRIPT

    data = page_data(job)
    e = html.escape
    node_rows = "\n".join(
        f'<tr data-node="{n["id"]}"><th scope="row">{e(n["name"])}</th>'
        f'<td>{e({"input": "input", "const": "constant"}.get(n["op"], n["op"]))}</td>'
        f'<td class="value num"></td><td class="deriv num"></td></tr>'
        for n in data["nodes"])
    heads = "".join(f'<th scope="col">∂/∂{e(w)}</th>' for w in data["wrt"])
    grad_rows = "\n".join(
        f'<tr><th scope="row">{e(name)}</th>' + "".join(
            f'<td class="num" data-output="{o}" data-wrt="{k}"></td>'
            for k in range(len(data["wrt"]))) + "</tr>"
        for o, name in enumerate(data["outputs"]))
    count = len(data["values"]) + len(data["modes"]["reverse"])
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>backprop: {e(data["title"])}</title>
<style>{CSS}</style>
</head>
<body>
<header>
<h1>{e(data["title"])}</h1>
<p>The forward sweep computes every node's value. Then, in reverse mode, adjoints
(adj[n] = ∂output/∂n) flow from the output back to the inputs, one edge at a time:
adj[arg] += adj[node] × ∂node/∂arg; in forward mode, tangents (t_x[n] = ∂n/∂x) flow from
one input onwards: t_x[node] = Σ t_x[arg] × ∂node/∂arg. Step with the buttons or the
arrow keys (← →, Home, End).</p>
</header>
<main>
<nav id="controls" aria-label="Steps">
<button type="button" id="first" aria-label="First step (Home)">« First</button>
<button type="button" id="prev" aria-label="Previous step (left arrow)">◀ Back</button>
<button type="button" id="next" aria-label="Next step (right arrow)">Next ▶</button>
<button type="button" id="last" aria-label="Last step (End)">Last »</button>
<span id="counter" aria-live="polite">Step 0 of {count}</span>
<fieldset id="mode"><legend>Derivatives by</legend>
<label><input type="radio" name="mode" value="reverse" checked> reverse mode
(adjoints, a sweep per output)</label>
<label><input type="radio" name="mode" value="forward"> forward mode
(tangents, a sweep per input)</label>
</fieldset>
</nav>
<section id="now" aria-live="polite">
<p id="phase">Press Next (or →) to start the forward sweep.</p>
<p id="step-text"></p>
<div id="sum" hidden><p>running sum <span id="sum-name"></span>:
<span id="sum-before"></span><span id="sum-plus"></span> = <span id="sum-after"></span></p>
<ol id="sum-terms"></ol></div>
<p id="done" hidden>✓ The steps end at the gradient that <code>backprop grad</code> prints.</p>
</section>
<div id="picture">{svg(job, data)}</div>
<section id="tables">
<table id="nodes">
<caption>Every node: its value (forward sweep) and its
<span id="deriv-of">adjoint (reverse mode)</span></caption>
<thead><tr><th scope="col">node</th><th scope="col">op</th><th scope="col">value</th>
<th scope="col" id="deriv-head">adjoint</th></tr></thead>
<tbody>
{node_rows}
</tbody>
</table>
<table id="gradient">
<caption>The gradient</caption>
<thead><tr><th scope="col">output</th>{heads}</tr></thead>
<tbody>
{grad_rows}
</tbody>
</table>
</section>
</main>
<script type="application/json" id="steps-data">{_json_for_script(data)}</script>
<script>{SCRIPT}</script>
</body>
</html>
"""
