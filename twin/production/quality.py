"""Yield, rework and scrap at a station: each lot is judged right after it is processed.

A lot is good with probability ``y`` (the station's yield for its product), drawn from the
station's own random stream (``station:<id>:quality``, one uniform draw per lot judged, so other
elements keep their numbers). A bad lot goes back for rework to the latest visit of the station
``rework_to`` on its route at or before the current step, unless it has used its ``max_rework``
passes (counted over the whole plant, kept as a seventh element of the lot list, added at the
first rework), or the station has no ``rework_to``: then it is scrapped and leaves the plant
(:meth:`twin.production.flow.Flow.scrap`). Its energy stays with the station that processed it, and
the products' energy and carbon per unit are thus per *good* (finished) unit.

With rework to the station itself, yield ``y`` and at most ``R`` passes, a lot is processed
``sum_{k=0..R} (1 - y)^k`` times on average and scrapped with probability ``(1 - y)^(R + 1)``.

Counters per product index (quality factor of OEE = good / judged, Nakajima 1988; first-pass
yield = good at first try / judged at first try, a first try being a lot never reworked yet).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np

SCRAP = -1
"""What :meth:`QualityGate.judge` returns for a scrapped lot."""


class QualityGate:
    """The yield check of one station (shared by its machines).

    Parameters
    ----------
    yields : list of float
        Good share per product index [-].
    rework : list of dict or None
        Per product index, route step -> route step a bad lot goes back to; None: scrap only.
    max_rework : int
        Most rework passes of one lot.
    rng : numpy.random.Generator
        The station's quality stream.
    """

    def __init__(self, yields: list[float], rework: list[dict[int, int]] | None,
                 max_rework: int, rng: np.random.Generator):
        n = len(yields)
        self.yields = yields
        self.rework = rework
        self.max_rework = max_rework

        def values() -> Iterator[float]:
            while True:
                yield from rng.random(4096).tolist()

        self._u: Callable[[], float] = values().__next__
        self.judged = [0] * n
        """Lots judged (processed here) per product."""
        self.good = [0] * n
        self.first_judged = [0] * n
        """Lots judged here that had never been reworked."""
        self.first_good = [0] * n
        self.reworked = [0] * n
        """Lots sent back for rework from here."""
        self.scrapped = [0] * n

    def judge(self, lot: list) -> int:
        """Judge ``lot`` (at its current route step); return the route step it goes to next, or
        :data:`SCRAP`. A reworked lot gets or increments its pass count ``lot[9]``."""
        p, k = lot[0], lot[1]
        first = len(lot) < 10
        self.judged[p] += 1
        if first:
            self.first_judged[p] += 1
        if self._u() < self.yields[p]:
            self.good[p] += 1
            if first:
                self.first_good[p] += 1
            return k + 1
        if self.rework is not None and (lot[9] if not first else 0) < self.max_rework:
            self.reworked[p] += 1
            if first:
                lot.append(1)
            else:
                lot[9] += 1
            return self.rework[p][k]
        self.scrapped[p] += 1
        return SCRAP
