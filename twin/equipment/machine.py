"""A machine's power state at run time: state changes, shift breaks, saving modes, maintenance.

The production process that drives a machine (``twin.production.station``) sets its working states
(starved, setup, processing, blocked, down). This class owns the rest:

* :meth:`Machine.due` does whatever is due at the current time: planned maintenance, and outside
  shifts a break in a saving mode (standby or off, after OPC UA ECM / PROFIenergy) with the warm-up
  back to ready. The production process calls it between lots when ``now >= check_at``, one float
  comparison per lot.
* A machine waiting on a buffer (starved or blocked) is *passive*: it cannot notice a shift end by
  itself, so the plant's calendar process calls :meth:`Machine.wake`, which runs :meth:`due` in a
  side process. If the buffer wait ends meanwhile, the production process waits for that side
  process before it goes on.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Generator
from typing import Protocol

import simpy

from twin.calendar import ShiftCalendar
from twin.config.plant import EquipmentType
from twin.equipment.cooling import WarmUp
from twin.equipment.states import (
    IDLE,
    MAINTENANCE,
    N_CARRIERS,
    N_STATES,
    OFF,
    STANDBY,
    WARM_UP,
)
from twin.metering import Meter, SiteLoad

INF = math.inf
_MODE_STATE = {"off": OFF, "standby": STANDBY}
_LIGHTER = {"off": ("off", "standby", "idle"), "standby": ("standby", "idle"), "idle": ("idle",)}


class ConditionMonitor(Protocol):
    """What the production process asks of a condition monitor (predictive maintenance)."""

    def new_life(self, ttf_s: float) -> float:
        """A new time to failure ``ttf_s`` [processing s] was drawn; return the remaining life
        [processing s] at which the coming failure is flagged, or -1 when it will not be."""
        ...

    def repair(self, ttr: Callable[[], float]) -> Generator:
        """Between lots, a flagged machine: do the planned repair now, if this is a convenient
        moment (a SimPy generator returning True), or return False to go on working; ``ttr``
        draws the breakdown repair time the averted failure would have needed."""
        ...


class Load:
    """One metered piece of equipment (a machine or a base load) and its current power state.

    Every change of state is one record in the meter and, when the run has an energy-management
    system, one update of the running site power (:class:`~twin.metering.SiteLoad`)."""

    __slots__ = ("_code0", "_record", "_rows", "_site", "env", "index", "name", "power_rows",
                 "state")

    def __init__(self, env: simpy.Environment, meter: Meter, index: int, name: str,
                 site: SiteLoad | None = None):
        self.env = env
        self.index = index
        self.name = name
        self._record = meter.record
        self._code0 = index * N_STATES
        self._site = site
        # power per state and carrier; the extra last row (zeros) is the "no state yet" of -1
        none = [(0.0,) * N_CARRIERS]
        self.power_rows = [tuple(row) for row in meter.power[index].tolist()] + none
        """Power per state and carrier as written [kW] (what a start is expected to add)."""
        self._rows = self.power_rows  # what the running site power adds: the metered power
        if meter.metered_power is not meter.power:
            self._rows = [tuple(row) for row in meter.metered_power[index].tolist()] + none
        self.state = -1

    def set_state(self, state: int) -> None:
        """Enter ``state`` now; records a change point only when the state changes."""
        if state != self.state:
            now = self.env.now
            site = self._site
            if site is not None:
                site.change(now, self._rows[self.state], self._rows[state])
            self.state = state
            self._record(now, self._code0 + state)


class Machine(Load):
    """One physical machine: its current power state and its breaks.

    Parameters
    ----------
    env : simpy.Environment
    meter : Meter
    index : int
        Equipment index in the meter.
    spec : EquipmentType
        Saving modes and off-shift behaviour.
    calendar : ShiftCalendar
        Working windows of the plant.
    maintenance : list of (start_s, duration_s)
        Planned maintenance of this machine, sorted.
    """

    __slots__ = (
        "_maint", "_maint_k", "busy_lots", "busy_units", "calendar", "check_at", "cleaning_s",
        "hand", "hold_until", "ideal_s", "maint_next", "monitor", "off_since", "on_held",
        "on_process", "on_starved", "passive", "processing_s", "setup_s", "side", "spec",
        "stayed_s", "waited_s",
    )

    def __init__(self, env: simpy.Environment, meter: Meter, index: int, name: str,
                 spec: EquipmentType, calendar: ShiftCalendar,
                 maintenance: list[tuple[float, float]], site: SiteLoad | None = None):
        super().__init__(env, meter, index, name, site)
        self.spec = spec
        self.calendar = calendar
        self.passive = 0
        """State to restore after a side break (starved or blocked), 0 when not waiting."""
        self.side: simpy.Process | None = None
        self._maint = maintenance
        self._maint_k = 0
        self.maint_next = maintenance[0][0] if maintenance else INF
        self.check_at = 0.0
        self.off_since = INF
        """Since when the machine has stayed in a saving mode through an off-shift break
        without warming up at its end (``due(stay_off=True)``) [s]; inf otherwise."""
        self.busy_lots = 0
        """Lots processed (a batch counts each lot)."""
        self.busy_units = 0
        """Units in the lots processed."""
        self.ideal_s = 0.0
        self.cleaning_s = 0.0
        """Time spent on periodic setups and cleaning [s] (part of the setup state's time)."""
        # queue figures (twin.production.queues), kept by the production process
        self.hand: list | tuple = ()
        """Lots taken from the station's buffer that have not left the machine yet: a list while
        they are not processed, a tuple once they are (waiting to be handed on)."""
        self.waited_s = 0.0
        """Sum over the lots that left of their wait: taken from the buffer - arrived in it [s]."""
        self.stayed_s = 0.0
        """Sum over the lots that left of their stay: left - arrived in the buffer [s]."""
        self.processing_s: list[float] = []
        """Processing time started per product index [s] (sized by the station builder)."""
        self.setup_s: list[float] = []
        """Changeover time per product index changed over to [s]."""
        """Sum of the mean processing times of the lots processed [s] (OEE performance)."""
        # Strategy hooks (twin.strategies), None when unused; the production process reads them.
        self.on_starved: Callable[[simpy.Event], None] | None = None
        """Called with the pending get event when the machine starts waiting for work; it may
        start a side process (``self.side``), which the production process waits for once the
        work has come."""
        self.on_held: Callable[[simpy.Event | None], None] | None = None
        """Called with the event a scheduling gate holds the machine for (ready, with its lots),
        again at each new ask of the gate while the hold goes on, and with None when the gate
        lets the lots start; it may run a side process (``self.side``) through the hold, which
        the production process waits for once the hold is over (or at a shift end)."""
        self.hold_until = INF
        """When the current hold ends at the latest [s], as the gate knows it (inf: unknown)."""
        self.on_process: Callable[[list, float], None] | None = None
        """Called with the lots and the drawn processing time [s] when processing starts."""
        self.monitor: ConditionMonitor | None = None
        """Condition monitoring (predictive maintenance) of a machine with failures."""

    def wake(self) -> None:
        """Let a passive (starved or blocked) machine do what is due, in a side process."""
        if self.passive and self.side is None:
            self.side = self.env.process(self._side())

    def _side(self) -> Generator:
        yield from self.due()
        if self.passive:
            self.set_state(self.passive)
        self.side = None

    def due(self, stay_off: bool = False) -> Generator:
        """Do what is due now (maintenance, a shift break), until the machine may work.

        ``stay_off``: end a break in its saving mode, not warmed up (a saving-mode controller
        that warms the machine up when work is there asks for it: switch-on thresholds); the
        machine's ``off_since`` then says since when it is off."""
        cal = self.calendar
        env = self.env
        while True:
            now = env.now
            if now >= self.maint_next:
                yield from self._maintain()
            elif not cal.working(now):
                yield from self._break(now, stay_off)
            else:
                break
        self.check_at = min(cal.window_end(env.now), self.maint_next)

    def _maintain(self) -> Generator:
        _, duration = self._maint[self._maint_k]
        self._maint_k += 1
        self.maint_next = self._maint[self._maint_k][0] if self._maint_k < len(self._maint) else INF
        self.set_state(MAINTENANCE)
        yield self.env.timeout(duration)

    def break_mode(self, gap_s: float) -> tuple[int, float]:
        """State and warm-up time [s] for a break of ``gap_s`` until the next shift.

        The configured ``off_shift_mode`` if the time spent in it would reach its ``min_stay_s``,
        else the next lighter mode that does; idle when none does. A mode with ``cooling``
        needs the warm-up of the time spent in it (:mod:`twin.equipment.cooling`)."""
        spec = self.spec
        for mode in _LIGHTER[spec.off_shift_mode]:
            if mode == "idle":
                return IDLE, 0.0
            m = spec.saving_modes[mode]  # type: ignore[index]
            if m.cooling is not None:
                w = WarmUp(m)
                stay = w.off_for_ready(gap_s) if spec.warm_up_before_shift else gap_s
                if stay >= m.min_stay_s and stay > 0:
                    return _MODE_STATE[mode], (gap_s - stay if spec.warm_up_before_shift
                                               and stay < INF else w(gap_s))
                continue
            stay = gap_s - m.warm_up_s if spec.warm_up_before_shift else gap_s
            if stay >= m.min_stay_s and stay > 0:
                return _MODE_STATE[mode], m.warm_up_s
        return IDLE, 0.0

    def _break(self, now: float, stay_off: bool = False) -> Generator:
        """Outside shifts: wait in a saving mode, warm up, be ready at (or after) the shift start.

        Returns early, without warming up, when planned maintenance falls due during the break;
        with ``stay_off``, without warming up at the shift start either (see :meth:`due`)."""
        env = self.env
        next_start = self.calendar.next_start(now)
        state, warm_up = self.break_mode(next_start - now)
        self.set_state(state)
        if stay_off and state != IDLE:
            if self.off_since == INF:
                self.off_since = now
            wake = min(next_start, self.maint_next)
            if wake == INF:
                yield env.event()  # no further shift in the run: wait for ever
            yield env.timeout(wake - now)
            return
        ready_at = next_start if self.spec.warm_up_before_shift else next_start + warm_up
        warm_from = max(ready_at - warm_up, now)
        wake = min(warm_from, self.maint_next)
        if wake == INF:
            yield env.event()  # no further shift in the run: wait for ever
        yield env.timeout(wake - now)
        if env.now < warm_from:
            return  # maintenance first; due() plans the rest of the break again
        if warm_up > 0:
            self.set_state(WARM_UP)
            yield env.timeout(ready_at - env.now)
        self.set_state(IDLE)
