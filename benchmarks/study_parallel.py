"""Wall time of ``twin compare`` on the demo study with 1 and with N local processes, alternated,
medians; and a check that both give byte-identical ``comparison.csv``.

Usage: python benchmarks/study_parallel.py [--reps N] [--days D] [--replications R] [--jobs J]

On a machine whose cores are busy with other work the speed-up is lower than the core count;
the CPU share printed beside each run says how much of the machine the run had.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import tempfile
import time
from pathlib import Path

from twin.config.study import load_study
from twin.study import run_study

ROOT = Path(__file__).resolve().parent.parent


def _cpu_s() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def once(jobs: int, days: float, reps: int, out: Path) -> tuple[float, float, bytes]:
    """(wall s, CPU s, comparison.csv bytes) of one study run."""
    resolved = load_study(ROOT / "simulations" / "demo_study.yaml")
    c0, t0 = _cpu_s(), time.perf_counter()
    path = run_study(resolved, out, jobs=jobs, days=days, replications=reps, progress=None,
                     overwrite=True)
    wall = time.perf_counter() - t0
    return wall, _cpu_s() - c0, (path / "comparison.csv").read_bytes()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=3, help="timed repetitions of each setting")
    ap.add_argument("--days", type=float, default=28)
    ap.add_argument("--replications", type=int, default=4)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    args = ap.parse_args()
    walls: dict[int, list[float]] = {1: [], args.jobs: []}
    csv: dict[int, bytes] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.reps):
            for jobs in walls:
                wall, cpu, data = once(jobs, args.days, args.replications,
                                       Path(tmp) / f"out{jobs}")
                walls[jobs].append(wall)
                csv[jobs] = data
                print(f"rep {r + 1} jobs={jobs}: {wall:.2f} s wall, CPU {cpu:.2f} s")
    m1, mn = statistics.median(walls[1]), statistics.median(walls[args.jobs])
    print(f"\ndemo study, 3 scenarios x {args.replications} replications x {args.days:g} days:")
    print(f"  median wall jobs=1: {m1:.2f} s, jobs={args.jobs}: {mn:.2f} s, "
          f"speed-up {m1 / mn:.2f}x on {os.cpu_count()} cores")
    same = csv[1] == csv[args.jobs]
    print(f"  comparison.csv byte-identical across jobs: {'yes' if same else 'NO'}")
    if not same:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
