"""Exact counts of the scalar graph an array graph stands for, from per-op cost rules.

The array engine never builds the scalar graph (784-128-10 would have millions of nodes),
yet it prints that graph's counts. Each array op's ``cost`` rule (in ``arrays.ARRAY_OPS``)
writes the op's *scalar expansion* (matmul: a product per input and a chain of additions;
softmax: exps, a chain, divisions; a loss: its terms and their chain) with the two builders
below, for one example and one column, and states how many identical copies it stands for.
One sweep in topological order then composes the ops. Every scalar node is summarized by
what the modes' counts need, so the sweep counts without walking:

* ``paths`` and ``visits``: the paths from the parameters' entries to the node and the sum
  of their lengths (path enumeration's paths and multiplications);
* ``depth``: the longest such path (path enumeration's working set);
* ``reach``: which entries have a path to it. Forward mode sweeps once per entry through
  the entry's cone, so the sum of the cones' nodes is the sum over nodes of ``reach``'s
  size, and the cones' edges the sum over edges of their source's. Reach is a set, not a
  sum (two paths from one entry reach a node once), so it is kept as bitmasks: one bit per
  column of each parameter (a column of W stands for its ``inputs`` entries), plus
  ``partial`` for the entries of the W column being summed inside one matmul.

Constants (the inputs X, the targets, 2, the loss's scale) are ``None``: no path starts
there and their edges are not counted (counts cover the nodes that depend on a parameter).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Col:
    """One scalar node of the expansion, as the counts see it."""

    paths: int
    visits: int
    depth: int
    reach: tuple[int, ...]  # per parameter node: a bitmask of its columns
    partial: int = 0  # entries of the W column inside the matmul being expanded


class Tally:
    """The running totals, and how reach masks turn into entry counts."""

    def __init__(self, weights: list[int]) -> None:
        self.weights = weights  # per parameter node: entries per column (W: inputs, b: 1)
        self.none = (0,) * len(weights)
        self.op_nodes = self.edges = self.forward_nodes = self.forward_edges = 0
        self.times = 1  # identical copies the rule being run stands for
        self.loss: Col | None = None  # the last node's summary, once count() has run
        self.fn = None  # the node's ``fn`` while its rule runs (an activation's)

    def bits(self, reach: tuple[int, ...]) -> int:
        """Entries in whole parameter columns that a reach mask names."""
        return sum(w * m.bit_count() for w, m in zip(self.weights, reach))

    def size(self, col: Col | None) -> int:
        """Entries with a path to the node: what a forward sweep from each visits."""
        return 0 if col is None else col.partial + self.bits(col.reach)

    def leaf(self, slot: int, column: int) -> Col:
        """A whole column of a parameter (a bias entry, or W's column as matmul's output)."""
        reach = list(self.none)
        reach[slot] = 1 << column
        return Col(1, 0, 0, tuple(reach))

    def node(self, *args: Col | None) -> Col:
        """A scalar op node on ``args``; None is a constant."""
        live = [a for a in args if a is not None]
        reach = self.none
        for a in live:
            reach = tuple(x | y for x, y in zip(reach, a.reach))
        out = Col(sum(a.paths for a in live), sum(a.visits + a.paths for a in live),
                  max(a.depth for a in live) + 1, reach, sum(a.partial for a in live))
        self.op_nodes += self.times
        self.edges += self.times * len(live)
        self.forward_nodes += self.times * self.size(out)
        self.forward_edges += self.times * sum(self.size(a) for a in live)
        return out

    def chain(self, cols: list[Col], order=None) -> Col:
        """The sum chain ((a + b) + c) + ... that the scalar graph builds for a sum of
        ``cols[order[0]], cols[order[1]], ...`` (all of ``cols`` in turn by default).

        The same as calling ``node`` along the chain, summed in closed form, because a
        loss sums a batch of repeated terms (512 × 1,000 of them, say): a term at
        position i passes through ``N - max(i, 1)`` additions, and the chain's reach grows
        only where a term first appears.
        """
        import numpy as np

        order = np.arange(len(cols)) if order is None else np.asarray(order, dtype=np.int64)
        N = len(order)
        if N == 1:
            return cols[int(order[0])]
        positions = np.arange(N, dtype=np.int64)
        passes = N - np.maximum(positions, 1)  # the additions each term passes through
        uses = np.bincount(order, minlength=len(cols))
        through = np.zeros(len(cols), dtype=np.int64)
        np.add.at(through, order, passes)
        first = np.full(len(cols), N, dtype=np.int64)
        np.minimum.at(first, order, positions)
        partial = np.cumsum(np.array([c.partial for c in cols], dtype=np.int64)[order])
        used = sorted((int(first[d]), d) for d in range(len(cols)) if uses[d])
        reach, grown = self.none, []  # the chain's reach mask from each first appearance on
        for position, d in used:
            reach = tuple(x | y for x, y in zip(reach, cols[d].reach))
            grown.append((position, self.bits(reach)))
        segments = list(zip(grown, grown[1:] + [(N, 0)]))  # (start, size), (end, _)

        def running(lo: int, hi: int) -> int:
            """The sum over positions lo..hi-1 of the running total's reach size."""
            whole = sum(size * max(0, min(end, hi) - max(start, lo))
                        for (start, size), (end, _) in segments)
            return whole + int(partial[lo:hi].sum())

        self.op_nodes += self.times * (N - 1)
        self.edges += self.times * 2 * (N - 1)
        self.forward_nodes += self.times * running(1, N)
        self.forward_edges += self.times * (running(0, N - 1) + sum(
            int(uses[d]) * self.size(cols[d]) for d in range(len(cols)))
            - self.size(cols[int(order[0])]))
        return Col(sum(int(uses[d]) * c.paths for d, c in enumerate(cols)),
                   sum(int(uses[d]) * c.visits + int(through[d]) * c.paths
                       for d, c in enumerate(cols)),
                   max(c.depth + int(passes[first[d]]) for d, c in enumerate(cols) if uses[d]),
                   reach, int(partial[-1]))


def count(nodes, leaves: dict, ops: dict, batch: int) -> Tally:
    """Run every op's cost rule in order: the totals, and the loss's node as ``tally.loss``.

    A node's state is one Col per column (the same in every example), a parameter's is its
    slot, a constant's is None; the loss rule works across examples and returns one Col.
    """
    slots = [i for i, node in enumerate(nodes) if node.op == "param"]
    weights = [leaves[i].shape[0] if leaves[i].ndim == 2 else 1 for i in slots]
    tally = Tally(weights)
    state: list = [None] * len(nodes)
    for i, node in enumerate(nodes):
        if node.op == "param":
            state[i] = slots.index(i)
        elif node.op != "const":
            args = [state[a] for a in node.args]
            values = [leaves.get(a) for a in node.args]
            tally.times = 1
            tally.fn = node.fn  # an activation's op or function graph (arrays._act_cost)
            state[i] = ops[node.op].cost(tally, args, values, batch)
    tally.loss = state[-1]  # the builder adds the loss last
    return tally
