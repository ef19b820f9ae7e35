"""Score a region: one row per LSOA 2021 with travel times, accessibility, connectivity and indices.

:func:`score_region` runs the stages in order, each a function of its own:

1. :func:`load_inputs` – the layers (zones, polygons, deprivation, jobs, digital, stops, stations, sites);
2. :func:`score_network` – the network of the scenario, with the contract's fixed sites;
3. :func:`travel_times` – the travel-time matrices (car; rail to the destination groups and to jobs);
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
from ..errors import EmptyResultError, MissingColumnError, OutputError, ParameterError, UnknownNameError
from ..measures.accessibility import cumulative_opportunities, e2sfca, gravity_access, nearest_time
from ..measures.columns import CONTRACT, FIXED_SITES, RAIL_DESTINATIONS, TIME_COLUMNS, column_name
from ..measures.connectivity import digital_score, rail_trains_nearest, stops_within
from ..measures.indices import add_indices, load_index_config
from ..regions import Region, get_region

__all__ = ["Inputs", "TravelTimes", "load_inputs", "score_network", "travel_times", "measure_zones", "finish_scores",
           "score_region", "write_scores", "scores_to_frame"]

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
        if self.progress:
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
    imd: pd.DataFrame
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
    """Stage 1: read every layer the scores need for ``region``."""
    from ..layers.boundaries import load_lsoa21
    from ..layers.deprivation import load_imd2025
    from ..layers.digital import load_digital_lsoa21
    from ..layers.jobs import load_jobs_lsoa21
    from ..layers.people import load_lsoa21_centroids
    from ..layers.rail import load_rail_stations
    from ..layers.sites import load_sites
    from ..layers.stops import load_stops

    reg = get_region(region)
    zones = _by_code(load_lsoa21_centroids(region=reg))
    jobs_layer = _by_code(load_jobs_lsoa21(region=reg))
    jobs = pd.to_numeric(jobs_layer["jobs"], errors="coerce")
    lack = zones.index.difference(jobs.dropna().index)
    if len(lack):
        raise MissingColumnError(f"{len(lack)} zones lack a jobs count (e.g. {list(lack[:3])}); check the jobs_lsoa21 layer")
    stations = load_rail_stations(region=reg)
    served = (pd.to_numeric(stations["daily_trains"], errors="coerce") > 0).to_numpy()
    if not served.any():
        raise EmptyResultError(f"no rail station with weekday trains lies within reach of {reg.label}")
    jobs = jobs.reindex(zones.index)
    jobs.attrs = dict(jobs_layer.attrs)
    return Inputs(
        region=reg, zones=zones, polygons=_by_code(load_lsoa21(region=reg)), imd=_by_code(load_imd2025(region=reg)),
        jobs=jobs, digital=_by_code(load_digital_lsoa21(region=reg)), stops=load_stops(region=reg),
        stations=stations[served], sites=load_sites(region=reg, buffer_km=reach_km("network")),
    )


def score_network(region: Any, *, scenario: Any = "base", assumptions: Any = None, sites: Iterable[str] = ()) -> nx.MultiDiGraph:
    """Stage 2: the network of ``scenario`` with the contract's fixed sites and ``sites`` in it."""
    from ..network import build_network

    return build_network(region=region, scenario=scenario, assumptions=assumptions,
                         sites=list(dict.fromkeys([*FIXED_SITES.values(), *sites])))


@dataclass
class TravelTimes:
    """Stage 3's matrices (minutes, NaN unreachable), rows = zone codes."""

    car: pd.DataFrame            # zones × (zones, job destinations, sites, stations)
    rail_groups: pd.DataFrame    # zones × the nodes of the rail destination groups
    rail_jobs: pd.DataFrame      # zones × (zones, job destinations) within 60 min
    dest_jobs: pd.Series         # jobs at the job destinations beyond the region (by node id)
    groups: dict[str, list[str]] = field(default_factory=dict)  # contract column -> its group's nodes
    ez_ids: list[str] = field(default_factory=list)
    station_ids: list[str] = field(default_factory=list)


def travel_times(G: nx.MultiDiGraph, inputs: Inputs, *, sites: Iterable[str] = ()) -> TravelTimes:
    """Stage 3: car times from every zone to zones, job destinations, sites and stations; rail
    times to the destination groups and (within 60 minutes) to every zone and job destination."""
    from ..network import destination_nodes, travel_time_matrix
    from ..network.schema import NodeKind, NodeRole, node_id

    codes = list(inputs.codes)
    sites_in_graph = {n for n, k in G.nodes(data="kind") if k == NodeKind.SITE}
    need_sites = list(dict.fromkeys([*FIXED_SITES.values(), *sites]))
    for sid in need_sites:
        if node_id(NodeRole.SITE, sid) not in sites_in_graph:
            raise UnknownNameError("site", sid, sorted(s.split(":", 1)[1] for s in sites_in_graph),
                                   "Site ids come from the sites layer (`lisgeo layers export sites`).")
    site_layer = inputs.sites
    ez_ids = [s for s in site_layer.index[site_layer["category"] == "enterprise_zone"].astype(str)
              if node_id(NodeRole.SITE, s) in sites_in_graph]
    station_ids = [c for c in inputs.stations.index.astype(str) if node_id(NodeRole.STATION, c) in G]
    if not station_ids:
        raise EmptyResultError(f"no rail station of the network lies within reach of {inputs.region.label}")
    dests = [n for n, k in G.nodes(data="kind") if k == NodeKind.DEST]
    dest_jobs = pd.Series([float(G.nodes[n].get("jobs", 0.0)) for n in dests], index=dests, dtype="float64")
    car_dest = (codes + dests + [node_id(NodeRole.SITE, s) for s in dict.fromkeys(need_sites + ez_ids)]
                + [node_id(NodeRole.STATION, c) for c in station_ids])
    car = travel_time_matrix(G, codes, car_dest, mode="car")
    groups = {col: destination_nodes(G, name) for col, name in RAIL_DESTINATIONS.items()}
    rail = travel_time_matrix(G, codes, list(dict.fromkeys(n for g in groups.values() for n in g)), mode="rail")
    # jobs by rail are counted within 60 minutes only: the cut-off bounds the search
    rail_jobs = travel_time_matrix(G, codes, codes + dests, mode="rail", cutoff_min=60.0)
    return TravelTimes(car, rail, rail_jobs, dest_jobs, groups, ez_ids, station_ids)


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
        out[col] = car[node_id(NodeRole.SITE, sid)].to_numpy()
    for sid in sites:
        out[column_name("tt", mode="car", target=sid)] = car[node_id(NodeRole.SITE, sid)].to_numpy()
    if tt.ez_ids:
        ez = nearest_time(car[[node_id(NodeRole.SITE, s) for s in tt.ez_ids]], name="tt_car_nearest_ez")
        out["tt_car_nearest_ez"] = ez["tt_car_nearest_ez"].to_numpy()
        out["tt_car_nearest_ez_id"] = pd.array([pd.NA if pd.isna(v) else node_code(v) for v in ez["tt_car_nearest_ez_id"]],
                                               dtype="string")
    else:
        out["tt_car_nearest_ez"] = np.nan
        out["tt_car_nearest_ez_id"] = pd.array([pd.NA] * len(codes), dtype="string")
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
    car_all = car[list(codes) + dests]
    cum = cumulative_opportunities(car_all, jobs_all, thresholds=(30, 45, 60), mode="car")
    for c in cum.columns:
        out[c] = cum[c].to_numpy()
    rail_all = tt.rail_jobs[list(codes) + dests]
    out["jobs_rail_60"] = cumulative_opportunities(rail_all, jobs_all, thresholds=(60,), mode="rail")["jobs_rail_60"].to_numpy()
    out["acc_gravity_car"] = gravity_access(car_all, jobs_all, mode="car").to_numpy()
    demand = pd.to_numeric(out["pop"], errors="coerce").astype("float64")
    out["e2sfca_jobs_car"] = e2sfca(car[list(codes)], jobs, demand, mode="car").to_numpy()

    out["stops_800m"] = stops_within(z, inputs.stops, radius_m=800, modes=("bus", "tram")).to_numpy()
    rt = rail_trains_nearest(z, inputs.stations.loc[tt.station_ids], tt=st_tt)
    for c in ("rail_trains_nearest", "rail_nearest_crs", "rail_nearest_km"):
        out[c] = rt[c].to_numpy()
    dig = inputs.digital.reindex(codes)
    out["digital_indicator"] = pd.to_numeric(dig["digital_indicator"], errors="coerce").to_numpy()
    out["digital_score"] = digital_score(dig["digital_indicator"]).to_numpy()
    out["digital_coldspot"] = dig["coldspot"].astype("boolean").fillna(False).astype(bool).to_numpy()
    return out


def finish_scores(out: pd.DataFrame, inputs: Inputs, *, config: dict, reference: gpd.GeoDataFrame | None = None,
                  time_columns: Iterable[str] = TIME_COLUMNS) -> gpd.GeoDataFrame:
    """Stage 5: the indices (on ``reference``'s scale if given), the unreachable flags, the contract
    order and the LSOA polygons."""
    if reference is not None:
        if set(reference.index) != set(out.index):
            raise ParameterError("reference scores cover other LSOAs; score the same region for the base")
        reference = reference.loc[out.index]
    out = add_indices(out, config=config, reference=reference)
    out["connectivity_decile"] = out["connectivity_decile"].astype("Int64")
    flags = np.full(len(out), "", dtype=object)
    for c in time_columns:
        na = out[c].isna().to_numpy()
        flags = np.where(na, np.where(flags == "", c, flags + ";" + c), flags)
    out["unreachable_flags"] = pd.array(flags, dtype="string")
    out = out[list(CONTRACT) + [c for c in out.columns if c not in CONTRACT]]
    gdf = gpd.GeoDataFrame(out, geometry=inputs.polygons.geometry.reindex(out.index).to_numpy(), crs=inputs.polygons.crs)
    gdf.index.name = None
    return gdf


def score_region(
    *,
    region: Any = "d2n2",
    scenario: Any = "base",
    assumptions: Any = None,
    weights: Any = None,
    sites: Iterable[str] = (),
    reference: gpd.GeoDataFrame | None = None,
    progress: bool = False,
) -> gpd.GeoDataFrame:
    """Score every LSOA 2021 of ``region`` under ``scenario``.

    Parameters
    ----------
    region: "d2n2", "llep", "d2n2_llep" or district codes.
    scenario: a scenario name in ``layers/scenarios`` (base, hs2_2b, irp …) or a path to a
        scenario TOML; unknown names raise :class:`~lisgeo.errors.UnknownNameError`.
    assumptions: assumption overrides (dict) or an ``Assumptions`` object.
    weights: a TOML path or dict merged over ``layers/indices.toml`` (index weights,
        normalisation, left_behind rule).
    sites: extra site ids (of the ``sites`` layer) to add ``tt_car_<site_id>`` columns for;
        unknown ids raise :class:`~lisgeo.errors.UnknownNameError`.
    reference: the scores of a base scenario (same region): the indices and deciles are then
        put on the base's scale (see :func:`lisgeo.measures.indices.add_indices`), as
        :func:`lisgeo.pipeline.compare.compare_scenarios` does. Default: the region's own scale.
    progress: print the time of each stage to stderr.

    Returns
    -------
    GeoDataFrame (LSOA 2021 polygons, EPSG:27700) indexed by LSOA21CD with the contract
    columns first (:data:`lisgeo.measures.columns.CONTRACT`), then extra columns. Times are
    minutes, NaN when unreachable (the column names are listed in ``unreachable_flags``,
    separated by ";"). ``attrs``: ``scenario``, ``region``, ``assumptions`` (every value used),
    ``index_config``, ``attribution``, ``timings`` (seconds per stage).
    """
    from ..network import load_scenario

    reg = get_region(region)
    sc = load_scenario(scenario)  # UnknownNameError before any slow work
    cfg = load_index_config(weights)
    sites = [str(s) for s in sites]
    clock = _Clock(progress)
    inputs = load_inputs(reg)
    clock("layers")
    G = score_network(reg, scenario=sc, assumptions=assumptions, sites=sites)
    clock("network")
    tt = travel_times(G, inputs, sites=sites)
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
        "hs2_scheme": G.graph.get("hs2_scheme", "none"),
        "assumptions": dict(G.graph.get("assumptions", {})),
        "index_config": cfg,
        "index_scale": "own region" if reference is None else f"reference scenario {reference.attrs.get('scenario', '?')}",
        "jobs_beyond_region": float(tt.dest_jobs.sum()),
        "job_destinations_beyond_region": len(tt.dest_jobs),
        "attribution": " | ".join(dict.fromkeys(a for a in attributions if a)),
        "timings": {**clock.stages, "total": clock.total},
    })
    return gdf


def scores_to_frame(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The scores ready for writing: booleans and strings as plain types GPKG/CSV accept, and a
    plain RangeIndex (the ids are columns already; a GPKG writer would add an ``index`` column)."""
    out = gdf.reset_index(drop=True)
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
    return out


def write_scores(gdf: gpd.GeoDataFrame, directory: str | os.PathLike, *, claims: pd.DataFrame | None | bool = True) -> dict[str, Path]:
    """Write ``scores.gpkg`` (layer ``lsoa``), ``scores.csv`` and ``claims.csv`` into ``directory``.

    Each file is written to a temporary name and moved into place (``lisgeo.io.write_frame``),
    so nothing is left half-written. ``claims``: a claims frame, ``True`` to recompute them for
    the scores' region (:func:`lisgeo.pipeline.claims.recompute_claims`), or ``False``/None to skip.
    Returns the paths written.
    """
    from ..io import write_frame
    from .claims import recompute_claims

    missing = [c for c in CONTRACT if c not in gdf.columns]
    if missing:
        raise MissingColumnError(f"the scores lack contract column(s) {missing}; produce them with score_region")
    directory = Path(directory)
    if directory.exists() and not directory.is_dir():
        raise OutputError(f"output {directory} exists and is not a folder; give a folder with -o")
    if claims is True:
        claims = recompute_claims(gdf.attrs.get("region", "d2n2"))
    frame = scores_to_frame(gdf)
    # compute everything before writing anything; then write each file atomically
    written = {
        "scores.gpkg": write_frame(frame, directory / "scores.gpkg", layer="lsoa"),
        "scores.csv": write_frame(frame, directory / "scores.csv"),
    }
    if isinstance(claims, pd.DataFrame):
        written["claims.csv"] = write_frame(claims, directory / "claims.csv")
    return written
