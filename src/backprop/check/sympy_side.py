"""SymPy on the second core, and every piece of SymPy work under a deadline.

Importing SymPy takes a quarter of a second, more than all of our own start-up, and only
the formulas and the check need it. So ``start()`` forks a child that imports SymPy at
once and then waits for one job, while this process goes on parsing and sweeping. ``run``
hands the work to that child (pickled through a pipe), or forks a fresh child for it, and
waits for the answer until a deadline: then the child is killed and ``TimedOut`` raised.
SymPy can spend minutes inside one call (evaluating e^(e^(6.4e11)) to order a sum's
terms) where no Python signal reaches it; killing a process always works.

No child outlives this process: on Linux the kernel kills it when we die, even by SIGKILL
(prctl PR_SET_PDEATHSIG); SIGTERM here kills it first; normal exit, exceptions and Ctrl-C
kill it in ``run``'s ``finally`` or at exit. An error raised on the side is raised here.
Where fork does not exist, ``run`` calls the function here under a SIGALRM timer.
"""

from __future__ import annotations

import atexit
import os
import pickle
import select
import signal
import time

_child: tuple[int, int, int] | None = None  # (pid, job pipe to write, answer pipe to read)
_live: set[int] = set()  # pids of our children that are still running
_previous_sigterm = None  # the SIGTERM handler before ours, while a child lives


class TimedOut(Exception):
    """The side work did not finish before its deadline (the child was killed)."""


class Died(Exception):
    """The side process ended without an answer (a crash in SymPy or in C code)."""


def start() -> None:
    """Fork the child that imports SymPy (once; a no-op where fork does not exist)."""
    global _child
    if _child is not None or not hasattr(os, "fork"):
        return
    _child = _fork(None)
    atexit.register(_stop)


def _fork(work) -> tuple[int, int, int]:
    """A child that runs ``work`` (fn, args), or imports SymPy and reads its job if None."""
    job_read, job_write = os.pipe()
    answer_read, answer_write = os.pipe()
    parent = os.getpid()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        os.close(job_write)
        os.close(answer_read)
        _serve(parent, work, job_read, answer_write)
    os.close(job_read)
    os.close(answer_write)
    _live.add(pid)
    _guard_sigterm()
    return pid, job_write, answer_read


def _die_with(parent: int) -> None:
    """Ask the kernel to SIGKILL this process when ``parent`` dies (Linux), and exit now if
    it already has."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:
        os._exit(1)


def _serve(parent: int, work, job_read: int, answer_write: int) -> None:
    code = 0
    try:
        _die_with(parent)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)  # not the parent's handler
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
        quiet = os.open(os.devnull, os.O_RDWR)  # the parent's pipes close when it exits
        for fd in (0, 1, 2):
            os.dup2(quiet, fd)
        if work is None:
            import sympy  # noqa: F401  (the reason this process exists)

            job = _read_all(job_read)
            if not job:
                return
            work = pickle.loads(job)
        fn, args = work
        try:
            answer = pickle.dumps((True, fn(*args)))
        except Exception as error:  # raised again in the parent
            try:
                answer = pickle.dumps((False, error))
            except Exception:
                answer = pickle.dumps((False, RuntimeError(f"{type(error).__name__}: {error}")))
        _write_all(answer_write, answer)
    except BaseException:
        code = 1
    finally:
        os._exit(code)


def run(fn, *args, timeout: float | None = None, fresh: bool = False):
    """``fn(*args)`` on the side, killed after ``timeout`` seconds (``TimedOut``).

    ``fresh``: fork a child that inherits the arguments rather than pickle them to the
    started one (a large graph). Without a started child and without a timeout, a plain
    call here."""
    global _child
    child, _child = _child, None
    job = None
    if child is not None:
        try:
            if fresh:
                raise ValueError("large job")
            job = pickle.dumps((fn, args))
        except Exception:  # not picklable: a fresh child inherits it instead
            _close(child)
            child = None
    if child is None:
        if timeout is None:
            return fn(*args)
        if not hasattr(os, "fork"):
            return _here(fn, args, timeout)
        child = _fork((fn, args))
    pid, job_write, answer_read = child
    deadline = None if timeout is None or timeout <= 0 else time.monotonic() + timeout
    try:
        if job is not None:
            _write_all(job_write, job)
        os.close(job_write)
        job_write = -1
        answer = _read_all(answer_read, deadline)
    except OSError:
        answer = b""
    finally:  # also on Ctrl-C or any error while waiting: the child goes with it
        if job_write >= 0:
            os.close(job_write)
        os.close(answer_read)
        _end(pid)
    try:
        ok, value = pickle.loads(answer)
    except Exception:
        raise Died("the SymPy process ended without an answer") from None
    if ok:
        return value
    raise value


def _here(fn, args, timeout: float):
    from backprop.check.deadline import time_limit

    with time_limit(timeout):
        return fn(*args)


def _stop() -> None:
    """At exit: a child that was never given its job is not left running."""
    global _child
    if _child is not None:
        child, _child = _child, None
        _close(child)


def _close(child: tuple[int, int, int]) -> None:
    pid, job_write, answer_read = child
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
    _live.discard(pid)
    if not _live:
        _unguard_sigterm()


def _on_sigterm(signum, frame) -> None:
    """SIGTERM (a CI job's timeout): kill the children, then die of SIGTERM (exit 143)."""
    for pid in list(_live):
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    os.kill(os.getpid(), signal.SIGTERM)


def _guard_sigterm() -> None:
    global _previous_sigterm
    if _previous_sigterm is None:
        try:
            _previous_sigterm = signal.signal(signal.SIGTERM, _on_sigterm)
        except ValueError:  # not the main thread: the kernel's death signal still holds
            pass


def _unguard_sigterm() -> None:
    global _previous_sigterm
    if _previous_sigterm is not None:
        try:
            signal.signal(signal.SIGTERM, _previous_sigterm)
        except ValueError:
            pass
        _previous_sigterm = None


def _read_all(fd: int, deadline: float | None = None) -> bytes:
    chunks = []
    while True:
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                raise TimedOut()
        chunk = os.read(fd, 1 << 16)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]
