"""Benchmark: the speed of everyday use – ``lisgeo score`` and ``lisgeo build``, cold and warm, and the
per-call overheads that the disk caches and the engine's caching removed (issue 9).

Run by hand (never in CI):  python benchmarks/bench_everyday.py [--region d2n2] [--rounds 2] [--skip-build]

1. Commands, each in a fresh process (``subprocess``) with its own temporary ``LISGEO_CACHE_DIR``:
   *cold* = an empty cache folder (nothing cached: layers read, network built, IoD parsed, scored),
   *warm* = the same command again on the cache the cold run left. ``lisgeo score`` also
   recomputes the strategy's claims and writes scores.gpkg/csv; ``score_region`` alone is timed
   too (``python -c``), and ``lisgeo score --no-claims``. Each round uses new cache folders; min
   and median over the rounds. (What a change gains is measured by ``bench_ab.py``: interleaved
   pairs in the same minutes.)
2. Per-call overheads, in this process on the region's real graph, before (the old code path,
   reproduced here) and after, min of ``--repeats`` runs: the engine's graph fingerprint per matrix
   call, the copy ``build_network`` made per call, two passes over the edges for the car and rail
   engines, the IoD ``.rda`` parse per process, ``method="auto"`` for rail with a 60-minute cut-off,
   the network build per process.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

os.environ.setdefault("LISGEO_DATA_DIR", os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data"))
os.environ.pop("LISGEO_NO_CACHE", None)


def _run(cmd: list[str], cache: Path) -> float:
    env = {**os.environ, "LISGEO_CACHE_DIR": str(cache)}
    env.pop("LISGEO_NO_CACHE", None)
    t = time.perf_counter()
    res = subprocess.run(cmd, env=env, capture_output=True, text=True)
    sec = time.perf_counter() - t
    if res.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({res.returncode}):\n{res.stderr[-2000:]}")
    return sec


def commands(region: str, rounds: int, skip_build: bool, work: Path) -> list[tuple[str, list[float], str]]:
    lisgeo = [sys.executable, "-m", "lisgeo"]
    py_score = [sys.executable, "-c", f"from lisgeo.pipeline import score_region; score_region(region={region!r})"]
    rows: dict[str, list[float]] = {}
    targets = {"lisgeo score, cold": "<= 12 s", "lisgeo score, warm": "<= 3 s",
               "lisgeo build, cold": "<= 25 s", "lisgeo build, warm": "<= 8 s"}
    for r in range(rounds):
        for what, cmd in (("score_region", py_score),
                          ("lisgeo score --no-claims", lisgeo + ["score", "--region", region, "--no-claims"]),
                          ("lisgeo score", lisgeo + ["score", "--region", region])):
            cache = work / f"cache-{what.replace(' ', '_')}-{r}"
            for state in ("cold", "warm"):
                out = ["-o", str(work / f"out-{what.replace(' ', '_')}-{r}-{state}")] if what != "score_region" else []
                sec = _run(cmd + out, cache)
                rows.setdefault(f"{what}, {state}", []).append(sec)
                print(f"  round {r + 1}: {what}, {state}: {sec:.1f} s", flush=True)
            shutil.rmtree(cache, ignore_errors=True)
        if not skip_build:
            cache = work / f"cache-build-{r}"
            for state in ("cold", "warm"):
                sec = _run(lisgeo + ["build", "--region", region, "-o", str(work / f"build-{r}-{state}")], cache)
                rows.setdefault(f"lisgeo build, {state}", []).append(sec)
                print(f"  round {r + 1}: lisgeo build, {state}: {sec:.1f} s", flush=True)
            shutil.rmtree(cache, ignore_errors=True)
    return [(k, v, targets.get(k, "")) for k, v in rows.items()]


def best(fn, repeats: int) -> float:
    ts = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t)
    return min(ts)


def overheads(region: str, repeats: int, work: Path) -> list[tuple[str, float, float]]:
    os.environ["LISGEO_CACHE_DIR"] = str(work / "cache-overheads")
    from lisgeo.layers import deprivation
    from lisgeo.network import engine as eng
    from lisgeo.network import graph as graph_mod
    from lisgeo.network.schema import NodeKind
    from lisgeo.pipeline.score import score_network

    eng._ROWS_KEPT = 0  # every timed call searches: the engine's memo of searches is for scenario runs
    rows = []
    t0 = time.perf_counter()
    G0 = score_network(region)  # builds (cold cache) and stores the build on disk
    t_build = time.perf_counter() - t0
    graph_mod._build_cached.cache_clear()
    t_disk = best(lambda: (graph_mod._build_cached.cache_clear(), score_network(region)), 1)
    rows.append(("network per process: build vs read back from the disk cache", t_build, t_disk))
    G = score_network(region)

    def old_fingerprint():  # what build_engine did on every call before
        t = [d.get("time_min") for *_, d in G.edges(data=True)]
        arr = np.asarray([np.nan if x is None else x for x in t], dtype="float64")
        return (G.number_of_nodes(), G.number_of_edges(), float(np.nansum(arr * np.arange(1, len(arr) + 1) % 1e6)))

    eng.build_engine(G, mode="car")
    rows.append(("engine lookup per matrix call (graph fingerprint)", best(old_fingerprint, repeats),
                 best(lambda: eng.build_engine(G, mode="car"), repeats)))
    rows.append(("build_network per call after the first: G.copy() vs copy=False (frozen, shared)",
                 best(lambda: G0.copy(), repeats), best(lambda: score_network(region), repeats)))
    rows.append(("build_network(copy=True): G.copy() vs the direct copy", best(lambda: G0.copy(), repeats),
                 best(lambda: graph_mod._copy_graph(G0), repeats)))

    def two_passes():
        eng.Engine(G, "car"), eng.Engine(G, "rail")

    def one_pass():
        table = eng._edge_table(G)
        eng.Engine(G, "car", edges=table), eng.Engine(G, "rail", edges=table)

    rows.append(("car + rail engines: two passes over the edges vs one shared", best(two_passes, repeats), best(one_pass, repeats)))

    codes = [n for n, k in G.nodes(data="kind") if k == NodeKind.ZONE]
    dests = [n for n, k in G.nodes(data="kind") if k == NodeKind.DEST]
    rail = eng.Engine(G, "rail")

    def rail_cut(method):
        e = eng.Engine.__new__(eng.Engine)
        e.__dict__.update(rail.__dict__)
        e._prep = None
        return e.matrix(codes, codes + dests, cutoff_min=60.0, method=method)

    rows.append(("rail zones x (zones + job destinations), 60 min cut-off: structured vs auto (bounded Dijkstra)",
                 best(lambda: rail_cut("structured"), repeats), best(lambda: rail_cut("auto"), repeats)))

    import rdata

    def parse():
        for ds in ("imd2025_lsoa21", "imd2025_lsoa21_subdomains", "imd2025_lsoa21_indicators"):
            (path,) = deprivation.resolve_dataset(ds)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                rdata.read_rda(str(path))

    def cached():
        for ds in ("imd2025_lsoa21", "imd2025_lsoa21_subdomains", "imd2025_lsoa21_indicators"):
            deprivation._read_rda(ds)

    def compiled():
        for ds in ("imd2025_lsoa21", "imd2025_lsoa21_subdomains", "imd2025_lsoa21_indicators"):
            deprivation.read_rda_frame(deprivation.resolve_dataset(ds)[0])

    cached()  # fills the cache
    rows.append(("IoD 2025 .rda files per process (cold): rdata parse vs pyreadr parse", best(parse, 1), best(compiled, repeats)))
    rows.append(("IoD 2025 .rda files per process: rdata parse vs Parquet cache", best(parse, 1), best(cached, repeats)))
    return rows


def machine_speed() -> float:
    """Seconds for a fixed workload (pure Python and a numpy sort, min of 3): the same on every
    run of the same machine when it is as fast; printed at the start and end of a run, so that runs
    on a shared machine can be compared (lower is faster)."""
    rng = np.random.default_rng(0)
    a = rng.random(2_000_000)

    def work():
        sum(i * i for i in range(1_500_000))
        np.sort(a)

    return best(work, 3)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--region", default="d2n2")
    ap.add_argument("--rounds", type=int, default=2, help="rounds of cold + warm command runs")
    ap.add_argument("--repeats", type=int, default=5, help="repeats of each per-call measurement (min reported)")
    ap.add_argument("--skip-build", action="store_true")
    ap.add_argument("--skip-commands", action="store_true")
    args = ap.parse_args(argv)
    print(f"lisgeo everyday benchmark, {dt.datetime.now().isoformat(timespec='minutes')}")
    print(f"machine: {platform.platform()}, {os.cpu_count()} cores, Python {sys.version.split()[0]}; "
          f"load average {os.getloadavg()[0]:.1f} at the start; machine speed (fixed workload) {machine_speed():.3f} s")
    with tempfile.TemporaryDirectory(prefix="lisgeo-bench-") as tmp:
        work = Path(tmp)
        if not args.skip_commands:
            print(f"\ncommands (--region {args.region}; fresh process each; {args.rounds} rounds):", flush=True)
            rows = commands(args.region, args.rounds, args.skip_build, work)
            print(f"\n{'command':34s} {'min s':>7s} {'median s':>9s}  target")
            for name, ts, target in rows:
                print(f"{name:34s} {min(ts):7.1f} {statistics.median(ts):9.1f}  {target}")
        print(f"\nper-call overheads (min of {args.repeats}; seconds):", flush=True)
        rows = overheads(args.region, args.repeats, work)
        print(f"{'what':100s} {'before':>8s} {'after':>8s}")
        for name, before, after in rows:
            print(f"{name:100s} {before:8.3f} {after:8.3f}")
    print(f"\nmachine speed (fixed workload) at the end: {machine_speed():.3f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
