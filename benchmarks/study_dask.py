"""Throughput of a large study on a Dask local cluster against the local process pool, and the
client's memory: issue 17's target is 500 runs of a 7-day demo variant on 2 cores with the local
cluster at >= 90 % of the process pool's throughput, with flat client memory.

Usage: python benchmarks/study_dask.py [--runs 500] [--days 7] [--jobs 2] [--replications 5]

The study is the demo plant with ``runs / replications`` scenarios that differ in PV size
(``energy.pv[id=rooftop].dc_kwp``), written to a temporary folder. Each setting runs in a fresh
Python process (so each client's peak memory is its own) with an empty run cache; the two are
alternated ``--reps`` times. Printed per setting: wall time of the runs (first to last finished
run) and of the whole study, runs per second, the client's resident memory after 10 % and after
100 % of the runs, its growth per 100 runs between the two (flat memory: about 0), its peak, and
the client's CPU per run (for the local cluster this includes the scheduler, which runs in the
client's process). Run it on an otherwise idle machine; a busy one gives figures that mean
nothing (small versions, e.g. ``--runs 60 --days 1 --reps 3``, still compare the two settings
when alternated).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def _rss_mb() -> float:
    """Resident memory of this process now [MB] (Linux /proc; peak elsewhere)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3


def write_study(folder: Path, runs: int, replications: int, days: float) -> Path:
    """A study of ``runs // replications`` PV sizes on the demo plant."""
    n = max(1, runs // replications)
    lines = [f"plant: {ROOT / 'plant_configs' / 'demo_plant.yaml'}", "base: pv0000",
             f"replications: {replications}", f"days: {days:g}", "seed: 1", "scenarios:"]
    for i in range(n):
        lines += [f"  pv{i:04d}:", "    overrides:",
                  f"      energy.pv[id=rooftop].dc_kwp: {200 + 5 * i}"]
    f = folder / "study.yaml"
    f.write_text("\n".join(lines) + "\n")
    return f


def one(study: Path, out: Path, how: str, jobs: int) -> dict[str, float]:
    """Run the study once in this process; return the figures as a dict."""
    from twin.config.study import load_study
    from twin.study import run_study

    marks: list[tuple[int, int, float, float, float]] = []

    def progress(ev: Any) -> None:
        marks.append((ev.done, ev.total, time.perf_counter(), _rss_mb(), time.process_time()))

    t0 = time.perf_counter()
    run_study(load_study(study), out, jobs=jobs, progress=progress,
              scheduler="local" if how == "dask" else None)
    wall = time.perf_counter() - t0
    total = marks[-1][1]
    at10 = next(m for m in marks if m[0] >= 0.1 * total)
    runs_wall = marks[-1][2] - marks[0][2]
    between = marks[-1][0] - at10[0]
    return {"runs": total, "wall_s": wall, "runs_wall_s": runs_wall,
            "runs_per_s": (total - marks[0][0]) / runs_wall if runs_wall > 0 else float("nan"),
            "rss_10pct_mb": at10[3], "rss_end_mb": marks[-1][3],
            "rss_mb_per_100_runs": 100 * (marks[-1][3] - at10[3]) / between if between else 0.0,
            "client_cpu_ms_per_run": 1e3 * (marks[-1][4] - marks[0][4]) / max(1, total - 1),
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=500)
    ap.add_argument("--days", type=float, default=7)
    ap.add_argument("--replications", type=int, default=5)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--reps", type=int, default=1, help="alternated repetitions per setting")
    ap.add_argument("--one", choices=("pool", "dask"), help=argparse.SUPPRESS)
    ap.add_argument("--study", help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        print(json.dumps(one(Path(args.study), Path(args.out), args.one, args.jobs)))
        return
    results: dict[str, list[dict[str, float]]] = {"pool": [], "dask": []}
    with tempfile.TemporaryDirectory() as tmp:
        study = write_study(Path(tmp), args.runs, args.replications, args.days)
        for r in range(args.reps):
            for how in results:
                out = Path(tmp) / f"out-{how}-{r}"
                done = subprocess.run(
                    [sys.executable, __file__, "--one", how, "--study", str(study), "--out",
                     str(out), "--jobs", str(args.jobs)], capture_output=True, text=True,
                    check=True)
                res = json.loads(done.stdout.strip().splitlines()[-1])
                results[how].append(res)
                print(f"rep {r + 1} {how:4s}: {res['runs']} runs, {res['runs_per_s']:.2f} runs/s"
                      f" ({res['runs_wall_s']:.1f} s of runs, {res['wall_s']:.1f} s in all); "
                      f"client RSS {res['rss_10pct_mb']:.0f} MB at 10 %, "
                      f"{res['rss_end_mb']:.0f} MB at the end "
                      f"({res['rss_mb_per_100_runs']:+.1f} MB per 100 runs), peak "
                      f"{res['peak_rss_mb']:.0f} MB; client CPU "
                      f"{res['client_cpu_ms_per_run']:.1f} ms per run",
                      flush=True)
                if r + 1 < args.reps:
                    time.sleep(1)
    pool = statistics.median(x["runs_per_s"] for x in results["pool"])
    dask = statistics.median(x["runs_per_s"] for x in results["dask"])
    print(f"\n{args.runs} runs x {args.days:g} days, {args.jobs} workers: process pool "
          f"{pool:.2f} runs/s, Dask local cluster {dask:.2f} runs/s = {dask / pool:.0%} of the "
          f"pool (target >= 90 %)")


if __name__ == "__main__":
    main()
