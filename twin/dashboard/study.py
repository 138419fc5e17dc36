"""The study dashboard: one self-contained HTML page from a study folder (``twin compare``).

>>> from twin.dashboard.study import write_study_dashboard
>>> write_study_dashboard("results/demo_study")          # doctest: +SKIP
PosixPath('results/demo_study/dashboard.html')

The page reads only the study folder (``study.json``, ``comparison.csv``, ``economics.csv``,
``macc.csv`` and the first replication's ``hourly.parquet`` of every scenario), shares the run
dashboard's shell (styles, plotly.js embedded once, escaping, colours) and shows: KPI bars per
scenario with their confidence intervals, the paired differences against the base with their
intervals, the economics table and the marginal abatement cost curve, and an overlay of hourly
grid import and site demand for the base and a scenario chosen from a menu.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from twin.atomic import write_text
from twin.dashboard import theme
from twin.dashboard.data import RunFolderError
from twin.dashboard.figures import esc, hourly_x
from twin.dashboard.page import _note, _section, html_page
from twin.dashboard.plot import Figure, axis_key, cell_axes, figure_html, subplot_layout, trace
from twin.i18n import N_, current, message, money_unit, tr
from twin.study import format_interval

FILENAME = "dashboard.html"

STUDY_FIGURE_IDS = ("fig-study-kpis", "fig-study-diffs", "fig-study-profiles")
"""Div ids of the figures of every study page (the tests look for them)."""
CAUSES_FIGURE_ID = "fig-study-causes"
"""Div id of the cost difference by cause, present when the study has a scenario besides the
base."""
WATERFALL_FIGURE_IDS = ("fig-study-waterfall-co2", "fig-study-waterfall-cost")
"""Div ids of the carbon and cost waterfalls, present when the study has a ``waterfall:``."""
MACC_FIGURE_ID = "fig-study-macc"
"""Div id of the MACC, present when an upgrade avoids CO2."""

BAR_KPIS = ("units_completed", "electricity_kwh", "grid_import_kwh", "peak_demand_kw",
            "cost_total", "co2_total_location_kg", "renewable_electricity_share",
            "kwh_per_unit")
"""KPIs drawn as bars with intervals, one panel each (those the study has)."""

DIFF_KPIS = ("electricity_kwh", "grid_import_kwh", "natural_gas_kwh", "peak_demand_kw",
             "cost_total", "co2_total_location_kg", "co2_total_market_kg", "kwh_per_unit",
             "units_completed")
"""KPIs of the paired-difference chart, top to bottom."""


@dataclass
class StudyData:
    """What the study page reads from a study folder."""

    folder: Path
    manifest: dict[str, Any]
    comparison: pd.DataFrame
    economics: pd.DataFrame
    macc: pd.DataFrame
    hourly: dict[str, pd.DataFrame]
    """Scenario -> hourly table of its first replication (grid import, site demand)."""
    causes: pd.DataFrame = field(default_factory=pd.DataFrame)
    """``savings_by_cause.csv`` (:mod:`twin.study_savings`); empty in older study folders."""
    waterfall: pd.DataFrame = field(default_factory=pd.DataFrame)
    """``waterfall.csv``; empty without a ``waterfall:`` chain in the study file."""

    @property
    def names(self) -> list[str]:
        return list(self.manifest["scenarios"])

    @property
    def base(self) -> str:
        return str(self.manifest["base"])

    @property
    def currency(self) -> str:
        return str(self.manifest.get("currency", ""))

    def color(self, scenario: str) -> str:
        if scenario == self.base:
            return theme.BASE_SCENARIO_COLOR
        others = [s for s in self.names if s != self.base]
        return theme.SCENARIO_PALETTE[others.index(scenario) % len(theme.SCENARIO_PALETTE)]

    def row(self, scenario: str, kpi: str) -> pd.Series | None:
        """The first row of ``comparison`` for ``scenario`` and ``kpi``, None if it has none."""
        pos = self._row_positions.get((scenario, kpi))
        return None if pos is None else self.comparison.iloc[pos]

    @cached_property
    def _row_positions(self) -> dict[tuple[Any, Any], int]:
        """Position of the first row of each (scenario, kpi) in ``comparison`` (the page looks
        rows up hundreds of times)."""
        pairs = zip(self.comparison["scenario"], self.comparison["kpi"], strict=True)
        out: dict[tuple[Any, Any], int] = {}
        for pos, pair in enumerate(pairs):
            out.setdefault(pair, pos)
        return out


def load_study_folder(folder: str | os.PathLike[str]) -> StudyData:
    """Read a study folder written by :func:`twin.study.run_study`.

    Raises FileNotFoundError if ``folder`` has no ``study.json`` or ``comparison.csv``."""
    d = Path(folder)
    for name in ("study.json", "comparison.csv"):
        if not (d / name).is_file():
            raise FileNotFoundError(f"{d}: not a study folder (no {name}); expected the --out "
                                    f"folder of 'twin compare'")
    try:
        manifest = json.loads((d / "study.json").read_text())

        def csv(name: str) -> pd.DataFrame:
            p = d / name
            return pd.read_csv(p) if p.is_file() and p.stat().st_size > 1 else pd.DataFrame()

        hourly = {}
        comparison = csv("comparison.csv")
        for s in _profiled(manifest, comparison):
            p = d / str(s) / "rep0" / "hourly.parquet"
            if p.is_file():
                hourly[s] = pd.read_parquet(p, columns=["electricity_demand_kwh",
                                                        "grid_import_kwh"])
        return StudyData(d, manifest, comparison, csv("economics.csv"),
                         csv("macc.csv"), hourly, csv("savings_by_cause.csv"),
                         csv("waterfall.csv"))
    except (OSError, ValueError, KeyError, TypeError, UnicodeDecodeError,
            pa.ArrowException) as exc:
        raise RunFolderError(f"{d}: damaged study folder ({type(exc).__name__}); rerun "
                             "'twin compare'") from None


def _profiled(manifest: dict[str, Any], comparison: pd.DataFrame) -> list[str]:
    """Scenarios whose hourly profiles the page draws: all, or for a large study
    (:data:`~twin.dashboard.study_large.LARGE_STUDY`) the base and the few of lowest mean total
    cost, so the page stays small."""
    from twin.dashboard.study_large import LARGE_STUDY, PROFILE_SCENARIOS

    names = [str(s) for s in manifest["scenarios"]]
    if len(names) <= LARGE_STUDY or not len(comparison):
        return names
    cost = comparison[comparison["kpi"] == "cost_total"].set_index("scenario")["mean"]
    ranked = [s for s in cost.sort_values(kind="stable").index.astype(str)
              if s != str(manifest["base"])]
    return [str(manifest["base"]), *ranked[:PROFILE_SCENARIOS]]


# ---------------------------------------------------------------------------------------------
# figures


def _label_unit(data: StudyData, kpi: str) -> tuple[str, str]:
    from twin.study import KPIS

    for name, unit, label in KPIS:
        if name == kpi:
            return tr(label), unit.replace("{cur}", data.currency)
    return kpi, ""


def kpi_bars(data: StudyData) -> Figure:
    """One panel per KPI: a bar per scenario at its mean, error bars = 95 % interval."""
    kpis = [k for k in BAR_KPIS if data.row(data.base, k) is not None
            and any(float(data.row(s, k)["mean"]) for s in data.names)]  # all zero: not shown
    cols = 4
    rows = max(1, math.ceil(len(kpis) / cols))
    titles = []
    for k in kpis:
        label, unit = _label_unit(data, k)
        titles.append(f"{esc(label)} [{'%' if unit == '-' else esc(unit)}]")
    layout = subplot_layout(rows, cols, titles=titles, horizontal_spacing=0.07,
                            vertical_spacing=0.2)
    for note in layout.get("annotations", []):
        note["font"] = {"size": 13}
    names = data.names
    traces = []
    for i, k in enumerate(kpis):
        x, y = cell_axes(i)
        unit = _label_unit(data, k)[1]
        scale = 100.0 if unit == "-" else 1.0
        means, errs, texts = [], [], []
        for s in names:
            row = data.row(s, k)
            m = float(row["mean"]) * scale
            half = (float(row["ci_high"]) - float(row["mean"])) * scale
            means.append(m)
            errs.append(half if math.isfinite(half) else 0.0)
            texts.append("n=1, no interval" if int(row["n"]) <= 1 else
                         f"± {half:,.4g} (95 % CI, n={int(row['n'])})")
        traces.append(trace(
            "bar", x=[esc(s) for s in names], y=means,
            marker={"color": [data.color(s) for s in names]},
            error_y={"type": "data", "array": errs,
                     "visible": any(int(data.row(s, k)["n"]) > 1 for s in names),
                     "color": theme.TEXT,
                     "thickness": 1.5, "width": 5},
            customdata=texts, showlegend=False,
            hovertemplate="%{x}: %{y:,.4g} %{customdata}<extra></extra>", xaxis=x, yaxis=y))
        top = max((abs(v) for v in means if math.isfinite(v)), default=0.0)
        layout[axis_key(y)].update(rangemode="tozero", gridcolor=theme.GRID,
                                   tickformat=",~s" if top >= 1000 else "")
        layout[axis_key(x)]["tickangle"] = 0 if len(names) <= 3 else -30
    layout.update(theme.base_layout(300 * rows + 40, bargap=0.3,
                                    margin={"l": 60, "r": 20, "t": 50, "b": 60}))
    return Figure(data=traces, layout=layout)


def diff_bars(data: StudyData) -> Figure:
    """Paired difference of each scenario against the base, in % of the base mean, with the
    95 % interval as error bars; hover shows the absolute difference with its unit."""
    others = [s for s in data.names if s != data.base]
    kpis = [k for k in DIFF_KPIS if data.row(data.base, k) is not None]
    labels = [esc(_label_unit(data, k)[0]) for k in kpis]
    traces = []
    for s in others:
        x, err_hi, err_lo, hover = [], [], [], []
        for k in kpis:
            row = data.row(s, k)
            base_mean = float(data.row(data.base, k)["mean"])
            unit = _label_unit(data, k)[1]
            ok = base_mean != 0 and math.isfinite(base_mean)
            f = 100.0 / abs(base_mean) if ok else math.nan
            d, lo, hi = (float(row[c]) for c in ("diff_mean", "diff_ci_low", "diff_ci_high"))
            x.append(d * f if ok else None)
            err_hi.append((hi - d) * f if ok and math.isfinite(hi) else 0.0)
            err_lo.append((d - lo) * f if ok and math.isfinite(lo) else 0.0)
            shown_unit = "pp" if unit == "-" else esc(unit)
            scale = 100.0 if unit == "-" else 1.0
            ci = ("n=1, no interval" if int(row["n"]) <= 1 else
                  f"95 % CI {lo * scale:+,.4g} to {hi * scale:+,.4g} {shown_unit}")
            hover.append(f"{d * scale:+,.4g} {shown_unit} ({ci})")
        traces.append(trace(
            "bar", y=labels, x=x, orientation="h", name=esc(s), marker={"color": data.color(s)},
            error_x={"type": "data", "symmetric": False, "array": err_hi, "arrayminus": err_lo,
                     "color": theme.TEXT, "thickness": 1.5, "width": 4},
            customdata=hover,
            hovertemplate=f"{esc(s)}: %{{x:+.2f}} " + tr("% of {x}", x=esc(data.base))
                          + "<br>%{customdata}<extra></extra>"))
    return Figure(data=traces, layout=theme.base_layout(
        max(320, 70 + 26 * len(kpis) * max(1, len(others))), barmode="group",
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0,
                "title": {"text": tr("Scenario ")}},
        margin={"l": 200, "r": 30, "t": 40, "b": 50},
        xaxis={"title": {"text": tr("Difference against {x} [% of its mean]", x=esc(data.base))},
               "zeroline": True, "zerolinecolor": theme.TEXT, "zerolinewidth": 1.5,
               "gridcolor": theme.GRID, "ticksuffix": " %"},
        yaxis={"autorange": "reversed"}))


def causes_chart(data: StudyData) -> Figure:
    """Cost difference against the base by cause, one horizontal stacked bar per scenario
    (negative = saving), with the total as a diamond; hover shows the interval."""
    c = data.causes
    others = list(dict.fromkeys(c["scenario"]))
    parts = [x for x in dict.fromkeys(c["cause"]) if x != "total"]
    cur = esc(data.currency)
    traces = []
    colors = theme.SCENARIO_PALETTE
    for j, cause in enumerate(parts):
        sub = c[c["cause"] == cause].set_index("scenario")
        if not (sub["mean"].abs() > 0).any():
            continue  # a cause that moves nothing in any scenario (e.g. no export) is not drawn
        hover = [format_interval(float(sub.loc[s, "mean"]), float(sub.loc[s, "ci_low"]), "",
                                 int(sub.loc[s, "n"]), signed=True) for s in others]
        traces.append(trace(
            "bar", y=[esc(s) for s in others], x=[float(sub.loc[s, "mean"]) for s in others],
            orientation="h", name=esc(message(str(sub["label"].iloc[0]))),
            marker={"color": colors[j % len(colors)]}, customdata=hover,
            hovertemplate=f"%{{y}}: %{{customdata}} {cur}<extra>%{{fullData.name}}</extra>"))
    tot = c[c["cause"] == "total"].set_index("scenario")
    traces.append(trace(
        "scatter", mode="markers", y=[esc(s) for s in others],
        x=[float(tot.loc[s, "mean"]) for s in others], name=tr("Total"),
        marker={"symbol": "diamond", "size": 12, "color": theme.TEXT},
        hovertemplate=f"%{{y}} {tr('total')}: %{{x:+,.0f}} {cur}<extra></extra>"))
    return Figure(data=traces, layout=theme.base_layout(
        max(260, 90 + 46 * len(others)), barmode="relative",
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0},
        margin={"l": 160, "r": 30, "t": 60, "b": 50},
        xaxis={"title": {"text": tr("Scenario minus {x} [{cur}, simulated period]",
                                    x=esc(data.base), cur=cur)},
               "zeroline": True, "zerolinecolor": theme.TEXT, "zerolinewidth": 1.5,
               "gridcolor": theme.GRID, "tickformat": ","},
        yaxis={"autorange": "reversed"}))


def waterfall_chart(data: StudyData, chart: str) -> Figure:
    """The waterfall ``chart`` ('co2' or 'cost') of ``waterfall.csv``: base, one bar per step,
    result, and the gap to the target."""
    w = data.waterfall[data.waterfall["chart"] == chart].sort_values("order")
    unit = esc(str(w["unit"].iloc[0]))
    measure = {"total": "absolute", "target": "absolute", "step": "relative",
               "gap": "relative"}
    kinds = list(w["kind"])
    y = [float(e) if k in ("total", "target") else float(d)
         for k, e, d in zip(kinds, w["end"], w["delta"], strict=True)]
    text = [f"{v:,.0f}" if k in ("total", "target") else f"{v:+,.0f}"
            for k, v in zip(kinds, y, strict=True)]
    good, bad = theme.WATERFALL_DOWN, theme.WATERFALL_UP
    fig_trace = trace(
        "waterfall", x=[esc(x) for x in w["label"]], y=y,
        measure=[measure[k] for k in kinds], text=text, textposition="outside",
        connector={"line": {"color": theme.GRID}},
        decreasing={"marker": {"color": good}}, increasing={"marker": {"color": bad}},
        totals={"marker": {"color": theme.BASE_SCENARIO_COLOR}},
        hovertemplate=f"%{{x}}: %{{text}} {unit}<extra></extra>")
    return Figure(data=[fig_trace], layout=theme.base_layout(
        400, showlegend=False, margin={"l": 80, "r": 30, "t": 30, "b": 90},
        yaxis={"title": {"text": unit}, "gridcolor": theme.GRID, "tickformat": ",",
               "zeroline": True, "zerolinecolor": theme.TEXT}))


def macc_chart(data: StudyData) -> Any:
    """The marginal abatement cost curve (:func:`twin.economics.macc_figure`, a plotly graph
    object) in the page's theme."""
    from twin.economics import macc_figure

    fig = macc_figure(data.macc, currency=data.currency)
    fig.update_layout(**theme.base_layout(420, title=None, bargap=0,
                                          margin={"l": 80, "r": 30, "t": 30, "b": 60}))
    fig.update_xaxes(gridcolor=theme.GRID)
    fig.update_yaxes(gridcolor=theme.GRID, zerolinecolor=theme.TEXT)
    return fig


def best_scenario(data: StudyData) -> str | None:
    """The scenario with the lowest mean total cost (else electricity use) other than the base."""
    others = [s for s in data.names if s != data.base and s in data.hourly]
    if not others:
        return None
    for kpi in ("cost_total", "electricity_kwh"):
        rows = [(data.row(s, kpi), s) for s in others]
        vals = [(float(r["mean"]), s) for r, s in rows if r is not None
                and math.isfinite(float(r["mean"]))]
        if vals and (kpi != "cost_total" or any(v for v, _ in vals)):
            return min(vals)[1]
    return others[0]


def profile_overlay(data: StudyData) -> Figure:
    """Hourly grid import (solid) and site demand (dotted) of the base and one other scenario
    (first replication, same seed), with a menu to pick the other scenario."""
    base = data.base
    others = [s for s in data.names if s != base and s in data.hourly]
    chosen = best_scenario(data)
    order = [base, *others]
    traces = []
    tz = ""
    for s in order:
        h = data.hourly.get(s)
        if h is None:
            continue
        idx = h.index
        tz = str(getattr(idx, "tz", "") or "")
        wall = idx.tz_localize(None) if getattr(idx, "tz", None) is not None else idx
        xspec = hourly_x(wall)
        visible = s in (base, chosen)
        for col, what, dash in _LINES:
            what = tr(what)
            traces.append(trace(
                "scatter", **xspec, y=h[col].to_numpy(dtype=np.float32), mode="lines",
                name=f"{esc(s)}: {what}", legendgroup=esc(s), visible=visible,
                line={"color": data.color(s), "width": 1.6 if dash == "solid" else 1.2,
                      "dash": dash, "shape": "hv"},
                hovertemplate=f"{esc(s)} {what}: %{{y:,.1f}} kWh<extra></extra>"))
    present = [s for s in order if s in data.hourly]
    buttons = []
    for s in others:
        vis = [p in (base, s) for p in present for _ in range(2)]
        buttons.append({"label": f"{esc(base)} vs {esc(s)}", "method": "restyle",
                        "args": [{"visible": vis}]})
    menus = []
    if len(buttons) > 1:
        menus = [{"buttons": buttons, "direction": "down", "x": 0, "xanchor": "left",
                  "y": 1.14, "yanchor": "bottom", "showactive": True,
                  "active": others.index(chosen) if chosen in others else 0}]
    xaxis = {
        "type": "date", "gridcolor": theme.GRID,
        "title": {"text": tr("Local time ({tz})", tz=esc(tz))},
        "hoverformat": "%a %d %b %Y, %H:%M",
        "rangeslider": {"visible": True, "thickness": 0.07},
        "rangeselector": {"buttons": [
            {"count": 1, "label": tr("1 day"), "step": "day", "stepmode": "backward"},
            {"count": 7, "label": tr("1 week"), "step": "day", "stepmode": "backward"},
            {"label": tr("All"), "step": "all"},
        ], "x": 0.3 if menus else 0, "xanchor": "left", "y": 1.14, "yanchor": "bottom"}}
    return Figure(data=traces, layout=theme.base_layout(
        460, hovermode="x unified", updatemenus=menus or None,
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 1, "xanchor": "right"},
        margin={"l": 80, "r": 30, "t": 90, "b": 40}, xaxis=xaxis,
        yaxis={"title": {"text": tr("kWh per hour")}, "rangemode": "tozero",
               "gridcolor": theme.GRID, "tickformat": ","}))


LDC_FIGURE_ID = "fig-study-ldc"
"""Div id of the study's load-duration curves (present with hourly data)."""
AVERAGE_DAY_FIGURE_ID = "fig-study-avgday"
"""Div id of the study's average-day overlays (present with hourly data)."""
_SEASON_NAMES = {"winter": N_("Winter"), "spring": N_("Spring"), "summer": N_("Summer"),
                 "autumn": N_("Autumn")}
_DAY_NAMES = {"weekday": N_("weekdays"), "weekend": N_("weekends")}
_LINES = (("grid_import_kwh", N_("grid import"), "solid"),
          ("electricity_demand_kwh", N_("site demand"), "dot"))


def _scenario_menu(data: StudyData, per_scenario: int, y: float = 1.1) -> list[dict[str, Any]]:
    """A menu choosing which scenario is drawn beside the base, for figures with
    ``per_scenario`` traces per scenario in the order base, then the others with hourly data."""
    base = data.base
    others = [s for s in data.names if s != base and s in data.hourly]
    present = [base, *others] if base in data.hourly else others
    chosen = best_scenario(data)
    buttons = [{"label": f"{esc(base)} vs {esc(s)}", "method": "restyle",
                "args": [{"visible": [p in (base, s) for p in present
                                     for _ in range(per_scenario)]}]} for s in others]
    if len(buttons) <= 1:
        return []
    return [{"buttons": buttons, "direction": "down", "x": 0, "xanchor": "left", "y": y,
             "yanchor": "bottom", "showactive": True,
             "active": others.index(chosen) if chosen in others else 0}]


def _drawn(data: StudyData) -> list[str]:
    """Scenarios with hourly data, base first."""
    return [s for s in [data.base, *[n for n in data.names if n != data.base]]
            if s in data.hourly]


def load_duration_overlay(data: StudyData) -> Figure:
    """Load-duration curves (:func:`twin.dashboard.profiles.load_duration`) of grid import
    (solid) and site demand (dotted) of the base and one other scenario (first replication),
    with a menu to pick the other scenario."""
    from twin.dashboard.profiles import load_duration

    chosen = best_scenario(data)
    traces = []
    for s in _drawn(data):
        h = data.hourly[s]
        for col, what, dash in _LINES:
            what = tr(what)
            traces.append(trace(
                "scatter", x0=1, dx=1, y=load_duration(h[col].to_numpy(dtype=float))
                .astype(np.float32), mode="lines", name=f"{esc(s)}: {what}",
                legendgroup=esc(s), visible=s in (data.base, chosen),
                line={"color": data.color(s), "width": 1.8 if dash == "solid" else 1.2,
                      "dash": dash, "shape": "hv"},
                hovertemplate=tr("{name}: {x} kW or more in {h} h", name=f"{esc(s)} {what}",
                                 x="%{y:,.1f}", h="%{x:,}") + "<extra></extra>"))
    menus = _scenario_menu(data, len(_LINES))
    return Figure(data=traces, layout=theme.base_layout(
        400, hovermode="x unified", updatemenus=menus or None,
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 1, "xanchor": "right"},
        margin={"l": 80, "r": 30, "t": 80, "b": 50},
        xaxis={"title": {"text": tr("Hours of the run at or above the level")},
               "gridcolor": theme.GRID, "tickformat": ","},
        yaxis={"title": {"text": tr("Hourly average power [kW]")}, "rangemode": "tozero",
               "gridcolor": theme.GRID, "tickformat": ","}))


def average_day_overlay(data: StudyData) -> Figure:
    """Average day (:func:`twin.dashboard.profiles.average_day`) of grid import (solid) and site
    demand (dotted) of the base and one other scenario, one panel per season (rows) and day type
    (columns) the runs have, with a menu to pick the other scenario."""
    from twin.dashboard.profiles import DAY_TYPES, SEASONS, average_day

    drawn = _drawn(data)
    days = {s: average_day(data.hourly[s], [c for c, _, _ in _LINES]) for s in drawn}
    cells = sorted({k[:2] for d in days.values() for k in d.index},
                   key=lambda c: (SEASONS.index(c[0]), DAY_TYPES.index(c[1])))
    seasons = list(dict.fromkeys(c[0] for c in cells))
    types = [t for t in DAY_TYPES if any(c[1] == t for c in cells)]
    cols = max(1, len(types))
    titles = [tr("{x}, {y}", x=tr(_SEASON_NAMES[season]), y=tr(_DAY_NAMES[t]))
              for season in seasons for t in types]
    layout = subplot_layout(max(1, len(seasons)), cols, titles=titles,
                            horizontal_spacing=0.06, vertical_spacing=0.12)
    chosen = best_scenario(data)
    traces = []
    for s in drawn:
        d = days[s]
        for col, what, dash in _LINES:
            what = tr(what)
            for i, season in enumerate(seasons):
                for j, t in enumerate(types):
                    x, y = cell_axes(i * cols + j)
                    if (season, t) in d.index.droplevel("hour"):
                        part = d.loc[(season, t)]
                        hours, vals = part.index.to_list(), part[col].to_numpy(np.float32)
                    else:
                        hours, vals = [], np.zeros(0, dtype=np.float32)
                    traces.append(trace(
                        "scatter", x=hours, y=vals, mode="lines", name=f"{esc(s)}: {what}",
                        legendgroup=esc(s), showlegend=i == 0 and j == 0,
                        visible=s in (data.base, chosen), xaxis=x, yaxis=y,
                        line={"color": data.color(s), "width": 1.8 if dash == "solid" else 1.2,
                              "dash": dash},
                        hovertemplate=f"{esc(s)} {what}, %{{x}}:00–%{{x}}:59: %{{y:,.1f}} kWh"
                                      "<extra></extra>"))
    for i in range(len(seasons) * cols):
        x, y = cell_axes(i)
        layout[axis_key(x)].update(range=[-0.5, 23.5], dtick=3, gridcolor=theme.GRID)
        layout[axis_key(y)].update(rangemode="tozero", gridcolor=theme.GRID, tickformat=",")
        if i % cols == 0:
            layout[axis_key(y)]["title"] = {"text": tr("kWh per hour")}
        if i >= (len(seasons) - 1) * cols:
            layout[axis_key(x)]["title"] = {"text": tr("Hour of the day (local)")}
    per = len(_LINES) * len(seasons) * len(types)
    menus = _scenario_menu(data, per, y=1.0 + 60 / (260 * max(1, len(seasons)) + 60))
    layout.update(theme.base_layout(
        260 * max(1, len(seasons)) + 100, updatemenus=menus or None,
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.06, "x": 1, "xanchor": "right"},
        margin={"l": 70, "r": 30, "t": 90, "b": 40}))
    return Figure(data=traces, layout=layout)


# ---------------------------------------------------------------------------------------------
# tables and page


def _n(x: Any, nd: int = 0) -> str:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return "n/a"
    return f"{v:,.{nd}f}" if math.isfinite(v) else "n/a"


def _wan(x: Any, div: float, nd: int = 0) -> str:
    """An amount of money as :func:`_n` shows it, or in 万元 to two decimals (``div`` 10 000)."""
    if div == 1.0:
        return _n(x, nd)
    try:
        return _n(float(x) / div, 2)
    except (TypeError, ValueError):
        return _n(x)


def economics_table(data: StudyData) -> str:
    """The upgrades' savings and metrics as an HTML table (user strings escaped)."""
    cur = esc(data.currency)
    div, unit = money_unit(data.currency)   # 万元 in Chinese; per tonne stays in yuan
    big = esc(unit)
    head = (f"<tr><th>{tr('Upgrade')}</th><th>{tr('Cost saving [{cur}/yr]', cur=big)}</th>"
            f"<th>{tr('CO₂ saving [t/yr]')}</th><th>{tr('Capex [{cur}]', cur=big)}</th>"
            f"<th>{tr('NPV [{cur}]', cur=big)}</th><th>IRR</th>"
            f"<th>{tr('Payback [yr]')}</th>"
            f"<th>{tr('Abatement cost [{cur}/tCO₂]', cur=cur)}</th></tr>")
    rows = []
    nd = 0 if div == 1.0 else 2
    def pm(r: pd.Series, col: str, nd: int) -> str:
        lo = r[f"{col}_ci_low"]
        half = float(r[col]) - float(lo) if pd.notna(lo) else math.nan
        d = div if col == "annual_cost_saving" else 1.0
        return _wan(r[col], d, nd) + (f" ± {_wan(half, d, nd)}" if math.isfinite(half)
                                      else "")

    for _, r in data.economics.iterrows():
        irr = r["irr"]
        rows.append(
            f"<tr><td>{esc(r['scenario'])}</td><td>{pm(r, 'annual_cost_saving', nd)}</td>"
            f"<td>{pm(r, 'annual_co2_saving_t', 1)}</td>"
            f"<td>{_wan(r['capex'], div)}</td><td>{_wan(r['npv'], div)}</td>"
            f"<td>{'n/a' if pd.isna(irr) else f'{float(irr):.1%}'}</td>"
            f"<td>{_n(r['simple_payback_years'], 1) if pd.notna(r['simple_payback_years']) else tr('never')}</td>"  # noqa: E501
            f"<td>{_n(r['levelised_abatement_cost_per_t'])}</td></tr>")
    return f'<table class="stations">{head}{"".join(rows)}</table>'


def comparison_table(data: StudyData) -> str:
    """Mean ± 95 % interval of every KPI per scenario, as an HTML table."""
    names = data.names
    head = (f"<tr><th>{tr('KPI')}</th><th>{tr('Unit')}</th>"
            + "".join(f"<th>{esc(s)}</th>" for s in names) + "</tr>")
    rows = []
    for kpi in dict.fromkeys(data.comparison["kpi"]):
        label, unit = _label_unit(data, kpi)
        cells = []
        for s in names:
            r = data.row(s, kpi)
            text = format_interval(float(r["mean"]), float(r["ci_low"]), unit, int(r["n"]))
            cells.append(f"<td>{esc(text)}</td>")
        rows.append(f"<tr><td>{esc(label)}</td><td>{'%' if unit == '-' else esc(unit)}</td>"
                    + "".join(cells) + "</tr>")
    return f'<table class="stations">{head}{"".join(rows)}</table>'


def scenario_list(data: StudyData) -> str:
    """The scenarios with their description, overrides, strategies and capex (escaped)."""
    specs = (data.manifest.get("study") or {}).get("scenarios") or {}
    items = []
    for s in data.names:
        spec = specs.get(s) or {}
        what = ([esc(str(spec["description"]).strip().rstrip("."))]
                if spec.get("description") else [])
        if spec.get("overrides"):
            what.append(tr("overrides ") + ", ".join(f"<code>{esc(k)}</code>"
                                                for k in spec["overrides"]))
        if spec.get("strategies"):
            what.append(tr("strategies ") + ", ".join(f"<code>{esc(x.get('type'))}</code>"
                                                  for x in spec["strategies"]))
        if spec.get("upgrade"):
            div, unit = money_unit(data.currency)
            what.append(tr("upgrade, capex {x} {cur}", x=_wan(spec['upgrade'].get('capex'), div),
                           cur=esc(unit)))
        swatch = (f'<span style="display:inline-block;width:12px;height:12px;border-radius:2px;'
                  f'background:{data.color(s)};margin-right:6px;vertical-align:-1px"></span>')
        base = tr(" (base)") if s == data.base else ""
        items.append(f"<li>{swatch}<b>{esc(s)}</b>{base}: "
                     f"{tr('; ').join(what) or tr('the plant as written')}</li>")
    return f'<ul class="scenarios">{"".join(items)}</ul>'


def _sources() -> dict[str, str]:
    """Sources of variation of a study's intervals (``study.json`` ``variation``), shown."""
    return {"process": tr("process"), "weather": tr("weather"), "prices": tr("prices"),
            "grid factor": tr("grid factor")}


def render_study(data: StudyData) -> str:
    """The whole study page as one HTML string."""
    m = data.manifest
    title = esc(m.get("name") or tr("Study"))
    reps = int(m.get("replications", 0))
    seeds = m.get("seeds") or []
    n_s = len(data.names)
    seed_text = (tr("seed {x}", x=esc(seeds[0])) if len(seeds) == 1 else
                 tr("seeds {a}…{b}", a=esc(seeds[0]), b=esc(seeds[-1])) if seeds
                 else tr("seeds ?"))
    if current() == "zh":
        count = tr("{n} scenarios × {r} replications", n=n_s, r=reps)
    else:
        count = (f"{n_s} scenario{'s' if n_s != 1 else ''} × {reps} replication"
                 f"{'s' if reps != 1 else ''}")
    days = f"{float(m.get('days') or 0):g}"
    meta = [f"<span>{count}</span>",
            f"<span>{tr('{d} days from {start}', d=days, start=esc(m.get('start')))}</span>",
            f"<span>{tr('base: {x}', x=esc(data.base))}</span>",
            f"<span>{tr('{x} (common random numbers)', x=seed_text)}</span>",
            f"<span>{tr('plant {x}', x=esc(Path(str(m.get('plant_file', ''))).name))}</span>",
            f"<span>twin {esc(m.get('twin_version', '?'))}</span>"]
    covers = m.get("variation") or ["process"]
    if len(covers) > 1:  # an uncertainty: block varied weather, prices or grid factors
        meta.insert(4, "<span>" + tr("intervals cover: {x}", x=", ".join(
            esc(_sources().get(str(c), str(c))) for c in covers)) + "</span>")
    desc = (m.get("study") or {}).get("description")
    if reps > 1:
        kpi_caption = tr("Mean over the replications, error bars = 95 % Student-t intervals:"
                         " overlapping bars alone do not mean no difference, read the paired"
                         " differences below.")
        table_caption = tr("Mean ± half-width of the 95 % Student-t interval over"
                           " replications.")
    else:
        kpi_caption = tr("One replication per scenario, so no intervals (n=1): run more"
                         " replications before reading small differences.")
        table_caption = tr("Values of the one replication (n=1, no interval).")
    from twin.dashboard import study_large as big

    large = n_s > big.LARGE_STUDY
    if large:
        sections = [_section(tr("Scenarios"), tr("{n} scenarios: the table below lists each with"
                                                 " its parameters; every scenario runs the same"
                                                 " seeds.", n=n_s), "", "study-scenarios")]
    else:
        sections = [
            _section(tr("Scenarios"), tr("What each scenario changes in the plant; every"
                     " scenario runs the same seeds."), scenario_list(data), "study-scenarios"),
            _section(tr("KPIs per scenario"), kpi_caption,
                     figure_html(kpi_bars(data), "fig-study-kpis"), "study-kpis"),
            _section(tr("Difference against {x}", x=esc(data.base)),
                     tr("Paired by replication (same seed, common random numbers), in % of the"
                     " base; a bar whose interval does not cross zero is a real effect. Hover"
                     " for the absolute difference."),
                     figure_html(diff_bars(data), "fig-study-diffs") if len(data.names) > 1
                     else _note(tr("The study has only the base scenario.")), "study-diffs"),
        ]
    if n_s > 1 and data.row(data.base, "cost_total") is not None \
            and data.row(data.base, big.co2_kpi(data)) is not None:
        sections.append(_section(
            tr("Cost against CO₂"),
            tr("Mean total energy cost and CO₂ (scope 1 + 2, {basis}-based) of each scenario,"
               " error bars = 95 % intervals. The line joins the Pareto front: the scenarios"
               " that no other beats on both.", basis=esc(m.get("co2_basis", "location"))),
            figure_html(big.pareto_chart(data), big.PARETO_FIGURE_ID), "study-pareto"))
    params = big.swept(data)
    if params:
        shown = params[:big.MAX_RESPONSE_PARAMETERS]
        sections.append(_section(
            tr("Response to the swept parameters"),
            tr("Mean of a KPI (menu) against each parameter the scenarios set, error bars ="
               " 95 % intervals; one line per combination of the other parameters."),
            "".join(figure_html(big.response_chart(data, p), f"{big.RESPONSE_FIGURE_PREFIX}{i}")
                    for i, p in enumerate(shown)), "study-response"))
    if n_s > 1:
        sections.append(_section(
            tr("Scenario table"),
            tr("One row per scenario: parameters and means ± 95 % half-width; click a heading to"
               " sort. * = base; ✓ = on the cost–CO₂ Pareto front."),
            big.sortable_table(data), "study-scenario-table"))
    if len(data.causes) and not large:
        sections.append(_section(
            tr("Cost difference against {x} by cause", x=esc(data.base)),
            tr("Each bar splits a scenario's change of total energy cost (mean over replications,"
            " scenario minus base, negative = saving) into: energy = kWh bought more or less at"
            " the base's average price; timing = the same kWh at other hours; tariff = other"
            " prices; then the demand, capacity, export, gas and purchased-heat lines. The"
            " parts add up to the diamond, the total."),
            figure_html(causes_chart(data), CAUSES_FIGURE_ID), "study-causes"))
    if len(data.waterfall):
        steps = data.waterfall[(data.waterfall["chart"] == "co2")
                               & (data.waterfall["kind"] == "step")]
        body = "".join(figure_html(waterfall_chart(data, c), i)
                       for c, i in zip(("co2", "cost"), WATERFALL_FIGURE_IDS, strict=True))
        sections.append(_section(
            tr("Waterfall: from the base through each measure to the target"),
            tr("Net CO₂ (scope 1 + 2 market-based, after retired offsets) and total energy"
               " cost, annualised means over replications. Each step is a scenario holding the"
               " measures of the steps before it ({n}), so its bar is what it adds; the bars"
               " add up from the base to the result.",
               n=tr("{n} steps", n=len(steps)) if len(steps) != 1 else tr("1 step")),
            body, "study-waterfall"))
    else:
        sections.append(_section(
            tr("Waterfall"), "",
            _note(tr("No waterfall: list an ordered chain of cumulative scenarios under"
                     " waterfall: steps: in the study file (each with a measure:) to see the"
                     " base go to the target measure by measure.")), "study-waterfall"))
    if len(data.economics):
        basis = esc(m.get("co2_basis", "location"))
        body = economics_table(data)
        if len(data.macc):
            body += figure_html(macc_chart(data), MACC_FIGURE_ID)
        else:
            body += _note(tr("No upgrade avoids CO₂, so there is no abatement cost curve."))
        sections.append(_section(
            tr("Upgrades: economics and abatement cost"),
            tr("Savings are base minus scenario, annualised from {d} days (CO₂ scope 1 + 2,"
               " {basis}-based). In the curve each bar is one upgrade: width = tonnes avoided"
               " per year, height = cost per tonne; green bars pay for themselves.",
               d=f"{float(m.get('days') or 0):g}",
               basis={"location": tr("location"), "market": tr("market")}.get(basis, basis)),
            body, "study-macc"))
    sections.append(_section(
        tr("Hourly profiles"),
        tr("Grid import (solid) and site demand (dotted) per hour, first replication of each"
        " scenario: the gap between the lines is what onsite supply covered. Pick the scenario"
        " to compare with the menu."),
        figure_html(profile_overlay(data), "fig-study-profiles")
        if data.hourly else _note(tr("No run folder with hourly data was found.")),
        "study-profiles"))
    if data.hourly:
        reps_note = tr(" (first replication of each scenario)")
        sections.append(_section(
            tr("Load duration"),
            tr("Each scenario's hours sorted from the highest to the lowest{note}: grid import"
               " (solid) and site demand (dotted). A curve lower at the left end has lower"
               " peaks (demand charge), lower at the right end a lower base load; the area"
               " under a curve is its energy. Pick the scenario with the menu.",
               note=reps_note),
            figure_html(load_duration_overlay(data), LDC_FIGURE_ID), "study-ldc"))
        sections.append(_section(
            tr("Average day"),
            tr("Mean of each hour of the day over the weekdays (Monday to Friday) and the"
               " weekend days of each season the runs cover{note}, grid import (solid) and site"
               " demand (dotted), kWh per hour: where a scenario moves energy between hours,"
               " the lines cross.", note=reps_note),
            figure_html(average_day_overlay(data), AVERAGE_DAY_FIGURE_ID), "study-avgday"))
    if not large:
        sections.append(_section(tr("All KPIs"), table_caption, comparison_table(data),
                                 "study-table"))
    return html_page(
        tr("{x} – twin study", x=title),
        f'<h1 id="study-name">{title}</h1><div class="meta">{"".join(meta)}</div>'
        + (f'<div class="desc">{esc(desc)}</div>' if desc else ""),
        sections,
        tr("Every run of the study is a run folder in"
           " &lt;scenario&gt;/rep&lt;k&gt;/ (open one with 'twin dashboard') · all times local ·"
           " This page works offline."))


def write_study_dashboard(folder: str | os.PathLike[str], lang: str | None = None) -> Path:
    """Write ``folder/dashboard.html`` from a study folder and return its path (atomically);
    ``lang`` "zh" writes the section titles and captions in Chinese (:mod:`twin.i18n`); without
    it, the language of the base plant's ``site.language`` (``study.json`` ``language``)."""
    from twin.i18n import check, use

    d = Path(folder)
    data = load_study_folder(d)
    if lang is None:
        lang = check(str(data.manifest.get("language") or "en"))
    with use(lang):
        text = render_study(data)
    return write_text(d / FILENAME, text)
