"""Calibration files: a plant, its meter data, the period and the parameters to fit, read by
``twin calibrate``.

A calibration file (``simulations/*_calibration.yaml``)::

    plant: ../plant_configs/demo_plant.yaml    # relative to this file
    meter:                                     # the meter data: see simulations/CALIBRATION.md
      file: meters/demo_meter_15min.csv
      timestamp: timestamp
      label: start
      unit: kWh
      columns:
        facility_kwh: {group: facility}
        site_kwh: {site: consumption}
    period: {start: 2026-03-02, days: 182}     # default: the meter data's span
    holdout_days: 28                           # optional: the last 28 days are not fitted
    warmup_days: 0                             # simulated before the period, not compared
    replications: 3                            # replication k runs with seed + k
    parameters:                                # any numeric plant field, by override path
      - {path: "base_loads[id=lighting].power_kw.electricity", min: 10, max: 100}

Every error names the file, the line and the field path; a parameter path is checked against
the plant (it must name a number the plant file sets, or a field the model has) when the file
is loaded, so ``twin validate`` catches it.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator, model_validator

from twin.config.base import _Model
from twin.config.errors import ConfigError, ConfigIssue
from twin.config.loader import (
    _issues_from_validation,
    _resolve_paths,
    _with_line,
    plant_from_data,
    read_yaml,
)
from twin.config.plant import MAX_DAYS, Plant
from twin.config.study import _OverrideError, apply_override, parse_override_path


class ParameterSpec(_Model):
    """One plant field to fit, with its bounds."""

    path: str = Field(min_length=1)
    """Plant field by override path, e.g. ``base_loads[id=lighting].power_kw.electricity``."""
    min: float
    max: float
    kind: Literal["auto", "linear", "timeline"] = "auto"
    """``linear``: the field only scales power (fitted exactly from the time per state);
    ``timeline``: it changes when things happen (fitted with the simulation in the loop);
    ``auto``: found by trying the field (a power field that enters the power tables linearly)."""

    @model_validator(mode="after")
    def _bounds(self) -> ParameterSpec:
        if not self.min < self.max:
            raise ValueError(f"min must be below max (got min {self.min}, max {self.max})")
        return self


class PeriodSpec(_Model):
    """The compared period: from local midnight of ``start`` for ``days`` (default: to the end
    of the meter data)."""

    start: dt.date
    days: float | None = Field(default=None, gt=0, le=MAX_DAYS)


class CalibrationSpec(_Model):
    """A calibration file as written."""

    plant: str = Field(min_length=1)
    """Plant file, relative to the calibration file."""
    meter: dict[str, Any]
    """Meter data (:class:`twin.measured.MeterSpec`)."""
    period: PeriodSpec | None = None
    holdout_days: float = Field(default=0.0, ge=0)
    """The last days of the period are compared but not fitted (out-of-sample check)."""
    warmup_days: int = Field(default=0, ge=0, le=60)
    """Simulated before the period and not compared, so the plant starts with work in it."""
    replications: int = Field(default=3, ge=1, le=100)
    seed: int | None = None
    """Seed of replication 0 (default: the plant's); replication k runs with seed + k."""
    parameters: list[ParameterSpec] = Field(default_factory=list)
    max_runs: int = Field(default=120, ge=1, le=100_000)
    """Simulation runs the search over timeline parameters may spend (all replications count)."""
    iterations: int = Field(default=3, ge=1, le=20)
    """Re-linearisations of the power fit when the re-simulated plant differs from the linear
    prediction (strategies or saving modes that react to power)."""

    @field_validator("seed", mode="before")
    @classmethod
    def _no_bool_seed(cls, v: Any) -> Any:
        if isinstance(v, bool):
            raise ValueError("expected a whole number, not true/false")
        return v


@dataclass(frozen=True)
class Parameter:
    """A parameter to fit, resolved against the plant."""

    path: str
    min: float
    max: float
    before: float
    """The plant file's value (the starting point)."""
    kind: str
    """``linear`` or ``timeline``."""


@dataclass
class ResolvedCalibration:
    """A loaded calibration: the spec, the plant as data and validated, the resolved parameters."""

    spec: CalibrationSpec
    path: Path
    plant_path: Path
    plant_data: dict
    plant: Plant
    parameters: list[Parameter]
    meter: Any
    """:class:`twin.measured.MeterSpec`."""

    def plant_with(self, values: dict[str, float]) -> Plant:
        """The plant with parameter ``values`` (path -> value) set."""
        return plant_at(self.plant_data, self.plant_path, values)

    @property
    def seed(self) -> int:
        return self.plant.simulation.seed if self.spec.seed is None else self.spec.seed


def plant_at(plant_data: dict, plant_path: Path, values: dict[str, float]) -> Plant:
    """Validate ``plant_data`` with ``values`` (override path -> number) set; paths relative to
    the plant file resolved."""
    import copy

    data = copy.deepcopy(plant_data)
    for key, value in values.items():
        apply_override(data, key, float(value))
    return _resolve_paths(plant_from_data(data, str(plant_path)), plant_path.parent)


def value_at(data: Any, path_text: str) -> Any:
    """The value at an override path in plant data (``None`` when the file does not set it)."""
    cur = data
    for step in parse_override_path(path_text):
        if step.by_id:
            if not isinstance(cur, list):
                return None
            hits = [x for x in cur if isinstance(x, dict) and str(x.get("id")) == step.key]
            if not hits:
                return None
            cur = hits[0]
        elif isinstance(step.key, int):
            if not isinstance(cur, list) or step.key >= len(cur):
                return None
            cur = cur[step.key]
        else:
            if not isinstance(cur, dict) or step.key not in cur:
                return None
            cur = cur[step.key]
    return cur


def load_calibration(path: str | Path) -> ResolvedCalibration:
    """Read a calibration file and its plant; check every parameter path against the plant.

    Raises
    ------
    ConfigError
        Naming the calibration file (or the plant file, for a problem in the plant as written):
        ``calibration.yaml:LINE: parameters[1].path: ...``.
    """
    from twin.measured import meter_spec

    path = Path(path)
    name = str(path)
    data, lines = read_yaml(path)
    if not isinstance(data, dict):
        raise ConfigError(name, [ConfigIssue(
            "", "expected a mapping with plant:, meter: and parameters: at the top level",
            line=lines.get(()))])
    try:
        spec = CalibrationSpec.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(name, _issues_from_validation(exc, data, CalibrationSpec, lines)) \
            from None
    meter = meter_spec(spec.meter, name, lines)

    plant_path = path.resolve().parent / spec.plant
    if not plant_path.is_file():
        raise ConfigError(name, [ConfigIssue(
            "plant", f"plant file not found at {plant_path}; expected a path relative to the "
                     "calibration file", spec.plant, True, lines.get(("plant",)))])
    plant_data, plant_lines = read_yaml(plant_path)
    plant = _resolve_paths(plant_from_data(plant_data, str(plant_path), plant_lines),
                           plant_path.parent)

    issues: list[ConfigIssue] = []
    params: list[Parameter] = []
    seen: set[str] = set()
    for k, p in enumerate(spec.parameters):
        where = f"parameters[{k}].path"
        line = _line(lines, ("parameters", k, "path"))
        if p.path in seen:
            issues.append(ConfigIssue(where, "the same field twice", p.path, True, line))
            continue
        seen.add(p.path)
        param, problem = _resolve_parameter(p, plant_data, plant_path)
        if problem:
            issues.append(ConfigIssue(where, problem, p.path, True, line))
        else:
            params.append(param)
    if issues:
        raise ConfigError(name, issues)

    from twin.measured import check_targets

    groups = _meter_groups(plant)
    from twin.config.plant import CARRIERS

    for issue in check_targets(meter, groups, list(CARRIERS)):
        issues.append(_with_line(issue, lines))
    if issues:
        raise ConfigError(name, issues)
    return ResolvedCalibration(spec, path, plant_path, plant_data, plant, params, meter)


def _meter_groups(plant: Plant) -> list[str]:
    """Equipment groups a meter may name (as in the hourly table's ``electricity_kwh:<group>``
    columns), plus the energy plant's and building HVAC's."""
    groups = {s.group or plant.lines[i].id for i, _, s in plant.stations()}
    groups |= {b.group for b in plant.base_loads}
    if plant.energy is not None:
        groups |= {"energy_plant", "building_hvac"}
    return sorted(groups)


def _resolve_parameter(p: ParameterSpec, plant_data: dict, plant_path: Path
                       ) -> tuple[Parameter, str]:
    """The parameter with its starting value and kind, or an error message."""
    import copy

    try:  # a path that names nothing: the override's own message, with its did-you-mean
        apply_override(copy.deepcopy(plant_data), p.path, 0.0)
    except _OverrideError as exc:
        return None, str(exc)  # type: ignore[return-value]
    current = value_at(plant_data, p.path)
    if isinstance(current, dict) and {"dist", "mean"} <= set(current):
        return None, ("names a distribution; fit one of its numbers, e.g. "  # type: ignore
                      f"{p.path}.mean")
    if isinstance(current, bool) or not isinstance(current, (int, float)) \
            or not math.isfinite(current):
        what = "is not set in the plant file" if current is None else \
            f"is not a number there ({type(current).__name__})"
        return None, (f"the field {what}; a parameter must name a number the plant "  # type: ignore
                      "file sets (set it there first)")
    if not p.min <= current <= p.max:
        return None, (f"the plant's value {current:g} is outside [min {p.min:g}, "  # type: ignore
                      f"max {p.max:g}]; widen the bounds or change the plant")
    between = p.min + 0.381966 * (p.max - p.min)  # a value no plant file rounds to
    for trial in (p.min, p.max, between):
        try:
            data = copy.deepcopy(plant_data)
            apply_override(data, p.path, float(trial))
            plant_from_data(data, str(plant_path))
        except _OverrideError as exc:
            return None, str(exc)  # type: ignore[return-value]
        except ConfigError as exc:
            first = exc.issues[0]
            if trial == between and "whole number" in first.message:
                return None, ("the field takes whole numbers; a calibration fits continuous "  # type: ignore
                              "values (compare a few settings with a study instead)")
            return None, (f"the plant is invalid with this field at {trial:g}: "  # type: ignore
                          f"{first.path}: {first.message}")
    kind = p.kind if p.kind != "auto" else _kind_of(p.path, float(current), p, plant_data,
                                                     plant_path)
    return Parameter(p.path, p.min, p.max, float(current), kind), ""


def _kind_of(path: str, current: float, p: ParameterSpec, plant_data: dict,
             plant_path: Path) -> str:
    """``linear`` when the field changes nothing but the power tables, and those linearly."""
    import numpy as np

    from twin.engine import equipment_tables

    steps = [s.key for s in parse_override_path(path)]
    if not steps or steps[0] not in ("equipment_types", "base_loads") \
            or not {"power_kw", "off_power_kw"} & {s for s in steps if isinstance(s, str)}:
        return "timeline"
    h = (p.max - p.min) / 4
    x = [p.min, p.min + h, p.min + 2 * h]
    tables = [np.array(equipment_tables(plant_at(plant_data, plant_path, {path: v}))[1])
              for v in x]
    d1, d2 = tables[1] - tables[0], tables[2] - tables[1]
    scale = max(float(np.abs(d1).max()), 1e-12)
    # a power field no equipment uses changes nothing: linear, and the fit reports it as one the
    # meters cannot see
    return "linear" if float(np.abs(d2 - d1).max()) <= 1e-9 * scale else "timeline"


def _line(lines: dict, path: tuple) -> int | None:
    while path and path not in lines:
        path = path[:-1]
    return lines.get(path)


__all__ = ["CalibrationSpec", "Parameter", "ParameterSpec", "PeriodSpec", "ResolvedCalibration",
           "load_calibration", "plant_at", "value_at"]
