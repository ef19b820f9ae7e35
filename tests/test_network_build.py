"""Building the network: assumptions, road and rail link times, headway waits, access and local links."""

from __future__ import annotations

import math

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely

from lisgeo.errors import LisgeoError, NetworkError, UnknownNameError
from lisgeo.network import build_network, destination_nodes, load_assumptions, travel_time_matrix
from lisgeo.network.access import attach_terminals
from lisgeo.network.rail import add_hs2, add_rail, headway_wait_min, line_speed_kmh, rail_link_times
from lisgeo.network.road import add_road_links


# ------------------------------------------------------------------ assumptions
def test_assumptions_file_has_a_source_for_every_value():
    a = load_assumptions()
    assert a["road.motorway_kmh"] == 96.0 and a["walk.walk_kmh"] == 4.8 and a["access.k_junctions"] == 3
    assert all(a.source(k) for k in a)
    assert a.to_dict()["destinations.leeds"] == ["LDS"]


def test_assumption_overrides_and_rejections():
    assert load_assumptions(circuity=1.4)["access.circuity"] == 1.4
    assert load_assumptions(road__motorway_kmh=90)["road.motorway_kmh"] == 90.0
    assert load_assumptions(**{"osm.motorway_kmh": 110})["osm.motorway_kmh"] == 110.0
    with pytest.raises(UnknownNameError, match="motorway_speed"):
        load_assumptions(motorway_speed=90)
    with pytest.raises(LisgeoError, match="ambiguous"):
        load_assumptions(motorway_kmh=90)  # in [road] and [osm]
    for bad in (float("nan"), -5.0, 0.0):
        with pytest.raises(NetworkError, match="road.trunk_kmh"):
            load_assumptions(road__trunk_kmh=bad)
    with pytest.raises(NetworkError, match="pt.line_speed_kmh"):
        load_assumptions(**{"pt.line_speed_kmh": [60.0, -1.0, 100.0]})
    with pytest.raises(NetworkError, match="circuity"):
        load_assumptions(circuity=0.9)


def test_unknown_key_in_file_rejected(tmp_path):
    from lisgeo.network.assumptions import assumptions_path

    text = assumptions_path().read_text() + '\n[extra]\nfoo = { value = 1, source = "x" }\n'
    p = tmp_path / "a.toml"
    p.write_text(text)
    with pytest.raises(UnknownNameError, match="extra.foo"):
        load_assumptions(p)
    p.write_text(assumptions_path().read_text().replace('walk_kmh = { value = 4.8', 'walk_kmh = { value = nan'))
    with pytest.raises(NetworkError, match="walk.walk_kmh"):
        load_assumptions(p)


# ------------------------------------------------------------------ rail
def test_headway_waits_hand_computed():
    a = load_assumptions()  # 18 h span, wait = headway / 2 in [1, 30] min
    w = headway_wait_min([108, 36, 18, 0, np.nan, 2000], a)
    assert w[:3].tolist() == [5.0, 15.0, 30.0]  # 1080 min / 108 trains / 2 = 5; /36/2 = 15; /18/2 = 30
    assert np.isnan(w[3]) and np.isnan(w[4]) and w[5] == 1.0  # no trains: no boarding; busy: the floor
    assert headway_wait_min([9], a)[0] == 30.0  # 60 min would exceed the 30 min cap


def test_rail_link_time_bands():
    a = load_assumptions()  # bands (15, 50] km -> 60 / 95 / 130 km/h, circuity 1.15
    assert line_speed_kmh([10, 15, 20, 50, 100], a).tolist() == [60.0, 60.0, 95.0, 95.0, 130.0]
    assert rail_link_times([10.0], a)[0] == pytest.approx(11.5)  # 10 * 1.15 / 60 * 60
    assert rail_link_times([130.0], a)[0] == pytest.approx(69.0)  # 130 * 1.15 / 130 * 60


def _stations():
    st = gpd.GeoDataFrame({"crs": ["AAA", "BBB", "CCC"], "daily_trains": [108.0, 36.0, 0.0]},
                          geometry=gpd.points_from_xy([0, 10000, 20000], [0, 0, 0]), crs="EPSG:27700")
    links = pd.DataFrame({"from_crs": ["AAA", "BBB", "BBB", "AAA"], "to_crs": ["BBB", "AAA", "CCC", "ZZZ"],
                          "daily_trains": [50.0, 50.0, 10.0, 5.0], "length_km": [10.0, 10.0, 10.0, 3.0]})
    return st, links


def test_rail_graph_boarding_and_changes():
    a = load_assumptions()
    G = nx.MultiDiGraph()
    st, links = _stations()
    add_rail(G, st, links, a)
    assert G.graph["skipped_rail_links"] == 1  # AAA -> ZZZ: unknown station
    assert not G.has_edge("rail:CCC", "plat:CCC")  # no trains, no boarding
    G.add_node("zone:z", kind="zone", x=0.0, y=0.0)
    G.add_edge("zone:z", "rail:AAA", time_min=1.0, mode="access_walk")
    m = travel_time_matrix(G, ["zone:z"], ["rail:BBB", "rail:CCC", "plat:CCC"], mode="pt")
    assert m.iloc[0, 0] == pytest.approx(1 + 5 + 11.5)  # walk + wait at AAA + ride; alighting is free
    assert np.isnan(m.iloc[0, 1])  # CCC has no trains: arriving trains cannot set down either
    assert m.iloc[0, 2] == pytest.approx(1 + 5 + 11.5 + 11.5)


def test_hs2_links_interchange_and_destination_groups():
    a = load_assumptions()
    G = nx.MultiDiGraph(assumptions=a.to_dict())
    st, links = _stations()
    st.loc[0, "crs"] = "LDS"
    add_rail(G, st, links.replace("AAA", "LDS"), a)
    hs = gpd.GeoDataFrame({"station_id": ["h1", "h2"], "name": ["Hub", "North"], "connects_crs": ["BBB", "LDS"]},
                          geometry=gpd.points_from_xy([10000, 500], [400, 0]), crs="EPSG:27700")
    add_hs2(G, hs, pd.DataFrame({"from_id": ["h1", "h1"], "to_id": ["h2", "CCC"], "time_min": [4, 6]}), a)
    assert G["hs2p:h1"]["hs2p:h2"][0]["time_min"] == 4.0 and G.has_edge("hs2p:h2", "hs2p:h1")
    assert G.has_edge("hs2p:h1", "plat:CCC")
    inter = G["hs2:h1"]["rail:BBB"][0]
    assert inter["mode"] == "interchange" and inter["time_min"] == pytest.approx(5 + 0.4 * 1.3 / 4.8 * 60)
    assert G["hs2:h1"]["hs2p:h1"][0]["time_min"] == 10.0  # 3 trains/h: 20 min headway / 2
    assert sorted(destination_nodes(G, "leeds")) == ["hs2:h2", "rail:LDS"]
    with pytest.raises(UnknownNameError):
        destination_nodes(G, "atlantis")
    with pytest.raises(NetworkError, match="XXX"):
        add_hs2(G, hs, pd.DataFrame({"from_id": ["h1"], "to_id": ["XXX"], "time_min": [4]}), a)


# ------------------------------------------------------------------ road, access, local
def _toy(a, k=2, local_k=0):
    a = load_assumptions(access__k_junctions=k, access__local_k_nearest=local_k)
    G = nx.MultiDiGraph()
    links = gpd.GeoDataFrame({"from_node": [1, 2], "to_node": [2, 1], "road_class": ["motorway", "trunk"],
                              "length_km": [10.0, 10.0], "geometry_source": ["hapms", "straight"]},
                             geometry=[shapely.LineString([(0, 0), (10000, 0)]), shapely.LineString([(10000, 0), (0, 0)])],
                             crs="EPSG:27700")
    add_road_links(G, links, a)
    terms = pd.DataFrame({"node": ["zone:z1", "zone:z2", "zone:z3", "site:s"], "kind": ["zone", "zone", "zone", "site"],
                          "x": [0.0, 2000.0, 10000.0, 20000.0], "y": [3000.0, 3000.0, 3000.0, 0.0],
                          "urban": [True, True, False, False]})
    attach_terminals(G, terms, a, stations=False)
    return G, a


def test_road_link_times_by_class():
    G, a = _toy(None)
    assert G["road:1"]["road:2"][0]["time_min"] == pytest.approx(6.25)  # 10 km at 96 km/h
    assert G["road:2"]["road:1"][0]["time_min"] == pytest.approx(11 / 80 * 60)  # straight: x1.1, trunk 80 km/h


def test_access_link_times_hand_computed():
    G, a = _toy(None)
    # urban zone 3 km from junction 1: 3 * 1.3 / 30 km/h = 7.8 min; 10.44 km to junction 2
    assert G["zone:z1"]["road:1"][0]["time_min"] == pytest.approx(7.8)
    assert G["road:1"]["zone:z1"][0]["time_min"] == pytest.approx(7.8)
    assert G["zone:z1"]["road:2"][0]["time_min"] == pytest.approx(math.hypot(10, 3) * 1.3 / 30 * 60)
    # rural zone z3 at 50 km/h: 3 km -> 4.68 min
    assert G["zone:z3"]["road:2"][0]["time_min"] == pytest.approx(3 * 1.3 / 50 * 60)
    assert {m for *_, m in G.edges(data="mode")} == {"road", "access_car", "local"}


def test_local_link_choice():
    G, a = _toy(None)
    # z1 and z2 are 2 km apart (< 3 km): a direct local link, 2 * 1.3 / 30 * 60 = 5.2 min
    assert G["zone:z1"]["zone:z2"][0]["time_min"] == pytest.approx(5.2)
    t = travel_time_matrix(G, ["zone:z1"], ["zone:z2", "zone:z3"])
    assert t.iloc[0, 0] == pytest.approx(5.2)  # local beats via junction 1 (7.8 + 9.37)
    # z1 -> z3 (10 km apart, no local link): 7.8 + 6.25 + 4.68 via the motorway
    assert not G.has_edge("zone:z1", "zone:z3")
    assert t.iloc[0, 1] == pytest.approx(7.8 + 6.25 + 4.68)
    # the nearest-neighbour rule joins z3 and s (10.44 km) only when allowed within 10 km: not here
    G2, _ = _toy(None, local_k=1)
    assert G2.has_edge("zone:z2", "zone:z1") and not G2.has_edge("zone:z3", "site:s")


def test_zone_too_far_from_roads_is_an_error():
    a = load_assumptions(access__max_junction_km=5)
    G = nx.MultiDiGraph()
    G.add_node("road:1", kind="road", x=0.0, y=0.0)
    terms = pd.DataFrame({"node": ["zone:far"], "kind": ["zone"], "x": [9000.0], "y": [0.0], "urban": [False]})
    with pytest.raises(NetworkError, match="zone:far"):
        attach_terminals(G, terms, a, stations=False)


# ------------------------------------------------------------------ real data
@pytest.fixture(scope="session")
def d2n2(real_data):
    return build_network(region="d2n2")


def test_real_build_records_scenario_and_assumptions(d2n2):
    G = d2n2
    assert G.graph["scenario"] == "base" and G.graph["assumptions"]["road.motorway_kmh"] == 96.0
    kinds = pd.Series(dict(G.nodes(data="kind"))).value_counts()
    assert kinds["zone"] == 1335 and kinds["road"] > 200 and kinds["station"] > 5000
    assert not any(str(n).startswith("hs2") for n in G)
    assert all(np.isfinite(t) and t >= 0 for *_, t in G.edges(data="time_min"))
    assert sorted(destination_nodes(G, "manchester")) == ["rail:MAN", "rail:MCO", "rail:MCV"]


def test_real_overrides_change_times(d2n2):
    slow = build_network(region="d2n2", assumptions={"road.motorway_kmh": 48.0})
    assert slow.graph["assumptions"]["road.motorway_kmh"] == 48.0
    m = [(u, v) for u, v, d in d2n2.edges(data=True) if d.get("road_class") == "motorway"][0]
    assert slow[m[0]][m[1]][0]["time_min"] == pytest.approx(2 * d2n2[m[0]][m[1]][0]["time_min"])


def test_real_pt_times_to_cities(d2n2):
    zones = [n for n, k in d2n2.nodes(data="kind") if k == "zone"]
    t = travel_time_matrix(d2n2, zones, destination_nodes(d2n2, "london"), mode="pt").min(axis=1)
    assert t.notna().all() and 90 < t.median() < 180  # door to door by rail, 2019 timetable density


def test_zone_stranded_on_a_dead_end_junction_is_an_error():
    from lisgeo.network.build import _check_zone_reach

    G = nx.MultiDiGraph()
    for n, k in [("road:1", "road"), ("road:2", "road"), ("road:3", "road"), ("zone:ok", "zone"), ("zone:stuck", "zone")]:
        G.add_node(n, kind=k, x=0.0, y=0.0)
    G.add_edge("road:1", "road:2", time_min=1.0, mode="road")
    G.add_edge("road:2", "road:1", time_min=1.0, mode="road")
    G.add_edge("road:1", "road:3", time_min=1.0, mode="road")  # road:3 is a dead end
    for z, j in [("zone:ok", "road:2"), ("zone:stuck", "road:3")]:
        G.add_edge(z, j, time_min=1.0, mode="access_car")
        G.add_edge(j, z, time_min=1.0, mode="access_car")
    with pytest.raises(NetworkError, match="zone:stuck") as e:
        _check_zone_reach(G)
    assert "zone:ok" not in str(e.value)


def test_cli_network_export(real_data, tmp_path):
    import pyogrio

    from lisgeo.cli import main

    out = tmp_path / "net.gpkg"
    assert main(["network", "export", "--scenario", "hs2_2b", "-o", str(out)]) == 0
    layers = dict(pyogrio.list_layers(out))
    assert layers == {"nodes": "Point", "edges": "LineString"}
    nodes = pyogrio.read_dataframe(out, layer="nodes")
    assert (nodes["kind"] == "zone").sum() == 1335 and (nodes["kind"] == "hs2").sum() > 0
