"""Stations at run time: one SimPy process per machine, looping over lots.

A machine takes a lot (or a batch, or the components of an assembly) from its station's input,
changes over when the product changes, processes it, then puts each lot into the buffer of its next
route step, waiting while that buffer is full (blocking after service). Failures strike after a
random amount of *processing* time and are repaired in a random time; the lot then resumes. At a
shift end a machine finishes the lot in hand or, with ``off_shift: interrupt``, suspends it until
the next shift. Between lots it does what is due (maintenance, shift breaks; see
:class:`~twin.equipment.machine.Machine`). A station whose machines need shared operators or tools
(``needs``) takes them before its changeover or processing and gives them back after
(:mod:`twin.production.resources`). Optional per station, each decided once before the
loop: changeovers by product pair (``setup_pairs``), a yield check after processing that reworks
or scraps a lot (``quality``, :mod:`twin.production.quality`), and periodic setups and cleaning
after a lot is handed on (``cleaning``, :mod:`twin.production.cleaning`), and sequence feeding
of a continuous station (``sequence``, :mod:`twin.production.sequence`): a lot that comes too late
starts a new sequence after a restart.

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
again by its end), which the machine waits for once the hold is over. With ``on_held`` set, the
hook, not the loop, puts a held machine in its state (ready, or still asleep: a machine asleep
when its lot came asks the gate before it warms up), and is told with None when the lots may
start, whether they were held or not.

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
from typing import Any

import simpy

from twin.equipment.machine import Machine
from twin.equipment.states import BLOCKED, DOWN, IDLE, PROCESSING, SETUP, STARVED
from twin.production.cleaning import Cleaner, CleaningTask
from twin.production.flow import Flow
from twin.production.quality import SCRAP, QualityGate
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
    """Changeover time sampler (also set, as a fallback or zero, when ``setup_pairs`` is)."""
    setup_pairs: list[list[Sampler | None]] | None = None
    """Changeover time sampler by (previous product, product) index (None in a cell: no
    changeover); None: ``setup`` for every change."""
    batch_size: int = 1
    interrupt: bool = False
    components: list[tuple[simpy.Store, int]] | None = None
    """Assembly: (component store, lots per assembly) for each component."""
    assembles: int = -1
    """Assembly: product index made."""
    machines: list[Machine] = field(default_factory=list)
    needs: Any = None
    """The shared resources its machines need (:class:`~twin.production.resources.Needs`);
    None: none."""
    belt: Any = None
    """A conveyor station's :class:`~twin.production.conveyor.BeltStats` (None: not a conveyor);
    its ``machines`` are then the places on the belt, the first one the machine."""
    cleaning: list[CleaningTask] | None = None
    """Periodic setups and cleaning (:mod:`twin.production.cleaning`); None: none."""
    cleaners: list[Cleaner] = field(default_factory=list)
    """The cleaning counters of each machine (filled when the machines start)."""
    quality: QualityGate | None = None
    """Yield check after processing (:mod:`twin.production.quality`); None: all lots good."""
    index: int = 0
    """Position of the station in the plant (``steps.parquet``'s station codes)."""
    steps: StepLog | None = None
    """Where the machines record each lot leaving (``simulation.steps``); None: not kept."""
    gate: Callable[[Machine, list[list]], simpy.Event | None] | None = None
    """Scheduling hook (:mod:`twin.strategies`): asked, with the machine and the lots in hand,
    before each start; returns None to start now, or an event after which it is asked again. The
    machine waits ready (idle) meanwhile, and the lots' ``held_s`` grows. None: start at once.
    Set it with :meth:`add_gate`, which keeps the gates already in force."""
    switch_on: Any = None
    """The switch-on threshold (:class:`twin.production.switch_on.SwitchOnGate`), None without."""
    programmes: Any = None
    """The power programmes of its products (:class:`twin.production.programme.StationProgrammes`);
    None: the plain processing power (nothing to do per lot)."""
    sequence: Any = None
    """Sequence feeding (:class:`twin.production.sequence.SequenceFeed`), None without."""

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
    programmes = st.programmes  # power programmes: each stretch of processing is metered by phase
    segmented = ttf is not None or interrupt or programmes is not None
    ttf_left = ttf() if ttf is not None else INF
    mon = m.monitor if ttf is not None else None
    flag_at = mon.new_life(ttf_left) if mon is not None else -1.0
    last_product = -1
    needs = st.needs  # shared resources (twin.production.resources), None: none
    for_setup = needs is not None and needs.for_setup
    for_process = needs is not None and needs.for_process
    pairs = st.setup_pairs
    quality = st.quality
    cleaner = None
    if st.cleaning is not None:
        cleaner = Cleaner(m, st.cleaning)
        st.cleaners.append(cleaner)
    log = st.steps
    seq = st.sequence  # sequence feeding (twin.production.sequence), None: none
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
                if m.on_held is not None:  # it decides the state (ready, or a saving mode)
                    m.on_held(hold)
                elif m.side is None:
                    set_state(IDLE)
                yield hold
                if env.now >= m.check_at:
                    if m.side is not None:  # it ends at the shift end or maintenance too
                        yield m.side
                    yield from m.due()
            held_s = env.now - held_from
            if m.on_held is not None:  # the lots may start: e.g. warm up from a saving mode
                m.on_held(None)  # first (a machine asleep when the lot came asks the gate
                if m.side is not None:  # before it wakes)
                    yield m.side
                    if held_s > 0:  # a warm-up after a hold counts as held
                        held_s = env.now - held_from
            for held in lots:
                held[3] += held_s
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
        if seq is not None and not seq.keeps(env._now):  # a new sequence: restart first
            yield from seq.restart(m, lot)
        if setup is not None and p != last_product and last_product >= 0 and (
                draw := setup if pairs is None else pairs[last_product][p]) is not None:
            if for_setup:  # shared resources held from the changeover on
                yield from needs.seize(m)  # type: ignore[union-attr]
            set_state(SETUP)
            t_setup = draw()
            setup_s[p] += t_setup
            yield timeout(t_setup)
            if for_process and not for_setup:
                yield from needs.seize(m)  # type: ignore[union-attr]
            elif for_setup and not for_process:
                needs.release()  # type: ignore[union-attr]
        elif for_process:  # shared resources held while processing
            yield from needs.seize(m)  # type: ignore[union-attr]
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
            total = d
            while True:
                seg, cause = d, 0
                if ttf_left < seg:
                    seg, cause = ttf_left, 1
                if shift_end - env.now < seg:
                    seg, cause = max(shift_end - env.now, 0.0), 2
                if seg > 0:
                    if programmes is not None:  # the phases of this stretch, no events
                        programmes.run(m.index, p, env._now, total - d, seg, total)
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
        if for_process:
            needs.release()  # type: ignore[union-attr]
        m.busy_lots += len(lots)
        for lot in lots:
            m.busy_units += units_per_lot[lot[0]]
        m.ideal_s += ideal[p]
        # --- hand on -----------------------------------------------------------------------------
        # Each lot leaving counts its wait (arrival to start) and its stay (arrival to leaving);
        # lot[6] becomes its arrival at the next buffer (a put through SimPy stamps it there).
        now = finished = env._now
        if seq is not None:
            seq.last_finish = finished
        for lot in lots:
            arrived = lot[6]
            step = lot[1]
            if quality is None:
                lot[1] = step + 1
            else:
                k = quality.judge(lot)  # the next step: on, back for rework, or SCRAP
                if k == SCRAP:
                    flow.scrap(lot)  # it leaves the station (and the plant) now
                    m.waited_s += lot[8] - arrived
                    m.stayed_s += now - arrived
                    if log is not None:
                        log.add(lot, step, st.index, m.index, arrived, finished, now)
                    continue
                lot[1] = k
            dest = targets[lot[0]][lot[1]]
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
                        log.add(lot, step, st.index, m.index, arrived, finished, now)
                    m.passive = 0
                    if m.side is not None:
                        yield m.side
                        now = env.now
                    continue
            m.waited_s += lot[8] - arrived
            m.stayed_s += now - arrived
            if log is not None:  # steps.parquet, when asked for
                log.add(lot, step, st.index, m.index, arrived, finished, now)
        m.hand = ()
        if cleaner is not None:  # periodic setups and cleaning, when due
            yield from cleaner.after(len(lots))
