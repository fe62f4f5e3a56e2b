"""Print a graph back as expression text that parses to the same graph.

Named intermediates print as statements (``a = 2*x + y; sin(a)``), so a shared node is
written once. Texts are built without recursion, with the fewest parentheses that keep the
meaning; a text that would pass ``max_chars`` is abandoned early (``None``), because an
unnamed DAG can unfold into exponentially long text.
"""

from __future__ import annotations

from backprop.engine.graph import Graph, Node
from backprop.engine.ops import OPS

_ATOM = 100


def _named(node: Node) -> bool:
    """A named intermediate (a statement): its users print its name, not its formula."""
    return bool(node.args) and node.label is not None


def _leaf(node: Node) -> tuple[str, int]:
    return node.label, 3 if node.label.startswith("-") else _ATOM


def _compose(node: Node, args: list[tuple[str, int]]) -> tuple[str, int]:
    """An op node's text and precedence from its arguments' (text, precedence)."""
    op = OPS[node.op]
    if op.is_function:
        return f"{op.symbol}({args[0][0]})", op.precedence
    if op.arity == 1:  # negation: binds looser than ^, tighter than * /
        inner, p = args[0]
        return "-" + (inner if p > op.precedence else f"({inner})"), op.precedence
    (left, lp), (right, rp) = args
    if op.name == "pow":  # right-associative; a negative base needs parentheses
        left = left if lp > op.precedence else f"({left})"
        right = right if rp >= op.precedence - 1 and not right.startswith("-") \
            else f"({right})"
        return f"{left}^{right}", op.precedence
    left = left if lp >= op.precedence else f"({left})"
    right = right if rp > op.precedence else f"({right})"
    if right.startswith("-"):
        right = f"({right})"
    text = f"{left} {op.symbol} {right}" if op.precedence == 1 \
        else f"{left}*{right}" if op.name == "mul" else f"{left}/{right}"
    return text, op.precedence


def node_texts(graph: Graph, max_chars: int = 100_000) -> list[str | None]:
    """text[i]: node i as an expression over names (None where it is too long to print)."""
    nodes = graph.nodes
    texts: list[str | None] = [None] * len(nodes)
    precedence = [_ATOM] * len(nodes)
    named = list(map(_named, nodes))
    for i, node in enumerate(nodes):
        if not node.args:
            texts[i], precedence[i] = _leaf(node)
            continue
        args = [(nodes[a].label, _ATOM) if named[a] else (texts[a], precedence[a])
                for a in node.args]
        if args[0][0] is None or args[-1][0] is None:  # (ops take one or two arguments)
            continue
        text, p = _compose(node, args)
        if len(text) <= max_chars:
            texts[i], precedence[i] = text, p
    return texts


def _text_of(graph: Graph, root: int, max_chars: int,
             known: dict[int, tuple[str, int]]) -> str | None:
    """Node ``root`` as an expression over names, or None past ``max_chars``.

    Only the nodes that its text needs are visited (``known`` keeps their texts), with an
    explicit stack that gives up past ``2 * max_chars`` entries: it holds at most two per
    op on the path it follows down, and each such op adds a character to the text."""
    nodes = graph.nodes
    stack = [root]
    while stack:
        i = stack[-1]
        node = nodes[i]
        if i in known:
            stack.pop()
        elif not node.args:
            known[i] = _leaf(node)
            stack.pop()
        else:
            todo = [a for a in node.args if a not in known and not _named(nodes[a])]
            if todo:
                if len(stack) > 2 * max_chars:
                    return None
                stack.extend(todo)
                continue
            text, p = _compose(node, [(nodes[a].label, _ATOM) if _named(nodes[a])
                                      else known[a] for a in node.args])
            if len(text) > max_chars:
                return None
            known[i] = text, p
            stack.pop()
    return known[root][0]


def to_text(graph: Graph, max_chars: int = 100_000) -> str | None:
    """The whole graph as statements, one per named node, then the outputs (None when
    longer than ``max_chars``: a huge graph costs a pass over its nodes, not its text)."""
    known: dict[int, tuple[str, int]] = {}
    statements = []
    length = 0
    for i, node in enumerate(graph.nodes):
        if node.args and node.label is not None:
            text = _text_of(graph, i, max_chars, known)
            if text is None:
                return None
            statements.append(f"{node.label} = {text}")
            length += len(statements[-1]) + 2
            if length > max_chars + 2:
                return None
    for out in graph.outputs:
        node = graph.nodes[out]
        text = node.label if _named(node) else _text_of(graph, out, max_chars, known)
        if text is None:
            return None
        if not _named(node) or not statements or \
                statements[-1] != f"{node.label} = {known[out][0]}":
            statements.append(text)
    text = "; ".join(statements)
    return text if len(text) <= max_chars else None
