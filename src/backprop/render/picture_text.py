"""Pictures of the graph as text: DOT, Mermaid and a jaxpr-like listing, and the
``graph`` command's output (svg and png through Graphviz, the tree through rich).

Formatting only: the nodes' names, values, gradients and edge partials come annotated in
a ``jobs.picture.Picture``; nothing here evaluates. All loops, so a 1,000,000-node chain
lists fine.
"""

from __future__ import annotations

from backprop.errors import InputError
from backprop.engine.graph import Graph
from backprop.engine.ops import OPS
from backprop.jobs.picture import GraphPicture, Picture, PictureEdge, PictureNode, number_text


def node_lines(node: PictureNode, output_name: str) -> list[str]:
    """The lines of a node's label: name, op, value, and ``grad``, which is
    ∂(output)/∂(node), the node's adjoint."""
    lines = [node.name]
    if node.op == "input":
        lines.append("input")
    elif node.op == "const":
        pass
    else:
        lines.append(OPS[node.op].name)
    if node.value is not None and node.op != "const":
        lines.append(f"value {number_text(node.value)}")
    if node.grad is not None:
        lines.append(f"grad {number_text(node.grad)}")
    return lines


def edge_text(edge: PictureEdge) -> str | None:
    if not edge.active:
        return None
    if edge.formula is not None and edge.number is not None:
        shown = number_text(edge.number)
        return edge.formula if edge.formula == shown else f"{edge.formula} = {shown}"
    if edge.formula is not None:
        return edge.formula
    if edge.number is not None:
        return number_text(edge.number)
    return None


# --------------------------------------------------------------------------- DOT


def dot_escape(text: str) -> str:
    """Text for a DOT double-quoted string: backslashes and quotes escaped, no newlines."""
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ").replace("\r", " ")


_DOT_STYLE = {
    "input": 'shape=box, style="rounded,filled", fillcolor="#dbeafe", color="#1d4ed8"',
    "const": 'shape=plaintext, fontcolor="#6b7280"',
    "op": 'shape=ellipse, style=filled, fillcolor="#ffffff", color="#374151"',
    "output": 'shape=doubleoctagon, style=filled, fillcolor="#fde68a", color="#b45309", '
              'penwidth=2',
}


def to_dot(picture: Picture) -> str:
    """Graphviz source: inputs blue boxes, constants grey text, the output a gold octagon;
    each edge labelled with its local partial (formula and, at a point, number)."""
    lines = [
        "digraph backprop {",
        "  rankdir=LR;",
        f'  label="{dot_escape(picture.title)}"; labelloc=t; fontname="Helvetica";',
        '  node [fontname="Helvetica", fontsize=11];',
        '  edge [fontname="Helvetica", fontsize=10, color="#4b5563"];',
    ]
    for node in picture.nodes:
        label = "\\n".join(dot_escape(line) for line in node_lines(node, picture.output_name))
        lines.append(f'  n{node.index} [label="{label}", {_DOT_STYLE[node.kind]}];')
    for edge in picture.edges:
        text = edge_text(edge)
        attrs = [] if edge.active else ['style=dashed', 'color="#9ca3af"']
        if text is not None:
            attrs.insert(0, f'label="{dot_escape(text)}"')
        suffix = f" [{', '.join(attrs)}]" if attrs else ""
        lines.append(f"  n{edge.source} -> n{edge.target}{suffix};")
    lines.append("}")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- Mermaid

_MERMAID_ENTITIES = {
    "#": "#35;", '"': "#quot;", "<": "#lt;", ">": "#gt;", "[": "#91;", "]": "#93;",
    "{": "#123;", "}": "#125;", "|": "#124;", "`": "#96;",
    ";": "#59;", "&": "#38;", "\n": " ", "\r": " ",
}


def mermaid_escape(text: str) -> str:
    """Text for a quoted Mermaid label: every character Mermaid reads as syntax becomes an
    entity code (``#quot;``, ``#lt;``, ``#91;``), one character at a time."""
    return "".join(_MERMAID_ENTITIES.get(ch, ch) for ch in text)


_MERMAID_CLASSES = (
    "  classDef input fill:#dbeafe,stroke:#1d4ed8,color:#111827",
    "  classDef const fill:#f3f4f6,stroke:#9ca3af,color:#6b7280",
    "  classDef op fill:#ffffff,stroke:#374151,color:#111827",
    "  classDef output fill:#fde68a,stroke:#b45309,stroke-width:2px,color:#111827",
)


def to_mermaid(picture: Picture) -> str:
    """A Mermaid flowchart with the same labels as the DOT picture, escaped."""
    lines = ["flowchart LR"]
    for node in picture.nodes:
        label = "<br/>".join(mermaid_escape(line) for line in node_lines(node,
                                                                         picture.output_name))
        open_, close = {"input": ("[", "]"), "const": ("[", "]"), "op": ("(", ")"),
                        "output": ("{{", "}}")}[node.kind]
        lines.append(f'  n{node.index}{open_}"{label}"{close}')
    for edge in picture.edges:
        text = edge_text(edge)
        arrow = "-->" if edge.active else "-.->"
        if text is not None:
            lines.append(f'  n{edge.source} {arrow}|"{mermaid_escape(text)}"| n{edge.target}')
        else:
            lines.append(f"  n{edge.source} {arrow} n{edge.target}")
    lines.extend(_MERMAID_CLASSES)
    by_kind: dict[str, list[str]] = {}
    for node in picture.nodes:
        by_kind.setdefault(node.kind, []).append(f"n{node.index}")
    for kind, ids in by_kind.items():
        for start in range(0, len(ids), 200):
            lines.append(f"  class {','.join(ids[start:start + 200])} {kind}")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- listing


def listing(graph: Graph, picture: Picture | None = None) -> str:
    """A jaxpr-like listing: ``v1 = pow x 2`` per op node, constants written inline, and a
    comment with the node's readable text, value and gradient."""
    nodes = graph.nodes
    short_names = graph.names
    rows: list[tuple[str, str]] = []
    for i, node in enumerate(nodes):
        if node.op == "const":
            continue
        if node.op == "input":
            code = f"{short_names[i]} = input"
        else:
            code = f"{short_names[i]} = {node.op} " + " ".join(short_names[a] for a in node.args)
        note = ""
        if picture is not None:
            pnode = picture.nodes[i]
            if node.label is None and node.args:
                note = pnode.name
            if pnode.value is not None:
                note += f" = {number_text(pnode.value)}" if note else \
                    f"= {number_text(pnode.value)}"
            if pnode.grad is not None:
                note += f", grad {number_text(pnode.grad)}"
        rows.append((code, note))
    width = min(max((len(code) for code, _ in rows), default=0), 48)
    lines = [f"{code:<{width}}  # {note}" if note else code for code, note in rows]
    outs = ", ".join(short_names[o] for o in graph.outputs)
    lines.append(f"out: {outs}")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- output


def show_graph(job: GraphPicture, fmt: str, output: str | None) -> None:
    """The ``graph`` command's output: the job's warnings on stderr, then the picture in
    ``fmt`` on stdout (the tree drawn by rich, in colour on a terminal) or in ``output``."""
    import sys

    if fmt == "html" and output is None and sys.stdout.isatty():
        raise InputError("html is a page for a browser and standard output is a terminal",
                         hint="write it to a file: -o steps.html")
    for warning in job.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if fmt == "tree":
        from backprop.render.graph_view import render_tree, tree_text

        if output is None:
            from backprop.render.console import make_console

            render_tree(job.picture, job.rows, make_console())
            return
        data: str | bytes = tree_text(job.picture, job.rows)
    elif fmt == "text":
        data = listing(job.graph, job.picture)
    elif fmt == "dot":
        data = to_dot(job.picture)
    elif fmt == "mermaid":
        data = to_mermaid(job.picture)
    elif fmt == "html":
        from backprop.render.steps_html import to_html

        data = to_html(job)
    else:
        from backprop.graphviz import render_with_dot

        data = render_with_dot(to_dot(job.picture), fmt)
    from backprop.outfile import deliver

    deliver(data, output)
