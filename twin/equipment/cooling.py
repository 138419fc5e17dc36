"""Warm-up that depends on how long a machine was in a saving mode (it cooled meanwhile).

A furnace that cooled for 20 minutes reheats in minutes, after a weekend in an hour. A saving
mode (:class:`twin.config.plant.SavingMode`) with ``cooling`` gives its warm-up time as a
function of the time spent in the mode; the warm-up runs at the type's ``warm_up`` power, so its
energy scales with its time. Two models:

* **First-order cooling** (Newton's law of cooling, a lumped thermal capacity): after ``t`` in
  the mode the temperature is ``T_amb + (T_op - T_amb) exp(-t/tau)``; heating back at constant
  power takes a time proportional to the temperature to recover, the share
  ``1 - exp(-t/tau)`` of the full (cold-start) warm-up :func:`first_order_share`. (Heating
  against losses that grow with temperature takes somewhat longer from a warm start than this
  proportional rule says; a measured table captures that.)
* **A table** of warm-up time against time in the mode, interpolated linearly, from (0 h, 0 s)
  before its first point and constant after its last (:func:`table_warm_up_s`).

Without ``cooling`` the warm-up is the fixed ``warm_up_s`` (the default, unchanged).

Every place a saving mode is left uses :class:`WarmUp`: the off-shift break of
:class:`twin.equipment.machine.Machine` (with ``warm_up_before_shift``, the warm-up starts so as
to end at the shift start: :meth:`WarmUp.off_for_ready` solves ``t + w(t) = gap``), and the
saving-mode controller of smart standby and of switch-on thresholds
(:mod:`twin.strategies.smart_standby`: a lot that finds the machine asleep waits ``w(t)``; a
machine woken ahead of a lot starts warming up so as to be ready as it comes). The time in the
mode counts from the moment the machine entered it in that break or sleep (a sleep that runs into
an off-shift break counts again from the break's start; planned maintenance within a break starts
the count again after it). Break-even times (smart standby) use the full warm-up: a cold start.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from twin.config.plant import SavingMode


def first_order_share(off_s: float, tau_s: float) -> float:
    """Share of the full warm-up needed after ``off_s`` seconds of cooling [-].

    First-order cooling to ambient with time constant ``tau_s`` [s]: the temperature rise left
    is ``exp(-off_s/tau_s)`` of the operating one, so the share to recover is
    ``1 - exp(-off_s/tau_s)`` (Incropera et al., *Fundamentals of Heat and Mass Transfer*, 7th
    ed., sec. 5.2, lumped capacitance)."""
    return -math.expm1(-max(off_s, 0.0) / tau_s)


def table_warm_up_s(off_s: float, off_pts_s: np.ndarray, warm_pts_s: np.ndarray) -> float:
    """Warm-up time [s] after ``off_s`` seconds off, from a table of (time off [s], warm-up [s])
    points, interpolated linearly; (0, 0) before the first point, constant after the last."""
    if off_pts_s[0] > 0:
        off_pts_s = np.concatenate(([0.0], off_pts_s))
        warm_pts_s = np.concatenate(([0.0], warm_pts_s))
    return float(np.interp(max(off_s, 0.0), off_pts_s, warm_pts_s))


class WarmUp:
    """Warm-up time of one saving mode against the time spent in it."""

    __slots__ = ("full_s", "off_pts", "tau_s", "warm_pts")

    def __init__(self, mode: SavingMode):
        cool = mode.cooling
        assert cool is not None
        self.full_s = float(mode.warm_up_s)
        self.tau_s = cool.time_constant_h * 3600.0 if cool.time_constant_h is not None else 0.0
        pts = cool.table or []
        self.off_pts = np.array([p.off_h * 3600.0 for p in pts])
        self.warm_pts = np.array([p.warm_up_s for p in pts])

    def __call__(self, off_s: float) -> float:
        """Warm-up time [s] after ``off_s`` seconds in the mode."""
        if self.tau_s > 0:
            return self.full_s * first_order_share(off_s, self.tau_s)
        return table_warm_up_s(off_s, self.off_pts, self.warm_pts)

    def off_for_ready(self, gap_s: float) -> float:
        """Time in the mode [s] that leaves just the warm-up it needs before the end of a gap of
        ``gap_s`` seconds: the ``t`` with ``t + w(t) = gap_s`` (unique: the left side grows
        strictly with ``t``); 0 when even a machine not cooled at all could not be ready."""
        if gap_s == math.inf:
            return gap_s
        if gap_s <= 0 or self(0.0) >= gap_s:
            return 0.0
        lo, hi = 0.0, gap_s  # f(lo) < 0 <= f(hi), f(t) = t + w(t) - gap: bisect to the last bit
        for _ in range(200):
            mid = 0.5 * (lo + hi)
            if mid <= lo or mid >= hi:
                break
            if mid + self(mid) < gap_s:
                lo = mid
            else:
                hi = mid
        return lo


def warm_up_model(mode: SavingMode) -> WarmUp | None:
    """The mode's warm-up by time off, or None when it is the fixed ``warm_up_s``."""
    return WarmUp(mode) if mode.cooling is not None else None
