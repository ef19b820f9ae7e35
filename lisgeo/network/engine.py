"""The travel-time engine: origin-destination matrices on compiled code, equal to networkx's Dijkstra.

networkx is the model; this module converts the edges of one mode to a scipy CSR matrix once
(parallel edges collapse to the fastest) and answers matrices with
``scipy.sparse.csgraph.dijkstra`` or, for zone/site origins, with a *structured* method that
uses the shape of the model: terminals (zones, sites) hang off a core network (junctions,
stations) by a few access links and are joined to each other by local links.

Structured method (exact for any graph; terminals may be passed through, as local links allow):

1. Exits ``X[t, b]``: the fastest way from terminal t to a boundary core node b (local links,
   then one access link), by Dijkstra from every boundary node over the reversed local links;
   entries ``Y[b, t]`` likewise forwards. There are far fewer boundary nodes than zones.
2. ``H``: the core graph plus, for every pair of boundary nodes, a shortcut through the terminals
   (an entry, then an exit), so Dijkstra on ``H`` from the boundary nodes gives the true
   distances ``D_H`` between core nodes.
3. Exits and entries that are dominated (another boundary node plus the core distance is at
   least as fast) are dropped; a few remain per terminal.
4. ``via(o, d) = min_{b, b'} X[o, b] + D_H[b, b'] + Y[b', d]`` by vectorised min-plus products
   (numpy), and ``min_b X[o, b] + D_H[b, c]`` for core destinations c. Rows of ``D_H`` from
   entry-only boundary nodes are searched only as far as the largest entry time, which is all
   that pruning their entries can use.
5. Paths that never leave the terminals: a local-only path takes at least ``ratio`` × crow-fly
   km (the smallest minutes per km of any local link) and at least the landmark (ALT) bounds
   ``d(L, d) - d(L, o)`` and ``d(o, L) - d(d, L)`` for a few far-apart landmark zones L, so
   Dijkstra over the local links from each origin runs only as far as the largest ``via`` time
   that these bounds do not settle (and never beyond ``cutoff_min``); the answer is the minimum
   of the two.

Every step is a shortest-path identity, so the answers equal Dijkstra on the whole graph (tests
check this against networkx on random graphs and on the real region graph). ``method="auto"``
uses it for zone/site origins when the boundary has fewer nodes than half the origins (not of a
dense OSM street graph, where plain Dijkstra per origin is used) and no cut-off of at most
:data:`AUTO_BOUNDED_MAX_MIN` minutes bounds the searches (then plain Dijkstra stops early and
beats the precompute), or once the engine is prepared.

Engines are cached per graph object (:func:`build_engine`): rebuilt when the graph's node or
edge count changes or ``apply_edits`` is applied to it; a small graph's edge times are also
compared on each call, a large one's are not (pass ``refresh=True`` after changing times in place).

Modes (:data:`lisgeo.network.schema.MODE_EDGES`): ``car`` = edges of mode ``road``, ``local``,
``access_car`` and ``park_ride`` (driving to a station ends there); ``rail`` = ``rail``, ``hs2``,
``interchange``, ``concourse``, ``access_walk`` and ``park_ride``. Local zone-to-zone links are
*not* in ``rail`` (a rail time is a rail trip with walk or car access and walk egress); zones near
the same station still reach each other through it (access + egress, no train). ``transit``
(:func:`travel_time_matrix` only) routes by GTFS timetable when the graph carries a feed.

Origins and destinations are node ids (``"zone:E01013453"``, ``"site:ema"``), bare codes of zones,
sites or job destinations (``"E01013453"``, ``"ema"``), or a (Geo)DataFrame whose index or
``id_col`` holds such codes; the matrix is labelled the way they were given.
"""

from __future__ import annotations

import copy
import hashlib
import weakref
from collections import OrderedDict
from typing import Iterable

import networkx as nx
import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

from ..errors import NetworkError, ParameterError, UnknownNameError
from .schema import (MODE_EDGES, ROUTABLE_MODES, TERMINAL_KINDS, EdgeMode, NodeKind, NodeRole, TransportMode, has_role, node_code,
                     node_id, parse_mode)

__all__ = ["Engine", "build_engine", "travel_time_matrix", "reachability", "mode_edges", "forget_rows"]

#: ``method="auto"`` on an engine not yet prepared: with a cut-off of at most this many minutes,
#: plain Dijkstra per origin (each search stops at the cut-off) rather than the structured
#: precompute. Measured on the D2N2 graph (1,335 zones to 2,925 zones and job destinations, cold,
#: 2 cores): rail 60 min 0.29 s vs 1.51 s, 120 min 0.97 vs 1.70, 180 min 1.70 vs 1.67; car 60 min
#: 1.35 s vs 3.21 s, 120 min 1.86 vs 3.19 (benchmarks/README.md).
AUTO_BOUNDED_MAX_MIN = 120.0

#: Edge modes that only a trip's first leg may use, per travel mode: park and ride on a rail trip.
ORIGIN_ONLY_EDGES = {TransportMode.RAIL: frozenset({EdgeMode.PARK_RIDE})}
#: Suffix of the hidden twin node from which a terminal's first-leg-only edges leave (engine only).
ORIGIN_TWIN = "#first"
#: Travel modes in which a terminal (zone, site, job destination) is never passed through: every
#: link leaving it leaves from its twin (see :class:`Engine`).
TERMINAL_EXIT_MODES = frozenset({TransportMode.CAR})
#: The roles of the terminals.
TERMINAL_ROLES = (NodeRole.ZONE, NodeRole.SITE, NodeRole.DEST)

#: Roles a bare code is looked up in, in order (the terminals).
_CODE_ROLES = (NodeRole.ZONE, NodeRole.SITE, NodeRole.DEST)


def _edge_table(G: nx.MultiDiGraph) -> pd.DataFrame:
    """Every edge of ``G`` as a frame [u, v, mode, time_min], in ``G.edges`` order: one pass over
    the graph serves the engines of every mode."""
    adj = getattr(G, "_adj", None)
    if G.is_multigraph() and type(adj) is dict:  # the plain dicts: ~3x faster than the edge view
        us, vs, ds = [], [], []
        for u, nbrs in adj.items():
            for v, kd in nbrs.items():
                for d in kd.values():
                    us.append(u)
                    vs.append(v)
                    ds.append(d)
    else:
        us, vs, ds = [], [], []
        for u, v, d in G.edges(data=True):
            us.append(u)
            vs.append(v)
            ds.append(d)

    def column(values: list) -> np.ndarray:
        out = np.empty(len(values), dtype=object)
        out[:] = values
        return out

    return pd.DataFrame({"u": column(us), "v": column(vs), "mode": column([d.get("mode") for d in ds]),
                         "time_min": column([d.get("time_min") for d in ds])}, dtype=object)  # no str inference


def _mode_frame(table: pd.DataFrame, mode: TransportMode | str) -> pd.DataFrame:
    allowed = MODE_EDGES[parse_mode(mode)]
    keep = table["mode"].isin(list(allowed)).to_numpy()
    return table.loc[keep, ["u", "v", "time_min", "mode"]].reset_index(drop=True)


def mode_edges(G: nx.MultiDiGraph, mode: TransportMode | str, *, _table: pd.DataFrame | None = None) -> pd.DataFrame:
    """Edges of travel ``mode`` as a frame [u, v, time_min, mode] (parallel edges kept; ``mode`` is the edge mode)."""
    df = _mode_frame(_edge_table(G) if _table is None else _table, mode)
    t = np.array([np.nan if x is None else x for x in df["time_min"].to_numpy()], dtype="float64")
    df["time_min"] = t
    bad = ~np.isfinite(t) | (t < 0)
    if bad.any():
        ex = df.loc[bad, ["u", "v"]].head(5).values.tolist()
        raise NetworkError(f"{int(bad.sum())} {mode} edge(s) have NaN, missing or negative time_min, e.g. {ex}; fix the graph")
    return df


def _csr(u: np.ndarray, v: np.ndarray, w: np.ndarray, n: int) -> sp.csr_array:
    """CSR with the minimum weight per (u, v); explicit zeros kept as edges."""
    if len(u) == 0:
        return sp.csr_array((np.array([], dtype="float64"), np.array([], dtype=np.int32), np.zeros(n + 1, dtype=np.int32)), shape=(n, n))
    order = np.lexsort((w, np.asarray(u, dtype=np.int64) * np.int64(n) + v))  # by (u, v), then weight
    u, v, w = u[order], v[order], w[order]
    first = np.ones(len(u), dtype=bool)
    first[1:] = (u[1:] != u[:-1]) | (v[1:] != v[:-1])
    u, v, w = u[first], v[first], w[first]
    indptr = np.r_[0, np.cumsum(np.bincount(u, minlength=n))].astype(np.int64)
    return sp.csr_array((w.astype("float64"), v.astype(np.int32), indptr), shape=(n, n))


def _minplus_rows(vals: np.ndarray, groups: np.ndarray, n_groups: int, axis: int = 0) -> np.ndarray:
    """Min of ``vals`` slices that share a group label (labels sorted ascending), as a dense array
    with ``n_groups`` slices along ``axis`` (inf where a group is empty)."""
    shape = list(vals.shape)
    shape[axis] = n_groups
    out = np.full(shape, np.inf)
    if len(groups) == 0:
        return out
    starts = np.flatnonzero(np.r_[True, groups[1:] != groups[:-1]])
    red = np.minimum.reduceat(vals, starts, axis=axis)
    idx = groups[starts]
    if axis == 0:
        out[idx] = red
    else:
        out[:, idx] = red
    return out


#: Forward searches of :meth:`Engine._plain` already made, by what decides them
#: (:func:`_rows_digest`): a scenario that adds to a base network without touching a mode's links
#: (an HS2 scheme and the car: its new stations are sinks, which no car trip passes through) gets
#: that mode's rows back instead of searching again. Kept in this process (the last few).
_ROWS: "OrderedDict[str, np.ndarray | tuple[np.ndarray, np.ndarray]]" = OrderedDict()
_ROWS_KEPT = 4


def forget_rows() -> None:
    """Drop the searches kept in this process (:data:`_ROWS`: the last few matrices of
    :meth:`Engine._plain`, up to 100 MB each for a region's zones by car), with the networks they
    were made on (:func:`lisgeo.network.graph.forget_builds`)."""
    _ROWS.clear()


def _rows_digest(csr: sp.csr_array, src: np.ndarray, twins: np.ndarray, cols: np.ndarray, limit: float) -> str:
    """What decides the forward search rows ``src`` (with their ``twins``) of ``csr`` at ``cols``
    within ``limit``: the graph's arrays up to its last node with a link, a source or a column
    (nodes beyond have no link at all, so a network with nodes added at the end that no path of
    this mode passes through has the same digest), the positions and the cut-off."""
    n_rows = int(np.flatnonzero(np.diff(csr.indptr))[-1]) + 1 if csr.nnz else 0
    m = max([n_rows, int(csr.indices.max()) + 1 if csr.nnz else 0]
            + [int(a.max()) + 1 for a in (src, twins, cols) if len(a)])
    h = hashlib.blake2b(digest_size=20)
    for arr in (csr.indptr[:m + 1], csr.indices, csr.data, src, twins, cols):
        a = np.ascontiguousarray(arr, dtype="float64" if arr is csr.data else np.int64)
        h.update(len(a).to_bytes(8, "little"))
        h.update(a.tobytes())
    h.update(repr(float(limit)).encode())
    return h.hexdigest()


def _rows_found(digest: str, shape: tuple[int, int]) -> np.ndarray | None:
    hit = _ROWS.get(digest)
    if isinstance(hit, tuple):  # kept by this process: (the matrix the rows were written into, their columns)
        hit = hit[0][:, hit[1]] if (len(hit[0]), len(hit[1])) == shape else None
    if hit is None or hit.shape != shape or hit.dtype != np.float64:
        return None
    _ROWS[digest] = hit
    _ROWS.move_to_end(digest)
    return hit


def _rows_made(digest: str, out: np.ndarray, cols: np.ndarray) -> None:
    """Keep the rows just searched: columns ``cols`` of ``out`` (a matrix of :meth:`Engine._plain`,
    which nothing changes at those columns once they are written: kept by reference, not copied,
    since most runs never reuse them)."""
    _ROWS[digest] = (out, cols)
    _ROWS.move_to_end(digest)
    while len(_ROWS) > _ROWS_KEPT:
        _ROWS.popitem(last=False)


#: Values (float64) in one block of :meth:`Engine._plain`'s Dijkstra rows: 16 MB, which the allocator
#: reuses from block to block. Blocks of 160 MB were fresh memory each time (page faults and the fill
#: with inf): D2N2's rail jobs matrix (1,335 zones and their twins over 11,000 nodes, 60-minute
#: cut-off) took 0.5-0.75 s, now 0.3 s; the car matrix, bound by the searches, is the same.
_BLOCK_VALUES = 2_000_000


class Engine:
    """Shortest travel times on one mode of a graph (see the module docstring).

    ``engine = build_engine(G, mode="car")``; ``engine.matrix(origins, destinations, cutoff_min=60)``.
    The engine is a snapshot of ``G``: :func:`build_engine` says when its cached engine is rebuilt.
    """

    def __init__(self, G: nx.MultiDiGraph, mode: TransportMode | str = "car", *, edges: pd.DataFrame | None = None):
        self.mode = parse_mode(mode)
        self.graph_info = {k: G.graph.get(k) for k in ("region", "scenario", "hs2_scheme")}
        e = mode_edges(G, mode, _table=edges)
        # the engine holds only the nodes this mode can use (its edges' ends, plus every zone and site):
        # the car engine never scans the tens of thousands of rail service nodes, nor pt the road junctions
        used = set(e["u"]).union(e["v"])
        self._graph_nodes = set(G.nodes)
        self._zones = [n for n, k in G.nodes(data="kind") if k == NodeKind.ZONE]
        self.nodes: list[str] = [n for n, k in G.nodes(data="kind") if n in used or k in TERMINAL_KINDS]
        kinds = [G.nodes[n].get("kind", "") for n in self.nodes]
        xy = [(G.nodes[n].get("x", np.nan), G.nodes[n].get("y", np.nan)) for n in self.nodes]
        # Park and ride is a first leg only: on a rail trip the car waits at the first station, so a
        # traveller who walks out of a train into a zone cannot drive on from it. Each terminal's
        # park-and-ride links leave from a hidden twin of it (``<node>{ORIGIN_TWIN}``) that nothing
        # enters; an origin's times are the minimum over the terminal and its twin (a search from
        # both), so every method, the structured one included, gives the same answer.
        #
        # By car, a terminal is not a through route either: its access links are the streets of one
        # place, not a shortcut between two junctions (as zone connectors of transport models). So
        # every link *leaving* a terminal leaves from its twin, and a trip can end at a terminal but
        # never pass through it: the times from a place then do not depend on which other places are
        # in the network (a region's scores equal a larger run's, see lisgeo.pipeline.blocks).
        self.twin = np.array([], dtype=np.int64)
        if self.mode in ORIGIN_ONLY_EDGES or self.mode in TERMINAL_EXIT_MODES:
            if self.mode in TERMINAL_EXIT_MODES:
                first = has_role(e["u"].to_numpy(), *TERMINAL_ROLES)
            else:
                first = e["mode"].isin(ORIGIN_ONLY_EDGES[self.mode]).to_numpy()
            owners = list(dict.fromkeys(e.loc[first, "u"]))
            twins = [f"{n}{ORIGIN_TWIN}" for n in owners]
            e = e.copy()
            e.loc[first, "u"] = e.loc[first, "u"] + ORIGIN_TWIN
            # each twin right after its terminal: a node the graph gains later (an HS2 station) then
            # moves no node already there, and searches made before can be used again (_ROWS)
            has_twin = set(owners)
            nodes, k2, xy2 = [], [], []
            for n, k, p in zip(self.nodes, kinds, xy):
                nodes.append(n); k2.append(k); xy2.append(p)
                if n in has_twin:
                    nodes.append(f"{n}{ORIGIN_TWIN}"); k2.append(k); xy2.append(p)
            self.nodes, kinds, xy = nodes, k2, xy2
        self.index = pd.Index(self.nodes)
        if not self.index.is_unique:
            raise NetworkError("graph node ids are not unique")
        if self.mode in ORIGIN_ONLY_EDGES or self.mode in TERMINAL_EXIT_MODES:
            self.twin = np.full(len(self.nodes), -1, dtype=np.int64)
            self.twin[self.index.get_indexer(owners)] = self.index.get_indexer(twins)
        self.is_terminal = np.isin(np.array(kinds, dtype=object), TERMINAL_KINDS)
        self.xy = np.array(xy, dtype="float64").reshape(-1, 2)
        self.n_edges = len(e)
        u = self.index.get_indexer(e["u"])
        v = self.index.get_indexer(e["v"])
        w = e["time_min"].to_numpy(dtype="float64")
        self._u, self._v, self._w = u, v, w
        self.csr = _csr(u, v, w, len(self.nodes))
        self._prep = None
        self._sinks = None  # (is_sink, reduced CSR) or False: see _sink_split
        self._rev = None
        self.n_landmarks = 6

    # ----------------------------------------------------------------- entry
    def _ids(self, ids, what: str, id_col: str | None = None) -> tuple[list[str], np.ndarray, list]:
        """(node ids, engine positions, labels) of origins or destinations given as node ids, codes
        or a frame (see the module docstring); -1 marks nodes of the graph off this mode's network."""
        if ids is None:
            nodes = list(self._zones)
            labels = [node_code(n) for n in nodes]
        else:
            if isinstance(ids, pd.DataFrame):
                if id_col is not None and id_col not in ids.columns:
                    raise UnknownNameError(f"{what} id column", id_col, list(ids.columns))
                ids = ids[id_col] if id_col is not None else ids.index
            elif isinstance(ids, str):
                ids = [ids]
            labels = [str(i) for i in ids]
            nodes = []
            for i in labels:
                if i in self._graph_nodes:
                    nodes.append(i)
                    continue
                hit = next((c for c in (node_id(r, i) for r in _CODE_ROLES) if c in self._graph_nodes), None)
                nodes.append(hit if hit is not None else i)
        idx = self.index.get_indexer(nodes)
        bad = [i for i, j in zip(nodes, idx) if j < 0 and i not in self._graph_nodes]
        if bad:
            raise UnknownNameError(f"{what} node", bad[0], [n for n in self.nodes if not has_role([n], NodeRole.ARRIVAL)[0]][:40],
                                   f"{len(bad)} {what}(s) are not in the graph; give zone codes ('E01013453'), site ids ('hs2_toton') or node ids ('rail:NOT').")
        return nodes, idx, labels

    def nearest_times(self, origins: Iterable[str] | str | pd.DataFrame | None = None,
                      destinations: Iterable[str] | str | pd.DataFrame | None = None) -> pd.Series:
        """Minutes from each origin to its nearest destination (NaN when none is reachable), by one
        search backwards from all the destinations at once. Equal to the row minimum of
        :meth:`matrix` (every search adds the same link times in the same order; a minimum over
        sources commutes with adding a link's time), e.g. a bound for a matrix that only its rows'
        nearest columns are taken from."""
        _, o, o_ids = self._ids(origins, "origin")
        _, d, _ = self._ids(destinations, "destination")
        d = np.unique(d[d >= 0])
        out = np.full(len(o), np.inf)
        if len(d):
            dist = dijkstra(self._reversed(), directed=True, indices=d, min_only=True)
            on = o >= 0
            out[on] = dist[o[on]]
            tw = self.twin[o[on]] if len(self.twin) else np.array([], dtype=np.int64)
            if len(tw) and (tw >= 0).any():  # an origin's park-and-ride twin (see ORIGIN_ONLY_EDGES)
                at = np.flatnonzero(on)[tw >= 0]
                out[at] = np.fmin(out[at], dist[tw[tw >= 0]])
        return pd.Series(np.where(np.isfinite(out), out, np.nan), index=pd.Index(o_ids, name="origin"), name="nearest_min")

    def distances(self, sources: np.ndarray, *, limit: float = np.inf) -> np.ndarray:
        """Plain scipy Dijkstra rows (minutes) from node indices ``sources`` to every node (a
        terminal's row includes its first-leg-only links: see :data:`ORIGIN_ONLY_EDGES`)."""
        src = np.asarray(sources, dtype=np.int64)
        out = dijkstra(self.csr, directed=True, indices=src, limit=limit)
        return self._with_twins(src, out, lambda t: dijkstra(self.csr, directed=True, indices=t, limit=limit))

    def _reversed(self) -> sp.csr_array:
        """The reversed graph's CSR (made once)."""
        if self._rev is None:
            self._rev = self.csr.T.tocsr()
        return self._rev

    def _sink_split(self) -> tuple[np.ndarray, sp.csr_array] | None:
        """(is_sink, CSR without the links into sinks), or None when those links are few.

        A sink is a node that this mode can enter but not leave: by car, the stations (driving to a
        station ends there; about 120,000 park-and-ride links into them in the D2N2 graph, more than
        half the car edges). No shortest path passes through a sink, so a search for every other
        node may skip the links into them; a sink's own times come from a search backwards from it.
        Terminals, never left by car either (their links leave from their twins), are not counted:
        a matrix's destinations are mostly terminals, and their columns come from the forward searches."""
        if self._sinks is None:
            out_deg = np.diff(self.csr.indptr)
            in_deg = np.bincount(self.csr.indices, minlength=len(self.nodes))
            is_sink = (out_deg == 0) & (in_deg > 0) & ~self.is_terminal
            into = is_sink[self.csr.indices]
            if into.sum() < 0.25 * max(1, self.csr.nnz):
                self._sinks = False
            else:
                keep = ~into
                rows = np.repeat(np.arange(len(self.nodes)), out_deg)[keep]
                reduced = sp.csr_array((self.csr.data[keep], (rows, self.csr.indices[keep])), shape=self.csr.shape)
                self._sinks = (is_sink, reduced)
        return self._sinks or None

    def _plain(self, o: np.ndarray, d: np.ndarray, *, limit: float) -> np.ndarray:
        """Plain scipy Dijkstra from origins ``o`` to destinations ``d``, rows in blocks of at most
        :data:`_BLOCK_VALUES` values (16 MB). When links into sinks are many (see :meth:`_sink_split`) and fewer destinations
        are sinks than there are origins, the forward searches skip those links and each sink's
        column comes from one search backwards from it (D2N2 by car: 1,335 zones to 311 stations
        among 4,400 destinations, about 1.6 s instead of 2.2 s; the same times up to the order of the
        additions, ~1e-15 min)."""
        out = np.empty((len(o), len(d)))
        split = self._sink_split()
        sink_d = split[0][d] if split is not None else np.zeros(len(d), dtype=bool)
        if split is None or int(sink_d.sum()) >= len(o):
            csr, fwd = self.csr, np.arange(len(d))
        else:
            csr, fwd = split[1], np.flatnonzero(~sink_d)
        twins = len(self.twin) > 0
        step = max(1, _BLOCK_VALUES // max(1, len(self.nodes) * (2 if twins else 1)))
        cols = d[fwd]
        digest = _rows_digest(csr, o, self.twin[o] if twins else np.array([], dtype=np.int64), cols, limit)
        found = _rows_found(digest, (len(o), len(cols)))
        if found is not None:
            out[:, fwd] = found
        else:
            for s in range(0, len(o), step):
                src = o[s:s + step]
                # an origin's twin (first-leg-only links) searched in the same call; the minimum
                # taken over the wanted columns only
                tw = self.twin[src] if twins else np.array([], dtype=np.int64)
                has = np.flatnonzero(tw >= 0)
                rows = dijkstra(csr, directed=True, indices=np.r_[src, tw[has]], limit=limit)
                block = rows[:len(src)][:, cols]
                if len(has):
                    block[has] = np.fmin(block[has], rows[len(src):][:, cols])
                out[s:s + step, fwd] = block
            _rows_made(digest, out, fwd)
        if len(fwd) < len(d):
            back = np.flatnonzero(sink_d)
            out[:, back] = self._backwards(o, d[back], limit=limit)
        return out

    def _backwards(self, o: np.ndarray, d: np.ndarray, *, limit: float) -> np.ndarray:
        """Times from origins ``o`` to destinations ``d`` by one search per destination on the
        reversed graph (an origin's twin included, see :data:`ORIGIN_ONLY_EDGES`)."""
        rev = dijkstra(self._reversed(), directed=True, indices=np.asarray(d, dtype=np.int64), limit=limit)
        return self._with_twins(o, np.array(rev[:, o].T), lambda t: rev[:, t].T)

    def _with_twins(self, src: np.ndarray, out: np.ndarray, rows) -> np.ndarray:
        """``out`` (rows from ``src``) with each row that has a twin replaced by the minimum of it
        and the twin's row ``rows(twin indices)``."""
        if not len(self.twin) or not len(src):
            return out
        tw = self.twin[src]
        has = np.flatnonzero(tw >= 0)
        if len(has):
            out = out.copy() if not out.flags.writeable else out
            out[has] = np.fmin(out[has], rows(tw[has]))
        return out

    def matrix(self, origins: Iterable[str] | str | pd.DataFrame | None = None,
               destinations: Iterable[str] | str | pd.DataFrame | None = None, *,
               cutoff_min: float | None = None, method: str = "auto", id_col: str | None = None) -> pd.DataFrame:
        """Shortest times (minutes) from ``origins`` to ``destinations`` (node ids, codes or frames,
        see the module docstring; None = all zones, labelled by their codes).

        Unreachable pairs, and pairs slower than ``cutoff_min``, are NaN (use :func:`reachability`
        for the flag). ``method``: ``"structured"`` (zone/site origins only), ``"dijkstra"``
        (scipy per origin), ``"reverse"`` (scipy per destination on the reversed graph) or
        ``"auto"`` (reverse when the destinations are under a quarter of the origins; else, on an
        engine not yet prepared, plain Dijkstra when a cut-off of at most
        :data:`AUTO_BOUNDED_MAX_MIN` bounds the searches or when the structure does not pay;
        else structured when every origin is a terminal). Every method gives the same times.
        """
        o_nodes, o, o_ids = self._ids(origins, "origin", id_col)
        d_nodes, d, d_ids = self._ids(destinations, "destination", id_col)
        if (o < 0).any() or (d < 0).any():  # some nodes are off this mode's network: NaN rows/columns
            df = pd.DataFrame(np.nan, index=pd.Index(o_ids, name="origin"), columns=pd.Index(d_ids, name="destination"))
            oi, di = np.flatnonzero(o >= 0), np.flatnonzero(d >= 0)
            if len(oi) and len(di):
                sub = self.matrix([o_nodes[i] for i in oi], [d_nodes[i] for i in di], cutoff_min=cutoff_min, method=method)
                df.iloc[oi, di] = sub.to_numpy()
            df.attrs.update({"units": "minutes", "mode": self.mode.value, "cutoff_min": cutoff_min, **self.graph_info})
            return df
        if cutoff_min is not None and not (np.isfinite(cutoff_min) and cutoff_min > 0):
            raise ParameterError(f"cutoff_min must be a positive number of minutes, got {cutoff_min!r}")
        if method not in ("auto", "structured", "dijkstra", "reverse"):
            raise UnknownNameError("method", method, ["auto", "structured", "dijkstra", "reverse"])
        limit = np.inf if cutoff_min is None else float(cutoff_min)
        if method == "auto" and 4 * len(d) < len(o):
            method = "reverse"  # a few destinations (e.g. London's termini): search backwards from them
        if method == "reverse":
            out = self._backwards(o, d, limit=limit)
            out = np.where(np.isfinite(out) & (out <= limit), out, np.nan)
            df = pd.DataFrame(out, index=pd.Index(o_ids, name="origin"), columns=pd.Index(d_ids, name="destination"))
            df.attrs.update({"units": "minutes", "mode": self.mode.value, "cutoff_min": cutoff_min, **self.graph_info})
            return df
        structured_ok = bool(self.is_terminal[o].all())
        if method == "auto" and structured_ok and self._prep is None and (
                (cutoff_min is not None and limit <= AUTO_BOUNDED_MAX_MIN) or not self._structure_pays(len(o))):
            method = "dijkstra"  # a bounded search per origin beats the precompute (see AUTO_BOUNDED_MAX_MIN)
        if method == "structured" and not structured_ok:
            raise ParameterError("method='structured' needs zone or site origins; use method='dijkstra'")
        if method == "dijkstra" or not structured_ok or not len(o):
            out = self._plain(o, d, limit=limit)
        else:
            out = self._structured(o, d, limit=limit)
            out = self._with_twins(o, out, lambda t: self._structured(t, d, limit=limit))
        out = np.where(np.isfinite(out) & (out <= limit), out, np.nan)
        df = pd.DataFrame(out, index=pd.Index(o_ids, name="origin"), columns=pd.Index(d_ids, name="destination"))
        df.attrs.update({"units": "minutes", "mode": self.mode.value, "cutoff_min": cutoff_min, **self.graph_info})
        return df

    # ------------------------------------------------------------ structured
    def _structure_pays(self, n_origins: int) -> bool:
        """The precompute runs one Dijkstra per boundary node (core nodes next to a zone/site):
        worth it when they are fewer than the origins (strategic networks), not on dense street
        graphs where every zone has its own nearest nodes."""
        tu, tv = self.is_terminal[self._u], self.is_terminal[self._v]
        n_boundary = len(np.unique(np.r_[self._v[tu & ~tv], self._u[~tu & tv]]))
        if not (tu & tv).any():
            # no local links (rail): exits and entries are single links, the precompute is one
            # Dijkstra per boundary node over the core only. D2N2 rail, 866 boundary nodes for
            # 1,335 zones: structured 2.4 s cold, plain Dijkstra 3.3 s (benchmarks/README.md)
            return n_boundary < n_origins
        return n_boundary < 0.5 * n_origins

    def prepare(self) -> "Engine":
        """Precompute the structured tables (done once, on first use)."""
        if self._prep is not None:
            return self
        n = len(self.nodes)
        T = np.flatnonzero(self.is_terminal)
        C = np.flatnonzero(~self.is_terminal)
        tpos = np.full(n, -1)
        tpos[T] = np.arange(len(T))
        cpos = np.full(n, -1)
        cpos[C] = np.arange(len(C))
        u, v, w = self._u, self._v, self._w
        tu, tv = self.is_terminal[u], self.is_terminal[v]
        # 1. local (terminal-only) links, and a lower bound on their time per km of crow-fly
        m = tu & tv
        LT = _csr(tpos[u[m]], tpos[v[m]], w[m], len(T))
        xy = self.xy
        crow = np.hypot(*(xy[u[m]] - xy[v[m]]).T) / 1000.0 if m.any() else np.array([])
        ok = np.isfinite(crow) & (crow > 0)
        ratio = float(np.min(w[m][ok] / crow[ok])) if ok.any() and np.isfinite(crow).all() else 0.0
        # landmarks for a tighter lower bound on local-only times (ALT: triangle inequality)
        lmk_f = lmk_b = np.empty((0, len(T)))
        if LT.nnz and np.isfinite(xy[T]).all():
            txy = xy[T]
            L = [0]
            dmin = np.hypot(*(txy - txy[0]).T)
            for _ in range(min(self.n_landmarks, len(T)) - 1):
                j = int(np.argmax(dmin))
                L.append(j)
                dmin = np.minimum(dmin, np.hypot(*(txy - txy[j]).T))
            lmk_f = dijkstra(LT, directed=True, indices=L)  # d(L, x)
            lmk_b = dijkstra(LT.T.tocsr(), directed=True, indices=L)  # d(x, L)
        # 2. exits X[t, b] (terminal -> boundary core node leaving the terminals once) and entries
        #    Y[b, t], each by Dijkstra from the boundary nodes over the local links (reversed for X)
        mo = tu & ~tv
        ot, ob, ow = tpos[u[mo]], cpos[v[mo]], w[mo]
        mi = ~tu & tv
        ib, it, iw = cpos[u[mi]], tpos[v[mi]], w[mi]
        B_out, ob_k = np.unique(ob, return_inverse=True)
        B_in, ib_k = np.unique(ib, return_inverse=True)
        nT = len(T)
        lu, lv, lw = tpos[u[m]], tpos[v[m]], w[m]
        if len(B_out):
            R = _csr(np.r_[lv, nT + ob_k], np.r_[lu, ot], np.r_[lw, ow], nT + len(B_out))  # reversed
            X = np.ascontiguousarray(dijkstra(R, directed=True, indices=nT + np.arange(len(B_out)))[:, :nT].T)
        else:
            X = np.full((nT, 0), np.inf)
        if len(B_in):
            F = _csr(np.r_[lu, nT + ib_k], np.r_[lv, it], np.r_[lw, iw], nT + len(B_in))
            Y = dijkstra(F, directed=True, indices=nT + np.arange(len(B_in)))[:, :nT]
        else:
            Y = np.full((0, nT), np.inf)
        i_ord = np.argsort(ib_k, kind="stable")
        # 3. core graph + shortcuts through the terminals (enter at b_in, leave at b_out)
        S = _minplus_rows(X[it[i_ord], :] + iw[i_ord, None], ib_k[i_ord], len(B_in), axis=0)  # |B_in| x |B_out|
        si, so = np.nonzero(np.isfinite(S))
        su, sv, sw = B_in[si], B_out[so], S[si, so]
        keep = su != sv
        mc = ~tu & ~tv
        H = _csr(np.r_[cpos[u[mc]], su[keep]], np.r_[cpos[v[mc]], sv[keep]], np.r_[w[mc], sw[keep]], len(C))
        B = np.union1d(B_out, B_in)
        bpos = np.full(len(C), -1)
        bpos[B] = np.arange(len(B))
        # D_H: boundary rows x every core column; rows from entry-only boundary nodes only as far
        # as the pruning of entries can use (the largest entry time)
        kcols = np.arange(len(C), dtype=np.int64)
        kpos = kcols
        D_H = np.full((len(B), len(kcols)), np.inf)
        full = np.isin(B, B_out)
        fin = Y[np.isfinite(Y)]
        ymax = float(fin.max()) if fin.size else 0.0
        for rows, lim in ((np.flatnonzero(full), np.inf), (np.flatnonzero(~full), ymax)):
            for s in range(0, len(rows), 32):
                r = rows[s:s + 32]
                D_H[r] = dijkstra(H, directed=True, indices=B[r], limit=lim)[:, kcols]
        # 4. prune dominated exits and entries
        Xs = self._prune(X, D_H[bpos[B_out]][:, kpos[B_out]], B_out, rows=True)
        Ys = self._prune(Y.T, D_H[bpos[B_in]][:, kpos[B_in]].T, B_in, rows=True)  # on the transpose: entries per terminal
        self._prep = dict(T=T, C=C, tpos=tpos, cpos=cpos, LT=LT, ratio=ratio, B_out=B_out, B_in=B_in, D_H=D_H,
                          bpos=bpos, kpos=kpos, H=H, Xs=Xs, Ys=Ys, lmk_f=lmk_f, lmk_b=lmk_b)
        return self

    def _core_columns(self, c: np.ndarray) -> np.ndarray:
        """Core distances from every exit node B_out to core nodes ``c`` (core positions): |B_out| x len(c)."""
        p = self._prep
        return p["D_H"][p["bpos"][p["B_out"]]][:, c]

    @staticmethod
    def _prune(X: np.ndarray, D: np.ndarray, labels: np.ndarray, rows: bool = True, m: int = 12):
        """Sparse (row, col, value), sorted by row, of the entries of X worth keeping.

        X[r, b] is dropped when another column b' of the row gets there no later:
        X[r, b'] + D[b', b] < X[r, b], or equal with b' < b (a strict order, so a dropped entry
        always leads to a kept one and no time changes). Only the ``m`` smallest entries of a
        row are tried as b' (keeping a few dominated entries is harmless)."""
        nr, nc = X.shape
        if nr == 0 or nc == 0:
            e = np.array([], dtype=np.int64)
            return e, e, np.array([], dtype="float64")
        m = min(m, nc)
        cand = np.argpartition(X, m - 1, axis=1)[:, :m] if m < nc else np.tile(np.arange(nc), (nr, 1))
        alive = np.isfinite(X)
        step = max(1, int(2e6 // max(1, m * nc)))
        cols = np.arange(nc)
        for s in range(0, nr, step):
            xs = X[s:s + step]
            cs = cand[s:s + step]
            xv = np.take_along_axis(xs, cs, axis=1)  # rows x m
            via = xv[:, :, None] + D[cs]  # rows x m x nc
            tgt = xs[:, None, :]
            dom = (via < tgt) | ((via == tgt) & (cs[:, :, None] < cols[None, None, :]))
            dom &= cs[:, :, None] != cols[None, None, :]
            alive[s:s + step] &= ~dom.any(axis=1)
        rr, cc = np.nonzero(alive)
        return rr, cc, X[rr, cc]

    def _local_min(self, ot: np.ndarray, dt: np.ndarray, via: np.ndarray, limit: float = np.inf) -> np.ndarray:
        """min(via, local-only time) for terminal origins ``ot`` x terminal destinations ``dt``.

        A local-only path from o to d takes at least ``ratio`` × crow-fly km (``ratio`` = the
        smallest minutes per crow-fly km of any local link, so by the triangle inequality), so
        Dijkstra over the local links from o only needs to run up to the largest via-core time
        among the destinations that this bound does not already settle: exact, and far cheaper
        than all local pairs.
        """
        p = self._prep
        LT, ratio, T = p["LT"], p["ratio"], p["T"]
        out = via.copy()
        self_pair = ot[:, None] == dt[None, :]
        out[self_pair] = 0.0
        if LT.nnz == 0:
            return out
        xy = self.xy
        lb = ratio * np.hypot(xy[T[ot]][:, None, 0] - xy[T[dt]][None, :, 0], xy[T[ot]][:, None, 1] - xy[T[dt]][None, :, 1]) / 1000.0
        lb = np.where(np.isfinite(lb), lb, 0.0)
        # landmark bounds: d(o,d) >= d(L,d) - d(L,o) and d(o,d) >= d(o,L) - d(d,L) (inf: unreachable)
        with np.errstate(invalid="ignore"):
            for f, b in zip(p["lmk_f"], p["lmk_b"]):
                b1 = f[dt][None, :] - f[ot][:, None]
                b2 = b[ot][:, None] - b[dt][None, :]
                lb = np.fmax(lb, np.fmax(b1, b2))
        cap = np.minimum(via, limit)  # beyond the cut-off nothing is reported, so nothing is needed
        need = (lb < cap) & ~self_pair
        lim = np.where(need, cap, -np.inf).max(axis=1)
        rows = np.flatnonzero(lim > -np.inf)
        if len(rows) == 0:
            return out
        order = rows[np.argsort(lim[rows])]
        step = 16
        for s in range(0, len(order), step):
            r = order[s:s + step]
            L = float(lim[r].max())
            Dl = dijkstra(LT, directed=True, indices=ot[r], limit=L)
            out[r] = np.minimum(out[r], Dl[:, dt])
        return out

    def _structured(self, o: np.ndarray, d: np.ndarray, chunk: int = 256, limit: float = np.inf) -> np.ndarray:
        self.prepare()
        p = self._prep
        tpos, cpos = p["tpos"], p["cpos"]
        B_in = p["B_in"]
        xr, xc, xv = p["Xs"]  # exits: origin terminal, B_out column, minutes (sorted by terminal)
        yr, yc, yv = p["Ys"]  # entries: destination terminal, B_in column, minutes (sorted by terminal)
        ot = tpos[o]
        dterm = self.is_terminal[d]
        dt, dc = tpos[d[dterm]], cpos[d[~dterm]]
        need = np.r_[B_in, dc].astype(np.int64)
        # entries of the destination terminals, grouped by destination position j
        yj, yk = _gather(yr, dt)
        ycol, yval = yc[yk], yv[yk]
        D_out = self._core_columns(need)  # |B_out| x (|B_in| + core destinations)
        out = np.full((len(o), len(d)), np.inf)
        ti, ci = np.flatnonzero(dterm), np.flatnonzero(~dterm)
        for s in range(0, len(o), chunk):
            oc = ot[s:s + chunk]
            xi, xk = _gather(xr, oc)
            if len(xi):
                W = _minplus_rows(D_out[xc[xk]] + xv[xk, None], xi, len(oc), axis=0)  # chunk x need
            else:
                W = np.full((len(oc), len(need)), np.inf)
            if len(dt):
                if len(yj):
                    via = _minplus_rows(W[:, ycol] + yval[None, :], yj, len(dt), axis=1)
                else:
                    via = np.full((len(oc), len(dt)), np.inf)
                out[s:s + chunk, ti] = self._local_min(oc, dt, via, limit=limit)
            if len(dc):
                out[s:s + chunk, ci] = W[:, len(B_in):]
        return out


def _gather(keys: np.ndarray, query: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For sorted ``keys`` and any ``query`` values: (query position, key index) of every match,
    grouped by query position in ascending order."""
    lo = np.searchsorted(keys, query, side="left")
    hi = np.searchsorted(keys, query, side="right")
    cnt = hi - lo
    if cnt.sum() == 0:
        e = np.array([], dtype=np.int64)
        return e, e
    qi = np.repeat(np.arange(len(query)), cnt)
    k = np.arange(cnt.sum()) - np.repeat(np.cumsum(cnt) - cnt, cnt) + np.repeat(lo, cnt)
    return qi, k


#: Per graph object: {"key": its version key, "edits": the ``G.graph["edits"]`` list seen,
#: "table": the edge table shared by the modes, mode: Engine}.
_ENGINES: "weakref.WeakKeyDictionary[nx.MultiDiGraph, dict]" = weakref.WeakKeyDictionary()

#: Graphs with at most this many edges have their edge times fingerprinted on every
#: :func:`build_engine` call (a few milliseconds), so in-place changes of times are seen; larger
#: graphs are not scanned (0.3 s per call on the region's 310,000 edges): see :func:`build_engine`.
FULL_CHECK_EDGES = 20_000


def _fingerprint(G: nx.MultiDiGraph) -> tuple:
    """Every edge's time, folded (position-weighted sum and NaN count): O(edges)."""
    t = [d.get("time_min") for *_, d in G.edges(data=True)]
    arr = np.asarray([np.nan if x is None else x for x in t], dtype="float64")
    return (float(np.nansum(arr * np.arange(1, len(arr) + 1) % 1e6)), int(np.isnan(arr).sum()))


def _count_edges(G: nx.MultiDiGraph) -> int:
    adj = getattr(G, "_adj", None)
    if G.is_multigraph() and type(adj) is dict:
        return sum(len(kd) for nbrs in adj.values() for kd in nbrs.values())  # ~5x faster than number_of_edges()
    return G.number_of_edges()


def _version_key(G: nx.MultiDiGraph) -> tuple:
    """What says a graph changed, cheaply: its node and edge counts (and, for small graphs, the
    fingerprint of its edge times)."""
    n_edges = _count_edges(G)
    return (G.number_of_nodes(), n_edges) + (_fingerprint(G) if n_edges <= FULL_CHECK_EDGES else ())


def build_engine(G: nx.MultiDiGraph, *, mode: TransportMode | str = "car", refresh: bool = False) -> Engine:
    """An :class:`Engine` for ``mode`` ("car" or "rail"), cached per graph object.

    The cached engine is rebuilt when ``G`` changes in a way seen cheaply: its number of nodes or
    edges, or :func:`~lisgeo.network.scenario.apply_edits` applied to it since (it replaces
    ``G.graph["edits"]``); graphs of at most :data:`FULL_CHECK_EDGES` edges also have every edge
    time compared. **Edits made directly to a large graph's edge attributes** (``G[u][v][k]["time_min"]
    = ...``, same nodes and edges) are not seen: pass ``refresh=True`` (here or to
    :func:`travel_time_matrix`) after such an edit, or make edits with ``apply_edits``.
    """
    mode = parse_mode(mode)
    entry = _ENGINES.get(G)
    # a frozen graph (build_network(copy=False)) cannot gain or lose nodes or edges: its key stands
    key = entry["key"] if entry is not None and nx.is_frozen(G) and not refresh else _version_key(G)
    edits = G.graph.get("edits")
    if entry is None or refresh or entry["key"] != key or entry["edits"] is not edits:
        entry = {"key": key, "edits": edits, "table": None}
        _ENGINES[G] = entry
    eng = entry.get(mode)
    if eng is None:
        shared = entry.get("shared")
        made = shared.setdefault("engines", {}) if shared is not None else {}
        if mode in made:  # another view of the same frozen build made it
            eng = copy.copy(made[mode])
            eng.graph_info = {k: G.graph.get(k) for k in ("region", "scenario", "hs2_scheme")}
        else:
            if entry["table"] is None:
                entry["table"] = _edge_table(G)
                if shared is not None:
                    shared["table"] = entry["table"]
            eng = made[mode] = Engine(G, mode, edges=entry["table"])
        entry[mode] = eng
    return eng


def seed_engines(G: nx.MultiDiGraph, table: pd.DataFrame | None = None, *, shared: dict | None = None) -> None:
    """Give ``G``'s engines the edge table already read from it (or from a graph with the very same
    edges, in the same order): ``build_network`` reads it once to check the build. ``shared``: a
    dict that every frozen view of one build (``build_network(copy=False)``, same nodes and edges)
    gets, where the table, the key and the engines made for one are found by the others (each view
    labels its matrices with its own ``G.graph``): a map's isochrones on the network that the scores
    used build no engine again (D2N2: 0.3 s by car, 0.4 s by rail)."""
    if shared is not None:
        table = shared.setdefault("table", table) if table is not None else shared.get("table")
    key = shared.get("key") if shared is not None else None
    if key is None:
        if table is not None:  # a table of another graph gives another key: build_engine then reads G afresh
            key = (G.number_of_nodes(), len(table)) + (_fingerprint(G) if len(table) <= FULL_CHECK_EDGES else ())
        else:
            key = _version_key(G)
        if shared is not None:
            shared["key"] = key
    _ENGINES[G] = {"key": key, "edits": G.graph.get("edits"), "table": table, "shared": shared}


def travel_time_matrix(G: nx.MultiDiGraph, origins: Iterable[str] | str | pd.DataFrame | None = None,
                       destinations: Iterable[str] | str | pd.DataFrame | None = None, *, mode: TransportMode | str = "car",
                       cutoff_min: float | None = None, method: str = "auto", id_col: str | None = None,
                       refresh: bool = False) -> pd.DataFrame:
    """Travel times in minutes (origins × destinations) by ``mode`` ("car" or "rail") on ``G``.

    ``origins``/``destinations``: zone codes (``"E01013453"``), site ids (``"hs2_toton"``), node ids
    (``"zone:E01013453"``, ``"rail:NOT"`` ...), or a (Geo)DataFrame whose index (or ``id_col``)
    holds such codes; None = every zone. The result is labelled as they were given. NaN where
    unreachable or slower than ``cutoff_min``; ``reachability(df)`` gives the boolean flag.
    Unknown ids raise :class:`~lisgeo.errors.UnknownNameError`. The engine is cached per graph
    (:func:`build_engine`); ``refresh=True`` rebuilds it after edge times of a large graph were
    changed in place.
    """
    if parse_mode(mode, allowed=(*ROUTABLE_MODES, TransportMode.TRANSIT)) is TransportMode.TRANSIT:
        return _transit_matrix(G, origins, destinations, cutoff_min=cutoff_min, id_col=id_col)
    return build_engine(G, mode=mode, refresh=refresh).matrix(origins, destinations, cutoff_min=cutoff_min, method=method,
                                                              id_col=id_col)


def _transit_matrix(G: nx.MultiDiGraph, origins, destinations, *, cutoff_min: float | None, id_col: str | None) -> pd.DataFrame:
    """``mode="transit"``: the timetable router on the graph's GTFS feed, between the nodes' points."""
    import geopandas as gpd

    from .transit import transit_matrix

    feed = G.graph.get("transit_feed")
    if feed is None:
        raise ParameterError("mode 'transit' needs a GTFS timetable: build the network with build_network(gtfs=[...], "
                             "gtfs_date=...) (lisgeo score --gtfs FILE --gtfs-date DATE); without one, use mode='rail'")
    eng = build_engine(G, mode="car")  # only to resolve ids the way every matrix does

    def points(ids):
        nodes, _, labels = eng._ids(ids, "point", id_col)
        missing = [n for n in nodes if n not in G]
        if missing:
            raise UnknownNameError("node", missing[0], [], "give zone codes, site ids or node ids of the graph")
        xy = [(G.nodes[n]["x"], G.nodes[n]["y"]) for n in nodes]
        return gpd.GeoDataFrame(index=pd.Index(labels), geometry=gpd.points_from_xy(*zip(*xy)) if xy else [],
                                crs=G.graph.get("crs", "EPSG:27700"))

    opts = G.graph.get("transit_options", {})
    o, d = points(origins), points(destinations)
    df = transit_matrix(feed, o[~o.index.duplicated()], d[~d.index.duplicated()], departure=opts.get("departure", "08:00"),
                        window_min=opts.get("window_min", 60), max_time_min=cutoff_min or 120)
    df = df.reindex(index=o.index, columns=d.index)
    df.index.name, df.columns.name = "origin", "destination"
    df.attrs.update({"units": "minutes", "mode": "transit", "cutoff_min": cutoff_min})
    return df


def reachability(times: pd.DataFrame) -> pd.DataFrame:
    """Boolean flag of the pairs with a time (False where NaN: unreachable or beyond the cut-off)."""
    return times.notna()
