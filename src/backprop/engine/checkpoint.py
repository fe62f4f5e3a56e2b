"""Checkpointing the reverse sweep: keep a few states of the chain of steps, recompute the
rest from them, and trade memory for extra forward steps (docs/checkpointing.md).

**The chain of steps.** The steps are the graph's op nodes in evaluation order, s_1..s_n.
The state x_k is the set of values live across the cut after step k: the leaves and the
nodes computed by step k that a later step reads, or that are outputs. x_0 (the inputs and
constants a step reads) can never be recomputed. Advancing from x_k evaluates node s_(k+1)
from the op table and drops the values nothing later reads. On the ``chain`` family
(nested sin) every state is one value, so the textbook numbers appear exactly.

**The model.** The primal pass (shared by every mode: the function itself) runs steps
1..n once and may store states as it goes, up to the budget of C stored states, x_0
included. The adjoint step k needs x_(k-1) (its arguments) and s_k's own value, which the
previous step left at hand (the output, or the end of the last advance). It runs the
reverse sweep's very arithmetic (``evaluate.local_partials``, then
``a[arg] += p * a[s_k]``), in the same order, so the gradient is bit for bit reverse
mode's. A *forward step* is one advance after the primal pass; its count, the peak number
of stored states and the peak number of primal values held (stored states, the working
state and the value at hand, each value counted once) are counted by running.

**The optimum.** With C states the fewest forward steps are Griewank's count for one step
more, minus the primal pass: ``t(n+1, C) - n``, where ``t(l, s) = r*l - beta(s+1, r-1)``,
``beta(s, r) = C(s+r, s)`` and r is the least with ``beta(s, r) >= l`` (Griewank 1992;
Griewank and Walther, revolve, ACM TOMS 26(1), 2000). ``optimal_extra`` computes it again
by a dynamic program over every split; tests/test_checkpoint.py checks the program against
a search of every action sequence (small n) and against the closed form. The binomial
schedule places its states by revolve's rule.

Nothing recurses: schedules are generated with an explicit stack.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from math import comb, isqrt
from typing import Iterator

from backprop.engine.backends import FLOAT
from backprop.engine.evaluate import local_partials
from backprop.engine.graph import Graph
from backprop.engine.ops import OPS

STRATEGIES = ("store-all", "recompute-all", "every-sqrt", "binomial")
LABELS = {"store-all": "store-all", "recompute-all": "recompute-all",
          "every-sqrt": "every-√n", "binomial": "binomial"}


# -- counts in closed form -------------------------------------------------------------------

def beta(s: int, r: int) -> int:
    """Griewank's beta(s, r) = C(s + r, s): the most steps s states reverse when no step is
    evaluated more than r times."""
    return comb(s + r, s) if s >= 0 and r >= 0 else 0


def repetitions(l: int, s: int) -> int:
    """The least r with beta(s, r) >= l (r grows as about s * l^(1/s): a short loop)."""
    r, reach = 0, 1
    while reach < l:
        r += 1
        reach = reach * (s + r) // r  # beta(s, r) from beta(s, r - 1)
    return r


def revolve_steps(l: int, s: int) -> int:
    """Griewank's t(l, s): forward steps to reverse l steps from x_0 with s states (x_0's
    included), counting the first sweep to x_(l-1)."""
    if l <= 1:
        return 0
    r = repetitions(l, s)
    return r * l - beta(s + 1, r - 1)


def sqrt_interval(n: int) -> int:
    """every-√n stores every k-th state, k = ceil(sqrt(n))."""
    return isqrt(n - 1) + 1 if n > 1 else 1


def closed_form(strategy: str, n: int, c: int = 1) -> int:
    """Each schedule's extra forward steps on n steps, from its formula (never from a run)."""
    if strategy == "store-all" or n <= 1:
        return 0
    if strategy == "recompute-all":
        return n * (n - 1) // 2
    if strategy == "every-sqrt":
        k = sqrt_interval(n)
        return n - -(-n // k)  # every segment but its first state: n - ceil(n / k)
    return revolve_steps(n + 1, min(c, n)) - n


def optimal_extra(n_max: int, c_max: int) -> list[list[int | None]]:
    """table[n][c]: the fewest extra forward steps over every schedule that splits the chain
    at stored states (a dynamic program over every split, O(n^2 c)); None: impossible (c=0).

    R[l][s]: reverse l steps with x_0 stored, the end value at hand, s states: advance j,
    store, reverse the last l - j with s - 1, then the first j with s.
    B[l][s]: the same after a free primal pass that stored its states on the way."""
    R: list[list[int | None]] = [[0] * (c_max + 1) for _ in range(n_max + 1)]
    B: list[list[int | None]] = [[None] + [0] * c_max for _ in range(n_max + 1)]
    for l in range(2, n_max + 1):
        R[l][0] = None  # x_0 must be stored
        for s in range(1, c_max + 1):
            R[l][s] = min(j + R[j][s] + R[l - j][s - 1] for j in range(1, l)
                          if R[l - j][s - 1] is not None)
            B[l][s] = min([R[l][s]] + [R[j][s] + B[l - j][s - 1] for j in range(1, l)
                                       if B[l - j][s - 1] is not None])
    return B


# -- schedules -------------------------------------------------------------------------------

def revolve_split(l: int, s: int) -> int:
    """Revolve's next state to store when reversing l steps from a stored x_0 with s states
    (the rule of Griewank and Walther's revolve routine, 2000): an advance of j steps,
    1 <= j < l. tests/test_checkpoint.py checks that it reaches the optimum."""
    r = repetitions(l, s)
    reach = beta(s, r)
    b1 = beta(s, r - 1)
    b2 = beta(s - 1, r - 1) if s > 1 else 1
    b3 = beta(s - 2, r - 1) if s > 2 else (0 if s == 1 else 1)
    b4 = beta(s, r - 2)
    b5 = beta(s - 3, r) if s > 3 else (0 if s < 3 else 1)
    if l <= b1 + b3:
        j = b4
    elif l >= reach - b5:
        j = b1
    else:
        j = l - b2 - b3
    return min(max(j, 1), l - 1)


def _primal_stores(strategy: str, n: int, c: int) -> list[int]:
    """The states the primal pass stores (positions 0..n-1, ascending)."""
    if strategy == "store-all":
        return list(range(n))
    if strategy == "recompute-all":
        return [0]
    if strategy == "every-sqrt":
        return list(range(0, n, sqrt_interval(n)))
    stores, slots = [0], c  # binomial: revolve's first sweep on one step more
    while slots > 1 and n - stores[-1] > 1:
        j = revolve_split(n - stores[-1] + 1, slots)
        if stores[-1] + j >= n:
            break
        stores.append(stores[-1] + j)
        slots -= 1
    return stores


def actions(strategy: str, n: int, c: int = 1) -> Iterator[tuple]:
    """The schedule as actions: ("primal", stores), ("restore", k), ("advance", k),
    ("store", k), ("free", k), ("adjoint", k). Generated with an explicit stack."""
    if n == 0:  # a leaf: nothing to reverse
        yield ("primal", ())
        return
    c = 1 if strategy == "recompute-all" else max(1, min(c, n))
    stores = _primal_stores(strategy, n, c)
    yield ("primal", tuple(stores))
    bounds = stores + [n]
    for m in range(len(stores) - 1, -1, -1):
        a, b = bounds[m], bounds[m + 1]
        if strategy == "every-sqrt":
            yield from _segment_store_all(a, b)
        else:
            yield from _segment(a, b, c - m)
        if m:
            yield ("free", a)
    yield ("free", 0)


def _segment_store_all(a: int, b: int) -> Iterator[tuple]:
    """Reverse steps a+1..b: recompute the segment once storing every state, then reverse."""
    if b - a > 1:
        yield ("restore", a)
        for k in range(a + 1, b):
            yield ("advance", k)
            yield ("store", k)
    for k in range(b, a, -1):
        yield ("restore", k - 1)
        yield ("adjoint", k)
        if k - 1 > a:
            yield ("free", k - 1)


def _segment(a: int, b: int, s: int) -> Iterator[tuple]:
    """Reverse steps a+1..b with x_a stored and s states (x_a's included): revolve."""
    stack: list[tuple] = [("segment", a, b, s)]
    while stack:
        task = stack.pop()
        if task[0] == "free":
            yield task
            continue
        _, a, b, s = task
        if b - a == 1:
            yield ("restore", a)
            yield ("adjoint", b)
        elif b - a > 1 and s == 1:
            yield ("restore", a)
            yield ("advance", b - 1)
            yield ("adjoint", b)
            stack.append(("segment", a, b - 1, 1))
        elif b - a > 1:
            j = revolve_split(b - a, s)
            yield ("restore", a)
            yield ("advance", a + j)
            yield ("store", a + j)
            stack.append(("segment", a, a + j, s))
            stack.append(("free", a + j))
            stack.append(("segment", a + j, b, s - 1))


# -- the chain of a graph, and running a schedule on it --------------------------------------

@dataclass(frozen=True)
class Chain:
    """The graph's steps (op node ids in order) and when each value dies."""

    steps: tuple[int, ...]
    start: tuple[int, ...]  # x_0: the leaves some step reads or that are outputs
    dies: tuple[tuple[int, ...], ...]  # dies[k]: values nothing after step k reads
    widest: int  # the most values in one state x_k

    @property
    def n(self) -> int:
        return len(self.steps)


def chain_of(graph: Graph) -> Chain:
    nodes = graph.nodes
    steps = tuple(i for i, node in enumerate(nodes) if node.args)
    n = len(steps)
    last = [-1] * len(nodes)  # the last step reading each node (n + 1: an output)
    for k, i in enumerate(steps, 1):
        for a in nodes[i].args:
            last[a] = k
    for out in graph.outputs:
        last[out] = n + 1
    born = {i: k for k, i in enumerate(steps, 1)}
    dies: list[list[int]] = [[] for _ in range(n + 1)]
    for v, k in enumerate(last):
        if v in born and k < born[v]:  # an op nothing reads: it dies as it is made
            dies[born[v]].append(v)
        elif 0 < k <= n:
            dies[k].append(v)
    start = tuple(i for i, node in enumerate(nodes) if not node.args and last[i] > 0)
    live = widest = len(start)
    for k in range(1, n + 1):
        live += 1 - len(dies[k])
        widest = max(widest, live)
    return Chain(steps, start, tuple(tuple(d) for d in dies), widest)


@dataclass(frozen=True)
class ScheduleRun:
    """What running one schedule on the graph cost, counted as it ran."""

    strategy: str
    budget: int  # the C it was asked for (binomial), else its own need
    extra_steps: int  # forward steps after the primal pass
    adjoint_steps: int  # steps whose adjoint was propagated
    peak_states: int  # stored states at once, x_0 included
    peak_values: int  # primal values held at once (stored, working, at hand)
    gradient: list  # d output / d wrt, in order


class _Held:
    """Which primal values are held and by how many holders (a value held twice is one)."""

    def __init__(self) -> None:
        self.count: dict[int, int] = {}
        self.peak = 0

    def add(self, keys) -> None:
        count = self.count
        for key in keys:
            count[key] = count.get(key, 0) + 1
        self.peak = max(self.peak, len(count))

    def drop(self, keys) -> None:
        count = self.count
        for key in keys:
            if count[key] == 1:
                del count[key]
            else:
                count[key] -= 1


def run_schedule(graph: Graph, point: dict, wrt: list[int], strategy: str,
                 c: int = 1, chain: Chain | None = None) -> ScheduleRun:
    """Run ``strategy`` with ``c`` states on ``graph`` (one output) at ``point``: the primal
    pass, then the reverse sweep recomputing what it needs from the stored states."""
    chain = chain or chain_of(graph)
    nodes, steps, n = graph.nodes, chain.steps, chain.n
    out = graph.outputs[0]
    active = graph.depends_on(wrt)
    adjoint: list = [None] * len(nodes)
    if active[out]:
        adjoint[out] = FLOAT.one
    held = _Held()
    stored: dict[int, dict] = {}
    current: dict | None = None
    position = 0
    at_hand: tuple[int, object] | None = None  # s_k's own value for the adjoint step k
    extra = adjoint_steps = peak_states = 0

    def advance(state: dict, k: int) -> None:
        node = nodes[steps[k - 1]]
        state[steps[k - 1]] = OPS[node.op].value(FLOAT, *(state[a] for a in node.args))
        held.add((steps[k - 1],))
        for v in chain.dies[k]:
            del state[v]
        held.drop(chain.dies[k])

    for action in actions(strategy, n, c):
        kind = action[0]
        if kind == "primal":
            current = {i: (point[nodes[i].label] if nodes[i].op == "input" else nodes[i].const)
                       for i in chain.start}
            held.add(current)
            keep = set(action[1])
            for k in range(n + 1):
                if k:
                    advance(current, k)
                if k in keep:
                    stored[k] = dict(current)
                    held.add(current)
                    peak_states = max(peak_states, len(stored))
            at_hand = (steps[-1], current[steps[-1]]) if n and steps[-1] in current else None
            if at_hand:
                held.add((at_hand[0],))
            held.drop(current)
            current = None
        elif kind == "restore":
            if current is not None:
                held.drop(current)
            current, position = dict(stored[action[1]]), action[1]
            held.add(current)
        elif kind == "advance":
            for k in range(position + 1, action[1] + 1):
                advance(current, k)
                extra += 1
            position = action[1]
        elif kind == "store":
            stored[action[1]] = dict(current)
            held.add(current)
            peak_states = max(peak_states, len(stored))
        elif kind == "free":
            held.drop(stored.pop(action[1]))
        else:  # the adjoint step k: the reverse sweep's arithmetic at s_k
            k = action[1]
            i = steps[k - 1]
            a = adjoint[i]
            if a is not None:
                assert position == k - 1 and at_hand is not None and at_hand[0] == i
                adjoint_steps += 1
                view = {arg: current[arg] for arg in nodes[i].args}
                view[i] = at_hand[1]
                for arg, p in zip(nodes[i].args, local_partials(graph, view, i)):
                    if active[arg]:
                        contribution = p * a
                        before = adjoint[arg]
                        adjoint[arg] = contribution if before is None else before + contribution
            if at_hand is not None:
                held.drop((at_hand[0],))
            at_hand = None
            if k > 1 and steps[k - 2] in current:
                at_hand = (steps[k - 2], current[steps[k - 2]])
                held.add((at_hand[0],))
            held.drop(current)
            current = None
    gradient = [adjoint[w] if adjoint[w] is not None else 0 for w in wrt]
    return ScheduleRun(strategy, c, extra, adjoint_steps, peak_states, held.peak, gradient)


def same_bits(a: list, b: list) -> bool:
    """Two gradients equal bit for bit (nan included)."""
    def bits(v):
        return struct.pack("<d", v) if isinstance(v, float) else ("int", v)
    return len(a) == len(b) and all(bits(x) == bits(y) for x, y in zip(a, b))
