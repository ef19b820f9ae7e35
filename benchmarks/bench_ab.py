"""Benchmark: two versions or settings of lisgeo against each other, in the same minutes (interleaved A/B).

Run by hand (never in CI), from the repository root:

    python benchmarks/bench_ab.py --a 7f5321b                  # A = that commit, B = this checkout
    python benchmarks/bench_ab.py --a 7f5321b --b HEAD --command build --pairs 3
    python benchmarks/bench_ab.py --a-env LISGEO_WORKERS=2 --b-env LISGEO_WORKERS=1 --warm   # one checkout, two settings
    python benchmarks/bench_ab.py --a main --command compare --scenario hs2_2b --warm --load 1

A version is a git revision or a folder holding a ``lisgeo`` package (``--a`` / ``--b``; left out:
this checkout as it is; a folder serves a patched copy made for one experiment) and a setting is
environment variables for its runs (``--a-env VAR=VALUE`` / ``--b-env``, repeatable; ``LISGEO_NO_CACHE``
and ``LISGEO_WORKERS`` are unset otherwise), so the same script compares two commits, or one
commit with a knob on and off.

This machine's speed swings by 10-30 % within an hour, so two runs of ``bench_everyday.py`` an hour
apart cannot show a change of 10 %. Here the runs alternate, A B, B A, A B ... (the order flips
each pair, so neither side always runs on the machine the other has just warmed or left busy),
each cold: a fresh ``python -m lisgeo <command> --region R -o OUT`` process with an empty
``LISGEO_CACHE_DIR``, started from a temporary folder with ``PYTHONPATH`` at the version's tree (a
``git worktree`` of the revision, compiled first, or this checkout). With ``--warm`` each cold run
is followed at once by the same command on the cache it left (a rerun with nothing changed).
Before the next run starts the script waits for a command's write-behind (code before issue 23:
entries marked ``*.writing`` while a detached copy of the command writes them after it returned).

For each run it records the wall time, the CPU time (user + sys of the command and every process
it waited for: what ``/usr/bin/time`` reports; a detached writer that outlives the command is not
counted) and the 1-minute load average at its start. ``--load N`` runs N busy processes of its
own (a pure-Python loop each) for the whole benchmark: a machine loaded by other work, by
construction, on top of whatever else runs. It prints every run, the mean, median, min and max
of each side, B / A, and in how many pairs B was faster.
"""

from __future__ import annotations

import argparse
import compileall
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


@dataclass
class Run:
    wall: float
    cpu: float
    load: float


def _settle(cache: Path, timeout: float = 60.0) -> None:
    """Wait until an older version's write-behind (entries marked ``<entry>.writing`` while a
    detached copy of the command writes them after it returned) is done, so that the next command
    is not timed on a machine still busy with the last one's writes."""
    end = time.monotonic() + timeout
    while time.monotonic() < end and any(cache.rglob("*.writing")):
        time.sleep(0.05)


def _tree(rev: str | None, work: Path, name: str) -> Path:
    """The folder holding version ``rev``'s ``lisgeo`` package: this checkout for None, the folder
    ``rev`` when it holds one, else a ``git worktree`` of the revision in ``work``; compiled first,
    so no run pays for it."""
    if rev is None:
        path = REPO
    elif (Path(rev) / "lisgeo" / "__init__.py").is_file():
        path = Path(rev).resolve()
    else:
        path = work / name
        subprocess.run(["git", "-C", str(REPO), "worktree", "add", "--detach", "-f", str(path), rev],
                       check=True, capture_output=True, text=True)
    compileall.compile_dir(str(path / "lisgeo"), quiet=1)
    return path


def _env_pairs(items: list[str]) -> dict[str, str]:
    out = {}
    for item in items:
        var, sep, value = item.partition("=")
        if not sep or not var:
            raise SystemExit(f"--a-env/--b-env take VAR=VALUE, got {item!r}")
        out[var] = value
    return out


def _cpu_children() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def _once(tree: Path, env_extra: dict[str, str], cmd: list[str], cache: Path, out: Path, work: Path) -> Run:
    env = {**os.environ, "PYTHONPATH": str(tree), "LISGEO_CACHE_DIR": str(cache)}
    for var in ("LISGEO_NO_CACHE", "LISGEO_WORKERS"):
        env.pop(var, None)
    env.update(env_extra)
    load = os.getloadavg()[0]
    cpu0 = _cpu_children()
    t = time.perf_counter()
    res = subprocess.run([sys.executable, "-m", "lisgeo", *cmd, "-o", str(out)], env=env, cwd=work,
                         capture_output=True, text=True)
    sec = time.perf_counter() - t
    cpu = _cpu_children() - cpu0
    if res.returncode != 0:
        raise SystemExit(f"lisgeo {' '.join(cmd)} ({tree}) failed ({res.returncode}):\n{res.stderr[-2000:]}")
    _settle(cache)
    return Run(sec, cpu, load)


def _pair_side(tree: Path, env_extra: dict[str, str], cmd: list[str], work: Path, k: int, warm: bool) -> list[Run]:
    """One cold run (and with ``warm`` the rerun on its cache) of one side, in fresh folders."""
    cache = work / f"cache-{k}"
    runs = []
    try:
        for state in ("cold", "warm") if warm else ("cold",):
            out = work / f"out-{k}-{state}"
            time.sleep(1.0)  # (the last run's exit gone)
            runs.append(_once(tree, env_extra, cmd, cache, out, work))
            shutil.rmtree(out, ignore_errors=True)
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    return runs


def _summary(label: str, runs: list[Run], attr: str) -> str:
    xs = [getattr(r, attr) for r in runs]
    return (f"{label}: mean {statistics.mean(xs):.2f} s, median {statistics.median(xs):.2f} s, "
            f"min {min(xs):.2f}, max {max(xs):.2f}; runs {', '.join(f'{x:.1f}' for x in xs)}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--a", default=None, help="version A: a git revision or a folder (default: this checkout as it is)")
    ap.add_argument("--b", default=None, help="version B: a git revision or a folder (default: this checkout as it is)")
    ap.add_argument("--a-env", action="append", default=[], metavar="VAR=VALUE", help="environment of A's runs (repeatable)")
    ap.add_argument("--b-env", action="append", default=[], metavar="VAR=VALUE", help="environment of B's runs (repeatable)")
    ap.add_argument("--command", default="score", choices=["score", "build", "compare"])
    ap.add_argument("--region", default="d2n2")
    ap.add_argument("--scenario", default=None, help="lisgeo compare's --scenario (needed for compare)")
    ap.add_argument("--pairs", type=int, default=5)
    ap.add_argument("--warm", action="store_true", help="after each cold run, rerun the command on the cache it left")
    ap.add_argument("--load", type=int, default=0, help="busy processes of this script's own during the benchmark")
    args = ap.parse_args(argv)
    if args.command == "compare" and not args.scenario:
        raise SystemExit("compare needs --scenario")
    env = {"A": _env_pairs(args.a_env), "B": _env_pairs(args.b_env)}
    if args.a == args.b and env["A"] == env["B"]:
        raise SystemExit("A and B are the same version with the same environment")
    cmd = [args.command, "--region", args.region, *(["--scenario", args.scenario] if args.scenario else [])]
    spinners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(args.load)]
    try:
        with tempfile.TemporaryDirectory(prefix="lisgeo-ab-") as tmp:
            work = Path(tmp)
            trees: dict[str, Path] = {}
            try:
                trees["A"] = _tree(args.a, work, "A")
                trees["B"] = _tree(args.b, work, "B")
                def name(v: str) -> str:
                    rev = getattr(args, v.lower())
                    return " ".join([rev or "this checkout", *(f"{k}={x}" for k, x in env[v].items())])

                print(f"lisgeo {' '.join(cmd)}; A = {name('A')}, B = {name('B')}; {args.pairs} pairs "
                      f"(A B, B A, ...){', each cold then warm' if args.warm else ', cold'}"
                      f"{f'; {args.load} busy process(es) of its own' if args.load else ''}; {os.cpu_count()} cores; "
                      f"{time.strftime('%Y-%m-%d %H:%M')}", flush=True)
                runs: dict[str, list[list[Run]]] = {"A": [], "B": []}
                k = 0
                for i in range(args.pairs):
                    for v in ("A", "B") if i % 2 == 0 else ("B", "A"):
                        k += 1
                        runs[v].append(_pair_side(trees[v], env[v], cmd, work, k, args.warm))
                    line = "; ".join(f"{v} " + " / ".join(f"{r.wall:.2f} s (cpu {r.cpu:.1f}, load {r.load:.1f})"
                                                          for r in runs[v][-1]) for v in ("A", "B"))
                    print(f"  pair {i + 1}: {line}", flush=True)
                for j, state in enumerate(("cold", "warm") if args.warm else ("cold",)):
                    a = [r[j] for r in runs["A"]]
                    b = [r[j] for r in runs["B"]]
                    print(f"== {state}")
                    for attr, what in (("wall", "wall"), ("cpu", "cpu (user+sys)")):
                        print(f"  {what}")
                        print("    " + _summary("A", a, attr))
                        print("    " + _summary("B", b, attr))
                        ma, mb = statistics.mean(getattr(r, attr) for r in a), statistics.mean(getattr(r, attr) for r in b)
                        faster = sum(getattr(y, attr) < getattr(x, attr) for x, y in zip(a, b))
                        print(f"    B / A {mb / ma:.3f} (means); B lower in {faster} of {args.pairs} pairs")
                    print(f"  load average at the runs' start: {min(r.load for r in a + b):.1f}-{max(r.load for r in a + b):.1f}")
            finally:
                for v, path in trees.items():
                    if path.parent == work:  # (only the worktrees this run made)
                        subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(path)],
                                       capture_output=True, text=True)
    finally:
        for p in spinners:
            p.kill()
            p.wait()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
