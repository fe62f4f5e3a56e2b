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


def estimate(graph, wrt) -> Counts:
    """Forward mode's exact counts, without running a single sweep.

    The sweep for input w visits the *cone* of w: the C_w nodes that depend on w (w
    included) and the E_w edges whose argument lies in the cone. Each such edge is one
    partial and one multiplication; every cone node but w gathers its r contributions with
    r - 1 additions, so the sweep adds E_w - (C_w - 1); its tangent dict holds C_w values.
    Summed over the inputs:

        partials = multiplications = sum_w E_w = sum over edges (n, a) of |wrt inputs under a|
        additions = sum_w E_w - sum_w C_w + len(wrt)
        peak_values = len(nodes) + max_w C_w

    Two loops over the graph, with sets as Python-int bitsets, compute them: the inputs under
    each node (forward, over the wrt inputs) and the nodes above each input (backward, over
    the nodes that depend on some input). A bitset is dropped after its last use.
    """
    nodes = graph.nodes
    wrt_bit = {w: 1 << k for k, w in enumerate(wrt)}
    last_use = [-1] * len(nodes)
    for i, node in enumerate(nodes):
        for a in node.args:
            last_use[a] = i
    # Forward: under[i] = the wrt inputs node i depends on; size[i] = how many.
    under: dict[int, int] = {}
    size = [0] * len(nodes)
    edge_sum = cone_sum = 0
    for i, node in enumerate(nodes):
        bits = wrt_bit.get(i, 0)
        for a in node.args:
            edge_sum += size[a]
            bits |= under.get(a, 0)
        if bits:
            size[i] = bits.bit_count()
            cone_sum += size[i]
            if last_use[i] > i:
                under[i] = bits
        for a in node.args:
            if last_use[a] == i:
                under.pop(a, None)
    # Backward: above[i] = the nodes that depend on i (i included), as bits over the
    # dependent nodes only; a node's set is dropped once all its arguments have read it.
    dependent = graph.depends_on(wrt)
    position, count = [0] * len(nodes), 0
    for i in range(len(nodes)):
        if dependent[i]:
            position[i] = count
            count += 1
    above: dict[int, int] = {}
    pending = [0] * len(nodes)  # arguments that have not yet read node i's set
    users: dict[int, list[int]] = {}
    for i, node in enumerate(nodes):
        if dependent[i]:
            for a in set(node.args):
                if dependent[a]:
                    users.setdefault(a, []).append(i)
                    pending[i] += 1
    widest = 0
    for i in range(len(nodes) - 1, -1, -1):
        if not dependent[i]:
            continue
        bits = 1 << position[i]
        for u in users.pop(i, ()):
            bits |= above[u]
            pending[u] -= 1
            if not pending[u]:
                del above[u]
        if i in wrt_bit:
            widest = max(widest, bits.bit_count())
        if pending[i]:
            above[i] = bits
    return Counts("forward", sweeps=len(wrt), primitive_evals=sum(1 for n in nodes if n.args),
                  partial_evals=edge_sum, multiplications=edge_sum,
                  additions=edge_sum - cone_sum + len(wrt), peak_values=len(nodes) + widest)
