"""Forward mode: one tangent sweep (a JVP) per input variable.

    t[node] = sum_i p[node, arg_i] * t[arg_i]     for every node, from the input onwards

Tangents live in a dict, so a sweep only visits the nodes its input reaches; values are
the primal pass's, so no primitive is evaluated twice.
"""

from __future__ import annotations

from backprop.engine.backends import FLOAT
from backprop.engine.counts import Counts
from backprop.engine.evaluate import SELECTS, local_partials
from backprop.engine.modes import Edge, ModeResult, Seed


def forward(graph, values, wrt, backend=FLOAT, watch=None, seeds=None) -> ModeResult:
    """One tangent sweep per seed; ``watch`` (optional) sees every step (modes/__init__).

    ``seeds`` (optional) is a list of {input id: tangent} dicts, one sweep each: a
    directional seed ({x: v_x, y: v_y}) gives a Jacobian-vector product J v in one sweep
    (Pearlmutter's H v on a gradient program). By default each wrt input gets a unit seed,
    so the Jacobian's columns come out one per input."""
    nodes = graph.nodes
    columns, partials, mults, adds, peak = [], 0, 0, 0, 0
    if seeds is None:
        seeds = [{w: backend.one} for w in wrt]
    for seed in seeds:
        tangent = dict(seed)
        w = min(tangent, default=len(nodes))
        if watch is not None:
            watch(Seed("forward", len(columns), w))
        for i in range(w + 1, len(nodes)):
            node = nodes[i]
            if not node.args:
                continue
            total, local = None, None
            selecting = node.op in SELECTS  # an untaken branch is an exact 0 (evaluate.py)
            for k, arg in enumerate(node.args):
                t = tangent.get(arg)
                if t is None:
                    continue
                if local is None:
                    local = local_partials(graph, values, i, backend)
                partials += 1
                mults += 1
                contribution = backend.times(local[k], t) if selecting else local[k] * t
                before = total
                if total is None:
                    total = contribution
                else:
                    total = total + contribution
                    adds += 1
                if watch is not None:
                    watch(Edge("forward", len(columns), i, k, arg, local[k], t, contribution,
                               before, total))
            if total is not None:
                tangent[i] = total
        peak = max(peak, len(tangent))
        columns.append([tangent.get(out, 0) for out in graph.outputs])
    jacobian = [[column[o] for column in columns] for o in range(len(graph.outputs))]
    counts = Counts("forward", sweeps=len(seeds), primitive_evals=sum(1 for n in nodes if n.args),
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

        partials = multiplications = sum_w E_w
        additions = sum_w E_w - sum_w C_w + len(wrt)
        peak_values = len(nodes) + max_w C_w

    A dynamic program from the outputs back computes, for every node i, the size of its
    cone (count[i]) and the number of argument slots that read a node of it (reads[i]):

        one user u:      count[i] = 1 + count[u],  reads[i] = uses[i] + reads[u]
        several users:   walk the union of their cones in index order (a heap) until the
                         frontier is a single node v; what lies beyond v is v's cone, already
                         known, and disjoint from the nodes walked so far (they precede v).

    Chains, sums and fan-in cost O(1) per node; only reconverging fan-out walks, and it
    stops where the branches meet. No sweep, no partial, no recursion.
    """
    nodes = graph.nodes
    dependent = graph.depends_on(wrt)
    uses = [0] * len(nodes)  # argument slots that read node i (x*x reads x twice)
    first_user = [-1] * len(nodes)
    more_users: dict[int, list[int]] = {}
    for i, node in enumerate(nodes):
        if not dependent[i]:
            continue
        args = node.args
        for k, a in enumerate(args):
            uses[a] += 1
            if k and a in args[:k]:  # x*x: one user, read twice
                continue
            if first_user[a] < 0:
                first_user[a] = i
            else:
                more_users.setdefault(a, []).append(i)
    count = [0] * len(nodes)
    reads = [0] * len(nodes)
    for i in range(len(nodes) - 1, -1, -1):
        if not dependent[i]:
            continue
        first = first_user[i]
        if first < 0:
            count[i], reads[i] = 1, 0
        elif i not in more_users:
            count[i], reads[i] = 1 + count[first], uses[i] + reads[first]
        else:
            count[i], reads[i] = _union(i, first_user, more_users, uses, count, reads)
    sizes = [count[w] for w in wrt]
    edge_sum = sum(reads[w] for w in wrt)
    return Counts("forward", sweeps=len(wrt), primitive_evals=sum(1 for n in nodes if n.args),
                  partial_evals=edge_sum, multiplications=edge_sum,
                  additions=edge_sum - sum(sizes) + len(wrt),
                  peak_values=len(nodes) + max(sizes, default=0))


def _union(i, first_user, more_users, uses, count, reads) -> tuple[int, int]:
    """count and reads of node i's cone, when i has several users (see ``estimate``)."""
    from heapq import heappop, heappush

    frontier = [first_user[i], *more_users[i]]
    frontier.sort()
    seen = set(frontier)
    total, read = 1, uses[i]
    while frontier:
        v = heappop(frontier)
        if not frontier:  # everything still ahead lies in v's cone, and nothing walked does
            return total + count[v], read + reads[v]
        total += 1
        read += uses[v]
        if first_user[v] >= 0:
            for u in (first_user[v], *more_users.get(v, ())):
                if u not in seen:
                    seen.add(u)
                    heappush(frontier, u)
    return total, read
