"""Grid tariffs: time-of-use energy prices, demand and capacity charges, feed-in revenue.

Chinese provincial time-of-use (TOU) notices fix two things: the *periods* (which hours of which
months are critical peak, peak, flat, valley or deep valley) and the *ratios* of each period's price
to the flat price. They do not fix the flat price itself: that is the monthly agent-purchase or
market purchase price (代理购电价格) of the user's voltage class, published every month by the grid
company. Most provinces float only the energy (purchase) part; transmission and distribution, line
losses, system operation fees and government funds often do not float. Hence, per settlement
interval (zero_carbon_domain.md §5.1),

.. math:: p = p_\\text{flat} \\cdot r(\\text{period}) + a

with :math:`p_\\text{flat}` the flat base price and :math:`a` the non-floating adders, both given by
the user [CNY/kWh]. Presets (periods and ratios, each row with its document number, date, where it
was seen and a status) live in ``twin/data/tariffs/``; see its README for the status of each one.

Conventions
-----------
- Timestamps are tz-aware, in the site's local time; an interval takes the period in force at its
  **start** (a 15-min interval starting 21:15 is priced at 21:15 whatever happens at 21:30).
- Period boundaries are local wall-clock times with minute resolution (19.5 = 19:30).
- Ratios marked unverified ([U]) are never used to price: give them explicitly.
- Import and export limits are hard limits of the grid connection (kW), never prices: they belong
  to the balance, not here.

References
----------
.. [1] NDRC, 发改价格〔2021〕1093号, 关于进一步完善分时电价机制的通知 (national TOU basis).
.. [2] REopt.jl ``ElectricTariff`` (TOU energy rates, monthly demand rates, export rates),
   test ``no_techs.json`` (blended tariff: 10,000 kWh/yr, 0.10 /kWh, 10 /kW-month -> 1,000.0
   energy and 136.99 demand).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

PERIODS: tuple[str, ...] = ("critical", "peak", "flat", "valley", "deep_valley")
"""Period labels, most to least expensive (尖峰, 高峰, 平段, 低谷, 深谷)."""
PERIOD_NAMES = np.array(PERIODS)

DAY_TYPES: tuple[str, ...] = ("all", "holiday", "rest_day")
"""Days a period row applies to: every day; dates in ``holidays``; Saturdays and Sundays not in
``workdays`` plus all ``holidays``."""

STATUSES: tuple[str, ...] = ("S", "S2", "U", "def")
"""[S] seen in the official source, [S2] secondary source only, [U] unverified (never priced),
``def`` by definition (the flat ratio 1, the flat preset)."""

DATA_DIR = Path(__file__).resolve().parent.parent / "data" / "tariffs"
"""Folder of the packaged presets: ``presets.csv``, ``periods.csv``, ``ratios.csv``."""

_MIN_PER_DAY = 1440
_FLAT_PRICE_HELP = (
    "The provincial notices fix TOU periods and ratios, not the flat base price: take it from the "
    "grid company's monthly agent-purchase price notice (代理购电价格) for your voltage class, or "
    "from your market contract, and give the non-floating adders (T&D, losses, system operation, "
    "government funds, as far as your province does not float them) separately"
)


# --------------------------------------------------------------------------------------------
# The tariff object
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class TouTariff:
    """A time-of-use tariff: local time -> period label -> ratio to the flat price.

    Built by :func:`load_preset`; holds compiled lookup tables, so pricing a year of 15-min
    intervals is a few numpy gathers.

    Attributes
    ----------
    name : str
        Preset name, e.g. ``'jiangsu_2025'``.
    customer_class : str or None
        Customer class the tables were compiled for (``None`` if the preset has one class).
    document : str
        Document number(s) of the notice.
    valid_from, valid_to : datetime.date or None
        First and last local date the notice applies to (``None``: not known / open).
    base : ndarray of int8, shape (12, 1440)
        Period code (index into :data:`PERIODS`) per month and minute of the day.
    overlays : tuple of (str, ndarray)
        Per day type, a (12, 1440) table of codes that override ``base`` (-1: no override), e.g.
        critical hours inside the peak, or holiday deep valleys.
    ratios : ndarray of float, shape (12, 5)
        Price ratio to the flat price per month and period; NaN where not available.
    unusable : tuple of str
        Why some ratios the tables can reach cannot be priced (unverified or missing); pricing
        raises while this is not empty.
    status : str
        Worst status of the preset's rows (see :data:`STATUSES`).
    """

    name: str
    customer_class: str | None
    document: str
    valid_from: dt.date | None
    valid_to: dt.date | None
    base: np.ndarray
    overlays: tuple[tuple[str, np.ndarray], ...]
    ratios: np.ndarray
    unusable: tuple[str, ...]
    status: str

    @property
    def label(self) -> str:
        """``name`` or ``name[customer_class]``."""
        return self.name if self.customer_class is None else f"{self.name}[{self.customer_class}]"

    def periods(self, index: pd.DatetimeIndex, holidays: Iterable = (), *,
                workdays: Iterable = (), check_validity: bool = True) -> np.ndarray:
        """Period label of each interval; see :func:`tou_periods`."""
        return PERIOD_NAMES[self._codes(index, holidays, workdays, check_validity)]

    def ratio(self, index: pd.DatetimeIndex, holidays: Iterable = (), *,
              workdays: Iterable = (), check_validity: bool = True) -> np.ndarray:
        """Ratio to the flat price of each interval [-].

        Raises
        ------
        ValueError
            If a ratio the tariff can reach is unverified or missing (see ``unusable``).
        """
        if self.unusable:
            raise ValueError(f"tariff {self.label} cannot price: " + "; ".join(self.unusable))
        codes = self._codes(index, holidays, workdays, check_validity)
        return self.ratios[index.month.to_numpy() - 1, codes]

    def price(self, index: pd.DatetimeIndex, flat_price_per_kwh, non_floating_adder_per_kwh=0.0,
              holidays: Iterable = (), *, workdays: Iterable = (),
              check_validity: bool = True) -> np.ndarray:
        """Energy price of each interval [CNY/kWh]; see :func:`energy_price`."""
        n = len(index)
        flat = _price_array(flat_price_per_kwh, n, "flat_price_per_kwh", help_=_FLAT_PRICE_HELP)
        adder = _price_array(non_floating_adder_per_kwh, n, "non_floating_adder_per_kwh",
                             allow_negative=True)
        r = self.ratio(index, holidays, workdays=workdays, check_validity=check_validity)
        return flat * r + adder

    def schedule(self, month: int, day_type: str = "all") -> list[tuple[float, float, str]]:
        """The day's periods in ``month`` as merged ``(start_hour, end_hour, period)`` spans.

        ``day_type='holiday'`` or ``'rest_day'`` applies that day type's overrides on top of
        the month's table (a holiday is also a rest day).
        """
        if not 1 <= month <= 12:
            raise ValueError(f"month must be 1..12, got {month}")
        if day_type not in DAY_TYPES:
            raise ValueError(f"day_type must be one of {DAY_TYPES}, got {day_type!r}")
        row = self.base[month - 1].copy()
        apply = {"all": ("all",), "rest_day": ("all", "rest_day"),
                 "holiday": ("all", "holiday", "rest_day")}[day_type]
        for dtype, table in self.overlays:
            if dtype in apply:
                ov = table[month - 1]
                row = np.where(ov >= 0, ov, row)
        edges = np.flatnonzero(np.diff(row)) + 1
        starts = np.concatenate(([0], edges))
        ends = np.concatenate((edges, [_MIN_PER_DAY]))
        return [(int(s) / 60, int(e) / 60, PERIODS[row[s]])
                for s, e in zip(starts, ends, strict=True)]

    def _codes(self, index: pd.DatetimeIndex, holidays: Iterable, workdays: Iterable,
               check_validity: bool) -> np.ndarray:
        _check_index(index)
        local = index.tz_localize(None)
        if check_validity:
            self._check_dates(local)
        m = local.month.to_numpy() - 1
        minute = local.hour.to_numpy() * 60 + local.minute.to_numpy()
        codes = self.base[m, minute]
        if not self.overlays:
            return codes
        day = local.normalize().to_numpy().astype("datetime64[D]")
        hol = np.isin(day, _dates(holidays, "holidays"))
        weekend = local.day_of_week.to_numpy() >= 5
        rest = hol | (weekend & ~np.isin(day, _dates(workdays, "workdays")))
        for dtype, table in self.overlays:
            ov = table[m, minute]
            hit = ov >= 0
            if dtype == "holiday":
                hit &= hol
            elif dtype == "rest_day":
                hit &= rest
            codes = np.where(hit, ov, codes)
        return codes

    def _check_dates(self, local: pd.DatetimeIndex) -> None:
        if len(local) == 0:
            return
        first, last = local.min().date(), local.max().date()
        bad = []
        if self.valid_from is not None and first < self.valid_from:
            bad.append(f"starts {first}, before {self.valid_from}")
        if self.valid_to is not None and last > self.valid_to:
            bad.append(f"ends {last}, after {self.valid_to}")
        if bad:
            raise ValueError(
                f"tariff {self.label} ({self.document}) applies from {self.valid_from or '?'} "
                f"to {self.valid_to or 'open'}, but the index {' and '.join(bad)}. Choose the "
                "preset in force, or pass check_validity=False to apply these rules to other "
                "dates (e.g. a typical-year study)")



# --------------------------------------------------------------------------------------------
# Loading presets
# --------------------------------------------------------------------------------------------

def list_presets(data_dir: str | Path | None = None) -> list[str]:
    """Names of the tariff presets in ``data_dir`` (default: the packaged ones)."""
    return list(preset_table(data_dir).index)


def preset_table(data_dir: str | Path | None = None) -> pd.DataFrame:
    """The presets table (``presets.csv``), one row per preset, indexed by name."""
    return _read(Path(data_dir) if data_dir else DATA_DIR, "presets.csv").set_index("preset")


def load_preset(name: str, customer_class: str | None = None, *,
                ratios: Mapping[str, float] | None = None,
                data_dir: str | Path | None = None) -> TouTariff:
    """Load a TOU tariff preset.

    Parameters
    ----------
    name : str
        Preset name, see :func:`list_presets` (e.g. ``'jiangsu_2025'``, ``'flat'``).
    customer_class : str, optional
        Customer class, required when the preset has several (e.g. Jiangsu:
        ``'two_part_industry_ge315kva'`` (critical peak and deep valley apply), ``'two_part'``,
        ``'single_part_ge100kva'``, ``'single_part_lt100kva'``).
    ratios : mapping of str to float, optional
        Ratios to the flat price [-] by period, replacing the file's values in every month. This
        is the only way to price a preset whose ratios are unverified (``zhejiang_2024``).
        ``'flat'`` must be 1.
    data_dir : path, optional
        A folder with your own ``presets.csv``, ``periods.csv`` and ``ratios.csv`` in the same
        format (see ``twin/data/tariffs/README.md``).

    Returns
    -------
    TouTariff

    Raises
    ------
    ValueError
        Unknown preset (the known ones are listed) or class; a month whose base periods do not
        cover 24 h; overlapping period rows; a missing ratio; a malformed row.
    """
    folder = str(Path(data_dir).resolve()) if data_dir else str(DATA_DIR)
    tariff = _compile(name, customer_class, folder, _stamp(folder))
    if ratios:
        tariff = _override_ratios(tariff, ratios, folder)
    return tariff


def _override_ratios(tariff: TouTariff, ratios: Mapping[str, float], folder: str) -> TouTariff:
    table = tariff.ratios.copy()
    for period, value in ratios.items():
        if period not in PERIODS:
            raise ValueError(f"ratios: unknown period {period!r}; expected one of {PERIODS}")
        value = float(value)
        if not math.isfinite(value) or value <= 0:
            raise ValueError(f"ratios[{period!r}] must be a positive number, got {value}")
        if period == "flat" and value != 1.0:
            raise ValueError(f"ratios['flat'] must be 1 (ratios are relative to flat), got {value}")
        table[:, PERIODS.index(period)] = value
    table.setflags(write=False)
    base_name, cls = tariff.name, tariff.customer_class
    unusable = _unusable(base_name, cls, tariff.base, tariff.overlays, table,
                         _ratio_reasons(base_name, cls, folder))
    return replace(tariff, ratios=table, unusable=unusable)


def _stamp(folder: str) -> tuple[float, ...]:
    """Modification times of the three files: edited tables are re-read, not served from cache."""
    paths = (Path(folder) / f for f in ("presets.csv", "periods.csv", "ratios.csv"))
    return tuple(p.stat().st_mtime if p.is_file() else -1.0 for p in paths)


@lru_cache(maxsize=64)
def _read_cached(folder: str, file: str, mtime: float) -> pd.DataFrame:
    path = Path(folder) / file
    if not path.is_file():
        raise ValueError(f"tariff data file not found: {path}")
    return pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)


def _read(folder: Path, file: str) -> pd.DataFrame:
    path = Path(folder) / file
    mtime = path.stat().st_mtime if path.is_file() else -1.0
    return _read_cached(str(folder), file, mtime).copy()


@lru_cache(maxsize=64)
def _compile(name: str, customer_class: str | None, folder: str,
             stamp: tuple[float, ...]) -> TouTariff:
    # ``stamp`` (file modification times) is only part of the cache key.
    presets = _read(Path(folder), "presets.csv")
    known = list(presets["preset"])
    if name not in known:
        raise ValueError(f"unknown tariff preset {name!r}; known presets: {', '.join(known)}")
    meta = presets[presets["preset"] == name].iloc[0]
    classes = _parse_classes(meta["customer_classes"], f"presets.csv preset {name}")
    if classes is None:
        if customer_class is not None:
            raise ValueError(f"preset {name!r} has no customer classes; got customer_class="
                             f"{customer_class!r} (leave it out)")
    elif customer_class not in classes:
        what = "needs a customer_class" if customer_class is None else (
            f"has no customer class {customer_class!r}")
        raise ValueError(f"preset {name!r} {what}; choose one of: {', '.join(classes)} "
                         "(see twin/data/tariffs/README.md)")

    rows = _rows(Path(folder), "periods.csv", name, customer_class)
    if rows.empty:
        raise ValueError(f"periods.csv has no rows for preset {name!r}")
    base, overlays = _period_tables(name, customer_class, rows)
    ratio_rows = _rows(Path(folder), "ratios.csv", name, customer_class)
    ratios, reasons = _ratio_table(name, customer_class, ratio_rows)
    unusable = _unusable(name, customer_class, base, overlays, ratios, reasons)
    statuses = set(rows["status"]) | set(ratio_rows["status"])
    status = next((s for s in ("U", "S2", "S", "def") if s in statuses), "def")
    return TouTariff(
        name=name, customer_class=customer_class, document=meta["document"],
        valid_from=_date_or_none(meta["valid_from"], f"presets.csv {name} valid_from"),
        valid_to=_date_or_none(meta["valid_to"], f"presets.csv {name} valid_to"),
        base=base, overlays=overlays, ratios=ratios, unusable=unusable, status=status)


def _rows(folder: Path, file: str, name: str, customer_class: str | None) -> pd.DataFrame:
    """The file's rows for one preset and class, with ``line`` = line number in the file."""
    df = _read(folder, file)
    df["line"] = np.arange(len(df)) + 2
    df = df[df["preset"] == name]
    keep = []
    for _, r in df.iterrows():
        where = f"{file} line {r['line']}"
        if r["status"] not in STATUSES:
            raise ValueError(f"{where}: status {r['status']!r} is not one of {STATUSES}")
        cls = _parse_classes(r["customer_classes"], where)
        keep.append(cls is None or customer_class in cls)
    return df[np.array(keep, dtype=bool)] if len(df) else df


def _period_tables(name: str, cls: str | None, rows: pd.DataFrame
                   ) -> tuple[np.ndarray, tuple[tuple[str, np.ndarray], ...]]:
    label = name if cls is None else f"{name}[{cls}]"
    base = np.full((12, _MIN_PER_DAY), -1, dtype=np.int8)
    base_owner = np.zeros((12, _MIN_PER_DAY), dtype=np.int32)
    over = {d: np.full((12, _MIN_PER_DAY), -1, dtype=np.int8) for d in DAY_TYPES}
    over_owner = np.zeros((12, _MIN_PER_DAY), dtype=np.int32)
    for _, r in rows.iterrows():
        where = f"periods.csv line {r['line']}"
        layer, day_type, period = r["layer"], r["day_type"], r["period"]
        if layer not in ("base", "overlay"):
            raise ValueError(f"{where}: layer must be 'base' or 'overlay', got {layer!r}")
        if day_type not in DAY_TYPES:
            raise ValueError(f"{where}: day_type must be one of {DAY_TYPES}, got {day_type!r}")
        if layer == "base" and day_type != "all":
            raise ValueError(f"{where}: base rows apply to all days (day_type 'all'); "
                             "use an overlay row for holidays or rest days")
        if period not in PERIODS:
            raise ValueError(f"{where}: period must be one of {PERIODS}, got {period!r}")
        code = PERIODS.index(period)
        months = _parse_months(r["months"], where)
        spans = _parse_span(r["start_hour"], r["end_hour"], where)
        table, owner = (base, base_owner) if layer == "base" else (over[day_type], over_owner)
        for m in months:
            for s, e in spans:
                clash = owner[m - 1, s:e]
                if clash.any():
                    k = int(np.flatnonzero(clash)[0])
                    other = int(clash[k])
                    raise ValueError(
                        f"tariff {label}: periods.csv lines {other} and {r['line']} overlap in "
                        f"month {m} at {_hhmm(s + k)} ({layer} rows must not overlap; overlays "
                        "override base rows, and no two overlays may cover the same minute)")
                owner[m - 1, s:e] = r["line"]
                table[m - 1, s:e] = code
    for m in range(12):
        gap = np.flatnonzero(base[m] < 0)
        if gap.size:
            spans = _runs(gap)
            text = ", ".join(f"{_hhmm(s)}-{_hhmm(e)}" for s, e in spans)
            raise ValueError(f"tariff {label}: month {m + 1} has no base period for {text}; "
                             "the base rows of every month must cover 00:00-24:00")
    for table in (base, *over.values()):
        table.setflags(write=False)
    overlays = tuple((d, t) for d, t in over.items() if (t >= 0).any())
    return base, overlays


def _ratio_table(name: str, cls: str | None, rows: pd.DataFrame
                 ) -> tuple[np.ndarray, dict[tuple[int, int], str]]:
    """(12, 5) ratios with NaN where unusable, and the reason for each unverified cell."""
    label = name if cls is None else f"{name}[{cls}]"
    table = np.full((12, len(PERIODS)), np.nan)
    seen = np.zeros((12, len(PERIODS)), dtype=np.int32)
    reasons: dict[tuple[int, int], str] = {}
    for _, r in rows.iterrows():
        where = f"ratios.csv line {r['line']}"
        period = r["period"]
        if period not in PERIODS:
            raise ValueError(f"{where}: period must be one of {PERIODS}, got {period!r}")
        p = PERIODS.index(period)
        text = r["ratio_to_flat"].strip()
        value = math.nan
        if r["status"] != "U":
            try:
                value = float(text)
            except ValueError:
                raise ValueError(f"{where}: ratio_to_flat {text!r} is not a number (leave it "
                                 "empty only with status U)") from None
            if not math.isfinite(value) or value <= 0:
                raise ValueError(f"{where}: ratio_to_flat must be positive, got {text!r}")
            if period == "flat" and value != 1.0:
                raise ValueError(f"{where}: the flat ratio must be 1, got {text!r}")
        for m in _parse_months(r["months"], where):
            if seen[m - 1, p]:
                raise ValueError(f"tariff {label}: ratios.csv lines {seen[m - 1, p]} and "
                                 f"{r['line']} both give '{period}' in month {m}")
            seen[m - 1, p] = r["line"]
            table[m - 1, p] = value
            if r["status"] == "U":
                reasons[(m - 1, p)] = (f"the ratio of '{period}' is unverified [U] "
                                       f"({r['document']}, ratios.csv line {r['line']})")
    table.setflags(write=False)
    return table, reasons


def _ratio_reasons(name: str, cls: str | None, folder: str) -> dict[tuple[int, int], str]:
    return _ratio_table(name, cls, _rows(Path(folder), "ratios.csv", name, cls))[1]


def _unusable(name: str, cls: str | None, base: np.ndarray,
              overlays: tuple[tuple[str, np.ndarray], ...], ratios: np.ndarray,
              reasons: dict[tuple[int, int], str]) -> tuple[str, ...]:
    """Reasons why reachable (month, period) cells have no usable ratio."""
    reach = np.zeros((12, len(PERIODS)), dtype=bool)
    for table in (base, *(t for _, t in overlays)):
        for m in range(12):
            codes = np.unique(table[m])
            reach[m, codes[codes >= 0]] = True
    out: dict[str, list[int]] = {}
    for m, p in zip(*np.nonzero(reach & np.isnan(ratios)), strict=True):
        why = reasons.get((int(m), int(p)), f"ratios.csv has no ratio for '{PERIODS[p]}'")
        out.setdefault(why, []).append(int(m) + 1)
    if not out:
        return ()
    hint = (f"give the ratios explicitly: load_preset({name!r}"
            + (f", {cls!r}" if cls else "") + ", ratios={'critical': ..., 'peak': ..., "
            "'valley': ..., 'deep_valley': ...})")
    return (*(f"{why} in {_month_list(ms)}" for why, ms in out.items()), hint)


# --------------------------------------------------------------------------------------------
# Public functions over time series
# --------------------------------------------------------------------------------------------

def tou_periods(index: pd.DatetimeIndex, tariff: TouTariff, holidays: Iterable = (), *,
                workdays: Iterable = (), check_validity: bool = True) -> np.ndarray:
    """TOU period label of each interval.

    Parameters
    ----------
    index : pandas.DatetimeIndex
        Interval starts, tz-aware, any step (15 min, 1 h, ...). The local wall-clock time of the
        index's zone decides the period; an interval takes the period in force at its start.
    tariff : TouTariff
        From :func:`load_preset`.
    holidays : iterable of date-like, optional
        Dates on which holiday rules apply (deep valleys in Jiangsu, Zhejiang, Shanghai). Pass the
        dates the notice names, e.g. for Zhejiang only the Spring Festival, Labour Day and
        National Day holidays; nothing is hard-coded.
    workdays : iterable of date-like, optional
        Saturdays or Sundays that are working days by decree (调休); they are not rest days.
    check_validity : bool, default True
        Raise if the index lies outside the notice's validity dates.

    Returns
    -------
    ndarray of str
        One of :data:`PERIODS` per interval.
    """
    return tariff.periods(index, holidays, workdays=workdays, check_validity=check_validity)


def energy_price(index: pd.DatetimeIndex, tariff: TouTariff, flat_price_per_kwh,
                 non_floating_adder_per_kwh=0.0, holidays: Iterable = (), *,
                 workdays: Iterable = (), check_validity: bool = True) -> np.ndarray:
    """Energy price of each interval [CNY/kWh]: ``flat x ratio(period) + adder``.

    Parameters
    ----------
    index, tariff, holidays, workdays, check_validity
        As in :func:`tou_periods`.
    flat_price_per_kwh : float or array_like
        Flat base price [CNY/kWh], the part that floats: a scalar, or one value per interval
        (see :func:`monthly_values` for a price that changes monthly). Required: the notices do
        not give it.
    non_floating_adder_per_kwh : float or array_like, default 0.0
        Parts of the price that do not float with the period [CNY/kWh] (added after the ratio;
        zero_carbon_domain.md §5.1). 0 means ``flat_price_per_kwh`` already is the whole price.

    Returns
    -------
    ndarray of float
        Price per interval [CNY/kWh].

    Raises
    ------
    ValueError
        Missing or negative flat price; a ratio the tariff needs is unverified [U] (give
        ``ratios=`` to :func:`load_preset`).
    """
    return tariff.price(index, flat_price_per_kwh, non_floating_adder_per_kwh, holidays,
                        workdays=workdays, check_validity=check_validity)


def monthly_values(index: pd.DatetimeIndex, values) -> np.ndarray:
    """Expand monthly values (e.g. the monthly agent-purchase price) to the intervals of ``index``.

    Parameters
    ----------
    index : pandas.DatetimeIndex
        Interval starts, tz-aware.
    values : sequence of 12 floats, or mapping
        Values for January..December, or a mapping from month number (1-12) or ``'YYYY-MM'`` to
        the value. Every month of the index must be covered.

    Returns
    -------
    ndarray of float
    """
    _check_index(index)
    local = index.tz_localize(None)
    months = local.month.to_numpy()
    if isinstance(values, Mapping):
        out = np.full(len(index), np.nan)
        ym = local.strftime("%Y-%m").to_numpy() if len(index) else np.array([], dtype=str)
        for key, v in values.items():
            if isinstance(key, str):
                out[ym == key] = float(v)
            else:
                out[months == int(key)] = float(v)
        if np.isnan(out).any():
            missing = sorted(set(ym[np.isnan(out)]))
            raise ValueError(f"monthly_values: no value for {', '.join(missing)}")
        return out
    arr = np.asarray(values, dtype=float)
    if arr.shape != (12,):
        raise ValueError(f"monthly_values: give 12 values (Jan..Dec) or a mapping, got shape "
                         f"{arr.shape}")
    return arr[months - 1]


def interval_hours(index: pd.DatetimeIndex) -> float:
    """Length of the (regular) intervals of ``index`` [h].

    Raises
    ------
    ValueError
        Fewer than two timestamps without a ``freq``, or irregular spacing.
    """
    _check_index(index)
    if len(index) < 2:
        if index.freq is None:
            raise ValueError("cannot infer the interval length from fewer than two timestamps "
                             "without a freq")
        return pd.Timedelta(index.freq).total_seconds() / 3600
    steps = np.diff(index.as_unit("ns").asi8)
    if (steps != steps[0]).any() or steps[0] <= 0:
        raise ValueError("the index must be regular and increasing (one settlement interval "
                         "per row)")
    return float(steps[0]) / 3.6e12


def average_kw(kwh, index: pd.DatetimeIndex) -> np.ndarray:
    """Average power of each interval [kW] from its energy [kWh]."""
    kwh = np.asarray(kwh, dtype=float)
    _check_length(kwh, index, "kwh")
    return kwh / interval_hours(index)


def energy_cost(kwh, price) -> np.ndarray:
    """Cost of energy per interval [CNY]: ``kwh x price``.

    Parameters
    ----------
    kwh : array_like
        Energy bought per interval [kWh], >= 0 (grid import, or a fuel by its LHV).
    price : float or array_like
        Price per interval [CNY/kWh], e.g. from :func:`energy_price`.

    Returns
    -------
    ndarray of float
        Cost per interval [CNY]; ``.sum()`` for the total.
    """
    kwh = _nonneg(kwh, "kwh")
    return kwh * np.asarray(price, dtype=float)


def export_revenue(kwh, feed_in_price) -> np.ndarray:
    """Revenue from exported energy per interval [CNY]: ``kwh x feed_in_price``.

    Parameters
    ----------
    kwh : array_like
        Energy exported per interval [kWh], >= 0.
    feed_in_price : float or array_like
        Feed-in price [CNY/kWh] (e.g. the coal benchmark price or the market price for surplus
        PV); a user input, no default is shipped.

    Returns
    -------
    ndarray of float
        Revenue per interval [CNY].
    """
    kwh = _nonneg(kwh, "kwh")
    return kwh * np.asarray(feed_in_price, dtype=float)


def gas_price_per_kwh(price_per_m3: float, lhv_mj_per_m3: float) -> float:
    """Gas price per kWh of lower heating value [CNY/kWh] from a price per cubic metre.

    Parameters
    ----------
    price_per_m3 : float
        Gas price [CNY/m³] (standard cubic metres, as billed).
    lhv_mj_per_m3 : float
        Lower heating value [MJ/m³] of the same cubic metre (e.g. from the fuel factor table).

    Returns
    -------
    float
        ``price_per_m3 / (lhv_mj_per_m3 / 3.6)`` [CNY/kWh].
    """
    if not lhv_mj_per_m3 > 0:
        raise ValueError(f"lhv_mj_per_m3 must be positive, got {lhv_mj_per_m3}")
    if not price_per_m3 >= 0:
        raise ValueError(f"price_per_m3 must be >= 0, got {price_per_m3}")
    return price_per_m3 / (lhv_mj_per_m3 / 3.6)


def month_key(index: pd.DatetimeIndex) -> np.ndarray:
    """Local calendar month of every timestamp as one integer, ``year x 12 + month - 1``
    (sortable; ``key // 12`` is the year, ``key % 12 + 1`` the month): the month of a demand
    charge, of a monthly peak, of a 'YYYY-MM' label."""
    return (np.asarray(index.year, dtype=np.int64) * 12
            + np.asarray(index.month, dtype=np.int64) - 1)


def monthly_peak_demand(interval_kw, index: pd.DatetimeIndex) -> pd.DataFrame:
    """Highest settlement-interval demand of each calendar month.

    Parameters
    ----------
    interval_kw : array_like
        Average demand of each settlement interval [kW] (grid import). Use 15-min averages
        where the meter settles at 15 min: hourly averages understate the peak.
    index : pandas.DatetimeIndex
        Interval starts, tz-aware and regular; months are local calendar months.

    Returns
    -------
    pandas.DataFrame
        Indexed by month (``pandas.Period``), columns ``peak_kw`` [kW], ``peak_start``
        (timestamp of the interval that set it), ``intervals`` (count) and ``coverage`` (share
        of the month's hours the index covers, 0-1].
    """
    kw = np.asarray(interval_kw, dtype=float)
    _check_length(kw, index, "interval_kw")
    if np.isnan(kw).any():
        raise ValueError("interval_kw contains NaN")
    step_h = interval_hours(index)
    key = month_key(index)
    grouped = pd.Series(kw).groupby(key, sort=True)
    peak, where, count = grouped.max(), grouped.idxmax(), grouped.size()
    keys = peak.index.to_numpy()
    months = pd.PeriodIndex.from_fields(year=keys // 12, month=keys % 12 + 1, freq="M")
    hours = np.array([_month_hours(p, index.tz) for p in months])
    return pd.DataFrame({
        "peak_kw": peak.to_numpy(),
        "peak_start": index[where.to_numpy()],
        "intervals": count.to_numpy(),
        "coverage": np.minimum(count.to_numpy() * step_h / hours, 1.0),
    }, index=months.rename("month"))


def demand_charge(interval_kw, index: pd.DatetimeIndex, rate_per_kw_month: float, *,
                  prorate: bool = False) -> pd.Series:
    """Demand charge per calendar month [CNY]: the month's highest settlement-interval demand
    times the rate.

    Parameters
    ----------
    interval_kw : array_like
        Average grid demand of each settlement interval [kW].
    index : pandas.DatetimeIndex
        Interval starts, tz-aware and regular.
    rate_per_kw_month : float
        Demand rate [CNY/(kW·month)], from your province's T&D tariff table (输配电价表); no
        default is shipped (the values in the research note are placeholders).
    prorate : bool, default False
        ``False`` charges every month the index touches in full, as REopt does for a full year
        and as a bill does; for a run shorter than a month this overstates the cost of the run.
        ``True`` scales each month's charge by the share of the month the index covers.

    Returns
    -------
    pandas.Series
        Charge per month [CNY], indexed by month; ``.sum()`` for the total. A month whose peak is
        negative (net export throughout) is charged 0.

    Notes
    -----
    Contract-demand billing (penalty above 105 % of the declared demand) and ratchets are not
    modelled.
    """
    rate = _rate(rate_per_kw_month, "rate_per_kw_month", "CNY/(kW·month)")
    peaks = monthly_peak_demand(interval_kw, index)
    charge = np.maximum(peaks["peak_kw"].to_numpy(), 0.0) * rate
    if prorate:
        charge = charge * peaks["coverage"].to_numpy()
    return pd.Series(charge, index=peaks.index, name="demand_charge")


def capacity_charge(kva: float, months: float, rate_per_kva_month: float) -> float:
    """Capacity (transformer) charge [CNY]: ``kva x months x rate``.

    Parameters
    ----------
    kva : float
        Billed transformer capacity [kVA].
    months : float
        Billed months; a fraction for a part month if your contract prorates.
    rate_per_kva_month : float
        Capacity rate [CNY/(kVA·month)] from your province's T&D tariff table; no default.
    """
    rate = _rate(rate_per_kva_month, "rate_per_kva_month", "CNY/(kVA·month)")
    if not kva >= 0 or not months >= 0:
        raise ValueError(f"kva and months must be >= 0, got {kva} and {months}")
    return float(kva) * float(months) * rate


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------

def _check_index(index) -> None:
    if not isinstance(index, pd.DatetimeIndex):
        raise TypeError(f"index must be a pandas.DatetimeIndex, got {type(index).__name__}")
    if index.tz is None:
        raise ValueError("index must be tz-aware (the site's local time zone, e.g. "
                         "index.tz_localize('Asia/Shanghai'))")


def _check_length(values: np.ndarray, index: pd.DatetimeIndex, name: str) -> None:
    if values.shape != (len(index),):
        raise ValueError(f"{name} has shape {values.shape}; expected ({len(index)},), one value "
                         "per interval of the index")


def _nonneg(values, name: str) -> np.ndarray:
    arr = np.asarray(values, dtype=float)
    if np.isnan(arr).any():
        raise ValueError(f"{name} contains NaN")
    if (arr < 0).any():
        raise ValueError(f"{name} must be >= 0 (import and export are separate flows), found "
                         f"{arr.min()}")
    return arr


def _rate(value, name: str, unit: str) -> float:
    if value is None:
        raise ValueError(f"{name} [{unit}] is required: no default is shipped; take it from your "
                         "province's T&D tariff table (输配电价表)")
    value = float(value)
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a finite number >= 0 [{unit}], got {value}")
    return value


def _price_array(value, n: int, name: str, *, help_: str = "",
                 allow_negative: bool = False) -> np.ndarray:
    if value is None:
        raise ValueError(f"{name} [CNY/kWh] is required. {help_}".strip())
    arr = np.asarray(value, dtype=float)
    if arr.ndim == 0:
        arr = np.full(n, float(arr))
    if arr.shape != (n,):
        raise ValueError(f"{name} must be a scalar or one value per interval ({n}), got shape "
                         f"{arr.shape}")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} contains NaN or inf. {help_}".strip())
    if not allow_negative and (arr < 0).any():
        raise ValueError(f"{name} must be >= 0 [CNY/kWh], found {arr.min()}")
    return arr


def _dates(values: Iterable, name: str) -> np.ndarray:
    out = []
    for v in values:
        try:
            ts = pd.Timestamp(v)
        except (ValueError, TypeError):
            raise ValueError(f"{name}: {v!r} is not a date") from None
        if ts.tzinfo is not None:
            ts = ts.tz_localize(None)
        out.append(np.datetime64(ts.date(), "D"))
    return np.array(out, dtype="datetime64[D]")


def _parse_classes(text: str, where: str) -> tuple[str, ...] | None:
    text = text.strip()
    if text in ("", "*"):
        return None
    parts = tuple(p.strip() for p in text.split(";"))
    if any(not p for p in parts):
        raise ValueError(f"{where}: empty name in customer_classes {text!r}")
    return parts


def _parse_months(text: str, where: str) -> list[int]:
    months: set[int] = set()
    for part in text.split(";"):
        part = part.strip()
        try:
            a, _, b = part.partition("-")
            lo, hi = int(a), int(b or a)
        except ValueError:
            raise ValueError(f"{where}: months {text!r} must look like '1-2;6-8;12'") from None
        if not 1 <= lo <= hi <= 12:
            raise ValueError(f"{where}: months {text!r}: month ranges must lie in 1..12 and "
                             "increase (write Dec-Feb as '12;1-2')")
        months.update(range(lo, hi + 1))
    return sorted(months)


def _parse_span(start: str, end: str, where: str) -> list[tuple[int, int]]:
    try:
        s_h, e_h = float(start), float(end)
    except ValueError:
        raise ValueError(f"{where}: start_hour {start!r} and end_hour {end!r} must be "
                         "numbers (19.5 = 19:30)") from None
    s, e = s_h * 60, e_h * 60
    if s != round(s) or e != round(e):
        raise ValueError(f"{where}: hours {start}-{end} must fall on whole minutes")
    s, e = round(s), round(e)
    if not (0 <= s < _MIN_PER_DAY and 0 <= e <= _MIN_PER_DAY) or s == e:
        raise ValueError(f"{where}: need 0 <= start_hour < 24, 0 <= end_hour <= 24 and "
                         f"start != end, got {start}-{end}")
    if e < s:  # wraps past midnight: same day's [s, 24) and [0, e)
        return [(s, _MIN_PER_DAY), (0, e)] if e > 0 else [(s, _MIN_PER_DAY)]
    return [(s, e)]


def _date_or_none(text: str, where: str) -> dt.date | None:
    text = text.strip()
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{where}: {text!r} is not a date (YYYY-MM-DD)") from None


def _runs(minutes: np.ndarray) -> list[tuple[int, int]]:
    breaks = np.flatnonzero(np.diff(minutes) > 1)
    starts = np.concatenate(([minutes[0]], minutes[breaks + 1]))
    ends = np.concatenate((minutes[breaks] + 1, [minutes[-1] + 1]))
    return list(zip(starts.tolist(), ends.tolist(), strict=True))


def _hhmm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def _month_list(months: Sequence[int]) -> str:
    return "all months" if len(months) == 12 else "months " + ",".join(str(m) for m in months)


def _month_hours(period: pd.Period, tz) -> float:
    start = pd.Timestamp(period.start_time).tz_localize(tz)
    end = pd.Timestamp((period + 1).start_time).tz_localize(tz)
    return (end - start).total_seconds() / 3600
