"""Conveyor (continuous-flow) stations at run time: reflow and curing ovens, paint lines, dryers.

A conveyor station carries up to ``n = ceil(transit_s / pitch_s)`` lots at once: a lot enters at
most every ``pitch_s`` (belt time) and leaves, first in first out, ``transit_s`` (belt time) after
it entered, into the buffer of its next route step. Its throughput is thus at most one lot per
pitch, and by Little's law the mean number of lots on the belt is L = lambda x W with W the
transit time plus any stop.

*Blocking.* When the lot at the exit finds the next buffer full, the belt stops: no lot leaves or
enters, and every lot on the belt waits (its transit resumes where it stopped once the exit lot has
been handed on). Belt time is kept as real time less the stops.

*Shifts and maintenance.* At a shift end (or when planned maintenance falls due) the station takes
no new lot; the lots on the belt ride out, then the machine does what is due
(:meth:`~twin.equipment.machine.Machine.due`: a saving mode, warm-up, maintenance) like any other.

*Power.* The station is metered as ``n`` places (rows of the meter, :func:`place_tables`): place 1
is the oven itself with its equipment type's power per state (idle or starved: belt running
empty; processing: belt carrying lots; blocked: belt stopped) plus the increment of the first lot;
place ``j > 1`` draws the increment of the ``j``-th lot while at least ``j`` lots ride the belt
(state processing) and nothing otherwise. So the station's power with ``k`` lots on a running belt
is ``P_processing + sum(increment[:k])``, exactly, and its processing time summed over the places
is the integral of the lots on the running belt (the station's utilization: mean lots on the belt
/ n; its other KPIs are the first place's, the machine's). While the belt is stopped the
increments stop (the lots have reached the oven's temperature).

Of the strategies' hooks a conveyor honours ``on_starved`` of its machine while its belt is empty
and it waits for work (smart standby sends an empty oven to its saving mode); it does not announce
its lots downstream (``on_process``) and has no scheduling gate (it cannot be ``deferrable``).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Generator

import numpy as np

from twin.config.plant import CARRIERS, Conveyor
from twin.equipment.machine import Machine
from twin.equipment.states import BLOCKED, PROCESSING, STARVED
from twin.production.flow import Flow
from twin.production.station import StationRuntime, put_now

INF = math.inf
EPS = 1e-9
"""Tolerance [s] on belt times (a lot due to leave at t leaves at t despite float rounding)."""


def place_tables(spec: Conveyor, body: np.ndarray) -> list[np.ndarray]:
    """Power tables [kW] (state x carrier) of the ``n`` places of a conveyor station.

    ``body`` is the equipment type's table (:func:`twin.equipment.states.power_table`). Place 1
    is ``body`` plus the first lot's increment when processing; place ``j > 1`` draws only the
    ``j``-th lot's increment, when processing."""
    n = spec.capacity
    tables = [body.copy()] + [np.zeros_like(body) for _ in range(n - 1)]
    for c, carrier in enumerate(CARRIERS):
        for j, kw in enumerate(spec.increments_kw(carrier)):
            tables[j][PROCESSING, c] += kw
    return tables


class BeltStats:
    """What a conveyor counts as it runs (for the KPIs)."""

    __slots__ = ("_t", "capacity", "lot_s", "lots", "stopped_s")

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.lots = 0
        """Lots on the belt now."""
        self.lot_s = 0.0
        """Integral of the lots on the belt over time up to the last change [lot s]."""
        self._t = 0.0
        self.stopped_s = 0.0
        """Time the belt stood still, blocked at its exit [s]."""

    def change(self, now: float, lots: int) -> None:
        """``lots`` are on the belt from ``now`` [s] on."""
        self.lot_s += self.lots * (now - self._t)
        self._t = now
        self.lots = lots

    def mean_lots(self, horizon_s: float) -> float:
        """Time-average of the lots on the belt over ``[0, horizon_s)`` (stops included) [-]."""
        area = self.lot_s + self.lots * (horizon_s - self._t)
        return area / horizon_s if horizon_s > 0 else 0.0


def convey(places: list[Machine], st: StationRuntime, spec: Conveyor, flow: Flow,
           targets: list[list], stats: BeltStats) -> Generator:
    """The life of a conveyor station (a SimPy process generator).

    ``places[0]`` is the machine (its states, breaks and maintenance); ``places[j]`` the meter row
    of the ``j+1``-th lot on the belt. ``targets[p][k]`` is the store that receives a lot of product
    ``p`` at route step ``k`` (``None``: the lot is finished)."""
    m = places[0]
    env = m.env
    timeout = env.timeout
    pitch, transit = spec.pitch_s, spec.transit_s
    buf = st.input
    assert buf is not None  # (checked when loading: a conveyor is not an assembly station)
    get, items, put_queue, get_queue = buf.get, buf.items, buf.put_queue, buf.get_queue
    units_per_lot = flow.units_per_lot
    processing_s = m.processing_s = [0.0] * len(st.process)
    for q in places:
        q.processing_s = processing_s  # place energy is shared among products like the oven's
        q.setup_s = [0.0] * len(st.process)
        q.set_state(STARVED)
    belt: deque = deque()  # (exit belt time [s], lot), in order of entry
    stopped = 0.0  # belt time = real time - stopped
    next_in = -INF  # belt time at which the next lot may enter
    hand: list | None = None  # a lot taken from the input, not yet on the belt
    on_belt: list = []  # the lots on the belt, in order (the queue figures' m.hand)
    m.hand = on_belt
    log = st.steps
    pending = None  # a get on the input not served yet

    while True:
        now = env.now
        n_lots = len(belt)
        if not belt and now >= m.check_at:  # the belt is empty: breaks, maintenance
            if pending is not None:
                if pending.triggered:
                    hand = pending.value
                else:
                    pending.cancel()
                pending = None
            yield from m.due()
            continue
        bnow = now - stopped
        # --- a lot leaves ------------------------------------------------------------------------
        if belt and belt[0][0] <= bnow + EPS:
            _, lot = belt.popleft()
            stats.change(now, n_lots - 1)
            places[n_lots - 1].set_state(STARVED)
            m.ideal_s += pitch  # OEE: the ideal cycle time is one pitch
            arrived, step = lot[6], lot[1]
            lot[1] = step + 1
            dest = targets[lot[0]][lot[1]]
            if dest is None:
                flow.complete(lot)
            elif put_now(dest, lot):
                lot[6] = now  # arrival at the next station (a put through SimPy stamps it)
            else:
                ev = dest.put(lot)
                if not ev.triggered:  # the next buffer is full: the belt stops
                    if pending is not None and not pending.triggered:
                        pending.cancel()
                        pending = None
                    for q in places:
                        q.set_state(BLOCKED)
                    yield ev
                    stopped += env.now - now
                    stats.stopped_s += env.now - now
                    for j, q in enumerate(places):
                        q.set_state(PROCESSING if j < n_lots - 1 else STARVED)
            # the lot has left the station: processed, its wait and stay in the queue figures
            on_belt.pop(0)
            m.busy_lots += 1
            m.busy_units += units_per_lot[lot[0]]
            m.waited_s += lot[8] - arrived
            m.stayed_s += env.now - arrived
            if log is not None:  # steps.parquet
                log.add(lot, step, st.index, m.index, arrived, now, env.now)
            continue
        # --- a lot enters ------------------------------------------------------------------------
        may_enter = now < m.check_at and bnow >= next_in - EPS
        if may_enter:
            if pending is not None and pending.triggered:
                hand, pending = pending.value, None
            if hand is None and pending is None:
                if items and not put_queue and not get_queue:
                    hand = items.pop(0)  # a get() that succeeds at once, less its event
                else:
                    ev = get()
                    if ev.triggered:
                        hand = ev.value
                    else:
                        pending = ev
            if hand is not None:
                hand[8] = now  # taken from the buffer: the queue figures' start
                on_belt.append(hand)
                stats.change(now, n_lots + 1)
                belt.append((bnow + transit, hand))
                next_in = bnow + pitch
                places[n_lots].set_state(PROCESSING)
                processing_s[hand[0]] += transit
                hand = None
                continue
        # --- wait for the next exit, the next entry, or a lot ------------------------------------
        wake = belt[0][0] + stopped if belt else INF
        if not may_enter and now < m.check_at:
            wake = min(wake, next_in + stopped)
        if pending is None or pending.triggered:
            # (a lot got while no lot may enter, e.g. at a shift end: it waits in ``pending``
            # until the belt may take it; waiting on it again would loop in zero time)
            yield timeout(max(wake - now, 0.0))
        elif wake == INF:  # an empty belt waiting for work: passive, like a starved machine
            m.passive = STARVED
            if m.on_starved is not None:  # e.g. smart standby: a saving mode while empty
                m.on_starved(pending)
            yield pending
            m.passive = 0
            if m.side is not None:  # a break began meanwhile (Machine.wake)
                yield m.side
        else:
            yield env.any_of([pending, timeout(max(wake - now, 0.0))])
