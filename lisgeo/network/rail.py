"""GB rail as direct services between stations with frequency-based waits; HS2 by scenario; destination groups.

**Stations.** Every station has two nodes (:mod:`lisgeo.network.schema`): its street side (role
``station``: trips start there, access links from zones enter it) and its arrival side (role
``arrival``: trains arrive there, egress to zones leaves from it). Street → arrival (mode
``concourse``) costs 0, so the arrival side is "reached the station by any means"; arrival →
street (mode ``interchange``) costs ``pt.interchange_penalty_min``, the minimum time to change
trains.

**Services.** Each Aquius service pattern (an ordered list of calls with its weekday trains,
``load_rail_patterns``) serves every ordered pair of its calls. A pattern's *ride* from one call to
a later one is the sum of the running times of the links between consecutive calls and of the
dwells at the calls in between (:func:`pattern_rides`):

* a link's running time is the **timetabled** one wherever a timetable runs trains between the
  same two stations without a call between them (``segments``: the median over the schedules of
  an ATOC CIF timetable, :func:`lisgeo.network.cif.segment_times`; the other direction's where
  only that one runs); by default the national timetable sample of 20 March 2020
  (``rail_segments`` layer), or a planner's full national CIF (``build_network(cif=...)``);
* elsewhere it is **modelled** (:func:`run_time_min`): ``pt.stop_penalty_min`` + straight km /
  (``pt.run_kmh`` × (km / 10)^``pt.run_distance_exponent`` × the operator's ``run_factor``) ×
  60 (:func:`operator_factors`, ``layers/rail_operators.csv``: the line a pattern runs on, as far
  as its operator tells it): a continuous function of the distance between calls and the line,
  fitted on the timetabled segments of the sample with a fifth of the station pairs held out
  (:func:`lisgeo.pipeline.calibrate.calibrate_rail_segments`);
* a dwell is the station's mean timetabled dwell (``dwells``, :func:`lisgeo.network.cif.station_dwells`),
  else ``pt.dwell_min``.

One edge runs from the street side of X to the arrival side of Z for every pair (X, Z) that some
pattern serves (mode ``rail``). Its time is the expected time of the *common-lines* strategy
(Chriqui & Robillard 1975; the building block of Spiess & Florian's optimal strategies): a
traveller at X bound for Z boards the first train of an attractive set of patterns, so the
expected time is the wait for any train of the set (half the headway of their combined weekday
trains over ``pt.service_span_hours``, clipped to [``pt.min_wait_min``, ``pt.max_wait_min``],
plus ``pt.board_penalty_min``) plus the train-weighted mean ride of the set; patterns join the
set in order of ride while their ride is shorter than the set's expected time
(:func:`common_lines`). So the wait counts *all* the trains serving the journey, and a rare fast
train shortens it only as much as its share of the trains. Edges carry ``wait_min``, ``ride_min``
(the set's expected ride), ``fastest_min`` (the fastest pattern's ride), ``typical_min`` (the
train-weighted mean ride of all its patterns), ``daily_trains`` and ``n_patterns``. Staying on a train through a station is the direct edge; changing trains at Y is
arrival(Y) → street(Y) (the interchange penalty) and then a new edge with its own wait.

**HS2** (:func:`add_hs2`). An HS2 station at an existing station (within ``hs2.reuse_station_m``
of one of its ``connects_crs`` stations: Chesterfield, Sheffield, Nottingham, Derby, East Midlands
Parkway, Euston) *is* that station: HS2 trains leave its street side and arrive at its arrival
side. A new station (Toton, Curzon Street, Interchange, Old Oak Common, Leeds HS2) is a station of
its own (kind ``hs2``) joined to each of its ``connects_crs`` stations by a walk that costs the
interchange penalty plus the walk, both ways. Each published HS2 time becomes an edge each way
from the street side of one end to the arrival side of the other, costing the published time plus
the wait for an HS2 train (``hs2.trains_per_hour``; ``hs2.hub_classic_trains_per_hour`` for the
classic trains from the Toton hub). Every change at an HS2 station therefore pays the interchange
penalty and a new wait, as at any station.
"""

from __future__ import annotations

from typing import Iterable

import networkx as nx
import numpy as np
import pandas as pd

from ..assumptions import Assumptions
from ..errors import NetworkError, UnknownNameError
from .schema import EdgeMode, NodeKind, NodeRole, add_edge_list, add_edge_table, node_code, node_id, node_ids

__all__ = ["headway_wait_min", "run_time_min", "operator_factors", "common_lines", "rail_services", "add_rail", "add_hs2",
           "destination_nodes", "pattern_stops", "DESTINATION_GROUPS"]

DESTINATION_GROUPS = ("london", "birmingham", "leeds", "sheffield", "manchester", "nottingham", "derby", "leicester")


def _street(code: str) -> str:
    return node_id(NodeRole.STATION, code)


def _arrival(code: str) -> str:
    return node_id(NodeRole.ARRIVAL, code)


def headway_wait_min(daily_trains: np.ndarray | pd.Series | float, assumptions: Assumptions) -> np.ndarray:
    """Boarding wait (minutes) = headway / 2, headway = ``pt.service_span_hours`` × 60 / daily trains,
    clipped to [``pt.min_wait_min``, ``pt.max_wait_min``], plus ``pt.board_penalty_min``. NaN
    where there are no trains."""
    n = np.asarray(daily_trains, dtype="float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        w = assumptions["pt.service_span_hours"] * 60.0 / n / 2.0
    w = np.clip(w, assumptions["pt.min_wait_min"], assumptions["pt.max_wait_min"]) + assumptions["pt.board_penalty_min"]
    return np.where(np.isfinite(n) & (n > 0), w, np.nan)


def run_time_min(link_km: np.ndarray | float, assumptions: Assumptions, *, factor: np.ndarray | float = 1.0) -> np.ndarray:
    """Modelled running minutes between two consecutive calls ``link_km`` apart (straight line):
    ``pt.stop_penalty_min`` (slowing, stopping, pulling away) + ``link_km`` / v × 60, with the
    running speed v = ``pt.run_kmh`` × (``link_km`` / 10 km) ^ ``pt.run_distance_exponent``
    (trains reach their line speed on long links) × ``factor`` (the operator's line,
    :func:`operator_factors`). Fitted on timetabled GB segments
    (:func:`lisgeo.pipeline.calibrate.calibrate_rail_segments`)."""
    d = np.asarray(link_km, dtype="float64")
    v = assumptions["pt.run_kmh"] * np.power(np.maximum(d, 1e-3) / 10.0, assumptions["pt.run_distance_exponent"])
    v = v * np.asarray(factor, dtype="float64")
    return assumptions["pt.stop_penalty_min"] + d / v * 60.0


def operator_factors(patterns: pd.DataFrame, operators: pd.DataFrame | None = None) -> np.ndarray:
    """The running-speed factor of each pattern's modelled links: the mean ``run_factor`` of its
    operators (``operators`` column, ";"-joined Aquius names) in ``layers/rail_operators.csv``
    (:func:`lisgeo.layers.rail.read_rail_operators`); 1 for operators not in it or without the column."""
    if "operators" not in patterns.columns or not len(patterns):
        return np.ones(len(patterns))
    if operators is None:
        from ..layers.rail import read_rail_operators

        operators = read_rail_operators()
    table = dict(zip(operators["operator"].astype(str), operators["run_factor"].astype(float)))
    ops = patterns["operators"].to_numpy(dtype=object)
    out = np.ones(len(ops))
    for k, o in enumerate(ops):
        if isinstance(o, str) and o:
            f = [table.get(x.strip(), 1.0) for x in o.split(";") if x.strip()]
            if f:
                out[k] = float(np.mean(f))
    return out


def common_lines(rides: np.ndarray, trains: np.ndarray, assumptions: Assumptions) -> tuple[float, float, float, float, int, float]:
    """The common-lines strategy over the patterns serving one pair of stations.

    ``rides`` (minutes) and ``trains`` (weekday trains) per pattern. The attractive set is the
    prefix of the patterns sorted by ride with the least expected time (wait for any train of the
    set + train-weighted mean ride); without the wait's cap this is the exact optimum of the
    common-lines problem. Returns ``(expected time, wait, expected ride, daily trains of the set,
    patterns in it, fastest ride)``.
    """
    order = np.argsort(rides, kind="stable")
    r, f = np.asarray(rides, dtype="float64")[order], np.asarray(trains, dtype="float64")[order]
    F, FR = np.cumsum(f), np.cumsum(f * r)
    e = headway_wait_min(F, assumptions) + FR / F
    k = int(np.argmin(e))
    return float(e[k]), float(e[k] - FR[k] / F[k]), float(FR[k] / F[k]), float(F[k]), k + 1, float(r[0])


def pattern_stops(stops: "str | Iterable[str]") -> list[str]:
    """A pattern's calling stations as a list of upper-case CRS codes (``"NOT;LEI"`` or a sequence)."""
    seq = stops.split(";") if isinstance(stops, str) else list(stops)
    return [str(c).strip().upper() for c in seq if str(c).strip()]


_SERVICE_COLUMNS = ("from_crs", "to_crs", "time_min", "wait_min", "ride_min", "fastest_min", "typical_min", "daily_trains",
                    "n_patterns")


def _pattern_calls(stops: pd.Series, codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every pattern's calls at the stations ``codes`` (sorted upper-case CRS codes) as (station
    number, pattern number) arrays in calling order, as :func:`pattern_stops` reads each pattern;
    calls at other stations dropped. One split and one hash lookup for all patterns at once."""
    items = stops.tolist()
    if not all(isinstance(x, str) for x in items):  # sequences of codes: read one by one
        items = [x if isinstance(x, str) else ";".join(pattern_stops(x)) for x in items]
    n_tokens = np.fromiter((x.count(";") + 1 for x in items), dtype=np.int64, count=len(items))
    tokens = [t.strip() for t in ";".join(items).upper().split(";")] if items else []
    number = pd.Index(codes).get_indexer(tokens) if tokens else np.array([], dtype=np.int64)
    pid = np.repeat(np.arange(len(items), dtype=np.int64), n_tokens)
    known = number >= 0
    if len(codes) and (codes == "").any():  # an empty code is no call (as pattern_stops drops it)
        known &= np.array([t != "" for t in tokens], dtype=bool)
    return number[known].astype(np.int64), pid[known]


def _shortest_of_loops(st: np.ndarray, pid: np.ndarray, i: np.ndarray, j: np.ndarray, r: np.ndarray, n_codes: int) -> np.ndarray:
    """Which ordered pairs of calls ``(i, j)`` (positions in ``st``/``pid``, ride ``r``) to keep: all
    of them, except that a pattern calling at a station twice keeps one pair of calls per pair of
    stations, its shortest ride."""
    calls = np.sort(pid * np.int64(n_codes) + st)
    again = calls[1:][calls[1:] == calls[:-1]]
    loops = np.unique(again // n_codes)
    keep = np.ones(len(i), dtype=bool)
    if not len(loops):
        return keep
    sub = np.flatnonzero(np.isin(pid[i], loops))
    o = sub[np.lexsort((r[sub], st[j[sub]], st[i[sub]], pid[i[sub]]))]
    first = np.r_[True, (pid[i[o]][1:] != pid[i[o]][:-1]) | (st[i[o]][1:] != st[i[o]][:-1]) | (st[j[o]][1:] != st[j[o]][:-1])]
    keep[sub] = False
    keep[o[first]] = True
    return keep


def _observed_runs(segments: pd.DataFrame | None, codes: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The timetabled running minutes of the links (station numbers ``a`` -> ``b`` in ``codes``):
    from ``segments`` ([from_crs, to_crs, run_min]), the other direction's where only that one is
    there; NaN where neither is."""
    out = np.full(len(a), np.nan)
    if segments is None or not len(segments) or not len(a):
        return out
    n = np.int64(len(codes))
    f = pd.Index(codes).get_indexer(segments["from_crs"].astype(str).str.upper().to_numpy())
    t = pd.Index(codes).get_indexer(segments["to_crs"].astype(str).str.upper().to_numpy())
    run = segments["run_min"].to_numpy(dtype="float64")
    ok = (f >= 0) & (t >= 0) & np.isfinite(run) & (run > 0)
    table = pd.Series(run[ok], index=f[ok] * n + t[ok])
    table = table[~table.index.duplicated()]
    fwd = table.reindex(a * n + b).to_numpy()
    back = table.reindex(b * n + a).to_numpy()
    return np.where(np.isfinite(fwd), fwd, back)


def rail_services(stations: pd.DataFrame, patterns: pd.DataFrame, assumptions: Assumptions, *,
                  segments: pd.DataFrame | None = None, dwells: pd.DataFrame | None = None,
                  operators: pd.DataFrame | None = None) -> pd.DataFrame:
    """Every directly served ordered pair of stations with its common-lines time (see the module docstring).

    ``stations``: [crs, geometry POINT] (``rail_stations``); ``patterns``: [pattern_id, stops (";"-joined
    CRS codes or a sequence), daily_trains, optionally operators] (``rail_patterns``). Calls at stations missing from
    ``stations`` are dropped (the train links the known calls either side); patterns without trains
    or with fewer than two known calls are skipped (``attrs["skipped_patterns"]``).
    ``segments``: timetabled running minutes [from_crs, to_crs, run_min] of links between
    consecutive calls (``rail_segments``, :func:`lisgeo.network.cif.segment_times`), used where a
    pattern's link is there; ``dwells``: [crs, dwell_min] mean dwell per station
    (:func:`lisgeo.network.cif.station_dwells`). Without them every link is modelled
    (:func:`run_time_min`) and every dwell is ``pt.dwell_min``. ``operators``: the operators'
    running-speed factors (default ``layers/rail_operators.csv``, :func:`operator_factors`). ``attrs["observed_share"]`` is the
    train-weighted share of the patterns' links with a timetabled time.

    Returns [from_crs, to_crs, time_min, wait_min, ride_min, fastest_min, typical_min, daily_trains,
    n_patterns]: ``typical_min`` is the train-weighted mean ride of *every* pattern serving the pair
    (what the typical train takes, as timetables and operators quote it).
    """
    crs = stations["crs"].astype(str).str.upper().to_numpy() if "crs" in stations.columns else stations.index.astype(str).str.upper().to_numpy()
    # stations as integers numbered in CRS order (so that sorting by number sorts by code); a code
    # given twice keeps its last position
    pos = dict(zip(crs, zip(stations.geometry.x.to_numpy(), stations.geometry.y.to_numpy())))
    codes = np.array(sorted(pos), dtype=object)
    px, py = np.array([pos[c][0] for c in codes], dtype="float64"), np.array([pos[c][1] for c in codes], dtype="float64")
    # every pattern's calls as one array (station numbers), repeated calls in a row dropped
    st, pid = _pattern_calls(patterns["stops"], codes)
    n_pat = patterns["daily_trains"].to_numpy(dtype="float64")
    n_patterns = len(n_pat)
    keep = np.r_[True, (st[1:] != st[:-1]) | (pid[1:] != pid[:-1])] if len(st) else np.array([], dtype=bool)
    st, pid = st[keep], pid[keep]
    m = np.bincount(pid, minlength=n_patterns)
    used = (m >= 2) & np.isfinite(n_pat) & (n_pat > 0)
    skipped = int((~used).sum())
    sel = used[pid]
    st, pid = st[sel], pid[sel]
    if not len(st):
        out = pd.DataFrame({c: pd.Series(dtype=object if c.endswith("crs") else "float64") for c in _SERVICE_COLUMNS})
        out["n_patterns"] = out["n_patterns"].astype("int64")
        out.attrs["skipped_patterns"] = skipped
        out.attrs["observed_share"] = 0.0
        return out
    # links between consecutive calls of a pattern: timetabled where the segments have them, else
    # modelled (run_time_min); each call's dwell (none at a pattern's first call); cum = minutes
    # from the pattern's first departure to the arrival at each call, summed in order
    same = np.r_[pid[1:] == pid[:-1], False]
    link_km = np.where(same, np.hypot(np.diff(px[st], append=0.0), np.diff(py[st], append=0.0)) / 1000.0, 0.0)
    factor = operator_factors(patterns, operators)[pid]
    nxt = np.r_[st[1:], 0]
    observed = _observed_runs(segments, codes, st[same], nxt[same])
    run = run_time_min(link_km[same], assumptions, factor=factor[same])
    run = np.where(np.isfinite(observed), observed, run)
    link_min = np.zeros(len(st))
    link_min[same] = run
    dwell = np.full(len(codes), float(assumptions["pt.dwell_min"]))
    if dwells is not None and len(dwells):
        k = pd.Index(codes).get_indexer(dwells["crs"].astype(str).str.upper().to_numpy())
        dw = dwells["dwell_min"].to_numpy(dtype="float64")
        ok = (k >= 0) & np.isfinite(dw) & (dw >= 0)
        dwell[k[ok]] = dw[ok]
    first_call = np.r_[True, pid[1:] != pid[:-1]]
    call_dwell = np.where(first_call, 0.0, dwell[st])
    w = n_pat[pid[same]]
    obs_share = float(np.sum(w * np.isfinite(observed)) / np.sum(w)) if len(w) and np.sum(w) > 0 else 0.0
    first = np.r_[True, pid[1:] != pid[:-1]]
    q = np.arange(len(st)) - np.flatnonzero(first)[np.cumsum(first) - 1]  # each call's place in its pattern
    # summed along each pattern in order (a row per pattern), as np.cumsum of one pattern's links
    rows = np.cumsum(first) - 1
    grid = np.zeros((int(first.sum()), int(m.max()) + 1))
    grid[rows, q + 1] = link_min + call_dwell  # the link from call q, after the dwell at q
    cum = np.cumsum(grid, axis=1)[rows, q]  # departure from the first call to the arrival at call q
    # every ordered pair of calls (i before j) of the same pattern
    after = m[pid] - q - 1
    i = np.repeat(np.arange(len(st)), after)
    j = i + 1 + (np.arange(len(i)) - np.repeat(np.cumsum(after) - after, after))
    ok = st[i] != st[j]
    i, j = i[ok], j[ok]
    r = cum[j] - cum[i] - call_dwell[i]  # from the departure at call i
    # a pattern that calls at a station twice (a loop) serves a pair once, by its shortest ride:
    # only the pairs of such patterns (a few) are sorted to find it; the pairs stay in pattern order
    once = _shortest_of_loops(st, pid, i, j, r, len(codes))
    f_i, t_i, ride_a, n_a = st[i][once], st[j][once], r[once], n_pat[pid[i][once]]
    # the common-lines strategy of every pair at once: each prefix of its patterns sorted by ride,
    # the prefix with the least expected time (as common_lines, vectorised); ties in ride keep the
    # patterns' order (a stable sort by pair, then ride)
    o = np.lexsort((ride_a, f_i * np.int64(len(codes)) + t_i))
    f_i, t_i, ride_a, n_a = f_i[o], t_i[o], ride_a[o], n_a[o]
    start = np.r_[True, (f_i[1:] != f_i[:-1]) | (t_i[1:] != t_i[:-1])]
    grp = np.cumsum(start) - 1
    starts = np.flatnonzero(start)

    def cumsum_by_group(x: np.ndarray) -> np.ndarray:  # added in order within each pair, as groupby().cumsum()
        return pd.Series(x).groupby(grp, sort=False).cumsum().to_numpy(dtype="float64")

    F = cumsum_by_group(n_a)
    FR = cumsum_by_group(n_a * ride_a)
    wait = headway_wait_min(F, assumptions)
    e = wait + FR / F
    k = np.arange(len(f_i)) - starts[grp] + 1
    ends = np.r_[starts[1:], len(f_i)] - 1
    typical = (FR[ends] / F[ends])[grp]
    # the first position of each group's least expected time (as idxmin)
    best_e = np.minimum.reduceat(e, starts)
    hit = np.flatnonzero(e == best_e[grp])
    best = hit[np.r_[True, grp[hit][1:] != grp[hit][:-1]]]
    out = pd.DataFrame({"from_crs": codes[f_i[best]], "to_crs": codes[t_i[best]],
                        "time_min": e[best], "wait_min": wait[best], "ride_min": FR[best] / F[best],
                        "fastest_min": ride_a[starts], "typical_min": typical[best],
                        "daily_trains": F[best], "n_patterns": k[best].astype("int64")})
    out.attrs["skipped_patterns"] = skipped
    out.attrs["observed_share"] = obs_share
    return out


def _cached_rail_services(stations: pd.DataFrame, patterns: pd.DataFrame, assumptions: Assumptions, *,
                          segments: pd.DataFrame | None = None, dwells: pd.DataFrame | None = None,
                          operators: pd.DataFrame | None = None) -> pd.DataFrame:
    """:func:`rail_services` through the disk cache (kind ``rail``), keyed on the two frames' contents,
    every assumption and lisgeo's code: each build of a run (base, then a scenario, often in a second
    process) and every later run compute Great Britain's services once (about 0.8 s)."""
    from .. import cache

    if operators is None:
        from ..layers.rail import read_rail_operators

        operators = read_rail_operators()

    def compute() -> pd.DataFrame:
        return rail_services(stations, patterns, assumptions, segments=segments, dwells=dwells, operators=operators)

    if not cache.enabled():
        return compute()
    try:
        key = cache.make_key({"kind": "rail_services", "stations": cache.frame_digest(stations),
                              "patterns": cache.frame_digest(patterns),
                              "segments": None if segments is None else cache.frame_digest(segments),
                              "dwells": None if dwells is None else cache.frame_digest(dwells),
                              "operators": cache.frame_digest(operators),
                              "assumptions": dict(assumptions.to_dict() if hasattr(assumptions, "to_dict") else assumptions)})
    except Exception:  # noqa: BLE001 - a frame that cannot be digested is simply not cached
        return compute()
    hit = cache.load_frame("rail", key)
    if hit is not None and "observed_share" in hit.attrs:
        return hit
    out = compute()
    cache.store_frame("rail", key, out)
    return out


def add_rail(G: nx.MultiDiGraph, stations: pd.DataFrame, patterns: pd.DataFrame, assumptions: Assumptions, *,
             services: pd.DataFrame | None = None, segments: pd.DataFrame | None = None,
             dwells: pd.DataFrame | None = None, operators: pd.DataFrame | None = None) -> nx.MultiDiGraph:
    """Add the stations and one ``rail`` edge per directly served pair (see the module docstring).

    ``stations``: [crs, daily_trains (departures per weekday), geometry POINT]; ``patterns`` as
    :func:`rail_services`. ``G.graph["skipped_rail_patterns"]`` counts the patterns skipped.
    ``services``: :func:`rail_services` of the same stations, patterns and assumptions, when made
    already (the network build makes them first, see :func:`lisgeo.network.graph.build_network`);
    else made here from ``segments``, ``dwells`` and ``operators`` (see :func:`rail_services`).
    ``G.graph["rail_observed_share"]`` is the train-weighted share of the patterns' links with a
    timetabled running time.
    """
    crs = stations["crs"].astype(str).str.upper().to_numpy() if "crs" in stations.columns else stations.index.astype(str).str.upper().to_numpy()
    x, y = stations.geometry.x.to_numpy(), stations.geometry.y.to_numpy()
    st_trains = stations["daily_trains"].to_numpy(dtype="float64")
    pen = float(assumptions["pt.interchange_penalty_min"])
    nodes, edges = [], []
    for c, xx, yy, n in zip(crs, x, y, st_trains):
        xy = {"x": float(xx), "y": float(yy), "crs": c}
        nodes.append((_street(c), {"kind": NodeKind.STATION, "side": "street", "daily_trains": float(n), **xy}))
        nodes.append((_arrival(c), {"kind": NodeKind.STATION, "side": "arrival", **xy}))
        edges.append((_street(c), _arrival(c), {"time_min": 0.0, "mode": EdgeMode.CONCOURSE}))
        edges.append((_arrival(c), _street(c), {"time_min": pen, "mode": EdgeMode.INTERCHANGE}))
    G.add_nodes_from(nodes)
    add_edge_list(G, edges)
    if services is None:
        services = _cached_rail_services(stations, patterns, assumptions, segments=segments, dwells=dwells, operators=operators)
    add_edge_table(G, node_ids(NodeRole.STATION, services["from_crs"].to_numpy(dtype=object)),
                   node_ids(NodeRole.ARRIVAL, services["to_crs"].to_numpy(dtype=object)),
                   {"time_min": services["time_min"].to_numpy(dtype="float64"), "mode": EdgeMode.RAIL,
                    "wait_min": services["wait_min"].to_numpy(dtype="float64"),
                    "ride_min": services["ride_min"].to_numpy(dtype="float64"),
                    "fastest_min": services["fastest_min"].to_numpy(dtype="float64"),
                    "typical_min": services["typical_min"].to_numpy(dtype="float64"),
                    "daily_trains": services["daily_trains"].to_numpy(dtype="float64"),
                    "n_patterns": services["n_patterns"].to_numpy(dtype="int64")})
    G.graph["skipped_rail_patterns"] = int(G.graph.get("skipped_rail_patterns", 0)) + int(services.attrs["skipped_patterns"])
    G.graph["rail_services"] = len(services)
    G.graph["rail_observed_share"] = float(services.attrs.get("observed_share", 0.0))
    return G


def _codes(value: object) -> list[str]:
    return [s.strip().upper() for s in str(value or "").replace(",", ";").split(";") if s.strip()]


def add_hs2(G: nx.MultiDiGraph, stations: pd.DataFrame, links: pd.DataFrame, assumptions: Assumptions) -> nx.MultiDiGraph:
    """Add the HS2 stations and published HS2 times of a scheme (see the module docstring)."""
    ids = stations["station_id"].astype(str).tolist() if "station_id" in stations.columns else stations.index.astype(str).tolist()
    names = stations.get("name", pd.Series(ids, index=stations.index)).astype(str).tolist()
    cc_all = stations.get("connects_crs", pd.Series([""] * len(ids), index=stations.index)).fillna("").tolist()
    pen = float(assumptions["pt.interchange_penalty_min"])
    circ, walk = assumptions["access.circuity"], assumptions["walk.walk_kmh"]
    reuse_m = float(assumptions["hs2.reuse_station_m"])
    code_of: dict[str, str] = {}
    edges = []
    for sid, g, cc, name in zip(ids, stations.geometry, cc_all, names):
        near = [c for c in _codes(cc) if _street(c) in G
                and np.hypot(g.x - G.nodes[_street(c)]["x"], g.y - G.nodes[_street(c)]["y"]) <= reuse_m]
        if near:  # HS2 trains at an existing station: the same station
            code_of[sid] = near[0]
            G.nodes[_street(near[0])]["hs2_station"] = sid
            continue
        code_of[sid] = sid
        attrs = {"kind": NodeKind.HS2, "x": float(g.x), "y": float(g.y), "name": name, "connects_crs": str(cc), "station_id": sid}
        G.add_node(_street(sid), side="street", **attrs)
        G.add_node(_arrival(sid), side="arrival", **attrs)
        edges.append((_street(sid), _arrival(sid), {"time_min": 0.0, "mode": EdgeMode.CONCOURSE}))
        edges.append((_arrival(sid), _street(sid), {"time_min": pen, "mode": EdgeMode.INTERCHANGE}))
        for c in _codes(cc):
            if _street(c) not in G:
                continue  # an existing station outside the data: the HS2 station still works on its own
            d = max(float(np.hypot(g.x - G.nodes[_street(c)]["x"], g.y - G.nodes[_street(c)]["y"])), 1.0) / 1000.0
            tm = pen + d * circ / walk * 60.0
            attrs_e = {"time_min": tm, "mode": EdgeMode.INTERCHANGE, "length_km": d * circ}
            edges.append((_arrival(sid), _street(c), attrs_e))
            edges.append((_arrival(c), _street(sid), dict(attrs_e)))

    def endpoint(v: str) -> str:
        v = str(v).strip()
        if v in code_of:
            return code_of[v]
        if _street(v.upper()) in G:
            return v.upper()
        raise NetworkError(f"HS2 link endpoint {v!r} is neither an HS2 station of the scheme ({sorted(code_of)}) nor a known CRS code; fix hs2_links.csv")

    span = assumptions["pt.service_span_hours"]
    w_hs2 = float(headway_wait_min(assumptions["hs2.trains_per_hour"] * span, assumptions))
    w_hub = float(headway_wait_min(assumptions["hs2.hub_classic_trains_per_hour"] * span, assumptions))
    kinds = links["kind"] if "kind" in links.columns else pd.Series("hs2", index=links.index)
    for f, t, tm, kind in zip(links["from_id"], links["to_id"], pd.to_numeric(links["time_min"], errors="coerce"), kinds):
        if not (np.isfinite(tm) and tm > 0):
            raise NetworkError(f"HS2 link {f}->{t} has time_min {tm}; it must be a positive number of minutes")
        a, b = endpoint(f), endpoint(t)
        hs2 = str(kind) != "classic"
        w = w_hs2 if hs2 else w_hub
        mode = EdgeMode.HS2 if hs2 else EdgeMode.RAIL
        for u, v in ((a, b), (b, a)):
            edges.append((_street(u), _arrival(v), {"time_min": float(tm) + w, "mode": mode, "wait_min": w, "ride_min": float(tm),
                                                    "fastest_min": float(tm), "typical_min": float(tm)}))
    add_edge_list(G, edges)
    G.graph["hs2_station_codes"] = dict(code_of)
    return G


def destination_nodes(G: nx.MultiDiGraph, name: str) -> list[str]:
    """Nodes of a named destination group present in ``G`` (the time to the group is the minimum
    over them): the arrival sides of the group's stations (assumptions ``destinations.<name>``)
    and of the new HS2 stations whose ``connects_crs`` includes one of them."""
    groups = {k.split(".", 1)[1]: v for k, v in G.graph.get("assumptions", {}).items() if k.startswith("destinations.")}
    if not groups:
        from ..assumptions import load_assumptions

        groups = {k.split(".", 1)[1]: v for k, v in load_assumptions().items() if k.startswith("destinations.")}
    if name not in groups:
        raise UnknownNameError("destination", name, sorted(groups))
    codes = {c.upper() for c in groups[name]}
    out = [_arrival(c) for c in sorted(codes) if _arrival(c) in G]
    for n, d in G.nodes(data=True):
        if d.get("kind") == NodeKind.HS2 and d.get("side") == "arrival" and set(_codes(d.get("connects_crs"))) & codes:
            out.append(n)
    if not out:
        raise NetworkError(f"none of the stations of destination {name!r} ({sorted(codes)}) is in the graph")
    return out


def station_code(node: str) -> str:
    """The code (CRS or HS2 station id) of a station node."""
    return node_code(node)
