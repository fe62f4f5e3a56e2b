"""``backprop net``: a network spec's loss and every parameter's gradient, in any mode.

Two engines compute the same thing:

* the **scalar engine** (small networks): ``spec.build_scalar_graph`` makes a scalar Graph
  whose inputs are the parameters, and the ordinary modes, path enumeration and the SymPy
  check run on it unchanged;
* the **array engine** (larger networks): a small graph of array-valued nodes (matmul, add
  bias, an elementwise activation taken from the op table's own entry through the numpy
  backend, softmax, the losses). Reverse mode is one sweep of VJPs (matmul: ``g @ W.T`` and
  ``X.T @ g``), never building a Jacobian (seed 002); forward mode is one JVP per weight
  entry, run only when asked and refused over ``max_jvps``; the check is central finite
  differences on a seeded random sample of parameters.

Counts are exact and come from the *scalar structure* the network defines (the graph the
scalar engine builds, before identical nodes are merged): closed forms per layer give the
primal evaluations, the edges each sweep visits, the paths (a dynamic program over layers)
and forward mode's per-entry cones. On the scalar engine they are the modes' own counts;
tests check that both agree. ``peak_values`` is each engine's own: the scalar graph's
values, or the floats the array engine holds. docs/spec.md has the details.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

from backprop.check.check import CheckResult, close
from backprop.engine.counts import Counts
from backprop.engine.modes import relative_difference
from backprop.errors import InputError, LimitError
from backprop.limits import Limits
from backprop.frontends.spec import Resolved, Spec, build_scalar_graph, load_spec, resolve, scalar_size

SCALAR_ENGINE_LIMIT = 5_000  # scalar graphs up to this many nodes (upper bound) by default
FD_SAMPLE = 20  # parameters checked by finite differences on the array engine
SYMPY_SAMPLE = 8  # parameters SymPy checks on the scalar engine (it takes ~0.1-0.5 s each)
FD_SEED = 0
ENGINES = ("auto", "scalar", "array")


# --------------------------------------------------------------------------- array graph


@dataclass(frozen=True)
class ANode:
    """One array-valued node: op, argument ids, a name, and the op-table entry for "act"."""

    op: str  # param, const, matmul, add_bias, act, softmax, half_sse, mse, softmax_ce
    args: tuple[int, ...] = ()
    name: str = ""
    fn: str | None = None


class ArrayNet:
    """A network as a small array graph, in topological order.

    Weights are stored transposed (inputs × units), so a layer is ``X @ W + b`` and the
    VJPs are the textbook ``g @ W.T`` and ``X.T @ g``; gradients are reported in the spec's
    layout (units × inputs).
    """

    def __init__(self, net: Resolved) -> None:
        import numpy as np

        self.net = net
        spec = net.spec
        nodes: list[ANode] = []
        leaves: dict[int, Any] = {}

        def add(op: str, *args: int, name: str = "", fn: str | None = None) -> int:
            nodes.append(ANode(op, args, name, fn))
            return len(nodes) - 1

        x = add("const", name="X")
        t = add("const", name="T")
        leaves[x] = np.asarray(net.X, dtype=float)
        leaves[t] = np.asarray(net.T, dtype=float)
        self.params: list[tuple[int, int, str]] = []  # (node, layer, "W" or "b")
        fused = spec.loss == "cross_entropy"
        h = x
        for l, layer in enumerate(spec.layers):
            w = add("param", name=f"{layer.name}.W")
            leaves[w] = np.ascontiguousarray(np.asarray(net.W[l], dtype=float).T)
            self.params.append((w, l, "W"))
            z = add("matmul", h, w, name=f"{layer.name}.z")
            if layer.has_bias:
                b = add("param", name=f"{layer.name}.b")
                leaves[b] = np.asarray(net.b[l], dtype=float)
                self.params.append((b, l, "b"))
                z = add("add_bias", z, b, name=f"{layer.name}.z")
            if l == len(spec.layers) - 1 and fused:
                h = z
            elif layer.activation == "softmax":
                h = add("softmax", z, name=f"{layer.name}.a")
            elif layer.activation != "linear":
                h = add("act", z, name=f"{layer.name}.a", fn=layer.activation)
            else:
                h = z
        self.loss = add("softmax_ce" if fused else spec.loss, h, t, name="L")
        self.nodes = tuple(nodes)
        self.leaves = leaves
        active = [False] * len(nodes)
        for i, node in enumerate(nodes):
            active[i] = node.op == "param" or any(active[a] for a in node.args)
        self.active = active
        self.users = {a: i for i, node in enumerate(nodes) for a in node.args}

    # -- primal --------------------------------------------------------------------------

    def evaluate(self, leaves: dict[int, Any] | None = None) -> tuple[list, dict]:
        """Every node's value (the loss as a float) and the cached pieces the sweeps reuse."""
        import numpy as np

        from backprop.engine.backends import array
        from backprop.engine.ops import OPS

        A = array()
        leaves = self.leaves if leaves is None else leaves
        values: list[Any] = [None] * len(self.nodes)
        aux: dict[int, Any] = {}
        with np.errstate(all="ignore"):
            for i, node in enumerate(self.nodes):
                args = [values[a] for a in node.args]
                op = node.op
                if op in ("param", "const"):
                    values[i] = leaves[i]
                elif op == "matmul":
                    values[i] = args[0] @ args[1]
                elif op == "add_bias":
                    values[i] = args[0] + args[1]
                elif op == "act":
                    values[i] = OPS[node.fn].value(A, args[0])
                elif op == "softmax":
                    z = args[0] - args[0].max(axis=1, keepdims=True)
                    e = np.exp(z)
                    values[i] = e / e.sum(axis=1, keepdims=True)
                elif op in ("half_sse", "mse"):
                    d = args[0] - args[1]
                    aux[i] = d
                    total = float(np.vdot(d, d))
                    values[i] = 0.5 * total if op == "half_sse" else total / d.size
                elif op == "softmax_ce":
                    z, T = args
                    top = z.max(axis=1, keepdims=True)
                    lse = np.log(np.exp(z - top).sum(axis=1, keepdims=True)) + top
                    P = np.exp(z - lse)
                    B = z.shape[0]
                    values[i] = float(np.sum(T * (lse - z))) / B
                    aux[i] = (P * T.sum(axis=1, keepdims=True) - T) / B  # dL/dz
                else:  # pragma: no cover - the builder makes no other op
                    raise AssertionError(op)
        return values, aux

    # -- reverse mode: one sweep of VJPs -------------------------------------------------

    def reverse(self, values: list, aux: dict) -> tuple[dict[int, Any], int]:
        """dL/d(every param node), and the floats the sweep held at its peak."""
        import numpy as np

        from backprop.engine.backends import array
        from backprop.engine.ops import OPS

        A = array()
        nodes, active = self.nodes, self.active
        adjoint: dict[int, Any] = {self.loss: 1.0}
        held = 1
        with np.errstate(all="ignore"):
            for i in range(len(nodes) - 1, -1, -1):
                g = adjoint.get(i)
                node = nodes[i]
                if g is None or not node.args:
                    continue
                for k, a in enumerate(node.args):
                    if not active[a]:
                        continue
                    op = node.op
                    if op == "matmul":
                        x, w = values[node.args[0]], values[node.args[1]]
                        contribution = g @ w.T if k == 0 else x.T @ g
                    elif op == "add_bias":
                        contribution = g if k == 0 else g.sum(axis=0)
                    elif op == "act":
                        contribution = g * OPS[node.fn].partials(A, values[i], values[a])[0]
                    elif op == "softmax":
                        y = values[i]
                        contribution = y * (g - (g * y).sum(axis=1, keepdims=True))
                    elif op == "half_sse":
                        contribution = g * aux[i]
                    elif op == "mse":
                        contribution = (2.0 * g / aux[i].size) * aux[i]
                    else:  # softmax_ce
                        contribution = g * aux[i]
                    if a in adjoint:
                        adjoint[a] = adjoint[a] + contribution
                    else:
                        adjoint[a] = contribution
                        held += np.size(contribution)
        return {node: adjoint.get(node) for node, _, _ in self.params}, held

    # -- forward mode: one JVP per weight entry ------------------------------------------

    def jvp_plan(self, values: list, aux: dict) -> dict[int, Any]:
        """The local partials every JVP reuses (computed once, not once per sweep)."""
        from backprop.engine.backends import array
        from backprop.engine.ops import OPS

        A = array()
        plan = {}
        for i, node in enumerate(self.nodes):
            if node.op == "act":
                plan[i] = OPS[node.fn].partials(A, values[i], values[node.args[0]])[0]
        return plan

    def jvp(self, values: list, aux: dict, plan: dict, param: int, index: tuple[int, ...]):
        """dL/d(one entry of a param node): a tangent sweep from the entry's first user."""
        import numpy as np

        nodes = self.nodes
        user = self.users[param]
        node = nodes[user]
        out = values[user]
        tangent = np.zeros_like(out)
        if node.op == "matmul":  # X @ W with W[i, j] seeded: column j of the output is X[:, i]
            i, j = index
            tangent[:, j] = values[node.args[0]][:, i]
        else:  # add_bias with b[j] seeded
            tangent[:, index[0]] = 1.0
        tangents = {user: tangent}
        for v in range(user + 1, len(nodes)):
            node = nodes[v]
            if not node.args:
                continue
            t = tangents.get(node.args[0])
            if t is None:
                continue
            op = node.op
            if op == "matmul":
                result = t @ values[node.args[1]]
            elif op == "add_bias":
                result = t
            elif op == "act":
                result = plan[v] * t
            elif op == "softmax":
                y = values[v]
                result = y * (t - (t * y).sum(axis=1, keepdims=True))
            elif op == "half_sse":
                result = float(np.vdot(aux[v], t))
            elif op == "mse":
                result = 2.0 * float(np.vdot(aux[v], t)) / aux[v].size
            else:  # softmax_ce
                result = float(np.vdot(aux[v], t))
            tangents[v] = result
        return tangents.get(self.loss, 0.0)

    def forward(self, values: list, aux: dict) -> dict[int, Any]:
        """Every entry's gradient by forward mode (one JVP each), per param node."""
        import numpy as np

        plan = self.jvp_plan(values, aux)
        grads = {}
        with np.errstate(all="ignore"):
            for node, _, _ in self.params:
                shape = self.leaves[node].shape
                grad = np.zeros(shape)
                for index in np.ndindex(*shape):
                    grad[index] = self.jvp(values, aux, plan, node, index)
                grads[node] = grad
        return grads

    def loss_at(self, leaves: dict[int, Any]) -> float:
        return self.evaluate(leaves)[0][self.loss]

    # -- sizes ---------------------------------------------------------------------------

    def primal_floats(self, values: list) -> int:
        import numpy as np

        return sum(int(np.size(v)) for v in values)

    def forward_floats(self, values: list) -> int:
        """Tangents one JVP holds at most: every node after the first layer's matmul."""
        import numpy as np

        first = self.users[self.params[0][0]]
        return sum(int(np.size(values[v])) for v in range(first, len(self.nodes)))


# --------------------------------------------------------------------------- exact counts


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


# --------------------------------------------------------------------------- the report


@dataclass
class LayerGradient:
    """One weight matrix or bias vector: its unnamed entries' values and gradients."""

    layer: str
    kind: str  # "W" or "b"
    shape: tuple[int, ...]
    names: list[str]  # entry names, row-major (named entries are left out)
    values: Any  # flat, same order as names
    gradients: dict[str, Any]  # mode -> flat gradients
    mask: Any = None  # array engine: which flat entries are unnamed (None: all)


@dataclass
class ModeRun:
    mode: str
    counts: Counts
    seconds: float | None
    ran: bool = True  # False: counted exactly, not run (refused by a limit)
    jacobian: list[float] | None = None  # scalar engine: dL/d(every graph input)


@dataclass
class PathTerm:
    """One path from a parameter to L and the local partials along it (scalar engine)."""

    nodes: list[str]  # the parameter, the labelled nodes on the way (z, a), and L
    factors: list[float]  # one local partial per edge
    product: float
    kept: list[bool]  # False for the factors of 1 that sums contribute (left out in print)


@dataclass
class NetReport:
    spec: Spec
    engine: str  # "scalar" or "array"
    engine_reason: str
    size: dict[str, int]  # this engine's nodes and edges; scalar_bound: spec.scalar_size
    loss: float
    named: dict[str, float]  # name -> value
    named_gradients: dict[str, dict[str, float]]  # mode -> name -> gradient
    layers: list[LayerGradient]
    runs: dict[str, ModeRun]  # run or counted-only, in mode order
    refused: dict[str, str]
    check: CheckResult | None
    warnings: list[str] = field(default_factory=list)
    selected: list[str] | None = None  # --param, as entry or parameter names
    paths: dict[str, list[PathTerm]] = field(default_factory=dict)  # --param on small nets
    strict_error: str | None = None  # --strict's verdict: why the command exits 4
    graph: Any = field(default=None, repr=False)  # scalar engine: the Graph and its values
    values: Any = field(default=None, repr=False)

    @property
    def reference(self) -> str:
        for mode in ("reverse", "forward", "paths"):
            if mode in self.runs and self.runs[mode].ran:
                return mode
        raise LookupError("no mode ran")

    @property
    def parameter_count(self) -> int:
        return len(self.named) + sum(len(g.names) for g in self.layers)

    def gradient(self, name: str, mode: str | None = None) -> float:
        """One parameter's gradient (named or an entry name), from ``mode`` or the reference."""
        mode = mode or self.reference
        if name in self.named:
            return self.named_gradients[mode][name]
        for group in self.layers:
            if name.startswith(f"{group.layer}.{group.kind}["):
                return float(group.gradients[mode][group.names.index(name)])
        raise KeyError(name)

    def agreement(self) -> float | None:
        """Largest relative difference between the modes that ran (None if only one did)."""
        ran = [m for m, r in self.runs.items() if r.ran]
        if len(ran) < 2:
            return None
        ref = self.reference
        worst = 0.0
        for mode in ran:
            for name, value in self.named_gradients[mode].items():
                worst = max(worst, relative_difference(value, self.named_gradients[ref][name]))
            for group in self.layers:
                for a, b in zip(_flat(group.gradients[mode]), _flat(group.gradients[ref])):
                    worst = max(worst, relative_difference(a, b))
        return worst


def _flat(values) -> list[float]:
    return values.tolist() if hasattr(values, "tolist") else list(values)


def summary(values) -> tuple[float, float, float]:
    """(L2 norm, min, max) of a flat list or array."""
    if hasattr(values, "dtype"):
        import numpy as np

        if not values.size:
            return 0.0, 0.0, 0.0
        return float(np.linalg.norm(values)), float(values.min()), float(values.max())
    items = _flat(values)
    if not items:
        return 0.0, 0.0, 0.0
    return math.sqrt(math.fsum(v * v for v in items)), min(items), max(items)


def choose_engine(spec: Spec, engine: str, max_nodes: int) -> tuple[str, str]:
    if engine not in ENGINES:
        raise InputError(f"unknown engine {engine!r}", hint="choose one of: " + ", ".join(ENGINES))
    size = scalar_size(spec)
    if engine == "scalar":
        if size > max_nodes:
            raise LimitError(f"the {spec.shape_text()} network's scalar graph would have about "
                             f"{size:,} nodes, over --max-nodes {max_nodes:,}",
                             hint="use --engine array, or raise --max-nodes")
        return "scalar", "asked for with --engine scalar"
    if engine == "array":
        return "array", "asked for with --engine array"
    if size <= min(SCALAR_ENGINE_LIMIT, max_nodes):
        return "scalar", f"a scalar graph of at most {size:,} nodes: each parameter is an input"
    return "array", (f"its scalar graph would have about {size:,} nodes, over "
                     f"{min(SCALAR_ENGINE_LIMIT, max_nodes):,}")


def run_net(path: str, *, mode: str = "reverse", params: str | None = None,
            engine: str = "auto", run_check: bool = True, limits: Limits | None = None,
            strict: bool = False) -> NetReport:
    """Load the spec, differentiate in the chosen modes, check, and return plain data."""
    from backprop.jobs.common import modes_for

    limits = limits or Limits()
    modes = modes_for(mode)
    spec = load_spec(path, max_bytes=limits.max_bytes, max_values=limits.max_values,
                     max_units=limits.max_units)
    chosen, reason = choose_engine(spec, engine, limits.max_nodes)
    if chosen == "scalar":
        report = _run_scalar(spec, modes, reason, run_check, limits.max_paths,
                             limits.check_timeout, limits.max_depth)
    else:
        report = _run_array(spec, modes, reason, run_check, limits.max_paths, limits.max_jvps)
    report.warnings[:0] = spec.warnings
    if params is not None:
        report.selected = select(report, params)
        if chosen == "scalar":
            report.paths = _path_listing(report, max_terms=12)
    _non_finite(report, strict)
    return report


def select(report: NetReport, text: str) -> list[str]:
    """--param: parameter names, entry names (layer1.W[0][1]), or a layer's W, b or all."""
    wanted = [item.strip() for item in text.split(",") if item.strip()]
    if not wanted:
        raise InputError("--param names no parameter", hint=_params_hint(report))
    chosen: list[str] = []
    for item in wanted:
        if item in report.named:
            found = [item]
        else:
            groups = [g for g in report.layers if item in (g.layer, f"{g.layer}.{g.kind}")]
            if groups:
                found = [n for g in groups for n in g.names] + _named_in(report.spec, item)
            else:
                found = [item for g in report.layers if item in g.names][:1]
        if not found:
            raise InputError(f"--param {item}: the network has no parameter {item!r}",
                             hint=_params_hint(report))
        chosen += [name for name in found if name not in chosen]
    return chosen


def _named_in(spec: Spec, item: str) -> list[str]:
    names = []
    for layer in spec.layers:
        if item in (layer.name, f"{layer.name}.W"):
            names += [e for row in (layer.weights or []) for e in row if isinstance(e, str)]
        if item in (layer.name, f"{layer.name}.b"):
            names += [e for e in (layer.bias or []) if isinstance(e, str)]
    return list(dict.fromkeys(names))


def _params_hint(report: NetReport) -> str:
    names = list(report.named)[:12]
    groups = [f"{g.layer}.{g.kind}" for g in report.layers if g.names]
    return "parameters: " + ", ".join(names + groups) + " (or an entry such as layer1.W[0][1])"


def _non_finite(report: NetReport, strict: bool) -> None:
    bad = []
    if not math.isfinite(report.loss):
        bad.append(f"the loss is {report.loss!r}")
    ref = report.reference
    count = sum(1 for v in report.named_gradients[ref].values() if not math.isfinite(v))
    count += sum(1 for g in report.layers for v in _flat(g.gradients[ref])
                 if not math.isfinite(v))
    if count:
        bad.append(f"{count:,} gradient " + ("entry is" if count == 1 else "entries are")
                   + " not finite")
    report.warnings += [f"{text} (IEEE arithmetic)" for text in bad]
    if strict and bad:
        report.strict_error = "a result is not finite (--strict): " + "; ".join(bad)


def _groups(net: Resolved) -> list[LayerGradient]:
    groups = []
    for l, layer in enumerate(net.spec.layers):
        names, values = [], []
        for j in range(layer.units):
            for i in range(layer.inputs):
                if (j, i) not in net.W_refs[l]:
                    names.append(net.entry_name(l, "W", (j, i)))
                    values.append(net.W[l][j][i])
        groups.append(LayerGradient(layer.name, "W", (layer.units, layer.inputs), names,
                                    values, {}))
        if layer.has_bias:
            names, values = [], []
            for j in range(layer.units):
                if j not in net.b_refs[l]:
                    names.append(net.entry_name(l, "b", (j,)))
                    values.append(net.b[l][j])
            groups.append(LayerGradient(layer.name, "b", (layer.units,), names, values, {}))
    return groups


# --------------------------------------------------------------------------- scalar engine


def _run_scalar(spec: Spec, modes, reason: str, run_check: bool, max_paths: int,
                check_timeout: float, max_depth: int | None = None) -> NetReport:
    from backprop.check.check import check
    from backprop.engine.evaluate import evaluate
    from backprop.engine.modes import run_mode
    from backprop.engine.modes.paths import plan

    net = resolve(spec)
    graph = build_scalar_graph(net, max_depth)
    point = dict(graph.defaults)
    values = evaluate(graph, point)
    wrt = list(graph.inputs)
    runs, refused = {}, {}
    for name in modes:
        start = time.perf_counter()
        try:
            options = {"max_paths": max_paths} if name == "paths" else {}
            result = run_mode(name, graph, values, wrt, **options)
        except LimitError as error:
            if len(modes) == 1:
                raise
            refused[name] = error.message
            counted = plan(graph, wrt)
            runs[name] = ModeRun(name, Counts(
                "paths", 0, sum(1 for n in graph.nodes if n.args), counted.edges,
                counted.multiplications, counted.additions, counted.paths,
                len(graph) + counted.edges + counted.longest + 1), None, ran=False)
            continue
        runs[name] = ModeRun(name, result.counts, time.perf_counter() - start,
                             jacobian=[float(v) + 0.0 for v in result.jacobian[0]])
    groups = _groups(net)
    index = {n: k for k, n in enumerate(graph.input_names)}
    named_gradients = {}
    for name, run in runs.items():
        if not run.ran:
            continue
        row = run.jacobian
        named_gradients[name] = {p: row[index[p]] for p in spec.params}
        for group in groups:
            group.gradients[name] = [row[index[n]] for n in group.names]
    check_result = None
    if run_check:
        import random

        reference = next(m for m in ("reverse", "forward", "paths")
                         if m in runs and runs[m].ran)
        names = list(graph.input_names)
        sample = names
        if len(names) > SYMPY_SAMPLE:
            sample = sorted(random.Random(FD_SEED).sample(names, SYMPY_SAMPLE), key=index.get)
        row = runs[reference].jacobian
        check_result = check(graph, sample, [[row[index[n]] for n in sample]], point,
                             timeout=check_timeout)
        if len(sample) < len(names):
            check_result.method += (f" (a sample of {len(sample)} of {len(names):,} parameters, "
                                    f"seed {FD_SEED})")
    report = NetReport(spec, "scalar", reason,
                       {"nodes": len(graph), "edges": graph.edge_count,
                        "scalar_bound": scalar_size(spec)},
                       float(values[graph.outputs[0]]), dict(spec.params), named_gradients,
                       groups, runs, refused, check_result, graph=graph, values=values)
    return report


def _path_listing(report: NetReport, max_terms: int) -> dict[str, list[PathTerm]]:
    """The paths from each selected parameter to L, when there are few (seed 004's table)."""
    from backprop.engine.modes.paths import iter_paths, plan

    graph, values = report.graph, report.values
    listing = {}
    for name in report.selected[:8]:
        w = graph.inputs[graph.input_names.index(name)]
        if plan(graph, [w]).paths > max_terms:
            continue
        terms = []
        for path in iter_paths(graph, values, [w]):
            labels = [graph.nodes[i].label for i in path.nodes
                      if graph.nodes[i].label is not None]
            factors = [float(p) for p in path.partials]
            kept = [not (graph.nodes[path.nodes[k + 1]].op in ("add", "sub") and f == 1.0)
                    for k, f in enumerate(factors)]
            terms.append(PathTerm(labels, factors, float(path.product()), kept))
        listing[name] = terms
    return listing


# --------------------------------------------------------------------------- array engine


def _run_array(spec: Spec, modes, reason: str, run_check: bool, max_paths: int,
               max_jvps: int) -> NetReport:
    import numpy as np

    net = resolve(spec, arrays=True)
    anet = ArrayNet(net)
    values, aux = anet.evaluate()
    primal = anet.primal_floats(values)
    counted = structure(spec, net.T)
    runs, refused = {}, {}
    gradients: dict[str, dict[int, Any]] = {}
    for name in modes:
        if name == "reverse":
            start = time.perf_counter()
            grads, held = anet.reverse(values, aux)
            runs[name] = ModeRun(name, counted.counts(name, primal + held),
                                 time.perf_counter() - start)
            gradients[name] = grads
        elif name == "forward":
            peak = primal + anet.forward_floats(values)
            if counted.entries > max_jvps:
                message = (f"forward mode would run {counted.entries:,} JVPs (one per weight "
                           f"entry, {counted.forward_edges:,} multiplications), over "
                           f"--max-jvps {max_jvps:,}")
                if len(modes) == 1:
                    raise LimitError(message, hint="use --mode reverse (one sweep), or raise "
                                                   "--max-jvps")
                refused[name] = message
                runs[name] = ModeRun(name, counted.counts(name, peak), None, ran=False)
                continue
            start = time.perf_counter()
            gradients[name] = anet.forward(values, aux)
            runs[name] = ModeRun(name, counted.counts(name, peak), time.perf_counter() - start)
        else:  # paths: counted by the dynamic program, walked only on the scalar engine
            if counted.paths > max_paths:
                message = (f"path enumeration would walk {counted.paths:,} paths "
                           f"({counted.edge_visits - counted.paths:,} multiplications), over "
                           f"--max-paths {max_paths:,}")
            else:
                message = (f"path enumeration walks the scalar graph; this network uses the "
                           f"array engine ({counted.paths:,} paths counted; try --engine scalar)")
            if len(modes) == 1:
                raise LimitError(message, hint="use --mode reverse (one sweep)")
            refused[name] = message
            peak = primal + counted.edges + counted.longest + 1
            runs[name] = ModeRun(name, counted.counts(name, peak), None, ran=False)
    groups = _groups_array(net)
    named_gradients = {}
    for name, grads in gradients.items():
        named = {p: 0.0 for p in spec.params}
        for node, l, kind in anet.params:
            g = grads[node]
            g = np.zeros_like(anet.leaves[node]) if g is None else g
            entry = g.T if kind == "W" else g  # back to the spec's units × inputs
            refs = net.W_refs[l] if kind == "W" else net.b_refs[l]
            for key, pname in refs.items():
                named[pname] += float(entry[key]) + 0.0
            group = next(gr for gr in groups if gr.layer == spec.layers[l].name
                         and gr.kind == kind)
            flat = entry.reshape(-1) + 0.0  # -0.0 prints as 0.0
            group.gradients[name] = flat if group.mask is None else flat[group.mask]
        named_gradients[name] = named
    loss = float(values[anet.loss])
    report = NetReport(spec, "array", reason,
                       {"nodes": len(anet.nodes), "edges": sum(len(n.args) for n in anet.nodes),
                        "scalar_bound": scalar_size(spec)},
                       loss, dict(spec.params), named_gradients, groups, runs, refused, None)
    if run_check:
        report.check = _finite_differences(anet, net, report)
    return report


def _groups_array(net: Resolved) -> list[LayerGradient]:
    """Like _groups, with numpy values and a mask of the unnamed entries (no per-entry loop
    unless some entries are named)."""
    import numpy as np

    groups = []
    for l, layer in enumerate(net.spec.layers):
        for kind, refs, values in (("W", net.W_refs[l], net.W[l]), ("b", net.b_refs[l], net.b[l])):
            if values is None:
                continue
            flat = np.asarray(values).reshape(-1)
            shape = np.asarray(values).shape
            mask = None
            if refs:
                mask = np.ones(flat.size, dtype=bool)
                for key in refs:
                    key = key if kind == "W" else (key,)
                    mask[np.ravel_multi_index(key, shape)] = False
            names = _LazyNames(layer.name, kind, shape, mask)
            groups.append(LayerGradient(layer.name, kind, tuple(shape), names,
                                        flat if mask is None else flat[mask], {}, mask))
    return groups


class _LazyNames:
    """Entry names (``layer1.W[j][i]``) of a big matrix, made on demand."""

    def __init__(self, layer: str, kind: str, shape, mask) -> None:
        import numpy as np

        self.prefix = f"{layer}.{kind}"
        self.shape = tuple(shape)
        self.flat = np.flatnonzero(mask) if mask is not None else None
        self.size = int(mask.sum()) if mask is not None else int(np.prod(shape))

    def __len__(self) -> int:
        return self.size

    def _position(self, k: int) -> int:
        return int(self.flat[k]) if self.flat is not None else k

    def __getitem__(self, k):
        if isinstance(k, slice):
            return [self[i] for i in range(*k.indices(self.size))]
        import numpy as np

        if k < 0:
            k += self.size
        if not 0 <= k < self.size:
            raise IndexError(k)
        index = np.unravel_index(self._position(k), self.shape)
        return self.prefix + "".join(f"[{int(i)}]" for i in index)

    def __iter__(self):
        return (self[k] for k in range(self.size))

    def __contains__(self, name) -> bool:
        return self._find(name) is not None

    def index(self, name) -> int:
        k = self._find(name)
        if k is None:
            raise ValueError(name)
        return k

    def _find(self, name) -> int | None:
        import numpy as np

        if not isinstance(name, str) or not name.startswith(self.prefix + "["):
            return None
        parts = name[len(self.prefix):]
        try:
            index = tuple(int(p) for p in parts.strip("[]").split("]["))
        except ValueError:
            return None
        if len(index) != len(self.shape) or any(not 0 <= i < s for i, s in
                                                zip(index, self.shape)):
            return None
        position = int(np.ravel_multi_index(index, self.shape))
        if self.flat is None:
            return position
        found = np.searchsorted(self.flat, position)
        return int(found) if found < self.size and self.flat[found] == position else None


def _finite_differences(anet: ArrayNet, net: Resolved, report: NetReport) -> CheckResult:
    """Central differences at a seeded random sample of parameters vs the gradient."""
    import numpy as np

    ref = report.reference
    candidates: list[tuple[str, list[tuple[int, tuple]]]] = []
    positions: dict[str, list[tuple[int, tuple]]] = {p: [] for p in net.spec.params}
    for node, l, kind in anet.params:
        refs = net.W_refs[l] if kind == "W" else net.b_refs[l]
        for key, pname in refs.items():
            key = key if kind == "W" else (key,)
            positions[pname].append((node, key[::-1] if kind == "W" else key))
    candidates += [(p, spots) for p, spots in positions.items() if spots]
    free_total = sum(len(g.names) for g in report.layers)
    total = len(candidates) + free_total
    rng = np.random.default_rng(FD_SEED)
    picks = sorted(rng.choice(total, size=min(FD_SAMPLE, total), replace=False).tolist())
    sample = []
    for k in picks:
        if k < len(candidates):
            sample.append(candidates[k])
            continue
        k -= len(candidates)
        for group in report.layers:
            if k < len(group.names):
                name = group.names[k]
                node = next(nd for nd, l, kind in anet.params
                            if net.spec.layers[l].name == group.layer and kind == group.kind)
                index = tuple(int(p) for p in name.rsplit(".", 1)[1][2:-1].split("]["))
                sample.append((name, [(node, index[::-1] if group.kind == "W" else index)]))
                break
            k -= len(group.names)
    h = 1e-6
    rtol, atol = 1e-5, 1e-7 * max(1.0, abs(report.loss))
    worst = worst_abs = 0.0
    checked = []
    method = (f"central finite differences (h = {h:g}, relative to the weight) at "
              f"{len(sample)} of {total:,} parameters sampled with seed {FD_SEED}")
    for name, spots in sample:
        leaves = dict(anet.leaves)
        nodes = {node for node, _ in spots}
        base = {node: leaves[node] for node in nodes}
        value = float(base[spots[0][0]][spots[0][1]])
        step = h * max(1.0, abs(value))
        estimates = []
        for sign in (1.0, -1.0):
            for node in nodes:
                leaves[node] = base[node].copy()
            for node, index in spots:
                leaves[node][index] += sign * step
            estimates.append(anet.loss_at(leaves))
        estimate = (estimates[0] - estimates[1]) / (2 * step)
        ours = report.gradient(name, ref)
        checked.append(name)
        if not (math.isfinite(estimate) and math.isfinite(ours)):
            continue
        worst = max(worst, relative_difference(ours, estimate))
        worst_abs = max(worst_abs, abs(ours - estimate))
        if not close(ours, estimate, rtol, atol):
            return CheckResult("fail", method, f"dL/d{name}: ours {ours!r}, finite differences "
                                               f"{estimate!r}", worst, checked, worst_abs)
    return CheckResult("pass", method, "", worst, checked, worst_abs)
