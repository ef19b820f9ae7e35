"""Connectivity measures on hand-placed points (BNG metres)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point, Polygon

from lisgeo.errors import GeometryError, LisgeoError, MissingColumnError
from lisgeo.measures.connectivity import digital_score, rail_trains_nearest, stops_within

BNG = "EPSG:27700"


@pytest.fixture
def zones():
    # two zone centroids 10 km apart
    return gpd.GeoDataFrame({"LSOA21CD": ["E01000001", "E01000002"]}, geometry=[Point(450000, 340000), Point(460000, 340000)], crs=BNG, index=["E01000001", "E01000002"])


@pytest.fixture
def stops():
    # distances from zone 1 (450000, 340000): s1 100 m, s2 800 m exactly (inclusive), s3 801 m, s4 tram 500 m,
    # s5 rail 10 m (not counted by default); zone 2 has s6 bus at 799.9 m
    pts = [(450100, 340000), (450000, 340800), (449199, 340000), (450300, 340400), (450010, 340000), (460000, 340799.9)]
    return gpd.GeoDataFrame(
        {"atco_code": [f"s{i}" for i in range(1, 7)], "mode": ["bus", "bus", "bus", "tram", "rail", "bus"]},
        geometry=[Point(p) for p in pts], crs=BNG,
    )


def test_stops_within_counts(zones, stops):
    out = stops_within(zones, stops)
    # zone 1: s1 (100 m), s2 (800 m, inclusive), s4 tram (500 m) = 3 ; s3 is 801 m, s5 is rail
    # zone 2: s6 (799.9 m) = 1
    assert out.name == "stops_800m"
    assert out.to_dict() == {"E01000001": 3, "E01000002": 1}
    assert stops_within(zones, stops, modes=None).tolist() == [4, 1]  # + rail s5
    assert stops_within(zones, stops, modes=("bus",), radius_m=200).tolist() == [1, 0]
    assert stops_within(zones, stops, radius_m=400, name="stops_400m").name == "stops_400m"


def test_stops_within_reprojects_and_handles_empty(zones, stops):
    # lon/lat zones are reprojected (the 800 m edge case moves by millimetres, so test at 600 m: s1, s4)
    wgs = zones.to_crs("EPSG:4326")
    assert stops_within(wgs, stops, radius_m=600).tolist() == [2, 0]
    assert stops_within(zones, stops.iloc[:0]).tolist() == [0, 0]


def test_stops_within_bad_input(zones, stops):
    poly = gpd.GeoDataFrame(geometry=[Polygon([(0, 0), (1, 0), (1, 1)])], crs=BNG)
    with pytest.raises(GeometryError):
        stops_within(poly, stops)
    with pytest.raises(LisgeoError, match="unknown stop mode"):
        stops_within(zones, stops, modes=("hovercraft",))
    with pytest.raises(MissingColumnError):
        stops_within(zones, stops.drop(columns="mode"))


@pytest.fixture
def stations():
    # AAA 1 km east of zone 1 with 40 trains, BBB 3 km west of zone 1 with 200 trains, CCC 2 km from zone 2 with 10
    return gpd.GeoDataFrame(
        {"crs": ["AAA", "BBB", "CCC"], "daily_trains": [40, 200, 10]},
        geometry=[Point(451000, 340000), Point(447000, 340000), Point(462000, 340000)], crs=BNG, index=["AAA", "BBB", "CCC"],
    )


def test_rail_trains_nearest_crowfly(zones, stations):
    out = rail_trains_nearest(zones, stations)
    # zone 1: AAA at 1 km (40 trains) ; zone 2: CCC at 2 km (AAA is 9 km) -> 10 trains
    assert out["rail_nearest_crs"].tolist() == ["AAA", "CCC"]
    assert out["rail_trains_nearest"].tolist() == [40.0, 10.0]
    assert out["rail_nearest_km"].tolist() == pytest.approx([1.0, 2.0])
    assert (out["rail_nearest_method"] == "crowfly").all()


def test_rail_trains_nearest_by_network(zones, stations):
    # network times say zone 1 reaches BBB faster (fast road) and zone 2 reaches nothing
    tt = pd.DataFrame({"AAA": [12.0, np.nan], "BBB": [6.0, np.nan], "CCC": [30.0, np.nan]}, index=zones.index)
    out = rail_trains_nearest(zones, stations, tt=tt)
    assert out.loc["E01000001", "rail_nearest_crs"] == "BBB"
    assert out.loc["E01000001", "rail_trains_nearest"] == 200.0
    assert out.loc["E01000001", "rail_nearest_km"] == pytest.approx(3.0)
    assert pd.isna(out.loc["E01000002", "rail_nearest_crs"]) and np.isnan(out.loc["E01000002", "rail_trains_nearest"])
    with pytest.raises(LisgeoError, match="not stations"):
        rail_trains_nearest(zones, stations, tt=tt.rename(columns={"AAA": "rail:AAA"}))


def test_digital_score_orientation():
    d = pd.DataFrame({"digital_indicator": [0.75, -0.43, 0.0]}, index=["a", "b", "c"])
    # deprivation indicator: higher = worse, so the score flips sign: b (fast broadband) is best
    s = digital_score(d)
    assert s.to_dict() == {"a": -0.75, "b": 0.43, "c": -0.0}
    assert s.idxmax() == "b"
    assert digital_score(d, higher_is_better=True).idxmax() == "a"
    with pytest.raises(MissingColumnError):
        digital_score(d, column="speed")
