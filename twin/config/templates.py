"""Starter plant files, one per sector (``twin init``), shipped as ``twin/data/templates/*.yaml``.

Each template is a small, commented plant file that validates and runs; every value without a
source is marked ILLUSTRATIVE in its comments, sourced values are cited beside them.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from twin.atomic import write_text
from twin.sector import SECTORS


class TemplateError(ValueError):
    """An unknown sector, or a target that may not be written."""


def template_text(sector: str) -> str:
    """The starter plant file of ``sector`` (YAML text)."""
    if sector not in SECTORS:
        raise TemplateError(f"unknown sector {sector!r}; expected one of {', '.join(SECTORS)}")
    return (resources.files("twin") / "data" / "templates" / f"{sector}.yaml").read_text(
        encoding="utf-8")


def write_template(sector: str, path: str | Path, force: bool = False) -> Path:
    """Write the starter plant file of ``sector`` to ``path`` atomically; refuse to replace an
    existing file unless ``force``, and refuse a folder or a missing parent folder."""
    path = Path(path)
    text = template_text(sector)
    if path.is_dir():
        raise TemplateError(f"{path} is a folder; expected the path of a plant file to write")
    if path.exists() and not force:
        raise TemplateError(f"{path} exists; give --force to replace it")
    if not path.parent.is_dir():
        raise TemplateError(f"{path}: folder {path.parent} does not exist; expected an "
                            f"existing folder")
    return write_text(path, text)
