"""The calibration dashboard: one self-contained HTML page from a calibration folder
(``twin calibrate CALIBRATION.yaml --out DIR``).

>>> from twin.dashboard.calibration import write_calibration_page
>>> write_calibration_page("results/demo_calibration")          # doctest: +SKIP
PosixPath('results/demo_calibration/dashboard.html')

The page reads only the calibration folder: ``calibration.json`` (the plant, the period, the
meters, the ASHRAE Guideline 14 indices before and after fitting and on the held-out period, the
fitted parameters with their identifiability, the data-quality counts) and ``comparison.parquet``
(one row per local hour: ``measured:<meter>``, ``before:<meter>``, ``after:<meter>`` in kWh and a
bool ``holdout``). It shares the run page's shell (styles, plotly.js embedded once, escaping,
colours) and shows, for a plant manager and an energy engineer: a verdict in plain words, the
index table with pass/fail marks, the fitted parameters, the data-quality counts and, per meter,
measured and simulated energy per hour (with a range slider), measured against simulated with
the 1:1 line, the residual by day and hour, the load-duration curves and the monthly totals.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from twin.atomic import write_text
from twin.calibration.metrics import LIMITS, MIN_MONTH_COVERAGE, monthly_totals
from twin.dashboard import theme
from twin.dashboard.figures import day_hour_grid, esc, hourly_x
from twin.dashboard.page import _day, _note, _section, html_page
from twin.dashboard.plot import Figure, figure_html, trace
from twin.i18n import tr

FILENAME = "dashboard.html"
MARKER = "calibration.json"
"""The file that makes a folder a calibration folder."""
COMPARISON = "comparison.parquet"

METER_FIGURES = ("series", "scatter", "duration", "residuals", "monthly")
"""Kinds of the figures of each meter, in page order (div id: :func:`figure_id`)."""
CORRELATION_FIGURE_ID = "fig-cal-correlations"
"""Div id of the parameter correlation matrix (with two or more parameters)."""

STAGE_LABELS = {"before": "As written", "after": "Fitted", "holdout": "Held-out period"}

CSS = """
#verdict{border-left:6px solid #8a6d00;background:#fffdf3}
#verdict.ok{border-left-color:#2e9e4f;background:#f4fbf6}
#verdict.bad{border-left-color:#b3261e;background:#fdf5f4}
#verdict-headline{font-size:19px;font-weight:600;margin:2px 0 8px}
.ok-word{color:#17692e;font-weight:600}.bad-word{color:#b3261e;font-weight:600}
.na-word{color:#8a6d00;font-weight:600}
table.stations td.flag{text-align:left;white-space:normal;font-size:13px}
table.stations td.path{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:13px}
.pair{display:grid;grid-template-columns:repeat(auto-fill,minmax(460px,1fr));gap:8px 18px}
.pair>div{min-width:0}
.scroll{overflow-x:auto}
#metrics-table th,#metrics-table td{padding:6px 7px}
#data-quality-table th:nth-child(2),#data-quality-table td:nth-child(2){text-align:right}
#verdict-table th{text-align:left}
#verdict-table td{vertical-align:top}
#verdict-table td:first-child{white-space:normal;font-weight:600}
#verdict-table td.why{max-width:none;text-align:left;color:#1f2933;font-size:14px}
.pair h3,section h3{font-size:15px;font-weight:600;margin:10px 0 0;color:#3e4c59}
"""


class CalibrationFolderError(ValueError):
    """A calibration folder that cannot be read (names the file, the field or column, the value
    and what is expected)."""


def figure_id(kind: str, meter_index: int) -> str:
    """Div id of the figure ``kind`` (one of :data:`METER_FIGURES`) of the ``meter_index``-th
    meter of the page (ids never hold the meter's name: it is a user string)."""
    return f"fig-cal-{kind}-{meter_index}"


@dataclass
class CalibrationData:
    """What the calibration page reads from a calibration folder."""

    folder: Path
    info: dict[str, Any]
    """``calibration.json``."""
    comparison: pd.DataFrame
    """``comparison.parquet``: one row per local hour (tz-aware index)."""

    @cached_property
    def meters(self) -> list[str]:
        """The meters compared (those with a ``measured:`` column): in the order of
        ``calibration.json``'s ``meters``, then ``site``, then any other."""
        have = [c.split(":", 1)[1] for c in self.comparison.columns
                if c.startswith("measured:")]
        order = [m for m in (self.info.get("meters") or {}) if m in have]
        order += [m for m in ("site",) if m in have and m not in order]
        return order + [m for m in have if m not in order]

    @property
    def fitted(self) -> bool:
        """Whether the parameters were fitted (``fit`` true and ``after:`` columns written)."""
        return bool(self.info.get("fit")) and all(
            f"after:{m}" in self.comparison.columns for m in self.meters)

    @property
    def final(self) -> str:
        """The stage the verdict is about: 'after' when fitted, else 'before'."""
        return "after" if self.fitted else "before"

    @property
    def has_holdout(self) -> bool:
        return bool(self.info.get("holdout")) or bool(self.holdout.any())

    @cached_property
    def holdout(self) -> np.ndarray:
        """Per hour: whether it belongs to the held-out period (bool array)."""
        if "holdout" not in self.comparison.columns:
            return np.zeros(len(self.comparison), dtype=bool)
        return self.comparison["holdout"].to_numpy(dtype=bool, na_value=False)

    @cached_property
    def wall(self) -> pd.DatetimeIndex:
        """The hours as local wall-clock times (naive)."""
        return self.comparison.index.tz_localize(None)

    @property
    def timezone(self) -> str:
        return str(self.comparison.index.tz)

    def values(self, stage: str, meter: str) -> np.ndarray:
        """kWh per hour of ``stage`` ('measured', 'before', 'after') at ``meter`` (float)."""
        return self.comparison[f"{stage}:{meter}"].to_numpy(dtype=float)

    def metrics(self, stage: str, meter: str) -> dict[str, Any] | None:
        """The Guideline 14 indices of ``stage`` at ``meter`` from ``calibration.json``."""
        by_meter = (self.info.get("metrics") or {}).get(stage)
        got = by_meter.get(meter) if isinstance(by_meter, dict) else None
        return got if isinstance(got, dict) else None

    def stages(self) -> list[str]:
        """The stages with indices: before, after (when fitted), holdout (when there is one)."""
        out = ["before"]
        if self.fitted:
            out.append("after")
        if self.has_holdout and any(self.metrics("holdout", m) for m in self.meters):
            out.append("holdout")
        return out

    def limit(self, key: str) -> float:
        """A Guideline 14 limit [%] as the folder states it (else :data:`LIMITS`)."""
        got = (self.info.get("limits") or {}).get(key)
        return _float(got) if _finite(got) else LIMITS[key]


def _float(x: Any) -> float:
    try:
        return float(x)
    except (TypeError, ValueError):
        return math.nan


def _finite(x: Any) -> bool:
    return math.isfinite(_float(x))


def load_calibration_folder(folder: str | os.PathLike[str]) -> CalibrationData:
    """Read a calibration folder (``calibration.json`` and ``comparison.parquet``).

    Raises
    ------
    FileNotFoundError
        If either file is missing.
    CalibrationFolderError
        If a file cannot be read or lacks what the page needs (the message names the file,
        the field or column, the value and what is expected).
    """
    d = Path(folder)
    for name in (MARKER, COMPARISON):
        if not (d / name).is_file():
            raise FileNotFoundError(f"{d}: not a calibration folder (no {name}); expected the "
                                    "--out folder of 'twin calibrate'")
    path = d / MARKER
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CalibrationFolderError(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(info, dict):
        raise CalibrationFolderError(f"{path}: a JSON {type(info).__name__}; expected an object")
    for key, kind in (("meters", dict), ("metrics", dict), ("parameters", list),
                      ("data_quality", dict), ("identifiability", dict), ("limits", dict)):
        if info.get(key) is not None and not isinstance(info[key], kind):
            raise CalibrationFolderError(
                f"{path}: field '{key}' is {json.dumps(info[key])[:60]}; expected a JSON "
                f"{'object' if kind is dict else 'list'}")
    comparison = _read_comparison(d / COMPARISON)
    data = CalibrationData(d, info, comparison)
    if not data.meters:
        raise CalibrationFolderError(f"{d / COMPARISON}: no 'measured:<meter>' column; expected "
                                     "one per meter")
    for m in data.meters:
        need = ["before"] + (["after"] if info.get("fit") else [])
        for stage in need:
            if f"{stage}:{m}" not in comparison.columns:
                raise CalibrationFolderError(
                    f"{d / COMPARISON}: column '{stage}:{m}' missing; expected one beside "
                    f"'measured:{m}'" + (" (fit is true in calibration.json)"
                                         if stage == "after" else ""))
    return data


def _read_comparison(path: Path) -> pd.DataFrame:
    try:
        df = pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises several types for a broken file
        raise CalibrationFolderError(f"{path}: cannot be read as Parquet ({exc})") from None
    if not isinstance(df.index, pd.DatetimeIndex) and "timestamp" in df.columns:
        df = df.set_index("timestamp")
    if not isinstance(df.index, pd.DatetimeIndex) or df.index.tz is None:
        raise CalibrationFolderError(f"{path}: index is not tz-aware timestamps; expected one "
                                     "row per local hour on a 'timestamp' index with its time "
                                     "zone")
    for col in df.columns:
        if col == "holdout" or ":" not in col:
            continue
        if not pd.api.types.is_numeric_dtype(df[col]):
            raise CalibrationFolderError(f"{path}: column '{col}' is {df[col].dtype}; expected "
                                         "numbers (kWh per hour)")
    return df.sort_index()


# ---------------------------------------------------------------------------------------------
# words


def meter_label(data: CalibrationData, meter: str) -> str:
    """'facility_kwh (group:facility, electricity)' or 'Whole site' (escaped)."""
    spec = (data.info.get("meters") or {}).get(meter)
    if meter == "site" and not spec:
        return "Whole site"
    if isinstance(spec, dict):
        what = ", ".join(esc(spec[k]) for k in ("target", "carrier") if spec.get(k))
        if what:
            return f"{esc(meter)} ({what})"
    return esc(meter)


def _pct(x: Any, signed: bool = False) -> str:
    v = _float(x)
    if not math.isfinite(v):
        return "–"
    return f"{v:+.1f}\u00a0%" if signed else f"{v:.1f}\u00a0%"


def _status(g: dict[str, Any] | None, scale: str) -> bool | None:
    if not g:
        return None
    s = g.get(f"pass_{scale}")
    return None if s is None else bool(s)


def stage_status(g: dict[str, Any] | None) -> bool | None:
    """A model meets Guideline 14 at a meter when every criterion judged (hourly, monthly) is
    met and at least one is judged; it does not when any judged criterion fails; None when
    neither can be judged."""
    judged = [s for s in (_status(g, "hourly"), _status(g, "monthly")) if s is not None]
    return None if not judged else all(judged)


def _not_judged(g: dict[str, Any] | None, scale: str) -> str:
    """Why ``scale`` ('hourly', 'monthly') is not judged."""
    if scale == "monthly":
        n = int(_float((g or {}).get("n_monthly"))) if _finite((g or {}).get("n_monthly")) else 0
        return (f"{n} month{'s' if n != 1 else ''} with ≥ {MIN_MONTH_COVERAGE * 100:.0f}\u00a0%"
                " of its hours measured, two needed")
    return "no hours with a positive measured mean"


def _failures(data: CalibrationData, g: dict[str, Any], scale: str) -> str:
    """'CV(RMSE) 41.0 % > 30 %, NMBE +18.5 % outside ±10 %: the model under-predicts'."""
    cv, nb = _float(g.get(f"cv_rmse_{scale}_pct")), _float(g.get(f"nmbe_{scale}_pct"))
    cv_lim, nb_lim = data.limit(f"cv_rmse_{scale}_pct"), data.limit(f"nmbe_{scale}_pct")
    bad = []
    if not cv <= cv_lim:
        bad.append(f"CV(RMSE) {_pct(cv)} > {cv_lim:g}\u00a0%")
    if not abs(nb) <= nb_lim:
        way = "under-predicts" if nb > 0 else "over-predicts"
        bad.append(f"NMBE {_pct(nb, True)} outside ±{nb_lim:g}\u00a0%: the model {way}")
    return ", ".join(bad)


def stage_words(data: CalibrationData, g: dict[str, Any] | None, what: str = "") -> str:
    """A model's standing at one meter in words (HTML): 'meets{what} hourly and monthly',
    'does not meet{what} hourly (CV(RMSE) 41.0 % > 30 %); meets it monthly', with why a scale
    is not judged."""
    status = {sc: _status(g, sc) for sc in ("hourly", "monthly")}
    overall = stage_status(g)
    if overall is None:
        return (f'<span class="na-word">cannot be judged</span>{" against" + what if what else ""}'
                f" (hourly: {_not_judged(g, 'hourly')}; monthly: {_not_judged(g, 'monthly')})")
    met = [sc for sc, st in status.items() if st]
    failed = [sc for sc, st in status.items() if st is False]
    if overall:
        text = f"{_word(True)}{what} {' and '.join(met)}"
    else:
        assert g is not None
        text = f"{_word(False)}{what} " + "; ".join(
            f"{sc} ({_failures(data, g, sc)})" for sc in failed)
        if met:
            text += f"; meets it {met[0]}"
    for sc, st in status.items():
        if st is None:
            text += f"; {sc} not judged ({_not_judged(g, sc)})"
    return text


_WORD = {True: ("meets", "ok-word"), False: ("does not meet", "bad-word"),
         None: ("cannot be judged against", "na-word")}


def _word(status: bool | None) -> str:
    text, cls = _WORD[status]
    return f'<span class="{cls}">{text}</span>'


def _count_meeting(data: CalibrationData, stage: str) -> tuple[int, int, list[str]]:
    """(meters meeting, meters judged, labels of those that do not meet) at ``stage``."""
    ok, judged, failing = 0, 0, []
    for m in data.meters:
        s = stage_status(data.metrics(stage, m))
        if s is None:
            continue
        judged += 1
        ok += s
        if not s:
            failing.append(esc(m))
    return ok, judged, failing


def verdict_status(data: CalibrationData, stage: str) -> bool | None:
    """Whether the model of ``stage`` meets Guideline 14 at every meter judged (None: none
    judged)."""
    ok, judged, _ = _count_meeting(data, stage)
    return None if not judged else ok == judged


def _headline(data: CalibrationData, stage: str, who: str) -> str:
    ok, judged, failing = _count_meeting(data, stage)
    n = len(data.meters)
    meters = f"{n} meter{'s' if n != 1 else ''}"
    if not judged:
        return f"{who} {_word(None)} ASHRAE Guideline 14 on any of its {meters}."
    if ok == judged:
        where = (f"every meter judged ({judged} of {meters})" if judged < n
                 else ("the meter" if n == 1 else f"all {meters}"))
        return f"{who} {_word(True)} ASHRAE Guideline 14 on {where}."
    return (f"{who} {_word(False)} ASHRAE Guideline 14 on {judged - ok} of {judged} meter"
            f"{'s' if judged != 1 else ''} judged ({', '.join(failing)}).")


def verdict_section(data: CalibrationData) -> str:
    """The verdict in plain words: the final model (fitted, else as written) against Guideline
    14 on every meter, then a table of each meter's standing, hourly and monthly, before and
    after fitting and on the held-out period."""
    final = data.final
    who = "The fitted model" if data.fitted else "The model as written (no fit)"
    status = verdict_status(data, final)
    stages = data.stages()
    lines = [f'<p id="verdict-headline">{_headline(data, final, who)}</p>']
    if data.fitted:
        lines.append(f"<p>{_headline(data, 'before', 'Before fitting, the model as written')}"
                     "</p>")
    if "holdout" in stages:
        h_status = verdict_status(data, "holdout")
        span = period_text(data.info.get("holdout") or {})
        tail = {True: " The fit holds on data it was not fitted to.",
                False: " The fitted values do not carry over to data they were not fitted to:"
                       " read them with care.",
                None: ""}[h_status] if data.fitted else ""
        lines.append(f"<p>{_headline(data, 'holdout', f'On the held-out period, {span}, it')}"
                     f"{tail}</p>")
    elif data.fitted:
        lines.append(_note(tr("No period was held out: the fit is judged only on the data it was"
                           " fitted to.")))
    head = "".join(f"<th>{STAGE_LABELS[s]}</th>" for s in stages)
    rows = []
    for m in data.meters:
        cells = "".join(f'<td class="why">{stage_words(data, data.metrics(s, m))}</td>'
                        for s in stages)
        rows.append(f"<tr><td>{meter_label(data, m)}</td>{cells}</tr>")
    lines.append(f'<table class="stations" id="verdict-table"><thead><tr><th>Meter</th>{head}'
                 f'</tr></thead><tbody>{"".join(rows)}</tbody></table>')
    lines.append(_note(
        "ASHRAE Guideline 14-2014 (clause 5.3.2.4 f) asks of a calibrated simulation CV(RMSE)"
        f" ≤ {data.limit('cv_rmse_hourly_pct'):g}\u00a0% and |NMBE|"
        f" ≤ {data.limit('nmbe_hourly_pct'):g}\u00a0% against hourly data,"
        f" ≤ {data.limit('cv_rmse_monthly_pct'):g}\u00a0% and"
        f" ≤ {data.limit('nmbe_monthly_pct'):g}\u00a0% against monthly totals. A model meets it"
        " at a meter when every scale that can be judged is met; NMBE above zero means the"
        " model simulates less than was metered."))
    cls = {True: "ok", False: "bad", None: "na"}[status]
    return (f'<section id="verdict" class="{cls}"><h2>Verdict</h2>\n' + "\n".join(lines)
            + "\n</section>")


def period_text(period: dict[str, Any]) -> str:
    """'2 Mar 2026 – 30 Aug 2026 (182 days)' of a ``{"start", "end"}`` (end exclusive)."""
    try:
        start = dt.datetime.fromisoformat(str(period.get("start")))
        end = dt.datetime.fromisoformat(str(period.get("end")))
    except ValueError:
        return esc(f"{period.get('start', '?')} – {period.get('end', '?')}")
    days = (end - start).total_seconds() / 86400.0
    if start.time() == dt.time(0) and end.time() == dt.time(0) and days >= 1:
        span = f"{_day(start)} – {_day(end - dt.timedelta(days=1))}" if days > 1 else _day(start)
    else:
        span = f"{_day(start)} {start:%H:%M} – {_day(end)} {end:%H:%M}"
    return f"{span} ({days:g} day{'s' if days != 1 else ''})"


# ---------------------------------------------------------------------------------------------
# tables


def _cell(value: str, ok: bool | None) -> str:
    cls = {True: ' class="ok"', False: ' class="bad"', None: ""}[ok]
    return f"<td{cls}>{value}</td>"


_RESULT = {True: ("PASS", "ok"), False: ("FAIL", "bad"), None: ("NOT JUDGED", "na")}


def metrics_table(data: CalibrationData) -> str:
    """Guideline 14 indices per meter and model (as written, fitted, held-out period), each
    index marked against its limit, with the hourly and monthly result."""
    lim = {k: data.limit(k) for k in LIMITS}
    head = ("<thead><tr><th>Meter</th><th>Model</th><th>Hours</th><th>Mean [kWh/h]</th>"
            f"<th>CV(RMSE) hourly<br>≤ {lim['cv_rmse_hourly_pct']:g} %</th>"
            f"<th>NMBE hourly<br>±{lim['nmbe_hourly_pct']:g} %</th><th>R² hourly</th>"
            "<th>Hourly</th><th>Months</th>"
            f"<th>CV(RMSE) monthly<br>≤ {lim['cv_rmse_monthly_pct']:g} %</th>"
            f"<th>NMBE monthly<br>±{lim['nmbe_monthly_pct']:g} %</th><th>Monthly</th>"
            "</tr></thead>")
    rows = []
    for m in data.meters:
        for stage in data.stages():
            g = data.metrics(stage, m) or {}
            label = STAGE_LABELS[stage]
            if stage == "holdout":
                label = "Held out, fitted" if data.fitted else "Held out, as written"
            cells = [f"<td>{'Whole site' if m == 'site' else esc(m)}</td>", f"<td>{label}</td>",
                     f"<td>{_int(g.get('n_hourly'))}</td>",
                     f"<td>{_num(g.get('mean_measured_kwh_per_h'), 2)}</td>"]
            for scale in ("hourly", "monthly"):
                cv, nb = g.get(f"cv_rmse_{scale}_pct"), g.get(f"nmbe_{scale}_pct")
                cells.append(_cell(_pct(cv), _finite(cv) and _float(cv)
                                   <= lim[f"cv_rmse_{scale}_pct"] if _finite(cv) else None))
                cells.append(_cell(_pct(nb, True), abs(_float(nb))
                                   <= lim[f"nmbe_{scale}_pct"] if _finite(nb) else None))
                if scale == "hourly":
                    cells.append(f"<td>{_num(g.get('r2_hourly'), 3)}</td>")
                text, cls = _RESULT[_status(g, scale)]
                cells.append(f'<td class="result {cls}">{text}</td>')
                if scale == "hourly":
                    cells.append(f"<td>{_int(g.get('n_monthly'))}</td>")
            rows.append("<tr>" + "".join(cells) + "</tr>")
    return (f'<div class="scroll"><table class="stations" id="metrics-table">{head}<tbody>'
            f'{"".join(rows)}</tbody></table></div>')


def _num(x: Any, nd: int) -> str:
    v = _float(x)
    return f"{v:,.{nd}f}" if math.isfinite(v) else "–"


def _int(x: Any) -> str:
    v = _float(x)
    return f"{int(v):,}" if math.isfinite(v) else "–"


def _short(path: str, n: int = 48) -> str:
    return path if len(path) <= n else "…" + path[-(n - 1):]


def parameters_section(data: CalibrationData) -> str:
    """The uncertain parameters: as written -> fitted ± std, range, flags (at a bound, not
    identifiable), the identifiability summary and the correlation matrix."""
    params = [p for p in data.info.get("parameters") or [] if isinstance(p, dict)]
    ident = data.info.get("identifiability") or {}
    if not params:
        return _section(tr("Parameters"), tr("What the calibration may change."),
                        _note(tr("No uncertain parameter in this calibration.")), "parameters")
    fitted = data.fitted
    head = ("<thead><tr><th>Parameter</th><th>Kind</th><th>As written</th>"
            + ("<th>Fitted ± std</th><th>Change</th>" if fitted else "")
            + "<th>Range</th><th>Notes</th></tr></thead>")
    rows = []
    for p in params:
        before, after, std = _float(p.get("before")), _float(p.get("after")), _float(p.get("std"))
        notes = []
        if fitted and p.get("at_bound"):
            notes.append('<span class="bad-word">at a bound</span>: the meters want a value'
                         " outside the range; widen it or look for a missing load")
        if p.get("identifiable") is False:
            notes.append('<span class="na-word">not identifiable</span>: the meters cannot'
                         " tell it apart from another parameter (see below)")
        cells = [f'<td class="path">{esc(p.get("path", "?"))}</td>',
                 f"<td>{esc(p.get('kind', ''))}</td>", f"<td>{_sig(before)}</td>"]
        if fitted:
            pm = f" ± {_sig(std)}" if math.isfinite(std) else ""
            change = (f"{(after - before) / abs(before) * 100:+.1f}\u00a0%"
                      if math.isfinite(after) and math.isfinite(before) and before else "–")
            cells += [f"<td>{_sig(after)}{pm}</td>", f"<td>{change}</td>"]
        cells += [f"<td>{_sig(_float(p.get('min')))} – {_sig(_float(p.get('max')))}</td>",
                  f'<td class="flag">{"; ".join(notes)}</td>']
        rows.append("<tr>" + "".join(cells) + "</tr>")
    table = (f'<table class="stations" id="parameters-table">{head}<tbody>{"".join(rows)}'
             "</tbody></table>")
    body = [table]
    if ident:
        facts = []
        if ident.get("rank") is not None:
            facts.append(f"rank {_int(ident.get('rank'))} of {_int(ident.get('n_parameters'))}"
                         " parameters")
        if _finite(ident.get("condition_number")):
            facts.append(f"condition number {_float(ident['condition_number']):.3g}")
        text = "Identifiability: " + ", ".join(facts) + "." if facts else ""
        if ident.get("message"):
            msg = str(ident["message"]).strip()
            text += f" {esc(msg)}" + ("" if msg.endswith((".", "!", "?")) else ".")
        groups = [g for g in ident.get("unidentifiable") or [] if isinstance(g, list) and g]
        if groups:
            text += " The meters cannot tell these apart: " + "; ".join(
                " and ".join(f"<code>{esc(x)}</code>" for x in g) for g in groups) + "."
        body.append(f'<p id="identifiability">{text}</p>')
        corr = ident.get("correlations")
        if (isinstance(corr, list) and len(params) >= 2 and len(corr) == len(params)
                and all(isinstance(r, list) and len(r) == len(params) for r in corr)):
            body.append(figure_html(correlation_figure(params, corr), CORRELATION_FIGURE_ID))
    caption = ("What the calibration changed: each uncertain parameter as the plant file has it"
               " and as fitted to the meters, with its standard error; flags mark a value stuck"
               " at its bound and parameters the meters cannot tell apart."
               if fitted else "The uncertain parameters as the plant file has them; they were"
               " not fitted (--no-fit).")
    return _section(tr("Parameters"), caption, "\n".join(body), "parameters")


def _sig(x: float) -> str:
    """A parameter value as written by a person: '40', '52.3', '0.125', '12,500'."""
    if not math.isfinite(x):
        return "–"
    return f"{x:,.0f}" if abs(x) >= 1000 else f"{x:.4g}"


def data_quality_section(data: CalibrationData) -> str:
    """Counts of the intervals the meter-data checks flagged, per meter and kind."""
    dq = {m: v for m, v in (data.info.get("data_quality") or {}).items() if isinstance(v, dict)}
    if not dq:
        return _section(tr("Data quality"),
                        tr("Intervals of the meter files flagged by the checks."),
                        _note(tr("No data-quality record in this calibration.")), "data-quality")
    kinds = list(dict.fromkeys(k for v in dq.values() for k in v))
    head = ("<thead><tr><th>Meter</th>" + "".join(f"<th>{esc(k)}</th>" for k in kinds)
            + "</tr></thead>")
    rows = []
    for m, v in dq.items():
        rows.append(f"<tr><td>{meter_label(data, m)}</td>"
                    + "".join(f"<td>{_int(v.get(k, 0))}</td>" for k in kinds) + "</tr>")
    interval = data.info.get("period", {}).get("interval_min") if isinstance(
        data.info.get("period"), dict) else None
    per = f" {_float(interval):g}-min" if _finite(interval) else ""
    return _section(
        tr("Data quality"),
        f"Counts of{per} meter intervals flagged by the checks, by kind; hours without valid"
        " data are left out of both the measured and the simulated side of every index.",
        f'<table class="stations" id="data-quality-table">{head}<tbody>{"".join(rows)}'
        "</tbody></table>", "data-quality")


# ---------------------------------------------------------------------------------------------
# figures


def _f32(x: np.ndarray) -> np.ndarray:
    return np.asarray(x, dtype=np.float32)


def _spans(mask: np.ndarray) -> list[tuple[int, int]]:
    """(first, last) positions of each run of True in ``mask``."""
    if not mask.any():
        return []
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1) - 1, strict=True))


def _wall_text(t: pd.Timestamp) -> str:
    return t.strftime("%Y-%m-%d %H:%M:%S")


def _model_stages(data: CalibrationData) -> list[str]:
    return ["before", "after"] if data.fitted else ["before"]


_STAGE_NAMES = {"before": "simulated, as written", "after": "simulated, fitted"}


def series_figure(data: CalibrationData, meter: str) -> Figure:
    """Measured and simulated energy per hour [kWh] (as written, and fitted when fitted), the
    held-out period shaded; range slider and zoom buttons."""
    xspec = hourly_x(data.wall)
    colors = theme.CALIBRATION_COLORS
    traces = []
    for stage in _model_stages(data):
        dash = "dot" if stage == "before" and data.fitted else "solid"
        traces.append(trace(
            "scatter", **xspec, y=_f32(data.values(stage, meter)), mode="lines",
            name=_STAGE_NAMES[stage],
            line={"color": colors[stage], "width": 1.3, "dash": dash},
            hovertemplate=f"{_STAGE_NAMES[stage]} %{{y:,.1f}} kWh<extra></extra>"))
    # measured last, drawn on top of the models, first in the legend
    traces.append(trace("scatter", **xspec, y=_f32(data.values("measured", meter)),
                        mode="lines", name="measured", legendrank=1,
                        line={"color": colors["measured"], "width": 1.2},
                        hovertemplate="measured %{y:,.1f} kWh<extra></extra>"))
    shapes = []
    for a, b in _spans(data.holdout):
        end = data.wall[b] + pd.Timedelta(hours=1)
        shapes.append({"type": "rect", "xref": "x", "yref": "paper", "x0": _wall_text(
            data.wall[a]), "x1": _wall_text(end), "y0": 0, "y1": 1, "layer": "below",
            "fillcolor": colors["holdout"], "opacity": 0.1, "line": {"width": 0}})
    xaxis = {"type": "date", "gridcolor": theme.GRID,
             "title": {"text": f"Local time ({esc(data.timezone)})"},
             "hoverformat": "%a %d %b %Y, %H:%M",
             "rangeslider": {"visible": True, "thickness": 0.07},
             "rangeselector": {"buttons": [
                 {"count": 1, "label": "1 day", "step": "day", "stepmode": "backward"},
                 {"count": 7, "label": "1 week", "step": "day", "stepmode": "backward"},
                 {"count": 1, "label": "1 month", "step": "month", "stepmode": "backward"},
                 {"label": "All", "step": "all"}], "x": 0, "y": 1.04, "yanchor": "bottom"}}
    return Figure(data=traces, layout=theme.base_layout(
        440, hovermode="x unified", shapes=shapes or None, xaxis=xaxis,
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.04, "x": 1, "xanchor": "right"},
        margin={"l": 70, "r": 30, "t": 60, "b": 40},
        yaxis={"title": {"text": "kWh per hour"}, "rangemode": "tozero",
               "gridcolor": theme.GRID, "tickformat": ","}))


def scatter_figure(data: CalibrationData, meter: str) -> Figure:
    """Simulated against measured energy per hour [kWh] for the hours with data (the final
    model; the held-out hours in their own colour; the model as written hidden in the legend
    when fitted) with the 1:1 line."""
    y = data.values("measured", meter)
    ok = np.isfinite(y)
    final = data.final
    colors = theme.CALIBRATION_COLORS
    traces = []
    if data.fitted:
        traces.append(trace(
            "scatter", x=_f32(y[ok]), y=_f32(data.values("before", meter)[ok]), mode="markers",
            name="as written", visible="legendonly",
            marker={"color": colors["before"], "size": 4, "opacity": 0.5},
            hovertemplate="measured %{x:,.1f}, as written %{y:,.1f} kWh<extra></extra>"))
    sim = data.values(final, meter)
    label = "fitted" if data.fitted else "as written"
    for part, sel, color in (("", ok & ~data.holdout, colors[final]),
                             ("held out", ok & data.holdout, colors["holdout"])):
        if not sel.any() and part:
            continue
        traces.append(trace(
            "scatter", x=_f32(y[sel]), y=_f32(sim[sel]), mode="markers",
            name=f"{label}{', ' + part if part else ''}",
            marker={"color": color, "size": 4, "opacity": 0.55},
            hovertemplate=f"measured %{{x:,.1f}}, {label} %{{y:,.1f}} kWh<extra></extra>"))
    top = max([float(np.nanmax(v)) for v in (y[ok], sim[ok]) if v.size] + [0.0])
    top = top * 1.03 if top > 0 else 1.0
    traces.append(trace("scatter", x=[0.0, top], y=[0.0, top], mode="lines", name="1:1",
                        line={"color": theme.TEXT, "width": 1, "dash": "dash"},
                        hoverinfo="skip"))
    return Figure(data=traces, layout=theme.base_layout(
        420, margin={"l": 70, "r": 20, "t": 30, "b": 50},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.0, "x": 0},
        xaxis={"title": {"text": "Measured [kWh per hour]"}, "range": [0.0, top],
               "gridcolor": theme.GRID, "tickformat": ",", "constrain": "domain"},
        yaxis={"title": {"text": "Simulated [kWh per hour]"}, "range": [0.0, top],
               "gridcolor": theme.GRID, "tickformat": ",", "scaleanchor": "x",
               "scaleratio": 1}))


def duration_figure(data: CalibrationData, meter: str) -> Figure:
    """Load-duration curves: measured and simulated energy per hour [kWh], each sorted from the
    highest hour down, over the hours with a measurement."""
    y = data.values("measured", meter)
    ok = np.isfinite(y)
    colors = theme.CALIBRATION_COLORS
    curves = [("measured", y[ok])] + [(s, data.values(s, meter)[ok])
                                      for s in _model_stages(data)]
    traces = []
    for stage, v in curves:
        name = "measured" if stage == "measured" else _STAGE_NAMES[stage]
        dash = "dot" if stage == "before" and data.fitted else "solid"
        traces.append(trace(
            "scatter", x0=1, dx=1, y=_f32(np.sort(v)[::-1]), mode="lines", name=name,
            line={"color": colors[stage], "width": 1.6, "dash": dash},
            hovertemplate=f"{name}: %{{y:,.1f}} kWh or more in %{{x:,}} hours<extra></extra>"))
    return Figure(data=traces, layout=theme.base_layout(
        420, margin={"l": 70, "r": 20, "t": 30, "b": 50},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.0, "x": 0},
        xaxis={"title": {"text": "Hours with data, from the highest"}, "gridcolor": theme.GRID,
               "tickformat": ",", "rangemode": "tozero"},
        yaxis={"title": {"text": "kWh per hour"}, "gridcolor": theme.GRID, "tickformat": ",",
               "rangemode": "tozero"}))


def residuals(data: CalibrationData, meter: str) -> np.ndarray:
    """Measured minus simulated (final model) energy per hour [kWh]; NaN without data."""
    return data.values("measured", meter) - data.values(data.final, meter)


def residual_figure(data: CalibrationData, meter: str) -> Figure:
    """Residual measured - simulated per day (x) and hour of day (y) [kWh]: red where the model
    under-predicts, blue where it over-predicts, blank without data."""
    days, grid = day_hour_grid(data.wall, residuals(data, meter))
    finite = np.abs(grid[np.isfinite(grid)])
    top = float(np.quantile(finite, 0.99)) if finite.size else 1.0
    top = top if top > 0 else 1.0
    model = "fitted" if data.fitted else "as written"
    heatmap = trace(
        "heatmap", x=days, y=[f"{h:02d}:00" for h in range(24)], z=_f32(grid.T),
        colorscale=theme.RESIDUAL_SCALE, zmid=0.0, zmin=-top, zmax=top,
        xgap=1 if len(days) <= 60 else 0,
        colorbar={"title": {"text": "kWh"}, "thickness": 14, "tickformat": ","},
        hovertemplate=(f"%{{x|%a %d %b %Y}}, %{{y}}<br>measured − {model}: %{{z:+,.1f}} kWh"
                       "<extra></extra>"))
    return Figure(data=[heatmap], layout=theme.base_layout(
        400, margin={"l": 70, "r": 20, "t": 20, "b": 50},
        xaxis={"type": "date", "title": {"text": "Day (local)"}, "showgrid": False,
               "ticklabelmode": "period" if len(days) > 40 else "instant"},
        yaxis={"title": {"text": "Hour of day (local)"}, "type": "category",
               "tickvals": [f"{h:02d}:00" for h in range(0, 24, 3)]}))


def monthly_figure(data: CalibrationData, meter: str) -> Figure:
    """Measured and simulated energy per calendar month [MWh] over the hours with data; months
    covered too thinly for the monthly indices are drawn faint."""
    y = data.comparison[f"measured:{meter}"].astype(float)
    colors = theme.CALIBRATION_COLORS
    traces = []
    labels: list[str] = []
    for stage in ["measured", *_model_stages(data)]:
        sim = y if stage == "measured" else data.comparison[f"{stage}:{meter}"].astype(float)
        t = monthly_totals(y, sim)
        labels = [_month_label(m) for m in t["month"]]
        col = "measured_kwh" if stage == "measured" else "simulated_kwh"
        name = "measured" if stage == "measured" else _STAGE_NAMES[stage]
        traces.append(trace(
            "bar", x=labels, y=(t[col] / 1000.0).to_numpy(dtype=float), name=name,
            marker={"color": colors[stage],
                    "opacity": [1.0 if u else 0.35 for u in t["used"]]},
            customdata=[f"{h:,} of {c:,.0f} h measured ({v * 100:.0f} %)" for h, c, v in
                        zip(t["hours"], t["clock_hours"], t["coverage"], strict=True)],
            hovertemplate=f"{name}: %{{y:,.1f}} MWh<br>%{{customdata}}<extra></extra>"))
    return Figure(data=traces, layout=theme.base_layout(
        400, barmode="group", bargap=0.25, margin={"l": 70, "r": 20, "t": 30, "b": 50},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.0, "x": 0},
        xaxis={"type": "category", "title": {"text": "Month (local)"}},
        yaxis={"title": {"text": "MWh over the hours with data"}, "gridcolor": theme.GRID,
               "tickformat": ",", "rangemode": "tozero"}))


def _month_label(key: str) -> str:
    return dt.date.fromisoformat(f"{key}-01").strftime("%b %Y")


def correlation_figure(params: list[dict[str, Any]], corr: list[list[Any]]) -> Figure:
    """Correlation of the fitted parameters' estimates, -1 (blue) to +1 (red)."""
    names = [esc(_short(str(p.get("path", f"#{i + 1}")), 40)) for i, p in enumerate(params)]
    z = np.array([[_float(v) for v in row] for row in corr], dtype=float)
    n = len(names)
    return Figure(data=[trace(
        "heatmap", x=names, y=names, z=z, zmin=-1.0, zmax=1.0, zmid=0.0,
        colorscale=theme.CORRELATION_SCALE, xgap=2, ygap=2,
        text=[[f"{v:+.2f}" if math.isfinite(v) else "" for v in row] for row in z],
        texttemplate="%{text}", colorbar={"title": {"text": "r"}, "thickness": 14},
        hovertemplate="%{y}<br>%{x}<br>correlation %{z:+.2f}<extra></extra>")],
        layout=theme.base_layout(
            max(260, 60 + 34 * n), margin={"l": 300, "r": 20, "t": 10, "b": 40},
            xaxis={"showticklabels": False, "showgrid": False},
            yaxis={"autorange": "reversed", "showgrid": False, "automargin": True}))


# ---------------------------------------------------------------------------------------------
# page


def meter_section(data: CalibrationData, meter: str, i: int) -> str:
    """The figures of one meter: time series, scatter, load-duration curves, residuals by day
    and hour, monthly totals."""
    g = data.metrics(data.final, meter)
    model = "fitted model" if data.fitted else "model as written"
    summary = (f"{'Fitted' if data.fitted else 'As written'}, the model"
               f" {stage_words(data, g, ' Guideline 14')} here.")
    held = (" The orange band is the held-out period (not used for fitting)."
            if data.holdout.any() else "")
    parts = [
        "<h3>Energy per hour</h3>",
        figure_html(series_figure(data, meter), figure_id("series", i)),
        '<div class="pair"><div><h3>Measured against simulated</h3>',
        figure_html(scatter_figure(data, meter), figure_id("scatter", i)),
        "</div><div><h3>Load-duration curves</h3>",
        figure_html(duration_figure(data, meter), figure_id("duration", i)),
        "</div></div>",
        '<div class="pair"><div><h3>Residual (measured − simulated) by day and hour</h3>',
        figure_html(residual_figure(data, meter), figure_id("residuals", i)),
        "</div><div><h3>Monthly totals</h3>",
        figure_html(monthly_figure(data, meter), figure_id("monthly", i)),
        "</div></div>",
    ]
    caption = (
        f"{summary} Hour by hour, the measured energy (black) against the {model}; zoom with"
        " the buttons or the slider." + held + " Points on the dashed 1:1 line are hours the"
        " model gets right; the load-duration curves compare how often each level of load"
        " occurs; red cells are hours the model under-predicts, blue ones it over-predicts"
        " (a band at the same hours every day points at a schedule, a block of days at an"
        " event); faint months are covered too thinly for the monthly indices"
        f" (< {MIN_MONTH_COVERAGE * 100:.0f}\u00a0% of their hours).")
    return _section(meter_label(data, meter), caption, "\n".join(parts), f"meter-{i}")


def render_calibration(data: CalibrationData) -> str:
    """The whole calibration page as one HTML string."""
    info = data.info
    name = esc(info.get("plant_name") or Path(str(info.get("plant", "plant"))).stem)
    period = info.get("period") if isinstance(info.get("period"), dict) else {}
    meta = [f"<span>{period_text(period)}</span>" if period else "",
            f"<span>time zone {esc(data.timezone)}</span>"]
    if _finite(period.get("interval_min")):
        meta.append(f"<span>{_float(period['interval_min']):g}-min meter data</span>")
    meta.append(f"<span>{len(data.meters)} meter{'s' if len(data.meters) != 1 else ''}</span>")
    meta.append("<span>parameters fitted</span>" if data.fitted
                else "<span>not fitted (--no-fit)</span>")
    if isinstance(info.get("holdout"), dict):
        meta.append(f"<span>held out {period_text(info['holdout'])}</span>")
    if _finite(info.get("replications")):
        meta.append(f"<span>{_int(info['replications'])} replications per run</span>")
    if _finite(info.get("runs")):
        wall = (f" in {_float(info['wall_s']):,.1f} s" if _finite(info.get("wall_s")) else "")
        meta.append(f"<span>{_int(info['runs'])} simulation runs{wall}</span>")
    if info.get("plant"):
        meta.append(f"<span>plant {esc(Path(str(info['plant'])).name)}</span>")
    sections = [
        verdict_section(data),
        _section(tr("Goodness of fit"),
                 tr("ASHRAE Guideline 14 indices per meter: CV(RMSE) is the typical hourly (or"
                 " monthly) error relative to the mean, NMBE the bias over the whole period"
                 " (above zero: the model simulates less than was metered), R² the share of the"
                 " measured variation the model explains. Green: within the limit, red: beyond"
                 " it."), metrics_table(data), "goodness-of-fit"),
        parameters_section(data),
        data_quality_section(data),
    ]
    sections += [meter_section(data, m, i) for i, m in enumerate(data.meters)]
    return html_page(
        f"{name} – twin calibration",
        f'<h1 id="plant-name">{name}: calibration against the meters</h1>'
        f'<div class="meta">{" ".join(m for m in meta if m)}</div>',
        sections,
        f"Calibration folder {esc(data.folder.resolve().name)} · criteria of ASHRAE Guideline"
        " 14-2014 · energy in kWh per hour · all times local"
        f" ({esc(data.timezone)}) · This page works offline.",
        css=CSS)


def calibration_page(cal_dir: Path) -> str:
    """The dashboard page of the calibration folder ``cal_dir`` as an HTML string."""
    return render_calibration(load_calibration_folder(cal_dir))


def write_calibration_page(cal_dir: Path) -> Path:
    """Write ``cal_dir/dashboard.html`` from the calibration folder and return its path
    (atomically: a reader never sees half a page)."""
    d = Path(cal_dir)
    return write_text(d / FILENAME, calibration_page(d))
