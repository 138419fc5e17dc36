"""Peak shaving: hold back flexible starts while the site demand would exceed a limit.

A lot at a deferrable station starts only if the site electric power now plus what the start
adds (the machine's processing power minus its ready power) stays within ``limit_kw``, unless
holding it longer would miss its due date or block upstream (:mod:`twin.strategies._gating`).
A held machine wakes when the site power falls to ``limit_kw`` minus its added power (an event
on the live site power, no polling). A start allowed into a changeover (setup, drawn at its own
power) keeps its processing power reserved until it processes, so that two machines do not both
take the same room; so does a start that smart standby first brings back from a saving mode
(minimum stay, warm-up).

With ``basis: grid`` the limit is on what the grid must give: site power minus the onsite PV and
wind of the interval now (``signals.onsite_kw``; a battery would only lower the import further, so
the rule stays on the safe side). Then a held machine also wakes when the next interval's onsite
generation may make room, and the report compares the limit with the grid import per
settlement interval.

Because only flexible starts are held, the limit holds for the settlement-interval average
(the monthly peak of a demand charge) only when the rest of the plant stays within it; the
report says whether it did, per month, and how many starts the due dates or buffers forced.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd
import simpy
from pydantic import Field

from twin.config.errors import ConfigIssue
from twin.config.plant import ELECTRICITY
from twin.equipment.states import SETUP, WARM_UP
from twin.kpis import month_labels
from twin.strategies import StrategyParams, register_strategy
from twin.strategies._gating import FlexibleParams, FlexibleStart, check_stations, power_watch

if TYPE_CHECKING:
    from twin.config.plant import Plant
    from twin.engine import Model
    from twin.equipment.machine import Machine
    from twin.production.station import StationRuntime


INF = math.inf
_COMING = (SETUP, WARM_UP)


class PeakParams(FlexibleParams):
    limit_kw: float = Field(gt=0, description="Power not to exceed by a flexible start [kW].")
    basis: Literal["site", "grid"] = Field(
        "site", description="What the limit is on: the site's electric demand, or the grid "
        "import (demand minus onsite PV and wind now), as demand charges are billed.")


def interval_peaks_kw(interval_kwh: np.ndarray, interval_s: float) -> np.ndarray:
    """Average power per settlement interval [kW] from its energy [kWh]: P = E / (dt / 3600 s)."""
    return np.asarray(interval_kwh, dtype=float) * 3600.0 / interval_s


@register_strategy("peak_shaving")
class PeakShaving(FlexibleStart):
    """Hold flexible starts while site power plus the start would exceed ``limit_kw``."""

    Params = PeakParams
    params: PeakParams

    @classmethod
    def check(cls, plant: Plant, params: StrategyParams) -> list[ConfigIssue]:
        assert isinstance(params, PeakParams)
        issues = check_stations(params, plant, cls.name)
        if params.basis == "grid" and plant.energy is None:
            issues.append(ConfigIssue(
                "basis", "'grid' needs an energy: block (onsite generation and the grid import); "
                "expected 'site' without one", params.basis, True))
        return issues

    def prepare(self, model: Model) -> None:
        self.watch = power_watch(model)
        self.site = model.signals
        self.limit = self.params.limit_kw
        self.grid = self.params.basis == "grid"
        self._pending: dict[int, Machine] = {}  # by equipment index: a stable order

    def decide(self, now: float, m: Machine, rt: StationRuntime, lots: list[list],
               latest: float) -> float | simpy.Event:
        """Start if site power now + the power of starts already allowed but still changing
        over + this start's added power stays within the limit; else wait for the site power
        to fall that far."""
        room = self.limit - self.extra_kw(m) - self._committed_kw()
        if not self.grid:
            if self.site.site_kw() <= room + 1e-9:
                return now
            return self.watch.below(room)
        sig = self.site
        room += sig.onsite_kw(now)  # site power may be higher by what onsite generation gives
        if sig.site_kw() <= room + 1e-9:
            return now
        k = sig.interval(now)
        if k + 1 >= sig.n_intervals:
            return self.watch.below(room)
        # the next interval's generation may make room: look again at its start
        nxt = self.model.env.timeout((k + 1) * sig.interval_s - now)
        return self.model.env.any_of([self.watch.below(room), nxt])

    def _committed_kw(self) -> float:
        """Added power of machines this strategy let start that are not processing yet (their
        processing power is not yet in the site power) [kW]: in setup, warming up, or waiting
        for smart standby's side process once every gate has let the start go (a saving mode's
        minimum stay and warm-up, or the end of its watch over the hold; no gate holds it:
        ``hold_until`` is back to inf)."""
        pending = self._pending
        if not pending:
            return 0.0
        for k in [k for k, m in pending.items() if not (
                m.state in _COMING or (m.side is not None and m.hold_until == INF))]:
            del pending[k]
        return sum(self.extra_kw(m) for m in pending.values())

    def _release(self, m: Machine, why: str) -> None:
        self._pending[m.index] = m  # in setup until it processes: counted by _committed_kw
        return super()._release(m, why)

    def report(self, model: Model) -> dict[str, Any]:
        """Holds (see the base) plus the monthly peak of the settlement-interval average of the
        metered site power against the limit."""
        out = super().report(model)
        meter = model.meter
        n = meter.n_intervals
        if self.grid and model.ems is not None:
            kwh = np.asarray(model.ems.arrays()["grid_import"], dtype=float)[:n]
        else:
            kwh = meter.carrier_kwh()[:, ELECTRICITY]
        kw = interval_peaks_kw(kwh, meter.interval_s)
        index = model.clock.index(n, meter.interval_s)
        months = pd.Series(kw, index=index).groupby(month_labels(index)).max()
        over = int((kw > self.limit + 1e-6).sum())
        out.update({
            "limit_kw": self.limit,
            "basis": self.params.basis,
            "peak_kw_by_month": {k: float(v) for k, v in months.items()},
            "limit_met": over == 0,
            "intervals_over_limit": over,
        })
        if over:
            out["note"] = (
                f"the settlement-interval demand exceeded {self.limit:g} kW in {over} interval(s):"
                f" {sum(self.forced_starts.values())} flexible start(s) were forced over it by due"
                " dates or full buffers; the rest is load the strategy does not hold (other"
                " machines, base loads)")
        return out
