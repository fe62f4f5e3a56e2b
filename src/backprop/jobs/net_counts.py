"""Exact counts for the array engine: the sizes of the scalar graph a network stands for.

The scalar engine counts by running the modes on that graph; the array engine never builds
it, so the counts come from its structure (unmerged), and tests check both agree.
"""

from __future__ import annotations

from dataclasses import dataclass

from backprop.engine.counts import Counts
from backprop.frontends.spec import Spec

@dataclass(frozen=True)
class Structure:
    """Exact sizes of the scalar structure (unmerged), for the three modes' counts."""

    op_nodes: int
    edges: int  # edges from a node that depends on a parameter
    paths: int
    edge_visits: int  # sum of path lengths
    entries: int  # weight and bias entries
    distinct: int  # parameters with a gradient: unnamed entries + named params in use
    forward_edges: int  # sum over entries of the edges in the entry's forward cone
    forward_nodes: int  # sum over entries of the nodes in the cone
    longest: int  # edges on the longest parameter-to-L path

    def counts(self, mode: str, peak: int) -> Counts:
        gather = self.entries - self.distinct  # a tied parameter sums its entries
        if mode == "reverse":
            return Counts("reverse", 1, self.op_nodes, self.edges, self.edges,
                          self.edges - (self.op_nodes - 1 + self.distinct), None, peak)
        if mode == "paths":
            return Counts("paths", 0, self.op_nodes, self.edges, self.edge_visits - self.paths,
                          self.paths - self.distinct, self.paths, peak)
        return Counts("forward", self.entries, self.op_nodes, self.forward_edges,
                      self.forward_edges, self.forward_edges - self.forward_nodes + gather,
                      None, peak)


def _chain(n: int, position: int) -> int:
    """Nodes of an n-term sum chain that a change in term ``position`` passes through."""
    return n - max(position, 1) if n >= 2 else 0


def structure(spec: Spec, T) -> Structure:
    """Closed forms per layer over the scalar structure (docs/spec.md, "Counts")."""
    layers = spec.layers
    L, B, K = len(layers), spec.batch, spec.outputs
    fused = spec.loss == "cross_entropy"
    unit_act = {"sigmoid": 1, "tanh": 1, "relu": 1, "linear": 0, "softmax": 0}

    def act_nodes(l: int) -> int:
        return 0 if (l == L - 1 and fused) else unit_act[layers[l].activation]

    def softmax_block(l: int) -> bool:
        return layers[l].activation == "softmax" and not (l == L - 1 and fused)

    # Targets: nonzero pattern (cross-entropy skips t = 0 terms).
    rows = [[float(t) for t in row] for row in T] if fused else []
    nonzero_rows = [sum(1 for t in row if t != 0) for row in rows]
    N_t = sum(nonzero_rows)
    column_nonzero = [sum(1 for row in rows if row[k] != 0) for k in range(K)] if fused else []

    # -- op nodes and edges ----------------------------------------------------------------
    op_nodes = edges = 0
    for l, layer in enumerate(layers):
        n, m, beta, a = layer.inputs, layer.units, int(layer.has_bias), act_nodes(l)
        op_nodes += B * m * (2 * n - 1 + beta + a)
        edges += B * m * ((1 if l == 0 else 2) * n + 2 * (n - 1) + 2 * beta + a)
        if softmax_block(l):
            op_nodes += B * (3 * m - 1)
            edges += B * (m + 2 * (m - 1) + 2 * m)
    if fused:
        op_nodes += B * (2 * K) + 2 * N_t + (N_t - 1) + 1
        edges += B * (K + 2 * (K - 1) + 1) + 3 * N_t + 2 * (N_t - 1) + 1
    else:
        N = B * K
        op_nodes += 3 * N
        edges += 2 * N + 2 * (N - 1) + 1

    # -- paths: from_inputs forward, to_output backward --------------------------------------
    F_in, Fz, Fout = 0, [], []
    for l, layer in enumerate(layers):
        n, m, beta = layer.inputs, layer.units, int(layer.has_bias)
        fz = n * (1 + F_in) + beta
        Fz.append(fz)
        Fout.append((m + 1) * fz if softmax_block(l) else fz)
        F_in = Fout[-1]
    visits = 0
    if fused:
        fz = Fz[-1]
        visits += N_t * fz * (K + K * (K + 1) // 2 - 1 + K + 2 * (K + 1))
        visits += (K + 1) * fz * (N_t * (N_t + 1) // 2 - 1) + N_t * (K + 1) * fz
        Tz = [N_t + column_nonzero[k] for k in range(K)]
        Ty = None
    else:
        N, fy = B * K, Fout[-1]
        visits += 2 * N * fy + fy * (N * (N + 1) // 2 - 1) + N * fy
        Ty = [B] * K
    paths = 0
    for l in range(L - 1, -1, -1):
        layer = layers[l]
        n, m, beta = layer.inputs, layer.units, int(layer.has_bias)
        fp, fz = 1 + (Fout[l - 1] if l else 0), Fz[l]
        if Ty is not None:
            if softmax_block(l):
                TS = sum(Ty)
                Tz = [t + TS for t in Ty]
                visits += sum(Tz) * fz + TS * fz * (m * (m + 1) // 2 - 1) + sum(Ty) * (m + 1) * fz
            else:
                Tz = list(Ty)
        unit = n * fp + fp * (n * (n + 1) // 2 - 1) + beta * (n * fp + 1) + act_nodes(l) * fz
        visits += sum(Tz) * unit
        paths += sum(Tz) * (n + beta)
        Ty = [sum(Tz)] * n
        Tz = None

    # -- forward mode: each entry's cone (nodes reached, edges inside) ----------------------
    def act_block(l: int, one: int | None) -> tuple[int, int, int | None]:
        """Nodes, edges and the reached outputs (an index, or None for all) of one example."""
        m = layers[l].units
        if softmax_block(l):
            if one is None:
                return 3 * m - 1, m + 2 * (m - 1) + 2 * m, None
            c = _chain(m, one)
            return 1 + c + m, 1 + c + m + 1, None
        a = act_nodes(l)
        count = a if one is not None else a * m
        return count, count, one

    def layer_in(l: int, one: int | None) -> tuple[int, int]:
        layer = layers[l]
        n, m, beta = layer.inputs, layer.units, int(layer.has_bias)
        if one is not None:
            per = 1 + _chain(n, one) + beta
            return m * per, m * per
        return m * (2 * n - 1 + beta), m * (n + 2 * (n - 1) + beta)

    def loss_part(one: int | None) -> tuple[int, int]:
        """The loss: every example's own nodes plus the shared sum chain and L."""
        if fused:
            if one is None:
                nodes = B * (2 * K) + 2 * N_t
                edges_ = B * (K + 2 * (K - 1) + 1) + 3 * N_t
            else:
                c = _chain(K, one)
                nodes = B * (2 + c) + 2 * N_t
                edges_ = B * (2 + c) + 2 * N_t + column_nonzero[one]
            count = N_t
            first = 0
            reached_terms = N_t - 1
        else:
            count = B * K
            if one is None:
                nodes, edges_, first, reached_terms = 2 * count, 2 * count, 0, count - 1
            else:
                nodes, edges_ = 2 * B, 2 * B
                first, reached_terms = one, B - (1 if one == 0 else 0)
        chain_nodes = count - max(first, 1) if count >= 2 else 0
        chain_edges = (chain_nodes - 1 + (first == 0)) + reached_terms if chain_nodes else 0
        return nodes + chain_nodes + 1, edges_ + chain_edges + 1

    def downstream(l: int, j: int) -> tuple[int, int]:
        """The cone of unit j's z in layer l, beyond z itself (all examples)."""
        nodes = edges_ = 0
        if l == L - 1 and fused:
            n2, e2 = loss_part(j)
            return n2, e2
        n1, e1, one = act_block(l, j)
        nodes, edges_ = B * n1, B * e1
        for l2 in range(l + 1, L):
            n1, e1 = layer_in(l2, one)
            nodes, edges_ = nodes + B * n1, edges_ + B * e1
            if l2 == L - 1 and fused:
                n2, e2 = loss_part(None)
                return nodes + n2, edges_ + e2
            n1, e1, one = act_block(l2, None)
            nodes, edges_ = nodes + B * n1, edges_ + B * e1
        n2, e2 = loss_part(one)
        return nodes + n2, edges_ + e2

    fwd_nodes = fwd_edges = 0
    for l, layer in enumerate(layers):
        n, m, beta = layer.inputs, layer.units, int(layer.has_bias)
        down = [downstream(l, j) for j in range(m)]
        sum_nodes = sum(d[0] for d in down)
        sum_edges = sum(d[1] for d in down)
        own = sum(1 + _chain(n, i) + beta for i in range(n))  # mul, chain, bias add: 1 edge each
        fwd_nodes += m * B * own + n * sum_nodes
        fwd_edges += m * B * own + n * sum_edges
        if layer.has_bias:
            fwd_nodes += m * B + sum_nodes
            fwd_edges += m * B + sum_edges
    # -- the longest path (for path enumeration's working set) ------------------------------
    longest = 0
    for l, layer in enumerate(layers):
        n, m, beta = layer.inputs, layer.units, int(layer.has_bias)
        longest = 1 + longest + (n - 1) + beta  # mul, the sum chain, the bias add
        if softmax_block(l):
            longest += m + 1  # exp, the chain of the denominator, div
        else:
            longest += act_nodes(l)
    if fused:
        longest += K + 3 + N_t  # exp, denominator chain, log, sub, mul, loss chain, L
    else:
        longest += 2 + (B * K - 1) + 1  # sub, pow, loss chain, L
    distinct = spec.parameters - sum(
        len(refs) for refs in _refs(spec)) + len(_used_names(spec))
    return Structure(op_nodes, edges, paths, visits, spec.parameters, distinct,
                     fwd_edges, fwd_nodes, longest)


def _refs(spec: Spec):
    for layer in spec.layers:
        yield [e for row in (layer.weights or []) for e in row if isinstance(e, str)] + \
            [e for e in (layer.bias or []) if isinstance(e, str)]


def _used_names(spec: Spec) -> set[str]:
    return {name for refs in _refs(spec) for name in refs}

