"""Generation profile files: a PV or wind plant's output as a time series instead of the weather
model (a PVsyst hourly export, the plant's own PV meter, a wind farm's SCADA export).

The file is read with the meter readers of :mod:`twin.measured` (CSV, Parquet, XLSX; timestamps
with or without UTC offset, daylight-saving hours resolved by row order). **Each timestamp is the
start of its step**; steps are regular, one hour or finer. Values are average power over the step
[kW] or energy in the step [kWh], absolute or per kW of capacity; they are turned into average
power and the energy of any period is the exact integral of that piecewise-constant power, so a
15-min profile on 1-hour settlement intervals (or the reverse) loses nothing and invents nothing.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd

from twin.config.profiles import GenerationProfile, parse_zone
from twin.energy.weather import local_standard_time
from twin.measured.errors import MeterDataError
from twin.measured.reading import read_table
from twin.measured.timestamps import parse_timestamps
from twin.safety import MAX_DATA_FILE_BYTES, file_problem

MAX_STEP = pd.Timedelta(hours=1)
"""Coarsest profile step: hourly or finer, as the issue asks (a daily total has no shape)."""


def read_profile(path: str | Path, spec: GenerationProfile, site_zone: str) -> pd.Series:
    """Average power of each step of a profile file, per kW of capacity or absolute as the file.

    Parameters
    ----------
    path : str or Path
        The profile file (``spec.file`` resolved against the plant file's folder).
    spec : GenerationProfile
        Columns, unit, zone of naive timestamps (default ``site_zone``) and XLSX sheet.
    site_zone : str
        IANA zone of the site.

    Returns
    -------
    kw : Series
        Average power over each step [kW, or kW per kW of capacity], on a UTC index of step
        starts, sorted; ``attrs['step']`` is the step (Timedelta).

    Raises
    ------
    ValueError
        One line naming the file and the line or column: missing file or column, unparsable or
        duplicate timestamps, steps that are irregular or longer than an hour, a value that is not
        a number or is negative. Never a line of the file beyond the one bad value.
    """
    path = Path(path)
    shown = path.name
    ts_col, val_col = spec.timestamp_column, spec.value_column
    problem = file_problem(path, "a generation profile (CSV, Parquet or XLSX)",
                           MAX_DATA_FILE_BYTES)
    if problem is not None:
        raise MeterDataError(shown, "", problem)
    table = read_table(path, shown, [ts_col, val_col], sheet=spec.sheet,
                       max_bytes=MAX_DATA_FILE_BYTES)
    frame = table.frame
    if len(frame) == 0:
        raise MeterDataError(shown, "", "no data rows")
    zone = parse_zone(spec.timezone) if spec.timezone is not None else site_zone
    t_ns, why = parse_timestamps(frame[ts_col], zone)  # type: ignore[arg-type]
    bad = np.flatnonzero(why != "")
    if bad.size:
        i = int(bad[0])
        reason = {"dst_nonexistent": "a local time that does not exist (daylight-saving gap)",
                  "dst_ambiguous": "a local time that occurs twice (daylight-saving change) and "
                                   "cannot be resolved by row order"}.get(why[i], "unparsable")
        raise MeterDataError(shown, f"{table.where(i)}: column {ts_col}",
                             f"timestamp is {reason}; expected ISO 8601 such as "
                             f"2025-06-01 10:00 or 2025-06-01T10:00+08:00", frame[ts_col].iloc[i],
                             True)
    raw = frame[val_col]
    values = np.array(pd.to_numeric(raw, errors="coerce"), dtype=float)
    bad = np.flatnonzero(~np.isfinite(values) | (values < 0))
    if bad.size:
        i = int(bad[0])
        what = "negative" if np.isfinite(values[i]) else "not a number"
        raise MeterDataError(shown, f"{table.where(i)}: column {val_col}",
                             f"value is {what}; expected output >= 0 [{spec.unit}]",
                             raw.iloc[i], True)
    order = np.argsort(t_ns, kind="stable")
    t_sorted = t_ns[order]
    steps = np.diff(t_sorted)
    if np.any(steps == 0):
        i = int(order[int(np.flatnonzero(steps == 0)[0]) + 1])
        raise MeterDataError(shown, f"{table.where(i)}: column {ts_col}",
                             "timestamp occurs twice; expected one row per step",
                             frame[ts_col].iloc[i], True)
    step_ns = int(steps.min()) if steps.size else int(MAX_STEP.value)
    if step_ns > MAX_STEP.value:
        raise MeterDataError(shown, f"column {ts_col}", f"step is {pd.Timedelta(step_ns)}; "
                             "expected hourly or finer")
    gaps = np.flatnonzero(steps != step_ns)
    if gaps.size:
        i = int(order[int(gaps[0]) + 1])
        raise MeterDataError(shown, f"{table.where(i)}: column {ts_col}",
                             f"steps must be regular ({pd.Timedelta(step_ns)}); this row follows "
                             f"the one before after {pd.Timedelta(int(steps[gaps[0]]))}",
                             frame[ts_col].iloc[i], True)
    step_h = step_ns / 3.6e12
    kw = values[order] / step_h if spec.unit.startswith("kwh") else values[order]
    out = pd.Series(kw, index=pd.DatetimeIndex(t_sorted.astype("M8[ns]"), tz="UTC"),
                    name="kw")
    out.attrs["step"] = pd.Timedelta(step_ns)
    out.attrs["file"] = shown
    return out


def restamped_yearly(kw: pd.Series, site_zone: str, years: range) -> pd.Series:
    """A one-year profile written into each of ``years``: every step keeps its month, day and
    time of day in the site's **local standard time** (so the sun stays where it was across
    daylight saving). February 29 takes February 28 when the file has none and is dropped in
    other years.

    Raises ValueError when the file is not one whole year (a step missing or repeated).
    """
    step = kw.attrs["step"]
    shown = kw.attrs.get("file", "profile")
    std = local_standard_time(kw.index.tz_convert(site_zone))
    offset = _standard_offset(site_zone, std)
    month_day = std.month * 100 + std.day
    key = (month_day * 10000 + std.hour * 100 + std.minute).to_numpy()
    if len(np.unique(key)) != len(key):
        raise ValueError(f"{shown}: repeat_yearly needs one year; the file repeats a "
                         f"month-day-time")
    has_leap = bool((month_day == 229).any())
    parts = []
    for y in years:
        leap = (y % 4 == 0 and y % 100 != 0) or y % 400 == 0
        keep = np.ones(len(std), dtype=bool) if leap or not has_leap else month_day != 229
        rows = std[keep]
        vals = kw.to_numpy()[keep]
        stamps = _with_year(rows, y)
        if leap and not has_leap:
            feb28 = (rows.month == 2) & (rows.day == 28)
            stamps = stamps.append(_with_year(rows[feb28], y) + pd.Timedelta(days=1))
            vals = np.concatenate([vals, vals[feb28]])
        parts.append(pd.Series(vals, index=stamps))
    joined = pd.concat(parts).sort_index()
    index = (joined.index - offset).tz_localize("UTC")
    gaps = np.flatnonzero(np.diff(index.as_unit("ns").asi8) != step.value)
    if gaps.size:
        at = (index[int(gaps[0])] + offset).tz_localize(None)
        raise ValueError(f"{shown}: repeat_yearly needs one whole year at a regular step "
                         f"({step}); after {at:%m-%d %H:%M} (local standard time) a step is "
                         "missing or repeated")
    out = pd.Series(joined.to_numpy(), index=index, name="kw")
    out.attrs = dict(kw.attrs)
    return out


def _with_year(naive: pd.DatetimeIndex, year: int) -> pd.DatetimeIndex:
    parts = pd.DataFrame({"year": year, "month": naive.month, "day": naive.day,
                          "hour": naive.hour, "minute": naive.minute, "second": naive.second})
    return pd.DatetimeIndex(pd.to_datetime(parts))


def _standard_offset(zone: str, std: pd.DatetimeIndex) -> pd.Timedelta:
    """The zone's standard UTC offset (as :func:`local_standard_time`, in mid-January)."""
    probe = pd.Timestamp(f"{int(std.year.min())}-01-15 12:00")
    jan = probe.tz_localize(zone)
    jul = pd.Timestamp(f"{int(std.year.min())}-07-15 12:00").tz_localize(zone)
    return min(jan.utcoffset(), jul.utcoffset())  # type: ignore[type-var, return-value]


def energy_in_periods(kw: pd.Series, bounds: pd.DatetimeIndex) -> np.ndarray:
    """Energy of the piecewise-constant power ``kw`` in each period between consecutive
    ``bounds`` [kWh, or kWh per kW of capacity], exact.

    ``kw`` holds the average power of steps starting at its index labels (regular step
    ``kw.attrs['step']``). The cumulative energy is exact at step boundaries and linear in
    between, so interpolating it at the bounds integrates the power exactly.

    Raises ValueError naming the period not covered by the profile.
    """
    step = kw.attrs["step"]
    shown = kw.attrs.get("file", "profile")
    starts = kw.index.as_unit("ns").asi8
    edges = np.append(starts, starts[-1] + step.value)
    b = pd.DatetimeIndex(bounds).tz_convert("UTC").as_unit("ns").asi8
    if b[0] < edges[0] or b[-1] > edges[-1]:
        first = pd.Timestamp(edges[0], tz="UTC").tz_convert(bounds.tz)
        last = pd.Timestamp(edges[-1], tz="UTC").tz_convert(bounds.tz)
        raise ValueError(
            f"{shown}: covers {first:%Y-%m-%d %H:%M} to {last:%Y-%m-%d %H:%M} but the run needs "
            f"{bounds[0]:%Y-%m-%d %H:%M} to {bounds[-1]:%Y-%m-%d %H:%M} (local time); give a "
            "file for the simulated dates or set repeat_yearly: true for a typical year")
    cum = np.concatenate([[0.0], np.cumsum(kw.to_numpy() * step.value / 3.6e12)])
    at = np.interp(b.astype(float), edges.astype(float), cum)
    return np.diff(at)


def profile_kwh(spec: GenerationProfile, path: str | Path, scale_kw: float, site_zone: str,
                t0: dt.datetime, n_intervals: int, interval_s: float, horizon_s: float
                ) -> np.ndarray:
    """Energy of a profile in each settlement interval of a run [kWh].

    ``scale_kw`` is the simulated capacity [kWp or kW]: values per kW of capacity are multiplied
    by it, absolute values by ``scale_kw / spec.capacity_kw``. Intervals start at ``t0`` (tz-aware)
    every ``interval_s``; the last ends at ``horizon_s``.
    """
    kw = read_profile(path, spec, site_zone)
    start = pd.Timestamp(t0).tz_convert("UTC")
    edges_s = np.minimum(np.arange(n_intervals + 1) * interval_s, horizon_s)
    bounds = pd.DatetimeIndex(start + pd.to_timedelta(edges_s, unit="s")).tz_convert(site_zone)
    if spec.repeat_yearly:
        first = bounds[0].year - 1
        kw = restamped_yearly(kw, site_zone, range(first, bounds[-1].year + 2))
    factor = scale_kw if spec.per_capacity else scale_kw / float(spec.capacity_kw or 1.0)
    return energy_in_periods(kw, bounds) * factor


__all__ = ["energy_in_periods", "profile_kwh", "read_profile", "restamped_yearly"]
