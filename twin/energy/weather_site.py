"""A weather file seen from the site: its clock converted to the site's zone, and where its
station is.

A weather file's timestamps are instants in the file's own clock: EPW and TMY3 give a fixed UTC
offset in the header, a CSV gives offsets in its timestamps or is naive (then in the zone given as
``timezone:``, by default the site's). All of them are converted to the site's zone by absolute
time, so a file stamped in UTC gives the same PV as the same data stamped in Beijing time.
The station's latitude and longitude (EPW and TMY3 headers) are compared with the site's: a
station far away is a stand-in climate, which the run reports with its distance.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from twin.config.plant import Site
from twin.config.profiles import parse_zone
from twin.energy import weather
from twin.energy.weather import WeatherKind
from twin.i18n import N_

EARTH_RADIUS_KM = 6371.0088
"""Mean Earth radius [km] (IUGG, Moritz 2000, R1 = (2a + b)/3)."""

FAR_FROM_SITE_KM = 100.0
"""A weather station farther than this from the site is reported [km]: beyond roughly 100 km
the hourly irradiance of two places hardly correlates (clouds), though monthly sums may still
be close for flat terrain."""


def great_circle_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Distance between two points on a sphere of radius :data:`EARTH_RADIUS_KM` [km], by the
    haversine formula (Sinnott, "Virtues of the Haversine", Sky and Telescope 68(2), 1984).

    Latitudes and longitudes in degrees (north and east positive).
    """
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def read_site_weather(path: str | Path, kind: WeatherKind | None, site: Site,
                      timezone: str | None = None) -> pd.DataFrame:
    """Read a weather file (:func:`twin.energy.weather.read_weather`) onto the site's clock.

    Parameters
    ----------
    path, kind
        As :func:`~twin.energy.weather.read_weather`.
    site : Site
        The plant's site; its ``timezone`` is the zone of the result.
    timezone : str, optional
        The zone of the file's clock (:func:`twin.config.profiles.parse_zone`): for a CSV, the
        zone of naive timestamps (default: the site's); for EPW and TMY3 it replaces the UTC
        offset of the header (for a header that is wrong; default: the header's).

    Returns
    -------
    DataFrame
        As ``read_weather``, on the site's zone; ``attrs['file_utc_offset_h']`` is the file's
        own UTC offset [h] when it has one fixed offset.
    """
    zone = parse_zone(timezone) if timezone is not None else None
    kind = kind or weather._infer_kind(Path(path))
    if kind == "csv":
        frame = weather.read_weather(path, kind, tz=zone or site.timezone)  # type: ignore[arg-type]
    else:
        frame = weather.read_weather(path, kind)
        if zone is not None:
            attrs = frame.attrs
            frame.index = frame.index.tz_localize(None).tz_localize(
                zone, ambiguous="raise", nonexistent="raise")  # type: ignore[arg-type]
            frame.attrs = attrs
    offset = frame.index[0].utcoffset() if len(frame.index) else None
    attrs = frame.attrs
    frame.index = frame.index.tz_convert(site.timezone)
    frame.index.name = "time"
    frame.attrs = {**attrs, "file_utc_offset_h": (offset.total_seconds() / 3600.0
                                                  if offset is not None else None)}
    return frame


def site_warnings(frame: pd.DataFrame, site: Site, shown: str) -> list[str]:
    """Plain-language warnings about a weather file for ``site``: its station's distance from
    the site when farther than :data:`FAR_FROM_SITE_KM`, and its clock when the station is far
    and in another zone (its daylight then falls at other site hours)."""
    lat, lon = frame.attrs.get("latitude"), frame.attrs.get("longitude")
    if lat is None or lon is None:
        return []
    km = great_circle_km(site.latitude, site.longitude, lat, lon)
    if km <= FAR_FROM_SITE_KM:
        return []
    values = {"file": shown, "station": f"{lat:.2f}, {lon:.2f}", "km": f"{km:,.0f}",
              "site": f"{site.latitude:.2f}, {site.longitude:.2f}"}
    file_h = frame.attrs.get("file_utc_offset_h")
    site_h = _standard_offset_h(site.timezone, frame.index)
    if file_h is not None and abs(file_h - site_h) >= 1.0:
        return [N_("weather file {file}: its station ({station}) is {km} km from the site "
                   "({site}); its PV and wind are another place's climate; its clock is "
                   "UTC{file_h} h and the site's UTC{site_h} h, and its hours were converted by "
                   "absolute time, so its daylight falls {off} h off the site's sun (to use it "
                   "as a stand-in climate on the site's clock, set energy.weather.timezone to "
                   "the site's zone)").format(**values, file_h=f"{file_h:+g}",
                                              site_h=f"{site_h:+g}",
                                              off=f"{abs(file_h - site_h):g}")]
    text = N_("weather file {file}: its station ({station}) is {km} km from the site ({site}); "
              "its PV and wind are another place's climate").format(**values)
    return [text]


def _standard_offset_h(zone: str, index: pd.DatetimeIndex) -> float:
    year = int(index[0].year) if len(index) else 2001
    offsets = [pd.Timestamp(f"{year}-{m}-15 12:00").tz_localize(zone).utcoffset()
               for m in ("01", "07")]
    return min(o.total_seconds() for o in offsets if o is not None) / 3600.0
