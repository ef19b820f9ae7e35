"""Benchmark: the peak memory and wall time of ``lisgeo validate`` (issue 23: peak ≤ 1.5 GB).

Run by hand (never in CI), from the repository root:

    python benchmarks/bench_validate_memory.py                       # this checkout, 2 rounds, cold then warm
    python benchmarks/bench_validate_memory.py --a 93c53e3 --rounds 3  # A = that commit, B = this checkout
    python benchmarks/bench_validate_memory.py --no-warm -- --no-connectivity   # extra options for validate

Each run is a fresh ``python -m lisgeo validate --region R -o OUT`` process (with ``PYTHONPATH`` at
the version's tree, as ``bench_ab.py`` makes it: this checkout, a folder, or a ``git worktree`` of a
revision) and its own ``LISGEO_CACHE_DIR``: *cold* = an empty cache folder, *warm* = the same
command again on the cache the cold run left. While it runs, the script samples every 50 ms the
resident set size (RSS) of the command and of every process below it (``psutil``): **tree peak** is
the largest sum over the tree at one sample, **process peak** the largest single process (what
``/usr/bin/time -v`` calls "Maximum resident set size"); the kernel's own high-water mark of the
command, ``ru_maxrss`` from ``wait4``, is printed beside it, since a 50 ms sample can miss a short
spike. With
two versions the runs alternate (A B, B A, ...), so both meet the same load; the wall time on this
shared 2-core machine swings by 10-30 %, the memory does not.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_ab import REPO, _tree  # noqa: E402  (the same version trees as the A/B benchmark)

os.environ.setdefault("LISGEO_DATA_DIR", str(REPO.parent / "shared" / "data"))

#: Sampling interval of the process tree's RSS (seconds).
INTERVAL = 0.05


@dataclass
class Run:
    wall: float
    tree_peak_mb: float
    proc_peak_mb: float
    maxrss_mb: float
    load: float


def _tree_rss(proc: psutil.Process) -> tuple[int, int]:
    """(sum, largest) RSS in bytes of ``proc`` and its descendants now; processes gone meanwhile count 0."""
    total = largest = 0
    try:
        procs = [proc, *proc.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0, 0
    for p in procs:
        try:
            rss = p.memory_info().rss
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        total += rss
        largest = max(largest, rss)
    return total, largest


def run_once(tree: Path, cmd: list[str], cache: Path, out: Path, work: Path) -> Run:
    """One ``lisgeo validate`` run, sampled every :data:`INTERVAL` seconds until it exits."""
    env = {**os.environ, "PYTHONPATH": str(tree), "LISGEO_CACHE_DIR": str(cache)}
    for var in ("LISGEO_NO_CACHE", "LISGEO_WORKERS"):
        env.pop(var, None)
    load = os.getloadavg()[0]
    t = time.perf_counter()
    log = work / "stderr.txt"
    with open(log, "w") as fh:
        popen = subprocess.Popen([sys.executable, "-m", "lisgeo", *cmd, "-o", str(out)], env=env, cwd=work,
                                 stdout=subprocess.DEVNULL, stderr=fh)
    proc = psutil.Process(popen.pid)
    tree_peak = proc_peak = 0
    while True:
        pid, status, ru = os.wait4(popen.pid, os.WNOHANG)  # (the command's own rusage: its ru_maxrss)
        if pid:
            break
        total, largest = _tree_rss(proc)
        tree_peak, proc_peak = max(tree_peak, total), max(proc_peak, largest)
        time.sleep(INTERVAL)
    sec = time.perf_counter() - t
    popen.returncode = os.waitstatus_to_exitcode(status)
    err = log.read_text(errors="replace")
    if popen.returncode != 0:
        raise SystemExit(f"lisgeo {' '.join(cmd)} ({tree}) failed ({popen.returncode}):\n{err[-2000:]}")
    maxrss = ru.ru_maxrss  # kB on Linux
    return Run(sec, tree_peak / 2**20, proc_peak / 2**20, maxrss / 1024, load)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--a", default=None, help="version A: a git revision or a folder (left out: only B is run)")
    ap.add_argument("--b", default=None, help="version B: a git revision or a folder (default: this checkout as it is)")
    ap.add_argument("--region", default="d2n2_llep")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--no-warm", dest="warm", action="store_false", help="cold runs only")
    ap.add_argument("--keep", type=Path, default=None, help="copy each run's output folder into KEEP/<version>-<round>-<state>")
    ap.add_argument("extra", nargs="*", help="more options for lisgeo validate (after --)")
    args = ap.parse_args(argv)
    cmd = ["validate", "--region", args.region, *args.extra]
    states = ("cold", "warm") if args.warm else ("cold",)
    with tempfile.TemporaryDirectory(prefix="lisgeo-valmem-") as tmp:
        work = Path(tmp)
        trees: dict[str, Path] = {}
        try:
            if args.a is not None:
                trees["A"] = _tree(args.a, work, "A")
            trees["B"] = _tree(args.b, work, "B")
            print(f"lisgeo {' '.join(cmd)}; " + ", ".join(f"{v} = {getattr(args, v.lower()) or 'this checkout'}" for v in trees)
                  + f"; {args.rounds} round(s), {' then '.join(states)}; {os.cpu_count()} cores, "
                  f"{psutil.virtual_memory().total / 2**30:.0f} GB; {time.strftime('%Y-%m-%d %H:%M')}", flush=True)
            runs: dict[tuple[str, str], list[Run]] = {}
            k = 0
            for i in range(args.rounds):
                order = list(trees) if i % 2 == 0 else list(trees)[::-1]
                for v in order:
                    k += 1
                    cache = work / f"cache-{k}"
                    try:
                        for state in states:
                            out = work / f"out-{k}-{state}"
                            time.sleep(1.0)
                            r = run_once(trees[v], cmd, cache, out, work)
                            runs.setdefault((v, state), []).append(r)
                            if args.keep is not None:
                                shutil.copytree(out, args.keep / f"{v}-{i + 1}-{state}", dirs_exist_ok=True)
                            shutil.rmtree(out, ignore_errors=True)
                            print(f"  round {i + 1} {v} {state}: {r.wall:.1f} s, tree peak {r.tree_peak_mb:,.0f} MB, "
                                  f"process peak {r.proc_peak_mb:,.0f} MB (ru_maxrss {r.maxrss_mb:,.0f} MB), "
                                  f"load {r.load:.1f}", flush=True)
                    finally:
                        shutil.rmtree(cache, ignore_errors=True)
            print("| version | state | runs | tree peak MB (max) | process peak MB (max) | wall s min (median) | load |")
            print("|---|---|---|---|---|---|---|")
            for (v, state), rs in runs.items():
                walls = [r.wall for r in rs]
                print(f"| {v} ({getattr(args, v.lower()) or 'this checkout'}) | {state} | {len(rs)} | "
                      f"{max(r.tree_peak_mb for r in rs):,.0f} | {max(r.proc_peak_mb for r in rs):,.0f} | "
                      f"{min(walls):.1f} ({statistics.median(walls):.1f}) | "
                      f"{min(r.load for r in rs):.1f}-{max(r.load for r in rs):.1f} |")
        finally:
            for path in trees.values():
                if path.parent == work:
                    subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(path)],
                                   capture_output=True, text=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
