"""The strategy interface: registration by name, parameter validation with field paths, install
before the run, report in the KPIs and manifest."""

from __future__ import annotations

import textwrap

import numpy as np
import pytest

import twin
from twin.config.errors import ConfigError
from twin.strategies import STRATEGIES, Strategy, register_strategy

PLANT = textwrap.dedent("""
    site: {name: s, timezone: UTC, latitude: 0, longitude: 0}
    simulation: {days: 1, start: 2025-01-06}
    products: [{id: p, route: [a]}]
    equipment_types: [{id: t, power_kw: {electricity: {idle: 1, processing: 5}}}]
    lines: [{id: l, stations: [{id: a, equipment: t,
             process_time: {dist: constant, value: 600}}]}]
    sources: [{id: src, kind: arrivals, product_mix: {p: 1},
               interarrival: {dist: constant, value: 1200}}]
""")


def _load(tmp_path, extra: str):
    f = tmp_path / "plant.yaml"
    f.write_text(PLANT + extra)
    return twin.load_plant(f)


def test_registered_strategy_runs_and_reports(tmp_path, tick_strategy):
    plant = _load(tmp_path, "strategies: [{type: test_tick, every_s: 7200}]\n")
    res = twin.simulate(plant)
    # ticks at 2, 4, ..., 22 h; the run stops before the events at its horizon (24 h)
    assert res.kpis["strategies"] == {"test_tick": {"ticks": 11}}
    assert res.manifest["strategies"][0] == "test_tick"


def test_unknown_strategy_is_named_with_its_path(tmp_path, tick_strategy):
    with pytest.raises(ConfigError) as err:
        _load(tmp_path, "strategies: [{type: test_countr}]\n")
    assert "strategies[0].type" in str(err.value)
    assert "did you mean 'test_tick'" in str(err.value)


def test_bad_parameter_is_named_with_its_path(tmp_path, tick_strategy):
    with pytest.raises(ConfigError) as err:
        _load(tmp_path, "strategies: [{type: test_tick, every: 5}]\n")
    msg = str(err.value)
    assert "strategies[0].every" in msg and "'every_s'" in msg
    with pytest.raises(ConfigError) as err:
        _load(tmp_path, "strategies: [{type: test_tick, every_s: soon}]\n")
    assert "strategies[0].every_s" in str(err.value)


def test_signals_seen_by_a_strategy(tmp_path):
    """A strategy reads the live site power (1 kW idle, 5 kW processing) and the grid factor."""
    seen = []

    @register_strategy("test_probe")
    class Probe(Strategy):
        def install(self, model):
            sig = model.signals

            def probe():
                for t in (300.0, 1500.0):  # the first lot arrives at 1200 s and takes 600 s
                    yield model.env.timeout(t - model.env.now)
                    seen.append((sig.site_kw(), sig.price(t), sig.period(t), sig.grid_ef(t)))

            model.env.process(probe())

    try:
        shape = ",".join(["1"] * 12 + ["3"] * 12)
        plant = _load(tmp_path, "strategies: [{type: test_probe}]\n"
                                "carbon: {grid_factor_kg_per_kwh: 0.5, "
                                f"hourly_shape: [{shape}]}}\n")
        twin.simulate(plant)
    finally:
        STRATEGIES.pop("test_probe", None)
    # without an energy block: price 0, period flat; shape mean 2 -> 0.25 and 0.75 kg/kWh
    assert seen == [(1.0, 0.0, "flat", 0.25), (5.0, 0.0, "flat", 0.25)]


def test_signals_next_change():
    from twin.signals import Signals

    sig = Signals(900.0, 4, np.array([1.0, 1.0, 0.3, 1.0]), ["peak", "peak", "valley", "peak"],
                  np.full(4, 0.5), np.zeros(4))
    assert sig.next_change(100.0, {"valley"}) == 1800.0
    assert sig.next_change(2000.0, {"valley"}) == 2000.0
    assert sig.next_change(2800.0, {"valley"}) == np.inf
    assert sig.price(3599.0) == 1.0 and sig.interval(1e9) == 3



def test_reading_the_state_of_charge_needs_reads_storage():
    """A strategy that says it reads no state of charge gets a clear error if it does (the EMS
    settles after the run then, so there is no live value to give)."""
    from twin.signals import Signals

    class _Ems:
        live, soc_frac = False, 0.4

    sig = Signals(900.0, 4, np.zeros(4), ["flat"] * 4, np.zeros(4), np.zeros(4), ems=_Ems())
    with pytest.raises(RuntimeError, match="reads_storage = True"):
        sig.soc_frac()
    _Ems.live = True
    assert sig.soc_frac() == 0.4
    assert Strategy.reads_storage  # user strategies: in the loop unless they say otherwise
    from twin.strategies import get_strategy

    for name in ("tou_shifting", "peak_shaving", "pv_following", "carbon_aware",
                 "smart_standby", "predictive_maintenance"):
        assert not get_strategy(name).reads_storage, name
