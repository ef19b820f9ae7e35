"""Isochrones and the travel-time surface: a tiny graph on a tiny grid with hand-computed bands."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
import rasterio
from affine import Affine

from lisgeo.errors import LisgeoError, UnknownNameError
from lisgeo.network import isochrones, load_assumptions, travel_time_surface

GRID = (np.array([[100.0, 200.0, 300.0, 400.0]]), Affine(1000, 0, 0, 0, -1000, 1000))  # 4 cells, centres y=500


def _graph():
    # circuity 1 and 60 km/h rural: 1 minute per crow-fly km; each cell joins its nearest junction only
    a = load_assumptions(circuity=1.0, rural_kmh=60, k_junctions=1, local_max_km=0, local_k_nearest=0, local_sectors=0)
    G = nx.MultiDiGraph(assumptions=a.to_dict(), scenario="test")
    G.add_node("site:s", kind="site", x=0.0, y=-100.0, urban=False)
    G.add_node("road:1", kind="road", x=0.0, y=0.0)
    G.add_node("road:2", kind="road", x=4000.0, y=0.0)
    G.add_edge("site:s", "road:1", time_min=1.0, mode="access_car")
    G.add_edge("road:1", "road:2", time_min=2.0, mode="road")
    return G


def test_surface_hand_computed(tmp_path):
    G = _graph()
    times, transform, pop = travel_time_surface(G, "s", grid=GRID, path=tmp_path / "tt.tif")
    d1, d2 = np.hypot(500, 500) / 1000, np.hypot(1500, 500) / 1000
    # cells 0, 1 via junction 1 (reached at 1 min); cells 2, 3 via junction 2 (reached at 3 min)
    np.testing.assert_allclose(times[0], [1 + d1, 1 + d2, 3 + d2, 3 + d1])
    with rasterio.open(tmp_path / "tt.tif") as src:
        assert src.crs.to_epsg() == 27700 and src.transform == GRID[1] and src.dtypes[0] == "float32"
        np.testing.assert_allclose(src.read(1), times, rtol=1e-6)
    assert not any(p.name.startswith(".") for p in tmp_path.iterdir())  # no temporary file left


def test_cells_are_joined_once_per_frozen_graph(count_calls):
    """Isochrones from several sites of a read-only (frozen) network over the same grid join the
    grid's cells to it once; a graph that can change is joined afresh every time."""
    import sys

    calls = count_calls(sys.modules["lisgeo.network.isochrones"], "point_links")
    G = _graph()
    G.add_node("site:t", kind="site", x=4000.0, y=-100.0, urban=False)
    G.add_edge("site:t", "road:2", time_min=1.0, mode="access_car")
    open_s = travel_time_surface(G, "s", grid=GRID)[0]
    travel_time_surface(G, "s", grid=GRID)
    assert len(calls) == 2  # a graph that can change: joined every time
    F = nx.freeze(G)
    froze_s = travel_time_surface(F, "s", grid=GRID)[0]
    froze_t = travel_time_surface(F, "t", grid=GRID)[0]
    assert len(calls) == 3  # frozen: once for both sites
    np.testing.assert_array_equal(froze_s, open_s)
    d1, d2 = np.hypot(500, 500) / 1000, np.hypot(1500, 500) / 1000
    # from t: junction 2 at 1 min; junction 1 unreachable (the road runs one way, 1 -> 2)
    np.testing.assert_allclose(froze_t[0], [np.nan, np.nan, 1 + d2, 1 + d1])
    travel_time_surface(F, "s", grid=(GRID[0], Affine(1000, 0, 500, 0, -1000, 1000)))  # other cells: joined again
    assert len(calls) == 4


def test_bands_population_and_polygons():
    iso = isochrones(_graph(), "site:s", bands=(4, 2, 5), grid=GRID)
    assert iso["minutes"].tolist() == [2.0, 4.0, 5.0]
    assert iso["pop"].tolist() == [100.0, 700.0, 1000.0]  # cells {0}, {0, 1, 3}, all
    assert iso["area_km2"].tolist() == [1.0, 3.0, 4.0]
    g4 = iso.loc[4.0, "geometry"]
    assert g4.geom_type == "MultiPolygon" and len(g4.geoms) == 2 and g4.area == 3e6
    assert iso.crs.to_epsg() == 27700 and iso.loc[5.0, "geometry"].bounds == (0.0, 0.0, 4000.0, 1000.0)


def test_unreachable_cells_are_nan():
    G = _graph()
    G.remove_edge("road:1", "road:2")
    times, _, _ = travel_time_surface(G, "s", grid=GRID)
    assert np.isfinite(times[0, :2]).all() and np.isnan(times[0, 2:]).all()
    iso = isochrones(G, "s", mode="rail", grid=GRID)  # no stations: nothing by pt
    assert iso["pop"].sum() == 0 and iso.geometry.is_empty.all()


def test_bad_input():
    with pytest.raises(UnknownNameError, match="nowhere"):
        isochrones(_graph(), "nowhere", grid=GRID)
    with pytest.raises(LisgeoError, match="bands"):
        isochrones(_graph(), "s", bands=(0, 15), grid=GRID)


def test_real_toton_isochrones(real_data):
    from lisgeo.network import build_network

    G = build_network(region="d2n2")
    iso = isochrones(G, "hs2_toton")
    assert iso["pop"].is_monotonic_increasing and iso["area_km2"].is_monotonic_increasing
    assert 1e5 < iso.loc[15.0, "pop"] < 8e5 and iso.loc[60.0, "pop"] > 3e6


def test_cli_isochrones(real_data, tmp_path, capsys):
    import geopandas as gpd

    from lisgeo.cli import main

    out = tmp_path / "iso.gpkg"
    assert main(["isochrones", "hs2_toton", "--bands", "15,30", "--tif", str(tmp_path / "t.tif"), "-o", str(out)]) == 0
    iso = gpd.read_file(out)
    assert iso["minutes"].tolist() == [15.0, 30.0] and (tmp_path / "t.tif").is_file()
    assert main(["isochrones", "atlantis", "-o", str(tmp_path / "x.gpkg")]) == 2
    assert "unknown site 'atlantis'" in capsys.readouterr().err
    assert not (tmp_path / "x.gpkg").exists()


def test_cells_join_the_nearest_site_in_each_direction():
    # with sector links (8 directions within 15 km) every cell also joins site s directly, the way a
    # zone would: 1 minute per crow-fly km beats the way through the junctions for the far cells
    a = load_assumptions(circuity=1.0, rural_kmh=60, k_junctions=1, local_max_km=0, local_k_nearest=0,
                         local_sectors=8, local_sector_max_km=15)
    G = _graph()
    G.graph["assumptions"] = a.to_dict()
    times, _, _ = travel_time_surface(G, "s", grid=GRID)
    direct = np.hypot(np.array([500.0, 1500.0, 2500.0, 3500.0]), 600.0) / 1000
    via = np.array([1 + np.hypot(500, 500) / 1000, 1 + np.hypot(1500, 500) / 1000, 3 + np.hypot(1500, 500) / 1000,
                    3 + np.hypot(500, 500) / 1000])
    np.testing.assert_allclose(times[0], np.minimum(direct, via))
    assert (direct < via).any()
