"""``--json`` and ``--csv`` for ``compare``, ``paths`` and ``scale`` (docs/json-compare.md).

Plain ``json`` and ``csv`` only (no rich): floats go through ``json_doc.number`` ("inf",
"-inf", "nan" for non-finite values), counts are exact integers however large, formulas
are SymPy's ``str`` form.
"""

from __future__ import annotations

import csv
import io

from backprop.engine.counts import FIELDS
from backprop.render.json_doc import JSON_VERSION, number
from backprop.render.timing_text import timing_document


def _head(command: str, result) -> dict:
    """What every document about one graph opens with: the command, the expression as
    printed back, the graph's outputs and inputs, and the inputs differentiated by."""
    return {"version": JSON_VERSION, "command": command, "expression": result.text,
            "outputs": list(result.graph.output_names),
            "inputs": list(result.graph.input_names), "wrt": result.wrt}


def _mode_document(comparison, mode: str) -> dict:
    cost = comparison.costs[mode]
    return {
        "status": "run" if cost.ran else "estimated",
        "reason": cost.reason,
        "counts": cost.counts.as_dict(),
        "operations": cost.operations,
        "seconds": number(cost.seconds),
        "repeats": cost.timing.repeats if cost.timing else 0,
        "relative_time": number(comparison.relative_time(mode)),
        "relative_operations": _ratio(comparison.relative_operations(mode)),
        "timing": timing_document(cost.timing),
        "jacobian": None if cost.jacobian is None
        else [[number(v) for v in row] for row in cost.jacobian],
    }


def _ratio(value):
    """An exact int (a ratio of counts too large for a float) stays an int."""
    return value if isinstance(value, int) else number(value)


def compare_document(comparison) -> dict:
    c = comparison
    graph = c.graph
    return {
        **_head("compare", c),
        "point": {k: number(v) for k, v in c.point.items()},
        "point_source": "random" if c.random_point else "given",
        "seed": c.seed if c.random_point else None,
        "shape": {"outputs": len(graph.outputs), "inputs": len(c.wrt)},
        "graph": {"nodes": len(graph), "edges": graph.edge_count, "depth": graph.depth},
        "evaluation": {"primitives": c.primitives, "seconds": number(c.evaluation.seconds),
                       "repeats": c.evaluation.repeats,
                       "timing": timing_document(c.evaluation)},
        "modes": {mode: _mode_document(c, mode) for mode in c.costs},
        "compiled": None if c.compiled is None
        else {name: timing_document(t) for name, t in c.compiled.items()},
        "bounds": None if c.bounds is None else c.bounds.as_dict(),
        "verdict": {"winners": c.verdict.winners, "ranking": c.verdict.ranking,
                    "text": c.verdict.text, "shape": c.verdict.shape, "rule": c.verdict.rule,
                    "times": c.verdict.times,
                    "disagreements": [{"faster": n.faster, "slower": n.slower,
                                       "reason": n.reason} for n in c.verdict.disagreements]},
        "agreement": number(c.mode_difference),
        "warnings": c.warnings,
        **_sparse_pieces(c),
    }


def _sparse_pieces(c) -> dict:
    """``sparse`` (several outputs) and ``eliminations`` (--eliminations), when present."""
    from backprop.render import sparse_view

    pieces = {}
    if getattr(c, "sparse", None) is not None:
        pieces["sparse"] = sparse_view.sparse_document(c.sparse)
    if getattr(c, "eliminations", None) is not None:
        pieces["eliminations"] = sparse_view.eliminations_document(c.eliminations)
    return pieces


COMPARE_CSV_FIELDS = ("mode", "status", *[f for f in FIELDS], "operations", "seconds", "repeats",
                      "relative_time", "relative_operations", "reason", "best_seconds",
                      "spread_seconds", "engine", "nonscalar", "nonscalar_ratio")


def compare_csv(comparison) -> str:
    rows = []
    for mode, cost in comparison.costs.items():
        bound = comparison.bounds.modes.get(mode) if comparison.bounds else None
        row = {"mode": mode, "status": "run" if cost.ran else "estimated",
               **{f: getattr(cost.counts, f) for f in FIELDS},
               "operations": cost.operations, "seconds": cost.seconds,
               "repeats": cost.timing.repeats if cost.timing else 0,
               "relative_time": comparison.relative_time(mode),
               "relative_operations": comparison.relative_operations(mode),
               "reason": cost.reason,
               "best_seconds": cost.timing and cost.timing.best,
               "spread_seconds": cost.timing and cost.timing.spread,
               "engine": cost.timing and cost.timing.engine,
               "nonscalar": bound and bound.nonscalar,
               "nonscalar_ratio": bound and bound.nonscalar_ratio}
        rows.append(row)
    return _csv(COMPARE_CSV_FIELDS, rows)


def _pairing_document(cost, relative_operations=None, relative_time=None) -> dict:
    """One pairing as ``hessian --json`` writes its costs, plus its time and status."""
    p = cost.pairing
    return {
        "status": "run" if cost.ran else "not run",
        "reason": cost.reason,
        "program": None if p is None else {"nodes": p.program_nodes, "ops": p.program_ops},
        "counts": None if p is None else p.counts.as_dict(),
        "total_ops": cost.operations,
        "seconds": number(cost.seconds),
        "repeats": cost.timing.repeats if cost.timing else 0,
        "relative_operations": _ratio(relative_operations),
        "relative_time": number(relative_time),
    }


def pairings_document(comparison) -> dict:
    """``compare --order 2 --json`` (docs/second-order.md, "Comparing the pairings")."""
    c = comparison
    return {
        **_head("compare", c),
        "order": 2,
        "point": {k: number(v) for k, v in c.point.items()},
        "point_source": "random" if c.random_point else "given",
        "seed": c.seed if c.random_point else None,
        "graph": {"nodes": len(c.graph), "edges": c.graph.edge_count, "depth": c.graph.depth},
        "evaluation": {"primitives": c.primitives, "seconds": number(c.evaluation.seconds),
                       "repeats": c.evaluation.repeats},
        "pairings": {name: _pairing_document(cost, c.relative_operations(name),
                                             c.relative_time(name))
                     for name, cost in c.costs.items()},
        "verdict": {"text": c.verdict, "rule": c.rule},
        "warnings": c.warnings,
    }


PAIRING_CSV_FIELDS = ("pairing", "status", "program_nodes", "program_ops", *FIELDS,
                      "total_ops", "seconds", "repeats")


def _pairing_row(name: str, cost) -> dict:
    p = cost.pairing
    return {"pairing": name, "status": "run" if cost.ran else "not run",
            "program_nodes": cost.program_nodes, "program_ops": p and p.program_ops,
            **{f: p and getattr(p.counts, f) for f in FIELDS},
            "total_ops": cost.operations, "seconds": cost.seconds,
            "repeats": cost.timing.repeats if cost.timing else 0}


def pairings_csv(comparison) -> str:
    rows = [{**_pairing_row(name, cost),
             "relative_time": comparison.relative_time(name),
             "relative_operations": comparison.relative_operations(name),
             "reason": cost.reason} for name, cost in comparison.costs.items()]
    return _csv((*PAIRING_CSV_FIELDS, "relative_time", "relative_operations", "reason"), rows)


def _value(value, symbolic: bool):
    return str(value) if symbolic else number(value)


def paths_document(listing) -> dict:
    symbolic = listing.symbolic
    return {
        **_head("paths", listing),
        "point": None if listing.point is None
        else {k: number(v) for k, v in listing.point.items()},
        "total_paths": listing.total_paths,
        "listed": len(listing.listed),
        "limit": listing.limit,
        "paths": [
            {"output": p.output, "input": p.input, "nodes": p.nodes, "args": p.slots,
             "partials": [_value(v, symbolic) for v in p.partials],
             "product": _value(p.product, symbolic)}
            for p in listing.listed
        ],
        "sums": [
            {"output": s.output, "input": s.input, "paths": s.paths,
             "sum": _value(s.total, symbolic), "gradient": _value(s.gradient, symbolic),
             "agrees": s.agrees, "difference": number(s.difference)}
            for s in listing.sums
        ],
        "counts": listing.counts.as_dict(),
        "warnings": listing.warnings,
    }


def scale_document(result) -> dict:
    family = result.family
    return {
        "version": JSON_VERSION,
        "command": "scale",
        "family": family.name,
        "description": family.summary,
        "size_name": family.size_name,
        "sizes": result.sizes,
        "seed": result.seed,
        "limits": {"max_paths": result.limits.max_paths,
                   "max_forward_sweeps": result.limits.max_forward_sweeps,
                   "max_ops": result.limits.max_ops},
        "rows": [
            {"size": row.size, "nodes": row.nodes, "edges": row.edges, "inputs": row.inputs,
             "outputs": row.outputs, "depth": row.depth,
             "evaluation_seconds": number(row.evaluation.seconds),
             "modes": {mode: {"status": "run" if cost.ran else "estimated",
                              "reason": cost.reason, "counts": cost.counts.as_dict(),
                              "operations": cost.operations, "seconds": number(cost.seconds),
                              "timing": timing_document(cost.timing)}
                       for mode, cost in row.costs.items()},
             **_sparse_pieces(row)}
            for row in result.rows
        ],
        "growth": {mode: {quantity: fit.as_dict() for quantity, fit in fits.items()}
                   for mode, fits in result.fits.items()},
    }


SCALE_CSV_FIELDS = ("family", "size", "nodes", "edges", "inputs", "outputs", "mode", "status",
                    *FIELDS, "operations", "seconds", "evaluation_seconds")


def scale_csv(result) -> str:
    rows = []
    for row in result.rows:
        for mode, cost in row.costs.items():
            rows.append({"family": result.family.name, "size": row.size, "nodes": row.nodes,
                         "edges": row.edges, "inputs": row.inputs, "outputs": row.outputs,
                         "mode": mode, "status": "run" if cost.ran else "estimated",
                         **{f: getattr(cost.counts, f) for f in FIELDS},
                         "operations": cost.operations, "seconds": cost.seconds,
                         "evaluation_seconds": row.evaluation.seconds})
    return _csv(SCALE_CSV_FIELDS, rows)


def scale_pairings_document(result) -> dict:
    """``scale --order 2 --json``: per size each pairing's cost, per pairing its growth."""
    family = result.family
    return {
        "version": JSON_VERSION, "command": "scale", "order": 2, "family": family.name,
        "description": family.summary, "size_name": family.size_name,
        "sizes": result.sizes, "seed": result.seed,
        "limits": {"max_ops": result.limits.max_ops, "max_nodes": result.limits.max_nodes},
        "rows": [
            {"size": row.size, "nodes": row.nodes, "inputs": row.inputs,
             "evaluation_seconds": number(row.evaluation.seconds),
             "pairings": {name: _pairing_document(cost) for name, cost in row.costs.items()}}
            for row in result.rows
        ],
        "growth": {name: {quantity: fit.as_dict() for quantity, fit in fits.items()}
                   for name, fits in result.fits.items()},
    }


def scale_pairings_csv(result) -> str:
    rows = [{"family": result.family.name, "size": row.size, "nodes": row.nodes,
             "inputs": row.inputs, **_pairing_row(name, cost),
             "evaluation_seconds": row.evaluation.seconds}
            for row in result.rows for name, cost in row.costs.items()]
    return _csv(("family", "size", "nodes", "inputs", *PAIRING_CSV_FIELDS,
                 "evaluation_seconds"), rows)


def _csv(fields, rows) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(fields), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "" if v is None else v for k, v in row.items()})
    return out.getvalue()
