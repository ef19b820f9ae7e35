"""Benchmark: ``lisgeo score`` from a region to all of England: wall time and peak memory (issue 23).

Run by hand (never in CI):

    python benchmarks/bench_national.py                       # the four sizes below, warm data cache
    python benchmarks/bench_national.py --regions england     # one region
    python benchmarks/bench_national.py --scheduler local     # England on a LocalCluster of 2 workers too

Each region is scored by the command a planner types, ``lisgeo score --region R -o OUT``, in a fresh
process with the disk cache of results off (``LISGEO_NO_CACHE=1``: every block is scored, nothing is
read back) and the data folder warm (the files read before, so the page cache holds them). The
command's whole process tree is sampled every 0.2 s (``psutil``): the peak of the summed resident
set (RSS) and of the summed proportional set (PSS: a page shared by the forked or spawned Dask
workers counted once across them), the command's wall time, and the rows written.

Sizes (districts): Leicester and Leicestershire (8), D2N2 and Leicester and Leicestershire (25),
the East Midlands, West Midlands and North West (100: scored in blocks), England (296).
``--scheduler local`` also runs the largest region on a ``dask.distributed`` ``LocalCluster`` of two
worker processes started here (``--scheduler ADDRESS``: one that runs already), to time the same job
there: its workers are outside the command's process tree, so this process's children are sampled
(the command and the cluster's processes).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

os.environ.setdefault("LISGEO_DATA_DIR", os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data"))

SIZES = {
    "llep": "llep",
    "d2n2_llep": "d2n2_llep",
    "three ITL1 regions": None,  # filled in main(): the East Midlands, West Midlands and North West
    "england": "england",
}


def _three_regions() -> str:
    from lisgeo.regions import get_region

    codes: list[str] = []
    for name in ("itl1:East Midlands", "itl1:West Midlands", "itl1:North West"):
        codes += list(get_region(name).lad_codes)
    return ",".join(codes)


class _Sampler(threading.Thread):
    """Samples the summed RSS and PSS of a process tree (and of extra pids) every ``every`` seconds."""

    def __init__(self, pid: int, *, every: float = 0.2, cluster: bool = False):
        super().__init__(daemon=True)
        self.pid, self.every, self.cluster = pid, every, cluster
        self.peak_rss = self.peak_pss = 0
        self.stop = threading.Event()

    def _procs(self) -> list[psutil.Process]:
        try:
            # with a LocalCluster started here, this process's children: the command and the cluster's workers
            root = psutil.Process(os.getpid() if self.cluster else self.pid)
            return [p for p in (root, *root.children(recursive=True)) if not self.cluster or p.pid != os.getpid()]
        except psutil.NoSuchProcess:
            return []

    def run(self) -> None:
        while not self.stop.is_set():
            rss = pss = 0
            for p in self._procs():
                try:
                    m = p.memory_full_info()
                    rss += m.rss
                    pss += getattr(m, "pss", m.rss)
                except (psutil.NoSuchProcess, psutil.AccessDenied):
                    pass
            self.peak_rss, self.peak_pss = max(self.peak_rss, rss), max(self.peak_pss, pss)
            self.stop.wait(self.every)


def run(label: str, region: str, *, scheduler: str | None = None, cluster: bool = False) -> dict:
    out = Path(tempfile.mkdtemp(prefix="lisgeo-bench-national-")) / "out"
    cmd = [sys.executable, "-m", "lisgeo", "score", "--region", region, "-o", str(out), "-q"]
    if scheduler:
        cmd += ["--scheduler", scheduler]
    env = {**os.environ, "LISGEO_NO_CACHE": "1"}
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    sampler = _Sampler(proc.pid, cluster=cluster)
    sampler.start()
    stdout, stderr = proc.communicate()
    wall = time.perf_counter() - t0
    sampler.stop.set()
    sampler.join()
    if proc.returncode != 0:
        raise SystemExit(f"{label}: lisgeo score failed ({proc.returncode}):\n{stderr[-3000:]}")
    import pandas as pd

    rows = len(pd.read_csv(out / "scores.csv", usecols=["LSOA21CD"]))
    from lisgeo.regions import get_region

    n_lad = len(get_region(region).lad_codes)
    return {"out": out, "region": label, "districts": n_lad, "zones": rows, "scheduler": scheduler or "local processes",
            "wall_s": round(wall, 1), "peak_rss_gb": round(sampler.peak_rss / 1e9, 2),
            "peak_pss_gb": round(sampler.peak_pss / 1e9, 2), "gb_per_1000_zones": round(sampler.peak_pss / 1e9 / rows * 1000, 3)}


def _compare(a: Path, b: Path) -> str:
    """How the scores of two runs of one region compare (local processes against a cluster): numbers
    to 1e-12 relative; an index made of ranks to one rank step; text equal."""
    import numpy as np
    import pandas as pd

    x, y = pd.read_csv(a / "scores.csv", index_col="LSOA21CD"), pd.read_csv(b / "scores.csv", index_col="LSOA21CD")
    if list(x.index) != list(y.index) or list(x.columns) != list(y.columns):
        return "the two runs' scores differ in their rows or columns"
    step = 100 / len(x)
    worst, bad = {}, []
    for c in x.columns:
        if pd.api.types.is_numeric_dtype(x[c]) and not pd.api.types.is_bool_dtype(x[c]):
            u, v = x[c].astype(float), y[c].astype(float)
            tol = 1.5 * step if c.endswith("_index") else 0.0
            if not np.allclose(u, v, rtol=1e-12, atol=tol, equal_nan=True):
                bad.append(c)
            worst[c] = float(np.nanmax(np.abs(u - v))) if len(u) else 0.0
        elif not x[c].fillna("").astype(str).equals(y[c].fillna("").astype(str)):
            bad.append(c)
    moved = {c: f"{w:.1e}" for c, w in worst.items() if w > 0}
    return (f"cluster vs local processes: {'identical' if not bad else 'DIFFERENT in ' + ', '.join(bad)} "
            f"(numbers to 1e-12 relative, indices to one rank step); columns not bit-equal, largest difference: {moved or 'none'}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--regions", nargs="*", default=list(SIZES), help="labels of SIZES (default all four)")
    ap.add_argument("--scheduler", default=None, help="'local' (a LocalCluster of 2 workers) or a scheduler address")
    args = ap.parse_args(argv)
    SIZES["three ITL1 regions"] = _three_regions()
    results = []
    for label in args.regions:
        region = SIZES.get(label, label)
        r = run(label, region)
        print(r, flush=True)
        results.append(r)
    if args.scheduler:
        label = args.regions[-1]
        region = SIZES.get(label, label)
        if args.scheduler == "local":
            from distributed import LocalCluster

            os.environ["LISGEO_NO_CACHE"] = "1"  # the cluster's workers score afresh too (they inherit this)

            with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
                r = run(label, region, scheduler=cluster.scheduler_address, cluster=True)
                r["scheduler"] = "LocalCluster (2 workers)"
        else:
            r = run(label, region, scheduler=args.scheduler)
        print(r, flush=True)
        results.append(r)
        same = _compare(results[-2]["out"], r["out"]) if len(results) > 1 and results[-2]["region"] == label else None
        if same:
            print(same, flush=True)
    cpu = platform.processor() or platform.machine()
    print(f"\n{dt.date.today()}, {os.cpu_count()} cores, {psutil.virtual_memory().total / 2**30:.0f} GiB, {cpu}, "
          f"Python {platform.python_version()}; warm data folder, results cache off")
    print("| region | districts | LSOAs | scheduler | wall (s) | peak RSS, tree (GB) | peak PSS, tree (GB) | GB per 1,000 LSOAs (PSS) |")
    print("|---|---|---|---|---|---|---|---|")
    for r in results:
        print(f"| {r['region']} | {r['districts']} | {r['zones']:,} | {r['scheduler']} | {r['wall_s']} | {r['peak_rss_gb']} | "
              f"{r['peak_pss_gb']} | {r['gb_per_1000_zones']} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
