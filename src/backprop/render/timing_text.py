"""How a measured time reads (jobs/timing.py's ``Timing``), the same in every view."""

from __future__ import annotations

from backprop.render.numbers import counted, fmt_seconds

ENGINES = {"python": "pure Python", "compiled": "compiled core", "sympy": "SymPy"}


def timing_text(timing) -> str:
    """``5 µs ±1 µs (5 runs, pure Python)``: a median, its spread, k and the engine."""
    if timing is None:
        return "-"
    spread = "" if timing.spread is None else f" ±{fmt_seconds(timing.spread)}"
    return (f"{fmt_seconds(timing.seconds)}{spread} ({counted(timing.repeats, 'run')}, "
            f"{ENGINES.get(timing.engine, timing.engine)})")


def timing_caption(details: dict) -> str | None:
    """Under a table of modes' times: how they were taken, and on which engine."""
    if not details:
        return None
    engines = sorted({ENGINES.get(t.engine, t.engine) for t in details.values()})
    alike = " (every mode alike)" if len(details) > 1 and len(engines) == 1 else ""
    return (f"time: the median of the runs after a warm-up (--repeat), on the "
            f"{' and '.join(engines)} engine{alike}; best, spread and runs in --json")


def timing_document(timing) -> dict | None:
    """A Timing in JSON (floats as they are; None where unknown)."""
    return None if timing is None else timing.as_dict()
