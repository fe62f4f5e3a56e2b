"""Frontends behind one door: expression text or a network spec file, in, a Graph out.

Commands call ``read_graph`` (EXPR arguments, -e/--expr ones and ``-`` for standard input)
and ``load_graph`` so that every command accepts both kinds of input the same way.
"""

from __future__ import annotations

import sys

from backprop.engine.graph import Graph
from backprop.errors import InputError, LimitError
from backprop.limits import Limits

SPEC_SUFFIXES = (".yaml", ".yml")


def is_spec_path(source: str) -> bool:
    """A source naming a .yaml/.yml file is a network spec; anything else is an expression."""
    return source.strip().lower().endswith(SPEC_SUFFIXES) and "\n" not in source


def load_graph(sources: list[str], *, max_nodes: int, max_depth: int) -> Graph:
    """Parse expressions (several make a Jacobian) or load one network spec."""
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


def read_expressions(exprs: list[str], extra: list[str], max_bytes: int) -> list[str]:
    """EXPR arguments plus -e/--expr ones; ``-`` reads standard input."""
    texts = []
    for text in list(exprs) + list(extra):
        if text == "-":
            data = sys.stdin.buffer.read(max_bytes + 1)
            if len(data) > max_bytes:
                raise LimitError(f"the expression on stdin is over {max_bytes:,} bytes",
                                 hint="raise the limit with --max-bytes")
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError as error:
                raise InputError(f"stdin is not UTF-8 text (byte {error.start})") from None
        elif len(text.encode("utf-8", "surrogateescape")) > max_bytes:
            raise LimitError(f"the expression is over {max_bytes:,} bytes",
                             hint="raise the limit with --max-bytes")
        texts.append(text)
    if not texts:
        raise InputError("no expression given", hint='try: backprop grad "sin(2*x+y)"')
    return texts


def read_graph(exprs: list[str] | None, extra: list[str] | None, limits: Limits):
    """The graph of EXPR arguments, -e/--expr ones and stdin, or of one spec, within limits."""
    return load_graph(read_expressions(exprs or [], extra or [], limits.max_bytes),
                      max_nodes=limits.max_nodes, max_depth=limits.max_depth)
