"""Benchmark: what ``method="auto"`` picks against each method it could pick, on the real region
graphs, and where the engine's lead over one all-at-once scipy call comes from (issue 23, item 5).

Run by hand (never in CI):  python benchmarks/bench_auto.py [--regions d2n2 d2n2_llep] [--rounds 3]

For each region the network is built once (``build_network``), then the three matrices the scores
make are timed on a **fresh engine** each run (what a cold ``lisgeo score`` pays; the engine's CSR
and its cached rows are rebuilt), min over ``--rounds`` interleaved rounds:

- car: zones to zones, job destinations and sites, no cut-off;
- rail: zones to zones and job destinations with a 60-minute cut-off (the job counts);
- rail: zones to zones, no cut-off.

Methods: ``dijkstra`` (scipy per origin on the engine's graph, skipping the links into sinks: by car
the stations, which no drive passes through), ``structured`` cold (precompute + query),
``structured`` prepared (the query alone, on an engine whose precompute is done), ``auto``, and
``scipy whole`` (one ``scipy.sparse.csgraph.dijkstra`` call from every zone over the mode's whole
graph, ``mode_edges``: links into stations included, and a drive may pass through a zone, as a user
of scipy would write it). Every method's answers are checked equal to
``dijkstra``'s (``scipy whole`` leaves out the origins' twins, so it is timed, not compared).
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np

os.environ.setdefault("LISGEO_DATA_DIR", os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data"))


def _fresh(G, mode):
    from lisgeo.network import engine as E

    E.forget_rows()
    return E.Engine(G, mode)


def main(argv: list[str] | None = None) -> int:
    import pandas as pd
    import scipy.sparse as sp
    from scipy.sparse.csgraph import dijkstra

    from lisgeo.network import build_network
    from lisgeo.network.engine import mode_edges
    from lisgeo.network.schema import NodeKind

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--regions", nargs="*", default=["d2n2", "d2n2_llep"])
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args(argv)
    print(f"{time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"load {os.getloadavg()[0]:.1f}; min of {args.rounds} interleaved rounds, fresh engine each run (seconds)")
    print("| region | matrix | dijkstra | structured, cold | structured, prepared | auto (picks) | scipy whole |")
    print("|---|---|---|---|---|---|---|")
    for region in args.regions:
        G = build_network(region=region, copy=False)
        kinds = dict(G.nodes(data="kind"))
        zones = [n for n, k in kinds.items() if k == NodeKind.ZONE]
        dests = [n for n, k in kinds.items() if k == NodeKind.DEST]
        sites = [n for n, k in kinds.items() if k == NodeKind.SITE]
        cases = [("car", "car: zones to all", zones + dests + sites, None),
                 ("rail", "rail: zones to all, 60 min", zones + dests, 60.0),
                 ("rail", "rail: zones to zones", zones, None)]
        for mode, label, dest, cut in cases:
            # the mode's whole graph as a scipy user would build it (every edge of the mode, the
            # fastest of parallel links), built before the clock as the engines are
            e = mode_edges(G, mode).groupby(["u", "v"], as_index=False)["time_min"].min()
            codes, nodes = pd.factorize(pd.concat([e["u"], e["v"]], ignore_index=True))
            m = len(e)
            whole_csr = sp.csr_array((e["time_min"].to_numpy(float), (codes[:m], codes[m:])), shape=(len(nodes), len(nodes)))
            whole_o = nodes.get_indexer(zones)
            times: dict[str, list[float]] = {}
            picked = ""
            ref = None
            for _ in range(args.rounds):
                for method in ("dijkstra", "structured", "prepared", "auto", "scipy whole"):
                    eng = _fresh(G, mode)
                    if method == "prepared":
                        eng.prepare()
                    t0 = time.perf_counter()
                    if method == "scipy whole":
                        dijkstra(whole_csr, directed=True, indices=whole_o, limit=np.inf if cut is None else cut)
                        out = None
                    else:
                        out = eng.matrix(zones, dest, cutoff_min=cut, method="structured" if method == "prepared" else method)
                    times.setdefault(method, []).append(time.perf_counter() - t0)
                    if out is not None:
                        if ref is None:
                            ref = out.to_numpy()
                        elif not np.allclose(out.to_numpy(), ref, equal_nan=True, rtol=0, atol=1e-9):
                            raise SystemExit(f"{region} {label}: {method} differs from dijkstra")
                    if method == "auto":
                        picked = _picked(eng, len(zones), len(dest), cut)
            t = {m: min(v) for m, v in times.items()}
            whole = f"{t['scipy whole']:.2f}"
            print(f"| {region} | {label} | {t['dijkstra']:.2f} | {t['structured']:.2f} | {t['prepared']:.2f} | "
                  f"{t['auto']:.2f} ({picked}) | {whole} |", flush=True)
        del G
    return 0


def _picked(eng, n_o: int, n_d: int, cut: float | None) -> str:
    """The method ``auto`` took, by the engine's rule (lisgeo.network.engine.Engine.matrix)."""
    from lisgeo.network.engine import AUTO_BOUNDED_MAX_MIN

    if 4 * n_d < n_o:
        return "reverse"
    if eng._prep is not None:
        return "structured"
    if (cut is not None and cut <= AUTO_BOUNDED_MAX_MIN) or not eng._structure_pays(n_o):
        return "dijkstra"
    return "structured"


if __name__ == "__main__":
    raise SystemExit(main())
