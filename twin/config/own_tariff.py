"""Pydantic models of a tariff written in the plant file: an own time-of-use table, and a price
file (spot-market or agent-purchase prices per hour or per interval).

``energy.grid.tariff`` takes its energy prices from exactly one source:

* ``preset:`` a packaged notice (:mod:`twin.energy.tariff`), with ``flat_price_per_kwh``;
* ``periods:`` the user's own table (rows of months, day type, hours and period), optional
  ``overlays:`` (critical peaks, holiday deep valleys) on top of it, priced with ``ratios`` to a
  ``flat_price_per_kwh`` or with ``prices_per_kwh`` per period;
* ``price_file:`` a timestamp and a price per row.

Demand and capacity charges, adders and the feed-in price apply to all three. The rules that need
the whole table (24 h covered, no overlap, a price for every period used) are checked by
:func:`own_tariff_issues` with the field path of the row, so that errors point at its line.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Literal

from pydantic import Field, field_validator

from twin.config.base import _Model
from twin.config.errors import ConfigIssue

if TYPE_CHECKING:
    from twin.config.energy import Tariff
    from twin.config.plant import Plant

PeriodName = Literal["critical", "peak", "flat", "valley", "deep_valley"]
"""TOU period labels (as :data:`twin.energy.tariff.PERIODS`)."""
DayType = Literal["all", "workday", "rest_day", "holiday"]

_MIN_PER_DAY = 1440
_CLOCK = re.compile(r"^\s*(\d{1,2})(?::(\d{2}))?\s*$")


def parse_months(value: str | int | list[int]) -> list[int]:
    """Months of ``value``: ``7``, ``[6, 7, 8]`` or ``'6-8;12'`` (ranges increase; write Dec-Feb
    as ``'12;1-2'``). Raises ValueError with what is expected."""
    expected = "expected a month 1-12, a list of months, or text like '6-8;12'"
    if isinstance(value, bool):
        raise ValueError(expected)
    if isinstance(value, int):
        items: list[tuple[int, int]] = [(value, value)]
    elif isinstance(value, list):
        items = [(v, v) for v in value]
    else:
        items = []
        for part in str(value).split(";"):
            a, sep, b = part.strip().partition("-")
            try:
                lo, hi = int(a), int(b) if sep else int(a)
            except ValueError:
                raise ValueError(expected) from None
            items.append((lo, hi))
    months: set[int] = set()
    for lo, hi in items:
        if not 1 <= lo <= hi <= 12:
            raise ValueError(expected)
        months.update(range(lo, hi + 1))
    if not months:
        raise ValueError(expected)
    return sorted(months)


def parse_hours(text: str) -> list[tuple[int, int]]:
    """Minute spans ``[(start, end), ...]`` of the day of ``'08:00-11:30'`` (local wall clock;
    ``'22:00-06:00'`` wraps past midnight; ``'24:00'`` may end a span). Raises ValueError."""
    expected = ("expected 'HH:MM-HH:MM' (local time, e.g. '08:00-11:30'; '22:00-06:00' wraps "
                "past midnight; end '24:00')")
    parts = str(text).split("-")
    if len(parts) != 2:
        raise ValueError(expected)
    minutes = []
    for p in parts:
        m = _CLOCK.match(p)
        if m is None:
            raise ValueError(expected)
        h, mm = int(m.group(1)), int(m.group(2) or 0)
        if mm > 59 or h > 24 or (h == 24 and mm):
            raise ValueError(expected)
        minutes.append(h * 60 + mm)
    s, e = minutes
    if s == e or s >= _MIN_PER_DAY:
        raise ValueError(expected + "; start and end must differ")
    if e < s:  # wraps: the same day's [s, 24:00) and [00:00, e)
        return [(s, _MIN_PER_DAY), (0, e)] if e > 0 else [(s, _MIN_PER_DAY)]
    return [(s, e)]


class TouRow(_Model):
    """One row of an own TOU table: in these months, on these days, these hours are this period.

    ``days``: ``workday`` (Monday to Friday, and weekend days worked by decree, ``workdays``),
    ``rest_day`` (Saturdays and Sundays not worked), ``holiday`` (dates in ``holidays``), ``all``.
    """

    months: str | int | list[int] = Field("1-12", description="Months the row applies to: 7, "
                                          "[6, 7, 8] or '6-8;12' (default all).")
    days: DayType = Field("all", description="Day type the row applies to.")
    hours: str = Field(description="Local wall-clock span 'HH:MM-HH:MM', e.g. '08:00-11:30'; "
                                   "'22:00-06:00' wraps past midnight; the end may be '24:00'.")
    period: PeriodName = Field(description="TOU period of these hours.")

    @field_validator("months")
    @classmethod
    def _months(cls, v: str | int | list[int]) -> str | int | list[int]:
        parse_months(v)
        return v

    @field_validator("hours")
    @classmethod
    def _hours(cls, v: str) -> str:
        parse_hours(v)
        return v

    def month_list(self) -> list[int]:
        """The months of the row, 1-12."""
        return parse_months(self.months)

    def spans(self) -> list[tuple[int, int]]:
        """Minute spans of the day ``[start, end)``."""
        return parse_hours(self.hours)


class PriceFile(_Model):
    """Energy prices per hour or per interval from a file (CSV, Parquet or XLSX): one row per
    price, the price holding from its timestamp to the next. Each settlement interval is priced at
    the time-weighted mean of the prices in force during it. Naive timestamps are local time of
    ``timezone`` (default: the site's); timestamps with an offset are taken as they are."""

    file: str = Field(description="The price file (CSV, Parquet or XLSX), relative to the plant "
                                  "file.")
    timestamp_column: str = Field("timestamp", description="Column of the price start times.")
    price_column: str = Field("price_per_kwh", description="Column of the prices.")
    unit: Literal["per_kwh", "per_mwh"] = Field(
        "per_kwh", description="Price per kWh, or per MWh as spot markets publish [CNY].")
    timezone: str | None = Field(None, description="IANA zone of naive timestamps; default: "
                                                   "site.timezone.")
    sheet: str | None = Field(None, description="XLSX sheet (name or 0-based number).")

    @field_validator("timezone")
    @classmethod
    def _zone(cls, v: str | None) -> str | None:
        from twin.config.base import known_zone

        return known_zone(v)


def as_price_file(value: object) -> object:
    """``price_file: prices.csv`` is ``price_file: {file: prices.csv}``."""
    return {"file": value} if isinstance(value, str) else value


def also_text(schema: dict) -> None:
    """JSON schema of ``price_file``: a :class:`PriceFile` mapping, or its file name as text."""
    schema.setdefault("anyOf", []).append({"type": "string"})


def check_tariff_source(t: Tariff) -> None:
    """Which fields go together (called by the ``Tariff`` model). Raises ValueError."""
    sources = [n for n in ("preset", "periods", "price_file") if getattr(t, n) is not None]
    if len(sources) != 1:
        got = " and ".join(sources) if sources else "none"
        raise ValueError(f"give exactly one source of energy prices: 'preset' (a packaged "
                         f"notice), 'periods' (your own TOU table) or 'price_file'; got {got}")
    source = sources[0]
    if source != "periods" and t.overlays is not None:
        raise ValueError("'overlays' go with your own 'periods' table (a preset has its own)")
    if source != "periods" and t.prices_per_kwh is not None:
        raise ValueError("'prices_per_kwh' go with your own 'periods' table; a preset is priced "
                         "with flat_price_per_kwh (and ratios)")
    if source != "preset" and t.customer_class is not None:
        raise ValueError("'customer_class' selects a class of a preset; leave it out")
    if source == "price_file":
        extra = [n for n in ("flat_price_per_kwh", "ratios") if getattr(t, n) is not None]
        if extra:
            raise ValueError(f"a price_file gives the energy price itself; leave out "
                             f"{' and '.join(extra)} (non_floating_adder_per_kwh is added)")
        return
    if source == "periods" and t.prices_per_kwh is not None:
        extra = [n for n in ("flat_price_per_kwh", "ratios") if getattr(t, n) is not None]
        if extra:
            raise ValueError(f"price your periods with prices_per_kwh or with ratios to a "
                             f"flat_price_per_kwh, not both (got prices_per_kwh and "
                             f"{' and '.join(extra)})")
        return
    if t.flat_price_per_kwh is None:
        raise ValueError(
            "flat_price_per_kwh is required with " + (
                "a preset" if source == "preset" else "ratios (or give prices_per_kwh per "
                "period instead)") + ": the flat (平段) price from the grid company's "
            "agent-purchase price notice or your market contract [CNY/kWh]")


def own_tariff_issues(plant: Plant) -> list[ConfigIssue]:
    """Whole-table checks of an own tariff, each with the field path of the row or price:
    24 h covered on every day type of every month, no two rows on the same minute, a price or
    ratio for every period the table uses, twelve values where monthly prices are given, and
    no policy or strategy that needs TOU periods with a price file."""
    energy = plant.energy
    t = energy.grid.tariff if energy is not None else None
    if t is None:
        return []
    base = "energy.grid.tariff"
    issues: list[ConfigIssue] = []
    if t.price_file is not None:
        if energy.dispatch.policy == "tou_arbitrage":
            issues.append(ConfigIssue(
                "energy.dispatch.policy", "tou_arbitrage charges and discharges in named TOU "
                "periods, and a price_file has none; expected 'rolling_lp' or "
                "'perfect_foresight' (they read the prices), or 'self_consumption'",
                "tou_arbitrage", True))
        for k, s in enumerate(plant.strategies):
            if getattr(s, "type", None) == "tou_shifting":
                issues.append(ConfigIssue(
                    f"strategies[{k}]", "tou_shifting holds work for named TOU periods, and a "
                    "price_file has none; expected a 'periods' table or a preset", "tou_shifting",
                    True))
        return issues
    if t.periods is None:
        return issues
    from twin.energy.own_tariff import TouTableError, compile_table, used_periods

    try:
        table = compile_table(
            [(r.month_list(), r.days, r.spans(), r.period) for r in t.periods],
            [(r.month_list(), r.days, r.spans(), r.period) for r in (t.overlays or [])])
    except TouTableError as exc:
        return [ConfigIssue(f"{base}.{exc.field}[{exc.row}]", exc.message)]
    used = used_periods(table)
    if t.prices_per_kwh is not None:
        for p, v in t.prices_per_kwh.items():
            if isinstance(v, list) and len(v) != 12:
                issues.append(ConfigIssue(f"{base}.prices_per_kwh.{p}", "expected one price, or "
                                          "12 monthly prices (Jan..Dec)", v, True))
        missing = [p for p in used if p not in t.prices_per_kwh]
        if missing:
            issues.append(ConfigIssue(f"{base}.prices_per_kwh", "no price for the period(s) "
                                      + ", ".join(f"'{p}'" for p in missing) + " that the "
                                      "table uses; expected a price per kWh for each"))
        return issues
    ratios = t.ratios or {}
    for p, v in ratios.items():
        if p not in ("critical", "peak", "flat", "valley", "deep_valley"):
            issues.append(ConfigIssue(f"{base}.ratios", f"unknown period {p!r}; expected "
                                      "critical, peak, flat, valley or deep_valley", p, True))
        elif not v > 0 or (p == "flat" and v != 1):
            issues.append(ConfigIssue(f"{base}.ratios.{p}", "expected a ratio > 0 to the flat "
                                      "price (the flat ratio is 1)", v, True))
    missing = [p for p in used if p != "flat" and p not in ratios]
    if missing:
        issues.append(ConfigIssue(f"{base}.ratios", "no ratio for the period(s) "
                                  + ", ".join(f"'{p}'" for p in missing) + " that the table "
                                  "uses; expected e.g. {peak: 1.7, valley: 0.38} (flat is 1)"))
    return issues


def resolve_price_file(plant: Plant, base: object) -> Plant:
    """``plant`` with a relative ``energy.grid.tariff.price_file`` made relative to ``base`` (the
    plant file's folder, a :class:`pathlib.Path`)."""
    from pathlib import Path

    energy = plant.energy
    t = energy.grid.tariff if energy is not None else None
    if t is None or t.price_file is None or Path(t.price_file.file).is_absolute():
        return plant
    spec = t.price_file.model_copy(update={"file": str(Path(str(base)) / t.price_file.file)})
    grid = energy.grid.model_copy(update={"tariff": t.model_copy(update={"price_file": spec})})
    return plant.model_copy(update={"energy": energy.model_copy(update={"grid": grid})})
