"""PV following: start flexible work when onsite generation has room for it.

A lot at a deferrable station starts when the onsite surplus, the PV and wind generation of the
current settlement interval (``signals.onsite_kw``: the forecast the EMS publishes, here the
simulated output itself, i.e. a perfect generation forecast) minus the site electric power now
(``signals.site_kw``), covers ``cover_fraction`` of the power the start adds (processing minus
ready power). Otherwise it is held, within due dates and buffer room (see
:mod:`twin.strategies._gating`), and wakes at the earliest of:

* the site power falling far enough for the current generation to cover the start;
* the start of the next interval that has any generation (generation changes each interval:
  one look per interval in daylight, none at night);
* the latest start for its due date.

The site load ahead is forecast by persistence (the power now), so each wake looks again.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import simpy
from pydantic import Field

from twin.config.errors import ConfigIssue
from twin.strategies import StrategyParams, register_strategy
from twin.strategies._gating import FlexibleParams, FlexibleStart, check_stations, power_watch

if TYPE_CHECKING:
    from twin.config.plant import Plant
    from twin.engine import Model
    from twin.equipment.machine import Machine
    from twin.production.station import StationRuntime


class PvParams(FlexibleParams):
    cover_fraction: float = Field(
        1.0, gt=0, le=1, description="Share of the power a start adds that the onsite surplus "
        "must cover [-] (1: all of it).")


@register_strategy("pv_following")
class PvFollowing(FlexibleStart):
    """Start flexible work when onsite surplus covers it, within due dates and buffer room."""

    Params = PvParams
    params: PvParams

    @classmethod
    def check(cls, plant: Plant, params: StrategyParams) -> list[ConfigIssue]:
        assert isinstance(params, PvParams)
        issues = check_stations(params, plant, cls.name)
        if plant.energy is None or not (plant.energy.pv or plant.energy.wind):
            issues.append(ConfigIssue(
                "", "pv_following needs onsite generation; expected energy.pv or energy.wind"))
        return issues

    def prepare(self, model: Model) -> None:
        sig = model.signals
        self.sig = sig
        self.watch = power_watch(model)
        self.onsite = sig._onsite_kw
        self.interval_s = sig.interval_s
        # next interval (>= k) with any generation, O(1) per look-up
        n = sig.n_intervals
        nxt = [n] * (n + 1)
        for k in range(n - 1, -1, -1):
            nxt[k] = k if self.onsite[k] > 0 else nxt[k + 1]
        self.next_gen = nxt

    def decide(self, now: float, m: Machine, rt: StationRuntime, lots: list[list],
               latest: float) -> float | simpy.Event:
        need = self.params.cover_fraction * self.extra_kw(m)
        k = self.sig.interval(now)
        if self.onsite[k] - self.sig.site_kw() >= need - 1e-9:
            return now
        j = self.next_gen[min(k + 1, self.sig.n_intervals)]
        wake = j * self.interval_s if j < self.sig.n_intervals else math.inf
        threshold = self.onsite[k] - need
        if threshold < 0:  # the current generation cannot cover it, whatever else stops
            return wake
        drop = self.watch.below(threshold)
        if wake == math.inf:
            return drop
        return self.env.any_of([drop, self.env.timeout(wake - now)])

    def report(self, model: Model) -> dict:
        out = super().report(model)
        out["cover_fraction"] = self.params.cover_fraction
        return out
