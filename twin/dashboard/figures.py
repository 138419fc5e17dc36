"""The plotly figures of the run dashboard, one function each, from a :class:`RunData`.

Every user-given name (group, station, equipment, product) is passed through
:func:`html.escape` before it becomes plotly text: plotly.js reads a small set of HTML tags in
text (``<b>``, ``<a href>``, ...), and escaping makes it print names literally. Times are local
wall-clock times of the plant's time zone. Values are sent as float32 binary arrays and hourly
x values as ``x0``/``dx`` where the local hours are evenly spaced, which keeps a year of hourly
data to a few hundred kB. Figures are plain dicts (see :mod:`twin.dashboard.plot`).
"""

from __future__ import annotations

import html
import math
from typing import Any

import numpy as np
import pandas as pd

from twin.dashboard import theme
from twin.dashboard.data import RunData, price_bands
from twin.dashboard.plot import Figure, axis_key, cell_axes, subplot_layout, trace
from twin.i18n import N_, tr

HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS


def esc(text: object) -> str:
    """HTML-escape a user string for plotly text or the page."""
    return html.escape(str(text), quote=True)


def _f32(values: object) -> np.ndarray:
    return np.asarray(values, dtype=np.float32)


def hourly_x(wall: pd.DatetimeIndex) -> dict[str, Any]:
    """x of hourly traces at the local wall-clock times ``wall`` (naive): ``x0``/``dx`` if they
    are evenly spaced hours (no DST change in the run), else the list of local times."""
    if len(wall) == 0:
        return {"x": []}
    steps = np.diff(wall.asi8) if len(wall) > 1 else np.array([], dtype=np.int64)
    one_hour = pd.Timedelta(hours=1).value // pd.Timedelta(1, unit=wall.unit).value
    if (steps == one_hour).all():
        return {"x0": wall[0].strftime("%Y-%m-%d %H:%M:%S"), "dx": HOUR_MS}
    minutes = np.datetime_as_string(wall.to_numpy(), unit="m")      # 'YYYY-MM-DDTHH:MM'
    return {"x": [t.replace("T", " ") for t in minutes.tolist()]}


def hourly_demand(data: RunData) -> Figure:
    """Hourly electricity use stacked by equipment group, with one panel below per other carrier
    (natural gas, heat, cooling) that has any use; range slider and zoom buttons on the time axis.
    """
    carriers = [c for c in data.carriers()
                if any(data.hourly[col].any() for col in data.carrier_columns(c).values())]
    if "electricity" not in carriers:
        carriers.insert(0, "electricity")
    n = len(carriers)
    gap = 0.07
    # electricity gets 60 % of the height when there are other panels
    shares = [1.0] if n == 1 else [0.6] + [0.4 / (n - 1)] * (n - 1)
    usable = 1.0 - gap * (n - 1)
    domains: list[tuple[float, float]] = []
    top = 1.0
    for s in shares:
        bottom = top - s * usable
        domains.append((max(bottom, 0.0), top))
        top = bottom - gap

    traces: list[dict[str, Any]] = []
    xspec = hourly_x(data.wall_index)
    layout_axes: dict[str, object] = {}
    legend_shown: set[str] = set()
    for k, carrier in enumerate(carriers):
        yname = "y" if k == 0 else f"y{k + 1}"
        cols = data.carrier_columns(carrier)
        if carrier == "electricity" and not cols and "electricity_demand_kwh" in data.hourly:
            cols = {"site": "electricity_demand_kwh"}
        for group, col in cols.items():
            values = data.hourly[col].to_numpy()
            if k > 0 and not values.any():
                continue
            color = data.group_colors.get(group, theme.OTHER_CARRIER_COLOR)
            traces.append(trace(
                "scatter", **xspec, y=_f32(values), name=esc(group), legendgroup=esc(group),
                showlegend=group not in legend_shown, stackgroup=carrier, yaxis=yname,
                mode="lines", line={"width": 0.6, "color": color, "shape": "hv"},
                fillcolor=color,
                hovertemplate=f"{esc(group)}: %{{y:,.1f}} kWh<extra></extra>",
            ))
            legend_shown.add(group)
        unit = "kWh per hour" + (" (LHV)" if carrier == "natural_gas" else "")
        layout_axes["yaxis" if k == 0 else f"yaxis{k + 1}"] = {
            "domain": list(domains[k]), "anchor": "x", "rangemode": "tozero",
            "title": {"text": f"{theme.carrier_label(carrier)}<br>{unit}"},
            "gridcolor": theme.GRID, "tickformat": ",~s" if k else ",",
            "fixedrange": True,
        }

    xaxis = {
        "type": "date", "anchor": "y" + (str(n) if n > 1 else ""), "gridcolor": theme.GRID,
        "title": {"text": tr("Local time ({tz})", tz=esc(data.timezone))},
        "hoverformat": "%a %d %b %Y, %H:%M", "tickformatstops": [
            {"dtickrange": [None, 86_400_000], "value": "%H:%M\n%d %b"},
            {"dtickrange": [86_400_000, None], "value": "%d %b\n%Y"},
        ],
        "rangeslider": {"visible": True, "thickness": 0.07},
        "rangeselector": {"buttons": [
            {"count": 1, "label": tr("1 day"), "step": "day", "stepmode": "backward"},
            {"count": 7, "label": tr("1 week"), "step": "day", "stepmode": "backward"},
            {"count": 28, "label": tr("4 weeks"), "step": "day", "stepmode": "backward"},
            {"label": tr("All"), "step": "all"},
        ], "x": 1, "xanchor": "right", "y": 1.02, "yanchor": "bottom"},
    }
    return Figure(data=traces, layout=theme.base_layout(
        520 if n == 1 else 640,
        hovermode="x unified",
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0, "traceorder": "normal",
                "title": {"text": tr("Group ")}},
        margin={"l": 80, "r": 30, "t": 60, "b": 40},
        xaxis=xaxis, **layout_axes,
    ))


def demand_heatmap(data: RunData) -> Figure:
    """Site electricity per hour as a day (x) by hour-of-day (y) heatmap [kWh]."""
    return _day_hour_heatmap(data, data.hourly["electricity_demand_kwh"].to_numpy(dtype=float),
                             theme.HEATMAP_SCALE)


def grid_heatmap(data: RunData) -> Figure:
    """Grid import per hour as a day (x) by hour-of-day (y) heatmap [kWh]."""
    return _day_hour_heatmap(data, data.col("grid_import_kwh"), theme.GRID_HEATMAP_SCALE,
                             "grid import ", zmin=0.0)


def day_hour_grid(wall: pd.DatetimeIndex, values: np.ndarray) -> tuple[list[str], np.ndarray]:
    """The local days ('YYYY-MM-DD', ascending) of the wall-clock times ``wall`` (naive) and a
    day x hour-of-day grid of the sums of ``values`` (one per time) in each cell, NaN where no
    time falls: an hour repeated when clocks go back holds both hours' values."""
    day_of_row = wall.to_numpy().astype("datetime64[D]")
    days, day = np.unique(day_of_row, return_inverse=True)
    cell = day * 24 + wall.hour.to_numpy()
    size = len(days) * 24
    sums = np.bincount(cell, weights=values, minlength=size)
    seen = np.bincount(cell, minlength=size) > 0
    grid = np.where(seen, sums, np.nan).reshape(len(days), 24)
    return np.datetime_as_string(days, unit="D").tolist(), grid


def _day_hour_heatmap(data: RunData, kwh: np.ndarray, scale: list, what: str = "",
                      zmin: float | None = None, unit: str = "kWh") -> Figure:
    days, grid = day_hour_grid(data.wall_index, kwh)
    heatmap = trace(
        "heatmap", x=days, y=[f"{h:02d}:00" for h in range(24)], z=_f32(grid.T),
        colorscale=scale, xgap=1 if len(days) <= 60 else 0, zmin=zmin,
        colorbar={"title": {"text": unit}, "thickness": 14, "tickformat": ","},
        hovertemplate=f"%{{x|%a %d %b %Y}}, %{{y}}<br>{what}%{{z:,.1f}} {unit}<extra></extra>",
    )
    return Figure(data=[heatmap], layout=theme.base_layout(
        420,
        xaxis={"type": "date", "title": {"text": tr("Day (local)")}, "showgrid": False,
               "ticklabelmode": "period" if len(days) > 40 else "instant"},
        yaxis={"title": {"text": tr("Hour of day (local)")}, "type": "category",
               "tickvals": [f"{h:02d}:00" for h in range(0, 24, 3)], "autorange": True},
        margin={"l": 80, "r": 30, "t": 20, "b": 50},
    ))


SUPPLY_SIDE_GROUPS = {
    "energy_plant": ("energy plant", "boilers, CHP, heat pumps, chillers"),
    "building_hvac": ("building HVAC", "space heating and cooling of the building"),
    "it": ("IT", "a data centre's IT equipment (servers, storage, network)"),
    "power_losses": ("power losses", "a data centre's UPS and distribution losses"),
    "heat_recovery": ("heat recovery", "a data centre's heat pump selling heat"),
}
"""Groups of energy used outside the equipment (hourly ``<carrier>_kwh:<group>`` columns, no
rows in ``equipment.csv``): how the page names them, and what they hold."""


def bought_energy_by_group(data: RunData) -> dict[str, dict[str, float]]:
    """Electricity and natural gas over the run per group [kWh], with the energy plant's and the
    building HVAC's: ``{carrier: {group: kWh}}``. Electricity adds up to the site demand
    (``electricity_demand_kwh``), natural gas to the fuel burnt (``fuel_kwh``, boilers and CHP
    included, LHV); heat and cooling are not here, being made on site from these two."""
    out: dict[str, dict[str, float]] = {}
    for carrier, total_col in (("electricity", "electricity_demand_kwh"),
                               ("natural_gas", "fuel_kwh")):
        groups = {g: float(data.hourly[c].sum()) for g, c in data.carrier_columns(carrier).items()}
        total = float(data.col(total_col).sum())
        rest = total - sum(groups.values())
        if carrier == "natural_gas" and rest > FLOW_TOL * max(total, 1.0):
            groups["energy_plant"] = groups.get("energy_plant", 0.0) + rest
        elif carrier == "electricity" and abs(rest) > 1e-6 * max(total, 1.0):
            groups["other"] = groups.get("other", 0.0) + rest
        groups = {g: v for g, v in groups.items() if v > 0}
        if groups:
            out[carrier] = groups
    return out


def energy_treemap(data: RunData) -> Figure:
    """Electricity and natural gas over the run per carrier -> group -> equipment [kWh]: the
    groups' totals from ``hourly.parquet`` (the energy plant and building HVAC included, so each
    carrier's box is the site's total of it), the equipment from ``equipment.csv``. Heat and
    cooling are left out: they are made from this electricity and gas, and boxes of them beside
    it would count the same energy twice (see :func:`energy_flows`).

    plotly draws a box that has children with its label only, so carrier and group labels carry
    their energy; leaves (equipment) show name and energy on two lines.
    """
    eq = data.equipment
    assert eq is not None
    ids: list[str] = []
    labels: list[str] = []
    parents: list[str] = []
    values: list[float] = []
    colors: list[str] = []
    hover: list[str] = []
    templates: list[str] = []

    def node(nid: str, label: str, parent: str, value: float, color: str, text: str,
             leaf: bool) -> None:
        ids.append(nid)
        labels.append(label)
        parents.append(parent)
        values.append(value)
        colors.append(color)
        hover.append(text)
        templates.append("<b>%{label}</b><br>%{value:,.0f} kWh" if leaf else "%{label}")

    by_group = bought_energy_by_group(data)
    order = list(dict.fromkeys(list(data.groups) + list(eq["group"]) + ["energy_plant",
                                                                         "building_hvac",
                                                                         "other"]))
    for ci, (carrier, groups) in enumerate(by_group.items()):
        col = f"{carrier}_kwh"
        total = float(sum(groups.values()))
        cl = theme.carrier_label(carrier)
        cid = f"c{ci}"
        node(cid, f"{cl} · {total:,.0f} kWh", "", total, theme.carrier_color(carrier),
             f"<b>{cl}</b><br>{total:,.0f} kWh over the run", leaf=False)
        for gi, group in enumerate(order):
            gsum = groups.get(group, 0.0)
            if gsum <= 0:
                continue
            gid = f"{cid}g{gi}"
            name, what = SUPPLY_SIDE_GROUPS.get(group, (group, ""))
            color = data.group_colors.get(group, theme.OTHER_CARRIER_COLOR)
            sub = (eq[(eq["group"] == group) & (eq[col] > 0)].sort_values(col, ascending=False)
                   if col in eq.columns else eq.iloc[:0])
            leaves = sub[col].to_numpy(dtype=float).tolist() if len(sub) else []
            rest = gsum - sum(leaves)
            whole = not leaves
            node(gid, esc(name) if whole else f"{esc(name)} · {gsum:,.0f} kWh", cid, gsum,
                 color, f"<b>{esc(name)}</b>" + (f" ({what})" if what else "")
                 + f"<br>{gsum:,.0f} kWh, {gsum / total:.1%} of {cl.lower()}", leaf=whole)
            if whole:
                continue
            # equipment.csv may round: the leaves are scaled onto the group's hourly total
            scale = gsum / sum(leaves) if abs(rest) <= 1e-6 * gsum else 1.0
            for ei, (ename, v) in enumerate(zip(sub.index, leaves, strict=True)):
                node(f"{gid}e{ei}", esc(ename), gid, v * scale, color,
                     f"<b>{esc(ename)}</b> ({esc(group)})<br>{v * scale:,.0f} kWh,"
                     f" {v * scale / total:.1%} of {cl.lower()}", leaf=True)
            if rest > 1e-6 * gsum:
                node(f"{gid}r", "not by equipment", gid, rest, theme.OTHER_CARRIER_COLOR,
                     f"<b>{esc(group)}</b>: {rest:,.0f} kWh not metered per equipment",
                     leaf=True)
    treemap = trace(
        "treemap", ids=ids, labels=labels, parents=parents, values=values, branchvalues="total",
        marker={"colors": colors, "line": {"color": "white", "width": 1}},
        customdata=hover, sort=True, texttemplate=templates, textfont={"size": 13},
        hovertemplate="%{customdata}<extra></extra>",
        pathbar={"visible": True}, tiling={"pad": 2},
    )
    return Figure(data=[treemap],
            layout=theme.base_layout(520, margin={"l": 10, "r": 10, "t": 30, "b": 10}))


def state_shares(data: RunData) -> Figure:
    """Share of calendar time in each power state, per station (stacked horizontal bars [%])."""
    stations = data.kpis.get("stations", {})
    names = list(stations)
    present = {s for v in stations.values() for s in v.get("time_share", {})}
    states = [s for s in theme.STATE_ORDER if s in present]
    states += sorted(present - set(states))
    hours = float(data.kpis.get("simulated_days", 0.0)) * 24.0
    labels = [esc(n) for n in names]
    traces = []
    for state in states:
        share = np.array([float(stations[n].get("time_share", {}).get(state, 0.0)) for n in names])
        traces.append(trace(
            "bar", y=labels, x=_f32(share * 100.0), orientation="h", name=theme.state_label(state),
            marker={"color": theme.state_color(state), "line": {"width": 0}},
            customdata=_f32(share * hours),
            hovertemplate=(f"%{{y}} · {theme.state_label(state)}: %{{x:.1f}} %"
                           f" (%{{customdata:,.0f}} h per machine)<extra></extra>"),
        ))
    return Figure(data=traces, layout=theme.base_layout(
        max(260, 90 + 34 * len(names)),
        barmode="stack", bargap=0.25,
        xaxis={"title": {"text": tr("Share of calendar time (%)")}, "range": [0, 100],
               "ticksuffix": " %", "gridcolor": theme.GRID, "fixedrange": True},
        yaxis={"autorange": "reversed", "title": {"text": tr("Station")}, "fixedrange": True},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0,
                "traceorder": "normal"},
        margin={"l": 110, "r": 30, "t": 50, "b": 50},
    ))


def _clock(times: np.ndarray) -> list[str]:
    """'HH:MM:SS' of naive datetime64 times (seconds cut off, not rounded)."""
    return [t[11:19] for t in np.datetime_as_string(times, unit="s").tolist()]


def state_timeline(data: RunData) -> Figure:
    """Power state of every machine and base load over one day (a Gantt chart, local time)."""
    day_trace = data.trace
    assert day_trace is not None and len(day_trace)
    equipment = day_trace["equipment"].astype(str).to_numpy()
    state_of = day_trace["state"].astype(str).to_numpy()
    starts = day_trace["start"].dt.tz_convert(data.timezone).dt.tz_localize(None).to_numpy()
    ends = day_trace["end"].dt.tz_convert(data.timezone).dt.tz_localize(None).to_numpy()
    ms = pd.TimedeltaIndex(ends - starts).total_seconds().to_numpy() * 1000.0   # wall clock
    names = list(dict.fromkeys(equipment))
    present = set(state_of)
    states = [s for s in theme.STATE_ORDER if s in present] + sorted(
        present - set(theme.STATE_ORDER))
    traces = []
    for state in states:
        sel = state_of == state
        start, end = starts[sel], ends[sel]
        label = theme.state_label(state)
        traces.append(trace(
            "bar", y=[esc(n) for n in equipment[sel]], x=ms[sel], base=start,
            orientation="h", name=label,
            marker={"color": theme.state_color(state), "line": {"width": 0}},
            customdata=np.stack([_clock(start), _clock(end)], axis=-1),
            hovertemplate=(f"%{{y}} · {label}<br>%{{customdata[0]}} – %{{customdata[1]}}"
                           f"<extra></extra>"),
        ))
    day = day_trace["start"].min().tz_convert(data.timezone)
    return Figure(data=traces, layout=theme.base_layout(
        max(280, 90 + 26 * len(names)),
        barmode="overlay", bargap=0.2,
        xaxis={"type": "date", "title": {"text": tr("Local time ({tz})", tz=esc(data.timezone))
                                         + f", {day:%a %d %b %Y}"},
               "gridcolor": theme.GRID, "tickformat": "%H:%M"},
        yaxis={"autorange": "reversed", "title": {"text": tr("Equipment")},
               "categoryorder": "array", "categoryarray": [esc(n) for n in names]},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0},
        margin={"l": 150, "r": 30, "t": 50, "b": 50},
    ))


def _bin_width(top: float, max_bins: int = 50) -> float:
    """A round bin width [h] giving at most ``max_bins`` bins from 0 to ``top``."""
    for w in (0.05, 0.1, 0.25, 0.5, 1, 2, 4, 6, 8, 12, 24, 48, 72, 168, 336, 720):
        if top / w <= max_bins:
            return float(w)
    return float(10 ** math.ceil(math.log10(top / max_bins)))


def lead_times(data: RunData) -> Figure:
    """Histogram of lead time (release to completion) [h], one panel per product, shared bins.

    A few very long lead times (lots that waited over a shutdown) would squeeze the rest into a
    few bars: when the longest is over 1.5 times the 99th percentile, the axis ends there and the
    last bar collects every longer lot (its hover and the axis title say so).
    """
    lots = data.lots
    assert lots is not None and len(lots)
    lead = lots["lead_time_h"].to_numpy(dtype=float)
    prod = lots["product"].astype(str).to_numpy()
    products = [p for p in data.product_colors if (prod == p).any()]
    products += [p for p in dict.fromkeys(prod) if p not in products]
    longest = float(lead.max())
    q99 = float(np.quantile(lead, 0.99))
    clipped = longest > 1.5 * q99 and q99 > 0
    top = q99 if clipped else longest
    width = _bin_width(max(top, 1e-9))
    n_bins = max(1, math.ceil(top / width))
    if not clipped and n_bins * width <= longest:
        n_bins += 1                      # longest lot exactly on an edge
    edges = np.arange(n_bins + 1) * width
    titles = []
    for p in products:
        sel = lead[prod == p]
        titles.append(f"<b>{esc(p)}</b>: {sel.size:,} lots, mean {sel.mean():,.1f} h,"
                      f" median {np.median(sel):,.1f} h, 90 % within"
                      f" {np.quantile(sel, 0.9):,.1f} h, longest {sel.max():,.1f} h")
    n = len(products)
    layout = subplot_layout(n, 1, titles=titles, shared_xaxes=True, horizontal_spacing=0.2,
                            vertical_spacing=min(0.12, 0.35 / max(n, 1)) if n > 1 else 0.0)
    for note in layout.get("annotations", []):
        note.update(font={"size": 13}, x=0, xanchor="left", yshift=6)
    left, right = edges[:-1], edges[1:]
    ranges = [f"{a:,.4g}–{b:,.4g} h" for a, b in zip(left, right, strict=True)]
    if clipped:
        ranges[-1] = f"≥ {left[-1]:,.4g} h"
    title = tr("Lead time, release to completion (h)")
    if clipped:
        title += tr("; the last bar holds all lots of {x} h and more", x=f"{left[-1]:,.4g}")
    traces, shapes = [], []
    for i, p in enumerate(products):
        x, y = cell_axes(i)
        sel = lead[prod == p]
        counts, _ = np.histogram(np.minimum(sel, edges[-1] - width / 2), bins=edges)
        traces.append(trace(
            "bar", x=_f32((left + right) / 2), y=counts.astype(np.int32), width=width,
            name=esc(p), marker={"color": data.product_colors.get(p, "#666666"),
                                 "line": {"width": 0}},
            customdata=ranges, showlegend=False,
            hovertemplate=f"{esc(p)}: %{{customdata}}, %{{y:,}} {tr('lots')}<extra></extra>",
            xaxis=x, yaxis=y,
        ))
        mean = float(sel.mean())
        if mean <= edges[-1]:                       # the dashed line at the mean
            shapes.append({"type": "line", "x0": mean, "x1": mean, "xref": x, "y0": 0, "y1": 1,
                           "yref": f"{y} domain",
                           "line": {"dash": "dash", "color": theme.TEXT, "width": 1.5}})
        layout[axis_key(y)].update(title={"text": tr("Lots")}, gridcolor=theme.GRID,
                                   rangemode="tozero")
        layout[axis_key(x)].update(gridcolor=theme.GRID, range=[0, float(edges[-1])])
    layout[axis_key(cell_axes(n - 1)[0])]["title"] = {"text": title}
    if shapes:
        layout["shapes"] = shapes
    layout.update(theme.base_layout(
        90 + 200 * n, bargap=0.05, margin={"l": 70, "r": 30, "t": 40, "b": 50}))
    return Figure(data=traces, layout=layout)


# ------------------------------------------------------------------------------ energy supply

SUPPLY_ABOVE = (("pv", N_("PV used on site")), ("wind", N_("Wind used on site")),
                ("chp", N_("CHP used on site")), ("other", N_("Other on-site generation")),
                ("discharge", N_("Battery discharge")), ("grid", N_("Grid import")),
                ("unserved", N_("Not supplied")))
SUPPLY_BELOW = (("charge", N_("Battery charging")), ("export", N_("Export")),
                ("curtailed", N_("Curtailed")))


def supply_flows(data: RunData) -> dict[str, np.ndarray]:
    """Hourly electricity flows of the supply chart [kWh per hour], those that are not all zero.

    Above zero (positive), where the electricity came from: PV, wind and CHP used on site
    (generation less curtailment and export, taken from PV and wind first, in proportion to their
    output, as the KPIs do), other on-site generation (whatever else the balance needs; none in
    a complete run folder), battery discharge, grid import, demand not supplied. Below zero
    (negative): battery charging, export, curtailment. ``demand`` is the site demand. Above zero
    adds up to the demand plus battery charging.
    """
    pv, wind, chp = data.col("pv_kwh"), data.col("wind_kwh"), data.col("chp_kwh")
    renewable = pv + wind
    charge, export = data.col("battery_charge_kwh"), data.col("grid_export_kwh")
    curtailed = data.col("curtailed_kwh")
    discharge, grid = data.col("battery_discharge_kwh"), data.col("grid_import_kwh")
    unserved, demand = data.col("unserved_kwh"), data.col("electricity_demand_kwh")
    lost = curtailed + export
    lost_renewable = np.minimum(lost, renewable)
    pv_share = np.divide(pv, renewable, out=np.zeros_like(renewable), where=renewable > 0)
    other = demand + charge + export + curtailed - (renewable + chp + discharge + grid + unserved)
    tol = 1e-6 * max(float(np.abs(demand).max(initial=0.0)), 1.0)
    flows = {
        "pv": np.maximum(pv - lost_renewable * pv_share, 0.0),
        "wind": np.maximum(wind - lost_renewable * (1.0 - pv_share), 0.0),
        "chp": np.maximum(chp - (lost - lost_renewable), 0.0),
        "other": np.where(other > tol, other, 0.0),
        "discharge": discharge, "grid": grid, "unserved": unserved,
        "charge": -charge, "export": -export, "curtailed": -curtailed,
    }
    out = {k: v for k, v in flows.items() if np.abs(v).max(initial=0.0) > tol}
    out["demand"] = demand
    return out


def _weeks(data: RunData) -> tuple[list[tuple[pd.Timestamp, pd.Timestamp]], int]:
    """Monday-to-Monday local weeks that overlap the run, and the index of the first week the
    run covers in full (else of the first week it covers most)."""
    wall = data.wall_index
    if len(wall) == 0:
        return [], 0
    first, end = wall[0], wall[-1] + pd.Timedelta(hours=1)
    monday = first.normalize() - pd.Timedelta(days=first.weekday())
    weeks = []
    while monday < end:
        weeks.append((monday, monday + pd.Timedelta(days=7)))
        monday += pd.Timedelta(days=7)
    # the first week the run covers in full, else the one it covers most
    covered = [min(b, end) - max(a, first) for a, b in weeks]
    return weeks, covered.index(max(covered))


def _wall(t: pd.Timestamp) -> str:
    return t.strftime("%Y-%m-%d %H:%M")


def _price_background(data: RunData, y0: float, y1: float) -> list[dict[str, Any]]:
    """Traces shading the background by price level (a one-row heatmap with band edges as x, to
    go under the areas) with a legend entry per level; none if the price never changes."""
    bands = price_bands(data)
    if bands is None:
        return []
    n = len(bands.labels)
    shades = theme.price_shades(n)
    scale: list[list[object]] = []
    for i, c in enumerate(shades):
        scale += [[i / n, c], [(i + 1) / n, c]]
    traces = [trace(
        "heatmap", x=bands.edges, y=[y0, y1], z=_f32(bands.levels.reshape(1, -1)), zmin=-0.5,
        zmax=n - 0.5, colorscale=scale, showscale=False, hoverinfo="skip", name="price",
        showlegend=False,
    )]
    texts = [esc(label) for label in bands.labels]
    for i in reversed(range(n)):                   # dearest on top, like the shades
        traces.append(trace(
            "scatter", x=[None], y=[None], mode="markers", name=texts[i], legendgroup="price",
            legendgrouptitle={"text": tr("Background: price")} if i == n - 1 else None,
            marker={"symbol": "square", "size": 14, "color": shades[i],
                    "line": {"color": "#9aa5b1", "width": 1}},
            hoverinfo="skip",
        ))
    return traces


def supply_week(data: RunData) -> Figure:
    """Where the electricity came from and went, hour by hour, one week at a time (slider),
    on a background shaded by the price of electricity."""
    flows = supply_flows(data)
    xspec = hourly_x(data.wall_index)
    above = sum((flows[k] for k, _ in SUPPLY_ABOVE if k in flows), np.zeros(len(data.hourly)))
    below = sum((flows[k] for k, _ in SUPPLY_BELOW if k in flows), np.zeros(len(data.hourly)))
    top = max(float(above.max(initial=0.0)), float(flows["demand"].max(initial=0.0)), 1.0)
    bottom = float(-below.min(initial=0.0))
    y1 = top * 1.05
    y0 = -bottom * 1.05 if bottom > 0 else -0.02 * top

    traces = _price_background(data, y0, y1)
    for key, label in SUPPLY_ABOVE + SUPPLY_BELOW:
        if key not in flows:
            continue
        color = theme.SUPPLY_COLORS[key]
        below_zero = key in dict(SUPPLY_BELOW)
        extra: dict[str, object] = {}
        if key == "curtailed":
            extra["fillpattern"] = {"shape": "/", "fgcolor": "#d9534f", "bgcolor": color,
                                    "size": 6, "solidity": 0.25}
        traces.append(trace(
            "scatter", **xspec, y=_f32(flows[key]), name=tr(label),
            stackgroup="below" if below_zero else "above",
            legendgroup="below" if below_zero else "above",
            legendgrouptitle={"text": tr("Below zero: where surplus went") if below_zero
                              else tr("Above zero: supply")},
            mode="lines", line={"width": 0.5, "color": color, "shape": "hv"}, fillcolor=color,
            hovertemplate=f"{tr(label)}: %{{y:,.1f}} kWh<extra></extra>", **extra,
        ))
    price = data.col("price_per_kwh")
    cur = esc(data.currency)
    demand_hover = tr("Site demand") + ": %{y:,.1f} kWh"
    if price.any():
        demand_hover += "<br>" + tr("price {x} {cur}/kWh (hour mean)",
                                    x="%{customdata:.4~g}", cur=cur)
    traces.append(trace(
        "scatter", **xspec, y=_f32(flows["demand"]), name=tr("Site demand"), legendgroup="demand",
        legendgrouptitle={"text": tr("Line")},
        mode="lines", line={"width": 1.8, "color": theme.SUPPLY_COLORS["demand"], "shape": "hv"},
        customdata=_f32(price) if price.any() else None,
        hovertemplate=demand_hover + "<extra></extra>",
    ))

    weeks, active = _weeks(data)
    wall = data.wall_index
    run_end = wall[-1] + pd.Timedelta(hours=1) if len(wall) else None
    layout: dict[str, object] = {}
    if len(weeks) > 1:
        steps = [{
            "label": f"{a:%a} {a.day} {a:%b %Y} – {b - pd.Timedelta(days=1):%a} "
                     f"{(b - pd.Timedelta(days=1)).day} {b - pd.Timedelta(days=1):%b}",
            "method": "relayout", "args": [{"xaxis.range": [_wall(a), _wall(b)]}],
        } for a, b in weeks]
        layout["sliders"] = [{
            "active": active, "steps": steps, "x": 0, "len": 1.0, "y": 0, "yanchor": "top",
            "pad": {"t": 62, "b": 0}, "font": {"color": "rgba(0,0,0,0)", "size": 8},
            "currentvalue": {"prefix": tr("Week: "), "xanchor": "left",
                             "font": {"size": 14, "color": theme.TEXT}},
            "ticklen": 4, "minorticklen": 0, "tickcolor": "#9aa5b1",
            "bgcolor": "#e4e7eb", "activebgcolor": "#3b6fb6", "bordercolor": "#c3cad3",
        }]
        x_range = [_wall(weeks[active][0]), _wall(weeks[active][1])]
    elif len(wall):
        x_range = [_wall(wall[0]), _wall(run_end)]
    else:
        x_range = None
    return Figure(data=traces, layout=theme.base_layout(
        560 if len(weeks) > 1 else 480,
        hovermode="x unified",
        legend={"x": 1.01, "y": 1, "xanchor": "left", "yanchor": "top",
                "traceorder": "grouped", "groupclick": "toggleitem", "tracegroupgap": 12,
                "font": {"size": 12}},
        margin={"l": 80, "r": 20, "t": 20, "b": 130 if len(weeks) > 1 else 50},
        xaxis={"type": "date", "range": x_range, "gridcolor": theme.GRID,
               "title": {"text": tr("Local time ({tz})", tz=esc(data.timezone))},
               "hoverformat": "%a %d %b %Y, %H:%M", "tickformatstops": [
                   {"dtickrange": [None, DAY_MS // 2], "value": "%H:%M\n%a %d %b"},
                   {"dtickrange": [DAY_MS // 2 + 1, None], "value": "%a %d %b"}],
               "minor": {"dtick": 6 * HOUR_MS, "showgrid": True, "gridcolor": "#f1f3f5"}},
        yaxis={"title": {"text": tr("kWh per hour")}, "range": [y0, y1], "fixedrange": True,
               "gridcolor": theme.GRID, "tickformat": ",", "zeroline": True,
               "zerolinecolor": "#7b8794", "zerolinewidth": 1.5},
        **layout,
    ))


def storage_levels(data: RunData) -> Figure:
    """Battery state of charge [kWh and %] and, if it holds anything, the thermal storage level
    [kWh heat], end of each hour, with zoom buttons."""
    soc = data.col("battery_soc_kwh")
    tes = data.col("thermal_storage_kwh")
    nominal = data.battery_nominal_kwh()
    has_bat = bool(soc.any() or nominal)
    has_tes = bool(tes.any())
    xspec = hourly_x(data.wall_index)
    traces: list[dict[str, Any]] = []
    shapes: list[dict[str, Any]] = []
    notes: list[dict[str, Any]] = []
    panels = (["battery"] if has_bat else []) + (["thermal"] if has_tes else [])
    n = len(panels)
    gap = 0.12
    height = (1.0 - gap * (n - 1)) / max(n, 1)
    axes: dict[str, object] = {}
    for k, panel in enumerate(panels):
        dom = [max(1.0 - (k + 1) * height - k * gap, 0.0), 1.0 - k * (height + gap)]
        yname = "y" if k == 0 else f"y{k + 1}"
        key = "yaxis" if k == 0 else f"yaxis{k + 1}"
        if panel == "battery":
            cap = nominal or float(soc.max()) or 1.0
            basis = tr("nominal") if nominal else tr("the highest seen")
            traces.append(trace(
                "scatter", **xspec, y=_f32(soc), name=tr("Battery"), yaxis=yname, mode="lines",
                line={"width": 0.8, "color": theme.SUPPLY_COLORS["discharge"]},
                fill="tozeroy", fillcolor="rgba(46,158,79,0.18)",
                customdata=_f32(soc / cap * 100.0),
                hovertemplate=(tr("Battery: {x} kWh, {y} % of {basis}", x="%{y:,.0f}",
                                  y="%{customdata:.0f}", basis=basis) + "<extra></extra>"),
            ))
            axes[key] = {"domain": dom, "anchor": "x", "range": [0, cap * 1.04],
                         "fixedrange": True, "gridcolor": theme.GRID, "tickformat": ",",
                         "title": {"text": tr("Battery<br>kWh")}}
            # the same scale in % of the nominal energy, on the right
            pct_name = f"y{n + 1}"
            axes[f"yaxis{n + 1}"] = {
                "overlaying": yname, "side": "right", "range": [0, 104], "fixedrange": True,
                "ticksuffix": " %", "showgrid": False, "tickvals": [0, 25, 50, 75, 100],
                "title": {"text": tr("% of {basis}", basis=basis)}, "anchor": "x"}
            traces.append(trace("scatter", x=[None], y=[None], yaxis=pct_name,
                                showlegend=False, hoverinfo="skip"))
            window = data.battery_window_kwh()
            if window is not None:
                for level, what in zip(window, (N_("lowest allowed, {x} kWh"),
                                                N_("highest allowed, {x} kWh")), strict=True):
                    if 0 < level < cap:
                        shapes.append({
                            "type": "line", "xref": "x domain", "x0": 0, "x1": 1, "yref": yname,
                            "y0": level, "y1": level,
                            "line": {"dash": "dash", "width": 1, "color": "#3d4b5c"}})
                        notes.append({
                            "xref": "x domain", "x": 0.005, "yref": yname, "y": level,
                            "text": tr(what, x=f"{level:,.0f}"), "showarrow": False,
                            "xanchor": "left",
                            "yanchor": "bottom" if what.startswith("lowest") else "top",
                            "font": {"size": 11, "color": "#3d4b5c"},
                            "bgcolor": "rgba(255,255,255,0.85)"})
        else:
            traces.append(trace(
                "scatter", **xspec, y=_f32(tes), name=tr("Thermal storage"), yaxis=yname,
                mode="lines",
                line={"width": 0.8, "color": theme.carrier_color("heat")}, fill="tozeroy",
                fillcolor="rgba(107,46,46,0.15)",
                hovertemplate=tr("Thermal storage: {x} kWh (heat)", x="%{y:,.0f}")
                + "<extra></extra>",
            ))
            axes[key] = {"domain": dom, "anchor": "x", "rangemode": "tozero",
                         "fixedrange": True, "gridcolor": theme.GRID, "tickformat": ",",
                         "title": {"text": tr("Thermal storage<br>kWh heat")}}
    xaxis = {
        "type": "date", "anchor": "y" + (str(n) if n > 1 else ""), "gridcolor": theme.GRID,
        "hoverformat": "%a %d %b %Y, %H:%M (end of hour)", "tickformatstops": [
            {"dtickrange": [None, DAY_MS], "value": "%H:%M\n%d %b"},
            {"dtickrange": [DAY_MS, None], "value": "%d %b\n%Y"}],
        "rangeselector": {"buttons": [
            {"count": 7, "label": tr("1 week"), "step": "day", "stepmode": "backward"},
            {"count": 28, "label": tr("4 weeks"), "step": "day", "stepmode": "backward"},
            {"label": tr("All"), "step": "all"},
        ], "x": 1, "xanchor": "right", "y": 1.02, "yanchor": "bottom"},
    }
    return Figure(data=traces, layout=theme.base_layout(
        300 + 180 * (n - 1), hovermode="x unified", showlegend=False,
        margin={"l": 80, "r": 70, "t": 60, "b": 40}, xaxis=xaxis,
        shapes=shapes or None, annotations=notes or None, **axes))


def _nice_step(top: float, n: int = 6) -> float:
    """A round axis step (1, 2, 2.5 or 5 x 10^k) giving about ``n`` steps from 0 to ``top``."""
    raw = max(top, 1e-9) / n
    mag = 10.0 ** math.floor(math.log10(raw))
    return next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)


def _month_axis(n: int) -> dict[str, object]:
    """Category x axis of ``n`` months; fewer than six are centred at the width of six, so one
    month is not drawn as a bar across the whole figure."""
    axis: dict[str, object] = {"type": "category", "fixedrange": True}
    if n < 6:
        pad = (6 - n) / 2
        axis["range"] = [-0.5 - pad, n - 0.5 + pad]
    return axis


def _month_labels(data: RunData, keys: pd.Index) -> list[str]:
    """'Mar 2026', with '<br>30 of 31 days' for a month only partly simulated."""
    peaks = data.monthly_peaks()
    out = []
    for key in keys:
        t = pd.Timestamp(f"{key}-01")
        text = f"{t:%b %Y}"
        cov = float(peaks.loc[key, "coverage"]) if peaks is not None and key in peaks.index \
            else 1.0
        if cov < 0.999:
            days = t.days_in_month
            text += f"<br>{cov * days:,.3g} of {days} days"
        out.append(text)
    return out


def grid_peaks(data: RunData) -> Figure:
    """Highest settlement-interval grid import per month [kW] (bars), the site demand peak of
    the month before PV and battery (markers), and the demand charge on a second axis."""
    peaks = data.monthly_peaks()
    assert peaks is not None
    rate = data.demand_rate()
    cur = esc(data.currency)
    labels = _month_labels(data, peaks.index)
    minutes = data.kpis.get("settlement_interval_min", 15)
    info = []
    for _, row in peaks.iterrows():
        t = row["peak_start"]
        text = f"{t:%a} {t.day} {t:%b %H:%M}" if t is not None and not pd.isna(t) else ""
        if rate:
            charge = max(row["peak_kw"], 0.0) * rate * row["coverage"]
            text += "<br>" + tr("demand charge {x} {cur}", x=f"{charge:,.0f}", cur=cur)
            if row["coverage"] < 0.999:
                text += tr(" ({x} of the month simulated)", x=f"{row['coverage']:.0%}")
        info.append(text)
    traces = [trace(
        "bar", x=labels, y=_f32(peaks["peak_kw"]), name=tr("Grid import peak"),
        marker={"color": theme.SUPPLY_COLORS["grid"], "line": {"width": 0}},
        text=[f"{v:,.0f}" for v in peaks["peak_kw"]], textposition="inside",
        insidetextanchor="end", customdata=info,
        hovertemplate="%{x}: " + tr("grid import peak {x} kW ({m}-min average)",
                                    x="%{y:,.1f}", m=f"{minutes:g}")
                      + "<br>%{customdata}<extra></extra>",
    ), trace(
        "scatter", x=labels, y=_f32(peaks["demand_peak_kw"]),
        name=tr("Site demand peak (before PV and battery)"),
        mode="markers", marker={"symbol": "line-ew-open", "size": 34,
                                "color": theme.SUPPLY_COLORS["demand"], "line": {"width": 3}},
        hovertemplate="%{x}: " + tr("site demand peak {x} kW", x="%{y:,.1f}")
                      + "<extra></extra>",
    )]
    top = float(np.nanmax(np.r_[peaks["peak_kw"].to_numpy(), peaks["demand_peak_kw"].to_numpy(),
                                1.0])) * 1.1
    step = _nice_step(top)
    ticks = [i * step for i in range(int(top // step) + 1)]
    axes: dict[str, object] = {
        "yaxis": {"title": {"text": tr("kW")}, "range": [0, top], "fixedrange": True,
                  "gridcolor": theme.GRID, "tickvals": ticks,
                  "ticktext": [f"{v:,.4g}" for v in ticks]}}
    if rate:
        # the same gridlines in money: kW x rate
        axes["yaxis2"] = {"overlaying": "y", "side": "right", "range": [0, top * rate],
                          "fixedrange": True, "showgrid": False,
                          "tickvals": [v * rate for v in ticks],
                          "ticktext": [f"{v * rate:,.0f}" for v in ticks],
                          "title": {"text": tr("Demand charge, {cur} per full month", cur=cur)}}
        traces.append(trace("scatter", x=[labels[0]], y=[None], yaxis="y2", showlegend=False,
                            hoverinfo="skip"))
    return Figure(data=traces, layout=theme.base_layout(
        380, bargap=0.3, hovermode="closest",
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0},
        margin={"l": 70, "r": 80 if rate else 30, "t": 40, "b": 40},
        xaxis=_month_axis(len(labels)), **axes))


def monthly_costs(data: RunData) -> Figure:
    """Cost per month stacked as energy, demand and gas; export revenue below zero; the
    month's total above each bar."""
    costs = data.monthly_costs()
    assert costs is not None
    cur = esc(data.currency)
    labels = _month_labels(data, costs.index)
    traces = []
    names = {"energy": tr("Electricity energy (TOU)"), "demand": tr("Demand charge"),
             "capacity": tr("Capacity charge"), "gas": tr("Natural gas"),
             "heat": tr("Purchased heat"), "export": tr("Export revenue")}
    for key, name in names.items():
        values = costs[key].to_numpy(dtype=float)
        if not values.any():
            continue
        sign = -1.0 if key == "export" else 1.0
        traces.append(trace(
            "bar", x=labels, y=_f32(sign * values), name=name,
            marker={"color": theme.COST_COLORS[key], "line": {"width": 0}},
            hovertemplate=f"%{{x}} · {name}: %{{y:,.0f}} {cur}<extra></extra>",
        ))
    totals = costs["total"].to_numpy(dtype=float)
    tops = np.maximum(totals, (costs["energy"] + costs["demand"] + costs["capacity"]
                               + costs["gas"] + costs["heat"]).to_numpy())
    traces.append(trace(
        "scatter", x=labels, y=_f32(tops), mode="text", text=[f"{v:,.0f}" for v in totals],
        textposition="top center", showlegend=False, hoverinfo="skip",
        textfont={"size": 12, "color": theme.MUTED},
    ))
    return Figure(data=traces, layout=theme.base_layout(
        400, barmode="relative", bargap=0.3, hovermode="closest",
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0,
                "traceorder": "normal"},
        margin={"l": 80, "r": 30, "t": 40, "b": 40},
        xaxis=_month_axis(len(labels)),
        yaxis={"title": {"text": tr("{cur} per month", cur=cur)}, "fixedrange": True,
               "gridcolor": theme.GRID, "tickformat": ",", "rangemode": "tozero",
               "range": [min(0.0, float(-costs["export"].max()) * 1.1),
                         float(tops.max(initial=0.0)) * 1.12 or 1.0]},
    ))


# ---------------------------------------------------------------------------------- emissions

def emissions_by_scope(data: RunData) -> Figure:
    """CO2 over the run [t]: two stacked bars, scope 1 (natural gas burnt on site, process
    emissions and refrigerant leakage when the plant has them) plus scope 2 (grid electricity
    location-based, and purchased heat or steam when the plant buys it), and the same with
    scope 2 market-based. Each bar adds up to scope 1 + scope 2 of the KPIs."""
    k = data.kpis
    s1 = _num(k.get("co2_scope1_kg")) / 1000.0
    proc = _num(k.get("co2_scope1_process_kg")) / 1000.0
    refr = _num(k.get("co2_scope1_refrigerant_kg")) / 1000.0
    heat = _num(k.get("co2_scope2_heat_kg")) / 1000.0
    s2 = {"location": _num(k.get("co2_scope2_location_kg")) / 1000.0,
          "market": _num(k.get("co2_scope2_market_kg")) / 1000.0}
    bars = [tr("Scope 2 location-based<br>(grid-average factor)"),
            tr("Scope 2 market-based<br>(instruments, residual factor)")]
    traces = []
    for value, name, color, hover, always in (  # the gas bar always; the others when present
            (s1 - proc - refr, tr("Scope 1: natural gas burnt on site"),
             theme.EMISSION_COLORS["scope1"], tr("Scope 1, natural gas"), True),
            (proc, tr("Scope 1: process emissions"), "#8e44ad", tr("Scope 1, process"), False),
            (refr, tr("Scope 1: refrigerant leakage"), "#17a2b8", tr("Scope 1, refrigerants"),
             False)):
        if value <= 0 and not always:
            continue
        traces.append(trace(
            "bar", x=bars, y=_f32([value, value]), name=name,
            marker={"color": color, "line": {"width": 0}},
            text=[f"{value:,.1f} t"] * 2, textposition="inside", insidetextanchor="middle",
            hovertemplate=f"{hover}: %{{y:,.1f}} t CO₂e<extra></extra>",
        ))
    if heat > 0:
        traces.append(trace(
            "bar", x=bars, y=_f32([heat, heat]), name=tr("Scope 2: purchased heat and steam"),
            marker={"color": "#e8590c", "line": {"width": 0}},
            text=[f"{heat:,.1f} t"] * 2, textposition="inside", insidetextanchor="middle",
            hovertemplate=tr("Scope 2, purchased heat") + ": %{y:,.1f} t CO₂<extra></extra>",
        ))
    for key, i, label, hover in (
            ("location", 0, tr("Scope 2: grid electricity, location-based"),
             tr("Scope 2, location-based")),
            ("market", 1, tr("Scope 2: grid electricity, market-based"),
             tr("Scope 2, market-based"))):
        y = [None, None]
        y[i] = s2[key] - heat  # the scope 2 totals hold the purchased heat
        traces.append(trace(
            "bar", x=bars, y=y, name=label,
            marker={"color": theme.EMISSION_COLORS[f"scope2_{key}"], "line": {"width": 0}},
            text=[f"{s2[key] - heat:,.1f} t" if j == i else "" for j in range(2)],
            textposition="inside", insidetextanchor="middle",
            hovertemplate=f"{hover}: %{{y:,.1f}} t CO₂<extra></extra>",
        ))
    totals = [s1 + s2["location"], s1 + s2["market"]]
    traces.append(trace(
        "scatter", x=bars, y=_f32(totals), mode="text", text=[f"{t:,.1f} t" for t in totals],
        textposition="top center", showlegend=False, hoverinfo="skip",
        textfont={"size": 13, "color": theme.TEXT},
    ))
    return Figure(data=traces, layout=theme.base_layout(
        400, barmode="stack", bargap=0.45, hovermode="closest",
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0,
                "traceorder": "normal"},
        margin={"l": 80, "r": 30, "t": 50, "b": 60},
        xaxis={"type": "category", "fixedrange": True},
        yaxis={"title": {"text": tr("t CO₂ over the run (scope 1 + 2)")}, "fixedrange": True,
               "gridcolor": theme.GRID, "tickformat": ",", "rangemode": "tozero",
               "range": [0, max(*totals, 1e-3) * 1.15]},
    ))


FOOTPRINT_PARTS: tuple[tuple[str, str, str], ...] = (
    ("direct_electricity", N_("Processing and changeovers: electricity"), "#2e9e4f"),
    ("direct_natural_gas", N_("Processing and changeovers: natural gas"), "#9c755f"),
    ("station_overhead_kg", N_("Stations waiting, standby, warm-up, down"), "#bcc2c9"),
    ("heat_and_cooling_kg", N_("Heat and cooling from the energy plant"), "#e8590c"),
    ("plant_overhead_kg", N_("Plant overhead (base loads, HVAC, storage)"), "#627d98"),
    ("process_kg", N_("Process emissions (scope 1)"), "#8e44ad"),
    ("refrigerant_kg", N_("Refrigerant leakage (scope 1)"), "#17a2b8"),
    ("materials_kg", N_("Purchased materials (scope 3)"), "#d4a017"),
)
"""Parts of a product footprint, in stacking order, with their legend text and colour."""


def has_footprints(data: RunData) -> bool:
    """Whether the run has a per-unit footprint for at least one product."""
    prods = (data.kpis.get("footprints") or {}).get("products") or {}
    return any(v.get("co2_kg_per_unit") is not None for v in prods.values())


def product_footprints(data: RunData) -> Figure:
    """Carbon footprint per unit of each finished product [kg CO2e per unit], stacked by what
    causes it (scope 1 + 2 location-based: energy, process, refrigerants; then materials,
    scope 3, when the plant file gives them)."""
    prods = {p: v for p, v in data.kpis["footprints"]["products"].items()
             if v.get("co2_kg_per_unit") is not None}
    names = list(prods)
    traces = []
    for key, label, color in FOOTPRINT_PARTS:
        per_unit = []
        for p in names:
            v = prods[p]
            units = v["co2_kg"] / v["co2_kg_per_unit"] if v["co2_kg_per_unit"] else 0.0
            kg = (v["direct_kg"]["electricity"] if key == "direct_electricity"
                  else v["direct_kg"]["natural_gas"] if key == "direct_natural_gas"
                  else v.get(key, 0.0))
            per_unit.append(kg / units if units else 0.0)
        if not any(per_unit):
            continue
        traces.append(trace(
            "bar", y=[esc(n) for n in names], x=_f32(per_unit), orientation="h",
            name=tr(label), marker={"color": color, "line": {"width": 0}},
            hovertemplate=f"%{{y}} · {tr(label)}: %{{x:,.3f}} "
                          f"{tr('kg CO₂ per unit')}<extra></extra>",
        ))
    return Figure(data=traces, layout=theme.base_layout(
        max(240, 110 + 44 * len(names)), barmode="stack", bargap=0.35,
        xaxis={"title": {"text": tr("kg CO₂e per unit (scope 1 + 2 location-based + materials,"
                                    " scope 3)") if any(v.get("materials_kg")
                                                        for v in prods.values())
                         else tr("kg CO₂e per unit (scope 1 + 2 location-based)")},
               "gridcolor": theme.GRID, "rangemode": "tozero"},
        yaxis={"autorange": "reversed", "title": {"text": tr("Product")}, "fixedrange": True},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0,
                "traceorder": "normal"},
        margin={"l": 120, "r": 30, "t": 60, "b": 50},
    ))


def emissions_heatmap(data: RunData) -> Figure:
    """Scope 1 + scope 2 (location-based) CO2 per hour as a day (x) by hour-of-day (y) heatmap
    [kg]."""
    kg = data.col("co2_scope1_kg") + data.col("co2_scope2_location_kg")
    return _day_hour_heatmap(data, kg, theme.EMISSIONS_HEATMAP_SCALE, "scope 1 + 2 ",
                             zmin=0.0, unit="kg CO₂")


def _num(x: object) -> float:
    try:
        v = float(x)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return 0.0
    return v if math.isfinite(v) else 0.0


# ------------------------------------------------------------------------------- energy flows

ELECTRICITY = N_("Electricity")
NATURAL_GAS = N_("Natural gas")
ENERGY_PLANT = N_("Energy plant")
GROUP = "group:"
"""Prefix of the node key of an equipment group (so a group called 'PV' is not the PV node)."""
FLOW_TOL = 1e-9
"""Links smaller than this share of the largest flow are left out of the Sankey."""


def energy_flows(data: RunData) -> list[tuple[str, str, float]]:
    """Energy over the run as (source node, target node, kWh) links, from run-folder totals.

    Sources (grid import, PV, wind, CHP electricity, battery discharge, electricity not
    supplied, natural gas) feed the carriers; the carriers feed the groups (``<carrier>_kwh:
    <group>`` columns), battery charging, export and curtailment. Gas burnt in boilers and CHP
    (fuel less the groups' direct gas use) and electricity of heat pumps, chillers and electric
    boilers (``electricity_kwh:energy_plant``) go to the energy plant, which gives the heat and
    cooling delivered (demand less unmet); the plant's losses net of ambient heat gained by heat
    pumps and of CHP electricity are its residual. The electricity node balances: PV + wind +
    CHP + discharge + grid import + not supplied = uses + charging + export + curtailment.
    Group nodes are keyed ``group:<name>`` with the raw (not escaped) group name.
    """
    tot = {c: float(data.col(c).sum()) for c in (
        "grid_import_kwh", "pv_kwh", "wind_kwh", "chp_kwh", "battery_discharge_kwh",
        "unserved_kwh", "battery_charge_kwh", "grid_export_kwh", "curtailed_kwh", "fuel_kwh",
        "electricity_demand_kwh", "heat_demand_kwh", "heat_unmet_kwh", "cooling_demand_kwh",
        "cooling_unmet_kwh")}
    links: list[tuple[str, str, float]] = []
    for col, label in (("grid_import_kwh", N_("Grid import")), ("pv_kwh", N_("PV")),
                       ("wind_kwh", N_("Wind")), ("chp_kwh", N_("CHP electricity")),
                       ("battery_discharge_kwh", N_("Battery discharge")),
                       ("unserved_kwh", N_("Electricity not supplied"))):
        links.append((label, ELECTRICITY, tot[col]))
    el_cols = data.carrier_columns("electricity")
    if not el_cols and "electricity_demand_kwh" in data.hourly:
        el_cols = {"site": "electricity_demand_kwh"}
    used = 0.0
    plant_in = 0.0
    for group, col in el_cols.items():
        v = float(data.hourly[col].sum())
        used += v
        if group == "energy_plant":
            plant_in += v
            links.append((ELECTRICITY, ENERGY_PLANT, v))
        else:
            links.append((ELECTRICITY, GROUP + group, v))
    other = tot["electricity_demand_kwh"] - used
    if other > FLOW_TOL * max(tot["electricity_demand_kwh"], 1.0):
        links.append((ELECTRICITY, N_("Other electricity use"), other))
    links += [(ELECTRICITY, N_("Battery charging"), tot["battery_charge_kwh"]),
              (ELECTRICITY, N_("Export"), tot["grid_export_kwh"]),
              (ELECTRICITY, N_("Curtailed"), tot["curtailed_kwh"])]
    # natural gas: bought, to the groups, the rest to boilers and CHP
    links.append((N_("Natural gas bought"), NATURAL_GAS, tot["fuel_kwh"]))
    direct = 0.0
    for group, col in data.carrier_columns("natural_gas").items():
        v = float(data.hourly[col].sum())
        direct += v
        links.append((NATURAL_GAS, GROUP + group, v))
    to_plant = tot["fuel_kwh"] - direct
    if to_plant > FLOW_TOL * max(tot["fuel_kwh"], 1.0):
        plant_in += to_plant
        links.append((NATURAL_GAS, ENERGY_PLANT, to_plant))
    # heat and cooling: delivered by the plant, unmet as its own source, to the groups
    plant_out = tot["chp_kwh"]
    for carrier in ("heat", "cooling"):
        demand, unmet = tot[f"{carrier}_demand_kwh"], tot[f"{carrier}_unmet_kwh"]
        if demand <= 0:
            continue
        name = theme.CARRIER_LABELS[carrier]  # English node key, shown through tr
        links.append((ENERGY_PLANT, name, demand - unmet))
        links.append((N_("Heat not supplied") if carrier == "heat"
                      else N_("Cooling not supplied"), name, unmet))
        plant_out += demand - unmet
        for group, col in data.carrier_columns(carrier).items():
            links.append((name, GROUP + group, float(data.hourly[col].sum())))
    net = plant_in - plant_out
    if plant_in or plant_out:
        scale = max(plant_in, plant_out, 1.0)
        if net > FLOW_TOL * scale:
            links.append((ENERGY_PLANT, N_("Conversion losses (net)"), net))
        elif net < -FLOW_TOL * scale:
            links.append((N_("Ambient heat (net)"), ENERGY_PLANT, -net))
    top = max((v for _, _, v in links), default=0.0)
    return [(a, b, v) for a, b, v in links if v > FLOW_TOL * max(top, 1.0)]


FLOW_COLORS: dict[str, str] = {
    "Grid import": theme.SUPPLY_COLORS["grid"], "PV": theme.SUPPLY_COLORS["pv"],
    "Wind": theme.SUPPLY_COLORS["wind"], "CHP electricity": theme.SUPPLY_COLORS["chp"],
    "Battery discharge": theme.SUPPLY_COLORS["discharge"],
    "Electricity not supplied": theme.SUPPLY_COLORS["unserved"],
    "Battery charging": theme.SUPPLY_COLORS["charge"], "Export": theme.SUPPLY_COLORS["export"],
    "Curtailed": theme.SUPPLY_COLORS["curtailed"],
    ELECTRICITY: theme.carrier_color("electricity"),
    NATURAL_GAS: theme.carrier_color("natural_gas"),
    "Natural gas bought": theme.EMISSION_COLORS["scope1"],
    "Heat": theme.carrier_color("heat"), "Cooling": theme.carrier_color("cooling"),
    "Heat not supplied": theme.SUPPLY_COLORS["unserved"],
    "Cooling not supplied": theme.SUPPLY_COLORS["unserved"],
    ENERGY_PLANT: "#7b6a58", "Conversion losses (net)": "#c3cad3",
    "Ambient heat (net)": "#b7d7e8", "Other electricity use": theme.OTHER_CARRIER_COLOR,
}


def _rgba(color: str, alpha: float) -> str:
    c = color.lstrip("#")
    r, g, b = (int(c[i:i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"


def energy_sankey(data: RunData) -> Figure:
    """The :func:`energy_flows` of the run as a Sankey diagram [MWh]."""
    links = energy_flows(data)
    nodes = list(dict.fromkeys(n for a, b, _ in links for n in (a, b)))
    index = {n: i for i, n in enumerate(nodes)}

    def color(n: str) -> str:
        if n.startswith(GROUP):
            return data.group_colors.get(n[len(GROUP):], theme.OTHER_CARRIER_COLOR)
        return FLOW_COLORS.get(n, theme.OTHER_CARRIER_COLOR)

    carriers = (ELECTRICITY, NATURAL_GAS, "Heat", "Cooling")
    labels = [esc(n[len(GROUP):]) if n.startswith(GROUP) else esc(tr(n)) for n in nodes]
    sankey = trace(
        "sankey", arrangement="snap", valueformat=",.1f", valuesuffix=" MWh",
        node={"label": labels, "color": [color(n) for n in nodes], "pad": 14,
              "thickness": 16, "line": {"color": "white", "width": 0.5},
              "hovertemplate": "%{label}: %{value} " + tr("over the run")
                               + "<extra></extra>"},
        link={"source": [index[a] for a, _, _ in links],
              "target": [index[b] for _, b, _ in links],
              "value": [v / 1000.0 for _, _, v in links],
              "color": [_rgba(color(b if a in carriers else a), 0.45)
                        for a, b, _ in links],
              "hovertemplate": ("%{source.label} → %{target.label}: %{value}"
                                "<extra></extra>")},
    )
    return Figure(data=[sankey], layout=theme.base_layout(
        max(460, 24 * len(nodes)), margin={"l": 10, "r": 10, "t": 20, "b": 20}))


# ------------------------------------------------------------------------- load-duration curve

LDC_SERIES = (("electricity_demand_kwh", N_("Site demand"), "dot"),
              ("grid_import_kwh", N_("Grid import"), "solid"))
"""Hourly columns of the load-duration chart: column, name, line dash."""


def load_duration_curve(data: RunData) -> Figure:
    """Load-duration curves of site demand and grid import: each run hour's value [kWh per
    hour = average kW] sorted from highest to lowest against the hours it is reached
    (:func:`twin.dashboard.profiles.load_duration`)."""
    from twin.dashboard.profiles import load_duration

    traces = []
    colors = {"electricity_demand_kwh": theme.TEXT,
              "grid_import_kwh": "#3b6fb6"}
    for col, name, dash in LDC_SERIES:
        if col not in data.hourly.columns:
            continue
        curve = load_duration(data.hourly[col].to_numpy(dtype=float))
        traces.append(trace(
            "scatter", x0=1, dx=1, y=_f32(curve), mode="lines", name=tr(name),
            line={"color": colors[col], "width": 1.8, "dash": dash, "shape": "hv"},
            hovertemplate=tr("{name}: {x} kW or more in {h} h", name=tr(name), x="%{y:,.1f}",
                             h="%{x:,}") + "<extra></extra>"))
    return Figure(data=traces, layout=theme.base_layout(
        380, hovermode="x unified",
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0},
        margin={"l": 80, "r": 30, "t": 40, "b": 50},
        xaxis={"title": {"text": tr("Hours of the run at or above the level")},
               "gridcolor": theme.GRID, "rangemode": "tozero", "tickformat": ","},
        yaxis={"title": {"text": tr("Hourly average power [kW]")}, "rangemode": "tozero",
               "gridcolor": theme.GRID, "tickformat": ","}))
