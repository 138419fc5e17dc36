"""Pydantic models of a plant file.

A plant file is flat: lists of products, equipment types, lines with stations, sources and base loads
that refer to each other by ``id``. Numbers carry their unit in the field name (``_kw``, ``_s``,
``_h``, ``_min``) or, for distributions, in their ``unit`` field. Unknown keys are errors. Cross
references (routes to stations, stations to equipment types, ...) are checked by
:func:`twin.config.checks.check_references`, which reports the field path of each problem.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from twin.config.distributions import Distribution

CARRIERS: tuple[str, ...] = ("electricity", "natural_gas", "heat", "cooling")
"""Energy carriers a piece of equipment can draw (natural gas by its lower heating value)."""

Carrier = Literal["electricity", "natural_gas", "heat", "cooling"]
State = Literal[
    "off", "standby", "warm_up", "idle", "starved", "processing", "setup", "blocked", "down",
    "maintenance",
]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

Id = Annotated[str, Field(min_length=1, max_length=80, pattern=r"^[^\s:]+( [^\s:]+)*$")]
"""An identifier: no leading/trailing blanks and no colon (used in column names ``kind:id``)."""

_HHMM = re.compile(r"^(\d{1,2}):(\d{2})$")


def parse_clock(value: str, *, max_hours: int = 24) -> int:
    """Minutes after midnight of an ``HH:MM`` string; hours may run to ``max_hours``."""
    m = _HHMM.match(str(value).strip())
    if not m:
        raise ValueError(f"expected a time of day as 'HH:MM', got {value!r}")
    h, mi = int(m.group(1)), int(m.group(2))
    if mi >= 60 or h * 60 + mi > max_hours * 60:
        raise ValueError(f"'{value}' is not a time between 00:00 and {max_hours:02d}:00")
    return h * 60 + mi


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Site(_Model):
    """Where the plant is: used for local time, and later for weather, tariffs and grid factors."""

    name: str = Field(min_length=1, description="Plant name, shown in reports.")
    timezone: str = Field("Asia/Shanghai", description="IANA time zone, e.g. 'Asia/Shanghai'.")
    latitude: float = Field(ge=-90, le=90, description="Latitude [deg north].")
    longitude: float = Field(ge=-180, le=180, description="Longitude [deg east].")
    province: str | None = Field(None, description="Province or region (grid factor, tariff).")

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown IANA time zone {v!r} (e.g. 'Asia/Shanghai')") from exc
        return v


class Simulation(_Model):
    """Defaults for a run; the command line and ``twin.simulate`` may override each."""

    start: dt.date = Field(dt.date(2026, 1, 1), description="First simulated day (local midnight).")
    days: float = Field(365, gt=0, le=3660, description="Simulated period [d].")
    seed: int = Field(1, ge=0, description="Seed of every random stream of the run.")
    settlement_interval_min: Literal[5, 10, 15, 20, 30, 60] = Field(
        15, description="Metering/settlement interval [min]; Chinese meters settle every 15 min."
    )


class Shift(_Model):
    """A working window within a day. A shift that ends the next day is written with an end after
    24:00, e.g. ``{start: '22:00', end: '30:00'}`` for 22:00 to 06:00."""

    start: str = Field(description="Start, local time 'HH:MM'.")
    end: str = Field(description="End, local time 'HH:MM', up to '48:00' for the next day.")

    @field_validator("start")
    @classmethod
    def _start_clock(cls, v: str) -> str:
        parse_clock(v, max_hours=23)
        return v

    @field_validator("end")
    @classmethod
    def _end_clock(cls, v: str) -> str:
        parse_clock(v, max_hours=48)
        return v

    @model_validator(mode="after")
    def _ends_after_start(self) -> Shift:
        if parse_clock(self.end, max_hours=48) <= parse_clock(self.start):
            raise ValueError(
                f"shift ends ({self.end}) before it starts ({self.start}); for a shift that "
                f"ends the next day write the end after 24:00, e.g. end: "
                f"'{parse_clock(self.end, max_hours=48) // 60 + 24:02d}:"
                f"{parse_clock(self.end, max_hours=48) % 60:02d}'"
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

    start: dt.date
    end: dt.date
    name: str | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Period:
        if self.end < self.start:
            raise ValueError(f"period ends ({self.end}) before it starts ({self.start})")
        return self


class Calendar(_Model):
    """When the plant works: named shifts, which shifts run on each weekday, holidays, shutdowns.

    Without a calendar the plant runs 24/7."""

    shifts: dict[Id, Shift] = Field(description="Named shifts.")
    week: dict[Weekday, list[Id]] = Field(
        description="Shift names per weekday (mon..sun); a weekday left out has no shift."
    )
    holidays: list[dt.date] = Field(default_factory=list, description="Days without shifts.")
    shutdowns: list[Period] = Field(default_factory=list, description="Plant shutdown periods.")


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


class SavingMode(_Model):
    """An energy-saving mode (OPC UA ECM / PROFIenergy): time back to operate and minimum stay."""

    warm_up_s: float = Field(0, ge=0, description="Time back to ready (RegularTimeToOperate) [s].")
    min_stay_s: float = Field(0, ge=0, description="Shortest worthwhile stay (TimeMinLengthOfStay) [s].")


StatePower = dict[State, Annotated[float, Field(ge=0)]]


class EquipmentType(_Model):
    """Power of a kind of machine in each state, per carrier, and its saving modes.

    A state left out takes the power of another: starved, blocked, setup, warm_up and processing
    take idle's; standby takes off's; maintenance takes down's; down takes off's; off and idle
    default to 0. A carrier left out is not used (0 kW)."""

    id: Id
    power_kw: dict[Carrier, StatePower] = Field(
        description="Power per carrier and state [kW], e.g. {electricity: {idle: 4, processing: 18}}."
    )
    saving_modes: dict[Literal["standby", "off"], SavingMode] = Field(
        default_factory=dict, description="Saving modes the machine supports."
    )
    off_shift_mode: Literal["idle", "standby", "off"] = Field(
        "idle",
        description=(
            "Mode outside shifts. The machine falls back to a lighter mode when the break is shorter "
            "than the mode's min_stay_s plus warm_up_s."
        ),
    )
    warm_up_before_shift: bool = Field(
        True, description="Warm up ahead of the shift so the machine is ready at its start."
    )

    @model_validator(mode="after")
    def _mode_defined(self) -> EquipmentType:
        if self.off_shift_mode != "idle" and self.off_shift_mode not in self.saving_modes:
            raise ValueError(
                f"off_shift_mode is '{self.off_shift_mode}' but saving_modes has no "
                f"'{self.off_shift_mode}' entry (give its warm_up_s and min_stay_s)"
            )
        return self


class Failures(_Model):
    """Breakdowns: time to failure counted in processing time, then a repair."""

    time_to_failure: Distribution = Field(description="Processing time between failures.")
    time_to_repair: Distribution = Field(description="Repair time.")


class Maintenance(_Model):
    """A planned maintenance window: weekly on a weekday, or once on a date. It starts at ``start``
    or, if a lot is in hand, as soon as the lot is done, and lasts ``duration_h``."""

    weekday: Weekday | None = None
    date: dt.date | None = None
    start: str = Field(description="Local time 'HH:MM'.")
    duration_h: float = Field(gt=0, le=24 * 14, description="Duration [h].")

    @field_validator("start")
    @classmethod
    def _clock(cls, v: str) -> str:
        parse_clock(v, max_hours=23)
        return v

    @model_validator(mode="after")
    def _one_when(self) -> Maintenance:
        if (self.weekday is None) == (self.date is None):
            raise ValueError("give exactly one of 'weekday' (weekly) or 'date' (once)")
        return self


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
    failures: Failures | None = None
    maintenance: list[Maintenance] = Field(default_factory=list)
    off_shift: Literal["finish", "interrupt"] = Field(
        "finish", description="At shift end: finish the lot in hand, or interrupt and resume it."
    )
    group: Id | None = Field(None, description="Reporting group; default: the line id.")


class Line(_Model):
    """A production line: a reporting group of stations."""

    id: Id
    stations: list[Station] = Field(min_length=1)


class PlanSource(_Model):
    """Releases planned quantities at the start of the first shift of each working day or week."""

    id: Id
    kind: Literal["plan"]
    period: Literal["day", "week"] = "day"
    quantities: dict[Id, Annotated[float, Field(ge=0)]] = Field(
        description="Units per working day (or week) per product [units]; rounded up to whole lots, "
        "the rounding carried over."
    )
    sequence: Literal["batched", "mixed"] = Field(
        "batched", description="Release all lots of one product, then the next; or interleave them."
    )


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


Source = Annotated[PlanSource | ArrivalSource, Field(discriminator="kind")]


class BaseLoad(_Model):
    """A load that does not follow production: lighting, HVAC base, compressed-air leaks."""

    id: Id
    group: Id = Field(description="Reporting group, e.g. 'facility' or 'utilities'.")
    power_kw: dict[Carrier, Annotated[float, Field(ge=0)]] = Field(description="Power when on [kW].")
    off_power_kw: dict[Carrier, Annotated[float, Field(ge=0)]] = Field(
        default_factory=dict, description="Power when off [kW]."
    )
    schedule: Literal["always", "shifts"] = Field("always", description="When the load is on.")


class Plant(_Model):
    """The root of a plant file."""

    site: Site
    simulation: Simulation = Field(default_factory=Simulation)
    calendar: Calendar | None = Field(None, description="Working time; omitted = 24/7.")
    products: list[Product] = Field(min_length=1)
    equipment_types: list[EquipmentType] = Field(min_length=1)
    lines: list[Line] = Field(min_length=1)
    sources: list[Source] = Field(min_length=1)
    base_loads: list[BaseLoad] = Field(default_factory=list)
    description: str | None = None

    def stations(self) -> list[tuple[int, int, Station]]:
        """All stations as (line index, station index, station), in file order."""
        return [(i, j, s) for i, line in enumerate(self.lines) for j, s in enumerate(line.stations)]
