"""The steps of the step-through page (``graph --format html``), from the real sweeps.

The page steps through the forward sweep (every node's value) and then reverse mode's
adjoint updates, one sweep per output, ending at the gradient. Nothing here redoes the
arithmetic: the values are ``evaluate``'s, and every adjoint update is an ``Edge`` event
of the very sweep ``engine.modes.reverse`` runs (watched), with its partial, the adjoint
it carried, the contribution and the running sum before and after. The words of each step
are ``--explain``'s lines (``jobs.explain_steps.Narrator``), so the page and ``--explain``
say the same thing. Formatting the numbers and drawing the page is
``render/steps_html.py``.

Limit: a page is written for graphs of up to ``STEPS_MAX_NODES`` nodes (a step per node
and per edge; the same bound as ``--explain``'s text), larger ones are refused (exit 3).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from backprop.errors import InputError, LimitError
from backprop.engine.graph import Graph
from backprop.jobs.explain import EXPLAIN_MAX_NODES

STEPS_MAX_NODES = EXPLAIN_MAX_NODES  # one step per node and edge, as --explain writes them


@dataclass(frozen=True)
class PageStep:
    """One step of the page.

    ``phase`` is "forward" (the values) or "reverse"; ``kind`` is value, seed, adjoint or
    result; ``node`` the node the step is about (an adjoint update: the argument whose
    adjoint grows); ``edge`` the edge ``(node, slot)`` an adjoint update crosses (from
    ``node``'s argument ``slot`` into ``node``); ``sweep`` the output a reverse step belongs to;
    ``text`` the step as ``--explain`` writes it. Numbers: ``value`` (a node's value, the
    seed 1, or a result), and for an adjoint update ``partial * carried = contribution``,
    added to the running sum ``before`` (None: the first contribution) to give ``after``.
    """

    phase: str
    kind: str
    text: str
    node: int
    value: Any = None
    edge: tuple[int, int] | None = None
    sweep: int | None = None
    wrt: int | None = None  # a result step: the position of its variable in ``wrt``
    partial: Any = None
    carried: Any = None
    contribution: Any = None
    before: Any = None
    after: Any = None


@dataclass(frozen=True)
class StepThrough:
    """Every step in order, and the gradient they end at: ``gradient[o][k]`` is
    d output_o / d wrt_k, the Jacobian of the reverse sweep."""

    steps: tuple[PageStep, ...]
    wrt: tuple[int, ...]  # node ids of the variables, in the graph's input order
    gradient: tuple[tuple[Any, ...], ...]


def check_steppable(graph: Graph, point: Mapping[str, float] | None,
                    max_nodes: int = STEPS_MAX_NODES) -> None:
    """Refuse, before any work, a page without numbers (exit 2) or too long (exit 3)."""
    if point is None:
        raise InputError("--format html steps through the sweeps' numbers, so it needs a point",
                         hint="give one with --at, e.g. --at x=1,y=2")
    if len(graph) > max_nodes:
        raise LimitError(
            f"the graph has {len(graph):,} nodes; the step-through page is written for up to "
            f"{max_nodes:,} nodes (a step for every node and edge)",
            hint="use --format text, dot or svg, which work for larger graphs")


def step_through(graph: Graph, point: Mapping[str, float]) -> StepThrough:
    """The forward sweep's values and reverse mode's adjoint updates at ``point``, with
    respect to every input."""
    from backprop.engine.backends import FLOAT
    from backprop.engine.evaluate import evaluate
    from backprop.engine.modes import Seed
    from backprop.engine.modes.reverse import reverse
    from backprop.jobs.explain_steps import Narrator
    from backprop.jobs.explain_text import PartialFormulas, names_and_precedence

    values = evaluate(graph, point)
    wrt = list(graph.inputs)
    names, precedence = names_and_precedence(graph)
    narrator = Narrator(graph, values, FLOAT, names, precedence,
                        PartialFormulas(graph, names, precedence), wrt, False)
    steps = [PageStep("forward", "value", said.text, i, values[i])
             for i, said in enumerate(narrator.forward_sweep())]

    events: list = []
    jacobian = reverse(graph, values, wrt, FLOAT, watch=events.append).jacobian
    # --explain's lines for the same sweep: a seed line per Seed, an update per Edge, then
    # one result per variable and output (its fan-in notes are not steps)
    lines = [said for said in narrator.reverse()[0] if said.kind != "note"]
    said = iter(lines)
    by_sweep: list[list] = [[] for _ in graph.outputs]
    for event in events:
        by_sweep[event.sweep].append(event)
    for o, sweep in enumerate(by_sweep):  # an output no variable reaches has no events
        for event in sweep:
            line = next(said)
            if isinstance(event, Seed):
                _expect(line, "seed")
                steps.append(PageStep("reverse", "seed", line.text, event.node, FLOAT.one,
                                      sweep=o, after=FLOAT.one))
                continue
            _expect(line, "adjoint")
            steps.append(PageStep("reverse", "adjoint", line.text, event.arg,
                                  edge=(event.node, event.slot), sweep=o,
                                  partial=event.partial, carried=event.carried,
                                  contribution=event.contribution, before=event.before,
                                  after=event.after))
        for k, w in enumerate(wrt):
            line = next(said)
            _expect(line, "result")
            steps.append(PageStep("reverse", "result", line.text, w, jacobian[o][k],
                                  sweep=o, wrt=k))
    if next(said, None) is not None:
        raise AssertionError("the explanation and the sweep disagree on the steps")
    return StepThrough(tuple(steps), tuple(wrt),
                       tuple(tuple(row) for row in jacobian))


def _expect(line, kind: str) -> None:
    if line.kind != kind:  # the two walks of one sweep cannot differ: a bug if they do
        raise AssertionError(f"the explanation has a {line.kind} step where the sweep "
                             f"has a {kind}")
