"""Read plant files: YAML to validated :class:`~twin.config.plant.Plant`, with precise errors.

YAML is read with YAML 1.2 core-schema scalars: ``off``/``on``/``yes``/``no`` stay strings (they are
state names here) and ``06:00`` stays a time string (YAML 1.1 would read it as the number 360).
Every problem is reported with the file, line, field path, value and what was expected.
"""

from __future__ import annotations

import difflib
import os
import re
import types
import typing
from pathlib import Path
from typing import Any, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, ValidationError

from twin.config.base import ID_PATTERN
from twin.config.checks import check_references
from twin.config.errors import ConfigError, ConfigIssue
from twin.config.own_tariff import resolve_price_file
from twin.config.plant import Plant
from twin.config.profiles import resolve_profile_files
from twin.safety import file_problem


class TwinYamlLoader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 core-schema implicit types (no yes/no/on/off, no base-60)."""


TwinYamlLoader.yaml_implicit_resolvers = {}
for _tag, _regex, _first in [
    ("tag:yaml.org,2002:null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
    ("tag:yaml.org,2002:bool", r"^(?:true|True|TRUE|false|False|FALSE)$", list("tTfF")),
    ("tag:yaml.org,2002:int", r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$", list("-+0123456789")),
    (
        "tag:yaml.org,2002:float",
        r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
        list("-+.0123456789"),
    ),
    (
        "tag:yaml.org,2002:timestamp",
        r"^(?:[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}"
        r"(?:(?:[Tt]|[ \t]+)[0-9]{1,2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]*)?"
        r"(?:[ \t]*(?:Z|[-+][0-9]{1,2}(?::[0-9]{2})?))?)?)$",
        list("0123456789"),
    ),
    ("tag:yaml.org,2002:merge", r"^(?:<<)$", ["<"]),
]:
    TwinYamlLoader.add_implicit_resolver(_tag, re.compile(_regex), _first)


def _construct_int(loader: yaml.SafeLoader, node: yaml.Node) -> int:
    text = str(loader.construct_scalar(node))  # type: ignore[arg-type]
    if text.startswith("0o"):
        return int(text[2:], 8)
    return int(text, 0) if text.startswith("0x") else int(text)


TwinYamlLoader.add_constructor("tag:yaml.org,2002:int", _construct_int)



def _construct_timestamp(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    # A date-like scalar that is not a real date (2026-02-30) stays text, so that validation
    # reports it with its field path instead of the YAML reader failing without one.
    try:
        return yaml.SafeLoader.construct_yaml_timestamp(loader, node)  # type: ignore[arg-type]
    except ValueError:
        return str(loader.construct_scalar(node))  # type: ignore[arg-type]


TwinYamlLoader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp)

Path_ = tuple[str | int, ...]
"""A field path: ``str`` for a mapping key, ``int`` for a list index."""

_MERGE_TAG = "tag:yaml.org,2002:merge"
_EMPTY = ("file is empty; expected a plant description with site:, products:, equipment_types:, "
          "lines: and sources:")


MAX_FILE_BYTES = 8 * 1024 * 1024
"""Largest plant or study file read [bytes] (the shipped ones are under 30 kB)."""
MAX_NODES = 200_000
"""Most YAML values (keys, items, scalars) a file may expand to, counting every use of an alias
(``*name``) again: bounds the work of a small file with nested aliases (an 'alias bomb')."""
MAX_DEPTH = 200
"""Deepest nesting of lists and mappings accepted in a YAML file."""


def read_config_bytes(path: str | Path, what: str = "a YAML file",
                      limit: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes, else a one-line
    :class:`ConfigError` (missing, a folder, a device or pipe such as ``/dev/zero``, too large,
    unreadable). Never reads more than ``limit + 1`` bytes."""
    name = str(path)

    def fail(msg: str) -> ConfigError:
        return ConfigError(name, [ConfigIssue("", msg)])

    problem = file_problem(path, what, limit)
    if problem is not None:
        raise fail(problem)
    try:
        with open(path, "rb") as f:  # /proc files report size 0: read at most limit + 1
            raw = f.read(limit + 1)
    except OSError as exc:
        raise fail(f"cannot read file: {exc.strerror or type(exc).__name__}") from None
    if len(raw) > limit:
        raise fail(f"file is larger than {limit:,} bytes; expected {what} of at most "
                   f"{limit:,} bytes")
    return raw


def read_yaml(path: str | Path) -> tuple[Any, dict[Path_, int]]:
    """Parse a YAML file; return the data and the 1-based line of every key and list item.

    Raises :class:`ConfigError` for a missing, unreadable, non-regular, oversized or empty file, a
    YAML syntax error, a control character, too many values through aliases or a duplicate key.
    """
    name = str(path)
    raw = read_config_bytes(path)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ConfigError(name, [ConfigIssue(
            "", f"not UTF-8 text (byte 0x{raw[exc.start]:02x}); expected a YAML file saved as "
                f"UTF-8", line=line)]) from None
    return parse_yaml(text, name)


def parse_yaml(text: str, name: str = "<string>") -> tuple[Any, dict[Path_, int]]:
    """Like :func:`read_yaml`, for text already in memory (``name`` is used in messages)."""
    bad = _NON_PRINTABLE.search(text)
    if bad is not None:  # the YAML reader's own error would be a traceback-like paragraph
        line = text.count("\n", 0, bad.start()) + 1
        column = bad.start() - (text.rfind("\n", 0, bad.start()) + 1) + 1
        raise ConfigError(name, [ConfigIssue(
            "", f"control character U+{ord(bad.group()):04X} at column {column}; YAML files may "
                f"not contain control characters (write them as escapes such as \\t inside "
                f"double quotes)", line=line)])
    if all(not ln.strip() or ln.lstrip().startswith("#") for ln in text.splitlines()):
        raise ConfigError(name, [ConfigIssue("", _EMPTY)])
    lines: dict[Path_, int] = {}
    loader = TwinYamlLoader(text)
    try:
        node = loader.get_single_node()
        if node is not None:
            # Index before constructing: construction flattens merge keys (<<) in place.
            dupes: list[ConfigIssue] = []
            _index_lines(node, (), lines, dupes, set(), [0])
            if dupes:
                raise ConfigError(name, dupes)
        data = loader.construct_document(node) if node is not None else None
    except _TooLarge as exc:
        raise ConfigError(name, [ConfigIssue("", str(exc), line=exc.line)]) from None
    except RecursionError:
        raise ConfigError(name, [ConfigIssue(
            "", f"nested too deeply; expected at most {MAX_DEPTH} levels of lists and mappings")]
        ) from None
    except yaml.MarkedYAMLError as exc:
        raise ConfigError(name, [_yaml_issue(exc)]) from None
    except yaml.YAMLError as exc:
        raise ConfigError(name, [ConfigIssue("", f"not valid YAML: {exc}")]) from None
    finally:
        loader.dispose()
    if data is None:
        raise ConfigError(name, [ConfigIssue("", _EMPTY)])
    return data, lines


def _yaml_issue(exc: yaml.MarkedYAMLError) -> ConfigIssue:
    """One line for a YAML syntax error: where it is and what the reader expected there."""
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + 1 if mark is not None else None
    parts = []
    if exc.context:
        started = exc.context_mark
        same = started is None or mark is None or started.line == mark.line
        parts.append(exc.context + ("" if same else f" (started on line {started.line + 1})"))
    if exc.problem:
        parts.append(exc.problem + (f" at column {mark.column + 1}" if mark is not None else ""))
    what = ", ".join(parts) or "syntax error"
    hint = ""
    if "\t" in what or "'\\t'" in what:
        hint = "; indent with spaces, not tabs"
    elif "mapping values are not allowed" in what:
        hint = "; a value that contains ': ' must be quoted, and keys must line up"
    return ConfigIssue("", f"not valid YAML: {what}{hint}", line=line)


_NON_PRINTABLE = re.compile("[^\x09\x0A\x0D\x20-\x7E\x85\xA0-\uD7FF\uE000-\uFFFD"
                            "\U00010000-\U0010FFFF]")
"""Characters the YAML reader refuses (YAML 1.1 'printable' complement, as PyYAML's Reader)."""


class _TooLarge(Exception):
    """The YAML document expands to more values, or nests deeper, than the limits, or contains
    itself (a recursive alias)."""

    def __init__(self, message: str, line: int | None):
        super().__init__(message)
        self.line = line


def _index_lines(node: yaml.Node, path: Path_, lines: dict, dupes: list, active: set,
                 count: list[int]) -> None:
    """Record the line of every key and list item; report keys given twice in one mapping.

    ``count`` holds the number of values visited so far, every alias counted again where it is
    used: past :data:`MAX_NODES` (or :data:`MAX_DEPTH` levels) the file is refused, so that the
    work per file is bounded whatever its aliases expand to."""
    count[0] += 1
    if count[0] > MAX_NODES:
        raise _TooLarge(f"the file expands to more than {MAX_NODES:,} values (through aliases "
                        f"*name reusing &name); expected a plant or study description of at "
                        f"most {MAX_NODES:,} values", node.start_mark.line + 1)
    if len(path) > MAX_DEPTH:
        raise _TooLarge(f"nested too deeply; expected at most {MAX_DEPTH} levels of lists and "
                        f"mappings", node.start_mark.line + 1)
    lines.setdefault(path, node.start_mark.line + 1)
    if id(node) in active:  # a recursive alias: the data would contain itself
        raise _TooLarge(f"{_format_path(path) or 'the document'}: an alias (*name) inside the "
                        f"value its anchor (&name) marks; expected values that do not contain "
                        f"themselves", node.start_mark.line + 1)
    active.add(id(node))
    if isinstance(node, yaml.MappingNode):
        first: dict[str, int] = {}
        merged: list[yaml.Node] = []
        for k, v in node.value:
            if k.tag == _MERGE_TAG:
                merged.extend(v.value if isinstance(v, yaml.SequenceNode) else [v])
                continue
            if not isinstance(k, yaml.ScalarNode):
                continue  # a complex key; construction reports it
            key = str(k.value)
            line = k.start_mark.line + 1
            if key in first:
                dupes.append(ConfigIssue(
                    _format_path((*path, key)),
                    f"duplicate key, first given on line {first[key]}; expected each key once "
                    f"(the later value would silently replace the first)", line=line))
                continue
            first[key] = line
            lines[(*path, key)] = line
            _index_lines(v, (*path, key), lines, dupes, active, count)
        for m in merged:  # keys taken from an anchor: point at the anchor's lines
            if not isinstance(m, yaml.MappingNode):
                continue
            for k, v in m.value:
                if isinstance(k, yaml.ScalarNode) and k.tag != _MERGE_TAG and k.value not in first:
                    first[str(k.value)] = k.start_mark.line + 1
                    lines.setdefault((*path, str(k.value)), k.start_mark.line + 1)
                    _index_lines(v, (*path, str(k.value)), lines, [], active, count)
    elif isinstance(node, yaml.SequenceNode):
        for i, v in enumerate(node.value):
            _index_lines(v, (*path, i), lines, dupes, active, count)
    active.discard(id(node))


def _format_path(path: Path_) -> str:
    out = ""
    for el in path:
        out += f"[{el}]" if isinstance(el, int) else (f".{el}" if out else str(el))
    return out


def _parse_path(text: str) -> Path_:
    out: list[str | int] = []
    for part in re.findall(r"[^.\[\]]+|\[\d+\]", text):
        out.append(int(part[1:-1]) if part.startswith("[") else part)
    return tuple(out)


PLANT_FILE_FIELDS: tuple[tuple[str, ...], ...] = (
    ("energy", "weather", "file"),
    ("energy", "grid", "tariff", "price_file", "file"),
    ("energy", "pv", "*", "profile", "file"),
    ("energy", "wind", "*", "profile", "file"),
    ("carbon", "hourly_factor_file"),
    ("sources", "*", "file"),
)
"""Where a plant file names other files (``*``: every item of a list); a relative path there is
relative to the plant file's folder (:func:`load_plant`)."""


def rebase_file_paths(data: Any, source_dir: str | Path, target_dir: str | Path) -> None:
    """In raw plant data read from a file in ``source_dir``, make every relative data-file path
    (:data:`PLANT_FILE_FIELDS`) relative to ``target_dir`` instead, in place: for a plant file
    written there (``calibrated_plant.yaml``, ``sized_plant.yaml``). Absolute paths stay."""
    source, target = Path(source_dir).resolve(), Path(target_dir).resolve()

    def walk(node: Any, keys: tuple[str, ...]) -> None:
        key, rest = keys[0], keys[1:]
        if key == "*":
            for item in node if isinstance(node, list) else ():
                walk(item, rest)
        elif isinstance(node, dict) and key in node:
            if rest:
                walk(node[key], rest)
            elif isinstance(node[key], str) and not Path(node[key]).is_absolute():
                node[key] = os.path.relpath(source / node[key], target)

    for keys in PLANT_FILE_FIELDS:
        walk(data, keys)


def load_plant(path: str | Path) -> Plant:
    """Read and validate a plant file.

    Parameters
    ----------
    path : str or Path
        YAML plant file.

    Returns
    -------
    Plant
        The validated, immutable plant.

    Raises
    ------
    ConfigError
        With one line per problem: ``file:line: field.path: what is expected (got value)``.
    """
    data, lines = read_yaml(path)
    plant = plant_from_data(data, str(path), lines)
    return _resolve_paths(plant, Path(path).resolve().parent)


def _resolve_paths(plant: Plant, base: Path) -> Plant:
    """Make relative weather, grid-intensity, price, order-book and plan file paths relative to
    the plant file's folder."""
    from twin.config.orders import resolve_source_files

    plant = resolve_price_file(plant, base)
    plant = resolve_source_files(plant, base)
    carbon = plant.carbon
    if carbon is not None and carbon.hourly_factor_file is not None:
        file = Path(carbon.hourly_factor_file)
        if not file.is_absolute():
            plant = plant.model_copy(update={"carbon": carbon.model_copy(
                update={"hourly_factor_file": str(base / file)})})
    energy = plant.energy
    if energy is not None and any(u.profile is not None for u in (*energy.pv, *energy.wind)):
        energy = resolve_profile_files(energy, base)  # type: ignore[assignment]
        plant = plant.model_copy(update={"energy": energy})
    if energy is None or energy.weather is None or energy.weather.file is None:
        return plant
    file = Path(energy.weather.file)
    if file.is_absolute():
        return plant
    weather = energy.weather.model_copy(update={"file": str(base / file)})
    return plant.model_copy(update={"energy": energy.model_copy(update={"weather": weather})})


_KINDS = {list: "a list", str: "text", int: "a number", float: "a number", bool: "true/false"}


def plant_from_data(
    data: Any, name: str = "<data>", lines: dict[Path_, int] | None = None
) -> Plant:
    """Validate already-parsed plant data (e.g. a dict built in Python or with overrides)."""
    lines = lines or {}
    if not isinstance(data, dict):
        if data is None:
            raise ConfigError(name, [ConfigIssue("", _EMPTY)])
        raise ConfigError(name, [ConfigIssue(
            "", f"expected a mapping of sections (site:, products:, equipment_types:, lines:, "
                f"sources:) at the top level, not {_KINDS.get(type(data), type(data).__name__)}",
            line=lines.get(()))])  # never echo the value: it may be another file's contents
    try:
        plant = Plant.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(name, _issues_from_validation(exc, data, Plant, lines)) from None
    issues = check_references(plant)
    if issues:
        raise ConfigError(name, [_with_line(i, lines) for i in issues])
    return plant


def _line_of(path: Path_, lines: dict[Path_, int]) -> int | None:
    while path and path not in lines:
        path = path[:-1]
    return lines.get(path)


def _with_line(issue: ConfigIssue, lines: dict[Path_, int]) -> ConfigIssue:
    return ConfigIssue(issue.path, issue.message, issue.value, issue.has_value,
                       _line_of(_parse_path(issue.path), lines))


# ---------------------------------------------------------------------------------------------
# pydantic errors -> one line each, in the words of the plant file


_DATE = "a date as YYYY-MM-DD"
_MAPPING = "a mapping of key: value pairs"
_EXPECTED = {
    "string_type": "text",
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "float_type": "a number",
    "float_parsing": "a number",
    "finite_number": "a finite number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "date_type": _DATE,
    "date_parsing": _DATE,
    "date_from_datetime_parsing": _DATE,
    "date_from_datetime_inexact": _DATE,
    "list_type": "a list: [a, b] or one '- item' per line",
    "dict_type": _MAPPING,
    "model_type": _MAPPING,
    "model_attributes_type": _MAPPING,
}
_BOUNDS = {"greater_than_equal": ("ge", ">="), "greater_than": ("gt", ">"),
           "less_than_equal": ("le", "<="), "less_than": ("lt", "<")}
_SYNONYMS = {"gaussian": "normal", "gauss": "normal", "exp": "exponential",
             "fixed": "constant", "deterministic": "constant", "log-normal": "lognormal",
             "lognorm": "lognormal", "triangle": "triangular", "tri": "triangular",
             "discrete": "empirical", "poisson": "arrivals", "seconds": "s", "second": "s",
             "sec": "s", "minutes": "min", "minute": "min", "m": "min", "hours": "h",
             "hour": "h", "hr": "h"}
"""Words engineers use for an allowed value, for 'did you mean' hints."""


def _issues_from_validation(
    exc: ValidationError, data: Any, root: type[BaseModel], lines: dict[Path_, int]
) -> list[ConfigIssue]:
    issues = []
    for err in exc.errors(include_url=False):
        try:
            path, msg, value, has_value = _explain(err, data, root)
        except Exception:  # pragma: no cover - never hide a problem behind a crash in wording
            path = tuple(str(e) if not isinstance(e, int) else e for e in err["loc"])
            msg, value, has_value = str(err["msg"]), err.get("input"), True
        issues.append(ConfigIssue(_format_path(path), msg, value, has_value,
                                  _line_of(path, lines)))
    issues.sort(key=lambda i: (i.line or 0, i.path))
    return issues


def _explain(err: Any, data: Any, root: type[BaseModel]) -> tuple[Path_, str, Any, bool]:
    """Path, message, value and whether to show the value, for one pydantic error."""
    kind: str = err["type"]
    loc = tuple(err["loc"])
    ctx = err.get("ctx") or {}
    value = err.get("input")
    is_key = bool(loc) and loc[-1] == "[key]"  # a bad key of a dict (weekday, state, carrier)
    path = _data_path(loc[:-1] if is_key else loc, data)
    tp, info = _walk(root, data, path)

    if kind == "extra_forbidden" or (is_key and kind == "literal_error"):
        key = str(path[-1] if path else loc[-2 if is_key else -1])
        allowed = (_allowed_keys(root, data, path[:-1]) if kind == "extra_forbidden"
                   else _choices(ctx.get("expected", "")))
        return path, _unknown_key(key, allowed), value, False
    if kind == "missing":
        desc = info.description if info is not None else None
        return path, "required field is missing" + (f"; expected {_lower(desc)}" if desc else ""), \
            None, False
    if kind == "literal_error":
        choices = _choices(ctx.get("expected", ""))
        quote = "'" in str(ctx.get("expected", ""))
        return path, _expect_choice(str(value), choices, quote), value, True
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        tag_key = str(ctx.get("discriminator", "")).strip("'") or "kind"
        tags = _union_tags(tp, tag_key)
        if kind == "union_tag_invalid":
            tag = ctx.get("tag")
            return (*path, tag_key), f"unknown {tag_key}; " + _expect_choice(str(tag), tags), \
                tag, True
        example = _example(tag_key)
        return path, f"'{tag_key}:' is missing; expected {tag_key}: one of {_quoted(tags)}" \
            f"{example}", value, _small(value)
    if kind in _BOUNDS:
        name, op = _BOUNDS[kind]
        what = "a whole number" if _resolve(tp, None) is int else "a number"
        return path, f"expected {what} {op} {_num(ctx.get(name))}", value, True
    if kind in ("too_short", "too_long", "string_too_short", "string_too_long"):
        n = ctx.get("min_length", ctx.get("max_length"))
        few = "at least" if "short" in kind else "at most"
        unit = "character" if kind.startswith("string") else "entry"
        units = unit if n == 1 else ("characters" if unit == "character" else "entries")
        return path, f"expected {few} {n} {units}", value, True
    if kind == "string_pattern_mismatch":
        if ctx.get("pattern") == ID_PATTERN:
            msg = "expected an id without ':' and without leading, trailing or double blanks"
        else:
            msg = f"expected text matching {ctx.get('pattern')}"
        return path, msg, value, True
    if kind in ("value_error", "assertion_error"):
        msg = str(err["msg"])
        if msg.startswith(("Value error, ", "Assertion failed, ")):
            msg = msg.split(", ", 1)[1]
        named = re.match(r"([A-Za-z_]\w*): (.+)", msg, re.S)
        if named and isinstance(value, dict):  # a model-level check about one of its fields
            key = _key_in(value, named.group(1))
            if key is not None:
                field = value[key]
                return (*path, str(key)), named.group(2), field, \
                    not isinstance(field, (dict, list))
            model = _resolve(tp, value)
            if isinstance(model, type) and issubclass(model, BaseModel) \
                    and named.group(1) in model.model_fields:  # a default value
                return (*path, named.group(1)), named.group(2), None, False
        # our model-level checks name the values themselves; a whole mapping adds nothing
        return path, msg, value, not isinstance(value, (dict, list))
    if kind in _EXPECTED:
        expected = _EXPECTED[kind]
        if expected == _MAPPING:
            expected = _mapping_hint(tp)
        elif expected == _DATE and "outside" in str(ctx.get("error", "")):
            expected += f" ({ctx['error']})"
        if value is None:
            return path, f"no value given; expected {expected}", None, False
        return path, f"expected {expected}", value, True
    msg = str(err["msg"])
    msg = "expected " + msg[len("Input should be "):] if msg.startswith("Input should be ") else msg
    return path, msg, value, True


def _small(value: Any) -> bool:
    return not isinstance(value, (dict, list)) or len(repr(value)) < 100


def _lower(text: str) -> str:
    text = text.strip().rstrip(".")
    return text[0].lower() + text[1:] if len(text) > 1 and text[1].islower() else text


def _quoted(items: list[str]) -> str:
    return ", ".join(f"'{i}'" for i in items)


def _choices(expected: str) -> list[str]:
    """The allowed values in pydantic's ``"'a', 'b' or 'c'"`` (or ``"5, 10 or 15"``)."""
    return [a or b for a, b in re.findall(r"'([^']*)'|(-?\d+(?:\.\d+)?)", expected)]


def _unknown_key(key: str, allowed: list[str]) -> str:
    close = difflib.get_close_matches(key, allowed, n=1)
    if close:
        return f"unknown key '{key}'; did you mean '{close[0]}'?"
    if allowed:
        return f"unknown key '{key}'; expected one of: {', '.join(allowed)}"
    return f"unknown key '{key}'"


def _expect_choice(got: str, choices: list[str], quote: bool = True) -> str:
    """``expected 'a' or 'b'`` or ``expected one of ...``, and 'did you mean' if one is close."""
    q = "'" if quote else ""
    shown = [f"{q}{c}{q}" for c in choices]
    text = " or ".join(shown) if len(shown) <= 2 else f"one of {', '.join(shown)}"
    known = _SYNONYMS.get(got.strip().lower())
    close = [known] if known in choices else difflib.get_close_matches(got, choices, n=1)
    return f"expected {text}" + (f"; did you mean '{close[0]}'?" if close else "")


def _num(x: Any) -> str:
    return f"{x:g}" if isinstance(x, float) else str(x)


def _example(tag_key: str) -> str:
    if tag_key == "dist":
        return ", e.g. {dist: exponential, mean: 60, unit: s}"
    return ""


def _mapping_hint(tp: Any) -> str:
    tagged = _union_tag_key(tp)
    if tagged is not None:
        key, tags = tagged
        return f"a mapping with {key}: one of {_quoted(tags)}{_example(key)}"
    model = _resolve(tp, None)
    if isinstance(model, type) and issubclass(model, BaseModel):
        required = [n for n, f in model.model_fields.items() if f.is_required()]
        if required:
            return f"{_MAPPING} with at least: {', '.join(required)}"
    return _MAPPING


def _data_path(loc: tuple, data: Any) -> Path_:
    """Translate a pydantic ``loc`` into a path in the user's data, dropping union tags and type
    names (``process_time.exponential.mean`` -> ``process_time.mean``)."""
    out: list[str | int] = []
    cur = data
    for k, el in enumerate(loc):
        last = k == len(loc) - 1
        if isinstance(cur, dict):
            key = _key_in(cur, el)
            if key is not None:
                out.append(str(key))
                cur = cur[key]
            elif isinstance(el, str) and el in (cur.get("dist"), cur.get("kind")):
                continue  # the union member chosen by this mapping's tag
            elif last:
                out.append(str(el))  # a missing key
            continue  # otherwise a type name, not a key of the user's data
        if isinstance(cur, list) and isinstance(el, int) and 0 <= el < len(cur):
            out.append(el)
            cur = cur[el]
            continue
        if isinstance(cur, list):
            continue
        break  # below a scalar: only type names follow
    return tuple(out)


def _key_in(mapping: dict, el: Any) -> Any:
    """The key of ``mapping`` that ``el`` names (keys may be numbers: ``10: ...``), or None."""
    if not isinstance(el, (str, int)) or isinstance(el, bool):
        return None
    if el in mapping:
        return el
    for key in mapping:
        if str(key) == str(el):
            return key
    return None


def _child(cur: Any, el: str | int) -> Any:
    if isinstance(cur, dict):
        key = _key_in(cur, el)
        return cur[key] if key is not None else None
    if isinstance(cur, list) and isinstance(el, int) and 0 <= el < len(cur):
        return cur[el]
    return None


def _walk(root: type, data: Any, path: Path_) -> tuple[Any, Any]:
    """The type annotation at ``path`` and, when it is a model field, its ``FieldInfo``."""
    tp: Any = root
    cur = data
    info = None
    for el in path:
        tp = _resolve(tp, cur)
        info = None
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            info = tp.model_fields.get(str(el))
            if info is None:
                return None, None
            tp = info.annotation
        else:
            origin, args = get_origin(tp), get_args(tp)
            if origin is list and args:
                tp = args[0]
            elif origin is dict and len(args) == 2:
                tp = args[1]
            else:
                return None, None
        cur = _child(cur, el)
    return tp, info


def _allowed_keys(root: type, data: Any, path: Path_) -> list[str]:
    tp, _ = _walk(root, data, path)
    tp = _resolve(tp, _at(data, path))
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        names = list(tp.model_fields)
        for tag in ("dist", "kind"):  # the tag first, a shared 'unit' last
            if tag in names:
                names.remove(tag)
                names.insert(0, tag)
        if "unit" in names and "dist" in names:
            names.remove("unit")
            names.append("unit")
        return names
    return []


def _at(data: Any, path: Path_) -> Any:
    for el in path:
        data = _child(data, el)
    return data


def _members(tp: Any) -> list[Any]:
    """The non-None members of a (possibly Annotated, possibly Optional) union, else [tp]."""
    while get_origin(tp) is typing.Annotated:
        tp = get_args(tp)[0]
    if get_origin(tp) in (Union, types.UnionType):
        out = []
        for a in get_args(tp):
            if a is not type(None):
                out.extend(_members(a))
        return out
    return [tp]


def _union_tag_key(tp: Any) -> tuple[str, list[str]] | None:
    """For a tagged union (distributions, sources): the tag key and its allowed values."""
    members = [m for m in _members(tp) if isinstance(m, type) and issubclass(m, BaseModel)]
    if len(members) < 2:
        return None
    for key in ("dist", "kind"):
        if all(key in m.model_fields for m in members):
            return key, _union_tags(tp, key)
    return None


def _union_tags(tp: Any, key: str) -> list[str]:
    tags: list[str] = []
    for m in _members(tp):
        if isinstance(m, type) and issubclass(m, BaseModel) and key in m.model_fields:
            tags.extend(str(a) for a in get_args(m.model_fields[key].annotation))
    return tags


def _resolve(tp: Any, data: Any) -> Any:
    """Strip Annotated/Optional and pick the union member a tagged mapping selects."""
    members = _members(tp)
    if len(members) == 1:
        return members[0]
    if isinstance(data, dict):
        for m in members:
            if isinstance(m, type) and issubclass(m, BaseModel):
                for tag in ("dist", "kind"):
                    f = m.model_fields.get(tag)
                    if f is not None and data.get(tag) in get_args(f.annotation):
                        return m
    return members[0]
