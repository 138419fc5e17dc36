"""Emission factors, standard-coal coefficients and GWPs: loading, lookup, overrides, hourly shape.

The packaged tables live in ``twin/data/carbon/`` (see its README): one row per number, each with
its value, unit, data year, document, where it was seen and a status.

- ``grid_factors.csv``: China's grid CO2 factors [kgCO2/kWh] published by MEE/NBS for the data years
  2021-2023: national (location-based average, the average *excluding market-traded non-fossil
  electricity* used as the residual factor of the market-based method, and the fossil-power
  factor), the seven regional grids and 30 provinces (2021-2022; the 2023 provincial numbers
  were not found), plus two national ETS reporting factors.
- ``fuel_parameters.csv``: net calorific value (NCV), carbon content per unit of heat and oxidation
  rate of fuels (GB/T 32150-2015 style defaults); the CO2 factor is computed from them as
  ``NCV x C x OF x 44/12`` [1]_.
- ``tce_coefficients.csv``: GB/T 2589 coefficients to standard coal equivalent [kgce per unit] [2]_.
- ``heat_factors.csv``: purchased heat and steam, 0.11 tCO2/GJ; recovered waste heat, 0.
- ``gwp.csv``: 100-year global warming potentials by IPCC assessment report (AR4, AR5, AR6).

Status
------
``S`` seen in the source cited by the research note; ``S2`` seen only in a secondary source;
``U`` unverified; ``def`` true by definition; ``user`` given by the user (an override).
**A factor with status U is never used silently**: a lookup raises ``ValueError`` unless the
caller passes ``allow_unverified=True`` or supplies the value with one of the ``with_*`` methods
(which records it with status ``user``).

Overrides
---------
:class:`FactorTable` is immutable. ``with_grid_factor``, ``with_fuel``, ``with_tce_coefficient``,
``with_heat_factor`` and ``with_gwp`` return a new table in which the given number replaces (or
adds to) the packaged one, with status ``user``. To replace whole tables, copy the five CSV files
to a folder, edit them and call ``load_factors(folder)``.

Hourly grid intensity
---------------------
China publishes annual grid factors only. :func:`hourly_grid_factor` scales the annual factor by a
daily (or full-length) shape so that its load-weighted mean over the period equals the annual
value; :func:`read_hourly_factor_csv` reads a user-supplied hourly intensity series instead.

References
----------
.. [1] GB/T 32150-2015, 工业企业温室气体排放核算和报告通则 (fuel combustion: activity x NCV x
   carbon content x oxidation rate x 44/12).
.. [2] GB/T 2589-2020, 综合能耗计算通则 (conversion to standard coal equivalent).
.. [3] MEE/NBS announcements of the 2021, 2022 and 2023 electricity CO2 emission factors
   (公告2024年第12号 for 2021), as collected in ``shared/research/zero_carbon_domain.md`` §3.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import lru_cache, wraps
from pathlib import Path

import numpy as np
import pandas as pd

from twin.safety import MAX_DATA_FILE_BYTES, file_problem

DATA_DIR = Path(__file__).resolve().parent.parent / "data" / "carbon"
"""Folder of the packaged factor tables."""

FILES: dict[str, str] = {
    "grid": "grid_factors.csv",
    "fuel": "fuel_parameters.csv",
    "tce": "tce_coefficients.csv",
    "heat": "heat_factors.csv",
    "gwp": "gwp.csv",
}
"""Table name -> file name inside a factor folder."""

STATUSES: tuple[str, ...] = ("S", "S2", "U", "def", "user")
"""Allowed statuses, see the module docstring. Only ``U`` is refused by default."""

GRID_KINDS: tuple[str, ...] = ("location", "residual", "fossil", "ets")
"""``location``: grid average; ``residual``: national average excluding market-traded non-fossil
electricity (the residual factor of the market-based method); ``fossil``: fossil-fired power
only; ``ets``: factors fixed by national ETS reporting notices."""

REPORTS: tuple[str, ...] = ("AR4", "AR5", "AR6")
"""IPCC assessment reports with GWP-100 values in ``gwp.csv``."""

KWH_PER_MJ = 1.0 / 3.6
"""Energy conversion [kWh/MJ] (exact)."""

C_TO_CO2 = 44.0 / 12.0
"""Mass ratio CO2/C (molar masses 44 and 12, as in GB/T 32150)."""

_KEYS: dict[str, tuple[str, ...]] = {
    "grid": ("region", "kind", "year"),
    "fuel": ("fuel", "parameter"),
    "tce": ("carrier",),
    "heat": ("kind",),
    "gwp": ("gas", "report"),
}
_COLUMNS: dict[str, tuple[str, ...]] = {
    "grid": ("level", "region", "region_zh", "kind", "year", "value", "unit", "published",
             "document", "source_url", "seen_in", "status", "note"),
    "fuel": ("fuel", "fuel_zh", "parameter", "value", "unit", "year", "document", "source_url",
             "seen_in", "status", "note"),
    "tce": ("carrier", "carrier_zh", "value", "unit", "year", "document", "source_url", "seen_in",
            "status", "note"),
    "heat": ("kind", "value", "unit", "year", "document", "source_url", "seen_in", "status",
             "note"),
    "gwp": ("gas", "report", "horizon_years", "value", "unit", "year", "document", "source_url",
            "seen_in", "status", "note"),
}
_UNITS: dict[str, frozenset[str]] = {
    "grid": frozenset({"kgCO2/kWh"}),
    "fuel": frozenset({"kJ/kg", "kJ/m3", "MJ/kg", "MJ/m3", "GJ/t", "GJ/10^4 Nm3", "tC/TJ", "tC/GJ",
                       "1", "%", "kgCO2/kg", "kgCO2/m3"}),
    "tce": frozenset({"kgce/kWh", "kgce/kg", "kgce/m3", "kgce/MJ", "kgce/GJ", "kgce/t"}),
    "heat": frozenset({"tCO2/GJ"}),
    "gwp": frozenset({"kgCO2e/kg"}),
}
_FUEL_PARAMETERS = ("ncv", "carbon_content", "oxidation_rate", "ef_published")

# NCV unit -> (natural unit of the fuel, factor to MJ per natural unit)
_NCV_UNITS: dict[str, tuple[str, float]] = {
    "kJ/kg": ("kg", 1e-3), "MJ/kg": ("kg", 1.0), "GJ/t": ("kg", 1.0),
    "kJ/m3": ("m3", 1e-3), "MJ/m3": ("m3", 1.0), "GJ/10^4 Nm3": ("m3", 0.1),
}
_CARBON_UNITS: dict[str, float] = {"tC/TJ": 1.0, "tC/GJ": 1000.0}  # -> tC/TJ
_OXIDATION_UNITS: dict[str, float] = {"1": 1.0, "%": 0.01}  # -> fraction

_REGION_ALIASES: dict[str, str] = {
    "china": "national", "cn": "national", "nation": "national", "national_grid": "national",
    "north_china": "north", "northeast_china": "northeast", "east_china": "east",
    "central_china": "central", "northwest_china": "northwest", "southwest_china": "southwest",
    "southern": "south", "china_southern": "south", "china_southern_grid": "south",
    "innermongolia": "inner_mongolia", "nei_mongol": "inner_mongolia",
}
_ZH_SUFFIXES = ("区域电网", "维吾尔自治区", "壮族自治区", "回族自治区", "自治区", "电网",
                "省", "市")

# ASHRAE refrigerant numbers -> gas names of gwp.csv (naming only; the numbers are in the CSV)
_REFRIGERANT_NAMES: dict[str, str] = {
    "R23": "HFC-23", "R32": "HFC-32", "R125": "HFC-125", "R134A": "HFC-134a",
    "R143A": "HFC-143a", "R152A": "HFC-152a", "R227EA": "HFC-227ea", "R236FA": "HFC-236fa",
    "R245FA": "HFC-245fa", "R365MFC": "HFC-365mfc", "R22": "HCFC-22", "R141B": "HCFC-141b",
    "R142B": "HCFC-142b", "R744": "CO2", "R14": "CF4", "R116": "C2F6",
}
_HELP_UNVERIFIED = (
    "confirm it against the official document and pass it explicitly (FactorTable.with_...), "
    "or call with allow_unverified=True"
)


# --------------------------------------------------------------------------------------------
# Result records
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Factor:
    """One number with its provenance.

    Attributes
    ----------
    value : float
        The number, in ``unit``.
    unit : str
        For example ``kgCO2/kWh``.
    year : int
        Data year (grid factors) or the year of the cited document (constants).
    status : str
        One of :data:`STATUSES`.
    document : str
        Document title or number.
    source : str
        URL and/or where it was seen.
    """

    value: float
    unit: str
    year: int
    status: str
    document: str
    source: str


@dataclass(frozen=True)
class FuelFactor:
    """CO2 factor of a fuel, computed as ``NCV x C x OF x 44/12`` (GB/T 32150).

    Attributes
    ----------
    fuel : str
        Fuel key, e.g. ``natural_gas``.
    natural_unit : str
        ``kg`` (solid and liquid fuels) or ``m3`` (gaseous fuels, standard cubic metres).
    ncv_mj_per_unit : float
        Net calorific value [MJ per natural unit].
    carbon_content_tc_per_tj : float
        Carbon content per unit of heat [tC/TJ] (= kgC/GJ).
    oxidation_rate : float
        Fraction of carbon oxidised [-].
    status : str
        Status of the three parameters taken together: the first of ``U``, ``user``,
        ``S2``, ``S``, ``def`` that occurs.
    sources : tuple of str
        Documents of the parameters.
    """

    fuel: str
    natural_unit: str
    ncv_mj_per_unit: float
    carbon_content_tc_per_tj: float
    oxidation_rate: float
    status: str
    sources: tuple[str, ...]

    @property
    def kg_co2_per_gj(self) -> float:
        """CO2 per unit of heat by LHV [kgCO2/GJ] = C [kgC/GJ] x OF x 44/12."""
        return self.carbon_content_tc_per_tj * self.oxidation_rate * C_TO_CO2

    @property
    def kg_co2_per_kwh(self) -> float:
        """CO2 per kWh of fuel energy by LHV [kgCO2/kWh] (1 kWh = 0.0036 GJ)."""
        return self.kg_co2_per_gj * 0.0036

    @property
    def kg_co2_per_unit(self) -> float:
        """CO2 per natural unit [kgCO2/kg or kgCO2/m3] = NCV [GJ/unit] x kgCO2/GJ."""
        return self.kg_co2_per_gj * self.ncv_mj_per_unit / 1000.0

    @property
    def kwh_per_unit(self) -> float:
        """Fuel energy by LHV per natural unit [kWh/kg or kWh/m3]."""
        return self.ncv_mj_per_unit * KWH_PER_MJ


@dataclass(frozen=True)
class TceCoefficient:
    """A GB/T 2589 coefficient to standard coal equivalent.

    Attributes
    ----------
    carrier : str
        Energy carrier key, e.g. ``electricity``.
    kgce_per_unit : float
        Coefficient [kgce per ``per_unit``].
    per_unit : str
        Natural unit of the carrier: ``kWh``, ``kg``, ``m3``, ``MJ``, ``GJ`` or ``t``.
    status, document, year
        Provenance, as in :class:`Factor`.
    """

    carrier: str
    kgce_per_unit: float
    per_unit: str
    status: str
    document: str
    year: int

    @property
    def unit(self) -> str:
        """The coefficient's unit, e.g. ``kgce/kWh``."""
        return f"kgce/{self.per_unit}"


# --------------------------------------------------------------------------------------------
# Loading and validation
# --------------------------------------------------------------------------------------------

def _read_table(path: Path, name: str) -> pd.DataFrame:
    """Read one factor CSV and check every row; errors name the file and line (header = 1)."""
    if not path.is_file():
        raise ValueError(f"factor table {name!r} not found: {path}")
    df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    missing = [c for c in _COLUMNS[name] if c not in df.columns]
    if missing:
        raise ValueError(f"{path.name}: missing columns {missing}; expected {list(_COLUMNS[name])}")
    values, years = [], []
    for i, row in df.iterrows():
        where = f"{path.name} line {int(i) + 2}"
        status = row["status"].strip()
        if status not in STATUSES:
            raise ValueError(f"{where}: status {status!r} is not one of {list(STATUSES)}")
        text = row["value"].strip()
        if text == "":
            if status != "U":
                raise ValueError(f"{where}: empty value (allowed only with status U)")
            values.append(np.nan)
        else:
            try:
                v = float(text)
            except ValueError:
                raise ValueError(f"{where}: value {text!r} is not a number") from None
            if not np.isfinite(v) or v < 0:
                raise ValueError(f"{where}: value {v!r} must be finite and >= 0")
            values.append(v)
        try:
            years.append(int(row["year"]))
        except ValueError:
            raise ValueError(f"{where}: year {row['year']!r} is not an integer") from None
        if row["unit"] not in _UNITS[name]:
            raise ValueError(f"{where}: unit {row['unit']!r} is not one of "
                             f"{sorted(_UNITS[name])}")
        if not row["document"].strip():
            raise ValueError(f"{where}: empty document")
        if status != "def" and not (row["source_url"].strip() or row["seen_in"].strip()):
            raise ValueError(f"{where}: give source_url or seen_in (where the number was seen)")
    df["value"] = np.array(values, dtype=float)
    df["year"] = np.array(years, dtype=int)
    if name == "grid":
        bad = sorted(set(df["kind"]) - set(GRID_KINDS))
        if bad:
            raise ValueError(f"{path.name}: unknown kind(s) {bad}; expected {list(GRID_KINDS)}")
    if name == "gwp":
        bad = sorted(set(df["report"]) - set(REPORTS))
        if bad:
            raise ValueError(f"{path.name}: unknown report(s) {bad}; expected {list(REPORTS)}")
    if name == "fuel":
        bad = sorted(set(df["parameter"]) - set(_FUEL_PARAMETERS))
        if bad:
            raise ValueError(f"{path.name}: unknown parameter(s) {bad}; "
                             f"expected {list(_FUEL_PARAMETERS)}")
    dup = df.duplicated(list(_KEYS[name]), keep=False)
    if dup.any():
        lines = [int(i) + 2 for i in df.index[dup]]
        raise ValueError(f"{path.name}: duplicate rows for the same {list(_KEYS[name])} "
                         f"at lines {lines}")
    return df


def load_factors(data_dir: str | Path | None = None) -> FactorTable:
    """Load and check the five factor tables.

    Parameters
    ----------
    data_dir : str or Path, optional
        Folder holding ``grid_factors.csv``, ``fuel_parameters.csv``, ``tce_coefficients.csv``,
        ``heat_factors.csv`` and ``gwp.csv``. Default: the packaged tables (:data:`DATA_DIR`).

    Returns
    -------
    FactorTable

    Raises
    ------
    ValueError
        A file or column is missing, or a row is malformed (the message names the file and line).
    """
    folder = Path(data_dir) if data_dir is not None else DATA_DIR
    tables = {name: _read_table(folder / fname, name) for name, fname in FILES.items()}
    return FactorTable(grid_rows=tables["grid"], fuel_rows=tables["fuel"],
                       tce_rows=tables["tce"], heat_rows=tables["heat"],
                       gwp_rows=tables["gwp"], data_dir=folder)


@lru_cache(maxsize=1)
def default_factors() -> FactorTable:
    """The packaged tables, loaded once."""
    return load_factors()


def _source(row: pd.Series) -> str:
    return "; ".join(s for s in (row["source_url"], row["seen_in"]) if s)


def _status_rank(status: str) -> int:
    return {"def": 0, "S": 1, "S2": 2, "user": 3, "U": 4}[status]


def _norm_gas(name: str) -> str:
    return "".join(ch for ch in str(name).upper() if ch not in "-_ ")


# --------------------------------------------------------------------------------------------
# The factor table
# --------------------------------------------------------------------------------------------

def _memoised(method):
    """Remember a lookup's answer per table and arguments. The tables are read-only (a
    ``with_*`` method makes a new table, with an empty memory), so an answer never goes stale;
    errors are not remembered. A run asked the same grid, fuel and tce questions up to seven
    times, each a pandas filter of 0.5-3 ms; the runs of a study in one process share the
    answers."""

    @wraps(method)
    def lookup(self, *args, **kwargs):
        key = (method.__name__, args, tuple(sorted(kwargs.items())))
        memo = self._memo
        if key not in memo:
            memo[key] = method(self, *args, **kwargs)
        return memo[key]

    return lookup


@dataclass(frozen=True, eq=False)
class FactorTable:
    """The factor tables with checked lookups. Build with :func:`load_factors`.

    The ``*_rows`` DataFrames are the CSV rows (``value`` as float, ``year`` as int); treat them
    as read-only and use the ``with_*`` methods to change a number.
    """

    grid_rows: pd.DataFrame
    fuel_rows: pd.DataFrame
    tce_rows: pd.DataFrame
    heat_rows: pd.DataFrame
    gwp_rows: pd.DataFrame
    data_dir: Path | None = None
    _memo: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    # ---------------------------------------------------------------- grid

    def grid_regions(self, kind: str | None = None) -> list[str]:
        """Region keys (``national``, the seven regional grids, provinces), optionally by kind."""
        rows = self.grid_rows if kind is None else self.grid_rows[self.grid_rows["kind"] == kind]
        return list(dict.fromkeys(rows["region"]))

    @_memoised
    def _region_key(self, region: str) -> str:
        text = str(region).strip()
        key = text.lower().replace("-", "_").replace(" ", "_")
        key = _REGION_ALIASES.get(key, key)
        known = self.grid_rows["region"]
        if (known == key).any():
            return key
        zh = text
        for suffix in _ZH_SUFFIXES:
            if zh.endswith(suffix) and len(zh) > len(suffix):
                zh = zh[: -len(suffix)]
                break
        hit = self.grid_rows.loc[self.grid_rows["region_zh"] == zh, "region"]
        if len(hit):
            return str(hit.iloc[0])
        levels = {lvl: list(dict.fromkeys(g["region"]))
                  for lvl, g in self.grid_rows.groupby("level", sort=False)}
        listing = "; ".join(f"{lvl}: {', '.join(names)}" for lvl, names in levels.items())
        raise ValueError(f"unknown grid region {region!r}. Known ({listing}). Chinese names "
                         "(江苏, 江苏省, 华东电网) are accepted too; add a region with "
                         "FactorTable.with_grid_factor")

    def grid_years(self, region: str, kind: str = "location") -> list[int]:
        """Data years available for ``region`` and ``kind``."""
        return list(self._grid_years(region, kind))

    @_memoised
    def _grid_years(self, region: str, kind: str) -> tuple[int, ...]:
        key = self._region_key(region)
        g = self.grid_rows
        return tuple(sorted(int(y) for y in g.loc[(g["region"] == key) & (g["kind"] == kind),
                                                  "year"]))

    @_memoised
    def grid_factor_info(self, region: str, year: int, kind: str = "location", *,
                         allow_unverified: bool = False) -> Factor:
        """Grid factor with provenance; see :meth:`grid_factor`."""
        if kind not in GRID_KINDS:
            raise ValueError(f"unknown grid factor kind {kind!r}; expected one of "
                             f"{list(GRID_KINDS)}")
        key = self._region_key(region)
        g = self.grid_rows
        here = g[g["region"] == key]
        of_kind = here[here["kind"] == kind]
        if of_kind.empty:
            kinds = list(dict.fromkeys(here["kind"]))
            hint = (" Residual, fossil and ETS factors are published for the national grid only:"
                    " use region='national'.") if kind != "location" else ""
            raise ValueError(f"no {kind!r} grid factor for {key!r}; kinds available there: "
                             f"{kinds}.{hint}")
        hit = of_kind[of_kind["year"] == int(year)]
        if hit.empty:
            years = sorted(int(y) for y in of_kind["year"])
            raise ValueError(
                f"no {kind!r} grid factor for {key!r} in data year {year}; years available: "
                f"{years}. (Reporting year Y usually uses the latest published factor; pass a "
                "newer one with FactorTable.with_grid_factor.)")
        row = hit.iloc[0]
        self._check_status(row, f"the {kind!r} grid factor for {key!r} {int(year)}",
                           allow_unverified)
        return Factor(float(row["value"]), row["unit"], int(row["year"]), row["status"],
                      row["document"], _source(row))

    def grid_factor(self, region: str, year: int, kind: str = "location", *,
                    allow_unverified: bool = False) -> float:
        """Annual grid CO2 factor [kgCO2/kWh].

        Parameters
        ----------
        region : str
            ``national`` (also ``china``, ``全国``), a regional grid (``north``, ``northeast``,
            ``east``, ``central``, ``northwest``, ``south``, ``southwest`` or 华北...南方) or a
            province (``jiangsu``, ``江苏``, ``江苏省``, ``inner_mongolia``...).
        year : int
            Data year (the year the factor describes, not the year of publication).
        kind : {'location', 'residual', 'fossil', 'ets'}
            See :data:`GRID_KINDS`. ``residual`` and ``fossil`` exist for ``national`` only.
        allow_unverified : bool, default False
            Return a factor with status ``U`` instead of raising.

        Raises
        ------
        ValueError
            Unknown region (lists the known ones), kind or year (lists the available years), or
            a status-U factor without ``allow_unverified``.
        """
        return self.grid_factor_info(region, year, kind, allow_unverified=allow_unverified).value

    # ---------------------------------------------------------------- fuels

    def fuels(self) -> list[str]:
        """Fuel keys with NCV, carbon content and oxidation rate."""
        return list(dict.fromkeys(self.fuel_rows["fuel"]))

    @_memoised
    def fuel_factor(self, fuel: str, *, allow_unverified: bool = False) -> FuelFactor:
        """CO2 factor of a fuel from its NCV, carbon content and oxidation rate.

        Parameters
        ----------
        fuel : str
            Fuel key (``natural_gas``, ``diesel``, ``lpg``, ``raw_coal``, ``fuel_oil``, ...) or
            its Chinese name (天然气, 柴油...).
        allow_unverified : bool, default False
            Accept parameters with status ``U``.

        Returns
        -------
        FuelFactor
            ``kg_co2_per_kwh`` [kgCO2/kWh LHV], ``kg_co2_per_unit`` [kgCO2/kg or /m3],
            ``ncv_mj_per_unit`` and the parameters.
        """
        key = self._fuel_key(fuel)
        rows = self.fuel_rows[self.fuel_rows["fuel"] == key].set_index("parameter")
        need = [p for p in ("ncv", "carbon_content", "oxidation_rate") if p not in rows.index]
        if need:
            raise ValueError(f"fuel {key!r} lacks {need}; give them with FactorTable.with_fuel")
        for p in ("ncv", "carbon_content", "oxidation_rate"):
            self._check_status(rows.loc[p], f"the {p} of fuel {key!r}", allow_unverified)
        ncv_unit = rows.loc["ncv", "unit"]
        if ncv_unit not in _NCV_UNITS:
            raise ValueError(f"fuel {key!r}: NCV unit {ncv_unit!r} is not one of "
                             f"{sorted(_NCV_UNITS)}")
        cc_unit = rows.loc["carbon_content", "unit"]
        of_unit = rows.loc["oxidation_rate", "unit"]
        if cc_unit not in _CARBON_UNITS or of_unit not in _OXIDATION_UNITS:
            raise ValueError(f"fuel {key!r}: carbon content unit {cc_unit!r} must be one of "
                             f"{sorted(_CARBON_UNITS)} and oxidation unit {of_unit!r} one of "
                             f"{sorted(_OXIDATION_UNITS)}")
        natural, to_mj = _NCV_UNITS[ncv_unit]
        oxidation = float(rows.loc["oxidation_rate", "value"]) * _OXIDATION_UNITS[of_unit]
        if not 0 < oxidation <= 1:
            raise ValueError(f"fuel {key!r}: oxidation rate {oxidation} must be in (0, 1]")
        used = rows.loc[["ncv", "carbon_content", "oxidation_rate"]]
        status = max(used["status"], key=_status_rank)
        return FuelFactor(
            fuel=key, natural_unit=natural,
            ncv_mj_per_unit=float(rows.loc["ncv", "value"]) * to_mj,
            carbon_content_tc_per_tj=float(rows.loc["carbon_content", "value"])
            * _CARBON_UNITS[cc_unit],
            oxidation_rate=oxidation, status=str(status),
            sources=tuple(dict.fromkeys(used["document"])))

    @_memoised
    def _fuel_key(self, fuel: str) -> str:
        key = str(fuel).strip().lower().replace("-", "_").replace(" ", "_")
        f = self.fuel_rows
        if (f["fuel"] == key).any():
            return key
        hit = f.loc[f["fuel_zh"] == str(fuel).strip(), "fuel"]
        if len(hit):
            return str(hit.iloc[0])
        raise ValueError(f"unknown fuel {fuel!r}; known: {self.fuels()}. Add one with "
                         "FactorTable.with_fuel(name, ncv=..., ncv_unit=..., carbon_content=..., "
                         "oxidation_rate=...)")

    # ---------------------------------------------------------------- heat

    @_memoised
    def heat_factor(self, kind: str = "purchased_heat", *,
                    allow_unverified: bool = False) -> float:
        """CO2 factor of purchased heat or steam [tCO2/GJ] (0.11 by default; 0 for recovered
        waste heat, ``kind='waste_heat_recovered'``). Multiply by 0.0036 GJ/kWh and 1000 kg/t
        for kgCO2 per kWh of heat (0.396 for 0.11)."""
        h = self.heat_rows
        hit = h[h["kind"] == kind]
        if hit.empty:
            raise ValueError(f"unknown heat factor kind {kind!r}; known: {list(h['kind'])}")
        row = hit.iloc[0]
        self._check_status(row, f"the heat factor {kind!r}", allow_unverified)
        return float(row["value"])

    # ---------------------------------------------------------------- tce

    def carriers(self) -> list[str]:
        """Carriers with a standard-coal coefficient."""
        return list(self.tce_rows["carrier"])

    @_memoised
    def tce_coefficient(self, carrier: str, *, allow_unverified: bool = False) -> TceCoefficient:
        """GB/T 2589 coefficient to standard coal equivalent [kgce per natural unit].

        Parameters
        ----------
        carrier : str
            ``electricity`` (calorific equivalent, 当量值, kgce/kWh), ``heat`` (kgce/MJ),
            ``natural_gas`` (kgce/m3), ``diesel``, ``lpg``, ``raw_coal``, ``fuel_oil`` ...
            (kgce/kg), or the Chinese name.
        """
        t = self.tce_rows
        key = str(carrier).strip().lower().replace("-", "_").replace(" ", "_")
        hit = t[t["carrier"] == key]
        if hit.empty:
            hit = t[t["carrier_zh"] == str(carrier).strip()]
        if hit.empty:
            raise ValueError(f"no standard-coal coefficient for {carrier!r}; known: "
                             f"{self.carriers()}. Add one with FactorTable.with_tce_coefficient")
        row = hit.iloc[0]
        self._check_status(row, f"the tce coefficient of {row['carrier']!r}", allow_unverified)
        return TceCoefficient(str(row["carrier"]), float(row["value"]),
                              row["unit"].split("/", 1)[1], row["status"], row["document"],
                              int(row["year"]))

    # ---------------------------------------------------------------- GWP

    def gases(self, report: str | None = None) -> list[str]:
        """Gas names with a GWP (optionally for one report)."""
        g = self.gwp_rows if report is None else self.gwp_rows[self.gwp_rows["report"] == report]
        return list(dict.fromkeys(g["gas"]))

    def _gas_key(self, gas: str) -> str:
        norm = _norm_gas(gas)
        if norm.startswith("R") and norm in _REFRIGERANT_NAMES:
            norm = _norm_gas(_REFRIGERANT_NAMES[norm])
        for name in self.gases():
            if _norm_gas(name) == norm:
                return name
        raise ValueError(
            f"no GWP for {gas!r}; known gases: {self.gases()} (refrigerant numbers such as "
            "R-134a and R-32 are accepted). For a blend such as R-410A pass its mass fractions "
            "to blend_gwp / Refrigerant(gas={...}); add a gas with FactorTable.with_gwp")

    def gwp(self, gas: str, report: str, *, allow_unverified: bool = False) -> float:
        """100-year global warming potential [kgCO2e/kg] of ``gas`` in ``report``.

        Parameters
        ----------
        gas : str
            ``CH4``, ``N2O``, ``SF6``, ``HFC-134a`` (or ``R-134a``, ``R134a``), ``HCFC-22``...
            ``CH4-fossil`` exists for AR6 only.
        report : {'AR4', 'AR5', 'AR6'}
            The IPCC assessment report. There is no default: inventories must name it.
        """
        if report not in REPORTS:
            raise ValueError(f"unknown assessment report {report!r}; expected one of "
                             f"{list(REPORTS)}")
        name = self._gas_key(gas)
        g = self.gwp_rows
        hit = g[(g["gas"] == name) & (g["report"] == report)]
        if hit.empty:
            have = list(g.loc[g["gas"] == name, "report"])
            raise ValueError(f"no {report} GWP for {name!r}; reports available: {have}")
        row = hit.iloc[0]
        self._check_status(row, f"the {report} GWP of {name!r}", allow_unverified)
        return float(row["value"])

    def blend_gwp(self, composition: Mapping[str, float], report: str, *,
                  allow_unverified: bool = False) -> float:
        """GWP of a blend [kgCO2e/kg] = sum of mass fraction x GWP of each component.

        Parameters
        ----------
        composition : mapping of str to float
            Component gas -> mass fraction [-]; the fractions must sum to 1 (within 1e-6).
            For example R-410A is ``{"HFC-32": 0.5, "HFC-125": 0.5}`` (ASHRAE 34 designation).
        report : {'AR4', 'AR5', 'AR6'}
        """
        fractions = {k: float(v) for k, v in composition.items()}
        if not fractions or any(v < 0 for v in fractions.values()):
            raise ValueError(f"blend composition {composition!r} needs non-negative fractions")
        total = sum(fractions.values())
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"blend mass fractions sum to {total}, not 1: {composition!r}")
        return float(sum(w * self.gwp(gas, report, allow_unverified=allow_unverified)
                         for gas, w in fractions.items()))

    # ---------------------------------------------------------------- overrides

    def _with_row(self, table: str, key: Mapping[str, object], row: dict) -> FactorTable:
        attr = f"{table}_rows"
        df: pd.DataFrame = getattr(self, attr)
        mask = np.ones(len(df), dtype=bool)
        for col, val in key.items():
            mask &= (df[col] == val).to_numpy()
        base = {c: "" for c in df.columns}
        if mask.any():
            base.update(df[mask].iloc[0].to_dict())
        base.update(row)
        base.update({"status": "user", "year": int(base["year"] or 0)})
        new = pd.concat([df[~mask], pd.DataFrame([base], columns=df.columns)], ignore_index=True)
        new["value"] = new["value"].astype(float)
        new["year"] = new["year"].astype(int)
        return replace(self, **{attr: new})

    def with_grid_factor(self, region: str, year: int, value_kg_per_kwh: float,
                         kind: str = "location", *, document: str = "user override",
                         region_zh: str = "") -> FactorTable:
        """New table with a grid factor [kgCO2/kWh] set (status ``user``). ``region`` may be a
        known region or a new key (level ``user``)."""
        if kind not in GRID_KINDS:
            raise ValueError(f"unknown grid factor kind {kind!r}; expected {list(GRID_KINDS)}")
        _check_value(value_kg_per_kwh, "grid factor")
        try:
            key = self._region_key(region)
            existing = self.grid_rows[self.grid_rows["region"] == key].iloc[0]
            level, zh = existing["level"], existing["region_zh"]
        except ValueError:
            key = str(region).strip().lower().replace("-", "_").replace(" ", "_")
            level, zh = "user", region_zh
        return self._with_row(
            "grid", {"region": key, "kind": kind, "year": int(year)},
            {"level": level, "region": key, "region_zh": zh, "kind": kind, "year": int(year),
             "value": float(value_kg_per_kwh), "unit": "kgCO2/kWh", "published": "",
             "document": document, "source_url": "", "seen_in": "user", "note": ""})

    def with_fuel(self, fuel: str, *, ncv: float | None = None, ncv_unit: str | None = None,
                  carbon_content: float | None = None, carbon_content_unit: str = "tC/TJ",
                  oxidation_rate: float | None = None, year: int = 0,
                  document: str = "user override", fuel_zh: str = "") -> FactorTable:
        """New table with fuel parameters replaced or a fuel added (status ``user``).

        Parameters
        ----------
        ncv, ncv_unit : float, str
            Net calorific value and its unit: ``kJ/kg``, ``MJ/kg``, ``GJ/t``, ``kJ/m3``, ``MJ/m3``
            or ``GJ/10^4 Nm3``. Give both or neither.
        carbon_content, carbon_content_unit : float, str
            Carbon content per unit of heat, ``tC/TJ`` (default) or ``tC/GJ``.
        oxidation_rate : float
            Fraction in (0, 1].
        """
        if (ncv is None) != (ncv_unit is None):
            raise ValueError("give ncv and ncv_unit together")
        if ncv_unit is not None and ncv_unit not in _NCV_UNITS:
            raise ValueError(f"ncv_unit {ncv_unit!r} is not one of {sorted(_NCV_UNITS)}")
        if carbon_content_unit not in _CARBON_UNITS:
            raise ValueError(f"carbon_content_unit {carbon_content_unit!r} is not one of "
                             f"{sorted(_CARBON_UNITS)}")
        try:
            key = self._fuel_key(fuel)
        except ValueError:
            key = str(fuel).strip().lower().replace("-", "_").replace(" ", "_")
        zh_known = self.fuel_rows.loc[self.fuel_rows["fuel"] == key, "fuel_zh"]
        zh = zh_known.iloc[0] if len(zh_known) else fuel_zh
        out = self
        for par, val, unit in (("ncv", ncv, ncv_unit),
                               ("carbon_content", carbon_content, carbon_content_unit),
                               ("oxidation_rate", oxidation_rate, "1")):
            if val is None:
                continue
            _check_value(val, par)
            out = out._with_row("fuel", {"fuel": key, "parameter": par},
                                {"fuel": key, "fuel_zh": zh, "parameter": par,
                                 "value": float(val), "unit": unit, "year": year,
                                 "document": document, "source_url": "", "seen_in": "user",
                                 "note": ""})
        if out is not self:
            # a published EF of the old parameters no longer applies
            rows = out.fuel_rows
            drop = (rows["fuel"] == key) & (rows["parameter"] == "ef_published")
            out = replace(out, fuel_rows=rows[~drop].reset_index(drop=True))
        return out

    def with_tce_coefficient(self, carrier: str, value: float, unit: str, *, year: int = 0,
                             document: str = "user override") -> FactorTable:
        """New table with a standard-coal coefficient set, e.g. ``("electricity", 0.3,
        "kgce/kWh")`` for an equal-value basis (status ``user``)."""
        if unit not in _UNITS["tce"]:
            raise ValueError(f"unit {unit!r} is not one of {sorted(_UNITS['tce'])}")
        _check_value(value, "tce coefficient")
        key = str(carrier).strip().lower().replace("-", "_").replace(" ", "_")
        return self._with_row("tce", {"carrier": key},
                              {"carrier": key, "value": float(value), "unit": unit, "year": year,
                               "document": document, "source_url": "", "seen_in": "user",
                               "note": ""})

    def with_heat_factor(self, value_t_co2_per_gj: float, kind: str = "purchased_heat", *,
                         year: int = 0, document: str = "user override") -> FactorTable:
        """New table with a heat factor [tCO2/GJ] set (status ``user``)."""
        _check_value(value_t_co2_per_gj, "heat factor")
        return self._with_row("heat", {"kind": kind},
                              {"kind": kind, "value": float(value_t_co2_per_gj),
                               "unit": "tCO2/GJ", "year": year, "document": document,
                               "source_url": "", "seen_in": "user", "note": ""})

    def with_gwp(self, gas: str, report: str, value: float, *, year: int = 0,
                 document: str = "user override") -> FactorTable:
        """New table with a GWP-100 [kgCO2e/kg] set (status ``user``)."""
        if report not in REPORTS:
            raise ValueError(f"unknown assessment report {report!r}; expected {list(REPORTS)}")
        _check_value(value, "GWP")
        try:
            name = self._gas_key(gas)
        except ValueError:
            name = str(gas).strip()
        return self._with_row("gwp", {"gas": name, "report": report},
                              {"gas": name, "report": report, "horizon_years": "100",
                               "value": float(value), "unit": "kgCO2e/kg", "year": year,
                               "document": document, "source_url": "", "seen_in": "user",
                               "note": ""})

    # ---------------------------------------------------------------- helpers

    @staticmethod
    def _check_status(row: pd.Series, what: str, allow_unverified: bool) -> None:
        if row["status"] == "U" and not allow_unverified:
            value = row["value"]
            shown = "no value" if pd.isna(value) else f"{value:g} {row['unit']}"
            raise ValueError(f"{what} ({shown}) is unverified (status U): {_HELP_UNVERIFIED}")
        if pd.isna(row["value"]):
            raise ValueError(f"{what} has no value; pass it explicitly (FactorTable.with_...)")


def _check_value(value: float, what: str) -> None:
    v = float(value)
    if not np.isfinite(v) or v < 0:
        raise ValueError(f"{what} must be finite and >= 0, got {value!r}")


# --------------------------------------------------------------------------------------------
# Module-level lookups on the packaged (or a given) table
# --------------------------------------------------------------------------------------------

def _table(factors: FactorTable | None) -> FactorTable:
    return default_factors() if factors is None else factors


def grid_factor(region: str, year: int, kind: str = "location", *,
                factors: FactorTable | None = None, allow_unverified: bool = False) -> float:
    """Annual grid CO2 factor [kgCO2/kWh]; see :meth:`FactorTable.grid_factor`."""
    return _table(factors).grid_factor(region, year, kind, allow_unverified=allow_unverified)


def fuel_factor(fuel: str, *, factors: FactorTable | None = None,
                allow_unverified: bool = False) -> FuelFactor:
    """CO2 factor of a fuel; see :meth:`FactorTable.fuel_factor`."""
    return _table(factors).fuel_factor(fuel, allow_unverified=allow_unverified)


def heat_factor(kind: str = "purchased_heat", *, factors: FactorTable | None = None) -> float:
    """Purchased heat factor [tCO2/GJ]; see :meth:`FactorTable.heat_factor`."""
    return _table(factors).heat_factor(kind)


def tce_coefficient(carrier: str, *, factors: FactorTable | None = None,
                    allow_unverified: bool = False) -> TceCoefficient:
    """GB/T 2589 coefficient; see :meth:`FactorTable.tce_coefficient`."""
    return _table(factors).tce_coefficient(carrier, allow_unverified=allow_unverified)


def gwp(gas: str, report: str, *, factors: FactorTable | None = None) -> float:
    """GWP-100 [kgCO2e/kg]; see :meth:`FactorTable.gwp`."""
    return _table(factors).gwp(gas, report)


def blend_gwp(composition: Mapping[str, float], report: str, *,
              factors: FactorTable | None = None) -> float:
    """GWP-100 of a blend [kgCO2e/kg]; see :meth:`FactorTable.blend_gwp`."""
    return _table(factors).blend_gwp(composition, report)


# --------------------------------------------------------------------------------------------
# Hourly grid intensity
# --------------------------------------------------------------------------------------------

def hourly_grid_factor(annual_kg_per_kwh: float, load_kwh, shape, *,
                       index: pd.DatetimeIndex | None = None):
    r"""Scale the annual grid factor by a shape so that its load-weighted mean is the annual value.

    Parameters
    ----------
    annual_kg_per_kwh : float
        Official annual factor [kgCO2/kWh], e.g. ``grid_factor("jiangsu", 2022)``.
    load_kwh : array-like or Series
        Grid electricity per interval [kWh] (the weights), >= 0.
    shape : array-like
        Relative intensity, >= 0: either 24 values (hour of day 0-23, local time) or one value
        per interval. Only its relative size matters.
    index : DatetimeIndex, optional
        Timestamps of the intervals, used to find the hour of day when ``shape`` has 24 values.
        Defaults to ``load_kwh.index`` for a Series; for a plain array the intervals are assumed
        hourly starting at 00:00.

    Returns
    -------
    ndarray or Series
        Factor per interval [kgCO2/kWh] (a Series when ``load_kwh`` is one or ``index`` is given).

    Notes
    -----
    With :math:`s_h` the shape value of interval :math:`h` and :math:`L_h` the load,

    .. math::

        EF_h = EF_{annual}\, s_h\, \frac{\sum_t L_t}{\sum_t L_t s_t}
        \quad\Rightarrow\quad \frac{\sum_h L_h EF_h}{\sum_h L_h} = EF_{annual},

    so the annual location-based total of this load is the official one while the hourly
    intensity varies (for analysis: load shifting, hourly matching). If the load is zero
    throughout, the plain mean of :math:`s_h` is normalised to 1 instead. China publishes no
    hourly factor; a shape can be e.g. :math:`1 - a\,PV_h` (zero_carbon_domain.md §3.4 [G]).

    Raises
    ------
    ValueError
        Negative or non-finite load or shape, a shape of wrong length, or a shape that is zero
        wherever there is load.
    """
    load = np.asarray(load_kwh, dtype=float).ravel()
    s_in = np.asarray(shape, dtype=float).ravel()
    if index is None and isinstance(load_kwh, pd.Series):
        index = load_kwh.index
    if not np.isfinite(annual_kg_per_kwh) or annual_kg_per_kwh < 0:
        raise ValueError(f"annual factor must be finite and >= 0, got {annual_kg_per_kwh!r}")
    if not np.all(np.isfinite(load)) or (load < 0).any():
        raise ValueError("load_kwh must be finite and >= 0 (pass grid imports, not net flows)")
    if not np.all(np.isfinite(s_in)) or (s_in < 0).any():
        raise ValueError("shape must be finite and >= 0")
    n = load.size
    if index is not None and len(index) != n:
        raise ValueError(f"index has {len(index)} entries, load_kwh {n}")
    if s_in.size == 24:  # hour of day (also when n == 24: the index decides the hours)
        hours = np.asarray(index.hour) if index is not None else np.arange(n) % 24
        s = s_in[hours]
    elif s_in.size == n:
        s = s_in
    else:
        raise ValueError(f"shape has {s_in.size} values; give 24 (hour of day) or {n} "
                         "(one per interval)")
    total = load.sum()
    if total > 0:
        weighted = float(np.dot(load, s))
        if weighted <= 0:
            raise ValueError("the shape is zero in every interval that has load: the annual "
                             "factor cannot be reproduced")
        scale = total / weighted
    else:
        mean = s.mean() if n else 0.0
        if mean <= 0:
            raise ValueError("shape is zero everywhere")
        scale = 1.0 / mean
    ef = annual_kg_per_kwh * s * scale
    if index is not None:
        return pd.Series(ef, index=index, name="grid_ef_kg_per_kwh")
    return ef


_HOURLY_VALUE_COLUMNS = ("kg_co2_per_kwh", "grid_ef_kg_per_kwh")


def read_hourly_factor_csv(path: str | Path, index: pd.DatetimeIndex) -> pd.Series:
    """Read a user-supplied grid-intensity series and align it to ``index``.

    Parameters
    ----------
    path : str or Path
        CSV (UTF-8, ``#`` comments allowed) with a value column ``kg_co2_per_kwh`` (or
        ``grid_ef_kg_per_kwh``) [kgCO2/kWh] and either

        - ``timestamp``: start of each row's period (ISO; naive times are taken in the time zone
          of ``index``); rows must be increasing and evenly spaced (e.g. hourly), or
        - ``hour_of_year``: 0 = 1 Jan 00:00 local time ... 8759 (8783 in leap years), for a typical
          year applied to whatever year ``index`` is in.
    index : DatetimeIndex
        Interval starts of the run (tz-aware). Each interval takes the value of the CSV period
        containing its start, so hourly data serve a 15-min index.

    Returns
    -------
    Series
        ``grid_ef_kg_per_kwh`` on ``index`` [kgCO2/kWh].

    Raises
    ------
    ValueError
        Missing columns, non-numeric or negative values (with the CSV line), gaps or disorder in
        the timestamps, or intervals of ``index`` that the file does not cover.
    """
    path = Path(path)
    name = path.name
    problem = file_problem(path, "a CSV file of grid factors", MAX_DATA_FILE_BYTES)
    if problem is not None:
        raise ValueError(f"{name}: {problem}")
    try:
        df = pd.read_csv(path, comment="#")
    except (ValueError, UnicodeDecodeError) as exc:  # never the file's contents in the message
        raise ValueError(f"{name}: not a readable CSV file ({type(exc).__name__})") from None
    vcols = [c for c in _HOURLY_VALUE_COLUMNS if c in df.columns]
    if not vcols:
        raise ValueError(f"{name}: no value column; expected one of {list(_HOURLY_VALUE_COLUMNS)}")
    values = pd.to_numeric(df[vcols[0]], errors="coerce").to_numpy(dtype=float)
    bad = np.flatnonzero(~np.isfinite(values) | (values < 0))
    if bad.size:
        raise ValueError(f"{name} line {bad[0] + 2}: value {df[vcols[0]].iloc[bad[0]]!r} must be "
                         "a number >= 0 [kgCO2/kWh]")
    if "timestamp" in df.columns:
        out = _align_by_timestamp(df["timestamp"], values, index, name)
    elif "hour_of_year" in df.columns:
        out = _align_by_hour_of_year(df["hour_of_year"], values, index, name)
    else:
        raise ValueError(f"{name}: give a 'timestamp' or an 'hour_of_year' column")
    return pd.Series(out, index=index, name="grid_ef_kg_per_kwh")


def _align_by_timestamp(col: pd.Series, values: np.ndarray, index: pd.DatetimeIndex,
                        name: str) -> np.ndarray:
    ts = pd.DatetimeIndex(pd.to_datetime(col))
    if index.tz is not None:
        ts = ts.tz_localize(index.tz) if ts.tz is None else ts.tz_convert(index.tz)
    elif ts.tz is not None:
        raise ValueError(f"{name}: the file has time zones but the index is naive")
    ts = ts.as_unit("ns")
    t_ns = ts.asi8
    steps = np.diff(t_ns)
    if (steps <= 0).any():
        i = int(np.flatnonzero(steps <= 0)[0])
        raise ValueError(f"{name} line {i + 3}: timestamps must increase")
    step = int(steps.min()) if steps.size else 3_600_000_000_000
    if steps.size and (steps != step).any():
        i = int(np.flatnonzero(steps != step)[0])
        raise ValueError(f"{name}: gap after line {i + 2} ({ts[i]} -> {ts[i + 1]}); rows must be "
                         "evenly spaced")
    t = index.as_unit("ns").asi8
    pos = np.searchsorted(t_ns, t, side="right") - 1
    outside = (pos < 0) | (t >= t_ns[-1] + step)
    if outside.any():
        first = index[np.flatnonzero(outside)[0]]
        raise ValueError(f"{name} covers {ts[0]} to {ts[-1]} (+ one step); the run needs "
                         f"{index[0]} to {index[-1]}: {int(outside.sum())} intervals uncovered, "
                         f"first {first}")
    return values[pos]


def _align_by_hour_of_year(col: pd.Series, values: np.ndarray, index: pd.DatetimeIndex,
                           name: str) -> np.ndarray:
    hoy = pd.to_numeric(col, errors="coerce").to_numpy(dtype=float)
    if not np.all(np.isfinite(hoy)) or (hoy != np.round(hoy)).any() or (hoy < 0).any() \
            or (hoy > 8783).any():
        raise ValueError(f"{name}: hour_of_year must be integers 0..8783")
    hoy = hoy.astype(int)
    if len(np.unique(hoy)) != hoy.size:
        raise ValueError(f"{name}: duplicate hour_of_year values")
    table = np.full(8784, np.nan)
    table[hoy] = values
    need = (np.asarray(index.day_of_year) - 1) * 24 + np.asarray(index.hour)
    out = table[need]
    missing = np.isnan(out)
    if missing.any():
        first = index[np.flatnonzero(missing)[0]]
        raise ValueError(f"{name}: no value for {int(missing.sum())} intervals, first {first} "
                         f"(hour_of_year {need[np.flatnonzero(missing)[0]]})")
    return out
