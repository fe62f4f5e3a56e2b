"""Reverse mode (backpropagation): one adjoint sweep per output.

    a[arg] += p[node, arg] * a[node]     for every node, from the output back to the inputs

Adjoints live in a dict keyed by node id, so nodes the output does not depend on are
never touched, and the first contribution to an adjoint is a store, not an addition.
"""

from __future__ import annotations

from ..backends import FLOAT
from ..counts import Counts
from ..evaluate import local_partials
from . import ModeResult


def reverse(graph, values, wrt, backend=FLOAT) -> ModeResult:
    nodes = graph.nodes
    active = graph.depends_on(wrt)
    op_nodes = sum(1 for n in nodes if n.args)
    jacobian, partials, mults, adds, peak = [], 0, 0, 0, 0
    for out in graph.outputs:
        adjoint = {out: 1} if active[out] else {}
        for i in range(out, -1, -1):
            a = adjoint.get(i)
            node = nodes[i]
            if a is None or not node.args:
                continue
            local = local_partials(graph, values, i, backend)
            for arg, p in zip(node.args, local):
                if not active[arg]:
                    continue
                partials += 1
                mults += 1
                contribution = p * a
                if arg in adjoint:
                    adjoint[arg] = adjoint[arg] + contribution
                    adds += 1
                else:
                    adjoint[arg] = contribution
        peak = max(peak, len(adjoint))
        jacobian.append([adjoint.get(w, 0) for w in wrt])
    counts = Counts("reverse", sweeps=len(graph.outputs), primitive_evals=op_nodes,
                    partial_evals=partials, multiplications=mults, additions=adds,
                    peak_values=len(nodes) + peak)
    return ModeResult("reverse", jacobian, counts)
