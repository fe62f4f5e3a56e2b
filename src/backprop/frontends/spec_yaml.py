"""A spec file's text and its YAML, read safely: plain nodes with line numbers.

Loading never calls ``yaml.load`` or ``safe_load``. PyYAML's *event* parser (a state
machine, not a recursive descent) feeds a loop that builds plain nodes with line numbers
on an explicit stack, and refuses what a spec never needs: anchors and aliases (so an
alias bomb stops at its first ``&``), tags, duplicate keys, a second document, and nesting
deeper than ``MAX_NESTING``, with the same message and line under libyaml's C parser and
PyYAML's pure-Python one (``BACKPROP_YAML_LOADER=python`` selects it; the tests run under
both). Scalars stay text (``YNode.value``) until validation reads a field.
"""

from __future__ import annotations

import os
import re
from typing import Any

from backprop.errors import InputError, LimitError
from backprop.limits import Limits

MAX_NESTING = 64
EMPTY_HINTS = {"spec": "a spec needs version, inputs, targets, loss and layers; see docs/spec.md",
               "claims": "a claims file lists claims: expr, at, gradient or derivative; see "
                         "docs/check.md"}
YAML_LOADER_ENV = "BACKPROP_YAML_LOADER"  # "python": PyYAML's pure-Python parser, not libyaml


def read_spec_text(path: str, max_bytes: int = Limits.max_bytes, kind: str = "spec") -> str:
    """The file's text, with a clear error for every way a path can fail to be a spec (or
    another ``kind`` of YAML file: a claims file for ``backprop check``)."""
    if not path:
        raise InputError(f"no {kind} file given", hint="backprop net examples/seed004.yaml")
    if os.path.isdir(path):
        raise InputError(f"{path} is a directory, not a {kind} file",
                         hint="name a .yaml file, e.g. examples/seed004.yaml")
    try:
        with open(path, "rb") as handle:
            data = handle.read(max_bytes + 1)
    except FileNotFoundError:
        raise InputError(f"{kind} file not found: {path}",
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
        raise InputError(f"{path}: this is a binary file, not a YAML {kind}{'' if kind == 'spec' else ' file'} "
                         f"(a NUL byte at offset {nul})")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[:error.start].count(b"\n") + 1
        raise InputError(f"{path}:{line}: the file is not UTF-8 text "
                         f"(byte 0x{data[error.start]:02x} at offset {error.start})",
                         hint=f"save the {kind} as UTF-8") from None
    if not text.strip():
        raise InputError(f"{path}: the file is empty", hint=EMPTY_HINTS[kind])
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
