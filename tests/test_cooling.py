"""Warm-up that depends on how long the machine was in a saving mode (twin.equipment.cooling).

First-order cooling: after t off the share 1 - exp(-t/tau) of the full warm-up is needed; a table
is interpolated linearly. Checked by hand for a few times off, then in runs: off-shift breaks
(nights and the first morning) and smart standby between lots, whose warm-up time and energy
must be the hand sums.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import const, make_plant
from scipy.optimize import brentq

import twin
from twin.config.errors import ConfigError
from twin.config.plant import SavingMode
from twin.equipment.cooling import WarmUp, first_order_share, table_warm_up_s

H = 3600.0
KWS = 1 / 3600.0
SITE_UTC = {"name": "t", "timezone": "UTC", "latitude": 0, "longitude": 0}


def mode(**cooling) -> SavingMode:
    return SavingMode(warm_up_s=3600, cooling=cooling)


# --- the models by hand --------------------------------------------------------------------------

def test_first_order_share_by_hand():
    # tau = 1 h: 20 min off leaves exp(-1/3) = 0.7165 of the rise, so 0.2835 is to recover
    assert first_order_share(1200, 3600) == pytest.approx(0.283468689, abs=1e-9)
    assert first_order_share(3600, 3600) == pytest.approx(0.632120559, abs=1e-9)
    assert first_order_share(0, 3600) == 0.0
    assert first_order_share(48 * H, 3600) == pytest.approx(1.0, abs=1e-15)
    # a furnace with a 3600 s cold start and tau = 2 h: 552.67 s after 20 minutes, 3600 s after
    # a weekend
    w = WarmUp(mode(time_constant_h=2))
    assert w(1200) == pytest.approx(3600 * (1 - math.exp(-1 / 6)), rel=1e-12)
    assert w(1200) == pytest.approx(552.6658, abs=1e-4)
    assert w(64 * H) == pytest.approx(3600, rel=1e-12)


def test_table_by_hand():
    pts = [{"off_h": 0.5, "warm_up_s": 600}, {"off_h": 2, "warm_up_s": 1800},
           {"off_h": 48, "warm_up_s": 3600}]
    w = WarmUp(mode(table=pts))
    assert w(0.25 * H) == pytest.approx(300)  # from (0, 0) to the first point
    assert w(1 * H) == pytest.approx(600 + 1200 * 0.5 / 1.5)
    assert w(25 * H) == pytest.approx(1800 + 1800 * 23 / 46)
    assert w(100 * H) == 3600  # constant after the last point
    assert table_warm_up_s(0, np.array([0.0]), np.array([120.0])) == 120  # a point at 0 h


def test_off_time_that_leaves_just_the_warm_up():
    """t + w(t) = gap: with w(t) = t/6 up to 1 h (a table), a 2400 s gap gives t = 2400 * 6/7;
    with first-order cooling it is checked against an independent root finder."""
    w = WarmUp(mode(table=[{"off_h": 1, "warm_up_s": 600}]))
    assert w.off_for_ready(2400) == pytest.approx(2400 * 6 / 7, rel=1e-9)
    th = WarmUp(mode(time_constant_h=2))
    for gap in (600.0, 3 * H, 16 * H, 64 * H):
        t = brentq(lambda x, g=gap: x + 3600 * (1 - math.exp(-x / (2 * H))) - g, 0, gap,
                   xtol=1e-9)
        assert th.off_for_ready(gap) == pytest.approx(t, abs=1e-6)
    assert th.off_for_ready(0) == 0.0


# --- runs ----------------------------------------------------------------------------------------

def furnace(cooling: dict, before_shift: bool) -> dict:
    return {"id": "furnace",
            "power_kw": {"electricity": {"off": 0, "warm_up": 8, "idle": 5, "processing": 10}},
            "saving_modes": {"off": {"warm_up_s": 3600, "min_stay_s": 0, "cooling": cooling}},
            "off_shift_mode": "off", "warm_up_before_shift": before_shift}


def week_of_shifts(cooling: dict, before_shift: bool) -> twin.Result:
    """One furnace, no work (the first lot would come after the run), shifts 08-16 h Mon-Fri, a
    week from Monday 00:00: breaks of 8 h (Monday 0-8 h) and 16 h (four nights); the weekend
    break runs to the end."""
    plant = make_plant([{"id": "f", "equipment": "furnace", "process_time": const(60)}],
                       equipment_types=[furnace(cooling, before_shift)],
                       interarrival=const(720, "h"), site=SITE_UTC,
                       calendar={"shifts": {"day": {"start": "08:00", "end": "16:00"}},
                                 "week": {d: ["day"] for d in ("mon", "tue", "wed", "thu",
                                                               "fri")}},
                       simulation={"days": 7, "start": "2025-01-06"})
    return twin.simulate(plant)


def test_warm_up_after_the_shift_start_from_a_table():
    """warm_up_before_shift false: the warm-up starts at the shift start and lasts w(break):
    table (1 h, 600 s), (10 h, 3000 s): w(8 h) = 600 + 2400 * 7/9 = 2466.67 s, w(16 h) = 3000 s.
    Energy: warm-ups at 8 kW, the rest of the 40 shift hours ready at 5 kW, off 0 kW."""
    res = week_of_shifts({"table": [{"off_h": 1, "warm_up_s": 600},
                                    {"off_h": 10, "warm_up_s": 3000}]}, before_shift=False)
    warm = 600 + 2400 * 7 / 9 + 4 * 3000
    kws = 8 * warm + 5 * (40 * H - warm)
    assert float(res.equipment["electricity_kwh"].sum()) == pytest.approx(kws * KWS, rel=1e-12)
    assert res.kpis["stations"]["f"]["time_share"]["warm_up"] == pytest.approx(warm / (7 * 24 * H))


def test_warm_up_before_the_shift_from_first_order_cooling():
    """warm_up_before_shift true, tau = 4 h, 3600 s cold start: each break of gap G is spent off
    for t (t + w(t) = G, found here with an independent root finder), then warming up w(t) so as
    to be ready at the shift start; 40 shift hours ready at 5 kW."""
    res = week_of_shifts({"time_constant_h": 4}, before_shift=True)

    def warm_for(gap: float) -> float:
        t = brentq(lambda x: x + 3600 * (1 - math.exp(-x / (4 * H))) - gap, 0, gap, xtol=1e-10)
        return gap - t

    warm = warm_for(8 * H) + 4 * warm_for(16 * H)
    assert warm_for(8 * H) == pytest.approx(3600 * (1 - math.exp(-(8 * H - warm_for(8 * H))
                                                                 / (4 * H))))
    kws = 8 * warm + 5 * 40 * H
    assert float(res.equipment["electricity_kwh"].sum()) == pytest.approx(kws * KWS, rel=1e-9)


def test_smart_standby_warm_up_after_each_sleep():
    """Lots every 3600 s (first at 3600 s), 600 s each; smart standby with timeout 0 puts the
    machine in its off mode (3600 s cold start, tau = 1 h) as soon as it waits. The lot finds it
    off and waits its warm-up: off 3600 s before lot 1, then off_k = 3000 - w_(k-1) before lot k,
    w_k = 3600 (1 - exp(-off_k / 1 h)), summed by hand over the 23 lots of the day; off at 0 kW,
    warm-up at 8 kW, processing at 10 kW."""
    saver = furnace({"time_constant_h": 1}, True) | {"off_shift_mode": "idle"}
    plant = make_plant([{"id": "f", "equipment": "furnace", "process_time": const(600)}],
                       equipment_types=[saver], interarrival=const(3600), site=SITE_UTC,
                       simulation={"days": 1, "start": "2025-01-06"},
                       strategies=[{"type": "smart_standby", "timeout_s": 0, "mode": "off"}])
    res = twin.simulate(plant)
    warms, off = [], 3600.0
    for _ in range(23):
        w = 3600 * (1 - math.exp(-off / 3600))
        warms.append(w)
        off = 3000 - w
    kws = 8 * sum(warms) + 10 * 600 * 23
    assert float(res.equipment["electricity_kwh"].sum()) == pytest.approx(kws * KWS, rel=1e-9)
    rep = res.kpis["strategies"]["smart_standby"]["total"]
    assert rep["warm_up_h"] == pytest.approx(sum(warms) / H, rel=1e-9)
    np.testing.assert_allclose(res.lots["lead_time_h"] * H, np.array(warms) + 600, rtol=1e-9)


@pytest.mark.parametrize(("cooling", "words"), [
    ({"time_constant_h": 1, "table": [{"off_h": 1, "warm_up_s": 60}]}, ["exactly one of"]),
    ({}, ["exactly one of"]),
    ({"table": [{"off_h": 2, "warm_up_s": 60}, {"off_h": 1, "warm_up_s": 90}]},
     ["table[1].off_h", "strictly increasing"]),
    ({"table": [{"off_h": 1, "warm_up_s": 60}, {"off_h": 2, "warm_up_s": 30}]},
     ["table[1].warm_up_s", "never needs a shorter"]),
    ({"time_constant_h": 0}, ["time_constant_h"]),
])
def test_bad_cooling_is_named(cooling, words):
    with pytest.raises(ConfigError) as e:
        make_plant([{"id": "f", "equipment": "furnace", "process_time": const(60)}],
                   equipment_types=[furnace(cooling, True)])
    msg = str(e.value)
    assert "equipment_types[0].saving_modes.off.cooling" in msg, msg
    for w in words:
        assert w in msg, msg
