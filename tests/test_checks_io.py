"""Entry checks and atomic writers, on small frames made here."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point, Polygon, box

from lisgeo.errors import CRSError, EmptyResultError, GeometryError, LisgeoError, MissingColumnError
from lisgeo.io import write_frame
from lisgeo.checks import GeometryRepairWarning, check_frame

BOWTIE = Polygon([(0, 0), (10, 10), (10, 0), (0, 10)])  # self-intersecting


def _zones(geoms, crs="EPSG:27700", codes=None):
    codes = codes or [f"E0100000{i}" for i in range(len(geoms))]
    return gpd.GeoDataFrame({"LSOA21CD": codes}, geometry=geoms, crs=crs)


def test_reprojects_wgs84_to_bng():
    g = _zones([Point(-1.4746, 52.9225)], crs="EPSG:4326")  # Derby
    out = check_frame(g, name="z", codes=["LSOA21CD"])
    assert out.crs.to_epsg() == 27700
    assert abs(out.geometry.x.iloc[0] - 435_300) < 1_000 and abs(out.geometry.y.iloc[0] - 336_300) < 1_000


def test_missing_crs_is_refused_with_fix():
    g = gpd.GeoDataFrame({"LSOA21CD": ["E01000001"]}, geometry=[Point(0, 0)])
    with pytest.raises(CRSError, match="set_crs"):
        check_frame(g, name="zones")


def test_swapped_lonlat_is_caught():
    g = _zones([Point(52.92, -1.47)], crs="EPSG:4326")
    with pytest.raises(CRSError, match="outside Great Britain"):
        check_frame(g, name="zones")


def test_invalid_polygon_is_repaired_and_reported():
    g = _zones([BOWTIE, box(20, 20, 30, 30)])
    with pytest.warns(GeometryRepairWarning, match="E01000000"):
        out = check_frame(g, name="zones", geom_types=("Polygon", "MultiPolygon"))
    assert out.geometry.is_valid.all()
    assert out.attrs["repaired"] == ["E01000000"]
    assert out.geometry.iloc[0].area == pytest.approx(50.0)  # two triangles of 25 m² each


def test_invalid_polygon_refused_without_repair():
    with pytest.raises(GeometryError, match="invalid"):
        check_frame(_zones([BOWTIE]), name="zones", repair=False)


def test_missing_column_and_bad_codes_and_empty():
    g = _zones([box(0, 0, 1, 1)])
    with pytest.raises(MissingColumnError, match="pop"):
        check_frame(g, name="zones", required=["pop"])
    with pytest.raises(LisgeoError, match="malformed codes"):
        check_frame(_zones([box(0, 0, 1, 1)], codes=["X123"]), name="zones", codes=["LSOA21CD"])
    with pytest.raises(EmptyResultError):
        check_frame(g.iloc[:0], name="zones")
    with pytest.raises(GeometryError, match="empty"):
        check_frame(_zones([Polygon()]), name="zones")
    with pytest.raises(LisgeoError, match="unique"):
        check_frame(_zones([box(0, 0, 1, 1)] * 2, codes=["E01000001"] * 2), name="zones", unique="LSOA21CD")


@pytest.mark.parametrize("ext", [".gpkg", ".geojson", ".parquet", ".csv"])
def test_write_frame_roundtrip(tmp_path, ext):
    g = _zones([box(400000, 300000, 401000, 301000), box(401000, 300000, 402000, 301000)])
    g["pop"] = [1500, 1700]
    g.index = g["LSOA21CD"].rename("idx")
    g = g.drop(columns="LSOA21CD")
    out = write_frame(g, tmp_path / f"z{ext}")
    back = pd.read_csv(out) if ext == ".csv" else gpd.read_file(out) if ext != ".parquet" else gpd.read_parquet(out)
    assert list(back["pop"]) == [1500, 1700]
    assert "index" not in back.columns and "__index_level_0__" not in back.columns
    assert list(back["idx"]) == ["E01000000", "E01000001"]  # a named index is written as a column
    if ext == ".geojson":
        assert back.crs.to_epsg() == 4326
    if ext in (".gpkg", ".parquet"):
        assert back.crs.to_epsg() == 27700 and back.geometry.iloc[0].area == pytest.approx(1e6)
    if ext == ".csv":
        assert back["geometry_wkt"].str.startswith("POLYGON").all()
    assert [p.name for p in tmp_path.iterdir()] == [f"z{ext}"]  # no temporary left behind


def test_failed_write_leaves_old_file_untouched(tmp_path, monkeypatch):
    target = tmp_path / "t.gpkg"
    target.write_text("old")
    table = pd.DataFrame({"a": [1]})
    with pytest.raises(LisgeoError, match="table without geometry"):
        write_frame(table, target)
    assert target.read_text() == "old"

    class Boom(Exception):
        pass

    def half_write(self, path, *args, **kwargs):
        open(path, "w").write("partial")
        raise Boom("disk full")

    monkeypatch.setattr(gpd.GeoDataFrame, "to_file", half_write)
    with pytest.raises(Boom):
        write_frame(_zones([box(0, 0, 1, 1)]), target)
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.gpkg"]


def test_unknown_extension(tmp_path):
    with pytest.raises(LisgeoError, match=".gpkg, .geojson, .parquet, .csv"):
        write_frame(_zones([box(0, 0, 1, 1)]), tmp_path / "x.shp")


def test_codes_in_answers_as_isin():
    import numpy as np
    import pandas as pd

    from lisgeo.checks import codes_in

    pool = pd.Index(["E01000001", "E01000002", "E01000002", np.nan], dtype="str")
    values = pd.Series(["E01000002", "E01000009", np.nan, "E01000001"], dtype="str")
    got = codes_in(values, pool)
    assert got.dtype == bool and got.tolist() == values.isin(pool).tolist() == [True, False, True, True]
    assert codes_in(["x"], []).tolist() == [False] and codes_in([], ["x"]).tolist() == []
