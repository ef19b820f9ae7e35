"""Stop layers: active NaPTAN stops with their travel mode, and airports.

* ``stops`` – active NaPTAN access points with a travel mode (bus, tram, rail, air ...).
* ``airports`` – East Midlands Airport from NaPTAN.

All outputs are in EPSG:27700.

NaPTAN is published per ATCO area (a county, a unitary authority or a metropolitan county, e.g.
Cornwall ``080``, South Yorkshire ``370``) plus the national areas (rail ``910``, air ``920``,
ferry ``930``, tram and metro ``940``, automated people movers ``945``). A region's stops come
from the areas of every district within the stops' reach of it (:func:`atco_areas`, from the
district's upper-tier authority or metropolitan county) and the national ones. The data folder
lacks three areas (their files are over 4 MiB): Greater Manchester ``180``, West Yorkshire
``450`` and Greater London ``490`` (:data:`MISSING_AREAS`). Where a region's reach meets one of
them the layer says so in ``attrs["missing_areas"]`` (area -> name) and
``attrs["missing_districts"]`` (the districts those areas cover, within reach), so that a count of
stops near them (the scores' ``stops_800m``) is left missing rather than counted short.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Iterable

import geopandas as gpd
import numpy as np
import pandas as pd

from ..catalog import list_datasets, resolve_dataset
from ..checks import BNG, check_frame
from ..errors import DataFormatError, MissingColumnError, UnknownNameError
from ._registry import finish_layer, register_layer
from ..assumptions import reach_km
from ..regions import get_region
from .boundaries import region_reach

__all__ = ["load_stops", "load_airports", "stop_mode", "naptan_to_stops", "STOP_TYPE_MODES", "atco_areas",
           "stop_areas", "MISSING_AREAS"]

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

#: Every catalogued NaPTAN area file (``naptan_<ATCO area>``).
_NAPTAN = sorted(d.name for d in list_datasets() if re.fullmatch(r"naptan_\d{3}", d.name))
#: The national ATOC areas (rail, air, ferry, tram and metro, people movers): in every region's stops.
NATIONAL_AREAS = ("910", "920", "930", "940", "945")
#: ATCO areas that NaPTAN publishes but the data folder lacks (their files are over 4 MiB).
MISSING_AREAS = {"180": "Greater Manchester", "450": "West Yorkshire", "490": "Greater London"}
#: Metropolitan counties and London: district code -> ATCO area (their districts are their own
#: upper tier, so the county is not in the district lookup).
_METROPOLITAN = {
    **{f"E080000{i:02d}": "180" for i in range(1, 11)},                       # Greater Manchester
    **{f"E080000{i:02d}": "280" for i in range(11, 16)},                      # Merseyside
    **{c: "370" for c in ("E08000016", "E08000017", "E08000018", "E08000019", "E08000038", "E08000039")},  # South Yorkshire
    **{c: "410" for c in ("E08000020", "E08000021", "E08000022", "E08000023", "E08000024", "E08000037")},  # Tyne and Wear
    **{f"E080000{i:02d}": "430" for i in range(25, 32)},                      # West Midlands
    **{f"E080000{i:02d}": "450" for i in range(32, 37)},                      # West Yorkshire
}
#: Upper-tier authorities NaPTAN names otherwise (upper-tier code -> ATCO areas).
_UPPER_TIER = {
    "E06000063": ("090",), "E06000064": ("090",),          # Cumberland, Westmorland and Furness: Cumbria
    "E06000058": ("128", "129", "120"),                    # Bournemouth, Christchurch and Poole (Christchurch was Dorset's)
    "E06000053": ("080",),                                 # Isles of Scilly: in Cornwall's area
    "E06000047": ("130",),                                 # County Durham: "Durham"
}


@lru_cache(maxsize=1)
def _atco_names() -> dict[str, str]:
    """English ATCO areas: normalised name -> area code (from NaPTAN's own table, dataset naptan_docs)."""
    from ..regions import _norm

    path = next(p for p in resolve_dataset("naptan_docs") if p.name == "local_authorities.csv")
    df = pd.read_csv(path, dtype=str)
    df = df[~df["region"].isin(["Scotland", "Wales"])]
    return {_norm(n): str(c).zfill(3) for c, n in zip(df["atcoCodePrefix"], df["localAuthorityName"])}


def atco_areas(lad_code: str) -> tuple[str, ...]:
    """The ATCO area(s) of NaPTAN holding the stops of an English district: its metropolitan county's,
    London's (490), or its upper-tier authority's, matched by name (:func:`lisgeo.regions._norm`:
    "&"/"and", ", City of"). Every district of England has one (tested)."""
    from ..regions import _districts, _norm, successor

    code = successor(lad_code) or lad_code
    if code.startswith("E09"):
        return ("490",)
    if code in _METROPOLITAN:
        return (_METROPOLITAN[code],)
    utla = _districts().utla.get(code)
    if utla is None:
        raise UnknownNameError("district code", lad_code, [], "`lisgeo regions list --kind district` lists England's districts")
    if utla[0] in _UPPER_TIER:
        return _UPPER_TIER[utla[0]]
    area = _atco_names().get(_norm(utla[1]))
    if area is None:
        raise DataFormatError(f"no NaPTAN ATCO area is named like {utla[1]!r} (the upper tier of {lad_code}); "
                              "add it to _UPPER_TIER in lisgeo/layers/stops.py")
    return (area,)


#: How much farther than the stops' reach a generalised district outline is looked for (km): the
#: May 2024 outlines are ultra generalised (about 500 m), so a district a little beyond is taken too.
_OUTLINE_SLACK_KM = 2.0


def stop_areas(region="d2n2", buffer_km: float | None = None) -> tuple[list[str], dict[str, str], list[str]]:
    """What the stops of ``region`` within ``buffer_km`` are read from: (the catalogued NaPTAN
    datasets, the missing areas met {area: name}, the districts of the missing areas within reach)."""
    reg = get_region(region)
    reach = region_reach(reg, reach_km("stops", buffer_km) + _OUTLINE_SLACK_KM)
    from ..regions import district_outlines

    d = district_outlines()
    near = set(d.loc[d.intersects(reach), "LADCD"]) | set(reg.lad_codes)
    areas: dict[str, list[str]] = {}
    for c in sorted(near):
        for a in atco_areas(c):
            areas.setdefault(a, []).append(c)
    have = set(_NAPTAN)
    datasets = [f"naptan_{a}" for a in sorted(areas) if f"naptan_{a}" in have]
    datasets += [f"naptan_{a}" for a in NATIONAL_AREAS if f"naptan_{a}" in have]
    missing = {a: MISSING_AREAS.get(a, f"ATCO area {a}") for a in sorted(areas) if f"naptan_{a}" not in have}
    missing_districts = sorted(c for a in missing for c in areas[a])
    return datasets, missing, missing_districts


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
                datasets=[*_NAPTAN, "naptan_docs", "lad2024_boundaries"])
def load_stops(*, region="d2n2", buffer_km: float | None = None, modes: Iterable[str] | None = None) -> gpd.GeoDataFrame:
    """Active NaPTAN stops within ``buffer_km`` of ``region``, indexed by ATCO code.

    ``modes`` restricts to some of "bus", "tram", "rail", "air", "coach", "ferry", "other".
    ``LADCD`` is the region district containing the stop (NA in the buffer outside it).
    Stops come from the ATCO areas of every district within reach and the national areas
    (:func:`stop_areas`); where one of them is missing from the data (Greater Manchester, West
    Yorkshire, Greater London: :data:`MISSING_AREAS`) ``attrs["missing_areas"]`` names it and
    ``attrs["missing_districts"]`` lists its districts within reach: stops there are not in the layer.
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
    datasets, missing, missing_districts = stop_areas(region, buffer_km)
    parts = []
    for ds in datasets:
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
                      geom_types=POINT, unique="atco_code", allow_empty=modes is not None or bool(missing))
    gdf = finish_layer(gdf, name="stops", datasets=datasets)
    gdf.attrs["missing_areas"] = missing
    gdf.attrs["missing_districts"] = missing_districts
    return gdf


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
