"""Study files: a base plant, named scenarios (overrides by field path, strategies, upgrade
economics), the period and the number of replications, compared by ``twin compare``.

A study file (``simulations/*.yaml``)::

    name: PV and battery sizing
    plant: ../plant_configs/demo_plant.yaml     # relative to this file
    days: 28                                    # default: the plant's simulation.days
    replications: 5                             # replication k runs with seed + k
    seed: 1                                     # default: the plant's simulation.seed
    base: baseline
    discount_rate: 0.08                         # default of every upgrade below
    scenarios:
      baseline: {}
      big_pv:
        overrides:
          energy.pv[0].dc_kwp: 1200
          equipment_types[id=press].power_kw.electricity.standby: 2
        strategies: [{type: smart_standby}]     # added after the plant's own strategies
        upgrade: {capex: 2.4e6, lifetime_years: 25, fixed_om_per_year: 12000}

Override paths name any plant field: mapping keys joined by ``.``, list items by index
(``lines[0]``) or by id (``equipment_types[id=press]``). A key the plant file leaves out may be
set if the plant model has that field; a list item that does not exist, or a field the model
does not have, is an error. An override replaces the value at its path (a whole list or
mapping when the path names one).

A scenario's ``strategies:`` are **added** to the plant's ``strategies:`` (after them). To
replace the plant's strategies, override the field itself: ``overrides: {strategies: []}``.

Every error names the study file and line, the scenario, the override path and, for a plant that
the overrides make invalid, the plant field's own message.

A ``sweep:`` block generates more scenarios from override paths (:mod:`twin.config.sweep`), and an
``uncertainty:`` block draws weather, prices and the grid factor year per replication, the same
in every scenario (:mod:`twin.config.uncertainty`; :meth:`ResolvedStudy.plant_for` builds the
plant of one scenario and replication).
"""

from __future__ import annotations

import contextlib
import copy
import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator, model_validator

from twin.config.base import _Model
from twin.config.errors import ConfigError, ConfigIssue
from twin.config.loader import (
    Path_,
    _allowed_keys,
    _format_path,
    _issues_from_validation,
    _parse_path,
    _resolve_paths,
    _walk,
    plant_from_data,
    read_yaml,
)
from twin.config.plant import MAX_DAYS, Date, Plant, StrategyConfig, check_start
from twin.config.sizing import Sizing
from twin.config.sweep import HUGE, MAX_SWEEP_SCENARIOS, Sweep
from twin.config.uncertainty import Uncertainty

ENERGY_BASIS_KPIS = ("pv_kwh", "battery_discharge_kwh", "electricity_kwh", "grid_import_kwh",
                     "grid_export_kwh", "natural_gas_kwh", "curtailed_kwh")
"""KPIs whose annualised paired difference may be the variable-O&M basis of an upgrade."""

SCENARIO_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.=-]*$"
"""Scenario names: they name run folders, so letters, digits, ``_``, ``-``, ``.`` and ``=``
(sweep names such as ``pv=600_bess=500``) only."""

MAX_RUNS = 10_000
"""Default of a study's ``max_runs``: ``twin compare`` asks for ``--yes`` beyond it."""


STUDY_FILES = ("study.json", "comparison.csv", "comparison.md", "economics.csv", "macc.csv",
               "dashboard.html", "savings_by_cause.csv", "waterfall.csv", "runs.parquet")
"""Files of a study folder beside the scenario folders (:func:`twin.study.run_study`): a
scenario may not take one of these names."""


class UpgradeSpec(_Model):
    """What an upgrade costs: the inputs of :class:`twin.economics.Upgrade` that a simulation
    cannot know. The annual cost and CO2 savings come from the comparison (base minus
    scenario, annualised)."""

    capex: float = Field(ge=0, description="Initial investment, paid in year 0 [currency].")
    lifetime_years: int = Field(ge=1, description="Service life of the equipment [yr].")
    discount_rate: float | None = Field(
        None, gt=-1, description="Discount rate [1/yr], e.g. 0.08; default: the study's.")
    fixed_om_per_year: float = Field(0, description="Fixed O&M [currency/yr] at today's prices.")
    variable_om_per_kwh: float = Field(0, description="Variable O&M [currency/kWh] of "
                                                      "annual_energy_kwh.")
    annual_energy_kwh: float | str = Field(
        0.0, description="Basis of variable O&M [kWh/yr]: a number, or the name of a KPI whose "
                       "annualised paired difference (scenario minus base) is used, e.g. "
                       "pv_kwh for the added PV generation or battery_discharge_kwh.")
    replacement_cost: float | None = Field(None, ge=0, description="Cost of one replacement "
                                                                   "[currency]; default capex.")
    replacement_years: list[int] | None = Field(
        None, description="Years at whose end the equipment is replaced; default every "
                          "lifetime_years within the analysis.")
    salvage_value: float | None = Field(None, description="Residual value at the end "
                                                          "[currency]; default linear.")
    price_escalation_rate: float = Field(0, gt=-1, description="Yearly change of energy "
                                                                "prices [1/yr].")
    om_escalation_rate: float = Field(0, gt=-1, description="Yearly change of O&M [1/yr].")
    co2_saving_change_rate: float = Field(0, gt=-1, description="Yearly change of the CO2 "
                                                                 "saving [1/yr].")
    analysis_years: int | None = Field(None, ge=1, description="Length of the analysis [yr]; "
                                                               "default lifetime_years.")
    source: str | None = Field(None, description="Where the cost figures come from.")


class Scenario(_Model):
    """One scenario: changes to the base plant, strategies in force, and its upgrade cost."""

    description: str | None = None
    overrides: dict[str, Any] = Field(
        default_factory=dict, description="Plant fields by path -> new value, e.g. "
                                          "{'energy.pv[0].dc_kwp': 1200}.")
    strategies: list[StrategyConfig] = Field(
        default_factory=list, description="Strategies added after the plant's own.")
    upgrade: UpgradeSpec | None = Field(None, description="Economics of the upgrade this "
                                                          "scenario represents.")
    measure: str | None = Field(
        None, max_length=80, description="The measure this scenario adds, as its bar in the "
        "waterfall: efficiency, onsite_renewables, storage, electrification, green_power "
        "(contracts and certificates), offsets, or your own words.")


class Waterfall(_Model):
    """An ordered, cumulative chain of scenarios from the base to the target: each step is a
    scenario that holds every measure of the steps before it plus its own, so the bars (the
    change from one step to the next) add up from the base to the last step."""

    steps: list[str] = Field(min_length=1, description="Scenario names in order; each one "
                                                       "includes the measures of the previous.")
    co2_target_t_per_year: float = Field(
        0.0, description="Target of net scope 1 + 2 (market-based, after retired offsets) "
                         "[tCO2e/yr]; 0 = net zero.")
    cost_target_per_year: float | None = Field(
        None, description="Target of total energy cost [currency/yr], optional.")


class Study(_Model):
    """The root of a study file."""

    name: str | None = Field(None, description="Title of the study.")
    description: str | None = None
    plant: str = Field(description="Plant file, relative to the study file.")
    days: float | None = Field(None, gt=0, le=MAX_DAYS, description="Simulated period [d]; "
                                                                      "default the plant's.")
    start: Date | None = Field(None, description="First simulated day; default the plant's.")
    replications: int = Field(5, ge=1, le=1000, description="Runs per scenario; replication k "
                                                             "uses seed + k in every scenario.")
    seed: int | None = Field(None, ge=0, description="Base seed; default the plant's.")
    base: str = Field(description="Name of the base scenario the others are compared with.")
    discount_rate: float | None = Field(None, gt=-1, description="Default discount rate of "
                                                                  "the upgrades [1/yr].")
    co2_basis: Literal["location", "market"] = Field(
        "location", description="Scope 2 method of the CO2 savings in the economics and MACC.")
    currency: str = Field("CNY", description="Currency label of costs.")
    scenarios: dict[str, Scenario] = Field(
        default_factory=dict, description="Named scenarios (at least one, or a sweep).")
    sweep: Sweep | None = Field(None, description="Scenarios generated from override paths "
                                                  "(twin.config.sweep).")
    uncertainty: Uncertainty | None = Field(
        None, description="Weather, price and grid-factor options drawn per replication, the "
                          "same in every scenario (twin.config.uncertainty).")
    max_runs: int = Field(MAX_RUNS, ge=1, description="Most runs (scenarios x replications) "
                          "`twin compare` starts without --yes.")
    waterfall: Waterfall | None = Field(
        None, description="Carbon and cost waterfall from the base through a cumulative chain "
                          "of scenarios (one measure each) to the target.")
    sizing: Sizing | None = Field(None, description="Capacities for `twin size` to choose "
                                                    "(twin.config.sizing).")

    @model_validator(mode="before")
    @classmethod
    def _sizing_only(cls, data: Any) -> Any:
        # a sizing study needs no scenarios: the plant as written is its base, 'as_is'
        if isinstance(data, dict) and "sizing" in data and "scenarios" not in data:
            data = {**data, "scenarios": {"as_is": {}}, "base": data.get("base", "as_is")}
        return data

    @field_validator("start")
    @classmethod
    def _start_in_range(cls, v: Any) -> Any:
        return v if v is None else check_start(v)

    @model_validator(mode="after")
    def _some_scenario(self) -> Study:
        if not self.scenarios and self.sweep is None:
            raise ValueError("no scenarios; give scenarios: {name: {...}, ...} or a sweep:")
        return self


@dataclass(frozen=True)
class ResolvedStudy:
    """A validated study with one validated plant per scenario."""

    study: Study
    path: Path
    """The study file."""
    plant_path: Path
    plants: dict[str, Plant]
    """Scenario name -> plant with its overrides and strategies applied, in file order."""
    base_plant: Plant
    """The plant file as written, without overrides."""
    plant_data: Any = None
    """The plant file's data as read (for the per-replication plants of ``uncertainty:``)."""
    lines: dict = field(default_factory=dict, repr=False)
    """Line numbers of the study file's fields."""
    swept: dict[str, dict[str, tuple[str, Any]]] = field(default_factory=dict, repr=False)
    """Generated scenario -> sweep parameter -> (override path, value)."""
    _variants: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def names(self) -> list[str]:
        return list(self.plants)

    def runs(self, replications: int | None = None) -> int:
        """Number of runs: scenarios x replications (the study's unless given)."""
        return len(self.plants) * int(replications or self.study.replications)

    def choice(self, rep: int) -> dict[str, int]:
        """Uncertainty source -> option index of replication ``rep`` (empty without an
        ``uncertainty:`` block); the same in every scenario."""
        from twin.config.uncertainty import draw

        unc = self.study.uncertainty
        return {} if unc is None else draw(unc, self.seed(), rep)

    def variation(self, replications: int | None = None) -> list[str]:
        """Sources of variation the study's intervals cover: ``process`` and the uncertainty
        sources (``weather``, ``prices``, ``grid factor``) whose option differs between
        replications 0..n-1 (n = ``replications``, default the study's)."""
        from twin.config.uncertainty import variation

        n = int(replications or self.study.replications)
        return variation(self.study.uncertainty, [self.choice(k) for k in range(n)])

    def preflight_plants(self) -> list[tuple[str, Plant]]:
        """(label, plant) of the plants whose run inputs to check before any run
        (:func:`twin.preflight.check_run_inputs`): every written scenario, for a sweep the first
        generated scenario holding each value of each parameter (the others differ from it only
        in values already checked elsewhere), and the base with each uncertainty option."""
        out = [(f"scenarios.{s}", p) for s, p in self.plants.items() if s not in self.swept]
        seen: set[tuple[str, str]] = set()
        for s, values in self.swept.items():
            new = {(k, repr(v)) for k, (_, v) in values.items()} - seen
            if new:
                seen |= new
                out.append((f"sweep scenario {s}", self.plants[s]))
        return out + option_plants(self)

    def plant_for(self, scenario: str, rep: int) -> Plant:
        """The plant of ``scenario`` in replication ``rep``: the scenario's plant with the
        replication's weather, prices and grid factor year (:mod:`twin.config.uncertainty`)
        applied after its overrides; without an ``uncertainty:`` block, the scenario's plant.

        Raises
        ------
        ConfigError
            When the replication's options make the scenario's plant invalid (naming the
            uncertainty entry and the scenario).
        """
        unc = self.study.uncertainty
        if unc is None or self.plant_data is None:
            return self.plants[scenario]
        choice = self.choice(rep)
        key = (scenario, tuple(sorted(choice.items())))
        if key not in self._variants:
            self._variants[key] = _variant_plant(self, scenario, choice)
        return self._variants[key]

    def days(self) -> float:
        return float(self.study.days if self.study.days is not None
                     else self.base_plant.simulation.days)

    def seed(self) -> int:
        return int(self.study.seed if self.study.seed is not None
                   else self.base_plant.simulation.seed)

    def start(self) -> Any:
        return self.study.start if self.study.start is not None else \
            self.base_plant.simulation.start


# ---------------------------------------------------------------------------------------------
# override paths

_TOKEN = re.compile(r"\[id=([^\]]*)\]|\[(-?\d+)\]|([^.\[\]]+)|(\.)")


@dataclass(frozen=True)
class _Step:
    key: str | int
    by_id: bool = False


def parse_override_path(text: str) -> list[_Step]:
    """Split ``equipment_types[id=press].power_kw.electricity`` into steps.

    Raises ValueError with what is expected when the text is not a path."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError("expected a field path such as energy.pv[0].dc_kwp")
    steps: list[_Step] = []
    pos = 0
    need_name = True  # at the start and after '.', a field name must follow
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            raise ValueError(f"cannot read the path at column {pos + 1}; expected names joined "
                             f"by '.', list items as [0] or [id=name]")
        ident, index, name, dot = m.groups()
        if dot is not None:
            if need_name:
                raise ValueError(f"empty field name at column {pos + 1}")
            need_name = True
        elif name is not None:
            if not need_name:
                raise ValueError(f"'.' expected before '{name}' at column {pos + 1}")
            steps.append(_Step(name.strip()))
            need_name = False
        else:
            if need_name:
                raise ValueError(f"a list item [..] must follow a field name (column {pos + 1})")
            if index is not None:
                if int(index) < 0:
                    raise ValueError(f"list index must be >= 0, got {index}")
                steps.append(_Step(int(index)))
            else:
                steps.append(_Step(ident, by_id=True))
        pos = m.end()
    if need_name:
        raise ValueError("the path ends with '.'; expected a field name after it")
    return steps


class _OverrideError(ValueError):
    """An override path that does not name a plant field or an existing list item."""


def apply_override(data: dict, path_text: str, value: Any) -> Path_:
    """Set ``value`` at ``path_text`` in plant ``data`` (changed in place); return the resolved
    path (ids replaced by indexes) for error messages.

    Raises
    ------
    _OverrideError
        If the path is malformed, names a field the plant model does not have, or a list item
        that does not exist.
    """
    try:
        steps = parse_override_path(path_text)
    except ValueError as exc:
        raise _OverrideError(str(exc)) from None
    cur: Any = data
    done: tuple[str | int, ...] = ()
    for n, step in enumerate(steps):
        last = n == len(steps) - 1
        where = _format_path(done) or "the plant"
        if isinstance(step.key, str) and not step.by_id:
            if not isinstance(cur, dict):
                raise _OverrideError(f"{where} is {_kind(cur)}, not a mapping; cannot take "
                                     f"field '{step.key}'")
            key = _existing_key(cur, step.key)
            if key is None:
                tp, _ = _walk(Plant, data, (*done, step.key))
                if tp is None:
                    allowed = _allowed_keys(Plant, data, done)
                    raise _OverrideError(_no_field(step.key, where, allowed))
                key = step.key
                if not last:
                    if isinstance(steps[n + 1].key, int) or steps[n + 1].by_id:
                        raise _OverrideError(
                            f"{_format_path((*done, key))} is not in the plant file, so it has "
                            f"no items; set the whole list instead: {_format_path((*done, key))}"
                            f": [...]")
                    cur[key] = {}
            done = (*done, key)
            if last:
                cur[key] = copy.deepcopy(value)
            else:
                if cur[key] is None:
                    cur[key] = {}
                cur = cur[key]
            continue
        if not isinstance(cur, list):
            raise _OverrideError(f"{where} is {_kind(cur)}, not a list; cannot take item "
                                 f"[{'id=' if step.by_id else ''}{step.key}]")
        if step.by_id:
            ids = [str(item.get("id")) for item in cur if isinstance(item, dict)]
            matches = [k for k, item in enumerate(cur)
                       if isinstance(item, dict) and str(item.get("id")) == step.key]
            if not matches:
                close = difflib.get_close_matches(str(step.key), ids, n=1)
                hint = (f"did you mean '{close[0]}'?" if close else
                        "ids there: " + ", ".join(f"'{i}'" for i in ids) if ids else
                        "the list is empty")
                raise _OverrideError(f"{where} has no item with id '{step.key}'; {hint}")
            index = matches[0]
        else:
            index = int(step.key)
            if index >= len(cur):
                raise _OverrideError(f"{where} has {len(cur)} item{'s' if len(cur) != 1 else ''}"
                                     f"; index {index} does not exist (first is [0])")
        done = (*done, index)
        if last:
            cur[index] = copy.deepcopy(value)
        else:
            cur = cur[index]
    return done


def _existing_key(mapping: dict, key: str) -> Any:
    if key in mapping:
        return key
    for k in mapping:
        if str(k) == key:
            return k
    return None


def _kind(value: Any) -> str:
    if value is None:
        return "empty"
    return {dict: "a mapping", list: "a list", str: "text", bool: "true/false",
            int: "a number", float: "a number"}.get(type(value), type(value).__name__)


def _no_field(key: str, where: str, allowed: list[str]) -> str:
    close = difflib.get_close_matches(key, allowed, n=1)
    if close:
        return f"{where} has no field '{key}'; did you mean '{close[0]}'?"
    if allowed:
        return f"{where} has no field '{key}'; expected one of: {', '.join(allowed)}"
    return f"{where} has no field '{key}'"


# ---------------------------------------------------------------------------------------------
# loading


def load_study(path: str | Path) -> ResolvedStudy:
    """Read a study file, its plant, and build every scenario's plant.

    Raises
    ------
    ConfigError
        Naming the study file (or the plant file, for a problem in the plant as written):
        ``study.yaml:LINE: scenarios.NAME.overrides['PATH']: ...``.
    """
    path = Path(path)
    name = str(path)
    data, lines = read_yaml(path)
    if not isinstance(data, dict):
        raise ConfigError(name, [ConfigIssue(
            "", "expected a mapping with plant:, base: and scenarios: at the top level",
            line=lines.get(()))])
    try:
        study = Study.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(name, _issues_from_validation(exc, data, Study, lines)) from None
    plant_path = (path.resolve().parent / study.plant)
    plant_data: Any = None
    swept: dict[str, dict[str, Any]] = {}
    if study.sweep is not None:
        plant_data, plant_lines = _read_plant(plant_path, study, name, lines)
        generated, swept = _expand_sweep(study, study.sweep, plant_data, name, lines)
        study = study.model_copy(update={"scenarios": {**study.scenarios, **generated}})
    if study.uncertainty is not None:
        from twin.config.uncertainty import resolve_files

        study = study.model_copy(update={"uncertainty": resolve_files(
            study.uncertainty, path.resolve().parent)})
    issues: list[ConfigIssue] = []
    for scen in study.scenarios:
        if not re.match(SCENARIO_PATTERN, scen):
            issues.append(ConfigIssue(
                f"scenarios.{scen}", "scenario names become folder names; expected letters, "
                "digits, '_', '-' or '.', starting with a letter or digit", scen, True,
                lines.get(("scenarios", scen))))
        elif scen.lower() in STUDY_FILES:
            issues.append(ConfigIssue(
                f"scenarios.{scen}", "scenario names become folder names in the study folder, "
                f"which also holds {', '.join(STUDY_FILES)}; choose another name", scen, True,
                lines.get(("scenarios", scen))))
    if study.base not in study.scenarios:
        close = difflib.get_close_matches(study.base, list(study.scenarios), n=1)
        hint = f"did you mean '{close[0]}'?" if close else \
            "expected one of " + ", ".join(f"'{s}'" for s in study.scenarios)
        issues.append(ConfigIssue("base", f"no scenario of that name; {hint}", study.base, True,
                                  lines.get(("base",))))
    for scen, spec in study.scenarios.items():
        if spec.upgrade is not None and spec.upgrade.discount_rate is None \
                and study.discount_rate is None:
            issues.append(ConfigIssue(
                f"scenarios.{scen}.upgrade.discount_rate",
                "no discount rate; give upgrade.discount_rate or the study's discount_rate "
                "(e.g. 0.08)", line=lines.get(("scenarios", scen, "upgrade"))))
        if spec.upgrade is not None:
            issues += _check_upgrade(scen, spec.upgrade, study, lines)
        if scen == study.base and spec.upgrade is not None:
            issues.append(ConfigIssue(
                f"scenarios.{scen}.upgrade", "the base scenario cannot be an upgrade: savings "
                "are measured against it", line=lines.get(("scenarios", scen, "upgrade"))))
    if study.waterfall is not None:
        seen: set[str] = set()
        for k, step in enumerate(study.waterfall.steps):
            where = f"waterfall.steps[{k}]"
            line = lines.get(("waterfall", "steps", k)) or lines.get(("waterfall",))
            if step not in study.scenarios:
                close = difflib.get_close_matches(step, list(study.scenarios), n=1)
                hint = f"did you mean '{close[0]}'?" if close else \
                    "expected one of " + ", ".join(f"'{s}'" for s in study.scenarios)
                issues.append(ConfigIssue(where, f"no scenario of that name; {hint}", step, True,
                                          line))
            elif step == study.base:
                issues.append(ConfigIssue(where, "the base is where the waterfall starts; list "
                                                 "only the steps after it", step, True, line))
            elif step in seen:
                issues.append(ConfigIssue(where, "a scenario may be one step only", step, True,
                                          line))
            seen.add(step)
    if issues:
        raise ConfigError(name, issues)

    if plant_data is None:
        plant_data, plant_lines = _read_plant(plant_path, study, name, lines)
    base_plant = _resolve_paths(plant_from_data(plant_data, str(plant_path), plant_lines),
                                plant_path.parent)
    plants: dict[str, Plant] = {}
    sweep_issues: dict[tuple[str, str], ConfigIssue] = {}  # one per parameter and value
    for scen, spec in study.scenarios.items():
        if scen not in swept:
            plants[scen] = _scenario_plant(plant_data, plant_path, scen, spec, name, lines)
            continue
        try:
            plants[scen] = _scenario_plant(plant_data, plant_path, scen, spec, name, lines)
        except ConfigError as exc:  # name the sweep parameter and its value
            for issue in exc.issues:
                key, found = _sweep_issue(issue, scen, swept[scen], lines)
                sweep_issues.setdefault(key, found)
            if len(sweep_issues) >= 10:
                break
    if sweep_issues:
        raise ConfigError(name, list(sweep_issues.values()))
    resolved = ResolvedStudy(study, path, plant_path, plants, base_plant, plant_data, lines,
                             swept)
    if study.uncertainty is not None:
        _check_uncertainty(resolved)
    return resolved


def _read_plant(plant_path: Path, study: Study, name: str, lines: dict) -> tuple[Any, dict]:
    if not plant_path.is_file():
        raise ConfigError(name, [ConfigIssue(
            "plant", f"plant file not found at {plant_path}; expected a path relative to the "
                     f"study file", study.plant, True, lines.get(("plant",)))])
    return read_yaml(plant_path)


def _expand_sweep(study: Study, sweep: Sweep, plant_data: Any, name: str, lines: dict
                  ) -> tuple[dict[str, Scenario], dict[str, dict[str, Any]]]:
    """The sweep's scenarios (name -> Scenario, in sweep order) and, per generated name, its
    parameter -> (path, value)."""
    from twin.config.loader import _at, _members
    from twin.config.sweep import scenario_names, value_sets

    def issue(where: str, msg: str, value: Any = None, has: bool = False) -> ConfigError:
        return ConfigError(name, [ConfigIssue(where, msg, value, has,
                                              _line(lines, ("sweep", *where.split(".")[1:])))])

    if sweep.on is not None and sweep.on not in study.scenarios:
        close = difflib.get_close_matches(sweep.on, list(study.scenarios), n=1)
        hint = f"did you mean '{close[0]}'?" if close else ("expected one of " + ", ".join(
            f"'{s}'" for s in study.scenarios) if study.scenarios else "the study has no "
            "scenarios: leave 'on' out to sweep the plant as written")
        raise issue("sweep.on", f"no scenario of that name; {hint}", sweep.on, True)
    n = sweep.size()
    if n > MAX_SWEEP_SCENARIOS:
        many = "more than 10^15" if n >= HUGE else f"{n:,}"
        raise issue("sweep", f"the sweep makes {many} scenarios; at most "
                             f"{MAX_SWEEP_SCENARIOS:,} are allowed (split the study, or sample "
                             f"with method lhs or sobol and a count)")
    on = study.scenarios[sweep.on] if sweep.on is not None else Scenario()
    data_on = copy.deepcopy(plant_data)
    for key, value in on.overrides.items():
        with contextlib.suppress(_OverrideError):  # reported with the 'on' scenario itself
            apply_override(data_on, key, value)
    integer: dict[str, bool] = {}
    before: dict[str, Any] = {}
    for pname, p in sweep.parameters.items():
        try:
            resolved_path = apply_override(copy.deepcopy(data_on), p.path, 0)
        except _OverrideError as exc:
            raise issue(f"sweep.parameters.{pname}.path", f"{exc}", p.path, True) from None
        tp, _ = _walk(Plant, data_on, resolved_path)
        members = _members(tp)
        integer[pname] = p.integer if p.integer is not None else (
            int in members and float not in members)
        try:
            before[pname] = _at(data_on, resolved_path)
        except (KeyError, IndexError, TypeError):
            before[pname] = None
    try:
        points = value_sets(sweep, integer)
        names = scenario_names(sweep, points)
    except ValueError as exc:
        raise issue("sweep.parameters", f"{exc}") from None
    generated: dict[str, Scenario] = {}
    swept: dict[str, dict[str, Any]] = {}
    for scen, point in zip(names, points, strict=True):
        if scen in study.scenarios:
            raise issue("sweep", f"the sweep makes scenario '{scen}', which the study already "
                                 f"has; rename that scenario or give the sweep a prefix", scen,
                        True)
        overrides = {**on.overrides}
        for pname, (_, v) in point.items():
            overrides[sweep.parameters[pname].path] = v
        upgrade = None if sweep.upgrade is not None else on.upgrade  # on's, as it holds on's
        same = all(v == before.get(k) for k, (_, v) in point.items())
        if sweep.upgrade is not None and not same:
            upgrade = _sweep_upgrade(sweep, point, before, name, lines)
        if scen == study.base:
            upgrade = None
        text = ", ".join(f"{k} = {label if label is not None else v}"
                         for k, (label, v) in point.items())
        generated[scen] = Scenario(
            description=f"sweep: {text}" + (f" (on {sweep.on})" if sweep.on else ""),
            overrides=overrides, strategies=list(on.strategies), upgrade=upgrade,
            measure=on.measure)
        swept[scen] = {k: (sweep.parameters[k].path, v) for k, (_, v) in point.items()}
    return generated, swept


def _sweep_upgrade(sweep: Sweep, point: dict[str, Any], before: dict[str, Any], name: str,
                   lines: dict) -> UpgradeSpec:
    up = sweep.upgrade
    assert up is not None
    capex = up.capex
    for pname, rate in up.capex_per_unit.items():
        v, b = point[pname][1], before.get(pname)
        if not isinstance(v, (int, float)) or isinstance(v, bool) or (
                b is not None and not isinstance(b, (int, float))):
            raise ConfigError(name, [ConfigIssue(
                f"sweep.upgrade.capex_per_unit.{pname}", "a cost per unit needs a number at the "
                f"parameter's path; got {v!r}", line=_line(lines, ("sweep", "upgrade")))])
        capex += rate * (v - (b or 0.0))
    fields = up.model_dump(exclude={"capex", "capex_per_unit"})
    return UpgradeSpec(capex=max(capex, 0.0), **fields)


def _sweep_issue(issue: ConfigIssue, scen: str, swept: dict[str, tuple[str, Any]], lines: dict
                 ) -> tuple[tuple[str, str], ConfigIssue]:
    """A generated scenario's problem, pinned to the sweep parameter and value that caused it,
    with a key that is the same for every scenario of that value."""
    for pname, (p, v) in swept.items():
        if issue.path == _override_field(scen, p):
            return (pname, repr(v)), ConfigIssue(
                f"sweep.parameters.{pname}", f"value {v!r} (e.g. scenario {scen}): "
                f"{issue.message}", line=_line(lines, ("sweep", "parameters", pname)))
    return (issue.path, issue.message), ConfigIssue(
        f"sweep (scenario {scen})", f"{issue.path}: {issue.message}",
        line=_line(lines, ("sweep",)))


def _check_uncertainty(resolved: ResolvedStudy) -> None:
    """Every option of every uncertainty source, alone, applied to the base scenario: files
    exist and the plant stays valid (before any run)."""
    unc = resolved.study.uncertainty
    assert unc is not None
    name = str(resolved.path)
    line = _line(resolved.lines, ("uncertainty",))
    files = [(f"uncertainty.weather.files[{k}]", f if isinstance(f, str) else f.file)
             for k, f in enumerate((unc.weather.files if unc.weather else None) or [])]
    files += [(f"uncertainty.prices[{k}].price_file", p.price_file.file)
              for k, p in enumerate(unc.prices or []) if p.price_file is not None]
    missing = [ConfigIssue(w, f"file not found at {f}; expected a path relative to the study "
                              f"file", Path(f).name, True, line)
               for w, f in files if not Path(f).is_file()]
    if missing:
        raise ConfigError(name, missing)
    option_plants(resolved)


def option_plants(resolved: ResolvedStudy) -> list[tuple[str, Plant]]:
    """The base scenario's plant with each uncertainty option alone, labelled
    ``uncertainty.<source> <option>`` (to check them before any run)."""
    unc = resolved.study.uncertainty
    if unc is None:
        return []
    return [(unc.field(source, k), _variant_plant(resolved, resolved.study.base, {source: k}))
            for source, n in unc.options().items() for k in range(n)]


def _check_upgrade(scen: str, up: UpgradeSpec, study: Study, lines: dict) -> list[ConfigIssue]:
    """What :class:`twin.economics.Upgrade` itself rejects (e.g. replacements that leave the
    equipment older than its life), found before any run."""
    from twin.economics import Upgrade

    where = ("scenarios", scen, "upgrade")
    issues = []
    if isinstance(up.annual_energy_kwh, str) and up.annual_energy_kwh not in ENERGY_BASIS_KPIS:
        close = difflib.get_close_matches(up.annual_energy_kwh, ENERGY_BASIS_KPIS, n=1)
        hint = f"did you mean '{close[0]}'?" if close else \
            "expected a number [kWh/yr] or one of " + ", ".join(ENERGY_BASIS_KPIS)
        issues.append(ConfigIssue(f"scenarios.{scen}.upgrade.annual_energy_kwh",
                                  f"unknown KPI; {hint}", up.annual_energy_kwh, True,
                                  _line(lines, (*where, "annual_energy_kwh"))))
    rate = up.discount_rate if up.discount_rate is not None else study.discount_rate
    if rate is None:
        return issues
    try:
        Upgrade(name=scen, capex=up.capex, lifetime_years=up.lifetime_years,
                annual_cost_saving=0.0, annual_co2_saving_t=0.0, discount_rate=rate,
                fixed_om_per_year=up.fixed_om_per_year,
                variable_om_per_kwh=up.variable_om_per_kwh,
                replacement_cost=up.replacement_cost,
                replacement_years=(tuple(up.replacement_years)
                                   if up.replacement_years is not None else None),
                salvage_value=up.salvage_value, price_escalation_rate=up.price_escalation_rate,
                om_escalation_rate=up.om_escalation_rate,
                co2_saving_change_rate=up.co2_saving_change_rate,
                analysis_years=up.analysis_years)
    except ValueError as exc:
        field, _, msg = str(exc).partition(": ")
        if not msg:
            field, msg = "", str(exc)
        issues.append(ConfigIssue(f"scenarios.{scen}.upgrade" + (f".{field}" if field else ""),
                                  msg, line=_line(lines, (*where, field) if field else where)))
    return issues


def _scenario_plant(plant_data: Any, plant_path: Path, scen: str, spec: Scenario, name: str,
                    lines: dict, extra: Any = None) -> Plant:
    """The plant of scenario ``scen``: the plant data with its overrides and strategies.

    ``extra`` (optional) takes the data after the overrides and returns more overrides (path ->
    value) to apply on top, as ``(field for errors, overrides)``: the options of a replication
    (:mod:`twin.config.uncertainty`)."""
    data = copy.deepcopy(plant_data)
    where = ("scenarios", scen)
    applied: list[tuple[str, Path_]] = []
    issues: list[ConfigIssue] = []
    for key, value in spec.overrides.items():
        try:
            applied.append((key, apply_override(data, key, value)))
        except _OverrideError as exc:
            issues.append(ConfigIssue(_override_field(scen, key), f"{exc}", line=_line(
                lines, (*where, "overrides", key))))
    if issues:
        raise ConfigError(name, issues)
    if extra is not None:
        field_name, more = extra(data)
        for key, value in more.items():
            try:
                apply_override(data, key, value)
            except _OverrideError as exc:
                raise ConfigError(name, [ConfigIssue(field_name, f"scenario {scen}: {exc}",
                                                     line=_line(lines, ("uncertainty",)))]
                                  ) from None
    n_plant = len(data.get("strategies") or []) if isinstance(data.get("strategies"), list) \
        else 0
    if spec.strategies:
        own = data.get("strategies")
        data["strategies"] = [*(own if isinstance(own, list) else []),
                              *(s.model_dump(mode="json") for s in spec.strategies)]
    try:
        plant = plant_from_data(data, str(plant_path))
    except ConfigError as exc:
        if extra is not None:  # the scenario alone is valid (checked at load): the options
            field_name, _ = extra(None)
            raise ConfigError(name, [ConfigIssue(
                field_name, f"scenario {scen}: plant field {i.path or '(top level)'}: "
                            f"{i.message}" + (f" (got {_short_value(i)})" if i.has_value
                                              else ""),
                line=_line(lines, ("uncertainty",))) for i in exc.issues]) from None
        raise ConfigError(name, [_plant_issue(i, scen, applied, n_plant, spec, lines)
                                 for i in exc.issues]) from None
    return _resolve_paths(plant, plant_path.parent)


def _variant_plant(resolved: ResolvedStudy, scen: str, choice: dict[str, int]) -> Plant:
    """The plant of scenario ``scen`` with the uncertainty options ``choice`` applied."""
    from twin.config.uncertainty import OptionError, option_overrides

    unc = resolved.study.uncertainty
    assert unc is not None
    where = ", ".join(unc.field(s, k) for s, k in choice.items())

    def extra(data: Any) -> tuple[str, dict[str, Any]]:
        if data is None:
            return where, {}
        try:
            return where, option_overrides(unc, choice, data)
        except OptionError as exc:
            raise ConfigError(str(resolved.path), [ConfigIssue(
                where, f"scenario {scen}: {exc}",
                line=_line(resolved.lines, ("uncertainty",)))]) from None

    return _scenario_plant(resolved.plant_data, resolved.plant_path, scen,
                           resolved.study.scenarios[scen], str(resolved.path), resolved.lines,
                           extra)


def _override_field(scen: str, key: str) -> str:
    return f"scenarios.{scen}.overrides['{key}']"


def _line(lines: dict, path: tuple) -> int | None:
    while path and path not in lines:
        path = path[:-1]
    return lines.get(path)


def _plant_issue(issue: ConfigIssue, scen: str, applied: list[tuple[str, Path_]],
                 n_plant: int, spec: Scenario, lines: dict) -> ConfigIssue:
    """A problem of the scenario's plant, pinned to the override (or strategy) that caused it."""
    plant_path = _parse_path(issue.path)
    got = f" (got {_short_value(issue)})" if issue.has_value else ""
    msg = f"plant field {issue.path or '(top level)'}: {issue.message}{got}"
    # the longest override path that contains the problem, or that the problem contains
    best: tuple[int, str] | None = None
    for key, path in applied:
        inside = plant_path[:len(path)] == path or path[:len(plant_path)] == plant_path
        if inside and (best is None or len(path) > best[0]):
            best = (len(path), key)
    if best is not None:
        key = best[1]
        return ConfigIssue(_override_field(scen, key), msg,
                           line=_line(lines, ("scenarios", scen, "overrides", key)))
    if plant_path[:1] == ("strategies",) and len(plant_path) > 1 \
            and isinstance(plant_path[1], int) and plant_path[1] >= n_plant and spec.strategies:
        k = plant_path[1] - n_plant
        return ConfigIssue(f"scenarios.{scen}.strategies[{k}]", msg,
                           line=_line(lines, ("scenarios", scen, "strategies", k)))
    what = "overrides" if applied else "strategies"
    return ConfigIssue(f"scenarios.{scen}.{what}", f"the scenario's plant is invalid: {msg}",
                       line=_line(lines, ("scenarios", scen, what)))


def _short_value(issue: ConfigIssue) -> str:
    from twin.config.errors import _short

    return _short(issue.value)


__all__ = ["MAX_RUNS", "ResolvedStudy", "Scenario", "Study", "UpgradeSpec", "apply_override",
           "load_study", "option_plants", "parse_override_path"]
