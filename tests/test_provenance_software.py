"""provenance.json records the software (issue 22): "provenance records no Python or library
versions; the wheel records no build id". Now every record has ``software``: Python, the platform,
the main libraries and the native ones under them, and lisgeo's build: the commit of a checkout,
or the build record the wheel carries (``lisgeo/_build.json``, written by ``setup.py`` when the
sdist and the wheel are built, kept through ``.ci/run``'s sdist-then-wheel)."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

import lisgeo
from lisgeo import provenance as P

ROOT = Path(__file__).resolve().parents[1]
IN_CHECKOUT = (ROOT / ".git").exists() and P.git_commit() is not None


def test_every_record_names_python_the_libraries_and_the_build():
    """Issue 22: provenance records the Python version, the main libraries' versions and the build."""
    prov = P.build_provenance("scores", attrs={"region": "d2n2"})
    sw = prov["software"]
    assert sw["python"] == platform.python_version() and sw["implementation"] == platform.python_implementation()
    for dist in ("numpy", "pandas", "geopandas", "shapely", "pyogrio", "pyproj", "networkx", "scipy", "folium"):
        assert sw["libraries"][dist] == importlib.metadata.version(dist), dist
    assert {"GEOS", "GDAL", "PROJ"} <= set(sw["native"])
    assert sw["lisgeo"]["version"] == lisgeo.__version__ and sw["lisgeo"]["build_id"]
    if IN_CHECKOUT:
        assert sw["lisgeo"]["source"] == "git checkout" and sw["lisgeo"]["git_commit"] == P.git_commit()
        assert re.fullmatch(r"[0-9a-f]{12}(\+dirty)?", sw["lisgeo"]["build_id"])
    json.dumps(prov)
    meta = P.gpkg_metadata(prov)
    assert meta["build_id"] == sw["lisgeo"]["build_id"] and meta["python"] == platform.python_version()


def test_the_build_comes_from_the_wheel_record_outside_a_checkout(monkeypatch):
    """An installed wheel (no checkout): the build is the record it carries; without one it says
    "unknown", never a guess."""
    monkeypatch.setattr(P, "_git_state", lambda: None)
    rec = {"build_id": "0123456789ab-20260101T000000Z", "git_commit": "0123456789ab" + "0" * 28, "git_dirty": False,
           "source": "sdist", "sdist_built_utc": "2026-01-01T00:00:00Z", "wheel_built_utc": "2026-01-01T00:00:00Z"}
    monkeypatch.setattr(P, "_build_record", lambda: rec)
    assert P.build_info() == rec
    assert P.build_provenance("layer")["software"]["lisgeo"]["build_id"] == rec["build_id"]
    monkeypatch.setattr(P, "_build_record", lambda: None)
    assert P.build_info()["build_id"].startswith("unknown")


def test_a_library_not_installed_is_recorded_as_none(monkeypatch):
    monkeypatch.setitem(P.MAIN_LIBRARIES, "no-such-library-xyz", "no_such_library_xyz")
    assert P.software()["libraries"]["no-such-library-xyz"] is None


def test_scores_provenance_on_disk_has_the_software(tmp_path):
    """write_scores' provenance.json and its GeoPackage metadata carry the software and the build."""
    import geopandas as gpd
    import pandas as pd
    import pyogrio
    from shapely.geometry import box

    from lisgeo.measures.columns import CONTRACT
    from lisgeo.pipeline.score import write_scores

    df = pd.DataFrame({c: [1.0, 2.0] for c in CONTRACT}, index=["E01000001", "E01000002"])
    for c in ("LSOA21CD", "LSOA21NM", "LADCD", "LADNM", "LEP"):
        df[c] = ["a", "b"]
    df["left_behind"] = [True, False]
    g = gpd.GeoDataFrame(df, geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1)], crs="EPSG:27700")
    g.attrs.update({"layer": "scores", "region": "E07000032", "scenario": "base"})
    write_scores(g, tmp_path, claims=False)
    prov = json.loads((tmp_path / "provenance.json").read_text())
    assert prov["software"]["libraries"]["geopandas"] == importlib.metadata.version("geopandas")
    meta = pyogrio.read_info(tmp_path / "scores.gpkg")["dataset_metadata"]
    assert meta["build_id"] == prov["software"]["lisgeo"]["build_id"]


# ---------------------------------------------------------------- the wheel, built as .ci/run builds it
_OFFLINE_SIGNS = ("Could not find a version", "No matching distribution", "Failed to establish a new connection",
                  "Temporary failure in name resolution", "Network is unreachable", "ProxyError")


def _build(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    if importlib.util.find_spec("build") is None:
        pytest.skip("the 'build' package is not installed (pip install -e '.[test]')")
    r = subprocess.run([sys.executable, "-m", "build", *args], cwd=cwd, capture_output=True, text=True, timeout=900)
    if r.returncode != 0:
        log = r.stdout + r.stderr
        if any(sign in log for sign in _OFFLINE_SIGNS):
            pytest.skip("cannot build offline (the build backend could not be installed)")
        pytest.fail(f"building failed:\n{log[-4000:]}")
    return r


@pytest.fixture(scope="module")
def dist(tmp_path_factory) -> Path:
    """sdist, then the wheel from the unpacked sdist (outside git): ``python -m build``, as .ci/run."""
    out = tmp_path_factory.mktemp("dist")
    _build(["-o", str(out), str(ROOT)], ROOT)
    return out


def _record_in_wheel(whl: Path) -> dict:
    return json.loads(zipfile.ZipFile(whl).read("lisgeo/_build.json"))


@pytest.mark.slow
def test_the_wheel_records_its_build_through_the_sdist(dist, tmp_path):
    """The wheel built from the sdist (outside git) carries the checkout's commit and its build
    times; installed (here: on PYTHONPATH outside the checkout), provenance reports it."""
    (whl,) = dist.glob("lisgeo-*.whl")
    (sdist,) = dist.glob("lisgeo-*.tar.gz")
    rec = _record_in_wheel(whl)
    assert rec["build_id"] and rec["wheel_built_utc"]
    if IN_CHECKOUT:
        assert rec["git_commit"] == P.git_commit() and rec["source"] == "sdist" and rec["sdist_built_utc"]
        assert rec["build_id"].startswith(P.git_commit()[:12])
    names = tarfile.open(sdist).getnames()
    assert any(n.endswith("lisgeo/_build.json") for n in names)
    assert not (ROOT / "lisgeo" / "_build.json").exists(), "nothing is written into the source tree"
    site = tmp_path / "site"
    zipfile.ZipFile(whl).extractall(site)
    env = {**os.environ, "PYTHONPATH": str(site)}
    code = "import json, lisgeo, lisgeo.provenance as P; print(json.dumps([lisgeo.__file__, P.build_info()]))"
    r = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    where, info = json.loads(r.stdout)
    assert where.startswith(str(site)) and info == rec


@pytest.mark.slow
def test_a_wheel_from_an_sdist_made_without_git_says_unknown(dist, tmp_path):
    """A wheel built from an sdist that carries no build record, outside git, records "unknown
    (built from an sdist without git)" honestly."""
    (sdist,) = dist.glob("lisgeo-*.tar.gz")
    with tarfile.open(sdist) as t:
        t.extractall(tmp_path, filter="data")
    (src,) = [p for p in tmp_path.iterdir() if p.is_dir()]
    (src / "lisgeo" / "_build.json").unlink()
    out = tmp_path / "out"
    _build(["--wheel", "-o", str(out), str(src)], tmp_path)
    (whl,) = out.glob("lisgeo-*.whl")
    rec = _record_in_wheel(whl)
    assert rec["build_id"].startswith("unknown (built from an sdist without git)") and "git_commit" not in rec
    shutil.rmtree(src)
