"""The deferrable work of a run as energy blocks, for the sizing LP's flexible load.

A *flexible station* is one a load-shifting strategy may hold (``deferrable: true`` in the plant
file, the default stations of tou_shifting, pv_following, peak_shaving and carbon_aware:
:func:`twin.strategies._gating.station_ids`). Each start of a lot (or batch) there is one block:

* ``release_h``: when the machine took the lot from its buffer, before any hold [h from the run
  start] — the earliest the work could have started;
* ``latest_finish_h``: the lot's latest start by its due date (the expected processing still to
  do, off-shift time not counted: :meth:`twin.calendar.ShiftCalendar.latest_start`, without a
  strategy's slack margin) plus its processing time; the run's end without a due date; never
  before the block's actual end;
* ``power_kw``: the machine's electric power processing minus idle (moving the work leaves the
  machine idle at the old time) [kW]; ``energy_kwh`` = power x processing time;
* ``start_h``: when it started in the run (where its energy sits in the run's load).

Recorded only when asked (:func:`record_flexible_work`, by ``twin size`` with
``sizing.flexible_production``): a hook on the machines' ``on_process``, so plain runs cost
nothing. Processing interrupted by a failure or a shift end is recorded by its drawn length
(the block's energy sits from its start on).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from twin.config.plant import ELECTRICITY
from twin.equipment.states import IDLE, PROCESSING

if TYPE_CHECKING:
    from twin.engine import Model


@dataclass(frozen=True)
class FlexBlock:
    """One start of deferrable work (module doc). Times in hours from the run's start."""

    station: str
    release_h: float
    start_h: float
    duration_h: float
    latest_finish_h: float
    power_kw: float

    @property
    def energy_kwh(self) -> float:
        """Electricity the work adds over the machine's idle use [kWh]."""
        return self.power_kw * self.duration_h


def record_flexible_work(model: Model) -> list[FlexBlock]:
    """Hook the machines of the model's flexible stations; the returned list fills as the model
    runs. Call after :func:`twin.engine.build` and before :func:`twin.engine.run`."""
    from twin.strategies._gating import FlexibleParams, station_ids, work_to_finish

    blocks: list[FlexBlock] = []
    ids = set(station_ids(model.plant, FlexibleParams()))
    if not ids:
        return blocks
    work = work_to_finish(model.plant, model.stations)
    cal = model.calendar
    env = model.env
    horizon_h = model.horizon_s / 3600.0
    power = model.meter.power
    for rt in model.stations:
        if rt.id not in ids:
            continue
        for m in rt.machines:
            kw = max(float(power[m.index][PROCESSING][ELECTRICITY])
                     - float(power[m.index][IDLE][ELECTRICITY]), 0.0)
            if kw <= 0:
                continue
            prev = m.on_process

            def hook(lots: list, d: float, _kw: float = kw, _st: str = rt.id,
                     _prev: Any = prev) -> None:
                if _prev is not None:
                    _prev(lots, d)
                now = env.now
                latest = math.inf
                for lot in lots:
                    if lot[4] != math.inf:
                        latest = min(latest, cal.latest_start(lot[4], work[lot[0]][lot[1]]))
                start_h, dur_h = now / 3600.0, d / 3600.0
                finish = (max(latest, now) + d) / 3600.0 if latest != math.inf else horizon_h
                blocks.append(FlexBlock(_st, min(lots[0][8], now) / 3600.0, start_h, dur_h,
                                        max(finish, start_h + dur_h), _kw))

            m.on_process = hook
    return blocks


__all__ = ["FlexBlock", "record_flexible_work"]
