"""The plotly figures of the run dashboard, one function each, from a :class:`RunData`.

Every user-given name (group, station, equipment, product) is passed through
:func:`html.escape` before it becomes plotly text: plotly.js reads a small set of HTML tags in
text (``<b>``, ``<a href>``, ...), and escaping makes it print names literally. Times are local
wall-clock times of the plant's time zone. Values are sent as float32 binary arrays and hourly
x values as ``x0``/``dx`` where the local hours are evenly spaced, which keeps a year of hourly
data to a few hundred kB.
"""

from __future__ import annotations

import html
import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from twin.dashboard import theme
from twin.dashboard.data import RunData

HOUR_MS = 3_600_000


def esc(text: object) -> str:
    """HTML-escape a user string for plotly text or the page."""
    return html.escape(str(text), quote=True)


def _f32(values: object) -> np.ndarray:
    return np.asarray(values, dtype=np.float32)


def _hourly_x(data: RunData) -> dict[str, object]:
    """x of the hourly traces: ``x0``/``dx`` if local hours are evenly spaced (no DST change in
    the run), else the list of local times."""
    wall = data.wall_index
    if len(wall) == 0:
        return {"x": []}
    steps = np.diff(wall.asi8) if len(wall) > 1 else np.array([], dtype=np.int64)
    one_hour = pd.Timedelta(hours=1).value // pd.Timedelta(1, unit=wall.unit).value
    if (steps == one_hour).all():
        return {"x0": wall[0].strftime("%Y-%m-%d %H:%M:%S"), "dx": HOUR_MS}
    return {"x": [t.strftime("%Y-%m-%d %H:%M") for t in wall]}


def hourly_demand(data: RunData) -> go.Figure:
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

    fig = go.Figure()
    xspec = _hourly_x(data)
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
            fig.add_trace(go.Scatter(
                **xspec, y=_f32(values), name=esc(group), legendgroup=esc(group),
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

    fig.update_layout(**theme.base_layout(
        520 if n == 1 else 640,
        hovermode="x unified",
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0, "traceorder": "normal",
                "title": {"text": "Group "}},
        margin={"l": 80, "r": 30, "t": 60, "b": 40},
        **layout_axes,
    ))
    fig.update_xaxes(
        type="date", anchor="y" + (str(n) if n > 1 else ""), gridcolor=theme.GRID,
        title={"text": f"Local time ({esc(data.timezone)})"},
        hoverformat="%a %d %b %Y, %H:%M", tickformatstops=[
            {"dtickrange": [None, 86_400_000], "value": "%H:%M\n%d %b"},
            {"dtickrange": [86_400_000, None], "value": "%d %b\n%Y"},
        ],
        rangeslider={"visible": True, "thickness": 0.07},
        rangeselector={"buttons": [
            {"count": 1, "label": "1 day", "step": "day", "stepmode": "backward"},
            {"count": 7, "label": "1 week", "step": "day", "stepmode": "backward"},
            {"count": 28, "label": "4 weeks", "step": "day", "stepmode": "backward"},
            {"label": "All", "step": "all"},
        ], "x": 1, "xanchor": "right", "y": 1.02, "yanchor": "bottom"},
    )
    return fig


def demand_heatmap(data: RunData) -> go.Figure:
    """Site electricity per hour as a day (x) by hour-of-day (y) heatmap [kWh]."""
    wall = data.wall_index
    kwh = data.hourly["electricity_demand_kwh"].to_numpy(dtype=float)
    frame = pd.DataFrame({"day": wall.normalize(), "hour": wall.hour, "kwh": kwh})
    # sum, so an hour repeated when clocks go back holds both hours' energy
    grid = frame.groupby(["day", "hour"])["kwh"].sum().unstack("hour")
    grid = grid.reindex(columns=range(24))
    days = [d.strftime("%Y-%m-%d") for d in grid.index]
    fig = go.Figure(go.Heatmap(
        x=days, y=[f"{h:02d}:00" for h in range(24)], z=_f32(grid.to_numpy().T),
        colorscale=theme.HEATMAP_SCALE, xgap=1 if len(days) <= 60 else 0,
        colorbar={"title": {"text": "kWh"}, "thickness": 14, "tickformat": ","},
        hovertemplate="%{x|%a %d %b %Y}, %{y}<br>%{z:,.1f} kWh<extra></extra>",
    ))
    fig.update_layout(**theme.base_layout(
        420,
        xaxis={"type": "date", "title": {"text": "Day (local)"}, "showgrid": False,
               "ticklabelmode": "period" if len(days) > 40 else "instant"},
        yaxis={"title": {"text": "Hour of day (local)"}, "type": "category",
               "tickvals": [f"{h:02d}:00" for h in range(0, 24, 3)], "autorange": True},
        margin={"l": 80, "r": 30, "t": 20, "b": 50},
    ))
    return fig


def energy_treemap(data: RunData) -> go.Figure:
    """Energy over the run per carrier -> group -> equipment [kWh], from ``equipment.csv``.

    plotly draws a box that has children with its label only, so carrier and group labels carry
    their energy; leaves (equipment) show name and energy on two lines.
    """
    eq = data.equipment
    assert eq is not None
    carriers = [c[:-4] for c in eq.columns if c.endswith("_kwh")]
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

    groups = list(dict.fromkeys(list(data.groups) + list(eq["group"])))
    for ci, carrier in enumerate(carriers):
        col = f"{carrier}_kwh"
        total = float(eq[col].clip(lower=0).sum())
        if total <= 0:
            continue
        cl = theme.carrier_label(carrier)
        cid = f"c{ci}"
        node(cid, f"{cl} · {total:,.0f} kWh", "", total, theme.carrier_color(carrier),
             f"<b>{cl}</b><br>{total:,.0f} kWh over the run", leaf=False)
        for gi, group in enumerate(groups):
            sub = eq[(eq["group"] == group) & (eq[col] > 0)].sort_values(col, ascending=False)
            if sub.empty:
                continue
            gid = f"{cid}g{gi}"
            gsum = float(sub[col].sum())
            color = data.group_colors.get(group, theme.OTHER_CARRIER_COLOR)
            node(gid, f"{esc(group)} · {gsum:,.0f} kWh", cid, gsum, color,
                 f"<b>{esc(group)}</b><br>{gsum:,.0f} kWh, {gsum / total:.1%} of {cl.lower()}",
                 leaf=False)
            for ei, (name, row) in enumerate(sub.iterrows()):
                v = float(row[col])
                node(f"{gid}e{ei}", esc(name), gid, v, color,
                     f"<b>{esc(name)}</b> ({esc(group)})<br>{v:,.0f} kWh,"
                     f" {v / total:.1%} of {cl.lower()}", leaf=True)
    fig = go.Figure(go.Treemap(
        ids=ids, labels=labels, parents=parents, values=values, branchvalues="total",
        marker={"colors": colors, "line": {"color": "white", "width": 1}},
        customdata=hover, sort=True, texttemplate=templates, textfont={"size": 13},
        hovertemplate="%{customdata}<extra></extra>",
        pathbar={"visible": True}, tiling={"pad": 2},
    ))
    fig.update_layout(**theme.base_layout(520, margin={"l": 10, "r": 10, "t": 30, "b": 10}))
    return fig


def state_shares(data: RunData) -> go.Figure:
    """Share of calendar time in each power state, per station (stacked horizontal bars [%])."""
    stations = data.kpis.get("stations", {})
    names = list(stations)
    present = {s for v in stations.values() for s in v.get("time_share", {})}
    states = [s for s in theme.STATE_ORDER if s in present]
    states += sorted(present - set(states))
    hours = float(data.kpis.get("simulated_days", 0.0)) * 24.0
    labels = [esc(n) for n in names]
    fig = go.Figure()
    for state in states:
        share = np.array([float(stations[n].get("time_share", {}).get(state, 0.0)) for n in names])
        fig.add_trace(go.Bar(
            y=labels, x=_f32(share * 100.0), orientation="h", name=theme.state_label(state),
            marker={"color": theme.state_color(state), "line": {"width": 0}},
            customdata=_f32(share * hours),
            hovertemplate=(f"%{{y}} · {theme.state_label(state)}: %{{x:.1f}} %"
                           f" (%{{customdata:,.0f}} h per machine)<extra></extra>"),
        ))
    fig.update_layout(**theme.base_layout(
        max(260, 90 + 34 * len(names)),
        barmode="stack", bargap=0.25,
        xaxis={"title": {"text": "Share of calendar time (%)"}, "range": [0, 100],
               "ticksuffix": " %", "gridcolor": theme.GRID, "fixedrange": True},
        yaxis={"autorange": "reversed", "title": {"text": "Station"}, "fixedrange": True},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0,
                "traceorder": "normal"},
        margin={"l": 110, "r": 30, "t": 50, "b": 50},
    ))
    return fig


def _bin_width(top: float, max_bins: int = 50) -> float:
    """A round bin width [h] giving at most ``max_bins`` bins from 0 to ``top``."""
    for w in (0.05, 0.1, 0.25, 0.5, 1, 2, 4, 6, 8, 12, 24, 48, 72, 168, 336, 720):
        if top / w <= max_bins:
            return float(w)
    return float(10 ** math.ceil(math.log10(top / max_bins)))


def lead_times(data: RunData) -> go.Figure:
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
    fig = make_subplots(rows=n, cols=1, shared_xaxes=True, subplot_titles=titles,
                        vertical_spacing=min(0.12, 0.35 / max(n, 1)) if n > 1 else 0.0)
    left, right = edges[:-1], edges[1:]
    ranges = [f"{a:,.4g}–{b:,.4g} h" for a, b in zip(left, right, strict=True)]
    if clipped:
        ranges[-1] = f"≥ {left[-1]:,.4g} h"
    for i, p in enumerate(products, start=1):
        sel = lead[prod == p]
        counts, _ = np.histogram(np.minimum(sel, edges[-1] - width / 2), bins=edges)
        fig.add_trace(go.Bar(
            x=_f32((left + right) / 2), y=counts.astype(np.int32), width=width,
            name=esc(p), marker={"color": data.product_colors.get(p, "#666666"),
                                 "line": {"width": 0}},
            customdata=ranges, showlegend=False,
            hovertemplate=f"{esc(p)}: %{{customdata}}, %{{y:,}} lots<extra></extra>",
        ), row=i, col=1)
        mean = float(sel.mean())
        if mean <= edges[-1]:
            fig.add_vline(x=mean, line={"dash": "dash", "color": theme.TEXT, "width": 1.5},
                          row=i, col=1)
        fig.update_yaxes(title={"text": "Lots"}, gridcolor=theme.GRID, rangemode="tozero",
                         row=i, col=1)
    title = "Lead time, release to completion (h)"
    if clipped:
        title += f"; the last bar holds all lots of {left[-1]:,.4g} h and more"
    fig.update_xaxes(gridcolor=theme.GRID, range=[0, float(edges[-1])])
    fig.update_xaxes(title={"text": title}, row=n, col=1)
    fig.update_layout(**theme.base_layout(
        90 + 200 * n, bargap=0.05, margin={"l": 70, "r": 30, "t": 40, "b": 50}))
    fig.update_annotations(font={"size": 13}, x=0, xanchor="left", yshift=6)
    return fig
