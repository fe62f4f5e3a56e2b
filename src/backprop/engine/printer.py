"""Print a graph back as expression text that parses to the same graph.

Named intermediates print as statements (``a = 2*x + y; sin(a)``), so a shared node is
written once. Texts are built without recursion, with the fewest parentheses that keep the
meaning; a text that would pass ``max_chars`` is abandoned early (``None``), because an
unnamed DAG can unfold into exponentially long text.
"""

from __future__ import annotations

import weakref

from backprop.engine.graph import Graph, Node
from backprop.engine.ops import OPS, VARIADIC

_ATOM = 100


def _named(node: Node) -> bool:
    """A named intermediate (a statement): its users print its name, not its formula."""
    return bool(node.args) and node.label is not None


def _leaf(node: Node) -> tuple[str, int]:
    return node.label, 3 if node.label.startswith("-") else _ATOM


def compose(op_name: str, args: list[tuple[str, int]] | tuple, spaced: bool = False,
            fold: bool = False) -> tuple[str, int]:
    """An op applied to argument texts of given precedence, with the fewest parentheses
    that keep the meaning: its text and its precedence. ``spaced`` writes ``2 * 0.5``
    (numbers substituted into a step) where the expression reads ``2*x``. ``fold``: the
    first argument is the same variadic op, written as one call (``max(a, b, c)``)."""
    op = OPS[op_name]
    if op.is_function:
        if fold:  # max(max(a, b), c) reads max(a, b, c), which parses back to it
            return f"{args[0][0][:-1]}, {', '.join(text for text, _ in args[1:])})", \
                op.precedence
        return f"{op.symbol}({', '.join(text for text, _ in args)})", op.precedence
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
    right = right if rp > op.precedence and not right.startswith("-") else f"({right})"
    spaced = spaced or op.precedence <= 1  # x + y, x > 0
    return (f"{left} {op.symbol} {right}" if spaced else f"{left}{op.symbol}{right}"), \
        op.precedence


def _compose(node: Node, args: list[tuple[str, int]], nodes=()) -> tuple[str, int]:
    """An op node's text and precedence from its arguments' (text, precedence)."""
    fold = node.op in VARIADIC and nodes[node.args[0]].op == node.op \
        and not _named(nodes[node.args[0]])
    return compose(node.op, args, fold=fold)


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
        if any(text is None for text, _ in args):
            continue
        text, p = _compose(node, args, nodes)
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
                                      else known[a] for a in node.args], nodes)
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


class NameTable:
    """How a person refers to each node of one graph: the single place names come from.

    ``ids`` are ``backprop graph``'s names (``Graph.names``: the label, else v1, v2, ...).
    The views below start from them and differ only in how much expression text they may
    show for an unlabelled node, each for a reason:

    - ``readable(n)``: the label, else the node's expression text when it fits in ``n``
      characters, else its id (path listings, warnings: a reader matches it to the text);
    - ``texts(n)``: the expression text alone (None past ``n``), computed once per width.
    """

    def __init__(self, graph: Graph):
        self.graph = graph
        self._texts: dict[int, list[str | None]] = {}
        self._readable: dict[int, list[str]] = {}

    @property
    def ids(self) -> tuple[str, ...]:
        return self.graph.names

    def texts(self, max_chars: int) -> list[str | None]:
        found = self._texts.get(max_chars)
        if found is None:
            found = self._texts[max_chars] = node_texts(self.graph, max_chars)
        return found

    def readable(self, max_chars: int) -> list[str]:
        found = self._readable.get(max_chars)
        if found is None:
            texts, ids = self.texts(max_chars), self.ids
            found = self._readable[max_chars] = [
                node.label if node.label is not None else texts[i] if texts[i] is not None
                else ids[i] for i, node in enumerate(self.graph.nodes)]
        return found


_TABLES: "weakref.WeakKeyDictionary[Graph, NameTable]" = weakref.WeakKeyDictionary()


def name_table(graph: Graph) -> NameTable:
    """The graph's one naming table, made on first use and kept while the graph lives."""
    table = _TABLES.get(graph)
    if table is None:
        table = _TABLES[graph] = NameTable(graph)
    return table
