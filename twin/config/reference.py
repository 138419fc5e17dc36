"""The plant-file reference: a Markdown page generated from the pydantic models of a plant file.

:func:`plant_file_reference` walks :class:`twin.config.plant.Plant` and every model it reaches
(breadth first, in field order) and writes one section per model: its docstring, then a table of
its fields with type, unit, default, allowed values and description (and the field's examples
where the model gives some). ``twin schema --markdown`` prints it; ``docs/plant_file_reference.md``
is its committed output (a test keeps the two equal).
"""

from __future__ import annotations

import inspect
import re
import types
import typing
from collections.abc import Iterator

import annotated_types as at
from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from twin.config.base import ID_PATTERN, Id

_UNIT_SUFFIXES: tuple[tuple[str, str], ...] = (
    ("_per_kw_month", "per kW and month"), ("_per_kwh", "per kWh"), ("_m3_min", "m3/min"),
    ("_kwh", "kWh"), ("_kwp", "kWp"), ("_kw", "kW"), ("_mw", "MW"), ("_pct", "%"),
    ("_deg", "deg"), ("_min", "min"), ("_h", "h"), ("_s", "s"), ("_m", "m"), ("_c", "degC"),
    ("_kg", "kg"), ("_t", "t"),
)
"""Field-name suffixes that carry a unit (the plant file's convention), longest first."""

_BRACKET = re.compile(r"\[([^\[\]]{1,40})\]")


def _anchor(title: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation but - and _ dropped, blanks -."""
    return re.sub(r"[^a-z0-9 _-]", "", title.lower()).replace(" ", "-")


_VALUE_LIST = re.compile(r"^[^\s,]+(,\s*[^\s,]+)+$")  # [6, 7, 8]: an example list, not a unit


def _unit(name: str, description: str, annotation: object = None) -> str:
    """The field's unit: the first ``[unit]`` in its description, else its name's suffix (none
    for a true/false field)."""
    if annotation is bool:
        return ""
    for m in _BRACKET.finditer(description):
        text = m.group(1).strip()
        if text and not _VALUE_LIST.match(text):
            return "the distribution's `unit`" if text == "unit" else text
    for suffix, unit in _UNIT_SUFFIXES:
        if name.endswith(suffix):
            return unit
    return ""


def _is_model(tp: object) -> bool:
    return inspect.isclass(tp) and issubclass(tp, BaseModel)


def _models_in(tp: object) -> Iterator[type[BaseModel]]:
    """Every model class inside a type annotation."""
    if _is_model(tp):
        yield tp  # type: ignore[misc]
        return
    for arg in typing.get_args(tp):
        if not isinstance(arg, (str, int, float, bool)) and arg is not None:
            yield from _models_in(arg)


class _Names:
    """Section titles of the models: the class name, made unique with its module if needed,
    or the title given (a strategy's parameters)."""

    def __init__(self, models: list[type[BaseModel]],
                 given: dict[type[BaseModel], str] | None = None) -> None:
        count: dict[str, int] = {}
        for m in models:
            count[m.__name__] = count.get(m.__name__, 0) + 1
        self.title = {m: (m.__name__ if count[m.__name__] == 1
                          else f"{m.__name__} ({m.__module__.rsplit('.', 1)[-1]})")
                      for m in models}
        self.title.update(given or {})

    def link(self, m: type[BaseModel]) -> str:
        t = self.title[m]
        return f"[{t}](#{_anchor(t)})"


def _type_text(tp: object, names: _Names) -> str:
    """A readable type: ``list of [Station](#station)``, ``number``, ``one of 'a', 'b'``..."""
    if tp is type(None) or tp is None:
        return "null"
    if tp == Id:
        return "id (text)"
    if _is_model(tp):
        return names.link(tp)  # type: ignore[arg-type]
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin is typing.Annotated:
        return _type_text(args[0], names)
    if origin is typing.Literal:
        return "one of " + ", ".join(f"`{a}`" for a in args)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_type_text(a, names) for a in args)
    if origin in (list, tuple, set, frozenset):
        inner = _type_text(args[0], names) if args else "anything"
        return f"list of ({inner})" if " or " in inner else f"list of {inner}"
    if origin is dict:
        value = _type_text(args[1], names)
        return f"mapping of {_type_text(args[0], names)} to " + (
            f"({value})" if " or " in value else value)
    simple = {str: "text", int: "whole number", float: "number", bool: "true/false"}
    if tp in simple:
        return simple[tp]  # type: ignore[index]
    if getattr(tp, "__name__", "") == "date":
        return "date YYYY-MM-DD"
    if getattr(tp, "__name__", "") == "datetime":
        return "date and time"
    if isinstance(tp, typing.TypeAliasType if hasattr(typing, "TypeAliasType") else ()):
        return _type_text(tp.__value__, names)  # type: ignore[attr-defined]
    return getattr(tp, "__name__", str(tp))


def _bounds(metadata: list[object], text: bool = False) -> list[str]:
    out: list[str] = []
    item = "character" if text else "item"
    for m in metadata:
        for attr, sym in (("gt", ">"), ("ge", ">="), ("lt", "<"), ("le", "<=")):
            v = getattr(m, attr, None)
            if v is not None and isinstance(m, (at.Gt, at.Ge, at.Lt, at.Le, at.Interval)):
                out.append(f"{sym} {v:g}" if isinstance(v, (int, float)) else f"{sym} {v}")
        if isinstance(m, at.MinLen) and m.min_length:
            out.append(f"at least {m.min_length} {item}{'s' if m.min_length > 1 else ''}")
        if isinstance(m, at.MaxLen):
            out.append(f"at most {m.max_length} {item}s")
    return out


def _inner_bounds(tp: object) -> list[str]:
    """Bounds written inside the annotation, e.g. ``dict[str, Annotated[float, Field(ge=0)]]``
    (an id's length and pattern are said once, in the header)."""
    out: list[str] = []
    if tp == Id:
        return out
    if typing.get_origin(tp) is typing.Annotated:
        args = typing.get_args(tp)
        for meta in args[1:]:
            if isinstance(meta, FieldInfo):
                out += _bounds(list(meta.metadata))
            else:
                out += _bounds([meta])
        out += _inner_bounds(args[0])
    else:
        for a in typing.get_args(tp):
            if not isinstance(a, (str, int, float, bool)) and a is not None:
                out += _inner_bounds(a)
    return list(dict.fromkeys(out))


def _value_text(v: object) -> str:
    if isinstance(v, BaseModel):
        return "(the section's defaults)"
    if v is None:
        return "none"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (list, dict, tuple)) and not v:
        return "empty"
    if isinstance(v, float):
        return f"{v:g}"
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_value_text(x) for x in v) + "]"
    return str(v)


def _default(f: FieldInfo) -> str:
    if f.default is not PydanticUndefined:
        return _value_text(f.default)
    if f.default_factory is not None:
        try:
            return _value_text(f.default_factory())  # type: ignore[call-arg]
        except TypeError:
            return "(computed)"
    return "**required**"


_RST_ROLE = re.compile(r":(?:mod|class|func|meth|attr|data):`~?([^`]+)`")


def _plain(text: str) -> str:
    """Docstring markup as Markdown: ``x`` and :mod:`x` become `x`."""
    return _RST_ROLE.sub(r"`\1`", text).replace("``", "`")


def _cell(text: str) -> str:
    return " ".join(_plain(text).split()).replace("|", "\\|")


def _doc(m: type[BaseModel]) -> str:
    doc = _plain(inspect.getdoc(m) or "")
    return "" if doc.startswith("!!!") or not doc else " ".join(
        p.replace("\n", " ") for p in doc.split("\n\n")[:1]) + (
        "\n\n" + "\n\n".join(" ".join(p.split()) for p in doc.split("\n\n")[1:])
        if "\n\n" in doc else "")


def reachable_models(*roots: type[BaseModel]) -> list[type[BaseModel]]:
    """``roots`` and every model their fields refer to, breadth first, in field order."""
    seen: list[type[BaseModel]] = list(dict.fromkeys(roots))
    k = 0
    while k < len(seen):
        for f in seen[k].model_fields.values():
            for m in _models_in(f.annotation):
                if m not in seen:
                    seen.append(m)
        k += 1
    return seen


def model_section(m: type[BaseModel], names: _Names, used_in: list[str],
                  doc: str | None = None) -> str:
    """The Markdown section of one model (``doc``: instead of the model's docstring)."""
    out = [f"## {names.title[m]}", ""]
    doc = _doc(m) if doc is None else _plain(doc)
    if doc:
        out += [doc, ""]
    if used_in:
        out += ["Used in: " + ", ".join(used_in) + ".", ""]
    extra = m.model_config.get("extra")
    if not m.model_fields:
        out += ["No fields.", ""]
        return "\n".join(out)
    out += ["| Field | Type | Unit | Default | Allowed | Description |",
            "|---|---|---|---|---|---|"]
    for name, f in m.model_fields.items():
        desc = f.description or ""
        allowed = ([] if f.annotation == Id else _bounds(list(f.metadata), f.annotation is str)
                   ) + _inner_bounds(f.annotation)
        if f.examples:
            desc += " Example: " + "; ".join(f"`{_value_text(e)}`" for e in f.examples)
        key = f.alias or name
        out.append("| " + " | ".join(_cell(x) for x in (
            f"`{key}`", _type_text(f.annotation, names), _unit(name, desc, f.annotation),
            _default(f), ", ".join(dict.fromkeys(allowed)), desc)) + " |")
    out.append("")
    if extra == "allow":
        out += ["Other keys are allowed here (they are passed on, e.g. a strategy's parameters).",
                ""]
    return "\n".join(out)


HEADER = """# Plant-file reference

Generated from the schema by `twin schema --markdown` (do not edit by hand: a test checks that this
page equals the generated one). A plant file is YAML; its root is [Plant](#plant). Numbers carry
their unit in the field name (`_kw`, `_s`, `_h`, `_min`, ...) or, for time distributions, in their
`unit` field; the Unit column says it. Unknown keys are errors. For a commented starting point,
`twin init --sector SECTOR plant.yaml`; to check a file, `twin validate plant.yaml`.

An *id* is text of 1 to 80 characters without a colon or leading/trailing blanks (pattern
`{pattern}`); a whole number is read as its text (`10` is the id `'10'`).

"""


STRATEGY_TITLE = "Strategy {name}"
"""Section title of a registered strategy's parameters."""


def plant_file_reference() -> str:
    """The whole reference page (Markdown): every model reachable from a plant file's root, then
    the parameters of every registered strategy (an entry of ``strategies``)."""
    from twin.config.plant import Plant
    from twin.strategies import get_strategy, known_strategies

    strategies = {get_strategy(n).Params: n for n in known_strategies()}
    models = reachable_models(Plant)
    models += [m for m in reachable_models(*strategies) if m not in models]
    names = _Names(models, {p: STRATEGY_TITLE.format(name=n) for p, n in strategies.items()})
    docs = {p: (f"Parameters of the strategy `{n}` (an entry `{{type: {n}, ...}}` of "
                f"[Plant](#plant).`strategies`). "
                + " ".join((inspect.getdoc(get_strategy(n)) or "").split("\n\n")[0].split()))
            for p, n in strategies.items()}
    used: dict[type[BaseModel], list[str]] = {m: [] for m in models}
    for m in models:
        for fname, f in m.model_fields.items():
            for sub in dict.fromkeys(_models_in(f.annotation)):
                ref = f"{names.link(m)}.`{fname}`"
                if ref not in used[sub]:
                    used[sub].append(ref)
    toc = ["## Contents", ""] + [f"- {names.link(m)}" for m in models] + [""]
    body = [model_section(m, names, used[m], docs.get(m)) for m in models]
    return HEADER.format(pattern=ID_PATTERN) + "\n".join(toc) + "\n" + "\n".join(body)
