"""Predictive maintenance: condition-based repairs replace run-to-failure on stations with failures.

Without the strategy a machine runs until it breaks down (after a random amount of processing
time, ``failures.time_to_failure``) and is repaired (``failures.time_to_repair``). With it, each
coming failure is detected with probability ``detection_rate``; a detected failure is flagged
when the machine's remaining life falls to ``lead_time_h`` **processing hours** (the failure
clock of the model counts processing time, so the lead time does too: a calendar-hour lead would
depend on the future load and is not modelled). A flagged machine is stopped for a planned repair
(state ``maintenance``) at the next convenient moment: with ``stop_at: lot_end`` (the default)
when it has finished the lot in hand; with ``stop_at: shift_end`` when it finishes a lot at or
after the end of a shift, so that the repair takes (part of) the break (a machine that waits for
work at the shift end is repaired at the next one). The repair lasts either ``repair_factor`` times
the breakdown repair time the failure would have needed, or a draw of its own
``time_to_repair``. The repair averts the failure, and the machine starts a new life (a new time
to failure, as after a breakdown repair). A failure that is not detected, or that comes before
the convenient moment, happens as before.

Common random numbers: the times to failure and to repair are drawn from the same streams, one of
each per life, as without the strategy (a planned repair draws the repair time the failure would
have needed, so life ``k`` of a machine has the same length in every scenario); detection and
the planned repair's own time come from streams of their own
(``station:<id>:machine:<k>:pdm:detect`` and ``...:pdm:repair``). With ``detection_rate: 0`` the
run is the run without the strategy, bit for bit.

No default is given for the detection rate, the lead time or the planned repair time: they
depend on the failure mode and the monitoring, and there is no general published value to use,
so each is required.

Reported per station: breakdowns repaired in the run (undetected, and detected too late),
predicted stops, breakdown and planned-repair downtime (all, and within working windows), and
availability two ways: as in the station KPIs (planned repairs are planned maintenance and leave
the planned time), and with the planned-repair time within working windows counted as downtime,
the fair comparison with run-to-failure.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Generator, Iterator
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from pydantic import Field, model_validator

from twin.config.base import Id
from twin.config.distributions import Distribution
from twin.config.errors import ConfigIssue
from twin.equipment.states import DOWN, MAINTENANCE, SETUP
from twin.strategies import Strategy, StrategyParams, register_strategy
from twin.streams import BATCH

if TYPE_CHECKING:
    from twin.config.plant import Plant
    from twin.engine import Model
    from twin.equipment.machine import Machine


@register_strategy("predictive_maintenance")
class PredictiveMaintenance(Strategy):
    """Detected failures are averted by a planned repair at the next convenient moment."""

    reads_storage = False  # reads no state of charge: the EMS may settle after the run

    class Params(StrategyParams):
        detection_rate: float = Field(
            ge=0, le=1, description="Share of coming failures that are detected [-] (required).")
        lead_time_h: float = Field(
            ge=0, description="Remaining life at which a detected failure is flagged "
            "[processing hours] (required).")
        repair_factor: float | None = Field(
            None, gt=0, description="Planned repair time as a multiple of the breakdown repair "
            "time the failure would have needed [-]; give this or time_to_repair.")
        time_to_repair: Distribution | None = Field(
            None, description="Planned repair time; give this or repair_factor.")
        stop_at: Literal["lot_end", "shift_end"] = Field(
            "lot_end", description="When a flagged machine is repaired: at the end of the lot "
            "in hand, or at the end of the first lot finished at or after a shift end.")
        stations: list[Id] | None = Field(
            None, description="Stations monitored; omitted: every station with failures.")

        @model_validator(mode="after")
        def _one_repair(self) -> PredictiveMaintenance.Params:
            if (self.repair_factor is None) == (self.time_to_repair is None):
                raise ValueError("expected exactly one of 'repair_factor' (a multiple of the "
                                 "breakdown repair time) or 'time_to_repair' (a distribution)")
            return self

    @classmethod
    def check(cls, plant: Plant, params: StrategyParams) -> list[ConfigIssue]:
        from twin.config.checks import _ref

        assert isinstance(params, PredictiveMaintenance.Params)
        stations = {s.id: s for _, _, s in plant.stations()}
        issues: list[ConfigIssue] = []
        for k, sid in enumerate(params.stations or []):
            if sid not in stations:
                issues += _ref(f"stations[{k}]", sid, stations, "station")
            elif stations[sid].failures is None:
                issues.append(ConfigIssue(
                    f"stations[{k}]", "station has no failures to predict; expected a station "
                    "with a 'failures:' block", sid, True))
        if params.stop_at == "shift_end" and plant.calendar is None:
            issues.append(ConfigIssue("stop_at", "'shift_end' needs a calendar; the plant has "
                                      "none (24/7); expected 'lot_end'", "shift_end", True))
        if params.stations is None and not any(s.failures for s in stations.values()):
            issues.append(ConfigIssue("", "no station has failures to predict; expected at "
                                      "least one station with a 'failures:' block"))
        return issues

    def install(self, model: Model) -> None:
        p = self.params
        assert isinstance(p, PredictiveMaintenance.Params)
        specs = {s.id: s for _, _, s in model.plant.stations()}
        chosen = set(p.stations) if p.stations is not None else {
            sid for sid, s in specs.items() if s.failures is not None}
        self.monitors: dict[str, list[_Monitor]] = {}
        for rt in model.stations:
            if rt.id not in chosen:
                continue
            mons = []
            for k, m in enumerate(rt.machines):
                tag = f"station:{rt.id}:machine:{k + 1}:pdm"
                own = (model.streams.sampler(f"{tag}:repair", p.time_to_repair)
                       if p.time_to_repair is not None else None)
                mon = _Monitor(m, p.detection_rate, p.lead_time_h * 3600.0, p.repair_factor,
                               own, _uniforms(model.streams.generator(f"{tag}:detect")),
                               p.stop_at == "shift_end", model.horizon_s)
                m.monitor = mon
                mons.append(mon)
            self.monitors[rt.id] = mons

    def report(self, model: Model) -> dict[str, Any]:
        out: dict[str, Any] = {}
        scheduled = model.calendar.working_seconds(0.0, model.horizon_s)
        keys = ("breakdowns", "breakdowns_undetected", "breakdowns_detected_late",
                "predicted_stops", "breakdown_downtime_h", "planned_repair_h",
                "planned_repair_in_shift_h")
        tot: dict[str, float] = dict.fromkeys(keys, 0.0)
        row0 = 0
        for rt in model.stations:
            n = len(rt.machines)
            st_s = model.meter.state_s[row0 : row0 + n]
            row0 += n
            mons = self.monitors.get(rt.id)
            if mons is None:
                continue
            # planned-repair time inside the run (a repair may go on past its end)
            planned_repair = sum(x.repair_s - max(x.repair_until - model.horizon_s, 0.0)
                                 for x in mons)
            down = float(st_s[:, DOWN].sum())
            stops = down + float(st_s[:, SETUP].sum())
            maint = float(st_s[:, MAINTENANCE].sum())
            planned = max(n * scheduled - maint, 1e-9)  # as in the station KPIs
            in_shift = sum(x.repair_in_shift_s for x in mons)
            fair = max(n * scheduled - (maint - planned_repair), 1e-9)
            row = {
                "breakdowns": sum(x.breakdowns for x in mons),
                "breakdowns_undetected": sum(x.undetected for x in mons),
                "breakdowns_detected_late": sum(x.late for x in mons),
                "predicted_stops": sum(x.repairs for x in mons),
                "breakdown_downtime_h": down / 3600.0,
                "planned_repair_h": planned_repair / 3600.0,
                "planned_repair_in_shift_h": in_shift / 3600.0,
                "availability": max(planned - stops, 0.0) / planned,
                "availability_all_stops": max(fair - stops - in_shift, 0.0) / fair,
            }
            for k in keys:
                tot[k] += row[k]
            out[rt.id] = row
        for k in keys[:4]:
            tot[k] = int(tot[k])
        return {"total": tot, "stations": out}


def _uniforms(rng: np.random.Generator) -> Callable[[], float]:
    """Successive uniform draws on [0, 1) from ``rng``, drawn in batches."""

    def values() -> Iterator[float]:
        while True:
            yield from rng.random(BATCH).tolist()

    return values().__next__


class _Monitor:
    """Condition monitoring of one machine (the :class:`~twin.equipment.machine.ConditionMonitor`
    the production process consults)."""

    def __init__(self, m: Machine, rate: float, lead_s: float, factor: float | None,
                 own_ttr: Callable[[], float] | None, uniform: Callable[[], float],
                 at_shift_end: bool = False, horizon_s: float = math.inf):
        self.machine = m
        self.rate = rate
        self.lead_s = lead_s
        self.factor = factor
        self.own_ttr = own_ttr
        self.uniform = uniform
        self.at_shift_end = at_shift_end
        self.horizon_s = horizon_s
        self.lives = 0
        self.detected = False
        self.repaired = False
        self.breakdowns = 0
        self.undetected = 0
        self.late = 0
        self.repairs = 0
        self.repair_s = 0.0
        self.repair_until = 0.0
        self.repair_in_shift_s = 0.0

    def new_life(self, ttf_s: float) -> float:
        """Decide whether the failure ending this life will be detected; return the remaining
        life [processing s] at which it is flagged (-1: it will not be)."""
        if self.lives and not self.repaired:  # the previous life ended in a breakdown
            self.breakdowns += 1
            if self.detected:
                self.late += 1
            else:
                self.undetected += 1
        self.lives += 1
        self.repaired = False
        self.detected = self.uniform() < self.rate
        return self.lead_s if self.detected else -1.0

    def repair(self, ttr: Callable[[], float]) -> Generator:
        """Planned repair now, between lots, unless it waits for a shift end; returns whether
        the machine was repaired."""
        m = self.machine
        if self.at_shift_end and m.calendar.working(m.env.now):
            return False
        breakdown_repair = ttr()  # drawn in every life: common random numbers
        own = self.own_ttr
        dur = self.factor * breakdown_repair if own is None else own()  # type: ignore[operator]
        self.repairs += 1
        self.repair_s += dur
        now = m.env.now
        self.repair_until = now + dur
        self.repair_in_shift_s += m.calendar.working_seconds(now, min(now + dur, self.horizon_s))
        self.repaired = True
        m.set_state(MAINTENANCE)
        yield m.env.timeout(dur)
        return True
