"""Pictures of the graph as data: the ``graph`` job.

``build`` annotates a graph once: every node's readable name (the names ``--explain``
uses), its op, and at a point its value and its gradient ∂f/∂node (the adjoint, from
reverse mode run with every active node as a variable); every edge's local partial as a
formula (small graphs) and, at a point, as a number. ``tree_rows`` gives the rows of an
expression tree. ``graph_picture`` is the whole job: the checks that come before any
work, the rows, the point and the annotated picture. Turning it into a listing, DOT,
Mermaid, a tree or Graphviz's svg/png is formatting: ``render/picture_text.py``. All
loops; nothing recurses, so a 1,000,000-node chain lists fine.

Limits (docs/graph.md): svg/png are drawn up to ``DRAW_MAX_NODES`` nodes (``dot`` takes
minutes on larger graphs), the tree up to ``TREE_MAX_ROWS`` rows and ``TREE_MAX_DEPTH``
levels; edge formulas are written up to ``FORMULA_MAX_NODES`` nodes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from backprop.errors import InputError, LimitError
from backprop.engine.graph import Graph

FORMATS = ("text", "tree", "dot", "mermaid", "svg", "png", "html")
SUFFIXES = {".txt": "text", ".dot": "dot", ".gv": "dot", ".mmd": "mermaid",
            ".mermaid": "mermaid", ".svg": "svg", ".png": "png", ".html": "html",
            ".htm": "html"}
DRAW_MAX_NODES = 5_000  # svg/png through Graphviz
EMBED_MAX_NODES = 50  # a picture inside a report (Markdown's Mermaid block)
TREE_MAX_ROWS = 5_000
TREE_MAX_DEPTH = 100
FORMULA_MAX_NODES = 400  # edge formulas (SymPy) on larger graphs would be slow


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


# --------------------------------------------------------------------------- the job


def check_drawable(graph: Graph, max_nodes: int = DRAW_MAX_NODES) -> None:
    if len(graph) > max_nodes:
        raise LimitError(
            f"the graph has {len(graph):,} nodes; svg and png are drawn up to "
            f"{max_nodes:,} nodes (Graphviz's layout would take minutes)",
            hint="use --format dot or --format text, which work for any size")


@dataclass(frozen=True)
class GraphPicture:
    """The ``graph`` job's result: the annotated picture, the tree's rows (for the tree
    format), the warnings about the point, and for the step-through page (html) the
    sweeps' steps (``jobs.steps``)."""

    graph: Graph
    picture: Picture
    rows: list[TreeRow] | None
    warnings: list[str]
    steps: Any = None  # a jobs.steps.StepThrough for --format html


def graph_picture(graph: Graph, at: list[str] | str | None, fmt: str,
                  program: bool = False) -> GraphPicture:
    """Annotate ``graph`` (at the point ``at``) for a picture in format ``fmt``; refuse,
    before any work, what cannot be drawn (too large, no Graphviz, too deep a tree). With
    ``program``, the picture is of ``graph``'s gradient program (``graph --program``)."""
    from backprop.frontends.point import parse_point, point_warnings

    if program:
        graph = program_of(graph)

    if fmt in ("svg", "png"):
        from backprop.graphviz import find_dot

        check_drawable(graph)  # the documented size limit first, then Graphviz
        find_dot()
    rows = tree_rows(graph) if fmt == "tree" else None
    edges_labelled = fmt in ("dot", "mermaid", "svg", "png", "html")  # pictures need SymPy
    point = parse_point(at, graph)
    steps = None
    if fmt == "html":  # the step-through page (jobs/steps.py)
        from backprop.jobs.steps import check_steppable, step_through

        if point is None and not graph.inputs:
            point = {}  # a constant expression: its numbers need no point
        check_steppable(graph, point)
        steps = step_through(graph, point)
    annotate = program_picture if program else build
    return GraphPicture(graph, annotate(graph, point, formulas=None if edges_labelled else False),
                        rows, point_warnings(point), steps)


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



def program_of(graph: Graph) -> Graph:
    """What ``graph --program`` draws: the gradient program of ``graph`` with respect to
    every input, by the reverse sweep (engine/program.py)."""
    from backprop.engine.program import gradient_program

    return gradient_program(graph, graph.inputs, "reverse")


def program_picture(program: Graph, point: Mapping[str, float] | None = None, *,
                    formulas: bool | None = None) -> Picture:
    """A gradient program's picture: its outputs named for what they are (``df/dx``), not
    ``f``, where they are not named already."""
    from dataclasses import replace

    picture = build(program, point, formulas=formulas)
    nodes = list(picture.nodes)
    for name, o in zip(program.output_names, program.outputs):
        if program.nodes[o].label is None and program.nodes[o].args:
            nodes[o] = replace(nodes[o], name=name)
    return replace(picture, nodes=tuple(nodes),
                   output_name=nodes[program.outputs[0]].name if program.outputs else "f")
