"""Energy basis of electricity in standard coal equivalent: calorific or equal-value.

GB/T 2589 converts electricity to standard coal in two ways:

* **calorific equivalent** (当量值): the heat content of a kWh, 3.6 MJ / 29.3076 MJ/kgce =
  0.1229 kgce/kWh (``tce_coefficients.csv``);
* **equal-value** (等价值): the coal burnt to supply a kWh, the national average standard-coal
  consumption of thermal power supply of a year (供电标准煤耗, gce/kWh), e.g. 305.5 gce/kWh in 2020
  = 0.3055 kgce/kWh (``power_supply_coal.csv``, each row with its publisher and document).

A tCO2/tce indicator depends on the basis: one kWh of grid power at 0.5306 kgCO2/kWh (national
2023) is 0.5306 / 0.1229 = 4.32 tCO2/tce on the calorific basis and 0.5306 / 0.300 = 1.77 on the
equal-value basis (at 0.300 kgce/kWh). Every rule set of ``evaluation_rules.yaml`` says which
basis it uses (``energy_basis``); the evaluation shows the other basis beside it.

References
----------
GB/T 2589-2020, 综合能耗计算通则 (当量值 and 等价值 of electricity).
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from twin.carbon.factors import DATA_DIR, FactorTable, default_factors

POWER_SUPPLY_COAL_FILE = DATA_DIR / "power_supply_coal.csv"
"""National average standard-coal consumption of thermal power supply by year [gce/kWh]."""

BASES: tuple[str, ...] = ("calorific", "equal_value")
"""Energy bases of electricity: ``calorific`` (当量值) and ``equal_value`` (等价值)."""

LABELS: dict[str, str] = {
    "calorific": "calorific equivalent (当量值, GB/T 2589)",
    "equal_value": "equal-value (等价值: thermal power supply coal consumption)",
}

_COLUMNS = ("year", "value", "unit", "publisher", "document", "source_url", "seen_in", "status",
            "note")


@dataclass(frozen=True)
class SupplyCoal:
    """One year of the national average coal consumption of thermal power supply."""

    year: int
    gce_per_kwh: float
    publisher: str
    document: str
    source: str
    status: str
    note: str

    @property
    def kgce_per_kwh(self) -> float:
        """The coefficient in kgce/kWh (gce/kWh / 1000)."""
        return self.gce_per_kwh / 1000.0


@dataclass(frozen=True)
class ElectricityCoefficient:
    """The tce coefficient of electricity on one basis, with where it comes from."""

    basis: str
    kgce_per_kwh: float
    year: int | None
    source: str
    status: str
    note: str = ""

    def as_dict(self) -> dict[str, object]:
        """JSON-ready form (``energy_basis`` blocks of the evaluation)."""
        return {"basis": self.basis, "label": LABELS.get(self.basis, self.basis),
                "electricity_kgce_per_kwh": self.kgce_per_kwh, "year": self.year,
                "source": self.source, "status": self.status, "note": self.note}


@lru_cache(maxsize=4)
def load_power_supply_coal(path: str | Path = POWER_SUPPLY_COAL_FILE) -> tuple[SupplyCoal, ...]:
    """The rows of ``power_supply_coal.csv`` sorted by year.

    Raises ValueError naming the file, line and column of a bad row (missing column, a value
    that is not a positive number below 1000 gce/kWh, a unit other than gce/kWh, no publisher or
    document, a duplicate year)."""
    rows: list[SupplyCoal] = []
    with open(path, encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        missing = [c for c in _COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise ValueError(f"{path}: missing column(s) {missing}; expected {list(_COLUMNS)}")
        for line, r in enumerate(reader, start=2):
            try:
                year = int(r["year"])
                value = float(r["value"])
            except (TypeError, ValueError):
                raise ValueError(f"{path}, line {line}: year {r['year']!r} / value "
                                 f"{r['value']!r}; expected an integer year and a number "
                                 "[gce/kWh]") from None
            if not (math.isfinite(value) and 0 < value < 1000):
                raise ValueError(f"{path}, line {line}, column value: {value!r}; expected a "
                                 "number of gce/kWh between 0 and 1000")
            if r["unit"] != "gce/kWh":
                raise ValueError(f"{path}, line {line}, column unit: {r['unit']!r}; expected "
                                 "'gce/kWh'")
            if not (r["publisher"] and r["document"]):
                raise ValueError(f"{path}, line {line}: every row needs a publisher and a "
                                 "document")
            if any(x.year == year for x in rows):
                raise ValueError(f"{path}, line {line}, column year: {year} appears twice")
            rows.append(SupplyCoal(year, value, r["publisher"], r["document"], "; ".join(
                x for x in (r["source_url"], r["seen_in"]) if x), r["status"], r["note"]))
    if not rows:
        raise ValueError(f"{path}: no rows")
    return tuple(sorted(rows, key=lambda x: x.year))


def supply_coal(year: int | None = None, path: str | Path = POWER_SUPPLY_COAL_FILE
                ) -> SupplyCoal:
    """The row of ``year``, or of the latest year before it that has one (``None``: the latest
    row). Raises ValueError when no row is at or before ``year``."""
    rows = load_power_supply_coal(path)
    if year is None:
        return rows[-1]
    earlier = [r for r in rows if r.year <= year]
    if not earlier:
        raise ValueError(f"{path}: no coal consumption of thermal power supply for {year} or "
                         f"earlier; years shipped: {[r.year for r in rows]}")
    return earlier[-1]


def electricity_coefficient(basis: str, year: int | None = None, *,
                            factors: FactorTable | None = None,
                            override_kgce_per_kwh: float | None = None) -> ElectricityCoefficient:
    """The tce coefficient of electricity on ``basis`` [kgce/kWh].

    Parameters
    ----------
    basis : str
        ``calorific`` (GB/T 2589 当量值, ``tce_coefficients.csv``) or ``equal_value`` (the year's
        coal consumption of thermal power supply, ``power_supply_coal.csv``).
    year : int, optional
        Data year for the equal-value coefficient: the row of that year, else the latest row
        before it (the note says so); default the latest row.
    factors : FactorTable, optional
        For the calorific coefficient (default the packaged tables).
    override_kgce_per_kwh : float, optional
        The user's coefficient for this basis (status ``user``).

    Raises
    ------
    ValueError
        An unknown basis (the message lists the bases).
    """
    if basis not in BASES:
        raise ValueError(f"energy basis {basis!r}; expected one of {list(BASES)}")
    if override_kgce_per_kwh is not None:
        return ElectricityCoefficient(basis, float(override_kgce_per_kwh), None,
                                      "plant file or caller (electricity_kgce_per_kwh)", "user")
    if basis == "calorific":
        c = (factors or default_factors()).tce_coefficient("electricity")
        return ElectricityCoefficient(basis, c.kgce_per_unit, None,
                                      "GB/T 2589 calorific equivalent, tce_coefficients.csv",
                                      c.status)
    row = supply_coal(year)
    note = (f"no value shipped for {year}; the latest earlier year, {row.year}, is used"
            if year is not None and row.year != year else "")
    return ElectricityCoefficient(
        basis, row.kgce_per_kwh, row.year,
        f"{row.publisher}: {row.document}; {row.source} (power_supply_coal.csv)", row.status,
        note)


def co2_per_tce_of_grid_power(grid_kg_per_kwh: float, kgce_per_kwh: float) -> float:
    """tCO2/tce of electricity bought from the grid alone: grid factor [kgCO2/kWh] over the tce
    coefficient [kgce/kWh] (kg/kg = t/t)."""
    return grid_kg_per_kwh / kgce_per_kwh
