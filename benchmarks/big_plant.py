"""Big plants: memory flat in run length, and independent lines run in parallel workers.

The plant: ``N`` independent copies of the benchmark line (``plant_configs/benchmark_line.yaml``:
10 stations in series, Exp(60 s) arrivals, Exp(50 s) processing, buffers of 5 lots, 2 kW idle,
10 kW processing, 24/7), each with its own product and source, so ``N`` lines make ``10 N``
stations. Issue 17 item 6 targets (figures in benchmarks/README.md):

* 1,000 stations (100 lines) for 28 days: peak memory of all processes under 1.5 GB, wall time on
  2 workers at most 0.6x plain SimPy running the same lines in one process;
* 100 stations (10 lines): peak memory for 365 days within 1.2x of 7 days.

Each measurement runs in a fresh child process (peak RSS of a process only grows), and reports the
peak resident set of that process; with ``--jobs`` above 1, each worker reports its own peak
(:attr:`twin.parallel.PartRun.peak_rss_mb`) and the memory of all processes is the parent's peak
plus the sum of the workers' peaks (an upper bound: the peaks need not be at the same time).
With ``--jobs`` above 1 the twin figure is the whole split run, ``twin.simulate(plant,
jobs=N)``: the parts simulated on the workers, then in the parent the merge, the energy
balance, accounting and KPIs (:func:`twin.parallel.assemble`); ``--out`` adds writing the run
folder. The row gives the parts' share (``simulate_s``, until the last part is back) and the
parent's (``assemble_s``, ``save_s``).

Usage (``--stations`` is ``10 x --lines``)::

    python benchmarks/big_plant.py memory  [--stations 100] [--days 7 365]
    python benchmarks/big_plant.py parallel [--stations 1000] [--days 28] [--jobs 2] [--out DIR]
    python benchmarks/big_plant.py parallel --stations 100 --days 7        (the small version)
    python benchmarks/big_plant.py one --stations 100 --days 7 [--jobs 1] [--out DIR] (one run)
    python benchmarks/big_plant.py simpy --stations 100 --days 7                  (plain SimPy)
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BARE = Path("/work/shared/bench/bare_simpy_line.py")


def big_plant_data(lines: int, days: float = 7.0, seed: int = 1) -> dict[str, Any]:
    """Plant data of ``lines`` independent benchmark lines (``10 * lines`` stations)."""
    stations = [f"L{i:03d}s{k:02d}" for i in range(lines) for k in range(1, 11)]
    return {
        "site": {"name": f"Big plant ({lines} lines)", "timezone": "Asia/Shanghai",
                 "latitude": 31.23, "longitude": 121.47},
        "simulation": {"start": "2026-01-01", "days": days, "seed": seed},
        "products": [{"id": f"part{i:03d}", "route": stations[10 * i: 10 * i + 10]}
                     for i in range(lines)],
        "equipment_types": [{"id": "bench_machine",
                             "power_kw": {"electricity": {"idle": 2, "processing": 10}}}],
        "lines": [{"id": f"line{i:03d}", "stations": [
            {"id": sid, "equipment": "bench_machine", "buffer_capacity": 5,
             "process_time": {"dist": "exponential", "mean": 50}}
            for sid in stations[10 * i: 10 * i + 10]]} for i in range(lines)],
        "sources": [{"id": f"arrivals{i:03d}", "kind": "arrivals",
                     "interarrival": {"dist": "exponential", "mean": 60},
                     "product_mix": {f"part{i:03d}": 1}} for i in range(lines)],
    }


def _peak_mb(who: int) -> float:
    """Peak resident set [MB] of this process (RUSAGE_SELF) or of its finished children."""
    return resource.getrusage(who).ru_maxrss / 1024.0  # Linux: kB


def run_one(lines: int, days: float, jobs: int, out: str | None) -> dict[str, Any]:
    """One twin run, ``twin.simulate(plant, jobs=jobs)`` (and ``Result.save`` with ``out``); its
    wall time, its phases and peak memory."""
    import twin
    from twin.config import plant_from_data

    plant = plant_from_data(big_plant_data(lines, days))
    t0, cpu0 = time.perf_counter(), time.process_time()
    result = twin.simulate(plant, jobs=jobs)
    t_done = time.perf_counter()
    if out:
        result.save(out, overwrite=True)
    wall = time.perf_counter() - t0
    parts = result.manifest.get("parts") or {}
    row = {"lines": lines, "stations": 10 * lines, "days": days, "jobs": jobs,
           "wall_s": round(wall, 2), "simulate_s": result.manifest["wall_clock_s"],
           "assemble_s": round(t_done - t0 - result.manifest["wall_clock_s"], 2),
           "save_s": round(time.perf_counter() - t_done, 2) if out else None,
           "units": result.kpis["units_completed"],
           "parent_cpu_s": round(time.process_time() - cpu0, 2),
           "parts_cpu_s": parts.get("part_cpu_s"),
           "peak_self_mb": round(_peak_mb(resource.RUSAGE_SELF), 1),
           "workers_peak_mb": parts.get("worker_peak_rss_mb")}
    row["all_processes_mb"] = round(row["peak_self_mb"] + (row["workers_peak_mb"] or 0.0), 1)
    return row


def run_simpy(lines: int, days: float) -> dict[str, Any]:
    """Plain SimPy: ``lines`` copies of the bare benchmark line in one environment."""
    import random

    import simpy

    sys.path.insert(0, str(BARE.parent))
    import bare_simpy_line as bare

    env = simpy.Environment()
    sinks = []
    for i in range(lines):
        rng = random.Random(1000 + i)
        buffers = [simpy.Store(env, capacity=bare.BUFFER) for _ in range(bare.N_STATIONS)]
        sink = simpy.Store(env)
        sinks.append(sink)
        busy: list[float] = []
        env.process(bare.source(env, buffers[0], rng))
        for k in range(bare.N_STATIONS):
            nxt = buffers[k + 1] if k + 1 < bare.N_STATIONS else sink
            env.process(bare.station(env, buffers[k], nxt, rng, busy))
    t0, cpu0 = time.perf_counter(), time.process_time()
    env.run(until=days * 86400.0)
    return {"lines": lines, "stations": 10 * lines, "days": days, "plain_simpy": True,
            "wall_s": round(time.perf_counter() - t0, 2),
            "cpu_s": round(time.process_time() - cpu0, 2),
            "lots": sum(len(s.items) for s in sinks),
            "peak_self_mb": round(_peak_mb(resource.RUSAGE_SELF), 1)}


def _child(*args: str) -> dict[str, Any]:
    """Run this script with ``args`` in a fresh process; its JSON line."""
    out = subprocess.run([sys.executable, __file__, *args], check=True, capture_output=True,
                         text=True, cwd=ROOT)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("what", choices=["memory", "parallel", "one", "simpy"])
    ap.add_argument("--lines", type=int, default=None)
    ap.add_argument("--stations", type=int, default=None,
                    help="stations (a multiple of 10: that many / 10 lines)")
    ap.add_argument("--days", type=float, nargs="+", default=None)
    ap.add_argument("--jobs", type=int, default=None)
    ap.add_argument("--out", default=None)
    a = ap.parse_args(argv)
    if a.stations is not None:
        if a.stations < 10 or a.stations % 10:
            ap.error(f"--stations: expected a multiple of 10, got {a.stations}")
        a.lines = a.stations // 10
    if a.what == "one":
        print(json.dumps(run_one(a.lines or 10, (a.days or [7.0])[0], a.jobs or 1, a.out)))
    elif a.what == "simpy":
        print(json.dumps(run_simpy(a.lines or 10, (a.days or [7.0])[0])))
    elif a.what == "memory":
        lines = a.lines or 10
        days = a.days or [7.0, 365.0]
        rows = [_child("one", "--lines", str(lines), "--days", str(d), "--jobs", "1")
                for d in days]
        for r in rows:
            print(json.dumps(r))
        base = rows[0]["peak_self_mb"]
        for r in rows[1:]:
            print(f"{10 * lines} stations: peak {r['peak_self_mb']:.0f} MB for {r['days']:g} d"
                  f" = {r['peak_self_mb'] / base:.2f}x the {rows[0]['days']:g}-day peak"
                  f" ({base:.0f} MB); target <= 1.2x")
    else:
        lines = a.lines or 100
        days = (a.days or [28.0])[0]
        jobs = a.jobs or 2
        bare = _child("simpy", "--lines", str(lines), "--days", str(days))
        extra = ["--out", a.out] if a.out else []
        twin_run = _child("one", "--lines", str(lines), "--days", str(days), "--jobs", str(jobs),
                          *extra)
        print(json.dumps(bare))
        print(json.dumps(twin_run))
        print(f"{10 * lines} stations, {days:g} d: twin on {jobs} workers {twin_run['wall_s']:.1f}"
              f" s = {twin_run['wall_s'] / bare['wall_s']:.2f}x plain SimPy ({bare['wall_s']:.1f}"
              f" s, one process; target <= 0.6x); parts {twin_run['simulate_s']:.1f} s, parent"
              f" {twin_run['assemble_s']:.1f} s"
              + (f" + save {twin_run['save_s']:.1f} s" if twin_run["save_s"] is not None else "")
              + f"; peak memory {twin_run['all_processes_mb']:.0f} MB (parent"
              f" {twin_run['peak_self_mb']:.0f} + workers {twin_run['workers_peak_mb'] or 0:.0f};"
              f" target < 1500 MB)")
        if twin_run["parts_cpu_s"]:  # what an idle machine would show: the parts' CPU time
            est = twin_run["parts_cpu_s"] / jobs + twin_run["assemble_s"]  # shared evenly
            print(f"CPU time: parts {twin_run['parts_cpu_s']:.1f} s in all, parent"
                  f" {twin_run['parent_cpu_s']:.1f} s, plain SimPy {bare['cpu_s']:.1f} s: on"
                  f" {jobs} idle cores about {est:.1f} s = {est / bare['cpu_s']:.2f}x plain SimPy")


if __name__ == "__main__":
    main()
