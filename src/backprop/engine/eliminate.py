"""Jacobian accumulation by vertex elimination (Griewank and Naumann, "Evaluating
Derivatives", 2nd ed., chapters 9 and 10).

The *linearized graph* L has the wrt inputs as independents, the nodes on some path from
them to an output as intermediates, and the outputs as dependents; the edge u -> v carries
the local partial c_vu (evaluate.local_partials: no calculus here). Two argument slots of
one node that read the same vertex (x*x) are one edge whose partial is their sum.
An output that is also read by another node, is an input, or is listed twice stays an
intermediate and each listing gets a dependent of its own, joined by a unit edge (1).

Eliminating an intermediate v joins each predecessor u to each successor w,

    c_wu += c_wv * c_vu          (one multiplication; one addition when u -> w existed)

and removes v: |pred(v)| * |succ(v)| multiplications, its Markowitz degree. Once every
intermediate is gone, the edge x_k -> y_o holds d y_o / d x_k. Orders:

- forward: by node id (topological order), the vertex elimination form of forward mode;
- reverse: the other way round, reverse mode's form;
- markowitz: the vertex of smallest degree product next (ties: the lowest node id);
- optimal: fewest multiplications over every order, by a dynamic program over the sets
  of vertices eliminated so far (the graph left after eliminating a set S does not depend
  on the order: u -> w is an edge iff a path joins them with every interior vertex in S).
  2^k states for k intermediates: ``search_optimum`` refuses above a limit.

Counting convention (docs/sparsity.md): every edge counts, the unit partials of + and -
too (as in counts.py). How these counts map onto the modes' is ``mode_mapping``.
"""

from __future__ import annotations

from dataclasses import dataclass

from backprop.engine.backends import FLOAT
from backprop.engine.evaluate import local_partials

ORDERS = ("forward", "reverse", "markowitz")


@dataclass(frozen=True)
class Structure:
    """L's vertices: ``independents`` (wrt ids), ``intermediates`` (node ids, topological)
    and one dependent per output listing: its node id, or a copy id (len(nodes) + o)
    joined to the node by a unit edge. ``edges[v]``: v's predecessors, each once, in order."""

    independents: tuple[int, ...]
    intermediates: tuple[int, ...]
    dependents: tuple[int | None, ...]  # None: the output does not depend on wrt
    edges: dict[int, tuple[int, ...]]
    copies: dict[int, int]  # copy vertex -> the node it copies


def structure(graph, wrt: list[int]) -> Structure:
    """The linearized graph's vertices and edges (no values)."""
    nodes = graph.nodes
    active = graph.depends_on(wrt)
    useful = _reaches_outputs(graph, active)
    listed: dict[int, int] = {}
    for o in graph.outputs:
        listed[o] = listed.get(o, 0) + 1
    read = set()  # useful nodes read by a useful node
    edges: dict[int, tuple[int, ...]] = {}
    for i, node in enumerate(nodes):
        if useful[i] and node.args:
            preds = tuple(dict.fromkeys(a for a in node.args if useful[a]))
            edges[i] = preds
            read.update(preds)
    wrt_set = set(wrt)
    dependents: list[int | None] = []
    copies: dict[int, int] = {}
    for k, o in enumerate(graph.outputs):
        if not active[o]:
            dependents.append(None)
        elif o in read or o in wrt_set or listed[o] > 1:
            copy = len(nodes) + k
            copies[copy] = o
            edges[copy] = (o,)
            dependents.append(copy)
        else:
            dependents.append(o)
    plain = {d for d in dependents if d is not None and d not in copies}
    intermediates = tuple(i for i in range(len(nodes))
                          if useful[i] and nodes[i].args and i not in plain)
    return Structure(tuple(wrt), intermediates, tuple(dependents), edges, copies)


def _reaches_outputs(graph, active) -> list[bool]:
    """useful[i]: node i is active and some output depends on it."""
    useful = [False] * len(graph.nodes)
    for o in graph.outputs:
        useful[o] = active[o]
    for i in range(len(graph.nodes) - 1, -1, -1):
        if useful[i]:
            for a in graph.nodes[i].args:
                if active[a]:
                    useful[a] = True
    return useful


@dataclass(frozen=True)
class Elimination:
    """One order's result: the Jacobian (rows per output, columns per wrt) and its cost."""

    order_name: str
    order: tuple[int, ...]  # the intermediates' node ids, first eliminated first
    jacobian: list[list]
    multiplications: int
    additions: int  # accumulations onto an existing edge (c_wu += ...)
    fill: int  # edges created


def linearize(graph, values, wrt: list[int], shape: Structure, backend=FLOAT) -> dict:
    """into[v] = {u: c_vu}: the partials on L's edges (parallel slots summed)."""
    into: dict[int, dict] = {}
    for v, preds in shape.edges.items():
        if v in shape.copies:
            into[v] = {shape.copies[v]: backend.one}
            continue
        local = local_partials(graph, values, v, backend)
        wanted = set(preds)
        row: dict = {}
        for a, p in zip(graph.nodes[v].args, local):
            if a in wanted:
                row[a] = p if a not in row else row[a] + p
        into[v] = row
    return into


def eliminate(graph, values, wrt: list[int], order_name: str, shape: Structure | None = None,
              backend=FLOAT, order: tuple[int, ...] | None = None) -> Elimination:
    """Eliminate every intermediate in the named order (or the given ``order``)."""
    shape = shape or structure(graph, wrt)
    into = linearize(graph, values, wrt, shape, backend)
    out: dict[int, dict[int, None]] = {}
    for v, row in into.items():
        for u in row:
            out.setdefault(u, {})[v] = None
    if order is None:
        order = _order(order_name, shape, into, out)
    mults = adds = fill = 0
    for v in order:
        preds, succs = into.pop(v, {}), out.pop(v, {})
        for w in succs:
            c_wv = into[w].pop(v)
            row = into[w]
            for u, c_vu in preds.items():
                product = c_wv * c_vu
                mults += 1
                if u in row:
                    row[u] = row[u] + product
                    adds += 1
                else:
                    row[u] = product
                    out[u][w] = None
                    fill += 1
        for u in preds:
            del out[u][v]
    jacobian = []
    for d in shape.dependents:
        row = into.get(d, {}) if d is not None else {}
        jacobian.append([row.get(x, 0) for x in wrt])
    return Elimination(order_name, tuple(order), jacobian, mults, adds, fill)


def _order(name: str, shape: Structure, into: dict, out: dict) -> tuple[int, ...]:
    if name == "forward":
        return shape.intermediates
    if name == "reverse":
        return shape.intermediates[::-1]
    if name == "markowitz":
        return markowitz(shape, into, out)
    raise ValueError(f"unknown elimination order {name!r}")


def markowitz(shape: Structure, into: dict, out: dict) -> tuple[int, ...]:
    """Smallest |pred| * |succ| first, on the graph as it fills in (lowest id on ties)."""
    from heapq import heapify, heappop, heappush

    preds = {v: set(into.get(v, ())) for v in into}
    succs = {v: set(out.get(v, ())) for v in out}
    left = set(shape.intermediates)
    heap = [(len(preds.get(v, ())) * len(succs.get(v, ())), v) for v in left]
    heapify(heap)
    order = []
    while heap:
        degree, v = heappop(heap)
        if v not in left or degree != len(preds.get(v, ())) * len(succs.get(v, ())):
            continue  # stale: v is gone, or its degree changed since this entry
        left.discard(v)
        order.append(v)
        before, after = preds.pop(v, set()), succs.pop(v, set())
        for u in before:
            succs[u].discard(v)
            succs[u] |= after
        for w in after:
            preds[w].discard(v)
            preds[w] |= before
        for t in before | after:
            if t in left:
                heappush(heap, (len(preds.get(t, ())) * len(succs.get(t, ())), t))
    return tuple(order)


def search_optimum(shape: Structure) -> tuple[int, tuple[int, ...]]:
    """(fewest multiplications, an order achieving it) over all orders of the intermediates.

    A shortest path over eliminated sets S (Dijkstra's search with an A* bound): eliminating
    v after S costs |pred_S(v)| * |succ_S(v)|, pred_S(v) being the vertices outside S joined
    to v through S. The bound counts, for each vertex still to go, the vertex-disjoint paths
    from the independents to it times those from it to the dependents (Menger: pred_S(v)
    cuts every independent-to-v path, so it has at least that many vertices); it never
    overestimates, so the first complete set taken off the queue is optimal. At worst 2^k
    sets for k intermediates: callers refuse k over ``Limits.max_elimination_vertices``."""
    from heapq import heappop, heappush

    inter = shape.intermediates
    k = len(inter)
    vertices = sorted(set(shape.independents) | set(shape.edges)
                      | {u for preds in shape.edges.values() for u in preds})
    bit = {v: 1 << j for j, v in enumerate(vertices)}
    preds = {v: shape.edges.get(v, ()) for v in vertices}
    succs: dict[int, list[int]] = {v: [] for v in vertices}
    for v in vertices:
        for u in preds[v]:
            succs[u].append(v)
    sinks = [d for d in shape.dependents if d is not None]
    bound = [_disjoint_paths(shape.independents, v, preds)
             * _disjoint_paths(sinks, v, succs) for v in inter]
    full = (1 << k) - 1
    best = {0: 0}
    came: dict[int, int] = {}
    queue = [(sum(bound), 0, 0)]
    while queue:
        _, cost, s = heappop(queue)
        if cost > best[s]:
            continue  # a cheaper way to this set was found after this entry
        if s == full:
            break
        inside = {v for j, v in enumerate(inter) if s >> j & 1}
        ahead: dict[int, int] = {}  # vertices outside S reaching v through S
        for v in vertices:
            reach = 0
            for u in preds[v]:
                reach |= ahead[u] if u in inside else bit[u]
            ahead[v] = reach
        behind: dict[int, int] = {}
        for v in reversed(vertices):
            reach = 0
            for w in succs[v]:
                reach |= behind[w] if w in inside else bit[w]
            behind[v] = reach
        rest = sum(bound[j] for j in range(k) if not s >> j & 1)
        for j, v in enumerate(inter):
            if s >> j & 1:
                continue
            total = cost + ahead[v].bit_count() * behind[v].bit_count()
            t = s | 1 << j
            if t not in best or total < best[t]:
                best[t], came[t] = total, j
                heappush(queue, (total + rest - bound[j], total, t))
    order, s = [], full
    while s:
        j = came[s]
        order.append(inter[j])
        s &= ~(1 << j)
    return best[full], tuple(reversed(order))


def _disjoint_paths(sources, target: int, towards: dict) -> int:
    """Paths from ``sources`` to ``target`` sharing no vertex but the target (Menger's
    count): a unit-capacity maximum flow on the vertex-split graph, by breadth-first
    augmenting paths. ``towards[w]`` lists the vertices u with an edge u -> w."""
    from collections import deque

    capacity: dict[tuple, int] = {}
    adjacent: dict[tuple, list] = {}

    def arc(a, b) -> None:
        capacity[(a, b)] = capacity.get((a, b), 0) + 1
        capacity.setdefault((b, a), 0)
        adjacent.setdefault(a, []).append(b)
        adjacent.setdefault(b, []).append(a)

    for w, us in towards.items():
        if w != target:
            arc(("in", w), ("out", w))
        for u in us:
            arc(("out", u), ("in", w))
    for x in sources:
        arc("source", ("in", x))
    sink = ("in", target)
    paths = 0
    while True:
        parent = {"source": None}
        queue = deque(["source"])
        while queue and sink not in parent:
            a = queue.popleft()
            for b in adjacent.get(a, ()):
                if b not in parent and capacity[(a, b)] > 0:
                    parent[b] = a
                    queue.append(b)
        if sink not in parent:
            return paths
        b = sink
        while parent[b] is not None:
            a = parent[b]
            capacity[(a, b)] -= 1
            capacity[(b, a)] += 1
            b = a
        paths += 1


@dataclass(frozen=True)
class Mapping:
    """What a mode's multiplications hold besides its elimination order's, term by term
    (all structural): mode = elimination + seeds + parallel + dead - copies."""

    mode: str
    seeds: int  # products with a unit seed: slots reading an independent (forward) or
    #             read by a dependent (reverse), which the elimination never forms
    parallel: int  # x*x: the mode multiplies each slot, elimination sums them first
    dead: int  # forward mode also carries tangents to nodes no output depends on
    copies: int  # unit edges to an output's own dependent, multiplied by elimination only

    @property
    def difference(self) -> int:
        return self.seeds + self.parallel + self.dead - self.copies


def mode_mapping(graph, wrt: list[int], shape: Structure | None = None) -> dict[str, Mapping]:
    """Forward and reverse mode's multiplications against forward and reverse order
    elimination's: ``mode = elimination + mapping.difference`` exactly (docs/sparsity.md)."""
    shape = shape or structure(graph, wrt)
    nodes = graph.nodes
    active = graph.depends_on(wrt)
    xs = [0] * len(nodes)  # wrt inputs each node depends on (a bitset)
    for k, w in enumerate(wrt):
        xs[w] |= 1 << k
    for i, node in enumerate(nodes):
        for a in node.args:
            xs[i] |= xs[a]
    ys = [0] * len(nodes)  # output listings depending on each node (a bitset)
    for k, o in enumerate(graph.outputs):
        if active[o]:
            ys[o] |= 1 << k
    for i in range(len(nodes) - 1, -1, -1):
        for a in nodes[i].args:
            if active[a]:
                ys[a] |= ys[i]
    wrt_set = set(wrt)
    inter = set(shape.intermediates)
    plain = {d for d in shape.dependents if d is not None and d not in shape.copies}
    f_seeds = f_parallel = f_dead = r_seeds = r_parallel = 0
    for i, node in enumerate(nodes):
        slots = [a for a in node.args if active[a]]
        if not slots:
            continue
        if not ys[i]:  # no output depends on i: forward mode still visits its slots
            f_dead += sum(xs[a].bit_count() for a in slots)
            continue
        f_seeds += sum(1 for a in slots if a in wrt_set)
        if i in plain:
            r_seeds += len(slots)
        elif i in inter:
            r_parallel += (len(slots) - len(set(slots))) * ys[i].bit_count()
        for a in set(slots):
            if a in inter:
                f_parallel += (slots.count(a) - 1) * xs[a].bit_count()
    f_copies = sum(xs[o].bit_count() for o in shape.copies.values() if o in inter)
    return {"forward": Mapping("forward", f_seeds, f_parallel, f_dead, f_copies),
            "reverse": Mapping("reverse", r_seeds, r_parallel, 0, 0)}
