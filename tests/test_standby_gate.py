"""Smart standby together with a scheduling hold on the same station (issue 14, defect 9).

A sleeping machine to which a lot comes must ask the station's gate (here tou_shifting) before it
warms up: warming up for a lot the gate then holds, and going back to sleep, wastes the warm-up.
Checked on a hand-worked day: one warm-up per run of starts, and the machine's energy second by
second.
"""

from __future__ import annotations

import pytest
from conftest import const, make_plant

import twin

MONDAY = "2026-01-05"
TARIFF = {"preset": "jiangsu_2025", "customer_class": "two_part", "flat_price_per_kwh": 0.5}
OVEN = {  # ready 5 kW, standby 1 kW, 300 s warm-up at 8 kW, stay at least 600 s
    "id": "oven",
    "power_kw": {"electricity": {"standby": 1, "warm_up": 8, "idle": 5, "processing": 10}},
    "saving_modes": {"standby": {"warm_up_s": 300, "min_stay_s": 600}},
}
KWS = 1 / 3600.0


def oven_plant(strategies: list[dict]) -> twin.Plant:
    """One deferrable oven (600 s a lot), a lot every 3 h from 03:00, Monday 5 January 2026 under
    the Jiangsu 2025 two-part tariff (January: valley 0-6 and 11-13 h, flat 6-11, 13-14 and
    22-24 h, peak 14-22 h)."""
    return make_plant([{"id": "oven", "equipment": "oven", "deferrable": True,
                        "process_time": const(600)}],
                      equipment_types=[OVEN], interarrival=const(3, "h"),
                      energy={"grid": {"tariff": TARIFF}},
                      simulation={"start": MONDAY, "days": 1}, strategies=strategies)


def test_a_sleeping_machine_asks_the_gate_before_it_warms_up():
    """Lots come at 03, 06, 09, 12, 15, 18 and 21 h; tou_shifting lets them start in valley hours
    only; smart standby switches after its break-even time, 900 s. By hand, second by second:

    * 0-900 ready (5 kW), standby (1 kW) from 900 s.
    * 03:00 lot 1 (valley): warm-up 10800-11100 (8 kW), runs 11100-11700 (10 kW), ready 900 s,
      standby from 12600.
    * 06:00 lot 2 (flat): held until the valley at 11:00. The machine stays in standby (this is
      the defect: it used to warm up at 06:00, wait ready 900 s and switch again) and warms up
      39300-39600 so as to be ready at 11:00; lots 2 and 3 (come at 09:00) run 39600-40800,
      ready until 41700, standby.
    * 12:00 lot 4 (valley): warm-up 43200-43500, runs until 44100, ready until 45000, standby.
    * 15:00 lot 5 (peak) is held until the end of the run (the next allowed period starts at
      midnight): standby 45000-86100, then a warm-up to be ready at 86400.

    Four warm-ups, four starts after a sleep (lot 3 follows lot 2 at once)."""
    res = twin.simulate(oven_plant([{"type": "tou_shifting", "periods": ["valley"]},
                                    {"type": "smart_standby"}]))
    rep = res.kpis["strategies"]["smart_standby"]["stations"]["oven"]
    warm_ups = rep["warm_up_h"] * 3600 / 300
    assert warm_ups == pytest.approx(4)
    assert res.kpis["units_completed"] == 4
    kws = (900 * 5 + 9900 * 1 + 300 * 8 + 600 * 10 + 900 * 5 + 26700 * 1 + 300 * 8
           + 1200 * 10 + 900 * 5 + 1500 * 1 + 300 * 8 + 600 * 10 + 900 * 5 + 41100 * 1
           + 300 * 8)
    assert float(res.equipment["electricity_kwh"].sum()) == pytest.approx(kws * KWS, rel=1e-12)
    # the held time is the gate's: lot 2 held 06:00-11:00 (its warm-up falls inside the hold)
    assert res.lots["held_h"].tolist() == pytest.approx([0, 5, 0, 0])
    assert res.kpis["strategies"]["tou_shifting"]["starts_deferred"] == 2  # lots 2 and 5


def test_a_lot_the_gate_lets_start_waits_only_the_warm_up():
    """A gate that never holds (every TOU period allowed) with smart standby: a lot finds the
    machine asleep and waits the 300 s warm-up, as without the gate; the machine energy is that
    of smart standby alone, to the last joule."""
    alone = twin.simulate(oven_plant([{"type": "smart_standby"}]))
    gated = twin.simulate(oven_plant([
        {"type": "tou_shifting", "periods": ["deep_valley", "valley", "flat", "peak",
                                             "critical"]},
        {"type": "smart_standby"}]))
    assert (float(gated.equipment["electricity_kwh"].sum())
            == pytest.approx(float(alone.equipment["electricity_kwh"].sum()), rel=1e-12))
    assert gated.lots["lead_time_h"].tolist() == pytest.approx([900 / 3600] * 7)
    assert gated.lots["held_h"].tolist() == pytest.approx([0.0] * 7)
