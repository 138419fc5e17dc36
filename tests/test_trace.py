"""The one-day power-state timeline (trace.parquet): complete, and consistent with the energy."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from conftest import const, day_shift_calendar, make_plant, station

import twin
from twin.equipment.states import STATES, power_table


def test_trace_covers_the_day_and_integrates_to_the_hourly_energy(tmp_path):
    # A two-station line with shifts, standby and warm-up; trace day = a Wednesday.
    kind = {"id": "machine", "power_kw": {"electricity": {"standby": 1, "warm_up": 7, "idle": 3,
                                                          "processing": 11}},
            "saving_modes": {"standby": {"warm_up_s": 900, "min_stay_s": 0}},
            "off_shift_mode": "standby"}
    plant = make_plant([station("a", const(250)), station("b", const(200))],
                       equipment_types=[kind], interarrival=const(300),
                       calendar=day_shift_calendar(("06:00", "14:00"), ("14:00", "22:00")),
                       simulation={"trace_day": "2026-01-07"})
    res = twin.simulate(plant, days=10, start="2026-01-05")
    trace = res.trace
    day0 = pd.Timestamp("2026-01-07", tz="Asia/Shanghai")
    assert trace["start"].min() == day0 and trace["end"].max() == day0 + pd.Timedelta(days=1)
    hours = (trace["end"] - trace["start"]).dt.total_seconds() / 3600
    assert hours.groupby(trace["equipment"]).sum().tolist() == pytest.approx([24.0, 24.0])
    assert set(trace["state"]) <= set(STATES)
    assert {"standby", "warm_up", "processing"} <= set(trace["state"])
    # energy of the day from the timeline = the metered hourly energy of that day
    table = power_table(plant.equipment_types[0])
    kw = trace["state"].map(lambda s: table[STATES.index(s), 0])
    from_trace = float((kw * hours).sum())
    idx = res.hourly.index
    day = res.hourly.loc[(idx >= day0) & (idx < day0 + pd.Timedelta(days=1))]
    assert from_trace == pytest.approx(day["electricity_demand_kwh"].sum(), rel=1e-9)
    # and it survives the run folder
    back = twin.Result.load(res.save(tmp_path / "run"))
    pd.testing.assert_frame_equal(back.trace, trace)


def test_default_trace_day_is_a_working_day_a_week_in():
    plant = make_plant([station("a", const(100))], interarrival=const(300),
                       calendar=day_shift_calendar(("08:00", "16:00")))
    trace = twin.simulate(plant, days=14, start="2026-01-03").trace  # a Saturday
    # a week after Sat 3 Jan is Sat 10 Jan (no shift): the next working window opens Mon 12 Jan
    assert trace["start"].min().date() == dt.date(2026, 1, 12)
    short = twin.simulate(plant, days=2, start="2026-01-05").trace
    assert short["start"].min().date() == dt.date(2026, 1, 5)
    assert np.isclose(((short["end"] - short["start"]).dt.total_seconds()).sum(), 86400)
