"""The timetable router (lisgeo.network.transit): hand-computed answers on tiny feeds, equality with
a brute-force time-expanded search in networkx (random feeds and sampled real Newport origins), and
the entry checks."""

from __future__ import annotations

import bisect
import math
import zipfile
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
from pyproj import Transformer
from shapely.geometry import Point

from lisgeo.errors import CRSError, GeometryError, LisgeoError, NetworkError
from lisgeo.network.gtfs import read_gtfs
from lisgeo.network.transit import (prepare_transit, transit_matrix, transit_percentiles, transit_times_by_minute,
                                    walk_pairs)

X0, Y0 = 330000.0, 188000.0  # Newport, British National Grid
DAY = "2024-03-05"
TOL = 1e-4  # minutes: stops are written as lon/lat and read back, a sub-millimetre round trip
_TO_LL = Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True)


def hms(s: int) -> str:
    return f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}"


def clock(text: str) -> int:
    h, m, *s = map(int, text.split(":"))
    return h * 3600 + m * 60 + (s[0] if s else 0)


def write_feed(path: Path, stops: dict[str, tuple[float, float]], trips: list[dict]) -> Path:
    """A GTFS zip from stops {id: (x, y) BNG} and trips [{id, rows: [(stop, arr, dep[, pickup, dropoff])]}]
    (times in seconds or 'HH:MM[:SS]'), all on a weekday service."""
    st = ["trip_id,arrival_time,departure_time,stop_id,stop_sequence,pickup_type,drop_off_type"]
    for t in trips:
        for k, row in enumerate(t["rows"]):
            s, a, d, *flags = row
            a, d = (clock(v) if isinstance(v, str) else int(v) for v in (a, d))
            pick, drop = (flags + [True, True])[:2]
            st.append(f"{t['id']},{hms(a)},{hms(d)},{s},{k + 1},{0 if pick else 1},{0 if drop else 1}")
    lines = ["stop_id,stop_name,stop_lat,stop_lon"]
    for sid, (x, y) in stops.items():
        lon, lat = _TO_LL.transform(x, y)
        lines.append(f"{sid},{sid},{lat:.10f},{lon:.10f}")
    files = {
        "stops.txt": "\n".join(lines) + "\n",
        "routes.txt": "route_id,route_type\nR,3\n",
        "trips.txt": "route_id,service_id,trip_id\n" + "".join(f"R,WK,{t['id']}\n" for t in trips),
        "stop_times.txt": "\n".join(st) + "\n",
        "calendar.txt": "service_id,monday,tuesday,wednesday,thursday,friday,saturday,sunday,start_date,end_date\n"
                        "WK,1,1,1,1,1,0,0,20240101,20241231\n",
    }
    with zipfile.ZipFile(path, "w") as zf:
        for name, text in files.items():
            zf.writestr(name, text)
    return path


def points(xy: dict[str, tuple[float, float]], crs="EPSG:27700") -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(geometry=[Point(p) for p in xy.values()], index=pd.Index(list(xy), name="id"), crs=crs)


# a line of stops 1 km apart; the origin stands at A
LINE = {"A": (X0, Y0), "B": (X0 + 1000, Y0), "C": (X0 + 2000, Y0), "D": (X0 + 3000, Y0), "E": (X0, Y0 + 360)}
HAND = dict(circuity=1.0, walk_kmh=4.8, max_walk_m=400, transfer_max_m=200)
T1 = {"id": "T1", "rows": [("A", "08:05", "08:05"), ("B", "08:10", "08:10"), ("C", "08:15", "08:15")]}


def hand_feed(tmp_path, trips, name="hand.zip", **kw):
    kw = {"date": DAY, "start": "07:00", "end": "09:00", "max_time_min": 90, **kw}
    return read_gtfs(write_feed(tmp_path / name, LINE, trips), **kw)


def at(feed, stop: str) -> tuple[float, float]:
    """A stop's position as read (the lon/lat round trip moves it by under a millimetre), so that an
    origin placed there walks 0 s and catches a bus leaving on the minute."""
    k = list(feed.stop_id).index(stop)
    return float(feed.stop_x[k]), float(feed.stop_y[k])


def one(feed, dest, *, departure="08:00", window_min=1, **kw):
    kw = {**HAND, "max_time_min": 60, **kw}
    dest = at(feed, dest) if isinstance(dest, str) else dest
    m = transit_matrix(feed, points({"o": at(feed, "A")}), points({"d": dest}), departure=departure, window_min=window_min, **kw)
    return m.loc["o", "d"]


# ------------------------------------------------------------------------------ hand answers


def test_direct_ride(tmp_path):
    f = hand_feed(tmp_path, [T1])
    assert one(f, "C") == pytest.approx(15.0, abs=TOL)  # wait 5, ride 10
    assert one(f, "B") == pytest.approx(10.0, abs=TOL)


def test_transfer_and_missed_connection(tmp_path):
    t2 = {"id": "T2", "rows": [("B", "08:12", "08:12"), ("D", "08:20", "08:20")]}
    f = hand_feed(tmp_path, [T1, t2])
    assert one(f, "D") == pytest.approx(20.0, abs=TOL)  # alight B 08:10, 60 s slack, board 08:12
    assert math.isnan(one(f, "D", max_transfers=0))  # one ride only: D is out of reach
    assert one(f, "D", max_transfers=1) == pytest.approx(20.0, abs=TOL)
    # a connection 30 s after arrival is missed with the default 60 s transfer time, caught with 0
    t2b = {"id": "T2b", "rows": [("B", "08:10:30", "08:10:30"), ("D", "08:18:30", "08:18:30")]}
    t3 = {"id": "T3", "rows": [("B", "08:30", "08:30"), ("D", "08:38", "08:38")]}
    f = hand_feed(tmp_path, [T1, t2b, t3], name="missed.zip")
    assert one(f, "D") == pytest.approx(38.0, abs=TOL)
    assert one(f, "D", min_transfer_s=0) == pytest.approx(18.5, abs=TOL)
    assert one(f, "D", min_transfer_s=45) == pytest.approx(38.0, abs=TOL)


def test_waiting_at_the_origin_counts(tmp_path):
    f = hand_feed(tmp_path, [T1])
    by = transit_times_by_minute(f, points({"o": at(f, "A")}), points({"d": at(f, "C")}), departure="08:00", window_min=10,
                                 max_time_min=60, **HAND)
    assert list(by.columns) == [f"08:{m:02d}" for m in range(10)]
    np.testing.assert_allclose(by.loc[("o", "d")].to_numpy(), [15, 14, 13, 12, 11, 10] + [np.nan] * 4, atol=TOL)


def test_walk_only_beats_a_slow_bus(tmp_path):
    slow = {"id": "S", "rows": [("A", "08:02", "08:02"), ("E", "08:12", "08:12")]}
    f = hand_feed(tmp_path, [slow])
    assert one(f, "E") == pytest.approx(360 / 80, abs=TOL)  # 360 m at 80 m/min beats 12 min by bus
    assert one(f, "E", max_walk_m=300) == pytest.approx(12.0, abs=TOL)  # too far to walk: the bus


def test_trip_after_midnight_is_routed(tmp_path):
    late = {"id": "N", "rows": [("A", "24:10", "24:10"), ("C", "24:20", "24:20")]}
    f = hand_feed(tmp_path, [late], start="23:50", end="24:30", max_time_min=60)
    assert one(f, "C", departure="24:00") == pytest.approx(20.0, abs=TOL)
    assert one(f, "C", departure="24:05", window_min=5) == pytest.approx(15.0 - 2, abs=TOL)  # median of 15..11
    # the same trip seen from the next service day (Wednesday 00:00 + 10 min)
    g = hand_feed(tmp_path, [late], name="next.zip", date="2024-03-06", start="00:00", end="00:30", max_time_min=60)
    assert one(g, "C", departure="00:00") == pytest.approx(20.0, abs=TOL)


def test_percentiles_over_a_20_minute_headway(tmp_path):
    trips = [{"id": f"H{k}", "rows": [("A", 8 * 3600 + 1200 * k, 8 * 3600 + 1200 * k),
                                      ("C", 8 * 3600 + 1200 * k + 600, 8 * 3600 + 1200 * k + 600)]} for k in range(4)]
    f = hand_feed(tmp_path, trips)
    o, d = points({"o": at(f, "A")}), points({"d": at(f, "C")})
    # over 08:00-08:59 the times are 10, 29, 28, ..., 11 three times: sorted, 10 10 10 11 11 11 ... 29
    m = transit_matrix(f, o, d, departure="08:00", window_min=60, percentile=50, max_time_min=60, **HAND)
    assert m.loc["o", "d"] == pytest.approx(19.0, abs=TOL)  # element 29 of 60 (nearest rank)
    long = transit_percentiles(f, o, d, percentiles=(25, 50, 75, 100), departure="08:00", window_min=60, max_time_min=60,
                               **HAND)
    assert list(long.columns) == ["from_id", "to_id", "travel_time_p25", "travel_time_p50", "travel_time_p75",
                                  "travel_time_p100"]
    np.testing.assert_allclose(long.iloc[0, 2:].to_numpy(dtype=float), [14, 19, 24, 29], atol=TOL)
    # a 25-minute cut-off makes 26..29 infinite: 12 of 60 minutes, so p75 (element 44) is still 24, p100 is NaN
    long = transit_percentiles(f, o, d, percentiles=(75, 80, 81), window_min=60, max_time_min=25, **HAND)
    assert long["travel_time_p75"].iloc[0] == pytest.approx(24.0) and long["travel_time_p80"].iloc[0] == pytest.approx(25.0)
    assert math.isnan(long["travel_time_p81"].iloc[0])


def test_unreachable_is_nan(tmp_path):
    f = hand_feed(tmp_path, [T1])
    assert math.isnan(one(f, (X0 + 9000, Y0 + 9000)))  # nowhere near a stop
    # one trip at 08:05: only 6 of the 60 minutes reach C, so there is no median, but there is a 10th percentile
    o, d = points({"o": at(f, "A")}), points({"d": at(f, "C")})
    m = transit_matrix(f, o, d, window_min=60, percentile=50, max_time_min=60, **HAND)
    assert math.isnan(m.loc["o", "d"])
    m = transit_matrix(f, o, d, window_min=60, percentile=10, max_time_min=60, **HAND)
    assert m.loc["o", "d"] == pytest.approx(15.0, abs=TOL)  # element 5 of 10, 11, ..., 15, inf...
    # beyond max_time_min
    assert math.isnan(one(f, "C", max_time_min=14.9))


def test_pickup_and_drop_off_rules(tmp_path):
    no_drop = {"id": "T1", "rows": [("A", "08:05", "08:05"), ("B", "08:10", "08:10", True, False), ("C", "08:15", "08:15")]}
    no_pick = {"id": "T9", "rows": [("A", "08:06", "08:06", False, True), ("B", "08:11", "08:11")]}
    f = hand_feed(tmp_path, [no_drop, no_pick])
    assert math.isnan(one(f, "B"))  # T1 may not set down at B, T9 may not pick up at A
    assert one(f, "C") == pytest.approx(15.0, abs=TOL)


def test_street_graph_walks_around_the_block(tmp_path):
    stops = {"A": (X0 + 300, Y0), "C": (X0 + 2000, Y0)}
    trips = [{"id": "E1", "rows": [("A", "08:10", "08:10"), ("C", "08:20", "08:20")]},
             {"id": "E2", "rows": [("A", "08:20", "08:20"), ("C", "08:30", "08:30")]}]
    f = read_gtfs(write_feed(tmp_path / "s.zip", stops, trips), date=DAY)
    G = nx.MultiDiGraph()
    nodes = {"n0": (X0, Y0), "n1": (X0, Y0 + 400), "n2": (X0 + 300, Y0 + 400), "n3": (X0 + 300, Y0), "n4": (X0 + 2000, Y0)}
    for n, (x, y) in nodes.items():
        G.add_node(n, x=x, y=y)
    for u, v, km in (("n0", "n1", 0.4), ("n1", "n2", 0.3), ("n2", "n3", 0.4), ("n3", "n4", 1.7)):
        G.add_edge(u, v, length_km=km)  # one direction only: walking uses it both ways
    o, d = points({"o": (X0, Y0)}), points({"d": stops["C"]})
    kw = dict(departure="08:00", window_min=1, max_time_min=60, max_walk_m=1600, walk_kmh=4.8)
    crow = transit_matrix(f, o, d, circuity=1.0, **kw).loc["o", "d"]
    street = transit_matrix(f, o, d, street_graph=G, **kw).loc["o", "d"]
    assert crow == pytest.approx(20.0, abs=TOL)  # 300 m (3.75 min): the 08:10
    assert street == pytest.approx(30.0, abs=TOL)  # 1,100 m around the block (13.75 min): the 08:20
    street_model = prepare_transit(f, street_graph=G).street
    i, j, sec = walk_pairs(np.array([nodes["n0"]]), np.array([stops["A"]]), 1600, street=street_model)
    assert sec.tolist() == pytest.approx([1100 / (4.8 / 3.6)])
    G.add_edge("n0", "n4", length_km=float("nan"))
    with pytest.raises(NetworkError, match="length_km"):
        transit_matrix(f, o, d, street_graph=G, **kw)


# ------------------------------------------------------------------------------ brute force


def brute_force(trips, stop_xy, o_xy, d_xy, taus, *, walk_kmh, circuity, max_walk_m, transfer_max_m, min_transfer_s,
                max_transfers, max_s, street=None, chain=False):
    """Travel seconds T[o, d, m] (inf beyond max_s) by a forward networkx Dijkstra per origin and departure
    minute on a time-expanded graph. Nodes: on board trip k leaving its j-th stop ('dep'), off trip k at
    its j-th stop ('arr'), destinations, with the number of rides taken when max_transfers is set.
    ``chain=False`` joins access and transfers to *every* catchable departure (no waiting arcs: simplest);
    ``chain=True`` to the first catchable one at each stop, with waiting arcs between departures (for
    real feeds, where every-departure arcs are too many)."""
    speed = walk_kmh / 3.6
    if street is None:
        def walk(p, q):
            return math.hypot(p[0] - q[0], p[1] - q[1]) * circuity
    else:
        G, nxy = street
        names = list(nxy)
        arr_xy = np.array([nxy[n] for n in names])
        cache = {}

        def snap(p):
            dd = np.hypot(arr_xy[:, 0] - p[0], arr_xy[:, 1] - p[1])
            k = int(np.argmin(dd))
            return names[k], float(dd[k])

        def walk(p, q):
            (a, da), (b, db) = snap(p), snap(q)
            if a not in cache:
                cache[a] = nx.single_source_dijkstra_path_length(G, a, weight="m")
            return da + cache[a].get(b, math.inf) + db
    R = None if max_transfers is None else max_transfers + 1
    rides = [None] if R is None else list(range(1, R + 1))
    nxt = (lambda r: r) if R is None else (lambda r: r + 1 if r + 1 <= R else None)
    first_r = None if R is None else 1
    H = nx.DiGraph()
    boardable = []  # (stop, dep, k, j)
    for k, (stops, arr, dep, pick, drop) in enumerate(trips):
        n = len(stops)
        for j in range(n - 1):
            if pick[j]:
                boardable.append((stops[j], dep[j], k, j))
            for r in rides:
                if j + 1 < n - 1:
                    H.add_edge(("dep", k, j, r), ("dep", k, j + 1, r), weight=dep[j + 1] - dep[j])
                if drop[j + 1]:
                    H.add_edge(("dep", k, j, r), ("arr", k, j + 1, r), weight=arr[j + 1] - dep[j])
    by_stop: dict[str, list] = {}
    for s, t, k, j in sorted(boardable, key=lambda b: (b[0], b[1], b[2], b[3])):
        by_stop.setdefault(s, []).append((t, k, j))
    if chain:  # waiting arcs and boarding from the stop's departures
        for s, evs in by_stop.items():
            for r in ([None] if R is None else range(0, R)):
                for a, b in zip(evs, evs[1:]):
                    H.add_edge(("wait", s, a, r), ("wait", s, b, r), weight=b[0] - a[0])
                for e in evs:
                    H.add_edge(("wait", s, e, r), ("dep", e[1], e[2], None if R is None else r + 1), weight=0)
    stop_names = list(stop_xy)
    if street is None:  # candidates by a KD-tree, distances by hypot as above
        from scipy.spatial import cKDTree

        sxy = np.array([stop_xy[s] for s in stop_names])
        cand = cKDTree(sxy).query_ball_point(sxy, transfer_max_m / circuity + 1.0)
        near = {s: [(stop_names[c], walk(stop_xy[s], stop_xy[stop_names[c]])) for c in cand[i]]
                for i, s in enumerate(stop_names)}
    else:
        near = {s: [(s2, walk(stop_xy[s], stop_xy[s2])) for s2 in stop_names] for s in stop_names}

    def catch(u, s, ready, base, r_next, r_wait, w0=None):
        """Arcs from node u (clock ``base``) to the departures at s from ``ready`` on."""
        evs = by_stop.get(s, [])
        i = bisect.bisect_left(evs, (ready, -1, -1))
        if chain:
            if i < len(evs):
                H.add_edge(u, ("wait", s, evs[i], r_wait), weight=evs[i][0] - base)
        else:
            for t, k, j in evs[i:]:
                H.add_edge(u, ("dep", k, j, r_next), weight=t - base)

    for k, (stops, arr, dep, pick, drop) in enumerate(trips):
        for j in range(1, len(stops)):
            if not drop[j]:
                continue
            for r in rides:
                u = ("arr", k, j, r)
                for di, dxy in enumerate(d_xy):
                    w = walk(stop_xy[stops[j]], dxy)
                    if w <= max_walk_m:
                        H.add_edge(u, ("dest", di), weight=w / speed)
                rn = nxt(r)
                if rn is None and R is not None:
                    continue
                for s2, w in near[stops[j]]:
                    if s2 != stops[j] and w > transfer_max_m:
                        continue
                    t_w = min_transfer_s if s2 == stops[j] else max(min_transfer_s, w / speed)
                    catch(u, s2, arr[j] + t_w, arr[j], rn, r)
    T = np.full((len(o_xy), len(d_xy), len(taus)), np.inf)
    for oi, oxy in enumerate(o_xy):
        acc = [(s, walk(oxy, stop_xy[s])) for s in stop_names]
        direct = [walk(oxy, dxy) for dxy in d_xy]
        for m, tau in enumerate(taus):
            src = ("src", oi, m)
            for s, w in acc:
                if w <= max_walk_m:
                    catch(src, s, tau + w / speed, tau, first_r, None if R is None else 0)
            for di, w in enumerate(direct):
                if w <= max_walk_m:
                    H.add_edge(src, ("dest", di), weight=w / speed)
            if src in H:
                dist = nx.single_source_dijkstra_path_length(H, src, cutoff=max_s)
                for di in range(len(d_xy)):
                    T[oi, di, m] = dist.get(("dest", di), np.inf)
                H.remove_node(src)
    return T


def random_case(seed):
    rng = np.random.default_rng(seed)
    n_stops = int(rng.integers(6, 11))
    stops = {f"S{i}": (X0 + float(rng.uniform(0, 2500)), Y0 + float(rng.uniform(0, 2500))) for i in range(n_stops)}
    trips = []
    for r in range(int(rng.integers(3, 6))):
        seq = rng.choice(n_stops, size=int(rng.integers(2, 6)), replace=False)
        for k in range(int(rng.integers(2, 6))):
            t = 8 * 3600 - 600 + int(rng.integers(0, 3000))
            rows = []
            for pos, s in enumerate(seq):
                if pos:
                    t += int(rng.choice([0, 60, 120, 240, 400]))
                a = t
                t += int(rng.choice([0, 0, 30, 60]))
                rows.append((f"S{s}", a, t, bool(rng.random() > 0.1), bool(rng.random() > 0.1)))
            trips.append({"id": f"R{r}T{k}", "rows": rows})
    o = {f"o{i}": (X0 + float(rng.uniform(-300, 2800)), Y0 + float(rng.uniform(-300, 2800))) for i in range(5)}
    d = {f"d{i}": (X0 + float(rng.uniform(-300, 2800)), Y0 + float(rng.uniform(-300, 2800))) for i in range(5)}
    params = dict(walk_kmh=4.8, circuity=float(rng.choice([1.0, 1.3])), max_walk_m=float(rng.choice([700, 1000])),
                  transfer_max_m=float(rng.choice([0, 300, 600])), min_transfer_s=float(rng.choice([0, 60, 90])),
                  max_transfers=[None, 0, 1, 2][int(rng.integers(0, 4))])
    return stops, trips, o, d, params


def _trip_arrays(trips):
    out = []
    for t in trips:
        rows = t["rows"]
        out.append(([r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows], [r[3] for r in rows],
                    [r[4] for r in rows]))
    return out


def _compare(mine_min: np.ndarray, ref_s: np.ndarray):
    ref = np.where(np.isfinite(ref_s), ref_s / 60.0, np.nan)
    assert np.array_equal(np.isnan(mine_min), np.isnan(ref)), "different reachable pairs"
    both = ~np.isnan(ref)
    assert both.any()
    np.testing.assert_allclose(mine_min[both] * 60, ref[both] * 60, atol=1e-6, rtol=0)  # to the microsecond


@pytest.mark.parametrize("seed", range(8))
def test_equals_networkx_brute_force_on_random_feeds(tmp_path, seed):
    stops, trips, o, d, params = random_case(seed)
    f = read_gtfs(write_feed(tmp_path / f"r{seed}.zip", stops, trips), date=DAY, start="08:00", end="08:10", max_time_min=60)
    taus = [8 * 3600 + 60 * m for m in range(10)]
    by = transit_times_by_minute(f, points(o), points(d), departure="08:00", window_min=10, max_time_min=45, **params)
    mine = by.to_numpy().reshape(len(o), len(d), 10)
    sxy = dict(zip(f.stop_id, zip(f.stop_x, f.stop_y)))  # the coordinates as read (lon/lat round trip)
    ref = brute_force(_trip_arrays(trips), sxy, list(o.values()), list(d.values()), taus, max_s=45 * 60, **params)
    _compare(mine, ref)
    ref_c = brute_force(_trip_arrays(trips), sxy, list(o.values()), list(d.values()), taus, max_s=45 * 60, chain=True,
                        **params)
    np.testing.assert_array_equal(np.isfinite(ref), np.isfinite(ref_c))
    # the percentiles are the nearest-rank order statistics of these minutes
    m = transit_matrix(f, points(o), points(d), departure="08:00", window_min=10, percentile=50, max_time_min=45, **params)
    srt = np.sort(np.where(np.isnan(mine), np.inf, mine), axis=2)[:, :, 4]
    np.testing.assert_allclose(m.to_numpy(), np.where(np.isfinite(srt), srt, np.nan), atol=1e-9)


@pytest.mark.parametrize("seed", [11, 12])
def test_equals_networkx_brute_force_with_a_street_graph(tmp_path, seed):
    stops, trips, o, d, params = random_case(seed)
    rng = np.random.default_rng(seed)
    G = nx.Graph()
    nxy = {}
    for i in range(9):  # a jittered grid street network, some links missing
        for j in range(9):
            nxy[(i, j)] = (X0 - 300 + 400 * i + float(rng.uniform(-60, 60)), Y0 - 300 + 400 * j + float(rng.uniform(-60, 60)))
            G.add_node((i, j), x=nxy[(i, j)][0], y=nxy[(i, j)][1])
    for (i, j), p in nxy.items():
        for q in ((i + 1, j), (i, j + 1)):
            if q in nxy and rng.random() > 0.15:
                m = math.dist(p, nxy[q]) * float(rng.uniform(1.0, 1.4))
                G.add_edge((i, j), q, length_km=m / 1000, m=m)
    f = read_gtfs(write_feed(tmp_path / f"g{seed}.zip", stops, trips), date=DAY, start="08:00", end="08:10", max_time_min=60)
    params["max_walk_m"] = 1500.0
    taus = [8 * 3600 + 60 * m for m in range(10)]
    by = transit_times_by_minute(f, points(o), points(d), window_min=10, max_time_min=45, street_graph=G, **params)
    sxy = dict(zip(f.stop_id, zip(f.stop_x, f.stop_y)))
    ref = brute_force(_trip_arrays(trips), sxy, list(o.values()), list(d.values()), taus, max_s=45 * 60,
                      street=(G, nxy), **params)
    _compare(by.to_numpy().reshape(len(o), len(d), 10), ref)


# ------------------------------------------------------------------------------ entry checks


def test_entry_checks(tmp_path):
    f = hand_feed(tmp_path, [T1])
    o, d = points({"o": at(f, "A")}), points({"d": at(f, "C")})
    with pytest.raises(LisgeoError, match=r"origins: ids \(index\) must be unique but repeat \['o'\]"):
        transit_matrix(f, pd.concat([o, o]), d)
    with pytest.raises(LisgeoError, match="lacks id column 'code'"):
        transit_matrix(f, o, d, id_col="code")
    with pytest.raises(CRSError, match="origins has no CRS"):
        transit_matrix(f, o.set_crs(None, allow_override=True), d)
    with pytest.raises(GeometryError, match="must hold Point geometries"):
        transit_matrix(f, gpd.GeoDataFrame(geometry=[Point(X0, Y0).buffer(10)], crs=27700), d)
    with pytest.raises(LisgeoError, match="percentile 0 must be in"):
        transit_matrix(f, o, d, percentile=0)
    with pytest.raises(LisgeoError, match="window_min 0"):
        transit_matrix(f, o, d, window_min=0)
    with pytest.raises(LisgeoError, match="circuity 0.5 must be a number >= 1"):
        transit_matrix(f, o, d, circuity=0.5)
    with pytest.raises(LisgeoError, match="max_transfers -1"):
        transit_matrix(f, o, d, max_transfers=-1)
    with pytest.raises(LisgeoError, match=r"departures 08:30-09:29 with max_time_min 90 need the timetable from 08:30 to "
                                          r"10:59, but the feed was read for departures 07:00-09:00 with arrivals to 10:30"):
        transit_matrix(f, o, d, departure="08:30")
    with pytest.raises(LisgeoError, match="departure '8h' is not a clock time"):
        transit_matrix(f, o, d, departure="8h")
    with pytest.raises(LisgeoError, match="must be a TransitFeed"):
        transit_matrix("feed.zip", o, d)
    with pytest.raises(LisgeoError, match="destinations is empty"):
        transit_matrix(f, o, d.iloc[:0])


def test_ids_crs_attrs_and_shapes(tmp_path):
    f = hand_feed(tmp_path, [T1])
    o = points({"o1": at(f, "A"), "o2": at(f, "B")}).to_crs(4326).reset_index().rename(columns={"id": "code"})
    d = points({"dB": at(f, "B"), "dC": at(f, "C"), "far": (X0 + 9000, Y0)})
    m = transit_matrix(f, o, d, id_col=("code", None), window_min=10, max_time_min=30, **HAND)
    assert m.shape == (2, 3) and list(m.index) == ["o1", "o2"] and list(m.columns) == ["dB", "dC", "far"]
    assert m.index.name == "from_id" and m.columns.name == "to_id"
    # o1 went through WGS84 and back, which moves it a fraction of a millimetre off stop A: it no longer
    # catches the 08:05 bus when leaving at 08:05:00. So minutes 08:00-08:04 reach dC (15, 14, ..., 11 min)
    # and 08:05-08:09 do not: the median (element 4 of the 10 sorted minutes) is 15
    assert m.loc["o1", "dC"] == pytest.approx(15.0, abs=1e-3)
    assert m.attrs["feed"] == "hand.zip" and m.attrs["date"] == DAY and m.attrs["window_min"] == 10
    assert m.attrs["departure"] == "08:00" and "nearest rank" in m.attrs["assumptions"]
    assert np.isnan(m.loc["o1", "far"])
    long = transit_percentiles(f, o, d, id_col=("code", None), percentiles=(50,), window_min=10, max_time_min=30, **HAND)
    assert len(long) == 6 and long["from_id"].tolist()[:3] == ["o1"] * 3
    np.testing.assert_allclose(long["travel_time_p50"].to_numpy(), m.to_numpy().ravel(), equal_nan=True)


# ------------------------------------------------------------------------------ real data

NEWPORT = "github/datasciencecampus/r5py-example/data"


@pytest.fixture(scope="module")
def newport(real_data):
    from lisgeo.catalog import resolve_file

    bus, rail = (resolve_file(f"{NEWPORT}/gtfs/{n}") for n in ("other_modalities.zip", "rail.zip"))
    origins = gpd.read_parquet(resolve_file(f"{NEWPORT}/origins/pwcs.parquet")).set_index("OA21CD")
    shops = gpd.read_parquet(resolve_file(f"{NEWPORT}/destinations/supermarkets.parquet")).set_index("id")
    feed = read_gtfs([bus, rail], date=DAY, start="07:00", end="09:00", max_time_min=120)
    return feed, origins, shops


def test_newport_equals_brute_force_for_sampled_origins(newport):
    f, origins, shops = newport
    rng = np.random.default_rng(3)
    sample = origins.iloc[np.sort(rng.choice(len(origins), 5, replace=False))]
    kw = dict(walk_kmh=4.8, circuity=1.3, max_walk_m=1200.0, transfer_max_m=400.0, min_transfer_s=60.0, max_transfers=None)
    by = transit_times_by_minute(f, sample, shops, departure="08:00", window_min=5, max_time_min=30, **kw)
    mine = by.to_numpy().reshape(len(sample), len(shops), 5)
    # the brute force gets the stop times a journey leaving 08:00-08:04 within 30 minutes can use
    t0, t1 = 8 * 3600, 8 * 3600 + 4 * 60 + 30 * 60
    trips = []
    for t in range(f.n_trips):
        s = np.arange(f.trip_ptr[t], f.trip_ptr[t + 1])
        s = s[(f.st_dep[s] >= t0) & (f.st_arr[s] <= t1)]
        if len(s) >= 2:
            trips.append((list(f.stop_id[f.st_stop[s]]), f.st_arr[s].tolist(), f.st_dep[s].tolist(),
                          f.st_pickup[s].tolist(), f.st_dropoff[s].tolist()))
    sxy = dict(zip(f.stop_id, zip(f.stop_x, f.stop_y)))
    d27 = shops.to_crs(27700)
    ref = brute_force(trips, sxy, list(zip(sample.geometry.x, sample.geometry.y)), list(zip(d27.geometry.x, d27.geometry.y)),
                      [t0 + 60 * m for m in range(5)], max_s=30 * 60, chain=True, **kw)
    _compare(mine, ref)
    assert np.isfinite(ref).sum() > 10


def test_newport_most_output_areas_reach_a_supermarket_within_45_min(newport):
    f, origins, shops = newport
    m = transit_matrix(f, origins, shops, departure="08:00", window_min=60, percentile=50, max_time_min=45)
    assert m.shape == (len(origins), len(shops)) == (511, 22)
    reach = m.notna().any(axis=1).mean()
    assert reach > 0.85, reach
    assert m.min(axis=1).median() < 20 and (m.to_numpy()[m.notna().to_numpy()] <= 45).all()
    # buses and trains matter: walking alone (the same 1,600 m limit) reaches far fewer pairs
    o27, d27 = origins.geometry, shops.to_crs(27700).geometry
    walk = walk_pairs(np.c_[o27.x, o27.y], np.c_[d27.x, d27.y], 1600.0)
    assert m.notna().to_numpy().sum() > 3 * len(walk[0])
    assert m.attrs["percentile"] == 50 and m.attrs["feed"] == "other_modalities.zip, rail.zip"
