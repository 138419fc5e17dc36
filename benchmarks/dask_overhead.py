"""Where a Dask study's time goes, apart from the runs: the size and pickling time of one run's
task, Dask's CPU per Dask task (no-op tasks, one run per task against batches), and the CPU a
local cluster burns while idle (its event-loop ticks, monitors and profiler).

Usage: python benchmarks/dask_overhead.py [--tasks 400] [--batch 8] [--idle-s 10]

Printed: the pickled size of a demo-plant run's task and its pickle/unpickle time [ms]; for
batches of 1 and of ``--batch`` tasks (alternated, twice), the wall time per task and the CPU
per task of the client process (which holds the scheduler of a local cluster) and of the worker
processes (with their nannies); and the idle CPU of the cluster as a share of one core, with the
Dask settings of ``--scheduler local`` (:data:`twin.executors.LOCAL_CLUSTER_CONFIG`) and with
Dask's defaults. CPU figures hold up on a busy machine better than wall times; still, quote the
medians of a few runs.
"""

from __future__ import annotations

import argparse
import pickle
import tempfile
import time
from pathlib import Path

import psutil
from study_dask import write_study


def _noop(task: int) -> str:
    return "k" * 3000  # about the size of a run's kpis.json text


def _children_cpu(me: psutil.Process) -> float:
    total = 0.0
    for k in me.children(recursive=True):
        try:
            t = k.cpu_times()
        except psutil.Error:
            continue
        total += t.user + t.system
    return total


def payload() -> None:
    """Size and pickling time of one run's task (the demo plant)."""
    from twin.config.study import load_study
    from twin.study import _Task
    from twin.study_runs import RunJob

    with tempfile.TemporaryDirectory() as tmp:
        res = load_study(write_study(Path(tmp), 5, 5, 1))
        s = next(iter(res.plants))
        job = RunJob(_Task(s, 0, res.plant_for(s, 0), 1.0, res.start(), 1, ""), "k" * 64, "x")
    blob = pickle.dumps(job)
    t0 = time.perf_counter()
    for _ in range(200):
        pickle.dumps(job)
    t1 = time.perf_counter()
    for _ in range(200):
        pickle.loads(blob)
    t2 = time.perf_counter()
    print(f"one run's task: {len(blob):,} bytes pickled; pickle {(t1 - t0) * 5:.2f} ms, "
          f"unpickle {(t2 - t1) * 5:.2f} ms")


def per_task(n: int, batch: int) -> None:
    """CPU per task of the client (+ scheduler) and the workers, batches of 1 and ``batch``."""
    from twin.executors import DaskCluster

    me = psutil.Process()
    with DaskCluster("local", 2) as ex:
        list(ex.map_unordered(_noop, range(8)))
        for b in (1, batch, 1, batch):
            ex.batch = b
            c0, k0, t0 = time.process_time(), _children_cpu(me), time.perf_counter()
            for _ in ex.map_unordered(_noop, range(n)):
                pass
            c1, k1, t1 = time.process_time(), _children_cpu(me), time.perf_counter()
            print(f"batches of {b:2d}: {1e3 * (t1 - t0) / n:6.2f} ms wall per task; CPU per "
                  f"task: client + scheduler {1e3 * (c1 - c0) / n:.2f} ms, workers + nannies "
                  f"{1e3 * (k1 - k0) / n:.2f} ms", flush=True)


def idle(seconds: float, defaults: bool) -> None:
    """CPU of an idle two-worker local cluster [% of one core]."""
    import twin.executors as ex_mod

    saved = dict(ex_mod.LOCAL_CLUSTER_CONFIG)
    if defaults:
        ex_mod.LOCAL_CLUSTER_CONFIG.clear()
    try:
        me = psutil.Process()
        with ex_mod.DaskCluster("local", 2):
            time.sleep(2)
            c0, k0, t0 = time.process_time(), _children_cpu(me), time.perf_counter()
            time.sleep(seconds)
            c1, k1, t1 = time.process_time(), _children_cpu(me), time.perf_counter()
    finally:
        ex_mod.LOCAL_CLUSTER_CONFIG.update(saved)
    what = "Dask defaults" if defaults else "LOCAL_CLUSTER_CONFIG"
    print(f"idle cluster ({what}): client + scheduler {100 * (c1 - c0) / (t1 - t0):.1f} % of a "
          f"core, workers + nannies {100 * (k1 - k0) / (t1 - t0):.1f} %", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tasks", type=int, default=400)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--idle-s", type=float, default=10.0)
    args = ap.parse_args()
    payload()
    per_task(args.tasks, args.batch)
    idle(args.idle_s, defaults=False)
    idle(args.idle_s, defaults=True)


if __name__ == "__main__":
    main()
