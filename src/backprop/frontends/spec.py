"""Network specs in YAML: a safe loader, validation for people, and the scalar graph.

Loading never calls ``yaml.load`` or ``safe_load``. PyYAML's *event* parser (a state
machine, not a recursive descent) feeds a loop that builds plain nodes with line numbers
on an explicit stack, and refuses what a spec never needs: anchors and aliases (so an
alias bomb stops at its first ``&``), tags, duplicate keys, a second document, and nesting
deeper than ``MAX_NESTING``, with the same message and line under libyaml's C parser and
PyYAML's pure-Python one (``BACKPROP_YAML_LOADER=python`` selects it; the tests run under
both). Scalars stay text until a field asks for them: ``1e-3`` is a
number (YAML 1.1 would make it a string), ``true`` is a boolean only where a field wants
one, ``.nan`` and ``.inf`` are refused (a non-finite weight makes every gradient
meaningless), quoted text is never a number.

Validation collects every problem it finds, each as ``spec.yaml:LINE: path.to.field: what
is wrong``, and raises one ``SpecError`` (exit 2) that prints them one per line. Sizes are
checked before anything is allocated, so a 10^6-unit layer is refused (``LimitError``,
exit 3) with the size it would need.

``build_scalar_graph`` turns a small network into a scalar ``Graph`` in which every
parameter (a named one from ``params:``, or an unnamed entry such as ``layer1.W[0][1]``)
is its own input node and inputs and targets are constants, so every mode, ``paths``,
``compare`` and the explanations work per weight exactly as on an expression. The format
is documented in docs/spec.md.
"""

from __future__ import annotations

import difflib
import math
import os
import re
from dataclasses import dataclass, field
from typing import Any

from backprop.errors import InputError, LimitError
from backprop.engine.graph import Graph, GraphBuilder
from backprop.limits import Limits

SPEC_VERSION = 1
MAX_NESTING = 64
YAML_LOADER_ENV = "BACKPROP_YAML_LOADER"  # "python": PyYAML's pure-Python parser, not libyaml
MAX_PROBLEMS = 50  # validation stops collecting after this many

ACTIVATIONS = ("sigmoid", "tanh", "relu", "linear", "softmax")
LOSSES = ("half_sse", "mse", "cross_entropy")
INIT_SCHEMES = ("xavier", "he", "uniform", "zeros")
TOP_FIELDS = ("version", "name", "description", "inputs", "targets", "loss", "params", "layers")
LAYER_FIELDS = ("name", "activation", "weights", "bias", "units", "init")
INIT_FIELDS = ("scheme", "seed", "low", "high")
RANDOM_FIELDS = ("shape", "seed", "low", "high", "one_hot")

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_INT = re.compile(r"[-+]?[0-9]+\Z")
_FLOAT = re.compile(r"[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?\Z")
_NON_FINITE = re.compile(r"[-+]?\.?(?:inf|infinity|nan)\Z", re.IGNORECASE)
_NULL = ("", "~", "null", "Null", "NULL")
_TRUE = ("true", "True", "TRUE")
_FALSE = ("false", "False", "FALSE")


class SpecError(InputError):
    """Every problem validation found: the first is the message, the rest print below it."""

    def __init__(self, problems: list[str], *, hint: str | None = None) -> None:
        total = len(problems)
        if hint is None and total > 1:
            more = f"{total}+" if total >= MAX_PROBLEMS else str(total)
            hint = f"{more} problems in this spec; fix them top to bottom"
        super().__init__(problems[0], hint=hint)
        self.problems = problems
        self.more = tuple(problems[1:])  # render.console prints each on its own line


# --------------------------------------------------------------------------- reading


def read_spec_text(path: str, max_bytes: int = Limits.max_bytes) -> str:
    """The file's text, with a clear error for every way a path can fail to be a spec."""
    if not path:
        raise InputError("no spec file given", hint="backprop net examples/seed004.yaml")
    if os.path.isdir(path):
        raise InputError(f"{path} is a directory, not a spec file",
                         hint="name a .yaml file, e.g. examples/seed004.yaml")
    try:
        with open(path, "rb") as handle:
            data = handle.read(max_bytes + 1)
    except FileNotFoundError:
        raise InputError(f"spec file not found: {path}",
                         hint="check the path; examples live in examples/") from None
    except PermissionError:
        raise InputError(f"cannot read {path}: permission denied") from None
    except OSError as error:
        raise InputError(f"cannot read {path}: {error.strerror or error}") from None
    if len(data) > max_bytes:
        raise LimitError(f"{path} is over {max_bytes:,} bytes",
                         hint="generate large weights with units/init instead of writing "
                              "them out, or raise --max-bytes")
    nul = data.find(b"\x00")
    if nul >= 0:
        raise InputError(f"{path}: this is a binary file, not a YAML spec "
                         f"(a NUL byte at offset {nul})")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[:error.start].count(b"\n") + 1
        raise InputError(f"{path}:{line}: the file is not UTF-8 text "
                         f"(byte 0x{data[error.start]:02x} at offset {error.start})",
                         hint="save the spec as UTF-8") from None
    if not text.strip():
        raise InputError(f"{path}: the file is empty",
                         hint="a spec needs version, inputs, targets, loss and layers; "
                              "see docs/spec.md")
    return text


# --------------------------------------------------------------------------- YAML events


class YNode:
    """A YAML node with its 1-based line: a mapping, a sequence or a scalar (still text)."""

    __slots__ = ("kind", "line", "value", "plain", "key_lines")

    def __init__(self, kind: str, line: int, value: Any, plain: bool = True) -> None:
        self.kind = kind  # "map", "seq" or "scalar"
        self.line = line
        self.value = value  # dict[str, YNode], list[YNode] or str
        self.plain = plain  # a scalar written without quotes (so it may be a number)
        self.key_lines: dict[str, int] | None = {} if kind == "map" else None


def parse_yaml(text: str, source: str, loader=None) -> YNode:
    """One YAML document as YNodes, built in a loop from PyYAML's events."""
    import yaml

    loader = loader or yaml_loader(yaml)
    root: YNode | None = None
    stack: list[list] = []  # frames: [node, pending key, line of the pending key]
    documents = 0

    def fail(line: int, message: str, hint: str | None = None) -> InputError:
        return InputError(f"{source}:{line}: {message}", hint=hint)

    def too_deep(line: int) -> InputError:
        return fail(line, f"nesting deeper than {MAX_NESTING} levels",
                    hint="a spec is at most a few levels deep")

    def attach(node: YNode) -> None:
        nonlocal root
        if not stack:
            root = node
            return
        frame = stack[-1]
        parent = frame[0]
        if parent.kind == "seq":
            parent.value.append(node)
        elif frame[1] is None:
            if node.kind != "scalar":
                raise fail(node.line, "a mapping key must be plain text, not a list or mapping")
            if node.value in parent.key_lines:
                first = parent.key_lines[node.value]
                raise fail(node.line, f"duplicate key {node.value!r} (first given on line "
                                      f"{first})", hint="each field may appear once")
            parent.key_lines[node.value] = node.line
            frame[1], frame[2] = node.value, node.line
        else:
            parent.value[frame[1]] = node
            frame[1] = None

    try:
        for event in yaml.parse(text, Loader=loader):
            line = event.start_mark.line + 1 if event.start_mark is not None else 0
            kind = type(event).__name__
            if kind == "DocumentStartEvent":
                documents += 1
                if documents > 1:
                    raise fail(line, "a second YAML document starts here; a spec is one "
                                     "document", hint="remove the '---' line or split the file")
            elif kind == "AliasEvent":
                raise fail(line, f"aliases (*{event.anchor}) are not allowed in a spec",
                           hint="write the value out")
            elif kind in ("ScalarEvent", "SequenceStartEvent", "MappingStartEvent"):
                if event.anchor is not None:
                    raise fail(line, f"anchors (&{event.anchor}) are not allowed in a spec",
                               hint="write the value out")
                if event.tag is not None:
                    raise fail(line, f"tags ({event.tag}) are not allowed in a spec",
                               hint="write plain numbers, names, lists and mappings")
                if kind == "ScalarEvent":
                    attach(YNode("scalar", line, event.value, event.style in (None, "")))
                    continue
                node = YNode("seq" if kind == "SequenceStartEvent" else "map", line,
                             [] if kind == "SequenceStartEvent" else {})
                attach(node)
                stack.append([node, None, 0])
                if len(stack) > MAX_NESTING:
                    raise too_deep(line)
            elif kind in ("SequenceEndEvent", "MappingEndEvent"):
                stack.pop()
    except yaml.YAMLError as error:
        # libyaml refuses deep flow nesting on its own (at 1,000 levels, while it scans
        # ahead), before the events reach the guard: then the reference parser, which
        # streams, meets the guard at the same event and line as without libyaml.
        if loader is not yaml.SafeLoader and _flow_nesting_reaches(text, MAX_NESTING):
            return parse_yaml(text, source, yaml.SafeLoader)
        raise _yaml_error(error, source) from None
    if root is None:
        raise InputError(f"{source}: the file holds no YAML document (only comments?)",
                         hint="a spec needs version, inputs, targets, loss and layers; "
                              "see docs/spec.md")
    return root


def yaml_loader(yaml):
    """libyaml's safe parser where PyYAML was built with it, else (or when asked) Python's."""
    if os.environ.get(YAML_LOADER_ENV, "").strip().lower() == "python":
        return yaml.SafeLoader
    return getattr(yaml, "CSafeLoader", None) or yaml.SafeLoader


_FLOW = re.compile(r"""[\[\]{}\n#'"]""")


def _flow_nesting_reaches(text: str, levels: int) -> bool:
    """Whether flow brackets, outside quotes and comments, nest ``levels`` deep."""
    depth, quote, comment = 0, "", False
    for match in _FLOW.finditer(text):
        char, at = match.group(), match.start()
        if char == "\n":
            comment = False
        elif comment:
            continue
        elif quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char if at == 0 or text[at - 1] in " \t[{,:\n" else ""
        elif char == "#":
            comment = at == 0 or text[at - 1] in " \t\n"
        elif char in "[{":
            depth += 1
            if depth >= levels:
                return True
        else:
            depth = max(depth - 1, 0)
    return False


def _yaml_error(error, source: str) -> InputError:
    mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
    problem = getattr(error, "problem", None)
    if problem is None:  # ReaderError: a character YAML does not allow
        reason = getattr(error, "reason", None) or str(error).splitlines()[0]
        position = getattr(error, "position", None)
        where = f" (offset {position})" if position is not None else ""
        return InputError(f"{source}: not a YAML text: {reason}{where}",
                          hint="is this a binary file?")
    context = getattr(error, "context", None)
    text = f"{problem} ({context})" if context else problem
    line = f":{mark.line + 1}" if mark is not None else ""
    return InputError(f"{source}{line}: YAML syntax: {text}",
                      hint="see docs/spec.md for a complete example")


# --------------------------------------------------------------------------- the spec


@dataclass(frozen=True)
class Random:
    """Numbers drawn from numpy's Generator: uniform in [low, high) or one-hot rows."""

    shape: tuple[int, int]
    seed: int
    low: float = 0.0
    high: float = 1.0
    one_hot: bool = False


@dataclass(frozen=True)
class Init:
    scheme: str
    seed: int = 0
    low: float = -0.5
    high: float = 0.5


@dataclass
class Layer:
    index: int  # 0-based position in ``layers``
    name: str
    line: int
    activation: str
    units: int
    inputs: int
    weights: list[list[str | float]] | None  # written out: a row per unit
    bias: list[str | float] | None  # written out
    has_bias: bool
    init: Init | None  # generated weights (and zero biases unless written out)

    @property
    def parameters(self) -> int:
        return self.units * self.inputs + (self.units if self.has_bias else 0)


@dataclass
class Spec:
    source: str
    name: str | None
    inputs: list[list[float]] | Random
    targets: list[list[float]] | Random | list[int]  # rows, random, or class indices
    batch: int
    features: int
    loss: str
    params: dict[str, float]
    param_lines: dict[str, int]
    layers: list[Layer]
    warnings: list[str] = field(default_factory=list)

    @property
    def outputs(self) -> int:
        return self.layers[-1].units

    @property
    def parameters(self) -> int:
        """Weight and bias entries (a tied parameter counts once per place it is used)."""
        return sum(layer.parameters for layer in self.layers)

    @property
    def values(self) -> int:
        """Numbers the network holds: entries, inputs, targets, z and a of every unit."""
        units = sum(layer.units for layer in self.layers)
        return (self.parameters + self.batch * self.features + self.batch * self.outputs
                + 2 * self.batch * units)

    def shape_text(self) -> str:
        return "-".join(str(n) for n in [self.features] + [la.units for la in self.layers])


def _describe(node: YNode | None) -> str:
    if node is None:
        return "nothing"
    if node.kind == "map":
        return "a mapping"
    if node.kind == "seq":
        return "a list"
    if node.plain and node.value in _NULL:
        return "nothing (null)"
    text = node.value if len(node.value) <= 40 else node.value[:37] + "..."
    return f"the text {text!r}" if node.plain else f"the quoted text {text!r}"


def _shape(rows: int, columns: int) -> str:
    return f"{rows}×{columns}"


class _Validator:
    """Walks the YNode tree once, collecting every problem with its line and field path."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.problems: list[tuple[int, str]] = []

    def error(self, where: YNode | int, path: str, message: str) -> None:
        line = where if isinstance(where, int) else where.line
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append((line, f"{self.source}:{line}: {path}: {message}"))

    @property
    def full(self) -> bool:
        return len(self.problems) >= MAX_PROBLEMS

    # -- scalars -------------------------------------------------------------------------

    def _non_finite(self, node: YNode, path: str) -> None:
        self.error(node, path, f"{node.value} is not a finite number; a spec's numbers must "
                               "be finite (nan and inf are refused)")

    def number(self, node: YNode | None, path: str, line: int = 0) -> float | None:
        if node is None:
            self.error(line, path, "a number is missing")
            return None
        if node.kind == "scalar" and node.plain:
            text = node.value
            if _FLOAT.match(text):
                value = float(text)
                if math.isinf(value):
                    self.error(node, path, f"{text} is out of range for a double")
                    return None
                return value
            if _NON_FINITE.match(text):
                self._non_finite(node, path)
                return None
        if node.kind == "scalar" and not node.plain and _FLOAT.match(node.value.strip()):
            self.error(node, path, f"expected a number, got the quoted text {node.value!r}: "
                                   f"quoted text is never a number (write {node.value.strip()} "
                                   "without quotes)")
            return None
        self.error(node, path, f"expected a number, got {_describe(node)}")
        return None

    def integer(self, node: YNode | None, path: str, line: int = 0, minimum: int = 0,
                what: str = "a whole number") -> int | None:
        value = self.number(node, path, line)
        if value is None:
            return None
        if _INT.match(node.value):
            value = int(node.value)
        elif value.is_integer() and abs(value) < 2**53:
            value = int(value)
        else:
            self.error(node, path, f"expected {what}, got {node.value}")
            return None
        if value < minimum:
            self.error(node, path, f"expected {what} of at least {minimum}, got {value}")
            return None
        return value

    def boolean(self, node: YNode, path: str) -> bool | None:
        if node.kind == "scalar" and node.plain and node.value in _TRUE + _FALSE:
            return node.value in _TRUE
        self.error(node, path, f"expected true or false, got {_describe(node)}")
        return None

    def text(self, node: YNode, path: str) -> str | None:
        if node.kind == "scalar" and not (node.plain and node.value in _NULL):
            return node.value
        self.error(node, path, f"expected text, got {_describe(node)}")
        return None

    def choice(self, node: YNode | None, path: str, choices: tuple[str, ...], what: str,
               line: int = 0) -> str | None:
        if node is None:
            self.error(line, path, f"missing; choose one of: {', '.join(choices)}")
            return None
        if node.kind == "scalar" and node.value in choices:
            return node.value
        if node.kind == "scalar":
            close = difflib.get_close_matches(node.value, choices, n=1)
            guess = f" (did you mean {close[0]}?)" if close else ""
            self.error(node, path, f"unknown {what} {node.value!r}{guess}; choose one of: "
                                   f"{', '.join(choices)}")
        else:
            self.error(node, path, f"expected one of {', '.join(choices)}, got "
                                   f"{_describe(node)}")
        return None

    # -- containers ----------------------------------------------------------------------

    def mapping(self, node: YNode, path: str, allowed: tuple[str, ...],
                required: tuple[str, ...] = ()) -> dict[str, YNode] | None:
        if node.kind != "map":
            self.error(node, path, f"expected a mapping ({', '.join(allowed)}), got "
                                   f"{_describe(node)}")
            return None
        for key in node.value:
            if key not in allowed:
                close = difflib.get_close_matches(key, allowed, n=1)
                guess = f" (did you mean {close[0]}?)" if close else ""
                self.error(node.key_lines[key], _join(path, key),
                           f"unknown field{guess}; valid fields: {', '.join(allowed)}")
        for key in required:
            if key not in node.value:
                self.error(node, _join(path, key), "missing")
        return node.value

    def sequence(self, node: YNode, path: str, what: str = "a list") -> list[YNode] | None:
        if node.kind != "seq":
            self.error(node, path, f"expected {what}, got {_describe(node)}")
            return None
        if not node.value:
            self.error(node, path, f"expected {what}, got an empty list")
            return None
        return node.value

    def matrix(self, node: YNode, path: str) -> list[list[float]] | None:
        """A number, a list of numbers (one row) or a list of equal rows."""
        if node.kind == "scalar":
            value = self.number(node, path)
            return None if value is None else [[value]]
        items = self.sequence(node, path, "a list of numbers or a list of rows")
        if items is None:
            return None
        if items[0].kind != "seq":
            row = [self.number(item, f"{path}[{i}]") for i, item in enumerate(items)]
            return None if None in row else [row]
        rows: list[list[float]] = []
        ok = True
        for r, item in enumerate(items):
            cells = self.sequence(item, f"{path}[{r}]", "a row (a list of numbers)")
            if cells is None:
                ok = False
                continue
            if len(cells) != len(items[0].value):
                self.error(item, f"{path}[{r}]", f"this row has {len(cells)} numbers, row 0 "
                                                 f"has {len(items[0].value)}")
                ok = False
                continue
            row = [self.number(cell, f"{path}[{r}][{c}]") for c, cell in enumerate(cells)]
            if None in row:
                ok = False
                if self.full:
                    break
            rows.append(row)
        return rows if ok else None


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def validate(root: YNode, source: str) -> Spec:
    """Turn the YNode tree into a Spec, or raise one SpecError listing every problem."""
    v = _Validator(source)
    if root.kind != "map":
        raise SpecError([f"{source}:{root.line}: the spec must be a mapping of fields "
                         f"({', '.join(TOP_FIELDS)}), got {_describe(root)}"],
                        hint="see docs/spec.md for a complete example")
    top = v.mapping(root, "", TOP_FIELDS, ("version", "inputs", "targets", "loss", "layers"))

    if "version" in top:
        version = v.integer(top["version"], "version")
        if version is not None and version != SPEC_VERSION:
            v.error(top["version"], "version", f"this backprop reads version {SPEC_VERSION}, "
                                               f"the spec says {version}")
    name = v.text(top["name"], "name") if "name" in top else None
    if "description" in top:
        v.text(top["description"], "description")

    params, param_lines = _params(v, top.get("params"))
    inputs, batch, features = _inputs(v, top.get("inputs"))
    layers = _layers(v, top.get("layers"), features, params)
    loss = v.choice(top.get("loss"), "loss", LOSSES, "loss", root.line) \
        if "loss" in top else None
    outputs = layers[-1].units if layers and all(la is not None for la in layers) else None
    if loss == "cross_entropy" and layers and layers[-1] is not None \
            and layers[-1].activation != "softmax":
        v.error(top["loss"], "loss", f"cross_entropy needs a softmax output layer, but "
                                     f"{layers[-1].name} uses {layers[-1].activation} "
                                     "(set its activation: softmax)")
    targets = _targets(v, top.get("targets"), batch, outputs, loss) if "targets" in top \
        else None

    if v.problems:
        v.problems.sort(key=lambda p: p[0])
        raise SpecError([text for _, text in v.problems])
    used = {entry for layer in layers for row in (layer.weights or []) for entry in row
            if isinstance(entry, str)} | {entry for layer in layers
                                          for entry in (layer.bias or []) if isinstance(entry, str)}
    warnings = [f"{source}:{param_lines[p]}: params.{p}: defined but used by no layer (its "
                f"gradient is 0)" for p in params if p not in used]
    return Spec(source, name, inputs, targets, batch, features, loss, params, param_lines,
                layers, warnings)


def _params(v: _Validator, node: YNode | None) -> tuple[dict[str, float], dict[str, int]]:
    params: dict[str, float] = {}
    lines: dict[str, int] = {}
    if node is None:
        return params, lines
    if node.kind == "scalar" and node.plain and node.value in _NULL:
        return params, lines
    if node.kind != "map":
        v.error(node, "params", f"expected a mapping of names to numbers (w1: 0.15), got "
                                f"{_describe(node)}")
        return params, lines
    for key, value in node.value.items():
        line = node.key_lines[key]
        if not _NAME.match(key):
            v.error(line, f"params.{key}", "a parameter name is letters, digits and _, "
                                           "starting with a letter or _")
            continue
        number = v.number(value, f"params.{key}")
        lines[key] = line
        params[key] = number if number is not None else 0.0
    return params, lines


def _random(v: _Validator, node: YNode, path: str, allow_one_hot: bool) -> Random | None:
    fields = RANDOM_FIELDS if allow_one_hot else RANDOM_FIELDS[:-1]
    spec = v.mapping(node, path, fields, ("shape",))
    if spec is None:
        return None
    shape = None
    if "shape" in spec:
        items = v.sequence(spec["shape"], f"{path}.shape", "[rows, columns]")
        if items is not None:
            if len(items) != 2:
                v.error(spec["shape"], f"{path}.shape", f"expected [rows, columns], got "
                                                        f"{len(items)} numbers")
            else:
                dims = [v.integer(item, f"{path}.shape[{i}]", minimum=1)
                        for i, item in enumerate(items)]
                shape = None if None in dims else tuple(dims)
    seed = v.integer(spec["seed"], f"{path}.seed") if "seed" in spec else 0
    low = v.number(spec["low"], f"{path}.low") if "low" in spec else 0.0
    high = v.number(spec["high"], f"{path}.high") if "high" in spec else 1.0
    one_hot = v.boolean(spec["one_hot"], f"{path}.one_hot") if "one_hot" in spec else False
    if low is not None and high is not None and not low < high:
        v.error(node, path, f"low ({low:g}) must be below high ({high:g})")
        return None
    if None in (shape, seed, low, high, one_hot):
        return None
    return Random(shape, seed, low, high, one_hot)


def _inputs(v: _Validator, node: YNode | None):
    """(rows or Random, batch, features); batch and features are None when unknown."""
    if node is None:
        return None, None, None
    if node.kind == "map":
        spec = v.mapping(node, "inputs", ("random",), ("random",))
        if spec is None or "random" not in spec:
            return None, None, None
        random = _random(v, spec["random"], "inputs.random", allow_one_hot=False)
        return (random, *random.shape) if random else (None, None, None)
    rows = v.matrix(node, "inputs")
    if rows is None:
        return None, None, None
    return rows, len(rows), len(rows[0])


def _entry(v: _Validator, node: YNode, path: str, params: dict[str, float]) -> str | float | None:
    """A weight or bias: a number, or the name of a parameter from ``params``."""
    if node.kind == "scalar" and node.plain and (_FLOAT.match(node.value)
                                                 or _NON_FINITE.match(node.value)):
        return v.number(node, path)
    if node.kind != "scalar" or (node.plain and node.value in _NULL):
        v.error(node, path, f"expected a number or a parameter name, got {_describe(node)}")
        return None
    name = node.value
    if name in params:
        return name
    if not node.plain and _FLOAT.match(name.strip()):
        return v.number(node, path)  # '0.5' in quotes: say so
    if not params:
        v.error(node, path, f"{name!r} is not a number, and no parameter of that name is "
                            "defined (the spec has no params: section)")
        return None
    close = difflib.get_close_matches(name, list(params), n=1)
    guess = f"did you mean {close[0]}? " if close else ""
    known = ", ".join(list(params)[:12]) + (" ..." if len(params) > 12 else "")
    v.error(node, path, f"undefined parameter {name!r}; {guess}params defines: {known}")
    return None


def _layers(v: _Validator, node: YNode | None, features: int | None,
            params: dict[str, float]) -> list[Layer | None]:
    if node is None:
        return []
    items = v.sequence(node, "layers", "a list of layers")
    if items is None:
        return []
    layers: list[Layer | None] = []
    names: dict[str, int] = {}
    inputs = features  # the width of the previous layer (None when unknown)
    source_name = "inputs"
    for index, item in enumerate(items):
        path = f"layers[{index}]"
        layer = _layer(v, item, path, index, inputs, source_name, params)
        if layer is not None:
            if layer.name in names:
                v.error(item, f"{path}.name", f"{layer.name!r} is already the name of "
                                              f"layers[{names[layer.name]}]")
            names.setdefault(layer.name, index)
            inputs, source_name = layer.units, layer.name
        else:
            inputs = None
        layers.append(layer)
        if v.full:
            break
    return layers


def _layer(v: _Validator, node: YNode, path: str, index: int, inputs: int | None,
           source_name: str, params: dict[str, float]) -> Layer | None:
    spec = v.mapping(node, path, LAYER_FIELDS, ("activation",))
    if spec is None:
        return None
    name = f"layer{index + 1}"
    if "name" in spec:
        given = v.text(spec["name"], f"{path}.name")
        if given is not None and not _NAME.match(given):
            v.error(spec["name"], f"{path}.name", "a layer name is letters, digits and _, "
                                                  "starting with a letter or _")
        elif given is not None:
            name = given
    label = f"{path} ({name})"
    activation = v.choice(spec.get("activation"), f"{path}.activation", ACTIVATIONS,
                          "activation", node.line) if "activation" in spec else None
    units = v.integer(spec["units"], f"{path}.units", minimum=1, what="a number of units") \
        if "units" in spec else None
    ok = activation is not None and ("units" not in spec or units is not None)

    weights = None
    init = None
    if "weights" in spec:
        if "init" in spec:
            v.error(spec["init"], f"{path}.init", "init generates weights, but this layer "
                                                  "writes them out: keep one of weights, init")
            ok = False
        weights = _weights(v, spec["weights"], f"{path}.weights", params)
        if weights is None:
            ok = False
        else:
            rows, columns = len(weights), len(weights[0])
            if units is not None and units != rows:
                v.error(spec["weights"], f"{path}.weights", f"{label} has units: {units}, but "
                                                            f"its weights have {rows} rows "
                                                            "(one row per unit)")
                ok = False
            if inputs is not None and columns != inputs:
                v.error(spec["weights"], f"{path}.weights",
                        f"shape mismatch in {label}: weights are {_shape(rows, columns)} "
                        f"(units × inputs), but the layer gets {inputs} inputs from "
                        f"{source_name}: expected {_shape(rows, inputs)}")
                ok = False
            units = rows
    elif units is None:
        if "units" not in spec:
            v.error(node, path, f"{label} needs either weights (written out) or units "
                                "(generated by init)")
        ok = False
    else:
        init = _init(v, spec.get("init"), f"{path}.init")
        ok = ok and init is not None

    has_bias = "weights" not in spec  # generated layers get zero biases by default
    bias = None
    if "bias" in spec:
        bias_node = spec["bias"]
        if bias_node.kind == "scalar" and bias_node.plain and bias_node.value in _TRUE + _FALSE:
            has_bias = bias_node.value in _TRUE
            if has_bias and "weights" in spec:
                v.error(bias_node, f"{path}.bias", "write the biases out (a list with one per "
                                                   "unit) when the weights are written out")
                ok = False
        elif bias_node.kind != "seq":
            v.error(bias_node, f"{path}.bias", f"expected a list (one bias per unit) or false, "
                                               f"got {_describe(bias_node)}")
            ok = False
        else:
            bias = [_entry(v, item, f"{path}.bias[{j}]", params)
                    for j, item in enumerate(bias_node.value)]
            has_bias = True
            if None in bias:
                ok = False
            elif units is not None and len(bias) != units:
                v.error(bias_node, f"{path}.bias", f"shape mismatch in {label}: {len(bias)} "
                                                   f"biases for {units} units")
                ok = False
    if not ok or inputs is None:
        return None
    return Layer(index, name, node.line, activation, units, inputs, weights, bias, has_bias,
                 init)


def _weights(v: _Validator, node: YNode, path: str, params) -> list[list] | None:
    rows = v.sequence(node, path, "a list of rows (one per unit), e.g. [[w1, w2], [w3, w4]]")
    if rows is None:
        return None
    if rows[0].kind != "seq":
        v.error(node, path, "expected a list of rows, one per unit: write [[w1, w2]] for a "
                            "single unit")
        return None
    matrix, ok = [], True
    width = len(rows[0].value)
    for j, row in enumerate(rows):
        cells = v.sequence(row, f"{path}[{j}]", "a row of weights")
        if cells is None:
            ok = False
            continue
        if len(cells) != width:
            v.error(row, f"{path}[{j}]", f"shape mismatch: this row has {len(cells)} weights, "
                                         f"row 0 has {width}")
            ok = False
            continue
        entries = [_entry(v, cell, f"{path}[{j}][{i}]", params) for i, cell in enumerate(cells)]
        if None in entries:
            ok = False
            if v.full:
                break
        matrix.append(entries)
    return matrix if ok else None


def _init(v: _Validator, node: YNode | None, path: str) -> Init | None:
    if node is None:
        return Init("xavier", 0)
    if node.kind == "scalar":  # init: he
        scheme = v.choice(node, path, INIT_SCHEMES, "init scheme")
        return Init(scheme) if scheme else None
    spec = v.mapping(node, path, INIT_FIELDS, ("scheme",))
    if spec is None:
        return None
    scheme = v.choice(spec["scheme"], f"{path}.scheme", INIT_SCHEMES, "init scheme") \
        if "scheme" in spec else None
    seed = v.integer(spec["seed"], f"{path}.seed") if "seed" in spec else 0
    low = v.number(spec["low"], f"{path}.low") if "low" in spec else -0.5
    high = v.number(spec["high"], f"{path}.high") if "high" in spec else 0.5
    if scheme != "uniform":
        for key in ("low", "high"):
            if key in spec:
                v.error(spec[key], f"{path}.{key}", "only the uniform scheme takes low and high")
    if low is not None and high is not None and not low < high:
        v.error(node, path, f"low ({low:g}) must be below high ({high:g})")
        return None
    if None in (scheme, seed, low, high):
        return None
    return Init(scheme, seed, low, high)


def _targets(v: _Validator, node: YNode, batch: int | None, outputs: int | None,
             loss: str | None):
    expected = f" (expected {_shape(batch, outputs)}: {batch} example(s) × {outputs} " \
               "output(s))" if batch is not None and outputs is not None else ""
    probabilities = loss == "cross_entropy"
    if node.kind == "map":
        spec = v.mapping(node, "targets", ("random", "classes"))
        if spec is None:
            return None
        if sum(key in spec for key in ("random", "classes")) != 1:
            v.error(node, "targets", "give exactly one of random, classes")
            return None
        if "classes" in spec:
            items = v.sequence(spec["classes"], "targets.classes", "a list of class indices")
            if items is None:
                return None
            classes = [v.integer(item, f"targets.classes[{i}]") for i, item in enumerate(items)]
            if None in classes:
                return None
            if batch is not None and len(classes) != batch:
                v.error(spec["classes"], "targets.classes", f"{len(classes)} classes for "
                                                            f"{batch} examples")
                return None
            if outputs is not None:
                for i, c in enumerate(classes):
                    if c >= outputs:
                        v.error(items[i], f"targets.classes[{i}]", f"class {c} does not "
                                f"exist: the output layer has {outputs} units (0..{outputs - 1})")
                        return None
            return classes
        random = _random(v, spec["random"], "targets.random", allow_one_hot=True)
        if random is None:
            return None
        if batch is not None and outputs is not None and random.shape != (batch, outputs):
            v.error(spec["random"], "targets.random.shape",
                    f"shape mismatch: targets are {_shape(*random.shape)}{expected}")
            return None
        if probabilities and not random.one_hot:
            v.error(spec["random"], "targets.random", "cross_entropy needs probabilities: "
                                                      "add one_hot: true")
            return None
        return random
    rows = v.matrix(node, "targets")
    if rows is None:
        return None
    if batch is not None and outputs == 1 and len(rows) == 1 and len(rows[0]) == batch > 1:
        rows = [[t] for t in rows[0]]  # a flat list of one target per example
    if batch is not None and outputs is not None and (len(rows), len(rows[0])) != (batch, outputs):
        v.error(node, "targets", f"shape mismatch: targets are {_shape(len(rows), len(rows[0]))}"
                                 f"{expected}")
        return None
    if probabilities:
        for r, row in enumerate(rows):
            if min(row) < 0 or abs(sum(row) - 1.0) > 1e-6:
                v.error(node, f"targets[{r}]", "cross_entropy targets are probabilities: each "
                                               "row must be >= 0 and sum to 1 (or use classes)")
                return None
    return rows


# --------------------------------------------------------------------------- loading


def _bytes(count: int) -> str:
    size = count * 8
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if size >= scale:
            return f"{size / scale:,.1f} {unit}"
    return f"{size} bytes"


def check_size(spec: Spec, max_values: int, max_units: int = Limits.max_units) -> None:
    """Refuse an oversized network with the size it would need, before allocating anything."""
    widest = max(spec.layers, key=lambda layer: layer.units)
    if widest.units > max_units:
        raise LimitError(
            f"{spec.source}:{widest.line}: layers[{widest.index}] ({widest.name}) has "
            f"{widest.units:,} units, over --max-units {max_units:,}: the network would need "
            f"{spec.parameters:,} parameters and {spec.values:,} numbers in all "
            f"({_bytes(spec.values)} as float64)",
            hint="make the layer smaller, or raise --max-units")
    if spec.values <= max_values:
        return
    biggest = max(spec.layers, key=lambda layer: layer.parameters)
    raise LimitError(
        f"{spec.source}:{biggest.line}: layers[{biggest.index}] ({biggest.name}): "
        f"{biggest.units:,} units × {biggest.inputs:,} inputs need {biggest.parameters:,} "
        f"parameters; the network would hold {spec.values:,} numbers "
        f"({_bytes(spec.values)} as float64), over --max-values {max_values:,}",
        hint="make the network or the batch smaller, or raise --max-values")


def load_spec(path: str, *, max_bytes: int = Limits.max_bytes,
              max_values: int = Limits.max_values, max_units: int = Limits.max_units) -> Spec:
    """Read, parse and validate a spec file (nothing is generated or allocated yet)."""
    spec = validate(parse_yaml(read_spec_text(path, max_bytes), path), path)
    check_size(spec, max_values, max_units)
    return spec


# --------------------------------------------------------------------------- numbers


@dataclass
class Resolved:
    """A spec with every number in place: weights, biases, inputs and targets.

    ``W[l]`` is units × inputs (a row per unit), ``b[l]`` has one entry per unit (or is
    None). ``W_refs[l][(j, i)]`` / ``b_refs[l][j]`` name the entries bound to a named
    parameter. Values are nested lists, or numpy arrays with ``arrays=True``.
    """

    spec: Spec
    X: Any
    T: Any
    W: list[Any]
    b: list[Any | None]
    W_refs: list[dict[tuple[int, int], str]]
    b_refs: list[dict[int, str]]

    def entry_name(self, l: int, kind: str, index: tuple[int, ...]) -> str:
        """The name of a weight or bias entry: its parameter's, else ``layer1.W[j][i]``."""
        refs = self.W_refs[l] if kind == "W" else self.b_refs[l]
        key = index if kind == "W" else index[0]
        name = refs.get(key)
        if name is not None:
            return name
        return f"{self.spec.layers[l].name}.{kind}" + "".join(f"[{k}]" for k in index)


def _needs_numpy(spec: Spec) -> bool:
    return (isinstance(spec.inputs, Random) or isinstance(spec.targets, Random)
            or any(layer.init is not None for layer in spec.layers))


def _generate_random(random: Random):
    import numpy as np

    rng = np.random.default_rng(random.seed)
    rows, columns = random.shape
    if random.one_hot:
        out = np.zeros(random.shape)
        out[np.arange(rows), rng.integers(0, columns, size=rows)] = 1.0
        return out
    return rng.uniform(random.low, random.high, size=random.shape)


def generate_weights(layer: Layer):
    """A layer's initial weights (units × inputs) from numpy's Generator, seeded per layer."""
    import numpy as np

    init = layer.init
    shape = (layer.units, layer.inputs)
    rng = np.random.default_rng([init.seed, layer.index])
    if init.scheme == "zeros":
        return np.zeros(shape)
    if init.scheme == "uniform":
        return rng.uniform(init.low, init.high, size=shape)
    if init.scheme == "he":
        return rng.normal(0.0, math.sqrt(2.0 / layer.inputs), size=shape)
    limit = math.sqrt(6.0 / (layer.inputs + layer.units))  # xavier (Glorot) uniform
    return rng.uniform(-limit, limit, size=shape)


def resolve(spec: Spec, *, arrays: bool = False) -> Resolved:
    """Put every number in place (generating the random and initialized ones)."""
    use_numpy = arrays or _needs_numpy(spec)
    if use_numpy:
        import numpy as np

    def matrix(rows_or_random):
        if isinstance(rows_or_random, Random):
            out = _generate_random(rows_or_random)
        else:
            out = np.array(rows_or_random, dtype=float) if use_numpy else rows_or_random
        return out if arrays or not use_numpy else out.tolist()

    X = matrix(spec.inputs)
    if isinstance(spec.targets, list) and spec.targets and isinstance(spec.targets[0], int):
        rows = [[1.0 if k == c else 0.0 for k in range(spec.outputs)] for c in spec.targets]
        T = np.array(rows) if arrays else rows
    else:
        T = matrix(spec.targets)
    W, b, W_refs, b_refs = [], [], [], []
    for layer in spec.layers:
        refs: dict[tuple[int, int], str] = {}
        if layer.weights is not None:
            values = []
            for j, row in enumerate(layer.weights):
                out_row = []
                for i, entry in enumerate(row):
                    if isinstance(entry, str):
                        refs[(j, i)] = entry
                        out_row.append(spec.params[entry])
                    else:
                        out_row.append(entry)
                values.append(out_row)
            weights = np.array(values, dtype=float) if arrays else values
        else:
            weights = generate_weights(layer)
            weights = weights if arrays else weights.tolist()
        brefs: dict[int, str] = {}
        if not layer.has_bias:
            bias = None
        elif layer.bias is None:
            bias = np.zeros(layer.units) if arrays else [0.0] * layer.units
        else:
            values = []
            for j, entry in enumerate(layer.bias):
                if isinstance(entry, str):
                    brefs[j] = entry
                    values.append(spec.params[entry])
                else:
                    values.append(entry)
            bias = np.array(values, dtype=float) if arrays else values
        W.append(weights)
        b.append(bias)
        W_refs.append(refs)
        b_refs.append(brefs)
    return Resolved(spec, X, T, W, b, W_refs, b_refs)


# --------------------------------------------------------------------------- scalar graph


def scalar_size(spec: Spec) -> int:
    """An upper bound on the scalar graph's nodes (before identical nodes are merged)."""
    B, K = spec.batch, spec.outputs
    nodes = spec.parameters + len(spec.params) + B * (spec.features + K) + 4
    for layer in spec.layers:
        n, m = layer.inputs, layer.units
        per_unit = 2 * n - 1 + layer.has_bias + (layer.activation != "linear")
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


def load_spec_graph(path: str, *, max_nodes: int, max_depth: int | None = None,
                    max_bytes: int = Limits.max_bytes, max_values: int = Limits.max_values,
                    max_units: int = Limits.max_units) -> Graph:
    """A spec file as a scalar Graph whose inputs are the parameters (with defaults)."""
    spec = load_spec(path, max_bytes=max_bytes, max_values=max_values, max_units=max_units)
    size = scalar_size(spec)
    if size > max_nodes:
        raise LimitError(f"{path}: the {spec.shape_text()} network's scalar graph would have "
                         f"about {size:,} nodes, over --max-nodes {max_nodes:,}",
                         hint=f"use 'backprop net {path}' (array engine), or raise --max-nodes")
    return build_scalar_graph(resolve(spec), max_depth)
