"""The HTML page: header, KPI cards, figure sections, station table, all in one string.

Everything written here by hand escapes user strings with :func:`html.escape`. plotly.js is
embedded once, in the head; each figure is a ``<div>`` with a fixed id (``fig-...``) and its own
small script, so the page is identical for the same run folder (no random ids, no clock times).
"""

from __future__ import annotations

import datetime as dt
import math
import string
from functools import cache
from typing import Any

from plotly.offline import get_plotlyjs

from twin.dashboard import figures, theme
from twin.dashboard.data import RunData, has_production, price_bands
from twin.dashboard.figures import esc
from twin.dashboard.plot import figure_html
from twin.i18n import current, message, money_unit, tr
from twin.sector_text import (
    metric_label,
    range_text,
    sector_name,
    source_text,
    value_text,
    verdict_text,
)

CSS = string.Template("""
*{box-sizing:border-box}
body{margin:0;background:#f3f5f8;color:$text;font-family:$font;font-size:15px;
 line-height:1.45}
header{background:#1f2d3d;color:#fff;padding:22px 32px 18px}
header h1{margin:0 0 6px;font-size:26px;font-weight:600}
header .meta{color:#c7d1dc;font-size:14px}
header .meta span{margin-right:18px;white-space:nowrap}
header .desc{color:#e4e9ee;font-size:14px;margin-top:6px;max-width:1100px}
main{max-width:1400px;margin:0 auto;padding:20px 24px 40px}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(165px,1fr));gap:14px;
 margin-bottom:22px}
.card{background:#fff;border-radius:8px;padding:14px 16px;box-shadow:0 1px 3px rgba(0,0,0,.08);
 border-top:4px solid $accent}
.card .label{font-size:14px;color:$muted;font-weight:500;white-space:nowrap;overflow:hidden;
 text-overflow:ellipsis}
.card .value{font-size:26px;font-weight:600;margin-top:2px;white-space:nowrap}
.card .unit{font-size:14px;font-weight:400;color:$muted;margin-left:4px}
.card .sub{font-size:13px;color:$muted;margin-top:2px}
section{background:#fff;border-radius:8px;padding:16px 20px 10px;margin-bottom:22px;
 box-shadow:0 1px 3px rgba(0,0,0,.08)}
section h2{font-size:19px;margin:0 0 2px;font-weight:600}
section p.caption{margin:0 0 8px;color:$muted;font-size:14px}
section p.note{color:$muted;font-style:italic}
section.warnings{border-left:5px solid #b3261e}
section.warnings ul{margin:4px 0 10px;padding-left:20px;font-size:14px}
table.stations{border-collapse:collapse;width:100%;font-size:14px;margin:6px 0 12px}
table.stations th{text-align:right;font-weight:600;color:$muted;border-bottom:2px solid #d9dee4;
 padding:6px 10px;white-space:nowrap}
table.stations td{text-align:right;padding:6px 10px;border-bottom:1px solid #eceff3;
 font-variant-numeric:tabular-nums;white-space:nowrap}
table.stations th:first-child,table.stations td:first-child,
table.stations th:nth-child(2),table.stations td:nth-child(2){text-align:left}
table.stations td.pct span.track{display:inline-block;width:56px;height:9px;background:#eef1f4;
 border-radius:2px;margin-right:8px;vertical-align:middle;text-align:left;overflow:hidden}
table.stations td.pct span.fill{display:block;height:100%;background:#2e9e4f;opacity:.75}
table.stations td.pct span.num{display:inline-block;min-width:48px}
table.stations tr:hover td{background:#f7f9fb}
table.stations td.why{white-space:normal;text-align:left;font-size:13px;color:$muted;
 max-width:520px}
table.stations td.result{font-weight:700;text-align:center}
#evaluation-table th:last-child{text-align:left}
table.stations td.ok{color:#17692e}
table.stations td.bad{color:#b3261e}
table.stations td.na{color:#8a6d00}
#sector-table th:last-child{text-align:left}
table.stations td.bar{text-align:left}
span.rbar{display:inline-block;position:relative;width:140px;height:12px;background:#eef1f4;
 border-radius:2px;vertical-align:middle}
span.rbar span.band{position:absolute;top:0;height:100%;background:#9cc3e6}
span.rbar span.mark{position:absolute;top:-2px;width:3px;height:16px;background:#1f2d3d}
dl.defs{font-size:13px;color:$muted;margin:4px 0 8px}
dl.defs dt{font-weight:600;display:inline}
dl.defs dd{display:inline;margin:0 14px 0 4px}
footer{max-width:1400px;margin:0 auto;padding:0 24px 30px;color:$muted;font-size:13px}
""").substitute(text=theme.TEXT, muted=theme.MUTED, font=theme.FONT_FAMILY,
                accent="#3b6fb6")


def _fmt(x: float, nd: int = 0) -> str:
    return f"{x:,.{nd}f}"


def _count(x: object) -> str:
    return f"{x:,}" if isinstance(x, int) else esc(x if x is not None else "?")


def _sig(x: float) -> str:
    """A number with about three significant digits and thousands separators."""
    if x == 0 or not math.isfinite(x):
        return f"{x:g}"
    nd = max(0, 2 - math.floor(math.log10(abs(x))))
    return _fmt(x, nd)


def _day(t: dt.datetime) -> str:
    """'2 Mar 2026' (no platform-specific strftime flags); '2026年3月2日' in Chinese."""
    if current() == "zh":
        return f"{t.year}年{t.month}月{t.day}日"
    return f"{t.day} {t:%b %Y}"


def _when(t: dt.datetime) -> str:
    """'Tue 3 Mar 14:15' in English, '3月3日 周二 14:15' in Chinese."""
    if current() == "zh":
        return f"{t.month}月{t.day}日 周{'一二三四五六日'[t.weekday()]} {t:%H:%M}"
    return f"{t:%a} {t.day} {t:%b %H:%M}"


def _money(x: float, div: float) -> str:
    """An amount of money: whole units, or 万元 with two decimals (``div`` 10 000)."""
    return _fmt(x) if div == 1.0 else _fmt(x / div, 2)


def period_text(data: RunData) -> str:
    """'2 Mar 2026 – 29 Mar 2026 (28 days)' from the run's start and length."""
    k = data.kpis
    days = float(k.get("simulated_days") or data.manifest.get("days") or 0.0)
    start_text = str(k.get("start") or data.manifest.get("start") or "")
    try:
        start = dt.datetime.fromisoformat(start_text)
    except ValueError:
        return esc(start_text)
    end = start + dt.timedelta(days=days)
    if days == int(days) and start.time() == dt.time(0):
        last = _day(end - dt.timedelta(days=1))
        span = f"{_day(start)} – {last}" if days > 1 else _day(start)
    else:
        span = f"{_day(start)} {start:%H:%M} – {_day(end)} {end:%H:%M}"
    if current() == "zh":
        return f"{span}（{days:g}天）"
    return f"{span} ({days:g} day{'s' if days != 1 else ''})"


def kpi_cards(data: RunData) -> str:
    """The KPI cards as HTML. Cost, CO2 and renewable share appear only when non-zero."""
    k = data.kpis
    days = float(k.get("simulated_days") or 0.0)
    cards: list[tuple[str, str, str, str]] = []   # label, value, unit, sub (all escaped)

    units = k.get("units_completed")
    if units is not None:
        lots = k.get("lots_completed")
        sub = tr("{n} lots finished", n=f"{lots:,}") if lots is not None else ""
        cards.append((tr("Units completed"), _fmt(units), tr("units"), sub))
    elec = float(k.get("electricity_kwh") or 0.0)
    cards.append((tr("Electricity"), _fmt(elec), "kWh",
                  tr("{x} kWh per day", x=_fmt(elec / days)) if days else ""))
    bought_heat = _num(k.get("purchased_heat_kwh"))
    made = {"natural_gas_kwh": tr("lower heating value, boilers and CHP included"),
            "heat_kwh": tr("used by the equipment, made on site or bought") if bought_heat
            else tr("used by the equipment, made on site"),
            "cooling_kwh": tr("used by the equipment, made on site")}
    for key, label in (("natural_gas_kwh", tr("Natural gas")), ("heat_kwh", tr("Heat used")),
                       ("cooling_kwh", tr("Cooling used"))):
        v = float(k.get(key) or 0.0)
        if v:
            sub = made[key]
            if days:
                sub = (sub + tr(", ") if sub else "") + tr("{x} kWh per day", x=_fmt(v / days))
            cards.append((label, _fmt(v), "kWh", sub))
    peak = k.get("peak_demand_kw")
    if peak is not None:
        minutes = k.get("settlement_interval_min", 15)
        sub = tr("highest {m}-min average", m=f"{minutes:g}")
        if data.peak is not None:
            sub += tr(", ") + _when(data.peak[0])
        cards.append((tr("Peak demand"), _fmt(float(peak), 1), "kW", sub))
    if k.get("pue") is not None:  # a data centre (twin.energy.data_centre)
        free = float((k.get("data_centre") or {}).get("free_cooling_full_h") or 0.0)
        cards.append((tr("PUE"), f"{float(k['pue']):.3f}", "",
                      tr("site / IT electricity, {h} h of full free cooling", h=_fmt(free))))
    if k.get("kwh_per_unit") is not None:
        cards.append((tr("Electricity per unit"), _sig(float(k["kwh_per_unit"])),
                      tr("kWh/unit"), tr("all products together")))
    if k.get("mean_lead_time_h") is not None:
        cards.append((tr("Mean lead time"), _fmt(float(k["mean_lead_time_h"]), 1), "h",
                      tr("release to completion")))
    if k.get("mean_wip_lots") is not None:
        cards.append((tr("Mean WIP"), _fmt(float(k["mean_wip_lots"]), 1), tr("lots"),
                      tr("time-average work in process")))
    due = k.get("due_dates") or {}
    if due.get("lots"):
        late = int(due.get("late_lots") or 0)
        sub = (tr("{late} of {lots} lots late, up to {h} h", late=f"{late:,}",
                  lots=f"{int(due['lots']):,}",
                  h=_fmt(float(due.get('max_tardiness_h') or 0.0), 1)) if late
               else tr("all {lots} lots with a due date", lots=f"{int(due['lots']):,}"))
        cards.append((tr("On time"), _fmt(float(due["on_time_share"]) * 100.0, 1), "%", sub))
    cost = float(k.get("cost_total") or 0.0)
    if data.has_supply:
        cards += supply_cards(data)
    elif cost:
        div, currency = money_unit(str(k.get("currency", "")))
        cards.append((tr("Energy cost"), _money(cost, div), esc(currency), ""))
    co2 = float(k.get("co2_scope1_kg") or 0.0) + float(k.get("co2_scope2_location_kg") or 0.0)
    if co2:
        cards.append((tr("CO₂ scope 1 + 2"), _fmt(co2 / 1000.0, 1), "t",
                      tr("scope 2 location-based")))
    market = float(k.get("co2_scope2_market_kg") or 0.0)
    if market:
        cards.append((tr("CO₂ scope 2, market"), _fmt(market / 1000.0, 1), "t",
                      tr("market-based: certificates and contracts")))
    if float(k.get("co2_kg_per_unit") or 0.0):
        cards.append((tr("CO₂ per unit"), _sig(float(k["co2_kg_per_unit"])), tr("kg/unit"),
                      tr("scope 1 + 2 location-based, all products together")))
    ren = float(k.get("renewable_electricity_share") or 0.0)
    if ren and not (data.has_supply and k.get("self_sufficiency") is not None
                    and abs(ren - float(k["self_sufficiency"])) < 5e-4):
        cards.append((tr("Renewable electricity"), _fmt(ren * 100.0, 1), "%", ""))

    out = ['<div class="cards" id="kpi-cards">']
    for label, value, unit, sub in cards:
        out.append(f'<div class="card"><div class="label">{label}</div>'
                   f'<div class="value">{value}<span class="unit">{unit}</span></div>'
                   f'<div class="sub">{sub}</div></div>')
    out.append("</div>")
    return "\n".join(out)


def _num(x: object) -> float:
    try:
        return float(x)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return 0.0


def supply_cards(data: RunData) -> list[tuple[str, str, str, str]]:
    """KPI cards of a run with an energy supply: cost, self-sufficiency, PV, wind, battery,
    peak grid import, electricity not supplied (label, value, unit, sub; all escaped)."""
    k = data.kpis
    div, unit = money_unit(data.currency)
    cur = esc(unit)
    cards: list[tuple[str, str, str, str]] = []
    # every part of kpis.cost_total that is not zero, so that the parts add up to the card
    parts = [tr("energy {x}", x=_money(_num(k.get('energy_cost')), div))]
    for key, name in (("demand_cost", tr("demand")), ("capacity_cost", tr("capacity")),
                      ("gas_cost", tr("gas")), ("purchased_heat_cost", tr("heat"))):
        if _num(k.get(key)) or (key == "demand_cost" and not _num(k.get("capacity_cost"))):
            parts.append(f"{name} {_money(_num(k[key]) if key in k else 0.0, div)}")
    sub = " + ".join(parts)
    if _num(k.get("export_revenue")):
        sub += tr(" − export {x}", x=_money(_num(k['export_revenue']), div))
    if k.get("cost_total") is not None:
        cards.append((tr("Cost total"), _money(_num(k["cost_total"]), div), cur, sub))
    ss = k.get("self_sufficiency")
    if ss is not None:
        scr = k.get("self_consumption_ratio")
        sub = tr("of demand met on site (directly or from storage)")
        if scr is not None:
            sub += tr("; self-consumption {x}\u00a0%", x=f"{_num(scr) * 100:.1f}")
        cards.append((tr("Self-sufficiency"), _fmt(_num(ss) * 100.0, 1), "%", sub))
    pv = _num(k.get("pv_kwh"))
    if pv:
        subs = []
        if k.get("pv_full_load_hours") is not None:
            subs.append(tr("{x} full-load hours", x=_fmt(_num(k['pv_full_load_hours']))))
        curtailed = _num(k.get("curtailed_kwh"))
        if curtailed:
            gen = pv + _num(k.get("wind_kwh"))
            subs.append(tr("{x}\u00a0% curtailed", x=f"{curtailed / gen * 100:.1f}"))
        cards.append((tr("PV generation"), _fmt(pv), "kWh", tr(", ").join(subs)))
    wind = _num(k.get("wind_kwh"))
    if wind:
        cards.append((tr("Wind generation"), _fmt(wind), "kWh", ""))
    chp = _num(k.get("chp_kwh"))
    if chp:
        cards.append((tr("CHP electricity"), _fmt(chp), "kWh", tr("heat-led, not renewable")))
    dis = _num(k.get("battery_discharge_kwh"))
    if dis or _num(k.get("battery_charge_kwh")):
        sub = tr("{x} kWh charged", x=_fmt(_num(k.get('battery_charge_kwh'))))
        if k.get("battery_equivalent_cycles") is not None:
            sub += tr(", {x} full cycles", x=_fmt(_num(k['battery_equivalent_cycles'])))
        cards.append((tr("Battery discharge"), _fmt(dis), "kWh", sub))
    if k.get("dispatch_regret") is not None and k.get("dispatch_objective") == "cost":
        bare = _num(k.get("dispatch_no_battery_cost"))
        saved = bare - _num(k.get("dispatch_cost"))
        best = bare - _num(k.get("dispatch_optimum_cost"))
        cards.append((tr("Battery saves"), _money(saved, div), cur,
                      tr("of {best} a perfect-foresight optimum would (regret {regret}); ",
                         best=_money(best, div),
                         regret=_money(_num(k['dispatch_regret']), div)) + optimum_rules(data)))
    if k.get("peak_grid_import_kw") is not None:
        minutes = k.get("settlement_interval_min", 15)
        sub = tr("highest {m}-min average", m=f"{minutes:g}")
        peaks = data.monthly_peaks()
        if peaks is not None and len(peaks) and peaks["peak_start"].notna().any():
            t = peaks.loc[peaks["peak_kw"].idxmax(), "peak_start"]
            if t is not None and not _isna(t):
                sub += tr(", ") + _when(t)
        sub += tr("; {x} kWh imported", x=_fmt(_num(k.get('grid_import_kwh'))))
        cards.append((tr("Peak grid import"), _fmt(_num(k["peak_grid_import_kw"]), 1), "kW",
                      sub))
    unserved = _num(k.get("unserved_kwh"))
    if unserved:
        cards.append((tr("Not supplied"), _fmt(unserved, 1), "kWh",
                      tr("electricity demand the grid and batteries could not meet")))
    return cards


def optimum_rules(data: RunData) -> str:
    """What the perfect-foresight optimum of the "Battery saves" card may do that the run's
    dispatch may not (escaped): it knows the whole run's demand and prices, charges from the
    grid up to the import limit (the run's policy perhaps up to ``dispatch.grid_charge_kw``
    only) and exports battery energy up to the export limit (see
    :func:`twin.energy.dispatch_lp.dispatch_kpis`)."""
    energy = data.energy_config
    grid = energy.get("grid") or {}
    imp = grid.get("import_limit_kw")
    dispatch = energy.get("dispatch") or {}
    charge = dispatch.get("grid_charge_kw")
    rules = [tr("optimum knows the whole run in advance"),
             tr("may charge from the grid up to the {x} kW import limit", x=_fmt(_num(imp)))
             if imp is not None else tr("may charge from the grid without limit")]
    policy = str(dispatch.get("policy") or "self_consumption")
    rules[-1] += tr(" (this run: policy {policy}{charge})", policy=policy, charge=tr(
        ", grid charging up to {x} kW", x=_fmt(_num(charge))) if charge is not None else "")
    exp = _num(grid.get("export_limit_kw"))
    rules.append(tr("may export battery energy up to {x} kW", x=_fmt(exp)) if exp > 0
                 else tr("no export (limit 0 kW)"))
    return esc(tr("; ").join(rules))


def _isna(x: object) -> bool:
    try:
        return bool(x != x)  # NaT and NaN are not equal to themselves
    except (TypeError, ValueError):
        return False


def _pct_cell(x: float | None) -> str:
    if x is None:
        return "<td>–</td>"
    w = max(0.0, min(float(x), 1.0)) * 100.0
    return (f'<td class="pct"><span class="track"><span class="fill" style="width:{w:.1f}%">'
            f'</span></span><span class="num">{float(x) * 100.0:.1f} %</span></td>')


def _pct_text(x: float | None) -> str:
    return "–" if x is None else f"{float(x) * 100.0:.1f} %"


def station_table(data: RunData) -> str:
    """Per-station table (utilization, availability, performance, OEE, lots, energy) as HTML."""
    stations: dict[str, Any] = data.kpis.get("stations", {})
    line_of = data.line_of_station()
    eq = data.equipment
    carriers: list[str] = ["electricity"]
    per_station: dict[str, dict[str, float]] = {}
    if eq is not None and "station" in eq.columns:
        kwh_cols = [c for c in eq.columns if c.endswith("_kwh")]
        machines = eq[eq["station"] != ""]
        sums = machines.groupby("station")[kwh_cols].sum()
        per_station = {str(s): {c[:-4]: float(v) for c, v in row.items()}
                       for s, row in sums.iterrows()}
        carriers = ["electricity"] + [c[:-4] for c in kwh_cols
                                      if c != "electricity_kwh" and sums[c].any()]
    head = [tr("Station"), tr("Line"), tr("Machines"), tr("Utilization"), tr("Availability"),
            tr("Performance"), tr("OEE"), tr("Offered load"), tr("Lots waiting (mean)"),
            tr("Wait (mean, min)"), tr("Lots processed"), tr("Units processed")]
    head += [f"{theme.carrier_label(c)} kWh" for c in carriers]
    out = ['<table class="stations" id="station-table">', "<thead><tr>"]
    out += [f"<th>{h}</th>" for h in head]
    out.append("</tr></thead><tbody>")
    for name, st in stations.items():
        energy = per_station.get(name, {"electricity": st.get("electricity_kwh", 0.0)})
        cells = [f"<td>{esc(name)}</td>", f"<td>{esc(line_of.get(name, ''))}</td>",
                 f"<td>{st.get('machines', '')}</td>"]
        cells += [_pct_cell(st.get(key)) for key in
                  ("utilization", "availability", "performance", "oee")]
        cells.append(f"<td>{_pct_text(st.get('offered_load'))}</td>")
        waiting, wait_s = st.get("mean_lots_waiting"), st.get("mean_wait_s")
        cells.append(f"<td>{_sig(waiting) if waiting is not None else '–'}</td>")
        cells.append(f"<td>{_sig(wait_s / 60.0) if wait_s is not None else '–'}</td>")
        cells.append(f"<td>{_fmt(st.get('lots_processed', 0))}</td>")
        cells.append(f"<td>{_fmt(st.get('units_completed', 0))}</td>")
        cells += [f"<td>{_fmt(energy.get(c, 0.0)) if energy.get(c, 0.0) else '–'}</td>"
                  for c in carriers]
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</tbody></table>")
    out.append(tr(
        '<dl class="defs"><dt>Utilization</dt><dd>processing time / scheduled machine time'
        " (shift hours × machines)</dd><dt>Availability</dt><dd>run time / planned time"
        " (scheduled less maintenance; breakdowns and setups are stops)</dd>"
        "<dt>Performance</dt><dd>ideal process time / run time</dd><dt>OEE</dt>"
        "<dd>availability × performance (quality not modelled yet)</dd>"
        "<dt>Offered load</dt><dd>ideal process time of every lot that came to the station"
        " (processed or still waiting) / run time: at 100 % or more its queue grows without"
        " bound</dd><dt>Lots waiting, wait</dt><dd>time-average lots in its input buffer; mean"
        " time from arriving there to being taken by a machine</dd></dl>"))
    out += _sequence_table(stations)
    return "\n".join(out)


SEQUENCE_TABLE_ID = "sequence-table"
"""Id of the table of casting sequences (runs with a ``sequence`` station only)."""


def _sequence_table(stations: dict[str, Any]) -> list[str]:
    """HTML lines of the sequence table: per station with ``sequence`` (twin.production.sequence)
    its sequences, breaks, planned restarts, restart hours, units lost and restart energy;
    nothing for a plant without one."""
    rows = [(name, st["sequence"]) for name, st in stations.items() if st.get("sequence")]
    if not rows:
        return []
    head = [tr("Station"), tr("Sequences"), tr("Breaks (unplanned)"), tr("Planned restarts"),
            tr("Lots per sequence (mean)"), tr("Restart hours"), tr("Units lost"),
            tr("Restart energy kWh")]
    out = [f'<table class="stations" id="{SEQUENCE_TABLE_ID}"><thead><tr>']
    out += [f"<th>{h}</th>" for h in head]
    out.append("</tr></thead><tbody>")
    for name, q in rows:
        energy = ", ".join(f"{theme.carrier_label(c)} {_fmt(v)}"
                           for c, v in (q.get("restart_energy_kwh") or {}).items()) or "–"
        per = q.get("mean_lots_per_sequence")
        cells = [esc(name), _fmt(q.get("sequences", 0)), _fmt(q.get("breaks", 0)),
                 _fmt(q.get("planned_restarts", 0)), _sig(per) if per is not None else "–",
                 _sig(q.get("restart_h", 0.0)), _sig(q.get("units_lost", 0.0)), esc(energy)]
        out.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    out.append("</tbody></table>")
    out.append(tr(
        '<dl class="defs"><dt>Breaks</dt><dd>a lot came later than the sequence window after the'
        " previous one: the sequence ended unplanned</dd><dt>Planned restarts</dt><dd>a sequence"
        " reached its maximum length (tundish life)</dd><dt>Units lost</dt><dd>yield loss of the"
        " restarts, off the good output</dd></dl>"))
    return out


LDC_FIGURE_ID = "fig-load-duration"
"""Div id of the load-duration curves (every run; in :data:`FIGURE_IDS`)."""
MONTHLY_TABLE_ID = "monthly-table"
"""Id of the monthly energy, cost and CO₂ table (every run)."""


def monthly_table_html(data: RunData) -> str:
    """The table of :func:`twin.dashboard.profiles.monthly_table` with a total row, as HTML
    (every string escaped)."""
    from twin.dashboard.profiles import monthly_headers, monthly_rows, monthly_table

    table = monthly_table(data)
    head = [tr("Month"), *monthly_headers(table, data.currency)]
    out = [f'<table class="stations" id="{MONTHLY_TABLE_ID}"><thead><tr>']
    out += [f"<th>{esc(h)}</th>" for h in head]
    out.append("</tr></thead><tbody>")
    for row in monthly_rows(table):
        tag = "th" if row[0] == tr("Total") else "td"
        out.append("<tr>" + "".join(f"<{tag}>{esc(x)}</{tag}>" for x in row) + "</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def monthly_section(data: RunData) -> str:
    """The monthly energy, cost and CO₂ table as a page section."""
    return _section(
        tr("Month by month"),
        tr("Energy, cost and CO₂ per local calendar month: the Total row is the run's total (the"
        " cards above), except peak grid import, which is the highest month's. Months only"
        " partly simulated carry a prorated demand or capacity charge. Export it with"
        " 'twin export RUN_DIR --xlsx'."),
        '<div style="overflow-x:auto">' + monthly_table_html(data) + "</div>",
        "monthly")


def warnings_box(warnings: list[str]) -> list[str]:
    """The run's warnings (``kpis.json``), each as one line, above the KPI cards; nothing when
    there are none."""
    if not warnings:
        return []
    items = "".join(f"<li>{esc(message(w))}</li>" for w in warnings)
    return [f'<section id="warnings" class="warnings"><h2>{tr("Warnings")}</h2>'
            f'<p class="caption">{tr("Look at these before trusting the figures below.")}'
            f"</p><ul>{items}</ul></section>"]


def _section(title: str, caption: str, body: str, sid: str) -> str:
    """A page section (``title`` and ``caption`` are HTML, already translated)."""
    return (f'<section id="{sid}"><h2>{title}</h2><p class="caption">{caption}</p>\n'
            f"{body}\n</section>")


def _note(text: str) -> str:
    return f'<p class="note">{text}</p>'


FIGURE_IDS = ("fig-hourly", "fig-heatmap", "fig-load-duration", "fig-flows", "fig-energy",
              "fig-emissions", "fig-emissions-heatmap", "fig-states", "fig-timeline",
              "fig-lead-time")
"""Div ids of the figures of every run (the tests look for them)."""


def _factor_text(f: dict[str, Any], what: str) -> str:
    """'grid-average factor 0.5978 kg CO₂/kWh (jiangsu, 2022; status S2, seen only in a
    secondary source)' from a ``kpis.carbon`` factor (escaped)."""
    status = str(f.get("status", "?"))
    meaning = theme.FACTOR_STATUS.get(status)
    return (f"{what} {_num(f.get('value')):.4g} kg CO₂/kWh ({esc(f.get('region', '?'))},"
            f" {esc(f.get('year', '?'))}; " + tr("status {x}", x=esc(status))
            + (f", {meaning}" if meaning else "") + ")")


def emission_sections(data: RunData) -> list[str]:
    """Emissions by scope and source (with the factors used) and CO₂ per day and hour."""
    k = data.kpis
    carbon = k.get("carbon") or {}
    grid = carbon.get("grid_factor") or {}
    residual = carbon.get("residual_factor") or {}
    factors = []
    if grid:
        factors.append(_factor_text(grid, tr("grid-average factor")))
    if residual:
        factors.append(_factor_text(residual, tr("residual factor (market-based)")))
    heat = carbon.get("purchased_heat_factor") or {}
    if heat.get("value") is not None:
        factors.append(tr("purchased heat {x} t CO₂/GJ", x=f"{_num(heat['value']):.4g}"))
    if carbon.get("natural_gas_kg_per_kwh") is not None:
        factors.append(tr("natural gas {x} kg CO₂/kWh (LHV)",
                          x=f"{_num(carbon['natural_gas_kg_per_kwh']):.4g}"))
    cfe = carbon.get("hourly_matched_cfe_share")
    notes = []
    sources = [f"{esc(name)}: {esc(f['source'])}" for name, f in
               ((tr("grid factor"), grid), (tr("residual factor"), residual))
               if f.get("source")]
    if sources:
        notes.append(_note(tr("Sources — {x}.", x="; ".join(sources))))
    out = [_section(
        tr("Emissions by scope and source"),
        tr("CO₂ over the run in tonnes: scope 1 is natural gas burnt on site")
        + (tr(", process emissions and refrigerant leakage")
           if _num(k.get("co2_scope1_process_kg"))
           or _num(k.get("co2_scope1_refrigerant_kg")) else "")
        + tr(", scope 2 the grid electricity bought, once location-based (grid-average factor)"
             " and once market-based (green-electricity contracts and certificates of the plant"
             " file, the rest at the residual factor)")
        + (tr(", plus the purchased heat or steam in both") if _num(k.get("co2_scope2_heat_kg"))
           else "")
        + tr(". Factors: {x}.", x="; ".join(factors))
        + (tr(" Hourly matched carbon-free share {x}\u00a0%.", x=f"{_num(cfe) * 100:.1f}")
           if cfe is not None else ""),
        figure_html(figures.emissions_by_scope(data), "fig-emissions") + "\n"
        + "\n".join(notes), "emissions")]
    shape = (tr("the grid factor changes by hour") if carbon.get("hourly_shape")
             else tr("the grid factor is one number for the year, so the pattern is that of"
                     " grid import and gas burnt"))
    out.append(_section(
        tr("When emissions happen"),
        tr("Scope 1 + scope 2 (location-based) CO₂ per day and hour, kg; {x}.", x=shape),
        figure_html(figures.emissions_heatmap(data), "fig-emissions-heatmap"),
        "emissions-heatmap"))
    return out

EVALUATION_TABLE_ID = "evaluation-table"
"""Id of the zero-carbon evaluation table (every run written by this version has one)."""

_OPS = {"<=": "≤", ">=": "≥"}
_RESULT = {"pass": ("PASS", "ok"), "fail": ("FAIL", "bad"), "not_judged": ("NOT JUDGED", "na")}
"""Status -> (shown text, CSS class); the text goes through :func:`twin.i18n.tr`."""


def _eval_value(x: Any, unit: str) -> str:
    if x is None:
        return "–"
    v = _num(x)
    return f"{v * 100:.1f}\u00a0%" if unit == "-" else f"{v:,.3f}\u00a0{esc(unit)}"


def _basis_name(code: object, label: object) -> str:
    """The energy basis's name (escaped): ``label`` as the rule set gives it in English, the
    GB/T 2589 term (当量值 / 等价值) in Chinese."""
    if current() != "en" and code in ("calorific", "equal_value"):
        return tr("calorific") if code == "calorific" else tr("equal-value")
    return esc(label)


def evaluation_section(ev: dict[str, Any]) -> str:
    """The zero-carbon evaluation table (pass/fail per indicator with its margin), with gross,
    offsets and net beside it; every string escaped."""
    rules = ev.get("rules") or {}
    off = ev.get("offsets") or {}
    eb = ev.get("energy_basis") or {}
    other = eb.get("other") or {}
    rows = []
    for ind in ev.get("indicators") or []:
        text, cls = _RESULT.get(str(ind.get("status")), ("?", "na"))
        text = {"PASS": tr("PASS"), "FAIL": tr("FAIL"), "NOT JUDGED": tr("NOT JUDGED")}.get(
            text, text)
        unit = str(ind.get("unit", ""))
        why = ind.get("reason") or ind.get("basis") or ""
        rows.append(
            f"<tr><td>{esc(message(str(ind.get('label', ''))))}</td>"
            f"<td>{_eval_value(ind.get('value'), unit)}</td>"
            f"<td>{_OPS.get(str(ind.get('op')), esc(ind.get('op', '')))}"
            f" {_eval_value(ind.get('threshold'), unit)}</td>"
            f'<td class="result {cls}">{text}</td>'
            f"<td>{_eval_value(ind.get('margin'), unit)}</td>"
            f"<td>{_eval_value(ind.get('value_other_basis'), unit)}</td>"
            f'<td class="why">{esc(message(str(why)))}</td></tr>')
    gross = (off.get("gross_t") or {}).get("total_market")
    retired = (off.get("retired_t") or {}).get("total")
    cls = (off.get("classification") or {})
    other_basis = _basis_name(other.get("basis"), str(other.get('basis', 'other'))
                              .replace('_', '-'))
    table = (f'<table class="stations" id="{EVALUATION_TABLE_ID}"><thead><tr>'
             f"<th>{tr('Indicator')}</th><th>{tr('Value')}</th><th>{tr('Threshold')}</th>"
             f"<th>{tr('Result')}</th><th>{tr('Margin')}</th>"
             f"<th>{tr('On the {x} basis', x=other_basis)}</th>"
             f"<th>{tr('Basis / reason')}</th></tr></thead><tbody>" + "".join(rows)
             + "</tbody></table>")
    basis = (tr(" Electricity in tce on the {label} basis ({x} kgce/kWh{year}); beside it the"
                " {other} basis ({y} kgce/kWh).",
                label=_basis_name(eb.get("basis"), eb.get('label', '?')),
                x=f"{_num(eb.get('electricity_kgce_per_kwh')):.4f}",
                year=f", {esc(eb.get('year'))}" if eb.get("year") else "",
                other=_basis_name(other.get("basis"), other.get('label', '?')),
                y=f"{_num(other.get('electricity_kgce_per_kwh')):.4f}")
             if eb and other else "")
    verdict = str(ev.get('verdict', '?')).upper()
    summary = _note(tr(
        "Verdict: {verdict}. Gross scope 1 + 2 (market-based) {gross} t CO₂e, offsets retired"
        " {retired} t, net {net} t; {scheme}: {result}. {note}. Full report: twin report"
        " RUN_DIR.", verdict=esc(tr(verdict) if verdict in ("PASS", "FAIL") else verdict),
        gross=f"{_num(gross):,.2f}", retired=f"{_num(retired):,.2f}",
        net=f"{_num(off.get('net_t')):,.2f}", scheme=esc(message(str(cls.get('scheme', '')))),
        result=esc(message(str(cls.get('result', '')))),
        note=esc(message(str((ev.get('period') or {}).get('note', ''))))))
    return _section(
        tr("Zero-carbon evaluation"),
        tr("Each indicator of {rules} against this run: pass, fail or not judged (with why),"
           " margin positive = headroom.",
           rules=esc(message(str(rules.get('title', rules.get('name', '?'))))))
        + basis,
        table + "\n" + summary, "evaluation")


SECTOR_TABLE_ID = "sector-table"
"""Id of the sector comparison table (runs of a plant with ``site.sector``)."""

_VERDICT_CLASS = {"within": "ok", "below": "bad", "above": "bad", "not_comparable": "na"}


def _range_bar(row: dict[str, Any]) -> str:
    """A small bar: the published range as a band on a scale from 0, the run's value as a
    mark (nothing when the row has no value)."""
    value = row.get("value")
    if value is None:
        return ""
    low, high = row.get("low"), row.get("high")
    top = 1.25 * max(_num(x) for x in (value, low, high) if x is not None) or 1.0
    a = 0.0 if low is None else _num(low) / top
    b = 1.0 if high is None else _num(high) / top
    m = min(_num(value) / top, 1.0)
    return (f'<span class="rbar"><span class="band" style="left:{a * 100:.1f}%;'
            f'width:{(b - a) * 100:.1f}%"></span><span class="mark" style="left:'
            f'calc({m * 100:.1f}% - 1px)"></span></span>')


def sector_section(sector: dict[str, Any]) -> str:
    """The run's intensities against its sector's published ranges (``kpis.sector``): metric,
    value, range, verdict with a range bar, source; every string escaped."""
    rows = []
    for r in sector.get("comparisons") or []:
        cls = _VERDICT_CLASS.get(str(r.get("verdict")), "na")
        why = r.get("reason") or r.get("note") or ""
        rows.append(
            f"<tr><td>{esc(metric_label(r))}</td><td>{esc(value_text(r))}</td>"
            f"<td>{esc(range_text(r))}</td>"
            f'<td class="result {cls}">{esc(verdict_text(r))}</td>'
            f'<td class="bar">{_range_bar(r)}</td>'
            f'<td class="why">{esc(source_text(r))}' + (f"<br>{esc(why)}" if why else "")
            + "</td></tr>")
    if rows:
        body = (f'<table class="stations" id="{SECTOR_TABLE_ID}"><thead><tr>'
                f"<th>{tr('Metric')}</th><th>{tr('This run')}</th>"
                f"<th>{tr('Published range')}</th><th>{tr('Result')}</th><th></th>"
                f"<th>{tr('Source')}</th></tr></thead><tbody>" + "".join(rows)
                + "</tbody></table>")
    else:
        body = _note(tr("No published range for this sector in twin/data/sector_ranges.csv."))
    return _section(
        tr("Sector: {x}", x=esc(sector_name(sector.get("sector")))),
        tr("This run's energy intensity against the published ranges of its sector (the band;"
           " the mark is this run). Per-unit values are per functional unit of the finished"
           " products (products[].functional_unit)."),
        body, "sector")


FOOTPRINT_FIGURE_IDS = ("fig-footprint",)
"""Div ids of the figures of a run that finished products (per-unit footprints)."""

SUPPLY_FIGURE_IDS = ("fig-supply", "fig-storage", "fig-grid-heatmap", "fig-grid-peaks",
                     "fig-cost")
"""Div ids of the figures added for a run with an energy supply (``fig-storage`` only with a
battery or thermal storage, the cost figures only with a tariff or costs)."""


def supply_sections(data: RunData) -> list[str]:
    """The energy-supply sections: supply and demand by week, storage levels, grid import by
    hour, monthly grid import peaks, monthly cost."""
    k = data.kpis
    cur = esc(data.currency)
    out: list[str] = []
    bands = price_bands(data)
    shade = (tr(" The background is shaded by the {how}: white is the cheapest, darker is"
                " dearer (legend on the right).", how=esc(tr(bands.how)))
             if bands is not None else "")
    fig = figures.supply_week(data)
    pick = tr(" Pick a week with the slider.") if fig["layout"].get("sliders") else ""
    out.append(_section(
        tr("Supply and demand"),
        tr("Above zero, where each hour's electricity came from (PV used on site, battery,"
           " grid); below zero, what went into the battery, was exported or was curtailed; the"
           " black line is the site demand.") + pick + shade,
        figure_html(fig, "fig-supply"), "supply"))
    if data.col("battery_soc_kwh").any() or data.battery_nominal_kwh() \
            or data.col("thermal_storage_kwh").any():
        cycles = k.get("battery_equivalent_cycles")
        extra = (tr(" {x} equivalent full cycles over the run.", x=_fmt(_num(cycles)))
                 if cycles is not None and data.battery_nominal_kwh() else "")
        out.append(_section(
            tr("Storage levels"),
            tr("Charge at the end of each hour: a battery that fills and empties every day is"
               " cycled hard, one that sits full or empty is oversized or idle; dashed lines are"
               " the allowed limits.") + extra,
            figure_html(figures.storage_levels(data), "fig-storage"), "storage"))
    out.append(_section(
        tr("When electricity is bought"),
        tr("Grid import per day and hour, kWh: pale cells are hours covered on site (PV or"
        " battery), dark cells the hours the grid supplies most."),
        figure_html(figures.grid_heatmap(data), "fig-grid-heatmap"), "grid-heatmap"))
    peaks = data.monthly_peaks()
    if peaks is not None and len(peaks):
        rate = data.demand_rate()
        minutes = k.get("settlement_interval_min", 15)
        if rate:
            billing = tr(" Each month's highest {m}-min grid import is billed at {rate} {cur}"
                         " per kW and month (prorated for months only partly simulated):"
                         " {x} {cur} over the run.", m=f"{minutes:g}", rate=f"{rate:,.4g}",
                         cur=cur, x=_fmt(_num(k.get('demand_cost'))))
        elif data.capacity_per_month():
            billing = tr(" The tariff bills the contracted capacity ({x} {cur} per month), not"
                         " the peak.", x=_fmt(data.capacity_per_month()), cur=cur)
        else:
            billing = tr(" This tariff has no demand charge.")
        out.append(_section(
            tr("Monthly grid import peaks"),
            tr("Bars: the highest grid import of each month; black dashes: the site demand peak"
               " before PV and battery. A dash above its bar is peak the supply shaved off.")
            + billing,
            figure_html(figures.grid_peaks(data), "fig-grid-peaks"), "grid-peaks"))
    costs = data.monthly_costs()
    if costs is not None and costs.drop(columns="total").to_numpy().any():
        total = float(costs["total"].sum())
        export = tr("; export revenue below zero") if costs["export"].any() else ""
        capacity = (tr("; capacity charge = contracted kVA × rate × share of the month"
                       " simulated") if costs["capacity"].any() else "")
        div, unit = money_unit(data.currency)
        out.append(_section(
            tr("Energy cost per month"),
            tr("Electricity energy = grid import × the interval's TOU price; demand charge ="
               " monthly peak × rate × share of the month simulated{capacity}; gas = fuel × gas"
               " price{export}. The months add up to {x} {cur} (cost total card).",
               capacity=capacity, export=export, x=_money(total, div), cur=esc(unit)),
            figure_html(figures.monthly_costs(data), "fig-cost"), "cost"))
    return out


@cache
def plotly_bundle() -> str:
    """plotly.js, safe to inline in a ``<script>`` element (read once per process)."""
    js = get_plotlyjs()
    return js.replace("</script", "<\\/script").replace("<!--", "<\\!--")


def render(data: RunData) -> str:
    """The whole dashboard page as one HTML string."""
    k, m = data.kpis, data.manifest
    name = esc(data.plant_name)
    desc = (m.get("config") or {}).get("description")
    meta = [f"<span>{period_text(data)}</span>",
            f"<span>{tr('time zone {x}', x=esc(data.timezone))}</span>",
            f"<span>{tr('seed {x}', x=esc(m.get('seed', k.get('seed', '?'))))}</span>",
            f"<span>twin {esc(m.get('twin_version', '?'))}</span>"]
    if k.get("settlement_interval_min"):
        minutes = f"{k['settlement_interval_min']:g}"
        meta.append(f"<span>{tr('{m}-min settlement', m=minutes)}</span>")
    if m.get("config_sha256"):
        meta.append(f"<span>{tr('config {x}', x=esc(str(m['config_sha256'])[:12]))}</span>")
    if m.get("strategies"):
        meta.append(f"<span>{tr('strategies: {x}', x=esc(', '.join(map(str, m['strategies']))))}"
                    "</span>")
    if k.get("tariff"):
        meta.append(f"<span>{tr('tariff {x}', x=esc(k['tariff']))}</span>")
    if k.get("weather"):
        meta.append(f"<span>{tr('weather {x}', x=esc(k['weather']))}</span>")

    sections: list[str] = []
    gas = tr(" and per other energy carrier below it") if any(
        c != "electricity" and any(data.hourly[col].any() for col in
                                   data.carrier_columns(c).values())
        for c in data.carriers()) else ""
    sections.append(_section(
        tr("Energy per hour"),
        tr("Electricity per hour stacked by group{gas}: production rises with the shifts, the"
           " base loads are the floor that runs nights and weekends. Use the buttons or drag the"
           " slider to zoom.", gas=gas) if has_production(k) else
        tr("Electricity per hour stacked by group{gas} (the plant has no production: base"
           " loads and profiles only). Use the buttons or drag the slider to zoom.", gas=gas),
        figure_html(figures.hourly_demand(data), "fig-hourly"), "hourly"))
    sections.append(_section(
        tr("When electricity is used"),
        tr("One column per day, one row per hour of the day, colour = site electricity in kWh:"
        " shifts show as warm bands, weekends, holidays and shutdowns as pale columns."),
        figure_html(figures.demand_heatmap(data), "fig-heatmap"), "heatmap"))
    if data.has_supply:
        sections += supply_sections(data)
    sections.append(_section(
        tr("Load duration"),
        tr("Every hour of the run sorted from the highest to the lowest: the curve reaches x"
           " hours at the level held or exceeded for x hours. A steep left end is a few peak"
           " hours (what a demand charge bills, what a battery can shave); the right end is the"
           " base load that runs nights and weekends.")
        + (tr(" The gap between site demand (dotted) and grid import (solid) is what PV and"
              " batteries supplied.") if "grid_import_kwh" in data.hourly.columns else ""),
        figure_html(figures.load_duration_curve(data), LDC_FIGURE_ID), "load-duration"))
    sections.append(monthly_section(data))
    sections.append(_section(
        tr("Energy flows"),
        tr("Energy over the run in MWh, from where it was bought or made (left) through the"
        " carriers to the groups that used it (right). Electricity in = electricity out;"
        " the energy plant (boilers, CHP, heat pumps, chillers) turns gas and electricity into"
        " heat and cooling, its losses net of ambient heat gained are shown as a residual."
        " Hover a band for its energy."),
        figure_html(figures.energy_sankey(data), "fig-flows"), "flows"))
    if data.equipment is not None and len(data.equipment):
        body = figure_html(figures.energy_treemap(data), "fig-energy")
    else:
        body = _note(tr("equipment.csv is missing from the run folder."))
    sections.append(_section(
        tr("Where the energy goes"),
        tr("Area = electricity and natural gas (LHV) over the whole run, by group and machine,"
        " the energy plant's and the building HVAC's included, so each carrier's box is the"
        " site's total (the Electricity and Natural gas cards): the biggest boxes are where"
        " savings pay most. Heat and cooling are made from this electricity and gas, so they"
        " are not boxes of their own (see Energy flows). Click a box to zoom in, the bar on"
        " top to zoom out."),
        body, "energy"))
    sections += emission_sections(data)
    if k.get("stations"):
        sections.append(_section(
            tr("How stations spend their time"),
            tr("Share of calendar time (shifts and off-shift) per power state: green is"
               " value-adding processing, grey is waiting, blue-grey saving modes, red"
               " breakdowns."),
            figure_html(figures.state_shares(data), "fig-states"), "states"))
        sections.append(_section(
            tr("Stations"),
            tr("Utilization and OEE per station over scheduled time; energy over the whole run."),
            station_table(data), "station-table-section"))
    if data.trace is not None and len(data.trace):
        sections.append(_section(
            tr("One day, machine by machine"),
            tr("What every machine and base load did through one day (set simulation.trace_day):"
            " long grey bars are waiting, blue-grey saving modes, amber warm-up before the"
            " shift; hover for the times."),
            figure_html(figures.state_timeline(data), "fig-timeline"), "timeline"))
    if figures.has_footprints(data):
        f = data.kpis["footprints"]
        unalloc = float(f.get("unallocated_kg") or 0.0)
        sections.append(_section(
            tr("Product carbon footprints"),
            tr("CO₂ per finished unit from the plant's energy, by cause: processing and"
               " changeovers go to the products processed, waiting and overhead are shared by"
               " processing time (rule: {rule}); components count in the assembled product.",
               rule=esc(str(f.get('rule'))))
            + (tr(" {x} t are left unallocated.", x=f"{unalloc / 1000:,.2f}")
               if unalloc > 0 else "")
            + (tr(" Purchased materials (scope 3) are stacked last, apart from scope 1 + 2.")
               if f.get("materials_kg") else tr(" No materials (scope 3) in the plant file.")),
            figure_html(figures.product_footprints(data), "fig-footprint"), "footprint"))
    if k.get("sector"):
        sections.append(sector_section(k["sector"]))
    if k.get("evaluation"):
        sections.append(evaluation_section(k["evaluation"]))
    if has_production(k):  # a plant without production has no lots: no lead-time section
        if data.lots is not None and len(data.lots):
            body = figure_html(figures.lead_times(data), "fig-lead-time")
        else:
            body = _note(tr("No lot was finished in this run."))
        sections.append(_section(
            tr("Lead time per product"),
            tr("How long finished lots took from release to completion; the dashed line is the"
               " mean. A long right tail means lots waited in buffers."),
            body, "lead-time"))

    run_name = esc(data.run_dir.resolve().name)
    return html_page(
        tr("{name} – twin dashboard", name=name),
        f'<h1 id="plant-name">{name}</h1><div class="meta">{"".join(meta)}</div>'
        + (f'<div class="desc">{esc(desc)}</div>' if desc else ""),
        [*warnings_box(k.get("warnings") or []), kpi_cards(data), *sections],
        tr("Run folder {run} · simulated with twin {version} · {events} events · all times"
           " local ({tz}) · energy in kWh, natural gas by lower heating value. This page works"
           " offline.", run=run_name, version=esc(m.get('twin_version', '?')),
           events=_count(m.get('events_processed')), tz=esc(data.timezone)))


def html_page(title: str, header: str, body: list[str], footer: str, css: str = "") -> str:
    """The shell of every dashboard page: head with the shared styles (plus ``css``) and
    plotly.js embedded once, then ``<header>``, ``<main>`` with the ``body`` parts and
    ``<footer>``. Every argument is HTML already (escape user strings before)."""
    return "\n".join([
        "<!DOCTYPE html>",
        f'<html lang="{"zh-CN" if current() == "zh" else "en"}"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{title}</title>",
        f"<style>{CSS}{css}</style>",
        f'<script type="text/javascript">{plotly_bundle()}</script>',
        "</head><body>",
        f"<header>{header}</header>",
        "<main>", *body, "</main>",
        f"<footer>{footer}</footer>",
        "</body></html>",
        "",
    ])
