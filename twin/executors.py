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

Every backend keeps only a few tasks per worker in flight (:data:`WINDOW_PER_WORKER`), so a
study of thousands of runs holds only a few tasks and results in the client's memory at a time,
and the client keeps no reference to an outcome once it has been yielded. A task that raises does
not stop the others: its :class:`Outcome` carries the exception.

Dask sends tasks in **batches** (one Dask task runs several of ours, :func:`run_batch`): the
scheduler's and worker's own work per Dask task (a few ms of CPU on each side, measured in
benchmarks/README.md) would otherwise cost 5-8 % of a 0.1 s run. The batch size follows the CPU
time of the last batch (batches of about :data:`BATCH_TARGET_S`, at most :data:`MAX_BATCH`
tasks, :func:`batch_size`) and shrinks towards the end, so that no worker idles while another
finishes a long batch (guided scheduling: at most 1/:data:`GUIDE` of a worker's share of the
tasks left). :data:`BATCHES_PER_WORKER` batches per worker are in flight. Data every task
needs (``shared``, e.g. the bytes of the plant's data files) is scattered to every worker once.
"""

from __future__ import annotations

import contextlib
import math
import os
import pickle
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass
from functools import partial
from typing import Any

from twin.safety import exit_with_parent, stop_pool

WINDOW_PER_WORKER = 6
"""Tasks submitted per worker ahead of the results [-]: enough to keep every worker busy while
the client handles a result, few enough that client memory does not grow with the study. 6, not
2: on 500 runs of a 7-day demo (0.1 s each) the Dask local cluster reached 84 % of the process
pool's throughput with 6 and 77 % with 2 (benchmarks/README.md); the round trip to the scheduler
left workers idle. (The process pool's window; Dask keeps :data:`BATCHES_PER_WORKER` batches.)"""

BATCHES_PER_WORKER = 2
"""Dask: batches in flight per worker [-]: one running and one waiting on the worker (Dask's
default worker saturation sends 2 tasks to a one-thread worker), so no worker waits for the
scheduler between batches."""

BATCH_TARGET_S = 1.0
"""Dask: aimed CPU time of one batch on its worker [s]. Per Dask task, the scheduler, client and
worker spend 5-8 ms of CPU (benchmarks/README.md, 'Dask studies: where the time went'); against
1 s of runs that is under 1 %. CPU time, not wall time: on a busy machine a run's wall time grows
with the load, its CPU time much less."""

MAX_BATCH = 32
"""Dask: most tasks in one batch [-] (bounds the results held at once: 32 KPI texts)."""

GUIDE = 4
"""Dask: a batch holds at most 1/GUIDE of a worker's share of the tasks not yet sent [-], so the
batches shrink to single tasks at the end of a study (guided self-scheduling, Polychronopoulos
and Kuck, IEEE Trans. Computers 36(12), 1987)."""


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

    def map_unordered(self, fn: Callable[..., Any], tasks: Iterable[Any],
                      shared: Mapping[str, Any] | None = None) -> Iterator[Outcome]:
        """Run ``fn(task)`` for every task; yield an :class:`Outcome` per task as it completes
        (in any order). With ``shared``, run ``fn(task, shared)``: Dask sends ``shared`` to each
        worker once; the other backends pass it along (use it for what remote workers need)."""
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

    def map_unordered(self, fn: Callable[..., Any], tasks: Iterable[Any],
                      shared: Mapping[str, Any] | None = None) -> Iterator[Outcome]:
        if shared is not None:
            fn = partial(fn, shared=shared)
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

    def map_unordered(self, fn: Callable[..., Any], tasks: Iterable[Any],
                      shared: Mapping[str, Any] | None = None) -> Iterator[Outcome]:
        if shared is not None:
            fn = partial(fn, shared=shared)
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
                outcome = Outcome(task, error=exc) if exc is not None else \
                    Outcome(task, fut.result())
                del fut
                yield outcome
                del outcome  # the caller's to keep or drop
            top_up()

    def close(self, failed: bool = False) -> None:
        if failed:
            stop_pool(self._pool)  # cancel what has not started, terminate the workers
        else:
            self._pool.shutdown(wait=True)


class DaskCluster(Executor):
    """Tasks on a Dask cluster: ``address`` ``"local"`` starts a ``LocalCluster`` of ``jobs``
    processes (one thread each) that ends with this executor; ``tcp://HOST:PORT`` connects to a
    running scheduler, whose workers are left running.

    Tasks go in batches (:func:`run_batch`); ``batch`` fixes the number of tasks per batch
    (default: adaptive, see the module docstring). ``slots``: worker threads (one per worker
    process on a local cluster; ``dask worker --nthreads 1`` is the right setting for
    simulations, which hold the GIL). ``warm_up`` runs once on every worker before
    the first task (imports), as the process pool runs it before its workers fork."""

    name = "Dask"

    def __init__(self, address: str, jobs: int | None = None, timeout_s: float = 30.0,
                 warm_up: Callable[[], None] | None = None, batch: int | None = None):
        try:
            import dask
            from distributed import Client, LocalCluster
        except ImportError as exc:  # pragma: no cover (a dependency of the package)
            raise ExecutorError(f"--scheduler {address}: dask.distributed is not installed "
                                f"({exc}); pip install distributed") from None
        self.address = address
        self.batch = None if batch is None else max(1, int(batch))
        self._cluster = None
        try:
            if address == "local":
                with dask.config.set(LOCAL_CLUSTER_CONFIG):  # the workers inherit it
                    self._cluster = LocalCluster(
                        n_workers=max(1, int(jobs or os.cpu_count() or 1)),
                        threads_per_worker=1, processes=True, dashboard_address=None,
                        silence_logs=40)
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
        if address == "local":
            self.workers = self.slots = max(1, int(jobs or os.cpu_count() or 1))
        else:
            found = self._client.scheduler_info(n_workers=-1).get("workers", {})
            self.workers = max(1, len(found))
            self.slots = max(1, sum(int(w.get("nthreads", 1)) for w in found.values()))
        if warm_up is not None:
            with contextlib.suppress(Exception):  # only a head start: a run reports real errors
                self._client.run(warm_up)

    def held(self) -> int:
        """Futures this client still holds [-] (0 once :meth:`map_unordered` has finished)."""
        return len(self._client.futures)

    def map_unordered(self, fn: Callable[..., Any], tasks: Iterable[Any],
                      shared: Mapping[str, Any] | None = None) -> Iterator[Outcome]:
        from distributed import as_completed

        todo = list(tasks)
        todo.reverse()  # popped from the end: first task first
        client = self._client
        scattered = None
        if shared:  # keyed by content (a list, hashed), never by the names: two studies that
            names = list(shared)  # name different data alike cannot mix them up on a cluster
            scattered = dict(zip(names, client.scatter([shared[n] for n in names],
                                                       broadcast=True, hash=True), strict=True))
        in_flight = self.slots * BATCHES_PER_WORKER  # per thread of a multi-threaded worker
        pending: dict[str, list[Any]] = {}
        stream = as_completed()
        per_task = [math.inf]  # CPU seconds per task in the last batch (inf: none yet)

        def submit() -> None:
            if not todo:
                return
            n = self.batch or batch_size(per_task[0], len(todo), self.slots)
            batch = [todo.pop() for _ in range(min(n, len(todo)))]
            fut = client.submit(run_batch, fn, _packed(batch), scattered, pure=False)
            pending[fut.key] = batch
            stream.add(fut)

        try:
            for _ in range(in_flight):
                submit()
            for fut in stream:
                batch = pending.pop(fut.key)
                try:
                    results, seconds = fut.result()
                    per_task[0] = seconds / len(batch)
                except Exception as exc:  # the batch itself failed (e.g. a lost worker)
                    results = [(None, exc)] * len(batch)
                fut.release()
                del fut
                submit()
                for task, (value, error) in zip(batch, results, strict=True):
                    yield Outcome(task, error=error) if error is not None else \
                        Outcome(task, value)
                del results, batch, value  # nothing of a batch stays here once yielded
        finally:
            if scattered:
                client.cancel(list(scattered.values()))

    def close(self, failed: bool = False) -> None:
        client = getattr(self, "_client", None)
        if client is not None:
            client.close()
        if self._cluster is not None:
            self._cluster.close()  # stops the worker processes this client started


def batch_size(per_task_s: float, remaining: int, workers: int) -> int:
    """Tasks in the next Dask batch [-]: enough for :data:`BATCH_TARGET_S` of CPU at
    ``per_task_s`` CPU seconds per task (1 while unknown, ``inf``), at most :data:`MAX_BATCH`,
    and at most ``ceil(remaining / (workers * GUIDE))`` of the ``remaining`` tasks not yet sent,
    so that batches shrink to 1 towards the end; never below 1."""
    want = round(BATCH_TARGET_S / per_task_s) if per_task_s > 0 else MAX_BATCH
    guided = math.ceil(remaining / (max(1, workers) * GUIDE))
    return max(1, min(MAX_BATCH, want, guided))


LOCAL_CLUSTER_CONFIG: dict[str, Any] = {
    "distributed.worker.profile.enabled": False,
    "distributed.admin.tick.interval": "1s",
    "distributed.admin.system-monitor.interval": "2s",
    "distributed.worker.memory.monitor-interval": "1s",
}
"""Dask settings of a ``--scheduler local`` cluster: no statistical profiler in the workers (it
samples every thread's stack every 10 ms, for a dashboard nobody opens here)."""


def run_batch(fn: Callable[..., Any], tasks: list[Any] | bytes,
              shared: Mapping[str, Any] | None = None
              ) -> tuple[list[tuple[Any, BaseException | None]], float]:
    """Run ``fn`` on each task of a batch in a Dask worker: ``([(value, error), ...], seconds)``,
    one pair per task in order (``error`` the exception a task raised, as one that can be sent
    back), and the CPU seconds this thread spent in ``fn``. ``tasks``: a list, or the list
    pickled (:func:`_packed`: the scheduler passes bytes on without unpickling the tasks)."""
    if isinstance(tasks, bytes):
        tasks = pickle.loads(tasks)
    out: list[tuple[Any, BaseException | None]] = []
    t0 = time.thread_time()
    for task in tasks:
        try:
            value = fn(task) if shared is None else fn(task, shared=shared)
        except Exception as exc:  # reported per task, like the other backends
            out.append((None, _sendable(exc)))
        else:
            out.append((value, None))
    return out, time.thread_time() - t0


def _packed(tasks: list[Any]) -> bytes:
    """The tasks of a batch pickled here, so that the scheduler (in this process for a local
    cluster) passes opaque bytes to the worker instead of unpickling every plant it schedules."""
    try:
        return pickle.dumps(tasks, protocol=pickle.HIGHEST_PROTOCOL)
    except (pickle.PicklingError, AttributeError, TypeError):  # e.g. a lambda in a task
        import cloudpickle

        return cloudpickle.dumps(tasks)


def _sendable(exc: BaseException) -> BaseException:
    """``exc`` if it survives pickling, else a RuntimeError with its type and message."""
    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:
        return RuntimeError(f"{type(exc).__name__}: {exc}")
    return exc


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
        return DaskCluster(scheduler, jobs, warm_up=warm_up)
    n = max(1, int(jobs) if jobs else (os.cpu_count() or 1))
    if tasks is not None:
        n = min(n, max(1, tasks))
    if n == 1:
        return InProcess()
    return ProcessPool(n, warm_up)
