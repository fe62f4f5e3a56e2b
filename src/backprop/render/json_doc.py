"""The ``--json`` document (shape documented in docs/json.md, version 1).

Plain ``json`` only. JSON has no inf or nan, so non-finite numbers are the strings
"inf", "-inf" and "nan"; formulas are SymPy's ``str`` form.
"""

from __future__ import annotations

import json
import math
from typing import Any

JSON_VERSION = 1


def number(value: Any) -> float | str | None:
    """A float for JSON; non-finite values become "inf", "-inf" or "nan"."""
    if value is None:
        return None
    value = float(value)
    if math.isfinite(value):
        return value
    return "nan" if value != value else ("inf" if value > 0 else "-inf")


def formula(expr: Any) -> str | None:
    return None if expr is None else str(expr)


def grad_document(report, explanation=None) -> dict:
    """Everything ``backprop grad`` computed, as plain data (with ``--explain``, its steps
    under "explain", docs/json-explain.md)."""
    graph = report.graph
    numeric = report.point is not None
    outputs = []
    for o, out in enumerate(graph.outputs):
        gradient = {}
        for k, name in enumerate(report.wrt):
            gradient[name] = {
                "value": number(report.jacobian[o][k]) if numeric else None,
                "formula": formula(report.formulas[o][k]) if report.formulas else None,
            }
        outputs.append({
            "name": graph.output_names[o] if o < len(graph.output_names) else graph.name(out),
            "value": number(report.output_values[o]) if numeric else None,
            "formula": formula(report.output_formulas[o]) if report.output_formulas else None,
            "gradient": gradient,
        })
    document = {
        "version": JSON_VERSION,
        "command": "grad",
        "expression": report.text,
        "inputs": list(graph.input_names),
        "wrt": report.wrt,
        "point": report.point and {k: number(v) for k, v in report.point.items()},
        "outputs": outputs,
        "gradient": outputs[0]["gradient"] if len(outputs) == 1 else None,
        "modes": {
            name: {
                "counts": result.counts.as_dict(),
                "seconds": report.timings.get(name),
                "jacobian": [[number(v) for v in row] for row in result.jacobian]
                if numeric else [[formula(v) for v in row] for row in result.jacobian],
            }
            for name, result in report.results.items()
        },
        "refused": report.refused,
        "agreement": report.agreement(),
        "graph": {"nodes": len(graph), "edges": graph.edge_count, "depth": graph.depth},
        "check": check_document(report.check),
        "warnings": report.warnings,
    }
    if explanation is not None:
        document["explain"] = explain_document(explanation)
    return document


def step_number(value: Any) -> float | int | str | None:
    """A step's number: JSON numbers at a point, SymPy's text without one."""
    if value is None or isinstance(value, (bool, int)):
        return value
    if isinstance(value, float):
        return number(value)
    if getattr(value, "shape", None) == ():  # a numpy scalar
        return number(float(value))
    return str(value)


def explain_document(explanation) -> dict:
    """An ``explain.Explanation`` as plain data: its steps in order, each with its section."""
    return {
        "modes": list(explanation.modes),
        "symbolic": explanation.symbolic,
        "agrees": explanation.agrees,
        "steps": [{"kind": step.kind, "section": step.section, "mode": step.mode,
                   "node": step.node, "text": step.text, "formula": step.formula,
                   "number": step_number(step.number)} for step in explanation.steps],
    }


def check_document(result) -> dict | None:
    if result is None:
        return {"status": "skipped", "method": None, "reason": "--no-check", "max_error": None,
                "max_abs_error": None, "checked": [], "notes": []}
    return {"status": result.status, "method": result.method, "reason": result.reason,
            "max_error": number(result.max_error),
            "max_abs_error": number(result.max_abs_error), "checked": result.checked,
            "notes": [{**note, "ours": number(note["ours"]), "true": number(note["true"])}
                      for note in result.notes]}


def dumps(document: dict) -> str:
    return json.dumps(document, indent=2, allow_nan=False)
