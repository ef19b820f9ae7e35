"""Transport layers: Strategic Road Network, rail stations and services, NaPTAN stops, airports.

* ``road_links`` / ``road_nodes`` – the Strategic Road Network (SRN) of England as a directed
  graph between junction clusters (Strain, Wilson & Littleworth 2023, built from National
  Highways HATRIS links). Each link gets its road, a road class and, where the HAPMS
  carriageway sections of that road run near both of its ends, a geometry that follows the
  carriageway (``geometry_source="hapms"``); otherwise a straight line (``"straight"``).
* ``rail_stations`` / ``rail_links`` – GB stations (CRS codes, davwheat/uk-railway-stations)
  with weekday trains from the Aquius GB rail dataset (January 2019 timetable).
* ``stops`` – active NaPTAN access points with a travel mode.
* ``airports`` – East Midlands Airport from NaPTAN.

All outputs are in EPSG:27700; distances are kilometres.
"""

from __future__ import annotations

import json
import logging
import re
from functools import lru_cache
from typing import Iterable, Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import shapely.ops

from ..catalog import resolve_dataset
from ..errors import EmptyResultError, LisgeoError, MissingColumnError, UnknownNameError
from ..validate import BNG, check_frame
from ._registry import finish_layer, register_layer

__all__ = [
    "load_road_links", "load_road_nodes", "load_rail_stations", "load_rail_links", "load_stops",
    "load_airports", "match_link_geometry", "road_class_of", "route_key", "drop_self_loops",
    "stop_mode", "STOP_TYPE_MODES", "match_aquius_stations", "aquius_train_pairs",
    "aquius_service_patterns", "load_rail_patterns", "pattern_pair_trains",
]

log = logging.getLogger(__name__)

LINE = ("LineString",)
POINT = ("Point",)


def _within_reach(region, buffer_km: float) -> shapely.Geometry:
    """The region outline buffered by ``buffer_km`` (EPSG:27700)."""
    from .boundaries import region_outline

    outline = region_outline(region)
    return outline.buffer(buffer_km * 1000.0) if buffer_km > 0 else outline


# --------------------------------------------------------------------------------------
# Strategic Road Network
# --------------------------------------------------------------------------------------

_ADDED_ROAD = re.compile(r"(A\d+)")


def road_class_of(road: "pd.Series") -> pd.Series:
    """``"motorway"`` for M-roads and A(M) roads (``M1``, ``A1(M)``, ``A1M``), else ``"trunk"``.

    The SRN graph's ``road`` column decides (its ``LinkRef`` prefix ``LM``/``AL`` agrees on
    every HATRIS link); missing roads are ``"trunk"`` (every SRN link that is not a motorway
    is a trunk A-road).
    """
    r = road.astype("string")
    mw = r.str.match(r"^M\d") | r.str.match(r"^A\d+(\(M\)|M)$")
    return pd.Series(np.where(mw.fillna(False), "motorway", "trunk"), index=road.index, dtype="string")


def route_key(road: "pd.Series") -> pd.Series:
    """Key joining SRN roads to HAPMS ``roa_number``: the A-road of an A(M) ("A1(M)", "A1M" -> "A1")."""
    r = road.astype("string").str.replace("(M)", "", regex=False)
    return r.where(~r.str.match(r"^A\d+M$").fillna(False), r.str[:-1])


def drop_self_loops(links: pd.DataFrame, *, from_col: str = "from_node", to_col: str = "to_node") -> pd.DataFrame:
    """Return ``links`` without rows whose two ends are the same node."""
    return links[links[from_col] != links[to_col]]


@lru_cache(maxsize=1)
def _srn_raw() -> pd.DataFrame:
    path = resolve_dataset("srn_graph")[0]
    df = pd.read_csv(path)
    return check_frame(df, name="SRN graph (SRN_region_graph.csv)",
                       required=["LinkRef", "road", "dist", "StartCluster", "EndCluster", "StartX", "StartY",
                                 "EndX", "EndY", "StartClusterX", "StartClusterY", "EndClusterX", "EndClusterY"])


def _srn_links() -> pd.DataFrame:
    """All SRN links (national), tidy columns, self-loops dropped."""
    s = _srn_raw()
    df = pd.DataFrame({
        "link_ref": s["LinkRef"].astype("string"),
        "from_node": s["StartCluster"].astype("int64"),
        "to_node": s["EndCluster"].astype("int64"),
        "road": s["road"].astype("string"),
        "straight_km": s["dist"].astype("float64"),
        "x0": s["StartX"], "y0": s["StartY"], "x1": s["EndX"], "y1": s["EndY"],
    })
    # links the graph's authors added ("mine"): recover the road from the reference where it says
    added = df["road"] == "mine"
    df.loc[added, "road"] = df.loc[added, "link_ref"].str.extract(_ADDED_ROAD, expand=False)
    df = drop_self_loops(df)
    # link ids: LinkRef, made unique for the few added links that share one
    dup = df["link_ref"].duplicated(keep=False)
    ids = df["link_ref"].where(~dup, df["link_ref"] + ":" + df["from_node"].astype("string") + "-" + df["to_node"].astype("string"))
    df.insert(0, "link_id", ids.str.replace(" ", "_"))
    df["road_class"] = road_class_of(df["road"])
    return df


@lru_cache(maxsize=1)
def _hapms_sections() -> gpd.GeoDataFrame:
    """HAPMS main-carriageway sections (national, BNG), one LineString each, with ``route``."""
    path = resolve_dataset("hapms")[0]
    gdf = gpd.read_file(f"zip://{path}!network20200302.shp",
                        columns=["roa_number", "funct_name", "direc_code", "dual_name", "sect_label"])
    gdf = gdf.set_crs(BNG, allow_override=True)  # the shapefile has no .prj; it is in BNG (bounds checked)
    gdf = gdf[gdf["funct_name"] == "Main Carriageway"]
    gdf = gdf.explode(index_parts=False)
    gdf = gdf[~gdf.geometry.is_empty & (gdf.geometry.length > 0)]
    gdf = gdf.assign(route=route_key(gdf["roa_number"]), two_way=gdf["dual_name"].eq("Two Way Single Carriageway"))
    gdf = gdf.reset_index(drop=True)
    return check_frame(gdf[["sect_label", "roa_number", "route", "direc_code", "two_way", "geometry"]],
                       name="HAPMS sections", geom_types=LINE)


def _chain_parts(parts: Sequence[shapely.LineString], straight: shapely.LineString) -> tuple[shapely.LineString, float]:
    """Join forward-running parts in order along ``straight``; drop parts inside another's span.

    Returns the joined line and the total length of the gaps bridged (m).
    """
    spans = sorted(((straight.project(shapely.Point(p.coords[0])), straight.project(shapely.Point(p.coords[-1])), p) for p in parts),
                   key=lambda t: (t[0], -t[1]))
    coords: list = []
    gaps = 0.0
    reach = -np.inf
    for a, b, p in spans:
        if b <= reach + 1.0:  # contained in what we already have (duplicate or stub)
            continue
        c = list(p.coords)
        if coords:
            gaps += float(np.hypot(c[0][0] - coords[-1][0], c[0][1] - coords[-1][1]))
        coords.extend(c)
        reach = max(reach, b)
    if len(coords) < 2:
        return shapely.LineString(), 0.0
    return shapely.LineString(coords), gaps


def match_link_geometry(
    links: gpd.GeoDataFrame,
    sections: gpd.GeoDataFrame,
    *,
    corridor_frac: float = 0.3,
    corridor_min_m: float = 1000.0,
    corridor_max_m: float = 4000.0,
    snap_m: float = 1500.0,
    max_gap_frac: float = 0.25,
    max_detour: float = 1.8,
    max_backtrack_m: float = 300.0,
) -> gpd.GeoDataFrame:
    """Give each directed link a geometry that follows its road's carriageway sections.

    Parameters
    ----------
    links: straight LineStrings (from the link's start junction to its end junction, metres,
        EPSG:27700) with a ``route`` column naming the road (the key shared with ``sections``).
    sections: carriageway LineStrings with ``route`` and, optionally, ``two_way`` (bool: a
        single two-way carriageway, usable in both directions). One-way sections must be
        digitised in the direction of traffic (HAPMS ones are).
    corridor_frac, corridor_min_m, corridor_max_m: the sections considered are those of the same
        route within a corridor around the straight line, of half-width ``corridor_frac`` × the
        link's length clipped to [min, max] metres.
    snap_m: the joined carriageway must pass within this distance (m) of both link ends.
    max_gap_frac: refuse a match whose bridged gaps exceed this share of its length.
    max_detour: refuse a match longer than ``max_detour`` × the straight distance + 0.5 km.
    max_backtrack_m: refuse a match that runs backwards (against the link's direction) for more
        than this many metres in all (or 5% of the link, if more).

    Returns
    -------
    GeoDataFrame indexed like ``links`` with ``geometry`` (start junction -> carriageway substring
    between the projected ends -> end junction), ``length_km`` and ``geometry_source``
    (``"hapms"`` or ``"straight"``). Because the geometry runs from junction to junction,
    ``length_km`` is never less than the straight-line distance.
    """
    links = check_frame(links, name="links to match", required=["route"], geom_types=LINE)
    sections = check_frame(sections, name="carriageway sections", required=["route"], geom_types=LINE, allow_empty=True)
    straight = links.geometry
    L = straight.length.to_numpy()
    width = np.clip(corridor_frac * L, corridor_min_m, corridor_max_m)
    corr = gpd.GeoDataFrame({"route": links["route"].to_numpy(), "link": np.arange(len(links))},
                            geometry=straight.buffer(width, cap_style="round").to_numpy(), crs=BNG)
    sec = sections[sections["route"].notna()]
    two_way = sec["two_way"].to_numpy(bool) if "two_way" in sec.columns else np.zeros(len(sec), bool)
    sec = gpd.GeoDataFrame({"route": sec["route"].to_numpy(), "two_way": two_way, "sec": np.arange(len(sec))},
                           geometry=sec.geometry.to_numpy(), crs=BNG)
    pairs = gpd.sjoin(corr, sec, predicate="intersects", how="inner")
    pairs = pairs[pairs["route_left"] == pairs["route_right"]]
    li = pairs["link"].to_numpy()
    si = pairs["sec"].to_numpy()
    sgeom = sec.geometry.to_numpy()[si]
    lgeom = straight.to_numpy()[li]
    # a section runs with the link if its start->end vector points the same way as the link's
    svec = shapely.get_coordinates(shapely.get_point(sgeom, -1)) - shapely.get_coordinates(shapely.get_point(sgeom, 0))
    lvec = shapely.get_coordinates(shapely.get_point(lgeom, -1)) - shapely.get_coordinates(shapely.get_point(lgeom, 0))
    forward = (svec * lvec).sum(axis=1) > 0
    tw = sec["two_way"].to_numpy()[si]
    keep = forward | tw
    sgeom = np.where(forward, sgeom, shapely.reverse(sgeom))[keep]
    li = li[keep]

    geoms = straight.to_numpy().copy()
    source = np.full(len(links), "straight", dtype=object)
    order = np.argsort(li, kind="stable")
    li, sgeom = li[order], sgeom[order]
    bounds = np.flatnonzero(np.r_[True, li[1:] != li[:-1], True])
    for a, b in zip(bounds[:-1], bounds[1:]):
        k = li[a]
        line = geoms[k]
        p0, p1 = shapely.Point(line.coords[0]), shapely.Point(line.coords[-1])
        merged = shapely.line_merge(shapely.MultiLineString(list(sgeom[a:b])), directed=True)
        parts = list(merged.geoms) if merged.geom_type == "MultiLineString" else [merged]
        chain, gaps = _chain_parts(parts, line)
        if chain.is_empty or chain.distance(p0) > snap_m or chain.distance(p1) > snap_m:
            continue
        s0, s1 = chain.project(p0), chain.project(p1)
        if s1 <= s0:
            continue
        sub = shapely.ops.substring(chain, s0, s1)
        sub_coords = list(sub.coords) if sub.geom_type == "LineString" else [sub.coords[0]]
        route = shapely.LineString([p0.coords[0], *sub_coords, p1.coords[0]])
        if gaps > max_gap_frac * max(sub.length, 1.0) or route.length > max_detour * L[k] + 500.0:
            continue
        # refuse a route that doubles back along the link (a loop or a wrong turn in the chain)
        rc = shapely.get_coordinates(route)
        along = (rc - rc[0]) @ ((rc[-1] - rc[0]) / max(L[k], 1e-9))
        if np.clip(-np.diff(along), 0, None).sum() > max(max_backtrack_m, 0.05 * L[k]):
            continue
        geoms[k] = route
        source[k] = "hapms"
    out = gpd.GeoDataFrame({"geometry_source": pd.array(source, dtype="string")}, geometry=geoms, index=links.index, crs=BNG)
    out["length_km"] = out.geometry.length / 1000.0
    straight_km = L / 1000.0
    assert (out["length_km"].to_numpy() >= straight_km - 1e-9).all(), "a route is shorter than the straight line"
    return out[["length_km", "geometry_source", "geometry"]]



def _srn_in_reach(region, buffer_km: float) -> pd.DataFrame:
    df = _srn_links()
    if region is None:
        return df
    reach = _within_reach(region, buffer_km)
    lines = shapely.linestrings(np.stack([df[["x0", "y0"]].to_numpy(), df[["x1", "y1"]].to_numpy()], axis=1))
    return df[shapely.intersects(lines, reach)]


@register_layer("road_links", family="transport",
                description="Strategic Road Network links (directed, junction to junction): road, road_class, length_km, geometry_source (hapms|straight)",
                datasets=["srn_graph", "hapms"])
def load_road_links(*, region="d2n2", buffer_km: float = 30.0) -> gpd.GeoDataFrame:
    """Directed SRN links that meet ``region`` buffered by ``buffer_km`` (``region=None``: all England).

    Columns: ``link_id`` (HATRIS LinkRef), ``from_node``/``to_node`` (junction clusters),
    ``road`` (e.g. "M1", "A1(M)", "A38"), ``road_class`` ("motorway"|"trunk"), ``straight_km``
    (junction-to-junction straight line, km, from the graph), ``length_km`` (km along the
    geometry), ``geometry_source`` ("hapms": follows the HAPMS carriageway; "straight").
    ``attrs["hapms_share"]`` is the share of links with a carriageway geometry.
    """
    df = _srn_in_reach(region, buffer_km)
    if df.empty:
        raise EmptyResultError(f"no Strategic Road Network link lies within {buffer_km} km of region {region!r}; increase buffer_km")
    lines = shapely.linestrings(np.stack([df[["x0", "y0"]].to_numpy(), df[["x1", "y1"]].to_numpy()], axis=1))
    links = gpd.GeoDataFrame({"route": route_key(df["road"]).to_numpy()}, geometry=lines, index=df.index, crs=BNG)
    matched = match_link_geometry(links, _hapms_sections())
    gdf = gpd.GeoDataFrame(
        df[["link_id", "from_node", "to_node", "road", "road_class", "straight_km"]].assign(
            length_km=matched["length_km"], geometry_source=matched["geometry_source"]),
        geometry=matched.geometry, crs=BNG)
    # straight links take the graph's own distance (equal to the geometry's length within 1e-6 km)
    gdf["length_km"] = gdf["length_km"].where(gdf["geometry_source"] == "hapms", gdf["straight_km"])
    assert (gdf["length_km"] >= gdf["straight_km"] - 1e-6).all(), "road link shorter than its straight line"
    gdf = gdf.set_index("link_id", drop=False)
    gdf.index.name = None
    gdf = check_frame(gdf, name="road_links", required=["link_id"], geom_types=LINE, unique="link_id")
    share = float((gdf["geometry_source"] == "hapms").mean())
    gdf.attrs["hapms_share"] = share
    log.info("road_links: %d links, %.1f%% follow HAPMS carriageways", len(gdf), 100 * share)
    return finish_layer(gdf, name="road_links", datasets=["srn_graph", "hapms"])


@register_layer("road_nodes", family="transport", description="Strategic Road Network junction clusters at the ends of the region's road_links",
                datasets=["srn_graph"])
def load_road_nodes(*, region="d2n2", buffer_km: float = 30.0) -> gpd.GeoDataFrame:
    """Junction clusters (``node_id``) at either end of the SRN links within reach of ``region``."""
    df = _srn_in_reach(region, buffer_km)
    s = _srn_raw()
    ends = pd.concat([
        pd.DataFrame({"node_id": s["StartCluster"], "x": s["StartClusterX"], "y": s["StartClusterY"]}),
        pd.DataFrame({"node_id": s["EndCluster"], "x": s["EndClusterX"], "y": s["EndClusterY"]}),
    ]).drop_duplicates("node_id").set_index("node_id")
    ids = pd.Index(pd.unique(np.r_[df["from_node"].to_numpy(), df["to_node"].to_numpy()]))
    if len(ids) == 0:
        raise EmptyResultError(f"no Strategic Road Network junction within {buffer_km} km of region {region!r}")
    pts = ends.loc[ids]
    gdf = gpd.GeoDataFrame({"node_id": ids.to_numpy()}, geometry=gpd.points_from_xy(pts["x"], pts["y"]), index=ids.to_numpy(), crs=BNG)
    gdf = check_frame(gdf, name="road_nodes", geom_types=POINT, unique="node_id")
    return finish_layer(gdf.sort_index(), name="road_nodes", datasets=["srn_graph"])


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
        raise LisgeoError(f"{path} is not an Aquius dataset (needs keys node, link, reference)")
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
        hit = lkeys[lkeys.isin(lookup.index)]
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
def load_rail_stations(*, region="d2n2", buffer_km: float = 30.0) -> gpd.GeoDataFrame:
    """Rail stations within ``buffer_km`` of ``region`` (``region=None``: all GB), indexed by CRS code.

    ``daily_trains`` is the number of train departures on a weekday (January 2019 timetable,
    Aquius; a train calling in each direction counts once per direction); NaN where no Aquius
    station matched the station's name (``aquius_matched`` False, e.g. stations opened since).
    ``attrs["unmatched_aquius"]`` lists the Aquius calling nodes that found no CRS code.
    """
    st = _stations_raw()
    if region is not None:
        st = st[st.intersects(_within_reach(region, buffer_km))]
    trains = _trains_by_station()
    match = match_aquius_stations()
    matched = set(match["crs"].dropna())
    gdf = st.assign(daily_trains=st["crs"].map(trains).astype("float64"), aquius_matched=st["crs"].isin(matched))
    gdf.loc[gdf["aquius_matched"] & gdf["daily_trains"].isna(), "daily_trains"] = 0.0
    gdf = gdf.set_index("crs", drop=False)
    gdf.index.name = None
    gdf = check_frame(gdf[["crs", "name", "daily_trains", "aquius_matched", "geometry"]], name="rail_stations", geom_types=POINT, unique="crs")
    gdf.attrs["unmatched_aquius"] = match.loc[match["crs"].isna(), "aquius_name"].dropna().tolist()
    return finish_layer(gdf, name="rail_stations", datasets=["rail_stations", "aquius_rail"])


@register_layer("rail_links", family="transport",
                description="Directed rail links between consecutive calling stations with weekday trains (Aquius, Jan 2019); region=None is all GB",
                datasets=["rail_stations", "aquius_rail"])
def load_rail_links(*, region=None, buffer_km: float = 30.0) -> gpd.GeoDataFrame:
    """Directed links between consecutive calling stations: [from_crs, to_crs, daily_trains, length_km].

    ``daily_trains``: weekday trains in that direction (Aquius, January 2019; London
    Underground, Tyne & Wear Metro and ferries excluded). ``length_km``: straight line between
    the stations. ``region=None`` (default) gives all of GB, which routing needs; otherwise
    links with either end within ``buffer_km`` of the region. Index ``"FROM-TO"``.
    """
    gdf = _rail_links_gb()
    if region is not None:
        reach = _within_reach(region, buffer_km)
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


@register_layer("rail_patterns", family="transport",
                description="Rail service patterns: ordered calling stations with weekday trains per direction (Aquius, Jan 2019); region=None is all GB",
                datasets=["rail_stations", "aquius_rail"])
def load_rail_patterns(*, region=None, buffer_km: float = 30.0) -> gpd.GeoDataFrame:
    """Service patterns (train identity for routing): one row per distinct directional stop sequence.

    Columns: ``pattern_id`` (int, stable for the data: patterns sorted by their stop sequence),
    ``stops`` (calling stations' CRS codes in order, ";"-joined), ``n_stops``, ``first_crs``,
    ``last_crs``, ``daily_trains`` (weekday trains running this sequence in this direction;
    Aquius services with the same calls merged and summed), ``operators`` (";"-joined),
    ``length_km`` (sum of the straight lines between consecutive stops), geometry (LineString
    through the stops, EPSG:27700). Same rules as ``rail_links`` (:func:`aquius_service_patterns`);
    calls at stations without a CRS match are dropped. ``region=None`` (default): all of GB;
    otherwise patterns calling at a station within ``buffer_km`` of the region. Index
    ``pattern_id``.

    Summed over patterns, the trains of each consecutive pair equal ``rail_links.daily_trains``
    except on the few pairs that bridge an unmatched Aquius station on a two-way service, which
    ``rail_links`` drops (see ``attrs["pairs_not_in_rail_links"]``).
    """
    pat = _rail_patterns_gb()
    st = _stations_raw().set_index("crs")
    if region is not None:
        inside = set(st.index[st.intersects(_within_reach(region, buffer_km))])
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
    links = _rail_links_gb()
    have = set(zip(links["from_crs"].astype(str), links["to_crs"].astype(str)))
    pp = pattern_pair_trains(_rail_patterns_gb())
    gdf.attrs["pairs_not_in_rail_links"] = int(sum((f, t) not in have for f, t in zip(pp["from_crs"], pp["to_crs"])))
    gdf = check_frame(gdf, name="rail_patterns", geom_types=LINE, unique="pattern_id")
    return finish_layer(gdf, name="rail_patterns", datasets=["rail_stations", "aquius_rail"])


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
def load_stops(*, region="d2n2", buffer_km: float = 5.0, modes: Iterable[str] | None = None) -> gpd.GeoDataFrame:
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
    reach = shapely.union_all(districts.geometry.values)
    if buffer_km > 0:
        reach = reach.buffer(buffer_km * 1000.0)
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
            raise LisgeoError(f"NaPTAN {ds} has no active stop {atco} for {name}; the dataset may have changed")
        rows.append({"airport_id": aid, "name": name, "iata": iata, "atco_code": atco, "geometry": hit.geometry.iloc[0]})
    gdf = gpd.GeoDataFrame(rows, geometry="geometry", crs=BNG)
    gdf = gdf.set_index("airport_id", drop=False)
    gdf.index.name = None
    gdf = check_frame(gdf, name="airports", geom_types=POINT, unique="airport_id")
    return finish_layer(gdf, name="airports", datasets=["naptan_260"], extra_attribution="IATA code EMA")
