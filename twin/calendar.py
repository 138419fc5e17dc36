"""Site time: simulation seconds <-> local time, shift windows, holidays, maintenance windows.

Simulation time is seconds of physical time since local midnight of the first simulated day, so
hours and settlement intervals are plain multiples of 3600 s and 900 s from t = 0, also across
daylight-saving changes (a local day then has 23 or 25 hours). Local wall-clock times (shift starts)
are converted with the site's IANA zone; a wall time that does not exist (spring-forward gap) is
taken with the offset in force before the change (PEP 495, fold=0).
"""

from __future__ import annotations

import bisect
import datetime as dt
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from twin.config.plant import WEEKDAYS, Calendar, Maintenance, parse_clock

INF = math.inf


@dataclass(frozen=True)
class SiteClock:
    """Converts between local wall time at the site and simulation seconds."""

    timezone: str
    start: dt.date

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def t0(self) -> dt.datetime:
        """The instant of simulation time 0: local midnight of the first day (tz-aware)."""
        return dt.datetime.combine(self.start, dt.time(0), tzinfo=self.zone)

    def seconds(self, day: dt.date, minutes: float) -> float:
        """Simulation seconds of ``minutes`` after local midnight of ``day`` (may exceed 24 h)."""
        midnight = dt.datetime.combine(day, dt.time(0), tzinfo=self.zone)
        wall = midnight.replace(tzinfo=None) + dt.timedelta(minutes=minutes)
        aware = wall.replace(tzinfo=self.zone)
        utc = dt.timezone.utc
        return (aware.astimezone(utc) - self.t0.astimezone(utc)).total_seconds()

    def horizon_s(self, n_days: float) -> float:
        """Simulation seconds of ``n_days`` **local calendar days** from the start: whole days
        end at local midnight (23 or 25 h for a day with a daylight-saving change, so 30 days
        from 1 Nov end at local midnight of 1 Dec), a fraction of a day is that share of 24 h
        after the last whole day's midnight."""
        whole = math.floor(n_days)
        return self.seconds(self.start + dt.timedelta(days=whole), (n_days - whole) * 1440.0)

    def index(self, n: int, step_s: float) -> pd.DatetimeIndex:
        """``n`` tz-aware local timestamps, the starts of consecutive ``step_s`` intervals (with
        that step as the index's ``freq``, so even a one-interval index knows its length)."""
        t0 = pd.Timestamp(self.t0.astimezone(dt.timezone.utc))
        utc = pd.date_range(t0, periods=n, freq=pd.Timedelta(seconds=step_s))
        return utc.tz_convert(self.timezone)

    def days(self, n_days: float) -> list[dt.date]:
        """Local dates from the day before the start to the day after the end (for night shifts)."""
        return [self.start + dt.timedelta(days=k) for k in range(-1, math.ceil(n_days) + 1)]


def _merge(windows: Iterable[tuple[float, float]]) -> list[tuple[float, float]]:
    out: list[list[float]] = []
    for s, e in sorted(windows):
        if e <= s:
            continue
        if out and s <= out[-1][1]:
            out[-1][1] = max(out[-1][1], e)
        else:
            out.append([s, e])
    return [(s, e) for s, e in out]


def working_windows(
    calendar: Calendar | None, clock: SiteClock, horizon_s: float
) -> list[tuple[float, float]]:
    """Merged working windows ``(start_s, end_s)`` within ``[0, horizon_s]``.

    A shift belongs to the day it starts on: no shift starts on a holiday or a shutdown day.
    Touching shifts merge into one window. Without a calendar the plant works the whole horizon.
    """
    if calendar is None:
        return [(0.0, horizon_s)]
    off_days = _off_days(calendar)
    raw = []
    for day, minutes in _day_shifts(calendar, clock, horizon_s):
        if day in off_days:
            continue
        for start_min, end_min in minutes:
            s = clock.seconds(day, start_min)
            e = clock.seconds(day, end_min)
            raw.append((max(s, 0.0), min(e, horizon_s)))
    return _merge(raw)


def _day_shifts(calendar: Calendar, clock: SiteClock, horizon_s: float
                ) -> list[tuple[dt.date, list[tuple[int, int]]]]:
    """Every day of the run (with a day either side) and the ``(start_min, end_min)`` of the
    shifts that start on it, after public holidays and make-up working days
    (:mod:`twin.workdays`); shutdowns are not applied here."""
    from twin.workdays import day_shift_names, day_types

    days = clock.days(horizon_s / 86400)
    last_run_day = clock.start + dt.timedelta(days=max(math.ceil(horizon_s / 86400) - 1, 0))
    types = day_types(calendar, days[0], days[-1], clock.start, last_run_day)
    out = []
    for day in days:
        names = day_shift_names(calendar, types, day)
        if names is None:
            out.append((day, [(0, 24 * 60)]))
        else:
            out.append((day, [(calendar.shifts[n].start_min, calendar.shifts[n].end_min)
                              for n in names]))
    return out


def _off_days(calendar: Calendar) -> set[dt.date]:
    off: set[dt.date] = set()
    for p in calendar.shutdowns:
        d = p.start
        while d <= p.end:
            off.add(d)
            d += dt.timedelta(days=1)
    return off


def release_times(
    calendar: Calendar | None, clock: SiteClock, horizon_s: float, period: str
) -> list[float]:
    """When a production plan releases work [s]: the start of the first shift of each working day
    (``period='day'``) or of the first working day of each ISO week (``'week'``). Without a
    calendar every day is a working day starting at local midnight."""
    firsts: list[tuple[dt.date, float]] = []
    if calendar is None:
        firsts = [(day, clock.seconds(day, 0)) for day in clock.days(horizon_s / 86400)[1:]]
    else:
        off = _off_days(calendar)
        for day, minutes in _day_shifts(calendar, clock, horizon_s)[1:]:
            if day not in off and minutes:
                firsts.append((day, clock.seconds(day, min(s for s, _ in minutes))))
    if period == "week":
        weeks: dict[tuple[int, int], float] = {}
        for day, t in firsts:
            weeks.setdefault(tuple(day.isocalendar())[:2], t)  # type: ignore[arg-type]
        times = list(weeks.values())
    else:
        times = [t for _, t in firsts]
    return [t for t in times if 0 <= t < horizon_s]


def maintenance_windows(
    items: list[Maintenance], clock: SiteClock, horizon_s: float
) -> list[tuple[float, float]]:
    """Planned maintenance ``(start_s, duration_s)`` within the horizon, sorted by start."""
    out = []
    for day in clock.days(horizon_s / 86400):
        for m in items:
            if (m.date == day) or (m.weekday is not None and WEEKDAYS[day.weekday()] == m.weekday):
                s = clock.seconds(day, parse_clock(m.start))
                if 0 <= s < horizon_s:
                    out.append((s, m.duration_h * 3600.0))
    return sorted(out)


@dataclass
class ShiftCalendar:
    """Working windows at run time, with O(1) checks on the hot path.

    The calendar caches the interval ``[lo, hi)`` around the last time asked about, within which
    the plant is either working or not; a query inside it costs two comparisons, one outside it a
    binary search.
    """

    starts: list[float]
    ends: list[float]
    always: bool = False
    _lo: float = field(init=False, default=INF)
    _hi: float = field(init=False, default=-INF)
    _working: bool = field(init=False, default=False)

    @classmethod
    def from_windows(cls, windows: list[tuple[float, float]], horizon_s: float) -> ShiftCalendar:
        always = len(windows) == 1 and windows[0][0] <= 0 and windows[0][1] >= horizon_s
        if always:
            return cls([0.0], [INF], always=True)
        return cls([w[0] for w in windows], [w[1] for w in windows])

    def working(self, now: float) -> bool:
        """Whether ``now`` [s] lies in a working window."""
        if self._lo <= now < self._hi:
            return self._working
        k = bisect.bisect_right(self.starts, now) - 1
        if k >= 0 and now < self.ends[k]:
            self._lo, self._hi, self._working = self.starts[k], self.ends[k], True
        else:
            self._lo = self.ends[k] if k >= 0 else -INF
            self._hi = self.starts[k + 1] if k + 1 < len(self.starts) else INF
            self._working = False
        return self._working

    def window_end(self, now: float) -> float:
        """End [s] of the working window that contains ``now``; ``now`` itself when off shift."""
        return self._hi if self.working(now) else now

    def next_start(self, now: float) -> float:
        """Start of the first window opening after ``now`` (``inf`` if none)."""
        k = bisect.bisect_right(self.starts, now)
        return self.starts[k] if k < len(self.starts) else INF

    def latest_start(self, due_s: float, work_s: float) -> float:
        """Latest time [s] from which ``work_s`` [s] of working time still fits before
        ``due_s`` [s], counting working windows only (a lot held over a weekend loses the
        weekend); ``-inf`` when even starting at once would be too late. Time after the last
        window (the end of the run) counts as working."""
        if self.always or not self.ends or due_s >= self.ends[-1]:
            return due_s - work_s
        left = work_s
        k = bisect.bisect_right(self.starts, due_s) - 1
        while k >= 0:
            end = min(self.ends[k], due_s)
            avail = end - self.starts[k]
            if avail >= left:
                return end - left
            left -= avail
            k -= 1
        return -INF

    def working_seconds(self, t_from: float, t_to: float) -> float:
        """Working time within ``[t_from, t_to]`` [s]."""
        total = 0.0
        for s, e in zip(self.starts, self.ends, strict=False):
            total += max(0.0, min(e, t_to) - max(s, t_from))
        return total

    def working_seconds_by_interval(self, n: int, step_s: float, horizon_s: float) -> np.ndarray:
        """Working time in each of ``n`` intervals of ``step_s`` from 0, the last cut at
        ``horizon_s`` [s] (shape ``(n,)``): the working time up to ``t`` is piecewise linear in
        ``t`` (slope 1 in a window, 0 between), so each interval's share is its difference at
        the interval's edges. Always working: the interval lengths."""
        edges = np.minimum(np.arange(n + 1, dtype=float) * step_s, horizon_s)
        if self.always:
            return np.diff(edges)
        ends = np.minimum(np.asarray(self.ends, dtype=float), horizon_s)
        starts = np.minimum(np.asarray(self.starts, dtype=float), ends)
        if not starts.size:
            return np.zeros(n)
        xp = np.column_stack([starts, ends]).ravel()
        fp = np.concatenate([[0.0], np.cumsum(ends - starts)])
        fp = np.column_stack([fp[:-1], fp[1:]]).ravel()
        return np.diff(np.interp(edges, xp, fp))
