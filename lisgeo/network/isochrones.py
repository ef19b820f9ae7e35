"""Isochrones: a travel-time surface on the 1 km population grid, and band polygons with their population.

Each grid cell centre joins the network as a zone would, but only as a destination (it is never
passed through, so no other time changes): by car from its ``access.k_junctions`` nearest
junctions and by local links from zones/sites within ``access.local_max_km`` (plus its
``access.local_k_nearest`` nearest within ``access.local_k_max_km`` and the nearest in each of
``access.local_sectors`` directions), at the cell's local speed
(urban when its people per km² exceed ``access.urban_density_per_km2``); by rail on foot from
stations within ``walk.max_walk_km`` (from a classic station's arrival side; at least half the
interchange penalty, as zones): :func:`lisgeo.network.access.point_links`. The time to a cell is
the best of (time to the network node + that link): the same as Dijkstra on the graph with the
cells added as sink nodes.
"""

from __future__ import annotations

import hashlib
import os
import weakref
from typing import Sequence

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely

from ..assumptions import as_assumptions
from ..errors import ParameterError, UnknownNameError
from ..io import atomic_path
from ..checks import BNG
from .access import point_links, urban_flags
from .engine import build_engine
from .schema import NodeKind, NodeRole, node_code, node_id, parse_mode

__all__ = ["travel_time_surface", "isochrones", "site_node"]


def site_node(G: nx.MultiDiGraph, site: str) -> str:
    """Node id of a site given as ``"hs2_toton"`` or as its node id (any node id is accepted)."""
    s = str(site)
    for cand in (s, node_id(NodeRole.SITE, s)):
        if cand in G:
            return cand
    sites = sorted(node_code(n) for n, k in G.nodes(data="kind") if k == NodeKind.SITE)
    raise UnknownNameError("site", site, sites, "Sites come from layers/sites.csv (lisgeo.layers.sites.load_sites).")


def _region_bounds(G: nx.MultiDiGraph, pad_m: float | None = None) -> tuple[float, float, float, float]:
    if pad_m is None:  # as far as the graph's roads reach (build_network's buffer_km), else 10 km
        pad_m = float(G.graph.get("buffer_km", 10.0)) * 1000.0
    xy = np.array([(d["x"], d["y"]) for _, d in G.nodes(data=True) if d.get("kind") in (NodeKind.ZONE, NodeKind.SITE)])
    if len(xy) == 0:
        raise ParameterError("the graph has no zones or sites to take the grid extent from; pass bounds=")
    return (xy[:, 0].min() - pad_m, xy[:, 1].min() - pad_m, xy[:, 0].max() + pad_m, xy[:, 1].max() + pad_m)


def travel_time_surface(G: nx.MultiDiGraph, site: str, *, mode: str = "car", path: str | os.PathLike | None = None,
                        bounds: tuple[float, float, float, float] | None = None,
                        grid: tuple[np.ndarray, object] | None = None) -> tuple[np.ndarray, object, np.ndarray]:
    """Minutes from ``site`` to the centre of every 1 km population-grid cell (NaN where unreachable).

    The grid is the UKCEH 1 km population raster (``lisgeo.layers.people.read_population_grid``)
    over ``bounds`` (default: the graph's zones and sites + its road ``buffer_km``); ``grid=(population array,
    affine transform)`` supplies another grid (tests). Writes a float32 GeoTIFF (EPSG:27700, nodata
    NaN, aligned to the grid) atomically to ``path`` if given.

    Returns ``(times, transform, population)`` arrays of the grid's shape.
    """
    node = site_node(G, site)
    if grid is None:
        from ..layers.people import read_population_grid

        pop, transform, _ = read_population_grid(bounds=bounds or _region_bounds(G))
    else:
        pop, transform = grid
        pop = np.asarray(pop, dtype="float64")
    rows, cols = np.indices(pop.shape)
    cx = transform.c + (cols.ravel() + 0.5) * transform.a
    cy = transform.f + (rows.ravel() + 0.5) * transform.e
    cell_xy = np.column_stack([cx, cy])
    a = as_assumptions(G.graph.get("assumptions"))
    urban = urban_flags(pop.ravel(), abs(transform.a * transform.e) / 1e6, a)
    eng = build_engine(G, mode=mode)
    dist = eng.distances(np.array([eng.index.get_loc(node)]))[0]
    ci, nodes, w = _cell_links(G, cell_xy, urban, eng.mode, a)
    t = np.full(len(cell_xy), np.inf)
    if len(ci):
        at = eng.index.get_indexer(nodes)
        cand = np.where(at >= 0, dist[at], np.inf) + w  # a node off this mode's network joins nothing
        np.minimum.at(t, ci, cand)
    # a site that is itself a cell centre's nearest point still needs a link: cells join the site too
    times = np.where(np.isfinite(t), t, np.nan).reshape(pop.shape)
    if path is not None:
        write_surface(times, transform, path)
    return times, transform, pop


#: The links into a grid's cells, per frozen graph (read-only: scoring's and the maps' networks), so
#: isochrones from several sites over the same grid join the cells once (about 0.8 s each for D2N2).
_CELL_LINKS: "weakref.WeakKeyDictionary[nx.MultiDiGraph, dict]" = weakref.WeakKeyDictionary()


def _cell_links(G: nx.MultiDiGraph, cell_xy: np.ndarray, urban: np.ndarray, mode, a) -> tuple[np.ndarray, list[str], np.ndarray]:
    """:func:`~lisgeo.network.access.point_links` of the cells, kept for a frozen graph (one that
    cannot change) per mode and cells; computed afresh for a graph that can."""
    if not nx.is_frozen(G):
        return point_links(G, cell_xy, urban, mode=mode, assumptions=a)
    key = (str(mode), hashlib.sha256(np.ascontiguousarray(cell_xy, dtype="float64").tobytes()
                                     + np.ascontiguousarray(urban, dtype=bool).tobytes()).hexdigest())
    kept = _CELL_LINKS.setdefault(G, {})
    if key not in kept:
        kept[key] = point_links(G, cell_xy, urban, mode=mode, assumptions=a)
    return kept[key]


def write_surface(times: np.ndarray, transform, path: str | os.PathLike) -> None:
    """Write a float32 GeoTIFF (EPSG:27700, nodata NaN) atomically."""
    import rasterio

    with atomic_path(path, suffix=".tif") as tmp:
        with rasterio.open(tmp, "w", driver="GTiff", height=times.shape[0], width=times.shape[1], count=1,
                           dtype="float32", crs=BNG, transform=transform, nodata=np.nan, compress="deflate") as dst:
            dst.write(times.astype("float32"), 1)
            dst.set_band_description(1, "travel time (minutes)")


def isochrones(G: nx.MultiDiGraph, site: str, *, mode: str = "car", bands: Sequence[float] = (15, 30, 45, 60),
               bounds: tuple[float, float, float, float] | None = None,
               grid: tuple[np.ndarray, object] | None = None) -> gpd.GeoDataFrame:
    """Isochrone polygons from ``site``: one row per band (cumulative: every cell within ``minutes``).

    Columns [site, mode, minutes, pop (people of the 1 km grid in the band's cells), area_km2,
    geometry (Multi)Polygon of whole grid cells, EPSG:27700]; index = minutes.
    """
    from rasterio.features import shapes

    bands = sorted(float(b) for b in bands)
    if not bands or any(not np.isfinite(b) or b <= 0 for b in bands):
        raise ParameterError(f"bands must be positive minutes, got {bands}")
    times, transform, pop = travel_time_surface(G, site, mode=mode, bounds=bounds, grid=grid)
    rows = []
    for b in bands:
        inside = np.isfinite(times) & (times <= b)
        geoms = [shapely.geometry.shape(g) for g, v in shapes(inside.astype("uint8"), mask=inside, transform=transform) if v == 1]
        geom = shapely.union_all(geoms) if geoms else shapely.Polygon()
        rows.append({"site": node_code(site_node(G, site)), "mode": parse_mode(mode).value, "minutes": b,
                     "pop": float(np.nansum(np.where(inside, pop, 0.0))),
                     "area_km2": float(inside.sum() * abs(transform.a * transform.e) / 1e6), "geometry": geom})
    gdf = gpd.GeoDataFrame(rows, geometry="geometry", crs=BNG)
    gdf.index = pd.Index(gdf["minutes"].to_numpy(), name="band")
    gdf.attrs.update({"units": "minutes; pop = people (UKCEH 2021 1 km grid)", "scenario": G.graph.get("scenario"),
                      "region": G.graph.get("region")})
    return gdf
