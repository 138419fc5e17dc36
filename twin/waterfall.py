"""Waterfalls: from a starting level through steps to the end (and a target), as bars that add up.

A waterfall is a list of bars. The first (``kind='total'``) stands at the start level; each step
bar (``kind='step'``) runs from the level before it to the level after it, its ``delta`` being the
difference; the end bar (``kind='total'``) stands at the last level. With a target, a ``gap``
bar runs from the end to the target and a ``target`` bar stands at it. Bars chain exactly: each
step starts where the previous one ended (the same float), so the deltas add up from the start to
the end (to float rounding of their sum).

Two ways to fill it:

* :func:`from_levels` - cumulative levels, e.g. the means of an ordered chain of study
  scenarios where each scenario holds every measure of the ones before it (``waterfall:`` in a
  study file): the bar of a step is the change it adds;
* :func:`from_changes` - a start and signed changes, e.g. reductions by measure of one run
  against its baseline (:func:`twin.carbon.evaluation.reductions_by_measure`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

Bar = dict[str, Any]
"""``label``, ``kind`` ('total', 'step', 'gap', 'target'), ``start``, ``end``, ``delta``."""


def from_levels(start: tuple[str, float], steps: Sequence[tuple[str, float]],
                end_label: str = "Result", target: float | None = None,
                target_label: str = "Target") -> list[Bar]:
    """Bars from a start level through cumulative levels (``(label, level after the step)``).

    Raises ValueError for a level that is not a finite number (naming the step)."""
    label0, level = start
    _finite(level, label0)
    bars: list[Bar] = [{"label": label0, "kind": "total", "start": 0.0, "end": float(level),
                        "delta": float(level)}]
    for label, after in steps:
        _finite(after, label)
        bars.append({"label": label, "kind": "step", "start": level, "end": float(after),
                     "delta": float(after) - level})
        level = float(after)
    bars.append({"label": end_label, "kind": "total", "start": 0.0, "end": level,
                 "delta": level})
    if target is not None:
        _finite(target, target_label)
        bars.append({"label": f"Gap to {target_label.lower()}", "kind": "gap", "start": level,
                     "end": float(target), "delta": float(target) - level})
        bars.append({"label": target_label, "kind": "target", "start": 0.0,
                     "end": float(target), "delta": float(target)})
    return bars


def from_changes(start: tuple[str, float], changes: Sequence[tuple[str, float]],
                 end_label: str = "Result", target: float | None = None,
                 target_label: str = "Target") -> list[Bar]:
    """Bars from a start level and signed changes (``(label, change)``, + = the level rises):
    the levels are the running sums, so the bars chain exactly."""
    level = start[1]
    levels = []
    for label, change in changes:
        _finite(change, label)
        level = level + float(change)
        levels.append((label, level))
    return from_levels(start, levels, end_label, target, target_label)


def check(bars: Sequence[Bar]) -> None:
    """Raise ValueError unless the step bars chain from the first total to the end total."""
    steps = [b for b in bars if b["kind"] == "step"]
    totals = [b for b in bars if b["kind"] == "total"]
    level = totals[0]["end"]
    for b in steps:
        if b["start"] != level:
            raise ValueError(f"waterfall bar {b['label']!r} starts at {b['start']!r}, not at "
                             f"{level!r} where the previous bar ended")
        level = b["end"]
    if totals[-1]["end"] != level:
        raise ValueError(f"waterfall ends at {totals[-1]['end']!r}, the steps at {level!r}")


def _finite(x: float, label: str) -> None:
    if not (isinstance(x, (int, float)) and math.isfinite(float(x))):
        raise ValueError(f"waterfall step {label!r}: {x!r} is not a finite number")
