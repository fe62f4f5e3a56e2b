"""The ``--json`` document (shape documented in docs/json.md, version 1).

Plain ``json`` only. JSON has no inf or nan, so non-finite numbers are the strings
"inf", "-inf" and "nan"; formulas are SymPy's ``str`` form.
"""

from __future__ import annotations

import json
import math
import operator
from json.encoder import encode_basestring_ascii
from typing import Any

from backprop.render.timing_text import timing_document

JSON_VERSION = 1


def number(value: Any) -> float | str | None:
    """A float for JSON; non-finite values become "inf", "-inf" or "nan"."""
    if value is None:
        return None
    value = float(value)
    if math.isfinite(value):
        return value
    return "nan" if value != value else ("inf" if value > 0 else "-inf")


def numbers(values) -> list:
    """``number`` of each value (a list of finite floats is all of them already)."""
    values = list(values)
    if set(map(type, values)) == {float} and all(map(math.isfinite, values)):
        return values
    return list(map(number, values))


def formula(expr: Any) -> str | None:
    return None if expr is None else str(expr)


def grad_document(report) -> dict:
    """Everything ``backprop grad`` computed, as plain data (with ``--explain``, its steps
    under "explain", docs/json-explain.md)."""
    graph = report.graph
    numeric = report.point is not None
    outputs = []
    no_values = [None] * len(report.wrt)
    for o, out in enumerate(graph.outputs):
        values = numbers(report.jacobian[o]) if numeric else no_values
        formulas = list(map(formula, report.formulas[o])) if report.formulas else no_values
        gradient = {name: {"value": value, "formula": text}
                    for name, value, text in zip(report.wrt, values, formulas)}
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
        "point": report.point and dict(zip(report.point, numbers(report.point.values()))),
        "outputs": outputs,
        "gradient": outputs[0]["gradient"] if len(outputs) == 1 else None,
        "modes": {
            name: {
                "counts": result.counts.as_dict(),
                "seconds": report.timings.get(name),
                "timing": timing_document(report.timing_details.get(name)),
                "jacobian": [numbers(row) for row in result.jacobian]
                if numeric else [[formula(v) for v in row] for row in result.jacobian],
            }
            for name, result in report.results.items()
        },
        "refused": report.refused,
        "agreement": report.mode_difference,
        "graph": {"nodes": len(graph), "edges": graph.edge_count, "depth": graph.depth},
        "check": check_document(report.check),
        "warnings": report.warnings,
    }
    if getattr(report, "kinks", None):  # nodes on a kink at the point (engine/kinks.py)
        document["kinks"] = [kink.as_dict() for kink in report.kinks]
    if report.explanation is not None:
        document["explain"] = explain_document(report.explanation)
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
            "notes": [{**note, "ours": number(note["ours"]), "true": number(note["true"]),
                       "one_sided": [number(v) for v in note["one_sided"]]}
                      for note in result.notes]}


def dumps(document: dict) -> str:
    """``json.dumps(document, indent=2, allow_nan=False)``, the very same text, fast.

    Python's indenting encoder runs in pure Python (its C encoder only without indent):
    1.6 s for the 25 MB document of a 100,000-term sum. Here every list or dict whose items
    are all scalars, or all dicts of scalars with the same keys (a gradient's {"value",
    "formula"} entries), is encoded a column at a time by C functions (``float.__repr__``,
    the json module's string encoder), and a container met twice (``gradient`` is also
    ``outputs[0].gradient``) is encoded once. Anything unusual (another type, a non-string
    key, inf or nan) goes to ``json``."""
    return "".join(_pieces(document))


def write(document: dict, stream) -> None:
    """``print(dumps(document), file=stream)`` without joining the pieces into one string
    (a 100 MB document is not held twice, nor encoded to bytes at once)."""
    for piece in _pieces(document):
        stream.write(piece)
    stream.write("\n")


def _pieces(document: dict) -> list[str]:
    """The text of ``dumps(document)`` in pieces, all made before any is written."""
    try:
        return _Encoder().encode(document)
    except _Unusual:
        return [json.dumps(document, indent=2, allow_nan=False)]


class _Unusual(Exception):
    """A value that only ``json`` itself encodes (or refuses) the way it should."""


def _float(value: float) -> str:
    if not math.isfinite(value):
        raise _Unusual
    return float.__repr__(value)


_SCALARS = {type(None): lambda v: "null", bool: lambda v: "true" if v else "false",
            int: int.__repr__, float: _float, str: encode_basestring_ascii}
_BRACKETS = {dict: ("{", "}"), list: ("[", "]"), tuple: ("[", "]")}
_DEEPEST = 100  # levels: deeper than any document of ours


def _scalars(values: list) -> list[str] | None:
    """The JSON text of each value; None if one is a container."""
    types = set(map(type, values))
    if not types <= _SCALARS.keys():
        if types <= _SCALARS.keys() | _BRACKETS.keys():
            return None
        raise _Unusual
    if types == {float}:
        if not all(map(math.isfinite, values)):
            raise _Unusual
        return list(map(float.__repr__, values))
    if types == {type(None)}:
        return ["null"] * len(values)
    if len(types) == 1:
        return list(map(_SCALARS[types.pop()], values))
    return [_SCALARS[type(v)](v) for v in values]


class _Encoder:
    """One document's encoding: iterative, with an explicit stack of pieces to write."""

    def __init__(self) -> None:
        self.seen: dict[int, tuple[str, int]] = {}  # id of a flat container -> (text, level)

    def encode(self, document) -> list[str]:
        out: list[str] = []
        stack: list = [(document, 0)]
        while stack:
            item = stack.pop()
            if type(item) is str:
                out.append(item)
                continue
            value, level = item
            text = self.flat(value, level)
            if text is not None:
                out.append(text)
                continue
            if level > _DEEPEST:
                raise _Unusual  # json's own check finds the circular reference
            opening, closing = _BRACKETS[type(value)]
            inner, items = "\n" + "  " * (level + 1), _items(value)
            stack.append("\n" + "  " * level + closing)
            for k in range(len(items) - 1, -1, -1):
                key, child = items[k]
                stack.append((child, level + 1))
                stack.append(("," if k else opening) + inner + key)
        return out

    def flat(self, value, level: int) -> str | None:
        """The text of a scalar, or of a container whose items are all scalars or all
        records (encoded a column at a time); None for any other container."""
        kind = type(value)
        if kind not in _BRACKETS:
            if kind not in _SCALARS:
                raise _Unusual
            return _SCALARS[kind](value)
        if not value:
            return "".join(_BRACKETS[kind])
        known = self.seen.get(id(value))
        if known is not None:
            text, at = known
            return text.replace("\n", "\n" + "  " * (level - at)) if level >= at \
                else text.replace("\n" + "  " * (at - level), "\n")
        items = list(value.values()) if kind is dict else value
        texts = _scalars(items)
        if texts is None:
            texts = _records(items, level + 1)
        if texts is None:
            return None
        inner = "\n" + "  " * (level + 1)
        if kind is dict:
            texts = map("%s: %s".__mod__, zip(_keys(value), texts))
        opening, closing = _BRACKETS[kind]
        text = opening + inner + ("," + inner).join(texts) + "\n" + "  " * level + closing
        self.seen[id(value)] = text, level
        return text


def _keys(mapping: dict) -> list[str]:
    """Each key as JSON text."""
    if set(map(type, mapping)) != {str}:
        raise _Unusual
    return list(map(encode_basestring_ascii, mapping))


def _items(value) -> list[tuple[str, object]]:
    """(the text before the item: its key and ": ", or nothing; the item)."""
    if type(value) is dict:
        return [(key + ": ", item) for key, item in zip(_keys(value), value.values())]
    return [("", item) for item in value]


def _records(items: list, level: int) -> list[str] | None:
    """Texts of dicts that share their keys and hold only scalars; else None."""
    if set(map(type, items)) != {dict} or len(set(map(tuple, items))) != 1 or not items[0]:
        return None
    keys = _keys(items[0])
    columns = []
    for key in items[0]:
        column = _scalars(list(map(operator.itemgetter(key), items)))
        if column is None:
            return None
        columns.append(column)
    inner = "\n" + "  " * (level + 1)
    template = "{" + inner + ("," + inner).join(k.replace("%", "%%") + ": %s" for k in keys) \
        + "\n" + "  " * level + "}"
    return list(map(template.__mod__, zip(*columns)))


def hessian_document(report) -> dict:
    """Everything ``backprop hessian`` computed (docs/second-order.md, "The JSON
    document"): each pairing's Hessian (numbers at a point, else formulas as text) and
    exact cost, the verdict, symmetry, agreement, H v and the check."""
    numeric = report.point is not None

    def matrix(rows):
        return [numbers(row) for row in rows] if numeric else \
            [[formula(h) for h in row] for row in rows]

    hvp = report.hvp
    document = {
        "version": JSON_VERSION,
        "command": "hessian",
        "expression": report.text,
        "inputs": list(report.graph.input_names),
        "point": report.point and dict(zip(report.point, numbers(report.point.values()))),
        "value": number(report.value) if numeric else formula(report.value),
        "hessian": matrix(report.hessian),
        "pairings": {
            name: {"program": {"nodes": p.program_nodes, "ops": p.program_ops},
                   "counts": p.counts.as_dict(), "total_ops": p.total_ops,
                   "seconds": report.timings.get(name), "hessian": matrix(p.hessian)}
            for name, p in report.pairings.items()},
        "refused": report.refused,
        "verdict": report.verdict,
        "symmetry": report.symmetry,
        "agreement": report.agreement,
        "hvp": None if hvp is None else {
            "vector": dict(zip(hvp.vector, numbers(hvp.vector.values()))),
            "product": numbers(hvp.product),
            "program_ops": hvp.program_ops, "counts": hvp.counts.as_dict(),
            "by_hessian": None if hvp.by_hessian is None else numbers(hvp.by_hessian),
            "by_differences": None if hvp.by_differences is None
            else numbers(hvp.by_differences),
            "difference": number(hvp.difference), "status": hvp.status},
        "graph": {"nodes": len(report.graph), "edges": report.graph.edge_count,
                  "depth": report.graph.depth},
        "check": check_document(report.check),
        "warnings": report.warnings,
    }
    if report.explanation is not None:
        document["explain"] = explain_document(report.explanation)
    return document
