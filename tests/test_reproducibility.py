"""Same config and seed give the same bytes; named random streams give common random numbers.

* The run folder's ``hourly.parquet``, ``intervals.parquet`` and ``kpis.json`` are byte-identical
  for two runs with the same seed, in this process and in a fresh interpreter with another
  ``PYTHONHASHSEED`` (so no set or dict order leaks into the outputs), and differ for another seed.
* Common random numbers: every stochastic element has its own stream named after it, so changing
  one station's processing time, or adding a station, leaves the arrival stream and the upstream
  station's processing times untouched. The truth for the arrivals is the named stream itself:
  lots are released at the cumulative sums of ``Streams(seed).sampler(<name>, dist)``.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import arrivals, const, day_shift_calendar, expo, make_plant, station

import twin
from twin.config.distributions import Exponential, LogNormal, Triangular
from twin.streams import BATCH, Streams

COMPARED = ("hourly.parquet", "intervals.parquet", "kpis.json")


def busy_plant():
    """A plant using every random element: arrivals with a product mix, per-product lognormal and
    triangular processing, setups, failures, parallel machines, batches, assembly, a calendar with
    standby, maintenance and a base load."""
    machine = {"id": "machine",
               "power_kw": {"electricity": {"idle": 3, "processing": 12, "standby": 1},
                            "natural_gas": {"processing": 5}},
               "saving_modes": {"standby": {"warm_up_s": 900, "min_stay_s": 1800}},
               "off_shift_mode": "standby"}
    tri = {"dist": "triangular", "min": 30, "mode": 50, "max": 90}
    return make_plant(
        lines=[
            {"id": "parts", "stations": [
                station("cut", {"dist": "lognormal", "mean": 40, "cv": 0.3}, machines=2,
                        setup_time=const(60),
                        failures={"time_to_failure": expo(3, "h"),
                                  "time_to_repair": expo(20, "min")}),
                station("weld", tri, buffer_capacity=4, off_shift="interrupt",
                        maintenance=[{"weekday": "fri", "start": "09:00", "duration_h": 2}]),
            ]},
            {"id": "final", "stations": [
                station("asm", expo(70), buffer_capacity=3),
                station("pack", expo(30), batch_size=2, group="packing"),
            ]},
        ],
        products=[
            {"id": "a", "route": ["cut", "weld"]},
            {"id": "b", "route": ["cut"]},
            {"id": "kit", "route": ["asm", "pack"], "components": {"a": 1, "b": 1},
             "units_per_lot": 2},
            {"id": "spare", "route": ["cut", "pack"]},
        ],
        equipment_types=[machine],
        calendar=day_shift_calendar(("07:00", "15:00"), ("15:00", "23:00")),
        sources=[arrivals(expo(150), {"kit": 3, "spare": 1}, active="shifts")],
        base_loads=[{"id": "light", "group": "facility", "power_kw": {"electricity": 8},
                     "off_power_kw": {"electricity": 1}, "schedule": "shifts"}],
    )


def _bytes(folder: Path) -> dict[str, bytes]:
    return {name: (folder / name).read_bytes() for name in COMPARED}


def test_same_seed_same_bytes_different_seed_different(tmp_path):
    plant = busy_plant()
    a = twin.simulate(plant, days=4, start="2026-01-01", seed=5).save(tmp_path / "a")
    b = twin.simulate(plant, days=4, start="2026-01-01", seed=5).save(tmp_path / "b")
    c = twin.simulate(plant, days=4, start="2026-01-01", seed=6).save(tmp_path / "c")
    ba, bb, bc = _bytes(a), _bytes(b), _bytes(c)
    for name in COMPARED:
        assert ba[name] == bb[name], f"{name} differs between two runs with the same seed"
        assert ba[name] != bc[name], f"{name} is the same for seeds 5 and 6"
    r = twin.Result.load(a)
    assert r.kpis["lots_completed"] > 100  # the plant really did something random


def test_same_bytes_in_a_fresh_interpreter_with_another_hash_seed(tmp_path):
    """Set and dict order of strings changes with PYTHONHASHSEED; the outputs must not."""
    plant = busy_plant()
    here = twin.simulate(plant, days=2, start="2026-01-01", seed=9).save(tmp_path / "here")
    (tmp_path / "plant.pkl").write_bytes(pickle.dumps(plant))
    script = (
        "import pickle, sys, twin\n"
        "plant = pickle.load(open(sys.argv[1], 'rb'))\n"
        "twin.simulate(plant, days=2, start='2026-01-01', seed=9).save(sys.argv[2])\n"
    )
    tests_dir = str(Path(__file__).parent)
    env = {**os.environ, "PYTHONHASHSEED": "12345",
           "PYTHONPATH": os.pathsep.join([tests_dir, os.environ.get("PYTHONPATH", "")])}
    subprocess.run([sys.executable, "-c", script, str(tmp_path / "plant.pkl"),
                    str(tmp_path / "there")], check=True, env=env, timeout=120)
    assert _bytes(here) == _bytes(tmp_path / "there")


# --- common random numbers ----------------------------------------------------------------------

def two_station_line(s2_mean: float, extra_station: bool = False):
    stations = [station("s1", expo(40), group="g1"), station("s2", expo(s2_mean), group="g2")]
    if extra_station:
        stations.append(station("s3", const(10), group="g3"))
    return make_plant(stations, interarrival=expo(60))


def _released_s(result: twin.Result) -> np.ndarray:
    t0 = result.hourly.index[0]
    return np.sort((result.lots["released"] - t0).dt.total_seconds().to_numpy())


def test_changing_one_station_leaves_the_other_streams_alone():
    days = 3
    base = twin.simulate(two_station_line(45), days=days, start="2026-01-01", seed=21)
    slower = twin.simulate(two_station_line(55), days=days, start="2026-01-01", seed=21)
    longer = twin.simulate(two_station_line(45, extra_station=True), days=days,
                           start="2026-01-01", seed=21)

    # the truth: arrivals at the cumulative sums of the source's named stream
    draw = Streams(21).sampler("source:arrivals:interarrival",
                               Exponential(dist="exponential", mean=60))
    arrivals_s = np.cumsum([draw() for _ in range(6000)])
    arrivals_s = arrivals_s[arrivals_s < days * 86400]

    for r in (base, slower, longer):
        rel = _released_s(r)
        # FIFO single machines and unbounded buffers: the finished lots are the first arrivals
        np.testing.assert_allclose(rel, arrivals_s[: rel.size], rtol=0, atol=1e-6)
        assert r.kpis["lots_released"] == arrivals_s.size

    # station 1 sees the same lots at the same times and draws the same processing times, so its
    # power profile is identical, to the bit; station 2's is not
    np.testing.assert_array_equal(base.intervals["electricity_kwh:g1"].to_numpy(),
                                  slower.intervals["electricity_kwh:g1"].to_numpy())
    np.testing.assert_array_equal(base.intervals["electricity_kwh:g1"].to_numpy(),
                                  longer.intervals["electricity_kwh:g1"].to_numpy())
    assert not np.array_equal(base.intervals["electricity_kwh:g2"].to_numpy(),
                              slower.intervals["electricity_kwh:g2"].to_numpy())
    # adding a station after s2 changes nothing upstream
    np.testing.assert_array_equal(base.intervals["electricity_kwh:g2"].to_numpy(),
                                  longer.intervals["electricity_kwh:g2"].to_numpy())
    assert slower.kpis["stations"]["s2"]["utilization"] > base.kpis["stations"]["s2"]["utilization"]


# --- streams ------------------------------------------------------------------------------------

LOGN = LogNormal(dist="lognormal", mean=30, cv=0.4)
TRI = Triangular(dist="triangular", min=1, mode=2, max=5)


def _take(sampler, n: int) -> list[float]:
    return [sampler() for _ in range(n)]


def test_stream_does_not_depend_on_other_streams():
    n = BATCH + 100  # across a refill of the batch
    alone = _take(Streams(3).sampler("station:weld:process:a", LOGN), n)

    crowded = Streams(3)
    others = [crowded.sampler(f"station:s{k}:process:a", TRI) for k in range(5)]
    for o in others:
        _take(o, 777)
    mix = crowded.choice("source:x:mix", [1, 2, 3])
    _take(mix, 50)
    s = crowded.sampler("station:weld:process:a", LOGN)
    got = []
    for k in range(n):  # interleaved with draws from other streams
        got.append(s())
        others[k % 5]()
    assert got == alone

    # a second sampler of the same name restarts the same sequence
    assert _take(crowded.sampler("station:weld:process:a", LOGN), 10) == alone[:10]


def test_streams_differ_by_name_and_seed():
    a = _take(Streams(3).sampler("station:weld:process:a", LOGN), 50)
    b = _take(Streams(3).sampler("station:weld:process:b", LOGN), 50)
    c = _take(Streams(4).sampler("station:weld:process:a", LOGN), 50)
    assert a != b and a != c and b != c
    # and the draws follow their distribution: lognormal with mean 30 and cv 0.4
    x = np.array(_take(Streams(3).sampler("station:weld:process:a", LOGN), 40000))
    assert x.mean() == pytest.approx(30, rel=0.02)  # SE 30 * 0.4 / 200 = 0.06 = 0.2 %
    assert x.std() / x.mean() == pytest.approx(0.4, rel=0.05)
