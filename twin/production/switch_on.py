"""Switch-on thresholds (the N-policy): an off machine starts again only when enough lots wait.

A station with ``switch_on: {lots: N, max_wait_h: T}`` in the plant file runs the classical
N-policy of queueing theory (Yadin & Naor 1963, Management Science 11(4):413-424; Heyman 1968,
Operations Research 16(2):362-382): a machine that ran out of work switches to a saving mode at
once; it switches on (warms up, then starts) only when N lots wait at the station (in its input
buffer and in the hands of its machines that are off), or when the oldest has waited T (then it
warms up so as to be ready just as T is reached); and once on it serves until no lot waits
(exhaustive service), then switches off again.

How it is built, from pieces that exist:

* The threshold is a scheduling gate of the station (:meth:`StationRuntime.add_gate
  <twin.production.station.StationRuntime.add_gate>`), added before the strategies' gates: asked
  before each start, it lets a machine that is on start at once (one dict look-up and one
  comparison), and holds a machine that is off, with the lot it took, until the threshold is
  reached (an event fired by the N-th lot entering the buffer, watched with
  :func:`~twin.production.buffer_watch.watch_appends`, or the timeout of the oldest lot's
  longest wait). A lot held so counts in ``held_h`` in lots.parquet. Once it has let a lot go,
  the gate does not hold that lot again (another gate, e.g. a TOU hold, may still hold it).
* Off means: in a saving mode (state off or standby), or, with ``mode: idle``, waiting ready for
  work (starved). A machine ready after its off-shift warm-up is on.
* The saving mode is the equipment type's ``saving_modes`` entry (``mode``; ``auto``: off if the
  type has it, else standby), entered as soon as the machine waits for work, with its warm-up
  and minimum stay: the saving-mode controller of smart standby
  (:class:`twin.strategies.smart_standby._Controller`) with a timeout of 0. It asks the gate
  before it warms up for a lot (issue 14, defect 9). With the smart_standby strategy on the same
  station, smart standby's controller (its timeout and mode) is used instead, and it is not woken
  ahead by upstream machines (that would switch it on before the threshold).
* Shift breaks: a machine off (or held off) when its shift ends spends the break in its
  off-shift mode and stays off at the next shift start until the threshold is reached (its
  cooling counts from when it went off). A machine still processing at the shift end finishes
  the lot and takes the break as configured (warmed up for the next shift, as at the start of a
  run): then it starts at once on the lots waiting, or switches off if there are none.

Counted per station (``kpis.json``: ``stations.<id>.switch_on``): switch-ons, and lots waiting at
each switch-on (mean).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import simpy

from twin.equipment.cooling import warm_up_model
from twin.equipment.states import OFF, STANDBY, STARVED, WARM_UP
from twin.production.buffer_watch import watch_appends

if TYPE_CHECKING:
    from twin.config.plant import EquipmentType
    from twin.config.saving import SwitchOn
    from twin.equipment.machine import Machine
    from twin.metering import Meter
    from twin.production.station import StationRuntime

INF = math.inf


def resolved_mode(cfg: SwitchOn, spec: EquipmentType) -> str:
    """The mode a machine of type ``spec`` goes to when no lot waits: 'off', 'standby' or
    'idle' (``auto``: the deepest saving mode the type has)."""
    if cfg.mode != "auto":
        return cfg.mode
    for mode in ("off", "standby"):
        if mode in spec.saving_modes:
            return mode
    return "idle"


class SwitchOnGate:
    """The switch-on threshold of one station, as its scheduling gate (see the module doc)."""

    def __init__(self, env: simpy.Environment, rt: StationRuntime, lots: int,
                 max_wait_s: float, off_states: tuple[int, ...]):
        self.env = env
        self.n = lots
        self.max_wait_s = max_wait_s
        self.off_states = off_states
        self.since: dict[int, float] = {}
        """Machine index -> when its lots in hand started waiting for the threshold [s]."""
        self.held_lots = 0
        """Lots in the hands of machines waiting for the threshold."""
        self.granted: dict[int, Any] = {}
        """Machine index -> the first lot of the lots it was last let go with."""
        self.switch_ons = 0
        self.lots_at_switch_on = 0
        self.event: simpy.Event | None = None
        self.controllers: list[Any] = []
        """The saving-mode controllers of the station's machines (smart standby's, if it is
        installed on the station too)."""
        self.horizon_s = INF
        assert rt.input is not None  # checked when loading: not on an assembly station
        self.items = watch_appends(rt.input, self._appended)

    def _appended(self, _lot: Any) -> None:
        ev = self.event
        if ev is not None and not ev.triggered and len(self.items) + self.held_lots >= self.n:
            ev.succeed()

    def __call__(self, m: Machine, lots: list[list]) -> simpy.Event | None:
        """Start now (None), or the event after which to ask again."""
        k = m.index
        since = self.since.get(k)
        if since is None:
            if m.state not in self.off_states or self.granted.get(k) is lots[0]:
                return None  # on (serving), or let go already and held by another gate
            self.since[k] = since = self.env.now
            self.held_lots += len(lots)
        now = self.env.now
        waiting = len(self.items) + self.held_lots
        if waiting >= self.n or now >= since + self.max_wait_s:
            del self.since[k]
            self.held_lots -= len(lots)
            self.granted[k] = lots[0]
            self.switch_ons += 1
            self.lots_at_switch_on += waiting
            return None
        if self.event is None or self.event.triggered:
            self.event = self.env.event()
        last = since + self.max_wait_s
        if last < INF:
            m.hold_until = min(m.hold_until, last)  # be ready by then (the saving controller)
        until = min(last, m.check_at)  # at a shift end the machine does what is due
        if until < INF:
            return self.env.any_of([self.event, self.env.timeout(max(until - now, 0.0))])
        return self.event

    def report(self, horizon_s: float) -> dict[str, Any]:
        """Switch-ons, the mean number of lots waiting at a switch-on, and from the saving-mode
        controllers: switches off, hours off (in the saving mode) and warming up."""
        ctrls = self.controllers
        for c in ctrls:  # a phase still open at the end of the run counts to the horizon
            c._close(horizon_s)
        return {"lots": self.n,
                "max_wait_h": self.max_wait_s / 3600.0 if self.max_wait_s < INF else None,
                "switch_ons": self.switch_ons,
                "mean_lots_at_switch_on": (self.lots_at_switch_on / self.switch_ons
                                           if self.switch_ons else None),
                "switches_off": sum(c.switches + c.held_switches for c in ctrls),
                "off_h": sum(c.saving_s for c in ctrls) / 3600.0,
                "warm_up_h": sum(c.warm_s for c in ctrls) / 3600.0}


def install_switch_on(rt: StationRuntime, cfg: SwitchOn, spec: EquipmentType, meter: Meter,
                      env: simpy.Environment) -> SwitchOnGate:
    """Give station ``rt`` its switch-on threshold: the gate, and a saving-mode controller per
    machine that switches as soon as the machine waits for work (module doc)."""
    mode = resolved_mode(cfg, spec)
    off_states = (OFF, STANDBY, STARVED) if mode == "idle" else (OFF, STANDBY)
    max_wait = cfg.max_wait_h * 3600.0 if cfg.max_wait_h is not None else INF
    gate = SwitchOnGate(env, rt, cfg.lots, max_wait, off_states)
    rt.add_gate(gate)
    rt.switch_on = gate
    if mode != "idle":
        from twin.strategies.smart_standby import _Controller, break_even_s

        state = OFF if mode == "off" else STANDBY
        sm = spec.saving_modes[mode]  # type: ignore[index]
        for m in rt.machines:
            table = meter.power[m.index].sum(axis=1)  # kW per state, all carriers
            be = break_even_s(float(table[STARVED]), float(table[state]), sm.warm_up_s,
                              float(table[WARM_UP]), sm.min_stay_s)
            c = _Controller(m, state, sm.warm_up_s, sm.min_stay_s, 0.0, be, table,
                            warm_up_model(sm))
            c.gated = _always
            c.stays_off = True  # off through a shift start until the threshold is reached
            gate.controllers.append(c)
            m.on_starved = c.starved
            m.on_held = c.held
    return gate


def _always() -> bool:
    return True
