"""``twin calibrate``: compare the plant's model with its meters, fit the uncertain parameters,
and write the calibration folder.

The steps, each with the same seeds (common random numbers: replication ``k`` of every
evaluation runs with seed ``seed + k``, so two evaluations differ only by the parameters):

1. Read the meters (:mod:`twin.measured`: data-quality pass first), settle the period and the
   held-out days.
2. Simulate the plant as it is, every replication, keeping the time each machine spends in each
   state per interval: the readings before calibration, and their exact sensitivity to every
   power parameter (:mod:`twin.calibration.simulated`).
3. Power parameters: one bounded linear least-squares fit from those sensitivities
   (:func:`twin.calibration.fit.fit_linear`), no further run needed.
   Timeline parameters (process, warm-up, repair times; failure rates; anything that moves
   when things happen): a bounded derivative-free search (bounded Brent for one parameter,
   Nelder-Mead with bounds for several) over them, each evaluation simulating every
   replication and refitting the power parameters exactly (variable projection), within the
   file's run budget ``max_runs``.
4. The plant with the fitted values is simulated again (the readings after calibration); where
   strategies or saving modes react to power, the power fit is repeated from that run
   (Gauss-Newton) until the values settle, at most ``iterations`` times.
5. Goodness of fit per meter and for the site (ASHRAE Guideline 14-2014:
   :mod:`twin.calibration.metrics`) before, after and on the held-out days; identifiability
   (rank, condition number, correlations, parameters the meters cannot tell apart) and a
   standard error per parameter.

Weights: each meter's rows are divided by its mean measured reading, so the fit minimises the
sum of the meters' squared CV(RMSE) rather than letting the largest meter decide.
"""

from __future__ import annotations

import copy
import datetime as dt
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from twin.calibration.fit import Diagnosis, diagnose, fit_linear
from twin.calibration.simulated import Channel, channels, power_deltas, simulate_channels
from twin.config.calibration import Parameter, ResolvedCalibration, plant_at

G14_P = 1
"""Parameters ``p`` in the ``n - p`` degrees of freedom of CV(RMSE) and NMBE. ASHRAE
Guideline 14 sets p = 1 for calibrated simulation (it has no regression parameters); with it
the before and after figures compare on the same footing, and monthly figures stay defined for
a half year of data."""


@dataclass
class CalibrationRun:
    """Everything a calibration found; :func:`twin.calibration.folder.save_calibration`
    writes it."""

    cal: ResolvedCalibration
    measured: Any
    """:class:`twin.measured.MeasuredData`."""
    start: dt.date
    days: int
    holdout_start: pd.Timestamp | None
    chans: list[Channel]
    index: pd.DatetimeIndex
    y: np.ndarray
    """Measured kWh per hour and meter (NaN: no valid reading)."""
    before: np.ndarray
    after: np.ndarray | None
    parameters: list[dict]
    identifiability: dict
    metrics: dict
    runs: int
    wall_s: float
    fitted_values: dict[str, float] = field(default_factory=dict)
    site: str | None = None
    """The meter reported as ``site`` (``None``: none, or the sum in :attr:`site_parts`)."""
    site_parts: list[int] = field(default_factory=list)
    """Without a site meter: the group meters whose sum is the site's consumption."""


class CalibrationError(ValueError):
    """The meters and the model cannot be compared (e.g. no overlap in time)."""


class _Runner:
    """Runs the replications of one evaluation, in this process or in a pool of worker
    processes kept for the whole calibration (workers end with this process, even when it is
    killed; an error or an interrupt stops them at once)."""

    def __init__(self, jobs: int):
        self.jobs = jobs
        self.pool = None

    def __enter__(self) -> _Runner:
        if self.jobs > 1:
            from concurrent.futures import ProcessPoolExecutor

            from twin.safety import exit_with_parent

            self.pool = ProcessPoolExecutor(max_workers=self.jobs, initializer=exit_with_parent,
                                            initargs=(os.getpid(),))
        return self

    def __exit__(self, kind, exc, tb) -> None:
        if self.pool is None:
            return
        if kind is None:
            self.pool.shutdown(wait=True)
        else:
            from twin.safety import stop_pool

            stop_pool(self.pool)

    def run(self, tasks: list[tuple]) -> list:
        """``simulate_channels(*task)`` for every task, results in task order."""
        if self.pool is None or len(tasks) == 1:
            return [simulate_channels(*t) for t in tasks]
        return [f.result() for f in [self.pool.submit(simulate_channels, *t) for t in tasks]]


def calibrate(cal: ResolvedCalibration, fit: bool = True,
              log: Callable[[str], None] | None = None, jobs: int = 1) -> CalibrationRun:
    """Compare ``cal``'s plant with its meters and, with ``fit``, fit its parameters; ``jobs``
    worker processes run the replications of each evaluation side by side (same results as
    one)."""
    jobs = max(1, min(int(jobs), cal.spec.replications))
    with _Runner(jobs) as runner:
        return _calibrate(cal, fit, log, runner)


def _calibrate(cal: ResolvedCalibration, fit: bool, log: Callable[[str], None] | None,
               runner: _Runner) -> CalibrationRun:
    from twin.measured import load_meters

    say = log or (lambda _m: None)
    t_wall = time.perf_counter()
    plant0 = cal.plant
    tz = plant0.site.timezone
    interval_s = plant0.simulation.settlement_interval_min * 60.0
    start, days = _period(cal, tz, interval_s)
    t0 = pd.Timestamp(start).tz_localize(tz)
    t1 = pd.Timestamp(start + dt.timedelta(days=days)).tz_localize(tz)
    measured = load_meters(cal.meter, cal.path.resolve().parent, tz, interval_s, t0, t1)
    hourly = measured.hourly()
    if not np.isfinite(hourly.to_numpy(dtype=float)).any():
        raise CalibrationError(f"{cal.meter.file}: no whole hour of valid readings in the "
                               f"period {start} + {days} d")
    holdout_start = None
    if cal.spec.holdout_days > 0:
        holdout_start = t1 - pd.Timedelta(days=cal.spec.holdout_days)
        if holdout_start <= t0:
            raise CalibrationError(f"holdout_days {cal.spec.holdout_days:g} leaves no day to "
                                   f"fit in the period of {days} d")
    chans = channels(measured.targets, plant0)

    sim_data = copy.deepcopy(cal.plant_data)
    dispatch = (sim_data.get("energy") or {}).get("dispatch")
    if isinstance(dispatch, dict) and dispatch.get("bound"):
        dispatch["bound"] = False  # the LP regret is an output the calibration does not read

    def plant_for(values: dict[str, float]):
        return plant_at(sim_data, cal.plant_path, values)

    before_vals = {p.path: p.before for p in cal.parameters}
    lin = [p for p in cal.parameters if p.kind == "linear"] if fit else []
    tl = [p for p in cal.parameters if p.kind == "timeline"] if fit else []
    deltas = power_deltas(plant_for, lin, before_vals) if lin else None
    reps = cal.spec.replications
    runs = 0

    def evaluate(values: dict[str, float], sens: bool) -> tuple[np.ndarray, np.ndarray | None,
                                                                   list]:
        nonlocal runs
        plant = plant_for(values)
        outs = runner.run([(plant, start, days, cal.spec.warmup_days, cal.seed + k, chans,
                            deltas if sens else None) for k in range(reps)])
        runs += reps
        vals = np.mean([o.values for o in outs], axis=0)
        s = np.mean([o.sensitivity for o in outs], axis=0) if sens and deltas is not None \
            else None
        return vals, s, outs

    say(f"simulating the plant as it is ({reps} replication{'s' if reps != 1 else ''})")
    before, sens, outs0 = evaluate(before_vals, bool(lin))
    index = outs0[0].index
    y = hourly.reindex(index)[[c.name for c in chans]].to_numpy(dtype=float)
    in_fit = np.asarray(index < holdout_start) if holdout_start is not None else \
        np.ones(len(index), bool)
    problem = _Problem(y, in_fit, chans, index, _equipment_groups(plant0))

    after = None
    values = dict(before_vals)
    param_rows: list[dict] = []
    ident: dict = {}
    if fit and cal.parameters:
        values, after, diag, at_bound = _fit(
            problem, lin, tl, values, before, sens, evaluate, cal, say)
        param_rows, ident = _report(cal.parameters, lin, tl, values, diag, at_bound)
    elif fit:
        say("no parameters to fit: comparing only")

    metrics = {"before": problem.metrics(before, in_fit)}
    if after is not None:
        metrics["after"] = problem.metrics(after, in_fit)
    if holdout_start is not None:
        metrics["holdout"] = problem.metrics(after if after is not None else before, ~in_fit)
    return CalibrationRun(cal, measured, start, days, holdout_start, chans, index, y, before,
                          after, param_rows, ident, metrics, runs,
                          time.perf_counter() - t_wall, values if after is not None else {},
                          problem.site, problem.site_parts)


class _Problem:
    """The measured side of the fit: which rows count, and each meter's weight."""

    def __init__(self, y: np.ndarray, in_fit: np.ndarray, chans: list[Channel],
                 index: pd.DatetimeIndex, groups: list[str]):
        self.y = y
        self.index = index
        self.in_fit = in_fit
        self.chans = chans
        self.valid = np.isfinite(y)
        self.fit_rows = [np.flatnonzero(self.valid[:, k] & in_fit) for k in range(len(chans))]
        means = [float(y[r, k].mean()) if r.size else 0.0 for k, r in enumerate(self.fit_rows)]
        self.fitted = [k for k, c in enumerate(chans) if c.sensitive and means[k] > 0]
        self.weight = {k: 1.0 / means[k] for k in self.fitted}
        self.site = _site_channel(chans)
        self.site_parts = [] if self.site is not None else _site_parts(chans, groups)

    def design(self, pred: np.ndarray, sens: np.ndarray | None, x_cur: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray, list[slice]]:
        """Weighted ``A``, ``b`` with ``A x ~ b`` for the linear parameters at the current
        run (``pred`` made with ``x_cur``)."""
        blocks_a, blocks_b, segs = [], [], []
        n = 0
        n_lin = 0 if sens is None else sens.shape[2]
        for k in self.fitted:
            r = self.fit_rows[k]
            w = self.weight[k]
            a = w * sens[r, k, :] if sens is not None else np.zeros((r.size, 0))
            b = w * (self.y[r, k] - pred[r, k]) + (a @ x_cur if n_lin else 0.0)
            blocks_a.append(a)
            blocks_b.append(b)
            segs.append(slice(n, n + r.size))
            n += r.size
        a = np.vstack(blocks_a) if blocks_a else np.zeros((0, n_lin))
        b = np.concatenate(blocks_b) if blocks_b else np.zeros(0)
        return a, b, segs

    def residual(self, pred: np.ndarray) -> tuple[np.ndarray, list[slice]]:
        parts, segs, n = [], [], 0
        for k in self.fitted:
            r = self.fit_rows[k]
            parts.append(self.weight[k] * (self.y[r, k] - pred[r, k]))
            segs.append(slice(n, n + r.size))
            n += r.size
        return (np.concatenate(parts) if parts else np.zeros(0)), segs

    def metrics(self, pred: np.ndarray, rows: np.ndarray) -> dict:
        from twin.calibration.metrics import goodness_of_fit

        out = {}
        for k, ch in enumerate(self.chans):
            measured = pd.Series(np.where(rows, self.y[:, k], np.nan), index=self.index)
            out[ch.name] = goodness_of_fit(measured, pd.Series(pred[:, k], index=self.index),
                                           p=G14_P)
        if self.site is not None:
            k = [c.name for c in self.chans].index(self.site)
            out["site"] = out[self.chans[k].name]
        elif self.site_parts:
            measured = pd.Series(np.where(rows, self.y[:, self.site_parts].sum(axis=1), np.nan),
                                 index=self.index)  # NaN unless every part has a reading
            out["site"] = goodness_of_fit(
                measured, pd.Series(pred[:, self.site_parts].sum(axis=1), index=self.index),
                p=G14_P)
        return out




def _site_channel(chans: list[Channel]) -> str | None:
    """The meter reported as the site's: its electricity consumption, else its grid import."""
    for target in ("site:consumption", "site:grid_import"):
        for c in chans:
            if c.target == target and c.carrier == 0:
                return c.name
    return None


def _equipment_groups(plant) -> list[str]:
    """Groups of the plant's machines and base loads (the ``electricity_kwh:<group>`` columns
    that add up to its equipment's consumption)."""
    from twin.engine import equipment_tables

    return sorted({e.group for e in equipment_tables(plant)[0]})


def _site_parts(chans: list[Channel], groups: list[str]) -> list[int]:
    """Without a site meter: the electricity meters of equipment groups that together cover
    every group once (their sum is the site's consumption), else none."""
    parts = [k for k, c in enumerate(chans) if c.groups is not None and c.carrier == 0]
    covered = [g for k in parts for g in chans[k].groups]
    if parts and sorted(covered) == sorted(groups):
        return parts
    return []


def _fit(problem: _Problem, lin: list[Parameter], tl: list[Parameter], values: dict,
         before: np.ndarray, sens: np.ndarray | None, evaluate, cal: ResolvedCalibration,
         say) -> tuple[dict, np.ndarray, Diagnosis, dict[str, bool]]:
    """Fit ``lin`` exactly and ``tl`` by search; return values, the readings after, the
    diagnosis over all parameters, and which ended on a bound."""
    from scipy.optimize import minimize, minimize_scalar

    lo = np.array([p.min for p in lin])
    hi = np.array([p.max for p in lin])

    def fit_power(pred: np.ndarray, s: np.ndarray | None, vals: dict):
        x_cur = np.array([vals[p.path] for p in lin])
        a, b, segs = problem.design(pred, s, x_cur)
        lf = fit_linear(a, b, x_cur, lo, hi, segs)
        return lf, x_cur

    best: dict[str, Any] = {}

    def consider(vals: dict, pred: np.ndarray, s: np.ndarray | None) -> float:
        if lin:
            lf, _x_cur = fit_power(pred, s, vals)
            new = {**vals, **{p.path: float(v) for p, v in zip(lin, lf.x, strict=True)}}
            rss = lf.rss
        else:
            r, _ = problem.residual(pred)
            new, rss = dict(vals), float(r @ r)
        if not best or rss < best["rss"]:
            best.update(rss=rss, values=new)
        return rss

    consider(values, before, sens)
    if tl:
        reps = cal.spec.replications
        budget = max(1, cal.spec.max_runs // reps - 2 - len(tl))
        say(f"searching {len(tl)} timeline parameter{'s' if len(tl) != 1 else ''} "
            f"(at most {budget} evaluations x {reps} runs)")
        lo_t = np.array([p.min for p in tl])
        hi_t = np.array([p.max for p in tl])
        cache: dict[tuple, float] = {}

        def objective(u: np.ndarray) -> float:
            u = np.clip(np.atleast_1d(u), 0.0, 1.0)
            key = tuple(np.round(u, 9))
            if key in cache:
                return cache[key]
            if len(cache) >= budget:
                return math.inf
            vals = {**best["values"], **{p.path: float(lo_t[i] + u[i] * (hi_t[i] - lo_t[i]))
                                         for i, p in enumerate(tl)}}
            pred, s, _ = evaluate(vals, bool(lin))
            cache[key] = consider(vals, pred, s)
            return cache[key]

        u0 = np.array([(values[p.path] - p.min) / (p.max - p.min) for p in tl])
        cache[tuple(np.round(u0, 9))] = best["rss"]
        if len(tl) == 1:
            minimize_scalar(lambda v: objective(np.array([v])), bounds=(0.0, 1.0),
                            method="bounded", options={"xatol": 1e-3, "maxiter": budget})
        else:
            minimize(objective, u0, method="Nelder-Mead", bounds=[(0.0, 1.0)] * len(tl),
                     options={"maxfev": budget, "xatol": 1e-3, "fatol": 1e-9,
                              "initial_simplex": _simplex(u0)})
    values = best["values"]
    say("simulating the calibrated plant")
    after, s_after, outs = evaluate(values, bool(lin))
    for _ in range(cal.spec.iterations - 1):  # power that moves the timeline: refit from here
        if not lin:
            break
        lf, x_cur = fit_power(after, s_after, values)
        moved = np.abs(lf.x - x_cur) > 1e-4 * (hi - lo)
        if not moved.any():
            break
        values = {**values, **{p.path: float(v) for p, v in zip(lin, lf.x, strict=True)}}
        after, s_after, outs = evaluate(values, True)
    # the diagnosis over all parameters: exact columns for power, finite differences (same
    # seeds) for the timeline; per replication too, for the spread of the estimates
    x_lin = np.array([values[p.path] for p in lin])
    per_rep: list[list[np.ndarray]] = [[] for _ in outs]
    cols = []
    if lin:
        cols.append(problem.design(after, s_after, x_lin)[0])
        for k, o in enumerate(outs):
            per_rep[k].append(problem.design(o.values, o.sensitivity, x_lin)[0])
    for p in tl:
        span = p.max - p.min
        h = 0.02 * span if values[p.path] + 0.02 * span <= p.max else -0.02 * span
        pred_h, _, outs_h = evaluate({**values, p.path: values[p.path] + h}, False)
        # d(weighted prediction)/d(parameter) = -d(weighted residual)/d(parameter)
        cols.append(_column(problem, after, pred_h, h))
        for k, (o, oh) in enumerate(zip(outs, outs_h, strict=True)):
            per_rep[k].append(_column(problem, o.values, oh.values, h))
    r, segs = problem.residual(after)
    a_all = np.hstack(cols) if cols else np.zeros((r.size, 0))
    diag = diagnose(a_all, r, segs)
    diag.std_replications = _replication_spread(problem, outs, per_rep, diag)
    at_bound = {p.path: bool(abs(values[p.path] - p.min) <= 1e-6 * (p.max - p.min)
                             or abs(p.max - values[p.path]) <= 1e-6 * (p.max - p.min))
                for p in [*lin, *tl]}
    return values, after, diag, at_bound


def _column(problem: _Problem, pred: np.ndarray, moved: np.ndarray, h: float) -> np.ndarray:
    """Finite-difference design column of a parameter moved by ``h``: the change of the
    weighted prediction per unit."""
    r0, _ = problem.residual(pred)
    r1, _ = problem.residual(moved)
    return ((r0 - r1) / h)[:, None]


def _replication_spread(problem: _Problem, outs: list, per_rep: list[list[np.ndarray]],
                        diag: Diagnosis) -> np.ndarray:
    """Standard deviation, over the replications, of the estimate each single replication
    would give (one Gauss-Newton step from the fitted values on its own design and residual):
    how much the fitted values depend on the random draws. The meters are one realisation of
    the plant's randomness, so this spread belongs in the uncertainty. NaN with one
    replication and for unidentifiable parameters."""
    p = diag.std.size
    out = np.full(p, np.nan)
    good = [i for i in range(p) if i not in diag.unidentifiable]
    if len(outs) < 2 or not good:
        return out
    steps = []
    for o, blocks in zip(outs, per_rep, strict=True):
        a = np.hstack(blocks)[:, good]
        r, _ = problem.residual(o.values)
        steps.append(np.linalg.lstsq(a, r, rcond=None)[0])
    out[good] = np.std(np.array(steps), axis=0, ddof=1)
    return out


def _simplex(u0: np.ndarray) -> np.ndarray:
    """Nelder-Mead's first simplex: the start and a step of a quarter of the range along each
    axis (towards the wider side), so the search sees the whole box early."""
    pts = [u0.copy()]
    for i in range(u0.size):
        v = u0.copy()
        v[i] = u0[i] + 0.25 if u0[i] <= 0.5 else u0[i] - 0.25
        pts.append(v)
    return np.array(pts)


def _report(params: list[Parameter], lin: list[Parameter], tl: list[Parameter], values: dict,
            diag: Diagnosis, at_bound: dict[str, bool]) -> tuple[list[dict], dict]:
    order = [*lin, *tl]
    pos = {p.path: i for i, p in enumerate(order)}
    bad = diag.unidentifiable
    rows = []
    for p in params:
        i = pos[p.path]
        fit_sd = float(diag.std[i])
        rep_sd = float(diag.std_replications[i]) if diag.std_replications is not None \
            else math.nan
        std = math.hypot(fit_sd, rep_sd) if math.isfinite(rep_sd) else fit_sd
        rows.append({"path": p.path, "kind": p.kind, "before": p.before,
                     "after": float(values[p.path]), "std": std if math.isfinite(std) else None,
                     "std_fit": fit_sd if math.isfinite(fit_sd) else None,
                     "std_replications": rep_sd if math.isfinite(rep_sd) else None,
                     "min": p.min, "max": p.max, "at_bound": at_bound[p.path],
                     "identifiable": i not in bad})
    groups = [[order[i].path for i in g] for g in diag.groups]
    if groups:
        parts = []
        for g in groups:
            if len(g) == 1:
                parts.append(f"{g[0]} moves no fitted meter")
            else:
                parts.append("the meters see only a combination of " + " and ".join(g))
        message = ("; ".join(parts) + ". Fix all but one of each set in the calibration file "
                   "(remove it from parameters, with its value set in the plant), or add a "
                   "meter that separates them; the values given are, among equally good fits, "
                   "the ones closest to the plant file's.")
    elif math.isfinite(diag.condition_number) and diag.condition_number > 1e3:
        message = (f"all parameters identifiable, but the condition number is "
                   f"{diag.condition_number:.3g}: look at the correlations")
    else:
        message = "all parameters identifiable"
    corr = [[None if not math.isfinite(v) else round(float(v), 4) for v in row]
            for row in diag.correlations]
    # correlations in the order of the file's parameters
    idx = [pos[p.path] for p in params]
    corr = [[corr[i][j] for j in idx] for i in idx]
    ident = {"rank": diag.rank, "n_parameters": len(params),
             "condition_number": diag.condition_number if math.isfinite(
                 diag.condition_number) else None,
             "correlations": corr, "unidentifiable": groups, "message": message,
             "residual_lag1_autocorrelation": round(diag.rho, 4),
             "effective_observations": round(diag.n_effective, 1)}
    return rows, ident


def _period(cal: ResolvedCalibration, tz: str, interval_s: float) -> tuple[dt.date, int]:
    """First day and whole days of the compared period: the file's, else the meter data's span
    (whole local days it covers)."""
    p = cal.spec.period
    if p is not None and p.days is not None:
        days = p.days
        if abs(days - round(days)) > 1e-9:
            raise CalibrationError(f"period.days must be whole days (got {days:g})")
        return p.start, round(days)
    from twin.measured import load_meters

    data = load_meters(cal.meter, cal.path.resolve().parent, tz, interval_s)
    first, last = data.span
    if first is None:
        raise CalibrationError(f"{cal.meter.file}: no valid meter reading")
    start = p.start if p is not None else (
        first.date() if first == first.normalize() else first.date() + dt.timedelta(days=1))
    end_excl = (last + pd.Timedelta(seconds=data.step_s))
    end_day = end_excl.date()
    days = (end_day - start).days
    if days < 1:
        raise CalibrationError(f"{cal.meter.file}: the meter data cover no whole day from "
                               f"{start}")
    return start, days
