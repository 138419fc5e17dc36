"""Sources: where lots enter the plant, from a production plan or a random arrival process.

A product with components is not released itself: releasing it releases its components (down to
products without components), which meet again at the assembly station. A source waits while the
buffer of the first station is full, as a real release would be held back.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Generator

import simpy

from twin.calendar import ShiftCalendar
from twin.production.flow import Flow
from twin.production.station import put_now


def explode(product: int, components: list[list[tuple[int, int]]]) -> list[int]:
    """Products (indices) released for one lot of ``product``: itself, or its components' leaves,
    each repeated by its quantity."""
    if not components[product]:
        return [product]
    out: list[int] = []
    for comp, qty in components[product]:
        for _ in range(qty):
            out.extend(explode(comp, components))
    return out


def _enter(flow: Flow, product: int, targets: list[list[simpy.Store | None]],
           due: float = math.inf, order: int = -1) -> Generator:
    lot = [product, 0, 0.0, 0.0, due, order, flow.env.now, -1, 0.0]
    store = targets[product][0]
    if not put_now(store, lot):  # type: ignore[arg-type]
        ev = store.put(lot)  # type: ignore[union-attr]  (stamps its arrival, lot[6])
        if not ev.triggered:
            yield ev
    flow.enter(lot)


def arrivals(env: simpy.Environment, flow: Flow, targets: list, components: list,
             interarrival: Callable[[], float], pick: Callable[[], int], products: list[int],
             calendar: ShiftCalendar | None, due_s: list[float] | None = None) -> Generator:
    """Lots arrive one at a time; ``pick`` chooses the product (index into ``products``).

    With a ``calendar`` the arrival clock runs only in working windows: an arrival that would fall
    outside is postponed to the next window start, where a new inter-arrival time begins.
    ``due_s[p]``: due date of an order of product ``p``, seconds after it arrives (``inf``: none);
    its components carry the order's due date."""
    while True:
        yield env.timeout(interarrival())
        if calendar is not None and not calendar.working(env.now):
            nxt = calendar.next_start(env.now)
            if nxt == math.inf:
                return
            yield env.timeout(nxt - env.now)
            continue
        p = products[pick()]
        due = env.now + due_s[p] if due_s is not None else math.inf
        for leaf in explode(p, components):
            yield from _enter(flow, leaf, targets, due)


def plan(env: simpy.Environment, flow: Flow, targets: list, components: list,
         release_s: list[float], quantities: list[tuple[int, float]], units_per_lot: list[int],
         mixed: bool, due_s: list[float] | None = None) -> Generator:
    """Release planned quantities at each time in ``release_s``.

    ``quantities`` holds (product index, units per period). The units are rounded up to whole lots,
    the rounding carried over: after k periods exactly ceil(k * units / units_per_lot) lots have
    been released. ``due_s[p]``: due date of the period's lots of product ``p``, seconds after the
    release time (``inf``: none)."""
    due = [0.0] * len(quantities)
    done = [0] * len(quantities)
    for t in release_s:
        if t > env.now:
            yield env.timeout(t - env.now)
        batch: list[list[int]] = []
        for k, (p, units) in enumerate(quantities):
            due[k] += units / units_per_lot[p]
            n = math.ceil(due[k] - 1e-9) - done[k]
            done[k] += n
            batch.append([p] * n)
        order = _interleave(batch) if mixed else [p for group in batch for p in group]
        for p in order:
            order_due = t + due_s[p] if due_s is not None else math.inf
            for leaf in explode(p, components):
                yield from _enter(flow, leaf, targets, order_due)


def _interleave(groups: list[list[int]]) -> list[int]:
    """Round-robin over the groups: a, b, a, b, a, ..."""
    out: list[int] = []
    longest = max((len(g) for g in groups), default=0)
    for i in range(longest):
        out.extend(g[i] for g in groups if i < len(g))
    return out
