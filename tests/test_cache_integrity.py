"""A cache that can never corrupt or break a run (issue 22).

Every entry of lisgeo.cache (frames and pickles, of every kind) carries its sha256 in a header
written with it; every read checks it, and anything damaged, unreadable or inconsistent is a miss:
recomputed by the caller as if absent, the bad file removed (not another process's fresh one), and
reported once at debug level. Leftovers of killed runs (the ``.tmp`` files of entries being
written) are removed by the next run when stale: their owner has gone (and they are a minute old),
or they are an hour old; never what a live process writes.
"""

from __future__ import annotations

import logging
import os
import pickle
import struct
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from types import SimpleNamespace

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely

from lisgeo import cache

ROOT = Path(__file__).resolve().parents[1]
MARK = 4242.4242  # a value whose 8 bytes appear once in an entry


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    d = tmp_path / "cache"
    monkeypatch.setenv("LISGEO_CACHE_DIR", str(d))
    monkeypatch.delenv("LISGEO_NO_CACHE", raising=False)
    monkeypatch.setattr(cache, "_REPORTED", set(), raising=False)
    monkeypatch.setattr(cache, "_WRITE_FAILED", set(), raising=False)
    monkeypatch.setattr(cache, "_SWEPT", True, raising=False)  # (each test sweeps when it means to)
    return d / "results"


def _frame() -> gpd.GeoDataFrame:
    idx = pd.Index(["E01000001", "E01000002", "E01000003"], dtype="string[pyarrow]")
    g = gpd.GeoDataFrame({"score": [1.25, MARK, 3.5], "rank": np.array([3, 1, 2], dtype="int64")}, index=idx,
                         geometry=[shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1), shapely.box(2, 0, 3, 1)], crs="EPSG:27700")
    g.attrs = {"scenario": "base"}
    return g


def _flip(path: Path, value: float, byte: int = 0, bit: int = 0) -> None:
    """Flip one bit of the first stored copy of ``value`` in the file ``path``: in a Parquet entry
    the column's dictionary, the copy that is read back (the others are min/max statistics)."""
    data = bytearray(path.read_bytes())
    pat = next((p for p in (struct.pack("<d", value), struct.pack(">d", value)) if p in data), None)  # (pickle: big-endian)
    assert pat is not None, f"{value} is not stored in {path}"
    data[data.index(pat) + byte] ^= 1 << bit
    path.write_bytes(bytes(data))


def _bowtie() -> shapely.Polygon:
    return shapely.Polygon([(0, 0), (1000.125, 0), (1000.25, 1000.5), (0, 1000.75)])


def _cache_records(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "lisgeo.cache"]


# ------------------------------------------------------------------ the cases
def test_a_flipped_bit_in_a_cached_frame_is_a_miss_not_a_changed_value(cache_dir):
    """Issue 22: "a flipped bit in a cached scores file changes a published value silently".
    Before: the frame came back with 4242.424200000001 in place of 4242.4242. Now: a miss, removed."""
    g = _frame()
    path = cache.store_frame("scores", "k", g)
    assert path is not None and cache._exact_by_construction(g)  # kept without reading it back: still checked on read
    _flip(path, MARK)
    assert cache.load_frame("scores", "k") is None
    assert not path.exists()
    cache.store_frame("scores", "k", g)
    pd.testing.assert_frame_equal(cache.load_frame("scores", "k"), g, check_exact=True)


@pytest.fixture
def fake_stages(monkeypatch, cache_dir):
    """score_region with its stages replaced by cheap fakes that count the runs that computed."""
    import lisgeo.pipeline.score as score

    runs = []

    def load_inputs(reg):
        runs.append(reg.label)
        jobs = pd.Series([1.0], name="jobs")
        jobs.attrs = {"attribution": "jobs data"}
        return SimpleNamespace(attribution=lambda: ["layers data"], jobs=jobs)

    def finish_scores(out, inputs, *, config, reference=None, time_columns=()):
        g = _frame()
        g.attrs = {}
        return g

    monkeypatch.setattr(score, "load_inputs", load_inputs)
    monkeypatch.setattr(score, "_cached_inputs", load_inputs)
    monkeypatch.setattr(score, "score_network", lambda reg, **kw: nx.MultiDiGraph(name="fake", hs2_scheme="none", assumptions={}))
    monkeypatch.setattr(score, "travel_times", lambda G, inputs, **kw: SimpleNamespace(transit_groups=None, dest_jobs=pd.Series([10.0])))
    monkeypatch.setattr(score, "measure_zones", lambda inputs, tt, **kw: pd.DataFrame())
    monkeypatch.setattr(score, "finish_scores", finish_scores)
    return score, runs


def test_a_flipped_bit_in_cached_scores_is_rescored_never_published(fake_stages, cache_dir, caplog):
    """Issue 22, through score_region: the damaged scores entry is scored again (the same numbers
    as the first run), rewritten, and reported once at debug level, never as a warning."""
    score, runs = fake_stages
    first = score.score_region(region="d2n2")
    (entry,) = (cache_dir / "scores").glob("*.parquet")
    _flip(entry, MARK, byte=7, bit=6)  # an exponent bit: 4242.4242 would become about 1e-304
    with caplog.at_level(logging.DEBUG, logger="lisgeo.cache"):
        second = score.score_region(region="d2n2")
    assert len(runs) == 2
    assert second.loc["E01000002", "score"] == MARK
    pd.testing.assert_frame_equal(second.drop(columns=[]), first, check_exact=True)
    damaged = [r for r in _cache_records(caplog) if "damaged" in r.getMessage()]
    assert len(damaged) == 1 and damaged[0].levelno == logging.DEBUG and str(entry) in damaged[0].getMessage()
    assert not [r for r in _cache_records(caplog) if r.levelno >= logging.WARNING]
    score.score_region(region="d2n2")
    assert len(runs) == 2  # rewritten: a hit again


def test_damaged_cached_geometry_is_a_miss_not_a_topology_exception(cache_dir):
    """Issue 22: "damaged cached geometry crashes a later run with a shapely TopologyException".
    One flipped bit (a coordinate's sign) turns a cached polygon into a bow tie; before, it came
    back from the cache and the next overlay raised ``GEOSException: TopologyException``. Now the
    entry is a miss (frames and pickled geometry alike), and what is recomputed overlays cleanly."""
    poly = _bowtie()
    g = gpd.GeoDataFrame({"n": [1]}, geometry=[poly], crs="EPSG:27700")
    path = cache.store_frame("boundaries", "lad", g)
    _flip(path, 1000.125, byte=7, bit=7)
    damaged = shapely.Polygon([(0, 0), (-1000.125, 0), (1000.25, 1000.5), (0, 1000.75)])
    with pytest.raises(shapely.errors.GEOSException, match="TopologyException"):
        shapely.intersection(damaged, shapely.box(-10, -10, 500, 500))  # what the old cache gave back
    assert cache.load_frame("boundaries", "lad") is None and not path.exists()
    # the boundaries' pickled geometry (lisgeo.layers.boundaries keeps a region's outline so)
    p = cache.store_pickle("boundaries", "outline", poly)
    _flip(p, 1000.125, byte=7, bit=7)
    assert cache.load_pickle("boundaries", "outline", shapely.Geometry) is None and not p.exists()
    cache.store_pickle("boundaries", "outline", poly)
    back = cache.load_pickle("boundaries", "outline", shapely.Geometry)
    assert back.equals(poly) and shapely.intersection(back, shapely.box(-10, -10, 500, 500)).area > 0


# ------------------------------------------------------------------ every kind of damage
def _legacy_parquet(path: Path) -> None:
    """An entry as the format before the checksum wrote it: the Parquet file alone."""
    _frame().to_parquet(path)


DAMAGE = {
    "zero bytes": lambda p: p.write_bytes(b""),
    "truncated to half": lambda p: p.write_bytes(p.read_bytes()[: p.stat().st_size // 2]),
    "header only": lambda p: p.write_bytes(p.read_bytes()[: cache._HEADER.size]),
    "cut inside the header": lambda p: p.write_bytes(p.read_bytes()[:20]),
    "garbage appended": lambda p: p.write_bytes(p.read_bytes() + b"\0" * 8),
    "another format's magic": lambda p: p.write_bytes(b"LISGEO\0\1" + p.read_bytes()[8:]),
    "last byte flipped": lambda p: p.write_bytes(p.read_bytes()[:-1] + bytes([p.read_bytes()[-1] ^ 1])),
    "checksum flipped": lambda p: p.write_bytes(p.read_bytes()[:20] + bytes([p.read_bytes()[20] ^ 1]) + p.read_bytes()[21:]),
    "legacy entry without a checksum": lambda p: _legacy_parquet(p),
    "not a file but a folder": lambda p: (p.unlink(), p.mkdir(), (p / "x").write_text("x")),
    "random bytes": lambda p: p.write_bytes(os.urandom(4096)),
}


@pytest.mark.parametrize("damage", list(DAMAGE))
@pytest.mark.parametrize("kind", ["frame", "pickle"])
def test_any_damage_is_a_miss_removed_and_reported_once_at_debug_level(cache_dir, caplog, damage, kind):
    """Further hostile entries: whatever is wrong with the file, the read is a miss (never an
    exception, never a value), the file goes, one debug record names it, and the next write and
    read work."""
    if kind == "frame":
        store, load, value = (lambda: cache.store_frame("t", "k", _frame())), (lambda: cache.load_frame("t", "k")), _frame()
    else:
        value = {"graph": list(range(1000)), "x": MARK}
        store, load = (lambda: cache.store_pickle("t", "k", value)), (lambda: cache.load_pickle("t", "k", dict))
    path = store()
    if kind == "pickle" and damage == "legacy entry without a checksum":
        path.write_bytes(pickle.dumps(value))
    else:
        DAMAGE[damage](path)
    with caplog.at_level(logging.DEBUG, logger="lisgeo.cache"):
        assert load() is None
        assert load() is None  # (absent now: no second report)
    assert not path.exists()
    recs = _cache_records(caplog)
    assert len(recs) == 1 and recs[0].levelno == logging.DEBUG and str(path) in recs[0].getMessage(), [r.getMessage() for r in recs]
    store()
    back = load()
    if kind == "frame":
        pd.testing.assert_frame_equal(back, value, check_exact=True)
    else:
        assert back == value


def test_an_entry_of_another_type_is_a_miss(cache_dir):
    """An intact entry (the checksum holds) of the wrong type: a pickle of another type, a frame
    where a GeoDataFrame is expected (score_region reads its scores so)."""
    p = cache.store_pickle("network", "k", {"not": "a graph"})
    assert cache.load_pickle("network", "k", nx.MultiDiGraph) is None and not p.exists()
    f = cache.store_frame("scores", "k", pd.DataFrame({"a": [1.0]}))
    assert cache.load_frame("scores", "k", gpd.GeoDataFrame) is None and not f.exists()


def test_an_intact_entry_that_fails_to_decode_is_a_miss(cache_dir):
    """A checksum-valid file whose payload is no entry (a Parquet file without lisgeo's metadata;
    a pickle that fails to load): an exception while decoding is a miss too."""
    path = cache.entry_path("t", "k", ".parquet")
    assert cache._write_atomic(path, lambda fh: pd.DataFrame({"a": [1.0]}).to_parquet(fh))
    assert cache.load_frame("t", "k") is None and not path.exists()
    path = cache.entry_path("t", "k", ".pickle")
    assert cache._write_atomic(path, lambda fh: fh.write(b"\x80\x05\x95garbage"))
    assert cache.load_pickle("t", "k") is None and not path.exists()


def test_a_damaged_entry_replaced_meanwhile_by_another_process_is_kept(cache_dir, monkeypatch):
    """Two processes, one entry: this one reads a damaged entry while the other replaces it with a
    good one. The good entry is not removed (only the very file that was read is discarded)."""
    g = _frame()
    path = cache.store_frame("t", "k", g)
    DAMAGE["truncated to half"](path)
    real = cache._read_entry

    def read_then_replaced(p):
        try:
            return real(p)
        finally:
            cache.store_frame("t", "k", g)  # the other process's rewrite lands here

    monkeypatch.setattr(cache, "_read_entry", read_then_replaced)
    assert cache.load_frame("t", "k") is None  # this read was of the damaged file: a miss
    monkeypatch.setattr(cache, "_read_entry", real)
    assert path.is_file()
    pd.testing.assert_frame_equal(cache.load_frame("t", "k"), g, check_exact=True)


def test_two_processes_reading_a_damaged_entry_at_once(cache_dir, tmp_path):
    """Two processes read the same damaged entry at the same moment: both take it as a miss,
    recompute and write it back; neither fails, and the entry left is good."""
    g = _frame()
    path = cache.store_frame("t", "k", g)
    _flip(path, MARK)
    go = tmp_path / "go"
    code = textwrap.dedent(f"""
        import os, sys, time
        sys.path.insert(0, {str(ROOT)!r})
        import geopandas as gpd, pandas as pd, shapely
        from lisgeo import cache
        while not os.path.exists({str(go)!r}):
            time.sleep(0.005)
        hit = cache.load_frame("t", "k")
        if hit is None:
            g = gpd.GeoDataFrame({{"score": [1.25, {MARK!r}, 3.5], "rank": pd.array([3, 1, 2], dtype="int64")}},
                                 index=pd.Index(["E01000001", "E01000002", "E01000003"], dtype="string[pyarrow]"),
                                 geometry=[shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1), shapely.box(2, 0, 3, 1)], crs="EPSG:27700")
            g.attrs = {{"scenario": "base"}}
            cache.store_frame("t", "k", g)
        print("miss" if hit is None else "hit")
    """)
    env = {**os.environ, "LISGEO_CACHE_DIR": str(cache_dir.parent)}
    procs = [subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    time.sleep(1.0)  # both import and wait
    go.touch()
    outs = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), [o[1][-2000:] for o in outs]
    assert "Traceback" not in "".join(o[1] for o in outs)
    assert {o[0].strip() for o in outs} <= {"miss", "hit"} and "miss" in {o[0].strip() for o in outs}
    pd.testing.assert_frame_equal(cache.load_frame("t", "k"), g, check_exact=True)


# ------------------------------------------------------------------ a cache folder that cannot be written
@pytest.fixture
def read_only_cache(cache_dir, small_disk, monkeypatch):
    """A cache folder on a real read-only file system (as root, a remounted tmpfs; skipped where mounting is not allowed)."""
    mnt = small_disk("2m", "ro")
    monkeypatch.setenv("LISGEO_CACHE_DIR", str(mnt))
    monkeypatch.delenv("LISGEO_NO_CACHE", raising=False)
    monkeypatch.setattr(cache, "_REPORTED", set())
    monkeypatch.setattr(cache, "_WRITE_FAILED", set())
    return mnt


def _make_read_only(mnt: Path) -> None:
    r = subprocess.run(["mount", "-o", "remount,ro", str(mnt)], capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"cannot remount read-only here ({r.stderr.strip()})")


def test_a_cache_folder_that_became_read_only_never_fails_a_run(read_only_cache, fake_stages, caplog):
    """The cache folder turns read-only between runs (a full home, a remount): every run still
    scores, the same numbers; one warning says the cache cannot be written (not one per entry);
    a damaged entry that cannot be removed is a miss on every read, reported once."""
    score, runs = fake_stages
    first = score.score_region(region="d2n2")
    (entry,) = (read_only_cache / "results" / "scores").glob("*.parquet")
    _flip(entry, MARK)
    _make_read_only(read_only_cache)
    with caplog.at_level(logging.DEBUG, logger="lisgeo.cache"):
        second = score.score_region(region="d2n2")
        third = score.score_region(region="d2n2")
    assert len(runs) == 3
    pd.testing.assert_frame_equal(second, first, check_exact=True)
    pd.testing.assert_frame_equal(third, first, check_exact=True)
    assert entry.exists()  # could not be removed: still a miss each time
    recs = _cache_records(caplog)
    warnings_ = [r for r in recs if r.levelno >= logging.WARNING]
    assert len(warnings_) == 1 and "could not write" in warnings_[0].getMessage(), [r.getMessage() for r in warnings_]
    assert len([r for r in recs if "damaged" in r.getMessage()]) == 1


# ------------------------------------------------------------------ leftovers of killed runs
def _dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def _age(path: Path, seconds: float) -> None:
    t = time.time() - seconds
    os.utime(path, (t, t))
    if path.is_dir():
        for q in path.iterdir():
            os.utime(q, (t, t))


@pytest.fixture
def live_pid():
    p = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    try:
        yield p.pid
    finally:
        p.kill()
        p.wait()


def test_stale_leftovers_in_the_cache_are_removed_and_live_ones_kept(cache_dir, live_pid):
    """The rule, case by case: a ``.tmp`` of a process that has gone, untouched for a minute:
    removed; the same but touched 10 s ago: kept (the grace); a live process's: kept for the hour;
    any leftover untouched for an hour (an older version's name, a pid reused): removed; entries
    and other files are never touched."""
    kind = cache_dir / "network"
    kind.mkdir(parents=True)
    dead = _dead_pid()
    files = {
        f".abc~{dead}~x1.tmp": (120, True),
        f".abc~{dead}~x2.tmp": (10, False),
        f".abc~{live_pid}~x3.tmp": (1800, False),
        f".abc~{live_pid}~x4.tmp": (4000, True),
        ".abcdef-legacy.tmp": (4000, True),
        ".abcdef-legacy2.tmp": (1800, False),
        "entry.pickle": (99999, False),
        "notes.tmp": (99999, False),  # not one of ours (not hidden)
    }
    for name, (age, _) in files.items():
        p = kind / name
        p.write_text("x")
        _age(p, age)
    removed = {p.name for p in cache.sweep()}
    assert removed == {n for n, (_, gone) in files.items() if gone}
    assert {p.name for p in kind.iterdir()} == {n for n, (_, gone) in files.items() if not gone}


def test_the_tmp_file_of_a_killed_run_is_removed_by_the_next_run(cache_dir, monkeypatch):
    """Issue 22: "a killed run leaves .tmp files in the cache ... that no later run removes".
    A process killed (SIGKILL) while it writes an entry leaves its temporary file; the next
    process that uses the cache removes it once it is stale (here after the minute's grace)."""
    code = textwrap.dedent(f"""
        import sys, time
        sys.path.insert(0, {str(ROOT)!r})
        from lisgeo import cache

        class Slow:
            def __reduce__(self):
                print("writing", flush=True)
                time.sleep(600)
                return (int, ())

        cache.store_pickle("network", "k", [list(range(100_000)), Slow()])
    """)
    env = {**os.environ, "LISGEO_CACHE_DIR": str(cache_dir.parent)}
    p = subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == "writing"
    p.kill()
    p.wait()
    (tmp,) = (cache_dir / "network").glob(".*.tmp")
    assert cache._tmp_owner(tmp.name) == p.pid
    monkeypatch.setattr(cache, "_SWEPT", False)
    cache.load_pickle("network", "other")  # the next run's first use of the cache: too fresh, kept
    assert tmp.exists()
    _age(tmp, 120)
    monkeypatch.setattr(cache, "_SWEPT", False)
    cache.load_pickle("network", "other")  # a run within the minute: the cache was swept just now
    assert tmp.exists()
    _age(cache_dir / cache._SWEEP_STAMP, 61)
    monkeypatch.setattr(cache, "_SWEPT", False)
    cache.load_pickle("network", "other")  # the next run a minute later
    assert not tmp.exists()
    assert cache.load_pickle("network", "k") is None  # nothing half-written ever became an entry


def test_the_sweep_costs_little(cache_dir):
    """The sweep runs once per process at its first use of the cache: on a cache of a few
    thousand entries it takes milliseconds (it reads names; it stats only leftovers)."""
    for k in range(20):
        d = cache_dir / f"kind{k}"
        d.mkdir(parents=True)
        for i in range(150):
            (d / f"{i:064x}.parquet").write_bytes(b"")
    t0 = time.perf_counter()
    cache.sweep()
    assert time.perf_counter() - t0 < 0.5


def test_a_cache_folder_that_is_a_file_never_fails_a_run(tmp_path, monkeypatch, fake_stages, caplog):
    """LISGEO_CACHE_DIR naming a file (or a kind's folder replaced by a file): every read is a
    miss, every write is skipped with one warning, the scores are the same."""
    score, runs = fake_stages
    first = score.score_region(region="d2n2", cache=False)
    f = tmp_path / "not-a-folder"
    f.write_text("x")
    monkeypatch.setenv("LISGEO_CACHE_DIR", str(f))
    with caplog.at_level(logging.DEBUG, logger="lisgeo.cache"):
        a = score.score_region(region="d2n2")
        b = score.score_region(region="d2n2")
    pd.testing.assert_frame_equal(a, first, check_exact=True)
    pd.testing.assert_frame_equal(b, first, check_exact=True)
    assert len([r for r in _cache_records(caplog) if r.levelno >= logging.WARNING]) == 1
    assert f.read_text() == "x"
