"""The computational graph: a flat, topologically ordered tuple of immutable nodes.

Like a jaxpr, a graph prints as one line per node (``v3 = mul v1 v2``). Every node's
arguments come before it, so a plain loop in index order is a forward sweep and a loop in
reverse order is a backward sweep: nothing here or downstream ever recurses.

``GraphBuilder`` merges identical subexpressions (hash-consing), so ``sin(x^2)+cos(x^2)``
has a single ``x^2`` node with two users, the DAG the seeds draw.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import NamedTuple

from backprop.engine.ops import OPS


class Node(NamedTuple):
    """One vertex. ``op`` is an entry of the op table, "input" or "const"."""

    op: str
    args: tuple[int, ...] = ()
    label: str | None = None  # variable name, statement name, or a constant's text ("2.5", "pi")
    const: float | None = None  # value of a "const" node


@dataclass(frozen=True, eq=False)
class Graph:
    """Nodes in topological order plus the ids of the outputs (one per expression)."""

    nodes: tuple[Node, ...]
    outputs: tuple[int, ...]
    output_names: tuple[str, ...] = field(default=())
    # Values for the inputs when no point is given (a network spec's parameter values);
    # point.parse_point falls back to them. None for expressions.
    defaults: dict[str, float] | None = field(default=None)
    # Ids of the input variables, in order of first appearance: found from the nodes when
    # not given (the compiled parser gives them, a pass over millions of nodes saved).
    inputs: tuple[int, ...] | None = field(default=None)  # a tuple after __post_init__

    def __post_init__(self) -> None:
        if self.inputs is None:
            object.__setattr__(self, "inputs",
                               tuple(i for i, n in enumerate(self.nodes) if n.op == "input"))

    def __len__(self) -> int:
        return len(self.nodes)

    @cached_property
    def input_names(self) -> tuple[str, ...]:
        return tuple(self.nodes[i].label for i in self.inputs)

    @cached_property
    def edge_count(self) -> int:
        return sum(len(n.args) for n in self.nodes)

    @cached_property
    def active(self) -> tuple[bool, ...]:
        """active[i]: node i depends on some input, so derivatives flow through it."""
        flags = [False] * len(self.nodes)
        for i, node in enumerate(self.nodes):
            flags[i] = node.op == "input" or any(flags[a] for a in node.args)
        return tuple(flags)

    def depends_on(self, sources) -> list[bool]:
        """flags[i]: node i is one of ``sources`` or is computed from one of them."""
        flags = [False] * len(self.nodes)
        for s in sources:
            flags[s] = True
        for i, node in enumerate(self.nodes):
            if not flags[i] and node.args:
                flags[i] = any(flags[a] for a in node.args)
        return flags

    def paths_to(self, output: int) -> list[int]:
        """count[i]: number of distinct edge paths from node i to ``output`` (exact ints)."""
        count = [0] * len(self.nodes)
        count[output] = 1
        for i in range(output, -1, -1):
            if count[i]:
                for a in self.nodes[i].args:
                    count[a] += count[i]
        return count

    @cached_property
    def depth(self) -> int:
        """Length of the longest chain of ops from a leaf to any node (one pass; the unary
        and binary cases are spelled out: this runs on every large graph's JSON)."""
        level = [0] * len(self.nodes)
        deepest = 0
        for i, node in enumerate(self.nodes):
            args = node.args
            if not args:
                continue
            if len(args) == 1:
                here = level[args[0]] + 1
            elif len(args) == 2:
                a, b = level[args[0]], level[args[1]]
                here = (a if a > b else b) + 1
            else:
                here = 1 + max(level[a] for a in args)
            level[i] = here
            if here > deepest:
                deepest = here
        return deepest

    @cached_property
    def names(self) -> tuple[str, ...]:
        """How a person refers to each node, in every view (listings, pictures, warnings,
        notes): its label, else v1, v2, ... counting the unlabelled nodes in order."""
        names, counter = [], 0
        for node in self.nodes:
            if node.label is None:
                counter += 1
                names.append(f"v{counter}")
            else:
                names.append(node.label)
        return tuple(names)

    def name(self, i: int) -> str:
        return self.names[i]


class GraphBuilder:
    """Appends nodes in topological order, merging identical ones."""

    def __init__(self) -> None:
        self._nodes: list[Node] = []
        self._index: dict[Node, int] = {}  # a node is its own key: no second tuple per node
        self._labels: dict[int, str] = {}

    def __len__(self) -> int:
        return len(self._nodes)

    def node(self, node_id: int) -> Node:
        return self._nodes[node_id]

    def has_input(self, name: str) -> bool:
        return Node("input", (), name) in self._index

    def _add(self, node: Node) -> int:
        found = self._index.get(node)
        if found is not None:
            return found
        self._nodes.append(node)
        self._index[node] = len(self._nodes) - 1
        return len(self._nodes) - 1

    def input(self, name: str) -> int:
        """The input variable called ``name`` (created on first use)."""
        return self._add(Node("input", (), name))

    def const(self, value: float, text: str | None = None) -> int:
        text = text if text is not None else repr(float(value))
        return self._add(Node("const", (), text, float(value)))

    def apply(self, op: str, *args: int) -> int:
        if op not in OPS:
            raise KeyError(op)
        if len(args) != OPS[op].arity:
            raise ValueError(f"{op} takes {OPS[op].arity} argument(s), got {len(args)}")
        return self._add(Node(op, args))

    def label(self, node_id: int, name: str) -> None:
        """Give an intermediate node a name (the first name given to a node wins)."""
        if self._nodes[node_id].op not in ("input", "const"):
            self._labels.setdefault(node_id, name)

    def build(self, outputs: tuple[int, ...] | list[int], output_names=(),
              defaults: dict[str, float] | None = None) -> Graph:
        nodes = tuple(
            node._replace(label=self._labels[i]) if i in self._labels else node
            for i, node in enumerate(self._nodes)
        )
        return Graph(nodes, tuple(outputs), tuple(output_names),
                     dict(defaults) if defaults is not None else None)
