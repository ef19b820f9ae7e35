"""The car network's roads as graph edges: junction nodes (role ``road``), link times by class and setting.

A link's time is its road length at the speed of its class, the part of it through built-up land
(``urban_share``) at the urban speed:

    minutes = length_km × (urban_share / v_urban + (1 − urban_share) / v_rural) × 60

with, by ``road_class`` (and ``carriageway`` where known):

=========================  ========================  =====================
class                      v_rural                   v_urban
=========================  ========================  =====================
``motorway``               ``road.motorway_kmh``     ``road.motorway_kmh``
``trunk`` (not single)      ``road.a_dual_kmh``       ``road.a_urban_kmh``
``a_road`` ``dual``        ``road.a_dual_kmh``       ``road.a_urban_kmh``
other A roads              ``road.a_single_kmh``     ``road.a_urban_kmh``
anything else              ``road.default_kmh``      ``road.default_kmh``
=========================  ========================  =====================

A link whose ``geometry_source`` is ``"straight"`` (an SRN link without a carriageway match) is
``length_km`` × ``road.chord_detour_a_road`` (× ``road.chord_detour_motorway`` for motorways)
long; the ``major_roads`` layer has applied its detour already (``"dft"``).
"""

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


def _classes(links: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rc = pd.Series(np.asarray(links["road_class"], dtype=object)).astype("string").str.lower().fillna("").to_numpy(dtype=object)
    cw = (pd.Series(np.asarray(links["carriageway"], dtype=object)).astype("string").str.lower().fillna("").to_numpy(dtype=object)
          if "carriageway" in links.columns else np.full(len(links), "", dtype=object))
    return rc, cw, np.asarray(rc == "motorway")


def road_speed_kmh(links: pd.DataFrame, assumptions: Assumptions) -> tuple[np.ndarray, np.ndarray]:
    """(rural, urban) speed (km/h) of each link from its ``road_class`` and ``carriageway`` (see
    the module docstring)."""
    rc, cw, mw = _classes(links)
    dual = ((rc == "trunk") & (cw != "single")) | ((rc == "a_road") & (cw == "dual"))
    a_road = (rc == "trunk") | (rc == "a_road")
    rural = np.full(len(rc), assumptions["road.default_kmh"], dtype="float64")
    rural[a_road] = assumptions["road.a_single_kmh"]
    rural[dual] = assumptions["road.a_dual_kmh"]
    rural[mw] = assumptions["road.motorway_kmh"]
    urban = np.where(a_road, assumptions["road.a_urban_kmh"], rural)
    return rural, urban


def _effective_length(links: pd.DataFrame, assumptions: Assumptions) -> np.ndarray:
    length = links["length_km"].to_numpy(dtype="float64")
    if "geometry_source" in links.columns:
        straight = (links["geometry_source"].astype("string") == "straight").fillna(False).to_numpy()
        detour = np.where(_classes(links)[2], assumptions["road.chord_detour_motorway"], assumptions["road.chord_detour_a_road"])
        length = np.where(straight, length * detour, length)
    return length


def road_link_times(links: pd.DataFrame, assumptions: Assumptions) -> np.ndarray:
    """Minutes on each link (see the module docstring): ``length_km`` (× the chord detour where the
    geometry is a straight line) at the rural and urban speeds of its class, weighted by its
    ``urban_share`` (0 when the column is absent). Edges store the effective length as ``length_km``."""
    rural, urban = road_speed_kmh(links, assumptions)
    u = (np.clip(links["urban_share"].to_numpy(dtype="float64"), 0.0, 1.0) if "urban_share" in links.columns
         else np.zeros(len(links)))
    u = np.nan_to_num(u, nan=0.0)
    return _effective_length(links, assumptions) * (u / urban + (1.0 - u) / rural) * 60.0


def add_road_links(G: nx.MultiDiGraph, links: pd.DataFrame, assumptions: Assumptions,
                   nodes: pd.DataFrame | None = None, *, two_way: bool = False) -> nx.MultiDiGraph:
    """Add road links to ``G`` (mode ``"road"``).

    ``links``: [from_node, to_node, road_class, length_km (km), carriageway?, urban_share?,
    geometry?, geometry_source?] as ``lisgeo.layers.roads.load_major_roads`` (two-way links:
    ``two_way=True`` adds both directions) or ``load_road_links`` (directed). Junction positions
    come from ``nodes`` ([node_id, geometry]) when given, else from the link end points. Node
    ids are ``node_id("road", node_id)``; edges carry ``time_min``, ``length_km``, ``road``,
    ``road_class``.
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
    eff = _effective_length(links, assumptions)
    edges = []
    for f, t, tm, lk, r, c in zip(fr, to, times, eff, road, rc):
        attrs = {"time_min": float(tm), "mode": EdgeMode.ROAD, "length_km": float(lk), "road": r, "road_class": c}
        edges.append((f, t, attrs))
        if two_way:
            edges.append((t, f, dict(attrs)))
    add_edge_list(G, edges)
    return G


def join_road_gaps(G: nx.MultiDiGraph, assumptions: Assumptions) -> list[tuple[str, str, float]]:
    """Join each piece of the road network that touches the main piece nowhere (a gap in the data:
    3 junctions of the old A14 near Papworth lie 1.8 km from the rest of the 2013 network) to the
    nearest junction of the main piece, when that is within ``road.join_gap_km``, by a two-way link
    at the rural lane speed (``access.rural_kmh``) over the straight line × ``access.circuity``
    (road class "gap"). An island's roads (the Isle of Wight's: 5 km of water and more) stay apart:
    its zones are flagged, not joined (:func:`lisgeo.network.graph.build_network`). Returns the
    links added (junction, junction, km) and records them in ``G.graph["road_gaps"]``."""
    from scipy.sparse import coo_array
    from scipy.sparse.csgraph import connected_components
    from scipy.spatial import cKDTree

    gap_m = float(assumptions.get("road.join_gap_km", 0.0)) * 1000.0
    roads = [n for n, k in G.nodes(data="kind") if k == NodeKind.ROAD]
    if gap_m <= 0 or len(roads) < 2:
        return []
    index = {n: i for i, n in enumerate(roads)}
    uv = np.array([(index[u], index[v]) for u, v, m in G.edges(data="mode") if m == EdgeMode.ROAD and u in index and v in index],
                  dtype=np.int64).reshape(-1, 2)
    adj = coo_array((np.ones(len(uv)), (uv[:, 0], uv[:, 1])), shape=(len(roads), len(roads)))
    n, label = connected_components(adj, directed=False)
    if n <= 1:
        return []
    xy = np.array([(G.nodes[r]["x"], G.nodes[r]["y"]) for r in roads], dtype="float64")
    main = np.bincount(label).argmax()
    in_main = np.flatnonzero(label == main)
    tree = cKDTree(xy[in_main])
    joins = []
    for c in range(n):
        if c == main:
            continue
        mine = np.flatnonzero(label == c)
        d, j = tree.query(xy[mine])
        k = int(np.argmin(d))
        if d[k] <= gap_m:
            joins.append((roads[mine[k]], roads[in_main[j[k]]], float(d[k]) / 1000.0))
    circ, v = float(assumptions["access.circuity"]), float(assumptions["access.rural_kmh"])
    edges = []
    for a, b, km in sorted(joins):
        road_km = max(km, 0.001) * circ
        attrs = {"time_min": road_km / v * 60.0, "mode": EdgeMode.ROAD, "length_km": road_km, "road": "(gap)", "road_class": "gap"}
        edges += [(a, b, attrs), (b, a, dict(attrs))]
    if edges:
        add_edge_list(G, edges)
    G.graph["road_gaps"] = [[a, b, round(km, 3)] for a, b, km in sorted(joins)]
    return joins
