"""Pydantic models of a plant file.

A plant file is flat: lists of products, equipment types, lines with stations, sources and base
loads that refer to each other by ``id``. Numbers carry their unit in the field name (``_kw``,
``_s``, ``_h``, ``_min``) or, for distributions, in their ``unit`` field. Unknown keys are errors.
Cross references (routes to stations, stations to equipment types, ...) are checked by
:func:`twin.config.checks.check_references`, which reports the field path of each problem.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    field_validator,
    model_serializer,
    model_validator,
)

from twin.config.base import Carrier, Id, _Model, drop_defaults, known_zone
from twin.config.carbon import Carbon
from twin.config.distributions import Distribution, require_progress
from twin.config.energy import Energy
from twin.config.orders import OrdersSource, PlanFileSource
from twin.config.programme import Programme
from twin.config.saving import Cooling, SwitchOn
from twin.config.sequence import Sequence
from twin.sector import SECTORS

CARRIERS: tuple[str, ...] = ("electricity", "natural_gas", "heat", "cooling")
"""Energy carriers a piece of equipment can draw (natural gas by its lower heating value)."""
ELECTRICITY, NATURAL_GAS, HEAT, COOLING = range(len(CARRIERS))
"""Index of each carrier in :data:`CARRIERS` (and in every per-carrier array)."""

State = Literal[
    "off", "standby", "warm_up", "idle", "starved", "processing", "setup", "blocked", "down",
    "maintenance",
]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")





def _date_not_number(v: object) -> object:
    # pydantic reads a number as a Unix time (0 -> 1970-01-01); in a plant file it is a mistake.
    if isinstance(v, (int, float)):
        raise ValueError("expected a date as YYYY-MM-DD")
    return v


Date = Annotated[dt.date, BeforeValidator(_date_not_number)]
"""A calendar date written YYYY-MM-DD."""

_HHMM = re.compile(r"^(\d{1,2}):(\d{2})$")


def parse_clock(value: str, *, max_hours: int = 24) -> int:
    """Minutes after midnight of an ``HH:MM`` string; hours may run to ``max_hours``."""
    m = _HHMM.match(str(value).strip())
    if not m:
        raise ValueError("expected a time of day as 'HH:MM', e.g. '06:00'")
    h, mi = int(m.group(1)), int(m.group(2))
    # max_hours=23 allows up to 23:59 (a time of day); 24 or 48 allows exactly 24:00 or 48:00.
    limit = max_hours * 60 + (59 if max_hours < 24 else 0)
    if mi >= 60 or h * 60 + mi > limit:
        raise ValueError(f"expected a time of day between 00:00 and {max_hours:02d}:59"
                         if max_hours < 24 else
                         f"expected a time between 00:00 and {max_hours:02d}:00")
    return h * 60 + mi


def _clock_text(value: object, *, max_hours: int) -> object:
    """Check an ``HH:MM`` field before pydantic's type check, so ``0600`` gets the clock message."""
    if not isinstance(value, str):
        raise ValueError("expected a time of day as 'HH:MM', e.g. '06:00'")
    parse_clock(value, max_hours=max_hours)
    return value


class Site(_Model):
    """Where the plant is: used for local time, and later for weather, tariffs and grid factors."""

    name: str = Field(min_length=1, description="Plant name, shown in reports.")
    timezone: str = Field("Asia/Shanghai", description="IANA time zone, e.g. 'Asia/Shanghai'.")
    latitude: float = Field(ge=-90, le=90, description="Latitude [deg north].")
    longitude: float = Field(ge=-180, le=180, description="Longitude [deg east].")
    altitude_m: float = Field(0, ge=-500, le=6000, description="Altitude above sea level [m] "
                                                               "(PV: air mass, pressure).")
    province: str | None = Field(None, description="Province or region (grid factor, tariff).")
    sector: Literal[SECTORS] | None = Field(  # type: ignore[valid-type]
        None, description="Industry of the plant, as the national zero-carbon factory "
                          "guideline names them (automotive, lithium_battery, photovoltaic, "
                          "electronics, light_industry, machinery, computing, steel, nonferrous, "
                          "petrochemical, building_materials, textiles, other): reported in the "
                          "KPIs and compared with the sector's published intensity ranges "
                          "(twin/data/sector_ranges.csv).")
    language: Literal["en", "zh"] | None = Field(
        None, description="Language of the dashboards, the report and the terminal summary: "
                          "'en' (default) or 'zh' (Chinese, amounts in 万元); --lang overrides.")

    @model_serializer(mode="wrap")
    def _drop_unset(self, handler: Any) -> dict[str, Any]:
        return drop_defaults(handler(self), {"language": None, "sector": None})

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, v: str) -> str:
        return known_zone(v)  # type: ignore[return-value]


FIRST_START = dt.date(1900, 1, 1)
LAST_START = dt.date(2200, 12, 31)
"""Range of simulated start days (pandas timestamps end in 2262; a run may last 3660 days)."""
MAX_DAYS = 3660
"""Longest simulated period [d]."""


def check_start(day: dt.date) -> dt.date:
    """``day`` if a run may start on it, else ValueError naming the allowed range."""
    if not FIRST_START <= day <= LAST_START:
        raise ValueError(f"expected a start day between {FIRST_START} and {LAST_START}")
    return day


class Simulation(_Model):
    """Defaults for a run; the command line and ``twin.simulate`` may override each."""

    start: Date = Field(dt.date(2026, 1, 1), description="First simulated day (local midnight).")
    days: float = Field(365, gt=0, le=MAX_DAYS, description="Simulated period [d].")
    seed: int = Field(1, ge=0, description="Seed of every random stream of the run.")
    settlement_interval_min: Literal[5, 10, 15, 20, 30, 60] = Field(
        15, description="Metering/settlement interval [min]; Chinese meters settle every 15 min."
    )
    trace_day: Date | None = Field(
        None, description="Day whose every power-state change is kept (trace.parquet, the "
                          "dashboard's machine timeline); default: the first working day a week "
                          "after the start, or the first day of a shorter run."
    )

    steps: bool = Field(
        False, description="Write steps.parquet: one row per lot and route step with the lot's "
                           "arrival in the station's input buffer, start (taken by a machine), "
                           "end of processing and leaving [timestamps], and the machine; for "
                           "checking a line station by station (off: nothing is recorded)."
    )

    partition: Literal["auto", "off"] = Field(
        "auto", description="Run independent parts of the plant (lines that share no station, "
                            "resource, component, equipment group or site-wide strategy) in "
                            "parallel worker processes when more than one is asked for (twin "
                            "run --jobs N): 'auto' splits when the plant splits and N > 1, with "
                            "the same results as one process; 'off' always runs in one process."
    )

    @model_serializer(mode="wrap")
    def _drop_unset(self, handler: Any) -> dict[str, Any]:
        return drop_defaults(handler(self), {"partition": "auto"})

    @field_validator("start")
    @classmethod
    def _start_in_range(cls, v: dt.date) -> dt.date:
        return check_start(v)


class Shift(_Model):
    """A working window within a day. A shift that ends the next day is written with an end after
    24:00, e.g. ``{start: '22:00', end: '30:00'}`` for 22:00 to 06:00."""

    start: str = Field(description="Start time, local 'HH:MM'.")
    end: str = Field(
        description="End time, local 'HH:MM'; after '24:00' if it ends the next day (at most 24 h "
        "after the start)."
    )

    @field_validator("start", mode="before")
    @classmethod
    def _start_clock(cls, v: object) -> object:
        return _clock_text(v, max_hours=23)

    @field_validator("end", mode="before")
    @classmethod
    def _end_clock(cls, v: object) -> object:
        return _clock_text(v, max_hours=48)

    @model_validator(mode="after")
    def _ends_after_start(self) -> Shift:
        end = parse_clock(self.end, max_hours=48)
        if end <= parse_clock(self.start):
            hint = (
                f"; for a shift that ends the next day write the end after 24:00, e.g. end: "
                f"'{end // 60 + 24:02d}:{end % 60:02d}'" if end < 24 * 60 else ""
            )
            when = ("the time it starts" if end == self.start_min
                    else f"before it starts at {self.start}")
            raise ValueError(
                f"shift ends at {self.end}, {when}; expected an end after the start{hint}"
            )
        if end - parse_clock(self.start) > 24 * 60:
            raise ValueError(
                f"shift from {self.start} to {self.end} is longer than 24 h; expected at most 24 h "
                f"(a plant that runs around the clock needs no calendar, or one shift per day)"
            )
        return self

    @property
    def start_min(self) -> int:
        """Start [min after local midnight]."""
        return parse_clock(self.start)

    @property
    def end_min(self) -> int:
        """End [min after local midnight of the start day]."""
        return parse_clock(self.end, max_hours=48)


class Period(_Model):
    """Whole days from ``start`` to ``end``, both included."""

    start: Date = Field(description="First day of the period.")
    end: Date = Field(description="Last day of the period (included).")
    name: str | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Period:
        if self.end < self.start:
            raise ValueError(f"period ends on {self.end}, before it starts on {self.start}; "
                             f"expected an end on or after the start")
        return self


HOLIDAY_COUNTRIES = ("CN",)
"""Countries whose public holidays ``calendar.holidays`` can name."""


def check_holidays(v: object) -> object:
    """``holidays`` as written (a country code, or a list of dates and country codes), dates
    parsed; one clear error for anything else (pydantic's own messages for the union would
    list every branch)."""
    items = [v] if isinstance(v, str) else v
    if not isinstance(items, list):
        raise ValueError("expected a list of dates YYYY-MM-DD, or CN for China's holidays")
    out: list[object] = []
    for k, x in enumerate(items):
        text = x.strip() if isinstance(x, str) else None
        if text is not None and text.upper() in HOLIDAY_COUNTRIES:
            out.append(text.upper())
        elif text is not None and text.isalpha():
            raise ValueError(f"holidays[{k}] is {x!r}: unknown country; expected one of "
                             f"{', '.join(HOLIDAY_COUNTRIES)} or a date YYYY-MM-DD")
        elif text is not None:
            try:
                out.append(dt.date.fromisoformat(text))
            except ValueError:
                raise ValueError(f"holidays[{k}] is {x!r}: not a date; expected a date "
                                 f"YYYY-MM-DD or CN") from None
        elif isinstance(x, dt.date) and not isinstance(x, dt.datetime):
            out.append(x)
        else:
            shown = x.isoformat(sep=" ") if isinstance(x, dt.datetime) else repr(x)
            raise ValueError(f"holidays[{k}] is {shown}; expected a date YYYY-MM-DD or CN")
    return out[0] if isinstance(v, str) else out


Holidays = Literal["CN"] | list[Date | Literal["CN"]]


class Calendar(_Model):
    """When the plant works: named shifts, which shifts run on each weekday, holidays, shutdowns.

    Without a calendar the plant runs 24/7."""

    shifts: dict[Id, Shift] = Field(default_factory=dict, description="Named shifts.")
    week: dict[Weekday, list[Id]] | None = Field(
        None, description="Shift names per weekday (mon..sun); a weekday left out has no shift. "
        "Omitted: every day but holidays and shutdowns is worked around the clock."
    )
    holidays: Holidays = Field(
        default_factory=list, description="Public holidays, without shifts, also the tariff's "
        "holiday periods: dates, and/or 'CN' for China's State Council holidays and make-up "
        "working days (package chinese_calendar), e.g. holidays: CN or [CN, 2026-10-09]. "
        "A plant's own days off are shutdowns.")
    workdays: list[Date] = Field(
        default_factory=list, description="Make-up working days (调休): days worked with the "
        "shifts of workdays_like; added to CN's, or correcting it (a listed date wins).")
    workdays_like: Weekday = Field(
        "mon", description="Weekday whose shifts a make-up working day runs.")
    shutdowns: list[Period] = Field(default_factory=list, description="Plant shutdown periods.")

    @field_validator("holidays", mode="before")
    @classmethod
    def _holiday_items(cls, v: object) -> object:
        return check_holidays(v)

    @model_validator(mode="after")
    def _consistent(self) -> Calendar:
        both = sorted(set(self.holiday_dates) & set(self.workdays))
        if both:
            raise ValueError(f"{both[0]} is listed both in holidays and in workdays; expected "
                             f"one of the two")
        return self

    @property
    def countries(self) -> tuple[str, ...]:
        """Country codes in ``holidays`` (e.g. ``('CN',)``)."""
        items = [self.holidays] if isinstance(self.holidays, str) else self.holidays
        return tuple(x for x in items if isinstance(x, str))

    @property
    def holiday_dates(self) -> tuple[dt.date, ...]:
        """The dates listed in ``holidays``."""
        items = [] if isinstance(self.holidays, str) else self.holidays
        return tuple(x for x in items if isinstance(x, dt.date))


def _calendar_kind(v: object) -> str:
    return "always" if isinstance(v, str) else "calendar"


StationCalendar = Annotated[
    Annotated[Literal["always"], Tag("always")] | Annotated[Calendar, Tag("calendar")],
    Discriminator(_calendar_kind),
]
"""A station's own working time: 'always' (around the clock) or a calendar."""


class FunctionalUnit(_Model):
    """What one unit of a product is in the unit its sector's intensities are quoted in."""

    name: str = Field(min_length=1, description="Functional unit, as the sector ranges name it "
                      "(twin/data/sector_ranges.csv), e.g. 'vehicle', 'W', 'kWh_cell', 't'.")
    per_unit: float = Field(gt=0, description="Functional units in one unit of the product, "
                            "e.g. 550 (W) for a 550 W module [functional units / unit].")


class Product(_Model):
    """A product, moved through the plant in lots."""

    id: Id
    units_per_lot: int = Field(1, ge=1, description="Units in one lot [-].")
    route: list[Id] = Field(min_length=1, description="Station ids the lot visits, in order.")
    components: dict[Id, Annotated[int, Field(ge=1)]] = Field(
        default_factory=dict,
        description=(
            "Lots of other products assembled into one lot of this product at the first station "
            "of its route (an assembly station). Releasing this product releases its components."
        ),
    )
    due_h: float | None = Field(
        None, gt=0, description="Due date of an order of this product: this many hours after its "
        "release [h]; its components carry the same due date (lots.parquet due and tardiness, "
        "kpis due_dates; scheduling strategies hold flexible work only while the due date can "
        "still be met); a source's due_h overrides it; omitted: no due date.")
    functional_unit: FunctionalUnit | None = Field(
        None, description="What one unit is in its sector's functional unit (vehicles, W of "
        "module, kWh of cell capacity, t): per-unit intensities are compared with the sector's "
        "published ranges in these units.")

    @model_serializer(mode="wrap")
    def _drop_unset(self, handler: Any) -> dict[str, Any]:
        return drop_defaults(handler(self), {"functional_unit": None})


class SavingMode(_Model):
    """An energy-saving mode (OPC UA ECM / PROFIenergy): time back to operate and minimum stay."""

    warm_up_s: float = Field(
        0, ge=0, description="Time back to ready (RegularTimeToOperate) [s]."
    )
    min_stay_s: float = Field(
        0, ge=0, description="Shortest worthwhile stay (TimeMinLengthOfStay) [s]."
    )
    cooling: Cooling | None = Field(
        None, description="Warm-up by time spent in this mode (first-order cooling or a table); "
        "omitted: always the full warm_up_s.")


StatePower = dict[State, Annotated[float, Field(ge=0)]]


class EquipmentType(_Model):
    """Power of a kind of machine in each state, per carrier, and its saving modes.

    A state left out takes the power of another: starved, blocked, setup, warm_up and processing
    take idle's; standby takes off's; maintenance takes down's; down takes off's; off and idle
    default to 0. A carrier left out is not used (0 kW)."""

    id: Id
    power_kw: dict[Carrier, StatePower] = Field(
        description=(
            "Power per carrier and state [kW], e.g. {electricity: {idle: 4, processing: 18}}."
        )
    )
    saving_modes: dict[Literal["standby", "off"], SavingMode] = Field(
        default_factory=dict, description="Saving modes the machine supports."
    )
    off_shift_mode: Literal["idle", "standby", "off"] = Field(
        "idle",
        description=(
            "Mode outside shifts. The machine falls back to a lighter mode when the break is "
            "shorter than the mode's min_stay_s plus warm_up_s."
        ),
    )
    warm_up_before_shift: bool = Field(
        True, description="Warm up ahead of the shift so the machine is ready at its start."
    )
    programme: Programme | None = Field(
        None, description="Processing power as phases (twin.config.programme), the machine's "
        "default recipe: each phase a share of the processing time (or a fixed duration_s) and "
        "its power per carrier, e.g. [{id: heat_up, share: 0.25, power_kw: {heat: 600}}, ...]; "
        "a station's programme_by_product wins. Omitted: one processing power.")

    @model_serializer(mode="wrap")
    def _drop_unset(self, handler: Any) -> dict[str, Any]:
        return drop_defaults(handler(self), {"programme": None})

    @model_validator(mode="after")
    def _mode_defined(self) -> EquipmentType:
        if self.off_shift_mode != "idle" and self.off_shift_mode not in self.saving_modes:
            raise ValueError(
                f"off_shift_mode is '{self.off_shift_mode}' but saving_modes has no "
                f"'{self.off_shift_mode}' entry; expected saving_modes.{self.off_shift_mode} "
                f"with its warm_up_s and min_stay_s"
            )
        return self


class Failures(_Model):
    """Breakdowns: time to failure counted in processing time, then a repair."""

    time_to_failure: Distribution = Field(description="Processing time between failures.")
    time_to_repair: Distribution = Field(description="Repair time.")

    @model_validator(mode="after")
    def _progress(self) -> Failures:
        require_progress(self.time_to_failure, "time_to_failure")
        return self


class Maintenance(_Model):
    """A planned maintenance window: weekly on a weekday, or once on a date. It starts at ``start``
    or, if a lot is in hand, as soon as the lot is done, and lasts ``duration_h``."""

    weekday: Weekday | None = None
    date: Date | None = None
    start: str = Field(description="Local time 'HH:MM'.")
    duration_h: float = Field(gt=0, le=24 * 14, description="Duration [h].")

    @field_validator("start", mode="before")
    @classmethod
    def _clock(cls, v: object) -> object:
        return _clock_text(v, max_hours=23)

    @model_validator(mode="after")
    def _one_when(self) -> Maintenance:
        if (self.weekday is None) == (self.date is None):
            raise ValueError("expected exactly one of 'weekday' (weekly) or 'date' (once)")
        return self


class Conveyor(_Model):
    """A conveyor (continuous-flow) station: reflow or curing oven, paint line, tunnel dryer.

    A lot enters at most every ``pitch_s`` and rides the belt for ``transit_s`` (first in, first
    out), so the station passes one lot per pitch at most and holds up to
    ``ceil(transit_s / pitch_s)`` lots at once. Its power is the equipment type's (idle when the
    belt runs empty, processing when it carries at least one lot) plus, per lot on the belt, the
    increment ``lot_power_kw`` (the heat taken up by the load: sensible heat m c dT of a lot over
    its transit, divided by the heater efficiency)."""

    pitch_s: float = Field(gt=0, description="Shortest time between two lots entering [s].")
    transit_s: float = Field(gt=0, description="Time a lot stays on the belt [s].")
    lot_power_kw: dict[Carrier, Annotated[float, Field(ge=0)]
                       | list[Annotated[float, Field(ge=0)]]] = Field(
        default_factory=dict,
        description="Power added per lot on the belt, per carrier [kW]: one number (the same "
        "for every lot), or a list, the increment of the 1st, 2nd, ... lot on the belt (one "
        "entry per place: ceil(transit_s / pitch_s) entries); omitted: power does not depend "
        "on the load.")

    @property
    def capacity(self) -> int:
        """Most lots on the belt at once: ceil(transit / pitch) [-]."""
        return max(1, math.ceil(self.transit_s / self.pitch_s - 1e-9))

    @model_validator(mode="after")
    def _places(self) -> Conveyor:
        ratio = self.transit_s / self.pitch_s
        if not ratio <= 1000:  # also catches an infinite ratio (huge transit, tiny pitch)
            raise ValueError(f"transit_s / pitch_s is {ratio:g} lots on the belt; expected at "
                             "most 1000")
        n = self.capacity
        for carrier, v in self.lot_power_kw.items():
            if isinstance(v, list) and len(v) != n:
                raise ValueError(
                    f"lot_power_kw.{carrier} has {len(v)} entries; expected one per place on the "
                    f"belt, ceil(transit_s / pitch_s) = {n}")
        return self

    def increments_kw(self, carrier: str) -> list[float]:
        """Power added by the 1st, 2nd, ... lot on the belt for ``carrier`` [kW]."""
        v = self.lot_power_kw.get(carrier, 0.0)  # type: ignore[call-overload]
        return list(v) if isinstance(v, list) else [float(v)] * self.capacity


class Cleaning(_Model):
    """A periodic setup or cleaning task of a station's machines (stencil cleaning, nozzle change,
    colour change, furnace tube cleaning): due every ``every_lots`` lots or every
    ``every_processing_h`` hours of processing of a machine, whichever comes first, and done
    between lots, in the *setup* state (its power), counted as changeover time in OEE
    availability, not as breakdown."""

    id: Id
    every_lots: int | None = Field(
        None, ge=1, description="Due after this many lots processed since the task was last "
        "done on the machine (a batch counts each lot) [lots].")
    every_processing_h: float | None = Field(
        None, gt=0, description="Due after this much processing time since the task was last "
        "done on the machine [h].")
    duration: Distribution = Field(description="Time the task takes.")

    @model_validator(mode="after")
    def _when(self) -> Cleaning:
        if self.every_lots is None and self.every_processing_h is None:
            raise ValueError("expected every_lots, every_processing_h or both")
        return self


class Quality(_Model):
    """Yield of a station: after processing, each lot is good with probability ``yield_fraction``
    (or its product's), else reworked (back to route step ``rework_to``, at most ``max_rework``
    times per lot) or scrapped. Scrapped lots used their energy and leave the plant unfinished."""

    yield_fraction: float = Field(
        1.0, gt=0, le=1, description="Share of lots good after processing here [-].")
    yield_by_product: dict[Id, Annotated[float, Field(gt=0, le=1)]] = Field(
        default_factory=dict, description="Per-product yield [-], overriding yield_fraction.")
    rework_to: Id | None = Field(
        None, description="Station id on the product's route, at or before this step, to which "
        "a bad lot goes back for rework (its latest visit; this station's own id: done again "
        "here). Omitted: bad lots are scrapped.")
    max_rework: int = Field(
        1, ge=0, le=100, description="Most rework passes of one lot (over all stations); a bad "
        "lot that has used them is scrapped [-].")


class Station(_Model):
    """A work station: one or more identical machines sharing an input buffer."""

    id: Id
    equipment: Id = Field(description="Equipment type id (power per state).")
    machines: int = Field(1, ge=1, le=1000, description="Parallel identical machines [-].")
    buffer_capacity: int | None = Field(
        None, ge=1, description="Input buffer size [lots]; omitted = unbounded."
    )
    process_time: Distribution | None = Field(None, description="Time to process one lot.")
    process_time_by_product: dict[Id, Distribution] = Field(
        default_factory=dict, description="Per-product processing time, overriding process_time."
    )
    setup_time: Distribution | None = Field(
        None, description="Changeover time when the product differs from the previous lot."
    )
    batch_size: int = Field(1, ge=1, description="Most lots processed together [-].")
    setup_matrix: dict[Id, dict[Id, Distribution]] = Field(
        default_factory=dict, description="Changeover time by product pair, {from: {to: "
        "time}}; a pair not given takes setup_time (none when setup_time is omitted).")
    cleaning: list[Cleaning] = Field(
        default_factory=list, description="Periodic setups and cleanings, done between lots "
        "when due.")
    quality: Quality | None = Field(
        None, description="Yield, rework and scrap; omitted: every lot is good.")
    failures: Failures | None = None
    maintenance: list[Maintenance] = Field(default_factory=list)
    off_shift: Literal["finish", "interrupt"] = Field(
        "finish", description="At shift end: finish the lot in hand, or interrupt and resume it."
    )
    calendar: StationCalendar | None = Field(
        None, description="The station's own working time: 'always' (around the clock, holidays "
        "too, e.g. a furnace) or a calendar; what it does not write (week, holidays, workdays, "
        "shutdowns) is the plant's, its shifts add to or redefine the plant's named shifts. "
        "Omitted: the plant's calendar.")
    group: Id | None = Field(None, description="Reporting group; default: the line id.")
    needs: dict[Id, Annotated[int, Field(ge=1)]] = Field(
        default_factory=dict, description="Shared resources (plant 'resources') a machine of "
        "this station must hold to work, units per resource, e.g. {operator: 1}.")
    needs_for: list[Literal["setup", "process"]] = Field(
        default_factory=lambda: ["setup", "process"], min_length=1,
        description="When the needs are held: during changeovers ('setup'), during processing "
        "('process'), or both (held from the start of the changeover to the end of processing).")
    conveyor: Conveyor | None = Field(
        None, description="A conveyor (continuous-flow) station: lots enter at a fixed pitch and "
        "ride the belt for a fixed transit time, several at once; replaces process_time.")
    deferrable: bool = Field(
        False, description="Flexible work (formation/aging, ovens, charging): scheduling "
        "strategies may hold the start of a lot here; the default stations of tou_shifting, "
        "pv_following, peak_shaving and carbon_aware.")
    switch_on: SwitchOn | None = Field(
        None, description="Switch-on threshold (N-policy): a machine off for want of work starts "
        "again only when this many lots wait (or the oldest has waited max_wait_h), then serves "
        "until none waits; omitted: it starts at the first lot.")
    programme_by_product: dict[Id, Programme] = Field(
        default_factory=dict, description="The recipe's power programme per product on this "
        "station (twin.config.programme), overriding the equipment type's programme: phases, "
        "each a share of the processing time (or a fixed duration_s) with its power per "
        "carrier.")
    sequence: Sequence | None = Field(
        None, description="Sequence feeding (continuous caster, continuous furnace, float "
        "line): the next lot must come within a window, else the sequence breaks and restarts "
        "at a cost (twin.config.sequence); omitted: lots are taken as they come.")

    @model_serializer(mode="wrap")
    def _drop_unset(self, handler: Any) -> dict[str, Any]:
        return drop_defaults(handler(self), {"programme_by_product": {}, "sequence": None})


class SharedResource(_Model):
    """Operators or tools that a set of stations shares (a setup crew, one operator tending
    several machines): ``count`` units, available within their own working time."""

    id: Id
    count: int = Field(1, ge=1, le=10000, description="Units of the resource (operators, "
                       "tools) [-].")
    calendar: StationCalendar | None = Field(
        None, description="When the resource can start work: 'always', or a calendar (like a "
        "station's: what it does not write is the plant's). Omitted: the plant's calendar.")


class Line(_Model):
    """A production line: a reporting group of stations."""

    id: Id
    stations: list[Station] = Field(min_length=1, description="Stations of the line.")


class PlanSource(_Model):
    """Releases planned quantities at the start of the first shift of each working day or week."""

    id: Id
    kind: Literal["plan"]
    period: Literal["day", "week"] = "day"
    quantities: dict[Id, Annotated[float, Field(ge=0)]] = Field(
        description="Units per working day (or week) per product [units]; rounded up to whole "
        "lots, the rounding carried over."
    )
    sequence: Literal["batched", "mixed"] = Field(
        "batched", description="Release all lots of one product, then the next; or interleave them."
    )
    due_h: float | None = Field(
        None, gt=0, description="Due date of each period's lots, this many hours after their "
        "release [h] (e.g. 24 for a daily plan due within the day); overrides the products' due_h.")


class ArrivalSource(_Model):
    """Releases lots one at a time after random inter-arrival times."""

    id: Id
    kind: Literal["arrivals"]
    interarrival: Distribution
    product_mix: dict[Id, Annotated[float, Field(gt=0)]] = Field(
        min_length=1, description="Relative share of each product [-]."
    )
    active: Literal["always", "shifts"] = Field(
        "always", description="Arrivals continue outside shifts, or only during shifts."
    )
    due_h: float | None = Field(
        None, gt=0, description="Due date of each arriving order, this many hours after it "
        "arrives [h]; overrides the products' due_h.")

    @model_validator(mode="after")
    def _progress(self) -> ArrivalSource:
        require_progress(self.interarrival, "interarrival")
        return self


Source = Annotated[PlanSource | ArrivalSource | OrdersSource | PlanFileSource,
                   Field(discriminator="kind")]


class CompressedAir(_Model):
    """An air compressor on load/unload control serving an air demand with leaks; its average
    electric power follows from the loaded fraction (see twin.energy.conversion)."""

    capacity_m3_min: float = Field(gt=0, description="Free air delivery at full load [m3/min].")
    p_load_kw: float = Field(gt=0, description="Electric power loaded [kW].")
    p_unload_kw: float = Field(ge=0, description="Electric power unloaded, motor running [kW].")
    demand_m3_min: float = Field(ge=0, description="Air used by production when on [m3/min].")
    off_demand_m3_min: float = Field(0, ge=0, description="Air used when off [m3/min].")
    leak_fraction: float = Field(0, ge=0, lt=1, description="Share of delivered air lost to "
                                                           "leaks [-].")


class AirHandling(_Model):
    """An air-handling unit on outdoor (make-up) air, e.g. a paint booth's air supply: its fans
    draw ``fan_kw`` when on (``setback_fan_kw`` off), and it heats (and optionally cools) its
    outdoor air to the supply set points interval by interval from the weather's temperature,
    after heat recovery (:mod:`twin.energy.air_handling`). Needs ``energy.weather``."""

    airflow_m3_h: float = Field(gt=0, description="Outdoor-air flow when on [m3/h] (standard "
                                "air, 20 degC).")
    setback_airflow_m3_h: float = Field(0, ge=0, description="Outdoor-air flow when off "
                                        "(setback) [m3/h].")
    supply_heating_c: float = Field(ge=-10, le=60, description="Supply air set point for "
                                    "heating [degC]: colder outdoor air is heated to it.")
    supply_cooling_c: float | None = Field(None, ge=0, le=40, description="Supply air set "
                                           "point for cooling [degC]: warmer outdoor air is "
                                           "cooled to it (sensible only); omitted: no cooling.")
    exhaust_c: float | None = Field(None, ge=-10, le=80, description="Exhaust air entering the "
                                    "heat recovery [degC] (default: supply_heating_c).")
    heat_recovery_effectiveness: float = Field(0, ge=0, lt=1, description="Sensible "
                                               "effectiveness of the exhaust heat recovery, 0 = "
                                               "none [-].")
    fan_kw: float = Field(ge=0, description="Fan power when on [kW].")
    setback_fan_kw: float = Field(0, ge=0, description="Fan power when off (setback) [kW].")
    heating: Literal["natural_gas", "heat", "electricity"] = Field(
        "natural_gas", description="Heating carrier: 'natural_gas' (direct-fired burner), "
        "'heat' (from the plant's heat bus: boilers, heat pumps, CHP, purchased heat/steam) or "
        "'electricity'.")
    heating_efficiency: float = Field(1.0, gt=0, le=10, description="Burner efficiency (gas, "
                                      "LHV) or COP (electric) [-]; 1 for heat from the heat bus.")
    cooling: Literal["electricity", "cooling"] = Field(
        "electricity", description="Cooling carrier: 'electricity' (its own chiller at "
        "cooling_cop) or 'cooling' (the plant's chillers and cold storage).")
    cooling_cop: float | None = Field(None, gt=0, le=20, description="COP of its own chiller "
                                      "[-] (cooling: electricity).")

    @model_validator(mode="after")
    def _consistent(self) -> AirHandling:
        if self.setback_airflow_m3_h > self.airflow_m3_h:
            raise ValueError(f"setback_airflow_m3_h {self.setback_airflow_m3_h:g} is above "
                             f"airflow_m3_h {self.airflow_m3_h:g}; expected at most that")
        c = self.supply_cooling_c
        if c is not None and c < self.supply_heating_c:
            raise ValueError(f"supply_cooling_c {c:g} is below supply_heating_c "
                             f"{self.supply_heating_c:g}; expected at least that")
        if self.heating == "heat" and self.heating_efficiency != 1:
            raise ValueError(f"heating_efficiency {self.heating_efficiency:g} with heating "
                             f"'heat': the heat bus's units carry the efficiencies; expected 1")
        if c is not None and self.cooling == "electricity" and self.cooling_cop is None:
            raise ValueError("supply_cooling_c with cooling 'electricity' needs cooling_cop")
        if self.cooling_cop is not None and (c is None or self.cooling != "electricity"):
            raise ValueError("cooling_cop is used only with supply_cooling_c and cooling "
                             "'electricity'; leave it out")
        return self


class BaseLoad(_Model):
    """A load that does not follow production: lighting, HVAC base, compressed air. Give its
    power, a compressed-air system whose power is computed, or an air-handling unit whose
    heating and cooling follow the weather."""

    id: Id
    group: Id = Field(description="Reporting group, e.g. 'facility' or 'utilities'.")
    power_kw: dict[Carrier, Annotated[float, Field(ge=0)]] | None = Field(
        None, description="Power when on [kW]."
    )
    off_power_kw: dict[Carrier, Annotated[float, Field(ge=0)]] = Field(
        default_factory=dict, description="Power when off [kW]."
    )
    compressed_air: CompressedAir | None = None
    air_handling: AirHandling | None = Field(None, description="An air-handling unit on outdoor "
                                             "air whose heating and cooling follow the weather.")
    schedule: Literal["always", "shifts"] = Field("always", description="When the load is on.")

    @model_serializer(mode="wrap")
    def _drop_unset(self, handler: Any) -> dict[str, Any]:
        return drop_defaults(handler(self), {"air_handling": None})

    @model_validator(mode="after")
    def _power_given(self) -> BaseLoad:
        given = [self.power_kw is not None, self.compressed_air is not None,
                 self.air_handling is not None]
        if sum(given) != 1:
            raise ValueError("give exactly one of 'power_kw', 'compressed_air' or "
                             "'air_handling'")
        if self.compressed_air is not None and self.off_power_kw:
            raise ValueError("with 'compressed_air' the off power follows from off_demand_m3_min;"
                             " leave out off_power_kw")
        if self.air_handling is not None and self.off_power_kw:
            raise ValueError("with 'air_handling' the off power is its setback_fan_kw and "
                             "setback_airflow_m3_h; leave out off_power_kw")
        return self


class StrategyConfig(BaseModel):
    """A production strategy selected by its registered name (:mod:`twin.strategies`); the other
    keys are its parameters, validated by the strategy's own ``Params`` model."""

    model_config = ConfigDict(extra="allow", frozen=True, allow_inf_nan=False)
    type: Id = Field(description="Registered strategy name, e.g. 'smart_standby'.")

    @property
    def params(self) -> dict:
        """The parameters as written (everything but ``type``)."""
        return dict(self.model_extra or {})


PRODUCTION_SECTIONS: tuple[str, ...] = ("products", "equipment_types", "lines", "sources")
"""The sections of a plant file that describe production: all given, or all left out."""


class Plant(_Model):
    """The root of a plant file. Production (:data:`PRODUCTION_SECTIONS`) is optional: a plant
    without it is modelled by its base loads, profiles and energy supply only."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, allow_inf_nan=False,
        # JSON Schema (twin schema): any one of the production sections requires the others
        json_schema_extra={"dependentRequired": {
            name: [o for o in PRODUCTION_SECTIONS if o != name] for name in PRODUCTION_SECTIONS}})

    site: Site = Field(description="The site: name, timezone, latitude, longitude.")
    simulation: Simulation = Field(default_factory=Simulation, description="Run defaults.")
    calendar: Calendar | None = Field(None, description="Working time; omitted = 24/7.")
    products: list[Product] = Field(
        default_factory=list, description="Products and their routes. Production is optional: "
        "products, equipment_types, lines and sources are given together or all left out (a "
        "plant of base loads and measured profiles only, e.g. a data centre).")
    equipment_types: list[EquipmentType] = Field(
        default_factory=list, description="Kinds of machine with their power per state."
    )
    lines: list[Line] = Field(default_factory=list,
                              description="Production lines with their stations.")
    sources: list[Source] = Field(
        default_factory=list, description="Sources of lots: production plans, random arrivals, "
        "dated orders (MES/ERP export) or day-by-day plan files."
    )
    resources: list[SharedResource] = Field(
        default_factory=list, description="Operators or tools shared by stations (their "
        "'needs'), each with a count and its own working time.")
    base_loads: list[BaseLoad] = Field(default_factory=list, description="Loads that do not "
                                       "follow production: lighting, HVAC, compressed-air leaks.")
    carbon: Carbon | None = Field(None, description="Carbon accounting options (grid factors, "
                                  "certificates, contracts); omitted: the defaults.")
    energy: Energy | None = Field(None, description="Energy supply: PV, wind, storage, heat and "
                                  "cooling plant, grid and tariff. Omitted: the grid covers all "
                                  "electricity and nothing is priced.")
    strategies: list[StrategyConfig] = Field(
        default_factory=list, description="Production strategies in force (twin.strategies), "
        "each {type: name, ...parameters}; none: release as soon as possible within shifts.")
    description: str | None = Field(None, description="Free text about the plant.")

    @model_validator(mode="after")
    def _production_all_or_none(self) -> Plant:
        given = {name: bool(getattr(self, name)) for name in PRODUCTION_SECTIONS}
        if any(given.values()) and not all(given.values()):
            missing = [n for n, g in given.items() if not g]
            names = (missing[0] if len(missing) == 1
                     else f"{', '.join(missing[:-1])} and {missing[-1]}")
            raise ValueError(
                f"production needs products, equipment_types, lines and sources together; "
                f"{names} {'is' if len(missing) == 1 else 'are'} missing (a plant without "
                f"production leaves out all four)")
        return self

    @property
    def has_production(self) -> bool:
        """Whether the plant makes products (False: base loads, profiles and supply only)."""
        return bool(self.lines)

    def stations(self) -> list[tuple[int, int, Station]]:
        """All stations as (line index, station index, station), in file order."""
        return [(i, j, s) for i, line in enumerate(self.lines) for j, s in enumerate(line.stations)]
