"""How points join the network: access links, direct local links, and sink links for grid cells.

This is the only module that joins points to the network. Zones, sites and job destinations
become *terminals* (:func:`terminal_table`, :func:`attach_terminals`); grid cells of an isochrone
and the cells of the drive-time claim are *sinks* reached from the network but never passed
through (:func:`point_links`, :func:`junction_links`). Every rule below applies the same way to
all of them.

All distances are crow-fly in British National Grid metres, turned into road distance by
``access.circuity``; a link is never shorter than 1 m. By car, a link runs at the local speed
of the point (``access.urban_kmh`` or ``access.rural_kmh``, :func:`urban_flags`): the streets,
B roads and lanes that the major roads (every motorway and A road) leave out
(:func:`drive_minutes`). Walks run at walking speed.

- ``access_car``: terminal <-> each of its ``access.k_junctions`` nearest major-road junctions
  (both directions), at the terminal's local speed. Terminals farther than
  ``access.max_junction_km`` from every junction cannot reach the road network:
  :class:`~lisgeo.errors.NetworkError`.
- ``local``: terminal <-> terminal for every pair within ``access.local_max_km``, each
  terminal's ``access.local_k_nearest`` nearest neighbours within ``access.local_k_max_km`` and
  its nearest neighbour in each of ``access.local_sectors`` compass sectors within
  ``access.local_sector_max_km`` (:func:`sector_links`);
  time = distance × circuity × (½ / v_a + ½ / v_b) (half the way at each end's speed).
- ``access_walk``: terminal <-> every station (classic or HS2) within ``walk.max_walk_km`` at
  walking speed (into its street side, out of its arrival side).
- ``park_ride``: terminal (a zone or site: a trip's start; not a job destination) -> every
  station within ``pt.car_max_km`` and its ``pt.car_min_stations`` nearest however far (plus
  ``pt.car_park_min``):
  a real choice of station, and the same rule in every scenario (an HS2 station adds links, it
  never removes or changes one); the reverse (from the arrival side) only if ``pt.car_egress``.
- Every link into or out of a station (walk or car) takes at least half of
  ``pt.interchange_penalty_min`` (:func:`station_link_floor_min`), so leaving the railway to a
  terminal and coming back in costs at least one interchange penalty, like any change of train.
"""

from __future__ import annotations

from typing import Any, Mapping

import networkx as nx
import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from ..assumptions import Assumptions
from ..errors import NetworkError
from .schema import TERMINAL_KINDS, EdgeMode, NodeKind, NodeRole, TransportMode, add_edge_table, has_role, node_code, node_id, node_ids

__all__ = [
    "local_speed_kmh", "urban_flags", "access_minutes", "drive_minutes", "knn_links", "local_pairs", "node_xy", "terminal_table",
    "attach_terminals", "attach_stations", "station_nodes", "egress_node", "station_link_floor_min", "junction_links", "point_links",
]


def local_speed_kmh(urban: np.ndarray | pd.Series, assumptions: Mapping[str, Any]) -> np.ndarray:
    """Local road speed (km/h): ``access.urban_kmh`` where ``urban`` is True, else ``access.rural_kmh``."""
    u = np.asarray(urban, dtype=bool)
    return np.where(u, assumptions["access.urban_kmh"], assumptions["access.rural_kmh"]).astype("float64")


def urban_flags(people: np.ndarray | pd.Series, area_km2: np.ndarray | pd.Series | float,
                assumptions: Mapping[str, Any]) -> np.ndarray:
    """Urban where people per km² exceed ``access.urban_density_per_km2`` (NaN counts as rural)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        dens = np.asarray(people, dtype="float64") / np.asarray(area_km2, dtype="float64")
    return np.nan_to_num(dens, nan=0.0) > assumptions["access.urban_density_per_km2"]


def access_minutes(dist_m: np.ndarray, speed_kmh: np.ndarray | float, circuity: float) -> np.ndarray:
    """Minutes to cover crow-fly ``dist_m`` metres × ``circuity`` at ``speed_kmh`` (at least 1 m)."""
    return np.maximum(np.asarray(dist_m, dtype="float64"), 1.0) / 1000.0 * circuity / speed_kmh * 60.0


def drive_minutes(road_km: np.ndarray, local_kmh: np.ndarray | float, assumptions: Mapping[str, Any]) -> np.ndarray:
    """Minutes to drive ``road_km`` off the major roads at ``local_kmh`` (the local speed of the place)."""
    return np.asarray(road_km, dtype="float64") / np.asarray(local_kmh, dtype="float64") * 60.0


def _local_link_minutes(road_km: np.ndarray, v_a: np.ndarray, v_b: np.ndarray, assumptions: Mapping[str, Any]) -> np.ndarray:
    """A local link between two points: half of it at each end's local speed."""
    return 0.5 * drive_minutes(road_km, v_a, assumptions) + 0.5 * drive_minutes(road_km, v_b, assumptions)


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


def _ball_pairs(src_xy: np.ndarray, dst_xy: np.ndarray, max_m: float) -> tuple[np.ndarray, np.ndarray]:
    """Every (src index, dst index) pair within ``max_m`` metres, ordered by src then dst (as
    ``cKDTree.query_ball_point`` lists them), found by the tree's pair search with no Python loop
    (one set with itself: each pair of points once, then both ways, and each point with itself)."""
    tree = cKDTree(dst_xy)
    if src_xy is dst_xy:
        p = tree.query_pairs(max_m, output_type="ndarray").astype(np.int64).reshape(-1, 2)
        own = np.arange(len(dst_xy), dtype=np.int64)
        i, j = np.concatenate([p[:, 0], p[:, 1], own]), np.concatenate([p[:, 1], p[:, 0], own])
    else:
        m = cKDTree(src_xy).sparse_distance_matrix(tree, max_m, output_type="ndarray")
        i, j = m["i"].astype(np.int64), m["j"].astype(np.int64)
    o = np.argsort(i * np.int64(len(dst_xy)) + j)
    return i[o], j[o]


def _unique_pairs(*pairs: np.ndarray, n: int) -> np.ndarray:
    """The distinct rows of (k, 2) index arrays (each index < ``n``), sorted (as ``np.unique(axis=0)``)."""
    both = np.vstack([p.reshape(-1, 2) for p in pairs]).astype(np.int64)
    key = np.unique(both[:, 0] * np.int64(n) + both[:, 1])
    return np.column_stack([key // n, key % n])


def sector_links(src_xy: np.ndarray, dst_xy: np.ndarray, sectors: int, max_m: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each ``src`` point, the nearest ``dst`` point in each of ``sectors`` equal compass
    sectors within ``max_m`` metres (a point never links to itself: same coordinates are skipped).
    They stand for the roads that leave a place in every direction, so a cross-country trip is
    not a zig-zag of nearest-neighbour hops. Returns (src index, dst index, distance m) arrays."""
    e = np.array([], dtype=np.int64)
    if len(dst_xy) == 0 or len(src_xy) == 0 or sectors <= 0 or not max_m > 0:
        return e, e, np.array([], dtype="float64")
    i, j = _ball_pairs(src_xy, dst_xy, max_m)
    dx, dy = (dst_xy[j] - src_xy[i]).T if len(i) else (np.array([]), np.array([]))
    d = np.hypot(dx, dy)
    keep = d > 0
    i, j, d, dx, dy = i[keep], j[keep], d[keep], dx[keep], dy[keep]
    if not len(i):
        return e, e, np.array([], dtype="float64")
    sec = np.minimum((np.arctan2(dy, dx) + np.pi) / (2 * np.pi) * sectors, sectors - 1).astype(np.int64)
    # the nearest of each (point, sector), the first found among equals: one integer sort, then
    # the first position of each group's least distance (as a lexsort by (point, sector, distance))
    key = i * sectors + sec
    o = np.argsort(key, kind="stable")
    key, d_o = key[o], d[o]
    start = np.r_[True, key[1:] != key[:-1]]
    grp = np.cumsum(start) - 1
    least = np.minimum.reduceat(d_o, np.flatnonzero(start))
    hit = np.flatnonzero(d_o == least[grp])
    pick = o[hit[np.r_[True, grp[hit][1:] != grp[hit][:-1]]]]
    return i[pick], j[pick], d[pick]


def _within(src_xy: np.ndarray, dst_xy: np.ndarray, max_m: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every (src, dst) pair within ``max_m`` metres: (src index, dst index, distance m)."""
    if len(dst_xy) == 0 or len(src_xy) == 0 or not max_m > 0:
        e = np.array([], dtype=np.int64)
        return e, e, np.array([], dtype="float64")
    i, j = _ball_pairs(src_xy, dst_xy, max_m)
    return i, j, np.hypot(*(src_xy[i] - dst_xy[j]).T) if len(i) else np.array([], dtype="float64")


def _with_nearest(i: np.ndarray, j: np.ndarray, d: np.ndarray, src_xy: np.ndarray, dst_xy: np.ndarray,
                  k: int, among: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The pairs (``i``, ``j``, distance ``d``) with each source's ``k`` nearest destinations (of the
    indices ``among``, default all) added where they are not among them already (pairs sorted by
    source, then destination)."""
    among = np.arange(len(dst_xy)) if among is None else np.asarray(among, dtype=np.int64)
    if k <= 0 or not len(src_xy) or not len(among):
        return i, j, d
    dk, jk = cKDTree(dst_xy[among]).query(src_xy, k=min(k, len(among)))
    dk, jk = np.asarray(dk).reshape(len(src_xy), -1), among[np.asarray(jk).reshape(len(src_xy), -1)]
    ik = np.repeat(np.arange(len(src_xy)), dk.shape[1])
    ii, jj, dd = np.concatenate([i, ik]), np.concatenate([j, jk.ravel()]), np.concatenate([d, dk.ravel()])
    key = ii.astype(np.int64) * len(dst_xy) + jj
    _, first = np.unique(key, return_index=True)  # sorted by (source, destination), each pair once
    return ii[first], jj[first], dd[first]


def local_pairs(xy: np.ndarray, assumptions: Mapping[str, Any]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
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
        pairs = _unique_pairs(pairs, kp, n=len(xy)) if len(kp) else pairs
    S = assumptions["access.local_sectors"]
    if S > 0 and len(xy) > 1:
        si, sj, _ = sector_links(xy, xy, S, assumptions["access.local_sector_max_km"] * 1000.0)
        sp = np.sort(np.column_stack([si, sj]), axis=1)
        if len(sp):
            pairs = _unique_pairs(pairs, sp, n=len(xy))
    pairs = pairs.reshape(-1, 2)
    dist = np.hypot(*(xy[pairs[:, 0]] - xy[pairs[:, 1]]).T) if len(pairs) else np.array([], dtype="float64")
    return pairs[:, 0], pairs[:, 1], dist


def terminal_table(points: pd.DataFrame, *, role: NodeRole | str, ids: pd.Series | pd.Index | None = None,
                   urban: np.ndarray | pd.Series | bool = True) -> pd.DataFrame:
    """The terminal table [node, kind, x, y, urban] of point geometries (EPSG:27700 metres).

    ``role``: "zone", "site" or "dest"; ``ids``: their codes (default: the index); ``urban``:
    one flag or one per point (e.g. from :func:`urban_flags`).
    """
    role = NodeRole(role)
    codes = points.index if ids is None else ids
    u = np.broadcast_to(np.asarray(urban, dtype=bool), (len(points),)) if np.ndim(urban) == 0 else np.asarray(urban, dtype=bool)
    return pd.DataFrame({"node": node_ids(role, codes), "kind": NodeKind(role.value).value,
                         "x": points.geometry.x.to_numpy(dtype="float64"), "y": points.geometry.y.to_numpy(dtype="float64"),
                         "urban": u})


def junction_links(xy: np.ndarray, junction_xy: np.ndarray, speed_kmh: np.ndarray | float, assumptions: Mapping[str, Any], *,
                   k: int | None = None, max_km: float | None = None, profile: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Links of points to their ``k`` (default ``access.k_junctions``) nearest junctions within
    ``max_km`` (default ``access.max_junction_km``): (point index, junction index, minutes, road km).
    ``profile``: kept for callers; both ways the link runs at ``speed_kmh`` all the way."""
    k = assumptions["access.k_junctions"] if k is None else k
    max_m = (assumptions["access.max_junction_km"] if max_km is None else max_km) * 1000.0
    i, j, d = knn_links(xy, junction_xy, k, max_m)
    v = np.broadcast_to(np.asarray(speed_kmh, dtype="float64"), (len(xy),))[i] if len(i) else np.array([])
    circ = assumptions["access.circuity"]
    km = np.maximum(d, 1.0) / 1000.0 * circ
    return i, j, (drive_minutes(km, v, assumptions) if profile else access_minutes(d, v, circ)), km


def attach_terminals(
    G: nx.MultiDiGraph,
    terminals: pd.DataFrame,
    assumptions: Assumptions,
    *,
    roads: bool = True,
    stations: bool = True,
) -> nx.MultiDiGraph:
    """Add terminal nodes (zones, sites, job destinations) and their access and local links to ``G``.

    ``terminals``: [node (e.g. "zone:E01..."), kind ("zone"|"site"|"dest"), x, y (BNG m), urban (bool)]
    (:func:`terminal_table`). Road junctions are the nodes of kind "road" already in ``G``;
    stations the street sides of every station (classic and HS2).
    """
    if terminals["node"].duplicated().any():
        raise NetworkError(f"duplicate terminal ids {terminals.loc[terminals['node'].duplicated(), 'node'].head(3).tolist()}")
    xy = terminals[["x", "y"]].to_numpy(dtype="float64")
    urban = terminals["urban"].to_numpy(dtype=bool)
    speed = local_speed_kmh(urban, assumptions)
    names = terminals["node"].tolist()
    circ = assumptions["access.circuity"]
    G.add_nodes_from(
        (n, {"kind": k, "x": float(x), "y": float(y), "urban": bool(u)})
        for n, k, x, y, u in zip(names, terminals["kind"], xy[:, 0], xy[:, 1], urban)
    )
    names_arr = np.asarray(names, dtype=object)
    if roads:
        junctions = [n for n, k in G.nodes(data="kind") if k == NodeKind.ROAD]
        if not junctions:
            raise NetworkError("the graph has no road junctions to join zones to; add road links first")
        i, j, t, km = junction_links(xy, node_xy(G, junctions), speed, assumptions)
        cut = sorted(set(names) - {names[a] for a in set(i.tolist())})
        kinds = dict(zip(names, terminals["kind"].astype(str)))
        linked_zones = any(kinds[n] == "zone" for n in set(names) - set(cut))
        # an island's zone or job destination beyond every junction (the Isles of Scilly) joins no road:
        # its car times are missing and the scores flag it (G.graph["road_cut"]); the region must keep
        # some zone on the roads, and a site must join them
        hard = [n for n in cut if kinds[n] not in ("zone", "dest") or not linked_zones]
        if hard:
            raise NetworkError(
                f"{len(hard)} zone(s)/site(s) lie more than {assumptions['access.max_junction_km']} km from every road junction "
                f"and cannot reach the network: {hard[:10]}; widen the road buffer (buffer_km) or raise access.max_junction_km"
            )
        if cut:
            G.graph.setdefault("road_cut", {}).update(
                {n: f"more than {assumptions['access.max_junction_km']:g} km from every major-road junction" for n in cut})
        jn = np.asarray(junctions, dtype=object)[j]
        _add_both_ways(G, names_arr[i], jn, {"time_min": np.asarray(t, dtype="float64"), "mode": EdgeMode.ACCESS_CAR,
                                             "length_km": np.asarray(km, dtype="float64")})
        a_, b_, dm = local_pairs(xy, assumptions)
        tl = _local_link_minutes(np.maximum(dm, 1.0) / 1000.0 * circ, speed[a_], speed[b_], assumptions)
        _add_both_ways(G, names_arr[a_], names_arr[b_], {"time_min": np.asarray(tl, dtype="float64"), "mode": EdgeMode.LOCAL,
                                                         "length_km": np.asarray(dm, dtype="float64") / 1000.0 * circ})
    if stations:
        _station_access(G, names_arr, xy, speed, assumptions, starts=terminals["kind"].astype(str).to_numpy() != NodeKind.DEST.value)
    return G


def _interleave(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    out = np.empty(2 * len(a), dtype=object)
    out[0::2], out[1::2] = a, b
    return out


def _add_both_ways(G: nx.MultiDiGraph, a: np.ndarray, b: np.ndarray, attrs: dict, back: "np.ndarray | None" = None) -> None:
    """Edges a[i] -> b[i] and, after each, (``back`` or b)[i] -> a[i], with the same attributes."""
    twice = {k: (np.repeat(np.asarray(x), 2) if isinstance(x, np.ndarray) else x) for k, x in attrs.items()}
    add_edge_table(G, _interleave(a, b if back is None else back), _interleave(b, a), twice)


def attach_stations(G: nx.MultiDiGraph, stations: list[str], assumptions: Assumptions) -> None:
    """Join stations added after the terminals (a scheme's new stations) to every terminal of ``G``
    by the same walk and park-and-ride rules as :func:`attach_terminals` (the same links as if
    they had been there when the terminals were attached)."""
    if not stations:
        return
    terms = [(n, d) for n, d in G.nodes(data=True) if d.get("kind") in TERMINAL_KINDS]
    names = np.asarray([n for n, _ in terms], dtype=object)
    xy = np.array([(d["x"], d["y"]) for _, d in terms], dtype="float64").reshape(-1, 2)
    speed = local_speed_kmh(np.array([bool(d.get("urban", True)) for _, d in terms], dtype=bool), assumptions)
    starts = np.array([d.get("kind") != NodeKind.DEST for _, d in terms], dtype=bool)
    _station_access(G, names, xy, speed, assumptions, group=stations, starts=starts)


def station_nodes(G: nx.MultiDiGraph) -> list[str]:
    """The street sides of every station (classic and HS2) in ``G``."""
    nodes = list(G.nodes)
    return [n for n, ok in zip(nodes, has_role(nodes, NodeRole.STATION)) if ok]


def egress_node(G: nx.MultiDiGraph, station: str) -> str:
    """Where a trip leaves ``station`` on foot: its arrival side where the graph has one (reached from
    the street side at 0 min), else the node itself."""
    if has_role([station], NodeRole.STATION)[0]:
        arr = node_id(NodeRole.ARRIVAL, node_code(station))
        if arr in G:
            return arr
    return station


def station_link_floor_min(assumptions: Mapping[str, Any]) -> float:
    """Least minutes of a link between a terminal (zone, site, grid cell) and a station:
    ``pt.interchange_penalty_min`` / 2, so that alighting, walking to a terminal and walking back
    to board again is never cheaper than the interchange penalty of a change in the station."""
    return float(assumptions["pt.interchange_penalty_min"]) / 2.0


def _station_access(G, names: np.ndarray, xy, speed, a: Assumptions, group: list[str] | None = None,
                    starts: np.ndarray | None = None) -> None:
    """Walk and park-and-ride links between the terminals ``names`` (at ``xy``, local ``speed``) and
    the stations ``group`` (default: every station of ``G``). ``starts``: the terminals a trip can
    start from (zones and sites; default all). Park and ride is a first leg only, so a job
    destination, which no trip starts from and none passes through, gets none (they were two
    thirds of a large network's edges, and no search could use them) unless ``pt.car_egress``."""
    floor = station_link_floor_min(a)
    circ = a["access.circuity"]
    group = station_nodes(G) if group is None else list(group)
    if not group:
        return
    group_arr = np.asarray(group, dtype=object)
    out = np.asarray([egress_node(G, n) for n in group], dtype=object)
    sxy = node_xy(G, group)
    # walk: every station within max_walk_km, both directions (in from the street side, back out from the arrival side)
    i, j, d = _within(xy, sxy, a["walk.max_walk_km"] * 1000.0)
    tw = np.maximum(access_minutes(d, a["walk.walk_kmh"], circ), floor)
    _add_both_ways(G, names[i], group_arr[j], {"time_min": np.asarray(tw, dtype="float64"), "mode": EdgeMode.ACCESS_WALK,
                                               "length_km": np.maximum(d, 1.0) / 1000.0 * circ}, back=out[j])
    # car: every station within car_max_km, origin side only (unless car_egress)
    i, j, d = _within(xy, sxy, a["pt.car_max_km"] * 1000.0)
    served = np.flatnonzero(pd.to_numeric(pd.Series([G.nodes[n].get("daily_trains") for n in group]), errors="coerce").fillna(0).to_numpy() > 0)
    i, j, d = _with_nearest(i, j, d, xy, sxy, int(a.get("pt.car_min_stations", 0)) if a["pt.car_max_km"] > 0 else 0,
                             among=served)  # (car_max_km 0: no park and ride at all)
    # (a station beyond car_max_km, one of the nearest: the lanes of the place, then the roads between at
    # least at the rural lane speed, not a town's street speed for 40 km)
    if starts is not None and not a["pt.car_egress"]:
        keep = np.asarray(starts, dtype=bool)[i]
        i, j, d = i[keep], j[keep], d[keep]
    v = np.where(d > a["pt.car_max_km"] * 1000.0, np.maximum(speed[i], a["access.rural_kmh"]), speed[i])
    t = np.maximum(drive_minutes(np.maximum(d, 1.0) / 1000.0 * circ, v, a) + a["pt.car_park_min"], floor)
    attrs = {"time_min": np.asarray(t, dtype="float64"), "mode": EdgeMode.PARK_RIDE, "length_km": np.maximum(d, 1.0) / 1000.0 * circ}
    if a["pt.car_egress"]:
        _add_both_ways(G, names[i], group_arr[j], attrs, back=out[j])
    else:
        add_edge_table(G, names[i], group_arr[j], attrs)


def point_links(G: nx.MultiDiGraph, xy: np.ndarray, urban: np.ndarray, *, mode: TransportMode | str,
                assumptions: Mapping[str, Any]) -> tuple[np.ndarray, list[str], np.ndarray]:
    """Links into sink points (grid cells) from the network, as a terminal would join it, but
    one way only (a sink is never passed through, so no other time changes).

    ``mode="car"``: from the ``access.k_junctions`` nearest junctions (within
    ``access.max_junction_km``) and by local links from the terminals a zone would be joined to
    (within ``access.local_max_km``, the ``access.local_k_nearest`` nearest within
    ``access.local_k_max_km`` and the nearest in each of ``access.local_sectors`` directions within
    ``access.local_sector_max_km``), at the point's local speed (half the way at the terminal's).
    ``mode="rail"``: on foot from where rail trips end (the stations' arrival sides) within
    ``walk.max_walk_km``, at least :func:`station_link_floor_min`.

    Returns (point index, network node, minutes) arrays.
    """
    a = assumptions
    m = TransportMode(mode)
    circ = a["access.circuity"]
    v = local_speed_kmh(urban, a)
    ci, nodes, times = [], [], []
    if m is TransportMode.CAR:
        junc = [n for n, k in G.nodes(data="kind") if k == NodeKind.ROAD]
        if junc:
            i, j, t, _ = junction_links(xy, node_xy(G, junc), v, a)
            ci.append(i); nodes += [junc[k] for k in j]; times.append(t)
        terms = [n for n, k in G.nodes(data="kind") if k in (NodeKind.ZONE, NodeKind.SITE)]
        if terms:
            txy = node_xy(G, terms)
            v_t = local_speed_kmh(np.array([bool(G.nodes[n].get("urban", True)) for n in terms]), a)
            i1, j1, _ = _within(xy, txy, a["access.local_max_km"] * 1000.0)
            i2, j2, _ = knn_links(xy, txy, a["access.local_k_nearest"], a["access.local_k_max_km"] * 1000.0)
            i3, j3, _ = sector_links(xy, txy, a["access.local_sectors"], a["access.local_sector_max_km"] * 1000.0)
            ii, jj = np.r_[i1, i2, i3].astype(np.int64), np.r_[j1, j2, j3].astype(np.int64)
            d = np.maximum(np.hypot(*(xy[ii] - txy[jj]).T), 1.0) / 1000.0 if len(ii) else np.array([])
            ci.append(ii); nodes += [terms[k] for k in jj]; times.append(_local_link_minutes(d * circ, v[ii], v_t[jj], a))
    elif m is TransportMode.RAIL:
        st = [egress_node(G, n) for n in station_nodes(G)]
        if st:
            i, j, d = _within(xy, node_xy(G, st), a["walk.max_walk_km"] * 1000.0)
            ci.append(i); nodes += [st[k] for k in j]
            times.append(np.maximum(access_minutes(d, a["walk.walk_kmh"], circ), station_link_floor_min(a)))
    else:
        from .schema import parse_mode

        parse_mode(mode)  # raises, listing the graph's modes
    if not ci:
        return np.array([], dtype=np.int64), [], np.array([], dtype="float64")
    return np.concatenate(ci), nodes, np.concatenate(times)
