"""Score a region: one row per LSOA 2021 with travel times, accessibility, connectivity and indices.

:func:`score_region` runs the stages in order, each a function of its own:

1. :func:`load_inputs` – the layers (zones, polygons, deprivation, jobs, digital, stops, stations, sites);
2. :func:`score_network` – the network of the scenario, with the contract's fixed sites;
3. :func:`graph_times` and :func:`travel_times` – the travel-time matrices (car; rail to the destination groups
   and to jobs; the first needs only the network);
4. :func:`measure_zones` – every measure of the column contract, from the pure functions of
   :mod:`lisgeo.measures`;
5. :func:`finish_scores` – indices, unreachable flags, geometry and provenance (``attrs``).

The column contract, methods and units: :mod:`lisgeo.measures.columns` and ``docs/scores.md``.
:func:`write_scores` writes ``scores.gpkg`` (layer ``lsoa``), ``scores.csv`` and ``claims.csv``.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd

from ..assumptions import reach_km
from ..errors import DataNotFoundError, EmptyResultError, MissingColumnError, ParameterError, UnknownNameError
from ..measures.accessibility import cumulative_opportunities, e2sfca, gravity_access, nearest_time
from ..measures.columns import CONTRACT, FIXED_SITES, RAIL_DESTINATIONS, SITE_COLUMNS, TIME_COLUMNS, column_name
from ..measures.connectivity import digital_score, rail_trains_nearest, stops_within
from ..measures.indices import add_indices, load_index_config
from ..regions import Region, get_region

__all__ = ["Inputs", "TravelTimes", "GraphTimes", "load_inputs", "score_network", "graph_times", "travel_times",
           "measure_zones", "finish_scores", "score_region", "write_scores", "scores_to_frame", "fixed_sites"]

log = logging.getLogger(__name__)


class _Clock:
    """Seconds per stage (``attrs["timings"]``), printed to stderr with ``progress``."""

    def __init__(self, progress: bool):
        self.progress, self.t0, self.last, self.stages = progress, time.perf_counter(), time.perf_counter(), {}

    def __call__(self, stage: str) -> None:
        now = time.perf_counter()
        self.stages[stage] = round(now - self.last, 3)
        self.last = now
        msg = f"score: {stage} {self.stages[stage]:.2f} s"
        log.info(msg)
        if self.progress and not log.isEnabledFor(logging.INFO):  # (else the log shows it already: the command's)
            print(msg, file=sys.stderr, flush=True)

    @property
    def total(self) -> float:
        return round(time.perf_counter() - self.t0, 3)


@dataclass
class Inputs:
    """The layers a scoring run reads, for one region (all EPSG:27700, indexed by their codes)."""

    region: Region
    zones: gpd.GeoDataFrame      # LSOA 2021 population-weighted centroids, index LSOA21CD
    polygons: gpd.GeoDataFrame   # LSOA 2021 polygons, index LSOA21CD
    imd: pd.DataFrame            # IoD 2025 main indices (no polygons), index LSOA21CD
    jobs: pd.Series              # jobs located in each zone
    digital: pd.DataFrame
    stops: gpd.GeoDataFrame
    stations: gpd.GeoDataFrame   # stations with weekday trains in reach of the region
    sites: gpd.GeoDataFrame      # sites in reach of the region

    @property
    def codes(self) -> pd.Index:
        return self.zones.index

    def attribution(self) -> list[str]:
        return [d.attrs.get("attribution", "") for d in (self.polygons, self.zones, self.imd, self.digital, self.stops,
                                                          self.stations, self.sites)]


def _by_code(df: pd.DataFrame, col: str = "LSOA21CD") -> pd.DataFrame:
    out = df.set_index(df[col].astype(str), drop=False)
    out.index.name = None
    return out


def load_inputs(region: Any = "d2n2") -> Inputs:
    """Stage 1: read every layer the scores need for ``region`` (any districts of England).

    ``sites`` may be empty (a region the authored sites do not reach and no ``--sites`` file: the
    scores then have no site columns, :func:`fixed_sites`); ``stops`` says in its ``attrs`` which
    ATCO areas of NaPTAN within reach the data lack (:func:`lisgeo.layers.stops.stop_areas`), and
    :func:`measure_zones` leaves ``stops_800m`` missing near them."""
    from ..layers.boundaries import load_lsoa21
    from ..layers.deprivation import load_imd2025_main
    from ..layers.digital import load_digital_lsoa21
    from ..layers.jobs import load_jobs_lsoa21
    from ..layers.people import load_lsoa21_centroids
    from ..layers.sites import load_sites
    from ..layers.stops import load_stops

    reg = get_region(region)
    zones = _by_code(load_lsoa21_centroids(region=reg))
    jobs_layer = _by_code(load_jobs_lsoa21(region=reg))
    jobs = pd.to_numeric(jobs_layer["jobs"], errors="coerce")
    lack = zones.index.difference(jobs.dropna().index)
    if len(lack):
        raise MissingColumnError(f"{len(lack)} zones lack a jobs count (e.g. {list(lack[:3])}); check the jobs_lsoa21 layer")
    stations = _served_station_frame(reg)
    if stations.empty:
        raise EmptyResultError(f"no rail station with weekday trains lies within reach of {reg.label}")
    jobs = jobs.reindex(zones.index)
    jobs.attrs = dict(jobs_layer.attrs)
    return Inputs(
        region=reg, zones=zones, polygons=_by_code(load_lsoa21(region=reg)), imd=load_imd2025_main(region=reg),
        jobs=jobs, digital=_by_code(load_digital_lsoa21(region=reg)), stops=load_stops(region=reg),
        stations=stations, sites=load_sites(region=reg, buffer_km=reach_km("network")),
    )


def _served_station_frame(reg: Region) -> gpd.GeoDataFrame:
    """The stations the scores use: with weekday trains, in reach of ``reg`` or the nearest of one of
    its zones. (Great Britain's stations, which the network reads through the layers cache, cut to the
    reach, without counting GB's trains again.)"""
    from ..layers import load_layer
    from ..layers.boundaries import region_reach
    from ..layers.people import load_lsoa21_centroids

    gb = load_layer("rail_stations", region=None)
    served = gb[(pd.to_numeric(gb["daily_trains"], errors="coerce") > 0).to_numpy()]
    near = served.intersects(region_reach(reg, reach_km("stations"))).to_numpy().copy()
    # and each zone's nearest, however far (Bude's is Barnstaple, 36 km away and 32 km beyond Cornwall)
    if len(served):
        from scipy.spatial import cKDTree

        z = load_lsoa21_centroids(region=reg).geometry
        _, j = cKDTree(np.column_stack([served.geometry.x, served.geometry.y])).query(np.column_stack([z.x, z.y]))
        near[np.unique(j)] = True
    return served[near]


def fixed_sites(region: Any) -> dict[str, str]:
    """The fixed sites of the contract (:data:`~lisgeo.measures.columns.FIXED_SITES`: HS2 Toton and
    Chesterfield, East Midlands Airport, Ratcliffe-on-Soar) that ``region``'s scores time, column ->
    site id: all four for a region with a district of D2N2 or Leicester and Leicestershire (the
    strategies that name them); elsewhere each one lying within ``reach.network_km`` of the region
    (whose roads the region's network holds already). The others' columns are absent from the
    scores: Cornwall is not given its drive to Toton, nor built the roads to it."""
    from ..layers.boundaries import region_reach
    from ..layers.sites import read_sites_table
    from ..regions import DISTRICTS

    reg = get_region(region)
    if any(c in DISTRICTS for c in reg.lad_codes):
        return dict(FIXED_SITES)
    table = read_sites_table(None).set_index("site_id")
    ids = [sid for sid in FIXED_SITES.values() if sid in table.index]
    if not ids:
        return {}
    pts = gpd.GeoSeries(gpd.points_from_xy(table.loc[ids, "lon"], table.loc[ids, "lat"]), crs="EPSG:4326", index=ids).to_crs("EPSG:27700")
    near = set(pts.index[pts.within(region_reach(reg, reach_km("network")))])
    return {col: sid for col, sid in FIXED_SITES.items() if sid in near}


def score_network(region: Any, *, scenario: Any = "base", assumptions: Any = None, sites: Iterable[str] = (),
                  gtfs: Any = None, gtfs_date: Any = None, departure: str = "08:00", window_min: int = 60,
                  cif: Any = None) -> nx.MultiDiGraph:
    """Stage 2: the network of ``scenario`` with the contract's fixed sites in reach (:func:`fixed_sites`) and ``sites`` in it (and the
    GTFS timetables ``gtfs`` for ``mode="transit"`` when given; the rail timetable ``cif`` for the
    rail running times, :func:`lisgeo.network.build_network`)."""
    from ..network import build_network

    return build_network(region=region, scenario=scenario, assumptions=assumptions,
                         sites=list(dict.fromkeys([*fixed_sites(region).values(), *sites])), gtfs=gtfs, gtfs_date=gtfs_date,
                         departure=departure, window_min=window_min, copy=False, cif=cif)  # read only: no copy


@dataclass
class TravelTimes:
    """Stage 3's matrices (minutes, NaN unreachable), rows = zone codes."""

    car: pd.DataFrame            # zones × (zones, job destinations, sites, stations: see graph_times)
    rail_groups: pd.DataFrame    # zones × the nodes of the rail destination groups
    rail_jobs: pd.DataFrame      # zones × (zones, job destinations) within 60 min
    dest_jobs: pd.Series         # jobs at the job destinations beyond the region (by node id)
    groups: dict[str, list[str]] = field(default_factory=dict)  # contract column -> its group's nodes
    ez_ids: list[str] = field(default_factory=list)
    station_ids: list[str] = field(default_factory=list)
    active: dict[str, pd.DataFrame] = field(default_factory=dict)  # "walk"/"bicycle": zones × (zones, job destinations)
    transit_groups: pd.DataFrame | None = None  # with GTFS: zones × the nodes of the destination groups
    transit_jobs: pd.DataFrame | None = None    # with GTFS: zones × (zones, job destinations) within 60 min
    road_cut: dict[str, str] = field(default_factory=dict)  # zone code -> why it joins the main roads nowhere (an island)


@dataclass
class GraphTimes:
    """The matrices of stage 3 that need only the network (so they can run before the layers are in):
    rows = the network's zones (codes); car to every zone, job destination, site and station (the
    stations as far as the farthest zone's nearest one, NaN beyond: :func:`_station_times`)."""

    car: pd.DataFrame
    rail_groups: pd.DataFrame
    rail_jobs: pd.DataFrame
    dest_jobs: pd.Series
    groups: dict[str, list[str]]
    transit_groups: pd.DataFrame | None = None
    transit_jobs: pd.DataFrame | None = None


def graph_times(G: nx.MultiDiGraph, *, sites: Iterable[str] = (), stations: Iterable[str] | None = None) -> GraphTimes:
    """Stage 3a: the matrices that need only the network ``G``: car times from every zone to every
    zone, job destination, site and station (street side; ``stations``: only these CRS codes) the
    car network reaches (to the stations: as far as the farthest zone's nearest station, NaN beyond,
    which is all the scores take from them); rail times to the destination groups and, within 60
    minutes, to every zone and job destination; with GTFS, the transit times likewise.
    :func:`travel_times` picks from them what the region's layers ask for."""
    from ..network import build_engine, destination_nodes, travel_time_matrix
    from ..network.schema import NodeKind, NodeRole, has_role, node_code, node_id

    sites_in_graph = {n for n, k in G.nodes(data="kind") if k == NodeKind.SITE}
    # the fixed sites the network holds (fixed_sites: those in reach of its region), and those asked for
    need_sites = list(dict.fromkeys([*(s for s in FIXED_SITES.values() if node_id(NodeRole.SITE, s) in sites_in_graph), *sites]))
    for sid in need_sites:
        if node_id(NodeRole.SITE, sid) not in sites_in_graph:
            raise UnknownNameError("site", sid, sorted(s.split(":", 1)[1] for s in sites_in_graph),
                                   "Site ids come from the sites layer (`lisgeo layers export sites`).")
    zones = [n for n, k in G.nodes(data="kind") if k == NodeKind.ZONE]
    codes = [node_code(n) for n in zones]
    dests = [n for n, k in G.nodes(data="kind") if k == NodeKind.DEST]
    dest_jobs = pd.Series([float(G.nodes[n].get("jobs", 0.0)) for n in dests], index=dests, dtype="float64")
    car_engine = build_engine(G, mode="car")
    car_nodes = car_engine.index
    wanted = None if stations is None else {node_id(NodeRole.STATION, c) for c in stations}
    station_nodes = [n for n, ok in zip(car_nodes, has_role(list(car_nodes), NodeRole.STATION))
                     if ok and (wanted is None or n in wanted)]
    site_nodes = [n for n, k in G.nodes(data="kind") if k == NodeKind.SITE]
    car = travel_time_matrix(G, codes, codes + dests + site_nodes, mode="car")
    if station_nodes:
        car = _with_station_times(car, car_engine, station_nodes)
    groups = {col: destination_nodes(G, name) for col, name in RAIL_DESTINATIONS.items()}
    group_nodes = list(dict.fromkeys(n for g in groups.values() for n in g))
    rail = travel_time_matrix(G, codes, group_nodes, mode="rail")
    # jobs by rail are counted within 60 minutes only: the cut-off bounds the search
    rail_jobs = travel_time_matrix(G, codes, codes + dests, mode="rail", cutoff_min=60.0)
    transit_groups = transit_jobs = None
    if G.graph.get("transit_feed") is not None:
        transit_groups = travel_time_matrix(G, codes, group_nodes, mode="transit", cutoff_min=180.0)
        transit_jobs = travel_time_matrix(G, codes, codes + dests, mode="transit", cutoff_min=60.0)
    return GraphTimes(car, rail, rail_jobs, dest_jobs, groups, transit_groups, transit_jobs)


def _station_times(engine: Any, codes: list[str], station_nodes: list[str]) -> pd.DataFrame:
    """Car minutes from the zones ``codes`` to the stations, as far as the farthest zone's nearest
    station (NaN beyond): all the scores take from them is each zone's nearest station
    (``tt_car_nearest_station``, ``rail_trains_nearest``), and every station as near as a zone's
    nearest is in, with the time a full search gives, so the nearest and its ties are the same. One
    search backwards from every station finds that bound; each station's own search then stops
    there (D2N2: 311 searches across the whole network, 0.3 s, became bounded ones)."""
    near = engine.nearest_times(codes, station_nodes)
    bound = float(near.max()) if near.notna().any() else np.nan
    if not np.isfinite(bound) or bound <= 0:
        return engine.matrix(codes, station_nodes)
    return engine.matrix(codes, station_nodes, cutoff_min=bound * (1 + 1e-9) + 1e-9)


def _with_station_times(car: pd.DataFrame, engine: Any, station_nodes: list[str]) -> pd.DataFrame:
    """The car matrix ``car`` (rows: zone codes) with its columns of ``station_nodes`` made by
    :func:`_station_times` (any it had are replaced)."""
    st = _station_times(engine, list(car.index), station_nodes)
    drop = set(station_nodes)
    keep = [c for c in car.columns if c not in drop]
    out = pd.concat([car[keep] if len(keep) < len(car.columns) else car, st.set_axis(car.index)], axis=1)
    out = out.rename_axis(columns=car.columns.name)
    out.attrs = dict(car.attrs, stations_cutoff_min=st.attrs.get("cutoff_min"))
    return out


def travel_times(G: nx.MultiDiGraph, inputs: Inputs, *, sites: Iterable[str] = (), street_graph: Any = None,
                 network: GraphTimes | None = None) -> TravelTimes:
    """Stage 3: car times from every zone to zones, job destinations, sites and stations; rail
    times to the destination groups and (within 60 minutes) to every zone and job destination;
    walking and cycling times (within 45 minutes) to every zone and job destination, on
    ``street_graph`` if given, else crow-fly × circuity (:mod:`lisgeo.network.active`).
    ``network``: :func:`graph_times` of ``G`` made already (e.g. while the layers were read)."""
    from ..network import travel_time_matrix
    from ..network.active import active_travel_matrix
    from ..network.schema import NodeRole, has_role, node_code, node_id

    gt = graph_times(G, sites=sites, stations=inputs.stations.index.astype(str)) if network is None else network
    codes = list(inputs.codes)
    missing = pd.Index(codes).difference(gt.car.index)
    if len(missing):
        raise ParameterError(f"{len(missing)} zone(s) of the layers are not in the network (e.g. {list(missing[:3])}); "
                             "build the network for the same region")
    need_sites = list(dict.fromkeys([*(s for s in FIXED_SITES.values() if node_id(NodeRole.SITE, s) in G), *sites]))
    site_layer = inputs.sites
    # the nearest Enterprise Zone only where the sites data cover the region (else it would be the
    # nearest of those the data happen to hold: the column is left out, finish_scores says why)
    ez_ids = [s for s in site_layer.index[site_layer["category"] == "enterprise_zone"].astype(str)
              if node_id(NodeRole.SITE, s) in gt.car.columns] if _sites_cover(inputs.region) else []
    station_ids = [c for c in inputs.stations.index.astype(str) if node_id(NodeRole.STATION, c) in G]
    if not station_ids:
        raise EmptyResultError(f"no rail station of the network lies within reach of {inputs.region.label}")
    dests = list(gt.dest_jobs.index)
    car_dest = (codes + dests + [node_id(NodeRole.SITE, s) for s in dict.fromkeys(need_sites + ez_ids)]
                + [node_id(NodeRole.STATION, c) for c in station_ids])
    car = gt.car
    st_cols = [node_id(NodeRole.STATION, c) for c in station_ids]
    absent = [c for c in car_dest if c not in car.columns and c not in set(st_cols)]
    if absent:
        car = pd.concat([car, travel_time_matrix(G, list(car.index), absent, mode="car")], axis=1)
        car.attrs = dict(gt.car.attrs)
    if any(c not in car.columns for c in st_cols):  # (graph_times made for other stations: these ones, as it makes them)
        from ..network import build_engine

        car = _with_station_times(car, build_engine(G, mode="car"), st_cols)
    car = car.reindex(index=pd.Index(codes, name=gt.car.index.name), columns=pd.Index(car_dest, name=gt.car.columns.name))
    car.attrs = dict(gt.car.attrs)

    def rows(df: pd.DataFrame | None) -> pd.DataFrame | None:
        if df is None:
            return None
        out = df.reindex(index=pd.Index(codes, name=df.index.name))
        out.attrs = dict(df.attrs)
        return out

    targets = pd.concat([pd.DataFrame({"x": inputs.zones.geometry.x.to_numpy(), "y": inputs.zones.geometry.y.to_numpy()},
                                      index=pd.Index(codes)),
                         pd.DataFrame({"x": [G.nodes[n]["x"] for n in dests], "y": [G.nodes[n]["y"] for n in dests]},
                                      index=pd.Index(dests))])
    a = G.graph.get("assumptions")
    active = {m: active_travel_matrix(targets.loc[codes], targets, mode=m, max_time_min=45.0, street_graph=street_graph,
                                      assumptions=a) for m in ("walk", "bicycle")}
    cut = {node_code(n): why for n, why in (G.graph.get("road_cut") or {}).items() if has_role([n], NodeRole.ZONE)[0]}
    return TravelTimes(car, rows(gt.rail_groups), rows(gt.rail_jobs), gt.dest_jobs, gt.groups, ez_ids, station_ids, active,
                       rows(gt.transit_groups), rows(gt.transit_jobs), road_cut=cut)


def _columns(df: pd.DataFrame, cols: list) -> pd.DataFrame:
    """``df[cols]``, or ``df`` itself when its columns are those already (the matrices are made in
    that order: no copy of 30 MB)."""
    if len(df.columns) == len(cols) and (df.columns == pd.Index(cols)).all():
        return df
    return df[cols]


def measure_zones(inputs: Inputs, tt: TravelTimes, *, config: dict, sites: Iterable[str] = ()) -> pd.DataFrame:
    """Stage 4: every measure of the contract (and the extra columns), one row per zone."""
    from ..network.schema import NodeRole, node_code, node_id

    codes = inputs.codes
    z = inputs.zones
    out = pd.DataFrame(index=codes)
    for col in ("LSOA21CD", "LSOA21NM", "LADCD", "LADNM", "LEP", "pop"):
        out[col] = z[col].to_numpy()
    out["imd_decile"] = pd.to_numeric(inputs.imd["imd_decile"], errors="coerce").reindex(codes).astype("Int64").to_numpy()

    car = tt.car
    for col, sid in FIXED_SITES.items():
        if node_id(NodeRole.SITE, sid) in car.columns:  # (a fixed site out of the region's reach: no column)
            out[col] = car[node_id(NodeRole.SITE, sid)].to_numpy()
    for sid in sites:
        out[column_name("tt", mode="car", target=sid)] = car[node_id(NodeRole.SITE, sid)].to_numpy()
    if tt.ez_ids:
        ez = nearest_time(car[[node_id(NodeRole.SITE, s) for s in tt.ez_ids]], name="tt_car_nearest_ez")
        out["tt_car_nearest_ez"] = ez["tt_car_nearest_ez"].to_numpy()
        out["tt_car_nearest_ez_id"] = pd.array([pd.NA if pd.isna(v) else node_code(v) for v in ez["tt_car_nearest_ez_id"]],
                                               dtype="string")
    st_tt = car[[node_id(NodeRole.STATION, c) for c in tt.station_ids]]
    st_tt.columns = tt.station_ids
    st = nearest_time(st_tt, name="tt_car_nearest_station")
    out["tt_car_nearest_station"] = st["tt_car_nearest_station"].to_numpy()
    out["tt_car_nearest_station_id"] = st["tt_car_nearest_station_id"].to_numpy()
    for col, group in tt.groups.items():
        out[col] = tt.rail_groups[group].min(axis=1, skipna=True).to_numpy()

    jobs = inputs.jobs
    out["jobs"] = jobs.to_numpy()
    # cumulative and gravity measures count jobs across the region's edge too (job destinations);
    # E2SFCA stays within the region, where both the jobs and the competing residents are known
    dests = list(tt.dest_jobs.index)
    jobs_all = pd.concat([jobs, tt.dest_jobs])
    every = list(codes) + dests
    car_all = _columns(car, every)
    cum = cumulative_opportunities(car_all, jobs_all, thresholds=(30, 45, 60), mode="car")
    for c in cum.columns:
        out[c] = cum[c].to_numpy()
    rail_all = _columns(tt.rail_jobs, every)
    out["jobs_rail_60"] = cumulative_opportunities(rail_all, jobs_all, thresholds=(60,), mode="rail")["jobs_rail_60"].to_numpy()
    out["acc_gravity_car"] = gravity_access(car_all, jobs_all, mode="car").to_numpy()
    demand = pd.to_numeric(out["pop"], errors="coerce").astype("float64")
    out["e2sfca_jobs_car"] = e2sfca(car[list(codes)], jobs, demand, mode="car").to_numpy()
    if tt.transit_groups is not None:  # walk + bus + tram + rail by timetable (GTFS)
        for col, group in tt.groups.items():
            out[col.replace("tt_rail_", "tt_transit_")] = tt.transit_groups[group].min(axis=1, skipna=True).to_numpy()
        tr_all = _columns(tt.transit_jobs, every)
        cum = cumulative_opportunities(tr_all, jobs_all, thresholds=(30, 45, 60), mode="transit")
        for c in cum.columns:
            out[c] = cum[c].to_numpy()
        out["acc_gravity_transit"] = gravity_access(tr_all, jobs_all, mode="transit").to_numpy()
    for mode, tt_m in tt.active.items():
        tt_m = _columns(tt_m, every)
        cum = cumulative_opportunities(tt_m, jobs_all, thresholds=(15, 30, 45), mode=mode)
        for c in cum.columns:
            out[c] = cum[c].to_numpy()
        out[column_name("gravity", mode=mode)] = gravity_access(tt_m, jobs_all, mode=mode).to_numpy()

    out["stops_800m"] = stops_within(z, inputs.stops, radius_m=800, modes=("bus", "tram")).to_numpy()
    rt = rail_trains_nearest(z, inputs.stations.loc[tt.station_ids], tt=st_tt)
    for c in ("rail_trains_nearest", "rail_nearest_crs", "rail_nearest_km"):
        out[c] = rt[c].to_numpy()
    dig = inputs.digital.reindex(codes)
    out["digital_indicator"] = pd.to_numeric(dig["digital_indicator"], errors="coerce").to_numpy()
    out["digital_score"] = digital_score(dig["digital_indicator"]).to_numpy()
    out["digital_coldspot"] = dig["coldspot"].astype("boolean").fillna(False).astype(bool).to_numpy()
    # what a zone's measures lack for want of data or network, and why (zone by zone: a block of a
    # large region makes the same flags as the whole region would)
    cut = tt.road_cut
    flags = np.asarray(["" if c not in cut else f"car: the zone lies {cut[c]}; car times beyond its own roads are missing"
                        for c in codes], dtype=object)
    out, stop_flags = _without_missing_stops(out, inputs)
    flags = np.where(stop_flags == "", flags, np.where(flags == "", stop_flags, flags + "; " + stop_flags))
    out["data_flags"] = pd.array(_with_far_station_flags(out, flags, inputs), dtype="string")
    return out


def finish_scores(out: pd.DataFrame, inputs: Inputs, *, config: dict, reference: gpd.GeoDataFrame | None = None,
                  time_columns: Iterable[str] = TIME_COLUMNS) -> gpd.GeoDataFrame:
    """Stage 5: the indices (on ``reference``'s scale if given), the unreachable flags, the contract
    order and the LSOA polygons.

    A site column of the contract the region has no site for (:data:`SITE_COLUMNS`: see
    :func:`fixed_sites` and :func:`travel_times`) is absent, not NaN: its index weight is left out and
    ``attrs["absent_columns"]`` says why. ``data_flags`` is :func:`measure_zones`'s (stops missing
    near ATCO areas the data lack, an island's car times, a station beyond the car's reach)."""
    if reference is not None:
        # the same region (a base scenario), or a larger one holding it (England: the region ranked nationally)
        lack = out.index.difference(reference.index)
        if len(lack):
            raise ParameterError(f"the reference scores lack {len(lack)} of the region's LSOAs (e.g. {list(lack[:3])}); give the "
                                 "scores of the same region (a base scenario) or of a region holding it (--reference england)")
        reference = reference.loc[out.index] if len(reference) == len(out) else reference
    data_flags = (out["data_flags"].fillna("").astype(str).to_numpy() if "data_flags" in out.columns
                  else np.full(len(out), "", dtype=object))
    absent = {c: _why_absent(c, inputs) for c in SITE_COLUMNS if c not in out.columns}
    # the indices weigh the measures the region has: not an absent site column, nor a measure with no
    # value anywhere for want of data (stops_800m in West Yorkshire), which no scale can place
    unweighed = set(absent) | {c for c in ("stops_800m",) if c in out.columns and len(out) and out[c].isna().all()}
    # nor, on a reference's scale, a measure the reference has no value of (England's scores have no
    # Enterprise Zone column: the authored sites cover D2N2 and LLEP only), which no scale can place
    not_in_ref: dict[str, str] = {}
    if reference is not None:
        weighed = {m for k in ("connectivity", "accessibility", "sustainable") if isinstance(config.get(k), dict) for m in config[k]}
        for m in sorted(weighed - unweighed):
            if m in out.columns and (m not in reference.columns or reference[m].isna().all()):
                not_in_ref[m] = ("the reference scores have no values of it: left out of the indices, so that the region and "
                                 "the reference are ranked on the same measures")
        unweighed |= set(not_in_ref)
    if unweighed:
        config = {k: ({m: w for m, w in v.items() if m not in unweighed} if k in ("connectivity", "accessibility", "sustainable")
                      and isinstance(v, dict) else v) for k, v in config.items()}
    out = add_indices(out, config=config, reference=reference)
    out["connectivity_decile"] = out["connectivity_decile"].astype("Int64")
    flags = np.full(len(out), "", dtype=object)
    for c in time_columns:
        if c not in out.columns:
            continue
        na = out[c].isna().to_numpy()
        flags = np.where(na, np.where(flags == "", c, flags + ";" + c), flags)
    out["unreachable_flags"] = pd.array(flags, dtype="string")
    out["data_flags"] = pd.array(data_flags, dtype="string")
    head = [c for c in CONTRACT if c in out.columns]
    out = out[head + [c for c in out.columns if c not in CONTRACT]]
    gdf = gpd.GeoDataFrame(out, geometry=inputs.polygons.geometry.reindex(out.index).to_numpy(), crs=inputs.polygons.crs)
    gdf.index.name = None
    gdf.attrs["absent_columns"] = absent
    if not_in_ref:
        gdf.attrs["not_in_reference"] = not_in_ref
    if unweighed:
        gdf.attrs["index_config"] = config  # the weights used: a re-scoring on another scale uses them too
    return gdf


def _sites_cover(region: Any) -> bool:
    from ..layers.sites import sites_cover

    return sites_cover(region)


def _why_absent(column: str, inputs: Inputs) -> str:
    """Why the scores of ``inputs.region`` have no ``column`` (a site column of the contract)."""
    from ..regions import DISTRICTS

    km = reach_km("network")
    if column in FIXED_SITES:
        return (f"site {FIXED_SITES[column]!r} lies farther than reach.network_km ({km:g} km) from the region, which has no "
                "district of D2N2 or Leicester and Leicestershire (whose strategies name it)")
    if not _sites_cover(inputs.region):
        lack = [c for c in inputs.region.lad_codes if c not in DISTRICTS]
        return (f"the sites data (the D2N2 and Leicester and Leicestershire strategies' sites, and a --sites file's) do not "
                f"cover {len(lack)} of the region's districts (e.g. {lack[0]}): the nearest Enterprise Zone would be the nearest "
                "of those the data happen to hold; give the region's sites with --sites")
    return f"no Enterprise Zone site lies within reach.network_km ({km:g} km) of the region"


def _with_far_station_flags(out: pd.DataFrame, flags: np.ndarray, inputs: Inputs) -> np.ndarray:
    """``flags`` with a note on the zones whose nearest station with weekday trains lies beyond
    ``pt.car_max_km`` (Bude): their ``tt_car_nearest_station`` is a straight drive at least at the
    rural lane speed (``pt.car_min_stations``), not a choice among stations."""
    if "rail_nearest_km" not in out.columns:
        return flags
    from ..assumptions import load_assumptions

    km = float(load_assumptions()["pt.car_max_km"])
    far = (pd.to_numeric(out["rail_nearest_km"], errors="coerce") > km).to_numpy()
    why = (f"tt_car_nearest_station: no station with weekday trains within pt.car_max_km ({km:g} km); "
           "a straight drive (x access.circuity) at least at the rural lane speed to the nearest")
    return np.where(far, np.where(flags == "", why, flags + "; " + why), flags)


def _without_missing_stops(out: pd.DataFrame, inputs: Inputs) -> tuple[pd.DataFrame, np.ndarray]:
    """``out`` with ``stops_800m`` NaN for the zones within 800 m of a district whose ATCO area of
    NaPTAN the data lack (``inputs.stops.attrs``: :func:`lisgeo.layers.stops.stop_areas`), and each
    zone's data flag ("" or what is missing and why)."""
    flags = np.full(len(out), "", dtype=object)
    missing = dict(inputs.stops.attrs.get("missing_areas") or {})
    districts = list(inputs.stops.attrs.get("missing_districts") or [])
    if not missing or not districts or "stops_800m" not in out.columns:
        return out, flags
    import shapely

    from ..layers.boundaries import load_districts, union_coverage
    from ..layers.stops import atco_areas

    outlines = load_districts(region=districts)
    pts = inputs.zones.geometry.reindex(out.index).to_numpy()
    near_any = np.zeros(len(out), dtype=bool)
    for area, name in missing.items():
        mine = [c for c in districts if area in atco_areas(c)]
        if not mine:
            continue
        shape = union_coverage(outlines.loc[mine].geometry.values)
        near = shapely.dwithin(pts, shape, 800.0)  # the radius of stops_800m, inclusive
        why = f"stops_800m: no NaPTAN stops of {name} (ATCO area {area}) in the data"
        flags = np.where(near, np.where(flags == "", why, flags + "; " + why), flags)
        near_any |= near
    if near_any.any():
        out = out.copy()
        out["stops_800m"] = out["stops_800m"].astype("float64").where(~near_any)
    return out, flags


def score_region(
    *,
    region: Any = "d2n2",
    scenario: Any = "base",
    assumptions: Any = None,
    weights: Any = None,
    sites: Iterable[str] = (),
    reference: gpd.GeoDataFrame | None = None,
    progress: bool = False,
    gtfs: Any = None,
    gtfs_date: Any = None,
    departure: str = "08:00",
    window_min: int = 60,
    cif: Any = None,
    street_graph: Any = None,
    cache: bool = True,
    scheduler: str | None = None,
    workers: int | None = None,
) -> gpd.GeoDataFrame:
    """Score every LSOA 2021 of ``region`` under ``scenario``.

    Parameters
    ----------
    region: any region :func:`lisgeo.regions.get_region` takes: "d2n2", "llep", "d2n2_llep", district
        codes or names, a county, combined authority, LSIP area, former LEP, ITL1 region or "england".
    scenario: a scenario name in ``layers/scenarios`` (base, hs2_2b, irp …) or a path to a
        scenario TOML; unknown names raise :class:`~lisgeo.errors.UnknownNameError`.
    assumptions: assumption overrides (dict) or an ``Assumptions`` object.
    weights: a TOML path or dict merged over ``layers/indices.toml`` (index weights,
        normalisation, left_behind rule).
    sites: extra site ids (of the ``sites`` layer) to add ``tt_car_<site_id>`` columns for;
        unknown ids raise :class:`~lisgeo.errors.UnknownNameError`.
    reference: the scale the indices and deciles are put on (see
        :func:`lisgeo.measures.indices.add_indices`); default the region's own. Scores (a frame) of
        the same region (a base scenario, as :func:`lisgeo.pipeline.compare.compare_scenarios` gives)
        or of a region holding it; a region's name (``"england"``: rank the region against England),
        scored here under the same scenario, assumptions and weights (cached like any scores); or a
        path to scores written by ``lisgeo score`` (the output folder, its ``scores.parquet``,
        ``scores.gpkg`` or ``scores.csv``). :func:`load_reference` resolves it.
    progress: print the time of each stage to stderr (and a progress bar over the blocks of a
        large region).
    gtfs, gtfs_date, departure, window_min: GTFS timetables (walk + bus + tram + rail) for the service
        day and departure window: adds ``tt_transit_*``, ``jobs_transit_30/45/60`` and
        ``acc_gravity_transit``, and the sustainable-modes index uses them in place of the rail-only
        measures. Without GTFS the public transport of the scores is the strategic model's rail
        (columns named ``rail``), and the scores say so (``attrs["public_transport"]``).
    cif: a rail timetable in ATOC CIF (the national feed the Rail Delivery Group publishes): its
        running times replace the default national sample's wherever it runs a link
        (:func:`lisgeo.network.build_network`); with the full feed every rail link is timetabled.
    street_graph: a walking street graph (e.g. ``graph_from_osm(path, network_type="walking")``) for
        the walking and cycling times; default crow-fly × ``access.circuity``.
    cache: the scores are kept on disk (:mod:`lisgeo.cache`, kind ``scores``) and a later call with
        the same inputs reads them back (a fraction of a second) instead of scoring again. The key
        holds everything that can change them: lisgeo's version and code, the region's districts,
        the scenario file's bytes, the assumptions used (after overrides), the index configuration,
        ``sites``, ``reference``, the GTFS files' sha256 with the day and window, the bytes of the
        authored files and the pinned sha256 of every dataset read. ``cache=False`` (or
        ``LISGEO_NO_CACHE=1``) scores afresh and stores nothing; with ``street_graph`` nothing is cached.
        A cached result equals a fresh one, ``attrs`` included, except ``attrs["timings"]``, which
        then gives this call's time (``{"cache": s, "total": s}``).
    scheduler, workers: a region of more zones than :func:`lisgeo.pipeline.blocks.block_zones` (2,000:
        a county or more, up to England) is scored in blocks of districts, with Dask
        (:mod:`lisgeo.pipeline.blocks`): on ``workers`` local processes (default the machine's
        cores), or on the ``dask.distributed`` cluster at ``scheduler`` (default ``LISGEO_SCHEDULER``).
        GTFS and ``street_graph`` need the region whole: refused for such a region.

    Returns
    -------
    GeoDataFrame (LSOA 2021 polygons, EPSG:27700) indexed by LSOA21CD with the contract
    columns first (:data:`lisgeo.measures.columns.CONTRACT`), then extra columns. Times are
    minutes, NaN when unreachable (the column names are listed in ``unreachable_flags``,
    separated by ";"). ``attrs``: ``scenario``, ``region``, ``assumptions`` (every value used),
    ``index_config``, ``attribution``, ``timings`` (seconds per stage).
    """
    from ..network import load_scenario

    from .. import cache as disk

    reg = get_region(region)
    sc = load_scenario(scenario)  # UnknownNameError before any slow work
    if cif is not None and cif is not False:
        from ..layers.rail import rail_timetable

        rail_timetable(cif)  # a file that is not a CIF feed fails here, in one line, before the slow work
    cfg = load_index_config(weights)
    sites = [str(s) for s in sites]
    from .blocks import block_zones, region_zones

    n_zones, limit = region_zones(reg), block_zones()
    if n_zones > limit and (gtfs is not None or street_graph is not None):
        raise ParameterError(f"{reg.label} has {n_zones:,} LSOAs, more than a region scored whole ({limit:,}, "
                             f"LISGEO_BLOCK_ZONES); GTFS timetables and a street graph need the region whole: give a "
                             "smaller region (a county, a combined authority) or raise LISGEO_BLOCK_ZONES on a machine "
                             "with the memory for it")
    clock = _Clock(progress)
    reference, ref_label = load_reference(reference, scenario=sc, assumptions=assumptions, weights=weights, cif=cif,
                                          progress=progress, scheduler=scheduler, workers=workers)
    key = None
    if disk.enabled(cache) and street_graph is None:
        key = _scores_key(region, reg, sc, assumptions, cfg, sites, reference, gtfs, gtfs_date, departure, window_min, cif)
        hit = disk.load_frame("scores", key)
        if isinstance(hit, gpd.GeoDataFrame):
            clock("from the cache")
            hit.attrs["timings"] = {"cache": clock.stages["from the cache"], "total": clock.total}
            return hit
    if n_zones > limit:
        from .blocks import score_in_blocks

        gdf = score_in_blocks(region if isinstance(region, str) else reg, scenario=sc.path or sc.name, assumptions=assumptions,
                              weights=weights, sites=sites, reference=reference, cif=cif, scheduler=scheduler,
                              workers=workers, progress=progress, cache=cache)
        if ref_label:
            gdf.attrs["index_scale"] = ref_label
        if key is not None:
            disk.store_frame("scores", key, gdf)
        return gdf

    inputs = _cached_inputs(reg) if key is not None else load_inputs(reg)
    clock("layers")
    G = score_network(reg, scenario=sc, assumptions=assumptions, sites=sites, gtfs=gtfs, gtfs_date=gtfs_date,
                      departure=departure, window_min=window_min, cif=cif)
    clock("network")
    tt = travel_times(G, inputs, sites=sites, street_graph=street_graph)
    if tt.transit_groups is not None and cfg.get("sustainable"):
        # with timetables, the sustainable-modes index weighs walk + bus + tram + rail, not rail alone
        cfg = dict(cfg, sustainable={k.replace("_rail_", "_transit_"): w for k, w in cfg["sustainable"].items()})
        cfg["direction"] = {**cfg["direction"], **{k: "higher" if k.startswith(("jobs_", "acc_")) else "lower"
                                                   for k in cfg["sustainable"] if "_transit_" in k}}
    clock("travel times")
    out = measure_zones(inputs, tt, config=cfg, sites=sites)
    clock("measures")
    gdf = finish_scores(out, inputs, config=cfg, reference=reference,
                        time_columns=[*TIME_COLUMNS, *(column_name("tt", mode="car", target=s) for s in sites)])
    clock("indices")
    attributions = inputs.attribution() + [inputs.jobs.attrs.get("attribution", ""), "Network: " + str(G.graph.get("name", "lisgeo"))]
    gdf.attrs.update({
        "layer": "scores",
        "region": region if isinstance(region, str) else reg.label,
        "scenario": sc.name,
        "scenario_path": str(getattr(sc, "path", "")),
        "scenario_status": dict(sc.status) or None,  # what is real about the scheme (its file's [status])
        "hs2_scheme": G.graph.get("hs2_scheme", "none"),
        "assumptions": dict(G.graph.get("assumptions", {})),
        "index_config": gdf.attrs.get("index_config") or cfg,  # (as used: without an absent site column's weight)
        "index_scale": ref_label or ("own region" if reference is None else f"reference scenario {reference.attrs.get('scenario', '?')}"),
        "public_transport": ("walk + bus + tram + rail by GTFS timetable (transit columns) and the strategic rail model (rail columns)"
                             if tt.transit_groups is not None else
                             "the strategic rail model only (walk or park-and-ride to trains; no buses or trams): columns named rail"),
        "rail_timetable": str(G.graph.get("rail_timetable", "")),
        "rail_timetabled_share": float(G.graph.get("rail_observed_share", 0.0)),
        "jobs_beyond_region": float(tt.dest_jobs.sum()),
        "job_destinations_beyond_region": len(tt.dest_jobs),
        "attribution": " | ".join(dict.fromkeys(a for a in attributions if a)),
        "timings": {**clock.stages, "total": clock.total},
    })
    if key is not None:
        disk.store_frame("scores", key, gdf)
    return gdf


_INPUT_FRAMES = ("zones", "polygons", "imd", "digital", "stops", "stations", "sites", "jobs")


def _inputs_key(reg: Region) -> str:
    from .. import cache as disk
    from ..provenance import SCORE_LAYERS, layer_datasets

    return disk.make_key({"kind": "inputs", "districts": sorted(reg.lad_codes), "authored": disk.authored_digests(),
                          "datasets": disk.dataset_digests(layer_datasets(SCORE_LAYERS))})


def _cached_inputs(reg: Region) -> Inputs:
    """:func:`load_inputs` through the disk cache (kind ``inputs``; keyed on the region's districts,
    the authored files' bytes, the datasets' pinned sha256 and lisgeo's code): a scoring run that
    misses the scores cache (other weights, scenario or assumptions) reads the region's layers back
    in a fraction of a second. Every frame round-trips exactly or nothing is kept."""
    from .. import cache as disk

    key = _inputs_key(reg)
    parts = {}
    for name in _INPUT_FRAMES:
        parts[name] = disk.load_frame("inputs", f"{key}-{name}")
        if parts[name] is None:
            break
    else:
        jobs = parts["jobs"]["jobs"]
        jobs.attrs = dict(parts["jobs"].attrs)
        return Inputs(region=reg, jobs=jobs, **{n: parts[n] for n in _INPUT_FRAMES if n != "jobs"})
    inputs = load_inputs(reg)
    for name in _INPUT_FRAMES:
        df = getattr(inputs, name)
        if name == "jobs":
            df = df.to_frame()
            df.attrs = dict(inputs.jobs.attrs)
        if disk.store_frame("inputs", f"{key}-{name}", df) is None:
            break
    return inputs


def load_reference(reference: Any, *, scenario: Any = "base", assumptions: Any = None, weights: Any = None,
                   cif: Any = None, progress: bool = False, scheduler: str | None = None,
                   workers: int | None = None) -> tuple[pd.DataFrame | None, str]:
    """The reference scores of :func:`score_region` (its ``reference``) and a label of the scale
    ("England (base)"; "" for a frame given as it is). A path is read (the output folder of
    ``lisgeo score``, or its scores.parquet, .gpkg or .csv) and indexed by LSOA21CD; any other text
    is a region's name, scored under ``scenario``, ``assumptions`` and ``weights``."""
    if reference is None or isinstance(reference, pd.DataFrame):
        return reference, ""
    text = os.fspath(reference) if isinstance(reference, os.PathLike) else str(reference)
    path = Path(text).expanduser()
    looks_like_path = os.sep in text or "/" in text or text.startswith((".", "~")) or text.lower().endswith((".parquet", ".gpkg", ".csv"))
    if isinstance(reference, os.PathLike) or path.exists() or looks_like_path:
        return _read_reference(path), f"reference scores {path}"
    from ..network import load_scenario

    sc = load_scenario(scenario)
    ref_reg = get_region(text)  # an unknown name fails here, with suggestions, before any work
    log.info("scoring the reference region %s (%s) to rank against", ref_reg.label, sc.name)
    ref = score_region(region=text, scenario=scenario, assumptions=assumptions, weights=weights, cif=cif,
                       progress=progress, scheduler=scheduler, workers=workers)
    return ref, f"{ref_reg.label} ({sc.name})"


def _read_reference(path: "os.PathLike[str] | str") -> pd.DataFrame:
    """Scores written by ``lisgeo score`` read back, indexed by LSOA21CD."""
    path = Path(path)
    if not path.exists():
        raise DataNotFoundError(f"reference scores {path} do not exist; give the output folder of `lisgeo score` "
                                "(or its scores.parquet, scores.gpkg or scores.csv), or a region's name (england)")
    if path.is_dir() and not path.name.endswith(".parquet"):
        found = [path / n for n in ("scores.parquet", "scores.gpkg", "scores.csv") if (path / n).exists()]
        if not found:
            raise DataNotFoundError(f"{path} holds no scores.parquet, scores.gpkg or scores.csv; give the output folder of `lisgeo score`")
        path = found[0]
    try:
        if path.name.endswith(".parquet"):
            df = pd.read_parquet(path)
            df = df.drop(columns=[c for c in ("geometry",) if c in df.columns])
        elif path.suffix == ".gpkg":
            import pyogrio

            df = pyogrio.read_dataframe(path, layer="lsoa", read_geometry=False)
        else:
            df = pd.read_csv(path, dtype={"LSOA21CD": str})
    except (OSError, ValueError) as exc:
        raise DataNotFoundError(f"reference scores {path} cannot be read ({exc}); give scores written by `lisgeo score`") from None
    if "LSOA21CD" not in df.columns:
        raise MissingColumnError(f"reference scores {path} have no LSOA21CD column; give scores written by `lisgeo score`")
    return pd.DataFrame(df).set_index(df["LSOA21CD"].astype(str).to_numpy())


def _scores_key(region: Any, reg: Region, sc: Any, assumptions: Any, cfg: dict, sites: list[str],
                reference: gpd.GeoDataFrame | None, gtfs: Any, gtfs_date: Any, departure: str, window_min: int,
                cif: Any = None) -> str:
    """The disk-cache key of a :func:`score_region` call (see its ``cache`` parameter)."""
    from .. import cache as disk
    from ..assumptions import load_assumptions
    from ..network.graph import assumption_overrides
    from ..provenance import SCORE_LAYERS, layer_datasets

    over = assumption_overrides(assumptions)
    used = load_assumptions(**{**sc.assumptions, **over}).to_dict()  # raises on unknown keys, as scoring would
    paths = [] if gtfs is None else ([gtfs] if isinstance(gtfs, (str, os.PathLike)) else list(gtfs))
    return disk.make_key({
        "kind": "scores", "region": region if isinstance(region, str) else reg.label, "districts": sorted(reg.lad_codes),
        "scenario": {"name": sc.name, "path": str(sc.path), "sha256": disk.file_digest(sc.path) if sc.path else None},
        "overrides": sorted(over.items()), "assumptions": used, "index_config": cfg, "sites": list(sites),
        "reference": None if reference is None else disk.frame_digest(reference),
        "gtfs": None if gtfs is None else {"files": [[str(p), disk.file_digest(p)] for p in paths], "date": str(gtfs_date),
                                           "departure": departure, "window_min": int(window_min)},
        "authored": disk.authored_digests(), "datasets": disk.dataset_digests(layer_datasets(SCORE_LAYERS)),
        "cif": cif if cif is None or cif is False else [str(cif), disk.file_digest(cif)],
    })


def scores_to_frame(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The scores ready for writing: booleans and strings as plain types GPKG/CSV accept, and a
    plain RangeIndex (the ids are columns already; a GPKG writer would add an ``index`` column)."""
    import copy

    out = gdf.copy(deep=False)
    out.attrs = {}  # (pandas deep-copies a frame's attrs on every column read and write: once, at the end)
    out = out.reset_index(drop=True)
    for c in out.columns:
        if c == out.geometry.name:
            continue
        dt = out[c].dtype
        if isinstance(dt, pd.BooleanDtype):
            out[c] = out[c].fillna(False).astype(bool)
        elif isinstance(dt, pd.Int64Dtype):
            out[c] = out[c].astype("float64") if out[c].isna().any() else out[c].astype("int64")
        elif isinstance(dt, pd.StringDtype):
            out[c] = out[c].astype(object).where(out[c].notna(), None)
    out.attrs = copy.deepcopy(gdf.attrs)
    return out


def write_scores(gdf: gpd.GeoDataFrame, directory: str | os.PathLike, *, claims: pd.DataFrame | None | bool = True,
                 partitioned: bool | None = None) -> dict[str, Path]:
    """Write ``scores.gpkg`` (layer ``lsoa``), ``scores.csv``, ``claims.csv`` and ``provenance.json``
    into ``directory``, as one set: all or nothing (:func:`lisgeo.io.atomic_set`).

    ``partitioned``: write the polygons as a partitioned GeoParquet dataset ``scores.parquet/``
    (one folder per ITL1 region, ``RGN21CD=E12000004/part-0.parquet``) in place of the GeoPackage:
    default for scores made in blocks (:mod:`lisgeo.pipeline.blocks`: all of England, 33,755 LSOAs).
    ``geopandas.read_parquet(directory / "scores.parquet")`` (or ``dask_geopandas.read_parquet``)
    reads it back whole, with ``RGN21CD`` as a column.

    Everything is computed first; the files are written under temporary names and swapped into
    place together, so a folder never holds the new ``scores.gpkg`` beside an old ``scores.csv``.
    ``provenance.json`` (:mod:`lisgeo.provenance`) records the lisgeo version and commit, the
    command line, the region, the scenario and its status, the assumptions, the index weights, the
    datasets with their sha256 and the sha256 of each file written; ``scores.gpkg`` carries the
    short form in its metadata. ``claims``: a claims frame, ``True`` to recompute them for the
    scores' region (:func:`lisgeo.pipeline.claims.recompute_claims`), or ``False``/None to skip.
    Returns the paths written.
    """
    from ..assumptions import assumptions_path
    from ..config import authored_path
    from ..io import atomic_set, check_output_dir
    from ..measures.indices import indices_path
    from ..provenance import CLAIMS_LAYERS, SCORE_LAYERS, add_provenance, build_provenance, gpkg_metadata, layer_datasets
    from .claims import recompute_claims

    missing = [c for c in CONTRACT if c not in gdf.columns and c not in SITE_COLUMNS]  # (site columns: as the region has sites)
    if missing:
        raise MissingColumnError(f"the scores lack contract column(s) {missing}; produce them with score_region")
    directory = check_output_dir(directory)
    if claims is True:
        claims = recompute_claims(gdf.attrs.get("region", "d2n2"))
    has_claims = isinstance(claims, pd.DataFrame)
    frame = scores_to_frame(gdf)
    attrs = dict(gdf.attrs)
    if "scenario_status" not in attrs and attrs.get("scenario"):
        try:  # the scenario's [status]: what is real about the scheme it models
            from ..network import load_scenario

            attrs["scenario_status"] = load_scenario(attrs.get("scenario_path") or attrs["scenario"]).status or None
        except (ValueError, OSError):
            pass
    datasets = list(attrs.get("sources") or layer_datasets(SCORE_LAYERS))
    if has_claims:
        datasets += [d for d in layer_datasets(CLAIMS_LAYERS) if d not in datasets]
    prov = build_provenance(
        "scores", attrs=attrs, datasets=datasets,
        authored=[authored_path(f) for f in ("sites.csv", "hs2_stations.csv", "hs2_links.csv")] + [assumptions_path(), indices_path()],
        details={"rows": len(frame), "claims": has_claims,
                 # contract site columns the region has no site for, and why (finish_scores)
                 "absent_columns": dict(attrs.get("absent_columns") or {}),
                 # measures left out of the indices on a reference's scale that has no values of them
                 "not_in_reference": dict(attrs.get("not_in_reference") or {}),
                 # a planner's sites added to the authored ones (lisgeo.layers.sites.use_sites_file)
                 "sites_file": os.environ.get("LISGEO_SITES_FILE") or None},
    )
    if partitioned is None:
        partitioned = len(attrs.get("blocks") or ()) > 1
    # compute everything before writing anything; then write the set all or nothing
    with atomic_set(directory, replaces=("scores.gpkg", "scores.parquet", "scores.csv", "claims.csv", "provenance.json")) as out:
        if partitioned:
            from .blocks import _itl1_of

            rgn = _itl1_of(frame["LADCD"].astype(str).unique())
            parts = frame.assign(RGN21CD=rgn.reindex(frame["LADCD"].astype(str)).replace("", "unknown").to_numpy())
            out.write_partitioned_parquet(parts, "scores.parquet", by="RGN21CD")
        else:
            out.write_frame(frame, "scores.gpkg", layer="lsoa", metadata=gpkg_metadata(prov))
        # (beside the GeoParquet the CSV is the table alone: England's polygons as text would be 0.5 GB)
        out.write_frame(pd.DataFrame(frame.drop(columns=frame.geometry.name)) if partitioned else frame, "scores.csv")
        if has_claims:
            out.write_frame(claims, "claims.csv")
        add_provenance(out, prov)
    return out.paths


def block_measures(districts: list[str], *, scenario: Any = "base", assumptions: Any = None, sites: Iterable[str] = (),
                   cif: Any = None) -> pd.DataFrame:
    """The measures of a block of ``districts`` (:mod:`lisgeo.pipeline.blocks`): its layers, its own
    network (within ``reach.blocks_km`` of it; not kept in the disk cache, nor in this process after it: a worker scores block after
    block in bounded memory), its travel times and every measure before the indices, as
    :func:`score_region` makes them for a region of those districts. ``attrs``: what the whole
    region's scores record of the network (scheme, assumptions, rail timetable, jobs beyond)."""
    import gc

    from ..network import build_network, load_scenario
    from ..network.graph import _build_cached

    from ..assumptions import load_assumptions
    from ..network.graph import assumption_overrides

    reg = get_region(districts)
    sc = load_scenario(scenario)
    sites = [str(s) for s in sites]
    cfg = load_index_config(None)
    inputs = load_inputs(reg)
    # a block's halo is reach.blocks_km (90 km), not a region's network_km: the jobs of a 60-minute
    # drive are seen whole wherever the block's edge lies, so a national run has no seams
    halo = float(load_assumptions(**{**sc.assumptions, **assumption_overrides(assumptions)})["reach.blocks_km"])
    G = build_network(region=reg, scenario=sc, assumptions=assumptions, sites=list(dict.fromkeys([*FIXED_SITES.values(), *sites])),
                      buffer_km=halo, copy=False, cache=False, cif=cif)
    try:
        tt = travel_times(G, inputs, sites=sites)
        out = measure_zones(inputs, tt, config=cfg, sites=sites)
        attributions = inputs.attribution() + [inputs.jobs.attrs.get("attribution", ""), "Network: lisgeo"]
        out.attrs.update({
            "hs2_scheme": G.graph.get("hs2_scheme", "none"), "assumptions": dict(G.graph.get("assumptions", {})),
            "rail_timetable": str(G.graph.get("rail_timetable", "")),
            "rail_timetabled_share": float(G.graph.get("rail_observed_share", 0.0)),
            "jobs_beyond_region": float(tt.dest_jobs.sum()), "job_destinations_beyond_region": len(tt.dest_jobs),
            "attribution": " | ".join(dict.fromkeys(a for a in attributions if a)),
        })
        return out
    finally:
        del G
        _build_cached.cache_clear()  # a worker keeps no block's network once it is scored
        gc.collect()
