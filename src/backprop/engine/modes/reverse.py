"""Reverse mode (backpropagation): one adjoint sweep per output.

    a[arg] += p[node, arg] * a[node]     for every node, from the output back to the inputs

Adjoints live in a flat list (None until a node receives its first contribution), so nodes
the output does not depend on are skipped, and a first contribution is a store, not an
addition.
"""

from __future__ import annotations

from backprop.engine.accel import CORE
from backprop.engine.backends import FLOAT
from backprop.engine.counts import Counts
from backprop.engine.evaluate import local_partials
from backprop.engine.modes import ModeResult


def reverse(graph, values, wrt, backend=FLOAT) -> ModeResult:
    if CORE is not None and backend is FLOAT:
        swept = CORE.reverse(graph.nodes, values, wrt, graph.outputs)  # the same sweep, in C
        if swept is not None:
            jacobian, partials, adds, peak, primitive = swept
            return _result(graph, jacobian, partials, adds, peak, primitive)
    nodes = graph.nodes
    active = graph.depends_on(wrt)
    jacobian, partials, adds, peak = [], 0, 0, 0
    for out in graph.outputs:
        adjoint = [None] * (out + 1)
        if active[out]:
            adjoint[out] = backend.one
        reached = 0
        for i in range(out, -1, -1):
            a = adjoint[i]
            if a is None:
                continue
            reached += 1
            node = nodes[i]
            if not node.args:
                continue
            local = local_partials(graph, values, i, backend)
            for arg, p in zip(node.args, local):
                if not active[arg]:
                    continue
                partials += 1
                contribution = p * a
                if adjoint[arg] is None:
                    adjoint[arg] = contribution
                else:
                    adjoint[arg] = adjoint[arg] + contribution
                    adds += 1
        peak = max(peak, reached)
        jacobian.append([adjoint[w] if w <= out and adjoint[w] is not None else 0 for w in wrt])
    return _result(graph, jacobian, partials, adds, peak,
                   sum(1 for n in nodes if n.args))


def _result(graph, jacobian, partials, adds, peak, primitive) -> ModeResult:
    counts = Counts("reverse", sweeps=len(graph.outputs), primitive_evals=primitive,
                    partial_evals=partials, multiplications=partials,  # one per edge visit
                    additions=adds, peak_values=len(graph.nodes) + peak)
    return ModeResult("reverse", jacobian, counts)
