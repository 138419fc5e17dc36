"""The dispatch LP (twin.energy.optimal) against hand calculations, the twin's tariff accounting,
and simulated dispatches that it must never lose to.

Conventions of the hand cases: intervals of 1 h (so kW = kWh per interval) unless stated; the
battery stores eta_c x charge and gives discharge / eta_d from its content.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from twin.energy import tariff
from twin.energy.optimal import (
    BatteryParams,
    InfeasibleDispatchError,
    dispatch_cost,
    optimal_dispatch,
)
from twin.energy.storage import Battery


def approx(x: float):
    return pytest.approx(x, rel=1e-7, abs=1e-6)


def test_two_intervals_cheap_then_dear_charges_then_discharges_by_hand():
    # Load 0 then 8 kWh; price 0.1 then 1.0. Battery 10 kWh, 10 kW, eta_c 0.9, eta_d 0.8, empty.
    # Charging is worth it: 1 kWh bought at 0.1 delivers 0.9 x 0.8 = 0.72 kWh worth 0.72.
    # Power limits the charge to 10 kWh -> stores 9 kWh -> delivers 7.2 kWh; import 0.8 at t1.
    # Cost = 10 x 0.1 + 0.8 x 1.0 = 1.8 (without the battery: 8.0).
    b = BatteryParams(10, 10, 0.9, 0.8, 0.0, 1.0, initial_soc_kwh=0.0)
    r = optimal_dispatch([0, 8], [0, 0], 1.0, [b], price=[0.1, 1.0])
    assert r.objective_value == approx(1.8)
    assert r.cost == approx(1.8)
    np.testing.assert_allclose(r.grid_import_kwh, [10, 0.8], atol=1e-7)
    np.testing.assert_allclose(r.soc_kwh[0], [9, 0], atol=1e-7)
    np.testing.assert_allclose(r.charge_kwh, [10, 0], atol=1e-7)
    np.testing.assert_allclose(r.discharge_kwh, [0, 7.2], atol=1e-7)
    np.testing.assert_allclose(r.battery_kw, [-10, 7.2], atol=1e-7)


def test_efficiency_losses_make_a_small_spread_not_worth_cycling():
    # Round trip 0.9 x 0.8 = 0.72 < 0.9 / 1.0: a kWh bought at 0.9 delivers 0.72 kWh worth 0.72.
    b = BatteryParams(10, 10, 0.9, 0.8, 0.0, 1.0, initial_soc_kwh=0.0)
    r = optimal_dispatch([0, 8], [0, 0], 1.0, [b], price=[0.9, 1.0])
    assert r.cost == approx(8.0)
    np.testing.assert_allclose(r.charge_kwh, 0, atol=1e-7)
    # at exactly the break-even spread 0.72 both are optimal: the cost is 8 either way
    r = optimal_dispatch([0, 8], [0, 0], 1.0, [b], price=[0.72, 1.0])
    assert r.cost == approx(8.0)


def test_self_discharge_is_a_linear_loss_on_the_content():
    # 1 %/h standing loss, 2 h steps: keep (0.99)^2 = 0.9801 of the content per step.
    # Start 10 kWh, eta 1, nothing else to do -> content 9.801 then 9.60596 (no use for it).
    # With load 9.60596 in t1 the battery covers it exactly at zero cost.
    b = BatteryParams(10, 100, 1.0, 1.0, 0.0, 1.0, initial_soc_kwh=10, self_discharge_per_h=0.01)
    keep = 0.99 ** 2
    r = optimal_dispatch([0, 10 * keep ** 2], [0, 0], 2.0, [b], price=1.0)
    assert r.cost == approx(0.0)
    np.testing.assert_allclose(r.soc_kwh[0], [10 * keep, 0], atol=1e-7)


def test_a_battery_at_its_floor_must_recharge_its_standing_loss_unless_the_floor_is_held():
    # Floor 10 kWh, starting at it, 1 %/h loss, eta_c 0.8, one 1-h step, no load, price 2:
    # keep 0.99 -> 9.9 kWh, so 0.1 kWh must be stored = 0.125 kWh bought = 0.25. The twin's
    # battery management holds the floor instead (at most 0.01 x 10 = 0.1 kWh spared): cost 0.
    kw = dict(energy_kwh=100, power_kw=10, charge_efficiency=0.8, discharge_efficiency=1.0,
              soc_min_frac=0.1, initial_soc_kwh=10, self_discharge_per_h=0.01)
    r = optimal_dispatch([0], [0], 1.0, [BatteryParams(**kw)], price=2.0)
    assert r.cost == approx(0.25)
    held = optimal_dispatch([0], [0], 1.0, [BatteryParams(**kw, floor_hold=True)], price=2.0)
    assert held.cost == approx(0.0) and held.soc_kwh[0, 0] == approx(10.0)


def test_demand_charge_lowers_the_peak_exactly_as_by_hand():
    # Load 10 then 30 kW (1 h each), flat price 0.5, demand rate 10 /kW. Battery 20 kWh, 10 kW,
    # eta 0.9/0.9, empty. Charging c at t0 lets it give 0.81 c at t1:
    # peak = max(10 + c, 30 - 0.81 c); equal at c = 20 / 1.81 = 11.05 > 10 kW, so c = 10:
    # peak = max(20, 21.9) = 21.9. Each kWh charged costs 0.5 - 0.81 x 0.5 = 0.095 in energy
    # and saves 8.1 in demand charge, so the full 10 kW is right.
    # Cost = (10 + 10 + 21.9) x 0.5 + 21.9 x 10 = 20.95 + 219 = 239.95 (without: 20 + 300 = 320).
    b = BatteryParams(20, 10, 0.9, 0.9, 0.0, 1.0, initial_soc_kwh=0.0)
    r = optimal_dispatch([10, 30], [0, 0], 1.0, [b], price=0.5, demand_rate=[10.0])
    assert r.parts.peak_kw[0] == approx(21.9)
    assert r.parts.demand_cost == approx(219.0)
    assert r.parts.energy_cost == approx(20.95)
    assert r.cost == approx(239.95)
    # without the demand charge the battery has no reason to move (flat price, losses)
    r0 = optimal_dispatch([10, 30], [0, 0], 1.0, [b], price=0.5)
    assert r0.cost == approx(20.0) and r0.charge_kwh.sum() == approx(0.0)
    # a floor (the month's peak so far) above what the battery can reach: only energy matters
    r1 = optimal_dispatch([10, 30], [0, 0], 1.0, [b], price=0.5, demand_rate=[10.0],
                          peak_floor_kw=[40.0])
    assert r1.parts.demand_cost == approx(400.0) and r1.charge_kwh.sum() == approx(0.0)


def test_demand_charge_per_month_groups():
    # Two months, one interval of 1 h each... the peak of each group is charged at its own rate.
    r = optimal_dispatch([10, 30, 20, 5], [0, 0, 0, 0], 1.0, [], price=0.0, month=[0, 0, 1, 1],
                         demand_rate=[2.0, 3.0])
    assert r.parts.demand_cost == approx(30 * 2 + 20 * 3)


def test_emissions_and_weighted_objectives_by_hand():
    # Load 10 kWh in each of two hours; the battery holds 10 kWh (eta 1) and can cover one.
    # Grid intensity 0.9 then 0.3 kg/kWh, price 0.3 then 0.9 (dirty hour is cheap).
    # Cost: discharge in t1 -> cost 3.0, co2 9.0. Emissions: discharge in t0 -> cost 9, co2 3.
    # Weighted with carbon price p: A (t0) = 9 + 3p, B (t1) = 3 + 9p; A wins iff p > 1.
    b = BatteryParams(10, 10, 1.0, 1.0, 0.0, 1.0, initial_soc_kwh=10)
    kw = dict(price=[0.3, 0.9], grid_ef=[0.9, 0.3])
    cost = optimal_dispatch([10, 10], [0, 0], 1.0, [b], objective="cost", **kw)
    assert (cost.cost, cost.parts.co2_kg) == (approx(3.0), approx(9.0))
    em = optimal_dispatch([10, 10], [0, 0], 1.0, [b], objective="emissions", **kw)
    assert (em.objective_value, em.cost) == (approx(3.0), approx(9.0))
    hi = optimal_dispatch([10, 10], [0, 0], 1.0, [b], objective="weighted",
                          carbon_price_per_kg=2.0, **kw)
    assert hi.objective_value == approx(9 + 3 * 2.0) and hi.parts.co2_kg == approx(3.0)
    lo = optimal_dispatch([10, 10], [0, 0], 1.0, [b], objective="weighted",
                          carbon_price_per_kg=0.5, **kw)
    assert lo.objective_value == approx(3 + 9 * 0.5) and lo.parts.co2_kg == approx(9.0)


def test_pv_surplus_is_stored_exported_or_curtailed_by_value():
    # PV 20 kWh at t0 with no load; export limit 5 kW at 0.2; load 10 kWh at t1 priced 1.0.
    # Battery 8 kWh, eta 1: store 8 (worth 1.0 each), export 5 (0.2 each), curtail 7.
    # Cost = 2 x 1.0 (import at t1) - 5 x 0.2 = 1.0.
    b = BatteryParams(8, 100, 1.0, 1.0, 0.0, 1.0, initial_soc_kwh=0.0)
    r = optimal_dispatch([0, 10], [20, 0], 1.0, [b], price=[0.5, 1.0], feed_in_price=0.2,
                         export_limit_kw=5)
    assert r.cost == approx(1.0)
    np.testing.assert_allclose(r.curtailed_kwh, [7, 0], atol=1e-7)
    np.testing.assert_allclose(r.grid_export_kwh, [5, 0], atol=1e-7)
    assert r.simultaneous_intervals == 0


def test_lp_cost_equals_the_twins_tariff_accounting():
    # 15-min intervals over the turn of a month; prices, feed-in and a demand charge; the LP's
    # cost parts must be what twin.energy.tariff charges for its import and export.
    rng = np.random.default_rng(5)
    index = pd.date_range("2026-01-31 12:00", periods=96, freq="15min", tz="Asia/Shanghai")
    n = len(index)
    load = rng.uniform(5, 30, n)
    gen = np.maximum(0, rng.uniform(-10, 25, n))
    price = rng.choice([0.2, 0.6, 1.1], n)
    rate = 40.0
    peaks = tariff.monthly_peak_demand(np.zeros(n), index)
    month = np.repeat(np.arange(len(peaks)), peaks["intervals"].to_numpy())
    b = BatteryParams(40, 20, 0.95, 0.95, 0.1, 0.9, initial_soc_kwh=20)
    r = optimal_dispatch(load, gen, 0.25, [b], price=price, feed_in_price=0.15,
                         export_limit_kw=10, month=month,
                         demand_rate=rate * peaks["coverage"].to_numpy())
    energy = tariff.energy_cost(r.grid_import_kwh, price).sum()
    revenue = tariff.export_revenue(r.grid_export_kwh, 0.15).sum()
    demand = tariff.demand_charge(tariff.average_kw(r.grid_import_kwh, index), index, rate,
                                  prorate=True).sum()
    assert r.parts.energy_cost == approx(energy)
    assert r.parts.export_revenue == approx(revenue)
    assert r.parts.demand_cost == approx(demand)
    assert r.cost == approx(energy + demand - revenue)
    # balance per interval, from the returned flows alone
    bal = (gen - r.curtailed_kwh + r.discharge_kwh + r.grid_import_kwh
           - load - r.charge_kwh - r.grid_export_kwh)
    np.testing.assert_allclose(bal, 0, atol=1e-6)


def test_infeasible_inputs_give_a_clear_error():
    b = BatteryParams(10, 10, 1.0, 1.0, 0.0, 1.0, initial_soc_kwh=10)
    # power: 20 kWh in one hour against a 5 kW limit and a 10 kW battery
    with pytest.raises(InfeasibleDispatchError, match=r"interval 1: demand 20 kWh exceeds .* by 5"):
        optimal_dispatch([0, 20], [0, 0], 1.0, [b], import_limit_kw=5)
    # energy: two hours of 20 kWh against a 10 kW limit; the battery holds only 5 kWh
    small = BatteryParams(5, 10, 1.0, 1.0, 0.0, 1.0, initial_soc_kwh=0)
    with pytest.raises(InfeasibleDispatchError, match="grid import limit of 10 kW"):
        optimal_dispatch([0, 20, 20], [0, 0, 0], 1.0, [small], import_limit_kw=10)
    with pytest.raises(ValueError, match=r"load_kwh\[1\] = -1.0: expected a value >= 0"):
        optimal_dispatch([0, -1], [0, 0], 1.0, [b])
    with pytest.raises(ValueError, match=r"price: expected a number or 2 values"):
        optimal_dispatch([0, 1], [0, 0], 1.0, [b], price=[1, 2, 3])
    with pytest.raises(ValueError, match="objective='money'"):
        optimal_dispatch([0, 1], [0, 0], 1.0, [b], objective="money")
    with pytest.raises(ValueError, match="initial_soc_kwh=20"):
        BatteryParams(10, 10, initial_soc_kwh=20)


# ------------------------------------------------------------------------------------------
# Property: limits hold, and no simulated dispatch beats the LP on the same case
# ------------------------------------------------------------------------------------------

@st.composite
def cases(draw):
    n = draw(st.integers(2, 12))
    dt = draw(st.sampled_from([0.25, 1.0]))
    f = st.floats(0, 50, allow_nan=False)
    load = np.array(draw(st.lists(f, min_size=n, max_size=n)))
    gen = np.array(draw(st.lists(f, min_size=n, max_size=n)))
    price = np.array(draw(st.lists(st.sampled_from([0.1, 0.3, 0.6, 1.2]), min_size=n,
                                   max_size=n)))
    cap = draw(st.floats(1, 100))
    lo = draw(st.floats(0, 0.3))
    hi = draw(st.floats(0.6, 1.0))
    b = dict(energy_kwh=cap, power_kw=draw(st.floats(1, 60)),
             charge_efficiency=draw(st.floats(0.7, 1.0)),
             discharge_efficiency=draw(st.floats(0.7, 1.0)), soc_min_frac=lo, soc_max_frac=hi,
             initial_soc_frac=draw(st.floats(lo, hi)),
             self_discharge_per_h=draw(st.sampled_from([0.0, 0.001])))
    grid = dict(feed_in=draw(st.sampled_from([0.0, 0.05, 0.1])),
                export_limit_kw=draw(st.sampled_from([0.0, 20.0, np.inf])),
                demand_rate=draw(st.sampled_from([None, 5.0])),
                objective=draw(st.sampled_from(["cost", "emissions", "weighted"])))
    ef = np.array(draw(st.lists(st.floats(0.2, 1.0), min_size=n, max_size=n)))
    powers = draw(st.lists(st.floats(-1, 1), min_size=n, max_size=n))
    return load, gen, dt, price, ef, b, grid, np.array(powers)


def simulate(load, gen, dt, batt: Battery, p_frac, export_limit_kw):
    """Step the twin's Battery with a requested power per interval (a share of its rating),
    settling the grid as the EMS does; returns import, export and the levels."""
    imp, exp, soc = [], [], []
    for k in range(len(load)):
        want = p_frac[k] * batt.power_kw
        if want > 0:
            got = batt.discharge(min(want, batt.headroom_discharge_kw(dt)), dt) * dt
            net = load[k] - gen[k] - got
        elif want < 0:
            got = batt.charge(min(-want, batt.headroom_charge_kw(dt)), dt) * dt
            net = load[k] - gen[k] + got
        else:
            batt.standby(dt)
            net = load[k] - gen[k]
        imp.append(max(net, 0.0))
        exp.append(min(max(-net, 0.0), export_limit_kw * dt))
        soc.append(batt.soc_kwh)
    return np.array(imp), np.array(exp), np.array(soc)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases())
def test_lp_respects_limits_and_no_simulated_dispatch_beats_it(case):
    load, gen, dt, price, ef, b, grid, p_frac = case
    obj = grid["objective"]
    cp = 0.5
    bp = BatteryParams(b["energy_kwh"], b["power_kw"], b["charge_efficiency"],
                       b["discharge_efficiency"], b["soc_min_frac"], b["soc_max_frac"],
                       b["initial_soc_frac"] * b["energy_kwh"], b["self_discharge_per_h"],
                       floor_hold=True)
    rate = None if grid["demand_rate"] is None else [grid["demand_rate"]]
    r = optimal_dispatch(load, gen, dt, [bp], price=price, feed_in_price=grid["feed_in"],
                         grid_ef=ef, export_limit_kw=grid["export_limit_kw"], demand_rate=rate,
                         objective=obj, carbon_price_per_kg=cp)
    tol = 1e-6
    # limits
    assert (r.soc_kwh >= bp.e_min - tol).all() and (r.soc_kwh <= bp.e_max + tol).all()
    assert (r.battery_charge_kw <= bp.power_kw + tol).all()
    assert (r.battery_discharge_kw <= bp.power_kw + tol).all()
    assert (r.grid_export_kwh <= grid["export_limit_kw"] * dt + tol).all()
    assert (r.curtailed_kwh <= gen + tol).all()
    # storage recursion, independently (floor hold: at most (1 - keep) E_min spared per step)
    keep = (1 - bp.self_discharge_per_h) ** dt
    prev = np.concatenate([[bp.e_init], r.soc_kwh[0, :-1]])
    expect = (keep * prev + bp.charge_efficiency * r.charge_kwh
              - r.discharge_kwh / bp.discharge_efficiency)
    spared = r.soc_kwh[0] - expect
    assert (spared >= -1e-6).all() and (spared <= (1 - keep) * bp.e_min + 1e-6).all()
    # the simulated battery, any requested powers and also doing nothing, never does better
    for fracs in (p_frac, np.zeros_like(p_frac)):
        batt = Battery(b["energy_kwh"], b["power_kw"],
                       charge_efficiency=b["charge_efficiency"],
                       discharge_efficiency=b["discharge_efficiency"],
                       soc_min_frac=b["soc_min_frac"], soc_max_frac=b["soc_max_frac"],
                       initial_soc_frac=b["initial_soc_frac"],
                       self_discharge_per_h=b["self_discharge_per_h"])
        imp, exp, _ = simulate(load, gen, dt, batt, fracs, grid["export_limit_kw"])
        parts = dispatch_cost(imp, exp, dt, price, grid["feed_in"], ef, None, rate)
        value = parts.objective(obj, cp)
        # the emissions objective breaks ties by 1e-6 x cost
        slack = 1e-6 * (max(1.0, abs(value)) + float(price @ (load + gen)) + 100.0)
        assert value >= r.objective_value - slack


def _battery(b: dict) -> Battery:
    return Battery(b["energy_kwh"], b["power_kw"], charge_efficiency=b["charge_efficiency"],
                   discharge_efficiency=b["discharge_efficiency"], soc_min_frac=b["soc_min_frac"],
                   soc_max_frac=b["soc_max_frac"], initial_soc_frac=b["initial_soc_frac"])


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases())
def test_lp_is_no_worse_than_the_best_of_a_grid_of_simulated_dispatches(case):
    # Three intervals, every combination of 11 power levels per interval (-P, ..., 0, ..., +P)
    # stepped through the twin's Battery: the LP's optimum is at most the best of them. Catches
    # an LP more restrictive than the battery it models (checked: capping the LP's discharge at
    # 70 % of the rating fails this test; the random-dispatch test above does not notice).
    load, gen, dt, price, ef, b, grid, _ = case
    load, gen, price, ef = load[:3], gen[:3], price[:3], ef[:3]
    b = {**b, "self_discharge_per_h": 0.0}
    bp = BatteryParams(b["energy_kwh"], b["power_kw"], b["charge_efficiency"],
                       b["discharge_efficiency"], b["soc_min_frac"], b["soc_max_frac"],
                       b["initial_soc_frac"] * b["energy_kwh"])
    rate = None if grid["demand_rate"] is None else [grid["demand_rate"]]
    r = optimal_dispatch(load, gen, dt, [bp], price=price, feed_in_price=grid["feed_in"],
                         export_limit_kw=grid["export_limit_kw"], demand_rate=rate)
    levels = np.linspace(-1, 1, 11)
    best = np.inf
    for combo in np.array(np.meshgrid(*[levels] * len(load))).reshape(len(load), -1).T:
        imp, exp, _ = simulate(load, gen, dt, _battery(b), combo, grid["export_limit_kw"])
        best = min(best, dispatch_cost(imp, exp, dt, price, grid["feed_in"], 0.0, None,
                                       rate).cost)
    assert best >= r.cost - 1e-6 * max(1.0, abs(best))
