"""Callbacks on a buffer's appends, for policies that wait for a queue to change.

SimPy's ``Store.put`` and :func:`twin.production.station.put_now` both append to the store's item
list; replacing that list by one that calls back after each append sees every lot that enters,
with no SimPy event and no cost to stores nobody watches. Several watchers of one store chain
their callbacks on the same list (a scheduling strategy's queue watch and a station's switch-on
threshold, say).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import simpy


class WatchedItems(list):
    """A store's item list that calls ``on_append(item)`` after each append."""

    __slots__ = ("on_append",)

    def append(self, item: Any) -> None:
        super().append(item)
        self.on_append(item)


def watch_appends(store: simpy.Store, fn: Callable[[Any], None]) -> list:
    """Call ``fn(lot)`` after each lot that enters ``store``; returns the store's (watched) item
    list. A store watched already keeps its list, and calls the earlier callbacks first."""
    items = store.items
    if isinstance(items, WatchedItems):
        prev = items.on_append

        def both(item: Any) -> None:
            prev(item)
            fn(item)

        items.on_append = both
        return items
    watched = WatchedItems(items)
    watched.on_append = fn
    store.items = watched
    return watched
