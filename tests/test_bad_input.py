"""Bad input: one clear line, nothing partial, nothing lost.

Each case drives ``lisgeo.cli.main([...])`` (or, where the CLI has no entry, the Python call) with
something a planner might really give it, and checks that

* the exit status is non-zero and stderr is **one** line starting ``lisgeo: error:`` that names
  the file or argument and says how to fix it, with no traceback;
* the ``-o`` folder holds no partial or mixed output (it is absent, or exactly as before);
* the input files are untouched (same bytes, same mtime).

Only quick commands are used (``layers export``, ``network scenarios``, and ``score``/``validate``
that fail before any slow work).
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

from lisgeo.cli import main
from lisgeo.config import default_dir
from lisgeo.errors import LisgeoError

DISTRICT = "E07000032"  # Amber Valley (D2N2): one district, small and quick


# ------------------------------------------------------------------ helpers
def _state(*paths: Path) -> dict[str, tuple[bytes, int] | None]:
    """Bytes and mtime of every file under ``paths`` (None for a path that does not exist)."""
    out: dict[str, tuple[bytes, int] | None] = {}
    for p in paths:
        p = Path(p)
        if not p.exists():
            out[str(p)] = None
        elif p.is_file():
            out[str(p)] = (p.read_bytes(), p.stat().st_mtime_ns)
        else:
            for f in sorted(p.rglob("*")):
                out[str(f)] = (f.read_bytes(), f.stat().st_mtime_ns) if f.is_file() else (b"<dir>", 0)
    return out


def _fails_cleanly(argv: list[str], capsys, *needles: str, inputs: tuple[Path, ...] = (), outputs: tuple[Path, ...] = ()) -> str:
    """Run ``lisgeo argv``; assert one ``lisgeo: error:`` line containing every needle (case-insensitive),
    inputs untouched, outputs as before. Returns the message."""
    before_in, before_out = _state(*inputs), _state(*outputs)
    capsys.readouterr()
    code = main([str(a) for a in argv])
    err = capsys.readouterr().err
    assert code != 0, f"exit status 0 for {argv}"
    assert "Traceback" not in err, err
    assert err.startswith("lisgeo: error: "), err
    assert err.count("\n") == 1 and err.endswith("\n"), f"not one line:\n{err}"
    for n in needles:
        assert re.search(n, err, re.IGNORECASE), f"{n!r} not in: {err}"
    assert _state(*inputs) == before_in, "an input file changed"
    assert _state(*outputs) == before_out, "the output folder changed (partial or mixed output)"
    return err


@pytest.fixture
def data(real_data, monkeypatch):
    monkeypatch.delenv("LISGEO_LAYERS_DIR", raising=False)
    return real_data


@pytest.fixture
def layers_copy(tmp_path, monkeypatch):
    """A planner's own copy of layers/, selected with LISGEO_LAYERS_DIR."""
    d = tmp_path / "my_layers"
    shutil.copytree(default_dir("layers"), d, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "__init__.py"))
    monkeypatch.setenv("LISGEO_LAYERS_DIR", str(d))
    return d


def _cp1252_toml(path: Path, text: str) -> Path:
    path.write_bytes(text.encode("cp1252"))
    return path


def _binary(path: Path) -> Path:
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8)
    return path


# ------------------------------------------------------------------ files in the wrong encoding, or not text at all
SCENARIO_1252 = 'name = "café"\ndescription = "Toton – £2bn hub"\nhs2_scheme = "none"\n'
WEIGHTS_1252 = '# poids – £\n[connectivity]\ntt_rail_london = 1.0\n'


def test_scenario_in_cp1252(tmp_path, capsys):
    sc = _cp1252_toml(tmp_path / "mine.toml", SCENARIO_1252)
    out = tmp_path / "out"
    _fails_cleanly(["score", "-r", DISTRICT, "--scenario", sc, "-o", out], capsys, "mine.toml", "UTF-8", "save it as UTF-8",
                   inputs=(sc,), outputs=(out,))


def test_scenario_in_cp1252_in_the_planners_folder(layers_copy, capsys):
    _cp1252_toml(layers_copy / "scenarios" / "mine.toml", SCENARIO_1252)
    _fails_cleanly(["network", "scenarios"], capsys, "mine.toml", "UTF-8", inputs=(layers_copy,))


def test_binary_file_as_scenario(tmp_path, capsys):
    sc = _binary(tmp_path / "photo.toml")
    out = tmp_path / "out"
    _fails_cleanly(["score", "-r", DISTRICT, "--scenario", sc, "-o", out], capsys, "photo.toml", "binary", r"\.toml file",
                   inputs=(sc,), outputs=(out,))


@pytest.mark.parametrize("kind", ["binary", "cp1252"])
def test_bad_weights_file(tmp_path, capsys, kind):
    w = _binary(tmp_path / "weights.toml") if kind == "binary" else _cp1252_toml(tmp_path / "weights.toml", WEIGHTS_1252)
    out = tmp_path / "out"
    _fails_cleanly(["score", "-r", DISTRICT, "--weights", w, "-o", out], capsys, "weights.toml",
                   "binary" if kind == "binary" else "not UTF-8", inputs=(w,), outputs=(out,))


@pytest.mark.parametrize("kind", ["binary", "cp1252"])
def test_bad_map_spec(tmp_path, capsys, kind):
    spec = _binary(tmp_path / "my_map.toml") if kind == "binary" else _cp1252_toml(tmp_path / "my_map.toml", 'title = "Café – £"\n')
    out = tmp_path / "out"
    _fails_cleanly(["map", spec, "-o", out / "m.html"], capsys, "my_map.toml", "binary" if kind == "binary" else "UTF-8",
                   inputs=(spec,), outputs=(out,))


# ------------------------------------------------------------------ a semicolon-separated CSV (Excel in a European locale)
@pytest.mark.parametrize("content", ["as_is", "plain"])
def test_semicolon_sites_csv(data, layers_copy, tmp_path, capsys, content):
    """Not an encoding problem: the message must say the file is separated by semicolons, not commas."""
    p = layers_copy / "sites.csv"
    df = pd.read_csv(p, dtype=str, keep_default_na=False)
    if content == "plain":  # no commas inside any field: pandas reads one wide column
        df = df.apply(lambda s: s.str.replace(",", " ", regex=False))
    df.to_csv(p, sep=";", index=False)
    out = tmp_path / "out"
    err = _fails_cleanly(["layers", "export", "sites", "-r", "d2n2", "-o", out / "sites.csv"], capsys, "sites.csv",
                         "semicolon|separat|delimit", "comma", inputs=(layers_copy,), outputs=(out,))
    assert not re.search(r"utf-?8|encoding", err, re.IGNORECASE), f"called an encoding problem: {err}"


# ------------------------------------------------------------------ unknown names
@pytest.mark.parametrize("region, needles", [
    ("atlantis", ("unknown region 'atlantis'", "lisgeo regions list", "d2n2")),
    ("E09999999", ("unknown district code 'E09999999'", "regions list --kind district")),
    (f"{DISTRICT},E0700003", ("E0700003",)),
])
def test_unknown_region_or_district(data, tmp_path, capsys, region, needles):
    out = tmp_path / "out"
    _fails_cleanly(["layers", "export", "districts", "-r", region, "-o", out / "d.gpkg"], capsys, *needles, outputs=(out,))


def test_unknown_layer(tmp_path, capsys):
    out = tmp_path / "out"
    _fails_cleanly(["layers", "export", "busstops", "-o", out / "x.csv"], capsys, "busstops", "valid layers are", "layers list",
                   outputs=(out,))


# ------------------------------------------------------------------ one district given as --region (used to crash: read-only arrays)
@pytest.mark.parametrize("layer", ["stops", "rail_stations"])
def test_single_district_region_exports(data, tmp_path, capsys, layer):
    out = tmp_path / "out"
    code = main(["layers", "export", layer, "--region", DISTRICT, "-o", str(out / f"{layer}.csv")])
    err = capsys.readouterr().err
    assert code == 0 and "Traceback" not in err and "read-only" not in err, err
    assert sorted(p.name for p in out.iterdir()) == [f"{layer}.csv", f"{layer}.csv.provenance.json"]
    assert len(pd.read_csv(out / f"{layer}.csv")) > 0


# ------------------------------------------------------------------ a scenario that makes no sense
def test_scenario_link_to_itself(tmp_path, capsys):
    sc = tmp_path / "loop.toml"
    sc.write_text('name = "loop"\n[[edits]]\nop = "add_link"\nfrom = "rail:NOT"\nto = "rail:NOT"\ntime_min = 5\nmode = "rail"\n',
                  encoding="utf-8")
    out = tmp_path / "out"
    _fails_cleanly(["score", "-r", DISTRICT, "--scenario", sc, "-o", out], capsys, "loop.toml", "itself", "two different node ids",
                   inputs=(sc,), outputs=(out,))


# ------------------------------------------------------------------ outputs that cannot be written
@pytest.mark.parametrize("command", [["validate"], ["score", "-r", DISTRICT]])
def test_output_folder_is_an_existing_file(tmp_path, capsys, command):
    f = tmp_path / "results"
    f.write_text("my notes")
    _fails_cleanly([*command, "-o", f], capsys, "results", "folder", inputs=(f,))


def test_output_under_a_file(data, tmp_path, capsys):
    f = tmp_path / "results"
    f.write_text("my notes")
    _fails_cleanly(["layers", "export", "districts", "-r", "llep", "-o", f / "d.gpkg"], capsys, "results", "not a folder",
                   "choose another -o", inputs=(f,))


def test_output_file_is_an_existing_folder(tmp_path, capsys):
    d = tmp_path / "maps"
    d.mkdir()
    (d / "keep.txt").write_text("mine")
    _fails_cleanly(["layers", "export", "districts", "-r", "llep", "-o", d], capsys, "maps", "is a folder", r"\.gpkg",
                   inputs=(d,))


@pytest.mark.parametrize("command", [["layers", "export", "districts", "-r", "llep"], ["network", "export", "-r", "llep"]])
def test_unknown_output_extension(tmp_path, capsys, command):
    out = tmp_path / "out"
    _fails_cleanly([*command, "-o", out / "districts.shp"], capsys, "districts.shp", "unknown extension '.shp'",
                   r"\.gpkg, \.geojson, \.parquet, \.csv", outputs=(out,))


def _previous_export(out: Path, capsys) -> None:
    assert main(["layers", "export", "districts", "-r", "llep", "-o", str(out / "d.gpkg")]) == 0
    capsys.readouterr()


def test_read_only_output_folder(data, tmp_path, capsys, read_only_folder):
    out = tmp_path / "out"
    _previous_export(out, capsys)
    with read_only_folder(out):
        _fails_cleanly(["layers", "export", "districts", "-r", "d2n2", "-o", out / "d.gpkg"], capsys, "d.gpkg", "not writable",
                       "choose another -o folder", outputs=(out,))


def test_output_file_held_open(data, tmp_path, capsys, monkeypatch):
    """As on Windows when Excel or QGIS holds the file: the old file and its provenance stay, as a pair."""
    out = tmp_path / "out"
    _previous_export(out, capsys)
    real_replace = os.replace

    def replace(src, dst, *a, **k):
        if Path(src).name == "d.gpkg":
            raise PermissionError(13, "The process cannot access the file because it is being used by another process")
        return real_replace(src, dst, *a, **k)

    monkeypatch.setattr(os, "replace", replace)
    _fails_cleanly(["layers", "export", "districts", "-r", "d2n2", "-o", out / "d.gpkg"], capsys, "d.gpkg",
                   "close it in the program that holds it, or choose another -o folder", outputs=(out,))


def test_a_folder_in_the_way_of_the_provenance(data, tmp_path, capsys):
    out = tmp_path / "out"
    (out / "d.gpkg.provenance.json").mkdir(parents=True)
    _fails_cleanly(["layers", "export", "districts", "-r", "llep", "-o", out / "d.gpkg"], capsys, "d.gpkg.provenance.json",
                   "in the way", outputs=(out,))


# ------------------------------------------------------------------ a truncated OpenStreetMap extract (no CLI entry: the Python call)
def _osm_extract() -> Path:
    pyrosm = pytest.importorskip("pyrosm")
    p = Path(pyrosm.__file__).parent / "data" / "test.osm.pbf"
    if not p.is_file():
        pytest.skip("pyrosm's bundled test extract is missing")
    return p


@pytest.mark.parametrize("damage", ["truncated", "not_pbf"])
def test_truncated_osm_extract(tmp_path, damage):
    from lisgeo.network import graph_from_osm

    raw = _osm_extract().read_bytes()
    p = tmp_path / "my_area.osm.pbf"
    p.write_bytes(raw[: len(raw) // 2] if damage == "truncated" else b"<?xml version='1.0'?><osm></osm>" * 10)
    before = _state(p)
    with pytest.raises(LisgeoError) as err:
        graph_from_osm(p)
    msg = str(err.value)
    assert "my_area.osm.pbf" in msg and "\n" not in msg
    assert _state(p) == before
