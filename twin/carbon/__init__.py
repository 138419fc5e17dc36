"""Carbon accounting: emission factors, scope 1/2/3 emissions, standard coal equivalent.

``factors`` loads the sourced factor tables of ``twin/data/carbon/`` and looks numbers up;
``accounting`` turns hourly energy into emissions (pure functions over arrays); ``evaluation``
judges a run's KPIs against zero-carbon rule sets (``evaluate``).
"""

from twin.carbon.accounting import (
    MarketBasedResult,
    Refrigerant,
    fuel_kwh_from_units,
    hourly_matched_cfe_share,
    intensity_t_per_tce,
    process_and_refrigerant_kg,
    refrigerant_leakage_kg,
    scope1_by_fuel_kg,
    scope1_kg,
    scope2_heat_kg,
    scope2_location_kg,
    scope2_market_kg,
    scope3_materials_kg,
    tce,
    tce_by_carrier,
)
from twin.carbon.evaluation import evaluate, load_prices, load_rules
from twin.carbon.factors import (
    Factor,
    FactorTable,
    FuelFactor,
    TceCoefficient,
    blend_gwp,
    default_factors,
    fuel_factor,
    grid_factor,
    gwp,
    heat_factor,
    hourly_grid_factor,
    load_factors,
    read_hourly_factor_csv,
    tce_coefficient,
)

__all__ = [
    "Factor",
    "FactorTable",
    "FuelFactor",
    "MarketBasedResult",
    "Refrigerant",
    "TceCoefficient",
    "blend_gwp",
    "default_factors",
    "evaluate",
    "fuel_factor",
    "fuel_kwh_from_units",
    "grid_factor",
    "gwp",
    "heat_factor",
    "hourly_grid_factor",
    "hourly_matched_cfe_share",
    "intensity_t_per_tce",
    "load_factors",
    "load_prices",
    "load_rules",
    "process_and_refrigerant_kg",
    "read_hourly_factor_csv",
    "refrigerant_leakage_kg",
    "scope1_by_fuel_kg",
    "scope1_kg",
    "scope2_heat_kg",
    "scope2_location_kg",
    "scope2_market_kg",
    "scope3_materials_kg",
    "tce",
    "tce_by_carrier",
    "tce_coefficient",
]
