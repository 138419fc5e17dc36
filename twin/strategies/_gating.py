"""Shared logic of the scheduling strategies that hold flexible work (tou_shifting, pv_following,
peak_shaving, carbon_aware).

A *flexible start* is the start of a lot at a deferrable station (formation/aging, ovens,
charging). Each such strategy sets the station's ``gate`` hook
(:attr:`twin.production.station.StationRuntime.gate`); when a machine has taken a lot and is ready
to start it, the gate decides, in this order:

1. **The strategy's own rule** (:meth:`FlexibleStart.decide`): start now, or a time or an event
   to wait for. If it says start, the lot starts.
2. **Due date.** The lot's *latest start* is the latest time from which the expected
   processing still to do from this station until the order is finished (the mean processing time
   of each remaining station, and for a component also the route of the product it is assembled
   into) fits in the working windows before the due date of its order (off-shift nights and
   weekends do not count), minus ``slack_margin_h``; it is brought forward by the rounds the
   station needs for the lots queued behind (:meth:`FlexibleStart.latest_start`). At or after it
   the lot starts (with ``respect_due_dates``). Queueing downstream, changeovers and failures are
   not in the estimate: that is what the margin is for.
3. **Buffer.** With ``release_when_buffer_full`` the lot starts when the station's input buffer is
   full or a lot waits to enter it: holding longer would block upstream.
4. **Sequence.** With ``sequences: keep`` (default) and a station downstream on the lot's route
   that casts in sequences (:mod:`twin.production.sequence`), the lot starts at the latest time
   from which it can still reach that station within its window, less ``sequence_margin_min``
   (:meth:`FlexibleStart.sequence_latest`); a steel-shop engineer holds a heat for the tariff
   only when the caster need not break its sequence for it, or when the sequence ends at its
   length anyway (the tundish change then falls into the hold). ``sequences: ignore`` holds
   regardless: each break then costs its restart, which a study prices against the saving.

Holding is event-driven: the machine waits, ready (idle), for the earliest of the strategy's wake
(a TOU period change, an interval with low grid intensity, a drop of site power), the latest start,
a change of the station's queue (a lot with a due date joins it, it fills, or a lot is blocked at
the full buffer) and the machine's next shift end or maintenance; then the gate is asked again.
The time the hold ends at the latest (all of these but the events) goes to ``m.hold_until``, so
that smart standby can let a held machine sleep through a long hold and warm it up by its end.
A look costs O(queued lots, at most QUEUE_LOOK) plus the strategy's own look-ahead.

Every hold is counted: lots held, machine-hours held, starts deferred, and why each hold ended
(``released_by``: the strategy's signal, the due date, the full buffer). Holding a lot adds to its
``held_h`` in ``lots.parquet``.
"""

from __future__ import annotations

import heapq
import math
from typing import TYPE_CHECKING, Any, Literal

import simpy
from pydantic import Field

from twin.config.base import Id
from twin.config.errors import ConfigIssue
from twin.equipment.states import IDLE, OFF, PROCESSING, STANDBY, WARM_UP
from twin.production.buffer_watch import watch_appends
from twin.strategies import Strategy, StrategyParams

if TYPE_CHECKING:
    from twin.config.plant import Plant
    from twin.engine import Model
    from twin.equipment.machine import Machine
    from twin.production.station import StationRuntime

INF = math.inf
QUEUE_LOOK = 500
"""Queued lots looked at for the latest start (the cost of a look is O(this))."""


class FlexibleParams(StrategyParams):
    """Parameters every flexible-start strategy shares."""

    stations: list[Id] | None = Field(
        None, description="Stations whose starts may be held; default: every station flagged "
        "'deferrable: true' in the plant file.")
    respect_due_dates: bool = Field(
        True, description="Start a lot at its latest start (due date minus the expected "
        "processing still to do, minus slack_margin_h), however the signal stands.")
    slack_margin_h: float = Field(
        0.0, ge=0, description="Safety margin before the latest start [h] (queueing downstream, "
        "changeovers, failures are not in the estimate).")
    release_when_buffer_full: bool = Field(
        True, description="Start when the station's input buffer is full or a lot waits to "
        "enter it (holding would block upstream).")
    sequences: Literal["keep", "ignore"] = Field(
        "keep", description="A station downstream that casts in sequences ('sequence' in the "
        "plant file: a caster): 'keep' holds a lot only as long as it can still reach that "
        "station within its sequence window (expected processing on the way, lots ahead of it), "
        "so a hold never breaks a sequence; 'ignore' holds regardless, and each break costs the "
        "restart (setup, preheating energy, yield loss). No effect without such a station.")
    sequence_margin_min: float = Field(
        15.0, ge=0, description="With sequences 'keep': release a held lot this long before "
        "the estimated last moment that keeps the sequence [min] (the estimate uses mean times; "
        "spread on the way would otherwise break about every other sequence held to the edge).")


def station_ids(plant: Plant, params: FlexibleParams) -> list[str]:
    """The stations a flexible-start strategy gates: the listed ones, else the deferrable ones."""
    if params.stations is not None:
        return list(params.stations)
    return [s.id for _, _, s in plant.stations() if s.deferrable]


def check_stations(params: FlexibleParams, plant: Plant, name: str) -> list[ConfigIssue]:
    """Unknown station ids, or no station to gate, as config issues (paths relative to the
    strategy entry)."""
    from twin.config.checks import _hint

    known = [s.id for _, _, s in plant.stations()]
    issues: list[ConfigIssue] = []
    if params.stations is None:
        if not station_ids(plant, params):
            issues.append(ConfigIssue(
                "stations", f"strategy '{name}' has no stations to hold: none is given and no "
                "station is flagged 'deferrable: true'; expected 'stations: [id, ...]' or "
                "'deferrable: true' on the flexible stations (formation, ovens, charging)"))
        return issues
    if not params.stations:
        issues.append(ConfigIssue("stations", "expected at least one station id", [], True))
    for k, sid in enumerate(params.stations):
        if sid not in known:
            issues.append(ConfigIssue(f"stations[{k}]",
                                      f"unknown station; {_hint(sid, known, 'station')}", sid,
                                      True))
    return issues


def work_to_finish(plant: Plant, runtimes: list[StationRuntime]) -> list[list[float]]:
    """``out[p][k]``: expected processing still to do [s] for a lot of product ``p`` at route step
    ``k`` until its order is finished: the mean processing time of each remaining station of its
    route and, for a component, of the route of the product it is assembled into (whose first
    step is the assembly), recursively:

        W(p, k) = sum_{j >= k} m_j(p) + W(parent(p), 0)   (no parent: the last term is 0)

    Queueing, changeovers and failures are not included."""
    mean = {rt.id: rt.ideal_s for rt in runtimes}
    pidx = {p.id: k for k, p in enumerate(plant.products)}
    parent = {c: p.id for p in plant.products for c in p.components}
    memo: dict[str, list[float]] = {}

    def work(pid: str) -> list[float]:
        if pid not in memo:
            route = plant.products[pidx[pid]].route
            steps = [mean[sid][pidx[pid]] for sid in route]
            after = work(parent[pid])[0] if pid in parent else 0.0
            memo[pid] = [sum(steps[k:]) + after for k in range(len(route))]
        return memo[pid]

    return [work(p.id) for p in plant.products]


def sequence_paths(model: Model, gated: list[StationRuntime]
                   ) -> dict[tuple[str, int, int], tuple[StationRuntime, list[StationRuntime],
                                                          float]]:
    """For each gated station, product and route step at it: the first station after it on the
    route that casts in sequences, the stations between, and the mean processing time of the
    lot from its start here to its arrival there [s] (here and at the stations between). Empty
    when no station has a sequence (the gate then never looks)."""
    by_id = {rt.id: rt for rt in model.stations}
    out: dict[tuple[str, int, int], tuple[StationRuntime, list[StationRuntime], float]] = {}
    if not any(rt.sequence is not None for rt in model.stations):
        return out
    ids = {rt.id for rt in gated}
    for p, prod in enumerate(model.plant.products):
        for k, sid in enumerate(prod.route):
            if sid not in ids:
                continue
            travel = by_id[sid].ideal_s[p]
            between: list[StationRuntime] = []
            for nxt in prod.route[k + 1:]:
                rt = by_id[nxt]
                if rt.sequence is not None:
                    out[(sid, p, k)] = (rt, between, travel)
                    break
                between.append(rt)
                travel += rt.ideal_s[p]
    return out


class _PowerWatch:
    """Events that fire when the site electric power falls to or below a threshold.

    Hooked on :attr:`twin.metering.SiteLoad.on_change` (one comparison per state change while
    nobody waits; O(log n) per waiter)."""

    def __init__(self, env: simpy.Environment, site: Any):
        self.env = env
        self._heap: list[tuple[float, int, simpy.Event]] = []  # (-threshold, seq, event)
        self._seq = 0
        prev = site.on_change

        def changed(kw: float) -> None:
            if prev is not None:
                prev(kw)
            heap = self._heap
            while heap and kw <= -heap[0][0] + 1e-9:
                ev = heapq.heappop(heap)[2]
                if not ev.triggered:
                    ev.succeed()

        site.on_change = changed

    def below(self, threshold_kw: float) -> simpy.Event:
        """An event that fires when the site power falls to ``threshold_kw`` [kW] or below."""
        ev = self.env.event()
        self._seq += 1
        heapq.heappush(self._heap, (-threshold_kw, self._seq, ev))
        return ev


def power_watch(model: Model) -> _PowerWatch:
    """The model's site-power watch (one per model, shared by the strategies)."""
    watch = getattr(model, "_power_watch", None)
    if watch is None:
        if model.signals is None or model.signals._site is None:
            raise RuntimeError("site power is not tracked in this model")
        watch = _PowerWatch(model.env, model.signals._site)
        model._power_watch = watch  # type: ignore[attr-defined]
    return watch


class _StationWatch:
    """An event per gated station that fires when its queue changes in a way that may end a
    hold: a lot with a due date joins the queue (the latest start may come earlier), the buffer
    fills, or a lot cannot enter the full buffer (upstream is blocked)."""

    def __init__(self, env: simpy.Environment, stores: list[simpy.Store]):
        self.env = env
        self.stores = stores
        self.event: simpy.Event | None = None
        self.finite = [s for s in stores if s.capacity != INF]
        for store in stores:
            cap = store.capacity

            def appended(lot: Any, _store: simpy.Store = store, _cap: float = cap) -> None:
                ev = self.event
                if ev is not None and not ev.triggered and (
                        lot[4] != INF or len(_store.items) >= _cap):
                    ev.succeed()

            watch_appends(store, appended)
        for store in self.finite:
            put = store.put

            def watched(item: Any, _put: Any = put) -> simpy.Event:
                ev = _put(item)
                if not ev.triggered and self.event is not None and not self.event.triggered:
                    self.event.succeed()
                return ev

            store.put = watched  # type: ignore[method-assign]

    def full(self) -> bool:
        """A finite buffer is full, or a lot waits to enter it."""
        return any(s.put_queue or len(s.items) >= s.capacity for s in self.finite)

    def changed(self) -> simpy.Event:
        """The event of the next such change (shared by all machines holding here)."""
        if self.event is None or self.event.triggered:
            self.event = self.env.event()
        return self.event


class FlexibleStart(Strategy):
    """Base of the strategies that hold flexible starts; subclasses give :meth:`decide`."""

    reads_storage = False  # reads no state of charge: the EMS may settle after the run

    Params = FlexibleParams
    params: FlexibleParams

    @classmethod
    def check(cls, plant: Plant, params: StrategyParams) -> list[ConfigIssue]:
        assert isinstance(params, FlexibleParams)
        return check_stations(params, plant, cls.name)

    def install(self, model: Model) -> None:
        """Gate the chosen stations (see the module doc)."""
        self.model = model
        self.env = model.env
        self.signals = model.signals
        self.margin_s = self.params.slack_margin_h * 3600.0
        self.work = work_to_finish(model.plant, model.stations)
        ids = set(station_ids(model.plant, self.params))
        self.runtimes = [rt for rt in model.stations if rt.id in ids]
        self.lots_held = 0
        self.starts_deferred = 0
        self.hold_s = 0.0
        self.released_by = {"signal": 0, "due_date": 0, "buffer_full": 0}
        self.forced_starts = {"due_date": 0, "buffer_full": 0}
        self._held_since: dict[int, float] = {}  # machine index -> start of its current hold
        self._seq_paths = sequence_paths(model, self.runtimes) if (
            self.params.sequences == "keep") else {}
        if self._seq_paths:  # a sequence to keep: its releases are counted (reported) apart
            self.released_by["sequence"] = 0
            self.forced_starts["sequence"] = 0
        self.prepare(model)
        for rt in self.runtimes:
            stores = ([rt.input] if rt.input is not None
                      else [s for s, _ in (rt.components or [])])
            watch = getattr(rt, "_watch", None)  # one per station, shared by strategies
            if watch is None:
                watch = _StationWatch(model.env, stores)
                rt._watch = watch  # type: ignore[attr-defined]
            rt.add_gate(self._gate_for(rt, watch))

    def prepare(self, model: Model) -> None:
        """Per-run set-up of a subclass (tables for its look-ahead); called by :meth:`install`."""

    def decide(self, now: float, m: Machine, rt: StationRuntime, lots: list[list],
               latest: float) -> float | simpy.Event:
        """The strategy's rule for a ready machine ``m`` with ``lots`` in hand at ``now`` [s]:
        a time <= now to start now, a later time [s] to wait until, or an event to wait for.
        ``latest`` is the latest start of the lots (``inf`` without due dates)."""
        raise NotImplementedError

    @staticmethod
    def extra_kw(m: Machine) -> float:
        """Electric power a start adds to the site: processing minus idle (ready), or minus the
        saving mode or warm-up it is in (smart standby through a hold) [kW]."""
        rows = m.power_rows  # as written: a programme's phases average to its processing power
        now = m.state if m.state in (STANDBY, OFF, WARM_UP) else IDLE
        return rows[PROCESSING][0] - rows[now][0]

    def latest_start(self, lots: list[list], rt: StationRuntime) -> float:
        """Latest start [s] of the lots in hand, so that they and the lots queued behind them
        can meet their due dates.

        A lot's own latest start is the latest time from which the work still to do
        (:func:`work_to_finish`) fits in the working windows before its due date
        (:meth:`~twin.calendar.ShiftCalendar.latest_start`: nights and weekends off shift do
        not count). The station serves its queue first come, first served, ``c``
        machines x ``b`` lots a round: the lot at queue position j (0 = the first in the buffer)
        starts no earlier than ``j // (c b) + 1`` rounds after the lots in hand (a round: the mean
        processing time of the lot in hand here). So the lots in hand must start by
        ``min(own latest of the lots in hand, min_j own latest(j) - rounds(j) * round)``; the
        ``b - len(lots)`` first queued lots join this start's batch (0 rounds). At most
        :data:`QUEUE_LOOK` queued lots are looked at."""
        work = self.work
        cal = self.model.calendar
        t = INF
        for lot in lots:
            if lot[4] != INF:
                t = min(t, cal.latest_start(lot[4], work[lot[0]][lot[1]]))
        if rt.input is not None and rt.input.items:
            per_round = len(rt.machines) * rt.batch_size
            round_s = rt.ideal_s[lots[0][0]]
            items = rt.input.items
            joining = rt.batch_size - len(lots)
            for j in range(min(len(items), QUEUE_LOOK)):
                lot = items[j]
                if lot[4] != INF:
                    ahead = j - joining
                    rounds = 0 if ahead < 0 else ahead // per_round + 1
                    t = min(t, cal.latest_start(lot[4],
                                                work[lot[0]][lot[1]] + rounds * round_s))
        return t - self.margin_s

    def _gate_for(self, rt: StationRuntime, watch: _StationWatch) -> Any:
        env = self.env
        respect = self.params.respect_due_dates
        buffer_rule = self.params.release_when_buffer_full and bool(watch.finite)

        def gate(m: Machine, lots: list[list]) -> simpy.Event | None:
            now = env.now
            latest = self.latest_start(lots, rt) if respect else INF
            wake = self.decide(now, m, rt, lots, latest)
            if not isinstance(wake, simpy.Event) and wake <= now:
                return self._release(m, "signal")
            if now >= latest:
                return self._release(m, "due_date")
            if buffer_rule and watch.full():
                return self._release(m, "buffer_full")
            if self._seq_paths:  # hold only while the sequence downstream can still be fed
                keep_by = self.sequence_latest(now, rt, lots)
                if now >= keep_by - 1e-6:
                    return self._release(m, "sequence")
                latest = min(latest, keep_by)
            if m.index not in self._held_since:
                self._held_since[m.index] = now
                self.starts_deferred += 1
                self.lots_held += len(lots)
            until = min(latest, m.check_at, self.model.horizon_s)
            if not isinstance(wake, simpy.Event):
                until = min(until, wake)
            m.hold_until = min(m.hold_until, until)  # the hold ends by then (smart standby)
            waits: list[simpy.Event] = []
            if until < INF:  # check_at may be past: then the machine does what is due first
                waits.append(env.timeout(max(until - now, 0.0)))
            if isinstance(wake, simpy.Event):
                waits.append(wake)
            if buffer_rule or respect:
                waits.append(watch.changed())
            if not waits:  # nothing will ever change: wait for the end of the run
                return env.event()
            return waits[0] if len(waits) == 1 else env.any_of(waits)

        return gate

    def sequence_latest(self, now: float, rt: StationRuntime, lots: list[list]) -> float:
        """Latest start [s] of the lots in hand at ``rt`` that still lets them reach the first
        station with a sequence on their route within its window
        (:meth:`twin.production.sequence.SequenceFeed.feed_by`): the time that station runs dry
        (its lot in hand, then the lots on the way to it: in its buffer and at the stations
        between, each at its mean time there) plus its window, less the mean processing still
        to do before it (here and at the stations between), less ``sequence_margin_min``;
        ``inf`` without such a station or sequence, or when even a start now comes too late (the
        sequence breaks whatever the hold). An estimate: queueing and changeovers on the way
        are not in it (the margin covers their spread)."""
        lot = lots[0]
        path = self._seq_paths.get((rt.id, lot[0], lot[1]))
        if path is None:
            return INF
        seq_rt, between, travel_s = path
        ahead = len(seq_rt.input.items) if seq_rt.input is not None else 0
        for b in between:
            ahead += len(b.input.items) if b.input is not None else 0
            ahead += sum(len(bm.hand) for bm in b.machines)
        busy = bool(seq_rt.machines[0].hand)
        keep_by = seq_rt.sequence.feed_by(now, busy, ahead, seq_rt.ideal_s[lot[0]]) - travel_s
        if now > keep_by + 1e-6:
            return INF  # too late even now: nothing left to keep
        return keep_by - self.params.sequence_margin_min * 60.0

    def _release(self, m: Machine, why: str) -> None:
        """Start now; ``why``: 'signal' (the strategy's rule allows it), 'due_date' or
        'buffer_full' (the rule would hold it, but holding would miss a due date or block
        upstream: a forced start)."""
        since = self._held_since.pop(m.index, None)
        if since is not None:
            self.hold_s += self.env.now - since
            self.released_by[why] += 1
        if why != "signal":
            self.forced_starts[why] += 1
        return None

    def report(self, model: Model) -> dict[str, Any]:
        """Lots held, machine-hours held, starts deferred, why holds ended (``released_by``),
        starts the rule would have held but due dates or a full buffer forced (``forced_starts``,
        held before or not), and the held lots that finished after their due date (held by any
        strategy: ``held_h`` > 0 in lots.parquet)."""
        still = sum(model.horizon_s - t for t in self._held_since.values())
        c = model.flow.completions()
        held = c["held_s"] > 0
        late = int((held & (c["completed_s"] > c["due_s"])).sum())
        return {
            "stations": [rt.id for rt in self.runtimes],
            "lots_held": self.lots_held,
            "starts_deferred": self.starts_deferred,
            "hours_held": (self.hold_s + still) / 3600.0,
            "holding_at_end": len(self._held_since),
            "released_by": dict(self.released_by),
            "forced_starts": dict(self.forced_starts),
            "held_lots_finished": int(held.sum()),
            "held_lots_late": late,
        }
