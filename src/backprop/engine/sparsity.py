"""The Jacobian's sparsity pattern, read from the graph: which outputs depend on which inputs.

One forward pass over the nodes carries, for every node, the set of ``wrt`` inputs it is
computed from, as a Python int used as a bitset (bit k: the k-th wrt input). An output's
set is its row of the pattern. This is *structural*: an entry is nonzero in the pattern
when a path of edges joins the input to the output, whatever the partials' values (x - x
depends on x). A structural zero is an exact zero in every mode, since no derivative is
carried along a path that does not exist.

No partial is evaluated and nothing recurses: one loop over the nodes.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property


@dataclass(frozen=True)
class Pattern:
    """rows[o]: bitset of the wrt columns output o depends on; ``columns`` wrt inputs."""

    rows: tuple[int, ...]
    columns: int

    def row(self, o: int) -> list[int]:
        """The columns of row ``o``, in order."""
        return bits_of(self.rows[o])

    @cached_property
    def column_rows(self) -> tuple[int, ...]:
        """Transposed: bitset of the rows each column appears in."""
        cols = [0] * self.columns
        for o, bits in enumerate(self.rows):
            for k in bits_of(bits):
                cols[k] |= 1 << o
        return tuple(cols)

    @property
    def nonzeros(self) -> int:
        return sum(bits.bit_count() for bits in self.rows)

    @property
    def max_row(self) -> int:
        """Most nonzeros in one row: a lower bound on the column colours."""
        return max((bits.bit_count() for bits in self.rows), default=0)

    @property
    def max_column(self) -> int:
        """Most nonzeros in one column: a lower bound on the row colours."""
        return max((bits.bit_count() for bits in self.column_rows), default=0)

    def as_lists(self) -> list[list[int]]:
        """The pattern as 0/1 rows (for JSON and the text view of small Jacobians)."""
        return [[(bits >> k) & 1 for k in range(self.columns)] for bits in self.rows]


def bits_of(value: int) -> list[int]:
    """Positions of the set bits of ``value``, lowest first."""
    out = []
    while value:
        low = value & -value
        out.append(low.bit_length() - 1)
        value ^= low
    return out


def pattern(graph, wrt: list[int]) -> Pattern:
    """The structural pattern of d outputs / d wrt (one pass over the nodes)."""
    deps = [0] * len(graph.nodes)
    for k, w in enumerate(wrt):
        deps[w] |= 1 << k
    for i, node in enumerate(graph.nodes):
        for a in node.args:
            deps[i] |= deps[a]
    return Pattern(tuple(deps[o] for o in graph.outputs), len(wrt))
