"""TOU load shifting: flexible work starts only in cheap tariff periods.

A lot at a deferrable station (formation/aging, ovens, charging) starts only while the TOU period
is one of ``periods`` (default deep valley, valley and flat: never in peak or critical peak),
unless holding it longer would miss its due date or block upstream (see
:mod:`twin.strategies._gating`). A held machine wakes at the start of the next allowed period.
The lot's processing may run on into a peak period: the rule decides starts, as a line planner
releasing work does.
"""

from __future__ import annotations

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
    def check(cls, params: StrategyParams, plant: Plant) -> list[ConfigIssue]:
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

    def decide(self, now: float, m: Machine, rt: StationRuntime, lots: list[list],
               latest: float) -> float:
        """Now if the period now is allowed, else the start of the next allowed interval
        (``inf``: none left in the run; the due date or the buffer ends the hold)."""
        k = min(int(now // self.interval_s), self.n - 1)
        j = self.next_ok[k]
        if j == k:
            return now
        return j * self.interval_s if j < self.n else math.inf

    def report(self, model: Model) -> dict:
        out = super().report(model)
        out["periods"] = list(self.params.periods)
        return out
