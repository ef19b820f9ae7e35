"""The D2N2 strategy's headline geography claims, as pure functions of their inputs.

The D2N2 draft Local Industrial Strategy (2020) says ("D2N2 today"):

* "9 million people reside within 20 miles of its boundary" – :func:`population_within_distance`;
* "80% of the country's population are within 4 hours drive" – :func:`population_within_drive`;
* "92% of D2N2 workers live in the D2N2 area and 87% of D2N2 residents work in the D2N2 area"
  – :func:`commuting_self_containment`.

Population comes as the centres and people of the UKCEH 1 km grid 2021
(:class:`GridPoints`), which covers the whole UK; Northern Ireland is told apart with a
hand-drawn lon/lat polygon (:data:`NI_POLYGON_LONLAT`) where a claim is about Great Britain.
Cells are counted by their centre point (1 km cells: the error at an edge is at most half a
cell). :func:`lisgeo.pipeline.claims.recompute_claims` loads the inputs for a region and writes
the table.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Mapping

import numpy as np
import pandas as pd
import shapely

from ..errors import DataFormatError, EmptyResultError, ParameterError

__all__ = [
    "MILE_M", "NI_POLYGON_LONLAT", "STRATEGY_CLAIMS", "GridPoints", "grid_points", "population_within_distance",
    "population_within_drive", "commuting_self_containment",
]

MILE_M = 1609.344

#: Northern Ireland, roughly, in lon/lat: west of the North Channel and south of Kintyre
#: (checked: the UKCEH cells inside sum to 1.903 M, NISRA's Census 2021 count is 1.903 M).
NI_POLYGON_LONLAT = ((-8.3, 53.9), (-5.9, 53.9), (-5.35, 54.25), (-5.35, 54.8), (-5.95, 55.25), (-6.3, 55.4), (-8.3, 55.4))

#: The strategy's figures (D2N2 draft LIS 2020, "D2N2 today"); other regions have none.
STRATEGY_CLAIMS: dict[str, dict[str, float]] = {
    "d2n2": {
        "people_within_20_miles": 9_000_000,
        "gb_share_within_4h_drive": 80.0,
        "residents_working_in_region": 87.0,
        "jobs_filled_by_residents": 92.0,
    }
}


@dataclass(frozen=True)
class GridPoints:
    """Populated 1 km cells: centres ``x``, ``y`` (EPSG:27700 m), ``pop`` (people) and ``gb``
    (True outside Northern Ireland)."""

    x: np.ndarray
    y: np.ndarray
    pop: np.ndarray
    gb: np.ndarray

    def coverage(self) -> dict[str, float]:
        """Total, GB and NI people, and whether the grid covers Great Britain (for the claims' notes)."""
        return {
            "total": float(self.pop.sum()),
            "gb": float(self.pop[self.gb].sum()),
            "ni": float(self.pop[~self.gb].sum()),
            "covers_gb": bool(self.pop[self.gb].sum() > 6.0e7 and self.y.max() > 1.1e6 and self.x.max() > 6.3e5),
        }


def grid_points(x: np.ndarray, y: np.ndarray, pop: np.ndarray) -> GridPoints:
    """:class:`GridPoints` of cell centres and people, with the Northern Ireland mask."""
    from pyproj import Transformer

    tr = Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True)
    ni = shapely.Polygon([tr.transform(*p) for p in NI_POLYGON_LONLAT])
    return GridPoints(np.asarray(x), np.asarray(y), np.asarray(pop, dtype="float64"), ~shapely.contains_xy(ni, x, y))


def population_within_distance(grid: GridPoints, outline: shapely.Geometry, *, miles: float = 20.0,
                               include_region: bool = True, zone: shapely.Geometry | None = None) -> float:
    """People within ``miles`` of ``outline`` (a region's boundary).

    ``include_region=True`` counts everyone inside the outline buffered by the distance
    (residents of the region plus the ring around it); ``False`` counts the ring outside it only.
    ``zone``: that buffer (``outline.buffer(miles * MILE_M)``) when made already, e.g. for both counts.
    """
    if not miles > 0:
        raise ParameterError(f"miles must be positive, got {miles!r}")
    if zone is None:
        from ..layers.boundaries import buffer_outline

        zone = buffer_outline(outline, miles * MILE_M)
    inside = shapely.contains_xy(zone, grid.x, grid.y)
    if not include_region:
        inside &= ~shapely.contains_xy(outline, grid.x, grid.y)
    return float(grid.pop[inside].sum())


def population_within_drive(grid: GridPoints, outline: shapely.Geometry, links: pd.DataFrame, nodes: pd.DataFrame, *,
                            hours: float = 4.0, off_network_kmh: float = 60.0,
                            assumptions: Mapping[str, Any], two_way: bool = False) -> dict[str, float]:
    """Share of Great Britain's (and the UK's) population within ``hours`` by car of ``outline``.

    The approximation:

    1. drive time along the road ``links`` / ``nodes`` (the network's: every motorway and A road of
       Great Britain, ``major_roads``, with ``two_way=True``; or directed links such as England's
       SRN), link times exactly as the lisgeo network computes them
       (:func:`lisgeo.network.road.road_link_times`), starting at 0 from every junction inside the
       outline;
    2. each populated cell is reached from one of its 8 nearest junctions, or straight from the
       outline, by a leg of straight-line distance × ``access.circuity`` at ``off_network_kmh``
       (the assumption ``claims.off_network_kmh``), the way any point joins the network
       (:func:`lisgeo.network.access.junction_links`);
    3. cells inside the outline take 0.

    Returns ``{"gb_share": %, "uk_share": %, "gb_people": people, "uk_people": people}``.
    """
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import dijkstra

    from ..network.access import access_minutes, junction_links
    from ..network.road import road_link_times

    if not hours > 0:
        raise ParameterError(f"hours must be positive, got {hours!r}")
    if not off_network_kmh > 0:
        raise ParameterError(f"off_network_kmh must be a positive speed, got {off_network_kmh!r}")
    ids = pd.Index(nodes.index)
    nxy = np.c_[nodes.geometry.x.to_numpy(), nodes.geometry.y.to_numpy()]
    i = ids.get_indexer(links["from_node"])
    j = ids.get_indexer(links["to_node"])
    if (i < 0).any() or (j < 0).any():
        raise DataFormatError("road links name junctions missing from the road nodes; load both for the same area")
    t = road_link_times(links, assumptions)
    if two_way:
        i, j, t = np.r_[i, j], np.r_[j, i], np.r_[t, t]
    g = csr_matrix((t, (i, j)), shape=(len(ids), len(ids)))
    src = np.flatnonzero(shapely.contains_xy(outline, nxy[:, 0], nxy[:, 1]))
    if len(src) == 0:
        raise EmptyResultError("no motorway or A-road junction lies inside the region, so the drive times have nowhere to start")
    t_node = dijkstra(g, directed=True, indices=src, min_only=True)
    cells = np.c_[grid.x, grid.y]
    ci, cj, t_leg, _ = junction_links(cells, nxy, off_network_kmh, assumptions, k=8, max_km=np.inf, profile=False)
    t_cell = np.full(len(cells), np.inf)
    np.minimum.at(t_cell, ci, t_node[cj] + t_leg)
    # straight from the region (0 inside it): only cells within the leg's reach need the distance;
    # the outline is simplified by 50 m (far below the 1 km cells) for speed
    reach_m = hours * 60.0 / float(access_minutes(1000.0, off_network_kmh, assumptions["access.circuity"])) * 1000.0
    x0, y0, x1, y1 = outline.bounds
    x, y = grid.x, grid.y
    near = (x > x0 - reach_m) & (x < x1 + reach_m) & (y > y0 - reach_m) & (y < y1 + reach_m)
    near &= ~(t_cell <= hours * 60.0)  # cells the roads already bring within reach need no other way
    simple = outline.simplify(50.0)
    shapely.prepare(simple)
    d_region = shapely.distance(simple, shapely.points(x[near], y[near]))
    t_direct = access_minutes(d_region, off_network_kmh, assumptions["access.circuity"])
    t_direct[shapely.contains_xy(simple, x[near], y[near])] = 0.0
    t_cell[near] = np.minimum(t_cell[near], t_direct)
    ok = t_cell <= hours * 60.0
    pop, gb = grid.pop, grid.gb
    return {
        "gb_share": float(100.0 * pop[ok & gb].sum() / pop[gb].sum()),
        "uk_share": float(100.0 * pop[ok].sum() / pop.sum()),
        "gb_people": float(pop[ok & gb].sum()),
        "uk_people": float(pop[ok].sum()),
    }


def commuting_self_containment(flows: pd.DataFrame, lad_codes: Iterable[str]) -> dict[str, float]:
    """Commuting self-containment of the districts ``lad_codes`` from district-to-district ``flows``.

    ``flows``: [home_LADCD, work_LADCD, flow] (+ ``place_of_work``: "home" for people who mainly
    work at or from home, else a workplace; without it, work_LADCD "HOME" marks them), as the
    Census 2021 ODWP01EW layer ``commuting_lad``. With R the districts and counts of workers:

    * ``residents_working_in_region`` = workers living in R whose workplace is in R ÷ workers
      living in R with a workplace (home-workers excluded; offshore and outside-UK workplaces
      count as outside R);
    * ``jobs_filled_by_residents`` = workers living in R and working in R ÷ everyone working in R
      with a workplace there (home-workers excluded);
    * the ``*_incl_home`` variants count people who mainly work at or from home as working in
      their home district (in both numerator and denominator).

    Returns shares in percent and the counts behind them.
    """
    lads = set(lad_codes)
    need = {"home_LADCD", "work_LADCD", "flow"}
    if not need <= set(flows.columns):
        raise DataFormatError(f"commuting flows need columns {sorted(need)}; got {list(flows.columns)}")
    f = flows
    pow_ = f["place_of_work"] if "place_of_work" in f.columns else pd.Series(np.where(f["work_LADCD"] == "HOME", "home", "workplace"), index=f.index)
    home_in = f["home_LADCD"].isin(lads)
    work_in = f["work_LADCD"].isin(lads)
    at_home = pow_.eq("home")
    n = f["flow"].astype(float)
    res_in_in = n[home_in & work_in].sum()
    res_fixed = n[home_in & ~at_home].sum()
    res_home = n[home_in & at_home].sum()
    jobs_fixed = n[work_in & ~at_home].sum()
    if res_fixed == 0 or jobs_fixed == 0:
        raise EmptyResultError(f"no commuting flows found for districts {sorted(lads)[:5]}; check the commuting_lad layer")
    return {
        "residents_working_in_region": 100.0 * res_in_in / res_fixed,
        "jobs_filled_by_residents": 100.0 * res_in_in / jobs_fixed,
        "residents_working_in_region_incl_home": 100.0 * (res_in_in + res_home) / (res_fixed + res_home),
        "jobs_filled_by_residents_incl_home": 100.0 * (res_in_in + res_home) / (jobs_fixed + res_home),
        "resident_workers_fixed_workplace": float(res_fixed),
        "resident_home_workers": float(res_home),
        "jobs_fixed_workplace": float(jobs_fixed),
        "live_and_work_in_region": float(res_in_in),
    }
