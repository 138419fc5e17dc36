"""Shared pieces of the configuration models: the frozen, strict base model and identifiers."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from twin.config.strict import check_scalars


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    _scalars = model_validator(mode="before")(check_scalars)


def drop_defaults(out: dict[str, Any], defaults: dict[str, Any]) -> dict[str, Any]:
    """Leave out of a model's dump the fields in ``defaults`` (name -> default) while they hold
    their default: fields added after plant files were first hashed, so a file that does not use
    them dumps, and hashes (the study's run cache, the manifest's ``config_sha256``), as before.
    Returns ``out``, changed in place."""
    for key, default in defaults.items():
        if key in out and out[key] == default:
            del out[key]
    return out


Carrier = Literal["electricity", "natural_gas", "heat", "cooling"]
"""An energy carrier a piece of equipment can draw (natural gas by its lower heating value)."""


def _int_as_text(v: object) -> object:
    # Operation numbers are common station names (10, 20, 30): accept ``id: 10`` as '10'.
    return str(v) if isinstance(v, int) and not isinstance(v, bool) else v


ID_PATTERN = r"^[^\s:]+( [^\s:]+)*$"
Id = Annotated[
    str, Field(min_length=1, max_length=80, pattern=ID_PATTERN), BeforeValidator(_int_as_text)
]
"""An identifier: no leading/trailing blanks and no colon (used in column names ``kind:id``).
A whole number is taken as its text (``10`` is the id ``'10'``)."""


def known_zone(v: str | None) -> str | None:
    """``v`` if it names an IANA time zone (``None`` passes); ValueError with what is expected
    otherwise. The one check of every ``timezone`` field that takes a zone name."""
    if v is None:
        return v
    try:
        ZoneInfo(v)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValueError("unknown time zone; expected an IANA name such as 'Asia/Shanghai'"
                         ) from None
    return v
