"""Periodic setups and cleaning of a machine: tasks due every k lots or every h hours of processing.

A station's ``cleaning`` tasks (stencil cleaning, nozzle changes, colour changes, furnace tube
cleaning) are kept per machine: each task counts the lots and the processing time since it was
last done, and when either reaches its interval the task is due. The machine does what is due
right after the lot that made it due has been handed on (between lots, before it takes the next),
in the *setup* state, so the time counts as changeover in OEE availability (planned stop, not
breakdown; Nakajima 1988), at the equipment type's setup power. Several tasks due at once are done
one after the other, in the order given, each restarting its own counters.

With deterministic lots of ``t`` s and one task every ``k`` lots lasting ``c`` s, a machine that
never waits spends ``c / (k t + c)`` of its busy time cleaning.
"""

from __future__ import annotations

from collections.abc import Callable, Generator

from twin.equipment.machine import Machine
from twin.equipment.states import SETUP

Sampler = Callable[[], float]


class CleaningTask:
    """One periodic task of a station: interval in lots and/or processing seconds, duration."""

    __slots__ = ("duration", "every_lots", "every_s", "id")

    def __init__(self, task_id: str, every_lots: int | None, every_s: float | None,
                 duration: Sampler):
        self.id = task_id
        self.every_lots = every_lots if every_lots is not None else 2**62
        """Lots between two runs of the task [lots] (huge: not counted)."""
        self.every_s = every_s if every_s is not None else float("inf")
        """Processing time between two runs of the task [s]."""
        self.duration = duration


class Cleaner:
    """The periodic tasks of one machine, with their counters since each was last done."""

    __slots__ = ("_lots", "_m", "_proc0", "count", "seconds", "tasks")

    def __init__(self, m: Machine, tasks: list[CleaningTask]):
        self._m = m
        self.tasks = tasks
        self._lots = [0] * len(tasks)
        self._proc0 = [0.0] * len(tasks)  # the machine's processing total when last done [s]
        self.count = [0] * len(tasks)
        """Times each task was done (started)."""
        self.seconds = [0.0] * len(tasks)
        """Time spent on each task [s]."""

    def after(self, lots: int) -> Generator:
        """``lots`` lots were just processed and handed on: do every task now due (SimPy)."""
        m = self._m
        done_s = sum(m.processing_s)
        for k, task in enumerate(self.tasks):
            self._lots[k] += lots
            if self._lots[k] < task.every_lots and done_s - self._proc0[k] < task.every_s:
                continue
            m.set_state(SETUP)
            d = task.duration()
            self.count[k] += 1
            self.seconds[k] += d
            m.cleaning_s += d
            yield m.env.timeout(d)
            self._lots[k] = 0
            self._proc0[k] = done_s
