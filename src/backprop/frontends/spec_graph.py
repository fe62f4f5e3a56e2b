"""A small network as a scalar ``Graph``: every parameter (a named one from ``params:``,
or an unnamed entry such as ``layer1.W[0][1]``) is its own input node and inputs and
targets are constants, so every mode, ``paths``, ``compare`` and the explanations work
per weight exactly as on an expression."""

from __future__ import annotations

from backprop.engine.graph import Graph, GraphBuilder
from backprop.errors import LimitError
from backprop.frontends.functions import expand_into
from backprop.frontends.spec_model import Spec
from backprop.frontends.spec_resolve import Resolved


def scalar_size(spec: Spec) -> int:
    """An upper bound on the scalar graph's nodes (before identical nodes are merged)."""
    B, K = spec.batch, spec.outputs
    nodes = spec.parameters + len(spec.params) + B * (spec.features + K) + 4
    for layer in spec.layers:
        n, m = layer.inputs, layer.units
        per_unit = 2 * n - 1 + layer.has_bias + layer.activation_ops
        nodes += B * (m * per_unit + (2 * m if layer.activation == "softmax" else 0))
    nodes += B * K * 3 + 2 * B  # the loss: a few nodes per output and per example
    return nodes


def build_scalar_graph(net: Resolved, max_depth: int | None = None) -> Graph:
    """The network as a scalar Graph: parameters are inputs, x and targets are constants.

    Input nodes come first: the named parameters in the order ``params`` lists them (an
    unused one stays an input with gradient 0), then each layer's unnamed entries
    (``layer1.W[j][i]`` row by row, then ``layer1.b[j]``). Graph.defaults holds their
    values, so commands need no ``--at``.
    """
    spec = net.spec
    builder = GraphBuilder()
    defaults: dict[str, float] = {}
    for name, value in spec.params.items():
        builder.input(name)
        defaults[name] = float(value)
    W_ids, b_ids = [], []
    for l, layer in enumerate(spec.layers):
        rows = []
        for j in range(layer.units):
            row = []
            for i in range(layer.inputs):
                name = net.entry_name(l, "W", (j, i))
                row.append(builder.input(name))
                defaults[name] = float(net.W[l][j][i])
            rows.append(row)
        W_ids.append(rows)
        biases = None
        if layer.has_bias:
            biases = []
            for j in range(layer.units):
                name = net.entry_name(l, "b", (j,))
                biases.append(builder.input(name))
                defaults[name] = float(net.b[l][j])
        b_ids.append(biases)

    B, last = spec.batch, len(spec.layers) - 1
    fused = spec.loss == "cross_entropy"
    terms: list[int] = []

    def chain(ids: list[int]) -> int:
        total = ids[0]
        for node in ids[1:]:
            total = builder.apply("add", total, node)
        return total

    for example in range(B):
        where = f"[{example}]" if B > 1 else ""
        acts = [builder.const(x) for x in net.X[example]]
        for l, layer in enumerate(spec.layers):
            z = []
            for j in range(layer.units):
                products = [builder.apply("mul", W_ids[l][j][i], acts[i])
                            for i in range(layer.inputs)]
                s = chain(products)
                if b_ids[l] is not None:
                    s = builder.apply("add", s, b_ids[l][j])
                builder.label(s, f"{layer.name}.z{where}[{j}]")
                z.append(s)
            if l == last and fused:
                acts = z
                break
            if layer.activation == "linear":
                acts = z
            elif layer.activation == "softmax":
                exps = [builder.apply("exp", node) for node in z]
                total = chain(exps)
                acts = [builder.apply("div", e, total) for e in exps]
            elif layer.function is not None:  # a user function's body, expanded per unit
                acts = [expand_into(builder, layer.function, [node]) for node in z]
            else:
                acts = [builder.apply(layer.activation, node) for node in z]
            for j, node in enumerate(acts):
                builder.label(node, f"{layer.name}.a{where}[{j}]")
        targets = net.T[example]
        if fused:  # -sum_k t_k log softmax(z)_k = sum_k t_k (log sum_j exp(z_j) - z_k)
            lse = builder.apply("log", chain([builder.apply("exp", node) for node in acts]))
            builder.label(lse, f"logsumexp{where}")
            for k, node in enumerate(acts):
                if targets[k] != 0:
                    terms.append(builder.apply("mul", builder.const(targets[k]),
                                               builder.apply("sub", lse, node)))
        else:
            two = builder.const(2.0, "2")
            for k, node in enumerate(acts):
                difference = builder.apply("sub", node, builder.const(targets[k]))
                terms.append(builder.apply("pow", difference, two))
    if spec.loss == "half_sse":
        scale = builder.const(0.5)
    else:
        count = B * spec.outputs if spec.loss == "mse" else B
        scale = builder.const(1.0 / count, f"1/{count}" if count > 1 else "1")
    loss = builder.apply("mul", scale, chain(terms))
    builder.label(loss, "L")
    graph = builder.build([loss], ("L",), defaults=defaults)
    if max_depth is not None and graph.depth > max_depth:
        raise LimitError(f"the {spec.shape_text()} network's scalar graph is {graph.depth:,} "
                         f"operations deep, over --max-depth {max_depth:,}",
                         hint="raise it with --max-depth")
    return graph
