"""Emissions of a run, per settlement interval: scope 1 from fuels, scope 2 location- and
market-based from grid imports, with the factors and instruments used.

The pure accounting lives in :mod:`twin.carbon.accounting`; this module picks the factors for a
plant (its ``carbon:`` block, else the defaults) and applies them to a run's interval columns.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from twin.carbon import accounting
from twin.carbon.factors import FactorTable, default_factors, hourly_grid_factor
from twin.config.carbon import Carbon
from twin.config.plant import Plant


@dataclass
class Inventory:
    """Per-interval emissions [kg CO2] and how they were computed."""

    grid_ef_kg_per_kwh: np.ndarray
    scope1_kg: np.ndarray
    scope2_location_kg: np.ndarray
    scope2_market_kg: np.ndarray
    info: dict[str, Any] = field(default_factory=dict)
    scope2_heat_kg: np.ndarray | None = None
    """Purchased heat and steam per interval [kg CO2], included in both scope 2 columns."""
    """Factors (value, year, status, source) and instruments (available, used, unused MWh)."""


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
            province = (plant.site.province or "").strip()
            known = set(table.grid_regions("location"))
            region = province.lower() if province and province.lower() in known else "national"
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


def inventory(plant: Plant, index: pd.DatetimeIndex, grid_import_kwh: np.ndarray,
              natural_gas_kwh: np.ndarray, onsite_renewable_used_kwh: np.ndarray,
              table: FactorTable | None = None,
              purchased_heat_kwh: np.ndarray | None = None) -> Inventory:
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
    purchased_heat_kwh : ndarray, optional
        Heat or steam bought per interval [kWh]: scope 2 (indirect) at the purchased-heat
        factor (``carbon.purchased_heat_factor_t_per_gj``, else the packaged 0.11 tCO2/GJ),
        added to the location- and market-based totals alike (no market instruments for heat).
    """
    table = table or default_factors()
    spec = plant.carbon or Carbon()
    factors = grid_factors(plant, table)
    imp = np.asarray(grid_import_kwh, dtype=float)
    annual = factors["location"]["value"]
    if spec.hourly_shape is not None:
        ef = np.asarray(hourly_grid_factor(annual, imp, spec.hourly_shape, index=index),
                        dtype=float)
    else:
        ef = np.full(len(imp), annual)
    scope1 = np.asarray(accounting.scope1_kg({"natural_gas": np.asarray(natural_gas_kwh)},
                                             table), dtype=float)
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
    cfe = (accounting.hourly_matched_cfe_share(consumption, onsite_renewable_used_kwh)
           if consumption.sum() > 0 else None)
    gas = table.fuel_factor("natural_gas")
    info = {
        "grid_factor": factors["location"],
        "residual_factor": factors["residual"],
        "hourly_shape": spec.hourly_shape is not None,
        "natural_gas_kg_per_kwh": gas.kg_co2_per_kwh,
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
    return Inventory(ef, scope1, location, market_kg, info, heat_kg)


def _heat_row(table: FactorTable) -> dict[str, Any]:
    """Provenance of the packaged purchased-heat factor."""
    row = table.heat_rows.set_index("kind").loc["purchased_heat"]
    return {"year": int(row["year"]), "status": str(row["status"]),
            "source": f"{row['document']}; {row['source_url']}"}
