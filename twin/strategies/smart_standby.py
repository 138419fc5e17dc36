"""Smart standby: an idle machine goes to a saving mode after a timeout and is woken ahead of work.

A machine that waits for work (starved) stays ready for ``timeout`` seconds, then switches to its
saving mode (``standby`` or ``off`` from its equipment type's ``saving_modes``, after OPC UA ECM /
PROFIenergy). It stays there at least the mode's ``min_stay_s`` (TimeMinLengthOfStay) and needs
``warm_up_s`` (RegularTimeToOperate) at the type's ``warm_up`` power to be ready again.

* **Timeout.** By default the break-even time (:func:`break_even_s`): the idle gap beyond which
  switching saves energy. Waiting that long before switching is the classic timeout rule for
  power-down problems ("ski rental", the spin-block problem): in that cost model, whatever the
  gap, it spends at most twice the energy of a controller that knew the gap in advance, the best
  ratio a deterministic rule can guarantee (Karlin, Manasse, McGeoch & Owicki 1994, Algorithmica
  11:542-571); warm-up delays and minimum stays lie outside that model. The break-even rule for
  machines: Mouzon, Yildirim & Twomey 2007, IJPR 45(18-19):4247-4271. A fixed ``timeout_s`` may
  be given instead, for the whole plant, per equipment type or per station.
* **Mode.** ``auto`` takes, per machine, the saving mode of its type with the shortest break-even
  time (the one that pays off on the shortest gaps); ``standby`` or ``off`` ask for one.
* **Waking ahead.** When an upstream machine starts processing a lot whose next stop is this
  station, the first machine there waiting for work is told when the lot will arrive: the start
  plus the lot's processing time (``wake_ahead: drawn``, the default: the upstream controller
  knows its cycle, as a CNC program's run time is known) or plus the mean processing time
  (``mean``); a breakdown or a full buffer upstream makes the lot later. Asleep, it starts warming
  up so as to be ready as the lot arrives (not before its minimum stay is over); still in its
  timeout, it does not switch when the lot is due within the break-even time. Lots from a source
  (releases) come unannounced and wait for the warm-up.
* **Warm-up by time off.** A saving mode with ``cooling`` (:mod:`twin.equipment.cooling`)
  needs the warm-up of the time the machine has been asleep; woken ahead, it starts warming up
  so as to be ready as the lot comes. The break-even time uses the full (cold-start) warm-up.
* **Shift ends and planned maintenance** are handled as without the strategy: the machine goes
  to its off-shift mode (or its maintenance) and comes back warmed up at the shift start.

* **Held machines.** A machine that a scheduling strategy holds with its lots (a flexible start
  kept for cheaper, greener or sunnier hours, :mod:`twin.strategies._gating`) waits ready, as a
  starved one does. The gate knows when the hold ends at the latest (the next TOU period, the
  due date, the shift end); after the timeout the machine switches if that leaves at least the
  break-even time, and warms up so as to be ready by then. A hold that ends earlier (the buffer
  fills, a lot with an earlier due date joins the queue, site power falls) waits for the
  minimum stay and the warm-up, counted as a delayed lot.
* **Asleep when a lot comes to a gated station.** The machine asks the gate before it wakes: it
  keeps its saving mode with the lot in hand (*dozing*) and warms up only when the gate lets the
  lot start (then the lot waits the rest of the minimum stay and the warm-up, as without a gate),
  or so as to be ready by the hold's latest end. A machine that warmed up for a lot the gate
  then held would go back to sleep: one warm-up wasted per hold (issue 14, defect 9).

A blocked machine holds a finished lot and stays ready.

Reported per station and in total: switches, hours in the saving mode and warming up, the energy
saved, lots that waited for a warm-up and how long. The energy saved is counted per switch, from
the switch until the machine is ready again (or its shift ends), against staying in the state it
left (starved); summed over carriers (final energy, kWh). The throughput and lead-time cost show
in the run's KPIs against a run without the strategy (same seed: common random numbers).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Generator
from typing import TYPE_CHECKING, Any, Literal

import simpy
from pydantic import Field

from twin.config.base import Id
from twin.config.errors import ConfigIssue
from twin.equipment.cooling import WarmUp, warm_up_model
from twin.equipment.states import IDLE, OFF, STANDBY, STARVED, WARM_UP
from twin.strategies import Strategy, StrategyParams, register_strategy

if TYPE_CHECKING:
    from twin.config.plant import EquipmentType, Plant
    from twin.engine import Model
    from twin.equipment.machine import Machine
    from twin.production.station import StationRuntime

INF = math.inf
Mode = Literal["auto", "standby", "off"]
_MODE_STATE = {"standby": STANDBY, "off": OFF}


def break_even_s(p_idle_kw: float, p_save_kw: float, warm_up_s: float, p_warm_kw: float,
                 min_stay_s: float = 0.0) -> float:
    """Shortest idle gap [s] for which switching to a saving mode uses less energy than staying
    ready, and delays nothing.

    A gap of ``G`` seconds spent ready uses ``p_idle * G``. Switching at its start and warming up
    so as to be ready at its end uses ``p_save * (G - warm_up) + p_warm * warm_up``, which is less
    when ``G > warm_up * (p_warm - p_save) / (p_idle - p_save)``; the mode must also be held for
    ``min_stay_s`` before the warm-up, so ``G >= warm_up + min_stay``. The break-even time is the
    larger of the two (Mouzon, Yildirim & Twomey 2007, IJPR 45(18-19):4247-4271, with the warm-up
    energy and the minimum stay of OPC UA ECM / PROFIenergy saving modes).

    Parameters
    ----------
    p_idle_kw : float
        Power while waiting ready [kW].
    p_save_kw : float
        Power in the saving mode [kW].
    warm_up_s : float
        Time back to ready [s].
    p_warm_kw : float
        Power while warming up [kW].
    min_stay_s : float
        Shortest stay in the saving mode [s].

    Returns
    -------
    float
        Break-even time [s]; ``inf`` when the saving mode draws no less than waiting ready.
    """
    if p_idle_kw <= p_save_kw:
        return INF
    energy = warm_up_s * (p_warm_kw - p_save_kw) / (p_idle_kw - p_save_kw)
    return max(energy, warm_up_s + min_stay_s)


class Rule(StrategyParams):
    """Settings for one station or equipment type; a field left out takes the general one."""

    enabled: bool = Field(True, description="Switch these machines at all.")
    mode: Mode | None = Field(None, description="Saving mode: auto, standby or off.")
    timeout_s: float | None = Field(
        None, ge=0, description="Time ready before switching [s]; omitted: the break-even time.")


@register_strategy("smart_standby")
class SmartStandby(Strategy):
    """Idle machines go to a saving mode after a timeout and are woken ahead of the next lot."""

    reads_storage = False  # reads no state of charge: the EMS may settle after the run

    class Params(StrategyParams):
        mode: Mode = Field(
            "auto", description="Saving mode: 'auto' (per machine, the mode of its type with the "
            "shortest break-even time), 'standby' or 'off' (machines whose type lacks it are not "
            "switched).")
        timeout_s: float | None = Field(
            None, ge=0, description="Time ready before switching [s]; omitted: each machine's "
            "break-even time.")
        wake_ahead: Literal["drawn", "mean", "off"] = Field(
            "drawn", description="Warm up ahead of a lot announced by the upstream machine, "
            "expected after the lot's actual processing time ('drawn': the upstream controller "
            "knows its cycle), after the mean processing time ('mean'), or not at all ('off').")
        equipment_types: dict[Id, Rule] = Field(
            default_factory=dict, description="Settings per equipment type id.")
        stations: dict[Id, Rule] = Field(
            default_factory=dict, description="Settings per station id (before the type's).")

    @classmethod
    def check(cls, plant: Plant, params: StrategyParams) -> list[ConfigIssue]:
        from twin.config.checks import _ref

        assert isinstance(params, SmartStandby.Params)
        types = {t.id: t for t in plant.equipment_types}
        stations = {s.id: s for _, _, s in plant.stations()}
        issues: list[ConfigIssue] = []
        for key, rule, spec in (
            *((f"equipment_types.{t}", r, types.get(t)) for t, r in params.equipment_types.items()),
            *((f"stations.{s}", r, types.get(stations[s].equipment) if s in stations else None)
              for s, r in params.stations.items()),
        ):
            if spec is None:
                what = "equipment type" if key.startswith("equipment_types") else "station"
                name = key.split(".", 1)[1]
                issues += _ref(key, name, dict.fromkeys(types if what == "equipment type"
                                                        else stations), what)
            elif rule.mode in ("standby", "off") and rule.mode not in spec.saving_modes:
                issues.append(ConfigIssue(
                    f"{key}.mode", f"equipment type '{spec.id}' has no saving mode "
                    f"'{rule.mode}'; expected one of: auto, "
                    + ", ".join(spec.saving_modes) if spec.saving_modes else
                    f"equipment type '{spec.id}' has no saving_modes; expected them defined or "
                    f"this {key.split('.')[0][:-1].replace('_', ' ')} disabled "
                    f"(enabled: false)", rule.mode, True))
        return issues

    def install(self, model: Model) -> None:
        self.controllers: dict[str, list[_Controller]] = {}
        self.settings: dict[str, dict[str, Any]] = {}
        p = self.params
        assert isinstance(p, SmartStandby.Params)
        stations = {s.id: s for _, _, s in model.plant.stations()}
        types = {t.id: t for t in model.plant.equipment_types}
        by_store: dict[int, list[_Controller]] = {}
        for rt in model.stations:
            spec = types[stations[rt.id].equipment]
            rules = [r for r in (p.stations.get(rt.id), p.equipment_types.get(spec.id)) if r]
            if not all(r.enabled for r in rules):
                self.settings[rt.id] = {"switched": False, "why": "disabled"}
                continue
            mode = next((r.mode for r in rules if r.mode is not None), p.mode)
            timeout = next((r.timeout_s for r in rules if r.timeout_s is not None), p.timeout_s)
            table = model.meter.power[rt.machines[0].index].sum(axis=1)  # kW per state
            chosen = _choose_mode(spec, table, mode)
            if chosen is None:
                self.settings[rt.id] = {"switched": False, "why": "no saving mode that saves"}
                continue
            name, be = chosen
            sm = spec.saving_modes[name]  # type: ignore[index]
            wait = be if timeout is None else timeout
            self.settings[rt.id] = {"switched": True, "mode": name, "break_even_s": be,
                                    "timeout_s": wait}
            ctrls = [_Controller(m, _MODE_STATE[name], sm.warm_up_s, sm.min_stay_s, wait, be,
                                 table, warm_up_model(sm)) for m in rt.machines]
            self.controllers[rt.id] = ctrls
            for c in ctrls:
                c.machine.on_starved = c.starved
                c.machine.on_held = c.held
                c.gated = lambda rt=rt: rt.gate is not None  # a gate may be added later
            if rt.switch_on is not None:  # a switch-on threshold decides when it wakes
                rt.switch_on.controllers = ctrls
                for c in ctrls:
                    c.stays_off = True
                continue
            for store in _input_stores(rt):
                by_store[id(store)] = ctrls
        if p.wake_ahead != "off" and by_store:
            ann = _Announcer(model, by_store)
            for ctrls in self.controllers.values():
                for c in ctrls:
                    c.announcer = ann
            for rt in model.stations:
                if ann.feeds(rt):
                    hook = ann.hook(rt.ideal_s if p.wake_ahead == "mean" else None)
                    for m in rt.machines:
                        m.on_process = hook

    def report(self, model: Model) -> dict[str, Any]:
        out: dict[str, Any] = {}
        tot = dict.fromkeys(("switches", "held_switches", "saving_kwh", "saving_h", "warm_up_h",
                             "lots_delayed", "lot_delay_h"), 0.0)
        for sid, setting in self.settings.items():
            row: dict[str, Any] = dict(setting)
            ctrls = self.controllers.get(sid, [])
            if ctrls:
                for c in ctrls:  # a phase still open when the run ends counts to its horizon
                    c._close(model.horizon_s)
                row["switches"] = sum(c.switches for c in ctrls)
                row["held_switches"] = sum(c.held_switches for c in ctrls)
                row["saving_kwh"] = sum(c.saved_kws for c in ctrls) / 3600.0
                row["saving_h"] = sum(c.saving_s for c in ctrls) / 3600.0
                row["warm_up_h"] = sum(c.warm_s for c in ctrls) / 3600.0
                row["lots_delayed"] = sum(c.delayed for c in ctrls)
                row["lot_delay_h"] = sum(c.delay_s for c in ctrls) / 3600.0
                row["woken_ahead"] = sum(c.woken_ahead for c in ctrls)
                for k in tot:
                    tot[k] += row[k]
            out[sid] = row
        tot["switches"] = int(tot["switches"])
        tot["held_switches"] = int(tot["held_switches"])
        tot["lots_delayed"] = int(tot["lots_delayed"])
        return {"total": tot, "stations": out}


def _choose_mode(spec: EquipmentType, table: Any, mode: str) -> tuple[str, float] | None:
    """The saving mode to use and its break-even time [s], or None when none saves energy."""
    best: tuple[str, float] | None = None
    for name, sm in spec.saving_modes.items():
        if mode != "auto" and name != mode:
            continue
        be = break_even_s(float(table[STARVED]), float(table[_MODE_STATE[name]]), sm.warm_up_s,
                          float(table[WARM_UP]), sm.min_stay_s)
        if be < INF and (best is None or be < best[1]):
            best = (name, be)
    return best


def _input_stores(rt: StationRuntime) -> list[simpy.Store]:
    """The stores a machine of ``rt`` takes work from."""
    if rt.components is not None:
        return [store for store, _ in rt.components]
    return [rt.input] if rt.input is not None else []


class _Controller:
    """The saving-mode controller of one machine (see the module doc)."""

    def __init__(self, m: Machine, state: int, warm_up_s: float, min_stay_s: float,
                 timeout_s: float, break_even: float, power: Any,
                 cooling: WarmUp | None = None):
        self.machine = m
        self.state = state
        self.warm_up_s = warm_up_s
        self.min_stay_s = min_stay_s
        self.timeout_s = timeout_s
        self.break_even = break_even
        self.p_idle = float(power[STARVED])
        self.p_held = float(power[IDLE])
        self.p_ready = self.p_idle
        """Power of the state the current wait is in (starved, or idle while held) [kW]."""
        self.ready_state = STARVED
        self.p_save = float(power[state])
        self.p_warm = float(power[WARM_UP])
        self.ev: simpy.Event | None = None
        """The pending get of the current wait (None when not waiting)."""
        self.expected = INF
        """Announced arrival of the next lot [s]."""
        self.asleep = False
        self.poke: simpy.Event | None = None
        self.arrived = INF
        self.switches = 0
        self.held_switches = 0
        self.release: simpy.Event | None = None
        """Fires when a hold ends (None when not held)."""
        self.woken_ahead = 0
        self.saving_s = 0.0
        self.warm_s = 0.0
        self.saved_kws = 0.0
        self.delayed = 0
        self.delay_s = 0.0
        self._open: tuple[float, float, str] | None = None
        self.announcer: _Announcer | None = None
        self.gated: Callable[[], bool] = lambda: False
        """Whether the machine's station has a scheduling gate now (set by the strategy)."""
        self.dozing = False
        """Asleep with a lot in hand, which the gate is asked about before the machine wakes."""
        self.got: simpy.Event | None = None
        """The get event of the lot a dozing machine holds."""
        self.leave = 0.0
        """End of the minimum stay of the current sleep [s]."""
        self.slept_at = 0.0
        """When the current sleep began [s] (the machine cools from then)."""
        self.cooling = cooling
        self.stays_off = False
        """Stay in the saving mode through the end of an off-shift break, not warmed up (a
        switch-on threshold decides when it warms up)."""

    def _close(self, t: float | None = None) -> None:
        """End the open phase (in the saving mode, or warming up) at ``t`` (default: now) and
        count its time and its energy saved against staying ready."""
        if self._open is None:
            return
        t0, dp, what = self._open
        dur = (self.machine.env.now if t is None else t) - t0
        setattr(self, what, getattr(self, what) + dur)
        self.saved_kws += dp * dur
        self._open = None

    def starved(self, ev: simpy.Event) -> None:
        """The machine waits for work on ``ev``: run the controller beside it."""
        m = self.machine
        if m.side is not None:
            return
        self.p_ready, self.ready_state = self.p_idle, STARVED
        self.ev = ev
        ann = self.announcer
        self.expected = ann.claim(ev.resource) if ann is not None else INF  # type: ignore[attr-defined]
        self.arrived = INF
        ev.callbacks.append(self._arrive)  # type: ignore[union-attr]
        asleep = self._adopt()  # off since a break: it waits asleep
        m.side = m.env.process(self._run(ev, asleep))

    def _adopt(self) -> bool:
        """Whether the machine stayed in its saving mode through an off-shift break (see
        ``stays_off``); if so, carry on that sleep (it cools from the break's start)."""
        m = self.machine
        since = m.off_since
        if since == INF:
            return False
        m.off_since = INF
        self.slept_at = since
        self.leave = since + self.min_stay_s
        m.set_state(self.state)
        self._open = (m.env.now, self.p_ready - self.p_save, "saving_s")
        return True

    def _off_shift(self) -> Generator:
        """The shift ends (or maintenance falls due): do what is due, staying off at its end
        with ``stays_off``."""
        m = self.machine
        if self.stays_off and m.state == self.state and m.off_since == INF:
            m.off_since = self.slept_at  # asleep already: it cools since then
        yield from m.due(self.stays_off)

    def held(self, hold: simpy.Event | None) -> None:
        """A scheduling gate holds the machine, ready with its lots, until ``hold`` fires (at
        the latest at ``machine.hold_until``), or, with None, lets them start. The gate is asked
        again whenever its hold fires; one side process runs through the whole hold."""
        m = self.machine
        rel = self.release
        if hold is None:  # the lots may start: warm up if asleep
            if rel is not None and not rel.triggered:
                rel.succeed()
            elif m.side is None and (self.dozing or self._adopt()):  # asleep: warm up now
                got = self.got
                if not self.dozing or got is None:  # off since a break, the lot in hand
                    got = m.env.event()
                    got.succeed()
                    self.arrived = m.env.now
                self.dozing = False
                self.got = None
                m.side = m.env.process(self._wake(got))
            return
        if rel is not None:  # the hold goes on: perhaps with another latest end
            self.expected = self._hold_end()
            if self.poke is not None and not self.poke.triggered:
                self.poke.succeed()
            return
        if m.side is not None:
            return
        self.p_ready, self.ready_state = self.p_held, IDLE
        if not self.dozing:
            if self._adopt():  # off since a break
                self.dozing = True
            else:
                m.set_state(IDLE)
        env = m.env
        self.release = rel = env.event()
        rel.callbacks.append(self._arrive)
        self.arrived = INF
        self.expected = self._hold_end()
        m.side = env.process(self._run_held(rel))

    def _hold_end(self) -> float:
        """When the machine must be ready again: the hold's latest end, unless the shift ends
        (or maintenance falls due) by then, which ends the hold and needs no warm-up [s]."""
        m = self.machine
        return m.hold_until if m.hold_until < m.check_at else INF

    def _run_held(self, rel: simpy.Event) -> Generator:
        """Through a hold: after the timeout, switch if the hold's latest end leaves at least the
        break-even time, and be warmed up by then; stop at the shift end or maintenance."""
        m = self.machine
        env = m.env
        try:
            if self.dozing:  # asleep already: stay so through the hold
                self.dozing = False
                self._close()  # the saving now counts against waiting ready while held
                self._open = (env.now, self.p_ready - self.p_save, "saving_s")
                yield from self._sleep(rel, resume=True)
                if self.stays_off and not rel.triggered and env.now >= m.check_at:
                    yield from self._off_shift()
                return
            deadline = env.now + self.timeout_s
            while not rel.triggered and env.now < m.check_at:
                now = env.now
                if now >= deadline and min(self.expected, m.check_at) - now >= self.break_even:
                    self.held_switches += 1
                    yield from self._sleep(rel)
                    if self.stays_off and not rel.triggered and env.now >= m.check_at:
                        yield from self._off_shift()
                    return
                # wait for the timeout, a new latest end (poke) or the end of the hold
                self.poke = env.event()
                waits = [rel, self.poke]
                until = min(deadline if now < deadline else INF, m.check_at)
                if until < INF:
                    waits.append(env.timeout(until - now))
                yield env.any_of(waits)
            if self.stays_off and not rel.triggered and env.now >= m.check_at:
                yield from self._off_shift()
        finally:
            self.poke = None
            self.release = None
            self.expected = INF
            m.side = None

    def _arrive(self, _: simpy.Event) -> None:
        self.arrived = self.machine.env.now

    def announce(self, at: float) -> None:
        """A lot for this machine is expected at ``at`` [s]."""
        self.expected = at
        if self.asleep and self.poke is not None and not self.poke.triggered:
            self.poke.succeed()

    def _run(self, ev: simpy.Event, asleep: bool = False) -> Generator:
        m = self.machine
        env = m.env
        try:
            if asleep:  # off since a break
                yield from self._sleep(ev, resume=True)
            idle_since = env.now
            while not ev.triggered:
                now = env.now
                if now >= m.check_at:  # shift end or maintenance: as without the strategy
                    yield from self._off_shift()
                    if self._adopt():  # it stayed off (stays_off)
                        yield from self._sleep(ev, resume=True)
                    else:
                        m.set_state(STARVED)
                    idle_since = env.now
                    continue
                deadline = idle_since + self.timeout_s
                if now >= deadline and now <= self.expected < now + self.break_even:
                    deadline = self.expected + self.timeout_s  # a lot is due soon: stay ready
                if deadline > now:
                    yield env.any_of([ev, env.timeout(min(deadline, m.check_at) - now)])
                    continue
                if ev.resource.items:  # type: ignore[attr-defined]
                    # a lot was put just now and SimPy hands it over later at this same time
                    yield env.timeout(0)
                    continue
                yield from self._sleep(ev)
                idle_since = env.now
        finally:
            self.ev = None
            m.side = None

    def _wake(self, got: simpy.Event) -> Generator:
        """A dozing machine whose lot the gate lets start: warm up (after the minimum stay)."""
        try:
            yield from self._sleep(got, resume=True)
        finally:
            self.machine.side = None

    def _sleep(self, ev: simpy.Event, resume: bool = False) -> Generator:
        """In the saving mode from now until work comes (or is announced), the shift ends or
        maintenance falls due; then warm up unless the shift ended. With ``resume``, the
        machine is in the saving mode already (it dozed while the gate was asked).

        A lot that comes to a gated station ends the sleep without a warm-up: the machine dozes
        with the lot in hand, and the gate is asked before it wakes (:meth:`held`)."""
        m = self.machine
        env = m.env
        if resume:
            leave = self.leave
        else:
            t0 = self.slept_at = env.now
            m.set_state(self.state)
            self.switches += 1
            self._open = (t0, self.p_ready - self.p_save, "saving_s")
            leave = t0 + self.min_stay_s
        self.asleep = True
        ahead = False
        while True:
            if ev.triggered and ev is self.ev and self.gated():  # a lot came: ask the gate first
                self.asleep = False
                self.poke = None
                self.dozing = True
                self.got = ev
                self.leave = leave
                return
            self.poke = env.event()
            if self.expected < env.now:
                self.expected = INF  # overdue (held up upstream): no longer a reason to wake
            if ev.triggered:
                go = max(env.now, leave)
            else:
                if self.expected == INF:
                    go = INF
                elif self.cooling is None:
                    go = max(self.expected - self.warm_up_s, leave)
                else:  # warm up after the time off that leaves just the warm-up it needs
                    go = max(self.slept_at + self.cooling.off_for_ready(
                        self.expected - self.slept_at), leave)
                ahead = go < INF
            limit = min(go, m.check_at)
            if limit <= env.now:
                break
            waits = [self.poke] if limit == INF else [self.poke, env.timeout(limit - env.now)]
            if not ev.triggered:
                waits.append(ev)
            yield env.any_of(waits)
        self.asleep = False
        self.poke = None
        self._close()
        if env.now >= m.check_at and not (env.now >= go):
            return  # the shift ended (or maintenance is due): the caller does what is due
        if ahead and not ev.triggered:
            self.woken_ahead += 1
        warm = (self.warm_up_s if self.cooling is None
                else self.cooling(env.now - self.slept_at))  # it cooled since it slept
        if warm > 0:
            m.set_state(WARM_UP)
            self._open = (env.now, self.p_ready - self.p_warm, "warm_s")
            yield env.timeout(warm)
            self._close()
        self.expected = INF
        if ev.triggered:
            wait = env.now - self.arrived
            if wait > 0:
                self.delayed += 1
                self.delay_s += wait
        else:
            m.set_state(self.ready_state)


class _Announcer:
    """Tells a waiting machine when a lot started upstream will reach it."""

    def __init__(self, model: Model, by_store: dict[int, list[_Controller]]):
        plant = model.plant
        rts = {rt.id: rt for rt in model.stations}
        parent = {c: p for p in plant.products for c in p.components}
        self.by_store = by_store
        # next_store[p][k]: the store a lot of product p enters after route step k (None: none)
        self.next_store: list[list[simpy.Store | None]] = []
        for prod in plant.products:
            row: list[simpy.Store | None] = []
            for k in range(len(prod.route)):
                store: simpy.Store | None = None
                if k + 1 < len(prod.route):
                    store = rts[prod.route[k + 1]].input
                elif prod.id in parent:
                    asm = rts[parent[prod.id].route[0]]
                    j = list(parent[prod.id].components).index(prod.id)
                    store = asm.components[j][0]  # type: ignore[index]
                row.append(store if store is not None and id(store) in by_store else None)
            self.next_store.append(row)
        self.env = model.env
        self.incoming: dict[int, list[tuple[float, list, int]]] = {}
        """Announced lots no waiting machine has taken yet, per store: (expected at, lot, the
        route step it was announced at)."""
        self._feeds = {prod.route[k] for prod, row in zip(plant.products, self.next_store,
                                                          strict=True)
                       for k, s in enumerate(row) if s is not None}

    def feeds(self, rt: StationRuntime) -> bool:
        """Whether lots leaving ``rt`` go to a station with saving-mode controllers."""
        return rt.id in self._feeds

    def hook(self, mean_s: list[float] | None) -> Callable[[list, float], None]:
        """The ``on_process`` hook of an upstream machine: announce each lot after its drawn
        processing time, or after ``mean_s[product]`` when given."""
        if mean_s is None:
            return self.announce
        return lambda lots, d: self.announce(lots, mean_s[lots[0][0]])

    def announce(self, lots: list, d: float) -> None:
        """Lots ``lots`` start processing now and are expected done in ``d`` seconds: tell the
        first machine waiting at their next station that has no lot announced yet, or keep the
        announcement for the next machine there to start waiting."""
        at = self.env.now + d
        for lot in lots:
            store = self.next_store[lot[0]][lot[1]]
            if store is None:
                continue
            if not self._tell_waiting(store, at):
                pending = self.incoming.setdefault(id(store), [])
                if len(pending) >= 16:
                    pending[:] = [e for e in pending if e[1][1] == e[2]]
                pending.append((at, lot, lot[1]))

    def _tell_waiting(self, store: simpy.Store, at: float) -> bool:
        ctrls = self.by_store[id(store)]
        for ev in store.get_queue:  # served first come, first served
            for c in ctrls:
                if c.ev is ev and c.expected == INF:
                    c.announce(at)
                    return True
        return False

    def claim(self, store: simpy.Store) -> float:
        """For a machine that starts waiting on ``store``: the earliest expected arrival of a
        lot announced there and still upstream (not overdue), taken off the list; inf if none."""
        pending = self.incoming.get(id(store))
        if not pending:
            return INF
        now = self.env.now
        # a lot is still upstream while its route step is the one it was announced at
        pending[:] = [e for e in pending if e[1][1] == e[2] and e[0] >= now]
        if not pending:
            return INF
        k = min(range(len(pending)), key=lambda i: pending[i][0])
        return pending.pop(k)[0]
