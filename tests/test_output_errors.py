"""Outputs that fail cleanly (issue 22): one atomic path (lisgeo.io) for every output, its OS
errors as one line naming the file and the fix, no partial file left behind, and ``-o`` checked
before the work in every command that writes.

The OS errors are made two ways: by making the low-level writer raise ``OSError(errno, ...)``
(everywhere), and on a real tiny or read-only file system (a tmpfs mounted for the test; skipped
where mounting is not allowed).
"""

from __future__ import annotations

import errno
import json
import os
import subprocess
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from lisgeo import io as lio
from lisgeo.cli import main
from lisgeo.errors import OutputError

#: The fix each OS error's line must give.
FIXES = {
    errno.ENOSPC: "free some space on",
    errno.EDQUOT: "free some space on",
    errno.ENAMETOOLONG: "choose a shorter folder name",
    errno.EACCES: "choose a folder you can write to",
    errno.EPERM: "choose a folder you can write to",
    errno.EROFS: "choose a folder you can write to",
}


def _points(n: int = 50, text: bool = True) -> gpd.GeoDataFrame:
    df = {"value": np.arange(n, dtype=float)}
    if text:
        df["name"] = [f"zone number {i} of the region" for i in range(n)]
    return gpd.GeoDataFrame(df, geometry=shapely.points(np.arange(n) * 10.0 + 400000, np.arange(n) * 10.0 + 300000), crs="EPSG:27700")


def _one_line(msg: str, limit: int = 400) -> None:
    assert "\n" not in msg and len(msg) <= limit, msg


def _raise(code: int):
    def boom(*args, **kwargs):
        target = next((a for a in args if isinstance(a, (str, os.PathLike))), "file")
        raise OSError(code, os.strerror(code), str(target))

    return boom


# ------------------------------------------------------------------ the low-level write raises
WRITERS = {
    # format: (how to write it, what to make raise)
    "csv": (lambda folder: lio.write_frame(_points(), folder / "out.csv"), (pd.DataFrame, "to_csv")),
    "gpkg": (lambda folder: lio.write_frame(_points(), folder / "out.gpkg"), (gpd.GeoDataFrame, "to_file")),
    "geojson": (lambda folder: lio.write_frame(_points(), folder / "out.geojson"), (gpd.GeoDataFrame, "to_file")),
    "parquet": (lambda folder: lio.write_frame(_points(), folder / "out.parquet"), (gpd.GeoDataFrame, "to_parquet")),
    "json": (lambda folder: _set_json(folder), None),
    "html": (lambda folder: lio.write_text(folder / "report.html", "<html></html>"), None),
    "png": (lambda folder: _set_png(folder), ("matplotlib.figure.Figure.savefig",)),
}


def _set_json(folder: Path) -> None:
    with lio.atomic_set(folder) as out:
        out.write_json("provenance.json", {"a": 1})


def _set_png(folder: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    def draw(tmp: Path) -> None:
        fig, ax = plt.subplots()
        try:
            fig.savefig(tmp, format="png")
        finally:
            plt.close(fig)

    with lio.atomic_set(folder) as out:
        out.write("scatter.png", draw)


@pytest.mark.parametrize("code", list(FIXES), ids=[errno.errorcode[c] for c in FIXES])
@pytest.mark.parametrize("fmt", list(WRITERS))
def test_every_output_turns_an_os_error_into_one_line_with_the_fix(tmp_path, monkeypatch, fmt, code):
    """Issue 22: "every output written through one atomic path that turns OS errors (no space,
    name too long, permission) into one line with the fix". CSV, GeoPackage, GeoJSON, Parquet,
    JSON, HTML and PNG, each with ENOSPC, EDQUOT, ENAMETOOLONG, EACCES, EPERM and EROFS raised by
    the low-level write: one OutputError line naming the file and the fix, nothing left behind,
    an earlier file of the folder untouched."""
    write, target = WRITERS[fmt]
    if target is None:
        monkeypatch.setattr(lio, "open", _raise(code), raising=False)  # (lisgeo.io's own text writes)
    else:
        monkeypatch.setattr(*target, _raise(code))
    folder = tmp_path / "out"
    folder.mkdir()
    (folder / "keep.txt").write_text("earlier")
    with pytest.raises(OutputError) as err:
        write(folder)
    msg = str(err.value)
    _one_line(msg)
    assert FIXES[code] in msg and str(folder) in msg, msg
    assert sorted(p.name for p in folder.iterdir()) == ["keep.txt"]  # no partial or temporary file
    assert (folder / "keep.txt").read_text() == "earlier"


def test_a_full_disk_under_the_geopackage_is_one_line_not_a_pyogrio_traceback(tmp_path, monkeypatch):
    """Issue 22: "a full disk while the GeoPackage is written gives a pyogrio ... no such table:
    gpkg_contents traceback (the CSV path says No space left on device correctly)". GDAL reports
    a full disk in its own words; lisgeo asks the disk (the file takes more than is free) and
    says it in one line. (The real thing, on a real full file system, is below.)"""
    import pyogrio.errors

    from lisgeo.pipeline.score import write_scores

    real = gpd.GeoDataFrame.to_file

    def to_file(self, filename, *args, **kwargs):
        if isinstance(filename, (str, os.PathLike)):  # on disk: what GDAL says when the disk fills
            raise pyogrio.errors.FeatureError(
                "Could not add feature to layer at index 0: sqlite3_exec(INSERT INTO gpkg_contents ...) failed: "
                "no such table: gpkg_contents")
        return real(self, filename, *args, **kwargs)  # (in memory: the size the file takes)

    monkeypatch.setattr(gpd.GeoDataFrame, "to_file", to_file)
    monkeypatch.setattr(lio, "_free_bytes", lambda d: 4096)  # what the full disk has left
    folder = tmp_path / "scores"
    with pytest.raises(OutputError) as err:
        write_scores(_scores(), folder, claims=False)
    msg = str(err.value)
    _one_line(msg)
    assert "scores.gpkg" in msg and "no space left" in msg and "free some space on" in msg, msg
    assert not folder.exists()  # the set's folder, made for it, goes with it


def test_a_geopackage_gdal_leaves_broken_without_an_error_is_caught(tmp_path, monkeypatch):
    """Found while reproducing the full disk: GDAL can also return without any error and leave a
    GeoPackage that does not open (a run then exits 0 with a broken file). Every GeoPackage and
    GeoJSON is checked after writing; a broken one is a failed write, in one line."""
    def to_file(self, filename, *args, **kwargs):
        Path(filename).write_bytes(b"SQLite format 3\0" + b"\0" * 100)  # cut short, no error

    monkeypatch.setattr(gpd.GeoDataFrame, "to_file", to_file)
    with pytest.raises(OutputError) as err:
        lio.write_frame(_points(), tmp_path / "x.gpkg")
    _one_line(str(err.value))
    assert "x.gpkg" in str(err.value) and "GeoPackage" in str(err.value)
    assert list(tmp_path.iterdir()) == []


def test_an_error_that_is_not_about_writing_is_not_disguised(tmp_path, monkeypatch):
    """A writer's own error on a disk with room is raised as it is (not called a disk problem)."""
    def to_file(self, *args, **kwargs):
        raise ValueError("a bug in the writer")

    monkeypatch.setattr(gpd.GeoDataFrame, "to_file", to_file)
    with pytest.raises(ValueError, match="a bug in the writer"):
        lio.write_frame(_points(), tmp_path / "x.gpkg")
    assert list(tmp_path.iterdir()) == []


def _scores() -> gpd.GeoDataFrame:
    from lisgeo.measures.columns import CONTRACT

    n = 400
    idx = [f"E0100{i:04d}" for i in range(n)]
    df = pd.DataFrame({c: np.linspace(1.0, 2.0, n) for c in CONTRACT}, index=idx)
    for c in ("LSOA21CD", "LSOA21NM", "LADCD", "LADNM", "LEP"):
        df[c] = [f"{c} {i} with a long enough name" for i in range(n)]
    df["left_behind"] = [i % 2 == 0 for i in range(n)]
    g = gpd.GeoDataFrame(df, geometry=[shapely.box(i, 0, i + 1, 1) for i in range(n)], crs="EPSG:27700")
    g.attrs.update({"layer": "scores", "region": "E07000032", "scenario": "base"})
    return g


def test_the_validation_scatter_goes_through_the_set(tmp_path, monkeypatch):
    """validate's scatter.png was written by matplotlib on a path of the set: its OS errors were
    matplotlib's. It is written through FileSet.write now: one line, nothing left."""
    import matplotlib.figure

    from lisgeo.pipeline.validate import write_validation

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", _raise(errno.ENOSPC))
    df = pd.DataFrame({"pair_id": ["p1", "p2"], "class": ["intercity_rail", "urban_car"], "scenario": "base",
                       "published_min": [60.0, 20.0], "model_min": [66.0, 18.0], "baseline_min": [70.0, 25.0]})
    df["error_min"] = df["model_min"] - df["published_min"]
    df["error_pct"] = 100.0 * df["error_min"] / df["published_min"]
    df["abs_pct"] = df["error_pct"].abs()
    with pytest.raises(OutputError, match="scatter.png: no space left"):
        write_validation(df, tmp_path / "val")
    assert not (tmp_path / "val").exists()


def test_an_os_error_outside_lisgeo_io_is_still_one_short_line(capsys, monkeypatch):
    """The command's last resort for an OSError raised by a writer outside lisgeo.io: one line,
    the path shortened, the fix when it is one of the write errors."""
    import lisgeo.network as net

    long = "/tmp/" + "d" * 5000 + "/map.html"
    monkeypatch.setattr(net, "list_scenarios", _raise(errno.ENAMETOOLONG).__get__(None) if False else
                        (lambda: (_ for _ in ()).throw(OSError(errno.ENAMETOOLONG, "File name too long", long))))
    assert main(["network", "scenarios"]) == 1
    err = capsys.readouterr().err.strip()
    _one_line(err)
    assert "choose a shorter folder name" in err and "…" in err


# ------------------------------------------------------------------ -o checked before the work
def _boom(*args, **kwargs):
    raise AssertionError("the work started before -o was checked")


SLOW = {  # command -> (argv without -o, the -o kind, where the slow work starts)
    "score": (["score", "-r", "llep"], "dir", ["lisgeo.pipeline.score.score_region"]),
    "compare": (["compare", "-r", "llep", "--scenario", "hs2_2b"], "dir", ["lisgeo.pipeline.compare.compare_scenarios"]),
    "build": (["build", "-r", "llep"], "dir", ["lisgeo.pipeline.maps.build_region"]),
    "report": (["report", "-r", "llep"], "dir", ["lisgeo.pipeline.maps.write_report"]),
    "validate": (["validate", "--no-timetable"], "dir", ["lisgeo.pipeline.validate.validate_times"]),
    "map": (["map", "maps/1_overview.toml"], "map.html", ["lisgeo.pipeline.maps.make_map"]),
    "layers export": (["layers", "export", "stops", "-r", "llep"], "stops.gpkg", ["lisgeo.layers.load_layer"]),
    "isochrones": (["isochrones", "hs2_toton"], "iso.gpkg", ["lisgeo.network.build_network"]),
    "network export": (["network", "export", "-r", "llep"], "net.gpkg", ["lisgeo.network.build_network"]),
}


@pytest.fixture
def no_work(monkeypatch):
    import importlib

    import lisgeo.pipeline

    for _, _, targets in SLOW.values():
        for t in targets:
            module, name = t.rsplit(".", 1)
            monkeypatch.setattr(importlib.import_module(module), name, _boom)
            monkeypatch.setattr(lisgeo.pipeline, name, _boom, raising=False)


def _argv(command: str, out: Path) -> list[str]:
    argv, kind, _ = SLOW[command]
    return [*argv, "-o", str(out if kind == "dir" else out / kind)]


def _refused(capsys, argv: list[str], fix: str) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    _one_line(err, 420)
    assert err.startswith("lisgeo: error: ") and fix in err, err
    return err


@pytest.mark.parametrize("command", list(SLOW))
def test_an_over_long_output_is_refused_before_the_work_in_one_short_line(tmp_path, capsys, no_work, command):
    """Issue 22: "an over-long -o prints a 5,000-character line with no fix" and "an unwritable
    -o is found only after the work". Every command that writes: a 5,000-character -o (every name
    short enough, the whole too long) and a name too long for the file system are refused at once,
    in one line of at most a few hundred characters, with the fix; exit status 2."""
    deep = tmp_path.joinpath(*["d" * 200] * 25)
    _refused(capsys, _argv(command, deep), "choose a shorter folder name")
    _refused(capsys, _argv(command, tmp_path / ("n" * 300)), "choose a shorter")
    assert list(tmp_path.iterdir()) == []  # nothing created


@pytest.mark.parametrize("command", list(SLOW))
def test_an_output_under_a_file_or_not_writable_is_refused_before_the_work(tmp_path, capsys, monkeypatch, no_work, command):
    """A path through a file, and a folder the user cannot write to (made to refuse the probe with
    EACCES: root writes anywhere), are refused before any slow work, in one line with the fix."""
    f = tmp_path / "a-file"
    f.write_text("x")
    _refused(capsys, _argv(command, f / "out"), "is a file")
    monkeypatch.setattr(lio.tempfile, "mkstemp", _raise(errno.EACCES))
    _refused(capsys, _argv(command, tmp_path / "out"), "choose a folder you can write to")


@pytest.fixture
def tiny_disk(small_disk):
    """A real 256 KiB file system (tmpfs, as root; skipped where mounting is not allowed)."""
    return small_disk("256k")


def _fill(folder: Path) -> None:
    fd = os.open(folder / "filler", os.O_WRONLY | os.O_CREAT, 0o644)
    try:
        while True:
            os.write(fd, b"\0" * 4096)
    except OSError:
        pass
    finally:
        os.close(fd)


@pytest.mark.parametrize("command", list(SLOW))
def test_a_full_or_read_only_disk_is_refused_before_the_work(tiny_disk, capsys, no_work, command):
    """On real file systems: a full disk and a read-only one are found before any slow work."""
    _fill(tiny_disk)
    _refused(capsys, _argv(command, tiny_disk / "out"), "free some space on")
    r = subprocess.run(["mount", "-o", "remount,ro", str(tiny_disk)], capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"cannot remount read-only here ({r.stderr.strip()})")
    _refused(capsys, _argv(command, tiny_disk / "out"), "read-only; choose a folder you can write to")


@pytest.mark.parametrize("fmt", ["gpkg", "geojson", "csv", "parquet"])
def test_a_real_full_disk_fails_in_one_line_and_leaves_nothing(tiny_disk, fmt):
    """The real thing: 256 KiB, an output of about a megabyte. Every format fails in one line that
    says the disk is full; no partial file stays. (Before: the GeoPackage failed with a pyogrio
    traceback or, as GeoJSON, was left cut short without an error.)"""
    frame = _points(20_000)
    with pytest.raises(OutputError) as err:
        lio.write_frame(frame, tiny_disk / f"out.{fmt}")
    _one_line(str(err.value))
    assert f"out.{fmt}: no space left" in str(err.value) and f"free some space on {tiny_disk}" in str(err.value)
    assert list(tiny_disk.iterdir()) == []


def test_a_real_full_disk_under_the_scores_set(tiny_disk):
    """``write_scores`` (scores.gpkg, scores.csv, provenance.json) onto a disk that fills midway:
    one line, and the folder is left as it was (here: not made at all)."""
    from lisgeo.pipeline.score import write_scores

    with pytest.raises(OutputError) as err:
        write_scores(_scores(), tiny_disk / "scores", claims=False)
    _one_line(str(err.value))
    assert "no space left" in str(err.value)
    assert list(tiny_disk.iterdir()) == []


def test_a_real_full_disk_in_the_cli(tiny_disk, capsys, monkeypatch):
    """``lisgeo layers export`` of a layer larger than the disk: exit 2, one line, nothing left."""
    import lisgeo.layers

    frame = _points(20_000)
    frame.attrs = {"attribution": "test"}
    monkeypatch.setattr(lisgeo.layers, "load_layer", lambda name, region: frame)
    assert main(["layers", "export", "stops", "-r", "llep", "-o", str(tiny_disk / "stops.gpkg")]) == 2
    err = capsys.readouterr().err.strip()
    _one_line(err)
    assert "stops.gpkg: no space left" in err and "free some space on" in err, err
    assert list(tiny_disk.iterdir()) == []


def test_the_python_api_refuses_an_over_long_path_in_one_line(tmp_path):
    """The same from Python (write_frame, atomic_set, atomic_path): one short line, nothing made."""
    deep = tmp_path.joinpath(*["d" * 200] * 25)
    for write in (lambda: lio.write_frame(_points(), deep / "x.csv"), lambda: _set_json(deep),
                  lambda: lio.write_text(deep / "r.html", "x"), lambda: lio.write_frame(_points(), tmp_path / ("n" * 300 + ".csv"))):
        with pytest.raises(OutputError) as err:
            write()
        _one_line(str(err.value))
        assert "choose a shorter" in str(err.value)
    assert list(tmp_path.iterdir()) == []


def test_check_writable_creates_nothing(tmp_path):
    """The check before the work leaves no trace: no folder made, no probe file left."""
    lio.check_output_dir(tmp_path / "a" / "b")
    lio.check_writable(tmp_path / "c" / "map.html")
    lio.check_output_file(tmp_path / "x.gpkg")
    assert list(tmp_path.iterdir()) == []


def test_write_provenance_is_written_through_the_atomic_path(tmp_path, monkeypatch):
    """``lisgeo.provenance.write_provenance`` (for maps and the report) writes atomically, records
    each output's sha256, and fails in one line."""
    import hashlib

    from lisgeo.provenance import write_provenance

    html = tmp_path / "m.html"
    html.write_text("<html></html>")
    p = write_provenance(tmp_path / "m.html.provenance.json", kind="map", outputs=[html], region="d2n2")
    rec = json.loads(p.read_text())
    assert rec["kind"] == "map" and rec["outputs"]["m.html"]["sha256"] == hashlib.sha256(html.read_bytes()).hexdigest()
    assert rec["software"]["python"] and rec["software"]["lisgeo"]["build_id"]
    monkeypatch.setattr(lio, "open", _raise(errno.ENOSPC), raising=False)
    with pytest.raises(OutputError, match="free some space on"):
        write_provenance(tmp_path / "r.provenance.json", kind="report", outputs=[html])
    assert sorted(q.name for q in tmp_path.iterdir()) == ["m.html", "m.html.provenance.json"]
