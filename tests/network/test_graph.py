"""Building the network: assumptions, road link times, access and local links, and the real region graph.

The rail model on hand-made stations and patterns is tested in ``test_rail.py``."""

from __future__ import annotations

import math

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely

from lisgeo.errors import LisgeoError, NetworkError, UnknownNameError
from lisgeo.network import (
    build_network,
    destination_nodes,
    load_assumptions,
    travel_time_matrix,
)
from lisgeo.network.access import attach_terminals, drive_minutes
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
        with pytest.raises(NetworkError, match="road.a_single_kmh"):
            load_assumptions(road__a_single_kmh=bad)
    with pytest.raises(NetworkError, match="pt.run_kmh"):
        load_assumptions(**{"pt.run_kmh": -1.0})
    with pytest.raises(NetworkError, match="pt.stop_penalty_min"):
        load_assumptions(**{"pt.stop_penalty_min": float("nan")})
    for old in ("pt.line_speed_kmh", "pt.rail_circuity", "pt.k_car_stations", "pt.line_speed_band_km",
                "road.trunk_kmh", "road.straight_circuity", "access.a_road_kmh", "access.a_road_after_km",
                "pt.express_kmh", "pt.stopping_kmh", "pt.express_spacing_km", "pt.fast_line_factor", "pt.fast_line_operators"):
        with pytest.raises(UnknownNameError, match=old.split(".")[1]):
            load_assumptions(**{old: 1.0})  # the old rail and road models' keys are gone
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


# ------------------------------------------------------------------ road, access, local
#: round speeds for the hand computations (the file's values may move)
_SPEEDS = {"access.urban_kmh": 30.0, "access.rural_kmh": 50.0, "road.motorway_kmh": 96.0, "road.a_dual_kmh": 80.0,
           "road.a_single_kmh": 60.0, "road.a_urban_kmh": 40.0, "road.chord_detour_a_road": 1.1}


def _toy(a, k=2, local_k=0, sectors=0):
    a = load_assumptions(access__k_junctions=k, access__local_k_nearest=local_k, access__local_sectors=sectors,
                         access__local_max_km=3.0, access__local_k_max_km=10.0, **_SPEEDS)
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
    assert G["road:2"]["road:1"][0]["time_min"] == pytest.approx(11 / 80 * 60)  # straight: x1.1, trunk (dual A) 80 km/h


def test_road_link_times_by_carriageway_and_setting():
    """Single and dual A roads, motorways, and the part of a link through built-up land at the urban speed."""
    from lisgeo.network.road import road_link_times

    a = load_assumptions(**_SPEEDS)
    links = pd.DataFrame({"road_class": ["a_road", "a_road", "a_road", "motorway", "a_road", "busway"],
                          "carriageway": ["single", "dual", None, "dual", "single", None],
                          "urban_share": [0.0, 0.0, 0.0, 1.0, 0.25, 0.5], "length_km": [6.0, 8.0, 6.0, 9.6, 8.0, 7.0]})
    t = road_link_times(links, a)
    assert t.tolist() == pytest.approx([6.0,                    # 6 km at 60 km/h
                                        6.0,                    # 8 km at 80 (dual)
                                        6.0,                    # unknown carriageway: single
                                        6.0,                    # motorways keep their speed in towns
                                        2 / 40 * 60 + 6 / 60 * 60,  # a quarter through a town at 40
                                        7 / 70 * 60])           # an unknown class at road.default_kmh
    two = gpd.GeoDataFrame({"from_node": [1], "to_node": [2], "road_class": ["a_road"], "length_km": [6.0]},
                           geometry=[shapely.LineString([(0, 0), (5000, 0)])], crs="EPSG:27700")
    G = add_road_links(nx.MultiDiGraph(), two, a, two_way=True)
    assert G["road:1"]["road:2"][0]["time_min"] == G["road:2"]["road:1"][0]["time_min"] == pytest.approx(6.0)


def test_drive_minutes_at_the_local_speed():
    a = load_assumptions(**_SPEEDS)
    assert drive_minutes([1.0, 3.0, 10.0], 30.0, a).tolist() == pytest.approx([2.0, 6.0, 20.0])
    assert drive_minutes([10.0, 10.0], np.array([30.0, 50.0]), a).tolist() == pytest.approx([20.0, 12.0])


def test_access_link_times_hand_computed():
    G, a = _toy(None)
    # urban zone 3 km crow-fly from junction 1: 3.9 km of road at 30 km/h = 7.8 min
    assert G["zone:z1"]["road:1"][0]["time_min"] == pytest.approx(7.8)
    assert G["road:1"]["zone:z1"][0]["time_min"] == pytest.approx(7.8)
    assert G["zone:z1"]["road:1"][0]["length_km"] == pytest.approx(3.9)
    assert G["zone:z1"]["road:2"][0]["time_min"] == pytest.approx(math.hypot(10, 3) * 1.3 / 30 * 60)
    # rural zone z3 at 50 km/h: 3.9 km -> 4.68 min
    assert G["zone:z3"]["road:2"][0]["time_min"] == pytest.approx(4.68)
    assert {m for *_, m in G.edges(data="mode")} == {"road", "access_car", "local"}


def test_local_link_choice():
    G, a = _toy(None)
    # z1 and z2 are 2 km apart (< 3 km): a direct local link, 2.6 km of street at 30 km/h = 5.2 min
    assert G["zone:z1"]["zone:z2"][0]["time_min"] == pytest.approx(5.2)
    t = travel_time_matrix(G, ["zone:z1"], ["zone:z2", "zone:z3"])
    assert t.iloc[0, 0] == pytest.approx(5.2)  # local beats via junction 1 (7.8 + 9.4)
    # z1 -> z3 (10 km apart, no local link): 7.8 + 6.25 + 4.68 via the motorway
    assert not G.has_edge("zone:z1", "zone:z3")
    assert t.iloc[0, 1] == pytest.approx(7.8 + 6.25 + 4.68)
    # the nearest-neighbour rule joins z3 to z2 (8 km) but not to s (10.44 km > 10 km)
    G2, _ = _toy(None, local_k=1)
    assert G2.has_edge("zone:z2", "zone:z1") and not G2.has_edge("zone:z3", "site:s")
    # 10.4 km of road, half at each end's speed: 5.2 km at 30 + 5.2 km at 50
    assert G2["zone:z2"]["zone:z3"][0]["time_min"] == pytest.approx(5.2 / 30 * 60 + 5.2 / 50 * 60)
    assert G2["zone:z3"]["zone:z2"][0]["time_min"] == G2["zone:z2"]["zone:z3"][0]["time_min"]


def test_sector_links_reach_the_nearest_place_in_each_direction():
    # z1 (0, 3000), z2 (2000, 3000), z3 (10000, 3000), s (20000, 0); 8 sectors of 45 degrees
    G, _ = _toy(None, sectors=8)
    # z1 looks east: z2 (2 km) is the nearest there, so no z1-z3 link; z2 east: z3 (8 km), a link
    # the 3 km and nearest-neighbour rules do not make; z3 east-south-east: s (10.4 km)
    assert not G.has_edge("zone:z1", "zone:z3") and G.has_edge("zone:z2", "zone:z3") and G.has_edge("zone:z3", "site:s")
    assert G.has_edge("zone:z3", "zone:z2") and G.has_edge("site:s", "zone:z3")  # both ways
    # 8 km x 1.3 = 10.4 km of road, half at each end's speed
    assert G["zone:z2"]["zone:z3"][0]["time_min"] == pytest.approx(5.2 / 30 * 60 + 5.2 / 50 * 60)
    # beyond local_sector_max_km (15 km) nothing is joined: s is 20.2 km from z1
    assert not G.has_edge("zone:z1", "site:s")
    G0, _ = _toy(None, sectors=0)
    assert not G0.has_edge("zone:z2", "zone:z3")


def test_ball_pairs_list_every_pair_in_reach_as_the_tree_query_does():
    """The pair search (one set with itself, or two sets) gives the pairs within reach, boundary
    and coincident points included, in the order cKDTree.query_ball_point lists them."""
    import numpy as np
    from scipy.spatial import cKDTree

    from lisgeo.network.access import _ball_pairs, _unique_pairs

    rng = np.random.default_rng(3)
    xy = np.vstack([rng.integers(0, 20, size=(300, 2)).astype(float) * 250.0, [[0.0, 0.0], [0.0, 0.0], [1000.0, 0.0]]])
    other = rng.integers(0, 20, size=(120, 2)).astype(float) * 250.0
    for src, dst in ((xy, xy), (xy, other), (other, xy)):
        hits = cKDTree(dst).query_ball_point(src, 1000.0)  # 1000 m exactly: on the boundary counts
        want_i = np.repeat(np.arange(len(src)), [len(h) for h in hits])
        want_j = np.array([k for h in hits for k in h], dtype=np.int64)
        i, j = _ball_pairs(src, dst, 1000.0)
        assert np.array_equal(i, want_i) and np.array_equal(j, want_j)
    assert _unique_pairs(np.array([[2, 1], [0, 3]]), np.array([[0, 3], [1, 0]]), n=4).tolist() == [[0, 3], [1, 0], [2, 1]]


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
    from lisgeo.layers.rail import load_rail_stations

    n_st = len(load_rail_stations(region=None))
    assert kinds["zone"] == 1335 and kinds["road"] > 200 and kinds["station"] == 2 * n_st  # street and arrival sides
    assert "hs2" not in kinds and not any(str(n).startswith(("hs2", "svc:", "plat:")) for n in G)
    assert all(np.isfinite(t) and t >= 0 for *_, t in G.edges(data="time_min"))
    assert sorted(destination_nodes(G, "manchester")) == ["arr:MAN", "arr:MCO", "arr:MCV"]
    sides = pd.Series([d.get("side") for n, d in G.nodes(data=True) if d.get("kind") == "station"]).value_counts()
    assert sides.to_dict() == {"street": n_st, "arrival": n_st}
    modes = pd.Series([m for *_, m in G.edges(data="mode")]).value_counts()
    assert set(modes.index) == {"road", "access_car", "park_ride", "access_walk", "rail", "interchange", "concourse"}  # no local links (off)
    assert modes["concourse"] == modes["interchange"] == n_st and modes["rail"] == G.graph["rail_services"] > 50000
    assert G.graph["skipped_rail_patterns"] == 0
    assert G.graph["sites"] == ["hs2_toton", "hs2_chesterfield", "ema", "ratcliffe"] and G.graph["site_road_links"] == 0


def test_real_rail_edges_are_wait_plus_ride(d2n2):
    a = d2n2.graph["assumptions"]
    e = pd.DataFrame([d for *_, d in d2n2.edges(data=True) if d["mode"] == "rail"])
    assert np.allclose(e["time_min"], e["wait_min"] + e["ride_min"])
    assert e["wait_min"].between(a["pt.min_wait_min"], a["pt.max_wait_min"]).all()
    assert (e["fastest_min"] <= e["ride_min"] + 1e-9).all() and (e["fastest_min"] <= e["typical_min"] + 1e-9).all()
    assert (e["fastest_min"] >= 1.0 - 1e-9).all()  # at least one link: a timetabled minute, or the modelled penalty and more
    assert (e["n_patterns"] >= 1).all() and (e["daily_trains"] > 0).all()
    # Nottingham - London St Pancras: c. 92 min on the train in the published timetables
    stp = d2n2["rail:NOT"]["arr:STP"][0]
    assert 85 < stp["fastest_min"] < 100 and stp["time_min"] == pytest.approx(stp["wait_min"] + stp["ride_min"])


def test_real_overrides_change_times(d2n2):
    slow = build_network(region="d2n2", assumptions={"road.motorway_kmh": 48.0})
    assert slow.graph["assumptions"]["road.motorway_kmh"] == 48.0
    m = [(u, v) for u, v, d in d2n2.edges(data=True) if d.get("road_class") == "motorway"][0]
    assert slow[m[0]][m[1]][0]["time_min"] == pytest.approx(2 * d2n2[m[0]][m[1]][0]["time_min"])


def test_real_pt_times_to_cities(d2n2):
    zones = [n for n, k in d2n2.nodes(data="kind") if k == "zone"]
    med = {}
    for g in ("london", "birmingham", "leeds", "nottingham"):
        t = travel_time_matrix(d2n2, zones, destination_nodes(d2n2, g), mode="rail").min(axis=1)
        assert t.notna().all()
        med[g] = t.median()
    # door to door by rail from the zones of Derbyshire and Nottinghamshire (2019 timetable density)
    assert 95 < med["london"] < 140 and 50 < med["birmingham"] < 95 and 60 < med["leeds"] < 110
    assert med["nottingham"] < med["birmingham"] < med["london"]


def _nearest_zone(G, station):
    x, y = G.nodes[station]["x"], G.nodes[station]["y"]
    return min((math.hypot(d["x"] - x, d["y"] - y), n) for n, d in G.nodes(data=True) if d.get("kind") == "zone")[1]


def test_real_changes_of_train_cost_a_wait_and_the_penalty(d2n2):
    from lisgeo.network.engine import mode_edges

    G = d2n2
    a = G.graph["assumptions"]
    e = mode_edges(G, "rail")
    # walk access only: plain Dijkstra knows nothing of the engine's rule that park and ride is a first
    # leg only (it would let a trip walk out of a train into a zone and drive on from it)
    from lisgeo.network.schema import EdgeMode

    e = e[~e["mode"].isin([EdgeMode.PARK_RIDE])]
    D = nx.DiGraph()
    for u, v, t, m in sorted(zip(e["u"], e["v"], e["time_min"], e["mode"]), key=lambda r: -r[2]):
        D.add_edge(u, v, w=t, mode=m)  # the fastest parallel edge wins (added last)

    def fastest(u, v):
        return min(G[u][v].values(), key=lambda d: d["time_min"])

    zone = _nearest_zone(G, "rail:NOT")
    t, path = nx.single_source_dijkstra(D, zone, weight="w")
    # Nottingham to London: walk to the station, one train (its wait and its ride), no change
    lon = min(destination_nodes(G, "london"), key=lambda n: t.get(n, np.inf))
    p = path[lon]
    assert lon == "arr:STP" and p[1] == "rail:NOT" and [fastest(u, v)["mode"] for u, v in zip(p[:-1], p[1:])] == ["access_walk", "rail"]
    assert 95 < t[lon] < 125  # door to door from the zone next to the station
    assert t[lon] == pytest.approx(fastest(zone, "rail:NOT")["time_min"] + fastest("rail:NOT", "arr:STP")["time_min"])
    assert t[lon] == pytest.approx(travel_time_matrix(G, [zone], destination_nodes(G, "london"), mode="rail").min(axis=1).iloc[0])
    # Nottingham to York: no direct train; a change pays at least the interchange penalty and a new wait:
    # inside a station, or on foot between two (Newark Castle to Newark North Gate, as people do)
    assert not G.has_edge("rail:NOT", "arr:YRK")
    p = path["arr:YRK"]
    modes = [D[u][v]["mode"] for u, v in zip(p[:-1], p[1:])]
    times = [D[u][v]["w"] for u, v in zip(p[:-1], p[1:])]
    rides = [i for i, m in enumerate(modes) if m == EdgeMode.RAIL]
    assert len(rides) == 2
    between = sum(times[rides[0] + 1:rides[1]])
    assert between >= a["pt.interchange_penalty_min"] == 5.0
    assert all(m in (EdgeMode.INTERCHANGE, EdgeMode.ACCESS_WALK) for m in modes[rides[0] + 1:rides[1]])
    second = min(G[p[rides[1]]][p[rides[1] + 1]].values(), key=lambda d: d["time_min"])
    assert second["mode"] == "rail" and second["wait_min"] >= a["pt.min_wait_min"]
    assert second["time_min"] == pytest.approx(second["wait_min"] + second["ride_min"])
    assert t["arr:YRK"] == pytest.approx(sum(times))
    assert 90 < t["arr:YRK"] < 150  # published: c. 1 h 40 - 2 h with a change at Sheffield


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


def _dead_end_roads() -> nx.MultiDiGraph:
    """road:1 <-> road:2, and road:1 -> road:3, a dead end."""
    G = nx.MultiDiGraph()
    for n in ("road:1", "road:2", "road:3"):
        G.add_node(n, kind="road", x=0.0, y=0.0)
    G.add_edge("road:1", "road:2", time_min=1.0, mode="road")
    G.add_edge("road:2", "road:1", time_min=1.0, mode="road")
    G.add_edge("road:1", "road:3", time_min=1.0, mode="road")
    return G


def _dead_end_graph(stuck: list[str]) -> nx.MultiDiGraph:
    G = _dead_end_roads()
    zones = [("zone:ok", "road:2")] * ("zone:ok" not in stuck) + [(z, "road:3") for z in stuck]
    for z, j in zones:
        G.add_node(z, kind="zone", x=0.0, y=0.0)
        G.add_edge(z, j, time_min=1.0, mode="access_car")
        G.add_edge(j, z, time_min=1.0, mode="access_car")
    return G


def test_zone_stranded_on_a_dead_end_junction_is_flagged_not_fatal():
    """One zone of several cut off from the main road network (an island, a dead end) is recorded
    in road_cut with a RoadCutWarning naming it; the others score."""
    from lisgeo.errors import RoadCutWarning
    from lisgeo.network.graph import _check_zone_reach

    G = _dead_end_graph(["zone:stuck"])
    with pytest.warns(RoadCutWarning, match="zone:stuck") as w:
        _check_zone_reach(G)
    assert "zone:ok" not in str(w[0].message)
    assert set(G.graph["road_cut"]) == {"zone:stuck"} and "island" in G.graph["road_cut"]["zone:stuck"]


def test_every_zone_stranded_is_an_error():
    """No zone both leaves into and is reached from one part of the road network: nothing can score."""
    from lisgeo.network.graph import _check_zone_reach

    G = _dead_end_roads()
    for z in ("zone:a", "zone:b"):
        G.add_node(z, kind="zone", x=0.0, y=0.0)
        G.add_edge(z, "road:3", time_min=1.0, mode="access_car")  # drives into the dead end...
        G.add_edge("road:2", z, time_min=1.0, mode="access_car")  # ...and is reached from the loop
    with pytest.raises(NetworkError, match="2 zone\\(s\\) cannot reach"):
        _check_zone_reach(G)


def test_cli_network_export(real_data, tmp_path):
    import pyogrio

    from lisgeo.cli import main

    out = tmp_path / "net.gpkg"
    assert main(["network", "export", "--scenario", "hs2_2b", "-o", str(out)]) == 0
    layers = dict(pyogrio.list_layers(out))
    assert layers == {"nodes": "Point", "edges": "LineString"}
    nodes = pyogrio.read_dataframe(out, layer="nodes")
    assert (nodes["kind"] == "zone").sum() == 1335 and (nodes["kind"] == "hs2").sum() > 0


@pytest.mark.realdata
def test_a_scheme_network_built_on_the_base_equals_one_built_from_the_data(real_data, tmp_path, monkeypatch):
    """A scenario that adds an HS2 scheme to the base is built from the base's build when one is at
    hand (made in this process, or in the disk cache: a later run's case) and from the data
    otherwise; the three are the same network: nodes in the same order with the same attributes,
    the same edges in the same order, the same graph record, and so the same travel times."""
    from lisgeo.network import graph

    monkeypatch.setenv("LISGEO_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("LISGEO_NO_CACHE", raising=False)

    def fresh():
        graph._build_cached.cache_clear()
        graph._BUILT_BY_ARGS.clear()

    def state(G):
        nodes = [(n, {k: v for k, v in d.items() if v == v}) for n, d in G.nodes(data=True)]  # NaN != NaN
        return nodes, [(u, v, k, d) for u, v, k, d in G.edges(keys=True, data=True)], list(G.graph.items())

    fresh()
    scratch = build_network(region="d2n2", scenario="hs2_2b", copy=True, cache=False)
    fresh()
    calls = []
    real_base_at_hand = graph._base_at_hand
    monkeypatch.setattr(graph, "_base_at_hand", lambda *a: calls.append(r := real_base_at_hand(*a)) or r)
    base = build_network(region="d2n2", scenario="base", copy=False)  # in this process and on disk
    on_base = build_network(region="d2n2", scenario="hs2_2b", copy=True, cache=False)
    assert calls[-1] is not None  # built on the base at hand
    graph._build_cached.cache_clear()
    graph._BUILT_BY_ARGS.clear()  # as in a later run: the base only on disk
    from_disk = build_network(region="d2n2", scenario="hs2_2b", copy=True, cache=False)
    assert calls[-1] is not None
    assert state(on_base) == state(scratch) == state(from_disk)
    assert base.graph["hs2_scheme"] == "none" and "hs2_station_codes" not in base.graph  # the base is untouched
    assert not any(k == "hs2" for _, k in base.nodes(data="kind"))
    zones = [n for n, k in scratch.nodes(data="kind") if k == "zone"][:40]
    a = travel_time_matrix(scratch, zones, zones, mode="rail")
    b = travel_time_matrix(from_disk, zones, zones, mode="rail")
    pd.testing.assert_frame_equal(a, b, check_exact=True)


def test_a_build_not_kept_is_the_callers_and_is_freed(real_data, tmp_path, monkeypatch):
    """``build_network(keep=False)``: the build itself (no copy, not frozen), kept nowhere in the
    process, so it is freed once the caller drops it, with the collector off as in the ``lisgeo``
    command; its disk entry is written before it is handed over (a change the caller makes never
    reaches the cache). ``forget_builds`` lets go of the kept builds, writing their entries first."""
    import gc
    import weakref

    from lisgeo import cache
    from lisgeo.network import graph

    monkeypatch.setenv("LISGEO_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("LISGEO_NO_CACHE", raising=False)
    monkeypatch.setattr(cache, "_DEFERRED", {})  # as in the lisgeo command: kept builds written after it returns
    graph._build_cached.cache_clear()
    was = gc.isenabled()
    gc.disable()
    try:
        G = build_network(region="E06000018", keep=False)
        assert not nx.is_frozen(G) and graph._build_cached.cache_info().currsize == 0 and not cache._DEFERRED
        travel_time_matrix(G, mode="rail")  # (engines made on it, kept per graph)
        G.add_node("site:mine")  # the caller's own
        ref = weakref.ref(G)
        del G
        gc.collect()
        assert ref() is None
        again = build_network(region="E06000018", keep=False)  # read back from the disk: without the change
        assert "site:mine" not in again and not nx.is_frozen(again)

        before = set(graph._BUILT_BY_ARGS.keys())
        view = build_network(region="E06000018", copy=False, assumptions={"road.motorway_kmh": 100.0})  # kept
        travel_time_matrix(view, mode="car")
        (built,) = [graph._BUILT_BY_ARGS[k] for k in set(graph._BUILT_BY_ARGS.keys()) - before]
        refs = [weakref.ref(built), weakref.ref(view)]
        assert len(cache._DEFERRED) == 1  # to be written after the command
        del built, view
        graph.forget_builds()
        assert not cache._DEFERRED and all(r() is None for r in refs)
        assert build_network(region="E06000018", copy=False, assumptions={"road.motorway_kmh": 100.0},
                             keep=False).number_of_edges() == again.number_of_edges()  # its entry was written
    finally:
        graph._build_cached.cache_clear()
        if was:
            gc.enable()
