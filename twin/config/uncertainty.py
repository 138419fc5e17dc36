"""Uncertainty beyond the process streams (the ``uncertainty:`` block of a study file).

Replications differ in their DES streams (breakdowns, process times, ...). With an
``uncertainty:`` block they also differ in weather, energy prices and the grid factor year::

    uncertainty:
      sampling: random            # or balanced: every option equally often
      weather:
        synthetic_seeds: [1, 2, 3]     # or files: [suzhou_2019.epw, suzhou_2020.epw]
      prices:
        - {name: today}
        - {name: dear, flat_price: 1.25, ratios: {peak: 1.1}}
        - {name: spot, price_file: prices_2023.csv}
      grid_years: [2021, 2022, 2023]

Replication k of **every** scenario gets the same option of every source (common random
numbers), drawn from named streams of :class:`twin.streams.Streams` (``uncertainty:weather``,
``uncertainty:prices``, ``uncertainty:grid_year``) that no DES element uses, so the DES draws
are those of a study without the block:

* ``random``: replication k draws each source's option uniformly from ``Streams(seed + k)``;
* ``balanced``: replications come in blocks of n (the number of options of a source); each
  block is a random permutation of the options (``Streams(seed)``, stream named with the block),
  so every option is used equally often when n divides the number of replications.

The draw of replication k depends on the seed and k only: more replications keep the first ones.

An option becomes plant overrides (:func:`option_overrides`) applied after the scenario's own:
a weather file replaces ``energy.weather``; a synthetic seed sets
``energy.weather.synthetic.seed``; a price scenario multiplies ``flat_price_per_kwh`` (or an own
table's ``prices_per_kwh``) and the named periods' ratios (or their prices), or replaces the
energy price source by a price file; a grid year sets ``carbon.grid_year``.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import Field, field_validator, model_validator

from twin.config.base import _Model
from twin.config.own_tariff import PeriodName, PriceFile, as_price_file

SOURCES = ("weather", "prices", "grid_factor")
"""Sources of variation beyond ``process`` (the DES streams), in the order they are named."""


class WeatherFile(_Model):
    """A weather file (EPW, TMY3 or CSV), relative to the study file."""

    file: str
    kind: Literal["epw", "tmy3", "csv"] | None = None
    timezone: str | None = None


class WeatherOptions(_Model):
    """Weather years: files, or seeds of the plant's synthetic weather."""

    files: list[str | WeatherFile] | None = Field(None, min_length=1, description="Weather "
                                                  "files, relative to the study file.")
    synthetic_seeds: list[int] | None = Field(None, min_length=1, description="Seeds of the "
                                              "plant's energy.weather.synthetic.")

    @model_validator(mode="after")
    def _one(self) -> WeatherOptions:
        if (self.files is None) == (self.synthetic_seeds is None):
            raise ValueError("give exactly one of files: [...] or synthetic_seeds: [...]")
        if self.synthetic_seeds is not None and any(s < 0 for s in self.synthetic_seeds):
            raise ValueError("synthetic_seeds must be >= 0")
        return self

    def labels(self) -> list[str]:
        if self.files is not None:
            return [Path(f if isinstance(f, str) else f.file).name for f in self.files]
        return [f"seed{s}" for s in self.synthetic_seeds or []]


class PriceScenario(_Model):
    """One price scenario: multipliers on the tariff's prices, or an hourly price file."""

    name: str = Field(max_length=40, description="Label in the manifest.")
    flat_price: float | None = Field(None, gt=0, description="Multiplier of "
                                     "flat_price_per_kwh (or of every prices_per_kwh) [-].")
    ratios: dict[PeriodName, float] | None = Field(
        None, description="Multiplier of each named period's ratio (or price) [-].")
    price_file: PriceFile | None = Field(None, description="Energy prices from this file "
                                         "(relative to the study file) instead of the "
                                         "tariff's source.")

    _price_file = field_validator("price_file", mode="before")(as_price_file)

    @model_validator(mode="after")
    def _one(self) -> PriceScenario:
        if self.price_file is not None and (self.flat_price is not None or self.ratios):
            raise ValueError("a price_file gives the prices itself; leave out flat_price and "
                             "ratios")
        if self.ratios and any(not v > 0 for v in self.ratios.values()):
            raise ValueError("ratio multipliers must be > 0")
        if self.ratios and "flat" in self.ratios:
            raise ValueError("ratios are relative to flat; scale the flat price with "
                             "flat_price instead")
        return self


class Uncertainty(_Model):
    """Weather, price and grid-factor uncertainty, drawn per replication, common to all
    scenarios."""

    sampling: Literal["random", "balanced"] = Field(
        "random", description="random: uniform draw per replication; balanced: each option "
                              "equally often (blocks of random permutations).")
    weather: WeatherOptions | None = None
    prices: list[PriceScenario] | None = Field(None, min_length=1)
    grid_years: list[int] | None = Field(None, min_length=1, description="Data years of the "
                                         "grid factors (carbon.grid_year).")

    @model_validator(mode="after")
    def _unique(self) -> Uncertainty:
        if self.prices is not None:
            names = [p.name for p in self.prices]
            dup = sorted({n for n in names if names.count(n) > 1})
            if dup:
                raise ValueError(f"price scenario names must differ; '{dup[0]}' appears twice")
        return self

    def options(self) -> dict[str, int]:
        """Source -> number of options, for the sources given."""
        out = {}
        if self.weather is not None:
            out["weather"] = len(self.weather.labels())
        if self.prices is not None:
            out["prices"] = len(self.prices)
        if self.grid_years is not None:
            out["grid_factor"] = len(self.grid_years)
        return out

    def field(self, source: str, index: int) -> str:
        """Field path of option ``index`` of ``source`` in the study file, with its label:
        ``uncertainty.grid_years[1] (2019)``."""
        name = {"prices": "prices", "grid_factor": "grid_years"}.get(source) or (
            "weather.files" if self.weather and self.weather.files else "weather.synthetic_seeds")
        return f"uncertainty.{name}[{index}] ({self.label(source, index)})"

    def label(self, source: str, index: int) -> str:
        """Human label of option ``index`` of ``source``."""
        if source == "weather":
            assert self.weather is not None
            return self.weather.labels()[index]
        if source == "prices":
            assert self.prices is not None
            return self.prices[index].name
        assert self.grid_years is not None
        return str(self.grid_years[index])


def draw(unc: Uncertainty, seed: int, rep: int) -> dict[str, int]:
    """Source -> option index for replication ``rep`` of a study with base seed ``seed``.

    The same in every scenario (common random numbers); from streams named
    ``uncertainty:<source>``, which no DES element uses."""
    from twin.streams import Streams

    out = {}
    for source, n in unc.options().items():
        if n == 1:
            out[source] = 0
        elif unc.sampling == "random":
            rng = Streams(seed + rep).generator(f"uncertainty:{source}")
            out[source] = int(rng.integers(n))
        else:
            block, pos = divmod(rep, n)
            rng = Streams(seed).generator(f"uncertainty:{source}:block{block}")
            out[source] = int(rng.permutation(n)[pos])
    return out


def variation(unc: Uncertainty | None, choices: list[dict[str, int]]) -> list[str]:
    """Sources of variation the intervals of a study cover: ``process`` (the DES streams)
    always, then ``weather``, ``prices`` and ``grid factor`` where the replications' draws
    ``choices`` (:func:`draw` of each replication) use more than one option."""
    out = ["process"]
    if unc is not None:
        for source in unc.options():
            if len({c.get(source) for c in choices}) > 1:
                out.append(source.replace("_", " "))
    return out


def resolve_files(unc: Uncertainty, folder: Path) -> Uncertainty:
    """The block with weather and price file paths made absolute (relative to ``folder``, the
    study file's)."""
    def absolute(f: str) -> str:
        return f if Path(f).is_absolute() else str(folder / f)

    update: dict[str, Any] = {}
    if unc.weather is not None and unc.weather.files is not None:
        update["weather"] = unc.weather.model_copy(update={"files": [
            absolute(f) if isinstance(f, str) else f.model_copy(update={"file": absolute(f.file)})
            for f in unc.weather.files]})
    if unc.prices is not None:
        update["prices"] = [p if p.price_file is None else p.model_copy(update={
            "price_file": p.price_file.model_copy(update={"file": absolute(p.price_file.file)})})
            for p in unc.prices]
    return unc.model_copy(update=update)


class OptionError(ValueError):
    """An uncertainty option that cannot apply to a scenario's plant (message names why)."""


def option_overrides(unc: Uncertainty, choice: dict[str, int], data: dict) -> dict[str, Any]:
    """Override path -> value that apply the chosen options to plant ``data`` (a scenario's
    plant file data after its overrides; not changed).

    Raises
    ------
    OptionError
        When an option needs what the plant lacks (synthetic seeds without synthetic weather,
        price multipliers without a tariff, a period ratio a preset varies by month).
    """
    out: dict[str, Any] = {}
    if "weather" in choice and unc.weather is not None:
        k = choice["weather"]
        if unc.weather.files is not None:
            f = unc.weather.files[k]
            out["energy.weather"] = ({"file": f} if isinstance(f, str) else
                                     f.model_dump(exclude_none=True))
        else:
            weather = ((data.get("energy") or {}).get("weather") or {})
            if not isinstance(weather, dict) or not isinstance(weather.get("synthetic"), dict):
                raise OptionError("synthetic_seeds need the plant's energy.weather.synthetic; "
                                  "the plant has none (give weather files instead)")
            out["energy.weather.synthetic.seed"] = unc.weather.synthetic_seeds[k]  # type: ignore[index]
    if "prices" in choice and unc.prices is not None:
        out.update(_price_overrides(unc.prices[choice["prices"]], data))
    if "grid_factor" in choice and unc.grid_years is not None:
        out["carbon.grid_year"] = unc.grid_years[choice["grid_factor"]]
    return out


_NOT_SOURCES = ("preset", "periods", "overlays", "prices_per_kwh", "ratios", "flat_price_per_kwh",
                "customer_class", "holidays", "workdays", "apply_outside_validity", "price_file")


def _price_overrides(p: PriceScenario, data: dict) -> dict[str, Any]:
    tariff = (((data.get("energy") or {}).get("grid") or {}).get("tariff"))
    if not isinstance(tariff, dict):
        raise OptionError(f"price scenario '{p.name}' needs the plant's energy.grid.tariff; "
                          f"the plant has none")
    path = "energy.grid.tariff"
    if p.price_file is not None:
        new = {k: copy.deepcopy(v) for k, v in tariff.items() if k not in _NOT_SOURCES}
        new["price_file"] = p.price_file.model_dump(exclude_none=True)
        return {path: new}
    if p.flat_price is None and not p.ratios:
        return {}
    if tariff.get("price_file") is not None:
        raise OptionError(f"price scenario '{p.name}' scales flat and period prices, but the "
                          f"plant's tariff takes its prices from a price_file")
    new = copy.deepcopy(tariff)
    m = p.flat_price if p.flat_price is not None else 1.0
    if new.get("prices_per_kwh") is not None:  # an own table priced per period
        prices = new["prices_per_kwh"]
        for period, v in list(prices.items()):
            f = m * (p.ratios or {}).get(period, 1.0)
            prices[period] = [x * f for x in v] if isinstance(v, list) else v * f
        missing = set(p.ratios or {}) - set(prices)
        if missing:
            raise OptionError(f"price scenario '{p.name}': the tariff has no price for period "
                              f"{', '.join(sorted(missing))}")
        return {path: new}
    flat = new.get("flat_price_per_kwh")
    if flat is not None:
        new["flat_price_per_kwh"] = [x * m for x in flat] if isinstance(flat, list) else flat * m
    if p.ratios:
        ratios = dict(new.get("ratios") or {})
        for period, f in p.ratios.items():
            if period not in ratios:
                ratios[period] = _preset_ratio(new, period, p.name)
            ratios[period] = ratios[period] * f
        new["ratios"] = ratios
    return {path: new}


def _preset_ratio(tariff: dict, period: str, name: str) -> float:
    """The preset's ratio of ``period`` when it is the same in every month it is used."""
    if tariff.get("preset") is None:
        raise OptionError(f"price scenario '{name}': the tariff gives no ratio for '{period}' "
                          f"to scale")
    from twin.energy.tariff import PERIODS, load_preset

    try:
        table = load_preset(str(tariff["preset"]), tariff.get("customer_class"))
    except (ValueError, KeyError) as exc:
        raise OptionError(f"price scenario '{name}': {exc}") from None
    col = table.ratios[:, list(PERIODS).index(period)]
    vals = sorted({float(v) for v in col if np.isfinite(v)})
    if len(vals) != 1:
        what = "has no such period" if not vals else \
            "varies by month (" + ", ".join(f"{v:g}" for v in vals) + ")"
        raise OptionError(f"price scenario '{name}': the preset's '{period}' ratio {what}; give "
                          f"energy.grid.tariff.ratios.{period} in the plant to scale it")
    return vals[0]


__all__ = ["SOURCES", "OptionError", "PriceScenario", "Uncertainty", "WeatherOptions", "draw",
           "option_overrides", "resolve_files", "variation"]
