"""Sequence feeding of a continuous station (caster, continuous furnace, float line) at run time.

A continuous caster casts a *sequence* of heats without a break: each heat's ladle must open
before the tundish runs dry, and a tundish lasts a limited number of heats. Here a lot that
starts more than ``max_wait_s`` after the previous lot finished at the station has *broken* the
sequence (unplanned); a sequence that has reached ``max_lots`` lots ends as planned (tundish
life; a lot that comes late after a full sequence counts as planned). Either way the lot starts
a new sequence after a *restart*: ``setup_s`` in the machine's setup state (changeover in OEE
availability, like a periodic setup; Nakajima 1988), with the restart energy (tundish preheating
gas) metered on a load of its own (``<station>:restart``, in the station's group) at
``energy_kwh / setup_s`` over the setup, and ``loss_units`` of the lot's product lost (end of the
old sequence plus start of the new: :meth:`twin.production.flow.Flow.lose`, so the product's good
output, and with it every per-unit intensity, carries the loss).

Conventions: the first lot of the run finds a sequence ready (the run starts in steady state, as
a plant without ``sequence`` does: an infinite window then gives the same run); the sequence
still open at the end of the run is not charged. The break is recognised when the next lot is
ready to start (its restart begins then, not when the tundish ran dry), which is exact for the
counts and the energy and delays the heat by the setup, as a real restart does.

Per lot a station with a sequence pays a method call and an assignment; a station without pays
two tests of a local for None in the machine loop (``seq``), nothing else.
"""

from __future__ import annotations

import math
from collections.abc import Generator
from typing import Any

from twin.equipment.machine import Load, Machine
from twin.equipment.states import IDLE, OFF, SETUP

INF = math.inf


class SequenceFeed:
    """The sequence state and counters of one station (one machine).

    Parameters
    ----------
    max_wait_s : float
        Longest gap from the end of one lot to the start of the next that keeps the sequence [s].
    max_lots : int or None
        Most lots per sequence (None: no limit).
    setup_s : float
        Restart setup [s].
    loss_units : float
        Units of the product lost per restart [units].
    load : Load or None
        The meter row of the restart energy (None: no restart energy).
    flow : Flow
        Where the yield loss is booked.
    """

    __slots__ = ("breaks", "flow", "last_finish", "load", "loss_units", "lots", "lots_total",
                 "max_lots", "max_wait_s", "planned", "restart_s", "sequences", "setup_s",
                 "started", "units_lost")

    def __init__(self, max_wait_s: float, max_lots: int | None, setup_s: float,
                 loss_units: float, load: Load | None, flow: Any):
        self.max_wait_s = max_wait_s
        self.max_lots = max_lots if max_lots is not None else 2**62
        self.setup_s = setup_s
        self.loss_units = loss_units
        self.load = load
        self.flow = flow
        self.last_finish = -INF
        """When the last lot finished processing here [s] (-inf: none yet)."""
        self.started = -INF
        """When the lot now at the machine started processing [s]."""
        self.lots = 0
        """Lots in the sequence now open."""
        self.lots_total = 0
        """Lots started in all sequences."""
        self.sequences = 0
        """Sequences started (the first one included)."""
        self.breaks = 0
        """Sequences ended by a late lot (unplanned)."""
        self.planned = 0
        """Sequences ended at their maximum length (planned restarts)."""
        self.restart_s = 0.0
        """Time spent on restarts [s]."""
        self.units_lost = 0.0
        """Product lost to restarts [units]."""

    @property
    def restarts(self) -> int:
        """Restarts done (breaks + planned)."""
        return self.breaks + self.planned

    def keeps(self, now: float) -> bool:
        """A lot ready to start at ``now`` [s] continues the open sequence (True), or must start
        a new one (False: then call :meth:`restart`). Counts the lot and the break."""
        if self.sequences == 0:  # the run starts with a sequence ready
            self.sequences = 1
        elif self.lots >= self.max_lots:  # ended at its length: planned, however late
            self.planned += 1
            return False
        elif now - self.last_finish > self.max_wait_s:
            self.breaks += 1
            return False
        self.lots += 1
        self.lots_total += 1
        self.started = now
        return True

    def restart(self, m: Machine, lot: list) -> Generator:
        """Start a new sequence with ``lot`` (SimPy): setup state and restart energy for
        ``setup_s``, yield loss booked against the lot's product."""
        self.sequences += 1
        self.lots = 1
        self.lots_total += 1
        self.started = m.env.now + self.setup_s  # processing starts after the setup
        if self.loss_units > 0:
            self.flow.lose(lot[0], self.loss_units)
            self.units_lost += self.loss_units
        if self.setup_s > 0:
            m.set_state(SETUP)
            if self.load is not None:
                self.load.set_state(IDLE)
            yield m.env.timeout(self.setup_s)
            if self.load is not None:
                self.load.set_state(OFF)
            self.restart_s += self.setup_s

    def feed_by(self, now: float, busy: bool, lots_ahead: int, mean_s: float) -> float:
        """Latest time [s] a lot may reach the station and keep the open sequence, when
        ``lots_ahead`` lots will be processed here before it (each taking ``mean_s`` s) and the
        machine is ``busy`` (a lot in hand) or not; ``inf`` when there is no sequence to keep
        (none started yet, already broken, or it ends at its maximum length before this lot).

        The station runs dry at the end of its own work: the lot in hand ends at its start plus
        ``mean_s``; the lots ahead follow back to back (they are on their way: an estimate)."""
        if self.sequences == 0:
            return INF
        if self.lots + lots_ahead >= self.max_lots:
            return INF  # a planned restart comes before this lot anyway
        if busy:
            free = max(now, self.started + mean_s)
        else:
            if self.last_finish + self.max_wait_s < now and lots_ahead == 0:
                return INF  # already broken: nothing left to keep
            free = max(now, self.last_finish) if lots_ahead else self.last_finish
        return free + lots_ahead * mean_s + self.max_wait_s

    def report(self) -> dict[str, Any]:
        """Station KPIs: ``sequences`` started, ``breaks`` (unplanned), ``planned_restarts``,
        ``restarts`` (both), ``restart_h`` and ``units_lost``, ``mean_lots_per_sequence``."""
        return {
            "sequences": self.sequences,
            "breaks": self.breaks,
            "planned_restarts": self.planned,
            "restarts": self.restarts,
            "restart_h": round(self.restart_s / 3600.0, 9),
            "units_lost": round(self.units_lost, 9),
            "mean_lots_per_sequence": round(self.lots_total / self.sequences, 9)
            if self.sequences else None,
        }
