"""Walking and cycling travel times between points: on a street graph when one is given, else crow-fly × circuity.

``active_travel_matrix(origins, destinations, mode="walk")`` returns minutes (origins × destinations,
NaN beyond ``max_time_min``). Without a street graph the distance is the straight line ×
``access.circuity`` (the region has no local street network in the public data); with one (a
networkx graph whose nodes carry ``x``, ``y`` in EPSG:27700 and whose edges carry ``length_km``,
e.g. ``graph_from_osm(path, network_type="walking")``) it is the shortest network distance between
the points' nearest nodes plus the two snaps. Speeds: ``walk.walk_kmh`` and ``bicycle.cycle_kmh``.
The pairs come from :func:`lisgeo.network.transit.walk_pairs` (a KD-tree, or scipy Dijkstra on the
street graph), so only pairs within reach are ever computed.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..assumptions import as_assumptions
from ..errors import ParameterError
from .schema import TransportMode, parse_mode

__all__ = ["ACTIVE_MODES", "active_speed_kmh", "active_travel_matrix"]

ACTIVE_MODES = (TransportMode.WALK, TransportMode.BICYCLE)


def active_speed_kmh(mode: TransportMode | str, assumptions: Any = None) -> float:
    """Walking (``walk.walk_kmh``) or cycling (``bicycle.cycle_kmh``) speed."""
    a = as_assumptions(assumptions)
    m = parse_mode(mode, allowed=ACTIVE_MODES)
    return float(a["walk.walk_kmh"] if m is TransportMode.WALK else a["bicycle.cycle_kmh"])


def _xy(points: Any) -> tuple[pd.Index, np.ndarray]:
    """Ids and EPSG:27700 coordinates of points: a GeoDataFrame (index = ids) or a DataFrame [x, y]."""
    import geopandas as gpd

    from ..checks import to_bng

    if isinstance(points, gpd.GeoDataFrame):
        g = to_bng(points, name="points")
        return g.index, np.column_stack([g.geometry.x.to_numpy(), g.geometry.y.to_numpy()])
    if isinstance(points, pd.DataFrame) and {"x", "y"} <= set(points.columns):
        return points.index, points[["x", "y"]].to_numpy(dtype="float64")
    raise ParameterError("points must be a GeoDataFrame of points or a DataFrame with x, y columns (EPSG:27700 metres)")


def active_travel_matrix(origins: Any, destinations: Any, *, mode: TransportMode | str = "walk", max_time_min: float = 45.0,
                         street_graph: Any = None, assumptions: Any = None) -> pd.DataFrame:
    """Minutes on foot or by bicycle from every origin to every destination (NaN beyond ``max_time_min``).

    ``origins``/``destinations``: GeoDataFrames (index = ids; any CRS, reprojected) or DataFrames
    with ``x``, ``y`` in EPSG:27700 metres. ``street_graph``: see the module docstring.
    """
    from .transit import _street_cached, walk_pairs

    if not (isinstance(max_time_min, (int, float)) and np.isfinite(max_time_min) and max_time_min > 0):
        raise ParameterError(f"max_time_min must be a positive number of minutes, got {max_time_min!r}")
    a = as_assumptions(assumptions)
    m = parse_mode(mode, allowed=ACTIVE_MODES)
    kmh = active_speed_kmh(m, a)
    oi, oxy = _xy(origins)
    di, dxy = _xy(destinations)
    street = _street_cached(street_graph) if street_graph is not None else None
    max_m = kmh / 60.0 * max_time_min * 1000.0
    i, j, sec = walk_pairs(oxy, dxy, max_m, walk_kmh=kmh, circuity=a["access.circuity"], street=street)
    out = np.full((len(oi), len(di)), np.nan)
    out[i, j] = sec / 60.0
    same = pd.Index(di).get_indexer(pd.Index(oi))  # a point to itself: 0 minutes (the KD-tree skips zero distances)
    ok = same >= 0
    out[np.flatnonzero(ok), same[ok]] = 0.0
    df = pd.DataFrame(out, index=pd.Index(oi, name="origin"), columns=pd.Index(di, name="destination"))
    df.attrs.update({"units": "minutes", "mode": m.value, "cutoff_min": float(max_time_min), "speed_kmh": kmh,
                     "distance": "street graph" if street is not None else f"crow-fly x {a['access.circuity']:g}"})
    return df
