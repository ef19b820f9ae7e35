"""Rail layers: stations, Aquius links and service patterns."""

from __future__ import annotations


import networkx as nx
import numpy as np
import pandas as pd
import pytest

import lisgeo.layers.rail as RL

BNG = "EPSG:27700"


# ----------------------------------------------------------------------------- unit tests


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
    p = RL.aquius_train_pairs(data, exclude_products=["London Underground"])
    got = p.groupby(["from_node", "to_node"])["trains"].sum().to_dict()
    assert got == {(0, 1): 5.0, (1, 2): 5.0, (2, 1): 5.0, (1, 0): 5.0, (0, 2): 4.0, (1, 4): 2.0}


def test_rail_stations_and_links(real_data):
    st = RL.load_rail_stations(region="d2n2")
    want = ["NOT", "DBY", "CHD", "LEI", "EMD"]
    assert set(want) <= set(st.index)
    assert (st.loc[want, "daily_trains"] > 0).all()
    assert st.loc["NOT", "name"] == "Nottingham"
    links = RL.load_rail_links(region=None)  # all GB
    G = nx.from_pandas_edgelist(links, "from_crs", "to_crs", create_using=nx.DiGraph)
    assert nx.has_path(G, "NOT", "STP") and nx.has_path(G, "STP", "NOT")
    assert (links["daily_trains"] > 0).all() and (links["from_crs"] != links["to_crs"]).all()
    # departures at a station are the trains on its outgoing links
    assert st.loc["DBY", "daily_trains"] == pytest.approx(links.loc[links["from_crs"] == "DBY", "daily_trains"].sum())
    # matching is by name only; the unmatched are reported, and every match is within 2 km
    m = RL.match_aquius_stations()
    assert m["crs"].notna().mean() > 0.97
    assert (m.loc[m["crs"].notna(), "distance_m"] <= 2000).all()
    assert st.attrs["unmatched_aquius"]
    reg = RL.load_rail_links(region="d2n2")
    assert {"NOT", "DBY"} <= set(reg["from_crs"]) and len(reg) < len(links)


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
    p = RL.aquius_service_patterns(data, exclude_products=["London Underground"])
    got = sorted(zip(p["nodes"], p["trains"], p["link"]))
    assert got == [((0, 1, 2), 5.0, 0), ((0, 2), 4.0, 1), ((1, 4), 2.0, 2), ((2, 1, 0), 5.0, 0), ((5, 6, 7, 6), 3.0, 3)]
    # summed over patterns, the trains of each consecutive pair are the pairs' trains
    pairs = RL.aquius_train_pairs(data, exclude_products=["London Underground"])
    want = pairs.groupby(["from_node", "to_node"])["trains"].sum().to_dict()
    have: dict = {}
    for nodes, n in zip(p["nodes"], p["trains"]):
        for a, b in zip(nodes[:-1], nodes[1:]):
            have[(a, b)] = have.get((a, b), 0.0) + n
    assert have == want


def test_pattern_pair_trains_hand_made():
    pats = pd.DataFrame({"stops": ["AAA;BBB;CCC", ("AAA", "BBB"), ["CCC", "BBB"]], "daily_trains": [2.0, 3.5, 1.0]})
    got = RL.pattern_pair_trains(pats)
    assert list(zip(got["from_crs"], got["to_crs"], got["daily_trains"])) == [
        ("AAA", "BBB", 5.5), ("BBB", "CCC", 2.0), ("CCC", "BBB", 1.0)]


def test_rail_patterns_real(real_data):
    pats = RL.load_rail_patterns(region=None)  # all GB
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
    links = RL.load_rail_links(region=None)
    pp = RL.pattern_pair_trains(pats)
    m = pp.merge(pd.DataFrame(links.drop(columns="geometry")).astype({"from_crs": "string", "to_crs": "string"}),
                 on=["from_crs", "to_crs"], how="outer", suffixes=("_p", "_l"))
    assert m["daily_trains_p"].notna().all()  # every rail link is run by some pattern
    diff = m[~np.isclose(m["daily_trains_p"], m["daily_trains_l"].fillna(0.0), atol=0.011)]
    assert len(m) == 8160 and len(diff) == 83 and int(diff["daily_trains_l"].isna().sum()) == 55
    assert pats.attrs["pairs_not_in_rail_links"] == 55
    code = RL.match_aquius_stations()["crs"].to_numpy(object)
    bridged = set()
    for nodes in RL.aquius_service_patterns(RL._aquius(), exclude_products=RL._NOT_RAIL)["nodes"]:
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
    reg = RL.load_rail_patterns(region="d2n2")
    assert 0 < len(reg) < len(pats) and reg["stops"].str.contains("NOT").any()


@pytest.mark.parametrize("region", ["d2n2", "llep"])
def test_region_stations_are_gb_cut_to_the_reach(real_data, region):
    """A region's stations are Great Britain's layer cut to its reach: the same frame as counting the
    trains of the region's stations alone (the way the layer was built before)."""
    import numpy as np

    from lisgeo.assumptions import reach_km
    from lisgeo.layers import rail
    from lisgeo.layers.boundaries import region_reach

    got = rail.load_rail_stations(region=region)
    st = rail._stations_raw()
    st = st[st.intersects(region_reach(region, reach_km("stations")))]
    matched = set(rail.match_aquius_stations()["crs"].dropna())
    daily = st["crs"].map(rail._trains_by_station()).astype("float64").to_numpy(copy=True)
    am = st["crs"].isin(matched).to_numpy()
    daily[am & np.isnan(daily)] = 0.0
    want = st.assign(daily_trains=daily, aquius_matched=am).set_index("crs", drop=False)
    want.index.name = None
    pd.testing.assert_frame_equal(got, want[["crs", "name", "daily_trains", "aquius_matched", "geometry"]])
    assert got.attrs["layer"] == "rail_stations" and got.attrs["unmatched_aquius"] and got.attrs["attribution"]
    assert 40 < len(got) < len(rail.load_rail_stations(region=None))
