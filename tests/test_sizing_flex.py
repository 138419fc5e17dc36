"""Flexible production as shiftable load (twin.energy.flex_lp, twin.production.flex_record)
against hand calculations: one block moved from the peak to the valley, with and without a
battery candidate; windows and power that limit the move; the recorded blocks of a run against
the machines' own processing-time counters."""

from __future__ import annotations

import numpy as np
import pytest

from twin.energy.flex_lp import flex_envelope
from twin.energy.optimal import BatteryParams, optimal_dispatch
from twin.energy.sizing import SizingCandidate, SizingData, annualised_cost_per_unit, solve_sizing
from twin.production.flex_record import FlexBlock

N = 24
PRICE = np.where(np.arange(N) < 12, 0.3, 1.0)  # 12 valley hours, then 12 peak hours
ETA = 0.95
DT = np.ones(N)


def _block(release, start, duration, finish, kw=50.0) -> FlexBlock:
    return FlexBlock("formation", release, start, duration, finish, kw)


def test_envelope_of_one_block_by_hand():
    # 50 kW for 2 h (100 kWh), released at 6 h, due by 20 h, run at 12-14 h
    env = flex_envelope([_block(6.0, 12.0, 2.0, 20.0)], DT)
    assert env.recorded_kwh[12:14] == pytest.approx([50.0, 50.0])
    assert env.recorded_kwh.sum() == pytest.approx(100.0)
    # most done by the end of hour t: 50 kW since 6 h, at most 100
    assert env.released_kwh[5] == 0.0 and env.released_kwh[6] == pytest.approx(50.0)
    assert env.released_kwh[7:] == pytest.approx(np.full(N - 7, 100.0))
    # least done: what cannot fit in the hours left before 20 h
    assert env.due_kwh[17] == 0.0 and env.due_kwh[18] == pytest.approx(50.0)
    assert env.due_kwh[19:] == pytest.approx(np.full(N - 19, 100.0))
    assert env.power_kwh[6:20] == pytest.approx(np.full(14, 50.0))
    assert env.power_kwh[:6].sum() == 0.0 and env.power_kwh[20:].sum() == 0.0


@pytest.mark.parametrize(("release", "finish", "kw", "cost"), [
    (0.0, 24.0, 50.0, 100 * 0.3),  # free to move: the whole block in the valley
    (12.0, 14.0, 50.0, 100 * 1.0),  # released in the peak, due 2 h later: stays
    (10.0, 24.0, 50.0, 100 * 0.3),  # hours 10 and 11 hold it exactly
    (10.0, 24.0, 25.0, 50 * 0.3 + 50 * 1.0),  # 25 kW: only 50 kWh fit before the peak
])
def test_one_block_moves_from_peak_to_valley_within_its_window(release, finish, kw, cost):
    dur = 100.0 / kw
    env = flex_envelope([_block(release, 12.0, dur, finish, kw)], DT)
    load = np.zeros(N)  # the plant's other load: nothing (the block is taken out)
    r = optimal_dispatch(load, 0.0, 1.0, [], price=PRICE, flexible=env)
    assert r.cost == pytest.approx(cost)
    rigid = optimal_dispatch(env.recorded_kwh, 0.0, 1.0, [], price=PRICE)
    assert rigid.cost == pytest.approx(100 * 1.0)  # where the run put it: in the peak


def _battery(capex: float) -> SizingCandidate:
    ann, om = annualised_cost_per_unit(capex, 0.0, 10)
    return SizingCandidate("E", "battery_energy", 0.0, 1000.0, ann, om, capex, 0.0, item=0)


def test_flexibility_replaces_the_battery_and_its_worth_by_hand():
    # the block (100 kWh at 12-14 h) may move anywhere in the day; a battery (power ample)
    # shifts a kWh from valley to peak for 0.3 / eta at the cost of eta x 1.0 of peak energy
    env = flex_envelope([_block(0.0, 12.0, 2.0, 24.0)], DT)
    bp = BatteryParams(100.0, 1000.0, ETA, ETA, 0.0, 1.0, 50.0)
    value = 365 * (ETA * 1.0 - 0.3 / ETA)  # 231.487 CNY per kWh of battery and year
    capex = 0.97 * 10 * value  # just worth it (annuity capex / 10 at r = 0)
    a = capex / 10
    rigid = SizingData(env.recorded_kwh, DT, PRICE, np.zeros(N), np.zeros(N), [bp])
    flex = SizingData(np.zeros(N), DT, PRICE, np.zeros(N), np.zeros(N), [bp], flexible=env)
    s_rigid = solve_sizing(rigid, [_battery(capex)])
    s_flex = solve_sizing(flex, [_battery(capex)])
    # without flexibility the battery carries the block: 100 / eta kWh of capacity
    assert s_rigid.sizes["E"] == pytest.approx(100 / ETA, rel=1e-6)
    total_rigid = 365 * 0.3 * 100 / ETA ** 2 + a * 100 / ETA
    assert s_rigid.total == pytest.approx(total_rigid, rel=1e-6)
    # with it the block moves to the valley and no battery is worth building
    assert s_flex.sizes["E"] == pytest.approx(0.0, abs=1e-6)
    assert s_flex.total == pytest.approx(365 * 0.3 * 100, rel=1e-9)
    worth = total_rigid - 365 * 0.3 * 100  # what flexibility is worth a year
    assert s_rigid.total - s_flex.total == pytest.approx(worth, rel=1e-6)
    assert worth == pytest.approx(365 * 0.3 * 100 * (1 / ETA ** 2 - 1) + 0.97 * value * 100 / ETA,
                                  rel=1e-9)


def test_flexibility_never_costs_more_than_the_recorded_placement():
    rng = np.random.default_rng(3)
    blocks = []
    for _ in range(30):
        kw = float(rng.uniform(5, 40))
        rel = float(rng.uniform(0, 18))
        start = rel + float(rng.uniform(0, 3))
        dur = float(rng.uniform(0.3, 4))
        blocks.append(_block(rel, start, dur, start + dur + float(rng.uniform(0, 6)), kw))
    env = flex_envelope(blocks, DT)
    assert env.recorded_kwh.sum() == pytest.approx(
        sum(b.power_kw * (min(b.start_h + b.duration_h, 24.0) - b.start_h) for b in blocks))
    base = rng.uniform(0, 50, N)
    rigid = optimal_dispatch(base + env.recorded_kwh, 0.0, 1.0, [], price=PRICE)
    flex = optimal_dispatch(base, 0.0, 1.0, [], price=PRICE, flexible=env)
    assert flex.cost <= rigid.cost + 1e-9
    assert flex.grid_import_kwh.sum() == pytest.approx(rigid.grid_import_kwh.sum())


def test_recorded_blocks_match_the_machines_processing_time():
    import datetime as dt
    from pathlib import Path

    from twin import engine
    from twin.config.loader import load_plant
    from twin.production.flex_record import record_flexible_work

    root = Path(__file__).resolve().parents[1]
    plant = load_plant(root / "plant_configs" / "demo_plant.yaml")
    m = engine.build(plant, 3, dt.date.fromisoformat(str(plant.simulation.start)), 1)
    blocks = record_flexible_work(m)
    engine.run(m, progress=False)
    flex = [s.id for _, _, s in plant.stations() if s.deferrable]
    assert flex and blocks
    for sid in flex:
        rt = next(r for r in m.stations if r.id == sid)
        mine = [b for b in blocks if b.station == sid]
        # the stations' own counters of processing time started
        started_h = sum(sum(mc.processing_s) for mc in rt.machines) / 3600.0
        assert sum(b.duration_h for b in mine) == pytest.approx(started_h, rel=1e-12)
    for b in blocks:
        assert b.release_h <= b.start_h + 1e-12
        assert b.start_h + b.duration_h <= b.latest_finish_h + 1e-9
        assert b.power_kw > 0


def test_twin_size_reports_sizes_with_and_without_flexible_production(tmp_path, capsys):
    import json
    from pathlib import Path

    from twin.cli import main

    root = Path(__file__).resolve().parents[1]
    study = tmp_path / "flex.yaml"
    study.write_text(f"""\
plant: {root / "plant_configs" / "demo_plant.yaml"}
days: 2
sizing:
  discount_rate: 0.06
  flexible_production: true
  curve_points_pct: []
  candidates:
    - {{path: "energy.batteries[id=bess].energy_kwh", max: 8000, capex_per_unit: 1200,
       lifetime_years: 12}}
""", encoding="utf-8")
    out = tmp_path / "out"
    assert main(["size", str(study), "--out", str(out), "--no-verify"]) == 0
    doc = json.loads((out / "sizing.json").read_text())
    fl = doc["flexibility"]
    assert fl["blocks"] > 0 and fl["energy_kwh_per_year"] > 0
    # the run's own placement of the work is one the LP may keep: flexibility costs nothing
    assert fl["value_per_year"] >= -1e-6 * fl["annualised_cost_without"]
    assert fl["value_per_year"] == pytest.approx(
        fl["annualised_cost_without"] - doc["annualised_cost"]["total"], rel=1e-12)
    assert set(fl["sizes_without"]) == set(doc["sizes"])
    assert "without flexible production" in capsys.readouterr().out
    page = (out / "dashboard.html").read_text(encoding="utf-8")
    assert 'id="sizing-flex"' in page
    assert f"flexibility is worth <b>{fl['value_per_year']:,.0f} " in page


def test_verification_splits_the_gap_with_a_perfect_foresight_run(tmp_path):
    import json
    from pathlib import Path

    from twin.cli import main

    root = Path(__file__).resolve().parents[1]
    study = tmp_path / "gap.yaml"
    study.write_text(f"""\
plant: {root / "plant_configs" / "demo_plant.yaml"}
days: 2
replications: 2
sizing:
  discount_rate: 0.06
  flexible_production: true
  curve_points_pct: []
  verify: {{policy: tou_arbitrage}}
  candidates:
    - {{path: "energy.batteries[id=bess].energy_kwh", max: 8000, capex_per_unit: 1200,
       lifetime_years: 12}}
""", encoding="utf-8")
    out = tmp_path / "out"
    assert main(["size", str(study), "--out", str(out)]) == 0
    v = json.loads((out / "sizing.json").read_text())["verification"]
    g = v["gap_causes"]
    assert (out / "verification" / "sized_perfect_foresight" / "rep1" / "kpis.json").is_file()
    # the perfect-foresight dispatch is optimal for the same demand: the rule policy costs no
    # less in the mean (common random numbers; each replication's own demand)
    assert g["dispatch_policy"] >= -1e-6 * abs(v["lp_operation"])
    # the LP shifted the deferrable work, the simulation did not: it costs more without
    assert g["flexibility_not_taken"] >= -1e-6 * abs(v["lp_operation"])
    assert g["total"] == pytest.approx(v["simulated_operation"]["mean"] - v["lp_operation"],
                                       rel=1e-9)
    parts = sum(g[k] for k in ("dispatch_policy", "demand_across_replications",
                               "flexibility_not_taken", "lp_model"))
    assert parts == pytest.approx(g["total"], rel=1e-9, abs=1e-6)
    assert 'id="sizing-gap"' in (out / "dashboard.html").read_text(encoding="utf-8")
