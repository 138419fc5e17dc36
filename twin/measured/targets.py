"""Checking a meter block's targets against the plant: known groups and carriers."""

from __future__ import annotations

from collections.abc import Sequence

from twin.config.checks import _hint
from twin.config.errors import ConfigIssue
from twin.measured.spec import MeterSpec

_ELECTRIC_SITES = ("grid_import", "grid_export", "pv")


def check_targets(spec: MeterSpec, groups: Sequence[str], carriers: Sequence[str]
                  ) -> list[ConfigIssue]:
    """Problems of ``spec.columns`` against the plant's equipment ``groups`` and ``carriers``:
    an unknown group or carrier (with a did-you-mean), a grid or PV meter of another carrier.
    Paths are ``meter.columns.<name>.<key>``."""
    issues: list[ConfigIssue] = []
    for name, col in spec.columns.items():
        path = f"meter.columns.{name}"
        if col.carrier not in carriers:
            issues.append(ConfigIssue(f"{path}.carrier", "unknown carrier; "
                                      + _hint(col.carrier, carriers, "carrier"), col.carrier,
                                      True))
        wanted = [col.group] if isinstance(col.group, str) else (col.group or [])
        for k, g in enumerate(wanted):
            where = f"{path}.group" if isinstance(col.group, str) else f"{path}.group[{k}]"
            if g not in groups:
                issues.append(ConfigIssue(where, "unknown equipment group; "
                                          + _hint(g, groups, "equipment group"), g, True))
        if col.site in _ELECTRIC_SITES and col.carrier != "electricity":
            issues.append(ConfigIssue(f"{path}.carrier", f"a '{col.site}' meter measures "
                                      "electricity; expected carrier 'electricity' (or no "
                                      "carrier)", col.carrier, True))
    return issues
