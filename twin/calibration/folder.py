"""The calibration folder: what ``twin calibrate`` writes from a
:class:`~twin.calibration.run.CalibrationRun`.

``calibration.json`` (the summary the page and scripts read), ``comparison.parquet`` (measured,
before and after per meter and hour), ``excluded_readings.csv`` (the data-quality pass's
account), ``calibrated_plant.yaml`` (the plant file with the fitted values) and
``dashboard.html``; built whole and swapped in.
"""

from __future__ import annotations

import copy
import math
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from twin.calibration.run import CalibrationRun


def save_calibration(run: CalibrationRun, out: str | os.PathLike, overwrite: bool = False
                     ) -> Path:
    """Write the calibration folder: ``calibration.json``, ``comparison.parquet``,
    ``excluded_readings.csv``, ``calibrated_plant.yaml`` (when fitted) and ``dashboard.html``;
    built whole under a temporary name and swapped in (:func:`twin.atomic.staged_folder`), so
    nothing already there is lost or half-written."""
    import json

    from twin.atomic import check_target, csv_safe, staged_folder
    from twin.dashboard.calibration import write_calibration_page

    out = Path(out)
    check_target(out)
    if out.exists() and not overwrite:
        raise FileExistsError(f"{out} exists; pass overwrite=True (--overwrite) to replace it")
    with staged_folder(out) as tmp:
        (tmp / "calibration.json").write_text(
            json.dumps(_clean(_summary(run)), indent=2, ensure_ascii=False, allow_nan=False)
            + "\n", encoding="utf-8")
        _comparison(run).to_parquet(tmp / "comparison.parquet")
        csv_safe(run.measured.excluded).to_csv(tmp / "excluded_readings.csv", index=False,
                                               lineterminator="\n")
        if run.after is not None:
            (tmp / "calibrated_plant.yaml").write_text(_calibrated_yaml(run, out),
                                                         encoding="utf-8")
        write_calibration_page(tmp)
    return out


def _summary(run: CalibrationRun) -> dict:
    cal = run.cal
    t0 = pd.Timestamp(run.start).tz_localize(cal.plant.site.timezone)
    t1 = t0 + pd.Timedelta(days=run.days)
    return {
        "plant": str(cal.plant_path), "plant_name": cal.plant.site.name,
        "calibration_file": str(cal.path),
        "period": {"start": t0.isoformat(), "end": t1.isoformat(),
                   "interval_min": cal.plant.simulation.settlement_interval_min},
        "holdout": None if run.holdout_start is None else
        {"start": run.holdout_start.isoformat(), "end": t1.isoformat()},
        "fit": run.after is not None,
        "replications": cal.spec.replications, "seed": cal.seed,
        "warmup_days": cal.spec.warmup_days,
        "meters": {c.name: {"target": c.target, "carrier": _carrier(c.carrier),
                            "fitted": c.sensitive, "sensitivity_exact": c.exact}
                   for c in run.chans},
        "site_meter": run.site if run.site is not None else (
            "sum of " + ", ".join(run.chans[k].name for k in run.site_parts)
            if run.site_parts else None),
        "limits": _limits(),
        "metrics": run.metrics,
        "parameters": run.parameters,
        "identifiability": run.identifiability,
        "data_quality": run.measured.quality,
        "runs": run.runs, "wall_s": round(run.wall_s, 2),
    }


def _limits() -> dict:
    from twin.calibration.metrics import LIMITS

    return dict(LIMITS)


def _carrier(c: int) -> str:
    from twin.config.plant import CARRIERS

    return CARRIERS[c]


def _clean(obj: Any) -> Any:
    """JSON-ready: NaN and inf as null, numpy scalars as Python numbers."""
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    if isinstance(obj, (np.floating, float)):
        v = float(obj)
        return v if math.isfinite(v) else None
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    return obj


def _comparison(run: CalibrationRun) -> pd.DataFrame:
    cols: dict[str, np.ndarray] = {}
    for k, c in enumerate(run.chans):
        cols[f"measured:{c.name}"] = run.y[:, k]
        cols[f"before:{c.name}"] = run.before[:, k]
        if run.after is not None:
            cols[f"after:{c.name}"] = run.after[:, k]
    if run.site_parts:  # the site as the sum of its group meters (hours all of them read)
        cols["measured:site"] = run.y[:, run.site_parts].sum(axis=1)
        cols["before:site"] = run.before[:, run.site_parts].sum(axis=1)
        if run.after is not None:
            cols["after:site"] = run.after[:, run.site_parts].sum(axis=1)
    holdout = np.zeros(len(run.index), bool) if run.holdout_start is None else \
        np.asarray(run.index >= run.holdout_start)
    cols["holdout"] = holdout
    df = pd.DataFrame(cols, index=run.index)
    df.index.name = "timestamp"
    return df


def _calibrated_yaml(run: CalibrationRun, out: Path) -> str:
    """The plant file's data with the fitted values set, relative file paths made relative to
    the calibration folder, and a header saying where the values come from."""
    import yaml

    from twin.config.loader import rebase_file_paths
    from twin.config.study import apply_override

    cal = run.cal
    data = copy.deepcopy(cal.plant_data)
    for path, value in run.fitted_values.items():
        apply_override(data, path, float(value))
    rebase_file_paths(data, cal.plant_path.parent, out)
    head = [f"# Calibrated from {cal.plant_path.name} by twin calibrate ({cal.path.name}),",
            f"# {run.start} + {run.days} d against {Path(cal.meter.file).name}; fitted values:"]
    for row in run.parameters:
        std = "" if row["std"] is None else f" +- {row['std']:.4g}"
        flag = "" if row["identifiable"] else "  (not identifiable: see calibration.json)"
        head.append(f"#   {row['path']}: {row['before']:g} -> {row['after']:.6g}{std}{flag}")
    body = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
    return "\n".join(head) + "\n" + body
