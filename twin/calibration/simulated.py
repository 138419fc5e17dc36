"""What the model says each meter reads, and how that moves with the power parameters.

A meter measures the energy of some equipment groups in one carrier, or a site quantity (all
consumption, the grid import or export, the PV output). For every meter this module finds the
hourly-table columns of a run that make up the same quantity (:func:`channels`), and runs the
plant once to give, per hour, the simulated reading and its sensitivity to each linear
parameter (:func:`simulate_channels`).

Power enters the energy linearly once the state timeline is known: the energy of equipment
``e`` in hour ``h`` is ``sum_s T[h, e, s] * P[e, s] / 3600`` with ``T`` the seconds it spends in
state ``s`` (kept by :meth:`twin.metering.Meter.keep_state_time`) and ``P`` its power table
[kW]. A parameter that moves the power tables by ``D`` per unit therefore moves a meter by
``T @ D / 3600`` [kWh per unit] — exactly for meters of equipment groups and of the site's
consumption of a carrier equipment draws directly; for the grid import it is the consumption's
sensitivity (exact while the battery, PV and limits do not react, otherwise corrected by
simulating again).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from twin.config.plant import CARRIERS, Plant
from twin.equipment.states import N_STATES

SITE_COLUMNS: dict[tuple[str, str], str] = {
    ("consumption", "electricity"): "electricity_demand_kwh",
    ("consumption", "natural_gas"): "fuel_kwh",
    ("consumption", "heat"): "heat_demand_kwh",
    ("consumption", "cooling"): "cooling_demand_kwh",
    ("grid_import", "electricity"): "grid_import_kwh",
    ("grid_export", "electricity"): "grid_export_kwh",
    ("pv", "electricity"): "pv_kwh",
}
"""Hourly-table column of each site quantity a meter may measure (``site``, ``carrier``)."""


@dataclass(frozen=True)
class Channel:
    """How the model reads one meter."""

    name: str
    """The meter's name (its column in the meter file)."""
    target: str
    """``group:a+b`` or ``site:consumption`` (for people)."""
    carrier: int
    """Index in :data:`twin.config.plant.CARRIERS`."""
    columns: tuple[str, ...]
    """Hourly-table columns summed (a column a run lacks counts as zero)."""
    groups: tuple[str, ...] | None
    """Equipment groups whose power parameters move this meter (``None``: all groups)."""
    sensitive: bool
    """Whether power parameters move this meter at all (not PV or export)."""
    exact: bool
    """Whether the sensitivity is exact (group and consumption meters) or the consumption's,
    taken for the grid import."""


def channels(targets: dict, plant: Plant) -> list[Channel]:
    """One :class:`Channel` per meter, in the order of ``targets`` (name ->
    :class:`twin.measured.MeterTarget`)."""
    out: list[Channel] = []
    for name, t in targets.items():
        carrier = CARRIERS.index(t.carrier)
        if t.site is not None:
            key = (t.site, t.carrier)
            if key not in SITE_COLUMNS:
                raise ValueError(f"meter {name}: site {t.site} has no {t.carrier} reading; "
                                 "expected " + ", ".join(f"{s}/{c}" for s, c in SITE_COLUMNS))
            sensitive = t.site in ("consumption", "grid_import")
            out.append(Channel(name, f"site:{t.site}", carrier, (SITE_COLUMNS[key],), None,
                               sensitive, t.site == "consumption"))
        else:
            groups = tuple(t.group)
            out.append(Channel(name, "group:" + "+".join(groups), carrier,
                               tuple(f"{t.carrier}_kwh:{g}" for g in groups), groups, True,
                               True))
    return out


@dataclass
class SimulatedChannels:
    """One run's readings of every meter, per local hour."""

    index: pd.DatetimeIndex
    """Local hour starts of the compared period."""
    values: np.ndarray
    """Simulated kWh per hour, shape ``(hours, channels)``."""
    sensitivity: np.ndarray | None
    """kWh per hour per unit of each linear parameter, shape ``(hours, channels, linear)``."""
    runs: int = 1


def power_deltas(plant_at, params: list, before: dict[str, float]) -> np.ndarray:
    """Change of every equipment's power table per unit of each linear parameter, shape
    ``(linear, equipment, states, carriers)`` [kW per unit] (exact: the tables are linear in
    these fields, checked when the calibration file is loaded)."""
    from twin.engine import equipment_tables

    base = np.array(equipment_tables(plant_at(before))[1])
    out = []
    for p in params:
        h = (p.max - p.min) / 4
        x = p.before + h if p.before + h <= p.max else p.before - h
        moved = np.array(equipment_tables(plant_at({**before, p.path: x}))[1])
        out.append((moved - base) / (x - p.before))
    return np.array(out) if out else np.zeros((0, *base.shape))


def simulate_channels(plant: Plant, start: dt.date, days: int, warmup_days: int, seed: int,
                      chans: list[Channel], deltas: np.ndarray | None) -> SimulatedChannels:
    """Run ``plant`` from ``warmup_days`` before ``start`` to ``start + days`` and read every
    meter per hour of the compared period; with ``deltas`` (see :func:`power_deltas`) also the
    readings' sensitivity to each linear parameter."""
    from twin import engine, results

    sim_start = start - dt.timedelta(days=warmup_days)
    model = engine.build(plant, days + warmup_days, sim_start, seed)
    want = deltas is not None and len(deltas) > 0
    if want:
        model.meter.keep_state_time()
    engine.run(model, False)
    res = results.collect(model, 0.0, 0)
    hourly = res.hourly
    # the compared hours: local midnight of start to local midnight days later (a day across a
    # daylight-saving change has 23 or 25 of them)
    tz = plant.site.timezone
    t0 = pd.Timestamp(start).tz_localize(tz)
    t1 = pd.Timestamp(start + dt.timedelta(days=days)).tz_localize(tz)
    pos = np.flatnonzero((hourly.index >= t0) & (hourly.index < t1))
    index = hourly.index[pos]
    values = np.zeros((pos.size, len(chans)))
    for k, ch in enumerate(chans):
        for col in ch.columns:
            if col in hourly.columns:
                values[:, k] += hourly[col].to_numpy(dtype=float)[pos]
    sens = None
    if want:
        sens = _sensitivity(model, chans, deltas, pos)
    return SimulatedChannels(index, values, sens)


def _sensitivity(model, chans: list[Channel], deltas: np.ndarray, pos: np.ndarray
                 ) -> np.ndarray:
    meter = model.meter
    per_hour = round(3600.0 / meter.interval_s)
    t = meter.state_interval_s
    n_int = t.shape[0]
    pad = (-n_int) % per_hour
    if pad:
        t = np.vstack([t, np.zeros((pad, t.shape[1]))])
    t_hour = t.reshape(-1, per_hour, t.shape[1]).sum(axis=1)[pos]  # [s]
    n = pos.size
    groups = np.array([e.group for e in model.equipment])
    n_lin = deltas.shape[0]
    w = np.zeros((meter.n_eq * N_STATES, len(chans) * n_lin))
    for k, ch in enumerate(chans):
        if not ch.sensitive:
            continue
        mask = np.ones(len(groups), bool) if ch.groups is None else np.isin(groups, ch.groups)
        for j in range(n_lin):
            w[:, k * n_lin + j] = (deltas[j, :, :, ch.carrier] * mask[:, None]).ravel() / 3600.0
    return (t_hour @ w).reshape(n, len(chans), n_lin)
