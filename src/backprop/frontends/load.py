"""Frontends behind one door: expression text or a network spec file, in, a Graph out.

Commands call ``load_graph`` so that every command (grad, paths, compare, graph, net)
accepts both kinds of input the same way.
"""

from __future__ import annotations

from backprop.errors import InputError
from backprop.engine.graph import Graph

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
