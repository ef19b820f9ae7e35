"""Connectivity measures per zone: bus/tram stops nearby, trains at the nearest station, digital.

Zones are population-weighted centroids (points, EPSG:27700), as in the ``lsoa21_centroids``
layer; results keep the zones' index.
"""

from __future__ import annotations

from typing import Iterable

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..errors import MissingColumnError, ParameterError, UnknownNameError
from ..checks import check_frame

__all__ = ["stops_within", "rail_trains_nearest", "digital_score", "STOP_MODES"]

STOP_MODES = ("bus", "tram", "rail", "air", "coach", "ferry", "other")


def _points(zones: gpd.GeoDataFrame, name: str) -> gpd.GeoDataFrame:
    if not isinstance(zones, gpd.GeoDataFrame):
        raise ParameterError(f"{name} must be a GeoDataFrame of points (e.g. the lsoa21_centroids layer)")
    return check_frame(zones, name=name, geom_types=("Point",), allow_empty=True)


def stops_within(
    zones: gpd.GeoDataFrame,
    stops: gpd.GeoDataFrame,
    *,
    radius_m: float = 800.0,
    modes: Iterable[str] | None = ("bus", "tram"),
    name: str | None = None,
) -> pd.Series:
    """Number of stops within ``radius_m`` metres (straight line, inclusive) of each zone point.

    Parameters
    ----------
    zones: points (population-weighted centroids), EPSG:27700 or reprojectable.
    stops: stop points with a ``mode`` column (the ``stops`` layer holds *active* NaPTAN
        access points only); ``modes=None`` counts every stop.
    radius_m: metres; default 800 m (about 10 minutes' walk at 4.8 km/h).
    name: Series name; default ``stops_<radius>m`` (``stops_800m``).

    Returns
    -------
    Series of int64 counts indexed like ``zones``. One STRtree query for all zones.
    """
    if not radius_m >= 0:
        raise ParameterError(f"radius_m must be a non-negative number of metres, got {radius_m!r}")
    zones = _points(zones, "zones")
    if not isinstance(stops, gpd.GeoDataFrame):
        raise ParameterError("stops must be a GeoDataFrame of points (the `stops` layer)")
    stops = check_frame(stops, name="stops", geom_types=("Point",), allow_empty=True)
    if modes is not None:
        modes = tuple(modes)
        unknown = sorted(set(modes) - set(STOP_MODES))
        if unknown:
            raise UnknownNameError("stop mode", unknown[0] if len(unknown) == 1 else unknown, STOP_MODES)
        if "mode" not in stops.columns:
            raise MissingColumnError("stops lacks a 'mode' column; pass modes=None to count every stop")
        stops = stops[stops["mode"].isin(modes)]
    name = name or f"stops_{int(radius_m) if float(radius_m).is_integer() else radius_m}m"
    counts = np.zeros(len(zones), dtype="int64")
    if len(stops) and len(zones):
        tree = shapely.STRtree(stops.geometry.values)
        zi, _ = tree.query(zones.geometry.values, predicate="dwithin", distance=float(radius_m))
        counts = np.bincount(zi, minlength=len(zones)).astype("int64")
    return pd.Series(counts, index=zones.index, name=name)


def rail_trains_nearest(
    zones: gpd.GeoDataFrame,
    stations: gpd.GeoDataFrame,
    *,
    tt: pd.DataFrame | None = None,
    trains_col: str = "daily_trains",
) -> pd.DataFrame:
    """Weekday departures at each zone's nearest rail station.

    The nearest station is, when ``tt`` is given, the one with the shortest network time
    (``tt``: zones × station ids, minutes, NaN unreachable; columns must be ids in
    ``stations.index``) – this is how :func:`lisgeo.pipeline.score.score_region` uses it, with
    the car times from which ``tt_car_nearest_station`` is taken, so the two columns describe
    the same station. Without ``tt`` it is the nearest by straight-line distance (crow-fly).

    Returns
    -------
    DataFrame indexed like ``zones``: ``rail_trains_nearest`` (departures per weekday,
    float; NaN if no station is reachable), ``rail_nearest_crs`` (station id),
    ``rail_nearest_km`` (straight-line km to that station) and ``rail_nearest_method``
    (``"network"`` or ``"crowfly"``).
    """
    zones = _points(zones, "zones")
    if not isinstance(stations, gpd.GeoDataFrame):
        raise ParameterError("stations must be a GeoDataFrame of points (the `rail_stations` layer)")
    stations = check_frame(stations, name="rail stations", required=[trains_col], geom_types=("Point",))
    out = pd.DataFrame(index=zones.index)
    if tt is not None:
        from .accessibility import nearest_time

        unknown = pd.Index(tt.columns).difference(stations.index)
        if len(unknown):
            raise ParameterError(f"tt has columns that are not stations: {list(unknown[:3])}; name tt's columns by stations.index (CRS codes)")
        missing = zones.index.difference(tt.index)
        if len(missing):
            raise ParameterError(f"tt lacks rows for {len(missing)} zones (e.g. {list(missing[:3])}); compute times for every zone")
        near = nearest_time(tt.loc[zones.index], name="t")
        crs = near["t_id"]
        method = "network"
    else:
        if len(zones):
            tree = shapely.STRtree(stations.geometry.values)
            j = tree.nearest(zones.geometry.values)
            crs = pd.Series(np.asarray(stations.index, dtype=object)[j], index=zones.index, dtype="string")
        else:
            crs = pd.Series([], index=zones.index, dtype="string")
        method = "crowfly"
    has = crs.notna()
    trains = pd.Series(np.nan, index=zones.index, dtype="float64")
    km = pd.Series(np.nan, index=zones.index, dtype="float64")
    if has.any():
        ids = crs[has].astype(str).to_numpy()
        trains[has] = pd.to_numeric(stations[trains_col], errors="coerce").reindex(ids).to_numpy(dtype="float64")
        pts = stations.geometry.reindex(ids).values
        km[has] = shapely.distance(zones.geometry[has].values, pts) / 1000.0
    out["rail_trains_nearest"] = trains
    out["rail_nearest_crs"] = crs
    out["rail_nearest_km"] = km
    out["rail_nearest_method"] = method
    return out


def digital_score(
    digital: pd.DataFrame | pd.Series,
    *,
    column: str = "digital_indicator",
    higher_is_better: bool = False,
    name: str = "digital_score",
) -> pd.Series:
    """Digital connectivity oriented so that **higher = better**.

    The IoD 2025 digital connectivity indicator (broadband download and upload speeds) is a
    *deprivation* indicator: higher values mean worse connectivity, so by default its sign
    is flipped (``digital_score = -digital_indicator``), keeping its units (a standardised
    score; 0 is roughly England's average). Pass ``higher_is_better=True`` for an indicator
    already oriented that way. Normalisation to 0–100 happens in :mod:`lisgeo.measures.indices`.
    """
    if isinstance(digital, pd.DataFrame):
        if column not in digital.columns:
            raise MissingColumnError(f"digital layer lacks column {column!r}; it has {list(digital.columns)}")
        s = digital[column]
    else:
        s = digital
    s = pd.to_numeric(s, errors="coerce").astype("float64")
    return (s if higher_is_better else -s).rename(name)
