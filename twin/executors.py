"""Run many independent tasks and yield their outcomes as they complete: in this process, on a
local process pool, or on a Dask cluster (``dask.distributed``), behind one interface.

>>> with make_executor(jobs=2) as ex:                     # doctest: +SKIP
...     for outcome in ex.map_unordered(work, tasks):
...         print(outcome.task, outcome.value, outcome.error)

* :class:`InProcess`: ``--jobs 1``; the tasks run one after another in this process.
* :class:`ProcessPool`: ``--jobs N`` on this machine; the workers end with this process, even
  when it is killed (:func:`twin.safety.exit_with_parent`), and an interrupt (Ctrl-C, SIGTERM)
  terminates them at once (:func:`twin.safety.stop_pool`).
* :class:`DaskCluster`: ``--scheduler tcp://HOST:PORT`` uses a running cluster (its workers are
  not stopped at the end); ``--scheduler local`` starts a ``LocalCluster`` of ``jobs`` worker
  processes with one thread each, closed at the end and on an interrupt.

Every backend keeps at most :data:`WINDOW_PER_WORKER` tasks per worker in flight, so a study of
thousands of runs holds only a few tasks and results in the client's memory at a time. A task
that raises does not stop the others: its :class:`Outcome` carries the exception.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass
from typing import Any

from twin.safety import exit_with_parent, stop_pool

WINDOW_PER_WORKER = 6
"""Tasks submitted per worker ahead of the results [-]: enough to keep every worker busy while
the client handles a result, few enough that client memory does not grow with the study. 6, not
2: on 500 runs of a 7-day demo (0.1 s each) the Dask local cluster reached 84 % of the process
pool's throughput with 6 and 77 % with 2 (benchmarks/README.md); the round trip to the scheduler
left workers idle."""


@dataclass
class Outcome:
    """What became of one task: its return ``value``, or the ``error`` it raised."""

    task: Any
    value: Any = None
    error: BaseException | None = None


class Executor:
    """Runs tasks; use as a context manager so that the workers it started end with it."""

    name = "executor"
    workers = 1

    def map_unordered(self, fn: Callable[[Any], Any], tasks: Iterable[Any]) -> Iterator[Outcome]:
        """Run ``fn(task)`` for every task; yield an :class:`Outcome` per task as it completes
        (in any order)."""
        raise NotImplementedError

    def close(self, failed: bool = False) -> None:
        """Release the workers; ``failed`` (an interrupt or error): stop them at once."""

    def describe(self) -> str:
        """A few words for the log, e.g. ``"local process pool, 2 workers"``."""
        return f"{self.name}, {self.workers} worker{'s' if self.workers != 1 else ''}"

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        self.close(failed=exc_type is not None)


class InProcess(Executor):
    """Every task in this process, one after another."""

    name = "this process"

    def map_unordered(self, fn: Callable[[Any], Any], tasks: Iterable[Any]) -> Iterator[Outcome]:
        for task in tasks:
            try:
                value = fn(task)
            except Exception as exc:  # reported per task, like the other backends
                yield Outcome(task, error=exc)
            else:
                yield Outcome(task, value)


class ProcessPool(Executor):
    """``jobs`` worker processes on this machine (``concurrent.futures``)."""

    name = "local process pool"

    def __init__(self, jobs: int, warm_up: Callable[[], None] | None = None):
        self.workers = max(1, int(jobs))
        if warm_up is not None:
            warm_up()  # import heavy modules once here, before the workers fork
        self._pool = ProcessPoolExecutor(max_workers=self.workers, initializer=exit_with_parent,
                                         initargs=(os.getpid(),))

    def map_unordered(self, fn: Callable[[Any], Any], tasks: Iterable[Any]) -> Iterator[Outcome]:
        pending: dict[Any, Any] = {}
        todo = iter(tasks)
        window = self.workers * WINDOW_PER_WORKER

        def top_up() -> None:
            while len(pending) < window:
                task = next(todo, _END)
                if task is _END:
                    return
                pending[self._pool.submit(fn, task)] = task

        top_up()
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for fut in done:
                task = pending.pop(fut)
                exc = fut.exception()
                yield Outcome(task, error=exc) if exc is not None else Outcome(task, fut.result())
            top_up()

    def close(self, failed: bool = False) -> None:
        if failed:
            stop_pool(self._pool)  # cancel what has not started, terminate the workers
        else:
            self._pool.shutdown(wait=True)


class DaskCluster(Executor):
    """Tasks on a Dask cluster: ``address`` ``"local"`` starts a ``LocalCluster`` of ``jobs``
    processes (one thread each) that ends with this executor; ``tcp://HOST:PORT`` connects to a
    running scheduler, whose workers are left running."""

    name = "Dask"

    def __init__(self, address: str, jobs: int | None = None, timeout_s: float = 30.0):
        try:
            from distributed import Client, LocalCluster
        except ImportError as exc:  # pragma: no cover (a dependency of the package)
            raise ExecutorError(f"--scheduler {address}: dask.distributed is not installed "
                                f"({exc}); pip install distributed") from None
        self.address = address
        self._cluster = None
        try:
            if address == "local":
                self._cluster = LocalCluster(
                    n_workers=max(1, int(jobs or os.cpu_count() or 1)), threads_per_worker=1,
                    processes=True, dashboard_address=None, silence_logs=40)
                self._client = Client(self._cluster, timeout=timeout_s)
                self.name = "Dask local cluster"
            else:
                self._client = Client(address, timeout=timeout_s)
                self.name = f"Dask cluster {address}"
        except OSError as exc:
            self.close(failed=True)
            raise ExecutorError(f"--scheduler {address}: cannot connect to a Dask scheduler "
                                f"({exc}); expected tcp://HOST:PORT of a running "
                                f"'dask scheduler', or 'local'") from None
        self.workers = max(1, len(self._client.scheduler_info(n_workers=-1).get("workers", {}))
                           if address != "local" else int(jobs or os.cpu_count() or 1))

    def map_unordered(self, fn: Callable[[Any], Any], tasks: Iterable[Any]) -> Iterator[Outcome]:
        from distributed import as_completed

        todo = iter(tasks)
        window = self.workers * WINDOW_PER_WORKER
        pending: dict[str, Any] = {}
        stream = as_completed()

        def submit() -> bool:
            task = next(todo, _END)
            if task is _END:
                return False
            fut = self._client.submit(fn, task, pure=False)
            pending[fut.key] = task
            stream.add(fut)
            return True

        for _ in range(window):
            if not submit():
                break
        for fut in stream:
            task = pending.pop(fut.key)
            try:
                value = fut.result()
            except Exception as exc:  # the run's own error, re-raised here by distributed
                yield Outcome(task, error=exc)
            else:
                yield Outcome(task, value)
            fut.release()
            submit()

    def close(self, failed: bool = False) -> None:
        client = getattr(self, "_client", None)
        if client is not None:
            client.close()
        if self._cluster is not None:
            self._cluster.close()  # stops the worker processes this client started


class ExecutorError(ValueError):
    """A scheduler that cannot be used (a clear one-line message for the command line)."""


_END = object()


def make_executor(jobs: int | None = None, scheduler: str | None = None, tasks: int | None = None,
                  warm_up: Callable[[], None] | None = None) -> Executor:
    """The executor for ``--jobs``/``--scheduler``: Dask when ``scheduler`` is given, else this
    process for one job (or one task), else a local process pool of ``jobs`` (default the number
    of cores, at most ``tasks``)."""
    if scheduler:
        if scheduler != "local" and not scheduler.startswith(("tcp://", "tls://", "inproc://",
                                                              "ucx://", "ws://", "wss://")):
            raise ExecutorError(f"--scheduler {scheduler}: expected 'local' or the address of "
                                f"a Dask scheduler such as tcp://10.0.0.5:8786")
        return DaskCluster(scheduler, jobs)
    n = max(1, int(jobs) if jobs else (os.cpu_count() or 1))
    if tasks is not None:
        n = min(n, max(1, tasks))
    if n == 1:
        return InProcess()
    return ProcessPool(n, warm_up)
