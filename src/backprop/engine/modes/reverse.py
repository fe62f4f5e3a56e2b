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
from backprop.engine.evaluate import SELECTS, local_partials
from backprop.engine.modes import Edge, ModeResult, Seed


def reverse(graph, values, wrt, backend=FLOAT, watch=None, seeds=None) -> ModeResult:
    """One adjoint sweep per output; ``watch`` (optional) sees every step (modes/__init__),
    so a watched sweep runs here in Python rather than in the compiled core.

    ``seeds`` (optional) is a list of {output node id: weight} dicts, one sweep each: a
    weighted seed over several outputs gives the vector-Jacobian product w^T J in one
    sweep (compressed Jacobians, engine/colouring.py). By default each output gets a unit
    seed, so the Jacobian's rows come out one per output (in the compiled core when it
    is built)."""
    if CORE is not None and backend is FLOAT and watch is None and seeds is None:
        swept = CORE.reverse(graph.nodes, values, wrt, graph.outputs)  # the same sweep, in C
        if swept is not None:
            jacobian, partials, adds, peak, primitive = swept
            return _result(graph, jacobian, partials, adds, peak, primitive)
    nodes = graph.nodes
    active = graph.depends_on(wrt)
    jacobian, partials, adds, peak = [], 0, 0, 0
    if seeds is None:
        seeds = [{out: backend.one} for out in graph.outputs]
    for sweep, seed in enumerate(seeds):
        out = max(seed, default=-1)
        adjoint = [None] * (out + 1)
        quiet = [False] * (out + 1)  # adjoint came only across untaken-branch edges (evaluate.py)
        for node, weight in sorted(seed.items()):
            if active[node]:
                adjoint[node] = weight
                if watch is not None:
                    watch(Seed("reverse", sweep, node))
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
            selecting = node.op in SELECTS
            for k, (arg, p) in enumerate(zip(node.args, local)):
                if not active[arg]:
                    continue
                partials += 1
                contribution = backend.times(p, a) if selecting else \
                    backend.times(a, p) if quiet[i] else p * a
                before = adjoint[arg]
                if before is None:
                    adjoint[arg] = contribution
                    quiet[arg] = selecting or quiet[i]
                else:
                    quiet[arg] = quiet[arg] and (selecting or quiet[i])
                    adjoint[arg] = before + contribution
                    adds += 1
                if watch is not None:
                    watch(Edge("reverse", sweep, i, k, arg, p, a, contribution, before,
                               adjoint[arg]))
        peak = max(peak, reached)
        jacobian.append([adjoint[w] if w <= out and adjoint[w] is not None else 0 for w in wrt])
    return _result(graph, jacobian, partials, adds, peak,
                   sum(1 for n in nodes if n.args), len(seeds))


def _result(graph, jacobian, partials, adds, peak, primitive, sweeps=None) -> ModeResult:
    counts = Counts("reverse", sweeps=len(graph.outputs) if sweeps is None else sweeps,
                    primitive_evals=primitive,
                    partial_evals=partials, multiplications=partials,  # one per edge visit
                    additions=adds, peak_values=len(graph.nodes) + peak)
    return ModeResult("reverse", jacobian, counts)
