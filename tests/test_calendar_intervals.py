"""Working time per settlement interval (``ShiftCalendar.working_seconds_by_interval``), by hand
and against the window-by-window sum of ``working_seconds``."""

from __future__ import annotations

import numpy as np

from twin.calendar import ShiftCalendar

H = 3600.0
Q = 900.0  # 15-min intervals


def test_two_shifts_by_hand():
    cal = ShiftCalendar([6 * H, 30 * H], [22 * H, 46 * H])  # 06-22 h on two days
    on = cal.working_seconds_by_interval(192, Q, 48 * H)
    assert on[23] == 0.0 and on[24] == Q            # [05:45, 06:00) off, [06:00, 06:15) on
    assert on[87] == Q and on[88] == 0.0            # [21:45, 22:00) on, [22:00, 22:15) off
    assert on.sum() == 32 * H                       # 16 h a day
    assert np.all(on[120:] == np.r_[np.full(64, Q), np.zeros(8)])  # 06-22 h, then off to 24 h


def test_a_window_started_before_the_run_and_a_cut_last_interval():
    # working from -1 h to 00:20 and from 00:50 on; the run ends at 01:10 (last interval 10 min)
    cal = ShiftCalendar([-H, 50 * 60.0], [20 * 60.0, 10 * H])
    on = cal.working_seconds_by_interval(5, Q, 70 * 60.0)
    # [0,15) 900; [15,30) 300; [30,45) 0; [45,60) 600; [60,70) 600
    assert on.tolist() == [900.0, 300.0, 0.0, 600.0, 600.0]


def test_equals_the_sum_of_working_seconds_per_interval():
    rng = np.random.default_rng(7)
    cuts = np.sort(rng.uniform(0, 7 * 24 * H, 40))
    cal = ShiftCalendar(list(cuts[0::2]), list(cuts[1::2]))
    n, horizon = 7 * 96 - 3, (7 * 96 - 3.5) * Q
    on = cal.working_seconds_by_interval(n, Q, horizon)
    ref = [cal.working_seconds(k * Q, min((k + 1) * Q, horizon)) for k in range(n)]
    assert np.allclose(on, ref, rtol=0, atol=1e-6)


def test_always_working_gives_the_interval_lengths():
    cal = ShiftCalendar([0.0], [np.inf], always=True)
    assert cal.working_seconds_by_interval(3, Q, 2.5 * Q).tolist() == [Q, Q, Q / 2]
