"""Which days a plant works: public holidays, make-up working days (调休), a station's own pattern.

One resolved set of day types feeds the production calendar (:mod:`twin.calendar`: no shift
starts on a holiday; a make-up working day runs a working weekday's shifts) and the tariff's
holiday and rest-day periods (:mod:`twin.energy.supply`), so holidays are written once.

``calendar: {holidays: CN}`` takes the State Council's holidays and make-up working days from
the ``chinese_calendar`` package (PyPI ``chinesecalendar``; its tables follow the State Council
General Office's yearly notice on public-holiday arrangements,
国务院办公厅关于部分节假日安排的通知).
Dates listed under ``holidays`` and ``workdays`` add to it or correct it: a listed date wins over
the package's type for that day.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from twin.calendar import ShiftCalendar, SiteClock, working_windows
from twin.config.errors import SupplyError
from twin.config.plant import WEEKDAYS, Calendar, Plant, SharedResource, Station

COUNTRIES = ("CN",)
"""Country codes whose public holidays the twin knows."""


@dataclass(frozen=True)
class DayTypes:
    """Days that differ from the weekly pattern: days off and make-up working days."""

    holidays: frozenset[dt.date]
    """Public holidays (no shift starts; the tariff's holiday periods apply)."""
    workdays: frozenset[dt.date]
    """Make-up working days (weekend days worked by decree): they run the shifts of the
    calendar's ``workdays_like`` weekday, and the tariff treats them as working days."""


def cn_day_types(first: dt.date, last: dt.date) -> DayTypes:
    """China's public holidays and make-up working days from ``first`` to ``last`` (included),
    from the ``chinese_calendar`` package.

    Raises
    ------
    SupplyError
        A year in the range that the installed package does not know (its tables end with the
        last year the State Council has published), or the package is missing.
    """
    try:
        from chinese_calendar import constants
    except ImportError:  # pragma: no cover - a declared dependency
        raise SupplyError("calendar.holidays: CN needs the chinese_calendar package; install it "
                          "with: pip install chinesecalendar") from None
    known = {d.year for d in constants.holidays}
    lo, hi = min(known), max(known)
    missing = sorted({y for y in range(first.year, last.year + 1)} - set(range(lo, hi + 1)))
    if missing:
        years = ", ".join(str(y) for y in missing)
        raise SupplyError(
            f"calendar.holidays: CN: China's holiday calendar for {years} is not known to the "
            f"installed chinese_calendar package (it covers {lo}-{hi}; the run covers {first} to "
            f"{last}); expected a run within {lo}-{hi}, a newer package (pip install -U "
            f"chinesecalendar), or the year's holidays and workdays listed by hand instead of CN")
    hol = frozenset(d for d in constants.holidays if first <= d <= last)
    work = frozenset(d for d in constants.workdays if first <= d <= last)
    return DayTypes(hol, work)


def day_types(calendar: Calendar, first: dt.date, last: dt.date,
              known_first: dt.date | None = None, known_last: dt.date | None = None) -> DayTypes:
    """The calendar's holidays and make-up working days from ``first`` to ``last``.

    A country's calendar is required to know every day from ``known_first`` to ``known_last``
    (default: ``first`` to ``last``); days outside that span (the padding a night shift needs
    before the start and after the end) take the package's types where it knows them and the
    weekly pattern elsewhere. Dates listed by hand win over the country's type of the day."""
    kf, kl = known_first or first, known_last or last
    hol: set[dt.date] = set()
    work: set[dt.date] = set()
    if calendar.countries:
        strict = cn_day_types(kf, kl)
        hol |= strict.holidays
        work |= strict.workdays
        for pad_first, pad_last in ((first, kf - dt.timedelta(days=1)),
                                    (kl + dt.timedelta(days=1), last)):
            if pad_first <= pad_last:
                try:
                    pad = cn_day_types(pad_first, pad_last)
                except SupplyError:
                    continue
                hol |= pad.holidays
                work |= pad.workdays
    mine_hol, mine_work = set(calendar.holiday_dates), set(calendar.workdays)
    hol = (hol - mine_work) | mine_hol
    work = (work - mine_hol) | mine_work
    return DayTypes(frozenset(hol), frozenset(work))


def day_shift_names(calendar: Calendar, types: DayTypes, day: dt.date) -> list[str] | None:
    """Names of the shifts that start on ``day``; ``None`` when the day is worked around the
    clock (a calendar without ``week``); ``[]`` on a holiday or a day without shifts.
    Shutdowns are not looked at here."""
    if day in types.holidays:
        return []
    if calendar.week is None:
        return None
    weekday = calendar.workdays_like if day in types.workdays else WEEKDAYS[day.weekday()]
    return list(calendar.week.get(weekday, []))  # type: ignore[call-overload]


def station_calendar(plant: Plant, station: Station | SharedResource) -> Calendar | None:
    """The calendar a station works by: its own (``calendar: always`` gives ``None``, around
    the clock), else the plant's. What a station calendar does not write (week, holidays,
    workdays, workdays_like, shutdowns) is the plant's; its shifts add to (or redefine) the
    plant's named shifts."""
    own = station.calendar
    if own is None:
        return plant.calendar
    if own == "always":
        return None
    assert isinstance(own, Calendar)
    base = plant.calendar
    if base is None:
        return own
    given = own.model_fields_set
    update: dict = {"shifts": {**base.shifts, **own.shifts}}
    for name in ("week", "holidays", "workdays", "workdays_like", "shutdowns"):
        if name not in given:
            update[name] = getattr(base, name)
    return own.model_copy(update=update)


def tariff_day_types(plant: Plant, first: dt.date, last: dt.date
                     ) -> tuple[list[dt.date], list[dt.date]]:
    """Holidays and make-up working days for the tariff's holiday and rest-day periods, from
    ``first`` to ``last``: the tariff's own lists when it gives any, else the plant calendar's
    (one calendar for production and the tariff)."""
    tf = plant.energy.grid.tariff if plant.energy is not None else None
    if tf is not None and (tf.holidays or tf.workdays):
        return list(tf.holidays), list(tf.workdays)
    if plant.calendar is None:
        return [], []
    types = day_types(plant.calendar, first, last)
    return sorted(types.holidays), sorted(types.workdays)


def station_shift_calendar(plant: Plant, station: Station | SharedResource, clock: SiteClock,
                           horizon_s: float, plant_calendar: ShiftCalendar) -> ShiftCalendar:
    """The run-time working windows of ``station`` (or of a shared resource, which has a
    ``calendar`` field alike): ``plant_calendar`` itself when it follows the plant, else its own
    (built once per station)."""
    if station.calendar is None:
        return plant_calendar
    cal = station_calendar(plant, station)
    try:
        windows = working_windows(cal, clock, horizon_s)
    except SupplyError as exc:  # the station's own holidays: CN, in a year not known
        where = next((f"lines[{i}].stations[{j}].calendar" for i, j, s in plant.stations()
                      if s is station), None) or next(
            f"resources[{k}].calendar" for k, r in enumerate(plant.resources) if r is station)
        raise SupplyError(str(exc).replace("calendar.", f"{where}.", 1)) from None
    return ShiftCalendar.from_windows(windows, horizon_s)


def own_calendars(machines: list, plant_calendar: ShiftCalendar
                  ) -> list[tuple[ShiftCalendar, list]]:
    """Machines grouped by their own (non-plant, not around-the-clock) calendar, in order."""
    groups: dict[int, tuple[ShiftCalendar, list]] = {}
    for m in machines:
        cal = m.calendar
        if cal is not plant_calendar and not cal.always:
            groups.setdefault(id(cal), (cal, []))[1].append(m)
    return list(groups.values())


def package_version() -> str | None:
    """Version of the installed ``chinesecalendar`` package (its tables decide ``holidays: CN``),
    for the run manifest; ``None`` when it is not installed."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("chinesecalendar")
    except PackageNotFoundError:  # pragma: no cover - a declared dependency
        return None
