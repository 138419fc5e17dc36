"""Pydantic models of a plant's energy supply (the ``energy:`` block of a plant file).

Onsite PV and wind, batteries, heat and cooling plant, the grid connection with its tariff, and the
dispatch policy of the energy-management system (EMS). Parameters left out take the default of the
physics function they feed (documented there, with its source), so every default lives in one
place. Without an ``energy:`` block the grid covers all electricity and nothing is priced.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from twin.config.base import Id, _Model
from twin.config.own_tariff import (
    PeriodName,
    PriceFile,
    TouRow,
    also_text,
    as_price_file,
    check_tariff_source,
)
from twin.config.profiles import ZONE_HELP, GenerationProfile, _check_zone

Pct = Annotated[float, Field(ge=0, le=100)]
NonNegPrice = Annotated[float, Field(ge=0)]


class SyntheticWeather(_Model):
    """Generate a weather year: clear sky (pvlib Ineichen with its Linke turbidity data) times a
    seeded cloudiness, and temperature from monthly means. SYNTHETIC: use a measured or typical
    meteorological year file for any decision that depends on the PV yield."""

    annual_clearness: float = Field(gt=0.05, lt=1.0, description="Mean clearness index [-].")
    monthly_temp_c: list[float] = Field(min_length=12, max_length=12,
                                        description="Mean air temperature Jan..Dec [degC].")
    daily_temp_swing_c: float = Field(ge=0, le=40, description="Daily max - min [K].")
    seed: int = Field(0, ge=0, description="Seed of the weather (fixed across replications, so "
                                            "scenarios see the same weather).")


class Weather(_Model):
    """Weather for PV, wind and temperature-dependent plant: a file, or a synthetic year."""

    file: str | None = Field(None, description="EPW, TMY3 or CSV (timestamp,ghi,dni,dhi,"
                                               "temp_air,wind_speed); relative to the plant file.")
    kind: Literal["epw", "tmy3", "csv"] | None = Field(None, description="Default: by extension.")
    synthetic: SyntheticWeather | None = None
    timezone: str | None = Field(
        None, description="Zone of a CSV file's timestamps without a UTC offset (default: the "
                          "site's); " + ZONE_HELP + ". EPW and TMY3 files carry theirs in the "
                          "header.")

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, v: str | None) -> str | None:
        return _check_zone(v)

    @model_validator(mode="after")
    def _one_source(self) -> Weather:
        if (self.file is None) == (self.synthetic is None):
            raise ValueError("give exactly one of 'file' or 'synthetic'")
        if self.timezone is not None and self.file is None:
            raise ValueError("timezone is the zone of a weather file's clock; synthetic weather "
                             "is made in the site's zone")
        return self


_MODEL_ONLY_PV = ("tilt_deg", "dc_ac_ratio", "losses_pct", "gamma_pdc_per_c",
                  "degradation_pct_per_year")


class PVArray(_Model):
    """A PV array modelled with pvlib's PVWatts chain, or given by an output ``profile`` file."""

    id: Id
    dc_kwp: float = Field(gt=0, description="DC nameplate [kWp].")
    tilt_deg: float | None = Field(None, ge=0, le=90, description="Tilt from horizontal [deg]; "
                                                                  "required without a profile.")
    azimuth_deg: float = Field(180, ge=0, lt=360, description="Azimuth, 180 = south [deg].")
    dc_ac_ratio: float | None = Field(None, gt=0, description="DC/AC ratio [-].")
    losses_pct: float | None = Field(None, ge=0, lt=100, description="System losses [%].")
    gamma_pdc_per_c: float | None = Field(None, lt=0, gt=-0.02,
                                          description="Power temperature coefficient [1/K].")
    degradation_pct_per_year: float | None = Field(None, ge=0, le=5,
                                                   description="Degradation [%/yr].")
    years_in_service: float = Field(0, ge=0, le=50, description="Age at the start of the run "
                                    "[yr]; each further year of the run adds one.")
    profile: GenerationProfile | None = Field(
        None, description="Output profile file used instead of the weather model, scaled to "
                          "dc_kwp (used as given: no degradation is applied).")

    @model_validator(mode="after")
    def _model_or_profile(self) -> PVArray:
        if self.profile is None:
            if self.tilt_deg is None:
                raise ValueError("tilt_deg is required (or give a 'profile' file)")
            return self
        given = [f for f in _MODEL_ONLY_PV if getattr(self, f) is not None]
        if self.years_in_service:
            given.append("years_in_service")
        if given:
            raise ValueError(f"{', '.join(given)} belong(s) to the weather model; an array with "
                             f"a 'profile' takes its output from the file")
        return self


class PowerCurve(_Model):
    speed_mps: list[Annotated[float, Field(ge=0)]] = Field(min_length=2)
    power_kw: list[Annotated[float, Field(ge=0)]] = Field(min_length=2)

    @model_validator(mode="after")
    def _same_length(self) -> PowerCurve:
        if len(self.speed_mps) != len(self.power_kw):
            raise ValueError(f"speed_mps has {len(self.speed_mps)} points but power_kw has "
                             f"{len(self.power_kw)}")
        if any(b <= a for a, b in zip(self.speed_mps, self.speed_mps[1:], strict=False)):
            raise ValueError("speed_mps must increase")
        return self


class WindTurbine(_Model):
    """Wind turbines of one type: power curve at hub height, log-law speed from the weather."""

    id: Id
    count: int = Field(1, ge=1)
    hub_height_m: float | None = Field(None, gt=0, description="Required without a profile [m].")
    power_curve: PowerCurve | None = Field(None, description="Required without a profile.")
    rated_kw: float | None = Field(None, gt=0, description="Rated power of one turbine [kW]; "
                                   "with a profile, the simulated capacity is count x rated_kw "
                                   "(default: the power curve's highest point).")
    profile: GenerationProfile | None = Field(
        None, description="Output profile file used instead of the power curve and the weather.")
    reference_height_m: float = Field(10, gt=0, description="Height of the weather's wind [m] "
                                                             "(10 m in EPW and TMY3 files).")
    roughness_length_m: float | None = Field(None, gt=0, description="Surface roughness [m].")

    @model_validator(mode="after")
    def _model_or_profile(self) -> WindTurbine:
        if self.profile is None:
            missing = [f for f in ("hub_height_m", "power_curve") if getattr(self, f) is None]
            if missing:
                raise ValueError(f"{' and '.join(missing)} required (or give a 'profile' file)")
        elif self.rated_kw is None and self.power_curve is None:
            raise ValueError("a wind profile needs rated_kw (or a power_curve) for the "
                             "simulated capacity")
        return self

    @property
    def capacity_kw(self) -> float:
        """Simulated capacity [kW]: count x rated power (or the power curve's highest point)."""
        rated = self.rated_kw if self.rated_kw is not None else max(self.power_curve.power_kw)
        return self.count * rated


class BatterySpec(_Model):
    """A stationary battery (AC-coupled)."""

    id: Id
    energy_kwh: float = Field(gt=0, description="Nominal energy [kWh].")
    power_kw: float = Field(gt=0, description="Charge and discharge power limit [kW].")
    charge_efficiency: float | None = Field(None, gt=0, le=1)
    discharge_efficiency: float | None = Field(None, gt=0, le=1)
    soc_min_pct: Pct | None = None
    soc_max_pct: Pct | None = None
    initial_soc_pct: Pct | None = None
    self_discharge_pct_per_h: Pct = 0
    cycle_fade_pct_per_efc: Pct = Field(0, description="Capacity lost per full cycle [%].")
    calendar_fade_pct_per_year: Pct = Field(0, description="Capacity lost per year [%].")

    @model_validator(mode="after")
    def _soc_window(self) -> BatterySpec:
        # defaults as twin.energy.storage.Battery: 0 %, 100 %, 50 %
        lo = 0.0 if self.soc_min_pct is None else self.soc_min_pct
        hi = 100.0 if self.soc_max_pct is None else self.soc_max_pct
        start = 50.0 if self.initial_soc_pct is None else self.initial_soc_pct
        if lo > hi:
            raise ValueError(f"soc_min_pct: {lo:g} is above soc_max_pct {hi:g}; expected "
                             f"soc_min_pct <= soc_max_pct")
        if not lo <= start <= hi:
            raise ValueError(f"initial_soc_pct: {start:g} is outside [soc_min_pct, soc_max_pct]"
                             f" = [{lo:g}, {hi:g}]; expected a start within the window")
        return self


class ThermalStorageSpec(_Model):
    """A thermal store: a hot-water tank on the heat bus, or an ice / chilled-water store on the
    cooling bus (``cold_storage``; energy in kWh of cooling)."""

    id: Id
    energy_kwh: float = Field(gt=0, description="Capacity [kWh thermal].")
    power_kw: float = Field(gt=0, description="Charge/discharge limit [kW thermal].")
    loss_pct_per_h: Pct = Field(0, description="Heat loss, share of content per hour [%].")
    initial_soc_pct: Pct = 50


class Boiler(_Model):
    id: Id
    fuel: Literal["natural_gas", "electricity"] = "natural_gas"
    capacity_kw: float = Field(gt=0, description="Heat output limit [kW].")
    efficiency: float = Field(gt=0, le=1.2, description="Heat out / fuel in (LHV) [-].")


GJ_PER_KWH = 0.0036
"""1 kWh = 3.6 MJ = 0.0036 GJ (exact)."""


class PurchasedHeat(_Model):
    """Heat or steam bought across the site fence (district heating, a neighbour's steam): a
    source on the heat bus, metered as heat delivered. There is no default price: give the one
    in your supply contract, per GJ or per kWh of heat."""

    id: Id = "purchased_heat"
    capacity_kw: float | None = Field(
        None, gt=0, description="Contracted heat supply limit [kW]; none = unlimited.")
    price_per_gj: float | None = Field(None, ge=0, description="Heat price [CNY/GJ].")
    price_per_kwh: float | None = Field(None, ge=0, description="Heat price [CNY/kWh].")
    merit_order: Literal["before_boilers", "after_boilers"] = Field(
        "after_boilers", description="Where it sits on the heat bus: after CHP and heat pumps, "
                                     "before the boilers (a primary supply) or after them (a "
                                     "top-up or backup).")

    @model_validator(mode="after")
    def _one_price(self) -> PurchasedHeat:
        if (self.price_per_gj is None) == (self.price_per_kwh is None):
            raise ValueError("give the heat price once, as price_per_gj [CNY/GJ] or "
                             "price_per_kwh [CNY/kWh] (there is no default price)")
        return self

    @property
    def kwh_price(self) -> float:
        """Price per kWh of heat [CNY/kWh] (from ``price_per_gj`` x 0.0036 GJ/kWh if needed)."""
        if self.price_per_kwh is not None:
            return self.price_per_kwh
        assert self.price_per_gj is not None
        return self.price_per_gj * GJ_PER_KWH


class CopTable(_Model):
    """COP at source temperatures, interpolated linearly, held flat beyond the ends."""

    source_temp_c: list[float] = Field(min_length=2)
    cop: list[Annotated[float, Field(gt=0)]] = Field(min_length=2)

    @model_validator(mode="after")
    def _shape(self) -> CopTable:
        if len(self.source_temp_c) != len(self.cop):
            raise ValueError(f"source_temp_c has {len(self.source_temp_c)} points but cop has "
                             f"{len(self.cop)}")
        if any(b <= a for a, b in zip(self.source_temp_c, self.source_temp_c[1:], strict=False)):
            raise ValueError("source_temp_c must increase")
        return self


class HeatPump(_Model):
    """COP = quality_grade x Carnot COP between sink and source, or a constant ``cop``."""

    id: Id
    capacity_kw: float = Field(gt=0, description="Heat output limit [kW].")
    cop: float | None = Field(None, gt=1, description="Constant COP [-].")
    quality_grade: float | None = Field(None, gt=0, le=1, description="Share of Carnot [-].")
    cop_table: CopTable | None = Field(None, description="COP by source temperature (datasheet).")
    sink_temp_c: float = Field(60, description="Supply temperature [degC].")
    source: Literal["ambient", "constant"] = "ambient"
    source_temp_c: float | None = Field(None, description="With source 'constant' [degC].")

    @model_validator(mode="after")
    def _cop_given(self) -> HeatPump:
        given = [x is not None for x in (self.cop, self.quality_grade, self.cop_table)]
        if sum(given) != 1:
            raise ValueError("give exactly one of 'cop', 'quality_grade' or 'cop_table'")
        if self.source == "constant" and self.source_temp_c is None and self.cop is None:
            raise ValueError("source 'constant' needs source_temp_c")
        return self


class CHP(_Model):
    """Combined heat and power, run heat-led: it covers heat first and its electricity offsets
    grid import."""

    id: Id
    capacity_kw: float = Field(gt=0, description="Heat output limit [kW].")
    electric_efficiency: float = Field(gt=0, lt=1, description="Electricity / fuel (LHV) [-].")
    thermal_efficiency: float = Field(gt=0, lt=1, description="Useful heat / fuel (LHV) [-].")

    @model_validator(mode="after")
    def _first_law(self) -> CHP:
        if self.electric_efficiency + self.thermal_efficiency > 1.0:
            raise ValueError(f"electric_efficiency + thermal_efficiency = "
                             f"{self.electric_efficiency + self.thermal_efficiency:g}; expected "
                             f"at most 1 on a lower-heating-value basis")
        return self


class BuildingHvac(_Model):
    """Space heating and cooling of the factory building by the degree-hour method: heat =
    UA x (T_base_heat - T_out) when positive, cooling likewise, supplied electrically with the
    given COPs (an electric load on its own group, ``building_hvac``)."""

    ua_kw_per_k: float = Field(gt=0, description="Envelope + ventilation heat-loss coefficient "
                                                  "[kW/K].")
    t_base_heat_c: float | None = Field(None, description="Heating balance point [degC].")
    t_base_cool_c: float | None = Field(None, description="Cooling balance point [degC].")
    heating_cop: float = Field(gt=0, description="COP of the space heating (heat pump) [-].")
    cooling_cop: float = Field(gt=0, description="COP of the space cooling [-].")


class Chiller(_Model):
    """Electric chiller: COP falls linearly with outdoor temperature from its rated point."""

    id: Id
    capacity_kw: float = Field(gt=0, description="Cooling output limit [kW].")
    cop_rated: float = Field(gt=0, description="COP at t_rated_c [-].")
    slope_per_k: float = Field(0, le=0, description="Relative change of COP per K above "
                                                     "t_rated_c, e.g. -0.02 [1/K].")
    t_rated_c: float = 35.0


class DataCentreIt(_Model):
    """The IT load: power from utilisation, ``peak x (idle + (1 - idle) x u)`` (Barroso and
    Hölzle 2007, :mod:`twin.energy.data_centre`); utilisation by hour of the local day."""

    peak_kw: float = Field(gt=0, description="IT power at full utilisation [kW].")
    idle_fraction: float = Field(ge=0, le=1, description="IT power at zero utilisation as a "
                                 "share of peak [-] (about 0.5 for the servers of Barroso and "
                                 "Hölzle 2007).")
    utilisation_by_hour: list[Annotated[float, Field(ge=0, le=1)]] = Field(
        min_length=24, max_length=24,
        description="Utilisation of the IT capacity in each hour of the day, 0:00..23:00 [-].")
    weekend_utilisation_by_hour: list[Annotated[float, Field(ge=0, le=1)]] | None = Field(
        None, min_length=24, max_length=24,
        description="The same on Saturdays and Sundays [-] (default: the weekday profile).")


class DataCentreUps(_Model):
    """UPS losses, no-load + proportional + square-law (Rasmussen, APC/Schneider White Paper
    113): loss = rated x (no_load + proportional x L + square x L^2), L = IT / rated."""

    rated_kw: float | None = Field(None, gt=0, description="Rated output [kW] (default: the IT "
                                   "peak).")
    no_load_loss_pct: float = Field(ge=0, lt=100, description="Fixed loss, share of rated power "
                                    "[%].")
    proportional_loss_pct: float = Field(ge=0, lt=100, description="Loss proportional to load, "
                                         "share of the load [%].")
    square_loss_pct: float = Field(ge=0, lt=100, description="I^2 R loss at rated load, share of "
                                   "rated power [%].")


class DataCentreDistribution(_Model):
    """Distribution losses downstream of the UPS (PDUs, transformers, cabling): proportional and
    square-law parts, as the UPS, on the same rating."""

    proportional_loss_pct: float = Field(0, ge=0, lt=100, description="Share of the IT load [%].")
    square_loss_pct: float = Field(0, ge=0, lt=100, description="At rated load, share of rated "
                                   "power [%].")


class DataCentreCooling(_Model):
    """Chilled-water cooling of the white space: CRAH fans and pumps per kW of heat, chillers
    with COP = quality_grade x Carnot between the evaporator and the condenser (falls with the
    outdoor temperature, rises with the chilled-water set point), and a water-side economiser in
    series (free cooling below the return temperature minus the approach)."""

    chilled_water_supply_c: float = Field(ge=5, le=30, description="Chilled-water supply set "
                                          "point [degC].")
    chilled_water_delta_t_k: float = Field(gt=0, le=20, description="Return - supply [K].")
    quality_grade: float = Field(gt=0, le=1, description="Chiller COP / Carnot COP [-].")
    evaporator_approach_k: float = Field(2.0, ge=0, description="Refrigerant below the "
                                         "chilled-water supply [K].")
    condenser_approach_k: float = Field(ge=0, description="Condensing above the outdoor air "
                                        "[K] (air-cooled or dry-cooler heat rejection).")
    cop_max: float = Field(12.0, gt=1, description="Cap on the chiller COP at small lift [-].")
    free_cooling: bool = Field(True, description="Water-side economiser present.")
    economiser_approach_k: float = Field(5.0, ge=0, description="Coldest water the economiser "
                                         "makes above the outdoor dry-bulb [K].")
    economiser_kw_per_kw: float = Field(0.0, ge=0, le=1, description="Dry-cooler fans and pumps "
                                        "per kW of cooling the economiser delivers [kW/kW].")
    fans_pumps_kw_per_kw: float = Field(ge=0, le=1, description="CRAH fans and chilled-water "
                                        "pumps per kW of heat removed, always on [kW/kW].")


class DataCentreHeatRecovery(_Model):
    """A heat pump lifting the chilled-water return heat to a district-heating supply
    temperature; the heat is sold (exported), priced per GJ. Its evaporator takes
    H x (1 - 1/COP) of the cooling load off the chillers."""

    capacity_kw: float = Field(gt=0, description="Heat output limit [kW].")
    supply_temp_c: float = Field(gt=20, le=120, description="District-heating supply [degC].")
    quality_grade: float = Field(gt=0, le=1, description="Heat-pump COP / Carnot COP [-].")
    months: list[Annotated[int, Field(ge=1, le=12)]] = Field(
        default_factory=lambda: list(range(1, 13)),
        description="Months the heat is taken (the heating season) [1..12].")
    price_per_gj: float = Field(0, ge=0, description="Price paid for the heat [CNY/GJ].")


class DataCentre(_Model):
    """A data centre (issue 18, computing): IT load by utilisation, UPS and distribution losses,
    chilled-water cooling with free cooling, optional waste-heat recovery. Its electricity is
    reported in the groups ``it``, ``power_losses``, ``cooling`` and ``heat_recovery``, and the
    hourly and annual PUE (site electricity / IT) in ``pue`` (:mod:`twin.energy.data_centre`)."""

    it: DataCentreIt
    ups: DataCentreUps
    distribution: DataCentreDistribution = Field(default_factory=DataCentreDistribution)
    cooling: DataCentreCooling
    heat_recovery: DataCentreHeatRecovery | None = None


class Tariff(_Model):
    """The grid tariff. Energy prices from one source: a time-of-use preset (periods and ratios
    with their sources), your own TOU table (``periods``, ``overlays``, priced by ``ratios`` or
    ``prices_per_kwh``; :mod:`twin.config.own_tariff`) or a ``price_file``; plus what the notices
    do not fix: the flat base price, non-floating adders, demand or capacity charges."""

    preset: str | None = Field(None, description="One of twin.energy.tariff.list_presets(), "
                                                 "e.g. jiangsu_2025.")
    periods: list[TouRow] | None = Field(None, min_length=1, description="Your own TOU table: "
                                         "rows of months, day type, hours and period.")
    overlays: list[TouRow] | None = Field(None, min_length=1, description="Rows replacing the "
                                          "table's period on their hours (critical peaks, "
                                          "holiday deep valleys).")
    prices_per_kwh: dict[PeriodName, NonNegPrice | list[NonNegPrice]] | None = Field(
        None, description="Price of each period of your own table [CNY/kWh], one value or 12 "
                          "monthly values; instead of ratios and flat_price_per_kwh.")
    price_file: PriceFile | None = Field(
        None, json_schema_extra=also_text,
        description="Energy price per hour or interval from a file (file name, or {file, "
                    "timestamp_column, price_column, unit, timezone, sheet}).")
    customer_class: str | None = None
    flat_price_per_kwh: float | list[float] | None = Field(
        None, description="Flat (平段) energy price [CNY/kWh]: one value, or 12 monthly values "
                          "from the grid company's agent-purchase price notices. Required with a "
                          "preset or ratios.")
    non_floating_adder_per_kwh: float = Field(0, ge=0, description="T&D, funds, ... [CNY/kWh].")
    ratios: dict[str, float] | None = Field(None, description="Override the preset's ratios.")
    demand_charge_per_kw_month: float | None = Field(
        None, ge=0, description="Charge on the month's highest settlement-interval import "
                                "[CNY/(kW month)].")
    capacity_charge_per_kva_month: float | None = Field(
        None, ge=0, description="Charge on the contracted transformer capacity [CNY/(kVA month)]"
                                "; the alternative to a demand charge.")
    contracted_kva: float | None = Field(None, gt=0, description="Transformer capacity [kVA].")

    _price_file = field_validator("price_file", mode="before")(as_price_file)

    @model_validator(mode="after")
    def _one_source(self) -> Tariff:
        check_tariff_source(self)
        return self

    @model_validator(mode="after")
    def _basic_charge(self) -> Tariff:
        if self.capacity_charge_per_kva_month is not None and self.contracted_kva is None:
            raise ValueError("capacity_charge_per_kva_month needs contracted_kva")
        if self.capacity_charge_per_kva_month is not None and self.demand_charge_per_kw_month:
            raise ValueError("give a demand charge or a capacity charge, not both (a user chooses "
                             "one basic-charge basis)")
        return self
    holidays: list[dt.date] = Field(default_factory=list,
                                    description="Statutory holidays for holiday periods; with "
                                    "neither list given, the plant calendar's (e.g. CN).")
    workdays: list[dt.date] = Field(default_factory=list,
                                    description="Weekend days worked by decree (调休); with "
                                    "neither list given, the plant calendar's.")
    apply_outside_validity: bool = Field(
        False, description="Price dates outside the preset's validity with its rules anyway "
                           "(e.g. a study of a typical year under today's tariff).")


class Grid(_Model):
    import_limit_kw: float | None = Field(None, gt=0, description="Hard limit [kW]; none = no "
                                                                  "limit.")
    export_limit_kw: float = Field(0, ge=0, description="Hard limit [kW]; 0 = no export.")
    tariff: Tariff | None = None
    feed_in_price_per_kwh: float = Field(0, ge=0, description="Paid for export [CNY/kWh].")
    gas_price_per_kwh: float = Field(0, ge=0, description="Natural gas, LHV [CNY/kWh].")


class RollingLp(_Model):
    """The rolling-horizon LP (policy ``rolling_lp``): every ``resolve_every_h`` the battery plan
    for the next ``horizon_h`` is optimised on forecasts, and the EMS applies it until the next
    solve. Forecast errors are relative, normal, independent per interval (one draw per solve from
    the named streams ``dispatch:rolling_lp:load`` and ``dispatch:rolling_lp:generation``)."""

    horizon_h: float = Field(24, ge=1, le=8784, description="Look-ahead of each solve [h].")
    resolve_every_h: float = Field(4, gt=0, description="Time between solves [h].")
    load_forecast: Literal["persistence_day", "persistence_week", "truth"] = Field(
        "persistence_day", description="Site demand forecast: the same interval a day or a week "
        "earlier as the EMS saw it, or the true demand (from a first run of the same plant and "
        "seed) times (1 + error).")
    load_error_pct: float = Field(0, ge=0, le=100, description="Standard deviation of the "
                                  "relative demand forecast error [%] (on top of persistence).")
    generation_error_pct: float = Field(0, ge=0, le=100, description="Standard deviation of the "
                                        "relative PV and wind forecast error [%].")

    @model_validator(mode="after")
    def _resolve_within_horizon(self) -> RollingLp:
        if self.resolve_every_h > self.horizon_h:
            raise ValueError(f"resolve_every_h = {self.resolve_every_h:g} h is longer than "
                             f"horizon_h = {self.horizon_h:g} h; expected a re-solve within "
                             f"each horizon")
        return self


class Dispatch(_Model):
    """How the EMS runs the batteries each settlement interval."""

    policy: Literal["self_consumption", "tou_arbitrage", "perfect_foresight",
                    "rolling_lp"] = "self_consumption"
    objective: Literal["cost", "emissions", "weighted"] = Field(
        "cost", description="What the LP policies minimise and the perfect-foresight bound is "
        "scored in: energy + demand cost - export revenue, location-based grid emissions, or "
        "cost + carbon_price_per_kg x emissions.")
    carbon_price_per_kg: float = Field(0, ge=0, description="Shadow price of emissions for "
                                       "objective 'weighted' [CNY/kgCO2].")
    bound: bool = Field(False, description="After a run with batteries, solve the perfect-"
                        "foresight LP and report the optimum and the run's regret in kpis "
                        "(a year at 15 min: about 3 s more per run).")
    rolling: RollingLp = Field(default_factory=RollingLp)
    reserve_soc_pct: Pct = Field(0, description="Keep at least this charge for the plant [%].")
    charge_periods: list[str] = Field(default_factory=lambda: ["valley", "deep_valley"])
    discharge_periods: list[str] = Field(default_factory=lambda: ["critical", "peak"])
    grid_charge_kw: float | None = Field(None, ge=0, description="Limit on charging from the grid "
                                                                 "(TOU arbitrage) [kW].")
    protect_peak: bool = Field(
        False, description="With a demand charge: charging the batteries never raises the grid "
        "import above the month's highest so far (at the start of a month: the previous "
        "month's, if higher), whatever the policy asks, so that arbitrage does not buy a higher "
        "demand charge.")
    shave_peak: bool = Field(
        False, description="With a demand charge: protect_peak, and the batteries also "
        "discharge, down to the reserve, to hold the grid import at that peak whatever the "
        "policy asks. Lowers the demand charge where short load peaks set it, but spends charge "
        "that peak-period arbitrage would have used: compare (dispatch_regret, a study).")

    @model_validator(mode="after")
    def _weighted_needs_price(self) -> Dispatch:
        if self.objective == "weighted" and self.carbon_price_per_kg <= 0:
            raise ValueError("objective 'weighted' needs carbon_price_per_kg > 0 [CNY/kgCO2]")
        return self


class Energy(_Model):
    """The plant's energy supply."""

    weather: Weather | None = None
    pv: list[PVArray] = Field(default_factory=list)
    wind: list[WindTurbine] = Field(default_factory=list)
    batteries: list[BatterySpec] = Field(default_factory=list)
    thermal_storage: list[ThermalStorageSpec] = Field(default_factory=list)
    cold_storage: list[ThermalStorageSpec] = Field(default_factory=list)
    boilers: list[Boiler] = Field(default_factory=list)
    purchased_heat: PurchasedHeat | None = None
    heat_pumps: list[HeatPump] = Field(default_factory=list)
    chp: list[CHP] = Field(default_factory=list)
    chillers: list[Chiller] = Field(default_factory=list)
    building_hvac: BuildingHvac | None = None
    data_centre: DataCentre | None = Field(
        None, description="A data centre's IT load, power losses, cooling and heat recovery.")
    grid: Grid = Field(default_factory=Grid)
    dispatch: Dispatch = Field(default_factory=Dispatch)

    @model_validator(mode="after")
    def _weather_if_needed(self) -> Energy:
        needs = (any(a.profile is None for a in self.pv)
                 or any(t.profile is None for t in self.wind)
                 or self.building_hvac is not None
                 or self.data_centre is not None
                 or any(h.source == "ambient" and h.cop is None for h in self.heat_pumps)
                 or any(c.slope_per_k for c in self.chillers))
        if needs and self.weather is None:
            raise ValueError("PV, wind, building HVAC, a data centre, ambient-source heat pumps "
                             "and chillers with a temperature slope need 'weather' (a file or "
                             "'synthetic')")
        return self
