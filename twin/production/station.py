"""Stations at run time: one SimPy process per machine, looping over lots.

A machine takes a lot (or a batch, or the components of an assembly) from its station's input,
changes over when the product changes, processes it, then puts each lot into the buffer of its next
route step, waiting while that buffer is full (blocking after service). Failures strike after a
random amount of *processing* time and are repaired in a random time; the lot then resumes. At a
shift end a machine finishes the lot in hand or, with ``off_shift: interrupt``, suspends it until
the next shift. Between lots it does what is due (maintenance, shift breaks; see
:class:`~twin.equipment.machine.Machine`).

Strategies (:mod:`twin.strategies`) hook in through three attributes of the machine, each None
unless set: ``on_starved`` when it starts waiting for work (it may start a side process, e.g. a
saving mode, that the machine waits for once work has come), ``on_process`` when a lot starts
processing (with its drawn processing time), and ``monitor``, a condition monitor that may flag
a coming failure, upon which the machine is repaired as planned between lots; and through one
of the station runtime, ``gate`` (set with :meth:`StationRuntime.add_gate`), asked before each
start whether the lots in hand may start now or what event to wait for (flexible work held by
scheduling strategies). A held machine waits ready (idle) with its lots; a gate that knows when
the hold ends at the latest says so in ``m.hold_until``, and the machine's ``on_held`` hook, if
set, may start a side process (smart standby: a saving mode through a long hold, warmed up
again by its end), which the machine waits for once the hold is over.

Each lot carries the time it entered the station's buffer (``lot[6]``) and the time a machine took
it (``lot[8]``); when it leaves, the machine adds its wait and its stay to two sums, and
``m.hand`` holds the lots taken and not yet gone (the per-station queue figures,
:mod:`twin.production.queues`). With ``simulation.steps`` the machine also records a row per lot
leaving (:mod:`twin.production.steps`); without it, one test for None per lot.

The hot path avoids SimPy round trips where it can. A lot moves into or out of a buffer that nobody
waits on (no waiting getter, no waiting putter) without any SimPy event (:func:`put_now`, and a
plain ``items.pop(0)``): such an event would only be scheduled and processed later at the same time
to look for waiting processes, of which there are none. Otherwise the move goes through SimPy; a
get or put that succeeds at once is not yielded (SimPy processes the already-triggered event later
at the same time, which is what releases any waiting putter or getter).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Generator
from dataclasses import dataclass, field

import simpy

from twin.equipment.machine import Machine
from twin.equipment.states import BLOCKED, DOWN, IDLE, PROCESSING, SETUP, STARVED
from twin.production.flow import Flow
from twin.production.steps import StepLog

INF = math.inf
Sampler = Callable[[], float]


@dataclass
class StationRuntime:
    """What the machines of one station share."""

    id: str
    input: simpy.Store | None
    """Input buffer (None for an assembly station, which has one store per component)."""
    process: list[Sampler | None]
    """Processing-time sampler per product index (None: product does not visit)."""
    ideal_s: list[float]
    """Mean processing time per product [s] (the OEE ideal cycle time of a lot)."""
    setup: Sampler | None = None
    batch_size: int = 1
    interrupt: bool = False
    components: list[tuple[simpy.Store, int]] | None = None
    """Assembly: (component store, lots per assembly) for each component."""
    assembles: int = -1
    """Assembly: product index made."""
    machines: list[Machine] = field(default_factory=list)
    index: int = 0
    """Position of the station in the plant (``steps.parquet``'s station codes)."""
    steps: StepLog | None = None
    """Where the machines record each lot leaving (``simulation.steps``); None: not kept."""
    gate: Callable[[Machine, list[list]], simpy.Event | None] | None = None
    """Scheduling hook (:mod:`twin.strategies`): asked, with the machine and the lots in hand,
    before each start; returns None to start now, or an event after which it is asked again. The
    machine waits ready (idle) meanwhile, and the lots' ``held_s`` grows. None: start at once.
    Set it with :meth:`add_gate`, which keeps the gates already in force."""

    def add_gate(self, gate: Callable[[Machine, list[list]], simpy.Event | None]) -> None:
        """Add a scheduling hook; with several, a lot starts when every one allows it (they are
        asked in the order added; the first that holds gives the event to wait for)."""
        first = self.gate
        if first is None:
            self.gate = gate
            return

        def both(m: Machine, lots: list[list]) -> simpy.Event | None:
            ev = first(m, lots)
            return ev if ev is not None else gate(m, lots)

        self.gate = both


class Buffer(simpy.Store):
    """A station's input buffer: a FIFO :class:`simpy.Store` that stamps each lot put through
    SimPy with the time it enters (``lot[6]``, its arrival at the station), also when the put
    waited for room. :func:`put_now` and the machines stamp the lots they move themselves."""

    def __init__(self, env: simpy.Environment, capacity: float = INF):
        super().__init__(env, capacity)
        # SimPy binds put and get to the instance only when the class itself defines them
        # (BoundClass.bind_early); bind the inherited ones too, or every put and get of a
        # subclass goes through the descriptor (a new bound method per call).
        for name in ("put", "get"):
            setattr(self, name, simpy.Store.__dict__[name].__get__(self, Buffer))

    def _do_put(self, event: simpy.resources.store.StorePut) -> bool | None:
        if len(self.items) < self._capacity:
            event.item[6] = self._env._now
            self.items.append(event.item)
            event.succeed()
        return None


def put_now(store: simpy.Store, lot: list) -> bool:
    """Put ``lot`` into ``store`` now, without an event, if nobody waits on the store and it has
    room; return False, and do nothing, otherwise.

    This is what ``store.put(lot)`` does in that case, less the event that SimPy would schedule,
    and process later at the same time, only to serve waiting getters, of which there are none."""
    if not store.get_queue and not store.put_queue and len(store.items) < store.capacity:
        store.items.append(lot)
        return True
    return False


def operate(m: Machine, st: StationRuntime, flow: Flow, targets: list[list[simpy.Store | None]],
            ttf: Sampler | None, ttr: Sampler | None) -> Generator:
    """The life of one machine of station ``st`` (a SimPy process generator).

    ``targets[p][k]`` is the store that receives a lot of product ``p`` at route step ``k``
    (``None``: the lot is finished). ``ttf``/``ttr`` draw times to failure and to repair [s]."""
    env = m.env
    timeout = env.timeout
    set_state = m.set_state
    cal = m.calendar
    process, ideal, setup = st.process, st.ideal_s, st.setup
    batch_size, interrupt, components = st.batch_size, st.interrupt, st.components
    buf = st.input
    get = buf.get if buf is not None else None
    items = buf.items if buf is not None else []
    put_queue = buf.put_queue if buf is not None else []
    get_queue = buf.get_queue if buf is not None else []
    units_per_lot = flow.units_per_lot
    processing_s = m.processing_s = [0.0] * len(process)
    setup_s = m.setup_s = [0.0] * len(process)
    segmented = ttf is not None or interrupt
    ttf_left = ttf() if ttf is not None else INF
    mon = m.monitor if ttf is not None else None
    flag_at = mon.new_life(ttf_left) if mon is not None else -1.0
    last_product = -1
    log = st.steps
    while True:
        # a predicted failure: planned repair between lots, when the monitor finds it convenient
        if ttf_left <= flag_at and (yield from mon.repair(ttr)):  # type: ignore[union-attr,arg-type]
            ttf_left = ttf()  # type: ignore[misc]
            flag_at = mon.new_life(ttf_left)  # type: ignore[union-attr]
        if env.now >= m.check_at:
            yield from m.due()
        # --- take work -------------------------------------------------------------------------
        if components is None:
            if items and not put_queue and not get_queue:
                lot = items.pop(0)  # a get() that succeeds at once, less its event
            else:
                ev = get()  # type: ignore[misc]
                if ev.triggered:
                    lot = ev.value
                else:
                    set_state(STARVED)
                    m.passive = STARVED
                    if m.on_starved is not None:
                        m.on_starved(ev)
                    lot = yield ev
                    m.passive = 0
                    if m.side is not None:
                        yield m.side
            lots = [lot]
            lot[8] = env._now  # started: taken from the buffer (env.now, less the property call)
            m.hand = lots
        else:
            parts = []
            for store, qty in components:
                for _ in range(qty):
                    ev = store.get()
                    if ev.triggered:
                        parts.append(ev.value)
                    else:
                        set_state(STARVED)
                        m.passive = STARVED
                        if m.on_starved is not None:
                            m.on_starved(ev)
                        parts.append((yield ev))
                        m.passive = 0
                        if m.side is not None:
                            yield m.side
            lot = flow.assemble(st.assembles, parts)
            lot[6] = max(part[6] for part in parts)  # a kit arrives with its last component
            lot[8] = env.now
            lots = [lot]
            m.hand = lots
        if st.gate is not None:  # a strategy may hold the start (flexible work)
            held_from = env.now
            while True:
                m.hold_until = INF
                hold = st.gate(m, lots)
                if hold is None:
                    break
                if m.side is None:  # (a side process may keep it in a saving mode meanwhile)
                    set_state(IDLE)
                if m.on_held is not None:
                    m.on_held(hold)
                yield hold
                if env.now >= m.check_at:
                    if m.side is not None:  # it ends at the shift end or maintenance too
                        yield m.side
                    yield from m.due()
            if m.side is not None and m.on_held is not None:  # the hold is over: e.g. warm
                m.on_held(None)  # up from a saving mode first
                yield m.side
            for held in lots:
                held[3] += env.now - held_from
        if components is None:
            while len(lots) < batch_size and items:
                # A lot in the buffer may already be promised to another machine of the station
                # that waits for work (its get is served when SimPy processes the put): then it
                # goes there, and this batch stays smaller.
                ev = get()  # type: ignore[misc]
                if not ev.triggered:
                    ev.cancel()
                    break
                ev.value[8] = env.now
                lots.append(ev.value)
        if env.now >= m.check_at:
            yield from m.due()
        # --- change over, process ----------------------------------------------------------------
        p = lot[0]
        if setup is not None and p != last_product and last_product >= 0:
            set_state(SETUP)
            t_setup = setup()
            setup_s[p] += t_setup
            yield timeout(t_setup)
        last_product = p
        set_state(PROCESSING)
        d = process[p]()  # type: ignore[misc]
        processing_s[p] += d
        if m.on_process is not None:
            m.on_process(lots, d)
        if not segmented:
            yield timeout(d)
        else:
            shift_end = cal.window_end(env.now) if interrupt else INF
            while True:
                seg, cause = d, 0
                if ttf_left < seg:
                    seg, cause = ttf_left, 1
                if shift_end - env.now < seg:
                    seg, cause = max(shift_end - env.now, 0.0), 2
                if seg > 0:
                    yield timeout(seg)
                d -= seg
                ttf_left -= seg
                if cause == 0:
                    break
                if cause == 1:
                    set_state(DOWN)
                    yield timeout(ttr())  # type: ignore[misc]
                    ttf_left = ttf()  # type: ignore[misc]
                    if mon is not None:
                        flag_at = mon.new_life(ttf_left)
                if interrupt and env.now >= shift_end:
                    yield from m.due()
                    shift_end = cal.window_end(env.now) if interrupt else INF
                set_state(PROCESSING)
        m.busy_lots += len(lots)
        for lot in lots:
            m.busy_units += units_per_lot[lot[0]]
        m.ideal_s += ideal[p]
        # --- hand on -----------------------------------------------------------------------------
        # Each lot leaving counts its wait (arrival to start) and its stay (arrival to leaving);
        # lot[6] becomes its arrival at the next buffer (a put through SimPy stamps it there).
        now = finished = env._now
        for lot in lots:
            lot[1] += 1
            dest = targets[lot[0]][lot[1]]
            arrived = lot[6]
            if dest is None:
                flow.complete(lot)
            elif put_now(dest, lot):
                lot[6] = now
            else:
                ev = dest.put(lot)
                if not ev.triggered:
                    # processed, not yet left: a tuple (lots taken, not processed: a list)
                    m.hand = tuple(lots[lots.index(lot):])  # (lots differ: lot[7] is unique)
                    set_state(BLOCKED)
                    m.passive = BLOCKED
                    yield ev
                    now = env.now
                    m.hand = m.hand[1:]
                    m.waited_s += lot[8] - arrived
                    m.stayed_s += now - arrived
                    if log is not None:
                        log.add(lot, st.index, m.index, arrived, finished, now)
                    m.passive = 0
                    if m.side is not None:
                        yield m.side
                        now = env.now
                    continue
            m.waited_s += lot[8] - arrived
            m.stayed_s += now - arrived
            if log is not None:  # steps.parquet, when asked for
                log.add(lot, st.index, m.index, arrived, finished, now)
        m.hand = ()
