"""The power sensitivities the calibration fits with, against running the plant again.

With the same seed, a plant whose power figures differ runs the same timeline (no strategy in
these plants reads power), so the difference of two runs' meter readings is the truth the
sensitivity from the time per state must reproduce, to float rounding."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from twin import engine
from twin.calibration.simulated import channels, power_deltas, simulate_channels
from twin.config.calibration import Parameter, plant_at
from twin.config.loader import read_yaml
from twin.equipment.states import N_STATES

DEMO = Path(__file__).resolve().parent.parent / "plant_configs" / "demo_plant.yaml"


@pytest.fixture(scope="module")
def demo_data() -> dict:
    data, _ = read_yaml(DEMO)
    data["energy"]["dispatch"]["bound"] = False
    return data


def test_time_per_state_adds_up_and_gives_the_meter_energy(demo_data):
    plant = plant_at(demo_data, DEMO, {})
    model = engine.build(plant, 3, dt.date(2026, 3, 2), 7)
    model.meter.keep_state_time()
    engine.run(model, False)
    meter = model.meter
    t = meter.state_interval_s
    # every machine and base load is in exactly one state at a time
    assert t.sum(axis=1) == pytest.approx(np.full(meter.n_intervals, meter.n_eq * 900.0))
    # the energy of every interval and carrier is the time per state times the power
    e = t @ meter.power.reshape(meter.n_eq * N_STATES, -1) / 3600.0
    assert e == pytest.approx(meter.carrier_kwh(), rel=1e-12, abs=1e-9)
    assert t.reshape(meter.n_intervals, meter.n_eq, N_STATES).sum(axis=0) == pytest.approx(
        meter.state_s)


def _targets():
    t = SimpleNamespace
    return {"facility": t(group=["facility"], site=None, carrier="electricity"),
            "lines": t(group=["machining", "body_shop"], site=None, carrier="electricity"),
            "oven_gas": t(group=["body_shop"], site=None, carrier="natural_gas"),
            "site": t(site="consumption", group=None, carrier="electricity"),
            "import": t(site="grid_import", group=None, carrier="electricity"),
            "pv": t(site="pv", group=None, carrier="electricity")}


def test_sensitivity_equals_the_difference_of_two_runs(demo_data):
    params = [
        Parameter("base_loads[id=lighting].power_kw.electricity", 10, 100, 40.0, "linear"),
        Parameter("equipment_types[id=machining_centre].power_kw.electricity.idle", 1, 16, 6.5,
                  "linear"),
        Parameter("equipment_types[id=curing_oven].power_kw.natural_gas.processing", 50, 300,
                  160.0, "linear"),
    ]
    before = {p.path: p.before for p in params}

    def at(values):
        return plant_at(demo_data, DEMO, values)

    deltas = power_deltas(at, params, before)
    plant = at(before)
    chans = channels(_targets(), plant)
    start, days = dt.date(2026, 3, 2), 7
    base = simulate_channels(plant, start, days, 0, 11, chans, deltas)
    assert base.values.shape == (days * 24, len(chans))
    names = [c.name for c in chans]
    for j, p in enumerate(params):
        step = 3.0
        moved = simulate_channels(at({**before, p.path: p.before + step}), start, days, 0, 11,
                                  chans, None)
        diff = (moved.values - base.values) / step
        for k, name in enumerate(names):
            if name in ("import", "pv"):
                continue
            assert base.sensitivity[:, k, j] == pytest.approx(diff[:, k], abs=1e-9), (p.path,
                                                                                       name)
        assert np.abs(base.sensitivity[:, names.index("pv"), j]).max() == 0.0
    # lighting moves the facility meter by its on-hours and no line meter; the oven's gas moves
    # only the gas meter
    assert base.sensitivity[:, names.index("lines"), 0].max() == 0.0
    assert base.sensitivity[:, names.index("facility"), 0].max() == pytest.approx(1.0)
    assert base.sensitivity[:, names.index("oven_gas"), 2].sum() > 0
    assert base.sensitivity[:, names.index("site"), 2].max() == 0.0


def test_warm_up_days_are_simulated_but_not_compared(demo_data):
    plant = plant_at(demo_data, DEMO, {})
    chans = channels(_targets(), plant)
    run = simulate_channels(plant, dt.date(2026, 3, 9), 2, 3, 5, chans, None)
    assert run.index[0].isoformat() == "2026-03-09T00:00:00+08:00"
    assert len(run.index) == 48
