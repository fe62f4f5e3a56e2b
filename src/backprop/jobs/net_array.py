"""The array engine of ``backprop net``: larger networks as a small graph of array nodes.

The graph (matmul, add bias, an elementwise activation, softmax, a loss) runs on the array
op table (``engine/arrays.py``): reverse mode is one sweep of VJPs, never building a
Jacobian (seed 002); forward mode is one JVP per weight entry, run only when asked and
refused over ``max_jvps``; the check is central finite differences on a seeded random
sample of parameters. Counts are those of the scalar graph the network stands for
(``net_counts``); ``peak_values`` is the floats this engine holds.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

from backprop.check.check import CheckResult, close
from backprop.engine import arrays
from backprop.engine.arrays import ANode
from backprop.engine.modes import relative_difference
from backprop.errors import LimitError
from backprop.frontends.spec import Resolved, Spec, resolve, scalar_size
from backprop.jobs.common import run_modes
from backprop.jobs.net_counts import structure
from backprop.jobs.net_report import FD_SEED, LayerGradient, ModeRun, NetReport

FD_SAMPLE = 20  # parameters checked by finite differences on the array engine


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
                h = add("act", z, name=f"{layer.name}.a", fn=layer.activation_fn)
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

    def evaluate(self, leaves: dict[int, Any] | None = None) -> tuple[list, dict]:
        """Every node's value (the loss as a float) and the cached pieces the sweeps reuse."""
        return arrays.evaluate(self.nodes, self.leaves if leaves is None else leaves)

    def reverse(self, values: list, aux: dict) -> tuple[dict[int, Any], int]:
        """dL/d(every param node), and the floats the sweep held at its peak."""
        local = arrays.linearize(self.nodes, values)
        adjoint, held = arrays.reverse(self.nodes, values, aux, local, self.active, self.loss)
        return {node: adjoint.get(node) for node, _, _ in self.params}, held

    def forward(self, values: list, aux: dict) -> dict[int, Any]:
        """Every entry's gradient by forward mode (one JVP each), per param node."""
        import numpy as np

        local = arrays.linearize(self.nodes, values)
        grads = {}
        with np.errstate(all="ignore"):
            for node, _, _ in self.params:
                shape = self.leaves[node].shape
                grad = np.zeros(shape)
                user = self.users[node]
                for index in np.ndindex(*shape):
                    grad[index] = arrays.tangent(self.nodes, values, aux, local, user, index,
                                                 self.loss)
                grads[node] = grad
        return grads

    def loss_at(self, leaves: dict[int, Any]) -> float:
        return self.evaluate(leaves)[0][self.loss]

    def primal_floats(self, values: list) -> int:
        import numpy as np

        return sum(int(np.size(v)) for v in values)

    def forward_floats(self, values: list) -> int:
        """Tangents one JVP holds at most: every node after the first layer's matmul."""
        import numpy as np

        first = self.users[self.params[0][0]]
        return sum(int(np.size(values[v])) for v in range(first, len(self.nodes)))


def run_array(spec: Spec, modes, reason: str, run_check: bool, max_paths: int,
              max_jvps: int, hvp=None) -> NetReport:
    net = resolve(spec, arrays=True)
    anet = ArrayNet(net)
    values, aux = anet.evaluate()
    primal = anet.primal_floats(values)
    counted = structure(spec, anet.nodes, anet.leaves)
    peaks = {"forward": primal + anet.forward_floats(values),
             "paths": primal + counted.edges + counted.longest + 1}

    def run(name: str):
        if name == "reverse":
            grads, held = anet.reverse(values, aux)
            peaks[name] = primal + held
            return grads
        if name == "forward":
            if counted.entries > max_jvps:
                raise LimitError(f"forward mode would run {counted.entries:,} JVPs (one per "
                                 f"weight entry, {counted.forward_edges:,} multiplications), "
                                 f"over --max-jvps {max_jvps:,}",
                                 hint="use --mode reverse (one sweep), or raise --max-jvps")
            return anet.forward(values, aux)
        # paths: counted by the dynamic program, walked only on the scalar engine
        if counted.paths > max_paths:
            message = (f"path enumeration would walk {counted.paths:,} paths "
                       f"({counted.edge_visits - counted.paths:,} multiplications), over "
                       f"--max-paths {max_paths:,}")
        else:
            message = (f"path enumeration walks the scalar graph; this network uses the "
                       f"array engine ({counted.paths:,} paths counted; try --engine scalar)")
        raise LimitError(message, hint="use --mode reverse (one sweep)")

    gradients, seconds, refused = run_modes(modes, run)
    runs = {name: ModeRun(name, counted.counts(name, peaks[name]), seconds.get(name),
                          ran=name not in refused) for name in modes}
    groups = layer_groups(net)
    named_gradients = {name: spread_gradients(anet, net, groups, grads, name)
                       for name, grads in gradients.items()}
    loss = float(values[anet.loss])
    report = NetReport(spec, "array", reason,
                       {"nodes": len(anet.nodes), "edges": sum(len(n.args) for n in anet.nodes),
                        "scalar_bound": scalar_size(spec)},
                       loss, dict(spec.params), named_gradients, groups, runs, refused, None)
    if hvp is not None:  # --hvp: the R-operator on the array op table
        from backprop.jobs.net_hvp import array_hvp

        report = replace(report, hvp=array_hvp(anet, net, values, aux,
                                               *hvp.direction(report.named, groups)))
    if run_check:
        return replace(report, check=_finite_differences(anet, net, report))
    return report


def spread_gradients(anet: ArrayNet, net: Resolved, groups: list[LayerGradient], grads,
                     mode: str) -> dict[str, float]:
    """One mode's param-node gradients into the groups' flat entries (in the spec's layout);
    returns the named parameters' gradients (a tied name sums its entries)."""
    import numpy as np

    spec = net.spec
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
        group.gradients[mode] = flat if group.mask is None else flat[group.mask]
    return named

def layer_groups(net: Resolved) -> list[LayerGradient]:
    """Like the scalar engine's groups, with numpy values and a mask of the unnamed
    entries (no per-entry loop unless some entries are named)."""
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
