"""The ``backprop graph --format tree`` view: a rich Tree built from ``picture.tree_rows``.

The rows come in pre-order with their depth, so the tree is assembled with a stack of open
branches (no recursion); rich draws a Tree with its own explicit stack too.
"""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.measure import Measurement
from rich.tree import Tree

from backprop.jobs.picture import number_text

_KIND_STYLE = {"input": "blue", "const": "dim", "op": "", "output": "bold yellow"}


def _label(node, row) -> str:
    style = _KIND_STYLE[node.kind]
    name = escape(node.name)
    text = f"[{style}]{name}[/{style}]" if style else name
    if row.repeated:
        return text + "  [dim](shared, shown above)[/dim]"
    if node.op == "input":
        text += "  [dim]input[/dim]"
    elif node.op != "const":
        text += f"  [dim]{escape(node.op)}[/dim]"
    if node.value is not None and node.op != "const":
        text += f"  = {escape(number_text(node.value))}"
    if node.grad is not None:
        text += f"  [dim]grad[/dim] {escape(number_text(node.grad))}"
    return text


def build_tree(picture, rows) -> Tree:
    """A rich Tree: one root per output (several outputs hang under the picture's title)."""
    roots = [row for row in rows if row.depth == 0]
    if len(roots) == 1:
        top = None
    else:
        top = Tree(escape(picture.title))
    open_branches: list[Tree] = []
    for row in rows:
        label = _label(picture.nodes[row.node], row)
        del open_branches[row.depth:]
        if row.depth == 0:
            branch = Tree(label) if top is None else top.add(label)
            if top is None:
                top = branch
        else:
            branch = open_branches[-1].add(label)
        open_branches.append(branch)
    return top


def render_tree(picture, rows, console: Console) -> None:
    if len([row for row in rows if row.depth == 0]) == 1:
        console.print(f"[bold]{escape(picture.title)}[/bold]")
    tree = build_tree(picture, rows)
    # Deep branches would fold a number: widen the view until every word fits its indent.
    words = Measurement.get(console, console.options.update_width(1_000_000), tree).minimum
    width = console.width
    console.width = max(width, words)
    try:
        console.print(tree)
    finally:
        console.width = width


def tree_text(picture, rows, width: int = 120) -> str:
    """The tree as plain text (for -o FILE): no colour, fixed width."""
    import io

    buffer = io.StringIO()
    console = Console(file=buffer, width=width, color_system=None, force_terminal=False,
                      highlight=False)
    render_tree(picture, rows, console)
    return buffer.getvalue()
