"""The keys of the translation table as the code uses them, collected from the source.

A key is the English text given as a string literal to :func:`twin.i18n.tr` (translate here) or
:func:`twin.i18n.N_` (a label defined in a table, translated where it is shown) in ``twin/``. The
completeness test compares these with ``twin/data/i18n/zh.yaml`` in both directions.
"""

from __future__ import annotations

import ast
from pathlib import Path

WRAPPERS = {"tr": (0,), "N_": (0,)}
"""Function name -> positions of its arguments that are translation keys."""


def keys_in(source: str) -> set[str]:
    """Translation keys used in one Python source text (string literals only)."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                and node.func.id in WRAPPERS:
            for i in WRAPPERS[node.func.id]:
                arg = node.args[i] if i < len(node.args) else None
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str) and arg.value:
                    out.add(arg.value)
    return out


def used_keys(root: Path | None = None) -> set[str]:
    """Every translation key used under ``root`` (default: the ``twin`` package)."""
    root = root or Path(__file__).resolve().parent
    keys: set[str] = set()
    for path in sorted(root.rglob("*.py")):
        keys |= keys_in(path.read_text("utf-8"))
    return keys
