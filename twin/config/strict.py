"""Type rules pydantic's lax mode does not enforce: ``true``/``false`` is not a number.

YAML ``seed: true`` would otherwise be read as the seed 1 (and ``quantity: false`` as 0). One
model-level ``before`` validator on the base of every configuration model (:func:`refuse_bool`)
refuses a boolean wherever the field's type, or the type of its list items or mapping values,
admits no ``bool``.
"""

from __future__ import annotations

import types
import typing
from typing import Any, Union, get_args, get_origin


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


def refuse_bool(cls: type, data: Any) -> Any:
    """``model_validator(mode="before")``: raise when the value of a field (or an item of it) is
    a boolean where the field's type expects a number or text."""
    if not isinstance(data, dict):
        return data
    fields = cls.model_fields  # type: ignore[attr-defined]
    for key, value in data.items():
        field = fields.get(key) if isinstance(key, str) else None
        if field is not None and _bad_bool(value, field.annotation):
            raise ValueError(f"{key}: expected a number or text, not true/false")
    return data
