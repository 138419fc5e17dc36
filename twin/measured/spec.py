"""The ``meter:`` block of a calibration file: which file, how its time and units read, and what
each meter column measures.

Pydantic v2 models, frozen, extra keys forbidden (a typo is an error, as in the plant file).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import BeforeValidator, Field, model_validator

from twin.config.base import _Model

Unit = Literal["kWh", "kW", "kWh_register"]
"""``kWh``: energy per reading interval; ``kW``: average power over the reading interval;
``kWh_register``: a cumulative energy register (differences are taken)."""

_UNIT_WORDS = {
    "kwh": "kWh", "kwh/interval": "kWh", "kw": "kW", "kwh_register": "kWh_register",
    "kwh register": "kWh_register", "kwh-register": "kWh_register", "register": "kWh_register",
}


def _unit(value: object) -> object:
    """Accept the usual spellings: ``kwh``, ``KW``, ``kWh register`` (as issue 11 writes it)."""
    if isinstance(value, str):
        return _UNIT_WORDS.get(" ".join(value.split()).lower(), value)
    return value


UnitField = Annotated[Unit, BeforeValidator(_unit)]

Site = Literal["consumption", "grid_import", "grid_export", "pv"]
"""What a site-level meter measures: all use, import from the grid, export to it, PV output."""

SPIKE_Z_DEFAULT = 3.5
"""Default spike threshold on the modified z-score (see :class:`QualitySpec`)."""
SPIKE_WINDOW_DEFAULT = 9
"""Default centred window of the spike test, in readings (4 either side)."""
SPIKE_MIN_PCT_DEFAULT = 100.0
"""Default least deviation of a spike from its local median [% of the median]."""
FLATLINE_H_DEFAULT = 4.0
"""Default length [h] of a run of one repeated non-zero value that marks a stuck meter."""


def _text(value: object) -> object:
    # Meter ids and sheet names are often numbers in a spreadsheet: take 7 as '7'.
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


Name = Annotated[str, Field(min_length=1, max_length=200), BeforeValidator(_text)]


class QualitySpec(_Model):
    """Thresholds of the data-quality pass (``meter.quality``)."""

    spike_z: float | None = Field(SPIKE_Z_DEFAULT, gt=0)
    """A reading is a spike when its modified z-score |x - m| / (1.4826 MAD) over the centred
    window exceeds this (Iglewicz & Hoaglin 1993 recommend 3.5; Hampel filters use 3) AND it is
    more than ``spike_min_pct`` away from the window median m. A median filter keeps steps and
    ramps, so production starts and stops score 0. ``null`` turns the test off."""
    spike_min_pct: float = Field(SPIKE_MIN_PCT_DEFAULT, ge=0)
    """Least deviation of a spike from its window median [% of the median]. Default 100: only a
    reading above twice its local level can be a spike, never a dip (a machine stopping for part
    of an interval scores a huge z where the load is otherwise steady)."""
    spike_window: int = Field(SPIKE_WINDOW_DEFAULT, ge=3, le=1001)
    """Centred window of the spike test, in readings (odd; an even number is made odd + 1)."""
    flatline_h: float | None = Field(FLATLINE_H_DEFAULT, gt=0)
    """A run of the same non-zero value over at least this many hours is a stuck meter; all its
    readings are left out. Zeros (shutdowns) are never a flatline. ``null`` turns it off."""
    snap_pct: float = Field(10.0, ge=0, lt=50)
    """A timestamp within this percentage of the reading step from the step grid is moved onto
    it (meters stamp a few seconds late); farther off it is left out as ``off_grid``."""


class MeterColumn(_Model):
    """One meter column (wide file) or meter id (long file): what it measures, and its unit."""

    group: Name | list[Name] | None = None
    """Equipment group(s) of the plant this meter measures (a list: their sum)."""
    site: Site | None = None
    """A site-level quantity instead of groups."""
    carrier: Name = "electricity"
    """Energy carrier (``electricity``, ``natural_gas`` by LHV, ``heat``, ``cooling``)."""
    unit: UnitField | None = None
    """Overrides the file's ``unit``."""
    multiplier: float = Field(1.0, gt=0)
    """Factor applied to every reading (CT/PT ratio; kWh per m3 for a gas meter)."""
    register_max: float | None = Field(None, gt=0)
    """Register maximum (rollover value); overrides the file's."""

    @model_validator(mode="after")
    def _one_target(self) -> MeterColumn:
        if (self.group is None) == (self.site is None):
            raise ValueError("give exactly one of 'group:' (equipment groups) or 'site:' "
                             "(consumption, grid_import, grid_export, pv)")
        if isinstance(self.group, list) and not self.group:
            raise ValueError("'group:' is an empty list; expected at least one group")
        return self


class MeterSpec(_Model):
    """The ``meter:`` block: a meter file and the meaning of its columns."""

    file: Name
    """CSV, Parquet or XLSX file, relative to the calibration file."""
    format: Literal["wide", "long"] = "wide"
    """``wide``: one column per meter; ``long``: a timestamp, a meter id and a value per row."""
    sheet: Name | None = None
    """XLSX sheet (name, or 0-based number as text); default the first."""
    separator: Literal[",", ";", "\t", "|"] = ","
    """CSV field separator."""
    decimal: Literal[".", ","] = "."
    """CSV decimal mark."""
    timestamp: Name = "timestamp"
    """Timestamp column."""
    timestamp_format: str | None = None
    """strftime format of the timestamps when not ISO 8601 (e.g. ``%d.%m.%Y %H:%M``)."""
    timezone: Name | None = None
    """Zone of naive timestamps (e.g. ``UTC``); default the site zone. Timestamps with an
    offset are converted to the site zone whatever this says."""
    label: Literal["start", "end"] = "start"
    """Readings labelled by the start or the end of their interval (ignored for registers: a
    register reading is the count at that instant)."""
    unit: UnitField = "kWh"
    register_max: float | None = Field(None, gt=0)
    """Register maximum; default the next power of ten above the largest reading."""
    step_min: float | None = Field(None, gt=0, le=60)
    """Reading step [min]; default inferred (median difference). Must divide 60."""
    meter_id: Name | None = None
    """Long files: the meter id column."""
    value: Name | None = None
    """Long files: the value column."""
    columns: dict[Name, MeterColumn] = Field(min_length=1)
    """Meter column (wide) or meter id (long) -> what it measures."""
    quality: QualitySpec = QualitySpec()

    @model_validator(mode="after")
    def _long_needs_columns(self) -> MeterSpec:
        if self.format == "long" and (self.meter_id is None or self.value is None):
            raise ValueError("a long file needs 'meter_id:' (the meter id column) and 'value:' "
                             "(the value column)")
        if self.format == "wide" and (self.meter_id is not None or self.value is not None):
            raise ValueError("'meter_id:' and 'value:' are for 'format: long'")
        return self

    def unit_of(self, name: str) -> Unit:
        """The unit of one meter (its own, else the file's)."""
        return self.columns[name].unit or self.unit

    def target(self, name: str) -> MeterTarget:
        """What meter ``name`` measures."""
        col = self.columns[name]
        group = [col.group] if isinstance(col.group, str) else col.group
        return MeterTarget(group=list(group) if group is not None else None, site=col.site,
                           carrier=col.carrier)


@dataclass(frozen=True)
class MeterTarget:
    """What a meter measures: the sum of equipment ``group`` (s), or a ``site`` quantity, of one
    ``carrier``."""

    group: list[str] | None
    site: str | None
    carrier: str = "electricity"


def meter_spec(data: object, file: str = "<data>", lines: dict | None = None,
               key: str = "meter") -> MeterSpec:
    """Validate the ``meter:`` block ``data`` of calibration file ``file``.

    Raises :class:`twin.config.errors.ConfigError` with one line per problem (field path
    ``meter.<key>``, the bad value, what is expected, a did-you-mean). ``lines`` are the whole
    file's line numbers as :func:`twin.config.loader.read_yaml` returns them.
    """
    from pydantic import ValidationError

    from twin.config.errors import ConfigError, ConfigIssue
    from twin.config.loader import _issues_from_validation

    sub = {p[1:]: n for p, n in (lines or {}).items() if p[:1] == (key,)}
    if not isinstance(data, dict):
        raise ConfigError(file, [ConfigIssue(key, "expected a mapping with file:, columns: and "
                                             "optionally timestamp:, label:, unit:, quality:",
                                             data, True, sub.get(()))])
    try:
        return MeterSpec.model_validate(data)
    except ValidationError as exc:
        issues = _issues_from_validation(exc, data, MeterSpec, sub)
        raise ConfigError(file, [ConfigIssue(f"{key}.{i.path}" if i.path else key, i.message,
                                             i.value, i.has_value, i.line) for i in issues]
                          ) from None
