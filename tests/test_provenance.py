"""provenance.json beside every output set, and the GeoPackage metadata that repeats its short form."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
from shapely.geometry import box

import lisgeo
from lisgeo import provenance as P
from lisgeo.catalog import get_dataset

KEYS = {"lisgeo_version", "created_utc", "command", "kind", "region", "scenario", "assumptions", "assumptions_sha256",
        "index_config", "index_config_sha256", "datasets", "authored_files", "details", "outputs"}
IN_CHECKOUT = (Path(lisgeo.__file__).resolve().parents[1] / ".git").exists()


def _check(folder: Path, name: str = "provenance.json", *, kind: str, outputs: list[str] | None = None) -> dict:
    prov = json.loads((folder / name).read_text(encoding="utf-8"))
    assert KEYS <= set(prov), KEYS - set(prov)
    assert prov["lisgeo_version"] == lisgeo.__version__ and prov["kind"] == kind
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", prov["created_utc"])
    if IN_CHECKOUT and P.git_commit():
        assert re.fullmatch(r"[0-9a-f]{40}", prov["git_commit"]) and isinstance(prov["git_dirty"], bool)
    for d in prov["datasets"]:  # pinned hashes straight from the catalog
        assert d["files"] == [{"path": f.path, "sha256": f.sha256, "bytes": f.bytes} for f in get_dataset(d["name"]).files]
    # every other file of the set, with the sha256 of the bytes on disk
    if outputs is None:
        outputs = [p.name for p in folder.iterdir() if p.name != name and not p.name.endswith(".provenance.json")]
    assert sorted(prov["outputs"]) == sorted(outputs)
    for n, rec in prov["outputs"].items():
        assert rec["sha256"] == hashlib.sha256((folder / n).read_bytes()).hexdigest()
    return prov


def _gpkg_meta(path: Path, layer: str | None = None) -> dict:
    info = pyogrio.read_info(path, layer=layer)
    assert info["dataset_metadata"] is not None
    meta = info["layer_metadata"]
    assert meta == info["dataset_metadata"] or layer is not None
    assert json.loads(meta["lisgeo_provenance"])["lisgeo_version"] == lisgeo.__version__
    return meta


def test_git_commit_only_from_a_checkout(monkeypatch):
    prov = P.build_provenance("layer", attrs={"region": "llep"})
    if IN_CHECKOUT and P.git_commit():
        assert len(prov["git_commit"]) == 40
    monkeypatch.setattr(P, "_git_state", lambda: None)  # e.g. an installed wheel
    prov = P.build_provenance("layer", attrs={"region": "llep"})
    assert "git_commit" not in prov and "git_dirty" not in prov
    assert prov["command"] is None  # not run from the command line


def test_build_provenance_from_attrs():
    attrs = {"region": "d2n2", "scenario": "hs2_2b", "assumptions": {"car.urban_kmh": np.float64(30.0), "x": [1, 2]},
             "index_config": {"connectivity": {"tt_rail_london": 1.0}}, "sources": ["naptan_910", "not_a_dataset"],
             "hs2_scheme": "hs2_2b", "timings": {"total": 1.0}}
    prov = P.build_provenance("scores", attrs=attrs)
    assert prov["scenario"]["name"] == "hs2_2b" and prov["region"] == "d2n2"
    assert prov["assumptions"] == {"car.urban_kmh": 30.0, "x": [1, 2]}
    assert prov["assumptions_sha256"] == P.json_sha256({"x": [1, 2], "car.urban_kmh": 30.0})  # key order does not matter
    assert prov["index_config_sha256"] == P.json_sha256(attrs["index_config"])
    assert [d["name"] for d in prov["datasets"]] == ["naptan_910", "not_a_dataset"]
    assert prov["datasets"][0]["sha256"] == get_dataset("naptan_910").files[0].sha256
    assert prov["datasets"][1]["note"] == "not in the lisgeo catalog"
    assert prov["details"]["hs2_scheme"] == "hs2_2b" and "timings" not in prov["details"]
    json.dumps(prov)  # plain JSON
    meta = P.gpkg_metadata(prov)
    assert all(isinstance(v, str) for v in meta.values())
    assert meta["scenario"] == "hs2_2b" and meta["assumptions_sha256"] == prov["assumptions_sha256"]


def _scores() -> gpd.GeoDataFrame:
    from lisgeo.assumptions import load_assumptions
    from lisgeo.measures.columns import CONTRACT
    from lisgeo.measures.indices import load_index_config
    from lisgeo.network import load_scenario

    idx = ["E01000001", "E01000002"]
    df = pd.DataFrame({c: [1.0, 2.0] for c in CONTRACT}, index=idx)
    for c in ("LSOA21CD", "LSOA21NM", "LADCD", "LADNM", "LEP"):
        df[c] = [f"{c}{i}" for i in range(2)]
    df["left_behind"] = [True, False]
    g = gpd.GeoDataFrame(df, geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1)], crs="EPSG:27700")
    sc = load_scenario("hs2_2b")
    g.attrs.update({"layer": "scores", "region": "E07000032", "scenario": sc.name, "scenario_path": sc.path,
                    "assumptions": load_assumptions().to_dict(), "index_config": load_index_config(), "hs2_scheme": "hs2_2b"})
    return g


def test_write_scores_records_its_assumptions(tmp_path):
    from lisgeo.pipeline import write_scores

    g = _scores()
    claims = pd.DataFrame({"claim": ["x"], "strategy_figure": [1.0], "computed_value": [2.0], "unit": ["%"]})
    paths = write_scores(g, tmp_path / "out", claims=claims)
    assert sorted(paths) == ["claims.csv", "provenance.json", "scores.csv", "scores.gpkg"]
    prov = _check(tmp_path / "out", kind="scores")
    assert prov["region"] == "E07000032"
    assert prov["scenario"]["name"] == "hs2_2b" and prov["scenario"]["status"]["state"] == "cancelled"
    assert prov["scenario"]["sha256"] == hashlib.sha256(Path(g.attrs["scenario_path"]).read_bytes()).hexdigest()
    assert prov["assumptions"] == json.loads(json.dumps(g.attrs["assumptions"]))
    assert prov["index_config"] == json.loads(json.dumps(g.attrs["index_config"]))
    names = {d["name"] for d in prov["datasets"]}
    assert {"lsoa21_boundaries", "imd2025_lsoa21", "major_roads", "hapms", "aquius_rail", "rail_cif_sample", "naptan_910",
            "census2021_population"} <= names
    assert "population_grid_1km" in names  # the claims' grid: the claims were written
    assert {Path(a["path"]).name for a in prov["authored_files"]} >= {"sites.csv", "assumptions.toml", "indices.toml"}
    meta = _gpkg_meta(paths["scores.gpkg"])
    assert meta["scenario"] == "hs2_2b" and meta["scenario_status"] == "cancelled"
    assert meta["assumptions_sha256"] == prov["assumptions_sha256"] and meta["lisgeo_version"] == lisgeo.__version__


def test_write_comparison_records_base_and_scenario(tmp_path):
    from lisgeo.measures.compare import compare_scores
    from lisgeo.pipeline import write_comparison

    def frame(london, scenario):
        g = _scores().iloc[:2].copy()
        g["tt_rail_london"] = london
        g.attrs.update(_scores().attrs, scenario=scenario, scenario_path="")
        return g

    cmp = compare_scores(frame([100.0, 90.0], "base"), frame([80.0, 90.0], "hs2_2b"))
    paths = write_comparison(cmp, tmp_path / "cmp")
    prov = _check(tmp_path / "cmp", kind="compare")
    assert prov["scenario"]["name"] == "hs2_2b" and prov["base"]["name"] == "base"
    assert prov["region"] == "E07000032" and prov["details"]["threshold_min"] == cmp.attrs["threshold_min"]
    assert {"lsoa21_boundaries", "aquius_rail"} <= {d["name"] for d in prov["datasets"]}
    meta = _gpkg_meta(paths["compare.gpkg"])
    assert meta["scenario"] == "hs2_2b" and meta["kind"] == "compare"


def test_write_validation_records_assumptions(tmp_path):
    from lisgeo.pipeline.validate import write_validation

    df = pd.DataFrame({"pair_id": ["p1", "p2"], "class": ["urban_car", "urban_car"], "scenario": ["base", "hs2_2b"],
                       "published_min": [20.0, 30.0], "model_min": [18.0, 33.0]})
    df["error_pct"] = 100 * (df["model_min"] - df["published_min"]) / df["published_min"]
    df["abs_pct"] = df["error_pct"].abs()
    df.attrs["assumptions"] = {"car.urban_kmh": 30.0}
    write_validation(df, tmp_path / "val")
    prov = _check(tmp_path / "val", kind="validation")
    assert prov["assumptions"] == {"car.urban_kmh": 30.0} and prov["region"] == "d2n2_llep"
    assert prov["details"]["scenarios"] == ["base", "hs2_2b"]
    assert [Path(a["path"]).name for a in prov["authored_files"]] == ["journey_times.csv"]


def test_layer_export_records_command_and_datasets(real_data, tmp_path, capsys):
    from lisgeo.cli import main

    out = tmp_path / "x"
    assert main(["layers", "export", "districts", "-r", "llep", "-o", str(out / "d.gpkg")]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["d.gpkg", "d.gpkg.provenance.json"]
    prov = _check(out, "d.gpkg.provenance.json", kind="layer")
    assert prov["command"] == f"lisgeo layers export --region llep --output {out / 'd.gpkg'} districts"
    assert prov["region"] == "llep" and prov["details"]["layer"] == "districts" and prov["details"]["rows"] == 8
    assert [d["name"] for d in prov["datasets"]] == ["lsoa21_boundaries"]
    meta = _gpkg_meta(out / "d.gpkg")
    assert meta["region"] == "llep" and meta["command"] == prov["command"]
    assert meta["datasets"] == f"lsoa21_boundaries={prov['datasets'][0]['sha256']}"
    # a second layer in the same folder keeps its own record
    assert main(["layers", "export", "lep", "-r", "llep", "-o", str(out / "lep.csv")]) == 0
    assert _check(out, "lep.csv.provenance.json", kind="layer", outputs=["lep.csv"])["details"]["layer"] == "lep"
    assert _check(out, "d.gpkg.provenance.json", kind="layer", outputs=["d.gpkg"])["details"]["layer"] == "districts"


@pytest.mark.slow
@pytest.mark.realdata
def test_score_command_records_everything(real_data, tmp_path, capsys):
    from lisgeo.cli import main

    out = tmp_path / "scores"
    assert main(["score", "-r", "E07000032", "--scenario", "irp", "--no-claims", "-o", str(out)]) == 0, capsys.readouterr().err
    assert sorted(p.name for p in out.iterdir()) == ["provenance.json", "scores.csv", "scores.gpkg"]
    prov = _check(out, kind="scores")
    assert prov["command"].startswith("lisgeo score ") and "--scenario irp" in prov["command"] and "--no-claims" in prov["command"]
    assert prov["region"] == "E07000032" and prov["scenario"]["name"] == "irp" and prov["scenario"]["status"]["state"]
    assert prov["assumptions"] and prov["index_config"] and prov["details"]["rows"] == len(pd.read_csv(out / "scores.csv"))
    meta = _gpkg_meta(out / "scores.gpkg")
    assert meta["scenario"] == "irp" and meta["assumptions_sha256"] == prov["assumptions_sha256"]
