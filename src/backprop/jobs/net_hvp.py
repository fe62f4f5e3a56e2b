"""``backprop net --hvp`` / ``--hessian``: H v of the loss over the parameters, both engines.

The parameters are taken in one order everywhere (the *canonical* order): the named
parameters as the spec lists them, then each weight matrix's and bias's unnamed entries,
row-major, layer by layer (the order of the gradient tables). v and H v are flat arrays in
that order, so both engines give the same numbers for the same direction.

* **scalar engine** (small nets): what ``backprop hessian --at ... --vector`` does, on the
  spec's scalar graph: the reverse gradient program, one forward sweep on it seeded by v
  (``jobs.hessian``'s own functions), checked against the full Hessian by forward-over-
  reverse times v and 80-digit central differences of the gradient along v.
* **array engine**: Pearlmutter's R-operator on the array op table (``arrays.reverse_r``),
  checked against central differences of the array gradient along v.

The direction is ``--vector NAME=v,...`` (``*=0`` fills the rest) or, by default, a seeded
random unit vector: independent standard normal components (numpy's ``default_rng(seed)``,
one per parameter in canonical order) divided by their Euclidean norm.
"""

from __future__ import annotations

import math
from typing import Any

from backprop.errors import InputError, LimitError
from backprop.jobs.net_report import NetHvp

HESSIAN_LIMIT = 64  # parameters: the largest net --hessian (and the scalar engine's H v) takes
HVP_RTOL = 1e-6  # H v against H times v and against differences of the gradient
FD_STEP = 1e-6  # the central differences' step along the unit direction v / |v|


class HvpRequest:
    """What was asked: a ``--vector`` text (or None), the seed, and whether to form H."""

    def __init__(self, vector=None, seed: int = 0, hessian: bool = False) -> None:
        if seed < 0:
            raise InputError(f"--direction-seed {seed}: a seed is a whole number >= 0",
                             hint="e.g. --direction-seed 0")
        self.vector, self.seed, self.hessian = vector, seed, hessian

    def direction(self, named: dict, layers) -> tuple[Any, str]:
        """v in canonical order, and how it was chosen (for the views)."""
        import numpy as np

        names = canonical_names(named, layers)
        if self.vector is not None:
            from backprop.jobs.hessian import parse_vector

            try:
                given = parse_vector(self.vector, names)
            except InputError as error:
                raise _for_networks(error) from None
            return np.array([given[n] for n in names], dtype=float), "v from --vector"
        v = np.random.default_rng(self.seed).standard_normal(len(names))
        norm = float(np.linalg.norm(v))
        return (v / norm if norm else v), f"a seeded random unit direction (seed {self.seed})"


def request_for(hvp: bool, hessian: bool, vector, seed: int | None) -> HvpRequest | None:
    """What the flags ask for: None unless --hvp, --hessian, --vector or --direction-seed."""
    if hvp or hessian or vector is not None or seed is not None:
        return HvpRequest(vector, seed or 0, hessian)
    return None


def _for_networks(error: InputError) -> InputError:
    """hessian's --vector error, told about parameters, its lists cut to a few names (a
    network may have 100,000 parameters; ``*=0`` is the way to give most of them)."""
    def cut(text: str, limit: int = 200) -> str:
        return text if len(text) <= limit else text[:limit].rsplit(",", 1)[0] + ", ..."

    message = error.message.replace("the expression has no variable", "the network has no "
                                    "parameter")
    missing = error.message.startswith("--vector gives no component")
    hint = error.hint if error.hint is None else cut(error.hint) + \
        (" (or *=0 for the rest)" if missing else "")
    return InputError(cut(message), hint=hint, source=error.source, column=error.column)


def canonical_names(named: dict, layers) -> list[str]:
    return [*named, *(name for group in layers for name in group.names)]


def refuse_hessian(spec) -> None:
    """--hessian on a net too large: exit 3 before any work."""
    count = spec.parameters + len(spec.params)
    if count > HESSIAN_LIMIT:
        raise LimitError(f"--hessian: the network has up to {count:,} parameters, over "
                         f"{HESSIAN_LIMIT} (the full Hessian has one entry per pair)",
                         hint="use --hvp: H v along a direction, on any size")


def power(x: float) -> str:
    """1e-6 as written in the docs (Python's format gives 1e-06)."""
    return f"{x:.0e}".replace("e-0", "e-")


def _status(difference: float | None) -> str:
    if difference is None or not math.isfinite(difference):
        return "skipped"
    return "pass" if difference <= HVP_RTOL else "fail"


def _worst(product, references) -> float | None:
    """The largest |a - b| / max(1, |b|) over every reference (relative_difference's rule)."""
    import numpy as np

    found = [np.max(np.abs(product - ref) / np.maximum(1.0, np.abs(ref)), initial=0.0)
             for ref in references if ref is not None]
    return float(max(found)) if found else None


# -- scalar engine: jobs/hessian's forward-over-reverse, composed ------------------------------

def scalar_hvp(graph, point: dict, names: list[str], v, direction: str,
               form: bool) -> NetHvp:
    """H v by one forward sweep on the reverse gradient program; H by fwd-rev, to check it
    (and to show it with --hessian)."""
    import numpy as np

    from backprop.jobs.common import input_ids
    from backprop.jobs.hessian import hvp_sweep, pairing_of

    order = list(graph.input_names)
    programs: dict = {}
    formed = pairing_of("fwd-rev", graph, input_ids(graph, order), order, point, programs)
    vector = dict(zip(names, (float(x) for x in v)))
    found = hvp_sweep(programs["reverse"], order, point, vector, formed)
    to_canonical = [order.index(n) for n in names]

    def pick(row):
        return np.array([row[k] for k in to_canonical], dtype=float)

    hessian = [[formed.hessian[i][j] + 0.0 for j in to_canonical] for i in to_canonical]
    return NetHvp(direction, np.asarray(v, dtype=float), pick(found.product) + 0.0,
                  pick(found.by_hessian), pick(found.by_differences), found.difference,
                  found.status, "H times v (H by fwd-rev) and 80-digit central differences "
                  "of the gradient along v",
                  {"program_ops": found.program_ops, **found.counts.as_dict(),
                   "arithmetic": found.counts.arithmetic,
                   "hessian_sweeps": formed.counts.sweeps,
                   "hessian_operations": formed.total_ops},
                  hessian if form else None)


# -- array engine: the R-operator on the array op table ----------------------------------------

def array_hvp(anet, net, values: list, aux: dict, v, direction: str) -> NetHvp:
    """H v by one tangent sweep and one R-reverse sweep, checked by central differences of
    the array gradient along v."""
    import numpy as np

    from backprop.engine import arrays
    from backprop.jobs.net_array import layer_groups, spread_gradients

    local = arrays.linearize(anet.nodes, values)
    along = gather(anet, net, v)
    _, radjoint, rules = arrays.reverse_r(anet.nodes, values, aux, local, anet.active,
                                          anet.loss, along)

    def flat(grads) -> Any:
        groups = layer_groups(net)
        named = spread_gradients(anet, net, groups, grads, "hvp")
        return np.concatenate([np.array(list(named.values()), dtype=float),
                               *(np.asarray(g.gradients["hvp"], dtype=float)
                                 for g in groups)])

    product = flat({node: radjoint.get(node) for node, _, _ in anet.params}) + 0.0
    norm = float(np.linalg.norm(v))
    step = FD_STEP / norm if norm else FD_STEP

    def gradient(sign: float):
        leaves = dict(anet.leaves)
        for node, move in along.items():
            leaves[node] = leaves[node] + sign * step * move
        return flat(anet.reverse(*anet.evaluate(leaves))[0])

    by_differences = (gradient(1.0) - gradient(-1.0)) / (2 * step)
    difference = _worst(product, [by_differences])
    return NetHvp(direction, np.asarray(v, dtype=float), product, None, by_differences,
                  difference, _status(difference),
                  f"central differences of the gradient along v (step {power(FD_STEP)}/|v|)",
                  {"sweeps": 2, "reverse_rules": rules,
                   "tangent_nodes": sum(1 for n in anet.nodes if n.args)}, None)


def gather(anet, net, v) -> dict[int, Any]:
    """v (canonical order) as one array per parameter node, in the array engine's layout
    (weights inputs × units); a named parameter moves every entry that uses it."""
    import numpy as np

    from backprop.jobs.net_array import layer_groups

    named = list(net.spec.params)
    at = dict(zip(named, v[:len(named)]))
    start = len(named)
    flats = {}
    for group in layer_groups(net):
        flats[group.layer, group.kind] = (group, v[start:start + len(group.names)])
        start += len(group.names)
    along = {}
    for node, l, kind in anet.params:
        group, part = flats[net.spec.layers[l].name, kind]
        shape = group.shape
        entry = np.zeros(int(np.prod(shape)))
        if group.mask is None:
            entry[:] = part
        else:
            entry[group.mask] = part
        entry = entry.reshape(shape)
        for key, pname in (net.W_refs[l] if kind == "W" else net.b_refs[l]).items():
            entry[key] = at[pname]
        along[node] = np.ascontiguousarray(entry.T) if kind == "W" else entry
    return along


def summarize(report):
    """The report with its H v's per-block rows (what the text view's table shows)."""
    import numpy as np
    from dataclasses import replace

    hvp, rows, start = report.hvp, [], 0
    sizes = [("named parameters", len(report.named))] + \
        [(f"{g.layer}.{g.kind}", len(g.names)) for g in report.layers]
    for label, size in sizes:
        v, hv = hvp.vector[start:start + size], hvp.product[start:start + size]
        start += size
        if size:
            rows.append((label, size, float(np.linalg.norm(v)), float(np.linalg.norm(hv)),
                         float(hv.min()), float(hv.max())))
    return replace(report, hvp=replace(hvp, blocks=rows))
