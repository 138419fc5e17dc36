"""Lots and their bookkeeping: release, completion, assembly, work in process, lead times.

A lot is a small list ``[product, step, released_s, held_s, due_s, order, arrived_s, serial,
started_s]``: the product index, the index of the route step it is at or heading to, when it entered
the plant, how long scheduling strategies have held its start so far, the due date of the order it
belongs to (sim seconds, ``inf`` without one), the order's index into :attr:`Flow.orders` (-1: no
order), when it entered the input buffer of its current station, its number in the order of
entering the plant (0, 1, ...), and when a machine of its current station took it from that buffer
(the per-station queue figures, :mod:`twin.production.queues`); a lot sent back for rework carries
a tenth element, its rework passes so far (:mod:`twin.production.quality`). Every lot that enters
is counted, so that ``released + assembled = completed + consumed + scrapped + in the system``
holds at any time. Lots with a due date are also kept while they are in the plant, so that those
still open when the run ends can be counted against their due dates (:meth:`Flow.open_due_s`).
Finished lots go to disk every :data:`~twin.production.lot_spill.LOT_CHUNK` lots
(:mod:`twin.production.lot_spill`), so memory stays flat however long the run.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Iterator

import numpy as np
import simpy

from twin.production.lot_spill import COLUMNS, LOT_CHUNK, LotSpill


class Flow:
    """Plant-wide lot counters and statistics (O(1) per lot event).

    Parameters
    ----------
    env : simpy.Environment
    products : list of str
        Product ids; a lot's product is an index into this list.
    units_per_lot : list of int
    horizon_s : float
        Run length [s], for the hourly completion counts.
    """

    def __init__(self, env: simpy.Environment, products: list[str], units_per_lot: list[int],
                 horizon_s: float, lot_chunk: int = LOT_CHUNK):
        n = len(products)
        self.env = env
        self.products = products
        self.units_per_lot = units_per_lot
        self.released = [0] * n
        self.assembled = [0] * n
        self.completed = [0] * n
        self.consumed = [0] * n
        self.scrapped = [0] * n
        """Lots scrapped at a station's quality check (:mod:`twin.production.quality`)."""
        self.lost = [0.0] * n
        """Units lost outside whole lots, e.g. at sequence restarts
        (:mod:`twin.production.sequence`) [units]; :meth:`good_units` takes them off."""
        self.in_system = 0
        self.serial = 0
        """Lots entered or assembled so far (the next lot's number, ``lot[7]``)."""
        self._area = 0.0  # integral of lots in system over time [lot*s]
        self._t_last = 0.0
        self.units_by_hour = [0] * max(1, math.ceil(horizon_s / 3600.0))
        # Typed arrays, 4 + 8 + 8 bytes a lot (lists of floats take 32 bytes an entry).
        self.done_product = array("i")
        self.done_released = array("d")
        self.done_at = array("d")
        self.done_held = array("d")
        self.done_due = array("d")
        self.done_order = array("i")
        self.done_serial = array("q")
        self.orders: list[str] = []
        """Order ids (of ``kind: orders`` sources); a lot's ``order`` indexes this list."""
        self.order_lots: list[int] = []
        """Lots of the ordered product each order releases in the run (0: released after it)."""
        self.order_due_s: list[float] = []
        """Due time of each order [s]."""
        self._open_due: dict[int, list] = {}  # lots with a due date now in the plant, by id
        self.lot_chunk = int(lot_chunk)
        """Finished lots held in memory before they go to disk (:attr:`spill`)."""
        self.spill: LotSpill | None = None
        """The full chunks of finished lots written to disk so far (None: none yet)."""

    def _count(self, delta: int) -> None:
        now = self.env.now
        self._area += self.in_system * (now - self._t_last)
        self._t_last = now
        self.in_system += delta

    def enter(self, lot: list) -> None:
        """``lot`` has entered the plant (its first buffer) now."""
        self.released[lot[0]] += 1
        self._count(1)
        lot[2] = self.env.now
        lot[7] = self.serial
        self.serial += 1
        if lot[4] != math.inf:
            self._open_due[id(lot)] = lot

    def complete(self, lot: list) -> None:
        """``lot`` leaves the plant as finished goods."""
        p = lot[0]
        now = self.env.now
        self.completed[p] += 1
        self._count(-1)
        self.units_by_hour[int(now // 3600.0)] += self.units_per_lot[p]
        self.done_product.append(p)
        self.done_released.append(lot[2])
        self.done_at.append(now)
        self.done_held.append(lot[3])
        self.done_due.append(lot[4])
        self.done_order.append(lot[5])
        self.done_serial.append(lot[7])
        if lot[4] != math.inf:
            del self._open_due[id(lot)]
        if len(self.done_serial) == self.lot_chunk:
            self._spill_done()

    def _spill_done(self) -> None:
        """Write the finished lots held in memory to disk as one chunk and empty the arrays."""
        if self.spill is None:
            self.spill = LotSpill(self.lot_chunk)
        self.spill.write(self._held())
        for name in ("done_product", "done_released", "done_at", "done_held", "done_due",
                     "done_order", "done_serial"):
            setattr(self, name, array(getattr(self, name).typecode))

    def _held(self) -> dict[str, array]:
        """The finished lots held in memory, by column of :data:`COLUMNS`."""
        return {"product": self.done_product, "released_s": self.done_released,
                "completed_s": self.done_at, "held_s": self.done_held, "due_s": self.done_due,
                "order": self.done_order, "lot": self.done_serial}

    def lose(self, product: int, units: float) -> None:
        """``units`` of ``product`` are lost without a lot leaving (the yield loss of a sequence
        restart: tundish skull, crops); they come off its good output."""
        self.lost[product] += units

    def good_units(self, product: int) -> float:
        """Good units of ``product`` finished: units of its completed lots minus those lost
        (:meth:`lose`); an int while nothing was lost (plants without such losses report as
        before)."""
        units = self.completed[product] * self.units_per_lot[product]
        lost = self.lost[product]
        return units - lost if lost else units

    def scrap(self, lot: list) -> None:
        """``lot`` is scrapped: it leaves the plant unfinished."""
        self.scrapped[lot[0]] += 1
        self._count(-1)
        if lot[4] != math.inf:
            del self._open_due[id(lot)]

    def assemble(self, product: int, parts: list[list]) -> list:
        """Consume ``parts`` (lots of components) into one new lot of ``product``."""
        for part in parts:
            self.consumed[part[0]] += 1
            if part[4] != math.inf:
                del self._open_due[id(part)]
        self.assembled[product] += 1
        self._count(1 - len(parts))
        first = min(parts, key=lambda part: part[4])  # the most urgent part's order and due date
        lot = [product, 0, min(part[2] for part in parts), 0.0, first[4], first[5],
               self.env.now, self.serial, self.env.now]
        self.serial += 1
        if lot[4] != math.inf:
            self._open_due[id(lot)] = lot
        return lot

    def mean_wip(self, t_end: float) -> float:
        """Time-average lots in the plant over ``[0, t_end]`` [lots]."""
        area = self._area + self.in_system * (t_end - self._t_last)
        return area / t_end if t_end > 0 else 0.0

    def open_due_s(self) -> dict[str, np.ndarray]:
        """Lots with a due date still in the plant now: product index and due date [s]."""
        lots = list(self._open_due.values())
        return {"product": np.array([lot[0] for lot in lots], dtype=np.int32),
                "due_s": np.array([lot[4] for lot in lots], dtype=float)}

    @property
    def lots_done(self) -> int:
        """Lots finished so far (on disk and in memory)."""
        spilled = self.spill.chunks * self.lot_chunk if self.spill is not None else 0
        return spilled + len(self.done_serial)

    def completion_chunks(self) -> Iterator[dict[str, np.ndarray]]:
        """Completed lots as :meth:`completions` gives them, one chunk at a time (those on disk,
        then those in memory), in the order they finished: memory bounded by one chunk."""
        for k in range(self.spill.chunks if self.spill is not None else 0):
            yield self.spill.read(k)  # type: ignore[union-attr]
        held = self._held()
        if self.spill is None or len(self.done_serial):
            yield {name: np.array(held[name], dtype=_DTYPE[code])
                   for name, code in COLUMNS.items()}

    def completions(self) -> dict[str, np.ndarray]:
        """Completed lots: product index, release and completion time [s], time held [s], due
        date [s], order index (-1: none) and lot number (``lot[7]``), all in memory (for a long
        run prefer :meth:`completion_chunks`)."""
        chunks = list(self.completion_chunks())
        if len(chunks) == 1:
            return chunks[0]
        return {name: np.concatenate([c[name] for c in chunks]) for name in COLUMNS}


_DTYPE = {"i": np.int32, "d": np.float64, "q": np.int64}
