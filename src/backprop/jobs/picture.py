"""Pictures of the graph as data and text: a jaxpr-like listing, tree rows, DOT, Mermaid.

``build`` annotates a graph once: every node's readable name (the names ``--explain``
uses), its op, and at a point its value and its gradient ∂f/∂node (the adjoint, from
reverse mode run with every active node as a variable); every edge's local partial as a
formula (small graphs) and, at a point, as a number. ``to_dot``, ``to_mermaid`` and
``listing`` turn that into strings; ``tree_rows`` gives the rows of an expression tree
that ``render/graph_view.py`` draws with rich. ``render_with_dot`` runs Graphviz's
``dot`` for svg/png. All loops; nothing recurses, so a 1,000,000-node chain lists fine.

Limits (docs/graph.md): svg/png are drawn up to ``DRAW_MAX_NODES`` nodes (``dot`` takes
minutes on larger graphs), the tree up to ``TREE_MAX_ROWS`` rows and ``TREE_MAX_DEPTH``
levels; edge formulas are written up to ``FORMULA_MAX_NODES`` nodes.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from typing import Any, Mapping

from backprop.errors import BackpropError, InputError, LimitError
from backprop.engine.graph import Graph
from backprop.engine.ops import OPS

FORMATS = ("text", "tree", "dot", "mermaid", "svg", "png")
SUFFIXES = {".txt": "text", ".dot": "dot", ".gv": "dot", ".mmd": "mermaid",
            ".mermaid": "mermaid", ".svg": "svg", ".png": "png"}
DRAW_MAX_NODES = 5_000  # svg/png through Graphviz
EMBED_MAX_NODES = 50  # a picture inside a report (Markdown's Mermaid block)
TREE_MAX_ROWS = 5_000
TREE_MAX_DEPTH = 100
FORMULA_MAX_NODES = 400  # edge formulas (SymPy) on larger graphs would be slow
DOT_TIMEOUT = 60.0  # seconds dot may take
INSTALL_HINT = ("install Graphviz (Debian/Ubuntu: apt-get install graphviz; macOS: brew install "
                "graphviz), or use --format dot, which needs no Graphviz, and draw it elsewhere")


@dataclass(frozen=True)
class PictureNode:
    index: int
    name: str  # what a person finds in the expression (labels, variables, short texts)
    op: str  # an op of the table, "input" or "const"
    is_output: bool
    value: Any = None  # at a point
    grad: Any = None  # ∂(output)/∂(this node) at a point, single-output graphs only

    @property
    def kind(self) -> str:
        if self.is_output:
            return "output"
        return {"input": "input", "const": "const"}.get(self.op, "op")


@dataclass(frozen=True)
class PictureEdge:
    source: int  # the argument
    target: int  # the node that uses it
    formula: str | None  # the local partial d target / d source, over names
    number: Any = None  # its value at a point
    active: bool = True  # False: a constant's edge, no derivative flows along it


@dataclass(frozen=True)
class Picture:
    nodes: tuple[PictureNode, ...]
    edges: tuple[PictureEdge, ...]
    title: str  # "f(x) = sin(x^2) + cos(x^2) at x = 0.5"
    output_name: str  # "f", or the output's label
    at_point: bool


def number_text(value: Any) -> str:
    """Four significant digits, as the explanation writes them."""
    from backprop.jobs.explain import short

    return short(value)


def build(graph: Graph, point: Mapping[str, float] | None = None, *,
          formulas: bool | None = None) -> Picture:
    """Annotate every node and edge of ``graph`` (at ``point`` if given)."""
    from backprop.jobs.explain import PartialFormulas, names_and_precedence
    from backprop.engine.printer import to_text

    names, precedence = names_and_precedence(graph)
    values = grads = None
    partials: dict[int, tuple] = {}
    if point is not None:
        from backprop.engine.evaluate import evaluate, local_partials
        from backprop.engine.modes.reverse import reverse

        values = evaluate(graph, point)
        if len(graph.outputs) == 1:
            active = [i for i in range(len(graph)) if graph.active[i]]
            row = reverse(graph, values, active).jacobian[0]
            grads = [None] * len(graph)
            for i, g in zip(active, row):
                grads[i] = g
        for i, node in enumerate(graph.nodes):
            if node.args:
                partials[i] = local_partials(graph, values, i)
    if formulas is None:
        formulas = len(graph) <= FORMULA_MAX_NODES
    printer = PartialFormulas(graph, names, precedence) if formulas else None
    outputs = set(graph.outputs)
    nodes = tuple(
        PictureNode(i, names[i], node.op, i in outputs,
                    values[i] if values is not None else None,
                    grads[i] if grads is not None else None)
        for i, node in enumerate(graph.nodes))
    edges = []
    active = graph.active
    for i, node in enumerate(graph.nodes):
        if not node.args:
            continue
        exprs = printer.partials(i) if printer is not None else None
        for k, a in enumerate(node.args):
            edges.append(PictureEdge(
                a, i, printer.text(exprs[k]) if exprs is not None and active[a] else None,
                partials[i][k] if i in partials and active[a] else None, bool(active[a])))
    text = to_text(graph, 120) if len(graph.outputs) == 1 else None
    inputs = ", ".join(graph.input_names[:8]) + (", …" if len(graph.input_names) > 8 else "")
    out_name = names[graph.outputs[0]] if len(graph.outputs) == 1 else "f"
    if text is None:
        title = f"{out_name}({inputs}): {len(graph):,} nodes"
    elif "=" in text:
        title = f"{out_name}({inputs}): {text}"
    else:
        title = f"{out_name}({inputs}) = {text}"
    if point is not None:
        where = ", ".join(f"{k} = {number_text(v)}" for k, v in list(point.items())[:8])
        title += f" at {where}" + (", …" if len(point) > 8 else "")
    return Picture(nodes, tuple(edges), title, out_name, point is not None)


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


# --------------------------------------------------------------------------- tree


@dataclass(frozen=True)
class TreeRow:
    depth: int
    node: int
    repeated: bool  # a shared node already shown above: referenced, not expanded again


def tree_rows(graph: Graph, max_rows: int = TREE_MAX_ROWS,
              max_depth: int = TREE_MAX_DEPTH) -> list[TreeRow]:
    """Pre-order rows of the expression tree of every output, built with an explicit
    stack; a shared op node is expanded once and referenced afterwards, leaves repeat."""
    if graph.depth > max_depth:
        raise LimitError(f"the tree would be {graph.depth:,} levels deep, over the tree limit "
                         f"of {max_depth:,}", hint="--format text lists a graph of any depth")
    rows: list[TreeRow] = []
    expanded: set[int] = set()
    for out in graph.outputs:
        stack = [(out, 0)]
        while stack:
            i, depth = stack.pop()
            node = graph.nodes[i]
            repeated = bool(node.args) and i in expanded
            rows.append(TreeRow(depth, i, repeated))
            if len(rows) > max_rows:
                raise LimitError(f"the tree has more than {max_rows:,} rows, over the tree limit",
                                 hint="--format text lists a graph of any size")
            if repeated or not node.args:
                continue
            expanded.add(i)
            for a in reversed(node.args):
                stack.append((a, depth + 1))
    return rows


# --------------------------------------------------------------------------- Graphviz


def check_drawable(graph: Graph, max_nodes: int = DRAW_MAX_NODES) -> None:
    if len(graph) > max_nodes:
        raise LimitError(
            f"the graph has {len(graph):,} nodes; svg and png are drawn up to "
            f"{max_nodes:,} nodes (Graphviz's layout would take minutes)",
            hint="use --format dot or --format text, which work for any size")


def find_dot() -> str:
    found = shutil.which("dot")
    if found is None:
        raise InputError("svg and png are drawn by Graphviz's dot program, which is not "
                         "installed", hint=INSTALL_HINT)
    return found


def render_with_dot(source: str, fmt: str, timeout: float = DOT_TIMEOUT) -> bytes:
    """Run ``dot -T<fmt>`` on DOT source and return the picture's bytes."""
    if fmt not in ("svg", "png"):
        raise InputError(f"dot renders svg or png here, not {fmt!r}")
    program = find_dot()
    try:
        proc = subprocess.run([program, f"-T{fmt}"], input=source.encode("utf-8"),
                              capture_output=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise LimitError(f"Graphviz's dot did not finish within {timeout:g} s",
                         hint="use --format dot and render it yourself") from None
    except OSError as error:
        raise InputError(f"could not run Graphviz's dot ({error.strerror or error})",
                         hint=INSTALL_HINT) from None
    if proc.returncode != 0 or not proc.stdout:
        first = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise DotFailed(f"Graphviz's dot failed (exit {proc.returncode})"
                        + (f": {first[0]}" if first else ""),
                        hint="--format dot prints the source it was given")
    return proc.stdout


class DotFailed(BackpropError):
    """dot rejected our source or crashed: not the user's input, so a bug-like exit."""

    exit_code = 70


def format_for(fmt: str | None, output: str | None) -> str:
    """The picture format: --format, else the -o file's suffix, else text."""
    if fmt is not None:
        name = fmt.strip().lower()
        if name not in FORMATS:
            raise InputError(f"unknown format {fmt!r}", hint="formats: " + ", ".join(FORMATS))
        return name
    if output is not None:
        from pathlib import Path

        return SUFFIXES.get(Path(output).suffix.lower(), "text")
    return "text"
