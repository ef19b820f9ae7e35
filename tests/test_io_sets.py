"""Sets of outputs, all or nothing (lisgeo.io.atomic_set), and deterministic GeoJSON."""

from __future__ import annotations

import json
import os
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
from shapely.geometry import Point, box

from lisgeo.errors import LisgeoError, OutputError
from lisgeo.io import atomic_set, check_output_dir, check_output_file, write_frame


def _zones(n: int = 2) -> gpd.GeoDataFrame:
    g = gpd.GeoDataFrame({"code": [f"E0100000{i}" for i in range(n)], "pop": [1500 + i for i in range(n)]},
                         geometry=[box(400000 + 1000 * i, 300000, 401000 + 1000 * i, 301000) for i in range(n)], crs="EPSG:27700")
    return g


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())} if folder.exists() else {}


def _old_set(folder: Path) -> dict[str, bytes]:
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("a.csv", "b.csv", "c.gpkg"):
        (folder / name).write_bytes(f"old {name}".encode())
    return _snapshot(folder)


def _write_set(folder: Path) -> dict[str, Path]:
    with atomic_set(folder) as out:
        out.write_frame(pd.DataFrame({"x": [1, 2]}), "a.csv")
        out.write_frame(pd.DataFrame({"y": [3]}), "b.csv")
        out.write_frame(_zones(), "c.gpkg", layer="zones")
        out.write_json("provenance.json", {"k": 1})
    return out.paths


def test_set_writes_every_file_and_leaves_no_temporary(tmp_path):
    paths = _write_set(tmp_path / "out")
    assert sorted(paths) == ["a.csv", "b.csv", "c.gpkg", "provenance.json"]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(paths)
    assert pd.read_csv(paths["a.csv"])["x"].tolist() == [1, 2]
    assert gpd.read_file(paths["c.gpkg"], layer="zones")["pop"].tolist() == [1500, 1501]
    assert json.loads(paths["provenance.json"].read_text()) == {"k": 1}
    # a rerun replaces the whole set
    paths = _write_set(tmp_path / "out")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(paths)


def test_a_rerun_without_an_optional_file_removes_the_earlier_runs_copy(tmp_path, monkeypatch):
    """replaces=: the files this kind of set can hold; one the rerun leaves out goes with the swap
    (and comes back if the swap fails); files of the user's own are never touched."""
    folder = tmp_path / "out"
    kinds = ("a.csv", "b.csv", "notes.csv")
    with atomic_set(folder, replaces=kinds) as out:
        out.write_frame(pd.DataFrame({"x": [1]}), "a.csv")
        out.write_frame(pd.DataFrame({"y": [1]}), "b.csv")
    (folder / "mine.txt").write_text("my notes")
    with atomic_set(folder, replaces=kinds) as out:  # b.csv turned off this time
        out.write_frame(pd.DataFrame({"x": [2]}), "a.csv")
    assert sorted(p.name for p in folder.iterdir()) == ["a.csv", "mine.txt"]
    # a failed swap keeps the earlier set whole, the optional file included
    with atomic_set(folder, replaces=kinds) as out:
        out.write_frame(pd.DataFrame({"y": [3]}), "b.csv")
        out.write_frame(pd.DataFrame({"x": [3]}), "a.csv")
    before = _snapshot(folder)
    real_replace = os.replace

    def replace(src, dst, *a, **k):
        if Path(src).name.startswith(".a.csv.") and not Path(src).name.endswith(".old"):  # the new a.csv
            raise OSError(28, "No space left on device")
        return real_replace(src, dst, *a, **k)

    monkeypatch.setattr(os, "replace", replace)
    with pytest.raises(OutputError, match="a.csv"):
        with atomic_set(folder, replaces=kinds) as out:  # b.csv left out, then the swap fails
            out.write_frame(pd.DataFrame({"x": [4]}), "a.csv")
    assert _snapshot(folder) == before


def test_failure_while_writing_changes_nothing(tmp_path):
    folder = tmp_path / "out"
    before = _old_set(folder)

    class Boom(Exception):
        pass

    with pytest.raises(Boom):
        with atomic_set(folder) as out:
            out.write_frame(pd.DataFrame({"x": [1]}), "a.csv")
            raise Boom("the second file could not be computed")
    assert _snapshot(folder) == before  # old set intact, no temporary left


@pytest.mark.parametrize("locked", ["a.csv", "b.csv", "c.gpkg"])
def test_swap_failure_restores_the_old_set(tmp_path, monkeypatch, locked):
    """A file held open by another program (Windows refuses to replace it): no mixed set."""
    folder = tmp_path / "out"
    before = _old_set(folder)
    real_replace = os.replace

    def replace(src, dst, *a, **k):
        if Path(src).name == locked:  # the old file cannot be moved: it is open elsewhere
            raise PermissionError(13, "The process cannot access the file because it is being used by another process")
        return real_replace(src, dst, *a, **k)

    monkeypatch.setattr(os, "replace", replace)
    with pytest.raises(OutputError) as err:
        _write_set(folder)
    msg = str(err.value)
    assert locked in msg and "close it in the program that holds it, or choose another -o folder" in msg
    assert "\n" not in msg
    assert _snapshot(folder) == before


def test_failure_of_the_last_move_restores_the_old_set(tmp_path, monkeypatch):
    """The new files are already in place when the last one fails: they are taken back out."""
    folder = tmp_path / "out"
    before = _old_set(folder)
    real_replace = os.replace

    def replace(src, dst, *a, **k):
        if Path(dst).name == "provenance.json" and Path(src).name.startswith(".provenance.json."):
            raise OSError(28, "No space left on device")
        return real_replace(src, dst, *a, **k)

    monkeypatch.setattr(os, "replace", replace)
    with pytest.raises(OutputError, match="provenance.json"):
        _write_set(folder)
    assert _snapshot(folder) == before


def test_a_folder_in_the_way_is_refused_before_anything_changes(tmp_path):
    folder = tmp_path / "out"
    before = _old_set(folder)
    (folder / "provenance.json").mkdir()
    (folder / "provenance.json" / "keep.txt").write_text("mine")
    with pytest.raises(OutputError, match="folder of that name is in the way"):
        _write_set(folder)
    assert {p.name for p in folder.iterdir()} == set(before) | {"provenance.json"}
    assert all((folder / n).read_bytes() == b for n, b in before.items())
    assert (folder / "provenance.json" / "keep.txt").read_text() == "mine"


def test_output_folder_that_is_a_file(tmp_path):
    f = tmp_path / "report.txt"
    f.write_text("mine")
    with pytest.raises(OutputError, match="is a file, not a folder"):
        _write_set(f)
    with pytest.raises(OutputError, match="is a file, not a folder"):
        _write_set(f / "sub")
    with pytest.raises(OutputError, match="is a file, not a folder"):
        check_output_dir(f)
    with pytest.raises(OutputError, match="is a file, not a folder"):
        check_output_file(f / "x.csv")
    with pytest.raises(OutputError, match="is a folder"):
        check_output_file(tmp_path)
    with pytest.raises(OutputError, match="unknown extension"):
        check_output_file(tmp_path / "x.shp")
    assert f.read_text() == "mine" and [p.name for p in tmp_path.iterdir()] == ["report.txt"]


def test_read_only_folder(tmp_path, read_only_folder):
    folder = tmp_path / "out"
    before = _old_set(folder)
    with read_only_folder(folder):
        with pytest.raises(OutputError, match="not writable.*choose another -o folder"):
            _write_set(folder)
    assert _snapshot(folder) == before


def test_write_frame_refuses_a_folder_of_its_name(tmp_path):
    (tmp_path / "x.csv").mkdir()
    with pytest.raises(OutputError, match="in the way"):
        write_frame(pd.DataFrame({"a": [1]}), tmp_path / "x.csv")


# ------------------------------------------------------------------ deterministic files
def test_geojson_is_byte_identical_and_named_after_the_layer(tmp_path):
    g = _zones(3)
    a = write_frame(g, tmp_path / "one" / "zones.geojson")
    b = write_frame(g, tmp_path / "two" / "zones.geojson")
    c = write_frame(g, tmp_path / "one" / "zones.geojson")  # a rerun over the first
    assert a.read_bytes() == b.read_bytes() == c.read_bytes()
    assert json.loads(a.read_text())["name"] == "zones"
    named = write_frame(g, tmp_path / "three" / "z.geojson", layer="lsoa")
    assert json.loads(named.read_text())["name"] == "lsoa"
    assert b".z.geojson." not in named.read_bytes()
    # inside a set too
    with atomic_set(tmp_path / "four") as out:
        out.write_frame(g, "zones.geojson")
    assert (tmp_path / "four" / "zones.geojson").read_bytes() == a.read_bytes()


def test_gpkg_does_not_embed_the_temporary_name(tmp_path):
    p = write_frame(_zones(), tmp_path / "zones.gpkg", layer="lsoa", metadata={"lisgeo_version": "x"})
    raw = p.read_bytes()
    assert b".zones.gpkg." not in raw
    info = pyogrio.read_info(p)
    assert pyogrio.list_layers(p)[:, 0].tolist() == ["lsoa"]
    assert info["layer_metadata"]["lisgeo_version"] == "x" and info["dataset_metadata"]["lisgeo_version"] == "x"


def test_csv_and_parquet_are_byte_identical(tmp_path):
    g = _zones(3)
    for ext in (".csv", ".parquet"):
        a = write_frame(g, tmp_path / "a" / f"z{ext}")
        b = write_frame(g, tmp_path / "b" / f"z{ext}")
        assert a.read_bytes() == b.read_bytes(), ext


# ------------------------------------------------------------------ the pipeline's sets
@pytest.fixture
def compare_frame(three_lsoa_scores):
    from lisgeo.measures.compare import compare_scores

    f = three_lsoa_scores
    return compare_scores(f([100.0, 120.0, 90.0], [80.0, 70.0, 60.0], [10.0, 20.0, 30.0], "base"),
                          f([90.0, 118.0, 90.0], [80.0, 70.0, 66.0], [15.0, 20.0, 25.0], "hs2_2b"))


def test_write_comparison_is_one_set(tmp_path, monkeypatch, compare_frame):
    from lisgeo.pipeline import write_comparison

    folder = tmp_path / "cmp"
    paths = write_comparison(compare_frame, folder)
    names = ["compare.csv", "compare.gpkg", "district_summary.csv", "provenance.json", "winners_losers.csv"]
    assert sorted(p.name for p in folder.iterdir()) == names == sorted(paths)
    before = _snapshot(folder)
    real_replace = os.replace

    def replace(src, dst, *a, **k):
        if Path(src).name == "winners_losers.csv":  # the third file is held open
            raise PermissionError(13, "Permission denied")
        return real_replace(src, dst, *a, **k)

    monkeypatch.setattr(os, "replace", replace)
    cmp = compare_frame
    cmp["outcome"] = "unchanged"  # a different run
    with pytest.raises(OutputError, match="winners_losers.csv"):
        write_comparison(cmp, folder)
    assert _snapshot(folder) == before  # the whole old set, not the new compare.gpkg beside the old csv


def _validation_results() -> pd.DataFrame:
    df = pd.DataFrame({
        "pair_id": ["p1", "p2", "p3"], "class": ["intercity_rail", "urban_car", "urban_car"], "scenario": "base",
        "published_min": [60.0, 20.0, 30.0], "model_min": [66.0, 18.0, np.nan], "baseline_min": [70.0, 25.0, 28.0],
    })
    df["error_min"] = df["model_min"] - df["published_min"]
    df["error_pct"] = 100.0 * df["error_min"] / df["published_min"]
    df["abs_pct"] = df["error_pct"].abs()
    df.attrs["assumptions"] = {"car.urban_kmh": 30.0}
    return df


def test_write_validation_is_one_set(tmp_path, monkeypatch):
    from lisgeo.pipeline.validate import write_validation

    folder = tmp_path / "val"
    paths = write_validation(_validation_results(), folder)
    assert sorted(p.name for p in folder.iterdir()) == ["provenance.json", "scatter.png", "summary.csv", "validation.csv"]
    assert paths["scatter.png"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    before = _snapshot(folder)
    real_replace = os.replace
    monkeypatch.setattr(os, "replace", lambda s, d, *a, **k: (_ for _ in ()).throw(PermissionError(13, "Permission denied"))
                        if Path(s).name == "scatter.png" else real_replace(s, d, *a, **k))
    with pytest.raises(OutputError, match="scatter.png"):
        write_validation(_validation_results().iloc[:2], folder)
    assert _snapshot(folder) == before


def test_write_to_a_file_is_refused_before_work(tmp_path, compare_frame):
    from lisgeo.pipeline import write_comparison
    from lisgeo.pipeline.validate import write_validation

    f = tmp_path / "taken"
    f.write_text("mine")
    for write, obj in ((write_comparison, compare_frame), (write_validation, _validation_results())):
        with pytest.raises(OutputError, match="not a folder"):
            write(obj, f)
    assert f.read_text() == "mine" and [p.name for p in tmp_path.iterdir()] == ["taken"]


# ------------------------------------------------------------------ network export: the pair of files is a set
@pytest.fixture
def tiny_network(monkeypatch):
    """``build_network`` replaced by a two-node graph: the CLI's writing without the 30 s build."""
    import networkx as nx

    import lisgeo.network as net

    def build(*, region, scenario):
        G = nx.MultiDiGraph(scenario=str(scenario), region=str(region), assumptions={"car.urban_kmh": 30.0})
        G.add_node("road:1", kind="road", x=400000.0, y=300000.0)
        G.add_node("road:2", kind="road", x=401000.0, y=300000.0)
        G.add_edge("road:1", "road:2", mode="road", time_min=1.5)
        return G

    def to_gdfs(G):
        nodes = gpd.GeoDataFrame({"node": list(G.nodes), "kind": "road"},
                                 geometry=[Point(d["x"], d["y"]) for _, d in G.nodes(data=True)], crs="EPSG:27700")
        from shapely.geometry import LineString

        edges = gpd.GeoDataFrame({"u": ["road:1"], "v": ["road:2"], "mode": ["road"], "time_min": [1.5]},
                                 geometry=[LineString([(400000, 300000), (401000, 300000)])], crs="EPSG:27700")
        return nodes, edges

    def summary(G):
        return pd.DataFrame({"what": ["nodes", "edges"], "count": [2, 1]}, index=["road", "road"])

    monkeypatch.setattr(net, "build_network", build)
    monkeypatch.setattr(net, "network_to_gdfs", to_gdfs)
    monkeypatch.setattr(net, "graph_summary", summary)


@pytest.mark.parametrize("ext", ["csv", "geojson", "gpkg"])
def test_network_export_is_one_set(tmp_path, tiny_network, capsys, ext):
    from lisgeo.cli import main

    out = tmp_path / "net"
    assert main(["network", "export", "-r", "llep", "-o", str(out / f"g.{ext}")]) == 0, capsys.readouterr().err
    files = sorted(p.name for p in out.iterdir())
    if ext == "gpkg":
        assert files == ["g.gpkg", "g.gpkg.provenance.json"]
        assert sorted(pyogrio.list_layers(out / "g.gpkg")[:, 0]) == ["edges", "nodes"]
        assert pyogrio.read_info(out / "g.gpkg", layer="edges")["layer_metadata"]["scenario"] == "base"
    else:
        assert files == [f"g.{ext}.provenance.json", f"g_edges.{ext}", f"g_nodes.{ext}"]
    prov = json.loads((out / f"g.{ext}.provenance.json").read_text())
    assert prov["kind"] == "network" and prov["scenario"]["name"] == "base" and prov["region"] == "llep"
    assert set(prov["outputs"]) == set(files) - {f"g.{ext}.provenance.json"}
    if ext == "geojson":  # deterministic: a rerun gives the same bytes
        first = (out / "g_nodes.geojson").read_bytes()
        assert main(["network", "export", "-r", "llep", "-o", str(out / "g.geojson")]) == 0
        assert (out / "g_nodes.geojson").read_bytes() == first
        assert json.loads(first)["name"] == "g_nodes"


def test_network_export_pair_is_all_or_nothing(tmp_path, tiny_network, monkeypatch, capsys):
    from lisgeo.cli import main

    out = tmp_path / "net"
    assert main(["network", "export", "-r", "llep", "-o", str(out / "g.csv")]) == 0
    before = _snapshot(out)
    real_replace = os.replace
    monkeypatch.setattr(os, "replace", lambda s, d, *a, **k: (_ for _ in ()).throw(PermissionError(13, "Permission denied"))
                        if Path(s).name == "g_edges.csv" else real_replace(s, d, *a, **k))
    capsys.readouterr()
    assert main(["network", "export", "-r", "d2n2", "-o", str(out / "g.csv")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("lisgeo: error: cannot replace") and "g_edges.csv" in err and err.count("\n") == 1
    assert _snapshot(out) == before


def test_errors_are_lisgeo_errors():
    assert issubclass(OutputError, LisgeoError)
