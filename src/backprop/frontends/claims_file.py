"""A file of claims for ``backprop check``: YAML (docs/check.md) or CSV, read and validated
whole before any work, every problem as ``file:line: what`` (exit 2), as for specs.

    version: 1
    rtol: 1e-9                    # the file's tolerances (optional; per claim too)
    claims:
      - name: chain rule
        expr: sin(2*x + y)
        at: {x: 1, y: 2}          # or "x=1,y=2"
        gradient: {x: -1.3072872417272239}     # claimed numbers, at the point
      - name: product rule
        expr: x^2*y
        derivative: {x: 2*x*y, y: x^2}         # claimed formulas

CSV: a header ``name,expr,at,wrt,claim`` and one row per claimed partial: a number (with
``at``) or a formula.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass, field

from backprop.errors import InputError
from backprop.limits import Limits

FIELDS = ("name", "expr", "at", "gradient", "derivative", "rtol", "atol")
CSV_FIELDS = ("name", "expr", "at", "wrt", "claim")
DEFAULT_RTOL, DEFAULT_ATOL = 1e-9, 1e-12


@dataclass(frozen=True)
class Claim:
    """One claim: an expression, and what someone says its partials are."""

    name: str
    line: int
    expr: str
    at: str | None  # the point, as --at text
    numbers: dict[str, float] = field(default_factory=dict)  # wrt -> claimed value at `at`
    formulas: dict[str, str] = field(default_factory=dict)  # wrt -> claimed formula
    rtol: float = DEFAULT_RTOL
    atol: float = DEFAULT_ATOL


def read_claims(path: str, *, max_bytes: int = Limits.max_bytes,
                text: str | None = None) -> list[Claim]:
    """Every claim of the file, validated (expressions and formulas parse, points name the
    expression's variables), or the first problem as file:line (InputError)."""
    from backprop.frontends.spec_yaml import read_spec_text

    if text is None:
        text = read_spec_text(path, max_bytes, kind="claims")
    claims = _csv_claims(text, path) if path.lower().endswith(".csv") else \
        _yaml_claims(text, path)
    if not claims:
        raise InputError(f"{path}: no claims", hint="list them under claims: (docs/check.md)")
    for claim in claims:
        _validate(claim, path)
    return claims


def _yaml_claims(text: str, path: str) -> list[Claim]:
    from backprop.frontends.spec_yaml import parse_yaml

    root = parse_yaml(text, path)
    fail = _failer(path)
    if root.kind != "map":
        raise fail(root.line, "a claims file is a mapping with a claims: list",
                   "see docs/check.md")
    unknown = set(root.value) - {"version", "rtol", "atol", "claims"}
    if unknown:
        key = min(unknown, key=lambda k: root.key_lines[k])
        raise fail(root.key_lines[key], f"unknown field {key!r}",
                   "fields: version, rtol, atol, claims")
    version = root.value.get("version")
    if version is not None and _scalar(version, fail) not in ("1",):
        raise fail(version.line, f"version {version.value!r} is not supported", "version: 1")
    rtol = _tolerance(root.value.get("rtol"), DEFAULT_RTOL, fail)
    atol = _tolerance(root.value.get("atol"), DEFAULT_ATOL, fail)
    items = root.value.get("claims")
    if items is None:
        raise fail(root.line, "claims: missing", "a list of claims (docs/check.md)")
    if items.kind != "seq":
        raise fail(items.line, "claims: must be a list", "- expr: ...")
    return [_yaml_claim(node, k, rtol, atol, fail) for k, node in enumerate(items.value, 1)]


def _yaml_claim(node, k: int, rtol: float, atol: float, fail) -> Claim:
    if node.kind != "map":
        raise fail(node.line, f"claim {k} must be a mapping", "- expr: ...\n  gradient: ...")
    unknown = set(node.value) - set(FIELDS)
    if unknown:
        key = min(unknown, key=lambda key: node.key_lines[key])
        raise fail(node.key_lines[key], f"unknown field {key!r} in claim {k}",
                   "fields: " + ", ".join(FIELDS))
    fields = node.value
    if "expr" not in fields:
        raise fail(node.line, f"claim {k}: expr: missing", "expr: sin(2*x + y)")
    expr = _scalar(fields["expr"], fail)
    name = _scalar(fields["name"], fail) if "name" in fields else f"claim {k}"
    at = _point_text(fields.get("at"), fail)
    numbers = {wrt: _number(value, fail, f"gradient {wrt}")
               for wrt, value in _mapping(fields.get("gradient"), "gradient", fail).items()}
    formulas = {wrt: _scalar(value, fail)
                for wrt, value in _mapping(fields.get("derivative"), "derivative", fail).items()}
    if not numbers and not formulas:
        raise fail(node.line, f"claim {k} ({name}) claims nothing",
                   "add gradient: {x: ...} (numbers, with at:) or derivative: {x: ...}")
    if numbers and at is None:
        raise fail(node.key_lines["gradient"], f"claim {k} ({name}): a claimed gradient "
                   "needs the point it holds at", "add at: {x: 1, ...}")
    return Claim(name, node.line, expr, at, numbers, formulas,
                 _tolerance(fields.get("rtol"), rtol, fail),
                 _tolerance(fields.get("atol"), atol, fail))


def _csv_claims(text: str, path: str) -> list[Claim]:
    fail = _failer(path)
    rows = list(csv.reader(io.StringIO(text)))
    header = [cell.strip().lower() for cell in rows[0]] if rows else []
    missing = [f for f in ("expr", "wrt", "claim") if f not in header]
    if missing or set(header) - set(CSV_FIELDS):
        raise fail(1, "the first row must name the columns " + ",".join(CSV_FIELDS),
                   "name and at may be left empty")
    claims = []
    for line, row in enumerate(rows[1:], 2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            raise fail(line, f"{len(row)} cells, the header has {len(header)}",
                       "quote a cell that holds a comma: \"x=1,y=2\"")
        cells = {key: cell.strip() for key, cell in zip(header, row)}
        wrt, claim, at = cells["wrt"], cells["claim"], cells.get("at") or None
        if not wrt or not claim or not cells["expr"]:
            raise fail(line, "expr, wrt and claim must not be empty")
        value = _float_or_none(claim)
        if value is not None and at is None:
            raise fail(line, "a claimed number needs the point it holds at",
                       "fill the at column: x=1,y=2")
        claims.append(Claim(cells.get("name") or f"row {line}", line, cells["expr"], at,
                            {wrt: value} if value is not None else {},
                            {} if value is not None else {wrt: claim}))
    return claims


def _validate(claim: Claim, path: str) -> None:
    """The expression and every formula parse, the point fits, and one output is claimed
    about: file:line and the parser's own message and caret otherwise."""
    from backprop.frontends.parse import parse
    from backprop.frontends.point import parse_point

    fail = _failer(path)
    graph = _parsed(claim.expr, claim, "expr", fail, parse)
    if len(graph.outputs) != 1:
        raise fail(claim.line, f"{claim.name}: the expression has {len(graph.outputs)} "
                               "outputs; a claim is about one")
    if claim.at is not None:
        try:
            parse_point(claim.at, graph)
        except InputError as error:
            raise fail(claim.line, f"{claim.name}: at: {error.message}", error.hint,
                       error.source, error.column) from None
    for wrt, formula in claim.formulas.items():
        _parsed(formula, claim, f"derivative {wrt}", fail, parse)
    for wrt in [*claim.numbers, *claim.formulas]:
        if not wrt.isidentifier():
            raise fail(claim.line, f"{claim.name}: {wrt!r} is not a variable name")


def _parsed(text: str, claim: Claim, what: str, fail, parse):
    try:
        return parse(text)
    except InputError as error:
        raise fail(claim.line, f"{claim.name}: {what}: {error.message}", error.hint,
                   error.source, error.column) from None


def _failer(path: str):
    def fail(line: int, message: str, hint: str | None = None, source: str | None = None,
             column: int | None = None) -> InputError:
        return InputError(f"{path}:{line}: {message}", hint=hint, source=source,
                          column=column)
    return fail


def _scalar(node, fail) -> str:
    if node.kind != "scalar":
        raise fail(node.line, "expected text or a number here, not a list or mapping")
    return node.value


def _mapping(node, what: str, fail) -> dict:
    if node is None:
        return {}
    if node.kind != "map":
        raise fail(node.line, f"{what}: must map variables to claims", f"{what}: {{x: ...}}")
    return node.value


def _number(node, fail, what: str) -> float:
    value = _float_or_none(_scalar(node, fail))
    if value is None:
        raise fail(node.line, f"{what}: {node.value!r} is not a number",
                   "a formula goes under derivative:, a number under gradient:")
    return value


def _tolerance(node, default: float, fail) -> float:
    if node is None:
        return default
    value = _float_or_none(_scalar(node, fail))
    if value is None or not value >= 0 or math.isinf(value):
        raise fail(node.line, f"tolerance {node.value!r} must be a number >= 0")
    return value


def _point_text(node, fail) -> str | None:
    if node is None:
        return None
    if node.kind == "scalar":
        return node.value
    if node.kind != "map":
        raise fail(node.line, "at: a mapping {x: 1, y: 2} or the text x=1,y=2")
    return ",".join(f"{name}={_scalar(value, fail)}" for name, value in node.value.items())


def _float_or_none(text: str) -> float | None:
    from backprop.frontends.parse import point_number

    return point_number(text.strip())
