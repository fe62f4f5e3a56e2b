"""Kinks made visible: the nodes that stand, at this point, where their op has no derivative.

Each piecewise op declares its kink set in the op table (``Op.kink``: abs and relu at 0, a
tie in max or min, hypot at the origin, floor and ceil at whole numbers, leaky_relu at 0);
``where``'s kink is its condition at equality (``x > 0`` at x = 0), found here because it
needs the comparison's operands. At a kink every mode uses the op's ``partials``: the
documented convention (docs/expressions.md). A ``Kink`` says which node, each argument's
one-sided partials from below and from above, and which were taken; ``grad`` turns each
into a warning, ``--strict`` exits 4 on one, and the JSON carries them as data.
"""

from __future__ import annotations

from dataclasses import dataclass

from backprop.engine.backends import FLOAT
from backprop.engine.ops import COMPARISONS, OPS

KINKED = frozenset([name for name, op in OPS.items() if op.kink is not None] + ["where"])


@dataclass(frozen=True)
class Kink:
    """Node ``node`` (``op``) lies on a kink at this point: ``place`` says which; ``left``
    and ``right`` are its partials with respect to each argument from below and from
    above, ``taken`` what every mode used (the op table's partials)."""

    node: int
    op: str
    name: str  # the node as the naming table reads it
    arguments: tuple[str, ...]  # the arguments' names (None: a constant, not reported)
    place: str
    left: tuple[float, ...]
    right: tuple[float, ...]
    taken: tuple[float, ...]

    def message(self) -> str:
        sides = "; ".join(
            f"d/d{arg if arg.isidentifier() else f'({arg})'}: {_n(left)} from the left, {_n(right)} from the right, {_n(taken)} taken"
            for arg, left, right, taken in zip(self.arguments, self.left, self.right,
                                               self.taken)
            if arg is not None and not (left == right == taken == 0))
        return (f"{self.name} is on a kink, {self.op} {self.place}: "
                f"{sides or 'its partials are 0 on both sides'} (docs/expressions.md)")

    def as_dict(self) -> dict:
        return {"node": self.name, "op": self.op, "at": self.place,
                "arguments": list(self.arguments), "left": [float(v) for v in self.left],
                "right": [float(v) for v in self.right],
                "taken": [float(v) for v in self.taken]}


def _n(value) -> str:
    return f"{float(value):g}"


def find_kinks(graph, values) -> list[Kink]:
    """Every node on a kink at the point whose float ``values`` are given, in node order."""
    nodes = graph.nodes
    found = []
    for i, node in enumerate(nodes):
        if node.op not in KINKED:
            continue
        args = [values[a] for a in node.args]
        if not all(isinstance(v, float) for v in args):
            continue
        if node.op == "where":
            sides = _where_sides(graph, values, node)
        else:
            sides = OPS[node.op].kink(FLOAT, values[i], *args)
        if sides is None:
            continue
        left, right, place = sides
        taken = OPS[node.op].partials(FLOAT, values[i], *args)
        found.append((i, left, right, place, taken))
    if not found:
        return []
    from backprop.engine.printer import name_table

    names, active = name_table(graph).readable(60), graph.active
    return [Kink(i, nodes[i].op, names[i],
                 tuple(names[a] if active[a] else None for a in nodes[i].args), place,
                 tuple(left), tuple(right), tuple(taken))
            for i, left, right, place, taken in found]


def _where_sides(graph, values, node):
    """where(l > r, a, b) at l = r: the partials with the condition false (below) and true
    (above) as l moves, for > and >=; the other way round for < and <=."""
    condition = graph.nodes[node.args[0]]
    if condition.op not in COMPARISONS:
        return None
    lhs, rhs = (values[a] for a in condition.args)
    if lhs != rhs:
        return None
    false, true = (0, 0, 1), (0, 1, 0)
    below, above = (false, true) if condition.op in ("gt", "ge") else (true, false)
    return below, above, "with its condition at equality"


def kink_warnings(kinks: list[Kink]) -> list[str]:
    """One warning per kink (the first three), as grad's warnings read."""
    warnings = [kink.message() for kink in kinks[:3]]
    if len(kinks) > 3:
        warnings.append(f"... and {len(kinks) - 3:,} more nodes on a kink")
    return warnings
