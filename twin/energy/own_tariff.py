"""A tariff written by the user: an own time-of-use table, and prices read from a file.

Own TOU table
-------------
Rows give, for some months and a day type, the period of a span of local wall-clock time
(``08:00-11:30``). They are compiled into three complete day tables per month, so that every
minute of every day has exactly one period:

* **workday** table: rows with ``days: all`` or ``workday``;
* **rest-day** table (Saturdays and Sundays not worked by decree): rows ``all`` or ``rest_day``;
* **holiday** table (dates in ``holidays``): rows ``all`` or ``holiday`` if any ``holiday`` row
  is given, else the rest-day table (a holiday is a rest day).

Each must cover 00:00-24:00 in every month without two rows on one minute. Overlays (critical
peaks inside the peak, holiday deep valleys) then replace the period on their minutes of the day
types they name (``rest_day`` overlays also reach holidays that follow the rest-day table); two
overlays may not cover the same minute of a day. The result is a
:class:`twin.energy.tariff.TouTariff`, so periods and prices follow the same conventions as the
packaged presets (an interval takes the period in force at its start).

Pricing is ``flat x ratio(period) + adder`` as for presets (NDRC 发改价格〔2021〕1093号), or a
price per period (and month) given directly, ``price(period) + adder``.

Price file
----------
One price per row, holding from its timestamp until the next (the last one for the file's
typical step). A settlement interval of length :math:`\\Delta` starting at :math:`t` is priced at
the time-weighted mean

.. math:: p_k = \\frac{1}{\\Delta} \\int_t^{t+\\Delta} p(\\tau)\\, d\\tau

so an hourly spot price prices all four 15-min intervals of its hour, and 5-min prices are
averaged over the 15 min. (The settled price of an interval is the energy-weighted mean; with one
power value per interval the engine cannot weight within it, so this is exact when the load is
constant over the interval.)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from twin.energy.tariff import PERIODS, TouTariff, monthly_values
from twin.measured.reading import read_table
from twin.measured.timestamps import DST_AMBIGUOUS, DST_NONEXISTENT, parse_timestamps
from twin.safety import check_data_file

if TYPE_CHECKING:
    from twin.config.energy import Tariff
    from twin.config.own_tariff import TouRow

_MIN_PER_DAY = 1440
_UNIT_TEXT = {"per_kwh": "per kWh", "per_mwh": "per MWh"}
_DAY_TABLES = ("workday", "rest_day", "holiday")
Row = tuple[Sequence[int], str, Sequence[tuple[int, int]], str]
"""(months 1-12, day type, minute spans [start, end), period) of one table row."""


class TouTableError(ValueError):
    """A row of an own TOU table that cannot be compiled: ``field`` (``periods`` or ``overlays``),
    ``row`` (0-based) and the message."""

    def __init__(self, field: str, row: int, message: str):
        self.field, self.row, self.message = field, row, message
        super().__init__(f"{field}[{row}]: {message}")


def _hhmm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def _runs(minutes: np.ndarray) -> str:
    breaks = np.flatnonzero(np.diff(minutes) > 1)
    starts = np.concatenate(([minutes[0]], minutes[breaks + 1]))
    ends = np.concatenate((minutes[breaks] + 1, [minutes[-1] + 1]))
    return ", ".join(f"{_hhmm(int(s))}-{_hhmm(int(e))}" for s, e in zip(starts, ends, strict=True))


def _fill(rows: Sequence[tuple[int, Row]], field: str, table: np.ndarray, owner: np.ndarray,
          what: str) -> None:
    """Write rows into ``table`` (codes), refusing a minute that another row holds already."""
    for k, (months, _days, spans, period) in rows:
        code = PERIODS.index(period)
        for m in months:
            for s, e in spans:
                clash = owner[m - 1, s:e]
                if (clash >= 0).any():
                    at = int(np.flatnonzero(clash >= 0)[0])
                    raise TouTableError(field, k, f"overlaps {field}[{int(clash[at])}] in month "
                                        f"{m} at {_hhmm(s + at)} on {what}; expected each minute "
                                        "of a day in one row only")
                owner[m - 1, s:e] = k
                table[m - 1, s:e] = code


def compile_table(periods: Sequence[Row], overlays: Sequence[Row] = ()) -> TouTariff:
    """An own TOU table as a :class:`~twin.energy.tariff.TouTariff` without prices (ratios NaN;
    see :func:`own_tou_tariff`). The rules are in the module docstring.

    Raises
    ------
    TouTableError
        Two rows on one minute of a day type, or a day type and month not covered 00:00-24:00
        (naming the first row of that day type, or the first row).
    """
    has = {d: any(r[1] == d for r in periods) for d in _DAY_TABLES}
    applies = {"workday": ("all", "workday"), "rest_day": ("all", "rest_day"),
               "holiday": ("all", "holiday")}
    tables: dict[str, np.ndarray] = {}
    for day in _DAY_TABLES:
        if day == "holiday" and not has["holiday"]:
            continue
        rows = [(k, r) for k, r in enumerate(periods) if r[1] in applies[day]]
        table = np.full((12, _MIN_PER_DAY), -1, dtype=np.int8)
        owner = np.full((12, _MIN_PER_DAY), -1, dtype=np.int32)
        _fill(rows, "periods", table, owner, f"{day.replace('_', ' ')}s")
        for m in range(12):
            gap = np.flatnonzero(table[m] < 0)
            if gap.size:
                k = next((k for k, r in rows if r[1] == day), rows[0][0] if rows else 0)
                hint = ("" if day == "workday" else f"; rows with days: {day} or all apply to "
                        f"{day.replace('_', ' ')}s")
                raise TouTableError("periods", k, f"{day.replace('_', ' ')}s of month {m + 1} "
                                    f"have no period for {_runs(gap)}; expected the rows of every "
                                    f"day type to cover 00:00-24:00{hint}")
        tables[day] = table
    # overlays: rest-day overlays also reach holidays priced by the rest-day table
    reach = {"workday": ("all", "workday"), "rest_day": ("all", "rest_day"),
             "holiday": ("all", "holiday") if has["holiday"] else ("all", "rest_day", "holiday")}
    for day in _DAY_TABLES:
        rows = [(k, r) for k, r in enumerate(overlays) if r[1] in reach[day]]
        if day == "holiday" and not has["holiday"]:
            if not any(r[1] == "holiday" for _, r in rows):
                continue
            tables["holiday"] = tables["rest_day"].copy()
        ov = np.full((12, _MIN_PER_DAY), -1, dtype=np.int8)
        owner = np.full((12, _MIN_PER_DAY), -1, dtype=np.int32)
        _fill(rows, "overlays", ov, owner, f"{day.replace('_', ' ')}s")
        tables[day] = np.where(ov >= 0, ov, tables[day]).astype(np.int8)
    base = tables["workday"]
    layers = []
    if not np.array_equal(tables["rest_day"], base):
        layers.append(("rest_day", tables["rest_day"]))
    if "holiday" in tables and not np.array_equal(tables["holiday"], tables["rest_day"]):
        layers.append(("holiday", tables["holiday"]))
    for _, t in [("", base), *layers]:
        t.setflags(write=False)
    ratios = np.full((12, len(PERIODS)), np.nan)
    ratios.setflags(write=False)
    return TouTariff(name="own", customer_class=None, document="plant file", valid_from=None,
                     valid_to=None, base=base, overlays=tuple(layers), ratios=ratios,
                     unusable=(), status="def")


def used_periods(tou: TouTariff) -> list[str]:
    """The periods a compiled table reaches on some day, most expensive first."""
    seen = np.zeros(len(PERIODS), dtype=bool)
    for t in (tou.base, *(t for _, t in tou.overlays)):
        codes = np.unique(t)
        seen[codes[codes >= 0]] = True
    return [p for p, s in zip(PERIODS, seen, strict=True) if s]


def own_tou_tariff(periods: Sequence[Row], overlays: Sequence[Row] = (), *,
                   ratios: dict[str, float] | None = None,
                   prices_per_kwh: dict[str, float | Sequence[float]] | None = None
                   ) -> TouTariff:
    """A priced own TOU tariff.

    Parameters
    ----------
    periods, overlays : sequence of Row
        ``(months, days, spans, period)`` rows, see :func:`compile_table`.
    ratios : mapping, optional
        Ratio to the flat price per period [-] (flat is 1); price with
        :meth:`TouTariff.price` and the flat price.
    prices_per_kwh : mapping, optional
        Price per period [CNY/kWh], one value or 12 monthly values (Jan..Dec). The tariff's
        "ratios" are then these prices: price it with a flat price of 1
        (:func:`own_energy_price` does).

    Raises
    ------
    ValueError
        A period the table uses has no ratio or price, or ``ratios['flat'] != 1``.
    """
    tou = compile_table(periods, overlays)
    table = np.full((12, len(PERIODS)), np.nan)
    if prices_per_kwh is not None:
        for p, v in prices_per_kwh.items():
            arr = np.asarray(v, dtype=float)
            table[:, PERIODS.index(p)] = arr if arr.ndim else float(arr)
    else:
        table[:, PERIODS.index("flat")] = 1.0
        for p, v in (ratios or {}).items():
            if p == "flat" and v != 1:
                raise ValueError(f"ratios['flat'] must be 1 (ratios are relative to flat), got {v}")
            table[:, PERIODS.index(p)] = float(v)
    missing = [p for p in used_periods(tou) if np.isnan(table[:, PERIODS.index(p)]).any()]
    if missing:
        what = "price" if prices_per_kwh is not None else "ratio"
        raise ValueError(f"no {what} for the period(s) {', '.join(missing)} that the table uses")
    table.setflags(write=False)
    return replace(tou, ratios=table)


# --------------------------------------------------------------------------------------------
# Price files
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class PriceSeries:
    """Prices read from a file: each holds from its start until the next start (the last until
    ``end_ns``)."""

    start_ns: np.ndarray
    """Start of each price [ns since the epoch, UTC], strictly increasing."""
    price: np.ndarray
    """Price [CNY/kWh]."""
    end_ns: int
    """End of the last price: its start plus the file's typical (median) step."""
    file: str


def read_price_file(path: str | Path, zone: str, *, timestamp_column: str = "timestamp",
                    price_column: str = "price_per_kwh", unit: str = "per_kwh",
                    sheet: str | None = None, shown: str | None = None) -> PriceSeries:
    """Read a price file (CSV, Parquet or XLSX; one price per row).

    Parameters
    ----------
    path : path
        The file.
    zone : str
        IANA zone of naive timestamps (timestamps with an offset keep it); naive times in a
        fall-back hour are resolved by row order (:mod:`twin.measured.timestamps`).
    timestamp_column, price_column : str
        Column names.
    unit : ``'per_kwh'`` or ``'per_mwh'``
        Unit of the prices; per MWh (as spot markets publish) is divided by 1000.
    sheet : str, optional
        XLSX sheet.
    shown : str, optional
        The file's name in messages (default: its name).

    Returns
    -------
    PriceSeries

    Raises
    ------
    ValueError
        One line naming the file and the line or row: not a regular file or too large, a missing
        column, an unparsable or nonexistent (DST) time, a missing or non-numeric price, two
        prices for one time, fewer than two rows, or a gap of more than 1.5 times the typical step.
        Never shows a line of the file, only the offending value.
    """
    path = Path(path)
    shown = shown or path.name
    try:
        check_data_file(path, "a price file (CSV, Parquet or XLSX)")
    except ValueError as exc:
        raise ValueError(f"{shown}: {str(exc).split(': ', 1)[-1]}") from None
    raw = read_table(path, shown, [timestamp_column, price_column], sheet=sheet)
    frame = raw.frame
    if len(frame) < 2:
        raise ValueError(f"{shown}: {len(frame)} price row(s); expected at least two (a price "
                         "holds until the next one)")
    ns, why = parse_timestamps(frame[timestamp_column], zone)
    bad = np.flatnonzero(why != "")
    if bad.size:
        i = int(bad[0])
        reason = {DST_NONEXISTENT: f"does not exist in {zone} (clock moved forward)",
                  DST_AMBIGUOUS: f"occurs twice in {zone} and the row order does not tell which"
                  }.get(why[i], "is not a time; expected e.g. 2026-01-01 00:00 or ISO 8601 with "
                        "an offset")
        raise ValueError(f"{shown}: {raw.where(i)}: column '{timestamp_column}' {reason} (got "
                         f"{_short(frame[timestamp_column].iloc[i])})")
    values = pd.to_numeric(frame[price_column], errors="coerce").to_numpy(dtype=float)
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        i = int(bad[0])
        raise ValueError(f"{shown}: {raw.where(i)}: column '{price_column}' is not a number; "
                         f"expected a price {_UNIT_TEXT.get(unit, unit)} (got "
                         f"{_short(frame[price_column].iloc[i])})")
    if np.abs(values).max() > 1e6:
        i = int(np.argmax(np.abs(values)))
        raise ValueError(f"{shown}: {raw.where(i)}: column '{price_column}' is beyond 1e6; "
                         f"expected a price {_UNIT_TEXT.get(unit, unit)} (got {values[i]:g})")
    order = np.argsort(ns, kind="stable")
    ns_sorted = ns[order]
    dup = np.flatnonzero(np.diff(ns_sorted) == 0)
    if dup.size:
        a, b = sorted((int(order[dup[0]]), int(order[dup[0] + 1])))
        raise ValueError(f"{shown}: {raw.where(b)}: a second price for the time of "
                         f"{raw.where(a)}; expected one price per time")
    steps = np.diff(ns_sorted)
    step = int(np.median(steps))
    gap = np.flatnonzero(steps > 1.5 * step)  # monthly files vary by ~10 %, DST days by 4 %
    if gap.size:
        i = int(order[gap[0] + 1])
        raise ValueError(f"{shown}: {raw.where(i)}: {steps[gap[0]] / 3.6e12:g} h after the "
                         f"previous price, the file's step is {step / 3.6e12:g} h; expected no "
                         "gap (a price holds only until the next)")
    price = values[order] / (1000.0 if unit == "per_mwh" else 1.0)
    return PriceSeries(ns_sorted, price, int(ns_sorted[-1]) + step, shown)


def interval_prices(series: PriceSeries, index: pd.DatetimeIndex, interval_s: float
                    ) -> np.ndarray:
    """Time-weighted mean price of each interval [CNY/kWh] (module docstring).

    Parameters
    ----------
    series : PriceSeries
        From :func:`read_price_file`.
    index : pandas.DatetimeIndex
        Interval starts, tz-aware.
    interval_s : float
        Interval length [s].

    Raises
    ------
    ValueError
        The file does not cover every interval (naming what it covers and what is needed, in
        the index's time zone).
    """
    starts = index.as_unit("ns").asi8
    ends = starts + round(interval_s * 1e9)
    first, last = int(series.start_ns[0]), series.end_ns
    if len(starts) and (starts[0] < first or ends[-1] > last):
        tz = index.tz

        def show(ns: int) -> str:
            return pd.Timestamp(ns, unit="ns", tz="UTC").tz_convert(tz).strftime(
                "%Y-%m-%d %H:%M%z")

        raise ValueError(f"{series.file}: prices from {show(first)} to {show(last)}; the run "
                         f"needs {show(int(starts[0]))} to {show(int(ends[-1]))}; expected a "
                         "file covering the whole run")
    knots = np.append(series.start_ns, last)
    rel_s = (knots - first) / 1e9
    cum = np.concatenate(([0.0], np.cumsum(series.price * np.diff(rel_s))))
    a = np.interp((starts - first) / 1e9, rel_s, cum)
    b = np.interp((ends - first) / 1e9, rel_s, cum)
    return (b - a) / interval_s


def own_energy_price(tou: TouTariff, index: pd.DatetimeIndex, *, prices_given: bool,
                     flat_price_per_kwh: float | list[float] | None,
                     non_floating_adder_per_kwh: float, holidays, workdays
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Period labels and energy price [CNY/kWh] of each interval under an own TOU tariff from
    :func:`own_tou_tariff` (``prices_given``: its table holds prices, not ratios)."""
    periods = tou.periods(index, holidays, workdays=workdays, check_validity=False)
    if prices_given:
        flat: float | np.ndarray = 1.0
    elif isinstance(flat_price_per_kwh, list):
        flat = monthly_values(index, flat_price_per_kwh)
    else:
        flat = float(flat_price_per_kwh)  # type: ignore[arg-type]
    price = tou.price(index, flat, non_floating_adder_per_kwh, holidays, workdays=workdays,
                      check_validity=False)
    return periods, np.asarray(price, dtype=float)


def _short(value: object) -> str:
    text = repr(value if not isinstance(value, str) else value.strip())
    return text if len(text) <= 40 else text[:37] + "..."



def own_tariff_arrays(tf: Tariff, site_zone: str, index: pd.DatetimeIndex, interval_s: float,
                      base_dir: Path | None = None, holidays: Sequence | None = None,
                      workdays: Sequence | None = None) -> tuple[list[str], np.ndarray, str]:
    """Period label, energy price [CNY/kWh] per interval, and a label of the tariff, for a plant
    file's ``energy.grid.tariff`` given by ``periods`` or ``price_file`` (not a preset).
    ``holidays`` and ``workdays`` (make-up working days) price the holiday and rest-day rows
    (default: the tariff's own lists; the supply passes the plant calendar's when the tariff
    gives none, :func:`twin.workdays.tariff_day_types`).

    Raises
    ------
    SupplyError
        The price file cannot be read or does not cover the run (the message starts with the
        field path ``energy.grid.tariff.price_file``).
    """
    from twin.config.errors import SupplyError

    if tf.price_file is not None:
        spec = tf.price_file
        path = Path(spec.file)
        if not path.is_absolute() and base_dir is not None:
            path = base_dir / path
        try:
            series = read_price_file(path, spec.timezone or site_zone,
                                     timestamp_column=spec.timestamp_column,
                                     price_column=spec.price_column, unit=spec.unit,
                                     sheet=spec.sheet)
            price = interval_prices(series, index, interval_s)
        except ValueError as exc:
            raise SupplyError(f"energy.grid.tariff.price_file: {exc}") from None
        return ["flat"] * len(index), price + tf.non_floating_adder_per_kwh, \
            f"price file {series.file}"

    def rows(items: Sequence[TouRow] | None) -> list[Row]:
        return [(r.month_list(), r.days, r.spans(), r.period) for r in items or ()]

    try:
        tou = own_tou_tariff(rows(tf.periods), rows(tf.overlays), ratios=tf.ratios,
                             prices_per_kwh=tf.prices_per_kwh)
        periods, price = own_energy_price(
            tou, index, prices_given=tf.prices_per_kwh is not None,
            flat_price_per_kwh=tf.flat_price_per_kwh,
            non_floating_adder_per_kwh=tf.non_floating_adder_per_kwh,
            holidays=tf.holidays if holidays is None else holidays,
            workdays=tf.workdays if workdays is None else workdays)
    except ValueError as exc:
        raise SupplyError(f"energy.grid.tariff: {exc}") from None
    return list(periods), price, "own TOU table"
