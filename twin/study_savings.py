"""What a study's scenarios save, explained: cost differences by cause and the waterfall.

Both read the run folders of a study (``<scenario>/rep<k>/``: ``intervals.parquet`` and
``kpis.json``) and write one CSV each into the study folder:

* ``savings_by_cause.csv``: for every scenario other than the base, the paired difference of
  total energy cost against the base, scenario minus base, split by cause
  (:func:`twin.cost_causes.cost_difference_by_cause`: energy, timing, tariff, demand, capacity,
  export, gas, purchased heat), mean and 95 % interval over the replications and annualised;
  the causes of each replication add up to its difference, so the means add up too;
* ``waterfall.csv``: the study's ``waterfall:`` chain (an ordered list of cumulative scenarios,
  one measure each, :class:`twin.config.study.Waterfall`), as bars of net CO2 (scope 1 + 2
  market-based minus retired offsets, t/yr) and of total energy cost (currency/yr) from the base
  through each step to the last and the target (:mod:`twin.waterfall`). Levels are means over
  the replications, annualised (x 365 / simulated days).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from twin.cost_causes import CAUSES, runs_by_cause
from twin.i18n import N_
from twin.waterfall import from_levels

CAUSE_COLUMNS = ("scenario", "cause", "label", "n", "mean", "ci_low", "ci_high",
                 "mean_per_year")
"""Columns of ``savings_by_cause.csv`` (currency; scenario minus base: negative = saving)."""

WATERFALL_COLUMNS = ("chart", "order", "label", "scenario", "kind", "start", "end", "delta",
                     "unit")
"""Columns of ``waterfall.csv``: chart ``co2`` [tCO2e/yr] or ``cost`` [currency/yr]."""

MEASURE_LABELS = {
    "efficiency": "Efficiency", "onsite_renewables": "Onsite renewables", "storage": "Storage",
    "electrification": "Electrification", "green_power": "Green power and certificates",
    "offsets": "Offsets"}
"""Labels of the measures named in the issue; other ``measure:`` texts are shown as written."""


def _run(folder: Path, scenario: str, rep: int) -> tuple[pd.DataFrame, dict[str, Any]]:
    d = folder / scenario / f"rep{rep}"
    kpis = json.loads((d / "kpis.json").read_text(encoding="utf-8"))
    intervals = pd.read_parquet(d / "intervals.parquet",
                                columns=["grid_import_kwh", "electricity_cost", "price_per_kwh"])
    return intervals, kpis


def savings_by_cause(folder: str | Path, names: list[str], base: str, reps: int
                     ) -> pd.DataFrame:
    """The ``savings_by_cause.csv`` table of a study folder (see the module doc)."""
    from twin.study import annualise, mean_ci

    folder = Path(folder)
    base_runs = [_run(folder, base, k) for k in range(reps)]
    rows = []
    labels = dict(CAUSES)
    labels["total"] = N_("Total (change of total energy cost)")
    for s in names:
        if s == base:
            continue
        parts: dict[str, list[float]] = {c: [] for c in labels}
        days = []
        for k in range(reps):
            intervals, kpis = _run(folder, s, k)
            by = runs_by_cause(base_runs[k][0], base_runs[k][1], intervals, kpis)
            for c in labels:
                parts[c].append(by[c])
            days.append(float(kpis.get("simulated_days") or math.nan))
        mean_days = float(np.mean(days))
        for c, label in labels.items():
            m = mean_ci(parts[c])
            rows.append({"scenario": s, "cause": c, "label": label, "n": m.n, "mean": m.mean,
                         "ci_low": m.low, "ci_high": m.high,
                         "mean_per_year": annualise(m.mean, mean_days)})
    return pd.DataFrame(rows, columns=list(CAUSE_COLUMNS))


def _levels(folder: Path, scenario: str, reps: int) -> tuple[float, float]:
    """Mean over replications of (net CO2 market-based after offsets [t/yr], cost [cur/yr])."""
    co2, cost = [], []
    for k in range(reps):
        kpis = json.loads((folder / scenario / f"rep{k}" / "kpis.json").read_text(
            encoding="utf-8"))
        days = float(kpis.get("simulated_days") or math.nan)
        per_year = 365.0 / days
        retired = float(((kpis.get("evaluation") or {}).get("offsets") or {})
                        .get("retired_t", {}).get("total") or 0.0)
        gross = (float(kpis.get("co2_scope1_kg") or 0.0)
                 + float(kpis.get("co2_scope2_market_kg") or 0.0)) / 1000.0
        co2.append((gross - retired) * per_year)
        cost.append(float(kpis.get("cost_total") or 0.0) * per_year)
    return float(np.mean(co2)), float(np.mean(cost))


def step_label(scenario: str, measure: str | None) -> str:
    """The bar label of a waterfall step: the measure's label, else the scenario's name."""
    if not measure:
        return scenario
    return MEASURE_LABELS.get(measure, measure)


def waterfall_table(folder: str | Path, study: Any, reps: int) -> pd.DataFrame:
    """The ``waterfall.csv`` table of a study folder with a ``waterfall:`` chain (empty
    without one); ``study`` is the :class:`twin.config.study.Study`."""
    folder = Path(folder)
    wf = study.waterfall
    if wf is None:
        return pd.DataFrame(columns=list(WATERFALL_COLUMNS))
    chain = [study.base, *wf.steps]
    levels = {s: _levels(folder, s, reps) for s in chain}
    rows = []
    for chart, pos, unit, target in (("co2", 0, "tCO2e/yr", wf.co2_target_t_per_year),
                                     ("cost", 1, f"{study.currency}/yr",
                                      wf.cost_target_per_year)):
        bars = from_levels(
            (f"Base ({study.base})", levels[study.base][pos]),
            [(step_label(s, study.scenarios[s].measure), levels[s][pos]) for s in wf.steps],
            end_label=f"Result ({wf.steps[-1]})", target=target)
        scen = [study.base, *wf.steps, wf.steps[-1]] + (["", ""] if target is not None else [])
        for order, (bar, s) in enumerate(zip(bars, scen, strict=True)):
            rows.append({"chart": chart, "order": order, "label": bar["label"], "scenario": s,
                         "kind": bar["kind"], "start": bar["start"], "end": bar["end"],
                         "delta": bar["delta"], "unit": unit})
    return pd.DataFrame(rows, columns=list(WATERFALL_COLUMNS))
