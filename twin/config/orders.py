"""Pydantic models of the file-based sources: an order book exported from an MES/ERP, and a plan
file whose quantities change day by day.

The files themselves are read when the model is built (:mod:`twin.production.order_book`), so
``twin validate`` reports their problems with the file and row through the preflight build.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import Field, field_validator

from twin.config.base import Id, _Model, known_zone

if TYPE_CHECKING:
    from twin.config.plant import Plant

Header = Annotated[str, Field(min_length=1, max_length=200)]
"""A column header of a data file, as it is written there."""


class OrderColumns(_Model):
    """Column headers of an order book, as the MES/ERP export writes them."""

    order_id: Header = Field("order_id", description="Order id (unique in the file).")
    product: Header = Field("product", description="Product id (one of the plant's products).")
    quantity: Header = Field("quantity", description="Ordered quantity [units].")
    release: Header = Field("release", description="Release time: when the order may start "
                            "(ISO date-time; without an offset: local time of `timezone`).")
    due: Header = Field("due", description="Due time of the order (as `release`).")
    priority: Header = Field("priority", description="Optional priority column (whole number, "
                             "1 = most urgent); used when the file has it.")


class OrdersSource(_Model):
    """Dated orders from an MES/ERP export: each order is released at its release time as
    ceil(quantity / units_per_lot) lots that carry its id (lots.parquet ``order``) and its due time
    (due-date KPIs). Orders released before the run starts are released at the start (the open
    order book); orders released at or after its end are not released."""

    id: Id
    kind: Literal["orders"]
    file: str = Field(min_length=1, description="CSV, Parquet or XLSX order book, relative to "
                      "the plant file.")
    sheet: str | None = Field(None, description="XLSX sheet name or index; default: the first.")
    separator: Literal[",", ";", "\t", "|"] = Field(",", description="CSV field separator.")
    columns: OrderColumns = Field(default_factory=OrderColumns,
                                  description="Column headers, when the export names them "
                                  "otherwise, e.g. {order_id: 订单号, quantity: 数量}.")
    timezone: str | None = Field(None, description="IANA zone of times written without an "
                                 "offset; default: the site's. Times with an offset keep it.")

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, v: str | None) -> str | None:
        return known_zone(v)


class PlanFileColumns(_Model):
    """Column headers of a plan file."""

    date: Header = Field("date", description="Production day (YYYY-MM-DD).")
    product: Header = Field("product", description="Product id.")
    quantity: Header = Field("quantity", description="Units planned that day [units].")


class PlanFileSource(_Model):
    """A production plan that changes day by day, one row per day and product: the day's units
    are released at the start of the first shift of that day (local midnight without a
    calendar; on a day without shifts, at the start of the next shift), rounded up to whole lots
    with the rounding carried over per product, as a ``plan`` source does."""

    id: Id
    kind: Literal["plan_file"]
    file: str = Field(min_length=1, description="CSV, Parquet or XLSX plan, relative to the "
                      "plant file.")
    sheet: str | None = Field(None, description="XLSX sheet name or index; default: the first.")
    separator: Literal[",", ";", "\t", "|"] = Field(",", description="CSV field separator.")
    columns: PlanFileColumns = Field(default_factory=PlanFileColumns,
                                     description="Column headers, when the file names them "
                                     "otherwise.")
    sequence: Literal["batched", "mixed"] = Field(
        "batched", description="Release all lots of one product, then the next; or interleave "
        "them.")
    due_h: float | None = Field(
        None, gt=0, description="Due date of each day's lots, this many hours after their "
        "release [h]; overrides the products' due_h.")


def resolve_source_files(plant: Plant, base: Path) -> Plant:
    """``plant`` with the relative ``file`` of its order-book and plan-file sources made
    relative to ``base`` (the plant file's folder)."""
    sources = list(plant.sources)
    changed = False
    for k, src in enumerate(sources):
        if isinstance(src, (OrdersSource, PlanFileSource)) and not Path(src.file).is_absolute():
            sources[k] = src.model_copy(update={"file": str(base / src.file)})
            changed = True
    return plant.model_copy(update={"sources": sources}) if changed else plant
