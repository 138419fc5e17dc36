"""Shared helpers for the behaviour tests: build small plants from Python dicts.

``make_plant(stations=[...])`` fills in everything a plant file needs but a test does not care
about (site, one line, one product visiting every station, one equipment type, an arrival source),
so each test states only what it checks. Every section can be given in full instead, exactly as in
a plant file. The helpers are plain functions; the ``make_plant`` fixture (session-scoped, so it is
also usable inside hypothesis tests) hands out the same function.
"""

from __future__ import annotations

import copy
import json
import math
import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import Phase, settings

from twin.config import Plant, plant_from_data

MUTATION_EXAMPLES = 20
"""Hypothesis examples per property test under the ``mutation`` profile."""

# ``HYPOTHESIS_PROFILE=mutation`` (set by ``tests/mutate.py`` for a full mutation run): every
# property test runs at most MUTATION_EXAMPLES examples, from a fixed seed (derandomize: the same
# examples for every mutant and every run, so a run's verdicts are reproducible), without the
# example database (a failure found for one mutant is not replayed for the next) and without
# shrinking (a mutant is killed by its first failing example; shrinking it took minutes for
# mutants that slow the random-plant simulations). A mutant that survives this is re-run with
# the full profile (``mutate.py --survivors-of``) before it is called a survivor. Any other
# value (or none) keeps hypothesis' defaults.
MUTATION_PHASES = (Phase.explicit, Phase.generate)
settings.register_profile("mutation", max_examples=MUTATION_EXAMPLES, derandomize=True,
                          database=None, deadline=None, print_blob=False,
                          phases=MUTATION_PHASES)
if os.environ.get("HYPOTHESIS_PROFILE") == "mutation":
    settings.load_profile("mutation")


def pytest_collection_modifyitems(config, items):
    """Under the ``mutation`` profile: cap the examples a test's own ``@settings`` asks for
    (explicit arguments win over a profile in hypothesis) at MUTATION_EXAMPLES. In a mutmut
    worker (any profile): run the fastest tests first (their durations from mutmut's clean
    run, in ``mutmut-stats.json``), so that ``-x`` stops at the cheapest test that kills the
    mutant."""
    if os.environ.get("HYPOTHESIS_PROFILE") == "mutation":
        for item in items:
            test = getattr(item, "obj", None)
            own = getattr(test, "_hypothesis_internal_use_settings", None)
            if own is not None and own.max_examples > MUTATION_EXAMPLES:
                test._hypothesis_internal_use_settings = settings(
                    own, max_examples=MUTATION_EXAMPLES, derandomize=True, database=None,
                    phases=MUTATION_PHASES)
    stats = Path("mutmut-stats.json")
    if os.environ.get("MUTANT_UNDER_TEST") and stats.exists():
        took = json.loads(stats.read_text()).get("duration_by_test", {})
        items.sort(key=lambda item: took.get(item.nodeid, took.get(
            item.nodeid.removeprefix("mutants/"), math.inf)))

SITE: dict[str, Any] = {
    "name": "test plant", "timezone": "Asia/Shanghai", "latitude": 31.23, "longitude": 121.47,
}
MACHINE: dict[str, Any] = {
    "id": "machine", "power_kw": {"electricity": {"idle": 2, "processing": 10}},
}
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")


def const(value: float, unit: str = "s") -> dict[str, Any]:
    """A constant time distribution."""
    return {"dist": "constant", "value": value, "unit": unit}


def expo(mean: float, unit: str = "s") -> dict[str, Any]:
    """An exponential time distribution."""
    return {"dist": "exponential", "mean": mean, "unit": unit}


def station(sid: str, process: dict[str, Any] | None = None, **fields: Any) -> dict[str, Any]:
    """A station on the default equipment type ``machine``."""
    out: dict[str, Any] = {"id": sid, "equipment": "machine"}
    if process is not None:
        out["process_time"] = process
    out.update(fields)
    return out


def arrivals(interarrival: dict[str, Any], mix: dict[str, float] | None = None,
             **fields: Any) -> dict[str, Any]:
    """An arrival source (default product ``part``)."""
    return {"id": "arrivals", "kind": "arrivals", "interarrival": interarrival,
            "product_mix": mix or {"part": 1}, **fields}


def make_plant(
    stations: list[dict[str, Any]] | None = None,
    *,
    lines: list[dict[str, Any]] | None = None,
    products: list[dict[str, Any]] | None = None,
    sources: list[dict[str, Any]] | None = None,
    equipment_types: list[dict[str, Any]] | None = None,
    interarrival: dict[str, Any] | None = None,
    **sections: Any,
) -> Plant:
    """A validated plant from the sections given, with defaults for the rest.

    ``stations`` (a list of station dicts) becomes the single line ``line``; without ``products``
    one product ``part`` visits every station in order; without ``sources`` lots of ``part`` arrive
    every ``interarrival`` (default exponential, mean 60 s). Other keyword arguments (``calendar``,
    ``base_loads``, ``simulation``, ``site``, ...) are plant-file sections, passed through.
    """
    if lines is None:
        assert stations is not None, "give stations or lines"
        lines = [{"id": "line", "stations": stations}]
    if products is None:
        route = [s["id"] for line in lines for s in line["stations"]]
        products = [{"id": "part", "route": route}]
    if sources is None:
        sources = [arrivals(interarrival or expo(60))]
    data: dict[str, Any] = {
        "site": SITE,
        "products": products,
        "equipment_types": equipment_types or [MACHINE],
        "lines": lines,
        "sources": sources,
    }
    data.update(sections)
    return plant_from_data(copy.deepcopy(data), name="<test>")


def day_shift_calendar(*shifts: tuple[str, str], days: tuple[str, ...] = WEEKDAYS) -> dict:
    """A calendar section with the given (start, end) shifts on ``days`` (default Mon-Fri)."""
    names = {f"shift{k + 1}": {"start": s, "end": e} for k, (s, e) in enumerate(shifts)}
    return {"shifts": names, "week": {d: list(names) for d in days}}


@pytest.fixture(scope="session", name="make_plant")
def _make_plant_fixture():
    """The :func:`make_plant` helper, as a fixture."""
    return make_plant


@pytest.fixture()
def tick_strategy():
    """A strategy registered as ``test_tick`` for the test: counts every ``every_s`` [s] of
    simulated time and reports ``{"ticks": n}``; unregistered afterwards."""
    from twin.strategies import STRATEGIES, Strategy, StrategyParams, register_strategy

    @register_strategy("test_tick")
    class Tick(Strategy):
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

    yield Tick
    STRATEGIES.pop("test_tick", None)


@pytest.fixture(params=["fast", "per_interval"])
def ems_path(request, monkeypatch):
    """Run the test through one of the EMS's two copies of the battery step, by name.

    ``'fast'``: as the plant asks (a single battery whose policy gives its asks beforehand is
    settled by ``EMS._follow_asks``, the written-out copy); ``'per_interval'``: every policy is
    asked interval by interval (``requests_kw`` returns None, as ``DispatchPolicy``'s does), so
    the battery steps through ``EMS._one_battery`` / ``_many_batteries`` and the ``Battery``
    methods, and ``_follow_asks`` may not run at all. A hand-worked test that uses this fixture
    thus checks both copies. Yields the list of ``_follow_asks`` calls seen (empty in
    ``'per_interval'``); in ``'fast'`` a test that never reached ``_follow_asks`` fails at
    teardown (use the fixture only where the plant has one battery and such a policy).
    """
    from twin.energy import ems

    calls: list[int] = []
    follow = ems.EMS._follow_asks
    if request.param == "per_interval":
        for cls in ems.POLICIES.values():
            if "requests_kw" in vars(cls):
                monkeypatch.setattr(cls, "requests_kw", ems.DispatchPolicy.requests_kw)

        def refuse(*args, **kwargs):
            raise AssertionError("EMS._follow_asks ran in the per-interval path")

        monkeypatch.setattr(ems.EMS, "_follow_asks", refuse)
    else:
        def count(self, b, asks, *args, **kwargs):
            calls.append(len(asks))
            return follow(self, b, asks, *args, **kwargs)

        monkeypatch.setattr(ems.EMS, "_follow_asks", count)
    yield calls
    if request.param == "fast":
        assert calls, "the test never reached the fast copy EMS._follow_asks"


@pytest.fixture(autouse=True)
def _fresh_tariff_caches_under_mutation():
    """Under mutation testing only (mutmut sets ``MUTANT_UNDER_TEST`` in the workers it forks
    from a process whose caches are already warm): empty the tariff preset caches and the
    evaluation's rule file cache, so that a mutant planted in the preset compiler
    (``tariff._compile`` and what it calls) or in ``evaluation._rules_file`` really runs instead
    of what was computed before the fork."""
    if os.environ.get("MUTANT_UNDER_TEST"):
        from twin.carbon import evaluation
        from twin.energy import tariff

        tariff._compile.cache_clear()
        tariff._read_cached.cache_clear()
        evaluation._rules_file.cache_clear()
    yield


def seconds_of(result: Any, col: Any) -> np.ndarray:
    """Timestamps of a result's table as seconds from the run's start."""
    return (col - result.hourly.index[0]).dt.total_seconds().to_numpy()


def queue_kpis_from_rows(result: Any, horizon_s: float) -> None:
    """Each station's queue KPIs rebuilt from its steps.parquet rows (the sample-path areas, open
    lots cut at the end): waits of the lots taken, lots waiting, lots in the station."""
    steps, k = result.steps, result.kpis
    arr = seconds_of(result, steps["arrival"])
    start = seconds_of(result, steps["start"])
    left = np.nan_to_num(seconds_of(result, steps["left"]), nan=horizon_s)
    started = ~np.isnan(start)
    for sid, st in k["stations"].items():
        here = (steps["station"] == sid).to_numpy()
        wait = start[here & started] - arr[here & started]
        assert wait.mean() == pytest.approx(st["mean_wait_s"], rel=1e-9, abs=1e-6), sid
        waiting = np.where(started, start, horizon_s)[here] - arr[here]
        assert waiting.sum() / horizon_s == pytest.approx(st["mean_lots_waiting"], rel=1e-9,
                                                          abs=1e-9), sid
        assert (left[here] - arr[here]).sum() / horizon_s == pytest.approx(
            st["mean_lots_in_station"], rel=1e-9, abs=1e-9), sid


def meter_books_balance(model: Any) -> None:
    """After a run built with ``engine.build``: every machine's state times fill the run, and
    its electricity equals the sum over states of time x that state's power (kWh)."""
    model.meter.close()
    np.testing.assert_allclose(model.meter.state_s.sum(axis=1), model.horizon_s, rtol=1e-9)
    power = model.meter.power[:, :, 0]
    np.testing.assert_allclose((model.meter.state_s * power).sum(axis=1) / 3600,
                               model.meter.equipment_kwh[:, 0], rtol=1e-9)
