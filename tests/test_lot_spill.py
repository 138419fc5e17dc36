"""Finished lots on disk in chunks (twin.production.lot_spill) and the lot KPIs gathered chunk by
chunk with exact sums (twin.production.lot_stats): same outputs, bounded memory."""

from __future__ import annotations

import hashlib
import math
import random

import numpy as np
import pytest
import simpy
from conftest import const, expo, make_plant, station

import twin
from twin.production import lot_spill
from twin.production.flow import Flow
from twin.production.lot_stats import ExactSum

OUTPUTS = ("hourly.parquet", "intervals.parquet", "kpis.json", "equipment.csv", "lots.parquet",
           "trace.parquet")


def _digests(result: twin.Result, folder) -> dict[str, str]:
    result.save(folder)
    return {f: hashlib.sha256((folder / f).read_bytes()).hexdigest() for f in OUTPUTS}


def test_spilled_run_writes_the_same_files_as_one_in_memory(tmp_path, monkeypatch):
    """Two products with due dates (some late), lots spilled every 37 lots and written in row
    groups of 50: every output file is byte for byte the one written with all lots in memory."""
    plant = make_plant(
        [station("a", expo(40)), station("b", expo(45), buffer_capacity=4)],
        products=[{"id": "p", "route": ["a", "b"], "due_h": 0.4},
                  {"id": "q", "route": ["a", "b"], "due_h": 2}],
        sources=[{"id": "arrivals", "kind": "arrivals", "interarrival": expo(50),
                  "product_mix": {"p": 2, "q": 1}}])
    monkeypatch.setattr(lot_spill, "ROW_GROUP", 50)
    in_memory = twin.simulate(plant, days=1, seed=3)
    assert isinstance(in_memory.lots, type(in_memory.hourly))  # a DataFrame: nothing spilled
    monkeypatch.setattr(lot_spill, "LOT_CHUNK", 37)
    spilled = twin.simulate(plant, days=1, seed=3)
    assert isinstance(spilled.lots, lot_spill.SpilledLots)
    n = in_memory.kpis["lots_completed"]
    assert n > 37 * 20 and len(spilled.lots) == n
    assert 0 < in_memory.kpis["due_dates"]["late_lots"] < n  # the due-date figures are exercised
    a = _digests(in_memory, tmp_path / "memory")
    b = _digests(spilled, tmp_path / "spilled")
    assert a == b
    assert spilled.lots.frame().equals(in_memory.lots)


def test_flow_holds_at_most_one_chunk_of_finished_lots():
    """25 lots finished by hand with a chunk of 10: never more than 10 in memory, two chunks on
    disk, and all 25 read back in the order they finished with the values they left with."""
    env = simpy.Environment()
    flow = Flow(env, ["x", "y"], [1, 1], 3600.0, lot_chunk=10)
    held = []
    for k in range(25):
        lot = [k % 2, 0, 0.0, 0.5 * k, math.inf, -1, 0.0, 0, 0.0]
        flow.enter(lot)
        env.run(until=10.0 * (k + 1))
        flow.complete(lot)
        held.append(len(flow.done_serial))
    assert max(held) <= 10
    assert flow.spill is not None and flow.spill.chunks == 2 and len(flow.done_serial) == 5
    c = flow.completions()
    assert c["lot"].tolist() == list(range(25))
    assert c["completed_s"].tolist() == [10.0 * (k + 1) for k in range(25)]
    assert c["held_s"].tolist() == [0.5 * k for k in range(25)]
    assert c["product"].tolist() == [k % 2 for k in range(25)]
    assert [len(ch["lot"]) for ch in flow.completion_chunks()] == [10, 10, 5]


def test_exact_sum_is_correctly_rounded_whatever_the_chunks():
    """math.fsum (correctly rounded) is the reference; a naive sum loses the 1.0 entirely."""
    s = ExactSum()
    s.add(np.array([1e16, 1.0]))
    s.add(np.array([-1e16]))
    assert s.value() == 1.0 and (1e16 + 1.0) - 1e16 != 1.0
    rng = random.Random(7)
    values = [rng.uniform(-1, 1) * 10 ** rng.randint(-300, 300) for _ in range(3000)]
    values += [5e-324, -2.5e-310, 0.0]
    for cut in (1, 17, 1000):
        s = ExactSum()
        for k in range(0, len(values), cut):
            s.add(np.array(values[k : k + cut]))
        assert s.value() == math.fsum(values)
    s = ExactSum()
    s.add(np.full(10, 0.1))
    assert s.n == 10 and s.mean() == 0.1  # fsum(10 x 0.1) = 1.0 exactly; 1.0 / 10 = 0.1
    assert math.isnan(ExactSum().mean())


def test_spilled_lots_behave_as_the_table():
    """Code written for the lots DataFrame works on a spilled one (read on first use)."""
    plant = make_plant([station("a", const(30))], interarrival=const(60))
    lot_spill_chunk = 5
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(lot_spill, "LOT_CHUNK", lot_spill_chunk)
        r = twin.simulate(plant, days=0.25, seed=1)
    assert isinstance(r.lots, lot_spill.SpilledLots)
    # a lot every 60 s from 60 s on, each done 30 s later: those released at 60 s ... 21,540 s
    # finish within the 6 h (the one released at 21,600 s does not): 359 lots
    assert len(r.lots) == 359 == len(r.lots["lead_time_h"])
    assert np.allclose(r.lots["lead_time_h"].to_numpy(), 30 / 3600)
    assert r.lots.shape == (359, 9)
