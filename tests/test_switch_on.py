"""Switch-on thresholds (N-policy) of a station, against queueing theory and by hand.

**M/G/1 under the N-policy** (Yadin & Naor 1963; Heyman 1968): the server switches off when the
system empties and on when N customers are present. Its mean wait in queue is

    Wq = lambda E[S^2] / (2 (1 - rho)) + (N - 1) / (2 lambda),

derived by the decomposition property of vacation models (Fuhrmann & Cooper 1985): the number in
system is that of the plain M/G/1 queue plus an independent number distributed as the number
present at a random time of the off period. During an off period the count climbs 0, 1, ..., N-1
(it starts at 0 when the server switches off), each level lasting an exponential(lambda) time,
so that number is uniform on 0..N-1, mean (N - 1)/2; by Little's law it adds (N - 1)/(2 lambda)
to the wait. A cycle is an off period (N arrivals, N/lambda on average) and a busy period started
by N customers (N E[S] / (1 - rho)), so it lasts N / (lambda (1 - rho)): switch-ons happen at the
rate lambda (1 - rho) / N. With a warm-up of D (arrivals go on during it) the cycle is
(N/lambda + D) / (1 - rho) (the busy period starts with N + lambda D customers): the machine is
off the share (1 - rho) N/lambda / (N/lambda + D) of the time and warms up the share
(1 - rho) D / (N/lambda + D).

Estimates come from the outputs (the lot table and the hourly energy), as batch means: 20
batches of 5 days (a cycle lasts about 3.5 h), standard error = SD of the batch means / sqrt(20)
(Law, Simulation Modeling and Analysis, 5th ed., 9.5.3), within Z = 5 SE of the theory, and the
SE itself small, so that a test cannot pass by being imprecise.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from conftest import const, expo, make_plant, meter_books_balance

import twin
from twin.config.errors import ConfigError

LAM = 1 / 1000.0  # arrivals [1/s]
MEAN_S = 600.0  # mean processing time [s]
RHO = LAM * MEAN_S
N = 5
DAYS = 100
BATCHES = 20
Z = 5.0
KWS = 1 / 3600.0


def oven(warm_up_s: float = 0.0, min_stay_s: float = 0.0, warm_kw: float = 8.0,
         modes: tuple[str, ...] = ("off",)) -> dict:
    return {"id": "oven",
            "power_kw": {"electricity": {"off": 0, "standby": 1, "warm_up": warm_kw, "idle": 5,
                                         "processing": 10}},
            "saving_modes": {m: {"warm_up_s": warm_up_s, "min_stay_s": min_stay_s}
                             for m in modes}}


def n_plant(process: dict, interarrival: dict, switch_on: dict, days: float,
            types: list[dict], strategies: tuple = (), **station) -> twin.Plant:
    return make_plant([{"id": "oven", "equipment": "oven", "process_time": process,
                        "switch_on": switch_on, **station}],
                      equipment_types=types, interarrival=interarrival,
                      site={"name": "t", "timezone": "UTC", "latitude": 0, "longitude": 0},
                      simulation={"days": days, "start": "2025-01-06"},
                      strategies=list(strategies))


def seconds(res: twin.Result, col: str) -> np.ndarray:
    t0 = res.hourly.index[0]
    return (res.lots[col] - t0).dt.total_seconds().to_numpy()


def check(name: str, batches: np.ndarray, theory: float, max_rel_se: float) -> None:
    mean = batches.mean()
    se = batches.std(ddof=1) / np.sqrt(batches.size)
    assert se < max_rel_se * theory, f"{name}: batch SE {se:.4g} too large to test anything"
    assert abs(mean - theory) < Z * se, (
        f"{name}: {mean:.5g} vs theory {theory:.5g}, SE {se:.3g} ({(mean - theory) / se:+.1f} SE)")


def batch_stats(res: twin.Result) -> tuple[np.ndarray, np.ndarray]:
    """Per batch: the mean lead time W [s] of the lots completed in it, and the switch-ons per
    second (the lots that waited in the machine's hand for the threshold: the first lot of each
    off period, N > 1)."""
    rel, done = seconds(res, "released"), seconds(res, "completed")
    held = res.lots["held_h"].to_numpy() > 0
    edges = np.linspace(0.0, DAYS * 86400.0, BATCHES + 1)
    w, rate = [], []
    for a, b in itertools.pairwise(edges):
        sel = (done >= a) & (done < b)
        w.append((done[sel] - rel[sel]).mean())
        rate.append(held[sel].sum() / (b - a))
    return np.array(w), np.array(rate)


@pytest.mark.parametrize(("process", "es2"), [
    (expo(MEAN_S), 2 * MEAN_S**2),  # exponential: E[S^2] = 2 E[S]^2
    (const(MEAN_S), MEAN_S**2),  # deterministic
])
def test_mg1_n_policy_wait_and_switch_rate(process, es2):
    """N = 5, rho = 0.6, no warm-up: W = Wq + E[S] (3500 s exponential, 3050 s deterministic)
    and switch-ons at lambda (1 - rho) / N = 8e-5 /s, as the module doc derives."""
    res = twin.simulate(n_plant(process, expo(1 / LAM), {"lots": N}, DAYS, [oven()]), seed=3)
    wq = LAM * es2 / (2 * (1 - RHO)) + (N - 1) / (2 * LAM)
    w, rate = batch_stats(res)
    check("W", w, wq + MEAN_S, 0.03)
    check("switch-on rate", rate, LAM * (1 - RHO) / N, 0.03)
    st = res.kpis["stations"]["oven"]
    # every switch-on happened with exactly N lots waiting (arrivals come one at a time)
    assert st["switch_on"]["mean_lots_at_switch_on"] == N
    assert abs(st["switch_on"]["switch_ons"] - res.lots["held_h"].gt(0).sum()) <= 1
    # never idle: off or processing (no warm-up), and off whenever not busy
    assert set(st["time_share"]) == {"off", "processing"}
    assert st["time_share"]["off"] == pytest.approx(1 - st["utilization"], abs=1e-9)


def test_n_policy_with_warm_up_shares_of_time():
    """As above, exponential service, with a 900 s warm-up at the processing power (10 kW, off
    0 kW), so that each hour's energy / 10 kW is its time switched on. Off share
    (1 - rho) (N/lambda) / (N/lambda + D) = 0.4 * 5000 / 5900 = 0.3390; switch-ons at
    (1 - rho) / (N/lambda + D) = 6.78e-5 /s; the warm-up share is switch-ons x D / T, by hand."""
    d = 900.0
    res = twin.simulate(n_plant(expo(MEAN_S), expo(1 / LAM), {"lots": N}, DAYS,
                                [oven(warm_up_s=d, warm_kw=10.0)]), seed=5)
    cycle_off = N / LAM
    on_s = res.hourly["electricity_kwh:line"].to_numpy() * 3600.0 / 10.0
    per = on_s.reshape(BATCHES, -1)
    off_share = 1 - per.sum(axis=1) / (per.shape[1] * 3600.0)
    check("off share", off_share, (1 - RHO) * cycle_off / (cycle_off + d), 0.03)
    _, rate = batch_stats(res)
    check("switch-on rate", rate, (1 - RHO) / (cycle_off + d), 0.03)
    st = res.kpis["stations"]["oven"]
    ons = st["switch_on"]["switch_ons"]
    # the last warm-up may be cut by the end of the run
    assert st["time_share"]["warm_up"] * DAYS * 86400 == pytest.approx(ons * d, abs=d)
    assert st["switch_on"]["warm_up_h"] == pytest.approx(st["time_share"]["warm_up"] * DAYS * 24)
    assert st["time_share"]["off"] + st["time_share"]["warm_up"] + st["utilization"] == (
        pytest.approx(1.0, abs=1e-9))


def test_hand_worked_day():
    """Lots every 1000 s (first at 1000 s), 600 s each, N = 3, off (0 kW) with a 300 s warm-up at
    8 kW. Off 0-3000; lot 3 at 3000 switches it on: warm-up 3000-3300, lots 1-6 run back to
    back 3300-6900 (lots 4-6 come while it works), then it is off again at 6900, and lot 9 at
    9000 switches it on: a cycle of 6000 s (off 2100, warm-up 300, busy 3600) from 6900, 13
    full ones by 84900, then off to the horizon (lots 85 and 86 wait). Lead times in each cycle
    2900, 2500, 2100, 1700, 1300, 900 s. The first lot of a cycle is held in hand until the
    switch-on and through the warm-up: 2300 s."""
    res = twin.simulate(n_plant(const(600), const(1000), {"lots": 3}, 1,
                                [oven(warm_up_s=300)]))
    assert len(res.lots) == 84
    np.testing.assert_allclose(res.lots["lead_time_h"] * 3600,
                               np.tile([2900, 2500, 2100, 1700, 1300, 900], 14), atol=1e-6)
    np.testing.assert_allclose(res.lots["held_h"] * 3600, np.tile([2300, 0, 0, 0, 0, 0], 14),
                               atol=1e-6)
    kws = 14 * 300 * 8 + 84 * 600 * 10
    assert float(res.equipment["electricity_kwh"].sum()) == pytest.approx(kws * KWS, rel=1e-12)
    st = res.kpis["stations"]["oven"]
    assert st["time_share"]["off"] == pytest.approx((3000 + 13 * 2100 + 1500) / 86400)
    sw = st["switch_on"]
    assert sw["switch_ons"] == 14 and sw["mean_lots_at_switch_on"] == 3
    assert sw["switches_off"] == 15  # at 0 s, at the end of the first cycle and of 13 more
    assert sw["off_h"] == pytest.approx((3000 + 13 * 2100 + 1500) / 3600)


def test_longest_wait_warms_up_to_be_ready_in_time():
    """N = 10 is never reached: lots every 1000 s (from 1000 s), 500 s each, longest wait 0.5 h.
    The machine, off since 0 s, warms up 2500-2800 to be ready as lot 1 has waited 1800 s;
    lots 1-4 run 2800-4800 (lots 3 and 4 come meanwhile), off again 4800-6500, and so on in
    cycles of 4000 s: 8 lots done in 3 h, the third warm-up ending at the horizon (10800 s)."""
    res = twin.simulate(n_plant(const(500), const(1000), {"lots": 10, "max_wait_h": 0.5},
                                0.125, [oven(warm_up_s=300)]))
    np.testing.assert_allclose(res.lots["lead_time_h"] * 3600, [2300, 1800, 1300, 800] * 2)
    kws = 3 * 300 * 8 + 8 * 500 * 10
    assert float(res.equipment["electricity_kwh"].sum()) == pytest.approx(kws * KWS, rel=1e-12)
    sw = res.kpis["stations"]["oven"]["switch_on"]
    assert sw["switch_ons"] == 2 and sw["mean_lots_at_switch_on"] == 2  # lots 1 and 2 waiting
    assert res.kpis["stations"]["oven"]["time_share"]["off"] == pytest.approx(5900 / 10800)


def test_idle_mode_waits_ready():
    """mode 'idle' on a type without saving modes: the machine stays ready (5 kW) but starts only
    with 3 lots waiting; the hand-worked day above without warm-ups: cycles of 6000 s from
    6600 s (first: lots 1-6 run 3000-6600); lead times 2600, 2200, 1800, 1400, 1000, 600 s."""
    plain = {"id": "oven", "power_kw": {"electricity": {"idle": 5, "processing": 10}}}
    res = twin.simulate(n_plant(const(600), const(1000), {"lots": 3, "mode": "idle"}, 1,
                                [plain]))
    assert len(res.lots) == 84
    np.testing.assert_allclose(res.lots["lead_time_h"] * 3600,
                               np.tile([2600, 2200, 1800, 1400, 1000, 600], 14), atol=1e-6)
    kws = 84 * 600 * 10 + (86400 - 84 * 600) * 5
    assert float(res.equipment["electricity_kwh"].sum()) == pytest.approx(kws * KWS, rel=1e-12)
    assert res.kpis["stations"]["oven"]["switch_on"]["switch_ons"] == 14


def test_with_smart_standby_the_timeout_decides_when_it_sleeps():
    """smart_standby with a 900 s timeout on the N = 3 station of the hand-worked day (standby
    1 kW, 300 s warm-up at 8 kW): ready (starved, 5 kW) 0-900, standby from 900 s; lot 1 (1000
    s) finds it asleep and is held until lot 3 (3000 s) switches it on: warm-up 3000-3300, lots
    1-6 run 3300-6900 as by hand. Then the machine waits ready for its timeout, lot 7 comes at
    7000 s and finds it ready (on): it starts at once, and so does every later lot (gaps of
    400 s < 900 s): lead times 600 s from lot 7 on, one switch in the whole day."""
    res = twin.simulate(n_plant(const(600), const(1000), {"lots": 3}, 1,
                                [oven(warm_up_s=300, modes=("standby",))],
                                strategies=[{"type": "smart_standby", "timeout_s": 900}]))
    lead = res.lots["lead_time_h"].to_numpy() * 3600
    np.testing.assert_allclose(lead[6:], 600)
    sw = res.kpis["stations"]["oven"]["switch_on"]
    assert sw["switch_ons"] == 1 and sw["mean_lots_at_switch_on"] == 3
    ss = res.kpis["strategies"]["smart_standby"]["stations"]["oven"]
    assert ss["switches"] == 1 and ss["woken_ahead"] == 0


@pytest.mark.parametrize(("switch_on", "types", "words"), [
    ({"lots": 3, "mode": "standby"}, [oven()], ["switch_on.mode", "no saving mode 'standby'"]),
    ({"lots": 0}, [oven()], ["switch_on.lots", ">= 1", "(got 0)"]),
    ({"lots": 3, "max_wait_h": -1}, [oven()], ["switch_on.max_wait_h"]),
    ({"lots": 3, "wait": 1}, [oven()], ["switch_on.wait"]),
])
def test_bad_switch_on_is_named(switch_on, types, words):
    with pytest.raises(ConfigError) as e:
        n_plant(const(600), const(1000), switch_on, 1, types)
    msg = str(e.value)
    for w in words:
        assert w in msg, msg
    assert "Traceback" not in msg


def test_not_on_an_assembly_station():
    with pytest.raises(ConfigError, match="assembly station has one per component"):
        make_plant([{"id": "pre", "equipment": "machine", "process_time": const(60)},
                    {"id": "asm", "equipment": "machine", "process_time": const(60),
                     "switch_on": {"lots": 2}}],
                   products=[{"id": "kit", "route": ["asm"], "components": {"part": 1}},
                             {"id": "part", "route": ["pre"]}],
                   sources=[{"id": "plan", "kind": "plan", "quantities": {"kit": 1}}])


def test_off_through_the_night_until_the_threshold():
    """Shifts 08-16 h every day, lots every hour from 09:00 within shifts, N = 3, off with a
    1800 s cold start and first-order cooling (tau 2 h), warm_up_before_shift. Day 1 begins with
    the configured warm-up before 08:00 (off since 0 s: t + w(t) = 8 h); then the machine waits
    off. Lots of 09, 10, 11 h switch it on at 11:00, warm-up w(3 h); lots of 12, 13, 14 h at
    14:00, w(time off since the first run ended). The 15:00 lot is held through the night: the
    machine stays off at 08:00 on day 2 (no warm-up for the shift) until lots of 09 and 10 h
    make three, warm-up w(off since 14:49 on day 1); then the 11, 12, 13 h lots. Lead times and
    energy by hand, w(t) = 1800 (1 - exp(-t / 2 h))."""
    from scipy.optimize import brentq

    furnace = {"id": "oven",
               "power_kw": {"electricity": {"off": 0, "warm_up": 8, "idle": 5, "processing": 10}},
               "saving_modes": {"off": {"warm_up_s": 1800, "min_stay_s": 0,
                                        "cooling": {"time_constant_h": 2}}},
               "off_shift_mode": "off", "warm_up_before_shift": True}
    every_day = {"shifts": {"day": {"start": "08:00", "end": "16:00"}},
                 "week": {d: ["day"] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}}
    plant = make_plant([{"id": "oven", "equipment": "oven", "process_time": const(600),
                         "switch_on": {"lots": 3}}],
                       equipment_types=[furnace], calendar=every_day,
                       sources=[{"id": "a", "kind": "arrivals", "interarrival": const(3600),
                                 "product_mix": {"part": 1}, "active": "shifts"}],
                       site={"name": "t", "timezone": "UTC", "latitude": 0, "longitude": 0},
                       simulation={"days": 2, "start": "2025-01-06"})
    res = twin.simulate(plant)

    def w(t: float) -> float:
        return 1800 * (1 - np.exp(-t / 7200))

    h = 3600.0
    warm0 = 8 * h - brentq(lambda t: t + w(t) - 8 * h, 0, 8 * h, xtol=1e-10)
    done, warms, off_at = [], [warm0], 8 * h
    for on in (11 * h, 14 * h, 34 * h, 37 * h):  # the switch-ons
        wk = w(on - off_at)
        warms.append(wk)
        done += [on + wk + 600 * k for k in (1, 2, 3)]
        off_at = on + wk + 1800
    released = [9, 10, 11, 12, 13, 14, 15, 33, 34, 35, 36, 37]
    np.testing.assert_allclose(res.lots["lead_time_h"] * h,
                               np.array(done) - np.array(released) * h, atol=1e-6)
    kws = 8 * sum(warms) + 12 * 600 * 10
    assert float(res.equipment["electricity_kwh"].sum()) == pytest.approx(kws * KWS, rel=1e-9)
    assert res.kpis["stations"]["oven"]["switch_on"]["switch_ons"] == 4


@pytest.mark.parametrize(("n", "max_wait_h", "shifts", "standby", "tou", "seed"), [
    (3, None, False, False, False, 1),
    (4, 0.5, True, False, False, 2),
    (2, None, True, True, False, 3),
    (5, 1.0, False, True, True, 4),
    (3, 0.25, True, True, True, 5),
    (1, None, True, False, True, 6),
])
def test_random_lines_keep_their_books(n, max_wait_h, shifts, standby, tou, seed):
    """Random three-station lines with a switch-on threshold (and cooling) at the middle station,
    alone or with smart standby, shifts and a TOU hold: lots are neither lost nor duplicated at
    any time (census), every machine's states fill the run, energy adds up from the states."""
    from test_flow_invariants import census

    from twin import engine

    furnace = oven(warm_up_s=900, min_stay_s=300, modes=("off", "standby"))
    furnace["saving_modes"]["off"]["cooling"] = {"time_constant_h": 1.5}
    furnace["off_shift_mode"] = "off"
    stations = [{"id": "a", "equipment": "oven", "process_time": expo(300)},
                {"id": "b", "equipment": "oven", "process_time": expo(400), "machines": 2,
                 "buffer_capacity": 6, "deferrable": True,
                 "switch_on": {"lots": n, "max_wait_h": max_wait_h}},
                {"id": "c", "equipment": "oven", "process_time": expo(200)}]
    sections = {}
    if shifts:
        sections["calendar"] = {"shifts": {"d": {"start": "07:00", "end": "19:30"}},
                                "week": {d: ["d"] for d in ("mon", "tue", "wed", "thu", "fri")}}
    strategies = [{"type": "smart_standby", "timeout_s": 600}] if standby else []
    if tou:
        strategies.append({"type": "tou_shifting", "periods": ["valley", "flat"]})
        sections["energy"] = {"grid": {"tariff": {"preset": "jiangsu_2025",
                                                  "customer_class": "two_part",
                                                  "flat_price_per_kwh": 0.5}}}
    p = make_plant(stations, equipment_types=[furnace], interarrival=expo(900),
                   simulation={"days": 4, "start": "2026-01-05"}, strategies=strategies,
                   **sections)
    model = engine.build(p, 4, p.simulation.start, seed)
    for k in range(1, 25):
        model.env.run(until=model.horizon_s * k / 24)
        census(model)
    meter_books_balance(model)
    gate = model.stations[1].switch_on
    assert gate.switch_ons > 0
    if max_wait_h is None:  # every switch-on had the threshold met
        assert gate.lots_at_switch_on >= n * gate.switch_ons


def test_example_plant_saves_oven_energy_per_lot():
    """plant_configs/reflow_oven_plant.yaml against itself without the threshold (same seed):
    the oven is hot and empty less, so it uses less energy per magazine, and lots wait longer."""
    from pathlib import Path

    path = Path(__file__).resolve().parent.parent / "plant_configs" / "reflow_oven_plant.yaml"
    plant = twin.load_plant(path)
    with_n = twin.simulate(plant, days=7)
    lines = plant.lines[0].model_copy(deep=True)
    lines.stations[2] = lines.stations[2].model_copy(update={"switch_on": None})
    without = twin.simulate(plant.model_copy(update={"lines": [lines]}), days=7)
    a, b = with_n.kpis["stations"]["reflow"], without.kpis["stations"]["reflow"]
    assert "switch_on" in a and "switch_on" not in b
    assert a["energy_kwh"] / a["lots_processed"] < 0.8 * b["energy_kwh"] / b["lots_processed"]
    assert with_n.kpis["mean_lead_time_h"] > without.kpis["mean_lead_time_h"]
