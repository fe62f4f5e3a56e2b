"""A progress bar on stderr for long jobs (``scale`` over many sizes, a large ``net``):
only when stderr is a terminal and the output is the terminal view, never with --json or
--csv, never piped. Jobs take a plain ``progress(done, total, label)`` callback (or None)
and know nothing of this."""

from __future__ import annotations

import os
import sys
from contextlib import contextmanager
from typing import Callable, Iterator, Optional

Progress = Callable[[int, int, str], None]


def wanted(output: str) -> bool:
    """Whether a bar may be shown: the terminal view, stderr a terminal (not TERM=dumb)."""
    try:
        tty = sys.stderr.isatty()
    except (AttributeError, ValueError):
        tty = False
    return output == "text" and tty and os.environ.get("TERM") != "dumb"


@contextmanager
def progress_bar(output: str, what: str) -> Iterator[Optional[Progress]]:
    """A callback that moves a bar on stderr, or None where no bar may be shown. The bar
    is gone when the job ends, before the result is printed."""
    if not wanted(output):
        yield None
        return
    from rich.console import Console
    from rich.progress import (BarColumn, MofNCompleteColumn, Progress as Bar, SpinnerColumn,
                               TextColumn, TimeElapsedColumn)

    console = Console(file=sys.stderr, highlight=False, emoji=False)
    with Bar(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
             MofNCompleteColumn(), TimeElapsedColumn(), console=console, transient=True,
             redirect_stdout=False, redirect_stderr=False) as bar:
        task = bar.add_task(what, total=None)

        def update(done: int, total: int, label: str) -> None:
            bar.update(task, completed=done, total=total, description=f"{what}: {label}")

        yield update
