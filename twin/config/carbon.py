"""Pydantic model of a plant's carbon accounting options (the ``carbon:`` block).

Without the block the run is still accounted: the grid factor of the site's province (or the
national one) for the latest year in ``twin/data/carbon/``, natural gas per GB/T 32150, no
certificates or contracts, no process emissions, refrigerants or materials, and the zero-carbon
evaluation against the default rule set (``hunan_2030``) without a baseline.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from twin.config.base import Id, _Model

Text = Annotated[str, Field(min_length=1, max_length=300)]


class Material(_Model):
    """A purchased material in one unit of a product (scope 3, cradle-to-gate)."""

    name: Text = Field(description="Material, e.g. 'hot-rolled steel'.")
    quantity_per_unit: float = Field(gt=0, description="Quantity in one unit of the product, in "
                                                       "``unit`` (e.g. 2.4 kg).")
    unit: Text = Field("kg", description="Unit of the quantity (kg, m2, pcs, ...).")
    kg_co2e_per_unit: float = Field(ge=0, description="Cradle-to-gate factor [kgCO2e per "
                                                      "``unit`` of material].")
    source: Text = Field(description="Where the factor comes from (EPD, database and year).")


class ProcessEmission(_Model):
    """Process CO2e (not from burning fuel): scope 1. Give it per unit of a product (spread over
    the intervals by that product's completions) or per year (spread evenly over time)."""

    name: Text = Field(description="What emits, e.g. 'CO2 shielding gas'.")
    t_co2e_per_unit: float | None = Field(None, ge=0, description="Per unit of ``product`` "
                                                                  "completed [tCO2e].")
    t_co2e_per_year: float | None = Field(None, ge=0, description="Per year, evenly over time "
                                                                  "[tCO2e/a].")
    product: Id | None = Field(None, description="The product it belongs to (required with "
                                                 "t_co2e_per_unit; optional per year: then "
                                                 "its footprint carries it).")
    source: Text = Field(description="Where the number comes from.")

    @model_validator(mode="after")
    def _one_basis(self) -> ProcessEmission:
        if (self.t_co2e_per_unit is None) == (self.t_co2e_per_year is None):
            raise ValueError("give exactly one of t_co2e_per_unit and t_co2e_per_year")
        if self.t_co2e_per_unit is not None and self.product is None:
            raise ValueError("t_co2e_per_unit needs 'product' (the product it is per unit of)")
        return self


class RefrigerantCharge(_Model):
    """A refrigerant charge that leaks: charge x annual leak rate x GWP per year, scope 1."""

    name: Text = Field(description="Equipment, e.g. 'chiller 1'.")
    gas: str | dict[str, Annotated[float, Field(gt=0, le=1)]] = Field(
        description="Gas as in gwp.csv ('HFC-134a', 'R-32', ...) or a blend as mass fractions "
                    "({HFC-32: 0.5, HFC-125: 0.5} for R-410A).")
    charge_kg: float = Field(gt=0, description="Charge [kg].")
    annual_leak_rate: float = Field(ge=0, le=1, description="Share of the charge lost per year "
                                                            "[-], e.g. 0.05.")
    report: Literal["AR4", "AR5", "AR6"] = Field(description="IPCC assessment report of the GWP.")
    source: str | None = Field(None, description="Where charge and leak rate come from.")


class Indicator(_Model):
    """One indicator of a user-defined rule set (see ``twin.carbon.evaluation.METRICS``)."""

    metric: str = Field(description="Metric name, e.g. 'co2_t_per_tce_market'.")
    op: Literal["<=", ">="] = Field(description="Pass when value <= or >= threshold.")
    threshold: float = Field(description="Limit, in the metric's unit (shares as fractions).")
    label: str | None = Field(None, description="Name shown in the table.")
    source: str | None = Field(None, description="Where the threshold comes from.")


class Baseline(_Model):
    """Base-year values to compare against (e.g. from metered data of the base year)."""

    label: Text = Field(description="What the baseline is, e.g. 'base year 2024 (metered)'.")
    footprint_kg_per_unit: dict[Id, Annotated[float, Field(gt=0)]] = Field(
        default_factory=dict, description="Cradle-to-gate footprint per unit in the base year, "
                                          "per product [kgCO2e/unit].")
    metrics: dict[str, float] = Field(default_factory=dict, description="Other base-year values "
                                      "by metric name, e.g. {co2_t_per_tce_market: 1.9}.")
    source: str | None = Field(None, description="Where the base-year values come from.")


class RetiredOffset(_Model):
    """Offsets retired for the period: credits (type I) or removals (type II)."""

    kind: Literal["ccer", "international_credit", "other_credit", "removal"] = Field(
        description="ccer, international_credit, other_credit (offsets) or removal.")
    t_co2e: float = Field(ge=0, description="Retired for the simulated period [tCO2e].")
    note: str | None = Field(None, description="Registry, project, vintage.")


class Evaluation(_Model):
    """Options of the zero-carbon evaluation (``twin.carbon.evaluation``)."""

    rules: str | list[Indicator] = Field(
        "hunan_2030", description="A rule set of twin/data/carbon/evaluation_rules.yaml "
                                  "(hunan_2027, hunan_2030, hunan_2035, t_ceca_g_0171_2022) or "
                                  "your own list of indicators.")
    baseline: Baseline | None = Field(None, description="Base-year values; omitted: changes "
                                                        "and reductions cannot be judged.")
    prices: dict[Literal["cea", "ccer", "gec"], Annotated[float, Field(ge=0)]] = Field(
        default_factory=dict, description="Override prices [CNY/tCO2e for cea and ccer, CNY/MWh "
                                          "for gec]; default twin/data/carbon/prices.csv.")
    offsets_retired: list[RetiredOffset] = Field(default_factory=list,
                                                 description="Offsets retired for the period.")
    electricity_kgce_per_kwh: float | None = Field(
        None, gt=0, lt=1, description="Your own tce coefficient of electricity on the energy "
                                      "basis in force, instead of the shipped one [kgce/kWh].")
    energy_basis: Literal["calorific", "equal_value"] | None = Field(
        None, description="tce basis of electricity: 'calorific' (当量值, 0.1229 kgce/kWh) or "
                          "'equal_value' (等价值, the year's coal consumption of thermal power "
                          "supply). Default: the rule set's own; required for your own "
                          "indicators that use tce.")


class Carbon(_Model):
    """Grid factors and market instruments for scope 2, fuel, process and refrigerant emissions
    for scope 1, materials for scope 3; every packaged factor can be replaced by your own."""

    grid_region: str | None = Field(
        None, description="Province, grid region ('east', ...) or 'national' for the location-"
                          "based factor; default: site.province when it has factors, else "
                          "national.")
    grid_year: int | None = Field(None, ge=2015, le=2100,
                                  description="Data year of the factors; default: the latest.")
    grid_factor_kg_per_kwh: float | None = Field(
        None, gt=0, lt=2, description="Your own location-based factor [kgCO2/kWh] instead.")
    residual_factor_kg_per_kwh: float | None = Field(
        None, gt=0, lt=2, description="Factor for imports not covered by instruments (market-"
                                      "based) [kgCO2/kWh]; default: the national factor "
                                      "excluding market-traded non-fossil electricity.")
    hourly_shape: list[Annotated[float, Field(ge=0)]] | None = Field(
        None, min_length=24, max_length=24,
        description="Relative grid intensity by hour of day 0..23; the annual factor is scaled so "
                    "that its import-weighted mean stays the official value (for analysis; China "
                    "publishes no hourly factor).")
    hourly_factor_file: str | None = Field(
        None, description="CSV of the location-based grid intensity per hour (columns "
                          "timestamp or hour_of_year, and kg_co2_per_kwh), relative to the plant "
                          "file; used as given instead of the annual factor (and hourly_shape).")
    natural_gas_kg_per_kwh: float | None = Field(
        None, gt=0, lt=1, description="Your own CO2 factor of natural gas [kgCO2/kWh LHV] (scope "
                                      "1) instead of the GB/T 32150 one (0.1999), e.g. from the "
                                      "supplier's measured carbon content.")
    purchased_heat_factor_t_per_gj: float | None = Field(
        None, ge=0, lt=1, description="CO2 factor of purchased heat or steam [tCO2/GJ] (scope 2, "
                                      "location- and market-based); default: the packaged one, "
                                      "0.11 (MEE national ETS tables).")
    green_certificates_mwh: float = Field(0, ge=0, description="GECs retired for the period "
                                                               "(1 per MWh).")
    green_contracts_mwh_by_month: dict[str, Annotated[float, Field(ge=0)]] = Field(
        default_factory=dict, description="Green-power trading delivered per month, keys "
                                          "'YYYY-MM' [MWh].")
    footprint_overhead: Literal["processing_time", "none"] = Field(
        "processing_time", description="Product footprints: allocate station and plant overhead "
                                       "(idle, standby, base loads, ...) by processing time, or "
                                       "report it as unallocated.")
    materials: dict[Id, list[Material]] = Field(
        default_factory=dict, description="Purchased materials per unit of each product (scope "
                                          "3, optional): product id -> materials.")
    process_emissions: list[ProcessEmission] = Field(
        default_factory=list, description="Process emissions (scope 1).")
    refrigerants: list[RefrigerantCharge] = Field(
        default_factory=list, description="Refrigerant charges and their leakage (scope 1).")
    evaluation: Evaluation | None = Field(None, description="Zero-carbon evaluation options.")
    onsite_attributes_retained: bool = Field(
        True, description="False if the certificates of onsite generation were sold (then it "
                          "counts at the residual factor).")

    @model_validator(mode="after")
    def _shape_not_zero(self) -> Carbon:
        if self.hourly_shape is not None and not any(self.hourly_shape):
            raise ValueError("hourly_shape is zero in every hour; expected relative intensities")
        if self.hourly_factor_file is not None and (self.hourly_shape is not None
                                                    or self.grid_factor_kg_per_kwh is not None):
            raise ValueError("give hourly_factor_file alone: it replaces the annual factor and "
                             "its hourly_shape")
        return self
