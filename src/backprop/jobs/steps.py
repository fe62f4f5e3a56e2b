"""The steps of the step-through page (``graph --format html``), from the real sweeps.

The page steps through the forward sweep (every node's value) and then reverse mode's
adjoint updates, one sweep per output, or (chosen on the page) forward mode's tangents,
one sweep per input, ending at the gradient. Nothing here redoes the arithmetic: the
values are ``evaluate``'s, and every adjoint update or tangent term is an ``Edge`` event
of the very sweep ``engine.modes.reverse`` / ``forward`` runs (watched), with its partial,
the derivative it carried, the contribution and the running sum before and after. The
words of each step are ``--explain``'s lines (``jobs.explain_steps.Narrator``), so the
page and ``--explain`` say the same thing. Formatting the numbers and drawing the page is
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
class Term:
    """A derivative carried across one edge, from ``node``'s argument ``slot``:
    ``contribution = partial * carried`` (the adjoint of ``node`` in reverse mode, the
    tangent of the argument in forward mode)."""

    edge: tuple[int, int]
    partial: Any
    carried: Any
    contribution: Any


@dataclass(frozen=True)
class PageStep:
    """One step of the page.

    ``phase`` is "values" (the forward sweep), "reverse" or "forward" (the mode); ``kind``
    is value, seed, adjoint (reverse), tangent (forward) or result; ``node`` the node the
    step is about: an adjoint update's argument, a tangent's node, a result's variable
    (reverse) or output (forward); ``sweep`` counts the mode's sweeps (one per output in
    reverse mode, per variable in forward mode); a result is d output_``output`` /
    d wrt_``wrt``; ``text`` is the step as ``--explain`` writes it. Numbers: ``value`` (a
    node's value, the seed 1, or a result); ``terms``, the edges' contributions, added one
    after the other to the running sum ``before`` (None: nothing yet) to give ``after``.
    """

    phase: str
    kind: str
    text: str
    node: int
    value: Any = None
    sweep: int | None = None
    output: int | None = None
    wrt: int | None = None
    terms: tuple[Term, ...] = ()
    before: Any = None
    after: Any = None


@dataclass(frozen=True)
class StepThrough:
    """The forward sweep's steps (``values``), each mode's steps (``modes``: reverse and
    forward), and the Jacobian each mode ends at: ``gradients[mode][o][k]`` is
    d output_o / d wrt_k."""

    values: tuple[PageStep, ...]
    modes: dict[str, tuple[PageStep, ...]]
    wrt: tuple[int, ...]  # node ids of the variables, in the graph's input order
    gradients: dict[str, tuple[tuple[Any, ...], ...]]


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
    """The forward sweep's values, reverse mode's adjoint updates and forward mode's
    tangents at ``point``, with respect to every input."""
    from backprop.engine.backends import FLOAT
    from backprop.engine.evaluate import evaluate
    from backprop.jobs.explain_steps import Narrator
    from backprop.jobs.explain_text import PartialFormulas, names_and_precedence

    values = evaluate(graph, point)
    wrt = list(graph.inputs)
    names, precedence = names_and_precedence(graph)
    narrator = Narrator(graph, values, FLOAT, names, precedence,
                        PartialFormulas(graph, names, precedence), wrt, False)
    shown = tuple(PageStep("values", "value", said.text, i, values[i])
                  for i, said in enumerate(narrator.forward_sweep()))
    modes, gradients = {}, {}
    for mode in ("reverse", "forward"):
        steps, jacobian = _mode_steps(mode, graph, values, wrt, narrator)
        modes[mode] = steps
        gradients[mode] = tuple(tuple(row) for row in jacobian)
    return StepThrough(shown, modes, tuple(wrt), gradients)


def _mode_steps(mode: str, graph: Graph, values, wrt: list[int], narrator):
    """One mode's steps: its sweep run here, watched, and ``--explain``'s line for each
    step (the narrator's own watched run of the same sweep; its fan-in notes are not
    steps)."""
    from itertools import groupby

    from backprop.engine.backends import FLOAT
    from backprop.engine.modes import Seed
    from backprop.engine.modes.forward import forward
    from backprop.engine.modes.reverse import reverse

    sweep_of = {"reverse": reverse, "forward": forward}[mode]
    events: list = []
    jacobian = sweep_of(graph, values, wrt, FLOAT, watch=events.append).jacobian
    said = iter([line for line in getattr(narrator, mode)()[0] if line.kind != "note"])
    starts = graph.outputs if mode == "reverse" else wrt  # a sweep per output / per variable
    by_sweep: list[list] = [[] for _ in starts]
    for event in events:
        by_sweep[event.sweep].append(event)
    steps: list[PageStep] = []
    for n, sweep in enumerate(by_sweep):  # an output no variable reaches has no events
        seeds = [event for event in sweep if isinstance(event, Seed)]
        for event in seeds:
            steps.append(PageStep(mode, "seed", _line(said, "seed"), event.node, FLOAT.one,
                                  sweep=n, after=FLOAT.one))
        edges = [event for event in sweep if not isinstance(event, Seed)]
        # reverse mode: a step per edge; forward mode: a step per node, summing its edges
        groups = [[edge] for edge in edges] if mode == "reverse" else \
            [list(group) for _, group in groupby(edges, key=lambda edge: edge.node)]
        for group in groups:
            first, last = group[0], group[-1]
            terms = tuple(Term((e.node, e.slot), e.partial, e.carried, e.contribution)
                          for e in group)
            receiver = first.arg if mode == "reverse" else first.node
            steps.append(PageStep(mode, "adjoint" if mode == "reverse" else "tangent",
                                  _line(said, "adjoint" if mode == "reverse" else "tangent"),
                                  receiver, sweep=n, terms=terms, before=first.before,
                                  after=last.after))
        if mode == "reverse":
            for k, w in enumerate(wrt):
                steps.append(PageStep(mode, "result", _line(said, "result"), w,
                                      jacobian[n][k], sweep=n, output=n, wrt=k))
        else:
            for o, out in enumerate(graph.outputs):
                steps.append(PageStep(mode, "result", _line(said, "result"), out,
                                      jacobian[o][n], sweep=n, output=o, wrt=n))
    if next(said, None) is not None:
        raise AssertionError("the explanation and the sweep disagree on the steps")
    return tuple(steps), jacobian


def _line(said, kind: str) -> str:
    """The next line of the explanation, which must be a step of ``kind``: the two watched
    runs of one sweep cannot differ (a bug if they do)."""
    line = next(said)
    if line.kind != kind:
        raise AssertionError(f"the explanation has a {line.kind} step where the sweep "
                             f"has a {kind}")
    return line.text
