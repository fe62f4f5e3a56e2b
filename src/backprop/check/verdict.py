"""The check's verdict: pass, fail or skipped with the reason, from the entries compared,
and the figures behind it. Where IEEE arithmetic made our result nan or inf but the
derivative exists (or none exists), the entry gets a note instead of a comparison."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from backprop.check.highprec import one_sided
from backprop.check.notes import note
from backprop.engine.kinks import KINKED, find_kinks


@dataclass(frozen=True)
class CheckResult:
    """What the check concluded, whichever way it checked: the ``check`` object of the JSON
    (docs/json.md) and the verdict line every view prints."""

    status: str  # "pass", "fail" or "skipped"
    method: str  # how it was checked, in words
    reason: str = ""  # why it failed or was skipped
    max_error: float | None = None  # largest relative difference (the verdict's figure)
    checked: list[str] = field(default_factory=list)  # the variables that were checked
    max_abs_error: float | None = None  # largest |ours - reference|
    # where ours is not finite by IEEE arithmetic but the derivative exists: one dict each
    # (entry, ours, met, node, true, by, text), see docs/json.md
    notes: list[dict] = field(default_factory=list)

    def differences(self) -> str:
        """The figures behind the verdict: ``largest relative difference 2e-16`` (and the
        absolute one where it is not the same number), or "" where none were compared."""
        if self.max_error is None:
            return ""
        text = f"largest relative difference {self.max_error:.3g}"
        if self.max_abs_error is not None and f"{self.max_abs_error:.3g}" != \
                f"{self.max_error:.3g}":
            text += f", absolute {self.max_abs_error:.3g}"
        return text


def close(ours: float, reference: float, rtol: float, atol: float) -> bool:
    """The one agreement rule of every check path (and the net job's), numpy's isclose."""
    return abs(ours - reference) <= atol + rtol * abs(reference)


def verdict(graph, point, entries, rtol, atol, method, checked) -> CheckResult:
    """pass, fail or skipped from (output, variable, ours, reference, how the reference was
    found, the output is finite there) per checked entry.

    An output that is not finite (or not real) has no derivative to compare. Where ours is
    not finite but the reference is, IEEE arithmetic in the chain rule is the cause, and the
    note says at which node and what the true derivative is.
    """
    from backprop.engine.evaluate import evaluate
    from backprop.engine.modes import relative_difference

    values = None
    worst = worst_abs = 0.0
    skipped, notes = 0, []
    kinked = kinked_entries(graph, point)
    for o, name, ours, expected, by, defined in entries:
        label = f"d{graph.output_names[o] if len(graph.outputs) > 1 else 'f'}/d{name}"
        if not defined:
            skipped += 1
            continue
        kink = kinked.get((o, name))
        if kink is not None and not close(ours, expected, rtol, atol):
            notes.append(kink_note(graph, point, o, name, label, ours, expected, by, kink))
            continue
        if math.isfinite(expected) and not math.isfinite(ours):
            if values is None:
                values = evaluate(graph, point)
            notes.append(note(graph, values, o, name, label, ours, expected, by,
                               one_sided(graph, point, o, name)))
            continue
        if not (math.isfinite(expected) and math.isfinite(ours)):
            if expected != ours:  # nan on either side, or infinities that differ
                skipped += 1
            continue
        worst = max(worst, relative_difference(ours, expected))
        worst_abs = max(worst_abs, abs(ours - expected))
        if not close(ours, expected, rtol, atol):
            return CheckResult("fail", method, f"{label}: ours {ours!r}, {by} {expected!r}",
                               worst, checked, worst_abs, notes)
    reasons = []
    for kind, why in (("exists", "are not finite by IEEE arithmetic although the derivative "
                                 "exists"),
                      ("kink", "have no derivative at this point: the one-sided derivatives "
                               "differ"),
                      ("unconfirmed", "are not finite, and no finite derivative could be "
                                      "confirmed there")):
        count = sum(1 for note in notes if note["kind"] == kind)
        if count:
            reasons.append(f"{count} partial(s) {why} (see the notes)")
    if skipped:
        reasons.append(f"{skipped} partial(s) are not finite at this point (or their output "
                       "is not), so they cannot be compared")
    status = "skipped" if reasons else "pass"
    return CheckResult(status, method, "; ".join(reasons), worst, checked, worst_abs, notes)


def kinked_entries(graph, point) -> dict:
    """(output, input name) -> the first node on a kink (engine/kinks.py) that lies between
    them: there the derivative is a convention, which the reference may not share (SymPy's
    Heaviside(0) is 1/2)."""
    if point is None or not any(node.op in KINKED for node in graph.nodes):
        return {}
    from backprop.engine.evaluate import evaluate

    kinks = find_kinks(graph, evaluate(graph, point))
    found: dict = {}
    position = dict(zip(graph.input_names, graph.inputs))
    for kink in kinks[:20]:
        behind = [False] * (kink.node + 1)  # the nodes the kink is computed from
        behind[kink.node] = True
        for i in range(kink.node, -1, -1):
            if behind[i]:
                for a in graph.nodes[i].args:
                    behind[a] = True
        ahead = graph.depends_on([kink.node])
        for o, out in enumerate(graph.outputs):
            if ahead[out]:
                for name, i in position.items():
                    if i <= kink.node and behind[i]:
                        found.setdefault((o, name), kink)
    return found


def kink_note(graph, point, o, name, label, ours, expected, by, kink) -> dict:
    """The note of an entry whose path crosses a kink and whose reference took another
    convention: both numbers, the one-sided derivatives, no failure."""
    sides = one_sided(graph, point, o, name)
    left, right = (f"{side:.6g}" for side in sides)
    text = (f"{label}: {kink.name} is on a kink ({kink.op} {kink.place}), where the "
            f"derivative is a convention: ours {ours!r} is the documented one "
            f"(docs/expressions.md), {by} gives {expected!r}; from the left it is {left}, "
            f"from the right {right}")
    return {"entry": label, "ours": ours, "met": "a kink", "node": kink.name, "kind": "kink",
            "true": None, "by": by, "one_sided": list(sides), "text": text}
