"""The ``sizing:`` block of a study file: which capacities ``twin size`` may choose, at what cost,
under which targets.

::

    plant: ../plant_configs/demo_plant.yaml
    sizing:
      discount_rate: 0.06
      cyclic_storage: true
      candidates:
        - {path: "energy.pv[id=rooftop].dc_kwp", max: 3000, capex_per_unit: 4000,
           lifetime_years: 25, om_pct_of_capex: 1}
        - {path: "energy.batteries[id=bess].energy_kwh", max: 8000, capex_per_unit: 1200,
           lifetime_years: 12, om_pct_of_capex: 1}
        - {path: "energy.batteries[id=bess].power_kw", max: 4000, capex_per_unit: 400,
           lifetime_years: 12}
      targets: {min_renewable_share: 0.3}
      purchases: {green_certificate_price_per_kwh: 0.05, offset_price_per_t: 80}

A candidate path uses the study override syntax and must name one of the sizeable fields
(:data:`SIZEABLE`) of an item the plant has. A study with a ``sizing:`` block needs no
``scenarios:``: it gets the one scenario ``as_is`` (the plant as written) as its base. The base
scenario may have ``overrides`` (e.g. a heat pump the plant file does not have yet, set as the
whole ``energy.heat_pumps`` list): they are part of the plant as it is, and of the sized plant
file written; strategies are not allowed there.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from twin.config.base import _Model

SIZEABLE: dict[tuple[str, ...], str] = {
    ("energy", "pv", "dc_kwp"): "generation",
    ("energy", "wind", "capacity_kw"): "generation",
    ("energy", "batteries", "energy_kwh"): "battery_energy",
    ("energy", "batteries", "power_kw"): "battery_power",
    ("energy", "grid", "import_limit_kw"): "import_limit",
    ("energy", "heat_pumps", "capacity_kw"): "thermal_unit",
    ("energy", "boilers", "capacity_kw"): "thermal_unit",
    ("energy", "chp", "capacity_kw"): "thermal_unit",
    ("energy", "chillers", "capacity_kw"): "thermal_unit",
    ("energy", "thermal_storage", "energy_kwh"): "thermal_store_energy",
    ("energy", "thermal_storage", "power_kw"): "thermal_store_power",
    ("energy", "cold_storage", "energy_kwh"): "thermal_store_energy",
    ("energy", "cold_storage", "power_kw"): "thermal_store_power",
}
"""Plant fields a candidate may size (list items named by index or id), and their kind in the
LP: a generation profile scaled per kW, a battery's usable capacity or power, the grid import
limit (the connection), a heat or cooling unit's thermal output [kW], a heat or cold store's
energy [kWh thermal] or power [kW thermal]. With any thermal candidate the LP dispatches the
heat and cooling buses itself (:mod:`twin.energy.thermal_lp`)."""

THERMAL_BUS: dict[str, str] = {"heat_pumps": "heat", "boilers": "heat", "chp": "heat",
                               "thermal_storage": "heat", "chillers": "cooling",
                               "cold_storage": "cooling"}
"""The bus of each thermal list of the plant's ``energy:`` section."""


class Candidate(_Model):
    """One capacity the optimisation may choose, with its bounds and costs."""

    path: str = Field(description="Plant field by override path, e.g. "
                                  "energy.batteries[id=bess].energy_kwh.")
    min: float = Field(0.0, ge=0, description="Least capacity [unit of the field].")
    max: float = Field(gt=0, description="Largest capacity [unit of the field].")
    capex_per_unit: float = Field(ge=0, description="Investment per unit of NEW capacity "
                                                    "[currency/unit], e.g. CNY/kWp.")
    lifetime_years: int = Field(ge=1, le=100, description="Service life [yr]: the annuity "
                                                          "period, replaced like for like.")
    om_pct_of_capex: float = Field(0.0, ge=0, le=100, description="Fixed O&M [% of capex per "
                                                                   "year].")
    om_per_unit_year: float = Field(0.0, ge=0, description="Fixed O&M [currency per unit and "
                                                            "year].")
    existing: float | None = Field(
        None, ge=0, description="Capacity already installed, whose capex is sunk (costs "
                                "nothing to keep); default the plant's value at path. 0 prices "
                                "the whole capacity (greenfield).")
    source: str | None = Field(None, description="Where the cost figures come from.")

    @model_validator(mode="after")
    def _bounds(self) -> Candidate:
        if self.min > self.max:
            raise ValueError(f"min {self.min:g} is above max {self.max:g}; expected min <= max")
        return self


class Targets(_Model):
    """Targets the sized plant must meet (each becomes a constraint with a shadow price)."""

    min_renewable_share: float | None = Field(
        None, ge=0, le=1, description="Least renewable electricity share [-]: onsite renewable "
                                      "electricity used, plus green certificates bought, over "
                                      "electricity consumed (the twin's KPI plus certificates).")
    max_scope12_t_per_year: float | None = Field(
        None, ge=0, description="Most scope 1 + scope 2 emissions net of offsets bought "
                                "[tCO2/yr].")
    co2_basis: Literal["location", "market"] = Field(
        "location", description="Scope 2 method of max_scope12_t_per_year; green certificates "
                                "lower only the market-based figure.")


class Purchases(_Model):
    """What may be bought to meet the targets; absent = not available."""

    green_certificate_price_per_kwh: float | None = Field(
        None, ge=0, description="Green electricity certificates (GEC) [currency/kWh].")
    offset_price_per_t: float | None = Field(None, ge=0, description="Offsets (e.g. CCER) "
                                                                      "[currency/tCO2].")


class Verify(_Model):
    """The check of the sizes by simulation."""

    enabled: bool = Field(True, description="Run the as-is and sized plants through the "
                                            "simulation after solving.")
    policy: str | None = Field(None, description="Dispatch policy of both runs (e.g. "
                                                 "tou_arbitrage, perfect_foresight); default "
                                                 "the plant's energy.dispatch.policy.")
    replications: int | None = Field(None, ge=1, le=1000, description="Default the study's.")
    perfect_foresight: bool = Field(
        True, description="Also run the sized plant with the perfect-foresight battery "
        "dispatch (beside the named policy; not without batteries), so that the gap between "
        "the LP and the simulation is split into the policy's part and the rest.")


class Sizing(_Model):
    """The root of the ``sizing:`` block."""

    discount_rate: float | None = Field(None, gt=-1, description="Discount rate of the "
                                                                  "annuities [1/yr]; default "
                                                                  "the study's.")
    cyclic_storage: bool = Field(True, description="Stores end where they start.")
    flexible_production: bool = Field(
        False, description="Record the work of the deferrable stations (deferrable: true) as "
        "energy blocks (release, latest finish by due date, power) and let the LP shift it "
        "within them; the sizes are also solved without, and sizing.json says what the "
        "flexibility is worth.")
    candidates: list[Candidate] = Field(min_length=1, description="Capacities to choose.")
    targets: Targets = Field(default_factory=Targets)
    purchases: Purchases = Field(default_factory=Purchases)
    sensitivity_pct: float = Field(20.0, ge=0, lt=100, description="Capex and energy prices "
                                                                   "moved by +- this [%] in "
                                                                   "the sensitivity table.")
    verify: Verify = Field(default_factory=Verify)
    curve_points_pct: list[Annotated[float, Field(ge=0, le=1000)]] = Field(
        default_factory=lambda: [0.0, 50.0, 75.0, 100.0, 125.0, 150.0],
        description="Cost-against-size curves: each candidate fixed at these shares of its "
        "optimum [%] (the others re-optimised, one LP per point); [] for none (a year at "
        "hourly resolution takes about 3.7 s of CPU per point).")


# ---------------------------------------------------------------------------------------------
# loading


@dataclass(frozen=True)
class ResolvedCandidate:
    """A candidate with its path resolved against the plant."""

    spec: Candidate
    kind: str
    """'generation', 'battery_energy', 'battery_power', 'import_limit', 'thermal_unit',
    'thermal_store_energy' or 'thermal_store_power' (:data:`SIZEABLE`)."""
    field: tuple
    """Resolved path (list items by index), e.g. ('energy', 'pv', 0, 'dc_kwp')."""
    item: int | None
    """Index of the PV array, wind turbine, battery or thermal unit or store in its plant list;
    None for the grid."""
    current: float | None
    """The plant's value as written (None: not set, e.g. no import limit)."""

    @property
    def existing(self) -> float:
        """Sunk capacity [unit]: the candidate's ``existing`` or the plant's value."""
        if self.spec.existing is not None:
            return float(self.spec.existing)
        return float(self.current) if self.current is not None else 0.0


@dataclass(frozen=True)
class SizingStudy:
    """A study file with a ``sizing:`` block, its plant and its resolved candidates."""

    resolved: Any
    """The :class:`twin.config.study.ResolvedStudy`."""
    sizing: Sizing
    plant_data: dict
    """The plant file's data as written with the base scenario's overrides (for writing the
    sized plant)."""
    candidates: list[ResolvedCandidate]
    discount_rate: float


def load_sizing(path: str | Path) -> SizingStudy:
    """Read a study file with a ``sizing:`` block and resolve its candidates.

    Raises
    ------
    ConfigError
        Naming the study file, line and field: ``study.yaml:7: sizing.candidates[1].path: ...``.
    """
    from twin.config.errors import ConfigError, ConfigIssue
    from twin.config.loader import read_yaml
    from twin.config.study import apply_override, load_study

    resolved = load_study(path)
    name = str(path)
    _, lines = read_yaml(path)
    sizing = resolved.study.sizing
    if sizing is None:
        raise ConfigError(name, [ConfigIssue(
            "sizing", "no sizing: block; expected one with candidates: (see "
                      "simulations/demo_sizing.yaml)")])
    issues: list[ConfigIssue] = []
    base = resolved.study.scenarios[resolved.study.base]
    if base.strategies:
        issues.append(ConfigIssue(
            f"scenarios.{resolved.study.base}", "twin size sizes the plant as it is, but the "
            "base scenario has strategies; write them into a plant file and name that file as "
            "plant:", line=lines.get(("scenarios", resolved.study.base))))
    rate = sizing.discount_rate if sizing.discount_rate is not None \
        else resolved.study.discount_rate
    if rate is None:
        issues.append(ConfigIssue("sizing.discount_rate", "no discount rate; give "
                                  "sizing.discount_rate or the study's discount_rate (e.g. 0.06)",
                                  line=lines.get(("sizing",))))
    plant_data, _ = read_yaml(resolved.plant_path)
    for key, value in base.overrides.items():  # validated by load_study already
        apply_override(plant_data, key, value)
    out: list[ResolvedCandidate] = []
    seen: dict[tuple, int] = {}
    for i, c in enumerate(sizing.candidates):
        where = f"sizing.candidates[{i}].path"
        line = lines.get(("sizing", "candidates", i, "path")) or lines.get(
            ("sizing", "candidates", i))
        try:
            field = tuple(apply_override(copy.deepcopy(plant_data), c.path, c.max))
        except ValueError as exc:
            issues.append(ConfigIssue(where, str(exc), c.path, True, line))
            continue
        key = tuple(k for k in field if not isinstance(k, int))
        kind = SIZEABLE.get(key)
        if kind is None:
            allowed = ", ".join(".".join(k[:-1]) + "[...]." + k[-1] if k[1] != "grid"
                                else ".".join(k) for k in SIZEABLE)
            issues.append(ConfigIssue(where, f"this field cannot be sized; expected one of "
                                             f"{allowed}", c.path, True, line))
            continue
        if field in seen:
            issues.append(ConfigIssue(where, f"names the same field as "
                                             f"sizing.candidates[{seen[field]}]", c.path, True,
                                      line))
            continue
        seen[field] = i
        item = next((k for k in field if isinstance(k, int)), None)
        value: Any = resolved.plants[resolved.study.base]
        for k in field:
            value = value[k] if isinstance(k, int) else getattr(value, k)
        out.append(ResolvedCandidate(c, kind, field, item,
                                     None if value is None else float(value)))
    if issues:
        raise ConfigError(name, issues)
    return SizingStudy(resolved, sizing, plant_data, out, float(rate))
