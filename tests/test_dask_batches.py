"""Dask batches: several runs per Dask task, the data files sent once per worker, and a client
that keeps nothing of a run but its KPI row.

Truths checked: batches of 1 and 3 runs on a real two-worker cluster give the KPIs and hourly
tables of one process byte for byte, with the data file removed from its path (the workers use
the bytes scattered to them); once a study's runs are collected, no run's result object is alive
in the client and the client holds no Dask future; the batch-size rule by hand; a task that
raises an exception that cannot be pickled comes back as a readable error, the others intact.
"""

from __future__ import annotations

import gc
import json
import math
import time
import weakref
from collections import Counter
from pathlib import Path

import pytest
from test_own_factors import _write as write_factors
from test_study import PLANT, write_study
from test_study_scale import STUDY_2X2

from twin.config.study import load_study
from twin.executors import (
    BATCH_TARGET_S,
    GUIDE,
    MAX_BATCH,
    DaskCluster,
    InProcess,
    batch_size,
    run_batch,
)
from twin.study import _Task
from twin.study_runs import RunJob, data_files, execute


@pytest.fixture(scope="module")
def address():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None, silence_logs=40) as cluster:
        yield cluster.scheduler_address


def _jobs(tmp_path: Path) -> tuple[list[RunJob], dict[str, bytes]]:
    """The 4 runs (2 scenarios x 2 replications, 2 days) of a study whose plant reads an hourly
    grid-factor file, to be packed (not written); the file's bytes; the file itself removed."""
    write_factors(tmp_path, hours=7 * 24)
    f = write_study(tmp_path, STUDY_2X2.replace("days: 7", "days: 2") % 2.0,
                    plant=PLANT + "carbon: {hourly_factor_file: grid/intensity.csv}\n")
    resolved = load_study(f)
    jobs = [RunJob(_Task(s, k, resolved.plant_for(s, k), 2.0, resolved.start(),
                         resolved.seed() + k, ""), f"{s}-rep{k}", None)
            for s in resolved.plants for k in range(2)]
    [path] = {p for j in jobs for p in data_files(j.task.plant)}
    shared = {path: Path(path).read_bytes()}
    Path(path).unlink()  # only the shipped bytes can feed the runs now
    return jobs, shared


def _results(outcomes) -> dict[str, tuple[dict, bytes]]:
    got = {}
    for o in outcomes:
        assert o.error is None, o.error
        files = dict(o.value.folder_files)
        got[o.task.key] = (json.loads(o.value.kpis_json), files["hourly.parquet"])
    return got


def _wait_released(ex: DaskCluster) -> int:
    deadline = time.monotonic() + 10  # a release reaches the client's event loop a bit later
    while ex.held() and time.monotonic() < deadline:
        time.sleep(0.05)
    return ex.held()


def test_batches_of_any_size_give_the_runs_of_one_process(tmp_path, address):
    jobs, shared = _jobs(tmp_path)
    one = _results(InProcess().map_unordered(execute, jobs, shared))
    assert len(one) == 4
    assert one["base-rep0"][0]["co2_scope2_location_kg"] > 0
    for n in (1, 3):  # 4 batches of 1; a batch of 3 and one of 1
        with DaskCluster(address, batch=n) as ex:
            assert _results(ex.map_unordered(execute, jobs, shared)) == one, n
            assert _wait_released(ex) == 0


class _Watched:
    """An executor that passes a Dask cluster's outcomes on and keeps a weak reference to each
    run's result object."""

    def __init__(self, inner: DaskCluster):
        self.inner = inner
        self.refs: list[weakref.ref] = []

    def map_unordered(self, fn, tasks, shared=None):
        for outcome in self.inner.map_unordered(fn, tasks, shared):
            self.refs.append(weakref.ref(outcome.value))
            yield outcome


def test_client_keeps_only_kpi_rows_of_collected_runs(tmp_path, address):
    from twin.study import _collect

    jobs, shared = _jobs(tmp_path)
    rows: dict[str, dict[str, float]] = {}
    cache = tmp_path / "cache"
    with DaskCluster(address, batch=2) as ex:
        watched = _Watched(ex)
        failures = _collect(watched, jobs, cache, rows, Counter(j.key for j in jobs), 0, None,
                            shared)
        gc.collect()
        assert failures == [] and sorted(rows) == sorted(j.key for j in jobs)
        assert len(watched.refs) == 4
        assert [r for r in watched.refs if r() is not None] == []  # no result object alive
        assert _wait_released(ex) == 0  # and no future held by the client
    for j in jobs:  # what was dropped was written first
        assert json.loads((cache / j.key / "kpis.json").read_text()) \
            ["co2_scope2_location_kg"] == rows[j.key]["co2_scope2_location_kg"]


def test_batch_size_by_hand():
    assert (BATCH_TARGET_S, GUIDE, MAX_BATCH) == (1.0, 4, 32)
    assert batch_size(math.inf, 500, 2) == 1  # no run measured yet
    assert batch_size(0.1, 500, 2) == 10  # 1 s / 0.1 s
    assert batch_size(0.12, 500, 2) == 8  # round(8.33)
    assert batch_size(0.001, 5000, 2) == 32  # 1000 wanted, capped
    assert batch_size(0.1, 20, 2) == 3  # guided: ceil(20 / (2 x 4))
    assert batch_size(0.1, 9, 2) == 2  # ceil(9 / 8)
    assert batch_size(0.1, 8, 2) == 1
    assert batch_size(3.0, 500, 2) == 1  # long runs: one per batch
    assert batch_size(0.1, 500, 100) == 2  # ceil(500 / 400): many workers, small batches


def _fails_on_two(x: int) -> int:
    if x == 2:
        exc = ValueError("two")
        exc.callback = lambda: None  # cannot be pickled, so cannot be sent back as it is
        raise exc
    return 10 * x


def test_a_failing_task_in_a_batch_comes_back_readable():
    import pickle

    results, cpu_s = run_batch(_fails_on_two, [1, 2, 3])
    assert [v for v, _ in results] == [10, None, 30]
    err = results[1][1]
    assert isinstance(err, RuntimeError) and str(err) == "ValueError: two"
    pickle.dumps(results)  # the whole batch can travel
    assert 0 <= cpu_s < 5


def test_kpi_rows_give_back_each_run_as_written_in_a_fraction_of_a_dict():
    import tracemalloc

    from twin.study_runs import KpiRows

    rows = KpiRows()
    rows["a"] = {"x": 1.5, "y": math.nan, "stations.press.energy_kwh": -2.0}
    rows["b"] = {"z": 3.0, "x": 4.0}  # other KPIs, another order
    assert list(rows["b"].items()) == [("z", 3.0), ("x", 4.0)]
    a = rows["a"]
    assert list(a) == ["x", "y", "stations.press.energy_kwh"] and math.isnan(a["y"])
    assert (a["x"], a["stations.press.energy_kwh"]) == (1.5, -2.0) and len(rows) == 2
    # 200 runs of 500 KPIs each, names made afresh per run (as scalar_kpis does): 500 x (4-byte
    # column + 8-byte float) = 6,000 bytes per run plus two array headers (< 7,000 bytes); a
    # dict per run holds 500 name strings, 500 floats and its table (> 40,000 bytes)
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for r in range(200):
        rows[f"run{r}"] = {f"stations.s{i:03d}.energy_kwh": float(i + r) for i in range(500)}
    per_run = (tracemalloc.get_traced_memory()[0] - before) / 200
    tracemalloc.stop()
    assert per_run < 7000, per_run
    assert rows["run199"]["stations.s499.energy_kwh"] == 698.0  # 499 + 199
