"""Conveyor (continuous-flow) stations, checked by hand.

A conveyor takes a lot at most every pitch p and keeps it for the transit time T (belt time), so
with deterministic arrivals every lot's time on the belt, the lots on it at any moment and the
station's power (running power plus one increment per lot) can be written down; the expected
figures below come from that arithmetic, written out in each docstring. Conventions (plant-file
documentation): an arrival source's lots arrive at N, 2N, 3N, ...; the run covers [0, T).
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from conftest import MACHINE, const, day_shift_calendar, expo, make_plant, station

import twin
from twin import engine
from twin.config.errors import ConfigError
from twin.results import collect

DAY = 86400.0


def oven(pitch: float, transit: float, **fields) -> dict:
    """A conveyor station ``oven`` on the default equipment (idle 2 kW, processing 10 kW)."""
    conv = {"pitch_s": pitch, "transit_s": transit}
    conv.update(fields.pop("conv", {}))
    return station("oven", conveyor=conv, **fields)


def test_deterministic_arrivals_throughput_lead_time_and_lots_on_belt():
    """Lots every 120 s, pitch 100 s, transit 350 s, one day.

    Arrivals at 120k (k = 1..719; 86400 itself is outside the run); 120 >= pitch, so each enters
    on arrival and leaves 350 s later: lead time 350 s. Finished by 86400: 120k + 350 < 86400 ->
    k <= 717. Lots on the belt: 717 x 350 s + the two still riding (lot 718 from 86160: 240 s,
    lot 719 from 86280: 120 s) = 251310 lot s -> mean 251310 / 86400 = 2.908680 lots, close to
    Little's L = lambda W = 350 / 120 = 2.9167 (the difference is the start-up, the first 120 s).
    Capacity ceil(350 / 100) = 4; utilization (lots on the belt per place) = lot s / (4 x 86400)."""
    res = twin.simulate(make_plant([oven(100, 350)], interarrival=const(120)), days=1, seed=1)
    k = res.kpis
    assert k["lots_completed"] == 717
    assert k["lots_released"] == 719
    lead_s = res.lots["lead_time_h"].to_numpy() * 3600
    assert lead_s == pytest.approx([350.0] * 717)
    conv = k["stations"]["oven"]["conveyor"]
    assert conv["capacity_lots"] == 4
    assert conv["mean_lots_on_belt"] == pytest.approx(251310 / DAY, rel=1e-9)
    assert conv["stopped_h"] == 0
    st = k["stations"]["oven"]
    assert st["utilization"] == pytest.approx(251310 / (4 * DAY), rel=1e-9)
    # one machine: empty for the first 120 s, carrying lots after; performance = lots x pitch /
    # run time (the pitch is the ideal cycle time)
    assert st["machines"] == 1
    assert st["time_share"] == pytest.approx({"starved": 120 / DAY, "processing": 1 - 120 / DAY})
    assert st["performance"] == pytest.approx(717 * 100 / DAY)
    assert k["lots_in_system_at_end"] == 2  # the two on the belt


def test_pitch_limits_throughput_to_one_lot_per_pitch():
    """Lots every 60 s into a conveyor of pitch 100 s, transit 250 s, one day.

    The belt takes a lot every 100 s from the first arrival (60 s): entries at 60 + 100j, exits at
    310 + 100j < 86400 -> j <= 860: 861 lots finished (throughput 1 / pitch; arrivals 1439). The
    j-th lot (0-based) arrives at 60(j+1) and leaves at 310 + 100j: lead time 250 + 40j s."""
    res = twin.simulate(make_plant([oven(100, 250)], interarrival=const(60)), days=1, seed=1)
    assert res.kpis["lots_completed"] == 861
    lead_s = res.lots["lead_time_h"].to_numpy() * 3600
    assert lead_s == pytest.approx([250.0 + 40.0 * j for j in range(861)])


def test_energy_of_a_load_pattern_with_a_power_table():
    """Pitch 100 s, transit 250 s (3 places), increments 3, 2, 1 kW for the 1st, 2nd, 3rd lot on
    the belt; the oven draws 2 kW running empty, 10 kW carrying lots; lots every 100 s, one day.

    Lots enter at 100k and leave at 100k + 250. On the belt: [0, 100) none: 2 kW; [100, 200) one:
    10 + 3 = 13 kW; [200, 300) two: 15 kW; from 300 on, in each 100 s, 50 s three (16 kW) and
    50 s two (15 kW), 861 such periods up to 86400.
    E = (100 x 2 + 100 x 13 + 100 x 15 + 861 x (50 x 16 + 50 x 15)) / 3600 = 1337550 / 3600 kWh."""
    plant = make_plant([oven(100, 250, conv={"lot_power_kw": {"electricity": [3, 2, 1]}})],
                       interarrival=const(100))
    res = twin.simulate(plant, days=1, seed=1)
    total = 1337550 / 3600
    assert res.kpis["electricity_kwh"] == pytest.approx(total, rel=1e-12)
    assert res.kpis["stations"]["oven"]["energy_kwh"] == pytest.approx(total, rel=1e-9)
    assert res.hourly["electricity_demand_kwh"].sum() == pytest.approx(total, rel=1e-12)
    # hour 1 (3600..7200) is whole periods: 36 x (50 x 16 + 50 x 15) / 3600 kWh
    assert res.hourly["electricity_demand_kwh"].iloc[1] == pytest.approx(36 * 1550 / 3600)


def test_one_increment_per_lot_is_the_same_as_a_flat_table():
    """``lot_power_kw: 1.5`` is the table [1.5, 1.5, 1.5, 1.5] (4 places): the same energy.

    Lots every 120 s (at 120k, k = 1..719), transit 350 s: in [120k, 120k + 110) three lots ride
    (entered at 120k, 120(k-1), 120(k-2)), in [120k + 110, 120k + 120) two. The oven draws 2 kW
    for the first 120 s, then 10 + 1.5 kW to the end (86280 s); the 2nd lot's 1.5 kW from 240 s
    on (86160 s); the 3rd's in [120k, 120k + 110) for k = 3..719 (717 x 110 s; the last ends at
    86390 < 86400); a 4th never rides.
    E = (120 x 2 + 86280 x 11.5 + 1.5 x (86160 + 717 x 110)) / 3600."""
    flat = make_plant([oven(100, 350, conv={"lot_power_kw": {"electricity": 1.5}})],
                      interarrival=const(120))
    table = make_plant([oven(100, 350, conv={"lot_power_kw": {"electricity": [1.5] * 4}})],
                       interarrival=const(120))
    a = twin.simulate(flat, days=1, seed=1).kpis["electricity_kwh"]
    b = twin.simulate(table, days=1, seed=1).kpis["electricity_kwh"]
    hand = (120 * 2 + 86280 * 11.5 + 1.5 * (86160 + 717 * 110)) / 3600
    assert a == pytest.approx(hand, rel=1e-12)
    assert b == pytest.approx(hand, rel=1e-12)


def blocking_plant(lots: int):
    """Oven (pitch 10 s, transit 30 s) into a 100 s station behind a one-lot buffer; ``lots``
    lots released at once at the start."""
    return make_plant([oven(10, 30), station("slow", const(100), buffer_capacity=1)],
                      sources=[{"id": "plan", "kind": "plan", "quantities": {"part": lots}}])


def test_a_full_exit_stops_the_belt_and_its_lots_resume_where_they_stopped():
    """Four lots at t = 0 enter at 0, 10, 20, 30 and are due out at 30, 40, 50, 60 (belt time).
    Lot 1 goes to 'slow' (30-130), lot 2 into its buffer (40); lot 3 finds the buffer full at 50:
    the belt stops until 130 ('slow' takes lot 2). Lot 4 still has 10 s to ride: out at 140, buffer
    full again (lot 3): stopped until 230. Stopped 80 + 90 = 170 s. 'slow' finishes the lots at
    130, 230, 330, 430 (lead times, all released at 0). The oven carries lots on a running belt
    in [0, 50) and [130, 140): 60 s of processing; blocked 170 s."""
    model = engine.build(blocking_plant(4), 1, dt.date(2026, 1, 1), 1)
    engine.run(model, progress=False)
    res = collect(model, 0.0, 0)
    assert res.lots["lead_time_h"].to_numpy() * 3600 == pytest.approx([130, 230, 330, 430])
    conv = res.kpis["stations"]["oven"]["conveyor"]
    assert conv["stopped_h"] == pytest.approx(170 / 3600)
    eq = res.equipment.loc["oven"]
    assert eq["processing_h"] == pytest.approx(60 / 3600)
    assert eq["blocked_h"] == pytest.approx(170 / 3600)
    # energy: 10 kW for 60 s, blocked at idle's 2 kW for 170 s, 2 kW the rest of the day
    assert eq["electricity_kwh"] == pytest.approx((60 * 10 + (DAY - 60) * 2) / 3600)


def test_flow_is_conserved_through_a_blocking_conveyor():
    """Random arrivals (mean 40 s) into an oven (pitch 20 s, transit 300 s) feeding a slower
    station (exponential, mean 45 s) behind a 2-lot buffer, ten days: the oven blocks often.
    Every lot released is finished or in the plant (a buffer, the belt, or the slow machine), and
    the belt never holds more than its capacity ceil(300 / 20) = 15."""
    plant = make_plant([oven(20, 300), station("slow", expo(45), buffer_capacity=2)],
                       interarrival=expo(40))
    model = engine.build(plant, 10, dt.date(2026, 1, 1), 3)
    belt = model.stations[0].belt
    most = 0
    for k in range(1, 201):
        model.env.run(until=model.horizon_s * k / 200)
        most = max(most, belt.lots)
        flow = model.flow
        buffered = sum(len(rt.input.items) for rt in model.stations)
        elsewhere = flow.in_system - buffered - belt.lots
        # the rest is in hand: 'slow''s lot, the oven's lot at a blocked exit, a lot taken from
        # the oven's buffer not yet on the belt; a lost lot would make this grow, a duplicate
        # make it negative
        assert 0 <= elsewhere <= 3
        assert sum(flow.completed) + flow.in_system == sum(flow.released)
    assert most <= 15
    model.meter.close()
    res = collect(model, 0.0, 0)
    assert res.kpis["stations"]["oven"]["conveyor"]["stopped_h"] > 0


def test_littles_law_on_a_long_random_run():
    """Poisson arrivals (mean 60 s), pitch 30 s, transit 600 s, no blocking, 20 days: every lot
    stays exactly 600 s on the belt, so the lot seconds on the belt are 600 x (lots finished) plus
    the part ridden by those still on it (at most 20 lots x 600 s): L = lambda W within that."""
    res = twin.simulate(make_plant([oven(30, 600)], interarrival=expo(60)), days=20, seed=5)
    k = res.kpis
    horizon = 20 * DAY
    area = k["stations"]["oven"]["conveyor"]["mean_lots_on_belt"] * horizon
    done = k["lots_completed"]
    assert done * 600 <= area + 1e-6 <= done * 600 + 20 * 600
    throughput = done / horizon
    assert area / horizon == pytest.approx(throughput * 600, rel=0.01)


def test_no_lot_enters_after_the_shift_and_the_belt_empties_before_the_break():
    """Day shift 08:00-16:00 (Thursday 2026-01-01), 60 lots released at 08:00 (the buffer keeps
    what the belt cannot take); pitch 600 s, transit 1800 s. Entries at 08:00 + 600j while before
    16:00: j = 0..47, 48 lots; the last leaves at 08:00 + 28200 + 1800 = 16:20; none finishes
    later that day. The oven then goes off (saving mode, no warm-up needed before Friday's
    shift): processing 08:00-16:20 is 30000 s. Off (off_shift_mode, warm-up 30 min before the
    shift) 00:00-07:30 and 16:20-24:00: 7.5 + 7 2/3 h; warm-up 07:30-08:00."""
    etype = {**MACHINE, "saving_modes": {"off": {"warm_up_s": 1800}}, "off_shift_mode": "off"}
    plant = make_plant([oven(600, 1800)], equipment_types=[etype],
                       sources=[{"id": "plan", "kind": "plan", "quantities": {"part": 60}}],
                       calendar=day_shift_calendar(("08:00", "16:00")))
    res = twin.simulate(plant, days=1, start="2026-01-01", seed=1)
    assert res.kpis["lots_completed"] == 48
    assert res.lots["completed"].max() == pd.Timestamp("2026-01-01 16:20", tz="Asia/Shanghai")
    eq = res.equipment.loc["oven"]
    assert eq["processing_h"] == pytest.approx(30000 / 3600)
    assert eq["off_h"] == pytest.approx(7.5 + 7 + 2 / 3)
    assert eq["warm_up_h"] == pytest.approx(0.5)


def test_two_belts_in_series_stop_taking_lots_at_the_shift_end():
    """A belt waiting for work when the shift ends and a lot then arrives must not take it (nor
    spin in zero time: the regression of issue 18's automotive plant). Day shift 08:00-16:00,
    60 lots at 08:00; belt A pitch 600 s, transit 1800 s; belt B pitch 300 s, transit 1800 s.
    A takes lots j = 0..47 at 08:00 + 600j and hands them to B at 08:30 + 600j; B takes each at
    once while before 16:00 (j = 0..44, the last at 15:50) and waits for the next in between, so
    lot 45 reaches B's buffer at 16:00 with B's get outstanding: it stays there. 45 lots done,
    the last at 15:50 + 30 min = 16:20; 3 wait in B's buffer, 12 in A's. (Before the fix the run
    stalled at 16:00.)"""
    etype = {**MACHINE, "saving_modes": {"off": {"warm_up_s": 1800}}, "off_shift_mode": "off"}
    belts = [station("a", conveyor={"pitch_s": 600, "transit_s": 1800}),
             station("b", conveyor={"pitch_s": 300, "transit_s": 1800})]
    plant = make_plant(belts, equipment_types=[etype],
                       sources=[{"id": "plan", "kind": "plan", "quantities": {"part": 60}}],
                       calendar=day_shift_calendar(("08:00", "16:00")))
    res = twin.simulate(plant, days=1, start="2026-01-01", seed=1)
    assert res.kpis["lots_completed"] == 45
    assert res.lots["completed"].max() == pd.Timestamp("2026-01-01 16:20", tz="Asia/Shanghai")
    # B's belt carries lots without a gap from 08:30 to 16:20 (its first place's processing)
    assert res.equipment.loc["b", "processing_h"] == pytest.approx(7 + 50 / 60)


@pytest.mark.parametrize(("fields", "where"), [
    ({"process_time": const(10)}, "process_time"),
    ({"machines": 2}, "machines"),
    ({"batch_size": 2}, "batch_size"),
    ({"setup_time": const(10)}, "setup_time"),
    ({"deferrable": True}, "deferrable"),
    ({"switch_on": {"lots": 3}}, "switch_on"),
    ({"quality": {"yield_fraction": 0.9}}, "quality"),
    ({"cleaning": [{"id": "wipe", "every_lots": 5, "duration": const(60)}]}, "cleaning"),
])
def test_what_a_conveyor_cannot_combine_with_is_a_clear_error(fields, where):
    with pytest.raises(ConfigError, match=rf"stations\[0\]\.{where}.*conveyor"):
        make_plant([oven(10, 30, **fields)])


def test_a_power_table_of_the_wrong_length_is_a_clear_error():
    with pytest.raises(ConfigError, match=r"lot_power_kw.electricity has 2 entries.*= 3"):
        make_plant([oven(10, 30, conv={"lot_power_kw": {"electricity": [1, 2]}})])


def test_smart_standby_sends_an_empty_oven_to_standby():
    """One lot at t = 0 rides 100 s; smart standby (standby after 600 s ready) then puts the empty
    oven into standby at 700 s until the end of the day (no more work): standby 86400 - 700 s,
    starved 600 s. Energy: 10 kW for 100 s, 2 kW for 600 s, standby 0.5 kW for the rest."""
    etype = {"id": "machine", "power_kw": {"electricity": {"standby": 0.5, "idle": 2,
                                                           "processing": 10}},
             "saving_modes": {"standby": {"warm_up_s": 60, "min_stay_s": 0}}}
    plant = make_plant([oven(10, 100)], equipment_types=[etype],
                       sources=[{"id": "plan", "kind": "plan", "quantities": {"part": 1}}],
                       strategies=[{"type": "smart_standby", "mode": "standby",
                                    "timeout_s": 600}])
    res = twin.simulate(plant, days=1, seed=1)
    eq = res.equipment.loc["oven"]
    assert eq["standby_h"] == pytest.approx((DAY - 700) / 3600)
    assert eq["starved_h"] == pytest.approx(600 / 3600)
    assert res.kpis["electricity_kwh"] == pytest.approx(
        (100 * 10 + 600 * 2 + (DAY - 700) * 0.5) / 3600)
