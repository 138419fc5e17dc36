"""Sweeps: scenarios generated from override paths (the ``sweep:`` block of a study file).

A sweep names its parameters (short names, used in the scenario names), each an override path
of the plant (:func:`twin.config.study.apply_override`), and how their values combine::

    sweep:
      on: baseline                 # optional: build on this scenario's overrides and strategies
      method: grid                 # grid (default), lhs, sobol or list
      parameters:
        pv:   {path: "energy.pv[id=rooftop].dc_kwp", values: [600, 800, 1000]}
        bess: {path: "energy.batteries[id=bess].energy_kwh", start: 500, stop: 2000, step: 500}

* ``grid``: every combination (Cartesian product) of the parameters' values, given as a list
  (``values: [...]``), as labelled values (``values: {low: ..., high: ...}``, any YAML value),
  or as ``start``/``stop``/``step`` (stop included when the steps reach it);
* ``lhs`` / ``sobol``: ``count`` points of a Latin hypercube or a scrambled Sobol' sequence
  (:mod:`scipy.stats.qmc`, seeded by ``seed``) scaled to each parameter's ``[low, high]``;
  fields that hold whole numbers (and parameters with ``integer: true``) are rounded, and points
  that rounding makes equal are kept once;
* ``list``: explicit value sets, ``sets: [{pv: 600, bess: 500}, ...]``, each naming every
  parameter.

Each generated scenario is named from its values, ``pv=600_bess=500`` (``prefix`` in front if
given), and holds the ``on`` scenario's overrides, strategies and measure with the sweep's
values on top. An optional ``upgrade:`` gives the generated scenarios their economics, with the
capex ``capex + sum(capex_per_unit[p] x (value_p - the on-scenario's value at p's path))`` (a
point equal to the on-scenario has none); without it they keep the on-scenario's ``upgrade:``.
A generated scenario that is the study's base has no upgrade.
"""

from __future__ import annotations

import itertools
import math
import re
from typing import Any, Literal

import numpy as np
from pydantic import Field, model_validator

from twin.config.base import _Model

MAX_SWEEP_SCENARIOS = 10_000
"""Most scenarios one sweep may make (beyond it, split the study: every scenario's plant is
validated before any run)."""

HUGE = 10**15
"""Stand-in for the size of a grid too big to count exactly (a tiny step)."""

PARAMETER_PATTERN = r"^[A-Za-z][A-Za-z0-9_]*$"
"""Parameter names: they appear in scenario names (``pv=600``)."""

_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


class SweepParameter(_Model):
    """One swept field: its override path and its values (grid), or its bounds (lhs, sobol)."""

    path: str = Field(description="Override path of the plant field, e.g. "
                                  "energy.batteries[id=bess].energy_kwh.")
    values: list[Any] | dict[str, Any] | None = Field(
        None, description="Grid values: a list, or labels -> values (the label names the "
                          "scenario).")
    start: float | None = Field(None, description="Grid: first value.")
    stop: float | None = Field(None, description="Grid: last value (included when reached).")
    step: float | None = Field(None, gt=0, description="Grid: increment (> 0).")
    low: float | None = Field(None, description="lhs/sobol: lower bound.")
    high: float | None = Field(None, description="lhs/sobol: upper bound.")
    integer: bool | None = Field(None, description="Round sampled values to whole numbers "
                                 "(default: when the field holds whole numbers).")

    @model_validator(mode="after")
    def _one_form(self) -> SweepParameter:
        for f in ("start", "stop", "step", "low", "high"):
            v = getattr(self, f)
            if v is not None and not math.isfinite(v):
                raise ValueError(f"{f}: expected a finite number, got {v}")
        rng = [self.start, self.stop, self.step]
        if any(v is not None for v in rng) and not all(v is not None for v in rng):
            raise ValueError("give start, stop and step together")
        if self.values is not None and self.start is not None:
            raise ValueError("give values or start/stop/step, not both")
        if self.values is not None and len(self.values) == 0:
            raise ValueError("values is empty; expected at least one value")
        if self.start is not None and self.stop < self.start:  # type: ignore[operator]
            raise ValueError(f"stop {self.stop:g} is below start {self.start:g}")
        if (self.low is None) != (self.high is None):
            raise ValueError("give low and high together")
        if self.low is not None and not self.low < self.high:  # type: ignore[operator]
            raise ValueError(f"low {self.low:g} must be below high {self.high:g}")
        return self

    def grid_size(self) -> int:
        """Number of grid values (without making them)."""
        if self.values is not None:
            return len(self.values)
        if self.start is None or self.stop is None or self.step is None:
            return 0
        q = (self.stop - self.start) / self.step
        return math.floor(q + 1e-9) + 1 if q < HUGE else HUGE


    def grid_values(self) -> list[tuple[str | None, Any]]:
        """(label or None, value) of a grid parameter, in order."""
        if isinstance(self.values, dict):
            return [(str(k), v) for k, v in self.values.items()]
        if self.values is not None:
            return [(None, v) for v in self.values]
        assert self.start is not None and self.stop is not None and self.step is not None
        n = self.grid_size()
        out = []
        for k in range(n):
            v = round(self.start + k * self.step, 12)  # 0.1 + 2 * 0.1 -> 0.3, not 0.30000000004
            out.append((None, int(v) if float(v).is_integer() and _whole(self) else v))
        return out


def _whole(p: SweepParameter) -> bool:
    return all(float(x).is_integer() for x in (p.start, p.step) if x is not None)


class SweepUpgrade(_Model):
    """The economics of every generated scenario: an upgrade whose capex grows with the swept
    values (the other fields as :class:`twin.config.study.UpgradeSpec`)."""

    capex: float = Field(0, description="Fixed part of the capex [currency].")
    capex_per_unit: dict[str, float] = Field(
        default_factory=dict, description="Parameter name -> cost per unit of the value above "
                                          "the on-scenario's [currency/unit].")
    lifetime_years: int = Field(ge=1)
    discount_rate: float | None = Field(None, gt=-1)
    fixed_om_per_year: float = 0
    variable_om_per_kwh: float = 0
    annual_energy_kwh: float | str = 0.0
    replacement_cost: float | None = Field(None, ge=0)
    replacement_years: list[int] | None = None
    price_escalation_rate: float = Field(0, gt=-1)
    om_escalation_rate: float = Field(0, gt=-1)
    co2_saving_change_rate: float = Field(0, gt=-1)
    analysis_years: int | None = Field(None, ge=1)
    source: str | None = None


class Sweep(_Model):
    """The ``sweep:`` block of a study: scenarios generated from override paths."""

    on: str | None = Field(None, description="Scenario the sweep builds on (its overrides, "
                                             "strategies and measure); default the plant.")
    method: Literal["grid", "lhs", "sobol", "list"] = Field(
        "grid", description="grid: Cartesian product; lhs: Latin hypercube; sobol: scrambled "
                            "Sobol' points; list: explicit value sets.")
    parameters: dict[str, SweepParameter] = Field(min_length=1, description="Name -> path "
                                                  "and values (the name appears in scenario "
                                                  "names).")
    count: int | None = Field(None, ge=1, le=MAX_SWEEP_SCENARIOS,
                              description="lhs/sobol: number of points.")
    seed: int = Field(0, ge=0, description="lhs/sobol: seed of the sample.")
    sets: list[dict[str, Any]] | None = Field(None, min_length=1,
                                              description="list: value sets, name -> value.")
    prefix: str = Field("", max_length=40, description="Put in front of every generated name.")
    upgrade: SweepUpgrade | None = Field(None, description="Economics of each generated "
                                                           "scenario.")

    @model_validator(mode="after")
    def _method_fields(self) -> Sweep:
        for name, p in self.parameters.items():
            if not re.match(PARAMETER_PATTERN, name):
                raise ValueError(f"parameter name '{name}' appears in scenario names; expected "
                                 f"a letter, then letters, digits or '_'")
            where = f"parameters.{name}"
            has_grid = p.values is not None or p.start is not None
            if self.method == "grid" and not has_grid:
                raise ValueError(f"{where}: a grid parameter needs values: [...] or "
                                 f"start/stop/step")
            if self.method in ("lhs", "sobol"):
                if p.low is None:
                    raise ValueError(f"{where}: method {self.method} needs low and high")
                if has_grid:
                    raise ValueError(f"{where}: method {self.method} takes low and high, not "
                                     f"values or start/stop/step")
            elif p.low is not None:
                raise ValueError(f"{where}: low/high belong to methods lhs and sobol, not "
                                 f"{self.method}")
            if self.method == "list" and has_grid:
                raise ValueError(f"{where}: method list takes its values from sets:, not "
                                 f"from the parameter")
        if self.method in ("lhs", "sobol") and self.count is None:
            raise ValueError(f"method {self.method} needs count (the number of points)")
        if self.method not in ("lhs", "sobol") and self.count is not None:
            raise ValueError(f"count belongs to methods lhs and sobol, not {self.method}")
        if self.method == "list":
            if self.sets is None:
                raise ValueError("method list needs sets: [{name: value, ...}, ...]")
            names = set(self.parameters)
            for k, s in enumerate(self.sets):
                missing, extra = names - set(s), set(s) - names
                if missing or extra:
                    what = (f"misses {', '.join(sorted(missing))}" if missing else
                            f"has unknown {', '.join(sorted(extra))}")
                    raise ValueError(f"sets[{k}] {what}; expected exactly the parameters "
                                     f"{', '.join(self.parameters)}")
        elif self.sets is not None:
            raise ValueError(f"sets belong to method list, not {self.method}")
        if self.upgrade is not None:
            unknown = set(self.upgrade.capex_per_unit) - set(self.parameters)
            if unknown:
                raise ValueError(f"upgrade.capex_per_unit names {', '.join(sorted(unknown))}, "
                                 f"which is not a parameter; expected one of "
                                 f"{', '.join(self.parameters)}")
        return self

    def size(self) -> int:
        """Number of scenarios the sweep makes (without generating them)."""
        if self.method == "grid":
            return math.prod(p.grid_size() for p in self.parameters.values())
        if self.method == "list":
            return len(self.sets or [])
        return int(self.count or 0)


def unit_sample(method: Literal["lhs", "sobol"], count: int, dims: int, seed: int) -> np.ndarray:
    """``count`` x ``dims`` points in the unit cube: a Latin hypercube (each of the ``count``
    equal strata of every dimension holds exactly one point; McKay, Beckman and Conover 1979)
    or a scrambled Sobol' sequence (Owen scrambling, :class:`scipy.stats.qmc.Sobol`), both
    from :mod:`scipy.stats.qmc` seeded by ``seed``."""
    from scipy.stats import qmc

    if method == "lhs":
        return qmc.LatinHypercube(d=dims, seed=seed).random(count)
    import warnings

    with warnings.catch_warnings():  # counts that are not powers of 2 lose balance; allowed
        warnings.simplefilter("ignore", UserWarning)
        return qmc.Sobol(d=dims, scramble=True, seed=seed).random(count)


def value_sets(sweep: Sweep, integer: dict[str, bool]) -> list[dict[str, tuple[str | None, Any]]]:
    """The sweep's points: per point, parameter name -> (label or None, value), in a stable
    order (grid: the last parameter varies fastest). ``integer`` says which parameters are
    rounded to whole numbers (lhs, sobol)."""
    names = list(sweep.parameters)
    if sweep.method == "grid":
        axes = [sweep.parameters[n].grid_values() for n in names]
        return [dict(zip(names, combo, strict=True)) for combo in itertools.product(*axes)]
    if sweep.method == "list":
        return [{n: (None, s[n]) for n in names} for s in sweep.sets or []]
    unit = unit_sample(sweep.method, int(sweep.count or 0), len(names), sweep.seed)  # type: ignore[arg-type]
    out = []
    for row in unit:
        point = {}
        for n, u in zip(names, row, strict=True):
            p = sweep.parameters[n]
            v = float(p.low + u * (p.high - p.low))  # type: ignore[operator]
            if integer.get(n):
                v = int(min(max(round(v), math.ceil(p.low)), math.floor(p.high)))  # type: ignore[arg-type]
            point[n] = (None, v)
        if point not in out:  # rounding can make points equal: run each once
            out.append(point)
    return out


def format_value(value: Any, digits: int = 4) -> str:
    """A value as it appears in a scenario name: whole numbers as they are, other numbers to
    ``digits`` significant digits, text made file-name safe; lists and mappings are not named
    by value (give them labels)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return f"{value:.{digits}g}"
    if value is None:
        return "none"
    if isinstance(value, str):
        return _UNSAFE.sub("-", value).strip("-") or "x"
    raise ValueError("a list or mapping value has no short name; give the values labels "
                     "(values: {label: value, ...})")


def scenario_names(sweep: Sweep, points: list[dict[str, tuple[str | None, Any]]]) -> list[str]:
    """Names ``prefix + name=value_name=value``: short (4 significant digits), more digits
    where two points would share a name, and an index suffix as the last resort; stable (the
    same sweep always gives the same names)."""
    def name(point: dict[str, tuple[str | None, Any]], digits: int) -> str:
        parts = []
        for n, (label, v) in point.items():
            text = _UNSAFE.sub("-", label) if label is not None else format_value(v, digits)
            parts.append(f"{n}={text}")
        return sweep.prefix + "_".join(parts)

    names = [name(p, 4) for p in points]
    for digits in (6, 8, 12, 17):
        if len(set(names)) == len(names):
            break
        clash = {x for x in names if names.count(x) > 1}
        names = [name(p, digits) if x in clash else x for p, x in zip(points, names, strict=True)]
    if len(set(names)) != len(names):
        seen: dict[str, int] = {}
        out = []
        for x in names:
            seen[x] = seen.get(x, 0) + 1
            out.append(x if names.count(x) == 1 else f"{x}_no{seen[x]}")
        names = out
    return names


__all__ = ["HUGE", "MAX_SWEEP_SCENARIOS", "Sweep", "SweepParameter", "SweepUpgrade", "format_value",
           "scenario_names", "unit_sample", "value_sets"]
