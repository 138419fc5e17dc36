"""Deterministic plants whose energy is worked out by hand.

Every time is constant, so the whole run can be written down lot by lot; the expected kWh per hour
and per 15-minute interval below come from that arithmetic (written out in each docstring), never
from the code under test. Each plant also checks the books: the hourly table summed over the run,
the equipment table summed over the equipment and the hand-made integral of power agree, and every
hour is the sum of its four 15-minute intervals.

Conventions used (from the plant-file documentation): a source draws its first inter-arrival time
at t = 0, so lots arrive at N, 2N, 3N, ...; a machine starved for work draws idle power; an event at
exactly the end of the run is not part of it (the run covers [0, T)).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import arrivals, const, day_shift_calendar, make_plant, station

import twin

IDLE, PROC = 2.0, 10.0  # kW of the default equipment type ``machine``


def kwh(seconds_at_kw: dict[float, float]) -> float:
    """Energy [kWh] of {power [kW]: seconds at that power}."""
    return sum(kw * s for kw, s in seconds_at_kw.items()) / 3600.0


def overlap(windows: list[tuple[float, float]], a: float, b: float) -> float:
    """Seconds of the union of disjoint ``windows`` inside [a, b), in plain Python."""
    return sum(max(0.0, min(e, b) - max(s, a)) for s, e in windows)


def check_books(result: twin.Result, total_kwh: float, tmp_path=None) -> None:
    """hourly total == equipment total == the hand integral; hour == sum of its 4 intervals."""
    hourly = result.hourly["electricity_demand_kwh"].to_numpy()
    per_eq = result.equipment["electricity_kwh"].to_numpy()
    assert hourly.sum() == pytest.approx(total_kwh, rel=1e-12)
    assert per_eq.sum() == pytest.approx(total_kwh, rel=1e-12)
    assert result.kpis["electricity_kwh"] == pytest.approx(total_kwh, rel=1e-9)
    q = result.intervals["electricity_demand_kwh"].to_numpy()
    assert q.size == 4 * hourly.size
    np.testing.assert_allclose(q.reshape(-1, 4).sum(axis=1), hourly, rtol=1e-12, atol=1e-12)
    # the 15-minute average power is the energy over a quarter of an hour
    np.testing.assert_allclose(result.intervals["electricity_demand_kw"].to_numpy(), 4 * q,
                               rtol=1e-12)
    # group columns add up to the site
    groups = [c for c in result.hourly.columns if c.startswith("electricity_kwh:")]
    np.testing.assert_allclose(result.hourly[groups].sum(axis=1).to_numpy(), hourly, rtol=1e-12)
    if tmp_path is not None:  # the equipment.csv of the run folder, written with 6 digits
        out = result.save(tmp_path / "run")
        eq = pd.read_csv(out / "equipment.csv", index_col=0)
        assert eq["electricity_kwh"].sum() == pytest.approx(total_kwh, rel=1e-5)
        saved = pd.read_parquet(out / "hourly.parquet")
        assert saved["electricity_demand_kwh"].sum() == pytest.approx(total_kwh, rel=1e-12)


# --- a steady line across hour and interval boundaries ------------------------------------------

def test_constant_line_across_hour_and_interval_boundaries(tmp_path):
    """Lots every 500 s, 400 s each, idle 2 kW, processing 10 kW, two days.

    Lot k arrives at 500k and is processed in [500k, 500k + 400) (it never waits: 400 < 500).
    The machine idles in [0, 500) and in the 100 s gaps [500k - 100, 500k) for k >= 2; no gap
    crosses an hour (3600h mod 500 is 0, 100, 200, 300 or 400, never in (400, 500)).

    Hour 0: gaps start at 900, 1400, ..., 3400 (k = 2..7): idle 500 + 6 * 100 = 1100 s,
            processing 2500 s (lots 1-6 whole, lot 7 [3500, 3900) 100 s of it).
            E = (2500 * 10 + 1100 * 2) / 3600 = 27200 / 3600 = 7.5556 kWh.
    Hour 1: gaps with 500k in (3700, 7300]: k = 8..14 -> 7 gaps, idle 700 s, processing 2900 s:
            E = (2900 * 10 + 700 * 2) / 3600 = 30400 / 3600 = 8.4444 kWh.
    Hours 2, 3: 7 gaps each (k = 15..21, 22..28): 8.4444 kWh.
    Hour 4: 500k in [14500, 18100): k = 29..36 -> 8 gaps, idle 800 s:
            E = (2800 * 10 + 800 * 2) / 3600 = 29600 / 3600 = 8.2222 kWh.
    From hour 1 on the pattern repeats every 5 h (18000 s = 36 lots): hour h has 8 gaps when
    h % 5 == 4, else 7.
    15-minute intervals of hour 0 (no gap crosses 900 s boundaries either: 900i mod 500 is 0, 400,
    300, 200, 100):
      [0, 900):     idle [0, 500), lot 1 [500, 900)                 -> (400*10 + 500*2)/3600
      [900, 1800):  gaps [900,1000), [1400,1500): idle 200, proc 700 -> (700*10 + 200*2)/3600
      [1800, 2700): gaps [1900,2000), [2400,2500)                    -> same
      [2700, 3600): gaps [2900,3000), [3400,3500)                    -> same
    Two days: lots 1..345 arrive (345 * 500 = 172500 < 172800); lot 345 is still being processed
    at the end (its 400 s would end at 172900), so 344 lots are finished.
    Total idle = 1100 + 38 * 700 + 9 * 800 = 34900 s (9 hours with h % 5 == 4 among 1..47),
    processing 172800 - 34900 = 137900 s = 344 * 400 + 300.
    """
    plant = make_plant([station("s", const(400))], interarrival=const(500))
    r = twin.simulate(plant, days=2, start="2026-01-01", seed=1)
    hourly = r.hourly["electricity_demand_kwh"].to_numpy()

    assert hourly.size == 48
    assert hourly[0] == pytest.approx(27200 / 3600, rel=1e-12)
    assert hourly[1:4] == pytest.approx([30400 / 3600] * 3, rel=1e-12)
    assert hourly[4] == pytest.approx(29600 / 3600, rel=1e-12)
    for h in range(1, 48):
        idle = 800 if h % 5 == 4 else 700
        assert hourly[h] == pytest.approx(kwh({PROC: 3600 - idle, IDLE: idle}), rel=1e-12), h

    q = r.intervals["electricity_demand_kwh"].to_numpy()
    assert q[:4] == pytest.approx([5000 / 3600, 7400 / 3600, 7400 / 3600, 7400 / 3600], rel=1e-12)
    # interval 4 [3600, 4500): lot 7's last 300 s, lot 8 [4000, 4400); idle [3900,4000),[4400,4500)
    assert q[4] == pytest.approx(kwh({PROC: 700, IDLE: 200}), rel=1e-12)

    # every interval against the lot schedule, overlaps computed in plain Python
    busy = [(500.0 * k, 500.0 * k + 400.0) for k in range(1, 346)]
    for i in range(192):
        p = overlap(busy, 900.0 * i, 900.0 * (i + 1))
        assert q[i] == pytest.approx(kwh({PROC: p, IDLE: 900 - p}), rel=1e-12), i

    total = kwh({PROC: 137900, IDLE: 34900})
    check_books(r, total, tmp_path)
    eq = r.equipment.loc["s"]
    assert eq["processing_h"] == pytest.approx(137900 / 3600, rel=1e-12)
    assert eq["idle_h"] + eq["starved_h"] == pytest.approx(34900 / 3600, rel=1e-12)
    k = r.kpis
    assert k["lots_released"] == 345
    assert k["lots_completed"] == 344
    assert k["lots_in_system_at_end"] == 1
    assert r.hourly["units_completed"].sum() == 344
    # lots finish at 500k + 400: 6 in hour 0 (900 ... 3400; lot 7 at 3900 is in hour 1)
    assert r.hourly["units_completed"].iloc[0] == 6
    # a 15-minute interval holds one or two 100 s gaps; with one (e.g. [4500, 5400): gap
    # [4900, 5000)) the average is (800 s * 10 kW + 100 s * 2 kW) / 900 s = 9.1111 kW
    assert k["peak_demand_kw"] == pytest.approx(8200 / 900, rel=1e-9)


def test_horizon_a_rounding_error_past_the_last_interval():
    """11/288 d = 55 min is 3300.0000000000005 s in floating point: 11 five-minute intervals plus a
    sliver. Lots every 250 s, 100 s each: lots 1..13 arrive (13 * 250 = 3250), the last one is cut
    at the end after 50 s. Processing 12 * 100 + 50 = 1250 s, idle 2050 s:
    E = (1250 * 10 + 2050 * 2) / 3600 = 16600 / 3600 = 4.6111 kWh. (This run used to crash in the
    meter: the sliver fell into a twelfth interval that does not exist.)"""
    plant = make_plant([station("s", const(100))], interarrival=const(250),
                       simulation={"settlement_interval_min": 5})
    r = twin.simulate(plant, days=11 / 288, start="2026-01-01", seed=1)
    assert len(r.intervals) == 11
    assert r.intervals["electricity_demand_kwh"].sum() == pytest.approx(16600 / 3600, rel=1e-9)
    assert r.hourly["electricity_demand_kwh"].sum() == pytest.approx(16600 / 3600, rel=1e-9)
    assert r.kpis["lots_completed"] == 12


# --- shifts, standby with warm-up, base load on shifts ------------------------------------------

PRESS = {
    "id": "press",
    "power_kw": {"electricity": {"standby": 1.5, "warm_up": 12, "idle": 4, "processing": 20}},
    "saving_modes": {"standby": {"warm_up_s": 1800, "min_stay_s": 3600}},
    "off_shift_mode": "standby",
    "warm_up_before_shift": True,
}


def shift_plant():
    return make_plant(
        [{"id": "press", "equipment": "press", "process_time": const(600), "group": "press"}],
        equipment_types=[PRESS],
        calendar=day_shift_calendar(("06:00", "10:00"), ("11:00", "14:00")),
        sources=[arrivals(const(900), active="shifts")],
        base_loads=[{"id": "hvac", "group": "facility", "power_kw": {"electricity": 30},
                     "off_power_kw": {"electricity": 5}, "schedule": "shifts"}],
    )


# expected kWh per hour of the press on a working day (worked out in the test docstring)
STANDBY_H, WARM_HOUR = 1.5, (1800 * 1.5 + 1800 * 12) / 3600  # 6.75
THREE_LOTS = (1800 * 20 + 1800 * 4) / 3600  # 12.0
FOUR_LOTS = (2400 * 20 + 1200 * 4) / 3600  # 14.6667
PRESS_DAY = ([STANDBY_H] * 5 + [WARM_HOUR, THREE_LOTS] + [FOUR_LOTS] * 3 + [4.0, THREE_LOTS]
             + [FOUR_LOTS] * 2 + [STANDBY_H] * 10)
HVAC_DAY = [5.0] * 6 + [30.0] * 4 + [5.0] + [30.0] * 3 + [5.0] * 10


def test_shift_day_with_standby_warm_up_and_base_load(tmp_path):
    """Shifts 06:00-10:00 and 11:00-14:00 Mon-Fri; the run starts Thu 2026-01-01 00:00 for 3 days
    (Thu, Fri, Sat). Press: standby 1.5 kW, warm-up 12 kW, idle 4 kW, processing 20 kW; standby
    needs 30 min to warm up and is worth it for at least 1 h; it warms up before the shift.
    Lots arrive every 15 min, only in shifts (the arrival clock restarts at each shift start), and
    take 10 min. HVAC base load on the shifts: 30 kW, 5 kW off.

    Thursday, press:
      00:00-05:30 standby (the break until 06:00 is 6 h: 6 h - 30 min warm-up >= 1 h)
        hours 0-4: 1.5 kWh each
      05:30-06:00 warm-up, hour 5: (1800 s * 1.5 + 1800 s * 12) / 3600 = 6.75 kWh
      06:00-10:00: lots arrive 06:15, 06:30, ..., 09:45 (the one due at 10:00 is outside the shift)
        hour 6: 3 lots: (1800 s * 20 + 1800 s * 4) / 3600 = 12 kWh
        hours 7-9: 4 lots: (2400 s * 20 + 1200 s * 4) / 3600 = 14.6667 kWh
      10:00-11:00 break of 1 h: standby would last 1 h - 30 min < min stay 1 h, so the press
        stays idle: hour 10: 4 kWh
      11:00-14:00: lots at 11:15 ... 13:45 (last done 13:55): hour 11: 12, hours 12-13: 14.6667
      14:00-24:00 standby: 1.5 kWh each (the break lasts until Fri 06:00, 16 h)
    Friday is the same day again (from the standby of Thursday evening). Saturday has no shift:
    the press is in standby all day (until Monday's warm-up), 1.5 kWh each hour.
    HVAC: 5 kWh per hour off shift, 30 in the shift hours 6-9 and 11-13.
    Lots: 15 in the morning + 11 in the afternoon = 26 per working day.
    """
    r = twin.simulate(shift_plant(), days=3, start="2026-01-01", seed=1)
    press = r.hourly["electricity_kwh:press"].to_numpy()
    hvac = r.hourly["electricity_kwh:facility"].to_numpy()
    sat = [STANDBY_H] * 24
    np.testing.assert_allclose(press, PRESS_DAY + PRESS_DAY + sat, rtol=1e-12)
    np.testing.assert_allclose(hvac, HVAC_DAY + HVAC_DAY + [5.0] * 24, rtol=1e-12)

    # the warm-up hour in 15-minute intervals: standby, standby, warm-up, warm-up
    q = r.intervals["electricity_kwh:press"].to_numpy()
    np.testing.assert_allclose(q[20:24], [0.375, 0.375, 3.0, 3.0], rtol=1e-12)
    np.testing.assert_allclose(q[96 + 20 : 96 + 24], [0.375, 0.375, 3.0, 3.0], rtol=1e-12)

    # time in states over the 3 days (72 h)
    eq = r.equipment.loc["press"]
    processing = 2 * 26 * 600 / 3600  # 8.6667 h
    assert eq["standby_h"] == pytest.approx(2 * (5.5 + 10) + 24, rel=1e-12)
    assert eq["warm_up_h"] == pytest.approx(1.0, rel=1e-12)
    assert eq["idle_h"] == pytest.approx(2.0, rel=1e-12)  # the two lunch breaks
    assert eq["processing_h"] == pytest.approx(processing, rel=1e-12)
    assert eq["starved_h"] == pytest.approx(2 * 7 - processing, rel=1e-12)
    hv = r.equipment.loc["hvac"]
    assert hv["idle_h"] == pytest.approx(14.0, rel=1e-12)  # 'on' is metered as idle
    assert hv["off_h"] == pytest.approx(58.0, rel=1e-12)

    assert r.kpis["lots_completed"] == 52
    assert r.kpis["stations"]["press"]["utilization"] == pytest.approx(processing / 14, rel=1e-9)
    total = sum(PRESS_DAY) * 2 + 24 * 1.5 + sum(HVAC_DAY) * 2 + 24 * 5.0
    check_books(r, total, tmp_path)


# --- changeovers --------------------------------------------------------------------------------

def setup_plant(sequence: str):
    machine = {"id": "machine",
               "power_kw": {"electricity": {"idle": 2, "setup": 6, "processing": 10}}}
    return make_plant(
        [station("s", process_time_by_product={"a": const(600), "b": const(900)},
                 setup_time=const(120))],
        products=[{"id": "a", "route": ["s"]}, {"id": "b", "route": ["s"]}],
        equipment_types=[machine],
        sources=[{"id": "plan", "kind": "plan", "quantities": {"a": 3, "b": 3},
                  "sequence": sequence}],
    )


def test_setup_between_alternating_products():
    """Plan without calendar: at 00:00 it releases 3 lots of a (600 s) and 3 of b (900 s), mixed
    (a, b, a, b, a, b); every change of product costs a 120 s changeover at 6 kW; idle 2 kW,
    processing 10 kW. The first lot needs no changeover.

      a [0, 600), S [600, 720), b [720, 1620), S [1620, 1740), a [1740, 2340),
      S [2340, 2460), b [2460, 3360), S [3360, 3480), a [3480, 4080), S [4080, 4200),
      b [4200, 5100), then idle until the end of the day.
    Hour 0: processing 600 + 900 + 600 + 900 + 120 = 3120 s, setup 4 * 120 = 480 s:
            (3120 * 10 + 480 * 6) / 3600 = 34080 / 3600 = 9.4667 kWh
    Hour 1: processing 480 + 900 = 1380 s, setup 120 s, idle 2100 s:
            (13800 + 720 + 4200) / 3600 = 18720 / 3600 = 5.2 kWh
    Hours 2-23: idle, 2 kWh each.
    """
    r = twin.simulate(setup_plant("mixed"), days=1, start="2026-01-01", seed=1)
    hourly = r.hourly["electricity_demand_kwh"].to_numpy()
    np.testing.assert_allclose(hourly, [34080 / 3600, 18720 / 3600] + [2.0] * 22, rtol=1e-12)
    eq = r.equipment.loc["s"]
    assert eq["setup_h"] == pytest.approx(5 * 120 / 3600, rel=1e-12)
    assert eq["processing_h"] == pytest.approx(3 * (600 + 900) / 3600, rel=1e-12)
    assert r.kpis["products"]["a"]["lots_completed"] == 3
    assert r.kpis["products"]["b"]["lots_completed"] == 3
    check_books(r, 34080 / 3600 + 18720 / 3600 + 22 * 2.0)


def test_setup_once_when_batched():
    """The same plan released batched (a, a, a, b, b, b): a [0, 1800), S [1800, 1920),
    b [1920, 4620). Hour 0: processing 1800 + 1680 s, setup 120 s: (34800 + 720) / 3600 =
    9.8667 kWh. Hour 1: processing 1020 s, idle 2580 s: (10200 + 5160) / 3600 = 4.2667 kWh."""
    r = twin.simulate(setup_plant("batched"), days=1, start="2026-01-01", seed=1)
    hourly = r.hourly["electricity_demand_kwh"].to_numpy()
    np.testing.assert_allclose(hourly, [35520 / 3600, 15360 / 3600] + [2.0] * 22, rtol=1e-12)
    assert r.equipment.loc["s", "setup_h"] == pytest.approx(120 / 3600, rel=1e-12)


# --- failures -----------------------------------------------------------------------------------

def test_failures_count_processing_time_only():
    """Lots every 600 s, 400 s each; a failure after every 1150 s of *processing* (idle time does
    not count), repaired in 300 s; idle 2 kW, processing 10 kW, down 1 kW; 2 hours.

      lot  arrives  processing (P) and down (D)                      processing since repair
       1     600    P [600, 1000)                                        400
       2    1200    P [1200, 1600)                                       800
       3    1800    P [1800, 2150) D [2150, 2450) P [2450, 2500)    1150 -> 50
       4    2400    P [2500, 2900)  (waited 100 s)                       450
       5    3000    P [3000, 3400)                                       850
       6    3600    P [3600, 3900) D [3900, 4200) P [4200, 4300)    1150 -> 100
       7    4200    P [4300, 4700)                                       500
       8    4800    P [4800, 5200)                                       900
       9    5400    P [5400, 5650) D [5650, 5950) P [5950, 6100)    1150 -> 150
      10    6000    P [6100, 6500)                                       550
      11    6600    P [6600, 7000)                                       950
    (lot 12 would arrive at 7200, the end of the run). 11 lots finished, 3 failures.
    Hour 0: P 400+400+350+50+400+400 = 2000 s, D 300 s, idle 1300 s:
            (20000 + 300 + 2600) / 3600 = 22900 / 3600 = 6.3611 kWh
    Hour 1: P 300+100+400+400+250+150+400+400 = 2400 s, D 600 s, idle 600 s:
            (24000 + 600 + 1200) / 3600 = 25800 / 3600 = 7.1667 kWh
    """
    machine = {"id": "machine",
               "power_kw": {"electricity": {"idle": 2, "processing": 10, "down": 1}}}
    plant = make_plant(
        [station("s", const(400),
                 failures={"time_to_failure": const(1150), "time_to_repair": const(300)})],
        equipment_types=[machine], interarrival=const(600))
    r = twin.simulate(plant, days=2 / 24, start="2026-01-01", seed=1)
    hourly = r.hourly["electricity_demand_kwh"].to_numpy()
    np.testing.assert_allclose(hourly, [22900 / 3600, 25800 / 3600], rtol=1e-12)
    q = r.intervals["electricity_demand_kwh"].to_numpy()
    # interval 2 [1800, 2700): P [1800,2150) 350 + [2450,2700) 250, D 300, idle 0
    assert q[2] == pytest.approx(kwh({PROC: 600, 1.0: 300}), rel=1e-12)
    eq = r.equipment.loc["s"]
    assert eq["processing_h"] == pytest.approx(4400 / 3600, rel=1e-12)
    assert eq["down_h"] == pytest.approx(900 / 3600, rel=1e-12)
    assert r.kpis["lots_completed"] == 11
    # availability: run time (7200 - 900) / planned time 7200
    assert r.kpis["stations"]["s"]["availability"] == pytest.approx(6300 / 7200, rel=1e-9)
    check_books(r, (22900 + 25800) / 3600)


# --- planned maintenance ------------------------------------------------------------------------

def test_planned_maintenance_windows():
    """Lots every 1200 s, 400 s each; idle 2 kW, processing 10 kW, maintenance 0.5 kW; 6 hours.
    Two maintenance windows of 15 min on 2026-01-01:
      01:05 (3900 s): lot 3 is in hand ([3600, 4000)), so maintenance runs [4000, 4900); lot 4
        (arrives 4800) waits and is processed [4900, 5300); lot 5 [6000, 6400).
      03:10 (11400 s): the machine is idle (lot 9 done at 11200), maintenance [11400, 12300);
        lot 10 (arrives 12000) waits until 12300: [12300, 12700); lot 11 [13200, 13600).
    Hour 0: lots at 1200, 2400: P 800 s, idle 2800 s: (8000 + 5600) / 3600 = 3.7778 kWh
    Hour 1: P 3 * 400 s, M 900 s, idle 1500 s: (12000 + 450 + 3000) / 3600 = 4.2917 kWh
    Hour 2: P 1200 s, idle 2400 s: (12000 + 4800) / 3600 = 4.6667 kWh
    Hour 3: as hour 1 (lots 10800, 12000 -> 12300, 13200): 4.2917 kWh
    Hours 4, 5: as hour 2. All 17 lots (1200 ... 20400) are finished.
    """
    machine = {"id": "machine",
               "power_kw": {"electricity": {"idle": 2, "processing": 10, "maintenance": 0.5}}}
    windows = [{"date": "2026-01-01", "start": "01:05", "duration_h": 0.25},
               {"date": "2026-01-01", "start": "03:10", "duration_h": 0.25}]
    plant = make_plant([station("s", const(400), maintenance=windows)],
                       equipment_types=[machine], interarrival=const(1200))
    r = twin.simulate(plant, days=0.25, start="2026-01-01", seed=1)
    a, b = 13600 / 3600, 15450 / 3600
    c = 16800 / 3600
    np.testing.assert_allclose(r.hourly["electricity_demand_kwh"].to_numpy(), [a, b, c, b, c, c],
                               rtol=1e-12)
    q = r.intervals["electricity_demand_kwh"].to_numpy()
    # interval 4 [3600, 4500): P [3600, 4000) 400 s, M [4000, 4500) 500 s
    assert q[4] == pytest.approx(kwh({PROC: 400, 0.5: 500}), rel=1e-12)
    # interval 5 [4500, 5400): M [4500, 4900) 400 s, P [4900, 5300) 400 s, idle 100 s
    assert q[5] == pytest.approx(kwh({0.5: 400, PROC: 400, IDLE: 100}), rel=1e-12)
    eq = r.equipment.loc["s"]
    assert eq["maintenance_h"] == pytest.approx(0.5, rel=1e-12)
    assert eq["processing_h"] == pytest.approx(17 * 400 / 3600, rel=1e-12)
    assert r.kpis["lots_completed"] == 17
    lead = r.lots["lead_time_h"].to_numpy() * 3600
    # lots 4 and 10 waited 100 s and 300 s for the maintenance to end
    assert lead[3] == pytest.approx(500) and lead[9] == pytest.approx(700)
    assert sorted(set(np.round(lead, 6))) == [400.0, 500.0, 700.0]
    check_books(r, a + 3 * c + 2 * b)


# --- a lot in hand at the end of a shift: finish it, or interrupt and resume it ------------------

def interrupt_plant(off_shift: str, **press: object):
    return make_plant(
        [{"id": "press", "equipment": "press", "process_time": const(2500), "group": "press",
          "off_shift": off_shift}],
        equipment_types=[{**PRESS, **press}],
        calendar=day_shift_calendar(("06:00", "14:00")),
        sources=[{"id": "plan", "kind": "plan", "quantities": {"part": 12}}],
    )


def test_shift_end_interrupts_the_lot_in_hand():
    """One shift 06:00-14:00 Mon-Fri; from Thu 2026-01-01, 3 days. The plan releases 12 lots of
    2500 s at 06:00 of each working day (Thu, Fri). Press as above (standby 1.5, warm-up 12,
    processing 20 kW; 30 min warm-up before the shift).
    Thursday: lots 1-11 take 06:00 + 11 * 2500 s = 13:38:20; lot 12 runs 1300 s until 14:00 and is
    interrupted with 1200 s left; the press stands by until 05:30 Fri, warms up, and finishes lot
    12 at 06:20 Fri; Friday's 12 lots follow back to back: 11 done by 13:58:20, the 12th is
    interrupted at 14:00 after 100 s and is still in hand when the run ends.
    So each working day: hours 0-4 standby 1.5 kWh, hour 5 warm-up 6.75 kWh, hours 6-13 processing
    all the time, 20 kWh, hours 14-23 standby 1.5 kWh; Saturday standby. 23 lots finished.
    """
    r = twin.simulate(interrupt_plant("interrupt"), days=3, start="2026-01-01", seed=1)
    day = [1.5] * 5 + [6.75] + [20.0] * 8 + [1.5] * 10
    np.testing.assert_allclose(r.hourly["electricity_kwh:press"].to_numpy(),
                               day + day + [1.5] * 24, rtol=1e-12)
    assert r.kpis["lots_completed"] == 23
    assert r.kpis["lots_in_system_at_end"] == 1
    assert r.equipment.loc["press", "processing_h"] == pytest.approx(16.0, rel=1e-12)
    # lot 12 of Thursday: released 06:00 Thu, finished 06:20 Fri
    assert r.lots["lead_time_h"].iloc[11] == pytest.approx(24 + 20 / 60, rel=1e-12)


def test_shift_end_finishes_the_lot_in_hand():
    """As above with off_shift: finish. Lot 12 starts at 13:38:20 (49100 s) and ends at 14:21:40
    (51600 s); then standby. Hour 14: 1200 s processing + 2400 s standby =
    (1200 * 20 + 2400 * 1.5) / 3600 = 27600 / 3600 = 7.6667 kWh. Hour 13 is all processing.
    Friday the same; 24 lots finished."""
    r = twin.simulate(interrupt_plant("finish"), days=3, start="2026-01-01", seed=1)
    day = [1.5] * 5 + [6.75] + [20.0] * 8 + [27600 / 3600] + [1.5] * 9
    np.testing.assert_allclose(r.hourly["electricity_kwh:press"].to_numpy(),
                               day + day + [1.5] * 24, rtol=1e-12)
    assert r.kpis["lots_completed"] == 24


def test_warm_up_after_the_shift_starts():
    """warm_up_before_shift: false. The press stands by until 06:00, warms up 06:00-06:30 (lots
    released at 06:00 wait), then processes the plan's 2 lots of 600 s [06:30, 06:50) and waits,
    idle at 4 kW, until 14:00. Standby is chosen because the whole break counts as its stay.
    Hour 6: (1800 * 12 + 1200 * 20 + 600 * 4) / 3600 = 48000 / 3600 = 13.3333 kWh;
    hours 7-13: 4 kWh; other hours 1.5 kWh. One day, Thursday."""
    plant = make_plant(
        [{"id": "press", "equipment": "press", "process_time": const(600), "group": "press"}],
        equipment_types=[{**PRESS, "warm_up_before_shift": False}],
        calendar=day_shift_calendar(("06:00", "14:00")),
        sources=[{"id": "plan", "kind": "plan", "quantities": {"part": 2}}],
    )
    r = twin.simulate(plant, days=1, start="2026-01-01", seed=1)
    want = [1.5] * 6 + [48000 / 3600] + [4.0] * 7 + [1.5] * 10
    np.testing.assert_allclose(r.hourly["electricity_kwh:press"].to_numpy(), want, rtol=1e-12)
    np.testing.assert_allclose(r.lots["lead_time_h"].to_numpy() * 60, [40.0, 50.0], rtol=1e-12)


# --- blocking after service ---------------------------------------------------------------------

def test_blocking_before_a_full_buffer():
    """s1 (100 s) feeds s2 (300 s) through a buffer of 1 lot; the plan releases 5 lots at 00:00;
    idle 2 kW, blocked 3 kW, processing 10 kW; one hour.
      s1: lot 1 [0, 100) -> s2 takes it at once; lot 2 [100, 200) -> buffer; lot 3 [200, 300),
          blocked [300, 400) until s2 takes lot 2; lot 4 [400, 500), blocked [500, 700);
          lot 5 [700, 800), blocked [800, 1000); then starved.
      s2: lots at [100, 400), [400, 700), [700, 1000), [1000, 1300), [1300, 1600).
    s1: processing 500 s, blocked 500 s, idle 2600 s: (5000 + 1500 + 5200) / 3600 = 3.25 kWh
      interval [0, 900): P 500, B 400 -> 6200 / 3600; [900, 1800): B 100, idle 800 -> 1900 / 3600
    s2: processing 1500 s, idle 2100 s: (15000 + 4200) / 3600 = 5.3333 kWh
    Lots leave at 400, 700, 1000, 1300, 1600: mean WIP = (400+700+1000+1300+1600) / 3600 lots.
    """
    machine = {"id": "machine",
               "power_kw": {"electricity": {"idle": 2, "blocked": 3, "processing": 10}}}
    plant = make_plant(
        [station("s1", const(100), group="g1"),
         station("s2", const(300), group="g2", buffer_capacity=1)],
        equipment_types=[machine],
        sources=[{"id": "plan", "kind": "plan", "quantities": {"part": 5}}],
    )
    r = twin.simulate(plant, days=1 / 24, start="2026-01-01", seed=1)
    q1 = r.intervals["electricity_kwh:g1"].to_numpy()
    np.testing.assert_allclose(q1, [6200 / 3600, 1900 / 3600, 1800 / 3600, 1800 / 3600],
                               rtol=1e-12)
    assert r.hourly["electricity_kwh:g2"].iloc[0] == pytest.approx(19200 / 3600, rel=1e-12)
    assert r.equipment.loc["s1", "blocked_h"] == pytest.approx(500 / 3600, rel=1e-12)
    assert r.equipment.loc["s2", "blocked_h"] == 0.0
    np.testing.assert_allclose(r.lots["lead_time_h"].to_numpy() * 3600,
                               [400, 700, 1000, 1300, 1600], rtol=1e-12)
    assert r.kpis["mean_wip_lots"] == pytest.approx(5000 / 3600, rel=1e-8)
    check_books(r, 11700 / 3600 + 19200 / 3600)


# --- local time: daylight saving, night shifts, holidays ----------------------------------------

def calendar_plant(calendar: dict, **sections):
    """The press with a plan of one 600 s lot per working day and the HVAC base load on shifts."""
    return make_plant(
        [{"id": "press", "equipment": "press", "process_time": const(600), "group": "press"}],
        equipment_types=[PRESS], calendar=calendar,
        sources=[{"id": "plan", "kind": "plan", "quantities": {"part": 1}}],
        base_loads=[{"id": "hvac", "group": "facility", "power_kw": {"electricity": 30},
                     "off_power_kw": {"electricity": 5}, "schedule": "shifts"}],
        **sections,
    )


ONE_LOT = (600 * 20 + 3000 * 4) / 3600  # 6.6667 kWh: a 10-min lot in an otherwise idle hour


def test_shifts_follow_local_time_across_daylight_saving():
    """Berlin, from Sat 2026-03-28 00:00 CET for 3 local calendar days; clocks go from 02:00 CET
    to 03:00 CEST on Sun 29 March. A shift 06:00-14:00 local every day. Each row of the hourly
    table is a local hour (02:00 on the 29th does not exist, so the 3 days are 71 h and end at
    local midnight of the 31st, the last row is 23:00 CEST on the 30th), and
    the shift, the warm-up before it and the plan's lot follow the wall clock:
      local 05:00-06:00 warm-up hour 6.75 kWh, 06:00 one lot 6.6667 kWh, 07:00-13:00 idle 4 kWh,
      otherwise standby 1.5 kWh; HVAC 30 kWh in 06:00-13:00, 5 kWh otherwise."""
    plant = calendar_plant(day_shift_calendar(("06:00", "14:00"), days=(
        "mon", "tue", "wed", "thu", "fri", "sat", "sun")),
        site={"name": "Berlin", "timezone": "Europe/Berlin", "latitude": 52.5, "longitude": 13.4})
    r = twin.simulate(plant, days=3, start="2026-03-28", seed=1)
    h = r.hourly
    assert len(h) == 71
    local_hours = h.index.hour.to_numpy()
    assert 2 not in local_hours[24:47]  # Sunday: 23 local hours
    assert str(h.index[-1]) == "2026-03-30 23:00:00+02:00"
    press = {5: 6.75, 6: ONE_LOT} | {k: 4.0 for k in range(7, 14)}
    want_press = [press.get(k, 1.5) for k in local_hours]
    want_hvac = [30.0 if 6 <= k < 14 else 5.0 for k in local_hours]
    np.testing.assert_allclose(h["electricity_kwh:press"].to_numpy(), want_press, rtol=1e-12)
    np.testing.assert_allclose(h["electricity_kwh:facility"].to_numpy(), want_hvac, rtol=1e-12)
    assert r.kpis["lots_completed"] == 3


def test_night_shift_over_midnight_and_a_holiday():
    """Night shift 22:00-06:00 (written 22:00-30:00) Mon-Fri; Fri 2026-01-02 is a holiday. From
    Thu 2026-01-01 00:00 for 3 days.
      Thu 00:00-06:00: Wednesday's night shift is running: press idle 4 kWh (no lot: the plan
        releases at the start of the first shift of each working day of the run, Thu 22:00),
        HVAC 30 kWh.
      Thu 06:00-21:00 standby 1.5 kWh, hour 21 warm-up 6.75 kWh, 22:00 one lot 6.6667 kWh,
        23:00 and Fri 00:00-06:00 idle 4 kWh; HVAC 30 kWh from 22:00 to 06:00.
      No shift starts on the holiday (Fri) or on the weekend: standby from Fri 06:00 to the end.
    """
    cal = day_shift_calendar(("22:00", "30:00"))
    cal["holidays"] = ["2026-01-02"]
    r = twin.simulate(calendar_plant(cal), days=3, start="2026-01-01", seed=1)
    press = [4.0] * 6 + [1.5] * 15 + [6.75, ONE_LOT, 4.0] + [4.0] * 6 + [1.5] * 42
    hvac = [30.0] * 6 + [5.0] * 16 + [30.0] * 8 + [5.0] * 42
    np.testing.assert_allclose(r.hourly["electricity_kwh:press"].to_numpy(), press, rtol=1e-12)
    np.testing.assert_allclose(r.hourly["electricity_kwh:facility"].to_numpy(), hvac, rtol=1e-12)
    assert str(r.lots["released"].iloc[0]) == "2026-01-01 22:00:00+08:00"
    assert r.kpis["lots_completed"] == 1


def test_saving_mode_follows_the_break_length_and_maintenance_interrupts_a_break():
    """Saving modes off (warm-up 1 h, worth it for at least 2 h) and standby (30 min, 1 h); off is
    the off-shift mode, a lighter mode is taken when the break is too short. Powers: off 0.2,
    standby 1.5, warm-up 12, idle 4, processing 20, maintenance 0.5 kW. Shifts 06:00-10:00,
    11:00-12:00, 14:00-18:00 Mon-Fri; maintenance on Saturdays 10:00-12:00; one 600 s lot released
    at 06:00 each working day; from Thu 2026-01-01 for 3 days.
      00:00-06:00 (6 h): off would last 6 h - 1 h >= 2 h: off until 05:00 (0.2 kWh/h), warm-up
        05:00-06:00 (12 kWh)
      06:00 one lot (6.6667 kWh), 07:00-10:00 idle (4 kWh/h)
      10:00-11:00 (1 h): off 0 h < 2 h, standby 30 min < 1 h: idle (4 kWh)
      11:00-12:00 shift, idle (4 kWh)
      12:00-14:00 (2 h): off 1 h < 2 h; standby 1.5 h >= 1 h: standby to 13:30, warm-up to 14:00:
        hour 12 1.5 kWh, hour 13 (1800 * 1.5 + 1800 * 12) / 3600 = 6.75 kWh
      14:00-18:00 idle (4 kWh/h); 18:00-06:00 off (0.2 kWh/h), warm-up 05:00-06:00.
    Friday the same. Saturday: off, but maintenance 10:00-12:00 at 0.5 kW, then off again (the
    break resumes after the maintenance; no warm-up, the next shift is on Monday)."""
    press = {**PRESS,
             "power_kw": {"electricity": {"off": 0.2, "standby": 1.5, "warm_up": 12, "idle": 4,
                                          "processing": 20, "maintenance": 0.5}},
             "saving_modes": {"standby": {"warm_up_s": 1800, "min_stay_s": 3600},
                              "off": {"warm_up_s": 3600, "min_stay_s": 7200}},
             "off_shift_mode": "off"}
    plant = make_plant(
        [{"id": "press", "equipment": "press", "process_time": const(600), "group": "press",
          "maintenance": [{"weekday": "sat", "start": "10:00", "duration_h": 2}]}],
        equipment_types=[press],
        calendar=day_shift_calendar(("06:00", "10:00"), ("11:00", "12:00"), ("14:00", "18:00")),
        sources=[{"id": "plan", "kind": "plan", "quantities": {"part": 1}}])
    r = twin.simulate(plant, days=3, start="2026-01-01", seed=1)
    day = [0.2] * 5 + [12.0, ONE_LOT] + [4.0] * 5 + [1.5, 6.75] + [4.0] * 4 + [0.2] * 6
    saturday = [0.2] * 10 + [0.5] * 2 + [0.2] * 12
    np.testing.assert_allclose(r.hourly["electricity_kwh:press"].to_numpy(),
                               day + day + saturday, rtol=1e-12)
    eq = r.equipment.loc["press"]
    assert eq["off_h"] == pytest.approx(2 * 5 + 6 + 6 + 22, rel=1e-12)
    assert eq["standby_h"] == pytest.approx(2 * 1.5, rel=1e-12)
    assert eq["warm_up_h"] == pytest.approx(2 * 1.5, rel=1e-12)
    assert eq["maintenance_h"] == pytest.approx(2.0, rel=1e-12)
