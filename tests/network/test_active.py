"""Walking and cycling times (crow-fly x circuity, or a street graph) and transit routed through the network graph."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point

from lisgeo.assumptions import load_assumptions
from lisgeo.errors import ParameterError, UnknownNameError
from lisgeo.network import travel_time_matrix
from lisgeo.network.active import active_speed_kmh, active_travel_matrix

X0, Y0 = 430000.0, 340000.0


def _pts(xy: dict) -> pd.DataFrame:
    return pd.DataFrame({"x": [p[0] for p in xy.values()], "y": [p[1] for p in xy.values()]}, index=list(xy))


def test_walk_and_cycle_times_by_hand():
    a = load_assumptions()
    o = _pts({"a": (X0, Y0)})
    d = _pts({"a": (X0, Y0), "b": (X0 + 1000, Y0), "c": (X0 + 3000, Y0), "far": (X0 + 50_000, Y0)})
    w = active_travel_matrix(o, d, mode="walk", max_time_min=45)
    circ, walk = a["access.circuity"], a["walk.walk_kmh"]
    assert w.loc["a", "a"] == 0.0  # own zone
    assert w.loc["a", "b"] == pytest.approx(1.0 * circ / walk * 60)  # 1 km x 1.3 at 4.8 km/h = 16.25 min
    assert np.isnan(w.loc["a", "c"])  # 3.9 km on foot is 48.75 min: beyond 45
    b = active_travel_matrix(o, d, mode="bicycle", max_time_min=45)
    assert b.loc["a", "c"] == pytest.approx(3.0 * circ / a["bicycle.cycle_kmh"] * 60)  # 15.6 min
    assert np.isnan(b.loc["a", "far"])
    assert active_speed_kmh("bicycle") == a["bicycle.cycle_kmh"]
    assert w.attrs["mode"] == "walk" and w.attrs["distance"].startswith("crow-fly")


def test_street_graph_distance_replaces_the_straight_line():
    # a street around a block: 1 km east then the destination 1 km north of it; the straight line is 1.41 km
    G = nx.Graph()
    G.add_node(1, x=X0, y=Y0)
    G.add_node(2, x=X0 + 1000, y=Y0)
    G.add_node(3, x=X0 + 1000, y=Y0 + 1000)
    G.add_edge(1, 2, length_km=1.0)
    G.add_edge(2, 3, length_km=1.0)
    o, d = _pts({"o": (X0, Y0)}), _pts({"d": (X0 + 1000, Y0 + 1000)})
    m = active_travel_matrix(o, d, mode="walk", street_graph=G, max_time_min=60)
    assert m.loc["o", "d"] == pytest.approx(2.0 / load_assumptions()["walk.walk_kmh"] * 60)
    assert m.attrs["distance"] == "street graph"


def test_bad_arguments():
    o = _pts({"a": (X0, Y0)})
    with pytest.raises(UnknownNameError, match="mode"):
        active_travel_matrix(o, o, mode="car")
    with pytest.raises(ParameterError, match="max_time_min"):
        active_travel_matrix(o, o, max_time_min=0)
    with pytest.raises(ParameterError, match="GeoDataFrame"):
        active_travel_matrix([1, 2], o)
    gdf = gpd.GeoDataFrame(geometry=[Point(-1.15, 52.95)], index=["ll"], crs="EPSG:4326")  # lon/lat is reprojected
    assert active_travel_matrix(gdf, gdf).loc["ll", "ll"] == 0.0


def _transit_helpers():
    spec = importlib.util.spec_from_file_location("_tt", Path(__file__).with_name("test_transit.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_transit_mode_routes_the_graphs_timetable(tmp_path):
    """build_network(gtfs=...) stores the feed; travel_time_matrix(mode="transit") routes between the
    nodes' points with it. Without a feed, mode="transit" says what to do."""
    from lisgeo.network.gtfs import read_gtfs

    tt = _transit_helpers()
    feed = read_gtfs(tt.write_feed(tmp_path / "f.zip", tt.LINE, [tt.T1]), date=tt.DAY, start="08:00", end="09:00")
    G = nx.MultiDiGraph(crs="EPSG:27700")
    ax, ay = tt.at(feed, "A")
    cx, cy = tt.at(feed, "C")
    G.add_node("zone:o", kind="zone", x=ax, y=ay)
    G.add_node("zone:d", kind="zone", x=cx, y=cy)
    G.add_node("road:1", kind="road", x=ax, y=ay)
    G.add_edge("zone:o", "road:1", time_min=1.0, mode="access_car")
    with pytest.raises(ParameterError, match="GTFS"):
        travel_time_matrix(G, ["o"], ["d"], mode="transit")
    G.graph["transit_feed"] = feed
    G.graph["transit_options"] = {"departure": "08:00", "window_min": 1}
    m = travel_time_matrix(G, ["o"], ["d"], mode="transit", cutoff_min=60)
    assert m.loc["o", "d"] == pytest.approx(15.0, abs=1e-3)  # wait 5 min for the 08:05, ride 10 (test_transit)
    assert m.attrs["mode"] == "transit"
