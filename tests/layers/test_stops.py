"""Stop layers: NaPTAN stops and airports."""

from __future__ import annotations


import numpy as np
import pandas as pd
import pytest
import shapely

from lisgeo.errors import UnknownNameError
import lisgeo.layers.stops as S

BNG = "EPSG:27700"


# ----------------------------------------------------------------------------- unit tests


def test_stop_type_mapping():
    codes = pd.Series(["BCT", "BCS", "BCQ", "BST", "PLT", "TMU", "MET", "RLY", "RSE", "RPL", "AIR", "GAT", "FTD", "TXR", "XYZ"])
    assert S.stop_mode(codes).tolist() == ["bus"] * 4 + ["tram"] * 3 + ["rail"] * 3 + ["air"] * 2 + ["ferry", "other", "other"]


def test_inactive_stops_dropped_and_coordinates():
    raw = pd.DataFrame({
        "ATCOCode": ["a", "b", "c"], "CommonName": ["A", "B", "C"], "StopType": ["BCT", "BCT", "PLT"],
        "Status": ["active", "inactive", "active"],
        "Easting": [435271.0, 1.0, np.nan], "Northing": [335904.0, 1.0, np.nan],
        "Longitude": [-1.476868, 0.0, -1.476868], "Latitude": [52.919422, 0.0, 52.919422],
    })
    s = S.naptan_to_stops(raw)
    assert s["atco_code"].tolist() == ["a", "c"]
    assert s["mode"].tolist() == ["bus", "tram"]
    assert (s.geometry.iloc[0].x, s.geometry.iloc[0].y) == (435271.0, 335904.0)
    # the lon/lat fallback lands within a few metres of the same published point
    assert s.geometry.iloc[1].distance(s.geometry.iloc[0]) < 5


def test_unknown_mode_refused():
    with pytest.raises(UnknownNameError):
        S.load_stops(region="d2n2", modes=["hovercraft"])


def test_stops_derby_bus_count_and_tram(real_data):
    from lisgeo.catalog import resolve_dataset
    from lisgeo.layers.boundaries import load_districts

    stops = S.load_stops(region="d2n2")
    # independent count: every catalogued NaPTAN file, active bus-type stops whose published
    # Easting/Northing fall inside the Derby district polygon. The layer's LADCD is spatial, so
    # the check is spatial too; AdministrativeAreaCode would miscount stops on the city edge.
    derby = load_districts(region=["E06000015"]).geometry.iloc[0]
    n = 0
    for ds in S._NAPTAN:
        raw = pd.read_csv(resolve_dataset(ds)[0], usecols=["StopType", "Status", "Easting", "Northing"], low_memory=False)
        raw = raw[(raw["Status"] == "active") & raw["StopType"].isin(["BCT", "BCS", "BCQ", "BST", "BCE"])]
        n += int(shapely.contains_xy(derby, raw["Easting"].to_numpy(float), raw["Northing"].to_numpy(float)).sum())
    got = int(((stops["LADCD"] == "E06000015") & (stops["mode"] == "bus")).sum())
    assert got == n == 1278
    notts = stops[stops["LADCD"] == "E06000018"]["mode"].value_counts()
    assert notts["tram"] > 0 and notts["bus"] > 0 and notts["rail"] > 0
    trams = S.load_stops(region="d2n2", modes=["tram"])
    assert set(trams["mode"]) == {"tram"}


def test_airports(real_data):
    a = S.load_airports()
    assert a.index.tolist() == ["ema"] and a.loc["ema", "iata"] == "EMA"
    # the NaPTAN airport entrance lies beside the terminal in North West Leicestershire
    assert a.geometry.iloc[0].distance(shapely.Point(445255, 325694)) < 200
