"""``load_meters``: a meter file in, clean energy per interval out, every left-out reading counted.

Order of the pass, per meter: readable value and timestamp (``unparseable``, ``dst_*``) -> reading
step (median difference) and the step grid (``off_grid``) -> interval label -> requested period
(``outside_period``) -> time order (``out_of_order``, sorted and kept) -> ``duplicate`` -> unit
(kW x step, register differences with rollover, ``register_reset``; ``negative``) -> ``flatline``
-> ``spike`` -> aggregation to the output step (``incomplete_interval``) -> ``missing``.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pandas as pd

from twin.measured.errors import MeterDataError
from twin.measured.quality import (
    REASONS,
    duplicates,
    flatline,
    out_of_order,
    register_differences,
    register_max_for,
    spikes,
)
from twin.measured.reading import RawTable, read_table
from twin.measured.spec import MeterSpec, MeterTarget
from twin.measured.timestamps import NAT, UNPARSEABLE, parse_timestamps

NS = 10**9
ALLOWED_STEPS_S = tuple(60 * m for m in (1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30, 60))
"""Reading steps accepted [s]: whole minutes that divide an hour (1, 5, 10, 15, 30, 60 min...)."""


@dataclass
class MeasuredData:
    """Clean metered energy on a regular grid, and the account of what was left out."""

    energy: pd.DataFrame
    """kWh per step (multiplier applied); index: tz-aware interval starts (site zone) every
    ``step_s``; one column per meter; NaN where no valid value."""
    step_s: float
    """Step of ``energy`` [s]: the least common multiple of the meters' reading steps and the
    settlement interval (their maximum whenever one divides the other)."""
    targets: dict[str, MeterTarget]
    """Meter -> what it measures."""
    quality: dict[str, dict[str, int]]
    """Meter -> reason -> readings left out (``missing``: intervals of the meter's own step with
    no reading; ``out_of_order``: readings sorted and kept). Every reason, zeros included."""
    excluded: pd.DataFrame
    """One row per left-out reading: meter, timestamp (its interval start, site zone; NaT if
    unreadable), reason, value (as read, before multiplier; NaN if unreadable), row (file
    position)."""

    def hourly(self) -> pd.DataFrame:
        """kWh per local hour (index: hour starts); NaN unless every step of the hour is valid."""
        if self.step_s > 3600:
            raise ValueError(f"the meter step is {self.step_s:g} s; hourly values need a step "
                             "of at most 3600 s")
        idx = self.energy.index
        if len(idx) == 0:
            return self.energy.copy()
        t = idx.as_unit("ns").asi8
        hour = t - (t + _offsets(t, str(idx.tz))) % (3600 * NS)
        need = round(3600 / self.step_s)
        grouped = self.energy.groupby(hour)
        total = grouped.sum(min_count=1)
        full = grouped.count() == need
        out = total.where(full)
        out.index = pd.DatetimeIndex(pd.to_datetime(out.index, utc=True)).tz_convert(idx.tz)
        out.index.name = self.energy.index.name
        return out

    @property
    def span(self) -> tuple[pd.Timestamp, pd.Timestamp] | None:
        """(start of the first, end of the last) interval with a valid value of any meter."""
        valid = self.energy.notna().any(axis=1)
        if not valid.any():
            return None
        times = self.energy.index[valid.to_numpy()]
        return times[0], times[-1] + pd.Timedelta(seconds=self.step_s)


@dataclass
class _Meter:
    """One meter's readings and account while it is cleaned."""

    name: str
    rows: np.ndarray
    t: np.ndarray
    v: np.ndarray
    why: np.ndarray
    step: int = 0
    counts: Counter = field(default_factory=Counter)
    left: list = field(default_factory=list)
    tried: list = field(default_factory=list)
    slot: np.ndarray | None = None
    k: np.ndarray | None = None
    e: np.ndarray | None = None
    reading_rows: np.ndarray | None = None
    reading_v: np.ndarray | None = None

    def drop(self, reason: str, t: np.ndarray, v: np.ndarray, rows: np.ndarray) -> None:
        if len(t):
            self.counts[reason] += len(t)
            self.left.append((reason, np.asarray(t, dtype=np.int64), np.asarray(v, dtype=float),
                              np.asarray(rows, dtype=np.int64)))


def load_meters(spec: MeterSpec, base_dir: Path, tz: str, interval_s: float,
                start: pd.Timestamp | None = None, end: pd.Timestamp | None = None
                ) -> MeasuredData:
    """Read, check and clean the meter file of ``spec``.

    ``base_dir``: folder of the calibration file (``spec.file`` is relative to it); ``tz``: site
    zone; ``interval_s``: settlement interval [s]; ``start``/``end``: the period ``[start, end)``
    (naive = site time), default the span of the readings that could be placed in time.
    Raises :class:`MeterDataError` (one line: file, column/row, value) when the file cannot be used.
    """
    shown = spec.file
    _zone(shown, "timezone", tz)
    naive_zone = spec.timezone or tz
    _zone(shown, "timezone", naive_zone)
    if interval_s <= 0 or (3600 % interval_s and interval_s % 3600):
        raise MeterDataError(shown, "interval_s", "expected a settlement interval that divides "
                             "an hour or is a whole number of hours", interval_s, True)
    long = spec.format == "long"
    names = list(spec.columns)
    need = [spec.timestamp, spec.meter_id, spec.value] if long else [spec.timestamp, *names]
    table = read_table(Path(base_dir) / spec.file, shown, [str(c) for c in need],
                       sheet=spec.sheet, separator=spec.separator)
    frame = _without_blank_rows(table.frame)
    if frame.empty:
        raise MeterDataError(shown, "", "no readings (only a header); expected one row per "
                             "reading")

    ids = _meter_ids(frame[spec.meter_id]) if long else None
    t_all, why_all = parse_timestamps(frame[spec.timestamp], naive_zone, spec.timestamp_format,
                                      groups=ids)
    if (t_all == NAT).all():
        i = int(np.flatnonzero(why_all == UNPARSEABLE)[0]) if (why_all == UNPARSEABLE).any() \
            else 0
        where = f"column '{spec.timestamp}', {table.where(int(frame.index[i]))}"
        raise MeterDataError(shown, where,
                             "no timestamp could be read; expected ISO 8601 (2026-03-02 00:15, "
                             "with or without offset) or set 'timestamp_format:'",
                             frame[spec.timestamp].iloc[i], True)

    meters = []
    for name in names:
        if long:
            assert ids is not None
            pick = ids == name
            if not pick.any():
                _absent_id(shown, spec.meter_id or "", name, ids)
            raw = frame[spec.value][pick]
            col = spec.value or ""
        else:
            pick = np.ones(len(frame), dtype=bool)
            raw = frame[name]
            col = name
        v, empty, bad = _numbers(raw, spec.decimal)
        if bad.any() and not (~bad & ~empty).any():
            i = int(np.flatnonzero(bad)[0])
            raise MeterDataError(shown, f"column '{col}', {table.where(int(raw.index[i]))}",
                                 "no number could be read" + (f" for meter '{name}'" if long
                                                              else "") + "; expected numbers "
                                 f"(decimal mark '{spec.decimal}')", raw.iloc[i], True)
        rows = frame.index.to_numpy()[pick][~empty]
        m = _Meter(name, rows, t_all[pick][~empty], v[~empty], why_all[pick][~empty].copy())
        m.why[(m.why == "") & bad[~empty]] = UNPARSEABLE
        meters.append(m)

    for m in meters:
        m.step = _step(shown, m, spec, table)
    step_out = math.lcm(round(interval_s), *(m.step for m in meters))
    start_ns = _instant(start, tz)
    end_ns = _instant(end, tz)
    for m in meters:
        _clean(m, spec, tz, step_out, start_ns, end_ns)
    return _assemble(meters, spec, tz, step_out, start_ns, end_ns, table)


def _zone(shown: str, key: str, zone: str) -> None:
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise MeterDataError(shown, key, "unknown time zone; expected an IANA name such as "
                             "'Asia/Shanghai' or 'UTC'", zone, True) from None


def _without_blank_rows(frame: pd.DataFrame) -> pd.DataFrame:
    blank = np.ones(len(frame), dtype=bool)
    for c in frame.columns:
        s = frame[c]
        empty = s.isna().to_numpy(dtype=bool)
        if s.dtype == object or pd.api.types.is_string_dtype(s.dtype):
            try:
                text = s.str.strip()
            except AttributeError:  # no text at all (e.g. only datetimes)
                text = None
            if text is not None:
                empty = empty | text.eq("").fillna(False).to_numpy(dtype=bool)
        blank &= empty
    return frame[~blank]


def _meter_ids(raw: pd.Series) -> np.ndarray:
    def text(x: object) -> str:
        if isinstance(x, float) and x.is_integer():
            return str(int(x))
        return "" if x is None or (isinstance(x, float) and math.isnan(x)) else str(x).strip()

    return np.array([text(x) for x in raw.astype(object)], dtype=object)


def _absent_id(shown: str, col: str, name: str, ids: np.ndarray) -> None:
    import difflib

    present = sorted(set(ids.tolist()) - {""})
    close = difflib.get_close_matches(name, present, n=1)
    hint = f"did you mean '{close[0]}'?" if close else f"the file has {len(present)} meter ids, " \
        "none close to it"
    raise MeterDataError(shown, f"column '{col}'", f"meter id '{name}' does not occur; {hint}")


def _numbers(raw: pd.Series, decimal: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(value, empty, unreadable) per row."""
    if pd.api.types.is_numeric_dtype(raw.dtype) and not pd.api.types.is_bool_dtype(raw.dtype):
        v = np.array(raw.to_numpy(dtype=float, na_value=np.nan), dtype=float)
        return v, np.isnan(v), np.zeros(len(v), dtype=bool)
    obj = raw.astype(object).to_numpy()
    if pd.api.types.is_string_dtype(raw.dtype) and raw.dtype != object:
        num = np.zeros(len(obj), dtype=bool)
        text = raw.str.strip().fillna("").astype(object).reset_index(drop=True)
    else:
        num = np.array([isinstance(x, (int, float)) and not isinstance(x, bool) for x in obj],
                       dtype=bool)
        text = pd.Series([x.strip() if isinstance(x, str) else "" for x in obj], dtype=object)
    if decimal == ",":
        text = text.str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
    v = np.array(pd.to_numeric(text, errors="coerce"), dtype=float)
    v[num] = [float(x) for x in obj[num]]
    is_nan_num = num & np.isnan(v)
    empty = ((text == "").to_numpy() & ~num) | is_nan_num
    bad = ~empty & ~np.isfinite(v)
    v[bad] = np.nan
    return v, empty, bad


def _offsets(t: np.ndarray, zone: str) -> np.ndarray:
    """UTC offset [ns] of the site zone at each instant ``t`` [ns since the epoch]."""
    if len(t) == 0:
        return np.zeros(0, dtype=np.int64)
    idx = pd.DatetimeIndex(t.astype("M8[ns]"), tz="UTC").tz_convert(zone)
    return idx.tz_localize(None).as_unit("ns").asi8 - t


def _offset(t: int, zone: str) -> int:
    return int(_offsets(np.array([t], dtype=np.int64), zone)[0])


def _instant(ts: pd.Timestamp | None, tz: str) -> int | None:
    if ts is None:
        return None
    ts = pd.Timestamp(ts)
    ts = ts.tz_localize(tz) if ts.tzinfo is None else ts.tz_convert(tz)
    return int(ts.as_unit("ns").value)


def _step(shown: str, m: _Meter, spec: MeterSpec, table: RawTable) -> int:
    """The meter's reading step [s]: ``step_min`` or the median difference, on an hour divisor."""
    where = f"column '{m.name}'" if spec.format == "wide" else f"meter '{m.name}'"
    if spec.step_min is not None:
        step = spec.step_min * 60
        if int(step) not in ALLOWED_STEPS_S or step != int(step):
            raise MeterDataError(shown, "step_min", "expected a step that divides 60 min "
                                 "(1, 5, 10, 15, 30 or 60)", spec.step_min, True)
        return int(step)
    t = np.unique(m.t[(m.t != NAT) & (m.why == "")])
    if len(t) < 2:
        raise MeterDataError(shown, where, "fewer than two readable readings: the reading step "
                             "cannot be inferred; expected more readings, or set 'step_min:'")
    diffs = np.diff(t) / NS
    median = float(np.median(diffs))
    # each difference to the nearest allowed step (jitter of a few seconds), then the most common
    # one (the plain median is pulled up by gaps when readings are few)
    allowed = np.array(ALLOWED_STEPS_S, dtype=float)
    near = allowed[np.abs(diffs[:, None] - allowed[None, :]).argmin(axis=1)]
    fits = np.abs(near - diffs) <= spec.quality.snap_pct / 100 * near
    if not fits.any():
        raise MeterDataError(shown, where, "reading step (median difference) does not divide an "
                             "hour; expected 1, 5, 10, 15, 30 or 60 min, or set 'step_min:'",
                             f"{median:g} s", True)
    steps, n = np.unique(near[fits], return_counts=True)
    best = int(steps[np.argmax(n)])  # ties: the smaller step
    return best


def _clean(m: _Meter, spec: MeterSpec, tz: str, step_out: int, start: int | None,
           end: int | None) -> None:
    """Run the quality pass on one meter (see the module docstring for the order)."""
    step = m.step * NS
    register = spec.unit_of(m.name) == "kWh_register"
    col = spec.columns[m.name]

    bad = m.why != ""
    for reason in np.unique(m.why[bad]):
        sel = m.why == reason
        m.drop(str(reason), m.t[sel], m.v[sel], m.rows[sel])
    t, v, rows = m.t[~bad], m.v[~bad], m.rows[~bad]

    # the step grid (local wall time, so hours of a half-hour zone stay whole)
    rem = (t + _offsets(t, tz)) % step
    shift = np.where(rem <= step // 2, -rem, step - rem)
    off = np.abs(shift) > spec.quality.snap_pct / 100 * step
    m.drop("off_grid", t[off], v[off], rows[off])
    t, v, rows = t[~off] + shift[~off], v[~off], rows[~off]

    if spec.label == "end" and not register:
        t = t - step
    outside = np.zeros(len(t), dtype=bool)
    if start is not None:
        outside |= t < start
    if end is not None:
        outside |= (t > end) if register else (t >= end)
    m.drop("outside_period", t[outside], v[outside], rows[outside])
    t, v, rows = t[~outside], v[~outside], rows[~outside]

    m.counts["out_of_order"] += out_of_order(t)
    order = np.argsort(t, kind="stable")
    t, v, rows = t[order], v[order], rows[order]
    dup, keep = duplicates(t, v)
    m.drop("duplicate", t[dup], v[dup], rows[dup])
    m.tried.append(t[dup])
    t, v, rows = t[keep], v[keep], rows[keep]

    if register:
        top = col.register_max or spec.register_max or register_max_for(v)
        slot, e, reset = register_differences(t, v, step, top)
        after = np.searchsorted(t, slot) + 1  # the reading that closes each difference
        m.drop("register_reset", slot[reset], v[after[reset]], rows[after[reset]])
        m.tried.append(slot)
        slot, e, rv, rr = slot[~reset], e[~reset], v[after[~reset]], rows[after[~reset]]
    else:
        slot, rv, rr = t, v, rows
        e = v * (m.step / 3600) if spec.unit_of(m.name) == "kW" else v.copy()
        m.tried.append(slot)
        neg = e < 0
        m.drop("negative", slot[neg], rv[neg], rr[neg])
        slot, e, rv, rr = slot[~neg], e[~neg], rv[~neg], rr[~neg]
    e = e * col.multiplier

    q = spec.quality
    if q.flatline_h is not None:
        flat = flatline(slot, e, step, max(2, math.ceil(q.flatline_h * 3600 / m.step)))
        m.drop("flatline", slot[flat], rv[flat], rr[flat])
        slot, e, rv, rr = slot[~flat], e[~flat], rv[~flat], rr[~flat]
    if q.spike_z is not None:
        spike, _ = spikes(slot, e, step, q.spike_z, q.spike_window | 1, q.spike_min_pct)
        m.drop("spike", slot[spike], rv[spike], rr[spike])
        slot, e, rv, rr = slot[~spike], e[~spike], rv[~spike], rr[~spike]

    # aggregation to the output step: only whole intervals
    out = step_out * NS
    k = slot - (slot + _offsets(slot, tz)) % out
    need = step_out // m.step
    _, inverse, count = np.unique(k, return_inverse=True, return_counts=True)
    part = count[inverse] < need
    m.drop("incomplete_interval", slot[part], rv[part], rr[part])
    m.slot, m.k, m.e = slot[~part], k[~part], e[~part]
    m.reading_v, m.reading_rows = rv[~part], rr[~part]


def _assemble(meters: list[_Meter], spec: MeterSpec, tz: str, step_out: int, start: int | None,
              end: int | None, table: RawTable) -> MeasuredData:
    out = step_out * NS
    sums = {}
    for m in meters:
        assert m.k is not None and m.e is not None
        kk, inverse = np.unique(m.k, return_inverse=True)
        sums[m.name] = (kk, np.bincount(inverse, weights=m.e, minlength=len(kk)))
    # the period: as requested, else the span of every placed reading (valid or left out)
    placed = [(np.concatenate([*m.tried, m.k]), m.step * NS) for m in meters
              if m.k is not None]
    placed = [(p, step) for p, step in placed if len(p)]
    if (start is None or end is None) and not placed:
        raise MeterDataError(spec.file, "", "no reading could be placed in time" + (
            " in the requested period" if start is not None or end is not None else "")
            + "; see the data-quality counts of each meter")
    if start is not None:
        lo = start + (-(start + _offset(start, tz))) % out
    else:
        first = min(int(p.min()) for p, _ in placed)
        lo = first - (first + _offset(first, tz)) % out
    if end is not None:
        hi = end
    else:
        last = max(int(p.max()) + step for p, step in placed)
        hi = last + (-(last + _offset(last, tz))) % out
    n = max(0, (hi - lo) // out)
    grid = lo + out * np.arange(n, dtype=np.int64)
    index = pd.DatetimeIndex(grid.astype("M8[ns]"), tz="UTC").tz_convert(tz)
    index.name = "timestamp"

    energy = pd.DataFrame(index=index, columns=list(spec.columns), dtype=float)
    for m in meters:
        kk, total = sums[m.name]
        pos = np.searchsorted(grid, kk)
        inside = (pos < n) & (grid[np.minimum(pos, n - 1)] == kk) if n else np.zeros(len(kk), bool)
        energy[m.name] = np.nan
        col = energy[m.name].to_numpy(copy=True)
        col[pos[inside]] = total[inside]
        energy[m.name] = col
        assert m.slot is not None and m.k is not None
        assert m.reading_v is not None and m.reading_rows is not None
        gone = ~np.isin(m.k, kk[inside])
        m.drop("outside_period", m.slot[gone], m.reading_v[gone], m.reading_rows[gone])
        # missing: slots of the meter's own step in the period that saw no reading at all
        own = m.step * NS
        slots = lo + own * np.arange(max(0, (grid[-1] + out - lo) // own) if n else 0,
                                     dtype=np.int64)
        seen = np.concatenate([*m.tried, *(x[1] for x in m.left)]) if (m.tried or m.left) \
            else np.zeros(0, dtype=np.int64)
        m.counts["missing"] += int(np.count_nonzero(~np.isin(slots, seen)))

    quality = {m.name: {r: int(m.counts.get(r, 0)) for r in REASONS} for m in meters}
    parts = [pd.DataFrame({"meter": m.name, "timestamp": t, "reason": reason, "value": v,
                           "row": rows})
             for m in meters for reason, t, v, rows in m.left]
    if parts:
        excluded = pd.concat(parts, ignore_index=True)
    else:
        excluded = pd.DataFrame({"meter": pd.Series(dtype=object),
                                 "timestamp": pd.Series(dtype=np.int64),
                                 "reason": pd.Series(dtype=object),
                                 "value": pd.Series(dtype=float),
                                 "row": pd.Series(dtype=np.int64)})
    ts = excluded["timestamp"].to_numpy(dtype=np.int64)
    excluded["timestamp"] = pd.DatetimeIndex(
        np.where(ts == NAT, np.datetime64("NaT"), ts.astype("M8[ns]")), tz="UTC").tz_convert(tz)
    excluded["row"] = [table.where(int(r)) for r in excluded["row"]]
    excluded = excluded.sort_values(["meter", "timestamp", "reason"], kind="stable",
                                    na_position="first").reset_index(drop=True)
    return MeasuredData(energy=energy, step_s=float(step_out),
                        targets={n: spec.target(n) for n in spec.columns}, quality=quality,
                        excluded=excluded)
