"""Guards that keep a run from hanging or leaking: a stalled simulation clock, orphaned workers,
termination signals.

* :class:`StallGuard` stops a SimPy run whose clock stays at one instant while events pile up
  (a process that repeats in zero time), with a clear error instead of a hang and MemoryError.
  It watches from a daemon thread, so the event loop itself does no extra work.
* :func:`exit_with_parent` makes a worker process end when the process that started it dies,
  even by SIGKILL (``prctl(PR_SET_PDEATHSIG)`` on Linux, and everywhere a thread that watches
  ``os.getppid()``).
* :func:`terminate_as_interrupt` turns SIGTERM into :class:`KeyboardInterrupt`, so that a
  terminated command cleans up exactly as after Ctrl-C.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import re
import signal
import stat
import sys
import threading
from collections.abc import Iterator
from typing import Any

import simpy

MAX_EVENTS_PER_INSTANT = 2_000_000
"""Most events a run may process while its clock advances by less than :data:`MIN_ADVANCE_S`
before it is stopped [-]. A plan release of the largest accepted size takes a few events per
lot, far below this."""
MIN_ADVANCE_S = 1.0
"""Simulated time the clock must advance per :data:`MAX_EVENTS_PER_INSTANT` events [s]: also
catches a loop whose steps are positive but vanishing (an inter-arrival time of 1e-300 s)."""
CHECK_EVERY_S = 0.25
"""Wall-clock period of the guard's checks [s]."""


class SimulationStalled(RuntimeError):
    """The simulation clock stopped advancing: some process repeats in zero time."""


def _event_count(env: simpy.Environment) -> int:
    """Events scheduled so far, read without advancing SimPy's counter (``count(n)``)."""
    m = re.search(r"\d+", repr(env._eid))
    return int(m.group()) if m else 0


class StallGuard:
    """While active, fail the run when more than ``limit`` events pass while the clock advances
    by less than ``min_advance_s``.

    Use as a context manager around ``env.run(...)``. A daemon thread samples the clock and the
    event counter every :data:`CHECK_EVERY_S`; when ``limit`` events were scheduled since the
    clock was last at least ``min_advance_s`` further, it schedules a failed event, which SimPy
    raises from ``env.run`` as :class:`SimulationStalled` (SimPy raises a failed event nobody
    waits for). Cost on the event loop: none; the check reads two numbers four times a second.
    """

    def __init__(self, env: simpy.Environment, limit: int = MAX_EVENTS_PER_INSTANT,
                 period_s: float = CHECK_EVERY_S, min_advance_s: float = MIN_ADVANCE_S):
        self.env = env
        self.limit = limit
        self.period_s = period_s
        self.min_advance_s = min_advance_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> StallGuard:
        self._thread = threading.Thread(target=self._watch, name="twin-stall-guard", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def _watch(self) -> None:
        env = self.env
        since, start = env.now, _event_count(env)
        while not self._stop.wait(self.period_s):
            t, n = env.now, _event_count(env)
            if t - since >= self.min_advance_s:
                since, start = t, n
                continue
            if n - start > self.limit:
                ev = env.event()
                ev.fail(SimulationStalled(
                    f"the simulation clock stayed at {t:g} s ({t / 86400:.2f} days) for more "
                    f"than {self.limit:,} events: a process repeats in zero time (an "
                    f"inter-arrival, process or failure time that is always 0, or "
                    f"vanishingly small?)"))
                return


# ---------------------------------------------------------------------------------------------
# input files

MAX_DATA_FILE_BYTES = 256 * 1024 * 1024
"""Largest data file (weather, hourly grid factors) read [bytes]: a year of 1-minute rows is
under 100 MB."""


def file_problem(path: str | os.PathLike[str], what: str, limit: int) -> str | None:
    """What makes ``path`` unfit to be read as ``what`` (missing, a folder, a device or pipe such
    as ``/dev/zero`` that would never end, larger than ``limit`` bytes), or None. Never opens the
    file."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return "file not found"
    except OSError as exc:
        return f"cannot read file: {exc.strerror or type(exc).__name__}"
    if stat.S_ISDIR(st.st_mode):
        return f"is a folder; expected {what}"
    if not stat.S_ISREG(st.st_mode):
        return f"not a regular file (a device, pipe or socket); expected {what}"
    if st.st_size > limit:
        return f"file is {st.st_size:,} bytes; expected {what} of at most {limit:,} bytes"
    return None


def check_data_file(path: str | os.PathLike[str], what: str,
                    limit: int = MAX_DATA_FILE_BYTES) -> None:
    """Raise ValueError ``"<path>: <problem>"`` if :func:`file_problem` finds one."""
    problem = file_problem(path, what, limit)
    if problem is not None:
        raise ValueError(f"{path}: {problem}")


# ---------------------------------------------------------------------------------------------
# worker processes

PR_SET_PDEATHSIG = 1
"""Linux prctl option: the signal a process gets when its parent dies (prctl(2))."""


def _pdeathsig(sig: int) -> bool:
    """Ask Linux to send ``sig`` to this process when its parent dies; False elsewhere."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        return libc.prctl(PR_SET_PDEATHSIG, sig, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _watch_parent(parent: int, period_s: float) -> None:
    while True:
        threading.Event().wait(period_s)
        if os.getppid() != parent:  # re-parented to init or a subreaper: our parent is gone
            os._exit(1)


def exit_with_parent(parent: int | None = None, period_s: float = 0.5) -> None:
    """Make this (worker) process end when its parent process ends, even by SIGKILL.

    ``parent`` is the pid the worker belongs to (default: the current parent). On Linux the
    kernel sends SIGKILL at the parent's death (``PR_SET_PDEATHSIG``); a daemon thread checking
    ``os.getppid()`` every ``period_s`` seconds covers other systems, and the race where the
    parent died before the prctl call. SIGTERM ends the worker (the default action) and SIGINT
    is left to the parent. Use as a ``ProcessPoolExecutor`` initializer.
    """
    parent = os.getppid() if parent is None else parent
    # a forked worker inherits the parent's SIGTERM handler (an interrupt, which the pool
    # would catch per task): a worker told to terminate must terminate. Ctrl-C reaches the
    # whole process group: the parent handles it and stops the workers, which must not print
    # tracebacks of their own.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _pdeathsig(signal.SIGKILL)
    if os.getppid() != parent:
        os._exit(1)
    threading.Thread(target=_watch_parent, args=(parent, period_s), name="twin-parent-watch",
                     daemon=True).start()


def stop_pool(pool: Any) -> None:
    """Stop a ``ProcessPoolExecutor`` now: cancel what has not started and terminate the workers
    (SIGTERM, then SIGKILL after a second), instead of waiting for their runs to finish."""
    procs = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for p in procs:
        with contextlib.suppress(Exception):
            p.terminate()
    for p in procs:
        with contextlib.suppress(Exception):
            p.join(1.0)
            if p.is_alive():
                p.kill()
                p.join(1.0)


class Interrupted(KeyboardInterrupt):
    """An interrupt after an output was complete; ``str()`` says what was written."""


def _raise_interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


@contextlib.contextmanager
def terminate_as_interrupt() -> Iterator[None]:
    """Within the block, SIGTERM raises :class:`KeyboardInterrupt` like Ctrl-C (only in the main
    thread; elsewhere nothing changes)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)
