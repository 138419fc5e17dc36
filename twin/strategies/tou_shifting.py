"""TOU load shifting: flexible work starts only in cheap tariff periods.

A lot at a deferrable station (formation/aging, ovens, charging) starts only while the TOU period
is one of ``periods`` (default deep valley, valley and flat: never in peak or critical peak),
unless holding it longer would miss its due date or block upstream (see
:mod:`twin.strategies._gating`). A held machine wakes at the start of the next allowed period.
By default the lot's processing may run on into a peak period (the rule decides starts, as a
line planner releasing work does); with ``fit_in_period`` a lot starts only when its mean
processing time fits in the allowed stretch, so a long formation cycle waits for the next stretch
long enough (found by bisection over the precomputed stretches).
"""

from __future__ import annotations

import bisect
import math
from typing import TYPE_CHECKING, Literal

from pydantic import Field

from twin.config.errors import ConfigIssue
from twin.strategies import StrategyParams, register_strategy
from twin.strategies._gating import FlexibleParams, FlexibleStart, check_stations

if TYPE_CHECKING:
    from twin.config.plant import Plant
    from twin.engine import Model
    from twin.equipment.machine import Machine
    from twin.production.station import StationRuntime

TouPeriod = Literal["deep_valley", "valley", "flat", "peak", "critical"]


class TouParams(FlexibleParams):
    """Parameters of tou_shifting (and those every flexible-start strategy shares)."""

    periods: list[TouPeriod] = Field(
        default_factory=lambda: ["deep_valley", "valley", "flat"], min_length=1,
        description="TOU periods in which a flexible start is allowed.")
    fit_in_period: bool = Field(
        False, description="Start only when the lot's mean processing time fits before the "
        "allowed periods end (the run does not reach into a peak); otherwise wait for the next "
        "allowed stretch long enough.")


def allowed_stretches(periods: list[str], allowed: set[str]) -> list[tuple[int, int]]:
    """Maximal runs of consecutive allowed intervals as (first index, index after the last)."""
    out: list[tuple[int, int]] = []
    k, n = 0, len(periods)
    while k < n:
        if periods[k] in allowed:
            j = k
            while j < n and periods[j] in allowed:
                j += 1
            out.append((k, j))
            k = j
        else:
            k += 1
    return out


def next_allowed(periods: list[str], allowed: set[str]) -> list[int]:
    """``out[k]``: index of the first interval ``>= k`` whose period is in ``allowed``; ``n`` when
    there is none (O(n) once, so each look-up is O(1))."""
    n = len(periods)
    out = [n] * (n + 1)
    for k in range(n - 1, -1, -1):
        out[k] = k if periods[k] in allowed else out[k + 1]
    return out[:n]


@register_strategy("tou_shifting")
class TouShifting(FlexibleStart):
    """Start flexible work only in the allowed TOU periods, within due dates and buffer room."""

    Params = TouParams
    params: TouParams

    @classmethod
    def check(cls, plant: Plant, params: StrategyParams) -> list[ConfigIssue]:
        assert isinstance(params, TouParams)
        issues = check_stations(params, plant, cls.name)
        if plant.energy is None or plant.energy.grid.tariff is None:
            issues.append(ConfigIssue(
                "", "tou_shifting needs a time-of-use tariff; expected energy.grid.tariff with a "
                "preset (see twin.energy.tariff.list_presets())"))
        return issues

    def prepare(self, model: Model) -> None:
        sig = model.signals
        self.interval_s = sig.interval_s
        self.n = sig.n_intervals
        self.next_ok = next_allowed(sig.period_per_interval, set(self.params.periods))
        self.stretches = allowed_stretches(sig.period_per_interval, set(self.params.periods))
        self.stretch_starts = [a for a, _ in self.stretches]
        self._fits: dict[float, list[int]] = {}

    def decide(self, now: float, m: Machine, rt: StationRuntime, lots: list[list],
               latest: float) -> float:
        """Now if the period now is allowed, else the start of the next allowed interval
        (``inf``: none left in the run; the due date or the buffer ends the hold)."""
        k = min(int(now // self.interval_s), self.n - 1)
        j = self.next_ok[k]
        if not self.params.fit_in_period:
            if j == k:
                return now
            return j * self.interval_s if j < self.n else math.inf
        need = rt.ideal_s[lots[0][0]]
        dt = self.interval_s
        # the stretch that contains now or comes next, then the first one long enough
        i = bisect.bisect_right(self.stretch_starts, k) - 1
        if i < 0 or self.stretches[i][1] <= k:
            i += 1
        if i >= len(self.stretches):
            return math.inf
        a, b = self.stretches[i]
        if self._end(b) - max(a * dt, now) >= need - 1e-9:
            return max(a * dt, now)
        nxt = self._first_fit(need)[i + 1] if i + 1 < len(self.stretches) else -1
        return self.stretches[nxt][0] * dt if nxt >= 0 else math.inf

    def _end(self, b: int) -> float:
        """End [s] of a stretch ending before interval ``b`` (the last runs on past the run)."""
        return b * self.interval_s if b < self.n else math.inf

    def _first_fit(self, need: float) -> list[int]:
        """``out[i]``: first stretch >= i whose whole length is at least ``need`` [s] (-1: none);
        computed once per processing time."""
        fit = self._fits.get(need)
        if fit is None:
            fit = [-1] * (len(self.stretches) + 1)
            for i in range(len(self.stretches) - 1, -1, -1):
                a, b = self.stretches[i]
                ok = self._end(b) - a * self.interval_s >= need - 1e-9
                fit[i] = i if ok else fit[i + 1]
            self._fits[need] = fit
        return fit

    def report(self, model: Model) -> dict:
        out = super().report(model)
        out["periods"] = list(self.params.periods)
        return out
