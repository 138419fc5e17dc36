"""Rules for every number of a configuration file that pydantic's field types do not enforce.

One model-level ``before`` validator on the base of every configuration model
(:func:`check_scalars`) refuses

* a boolean wherever the field's type, or the type of its list items or mapping values, admits
  no ``bool`` (YAML ``seed: true`` would otherwise be the seed 1, ``quantity: false`` 0);
* a number larger in magnitude than :data:`MAX_MAGNITUDE` anywhere (``units_per_lot: 1e30``
  would overflow the 64-bit integers and floats of the run to errors or NaN);
* a duration longer than :data:`MAX_DURATION_S`, for the fields whose name gives a time unit
  (``due_h``, ``warm_up_s``, ``horizon_h``: units are in field names); times beyond it overflow
  timestamp arithmetic (pandas timestamps end in 2262).
"""

from __future__ import annotations

import math
import re
import types
import typing
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel

MAX_MAGNITUDE = 1e12
"""Largest absolute value of any number in a plant or study file (kWh, CNY, lots, seeds...)."""
MAX_DURATION_S = 1e9
"""Longest duration a field or distribution may give [s] (about 32 years)."""
_DURATION = re.compile(r"_(?P<unit>h|s|min)$")
_RATE = re.compile(r"_per_|m3_")  # self_discharge_pct_per_h, capacity_m3_min: rates, not times
_SECONDS = {"h": 3600.0, "s": 1.0, "min": 60.0}


def _admits_bool(tp: Any) -> bool:
    """Whether a value of type ``tp`` may be ``True``/``False`` (``bool``, ``Any``, ``object``,
    a union or Literal containing one)."""
    if tp is bool or tp is Any or tp is object:
        return True
    origin = get_origin(tp)
    if origin is typing.Annotated:
        return _admits_bool(get_args(tp)[0])
    if origin in (Union, types.UnionType):
        return any(_admits_bool(a) for a in get_args(tp))
    if origin is typing.Literal:
        return any(isinstance(a, bool) for a in get_args(tp))
    return False


def _item_types(tp: Any) -> tuple[Any, ...]:
    """Types of the items (list, tuple) or values (dict) of a container type, per union member."""
    origin = get_origin(tp)
    if origin is typing.Annotated:
        return _item_types(get_args(tp)[0])
    if origin in (Union, types.UnionType):
        return tuple(t for a in get_args(tp) for t in _item_types(a))
    if origin in (list, tuple, set, frozenset) and get_args(tp):
        return (get_args(tp)[0],)
    if origin is dict and len(get_args(tp)) == 2:
        return (get_args(tp)[1],)
    return ()


def _bad_bool(value: Any, tp: Any) -> bool:
    if isinstance(value, bool):
        return not _admits_bool(tp)
    items = _item_types(tp)
    if not items:
        return False
    if isinstance(value, dict):
        children = list(value.values())
    elif isinstance(value, list):
        children = value
    else:
        return False
    return any(all(_bad_bool(c, t) for t in items) for c in children)


def _has_model(tp: Any) -> bool:
    """Whether ``tp`` (or a member of a union) is a pydantic model: it checks its own numbers."""
    origin = get_origin(tp)
    if origin is typing.Annotated:
        return _has_model(get_args(tp)[0])
    if origin in (Union, types.UnionType):
        return any(_has_model(a) for a in get_args(tp))
    return isinstance(tp, type) and issubclass(tp, BaseModel)


def _numbers(value: Any, tp: Any) -> list[float]:
    """The numbers of a field value, in lists and mappings too, but not inside nested models."""
    if isinstance(value, bool) or _has_model(tp):
        return []
    if isinstance(value, (int, float)):
        return [value]
    items = _item_types(tp) or (Any,)
    children = value.values() if isinstance(value, dict) else \
        value if isinstance(value, list) else []
    return [x for v in children for x in _numbers(v, items[0])]


def _duration_s(name: str) -> float | None:
    """Seconds per unit of a field whose name ends in a time unit (``due_h``: 3600), else None."""
    m = _DURATION.search(name)
    return None if m is None or _RATE.search(name) else _SECONDS[m["unit"]]


def check_scalars(cls: type, data: Any) -> Any:
    """``model_validator(mode="before")``: raise for a boolean where the field's type expects a
    number or text, a number beyond :data:`MAX_MAGNITUDE` or a duration beyond
    :data:`MAX_DURATION_S`; the message starts with the field name."""
    if not isinstance(data, dict):
        return data
    fields = cls.model_fields  # type: ignore[attr-defined]
    for key, value in data.items():
        field = fields.get(key) if isinstance(key, str) else None
        if field is None:
            continue
        if _bad_bool(value, field.annotation):
            raise ValueError(f"{key}: expected a number or text, not true/false")
        # NaN and infinities are refused by the field itself (allow_inf_nan=False)
        numbers = [x for x in _numbers(value, field.annotation)
                   if isinstance(x, int) or math.isfinite(x)]
        if any(abs(x) > MAX_MAGNITUDE for x in numbers):
            what = "a number" if isinstance(value, (int, float)) else "numbers"
            raise ValueError(f"{key}: expected {what} of magnitude at most {MAX_MAGNITUDE:g}")
        per_unit = _duration_s(key)
        if per_unit is not None and any(abs(x) * per_unit > MAX_DURATION_S for x in numbers):
            raise ValueError(f"{key}: expected at most {MAX_DURATION_S / per_unit:g} "
                             f"(about 32 years)")
    return data
