"""The scalar engine of ``backprop net``: small networks as an ordinary scalar Graph.

``spec.build_scalar_graph`` makes a Graph whose inputs are the parameters, so the modes,
path enumeration and the SymPy check run on it unchanged and count exactly by running.
"""

from __future__ import annotations

from dataclasses import replace

from backprop.engine.modes.paths import estimate
from backprop.frontends.spec import Resolved, Spec, build_scalar_graph, resolve, scalar_size
from backprop.jobs.common import run_modes
from backprop.jobs.net_report import FD_SEED, LayerGradient, ModeRun, NetReport, PathTerm

SYMPY_SAMPLE = 8  # parameters SymPy checks on the scalar engine (it takes ~0.1-0.5 s each)


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


def run_scalar(spec: Spec, modes, reason: str, run_check: bool, max_paths: int,
               check_timeout: float, max_depth: int | None = None, hvp=None) -> NetReport:
    from backprop.engine.evaluate import evaluate
    from backprop.engine.modes import run_mode

    net = resolve(spec)
    graph = build_scalar_graph(net, max_depth)
    point = dict(graph.defaults)
    values = evaluate(graph, point)
    wrt = list(graph.inputs)

    def run(name: str):
        options = {"max_paths": max_paths} if name == "paths" else {}
        return run_mode(name, graph, values, wrt, **options)

    results, seconds, refused = run_modes(modes, run)
    runs = {}
    for name in modes:
        if name in refused:
            runs[name] = ModeRun(name, estimate(graph, wrt), None, ran=False)
        else:
            result = results[name]
            runs[name] = ModeRun(name, result.counts, seconds[name],
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
    check_result = _check(graph, point, runs, index, check_timeout) if run_check else None
    report = NetReport(spec, "scalar", reason,
                       {"nodes": len(graph), "edges": graph.edge_count,
                        "scalar_bound": scalar_size(spec)},
                       float(values[graph.outputs[0]]), dict(spec.params), named_gradients,
                       groups, runs, refused, check_result, graph=graph, values=values)
    if hvp is not None:  # --hvp / --hessian: jobs/hessian's sweeps on this graph
        from backprop.jobs.net_hvp import canonical_names, scalar_hvp

        v, direction = hvp.direction(report.named, groups)
        report = replace(report, hvp=scalar_hvp(graph, point, canonical_names(report.named,
                                                                              groups),
                                                v, direction, hvp.hessian))
    return report


def _check(graph, point, runs, index, check_timeout):
    """SymPy at every parameter, or at a seeded sample of SYMPY_SAMPLE of them."""
    import random

    from backprop.check.check import check

    reference = next(m for m in ("reverse", "forward", "paths") if m in runs and runs[m].ran)
    names = list(graph.input_names)
    sample = names
    if len(names) > SYMPY_SAMPLE:
        sample = sorted(random.Random(FD_SEED).sample(names, SYMPY_SAMPLE), key=index.get)
    row = runs[reference].jacobian
    check_result = check(graph, sample, [[row[index[n]] for n in sample]], point,
                         timeout=check_timeout)
    if len(sample) < len(names):
        return replace(check_result, method=check_result.method + (
            f" (a sample of {len(sample)} of {len(names):,} parameters, seed {FD_SEED})"))
    return check_result


def path_listing(report: NetReport, selected: list[str], max_terms: int) \
        -> tuple[dict[str, list[PathTerm]], dict[str, float]]:
    """The paths from each selected parameter to L, when there are few (seed 004's table),
    and each parameter's sum over its paths (the gradient, as the listing adds it up)."""
    from backprop.engine.modes.paths import iter_paths, plan

    graph, values = report.graph, report.values
    listing, sums = {}, {}
    for name in selected[:8]:
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
        sums[name] = sum(t.product for t in terms)
    return listing, sums
