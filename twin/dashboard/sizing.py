"""The sizing page: one self-contained HTML page from a ``twin size`` folder.

>>> from twin.dashboard.sizing import write_sizing_dashboard
>>> write_sizing_dashboard("results/demo-sizing")          # doctest: +SKIP
PosixPath('results/demo-sizing/dashboard.html')

The page reads only the folder (``sizing.json``, ``cost_curves.csv``, ``sensitivity.csv``,
``economics.csv``; see :mod:`twin.sizing_study`), shares the run dashboard's shell (styles,
plotly.js embedded once, escaping) and shows: the annualised cost breakdown of the sized plant
against the plant as it is, the sizes (capacity kept and new), the targets with their shadow
prices, the upgrade's economics and cash flows, the sensitivity table, the check by simulation
(the LP's predicted annual cost against the simulated one with its interval) and the total cost
against the size of each candidate around the optimum, the others re-optimised.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from twin.atomic import write_text
from twin.dashboard import theme
from twin.dashboard.figures import esc
from twin.dashboard.page import _note, _section, html_page
from twin.dashboard.plot import Figure, axis_key, cell_axes, figure_html, subplot_layout, trace
from twin.dashboard.study import _n  # (numbers as the study page shows them)

FILENAME = "dashboard.html"

COST_FIGURE_ID = "fig-sizing-cost"
CASHFLOW_FIGURE_ID = "fig-sizing-cashflows"
VERIFICATION_FIGURE_ID = "fig-sizing-verification"
CURVES_FIGURE_ID = "fig-sizing-curves"
NO_CURVES = ("No cost-against-size curves in the folder (none asked for: "
             "sizing.curve_points_pct is [], or an older folder).")
SIZING_FIGURE_IDS = (COST_FIGURE_ID, CASHFLOW_FIGURE_ID, CURVES_FIGURE_ID)
"""Div ids of the figures of every sizing page (the verification figure only when the sizes were
checked by simulation)."""

COST_PARTS: tuple[tuple[str, str, float, str], ...] = (
    ("capex_annuity", "capex annuity", 1.0, "#3b6fb6"),
    ("om", "O&M", 1.0, "#7ea6d8"),
    ("energy_cost", "energy", 1.0, theme.COST_COLORS["energy"]),
    ("demand_cost", "demand charge", 1.0, theme.COST_COLORS["demand"]),
    ("export_revenue", "export revenue", -1.0, theme.COST_COLORS["export"]),
    ("fuel_cost", "gas and heat bought", 1.0, theme.COST_COLORS["gas"]),
    ("certificates_cost", "green certificates", 1.0, "#59a14f"),
    ("offsets_cost", "offsets", 1.0, "#9c755f"),
)
"""Parts of the annualised cost (key in ``sizing.json``, label, sign, colour): with their signs
they add up to ``total``."""

CASHFLOW_PARTS: tuple[tuple[str, str, str], ...] = (
    ("capex", "capex", "#3b6fb6"), ("operating_saving", "operating saving", "#2f855a"),
    ("battery_fade", "battery fade", "#e15759"), ("om", "O&M", "#7ea6d8"),
    ("replacements", "replacements", "#c05621"), ("salvage", "salvage", "#8e6bbf"),
)
"""Columns of ``economics.csv`` drawn as the parts of each year's net cash flow."""


class SizingFolderError(FileNotFoundError):
    """The folder is not a ``twin size`` folder, or its ``sizing.json`` is damaged."""


@dataclass
class SizingPageData:
    """What the sizing page reads from a sizing folder (missing CSVs are empty tables)."""

    folder: Path
    doc: dict[str, Any]
    curves: pd.DataFrame
    sensitivity: pd.DataFrame
    economics: pd.DataFrame

    @property
    def currency(self) -> str:
        return str(self.doc.get("currency") or "CNY")


def _csv(path: Path, **kw: Any) -> pd.DataFrame:
    if not path.is_file():
        return pd.DataFrame()
    try:
        return pd.read_csv(path, **kw)
    except (ValueError, OSError) as exc:
        raise SizingFolderError(f"{path}: cannot be read as a table ({exc})") from None


def load_sizing_folder(folder: str | os.PathLike[str]) -> SizingPageData:
    """Read a sizing folder (``sizing.json`` and the CSVs next to it)."""
    d = Path(folder)
    f = d / "sizing.json"
    if not f.is_file():
        raise SizingFolderError(f"{d}: not a sizing folder (no sizing.json; run 'twin size')")
    try:
        doc = json.loads(f.read_text(encoding="utf-8"))
    except (ValueError, OSError) as exc:
        raise SizingFolderError(f"{f}: not valid JSON ({exc})") from None
    for key in ("sizes", "annualised_cost"):
        if not isinstance(doc.get(key), dict):
            raise SizingFolderError(f"{f}: field {key!r} missing or not a mapping")
    sens = _csv(d / "sensitivity.csv")
    if "case" in sens.columns:
        sens = sens.set_index("case")
    return SizingPageData(d, doc, _csv(d / "cost_curves.csv"), sens, _csv(d / "economics.csv"))


def unit_of(path: str) -> str:
    """The unit of a candidate from the field its override path ends in ('..._kwp' -> 'kWp')."""
    tail = path.rsplit(".", 1)[-1].lower()
    for suffix, unit in (("_kwp", "kWp"), ("_kwh", "kWh"), ("_kva", "kVA"), ("_kw", "kW"),
                         ("_mw", "MW")):
        if tail.endswith(suffix):
            return unit
    return ""


def _f(d: dict[str, Any], key: str) -> float:
    v = d.get(key)
    return float(v) if v is not None else 0.0


def cost_breakdown(data: SizingPageData) -> Figure:
    """Annualised cost of the plant as it is and sized, stacked by part (export revenue below
    zero), with each total as a diamond [currency/yr]."""
    cur = esc(data.currency)
    doc = data.doc
    cases = [("as is", doc.get("annualised_cost_as_is") or {}), ("sized", doc["annualised_cost"])]
    cases = [(label, c) for label, c in cases if c]
    x = [label for label, _ in cases]
    traces = []
    for key, label, sign, color in COST_PARTS:
        y = [sign * _f(c, key) for _, c in cases]
        if not any(abs(v) > 0 for v in y):
            continue
        traces.append(trace("bar", x=x, y=y, name=label, marker={"color": color},
                            hovertemplate=f"{label}: %{{y:,.0f}} {cur}/yr<extra></extra>"))
    traces.append(trace("scatter", x=x, y=[_f(c, "total") for _, c in cases], name="total",
                        mode="markers+text", text=[_n(_f(c, "total")) for _, c in cases],
                        textposition="middle right",
                        marker={"symbol": "diamond", "size": 12, "color": theme.TEXT},
                        hovertemplate=f"total: %{{y:,.0f}} {cur}/yr<extra></extra>"))
    return Figure(data=traces, layout=theme.base_layout(
        420, barmode="relative", bargap=0.45,
        yaxis={"title": {"text": f"annualised cost [{cur}/yr]"}, "gridcolor": theme.GRID,
               "zerolinecolor": theme.TEXT},
        xaxis={"title": None}))


def sizes_table(data: SizingPageData) -> str:
    """The sizes: as is, kept (the sunk capacity the optimum keeps), new and sized, per
    candidate, as an HTML table."""
    doc = data.doc
    as_is = doc.get("as_is") or {}
    new = doc.get("new_capacity") or {}
    head = ("<tr><th>Capacity</th><th>Unit</th><th>As is</th><th>Kept</th><th>New</th>"
            "<th>Sized</th></tr>")
    rows = []
    for path, v in doc["sizes"].items():
        nv = new.get(path)
        kept = float(v) - float(nv) if nv is not None else math.nan
        rows.append(f"<tr><td><code>{esc(path)}</code></td><td>{esc(unit_of(path))}</td>"
                    f"<td>{_n(as_is.get(path), 1)}</td><td>{_n(kept, 1)}</td>"
                    f"<td>{_n(nv, 1)}</td><td><b>{_n(v, 1)}</b></td></tr>")
    return f'<table class="stations" id="sizing-sizes">{head}{"".join(rows)}</table>'


def targets_table(data: SizingPageData) -> str:
    """The targets: limit, value at the optimum, binding or not, shadow price."""
    targets = data.doc.get("targets") or {}
    if not targets:
        return _note("No targets: the sizes are the least-cost ones, nothing more asked.")
    head = ("<tr><th>Target</th><th>Limit</th><th>Value</th><th>Binding</th>"
            "<th>Shadow price</th></tr>")
    rows = []
    for name, t in targets.items():
        pct = name == "min_renewable_share"
        nd = 4 if pct else 1
        extra = f" ({esc(t['basis'])}-based)" if t.get("basis") else ""
        rows.append(f"<tr><td>{esc(name)}{extra}</td><td>{_n(t.get('limit'), nd)}</td>"
                    f"<td>{_n(t.get('value'), nd)}</td>"
                    f"<td>{'yes' if t.get('binding') else 'no'}</td>"
                    f"<td>{_n(t.get('shadow_price'), 4 if pct else 1)} "
                    f"{esc(t.get('shadow_price_unit', '')).replace('currency', esc(data.currency))}"
                    f"</td></tr>")
    return f'<table class="stations" id="sizing-targets">{head}{"".join(rows)}</table>'


def thermal_table(data: SizingPageData) -> str:
    """The heat (cooling) each unit delivers, and the gas and electricity of the heat plant, as
    is and sized [kWh/yr] (only when the LP dispatched the heat plant)."""
    th = data.doc.get("thermal")
    if not th:
        return ""
    base = th.get("as_is") or {}
    units = list(dict.fromkeys([*(base.get("delivered_kwh_per_year") or {}),
                                *(th.get("delivered_kwh_per_year") or {})]))
    rows = [f"<tr><td>{esc(u)} delivers</td>"
            f"<td>{_n((base.get('delivered_kwh_per_year') or {}).get(u))}</td>"
            f"<td>{_n((th.get('delivered_kwh_per_year') or {}).get(u))}</td></tr>" for u in units]
    for key, label in (("gas_kwh_per_year", "gas burnt [kWh LHV]"),
                       ("electricity_kwh_per_year", "electricity used (CHP output off)")):
        rows.append(f"<tr><td>{label}</td><td>{_n(base.get(key))}</td>"
                    f"<td>{_n(th.get(key))}</td></tr>")
    head = "<tr><th>kWh per year</th><th>As is</th><th>Sized</th></tr>"
    return f'<table class="stations" id="sizing-thermal">{head}{"".join(rows)}</table>'


def flexibility_table(data: SizingPageData) -> str:
    """Sizes with and without flexible production, and what it is worth (only when asked)."""
    fl = data.doc.get("flexibility")
    if not fl:
        return ""
    cur = esc(data.currency)
    without = fl.get("sizes_without") or {}
    rows = [f"<tr><td><code>{esc(p)}</code></td><td>{_n(without.get(p), 1)}</td>"
            f"<td><b>{_n(v, 1)}</b></td></tr>" for p, v in (fl.get("sizes") or {}).items()]
    rows.append(f"<tr><td>annualised cost [{cur}/yr]</td>"
                f"<td>{_n(fl.get('annualised_cost_without'))}</td>"
                f"<td><b>{_n(fl.get('annualised_cost_total'))}</b></td></tr>")
    head = "<tr><th>Capacity</th><th>Work as run</th><th>Work shiftable</th></tr>"
    return (f'<p id="sizing-flex-text">{_n(fl.get("blocks"))} blocks of deferrable work, '
            f'{_n(fl.get("energy_kwh_per_year"))} kWh/yr; flexibility is worth '
            f'<b>{_n(fl.get("value_per_year"))} {cur}/yr</b>.</p>'
            f'<table class="stations" id="sizing-flex">{head}{"".join(rows)}</table>')


def economics_cards(data: SizingPageData) -> str:
    """NPV, IRR, payback and capex of the upgrade as a short table."""
    e = data.doc.get("economics") or {}
    if not e:
        return _note("No economics in sizing.json.")
    cur = esc(data.currency)
    irr = e.get("irr")
    pb = e.get("simple_payback_years")
    dpb = e.get("discounted_payback_years")
    cells = [("Capex", f"{_n(e.get('capex'))} {cur}"),
             ("NPV", f"{_n(e.get('npv'))} {cur}"),
             ("IRR", "n/a" if irr is None else f"{100 * float(irr):.1f} %"),
             ("Simple payback", "never" if pb is None else f"{_n(pb, 1)} yr"),
             ("Discounted payback", "never" if dpb is None else f"{_n(dpb, 1)} yr"),
             ("Operating saving", f"{_n(e.get('annual_operating_saving'))} {cur}/yr"),
             ("Analysis", f"{_n(e.get('analysis_years'))} yr at "
                          f"{100 * _f(e, 'discount_rate'):.1f} %")]
    head = "".join(f"<th>{k}</th>" for k, _ in cells)
    body = "".join(f"<td>{v}</td>" for _, v in cells)
    return f'<table class="stations" id="sizing-economics"><tr>{head}</tr><tr>{body}</tr></table>'


def cashflow_chart(data: SizingPageData) -> Figure:
    """Yearly cash flows of the upgrade (``economics.csv``) stacked by part, with the net flow
    and the cumulative discounted net as lines [currency]."""
    cur = esc(data.currency)
    e = data.economics
    years = e["year"].to_numpy(dtype=float)
    traces = []
    for col, label, color in CASHFLOW_PARTS:
        if col not in e.columns or not np.any(e[col].to_numpy(dtype=float) != 0):
            continue
        traces.append(trace("bar", x=years, y=e[col].to_numpy(dtype=float), name=label,
                            marker={"color": color},
                            hovertemplate=f"year %{{x}}: {label} %{{y:,.0f}} {cur}<extra></extra>"))
    net = e["net"].to_numpy(dtype=float)
    rate = float((data.doc.get("economics") or {}).get("discount_rate") or 0.0)
    cum = np.cumsum(net / (1.0 + rate) ** years)
    traces.append(trace("scatter", x=years, y=net, name="net", mode="markers",
                        marker={"symbol": "diamond", "size": 8, "color": theme.TEXT},
                        hovertemplate=f"year %{{x}}: net %{{y:,.0f}} {cur}<extra></extra>"))
    traces.append(trace("scatter", x=years, y=cum, name="cumulative discounted net (NPV)",
                        mode="lines", line={"color": "#3b6fb6", "width": 2},
                        hovertemplate=f"year %{{x}}: %{{y:,.0f}} {cur}<extra></extra>"))
    return Figure(data=traces, layout=theme.base_layout(
        420, barmode="relative", xaxis={"title": {"text": "year"}, "gridcolor": theme.GRID},
        yaxis={"title": {"text": f"cash flow [{cur}]"}, "gridcolor": theme.GRID,
               "zerolinecolor": theme.TEXT}))


def sensitivity_table(data: SizingPageData) -> str:
    """The sizes and the annual cost per sensitivity case (``sensitivity.csv``)."""
    s = data.sensitivity
    if s.empty:
        return _note("No sensitivity.csv in the folder.")
    cols = [c for c in s.columns if c != "note"]
    head = "<tr><th>Case</th>" + "".join(
        f"<th>{esc(c if c != 'annualised_cost_total' else f'total [{data.currency}/yr]')}</th>"
        for c in cols) + ("<th>Note</th>" if "note" in s.columns else "") + "</tr>"
    rows = []
    for case, r in s.iterrows():
        cells = "".join(f"<td>{_n(r[c], 0 if c == 'annualised_cost_total' else 1)}</td>"
                        for c in cols)
        note = (f"<td>{esc(r['note']) if isinstance(r['note'], str) else ''}</td>"
                if "note" in s.columns else "")
        rows.append(f"<tr><td>{esc(case)}</td>{cells}{note}</tr>")
    return f'<table class="stations" id="sizing-sensitivity">{head}{"".join(rows)}</table>'


def verification_chart(data: SizingPageData) -> Figure:
    """The LP's predicted annual cost against the simulated mean with its 95 % interval, for
    the total and for operation alone [currency/yr]."""
    cur = esc(data.currency)
    v = data.doc["verification"]
    sim_t, sim_o = v["simulated_annual_cost"], v["simulated_operation"]
    x = ["total", "operation"]
    lp = [float(v["lp_annual_cost"]), float(v["lp_operation"])]
    mean = [float(sim_t["mean"]), float(sim_o["mean"])]
    hi = [float(sim_t["high"]) - mean[0], float(sim_o["high"]) - mean[1]]
    lo = [mean[0] - float(sim_t["low"]), mean[1] - float(sim_o["low"])]
    traces = [
        trace("bar", x=x, y=lp, name="LP (perfect foresight)", marker={"color": "#a3acb6"},
              hovertemplate=f"LP %{{x}}: %{{y:,.0f}} {cur}/yr<extra></extra>"),
        trace("bar", x=x, y=mean, name=f"simulated ({esc(v.get('policy'))}, "
                                       f"{int(v.get('replications') or 0)} reps)",
              marker={"color": "#3b6fb6"},
              error_y={"type": "data", "symmetric": False, "array": hi, "arrayminus": lo,
                       "color": theme.TEXT},
              hovertemplate=f"simulated %{{x}}: %{{y:,.0f}} {cur}/yr<extra></extra>"),
    ]
    return Figure(data=traces, layout=theme.base_layout(
        360, barmode="group", yaxis={"title": {"text": f"annual cost [{cur}/yr]"},
                                     "gridcolor": theme.GRID}))


def verification_section(data: SizingPageData) -> str:
    v = data.doc.get("verification")
    if not v:
        return _note("The sizes were not checked by simulation (run twin size without "
                     "--no-verify, or with verify: enabled: true).")
    s = v["simulated_annual_cost"]
    cur = esc(data.currency)
    text = (f"LP {_n(v['lp_annual_cost'])} {cur}/yr against simulated {_n(s['mean'])} "
            f"[{_n(s['low'])}, {_n(s['high'])}] {cur}/yr (95 % interval), gap "
            f"{_n(v.get('gap'))} {cur}/yr. {esc(v.get('note', ''))}")
    return (f'<p id="sizing-verification-text">{text}</p>' + gap_table(data)
            + figure_html(verification_chart(data), VERIFICATION_FIGURE_ID))


GAP_CAUSES: tuple[tuple[str, str], ...] = (
    ("dispatch_policy", "dispatch policy against perfect-foresight dispatch"),
    ("demand_across_replications", "demand of the other replications"),
    ("flexibility_not_taken", "flexible production the simulation does not shift"),
    ("lp_model", "the LP's model (cyclic storage, no fade, reserve, heat dispatch, peak guard)"),
    ("total", "gap in the operating cost"),
)
"""The causes of the LP-simulation gap in ``verification.gap_causes`` (key, label)."""


def gap_table(data: SizingPageData) -> str:
    """The gap between simulated and LP operating cost split into its causes [currency/yr]."""
    g = (data.doc.get("verification") or {}).get("gap_causes")
    if not g:
        return ""
    cur = esc(data.currency)
    rows = [f"<tr><td>{esc(label)}</td><td>{_n(g.get(key))}</td></tr>"
            for key, label in GAP_CAUSES if g.get(key) is not None]
    head = f"<tr><th>Cause</th><th>{cur}/yr</th></tr>"
    return f'<table class="stations" id="sizing-gap">{head}{"".join(rows)}</table>'


def curves_chart(data: SizingPageData) -> Figure:
    """Total annualised cost against each candidate's size (``cost_curves.csv``), one panel
    per candidate, the optimum as a star; the other candidates re-optimised at every point."""
    cur = esc(data.currency)
    c = data.curves
    names = list(dict.fromkeys(c["candidate"]))
    ncol = min(3, len(names))
    nrow = math.ceil(len(names) / ncol)
    layout = theme.base_layout(330 * nrow, showlegend=False,
                               margin={"l": 80, "r": 30, "t": 40, "b": 60})
    layout.update(subplot_layout(nrow, ncol, horizontal_spacing=0.08, vertical_spacing=0.18,
                                 titles=[esc(n) for n in names]))
    for ann in layout.get("annotations") or []:
        ann["font"] = {"size": 11}
    traces = []
    for i, name in enumerate(names):
        xa, ya = cell_axes(i)
        g = c[c["candidate"] == name].sort_values("size")
        ok = g[np.isfinite(g["total"].to_numpy(dtype=float))]
        unit = esc(unit_of(name))
        traces.append(trace("scatter", x=ok["size"].to_numpy(dtype=float),
                            y=ok["total"].to_numpy(dtype=float), mode="lines+markers",
                            xaxis=xa, yaxis=ya, name=esc(name),
                            line={"color": "#3b6fb6"},
                            hovertemplate=f"%{{x:,.1f}} {unit}: %{{y:,.0f}} {cur}/yr"
                                          "<extra></extra>"))
        o = g[g["optimum"].astype(str).str.lower() == "true"]
        traces.append(trace("scatter", x=o["size"].to_numpy(dtype=float),
                            y=o["total"].to_numpy(dtype=float), mode="markers", xaxis=xa,
                            yaxis=ya, name="optimum",
                            marker={"symbol": "star", "size": 14, "color": "#c05621"},
                            hovertemplate=f"optimum %{{x:,.1f}} {unit}: %{{y:,.0f}} {cur}/yr"
                                          "<extra></extra>"))
        layout[axis_key(xa)].update(title={"text": unit}, gridcolor=theme.GRID)
        layout[axis_key(ya)].update(gridcolor=theme.GRID, tickformat=",.0f",
                                    title={"text": f"{cur}/yr"} if i % ncol == 0 else None)
    return Figure(data=traces, layout=layout)


def render_sizing(data: SizingPageData) -> str:
    """The whole sizing page as one HTML string."""
    doc = data.doc
    cur = esc(data.currency)
    study = Path(str(doc.get("study", ""))).name
    title = f"Sizing: {esc(study)}" if study else "Sizing"
    meta = [f"<span>{_n(doc.get('days'), 0)} days, {_n(doc.get('intervals'))} intervals "
            f"(× {_n(doc.get('year_scale'), 2)} to a year)</span>",
            f"<span>plant {esc(Path(str(doc.get('plant', ''))).name)}</span>",
            f"<span>discount rate {100 * float(doc.get('discount_rate') or 0):.1f} %</span>",
            f"<span>cyclic storage: {'yes' if doc.get('cyclic_storage') else 'no'}</span>",
            f"<span>LP solved in {_n(doc.get('solve_s'), 2)} s</span>"]
    b = doc.get("annualised_cost_as_is") or {}
    c = doc["annualised_cost"]
    sections = [
        _section("Annualised cost: sized against as is",
                 f"{cur} per year. Capex annuity and O&M are charged on new capacity only (the"
                 " plant's capacity is sunk); operation is energy + demand charge - export"
                 " revenue (+ gas and heat bought when the LP runs the heat plant)"
                 " + certificates + offsets, from the LP, scaled to a year. The parts"
                 f" add up to the diamond. Sized {_n(c.get('total'))}, as is {_n(b.get('total'))}"
                 f" {cur}/yr ({esc(doc.get('as_is_basis', ''))}).",
                 figure_html(cost_breakdown(data), COST_FIGURE_ID), "sizing-cost"),
        _section("Sizes", "Kept = the plant's capacity the optimum keeps (free), new = what"
                 " it adds (at its capex).", sizes_table(data), "sizing-sizes-section"),
        _section("Targets", "A binding target's shadow price is what tightening it by one"
                 " unit adds to the annual cost.", targets_table(data), "sizing-targets-section"),
    ]
    if doc.get("thermal"):
        sections.append(_section(
            "Heat plant", "The LP dispatched the heat and cooling buses with the run's heat and"
            " cooling demand (heat pump COP per interval, boiler efficiency, stores), scaled to a"
            " year.", thermal_table(data), "sizing-thermal-section"))
    if doc.get("flexibility"):
        sections.append(_section(
            "Flexible production", "The deferrable stations' work shifted by the LP within its"
            " release and latest finish, against the same sizing with the work where the run"
            " put it.", flexibility_table(data), "sizing-flex-section"))
    econ_body = economics_cards(data)
    if not data.economics.empty and "net" in data.economics.columns:
        econ_body += figure_html(cashflow_chart(data), CASHFLOW_FIGURE_ID)
    else:
        econ_body += _note("No economics.csv in the folder.")
    sections.append(_section(
        "Economics of the upgrade",
        "The new capacity against the plant as it is: year 0 capex, then the operating saving"
        " less O&M, battery fade and replacements, salvage in the last year; the line is the"
        " cumulative discounted net flow, its last point the NPV.", econ_body,
        "sizing-economics-section"))
    sections.append(_section(
        "Sensitivity", "Sizes and total annualised cost with capex, and with energy prices"
        " (import, feed-in and demand charge together), moved down and up.",
        sensitivity_table(data), "sizing-sensitivity-section"))
    sections.append(_section(
        "Check by simulation", "The sized plant run through the simulation with the named"
        " dispatch policy over replications (common random numbers): simulated = LP capex"
        " annuity, O&M and purchases + simulated operation; error bars = 95 % interval.",
        verification_section(data), "sizing-verification"))
    if not data.curves.empty:
        cc = doc.get("cost_curves") or {}
        sections.append(_section(
            "Cost against size around the optimum",
            "Each panel fixes one candidate at fractions of its optimum ("
            + ", ".join(f"{100 * f:g}" for f in sorted(data.curves["fraction"].dropna().unique()))
            + " %, within its bounds) and re-optimises the others: the total annualised cost is"
            " lowest at the"
            f" optimum (star). {_n(cc.get('solves'))} LPs, {_n(cc.get('wall_s'), 1)} s.",
            figure_html(curves_chart(data), CURVES_FIGURE_ID), "sizing-curves"))
    else:
        sections.append(_section("Cost against size around the optimum", "",
                                 _note(NO_CURVES), "sizing-curves"))
    return html_page(
        f"{title} – twin size", f'<h1 id="sizing-name">{title}</h1>'
        f'<div class="meta">{"".join(meta)}</div>', sections,
        "sizing.json, sized_plant.yaml, cost_curves.csv, sensitivity.csv and economics.csv are"
        " in this folder · costs are the study's figures · This page works offline.")


def write_sizing_dashboard(folder: str | os.PathLike[str]) -> Path:
    """Write ``folder/dashboard.html`` from a sizing folder and return its path (atomically)."""
    d = Path(folder)
    text = render_sizing(load_sizing_folder(d))
    return write_text(d / FILENAME, text)


__all__ = ["COST_PARTS", "SIZING_FIGURE_IDS", "SizingFolderError", "SizingPageData",
           "load_sizing_folder", "render_sizing", "write_sizing_dashboard"]
