"""Joining zones, sites (and raster cells) to the network: access links and direct local links.

All distances are crow-fly in British National Grid metres, turned into road distance by
``access.circuity`` and into minutes at the local speed of the zone (urban or rural).

- ``access_car``: zone/site <-> each of its ``access.k_junctions`` nearest strategic junctions
  (both directions), at the zone's local speed. Zones farther than ``access.max_junction_km``
  from every junction cannot reach the road network: :class:`~lisgeo.errors.NetworkError`.
- ``local``: zone/site <-> zone/site for every pair within ``access.local_max_km`` and each
  terminal's ``access.local_k_nearest`` nearest neighbours within ``access.local_k_max_km``;
  time = distance × circuity × (½ / v_a + ½ / v_b) (half the way at each end's speed).
- ``access_walk``: zone/site <-> rail or HS2 station within ``walk.max_walk_km`` at walking speed
  (into a classic station's street side ``rail:<CRS>``, out of its arrival side ``arr:<CRS>``
  where the graph has one; both ways at an HS2 concourse ``hs2:<id>``).
- ``access_car`` to stations: zone/site -> each of its ``pt.k_car_stations`` nearest stations
  within ``pt.car_max_km`` (plus ``pt.car_park_min``); the reverse (from ``arr:``) only if
  ``pt.car_egress``. Classic and HS2 stations are chosen separately, so adding HS2 never
  removes a classic link.
- Every link into or out of a station (walk or car) takes at least half of
  ``pt.interchange_penalty_min`` (:func:`station_link_floor_min`), so leaving the railway to a
  zone or site and coming back in (a walk through a terminal next to the station, or between
  two stations) costs at least one interchange penalty, like any other change of train.
"""

from __future__ import annotations

import networkx as nx
import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from ..errors import NetworkError
from .assumptions import Assumptions

__all__ = ["local_speed_kmh", "attach_terminals", "local_pairs", "knn_links", "node_xy", "station_link_floor_min"]


def local_speed_kmh(urban: np.ndarray | pd.Series, assumptions: Assumptions) -> np.ndarray:
    """Local road speed (km/h): ``access.urban_kmh`` where ``urban`` is True, else ``access.rural_kmh``."""
    u = np.asarray(urban, dtype=bool)
    return np.where(u, assumptions["access.urban_kmh"], assumptions["access.rural_kmh"]).astype("float64")


def node_xy(G: nx.MultiDiGraph, nodes: list[str]) -> np.ndarray:
    """(n, 2) array of the x, y (BNG metres) of ``nodes``."""
    return np.array([(G.nodes[n]["x"], G.nodes[n]["y"]) for n in nodes], dtype="float64").reshape(-1, 2)


def knn_links(src_xy: np.ndarray, dst_xy: np.ndarray, k: int, max_m: float = np.inf) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The ``k`` nearest ``dst`` points of each ``src`` point within ``max_m`` metres.

    Returns (src index, dst index, distance m) arrays (vectorised cKDTree query).
    """
    if len(dst_xy) == 0 or len(src_xy) == 0 or k <= 0:
        e = np.array([], dtype=np.int64)
        return e, e, np.array([], dtype="float64")
    k = min(k, len(dst_xy))
    d, j = cKDTree(dst_xy).query(src_xy, k=k, distance_upper_bound=max_m)
    d, j = d.reshape(len(src_xy), k), j.reshape(len(src_xy), k)
    i = np.repeat(np.arange(len(src_xy)), k)
    d, j = d.ravel(), j.ravel()
    ok = np.isfinite(d)
    return i[ok], j[ok], d[ok]


def local_pairs(xy: np.ndarray, assumptions: Assumptions) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Unordered pairs (i < j) of terminals joined by a local link and their distances (m)."""
    r = assumptions["access.local_max_km"] * 1000.0
    tree = cKDTree(xy)
    pairs = tree.query_pairs(r, output_type="ndarray") if r > 0 else np.empty((0, 2), dtype=np.int64)
    k = assumptions["access.local_k_nearest"]
    if k > 0 and len(xy) > 1:
        d, j = tree.query(xy, k=min(k + 1, len(xy)), distance_upper_bound=assumptions["access.local_k_max_km"] * 1000.0)
        i = np.repeat(np.arange(len(xy)), d.shape[1])
        j, d = j.ravel(), d.ravel()
        ok = np.isfinite(d) & (j != i)
        kp = np.sort(np.column_stack([i[ok], j[ok]]), axis=1)
        pairs = np.unique(np.vstack([pairs.reshape(-1, 2), kp]), axis=0) if len(kp) else pairs
    pairs = pairs.reshape(-1, 2)
    dist = np.hypot(*(xy[pairs[:, 0]] - xy[pairs[:, 1]]).T) if len(pairs) else np.array([], dtype="float64")
    return pairs[:, 0], pairs[:, 1], dist


def attach_terminals(
    G: nx.MultiDiGraph,
    terminals: pd.DataFrame,
    assumptions: Assumptions,
    *,
    roads: bool = True,
    stations: bool = True,
) -> nx.MultiDiGraph:
    """Add terminal nodes (zones, sites) and their access and local links to ``G``.

    ``terminals``: [node (e.g. "zone:E01..."), kind ("zone"|"site"), x, y (BNG m), urban (bool)].
    Road junctions are the ``kind == "road"`` nodes already in ``G``; stations the ``"rail:"``
    (classic, street side) and ``"hs2:"`` nodes.
    """
    if terminals["node"].duplicated().any():
        raise NetworkError(f"duplicate terminal ids {terminals.loc[terminals['node'].duplicated(), 'node'].head(3).tolist()}")
    xy = terminals[["x", "y"]].to_numpy(dtype="float64")
    speed = local_speed_kmh(terminals["urban"].to_numpy(dtype=bool), assumptions)
    names = terminals["node"].tolist()
    circ = assumptions["access.circuity"]
    G.add_nodes_from(
        (n, {"kind": k, "x": float(x), "y": float(y), "urban": bool(u)})
        for n, k, x, y, u in zip(names, terminals["kind"], xy[:, 0], xy[:, 1], terminals["urban"].to_numpy(dtype=bool))
    )
    edges = []
    if roads:
        junctions = [n for n, d in G.nodes(data=True) if d.get("kind") == "road"]
        if not junctions:
            raise NetworkError("the graph has no road junctions to join zones to; add road links first")
        jxy = node_xy(G, junctions)
        maxm = assumptions["access.max_junction_km"] * 1000.0
        i, j, d = knn_links(xy, jxy, assumptions["access.k_junctions"], maxm)
        cut = sorted(set(names) - {names[a] for a in set(i.tolist())})
        if cut:
            raise NetworkError(
                f"{len(cut)} zone(s)/site(s) lie more than {assumptions['access.max_junction_km']} km from every road junction "
                f"and cannot reach the network: {cut[:10]}; widen the road buffer (buffer_km) or raise access.max_junction_km"
            )
        t = np.maximum(d, 1.0) / 1000.0 * circ / speed[i] * 60.0
        for a, b, tm, dk in zip(i, j, t, d / 1000.0):
            attrs = {"time_min": float(tm), "mode": "access_car", "length_km": float(dk * circ)}
            edges.append((names[a], junctions[b], attrs))
            edges.append((junctions[b], names[a], dict(attrs)))
        a_, b_, dm = local_pairs(xy, assumptions)
        tl = np.maximum(dm, 1.0) / 1000.0 * circ * (0.5 / speed[a_] + 0.5 / speed[b_]) * 60.0
        for a, b, tm, dk in zip(a_, b_, tl, dm / 1000.0):
            attrs = {"time_min": float(tm), "mode": "local", "length_km": float(dk * circ)}
            edges.append((names[a], names[b], attrs))
            edges.append((names[b], names[a], dict(attrs)))
    if stations:
        edges += _station_access(G, names, xy, speed, assumptions)
    G.add_edges_from(edges)
    return G


def station_nodes(G: nx.MultiDiGraph) -> tuple[list[str], list[str]]:
    """(classic street-side station nodes "rail:*", HS2 concourse nodes "hs2:*") in ``G``."""
    classic = [n for n, d in G.nodes(data=True) if d.get("kind") == "station" and str(n).startswith("rail:")]
    hs2 = [n for n, d in G.nodes(data=True) if d.get("kind") == "hs2" and str(n).startswith("hs2:")]
    return classic, hs2


def station_link_floor_min(assumptions: Assumptions) -> float:
    """Least minutes of a link between a terminal (zone, site, grid cell) and a station:
    ``pt.interchange_penalty_min`` / 2, so that alighting, walking to a terminal and walking back
    to board again is never cheaper than the interchange penalty of a change in the station."""
    return float(assumptions["pt.interchange_penalty_min"]) / 2.0


def _station_access(G, names, xy, speed, a: Assumptions) -> list:
    floor = station_link_floor_min(a)
    circ = a["access.circuity"]
    walk_m = a["walk.max_walk_km"] * 1000.0
    car_m = a["pt.car_max_km"] * 1000.0
    edges = []
    for group in station_nodes(G):
        if not group:
            continue
        # egress leaves a classic station from its arrival side (rail:X -> arr:X is free)
        out = [f"arr:{n[5:]}" if n.startswith("rail:") and f"arr:{n[5:]}" in G else n for n in group]
        sxy = node_xy(G, group)
        tree = cKDTree(sxy)
        # walk: every station within max_walk_km, both directions
        hits = tree.query_ball_point(xy, walk_m) if walk_m > 0 else [[] for _ in names]
        for a_i, js in enumerate(hits):
            for j in js:
                dk = max(float(np.hypot(*(xy[a_i] - sxy[j]))), 1.0) / 1000.0
                attrs = {"time_min": max(dk * circ / a["walk.walk_kmh"] * 60.0, floor), "mode": "access_walk", "length_km": dk * circ}
                edges.append((names[a_i], group[j], attrs))
                edges.append((out[j], names[a_i], dict(attrs)))
        # car: k nearest within car_max_km, origin side only (unless car_egress)
        i, j, d = knn_links(xy, sxy, a["pt.k_car_stations"], car_m)
        t = np.maximum(np.maximum(d, 1.0) / 1000.0 * circ / speed[i] * 60.0 + a["pt.car_park_min"], floor)
        for a_i, b, tm, dk in zip(i, j, t, d / 1000.0):
            attrs = {"time_min": float(tm), "mode": "access_car", "length_km": float(dk * circ)}
            edges.append((names[a_i], group[b], attrs))
            if a["pt.car_egress"]:
                edges.append((out[b], names[a_i], dict(attrs)))
    return edges
