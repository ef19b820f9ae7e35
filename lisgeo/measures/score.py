"""Score a region: one row per LSOA 2021 with travel times, accessibility, connectivity and indices.

:func:`score_region` builds the network of a scenario, computes two travel-time matrices (car:
zones × zones, sites and stations; pt: zones × zones and the London, Birmingham and Leeds
station groups), then every measure of :data:`CONTRACT_COLUMNS` and the indices. The column
contract, methods and units are documented in ``docs/scores.md``.
:func:`write_scores` writes ``scores.gpkg`` (layer ``lsoa``), ``scores.csv`` and ``claims.csv``.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from pathlib import Path
from typing import Any, Iterable

import geopandas as gpd
import numpy as np
import pandas as pd

from ..errors import LisgeoError, UnknownNameError
from ..regions import get_region
from .accessibility import cumulative_opportunities, e2sfca, gravity_access, nearest_time
from .connectivity import digital_score, rail_trains_nearest, stops_within
from .indices import add_indices, load_index_config

__all__ = ["CONTRACT_COLUMNS", "TIME_COLUMNS", "FIXED_SITES", "score_region", "write_scores", "scores_to_frame"]

log = logging.getLogger(__name__)

#: The columns analysts rely on (issue 3), in this order; more may follow them.
CONTRACT_COLUMNS: tuple[str, ...] = (
    "LSOA21CD", "LSOA21NM", "LADCD", "LADNM", "LEP", "pop", "imd_decile",
    "tt_car_hs2_toton", "tt_car_hs2_chesterfield", "tt_car_ema", "tt_car_ratcliffe", "tt_car_nearest_ez",
    "tt_car_nearest_station", "tt_pt_london", "tt_pt_birmingham", "tt_pt_leeds",
    "jobs_car_30", "jobs_car_45", "jobs_car_60", "jobs_pt_60", "acc_gravity_car", "e2sfca_jobs_car",
    "stops_800m", "rail_trains_nearest", "digital_score", "digital_coldspot",
    "connectivity_index", "accessibility_index", "connectivity_decile", "left_behind",
)

#: Car-time columns to the fixed sites of the contract: column -> site_id.
FIXED_SITES: dict[str, str] = {
    "tt_car_hs2_toton": "hs2_toton",
    "tt_car_hs2_chesterfield": "hs2_chesterfield",
    "tt_car_ema": "ema",
    "tt_car_ratcliffe": "ratcliffe",
}

#: Public-transport destination groups: column -> group name of lisgeo.network.destination_nodes.
PT_DESTINATIONS: dict[str, str] = {"tt_pt_london": "london", "tt_pt_birmingham": "birmingham", "tt_pt_leeds": "leeds"}

#: Every time column (minutes; NaN = unreachable, listed in ``unreachable_flags``).
TIME_COLUMNS: tuple[str, ...] = (*FIXED_SITES, "tt_car_nearest_ez", "tt_car_nearest_station", *PT_DESTINATIONS)

EXTRA_COLUMNS: tuple[str, ...] = (
    "tt_car_nearest_ez_id", "tt_car_nearest_station_id", "rail_nearest_crs", "rail_nearest_km", "jobs", "digital_indicator",
    "unreachable_flags",
)


class _Clock:
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


def _strip(ids: Iterable[str], prefix: str) -> list[str]:
    return [str(i)[len(prefix):] if str(i).startswith(prefix) else str(i) for i in ids]


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
    scenario: a scenario name in ``layers/scenarios`` (base, hs2_2b, irp, my_edit_example …) or a
        path to a scenario TOML; unknown names raise :class:`~lisgeo.errors.UnknownNameError`.
    assumptions: network assumption overrides (dict) or an ``Assumptions`` object.
    weights: a TOML path or dict merged over ``layers/indices.toml`` (index weights,
        normalisation, left_behind rule, gravity and E2SFCA parameters).
    sites: extra site ids (of the ``sites`` layer, in the network) to add ``tt_car_<site_id>``
        columns for; unknown ids raise :class:`~lisgeo.errors.UnknownNameError`.
    reference: the scores of a base scenario (same region): the indices and deciles are then
        put on the base's scale (see :func:`lisgeo.measures.indices.add_indices`), as
        :func:`lisgeo.measures.compare.compare_scenarios` does. Default: the region's own scale.
    progress: print the time of each stage to stderr.

    Returns
    -------
    GeoDataFrame (LSOA 2021 polygons, EPSG:27700) indexed by LSOA21CD with
    :data:`CONTRACT_COLUMNS` first (in that order), then extra columns. Times are minutes,
    NaN when unreachable (the column names are listed in ``unreachable_flags``, separated
    by ";"). ``attrs``: ``scenario``, ``region``, ``assumptions`` (every value used),
    ``index_config``, ``attribution``, ``timings`` (seconds per stage).
    """
    from ..layers.boundaries import load_lsoa21
    from ..layers.deprivation import load_imd2025
    from ..layers.digital import load_digital_lsoa21
    from ..layers.jobs import load_jobs_lsoa21
    from ..layers.people import load_lsoa21_centroids
    from ..layers.sites import load_sites
    from ..layers.transport import load_rail_stations, load_stops
    from ..network import build_network, destination_nodes, load_scenario
    from ..network.engine import travel_time_matrix

    reg = get_region(region)
    sc = load_scenario(scenario)  # UnknownNameError before any slow work
    cfg = load_index_config(weights)
    sites = [str(s) for s in sites]
    clock = _Clock(progress)

    # ---------------------------------------------------------------- layers
    polys = load_lsoa21(region=region)
    zones = load_lsoa21_centroids(region=region)
    imd = load_imd2025(region=region)
    jobs_layer = load_jobs_lsoa21(region=region)
    digital = load_digital_lsoa21(region=region)
    stops = load_stops(region=region)
    stations = load_rail_stations(region=region, buffer_km=30.0)
    site_layer = load_sites(region=region, buffer_km=30.0)
    clock("layers")

    # the fixed sites (and ``sites``) are in every region's network, with their own roads (build_network)
    G = build_network(region=region, scenario=sc, assumptions=assumptions, sites=sites)
    clock("network")

    # ---------------------------------------------------------------- ids
    codes = pd.Index(zones["LSOA21CD"].astype(str), name=None)
    zone_nodes = [f"zone:{c}" for c in codes]
    missing = [n for n in zone_nodes if n not in G]
    if missing:
        raise LisgeoError(f"{len(missing)} zones of {reg.label} are not in the network (e.g. {missing[:3]}); rebuild it for the same region")
    site_nodes = {sid: f"site:{sid}" for sid in site_layer.index.astype(str)}
    need_sites = list(FIXED_SITES.values()) + sites
    for sid in need_sites:
        if f"site:{sid}" not in G:
            raise UnknownNameError("site", sid, sorted(_strip((n for n, k in G.nodes(data="kind") if k == "site"), "site:")),
                                   "Site ids come from the sites layer (`lisgeo layers export sites`).")
    ez_ids = [s for s in site_layer.index[site_layer["category"] == "enterprise_zone"].astype(str) if site_nodes[s] in G]
    # stations with weekday trains (a few NaPTAN/davwheat stations have no Aquius service)
    served = pd.to_numeric(stations["daily_trains"], errors="coerce") > 0
    station_ids = [c for c in stations.index[served.to_numpy()].astype(str) if f"rail:{c}" in G]
    if not station_ids:
        raise LisgeoError(f"no rail station of the network lies within 30 km of {reg.label}")

    # ---------------------------------------------------------------- car matrix
    # job destinations beyond the region (network nodes "dest:<code>" with a "jobs" attribute)
    dest_nodes = [n for n in G.nodes if str(n).startswith("dest:")]
    dest_jobs = pd.Series([float(G.nodes[n].get("jobs", 0.0)) for n in dest_nodes], index=dest_nodes, dtype="float64")
    car_dest = zone_nodes + dest_nodes + [f"site:{s}" for s in dict.fromkeys(need_sites + ez_ids)] + [f"rail:{c}" for c in station_ids]
    car = travel_time_matrix(G, zone_nodes, car_dest, mode="car")
    car.index = codes
    clock("car matrix")
    pt_groups = {col: destination_nodes(G, name) for col, name in PT_DESTINATIONS.items()}
    pt = travel_time_matrix(G, zone_nodes, list(dict.fromkeys(n for g in pt_groups.values() for n in g)), mode="pt")
    pt.index = codes
    # jobs by public transport are counted within 60 minutes only: the cut-off bounds the search
    pt_jobs = travel_time_matrix(G, zone_nodes, zone_nodes + dest_nodes, mode="pt", cutoff_min=60.0)
    pt_jobs.index = codes
    clock("pt matrix")

    # ---------------------------------------------------------------- measures
    out = pd.DataFrame(index=codes)
    out["LSOA21CD"] = codes
    for col in ("LSOA21NM", "LADCD", "LADNM", "LEP", "pop"):
        out[col] = zones.set_index(codes)[col].reindex(codes).to_numpy()
    out["imd_decile"] = pd.to_numeric(imd.set_index(imd["LSOA21CD"].astype(str))["imd_decile"], errors="coerce").reindex(codes).astype("Int64").to_numpy()

    for col, sid in FIXED_SITES.items():
        out[col] = car[f"site:{sid}"].to_numpy()
    for sid in sites:
        out[f"tt_car_{sid}"] = car[f"site:{sid}"].to_numpy()
    ez = nearest_time(car[[f"site:{s}" for s in ez_ids]], name="tt_car_nearest_ez") if ez_ids else None
    if ez is not None:
        out["tt_car_nearest_ez"] = ez["tt_car_nearest_ez"].to_numpy()
        out["tt_car_nearest_ez_id"] = pd.array(_strip_na(ez["tt_car_nearest_ez_id"], "site:"), dtype="string")
    else:
        out["tt_car_nearest_ez"] = np.nan
        out["tt_car_nearest_ez_id"] = pd.array([pd.NA] * len(codes), dtype="string")
    st_tt = car[[f"rail:{c}" for c in station_ids]]
    st_tt.columns = station_ids
    st = nearest_time(st_tt, name="tt_car_nearest_station")
    out["tt_car_nearest_station"] = st["tt_car_nearest_station"].to_numpy()
    out["tt_car_nearest_station_id"] = st["tt_car_nearest_station_id"].to_numpy()
    for col, group in pt_groups.items():
        out[col] = pt[group].min(axis=1, skipna=True).to_numpy()

    jobs = pd.to_numeric(jobs_layer.set_index(jobs_layer["LSOA21CD"].astype(str))["jobs"], errors="coerce")
    lack = codes.difference(jobs.dropna().index)
    if len(lack):
        raise LisgeoError(f"{len(lack)} zones lack a jobs count (e.g. {list(lack[:3])}); check the jobs_lsoa21 layer")
    jobs = jobs.reindex(codes)
    out["jobs"] = jobs.to_numpy()
    car_zz = car[zone_nodes]
    car_zz.columns = codes
    # cumulative and gravity measures count jobs across the region's edge too (dest: nodes);
    # E2SFCA stays within the region, where both the jobs and the competing residents are known
    car_all = car[zone_nodes + dest_nodes]
    car_all.columns = list(codes) + dest_nodes
    pt_all = pt_jobs
    pt_all.columns = list(codes) + dest_nodes
    jobs_all = pd.concat([jobs, dest_jobs])
    cum = cumulative_opportunities(car_all, jobs_all, thresholds=(30, 45, 60), mode="car")
    for c in cum.columns:
        out[c] = cum[c].to_numpy()
    out["jobs_pt_60"] = cumulative_opportunities(pt_all, jobs_all, thresholds=(60,), mode="pt")["jobs_pt_60"].to_numpy()
    p = cfg["parameters"]
    out["acc_gravity_car"] = gravity_access(car_all, jobs_all, half_life_min=p["gravity_half_life_min"]).to_numpy()
    demand = pd.to_numeric(out["pop"], errors="coerce").astype("float64")
    out["e2sfca_jobs_car"] = e2sfca(car_zz, jobs, demand, catchment_min=p["e2sfca_catchment_min"], decay=p["e2sfca_decay"]).to_numpy()
    clock("accessibility")

    z = zones.set_index(codes)
    out["stops_800m"] = stops_within(z, stops, radius_m=800, modes=("bus", "tram")).to_numpy()
    rt = rail_trains_nearest(z, stations.loc[station_ids], tt=st_tt)
    for c in ("rail_trains_nearest", "rail_nearest_crs", "rail_nearest_km"):
        out[c] = rt[c].to_numpy()
    dig = digital.set_index(digital["LSOA21CD"].astype(str)).reindex(codes)
    out["digital_indicator"] = pd.to_numeric(dig["digital_indicator"], errors="coerce").to_numpy()
    out["digital_score"] = digital_score(dig["digital_indicator"]).to_numpy()
    out["digital_coldspot"] = dig["coldspot"].astype("boolean").fillna(False).astype(bool).to_numpy()
    clock("connectivity")

    if reference is not None:
        if set(reference.index) != set(out.index):
            raise LisgeoError("reference scores cover other LSOAs; score the same region for the base")
        reference = reference.loc[out.index]
    out = add_indices(out, config=cfg, reference=reference)
    out["connectivity_decile"] = out["connectivity_decile"].astype("Int64")
    time_cols = list(TIME_COLUMNS) + [f"tt_car_{s}" for s in sites]
    flags = np.full(len(out), "", dtype=object)
    for c in time_cols:
        na = out[c].isna().to_numpy()
        flags = np.where(na, np.where(flags == "", c, flags + ";" + c), flags)
    out["unreachable_flags"] = pd.array(flags, dtype="string")

    order = list(CONTRACT_COLUMNS) + [c for c in out.columns if c not in CONTRACT_COLUMNS]
    out = out[order]
    geom = polys.set_index(polys["LSOA21CD"].astype(str)).geometry.reindex(codes)
    gdf = gpd.GeoDataFrame(out, geometry=geom.to_numpy(), crs=polys.crs)
    gdf.index.name = None
    clock("indices")

    attributions = [d.attrs.get("attribution", "") for d in (polys, zones, imd, jobs_layer, digital, stops, stations, site_layer)]
    attributions.append("Network: " + str(G.graph.get("name", "lisgeo")) + "; " + "; ".join(
        x for x in (G.graph.get("attribution", ""),) if x))
    gdf.attrs.update({
        "layer": "scores",
        "region": reg.label if not isinstance(region, str) else region,
        "scenario": sc.name,
        "scenario_path": str(getattr(sc, "path", "")),
        "hs2_scheme": G.graph.get("hs2_scheme", "none"),
        "assumptions": dict(G.graph.get("assumptions", {})),
        "index_config": cfg,
        "index_scale": "own region" if reference is None else f"reference scenario {reference.attrs.get('scenario', '?')}",
        "jobs_beyond_region": float(dest_jobs.sum()),
        "job_destinations_beyond_region": len(dest_nodes),
        "attribution": " | ".join(dict.fromkeys(a for a in attributions if a)),
        "timings": {**clock.stages, "total": clock.total},
    })
    return gdf


def _strip_na(s: pd.Series, prefix: str) -> list:
    return [pd.NA if pd.isna(v) else (str(v)[len(prefix):] if str(v).startswith(prefix) else str(v)) for v in s]


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
    the scores' region (:func:`lisgeo.measures.claims.recompute_claims`), or ``False``/None to skip.
    Returns the paths written.
    """
    from ..io import write_frame
    from .claims import recompute_claims

    missing = [c for c in CONTRACT_COLUMNS if c not in gdf.columns]
    if missing:
        raise LisgeoError(f"the scores lack contract column(s) {missing}; produce them with score_region")
    directory = Path(directory)
    if directory.exists() and not directory.is_dir():
        raise LisgeoError(f"output {directory} exists and is not a folder; give a folder with -o")
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
