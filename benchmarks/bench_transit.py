"""Benchmark: the GTFS timetable router on the Newport r5py example, against a networkx brute force.

Run by hand (never in CI):  python benchmarks/bench_transit.py [--repeats 5] [--nx-origins 3]

The problem is r5py-example's: Output Area 2021 population-weighted centroids in Newport (511)
to supermarkets (22), bus/coach (BODS) and rail GTFS for Tuesday 5 March 2024, departures every
minute 08:00-08:59, the median over the window, 45 and 60 minutes maximum. It times

  read     ``read_gtfs([bus, rail], date=..., start="07:00", end="09:00", max_time_min=120)``;
  prepare  ``prepare_transit(feed)`` (the time-expanded graph, cold);
  matrix   ``transit_matrix(feed, origins, supermarkets, ...)`` on the prepared graph;

as the minimum and median of ``--repeats`` interleaved repeats (read, prepare, matrix 45,
matrix 60, then again). Peak memory is measured in a separate pass with ``tracemalloc`` (Python
and numpy allocations), never while timing. Then a brute force: a forward networkx Dijkstra per
origin and departure minute on a time-expanded graph of the same model (stop events, waiting
arcs, ride arcs, walk arcs), built once; it runs for ``--nx-origins`` sampled origins × the 60
minutes, is checked against the router's per-minute times, and its time is **extrapolated** to
all 511 origins.
"""

from __future__ import annotations

import argparse
import bisect
import datetime as dt
import os
import platform
import statistics
import time
import tracemalloc

import numpy as np

os.environ.setdefault("LISGEO_DATA_DIR", os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data"))

import geopandas as gpd  # noqa: E402
import networkx as nx  # noqa: E402
from scipy.spatial import cKDTree  # noqa: E402

from lisgeo.catalog import resolve_file  # noqa: E402
from lisgeo.network.gtfs import read_gtfs  # noqa: E402
from lisgeo.network.transit import DEFAULTS, prepare_transit, transit_matrix, transit_times_by_minute  # noqa: E402

R5 = "github/datasciencecampus/r5py-example/data"
DAY = "2024-03-05"


def load():
    bus, rail = (resolve_file(f"{R5}/gtfs/{n}") for n in ("other_modalities.zip", "rail.zip"))
    origins = gpd.read_parquet(resolve_file(f"{R5}/origins/pwcs.parquet")).set_index("OA21CD")
    shops = gpd.read_parquet(resolve_file(f"{R5}/destinations/supermarkets.parquet")).set_index("id")
    return bus, rail, origins, shops


def timed(fn):
    t = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t


def peak_mb(fn) -> float:
    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 1e6


class BruteForce:
    """Forward time-expanded search in networkx (the model of lisgeo.network.transit, unlimited rides):
    'wait' nodes are a stop's departures in time order joined by waiting arcs; boarding leads on board
    ('dep'), ride arcs run along the trip, alighting gives 'arr', which walks to the first catchable
    departure at each stop within transfer_max_m (at least min_transfer_s) and to the destinations."""

    def __init__(self, feed, d_xy, *, t0, t1, walk_kmh, circuity, max_walk_m, transfer_max_m, min_transfer_s):
        self.speed, self.c, self.max_walk = walk_kmh / 3.6, circuity, max_walk_m
        self.sxy = np.column_stack([feed.stop_x, feed.stop_y])
        self.tree = cKDTree(self.sxy)
        H = nx.DiGraph()
        self.by_stop: dict[int, list] = {}
        trips = []
        for t in range(feed.n_trips):
            s = np.arange(feed.trip_ptr[t], feed.trip_ptr[t + 1])
            s = s[(feed.st_dep[s] >= t0) & (feed.st_arr[s] <= t1)]
            if len(s) >= 2:
                trips.append(s)
        for s in trips:
            for k, i in enumerate(s[:-1]):
                if feed.st_pickup[i]:
                    self.by_stop.setdefault(int(feed.st_stop[i]), []).append((int(feed.st_dep[i]), int(i)))
                if k + 1 < len(s) - 1:
                    H.add_edge(("dep", i), ("dep", s[k + 1]), weight=int(feed.st_dep[s[k + 1]] - feed.st_dep[i]))
                if feed.st_dropoff[s[k + 1]]:
                    H.add_edge(("dep", i), ("arr", s[k + 1]), weight=int(feed.st_arr[s[k + 1]] - feed.st_dep[i]))
        for stop, evs in self.by_stop.items():
            evs.sort()
            for a, b in zip(evs, evs[1:]):
                H.add_edge(("wait", a[1]), ("wait", b[1]), weight=b[0] - a[0])
            for _, i in evs:
                H.add_edge(("wait", i), ("dep", i), weight=0)
        dtree = cKDTree(d_xy)
        for s in trips:
            for i in s[1:]:
                if not feed.st_dropoff[i]:
                    continue
                st, a = int(feed.st_stop[i]), int(feed.st_arr[i])
                p = self.sxy[st]
                for j in dtree.query_ball_point(p, max_walk_m / circuity + 1):
                    w = float(np.hypot(*(p - d_xy[j]))) * circuity
                    if w <= max_walk_m:
                        H.add_edge(("arr", i), ("dest", j), weight=w / self.speed)
                for s2 in self.tree.query_ball_point(p, transfer_max_m / circuity + 1):
                    w = float(np.hypot(*(p - self.sxy[s2]))) * circuity
                    if s2 != st and w > transfer_max_m:
                        continue
                    tw = min_transfer_s if s2 == st else max(min_transfer_s, w / self.speed)
                    self._catch(H, ("arr", i), s2, a + tw, a)
        self.H, self.d_xy = H, d_xy

    def _catch(self, H, u, stop, ready, base):
        evs = self.by_stop.get(stop, [])
        k = bisect.bisect_left(evs, (ready, -1))
        if k < len(evs):
            H.add_edge(u, ("wait", evs[k][1]), weight=evs[k][0] - base)

    def times(self, o_xy, taus, max_s) -> np.ndarray:
        """Seconds [destination, minute] from one origin (inf beyond max_s)."""
        H = self.H
        out = np.full((len(self.d_xy), len(taus)), np.inf)
        near = self.tree.query_ball_point(o_xy, self.max_walk / self.c + 1)
        acc = [(s, float(np.hypot(*(o_xy - self.sxy[s]))) * self.c) for s in near]
        direct = np.hypot(*(self.d_xy - o_xy).T) * self.c
        for m, tau in enumerate(taus):
            src = ("src", m)
            H.add_node(src)
            for s, w in acc:
                if w <= self.max_walk:
                    self._catch(H, src, s, tau + w / self.speed, tau)
            for j, w in enumerate(direct):
                if w <= self.max_walk:
                    H.add_edge(src, ("dest", j), weight=w / self.speed)
            dist = nx.single_source_dijkstra_path_length(H, src, cutoff=max_s)
            for j in range(len(self.d_xy)):
                out[j, m] = dist.get(("dest", j), np.inf)
            H.remove_node(src)
        return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--nx-origins", type=int, default=3)
    args = ap.parse_args()
    bus, rail, origins, shops = load()
    print(f"lisgeo transit benchmark, {dt.datetime.now():%Y-%m-%dT%H:%M}")
    print(f"machine: {platform.platform()}, {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    import gtfs_kit
    import scipy

    print(f"gtfs-kit {gtfs_kit.__version__}, networkx {nx.__version__}, scipy {scipy.__version__}, numpy {np.__version__}")
    q = dict(departure="08:00", window_min=60, percentile=50)

    def read():
        return read_gtfs([bus, rail], date=DAY, start="07:00", end="09:00", max_time_min=120)

    times = {k: [] for k in ("read", "prepare", "matrix45", "matrix60", "cold45")}
    for _ in range(args.repeats):  # interleaved: every step once per round
        feed, t_r = timed(read)
        graph, t_p = timed(lambda: prepare_transit(feed))
        m45, t_45 = timed(lambda: transit_matrix(feed, origins, shops, max_time_min=45, **q))
        m60, t_60 = timed(lambda: transit_matrix(feed, origins, shops, max_time_min=60, **q))
        times["read"].append(t_r)
        times["prepare"].append(t_p)
        times["matrix45"].append(t_45)
        times["matrix60"].append(t_60)
        times["cold45"].append(t_r + t_p + t_45)
    print(f"\nfeed: {feed}")
    print(f"graph: {graph}")
    print(f"matrix: {len(origins)} origins x {len(shops)} supermarkets x 60 departure minutes; "
          f"reached (median <= 45 min): {int(m45.notna().to_numpy().sum())} of {m45.size} pairs, "
          f"{m45.notna().any(axis=1).mean():.1%} of OAs reach one; <= 60 min: {int(m60.notna().to_numpy().sum())} pairs")

    # memory, a separate pass
    mem = {"read": peak_mb(read)}
    fresh = read()
    mem["prepare"] = peak_mb(lambda: prepare_transit(fresh))
    mem["matrix45"] = peak_mb(lambda: transit_matrix(fresh, origins, shops, max_time_min=45, **q))
    mem["matrix60"] = peak_mb(lambda: transit_matrix(fresh, origins, shops, max_time_min=60, **q))

    # networkx brute force on sampled origins, all 60 minutes, 45-minute maximum
    rng = np.random.default_rng(0)
    sample = origins.iloc[np.sort(rng.choice(len(origins), args.nx_origins, replace=False))]
    taus = [8 * 3600 + 60 * m for m in range(60)]
    d27 = shops.to_crs(27700)
    d_xy = np.column_stack([d27.geometry.x, d27.geometry.y])
    walk = {k: DEFAULTS[k] for k in ("walk_kmh", "circuity", "max_walk_m", "transfer_max_m", "min_transfer_s")}
    bf, t_bf_build = timed(lambda: BruteForce(feed, d_xy, t0=taus[0], t1=taus[-1] + 45 * 60, **walk))
    res, t_bf = timed(lambda: np.stack([bf.times(np.array([p.x, p.y]), taus, 45 * 60) for p in sample.geometry]))
    mine = transit_times_by_minute(feed, sample, shops, max_time_min=45, departure="08:00", window_min=60)
    mine = mine.to_numpy().reshape(len(sample), len(shops), 60)
    ref = np.where(np.isfinite(res), res / 60, np.nan)
    same_nan = bool((np.isnan(mine) == np.isnan(ref)).all())
    both = ~np.isnan(ref)
    diff = float(np.abs(mine[both] - ref[both]).max() * 60) if both.any() else 0.0
    agree = f"{'yes' if same_nan and diff < 1e-6 else 'NO'} (max |d| {diff:.1e} s, {int(both.sum())} reached)"
    t_bf_all = t_bf_build + t_bf * len(origins) / len(sample)

    def row(label, key, note=""):
        v = times[key]
        print(f"{label:<58}{min(v):9.3f}{statistics.median(v):9.3f}{mem.get(key, float('nan')):9.1f}  {note}")

    print(f"\n{'step (' + str(args.repeats) + ' interleaved repeats)':<58}{'min s':>9}{'median s':>9}{'peak MB':>9}")
    row("read both feeds (gtfs-kit + checks + arrays)", "read")
    row("prepare (time-expanded graph, cold)", "prepare")
    row("matrix, 45 min max (prepared graph)", "matrix45")
    row("matrix, 60 min max (prepared graph)", "matrix60")
    row("total cold: read + prepare + matrix 45", "cold45")
    print(f"{'networkx brute force: graph build (once)':<58}{t_bf_build:9.3f}")
    print(f"{'networkx brute force: %d origins x 60 minutes' % len(sample):<58}{t_bf:9.3f}{'':>18}  agrees: {agree}")
    print(f"{'networkx brute force, all %d origins (EXTRAPOLATED)' % len(origins):<58}{t_bf_all:9.1f}{'':>18}  "
          f"= {t_bf_all / min(times['matrix45']):.0f}x the prepared matrix, "
          f"{t_bf_all / min(times['cold45']):.0f}x cold")


if __name__ == "__main__":
    main()
