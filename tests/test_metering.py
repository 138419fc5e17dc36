"""The meter against brute force: piecewise-constant power integrated over bins by hand.

The reference splits every segment at every bin boundary in plain Python (overlap of
``[start, end)`` with ``[k * bin, (k + 1) * bin)``), one bin at a time; no numpy tricks, no
shared code with :mod:`twin.metering`. Hypothesis draws segments and state-change records,
including segments that start or end exactly on a boundary, cross hundreds of bins, or have zero
length, and meters that flush after every one or two records.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from twin.equipment.states import N_CARRIERS, N_STATES
from twin.metering import Meter, bin_segments

SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


# --- reference ----------------------------------------------------------------------------------

def reference_bins(segments, n_bins, n_cols, bin_s):
    """segments: (start, end, column, rate). Exact overlap per bin, in plain Python."""
    out = [[0.0] * n_cols for _ in range(n_bins)]
    for s, e, c, r in segments:
        for k in range(n_bins):
            lo, hi = max(s, k * bin_s), min(e, (k + 1) * bin_s)
            if hi > lo:
                out[k][c] += r * (hi - lo)
    return np.array(out)


def reference_meter(records, power, group, n_groups, interval_s, horizon_s):
    """Energy per interval and column, per equipment, and time per state, from the records.

    Each equipment holds the state of its latest record until its next record or the horizon;
    before its first record it draws nothing."""
    n_eq = power.shape[0]
    n_int = math.ceil(horizon_s / interval_s - 1e-9)
    per_eq: dict[int, list[tuple[float, int]]] = {}
    for t, code in records:
        per_eq.setdefault(code // N_STATES, []).append((t, code % N_STATES))
    segments = []  # (start, end, equipment, state)
    for eq, recs in per_eq.items():
        for k, (t, state) in enumerate(recs):
            end = recs[k + 1][0] if k + 1 < len(recs) else horizon_s
            segments.append((t, end, eq, state))
    state_s = np.zeros((n_eq, N_STATES))
    eq_kwh = np.zeros((n_eq, N_CARRIERS))
    binned = []
    for s, e, eq, state in segments:
        state_s[eq, state] += e - s
        for c in range(N_CARRIERS):
            p = power[eq, state, c]
            eq_kwh[eq, c] += p * (e - s) / 3600.0
            binned.append((s, e, group[eq] * N_CARRIERS + c, p / 3600.0))
    return reference_bins(binned, n_int, n_groups * N_CARRIERS, interval_s), eq_kwh, state_s


# --- strategies ---------------------------------------------------------------------------------

BIN_WIDTHS = st.sampled_from([1.0, 0.1, 7.3, 900.0, 3600.0])


@st.composite
def segment_sets(draw, max_bins=40):
    bin_s = draw(BIN_WIDTHS)
    n_bins = draw(st.integers(1, max_bins))
    n_cols = draw(st.integers(1, 4))
    horizon = n_bins * bin_s
    # a time: anywhere, or exactly on a bin boundary (0 and the horizon included)
    time = st.one_of(
        st.floats(0.0, horizon, allow_nan=False),
        st.integers(0, n_bins).map(lambda k: k * bin_s),
    ).map(lambda t: min(t, horizon))
    pair = st.tuples(time, time).map(sorted)
    segs = draw(st.lists(
        st.tuples(pair, st.integers(0, n_cols - 1),
                  st.floats(0.0, 500.0, allow_nan=False, allow_subnormal=False)),
        min_size=0, max_size=25))
    segments = [(s, e, c, r) for (s, e), c, r in segs]
    return segments, n_bins, n_cols, bin_s


def _arrays(segments):
    if not segments:
        return np.zeros(0), np.zeros(0), np.zeros(0, dtype=np.int64), np.zeros(0)
    s, e, c, r = zip(*segments, strict=True)
    return np.array(s), np.array(e), np.array(c, dtype=np.int64), np.array(r)


def _total(segments):
    return math.fsum(r * (e - s) for s, e, _, r in segments)


# --- bin_segments -------------------------------------------------------------------------------

@SETTINGS
@given(segment_sets())
def test_bin_segments_equals_brute_force(case):
    segments, n_bins, n_cols, bin_s = case
    s, e, c, r = _arrays(segments)
    got = bin_segments(s, e, c, n_bins, n_cols, bin_s, rate=r)
    want = reference_bins(segments, n_bins, n_cols, bin_s)
    scale = 1.0 + _total(segments)
    assert got.shape == (n_bins, n_cols)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-9 * scale)
    # the total is the integral, to 1e-9 relative
    assert math.fsum(got.ravel()) == pytest.approx(_total(segments), rel=1e-9, abs=1e-12)


@SETTINGS
@given(segment_sets())
def test_bin_segments_without_rate_is_overlap_seconds(case):
    segments, n_bins, n_cols, bin_s = case
    s, e, c, _ = _arrays(segments)
    got = bin_segments(s, e, c, n_bins, n_cols, bin_s)
    want = reference_bins([(a, b, col, 1.0) for a, b, col, _ in segments], n_bins, n_cols, bin_s)
    scale = 1.0 + n_bins * bin_s * len(segments)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-9 * scale)


@SETTINGS
@given(bin_s=BIN_WIDTHS, n_bins=st.integers(50, 600), head=st.floats(0, 1), tail=st.floats(0, 1),
       rate=st.floats(1e-3, 1e3))
def test_segment_across_many_bins(bin_s, n_bins, head, tail, rate):
    """One segment from inside the first bin to inside the last: the first and last bins get the
    partial overlaps, every bin between exactly rate * bin_s."""
    start = head * bin_s * 0.999
    end = (n_bins - 1) * bin_s + tail * bin_s
    got = bin_segments(np.array([start]), np.array([end]), np.array([0]), n_bins, 1, bin_s,
                       rate=np.array([rate]))[:, 0]
    assert got[0] == pytest.approx(rate * (bin_s - start), rel=1e-9, abs=1e-9 * rate * bin_s)
    assert got[-1] == pytest.approx(rate * (end - (n_bins - 1) * bin_s), rel=1e-9,
                                    abs=1e-9 * rate * bin_s)
    np.testing.assert_allclose(got[1:-1], rate * bin_s, rtol=1e-9)
    assert math.fsum(got) == pytest.approx(rate * (end - start), rel=1e-9)


@SETTINGS
@given(bin_s=BIN_WIDTHS, n_bins=st.integers(1, 60), data=st.data())
def test_segments_on_bin_boundaries_do_not_spill(bin_s, n_bins, data):
    """A segment from boundary i to boundary j fills bins i..j-1 with exactly rate * bin_s and
    leaves every other bin at exactly zero (nothing leaks into the bin after its end)."""
    i = data.draw(st.integers(0, n_bins))
    j = data.draw(st.integers(i, n_bins))
    got = bin_segments(np.array([i * bin_s]), np.array([j * bin_s]), np.array([0]), n_bins, 1,
                       bin_s, rate=np.array([2.5]))[:, 0]
    inside = np.zeros(n_bins, dtype=bool)
    inside[i:j] = True
    np.testing.assert_allclose(got[inside], 2.5 * bin_s, rtol=1e-9)
    assert (got[~inside] == 0.0).all()


def test_bin_segments_by_hand():
    """Three segments in 15-minute bins, worked out by hand.

    [0, 900) at 4 kW (rate 4/3600 kWh per s): bin 0 gets 900 s * 4 kW = 1 kWh.
    [450, 2250) at 2 kW: bin 0 gets 450 s (0.25 kWh), bin 1 900 s (0.5), bin 2 450 s (0.25).
    [2700, 3600) at 8 kW, column 1: bin 3 gets 900 s = 2 kWh, nothing spills into bin 4."""
    s = np.array([0.0, 450.0, 2700.0])
    e = np.array([900.0, 2250.0, 3600.0])
    col = np.array([0, 0, 1])
    kw = np.array([4.0, 2.0, 8.0])
    got = bin_segments(s, e, col, 5, 2, 900.0, rate=kw / 3600.0)
    want = np.array([[1.25, 0], [0.5, 0], [0.25, 0], [0, 2.0], [0, 0]])
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)


# --- Meter --------------------------------------------------------------------------------------

@st.composite
def meter_cases(draw):
    n_eq = draw(st.integers(1, 5))
    n_groups = draw(st.integers(1, 3))
    group = np.array(draw(st.lists(st.integers(0, n_groups - 1), min_size=n_eq, max_size=n_eq)))
    interval_s = draw(st.sampled_from([300.0, 900.0, 3600.0]))
    n_int = draw(st.integers(1, 12))
    horizon = n_int * interval_s
    watts = st.one_of(st.just(0.0), st.floats(0.0, 200.0, allow_subnormal=False))
    power = np.array(draw(st.lists(watts, min_size=n_eq * N_STATES * N_CARRIERS,
                                   max_size=n_eq * N_STATES * N_CARRIERS))).reshape(
        n_eq, N_STATES, N_CARRIERS)
    time = st.one_of(st.floats(0.0, horizon, allow_nan=False),
                     st.integers(0, n_int).map(lambda k: k * interval_s))
    times = sorted(draw(st.lists(time, min_size=0, max_size=40)))
    codes = draw(st.lists(st.integers(0, n_eq * N_STATES - 1), min_size=len(times),
                          max_size=len(times)))
    records = list(zip(times, codes, strict=True))
    return power, group, n_groups, interval_s, horizon, records


def _run_meter(case, chunk):
    power, group, n_groups, interval_s, horizon, records = case
    meter = Meter(power, group, n_groups, interval_s, horizon, chunk=chunk)
    for t, code in records:
        meter.record(t, code)
    meter.close()
    return meter


@SETTINGS
@given(meter_cases(), st.integers(1, 4))
def test_meter_equals_brute_force(case, chunk):
    power, group, n_groups, interval_s, horizon, records = case
    want_int, want_eq, want_state = reference_meter(records, power, group, n_groups, interval_s,
                                                    horizon)
    total = float(want_eq.sum())
    for c in (chunk, 1 << 12):  # tiny chunks flush after every few records; a big one never
        meter = _run_meter(case, c)
        assert meter.records == len(records)
        np.testing.assert_allclose(meter.interval_kwh, want_int, rtol=0, atol=1e-9 * (1 + total))
        np.testing.assert_allclose(meter.equipment_kwh, want_eq, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(meter.state_s, want_state, rtol=0, atol=1e-9 * horizon)
        # the binned energy is the integral of power, to 1e-9 relative
        assert math.fsum(meter.interval_kwh.ravel()) == pytest.approx(total, rel=1e-9, abs=1e-12)


@SETTINGS
@given(meter_cases(), st.integers(1, 3))
def test_chunked_flushing_equals_one_flush(case, chunk):
    one = _run_meter(case, 1 << 12)
    many = _run_meter(case, chunk)
    scale = 1 + float(one.equipment_kwh.sum())
    np.testing.assert_allclose(many.interval_kwh, one.interval_kwh, rtol=0, atol=1e-9 * scale)
    np.testing.assert_allclose(many.equipment_kwh, one.equipment_kwh, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(many.state_s, one.state_s, rtol=0, atol=1e-9 * case[4])


@SETTINGS
@given(meter_cases())
def test_every_recorded_equipment_is_in_some_state_until_the_horizon(case):
    """Time in states of an equipment = horizon - its first record; zero if never recorded."""
    power, _, _, _, horizon, records = case
    meter = _run_meter(case, 2)
    first = {}
    for t, code in records:
        first.setdefault(code // N_STATES, t)
    for eq in range(power.shape[0]):
        want = horizon - first[eq] if eq in first else 0.0
        assert meter.state_s[eq].sum() == pytest.approx(want, abs=1e-9 * horizon)


def test_meter_by_hand():
    """Two machines in two groups, 15-minute intervals, one hour, chunk of 2 records.

    machine 0 (group 0): idle 3 kW from 0, processing 12 kW from 600 s to 2400 s, idle after.
      interval 0 [0, 900):    600 s idle + 300 s processing = (1800 + 3600) / 3600 = 1.5 kWh
      interval 1 [900,1800):  900 s processing               = 10800 / 3600        = 3.0 kWh
      interval 2 [1800,2700): 600 s processing + 300 s idle  = (7200 + 900) / 3600 = 2.25 kWh
      interval 3 [2700,3600): 900 s idle                     = 2700 / 3600         = 0.75 kWh
    machine 1 (group 1): 5 kW electricity and 20 kW gas (carrier 1) in standby from 1800 s.
      intervals 2 and 3: 900 s * 5 kW = 1.25 kWh electricity, 900 s * 20 kW = 5 kWh gas each.
    """
    from twin.equipment.states import IDLE, PROCESSING, STANDBY

    power = np.zeros((2, N_STATES, N_CARRIERS))
    power[0, IDLE, 0], power[0, PROCESSING, 0] = 3.0, 12.0
    power[1, STANDBY, 0], power[1, STANDBY, 1] = 5.0, 20.0
    meter = Meter(power, np.array([0, 1]), 2, 900.0, 3600.0, chunk=2)
    meter.record(0.0, 0 * N_STATES + IDLE)
    meter.record(600.0, 0 * N_STATES + PROCESSING)
    meter.record(1800.0, 1 * N_STATES + STANDBY)
    meter.record(2400.0, 0 * N_STATES + IDLE)
    meter.close()
    elec0 = meter.interval_kwh[:, 0 * N_CARRIERS + 0]
    elec1 = meter.interval_kwh[:, 1 * N_CARRIERS + 0]
    gas1 = meter.interval_kwh[:, 1 * N_CARRIERS + 1]
    np.testing.assert_allclose(elec0, [1.5, 3.0, 2.25, 0.75], rtol=1e-12)
    np.testing.assert_allclose(elec1, [0, 0, 1.25, 1.25], rtol=1e-12)
    np.testing.assert_allclose(gas1, [0, 0, 5.0, 5.0], rtol=1e-12)
    np.testing.assert_allclose(meter.equipment_kwh[:, :2], [[7.5, 0], [2.5, 10.0]], rtol=1e-12)
    assert meter.state_s[0, IDLE] == 1800.0 and meter.state_s[0, PROCESSING] == 1800.0
    assert meter.state_s[1, STANDBY] == 1800.0


def test_times_a_rounding_error_past_the_last_bin_count_in_the_last_bin():
    """11 bins of 300 s end at 3300 s, but a run of 11/288 days ends at 3300.0000000000005 s.
    The sliver belongs to the last bin (it used to index a bin that does not exist and crash)."""
    end = 11 / 288 * 86400
    assert end > 3300.0
    got = bin_segments(np.array([0.0, 3000.0, end]), np.array([end, end, end]),
                       np.array([0, 1, 0]), 11, 2, 300.0, rate=np.array([1.0, 2.0, 5.0]))
    np.testing.assert_allclose(got[:, 0], 300.0, rtol=1e-12)
    np.testing.assert_allclose(got[:10, 1], 0.0)
    assert got[10, 1] == pytest.approx(600.0, rel=1e-12)
    assert math.fsum(got.ravel()) == pytest.approx(end + 2 * (end - 3000.0), rel=1e-15)


def test_simulation_with_a_tiny_meter_chunk_gives_the_same_energy(monkeypatch):
    """End to end: a run whose meter flushes every 7 records bins the same energy (per interval,
    group and equipment) as one whose meter flushes once."""
    import functools

    import twin
    from twin import engine

    plant = twin.load_plant(Path(__file__).parents[1] / "plant_configs" / "benchmark_line.yaml")
    one = twin.simulate(plant, days=2, seed=3)
    monkeypatch.setattr(engine, "Meter", functools.partial(Meter, chunk=7))
    many = twin.simulate(plant, days=2, seed=3)
    assert many.manifest["state_changes"] == one.manifest["state_changes"] > 10_000
    a, b = one.intervals.to_numpy(), many.intervals.to_numpy()
    np.testing.assert_allclose(b, a, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(many.equipment["electricity_kwh"], one.equipment["electricity_kwh"],
                               rtol=1e-9)
    state_cols = [c for c in one.equipment.columns if c.endswith("_h")]
    np.testing.assert_allclose(many.equipment[state_cols], one.equipment[state_cols], rtol=1e-9,
                               atol=1e-9)


# ---------------------------------------------------------------- found by mutation testing
# (tests/MUTATION.md): each case fails for a planted one-line bug the tests above let pass.


def test_trace_window_snapshot_and_close_at_a_given_time():
    # one machine, 10 kW in state 1 and 0 kW in state 0; window [900, 1800) s
    power = np.zeros((1, N_STATES, N_CARRIERS))
    power[0, 1, 0] = 10.0
    meter = Meter(power, np.array([0]), 1, 900.0, 3600.0)
    meter.trace_window = (900.0, 1800.0)
    meter.snapshot(0.0, [0])  # state 0 is a state too
    for t, state in ((600.0, 1), (900.0, 0), (1200.0, 1), (1800.0, 0)):
        meter.record(t, state)  # equipment 0: code = state
    meter.close(2700.0)  # the run ended at 2700 s, before the 3600 s horizon
    assert meter.trace == [(0.0, 0, 0), (900.0, 0, 0), (1200.0, 0, 1)]
    # 10 kW from 600 to 900 s and 1200 to 1800 s: 0.8333 and 1.6667 kWh; nothing after 2700 s
    np.testing.assert_allclose(meter.interval_kwh[:, 0],
                               [10 * 300 / 3600, 10 * 600 / 3600, 0, 0], rtol=1e-12)
    # time from the first record (600 s) to the end (2700 s): state 0 900-1200 and 1800-2700,
    # state 1 600-900 and 1200-1800
    assert meter.state_s[0, :2].tolist() == [1200.0, 900.0] and meter.closed
    meter.close()  # a second close does nothing
    assert meter.state_s[0, :2].tolist() == [1200.0, 900.0]


def test_programme_pieces_by_hand():
    # Two machines, 15-minute intervals, one hour. Machine 0 (group 0) draws 5 kW of electricity
    # idle and runs a programme while processing (its table's processing power is not metered:
    # meter_by_phases): phase A 30 kW of electricity over [600, 1500) s, phase B 80 kW of
    # electricity and 20 kW of heat over [1500, 2000) s; it processes from 600 to 2000 s and is
    # idle before and after. Machine 1 (group 1) draws 10 kW of heat while processing, from 1000
    # to 1300 s. The meter is flushed at 1200 s, inside phase A (whose rest, [1200, 1500), waits
    # for the next flush), and at 1500 s, where phase A ends exactly (nothing of it is kept).
    #   group 0 electricity: k0 idle 5 x 600 + A 30 x 300 = 3000 + 9000 kJ -> 3.3333 kWh;
    #     k1 A 30 x 600 + B 80 x 300 = 42000 kJ -> 11.6667; k2 B 80 x 200 + idle 5 x 700 = 19500
    #     kJ -> 5.4167; k3 idle 5 x 900 -> 1.25 kWh.
    #   group 0 heat: B 20 x 300 in k1 -> 1.6667, 20 x 200 in k2 -> 1.1111 kWh.
    #   group 1 heat: 10 x 300 in k1 -> 0.8333 kWh.
    from twin.equipment.states import IDLE, PROCESSING

    power = np.zeros((2, N_STATES, N_CARRIERS))
    power[0, IDLE, 0], power[0, PROCESSING, 0] = 5.0, 50.0  # 50 kW: never metered
    power[1, PROCESSING, 2] = 10.0
    meter = Meter(power, np.array([0, 1]), 2, 900.0, 3600.0)
    meter.grow = True
    meter.meter_by_phases(0)
    assert meter.power[0, PROCESSING, 0] == 50.0  # the table itself is kept
    assert not meter.uses_carrier(1) and not meter.uses_carrier(3)
    a = meter.phase_row([30.0, 0.0, 0.0, 0.0])
    b = meter.phase_row([80.0, 0.0, 20.0, 0.0])
    meter.phase_row([0.0, 0.0, 0.0, 0.5])  # a phase that draws 0.5 kW of cooling (not used)
    assert (a, b) == (0, 1) and meter.uses_carrier(3) and not meter.uses_carrier(1)
    assert meter.uses_carrier(0) and meter.uses_carrier(2)  # from the tables (and phases)
    gas = np.zeros((1, N_STATES, N_CARRIERS))
    gas[0, IDLE, 1] = 3.0  # a carrier drawn only in a table, with no phase at all
    assert Meter(gas, np.array([0]), 1, 900.0, 3600.0).uses_carrier(1)
    code = lambda eq, state: eq * N_STATES + state  # noqa: E731
    meter.record(0.0, code(0, IDLE))
    meter.record(0.0, code(1, IDLE))
    meter.record(600.0, code(0, PROCESSING))
    meter.add_piece(600.0, 1500.0, 0, a)
    meter.record(1000.0, code(1, PROCESSING))
    meter.flush_at(1200.0)
    meter.add_piece(1500.0, 2000.0, 0, b)
    meter.record(1300.0, code(1, IDLE))
    meter.flush_at(1500.0)
    meter.record(2000.0, code(0, IDLE))
    meter.close()
    kwh = meter.interval_kwh.reshape(4, 2, N_CARRIERS)
    np.testing.assert_allclose(kwh[:, 0, 0], [12000 / 3600, 42000 / 3600, 19500 / 3600, 1.25],
                               rtol=1e-12)
    np.testing.assert_allclose(kwh[:, 0, 2], [0, 6000 / 3600, 4000 / 3600, 0], rtol=1e-12,
                               atol=1e-12)
    np.testing.assert_allclose(kwh[:, 1, 2], [0, 3000 / 3600, 0, 0], rtol=1e-12, atol=1e-12)
    assert not kwh[:, :, 1].any() and not kwh[:, :, 3].any() and not kwh[:, 1, 0].any()
    np.testing.assert_allclose(meter.equipment_kwh[0], [(12000 + 42000 + 19500 + 4500) / 3600,
                                                        0, 10000 / 3600, 0], rtol=1e-12)
    np.testing.assert_allclose(meter.equipment_kwh[1], [0, 0, 3000 / 3600, 0], rtol=1e-12)
    assert meter.state_s[0, [IDLE, PROCESSING]].tolist() == [2200.0, 1400.0]
    assert meter.state_s[1, [IDLE, PROCESSING]].tolist() == [3300.0, 300.0]
    assert all(len(col) == 0 for col in meter._pieces)  # everything binned


def test_trace_columns_from_the_trace_or_given():
    power = np.zeros((2, N_STATES, N_CARRIERS))
    meter = Meter(power, np.array([0, 0]), 1, 900.0, 1800.0)
    t, eq, st = meter.trace_columns()  # nothing kept: empty columns of the right types
    assert (t.size, eq.size, st.size) == (0, 0, 0)
    assert (t.dtype, eq.dtype, st.dtype) == (np.float64, np.int64, np.int64)
    meter.trace_window = (0.0, 1800.0)
    meter.record(0.0, 1 * N_STATES + 2)
    meter.record(600.0, 0 * N_STATES + 1)
    meter.close()
    t, eq, st = meter.trace_columns()
    assert (t.tolist(), eq.tolist(), st.tolist()) == ([0.0, 600.0], [1, 0], [2, 1])
    meter.set_trace_columns(np.array([5.0]), np.array([1]), np.array([3]))  # a merged trace
    t, eq, st = meter.trace_columns()
    assert (t.tolist(), eq.tolist(), st.tolist()) == ([5.0], [1], [3])
    assert (t.dtype, eq.dtype, st.dtype) == (np.float64, np.int64, np.int64)


def test_time_per_interval_and_state_by_hand():
    # keep_state_time (calibration): one machine, 15-minute intervals, 45 minutes; idle from 0,
    # processing from 600 s to 1500 s, idle again until the horizon; flushed at 1200 s.
    #   k0 [0, 900): idle 600, processing 300 s; k1 [900, 1800): processing 600 (300 before
    #   the flush, 300 after), idle 300; k2 [1800, 2700): idle 900 s.
    from twin.equipment.states import IDLE, PROCESSING

    power = np.zeros((2, N_STATES, N_CARRIERS))
    meter = Meter(power, np.array([0, 0]), 1, 900.0, 2700.0)
    meter.keep_state_time()
    meter.grow = True
    meter.record(0.0, IDLE)
    meter.record(600.0, PROCESSING)
    meter.flush_at(1200.0)
    meter.record(1500.0, IDLE)
    meter.close()
    got = meter.state_interval_s.reshape(3, 2, N_STATES)
    assert got[:, 0, IDLE].tolist() == [600.0, 300.0, 900.0]
    assert got[:, 0, PROCESSING].tolist() == [300.0, 600.0, 0.0]
    assert not got[:, 1].any()  # the other machine never recorded a state
    assert got.sum() == 2700.0


def test_the_site_load_tells_its_listener_the_new_electric_power():
    """``SiteLoad.on_change`` gets the site's electric power after each change (strategies
    that wait for it to fall read it); the integral starts from 0 whatever the first time."""
    from twin.metering import SiteLoad

    site = SiteLoad()
    heard: list[float] = []
    site.on_change = heard.append
    zero = (0.0,) * N_CARRIERS
    site.change(300.0, zero, (10.0, 4.0) + (0.0,) * (N_CARRIERS - 2))
    site.change(600.0, zero, (5.0, 0.0) + (0.0,) * (N_CARRIERS - 2))
    site.change(900.0, (10.0, 4.0) + (0.0,) * (N_CARRIERS - 2), zero)
    assert heard == [10.0, 15.0, 5.0]
    # electricity 10 kW 300-600 s, 15 kW 600-900 s, 5 kW 900-1200 s; gas 4 kW 300-900 s
    assert site.energy_kwh(1200.0)[:2] == pytest.approx(
        [(10 * 300 + 15 * 300 + 5 * 300) / 3600, 4 * 600 / 3600], rel=1e-12)
