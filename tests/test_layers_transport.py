"""Transport layers: SRN links and their carriageway geometry, rail, NaPTAN stops, airports."""

from __future__ import annotations

import math

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely

from lisgeo.errors import UnknownNameError
from lisgeo.layers import transport as T

BNG = "EPSG:27700"


# ----------------------------------------------------------------------------- unit tests

def _links(rows):
    return gpd.GeoDataFrame({"route": [r[0] for r in rows]}, geometry=[shapely.LineString(r[1]) for r in rows], crs=BNG)


def _sections(rows):
    return gpd.GeoDataFrame({"route": [r[0] for r in rows], "two_way": [r[2] for r in rows]},
                            geometry=[shapely.LineString(r[1]) for r in rows], crs=BNG)


def test_matcher_follows_bent_carriageway():
    # straight link 0,0 -> 10000,0; carriageway bends up to y=2000 in two sections; the
    # route = the two sections, so its length is 2 * sqrt(5000² + 2000²)
    links = _links([("M1", [(0, 0), (10000, 0)])])
    secs = _sections([("M1", [(0, 0), (5000, 2000)], False), ("M1", [(5000, 2000), (10000, 0)], False)])
    out = T.match_link_geometry(links, secs)
    assert out["geometry_source"].iloc[0] == "hapms"
    assert out["length_km"].iloc[0] == pytest.approx(2 * math.hypot(5000, 2000) / 1000, abs=1e-9)
    assert out["length_km"].iloc[0] >= 10.0


def test_matcher_ends_at_the_junctions_and_trims_the_carriageway():
    # carriageway runs beyond both ends and 100 m to the side: junction -> 100 m across -> 10 km -> 100 m back
    links = _links([("A38", [(0, 0), (10000, 0)])])
    secs = _sections([("A38", [(-3000, 100), (13000, 100)], False)])
    g = T.match_link_geometry(links, secs)
    assert g["length_km"].iloc[0] == pytest.approx((100 + 10000 + 100) / 1000)
    assert g.geometry.iloc[0].coords[0] == (0.0, 0.0) and g.geometry.iloc[0].coords[-1] == (10000.0, 0.0)


def test_matcher_ignores_other_roads_wrong_direction_and_far_sections():
    links = _links([("M1", [(0, 0), (10000, 0)]), ("M1", [(10000, 50), (0, 50)]), ("A1", [(0, 0), (10000, 0)])])
    secs = _sections([
        ("M1", [(0, 0), (5000, 2000)], False), ("M1", [(5000, 2000), (10000, 0)], False),  # eastbound, bent
        ("M6", [(0, 10), (10000, 10)], False),                                                # another road
        ("A1", [(0, 20000), (10000, 20000)], False),                                          # right road, 20 km away
    ])
    g = T.match_link_geometry(links, secs)
    assert g["geometry_source"].tolist() == ["hapms", "straight", "straight"]
    # the westbound link may not use the eastbound carriageway: straight line, its own length
    assert g["length_km"].tolist()[1:] == pytest.approx([10.0, 10.0])


def test_matcher_reverses_two_way_single_carriageway():
    links = _links([("A52", [(10000, 0), (0, 0)])])
    secs = _sections([("A52", [(0, 0), (5000, 1000), (10000, 0)], True)])  # digitised eastbound, two-way
    g = T.match_link_geometry(links, secs)
    assert g["geometry_source"].iloc[0] == "hapms"
    assert g["length_km"].iloc[0] == pytest.approx(2 * math.hypot(5000, 1000) / 1000)
    assert g.geometry.iloc[0].coords[0] == (10000.0, 0.0)


def test_matcher_refuses_a_long_detour():
    links = _links([("M1", [(0, 0), (2000, 0)])])
    secs = _sections([("M1", [(0, 0), (1000, 3000), (2000, 0)], False)])  # 6.3 km for a 2 km link
    g = T.match_link_geometry(links, secs)
    assert g["geometry_source"].iloc[0] == "straight" and g["length_km"].iloc[0] == pytest.approx(2.0)


def test_self_loops_dropped_and_road_class():
    df = pd.DataFrame({"from_node": [1, 2, 3], "to_node": [2, 2, 1]})
    assert T.drop_self_loops(df).index.tolist() == [0, 2]
    roads = pd.Series(["M1", "A1(M)", "A38", "A627(M)", "A1M", "M180", None])
    assert T.road_class_of(roads).tolist() == ["motorway", "motorway", "trunk", "motorway", "motorway", "motorway", "trunk"]
    assert T.route_key(pd.Series(["A1(M)", "A1M", "M1", "A38"])).tolist() == ["A1", "A1", "M1", "A38"]


def test_stop_type_mapping():
    codes = pd.Series(["BCT", "BCS", "BCQ", "BST", "PLT", "TMU", "MET", "RLY", "RSE", "RPL", "AIR", "GAT", "FTD", "TXR", "XYZ"])
    assert T.stop_mode(codes).tolist() == ["bus"] * 4 + ["tram"] * 3 + ["rail"] * 3 + ["air"] * 2 + ["ferry", "other", "other"]


def test_inactive_stops_dropped_and_coordinates():
    raw = pd.DataFrame({
        "ATCOCode": ["a", "b", "c"], "CommonName": ["A", "B", "C"], "StopType": ["BCT", "BCT", "PLT"],
        "Status": ["active", "inactive", "active"],
        "Easting": [435271.0, 1.0, np.nan], "Northing": [335904.0, 1.0, np.nan],
        "Longitude": [-1.476868, 0.0, -1.476868], "Latitude": [52.919422, 0.0, 52.919422],
    })
    s = T.naptan_to_stops(raw)
    assert s["atco_code"].tolist() == ["a", "c"]
    assert s["mode"].tolist() == ["bus", "tram"]
    assert (s.geometry.iloc[0].x, s.geometry.iloc[0].y) == (435271.0, 335904.0)
    # the lon/lat fallback lands within a few metres of the same published point
    assert s.geometry.iloc[1].distance(s.geometry.iloc[0]) < 5


def test_aquius_pairs_directions_waypoints_and_splits():
    data = {
        "reference": {"product": [{"en-US": "East Midlands"}, {"en-US": "London Underground"}]},
        "node": [],
        "link": [
            [[0], [10], [0, 1, 2], {}],                              # both ways: 5 each direction
            [[0], [4], [0, 3, 2], {"d": 1, "u": [3], "s": [3]}],     # one way, 3 is a waypoint
            [[0], [2], [0, 1, 4], {"d": 1, "t": [4]}],               # split portion: only 1->4 counts
            [[1], [99], [0, 1], {}],                                 # excluded product
        ],
    }
    p = T.aquius_train_pairs(data, exclude_products=["London Underground"])
    got = p.groupby(["from_node", "to_node"])["trains"].sum().to_dict()
    assert got == {(0, 1): 5.0, (1, 2): 5.0, (2, 1): 5.0, (1, 0): 5.0, (0, 2): 4.0, (1, 4): 2.0}


def test_unknown_mode_refused():
    with pytest.raises(UnknownNameError):
        T.load_stops(region="d2n2", modes=["hovercraft"])


# ----------------------------------------------------------------------------- real data

@pytest.fixture(scope="module")
def road_links(real_data):
    return T.load_road_links(region="d2n2")


def test_road_links_d2n2(road_links):
    g = road_links
    assert g.crs.to_epsg() == 27700 and g.index.is_unique
    assert list(g.columns[:7]) == ["link_id", "from_node", "to_node", "road", "road_class", "straight_km", "length_km"]
    m1 = g[g["road"] == "M1"]
    assert len(m1) >= 40 and (m1["road_class"] == "motorway").all()
    assert set(g["road_class"]) == {"motorway", "trunk"}
    assert (g["from_node"] != g["to_node"]).all()
    assert (g["length_km"] >= g["straight_km"] - 1e-6).all()
    np.testing.assert_allclose(g["length_km"], g.geometry.length / 1000, atol=1e-6)
    # straight links are exactly their straight distance
    st = g[g["geometry_source"] == "straight"]
    assert (st["length_km"] == st["straight_km"]).all()
    # observed 92.4% for d2n2 (+30 km); every M1 link in reach follows the carriageway
    assert g.attrs["hapms_share"] > 0.85
    assert (m1["geometry_source"] == "hapms").all()
    # road class agrees with the HATRIS link reference (LM.. motorway, AL.. A-road)
    hatris = g[g["link_id"].str.match(r"^(LM|AL)")]
    assert ((hatris["link_id"].str[:2] == "LM") == (hatris["road_class"] == "motorway")).all()
    nodes = T.load_road_nodes(region="d2n2")
    assert set(g["from_node"]) | set(g["to_node"]) == set(nodes.index)


def test_srn_self_loops_removed_nationally(real_data):
    raw = T._srn_raw()
    loops = int((raw["StartCluster"] == raw["EndCluster"]).sum())
    assert loops == 84
    assert len(T._srn_links()) == len(raw) - loops == 2388


def test_rail_stations_and_links(real_data):
    st = T.load_rail_stations(region="d2n2")
    want = ["NOT", "DBY", "CHD", "LEI", "EMD"]
    assert set(want) <= set(st.index)
    assert (st.loc[want, "daily_trains"] > 0).all()
    assert st.loc["NOT", "name"] == "Nottingham"
    links = T.load_rail_links()  # all GB
    G = nx.from_pandas_edgelist(links, "from_crs", "to_crs", create_using=nx.DiGraph)
    assert nx.has_path(G, "NOT", "STP") and nx.has_path(G, "STP", "NOT")
    assert (links["daily_trains"] > 0).all() and (links["from_crs"] != links["to_crs"]).all()
    # departures at a station are the trains on its outgoing links
    assert st.loc["DBY", "daily_trains"] == pytest.approx(links.loc[links["from_crs"] == "DBY", "daily_trains"].sum())
    # matching is by name only; the unmatched are reported, and every match is within 2 km
    m = T.match_aquius_stations()
    assert m["crs"].notna().mean() > 0.97
    assert (m.loc[m["crs"].notna(), "distance_m"] <= 2000).all()
    assert st.attrs["unmatched_aquius"]
    reg = T.load_rail_links(region="d2n2")
    assert {"NOT", "DBY"} <= set(reg["from_crs"]) and len(reg) < len(links)


def test_stops_derby_bus_count_and_tram(real_data):
    from lisgeo.catalog import resolve_dataset
    from lisgeo.layers.boundaries import load_districts

    stops = T.load_stops(region="d2n2")
    # independent count: every catalogued NaPTAN file, active bus-type stops whose published
    # Easting/Northing fall inside the Derby district polygon. The layer's LADCD is spatial, so
    # the check is spatial too; AdministrativeAreaCode would miscount stops on the city edge.
    derby = load_districts(region=["E06000015"]).geometry.iloc[0]
    n = 0
    for ds in T._NAPTAN:
        raw = pd.read_csv(resolve_dataset(ds)[0], usecols=["StopType", "Status", "Easting", "Northing"], low_memory=False)
        raw = raw[(raw["Status"] == "active") & raw["StopType"].isin(["BCT", "BCS", "BCQ", "BST", "BCE"])]
        n += int(shapely.contains_xy(derby, raw["Easting"].to_numpy(float), raw["Northing"].to_numpy(float)).sum())
    got = int(((stops["LADCD"] == "E06000015") & (stops["mode"] == "bus")).sum())
    assert got == n == 1278
    notts = stops[stops["LADCD"] == "E06000018"]["mode"].value_counts()
    assert notts["tram"] > 0 and notts["bus"] > 0 and notts["rail"] > 0
    trams = T.load_stops(region="d2n2", modes=["tram"])
    assert set(trams["mode"]) == {"tram"}


def test_airports(real_data):
    a = T.load_airports()
    assert a.index.tolist() == ["ema"] and a.loc["ema", "iata"] == "EMA"
    # the NaPTAN airport entrance lies beside the terminal in North West Leicestershire
    assert a.geometry.iloc[0].distance(shapely.Point(445255, 325694)) < 200


# ------------------------------------------------------------------ rail service patterns
def test_aquius_patterns_follow_the_pair_rules():
    data = {
        "reference": {"product": [{"en-US": "East Midlands"}, {"en-US": "London Underground"}]},
        "node": [],
        "link": [
            [[0], [10], [0, 1, 2], {}],                              # both ways: 5 each direction
            [[0], [4], [0, 3, 2], {"d": 1, "u": [3], "s": [3]}],     # one way, 3 is a waypoint
            [[0], [2], [0, 1, 4], {"d": 1, "t": [4]}],               # split portion: its own run 1 -> 4
            [[0], [3], [5, 6, 7, 6], {"d": 1, "t": [5, 6]}],          # portion calls 7 shared: runs 5-6-7-6
            [[1], [99], [0, 1], {}],                                 # excluded product
        ],
    }
    p = T.aquius_service_patterns(data, exclude_products=["London Underground"])
    got = sorted(zip(p["nodes"], p["trains"], p["link"]))
    assert got == [((0, 1, 2), 5.0, 0), ((0, 2), 4.0, 1), ((1, 4), 2.0, 2), ((2, 1, 0), 5.0, 0), ((5, 6, 7, 6), 3.0, 3)]
    # summed over patterns, the trains of each consecutive pair are the pairs' trains
    pairs = T.aquius_train_pairs(data, exclude_products=["London Underground"])
    want = pairs.groupby(["from_node", "to_node"])["trains"].sum().to_dict()
    have: dict = {}
    for nodes, n in zip(p["nodes"], p["trains"]):
        for a, b in zip(nodes[:-1], nodes[1:]):
            have[(a, b)] = have.get((a, b), 0.0) + n
    assert have == want


def test_pattern_pair_trains_hand_made():
    pats = pd.DataFrame({"stops": ["AAA;BBB;CCC", ("AAA", "BBB"), ["CCC", "BBB"]], "daily_trains": [2.0, 3.5, 1.0]})
    got = T.pattern_pair_trains(pats)
    assert list(zip(got["from_crs"], got["to_crs"], got["daily_trains"])) == [
        ("AAA", "BBB", 5.5), ("BBB", "CCC", 2.0), ("CCC", "BBB", 1.0)]


def test_rail_patterns_real(real_data):
    pats = T.load_rail_patterns()  # all GB
    assert len(pats) == 5492 and int(pats["n_stops"].sum()) == 66642
    assert pats.index.is_unique and (pats.index == pats["pattern_id"]).all() and pats.crs.to_epsg() == 27700
    assert (pats["daily_trains"] > 0).all() and (pats["n_stops"] >= 2).all()
    assert not pats["stops"].duplicated().any()  # identical stop sequences are merged
    stops = pats["stops"].str.split(";")
    assert (stops.str.len() == pats["n_stops"]).all()
    assert (stops.str[0] == pats["first_crs"]).all() and (stops.str[-1] == pats["last_crs"]).all()
    # Nottingham - London St Pancras patterns, in both directions, East Midlands Railway
    fast = pats[pats["stops"] == "NOT;EMD;LEI;MHR;STP"]
    assert len(fast) == 1 and fast["daily_trains"].iloc[0] == 10.0 and fast["operators"].iloc[0] == "East Midlands"
    to_lon = pats[(pats["first_crs"] == "NOT") & (pats["last_crs"] == "STP")]
    from_lon = pats[(pats["first_crs"] == "STP") & (pats["last_crs"] == "NOT")]
    assert to_lon["daily_trains"].sum() == 30.5 and from_lon["daily_trains"].sum() == 27.5
    # the trains of each consecutive pair, summed over patterns, equal rail_links' daily_trains,
    # except on the pairs that bridge an Aquius station without a CRS match (Prestwick, Lea
    # Bridge ...): rail_links loses those bridges on two-way links, the patterns keep them
    links = T.load_rail_links()
    pp = T.pattern_pair_trains(pats)
    m = pp.merge(pd.DataFrame(links.drop(columns="geometry")).astype({"from_crs": "string", "to_crs": "string"}),
                 on=["from_crs", "to_crs"], how="outer", suffixes=("_p", "_l"))
    assert m["daily_trains_p"].notna().all()  # every rail link is run by some pattern
    diff = m[~np.isclose(m["daily_trains_p"], m["daily_trains_l"].fillna(0.0), atol=0.011)]
    assert len(m) == 8160 and len(diff) == 83 and int(diff["daily_trains_l"].isna().sum()) == 55
    assert pats.attrs["pairs_not_in_rail_links"] == 55
    code = T.match_aquius_stations()["crs"].to_numpy(object)
    bridged = set()
    for nodes in T.aquius_service_patterns(T._aquius(), exclude_products=T._NOT_RAIL)["nodes"]:
        last, gap = None, False
        for n in nodes:
            c = code[n]
            if not isinstance(c, str):
                gap = True
                continue
            if last is not None and gap and c != last:
                bridged.add((last, c))
            last, gap = c, False
    assert set(zip(diff["from_crs"], diff["to_crs"])) == bridged
    assert (diff["daily_trains_p"] > diff["daily_trains_l"].fillna(0.0)).all()
    reg = T.load_rail_patterns(region="d2n2")
    assert 0 < len(reg) < len(pats) and reg["stops"].str.contains("NOT").any()
