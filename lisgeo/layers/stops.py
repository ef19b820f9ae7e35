"""Stop layers: active NaPTAN stops with their travel mode, and airports.

* ``stops`` – active NaPTAN access points with a travel mode (bus, tram, rail, air ...).
* ``airports`` – East Midlands Airport from NaPTAN.

All outputs are in EPSG:27700.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Iterable

import geopandas as gpd
import numpy as np
import pandas as pd

from ..catalog import resolve_dataset
from ..checks import BNG, check_frame
from ..errors import DataFormatError, MissingColumnError, UnknownNameError
from ._registry import finish_layer, register_layer
from ..assumptions import reach_km
from .boundaries import region_reach

__all__ = ["load_stops", "load_airports", "stop_mode", "naptan_to_stops", "STOP_TYPE_MODES"]

POINT = ("Point",)

# --------------------------------------------------------------------------------------
# NaPTAN stops and airports
# --------------------------------------------------------------------------------------

#: NaPTAN StopType -> mode (NaPTAN 2.x stop classification).
STOP_TYPE_MODES: dict[str, str] = {
    # bus and coach: on-street stop, station bay/stand, variable bay, station access area, station entrance
    "BCT": "bus", "BCS": "bus", "BCQ": "bus", "BST": "bus", "BCE": "bus",
    # tram, metro, underground: platform, access area, entrance
    "PLT": "tram", "MET": "tram", "TMU": "tram",
    # rail: access area, entrance, platform
    "RLY": "rail", "RSE": "rail", "RPL": "rail",
    # air: airport entrance, airside area
    "AIR": "air", "GAT": "air",
    # ferry and port: terminal entrance, berth, access area
    "FTD": "ferry", "FER": "ferry", "FBT": "ferry",
    # taxi ranks, lifts and cable cars
    "TXR": "other", "STR": "other", "LCE": "other", "LCB": "other", "LPL": "other",
}

_NAPTAN = ["naptan_100", "naptan_109", "naptan_260", "naptan_269", "naptan_330", "naptan_339",
           "naptan_910", "naptan_920", "naptan_940"]
_NAPTAN_COLS = ["ATCOCode", "CommonName", "Indicator", "LocalityName", "StopType", "Easting", "Northing",
                "Longitude", "Latitude", "Status"]


def stop_mode(stop_type: pd.Series) -> pd.Series:
    """Map NaPTAN ``StopType`` codes to a mode (see :data:`STOP_TYPE_MODES`); unknown codes -> "other"."""
    return stop_type.astype("string").str.upper().map(STOP_TYPE_MODES).fillna("other").astype("string")


def naptan_to_stops(df: pd.DataFrame, *, name: str = "NaPTAN stops") -> gpd.GeoDataFrame:
    """Active NaPTAN rows -> stop points [atco_code, name, stop_type, mode, geometry] (EPSG:27700).

    Keeps rows whose ``Status`` is "active" (case-insensitive; rows without a status are
    dropped). Easting/Northing are used when present, else Longitude/Latitude.
    """
    df = check_frame(df, name=name, required=["ATCOCode", "CommonName", "StopType", "Status"], allow_empty=True)
    df = df[df["Status"].astype("string").str.strip().str.casefold().eq("active").fillna(False)]
    e = pd.to_numeric(df.get("Easting"), errors="coerce") if "Easting" in df else pd.Series(np.nan, index=df.index)
    n = pd.to_numeric(df.get("Northing"), errors="coerce") if "Northing" in df else pd.Series(np.nan, index=df.index)
    has_en = (e.notna() & n.notna() & (e > 0) & (n > 0)).to_numpy()
    x, y = e.to_numpy(float).copy(), n.to_numpy(float).copy()
    if (~has_en).any():
        if not {"Longitude", "Latitude"} <= set(df.columns):
            raise MissingColumnError(f"{name}: rows without Easting/Northing need Longitude and Latitude columns")
        ll = gpd.GeoSeries(gpd.points_from_xy(df["Longitude"].to_numpy(float)[~has_en], df["Latitude"].to_numpy(float)[~has_en]), crs="EPSG:4326").to_crs(BNG)
        x[~has_en], y[~has_en] = ll.x.to_numpy(), ll.y.to_numpy()
    ok = np.isfinite(x) & np.isfinite(y)
    df, x, y = df[ok], x[ok], y[ok]
    gdf = gpd.GeoDataFrame({
        "atco_code": df["ATCOCode"].astype("string").to_numpy(),
        "name": df["CommonName"].astype("string").to_numpy(),
        "stop_type": df["StopType"].astype("string").to_numpy(),
        "mode": stop_mode(df["StopType"]).to_numpy(),
    }, geometry=gpd.points_from_xy(x, y), crs=BNG)
    return gdf


@lru_cache(maxsize=16)
def _naptan_file(dataset: str) -> gpd.GeoDataFrame:
    path = resolve_dataset(dataset)[0]
    df = pd.read_csv(path, usecols=lambda c: c in _NAPTAN_COLS, dtype={"ATCOCode": "string", "StopType": "string", "Status": "string"}, low_memory=False)
    return naptan_to_stops(df, name=f"NaPTAN {dataset}")


_MODES = ("bus", "tram", "rail", "air", "coach", "ferry", "other")


@register_layer("stops", family="transport",
                description="Active NaPTAN access points (bus, tram, rail, air) within buffer_km (default 5) of the region: atco_code, name, stop_type, mode, LADCD",
                datasets=_NAPTAN)
def load_stops(*, region="d2n2", buffer_km: float | None = None, modes: Iterable[str] | None = None) -> gpd.GeoDataFrame:
    """Active NaPTAN stops within ``buffer_km`` of ``region``, indexed by ATCO code.

    ``modes`` restricts to some of "bus", "tram", "rail", "air", "coach", "ferry", "other".
    ``LADCD`` is the region district containing the stop (NA in the buffer outside it).
    Bus stops come from the ATCO areas of Derbyshire, Derby, Leicestershire, Leicester,
    Nottinghamshire and Nottingham only, so in the buffer beyond those counties they are incomplete.
    NaPTAN has no separate coach StopType: coach stops are "bus".
    """
    if modes is not None:
        modes = [modes] if isinstance(modes, str) else list(modes)
        bad = [m for m in modes if m not in _MODES]
        if bad:
            raise UnknownNameError("mode", bad[0], list(_MODES))
    from .boundaries import load_districts

    districts = load_districts(region=region)
    reach = region_reach(region, reach_km("stops", buffer_km))
    parts = []
    for ds in _NAPTAN:
        s = _naptan_file(ds)
        if modes is not None:
            s = s[s["mode"].isin(modes)]
        parts.append(s[s.intersects(reach)])
    gdf = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs=BNG)
    gdf = gdf.drop_duplicates("atco_code")
    j = gpd.sjoin(gdf, districts[["LADCD", "geometry"]], predicate="within", how="left")
    j = j[~j.index.duplicated()]
    gdf["LADCD"] = j["LADCD"].astype("string")
    gdf = gdf.set_index("atco_code", drop=False)
    gdf.index.name = None
    gdf = check_frame(gdf[["atco_code", "name", "stop_type", "mode", "LADCD", "geometry"]], name="stops",
                      geom_types=POINT, unique="atco_code", allow_empty=modes is not None)
    return finish_layer(gdf, name="stops", datasets=_NAPTAN)


_AIRPORTS = [
    # airport_id, name, iata, NaPTAN dataset, ATCO code (AIR = airport entrance)
    ("ema", "East Midlands Airport", "EMA", "naptan_260", "2600EMA10"),
]


@register_layer("airports", family="transport", description="East Midlands Airport (NaPTAN AIR entrance): airport_id, name, iata",
                datasets=["naptan_260", "naptan_920"])
def load_airports(*, region="d2n2") -> gpd.GeoDataFrame:
    """Airports of interest (East Midlands Airport), located by their NaPTAN airport entrance.

    ``region`` is accepted for a uniform interface; the airport is returned whatever it is
    (EMA serves D2N2 and Leicestershire alike). ``atco_code`` is the NaPTAN AIR stop used.
    """
    rows = []
    for aid, name, iata, ds, atco in _AIRPORTS:
        s = _naptan_file(ds)
        hit = s[s["atco_code"] == atco]
        if hit.empty:
            raise DataFormatError(f"NaPTAN {ds} has no active stop {atco} for {name}; the dataset may have changed: run `lisgeo data verify`, or update _AIRPORTS in lisgeo/layers/stops.py")
        rows.append({"airport_id": aid, "name": name, "iata": iata, "atco_code": atco, "geometry": hit.geometry.iloc[0]})
    gdf = gpd.GeoDataFrame(rows, geometry="geometry", crs=BNG)
    gdf = gdf.set_index("airport_id", drop=False)
    gdf.index.name = None
    gdf = check_frame(gdf, name="airports", geom_types=POINT, unique="airport_id")
    return finish_layer(gdf, name="airports", datasets=["naptan_260"], extra_attribution="IATA code EMA")
