"""The strategic road network as graph edges: junction nodes (role ``road``), link times by road class."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pandas as pd
import shapely

from ..errors import NetworkError
from ..checks import check_frame
from ..assumptions import Assumptions
from .schema import EdgeMode, NodeKind, NodeRole, add_edge_list, node_id, node_ids

__all__ = ["road_speed_kmh", "road_link_times", "add_road_links"]


def road_speed_kmh(road_class: pd.Series | np.ndarray | list, assumptions: Assumptions) -> np.ndarray:
    """Average speed (km/h) of each link from its ``road_class`` ("motorway", "trunk", else default)."""
    rc = pd.Series(np.asarray(road_class, dtype=object)).astype("string").str.lower().fillna("")
    out = np.full(len(rc), assumptions["road.default_kmh"], dtype="float64")
    out[(rc == "motorway").to_numpy()] = assumptions["road.motorway_kmh"]
    out[(rc == "trunk").to_numpy()] = assumptions["road.trunk_kmh"]
    return out


def _effective_length(links: pd.DataFrame, assumptions: Assumptions) -> np.ndarray:
    length = links["length_km"].to_numpy(dtype="float64")
    if "geometry_source" in links.columns:
        straight = (links["geometry_source"].astype("string") == "straight").fillna(False).to_numpy()
        length = np.where(straight, length * assumptions["road.straight_circuity"], length)
    return length


def road_link_times(links: pd.DataFrame, assumptions: Assumptions) -> np.ndarray:
    """Minutes on each link: ``length_km`` (× ``road.straight_circuity`` where the geometry is a
    straight line) / speed(road_class) × 60. Edges store that effective length as ``length_km``."""
    return _effective_length(links, assumptions) / road_speed_kmh(links["road_class"], assumptions) * 60.0


def add_road_links(G: nx.MultiDiGraph, links: pd.DataFrame, assumptions: Assumptions,
                   nodes: pd.DataFrame | None = None) -> nx.MultiDiGraph:
    """Add directed strategic road links to ``G`` (mode ``"road"``).

    ``links``: [from_node, to_node, road_class, length_km (km), geometry?, geometry_source?]
    as ``lisgeo.layers.roads.load_road_links``. Junction positions come from ``nodes``
    ([node_id, geometry]) when given, else from the link end points. Node ids are
    ``node_id("road", node_id)``; edges carry ``time_min``, ``length_km``, ``road``, ``road_class``.
    """
    links = check_frame(links, name="road links", required=["from_node", "to_node", "road_class", "length_km"])
    length = links["length_km"].to_numpy(dtype="float64")
    if not np.isfinite(length).all() or (length <= 0).any():
        bad = links.index[~(np.isfinite(length) & (length > 0))][:5].tolist()
        raise NetworkError(f"road links {bad} have a missing, zero or negative length_km; fix or drop them")
    links = links[links["from_node"].astype(str) != links["to_node"].astype(str)]
    times = road_link_times(links, assumptions)
    fr = node_ids(NodeRole.ROAD, links["from_node"].astype(str))
    to = node_ids(NodeRole.ROAD, links["to_node"].astype(str))
    pos: dict[str, tuple[float, float]] = {}
    if nodes is not None:
        ids = nodes["node_id"] if "node_id" in nodes.columns else nodes.index
        for i, g in zip(ids.astype(str), nodes.geometry):
            pos[node_id(NodeRole.ROAD, i)] = (float(g.x), float(g.y))
    if "geometry" in links.columns:
        geoms = links.geometry.values
        starts = shapely.get_coordinates(shapely.get_point(geoms, 0))
        ends = shapely.get_coordinates(shapely.get_point(geoms, -1))
        for f, t, s, e in zip(fr, to, starts, ends):
            pos.setdefault(f, (float(s[0]), float(s[1])))
            pos.setdefault(t, (float(e[0]), float(e[1])))
    missing = sorted({n for n in fr + to if n not in pos})
    if missing:
        raise NetworkError(f"road junctions {missing[:5]} have no position; pass road_nodes or link geometries")
    used = set(fr) | set(to)
    G.add_nodes_from((n, {"kind": NodeKind.ROAD, "x": xy[0], "y": xy[1]}) for n, xy in pos.items() if n in used)
    road = links["road"].astype(str).tolist() if "road" in links.columns else [""] * len(links)
    rc = links["road_class"].astype(str).tolist()
    add_edge_list(G, [
        (f, t, {"time_min": float(tm), "mode": EdgeMode.ROAD, "length_km": float(lk), "road": r, "road_class": c})
        for f, t, tm, lk, r, c in zip(fr, to, times, _effective_length(links, assumptions), road, rc)
    ])
    return G
