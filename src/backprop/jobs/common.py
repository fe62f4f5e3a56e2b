"""What every job shares: which modes a ``--mode`` names, running them under a limit, and
the node ids of the inputs differentiated by."""

from __future__ import annotations

import time
from typing import Any, Callable

from backprop.engine.modes import MODES
from backprop.errors import InputError, LimitError

MODE_CHOICES = (*MODES, "all")


def modes_for(mode: str) -> tuple[str, ...]:
    if mode not in MODE_CHOICES:
        raise InputError(f"unknown mode {mode!r}", hint="choose one of: " + ", ".join(MODE_CHOICES))
    return MODES if mode == "all" else (mode,)


def run_modes(modes: tuple[str, ...], run: Callable[[str], Any]) \
        -> tuple[dict[str, Any], dict[str, float], dict[str, str]]:
    """Run ``run(mode)`` for each mode: (results, seconds, refused).

    A mode over a limit (``run`` raises LimitError) is refused, with the limit's message,
    and the others still run; when it is the only mode asked for, the error stands.
    """
    results: dict[str, Any] = {}
    seconds: dict[str, float] = {}
    refused: dict[str, str] = {}
    for name in modes:
        start = time.perf_counter()
        try:
            results[name] = run(name)
        except LimitError as error:
            if len(modes) == 1:
                raise
            refused[name] = error.message
            continue
        seconds[name] = time.perf_counter() - start
    return results, seconds, refused


def input_ids(graph, names: list[str]) -> list[int]:
    """The node ids of the inputs ``names`` (as ``--wrt`` names them), in that order."""
    position = {name: k for k, name in enumerate(graph.input_names)}
    return [graph.inputs[position[n]] for n in names]
