"""Dated work from files: an MES/ERP order book and a day-by-day plan, read, checked row by row,
and turned into a release schedule that one SimPy process works through.

Files are read with the meter readers (:func:`twin.measured.reading.read_table`,
:func:`twin.measured.timestamps.parse_timestamps`): CSV, Parquet or XLSX; times with an offset
keep it, naive times are local time of the source's ``timezone`` (default: the site's). Every
problem is one :class:`OrderFileError` line naming the file, the line or row, the column and the
offending value (never a line of the file).
"""

from __future__ import annotations

import datetime as dt
import difflib
import math
from collections.abc import Generator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import simpy

from twin.calendar import SiteClock, release_times
from twin.config.checks import MAX_LOTS_PER_RELEASE
from twin.config.orders import OrdersSource, PlanFileSource
from twin.config.plant import Plant
from twin.measured.errors import MeterDataError
from twin.measured.reading import RawTable, read_table
from twin.measured.timestamps import DST_AMBIGUOUS, DST_NONEXISTENT, parse_timestamps
from twin.production.flow import Flow
from twin.production.sources import _enter, _interleave, explode
from twin.safety import MAX_DATA_FILE_BYTES, file_problem

MAX_LOTS_PER_FILE = 5_000_000
"""Most lots one order book or plan file may release (each lot is simulated) [-]."""

NO_ORDER = -1
"""Order index of a lot that belongs to no order (``lot[5]``)."""


class OrderFileError(MeterDataError):
    """An order book or plan file that cannot be used: ``<file>: <line>: <column>: <what is
    wrong; what is expected> (got <value>)``, one line (caught by the CLI: exit status 2).
    Problems found by the shared table reader (missing column, unreadable file) are its
    :class:`~twin.measured.errors.MeterDataError`, of the same form."""


@dataclass(frozen=True)
class OrderBook:
    """The orders of one file, in file order. Times are ns since the epoch (UTC)."""

    ids: list[str]
    product: np.ndarray
    """Product index into the plant's products, per order."""
    quantity: np.ndarray
    """Ordered units per order."""
    release_ns: np.ndarray
    due_ns: np.ndarray
    priority: np.ndarray
    """Priority per order (1 = most urgent); ``inf`` where the file gives none."""


@dataclass(frozen=True)
class DayPlan:
    """The rows of one plan file, sorted by day: day, product index, planned units."""

    day: list[dt.date]
    product: np.ndarray
    quantity: np.ndarray


@dataclass
class Releases:
    """A release schedule: at ``times[k]`` [s] the lots ``batches[k]`` enter the plant, each
    (product index, order index or :data:`NO_ORDER`, due [s] or ``inf``). ``orders`` names the
    order indices."""

    times: list[float]
    batches: list[list[tuple[int, int, float]]]
    orders: list[str]


# ---------------------------------------------------------------------------------------------
# reading


def _open(src: OrdersSource | PlanFileSource, columns: list[str]) -> RawTable:
    problem = file_problem(src.file, "a CSV, Parquet or XLSX file", MAX_DATA_FILE_BYTES)
    if problem is not None:
        raise OrderFileError(src.file, "", problem)
    return read_table(Path(src.file), src.file, columns, sheet=src.sheet,
                      separator=src.separator, max_bytes=MAX_DATA_FILE_BYTES)


def _fail(table: RawTable, i: int, column: str, message: str, value: object) -> OrderFileError:
    return OrderFileError(table.file, f"{table.where(i)}: column '{column}'", message, value,
                          True)


def _text(v: object) -> str:
    """A cell as text: a whole float from a spreadsheet (1001.0) as '1001'."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v).strip()


def _products(table: RawTable, column: str, plant: Plant) -> np.ndarray:
    pidx = {p.id: k for k, p in enumerate(plant.products)}
    out = np.empty(len(table.frame), dtype=np.int64)
    for i, v in enumerate(table.frame[column].tolist()):
        name = _text(v)
        if name not in pidx:
            close = difflib.get_close_matches(name, list(pidx), n=1)
            hint = (f"did you mean '{close[0]}'?" if close else "expected one of "
                    + ", ".join(f"'{p}'" for p in list(pidx)[:12]))
            raise _fail(table, i, column, f"unknown product; {hint}", name)
        out[i] = pidx[name]
    return out


def _numbers(table: RawTable, column: str, *, positive: bool, what: str) -> np.ndarray:
    raw = table.frame[column]
    values = pd.to_numeric(raw.astype(object).map(lambda v: v.strip() if isinstance(v, str)
                                                  else v), errors="coerce").to_numpy(float)
    bad = ~np.isfinite(values) | ((values <= 0) if positive else (values < 0)) | (values > 1e12)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise _fail(table, i, column, f"expected {what}", raw.iloc[i])
    return values


def _times(table: RawTable, column: str, zone: str) -> np.ndarray:
    raw = table.frame[column]
    # each row its own group: a naive time in the repeated fall-back hour is ambiguous
    ns, why = parse_timestamps(raw, zone, groups=np.arange(len(raw)))
    bad = why != ""
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        reason = {DST_NONEXISTENT: f"does not exist in {zone} (skipped by the change to "
                                   f"daylight-saving time)",
                  DST_AMBIGUOUS: f"occurs twice in {zone} (the hour repeated when "
                                 f"daylight-saving time ends); write it with its offset"
                  }.get(why[i], "cannot be read as a time; expected an ISO date-time such as "
                               "2026-03-02 08:00 (an offset such as +08:00 is kept)")
        raise _fail(table, i, column, reason, raw.iloc[i])
    return ns


def read_order_book(src: OrdersSource, plant: Plant) -> OrderBook:
    """The orders of ``src.file``, every row checked.

    Raises :class:`OrderFileError` for a missing column, an empty or duplicate order id, an
    unknown product, a quantity that is not a positive number or makes more than
    :data:`MAX_LOTS_PER_RELEASE` lots, an unreadable, nonexistent or ambiguous time, a due time
    not after the release time, a priority that is not a whole number, or no order at all."""
    c = src.columns
    need = [c.order_id, c.product, c.quantity, c.release, c.due]
    try:
        table = _open(src, [*need, c.priority])
        has_priority = True
    except MeterDataError as exc:
        if exc.where != f"column '{c.priority}'" or "priority" in c.model_fields_set:
            raise
        table, has_priority = _open(src, need), False
    n = len(table.frame)
    if n == 0:
        raise OrderFileError(src.file, "", "no orders; expected a header line and one row per "
                             "order")
    ids: list[str] = []
    seen: dict[str, int] = {}
    for i, v in enumerate(table.frame[c.order_id].tolist()):
        oid = _text(v)
        if not oid:
            raise _fail(table, i, c.order_id, "empty order id; expected an id on every row", v)
        if oid in seen:
            raise _fail(table, i, c.order_id, f"duplicate order id, already on "
                        f"{table.where(seen[oid])}; expected each order once", oid)
        seen[oid] = i
        ids.append(oid)
    product = _products(table, c.product, plant)
    quantity = _numbers(table, c.quantity, positive=True, what="a positive number of units")
    upl = np.array([p.units_per_lot for p in plant.products])[product]
    lots = np.ceil(quantity / upl - 1e-9)
    if (lots > MAX_LOTS_PER_RELEASE).any():
        i = int(np.flatnonzero(lots > MAX_LOTS_PER_RELEASE)[0])
        raise _fail(table, i, c.quantity, f"{lots[i]:.3g} lots; expected at most "
                    f"{MAX_LOTS_PER_RELEASE:,} lots per order (raise units_per_lot)", quantity[i])
    if lots.sum() > MAX_LOTS_PER_FILE:
        raise OrderFileError(src.file, f"column '{c.quantity}'", f"{lots.sum():.3g} lots in "
                             f"all; expected at most {MAX_LOTS_PER_FILE:,} (raise units_per_lot)")
    zone = src.timezone or plant.site.timezone
    release = _times(table, c.release, zone)
    due = _times(table, c.due, zone)
    early = due <= release
    if early.any():
        i = int(np.flatnonzero(early)[0])
        raise _fail(table, i, c.due, f"due time is not after the release time "
                    f"{_show(release[i], zone)}; expected a due time after the release",
                    table.frame[c.due].iloc[i])
    priority = np.full(n, math.inf)
    if has_priority:
        raw = table.frame[c.priority]
        present = np.array([_text(v) != "" for v in raw.tolist()], dtype=bool)
        values = pd.to_numeric(raw.where(present, None).astype(object), errors="coerce"
                               ).to_numpy(float)
        bad = present & ~(np.isfinite(values) & (np.mod(values, 1) == 0) & (np.abs(values) < 1e9))
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise _fail(table, i, c.priority, "expected a whole number (1 = most urgent) or an "
                        "empty cell", raw.iloc[i])
        priority[present] = values[present]
    return OrderBook(ids, product, quantity, release, due, priority)


def _show(ns: int, zone: str) -> str:
    return pd.Timestamp(int(ns), tz="UTC").tz_convert(zone).strftime("%Y-%m-%d %H:%M")


def _day(v: object) -> dt.date | None:
    if isinstance(v, (dt.datetime, pd.Timestamp)):
        return v.date() if v.time() == dt.time(0) else None
    if isinstance(v, dt.date):
        return v
    if isinstance(v, np.datetime64):
        return _day(pd.Timestamp(v))
    if isinstance(v, str):
        text = v.strip()
        for cut in (" 00:00:00", "T00:00:00", " 00:00", "T00:00"):
            text = text.removesuffix(cut)
        try:
            return dt.date.fromisoformat(text) if len(text) == 10 else None
        except ValueError:
            return None
    return None


def read_plan_file(src: PlanFileSource, plant: Plant) -> DayPlan:
    """The rows of ``src.file`` sorted by day, every row checked.

    Raises :class:`OrderFileError` for a missing column, a day that is not a date, an unknown
    product, a quantity that is not a number >= 0, a day and product given twice, or no row."""
    c = src.columns
    table = _open(src, [c.date, c.product, c.quantity])
    if len(table.frame) == 0:
        raise OrderFileError(src.file, "", "no rows; expected a header line and one row per day "
                             "and product")
    days: list[dt.date] = []
    for i, v in enumerate(table.frame[c.date].tolist()):
        d = _day(v)
        if d is None:
            raise _fail(table, i, c.date, "expected a date as YYYY-MM-DD", v)
        days.append(d)
    product = _products(table, c.product, plant)
    quantity = _numbers(table, c.quantity, positive=False, what="a number of units >= 0")
    seen: dict[tuple[dt.date, int], int] = {}
    for i, key in enumerate(zip(days, product.tolist(), strict=True)):
        if key in seen:
            raise _fail(table, i, c.product, f"{key[0]} and this product are already on "
                        f"{table.where(seen[key])}; expected one row per day and product",
                        plant.products[key[1]].id)
        seen[key] = i
    upl = np.array([p.units_per_lot for p in plant.products])[product]
    if np.ceil(quantity / upl).sum() > MAX_LOTS_PER_FILE:
        raise OrderFileError(src.file, f"column '{c.quantity}'", f"more than "
                             f"{MAX_LOTS_PER_FILE:,} lots in all; expected fewer (raise "
                             f"units_per_lot)")
    order = sorted(range(len(days)), key=lambda k: (days[k], k))
    return DayPlan([days[k] for k in order], product[order], quantity[order])


# ---------------------------------------------------------------------------------------------
# release schedules


def order_releases(book: OrderBook, plant: Plant, clock: SiteClock, horizon_s: float,
                   first_order: int = 0) -> Releases:
    """When each order's lots enter: at its release time (at 0 if it was released before the
    run started), ceil(quantity / units_per_lot) lots carrying the order's index (from
    ``first_order``) and due time [s]. Orders released at or after ``horizon_s`` are left out.
    Orders released at the same instant go by priority (1 first, none last), then file order."""
    t0 = int(pd.Timestamp(clock.t0).tz_convert("UTC").value)
    upl = np.array([p.units_per_lot for p in plant.products])
    release_s = np.maximum((book.release_ns - t0) / 1e9, 0.0)
    due_s = (book.due_ns - t0) / 1e9
    lots = np.ceil(book.quantity / upl[book.product] - 1e-9).astype(np.int64)
    keep = np.flatnonzero(release_s < horizon_s)
    keep = keep[np.lexsort((keep, book.priority[keep], release_s[keep]))]
    times: list[float] = []
    batches: list[list[tuple[int, int, float]]] = []
    for k in keep.tolist():
        t = float(release_s[k])
        if not times or t != times[-1]:
            times.append(t)
            batches.append([])
        batches[-1].extend([(int(book.product[k]), first_order + k, float(due_s[k]))]
                           * int(lots[k]))
    return Releases(times, batches, list(book.ids))


def plan_file_releases(plan: DayPlan, src: PlanFileSource, plant: Plant, clock: SiteClock,
                       horizon_s: float) -> Releases:
    """When each planned day's lots enter: at the first shift start of that day (of the next
    working day if it has no shift; local midnight without a calendar), the units rounded up to
    whole lots with the rounding carried over per product (after k rows of a product exactly
    ceil(sum of their units / units_per_lot) lots have been released). Days before the run or
    whose release falls at or after ``horizon_s`` release nothing."""
    starts = release_times(plant.calendar, clock, horizon_s, "day")
    start_days = [(clock.t0 + dt.timedelta(seconds=t)).astimezone(clock.zone).date()
                  for t in starts]
    upl = [p.units_per_lot for p in plant.products]
    due_h = [src.due_h if src.due_h is not None else (p.due_h or math.inf)
             for p in plant.products]
    owed = [0.0] * len(upl)
    done = [0] * len(upl)
    by_time: dict[float, list[list[int]]] = {}
    ordinals = np.array([d.toordinal() for d in start_days], dtype=np.int64)
    for day, p, units in zip(plan.day, plan.product.tolist(), plan.quantity.tolist(),
                             strict=True):
        if day < clock.start:
            continue
        k = int(np.searchsorted(ordinals, day.toordinal()))
        if k >= len(starts):
            continue
        owed[p] += units / upl[p]
        n = math.ceil(owed[p] - 1e-9) - done[p]
        done[p] += n
        groups = by_time.setdefault(starts[k], [])
        groups.append([p] * n)
    times = sorted(by_time)
    batches = []
    for t in times:
        groups = by_time[t]
        seq = _interleave(groups) if src.sequence == "mixed" else [p for g in groups for p in g]
        batches.append([(p, NO_ORDER, t + due_h[p] * 3600.0) for p in seq])
    return Releases(times, batches, [])


def release(env: simpy.Environment, flow: Flow, targets: list, components: list,
            schedule: Releases) -> Generator:
    """Release the lots of ``schedule`` at their times; a lot of a product with components
    releases its components' lots, each carrying the order and due time."""
    for t, batch in zip(schedule.times, schedule.batches, strict=True):
        if t > env.now:
            yield env.timeout(t - env.now)
        for product, order, due in batch:
            for leaf in explode(product, components):
                yield from _enter(flow, leaf, targets, due, order)


def start_file_sources(plant: Plant, env: simpy.Environment, flow: Flow, targets: list,
                       components: list, clock: SiteClock, horizon_s: float) -> None:
    """Read the plant's order books and plan files and start one release process for each;
    the order ids of all order books go to ``flow.orders`` (unique across the files).

    Raises :class:`OrderFileError` for the first problem of a file."""
    owner: dict[str, str] = {}
    for src in plant.sources:
        if isinstance(src, OrdersSource):
            book = read_order_book(src, plant)
            for oid in book.ids:
                if oid in owner:
                    raise OrderFileError(src.file, f"column '{src.columns.order_id}'",
                                         f"order id also in {owner[oid]}; expected order ids "
                                         f"unique across the order books", oid, True)
                owner[oid] = src.file
            first = len(flow.orders)
            schedule = order_releases(book, plant, clock, horizon_s, first)
            flow.orders.extend(schedule.orders)
            count = [0] * len(schedule.orders)
            for batch in schedule.batches:
                for _, order, _ in batch:
                    count[order - first] += 1
            flow.order_lots.extend(count)
            t0 = int(pd.Timestamp(clock.t0).tz_convert("UTC").value)
            flow.order_due_s.extend(((book.due_ns - t0) / 1e9).tolist())
        elif isinstance(src, PlanFileSource):
            schedule = plan_file_releases(read_plan_file(src, plant), src, plant, clock,
                                          horizon_s)
        else:
            continue
        env.process(release(env, flow, targets, components, schedule))


def order_kpis(flow: Flow, horizon_s: float) -> dict:
    """Order-level delivery of the orders released in the run (``kpis.json`` ``orders``).

    An order is complete when all its lots are finished, on time when its last lot is finished
    by the order's due time. Judged are the complete orders and the incomplete ones already past
    their due time at the end of the run (late); incomplete orders not yet due are not judged.

    * on_time_share = orders on time / orders judged (None when none is judged);
    * late_orders = complete late + incomplete past due (``open_late_orders``).
    """
    n = len(flow.orders)
    done = np.zeros(n, dtype=np.int64)
    last = np.full(n, -np.inf)
    c = flow.completions()
    has = c["order"] >= 0
    np.add.at(done, c["order"][has], 1)
    np.maximum.at(last, c["order"][has], c["completed_s"][has])
    expected = np.array(flow.order_lots, dtype=np.int64)
    due = np.array(flow.order_due_s, dtype=float)
    released = expected > 0
    complete = released & (done >= expected)
    on_time = complete & (last <= due + 1e-6)
    late_done = complete & ~on_time
    open_late = released & ~complete & (due < horizon_s)
    judged = int(complete.sum() + open_late.sum())
    return {
        "orders": int(released.sum()),
        "complete": int(complete.sum()),
        "on_time": int(on_time.sum()),
        "late_orders": int(late_done.sum() + open_late.sum()),
        "open_late_orders": int(open_late.sum()),
        "on_time_share": float(on_time.sum() / judged) if judged else None,
        "late": [flow.orders[k] for k in np.flatnonzero(late_done | open_late)[:50].tolist()],
    }
