"""The ``twin`` command: run, compare, validate, dashboard, report, export, schema, init.

Mistakes in a file or an argument are printed as one line each, without a traceback, and the
command exits with status 2.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import re
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from twin.atomic import check_out
from twin.config import ConfigError, load_plant
from twin.config.errors import SupplyError
from twin.config.plant import MAX_DAYS, Plant, check_start
from twin.i18n import LANGUAGES
from twin.measured.errors import MeterDataError
from twin.safety import Interrupted, SimulationStalled, terminate_as_interrupt
from twin.sector import SECTORS

if TYPE_CHECKING:
    from twin.results import Result

EXIT_USAGE = 2


class UsageError(Exception):
    """A bad command-line value."""


def _date(text: str) -> dt.date:
    try:
        return check_start(dt.date.fromisoformat(text))
    except ValueError as exc:
        what = str(exc) if "between" in str(exc) else "expected a date as YYYY-MM-DD"
        raise argparse.ArgumentTypeError(f"{what}, got {text!r}") from None


def _positive(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of days, got {text!r}") from None
    if not (v > 0 and math.isfinite(v) and v <= MAX_DAYS):
        raise argparse.ArgumentTypeError(
            f"expected a number of days > 0 and <= {MAX_DAYS:g}, got {text!r}")
    return v


def _seed(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if v < 0:
        raise argparse.ArgumentTypeError(f"expected a seed >= 0, got {text!r}")
    return v


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-").lower() or "plant"


def default_out(plant: Plant, root: Path = Path("results")) -> Path:
    """``results/<plant-name>_<YYYYmmdd-HHMMSS>`` (wall-clock time names the folder only)."""
    return root / f"{_slug(plant.site.name)}_{time.strftime('%Y%m%d-%H%M%S')}"


def cmd_run(args: argparse.Namespace) -> int:
    import twin

    plant = load_plant(args.config)
    if args.steps:
        plant = plant.model_copy(update={
            "simulation": plant.simulation.model_copy(update={"steps": True})})
    days = args.days if args.days is not None else plant.simulation.days
    out = Path(args.out) if args.out else default_out(plant)
    _check_out(out, args.overwrite)
    print(f"twin: simulating {plant.site.name} for {days:g} days ...", file=sys.stderr)
    jobs = args.jobs or 1
    if jobs > 1:  # one line: how the plant splits into parts, or why it runs in one process
        from twin.parallel import split_plan

        print(f"twin: {split_plan(plant, jobs)[1]}", file=sys.stderr)
    try:
        result = twin.simulate(plant, days=days, start=args.start, seed=args.seed,
                               progress=None, jobs=jobs)
    except SupplyError as exc:
        raise UsageError(f"{args.config}: {exc}") from None
    from twin.dashboard import FILENAME, write_dashboard

    path = result.save(out, overwrite=args.overwrite,
                       finish=lambda folder: write_dashboard(folder, name=out.name,
                                                             lang=args.lang))
    try:
        _print_run(result, path, path / FILENAME, args.lang)
    except KeyboardInterrupt:
        raise Interrupted(f"the run folder {path} was complete and is in place") from None
    return 0


def _print_run(result: Result, path: Path, page: Path, lang: str | None = None) -> None:
    from twin.i18n import language_of, message, use

    wall = result.manifest["wall_clock_s"]
    print(f"twin: run folder {path}  ({wall:.1f} s, "
          f"{result.manifest['events_processed']:,} events)")
    print(f"twin: dashboard  {page}")
    with use(language_of(result.manifest, lang)):
        print(result.summary())
        for w in result.kpis["warnings"]:
            print(f"twin: warning: {message(w)}", file=sys.stderr)


def _check_out(out: Path, overwrite: bool, marker: str = "manifest.json",
               what: str = "run") -> None:
    """Refuse an --out that exists, unless --overwrite and it is a folder twin wrote
    (:func:`twin.atomic.check_out`); ``marker`` marks it (a run's manifest, a calibration's
    calibration.json)."""
    check_out(out, overwrite, marker, what, f"twin {what}", UsageError)


def cmd_dashboard(args: argparse.Namespace) -> int:
    from twin.dashboard import calibration as cal
    from twin.dashboard import write_dashboard
    from twin.dashboard.sizing import write_sizing_dashboard
    from twin.dashboard.study import write_study_dashboard
    from twin.study import MARKER

    folder = Path(args.run_dir)
    try:
        if (folder / cal.MARKER).is_file():
            page = cal.write_calibration_page(folder)
        elif (folder / "sizing.json").is_file():
            page = write_sizing_dashboard(folder)
        elif (folder / MARKER).is_file():
            page = write_study_dashboard(folder, lang=args.lang)
        else:
            page = write_dashboard(folder, lang=args.lang)
    except (FileNotFoundError, cal.CalibrationFolderError) as exc:
        raise UsageError(str(exc)) from None
    print(f"twin: dashboard {page}")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from twin.carbon.evaluation import rule_set_names
    from twin.report import ReportError, write_report

    if args.rules is not None and args.rules not in rule_set_names():
        raise UsageError(f"--rules: unknown rule set {args.rules!r}; expected one of "
                         f"{', '.join(rule_set_names())}")
    try:
        paths = write_report(Path(args.run_dir), args.baseline, args.rules, args.basis,
                             lang=args.lang)
    except ReportError as exc:
        raise UsageError(str(exc)) from None
    except ValueError as exc:  # e.g. evaluation options of the run's plant file
        raise UsageError(f"{args.run_dir}: {exc}") from None
    for p in paths:
        print(f"twin: report {p}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from twin.export import write_xlsx

    if not args.xlsx:
        raise UsageError("export: give the format, --xlsx (the only one so far)")
    try:
        path = write_xlsx(Path(args.folder))
    except FileNotFoundError as exc:  # not a run or study folder, or a damaged one
        raise UsageError(str(exc)) from None
    print(f"twin: workbook {path}")
    return 0


def _count_arg(what: str):
    def parse(text: str) -> int:
        try:
            v = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number of {what}, got {text!r}"
                                             ) from None
        if v < 1:
            raise argparse.ArgumentTypeError(f"expected {what} >= 1, got {text!r}")
        return v
    return parse


def cmd_compare(args: argparse.Namespace) -> int:
    from twin.config.study import load_study
    from twin.executors import ExecutorError
    from twin.study import StudyOutputError, load_comparison, run_study, summary_table

    resolved = load_study(args.study)
    name = resolved.study.name or Path(args.study).stem
    out = Path(args.out) if args.out else Path("results") / (
        f"study-{_slug(Path(args.study).stem)}_{time.strftime('%Y%m%d-%H%M%S')}")
    reps = args.replications or resolved.study.replications
    days = args.days if args.days is not None else resolved.days()
    if resolved.runs(reps) > resolved.study.max_runs and not args.yes:
        raise UsageError(f"{args.study}: the study makes {resolved.runs(reps):,} runs, more "
                         f"than max_runs ({resolved.study.max_runs:,}); pass --yes to start "
                         f"them, or raise max_runs in the study file")
    scenarios, runs = _study_count(resolved, reps)
    print(f"twin: study {name}: {scenarios} x {reps} replications, {days:g} days each "
          f"({runs}) ...", file=sys.stderr)
    try:
        path = run_study(resolved, out, jobs=args.jobs, days=args.days,
                         replications=args.replications, overwrite=args.overwrite,
                         scheduler=args.scheduler, runs_dir=args.runs_dir, resume=args.resume,
                         log=lambda m: print(f"twin: {m}", file=sys.stderr, flush=True))
    except (StudyOutputError, ExecutorError) as exc:
        raise UsageError(str(exc)) from None
    except SupplyError as exc:
        raise UsageError(f"{resolved.plant_path}: {exc}") from None
    import pandas as pd

    econ = pd.read_csv(path / "economics.csv")
    lang = args.lang or resolved.plants[resolved.study.base].site.language
    if args.lang is not None and args.lang != "en":  # else written in the plant's language
        from twin.dashboard.study import write_study_dashboard

        write_study_dashboard(path, lang=args.lang)
    print(f"twin: study folder {path}")
    print(f"twin: comparison   {path / 'comparison.md'}")
    print(f"twin: dashboard    {path / 'dashboard.html'}")
    from twin.i18n import use

    with use(lang):
        print(summary_table(resolved, load_comparison(path), econ))
    return 0


def cmd_size(args: argparse.Namespace) -> int:
    from twin.config.sizing import load_sizing
    from twin.energy.sizing import SizingInfeasibleError
    from twin.sizing_study import SizingError, run_sizing, summary

    study = load_sizing(args.study)
    out = Path(args.out) if args.out else Path("results") / (
        f"sizing-{_slug(Path(args.study).stem)}_{time.strftime('%Y%m%d-%H%M%S')}")
    print(f"twin: sizing {len(study.candidates)} capacities of "
          f"{study.resolved.plant_path.name} ...", file=sys.stderr)
    try:
        path, doc = run_sizing(study, out, overwrite=args.overwrite, days=args.days,
                               replications=args.replications,
                               verify_runs=False if args.no_verify else None, jobs=args.jobs,
                               log=lambda m: print(f"twin:   {m}", file=sys.stderr))
    except SizingInfeasibleError as exc:
        raise UsageError(f"{args.study}: infeasible: {exc}") from None
    except (SizingError, SupplyError) as exc:
        raise UsageError(f"{args.study}: {exc}") from None
    print(f"twin: sizing folder {path}")
    print(summary(doc, study.resolved.study.currency))
    return 0


def cmd_calibrate(args: argparse.Namespace) -> int:
    from twin.calibration.folder import save_calibration
    from twin.calibration.run import CalibrationError, calibrate
    from twin.config.calibration import load_calibration

    cal = load_calibration(args.calibration)
    if args.replications:
        cal.spec = cal.spec.model_copy(update={"replications": args.replications})
    out = Path(args.out) if args.out else Path("results") / (
        f"calibration-{_slug(Path(args.calibration).stem)}_{time.strftime('%Y%m%d-%H%M%S')}")
    _check_out(out, args.overwrite, "calibration.json", "calibration")
    what = "comparing" if args.no_fit or not cal.parameters else \
        f"fitting {len(cal.parameters)} parameters of"
    print(f"twin: calibration: {what} {cal.plant.site.name} against "
          f"{Path(cal.meter.file).name} ...", file=sys.stderr)
    try:
        run = calibrate(cal, fit=not args.no_fit,
                        log=lambda m: print(f"twin:   {m}", file=sys.stderr),
                        jobs=args.jobs or (os.cpu_count() or 1))
    except (CalibrationError, SupplyError) as exc:
        raise UsageError(f"{args.calibration}: {exc}") from None
    path = save_calibration(run, out, overwrite=args.overwrite)
    print(f"twin: calibration folder {path}  ({run.wall_s:.1f} s, {run.runs} runs)")
    print(f"twin: dashboard          {path / 'dashboard.html'}")
    print(calibration_summary(run))
    return 0


def calibration_summary(run) -> str:
    """The G14 table and the fitted parameters as plain text."""
    from twin.calibration.metrics import LIMITS

    lines = [f"{'meter':<22}{'':>8}{'CV(RMSE) h':>12}{'NMBE h':>9}{'CV(RMSE) m':>12}"
             f"{'NMBE m':>9}  G14 hourly / monthly"]
    for stage in ("before", "after", "holdout"):
        for meter, m in run.metrics.get(stage, {}).items():
            if meter == "site" and run.site is not None:
                continue
            def f(v):
                return "    n/a" if v is None or v != v else f"{v:7.1f}"
            ok_h = {True: "pass", False: "FAIL", None: "n/a"}[m.get("pass_hourly")]
            ok_m = {True: "pass", False: "FAIL", None: "n/a"}[m.get("pass_monthly")]
            lines.append(f"{meter[:21]:<22}{stage:>8}{f(m['cv_rmse_hourly_pct']):>12}"
                         f"{f(m['nmbe_hourly_pct']):>9}{f(m['cv_rmse_monthly_pct']):>12}"
                         f"{f(m['nmbe_monthly_pct']):>9}  {ok_h} / {ok_m}")
    lines.append(f"(limits: hourly CV(RMSE) {LIMITS['cv_rmse_hourly_pct']:g} %, NMBE "
                 f"+-{LIMITS['nmbe_hourly_pct']:g} %; monthly {LIMITS['cv_rmse_monthly_pct']:g}"
                 f" %, +-{LIMITS['nmbe_monthly_pct']:g} %)")
    for p in run.parameters:
        std = "" if p["std"] is None else f" +- {p['std']:.3g}"
        flags = ("" if p["identifiable"] else "  NOT IDENTIFIABLE") + \
            ("  at a bound" if p["at_bound"] else "")
        lines.append(f"{p['path']}: {p['before']:g} -> {p['after']:.4g}{std}{flags}")
    if run.identifiability.get("unidentifiable"):
        lines.append(run.identifiability["message"])
    return "\n".join(lines)


def cmd_validate(args: argparse.Namespace) -> int:
    from twin.config import read_yaml

    data, _ = read_yaml(args.config)
    if isinstance(data, dict) and "meter" in data and "plant" in data:  # a calibration file
        from twin.config.calibration import load_calibration
        from twin.measured import load_meters

        cal = load_calibration(args.config)
        clock = cal.plant.simulation
        data_ = load_meters(cal.meter, cal.path.resolve().parent, cal.plant.site.timezone,
                            clock.settlement_interval_min * 60.0)
        left = sum(sum(v.values()) for v in data_.quality.values())
        kinds = sorted({p.kind for p in cal.parameters})
        print(f"{args.config}: OK (calibration of {cal.plant_path.name}: "
              f"{len(data_.targets)} meters, {left} readings left out by the data-quality "
              f"pass, {len(cal.parameters)} parameters {'/'.join(kinds)})")
        return 0
    if isinstance(data, dict) and ("scenarios" in data or "sizing" in data
                                   or "sweep" in data):  # a study file
        from twin.config.study import load_study

        r = load_study(args.config)
        sizing = ""
        if r.study.sizing is not None:
            from twin.config.sizing import load_sizing

            sizing = f", sizing {len(load_sizing(args.config).candidates)} capacities"
        for label, plant in r.preflight_plants():
            _preflight(plant, f"{args.config}: {label}", r.days(), r.start(), r.seed())
        scenarios, runs = _study_count(r)
        print(f"{args.config}: OK (study on {r.plant_path.name}: {scenarios}, base "
              f"'{r.study.base}', {r.study.replications} replications{sizing}; {runs})")
        if r.runs() > r.study.max_runs:
            print(f"{args.config}: note: {r.runs():,} runs is more than max_runs "
                  f"({r.study.max_runs:,}); twin compare will ask for --yes", file=sys.stderr)
        return 0
    plant = load_plant(args.config)
    _preflight(plant, str(args.config))
    n_st = sum(len(line.stations) for line in plant.lines)
    if plant.has_production:
        print(f"{args.config}: OK ({len(plant.products)} products, {len(plant.lines)} lines, "
              f"{n_st} stations, {len(plant.sources)} sources, {len(plant.base_loads)} base "
              f"loads)")
    else:
        print(f"{args.config}: OK (no production, {len(plant.base_loads)} base loads)")
    return 0


def _study_count(r: Any, replications: int | None = None) -> tuple[str, str]:
    """('N scenarios (M from the sweep)', 'T runs; uncertainty ...') of a resolved study."""
    reps = replications or r.study.replications
    n = len(r.names)
    swept = f" ({len(r.swept)} from the sweep)" if r.swept else ""
    runs = r.runs(reps)
    text = f"{runs:,} run{'s' if runs != 1 else ''}"
    unc = r.study.uncertainty
    if unc is not None:
        text += "; uncertainty " + ", ".join(
            f"{s.replace('_', ' ')} {k} option{'s' if k != 1 else ''}"
            for s, k in unc.options().items()) + f" ({unc.sampling})"
    return f"{n} scenario{'s' if n != 1 else ''}{swept}", text


def _preflight(plant: Plant, where: str, *args: object) -> None:
    """What only building the model finds (files the plant names, tariff for the dates)."""
    from twin.preflight import check_run_inputs

    try:
        notes = check_run_inputs(plant, *args)  # type: ignore[arg-type]
    except (SupplyError, ValueError) as exc:
        raise UsageError(f"{where}: {exc}") from None
    for note in notes:
        print(f"{where}: warning: {note}", file=sys.stderr)


def cmd_schema(args: argparse.Namespace) -> int:
    if args.markdown:
        from twin.atomic import write_text
        from twin.config.reference import plant_file_reference

        text = plant_file_reference()
        if args.out:
            print(f"twin: plant-file reference {write_text(args.out, text)}")
        else:
            sys.stdout.write(text)
        return 0
    if args.out:
        raise UsageError("schema: --out goes with --markdown")
    schema = Plant.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "Factory twin plant file"
    print(json.dumps(schema, indent=2))
    return 0


def cmd_init(args: argparse.Namespace) -> int:
    from twin.config.templates import TemplateError, write_template

    try:
        path = write_template(args.sector, args.path, force=args.force)
    except TemplateError as exc:
        raise UsageError(f"init: {exc}") from None
    print(f"twin: wrote {path} (sector {args.sector}); every value marked ILLUSTRATIVE is a "
          f"placeholder to replace")
    print(f"twin: next: twin validate {path}; twin run {path} --days 7")
    return 0


def build_parser() -> argparse.ArgumentParser:
    from twin import __version__

    p = argparse.ArgumentParser(prog="twin", description="Factory energy and carbon twin.")
    p.add_argument("--version", action="version", version=f"twin {__version__}")
    sub = p.add_subparsers(dest="command", required=True)

    r = sub.add_parser("run", help="simulate a plant and write a run folder")
    r.add_argument("config", help="plant YAML file")
    r.add_argument("--days", type=_positive, help="simulated days (default: the file's)")
    r.add_argument("--start", type=_date, help="first day YYYY-MM-DD (default: the file's)")
    r.add_argument("--seed", type=_seed, help="random seed (default: the file's)")
    r.add_argument("--out", help="run folder (default: results/<plant>_<time>)")
    r.add_argument("--overwrite", action="store_true", help="replace an existing run folder")
    r.add_argument("--lang", choices=LANGUAGES, help="dashboard language (default: the plant "
                   "file's site.language, else en; zh: Chinese, CNY in 万元)")
    r.add_argument("--steps", action="store_true",
                   help="also write steps.parquet: each lot's arrival, start, finish and leaving "
                        "at every station (as simulation.steps: true)")
    r.add_argument("--jobs", type=_count_arg("jobs"),
                   help="worker processes for a plant whose lines split into independent parts "
                        "(same results as one process; default 1; simulation.partition: off "
                        "keeps a plant in one process)")
    r.set_defaults(func=cmd_run)

    v = sub.add_parser("validate", help="check a plant, study or calibration file and report "
                                        "every problem")
    v.add_argument("config")
    v.set_defaults(func=cmd_validate)

    c = sub.add_parser("compare", help="run a study's scenarios with common random numbers and "
                                       "compare them")
    c.add_argument("study", help="study YAML file (simulations/*.yaml)")
    c.add_argument("--out", help="study folder (default: results/study-<name>_<time>)")
    c.add_argument("--jobs", type=_count_arg("jobs"),
                   help="parallel processes (default: the number of cores)")
    c.add_argument("--days", type=_positive, help="simulated days (default: the study's)")
    c.add_argument("--replications", type=_count_arg("replications"),
                   help="replications per scenario (default: the study's)")
    c.add_argument("--overwrite", action="store_true", help="replace an existing study folder")
    c.add_argument("--scheduler", metavar="ADDRESS",
                   help="run on Dask: 'local' starts a local cluster of --jobs processes; "
                        "tcp://HOST:PORT uses a running 'dask scheduler' and its workers")
    c.add_argument("--runs-dir", metavar="DIR",
                   help="run cache, a folder every worker can write at the same path (default: "
                        ".<out>.runs beside --out, removed when the study is written); runs "
                        "completed there are reused")
    c.add_argument("--resume", action="store_true",
                   help="also reuse the runs of a complete study folder at --out (replaced); "
                        "completed runs of an interrupted study are reused without it")
    c.add_argument("--yes", action="store_true", help="start a study of more runs than its "
                   "max_runs (default 10,000)")
    c.add_argument("--lang", choices=LANGUAGES, help="language of the study dashboard and the "
                   "printed table (default en; zh: Chinese, economics in 万元)")
    c.set_defaults(func=cmd_compare)

    z = sub.add_parser("size", help="choose least-cost capacities for a study's sizing: block "
                                    "(one LP), write the sized plant and check it by simulation")
    z.add_argument("study", help="study YAML file with a sizing: block")
    z.add_argument("--out", help="sizing folder (default: results/sizing-<study>_<time>)")
    z.add_argument("--overwrite", action="store_true", help="replace an existing sizing folder")
    z.add_argument("--days", type=_positive, help="simulated days (default: the study's)")
    z.add_argument("--replications", type=_count_arg("replications"),
                   help="replications of the check (default: the study's)")
    z.add_argument("--no-verify", action="store_true", help="skip the check by simulation")
    z.add_argument("--jobs", type=_count_arg("jobs"), help="processes of the check")
    z.set_defaults(func=cmd_size)

    k = sub.add_parser("calibrate", help="compare a plant with its meters (ASHRAE Guideline 14) "
                                         "and fit its uncertain parameters")
    k.add_argument("calibration", help="calibration YAML file (plant, meter data, parameters)")
    k.add_argument("--out", help="calibration folder (default: results/calibration-<name>_"
                                 "<time>)")
    k.add_argument("--no-fit", action="store_true",
                   help="only compare the plant as it is with the meters")
    k.add_argument("--replications", type=_count_arg("replications"),
                   help="replications per evaluation (default: the file's)")
    k.add_argument("--jobs", type=_count_arg("jobs"),
                   help="parallel processes for the replications (default: the number of "
                        "cores)")
    k.add_argument("--overwrite", action="store_true",
                   help="replace an existing calibration folder")
    k.set_defaults(func=cmd_calibrate)

    d = sub.add_parser("dashboard", help="write dashboard.html into a run, study or "
                                         "calibration folder")
    d.add_argument("run_dir", help="run folder written by 'twin run', study folder written "
                                   "by 'twin compare' or calibration folder written by 'twin "
                                   "calibrate'")
    d.add_argument("--lang", choices=LANGUAGES, help="page language (default: the plant "
                   "file's site.language, else en; zh: Chinese, CNY in 万元)")
    d.set_defaults(func=cmd_dashboard)

    rp = sub.add_parser("report", help="write report.md, report.html and evaluation.json "
                                       "(carbon inventory and zero-carbon evaluation)")
    rp.add_argument("run_dir", help="run folder written by 'twin run'")
    rp.add_argument("--baseline", help="run folder of the baseline (reductions, changes)")
    rp.add_argument("--rules", help="rule set (hunan_2027, hunan_2030, hunan_2035, "
                                    "t_ceca_g_0171_2022, national_guideline_2026); "
                                    "default: the plant file's or hunan_2030")
    rp.add_argument("--lang", choices=LANGUAGES, help="report language (default: the plant "
                    "file's site.language, else en; zh: Chinese, the same numbers)")
    rp.add_argument("--basis", choices=("calorific", "equal_value"),
                    help="tce basis of electricity instead of the rule set's (the other is "
                         "shown beside it)")
    rp.set_defaults(func=cmd_report)

    x = sub.add_parser("export", help="write results.xlsx (KPIs, hourly, monthly, equipment, "
                                      "evaluation; a study's comparison and economics) into a "
                                      "run or study folder")
    x.add_argument("folder", help="run folder written by 'twin run' or study folder written "
                                  "by 'twin compare'")
    x.add_argument("--xlsx", action="store_true", help="an Excel workbook, results.xlsx")
    x.set_defaults(func=cmd_export)

    s = sub.add_parser("schema", help="print the JSON Schema of plant files (for editors), or "
                                      "with --markdown their reference page")
    s.add_argument("--markdown", action="store_true",
                   help="the human-readable reference (every section and field: type, unit, "
                        "default, allowed values, description) as Markdown")
    s.add_argument("--out", help="write the Markdown page to this file instead of printing it")
    s.set_defaults(func=cmd_schema)

    i = sub.add_parser("init", help="write a commented starter plant file for a sector")
    i.add_argument("--sector", required=True, choices=SECTORS, metavar="SECTOR",
                   help=f"one of {', '.join(SECTORS)}")
    i.add_argument("path", help="plant file to write, e.g. plant.yaml")
    i.add_argument("--force", action="store_true", help="replace an existing file")
    i.set_defaults(func=cmd_init)
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``twin`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        with terminate_as_interrupt():  # SIGTERM cleans up like Ctrl-C
            return int(args.func(args))
    except ConfigError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_USAGE
    except UsageError as exc:
        print(f"twin: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except MeterDataError as exc:  # a meter file that cannot be read: one line
        print(f"twin: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as exc:  # e.g. --out in a read-only place
        where = f": {exc.filename}" if exc.filename else ""
        print(f"twin: {exc.strerror or exc}{where}", file=sys.stderr)
        return EXIT_USAGE
    except SimulationStalled as exc:
        print(f"twin: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except Interrupted as exc:
        print(f"twin: interrupted; {exc}", file=sys.stderr)
        return 130
    except KeyboardInterrupt:
        print("twin: interrupted; nothing was written (an existing output folder is unchanged)",
              file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
