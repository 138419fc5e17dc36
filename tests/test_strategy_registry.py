"""The strategy interface: registration by name, parameter validation with field paths, install
before the run, report in the KPIs and manifest."""

from __future__ import annotations

import textwrap

import pytest

import twin
from twin.config.errors import ConfigError
from twin.strategies import STRATEGIES, Strategy, StrategyParams, register_strategy

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


@pytest.fixture()
def counting_strategy():
    @register_strategy("test_counter")
    class Counter(Strategy):
        class Params(StrategyParams):
            every_s: float = 3600.0

        def install(self, model):
            self.ticks = 0

            def tick():
                while True:
                    yield model.env.timeout(self.params.every_s)
                    self.ticks += 1

            model.env.process(tick())

        def report(self, model):
            return {"ticks": self.ticks}

    yield Counter
    STRATEGIES.pop("test_counter", None)


def _load(tmp_path, extra: str):
    f = tmp_path / "plant.yaml"
    f.write_text(PLANT + extra)
    return twin.load_plant(f)


def test_registered_strategy_runs_and_reports(tmp_path, counting_strategy):
    plant = _load(tmp_path, "strategies: [{type: test_counter, every_s: 7200}]\n")
    res = twin.simulate(plant)
    # ticks at 2, 4, ..., 22 h; the run stops before the events at its horizon (24 h)
    assert res.kpis["strategies"] == {"test_counter": {"ticks": 11}}
    assert res.manifest["strategies"][0] == "test_counter"


def test_unknown_strategy_is_named_with_its_path(tmp_path, counting_strategy):
    with pytest.raises(ConfigError) as err:
        _load(tmp_path, "strategies: [{type: test_countr}]\n")
    assert "strategies[0].type" in str(err.value)
    assert "did you mean 'test_counter'" in str(err.value)


def test_bad_parameter_is_named_with_its_path(tmp_path, counting_strategy):
    with pytest.raises(ConfigError) as err:
        _load(tmp_path, "strategies: [{type: test_counter, every: 5}]\n")
    msg = str(err.value)
    assert "strategies[0].every" in msg and "'every_s'" in msg
    with pytest.raises(ConfigError) as err:
        _load(tmp_path, "strategies: [{type: test_counter, every_s: soon}]\n")
    assert "strategies[0].every_s" in str(err.value)
