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
    from lisgeo.assumptions import assumptions_path

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


def _crossing():
    """Two lines crossing at X: A - X - B (36 trains) and A - X (72 trains) from the west, C - X - D
    (108 trains) from north to south; every hop 10 km (11.5 min at 60 km/h x 1.15)."""
    st = gpd.GeoDataFrame({"crs": ["AAA", "XXX", "BBB", "CCC", "DDD"], "daily_trains": [108.0, 144.0, 0.0, 108.0, 0.0]},
                          geometry=gpd.points_from_xy([0, 10000, 20000, 10000, 10000], [0, 0, 0, 10000, -10000]),
                          crs="EPSG:27700")
    pats = pd.DataFrame({"pattern_id": [1, 2, 3], "stops": ["AAA;XXX;BBB", "AAA;XXX", "CCC;XXX;DDD"],
                         "daily_trains": [36.0, 72.0, 108.0]})
    return st, pats


def _crossing_graph(**over):
    a = load_assumptions(**over)
    G = nx.MultiDiGraph(assumptions=a.to_dict())
    st, pats = _crossing()
    add_rail(G, st, pats, a)
    for z, c in [("zone:a", "AAA"), ("zone:c", "CCC")]:
        G.add_node(z, kind="zone", x=0.0, y=0.0)
        G.add_edge(z, f"rail:{c}", time_min=1.0, mode="access_walk")
    return G


def test_rail_patterns_structure():
    G = _crossing_graph()
    assert G.has_edge("svc:1:AAA", "svc:1:XXX") and G.has_edge("svc:1:XXX", "svc:1:BBB")
    assert G["svc:1:AAA"]["svc:1:XXX"][0]["time_min"] == pytest.approx(11.5)
    # boarding at AAA towards XXX: all 36 + 72 = 108 trains -> 1080 / 108 / 2 = 5 min, for both patterns
    assert G["rail:AAA"]["svc:1:AAA"][0]["time_min"] == 5.0 and G["rail:AAA"]["svc:2:AAA"][0]["time_min"] == 5.0
    assert G["rail:XXX"]["svc:1:XXX"][0]["time_min"] == 15.0  # XXX -> BBB: 36 trains
    assert G["rail:XXX"]["svc:3:XXX"][0]["time_min"] == 5.0  # XXX -> DDD: 108 trains
    assert not G.has_edge("rail:BBB", "svc:1:BBB") and not G.has_edge("svc:1:AAA", "arr:AAA")  # no board at the end
    assert G["svc:1:XXX"]["arr:XXX"][0]["time_min"] == 0.0 and G["arr:XXX"]["rail:XXX"][0]["time_min"] == 5.0
    assert G["rail:XXX"]["arr:XXX"][0]["mode"] == "concourse" and G["rail:XXX"]["arr:XXX"][0]["time_min"] == 0.0
    # plat: (links without train identity) boards at the station's all-trains wait: 1080 / 144 / 2
    assert G["rail:XXX"]["plat:XXX"][0]["time_min"] == 3.75 and G["plat:XXX"]["arr:XXX"][0]["time_min"] == 0.0
    assert not G.has_edge("rail:BBB", "plat:BBB")  # no departures: nothing to board there
    kinds = {G.nodes[n]["side"] for n in G if str(n).startswith(("rail:", "arr:", "plat:", "svc:"))}
    assert kinds == {"street", "arrival", "platform", "service"}


@pytest.mark.parametrize("method", ["structured", "dijkstra"])
def test_rail_changes_hand_computed(method):
    G = _crossing_graph()
    m = travel_time_matrix(G, ["zone:a", "zone:c"], ["arr:XXX", "arr:BBB", "arr:DDD"], mode="rail", method=method)
    # direct, staying on the train through XXX: walk 1 + wait 5 + 11.5 + 11.5 (no charge at XXX)
    assert m.loc["zone:a", "arr:BBB"] == pytest.approx(1 + 5 + 11.5 + 11.5)
    # a change at XXX: walk 1 + wait 5 + 11.5, alight 0, penalty 5, wait XXX->DDD 5, 11.5
    assert m.loc["zone:a", "arr:DDD"] == pytest.approx(1 + 5 + 11.5 + 5 + 5 + 11.5)
    # C to B: wait 5 at CCC, change at XXX onto the 36-train line: penalty 5 + wait 15
    assert m.loc["zone:c", "arr:BBB"] == pytest.approx(1 + 5 + 11.5 + 5 + 15 + 11.5)
    assert m.loc["zone:a", "arr:XXX"] == pytest.approx(1 + 5 + 11.5)
    # the same graph without the interchange penalty: only the second wait is added
    G0 = _crossing_graph(**{"pt.interchange_penalty_min": 0.0})
    m0 = travel_time_matrix(G0, ["zone:a"], ["arr:DDD"], mode="rail", method=method)
    assert m0.iloc[0, 0] == pytest.approx(1 + 5 + 11.5 + 5 + 11.5)


def test_rail_patterns_unknown_calls_and_loops():
    a = load_assumptions()
    st, _ = _crossing()
    pats = pd.DataFrame({"pattern_id": [7, 8, 9], "stops": [["AAA", "ZZZ", "XXX"], "AAA;XXX;AAA", "QQQ;AAA"],
                         "daily_trains": [18.0, 18.0, 5.0]})
    G = add_rail(nx.MultiDiGraph(), st, pats, a)
    assert G.graph["skipped_rail_calls"] == 2 and G.graph["skipped_rail_patterns"] == 1  # ZZZ, QQQ; 9 keeps one call
    assert G.has_edge("svc:7:AAA", "svc:7:XXX")  # ZZZ bridged: the train links the known calls either side
    assert G.has_edge("svc:8:XXX", "svc:8:AAA:2") and G.has_edge("svc:8:AAA:2", "arr:AAA")  # a loop calls twice
    # AAA -> XXX is run by patterns 7 and 8 (36 trains): 1080 / 36 / 2 = 15 min
    assert G["rail:AAA"]["svc:7:AAA"][0]["time_min"] == 15.0
    links = pd.DataFrame({"from_crs": ["AAA"], "to_crs": ["XXX"], "daily_trains": [108.0]})
    G2 = add_rail(nx.MultiDiGraph(), st, pats, a, links=links)
    assert G2["rail:AAA"]["svc:7:AAA"][0]["time_min"] == 5.0  # rail_links trains win where given


def test_hs2_links_interchange_and_destination_groups():
    a = load_assumptions()
    G = nx.MultiDiGraph(assumptions=a.to_dict())
    st, pats = _crossing()
    st.loc[0, "crs"] = "LDS"
    pats["stops"] = pats["stops"].str.replace("AAA", "LDS")
    add_rail(G, st, pats, a)
    hs = gpd.GeoDataFrame({"station_id": ["h1", "h2"], "name": ["Hub", "North"], "connects_crs": ["CCC", "LDS"]},
                          geometry=gpd.points_from_xy([10000, 500], [10400, 0]), crs="EPSG:27700")
    add_hs2(G, hs, pd.DataFrame({"from_id": ["h1", "h1"], "to_id": ["h2", "xxx"], "time_min": [4, 6]}), a)
    assert G["hs2p:h1"]["hs2p:h2"][0]["time_min"] == 4.0 and G.has_edge("hs2p:h2", "hs2p:h1")
    assert G.has_edge("hs2p:h1", "plat:XXX") and G.has_edge("plat:XXX", "hs2p:h1")
    walk = 0.4 * 1.3 / 4.8 * 60
    for u, v in [("hs2:h1", "rail:CCC"), ("arr:CCC", "hs2:h1")]:
        e = G[u][v][0]
        assert e["mode"] == "interchange" and e["time_min"] == pytest.approx(5 + walk)
    assert not G.has_edge("rail:CCC", "hs2:h1")  # walking in goes rail: -> arr: (0) -> hs2:
    assert G["hs2:h1"]["hs2p:h1"][0]["time_min"] == 10.0  # 3 trains/h: 20 min headway / 2
    assert sorted(destination_nodes(G, "leeds")) == ["arr:LDS", "hs2:h2"]
    G.add_node("zone:h", kind="zone", x=10000.0, y=10400.0)
    G.add_edge("zone:h", "hs2:h1", time_min=2.0, mode="access_walk")
    t = travel_time_matrix(G, ["zone:h"], ["arr:XXX", "arr:DDD", "arr:BBB", "rail:CCC"], mode="rail").iloc[0]
    # HS2 to the classic platform at XXX: board 10 + ride 6, alight 0
    assert t["arr:XXX"] == pytest.approx(2 + 10 + 6)
    # HS2 -> classic at XXX pays the penalty and the wait towards DDD (108 trains: 5 min)
    assert t["arr:DDD"] == pytest.approx(2 + 10 + 6 + 5 + 5 + 11.5)
    # or the concourse interchange to CCC (penalty + walk), wait 5 at CCC, change at XXX for BBB (5 + 15)
    assert t["arr:BBB"] == pytest.approx(min(2 + 10 + 6 + 5 + 15 + 11.5, 2 + 5 + walk + 5 + 11.5 + 5 + 15 + 11.5))
    assert t["rail:CCC"] == pytest.approx(2 + 5 + walk)
    with pytest.raises(UnknownNameError):
        destination_nodes(G, "atlantis")
    with pytest.raises(NetworkError, match="QQQ"):
        add_hs2(G, hs, pd.DataFrame({"from_id": ["h1"], "to_id": ["QQQ"], "time_min": [4]}), a)


def test_station_links_take_half_the_penalty_at_least():
    """Leaving the railway to a terminal next to the station and walking back in is no cheaper
    than a change inside the station."""
    a = load_assumptions()
    G = nx.MultiDiGraph(assumptions=a.to_dict())
    st, pats = _crossing()
    add_rail(G, st, pats, a)
    terms = pd.DataFrame({"node": ["site:at_x", "zone:far"], "kind": ["site", "zone"], "x": [10000.0, 10000.0],
                          "y": [0.0, 1500.0], "urban": [True, True]})
    attach_terminals(G, terms, a, roads=False)
    assert G["site:at_x"]["rail:XXX"][0]["time_min"] == 2.5 and G["arr:XXX"]["site:at_x"][0]["time_min"] == 2.5
    assert G["zone:far"]["rail:XXX"][0]["time_min"] == pytest.approx(1.5 * 1.3 / 4.8 * 60)  # 24.4 min > floor
    assert not G.has_edge("rail:XXX", "site:at_x")  # egress leaves from the arrival side
    G.add_node("zone:a", kind="zone", x=0.0, y=0.0)
    G.add_edge("zone:a", "rail:AAA", time_min=1.0, mode="access_walk")
    # A -> D via the site (2.5 + 2.5) costs the same as the change at XXX (penalty 5)
    t = travel_time_matrix(G, ["zone:a"], ["arr:DDD", "site:at_x"], mode="rail").iloc[0]
    assert t["arr:DDD"] == pytest.approx(1 + 5 + 11.5 + 5 + 5 + 11.5)
    assert t["site:at_x"] == pytest.approx(1 + 5 + 11.5 + 2.5)


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
    from lisgeo.pipeline import score_network

    return score_network("d2n2")  # with the sites the scores ask for, as scoring builds it


def test_real_build_records_scenario_and_assumptions(d2n2):
    G = d2n2
    assert G.graph["scenario"] == "base" and G.graph["assumptions"]["road.motorway_kmh"] == 96.0
    kinds = pd.Series(dict(G.nodes(data="kind"))).value_counts()
    assert kinds["zone"] == 1335 and kinds["road"] > 200 and kinds["station"] > 60000
    assert not any(str(n).startswith("hs2") for n in G)
    assert all(np.isfinite(t) and t >= 0 for *_, t in G.edges(data="time_min"))
    assert sorted(destination_nodes(G, "manchester")) == ["arr:MAN", "arr:MCO", "arr:MCV"]
    sides = pd.Series([d.get("side") for n, d in G.nodes(data=True) if d.get("kind") == "station"]).value_counts()
    from lisgeo.layers.rail import load_rail_patterns, load_rail_stations

    assert sides["street"] == sides["arrival"] == sides["platform"] == len(load_rail_stations(region=None))
    assert sides["service"] == int(load_rail_patterns(region=None)["n_stops"].sum())  # one node per call of each pattern
    assert G.graph["skipped_rail_calls"] == 0 and G.graph["skipped_rail_patterns"] == 0
    assert G.graph["sites"] == ["hs2_toton", "hs2_chesterfield", "ema", "ratcliffe"] and G.graph["site_road_links"] == 0


def test_real_overrides_change_times(d2n2):
    slow = build_network(region="d2n2", assumptions={"road.motorway_kmh": 48.0})
    assert slow.graph["assumptions"]["road.motorway_kmh"] == 48.0
    m = [(u, v) for u, v, d in d2n2.edges(data=True) if d.get("road_class") == "motorway"][0]
    assert slow[m[0]][m[1]][0]["time_min"] == pytest.approx(2 * d2n2[m[0]][m[1]][0]["time_min"])


def test_real_pt_times_to_cities(d2n2):
    zones = [n for n, k in d2n2.nodes(data="kind") if k == "zone"]
    t = travel_time_matrix(d2n2, zones, destination_nodes(d2n2, "london"), mode="rail").min(axis=1)
    assert t.notna().all() and 90 < t.median() < 180  # door to door by rail, 2019 timetable density


def test_real_changes_of_train_cost_a_wait_and_the_penalty(d2n2):
    from lisgeo.network.engine import mode_edges

    e = mode_edges(d2n2, "rail")
    D = nx.DiGraph()
    for u, v, t in sorted(zip(e["u"], e["v"], e["time_min"]), key=lambda r: -r[2]):
        D.add_edge(u, v, w=t)  # the fastest parallel edge wins (added last)
    x, y = d2n2.nodes["rail:NOT"]["x"], d2n2.nodes["rail:NOT"]["y"]
    zone = min((math.hypot(d["x"] - x, d["y"] - y), n) for n, d in d2n2.nodes(data=True) if d.get("kind") == "zone")[1]
    t, path = nx.single_source_dijkstra(D, zone, weight="w")
    # Nottingham to St Pancras on one train; to Leeds with a change (alight, penalty, a new wait)
    lon = min(destination_nodes(d2n2, "london"), key=lambda n: t.get(n, np.inf))
    modes = [d2n2[a][b][0]["mode"] for a, b in zip(path[lon][:-1], path[lon][1:])]
    assert lon == "arr:STP" and modes.count("board") == 1 and "interchange" not in modes
    assert 110 < t[lon] < 135  # door to door from the zone next to the station, 2019 timetable
    lds = path["arr:LDS"]
    kinds = [min(d2n2[a][b].values(), key=lambda d: d["time_min"])["mode"] for a, b in zip(lds[:-1], lds[1:])]
    assert kinds.count("board") == 2 and kinds.count("interchange") == 1
    i = kinds.index("interchange")
    assert D[lds[i]][lds[i + 1]]["w"] == 5.0 and str(lds[i]).startswith("arr:") and str(lds[i + 1]).startswith("rail:")
    assert 100 < t["arr:LDS"] < 140


def test_real_sites_asked_for_join_any_region(real_data):
    sites = ["hs2_toton", "hs2_chesterfield", "ema", "ratcliffe"]
    G = build_network(region="llep", sites=sites)  # HS2 Chesterfield lies c. 50 km beyond Leicestershire
    assert G.graph["sites"] == sites
    assert G.graph["site_road_links"] > 20 and G.graph["buffer_km"] == 30.0
    zones = [n for n, k in G.nodes(data="kind") if k == "zone"]
    t = travel_time_matrix(G, zones, [f"site:{s}" for s in sites])
    assert len(zones) == 608 and t.notna().all().all()
    assert 55 < t["site:hs2_chesterfield"].median() < 85 and t["site:hs2_toton"].median() < 50
    with pytest.raises(UnknownNameError, match="atlantis"):
        build_network(region="llep", sites=["atlantis"])


def test_zone_stranded_on_a_dead_end_junction_is_an_error():
    from lisgeo.network.graph import _check_zone_reach

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


def test_boarding_wait_counts_trains_to_the_same_terminus():
    """Two routes from A to T (via P: 18 trains; via Q: 18 trains) share one wait at A: 36 trains
    run on to T, so boarding either pays 1080 / 36 / 2 = 15 min, not 1080 / 18 / 2 = 30 min."""
    a = load_assumptions()
    st = gpd.GeoDataFrame({"crs": ["AAA", "PPP", "QQQ", "TTT"], "daily_trains": [36.0, 18.0, 18.0, 0.0]},
                          geometry=gpd.points_from_xy([0, 10000, 10000, 20000], [0, 5000, -5000, 0]), crs="EPSG:27700")
    pats = pd.DataFrame({"pattern_id": [1, 2, 3], "stops": ["AAA;PPP;TTT", "AAA;QQQ;TTT", "PPP;QQQ"],
                         "daily_trains": [18.0, 18.0, 90.0]})
    G = nx.MultiDiGraph(assumptions=a.to_dict())
    add_rail(G, st, pats, a)
    assert G["rail:AAA"]["svc:1:AAA"][0]["time_min"] == 15.0 and G["rail:AAA"]["svc:2:AAA"][0]["time_min"] == 15.0
    # at PPP pattern 1 runs on to TTT (18 trains) but the 90-train line goes elsewhere: 18 trains, 30 min
    assert G["rail:PPP"]["svc:1:PPP"][0]["time_min"] == 30.0
    assert G["rail:PPP"]["svc:3:PPP"][0]["time_min"] == 6.0  # 1080 / 90 / 2
