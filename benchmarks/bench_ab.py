"""Benchmark: two versions of lisgeo against each other, in the same minutes (interleaved A/B).

Run by hand (never in CI), from the repository root:

    python benchmarks/bench_ab.py --a 7f5321b                  # A = that commit, B = this checkout
    python benchmarks/bench_ab.py --a 7f5321b --b HEAD --command build --pairs 3

This machine's speed swings by 10-30 % within an hour, so two runs of ``bench_everyday.py`` an hour
apart cannot show a change of 10 %. Here each pair runs A then B, one after the other, each cold: a
fresh ``python -m lisgeo <command> --region R -o OUT`` process with an empty ``LISGEO_CACHE_DIR``,
started from a temporary folder with ``PYTHONPATH`` at the version's tree (a ``git worktree`` of
the revision, compiled first, or this checkout for ``--b`` left out). The script waits for a
command's write-behind before the next one starts. It prints every run, the means and medians, and
in how many pairs B was faster.
"""

from __future__ import annotations

import argparse
import compileall
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_everyday import _settle  # noqa: E402  (the same wait for the write-behind)

REPO = Path(__file__).resolve().parents[1]


def _tree(rev: str | None, work: Path, name: str) -> Path:
    """The folder holding version ``rev``'s ``lisgeo`` package: this checkout for None, else a
    ``git worktree`` of the revision in ``work``; compiled first, so no run pays for it."""
    if rev is None:
        path = REPO
    else:
        path = work / name
        subprocess.run(["git", "-C", str(REPO), "worktree", "add", "--detach", "-f", str(path), rev],
                       check=True, capture_output=True, text=True)
    compileall.compile_dir(str(path / "lisgeo"), quiet=1)
    return path


def _run(tree: Path, command: str, region: str, work: Path, k: int) -> float:
    cache, out = work / f"cache-{k}", work / f"out-{k}"
    env = {**os.environ, "PYTHONPATH": str(tree), "LISGEO_CACHE_DIR": str(cache)}
    for var in ("LISGEO_NO_CACHE", "LISGEO_WORKERS"):
        env.pop(var, None)
    t = time.perf_counter()
    res = subprocess.run([sys.executable, "-m", "lisgeo", command, "--region", region, "-o", str(out)],
                         env=env, cwd=work, capture_output=True, text=True)
    sec = time.perf_counter() - t
    if res.returncode != 0:
        raise SystemExit(f"lisgeo {command} ({tree}) failed ({res.returncode}):\n{res.stderr[-2000:]}")
    _settle(cache)
    shutil.rmtree(cache, ignore_errors=True)
    shutil.rmtree(out, ignore_errors=True)
    return sec


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--a", required=True, help="version A: a git revision")
    ap.add_argument("--b", default=None, help="version B: a git revision (default: this checkout as it is)")
    ap.add_argument("--command", default="score", choices=["score", "build", "compare"])
    ap.add_argument("--region", default="d2n2")
    ap.add_argument("--pairs", type=int, default=5)
    args = ap.parse_args(argv)
    if args.command == "compare":
        raise SystemExit("compare needs --scenario: time `score` or `build`")
    with tempfile.TemporaryDirectory(prefix="lisgeo-ab-") as tmp:
        work = Path(tmp)
        trees = {"A": _tree(args.a, work, "A"), "B": _tree(args.b, work, "B")}
        try:
            print(f"lisgeo {args.command} --region {args.region}, cold; A = {args.a}, B = {args.b or 'this checkout'}; "
                  f"{args.pairs} pairs, A then B", flush=True)
            times: dict[str, list[float]] = {"A": [], "B": []}
            k = 0
            for i in range(args.pairs):
                for v in ("A", "B"):
                    k += 1
                    time.sleep(1.0)  # (the last run's exit and writer gone)
                    times[v].append(_run(trees[v], args.command, args.region, work, k))
                print(f"  pair {i + 1}: A {times['A'][-1]:.2f} s, B {times['B'][-1]:.2f} s", flush=True)
            faster = sum(b < a for a, b in zip(times["A"], times["B"]))
            for v in ("A", "B"):
                print(f"{v}: mean {statistics.mean(times[v]):.2f} s, median {statistics.median(times[v]):.2f} s, "
                      f"runs {', '.join(f'{t:.1f}' for t in times[v])}")
            print(f"B faster in {faster} of {args.pairs} pairs")
        finally:
            for v, rev in (("A", args.a), ("B", args.b)):
                if rev is not None:
                    subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(trees[v])],
                                   capture_output=True, text=True)
            subprocess.run(["git", "-C", str(REPO), "worktree", "prune"], capture_output=True, text=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
