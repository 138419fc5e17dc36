"""The run dashboard: one self-contained HTML page from a run folder.

>>> from twin.dashboard import write_dashboard
>>> write_dashboard("results/demo")          # doctest: +SKIP
PosixPath('results/demo/dashboard.html')

The page reads only the run folder (``hourly.parquet``, ``kpis.json``, ``manifest.json``,
``equipment.csv``, ``lots.parquet``, ``intervals.parquet``), embeds plotly.js once and needs no
network, so it opens from a USB stick. It shows KPI cards, hourly energy by group, a day x hour
heatmap, a Sankey of energy flows from sources through carriers to uses, energy by
carrier/group/equipment, CO2 by scope (location- and market-based, with the factors used) and per
day and hour, time per power state per station, a station table and lead-time histograms per
product and the zero-carbon evaluation table (pass/fail per indicator with its margin). A run
with an energy supply (PV, wind, battery or a tariff) adds
supply cards, a week-by-week supply-and-demand chart on the price background, storage levels, a
day x hour grid-import heatmap, monthly grid-import peaks and monthly cost.
"""

from __future__ import annotations

import os
from pathlib import Path

from twin.atomic import write_text
from twin.dashboard.data import RunData, RunFolderError, load
from twin.dashboard.page import (
    EVALUATION_TABLE_ID,
    FIGURE_IDS,
    FOOTPRINT_FIGURE_IDS,
    SUPPLY_FIGURE_IDS,
    render,
)
from twin.i18n import language_of, use

__all__ = ["EVALUATION_TABLE_ID", "FIGURE_IDS", "FOOTPRINT_FIGURE_IDS", "SUPPLY_FIGURE_IDS",
           "RunData", "RunFolderError", "build_html", "load", "write_dashboard"]

FILENAME = "dashboard.html"


def build_html(run_dir: str | os.PathLike[str], name: str | None = None,
               lang: str | None = None) -> str:
    """The dashboard page of the run folder ``run_dir`` as an HTML string; ``name`` is the
    folder name shown on the page (default: the folder's own); ``lang`` "en" or "zh" (default:
    the plant file's ``site.language``, else English; see :mod:`twin.i18n`)."""
    data = load(Path(run_dir))
    if name is not None:
        data.run_dir = data.run_dir.resolve().with_name(name)
    with use(language_of(data.manifest, lang)):
        return render(data)


def write_dashboard(run_dir: str | os.PathLike[str], name: str | None = None,
                    lang: str | None = None) -> Path:
    """Write ``run_dir/dashboard.html`` from the run folder and return its path.

    The file is written to a temporary file in ``run_dir`` and renamed into place, so a reader
    never sees half a page and a failed write leaves any previous dashboard untouched. ``name``
    is the folder name shown on the page, for a folder still being built under a temporary name;
    ``lang`` the page's language (see :func:`build_html`).

    Raises
    ------
    FileNotFoundError
        If ``run_dir`` is not a run folder (no ``hourly.parquet``, ``kpis.json`` or
        ``manifest.json``) or one of its files is damaged (:class:`RunFolderError`).
    """
    d = Path(run_dir)
    text = build_html(d, name, lang)
    return write_text(d / FILENAME, text)
