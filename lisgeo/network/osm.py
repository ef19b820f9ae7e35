"""Bring your own OpenStreetMap: a road graph from an ``.osm.pbf`` extract (pyrosm), same engine.

``graph_from_osm(path)`` returns a ``networkx.MultiDiGraph`` with nodes ``road:<osm id>`` (kind
``"road"``, x/y in a projected CRS: British National Grid inside Great Britain, else the local
UTM zone) and directed edges of mode ``"road"`` whose ``time_min`` comes from ``maxspeed`` (×
``osm.maxspeed_factor``; "mph" understood) or, where it is missing, the highway-class default
speeds of the ``[osm]`` section of the assumptions. ``attach_points`` then joins zones or sites
to it (access links to the nearest nodes), and :func:`~lisgeo.network.engine.travel_time_matrix`
runs on it unchanged. Needs the ``osm`` extra (``pip install lisgeo[osm]``).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Mapping

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd

from ..errors import DataFormatError, DataNotFoundError, EmptyResultError, LisgeoError, UnknownNameError
from ..assumptions import Assumptions, as_assumptions
from .access import attach_terminals, terminal_table
from .schema import EdgeMode, NodeKind, NodeRole, node_id

__all__ = ["graph_from_osm", "osm_speed_kmh", "attach_points", "NETWORK_TYPES"]

NETWORK_TYPES = ("driving", "driving+service", "walking", "cycling", "all")
_CLASS_KEY = {"motorway": "osm.motorway_kmh", "trunk": "osm.trunk_kmh", "primary": "osm.primary_kmh",
              "secondary": "osm.secondary_kmh", "tertiary": "osm.tertiary_kmh"}


def _parse_maxspeed(v: Any) -> float:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return np.nan
    s = str(v).strip().lower()
    m = re.match(r"^(\d+(?:\.\d+)?)\s*(mph|km/h|kmh|kph)?", s)
    if not m:
        return np.nan
    x = float(m.group(1))
    return x * 1.609344 if m.group(2) == "mph" else x


def osm_speed_kmh(highway: pd.Series, maxspeed: pd.Series | None, assumptions: Assumptions) -> np.ndarray:
    """Average speed (km/h) per OSM way: maxspeed × factor where given, else the class default."""
    hw = highway.astype("string").fillna("").str.replace("_link", "", regex=False).to_numpy(dtype=object)
    default = np.array([assumptions[_CLASS_KEY[h]] if h in _CLASS_KEY else assumptions["osm.minor_kmh"] for h in hw], dtype="float64")
    if maxspeed is None:
        return default
    ms = np.array([_parse_maxspeed(v) for v in maxspeed], dtype="float64") * assumptions["osm.maxspeed_factor"]
    return np.where(np.isfinite(ms) & (ms > 0), ms, default)


def _projected_crs(nodes: gpd.GeoDataFrame) -> str:
    lon, lat = nodes.geometry.x.median(), nodes.geometry.y.median()
    if -8.7 <= lon <= 1.9 and 49.8 <= lat <= 60.9:
        return "EPSG:27700"
    return nodes.estimate_utm_crs().to_string()


def graph_from_osm(path: str | os.PathLike, *, network_type: str = "driving",
                   assumptions: "Assumptions | Mapping[str, Any] | None" = None,
                   crs: str | None = None) -> nx.MultiDiGraph:
    """Road graph from an OpenStreetMap ``.osm.pbf`` file (see the module docstring).

    ``network_type``: pyrosm's ("driving", "walking", "cycling", ...). ``crs``: projected CRS for
    x/y (default: EPSG:27700 in Great Britain, else the UTM zone). Edge ``length_km`` from the
    way geometry; one-way streets (``oneway`` yes/true/1, or -1 reversed) get one direction.
    """
    try:
        from pyrosm import OSM
    except ImportError:  # pragma: no cover - depends on the environment
        raise LisgeoError("reading OpenStreetMap needs pyrosm: pip install 'lisgeo[osm]'") from None
    if network_type not in NETWORK_TYPES:
        raise UnknownNameError("OSM network type", network_type, list(NETWORK_TYPES))
    p = Path(path)
    if not p.is_file():
        raise DataNotFoundError(f"OSM file {str(p)!r} does not exist; give the path of an .osm.pbf extract")
    a = as_assumptions(assumptions)
    try:
        osm = OSM(str(p))
        got = osm.get_network(network_type=network_type, nodes=True)
    except (LisgeoError, MemoryError):
        raise
    except Exception as exc:  # pyrosm/protobuf errors for a truncated or non-PBF file
        reason = " ".join(str(exc).split())[:120] or type(exc).__name__
        raise DataFormatError(f"{p.name} is not a readable OpenStreetMap .osm.pbf extract ({type(exc).__name__}: {reason}); "
                              "download it again or give a complete .osm.pbf file") from None
    if got is None or got[1] is None or len(got[1]) == 0:
        raise EmptyResultError(f"{p.name} holds no {network_type} network")
    nodes, edges = got
    out_crs = crs or _projected_crs(nodes)
    nodes = nodes.to_crs(out_crs)
    edges = edges.to_crs(out_crs)
    length_km = edges.geometry.length.to_numpy() / 1000.0
    speed = osm_speed_kmh(edges["highway"], edges["maxspeed"] if "maxspeed" in edges.columns else None, a)
    t = np.maximum(length_km, 1e-6) / speed * 60.0
    ow = edges["oneway"].astype("string").str.lower().fillna("") if "oneway" in edges.columns else pd.Series([""] * len(edges))
    fwd_only = ow.isin(["yes", "true", "1"]).to_numpy()
    rev_only = (ow == "-1").to_numpy()
    G = nx.MultiDiGraph(name=f"OSM {p.name} {network_type}")
    G.add_nodes_from((node_id(NodeRole.ROAD, i), {"kind": NodeKind.ROAD, "x": float(g.x), "y": float(g.y)})
                     for i, g in zip(nodes["id"].astype("int64"), nodes.geometry))
    u = edges["u"].astype("int64").to_numpy()
    v = edges["v"].astype("int64").to_numpy()
    hw = edges["highway"].astype("string").fillna("").tolist()
    es = []
    for a_, b_, tm, lk, h, f, r in zip(u, v, t, length_km, hw, fwd_only, rev_only):
        attrs = {"time_min": float(tm), "mode": EdgeMode.ROAD, "length_km": float(lk), "road_class": h}
        na, nb = node_id(NodeRole.ROAD, a_), node_id(NodeRole.ROAD, b_)
        if not r:
            es.append((na, nb, attrs))
        if not f:
            es.append((nb, na, dict(attrs)))
    G.add_edges_from(es)
    missing = [n for n in G if "x" not in G.nodes[n]]
    if missing:
        G.remove_nodes_from(missing)
    G.graph.update({"crs": out_crs, "source": str(p), "network_type": network_type, "scenario": "osm",
                    "region": p.stem, "assumptions": a.to_dict(), "assumptions_path": a.path})
    return G


def attach_points(G: nx.MultiDiGraph, points: gpd.GeoDataFrame, *, kind: str = "zone", id_col: str | None = None,
                  urban: pd.Series | bool = True, local: bool = False, stations: bool = False,
                  assumptions: "Assumptions | Mapping[str, Any] | None" = None) -> nx.MultiDiGraph:
    """Join points (zones or sites) to ``G`` as terminals ``<kind>:<id>`` (in place; returns ``G``).

    Access links to the ``access.k_junctions`` nearest road nodes (both ways) at the local speed
    (``urban`` bool or per-point Series); ``local=True`` adds zone-to-zone local links too, and
    ``stations=True`` walk/car links to rail stations in ``G``. Points are reprojected to
    ``G.graph["crs"]``.
    """
    if kind not in (NodeRole.ZONE, NodeRole.SITE):
        raise UnknownNameError("terminal kind", kind, [NodeRole.ZONE.value, NodeRole.SITE.value])
    a = as_assumptions(assumptions if assumptions is not None else
                       {k: v for k, v in (G.graph.get("assumptions") or {}).items()
                        if k.startswith(("access.", "walk.", "pt."))} or None)
    pts = points.to_crs(G.graph.get("crs", "EPSG:27700")) if points.crs is not None else points
    ids = pts[id_col].astype(str) if id_col else pts.index.astype(str)
    u = pd.Series(urban, index=pts.index) if isinstance(urban, bool) else pd.Series(urban).reindex(pts.index).fillna(False)
    terms = terminal_table(pts, role=kind, ids=ids, urban=u.to_numpy(dtype=bool))
    if not local:
        a = as_assumptions({**{k: v for k, v in a.items() if a.source(k) == "user override"},
                            "access.local_max_km": 0.0, "access.local_k_nearest": 0,
                            "access.local_sectors": 0})
    return attach_terminals(G, terms, a, roads=True, stations=stations)
