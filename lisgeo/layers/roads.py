"""Road layers: every motorway and A road of Great Britain, and England's Strategic Road Network.

* ``major_roads`` / ``major_road_nodes`` – the car network of lisgeo: every motorway and A road
  of Great Britain, trunk and non-trunk, as junction-to-junction links (DfT major roads link
  network 2013, the network of the national road traffic counts), two-way, with the road number,
  a road class (``motorway`` | ``trunk`` | ``a_road``), whether the link is trunk (on England's Strategic Road
  Network: it follows a HAPMS carriageway of the same road), its carriageway (``dual`` |
  ``single`` where HAPMS or the class tells, else unknown), the share of it that runs through
  built-up land (``urban_share``, from the 1 km population grid) and its length: along the HAPMS
  carriageway where it matches (``geometry_source="hapms"``), else the DfT chord between the
  junctions times a detour factor measured on the matched links (``"dft"``).
* ``road_links`` / ``road_nodes`` – the Strategic Road Network (SRN) of England as a directed
  graph between junction clusters (Strain, Wilson & Littleworth 2023, built from National
  Highways HATRIS links). Each link gets its road, a road class and, where the HAPMS
  carriageway sections of that road run near both of its ends, a geometry that follows the
  carriageway (``geometry_source="hapms"``); otherwise a straight line (``"straight"``). Shown
  on the maps; the network routes on ``major_roads``.

All outputs are in EPSG:27700; distances are kilometres.
"""

from __future__ import annotations

import logging
import re
from functools import lru_cache
from typing import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import shapely.ops

from ..catalog import resolve_dataset
from ..checks import BNG, check_frame
from ..errors import DataFormatError, EmptyResultError
from ._registry import finish_layer, register_layer
from ..assumptions import reach_km
from .boundaries import region_reach

__all__ = ["load_road_links", "load_road_nodes", "load_major_roads", "load_major_road_nodes", "match_link_geometry",
           "road_class_of", "route_key", "drop_self_loops", "node_endpoints", "urban_share"]

log = logging.getLogger(__name__)

LINE = ("LineString",)
POINT = ("Point",)

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


#: Widest half-corridor (m) in which a link's carriageway sections are looked for (match_link_geometry).
CORRIDOR_MAX_M = 4000.0


@lru_cache(maxsize=4)
def _hapms_sections(bbox: tuple[float, float, float, float] | None = None) -> gpd.GeoDataFrame:
    """HAPMS main-carriageway sections (national, BNG), one LineString each, with ``route``;
    ``bbox`` (BNG m): only the sections whose bounding box meets it (read by GDAL's filter)."""
    path = resolve_dataset("hapms")[0]
    gdf = gpd.read_file(f"zip://{path}!network20200302.shp", bbox=bbox,
                        columns=["roa_number", "funct_name", "direc_code", "dual_name", "sect_label"])
    gdf = gdf.set_crs(BNG, allow_override=True)  # the shapefile has no .prj; it is in BNG (bounds checked)
    gdf = gdf[gdf["funct_name"] == "Main Carriageway"]
    gdf = gdf.explode(index_parts=False)
    gdf = gdf[~gdf.geometry.is_empty & (gdf.geometry.length > 0)]
    gdf = gdf.assign(route=route_key(gdf["roa_number"]), two_way=gdf["dual_name"].eq("Two Way Single Carriageway"))
    gdf = gdf.reset_index(drop=True)
    return check_frame(gdf[["sect_label", "roa_number", "route", "direc_code", "two_way", "geometry"]],
                       name="HAPMS sections", geom_types=LINE)


def _chain_parts(parts: Sequence[np.ndarray], t0: np.ndarray, t1: np.ndarray) -> tuple[np.ndarray, float]:
    """Join forward-running parts (coordinate arrays) in order of where they start along the link
    (``t0``; ``t1`` where they end, m); drop parts inside another's span.

    Returns the joined coordinates (fewer than 2 rows: nothing) and the total length of the gaps
    bridged (m).
    """
    order = sorted(range(len(parts)), key=lambda k: (t0[k], -t1[k]))
    pieces: list[np.ndarray] = []
    gaps = 0.0
    reach = -np.inf
    for k in order:
        if t1[k] <= reach + 1.0:  # contained in what we already have (duplicate or stub)
            continue
        c = parts[k]
        if pieces:
            gaps += float(np.hypot(c[0, 0] - pieces[-1][-1, 0], c[0, 1] - pieces[-1][-1, 1]))
        pieces.append(c)
        reach = max(reach, t1[k])
    if not pieces:
        return np.empty((0, 2)), 0.0
    return np.concatenate(pieces), gaps


def _routes(chain_xy: list[np.ndarray], take: np.ndarray, s0: np.ndarray, s1: np.ndarray, q0: np.ndarray,
            q1: np.ndarray, e0: np.ndarray, e1: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The routes of the chains ``take``, all at once: for chain ``c`` (the m-th taken) the link's
    start ``e0[m]``, the chain's point at ``s0[c]`` m along it (``q0[m]``), the chain's vertices
    strictly between ``s0[c]`` and ``s1[c]`` (as ``shapely.ops.substring`` keeps them), its point
    at ``s1[c]`` (``q1[m]``) and the link's end ``e1[m]``. Returns (coordinates, route of each row)."""
    xy = np.concatenate([chain_xy[c] for c in take])
    n = np.array([len(chain_xy[c]) for c in take])
    owner = np.repeat(np.arange(len(take)), n)
    seg = np.hypot(np.diff(xy[:, 0]), np.diff(xy[:, 1]))
    start = np.r_[0, np.cumsum(n)[:-1]]
    at = np.empty(len(xy))  # distance along its own chain at each vertex (summed per chain, as one line would be)
    for a, m in zip(start.tolist(), n.tolist()):
        at[a] = 0.0
        np.cumsum(seg[a:a + m - 1], out=at[a + 1:a + m])
    is_last = np.zeros(len(xy), dtype=bool)
    is_last[start + n - 1] = True
    inner = ~is_last & (at > s0[take][owner]) & (at < s1[take][owner])
    parts = [e0, q0, xy[inner], q1, e1]
    rank = [np.arange(len(take)), np.arange(len(take)), owner[inner], np.arange(len(take)), np.arange(len(take))]
    order = np.lexsort((np.concatenate([np.full(len(r), i) for i, r in enumerate(rank)]), np.concatenate(rank)))
    coords = np.concatenate(parts)[order]
    return coords, np.concatenate(rank)[order]


def _end_to_end(lines: np.ndarray) -> np.ndarray:
    """(n, 2) vectors from the first to the last vertex of each LineString."""
    return shapely.get_coordinates(shapely.get_point(lines, -1)) - shapely.get_coordinates(shapely.get_point(lines, 0))


def match_link_geometry(
    links: gpd.GeoDataFrame,
    sections: gpd.GeoDataFrame,
    *,
    corridor_frac: float = 0.3,
    corridor_min_m: float = 1000.0,
    corridor_max_m: float = CORRIDOR_MAX_M,
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
    # a section runs with the link if its start->end vector points the same way as the link's
    # (each vector worked out once per section and per link, then taken for every pair)
    svec, lvec = _end_to_end(sec.geometry.to_numpy())[si], _end_to_end(straight.to_numpy())[li]
    forward = (svec * lvec).sum(axis=1) > 0
    tw = sec["two_way"].to_numpy()[si]
    keep = forward | tw
    sgeom = sec.geometry.to_numpy()[si[keep]]
    back = ~forward[keep]
    if back.any():  # a two-way section drawn the other way: used reversed
        sgeom[back] = shapely.reverse(sgeom[back])
    li = li[keep]

    geoms = straight.to_numpy().copy()
    source = np.full(len(links), "straight", dtype=object)
    order = np.argsort(li, kind="stable")
    li, sgeom = li[order], sgeom[order]
    if len(li):
        # each link's sections merged into parts (one vectorised call per step), then the parts'
        # ends projected on the link
        links_with = np.unique(li)
        merged = shapely.line_merge(shapely.multilinestrings(sgeom, indices=np.searchsorted(links_with, li)), directed=True)
        parts, owner = shapely.get_parts(merged, return_index=True)
        pk = links_with[owner]
        ends0, ends1 = shapely.get_point(parts, 0), shapely.get_point(parts, -1)
        t0 = shapely.line_locate_point(straight.to_numpy()[pk], ends0)
        t1 = shapely.line_locate_point(straight.to_numpy()[pk], ends1)
        pc, pidx = shapely.get_coordinates(parts, return_index=True)
        cuts = np.flatnonzero(np.r_[True, pidx[1:] != pidx[:-1]])
        part_coords = np.split(pc, cuts[1:])
        # chain each link's parts along it
        bounds = np.flatnonzero(np.r_[True, pk[1:] != pk[:-1], True])
        chain_k, chain_xy, chain_gaps = [], [], []
        for a, b in zip(bounds[:-1], bounds[1:]):
            xy, gaps = _chain_parts(part_coords[a:b], t0[a:b], t1[a:b])
            if len(xy) >= 2:
                chain_k.append(pk[a]); chain_xy.append(xy); chain_gaps.append(gaps)
        chain_k = np.asarray(chain_k, dtype=np.int64)
        chains = shapely.linestrings(np.concatenate(chain_xy), indices=np.repeat(np.arange(len(chain_xy)), [len(c) for c in chain_xy])) \
            if len(chain_xy) else np.array([], dtype=object)
        line = straight.to_numpy()[chain_k]
        p0, p1 = shapely.get_point(line, 0), shapely.get_point(line, -1)
        near = (shapely.distance(chains, p0) <= snap_m) & (shapely.distance(chains, p1) <= snap_m)
        s0, s1 = shapely.line_locate_point(chains, p0), shapely.line_locate_point(chains, p1)
        ok = near & (s1 > s0)
        q0, q1 = shapely.line_interpolate_point(chains[ok], s0[ok]), shapely.line_interpolate_point(chains[ok], s1[ok])
        q0, q1 = shapely.get_coordinates(q0), shapely.get_coordinates(q1)
        e0, e1 = shapely.get_coordinates(p0[ok]), shapely.get_coordinates(p1[ok])
        take = np.flatnonzero(ok)
        if len(take):
            rc, owner = _routes(chain_xy, take, s0, s1, q0, q1, e0, e1)
            # per route: the substring's length, the whole route's, and how far it runs backwards
            seg = np.hypot(np.diff(rc[:, 0]), np.diff(rc[:, 1]))
            same = owner[1:] == owner[:-1]
            seg = np.where(same, seg, 0.0)
            first = np.flatnonzero(np.r_[True, ~same])
            last = np.r_[first[1:], len(rc)] - 1
            route_len = np.add.reduceat(np.r_[seg, 0.0], first)
            sub_len = route_len - seg[first] - seg[last - 1]  # less the legs from and to the junctions
            k = chain_k[take]
            unit = (rc[last] - rc[first]) / np.maximum(L[k], 1e-9)[:, None]
            along = ((rc - rc[first][owner]) * unit[owner]).sum(axis=1)
            back = np.where(same, np.clip(-np.diff(along), 0, None), 0.0)
            backwards = np.add.reduceat(np.r_[back, 0.0], first)
            good = ~((np.asarray(chain_gaps)[take] > max_gap_frac * np.maximum(sub_len, 1.0))
                     | (route_len > max_detour * L[k] + 500.0)
                     | (backwards > np.maximum(max_backtrack_m, 0.05 * L[k])))  # a loop or a wrong turn in the chain
            keep_rows = good[owner]
            lines = shapely.linestrings(rc[keep_rows], indices=np.searchsorted(np.flatnonzero(good), owner[keep_rows]))
            geoms[k[good]] = lines
            source[k[good]] = "hapms"
    out = gpd.GeoDataFrame({"geometry_source": pd.array(source, dtype="string")}, geometry=geoms, index=links.index, crs=BNG)
    out["length_km"] = out.geometry.length / 1000.0
    straight_km = L / 1000.0
    short = out["length_km"].to_numpy() < straight_km - 1e-9
    if short.any():
        raise DataFormatError(
            f"{int(short.sum())} matched route(s) are shorter than the straight line between their junctions, e.g. "
            f"{out.index[short][:3].tolist()}; the pinned srn_graph/hapms files are not the expected ones: "
            "run `lisgeo data verify`, delete the mismatched files and run `lisgeo data fetch`"
        )
    return out[["length_km", "geometry_source", "geometry"]]



def _srn_in_reach(region, buffer_km: float) -> pd.DataFrame:
    buffer_km = reach_km("network", buffer_km)
    df = _srn_links()
    if region is None:
        return df
    reach = region_reach(region, buffer_km)
    lines = shapely.linestrings(np.stack([df[["x0", "y0"]].to_numpy(), df[["x1", "y1"]].to_numpy()], axis=1))
    return df[shapely.intersects(lines, reach)]


@register_layer("road_links", family="transport",
                description="Strategic Road Network links (directed, junction to junction): road, road_class, length_km, geometry_source (hapms|straight)",
                datasets=["srn_graph", "hapms"])
def load_road_links(*, region="d2n2", buffer_km: float | None = None) -> gpd.GeoDataFrame:
    """Directed SRN links that meet ``region`` buffered by ``buffer_km`` (default
    ``reach.network_km`` of the assumptions; ``region=None``: all England, read once per process).

    Columns: ``link_id`` (HATRIS LinkRef), ``from_node``/``to_node`` (junction clusters),
    ``road`` (e.g. "M1", "A1(M)", "A38"), ``road_class`` ("motorway"|"trunk"), ``straight_km``
    (junction-to-junction straight line, km, from the graph), ``length_km`` (km along the
    geometry), ``geometry_source`` ("hapms": follows the HAPMS carriageway; "straight").
    ``attrs["hapms_share"]`` is the share of links with a carriageway geometry.
    """
    if region is None:
        return _national_road_links().copy()
    df = _srn_in_reach(region, buffer_km)
    if df.empty:
        raise EmptyResultError(f"no Strategic Road Network link lies within {buffer_km} km of region {region!r}; increase buffer_km")
    # each link is matched to its carriageway on its own, so the region's links are the national
    # ones picked by id, in the graph's order, when those are at hand (this process, or the disk
    # cache); else only the region's links are matched (D2N2: 567 of 2,388 links, 0.4 s, not 1.7 s)
    national = _national_road_links_at_hand()
    if national is None:
        return _road_links(df, region, buffer_km)
    gdf = national.loc[df["link_id"].to_numpy()].copy()
    gdf.attrs["hapms_share"] = float((gdf["geometry_source"] == "hapms").mean())
    return gdf


def _national_key() -> str | None:
    from .. import cache as disk

    return disk.make_key({"kind": "road_links", "datasets": disk.dataset_digests(["srn_graph", "hapms"])}) if disk.enabled() else None


def _national_road_links_at_hand() -> gpd.GeoDataFrame | None:
    """England's matched links if this process has them or the disk cache holds them, else None."""
    from .. import cache as disk

    if _national_road_links.cache_info().currsize:
        return _national_road_links()
    key = _national_key()
    if key is not None and disk.entry_path("layers", f"{key}-road_links", ".parquet").is_file():
        return _national_road_links()
    return None


@lru_cache(maxsize=1)
def _national_road_links() -> gpd.GeoDataFrame:
    """All England's links with their carriageway geometry: the geometry matching takes about 5 s,
    so the result is kept in the disk cache (kind ``layers``), keyed on the pinned sha256 of the
    SRN graph and HAPMS files and on lisgeo's code."""
    from .. import cache as disk

    key = _national_key()
    if key is not None:
        hit = disk.load_frame("layers", f"{key}-road_links")
        if hit is not None:
            return hit
    gdf = _road_links(_srn_links(), None, 0.0)
    if key is not None:
        disk.store_frame("layers", f"{key}-road_links", gdf)
    return gdf


def _road_links(df: pd.DataFrame, region, buffer_km) -> gpd.GeoDataFrame:
    if df.empty:
        raise EmptyResultError(f"no Strategic Road Network link lies within {buffer_km} km of region {region!r}; increase buffer_km")
    lines = shapely.linestrings(np.stack([df[["x0", "y0"]].to_numpy(), df[["x1", "y1"]].to_numpy()], axis=1))
    links = gpd.GeoDataFrame({"route": route_key(df["road"]).to_numpy()}, geometry=lines, index=df.index, crs=BNG)
    bbox = None
    if region is not None:  # only the sections that can meet the links' corridors (at most CORRIDOR_MAX_M wide)
        x0, y0, x1, y1 = shapely.total_bounds(lines)
        m = CORRIDOR_MAX_M + 10.0
        bbox = (float(np.floor(x0 - m)), float(np.floor(y0 - m)), float(np.ceil(x1 + m)), float(np.ceil(y1 + m)))
    matched = match_link_geometry(links, _hapms_sections(bbox))
    gdf = gpd.GeoDataFrame(
        df[["link_id", "from_node", "to_node", "road", "road_class", "straight_km"]].assign(
            length_km=matched["length_km"], geometry_source=matched["geometry_source"]),
        geometry=matched.geometry, crs=BNG)
    # straight links take the graph's own distance (equal to the geometry's length within 1e-6 km)
    gdf["length_km"] = gdf["length_km"].where(gdf["geometry_source"] == "hapms", gdf["straight_km"])
    short = gdf["length_km"] < gdf["straight_km"] - 1e-6
    if short.any():
        raise DataFormatError(f"{int(short.sum())} road link(s) are shorter than the straight line between their ends "
                              f"(e.g. {gdf.loc[short, 'link_id'].head(3).tolist()}); the SRN graph or HAPMS file is not the pinned one")
    gdf = gdf.set_index("link_id", drop=False)
    gdf.index.name = None
    gdf = check_frame(gdf, name="road_links", required=["link_id"], geom_types=LINE, unique="link_id")
    share = float((gdf["geometry_source"] == "hapms").mean())
    gdf.attrs["hapms_share"] = share
    log.info("road_links: %d links, %.1f%% follow HAPMS carriageways", len(gdf), 100 * share)
    return finish_layer(gdf, name="road_links", datasets=["srn_graph", "hapms"])


@register_layer("road_nodes", family="transport", description="Strategic Road Network junction clusters at the ends of the region's road_links",
                datasets=["srn_graph"])
def load_road_nodes(*, region="d2n2", buffer_km: float | None = None) -> gpd.GeoDataFrame:
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
# Every motorway and A road of Great Britain (DfT major roads link network, 2013)
# --------------------------------------------------------------------------------------

#: Link ends closer than this (m) are one junction: the DfT links meet end to end, a few
#: digitised a few metres apart (at 20 m, 98.7 % of the junctions form one network; the rest
#: are islands).
JUNCTION_SNAP_M = 20.0
#: A DfT link is trunk (on the SRN) when it follows a HAPMS carriageway of its road, or its
#: middle lies within this distance (m) of one (short links the carriageway matching leaves out).
TRUNK_NEAR_M = 200.0
#: Largest spacing (m) of the points at which a link's setting (urban or rural) is read.
SETTING_STEP_M = 250.0


def node_endpoints(starts: np.ndarray, ends: np.ndarray, *, snap_m: float = JUNCTION_SNAP_M) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Junctions of links given by their (n, 2) start and end coordinates: ends within ``snap_m``
    of each other (transitively) are one junction, placed at the mean of its ends.

    Returns (from junction, to junction, (k, 2) junction coordinates); junctions are numbered
    0 .. k-1 in order of their first end (starts, then ends).
    """
    from scipy.sparse import coo_array
    from scipy.sparse.csgraph import connected_components
    from scipy.spatial import cKDTree

    xy = np.vstack([np.asarray(starts, dtype="float64"), np.asarray(ends, dtype="float64")])
    n = len(xy)
    pairs = cKDTree(xy).query_pairs(snap_m, output_type="ndarray") if n else np.empty((0, 2), dtype=np.int64)
    adj = coo_array((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    _, label = connected_components(adj, directed=False)
    # number junctions in order of first appearance (stable ids for the same file)
    _, first = np.unique(label, return_index=True)
    order = np.argsort(first)
    renum = np.empty(len(order), dtype=np.int64)
    renum[order] = np.arange(len(order))
    label = renum[label]
    k = len(order)
    cx = np.bincount(label, weights=xy[:, 0], minlength=k) / np.bincount(label, minlength=k)
    cy = np.bincount(label, weights=xy[:, 1], minlength=k) / np.bincount(label, minlength=k)
    m = len(starts)
    return label[:m], label[m:], np.column_stack([cx, cy])


def urban_share(lines: np.ndarray, *, threshold_per_km2: float, step_m: float = SETTING_STEP_M) -> np.ndarray:
    """Share of each LineString that runs through built-up land: the share of points along it
    (evenly spaced, at most ``step_m`` apart, at least the midpoint) whose 1 km cell of the UKCEH
    population grid holds more than ``threshold_per_km2`` people (for roads,
    ``road.urban_density_per_km2``). Cells outside the grid or NaN count as rural."""
    from .people import read_population_grid

    lines = np.asarray(lines, dtype=object)
    if not len(lines):
        return np.array([], dtype="float64")
    L = shapely.length(lines)
    n = np.maximum(1, np.ceil(L / step_m).astype(np.int64))
    owner = np.repeat(np.arange(len(lines)), n)
    start = np.r_[0, np.cumsum(n)[:-1]]
    frac = (np.arange(int(n.sum())) - np.repeat(start, n) + 0.5) / np.repeat(n, n)
    pts = shapely.get_coordinates(shapely.line_interpolate_point(lines[owner], frac, normalized=True))
    x0, y0, x1, y1 = pts[:, 0].min(), pts[:, 1].min(), pts[:, 0].max(), pts[:, 1].max()
    arr, transform, _ = read_population_grid(bounds=(x0 - 1.0, y0 - 1.0, x1 + 1.0, y1 + 1.0))
    col = np.floor((pts[:, 0] - transform.c) / transform.a).astype(np.int64)
    row = np.floor((pts[:, 1] - transform.f) / transform.e).astype(np.int64)
    inside = (row >= 0) & (row < arr.shape[0]) & (col >= 0) & (col < arr.shape[1])
    dens = np.zeros(len(pts))
    dens[inside] = arr[row[inside], col[inside]]  # people per 1 km cell = per km2
    urban = np.nan_to_num(dens, nan=0.0) > threshold_per_km2
    return np.bincount(owner, weights=urban.astype("float64"), minlength=len(lines)) / n


def _major_roads_raw() -> gpd.GeoDataFrame:
    path = resolve_dataset("major_roads")[0]
    try:
        gdf = gpd.read_file(f"zip://{path}!Major_roads_link_network2013.shp")
    except Exception as exc:  # noqa: BLE001 - pyogrio/fiona raise several kinds
        raise DataFormatError(f"{path.name} is not the DfT major roads link network shapefile ({type(exc).__name__}: {exc}); "
                              "run `lisgeo data verify` and `lisgeo data fetch`") from None
    gdf = check_frame(gdf, name="DfT major roads (Major_roads_link_network2013.shp)", required=["CP", "Road"], geom_types=LINE)
    if gdf.crs is None or gdf.crs.to_epsg() != 27700:
        raise DataFormatError("the DfT major roads shapefile is not in EPSG:27700; the pinned file is: run `lisgeo data verify`")
    return gdf


def _major_road_class(road: pd.Series) -> np.ndarray:
    """``"motorway"`` for M-roads and A(M) roads, else ``"a_road"``."""
    r = road.astype("string")
    mw = (r.str.match(r"^M\d") | r.str.match(r"^A\d+(\(M\)|M)$")).fillna(False).to_numpy(dtype=bool)
    return np.where(mw, "motorway", "a_road")


def _trunk_carriageway(chords: np.ndarray, routes: np.ndarray, sections: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray]:
    """For each chord: whether a HAPMS main carriageway of its own road passes within
    :data:`TRUNK_NEAR_M` of its middle, and whether those carriageways are single two-way ones."""
    mid = shapely.line_interpolate_point(chords, 0.5, normalized=True)
    near = np.zeros(len(chords), dtype=bool)
    single = np.zeros(len(chords), dtype=bool)
    if not len(chords) or sections.empty:
        return near, single
    tree = shapely.STRtree(sections.geometry.to_numpy())
    li, si = tree.query(mid, predicate="dwithin", distance=TRUNK_NEAR_M)
    same = sections["route"].to_numpy(dtype=object)[si] == routes[li]
    li, si = li[same], si[same]
    near[li] = True
    tw = sections["two_way"].to_numpy(dtype=bool)[si]
    # single where every nearby carriageway of the road is a two-way single one
    n_all = np.bincount(li, minlength=len(chords))
    n_tw = np.bincount(li, weights=tw.astype("float64"), minlength=len(chords))
    single = near & (n_tw == n_all)
    return near, single


def _major_roads_national(assumptions) -> gpd.GeoDataFrame:
    """Every DfT link with its junctions, class, trunk flag, carriageway, setting and length."""
    raw = _major_roads_raw()
    raw = raw[shapely.length(raw.geometry.to_numpy()) > 0]
    geoms = raw.geometry.to_numpy()
    s = shapely.get_coordinates(shapely.get_point(geoms, 0))
    e = shapely.get_coordinates(shapely.get_point(geoms, -1))
    fr, to, jxy = node_endpoints(s, e)
    keep = fr != to
    raw, s, e, fr, to = raw[keep], s[keep], e[keep], fr[keep], to[keep]
    chords = shapely.linestrings(np.stack([jxy[fr], jxy[to]], axis=1))
    road = raw["Road"].astype("string").str.strip()
    route = route_key(road).to_numpy(dtype=object)
    cls = _major_road_class(road)
    chord_km = shapely.length(chords) / 1000.0
    ok = chord_km > 0
    raw, chords, road, route, cls, chord_km, fr, to = raw[ok], chords[ok], road[ok], route[ok], cls[ok], chord_km[ok], fr[ok], to[ok]
    sections = _hapms_sections(None)
    on_srn = np.isin(route, sections["route"].unique())
    links = gpd.GeoDataFrame({"route": route[on_srn]}, geometry=chords[on_srn], crs=BNG)
    matched = match_link_geometry(links, sections)
    source = np.full(len(raw), "dft", dtype=object)
    geom = chords.copy()
    length = chord_km * np.where(cls == "motorway", assumptions["road.chord_detour_motorway"], assumptions["road.chord_detour_a_road"])
    hap = matched["geometry_source"].to_numpy(dtype=object) == "hapms"
    idx = np.flatnonzero(on_srn)[hap]
    source[idx] = "hapms"
    geom[idx] = matched.geometry.to_numpy()[hap]
    length[idx] = matched["length_km"].to_numpy()[hap]
    near, single = _trunk_carriageway(chords, route, sections)
    trunk = near | (source == "hapms")
    carriageway = np.where(cls == "motorway", "dual", np.where(trunk, np.where(single, "single", "dual"), None))
    cls = np.where((cls == "a_road") & trunk, "trunk", cls)
    share = urban_share(geom, threshold_per_km2=assumptions["road.urban_density_per_km2"])
    cp = pd.to_numeric(raw["CP"], errors="coerce").round().astype("Int64")
    ids = ("CP" + cp.astype("string")).fillna("link" + pd.Series(np.arange(len(raw)), index=raw.index).astype("string"))
    ids = ids.where(~ids.duplicated(keep=False), ids + "_" + pd.Series(np.arange(len(raw)), index=raw.index).astype("string"))
    gdf = gpd.GeoDataFrame({
        "link_id": ids.to_numpy(dtype=object), "cp": cp.to_numpy(), "road": road.to_numpy(dtype=object),
        "road_class": cls, "trunk": trunk, "carriageway": pd.array(carriageway, dtype="string"),
        "urban_share": share, "from_node": fr, "to_node": to, "chord_km": chord_km, "length_km": length,
        "geometry_source": pd.array(source, dtype="string"),
    }, geometry=geom, crs=BNG)
    gdf = gdf.set_index("link_id", drop=False)
    gdf.index.name = None
    gdf.attrs["junctions"] = jxy
    return gdf


def _major_roads_key(assumptions) -> str | None:
    from .. import cache as disk

    if not disk.enabled():
        return None
    keys = ("road.urban_density_per_km2", "road.chord_detour_motorway", "road.chord_detour_a_road")
    return disk.make_key({"kind": "major_roads", "datasets": disk.dataset_digests(["major_roads", "hapms", "population_grid_1km"]),
                          "assumptions": {k: assumptions[k] for k in keys}})


@lru_cache(maxsize=2)
def _national_major_roads(key_values: tuple) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Great Britain's major road links and junctions (about 2 s to make; kept in the disk cache)."""
    from .. import cache as disk
    from ..assumptions import load_assumptions

    a = load_assumptions(**{k.replace(".", "__"): v for k, v in key_values})
    key = _major_roads_key(a)
    if key is not None:
        links = disk.load_frame("layers", f"{key}-major_roads")
        nodes = disk.load_frame("layers", f"{key}-major_road_nodes")
        if links is not None and nodes is not None:
            return links, nodes
    links = _major_roads_national(a)
    jxy = links.attrs.pop("junctions")
    used = np.unique(np.r_[links["from_node"].to_numpy(), links["to_node"].to_numpy()])
    nodes = gpd.GeoDataFrame({"node_id": used}, geometry=shapely.points(jxy[used]), index=used, crs=BNG)
    nodes.index.name = None
    if key is not None:
        disk.store_frame("layers", f"{key}-major_roads", links)
        disk.store_frame("layers", f"{key}-major_road_nodes", nodes)
    return links, nodes


def _major_key_values(assumptions=None) -> tuple:
    from ..assumptions import as_assumptions

    a = as_assumptions(assumptions)
    return tuple((k, a[k]) for k in ("road.urban_density_per_km2", "road.chord_detour_motorway", "road.chord_detour_a_road"))


def _joined_reach(reach: shapely.Geometry, buffer_km: float) -> shapely.Geometry:
    """``reach`` with corridors joining its pieces, for a region of districts far apart (e.g. High Peak
    and Oadby and Wigston): without them each piece has its own roads and one piece's zones cannot
    drive to the other's. The pieces are joined along a minimum spanning tree of their gaps, each a
    corridor ``buffer_km`` wide about the shortest line across the gap."""
    parts = list(shapely.get_parts(reach))
    if len(parts) < 2:
        return reach
    joined, rest, corridors = [parts[0]], parts[1:], []
    while rest:  # Prim's algorithm over the pieces (a handful)
        _, i, j = min((shapely.distance(a, b), i, j) for i, a in enumerate(joined) for j, b in enumerate(rest))
        corridors.append(shapely.shortest_line(joined[i], rest[j]).buffer(buffer_km * 500.0))
        joined.append(rest.pop(j))
    return shapely.union_all([reach, *corridors])


def _major_in_reach(region, buffer_km, assumptions=None) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    links, nodes = _national_major_roads(_major_key_values(assumptions))
    if region is None:
        return links, nodes
    buffer_km = reach_km("network", buffer_km)
    reach = _joined_reach(region_reach(region, buffer_km), buffer_km)
    chords = shapely.linestrings(np.stack([shapely.get_coordinates(nodes.geometry.loc[links["from_node"]].to_numpy()),
                                           shapely.get_coordinates(nodes.geometry.loc[links["to_node"]].to_numpy())], axis=1))
    sub = links[shapely.intersects(chords, reach)]
    if sub.empty:
        raise EmptyResultError(f"no motorway or A road lies within {buffer_km} km of region {region!r}; increase buffer_km")
    ends = np.unique(np.r_[sub["from_node"].to_numpy(), sub["to_node"].to_numpy()])
    return sub, nodes.loc[ends]


@register_layer("major_roads", family="transport",
                description="Every motorway and A road of Great Britain (DfT 2013), junction to junction, two-way: road, road_class "
                            "(motorway|trunk|a_road), trunk, carriageway, urban_share, length_km, geometry_source (hapms|dft)",
                datasets=["major_roads", "hapms", "population_grid_1km"])
def load_major_roads(*, region="d2n2", buffer_km: float | None = None, assumptions=None) -> gpd.GeoDataFrame:
    """The motorways and A roads that meet ``region`` buffered by ``buffer_km`` (default
    ``reach.network_km``; ``region=None``: all of Great Britain).

    Columns: ``link_id`` ("CP<count point>"), ``cp``, ``road`` ("M1", "A6", "A1(M)"),
    ``road_class`` ("motorway"; "trunk": an A road of England's Strategic Road Network, whose
    HAPMS carriageway it follows; "a_road": any other A road), ``trunk`` (bool: motorways and
    trunk A roads on the SRN), ``carriageway`` ("dual" | "single"; NA where the data cannot tell,
    non-trunk A roads), ``urban_share`` (0-1, :func:`urban_share`), ``from_node`` / ``to_node``
    (junctions of ``major_road_nodes``), ``chord_km`` (straight line between the junctions),
    ``length_km`` (road length: along the HAPMS carriageway where ``geometry_source == "hapms"``,
    else ``chord_km`` × ``road.chord_detour_motorway`` or ``road.chord_detour_a_road``). Links are
    two-way (one row per link; the network adds both directions). The network is that of 2013:
    roads opened since (e.g. the A555 Manchester Airport relief road, 2018) are missing.
    """
    links, _ = _major_in_reach(region, buffer_km, assumptions)
    out = links.copy()
    out.attrs["hapms_share"] = float((out["geometry_source"] == "hapms").mean())
    return finish_layer(out, name="major_roads", datasets=["major_roads", "hapms", "population_grid_1km"])


@register_layer("major_road_nodes", family="transport", description="Junctions of the major_roads links within reach of the region",
                datasets=["major_roads"])
def load_major_road_nodes(*, region="d2n2", buffer_km: float | None = None, assumptions=None) -> gpd.GeoDataFrame:
    """Junctions (``node_id``) at either end of the ``major_roads`` links within reach of ``region``."""
    _, nodes = _major_in_reach(region, buffer_km, assumptions)
    out = check_frame(nodes.copy(), name="major_road_nodes", geom_types=POINT, unique="node_id")
    return finish_layer(out, name="major_road_nodes", datasets=["major_roads"])
