"""The digitalization strategies that act on machines: smart standby and predictive maintenance.

Deterministic plants are checked against hand-worked timelines (every second of a machine's day
accounted for); small random plants against the same plant without the strategy, replication
by replication on the same seeds (common random numbers), with 95 % confidence intervals of the
paired differences (Student t).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import const, expo, make_plant, meter_books_balance, station
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import stats
from test_flow_invariants import census

import twin
from twin import engine
from twin.config.errors import ConfigError
from twin.equipment.states import DOWN
from twin.strategies.smart_standby import break_even_s

SITE_UTC = {"name": "t", "timezone": "UTC", "latitude": 0, "longitude": 0}
SAVER = {  # idle 5 kW, standby 1 kW, 300 s warm-up at 8 kW, stay at least 600 s
    "id": "saver",
    "power_kw": {"electricity": {"standby": 1, "warm_up": 8, "idle": 5, "processing": 10}},
    "saving_modes": {"standby": {"warm_up_s": 300, "min_stay_s": 600}},
}
KWS = 1 / 3600.0  # kWh per kW*s


def plant(stations, interarrival, days=1.0, strategies=(), types=(SAVER,), **kw):
    return make_plant(stations, equipment_types=list(types), interarrival=interarrival,
                      site=SITE_UTC, simulation={"days": days, "start": "2025-01-06"},
                      strategies=list(strategies), **kw)


def machine_kwh(res: twin.Result) -> float:
    return float(res.equipment["electricity_kwh"].sum())


def paired_ci(diff: np.ndarray) -> tuple[float, float]:
    """95 % confidence interval of the mean of paired differences (Student t)."""
    half = stats.t.ppf(0.975, diff.size - 1) * diff.std(ddof=1) / math.sqrt(diff.size)
    return float(diff.mean() - half), float(diff.mean() + half)


# --- break-even time -------------------------------------------------------------------------

def test_break_even_by_hand():
    # energy term 300 * (8 - 1) / (5 - 1) = 525 s; warm-up + minimum stay = 900 s binds
    assert break_even_s(5, 1, 300, 8, 600) == pytest.approx(900)
    # a long, hot warm-up: 1200 * (20 - 1) / (5 - 1) = 5700 s > 1200 + 600
    assert break_even_s(5, 1, 1200, 20, 600) == pytest.approx(5700)
    # no warm-up and no minimum stay: switching pays off at once
    assert break_even_s(5, 1, 0, 8) == 0
    # a mode that draws as much as waiting ready never pays off
    assert break_even_s(2, 2, 60, 3) == math.inf


@given(st.floats(0.1, 50), st.floats(0, 1), st.floats(0, 3600), st.floats(0, 100),
       st.floats(0, 3600), st.floats(0, 1))
def test_break_even_is_where_switching_starts_to_pay(p_idle, save_share, warm, p_warm, stay, x):
    """For gaps at least the break-even time, switching (and warming up to be ready at the end of
    the gap) uses no more energy than waiting ready; for feasible shorter gaps, no less."""
    p_save = p_idle * save_share * 0.99
    be = break_even_s(p_idle, p_save, warm, p_warm, stay)

    def saved(gap):
        return p_idle * gap - (p_save * (gap - warm) + p_warm * warm)

    tol = 1e-9 * (1 + p_idle + p_warm) * (1 + be + warm)
    assert saved(be * (1 + x) + x) >= -tol
    lo = warm + stay  # the shortest gap the mode allows
    if be - lo > 1e-9 * (1 + be):  # the energy term binds: feasible gaps below break-even exist
        assert saved(lo + min(x, 0.999) * (be - lo)) <= tol


# --- smart standby: deterministic timelines ----------------------------------------------------

def one_machine(interarrival_s, strategies=(), days=1.0):
    return plant([station("a", const(600), equipment="saver")], const(interarrival_s), days,
                 strategies)


def test_hand_worked_day_with_standby():
    """Lots every 3600 s (first at 3600), 600 s each. Break-even 900 s is the timeout; the lot
    finds the machine in standby and waits its 300 s warm-up. Cycle: processing 600 s, ready
    900 s, standby 1800 s, warm-up 300 s. Day: ready 0-900, standby 900-3600, 23 cycles, the
    last ending in 1800 s of standby at the horizon."""
    base = twin.simulate(one_machine(3600))
    smart = twin.simulate(one_machine(3600, [{"type": "smart_standby"}]))
    cycle_kws = 600 * 10 + 900 * 5 + 1800 * 1 + 300 * 8
    smart_kws = 900 * 5 + 2700 * 1 + 22 * cycle_kws + (300 * 8 + 600 * 10 + 900 * 5 + 1800 * 1)
    base_kws = 23 * 600 * 10 + (86400 - 23 * 600) * 5
    assert machine_kwh(base) == pytest.approx(base_kws * KWS, rel=1e-12)
    assert machine_kwh(smart) == pytest.approx(smart_kws * KWS, rel=1e-12)
    rep = smart.kpis["strategies"]["smart_standby"]["stations"]["a"]
    assert rep["mode"] == "standby" and rep["break_even_s"] == 900 and rep["timeout_s"] == 900
    assert rep["switches"] == 24
    # the saving counted per switch equals the paired difference (both runs process 23 lots)
    assert rep["saving_kwh"] == pytest.approx((base_kws - smart_kws) * KWS, rel=1e-9)
    assert rep["lots_delayed"] == 23 and rep["lot_delay_h"] == pytest.approx(23 * 300 / 3600)
    assert rep["warm_up_h"] == pytest.approx(23 * 300 / 3600)
    # the lead-time cost: every lot waits the warm-up
    np.testing.assert_allclose(base.lots["lead_time_h"], 600 / 3600)
    np.testing.assert_allclose(smart.lots["lead_time_h"], 900 / 3600)
    assert len(smart.lots) == len(base.lots) == 23


def test_minimum_stay_holds_the_lot():
    """Timeout 0 and a minimum stay of 3300 s, 3 h run, lots at 3600 and 7200 s. Standby 0-3600;
    lot 1 waits the warm-up (3600-3900), runs 3900-4500; standby from 4500 may end only at 7800,
    so lot 2 (7200) waits 600 s more and runs 8100-8700; standby 8700-10800."""
    saver = {**SAVER, "saving_modes": {"standby": {"warm_up_s": 300, "min_stay_s": 3300}}}
    p = plant([station("a", const(600), equipment="saver")], const(3600), 0.125,
              [{"type": "smart_standby", "timeout_s": 0}], types=(saver,))
    res = twin.simulate(p)
    kws = (3600 + 3300 + 2100) * 1 + 600 * 8 + 1200 * 10
    assert machine_kwh(res) == pytest.approx(kws * KWS, rel=1e-12)
    np.testing.assert_allclose(res.lots["lead_time_h"], [900 / 3600, 1500 / 3600])
    rep = res.kpis["strategies"]["smart_standby"]["total"]
    assert rep["lots_delayed"] == 2 and rep["lot_delay_h"] == pytest.approx(1200 / 3600)
    base_kws = 1200 * 10 + (10800 - 1200) * 5
    assert rep["saving_kwh"] == pytest.approx((base_kws - kws) * KWS, rel=1e-9)


def test_no_switching_when_gaps_are_shorter_than_break_even():
    """Gaps of 800 s < 900 s break-even: after the start-up gap (the first lot comes at 1400 s)
    the machine never switches. Start-up by hand: ready 0-900, standby 900-1500 (the minimum
    stay outlasts the arrival at 1400), warm-up 1500-1800, lot 1 runs 1800-2400, ready until lot
    2 at 2800; without the strategy: ready 0-1400, run 1400-2000, ready 2000-2800. From 2800 on
    both runs are the same."""
    base = twin.simulate(one_machine(1400))
    smart = twin.simulate(one_machine(1400, [{"type": "smart_standby"}]))
    assert smart.kpis["strategies"]["smart_standby"]["total"]["switches"] == 1
    smart_kws = 900 * 5 + 600 * 1 + 300 * 8 + 600 * 10 + 400 * 5
    base_kws = 1400 * 5 + 600 * 10 + 800 * 5
    assert machine_kwh(base) - machine_kwh(smart) == pytest.approx((base_kws - smart_kws) * KWS,
                                                                   rel=1e-9)
    assert smart.lots["lead_time_h"].iloc[0] == pytest.approx(1000 / 3600)
    np.testing.assert_array_equal(smart.lots["lead_time_h"].iloc[1:],
                                  base.lots["lead_time_h"].iloc[1:])


def test_woken_ahead_by_the_upstream_machine():
    """a (1800 s, always ready: no saving mode) feeds b (600 s, standby). When a starts a lot, b
    is told it arrives 1800 s later and warms up to be ready just then: no lot waits, lead times
    are those without the strategy, and b's day is the hand-worked one of the first test."""
    types = (SAVER, {"id": "plain", "power_kw": {"electricity": {"idle": 2, "processing": 6}}})
    stations = [station("a", const(1800), equipment="plain"),
                station("b", const(600), equipment="saver")]
    base = twin.simulate(plant(stations, const(3600), types=types))
    smart = twin.simulate(plant(stations, const(3600), types=types,
                                strategies=[{"type": "smart_standby"}]))
    rep = smart.kpis["strategies"]["smart_standby"]["stations"]
    assert rep["a"]["switched"] is False
    assert rep["b"]["lots_delayed"] == 0 and rep["b"]["woken_ahead"] == 23
    np.testing.assert_array_equal(smart.lots["lead_time_h"], base.lots["lead_time_h"])
    b_kwh = smart.equipment.loc["b", "electricity_kwh"]
    # ready 0-900, standby 900-5100, then 22 cycles of warm 300 / run 600 / ready 900 / standby
    # 1800, and the last: warm 300, run 600, ready 900, standby 300 to the horizon
    kws = 900 * 5 + 4200 * 1 + 22 * 14700 + (300 * 8 + 600 * 10 + 900 * 5 + 300 * 1)
    assert b_kwh == pytest.approx(kws * KWS, rel=1e-12)
    # constant times: announcing the mean is announcing the drawn time
    mean = twin.simulate(plant(stations, const(3600), types=types,
                               strategies=[{"type": "smart_standby", "wake_ahead": "mean"}]))
    assert mean.equipment.equals(smart.equipment)
    # not woken ahead: every lot at b waits the warm-up
    off = twin.simulate(plant(stations, const(3600), types=types,
                              strategies=[{"type": "smart_standby", "wake_ahead": "off"}]))
    rep = off.kpis["strategies"]["smart_standby"]["stations"]["b"]
    assert rep["lots_delayed"] == 23 and rep["lot_delay_h"] == pytest.approx(23 * 300 / 3600)
    np.testing.assert_allclose(off.lots["lead_time_h"], (1800 + 300 + 600) / 3600)


def test_lot_announced_before_the_machine_waits():
    """a (3000 s) feeds b (900 s, timeout 0). a starts lot k+1 at 3600(k+1) while b is still busy
    with lot k; b starts waiting at 3600k + 3900 and learns then that the next lot is due at
    3600(k+1) + 3000: it sleeps and warms up just in time. b's day: standby 0-6300 and 2400 s
    after each of lots 1-22, 23 warm-ups of 300 s, 22 lots of 900 s and lot 23 running the last
    600 s; no lot waits."""
    types = (SAVER, {"id": "plain", "power_kw": {"electricity": {"idle": 2, "processing": 6}}})
    stations = [station("a", const(3000), equipment="plain"),
                station("b", const(900), equipment="saver")]
    res = twin.simulate(plant(stations, const(3600), types=types,
                              strategies=[{"type": "smart_standby", "timeout_s": 0}]))
    rep = res.kpis["strategies"]["smart_standby"]["stations"]["b"]
    assert rep["lots_delayed"] == 0 and rep["woken_ahead"] == 23 and rep["switches"] == 23
    kws = (6300 + 22 * 2400) * 1 + 23 * 300 * 8 + (22 * 900 + 600) * 10
    assert res.equipment.loc["b", "electricity_kwh"] == pytest.approx(kws * KWS, rel=1e-12)


def test_standby_and_shift_breaks():
    """With shifts the off-shift behaviour is kept: the machine still spends the nights in its
    off-shift mode and is warmed up at the shift start; lots are conserved at all times."""
    cal = {"shifts": {"day": {"start": "06:00", "end": "18:00"}},
           "week": {d: ["day"] for d in ("mon", "tue", "wed", "thu", "fri")}}
    saver = {**SAVER, "off_shift_mode": "standby"}
    p = plant([station("a", expo(600), equipment="saver"),
               station("b", expo(500), equipment="saver")], expo(1500), 5,
              [{"type": "smart_standby"}], types=(saver,), calendar=cal)
    model = engine.build(p, 5, p.simulation.start, 3)
    for k in range(1, 41):
        model.env.run(until=model.horizon_s * k / 40)
        census(model)
    base = twin.simulate(p.model_copy(update={"strategies": []}), seed=3)
    smart = twin.simulate(p, seed=3)
    assert machine_kwh(smart) < machine_kwh(base)
    night = smart.equipment
    assert (night["standby_h"] > 5 * 12 * 0.9).all()  # nights at least, as without the strategy


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(1, 3), st.sampled_from([0.0, 60.0, 600.0]), st.sampled_from([0.0, 300.0]),
       st.sampled_from([None, 0.0, 200.0]), st.booleans(), st.integers(0, 10_000),
       st.sampled_from(["drawn", "mean", "off"]))
def test_random_lines_keep_their_books(n, warm, stay, timeout, shifts, seed, wake):
    """Random small lines with smart standby: lots are neither lost nor duplicated at any time,
    every machine's states fill the run, and energy adds up from states."""
    saver = {**SAVER, "saving_modes": {"standby": {"warm_up_s": warm, "min_stay_s": stay},
                                       "off": {"warm_up_s": 2 * warm, "min_stay_s": stay}},
             "off_shift_mode": "off" if shifts else "idle"}
    cal = {"calendar": {"shifts": {"d": {"start": "07:00", "end": "15:30"}},
                        "week": {d: ["d"] for d in ("mon", "tue", "wed", "thu", "fri")}}}
    p = plant([station(f"s{k}", expo(300 + 100 * k), equipment="saver",
                       buffer_capacity=3 if k else None) for k in range(n)], expo(700), 2,
              [{"type": "smart_standby", "timeout_s": timeout, "wake_ahead": wake}],
              types=(saver,), **(cal if shifts else {}))
    model = engine.build(p, 2, p.simulation.start, seed)
    for k in range(1, 25):
        model.env.run(until=model.horizon_s * k / 24)
        census(model)
    meter_books_balance(model)


# --- smart standby: a random line, paired replications -----------------------------------------

def test_standby_lowers_idle_energy_at_a_lead_time_cost():
    """A three-station line at about 40-60 % utilisation, releases unannounced (Poisson): the
    strategy saves machine energy and lots wait for warm-ups; both with 95 % confidence."""
    types = ({**SAVER, "saving_modes": {"standby": {"warm_up_s": 120, "min_stay_s": 300}}},)
    stations = [station("s1", expo(400), equipment="saver"),
                station("s2", expo(550), equipment="saver"),
                station("s3", expo(300), equipment="saver")]
    base_p = plant(stations, expo(900), 3, types=types)
    smart_p = plant(stations, expo(900), 3, [{"type": "smart_standby"}], types=types)
    d_kwh, d_lead, d_lots = [], [], []
    for seed in range(12):
        b, s = twin.simulate(base_p, seed=seed), twin.simulate(smart_p, seed=seed)
        d_kwh.append(machine_kwh(s) - machine_kwh(b))
        d_lead.append(s.kpis["mean_lead_time_h"] - b.kpis["mean_lead_time_h"])
        d_lots.append(s.kpis["lots_completed"] - b.kpis["lots_completed"])
    lo, hi = paired_ci(np.array(d_kwh))
    assert hi < 0, (lo, hi)  # saves energy
    lo, hi = paired_ci(np.array(d_lead))
    assert lo > 0, (lo, hi)  # costs lead time
    assert max(d_lots) <= 1 and min(d_lots) >= -3  # throughput: the same arrivals, a few lots late


def test_demo_plant_runs_with_defaults_and_conserves_lots():
    p = twin.load_plant("plant_configs/demo_plant.yaml")
    p = p.model_copy(update={"strategies": [twin.config.plant.StrategyConfig(
        type="smart_standby")]})
    model = engine.build(p, 4, p.simulation.start, 7)
    for k in range(1, 21):
        model.env.run(until=model.horizon_s * k / 20)
        census(model)
    assert sum(c.switches for cs in model.strategies[0].controllers.values() for c in cs) > 0


def test_both_strategies_on_a_busy_plant_keep_books_and_bytes(tmp_path):
    """Every random element (assembly, batches, setups, failures, interrupts, maintenance, shifts)
    with both strategies: lots conserved at all times, and the same seed gives the same bytes."""
    from test_reproducibility import _bytes, busy_plant

    p = busy_plant().model_copy(update={"strategies": [
        twin.config.plant.StrategyConfig(type="smart_standby", timeout_s=60),
        twin.config.plant.StrategyConfig(type="predictive_maintenance", detection_rate=0.6,
                                         lead_time_h=0.5, repair_factor=0.5)]})
    model = engine.build(p, 3, p.simulation.start, 5)
    for k in range(1, 31):
        model.env.run(until=model.horizon_s * k / 30)
        census(model)
    a = twin.simulate(p, days=3, seed=5).save(tmp_path / "a")
    b = twin.simulate(p, days=3, seed=5).save(tmp_path / "b")
    assert _bytes(a) == _bytes(b)
    k = twin.Result.load(a).kpis["strategies"]
    assert k["smart_standby"]["total"]["switches"] > 0
    assert k["predictive_maintenance"]["total"]["predicted_stops"] > 0


def test_smart_standby_is_reproducible():
    p = plant([station("a", expo(400), equipment="saver"), station("b", expo(500),
                                                                   equipment="saver")],
              expo(900), 2, [{"type": "smart_standby"}])
    r1, r2 = twin.simulate(p, seed=5), twin.simulate(p, seed=5)
    assert r1.kpis == r2.kpis
    assert r1.equipment.equals(r2.equipment)


# --- predictive maintenance ----------------------------------------------------------------------

FAILING = {"time_to_failure": {"dist": "weibull", "shape": 2, "scale": 20, "unit": "h"},
           "time_to_repair": {"dist": "lognormal", "mean": 3, "cv": 0.5, "unit": "h"}}
PLAIN = {"id": "machine", "power_kw": {"electricity": {"idle": 2, "processing": 10, "down": 1}}}


def pdm_plant(process, strategies=(), days=20):
    return plant([station("a", process, failures=FAILING), station("b", expo(400))],
                 expo(700), days, strategies, types=(PLAIN,))


def pdm(rate, lead_h=2.0, **kw):
    return [{"type": "predictive_maintenance", "detection_rate": rate, "lead_time_h": lead_h,
             **(kw or {"repair_factor": 0.5})}]


def test_detection_rate_zero_is_the_baseline_bit_for_bit():
    base = twin.simulate(pdm_plant(expo(500)), seed=2)
    zero = twin.simulate(pdm_plant(expo(500), pdm(0.0)), seed=2)
    assert base.intervals.equals(zero.intervals)
    assert base.equipment.equals(zero.equipment)
    assert base.lots.equals(zero.lots)
    assert {k: v for k, v in zero.kpis.items() if k != "strategies"} == {
        k: v for k, v in base.kpis.items() if k != "strategies"}
    rep = zero.kpis["strategies"]["predictive_maintenance"]["stations"]["a"]
    assert rep["predicted_stops"] == 0 and rep["breakdowns"] > 5
    assert rep["availability"] == base.kpis["stations"]["a"]["availability"]


def test_detection_without_lead_time_changes_nothing_but_the_books():
    """Every failure detected, but flagged at the moment it strikes (lead 0): nothing can be
    averted, so the run is the run without the strategy, and every breakdown is 'too late'.
    The detection draws come from a stream of their own and disturb no other element."""
    base = twin.simulate(pdm_plant(expo(500)), seed=6)
    late = twin.simulate(pdm_plant(expo(500), pdm(1.0, lead_h=0.0)), seed=6)
    assert base.equipment.equals(late.equipment) and base.lots.equals(late.lots)
    rep = late.kpis["strategies"]["predictive_maintenance"]["stations"]["a"]
    assert rep["predicted_stops"] == 0
    assert rep["breakdowns"] == rep["breakdowns_detected_late"] > 5


def test_full_detection_with_lead_covering_the_lot_averts_every_failure():
    """Detection 1 and a lead time (2 processing hours) longer than any lot (500 s): every
    failure is flagged before the lot in which it would strike, and none happens."""
    res = twin.simulate(pdm_plant(const(500), pdm(1.0)), seed=4)
    rep = res.kpis["strategies"]["predictive_maintenance"]["stations"]["a"]
    assert rep["breakdowns"] == 0 and rep["breakdown_downtime_h"] == 0
    assert rep["predicted_stops"] > 5
    assert res.equipment.loc["a", "down_h"] == 0
    # the planned repairs are half the breakdown repairs: availability counted fairly is below 1
    assert rep["availability"] == 1.0
    assert rep["availability_all_stops"] < 1.0


def test_lead_time_shorter_than_the_lot_lets_failures_through():
    """A lead of 0.01 processing hours (36 s) against 500 s lots: a flagged failure mostly
    strikes before the lot ends (detected too late)."""
    res = twin.simulate(pdm_plant(const(500), pdm(1.0, lead_h=0.01)), seed=4)
    rep = res.kpis["strategies"]["predictive_maintenance"]["stations"]["a"]
    assert rep["breakdowns_detected_late"] > 0
    assert rep["breakdowns_undetected"] == 0
    assert rep["breakdowns"] == rep["breakdowns_detected_late"]


def test_predictive_maintenance_raises_availability():
    """Detection 0.8, planned repairs half as long as breakdown repairs: availability rises with
    95 % confidence, also when planned-repair time counts as downtime; failures fall."""
    d_fair, d_breakdowns = [], []
    for seed in range(10):
        b = twin.simulate(pdm_plant(expo(500), pdm(0.0), days=15), seed=seed)
        s = twin.simulate(pdm_plant(expo(500), pdm(0.8), days=15), seed=seed)
        rb = b.kpis["strategies"]["predictive_maintenance"]["stations"]["a"]
        rs = s.kpis["strategies"]["predictive_maintenance"]["stations"]["a"]
        assert rb["availability_all_stops"] == pytest.approx(rb["availability"])
        d_fair.append(rs["availability_all_stops"] - rb["availability_all_stops"])
        d_breakdowns.append(rs["breakdowns"] - rb["breakdowns"])
        assert s.kpis["lots_released"] == s.kpis["lots_completed"] + s.kpis[
            "lots_in_system_at_end"]
    lo, hi = paired_ci(np.array(d_fair))
    assert lo > 0, (lo, hi)
    lo, hi = paired_ci(np.array(d_breakdowns, dtype=float))
    assert hi < 0, (lo, hi)


def test_repairs_at_shift_end_take_the_break():
    """Day shifts 06-18 on weekdays; planned repairs of 0.5-1.5 h (half a breakdown repair of
    1-3 h), flagged 12 processing hours ahead. With ``stop_at: shift_end`` every planned repair
    starts after a shift end and fits the night: no working time is lost to it; with ``lot_end``
    the repairs fall in shifts."""
    cal = {"shifts": {"day": {"start": "06:00", "end": "18:00"}},
           "week": {d: ["day"] for d in ("mon", "tue", "wed", "thu", "fri")}}
    fast = {"time_to_failure": FAILING["time_to_failure"],
            "time_to_repair": {"dist": "uniform", "min": 1, "max": 3, "unit": "h"}}

    def run(stop_at):
        p = plant([station("a", const(500), failures=fast), station("b", expo(400))],
                  expo(700), 28, pdm(1.0, lead_h=12, repair_factor=0.5, stop_at=stop_at),
                  types=(PLAIN,), calendar=cal)
        return twin.simulate(p, seed=3).kpis["strategies"]["predictive_maintenance"][
            "stations"]["a"]

    night, lot = run("shift_end"), run("lot_end")
    assert night["predicted_stops"] > 3 and lot["predicted_stops"] > 3
    assert night["planned_repair_in_shift_h"] == 0 < night["planned_repair_h"]
    assert lot["planned_repair_in_shift_h"] > 0
    assert night["availability_all_stops"] > lot["availability_all_stops"]


def test_own_planned_repair_distribution_and_own_streams():
    res = twin.simulate(pdm_plant(const(500), pdm(1.0, time_to_repair=const(30, "min"))), seed=1)
    rep = res.kpis["strategies"]["predictive_maintenance"]["stations"]["a"]
    assert rep["planned_repair_h"] == pytest.approx(rep["predicted_stops"] * 0.5, abs=0.5)
    model = engine.build(pdm_plant(const(500), pdm(0.5)), 1, pdm_plant(const(500)).simulation.start,
                         1)
    assert "station:a:machine:1:pdm:detect" in model.streams.names
    assert not (model.meter.state_s[:, DOWN] < 0).any()


# --- configuration errors ------------------------------------------------------------------------

@pytest.mark.parametrize("strategy, path, words", [
    ({"type": "smart_standby", "stations": {"x": {"timeout_s": 5}}}, "strategies[0].stations.x",
     "unknown station"),
    ({"type": "smart_standby", "equipment_types": {"saver": {"mode": "off"}}},
     "strategies[0].equipment_types.saver.mode", "no saving mode 'off'"),
    ({"type": "smart_standby", "timeout_s": -1}, "strategies[0].timeout_s", "greater than"),
    ({"type": "predictive_maintenance", "lead_time_h": 1, "repair_factor": 1},
     "strategies[0].detection_rate", "required"),
    ({"type": "predictive_maintenance", "detection_rate": 0.5, "lead_time_h": 1},
     "strategies[0]", "exactly one of 'repair_factor'"),
    ({"type": "predictive_maintenance", "detection_rate": 0.5, "lead_time_h": 1,
      "repair_factor": 1, "stations": ["b"]}, "strategies[0].stations[0]", "no failures"),
    ({"type": "predictive_maintenance", "detection_rate": 0.5, "lead_time_h": 1,
      "repair_factor": 1, "stop_at": "shift_end"}, "strategies[0].stop_at", "needs a calendar"),
])
def test_bad_parameters_are_named(strategy, path, words):
    with pytest.raises(ConfigError) as err:
        plant([station("a", const(60), equipment="saver", failures=FAILING),
               station("b", const(60), equipment="saver")], const(100), strategies=[strategy])
    msg = str(err.value)
    assert path in msg and words in msg, msg
