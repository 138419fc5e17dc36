"""Zero-carbon evaluation of a run: pure functions over its KPIs (``kpis.json``).

What it computes (all from the KPIs, optionally against a baseline's):

* **Gross emissions** scope 1 + scope 2, location- and market-based [tCO2e], for the simulated
  period and annualised (x 365 / simulated days). Scope 3 (purchased materials) is reported
  beside them and never enters these totals.
* **Energy use** in tonnes of standard coal equivalent (GB/T 2589 coefficients of
  ``tce_coefficients.csv``): electricity consumed = grid import + onsite renewables used on
  site, natural gas (converted from LHV energy with its NCV), purchased heat when the run has
  it. CHP electricity is not counted again (its gas is). Electricity is converted on the
  **energy basis** the rule set names (:mod:`twin.carbon.energy_basis`): ``calorific``
  (0.1229 kgce/kWh) or ``equal_value`` (the year's coal consumption of thermal power supply,
  about 0.3 kgce/kWh); the metrics that depend on it are also given on the other basis.
* **Intensities**: tCO2/tce (单位能耗碳排放), kgCO2 and kgce per unit of end product.
* **Renewable shares**, both shown: of electricity (over all electricity consumed: grid import
  + onsite renewables and CHP electricity used on site) and of all energy (tce), *without
  certificates* (onsite renewables whose attributes are kept plus green-power trading, whose
  certificates are bundled) and *with certificates* (plus unbundled GECs retired). The purely
  physical onsite share is also given.
* **Offsets**: gross, retired offsets (credits, removals) and net are separate fields; what it
  would take to reach net zero (GECs for the uncovered grid import, then credits for the rest;
  or credits only) and its cost at the prices of ``prices.csv`` (or the user's).
* **Indicators** of a rule set (``evaluation_rules.yaml`` or the user's): pass, fail or
  not_judged with the margin (positive = headroom). An indicator whose value cannot be computed
  (e.g. no baseline) is ``not_judged`` and says why; it never passes silently.

Ratios are over the simulated period (they are not annualised, but a short period may not
represent a year: the result says so); amounts have ``_per_year`` variants.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from twin.carbon.energy_basis import BASES, ElectricityCoefficient, electricity_coefficient
from twin.carbon.factors import DATA_DIR, FactorTable, default_factors
from twin.i18n import N_

RULES_FILE = DATA_DIR / "evaluation_rules.yaml"
PRICES_FILE = DATA_DIR / "prices.csv"
DEFAULT_RULES = "hunan_2030"
DAYS_PER_YEAR = 365.0
JUDGE_TOL = 1e-9
"""Relative float tolerance of :func:`judge`."""

METRICS: dict[str, tuple[str, str]] = {
    "gross_t_location": ("Gross scope 1 + 2, location-based (period)", "tCO2e"),
    "gross_t_market": ("Gross scope 1 + 2, market-based (period)", "tCO2e"),
    "gross_t_location_per_year": ("Gross scope 1 + 2, location-based, annualised", "tCO2e/a"),
    "gross_t_market_per_year": ("Gross scope 1 + 2, market-based, annualised", "tCO2e/a"),
    "net_t_market": ("Net scope 1 + 2 market-based after retired offsets (period)", "tCO2e"),
    "net_t_market_per_year": ("Net after retired offsets, annualised", "tCO2e/a"),
    "scope3_materials_t": ("Scope 3 purchased materials (period, not in gross)", "tCO2e"),
    "energy_tce": ("Energy use (period)", "tce"),
    "energy_tce_per_year": ("Energy use, annualised", "tce/a"),
    "co2_t_per_tce_location": ("CO2 per tce, location-based", "tCO2/tce"),
    "co2_t_per_tce_market": ("CO2 per tce, market-based", "tCO2/tce"),
    "co2_kg_per_unit_location": ("CO2 per unit of end product, location-based", "kgCO2e/unit"),
    "co2_kg_per_unit_market": ("CO2 per unit of end product, market-based", "kgCO2e/unit"),
    "kgce_per_unit": ("Energy per unit of end product", "kgce/unit"),
    "renewable_electricity_share_onsite": ("Renewable electricity share, onsite only", "-"),
    "renewable_electricity_share_without_certificates": (
        "Renewable electricity share without unbundled certificates", "-"),
    "renewable_electricity_share_with_certificates": (
        "Renewable electricity share with certificates", "-"),
    "renewable_energy_share_without_certificates": (
        "Renewable share of all energy (tce) without unbundled certificates", "-"),
    "renewable_energy_share_with_certificates": (
        "Renewable share of all energy (tce) with certificates", "-"),
    "hourly_matched_cfe_share": ("Hourly-matched carbon-free electricity share (24/7)", "-"),
    "footprint_reduction_min": ("Smallest product footprint reduction vs baseline", "-"),
    "gross_change_market": ("Change of gross market-based emissions vs baseline "
                            "(annualised)", "-"),
    "kgce_per_unit_change": ("Change of energy per unit of end product vs baseline", "-"),
    "co2_t_per_tce_market_change": ("Change of CO2 per tce (market-based) vs baseline", "-"),
    "renewable_energy_share_change": ("Change of the renewable share of all energy (with "
                                      "certificates) vs baseline, percentage points / 100",
                                      "-"),
}
"""Metric name -> (label, unit). Shares and changes are fractions (0.55 = 55 %)."""

PRODUCT_METRICS = frozenset({"co2_kg_per_unit_location", "co2_kg_per_unit_market",
                             "kgce_per_unit", "kgce_per_unit_change", "footprint_reduction_min"})
"""Metrics per unit of product: none for a plant without production (``production: false``)."""
_NEEDS_BASELINE = {"footprint_reduction_min", "gross_change_market", "kgce_per_unit_change",
                   "co2_t_per_tce_market_change", "renewable_energy_share_change"}

TCE_METRICS = frozenset({
    "energy_tce", "energy_tce_per_year", "co2_t_per_tce_location", "co2_t_per_tce_market",
    "kgce_per_unit", "renewable_energy_share_without_certificates",
    "renewable_energy_share_with_certificates", "kgce_per_unit_change",
    "co2_t_per_tce_market_change", "renewable_energy_share_change"})
"""Metrics whose value depends on the energy basis of electricity (tce)."""


# --------------------------------------------------------------------------------------------
# Data files
# --------------------------------------------------------------------------------------------

@lru_cache(maxsize=4)
def _rules_file(path: str) -> dict[str, Any]:
    with open(path, encoding="utf-8") as f:
        data = yaml.safe_load(f)
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping of rule-set names")
    return data


def rule_set_names(path: str | Path = RULES_FILE) -> list[str]:
    """Names of the packaged rule sets (``evaluation_rules.yaml``)."""
    return sorted(_rules_file(str(path)))


def load_rules(spec: str | Iterable[Mapping[str, Any] | Any] = DEFAULT_RULES,
               path: str | Path = RULES_FILE, energy_basis: str | None = None
               ) -> dict[str, Any]:
    """A rule set: a packaged one by name, or a user-defined list of indicators.

    Parameters
    ----------
    spec : str or iterable
        A name of ``evaluation_rules.yaml`` (``hunan_2027``, ``hunan_2030``, ``hunan_2035``,
        ``t_ceca_g_0171_2022``), or indicators as mappings (or pydantic ``Indicator``) with
        ``metric``, ``op`` ('<=' or '>='), ``threshold`` and optionally ``label``, ``source``.
    path : path
        The rule file (default the packaged ``evaluation_rules.yaml``).
    energy_basis : str, optional
        ``calorific`` or ``equal_value`` (:mod:`twin.carbon.energy_basis`): replaces the basis
        the rule set names (``energy_basis_source`` becomes ``user``); required for a list of
        indicators that uses a tce metric (:data:`TCE_METRICS`).

    Returns
    -------
    dict
        ``name``, ``title``, ``document``, ``status``, ``note``, ``energy_basis``,
        ``energy_basis_source`` and ``indicators`` (each with ``id``, ``label``, ``metric``,
        ``op``, ``threshold``, ``unit``, ``basis``).

    Raises
    ------
    ValueError
        Unknown name, unknown metric or bad operator, a rule set of the file without a valid
        ``energy_basis``, or a list of indicators using tce without ``energy_basis`` (the
        message lists what is expected).
    """
    if energy_basis is not None and energy_basis not in BASES:
        raise ValueError(f"energy basis {energy_basis!r}; expected one of {list(BASES)}")
    if isinstance(spec, str):
        sets = _rules_file(str(path))
        if spec not in sets:
            raise ValueError(f"unknown rule set {spec!r}; expected one of {sorted(sets)} or a "
                             "list of indicators")
        raw = dict(sets[spec])
        out = {"name": spec, **{k: raw.get(k) for k in ("title", "document", "source_url",
                                                        "seen_in", "status", "year", "note")}}
        items = raw.get("indicators") or []
        own = raw.get("energy_basis")
        if own not in BASES:
            raise ValueError(f"{path}: rule set {spec!r}: energy_basis {own!r}; expected one of "
                             f"{list(BASES)} (which tce coefficient of electricity its "
                             "indicators use)")
        out["energy_basis"] = energy_basis or own
        out["energy_basis_source"] = ("user" if energy_basis and energy_basis != own else
                                      raw.get("energy_basis_source") or "rule set")
    else:
        out = {"name": "user", "title": "User-defined indicators (plant file)",
               "document": "plant file", "source_url": None, "seen_in": None, "status": "user",
               "year": None, "note": None}
        items = list(spec)
        out["energy_basis"] = energy_basis
        out["energy_basis_source"] = "user" if energy_basis else None
    indicators = []
    for k, item in enumerate(items):
        d = item.model_dump() if hasattr(item, "model_dump") else dict(item)
        metric = d.get("metric")
        if metric not in METRICS:
            raise ValueError(f"indicator {k}: unknown metric {metric!r}; expected one of "
                             f"{sorted(METRICS)}")
        if d.get("op") not in ("<=", ">="):
            raise ValueError(f"indicator {k}: op {d.get('op')!r}; expected '<=' or '>='")
        threshold = float(d["threshold"])
        if not math.isfinite(threshold):
            raise ValueError(f"indicator {k}: threshold must be finite, got {threshold!r}")
        indicators.append({
            "id": d.get("id") or metric, "label": d.get("label") or METRICS[metric][0],
            "metric": metric, "op": d["op"], "threshold": threshold,
            "unit": METRICS[metric][1], "basis": d.get("basis") or d.get("source")})
    uses_tce = sorted({i["metric"] for i in indicators} & TCE_METRICS)
    if out["energy_basis"] is None:
        if uses_tce:
            raise ValueError(f"indicators use tce ({', '.join(uses_tce)}) but no energy basis "
                             "is given: set carbon.evaluation.energy_basis to 'calorific' or "
                             "'equal_value'")
        out["energy_basis"] = "calorific"  # judged on no tce metric; shown for the tce values
        out["energy_basis_source"] = "default (no indicator uses tce)"
    out["indicators"] = indicators
    return out


def load_prices(overrides: Mapping[str, float] | None = None,
                path: str | Path = PRICES_FILE) -> dict[str, dict[str, Any]]:
    """Prices of CEA and CCER [CNY/tCO2e] and GECs [CNY/MWh] with their sources.

    ``overrides`` (e.g. the plant file's ``carbon.evaluation.prices``) replace values; those
    entries get status ``user``.
    """
    out: dict[str, dict[str, Any]] = {}
    with open(path, encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            out[row["instrument"]] = {
                "value": float(row["value"]), "unit": row["unit"], "date": row["date"],
                "status": row["status"], "source": "; ".join(
                    x for x in (row["document"], row["source_url"], row["seen_in"]) if x)}
    for key, value in (overrides or {}).items():
        if key not in out:
            raise ValueError(f"unknown price {key!r}; expected one of {sorted(out)}")
        v = float(value)
        if not (math.isfinite(v) and v >= 0):
            raise ValueError(f"price {key!r} must be finite and >= 0, got {value!r}")
        out[key] = {**out[key], "value": v, "status": "user", "source": "plant file or caller",
                    "date": None}
    return out


# --------------------------------------------------------------------------------------------
# Pure calculations
# --------------------------------------------------------------------------------------------

def _f(kpis: Mapping[str, Any], key: str) -> float:
    v = kpis.get(key)
    return float(v) if v is not None else 0.0


def onsite_renewable_used_kwh(kpis: Mapping[str, Any]) -> float:
    """Onsite PV and wind consumed on site [kWh] = generation - export - curtailment (export
    and curtailment are taken from renewables first, as in ``renewable_electricity_share``)."""
    gen = _f(kpis, "pv_kwh") + _f(kpis, "wind_kwh")
    return max(gen - _f(kpis, "grid_export_kwh") - _f(kpis, "curtailed_kwh"), 0.0)


def onsite_chp_used_kwh(kpis: Mapping[str, Any]) -> float:
    """CHP electricity consumed on site [kWh] = onsite generation used on site (PV + wind + CHP
    - export - curtailment) less the renewables used (:func:`onsite_renewable_used_kwh`).

    It is electricity the plant consumes, so it belongs in the denominator of the renewable
    electricity shares (not renewable); in tce it is counted through the CHP's gas."""
    gen = _f(kpis, "pv_kwh") + _f(kpis, "wind_kwh") + _f(kpis, "chp_kwh")
    used = max(gen - _f(kpis, "grid_export_kwh") - _f(kpis, "curtailed_kwh"), 0.0)
    return max(used - onsite_renewable_used_kwh(kpis), 0.0)


def energy_tce(kpis: Mapping[str, Any], factors: FactorTable | None = None,
               electricity_kgce_per_kwh: float | None = None) -> dict[str, float]:
    """Energy use of a run in tce per carrier (GB/T 2589), see the module doc for the boundary.

    Returns ``{"electricity": ..., "natural_gas": ..., "heat": ..., "total": ...}`` [tce];
    electricity [kWh] x 0.1229 kgce/kWh, natural gas [kWh LHV] / NCV [kWh/m3] x 1.33 kgce/m3,
    purchased heat [kWh] x 3.6 MJ/kWh x 0.03412 kgce/MJ (values as shipped).
    ``electricity_kgce_per_kwh`` replaces the electricity coefficient (e.g. the equal-value
    coefficient of :func:`twin.carbon.energy_basis.electricity_coefficient`).
    """
    table = factors or default_factors()
    elec = _f(kpis, "grid_import_kwh") + onsite_renewable_used_kwh(kpis)
    gas = _f(kpis, "natural_gas_kwh")
    heat = _f(kpis, "purchased_heat_kwh")
    out = {
        "electricity": elec * (electricity_kgce_per_kwh if electricity_kgce_per_kwh is not None
                               else table.tce_coefficient("electricity").kgce_per_unit) / 1000.0,
        "natural_gas": gas / table.fuel_factor("natural_gas").kwh_per_unit
        * table.tce_coefficient("natural_gas").kgce_per_unit / 1000.0,
        "heat": heat * 3.6 * table.tce_coefficient("heat").kgce_per_unit / 1000.0,
    }
    out["total"] = sum(out.values())
    return out


def _instrument_mwh(kpis: Mapping[str, Any]) -> dict[str, float]:
    inst = (kpis.get("carbon") or {}).get("instruments") or {}

    def used(row: str) -> float:
        return float((inst.get(row) or {}).get("used_mwh") or 0.0)

    onsite = inst.get("onsite") or {}
    return {"contracts": used("contract_profile") + used("contract_monthly"),
            "gec": used("gec"), "onsite_claimed": used("onsite"),
            "onsite_unclaimed": float(onsite.get("available_mwh") or 0.0)
            - float(onsite.get("used_mwh") or 0.0)}


def end_product_units(kpis: Mapping[str, Any]) -> float:
    """Units completed of end products (components are counted in their product): good units,
    fractional when a sequence restart lost part of a lot (an int otherwise)."""
    products = kpis.get("products") or {}
    if not products:
        n = kpis.get("units_completed") or 0
    else:
        n = sum(p.get("units_completed") or 0 for p in products.values()
                if p.get("component_of") is None)
    return int(n) if float(n).is_integer() else float(n)


def _div(a: float, b: float) -> float | None:
    return a / b if b > 0 else None


def footprints_per_unit(kpis: Mapping[str, Any]) -> dict[str, float]:
    """End product -> cradle-to-gate footprint per unit [kgCO2e/unit] (energy, process, materials),
    for products that completed units."""
    out = {}
    for p, f in ((kpis.get("footprints") or {}).get("products") or {}).items():
        v = f.get("cradle_to_gate_kg_per_unit", f.get("co2_kg_per_unit"))
        if v is not None:
            out[p] = float(v)
    return out


def metrics(kpis: Mapping[str, Any], offsets_retired_t: float = 0.0,
            factors: FactorTable | None = None,
            electricity_kgce_per_kwh: float | None = None) -> dict[str, float | None]:
    """All metrics of :data:`METRICS` that one run gives (those needing a baseline are left out).

    ``None`` where undefined (no energy, no finished units, ...)."""
    s1 = _f(kpis, "co2_scope1_kg") / 1000.0
    loc = s1 + _f(kpis, "co2_scope2_location_kg") / 1000.0
    mkt = s1 + _f(kpis, "co2_scope2_market_kg") / 1000.0
    days = _f(kpis, "simulated_days")
    per_year = DAYS_PER_YEAR / days if days > 0 else math.nan
    e = energy_tce(kpis, factors, electricity_kgce_per_kwh)
    units = end_product_units(kpis)
    onsite = onsite_renewable_used_kwh(kpis) / 1000.0
    inst = _instrument_mwh(kpis)
    bought_or_renewable = _f(kpis, "grid_import_kwh") / 1000.0 + onsite
    consumed = bought_or_renewable + onsite_chp_used_kwh(kpis) / 1000.0
    claimed_onsite = min(onsite, inst["onsite_claimed"]) if kpis.get("carbon") else onsite
    without = claimed_onsite + inst["contracts"]
    with_c = without + inst["gec"]
    tce_per_mwh = e["electricity"] / bought_or_renewable if bought_or_renewable > 0 else 0.0
    net = mkt - offsets_retired_t
    cfe = (kpis.get("carbon") or {}).get("hourly_matched_cfe_share")
    return {
        "gross_t_location": loc,
        "gross_t_market": mkt,
        "gross_t_location_per_year": loc * per_year,
        "gross_t_market_per_year": mkt * per_year,
        "net_t_market": net,
        "net_t_market_per_year": net * per_year,
        "scope3_materials_t": _f(kpis, "co2_scope3_materials_kg") / 1000.0,
        "energy_tce": e["total"],
        "energy_tce_per_year": e["total"] * per_year,
        "co2_t_per_tce_location": _div(loc, e["total"]),
        "co2_t_per_tce_market": _div(mkt, e["total"]),
        "co2_kg_per_unit_location": _div(loc * 1000.0, units),
        "co2_kg_per_unit_market": _div(mkt * 1000.0, units),
        "kgce_per_unit": _div(e["total"] * 1000.0, units),
        "renewable_electricity_share_onsite": _div(onsite, consumed),
        "renewable_electricity_share_without_certificates": _div(without, consumed),
        "renewable_electricity_share_with_certificates": _div(with_c, consumed),
        "renewable_energy_share_without_certificates": _div(without * tce_per_mwh, e["total"]),
        "renewable_energy_share_with_certificates": _div(with_c * tce_per_mwh, e["total"]),
        "hourly_matched_cfe_share": float(cfe) if cfe is not None else None,
    }


def offsets(kpis: Mapping[str, Any], prices: Mapping[str, Mapping[str, Any]] | None = None,
            retired: Iterable[Mapping[str, Any] | Any] = ()) -> dict[str, Any]:
    """Gross, retired offsets and net, and what reaching net zero would take and cost.

    Two ways to net zero are priced (period and annualised):

    * ``certificates_then_credits``: GECs (1 per MWh) for the grid import not yet covered by
      contracts or certificates (and onsite power whose attributes were sold), which brings
      market-based scope 2 to zero; credits for the rest (scope 1 and purchased heat);
    * ``credits_only``: credits (CCER or other) for the whole net market-based amount.

    Retired offsets reduce what is still needed, never gross emissions. The CEA price values
    gross emissions at the compliance-market price (an exposure, not an offset).

    Parameters
    ----------
    kpis : mapping
        A run's KPIs.
    prices : mapping, optional
        As :func:`load_prices` returns; default the packaged prices.
    retired : iterable
        Retired offsets: ``{"kind": ccer | international_credit | other_credit | removal,
        "t_co2e": float}`` for the period.
    """
    prices = prices or load_prices()
    s1 = _f(kpis, "co2_scope1_kg") / 1000.0
    s2m = _f(kpis, "co2_scope2_market_kg") / 1000.0
    heat = _f(kpis, "co2_scope2_heat_kg") / 1000.0
    gross = s1 + s2m
    items = [r.model_dump() if hasattr(r, "model_dump") else dict(r) for r in retired]
    credits = sum(float(r["t_co2e"]) for r in items if r["kind"] != "removal")
    removals = sum(float(r["t_co2e"]) for r in items if r["kind"] == "removal")
    total = credits + removals
    net = gross - total
    days = _f(kpis, "simulated_days")
    per_year = DAYS_PER_YEAR / days if days > 0 else math.nan
    inst = _instrument_mwh(kpis)
    residual_mwh = max(_f(kpis, "grid_import_kwh") / 1000.0 - inst["contracts"] - inst["gec"],
                       0.0) + max(inst["onsite_unclaimed"], 0.0)
    elec_t = max(s2m - heat, 0.0)
    t_per_mwh = elec_t / residual_mwh if residual_mwh > 0 else 0.0
    non_elec = s1 + heat
    surplus = max(total - non_elec, 0.0)  # retired offsets beyond scope 1 cover electricity
    gec_mwh = max(residual_mwh - (surplus / t_per_mwh if t_per_mwh > 0 else 0.0), 0.0)
    credits_a = max(non_elec - total, 0.0)
    p_gec, p_ccer, p_cea = (float(prices[k]["value"]) for k in ("gec", "ccer", "cea"))
    route_a = {"gec_mwh": gec_mwh, "gec_cost": gec_mwh * p_gec, "credits_t": credits_a,
               "credits_cost": credits_a * p_ccer,
               "total_cost": gec_mwh * p_gec + credits_a * p_ccer}
    credits_b = max(net, 0.0)
    route_b = {"credits_t": credits_b, "credits_cost": credits_b * p_ccer}
    if net > 1e-9:
        kind, why = N_("not net zero"), N_("{net} tCO2e remain after retired offsets").format(
            net=f"{net:,.3f}")
    elif total <= 0:
        kind, why = N_("net zero without offsets"), N_("no residual emissions")
    elif credits > 0:
        kind, why = N_("type I"), (N_("residual emissions offset with credits (and removals)")
                                   if removals > 0 else
                                   N_("residual emissions offset with credits"))
    else:
        kind, why = N_("type II"), N_("residual emissions removed by removal projects")
    return {
        "gross_t": {"scope1": s1, "scope2_market": s2m, "total_market": gross,
                    "scope2_location": _f(kpis, "co2_scope2_location_kg") / 1000.0},
        "retired_t": {"credits": credits, "removals": removals, "total": total},
        "retired": items,
        "net_t": net,
        "per_year_factor": per_year,
        "to_net_zero": {"certificates_then_credits": route_a, "credits_only": route_b},
        "to_net_zero_per_year": {
            "certificates_then_credits": {k: v * per_year for k, v in route_a.items()},
            "credits_only": {k: v * per_year for k, v in route_b.items()}},
        "uncovered_grid_mwh": residual_mwh,
        "cea_value_of_gross": gross * p_cea,
        "prices": {k: dict(v) for k, v in prices.items()},
        "classification": {"scheme": N_("T/CECA-G 0171-2022 style"), "result": kind,
                           "reason": why,
                           "stars": "not assessed: the star thresholds were not found (U)"},
    }


def _grid_year(kpis: Mapping[str, Any]) -> int | None:
    """Data year of the run's grid factor (``kpis.carbon.grid_factor.year``), None if absent."""
    y = ((kpis.get("carbon") or {}).get("grid_factor") or {}).get("year")
    try:
        return int(y) if y is not None else None
    except (TypeError, ValueError):
        return None


def _basis_text(c: ElectricityCoefficient) -> str:
    from twin.carbon.energy_basis import LABELS

    text = LABELS[c.basis] + (f", {c.year}" if c.year else "")
    return text + (" (user coefficient)" if c.status == "user" else "")


def _changes(values: Mapping[str, float | None], base: Mapping[str, float]
             ) -> dict[str, float | None]:
    """Relative changes against the baseline: (value - base) / base of gross market-based
    emissions (annualised), kgce per unit and tCO2/tce market-based; the renewable share of all
    energy as a difference (value - base). None where either side is missing or the base is 0.
    """
    def rel(name: str, base_name: str | None = None) -> float | None:
        b, v = base.get(base_name or name), values.get(name)
        if b is None or v is None or not b or not math.isfinite(v):
            return None
        return (v - b) / b

    share, share_b = (values.get("renewable_energy_share_with_certificates"),
                      base.get("renewable_energy_share_with_certificates"))
    return {"gross_change_market": rel("gross_t_market_per_year"),
            "kgce_per_unit_change": rel("kgce_per_unit"),
            "co2_t_per_tce_market_change": rel("co2_t_per_tce_market"),
            "renewable_energy_share_change": (share - share_b if share is not None
                                              and share_b is not None else None)}


def judge(value: float | None, op: str, threshold: float) -> tuple[str, float | None]:
    """``('pass' | 'fail' | 'not_judged', margin)``; margin = threshold - value for '<=' and
    value - threshold for '>=' (positive = headroom, negative = shortfall). A shortfall within
    float rounding (``JUDGE_TOL`` x max(1, abs(threshold))) counts as met, so that a value
    equal to the limit on paper (6 % computed as 0.0599999999999) passes."""
    if value is None or not math.isfinite(float(value)):
        return "not_judged", None
    margin = threshold - value if op == "<=" else value - threshold
    return ("pass" if margin >= -JUDGE_TOL * max(1.0, abs(threshold)) else "fail"), margin


def footprint_changes(current: Mapping[str, float], base: Mapping[str, float]
                      ) -> dict[str, dict[str, float | None]]:
    """Per product: base and current footprint per unit and the reduction (base - cur) / base."""
    out: dict[str, dict[str, float | None]] = {}
    for p in sorted(set(current) | set(base)):
        b, c = base.get(p), current.get(p)
        out[p] = {"baseline": b, "value": c,
                  "reduction": (b - c) / b if b and c is not None else None}
    return out


def reductions_by_measure(kpis: Mapping[str, Any], base: Mapping[str, Any]) -> dict[str, float]:
    """Reduction of gross market-based emissions against a baseline run, by measure [tCO2e,
    positive = less emitted], annualised so runs of different length compare.

    With E electricity consumed (grid import + onsite renewables and CHP electricity used), R
    onsite renewables used, C onsite CHP electricity used, I = E - R - C grid import, H the
    scope 2 of purchased heat and steam, L, M scope 2 of
    electricity location- / market-based (the scope 2 totals less H), f = L / I the mean grid
    factor, and the baseline subscript b:

    * ``electricity_use`` (efficiency and volume) = (E_b - E) f_b
    * ``onsite_renewables`` = (R - R_b) f_b
    * ``onsite_chp`` = (C - C_b) f_b (the grid electricity it displaces; its gas is in ``fuel``)
    * ``grid_factor`` = I (f_b - f)
    * ``green_instruments`` = (L - M) - (L_b - M_b)
    * ``purchased_heat`` = H_b - H
    * ``fuel``, ``process``, ``refrigerant`` = baseline - current scope 1 part

    They add up to gross_b - gross (market-based) exactly; ``total`` is that sum.
    """
    def parts(k: Mapping[str, Any]) -> dict[str, float]:
        days = _f(k, "simulated_days")
        a = DAYS_PER_YEAR / days if days > 0 else math.nan
        r = onsite_renewable_used_kwh(k) / 1000.0 * a
        i = _f(k, "grid_import_kwh") / 1000.0 * a
        chp = onsite_chp_used_kwh(k) / 1000.0 * a
        heat = _f(k, "co2_scope2_heat_kg") / 1000.0 * a
        loc = _f(k, "co2_scope2_location_kg") / 1000.0 * a - heat
        mkt = _f(k, "co2_scope2_market_kg") / 1000.0 * a - heat
        s1 = _f(k, "co2_scope1_kg") / 1000.0 * a
        proc = _f(k, "co2_scope1_process_kg") / 1000.0 * a
        refr = _f(k, "co2_scope1_refrigerant_kg") / 1000.0 * a
        return {"E": i + r + chp, "R": r, "C": chp, "I": i, "f": loc / i if i > 0 else 0.0,
                "L": loc, "M": mkt, "H": heat, "fuel": s1 - proc - refr, "process": proc,
                "refrigerant": refr,
                "gross": s1 + mkt + heat}

    c, b = parts(kpis), parts(base)
    out = {
        "electricity_use": (b["E"] - c["E"]) * b["f"],
        "onsite_renewables": (c["R"] - b["R"]) * b["f"],
        "onsite_chp": (c["C"] - b["C"]) * b["f"],
        "grid_factor": c["I"] * (b["f"] - c["f"]),
        "green_instruments": (c["L"] - c["M"]) - (b["L"] - b["M"]),
        "purchased_heat": b["H"] - c["H"],
        "fuel": b["fuel"] - c["fuel"],
        "process": b["process"] - c["process"],
        "refrigerant": b["refrigerant"] - c["refrigerant"],
    }
    out["total"] = sum(out.values())
    out["gross_baseline_per_year"] = b["gross"]
    out["gross_per_year"] = c["gross"]
    return out


def evaluate(kpis: Mapping[str, Any], rules: str | Iterable[Any] = DEFAULT_RULES, *,
             baseline_kpis: Mapping[str, Any] | None = None,
             baseline: Mapping[str, Any] | Any | None = None,
             prices: Mapping[str, float] | None = None,
             offsets_retired: Iterable[Mapping[str, Any] | Any] = (),
             factors: FactorTable | None = None,
             electricity_kgce_per_kwh: float | None = None,
             energy_basis: str | None = None) -> dict[str, Any]:
    """The zero-carbon evaluation of a run (the ``evaluation`` object of ``kpis.json``).

    Parameters
    ----------
    kpis : mapping
        The run's KPIs.
    rules : str or iterable
        Rule set name or user indicators (:func:`load_rules`).
    baseline_kpis : mapping, optional
        KPIs of a baseline run (same plant before the measures, or the base year simulated).
    baseline : mapping or ``Baseline``, optional
        Base-year values from the plant file: ``label``, ``footprint_kg_per_unit``, ``metrics``.
        Ignored for the values a ``baseline_kpis`` gives.
    prices : mapping, optional
        Price overrides ``{cea, ccer, gec}``.
    offsets_retired : iterable
        Retired offsets for the period (see :func:`offsets`).
    factors : FactorTable, optional
    electricity_kgce_per_kwh : float, optional
        tce coefficient of electricity on the rule set's basis (default: the shipped one of
        that basis, :func:`twin.carbon.energy_basis.electricity_coefficient`).
    energy_basis : str, optional
        ``calorific`` or ``equal_value``: replaces the rule set's basis (required for user
        indicators that use tce). The equal-value coefficient is that of the run's grid-factor
        data year, or of the latest earlier year shipped.

    Returns
    -------
    dict
        ``period``, ``rules`` (the rule set without indicators), ``metrics`` (name -> value,
        label, unit), ``energy_basis`` (the coefficient used, and ``other``: the other basis
        with its coefficient and the tce metrics on it), ``energy_tce``, ``offsets``,
        ``baseline`` (label, changes, footprints, reductions_by_measure) or None,
        ``indicators`` (one row per indicator with ``status`` pass / fail / not_judged,
        ``value``, ``value_other_basis``, ``threshold``, ``margin``, ``reason``) and
        ``verdict`` ('pass' only if every indicator passes; 'fail' if any fails; else
        'incomplete').
    """
    rule_set = load_rules(rules, energy_basis=energy_basis)
    price_table = load_prices(prices)
    off = offsets(kpis, price_table, offsets_retired)
    basis = rule_set["energy_basis"]
    year = _grid_year(kpis)
    main = electricity_coefficient(basis, year, factors=factors,
                                   override_kgce_per_kwh=electricity_kgce_per_kwh)
    other = electricity_coefficient(BASES[1 - BASES.index(basis)], year, factors=factors)
    ekw = main.kgce_per_kwh
    values: dict[str, float | None] = metrics(kpis, off["retired_t"]["total"], factors, ekw)
    other_values = metrics(kpis, off["retired_t"]["total"], factors, other.kgce_per_kwh)
    days = _f(kpis, "simulated_days")

    base_block: dict[str, Any] | None = None
    base_values: dict[str, float] = {}
    base_other: dict[str, float] = {}
    base_fp: dict[str, float] = {}
    label = None
    if baseline is not None:
        b = baseline.model_dump() if hasattr(baseline, "model_dump") else dict(baseline)
        label = b.get("label") or "baseline"
        base_values.update({k: float(v) for k, v in (b.get("metrics") or {}).items()})
        base_other.update(base_values)
        base_fp.update({k: float(v) for k, v in (b.get("footprint_kg_per_unit") or {}).items()})
    if baseline_kpis is not None:
        label = str(baseline_kpis.get("baseline_label") or "baseline run "
                    f"({baseline_kpis.get('plant', '?')}, {baseline_kpis.get('start', '?')}, "
                    f"{_f(baseline_kpis, 'simulated_days'):g} days)")
        base_values.update({k: v for k, v in metrics(baseline_kpis, 0.0, factors, ekw).items()
                            if v is not None})
        base_other.update({k: v for k, v in metrics(baseline_kpis, 0.0, factors,
                                                    other.kgce_per_kwh).items()
                           if v is not None})
        base_fp.update(footprints_per_unit(baseline_kpis))
    if label is not None:
        changes = {}
        for name, b in base_values.items():
            v = values.get(name)
            if name in METRICS and v is not None:
                changes[name] = {"baseline": b, "value": v, "change": v - b,
                                 "change_pct": (v - b) / abs(b) if b else None}
        fp = footprint_changes(footprints_per_unit(kpis), base_fp) if base_fp else {}
        reds = [r["reduction"] for r in fp.values() if r["reduction"] is not None]
        values["footprint_reduction_min"] = min(reds) if reds else None
        values.update(_changes(values, base_values))
        other_values.update(_changes(other_values, base_other))
        base_block = {"label": label, "changes": changes, "footprints": fp,
                      "reductions_by_measure": (reductions_by_measure(kpis, baseline_kpis)
                                                if baseline_kpis is not None else None)}

    rows = []
    for ind in rule_set["indicators"]:
        v = values.get(ind["metric"])
        status, margin = judge(v, ind["op"], ind["threshold"])
        reason = None
        if status == "not_judged":
            if kpis.get("production") is False and ind["metric"] in PRODUCT_METRICS:
                reason = N_("the plant makes no products (no production in the plant file)")
            elif ind["metric"] in _NEEDS_BASELINE and base_block is None:
                reason = N_("no baseline: give carbon.evaluation.baseline in the plant file "
                            "or twin report --baseline RUN_DIR")
            elif ind["metric"] == "footprint_reduction_min":
                reason = N_("no product has both a baseline footprint and finished units")
            else:
                reason = N_("the run does not give this value (no energy use or no finished "
                            "units)")
        rows.append({**ind, "value": v, "status": status, "margin": margin,
                     "value_other_basis": (other_values.get(ind["metric"])
                                           if ind["metric"] in TCE_METRICS else None),
                     "margin_rel": (margin / abs(ind["threshold"])
                                    if margin is not None and ind["threshold"] else None),
                     "reason": reason})
    statuses = {r["status"] for r in rows}
    verdict = ("fail" if "fail" in statuses else "incomplete" if "not_judged" in statuses
               or not rows else "pass")
    period_note = (N_("{days} simulated days from {start}: ratios are over this period; "
                      "amounts are also annualised (x 365 / days); a period shorter than a year "
                      "leaves out seasons (PV, heating) and may not represent the annual "
                      "indicators") if days < 365 else
                   N_("{days} simulated days from {start}: ratios are over this period; "
                      "amounts are also annualised (x 365 / days)")
                   ).format(days=f"{days:g}", start=kpis.get("start", "?"))
    return {
        "period": {"days": days, "start": kpis.get("start"),
                   "annualisation_factor": off["per_year_factor"], "note": period_note},
        "rules": {k: v for k, v in rule_set.items() if k != "indicators"},
        "metrics": {k: {"value": values.get(k), "label": lab, "unit": unit}
                    for k, (lab, unit) in METRICS.items() if k in values},
        "energy_basis": {**main.as_dict(), "chosen_by": rule_set["energy_basis_source"],
                         "other": {**other.as_dict(),
                                   "energy_tce": energy_tce(kpis, factors, other.kgce_per_kwh),
                                   "metrics": {k: other_values.get(k) for k in METRICS
                                               if k in TCE_METRICS and k in other_values}}},
        "energy_tce": {**energy_tce(kpis, factors, ekw),
                       "electricity_kgce_per_kwh": ekw,
                       "basis": _basis_text(main)},
        "offsets": off,
        "baseline": base_block,
        "indicators": rows,
        "verdict": verdict,
    }
