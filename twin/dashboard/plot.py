"""Plotly figures as plain dicts, and their HTML.

The dashboard builds every figure as the JSON that plotly.js reads, ``{"data": [trace, ...],
"layout": {...}}`` (a :class:`Figure`), not as plotly graph objects: validating and deep-copying
graph objects (and their template, once per figure) took most of the time of writing a page. The
dicts follow plotly's rules, so ``plotly.graph_objects.Figure(fig)`` turns one into a validated
graph object (:meth:`Figure.to_plotly`; the tests do so for every figure of a page):

- a ``None`` value in a dict means "not set" and is left out of the page, and so is a dict
  that is empty once its unset values are left out (an empty list is sent as it is: write
  ``None`` for no annotations, shapes, menus, ...);
- numpy arrays go to the page as typed arrays (base64, as plotly's own ``to_dict`` sends them);
- the layout's ``template`` is the name of a registered plotly template, embedded in full.
"""

from __future__ import annotations

import base64
from functools import cache
from typing import Any

import numpy as np
import plotly.io as pio

from twin.dashboard import theme


class Figure(dict[str, Any]):
    """A figure as plotly.js reads it: ``{"data": [trace, ...], "layout": {...}}``.

    It also reads as the plotly graph object it stands for: ``fig.data``, ``fig.layout`` and
    ``fig.show()`` are those of :meth:`to_plotly`, made and validated on each use (slow; changing
    them does not change the dict). The page uses the dict.
    """

    def to_plotly(self) -> Any:
        """The figure as a validated :class:`plotly.graph_objects.Figure` (a new one each call)."""
        import plotly.graph_objects as go

        return go.Figure(self)

    @property
    def data(self) -> Any:
        """The traces of :meth:`to_plotly`."""
        return self.to_plotly().data

    @property
    def layout(self) -> Any:
        """The layout of :meth:`to_plotly`."""
        return self.to_plotly().layout

    def show(self, *args: Any, **kwargs: Any) -> None:
        """Show the figure with plotly (see :meth:`plotly.graph_objects.Figure.show`)."""
        self.to_plotly().show(*args, **kwargs)


TYPED_DTYPES = {"int8": "i1", "uint8": "u1", "int16": "i2", "uint16": "u2", "int32": "i4",
                "uint32": "u4", "float32": "f4", "float64": "f8"}
"""numpy dtypes plotly.js reads as typed arrays, with its name for them."""
PLAIN_KEYS = frozenset({"geojson", "layer", "layers", "range"})
"""Properties plotly never sends as typed arrays."""


def trace(kind: str, **props: Any) -> dict[str, Any]:
    """A trace of type ``kind`` ('scatter', 'bar', 'heatmap', ...) with the given properties."""
    return {"type": kind, **props}


def figure_html(fig: dict[str, Any] | Any, div_id: str) -> str:
    """The figure's div and script, without plotly.js, with the fixed id ``div_id``.

    ``fig`` is a :class:`Figure` (or a plain dict like one) or a plotly graph object (sent as its
    ``to_dict()``).
    """
    if isinstance(fig, dict):
        layout = _jsonable(fig.get("layout") or {})
        if isinstance(layout.get("template"), str):
            layout["template"] = template(layout["template"])
        sent = {"data": _jsonable(fig.get("data") or []), "layout": layout}
    else:
        sent = fig.to_dict()
    height = sent["layout"].get("height") or 450
    return pio.to_html(sent, validate=False, full_html=False, include_plotlyjs=False,
                       div_id=div_id, config=theme.PLOTLY_CONFIG, default_width="100%",
                       default_height=f"{height}px")


@cache
def template(name: str) -> dict[str, Any]:
    """The registered plotly template ``name`` as a dict (read once; do not modify it)."""
    return pio.templates[name].to_plotly_json()


def typed_array(values: np.ndarray) -> dict[str, str] | np.ndarray:
    """A numpy array as a plotly.js typed array (``dtype``, base64 ``bdata``, ``shape`` if 2-D
    or more), 64-bit integers narrowed to the smallest type that holds them, as plotly does;
    arrays of other types (strings, times) and empty arrays are returned as they are."""
    if values.size == 0:
        return values
    if values.dtype.kind in "iu" and values.dtype.itemsize == 8:
        values = _narrow(values)
    name = TYPED_DTYPES.get(str(values.dtype))
    if name is None:
        return values
    spec = {"dtype": name, "bdata": base64.b64encode(np.ascontiguousarray(values)).decode()}
    if values.ndim > 1:
        spec["shape"] = str(values.shape)[1:-1]
    return spec


def _narrow(values: np.ndarray) -> np.ndarray:
    """64-bit integers as the smallest 8-, 16- or 32-bit type that holds them (else as they
    are)."""
    lo, hi = values.min(), values.max()
    kinds = ("uint8", "uint16", "uint32") if values.dtype.kind == "u" else (
        "int8", "int16", "int32")
    for kind in kinds:
        info = np.iinfo(kind)
        if info.min <= lo and hi <= info.max:
            return values.astype(kind)
    return values


def _jsonable(obj: Any, key: str = "") -> Any:
    """``obj`` with unset (None) and empty dict values left out, numpy arrays as typed
    arrays."""
    if isinstance(obj, dict):
        out = {}
        for k, v in obj.items():
            if v is None:
                continue
            v = _jsonable(v, k)
            if not (isinstance(v, dict) and not v):
                out[k] = v
        return out
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray) and key not in PLAIN_KEYS:
        return typed_array(obj)
    return obj


def _subplot_grid(rows: int, cols: int, horizontal_spacing: float,
                  vertical_spacing: float) -> list[tuple[list[float], list[float]]]:
    """(x domain, y domain) of each cell of a ``rows`` x ``cols`` grid of equal subplots, row
    by row from the top left, computed as :func:`plotly.subplots.make_subplots` does."""
    widths = [(1.0 - horizontal_spacing * (cols - 1)) / cols] * cols
    heights = [(1.0 - vertical_spacing * (rows - 1)) / rows] * rows
    cells = []
    for r in range(rows):
        y0 = sum(heights[:rows - 1 - r]) + (rows - 1 - r) * vertical_spacing
        y_domain = [_clip(y0), _clip(y0 + heights[-1 - r])]
        for c in range(cols):
            x0 = sum(widths[:c]) + c * horizontal_spacing
            cells.append(([x0, x0 + widths[c]], list(y_domain)))
    return cells


def _clip(y: float) -> float:
    """A domain end within 0.01 outside [0, 1] (float rounding) onto the edge, as plotly."""
    return 0.0 if -0.01 < y < 0.0 else 1.0 if 1.0 < y < 1.01 else y


def cell_axes(cell: int) -> tuple[str, str]:
    """Ids of the x and y axis of cell ``cell`` (from 0, row by row from the top left) of a
    :func:`subplot_layout` grid: ('x', 'y'), ('x2', 'y2'), ..."""
    n = "" if cell == 0 else str(cell + 1)
    return f"x{n}", f"y{n}"


def axis_key(axis: str) -> str:
    """Layout key of the axis with id ``axis``: 'x' -> 'xaxis', 'y2' -> 'yaxis2'."""
    return f"{axis[0]}axis{axis[1:]}"


def subplot_layout(rows: int, cols: int, *, horizontal_spacing: float, vertical_spacing: float,
                   titles: list[str] | None = None, shared_xaxes: bool = False
                   ) -> dict[str, Any]:
    """The layout of a grid of subplots as :func:`plotly.subplots.make_subplots` makes it: the
    axes of every cell (see :func:`cell_axes`) with their domains, and ``titles`` above the
    first cells. With ``shared_xaxes`` the x axes of a column follow the one of its bottom cell,
    and only that one shows tick labels."""
    layout: dict[str, Any] = {}
    annotations = []
    for i, (x_domain, y_domain) in enumerate(_subplot_grid(rows, cols, horizontal_spacing,
                                                           vertical_spacing)):
        x, y = cell_axes(i)
        layout[axis_key(x)] = {"anchor": y, "domain": x_domain}
        layout[axis_key(y)] = {"anchor": x, "domain": y_domain}
        if titles and i < len(titles) and titles[i]:
            annotations.append({"font": {"size": 16}, "showarrow": False, "text": titles[i],
                                "x": sum(x_domain) / 2.0, "xanchor": "center", "xref": "paper",
                                "y": y_domain[1], "yanchor": "bottom", "yref": "paper"})
    if shared_xaxes:
        for c in range(cols):
            bottom = cell_axes((rows - 1) * cols + c)[0]
            for r in range(rows - 1):
                x = cell_axes(r * cols + c)[0]
                layout[axis_key(x)].update(matches=bottom, showticklabels=False)
    if annotations:
        layout["annotations"] = annotations
    return layout
