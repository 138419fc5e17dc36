"""Everything about a run that can be known before it starts, checked without running it.

``twin validate`` checks the plant file itself (:func:`twin.config.load_plant`); the files it
names (weather, hourly grid factors, order books and plan files), the tariff preset for the
simulated dates, the customer class and TOU ratios are only read when the model is built.
:func:`check_run_inputs` builds the model once, without running it, so that those problems are
reported by ``validate`` and before the first run of ``twin compare`` instead of after minutes of
simulation.
"""

from __future__ import annotations

import datetime as dt

from twin.config.plant import Plant


def check_run_inputs(plant: Plant, days: float | None = None, start: dt.date | None = None,
                     seed: int | None = None) -> list[str]:
    """Build the model of ``plant`` for ``days`` from ``start`` (defaults: the plant's) and
    discard it; return the warnings about its inputs (e.g. a weather station far from the site).

    Raises
    ------
    SupplyError
        A weather or hourly-factor file that cannot be read or does not cover the period, a
        tariff preset, class or ratio that cannot be used for it (the message starts with the
        field path).
    MeterDataError
        An order book or plan file with a bad row, column or file
        (:class:`twin.production.order_book.OrderFileError`, ``file: line N: column 'x': ...``).
    """
    from twin import engine

    sim = plant.simulation
    model = engine.build(plant, float(sim.days if days is None else days),
                         sim.start if start is None else start,
                         sim.seed if seed is None else seed)
    return list(getattr(model.supply_info, "warnings", ()))
