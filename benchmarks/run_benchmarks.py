#!/usr/bin/env python3
"""Benchmark the twin against the plain-SimPy floor: speed and memory of one simulated year.

``make bench`` runs this script. It simulates ``plant_configs/benchmark_line.yaml`` with the twin
and the same line written in plain SimPy (``../shared/bench/bare_simpy_line.py`` relative to the
repository root, or the file named by ``TWIN_BARE_SCRIPT``), alternating bare, twin, bare, twin, ...
for ``--reps`` repetitions. Every measurement runs in a fresh child process, so that its peak
resident memory is its own: the parent reads it from ``os.wait4`` (the rusage of that child alone).

What is compared:

* simulation wall: the bare script's own ``wall_s`` (``env.run`` only) against the twin's
  ``env.run`` time (what :func:`twin.engine.run` returns, final binning excluded);
* end-to-end wall of the twin: load the YAML, build, run, final binning, collect the results
  (imports excluded, as for the bare script's ``wall_s``);
* peak RSS of each child process [MB];
* lots completed and energy [kWh]: the two draw from different random number generators, so they
  agree only statistically; printed side by side with the relative difference;
* events processed per second of simulation wall;
* each child's CPU share (CPU time / wall time): below 0.9 it shared the CPU with other work and its
  wall time is inflated (a warning is printed; the CPU-time ratio is then the better figure).

Results: a Markdown table on stdout and in ``benchmarks/out/latest.md``, all figures in
``benchmarks/out/latest.json``. Targets (twin simulation wall <= 1.5 x bare, peak RSS < 300 MB)
are reported PASS or MISS; the exit status is non-zero only on errors.

Usage::

    .venv/bin/python benchmarks/run_benchmarks.py [--reps 5] [--days 365] [--seed 1]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
DEFAULT_BARE = REPO.parent / "shared" / "bench" / "bare_simpy_line.py"
CONFIG = REPO / "plant_configs" / "benchmark_line.yaml"
OUT_DIR = REPO / "benchmarks" / "out"
TARGET_RATIO = 1.5
"""Twin simulation wall at most this multiple of the bare script's."""
TARGET_RSS_MB = 300.0
"""Twin peak resident memory below this [MB]."""
CONTENDED = 0.9
"""A child whose CPU time is below this share of its wall time shared the CPU with other work:
its timing is suspect (the machine was busy)."""
MARK = "BENCH_RESULT "
"""Prefix of the one line a worker prints with its figures as JSON."""


# --- workers: run in a fresh child process, print one MARK line -------------------------------


def _worker_twin(config: str, days: float, seed: int) -> dict[str, Any]:
    t0 = time.perf_counter()
    import twin
    from twin import engine, results

    t1 = time.perf_counter()
    plant = twin.load_plant(config)
    t2 = time.perf_counter()
    model = engine.build(plant, days, plant.simulation.start, seed)
    t3 = time.perf_counter()
    c3 = time.process_time()
    sim_s = engine.run(model, progress=False)  # env.run only; the final binning follows
    t4 = time.perf_counter()
    c4 = time.process_time()
    events = engine.events_processed(model.env)
    result = results.collect(model, sim_s, events)
    t5 = time.perf_counter()
    k = result.kpis
    return {
        "import_s": t1 - t0,
        "load_s": t2 - t1,
        "build_s": t3 - t2,
        "sim_s": sim_s,
        "run_cpu_s": c4 - c3,
        "close_s": t4 - t3 - sim_s,
        "collect_s": t5 - t4,
        "e2e_s": t5 - t1,
        "lots_completed": int(k["lots_completed"]),
        "energy_kwh": float(k["electricity_kwh"]),
        "events": int(events),
        "state_changes": int(model.meter.records),
    }


def _worker_bare(script: str, days: float, seed: int) -> dict[str, Any]:
    """Run the bare script as ``__main__`` with its own arguments; parse what it prints.

    The only addition is a note of the SimPy environment it creates (a wrapper of
    ``Environment.__init__``, outside the event loop), to count the events it processed."""
    import contextlib
    import io
    import runpy

    import simpy

    envs: list[simpy.Environment] = []
    init = simpy.Environment.__init__

    def noting_init(self: simpy.Environment, *args: Any, **kwargs: Any) -> None:
        init(self, *args, **kwargs)
        envs.append(self)

    simpy.Environment.__init__ = noting_init  # type: ignore[method-assign]
    out = io.StringIO()
    sys.argv = [script, repr(float(days)), str(int(seed))]
    with contextlib.redirect_stdout(out):
        c0 = time.process_time()
        runpy.run_path(script, run_name="__main__")
        c1 = time.process_time()
    printed = {}
    for line in out.getvalue().splitlines():
        key, _, value = line.partition(" ")
        printed[key] = value
    missing = {"lots_completed", "energy_kwh", "wall_s"} - printed.keys()
    if missing:
        raise RuntimeError(f"{script} did not print {sorted(missing)}; it printed:\n"
                           f"{out.getvalue()}")
    events = None
    if len(envs) == 1:
        env = envs[0]
        events = int(next(env._eid) - len(env._queue))  # scheduled minus still queued
    return {
        "sim_s": float(printed["wall_s"]),
        "run_cpu_s": c1 - c0,
        "lots_completed": int(printed["lots_completed"]),
        "energy_kwh": float(printed["energy_kwh"]),
        "events": events,
    }


def _worker(kind: str, target: str, days: float, seed: int) -> int:
    figures = (_worker_twin if kind == "twin" else _worker_bare)(target, days, seed)
    sys.stdout.write(MARK + json.dumps(figures) + "\n")
    return 0


# --- parent: spawn, measure, summarise ---------------------------------------------------------


def _maxrss_mb(ru_maxrss: int) -> float:
    """``ru_maxrss`` is in KiB on Linux, in bytes on macOS."""
    return ru_maxrss / (1024.0 * 1024.0) if sys.platform == "darwin" else ru_maxrss / 1024.0


def measure(kind: str, target: Path, days: float, seed: int) -> dict[str, Any]:
    """Run one worker in a fresh process; its figures plus its peak RSS and process wall."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", kind, "--target",
           str(target), "--days", repr(days), "--seed", str(seed)]
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, cwd=REPO)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    lines = [ln for ln in stdout.splitlines() if ln.startswith(MARK)]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"{kind} run failed (exit {proc.returncode}): {' '.join(cmd)}\n"
                           f"--- stdout ---\n{stdout[-3000:]}\n--- stderr ---\n{stderr[-3000:]}")
    figures = json.loads(lines[-1][len(MARK):])
    figures["peak_rss_mb"] = _maxrss_mb(usage.ru_maxrss)
    figures["process_s"] = wall
    figures["cpu_share"] = (usage.ru_utime + usage.ru_stime) / wall if wall > 0 else None
    figures["load_before"] = load
    return figures


def machine_info() -> dict[str, Any]:
    """CPU, core count and versions of what is measured."""
    from importlib.metadata import PackageNotFoundError, version

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    versions = {"python": platform.python_version()}
    for pkg in ("simpy", "numpy", "pandas", "factory-twin"):
        try:
            versions[pkg] = version(pkg)
        except PackageNotFoundError:
            versions[pkg] = None
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    commit = _git("rev-parse", "--short", "HEAD")
    dirty = bool(_git("status", "--porcelain", "--", "twin"))
    return {
        "cpu": cpu,
        "cpu_count": os.cpu_count(),
        "usable_cpus": usable,
        "platform": platform.platform(),
        "versions": versions,
        "git_commit": commit,
        "twin_dirty": dirty,
    }


def _git(*args: str) -> str | None:
    try:
        run = subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, timeout=10,
                             check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return run.stdout.strip() if run.returncode == 0 else None


def _median(runs: list[dict[str, Any]], key: str) -> float | None:
    values = [r[key] for r in runs if r.get(key) is not None]
    return statistics.median(values) if values else None


def summarise(bare: list[dict[str, Any]], twin: list[dict[str, Any]]) -> dict[str, Any]:
    """Medians, ratios and target verdicts of the runs."""
    t: dict[str, Any] = {k: _median(twin, k) for k in (
        "import_s", "load_s", "build_s", "sim_s", "run_cpu_s", "close_s", "collect_s", "e2e_s",
        "process_s", "peak_rss_mb")}
    t["peak_rss_mb_max"] = max(r["peak_rss_mb"] for r in twin)
    last = twin[-1]  # same seed every repetition: these do not vary
    for k in ("lots_completed", "energy_kwh", "events", "state_changes"):
        t[k] = last[k]
    t["events_per_s"] = t["events"] / t["sim_s"]
    t["us_per_lot_station"] = 1e6 * t["sim_s"] / (t["lots_completed"] * 10)
    s: dict[str, Any] = {"twin": t}
    checks = [{"target": f"twin peak RSS < {TARGET_RSS_MB:g} MB (max of runs)",
               "value": t["peak_rss_mb_max"], "pass": t["peak_rss_mb_max"] < TARGET_RSS_MB}]
    if bare:
        b: dict[str, Any] = {k: _median(bare, k)
                             for k in ("sim_s", "run_cpu_s", "process_s", "peak_rss_mb")}
        b["peak_rss_mb_max"] = max(r["peak_rss_mb"] for r in bare)
        for k in ("lots_completed", "energy_kwh", "events"):
            b[k] = bare[-1][k]
        b["events_per_s"] = b["events"] / b["sim_s"] if b["events"] and b["sim_s"] else None
        b["us_per_lot_station"] = 1e6 * b["sim_s"] / (b["lots_completed"] * 10)
        s["bare"] = b
        pairs = [{"bare_sim_s": x["sim_s"], "twin_sim_s": y["sim_s"], "twin_e2e_s": y["e2e_s"],
                  "sim_ratio": y["sim_s"] / x["sim_s"], "e2e_ratio": y["e2e_s"] / x["sim_s"],
                  "cpu_ratio": y["run_cpu_s"] / x["run_cpu_s"],
                  "bare_cpu_share": x["cpu_share"], "twin_cpu_share": y["cpu_share"]}
                 for x, y in zip(bare, twin, strict=True)]
        s["pairs"] = pairs
        s["ratio_sim"] = t["sim_s"] / b["sim_s"]
        s["ratio_e2e"] = t["e2e_s"] / b["sim_s"]
        s["ratio_process"] = t["process_s"] / b["process_s"]
        s["ratio_cpu"] = t["run_cpu_s"] / b["run_cpu_s"]
        s["lots_rel_diff"] = t["lots_completed"] / b["lots_completed"] - 1.0
        s["energy_rel_diff"] = t["energy_kwh"] / b["energy_kwh"] - 1.0
        checks.insert(0, {
            "target": f"twin simulation wall <= {TARGET_RATIO:g} x bare (ratio of medians)",
            "value": s["ratio_sim"], "pass": s["ratio_sim"] <= TARGET_RATIO})
        checks.insert(1, {
            "target": f"twin end-to-end wall <= {TARGET_RATIO:g} x bare (stricter reading)",
            "value": s["ratio_e2e"], "pass": s["ratio_e2e"] <= TARGET_RATIO})
    s["checks"] = checks
    s["contended_runs"] = sum(1 for r in bare + twin if (r["cpu_share"] or 1.0) < CONTENDED)
    return s


def _f(x: float | None, fmt: str) -> str:
    return "n/a" if x is None else format(x, fmt)


def markdown(s: dict[str, Any], info: dict[str, Any], args: argparse.Namespace,
             bare_note: str) -> str:
    t, b = s["twin"], s.get("bare")
    ts = dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    v = info["versions"]
    lines = [
        f"## benchmark_line.yaml, {args.days:g} simulated days, {args.reps} repetition"
        f"{'s' if args.reps > 1 else ''}" + (" (bare and twin interleaved)" if b else ""),
        "",
        f"{ts}; {info['cpu']}, {info['usable_cpus']} usable of {info['cpu_count']} CPUs; "
        f"Python {v['python']}, SimPy {v['simpy']}, numpy {v['numpy']}, pandas {v['pandas']}; "
        f"commit {info['git_commit']}{' (twin/ modified)' if info['twin_dirty'] else ''}.",
        f"Bare script: {bare_note}",
        "",
        "| metric | bare SimPy | twin | twin / bare |",
        "|---|---:|---:|---:|",
    ]

    def row(name: str, bv: str, tv: str, ratio: str = "") -> None:
        lines.append(f"| {name} | {bv} | {tv} | {ratio} |")

    def ratio(x: float | None) -> str:
        return "" if x is None else f"{x:.2f}x"

    bs = b["sim_s"] if b else None
    row("simulation wall, median [s] (`env.run` only)", _f(bs, ".2f"), _f(t["sim_s"], ".2f"),
        ratio(s.get("ratio_sim")))
    row("end-to-end wall, median [s] (load, build, run, binning, collect)",
        _f(bs, ".2f") + " (= simulation)" if b else "n/a", _f(t["e2e_s"], ".2f"),
        ratio(s.get("ratio_e2e")))
    row("run CPU time, median [s] (twin: run + final binning; bare: whole script body)",
        _f(b["run_cpu_s"] if b else None, ".2f"), _f(t["run_cpu_s"], ".2f"),
        ratio(s.get("ratio_cpu")))
    row("process wall, median [s] (interpreter start and imports included)",
        _f(b["process_s"] if b else None, ".2f"), _f(t["process_s"], ".2f"),
        ratio(s.get("ratio_process")))
    row("peak RSS, median (max) [MB]",
        f"{b['peak_rss_mb']:.0f} ({b['peak_rss_mb_max']:.0f})" if b else "n/a",
        f"{t['peak_rss_mb']:.0f} ({t['peak_rss_mb_max']:.0f})",
        ratio(t["peak_rss_mb"] / b["peak_rss_mb"]) if b else "")
    row("lots completed", f"{b['lots_completed']:,}" if b else "n/a", f"{t['lots_completed']:,}",
        f"{s['lots_rel_diff']:+.2%}" if b else "")
    row("energy [kWh]", f"{b['energy_kwh']:,.1f}" if b else "n/a", f"{t['energy_kwh']:,.1f}",
        f"{s['energy_rel_diff']:+.2%}" if b else "")
    row("events processed", f"{b['events']:,}" if b and b["events"] else "n/a",
        f"{t['events']:,}", ratio(t["events"] / b["events"]) if b and b["events"] else "")
    row("events per second of simulation wall",
        f"{b['events_per_s']:,.0f}" if b and b["events_per_s"] else "n/a",
        f"{t['events_per_s']:,.0f}",
        ratio(t["events_per_s"] / b["events_per_s"]) if b and b["events_per_s"] else "")
    row("simulation wall per lot and station [µs]",
        _f(b["us_per_lot_station"] if b else None, ".2f"), _f(t["us_per_lot_station"], ".2f"),
        ratio(t["us_per_lot_station"] / b["us_per_lot_station"]) if b else "")
    row("power-state changes recorded", "n/a", f"{t['state_changes']:,}")
    lines += [
        "",
        "Twin phases, median [s]: "
        f"import {t['import_s']:.2f}, load {t['load_s']:.3f}, build {t['build_s']:.3f}, "
        f"run {t['sim_s']:.2f}, final binning {t['close_s']:.3f}, collect {t['collect_s']:.3f}.",
        "",
    ]
    if b:
        lines += [
            "| pair | bare wall [s] | twin sim [s] | twin end-to-end [s] | sim ratio | e2e ratio "
            "| CPU ratio | CPU share bare / twin |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for i, p in enumerate(s["pairs"], 1):
            lines.append(f"| {i} | {p['bare_sim_s']:.2f} | {p['twin_sim_s']:.2f} | "
                         f"{p['twin_e2e_s']:.2f} | {p['sim_ratio']:.2f} | {p['e2e_ratio']:.2f} | "
                         f"{p['cpu_ratio']:.2f} | {p['bare_cpu_share']:.2f} / "
                         f"{p['twin_cpu_share']:.2f} |")
        lines.append("")
    if s["contended_runs"]:
        lines += [f"WARNING: {s['contended_runs']} run(s) got less than {CONTENDED:.0%} of a CPU "
                  "(CPU time / wall time): the machine was busy with other work and their wall "
                  "times are inflated. Rerun on an idle machine; CPU-time ratios are less "
                  "affected.", ""]
    lines += ["| target | measured | verdict |", "|---|---:|---|"]
    for c in s["checks"]:
        value = f"{c['value']:.0f} MB" if "RSS" in c["target"] else f"{c['value']:.2f}x"
        lines.append(f"| {c['target']} | {value} | {'PASS' if c['pass'] else 'MISS'} |")
    if not b:
        lines.append("| twin simulation wall <= 1.5 x bare | not measured (no bare script) | n/a |")
    return "\n".join(lines) + "\n"


def find_bare() -> tuple[Path | None, str]:
    """The bare script, from ``TWIN_BARE_SCRIPT`` or beside the repository; and a note on it."""
    env = os.environ.get("TWIN_BARE_SCRIPT")
    path = Path(env).expanduser() if env else DEFAULT_BARE
    origin = "TWIN_BARE_SCRIPT" if env else "default location"
    if path.is_file():
        return path.resolve(), f"`{path}` ({origin})"
    return None, f"NOT FOUND at `{path}` ({origin}); only the twin was measured"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reps", type=int, default=5, help="repetitions of each (default 5)")
    ap.add_argument("--days", type=float, default=365.0, help="simulated days (default 365)")
    ap.add_argument("--seed", type=int, default=1, help="seed of both models (default 1)")
    ap.add_argument("--out", type=Path, default=OUT_DIR, help="folder for latest.md/.json")
    ap.add_argument("--worker", choices=("twin", "bare"), help=argparse.SUPPRESS)
    ap.add_argument("--target", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        return _worker(args.worker, args.target, args.days, args.seed)
    if args.reps < 1 or args.days <= 0:
        ap.error("--reps must be >= 1 and --days > 0")

    bare_path, bare_note = find_bare()
    if bare_path is None:
        print(f"WARNING: bare SimPy script {bare_note}. Set TWIN_BARE_SCRIPT to its path to "
              "compare.", file=sys.stderr)
    info = machine_info()
    print(f"benchmark: {args.days:g} days, {args.reps} reps, seed {args.seed}; "
          f"{info['cpu']} ({info['usable_cpus']} CPUs)", flush=True)
    bare: list[dict[str, Any]] = []
    twin: list[dict[str, Any]] = []
    try:
        for rep in range(1, args.reps + 1):
            if bare_path is not None:
                r = measure("bare", bare_path, args.days, args.seed)
                bare.append(r)
                print(f"  [{rep}/{args.reps}] bare  wall {r['sim_s']:6.2f} s  "
                      f"rss {r['peak_rss_mb']:6.1f} MB", flush=True)
            r = measure("twin", CONFIG, args.days, args.seed)
            twin.append(r)
            print(f"  [{rep}/{args.reps}] twin  sim  {r['sim_s']:6.2f} s  "
                  f"e2e {r['e2e_s']:6.2f} s  rss {r['peak_rss_mb']:6.1f} MB", flush=True)
    except (RuntimeError, OSError) as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return 2

    summary = summarise(bare, twin)
    md = markdown(summary, info, args, bare_note)
    print()
    print(md)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "latest.md").write_text(md, encoding="utf-8")
    report = {
        "date": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "days": args.days, "reps": args.reps, "seed": args.seed,
        "config": str(CONFIG.relative_to(REPO)),
        "bare_script": str(bare_path) if bare_path else None,
        "machine": info, "summary": summary, "runs": {"bare": bare, "twin": twin},
    }
    (args.out / "latest.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"written: {args.out / 'latest.md'}, {args.out / 'latest.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
