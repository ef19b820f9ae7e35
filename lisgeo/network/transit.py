"""Timetable routing: exact public-transport travel times over a departure window.

``transit_matrix(feed, origins, destinations, departure="08:00", window_min=60, percentile=50)``
returns origins × destinations minutes from a :class:`~lisgeo.network.gtfs.TransitFeed`
(:func:`~lisgeo.network.gtfs.read_gtfs`), following r5py's convention:

* for every departure minute ``τ`` in ``[departure, departure + window_min)`` (60 minutes for a
  60-minute window: 08:00, 08:01, ..., 08:59), the earliest arrival at the destination minus
  ``τ``: waiting at the origin counts as travel time, and so does a walk-only trip;
* a minute whose best time exceeds ``max_time_min`` (or that reaches nothing) counts as
  *infinite*, as in r5py; then the requested percentile over the minutes by R5's nearest-rank
  rule: the value at index ``ceil(p / 100 × n) - 1`` of the sorted times, no interpolation. So
  the percentile is finite only where at least ``ceil(p / 100 × n)`` minutes reach the
  destination within ``max_time_min`` (the median of 60 minutes is the 30th smallest time, so
  30 of the 60 minutes must reach it); otherwise NaN.
  Unlike r5py, times are not truncated to whole minutes: they are exact seconds / 60.

:func:`transit_percentiles` gives several percentiles at once as a long frame (``from_id, to_id,
travel_time_p25, ...`` like r5py's ``TravelTimeMatrix``); :func:`transit_times_by_minute` gives
every departure minute.

The model
    A journey walks from the origin to a stop (``access``), rides one or more trips, walking
    between them (``transfers``), and walks to the destination (``egress``); or it walks all the
    way. Access, egress and the walk-only trip are each at most ``max_walk_m`` metres of
    walking; a transfer is at most ``transfer_max_m`` and takes at least ``min_transfer_s``
    seconds (also when it stays at the same stop; default 60 s, R5's board slack), i.e.
    ``max(min_transfer_s, walk time)``. The first boarding has no slack. Walking distance is
    crow-fly × ``circuity`` at ``walk_kmh``, or, given ``street_graph`` (a networkx graph whose
    nodes have ``x``/``y`` in EPSG:27700 and edges ``length_km``, e.g.
    ``graph_from_osm(..., network_type="walking")``), the shortest path on it between the nodes
    nearest to the two points plus both crow-fly snap distances (walking ignores one-way
    restrictions: the graph is used both ways). Defaults (:data:`DEFAULTS`): 4.8 km/h, circuity
    1.3, ``max_walk_m`` 1,600 m (20 minutes' walk), ``transfer_max_m`` 800 m, ``min_transfer_s``
    60 s, ``max_transfers`` None. ``max_transfers`` (None: unlimited) bounds the
    number of transfers (rides - 1). Boarding and alighting follow ``pickup_type`` /
    ``drop_off_type``; ``transfers.txt`` is not used.

The algorithm: a time-expanded graph searched backwards, one Dijkstra per destination
    Nodes are stop events, each at a clock time: for every stop time, *board* (ready to board
    at its departure), *ride* (on the vehicle as it leaves) and *alight* (off the vehicle at its
    arrival); plus one *sink* per stop. Arcs carry durations: board → ride (0); ride → next ride
    and ride → next alight (the timetable's running time); waiting at a stop from one board
    event to the next one there (the gap); alight → the first board event at each stop within
    ``transfer_max_m`` that can be caught (the wait and walk); alight → the stop's sink (0). With
    ``max_transfers`` the graph is layered by the number of rides taken.
    Every node has an absolute clock time, so a path's length is its end time minus its start
    time. One reverse Dijkstra (``scipy.sparse.csgraph.dijkstra``, compiled) from destination
    ``d`` over the reversed arcs, with sink → destination egress arcs, gives for every board
    event ``b`` at once ``EA(b, d) = time(b) + dist(b, d)``: the earliest arrival at ``d`` of
    anyone ready to board at ``b``, whatever minute they left. The search stops at
    ``max_time_min`` (``limit``), as no useful journey is longer. Then for origin ``o`` and
    minute ``τ``, with access walks ``a(o, s)``::

        T(o, d, τ) = min( walk(o, d),  min_s EA(first board event at s at or after τ + a(o, s), d) − τ )

    because the waiting arcs make the first catchable event at a stop as good as any later one.
    That is a vectorised ``searchsorted`` and gather over all (origin, access stop, minute)
    triples in numpy, in chunks of origins so memory stays modest.

Why this and not RAPTOR or CSA
    The window is free: one backwards search per destination serves all 60 departure minutes of
    all origins, where range-RAPTOR or a profile connection scan repeat work per origin (and
    per minute for plain RAPTOR). Both of those are sequential scans (routes × stops × rounds,
    or connections in time order) that numpy cannot vectorise, so without a JIT (numba is not a
    dependency and is not needed here) their inner loops would run in Python; the
    time-expanded graph puts the whole search into scipy's compiled Dijkstra. The price is a
    larger graph (three nodes per stop time and the transfer arcs), built once per feed and
    walking setting with numpy (:func:`prepare_transit`, cached), and a search per destination:
    the cost grows with the destinations, not the origins or the minutes (the searches run in
    blocks of destinations sized to about 128 MB).

Exactness
    Every step is a shortest-path identity on the same model, so the answers equal a brute-force
    forward search of the time-expanded graph per origin and minute (the tests build one in
    networkx on random feeds and on sampled real origins and compare to 1e-6 s).
"""

from __future__ import annotations

import math
import weakref
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra
from scipy.spatial import cKDTree

from ..checks import to_bng
from ..errors import DataFormatError, EmptyResultError, GeometryError, MissingColumnError, NetworkError, ParameterError
from .gtfs import TransitFeed, format_clock, parse_clock

__all__ = ["TransitGraph", "prepare_transit", "transit_matrix", "transit_percentiles", "transit_times_by_minute",
           "walk_pairs", "DEFAULTS"]

#: Default walking and transfer assumptions (documented in the module docstring).
DEFAULTS = dict(walk_kmh=4.8, circuity=1.3, max_walk_m=1600.0, transfer_max_m=800.0, min_transfer_s=60.0,
                max_transfers=None)
_KEY = 1 << 20  # stop * _KEY + seconds: sortable (stop, time) keys (times < 48 h = 172,800 s < 2**20)
_CHUNK_ELEMS = 4_000_000  # float64 elements per origin chunk in the gathers (~32 MB)
_DIJKSTRA_BYTES = 128 * 2**20  # per block of destinations in the backwards searches


# --------------------------------------------------------------------------------------------
# walking


@dataclass(frozen=True, eq=False)
class _Street:
    csr: sp.csr_array  # symmetric, metres
    xy: np.ndarray
    tree: cKDTree
    n_nodes: int
    n_edges: int


def _numeric(v) -> bool:
    try:
        float(v)
        return True
    except (TypeError, ValueError):
        return False


def _street_from_graph(G) -> _Street:
    nodes = list(G.nodes)
    if not nodes:
        raise NetworkError("street_graph has no nodes; pass a walking graph such as graph_from_osm(path, network_type='walking')")
    try:
        xy = np.array([(float(G.nodes[n]["x"]), float(G.nodes[n]["y"])) for n in nodes], dtype="float64")
    except (KeyError, TypeError, ValueError):
        bad = next((n for n in nodes if not _numeric(G.nodes[n].get("x")) or not _numeric(G.nodes[n].get("y"))), nodes[0])
        raise NetworkError(f"street_graph node {bad!r} lacks numeric 'x'/'y'; nodes need EPSG:27700 coordinates") from None
    if not np.isfinite(xy).all():
        raise NetworkError("street_graph has nodes with NaN or infinite x/y; drop them or give EPSG:27700 coordinates")
    pos = {n: i for i, n in enumerate(nodes)}
    rows = [(pos[u], pos[v], d.get("length_km")) for u, v, d in G.edges(data=True)]
    if rows:
        u, v, w = (np.array(c) for c in zip(*rows))
        try:
            w = w.astype("float64") * 1000.0
        except (TypeError, ValueError):
            w = np.full(len(u), np.nan)
        if not (np.isfinite(w) & (w >= 0)).all():
            i = int(np.flatnonzero(~(np.isfinite(w) & (w >= 0)))[0])
            raise NetworkError(f"street_graph edge ({nodes[u[i]]!r}, {nodes[v[i]]!r}) has a missing, NaN or negative "
                               "length_km; every edge needs its length in km")
        u, v, w = np.r_[u, v], np.r_[v, u], np.r_[w, w]
    else:
        u = v = np.array([], dtype=np.int64)
        w = np.array([], dtype="float64")
    return _Street(_min_csr(u, v, w, len(nodes)), xy, cKDTree(xy), len(nodes), G.number_of_edges())


def _min_csr(u: np.ndarray, v: np.ndarray, w: np.ndarray, n: int) -> sp.csr_array:
    """CSR keeping the smallest weight of parallel arcs (explicit zeros stay arcs)."""
    if len(u) == 0:
        return sp.csr_array((np.array([], dtype="float64"), np.array([], dtype=np.int32), np.zeros(n + 1, dtype=np.int64)),
                            shape=(n, n))
    o = np.lexsort((w, v, u))
    u, v, w = u[o], v[o], w[o]
    keep = np.r_[True, (u[1:] != u[:-1]) | (v[1:] != v[:-1])]
    u, v, w = u[keep], v[keep], w[keep]
    indptr = np.r_[0, np.cumsum(np.bincount(u, minlength=n))].astype(np.int64)
    return sp.csr_array((w.astype("float64"), v.astype(np.int32), indptr), shape=(n, n))


def walk_pairs(a_xy: np.ndarray, b_xy: np.ndarray, max_m: float, *, walk_kmh: float = 4.8, circuity: float = 1.3,
               street: "_Street | None" = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every (i, j) with a walk of at most ``max_m`` metres from ``a_xy[i]`` to ``b_xy[j]``
    (EPSG:27700), as arrays ``(i, j, seconds)`` sorted by i then j.

    Crow-fly × ``circuity`` (a KD-tree finds the pairs), or on ``street`` (a prepared street
    graph): network metres between the nearest nodes + both snap distances, by
    ``scipy.sparse.csgraph.dijkstra`` from the distinct snapped nodes of ``a`` in blocks.
    """
    a_xy = np.asarray(a_xy, dtype="float64").reshape(-1, 2)
    b_xy = np.asarray(b_xy, dtype="float64").reshape(-1, 2)
    empty = (np.array([], dtype=np.int64), np.array([], dtype=np.int64), np.array([], dtype="float64"))
    if len(a_xy) == 0 or len(b_xy) == 0 or max_m < 0:
        return empty
    speed = walk_kmh / 3.6  # m/s
    if street is None:
        res = cKDTree(a_xy).sparse_distance_matrix(cKDTree(b_xy), max_m / circuity, output_type="ndarray")
        i, j, d = res["i"].astype(np.int64), res["j"].astype(np.int64), res["v"] * circuity
        keep = d <= max_m
        i, j, d = i[keep], j[keep], d[keep]
    else:
        da, na = street.tree.query(a_xy)
        db, nb = street.tree.query(b_xy)
        src, inv = np.unique(na, return_inverse=True)
        rows_i, rows_j, rows_d = [], [], []
        order = np.argsort(inv, kind="stable")
        bounds = np.searchsorted(inv[order], np.arange(len(src) + 1))
        step = max(1, int(_DIJKSTRA_BYTES // (8 * max(street.n_nodes, 1))))
        near_b = db <= max_m
        bcols = np.flatnonzero(near_b)
        for s0 in range(0, len(src), step):
            s1 = min(s0 + step, len(src))
            D = dijkstra(street.csr, directed=True, indices=src[s0:s1], limit=max_m)[:, nb[bcols]] + db[bcols][None, :]
            a_idx = order[bounds[s0]:bounds[s1]]
            tot = D[inv[a_idx] - s0] + da[a_idx][:, None]
            r, c = np.nonzero(tot <= max_m)
            rows_i.append(a_idx[r])
            rows_j.append(bcols[c])
            rows_d.append(tot[r, c])
        i, j, d = (np.concatenate(x) for x in (rows_i, rows_j, rows_d))
    o = np.lexsort((j, i))
    return i[o], j[o], d[o] / speed


# --------------------------------------------------------------------------------------------
# the prepared graph


@dataclass(frozen=True, eq=False)
class TransitGraph:
    """A feed's time-expanded graph for one walking setting (see the module docstring).

    Built by :func:`prepare_transit` (cached per feed and setting). ``rev`` is the reversed
    graph as CSR (durations in seconds); node ids: layer ``l`` holds board, ride and alight
    nodes of stop time ``i`` at ``l*3n + i``, ``l*3n + n + i`` and ``l*3n + 2n + i``; the stop
    sinks follow all layers. Board events are sorted by (stop, departure): ``b_st`` (stop time),
    ``b_key`` (stop * 2**20 + seconds).
    """

    feed: TransitFeed
    walk_kmh: float
    circuity: float
    transfer_max_m: float
    min_transfer_s: float
    max_transfers: int | None
    street: _Street | None
    rev: sp.csr_array
    n_layers: int
    sink0: int
    b_st: np.ndarray
    b_key: np.ndarray
    n_transfer_pairs: int

    @property
    def n_nodes(self) -> int:
        return self.rev.shape[0]

    @property
    def n_arcs(self) -> int:
        return self.rev.nnz

    def __repr__(self) -> str:
        walk = f"street graph ({self.street.n_nodes} nodes)" if self.street is not None else f"crow-fly x {self.circuity}"
        return (f"TransitGraph({self.n_nodes} nodes, {self.n_arcs} arcs, {self.n_layers} layer(s); walking {walk} at "
                f"{self.walk_kmh} km/h; transfers <= {self.transfer_max_m:g} m, >= {self.min_transfer_s:g} s; "
                f"max_transfers {self.max_transfers})")


_PREPARED: "weakref.WeakKeyDictionary[TransitFeed, dict]" = weakref.WeakKeyDictionary()
_STREETS: "weakref.WeakKeyDictionary[Any, tuple]" = weakref.WeakKeyDictionary()


def _street_cached(G) -> _Street | None:
    if G is None:
        return None
    fp = (G.number_of_nodes(), G.number_of_edges())
    got = _STREETS.get(G)
    if got is None or got[0] != fp:
        got = (fp, _street_from_graph(G))
        _STREETS[G] = got
    return got[1]


def _check_walk(walk_kmh, circuity, transfer_max_m, min_transfer_s, max_transfers) -> None:
    for name, v, lo in (("walk_kmh", walk_kmh, 0.0), ("circuity", circuity, None), ("transfer_max_m", transfer_max_m, None),
                        ("min_transfer_s", min_transfer_s, None)):
        ok = isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool) and math.isfinite(v)
        if ok and name == "walk_kmh":
            ok = v > 0
        elif ok and name == "circuity":
            ok = v >= 1
        elif ok:
            ok = v >= 0
        if not ok:
            need = {"walk_kmh": "a positive speed", "circuity": "a number >= 1"}.get(name, "a number >= 0")
            raise ParameterError(f"{name} {v!r} must be {need}")
    if max_transfers is not None and (not isinstance(max_transfers, (int, np.integer)) or isinstance(max_transfers, bool)
                                      or max_transfers < 0):
        raise ParameterError(f"max_transfers {max_transfers!r} must be None (unlimited) or an integer >= 0")


def prepare_transit(feed: TransitFeed, *, walk_kmh: float = DEFAULTS["walk_kmh"], circuity: float = DEFAULTS["circuity"],
                    transfer_max_m: float = DEFAULTS["transfer_max_m"], min_transfer_s: float = DEFAULTS["min_transfer_s"],
                    max_transfers: int | None = DEFAULTS["max_transfers"], street_graph=None) -> TransitGraph:
    """The time-expanded graph of ``feed`` for one walking setting (cached per feed object and
    setting; :func:`transit_matrix` calls it). See the module docstring for the graph."""
    if not isinstance(feed, TransitFeed):
        raise ParameterError(f"feed must be a TransitFeed from lisgeo.network.gtfs.read_gtfs, not {type(feed).__name__}")
    _check_walk(walk_kmh, circuity, transfer_max_m, min_transfer_s, max_transfers)
    street = _street_cached(street_graph)
    key = (float(walk_kmh), float(circuity), float(transfer_max_m), float(min_transfer_s), max_transfers, street)
    cache = _PREPARED.setdefault(feed, {})
    got = cache.get(key)
    if got is None:
        got = cache[key] = _build(feed, float(walk_kmh), float(circuity), float(transfer_max_m), float(min_transfer_s),
                                  max_transfers, street)
    return got


def _build(feed: TransitFeed, walk_kmh, circuity, transfer_max_m, min_transfer_s, max_transfers, street) -> TransitGraph:
    n = feed.n_stop_times
    ptr = feed.trip_ptr
    first = np.zeros(n, dtype=bool)
    last = np.zeros(n, dtype=bool)
    if n:
        first[ptr[:-1][np.diff(ptr) > 0]] = True
        last[ptr[1:][np.diff(ptr) > 0] - 1] = True
    stop, arr, dep = feed.st_stop.astype(np.int64), feed.st_arr.astype(np.int64), feed.st_dep.astype(np.int64)
    board = feed.st_pickup & ~last
    alight = feed.st_dropoff & ~first
    B, V, L = 0, n, 2 * n  # node offsets inside a layer

    # board events sorted by (stop, time)
    b_st = np.flatnonzero(board)
    b_key_all = stop[b_st] * _KEY + dep[b_st]
    o = np.lexsort((b_st, b_key_all))
    b_st, b_key = b_st[o], b_key_all[o]

    # ride and alight arcs (i -> i+1 within a trip)
    i = np.flatnonzero(~last)
    ride_i = i[~last[i + 1]]
    al_i = i[alight[i + 1]]
    # waiting arcs between consecutive board events at a stop
    same = stop[b_st[1:]] == stop[b_st[:-1]]
    w_u, w_v = b_st[:-1][same], b_st[1:][same]
    # transfers: alight events x stops within transfer_max_m (same stop included, at distance 0)
    xy = np.column_stack([feed.stop_x, feed.stop_y])
    ti, tj, tsec = walk_pairs(xy, xy, transfer_max_m, walk_kmh=walk_kmh, circuity=circuity, street=street)
    keep = ti != tj
    ti, tj, tsec = ti[keep], tj[keep], tsec[keep]
    ns = feed.n_stops
    ti, tj, tsec = np.r_[ti, np.arange(ns)], np.r_[tj, np.arange(ns)], np.r_[tsec, np.zeros(ns)]
    tsec = np.maximum(tsec, min_transfer_s)
    o = np.lexsort((tj, ti))
    ti, tj, tsec = ti[o], tj[o], tsec[o]
    pstart = np.searchsorted(ti, np.arange(ns + 1))
    l_i = np.flatnonzero(alight)
    cnt = (pstart[stop[l_i] + 1] - pstart[stop[l_i]])
    rep_l = np.repeat(l_i, cnt)
    pidx = np.arange(cnt.sum()) - np.repeat(np.cumsum(cnt) - cnt, cnt) + np.repeat(pstart[stop[l_i]], cnt)
    tgt_stop = tj[pidx]
    ready = arr[rep_l] + tsec[pidx]  # float seconds
    # first board event at tgt_stop at or after ready: keys are integers, ready may be fractional
    q = tgt_stop * _KEY + np.ceil(ready).astype(np.int64)
    jpos = np.searchsorted(b_key, q, side="left")
    ok = jpos < len(b_key)
    ok[ok] = (b_key[jpos[ok]] // _KEY) == tgt_stop[ok]
    tr_u, tr_v = rep_l[ok], b_st[jpos[ok]]
    tr_w = (dep[tr_v] - arr[tr_u]).astype("float64")

    # arcs by kind: (u, v, w) local to a layer (sink arcs point to stop sinks)
    kinds = {
        "board": (B + b_st, V + b_st, np.zeros(len(b_st))),
        "ride": (V + ride_i, V + ride_i + 1, (dep[ride_i + 1] - dep[ride_i]).astype("float64")),
        "alight": (V + al_i, L + al_i + 1, (arr[al_i + 1] - dep[al_i]).astype("float64")),
        "wait": (B + w_u, B + w_v, (dep[w_v] - dep[w_u]).astype("float64")),
        "transfer": (L + tr_u, B + tr_v, tr_w),
        "egress": (L + l_i, stop[l_i], np.zeros(len(l_i))),  # v: stop index, offset to the sinks below
    }
    if max_transfers is None:
        n_layers = 1
        layers = {k: [(0, None if k == "egress" else 0)] for k in kinds}
    else:
        R = int(max_transfers) + 1  # rides
        n_layers = R + 1  # layer l: l rides taken
        layers = {
            "board": [(lv, lv + 1) for lv in range(R)],  # (layer of u, layer of v)
            "ride": [(lv, lv) for lv in range(1, R + 1)],
            "alight": [(lv, lv) for lv in range(1, R + 1)],
            "wait": [(lv, lv) for lv in range(R)],
            "transfer": [(lv, lv) for lv in range(1, R)],
            "egress": [(lv, None) for lv in range(1, R + 1)],
        }
    span = 3 * n
    sink0 = n_layers * span
    us, vs, ws = [], [], []
    for k, (u, v, w) in kinds.items():
        for lu, lv in layers[k]:
            us.append(u + lu * span)
            vs.append(v + sink0 if lv is None else v + lv * span)
            ws.append(w)
    u = np.concatenate(us).astype(np.int64)
    v = np.concatenate(vs).astype(np.int64)
    w = np.concatenate(ws).astype("float64")
    N = sink0 + ns
    # reversed (searches run from the destinations backwards); no two arcs share both ends, so a
    # stable counting order by tail is the CSR
    o = np.argsort(v, kind="stable")
    indptr = np.r_[0, np.cumsum(np.bincount(v, minlength=N))].astype(np.int64)
    rev = sp.csr_array((w[o], u[o].astype(np.int32), indptr), shape=(N, N))
    return TransitGraph(feed, walk_kmh, circuity, transfer_max_m, min_transfer_s, max_transfers, street, rev, n_layers,
                        sink0, b_st, b_key, int(len(ti)))


# --------------------------------------------------------------------------------------------
# queries


def _points(gdf, what: str, id_col: str | None) -> tuple[pd.Index, np.ndarray]:
    import geopandas as gpd

    if not isinstance(gdf, gpd.GeoDataFrame):
        raise ParameterError(f"{what} must be a GeoDataFrame of points, not {type(gdf).__name__}")
    if len(gdf) == 0:
        raise EmptyResultError(f"{what} is empty; pass at least one point")
    g = to_bng(gdf, name=what)
    geom = g.geometry
    if geom.isna().any() or geom.is_empty.any():
        raise GeometryError(f"{what} has {int(geom.isna().sum() + geom.is_empty.sum())} missing or empty geometries; "
                            "drop those rows")
    if not (geom.geom_type == "Point").all():
        kinds = sorted(set(geom.geom_type) - {"Point"})
        raise GeometryError(f"{what} must hold Point geometries but has {kinds}; use gdf.representative_point() or "
                            "population-weighted centroids")
    if id_col is not None:
        if id_col not in g.columns:
            raise MissingColumnError(f"{what} lacks id column {id_col!r}; it has {list(g.columns)}")
        ids = pd.Index(g[id_col])
    else:
        ids = g.index
    if ids.hasnans:
        raise DataFormatError(f"{what}: the ids ({id_col or 'index'}) include missing values; give every point an id")
    if ids.has_duplicates:
        dups = ids[ids.duplicated()].unique()[:3].tolist()
        raise DataFormatError(f"{what}: ids ({id_col or 'index'}) must be unique but repeat {dups}; drop or merge the duplicates")
    return ids, np.column_stack([geom.x.to_numpy(), geom.y.to_numpy()])


def _check_query(graph: TransitGraph, departure, window_min, max_time_min, max_walk_m, percentiles) -> tuple:
    feed = graph.feed
    t0 = parse_clock(departure, name="departure")
    if not isinstance(window_min, (int, np.integer)) or isinstance(window_min, bool) or window_min < 1:
        raise ParameterError(f"window_min {window_min!r} must be a whole number of minutes >= 1")
    if not isinstance(max_time_min, (int, float, np.integer, np.floating)) or not (0 < max_time_min < math.inf):
        raise ParameterError(f"max_time_min {max_time_min!r} must be a positive number of minutes")
    if not isinstance(max_walk_m, (int, float, np.integer, np.floating)) or not (0 <= max_walk_m < math.inf):
        raise ParameterError(f"max_walk_m {max_walk_m!r} must be a number of metres >= 0")
    for p in percentiles:
        if not isinstance(p, (int, float, np.integer, np.floating)) or isinstance(p, bool) or not (0 < p <= 100):
            raise ParameterError(f"percentile {p!r} must be in (0, 100], e.g. 50 for the median")
    max_s = float(max_time_min) * 60.0
    taus = t0 + 60 * np.arange(int(window_min), dtype=np.int64)
    if t0 < feed.start_s or taus[-1] + max_s > feed.horizon_s:
        raise ParameterError(
            f"departures {format_clock(t0)}-{format_clock(taus[-1])} with max_time_min {max_time_min:g} need the timetable "
            f"from {format_clock(t0)} to {format_clock(taus[-1] + max_s)}, but the feed was read for departures "
            f"{format_clock(feed.start_s)}-{format_clock(feed.end_s)} with arrivals to {format_clock(feed.horizon_s)}; "
            "read it again with read_gtfs(..., start=, end=, max_time_min=) covering the query")
    return taus, max_s


def _route(graph: TransitGraph, o_xy: np.ndarray, d_xy: np.ndarray, taus: np.ndarray, max_s: float, max_walk_m: float,
           reduce) -> None:
    """Core: for blocks of destinations and chunks of origins, call ``reduce(o_slice, d_slice, T)``
    with ``T[o, m, d]`` the travel seconds per departure minute (inf: none within ``max_s``)."""
    feed = graph.feed
    W = len(taus)
    kw = dict(walk_kmh=graph.walk_kmh, circuity=graph.circuity, street=graph.street)
    s_xy = np.column_stack([feed.stop_x, feed.stop_y])
    ao, as_, at = walk_pairs(o_xy, s_xy, max_walk_m, **kw)  # access (sorted by origin)
    es, ed, et = walk_pairs(s_xy, d_xy, max_walk_m, **kw)  # egress
    wo, wd, wt = walk_pairs(o_xy, d_xy, max_walk_m, **kw)  # walk-only
    n_o, n_d = len(o_xy), len(d_xy)

    # board events an access walk can reach within the window: layer 0, at an access stop, in time
    b_stop, b_time = graph.b_key // _KEY, graph.b_key % _KEY
    acc_stops = np.unique(as_)
    rel = np.isin(b_stop, acc_stops) & (b_time >= taus[0]) & (b_time <= taus[-1] + max_s)
    rel_idx = np.flatnonzero(rel)
    rel_key = graph.b_key[rel_idx]
    rel_nodes = graph.b_st[rel_idx]  # layer 0 board node ids = stop time ids
    rel_time = b_time[rel_idx].astype("float64")

    o_start = np.searchsorted(ao, np.arange(n_o + 1))  # access pairs of origin o: o_start[o]:o_start[o + 1]
    w_start = np.searchsorted(wo, np.arange(n_o + 1))

    def first_catchable(p0: int, p1: int) -> np.ndarray:
        """Row of the EA table (last row: none) of the first board event catchable by access pairs
        p0:p1 at every minute: pairs x W. Event times are whole seconds, so ceil() is exact."""
        ready = np.ceil(taus[None, :] + at[p0:p1, None]).astype(np.int64)
        q = as_[p0:p1, None] * _KEY + ready
        j = np.searchsorted(rel_key, q, side="left")
        ok = j < len(rel_key)
        ok[ok] = (rel_key[j[ok]] // _KEY) == np.broadcast_to(as_[p0:p1, None], j.shape)[ok]
        return np.where(ok, j, len(rel_key))

    # destination blocks: reverse Dijkstra from destination nodes appended to the reversed graph
    rev = graph.rev
    N = rev.shape[0]
    eo = np.lexsort((es, ed))
    es, ed, et = es[eo], ed[eo], et[eo]
    indptr = np.r_[rev.indptr, rev.indptr[-1] + np.cumsum(np.bincount(ed, minlength=n_d))].astype(np.int64)
    G = sp.csr_array((np.r_[rev.data, et], np.r_[rev.indices, graph.sink0 + es].astype(np.int32), indptr),
                     shape=(N + n_d, N + n_d))
    d_step = max(1, int(_DIJKSTRA_BYTES // (8 * (N + n_d))))
    pairs_per_o = max(1.0, len(ao) / max(n_o, 1))
    for d0 in range(0, n_d, d_step):
        d1 = min(n_d, d0 + d_step)
        nd = d1 - d0
        EA = np.full((len(rel_nodes) + 1, nd), np.inf)  # earliest arrival clock per relevant board event
        if len(rel_nodes):
            dist = dijkstra(G, directed=True, indices=N + np.arange(d0, d1), limit=max_s + 1.0)
            EA[:-1] = (dist[:, rel_nodes] + rel_time[None, :]).T
            del dist
        per_o = max(1, int(_CHUNK_ELEMS // (W * nd * pairs_per_o)))
        for o0 in range(0, n_o, per_o):
            o1 = min(n_o, o0 + per_o)
            T = np.full((o1 - o0, W, nd), np.inf)
            p0, p1 = o_start[o0], o_start[o1]
            if p1 > p0:
                g = EA[first_catchable(p0, p1)] - taus[None, :, None]  # pairs x W x nd
                starts = o_start[o0:o1 + 1] - p0
                has = np.flatnonzero(np.diff(starts) > 0)
                T[has] = np.minimum.reduceat(g, starts[has], axis=0)
                del g
            w0, w1 = w_start[o0], w_start[o1]
            inb = (wd[w0:w1] >= d0) & (wd[w0:w1] < d1)  # walk-only trips of these origins and destinations
            if inb.any():
                direct = np.full((o1 - o0, nd), np.inf)
                direct[wo[w0:w1][inb] - o0, wd[w0:w1][inb] - d0] = wt[w0:w1][inb]
                np.minimum(T, direct[:, None, :], out=T)
            T[T > max_s] = np.inf
            reduce(slice(o0, o1), slice(d0, d1), T)


def _percentile_index(p: float, n: int) -> int:
    """R5's nearest-rank index: ceil(p/100 * n) - 1."""
    return max(0, int(math.ceil(p / 100.0 * n)) - 1)


def _attrs(graph: TransitGraph, taus, max_time_min, max_walk_m, extra: dict) -> dict:
    feed = graph.feed
    return {
        "feed": ", ".join(feed.sources), "date": feed.date.isoformat(),
        "departure": format_clock(taus[0]), "window_min": len(taus),
        "departure_minutes": f"{format_clock(taus[0])} to {format_clock(taus[-1])}, every minute",
        "max_time_min": float(max_time_min), "units": "minutes (exact seconds / 60, not truncated)",
        "unreachable": f"NaN: fewer departure minutes than the percentile needs reach it within {max_time_min:g} min",
        "walk_kmh": graph.walk_kmh, "walking": ("street graph, shortest path + snap distances" if graph.street is not None
                                                else f"crow-fly x circuity {graph.circuity}"),
        "max_walk_m": float(max_walk_m), "transfer_max_m": graph.transfer_max_m, "min_transfer_s": graph.min_transfer_s,
        "max_transfers": graph.max_transfers,
        "method": "time-expanded graph, one reverse Dijkstra per destination (scipy.sparse.csgraph), exact",
        "assumptions": "transfers.txt and block_id not used; percentile by nearest rank over departure minutes, "
                       "unreachable minutes count as infinite",
        **extra,
    }


def _setup(feed, origins, destinations, id_col, departure, window_min, max_time_min, max_walk_m, percentiles, walk):
    graph = prepare_transit(feed, **walk)
    taus, max_s = _check_query(graph, departure, window_min, max_time_min, max_walk_m, percentiles)
    if isinstance(id_col, (tuple, list)):
        if len(id_col) != 2:
            raise ParameterError(f"id_col {id_col!r}: give one column name, or (origins column, destinations column)")
        o_col, d_col = id_col
    else:
        o_col = d_col = id_col
    oid, o_xy = _points(origins, "origins", o_col)
    did, d_xy = _points(destinations, "destinations", d_col)
    return graph, taus, max_s, oid, o_xy, did, d_xy


def transit_matrix(feed: TransitFeed, origins, destinations, *, departure: "str | int" = "08:00", window_min: int = 60,
                   percentile: float = 50, max_time_min: float = 90, walk_kmh: float = DEFAULTS["walk_kmh"],
                   circuity: float = DEFAULTS["circuity"], max_walk_m: float = DEFAULTS["max_walk_m"],
                   transfer_max_m: float = DEFAULTS["transfer_max_m"], min_transfer_s: float = DEFAULTS["min_transfer_s"],
                   max_transfers: int | None = DEFAULTS["max_transfers"], street_graph=None,
                   id_col: "str | tuple[str | None, str | None] | None" = None) -> pd.DataFrame:
    """Public-transport travel times in minutes, origins × destinations (see the module docstring).

    ``feed``: a :class:`~lisgeo.network.gtfs.TransitFeed`. ``origins``/``destinations``: point
    GeoDataFrames in any CRS (reprojected to EPSG:27700); ids from the column ``id_col`` (one name
    for both, or ``(origins column, destinations column)``, None meaning the index) or the index;
    ids must be unique.
    For every departure minute in ``[departure, departure + window_min)`` the earliest arrival
    (waiting at the origin counts; a walk-only trip counts), then the ``percentile`` over the
    minutes by nearest rank, minutes beyond ``max_time_min`` counting as infinite. NaN where the
    percentile is infinite. ``attrs`` record the feed, date, window and assumptions.
    """
    walk = dict(walk_kmh=walk_kmh, circuity=circuity, transfer_max_m=transfer_max_m, min_transfer_s=min_transfer_s,
                max_transfers=max_transfers, street_graph=street_graph)
    graph, taus, max_s, oid, o_xy, did, d_xy = _setup(feed, origins, destinations, id_col, departure, window_min,
                                                      max_time_min, max_walk_m, [percentile], walk)
    out = np.full((len(oid), len(did)), np.nan)
    k = _percentile_index(percentile, len(taus))

    def reduce(os_, ds_, T):
        v = np.partition(T, k, axis=1)[:, k, :]
        out[os_, ds_] = np.where(np.isfinite(v), v / 60.0, np.nan)

    _route(graph, o_xy, d_xy, taus, max_s, max_walk_m, reduce)
    df = pd.DataFrame(out, index=pd.Index(oid, name="from_id"), columns=pd.Index(did, name="to_id"))
    df.attrs.update(_attrs(graph, taus, max_time_min, max_walk_m, {"percentile": percentile}))
    return df


def transit_percentiles(feed: TransitFeed, origins, destinations, *, percentiles: Sequence[float] = (25, 50, 75),
                        departure: "str | int" = "08:00", window_min: int = 60, max_time_min: float = 90,
                        walk_kmh: float = DEFAULTS["walk_kmh"], circuity: float = DEFAULTS["circuity"],
                        max_walk_m: float = DEFAULTS["max_walk_m"], transfer_max_m: float = DEFAULTS["transfer_max_m"],
                        min_transfer_s: float = DEFAULTS["min_transfer_s"], max_transfers: int | None = DEFAULTS["max_transfers"],
                        street_graph=None, id_col: "str | tuple[str | None, str | None] | None" = None) -> pd.DataFrame:
    """Several percentiles at once, as a long frame like r5py's ``TravelTimeMatrix``: columns
    ``from_id``, ``to_id``, ``travel_time_p25``, ``travel_time_p50``, ... (minutes, NaN
    unreachable), one row per origin-destination pair (origins outer, in input order).
    Same options as :func:`transit_matrix`."""
    percentiles = list(percentiles)
    if not percentiles:
        raise ParameterError("percentiles is empty; give e.g. (25, 50, 75)")
    walk = dict(walk_kmh=walk_kmh, circuity=circuity, transfer_max_m=transfer_max_m, min_transfer_s=min_transfer_s,
                max_transfers=max_transfers, street_graph=street_graph)
    graph, taus, max_s, oid, o_xy, did, d_xy = _setup(feed, origins, destinations, id_col, departure, window_min,
                                                      max_time_min, max_walk_m, percentiles, walk)
    ks = [_percentile_index(p, len(taus)) for p in percentiles]
    out = np.full((len(oid), len(did), len(ks)), np.nan)

    def reduce(os_, ds_, T):
        v = np.sort(T, axis=1)[:, ks, :]  # o x P x d
        out[os_, ds_] = np.where(np.isfinite(v), v / 60.0, np.nan).transpose(0, 2, 1)

    _route(graph, o_xy, d_xy, taus, max_s, max_walk_m, reduce)
    names = [f"travel_time_p{p:g}" for p in percentiles]
    df = pd.DataFrame({"from_id": np.repeat(np.asarray(oid, dtype=object), len(did)),
                       "to_id": np.tile(np.asarray(did, dtype=object), len(oid)),
                       **{c: out[:, :, i].ravel() for i, c in enumerate(names)}})
    df.attrs.update(_attrs(graph, taus, max_time_min, max_walk_m, {"percentiles": tuple(percentiles)}))
    return df


def transit_times_by_minute(feed: TransitFeed, origins, destinations, *, departure: "str | int" = "08:00",
                            window_min: int = 60, max_time_min: float = 90, walk_kmh: float = DEFAULTS["walk_kmh"],
                            circuity: float = DEFAULTS["circuity"], max_walk_m: float = DEFAULTS["max_walk_m"],
                            transfer_max_m: float = DEFAULTS["transfer_max_m"],
                            min_transfer_s: float = DEFAULTS["min_transfer_s"],
                            max_transfers: int | None = DEFAULTS["max_transfers"], street_graph=None,
                            id_col: "str | tuple[str | None, str | None] | None" = None) -> pd.DataFrame:
    """The travel time (minutes, NaN beyond ``max_time_min``) for every departure minute: a
    frame indexed by (``from_id``, ``to_id``) with one column per minute (``"08:00"``, ...).
    Holds origins × destinations × minutes values: for large matrices use the percentiles."""
    walk = dict(walk_kmh=walk_kmh, circuity=circuity, transfer_max_m=transfer_max_m, min_transfer_s=min_transfer_s,
                max_transfers=max_transfers, street_graph=street_graph)
    graph, taus, max_s, oid, o_xy, did, d_xy = _setup(feed, origins, destinations, id_col, departure, window_min,
                                                      max_time_min, max_walk_m, [], walk)
    out = np.full((len(oid), len(did), len(taus)), np.nan)

    def reduce(os_, ds_, T):
        out[os_, ds_] = np.where(np.isfinite(T), T / 60.0, np.nan).transpose(0, 2, 1)

    _route(graph, o_xy, d_xy, taus, max_s, max_walk_m, reduce)
    idx = pd.MultiIndex.from_product([oid, did], names=["from_id", "to_id"])
    df = pd.DataFrame(out.reshape(len(oid) * len(did), len(taus)), index=idx, columns=[format_clock(t) for t in taus])
    df.attrs.update(_attrs(graph, taus, max_time_min, max_walk_m, {}))
    return df
