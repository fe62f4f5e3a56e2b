"""The primal pass: every node's value, in topological order, on a chosen backend.

Evaluation also finds the nodes whose value is not finite, so that callers can warn with
the node's name (IEEE results, never an exception).
"""

from __future__ import annotations

import math
from typing import Any, Mapping

from backprop.engine.accel import CORE
from backprop.engine.backends import FLOAT
from backprop.engine.graph import Graph
from backprop.engine.ops import OPS

# The untaken branch never poisons the gradient. ``where`` and the other selecting ops
# (``Op.selects``) give an exact-zero partial to the branch they do not take, and every mode
# makes what flows along such an edge an exact zero, never 0 * nan:
#   forward  the contribution across a selecting op's edge is times(partial, tangent);
#   reverse  it is times(partial, adjoint), and a node whose adjoint came only that way
#            ("quiet") passes times(adjoint, partial) on, so sqrt(-1)'s nan partial times
#            its zero adjoint is 0;
#   paths    a path across a zero edge of a selecting op has the product 0.
# (times(z, x) is 0 where z == 0: backends.FLOAT.) Gradient programs are those sweeps run
# on graph nodes, so they carry the same times nodes. Without a selecting op nothing changes.
SELECTS = frozenset(name for name, op in OPS.items() if op.selects)


def evaluate(graph: Graph, point: Mapping[str, Any], backend=FLOAT,
             constant=None) -> list[Any]:
    """Values of all nodes at ``point`` (input name -> value).

    ``constant(node)`` gives a const node's value on this backend (floats by default).
    """
    if CORE is not None and backend is FLOAT and constant is None:
        values = CORE.evaluate(graph.nodes, point)  # None: values the core does not take
        if values is not None:
            return values
    constant = constant or (lambda node: node.const)
    values: list[Any] = [None] * len(graph.nodes)
    for i, node in enumerate(graph.nodes):
        if node.op == "input":
            values[i] = point[node.label]
        elif node.op == "const":
            values[i] = constant(node)
        else:
            values[i] = OPS[node.op].value(backend, *(values[a] for a in node.args))
    return values


def local_partials(graph: Graph, values: list[Any], i: int, backend=FLOAT) -> tuple:
    """d(node i)/d(each argument), from the op table, at the stored values."""
    node = graph.nodes[i]
    return OPS[node.op].partials(backend, values[i], *(values[a] for a in node.args))


def non_finite(graph: Graph, values: list[float]) -> list[int]:
    """Ids of the op nodes whose value is inf or nan, first ones first."""
    try:  # a sum is finite only if every term is (an overflow just takes the long way)
        if math.isfinite(sum(values)):
            return []
    except TypeError:  # not floats
        pass
    return [i for i, v in enumerate(values)
            if graph.nodes[i].args and isinstance(v, float) and not math.isfinite(v)]


def non_finite_warnings(graph: Graph, values: list[float]) -> list[str]:
    """One warning per non-finite node (the first three), named as the user wrote it."""
    bad = non_finite(graph, values)
    if not bad:
        return []
    from backprop.engine.printer import name_table

    names = name_table(graph).readable(80)
    warnings = [f"{names[i]} is {values[i]!r} at this point (IEEE arithmetic)"
                for i in bad[:3]]
    if len(bad) > 3:
        warnings.append(f"... and {len(bad) - 3:,} more non-finite nodes")
    return warnings
