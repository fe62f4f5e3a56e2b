"""Time limits inside the check: the in-process timer for a side question, which raises
the same exception the side process raises when it is killed at its deadline."""

from __future__ import annotations

import signal
import threading
from contextlib import contextmanager

from backprop.check import sympy_side

QUICK = 1.0  # seconds for one side question (is this value finite?) inside the check

CheckTimeout = sympy_side.TimedOut  # what the in-process timer raises, as the side does


@contextmanager
def time_limit(seconds: float):
    """Raise CheckTimeout after ``seconds`` (a no-op off the main thread or without
    SIGALRM; C code that never returns to Python is not interrupted: sympy_side kills)."""
    if seconds <= 0 or not hasattr(signal, "setitimer") \
            or threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(signum, frame):
        raise CheckTimeout()

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
