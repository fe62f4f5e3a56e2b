"""The array op table: networks on numpy arrays, each op's rules written once.

Like ``ops.py`` for scalars, every array op declares, in one entry next to its name:

* ``value(args, node)`` -> (value, aux): the primal, and what its derivative rules reuse;
* ``local(out, args, node)``: an elementwise op's local partial, taken from the *scalar*
  op table (``ops.OPS``) through the numpy backend, so tanh' = 1 - tanh^2 is written once
  for floats, SymPy and arrays alike (None for the other ops);
* ``vjp(g, k, out, args, aux, local)``: the adjoint's contribution to argument k, a local
  linear map that never builds a Jacobian (seed 002; matmul: ``g @ W.T`` and ``X.T @ g``);
* ``jvp(t, out, args, aux, local)``: the tangent of the output from a tangent ``t`` of the
  first argument (tangents flow along the data path; parameters enter through ``seed``);
* ``seed(index, out, args)``: the output's tangent when one entry of the parameter at
  argument 1 is seeded with 1 (matmul's weight, add_bias's bias);
* ``jvp1(t, out, args)``: the output's tangent from a tangent of argument 1 (the
  parameter: matmul's ``X @ t``, add_bias's broadcast ``t``), for H v's tangent sweep;
* ``rvjp(g, k, out, args, aux, local, tangents, tout)``: how the VJP for argument k changes
  when the inputs move along their tangents (g fixed), for Pearlmutter's R-operator
  (``reverse_r``): matmul's VJP is linear in the other argument, so it is the VJP at the
  tangent (``_bilinear``); add_bias's VJP reads no input (None); a loss's is its scale
  times the change of d; softmax's the product rule; an activation's ``g f''(z) t`` with
  f'' from the gradient program of the scalar op's partial, never written by hand;
* ``cost(tally, args, values, batch)``: the op's *scalar expansion* (the nodes the scalar
  engine would build for it: matmul's products and sum chain, softmax's exps, chain and
  divisions), written with ``array_costs.Tally``'s two builders, so the array engine
  prints the exact counts of a scalar graph it never builds.

Softmax's Jacobian is symmetric, so its VJP and JVP are one linear map (``_softmax_map``);
each loss is a scaled linear functional <direction, .> at the point, so its VJP and JVP
are one rule (``_loss``). The sweeps below (evaluate, linearize, reverse, tangent; for H v
tangents_along and reverse_r) and ``array_costs.count`` are the only loops: a new array op
is one entry here and one line in the network builder (``jobs/net_array.py``).
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import Any, Callable


@dataclass(frozen=True)
class ANode:
    """One array-valued node: op, argument ids, a name, and the op-table entry for "act"."""

    op: str  # param, const, matmul, add_bias, act, softmax, half_sse, mse, softmax_ce
    args: tuple[int, ...] = ()
    name: str = ""
    fn: Any = None  # "act": an op name, or a user function's graph (one input)


@dataclass(frozen=True)
class ArrayOp:
    """An array primitive: its value, local partial, VJP, JVP and parameter seed."""

    name: str
    value: Callable[..., tuple[Any, Any]]
    vjp: Callable[..., Any]
    jvp: Callable[..., Any]
    cost: Callable[..., Any]
    local: Callable[..., Any] | None = None
    seed: Callable[..., Any] | None = None
    jvp1: Callable[..., Any] | None = None  # the output's tangent from argument 1's
    rvjp: Callable[..., Any] | None = None  # the VJP's change along the tangents (None: 0)


def _np():
    import numpy as np

    return np


def _backend():
    from backprop.engine.backends import array

    return array()


# -- matmul and add_bias: X @ W + b, weights stored inputs × units -------------------------


def _matmul_seed(index, out, args):
    """X @ W with W[i, j] seeded: column j of the output is X[:, i]."""
    i, j = index
    tangent = _np().zeros_like(out)
    tangent[:, j] = args[0][:, i]
    return tangent


def _bias_seed(index, out, args):
    """Z + b with b[j] seeded: column j of the output is 1."""
    tangent = _np().zeros_like(out)
    tangent[:, index[0]] = 1.0
    return tangent


def _bilinear(vjp):
    """An op whose VJP for argument k is linear in the other argument (matmul): its change
    along the tangents is the same VJP with the other argument's tangent in its place."""
    def rvjp(g, k, out, args, aux, local, tangents, tout):
        other = tangents[1 - k]
        if other is None:
            return None
        swapped = list(args)
        swapped[1 - k] = other
        return vjp(g, k, out, swapped, aux, local)

    return rvjp


# -- elementwise activation: the scalar op table's own entry --------------------------------


# ``fn`` is an op-table name, or a user function's graph (one input, frontends/functions.py):
# its value is that graph and its partial the graph's gradient program, both evaluated on
# the arrays, so a user activation's derivative is written nowhere either.


def _act_value(args, node):
    from backprop.engine.ops import OPS

    if not isinstance(node.fn, str):
        return _on_arrays(node.fn, args[0]), node.fn
    return OPS[node.fn].value(_backend(), args[0]), node.fn  # the op, for its rvjp


def _act_local(out, args, node):
    from backprop.engine.ops import OPS

    if not isinstance(node.fn, str):
        return _on_arrays(_first_program(node.fn), args[0])
    return OPS[node.fn].partials(_backend(), out, args[0])[0]


def _on_arrays(graph, z):
    """A one-input graph's output at the array ``z`` (a constant output fills z's shape)."""
    from backprop.engine.evaluate import evaluate

    np = _np()
    out = evaluate(graph, _at(graph, z), _backend())[graph.outputs[0]]
    return out if np.shape(out) == np.shape(z) else np.full(np.shape(z), out, dtype=float)


def _at(graph, z) -> dict:
    """The point of a one-input graph: its input (z for an op, a function's parameter)."""
    return {graph.nodes[graph.inputs[0]].label: z} if graph.inputs else {}


def _first_program(graph):
    """d graph / d its input, as a Graph (the reverse sweep on the graph backend)."""
    found = _FIRST.get(graph)
    if found is None:
        from backprop.engine.program import gradient_program

        found = _FIRST[graph] = gradient_program(graph, [graph.inputs[0]], mode="reverse")
    return found


_SECOND: dict[str, Any] = {}
_FIRST: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()  # per function graph


def _act_rvjp(g, k, out, args, aux, local, tangents, tout):
    """g * d(local)/dz * t: the local partial's own derivative along the tangent, by forward
    mode on the gradient program of the scalar op (engine/program.py) on numpy arrays, so
    no second derivative is written by hand."""
    from backprop.engine.evaluate import evaluate
    from backprop.engine.modes.forward import forward

    if tangents[0] is None:
        return None
    program = _partial_program(aux)  # aux: the op's name or function graph (_act_value)
    values = evaluate(program, _at(program, args[0]), _backend())
    seed = {program.inputs[0]: tangents[0]} if program.inputs else {}
    return g * forward(program, values, [], _backend(), seeds=[seed]).jacobian[0][0]


def _partial_program(fn):
    """d fn(z)/dz as a Graph: the reverse sweep of ``fn(z)`` run on the graph backend."""
    if not isinstance(fn, str):
        return _first_program(fn)
    if fn not in _SECOND:
        from backprop.engine.graph import GraphBuilder
        from backprop.engine.program import gradient_program

        builder = GraphBuilder()
        z = builder.input("z")
        graph = builder.build([builder.apply(fn, z)], ["a"])
        _SECOND[fn] = gradient_program(graph, [graph.inputs[0]], mode="reverse")
    return _SECOND[fn]


# -- softmax over each row -------------------------------------------------------------------


def _softmax_value(args, node):
    np = _np()
    z = args[0] - args[0].max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True), None


def _softmax_map(y, v):
    """The softmax Jacobian (symmetric) applied to v: the VJP and the JVP alike."""
    return y * (v - (v * y).sum(axis=1, keepdims=True))


def _softmax_rvjp(g, k, out, args, aux, local, tangents, tout):
    """The change of y * (g - <g, y>) along the output's tangent ty (the product rule)."""
    return tout * (g - (g * out).sum(axis=1, keepdims=True)) - out * (g * tout).sum(
        axis=1, keepdims=True)


# -- losses: L and its gradient direction d; VJP = scale(g) d, JVP = scale(<d, t>) ------------


def _squared_error(args, node):
    np = _np()
    d = args[0] - args[1]
    total = float(np.vdot(d, d))
    return (0.5 * total if node.op == "half_sse" else total / d.size), d


def _softmax_ce(args, node):
    np = _np()
    z, T = args
    top = z.max(axis=1, keepdims=True)
    lse = np.log(np.exp(z - top).sum(axis=1, keepdims=True)) + top
    P = np.exp(z - lse)
    B = z.shape[0]
    return float(np.sum(T * (lse - z))) / B, (P * T.sum(axis=1, keepdims=True) - T) / B


def _softmax_ce_direction(args, t):
    """The change of (P * sum(T) - T) / B along z's tangent t (targets are constant)."""
    z, T = args
    P = _softmax_value([z], None)[0]
    return _softmax_map(P, t) * T.sum(axis=1, keepdims=True) / z.shape[0]


def _loss(name: str, value, scale, cost, direction=lambda args, t: t) -> ArrayOp:
    """A loss at the point is ``scale(<d, .>)``: one rule gives its VJP and its JVP; its
    VJP changes along a tangent t of the prediction as d does (``direction``: d = y - T
    is linear, so t itself for the squared errors)."""
    return ArrayOp(name, value, cost=cost,
                   vjp=lambda g, k, out, args, aux, local: scale(g, aux) * aux,
                   jvp=lambda t, out, args, aux, local: scale(float(_np().vdot(aux, t)), aux),
                   rvjp=lambda g, k, out, args, aux, local, tangents, tout:
                   None if tangents[0] is None else scale(g, aux) * direction(args, tangents[0]))


# -- costs: each op's scalar expansion, for one example and column (engine/array_costs.py) ----


def _matmul_cost(tally, args, values, batch):
    """z[j] = W[0][j]*x[0] + W[1][j]*x[1] + ...: n products and a chain, per unit and example."""
    from backprop.engine.array_costs import Col

    xs, slot = args
    n, m = values[1].shape
    xs = xs or [None] * n
    tally.times = batch * m
    entry = Col(1, 0, 0, tally.none, partial=1)  # W[i][j]: one entry of column j
    s = tally.chain([tally.node(entry, x) for x in xs])
    return [Col(s.paths, s.visits, s.depth,
                tuple(r | (1 << j if k == slot else 0) for k, r in enumerate(s.reach)))
            for j in range(m)]


def _bias_cost(tally, args, values, batch):
    zs, slot = args
    tally.times = batch
    return [tally.node(z, tally.leaf(slot, j)) for j, z in enumerate(zs)]


def _act_cost(tally, args, values, batch):
    """One node per entry; a user function's body, node by node (constants are None)."""
    tally.times = batch
    if isinstance(tally.fn, str):
        return [tally.node(z) for z in args[0]]
    return [_body_cost(tally, tally.fn, z) for z in args[0]]


def _body_cost(tally, graph, z):
    cols: list = []
    for node in graph.nodes:
        if node.op == "input":
            cols.append(z)
        elif node.op == "const":
            cols.append(None)
        else:
            args = [cols[a] for a in node.args]
            cols.append(tally.node(*args) if any(a is not None for a in args) else None)
    return cols[graph.outputs[0]]


def _softmax_cost(tally, args, values, batch):
    """exp of each entry, the chain of their sum, one division per entry."""
    tally.times = batch
    exps = [tally.node(z) for z in args[0]]
    total = tally.chain(exps)
    return [tally.node(e, total) for e in exps]


def _squared_error_cost(tally, args, values, batch):
    """(y - t)^2 per entry (t and 2 constants), the chain over the batch, the scale."""
    tally.times = batch
    terms = [tally.node(tally.node(y, None), None) for y in args[0]]
    tally.times = 1
    order = _np().tile(_np().arange(len(terms)), batch)  # example by example
    return tally.node(None, tally.chain(terms, order))


def _softmax_ce_cost(tally, args, values, batch):
    """Per example log(sum exp z); t_k * (lse - z_k) for each nonzero target; their chain."""
    zs, T = args[0], values[1]
    tally.times = batch
    lse = tally.node(tally.chain([tally.node(z) for z in zs]))
    nonzero = T != 0
    terms = []
    for k, z in enumerate(zs):
        tally.times = int(nonzero[:, k].sum())
        terms.append(tally.node(None, tally.node(lse, z)))
    tally.times = 1
    return tally.node(None, tally.chain(terms, _np().nonzero(nonzero)[1]))  # example-major


def _matmul_vjp(g, k, out, args, aux, local):
    return g @ args[1].T if k == 0 else args[0].T @ g


ARRAY_OPS: dict[str, ArrayOp] = {
    op.name: op
    for op in (
        ArrayOp("matmul", lambda args, node: (args[0] @ args[1], None), cost=_matmul_cost,
                vjp=_matmul_vjp, rvjp=_bilinear(_matmul_vjp),
                jvp=lambda t, out, args, aux, local: t @ args[1], seed=_matmul_seed,
                jvp1=lambda t, out, args: args[0] @ t),
        ArrayOp("add_bias", lambda args, node: (args[0] + args[1], None), cost=_bias_cost,
                vjp=lambda g, k, out, args, aux, local: g if k == 0 else g.sum(axis=0),
                jvp=lambda t, out, args, aux, local: t, seed=_bias_seed,
                jvp1=lambda t, out, args: _np().broadcast_to(t, out.shape)),
        ArrayOp("act", _act_value, cost=_act_cost, local=_act_local, rvjp=_act_rvjp,
                vjp=lambda g, k, out, args, aux, local: g * local,
                jvp=lambda t, out, args, aux, local: local * t),
        ArrayOp("softmax", _softmax_value, cost=_softmax_cost, rvjp=_softmax_rvjp,
                vjp=lambda g, k, out, args, aux, local: _softmax_map(out, g),
                jvp=lambda t, out, args, aux, local: _softmax_map(out, t)),
        _loss("half_sse", _squared_error, lambda g, d: g, _squared_error_cost),
        _loss("mse", _squared_error, lambda g, d: 2.0 * g / d.size, _squared_error_cost),
        _loss("softmax_ce", _softmax_ce, lambda g, d: g, _softmax_ce_cost,
              _softmax_ce_direction),
    )
}
LEAVES = ("param", "const")


# -- the sweeps ---------------------------------------------------------------------------------


def evaluate(nodes, leaves: dict[int, Any]) -> tuple[list, dict]:
    """Every node's value and each op's aux (what its derivative rules reuse)."""
    np = _np()
    values: list[Any] = [None] * len(nodes)
    aux: dict[int, Any] = {}
    with np.errstate(all="ignore"):
        for i, node in enumerate(nodes):
            if node.op in LEAVES:
                values[i] = leaves[i]
                continue
            values[i], extra = ARRAY_OPS[node.op].value([values[a] for a in node.args], node)
            if extra is not None:
                aux[i] = extra
    return values, aux


def linearize(nodes, values: list) -> dict[int, Any]:
    """The elementwise ops' local partials, computed once and reused by every sweep."""
    np = _np()
    local = {}
    with np.errstate(all="ignore"):
        for i, node in enumerate(nodes):
            rule = node.op not in LEAVES and ARRAY_OPS[node.op].local
            if rule:
                local[i] = rule(values[i], [values[a] for a in node.args], node)
    return local


def reverse(nodes, values: list, aux: dict, local: dict, active, output: int) \
        -> tuple[dict[int, Any], int]:
    """One adjoint sweep of VJPs: every node's adjoint, and the floats held at the peak."""
    np = _np()
    adjoint: dict[int, Any] = {output: 1.0}
    held = 1
    with np.errstate(all="ignore"):
        for i in range(len(nodes) - 1, -1, -1):
            g = adjoint.get(i)
            node = nodes[i]
            if g is None or not node.args:
                continue
            op = ARRAY_OPS[node.op]
            args = [values[a] for a in node.args]
            for k, a in enumerate(node.args):
                if not active[a]:
                    continue
                contribution = op.vjp(g, k, values[i], args, aux.get(i), local.get(i))
                if a in adjoint:
                    adjoint[a] = adjoint[a] + contribution
                else:
                    adjoint[a] = contribution
                    held += np.size(contribution)
    return adjoint, held


def tangent(nodes, values: list, aux: dict, local: dict, user: int, index, output: int):
    """d(output)/d(one entry of the parameter that ``user`` takes): one JVP sweep."""
    node = nodes[user]
    args = [values[a] for a in node.args]
    tangents = {user: ARRAY_OPS[node.op].seed(index, values[user], args)}
    for v in range(user + 1, len(nodes)):
        node = nodes[v]
        if not node.args:
            continue
        t = tangents.get(node.args[0])
        if t is None:
            continue
        tangents[v] = ARRAY_OPS[node.op].jvp(t, values[v], [values[a] for a in node.args],
                                              aux.get(v), local.get(v))
    return tangents.get(output, 0.0)


def tangents_along(nodes, values: list, aux: dict, local: dict, direction: dict[int, Any]) \
        -> dict[int, Any]:
    """Every node's tangent when each parameter node p moves along ``direction[p]``: one JVP
    sweep, a parameter entering through its op's ``jvp1`` (argument 1), data through
    ``jvp`` (argument 0)."""
    tangents: dict[int, Any] = dict(direction)
    for v, node in enumerate(nodes):
        if not node.args:
            continue
        op = ARRAY_OPS[node.op]
        args = [values[a] for a in node.args]
        parts = []
        if tangents.get(node.args[0]) is not None:
            parts.append(op.jvp(tangents[node.args[0]], values[v], args, aux.get(v),
                                local.get(v)))
        if op.jvp1 is not None and tangents.get(node.args[1]) is not None:
            parts.append(op.jvp1(tangents[node.args[1]], values[v], args))
        if parts:
            tangents[v] = parts[0] if len(parts) == 1 else parts[0] + parts[1]
    return tangents


def reverse_r(nodes, values: list, aux: dict, local: dict, active, output: int,
              direction: dict[int, Any]) -> tuple[dict[int, Any], dict[int, Any], int]:
    """Pearlmutter's R-operator: the reverse sweep carrying, beside each adjoint g, its
    directional derivative R{g} along ``direction``. An adjoint contribution vjp(g, k, x)
    changes by vjp(R{g}, k, x) (a VJP is linear in g) plus the op's ``rvjp`` (the VJP's own
    change as its inputs move). Returns the adjoints, their R's (R{dL/dp} = (H v)_p at the
    parameter nodes), and how many array-op rules ran."""
    np = _np()
    t = tangents_along(nodes, values, aux, local, direction)
    adjoint: dict[int, Any] = {output: 1.0}
    radjoint: dict[int, Any] = {}
    rules = 0
    with np.errstate(all="ignore"):
        for i in range(len(nodes) - 1, -1, -1):
            g, node = adjoint.get(i), nodes[i]
            if g is None or not node.args:
                continue
            op = ARRAY_OPS[node.op]
            args = [values[a] for a in node.args]
            argt = [t.get(a) for a in node.args]
            for k, a in enumerate(node.args):
                if not active[a]:
                    continue
                parts = [op.vjp(g, k, values[i], args, aux.get(i), local.get(i))]
                if radjoint.get(i) is not None:
                    parts.append(op.vjp(radjoint[i], k, values[i], args, aux.get(i),
                                        local.get(i)))
                if op.rvjp is not None:
                    parts.append(op.rvjp(g, k, values[i], args, aux.get(i), local.get(i),
                                         argt, t.get(i)))
                rules += len(parts)
                _accumulate(adjoint, a, parts[0])
                for part in parts[1:]:
                    if part is not None:
                        _accumulate(radjoint, a, part)
    return adjoint, radjoint, rules


def _accumulate(into: dict, key: int, value) -> None:
    into[key] = into[key] + value if key in into else value
