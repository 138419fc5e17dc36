"""Build the energy supply of a run from the plant's ``energy:`` block: weather, onsite generation,
storage, heat and cooling plant, tariff arrays per settlement interval, and the dispatch policy.

Everything here is computed once before the simulation, vectorised over the run's hours and
intervals; the EMS (:mod:`twin.energy.ems`) then only reads arrays by index.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from twin.calendar import SiteClock
from twin.config.energy import Energy, ThermalStorageSpec
from twin.config.errors import SupplyError
from twin.config.plant import ELECTRICITY, HEAT, NATURAL_GAS, Plant
from twin.energy import (
    conversion,
    data_centre,
    dispatch_lp,  # noqa: F401  (registers perfect_foresight, rolling_lp)
    profiles,
    pv,
    tariff,
    weather,
    weather_site,
    wind,
)
from twin.energy.ems import (
    POLICIES,
    DispatchPolicy,
    Supply,
    ThermalUnit,
)
from twin.energy.own_tariff import own_tariff_arrays
from twin.energy.storage import Battery, ThermalStorage
from twin.energy.synthetic_weather import synthetic_weather
from twin.signals import grid_intensity
from twin.workdays import tariff_day_types


@dataclass
class SupplyInfo:
    """What the results need to know about the supply besides the per-interval arrays."""

    pv_kwp: float
    weather_source: str
    tariff_label: str | None
    demand_charge_per_kw_month: float
    capacity_charge_per_month: float
    """Contracted kVA x rate [CNY/month]."""
    gas_price_per_kwh: float
    feed_in_price_per_kwh: float
    purchased_heat_price_per_kwh: float = 0.0
    """Price of purchased heat or steam [CNY/kWh of heat]."""
    heat_export_price_per_kwh: float = 0.0
    """Price paid for the heat a data centre's heat recovery exports [CNY/kWh of heat]."""
    warnings: tuple[str, ...] = ()
    """Plain-language warnings about the inputs (e.g. a weather station far from the site)."""


def _opts(**kwargs: object) -> dict[str, object]:
    """Keyword arguments that were given (None = use the physics function's default)."""
    return {k: v for k, v in kwargs.items() if v is not None}


def _per_interval(hourly: np.ndarray, per_hour: int, n_intervals: int) -> np.ndarray:
    """Hourly values (constant within the hour) to one value per interval."""
    return np.repeat(np.asarray(hourly, dtype=float), per_hour)[:n_intervals]


def _beside(file: str, base_dir: Path | None) -> Path:
    path = Path(file)
    return base_dir / path if not path.is_absolute() and base_dir is not None else path


def load_weather(energy: Energy, plant: Plant, index_h: pd.DatetimeIndex,
                 base_dir: Path | None, solar_position: pd.DataFrame | None = None,
                 warnings: list[str] | None = None) -> tuple[pd.DataFrame, str]:
    """Hourly weather on the run's hours, and a description of where it came from. Synthetic
    weather is made at the site's configured altitude, with ``solar_position`` (the sun at the
    middle of each hour, :func:`twin.energy.pv.solar_position_at`) when given. A file's own
    clock (EPW/TMY3 header, CSV offsets or ``timezone:``) is converted to the site's; a station
    far from the site is reported in ``warnings`` (:mod:`twin.energy.weather_site`)."""
    w = energy.weather
    assert w is not None
    if w.file is not None:
        path = Path(w.file)
        if not path.is_absolute() and base_dir is not None:
            path = base_dir / path
        try:
            frame = weather_site.read_site_weather(path, w.kind, plant.site, w.timezone)
            if warnings is not None:
                warnings.extend(weather_site.site_warnings(frame, plant.site, path.name))
            return weather.align_to_period(frame, index_h), f"file {path.name}"
        except (ValueError, OSError) as exc:
            raise SupplyError(f"energy.weather.file: {exc}") from None
    syn = w.synthetic
    assert syn is not None
    frame = synthetic_weather(
        plant.site.latitude, plant.site.longitude, plant.site.timezone, index_h,
        annual_clearness=syn.annual_clearness, monthly_temp_c=syn.monthly_temp_c,
        daily_temp_swing_c=syn.daily_temp_swing_c, seed=syn.seed,
        altitude_m=plant.site.altitude_m, solar_position=solar_position,
    )
    return frame, f"synthetic (clearness {syn.annual_clearness:g}, seed {syn.seed})"


def build_supply(plant: Plant, clock: SiteClock, horizon_s: float, interval_s: float,
                 base_dir: Path | None = None) -> tuple[Supply, DispatchPolicy, SupplyInfo]:
    """Supply arrays, storage units and dispatch policy for a run of ``plant``."""
    energy = plant.energy
    assert energy is not None
    n_int = max(1, math.ceil(horizon_s / interval_s - 1e-9))
    per_hour = round(3600.0 / interval_s)
    n_hours = -(-n_int // per_hour)
    index_h = clock.index(n_hours, 3600.0)
    index_i = clock.index(n_int, interval_s)
    dt_h = interval_s / 3600.0

    hourly_weather = None
    source = "none"
    site = plant.site
    # the sun at the middle of each hour, computed once (NREL SPA is most of the build time)
    # for the synthetic weather and every PV array; each redoes only the refraction
    sun = None
    modelled_pv = [a for a in energy.pv if a.profile is None]
    notes: list[str] = []
    if energy.weather is not None and (modelled_pv or energy.weather.synthetic is not None):
        sun = pv.solar_position_at(weather.interval_midpoints(index_h), site.latitude,
                                   site.longitude, site.altitude_m)
    if energy.weather is not None:
        hourly_weather, source = load_weather(energy, plant, index_h, base_dir, sun, notes)

    pv_kw = np.zeros(n_hours)
    # age of each hour: years in service at the start plus the whole years run since
    run_years = pv.years_since(index_h, clock.t0)
    for a in modelled_pv:
        pv_kw += pv.pv_ac_kw(
            hourly_weather, site.latitude, site.longitude, altitude_m=site.altitude_m,
            tilt_deg=a.tilt_deg,
            solar_position=sun if hourly_weather.index.equals(index_h) else None,
            azimuth_deg=a.azimuth_deg, dc_kwp=a.dc_kwp,
            years_in_service=a.years_in_service + run_years,
            **_opts(dc_ac_ratio=a.dc_ac_ratio, losses_pct=a.losses_pct,
                    gamma_pdc_per_c=a.gamma_pdc_per_c,
                    degradation_pct_per_year=a.degradation_pct_per_year),
        ).to_numpy()
    wind_kw = np.zeros(n_hours)
    for t in energy.wind:
        if t.profile is not None:
            continue
        v = wind.hub_wind_speed(hourly_weather["wind_speed"].to_numpy(), t.reference_height_m,
                                t.hub_height_m, **_opts(roughness_length_m=t.roughness_length_m))
        wind_kw += t.count * np.asarray(wind.power_curve_kw(
            v, t.power_curve.speed_mps, t.power_curve.power_kw))
    temp_i = (_per_interval(hourly_weather["temp_air"].to_numpy(), per_hour, n_int)
              if hourly_weather is not None else None)

    # --- tariff ---------------------------------------------------------------------------------
    grid = energy.grid
    periods = ["flat"] * n_int
    price = np.zeros(n_int)
    label = None
    if grid.tariff is not None:  # one calendar for production and the tariff
        hol, work = tariff_day_types(plant, clock.start, (index_i[-1]).date())
    if grid.tariff is not None and grid.tariff.preset is None:
        periods, price, label = own_tariff_arrays(grid.tariff, plant.site.timezone, index_i,
                                                  interval_s, base_dir, hol, work)
    elif grid.tariff is not None:
        tf = grid.tariff
        try:
            tou = tariff.load_preset(tf.preset, tf.customer_class, ratios=tf.ratios)
            flat = (tariff.monthly_values(index_i, tf.flat_price_per_kwh)
                    if isinstance(tf.flat_price_per_kwh, list) else tf.flat_price_per_kwh)
            check = not tf.apply_outside_validity
            periods = list(tariff.tou_periods(index_i, tou, hol, workdays=work,
                                              check_validity=check))
            price = np.asarray(tariff.energy_price(
                index_i, tou, flat, tf.non_floating_adder_per_kwh, hol,
                workdays=work, check_validity=check), dtype=float)
        except ValueError as exc:
            text = str(exc).replace("pass check_validity=False",
                                    "set energy.grid.tariff.apply_outside_validity: true")
            raise SupplyError(f"energy.grid.tariff: {text}") from None
        label = tou.label

    # --- storage and conversion -----------------------------------------------------------------
    def frac(pct: float | None) -> float | None:
        return None if pct is None else pct / 100.0

    batteries = [
        Battery(b.energy_kwh, b.power_kw, **_opts(
            charge_efficiency=b.charge_efficiency, discharge_efficiency=b.discharge_efficiency,
            soc_min_frac=frac(b.soc_min_pct), soc_max_frac=frac(b.soc_max_pct),
            initial_soc_frac=frac(b.initial_soc_pct)),
            self_discharge_per_h=b.self_discharge_pct_per_h / 100.0,
            cycle_fade_per_efc=b.cycle_fade_pct_per_efc / 100.0,
            calendar_fade_per_year=b.calendar_fade_pct_per_year / 100.0)
        for b in energy.batteries
    ]
    def store(t: ThermalStorageSpec) -> ThermalStorage:
        return ThermalStorage(t.energy_kwh, t.power_kw, charge_efficiency=1.0,
                              discharge_efficiency=1.0, initial_soc_frac=t.initial_soc_pct / 100,
                              loss_per_h=t.loss_pct_per_h / 100.0)

    thermal = [store(t) for t in energy.thermal_storage]
    cold = [store(t) for t in energy.cold_storage]
    heat_units: list[ThermalUnit] = []
    for c in energy.chp:  # merit order: CHP (heat-led), heat pumps, boilers
        heat_units.append(ThermalUnit(c.id, c.capacity_kw, NATURAL_GAS, c.thermal_efficiency,
                                   power_per_heat=c.electric_efficiency / c.thermal_efficiency))
    for h in energy.heat_pumps:
        source_c = (np.full(n_int, h.source_temp_c) if h.source == "constant" else temp_i)
        if h.cop is not None:
            cop: np.ndarray | float = h.cop
        elif h.cop_table is not None:
            cop = np.asarray(conversion.cop_from_table(source_c, h.cop_table.source_temp_c,
                                                       h.cop_table.cop), dtype=float)
        else:
            cop = np.asarray(conversion.cop_carnot(h.sink_temp_c, source_c, h.quality_grade),
                             dtype=float)
        heat_units.append(ThermalUnit(h.id, h.capacity_kw, ELECTRICITY, cop))
    bought = energy.purchased_heat
    bought_unit = None if bought is None else ThermalUnit(
        bought.id, bought.capacity_kw if bought.capacity_kw is not None else math.inf, HEAT, 1.0)
    if bought_unit is not None and bought.merit_order == "before_boilers":
        heat_units.append(bought_unit)
    for b in energy.boilers:
        carrier = ELECTRICITY if b.fuel == "electricity" else NATURAL_GAS
        heat_units.append(ThermalUnit(b.id, b.capacity_kw, carrier, b.efficiency))
    if bought_unit is not None and bought.merit_order == "after_boilers":
        heat_units.append(bought_unit)
    cool_units = []
    for c in energy.chillers:
        if c.slope_per_k and temp_i is None:
            raise SupplyError(f"energy.chillers: '{c.id}' has slope_per_k but no weather is given")
        cop_c = (np.asarray(conversion.chiller_cop(temp_i, c.cop_rated, c.slope_per_k,
                                                   c.t_rated_c), dtype=float)
                 if c.slope_per_k else c.cop_rated)
        cool_units.append(ThermalUnit(c.id, c.capacity_kw, ELECTRICITY, cop_c))

    hvac_kwh = None
    if energy.building_hvac is not None:
        b = energy.building_hvac
        heat_kw, cool_kw = conversion.hvac_load_kw(
            temp_i, b.ua_kw_per_k, **_opts(t_base_heat_c=b.t_base_heat_c,
                                           t_base_cool_c=b.t_base_cool_c))
        hvac_kw = np.asarray(heat_kw) / b.heating_cop + np.asarray(cool_kw) / b.cooling_cop
        hvac_kwh = hvac_kw * dt_h

    # energy per interval [kWh]; the last interval ends at the horizon and may be shorter
    hours = np.full(n_int, dt_h)
    hours[-1] = (horizon_s - (n_int - 1) * interval_s) / 3600.0
    pv_kwh = _per_interval(pv_kw, per_hour, n_int) * hours
    wind_kwh = _per_interval(wind_kw, per_hour, n_int) * hours
    for field, units, out in (("pv", energy.pv, pv_kwh), ("wind", energy.wind, wind_kwh)):
        for k, u in enumerate(units):
            if u.profile is None:
                continue
            cap = u.dc_kwp if field == "pv" else u.capacity_kw  # type: ignore[union-attr]
            try:
                out += profiles.profile_kwh(
                    u.profile, _beside(u.profile.file, base_dir), cap, site.timezone, clock.t0,
                    n_int, interval_s, horizon_s)
            except (ValueError, OSError) as exc:
                raise SupplyError(f"energy.{field}[{k}].profile.file: {exc}") from None
    if hvac_kwh is not None:
        hvac_kwh = hvac_kwh / dt_h * hours
    dc_loads = dc_kwh = None
    if energy.data_centre is not None:
        dc = energy.data_centre
        u = data_centre.utilisation_profile(dc, np.asarray(index_i.hour),
                                            np.asarray(index_i.day_of_week >= 5))
        dc_loads = data_centre.data_centre_loads(dc, u, temp_i, np.asarray(index_i.month))
        dc_kwh = dc_loads.total_kw * hours

    d = energy.dispatch
    policy = POLICIES[d.policy](charge_periods=d.charge_periods,
                                discharge_periods=d.discharge_periods,
                                grid_charge_kw=d.grid_charge_kw, dispatch=d)
    demand_rate = (grid.tariff.demand_charge_per_kw_month or 0.0) if grid.tariff else 0.0
    supply = Supply(
        interval_s=interval_s, n_intervals=n_int,
        pv_kwh=pv_kwh, wind_kwh=wind_kwh,
        period=periods, price=price, batteries=batteries, reserve_frac=d.reserve_soc_pct / 100.0,
        thermal=thermal, cold=cold, heat_units=heat_units, cool_units=cool_units,
        import_limit_kw=grid.import_limit_kw if grid.import_limit_kw is not None else math.inf,
        export_limit_kw=grid.export_limit_kw, hvac_kwh=hvac_kwh,
        data_centre_kwh=dc_kwh, data_centre=dc_loads, outdoor_temp_c=temp_i,
        storage_charge_periods=frozenset(d.charge_periods),
        grid_ef=grid_intensity(plant, clock, n_int, interval_s),
        month=tariff.month_key(index_i).tolist(),
        peak_guard=(None if not demand_rate else "shave" if d.shave_peak
                    else "protect" if d.protect_peak else None),
    )
    info = SupplyInfo(
        pv_kwp=sum(a.dc_kwp for a in energy.pv), weather_source=source, tariff_label=label,
        demand_charge_per_kw_month=demand_rate,
        capacity_charge_per_month=(grid.tariff.capacity_charge_per_kva_month or 0.0)
        * (grid.tariff.contracted_kva or 0.0) if grid.tariff else 0.0,
        gas_price_per_kwh=grid.gas_price_per_kwh, feed_in_price_per_kwh=grid.feed_in_price_per_kwh,
        purchased_heat_price_per_kwh=bought.kwh_price if bought is not None else 0.0,
        heat_export_price_per_kwh=(energy.data_centre.heat_recovery.price_per_gj * 0.0036
                                   if energy.data_centre is not None
                                   and energy.data_centre.heat_recovery is not None else 0.0),
        warnings=tuple(notes),
    )
    return supply, policy, info
