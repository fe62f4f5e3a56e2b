"""Measured times a user can trust: the one timing helper of ``grad``, ``compare`` and
``scale`` (and ``compare``/``scale --order 2``), and the one rule for when two times differ.

How a figure is taken (docs/performance.md, "How backprop times"):

- **a warm-up first**: one call that is not timed (first calls pay imports, caches and
  allocation); its result is the one returned, since every later call gives the same;
- **a sample lasts long enough to read**: a call shorter than ``SAMPLE_SECONDS`` is
  repeated ``loops`` times within one sample (as ``timeit`` does), and a sample's time is
  divided by its loops;
- **k samples** (``--repeat``, fewer only once ``budget`` seconds are spent): the figure is
  their median, shown with the best (minimum), k and the spread (the median absolute
  deviation, which one sample slowed by other work on the machine does not move);
- **one engine**: the modes are compared on the pure-Python engine (``PYTHON``); the
  compiled core runs only evaluation and reverse mode, so its figures are shown apart,
  labelled, and never ranked against Python's.

Two times differ only **beyond the noise** (``faster``): the faster one's best sample,
raised by the larger relative spread of the two (at least ``NOISE_FLOOR``), is still below
the slower one's best. With a single sample the spread is unknown and the margin is
``UNKNOWN_MARGIN``.
"""

from __future__ import annotations

import math
import statistics
import time
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any, Callable

from backprop.engine.backends import FLOAT

DEFAULT_REPEATS = 5
TIME_BUDGET = 1.0  # seconds: stop repeating a measurement once this much was spent
SAMPLE_SECONDS = 0.002  # a shorter call is looped within a sample until one lasts this long
MAX_LOOPS = 10_000
NOISE_FLOOR = 0.25  # two medians within 25% of each other are never called different
UNKNOWN_MARGIN = 1.0  # one sample: its spread is unknown, so only a factor of 2 differs

# The pure-Python engine: FLOAT's own functions under another name. The compiled core
# serves the backend FLOAT itself only (engine/evaluate.py, engine/modes/reverse.py), so
# on PYTHON every mode runs the reference Python loops, with the same arithmetic, bit for
# bit (tests/test_timing.py).
PYTHON = SimpleNamespace(**vars(FLOAT))


@dataclass(frozen=True)
class Timing:
    """k samples of one call: the median (``seconds``), the best, the quartiles, and how
    the samples were taken. Per call, in seconds."""

    seconds: float  # the median
    repeats: int  # k: samples taken (after the warm-up)
    best: float | None = None
    q1: float | None = None
    q3: float | None = None
    loops: int = 1  # calls per sample
    engine: str = "python"
    deviation: float | None = None  # the median absolute deviation from the median

    @property
    def median(self) -> float:
        return self.seconds

    @property
    def spread(self) -> float | None:
        """The median absolute deviation of the samples, in seconds (robust: one sample
        slowed by the machine's other work does not move it); None with one sample."""
        if self.repeats < 2 or self.deviation is None:
            return None
        return self.deviation

    @property
    def relative_spread(self) -> float | None:
        spread = self.spread
        if spread is None:
            return None
        return spread / self.seconds if self.seconds > 0 else 0.0

    def as_dict(self) -> dict:
        return {"median_seconds": self.seconds, "best_seconds": self.best,
                "q1_seconds": self.q1, "q3_seconds": self.q3, "spread_seconds": self.spread,
                "runs": self.repeats, "engine": self.engine}


def summarize(samples: list[float], loops: int = 1, engine: str = "python") -> Timing:
    """The Timing of per-call ``samples`` (seconds)."""
    ordered = sorted(samples)
    if len(ordered) >= 2:
        q1, _, q3 = statistics.quantiles(ordered, n=4, method="inclusive")
    else:
        q1 = q3 = ordered[0]
    median = statistics.median(ordered)
    deviation = statistics.median(abs(t - median) for t in ordered)
    return Timing(median, len(ordered), ordered[0], q1, q3, loops, engine, deviation)


def median_time(function: Callable[[], Any], repeats: int = DEFAULT_REPEATS,
                budget: float = TIME_BUDGET, engine: str = "python", *,
                warm: bool = True, result: Any = None) -> tuple[Any, Timing]:
    """Warm up, then time ``function`` in ``repeats`` samples (fewer once ``budget``
    seconds are spent, never fewer than one): its result and its Timing.

    After the warm-up one more call sets the loops per sample (a call of at least
    ``SAMPLE_SECONDS`` is itself the first sample).
    ``warm=False``: the caller has already made the first call and passes its ``result``.
    """
    start = time.perf_counter()
    if warm:
        result = function()
    spent = time.perf_counter() - start
    start = time.perf_counter()  # a warm call calibrates the loops
    function()
    first = time.perf_counter() - start
    spent += first
    samples: list[float] = []
    if first >= SAMPLE_SECONDS:  # long enough to read: it is the first sample
        loops = 1
        samples.append(first)
    else:
        loops = min(MAX_LOOPS, math.ceil(SAMPLE_SECONDS / max(first, 1e-7)))
    while len(samples) < max(1, repeats) and not (samples and spent >= budget):
        start = time.perf_counter()
        for _ in range(loops):
            function()
        elapsed = time.perf_counter() - start
        samples.append(elapsed / loops)
        spent += elapsed
    return result, summarize(samples, loops, engine)


def margin(a: Timing, b: Timing) -> float:
    """The relative difference two times must exceed to differ (module docstring)."""
    spreads = [t.relative_spread for t in (a, b)]
    if any(s is None for s in spreads):
        return max([UNKNOWN_MARGIN] + [s for s in spreads if s is not None])
    return max([NOISE_FLOOR] + spreads)


def faster(a: Timing, b: Timing) -> bool:
    """Is ``a`` faster than ``b`` beyond the noise of both? Best against best: the
    fastest sample is what the machine's other work disturbed least."""
    return _best(a) * (1 + margin(a, b)) < _best(b)


def _best(timing: Timing) -> float:
    return timing.best if timing.best is not None else timing.seconds
