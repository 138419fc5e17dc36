"""Pydantic model of a plant's carbon accounting options (the ``carbon:`` block).

Without the block the run is still accounted: the grid factor of the site's province (or the
national one) for the latest year in ``twin/data/carbon/``, natural gas per GB/T 32150, no
certificates or contracts.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from twin.config.base import _Model


class Carbon(_Model):
    """Grid factors and market instruments for scope 2; scope 1 uses the packaged fuel factors."""

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
    onsite_attributes_retained: bool = Field(
        True, description="False if the certificates of onsite generation were sold (then it "
                          "counts at the residual factor).")

    @model_validator(mode="after")
    def _shape_not_zero(self) -> Carbon:
        if self.hourly_shape is not None and not any(self.hourly_shape):
            raise ValueError("hourly_shape is zero in every hour; expected relative intensities")
        return self
