"""Rail layers: GB stations with their weekday trains, the links between them, the service patterns
and timetabled running times.

* ``rail_stations`` / ``rail_links`` – GB stations (CRS codes, davwheat/uk-railway-stations)
  with weekday trains from the Aquius GB rail dataset (January 2019 timetable).
* ``rail_patterns`` – service patterns (ordered calling stations) with their weekday trains.
* ``rail_segments`` / ``rail_dwells`` – timetabled running minutes between consecutive calls, per
  ordered pair of stations, and each station's mean dwell, from an ATOC CIF timetable (by default
  the national sample of 20 March 2020; :func:`rail_timetable` reads a planner's full one).

All outputs are in EPSG:27700; distances are kilometres.
"""

from __future__ import annotations

import itertools
import json
from functools import lru_cache
from typing import Iterable

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import shapely.ops

from ..catalog import resolve_dataset
from ..checks import BNG, check_frame, codes_in
from ..errors import DataFormatError
from ._registry import finish_layer, register_layer
from ..assumptions import reach_km
from .boundaries import region_reach

__all__ = ["load_rail_stations", "load_rail_links", "load_rail_patterns", "load_rail_segments", "load_rail_dwells", "rail_timetable",
           "weekday_segments", "sunday_only", "read_rail_operators", "match_aquius_stations", "aquius_train_pairs",
           "aquius_service_patterns", "pattern_pair_trains"]

LINE = ("LineString",)
POINT = ("Point",)

# --------------------------------------------------------------------------------------
# Rail: stations (CRS) and weekday trains (Aquius, January 2019)
# --------------------------------------------------------------------------------------

#: Aquius products that are not National Rail (excluded from rail links).
_NOT_RAIL = {"London Underground", "Tyne & Wear Metro", "Stena Line"}

#: Aquius names -> davwheat names, for stations whose names differ beyond punctuation and a
#: county qualifier (checked by hand; each also passes the 2 km distance check).
_ALIASES = {
    "Edinburgh": "Edinburgh Waverley",
    "Newark North Gate": "Newark Northgate",
    "Letchworth": "Letchworth Garden City",
    "St Albans City": "St Albans",
    "Dunfermline Town": "Dunfermline City",
    "Farnborough (Main)": "Farnborough Main",
    "Newport (S Wales)": "Newport (South Wales)",
    "Penrith North Lakes": "Penrith",
    "Heathrow Terminals 1-3": "Heathrow Terminals 2 & 3 Rail",
    "Heathrow Terminal 4": "Heathrow Terminal 4 Rail",
}


def _norm_name(s: pd.Series) -> pd.Series:
    s = s.astype("string").str.casefold()
    s = s.str.replace("&", " and ", regex=False).str.replace(r"[-'’.]", " ", regex=True)
    return s.str.replace(r"\s+", " ", regex=True).str.strip()


def _strip_qualifier(s: pd.Series) -> pd.Series:
    return s.str.replace(r"\s*\(.*?\)\s*", " ", regex=True).str.replace(r"\s+", " ", regex=True).str.strip()


@lru_cache(maxsize=1)
def _stations_raw() -> gpd.GeoDataFrame:
    path = resolve_dataset("rail_stations")[0]
    df = pd.read_csv(path)
    df = check_frame(df, name="rail stations (stations.csv)", required=["stationName", "lat", "long", "crsCode"], unique="crsCode")
    gdf = gpd.GeoDataFrame({"crs": df["crsCode"].astype("string"), "name": df["stationName"].astype("string")},
                           geometry=gpd.points_from_xy(df["long"], df["lat"]), crs="EPSG:4326").to_crs(BNG)
    return gdf


@lru_cache(maxsize=1)
def _aquius() -> dict:
    path = resolve_dataset("aquius_rail")
    path = next(p for p in path if p.suffix == ".json")
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    if not {"node", "link", "reference"} <= set(data):
        raise DataFormatError(f"{path} is not an Aquius dataset (needs keys node, link, reference); delete it and run `lisgeo data fetch`")
    return data


def _aquius_nodes() -> gpd.GeoDataFrame:
    nodes = _aquius()["node"]
    names = [((n[2].get("r") or [{}])[0]).get("n") for n in nodes]
    return gpd.GeoDataFrame({"node": np.arange(len(nodes)), "aquius_name": pd.array(names, dtype="string")},
                            geometry=gpd.points_from_xy([n[0] for n in nodes], [n[1] for n in nodes]), crs="EPSG:4326").to_crs(BNG)


@lru_cache(maxsize=1)
def match_aquius_stations(*, max_distance_m: float = 2000.0) -> pd.DataFrame:
    """Match Aquius rail nodes to CRS codes by name (Aquius carries no codes).

    Stages, each only for nodes still unmatched and only where the name is unique on both
    sides: ``exact`` name; ``normalised`` (case, hyphens, apostrophes, "&"); ``qualifier``
    (a parenthesised county/area dropped, e.g. "Loughborough (Leics)"); ``alias`` (a short
    hand-checked table). Location is never used to *find* a match, only to *check* one: a
    name match more than ``max_distance_m`` from its station is rejected (``method="rejected"``).

    Returns one row per Aquius node: [node, aquius_name, crs, method, distance_m]; ``crs`` is
    NA for unmatched nodes (``method="unmatched"``).
    """
    nodes = _aquius_nodes()
    st = _stations_raw()
    crs = pd.Series(pd.NA, index=nodes.index, dtype="string")
    method = pd.Series("unmatched", index=nodes.index, dtype="string")

    def stage(left: pd.Series, right: pd.Series, label: str) -> None:
        todo = crs.isna()
        rmap = right[~right.duplicated(keep=False)]
        lkeys = left[todo]
        lkeys = lkeys[~left.duplicated(keep=False)[todo]]
        lookup = pd.Series(st["crs"].to_numpy(), index=right.to_numpy())[rmap.to_numpy()] if len(rmap) else pd.Series(dtype="string")
        lookup = lookup[~lookup.index.duplicated()]
        hit = lkeys[codes_in(lkeys, lookup.index)]
        crs.loc[hit.index] = lookup.loc[hit.to_numpy()].to_numpy()
        method.loc[hit.index] = label

    name_l, name_r = nodes["aquius_name"], st["name"]
    stage(name_l, name_r, "exact")
    stage(_norm_name(name_l), _norm_name(name_r), "normalised")
    stage(_strip_qualifier(_norm_name(name_l)), _strip_qualifier(_norm_name(name_r)), "qualifier")
    alias = name_l.map(lambda n: _ALIASES.get(n, pd.NA) if isinstance(n, str) else pd.NA).astype("string")
    stage(alias.fillna("\x00no alias"), name_r, "alias")

    dist = pd.Series(np.nan, index=nodes.index)
    ok = crs.notna()
    spos = pd.Series(np.arange(len(st)), index=st["crs"].to_numpy())
    spts = st.geometry.to_numpy()[spos.loc[crs[ok].to_numpy()].to_numpy()]
    dist[ok] = shapely.distance(nodes.geometry.to_numpy()[ok.to_numpy()], spts)
    far = dist > max_distance_m
    method[far] = "rejected"
    crs[far] = pd.NA
    # two Aquius nodes on one CRS: keep the nearer (the other stays unmatched, reported)
    tab = pd.DataFrame({"node": nodes["node"], "aquius_name": name_l, "crs": crs, "method": method, "distance_m": dist.round(0)})
    dup = tab["crs"].notna() & tab.sort_values("distance_m").duplicated("crs", keep="first").reindex(tab.index)
    tab.loc[dup, ["crs", "method"]] = [pd.NA, "duplicate"]
    return tab


def _aquius_services(data: dict, exclude_products=()):
    """Yield ``(link index, calls, trains per direction, split nodes, one_way, products)`` for every Aquius service
    with trains: non-stopping points (listed as both pickup-only and setdown-only) are dropped,
    a two-way service gives half its count to each direction, and services whose products are all
    in ``exclude_products`` are skipped."""
    products = [p.get("en-US", "") for p in data.get("reference", {}).get("product", [])]
    skip = {i for i, p in enumerate(products) if p in set(exclude_products)}
    for k, link in enumerate(data["link"]):
        prod, service, seq, props = link[0], link[1], link[2], (link[3] if len(link) > 3 else {})
        if prod and all(p in skip for p in prod):
            continue
        total = float(service[0]) if service else 0.0
        if total <= 0:
            continue
        up = set(props.get("u", props.get("pickup", [])))
        down = set(props.get("s", props.get("setdown", [])))
        calls = [n for n in seq if not (n in up and n in down)]
        one_way = bool(props.get("d", props.get("direction", 0)))
        split = set(props.get("t", props.get("split", [])))
        per_dir = total if one_way else total / 2.0
        yield k, calls, per_dir, split, one_way, prod


def aquius_train_pairs(data: dict, *, exclude_products: Iterable[str] = ()) -> pd.DataFrame:
    """Directed pairs of consecutive calling nodes with weekday trains, decoded from Aquius ``data``.

    Aquius links are ``[products, [services], nodes, properties]``. Services count vehicle
    journeys in *both* directions unless the link is one-way (property ``d``/``direction``),
    so a two-way link gives half its count to each direction. A node in both the pickup-only
    (``u``) and setdown-only (``s``) lists is a waypoint the trains pass without stopping, and
    is skipped. For a split portion (``t``: the nodes unique to that portion) only pairs
    touching its own nodes are counted (the common section is counted by its companion).

    Returns a DataFrame [from_node, to_node, trains] (node = index into ``data["node"]``),
    one row per pair occurrence (not yet aggregated).
    """
    fr, to, tr = [], [], []
    for _, calls, per_dir, split, one_way, _ in _aquius_services(data, exclude_products):
        for a, b in zip(calls[:-1], calls[1:]):
            if a == b or (split and a not in split and b not in split):
                continue
            fr.append(a); to.append(b); tr.append(per_dir)
            if not one_way:
                fr.append(b); to.append(a); tr.append(per_dir)
    return pd.DataFrame({"from_node": np.array(fr, dtype="int64"), "to_node": np.array(to, dtype="int64"), "trains": np.array(tr)})


@lru_cache(maxsize=1)
def _rail_links_gb() -> gpd.GeoDataFrame:
    match = match_aquius_stations()
    pairs = aquius_train_pairs(_aquius(), exclude_products=_NOT_RAIL)
    code = match["crs"]
    # unmatched calls are dropped from the sequence: trains then link the matched stations either side
    pairs = pairs.assign(from_crs=code.to_numpy()[pairs["from_node"].to_numpy()], to_crs=code.to_numpy()[pairs["to_node"].to_numpy()])
    n_lost = int((pairs["from_crs"].isna() | pairs["to_crs"].isna()).sum())
    pairs = _bridge_unmatched(pairs)
    agg = pairs.groupby(["from_crs", "to_crs"], as_index=False, sort=True)["trains"].sum()
    agg = agg[agg["from_crs"] != agg["to_crs"]]
    st = _stations_raw().set_index("crs")
    a = st.geometry.loc[agg["from_crs"].to_numpy()].to_numpy()
    b = st.geometry.loc[agg["to_crs"].to_numpy()].to_numpy()
    lines = shapely.linestrings(np.stack([shapely.get_coordinates(a), shapely.get_coordinates(b)], axis=1))
    gdf = gpd.GeoDataFrame({"from_crs": agg["from_crs"].astype("string").to_numpy(), "to_crs": agg["to_crs"].astype("string").to_numpy(),
                            "daily_trains": agg["trains"].round(2).to_numpy()}, geometry=lines, crs=BNG)
    gdf["length_km"] = gdf.geometry.length / 1000.0
    gdf.index = pd.Index(gdf["from_crs"] + "-" + gdf["to_crs"], dtype="string")
    gdf.attrs["pairs_touching_unmatched"] = n_lost
    return gdf[["from_crs", "to_crs", "daily_trains", "length_km", "geometry"]]


def _bridge_unmatched(pairs: pd.DataFrame) -> pd.DataFrame:
    """Replace runs of calls at unmatched nodes by a direct pair between the matched calls around them.

    Works on the pair list in generation order (each direction of each link is a chain
    a->b, b->c, ...), so a chain A->X->C with X unmatched becomes A->C.
    """
    out_f, out_t, out_tr = [], [], []
    f, t, tr = pairs["from_crs"].to_numpy(object), pairs["to_crs"].to_numpy(object), pairs["trains"].to_numpy()
    fn, tn = pairs["from_node"].to_numpy(), pairs["to_node"].to_numpy()
    pending = None  # (matched start crs, trains, last node) of a chain waiting for a matched end
    for i in range(len(pairs)):
        fa, tb = f[i], t[i]
        if pending is not None and (fn[i] != pending[2] or tr[i] != pending[1]):
            pending = None  # the chain broke (next link or other direction)
        if fa is not pd.NA and tb is not pd.NA:
            out_f.append(fa); out_t.append(tb); out_tr.append(tr[i])
            pending = None
        elif fa is not pd.NA and tb is pd.NA:
            pending = (fa, tr[i], tn[i])
        elif fa is pd.NA and pending is not None:
            if tb is not pd.NA:
                out_f.append(pending[0]); out_t.append(tb); out_tr.append(tr[i])
                pending = None
            else:
                pending = (pending[0], pending[1], tn[i])
    return pd.DataFrame({"from_crs": out_f, "to_crs": out_t, "trains": out_tr})


def _trains_by_station() -> pd.Series:
    links = _rail_links_gb()
    return links.groupby("from_crs")["daily_trains"].sum()


@register_layer("rail_stations", family="transport",
                description="GB rail stations (CRS) with weekday train departures (Aquius, Jan 2019)",
                datasets=["rail_stations", "aquius_rail"])
def load_rail_stations(*, region="d2n2", buffer_km: float | None = None) -> gpd.GeoDataFrame:
    """Rail stations within ``buffer_km`` of ``region`` (``region=None``: all GB), indexed by CRS code.

    ``daily_trains`` is the number of train departures on a weekday (January 2019 timetable,
    Aquius; a train calling in each direction counts once per direction); NaN where no Aquius
    station matched the station's name (``aquius_matched`` False, e.g. stations opened since).
    ``attrs["unmatched_aquius"]`` lists the Aquius calling nodes that found no CRS code.
    """
    if region is not None:
        # Great Britain's stations (through the layers cache: every network reads them, and the
        # trains are counted over all of GB anyway), cut to the reach: the same rows, in order
        from ._registry import load_layer

        gb = load_layer("rail_stations", region=None)
        gdf = gb[gb.intersects(region_reach(region, reach_km("stations", buffer_km)))]
        gdf = check_frame(gdf, name="rail_stations", geom_types=POINT, unique="crs")
        gdf.attrs = dict(gb.attrs)
        return gdf
    st = _stations_raw()
    trains = _trains_by_station()
    match = match_aquius_stations()
    matched = set(match["crs"].dropna())
    daily = st["crs"].map(trains).astype("float64").to_numpy(copy=True)
    am = st["crs"].isin(matched).to_numpy()
    daily[am & np.isnan(daily)] = 0.0  # matched, but no train stops there on a weekday
    gdf = st.assign(daily_trains=daily, aquius_matched=am)
    gdf = gdf.set_index("crs", drop=False)
    gdf.index.name = None
    gdf = check_frame(gdf[["crs", "name", "daily_trains", "aquius_matched", "geometry"]], name="rail_stations", geom_types=POINT, unique="crs")
    gdf.attrs["unmatched_aquius"] = match.loc[match["crs"].isna(), "aquius_name"].dropna().tolist()
    return finish_layer(gdf, name="rail_stations", datasets=["rail_stations", "aquius_rail"])


@register_layer("rail_links", family="transport",
                description="Directed rail links between consecutive calling stations with weekday trains (Aquius, Jan 2019); region=None is all GB",
                datasets=["rail_stations", "aquius_rail"])
def load_rail_links(*, region="d2n2", buffer_km: float | None = None) -> gpd.GeoDataFrame:
    """Directed links between consecutive calling stations: [from_crs, to_crs, daily_trains, length_km].

    ``daily_trains``: weekday trains in that direction (Aquius, January 2019; London
    Underground, Tyne & Wear Metro and ferries excluded). ``length_km``: straight line between
    the stations. ``region=None`` gives all of GB, which routing needs; otherwise
    links with either end within ``buffer_km`` of the region. Index ``"FROM-TO"``.
    """
    gdf = _rail_links_gb()
    if region is not None:
        reach = region_reach(region, reach_km("stations", buffer_km))
        st = _stations_raw().set_index("crs")
        inside = set(st.index[st.intersects(reach)])
        gdf = gdf[gdf["from_crs"].isin(inside) | gdf["to_crs"].isin(inside)]
    gdf = check_frame(gdf.copy(), name="rail_links", geom_types=LINE)
    return finish_layer(gdf, name="rail_links", datasets=["rail_stations", "aquius_rail"])


def aquius_service_patterns(data: dict, *, exclude_products: Iterable[str] = ()) -> pd.DataFrame:
    """Directional service patterns (ordered calling nodes) with weekday trains, from Aquius ``data``.

    The sibling of :func:`aquius_train_pairs`, with the same rules: links whose products are all
    in ``exclude_products`` are skipped; waypoints (a node in both the pickup-only ``u`` and
    setdown-only ``s`` lists) are not calls; a two-way link gives half its trains to each
    direction (its calls reversed for the return), a one-way link (``d``) all of them; for a
    split portion (``t``) only the pairs touching its own nodes count, so its pattern is each run
    of such pairs (from the junction on, not the joined section that its companion carries).

    Returns a DataFrame [link (index into ``data["link"]``), nodes (tuple of node indices, in
    calling order, at least two), trains (per weekday, this direction), products (tuple of
    product indices)], one row per direction (and run) of each link, not merged.
    """
    rows = []
    for k, calls, per_dir, split, one_way, prod in _aquius_services(data, exclude_products):
        runs, run = [], []
        for a, b in zip(calls[:-1], calls[1:]):
            if a == b or (split and a not in split and b not in split):
                if len(run) > 1:
                    runs.append(run)
                run = []
                continue
            if not run:
                run = [a]
            run.append(b)
        if len(run) > 1:
            runs.append(run)
        for r in runs:
            rows.append((k, tuple(r), per_dir, tuple(prod)))
            if not one_way:
                rows.append((k, tuple(reversed(r)), per_dir, tuple(prod)))
    return pd.DataFrame(rows, columns=["link", "nodes", "trains", "products"])


@lru_cache(maxsize=1)
def _rail_patterns_gb() -> pd.DataFrame:
    """All GB patterns as CRS sequences, identical sequences merged (trains summed)."""
    data = _aquius()
    match = match_aquius_stations()
    code = match["crs"].to_numpy(object)
    names = [p.get("en-US", "") for p in data.get("reference", {}).get("product", [])]
    pat = aquius_service_patterns(data, exclude_products=_NOT_RAIL)
    merged: dict[tuple, list] = {}
    for nodes, trains, prods in zip(pat["nodes"], pat["trains"], pat["products"]):
        # unmatched calls are dropped (the train links the matched stations either side), then repeats
        stops = [code[n] for n in nodes if code[n] is not pd.NA and isinstance(code[n], str)]
        stops = [c for i, c in enumerate(stops) if i == 0 or c != stops[i - 1]]
        if len(stops) < 2:
            continue
        key = tuple(stops)
        if key in merged:
            merged[key][0] += trains
            merged[key][1].update(prods)
        else:
            merged[key] = [trains, set(prods)]
    keys = sorted(merged)
    return pd.DataFrame({
        "pattern_id": np.arange(1, len(keys) + 1, dtype="int64"),
        "stops": keys,
        "n_stops": np.array([len(k) for k in keys], dtype="int64"),
        "daily_trains": np.array([round(merged[k][0], 2) for k in keys], dtype="float64"),
        "operators": pd.array([";".join(sorted({names[i] for i in merged[k][1] if i < len(names)})) for k in keys], dtype="string"),
    })


def pattern_pair_trains(patterns: pd.DataFrame) -> pd.DataFrame:
    """Trains per directed pair of consecutive stops summed over ``patterns``.

    ``patterns``: [stops (tuple/list of CRS codes or a ";"-joined string), daily_trains].
    Returns [from_crs, to_crs, daily_trains] sorted by the pair (comparable with ``rail_links``).
    """
    fr, to, tr = [], [], []
    for stops, n in zip(patterns["stops"], patterns["daily_trains"].to_numpy(dtype="float64")):
        s = stops.split(";") if isinstance(stops, str) else list(stops)
        fr += s[:-1]; to += s[1:]; tr += [n] * (len(s) - 1)
    df = pd.DataFrame({"from_crs": pd.array(fr, dtype="string"), "to_crs": pd.array(to, dtype="string"), "daily_trains": tr})
    out = df.groupby(["from_crs", "to_crs"], as_index=False, sort=True)["daily_trains"].sum()
    out["daily_trains"] = out["daily_trains"].round(2)
    return out


def _pairs_not_in_rail_links() -> int:
    """How many directed pairs of consecutive calls of GB's patterns ``rail_links`` lacks (pairs
    that bridge an unmatched Aquius station on a two-way service), as keys "FROM-TO" (the links'
    index), without summing the trains."""
    stops = _rail_patterns_gb()["stops"].tolist()
    n = np.fromiter(map(len, stops), dtype=np.int64, count=len(stops))
    codes = pd.Series(list(itertools.chain.from_iterable(stops)), dtype=object)
    same = np.repeat(np.arange(len(stops)), n)
    same = same[1:] == same[:-1]
    keys = (codes.iloc[:-1][same].reset_index(drop=True) + "-" + codes.iloc[1:][same].reset_index(drop=True)).unique()
    return int((~pd.Index(keys).isin(_rail_links_gb().index)).sum())


@register_layer("rail_patterns", family="transport",
                description="Rail service patterns: ordered calling stations with weekday trains per direction (Aquius, Jan 2019); region=None is all GB",
                datasets=["rail_stations", "aquius_rail"])
def load_rail_patterns(*, region="d2n2", buffer_km: float | None = None) -> gpd.GeoDataFrame:
    """Service patterns (train identity for routing): one row per distinct directional stop sequence.

    Columns: ``pattern_id`` (int, stable for the data: patterns sorted by their stop sequence),
    ``stops`` (calling stations' CRS codes in order, ";"-joined), ``n_stops``, ``first_crs``,
    ``last_crs``, ``daily_trains`` (weekday trains running this sequence in this direction;
    Aquius services with the same calls merged and summed), ``operators`` (";"-joined),
    ``length_km`` (sum of the straight lines between consecutive stops), geometry (LineString
    through the stops, EPSG:27700). Same rules as ``rail_links`` (:func:`aquius_service_patterns`);
    calls at stations without a CRS match are dropped. ``region=None``: all of GB;
    otherwise patterns calling at a station within ``buffer_km`` of the region. Index
    ``pattern_id``.

    Summed over patterns, the trains of each consecutive pair equal ``rail_links.daily_trains``
    except on the few pairs that bridge an unmatched Aquius station on a two-way service, which
    ``rail_links`` drops (see ``attrs["pairs_not_in_rail_links"]``).
    """
    pat = _rail_patterns_gb()
    st = _stations_raw().set_index("crs")
    if region is not None:
        inside = set(st.index[st.intersects(region_reach(region, reach_km("stations", buffer_km)))])
        pat = pat[[bool(inside.intersection(s)) for s in pat["stops"]]]
    xy = shapely.get_coordinates(st.geometry)
    pos = dict(zip(st.index.astype(str), range(len(st))))
    flat = np.fromiter((pos[c] for s in pat["stops"] for c in s), dtype=np.int64)
    part = np.repeat(np.arange(len(pat)), pat["n_stops"].to_numpy())
    coords = xy[flat]
    lines = shapely.linestrings(coords, indices=part) if len(pat) else np.array([], dtype=object)
    step = np.hypot(*np.diff(coords, axis=0).T) / 1000.0 if len(coords) else np.array([])
    same = part[1:] == part[:-1] if len(part) else np.array([], dtype=bool)
    lengths = np.bincount(part[1:][same], weights=step[same], minlength=len(pat)) if len(pat) else np.array([])
    gdf = gpd.GeoDataFrame({
        "pattern_id": pat["pattern_id"].to_numpy(),
        "stops": pd.array([";".join(s) for s in pat["stops"]], dtype="string"),
        "n_stops": pat["n_stops"].to_numpy(),
        "first_crs": pd.array([s[0] for s in pat["stops"]], dtype="string"),
        "last_crs": pd.array([s[-1] for s in pat["stops"]], dtype="string"),
        "daily_trains": pat["daily_trains"].to_numpy(),
        "operators": pat["operators"].to_numpy(),
        "length_km": np.asarray(lengths, dtype="float64"),
    }, geometry=lines, crs=BNG)
    gdf.index = pd.Index(gdf["pattern_id"].to_numpy(), name=None)
    gdf.attrs["pairs_not_in_rail_links"] = _pairs_not_in_rail_links()
    gdf = check_frame(gdf, name="rail_patterns", geom_types=LINE, unique="pattern_id")
    return finish_layer(gdf, name="rail_patterns", datasets=["rail_stations", "aquius_rail"])



# --------------------------------------------------------------------------------------
# Rail: timetabled running times (ATOC CIF)
# --------------------------------------------------------------------------------------


def sunday_only(days: pd.Series) -> np.ndarray:
    """True for CIF schedules that run on Sundays only (``days`` "0000001"): Sunday timetables
    run another service with engineering allowances, so :func:`rail_timetable` uses them only for
    links no other day's schedule runs."""
    d = pd.Series(np.asarray(days, dtype=object)).astype("string").fillna("")
    mon_sat = d.str[:6].str.contains("1").fillna(False).to_numpy(dtype=bool)
    sunday = (d.str[6] == "1").fillna(False).to_numpy(dtype=bool)
    return sunday & ~mon_sat


def weekday_segments(segments: pd.DataFrame, schedules: pd.DataFrame) -> pd.DataFrame:
    """The segments a weekday model should take its running times from: of each ordered pair of
    stations, those of schedules running on some day from Monday to Saturday, or, where only
    Sunday schedules run it, the Sunday ones (:func:`sunday_only`)."""
    sun = pd.Series(sunday_only(schedules["days"]), index=schedules["schedule"].to_numpy())
    is_sun = sun.reindex(segments["schedule"].to_numpy()).fillna(False).to_numpy(dtype=bool)
    key = segments["from_crs"].astype("string").fillna("") + ">" + segments["to_crs"].astype("string").fillna("")
    other = pd.Series(~is_sun).groupby(key.to_numpy()).transform("any").to_numpy(dtype=bool)
    return segments[~(is_sun & other)]


@lru_cache(maxsize=4)
def _cif_tables(path: str, stamp: tuple[int, int]) -> tuple[pd.DataFrame, pd.DataFrame]:
    from ..network.cif import cif_segments, read_cif, segment_times, station_dwells

    tt = read_cif(path)
    seg = weekday_segments(cif_segments(tt), tt.schedules)
    return segment_times(seg), station_dwells(seg)


def rail_timetable(cif: "str | os.PathLike | None" = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Timetabled running times and dwells of an ATOC CIF timetable (``cif``: a ``.zip`` as the
    Rail Delivery Group publishes it, a folder or a ``.mca`` file; default the catalogued national
    sample ``rail_cif_sample``): (``segments`` [from_crs, to_crs, run_min (median), run_min_min, n,
    dwell_from_min, operators], ``dwells`` [crs, dwell_min (mean), n]), read once per process and
    file version. Sunday-only schedules count only for links nothing else runs
    (:func:`weekday_segments`: the sample of 20 March 2020 is mostly weekend variations, whose
    Sunday ones carry engineering allowances). Raises :class:`~lisgeo.errors.CIFError` for a
    file that is not a CIF feed."""
    import os

    from ..errors import DataNotFoundError

    path = resolve_dataset("rail_cif_sample")[0] if cif is None else cif
    p = os.fspath(path)
    if not os.path.exists(p):
        raise DataNotFoundError(f"rail timetable {p!r} not found; give the path of an ATOC CIF .zip (the Rail Delivery Group's "
                                "national timetable feed), a folder or a .mca file")
    st = os.stat(p)
    seg, dw = _cif_tables(os.path.abspath(p), (st.st_size, st.st_mtime_ns))
    return seg.copy(), dw.copy()


@register_layer("rail_segments", family="transport", kind="table",
                description="Timetabled running minutes between consecutive calls per ordered pair of stations (ATOC CIF "
                            "sample, 20 March 2020): from_crs, to_crs, run_min (median), run_min_min, n, operators",
                datasets=["rail_cif_sample"])
def load_rail_segments(*, region=None) -> pd.DataFrame:
    """Timetabled running times of Great Britain's rail links (whatever the region: trains run
    beyond it), indexed ``"FROM>TO"`` (CRS codes): see :func:`rail_timetable`."""
    seg, _ = rail_timetable()
    seg.index = pd.Index((seg["from_crs"].astype(str) + ">" + seg["to_crs"].astype(str)).to_numpy())
    return finish_layer(seg, name="rail_segments", datasets=["rail_cif_sample"])


@register_layer("rail_dwells", family="transport", kind="table",
                description="Mean timetabled dwell (minutes) at each station with calls that go on (ATOC CIF sample, 20 March 2020): "
                            "crs, dwell_min, n", datasets=["rail_cif_sample"])
def load_rail_dwells(*, region=None) -> pd.DataFrame:
    """Mean public dwell at each station, indexed by CRS: see :func:`rail_timetable`."""
    _, dw = rail_timetable()
    dw.index = pd.Index(dw["crs"].astype(str).to_numpy())
    return finish_layer(dw, name="rail_dwells", datasets=["rail_cif_sample"])


#: Plausible range of an operator's running-speed factor (``layers/rail_operators.csv``).
RUN_FACTOR_RANGE = (0.5, 2.0)


def read_rail_operators(path: "str | os.PathLike | None" = None) -> pd.DataFrame:
    """``layers/rail_operators.csv``: each train operator's name in the service patterns
    (``operator``, Aquius product), its ATOC code in timetables (``atoc``), and the running-speed
    factor of its modelled links (``run_factor``, fitted by
    :func:`lisgeo.pipeline.calibrate.calibrate_rail_segments` on ``fit_segments`` timetabled
    segments; 1 where too few). Checked at entry: columns, unique names and codes, two-letter
    codes, factors within :data:`RUN_FACTOR_RANGE`, a source on every row."""
    import os

    from ..config import authored_path
    from ..errors import ConfigError

    p = authored_path("rail_operators.csv") if path is None else os.fspath(path)
    try:
        df = pd.read_csv(p, dtype={"operator": str, "atoc": str, "name": str, "source": str}, encoding="utf-8")
    except (OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise ConfigError(f"{p}: cannot read the rail operators table ({type(exc).__name__}); it ships in layers/ "
                          "(or set LISGEO_LAYERS_DIR)") from None
    need = ["operator", "atoc", "name", "run_factor", "fit_segments", "source"]
    miss = [c for c in need if c not in df.columns]
    if miss:
        raise ConfigError(f"{p}: lacks column(s) {miss}; see layers/README.md (rail_operators.csv)")
    for col in ("operator", "atoc"):
        dup = df[col][df[col].duplicated()]
        if len(dup):
            raise ConfigError(f"{p}: {col} {dup.iloc[0]!r} repeats; each operator and code once")
    bad = df["atoc"][~df["atoc"].fillna("").str.fullmatch(r"[A-Z0-9]{2}")]
    if len(bad):
        raise ConfigError(f"{p}: atoc {bad.iloc[0]!r} is not a two-character ATOC operator code (e.g. NT, EM)")
    f = pd.to_numeric(df["run_factor"], errors="coerce")
    lo, hi = RUN_FACTOR_RANGE
    out = ~f.between(lo, hi)
    if out.any():
        r = df[out].iloc[0]
        raise ConfigError(f"{p}: run_factor {r['run_factor']!r} of {r['operator']} is outside [{lo}, {hi}]; "
                          "a train operator's modelled links run at 0.5-2 times the base running speed")
    if df["source"].fillna("").str.strip().eq("").any():
        raise ConfigError(f"{p}: every row needs a source")
    df["run_factor"] = f.astype("float64")
    return df
