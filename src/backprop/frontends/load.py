"""Frontends behind one door: expression text or a network spec file, in, a Graph out.

Commands call ``read_graph`` (EXPR arguments, -e/--expr ones and ``-`` for standard input)
and ``load_graph`` so that every command accepts both kinds of input the same way.

Standard input (``-``) holds a network spec when its first line that is not blank or a
``#`` comment is a YAML key (``version: 1``, ``name: ...``): ``:`` is not part of the
expression language, so no expression reads as a spec, and no spec as an expression.
"""

from __future__ import annotations

import re
import sys

from backprop.engine.graph import Graph
from backprop.errors import InputError, LimitError
from backprop.limits import Limits

SPEC_SUFFIXES = (".yaml", ".yml")
STDIN = "<stdin>"  # how messages name standard input
_YAML_KEY = re.compile(r"[A-Za-z_][\w.-]*[ \t]*:(\s|$)")


def is_spec_path(source: str) -> bool:
    """A source naming a .yaml/.yml file is a network spec; anything else is an expression."""
    return source.strip().lower().endswith(SPEC_SUFFIXES) and "\n" not in source


def looks_like_spec(text: str) -> bool:
    """Standard input's rule (the module's docstring): its first line that is not blank or
    a comment is a YAML key."""
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            return bool(_YAML_KEY.match(line.lstrip("\ufeff")))
    return False


def load_graph(sources: list[str], *, max_nodes: int, max_depth: int,
               stdin_spec: str | None = None) -> Graph:
    """Parse expressions (several make a Jacobian) or load one network spec (a file, or
    ``stdin_spec``: a spec's text read from standard input)."""
    if stdin_spec is not None:
        from backprop.frontends.spec import load_spec_graph

        return load_spec_graph(STDIN, max_nodes=max_nodes, max_depth=max_depth,
                               text=stdin_spec)
    if any(is_spec_path(s) for s in sources):
        if len(sources) != 1:
            raise InputError("give either one spec file or expressions, not both")
        try:
            from backprop.frontends.spec import load_spec_graph
        except ImportError:
            raise InputError("network specs are not supported by this build") from None
        return load_spec_graph(sources[0].strip(), max_nodes=max_nodes, max_depth=max_depth)
    from backprop.frontends.parse import parse

    return parse(*sources, max_nodes=max_nodes, max_depth=max_depth)


def read_stdin(max_bytes: int, what: str = "the expression") -> str:
    """Standard input as text, within --max-bytes."""
    data = sys.stdin.buffer.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise LimitError(f"{what} on stdin is over {max_bytes:,} bytes",
                         hint="raise the limit with --max-bytes")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise InputError(f"stdin is not UTF-8 text (byte {error.start})") from None


def read_expressions(exprs: list[str], extra: list[str], max_bytes: int) -> list[str]:
    """EXPR arguments plus -e/--expr ones; ``-`` reads standard input."""
    texts = []
    for text in list(exprs) + list(extra):
        if text == "-":
            text = read_stdin(max_bytes)
        elif len(text.encode("utf-8", "surrogateescape")) > max_bytes:
            raise LimitError(f"the expression is over {max_bytes:,} bytes",
                             hint="raise the limit with --max-bytes")
        texts.append(text)
    if not texts:
        raise InputError("no expression given", hint='try: backprop grad "sin(2*x+y)"')
    return texts


def read_graph(exprs: list[str] | None, extra: list[str] | None, limits: Limits):
    """The graph of EXPR arguments, -e/--expr ones and stdin, or of one spec (a file, or on
    stdin by the module's rule), within limits."""
    texts = read_expressions(exprs or [], extra or [], limits.max_bytes)
    piped = [t for a, t in zip([*(exprs or []), *(extra or [])], texts) if a == "-"]
    spec = piped[0] if piped and looks_like_spec(piped[0]) else None
    if spec is not None and len(texts) != 1:
        raise InputError("give either one spec or expressions, not both",
                         hint="standard input holds a spec (it starts with a YAML key)")
    return load_graph(texts, max_nodes=limits.max_nodes, max_depth=limits.max_depth,
                      stdin_spec=spec)
