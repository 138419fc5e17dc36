"""Carbon disclosure report of a run folder: ``report.md``, ``report.html``, ``evaluation.json``.

>>> from twin.report import write_report
>>> write_report("results/demo")                       # doctest: +SKIP
[PosixPath('results/demo/report.md'), PosixPath('results/demo/report.html'),
 PosixPath('results/demo/evaluation.json')]

The report reads only the run folder (``kpis.json`` and ``manifest.json``) and, with a baseline,
the baseline's run folder. It holds the inventory by scope and source, the method and factors
used with their sources and status, energy and intensities, product footprints, reductions by
measure against the baseline, offsets and the evaluation table (:mod:`twin.carbon.evaluation`).
The report is built once as a list of blocks and rendered to Markdown and to HTML (every string
from the run is escaped), so both say the same. Files are written to temporary files in the
folder and renamed into place.
"""

from __future__ import annotations

import html
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from twin.atomic import write_text
from twin.carbon.evaluation import DAYS_PER_YEAR, PRODUCT_METRICS, evaluate
from twin.i18n import N_, current, language_of, message, tr, use
from twin.sector_text import (
    metric_label,
    range_text,
    sector_name,
    source_text,
    value_text,
    verdict_text,
)

Block = tuple[Any, ...]
"""('h1' | 'h2' | 'p' | 'note', text) or ('table', headers, rows)."""

STATUS_MEANING = {
    "S": "seen in a source",
    "S2": "seen only in a secondary source; verify",
    "U": "not verified",
    "G": "derived or interpreted by us",
    "def": "true by definition",
    "user": "set by the user",
}


class ReportError(ValueError):
    """The folder is not a run folder (or the baseline is not one)."""


def load_run(run_dir: str | os.PathLike[str], what: str = "run folder"
             ) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(kpis, manifest)`` of a run folder; :class:`ReportError` naming the folder and the
    missing or unreadable file otherwise."""
    d = Path(run_dir)
    if not d.is_dir():
        raise ReportError(f"{d}: not a folder; expected a {what} written by 'twin run'")
    out = []
    for name in ("kpis.json", "manifest.json"):
        f = d / name
        if not f.is_file():
            raise ReportError(f"{d}: not a {what} (no {name}); expected a folder written by "
                              "'twin run'")
        try:
            data = json.loads(f.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            raise ReportError(f"{f}: unreadable JSON ({exc}); rerun 'twin run'") from None
        if not isinstance(data, dict):
            raise ReportError(f"{f}: expected a JSON object")
        out.append(data)
    kpis = out[0]
    if "co2_scope1_kg" not in kpis or "co2_scope2_market_kg" not in kpis:
        raise ReportError(f"{d / 'kpis.json'}: no emissions (co2_scope1_kg, "
                          "co2_scope2_market_kg); written by an older twin? rerun 'twin run'")
    return kpis, out[1]


def _evaluation_options(manifest: Mapping[str, Any]) -> dict[str, Any]:
    carbon = ((manifest.get("config") or {}).get("carbon") or {})
    return carbon.get("evaluation") or {}


def evaluate_run(run_dir: str | os.PathLike[str],
                 baseline_dir: str | os.PathLike[str] | None = None,
                 rules: str | None = None, energy_basis: str | None = None
                 ) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any],
                            dict[str, Any] | None]:
    """``(evaluation, kpis, manifest, baseline_kpis)`` of a run folder, with the plant file's
    evaluation options (rule set, energy basis, inline baseline, prices, retired offsets),
    ``rules``, ``energy_basis`` and a baseline run folder overriding them (the plant file's
    energy basis goes with its own rules, not with ``rules``)."""
    kpis, manifest = load_run(run_dir)
    base = None
    if baseline_dir is not None:
        base, _ = load_run(baseline_dir, "baseline run folder")
        base = {**base, "baseline_label": f"baseline run {Path(baseline_dir).name} "
                f"({base.get('start', '?')}, {float(base.get('simulated_days') or 0):g} days)"}
    opts = _evaluation_options(manifest)
    ev = evaluate(kpis, rules or opts.get("rules") or "hunan_2030", baseline_kpis=base,
                  baseline=opts.get("baseline"), prices=opts.get("prices"),
                  offsets_retired=opts.get("offsets_retired") or (),
                  electricity_kgce_per_kwh=opts.get("electricity_kgce_per_kwh"),
                  energy_basis=energy_basis or (None if rules else opts.get("energy_basis")))
    if base is not None and ev.get("baseline") is not None:
        ev["baseline"]["cost_by_cause"] = _cost_by_cause(Path(run_dir), Path(baseline_dir),
                                                         kpis, base)
    return ev, kpis, manifest, base


def _cost_by_cause(run_dir: Path, baseline_dir: Path, kpis: Mapping[str, Any],
                   base: Mapping[str, Any]) -> dict[str, Any]:
    """This run's total cost minus the baseline's, by cause (:mod:`twin.cost_causes`), for
    runs of the same length (else ``None`` values and the reason)."""
    import pandas as pd

    from twin.cost_causes import runs_by_cause

    days, base_days = (float(k.get("simulated_days") or 0) for k in (kpis, base))
    if days != base_days or days <= 0:
        return {"causes": None, "reason": f"the runs differ in length ({days:g} and "
                                          f"{base_days:g} days): cost is not split by cause"}
    cols = ["grid_import_kwh", "electricity_cost", "price_per_kwh"]
    try:
        now, then = (pd.read_parquet(d / "intervals.parquet", columns=cols)
                     for d in (run_dir, baseline_dir))
    except (OSError, ValueError, KeyError) as exc:
        return {"causes": None, "reason": f"no interval table to split cost by cause "
                                          f"({type(exc).__name__})"}
    by = {k: (v if v == v else None)  # NaN (no baseline import) -> None in JSON
          for k, v in runs_by_cause(then, base, now, kpis).items()}
    return {"causes": by, "per_year_factor": DAYS_PER_YEAR / days, "reason": None}


# --------------------------------------------------------------------------------------------
# Formatting
# --------------------------------------------------------------------------------------------

def _n(x: Any, nd: int = 2) -> str:
    if x is None:
        return "–"
    try:
        v = float(x)
    except (TypeError, ValueError):
        return str(x)
    if v != v:
        return "–"
    text = f"{v:,.{nd}f}"
    return text[1:] if text.startswith("-") and not text.strip("-0.,") else text  # no "-0.00"


def _pct(x: Any, nd: int = 1) -> str:
    return "–" if x is None else f"{float(x) * 100:.{nd}f} %"


def _value(x: Any, unit: str) -> str:
    if unit == "-":
        return _pct(x)
    return f"{_n(x, 3)} {unit}" if x is not None else "–"


def _basis(code: object, label: object) -> str:
    """The energy basis as the rule set names it, or its GB/T 2589 term (当量值 / 等价值) in
    Chinese."""
    if current() != "en" and code in ("calorific", "equal_value"):
        return tr("calorific") if code == "calorific" else tr("equal-value")
    return str(label)


def _status(s: Any) -> str:
    s = str(s) if s is not None else "?"
    return f"{s} ({STATUS_MEANING[s]})" if s in STATUS_MEANING else s


# --------------------------------------------------------------------------------------------
# Content
# --------------------------------------------------------------------------------------------

def report_blocks(ev: Mapping[str, Any], kpis: Mapping[str, Any], manifest: Mapping[str, Any],
                  baseline_kpis: Mapping[str, Any] | None = None) -> list[Block]:
    """The report as blocks (see :data:`Block`)."""
    b: list[Block] = []
    carbon = kpis.get("carbon") or {}
    off = ev["offsets"]
    gross = off["gross_t"]
    per_year = off["per_year_factor"]
    b.append(("h1", tr("Carbon report: {x}", x=kpis.get('plant', '?'))))
    b.append(("p", tr("Simulated period: {period}. Seed {seed}, twin {version}, config {sha}.",
                      period=message(ev['period']['note']), seed=kpis.get('seed', '?'),
                      version=manifest.get('twin_version', '?'),
                      sha=str(manifest.get('config_sha256', '?'))[:12])))
    verdict = {"pass": tr("every indicator passes"),
               "fail": tr("at least one indicator fails"),
               "incomplete": tr("no indicator fails, but some could not be judged")
               }[ev["verdict"]]
    up = ev['verdict'].upper()
    b.append(("p", tr("Verdict against {rules}: {verdict} ({why}). Gross scope 1 + 2: {gm} tCO₂e"
                      " market-based, {gl} tCO₂e location-based; offsets retired {ret} tCO₂e;"
                      " net {net} tCO₂e (market-based). Scope 3 materials {s3} tCO₂e, reported"
                      " separately and never in these totals.",
                      rules=message(str(ev['rules'].get('title'))),
                      verdict={"PASS": tr("PASS"), "FAIL": tr("FAIL"),
                               "INCOMPLETE": tr("INCOMPLETE")}.get(up, up), why=verdict,
                      gm=_n(gross['total_market']),
                      gl=_n(gross['scope1'] + gross['scope2_location']),
                      ret=_n(off['retired_t']['total']), net=_n(off['net_t']),
                      s3=_n(ev['metrics'].get('scope3_materials_t', {}).get('value')))))

    warnings = kpis.get("warnings") or []
    if warnings:  # about the run itself: an engineer reads these before the figures
        b.append(("p", tr("Warnings about this run (look at them before using its figures):")))
        b.append(("table", [tr("Warning")], [[message(w)] for w in warnings]))

    # 1. inventory
    b.append(("h2", tr("Inventory by scope and source")))
    s1_, s2_, s3_ = tr("Scope 1"), tr("Scope 2"), tr("Scope 3")
    s1 = float(kpis.get("co2_scope1_kg") or 0) / 1000
    proc = float(kpis.get("co2_scope1_process_kg") or 0) / 1000
    refr = float(kpis.get("co2_scope1_refrigerant_kg") or 0) / 1000
    rows = [[s1_, tr("Fuel combustion (natural gas, GB/T 32150)"), _n(s1 - proc - refr, 3),
             _n((s1 - proc - refr) * per_year, 1)]]
    for line in carbon.get("process_emissions") or []:
        t = float(line["kg_co2e"]) / 1000
        rows.append([s1_, tr("Process: {name} ({basis}; source: {source})", name=line['name'],
                             basis=line['basis'], source=line['source']),
                     _n(t, 3), _n(t * per_year, 1)])
    for line in carbon.get("refrigerants") or []:
        t = float(line["kg_co2e"]) / 1000
        rows.append([s1_, tr("Refrigerant leakage: {name} ({gas}, {kg} kg x {rate}/a x GWP"
                             " {gwp} {report})", name=line['name'], gas=line['gas'],
                             kg=_n(line['charge_kg'], 1), rate=_pct(line['annual_leak_rate']),
                             gwp=_n(line['gwp'], 0), report=line['report']),
                     _n(t, 3), _n(t * per_year, 1)])
    rows.append([s1_, tr("Total"), _n(s1, 3), _n(s1 * per_year, 1)])
    # scope 2 totals hold the purchased heat (both methods): the electricity rows leave it out
    heat_t = float(kpis.get("co2_scope2_heat_kg") or 0) / 1000
    for label, key in ((tr("Purchased electricity, location-based"), "scope2_location"),
                       (tr("Purchased electricity, market-based"), "scope2_market")):
        t = gross[key] - heat_t
        rows.append([s2_, label, _n(t, 3), _n(t * per_year, 1)])
    if heat_t or float(kpis.get("purchased_heat_kwh") or 0):
        hf = carbon.get("purchased_heat_factor") or {}
        rows.append([s2_, tr("Purchased heat and steam ({kwh} kWh x {f} tCO₂/GJ; both"
                             " methods)", kwh=_n(kpis.get('purchased_heat_kwh'), 0),
                             f=_n(hf.get('value'), 3)),
                     _n(heat_t, 3), _n(heat_t * per_year, 1)])
        for label, key in ((tr("Total, location-based"), "scope2_location"),
                           (tr("Total, market-based"), "scope2_market")):
            rows.append([s2_, label, _n(gross[key], 3), _n(gross[key] * per_year, 1)])
    for p, f in ((kpis.get("footprints") or {}).get("products") or {}).items():
        for m in f.get("materials") or []:
            t = float(m["kg_co2e"]) / 1000
            rows.append([s3_, tr("Materials of {p}: {name} (via {via}; {q} {unit}/unit x {f}"
                                 " kgCO₂e/{unit}; source: {source})", p=p, name=m['name'],
                                 via=m['via'], q=_n(m['quantity_per_unit'], 3), unit=m['unit'],
                                 f=_n(m['kg_co2e_per_unit'], 3), source=m['source']),
                         _n(t, 3), _n(t * per_year, 1)])
    if not any(r[0] == s3_ for r in rows):
        rows.append([s3_, tr("None given (carbon.materials in the plant file, optional)"),
                     "–", "–"])
    b.append(("table", [tr("Scope"), tr("Source"), tr("tCO₂e (period)"),
                        tr("tCO₂e/a (annualised)")], rows))

    # 2. method and factors
    b.append(("h2", tr("Method and factors")))
    rows = []
    for label, key in ((tr("Grid factor (location-based)"), "grid_factor"),
                       (tr("Residual factor (market-based)"), "residual_factor")):
        f = carbon.get(key) or {}
        if f:
            rows.append([label, f"{_n(f.get('value'), 4)} kgCO₂/kWh",
                         f"{f.get('region', '?')}, {f.get('year', '?')}",
                         _status(f.get("status")), str(f.get("source", ""))])
    hf = carbon.get("purchased_heat_factor") or {}
    if hf:
        rows.append([tr("Purchased heat and steam"), f"{_n(hf.get('value'), 3)} tCO₂/GJ",
                     str(hf.get("year") or ""), _status(hf.get("status")),
                     str(hf.get("source", ""))])
    if carbon.get("natural_gas_kg_per_kwh") is not None:
        own = carbon.get("natural_gas_factor_status") == "user"
        rows.append([tr("Natural gas"),
                     tr("{x} kgCO₂/kWh LHV", x=_n(carbon['natural_gas_kg_per_kwh'], 4)),
                     "", _status("user") if own else tr("S (seen in a source)"),
                     tr("plant file (carbon.natural_gas_kg_per_kwh)") if own
                     else tr("GB/T 32150 parameters, fuel_parameters.csv")])
    e = ev["energy_tce"]
    eb = ev.get("energy_basis") or {}
    for c, role in ((eb, tr("in force")), (eb.get("other") or {}, tr("shown beside it"))):
        if c:
            rows.append([tr("Electricity to tce, {label} ({role})",
                            label=_basis(c.get("basis"), c['label']), role=role),
                         f"{_n(c['electricity_kgce_per_kwh'], 4)} kgce/kWh",
                         str(c.get("year") or ""), _status(c.get("status")),
                         str(c.get("source", "")) + (f"; {c['note']}" if c.get("note") else "")])
    b.append(("table", [tr("Factor"), tr("Value"), tr("Region, year"), tr("Status"),
                        tr("Source")], rows))
    inst = carbon.get("instruments") or {}
    if inst:
        b.append(("p", tr("Market-based instruments (each MWh used once, never beyond"
                          " consumption; unused volumes are credited nothing):")))
        b.append(("table", [tr("Instrument"), tr("Available MWh"), tr("Used MWh"),
                            tr("Unused MWh")],
                  [[k, _n(v.get("available_mwh"), 3), _n(v.get("used_mwh"), 3),
                    _n(v.get("unused_mwh"), 3)] for k, v in inst.items()]))
    fp = kpis.get("footprints") or {}
    b.append(("p", tr("Scope 2 location-based = grid import x grid factor; market-based = grid"
                      " import not covered by green-power contracts and GECs x residual factor"
                      " (GHG Protocol Scope 2 Guidance); purchased heat and steam x its factor"
                      " is added to both (there are no market instruments for heat). Exports"
                      " never reduce scope 2. Process emissions per unit follow production,"
                      " per-year lines and refrigerant leakage (charge x annual leak rate x"
                      " GWP) are spread evenly over time. Footprint overhead rule: {rule}.",
                      rule=fp.get('rule', '?'))
                   + (tr(" Hourly matched carbon-free share (24/7): {x}.",
                         x=_pct(carbon.get('hourly_matched_cfe_share')))
                      if carbon.get("hourly_matched_cfe_share") is not None else "")))

    # 3. energy and intensity
    b.append(("h2", tr("Energy and intensity")))
    b.append(("p", tr("Energy use {t} tce over the period (electricity {el}, natural gas {gas},"
                      " purchased heat {heat} tce). Electricity = grid import + onsite"
                      " renewables used on site; CHP electricity is counted through its gas."
                      " Renewable electricity shares are of all electricity consumed (CHP"
                      " electricity used on site included); renewable shares of all energy are"
                      " of the tce total (purchased heat included).", t=_n(e['total'], 3),
                      el=_n(e['electricity'], 3), gas=_n(e['natural_gas'], 3),
                      heat=_n(e['heat'], 3))))
    other = (eb.get("other") or {}).get("metrics") or {}
    other_label = (eb.get("other") or {}).get("basis", "other")
    other_label = _basis(other_label, other_label)
    if eb:
        b.append(("p", tr("Energy basis of electricity: {label} ({x} kgce/kWh), chosen by:"
                          " {by}. The metrics that depend on it are also given on the {other}"
                          " basis.", label=_basis(eb.get("basis"), eb['label']),
                          x=_n(eb['electricity_kgce_per_kwh'], 4), by=eb.get('chosen_by'),
                          other=other_label)))
    b.append(("table", [tr("Metric"), tr("Value"), tr("On the {x} basis", x=other_label)],
              [[m["label"], _value(m["value"], m["unit"]),
                _value(other[k], m["unit"]) if k in other else "–"]
               for k, m in ev["metrics"].items()
               if kpis.get("production") is not False or k not in PRODUCT_METRICS]))

    # 4. footprints
    products = fp.get("products") or {}
    if products:
        b.append(("h2", tr("Product carbon footprints (cradle-to-gate, ISO 14067)")))
        rows = []
        for p, f in products.items():
            rows.append([p, _n(f.get("co2_kg_per_unit"), 3), _n(f.get("materials_kg_per_unit"), 3),
                         _n(f.get("cradle_to_gate_kg_per_unit"), 3),
                         _n(f.get("process_kg"), 1), _n(f.get("refrigerant_kg"), 1)])
        b.append(("table", [tr("Product"), tr("Scope 1 + 2 kgCO₂e/unit"),
                            tr("Materials kgCO₂e/unit"), tr("Cradle-to-gate kgCO₂e/unit"),
                            tr("of which process kg (period)"), tr("refrigerant kg (period)")],
                  rows))
        b.append(("p", tr("Unallocated {x} tCO₂e. Scope 1 + 2 use the location-based"
                          " electricity intensity; offsets never reduce a footprint.",
                          x=_n(float(fp.get('unallocated_kg') or 0) / 1000, 3))))

    # 5. reductions
    b.append(("h2", tr("Reductions by measure")))
    base = ev.get("baseline")
    if base is None:
        b.append(("p", tr("No baseline given (twin report --baseline RUN_DIR, or"
                          " carbon.evaluation.baseline in the plant file).")))
    else:
        b.append(("p", tr("Against {x}.", x=base['label'])))
        red = base.get("reductions_by_measure")
        if red:
            names = {"electricity_use": tr("Electricity use (efficiency and volume)"),
                     "onsite_renewables": tr("Onsite renewables"),
                     "onsite_chp": tr("Onsite CHP electricity (its gas under fuel)"),
                     "grid_factor": tr("Grid factor change"), "green_instruments":
                     tr("Green-power contracts and certificates"),
                     "purchased_heat": tr("Purchased heat and steam"), "fuel": tr("Fuel"),
                     "process": tr("Process emissions"), "refrigerant": tr("Refrigerant leakage"),
                     "total": tr("Total (gross market-based, baseline - this run)")}
            b.append(("table", [tr("Measure"), tr("tCO₂e/a less (annualised)")],
                      [[names[k], _n(red[k], 2)] for k in names if k in red]))
        if red:
            b.extend(_carbon_waterfall(red, off))
        cbc = base.get("cost_by_cause") or {}
        if cbc.get("causes"):
            b.extend(_cost_waterfall(cbc, kpis))
        elif cbc.get("reason"):
            b.append(("p", tr("Cost by cause: {x}.", x=cbc['reason'])))
        if base.get("changes"):
            b.append(("table", [tr("Metric"), tr("Baseline"), tr("This run"), tr("Change")],
                      [[message(ev["metrics"][k]["label"]) if k in ev["metrics"] else k,
                        _n(c["baseline"], 3), _n(c["value"], 3), _pct(c["change_pct"])]
                       for k, c in base["changes"].items()]))
        if base.get("footprints"):
            b.append(("table", [tr("Product"), tr("Baseline kgCO₂e/unit"),
                                tr("This run kgCO₂e/unit"), tr("Reduction")],
                      [[p, _n(f["baseline"], 3), _n(f["value"], 3), _pct(f["reduction"])]
                       for p, f in base["footprints"].items()]))

    # 6. offsets
    b.append(("h2", tr("Offsets and net")))
    a = off["to_net_zero"]["certificates_then_credits"]
    c = off["to_net_zero"]["credits_only"]
    ay = off["to_net_zero_per_year"]["certificates_then_credits"]
    cy = off["to_net_zero_per_year"]["credits_only"]
    pr = off["prices"]
    b.append(("table", ["", tr("Period"), tr("Annualised")], [
        [tr("Gross scope 1 + 2, market-based (tCO₂e)"), _n(gross["total_market"], 3),
         _n(gross["total_market"] * per_year, 1)],
        [tr("Retired credits (tCO₂e)"), _n(off["retired_t"]["credits"], 3),
         _n(off["retired_t"]["credits"] * per_year, 1)],
        [tr("Retired removals (tCO₂e)"), _n(off["retired_t"]["removals"], 3),
         _n(off["retired_t"]["removals"] * per_year, 1)],
        [tr("Net (tCO₂e)"), _n(off["net_t"], 3), _n(off["net_t"] * per_year, 1)],
        [tr("To net zero, route A: GECs (MWh)"), _n(a["gec_mwh"], 3), _n(ay["gec_mwh"], 1)],
        [tr("   then credits (tCO₂e)"), _n(a["credits_t"], 3), _n(ay["credits_t"], 1)],
        [tr("   cost (CNY)"), _n(a["total_cost"], 0), _n(ay["total_cost"], 0)],
        [tr("To net zero, route B: credits only (tCO₂e)"), _n(c["credits_t"], 3),
         _n(cy["credits_t"], 1)],
        [tr("   cost (CNY)"), _n(c["credits_cost"], 0), _n(cy["credits_cost"], 0)],
        [tr("Gross valued at the CEA price (CNY, exposure, not an offset)"),
         _n(off["cea_value_of_gross"], 0), _n(off["cea_value_of_gross"] * per_year, 0)],
    ]))
    b.append(("table", [tr("Price"), tr("Value"), tr("Date"), tr("Status"), tr("Source")],
              [[k, f"{_n(v['value'], 2)} {v['unit']}", str(v.get("date") or ""),
                _status(v.get("status")), str(v.get("source", ""))] for k, v in pr.items()]))
    cl = off["classification"]
    b.append(("p", tr("Classification ({scheme}): {result}: {reason}. Star grade: {stars}.",
                      scheme=cl['scheme'], result=cl['result'], reason=cl['reason'],
                      stars=cl['stars'])))

    # 7. evaluation
    b.append(("h2", tr("Zero-carbon evaluation")))
    r = ev["rules"]
    b.append(("p", tr("{title}. Document: {doc}; status {status}.",
                      title=message(str(r.get('title'))), doc=r.get('document'),
                      status=_status(r.get('status')))
                   + (f" {r['note']}" if r.get("note") else "")))
    b.append(("p", tr("Energy basis of electricity: {x}.",
                      x=_basis(eb.get("basis"), eb.get('label', '?')))))
    b.append(("table", [tr("Indicator"), tr("Value"), tr("Threshold"), tr("Result"),
                        tr("Margin"), tr("Value on the {x} basis", x=other_label),
                        tr("Basis / reason")],
              [[message(i["label"]), _value(i["value"], i["unit"]),
                f"{i['op']} {_value(i['threshold'], i['unit'])}",
                {"pass": tr("PASS"), "fail": tr("FAIL"),
                 "not_judged": tr("NOT JUDGED")}[i["status"]],
                _value(i["margin"], i["unit"]) if i["margin"] is not None else "–",
                _value(i.get("value_other_basis"), i["unit"])
                if i.get("value_other_basis") is not None else "–",
                message(str(i.get("reason") or i.get("basis") or ""))]
               for i in ev["indicators"]]))
    b.append(("note", tr("Margins: positive = headroom, negative = shortfall. ")
                      + message(ev["period"]["note"]) + tr(". Status codes: ")
                      + "; ".join(f"{k} = {v}" for k, v in STATUS_MEANING.items()) + "."))
    if kpis.get("sector"):
        b += sector_blocks(kpis["sector"])
    return b


def sector_blocks(sector: Mapping[str, Any]) -> list[Block]:
    """Section 8: the run's intensities against its sector's published ranges
    (``kpis.sector``, :mod:`twin.sector`)."""
    rows = sector.get("comparisons") or []
    out: list[Block] = [
        ("h2", tr("Sector comparison")),
        ("p", tr("Sector: {x}. This run's energy intensity against the sector's published"
                 " ranges (twin/data/sector_ranges.csv); per-unit values are per functional unit"
                 " of the finished products.", x=sector_name(sector.get("sector"))))]
    if not rows:
        out.append(("p", tr("No published range for this sector in"
                            " twin/data/sector_ranges.csv.")))
        return out
    out.append(("table", [tr("Metric"), tr("This run"), tr("Published range"), tr("Result"),
                          tr("Source"), tr("Basis / reason")],
                [[metric_label(r), value_text(r), range_text(r), verdict_text(r),
                  source_text(r), str(r.get("reason") or r.get("note") or "")] for r in rows]))
    return out


def monthly_blocks(run_dir: str | os.PathLike[str]) -> list[Block]:
    """The report's month-by-month table of energy, cost and CO₂
    (:func:`twin.dashboard.profiles.monthly_table`) from the run folder's ``hourly.parquet``;
    no block when the folder has none."""
    from twin.dashboard.data import load
    from twin.dashboard.profiles import monthly_headers, monthly_rows, monthly_table

    try:
        data = load(run_dir)
    except FileNotFoundError:
        return []
    table = monthly_table(data)
    return [("h2", tr("Month by month")),
            ("table", [tr("Month"), *monthly_headers(table, data.currency)],
             monthly_rows(table)),
            ("note", tr("Energy and CO₂ are sums of the run's hours in each local calendar"
                        " month; costs as billed (demand and capacity charges prorated for"
                        " months only partly simulated). The Total row is the run's total,"
                        " except peak grid import: the highest month's."))]


WATERFALL_MEASURES: tuple[tuple[str, str], ...] = (
    ("electricity_use", N_("Efficiency (electricity use and volume)")),
    ("onsite_renewables", N_("Onsite renewables")),
    ("onsite_chp", N_("Onsite CHP electricity")),
    ("fuel", N_("Fuel (electrification shows here)")),
    ("purchased_heat", N_("Purchased heat and steam")),
    ("process", N_("Process emissions")),
    ("refrigerant", N_("Refrigerant leakage")),
    ("grid_factor", N_("Grid factor change")),
    ("green_instruments", N_("Green power and certificates")),
)
"""Reductions by measure in the order of the carbon waterfall (offsets come last)."""


def _waterfall_rows(bars: list[dict[str, Any]], nd: int) -> list[list[str]]:
    rows = []
    for bar in bars:
        step = bar["kind"] in ("step", "gap")
        d = bar["delta"]
        label = (tr("Gap to net zero") if bar["label"] == "Gap to net zero"
                 else tr(bar["label"]))
        rows.append([label, (("+" if d > 0 else "") + _n(d, nd)) if step else "",
                     _n(bar["end"], nd)])
    return rows


def _carbon_waterfall(red: Mapping[str, float], off: Mapping[str, Any]) -> list[Block]:
    """From the baseline's gross emissions through each measure and the offsets to net and
    the target (net zero), annualised (:mod:`twin.waterfall`)."""
    from twin.waterfall import from_changes

    tiny = 1e-9 * max(1.0, abs(float(red["gross_baseline_per_year"])))
    changes = [(label, -float(red[k])) for k, label in WATERFALL_MEASURES
               if k in red and abs(float(red[k])) > tiny]  # measures that moved nothing: no bar
    retired = float(off["retired_t"]["total"]) * float(off["per_year_factor"])
    changes.append((N_("Offsets retired (last)"), -retired))
    bars = from_changes((N_("Baseline, gross market-based"),
                         float(red["gross_baseline_per_year"])),
                        changes, end_label=N_("This run, net after offsets"), target=0.0,
                        target_label=N_("Net zero"))
    return [("p", tr("Carbon waterfall (tCO₂e/a, annualised): from the baseline's gross"
                     " emissions through each measure to this run's net emissions and net zero."
                     " Storage acts through electricity use, onsite renewables and timing; it"
                     " has no bar of its own in a comparison of two runs.")),
            ("table", [tr("Bar"), tr("Change"), tr("Level after")], _waterfall_rows(bars, 2))]


def _cost_waterfall(cbc: Mapping[str, Any], kpis: Mapping[str, Any]) -> list[Block]:
    """From the baseline's total cost through each cause to this run's (annualised)."""
    from twin.cost_causes import CAUSES
    from twin.waterfall import from_changes

    by, f = cbc["causes"], float(cbc["per_year_factor"])
    now = float(kpis.get("cost_total") or 0.0) * f
    start = now - float(by["total"]) * f
    bars = from_changes((N_("Baseline, total energy cost"), start),
                        [(label, float(by[c]) * f) for c, label in CAUSES if by[c] != 0],
                        end_label=N_("This run, total energy cost"))
    return [("p", tr("Cost waterfall (currency/a, annualised): the change of total energy cost"
                     " split by cause, adding up exactly. Energy = kWh bought more or less at"
                     " the baseline's average price ({x}/kWh); timing = the same kWh at other"
                     " hours; tariff = other prices; then the other cost lines.",
                     x=_n(by.get('base_average_price'), 4))),
            ("table", [tr("Bar"), tr("Change"), tr("Level after")], _waterfall_rows(bars, 0))]


def numbered(blocks: list[Block]) -> list[Block]:
    """The blocks with their section headings (``h2``) numbered 1, 2, ... in the order they
    come: sections a run does not have (footprints without products, the sector comparison
    without a sector) leave no gap in the numbers."""
    out: list[Block] = []
    k = 0
    for blk in blocks:
        if blk[0] == "h2":
            k += 1
            blk = ("h2", f"{k}. {blk[1]}", *blk[2:])
        out.append(blk)
    return out


def to_markdown(blocks: list[Block]) -> str:
    """Render blocks as Markdown (pipes in cells escaped)."""
    def cell(x: Any) -> str:
        return str(x).replace("|", "\\|").replace("\n", " ")

    out: list[str] = []
    for blk in blocks:
        kind = blk[0]
        if kind == "h1":
            out += [f"# {blk[1]}", ""]
        elif kind == "h2":
            out += [f"## {blk[1]}", ""]
        elif kind == "p":
            out += [str(blk[1]), ""]
        elif kind == "note":
            out += [f"*{blk[1]}*", ""]
        elif kind == "table":
            head, rows = blk[1], blk[2]
            out.append("| " + " | ".join(cell(h) for h in head) + " |")
            out.append("|" + "|".join("---" for _ in head) + "|")
            out += ["| " + " | ".join(cell(x) for x in row) + " |" for row in rows]
            out.append("")
    return "\n".join(out)


_CSS = ("body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;"
        "color:#222}table{border-collapse:collapse;margin:0.5em 0 1.2em;font-size:14px}"
        "th,td{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}"
        "th{background:#f2f2f2}td.pass{color:#17692e;font-weight:600}"
        "td.fail{color:#b3261e;font-weight:600}td.not_judged{color:#8a6d00;font-weight:600}"
        "p.note{color:#555;font-size:13px}")


def to_html(blocks: list[Block]) -> str:
    """Render blocks as one self-contained HTML page (every string escaped)."""
    esc = html.escape
    title = next((str(b[1]) for b in blocks if b[0] == "h1"), tr("Carbon report"))
    lang = "zh-CN" if current() == "zh" else "en"
    out = ["<!DOCTYPE html>", f'<html lang="{lang}"><head><meta charset="utf-8">',
           f"<title>{esc(title)}</title><style>{_CSS}</style></head><body>"]
    for blk in blocks:
        kind = blk[0]
        if kind in ("h1", "h2"):
            out.append(f"<{kind}>{esc(str(blk[1]))}</{kind}>")
        elif kind == "p":
            out.append(f"<p>{esc(str(blk[1]))}</p>")
        elif kind == "note":
            out.append(f'<p class="note">{esc(str(blk[1]))}</p>')
        elif kind == "table":
            out.append("<table><thead><tr>" + "".join(f"<th>{esc(str(h))}</th>" for h in blk[1])
                       + "</tr></thead><tbody>")
            for row in blk[2]:
                cells = []
                for x in row:
                    cls = {tr("PASS"): "pass", tr("FAIL"): "fail",
                           tr("NOT JUDGED"): "not_judged"}.get(str(x))
                    attr = f' class="{cls}"' if cls else ""
                    cells.append(f"<td{attr}>{esc(str(x))}</td>")
                out.append("<tr>" + "".join(cells) + "</tr>")
            out.append("</tbody></table>")
    out += ["</body></html>", ""]
    return "\n".join(out)


def _rounded(obj: Any, nd: int = 9) -> Any:
    """``obj`` with floats rounded to ``nd`` decimals (stable JSON text)."""
    if isinstance(obj, float):
        return round(obj, nd)
    if isinstance(obj, dict):
        return {k: _rounded(v, nd) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_rounded(v, nd) for v in obj]
    return obj


def write_report(run_dir: str | os.PathLike[str],
                 baseline_dir: str | os.PathLike[str] | None = None,
                 rules: str | None = None, energy_basis: str | None = None,
                 lang: str | None = None) -> list[Path]:
    """Write ``report.md``, ``report.html`` and ``evaluation.json`` into ``run_dir``
    (``energy_basis``: ``calorific`` or ``equal_value`` instead of the rule set's; ``lang``:
    "en" or "zh", default the plant file's ``site.language``, else English; the numbers are the
    same in both, amounts in yuan).

    Raises
    ------
    ReportError
        ``run_dir`` or ``baseline_dir`` is not a run folder.
    ValueError
        Unknown rule set (the message lists the known ones).
    """
    d = Path(run_dir)
    ev, kpis, manifest, base = evaluate_run(d, baseline_dir, rules, energy_basis)
    with use(language_of(manifest, lang)):
        blocks = numbered(report_blocks(ev, kpis, manifest, base) + monthly_blocks(d))
        md, page = to_markdown(blocks), to_html(blocks)
    files = [(d / "report.md", md), (d / "report.html", page),
             (d / "evaluation.json", json.dumps(_rounded(ev), indent=2, allow_nan=False,
                                                ensure_ascii=False) + "\n")]
    for path, text in files:
        write_text(path, text)
    return [p for p, _ in files]
