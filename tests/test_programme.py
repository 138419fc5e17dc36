"""Power programmes (phases of a processing step) metered by hand.

Every expected energy below is worked out in the comments from the phases, the drawn times and the
15-min settlement grid, with no code shared with the meter: piecewise-constant power times
seconds, divided by 3600.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from tests.conftest import const, make_plant
from twin import engine
from twin.config import ConfigError
from twin.equipment.states import PROCESSING

START = dt.date(2026, 1, 5)
TEN_H = 10 * 3600.0  # the first (and only) lot arrives at 10:00, interval 40 of 15 min


def machine(programme: list[dict] | None = None, **power: dict) -> dict:
    """Equipment type 'm': 10 kW processing, 0 idle, 1 kW down; with ``programme`` if given."""
    out: dict = {"id": "m", "power_kw": {"electricity": {"idle": 0, "processing": 10, "down": 1},
                                         **power}}
    if programme is not None:
        out["programme"] = programme
    return out


# three phases by share: 100 kW for a quarter, 40 kW for half, the type's 10 kW for the last quarter
ABC = [{"id": "a", "share": 0.25, "power_kw": {"electricity": 100}},
       {"id": "b", "share": 0.5, "power_kw": {"electricity": 40}},
       {"id": "c", "share": 0.25}]


def one_lot(programme: list[dict] | None, process: dict, *, arrive_s: float = TEN_H,
            station: dict | None = None, days: float = 0.5) -> engine.Model:
    """One lot through one machine, arriving at ``arrive_s``; the model after the run."""
    st = {"id": "s", "equipment": "m", "process_time": process, **(station or {})}
    plant = make_plant([st], equipment_types=[machine(programme)],
                       sources=[{"id": "src", "kind": "arrivals",
                                 "interarrival": const(arrive_s), "product_mix": {"part": 1}}])
    model = engine.build(plant, days, START, 1)
    engine.run(model, progress=False)
    return model


def kwh(model: engine.Model) -> np.ndarray:
    """Electricity of every 15-min interval [kWh]."""
    return model.meter.carrier_kwh()[:, 0]


def test_phases_split_across_intervals_by_hand():
    # Lot starts at 10:05 (36,300 s), 1,800 s of processing: a 450 s at 100 kW to 10:12:30,
    # b 900 s at 40 kW to 10:27:30, c 450 s at 10 kW to 10:35.
    # interval 40 [10:00, 10:15): a 450 s x 100 + b 150 s x 40 = 51,000 kW s = 14.1667 kWh
    # interval 41 [10:15, 10:30): b 750 s x 40 + c 150 s x 10 = 31,500 kW s = 8.75 kWh
    # interval 42 [10:30, 10:45): c 300 s x 10 = 3,000 kW s = 0.8333 kWh
    model = one_lot(ABC, const(1800), arrive_s=TEN_H + 300)
    e = kwh(model)
    assert e[40] == pytest.approx(51000 / 3600, rel=1e-12)
    assert e[41] == pytest.approx(31500 / 3600, rel=1e-12)
    assert e[42] == pytest.approx(3000 / 3600, rel=1e-12)
    assert np.delete(e, [40, 41, 42]).sum() == 0.0  # idle 0 kW: nothing else
    # energy of the lot = sum of phase power x duration: 12.5 + 10 + 1.25 = 23.75 kWh
    assert model.meter.equipment_kwh[0, 0] == pytest.approx(23.75, rel=1e-12)
    # the state timeline is the plain one: 1,800 s processing
    assert model.meter.state_s[0, PROCESSING] == pytest.approx(1800.0)


def test_phases_by_duration_on_a_constant_time():
    # The same programme written in seconds (450 + 900 + 450 = 1,800 s) on an interval boundary:
    # interval 40: a 450 s x 100 + b 450 s x 40 = 63,000 kW s; interval 41: b 450 x 40 + c 450 x 10
    # = 22,500 kW s.
    phases = [{"id": "a", "duration_s": 450, "power_kw": {"electricity": 100}},
              {"id": "b", "duration_s": 900, "power_kw": {"electricity": 40}},
              {"id": "c", "duration_s": 450}]
    e = kwh(one_lot(phases, const(30, "min")))
    assert e[40] == pytest.approx(63000 / 3600, rel=1e-12)
    assert e[41] == pytest.approx(22500 / 3600, rel=1e-12)
    assert e.sum() == pytest.approx(85500 / 3600, rel=1e-12)


def test_a_carrier_the_phase_leaves_out_draws_the_processing_power():
    # heat 60 kW while processing; phase a sets heat to 0, b and c leave it out (60 kW):
    # heat = 60 kW x (900 + 450) s = 81,000 kW s = 22.5 kWh; electricity as in the first test.
    phases = [{"id": "a", "share": 0.25, "power_kw": {"electricity": 100, "heat": 0}},
              *ABC[1:]]
    st = {"id": "s", "equipment": "m", "process_time": const(1800)}
    eq = machine(phases, heat={"processing": 60})
    plant = make_plant([st], equipment_types=[eq], sources=[
        {"id": "src", "kind": "arrivals", "interarrival": const(TEN_H),
         "product_mix": {"part": 1}}])
    model = engine.build(plant, 0.5, START, 1)
    engine.run(model, progress=False)
    assert model.meter.equipment_kwh[0, 2] == pytest.approx(22.5, rel=1e-12)
    assert model.meter.equipment_kwh[0, 0] == pytest.approx(23.75, rel=1e-12)


def test_an_interrupted_step_resumes_its_programme_where_it_was():
    # Failures after every 600 s of processing, repairs of 300 s at 1 kW (down). The lot starts at
    # 10:00 for 1,800 s of processing: phases a [0, 450), b [450, 1350), c [1350, 1800) in
    # processing time. Wall clock from 10:00:
    #   [0, 450) a 100 kW; [450, 600) b 40; fails; [600, 900) down 1 kW;
    #   [900, 1500) b 40 (processing 600..1200); fails; [1500, 1800) down 1;
    #   [1800, 1950) b 40 (1200..1350); [1950, 2400) c 10 kW; then idle 0 kW.
    # interval 40 [0, 900):    45,000 + 6,000 + 300 = 51,300 kW s
    # interval 41 [900, 1800): 24,000 + 300        = 24,300 kW s
    # interval 42 [1800, 2700): 6,000 + 4,500      = 10,500 kW s
    # the lot's energy is the programme's (23.75 kWh) plus 600 s down at 1 kW.
    failures = {"time_to_failure": const(600), "time_to_repair": const(300)}
    model = one_lot(ABC, const(1800), station={"failures": failures})
    e = kwh(model)
    assert e[40] == pytest.approx(51300 / 3600, rel=1e-12)
    assert e[41] == pytest.approx(24300 / 3600, rel=1e-12)
    assert e[42] == pytest.approx(10500 / 3600, rel=1e-12)
    assert e.sum() == pytest.approx(23.75 + 600 / 3600, rel=1e-12)


def test_energy_per_lot_is_the_sum_of_its_phases_with_random_times():
    # normal processing times: each lot's energy is its drawn time x sum(share x power)
    # = d x (0.25 x 100 + 0.5 x 40 + 0.25 x 10) = d x 47.5 kW; idle 0 kW, so the machine's energy
    # is 47.5 kW x the sum of the drawn processing times, which the machine counts itself. A plan
    # of 30 lots a day (~10 h of work) leaves no lot in process at the end of the 3 days.
    st = {"id": "s", "equipment": "m", "process_time": {"dist": "normal", "mean": 20,
                                                         "cv": 0.3, "unit": "min"}}
    plant = make_plant([st], equipment_types=[machine(ABC)],
                       sources=[{"id": "plan", "kind": "plan", "quantities": {"part": 30}}])
    model = engine.build(plant, 3, START, 7)
    engine.run(model, progress=False)
    m = model.stations[0].machines[0]
    assert m.busy_lots == 90
    assert m.processing_s[0] == pytest.approx(model.meter.state_s[0, PROCESSING], rel=1e-12)
    assert model.meter.equipment_kwh[0, 0] == pytest.approx(47.5 * m.processing_s[0] / 3600,
                                                             rel=1e-12)


@pytest.mark.parametrize("phases, needle", [
    ([{"id": "a", "share": 0.5}, {"id": "b", "share": 0.4}], "shares sum to 0.9; expected 1"),
    ([{"id": "a", "share": 0.5}, {"id": "b", "duration_s": 900}], "mixes share and duration_s"),
    ([{"id": "a", "duration_s": 900}, {"id": "b", "duration_s": 600}],
     "phases by duration_s last 1500 s but station 's' processes product 'part' for 1800 s"),
    ([{"id": "a"}], "needs exactly one of share or duration_s"),
])
def test_a_programme_that_does_not_cover_the_step_is_refused(phases, needle):
    with pytest.raises(ConfigError) as info:
        make_plant([{"id": "s", "equipment": "m", "process_time": const(1800)}],
                   equipment_types=[machine(phases)])
    text = str(info.value)
    assert needle in text
    assert "equipment_types[0].programme" in text
    assert len(info.value.issues) == 1  # one problem, on one line
    assert needle in info.value.issues[0].format("plant.yaml")


def test_phases_by_duration_on_a_random_time_are_refused():
    phases = [{"id": "a", "duration_s": 1800}]
    with pytest.raises(ConfigError) as info:
        make_plant([{"id": "s", "equipment": "m", "process_time": {"dist": "exponential",
                                                                   "mean": 1800}}],
                   equipment_types=[machine(phases)])
    assert "for a random time; expected phases by share" in str(info.value)


def test_a_recipe_for_a_product_that_does_not_visit_is_refused():
    with pytest.raises(ConfigError) as info:
        make_plant([{"id": "s", "equipment": "m", "process_time": const(60),
                     "programme_by_product": {"other": ABC}},
                    {"id": "t", "equipment": "m", "process_time": const(60)}],
                   products=[{"id": "part", "route": ["s"]}, {"id": "other", "route": ["t"]}])
    assert "programme_by_product.other: product 'other' does not visit station 's'" in str(
        info.value)


def _line(programme_by_product: dict | None) -> engine.Model:
    """Two products through a three-station line with random times, failures and batching."""
    stations = [
        {"id": "s1", "equipment": "m", "process_time": {"dist": "exponential", "mean": 50},
         "failures": {"time_to_failure": {"dist": "exponential", "mean": 3000},
                      "time_to_repair": {"dist": "exponential", "mean": 200}}},
        {"id": "s2", "equipment": "m", "machines": 2, "buffer_capacity": 3,
         "process_time": {"dist": "normal", "mean": 90, "cv": 0.2}},
        {"id": "s3", "equipment": "m", "process_time": {"dist": "exponential", "mean": 40}},
    ]
    if programme_by_product is not None:
        stations[1]["programme_by_product"] = programme_by_product
        stations[0]["programme_by_product"] = programme_by_product
    plant = make_plant(stations, equipment_types=[machine()],
                       products=[{"id": "part", "route": ["s1", "s2", "s3"]},
                                 {"id": "other", "route": ["s1", "s2", "s3"]}],
                       sources=[{"id": "src", "kind": "arrivals",
                                 "interarrival": {"dist": "exponential", "mean": 60},
                                 "product_mix": {"part": 1, "other": 1}}])
    model = engine.build(plant, 2, START, 11)
    engine.run(model, progress=False)
    return model


def test_a_one_phase_programme_at_the_processing_power_meters_as_the_plain_state():
    # one phase at the type's own 10 kW for product 'part' ('other' runs the plain power through
    # the same path): the same simulation, the same energy per interval, equipment and state
    plain = _line(None)
    phased = _line({"part": [{"id": "all", "share": 1.0, "power_kw": {"electricity": 10}}]})
    np.testing.assert_array_equal(plain.meter.state_s, phased.meter.state_s)
    np.testing.assert_allclose(phased.meter.interval_kwh, plain.meter.interval_kwh,
                               rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(phased.meter.equipment_kwh, plain.meter.equipment_kwh,
                               rtol=1e-12)
    assert plain.flow.completed == phased.flow.completed


def test_the_running_site_power_follows_the_phases(tick_strategy):
    # with a strategy the running site power is kept; its integral over the run must equal the
    # meter's energy (here: the first test's lot, 23.75 kWh, idle 0 kW)
    st = {"id": "s", "equipment": "m", "process_time": const(1800)}
    plant = make_plant([st], equipment_types=[machine(ABC)], strategies=[{"type": "test_tick"}],
                       sources=[{"id": "src", "kind": "arrivals",
                                 "interarrival": const(TEN_H + 300), "product_mix": {"part": 1}}])
    model = engine.build(plant, 0.5, START, 1)
    site = model.signals._site
    seen = {}

    def probe(t):  # the site power during phase b (10:15) and after the lot (11:00)
        yield model.env.timeout(t)
        seen[t] = site.kw[0]

    for t in (TEN_H + 900, TEN_H + 3600):
        model.env.process(probe(t))
    engine.run(model, progress=False)
    assert seen == {TEN_H + 900: 40.0, TEN_H + 3600: 0.0}
    assert site.energy_kwh(model.horizon_s)[0] == pytest.approx(23.75, rel=1e-12)


@pytest.mark.parametrize("path, type_id, carrier, flat_kw", [
    ("plant_configs/textile_dyeing_plant.yaml", "jet_dyer", "heat", 183.3),
    ("plant_configs/eaf_steel_plant.yaml", "arc_furnace", "electricity", 60000.0),
    ("plant_configs/eaf_steel_plant.yaml", "arc_furnace", "natural_gas", 7900.0),
])
def test_reference_programmes_keep_the_calibrated_energy_per_lot(path, type_id, carrier, flat_kw):
    # the headers' calibration: the dye cycle's 183.3 kW of steam (1,099.8 kWh per 6 h batch),
    # the furnace's 60 MW of arc and 7.9 MW of burners over power-on; sum(share x power) must
    # give the same average, so the energy per lot and the sector comparison are unchanged
    from pathlib import Path

    import twin

    root = Path(__file__).resolve().parents[1]
    etype = {t.id: t for t in twin.load_plant(root / path).equipment_types}[type_id]
    assert etype.programme is not None
    assert len(etype.programme) >= 3  # a profile, not a flat level
    kw = [ph.power_kw.get(carrier, etype.power_kw[carrier]["processing"])
          for ph in etype.programme]
    average = sum(ph.share * p for ph, p in zip(etype.programme, kw, strict=True))
    assert average == pytest.approx(flat_kw, rel=1e-12)
    assert max(kw) > flat_kw  # the peak phase draws more than the flat level did


def test_a_carrier_drawn_only_in_a_phase_is_reported():
    # the type draws no heat in any state; phase b draws 60 kW of heat for 900 s = 15 kWh, which
    # the hourly table must show in the group's heat column
    import twin

    phases = [ABC[0], {**ABC[1], "power_kw": {"electricity": 40, "heat": 60}}, ABC[2]]
    plant = make_plant([{"id": "s", "equipment": "m", "process_time": const(1800)}],
                       equipment_types=[machine(phases)],
                       sources=[{"id": "src", "kind": "arrivals", "interarrival": const(TEN_H),
                                 "product_mix": {"part": 1}}])
    result = twin.simulate(plant, days=0.5, start=START, seed=1)
    assert result.hourly["heat_kwh:line"].sum() == pytest.approx(15.0, rel=1e-12)
    assert result.hourly["electricity_kwh:line"].sum() == pytest.approx(23.75, rel=1e-12)


def test_a_programme_on_a_conveyor_is_refused():
    # a conveyor has no processing time for the phases to cover (its load is lot_power_kw)
    with pytest.raises(ConfigError) as info:
        make_plant([{"id": "oven", "equipment": "m",
                     "conveyor": {"pitch_s": 30, "transit_s": 270}}],
                   equipment_types=[machine(ABC)])
    assert len(info.value.issues) == 1
    assert "equipment_types[0].programme: conveyor station 'oven' has no processing time" in str(
        info.value)


def test_a_processing_power_off_the_programme_average_is_warned():
    """ABC averages 0.25 x 100 + 0.5 x 40 + 0.25 x 10 = 47.5 kW against the type's 10 kW: the
    run warns (estimates and calibration read ``processing``). Phase c draws the processing
    power P, so the average equals P when P = 45 + 0.25 P, i.e. P = 60 kW: no warning."""
    from twin.production.programme import programme_warnings

    st = {"id": "s", "equipment": "m", "process_time": const(1800)}
    src = [{"id": "src", "kind": "arrivals", "interarrival": const(TEN_H),
            "product_mix": {"part": 1}}]
    off = make_plant([st], equipment_types=[machine(ABC)], sources=src)
    (w,) = programme_warnings(off)
    assert "averages 47.5 kW of electricity" in w and "processing power is 10.0 kW" in w
    assert "station 's'" in w
    on = make_plant([st], equipment_types=[{**machine(ABC), "power_kw": {"electricity": {
        "idle": 0, "processing": 60, "down": 1}}}], sources=src)
    assert programme_warnings(on) == []
    # a product's own recipe at one station is checked against the type's processing power too
    recipe = make_plant([{**st, "programme_by_product": {"part": [
        {"id": "x", "share": 1.0, "power_kw": {"electricity": 10.05}}]}}],
        equipment_types=[machine()], sources=src)
    assert programme_warnings(recipe) == []  # 0.05 kW off: within 1 % and 0.1 kW


def test_the_programme_warning_reaches_the_run_warnings():
    import twin

    plant = make_plant([{"id": "s", "equipment": "m", "process_time": const(1800)}],
                       equipment_types=[machine(ABC)],
                       sources=[{"id": "src", "kind": "arrivals", "interarrival": const(TEN_H),
                                 "product_mix": {"part": 1}}])
    warnings = twin.simulate(plant, days=0.5, start=START, seed=1).kpis["warnings"]
    assert sum("averages 47.5 kW of electricity" in w for w in warnings) == 1
