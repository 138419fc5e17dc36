"""Energy balance of the in-the-loop EMS, checked from the outside on random small plants.

The truth used here is independent of the EMS code:

* the per-group electricity columns come from the meter's binning of power change points (and
  the equipment table from its per-machine totals), a different code path from the running site
  meter the EMS reads, so ``demand == groups + energy plant (+ building HVAC)`` is a real check;
* the heat balance is closed from the conversion physics in the config, one unit of each kind
  at most: CHP heat = CHP electricity x eta_th / eta_el; heat-pump heat = (energy-plant
  electricity - served cooling / chiller COP) x COP; boiler heat = (fuel - plant gas - CHP gas)
  x efficiency; together they supply the heat demand less the unmet heat plus what went into
  the loss-free thermal store (its level difference);
* limits (SOC window, power ratings, import and export limits, reserve) come from the config, and
  the SOC follows E_k = E_{k-1} + eta_c charge - discharge / eta_d (bounds with two batteries or
  self-discharge);
* hourly values are re-aggregated from the intervals with pandas ``groupby`` on the hour;
* TOU periods and prices are labelled by hand from the provincial notices (the spans of
  :func:`jiangsu_two_part_periods`, and the day tables written out in the tariff tests below:
  a half-hour boundary, a Saturday, a holiday), never with :mod:`twin.energy.tariff`, the module
  the run uses; month peaks and demand charges are worked out from the interval table by hand.

Per interval (kWh), to 1e-9 relative (an absolute tolerance of 1e-9 x the magnitudes)::

    pv + wind + chp - curtailed + discharge + import + unserved == demand + charge + export
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from conftest import expo, make_plant
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import twin

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "plant_configs" / "demo_plant.yaml"
REL = 1e-9
MONTHLY_TEMP_C = [4, 6, 10, 16, 21, 25, 29, 28, 24, 18, 12, 6]


def tol(*terms: Any) -> np.ndarray | float:
    """Absolute tolerance of a sum of terms: 1e-9 of their magnitude (at least 1e-9 kWh)."""
    scale = sum(np.abs(np.asarray(t, dtype=float)) for t in terms)
    return REL * np.maximum(1.0, scale)


def interval_hours(result: twin.Result) -> np.ndarray:
    """Length of every settlement interval [h]; the last one ends at the horizon."""
    iv = result.intervals
    step_s = result.kpis["settlement_interval_min"] * 60.0
    horizon_s = result.kpis["simulated_days"] * 86400.0
    n = len(iv)
    hours = np.full(n, step_s / 3600.0)
    hours[-1] = (horizon_s - (n - 1) * step_s) / 3600.0
    assert hours[-1] > 0
    return hours


def col(iv: pd.DataFrame, name: str) -> np.ndarray:
    return iv[name].to_numpy(dtype=float) if name in iv else np.zeros(len(iv))


# ------------------------------------------------------------------------------------------
# The invariants, for any plant with an energy block
# ------------------------------------------------------------------------------------------

def check_invariants(result: twin.Result, plant: twin.Plant) -> None:
    """Every invariant of DESIGN.md that the interval table can show, for ``plant``."""
    assert plant.energy is not None
    h = interval_hours(result)
    for name in result.intervals.columns:  # every flow is finite and never negative
        if name.endswith("_kwh"):
            v = col(result.intervals, name)
            assert np.isfinite(v).all(), name
            assert (v >= -tol(v)).all(), f"{name} negative: {v.min()}"
    check_electricity(result, plant, h)
    check_batteries(result, plant, h)
    check_heat_and_cooling(result, plant, h)
    check_hourly(result)
    check_kpis(result)


def check_electricity(result: twin.Result, plant: twin.Plant, h: np.ndarray) -> None:
    """Balance per interval, demand from the meter's groups, grid limits, curtailment."""
    energy, iv = plant.energy, result.intervals
    demand, pv, wind = col(iv, "electricity_demand_kwh"), col(iv, "pv_kwh"), col(iv, "wind_kwh")
    chp, curt = col(iv, "chp_kwh"), col(iv, "curtailed_kwh")
    charge, dis = col(iv, "battery_charge_kwh"), col(iv, "battery_discharge_kwh")
    imp, exp = col(iv, "grid_import_kwh"), col(iv, "grid_export_kwh")
    unserved = col(iv, "unserved_kwh")

    # supply == use, per interval
    supply = pv + wind + chp - curt + dis + imp + unserved
    use = demand + charge + exp
    err = np.abs(supply - use)
    bad = err > tol(pv, wind, chp, curt, dis, imp, unserved, demand, charge, exp)
    assert not bad.any(), (f"electricity balance broken at {iv.index[bad][:3].tolist()}: "
                           f"{err[bad][:3]}")

    # demand == plant groups (binned by the meter) + energy plant (+ building HVAC)
    groups = [c for c in iv.columns if c.startswith("electricity_kwh:")]
    np.testing.assert_allclose(demand, iv[groups].sum(axis=1), rtol=REL, atol=1e-9)
    supply_side = ("electricity_kwh:energy_plant", "electricity_kwh:building_hvac")
    plant_el = iv[[c for c in groups if c not in supply_side]].sum(axis=1).to_numpy()
    conv_el = col(iv, "electricity_kwh:energy_plant")
    hvac_el = col(iv, "electricity_kwh:building_hvac")
    np.testing.assert_allclose(demand, plant_el + conv_el + hvac_el, rtol=REL, atol=1e-9)
    # ... and the plant's share is what the equipment table says each machine used
    assert plant_el.sum() == pytest.approx(result.equipment["electricity_kwh"].sum(), rel=REL,
                                           abs=1e-9)
    if energy.building_hvac is None:
        assert (hvac_el == 0).all()
    step_h = result.kpis["settlement_interval_min"] / 60.0
    np.testing.assert_allclose(col(iv, "electricity_demand_kw")[:-1], demand[:-1] / step_h,
                               rtol=1e-12)

    # the grid connection
    lim_in, lim_out = energy.grid.import_limit_kw, energy.grid.export_limit_kw
    if lim_in is not None:
        assert (imp <= lim_in * h + tol(lim_in * h)).all(), "import above the connection limit"
        at_import_limit = np.abs(imp - lim_in * h) <= tol(imp, lim_in * h)
        assert (at_import_limit | (unserved <= tol(unserved))).all(), \
            "unserved below the import limit"
    else:
        assert (unserved == 0).all(), "unserved energy without an import limit"
    assert (exp <= lim_out * h + tol(lim_out * h)).all(), "export above its limit"
    if lim_out == 0:
        assert (exp == 0).all()
    assert not ((imp > tol(imp)) & (exp > tol(exp))).any(), "import and export at once"
    at_export_limit = np.abs(exp - lim_out * h) <= tol(exp, lim_out * h)
    assert (at_export_limit | (curt <= tol(curt))).all(), "curtailed below the export limit"
    curtailing, short = curt > tol(curt), unserved > tol(unserved)
    assert not (curtailing & short).any()
    assert (imp[curtailing] == 0).all(), "curtailed while importing"
    assert (exp[short] == 0).all() and (charge[short] == 0).all(), \
        "exporting or charging while load is unserved"
    periods = _periods(result, plant)
    if "tou_period" in iv and periods is not None:
        np.testing.assert_array_equal(iv["tou_period"].to_numpy().astype(str), periods)


def check_batteries(result: twin.Result, plant: twin.Plant, h: np.ndarray) -> None:
    """SOC window, power ratings, storage bookkeeping, and what each policy may do."""
    energy, iv = plant.energy, result.intervals
    charge, dis = col(iv, "battery_charge_kwh"), col(iv, "battery_discharge_kwh")
    soc, curt = col(iv, "battery_soc_kwh"), col(iv, "curtailed_kwh")
    imp, exp = col(iv, "grid_import_kwh"), col(iv, "grid_export_kwh")
    unserved = col(iv, "unserved_kwh")
    onsite = col(iv, "pv_kwh") + col(iv, "wind_kwh") + col(iv, "chp_kwh")
    net_load = col(iv, "electricity_demand_kwh") - onsite  # from storage and grid (+)
    bats = energy.batteries
    if not bats:
        assert (charge == 0).all() and (dis == 0).all() and (soc == 0).all()
        return

    def pct(value: float | None, default: float) -> float:
        return (default if value is None else value) / 100

    e_nom = sum(b.energy_kwh for b in bats)
    lo = sum(pct(b.soc_min_pct, 0) * b.energy_kwh for b in bats)
    hi = sum(pct(b.soc_max_pct, 100) * b.energy_kwh for b in bats)
    soc0 = sum(pct(b.initial_soc_pct, 50) * b.energy_kwh for b in bats)
    t = tol(e_nom)
    assert (soc >= 0).all(), "negative state of charge"
    assert (soc >= lo - t).all(), f"SOC below its minimum {lo}: {soc.min()}"
    assert (soc <= hi + t).all(), f"SOC above its maximum {hi}: {soc.max()}"
    p_max = sum(b.power_kw for b in bats)
    assert (charge <= p_max * h + tol(p_max * h)).all(), "charging above the power rating"
    assert (dis <= p_max * h + tol(p_max * h)).all(), "discharging above the power rating"
    assert not ((charge > 0) & (dis > 0)).any(), "charge and discharge in one interval"

    # storage side: E_k = E_{k-1} (1 - sigma)^dt + eta_c charge - discharge / eta_d, bounded
    # by the extreme efficiencies when two batteries differ (and by the SOC floor, which the
    # standing loss never passes)
    eta_c = [0.95 if b.charge_efficiency is None else b.charge_efficiency for b in bats]
    eta_d = [0.95 if b.discharge_efficiency is None else b.discharge_efficiency for b in bats]
    prev = np.concatenate(([soc0], soc[:-1]))
    sigma = max(b.self_discharge_pct_per_h for b in bats) / 100
    upper = prev + max(eta_c) * charge - dis / max(eta_d)
    lower = prev * (1 - sigma) ** h + min(eta_c) * charge - dis / min(eta_d)
    t_k = tol(prev, charge, dis)
    assert (soc <= upper + t_k).all(), "more stored than the efficiencies allow"
    assert (soc >= np.minimum(lower, lo) - t_k).all(), "energy vanished from the batteries"
    if len(bats) == 1 and sigma == 0:
        np.testing.assert_allclose(soc, upper, rtol=0, atol=float(np.max(t_k)))

    # never discharge into export, nor beyond the site's net load
    assert (exp[dis > 0] <= tol(dis, exp)[dis > 0]).all(), "battery discharged into export"
    assert (dis <= np.maximum(net_load, 0) + tol(dis, net_load)).all()
    surplus = np.maximum(-net_load, 0)
    periods = _periods(result, plant)
    d = energy.dispatch
    lim_in = energy.grid.import_limit_kw
    at_import_limit = (np.abs(imp - lim_in * h) <= tol(imp, lim_in * h) if lim_in is not None
                       else np.zeros(len(iv), dtype=bool))
    if d.policy == "self_consumption":
        assert (charge <= surplus + tol(charge, surplus)).all(), "charged from the grid"
    else:
        assert periods is not None, "a TOU policy needs the periods labelled by hand"
        cheap = np.isin(periods, list(d.charge_periods))
        assert (charge[~cheap] <= (surplus + tol(charge, surplus))[~cheap]).all(), \
            "charged from the grid outside the charging periods"
        if d.grid_charge_kw is not None:
            g = d.grid_charge_kw * h
            assert (charge <= surplus + g + tol(charge, surplus, g)).all()
        dear = np.isin(periods, list(d.discharge_periods))
        forced = (dis > 0) & ~dear  # only the import limit may force a discharge off-peak,
        held = _at_month_peak(iv, imp / h) if d.shave_peak and _demand_charged(plant) else \
            np.zeros(len(iv), dtype=bool)  # or shave_peak holding the month's peak
        assert (at_import_limit | held)[forced].all(), "discharged outside the discharge periods"
    if len(bats) == 1:  # (with two, one may be full while the other is at its rating)
        b = bats[0]
        full, empty = soc >= hi - t, soc <= lo + t
        rated = b.power_kw * h - tol(b.power_kw * h)
        stuck = (curt > tol(curt)) & ~(full | (charge >= rated))
        assert not stuck.any(), ("surplus curtailed while the battery had room at "
                                 f"{iv.index[stuck][:3].tolist()} "
                                 f"(periods {periods[stuck][:3].tolist()})")
        short = (unserved > tol(unserved)) & ~(empty | (dis >= rated))
        assert not short.any(), "load unserved while the battery held energy"

    # the reserve holds until the import limit first forces the batteries below it (with two
    # batteries and self-discharge, one may sink below it standing by while the other works)
    reserve = d.reserve_soc_pct / 100
    if reserve > 0 and (len(bats) == 1 or sigma == 0) and all(
            pct(b.initial_soc_pct, 50) >= reserve for b in bats):
        forced_at = np.flatnonzero(at_import_limit & (dis > 0))
        stop = forced_at[0] if len(forced_at) else len(iv)
        working = dis[:stop] > 0
        below = soc[:stop][working] < reserve * e_nom - t
        assert not below.any(), (f"discharged below the reserve {reserve * e_nom:g} kWh: "
                                 f"{soc[:stop][working][below][:3]}")


def check_kpis(result: twin.Result) -> None:
    """Flat KPIs are the sums and ratios of the interval columns."""
    iv, k = result.intervals, result.kpis
    for key, column in (("grid_import_kwh", "grid_import_kwh"),
                        ("grid_export_kwh", "grid_export_kwh"), ("pv_kwh", "pv_kwh"),
                        ("wind_kwh", "wind_kwh"), ("curtailed_kwh", "curtailed_kwh"),
                        ("unserved_kwh", "unserved_kwh"), ("heat_unmet_kwh", "heat_unmet_kwh"),
                        ("battery_charge_kwh", "battery_charge_kwh"),
                        ("battery_discharge_kwh", "battery_discharge_kwh"),
                        ("electricity_kwh", "electricity_demand_kwh")):
        assert k[key] == pytest.approx(col(iv, column).sum(), rel=1e-9, abs=1e-8), key
    demand = col(iv, "electricity_demand_kwh").sum()
    onsite = sum(col(iv, c).sum() for c in ("pv_kwh", "wind_kwh", "chp_kwh"))
    used = onsite - col(iv, "grid_export_kwh").sum() - col(iv, "curtailed_kwh").sum()
    met = demand - col(iv, "grid_import_kwh").sum() - col(iv, "unserved_kwh").sum()
    if demand > 1e-6:  # met on site, directly or via storage; CHP counts (not as renewable)
        assert k["self_sufficiency"] == pytest.approx(max(met, 0.0) / demand, rel=1e-8,
                                                      abs=1e-9)
        assert -1e-9 <= k["self_sufficiency"] <= 1 + 1e-9
        # met on site = onsite used directly + battery discharge (which may include the initial
        # charge) - what went into the battery
        discharge = col(iv, "battery_discharge_kwh").sum()
        charge = col(iv, "battery_charge_kwh").sum()
        assert met == pytest.approx(used + discharge - charge, rel=1e-8, abs=1e-6)
    if col(iv, "unserved_kwh").sum() > 1e-6:
        assert any("could not be supplied" in w for w in k["warnings"])
    step_h = k["settlement_interval_min"] / 60.0
    assert k["peak_grid_import_kw"] == pytest.approx(col(iv, "grid_import_kwh").max() / step_h,
                                                     rel=1e-9, abs=1e-9)
    assert k["energy_cost"] == pytest.approx(
        float((iv["grid_import_kwh"] * iv["price_per_kwh"]).sum()), rel=1e-9, abs=1e-9)
    assert k["cost_total"] == pytest.approx(
        k["energy_cost"] + k["demand_cost"] + k["capacity_cost"] + k["gas_cost"]
        - k["export_revenue"], abs=1e-8)


def _demand_charged(plant: twin.Plant) -> bool:
    tf = plant.energy.grid.tariff
    return bool(tf is not None and tf.demand_charge_per_kw_month)


def _at_month_peak(iv: pd.DataFrame, import_kw: np.ndarray) -> np.ndarray:
    """Intervals whose import is at or above the peak that ``shave_peak`` holds, the month's
    highest import before the interval or the previous month's if higher (months of the site's
    local calendar, as the EMS counts them): a battery holding that peak discharges no more than
    brings the import down to it (it stays above when the battery cannot give more)."""
    month = np.asarray(iv.index.strftime("%Y-%m"))
    held = np.zeros(len(iv), dtype=bool)
    last = 0.0
    for m in np.unique(month):
        sel = np.flatnonzero(month == m)
        kw = import_kw[sel]
        before = np.concatenate([[0.0], np.maximum.accumulate(kw)[:-1]])
        cap = np.maximum(before, last)
        held[sel] = kw >= cap - 1e-9 * np.maximum(cap, 1.0)
        last = float(kw.max())
    return held


# Jiangsu TOU periods of two-part users (苏发改价格发〔2025〕426号, 2025-04-30, the rows of
# twin/data/tariffs/periods.csv that cite it), written out by hand as (start hour, end hour, period)
# spans of the local day: summer and winter (Jan-Feb, Jun-Aug, Dec) and spring and autumn.
JIANGSU_SUMMER_WINTER = [(0, 6, "valley"), (6, 11, "flat"), (11, 13, "valley"), (13, 14, "flat"),
                         (14, 22, "peak"), (22, 24, "flat")]
JIANGSU_SPRING_AUTUMN = [(0, 2, "flat"), (2, 6, "valley"), (6, 10, "flat"), (10, 14, "valley"),
                         (14, 15, "flat"), (15, 22, "peak"), (22, 24, "flat")]


def jiangsu_two_part_periods(index: pd.DatetimeIndex) -> np.ndarray:
    """TOU period of every interval start under Jiangsu's two-part tariff (no holiday or
    critical overlays for this class), from the hand-written spans above."""
    out = np.empty(len(index), dtype=object)
    hour = index.hour + index.minute / 60
    for i, (m, h) in enumerate(zip(index.month, hour, strict=True)):
        spans = JIANGSU_SUMMER_WINTER if m in (1, 2, 6, 7, 8, 12) else JIANGSU_SPRING_AUTUMN
        out[i] = next(p for a, b, p in spans if a <= h < b)
    return out.astype(str)


def _periods(result: twin.Result, plant: twin.Plant) -> np.ndarray | None:
    """TOU period of every interval, labelled by hand: 'flat' without a tariff, the Jiangsu
    two-part spans (which have no holiday or rest-day periods) for that tariff, None for any
    other (those tests label their periods themselves)."""
    tf = plant.energy.grid.tariff
    if tf is None:
        return np.full(len(result.intervals), "flat")
    if (tf.preset, tf.customer_class) != ("jiangsu_2025", "two_part"):
        return None
    return jiangsu_two_part_periods(result.intervals.index)


def check_heat_and_cooling(result: twin.Result, plant: twin.Plant, h: np.ndarray) -> None:
    """Heat and cooling balances closed from the conversion physics (see module doc)."""
    energy = plant.energy
    iv = result.intervals
    n = len(iv)
    heat, unmet = col(iv, "heat_demand_kwh"), col(iv, "heat_unmet_kwh")
    cool, cool_unmet = col(iv, "cooling_demand_kwh"), col(iv, "cooling_unmet_kwh")
    assert (unmet <= heat + tol(heat)).all() and (cool_unmet <= cool + tol(cool)).all()
    chps, hps, boilers = energy.chp, energy.heat_pumps, energy.boilers
    chillers, tes = energy.chillers, energy.thermal_storage
    assert max(len(chps), len(hps), len(boilers), len(chillers), len(tes)) <= 1
    assert all(b.fuel == "natural_gas" for b in boilers)
    assert all(c.slope_per_k == 0 for c in chillers) and all(p.cop for p in hps)
    assert all(t.loss_pct_per_h == 0 for t in tes)

    # cooling: chillers at constant COP, up to their capacity
    served_cool = cool - cool_unmet
    chiller_el = served_cool / chillers[0].cop_rated if chillers else np.zeros(n)
    if chillers:
        cap = chillers[0].capacity_kw * h
        assert (served_cool <= cap + tol(cap)).all()
        short = cool_unmet > tol(cool)
        assert np.allclose(served_cool[short], cap[short], rtol=REL, atol=1e-9)
    else:
        assert np.allclose(cool_unmet, cool, rtol=REL, atol=1e-12)

    # heat out of each unit, from the energy it drew (merit order: CHP, heat pump, boiler)
    conv_el = col(iv, "electricity_kwh:energy_plant")
    plant_gas = iv[[c for c in iv.columns if c.startswith("natural_gas_kwh:")]].sum(axis=1)
    conv_gas = col(iv, "fuel_kwh") - plant_gas.to_numpy()
    chp_el = col(iv, "chp_kwh")
    units: list[tuple[np.ndarray, np.ndarray]] = []  # (heat out, capacity) [kWh]
    chp_gas = np.zeros(n)
    if chps:
        c = chps[0]
        chp_heat = chp_el * c.thermal_efficiency / c.electric_efficiency
        chp_gas = chp_heat / c.thermal_efficiency
        units.append((chp_heat, c.capacity_kw * h))
    else:
        assert (chp_el == 0).all()
    if hps:
        units.append(((conv_el - chiller_el) * hps[0].cop, hps[0].capacity_kw * h))
    else:
        np.testing.assert_allclose(conv_el, chiller_el, rtol=1e-9, atol=1e-9)
    if boilers:
        units.append(((conv_gas - chp_gas) * boilers[0].efficiency, boilers[0].capacity_kw * h))
    else:
        np.testing.assert_allclose(conv_gas, chp_gas, rtol=1e-9, atol=1e-9)
    level = col(iv, "thermal_storage_kwh")
    if tes:
        t = tes[0]
        level0 = t.initial_soc_pct / 100 * t.energy_kwh
        d_level = np.diff(np.concatenate(([level0], level)))
        assert (level >= -tol(t.energy_kwh)).all()
        assert (level <= t.energy_kwh + tol(t.energy_kwh)).all()
        assert (np.abs(d_level) <= t.power_kw * h + tol(t.power_kw * h)).all()
    else:
        assert (level == 0).all()
        d_level = np.zeros(n)
    # heat out of the plant == heat used + heat stored
    supplied = sum((out for out, _ in units), np.zeros(n))
    need = heat - unmet + d_level
    err = np.abs(supplied - need)
    bad = err > 10 * tol(supplied, heat, d_level)
    assert not bad.any(), f"heat balance broken at {iv.index[bad][:3].tolist()}: {err[bad][:3]}"
    for out, cap in units:
        assert (out >= -10 * tol(cap)).all()
        assert (out <= cap + 10 * tol(cap)).all(), "heat unit above its capacity"
    # heat is unmet only when every unit is at capacity and the store could not give more
    short = unmet > tol(heat)
    for out, cap in units:
        assert np.allclose(out[short], cap[short], rtol=1e-8, atol=1e-8), \
            "heat unmet while a heat unit had spare capacity"
    if tes:
        t = tes[0]
        gave = -d_level
        store_done = (level <= tol(t.energy_kwh)) | (gave >= t.power_kw * h - tol(t.power_kw))
        stuck = short & ~store_done
        assert not stuck.any(), ("heat unmet while the thermal store held heat at "
                                 f"{iv.index[stuck][:3].tolist()}")


def check_hourly(result: twin.Result) -> None:
    """Every hourly column is the sum (energy), last value (levels) or mean (prices) of its
    intervals, re-aggregated here with pandas."""
    iv, hourly = result.intervals, result.hourly
    hour = iv.index.floor("h")
    grouped = iv.groupby(hour)
    assert len(hourly) == grouped.ngroups
    for name in hourly.columns:
        if name == "units_completed":
            continue
        if name in ("battery_soc_kwh", "thermal_storage_kwh"):
            expected = grouped[name].last()
        elif name in ("price_per_kwh", "grid_ef_kg_per_kwh"):
            expected = grouped[name].mean()
        else:
            expected = grouped[name].sum()
        np.testing.assert_allclose(hourly[name].to_numpy(), expected.to_numpy(), rtol=1e-12,
                                   atol=1e-9, err_msg=name)


# ------------------------------------------------------------------------------------------
# Random small plants with random energy blocks
# ------------------------------------------------------------------------------------------

def _num(lo: float, hi: float) -> st.SearchStrategy[float]:
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False).map(lambda x: round(x, 3))


@st.composite
def energy_plants(draw) -> tuple[twin.Plant, dict[str, Any]]:
    """A one-machine plant with base loads, heat and cooling, and a random energy block."""
    idle = draw(_num(0, 40))
    proc = draw(_num(idle, 150))
    power: dict[str, Any] = {"electricity": {"idle": idle, "processing": proc}}
    heat_peak = cool_peak = 0.0
    if draw(st.booleans()):
        hi, hp = draw(_num(0, 30)), draw(_num(0, 80))
        power["heat"] = {"idle": hi, "processing": hp}
        heat_peak += max(hi, hp)
    if draw(st.booleans()):
        ci, cp = draw(_num(0, 20)), draw(_num(0, 40))
        power["cooling"] = {"idle": ci, "processing": cp}
        cool_peak += max(ci, cp)
    base_el = draw(_num(0, 120))
    base = [{"id": "base", "group": "facility", "power_kw": {"electricity": base_el}}]
    if draw(st.booleans()):
        base_heat = draw(_num(0, 60))
        base.append({"id": "space_heat", "group": "facility",
                     "power_kw": {"heat": base_heat}, "schedule": "always"})
        heat_peak += base_heat
    mean_s = draw(st.sampled_from([300, 900, 2400]))

    # --- energy block ---------------------------------------------------------------------
    e: dict[str, Any] = {}
    kwp = draw(st.sampled_from([0, 50, 200, 600, 1000]))
    has_wind = draw(st.booleans())
    if kwp or has_wind:
        e["weather"] = {"synthetic": {"annual_clearness": draw(_num(0.3, 0.75)),
                                      "monthly_temp_c": MONTHLY_TEMP_C,
                                      "daily_temp_swing_c": 6, "seed": draw(st.integers(0, 9))}}
    if (kwp or has_wind) and draw(st.booleans()):
        e["building_hvac"] = {"ua_kw_per_k": draw(_num(0.5, 5)), "heating_cop": 3,
                              "cooling_cop": 4}
    if kwp:
        e["pv"] = [{"id": "roof", "dc_kwp": kwp, "tilt_deg": draw(_num(0, 40)),
                    "azimuth_deg": draw(st.sampled_from([120, 180, 240]))}]
    if has_wind:
        e["wind"] = [{"id": "wt", "hub_height_m": 30, "count": draw(st.integers(1, 3)),
                      "power_curve": {"speed_mps": [3, 6, 9, 12, 25],
                                      "power_kw": [0, 10, 40, 60, 60]}}]
    n_bat = draw(st.integers(0, 2))
    bats = []
    for k in range(n_bat):
        lo = draw(_num(0, 30))
        hi = draw(_num(70, 100))
        bats.append({
            "id": f"bess{k}", "energy_kwh": draw(_num(10, 400)), "power_kw": draw(_num(5, 200)),
            "charge_efficiency": draw(_num(0.8, 1)), "discharge_efficiency": draw(_num(0.8, 1)),
            "soc_min_pct": lo, "soc_max_pct": hi, "initial_soc_pct": draw(_num(lo, hi)),
            "self_discharge_pct_per_h": draw(st.sampled_from([0, 0, 0.5])),
        })
    if bats:
        e["batteries"] = bats
    heat_ok = draw(st.booleans())  # heat plant sized for the peak, or possibly too small
    # equipment that draws heat (cooling) needs a heat unit (chiller); base loads do not
    units = draw(st.sampled_from(["hp", "boiler", "both"])) if "heat" in power or draw(
        st.booleans()) else "none"
    cap = (lambda share: round(heat_peak * share + 1, 3)) if heat_ok else (
        lambda share: draw(_num(1, 40)))
    if units in ("hp", "both"):
        e["heat_pumps"] = [{"id": "hp", "capacity_kw": cap(1.0 if units == "hp" else 0.5),
                            "cop": draw(_num(2, 5))}]
    if units in ("boiler", "both"):
        e["boilers"] = [{"id": "boiler", "capacity_kw": cap(1.0),
                         "efficiency": draw(_num(0.8, 1.0))}]
    if units != "none" and draw(st.booleans()):  # a heat-led CHP first in the merit order
        eta_el = draw(_num(0.25, 0.4))
        e["chp"] = [{"id": "chp", "capacity_kw": draw(_num(1, 60)), "electric_efficiency": eta_el,
                     "thermal_efficiency": draw(_num(0.3, 0.95 - eta_el))}]
    if draw(st.booleans()):
        e["thermal_storage"] = [{"id": "tank", "energy_kwh": draw(_num(10, 300)),
                                 "power_kw": draw(_num(5, 100)),
                                 "initial_soc_pct": draw(_num(0, 100))}]
    cool_ok = draw(st.booleans())
    if "cooling" in power:
        e["chillers"] = [{"id": "chiller",
                          "capacity_kw": round(cool_peak + 1, 3) if cool_ok else draw(_num(1, 20)),
                          "cop_rated": draw(_num(2, 6))}]
    grid: dict[str, Any] = {}
    if draw(st.integers(0, 2)):  # a limit in two cases of three, often below the peak load
        peak_el = max(idle, proc) + base_el
        grid["import_limit_kw"] = max(1.0, round(peak_el * draw(_num(0.2, 1.5)), 3))
    grid["export_limit_kw"] = draw(st.sampled_from([0, 10, 100, 2000]))
    grid["gas_price_per_kwh"] = 0.35
    grid["feed_in_price_per_kwh"] = draw(st.sampled_from([0, 0.3]))
    if draw(st.booleans()):
        grid["tariff"] = {"preset": "jiangsu_2025", "customer_class": "two_part",
                          "flat_price_per_kwh": draw(_num(0.3, 0.8)),
                          "non_floating_adder_per_kwh": 0.2,
                          "demand_charge_per_kw_month": draw(st.sampled_from([0, 40]))}
    e["grid"] = grid
    grid_charge = draw(st.one_of(st.none(), _num(0, 150)))
    e["dispatch"] = {"policy": draw(st.sampled_from(["self_consumption", "tou_arbitrage"])),
                     "reserve_soc_pct": draw(st.sampled_from([0, 20, 40])),
                     "protect_peak": draw(st.booleans()), "shave_peak": draw(st.booleans()),
                     **({"grid_charge_kw": grid_charge} if grid_charge is not None else {})}
    interval = draw(st.sampled_from([15, 30, 60]))
    plant = make_plant(
        [{"id": "m", "equipment": "machine", "process_time": expo(mean_s)}],
        equipment_types=[{"id": "machine", "power_kw": power}],
        interarrival=expo(mean_s * 1.3),
        base_loads=base,
        simulation={"settlement_interval_min": interval},
        energy=e,
    )
    run = {"days": draw(st.sampled_from([1, 2, 3])),
           "start": draw(st.sampled_from(["2026-01-05", "2026-03-02", "2026-07-06", "2026-04-29"])),
           "seed": draw(st.integers(0, 1000)),
           "heat_ok": heat_ok and units != "none", "cool_ok": cool_ok and "chillers" in e}
    return plant, run


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(energy_plants())
def test_conservation_and_limits_on_random_plants(case):
    plant, run = case
    result = twin.simulate(plant, days=run["days"], start=run["start"], seed=run["seed"])
    check_invariants(result, plant)
    iv = result.intervals
    e = plant.energy
    for what, hit in (("batteries", bool(e.batteries)), ("tou_arbitrage",
                      e.dispatch.policy == "tou_arbitrage"), ("tariff", e.grid.tariff is not None),
                      ("pv", bool(e.pv)), ("thermal storage", bool(e.thermal_storage)),
                      ("chp", bool(e.chp)), ("unserved", iv["unserved_kwh"].sum() > 0),
                      ("curtailed", iv["curtailed_kwh"].sum() > 0),
                      ("exported", iv["grid_export_kwh"].sum() > 0),
                      ("heat unmet", iv["heat_unmet_kwh"].sum() > 0),
                      ("cooling unmet", iv["cooling_unmet_kwh"].sum() > 0)):
        event(f"{what}: {hit}")
    if run["heat_ok"]:  # heat plant sized for the peak: nothing unmet
        assert (iv["heat_unmet_kwh"] == 0).all()
    if run["cool_ok"]:
        assert (iv["cooling_unmet_kwh"] == 0).all()
    assert len(iv) == run["days"] * 24 * 60 // plant.simulation.settlement_interval_min


def test_partial_last_interval_keeps_the_balance():
    """A run that ends inside a settlement interval (1.3 days with 60-min intervals, so the
    last one lasts 12 min) keeps every invariant; the limits apply to the 12 minutes."""
    plant = make_plant(
        [{"id": "m", "equipment": "machine", "process_time": expo(600)}],
        base_loads=[{"id": "base", "group": "facility", "power_kw": {"electricity": 80}}],
        simulation={"settlement_interval_min": 60},
        energy={"batteries": [{"id": "b", "energy_kwh": 40, "power_kw": 30,
                               "initial_soc_pct": 100}],
                "grid": {"import_limit_kw": 70}},
    )
    result = twin.simulate(plant, days=1.3, start="2026-01-05", seed=3)
    iv = result.intervals
    assert len(iv) == 32
    check_invariants(result, plant)
    assert result.kpis["unserved_kwh"] > 0
    # the battery is long empty: the last 12 minutes import 70 kW x 0.2 h = 14 kWh
    assert iv["battery_soc_kwh"].iloc[-1] == 0
    assert iv["grid_import_kwh"].iloc[-1] == pytest.approx(14.0, rel=1e-12)


# ------------------------------------------------------------------------------------------
# The demo plant
# ------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def demo() -> tuple[twin.Plant, twin.Result]:
    plant = twin.load_plant(DEMO)
    return plant, twin.simulate(plant, days=7)


def test_demo_plant_balances_and_costs(demo):
    plant, result = demo
    check_invariants(result, plant)
    k, iv = result.kpis, result.intervals
    for key in ("self_sufficiency", "cost_total", "peak_grid_import_kw", "energy_cost",
                "demand_cost", "gas_cost", "export_revenue"):
        assert key in k
    assert k["cost_total"] > 0
    assert k["cost_total"] == pytest.approx(
        k["energy_cost"] + k["demand_cost"] + k["gas_cost"] - k["export_revenue"], abs=1e-6)
    assert k.get("capacity_cost", 0) == 0  # the demo pays a demand charge, not a capacity one
    energy_cost = float((iv["grid_import_kwh"] * iv["price_per_kwh"]).sum())
    assert k["energy_cost"] == pytest.approx(energy_cost, rel=1e-9)
    assert k["gas_cost"] == pytest.approx(iv["fuel_kwh"].sum() * 0.35, rel=1e-9)
    assert k["export_revenue"] == 0 and iv["grid_export_kwh"].sum() == 0
    assert k["peak_grid_import_kw"] == pytest.approx(iv["grid_import_kwh"].max() * 4, rel=1e-9)
    assert k["peak_grid_import_kw"] <= 600 + 1e-9
    assert 0 < k["self_sufficiency"] < 1
    assert k["pv_kwh"] > 0 and k["battery_discharge_kwh"] > 0
    # the gas boiler covers the washer's heat: heat in == gas x efficiency
    plant_gas = iv[[c for c in iv.columns if c.startswith("natural_gas_kwh:")]].sum(axis=1)
    boiler_gas = iv["fuel_kwh"] - plant_gas
    np.testing.assert_allclose(boiler_gas * 0.92, iv["heat_demand_kwh"], rtol=1e-9, atol=1e-9)
    assert (iv["heat_unmet_kwh"] == 0).all()


# ------------------------------------------------------------------------------------------
# Tariff integration
# ------------------------------------------------------------------------------------------

def spans(*runs: tuple[int, str]) -> np.ndarray:
    """Period labels of consecutive 15-minute intervals from (count, period) runs."""
    return np.concatenate([np.full(n, p, dtype=object) for n, p in runs]).astype(str)


def constant_load(energy: dict) -> twin.Plant:
    """A plant drawing 40 kW of electricity always (its one machine never gets a lot)."""
    idle = {"id": "idle_machine", "power_kw": {"electricity": {"idle": 0, "processing": 0}}}
    return make_plant([{"id": "m", "equipment": "idle_machine",
                        "process_time": {"dist": "constant", "value": 60, "unit": "s"}}],
                      equipment_types=[idle],
                      interarrival={"dist": "constant", "value": 365, "unit": "h"},
                      base_loads=[{"id": "load", "group": "facility", "schedule": "always",
                                   "power_kw": {"electricity": 40}}], energy=energy)


def check_prices(result: twin.Result, periods: np.ndarray, price: np.ndarray) -> None:
    """The run's TOU labels and prices equal the hand-labelled ones, and its energy cost is
    the import priced with them."""
    iv = result.intervals
    np.testing.assert_array_equal(iv["tou_period"].to_numpy().astype(str), periods)
    np.testing.assert_allclose(iv["price_per_kwh"].to_numpy(), price, rtol=1e-12)
    assert result.kpis["energy_cost"] == pytest.approx(
        float((iv["grid_import_kwh"].to_numpy() * price).sum()), rel=1e-9)


def test_demo_prices_and_demand_charge_by_hand(demo):
    """The demo's week from Monday 2026-03-02 (spring, Jiangsu two-part, flat 0.45 CNY/kWh plus a
    non-floating 0.20): prices flat x ratio + adder with the ratios of 苏发改价格发〔2025〕426号
    (twin/data/tariffs/ratios.csv: valley 0.35, flat 1, peak 1.8 for two-part users), so
    valley 0.3575, flat 0.65, peak 1.01 CNY/kWh."""
    plant, result = demo
    iv = result.intervals
    periods = jiangsu_two_part_periods(iv.index)
    # a spring day by hand: 00-02 flat, 02-06 valley, 06-10 flat, 10-14 valley, 14-15 flat,
    # 15-22 peak, 22-24 flat
    day = spans((8, "flat"), (16, "valley"), (16, "flat"), (16, "valley"), (4, "flat"),
                (28, "peak"), (8, "flat"))
    np.testing.assert_array_equal(periods, np.tile(day, 7))
    price = np.select([periods == "valley", periods == "flat", periods == "peak"],
                      [0.3575, 0.65, 1.01])
    check_prices(result, periods, price)
    assert plant.energy.grid.tariff.demand_charge_per_kw_month == 40
    kw = iv["grid_import_kwh"].to_numpy() / 0.25
    # 7 days of March 2026: 7/31 of the month's charge on the week's peak
    assert result.kpis["demand_cost"] == pytest.approx(kw.max() * 40 * 7 / 31, rel=1e-9)


def test_monthly_flat_prices_holidays_and_two_months():
    """A run across a month boundary, Fri 2026-01-30 to Mon 02-02, with 12 monthly flat prices,
    a holiday (Monday 02-02) and a make-up workday (Saturday 01-31), Jiangsu two-part industry
    >= 315 kVA: prices labelled by hand, and the demand charge prorated per month on each
    month's own peak."""
    flat = [0.40 + 0.01 * m for m in range(12)]
    holiday, workday = dt.date(2026, 2, 2), dt.date(2026, 1, 31)
    plant = make_plant(
        [{"id": "m", "equipment": "machine", "process_time": expo(600)}],
        base_loads=[{"id": "base", "group": "facility", "power_kw": {"electricity": 50}}],
        energy={"grid": {"tariff": {
            "preset": "jiangsu_2025", "customer_class": "two_part_industry_ge315kva",
            "flat_price_per_kwh": flat, "non_floating_adder_per_kwh": 0.15,
            "demand_charge_per_kw_month": 35, "holidays": [holiday], "workdays": [workday]}}},
    )
    result = twin.simulate(plant, days=4, start="2026-01-30", seed=2)
    iv = result.intervals
    # 苏发改价格发〔2025〕426号 (twin/data/tariffs/periods.csv and ratios.csv): January days have
    # the winter critical peak 18-20 inside the 14-22 peak; February days have none; a holiday
    # has the deep valley 10-14 (ratio 0.28 = valley 0.35 x 0.8). The Saturday is an ordinary
    # day here (Jiangsu has no rest-day periods; the make-up workday changes nothing).
    january = spans((24, "valley"), (20, "flat"), (8, "valley"), (4, "flat"), (16, "peak"),
                    (8, "critical"), (8, "peak"), (8, "flat"))
    february = spans((24, "valley"), (20, "flat"), (8, "valley"), (4, "flat"), (32, "peak"),
                     (8, "flat"))
    holiday_day = spans((24, "valley"), (16, "flat"), (16, "deep_valley"), (32, "peak"),
                        (8, "flat"))
    periods = np.concatenate([january, january, february, holiday_day])
    ratio = {"deep_valley": 0.28, "valley": 0.35, "flat": 1.0, "peak": 1.8, "critical": 2.16}
    base = np.repeat([0.40, 0.40, 0.41, 0.41], 96)  # January 0.40, February 0.41 CNY/kWh
    price = base * np.array([ratio[p] for p in periods]) + 0.15
    check_prices(result, periods, price)
    # the holiday's noon: 0.41 x 0.28 + 0.15 = 0.2648 CNY/kWh
    assert iv.loc["2026-02-02 12:00", "price_per_kwh"] == pytest.approx(0.2648, rel=1e-12)
    kw = iv["grid_import_kwh"].to_numpy() / 0.25
    jan = kw[:192].max() * 35 * 2 / 31
    feb = kw[192:].max() * 35 * 2 / 28
    assert result.kpis["demand_cost"] == pytest.approx(jan + feb, rel=1e-9)
    check_invariants(result, plant)


def test_half_hour_boundary_by_hand():
    """Wednesday 2026-07-15, Jiangsu two-part industry >= 315 kVA, flat 0.5 CNY/kWh: the summer
    critical peak 14-15 and 19:30-21:30 (苏发改价格发〔2025〕426号, the rows of
    twin/data/tariffs/periods.csv citing it) within the 14-22 peak, so the intervals 19:30-19:45
    and 21:15-21:30 are critical and 19:15 and 21:30 are peak. Prices 0.5 x ratio: valley 0.175,
    flat 0.5, peak 0.9, critical 1.08; the load is 40 kW = 10 kWh per interval."""
    energy = {"grid": {"tariff": {"preset": "jiangsu_2025",
                                  "customer_class": "two_part_industry_ge315kva",
                                  "flat_price_per_kwh": 0.5}}}
    result = twin.simulate(constant_load(energy), days=1, start="2026-07-15")
    periods = spans((24, "valley"), (20, "flat"), (8, "valley"), (4, "flat"), (4, "critical"),
                    (18, "peak"), (8, "critical"), (2, "peak"), (8, "flat"))
    price = np.select([periods == "valley", periods == "flat", periods == "peak",
                       periods == "critical"], [0.175, 0.5, 0.9, 1.08])
    check_prices(result, periods, price)
    # 10 kWh x (32 x 0.175 + 32 x 0.5 + 20 x 0.9 + 12 x 1.08) = 10 x 52.56 = 525.6 CNY
    assert result.kpis["energy_cost"] == pytest.approx(525.6, rel=1e-12)


def test_saturday_sunday_and_holiday_by_hand():
    """Fri 2026-03-06 to Mon 03-09 in Shanghai, two-part large industry, flat 0.5 CNY/kWh, with
    Monday declared a holiday: in February-June and September-November rest days (weekends and
    holidays) have a deep valley 22-06 instead of the valley (沪发改价管〔2024〕28号; ratio 0.2,
    "deep valley = flat -80%"), other periods as 沪发改价管〔2022〕50号 (spring: 06-08 flat,
    08-11 peak, 11-18 flat, 18-21 peak, 21-22 flat, 22-06 valley; peak 1.6, valley 0.5), both
    as cited in twin/data/tariffs/periods.csv and ratios.csv. The 22-06 span wraps midnight:
    Friday 22-24 is still a workday valley, Saturday 00-06 a rest-day deep valley."""
    energy = {"grid": {"tariff": {"preset": "shanghai", "customer_class": "two_part_large_industry",
                                  "flat_price_per_kwh": 0.5, "holidays": ["2026-03-09"]}}}
    result = twin.simulate(constant_load(energy), days=4, start="2026-03-06")

    def day(night: str) -> np.ndarray:
        return spans((24, night), (8, "flat"), (12, "peak"), (28, "flat"), (12, "peak"),
                     (4, "flat"), (8, night))

    periods = np.concatenate([day("valley"), day("deep_valley"), day("deep_valley"),
                              day("deep_valley")])
    price = np.select([periods == "deep_valley", periods == "valley", periods == "flat",
                       periods == "peak"], [0.1, 0.25, 0.5, 0.8])
    check_prices(result, periods, price)


def test_tariff_outside_its_validity_is_refused():
    plant = make_plant(
        [{"id": "m", "equipment": "machine", "process_time": expo(600)}],
        energy={"grid": {"tariff": {"preset": "jiangsu_2025", "customer_class": "two_part",
                                    "flat_price_per_kwh": 0.5}}},
    )
    with pytest.raises(ValueError, match=r"energy\.grid\.tariff.*applies from 2025-06-01"):
        twin.simulate(plant, days=1, start="2025-05-01")
    assert math.isfinite(twin.simulate(plant, days=1, start="2025-06-01").kpis["cost_total"])
