"""Random streams: one independent stream per stochastic element, named and stable.

Every stream is spawned from the run seed and a stable name (``"station:weld:process:housing"``)
through numpy's :class:`~numpy.random.SeedSequence`, so two scenarios that differ in one element
draw the same numbers everywhere else (common random numbers). Values are drawn in batches
(vectorised) and handed out one at a time by a C-level iterator, which keeps the hot path cheap.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Callable, Iterator

import numpy as np

from twin.config.distributions import Constant, _Dist

BATCH = 4096
"""Values drawn per refill. Fixed: changing it would change every stream's sequence."""


def stream_key(name: str) -> tuple[int, ...]:
    """Four 32-bit words from SHA-256 of ``name``: stable across runs, machines and versions."""
    digest = hashlib.sha256(name.encode("utf-8")).digest()
    return tuple(int.from_bytes(digest[i : i + 4], "little") for i in range(0, 16, 4))


class Streams:
    """Factory of named random streams for one run."""

    def __init__(self, seed: int):
        self.seed = int(seed)
        self.names: list[str] = []

    def generator(self, name: str) -> np.random.Generator:
        """A numpy Generator for ``name``; the same name and seed always give the same numbers."""
        self.names.append(name)
        ss = np.random.SeedSequence(entropy=self.seed, spawn_key=stream_key(name))
        return np.random.Generator(np.random.PCG64(ss))

    def sampler(self, name: str, dist: _Dist) -> Callable[[], float]:
        """A zero-argument function returning successive draws [s] of ``dist``."""
        if isinstance(dist, Constant):
            return itertools.repeat(dist.mean_s()).__next__
        rng = self.generator(name)

        def values() -> Iterator[float]:
            while True:
                yield from dist.draw_s(rng, BATCH).tolist()

        return values().__next__

    def choice(self, name: str, weights: list[float]) -> Callable[[], int]:
        """A zero-argument function returning successive indices drawn with ``weights``."""
        if len(weights) == 1:
            return itertools.repeat(0).__next__
        rng = self.generator(name)
        p = np.asarray(weights, dtype=float)
        p = p / p.sum()

        def values() -> Iterator[int]:
            while True:
                yield from rng.choice(len(p), size=BATCH, p=p).tolist()

        return values().__next__
