"""Emissions of a run, per settlement interval: scope 1 from fuels, scope 2 location- and
market-based from grid imports, with the factors and instruments used.

The pure accounting lives in :mod:`twin.carbon.accounting`; this module picks the factors for a
plant (its ``carbon:`` block, else the defaults) and applies them to a run's interval columns.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from twin.carbon import accounting
from twin.carbon.factors import FactorTable, default_factors, hourly_grid_factor
from twin.carbon.provinces import grid_region_of
from twin.config.carbon import Carbon
from twin.config.plant import Plant

HOURS_PER_YEAR = 8760.0


@dataclass
class Inventory:
    """Per-interval emissions [kg CO2] and how they were computed."""

    grid_ef_kg_per_kwh: np.ndarray
    scope1_kg: np.ndarray
    scope2_location_kg: np.ndarray
    scope2_market_kg: np.ndarray
    info: dict[str, Any] = field(default_factory=dict)
    """Factors (value, year, status, source) and instruments (available, used, unused MWh)."""
    scope2_heat_kg: np.ndarray | None = None
    """Purchased heat and steam per interval [kg CO2], included in both scope 2 columns."""
    process_kg: np.ndarray | None = None
    """Process emissions per interval [kg CO2e], included in ``scope1_kg``."""
    refrigerant_kg: np.ndarray | None = None
    """Refrigerant leakage per interval [kg CO2e], included in ``scope1_kg``."""


def end_product(plant: Plant, product: str) -> str:
    """The end product that ``product`` is (eventually) assembled into (itself if none)."""
    parent = {c: p.id for p in plant.products for c in p.components}
    while product in parent:
        product = parent[product]
    return product


def per_end_unit(plant: Plant, per_unit: dict[str, float]) -> dict[str, dict[str, float]]:
    """Quantities per unit of a product, rolled up to units of its end product.

    A lot of product P holds ``components[c]`` lots of component c, so one unit of P holds
    ``components[c] x units_per_lot[c] / units_per_lot[P]`` units of c (recursively).

    Returns
    -------
    dict
        end product -> {product: quantity per end-product unit} for every product in
        ``per_unit`` (the product itself with factor 1).
    """
    by_id = {p.id: p for p in plant.products}
    parent = {c: (p.id, n) for p in plant.products for c, n in p.components.items()}
    out: dict[str, dict[str, float]] = {}
    for prod, q in per_unit.items():
        k, ratio = prod, 1.0
        while k in parent:
            up, n = parent[k]
            ratio *= n * by_id[k].units_per_lot / by_id[up].units_per_lot
            k = up
        out.setdefault(k, {})
        out[k][prod] = out[k].get(prod, 0.0) + q * ratio
    return out


def process_and_refrigerant(plant: Plant, index: pd.DatetimeIndex, hours: np.ndarray,
                            end_units_by_interval: dict[str, np.ndarray],
                            table: FactorTable | None = None) -> dict[str, Any]:
    """Scope 1 process emissions and refrigerant leakage of ``plant`` per interval [kg CO2e].

    * per unit of product: t x 1000 x units of its end product completed in the interval
      (components: per unit of the end product they are assembled into, see
      :func:`per_end_unit`), i.e. spread by production;
    * per year: t x 1000 x interval hours / 8760, evenly over time (a leap year is not special);
    * refrigerants: charge x annual leak rate x GWP (``accounting.refrigerant_leakage_kg``) x
      interval hours / 8760, evenly over time.

    Returns ``process_kg``, ``refrigerant_kg`` (arrays), ``process_by_product_kg`` (end product
    -> kg directly attributable), ``process_plant_kg`` (per-year lines without a product) and
    the ``lines`` for the report.
    """
    table = table or default_factors()
    spec = plant.carbon or Carbon()
    n = len(index)
    hours = np.asarray(hours, dtype=float)
    proc = np.zeros(n)
    by_product: dict[str, float] = {}
    plant_kg = 0.0
    lines = []
    for pe in spec.process_emissions:
        if pe.t_co2e_per_unit is not None:
            rolled = per_end_unit(plant, {pe.product: pe.t_co2e_per_unit * 1000.0})
            arr = np.zeros(n)
            for end, parts in rolled.items():
                units = end_units_by_interval.get(end, np.zeros(n))
                kg = units * sum(parts.values())
                arr += kg
                by_product[end] = by_product.get(end, 0.0) + float(kg.sum())
            basis = f"{pe.t_co2e_per_unit:g} t per unit of {pe.product}"
        else:
            arr = pe.t_co2e_per_year * 1000.0 * hours / HOURS_PER_YEAR
            if pe.product is not None:
                end = end_product(plant, pe.product)
                by_product[end] = by_product.get(end, 0.0) + float(arr.sum())
            else:
                plant_kg += float(arr.sum())
            basis = f"{pe.t_co2e_per_year:g} t per year"
        proc += arr
        lines.append({"name": pe.name, "basis": basis, "product": pe.product,
                      "kg_co2e": float(arr.sum()), "source": pe.source})
    refr = np.zeros(n)
    refr_lines = []
    if spec.refrigerants:
        charges = [accounting.Refrigerant(gas=r.gas, charge_kg=r.charge_kg,
                                          annual_leak_rate=r.annual_leak_rate, report=r.report,
                                          name=r.name) for r in spec.refrigerants]
        df = accounting.refrigerant_leakage_kg(charges, table)
        refr = float(df["kg_co2e_per_year"].sum()) * hours / HOURS_PER_YEAR
        share = float(hours.sum()) / HOURS_PER_YEAR
        for r, row in zip(spec.refrigerants, df.to_dict(orient="records"), strict=True):
            refr_lines.append({**row, "kg_co2e": row["kg_co2e_per_year"] * share,
                               "source": r.source})
    return {"process_kg": proc, "refrigerant_kg": refr, "process_by_product_kg": by_product,
            "process_plant_kg": plant_kg, "process_lines": lines,
            "refrigerant_lines": refr_lines}


def _latest(table: FactorTable, region: str, kind: str, year: int | None) -> int:
    years = table.grid_years(region, kind)
    if year is not None:
        return year
    return max(years)


def grid_factors(plant: Plant, table: FactorTable | None = None) -> dict[str, Any]:
    """The location-based and residual factors for ``plant`` [kgCO2/kWh] with their provenance.

    Region: ``carbon.grid_region``, else the site's province when the tables have it, else
    national; year: ``carbon.grid_year``, else the latest available for that region. The residual
    factor is the national one excluding market-traded non-fossil electricity, for the same year
    when available, else the latest."""
    table = table or default_factors()
    spec = plant.carbon or Carbon()
    out: dict[str, Any] = {}
    if spec.grid_factor_kg_per_kwh is not None:
        out["location"] = {"value": spec.grid_factor_kg_per_kwh, "region": "user",
                           "year": spec.grid_year, "status": "user", "source": "plant file"}
    else:
        region = spec.grid_region
        if region is None:
            region = grid_region_of(plant.site.province, table.grid_regions("location"))
        year = _latest(table, region, "location", spec.grid_year)
        f = table.grid_factor_info(region, year, "location")
        out["location"] = {"value": f.value, "region": region, "year": f.year,
                           "status": f.status, "source": f"{f.document}; {f.source}"}
    if spec.residual_factor_kg_per_kwh is not None:
        out["residual"] = {"value": spec.residual_factor_kg_per_kwh, "region": "user",
                           "year": spec.grid_year, "status": "user", "source": "plant file"}
    else:
        years = table.grid_years("national", "residual")
        want = out["location"]["year"]
        year = want if want in years else max(years)
        f = table.grid_factor_info("national", year, "residual")
        out["residual"] = {"value": f.value, "region": "national", "year": f.year,
                           "status": f.status, "source": f"{f.document}; {f.source}"}
    return out


def location_factor(plant: Plant, index: pd.DatetimeIndex, weights: np.ndarray | None = None,
                    table: FactorTable | None = None) -> np.ndarray:
    """Location-based grid factor per interval of ``index`` [kgCO2/kWh]: the series of
    ``carbon.hourly_factor_file`` as given (:func:`~twin.carbon.factors.read_hourly_factor_csv`);
    else the annual factor (:func:`grid_factors`) scaled by ``carbon.hourly_shape`` so that its
    ``weights``-weighted mean is the annual value (plain mean without weights;
    :func:`~twin.carbon.factors.hourly_grid_factor`); else flat.

    Raises ValueError for a region, year or file the data do not cover (the message starts with
    the field)."""
    spec = plant.carbon or Carbon()
    if spec.hourly_factor_file is not None:
        from twin.carbon.factors import read_hourly_factor_csv

        try:
            return np.asarray(read_hourly_factor_csv(spec.hourly_factor_file, index), dtype=float)
        except (OSError, ValueError) as exc:
            raise ValueError(f"carbon.hourly_factor_file: {exc}") from None
    annual = grid_factors(plant, table)["location"]["value"]
    n = len(index)
    if spec.hourly_shape is not None:
        w = np.ones(n) if weights is None else np.asarray(weights, dtype=float)
        return np.asarray(hourly_grid_factor(annual, w, spec.hourly_shape, index=index),
                          dtype=float)
    return np.full(n, float(annual))


def inventory(plant: Plant, index: pd.DatetimeIndex, grid_import_kwh: np.ndarray,
              natural_gas_kwh: np.ndarray, onsite_renewable_used_kwh: np.ndarray,
              table: FactorTable | None = None, *, hours: np.ndarray | None = None,
              end_units_by_interval: dict[str, np.ndarray] | None = None,
              purchased_heat_kwh: np.ndarray | None = None,
              onsite_other_used_kwh: np.ndarray | None = None) -> Inventory:
    """Emissions per interval of ``index``.

    Parameters
    ----------
    plant : Plant
    index : DatetimeIndex
        Interval starts, local time.
    grid_import_kwh : ndarray
        Gross grid import per interval [kWh] (exports never reduce scope 2).
    natural_gas_kwh : ndarray
        Natural gas burnt per interval by LHV [kWh] (equipment, boilers, CHP): scope 1.
    onsite_renewable_used_kwh : ndarray
        Onsite PV and wind consumed on site per interval [kWh] (carbon-free supply).
    hours : ndarray, optional
        Length of each interval [h] (default: from ``index``); spreads per-year process
        emissions and refrigerant leakage.
    end_units_by_interval : dict, optional
        End product -> units completed per interval; spreads per-unit process emissions.
    purchased_heat_kwh : ndarray, optional
        Heat or steam bought per interval [kWh]: scope 2 (indirect) at the purchased-heat
        factor (``carbon.purchased_heat_factor_t_per_gj``, else the packaged 0.11 tCO2/GJ),
        added to the location- and market-based totals alike (no market instruments for heat).
    onsite_other_used_kwh : ndarray, optional
        Other onsite electricity consumed on site per interval [kWh] (CHP): not carbon-free,
        it counts in the consumption of the hourly-matched carbon-free share only (its fuel is
        scope 1).
    """
    table = table or default_factors()
    spec = plant.carbon or Carbon()
    factors = grid_factors(plant, table)
    imp = np.asarray(grid_import_kwh, dtype=float)
    ef = location_factor(plant, index, imp, table)
    if spec.hourly_factor_file is not None:
        factors["location"] = {"value": float(np.average(ef, weights=imp)) if imp.sum() > 0
                               else float(ef.mean()), "region": "user hourly series",
                               "year": None, "status": "user",
                               "source": f"{Path(spec.hourly_factor_file).name} (plant file; "
                                         "import-weighted mean shown)"}
    gas_kwh = np.asarray(natural_gas_kwh, dtype=float)
    if spec.natural_gas_kg_per_kwh is not None:  # the plant's own factor
        scope1 = gas_kwh * spec.natural_gas_kg_per_kwh
    else:
        scope1 = np.asarray(accounting.scope1_kg({"natural_gas": gas_kwh}, table), dtype=float)
    extra = None
    if spec.process_emissions or spec.refrigerants:
        if hours is None:
            step = (index[1] - index[0]).total_seconds() / 3600.0 if len(index) > 1 else 1.0
            hours = np.full(len(index), step)
        extra = process_and_refrigerant(plant, index, hours, end_units_by_interval or {}, table)
        scope1 = scope1 + extra["process_kg"] + extra["refrigerant_kg"]
    location = np.asarray(accounting.scope2_location_kg(imp, ef), dtype=float)
    market = accounting.scope2_market_kg(
        imp, index, factors["residual"]["value"],
        contracts_mwh_by_month=spec.green_contracts_mwh_by_month or None,
        gec_mwh=spec.green_certificates_mwh,
        onsite_renewable_kwh=onsite_renewable_used_kwh,
        onsite_attributes_retained=spec.onsite_attributes_retained,
    )
    heat_kg = None
    if purchased_heat_kwh is not None:
        f_heat = (spec.purchased_heat_factor_t_per_gj
                  if spec.purchased_heat_factor_t_per_gj is not None
                  else table.heat_factor("purchased_heat"))
        heat_kg = np.asarray(accounting.scope2_heat_kg(
            np.asarray(purchased_heat_kwh, dtype=float), f_heat), dtype=float)
        location = location + heat_kg
    consumption = imp + np.asarray(onsite_renewable_used_kwh, dtype=float)
    if onsite_other_used_kwh is not None:
        consumption = consumption + np.asarray(onsite_other_used_kwh, dtype=float)
    cfe = (accounting.hourly_matched_cfe_share(consumption, onsite_renewable_used_kwh)
           if consumption.sum() > 0 else None)
    gas_ef = (spec.natural_gas_kg_per_kwh if spec.natural_gas_kg_per_kwh is not None
              else table.fuel_factor("natural_gas").kg_co2_per_kwh)
    info = {
        "grid_factor": factors["location"],
        "residual_factor": factors["residual"],
        "hourly_shape": spec.hourly_shape is not None or spec.hourly_factor_file is not None,
        "natural_gas_kg_per_kwh": gas_ef,
        "natural_gas_factor_status": "user" if spec.natural_gas_kg_per_kwh is not None else "S",
        "instruments": {row: {k: float(v) for k, v in vals.items()}
                        for row, vals in market.instruments.to_dict(orient="index").items()},
        "hourly_matched_cfe_share": cfe,
    }
    market_kg = np.asarray(market.kg, dtype=float)
    if heat_kg is not None:
        market_kg = market_kg + heat_kg
        info["purchased_heat_factor"] = (
            {"value": spec.purchased_heat_factor_t_per_gj, "unit": "tCO2/GJ", "status": "user",
             "source": "plant file"} if spec.purchased_heat_factor_t_per_gj is not None else
            {"value": f_heat, "unit": "tCO2/GJ", **_heat_row(table)})
    if extra is None:
        return Inventory(ef, scope1, location, market_kg, info, heat_kg)
    info["process_emissions"] = extra["process_lines"]
    info["refrigerants"] = extra["refrigerant_lines"]
    info["process_by_product_kg"] = extra["process_by_product_kg"]
    info["process_plant_kg"] = extra["process_plant_kg"]
    return Inventory(ef, scope1, location, market_kg, info, heat_kg,
                     extra["process_kg"], extra["refrigerant_kg"])


def _heat_row(table: FactorTable) -> dict[str, Any]:
    """Provenance of the packaged purchased-heat factor."""
    row = table.heat_rows.set_index("kind").loc["purchased_heat"]
    return {"year": int(row["year"]), "status": str(row["status"]),
            "source": f"{row['document']}; {row['source_url']}"}
