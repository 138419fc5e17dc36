"""Colours, fonts and the shared plotly layout of the dashboard.

One place for every colour, so a group, a product or a power state has the same colour in every
figure of a page (and on every page: colours are assigned in a fixed order, never at random).
"""

from __future__ import annotations

from typing import Any

from twin.i18n import N_, tr

FONT_FAMILY = (
    "-apple-system, BlinkMacSystemFont, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, "
    "'Noto Sans', 'PingFang SC', 'Microsoft YaHei', sans-serif"
)
"""System fonts only: the page must render offline, without web fonts."""

TEXT = "#1f2933"
MUTED = "#616e7c"
GRID = "#e4e7eb"

STATE_ORDER: tuple[str, ...] = (
    "processing", "setup", "warm_up", "idle", "starved", "blocked", "standby", "off", "down",
    "maintenance", "on",
)
"""Power states in the order they are stacked: value-adding first, stops last."""

STATE_COLORS: dict[str, str] = {
    "processing": "#2e9e4f",   # green: value-adding
    "setup": "#f0a202",        # amber: necessary, not value-adding
    "warm_up": "#f7cd5d",      # light amber
    "idle": "#dadde1",         # light grey: waiting, machine ready
    "starved": "#bcc2c9",      # grey: waiting for material
    "blocked": "#e8590c",      # orange: cannot unload, downstream full
    "standby": "#9fb3c8",      # blue-grey: saving mode
    "off": "#627d98",          # darker blue-grey: switched off
    "down": "#d62728",         # red: breakdown
    "maintenance": "#8e44ad",  # purple: planned maintenance
    "on": "#e9d8a6",           # pale sand: a base load switched on
}
OTHER_STATE_COLOR = "#7b8794"

STATE_LABELS: dict[str, str] = {
    "processing": N_("Processing"), "setup": N_("Setup"), "warm_up": N_("Warm-up"),
    "idle": N_("Idle"), "starved": N_("Starved"), "blocked": N_("Blocked"),
    "standby": N_("Standby"), "off": N_("Off"), "down": N_("Down"),
    "maintenance": N_("Maintenance"),
}

CARRIER_COLORS: dict[str, str] = {
    "electricity": "#2c3e57",
    "natural_gas": "#5a4632",
    "heat": "#6b2e2e",
    "cooling": "#1f4f57",
}
"""Dark, muted carrier colours: they frame the group colours in the treemap, never clash."""
OTHER_CARRIER_COLOR = "#7b8794"

CARRIER_LABELS: dict[str, str] = {
    "electricity": N_("Electricity"),
    "natural_gas": N_("Natural gas"),
    "heat": N_("Heat"),
    "cooling": N_("Cooling"),
}

LINE_PALETTE: tuple[str, ...] = (
    "#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#ff9da7",
    "#9c755f", "#1f77b4", "#bcbd22", "#17becf",
)
"""Groups with production equipment (lines): vivid colours."""

BASE_PALETTE: tuple[str, ...] = (
    "#a7b1bc", "#c9b99a", "#9fb9a5", "#b9a7c4", "#c4a3a3", "#8c9aa8", "#b0b58f", "#d0c5b4",
)
"""Groups of base loads only (facility, utilities): muted colours, the 'floor' of the stack."""

PRODUCT_PALETTE: tuple[str, ...] = (
    "#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d", "#666666",
    "#1f78b4", "#b2df8a",
)

HEATMAP_SCALE: list[list[Any]] = [
    [0.0, "#ffffcc"], [0.125, "#ffeda0"], [0.25, "#fed976"], [0.375, "#feb24c"],
    [0.5, "#fd8d3c"], [0.625, "#fc4e2a"], [0.75, "#e31a1c"], [0.875, "#bd0026"],
    [1.0, "#800026"],
]
"""ColorBrewer YlOrRd, low = pale yellow, high = dark red (written out: no reversal surprises)."""

PLOTLY_CONFIG: dict[str, Any] = {
    "displaylogo": False,
    "responsive": True,
    "modeBarButtonsToRemove": ["lasso2d", "select2d", "autoScale2d"],
    "toImageButtonOptions": {"format": "png", "scale": 2},
}


def state_color(state: str) -> str:
    """Fixed colour of a power state."""
    return STATE_COLORS.get(state, OTHER_STATE_COLOR)


def state_label(state: str) -> str:
    """Display name of a power state."""
    return tr(STATE_LABELS[state]) if state in STATE_LABELS \
        else state.replace("_", " ").capitalize()


def carrier_color(carrier: str) -> str:
    """Fixed colour of an energy carrier."""
    return CARRIER_COLORS.get(carrier, OTHER_CARRIER_COLOR)


def carrier_label(carrier: str) -> str:
    """Display name of an energy carrier ('natural_gas' -> 'Natural gas')."""
    return tr(CARRIER_LABELS[carrier]) if carrier in CARRIER_LABELS else \
        carrier.replace("_", " ").capitalize()


def base_layout(height: int, **extra: Any) -> dict[str, Any]:
    """Layout shared by every figure: fonts, white background, margins, height [px]."""
    layout: dict[str, Any] = {
        "template": "plotly_white",
        "height": height,
        "font": {"family": FONT_FAMILY, "size": 13, "color": TEXT},
        "margin": {"l": 70, "r": 30, "t": 30, "b": 50},
        "paper_bgcolor": "white",
        "plot_bgcolor": "white",
        "hoverlabel": {"font": {"family": FONT_FAMILY, "size": 13}},
        "legend": {"font": {"size": 13}},
    }
    layout.update(extra)
    return layout


SUPPLY_COLORS: dict[str, str] = {
    "pv": "#f2c12e",          # yellow: sun
    "wind": "#8ecae6",        # light blue
    "chp": "#c98b5b",         # tan: combined heat and power
    "other": "#b9a7c4",       # mauve: anything else the balance needs
    "discharge": "#2e9e4f",   # green: battery
    "charge": "#8fd19e",      # light green: battery, the other way
    "grid": "#98a2ad",        # grey: grid import
    "export": "#8e6bbf",      # purple
    "curtailed": "#f4a3a3",   # light red, hatched
    "unserved": "#d62728",    # red: not supplied
    "demand": "#1f2933",      # the site demand line
}
"""Energy-supply colours: the same source has the same colour in every supply figure."""

PRICE_SHADES: tuple[str, ...] = ("#ffffff", "#f0f2f7", "#e3e7ef", "#d5dae6", "#c6cddc")
"""Background of the supply chart by price level, cheapest (white) to dearest (darkest)."""

COST_COLORS: dict[str, str] = {
    "energy": "#4e79a7",      # blue: electricity bought per kWh
    "demand": "#f28e2b",      # orange: the month's peak
    "capacity": "#f6b26b",    # light orange: contracted capacity
    "gas": "#9c755f",         # brown: natural gas
    "heat": "#e15759",        # red: purchased heat or steam
    "export": "#8e6bbf",      # purple: feed-in revenue (below zero)
}

GRID_HEATMAP_SCALE: list[list[Any]] = [
    [0.0, "#f7f8fa"], [0.25, "#d3d9e2"], [0.5, "#9aa7b8"], [0.75, "#5b6b82"], [1.0, "#1f2d3d"],
]
"""Grid import by hour: pale grey (nothing bought) to dark slate (the most)."""


def price_shades(n: int) -> list[str]:
    """``n`` background shades, cheapest first, spread over :data:`PRICE_SHADES`."""
    if n <= 1:
        return [PRICE_SHADES[0]][:n]
    last = len(PRICE_SHADES) - 1
    return [PRICE_SHADES[round(i * last / (n - 1))] for i in range(n)]

EMISSION_COLORS: dict[str, str] = {
    "scope1": "#9c755f",            # brown: natural gas burnt on site (as COST_COLORS["gas"])
    "scope2_location": "#5b6b82",   # slate: grid electricity, grid-average factor
    "scope2_market": "#9aa7b8",     # lighter slate: grid electricity, market-based
}
"""Emissions by scope: scope 1 has the colour of gas, scope 2 the colours of the grid."""

EMISSIONS_HEATMAP_SCALE: list[list[Any]] = [
    [0.0, "#ffffe5"], [0.125, "#fff7bc"], [0.25, "#fee391"], [0.375, "#fec44f"],
    [0.5, "#fe9929"], [0.625, "#ec7014"], [0.75, "#cc4c02"], [0.875, "#993404"],
    [1.0, "#662506"],
]
"""ColorBrewer YlOrBr for CO2 per hour: pale (little) to dark brown (the most)."""

FACTOR_STATUS: dict[str, str] = {
    "S": "seen in the cited source", "S2": "seen only in a secondary source",
    "U": "unverified", "def": "true by definition", "user": "given by the user",
}
"""Meaning of the status of an emission factor (see :mod:`twin.carbon.factors`)."""


BASE_SCENARIO_COLOR = "#a3acb6"
WATERFALL_DOWN = "#2f855a"
"""A waterfall bar that lowers CO2 or cost (green)."""
WATERFALL_UP = "#c05621"
"""A waterfall bar that raises CO2 or cost (orange)."""
"""The base scenario of a study: neutral grey, the reference every other bar and line is read
against (the other scenarios take vivid colours)."""

SCENARIO_PALETTE: tuple[str, ...] = LINE_PALETTE
"""The other scenarios of a study, in file order (the same colour in every study figure)."""

CALIBRATION_COLORS: dict[str, str] = {
    "measured": "#1f2933",    # the meter: near black, drawn first
    "before": "#a3acb6",      # the model as written: neutral grey (as the base scenario)
    "after": "#3b6fb6",       # the fitted model: the page's accent blue
    "holdout": "#f28e2b",     # the held-out period: orange
}
"""Calibration page: measured, the model before and after fitting, the held-out period."""

RESIDUAL_SCALE: list[list[Any]] = [
    [0.0, "#2166ac"], [0.25, "#92c5de"], [0.5, "#f7f7f7"], [0.75, "#f4a582"], [1.0, "#b2182b"],
]
"""ColorBrewer RdBu, reversed: residual measured - simulated below zero (the model over-predicts)
blue, zero white, above zero (it under-predicts) red."""

CORRELATION_SCALE: list[list[Any]] = RESIDUAL_SCALE
"""Correlation -1 (blue) to +1 (red) of fitted parameters."""
