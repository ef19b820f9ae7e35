"""The D2N2 strategy's headline geography claims, recomputed from the data.

The D2N2 draft Local Industrial Strategy (2020) says (p. "D2N2 today"):

* "9 million people reside within 20 miles of its boundary" – :func:`population_within_distance`;
* "80% of the country's population are within 4 hours drive" – :func:`population_within_drive`;
* "92% of D2N2 workers live in the D2N2 area and 87% of D2N2 residents work in the D2N2 area"
  – :func:`commuting_self_containment`.

:func:`recompute_claims` returns one row per claim: ``claim, strategy_figure, computed_value,
unit, method, source``. Population comes from the UKCEH 1 km grid 2021, which covers the whole
UK (Great Britain and Northern Ireland); Northern Ireland is removed with a hand-drawn lon/lat
polygon (:data:`NI_POLYGON_LONLAT`) where the claim is about Great Britain. Cells are counted by
their centre point (1 km cells: the error at an edge is at most half a cell).
"""

from __future__ import annotations

from functools import lru_cache


import numpy as np
import pandas as pd
import shapely

from ..errors import LisgeoError
from ..regions import get_region

__all__ = [
    "MILE_M",
    "NI_POLYGON_LONLAT",
    "OFF_NETWORK_KMH",
    "STRATEGY_CLAIMS",
    "population_within_distance",
    "population_within_drive",
    "commuting_self_containment",
    "recompute_claims",
    "grid_coverage",
]

MILE_M = 1609.344

#: Northern Ireland, roughly, in lon/lat: west of the North Channel and south of Kintyre
#: (checked: the UKCEH cells inside sum to 1.903 M, NISRA's Census 2021 count is 1.903 M).
NI_POLYGON_LONLAT = ((-8.3, 53.9), (-5.9, 53.9), (-5.35, 54.25), (-5.35, 54.8), (-5.95, 55.25), (-6.3, 55.4), (-8.3, 55.4))

#: Speed (km/h) of the legs off England's strategic road network in the 4-hour drive
#: approximation (see population_within_drive); road speeds come from layers/assumptions.toml.
OFF_NETWORK_KMH = 60.0

#: The strategy's figures (D2N2 draft LIS 2020, "D2N2 today"); other regions have none.
STRATEGY_CLAIMS: dict[str, dict[str, float]] = {
    "d2n2": {
        "people_within_20_miles": 9_000_000,
        "gb_share_within_4h_drive": 80.0,
        "residents_working_in_region": 87.0,
        "jobs_filled_by_residents": 92.0,
    }
}
_SOURCE_LIS = "D2N2 draft Local Industrial Strategy (2020), 'D2N2 today'"


# ----------------------------------------------------------------------------- population grid
@lru_cache(maxsize=1)
def _grid_points() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Centres (x, y, BNG m) and people of every populated 1 km cell, and a GB mask (not NI)."""
    from pyproj import Transformer

    from ..layers.people import read_population_grid

    arr, transform, _ = read_population_grid()
    rows, cols = np.nonzero(~np.isnan(arr))
    x = transform.c + (cols + 0.5) * transform.a
    y = transform.f + (rows + 0.5) * transform.e
    pop = arr[rows, cols]
    tr = Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True)
    ni = shapely.Polygon([tr.transform(*p) for p in NI_POLYGON_LONLAT])
    gb = ~shapely.contains_xy(ni, x, y)
    return x, y, pop, gb


def grid_coverage() -> dict[str, float]:
    """What the population grid covers: total, GB and NI people and its extent (for the claims' notes)."""
    x, y, pop, gb = _grid_points()
    return {
        "total": float(pop.sum()),
        "gb": float(pop[gb].sum()),
        "ni": float(pop[~gb].sum()),
        "covers_gb": bool(pop[gb].sum() > 6.0e7 and y.max() > 1.1e6 and x.max() > 6.3e5),
    }


def population_within_distance(region="d2n2", *, miles: float = 20.0, include_region: bool = True) -> float:
    """People (UKCEH 2021 1 km grid) within ``miles`` of the region's boundary.

    ``include_region=True`` counts everyone inside the region outline buffered by the
    distance (residents of the region plus the ring around it); ``False`` counts the ring
    outside the region only.
    """
    if not miles > 0:
        raise LisgeoError(f"miles must be positive, got {miles!r}")
    from ..layers.boundaries import region_outline

    outline = region_outline(region)
    x, y, pop, _ = _grid_points()
    zone = outline.buffer(miles * MILE_M)
    inside = shapely.contains_xy(zone, x, y)
    if not include_region:
        inside &= ~shapely.contains_xy(outline, x, y)
    return float(pop[inside].sum())


@lru_cache(maxsize=1)
def _road_graph():
    """England's strategic road network (all of it): links and junction nodes."""
    from ..layers.transport import load_road_links, load_road_nodes

    links = load_road_links(region=None)
    nodes = load_road_nodes(region=None)
    return links, nodes


def population_within_drive(
    region="d2n2",
    *,
    hours: float = 4.0,
    assumptions=None,
    off_network_kmh: float = OFF_NETWORK_KMH,
) -> dict[str, float]:
    """Share of Great Britain's (and the UK's) population within ``hours`` by car of the region.

    The approximation (the strategic road network, SRN, in the data is England's only):

    1. drive time along all of England's SRN, link times exactly as the lisgeo network computes
       them (:func:`lisgeo.network.road.road_link_times`: HAPMS length / road-class speed from
       ``layers/assumptions.toml``, 96 km/h motorway, 80 km/h trunk), starting at 0 from every SRN
       junction inside the region (so "of the region" means from its nearest part);
    2. each populated 1 km cell is reached from one of its 8 nearest junctions, or straight from
       the region's outline, by a local leg of straight-line distance × ``access.circuity`` (1.3)
       at ``off_network_kmh`` (60 km/h: between the assumptions' rural local speed of 50 km/h and
       the trunk speed, since long legs beyond the SRN – to Scotland and Wales, which have no SRN
       in the data – run on their own trunk roads and motorways);
    3. cells inside the region take 0.

    Returns ``{"gb_share": %, "uk_share": %, "gb_people": people, "uk_people": people}``.
    """
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import dijkstra
    from scipy.spatial import cKDTree

    from ..layers.boundaries import region_outline
    from ..network.assumptions import as_assumptions
    from ..network.road import road_link_times

    if not hours > 0:
        raise LisgeoError(f"hours must be positive, got {hours!r}")
    if not off_network_kmh > 0:
        raise LisgeoError(f"off_network_kmh must be a positive speed, got {off_network_kmh!r}")
    a = as_assumptions(assumptions)
    links, nodes = _road_graph()
    ids = pd.Index(nodes.index)
    nx_, ny_ = nodes.geometry.x.to_numpy(), nodes.geometry.y.to_numpy()
    i = ids.get_indexer(links["from_node"])
    j = ids.get_indexer(links["to_node"])
    w = road_link_times(links, a)
    g = csr_matrix((w, (i, j)), shape=(len(ids), len(ids)))
    outline = region_outline(region)
    src = np.flatnonzero(shapely.contains_xy(outline, nx_, ny_))
    if len(src) == 0:
        raise LisgeoError(f"no strategic road junction lies inside region {region!r}; the drive-time claim needs one")
    t_node = dijkstra(g, directed=True, indices=src, min_only=True)
    x, y, pop, gb = _grid_points()
    local = 60.0 * float(a["access.circuity"]) / 1000.0 / off_network_kmh  # minutes per straight-line metre
    tree = cKDTree(np.c_[nx_, ny_])
    d, k = tree.query(np.c_[x, y], k=8)
    t_cell = np.min(t_node[k] + d * local, axis=1)
    # straight from the region (0 inside it): only cells within the local leg's reach need the
    # distance; the outline is simplified by 50 m (far below the 1 km cells) for speed
    reach_m = hours * 60.0 / local
    x0, y0, x1, y1 = outline.bounds
    near = (x > x0 - reach_m) & (x < x1 + reach_m) & (y > y0 - reach_m) & (y < y1 + reach_m)
    simple = outline.simplify(50.0)
    shapely.prepare(simple)
    d_region = shapely.distance(simple, shapely.points(x[near], y[near]))
    d_region[shapely.contains_xy(simple, x[near], y[near])] = 0.0
    t_cell[near] = np.minimum(t_cell[near], d_region * local)
    ok = t_cell <= hours * 60.0
    return {
        "gb_share": float(100.0 * pop[ok & gb].sum() / pop[gb].sum()),
        "uk_share": float(100.0 * pop[ok].sum() / pop.sum()),
        "gb_people": float(pop[ok & gb].sum()),
        "uk_people": float(pop[ok].sum()),
    }


def commuting_self_containment(region="d2n2", *, flows: pd.DataFrame | None = None) -> dict[str, float]:
    """Commuting self-containment of ``region`` from the Census 2021 district flows (ODWP01EW).

    With R = region districts and counts of workers (16+ in employment, usual residents of
    England and Wales) on Census day 2021:

    * ``residents_working_in_region`` = workers living in R whose workplace is in R ÷ workers
      living in R with a workplace (home-workers excluded; offshore and outside-UK workplaces
      count as outside R);
    * ``jobs_filled_by_residents`` = workers living in R and working in R ÷ everyone working in R
      with a workplace there (home-workers excluded);
    * the ``*_incl_home`` variants count people who mainly work at or from home as working in
      their home district (in both numerator and denominator).

    Census day (21 March 2021) fell in lockdown, so home-working was unusually high; the 2011
    census (which the strategy's figures most likely come from) is not in the data.
    Returns shares in percent and the counts behind them.
    """
    lads = set(get_region(region).lad_codes)
    if flows is None:
        from ..layers.jobs import load_commuting_lad

        flows = load_commuting_lad(region=region)
    need = {"home_LADCD", "work_LADCD", "flow"}
    if not need <= set(flows.columns):
        raise LisgeoError(f"commuting flows need columns {sorted(need)}; got {list(flows.columns)}")
    f = flows.copy()
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
        raise LisgeoError(f"no commuting flows found for region {region!r}; check the commuting_lad layer")
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


def recompute_claims(region="d2n2", *, drive_hours: float = 4.0, miles: float = 20.0, assumptions=None) -> pd.DataFrame:
    """The strategy's geography claims recomputed: ``claim, strategy_figure, computed_value, unit, method, source``.

    ``strategy_figure`` is NaN for a region whose strategy makes no such claim.
    """
    reg = get_region(region)
    figs = STRATEGY_CLAIMS.get(reg.name, {})
    cov = grid_coverage()
    grid_src = "UKCEH gridded population 2021, 1 km (Carnell, Tomlinson & Reis 2025), OGL v3"
    coverage_note = (
        f"the grid covers the whole UK ({cov['total'] / 1e6:.2f} M people; GB {cov['gb'] / 1e6:.2f} M, NI {cov['ni'] / 1e6:.2f} M)"
        if cov["covers_gb"] else
        f"WARNING: the grid does not cover all of GB ({cov['gb'] / 1e6:.2f} M people found), so this undercounts"
    )
    rows = []
    pw = population_within_distance(region, miles=miles)
    ring = population_within_distance(region, miles=miles, include_region=False)
    rows.append(dict(
        claim=f"people living within {miles:g} miles of the region's boundary",
        strategy_figure=figs.get("people_within_20_miles", np.nan), computed_value=round(pw), unit="people",
        method=(f"sum of 1 km cells whose centre lies inside the region outline buffered by {miles:g} miles "
                f"({miles * MILE_M / 1000:.1f} km), the region's own residents included; the ring outside the region "
                f"alone holds {ring / 1e6:.2f} M; {coverage_note}"),
        source=grid_src,
    ))
    from ..network.assumptions import as_assumptions

    a = as_assumptions(assumptions)
    dr = population_within_drive(region, hours=drive_hours, assumptions=a)
    rows.append(dict(
        claim=f"share of Great Britain's population within {drive_hours:g} hours' drive of the region",
        strategy_figure=figs.get("gb_share_within_4h_drive", np.nan), computed_value=round(dr["gb_share"], 1), unit="% of GB population",
        method=(f"drive time from any SRN junction in the region along all of England's strategic roads (link times as "
                f"in the lisgeo network: motorway {a['road.motorway_kmh']:g} km/h, trunk {a['road.trunk_kmh']:g} km/h, "
                f"layers/assumptions.toml) then straight-line × {a['access.circuity']:g} at {OFF_NETWORK_KMH:g} km/h to each "
                f"1 km cell (Scotland and Wales have no SRN in the data, so they are reached by that leg from the nearest "
                f"English junction); GB = the UK grid less Northern Ireland; UK share {dr['uk_share']:.1f}%; {coverage_note}"),
        source=f"{grid_src}; National Highways SRN graph and HAPMS (OGL v3)",
    ))
    sc = commuting_self_containment(region)
    src = "ONS Census 2021 ODWP01EW (home→work flows between districts), OGL v3"
    rows.append(dict(
        claim="share of the region's resident workers who work in the region",
        strategy_figure=figs.get("residents_working_in_region", np.nan), computed_value=round(sc["residents_working_in_region"], 1), unit="%",
        method=(f"workers living in the region with a workplace in it ÷ workers living in it with a fixed workplace "
                f"({sc['resident_workers_fixed_workplace']:,.0f}); {sc['resident_home_workers']:,.0f} home-workers (mainly at or from home, or no fixed place) excluded "
                f"(counting them as working in the region gives {sc['residents_working_in_region_incl_home']:.1f}%); "
                "Census day 2021 was in lockdown"),
        source=src,
    ))
    rows.append(dict(
        claim="share of the region's jobs filled by its residents",
        strategy_figure=figs.get("jobs_filled_by_residents", np.nan), computed_value=round(sc["jobs_filled_by_residents"], 1), unit="%",
        method=(f"workers living and working in the region ÷ all workers (E&W residents) with a workplace in the region "
                f"({sc['jobs_fixed_workplace']:,.0f}); home-workers excluded (including them gives "
                f"{sc['jobs_filled_by_residents_incl_home']:.1f}%); Census day 2021 was in lockdown"),
        source=src,
    ))
    out = pd.DataFrame(rows, columns=["claim", "strategy_figure", "computed_value", "unit", "method", "source"])
    out["strategy_figure"] = out["strategy_figure"].astype("float64")
    out["computed_value"] = out["computed_value"].astype("float64")
    out.attrs["region"] = reg.label
    out.attrs["attribution"] = "; ".join(dict.fromkeys(out["source"]))
    return out
