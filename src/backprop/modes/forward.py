"""Forward mode: one tangent sweep (a JVP) per input variable.

    t[node] = sum_i p[node, arg_i] * t[arg_i]     for every node, from the input onwards

Tangents live in a dict, so a sweep only visits the nodes its input reaches; values are
the primal pass's, so no primitive is evaluated twice.
"""

from __future__ import annotations

from ..backends import FLOAT
from ..counts import Counts
from ..evaluate import local_partials
from . import ModeResult


def forward(graph, values, wrt, backend=FLOAT) -> ModeResult:
    nodes = graph.nodes
    columns, partials, mults, adds, peak = [], 0, 0, 0, 0
    for w in wrt:
        tangent = {w: 1}
        for i in range(w + 1, len(nodes)):
            node = nodes[i]
            if not node.args:
                continue
            total, local = None, None
            for k, arg in enumerate(node.args):
                t = tangent.get(arg)
                if t is None:
                    continue
                if local is None:
                    local = local_partials(graph, values, i, backend)
                partials += 1
                mults += 1
                contribution = local[k] * t
                if total is None:
                    total = contribution
                else:
                    total = total + contribution
                    adds += 1
            if total is not None:
                tangent[i] = total
        peak = max(peak, len(tangent))
        columns.append([tangent.get(out, 0) for out in graph.outputs])
    jacobian = [[column[o] for column in columns] for o in range(len(graph.outputs))]
    counts = Counts("forward", sweeps=len(wrt), primitive_evals=sum(1 for n in nodes if n.args),
                    partial_evals=partials, multiplications=mults, additions=adds,
                    peak_values=len(nodes) + peak)
    return ModeResult("forward", jacobian, counts)
