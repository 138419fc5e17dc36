"""Pydantic models of a generation profile file (PV or wind output instead of the weather model)
and of the time zone a data file's clock is in.

A profile is a time series of a plant's output (a PVsyst hourly export, the plant's own PV meter,
a wind farm's SCADA export), hourly or finer, in kW or kWh per step, either absolute or per kW of
capacity. With its capacity the twin scales it to the simulated array's size.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator, model_validator

from twin.config.base import _Model

_FIXED = re.compile(r"^(?:UTC|GMT)?\s*([+-])(\d{1,2})(?::?(\d{2}))?$", re.IGNORECASE)

ZONE_HELP = ("an IANA zone such as 'Asia/Shanghai' or 'UTC', or a fixed UTC offset such as "
             "'+08:00' or 'UTC-7'")


def parse_zone(text: str) -> dt.tzinfo:
    """The time zone named by ``text``: an IANA name (``'Europe/Berlin'``, ``'UTC'``) or a fixed
    offset from UTC (``'+08:00'``, ``'UTC+8'``, ``'-0530'``, at most 14 h). ValueError otherwise."""
    text = text.strip()
    m = _FIXED.match(text)
    if m:
        sign, hours, minutes = m.group(1), int(m.group(2)), int(m.group(3) or 0)
        offset = dt.timedelta(hours=hours, minutes=minutes)
        if minutes >= 60 or offset > dt.timedelta(hours=14):
            raise ValueError(f"time zone {text!r}: offset out of range; expected {ZONE_HELP}")
        return dt.timezone(-offset if sign == "-" else offset)
    try:
        return ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {text!r}; expected {ZONE_HELP}") from None


def _check_zone(v: str | None) -> str | None:
    if v is not None:
        parse_zone(v)
    return v


ProfileUnit = Literal["kw", "kwh", "kw_per_kw", "kwh_per_kw"]


class GenerationProfile(_Model):
    """An output profile file: CSV, Parquet or XLSX with a timestamp column (the **start** of
    each step, hourly or finer, regular) and a value column."""

    file: str = Field(description="CSV, Parquet or XLSX; relative to the plant file.")
    unit: ProfileUnit = Field(
        description="kw: average power over the step [kW]; kwh: energy in the step [kWh]; "
                    "kw_per_kw / kwh_per_kw: the same per kW of capacity (kWp for PV), "
                    "scaled by the array's size.")
    capacity_kw: float | None = Field(
        None, gt=0, description="Capacity of the plant the file describes [kWp for PV, kW for "
                                "wind]: absolute values (kw, kwh) are scaled by simulated "
                                "capacity / capacity_kw. Required with kw and kwh.")
    timestamp_column: str = Field("timestamp", min_length=1)
    value_column: str = Field("value", min_length=1)
    timezone: str | None = Field(
        None, description="Zone of timestamps without a UTC offset (default: the site's); "
                          + ZONE_HELP + ".")
    sheet: str | None = Field(None, description="XLSX sheet (default: the first).")
    repeat_yearly: bool = Field(
        False, description="The file holds one typical year (e.g. a PVsyst export): each "
                           "simulated instant takes the same month, day and time of day of the "
                           "file in local standard time, whatever the year.")

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, v: str | None) -> str | None:
        return _check_zone(v)

    @model_validator(mode="after")
    def _capacity_for_absolute(self) -> GenerationProfile:
        if self.unit in ("kw", "kwh") and self.capacity_kw is None:
            raise ValueError(f"unit '{self.unit}' is absolute: give capacity_kw, the capacity "
                             "of the plant behind the file [kWp or kW], so it can be scaled")
        if self.unit in ("kw_per_kw", "kwh_per_kw") and self.capacity_kw is not None:
            raise ValueError(f"unit '{self.unit}' is already per kW of capacity; capacity_kw is "
                             "only for absolute units (kw, kwh)")
        return self

    @property
    def per_capacity(self) -> bool:
        """Whether values are per kW of capacity."""
        return self.unit.endswith("_per_kw")


def resolve_profile_files(energy: object, base: object) -> object:
    """``energy`` (an :class:`twin.config.energy.Energy`) with the relative ``profile.file`` of
    every PV array and wind turbine made relative to ``base`` (the plant file's folder)."""
    from pathlib import Path

    updates = {}
    for field in ("pv", "wind"):
        units = getattr(energy, field)
        new = []
        for u in units:
            prof = u.profile
            if prof is not None and not Path(prof.file).is_absolute():
                prof = prof.model_copy(update={"file": str(Path(base) / prof.file)})  # type: ignore[arg-type]
                u = u.model_copy(update={"profile": prof})
            new.append(u)
        updates[field] = new
    return energy.model_copy(update=updates)  # type: ignore[attr-defined]
