"""The network's vocabulary: node roles and ids, edge modes and travel modes.

This module is the only place that knows how a node id is spelled. Every other module builds
ids with :func:`node_id` / :func:`node_ids` and reads them back with :func:`node_role` /
:func:`node_code`, so a new kind of node is one line here.

Node ids are ``"<prefix>:<code>"``:

============== ========= ============ ==================================================
role           prefix    ``kind``     what
============== ========= ============ ==================================================
zone           ``zone``  zone         a zone's population-weighted centroid (LSOA 2021 code)
site           ``site``   site         a strategy site (``site_id`` of the sites layer)
dest           ``dest``  dest         a job destination beyond the region (never an origin)
road           ``road``  road         a strategic road junction (or an OSM node)
station        ``rail``  station|hs2  a station's street side, where rail trips start (CRS code, or
                                      the station id of a new HS2 station)
arrival        ``arr``   station|hs2  a station's arrival side, where rail trips end
============== ========= ============ ==================================================

Edge modes (:class:`EdgeMode`) are what an edge is (a road link, a walk to a station, a boarding
...); travel modes (:class:`TransportMode`, named as in r5py) are how a traveller goes, and
:data:`MODE_EDGES` says which edge modes each routable travel mode may use.
"""

from __future__ import annotations

import weakref

from enum import StrEnum
from typing import Any, Iterable, Mapping, Sequence

import networkx as nx
import numpy as np
import pandas as pd

from ..errors import UnknownNameError

__all__ = [
    "NodeRole", "NodeKind", "EdgeMode", "TransportMode", "ROUTABLE_MODES", "MODE_EDGES", "TERMINAL_KINDS",
    "STATION_ROLES", "node_id", "node_ids", "node_role", "node_code", "parse_mode", "add_edge_table", "add_edge_list",
    "logged_edge_table", "forget_edge_log",
]


class NodeRole(StrEnum):
    """What a node is, at the finest grain (one prefix each)."""

    ZONE = "zone"
    SITE = "site"
    DEST = "dest"
    ROAD = "road"
    STATION = "station"
    ARRIVAL = "arrival"


class NodeKind(StrEnum):
    """The ``kind`` node attribute: the coarse class of a node."""

    ZONE = "zone"
    SITE = "site"
    DEST = "dest"
    ROAD = "road"
    STATION = "station"
    HS2 = "hs2"


_PREFIX: dict[NodeRole, str] = {
    NodeRole.ZONE: "zone", NodeRole.SITE: "site", NodeRole.DEST: "dest", NodeRole.ROAD: "road",
    NodeRole.STATION: "rail", NodeRole.ARRIVAL: "arr",
}
_ROLE_OF_PREFIX = {p: r for r, p in _PREFIX.items()}
_KIND: dict[NodeRole, NodeKind] = {
    NodeRole.ZONE: NodeKind.ZONE, NodeRole.SITE: NodeKind.SITE, NodeRole.DEST: NodeKind.DEST, NodeRole.ROAD: NodeKind.ROAD,
    NodeRole.STATION: NodeKind.STATION, NodeRole.ARRIVAL: NodeKind.STATION,
}

#: Kinds of the terminals: the points that hang off the core network by access links
#: (zones, sites, job destinations). The engine's structured method relies on them.
TERMINAL_KINDS: tuple[NodeKind, ...] = (NodeKind.ZONE, NodeKind.SITE, NodeKind.DEST)

#: Roles of the nodes of a station (classic or new HS2; a new HS2 station's kind is ``hs2``).
STATION_ROLES: tuple[NodeRole, ...] = (NodeRole.STATION, NodeRole.ARRIVAL)


def node_id(role: NodeRole | str, code: object) -> str:
    """The id of the node of ``role`` for ``code``: ``node_id("zone", "E01013453") -> "zone:E01013453"``."""
    return f"{_PREFIX[NodeRole(role)]}:{code}"


def node_ids(role: NodeRole | str, codes: Iterable[object]) -> list[str]:
    """:func:`node_id` for many codes at once (a list, in order)."""
    p = _PREFIX[NodeRole(role)] + ":"
    return [p + str(c) for c in codes]


def node_role(node: str) -> NodeRole | None:
    """The role of a node id (None for an id of no known prefix)."""
    prefix, sep, _ = str(node).partition(":")
    return _ROLE_OF_PREFIX.get(prefix) if sep else None


def node_kind(node: str) -> NodeKind | None:
    """The kind of a node id (None for an id of no known prefix)."""
    r = node_role(node)
    return _KIND[r] if r is not None else None


def node_code(node: str) -> str:
    """The code of a node id: ``"zone:E01013453" -> "E01013453"``, ``"rail:NOT" -> "NOT"``."""
    prefix, sep, rest = str(node).partition(":")
    return rest if sep and prefix in _ROLE_OF_PREFIX else str(node)


def has_role(nodes: Iterable[str], *roles: NodeRole | str) -> np.ndarray:
    """Boolean array: which of ``nodes`` have one of ``roles``."""
    pre = tuple(_PREFIX[NodeRole(r)] + ":" for r in roles)
    return np.fromiter((str(n).startswith(pre) for n in nodes), dtype=bool)


def kind_of_role(role: NodeRole | str) -> NodeKind:
    """The ``kind`` attribute of the nodes of ``role``."""
    return _KIND[NodeRole(role)]


class EdgeMode(StrEnum):
    """What an edge is (the ``mode`` edge attribute)."""

    ROAD = "road"                # a strategic (or OSM) road link
    LOCAL = "local"              # a direct local-road link between two terminals
    ACCESS_CAR = "access_car"    # terminal <-> road junction by local road
    PARK_RIDE = "park_ride"      # terminal -> station by car (park and ride, kiss and ride)
    ACCESS_WALK = "access_walk"  # terminal <-> station on foot
    RAIL = "rail"                # a station's street side -> another's arrival side by train (wait + ride)
    HS2 = "hs2"                  # the same by HS2 (wait + the published time)
    INTERCHANGE = "interchange"  # a change of train (the penalty), or a walk between an HS2 and a classic station
    CONCOURSE = "concourse"      # street side -> arrival side of the same station (no train)


class TransportMode(StrEnum):
    """How a traveller goes (names as r5py's ``TransportMode``).

    ``CAR`` and ``RAIL`` (the strategic model's rail with walk and park-and-ride access; HS2 in
    scenarios that have it) are routed on the network graph; ``TRANSIT`` (walk + bus + tram +
    rail from GTFS timetables), ``WALK`` and ``BICYCLE`` have routers of their own; ``BUS``,
    ``TRAM``, ``AIR``, ``FERRY`` and ``OTHER`` describe stops.
    """

    CAR = "car"
    RAIL = "rail"
    TRANSIT = "transit"
    WALK = "walk"
    BICYCLE = "bicycle"
    BUS = "bus"
    TRAM = "tram"
    AIR = "air"
    FERRY = "ferry"
    OTHER = "other"


#: Travel modes routed on the network graph by the compiled engine.
ROUTABLE_MODES: tuple[TransportMode, ...] = (TransportMode.CAR, TransportMode.RAIL)

#: Edge modes each graph-routed travel mode may use.
MODE_EDGES: dict[TransportMode, frozenset[EdgeMode]] = {
    # driving to a station and parking ends a car trip there (no car edge leaves a station)
    TransportMode.CAR: frozenset({EdgeMode.ROAD, EdgeMode.LOCAL, EdgeMode.ACCESS_CAR, EdgeMode.PARK_RIDE}),
    TransportMode.RAIL: frozenset({EdgeMode.RAIL, EdgeMode.HS2, EdgeMode.INTERCHANGE, EdgeMode.CONCOURSE,
                                   EdgeMode.ACCESS_WALK, EdgeMode.PARK_RIDE}),
}

_RENAMED = {"pt": "mode 'pt' is now called 'rail' (the strategic model's public transport is rail with walk and "
                  "park-and-ride access); bus, tram and rail from GTFS timetables are 'transit'"}


def parse_mode(mode: TransportMode | str, *, allowed: Iterable[TransportMode] = ROUTABLE_MODES) -> TransportMode:
    """A travel mode from its name; :class:`~lisgeo.errors.UnknownNameError` lists the allowed ones."""
    allowed = tuple(allowed)
    key = str(mode).strip().lower()
    try:
        m = TransportMode(key)
    except ValueError:
        m = None
    if m is None or m not in allowed:
        raise UnknownNameError("mode", mode, [a.value for a in allowed], _RENAMED.get(key, ""))
    return m


def codes_of(nodes: Iterable[str]) -> pd.Index:
    """The codes of node ids, as an Index (ids without a known prefix are kept as they are)."""
    return pd.Index([node_code(n) for n in nodes])


#: The edges each plain graph received through :func:`add_edge_table`, as (u, v, mode, time_min)
#: lists per call: ``build_network`` reads its engines' edge table from here rather than from the
#: graph (:func:`logged_edge_table`). Any other change to the graph's edges makes it unusable
#: (:func:`logged_edge_table` then says None), and ``apply_edits`` drops it.
_EDGE_LOG: "weakref.WeakKeyDictionary[nx.MultiDiGraph, list[tuple[list, list, list, list]]]" = weakref.WeakKeyDictionary()


def logged_edge_table(G: nx.MultiDiGraph) -> pd.DataFrame | None:
    """Every edge of ``G`` as [u, v, mode, time_min] (the engines' table, in the order added),
    from the log of :func:`add_edge_table`; None when some edge of ``G`` came another way."""
    parts = _EDGE_LOG.get(G)
    if not parts:
        return None
    n = sum(len(p[0]) for p in parts)
    if n != sum(len(kd) for nbrs in G._succ.values() for kd in nbrs.values()):
        return None

    def column(i: int) -> np.ndarray:
        out = np.empty(n, dtype=object)
        out[:] = [x for p in parts for x in p[i]]
        return out

    return pd.DataFrame({"u": column(0), "v": column(1), "mode": column(2), "time_min": column(3)}, dtype=object)


def _log_edges(G: nx.MultiDiGraph, us: list, vs: list, modes: list, times: list) -> None:
    # (a graph without edges starts a log: any() stops at the first node with edges, where
    # number_of_edges() counts all of them, 0.2 s on a network read back from the disk)
    if type(G) is nx.MultiDiGraph and not nx.is_frozen(G) and (G in _EDGE_LOG or not any(G._succ.values())):
        _EDGE_LOG.setdefault(G, []).append((us, vs, modes, times))


def add_edge_list(G: nx.MultiDiGraph, edges: Iterable[tuple[str, str, dict]]) -> None:
    """``G.add_edges_from(edges)`` for ``(u, v, attributes)`` triples, recorded in the log that
    :func:`logged_edge_table` reads."""
    edges = list(edges)
    _log_edges(G, [e[0] for e in edges], [e[1] for e in edges], [e[2].get("mode") for e in edges],
               [e[2].get("time_min") for e in edges])
    G.add_edges_from(edges)


def forget_edge_log(G: nx.MultiDiGraph) -> None:
    """Drop ``G``'s edge log (its edges change in ways the log does not see)."""
    _EDGE_LOG.pop(G, None)


def _row_dicts(names: list[str], cols: list[list], n: int) -> list[dict]:
    """One dict per row of the columns ``cols`` named ``names``: a dict display for up to four
    names (about 3x faster than ``dict(zip(names, row))`` on 300,000 rows)."""
    if len(names) == 1:
        (k0,), (c0,) = names, cols
        return [{k0: a} for a in c0]
    if len(names) == 2:
        k0, k1 = names
        return [{k0: a, k1: b} for a, b in zip(*cols)]
    if len(names) == 3:
        k0, k1, k2 = names
        return [{k0: a, k1: b, k2: c} for a, b, c in zip(*cols)]
    if len(names) == 4:
        k0, k1, k2, k3 = names
        return [{k0: a, k1: b, k2: c, k3: d} for a, b, c, d in zip(*cols)]
    return [dict(zip(names, row)) for row in zip(*cols)] if cols else [{} for _ in range(n)]


def add_edge_table(G: nx.MultiDiGraph, u: Sequence[str], v: Sequence[str], attrs: Mapping[str, Any]) -> None:
    """Add one edge per row, ``u[i] -> v[i]``, to ``G`` with the attributes ``attrs``: each value an
    array of one value per edge or a scalar shared by all (every edge gets its own attribute dict).

    The same graph as ``G.add_edges_from(zip(u, v, dicts))`` (keys, order and attributes equal,
    nodes created bare where new), about 3x faster: the network's 320,000 access, local and rail
    edges are written straight into a plain ``nx.MultiDiGraph``'s adjacency dicts, the way
    ``MultiDiGraph.add_edge`` writes them. A subclass, or a frozen graph, goes through ``add_edges_from``.
    """
    n = len(u)
    if len(v) != n:
        raise ValueError(f"u and v differ in length ({n} and {len(v)})")
    names = list(attrs)
    cols = []
    for k in names:
        val = attrs[k]
        if isinstance(val, (np.ndarray, pd.Series, pd.Index, list, tuple)):
            arr = val.tolist() if hasattr(val, "tolist") else list(val)
            if len(arr) != n:
                raise ValueError(f"edge attribute {k!r} has {len(arr)} values for {n} edges")
            cols.append(arr)
        else:
            cols.append([val] * n)
    us = u.tolist() if hasattr(u, "tolist") else list(u)
    vs = v.tolist() if hasattr(v, "tolist") else list(v)
    dicts = _row_dicts(names, cols, n)
    if type(G) is not nx.MultiDiGraph or nx.is_frozen(G):  # a subclass, or a frozen graph (which refuses)
        G.add_edges_from(zip(us, vs, dicts))
        return
    k_mode, k_time = (names.index(k) if k in names else None for k in ("mode", "time_min"))
    _log_edges(G, us, vs, cols[k_mode] if k_mode is not None else [None] * n, cols[k_time] if k_time is not None else [None] * n)
    succ, pred, node = G._succ, G._pred, G._node
    for a, b, d in zip(us, vs, dicts):
        if a not in succ:
            if a is None:
                raise ValueError("None cannot be a node")
            succ[a], pred[a], node[a] = {}, {}, {}
        if b not in succ:
            if b is None:
                raise ValueError("None cannot be a node")
            succ[b], pred[b], node[b] = {}, {}, {}
        keydict = succ[a].get(b)
        if keydict is None:
            keydict = succ[a][b] = pred[b][a] = {}
            keydict[0] = d
        else:
            key = len(keydict)
            while key in keydict:
                key += 1
            keydict[key] = d
    clear = getattr(nx, "_clear_cache", None)  # networkx >= 3.3 caches views per graph
    if clear is not None:
        clear(G)
