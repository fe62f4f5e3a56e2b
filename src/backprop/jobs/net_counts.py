"""Exact counts for the array engine: the sizes of the scalar graph a network stands for.

The scalar engine counts by running the modes on that graph. The array engine never builds
it: each array op declares the cost of its scalar expansion (``arrays.ARRAY_OPS``, the
``cost`` rules), ``engine/array_costs.count`` composes them in one sweep, and Structure
turns the totals into each mode's Counts. Tests check both engines agree exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

from backprop.engine.counts import Counts
from backprop.frontends.spec import Spec


@dataclass(frozen=True)
class Structure:
    """Exact sizes of the scalar structure (unmerged), for the three modes' counts."""

    op_nodes: int
    edges: int  # edges from a node that depends on a parameter
    paths: int
    edge_visits: int  # sum of path lengths
    entries: int  # weight and bias entries
    distinct: int  # parameters with a gradient: unnamed entries + named params in use
    forward_edges: int  # sum over entries of the edges in the entry's forward cone
    forward_nodes: int  # sum over entries of the nodes in the cone
    longest: int  # edges on the longest parameter-to-L path

    def counts(self, mode: str, peak: int) -> Counts:
        gather = self.entries - self.distinct  # a tied parameter sums its entries
        if mode == "reverse":
            return Counts("reverse", 1, self.op_nodes, self.edges, self.edges,
                          self.edges - (self.op_nodes - 1 + self.distinct), None, peak)
        if mode == "paths":
            return Counts("paths", 0, self.op_nodes, self.edges, self.edge_visits - self.paths,
                          self.paths - self.distinct, self.paths, peak)
        return Counts("forward", self.entries, self.op_nodes, self.forward_edges,
                      self.forward_edges, self.forward_edges - self.forward_nodes + gather,
                      None, peak)


def structure(spec: Spec, nodes, leaves) -> Structure:
    """The counts of the scalar graph that the array graph (nodes, leaves) stands for, from
    each array op's cost rule (``arrays.ARRAY_OPS``, summed by ``engine/array_costs.py``)."""
    from backprop.engine.array_costs import count
    from backprop.engine.arrays import ARRAY_OPS

    tally = count(nodes, leaves, ARRAY_OPS, spec.batch)
    loss = tally.loss
    return Structure(tally.op_nodes, tally.edges, loss.paths, loss.visits, spec.parameters,
                     _distinct(spec), tally.forward_edges, tally.forward_nodes, loss.depth)


def _distinct(spec: Spec) -> int:
    """Parameters with a gradient: the unnamed entries, plus the named parameters in use."""
    return spec.parameters - sum(len(refs) for refs in _refs(spec)) + len(_used_names(spec))


def _refs(spec: Spec):
    for layer in spec.layers:
        yield [e for row in (layer.weights or []) for e in row if isinstance(e, str)] + \
            [e for e in (layer.bias or []) if isinstance(e, str)]


def _used_names(spec: Spec) -> set[str]:
    return {name for refs in _refs(spec) for name in refs}
