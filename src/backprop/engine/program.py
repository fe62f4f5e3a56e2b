"""The gradient as a graph: a sweep run on a backend whose operations build graph nodes.

The op table's partials are written against a backend ``B``. ``GraphBackend`` is one whose
numbers are nodes of a ``GraphBuilder`` (``Term``s): run THE REAL reverse (or forward)
sweep of ``modes/`` on it, with the function's own nodes as the values, and what comes out
is not a number but a new ``Graph`` made of the same primitives, the *gradient program*.
It prints, counts, pictures, checks and differentiates like any graph.

Evaluating the program gives, bit for bit, what the float sweep gives, because every node
is the float sweep's own operation and only what is exact for every input is folded:

- plain Python numbers (the table's ``1``, ``-1``, ``2``; the seed ``one``) combine as
  ``backends.FLOAT`` combines them, before they ever become a node;
- ``1*t`` and ``t*1`` are ``t``, ``(-1)*t`` is ``-t`` (IEEE multiplication by one and minus
  one is exact, nan included);
- ``-c`` of a constant is the constant ``-c``, as the parser folds ``-2``;
- ``B.times(z, x)`` with a constant ``z`` is ``0`` or ``z*x`` (what FLOAT's ``times`` does
  with that ``z``); otherwise the ``times`` op;
- identical nodes merge (``GraphBuilder`` hash-conses).

Nothing else is simplified: ``t + 0`` is not ``t`` (``-0.0 + 0`` is ``0.0``), ``2 - 1``
stays a node (the parser does not fold it either, so a printed program parses back).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from numbers import Real

from backprop.engine.backends import FLOAT
from backprop.engine.graph import Graph, GraphBuilder
from backprop.engine.ops import OPS


class Term:
    """A value of the graph backend: node ``id`` of ``backend``'s builder."""

    __slots__ = ("backend", "id")

    def __init__(self, backend: "GraphBackend", node_id: int):
        self.backend = backend
        self.id = node_id

    def __add__(self, other):
        return self.backend.add(self, other)

    def __radd__(self, other):
        return self.backend.add(other, self)

    def __sub__(self, other):
        return self.backend.sub(self, other)

    def __rsub__(self, other):
        return self.backend.sub(other, self)

    def __mul__(self, other):
        return self.backend.mul(self, other)

    def __rmul__(self, other):
        return self.backend.mul(other, self)

    def __neg__(self):
        return self.backend.neg(self)

    def __repr__(self) -> str:
        return f"Term({self.id})"


def _number_text(value: float) -> str:
    """A constant's label: how the parser would read it back (``2`` for 2.0)."""
    if not math.isfinite(value):
        raise ValueError(f"no text for the constant {value!r}")
    if value == 0 and math.copysign(1.0, value) < 0:
        return "-0"  # as the parser folds -0: a constant "0" would merge with 0.0
    if float(value).is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(float(value))


class GraphBackend:
    """The namespace ``B`` whose operations append nodes to one ``GraphBuilder``."""

    name = "graph"
    one = FLOAT.one  # the seed: a plain number, so that 1*t folds to t
    pi = FLOAT.pi

    def __init__(self, builder: GraphBuilder | None = None):
        self.builder = builder if builder is not None else GraphBuilder()
        for op_name, op in OPS.items():  # every function op: a node, or FLOAT on numbers
            if hasattr(self, op_name) or not hasattr(FLOAT, op_name):
                continue  # a method already, or a formula of other primitives (gelu)
            if op.is_function and op.arity == 1:
                setattr(self, op_name, self._function(op_name))
            elif op.is_function or op.precedence == 0:  # max, where, the comparisons, ...
                setattr(self, op_name, self._binary(op_name, getattr(FLOAT, op_name)))
        self.div = self._binary("div", FLOAT.div)
        self.pow = self._binary("pow", FLOAT.pow)

    # -- leaves and plain numbers
    def term(self, node_id: int) -> Term:
        return Term(self, node_id)

    def lift(self, x) -> int:
        """A node id for a Term or a plain number (a const node)."""
        if isinstance(x, Term):
            return x.id
        value = float(x)
        return self.builder.const(value, _number_text(value))

    def _apply(self, op: str, *args) -> Term:
        return Term(self, self.builder.apply(op, *(self.lift(a) for a in args)))

    def _const(self, x) -> float | None:
        """The value of a plain number or a const node, else None."""
        if isinstance(x, Term):
            node = self.builder.node(x.id)
            return node.const if node.op == "const" else None
        return x

    def _function(self, op_name: str):
        fn = getattr(FLOAT, op_name)

        def call(a):
            return fn(a) if isinstance(a, Real) else self._apply(op_name, a)

        call.__name__ = op_name
        return call

    def _binary(self, op_name: str, fn):
        def call(*args):
            if all(isinstance(a, Real) for a in args):
                return fn(*args)
            return self._apply(op_name, *args)

        call.__name__ = op_name
        return call

    # -- arithmetic, with the exact folds only
    def add(self, a, b):
        if isinstance(a, Real) and isinstance(b, Real):
            return a + b
        return self._apply("add", a, b)

    def sub(self, a, b):
        if isinstance(a, Real) and isinstance(b, Real):
            return a - b
        return self._apply("sub", a, b)

    def mul(self, a, b):
        if isinstance(a, Real) and isinstance(b, Real):
            return a * b
        if isinstance(a, Real) and a in (1, -1):
            return b if a == 1 else self.neg(b)
        if isinstance(b, Real) and b in (1, -1):
            return a if b == 1 else self.neg(a)
        return self._apply("mul", a, b)

    def neg(self, a):
        if isinstance(a, Real):
            return -a
        node = self.builder.node(a.id)
        if node.op == "const" and not node.label.startswith("-"):  # as the parser reads -2
            return Term(self, self.builder.const(-node.const, "-" + node.label))
        return self._apply("neg", a)

    def times(self, z, x):
        """FLOAT.times (a zero factor is an exact zero), folded when ``z`` is a constant."""
        known = self._const(z)
        if known is not None:
            return 0.0 if known == 0 else self.mul(z, x)
        if "times" in OPS:
            return self._apply("times", z, x)
        raise ValueError("the op table has no 'times' op for a non-constant factor")


def _output_name(graph: Graph, o: int, variable: str) -> str:
    """``dz/dx`` for an output the text names (``z = ...``), else ``df/dx`` (f1, f2, ...
    when there are several)."""
    node = graph.nodes[graph.outputs[o]]
    if node.args and node.label is not None:
        f = node.label
    else:
        f = "f" if len(graph.outputs) == 1 else f"f{o + 1}"
    return f"d{f}/d{variable}"


def gradient_program(graph: Graph, wrt_ids, mode: str = "reverse") -> Graph:
    """The Jacobian of ``graph`` with respect to the inputs ``wrt_ids`` as a new Graph.

    Its outputs are d f_o / d x_k, row-major (``df/dx``, or ``dz/dx`` for an output named
    ``z``); its inputs are the function's. Built by the real ``mode`` sweep (reverse or
    forward) on ``GraphBackend``, then pruned to what the outputs need (inputs are kept).
    """
    from backprop.engine.modes.forward import forward
    from backprop.engine.modes.reverse import reverse

    sweep = {"reverse": reverse, "forward": forward}[mode]
    backend = GraphBackend()
    builder = backend.builder
    ids = []
    for node in graph.nodes:
        if node.op == "input":
            ids.append(builder.input(node.label))
        elif node.op == "const":
            ids.append(builder.const(node.const, node.label))
        else:
            ids.append(builder.apply(node.op, *(ids[a] for a in node.args)))
            if node.label is not None:
                builder.label(ids[-1], node.label)
    values = [Term(backend, i) for i in ids]
    jacobian = sweep(graph, values, list(wrt_ids), backend).jacobian
    outputs, names = [], []
    wrt_names = [graph.nodes[w].label for w in wrt_ids]
    for o, row in enumerate(jacobian):
        for k, entry in enumerate(row):
            outputs.append(backend.lift(entry))
            names.append(_output_name(graph, o, wrt_names[k]))
    return _pruned(builder.build(outputs, names))


def _pruned(graph: Graph) -> Graph:
    """The nodes the outputs need, and every input, in the same order (ids renumbered)."""
    nodes = graph.nodes
    keep = [node.op == "input" for node in nodes]
    for o in graph.outputs:
        keep[o] = True
    for i in range(len(nodes) - 1, -1, -1):
        if keep[i]:
            for a in nodes[i].args:
                keep[a] = True
    new_id, kept = [-1] * len(nodes), []
    for i, node in enumerate(nodes):
        if keep[i]:
            new_id[i] = len(kept)
            kept.append(node._replace(args=tuple(new_id[a] for a in node.args)))
    return Graph(tuple(kept), tuple(new_id[o] for o in graph.outputs), graph.output_names)


@dataclass(frozen=True)
class ProgramCost:
    """What a graph costs to run (docs/counting.md, "Nonscalar operations")."""

    nodes: int
    ops: int  # op nodes: every node but inputs and constants
    nonscalar: int  # Baur and Strassen's measure: the ops that are not linear in the inputs


LINEAR = ("add", "sub", "neg")
PRODUCTS = ("mul", "times")


def nonscalar(op: str, active_args: tuple[bool, ...]) -> bool:
    """Is an op on arguments that do (True) or do not depend on an input nonscalar? A
    product is when both factors do, a division when its divisor does, +, - and negation
    never are, every other op (functions, powers) is when its argument does."""
    if not any(active_args) or op in LINEAR:
        return False
    if op in PRODUCTS:
        return all(active_args)
    if op == "div":
        return active_args[1]
    return True


def cost(graph: Graph) -> ProgramCost:
    """Node count, op count and nonscalar operations of ``graph`` (one pass)."""
    active = graph.active
    ops = count = 0
    for node in graph.nodes:
        if node.args:
            ops += 1
            count += nonscalar(node.op, tuple(active[a] for a in node.args))
    return ProgramCost(len(graph.nodes), ops, count)
