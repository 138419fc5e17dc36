"""Read plant files: YAML to validated :class:`~twin.config.plant.Plant`, with precise errors.

YAML is read with YAML 1.2 core-schema scalars: ``off``/``on``/``yes``/``no`` stay strings (they are
state names here) and ``06:00`` stays a time string (YAML 1.1 would read it as the number 360).
Every problem is reported with the file, line, field path, value and what was expected.
"""

from __future__ import annotations

import re
import types
import typing
from pathlib import Path
from typing import Any, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, ValidationError

from twin.config.checks import check_references
from twin.config.errors import ConfigError, ConfigIssue
from twin.config.plant import Plant


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

Path_ = tuple[str | int, ...]


def read_yaml(path: str | Path) -> tuple[Any, dict[Path_, int]]:
    """Parse a YAML file; return the data and the 1-based line of every key and list item.

    Raises :class:`ConfigError` for a missing or empty file, a YAML syntax error or a duplicate key.
    """
    name = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(name, [ConfigIssue("", "file not found")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(name, [ConfigIssue("", f"cannot read file: {exc}")]) from None
    return parse_yaml(text, name)


def parse_yaml(text: str, name: str = "<string>") -> tuple[Any, dict[Path_, int]]:
    """Like :func:`read_yaml`, for text already in memory (``name`` is used in messages)."""
    if not text.strip() or all(
        not ln.strip() or ln.lstrip().startswith("#") for ln in text.splitlines()
    ):
        raise ConfigError(name, [ConfigIssue("", "file is empty; expected a YAML mapping")])
    loader = TwinYamlLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        what = " ".join(s for s in (exc.context, exc.problem) if s)
        raise ConfigError(name, [ConfigIssue("", f"not valid YAML: {what}", line=line)]) from None
    except yaml.YAMLError as exc:
        raise ConfigError(name, [ConfigIssue("", f"not valid YAML: {exc}")]) from None
    finally:
        loader.dispose()
    lines: dict[Path_, int] = {}
    dupes: list[ConfigIssue] = []
    if node is not None:
        _index_lines(node, (), lines, dupes)
    if dupes:
        raise ConfigError(name, dupes)
    return data, lines


def _index_lines(node: yaml.Node, path: Path_, lines: dict, dupes: list) -> None:
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        seen: set = set()
        for k, v in node.value:
            key = k.value
            if key in seen:
                dupes.append(ConfigIssue(_format_path((*path, key)), "duplicate key",
                                         line=k.start_mark.line + 1))
            seen.add(key)
            lines[(*path, key)] = k.start_mark.line + 1
            _index_lines(v, (*path, key), lines, dupes)
    elif isinstance(node, yaml.SequenceNode):
        for i, v in enumerate(node.value):
            _index_lines(v, (*path, i), lines, dupes)


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
    return plant_from_data(data, str(path), lines)


def plant_from_data(data: Any, name: str = "<data>", lines: dict[Path_, int] | None = None) -> Plant:
    """Validate already-parsed plant data (e.g. a dict built in Python or with overrides)."""
    lines = lines or {}
    if not isinstance(data, dict):
        raise ConfigError(name, [ConfigIssue(
            "", f"expected a mapping (site:, products:, ...) at the top level, got "
                f"{type(data).__name__}", data, True, lines.get(()))])
    try:
        plant = Plant.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(name, _issues_from_validation(exc, data, Plant, lines)) from None
    issues = check_references(plant)
    if issues:
        raise ConfigError(name, [_with_line(i, lines) for i in issues])
    return plant


def _with_line(issue: ConfigIssue, lines: dict[Path_, int]) -> ConfigIssue:
    path = _parse_path(issue.path)
    while path and path not in lines:
        path = path[:-1]
    return ConfigIssue(issue.path, issue.message, issue.value, issue.has_value, lines.get(path))


def _issues_from_validation(
    exc: ValidationError, data: Any, root: type[BaseModel], lines: dict[Path_, int]
) -> list[ConfigIssue]:
    issues = []
    for err in exc.errors(include_url=False):
        path = _data_path(err["loc"], data)
        kind = err["type"]
        msg = str(err["msg"])
        if msg.startswith(("Value error, ", "Assertion failed, ")):
            msg = msg.split(", ", 1)[1]
        has_value = True
        if kind == "extra_forbidden":
            allowed = _allowed_keys(root, data, path[:-1])
            key = str(path[-1])
            import difflib

            close = difflib.get_close_matches(key, allowed, n=1)
            msg = f"unknown key '{key}'; " + (
                f"did you mean '{close[0]}'?" if close else f"expected one of: {', '.join(allowed)}"
            )
            has_value = False
        elif kind == "missing":
            msg = "required field is missing"
            has_value = False
        elif kind == "union_tag_invalid" or kind == "union_tag_not_found":
            msg = msg.replace("Input tag", "tag")
        value = err.get("input")
        if isinstance(value, dict) and kind not in ("missing",):
            has_value = has_value and len(repr(value)) < 120
        p = path
        while p and p not in lines:
            p = p[:-1]
        issues.append(ConfigIssue(_format_path(path), msg, value, has_value, lines.get(p)))
    issues.sort(key=lambda i: (i.line or 0, i.path))
    return issues


def _data_path(loc: tuple, data: Any) -> Path_:
    """Translate a pydantic ``loc`` into a path in the user's data, dropping union tags."""
    out: list[str | int] = []
    cur = data
    for k, el in enumerate(loc):
        last = k == len(loc) - 1
        if isinstance(cur, dict) and el in cur:
            out.append(el)
            cur = cur[el]
        elif isinstance(cur, list) and isinstance(el, int) and 0 <= el < len(cur):
            out.append(el)
            cur = cur[el]
        elif last or not isinstance(cur, (dict, list)):
            if isinstance(el, str) and el.startswith(("function-", "literal[", "lax-")):
                continue
            if isinstance(cur, dict) or last:
                out.append(el)
            break
        # otherwise: a union tag or type name, not a key of the user's data
    return tuple(out)


def _allowed_keys(root: type, data: Any, path: Path_) -> list[str]:
    tp: Any = root
    cur = data
    for el in path:
        tp = _resolve(tp, cur)
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            field = tp.model_fields.get(str(el))
            if field is None:
                return []
            tp = field.annotation
        else:
            origin = get_origin(tp)
            args = get_args(tp)
            if origin is list:
                tp = args[0]
            elif origin is dict:
                tp = args[1]
            else:
                return []
        cur = cur[el] if isinstance(cur, (dict, list)) else None
    tp = _resolve(tp, cur)
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return list(tp.model_fields)
    return []


def _resolve(tp: Any, data: Any) -> Any:
    """Strip Annotated/Optional and pick the union member a tagged mapping selects."""
    while True:
        origin = get_origin(tp)
        if origin is typing.Annotated:
            tp = get_args(tp)[0]
            continue
        if origin in (Union, types.UnionType):
            members = [a for a in get_args(tp) if a is not type(None)]
            chosen = members[0]
            if isinstance(data, dict):
                for m in members:
                    m2 = _resolve(m, None)
                    if isinstance(m2, type) and issubclass(m2, BaseModel):
                        for tag in ("dist", "kind"):
                            f = m2.model_fields.get(tag)
                            if f is not None and data.get(tag) in get_args(f.annotation):
                                chosen = m
            tp = chosen
            continue
        return tp
