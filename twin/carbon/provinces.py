"""Province names of a site: official Chinese names (GB/T 2260) and English names to one key.

The table is ``twin/data/provinces.csv`` (34 provincial-level divisions, codes and official names
from GB/T 2260, see ``twin/data/provinces.md``). ``江苏``, ``江苏省``, ``Jiangsu`` and ``jiangsu``
all give ``jiangsu``, the key of the grid factor tables.
"""

from __future__ import annotations

import csv
import difflib
from functools import lru_cache
from importlib import resources


@lru_cache(maxsize=1)
def _names() -> dict[str, str]:
    """Every accepted spelling (normalised) -> province key."""
    out: dict[str, str] = {}
    text = resources.files("twin").joinpath("data/provinces.csv").read_text(encoding="utf-8")
    for row in csv.DictReader(text.splitlines()):
        key = row["key"]
        for name in (row["name_zh"], row["short_zh"], key, *row["names_en"].split(";")):
            out[_norm(name)] = key
    return out


_EN_SUFFIXES = (" province", " municipality", " autonomous region", " special administrative"
                " region", " sar", " sheng", " shi", " zizhiqu")
"""English words after a province's name ('Jiangsu Province', 'Beijing Shi'), dropped."""


def _norm(name: str) -> str:
    text = " ".join(str(name).replace("_", " ").replace("-", " ").split()).lower()
    for suffix in _EN_SUFFIXES:
        if text.endswith(suffix) and len(text) > len(suffix):
            return text[: -len(suffix)]
    return text


def province_key(name: str) -> str:
    """The key (``jiangsu``, ``inner_mongolia``) of a province named in Chinese or English.

    Raises
    ------
    ValueError
        An unknown name, with the closest known name when there is one.
    """
    names = _names()
    key = names.get(_norm(name))
    if key is not None:
        return key
    close = difflib.get_close_matches(_norm(name), list(names), n=1, cutoff=0.6)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    raise ValueError("unknown province; expected a provincial-level division of China by its "
                     "official name (江苏省, 江苏) or in English (Jiangsu, Inner Mongolia)" + hint)


def province_keys() -> list[str]:
    """The keys of all 34 provincial-level divisions."""
    return list(dict.fromkeys(_names().values()))


def grid_region_of(province: str | None, location_regions: list[str]) -> str:
    """The grid-factor region of a site: its province when the tables hold one, else
    ``national``. ``province`` must be known (see :func:`province_key`)."""
    if province is None or not str(province).strip():
        return "national"
    key = province_key(province)
    return key if key in location_regions else "national"
