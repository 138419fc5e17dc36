r"""Scenario studies: run every scenario x replication with common random numbers and compare.

``twin compare STUDY.yaml`` (and :func:`run_study`) runs replication k of every scenario with
seed ``seed + k``, so that every random stream (``twin.streams``) draws the same numbers in every
scenario and the scenarios differ only where their configs do. With an ``uncertainty:`` block,
replication k of every scenario also gets the same weather, prices and grid factor year
(:meth:`twin.config.study.ResolvedStudy.plant_for`). The runs go to
``OUT/<scenario>/rep<k>/`` (ordinary run folders), and the comparison to:

* ``comparison.csv``  one row per scenario and KPI: mean and 95 % confidence interval over the
  replications, and the paired difference against the base scenario with its interval;
* ``comparison.md``   the same as tables for people, with the economics of the upgrades;
* ``economics.csv``   one row per upgrade scenario: annualised savings and every metric of
  :func:`twin.economics.evaluate` (NPV, IRR, payback, levelised abatement cost);
* ``macc.csv``        the marginal abatement cost curve (:func:`twin.economics.macc`);
* ``study.json``      the study, seeds, per-run config hashes, versions (marks a study folder);
* ``dashboard.html``  the study dashboard (:mod:`twin.dashboard.study`).

The folder is built under a temporary name beside ``OUT`` and renamed into place at the end.

Statistics
----------
Replications are independent (distinct seeds), so for one scenario the mean of a KPI over
:math:`n` replications has the Student-t interval

.. math:: \bar x \pm t_{1-\alpha/2,\,n-1}\, s / \sqrt n

and the difference to the base is estimated by the paired-t interval on the per-replication
differences :math:`d_k = x_k^{scen} - x_k^{base}` (Law, *Simulation Modeling and Analysis*, 5th
ed., 2015, sections 4.5 and 10.2.1). Common random numbers make :math:`d_k` vary far less than
either KPI, which is why the paired interval is tight (Law, section 11.2).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import os
import sys
import time
from collections import Counter
from collections.abc import Callable, MutableMapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from twin.atomic import check_out as check_out_folder
from twin.atomic import csv_safe, staged_folder
from twin.config.plant import Plant
from twin.config.study import STUDY_FILES, ResolvedStudy
from twin.i18n import N_, display_width, tr

CONFIDENCE = 0.95
"""Level of every interval in a comparison."""

MARKER = STUDY_FILES[0]
"""The file that marks a folder as a study output (``--overwrite`` replaces only those)."""

KPIS: tuple[tuple[str, str, str], ...] = (
    ("units_completed", "units", N_("Units completed")),
    ("electricity_kwh", "kWh", N_("Electricity use")),
    ("natural_gas_kwh", "kWh", N_("Natural gas (LHV)")),
    ("grid_import_kwh", "kWh", N_("Grid import")),
    ("grid_export_kwh", "kWh", N_("Grid export")),
    ("pv_kwh", "kWh", N_("PV generation")),
    ("curtailed_kwh", "kWh", N_("Curtailed")),
    ("battery_discharge_kwh", "kWh", N_("Battery discharge")),
    ("peak_demand_kw", "kW", N_("Peak demand")),
    ("peak_grid_import_kw", "kW", N_("Peak grid import")),
    ("energy_cost", "{cur}", N_("Energy cost")),
    ("demand_cost", "{cur}", N_("Demand cost")),
    ("gas_cost", "{cur}", N_("Gas cost")),
    ("cost_total", "{cur}", N_("Total energy cost")),
    ("co2_scope1_kg", "kgCO2", N_("Scope 1")),
    ("co2_scope2_location_kg", "kgCO2", N_("Scope 2 location-based")),
    ("co2_scope2_market_kg", "kgCO2", N_("Scope 2 market-based")),
    ("co2_total_location_kg", "kgCO2", N_("Scope 1 + 2 location-based")),
    ("co2_total_market_kg", "kgCO2", N_("Scope 1 + 2 market-based")),
    ("renewable_electricity_share", "-", N_("Renewable electricity share")),
    ("self_sufficiency", "-", N_("Self-sufficiency")),
    ("kwh_per_unit", "kWh/unit", N_("Electricity per unit")),
    ("co2_kg_per_unit", "kgCO2/unit", N_("CO2 per unit (location)")),
    ("mean_lead_time_h", "h", N_("Mean lead time")),
    ("on_time_share", "-", N_("Lots on time (due dates)")),
    ("dispatch_regret", "{cur}", N_("Dispatch regret (vs perfect foresight)")),
    ("pue", "kWh/kWh", N_("PUE (site / IT electricity)")),
)
"""KPIs compared: name in ``kpis.json`` (or derived, ``co2_total_*``), unit, label."""

SUMMARY_KPIS = ("units_completed", "electricity_kwh", "grid_import_kwh", "peak_demand_kw",
                "cost_total", "co2_total_location_kg", "renewable_electricity_share",
                "kwh_per_unit")
"""KPIs of the table printed at the end of ``twin compare`` (all are in comparison.md)."""

COMPARISON_COLUMNS = ("scenario", "kpi", "unit", "n", "mean", "ci_low", "ci_high",
                      "diff_mean", "diff_ci_low", "diff_ci_high", "diff_pct", "variation")
"""Columns of ``comparison.csv``; ``diff_*`` = scenario minus base, paired by replication;
``variation`` = the sources of variation the intervals cover, ``+``-joined: ``process`` (the DES
streams) and, with a study's ``uncertainty:`` block, ``weather``, ``prices``, ``grid factor``."""


# ---------------------------------------------------------------------------------------------
# statistics (pure)


@dataclass(frozen=True)
class Interval:
    """A sample mean and its two-sided confidence interval."""

    mean: float
    low: float
    high: float
    n: int

    @property
    def half_width(self) -> float:
        return (self.high - self.low) / 2.0


def mean_ci(values: Sequence[float] | np.ndarray, level: float = CONFIDENCE) -> Interval:
    r"""Mean of independent replications and its Student-t confidence interval.

    Parameters
    ----------
    values : sequence of float
        One value per replication (any unit; the interval has the same unit).
    level : float, default 0.95
        Two-sided confidence level.

    Returns
    -------
    Interval
        ``mean`` :math:`\bar x`, ``low``/``high`` :math:`\bar x \mp t_{1-\alpha/2,n-1} s/\sqrt n`
        with :math:`s` the sample standard deviation (``ddof=1``). With one value, or any value
        not finite, the bounds are NaN (no interval); with zero spread they equal the mean.

    References
    ----------
    A. M. Law, *Simulation Modeling and Analysis*, 5th ed., McGraw-Hill, 2015, eq. (4.12).
    """
    x = np.asarray(values, dtype=float)
    n = int(x.size)
    if n == 0 or not np.isfinite(x).all():
        return Interval(math.nan, math.nan, math.nan, n)
    mean = float(x.mean())
    if n == 1:
        return Interval(mean, math.nan, math.nan, 1)
    s = float(x.std(ddof=1))
    half = float(stats.t.ppf(0.5 + level / 2.0, n - 1)) * s / math.sqrt(n) if s > 0 else 0.0
    return Interval(mean, mean - half, mean + half, n)


def paired_ci(scenario: Sequence[float] | np.ndarray, base: Sequence[float] | np.ndarray,
              level: float = CONFIDENCE) -> Interval:
    r"""Paired-t interval of the mean difference ``scenario - base`` over replications.

    Replication k of both scenarios must share its seed (common random numbers). The interval is
    :func:`mean_ci` of :math:`d_k = x_k - y_k` (Law 2015, section 10.2.1, the paired-t
    confidence interval); it needs no assumption of equal variances and gains from the positive
    correlation that common random numbers induce.
    """
    a = np.asarray(scenario, dtype=float)
    b = np.asarray(base, dtype=float)
    if a.shape != b.shape:
        raise ValueError(f"paired samples need equal lengths, got {a.size} and {b.size}")
    return mean_ci(a - b, level)


def annualise(value: float, days: float) -> float:
    """Scale a total over ``days`` simulated days to a year [unit/yr]: ``value * 365 / days``.

    Demand charges are monthly, so a run shorter than a month annualises them only roughly."""
    return value * 365.0 / days


# ---------------------------------------------------------------------------------------------
# running


@dataclass(frozen=True)
class _Task:
    scenario: str
    rep: int
    plant: Plant
    days: float
    start: dt.date
    seed: int
    folder: str


def flat_kpis(kpis: dict[str, Any]) -> dict[str, float]:
    """The compared KPIs of one run (:data:`KPIS`), missing or None as NaN, with the derived
    totals ``co2_total_location_kg`` = scope 1 + scope 2 location-based (and market-based) and
    ``on_time_share`` from ``due_dates``."""
    out: dict[str, float] = {}
    for name, _, _ in KPIS:
        v = (kpis.get("due_dates") or {}).get(name) if name == "on_time_share" \
            else kpis.get(name)
        out[name] = float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) \
            else math.nan
    s1 = out["co2_scope1_kg"]
    out["co2_total_location_kg"] = s1 + out["co2_scope2_location_kg"]
    out["co2_total_market_kg"] = s1 + out["co2_scope2_market_kg"]
    out["simulated_days"] = float(kpis.get("simulated_days") or math.nan)
    return out


class StudyOutputError(ValueError):
    """An output folder that ``twin compare`` may not write."""


def check_out(out: Path, overwrite: bool) -> None:
    """Refuse an output folder that exists, unless ``overwrite`` and it is a study output (has
    ``study.json``) or empty: a mistaken ``--out`` never deletes other files. Also refuse, before
    any run, a symbolic link or a place that cannot be written (:func:`twin.atomic.check_out`).
    """
    check_out_folder(out, overwrite, MARKER, "study", "study output", StudyOutputError)


@dataclass(frozen=True)
class RunEvent:
    """Progress of a study, after each run: ``done`` of ``total`` runs are finished (``failed``
    of them failed, ``reused`` came from the run cache), the last one was ``scenario`` rep
    ``rep`` (``wall_s`` seconds; NaN for a reused run), and about ``eta_s`` seconds are left
    (NaN until a run has finished here)."""

    done: int
    total: int
    failed: int
    reused: int
    scenario: str
    rep: int
    wall_s: float
    eta_s: float
    error: str | None = None


def _duration(s: float) -> str:
    if not math.isfinite(s):
        return "?"
    if s < 90:
        return f"{s:.0f} s"
    if s < 5400:
        return f"{s / 60:.0f} min"
    return f"{s / 3600:.1f} h"


def _progress_to_stderr(ev: RunEvent) -> None:
    what = "failed: " + ev.error if ev.error else (
        "reused" if not math.isfinite(ev.wall_s) else f"done ({ev.wall_s:.1f} s)")
    print(f"twin: [{ev.done}/{ev.total}] {ev.scenario} rep{ev.rep} {what}; {ev.failed} failed, "
          f"~{_duration(ev.eta_s)} left", file=sys.stderr, flush=True)


def run_study(
    resolved: ResolvedStudy,
    out: str | os.PathLike[str],
    *,
    jobs: int | None = None,
    days: float | None = None,
    replications: int | None = None,
    overwrite: bool = False,
    progress: Callable[[RunEvent], None] | None = _progress_to_stderr,
    dashboard: bool = True,
    scheduler: str | None = None,
    runs_dir: str | os.PathLike[str] | None = None,
    resume: bool = False,
    log: Callable[[str], None] | None = None,
) -> Path:
    """Run every scenario x replication and write the study folder ``out``; return its path.

    Parameters
    ----------
    resolved : ResolvedStudy
        From :func:`twin.config.study.load_study`.
    out : path
        Study folder to write (atomically: built under a temporary name, then renamed).
    jobs : int, optional
        Local processes (or workers of ``scheduler="local"``); default the number of cores.
        1 runs in this process.
    days, replications : optional
        Override the study's period [d] and number of replications.
    overwrite : bool
        Replace ``out`` if it is a study output folder.
    progress : callable, optional
        Called with a :class:`RunEvent` after each run.
    dashboard : bool
        Also write ``dashboard.html``.
    scheduler : str, optional
        Run on Dask: ``"local"`` (a ``LocalCluster`` of ``jobs`` processes) or the address of a
        running scheduler, ``tcp://HOST:PORT`` (:mod:`twin.executors`).
    runs_dir : path, optional
        The run cache (:mod:`twin.study_runs`), a folder every worker can write at the same
        path; default ``.<out>.runs`` beside ``out``, removed once the study is written.
    resume : bool
        Also reuse the runs of a complete study folder at ``out`` (and replace it). Completed
        runs in the run cache (after a crash, kill or failed run) are always reused.
    log : callable, optional
        Called with one line of text about the executor and the runs reused.
    """
    from twin import study_runs as sr
    from twin.executors import make_executor

    out = Path(out)
    check_out(out, overwrite or resume)
    study = resolved.study
    n_days = float(days) if days is not None else resolved.days()
    n_rep = int(replications) if replications is not None else study.replications
    seed0 = resolved.seed()
    start = resolved.start()
    from twin.preflight import check_run_inputs

    for _, plant in resolved.preflight_plants():  # bad files, tariffs: before any run
        check_run_inputs(plant, n_days, start, seed0)
    cache = Path(runs_dir) if runs_dir is not None else sr.default_cache(out)
    t_start = time.perf_counter()
    with staged_folder(out) as tmp:
        tasks = [_Task(s, k, resolved.plant_for(s, k), n_days, start, seed0 + k,
                       str(tmp / s / f"rep{k}"))
                 for s in resolved.plants for k in range(n_rep)]
        for s in resolved.plants:
            (tmp / s).mkdir()
        shas = {f: sr.file_sha(f) for t in tasks for f in sr.data_files(t.plant)}
        keys = {(t.scenario, t.rep): sr.run_key(t.plant, t.days, t.start, t.seed, shas)
                for t in tasks}
        first: dict[str, _Task] = {}  # one run per distinct key (equal runs simulate once)
        for t in tasks:
            first.setdefault(keys[(t.scenario, t.rep)], t)
        adopted = sr.adopt_study_runs(out, cache, set(first)) if resume else 0
        rows = sr.KpiRows()  # key -> every scalar KPI of the run (compact while runs come in)
        todo = []
        for key, t in first.items():
            if (d := sr.cached(cache, key)) is not None:
                rows[key] = _kpi_row(json.loads((d / "kpis.json").read_text(encoding="utf-8")))
            else:
                todo.append(t)
        share = Counter(keys.values())  # runs (scenario, rep) that each distinct run stands for
        reused = sum(share[key] for key in rows)  # (the cache folder appears with its first run)
        with make_executor(jobs, scheduler, tasks=len(todo), warm_up=(
                _import_supply if any(p.energy is not None for p in resolved.plants.values())
                else None)) as executor:
            if log:
                log(f"{len(tasks)} runs: {reused} reused from {cache}"
                    + (f" ({adopted} from the study folder)" if adopted else "")
                    + f", {len(todo)} to run on {executor.describe()}"
                    + (f" ({len(tasks) - len(first)} equal to another run)"
                       if len(first) < len(tasks) else ""))
            remote = scheduler is not None  # workers get the data files' bytes, not paths
            # a worker on another machine sends its run folder back, unless the user named a
            # shared cache; a local cluster's workers share this machine's disk
            send_back = remote and scheduler != "local" and runs_dir is None
            # the data files' bytes go to each worker once (Dask scatters them), not per run
            payload = {f: Path(f).read_bytes() for f in shas} if remote and shas else None
            run_jobs = [sr.RunJob(t, keys[(t.scenario, t.rep)],
                                  None if send_back
                                  else str(cache.resolve() / keys[(t.scenario, t.rep)]))
                        for t in todo]
            failures = _collect(executor, run_jobs, cache, rows, share, reused, progress,
                                payload)
            del run_jobs, payload
        if failures:
            job, exc = failures[0]
            print(f"twin: {len(failures)} of {len(first)} distinct runs failed (first: "
                  f"{job.task.scenario} rep{job.task.rep}); the {len(rows)} completed runs are "
                  f"kept in {cache} and reused by the next run of this study", file=sys.stderr)
            raise exc
        for t in tasks:
            sr.link_tree(cache / keys[(t.scenario, t.rep)], Path(t.folder))
        full = {(s, k): rows[key] for (s, k), key in keys.items()}
        kpis = {sk: flat_kpis_from_row(row) for sk, row in full.items()}
        sr.runs_table(resolved, full, {(t.scenario, t.rep): t.seed for t in tasks},
                      keys).to_parquet(tmp / "runs.parquet", index=False)
        comparison = compare(resolved, kpis, n_rep)
        econ = economics(resolved, kpis, n_rep)
        from twin.economics import macc

        curve = macc(econ.upgrades)
        _write_csv(comparison, tmp / "comparison.csv")
        _write_csv(econ.table, tmp / "economics.csv")
        _write_csv(curve, tmp / "macc.csv")
        from twin.study_savings import savings_by_cause, waterfall_table

        causes = savings_by_cause(tmp, resolved.names, study.base, n_rep)
        falls = waterfall_table(tmp, study, n_rep)
        _write_csv(causes, tmp / "savings_by_cause.csv")
        _write_csv(falls, tmp / "waterfall.csv")
        manifest = _manifest(resolved, n_days, n_rep, seed0, start, jobs,
                             time.perf_counter() - t_start)
        manifest["executor"] = executor.describe()
        manifest["runs_reused"] = reused
        manifest["parameters"] = sr.parameter_values(resolved)
        manifest["run_keys"] = {s: [keys[(s, k)] for k in range(n_rep)] for s in resolved.names}
        (tmp / MARKER).write_text(json.dumps(manifest, indent=2, sort_keys=False) + "\n")
        (tmp / "comparison.md").write_text(
            comparison_markdown(resolved, comparison, econ.table, curve, n_days, n_rep,
                                causes, falls))
        if dashboard:
            from twin.dashboard.study import write_study_dashboard

            write_study_dashboard(tmp)
    if runs_dir is None:
        from twin.study_runs import remove_cache

        remove_cache(cache)  # its runs are in the study folder now
    return out


def _import_supply() -> None:
    import twin.energy.supply  # noqa: F401  (pvlib once here, not in every worker)


def _kpi_row(kpis: dict[str, Any]) -> dict[str, float]:
    """Every scalar KPI of a run (:func:`twin.study_runs.scalar_kpis`) with the compared ones
    (:func:`flat_kpis`, which adds the derived totals)."""
    from twin.study_runs import scalar_kpis

    return {**scalar_kpis(kpis), **flat_kpis(kpis)}


def flat_kpis_from_row(row: dict[str, float]) -> dict[str, float]:
    """The compared KPIs (:data:`KPIS` and ``simulated_days``) of a row of :func:`_kpi_row`."""
    return {name: row.get(name, math.nan) for name in (*(k for k, _, _ in KPIS),
                                                       "simulated_days")}


def _collect(executor: Any, jobs: Any, cache: Path, rows: MutableMapping[str, dict[str, float]],
             share: Counter[str], reused: int, progress: Callable[[RunEvent], None] | None,
             files: dict[str, bytes] | None = None) -> list[tuple[Any, BaseException]]:
    """Run the jobs, put each completed run into the cache and ``rows``; report progress (in
    runs of the study: a distinct run counts for every scenario and replication it stands
    for, ``share``); return the failed jobs with their errors (the other runs go on). ``files``
    (path -> bytes of the plants' data files) goes to every worker once. Of a completed run
    only its row of KPIs stays here: the outcome, the KPI text and the folder's bytes are
    dropped once written."""
    from twin.study_runs import execute, write_packed

    failures: list[tuple[Any, BaseException]] = []
    t0 = time.perf_counter()
    total = sum(share.values())
    done = reused
    for outcome in executor.map_unordered(execute, jobs, files):
        job = outcome.task
        done += share[job.key]
        wall = math.nan
        if outcome.error is not None:
            failures.append((job, outcome.error))
        else:
            res = outcome.value
            if res.folder_files is not None:
                write_packed(cache, res.key, res.folder_files)
            rows[res.key] = _kpi_row(json.loads(res.kpis_json))
            wall = res.wall_s
            del res
        if progress:
            eta = (time.perf_counter() - t0) / (done - reused) * (total - done)
            err = outcome.error
            progress(RunEvent(done, total, len(failures), reused, job.task.scenario,
                              job.task.rep, wall, eta,
                              None if err is None else f"{type(err).__name__}: {err}"))
    return failures


def _write_csv(df: pd.DataFrame, path: Path) -> None:
    csv_safe(df).to_csv(path, index=False, float_format="%.10g", lineterminator="\n")


def _sha(plant: Plant) -> str:
    canonical = json.dumps(plant.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _uncertainty_manifest(resolved: ResolvedStudy, reps: int) -> dict[str, Any]:
    """``uncertainty``: per replication, the option of each source it ran with (the same in every
    scenario); nothing without an ``uncertainty:`` block."""
    unc = resolved.study.uncertainty
    if unc is None:
        return {}
    return {"uncertainty": [{"rep": k, **{s: unc.label(s, i)
                                          for s, i in resolved.choice(k).items()}}
                            for k in range(reps)]}


def _manifest(resolved: ResolvedStudy, days: float, reps: int, seed0: int, start: dt.date,
              jobs: int, wall: float) -> dict[str, Any]:
    from twin import __version__

    study = resolved.study
    return {
        "study": study.model_dump(mode="json"),
        "study_file": str(resolved.path),
        "plant_file": str(resolved.plant_path),
        "name": study.name or resolved.path.stem,
        "base": study.base,
        "scenarios": resolved.names,
        "days": days,
        "start": start.isoformat(),
        "replications": reps,
        "seeds": [seed0 + k for k in range(reps)],
        "variation": resolved.variation(reps),
        **_uncertainty_manifest(resolved, reps),
        "confidence": CONFIDENCE,
        "co2_basis": study.co2_basis,
        "currency": study.currency,
        "language": resolved.plants[study.base].site.language,
        "config_sha256": {s: _sha(p) for s, p in resolved.plants.items()},
        "twin_version": __version__,
        "jobs": jobs,
        "wall_clock_s": round(wall, 3),
    }


# ---------------------------------------------------------------------------------------------
# comparison


def _unit(unit: str, currency: str) -> str:
    return unit.replace("{cur}", currency)


def compare(resolved: ResolvedStudy, kpis: dict[tuple[str, int], dict[str, float]],
            reps: int) -> pd.DataFrame:
    """The comparison table: per scenario and KPI, mean and interval over replications and the
    paired difference against the base (columns :data:`COMPARISON_COLUMNS`). KPIs that no run
    reports (e.g. PV without PV) are left out; a KPI undefined in some run has NaN statistics."""
    base = resolved.study.base
    cur = resolved.study.currency
    covers = "+".join(resolved.variation(reps))
    rows = []
    for name, unit, _ in KPIS:
        arrays = {s: np.array([kpis[(s, k)][name] for k in range(reps)])
                  for s in resolved.names}
        if all(np.isnan(a).all() for a in arrays.values()):
            continue
        for s in resolved.names:
            m = mean_ci(arrays[s])
            d = paired_ci(arrays[s], arrays[base])
            pct = d.mean / m_base if (m_base := float(np.mean(arrays[base]))) else math.nan
            rows.append({"scenario": s, "kpi": name, "unit": _unit(unit, cur), "n": m.n,
                         "mean": m.mean, "ci_low": m.low, "ci_high": m.high,
                         "diff_mean": d.mean, "diff_ci_low": d.low, "diff_ci_high": d.high,
                         "diff_pct": pct, "variation": covers})
    return pd.DataFrame(rows, columns=list(COMPARISON_COLUMNS))


@dataclass
class Economics:
    """The upgrades of a study with their simulated savings, and their evaluation table."""

    upgrades: list[Any]
    table: pd.DataFrame


ECONOMICS_COLUMNS = (
    "scenario", "annual_cost_saving", "annual_cost_saving_ci_low", "annual_cost_saving_ci_high",
    "annual_co2_saving_t", "annual_co2_saving_t_ci_low", "annual_co2_saving_t_ci_high",
    "annual_energy_kwh", "capex", "analysis_years", "discount_rate", "annual_om_cost",
    "annual_net_saving", "npv", "irr", "irr_count", "simple_payback_years",
    "discounted_payback_years", "levelised_abatement_cost_per_t", "annualised_net_cost",
    "lifetime_co2_saving_t", "source",
)
"""Columns of ``economics.csv``: savings are base minus scenario, annualised (x 365 / days)."""


def economics(resolved: ResolvedStudy, kpis: dict[tuple[str, int], dict[str, float]],
              reps: int) -> Economics:
    """Annualise the paired savings of each upgrade scenario and evaluate it
    (:func:`twin.economics.evaluate`). Cost saving = base minus scenario ``cost_total``; CO2
    saving = base minus scenario scope 1 + 2 (the study's ``co2_basis``), in t/yr."""
    from twin.economics import Upgrade, evaluate

    study = resolved.study
    base = study.base
    co2_kpi = f"co2_total_{study.co2_basis}_kg"
    upgrades, rows = [], []
    for s, spec in study.scenarios.items():
        up = spec.upgrade
        if up is None:
            continue

        def saving(name: str, scale: float, scen: str = s) -> Interval:
            """Base minus scenario of KPI ``name``, annualised, times ``scale``."""
            x = [kpis[(scen, k)][name] for k in range(reps)]
            y = [kpis[(base, k)][name] for k in range(reps)]
            d = paired_ci(y, x)
            days = float(np.mean([kpis[(scen, k)]["simulated_days"] for k in range(reps)]))
            f = annualise(1.0, days) * scale
            return Interval(d.mean * f, d.low * f, d.high * f, d.n)

        cost = saving("cost_total", 1.0)
        co2 = saving(co2_kpi, 1e-3)
        if isinstance(up.annual_energy_kwh, str):
            energy = -saving(up.annual_energy_kwh, 1.0).mean  # scenario minus base
        else:
            energy = float(up.annual_energy_kwh)
        upgrade = Upgrade(
            name=s, capex=up.capex, lifetime_years=up.lifetime_years,
            annual_cost_saving=_finite_or_zero(cost.mean),
            annual_co2_saving_t=_finite_or_zero(co2.mean),
            discount_rate=(up.discount_rate if up.discount_rate is not None
                           else float(study.discount_rate or 0.0)),
            fixed_om_per_year=up.fixed_om_per_year, variable_om_per_kwh=up.variable_om_per_kwh,
            annual_energy_kwh=_finite_or_zero(energy), replacement_cost=up.replacement_cost,
            replacement_years=(tuple(up.replacement_years) if up.replacement_years is not None
                               else None),
            salvage_value=up.salvage_value, price_escalation_rate=up.price_escalation_rate,
            om_escalation_rate=up.om_escalation_rate,
            co2_saving_change_rate=up.co2_saving_change_rate, analysis_years=up.analysis_years)
        upgrades.append(upgrade)
        ev = evaluate(upgrade)
        rows.append({
            "scenario": s,
            "annual_cost_saving": cost.mean, "annual_cost_saving_ci_low": cost.low,
            "annual_cost_saving_ci_high": cost.high,
            "annual_co2_saving_t": co2.mean, "annual_co2_saving_t_ci_low": co2.low,
            "annual_co2_saving_t_ci_high": co2.high,
            "annual_energy_kwh": upgrade.annual_energy_kwh,
            **{c: ev[c] for c in ECONOMICS_COLUMNS[8:-1]},
            "source": up.source or "",
        })
    table = pd.DataFrame(rows, columns=list(ECONOMICS_COLUMNS))
    return Economics(upgrades, table)


def _finite_or_zero(x: float) -> float:
    return float(x) if math.isfinite(x) else 0.0


# ---------------------------------------------------------------------------------------------
# text output


def _num(x: float, unit: str = "", diff: bool = False) -> str:
    """About four significant digits, thousands separators; shares as percent (differences of
    shares as percentage points)."""
    if x is None or not math.isfinite(x):
        return "n/a"
    if unit == "-":
        return f"{x * 100:.1f} {'pp' if diff else '%'}"
    ax = abs(x)
    if ax >= 1000:
        return f"{x:,.0f}"
    if ax >= 10:
        return f"{x:,.1f}"
    if ax >= 1:
        return f"{x:.2f}"
    return f"{x:.3g}"


def format_interval(mean: float, low: float, unit: str, n: int, signed: bool = False) -> str:
    """``mean ± half-width`` for people: the half-width to two significant digits and the mean
    to the same decimal place (shares in %, differences of shares in pp); with one replication
    the value alone (say "n=1, no interval" once, in the table's heading)."""
    sign = "+" if signed and math.isfinite(mean) and mean > 0 else ""
    if n <= 1 or not math.isfinite(low) or not math.isfinite(mean):
        return sign + _num(mean, unit, signed)
    half = mean - low
    if half <= 1e-9 * max(abs(mean), 1.0):
        return f"{sign}{_num(mean, unit, signed)} ± 0"  # no spread (float rounding aside)
    scale, suffix = (100.0, " pp" if signed else " %") if unit == "-" else (1.0, "")
    m, h = mean * scale, half * scale
    nd = min(6, max(0, 1 - math.floor(math.log10(h))))
    return f"{sign}{m:,.{nd}f}{suffix} ± {h:,.{nd}f}{suffix}"


def _label(name: str) -> str:
    return next(lab for k, _, lab in KPIS if k == name)


def comparison_markdown(resolved: ResolvedStudy, comparison: pd.DataFrame,
                        econ: pd.DataFrame, curve: pd.DataFrame, days: float,
                        reps: int, causes: pd.DataFrame | None = None,
                        falls: pd.DataFrame | None = None) -> str:
    """``comparison.md``: means with intervals, paired differences, cost differences by cause,
    the waterfall, economics and the MACC."""
    study = resolved.study
    names = resolved.names
    base = study.base
    title = study.name or resolved.path.stem
    lines = [f"# {title}", ""]
    if study.description:
        lines += [study.description.strip(), ""]
    seed0 = resolved.seed()
    covers = resolved.variation(reps)
    lines += [
        f"Plant `{resolved.plant_path.name}`, {days:g} simulated days from "
        f"{resolved.start().isoformat()}, {reps} replication{'s' if reps != 1 else ''} per "
        f"scenario (seeds {seed0}..{seed0 + reps - 1}, common random numbers: replication k of "
        f"every scenario uses seed {seed0} + k). Intervals are two-sided "
        f"{CONFIDENCE:.0%} Student-t intervals over replications; differences are paired "
        f"(scenario minus base `{base}`, replication by replication). The intervals cover "
        f"these sources of variation: {', '.join(covers)}"
        + (" (replication k of every scenario sees the same weather, prices and grid factor "
           "year, drawn from their own random streams)" if len(covers) > 1
           else " (every replication sees the same weather, prices and grid factors)")
        + ".", ""]
    if reps == 1:
        lines += ["**n=1, no interval**: one replication per scenario gives no confidence "
                  "interval; run more replications before reading small differences.", ""]
    lines += ["## Scenarios", ""]
    for s, spec in study.scenarios.items():
        what = [spec.description.strip().rstrip(".")] if spec.description else []
        if spec.overrides:
            what.append("overrides " + ", ".join(f"`{k}`" for k in spec.overrides))
        if spec.strategies:
            what.append("strategies " + ", ".join(f"`{x.type}`" for x in spec.strategies))
        if spec.upgrade is not None:
            what.append(f"upgrade, capex {_num(spec.upgrade.capex)} {study.currency}")
        tag = " (base)" if s == base else ""
        lines.append(f"- **{s}**{tag}: " + ("; ".join(what) or "the plant as written"))
    lines += ["", "## Mean and 95 % interval per scenario", ""]
    lines += _md_table(comparison, names, "mean", "ci_low", signed=False)
    lines += ["", f"## Paired difference against `{base}`", ""]
    lines += _md_table(comparison, [s for s in names if s != base], "diff_mean",
                       "diff_ci_low", signed=True, pct=True)
    cur = study.currency
    if causes is not None and len(causes):
        lines += ["", f"## Cost difference against `{base}` by cause", "",
                  "Scenario minus base, mean over replications (negative = saving), in "
                  f"{cur} for the period; the causes add up to the total. Energy = kWh bought "
                  "more or less at the base's average price; timing = the same kWh at other "
                  "hours; tariff = other prices; then the demand, capacity, export, gas and "
                  "purchased-heat lines.", ""]
        order = list(dict.fromkeys(causes["cause"]))
        scen = list(dict.fromkeys(causes["scenario"]))
        lines += ["| Cause | " + " | ".join(scen) + " |", "|---|" + "---:|" * len(scen)]
        for c in order:
            sub = causes[causes["cause"] == c].set_index("scenario")
            label = str(sub["label"].iloc[0])
            lines.append(f"| {label} | " + " | ".join(
                format_interval(sub.loc[x, "mean"], sub.loc[x, "ci_low"], "", reps,
                                signed=True) for x in scen) + " |")
    if falls is not None and len(falls):
        lines += ["", "## Waterfall: from the base through each measure to the target", "",
                  "Each step is a scenario that holds the measures of the steps before it; a "
                  "bar is the change the step adds (means over replications, annualised).", ""]
        for chart, title in (("co2", "Net CO2, scope 1 + 2 market-based after retired "
                                     "offsets"), ("cost", "Total energy cost")):
            sub = falls[falls["chart"] == chart]
            unit = str(sub["unit"].iloc[0])
            lines += [f"{title} [{unit}]:", "", "| Bar | Change | Level after |",
                      "|---|---:|---:|"]
            for _, r in sub.iterrows():
                d = float(r["delta"])
                change = ("" if r["kind"] in ("total", "target")
                          else ("+" if d > 0 else "") + _num(d))
                lines.append(f"| {r['label']} | {change} | {_num(r['end'])} |")
            lines.append("")
    if len(econ):
        lines += ["", "## Economics of the upgrades", "",
                  f"Savings are base minus scenario, annualised x 365 / {days:g} days "
                  f"(CO2: scope 1 + 2 {study.co2_basis}-based). Demand charges are monthly, so "
                  "a run shorter than a few months annualises them only roughly.", "",
                  f"| Scenario | Cost saving [{cur}/yr] | CO2 saving [t/yr] | Capex [{cur}] | "
                  f"NPV [{cur}] | IRR | Simple payback [yr] | Abatement cost [{cur}/tCO2] |",
                  "|---|---:|---:|---:|---:|---:|---:|---:|"]
        for _, r in econ.iterrows():
            irr = "n/a" if r["irr"] is None or pd.isna(r["irr"]) else f"{r['irr']:.1%}"
            pb = r["simple_payback_years"]
            lac = r["levelised_abatement_cost_per_t"]
            lines.append(
                f"| {r['scenario']} | "
                f"{_saving(r, 'annual_cost_saving', reps)} | "
                f"{_saving(r, 'annual_co2_saving_t', reps)} | "
                f"{_num(r['capex'])} | {_num(r['npv'])} | {irr} | "
                f"{'never' if pb is None or pd.isna(pb) else f'{pb:.1f}'} | "
                f"{'n/a' if lac is None or pd.isna(lac) else _num(lac)} |")
        sources = [(r["scenario"], r["source"]) for _, r in econ.iterrows() if r["source"]]
        if sources:
            lines += ["", "Cost sources: " + "; ".join(f"{s}: {t}" for s, t in sources)]
        lines += ["", "## Marginal abatement cost curve", ""]
        if len(curve):
            lines += [f"| Upgrade | Abatement cost [{cur}/tCO2] | Abatement [tCO2/yr] | "
                      "Cumulative [tCO2/yr] |", "|---|---:|---:|---:|"]
            for _, r in curve.iterrows():
                lines.append(f"| {r['name']} | {_num(r['abatement_cost_per_t'])} | "
                             f"{_num(r['annual_abatement_t'])} | "
                             f"{_num(r['cumulative_abatement_t'])} |")
            lines += ["", "Each bar is evaluated alone against the base; interacting measures "
                          "do not simply add up."]
        else:
            lines.append("No upgrade avoids CO2, so there is no curve.")
    return "\n".join(lines) + "\n"


def _saving(row: pd.Series, col: str, reps: int) -> str:
    return format_interval(row[col], row[f"{col}_ci_low"], "", reps)


def _md_table(df: pd.DataFrame, names: list[str], col: str, low: str, *, signed: bool,
              pct: bool = False) -> list[str]:
    if not names:
        return ["(no scenario besides the base)"]
    head = "| KPI | unit | " + " | ".join(names) + " |"
    rule = "|---|---|" + "---:|" * len(names)
    out = [head, rule]
    idx = df.set_index(["kpi", "scenario"])
    for kpi in dict.fromkeys(df["kpi"]):
        cells = []
        unit = ""
        for s in names:
            r = idx.loc[(kpi, s)]
            unit = r["unit"]
            text = format_interval(r[col], r[low], unit, int(r["n"]), signed=signed)
            if pct and math.isfinite(r["diff_pct"]) and unit != "-":
                text += f" ({r['diff_pct'] * 100:+.1f} %)"
            cells.append(text)
        shown = "share" if unit == "-" else unit
        out.append(f"| {_label(kpi)} | {shown} | " + " | ".join(cells) + " |")
    return out


def summary_table(resolved: ResolvedStudy, comparison: pd.DataFrame,
                  econ: pd.DataFrame | None = None) -> str:
    """The table printed at the end of ``twin compare``: the base's mean and every other
    scenario's paired difference, for :data:`SUMMARY_KPIS`, then the economics."""
    base = resolved.study.base
    names = resolved.names
    others = [s for s in names if s != base]
    idx = comparison.set_index(["kpi", "scenario"])
    kpis = [k for k in SUMMARY_KPIS if (k, base) in idx.index]
    n = int(idx.loc[(kpis[0], base)]["n"]) if kpis else 0
    header = [tr("KPI"), tr("unit"), tr("{x} (mean)", x=base),
              *(tr("{x} (diff)", x=s) for s in others)]
    rows = []
    for k in kpis:
        b = idx.loc[(k, base)]
        unit = b["unit"]
        row = [tr(_label(k)), tr("share") if unit == "-" else unit,
               format_interval(b["mean"], b["ci_low"], unit, int(b["n"]))]
        for s in others:
            r = idx.loc[(k, s)]
            row.append(format_interval(r["diff_mean"], r["diff_ci_low"], unit, int(r["n"]),
                                       signed=True))
        rows.append(row)
    widths = [max(display_width(str(r[c])) for r in [header, *rows])
              for c in range(len(header))]

    def pad(c: object, w: int, left: bool) -> str:
        fill = " " * (w - display_width(str(c)))
        return str(c) + fill if left else fill + str(c)

    fmt = ["  ".join(pad(c, w, j < 2) for j, (c, w) in enumerate(zip(r, widths, strict=True)))
           for r in [header, *rows]]
    lines = [fmt[0], "  ".join("-" * w for w in widths), *fmt[1:]]
    if n == 1:
        lines.append(tr("n=1, no interval: run more replications before reading small"
                        " differences"))
    else:
        lines.append(tr("mean ± half-width of the {c} interval over {n} replications; diff ="
                        " scenario minus base, paired by replication", c=f"{CONFIDENCE:.0%}",
                        n=n))
    if econ is not None and len(econ):
        cur = resolved.study.currency
        lines.append("")
        for _, r in econ.iterrows():
            pb = r["simple_payback_years"]
            lac = r["levelised_abatement_cost_per_t"]
            lines.append(tr(
                "{s}: saves {save} {cur}/yr and {co2} tCO2/yr; NPV {npv} {cur}, payback {pb},"
                " abatement cost {lac}", s=r['scenario'], save=_num(r['annual_cost_saving']),
                cur=cur, co2=_num(r['annual_co2_saving_t']), npv=_num(r['npv']),
                pb=tr('never') if pb is None or pd.isna(pb) else tr("{x} yr", x=f"{pb:.1f}"),
                lac='n/a' if lac is None or pd.isna(lac) else _num(lac) + f' {cur}/tCO2'))
    return "\n".join(lines)


def load_comparison(out: str | os.PathLike[str]) -> pd.DataFrame:
    """Read ``comparison.csv`` of a study folder."""
    return pd.read_csv(Path(out) / "comparison.csv")
