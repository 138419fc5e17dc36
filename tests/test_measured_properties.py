"""Properties of twin.measured that hold for any readings (hypothesis).

Aggregation conserves energy (each settlement interval is the plain sum of its finer readings),
row order does not matter (only the out-of-order count changes), and a cumulative register with
rollovers gives back the energy that was added to it.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from twin.measured import MeterSpec, load_meters

SH = "Asia/Shanghai"
OFF = {"spike_z": None, "flatline_h": None}


def _csv(path: Path, times: pd.DatetimeIndex, values) -> None:
    body = "\n".join(f"{t:%Y-%m-%d %H:%M},{v!r}" for t, v in zip(times, values, strict=True))
    path.write_text("timestamp,m\n" + body + "\n")


def _load(folder: Path, **kw):
    spec = MeterSpec.model_validate({"file": "m.csv", "columns": {"m": {"group": "g"}},
                                     "quality": OFF, **kw})
    return load_meters(spec, folder, SH, 900)


energy = st.floats(min_value=0, max_value=1e4, allow_nan=False, allow_infinity=False)


@settings(max_examples=40, deadline=None)
@given(step=st.sampled_from([1, 3, 5]), n_int=st.integers(1, 6), data=st.data())
def test_aggregation_conserves_energy(step, n_int, data):
    per = 15 // step
    values = data.draw(st.lists(energy, min_size=per * n_int, max_size=per * n_int))
    times = pd.date_range("2026-03-02 08:00", periods=len(values), freq=f"{step}min")
    with tempfile.TemporaryDirectory() as d:
        _csv(Path(d) / "m.csv", times, values)
        got = _load(Path(d)).energy["m"].to_numpy()
    blocks = [sum(values[k * per:(k + 1) * per]) for k in range(n_int)]
    np.testing.assert_allclose(got, blocks, rtol=1e-12, atol=1e-9)
    assert abs(got.sum() - sum(values)) <= 1e-9 * max(1.0, sum(values))


@settings(max_examples=40, deadline=None)
@given(values=st.lists(energy, min_size=2, max_size=40), data=st.data())
def test_shuffled_rows_give_the_same_frame(values, data):
    order = data.draw(st.permutations(range(len(values))))
    times = pd.date_range("2026-03-02 00:00", periods=len(values), freq="15min")
    with tempfile.TemporaryDirectory() as d:
        _csv(Path(d) / "m.csv", times, values)
        sorted_ = _load(Path(d))
        _csv(Path(d) / "m.csv", times[list(order)], [values[i] for i in order])
        shuffled = _load(Path(d))
    pd.testing.assert_frame_equal(sorted_.energy, shuffled.energy)
    # a row is out of order when some row above it is later
    late = sum(any(order[j] > order[i] for j in range(i)) for i in range(len(order)))
    assert shuffled.quality["m"]["out_of_order"] == late
    assert sorted_.quality["m"]["out_of_order"] == 0
    assert shuffled.excluded.empty


@settings(max_examples=40, deadline=None)
@given(start=st.floats(0, 99_999), steps=st.lists(st.floats(0, 9_000), min_size=2, max_size=40))
def test_register_with_rollovers_gives_back_the_added_energy(start, steps):
    # a 5-digit register (max 100000) counting up by at most 9 % of its range per reading
    top = 100_000.0
    reading = [start]
    for e in steps:
        reading.append((reading[-1] + e) % top)
    times = pd.date_range("2026-03-02 00:00", periods=len(reading), freq="15min")
    with tempfile.TemporaryDirectory() as d:
        _csv(Path(d) / "m.csv", times, reading)
        data = _load(Path(d), unit="kWh_register", register_max=top)
    np.testing.assert_allclose(data.energy["m"].to_numpy(), steps, rtol=0, atol=1e-6)
    assert data.quality["m"]["register_reset"] == 0
