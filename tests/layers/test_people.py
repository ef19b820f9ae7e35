"""People layers: Census 2021 population, centroids, 1 km grid."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely

from lisgeo.errors import LisgeoError
from lisgeo.regions import get_region


def test_population_d2n2_exact(real_data):
    from lisgeo.layers.people import load_population

    p = load_population(region="d2n2")
    assert len(p) == 1335
    assert p["pop"].sum() == 2_204_467  # the data README's figure
    assert p.crs.to_epsg() == 27700
    assert (p.index == p["LSOA21CD"]).all()
    assert p.attrs["layer"] == "population"


def test_population_llep_and_lad_consistency(real_data):
    from lisgeo.layers.people import load_population, read_census2021_population

    p = load_population(region="llep")
    assert len(p) == 608
    assert p["pop"].sum() == 1_080_943
    lad = read_census2021_population(level="lad")
    # TS001's district rows are perturbed separately from the LSOA rows: a few people apart
    for reg, lsoa_sum, lad_sum in [("llep", 1_080_943, 1_080_940), ("d2n2", 2_204_467, 2_204_451)]:
        got = lad.loc[list(get_region(reg).lad_codes), "pop"].sum()
        assert got == lad_sum
        assert abs(got - lsoa_sum) / lsoa_sum < 1e-4


def test_read_census_bad_level(real_data):
    from lisgeo.layers.people import read_census2021_population

    with pytest.raises(LisgeoError, match="use one of"):
        read_census2021_population(level="ward")


def test_lsoa21_centroids_joined_on_code(real_data):
    from lisgeo.layers.people import load_lsoa21_centroids, load_population

    c = load_lsoa21_centroids(region="d2n2")
    p = load_population(region="d2n2")
    assert list(c.columns) == ["LSOA21CD", "LSOA21NM", "LADCD", "LADNM", "LEP", "pop", "geometry"]
    assert len(c) == 1335 and set(c.geom_type) == {"Point"}
    assert c["pop"].sum() == 2_204_467
    outside = ~c.geometry.within(p.geometry.reindex(c.index))
    # some population-weighted centroids lie outside their generalised polygon: kept on their code
    assert int(outside.sum()) == 20
    # but every one is within 1 km of its own polygon
    assert (c.geometry.distance(p.geometry.reindex(c.index)) < 1000).all()


def test_msoa21_centroids_pop_from_lsoas(real_data):
    from lisgeo.layers.people import load_msoa21_centroids, read_census2021_population

    m = load_msoa21_centroids(region="llep")
    assert len(m) == 122
    assert m["pop"].sum() == 1_080_943  # = the LSOA sum
    ts = read_census2021_population(level="msoa")["pop"].reindex(m.index)
    assert (m["pop"] - ts).abs().max() <= 10  # perturbation only


def test_grid_extent_whole_uk(real_data):
    from lisgeo.layers.people import read_population_grid

    arr, t, crs = read_population_grid()
    assert arr.shape == (1210, 656) and arr.dtype == np.float64
    assert (t.a, t.e, t.c, t.f) == (1000.0, -1000.0, 0.0, 1217000.0)
    assert crs.to_epsg() == 27700
    assert 66.9e6 < np.nansum(arr) < 67.0e6  # UK 2021 population


def test_grid_window_and_cell_fractions(real_data):
    from lisgeo.layers.people import read_population_grid, zonal_population

    arr, t, _ = read_population_grid(bounds=(434000, 335000, 436000, 337000))  # central Derby
    assert arr.shape == (2, 2)
    assert (t.c, t.f) == (434000.0, 337000.0)
    v = arr[1, 0]  # the cell 434-435 km E, 335-336 km N
    zones = gpd.GeoDataFrame(
        {"z": ["cell", "half", "quarter_each4"]},
        geometry=[shapely.box(434000, 335000, 435000, 336000), shapely.box(434000, 335000, 434500, 336000),
                  shapely.box(434500, 335500, 435500, 336500)],
        crs="EPSG:27700", index=["a", "b", "c"],
    )
    got = zonal_population(zones)
    assert list(got.index) == ["a", "b", "c"]
    assert got["a"] == pytest.approx(v)
    assert got["b"] == pytest.approx(v / 2)
    assert got["c"] == pytest.approx(np.nansum(arr) / 4)
    centre = zonal_population(zones, method="centre")
    assert centre["a"] == pytest.approx(v) and centre["b"] == 0 and centre["c"] == 0
    touched = zonal_population(zones, method="centre", all_touched=True)
    assert touched["c"] == pytest.approx(np.nansum(arr))


def test_zonal_population_25_districts(real_data):
    from lisgeo.layers.boundaries import load_districts
    from lisgeo.layers.people import zonal_population

    d = load_districts(region="d2n2_llep")
    z = zonal_population(d)
    assert list(z.index) == list(d.index)
    assert z.sum() == pytest.approx(3.29e6, rel=0.01)
    # census residents of the same districts: 2,204,467 + 1,080,943
    assert z.sum() == pytest.approx(3_285_410, rel=0.005)
    assert z["E06000018"] == pytest.approx(323_632, rel=0.05)  # Nottingham, Census 2021 LAD
    with pytest.raises(LisgeoError, match="unknown method"):
        zonal_population(d, method="mean")


def test_population_grid_layer(real_data):
    from lisgeo.layers.people import load_population_grid

    g = load_population_grid(region="llep", buffer_km=0)
    assert g.index.is_unique and (g.index == g["cell_id"]).all()
    assert set(g.area.round()) == {1e6}
    assert g.loc["E458N0304", "pop"] > 1000  # central Leicester
    assert g["pop"].sum() > 1_080_943  # the bbox holds all of Leicester and Leicestershire


def test_centroids_read_by_arrow_equal_json_per_line_and_bad_files_say_so(real_data, monkeypatch, tmp_path):
    import gzip
    import json

    from lisgeo.catalog import resolve_dataset
    from lisgeo.errors import DataFormatError
    from lisgeo.layers import people

    (path,) = resolve_dataset("msoa21_centroids")
    people._centroids.cache_clear()
    got = people._centroids("msoa21_centroids")
    with gzip.open(path, "rt", encoding="utf-8") as fh:  # the file read one feature per line
        feats = [json.loads(line) for line in fh if line.strip()]
    assert list(got.index) == [f["properties"]["areacd"] for f in feats]
    ref = gpd.GeoSeries(shapely.points([f["geometry"]["coordinates"] for f in feats]), crs="EPSG:4326").to_crs(27700)
    assert (got.x.to_numpy() == ref.x.to_numpy()).all() and (got.y.to_numpy() == ref.y.to_numpy()).all()
    for name, text in [("truncated", '{ "type": "Feature", "properties": { "areacd": "E02000001" }, "geometry": { "type": "Po'),
                       ("no_code", '{ "type": "Feature", "properties": { "name": "x" }, "geometry": { "type": "Point", "coordinates": [ 0.1, 52.0 ] } }'),
                       ("three_coordinates", '{ "type": "Feature", "properties": { "areacd": "E02000001" }, "geometry": { "type": "Point", "coordinates": [ 0.1, 52.0, 3.0 ] } }')]:
        bad = tmp_path / f"{name}.json.gz"
        with gzip.open(bad, "wt", encoding="utf-8") as fh:
            fh.write(text + "\n")
        monkeypatch.setattr(people, "resolve_dataset", lambda dataset, _p=bad: [_p])
        people._centroids.cache_clear()
        with pytest.raises(DataFormatError, match="cannot read the centroids.*lisgeo data verify"):
            people._centroids("msoa21_centroids")
    people._centroids.cache_clear()
