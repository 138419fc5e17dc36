"""Per-lot, per-station timestamps (``steps.parquet``), kept only when asked for.

``simulation.steps: true`` in the plant file (or ``twin run --steps``) makes every machine record
one row per lot when the lot leaves it: which lot (its number, as in ``lots.parquet``), product,
route step, station, machine, and four times [s]: ``arrival`` in the station's input buffer,
``start`` (a machine took it from the buffer), ``finish`` (its processing ended) and ``left``
(handed on to the next buffer or finished; later than ``finish`` when the machine was blocked).
Lots still at a station when the run ends get a row too, with the times they have so far. So a
line can be checked station by station against queueing theory or MES data. Off by default:
then nothing is recorded and the production process only tests one local for None per lot.
"""

from __future__ import annotations

from array import array

import numpy as np


class StepLog:
    """Rows of ``steps.parquet`` in typed arrays (4 x 4 + 4 x 8 bytes a row)."""

    def __init__(self) -> None:
        self.lot = array("q")
        self.product = array("i")
        self.step = array("i")
        self.station = array("i")
        self.machine = array("i")
        self.arrival = array("d")
        self.start = array("d")
        self.finish = array("d")
        self.left = array("d")

    def add(self, lot: list, step: int, station: int, machine: int, arrived: float,
            finished: float, left: float) -> None:
        """``lot``, at route step ``step`` (its step index has moved on: to the next step, or
        back for rework), leaves ``machine`` (an equipment index) of ``station`` (a station
        index) at ``left`` [s] (scrapped lots too)."""
        self.lot.append(lot[7])
        self.product.append(lot[0])
        self.step.append(step)
        self.station.append(station)
        self.machine.append(machine)
        self.arrival.append(arrived)
        self.start.append(lot[8])
        self.finish.append(finished)
        self.left.append(left)

    def arrays(self, stations: list | None = None, routes: list[list[str]] | None = None
               ) -> dict[str, np.ndarray]:
        """The rows as numpy arrays, in the order they were recorded (by leaving time); with
        ``stations`` (the station runtimes) and ``routes`` (station ids per product) also a row
        for each lot still at a station now: at a machine (``finish`` and ``left`` NaN) or
        waiting in its buffer (``machine`` -1, ``start`` NaN too)."""
        cols = {name: list(getattr(self, name)) for name in COLUMNS}
        nan = float("nan")
        for rt in stations or ():
            here = [(lot, m.index, lot[8]) for m in rt.machines for lot in m.hand]
            if rt.input is not None:
                here += [(lot, -1, nan) for lot in rt.input.items]
            for lot, machine, start in here:
                p, k = lot[0], lot[1]
                if routes is not None and (k >= len(routes[p]) or routes[p][k] != rt.id):
                    k -= 1  # a lot blocked on its way out has its step moved on already
                for name, v in zip(COLUMNS, (lot[7], p, k, rt.index, machine, lot[6], start,
                                             nan, nan), strict=True):
                    cols[name].append(v)
        return {name: np.asarray(v, dtype=np.float64 if name in TIMES else np.int64)
                for name, v in cols.items()}


COLUMNS = ("lot", "product", "step", "station", "machine", "arrival", "start", "finish", "left")
TIMES = ("arrival", "start", "finish", "left")
