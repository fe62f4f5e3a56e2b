"""Colouring a Jacobian's pattern so that one sweep computes several columns (or rows).

Two columns are *structurally orthogonal* when no row has a nonzero in both (Curtis,
Powell and Reid, 1974): a forward sweep seeded with the sum of their unit tangents then
computes both columns at once, each output's entry coming from the one column of the group
it depends on. Grouping the columns is colouring the column intersection graph (Coleman
and Moré, 1983): columns sharing a row get different colours. Rows are coloured the same
way on the transposed pattern, for reverse sweeps seeded with a sum of unit adjoints.

The colouring is greedy in index order (each column takes the smallest colour no column
of one of its rows holds): a tridiagonal pattern gets 3 colours (column k gets k mod 3)
at every n. A colouring never needs fewer colours than the most nonzeros in one row (those
columns meet pairwise), so ``optimal`` says when the greedy count meets that bound.

Recovering the Jacobian is a copy, no arithmetic: J[o][k] = B[o][colour(k)] where the
pattern has (o, k), else 0. Sweeps, partials, multiplications and additions are the
seeded sweep's own counts (engine/modes), nothing more.
"""

from __future__ import annotations

from dataclasses import dataclass

from backprop.engine.sparsity import Pattern, bits_of


@dataclass(frozen=True)
class Colouring:
    """colour[k] for every column (forward) or row (reverse) k; ``colours`` groups."""

    side: str  # "columns" or "rows"
    colour: tuple[int, ...]
    colours: int
    lower_bound: int  # most nonzeros in one row (columns) or one column (rows)

    @property
    def optimal(self) -> bool:
        return self.colours == self.lower_bound

    def groups(self) -> list[list[int]]:
        """The members of each colour, in order."""
        groups: list[list[int]] = [[] for _ in range(self.colours)]
        for k, c in enumerate(self.colour):
            groups[c].append(k)
        return groups


def work(pattern: Pattern) -> int:
    """An upper bound on the greedy colouring's steps either way (nonzeros x widest line)."""
    return pattern.nonzeros * max(pattern.max_row, pattern.max_column, 1)


def _greedy(lines: tuple[int, ...], members: int, side: str, bound: int) -> Colouring:
    """Colour ``members`` items so that no two in one of ``lines`` (bitsets) share a colour."""
    belongs: list[list[int]] = [[] for _ in range(members)]
    for r, bits in enumerate(lines):
        for k in bits_of(bits):
            belongs[k].append(r)
    used = [0] * len(lines)  # colours already taken in each line, as a bitset
    colour = []
    for k in range(members):
        taken = 0
        for r in belongs[k]:
            taken |= used[r]
        c = (~taken & (taken + 1)).bit_length() - 1  # the lowest colour not taken
        colour.append(c)
        for r in belongs[k]:
            used[r] |= 1 << c
    return Colouring(side, tuple(colour), max(colour, default=-1) + 1, bound)


def colour_columns(pattern: Pattern) -> Colouring:
    """Structurally orthogonal columns share a colour: one forward sweep per colour."""
    return _greedy(pattern.rows, pattern.columns, "columns", pattern.max_row)


def colour_rows(pattern: Pattern) -> Colouring:
    """Structurally orthogonal rows share a colour: one reverse sweep per colour."""
    return _greedy(pattern.column_rows, len(pattern.rows), "rows", pattern.max_column)


def forward_seeds(colouring: Colouring, wrt: list[int], one) -> list[dict]:
    """One forward seed per colour: a unit tangent on every wrt input of the colour."""
    return [{wrt[k]: one for k in group} for group in colouring.groups()]


def reverse_seeds(colouring: Colouring, outputs: tuple[int, ...], one) -> list[dict]:
    """One reverse seed per colour: a unit adjoint on every output of the colour (two
    outputs that are one node meet in every column, so never share a colour)."""
    return [{outputs[o]: one for o in group} for group in colouring.groups()]


def recover_columns(compressed: list[list], colouring: Colouring, pattern: Pattern) -> list[list]:
    """J from forward sweeps' compressed[o][colour]: a copy per nonzero of the pattern."""
    jacobian = []
    for o, bits in enumerate(pattern.rows):
        row = [0] * pattern.columns
        for k in bits_of(bits):
            row[k] = compressed[o][colouring.colour[k]]
        jacobian.append(row)
    return jacobian


def recover_rows(compressed: list[list], colouring: Colouring, pattern: Pattern) -> list[list]:
    """J from reverse sweeps' compressed[colour][k]: a copy per nonzero of the pattern."""
    jacobian = []
    for o, bits in enumerate(pattern.rows):
        row = [0] * pattern.columns
        for k in bits_of(bits):
            row[k] = compressed[colouring.colour[o]][k]
        jacobian.append(row)
    return jacobian
