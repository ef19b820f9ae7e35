"""Road layers: SRN links and their carriageway geometry."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

import lisgeo.layers.roads as R

BNG = "EPSG:27700"


# ----------------------------------------------------------------------------- unit tests


def _links(rows):
    return gpd.GeoDataFrame({"route": [r[0] for r in rows]}, geometry=[shapely.LineString(r[1]) for r in rows], crs=BNG)


def _sections(rows):
    return gpd.GeoDataFrame({"route": [r[0] for r in rows], "two_way": [r[2] for r in rows]},
                            geometry=[shapely.LineString(r[1]) for r in rows], crs=BNG)


@pytest.fixture(scope="module")
def road_links(real_data):
    return R.load_road_links(region="d2n2")


def test_matcher_follows_bent_carriageway():
    # straight link 0,0 -> 10000,0; carriageway bends up to y=2000 in two sections; the
    # route = the two sections, so its length is 2 * sqrt(5000² + 2000²)
    links = _links([("M1", [(0, 0), (10000, 0)])])
    secs = _sections([("M1", [(0, 0), (5000, 2000)], False), ("M1", [(5000, 2000), (10000, 0)], False)])
    out = R.match_link_geometry(links, secs)
    assert out["geometry_source"].iloc[0] == "hapms"
    assert out["length_km"].iloc[0] == pytest.approx(2 * math.hypot(5000, 2000) / 1000, abs=1e-9)
    assert out["length_km"].iloc[0] >= 10.0


def test_matcher_ends_at_the_junctions_and_trims_the_carriageway():
    # carriageway runs beyond both ends and 100 m to the side: junction -> 100 m across -> 10 km -> 100 m back
    links = _links([("A38", [(0, 0), (10000, 0)])])
    secs = _sections([("A38", [(-3000, 100), (13000, 100)], False)])
    g = R.match_link_geometry(links, secs)
    assert g["length_km"].iloc[0] == pytest.approx((100 + 10000 + 100) / 1000)
    assert g.geometry.iloc[0].coords[0] == (0.0, 0.0) and g.geometry.iloc[0].coords[-1] == (10000.0, 0.0)


def test_matcher_ignores_other_roads_wrong_direction_and_far_sections():
    links = _links([("M1", [(0, 0), (10000, 0)]), ("M1", [(10000, 50), (0, 50)]), ("A1", [(0, 0), (10000, 0)])])
    secs = _sections([
        ("M1", [(0, 0), (5000, 2000)], False), ("M1", [(5000, 2000), (10000, 0)], False),  # eastbound, bent
        ("M6", [(0, 10), (10000, 10)], False),                                                # another road
        ("A1", [(0, 20000), (10000, 20000)], False),                                          # right road, 20 km away
    ])
    g = R.match_link_geometry(links, secs)
    assert g["geometry_source"].tolist() == ["hapms", "straight", "straight"]
    # the westbound link may not use the eastbound carriageway: straight line, its own length
    assert g["length_km"].tolist()[1:] == pytest.approx([10.0, 10.0])


def test_matcher_reverses_two_way_single_carriageway():
    links = _links([("A52", [(10000, 0), (0, 0)])])
    secs = _sections([("A52", [(0, 0), (5000, 1000), (10000, 0)], True)])  # digitised eastbound, two-way
    g = R.match_link_geometry(links, secs)
    assert g["geometry_source"].iloc[0] == "hapms"
    assert g["length_km"].iloc[0] == pytest.approx(2 * math.hypot(5000, 1000) / 1000)
    assert g.geometry.iloc[0].coords[0] == (10000.0, 0.0)


def test_matcher_refuses_a_long_detour():
    links = _links([("M1", [(0, 0), (2000, 0)])])
    secs = _sections([("M1", [(0, 0), (1000, 3000), (2000, 0)], False)])  # 6.3 km for a 2 km link
    g = R.match_link_geometry(links, secs)
    assert g["geometry_source"].iloc[0] == "straight" and g["length_km"].iloc[0] == pytest.approx(2.0)


def test_self_loops_dropped_and_road_class():
    df = pd.DataFrame({"from_node": [1, 2, 3], "to_node": [2, 2, 1]})
    assert R.drop_self_loops(df).index.tolist() == [0, 2]
    roads = pd.Series(["M1", "A1(M)", "A38", "A627(M)", "A1M", "M180", None])
    assert R.road_class_of(roads).tolist() == ["motorway", "motorway", "trunk", "motorway", "motorway", "motorway", "trunk"]
    assert R.route_key(pd.Series(["A1(M)", "A1M", "M1", "A38"])).tolist() == ["A1", "A1", "M1", "A38"]


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
    nodes = R.load_road_nodes(region="d2n2")
    assert set(g["from_node"]) | set(g["to_node"]) == set(nodes.index)


def test_srn_self_loops_removed_nationally(real_data):
    raw = R._srn_raw()
    loops = int((raw["StartCluster"] == raw["EndCluster"]).sum())
    assert loops == 84
    assert len(R._srn_links()) == len(raw) - loops == 2388


def test_matcher_takes_each_link_on_its_own_when_matching_many_at_once():
    """The routes of all links are built and checked together: each link's answer is the one it
    gets alone (a trimmed bend, a refused detour, a refused loop back, a trimmed straight)."""
    rows_links = [("M1", [(0, 0), (10000, 0)]), ("M6", [(0, 5000), (2000, 5000)]),
                  ("A38", [(0, 9000), (4000, 9000)]), ("A52", [(0, 14000), (10000, 14000)])]
    rows_secs = [("M1", [(-2000, 0), (5000, 2000), (12000, 0)], False),          # bent, beyond both ends
                 ("M6", [(0, 5000), (1000, 8000), (2000, 5000)], False),          # 6.3 km for 2 km: refused
                 ("A38", [(0, 9000), (3000, 9000), (1000, 9100), (4000, 9100)], False),  # runs 2 km back: refused
                 ("A52", [(-500, 14100), (10500, 14100)], False)]                  # straight, 100 m aside
    together = R.match_link_geometry(_links(rows_links), _sections(rows_secs))
    for i, (link, sec) in enumerate(zip(rows_links, rows_secs)):
        alone = R.match_link_geometry(_links([link]), _sections([sec]))
        assert together["geometry_source"].iloc[i] == alone["geometry_source"].iloc[0]
        assert together.geometry.iloc[i].equals_exact(alone.geometry.iloc[0], 0.0)
    assert together["geometry_source"].tolist() == ["hapms", "straight", "straight", "hapms"]
    bend = together.geometry.iloc[0]
    assert bend.coords[0] == (0.0, 0.0) and bend.coords[-1] == (10000.0, 0.0)
    assert (5000.0, 2000.0) in list(bend.coords)  # the bend's vertex kept, the sections' ends beyond the junctions trimmed
    assert together["length_km"].iloc[3] == pytest.approx(10.2)


# ----------------------------------------------------------------------------- major roads (DfT 2013)


def test_node_endpoints_snap_ends_within_reach_into_one_junction():
    # three links meeting at (1000, 0), one end digitised 8 m off; a fourth end 60 m away stays apart
    starts = np.array([[0.0, 0.0], [1000.0, 0.0], [1008.0, 0.0], [2000.0, 60.0]])
    ends = np.array([[1000.0, 0.0], [1000.0, 1000.0], [2000.0, 0.0], [3000.0, 60.0]])
    fr, to, xy = R.node_endpoints(starts, ends, snap_m=20.0)
    assert fr[1] == fr[2] == to[0]  # (1000, 0) and (1008, 0) are one junction
    assert to[2] != fr[3]  # 60 m apart: two junctions
    assert xy[to[0]].tolist() == pytest.approx([1000 + 8 / 3, 0.0])  # the mean of its three ends
    assert len(xy) == 6 and sorted(set(fr) | set(to)) == list(range(6))


def test_urban_share_reads_the_population_grid(real_data):
    from lisgeo.layers.people import read_population_grid

    # a line across the middle of Nottingham (dense cells) and one over empty moorland near Kinder Scout
    town = shapely.LineString([(455000, 339500), (458000, 339500)])
    moor = shapely.LineString([(408000, 388000), (410000, 388000)])
    share = R.urban_share(np.array([town, moor]), threshold_per_km2=1500.0)
    assert share[0] == 1.0 and share[1] == 0.0
    arr, _, _ = read_population_grid(bounds=(455000, 339000, 458000, 340000))
    assert (arr > 1500).all()
    # from the city centre east into the Vale of Belvoir: part town, part country
    out = R.urban_share(np.array([shapely.LineString([(455000, 339500), (475000, 339500)])]), threshold_per_km2=1500.0)
    assert 0.1 < out[0] < 0.6


@pytest.fixture(scope="module")
def major(real_data):
    return R.load_major_roads(region=None), R.load_major_road_nodes(region=None)


def test_major_roads_national(major):
    links, nodes = major
    assert len(links) == 18012 and links.crs.to_epsg() == 27700 and links.index.is_unique
    assert set(links["road_class"].unique()) == {"motorway", "trunk", "a_road"}
    assert links["road"].str.match(r"^(A|M)\d").all()
    # every motorway is a dual carriageway; trunk links follow (or lie on) the SRN's carriageways
    assert (links.loc[links["road_class"] == "motorway", "carriageway"] == "dual").all()
    assert links.loc[links["road_class"] == "trunk", "carriageway"].isin(["dual", "single"]).all()
    assert links.loc[links["road_class"] == "a_road", "carriageway"].isna().all()
    hap = links["geometry_source"] == "hapms"
    assert 1800 < hap.sum() < 2300 and links.loc[hap, "trunk"].all()
    # lengths: never shorter than the chord; the chord x the detour elsewhere
    assert (links["length_km"] >= links["chord_km"] - 1e-9).all()
    dft = links[~hap]
    ratio = (dft["length_km"] / dft["chord_km"]).round(6)
    assert set(ratio.unique()) <= {1.05, 1.07}
    # junctions: the links meet, one network for almost all of Great Britain
    assert set(links["from_node"]) | set(links["to_node"]) == set(nodes.index)
    assert links["urban_share"].between(0, 1).all()
    # the M1 between junctions runs on the motorway speed; a Peak District A road is rural
    a6 = links[(links["road"] == "A6") & (links.geometry.centroid.x.between(415000, 425000)) & (links.geometry.centroid.y.between(365000, 372000))]
    assert len(a6) and (a6["urban_share"] < 0.5).any()


def test_major_roads_of_a_region_keep_the_national_ids(major, real_data):
    links, nodes = major
    d = R.load_major_roads(region="d2n2")
    assert set(d.index) <= set(links.index) and 1500 < len(d) < 4000
    pd.testing.assert_frame_equal(pd.DataFrame(d.drop(columns="geometry")), pd.DataFrame(links.loc[d.index].drop(columns="geometry")))
    # the A6 through Matlock and Bakewell, the A52, the M1 and A38 are all in D2N2's network
    for road in ("A6", "A52", "M1", "A38", "A606", "A53"):
        assert (d["road"] == road).any(), road
