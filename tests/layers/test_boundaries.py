"""Boundary layers on the real data."""

from __future__ import annotations

import warnings

import pytest

from lisgeo.layers import load_layer
from lisgeo.layers.boundaries import load_districts, load_lep, load_lsoa21, load_msoa21, load_national_parks, load_peak_district
from lisgeo.checks import GeometryRepairWarning

pytestmark = pytest.mark.usefixtures("real_data")


@pytest.mark.parametrize("region,n_lsoa,n_districts", [("d2n2", 1335, 17), ("llep", 608, 8), ("d2n2_llep", 1943, 25)])
def test_lsoa21_counts(region, n_lsoa, n_districts):
    g = load_lsoa21(region=region)
    assert len(g) == n_lsoa
    assert g["LADCD"].nunique() == n_districts
    assert g.crs.to_epsg() == 27700
    assert list(g.index) == list(g["LSOA21CD"]) and g.index.is_unique
    assert g.geometry.is_valid.all()
    assert "Contains OS data" in g.attrs["attribution"]


def test_msoa21_repairs_the_one_invalid_polygon_and_says_so():
    with pytest.warns(GeometryRepairWarning, match="E02005824"):
        m = load_msoa21(region="E07000033,E07000170,E07000174,E07000171,E07000175,E07000038,E07000034")
    assert m.attrs["repaired"] == ["E02005824"] and m.geometry.is_valid.all()
    assert m.loc["E02005824"].geometry.geom_type in ("Polygon", "MultiPolygon")


def test_msoa_counts_both_leps():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GeometryRepairWarning)
        assert len(load_msoa21(region="d2n2_llep")) == 389


def test_districts_nest_lsoas_and_areas_are_plausible():
    d = load_districts(region="d2n2")
    assert len(d) == 17 and set(d["LEP"]) == {"D2N2"}
    # Derbyshire Dales is the largest D2N2 district; Derby and Nottingham are the smallest unitaries
    assert d["area_km2"].idxmax() == "E07000035"
    assert 70 < d.loc["E06000018", "area_km2"] < 80
    lsoa_area = load_lsoa21(region="d2n2").area.sum() / 1e6
    assert d["area_km2"].sum() == pytest.approx(lsoa_area, rel=1e-4)


def test_lep_outlines():
    lep = load_lep(region="d2n2_llep")
    assert set(lep.index) == {"E37000045", "E37000021"}
    assert lep.loc["E37000045", "n_districts"] == 17 and lep.loc["E37000021", "n_districts"] == 8
    # D2N2 covers about 4,800 km², Leicester and Leicestershire about 2,150 km²
    assert 4700 < lep.loc["E37000045", "area_km2"] < 4900
    assert 2100 < lep.loc["E37000021", "area_km2"] < 2200


def test_peak_district_meets_d2n2_not_llep():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GeometryRepairWarning)
        assert list(load_national_parks(region="d2n2").index) == ["Peak District"]
        assert "Peak District" not in load_national_parks(region="llep").index
        pd_ = load_peak_district()
    assert len(pd_) == 1 and 1400 < pd_.area.iloc[0] / 1e6 < 1450  # 1,438 km²


def test_layer_registry_entry_and_unknown_district():
    from lisgeo.errors import UnknownNameError

    assert len(load_layer("lsoa21", region="E06000015")) == 152
    assert len(load_lsoa21(region="E09000001")) == 6  # every district of England (the City of London)
    with pytest.raises(UnknownNameError, match="unknown district code 'E09000099'"):
        load_lsoa21(region="E09000099")


def test_union_coverage_equals_a_general_union_and_falls_back_on_overlaps():
    import shapely

    from lisgeo.layers.boundaries import union_coverage

    tiles = [shapely.box(x, y, x + 1, y + 1) for x in range(3) for y in range(2)] + [shapely.box(5, 0, 6, 1)]
    got = union_coverage(tiles)
    assert got.is_valid and got.area == 7.0 and got.equals(shapely.union_all(tiles))
    assert len(got.geoms) == 2  # the block and the island apart
    overlapping = [shapely.box(0, 0, 2, 1), shapely.box(1, 0, 3, 1)]  # not a coverage: the general union
    assert union_coverage(overlapping).equals(shapely.box(0, 0, 3, 1)) and union_coverage(overlapping).area == 3.0
    assert union_coverage([]).is_empty and union_coverage([None, shapely.box(0, 0, 1, 1)]).area == 1.0


def test_districts_and_outline_by_coverage_union_equal_a_general_union():
    import shapely

    from lisgeo.layers.boundaries import region_outline

    lsoa = load_lsoa21(region="llep")
    d = load_districts(region="llep")
    for code, geom in d.geometry.items():
        assert geom.is_valid and geom.symmetric_difference(shapely.union_all(lsoa.geometry[lsoa["LADCD"] == code].values)).area < 1e-3
    assert region_outline("llep").symmetric_difference(shapely.union_all(lsoa.geometry.values)).area < 1e-3
    assert list(d.columns) == ["LADCD", "geometry", "LADNM", "LEP", "area_km2"]


def test_small_area_names_equal_the_polygons_codes_and_names():
    from lisgeo.layers.boundaries import load_lsoa11, small_area_names

    names = small_area_names("lsoa11", "llep")
    polys = load_lsoa11(region="llep")
    assert list(names.index) == list(polys.index)
    assert (names["LSOA11NM"].to_numpy() == polys["LSOA11NM"].to_numpy()).all()
    assert (names["LADCD"].to_numpy() == polys["LADCD"].to_numpy()).all() and "geometry" not in names.columns


def test_small_areas_read_as_one_table_equal_each_file_read_on_its_own(monkeypatch):
    """A region's small areas are made as one table from its districts' files (one reprojection);
    that equals reading each file as a GeoDataFrame and reprojecting it, and files of one dataset
    given in different CRS are each reprojected on their own."""
    import geopandas as gpd
    import pandas as pd

    from lisgeo.layers import boundaries as B

    lads = ("E06000015", "E07000032")
    got = B._read_small_areas("lsoa21", lads)
    each = []
    for lad in lads:
        g = gpd.read_file(B._small_area_path("lsoa21", lad), columns=["LSOA21CD", "LSOA21NM"]).assign(LADCD=lad).to_crs(B.BNG)
        each.append(g[["LSOA21CD", "LSOA21NM", "LADCD", "geometry"]])
    want = pd.concat(each, ignore_index=True).set_index("LSOA21CD", drop=False)
    assert list(got.index) == list(want.index) and (got["LADCD"].to_numpy() == want["LADCD"].to_numpy()).all()
    assert (got["LSOA21NM"].to_numpy() == want["LSOA21NM"].to_numpy()).all()
    assert (got.geometry.to_wkb().to_numpy() == want.geometry.to_wkb().to_numpy()).all() and got.crs == want.crs
    read = B._read_small_area
    monkeypatch.setattr(B, "_read_small_area", lambda key, lad: (("OGC:CRS84",) + read(key, lad)[1:]) if lad == lads[1] else read(key, lad))
    mixed = B._read_small_areas("lsoa21", lads)  # lon/lat by another name: the same points
    assert (mixed.geometry.to_wkb().to_numpy() == got.geometry.to_wkb().to_numpy()).all()


def test_small_areas_and_reach_are_shared_through_the_disk_and_repairs_are_still_said(tmp_path, monkeypatch):
    """The two processes of a command share a region's small areas and reach through the disk cache
    (kind ``boundaries``): what the other process reads back equals a fresh read, and the repair
    of E02005824 is said on every call, from memory or from the disk, as a fresh read says it."""
    import pandas as pd

    from lisgeo.layers import boundaries
    from lisgeo.layers.boundaries import region_reach

    monkeypatch.setenv("LISGEO_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("LISGEO_NO_CACHE", raising=False)
    region = "E07000033,E07000170,E07000174,E07000171,E07000175,E07000038,E07000034"
    boundaries._small_areas_of.cache_clear()
    boundaries._reach.cache_clear()
    with pytest.warns(GeometryRepairWarning, match="E02005824"):
        first = load_msoa21(region=region)
    with pytest.warns(GeometryRepairWarning, match="E02005824"):
        again = load_msoa21(region=region)  # from this process's memory: said again
    assert list((tmp_path / "cache" / "results" / "boundaries").glob("*.parquet"))
    boundaries._small_areas_of.cache_clear()  # as the other process would: from the disk
    with pytest.warns(GeometryRepairWarning, match="E02005824"):
        other = load_msoa21(region=region)
    for got in (again, other):
        pd.testing.assert_frame_equal(got, first, check_exact=True)
        assert got.attrs == first.attrs and got.attrs["repaired"] == ["E02005824"]
    reach = region_reach(region, 30.0)
    boundaries._reach.cache_clear()
    back = region_reach(region, 30.0)  # read back from the disk
    assert back is not reach and back.equals_exact(reach, 0.0)
    assert list((tmp_path / "cache" / "results" / "boundaries").glob("*.pickle"))
    boundaries._small_areas_of.cache_clear()
    boundaries._reach.cache_clear()
