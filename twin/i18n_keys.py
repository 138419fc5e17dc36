"""The keys of the translation table as the code uses them, collected from the source.

A key is the English text given as a string literal to :func:`twin.i18n.tr` (translate here) or
:func:`twin.i18n.N_` (a label defined in a table, translated where it is shown) in ``twin/``. The
completeness test compares these with ``twin/data/i18n/zh.yaml`` in both directions.

Texts that come from data rather than code literals are keys too (:func:`data_keys`): the labels
of the evaluation's metrics and the titles, indicator labels and basis texts of the packaged rule
sets (``twin/data/carbon/evaluation_rules.yaml``), shown through :func:`twin.i18n.message`.
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


def data_keys() -> set[str]:
    """Translation keys that come from data: the evaluation's metric labels and the packaged
    rule sets' titles, indicator labels and basis texts."""
    from twin.carbon.evaluation import METRICS, RULES_FILE, load_rules, rule_set_names

    keys = {label for label, _ in METRICS.values()}
    for name in rule_set_names(RULES_FILE):
        rules = load_rules(name)
        keys.add(rules["title"])
        for ind in rules["indicators"]:
            keys |= {t for t in (ind.get("label"), ind.get("basis")) if t}
    return keys


def used_keys(root: Path | None = None) -> set[str]:
    """Every translation key used under ``root`` (default: the ``twin`` package, with its
    :func:`data_keys`)."""
    keys = data_keys() if root is None else set()
    root = root or Path(__file__).resolve().parent
    for path in sorted(root.rglob("*.py")):
        keys |= keys_in(path.read_text("utf-8"))
    return keys
