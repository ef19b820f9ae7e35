"""The rail model on hand-made stations and patterns: headway waits, pattern rides, the common-lines
strategy, direct services between every served pair, HS2 stations and links, destination groups.

Most examples use round constants (``_round()``): a modelled link between consecutive calls costs
2 min plus its straight km at 60 km/h (no growth of the speed with distance, no dwell), or at
120 km/h for the patterns of the operator "Fast Co" (run_factor 2, ``FAST``); waits are capped at
30 min; a weekday is 18 h = 1080 min, so the wait for n trains is 1080 / n / 2 = 540 / n minutes.
"""

from __future__ import annotations

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest

from lisgeo.errors import NetworkError, UnknownNameError
from lisgeo.network import load_assumptions, travel_time_matrix
from lisgeo.network.rail import (
    add_hs2,
    add_rail,
    common_lines,
    destination_nodes,
    headway_wait_min,
    operator_factors,
    pattern_stops,
    rail_services,
    run_time_min,
)

#: An operators table (layers/rail_operators.csv's columns that count) whose "Fast Co" runs twice as fast.
FAST = pd.DataFrame({"operator": ["Fast Co", "Slow Co"], "atoc": ["FC", "SC"], "run_factor": [2.0, 0.5]})


def _round(**over):
    return load_assumptions(**{"pt.stop_penalty_min": 2.0, "pt.run_kmh": 60.0, "pt.run_distance_exponent": 0.0,
                               "pt.dwell_min": 0.0, "pt.max_wait_min": 30.0, **over})


def _stations(codes_xy, trains=None):
    codes = list(codes_xy)
    xs, ys = zip(*(codes_xy[c] for c in codes))
    return gpd.GeoDataFrame({"crs": codes, "daily_trains": trains or [36.0] * len(codes)},
                            geometry=gpd.points_from_xy(xs, ys), crs="EPSG:27700")


# ------------------------------------------------------------------ waits and rides
def test_headway_wait_cap_floor_and_no_trains():
    a = load_assumptions()  # 18 h span, wait = headway / 2 clipped to [1, 10] min, no boarding penalty
    assert a["pt.max_wait_min"] == 10.0 and a["pt.min_wait_min"] == 1.0 and a["pt.board_penalty_min"] == 0.0
    w = headway_wait_min([108, 216, 54, 18, 2000, 0, np.nan], a)
    assert w[:5].tolist() == [5.0, 2.5, 10.0, 10.0, 1.0]  # 540/108, 540/216, 540/54; 540/18 = 30 -> cap; 0.27 -> floor
    assert np.isnan(w[5]) and np.isnan(w[6])  # no trains: nothing to wait for
    assert headway_wait_min(18, _round())[()] == 30.0  # a higher cap lets it through
    assert headway_wait_min([108], load_assumptions(**{"pt.board_penalty_min": 2.0}))[0] == 7.0  # penalty on top


def test_run_time_model_hand_computed():
    a = _round()
    # 2 min + the straight km at 60 km/h
    assert run_time_min([10.0, 40.0], a).tolist() == pytest.approx([12.0, 42.0])
    # the operator's factor scales the speed: twice as fast, half as fast
    assert run_time_min([10.0, 10.0], a, factor=np.array([2.0, 0.5])).tolist() == pytest.approx([7.0, 22.0])
    # the speed grows with the distance between calls: v = 60 x (km / 10) ^ 0.5, 120 km/h at 40 km, 30 at 2.5 km
    b = _round(**{"pt.run_distance_exponent": 0.5})
    assert run_time_min([40.0, 2.5, 10.0], b).tolist() == pytest.approx([2 + 20.0, 2 + 5.0, 12.0])
    assert len(run_time_min([], a)) == 0
    d = load_assumptions()  # the file's constants, fitted on the timetable sample
    stop, v, e = d["pt.stop_penalty_min"], d["pt.run_kmh"], d["pt.run_distance_exponent"]
    assert 0.5 < stop < 3 and 60 < v < 120 and 0 < e < 0.5 and 0 <= d["pt.dwell_min"] < 2  # physically sensible
    assert run_time_min([10.0], d)[0] == pytest.approx(stop + 10 / v * 60)
    assert run_time_min([40.0], d)[0] < 4 * run_time_min([10.0], d)[0]  # longer links run faster


def test_operator_factors_mean_of_a_patterns_operators():
    pats = pd.DataFrame({"stops": ["A;B"] * 5, "operators": ["Fast Co", "Slow Co;Fast Co", "Nobody", None, ""]})
    assert operator_factors(pats, FAST).tolist() == pytest.approx([2.0, 1.25, 1.0, 1.0, 1.0])
    assert operator_factors(pats.drop(columns="operators"), FAST).tolist() == [1.0] * 5
    # the shipped table: every Aquius operator with a factor within the plausible range
    from lisgeo.layers.rail import read_rail_operators

    ops = read_rail_operators()
    assert {"Northern", "East Midlands", "CrossCountry", "East Coast"} <= set(ops["operator"])
    assert ops["run_factor"].between(0.5, 2.0).all() and ops["atoc"].str.fullmatch(r"[A-Z0-9]{2}").all()


def test_observed_segments_replace_the_model_and_dwells_add_up():
    """Timetabled running times where a timetable runs the link (the other direction's where only that
    one runs), the model elsewhere; each call's dwell between two links; the first departure and the
    last arrival carry none."""
    a = _round(**{"pt.dwell_min": 0.5})
    pats = pd.DataFrame({"pattern_id": [1], "stops": ["AAA;BBB;CCC;DDD"], "daily_trains": [54.0]})
    segs = pd.DataFrame({"from_crs": ["AAA", "CCC"], "to_crs": ["BBB", "BBB"], "run_min": [7.0, 9.0]})
    dwells = pd.DataFrame({"crs": ["BBB"], "dwell_min": [1.5]})
    s = rail_services(_line(), pats, a, segments=segs, dwells=dwells).set_index(["from_crs", "to_crs"])["ride_min"]
    # A -> B timetabled 7; B -> C only C -> B is timetabled: 9; C -> D (30 km) modelled: 2 + 30 = 32
    assert s[("AAA", "BBB")] == pytest.approx(7.0) and s[("BBB", "CCC")] == pytest.approx(9.0)
    assert s[("CCC", "DDD")] == pytest.approx(32.0)
    # through B (its own dwell 1.5) and C (no dwell of its own: pt.dwell_min 0.5)
    assert s[("AAA", "CCC")] == pytest.approx(7 + 1.5 + 9) and s[("AAA", "DDD")] == pytest.approx(7 + 1.5 + 9 + 0.5 + 32)
    assert s[("BBB", "DDD")] == pytest.approx(9 + 0.5 + 32)  # from the departure at B: its dwell is before it
    full = rail_services(_line(), pats, a, segments=segs, dwells=dwells)
    assert full.attrs["observed_share"] == pytest.approx(2 / 3)  # two of the pattern's three links
    bare = rail_services(_line(), pats, a).set_index(["from_crs", "to_crs"])["ride_min"]
    assert bare[("AAA", "CCC")] == pytest.approx(12 + 0.5 + 12)
    assert rail_services(_line(), pats, a).attrs["observed_share"] == 0.0


def test_pattern_stops_forms():
    assert pattern_stops("not; lei ;;STP") == ["NOT", "LEI", "STP"]
    assert pattern_stops(["not", " lei"]) == ["NOT", "LEI"]


def test_common_lines_hand_examples():
    rides, trains = np.array([90.0, 50.0, 60.0]), np.array([5.0, 10.0, 30.0])  # given in any order
    # cap 60 min: {50}: 540/10 = 54 + 50 = 104; {50, 60}: 40 trains, 13.5 + (500 + 1800) / 40 = 13.5 + 57.5 = 71;
    # {50, 60, 90}: 45 trains, 12 + 2750 / 45 = 73.11 -> the two fastest patterns win
    t, w, r, F, k, fast = common_lines(rides, trains, load_assumptions(**{"pt.max_wait_min": 60.0}))
    assert (t, w, r, F, k, fast) == pytest.approx((71.0, 13.5, 57.5, 40.0, 2, 50.0))
    assert 90.0 > t  # the 90-min pattern stays out: its ride alone is longer than the set's expected time
    # with the file's 10-min cap every set waits 10 min, so adding slower patterns only adds ride: {50} wins
    assert common_lines(rides, trains, load_assumptions()) == pytest.approx((60.0, 10.0, 50.0, 10.0, 1, 50.0))
    # close rides: all three join (cap 60): 12 + (500 + 1560 + 275) / 45 = 63.89 < 65 < 104
    t3 = common_lines(np.array([50.0, 52.0, 55.0]), trains[[1, 2, 0]], load_assumptions(**{"pt.max_wait_min": 60.0}))
    assert t3 == pytest.approx((12 + 2335 / 45, 12.0, 2335 / 45, 45.0, 3, 50.0))


# ------------------------------------------------------------------ services between pairs
def _line():
    """A 0 km, B 10 km, C 20 km, D 50 km east, all on a line."""
    return _stations({"AAA": (0, 0), "BBB": (10000, 0), "CCC": (20000, 0), "DDD": (50000, 0)})


def test_rail_services_every_ordered_pair_and_pooled_waits():
    a = _round()
    pats = pd.DataFrame({"pattern_id": [1, 2], "stops": ["AAA;BBB;CCC", "AAA;CCC;DDD"], "daily_trains": [36.0, 18.0],
                         "operators": ["Slow Co;Fast Co", "Fast Co"]})
    s = rail_services(_line(), pats, a, operators=FAST).set_index(["from_crs", "to_crs"])
    cols = ["time_min", "wait_min", "ride_min", "fastest_min", "daily_trains", "n_patterns"]
    # each pattern serves every ordered pair of its calls, in its direction of travel only
    assert set(s.index) == {("AAA", "BBB"), ("AAA", "CCC"), ("BBB", "CCC"), ("AAA", "DDD"), ("CCC", "DDD")}
    assert s.attrs["skipped_patterns"] == 0
    # pattern 1's operators average a factor of 1.25: 2 + 10 / 75 * 60 = 10 min a link; 36 trains: wait 15
    assert s.loc[("AAA", "BBB"), cols].tolist() == pytest.approx([25.0, 15.0, 10.0, 10.0, 36.0, 1])
    pats["operators"] = [None, "Fast Co"]
    s = rail_services(_line(), pats, a, operators=FAST).set_index(["from_crs", "to_crs"])
    # without an operator pattern 1 runs at 60 km/h: 12 min a link
    assert s.loc[("AAA", "BBB"), cols].tolist() == pytest.approx([27.0, 15.0, 12.0, 12.0, 36.0, 1])
    # pattern 2 (Fast Co, 120 km/h): A-C 2 + 10 = 12, C-D 2 + 15 = 17; 18 trains: wait 30
    assert s.loc[("AAA", "DDD"), "time_min"] == pytest.approx(30 + 29) and s.loc[("CCC", "DDD"), "time_min"] == pytest.approx(47)
    # A -> C is served by both: the express alone 30 + 12 = 42; both (54 trains) 10 + (18*12 + 36*24) / 54 = 10 + 20
    assert s.loc[("AAA", "CCC"), cols].tolist() == pytest.approx([30.0, 10.0, 20.0, 12.0, 54.0, 2])
    assert s["n_patterns"].dtype == np.int64
    assert s.loc[("AAA", "CCC"), "typical_min"] == pytest.approx(20.0)  # every pattern's trains: the same here
    # under the file's 10-min cap both sets wait 10 min: the express alone wins (10 + 12 = 22), yet the
    # typical train serving the pair still takes (18 x 12 + 36 x 24) / 54 = 20 min
    s10 = rail_services(_line(), pats, _round(**{"pt.max_wait_min": 10.0}), operators=FAST).set_index(["from_crs", "to_crs"])
    assert s10.loc[("AAA", "CCC"), cols + ["typical_min"]].tolist() == pytest.approx([22.0, 10.0, 12.0, 12.0, 18.0, 1, 20.0])


def test_rail_services_unknown_calls_skipped_patterns_and_loops():
    a = _round()
    pats = pd.DataFrame({"pattern_id": [7, 8, 9, 10, 11],
                         "stops": [["AAA", "ZZZ", "CCC"], "QQQ;AAA", "AAA;BBB", "BBB;CCC;BBB", "AAA;AAA;BBB"],
                         "daily_trains": [18.0, 50.0, 0.0, 36.0, 18.0], "operators": ["Fast Co", None, None, None, None]})
    s = rail_services(_line(), pats, a, operators=FAST)
    assert s.attrs["skipped_patterns"] == 2  # QQQ;AAA keeps one known call; AAA;BBB has no trains
    s = s.set_index(["from_crs", "to_crs"])
    assert set(s.index) == {("AAA", "CCC"), ("BBB", "CCC"), ("CCC", "BBB"), ("AAA", "BBB")}
    # ZZZ is not a station: the train links A and C directly (20 km at Fast Co's 120 km/h): 30 + 2 + 10
    assert s.loc[("AAA", "CCC"), "time_min"] == pytest.approx(42.0)
    # a loop serves both directions between its calls, never a station to itself: 15 + 12
    assert s.loc[("BBB", "CCC"), "time_min"] == pytest.approx(27.0) and s.loc[("CCC", "BBB"), "time_min"] == pytest.approx(27.0)
    # a repeated call collapses: A -> B once, one 10 km link
    assert s.loc[("AAA", "BBB"), ["time_min", "wait_min", "ride_min", "daily_trains"]].tolist() == pytest.approx([42.0, 30.0, 12.0, 18.0])


def test_rail_services_loop_keeps_its_shortest_ride_and_codes_are_read_loosely():
    a = _round()
    # A, B, C on a line 10 km apart: the loop calls at A and C twice; A -> C is served by calls 1 -> 3
    # (two 10 km links, 24 min), 1 -> 5 and 4 -> 5 (one 20 km link: 14 min, the shortest), C -> A by 3 -> 4
    loop = rail_services(_line(), pd.DataFrame({"pattern_id": [1], "stops": ["AAA;BBB;CCC;AAA;CCC"], "daily_trains": [54.0]}), a)
    loop = loop.set_index(["from_crs", "to_crs"])
    assert loop.loc[("AAA", "CCC"), "ride_min"] == pytest.approx(2 + 20 / 60 * 60)
    assert loop.loc[("CCC", "AAA"), "ride_min"] == pytest.approx(2 + 20 / 60 * 60)
    assert loop.loc[("AAA", "CCC"), "n_patterns"] == 1 and not loop.index.duplicated().any()
    # lower case, spaces and empty calls read as pattern_stops reads them; a list gives the same
    pats = pd.DataFrame({"pattern_id": [1, 2], "stops": [" aaa ; Bbb;;ccc ", ["ccc", " BBB"]], "daily_trains": [36.0, 18.0]})
    same = pd.DataFrame({"pattern_id": [1, 2], "stops": ["AAA;BBB;CCC", "CCC;BBB"], "daily_trains": [36.0, 18.0]})
    pd.testing.assert_frame_equal(rail_services(_line(), pats, a), rail_services(_line(), same, a))


def test_add_rail_nodes_and_one_edge_per_pair():
    a = _round()
    st = _line()
    pats = pd.DataFrame({"pattern_id": [1, 2, 3], "stops": ["AAA;BBB;CCC", "AAA;CCC;DDD", "QQQ;DDD"],
                         "daily_trains": [36.0, 18.0, 4.0], "operators": [None, "Fast Co", None]})
    G = add_rail(nx.MultiDiGraph(), st, pats, a, operators=FAST)
    assert G.number_of_nodes() == 8 and G.graph["rail_services"] == 5 and G.graph["skipped_rail_patterns"] == 1
    for c in ("AAA", "BBB", "CCC", "DDD"):
        s, r = G.nodes[f"rail:{c}"], G.nodes[f"arr:{c}"]
        assert s["kind"] == r["kind"] == "station" and s["side"] == "street" and r["side"] == "arrival" and s["crs"] == c
        assert G[f"rail:{c}"][f"arr:{c}"][0] == {"time_min": 0.0, "mode": "concourse"}
        assert G[f"arr:{c}"][f"rail:{c}"][0] == {"time_min": 5.0, "mode": "interchange"}  # the change penalty
    rail = [(u, v, d) for u, v, d in G.edges(data=True) if d["mode"] == "rail"]
    assert len(rail) == len({(u, v) for u, v, _ in rail}) == 5  # one edge per served pair
    assert all(u.startswith("rail:") and v.startswith("arr:") for u, v, _ in rail)
    e = G["rail:AAA"]["arr:CCC"][0]
    assert e["time_min"] == pytest.approx(30.0) and e["wait_min"] == 10.0 and e["ride_min"] == pytest.approx(20.0)
    assert e["fastest_min"] == pytest.approx(12.0) and e["daily_trains"] == 54.0 and e["n_patterns"] == 2
    assert e["typical_min"] == pytest.approx(20.0)
    assert e["time_min"] == pytest.approx(e["wait_min"] + e["ride_min"])
    assert not G.has_edge("rail:CCC", "arr:AAA")  # the patterns run one way
    # a second call adds to the skipped count
    add_rail(G, st, pats.iloc[[2]], a, operators=FAST)
    assert G.graph["skipped_rail_patterns"] == 2


# ------------------------------------------------------------------ journeys with a change
def _crossing():
    """Two lines crossing at X: A - X - B (36 trains) and A - X (72 trains) from the west, C - X - D
    (108 trains) from north to south; every link 10 km (stopping: 2 + 10 = 12 min)."""
    st = _stations({"AAA": (0, 0), "XXX": (10000, 0), "BBB": (20000, 0), "CCC": (10000, 10000), "DDD": (10000, -10000)})
    pats = pd.DataFrame({"pattern_id": [1, 2, 3], "stops": ["AAA;XXX;BBB", "AAA;XXX", "CCC;XXX;DDD"],
                         "daily_trains": [36.0, 72.0, 108.0]})
    return st, pats


def _crossing_graph(**over):
    a = _round(**over)
    G = nx.MultiDiGraph(assumptions=a.to_dict())
    add_rail(G, *_crossing(), a)
    for z, c, x, y in [("zone:a", "AAA", 0.0, 0.0), ("zone:c", "CCC", 10000.0, 10000.0)]:
        G.add_node(z, kind="zone", x=x, y=y)
        G.add_edge(z, f"rail:{c}", time_min=1.0, mode="access_walk")
    return G, a


def test_crossing_edges_hand_computed():
    G, _ = _crossing_graph()
    # A -> X by either western pattern: 108 trains, wait 5, ride 12
    assert G["rail:AAA"]["arr:XXX"][0]["time_min"] == pytest.approx(17.0) and G["rail:AAA"]["arr:XXX"][0]["n_patterns"] == 2
    assert G["rail:AAA"]["arr:BBB"][0]["time_min"] == pytest.approx(15 + 24)  # staying on: 36 trains, 2 links
    assert G["rail:XXX"]["arr:BBB"][0]["time_min"] == pytest.approx(15 + 12)
    assert G["rail:XXX"]["arr:DDD"][0]["time_min"] == pytest.approx(5 + 12)
    assert G["rail:CCC"]["arr:DDD"][0]["time_min"] == pytest.approx(5 + 24)


@pytest.mark.parametrize("method", ["structured", "dijkstra"])
def test_one_change_costs_penalty_and_a_new_wait(method):
    G, _ = _crossing_graph()
    m = travel_time_matrix(G, ["zone:a", "zone:c"], ["arr:XXX", "arr:BBB", "arr:DDD", "rail:XXX"], mode="rail", method=method)
    # A to D: walk 1 + wait 5 + ride 12, change at X (penalty 5), wait 5 + ride 12
    assert m.loc["zone:a", "arr:DDD"] == pytest.approx(1 + 5 + 12 + 5 + 5 + 12)
    # A to B: the through train (1 + 15 + 24 = 40) beats changing at X (1 + 17 + 5 + 27 = 50)
    assert m.loc["zone:a", "arr:BBB"] == pytest.approx(40.0)
    # C to B must change at X onto the 36-train line: 1 + 5 + 12 + 5 + 15 + 12
    assert m.loc["zone:c", "arr:BBB"] == pytest.approx(50.0)
    assert m.loc["zone:a", "arr:XXX"] == pytest.approx(18.0) and m.loc["zone:a", "rail:XXX"] == pytest.approx(23.0)
    # without the interchange penalty only the second wait is added
    G0, _ = _crossing_graph(**{"pt.interchange_penalty_min": 0.0})
    m0 = travel_time_matrix(G0, ["zone:a"], ["arr:DDD"], mode="rail", method=method)
    assert m0.iloc[0, 0] == pytest.approx(1 + 5 + 12 + 5 + 12)


def test_station_links_take_half_the_penalty_at_least():
    """Leaving the railway to a terminal beside the station and walking back in is no cheaper than
    a change inside the station."""
    from lisgeo.network.access import attach_terminals

    G, _ = _crossing_graph()
    # walk links only (no park and ride, which would let the site drive on to D)
    a = _round(**{"pt.car_max_km": 0.0})
    terms = pd.DataFrame({"node": ["site:at_x", "zone:far"], "kind": ["site", "zone"], "x": [10000.0, 10000.0],
                          "y": [0.0, 1500.0], "urban": [True, True]})
    attach_terminals(G, terms, a, roads=False)
    assert {d["mode"] for *_, d in G.edges(["site:at_x", "zone:far"], data=True)} == {"access_walk"}
    assert G["site:at_x"]["rail:XXX"][0]["time_min"] == 2.5 and G["arr:XXX"]["site:at_x"][0]["time_min"] == 2.5
    assert G["zone:far"]["rail:XXX"][0]["time_min"] == pytest.approx(1.5 * 1.3 / 4.8 * 60)  # 24.4 min, above the floor
    assert not G.has_edge("rail:XXX", "site:at_x")  # egress leaves from the arrival side
    t = travel_time_matrix(G, ["zone:a"], ["arr:DDD", "site:at_x"], mode="rail").iloc[0]
    assert t["arr:DDD"] == pytest.approx(1 + 17 + 5 + 17)  # via the site (2.5 + 2.5) is no cheaper
    assert t["site:at_x"] == pytest.approx(1 + 17 + 2.5)


# ------------------------------------------------------------------ HS2
def _hs2_case(**over):
    """The crossing plus: HS2 at X (100 m from it: the same station), a new HS2 station N 1.5 km north of
    C (joined to C and to a CRS not in the graph) and a new station O with no classic neighbour."""
    a = _round(**{"destinations.leeds": ["CCC"], **over})
    G = nx.MultiDiGraph(assumptions=a.to_dict())
    add_rail(G, *_crossing(), a)
    hs = gpd.GeoDataFrame({"station_id": ["h_x", "h_new", "h_oak"], "name": ["X (HS2)", "New", "Oak"],
                           "connects_crs": ["XXX", "CCC;ZZZ", ""]},
                          geometry=gpd.points_from_xy([10100, 10000, 90000], [0, 11500, 0]), crs="EPSG:27700")
    links = pd.DataFrame({"from_id": ["h_x", "h_new", "h_oak"], "to_id": ["h_new", "bbb", "h_x"], "time_min": [20, 12, 30],
                          "kind": ["hs2", "classic", "hs2"]})
    return G, a, hs, links


def test_hs2_station_reuse_new_stations_and_links():
    G, a, hs, links = _hs2_case()
    n0 = G.number_of_nodes()
    add_hs2(G, hs, links, a)
    # h_x lies 100 m from X: it is X (no new node), and HS2 trains leave X's street side
    assert "rail:h_x" not in G and "arr:h_x" not in G and G.nodes["rail:XXX"]["hs2_station"] == "h_x"
    assert G.graph["hs2_station_codes"] == {"h_x": "XXX", "h_new": "h_new", "h_oak": "h_oak"}
    assert G.number_of_nodes() == n0 + 4  # the two new stations, two sides each
    for s in ("h_new", "h_oak"):
        assert G.nodes[f"rail:{s}"]["kind"] == G.nodes[f"arr:{s}"]["kind"] == "hs2"
        assert G.nodes[f"rail:{s}"]["side"] == "street" and G.nodes[f"arr:{s}"]["side"] == "arrival"
        assert G[f"rail:{s}"][f"arr:{s}"][0]["time_min"] == 0.0 and G[f"arr:{s}"][f"rail:{s}"][0]["time_min"] == 5.0
    # the walk between N and C (1.5 km x 1.3 at 4.8 km/h = 24.375 min) plus the penalty, both ways
    walk = 5 + 1.5 * 1.3 / 4.8 * 60
    for u, v in [("arr:h_new", "rail:CCC"), ("arr:CCC", "rail:h_new")]:
        e = G[u][v][0]
        assert e["mode"] == "interchange" and e["time_min"] == pytest.approx(walk) and e["length_km"] == pytest.approx(1.95)
    assert not G.has_edge("rail:CCC", "rail:h_new") and not G.has_edge("rail:h_new", "rail:CCC")
    assert G.out_degree("arr:h_oak") == 1  # no classic station to walk to: only its own change
    # HS2 links both ways, street side to arrival side: published time + the HS2 wait (3 an hour: 10 min)
    for u, v in [("rail:XXX", "arr:h_new"), ("rail:h_new", "arr:XXX")]:
        e = G[u][v][0]
        assert e["mode"] == "hs2" and e["time_min"] == pytest.approx(30.0) and e["wait_min"] == 10.0 and e["ride_min"] == 20.0
        assert e["fastest_min"] == e["typical_min"] == 20.0  # a published time is both
    assert G["rail:h_oak"]["arr:XXX"][0]["time_min"] == pytest.approx(40.0) and G.has_edge("rail:XXX", "arr:h_oak")
    # classic trains from the hub: 2 an hour (15 min wait under the 30-min cap), mode rail; lower-case CRS accepted
    for u, v in [("rail:h_new", "arr:BBB"), ("rail:BBB", "arr:h_new")]:
        e = G[u][v][0]
        assert e["mode"] == "rail" and e["wait_min"] == 15.0 and e["time_min"] == pytest.approx(27.0)


def test_hs2_classic_wait_follows_its_own_frequency():
    G, a, hs, links = _hs2_case(**{"hs2.hub_classic_trains_per_hour": 6.0})
    add_hs2(G, hs, links, a)
    assert G["rail:h_new"]["arr:BBB"][0]["wait_min"] == 5.0 and G["rail:XXX"]["arr:h_new"][0]["wait_min"] == 10.0
    G, a, hs, links = _hs2_case(**{"hs2.reuse_station_m": 50.0})  # X's HS2 platforms now a station of their own
    add_hs2(G, hs, links, a)
    assert "rail:h_x" in G and G[("arr:h_x")]["rail:XXX"][0]["time_min"] == pytest.approx(5 + 0.1 * 1.3 / 4.8 * 60)


def test_hs2_journeys_pay_the_wait_and_changes():
    G, a, hs, links = _hs2_case()
    add_hs2(G, hs, links, a)
    G.add_node("zone:n", kind="zone", x=10000.0, y=11500.0)
    G.add_edge("zone:n", "rail:h_new", time_min=2.0, mode="access_walk")
    t = travel_time_matrix(G, ["zone:n"], ["arr:XXX", "arr:DDD", "arr:CCC", "arr:BBB"], mode="rail").iloc[0]
    walk = 5 + 1.5 * 1.3 / 4.8 * 60
    assert t["arr:XXX"] == pytest.approx(2 + 10 + 20)
    # HS2 to X, then a change to the classic line to D: penalty 5 + wait 5 + ride 12 (via C: 2 + walk + 29 is slower)
    assert t["arr:DDD"] == pytest.approx(2 + 30 + 5 + 5 + 12) and 2 + walk + 29 > t["arr:DDD"]
    assert t["arr:CCC"] == pytest.approx(2 + walk)  # walk across to the classic station
    assert t["arr:BBB"] == pytest.approx(2 + 15 + 12)  # the hub's classic train


def test_hs2_bad_links():
    G, a, hs, _ = _hs2_case()
    with pytest.raises(NetworkError, match="QQQ"):
        add_hs2(G.copy(), hs, pd.DataFrame({"from_id": ["h_new"], "to_id": ["QQQ"], "time_min": [4]}), a)
    with pytest.raises(NetworkError, match="time_min"):
        add_hs2(G.copy(), hs, pd.DataFrame({"from_id": ["h_new"], "to_id": ["h_x"], "time_min": [0]}), a)


def test_destination_nodes_arrival_sides_and_new_hs2_stations():
    G, a, hs, links = _hs2_case()
    assert destination_nodes(G, "leeds") == ["arr:CCC"]
    add_hs2(G, hs, links, a)
    assert sorted(destination_nodes(G, "leeds")) == ["arr:CCC", "arr:h_new"]  # N connects to C
    with pytest.raises(UnknownNameError, match="atlantis"):
        destination_nodes(G, "atlantis")
    with pytest.raises(NetworkError, match="london"):
        destination_nodes(G, "london")  # none of the termini is in this graph


def test_rail_services_are_computed_once_per_content_and_assumptions(tmp_path, monkeypatch, count_calls):
    """add_rail reads Great Britain's services through the disk cache: a second build (or a second
    process) reads them back exactly; other stations, patterns or assumptions are another entry."""
    import lisgeo.network.rail as rail

    monkeypatch.setenv("LISGEO_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("LISGEO_NO_CACHE", raising=False)
    real = rail.rail_services
    calls = count_calls(rail, "rail_services")
    a = _round()
    pats = pd.DataFrame({"pattern_id": [1, 2], "stops": ["AAA;BBB;CCC", "AAA;CCC;DDD"], "daily_trains": [36.0, 18.0]})
    first = rail._cached_rail_services(_line(), pats, a)
    again = rail._cached_rail_services(_line(), pats, a)
    assert len(calls) == 1
    pd.testing.assert_frame_equal(again, real(_line(), pats, a), check_exact=True)
    assert again.attrs == first.attrs == {"skipped_patterns": 0, "observed_share": 0.0}
    more = pats.assign(daily_trains=[36.0, 36.0])
    assert rail._cached_rail_services(_line(), more, a).loc[lambda d: (d.from_crs == "CCC") & (d.to_crs == "DDD"), "daily_trains"].item() == 36.0
    rail._cached_rail_services(_line(), pats, _round(**{"pt.max_wait_min": 10.0}))
    moved = _line().assign(geometry=_line().geometry.translate(1000.0, 0.0))
    rail._cached_rail_services(moved, pats, a)
    assert len(calls) == 4  # other trains, other assumptions, other places: each computed
    G = add_rail(nx.MultiDiGraph(), _line(), pats, a)
    assert len(calls) == 4 and G.graph["rail_services"] == len(first)  # the build read it back
