"""Where strategies, the EMS, LP dispatch and studies meet: the invariants hold in combination.

Each feature has its own tests; these run them together on the demo plant and on small
designed plants: several strategies on one plant (gates of different strategies on one
station, smart standby on held machines, predictive maintenance beside smart standby), the
in-the-loop EMS with the rolling LP, and the invariants of DESIGN.md checked from outside:
lots conserved (census during the run), energy balanced per interval, SOC within its limits,
no battery discharge that can only be curtailed, same seed = same KPIs.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from conftest import SITE, const, day_shift_calendar, expo, make_plant
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from test_energy_balance import (
    DEMO,
    check_electricity,
    check_heat_and_cooling,
    check_hourly,
    check_kpis,
    col,
    interval_hours,
    tol,
)
from test_flow_invariants import census

import twin
from twin import engine
from twin.results import collect

PDM = {"type": "predictive_maintenance", "detection_rate": 0.8, "lead_time_h": 2,
       "repair_factor": 0.5}


def demo_config(strategies: list[dict], policy: str | None = None) -> dict:
    """The demo plant as a dict, with ``strategies`` and (optionally) another dispatch policy;
    the perfect-foresight bound is off (it costs time and is not what is checked here)."""
    cfg = twin.load_plant(DEMO).model_dump(mode="json", exclude_none=True)
    cfg["strategies"] = strategies
    cfg["energy"]["dispatch"]["bound"] = False
    if policy is not None:
        cfg["energy"]["dispatch"]["policy"] = policy
    return cfg


def run_checked(plant: twin.Plant, days: float, seed: int, checks: int = 20) -> twin.Result:
    """Run ``plant`` taking the lot census ``checks`` times, close as :func:`engine.run` does,
    check the policy-independent energy invariants and return the result."""
    model = engine.build(plant, days, plant.simulation.start, seed)
    for k in range(1, checks + 1):
        model.env.run(until=model.horizon_s * k / checks)
        census(model)
    if model.ems is not None and model.ems.live:
        model.ems.close(model.horizon_s)
    model.meter.close()
    if model.ems is not None:
        model.ems.settle_from_meter(model.meter)
    result = collect(model, 0.0, 0)
    if plant.energy is not None:
        check_energy(result, plant)
    return result


def check_energy(result: twin.Result, plant: twin.Plant) -> None:
    """Invariants that hold whatever the dispatch policy: balance per interval and carrier,
    grid limits, SOC window and power ratings, and no discharge that can only be curtailed."""
    h = interval_hours(result)
    check_electricity(result, plant, h)
    check_heat_and_cooling(result, plant, h)
    check_hourly(result)
    check_kpis(result)
    iv = result.intervals
    bats = plant.energy.batteries
    soc = col(iv, "battery_soc_kwh")
    lo = sum((b.soc_min_pct or 0) / 100 * b.energy_kwh for b in bats)
    hi = sum((100 if b.soc_max_pct is None else b.soc_max_pct) / 100 * b.energy_kwh
             for b in bats)
    t = tol(hi)
    assert (soc >= lo - t).all() and (soc <= hi + t).all(), (soc.min(), soc.max())
    dis = col(iv, "battery_discharge_kwh")
    p_max = sum(b.power_kw for b in bats)
    assert (dis <= p_max * h + tol(p_max * h)).all()
    onsite = col(iv, "pv_kwh") + col(iv, "wind_kwh") + col(iv, "chp_kwh")
    room = np.maximum(col(iv, "electricity_demand_kwh") - onsite
                      + plant.energy.grid.export_limit_kw * h, 0.0)
    assert (dis <= room + tol(dis, room)).all(), "battery discharged into curtailment"


def same_kpis(a: twin.Result, b: twin.Result) -> bool:
    return json.dumps(a.kpis, sort_keys=True, default=str) == json.dumps(
        b.kpis, sort_keys=True, default=str)


# --- the EMS with LP dispatch -------------------------------------------------------------------

def test_rolling_lp_never_discharges_into_curtailment():
    """The rolling LP plans on forecasts; where the actual net load is lower than forecast, its
    set-point used to exceed what the site could take and the excess was curtailed (demo plant,
    export off, 5 days: 36 of 480 intervals, up to 5.7 kWh each). The EMS now caps a discharge
    at the net load plus the export room; the battery keeps that energy."""
    plant = twin.Plant.model_validate(demo_config([], "rolling_lp"))
    result = run_checked(plant, 5, 3, checks=1)
    assert result.intervals["battery_discharge_kwh"].sum() > 100  # the battery works


# --- studies ------------------------------------------------------------------------------------

STUDY = f"""\
name: integration
plant: {DEMO.as_posix()}
days: 2
replications: 1
seed: 5
base: baseline
scenarios:
  baseline:
    overrides:
      energy.dispatch.bound: false
  combo:
    overrides:
      energy.dispatch.bound: false
      energy.batteries[id=bess].energy_kwh: 800
    strategies:
      - {{type: tou_shifting, slack_margin_h: 1}}
      - {{type: smart_standby}}
      - {{type: predictive_maintenance, detection_rate: 0.8, lead_time_h: 2, repair_factor: 0.5}}
  lp:
    overrides:
      energy.dispatch.policy: rolling_lp
      energy.dispatch.bound: false
    strategies:
      - {{type: peak_shaving, limit_kw: 300}}
"""


def _files(out) -> dict[str, bytes]:
    """Every file of a study folder, less what may differ between runs (wall-clock seconds in
    the manifests, the number of processes and the executor in study.json)."""
    files = {}
    for p in sorted(out.rglob("*")):
        if not p.is_file():
            continue
        data = p.read_bytes()
        if p.name in ("manifest.json", "study.json"):
            doc = json.loads(data)
            for key in ("wall_clock_s", "jobs", "executor"):
                doc.pop(key, None)
            data = json.dumps(doc, sort_keys=True).encode()
        files[str(p.relative_to(out))] = data
    return files


def test_study_with_strategies_overrides_and_rolling_lp_is_the_same_in_parallel(tmp_path):
    """A scenario that adds strategies and overrides plant fields, and one with the rolling LP
    and peak shaving (the in-the-loop EMS), give the same files with 1 and 2 processes."""
    from twin.config.study import load_study
    from twin.study import run_study

    f = tmp_path / "study.yaml"
    f.write_text(STUDY)
    one = run_study(load_study(f), tmp_path / "one", jobs=1, progress=None, dashboard=False)
    two = run_study(load_study(f), tmp_path / "two", jobs=2, progress=None, dashboard=False)
    a, b = _files(one), _files(two)
    assert a.keys() == b.keys() and len(a) > 20
    for name in a:
        assert a[name] == b[name], name
    combo = json.loads((one / "combo/rep0/manifest.json").read_text())
    assert combo["config"]["energy"]["batteries"][0]["energy_kwh"] == 800
    kpis = json.loads((one / "combo/rep0/kpis.json").read_text())
    assert set(kpis["strategies"]) == {"tou_shifting", "smart_standby", "predictive_maintenance"}
    lp = json.loads((one / "lp/rep0/kpis.json").read_text())
    assert lp["dispatch_lp_solves"] == 2 * 24 // 4 and "peak_shaving" in lp["strategies"]


# --- the EMS in the loop equals the EMS settled after the run -----------------------------------

@pytest.fixture()
def soc_reader():
    """A strategy that reads the state of charge every hour and changes nothing."""
    from twin.strategies import STRATEGIES, Strategy, register_strategy

    @register_strategy("test_soc_reader")
    class SocReader(Strategy):
        reads_storage = True

        def install(self, model):
            self.seen = []

            def watch():
                while True:
                    yield model.env.timeout(3600.0)
                    self.seen.append(model.signals.soc_frac())

            model.env.process(watch())

        def report(self, model):
            return {"reads": len(self.seen)}

    yield SocReader
    STRATEGIES.pop("test_soc_reader", None)


@pytest.mark.parametrize("policy", [None, "rolling_lp", "perfect_foresight"])
def test_a_strategy_that_changes_nothing_leaves_the_balance_as_settled(policy, soc_reader):
    """A strategy that reads the state of charge (so the EMS runs in the loop) but changes
    nothing: every interval quantity agrees with the run settled after the simulation to 1e-9
    (measured: 2.5e-12). Strategies that read no state of charge (predictive maintenance here)
    leave the EMS settling after the run."""
    settled = twin.simulate(twin.Plant.model_validate(demo_config([], policy)), days=3, seed=2)
    pdm_plant = twin.Plant.model_validate(demo_config([{**PDM, "detection_rate": 0.0}], policy))
    assert not engine.build(pdm_plant, 3, pdm_plant.simulation.start, 2).ems.live
    live_plant = twin.Plant.model_validate(demo_config([{"type": "test_soc_reader"}], policy))
    model = engine.build(live_plant, 3, live_plant.simulation.start, 2)
    assert model.ems.live
    live = twin.simulate(live_plant, days=3, seed=2)
    assert live.kpis["strategies"]["test_soc_reader"]["reads"] == 71
    assert live.kpis["units_completed"] == settled.kpis["units_completed"]
    a = settled.intervals.select_dtypes("number")
    b = live.intervals.select_dtypes("number")
    assert list(a.columns) == list(b.columns)
    for name in a.columns:
        np.testing.assert_allclose(b[name], a[name], rtol=1e-9, atol=1e-9, err_msg=name)
    for key in ("cost_total", "grid_import_kwh", "co2_scope2_location_kg", "peak_demand_kw"):
        assert live.kpis[key] == pytest.approx(settled.kpis[key], rel=1e-9)


# --- random combinations of strategies on small plants ------------------------------------------

STRATEGY_CHOICES = {
    "tou_shifting": {"type": "tou_shifting"},
    "peak_shaving": {"type": "peak_shaving", "limit_kw": 40},
    "pv_following": {"type": "pv_following"},
    "carbon_aware": {"type": "carbon_aware"},
    "smart_standby": {"type": "smart_standby"},
    "predictive_maintenance": PDM,
}


@st.composite
def combined_plants(draw) -> tuple[twin.Plant, int]:
    """A three-station line (the middle one a deferrable batch oven with a finite buffer, the
    first with failures), PV, a battery, a TOU tariff, a random dispatch policy, and two or more
    strategies."""
    names = draw(st.lists(st.sampled_from(sorted(STRATEGY_CHOICES)), min_size=2, max_size=6,
                          unique=True))
    strategies = [dict(STRATEGY_CHOICES[n]) for n in names]
    shifts = draw(st.booleans())
    for s in strategies:
        if s["type"] == "peak_shaving":
            s["limit_kw"] = draw(st.sampled_from([25, 40, 60]))
        elif s["type"] == "smart_standby":
            s.update(draw(st.sampled_from([{}, {"timeout_s": 0}, {"wake_ahead": "mean"}])))
        elif s["type"] == "predictive_maintenance" and shifts:
            s["stop_at"] = draw(st.sampled_from(["lot_end", "shift_end"]))
    policy = draw(st.sampled_from(["self_consumption", "tou_arbitrage", "rolling_lp"]))
    mean_s = draw(st.sampled_from([240, 420, 600]))
    types = [
        {"id": "machine", "power_kw": {"electricity": {"off": 0, "standby": 0.5, "warm_up": 4,
                                                       "idle": 2, "processing": 10,
                                                       "down": 0.5}},
         "saving_modes": {"standby": {"warm_up_s": 120, "min_stay_s": 300}}},
        {"id": "oven", "power_kw": {"electricity": {"off": 0.1, "warm_up": 12, "idle": 6,
                                                    "processing": 20}},
         "saving_modes": {"off": {"warm_up_s": 900, "min_stay_s": 1800}},
         "off_shift_mode": "off"},
    ]
    stations = [
        {"id": "cut", "equipment": "machine", "process_time": expo(mean_s * 0.8),
         "failures": {"time_to_failure": expo(3, "h"), "time_to_repair": expo(20, "min")}},
        {"id": "oven", "equipment": "oven", "deferrable": True,
         "buffer_capacity": draw(st.sampled_from([6, 20])), "batch_size": 2,
         "process_time": const(2 * mean_s * 0.8)},
        {"id": "pack", "equipment": "machine", "process_time": expo(mean_s * 0.5)},
    ]
    extra = {"calendar": day_shift_calendar(("06:00", "22:00"))} if shifts else {}
    plant = make_plant(
        stations, equipment_types=types, interarrival=expo(mean_s),
        products=[{"id": "part", "route": ["cut", "oven", "pack"],
                   "due_h": draw(st.sampled_from([12, 36]))}],
        site={**SITE, "province": "Jiangsu"},
        base_loads=[{"id": "base", "group": "facility", "power_kw": {"electricity": 15}}],
        simulation={"settlement_interval_min": 15},
        carbon={"grid_factor_kg_per_kwh": 0.5, "hourly_shape": [1.2] * 7 + [0.7] * 10 + [1.2] * 7},
        energy={"weather": {"synthetic": {"annual_clearness": 0.5,
                                          "monthly_temp_c": [4, 6, 10, 16, 21, 25, 29, 28, 24,
                                                             18, 12, 6],
                                          "daily_temp_swing_c": 7}},
                "pv": [{"id": "pv", "dc_kwp": draw(st.sampled_from([20, 60])), "tilt_deg": 20,
                        "azimuth_deg": 180}],
                "batteries": [{"id": "b", "energy_kwh": 60, "power_kw": 30, "soc_min_pct": 10,
                               "soc_max_pct": 95, "initial_soc_pct": 50}],
                "grid": {"import_limit_kw": draw(st.sampled_from([45, 200])),
                         "export_limit_kw": draw(st.sampled_from([0, 20])),
                         "tariff": {"preset": "jiangsu_2025", "customer_class": "two_part",
                                    "flat_price_per_kwh": 0.45,
                                    "non_floating_adder_per_kwh": 0.2,
                                    "demand_charge_per_kw_month": 40}},
                "dispatch": {"policy": policy, "protect_peak": draw(st.booleans()),
                             "shave_peak": draw(st.booleans())}},
        strategies=strategies, **extra)
    return plant, draw(st.integers(0, 50))


@settings(max_examples=10, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(combined_plants())
def test_random_combinations_of_strategies_keep_every_invariant(case):
    """Any two or more strategies together, with any dispatch policy (the EMS in the loop):
    lots conserved throughout, energy balanced per interval, SOC within its window, no
    exception, and the same seed gives the same KPIs."""
    plant, seed = case
    days = 2.5
    a = run_checked(plant, days, seed)
    b = twin.simulate(plant, days=days, seed=seed)
    assert same_kpis(a, b) or _same_but_wall(a, b)
    assert set(a.kpis["strategies"]) == {s.type for s in plant.strategies}
    assert a.kpis["units_completed"] > 0
    sb = a.kpis["strategies"].get("smart_standby")
    if sb is not None:
        event(f"smart standby switched a held machine: {sb['total']['held_switches'] > 0}")


def _same_but_wall(a: twin.Result, b: twin.Result) -> bool:
    """KPIs equal but for what measures the computer (wall-clock seconds, if any)."""
    ka, kb = (json.loads(json.dumps(r.kpis, sort_keys=True, default=str)) for r in (a, b))
    for k in ka.keys() | kb.keys():
        if "wall" in k or k.endswith("_s_wall"):
            ka.pop(k, None)
            kb.pop(k, None)
    return ka == kb


# --- smart standby through a hold of a scheduling strategy --------------------------------------

def _held_plant(strategies: list[dict], **sections) -> twin.Plant:
    """24/7: a feeder (no saving mode) and a deferrable test bench (standby 0.8 kW against 3 kW
    ready, 300 s warm-up at 3 kW, 1800 s minimum stay: break-even 2,100 s), Jiangsu TOU prices,
    no due dates and an unbounded buffer: every hold ends at a known period change."""
    types = [
        {"id": "feeder", "power_kw": {"electricity": {"idle": 2, "processing": 10}}},
        {"id": "bench", "power_kw": {"electricity": {"off": 0, "standby": 0.8, "warm_up": 3,
                                                     "idle": 3, "processing": 22}},
         "saving_modes": {"standby": {"warm_up_s": 300, "min_stay_s": 1800}},
         "off_shift_mode": "standby"},
    ]
    return make_plant(
        [{"id": "feed", "equipment": "feeder", "process_time": const(600)},
         {"id": "bench", "equipment": "bench", "deferrable": True, "process_time": const(900)}],
        equipment_types=types, interarrival=const(1200), site={**SITE, "province": "Jiangsu"},
        energy={"grid": {"tariff": {"preset": "jiangsu_2025", "customer_class": "two_part",
                                    "flat_price_per_kwh": 0.45,
                                    "non_floating_adder_per_kwh": 0.2}}},
        strategies=strategies, **sections)


def test_smart_standby_sleeps_through_a_hold_and_is_ready_when_it_ends():
    """TOU shifting holds the bench's starts through the peak; with smart standby the held bench
    goes to standby after its break-even time and is warmed up by the period change. Every lot
    starts and finishes when it does without standby (the end of each hold is known), and the
    energy the controller reports saved is what the meter shows the bench used less."""
    days = 3
    tou = twin.simulate(_held_plant([{"type": "tou_shifting"}]), days=days, seed=1)
    both = twin.simulate(_held_plant([{"type": "tou_shifting"}, {"type": "smart_standby"}]),
                         days=days, seed=1)
    held = tou.kpis["strategies"]["tou_shifting"]
    n, hours = held["starts_deferred"], held["hours_held"]  # 3 holds, 23.83 h in all
    assert n >= days and hours > 6 * days and held["released_by"]["signal"] == n
    report = both.kpis["strategies"]["smart_standby"]["stations"]["bench"]
    assert report["held_switches"] == n and report["lots_delayed"] == 0
    # the same lots finish at the same times
    pd.testing.assert_frame_equal(tou.lots, both.lots)
    # by hand, per hold: ready for the break-even time (2,100 s), standby, warm-up (300 s);
    # without standby the bench waits ready (idle) through every hold
    eq_a, eq_b = tou.equipment.loc["bench"], both.equipment.loc["bench"]
    assert eq_a["idle_h"] == pytest.approx(hours, rel=1e-9) and eq_a["standby_h"] == 0
    assert eq_b["idle_h"] == pytest.approx(n * 2100 / 3600, rel=1e-9)
    assert eq_b["warm_up_h"] == pytest.approx(n * 300 / 3600, rel=1e-9)
    standby_h = hours - n * 2400 / 3600
    assert eq_b["standby_h"] == pytest.approx(standby_h, rel=1e-9)
    assert eq_b["starved_h"] == pytest.approx(eq_a["starved_h"], rel=1e-12)
    # saved: (3 - 0.8) kW in standby, nothing while warming up at 3 kW; the controller's
    # report and the meter agree
    saved = eq_a["electricity_kwh"] - eq_b["electricity_kwh"]
    assert saved == pytest.approx(standby_h * 2.2, rel=1e-9)
    assert report["saving_kwh"] == pytest.approx(saved, rel=1e-9)


def test_a_hold_that_runs_into_the_shift_end_needs_no_warm_up():
    """Shifts 06:00-20:00 every day and the January peak 14:00-22:00: the bench's holds end at
    the shift end, not at a period change; it sleeps through them into its off-shift standby
    and warms up only at the next shift start, as without the hold (no 300 s warm-up just
    before 20:00). Lots: every 20 min, 15 min each, so starved gaps (5 min) never pay off."""
    days = 3
    cal = {"calendar": day_shift_calendar(("06:00", "20:00"),
                                          days=("mon", "tue", "wed", "thu", "fri", "sat", "sun"))}
    tou = twin.simulate(_held_plant([{"type": "tou_shifting"}], **cal), days=days, seed=1)
    both = twin.simulate(_held_plant([{"type": "tou_shifting"}, {"type": "smart_standby"}],
                                     **cal), days=days, seed=1)
    held = tou.kpis["strategies"]["tou_shifting"]
    assert held["starts_deferred"] == days
    report = both.kpis["strategies"]["smart_standby"]["stations"]["bench"]
    assert report["held_switches"] == days and report["switches"] == days
    eq_a, eq_b = tou.equipment.loc["bench"], both.equipment.loc["bench"]
    assert eq_b["warm_up_h"] == pytest.approx(eq_a["warm_up_h"], rel=1e-12)
    # each hold: 14:00 (first lot at 14:00 or later) to 20:00, ready for 2,100 s, then standby
    assert eq_a["idle_h"] - eq_b["idle_h"] == pytest.approx(
        eq_b["standby_h"] - eq_a["standby_h"], rel=1e-9)
    pd.testing.assert_frame_equal(tou.lots, both.lots)


def test_peak_shaving_reserves_the_power_of_a_start_coming_back_from_standby():
    """Two benches (30 kW processing, 5 kW ready, 1 kW standby, 600 s minimum stay and 600 s
    warm-up) behind a 10 kW feeder, peak limit 45 kW: one bench may process at a time. Peak
    shaving alone keeps every interval within 45 kW. With smart standby a released bench first
    finishes its minimum stay and warm-up, or its standby watch over the hold; peak shaving must
    count its processing power meanwhile, or the other bench starts too (before: 209 of 480
    intervals over the limit, up to 70 kW)."""
    types = [{"id": "feeder", "power_kw": {"electricity": {"idle": 2, "processing": 10}}},
             {"id": "bench", "power_kw": {"electricity": {"off": 0, "standby": 1, "warm_up": 5,
                                                          "idle": 5, "processing": 30}},
              "saving_modes": {"standby": {"warm_up_s": 600, "min_stay_s": 600}}}]

    def plant(strategies: list[dict]) -> twin.Plant:
        return make_plant(
            [{"id": "feed", "equipment": "feeder", "process_time": const(300)},
             {"id": "bench", "equipment": "bench", "machines": 2, "deferrable": True,
              "process_time": expo(1500)}],
            equipment_types=types, interarrival=expo(900), energy={"grid": {}},
            strategies=strategies)

    peak = {"type": "peak_shaving", "limit_kw": 45}
    alone = twin.simulate(plant([peak]), days=5, seed=2)
    both = twin.simulate(plant([peak, {"type": "smart_standby"}]), days=5, seed=2)
    for r in (alone, both):
        report = r.kpis["strategies"]["peak_shaving"]
        assert report["intervals_over_limit"] == 0, report["peak_kw_by_month"]
        assert r.kpis["peak_demand_kw"] <= 45 + 1e-9
    assert both.kpis["strategies"]["smart_standby"]["total"]["saving_kwh"] > 100
    assert both.kpis["electricity_kwh"] < alone.kpis["electricity_kwh"]
