"""Print a graph back as expression text that parses to the same graph.

Named intermediates print as statements (``a = 2*x + y; sin(a)``), so a shared node is
written once. Texts are built in topological order (no recursion) with the fewest
parentheses that keep the meaning; a text that would pass ``max_chars`` is abandoned early
(``None``), because an unnamed DAG can unfold into exponentially long text.
"""

from __future__ import annotations

from .graph import Graph
from .ops import OPS

_ATOM = 100


def node_texts(graph: Graph, max_chars: int = 100_000) -> list[str | None]:
    """text[i]: node i as an expression over names (None where it is too long to print)."""
    texts: list[str | None] = [None] * len(graph.nodes)
    precedence = [_ATOM] * len(graph.nodes)
    for i, node in enumerate(graph.nodes):
        if not node.args:
            texts[i] = node.label
            precedence[i] = 3 if node.label.startswith("-") else _ATOM
            continue
        args = []
        for a in node.args:
            if graph.nodes[a].args and graph.nodes[a].label is not None:
                args.append((graph.nodes[a].label, _ATOM))
            else:
                args.append((texts[a], precedence[a]))
        if any(text is None for text, _ in args):
            continue
        op = OPS[node.op]
        if op.is_function:
            text = f"{op.symbol}({args[0][0]})"
        elif op.arity == 1:  # negation: binds looser than ^, tighter than * /
            inner, p = args[0]
            text = "-" + (inner if p > op.precedence else f"({inner})")
        else:
            (left, lp), (right, rp) = args
            if op.name == "pow":  # right-associative; a negative base needs parentheses
                left = left if lp > op.precedence else f"({left})"
                right = right if rp >= op.precedence - 1 and not right.startswith("-") \
                    else f"({right})"
                text = f"{left}^{right}"
            else:
                left = left if lp >= op.precedence else f"({left})"
                right = right if rp > op.precedence else f"({right})"
                if right.startswith("-"):
                    right = f"({right})"
                text = f"{left} {op.symbol} {right}" if op.precedence == 1 \
                    else f"{left}*{right}" if op.name == "mul" else f"{left}/{right}"
        if len(text) <= max_chars:
            texts[i] = text
            precedence[i] = op.precedence
    return texts


def to_text(graph: Graph, max_chars: int = 100_000) -> str | None:
    """The whole graph as statements, one per named node, then the outputs."""
    texts = node_texts(graph, max_chars)
    statements = []
    for i, node in enumerate(graph.nodes):
        if node.args and node.label is not None:
            if texts[i] is None:
                return None
            statements.append(f"{node.label} = {texts[i]}")
    for out in graph.outputs:
        node = graph.nodes[out]
        text = node.label if node.args and node.label is not None else texts[out]
        if text is None:
            return None
        if not (node.args and node.label is not None) or not statements or \
                statements[-1] != f"{node.label} = {texts[out]}":
            statements.append(text)
    text = "; ".join(statements)
    return text if len(text) <= max_chars else None
