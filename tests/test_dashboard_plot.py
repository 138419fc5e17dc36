"""The dashboard's figure plumbing: plain-dict figures sent as plotly would send them, subplot
grids as plotly makes them, and the time helpers of the figures. Every figure of the run and the
study page is checked against plotly's own graph objects: it must validate, and its div must
hold what plotly's ``to_html`` makes of it."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
import pytest
from _plotly_utils.utils import to_typed_array_spec  # what plotly's to_dict uses
from plotly.subplots import make_subplots

import twin
from twin.config import plant_from_data, read_yaml
from twin.config.study import load_study
from twin.dashboard import RunData, figures, load, theme
from twin.dashboard.figures import day_hour_grid, hourly_x
from twin.dashboard.plot import (
    Figure,
    cell_axes,
    figure_html,
    subplot_layout,
    trace,
    typed_array,
)
from twin.dashboard.study import (
    StudyData,
    diff_bars,
    kpi_bars,
    load_study_folder,
    profile_overlay,
)
from twin.study import run_study


def payload(div: str) -> list:
    """The data, layout and config of the one ``Plotly.newPlot`` call in ``div``, parsed."""
    dec = json.JSONDecoder()
    i = div.index('",', div.index("Plotly.newPlot(")) + 2
    out = []
    for _ in range(3):
        while div[i] in " ,":
            i += 1
        obj, i = dec.raw_decode(div, i)
        out.append(obj)
    return out


def plotly_html(fig: dict, div_id: str) -> str:
    """The div plotly itself makes of ``fig`` as a validated graph object (validation raises on
    any property plotly does not know)."""
    graph = go.Figure(fig)
    return pio.to_html(graph, full_html=False, include_plotlyjs=False, div_id=div_id,
                       config=theme.PLOTLY_CONFIG, default_width="100%",
                       default_height=f"{graph.layout.height or 450}px")


def assert_as_plotly(fig: dict) -> None:
    """``fig`` is a valid plotly figure and its div holds what plotly's own would."""
    ours, theirs = figure_html(fig, "fig-x"), plotly_html(fig, "fig-x")
    assert payload(ours) == payload(theirs)
    assert ours[:ours.index("Plotly.newPlot(")] == theirs[:theirs.index("Plotly.newPlot(")]


@pytest.mark.parametrize("values", [
    np.array([1.5, -2.25, 3.0], dtype=np.float32), np.array([0.1, 1e300]),
    np.array([1, 2, 3], dtype=np.int32), np.array([1, 200, -3]), np.array([70_000, -1]),
    np.array([2**40, 1]), np.array([1, 300], dtype=np.uint64),
    np.arange(6, dtype=np.float32).reshape(2, 3), np.array([], dtype=float),
    np.array(["a", "b"]), np.array(["2026-03-02T01:00"], dtype="datetime64[ns]"),
], ids=lambda v: f"{v.dtype}-{v.shape}")
def test_typed_arrays_as_plotly(values: np.ndarray) -> None:
    ours, theirs = typed_array(values), to_typed_array_spec(values)
    if isinstance(theirs, dict):
        assert ours == theirs
    else:                               # sent as a list
        assert isinstance(ours, np.ndarray) and ours.tolist() == theirs.tolist()


def test_figure_html_as_plotly() -> None:
    # unset (None) properties left out, numpy arrays typed, lists kept, the template embedded
    fig = {"data": [trace("scatter", x0="2026-03-02 00:00:00", dx=3_600_000,
                          y=np.array([1.0, 2.5], dtype=np.float32), customdata=None,
                          name="<b>a</b>", line={"color": "#123456", "dash": None}),
                    trace("bar", x=["a", "b"], y=[None, 2], base=np.array(
                        ["2026-03-02T06:00:00.5"], dtype="datetime64[ns]"),
                        marker={"color": ["#111111", "#222222"]})],
           "layout": theme.base_layout(300, xaxis={"range": [0, 1.5]}, yaxis={"range": None},
                                       legend={"title": {"text": None}},
                                       shapes=[{"type": "line", "x0": 0, "x1": 1}])}
    assert_as_plotly(fig)
    data, layout, _ = payload(figure_html(fig, "f"))
    assert "customdata" not in data[0] and "dash" not in data[0]["line"]
    assert data[0]["y"]["dtype"] == "f4" and "yaxis" not in layout and "legend" not in layout
    assert layout["template"] == pio.templates["plotly_white"].to_plotly_json()


def test_figure_reads_as_its_plotly_graph_object() -> None:
    fig = Figure(data=[trace("bar", x=["a"], y=np.array([1.5]), name="n", customdata=None)],
                 layout=theme.base_layout(300))
    assert fig["data"][0]["type"] == "bar" and fig["layout"]["template"] == "plotly_white"
    bar = fig.data[0]
    assert bar.type == "bar" and bar.name == "n" and float(bar.y[0]) == 1.5
    assert fig.layout.height == 300 and isinstance(fig.to_plotly(), go.Figure)


def test_figure_html_of_a_graph_object() -> None:
    fig = go.Figure(go.Bar(x=[1, 2], y=np.array([3.0, 4.0])), layout={"template": "plotly_white"})
    assert payload(figure_html(fig, "f")) == payload(pio.to_html(
        fig, full_html=False, include_plotlyjs=False, div_id="f", config=theme.PLOTLY_CONFIG))


@pytest.mark.parametrize(("rows", "cols", "h", "v", "n_titles", "shared"), [
    (1, 1, 0.2, 0.0, 1, True), (2, 1, 0.2, 0.12, 2, True), (3, 1, 0.2, 0.35 / 3, 3, True),
    (7, 1, 0.2, 0.05, 7, True), (2, 4, 0.07, 0.2, 6, False), (3, 4, 0.07, 0.2, 9, False),
    (1, 4, 0.07, 0.2, 0, False), (3, 2, 0.1, 0.15, 4, True),
])
def test_subplot_layout_as_make_subplots(rows: int, cols: int, h: float, v: float,
                                         n_titles: int, shared: bool) -> None:
    titles = [f"<b>t{i}</b>" for i in range(n_titles)]
    expected = make_subplots(rows=rows, cols=cols, subplot_titles=titles or None,
                             horizontal_spacing=h, vertical_spacing=v,
                             shared_xaxes=shared).to_dict()["layout"]
    expected.pop("template")
    assert subplot_layout(rows, cols, titles=titles, shared_xaxes=shared, horizontal_spacing=h,
                          vertical_spacing=v) == expected


def test_cell_axes() -> None:
    assert [cell_axes(i) for i in range(3)] == [("x", "y"), ("x2", "y2"), ("x3", "y3")]


def test_hourly_x() -> None:
    even = pd.date_range("2026-03-02", periods=3, freq="h")
    assert hourly_x(even) == {"x0": "2026-03-02 00:00:00", "dx": 3_600_000}
    assert hourly_x(pd.DatetimeIndex([])) == {"x": []}
    # clocks forward in Berlin: the local hours are not evenly spaced, the times are listed
    berlin = pd.date_range("2026-03-29 00:00", periods=4, freq="h", tz="Europe/Berlin")
    wall = berlin.tz_localize(None)
    assert hourly_x(wall) == {"x": [t.strftime("%Y-%m-%d %H:%M") for t in wall]}
    assert hourly_x(wall)["x"][2] == "2026-03-29 03:00"


def test_day_hour_grid_by_hand() -> None:
    # Berlin, clocks back on 25 October 2026: 02:00 comes twice; the run starts at 22:00 the
    # day before and ends at 03:00, so the other cells are empty (NaN)
    times = pd.date_range("2026-10-24 22:00", "2026-10-25 03:00", freq="h",
                          tz="Europe/Berlin").tz_convert("UTC")
    wall = times.tz_convert("Europe/Berlin").tz_localize(None)
    values = np.arange(1.0, len(wall) + 1)
    days, grid = day_hour_grid(wall, values)
    assert len(wall) == 7 and days == ["2026-10-24", "2026-10-25"]
    assert grid.shape == (2, 24)
    assert grid[0, 22] == 1.0 and grid[0, 23] == 2.0
    assert grid[1, :4].tolist() == [3.0, 4.0, 5.0 + 6.0, 7.0]   # both 02:00 hours in one cell
    assert np.isnan(grid[0, :22]).all() and np.isnan(grid[1, 4:]).all()


# ------------------------------------------------------------ every figure of the two pages

DEMO = Path(__file__).resolve().parents[1] / "plant_configs" / "demo_plant.yaml"
RUN_FIGURES = (figures.hourly_demand, figures.demand_heatmap, figures.supply_week,
               figures.storage_levels, figures.grid_heatmap, figures.grid_peaks,
               figures.monthly_costs, figures.energy_sankey, figures.energy_treemap,
               figures.emissions_by_scope, figures.emissions_heatmap, figures.state_shares,
               figures.state_timeline, figures.product_footprints, figures.lead_times)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> list[RunData]:
    """Three days of the demo plant (energy supply, tariff, products), and two days over the
    change to summer time in Berlin."""
    data, _ = read_yaml(DEMO)
    demo = plant_from_data(data)
    data["site"]["timezone"] = "Europe/Berlin"
    berlin = plant_from_data(data)
    d = tmp_path_factory.mktemp("figures")
    return [load(twin.simulate(demo, days=3).save(d / "demo")),
            load(twin.simulate(berlin, days=2, start="2026-03-28").save(d / "dst"))]


@pytest.mark.parametrize("make", RUN_FIGURES, ids=lambda f: f.__name__)
def test_run_figures_as_plotly(runs: list[RunData], make: Callable[[RunData], dict]) -> None:
    for data in runs:
        assert_as_plotly(make(data))


STUDY = """\
name: figures
plant: {plant}
days: 1
replications: 2
base: baseline
discount_rate: 0.08
scenarios:
  baseline: {{}}
  pv_battery:
    overrides:
      energy.pv[id=rooftop].dc_kwp: 1000
    upgrade: {{capex: 2000000, lifetime_years: 20}}
  no_battery:
    overrides:
      energy.batteries: []
"""


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> StudyData:
    d = tmp_path_factory.mktemp("study")
    (d / "study.yaml").write_text(STUDY.format(plant=DEMO))
    out = run_study(load_study(d / "study.yaml"), d / "out", jobs=1, progress=None,
                    dashboard=False)
    return load_study_folder(out)


@pytest.mark.parametrize("make", (kpi_bars, diff_bars, profile_overlay),
                         ids=lambda f: f.__name__)
def test_study_figures_as_plotly(study: StudyData, make: Callable[[StudyData], dict]) -> None:
    assert_as_plotly(make(study))
    # two scenarios: no menu to pick the other one
    two = replace(study, manifest={**study.manifest, "scenarios": study.names[:2]})
    assert_as_plotly(make(two))
