"""SymPy on the second core: a forked process imports SymPy while backprop starts up.

Importing SymPy takes a quarter of a second, more than all of our own start-up, and only
the formulas and the check need it. So ``start()`` forks a child that imports SymPy at
once and then waits for one job, while this process goes on parsing and sweeping; ``run``
hands the SymPy work to the child (pickled through a pipe) and waits for its answer.

Whatever goes wrong on the side (no fork on this system, a child that died, an error in the
job, a result that does not pickle), ``run`` calls the function here instead, so the
answer, or the error, is always the one the in-process call gives.
"""

from __future__ import annotations

import atexit
import os
import pickle
import signal

_child: tuple[int, int, int] | None = None  # (pid, job pipe to write, answer pipe to read)


def start() -> None:
    """Fork the child that imports SymPy (once; a no-op where fork does not exist)."""
    global _child
    if _child is not None or not hasattr(os, "fork"):
        return
    job_read, job_write = os.pipe()
    answer_read, answer_write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        os.close(job_write)
        os.close(answer_read)
        _serve(job_read, answer_write)
    os.close(job_read)
    os.close(answer_write)
    _child = (pid, job_write, answer_read)
    atexit.register(_stop)


def _serve(job_read: int, answer_write: int) -> None:
    code = 0
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
        quiet = os.open(os.devnull, os.O_RDWR)  # the parent's pipes close when it exits
        for fd in (0, 1, 2):
            os.dup2(quiet, fd)
        import sympy  # noqa: F401  (the reason this process exists)

        job = _read_all(job_read)
        if job:
            fn, args = pickle.loads(job)
            answer = pickle.dumps((True, fn(*args)))
            _write_all(answer_write, answer)
    except BaseException:  # the parent runs the job itself and meets the error there
        code = 1
    finally:
        os._exit(code)


def run(fn, *args):
    """``fn(*args)``, in the SymPy child when one was started, else here."""
    global _child
    child, _child = _child, None
    if child is None:
        return fn(*args)
    pid, job_write, answer_read = child
    try:
        _write_all(job_write, pickle.dumps((fn, args)))
        os.close(job_write)
        job_write = -1
        answer = _read_all(answer_read)
        ok, value = pickle.loads(answer) if answer else (False, None)
    except (OSError, pickle.PickleError, AttributeError, TypeError, EOFError):
        ok, value = False, None
    finally:  # also on Ctrl-C while waiting: the child goes with it
        if job_write >= 0:
            os.close(job_write)
        os.close(answer_read)
        _end(pid)
    return value if ok else fn(*args)


def _stop() -> None:
    """At exit: a child that was never given its job is not left running."""
    global _child
    if _child is not None:
        pid, job_write, answer_read = _child
        _child = None
        os.close(job_write)
        os.close(answer_read)
        _end(pid)


def _end(pid: int) -> None:
    """Kill the child (a no-op once it has exited) and reap it."""
    try:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    except OSError:
        pass


def _read_all(fd: int) -> bytes:
    chunks = []
    while chunk := os.read(fd, 1 << 16):
        chunks.append(chunk)
    return b"".join(chunks)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]
