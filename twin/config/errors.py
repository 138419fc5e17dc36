"""Configuration errors that name the file, the field path, the bad value and what is expected."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class ConfigIssue:
    """One problem in a configuration file."""

    path: str
    """Field path, e.g. ``lines[0].stations[2].buffer_capacity`` ('' for the whole file)."""
    message: str
    """What is wrong and what is expected."""
    value: object = None
    """The offending value, when there is one."""
    has_value: bool = False
    line: int | None = None
    """1-based line in the file, when known."""

    def format(self, file: str) -> str:
        where = f"{file}:{self.line}" if self.line else file
        field = f" {self.path}:" if self.path else ""
        got = f" (got {_short(self.value)})" if self.has_value else ""
        return f"{where}:{field} {self.message}{got}"


def _short(value: object, limit: int = 80) -> str:
    """The value as a YAML user would recognise it: ``true``/``null``, dates as ``2026-01-01``."""
    if value is None:
        text = "null"
    elif isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, (dt.date, dt.datetime)):
        text = value.isoformat(sep=" ") if isinstance(value, dt.datetime) else value.isoformat()
    else:
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


class ConfigError(ValueError):
    """A plant or study file that cannot be used. ``str(err)`` lists every problem, one a line."""

    def __init__(self, file: str, issues: list[ConfigIssue]):
        self.file = file
        self.issues = issues
        lines = [i.format(file) for i in issues]
        head = f"{file}: {len(issues)} problem{'s' if len(issues) != 1 else ''} found"
        super().__init__("\n".join([head, *("  " + s for s in lines)]))


class SupplyError(ValueError):
    """The ``energy:`` block cannot be turned into a supply for the run (e.g. a tariff preset not
    valid for the simulated dates, an unreadable weather file); the message starts with the
    field path."""
