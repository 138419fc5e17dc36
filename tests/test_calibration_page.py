"""The calibration page: built from a calibration folder written here by hand (two meters and
the site, ten days of known numbers), its figures tied to the folder's data, its verdict to the
folder's pass/fail flags, and every figure valid for plotly."""

from __future__ import annotations

import base64
import json
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from test_dashboard_plot import assert_as_plotly

from twin.cli import main
from twin.dashboard.calibration import (
    CORRELATION_FIGURE_ID,
    METER_FIGURES,
    CalibrationFolderError,
    calibration_page,
    correlation_figure,
    duration_figure,
    figure_id,
    load_calibration_folder,
    monthly_figure,
    residual_figure,
    scatter_figure,
    series_figure,
    write_calibration_page,
)

TZ = "Asia/Shanghai"
START = "2026-04-06"          # a Monday; ten days = 240 hours, all in April
METERS = ("facility_kwh", "line_kwh")


def measured_kwh(meter: str, idx: pd.DatetimeIndex) -> np.ndarray:
    """facility: 10 kWh/h, 20 from 08:00 to 17:59; line: 5 kWh/h, 45 in those hours."""
    day = (idx.hour >= 8) & (idx.hour < 18)
    return np.where(day, 20.0, 10.0) if meter == "facility_kwh" else np.where(day, 45.0, 5.0)


def good(cv=12.0, nmbe=-1.5, n=238, months=0, pass_monthly=None, pass_hourly=True) -> dict:
    return {"cv_rmse_hourly_pct": cv, "nmbe_hourly_pct": nmbe, "r2_hourly": 0.91, "n_hourly": n,
            "mean_measured_kwh_per_h": 14.2, "pass_hourly": pass_hourly,
            "cv_rmse_monthly_pct": None if months < 2 else 4.0,
            "nmbe_monthly_pct": None if months < 2 else 1.0, "n_monthly": months,
            "pass_monthly": pass_monthly}


BAD = dict(cv=41.0, nmbe=18.5, pass_hourly=False)


def make_folder(root: Path, *, fit: bool = True, holdout: bool = True, passing: bool = True,
                names: tuple[str, ...] = METERS, plant_name: str = "Demo gear plant") -> Path:
    """A calibration folder: measured as in :func:`measured_kwh`; the model as written
    simulates 70 % of it, the fitted one 102 %; two measured hours missing per meter (the
    facility's at 03:00 on 7 April and 12:00 on 9 April); the last two days held out."""
    idx = pd.date_range(START, periods=240, freq="h", tz=TZ, name="timestamp")
    df = pd.DataFrame(index=idx)
    for name, meter in zip(names, METERS, strict=True):
        y = measured_kwh(meter, idx)
        df[f"measured:{name}"] = y
        df.loc[[pd.Timestamp("2026-04-07 03:00", tz=TZ), pd.Timestamp("2026-04-09 12:00", tz=TZ)],
               f"measured:{name}"] = np.nan
        df[f"before:{name}"] = 0.7 * y
        if fit:
            df[f"after:{name}"] = 1.02 * y
    df["measured:site"] = df[[f"measured:{n}" for n in names]].sum(axis=1, min_count=2)
    df["before:site"] = df[[f"before:{n}" for n in names]].sum(axis=1)
    if fit:
        df["after:site"] = df[[f"after:{n}" for n in names]].sum(axis=1)
    df["holdout"] = (idx >= pd.Timestamp("2026-04-14", tz=TZ)) if holdout else False
    root.mkdir(parents=True, exist_ok=True)
    df.to_parquet(root / "comparison.parquet")
    stage = {m: good() if passing else good(**BAD) for m in (*names, "site")}
    metrics = {"before": {m: good(**BAD) for m in (*names, "site")}}
    if fit:
        metrics["after"] = stage
    if holdout:
        metrics["holdout"] = stage
    info = {
        "plant": "plant_configs/demo_plant.yaml", "plant_name": plant_name,
        "period": {"start": "2026-04-06T00:00:00+08:00", "end": "2026-04-16T00:00:00+08:00",
                   "interval_min": 15},
        "holdout": ({"start": "2026-04-14T00:00:00+08:00", "end": "2026-04-16T00:00:00+08:00"}
                    if holdout else None),
        "fit": fit, "replications": 3,
        "meters": {names[0]: {"target": "group:facility", "carrier": "electricity"},
                   names[1]: {"target": "group:machining", "carrier": "electricity"}},
        "limits": {"cv_rmse_hourly_pct": 30, "nmbe_hourly_pct": 10, "cv_rmse_monthly_pct": 15,
                   "nmbe_monthly_pct": 5},
        "metrics": metrics,
        "parameters": [
            {"path": "base_loads[id=lighting].power_kw.electricity", "kind": "linear",
             "before": 40.0, "after": 52.4, "std": 1.2, "min": 10, "max": 100,
             "at_bound": False, "identifiable": True},
            {"path": "base_loads[id=hvac].power_kw.electricity", "kind": "linear",
             "before": 20.0, "after": 30.0, "std": 0.4, "min": 5, "max": 30,
             "at_bound": True, "identifiable": False}],
        "identifiability": {"rank": 1, "n_parameters": 2, "condition_number": 1.2e3,
                            "correlations": [[1.0, -0.2], [-0.2, 1.0]],
                            "unidentifiable": [["base_loads[id=hvac].power_kw.electricity",
                                                "base_loads[id=lighting].power_kw.electricity"]],
                            "message": "only the sum of lighting and HVAC is fixed"},
        "data_quality": {names[0]: {"missing": 8, "spike": 3}, names[1]: {"missing": 8}},
        "runs": 4, "wall_s": 21.5}
    (root / "calibration.json").write_text(json.dumps(info, indent=1))
    return root


# ---------------------------------------------------------------------------------------------
# reading the page back


def newplot_args(html: str, div_id: str) -> tuple[list, dict]:
    """The data and layout of the ``Plotly.newPlot`` call that draws ``div_id``."""
    i = html.index(f'"{div_id}",', html.index(f'id="{div_id}"')) + len(div_id) + 3
    dec = json.JSONDecoder()
    out = []
    for _ in range(2):
        while html[i] in " ,\n":
            i += 1
        obj, i = dec.raw_decode(html, i)
        out.append(obj)
    return out[0], out[1]


def arr(v) -> np.ndarray:
    """A plotly array from the page: a typed array spec (base64) or a JSON list."""
    if isinstance(v, dict) and "bdata" in v:
        dtype = {"f4": np.float32, "f8": np.float64, "i1": np.int8, "u1": np.uint8,
                 "i2": np.int16, "u2": np.uint16, "i4": np.int32, "u4": np.uint32}[v["dtype"]]
        a = np.frombuffer(base64.b64decode(v["bdata"]), dtype=dtype)
        if "shape" in v:
            a = a.reshape([int(s) for s in str(v["shape"]).split(",")])
        return a
    return np.asarray(v, dtype=float)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return make_folder(tmp_path / "cal")


@pytest.fixture
def page(folder: Path) -> str:
    return write_calibration_page(folder).read_text(encoding="utf-8")


def test_the_page_is_written_atomically_and_has_every_figure(folder: Path, page: str):
    assert (folder / "dashboard.html").is_file()
    assert not [p for p in folder.iterdir() if p.name.endswith(".tmp")]
    # the meters in the order of calibration.json, then the site
    for i in range(3):
        for kind in METER_FIGURES:
            assert f'id="{figure_id(kind, i)}"' in page
    assert f'id="{figure_id("series", 3)}"' not in page
    assert f'id="{CORRELATION_FIGURE_ID}"' in page
    assert page.count("<script") == page.count("</script>")
    assert "https://" not in page.split("</script>")[-1]   # nothing fetched after plotly.js
    assert page.index("facility_kwh (group:facility") < page.index("line_kwh (group:machining")
    assert "Whole site" in page
    assert page.count("Plotly.newPlot(") == 3 * len(METER_FIGURES) + 1


def test_time_series_are_the_parquet_columns(folder: Path, page: str):
    df = pd.read_parquet(folder / "comparison.parquet")
    for i, meter in enumerate(("facility_kwh", "line_kwh", "site")):
        data, layout = newplot_args(page, figure_id("series", i))
        # the models first, the measured energy last (on top)
        assert [t["name"] for t in data] == ["simulated, as written", "simulated, fitted",
                                             "measured"]
        for t, col in zip(data, ("before", "after", "measured"), strict=True):
            want = df[f"{col}:{meter}"].to_numpy(dtype=np.float32)
            np.testing.assert_array_equal(arr(t["y"]), want)   # NaN where no data, too
            # evenly spaced local hours from the first
            assert t["x0"] == "2026-04-06 00:00:00" and t["dx"] == 3_600_000
        assert layout["xaxis"]["rangeslider"]["visible"] is True
        # the held-out period (14 and 15 April) is shaded
        (shade,) = layout["shapes"]
        assert (shade["x0"], shade["x1"]) == ("2026-04-14 00:00:00", "2026-04-16 00:00:00")


def test_scatter_has_one_point_per_hour_with_data(page: str):
    data, layout = newplot_args(page, figure_id("scatter", 0))
    names = [t["name"] for t in data]
    assert names == ["as written", "fitted", "fitted, held out", "1:1"]
    assert data[0]["visible"] == "legendonly"
    # 240 hours, two without a measurement: 238 points; 48 of them in the held-out days
    # (none of the missing hours is on 14 or 15 April)
    assert len(arr(data[1]["x"])) + len(arr(data[2]["x"])) == 238
    assert len(arr(data[2]["x"])) == 48
    assert len(arr(data[0]["x"])) == 238
    # fitted = 1.02 x measured
    np.testing.assert_allclose(arr(data[1]["y"]), 1.02 * arr(data[1]["x"]), rtol=1e-6)
    # the 1:1 line runs from 0 to 3 % above the highest value (fitted 20 x 1.02 = 20.4)
    assert data[3]["x"] == data[3]["y"] == [0.0, pytest.approx(20.4 * 1.03)]
    assert layout["yaxis"]["scaleanchor"] == "x"


def test_residual_heatmap_cell_by_hand(page: str):
    data, _ = newplot_args(page, figure_id("residuals", 0))
    (heat,) = data
    days = heat["x"]
    assert days[0] == "2026-04-06" and days[-1] == "2026-04-15" and len(days) == 10
    z = arr(heat["z"]).reshape(24, 10)                 # hour of day x day
    # facility, 8 April 09:00: measured 20 kWh, fitted 1.02 x 20 = 20.4: residual -0.4 kWh
    assert z[9, 2] == pytest.approx(-0.4, abs=1e-6)
    # 03:00 on 8 April: measured 10, fitted 10.2: -0.2
    assert z[3, 2] == pytest.approx(-0.2, abs=1e-6)
    # no measurement at 03:00 on 7 April: a blank cell
    assert math.isnan(z[3, 1])
    assert heat["zmid"] == 0.0


def test_load_duration_curves_are_the_sorted_series(folder: Path, page: str):
    df = pd.read_parquet(folder / "comparison.parquet")
    data, _ = newplot_args(page, figure_id("duration", 1))     # line_kwh
    ok = df["measured:line_kwh"].notna()
    for t, col in zip(data, ("measured", "before", "after"), strict=True):
        want = np.sort(df.loc[ok, f"{col}:line_kwh"].to_numpy(dtype=np.float32))[::-1]
        np.testing.assert_array_equal(arr(t["y"]), want)
    # line: 10 hours of 45 kWh a day, one of them (9 April 12:00) missing: 99 hours at 45
    measured = arr(data[0]["y"])
    assert (measured == 45.0).sum() == 99 and measured[0] == 45.0 and measured[-1] == 5.0


def test_monthly_totals_are_the_sums_over_the_hours_with_data(page: str):
    data, _ = newplot_args(page, figure_id("monthly", 0))
    # facility: 10 days of 10 h at 20 kWh and 14 h at 10 kWh, less the two missing hours
    # (03:00 = 10 kWh, 12:00 = 20 kWh): 10 x (200 + 140) - 30 = 3,370 kWh = 3.37 MWh
    assert data[0]["x"] == ["Apr 2026"]
    assert arr(data[0]["y"])[0] == pytest.approx(3.37)
    assert arr(data[1]["y"])[0] == pytest.approx(0.7 * 3.37)
    assert arr(data[2]["y"])[0] == pytest.approx(1.02 * 3.37)
    # 238 of April's 720 hours: too thin for the monthly indices, drawn faint
    assert data[0]["marker"]["opacity"] == [0.35]


METER_FIGURE_MAKERS = (series_figure, scatter_figure, duration_figure, residual_figure,
                       monthly_figure)


@pytest.mark.parametrize("fit", [True, False], ids=["fitted", "not-fitted"])
def test_every_figure_validates_with_plotly(tmp_path: Path, fit: bool):
    # validated as plotly graph objects (unknown properties raise), and each div holds what
    # plotly's own to_html makes of the figure
    data = load_calibration_folder(make_folder(tmp_path / "cal", fit=fit, holdout=fit))
    for m in data.meters:
        for make in METER_FIGURE_MAKERS:
            assert_as_plotly(make(data, m))
    assert_as_plotly(correlation_figure(data.info["parameters"],
                                        data.info["identifiability"]["correlations"]))


def table_rows(page: str, table_id: str) -> list[list[str]]:
    """The body rows of the table ``table_id`` as lists of cell texts (tags dropped)."""
    table = page[page.index(f'id="{table_id}"'):]
    body = table[table.index("<tbody>"):table.index("</tbody>")]
    return [[re.sub(r"<[^>]+>", "", c) for c in re.findall(r"<td[^>]*>(.*?)</td>", row)]
            for row in body.split("<tr>")[1:]]


def verdict_text(page: str) -> str:
    block = page[page.index('<section id="verdict"'):]
    return re.sub(r"<[^>]+>", "", block[:block.index("</section>")])


def headline(page: str) -> str:
    m = re.search(r'<p id="verdict-headline">(.*?)</p>', page)
    assert m
    return re.sub(r"<[^>]+>", "", m.group(1))


def test_verdict_of_a_passing_calibration(page: str):
    assert headline(page) == ("The fitted model meets ASHRAE Guideline 14 on all 3 meters.")
    text = verdict_text(page)
    assert '<section id="verdict" class="ok">' in page
    # per meter: as written it does not meet it, fitted it does, and on the held-out period
    rows = table_rows(page, "verdict-table")
    assert [r[0] for r in rows] == ["facility_kwh (group:facility, electricity)",
                                    "line_kwh (group:machining, electricity)", "Whole site"]
    for _, before, fitted, held in rows:
        assert before.startswith("does not meet hourly (CV(RMSE) 41.0\u00a0% > 30\u00a0%, NMBE"
                                 " +18.5\u00a0% outside ±10\u00a0%: the model under-predicts)")
        assert fitted == held == ("meets hourly; monthly not judged (0 months with ≥"
                                  " 90\u00a0% of its hours measured, two needed)")
    assert ("On the held-out period, 14 Apr 2026 – 15 Apr 2026 (2 days), it meets ASHRAE"
            " Guideline 14 on all 3 meters.") in text
    assert "Before fitting, the model as written does not meet ASHRAE Guideline 14 on 3 of 3" \
           in text


def test_verdict_of_a_failing_calibration(tmp_path: Path):
    page = calibration_page(make_folder(tmp_path / "bad", passing=False))
    assert headline(page) == ("The fitted model does not meet ASHRAE Guideline 14 on 3 of 3"
                              " meters judged (facility_kwh, line_kwh, site).")
    assert '<section id="verdict" class="bad">' in page
    assert "On the held-out period" in verdict_text(page)
    assert "read them with care" in verdict_text(page)
    assert "meets ASHRAE" not in verdict_text(page)


def test_one_failing_meter_fails_the_verdict(tmp_path: Path):
    folder = make_folder(tmp_path / "one")
    info = json.loads((folder / "calibration.json").read_text())
    info["metrics"]["after"]["line_kwh"] = good(pass_monthly=False, months=2)
    (folder / "calibration.json").write_text(json.dumps(info))
    page = calibration_page(folder)
    assert headline(page) == ("The fitted model does not meet ASHRAE Guideline 14 on 1 of 3"
                              " meters judged (line_kwh).")


def test_a_calibration_that_cannot_be_judged(tmp_path: Path):
    folder = make_folder(tmp_path / "nothing")
    info = json.loads((folder / "calibration.json").read_text())
    blank = good(cv=None, nmbe=None, n=0, pass_hourly=None)
    info["metrics"]["after"] = dict.fromkeys(info["metrics"]["after"], blank)
    (folder / "calibration.json").write_text(json.dumps(info))
    page = calibration_page(folder)
    assert headline(page) == ("The fitted model cannot be judged against ASHRAE Guideline 14 on"
                              " any of its 3 meters.")
    assert '<section id="verdict" class="na">' in page
    fitted = [row[2] for row in table_rows(page, "verdict-table")]
    assert fitted == ["cannot be judged (hourly: no hours with a positive measured mean;"
                      " monthly: 0 months with ≥ 90\u00a0% of its hours measured, two needed)"] * 3
    rows = table_rows(page, "metrics-table")
    assert rows[1][2:8] == ["0", "14.20", "–", "–", "0.910", "NOT JUDGED"]


def test_metrics_table_marks_each_index(page: str):
    table = page[page.index('id="metrics-table"'):]
    table = table[:table.index("</table>")]
    rows = table.split("<tr>")[2:]
    assert len(rows) == 3 * 3                    # 3 meters x (as written, fitted, held out)
    first = rows[0]                              # facility, as written: 41 % and +18.5 %
    assert '<td class="bad">41.0\u00a0%</td>' in first
    assert '<td class="bad">+18.5\u00a0%</td>' in first
    assert '<td class="result bad">FAIL</td>' in first
    assert '<td class="result na">NOT JUDGED</td>' in first   # monthly
    second = rows[1]                             # facility, fitted
    assert '<td class="ok">12.0\u00a0%</td>' in second
    assert '<td class="result ok">PASS</td>' in second
    assert "Held out, fitted" in rows[2]


def test_parameters_and_data_quality(page: str):
    table = page[page.index('id="parameters-table"'):]
    table = table[:table.index("</table>")]
    assert "<td>40</td><td>52.4 ± 1.2</td><td>+31.0\u00a0%</td>" in table   # 12.4 / 40
    assert "<td>10 – 100</td>" in table
    hvac = table[table.index("hvac"):]
    assert "at a bound" in hvac and "not identifiable" in hvac
    assert "rank 1 of 2 parameters, condition number 1.2e+03" in page
    assert "only the sum of lighting and HVAC is fixed" in page
    dq = page[page.index('id="data-quality-table"'):]
    dq = dq[:dq.index("</table>")]
    assert "<th>missing</th><th>spike</th>" in dq
    assert "<td>8</td><td>3</td>" in dq and "<td>8</td><td>0</td>" in dq


def test_a_calibration_without_fit_and_holdout_renders(tmp_path: Path):
    folder = make_folder(tmp_path / "nofit", fit=False, holdout=False, passing=False)
    info = json.loads((folder / "calibration.json").read_text())
    assert "after" not in info["metrics"] and "holdout" not in info["metrics"]
    page = write_calibration_page(folder).read_text()
    assert headline(page) == ("The model as written (no fit) does not meet ASHRAE Guideline 14"
                              " on 3 of 3 meters judged (facility_kwh, line_kwh, site).")
    assert "held-out" not in verdict_text(page).lower()
    assert "not fitted (--no-fit)" in page
    data, layout = newplot_args(page, figure_id("series", 0))
    assert [t["name"] for t in data] == ["simulated, as written", "measured"]
    assert "shapes" not in layout
    data, _ = newplot_args(page, figure_id("scatter", 0))
    assert [t["name"] for t in data] == ["as written", "1:1"]
    assert len(arr(data[0]["x"])) == 238
    table = page[page.index('id="metrics-table"'):]
    assert table[:table.index("</table>")].count("<tr>") == 1 + 3   # header + as written


def test_user_strings_are_escaped(tmp_path: Path):
    evil = "<script>alert(1)</script>"
    folder = make_folder(tmp_path / "evil", names=(evil, "line_kwh"), plant_name=evil)
    info = json.loads((folder / "calibration.json").read_text())
    info["parameters"][0]["path"] = evil
    info["identifiability"]["message"] = evil
    (folder / "calibration.json").write_text(json.dumps(info))
    page = calibration_page(folder)
    assert "<script>alert(1)" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert page.count("<script") == page.count("</script>")


def test_twin_dashboard_renders_a_calibration_folder(folder: Path, capsys):
    assert main(["dashboard", str(folder)]) == 0
    assert "twin: dashboard" in capsys.readouterr().out
    text = (folder / "dashboard.html").read_text()
    assert "twin calibration" in text and 'id="verdict"' in text


def test_bad_folders_are_one_line_errors(tmp_path: Path, capsys):
    folder = make_folder(tmp_path / "cal")
    df = pd.read_parquet(folder / "comparison.parquet").drop(columns="after:line_kwh")
    df.to_parquet(folder / "comparison.parquet")
    with pytest.raises(CalibrationFolderError,
                       match=r"comparison.parquet: column 'after:line_kwh' missing"):
        load_calibration_folder(folder)
    assert main(["dashboard", str(folder)]) == 2
    err = capsys.readouterr().err
    assert "after:line_kwh" in err and "Traceback" not in err
    (folder / "calibration.json").write_text("{not json")
    with pytest.raises(CalibrationFolderError, match=r"calibration.json: not valid JSON"):
        load_calibration_folder(folder)
    (folder / "comparison.parquet").unlink()
    with pytest.raises(FileNotFoundError, match="not a calibration folder"):
        load_calibration_folder(folder)
