"""Shared resources at run time: operators or tools that several stations need to work.

A plant's ``resources`` (``{id, count, calendar}``) are pools of ``count`` units. A machine of a
station with ``needs: {operator: 1}`` takes its units before it works and gives them back after:
with ``needs_for: [setup, process]`` (the default) from the start of a changeover (or of
processing, when there is none) to the end of processing; with ``[process]`` for processing only;
with ``[setup]`` for changeovers only. It gives them back before handing its lots on, so a blocked
machine does not keep its operator.

*Order.* Requests are served first come, first served (a SimPy ``Container`` per resource, whose
get queue is strictly FIFO: a request for two units at the head waits, and those behind it wait
too). A machine that needs several resources takes them one after the other in the order of the
plant's ``resources`` list, which rules out deadlock (no cycle of machines each holding what the
next one waits for).

*Working time.* A resource starts work only within its own working windows (its ``calendar``;
omitted: the plant's): a machine that asks outside them waits for the next window; one that gets
its units just as the window ends gives them back and waits too. Work started within a window is
finished (an operator completes the lot in hand). If the machine's own shift ends (or planned
maintenance falls due) while it waits, it gives back what it holds, takes its break in its saving
mode (:meth:`~twin.equipment.machine.Machine.due`) and asks again.

*Waiting.* A machine waiting for a resource is ready and idle (state ``idle``, idle power); the
time is counted per station (``waiting_for_resource_h`` in the KPIs). Each resource counts its
busy unit-seconds, for its utilization = busy unit time / (count x working time of its calendar).
"""

from __future__ import annotations

import math
from collections.abc import Generator

import simpy

from twin.calendar import ShiftCalendar
from twin.equipment.machine import Machine
from twin.equipment.states import IDLE

INF = math.inf


class Pool:
    """One shared resource: ``count`` units, a working-time calendar, and its busy time."""

    __slots__ = ("_busy", "_t", "busy_s", "calendar", "count", "env", "id", "store")

    def __init__(self, env: simpy.Environment, rid: str, count: int,
                 calendar: ShiftCalendar) -> None:
        self.env = env
        self.id = rid
        self.count = count
        self.calendar = calendar
        self.store = simpy.Container(env, capacity=count, init=count)
        self._busy = 0
        self._t = 0.0
        self.busy_s = 0.0
        """Busy unit-seconds up to the last change [s]."""

    def _change(self, delta: int) -> None:
        now = self.env.now
        self.busy_s += self._busy * (now - self._t)
        self._t = now
        self._busy += delta

    def busy_unit_s(self, horizon_s: float) -> float:
        """Busy unit-seconds over ``[0, horizon_s)`` [s]."""
        return self.busy_s + self._busy * (horizon_s - self._t)

    def free(self, n: int) -> bool:
        """Whether ``n`` units can be taken now, without waiting."""
        return (self.store.level >= n and not self.store.get_queue
                and self.calendar.working(self.env.now))

    def take(self, n: int, until: float = INF) -> Generator:
        """Take ``n`` units within the working time, giving up at ``until`` [s] (a SimPy
        generator returning True when it holds them, False when it gave up holding nothing)."""
        env, cal = self.env, self.calendar
        while True:
            now = env.now
            if now >= until:
                return False
            if not cal.working(now):
                t = min(cal.next_start(now), until)
                yield env.timeout(t - now) if t < INF else env.event()
                continue
            ev = self.store.get(n)
            if not ev.triggered:
                if until < INF:
                    yield env.any_of([ev, env.timeout(until - now)])
                    if not ev.triggered:
                        ev.cancel()
                        return False
                else:
                    yield ev
            if cal.working(env.now):
                self._change(n)
                return True
            self.store.put(n)  # the window closed while it waited: next window

    def give(self, n: int) -> None:
        """Give ``n`` units back."""
        self._change(-n)
        self.store.put(n)


class Needs:
    """What the machines of one station need: (pool, units) in the plant's resource order, when
    (setup, process), and the time they waited."""

    __slots__ = ("for_process", "for_setup", "pools", "wait_s")

    def __init__(self, pools: list[tuple[Pool, int]], for_setup: bool, for_process: bool):
        self.pools = pools
        self.for_setup = for_setup
        self.for_process = for_process
        self.wait_s = 0.0
        """Time the station's machines waited for their resources (breaks excluded) [s]."""

    def seize(self, m: Machine) -> Generator:
        """Wait, ready and idle, until machine ``m`` holds every unit it needs within its own
        shift (a SimPy generator); at its shift end (or maintenance) it gives back what it holds,
        does what is due and asks again."""
        env = m.env
        while True:
            if env.now >= m.check_at:
                yield from m.due()
            t0 = env.now
            held = 0
            for pool, n in self.pools:
                if not pool.free(n):
                    m.set_state(IDLE)
                if not (yield from pool.take(n, m.check_at)):
                    break
                held += 1
            self.wait_s += env.now - t0
            if held == len(self.pools):
                return
            for pool, n in self.pools[:held]:
                pool.give(n)

    def release(self) -> None:
        """Give every unit back."""
        for pool, n in self.pools:
            pool.give(n)
