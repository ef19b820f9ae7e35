"""Jobs layers: Census 2011 workplace population carried to 2021 geography, and Census 2021 commuting.

What "jobs" means
-----------------
ONS Census 2011 WU01EW summaries by MSOA 2011 (``msoa11_data.csv``) give ``workday`` (people
whose workplace is in the MSOA, including those working mainly at or from home there),
``home`` (those working mainly at or from home) and flows. Here

    jobs = workday − home

i.e. people aged 16+ in employment who travel to a workplace in the MSOA (including
those who live in the same MSOA but not home-workers). Home-workers are excluded because they
are not opportunities that anyone else can reach. Units: people (workplace-based count,
Census day 27 March 2011). They are the "opportunities" of the accessibility measures.

From MSOA 2011 to MSOA 2021 and LSOA 2021 (method, see also ``layers/jobs_method.md``)
---------------------------------------------------------------------------------------
1. Each LSOA 2021 is linked to the MSOA 2011 it lay in, by code wherever possible: an LSOA
   2021 whose code already existed in 2011 covers the same area, and its 2011 name
   ("Derby 013A") names its MSOA 2011 ("Derby 013"). LSOAs created in 2021 (new codes, from
   splits or merges of 2011 LSOAs) have no code link; they are linked to the MSOA 2011
   polygon(s) they overlap, with the share of their area in each (slivers under 2% dropped).
   This is the only spatial step, and it compares polygons of the same ONS generalisation.
2. Each MSOA 2011's jobs are shared among the MSOA 2021 by the Census 2021 population (TS001)
   of the linked LSOAs: weight(MSOA11, MSOA21) = Σ pop(LSOA21) × area share. Per MSOA 2021,
   ``jobs_method`` records how its total arose:

   * ``"lookup"``: the MSOA kept its 2011 code and takes all of that MSOA's jobs (1:1);
   * ``"recoded"``: 1:1 with a 2011 MSOA of another code;
   * ``"merged"``: the whole of two or more 2011 MSOAs;
   * ``"split_population"``: part of a 2011 MSOA that was split, apportioned by 2021 population.

3. Each MSOA 2021's jobs are shared among its LSOA 2021 by their share of the MSOA's Census
   2021 population (there is no workplace count below MSOA). The LSOA's ``jobs_method`` is its
   MSOA's.

Totals are conserved at each step (the jobs of a set of districts are unchanged; district
boundaries did not change 2011–2021 in these 25 districts). Population is residents, not
workplaces: inside an MSOA, jobs are spread like homes, a known simplification.

Boundaries and lookups in the catalog exist only for the 25 districts of D2N2 and Leicester
and Leicestershire, so jobs can be built only for those districts.
"""

from __future__ import annotations

from functools import lru_cache

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..catalog import resolve_dataset
from ..errors import LisgeoError, MissingColumnError, UnknownNameError
from ..regions import DISTRICTS, get_region
from ..validate import check_frame
from ._registry import finish_layer, register_layer
from .boundaries import load_districts, load_lsoa11, load_lsoa21, load_msoa11, load_msoa21, region_outline
from .people import read_census2021_population

__all__ = [
    "load_jobs_msoa21", "load_jobs_lsoa21", "load_commuting_lad", "read_workplace_msoa11",
    "apportion", "classify_links", "SPECIAL_WORKPLACES",
]

_JOBS_DATASETS = ["census2011_workplace_msoa", "census2021_population", "lsoa21_boundaries",
                  "lsoa11_boundaries", "msoa11_boundaries"]
_SLIVER = 0.02

#: codes used in ``commuting_lad.work_LADCD`` for workplaces that are not a district
SPECIAL_WORKPLACES = {
    "HOME": "Mainly working at or from home, or no fixed place",
    "OFFSHORE": "Workplace is offshore installation",
    "OUTSIDE_UK": "Workplace is outside the UK",
}


def apportion(values: pd.Series, links: pd.DataFrame, *, source: str = "source", target: str = "target",
              weight: str = "weight") -> pd.Series:
    """Share each source's value among its targets in proportion to the link weights.

    ``values``: indexed by source id. ``links``: one row per (source, target) with a weight
    ≥ 0 (several rows for the same pair are added). Returns a float Series indexed by target
    (sorted), with ``sum(result) == sum(values)``. A source with a value but no link of
    positive weight cannot be shared and raises :class:`LisgeoError`; links whose source
    has no value are ignored.
    """
    missing = [c for c in (source, target, weight) if c not in links.columns]
    if missing:
        raise MissingColumnError(f"links lacks column(s) {missing}; it has {list(links.columns)}. "
                                 f"Pass source=, target=, weight= naming its columns.")
    w = pd.to_numeric(links[weight], errors="coerce")
    if w.isna().any() or (w < 0).any():
        raise LisgeoError(f"link weights must be numbers ≥ 0; column {weight!r} has NaN or negative values")
    df = pd.DataFrame({"s": links[source].to_numpy(), "t": links[target].to_numpy(), "w": w.to_numpy(dtype="float64")})
    df = df[df["s"].isin(values.index)]
    tot = df.groupby("s")["w"].sum()
    vals = values.astype("float64")
    orphan = vals.index[(vals != 0) & ~vals.index.isin(tot.index[tot > 0])]
    if len(orphan):
        raise LisgeoError(f"{len(orphan)} source(s) have a value but no link of positive weight, e.g. "
                          f"{list(orphan[:3])}; add links for them or drop them first")
    df = df[df["s"].map(tot) > 0]
    df["v"] = df["s"].map(vals) * df["w"] / df["s"].map(tot)
    out = df.groupby("t")["v"].sum()
    out.index.name = None
    out.name = values.name
    return out


def classify_links(links: pd.DataFrame, *, source: str = "source", target: str = "target",
                   weight: str = "weight", tol: float = 1e-9) -> pd.Series:
    """``jobs_method`` of each target from its source links (see the module docstring).

    A link is "whole" when it carries all of its source's weight. Returns a Series indexed by
    target: "lookup" (one whole source of the same code), "recoded" (one whole source of
    another code), "merged" (several whole sources), "split_population" (any partial source).
    """
    missing = [c for c in (source, target, weight) if c not in links.columns]
    if missing:
        raise MissingColumnError(f"links lacks column(s) {missing}; it has {list(links.columns)}")
    df = links.groupby([source, target], as_index=False)[weight].sum()
    df = df[df[weight] > 0]
    share = df[weight] / df.groupby(source)[weight].transform("sum")
    df["whole"] = share >= 1 - tol
    g = df.groupby(target)
    n = g.size()
    all_whole = g["whole"].all()
    first_src = g[source].first()
    out = pd.Series("split_population", index=n.index, dtype="string")
    one = all_whole & (n == 1)
    out[one & (first_src == n.index.to_series())] = "lookup"
    out[one & (first_src != n.index.to_series())] = "recoded"
    out[all_whole & (n > 1)] = "merged"
    out.index.name = None
    return out


@lru_cache(maxsize=1)
def read_workplace_msoa11() -> pd.DataFrame:
    """Census 2011 workplace counts for every MSOA 2011 in England and Wales.

    Columns [MSOA11CD, workday, home, jobs] (people); ``jobs = workday − home``. Index MSOA11CD.
    """
    (path,) = resolve_dataset("census2011_workplace_msoa")
    df = pd.read_csv(path, usecols=lambda c: c in {"areacd", "workday", "home"})
    missing = [c for c in ("areacd", "workday", "home") if c not in df.columns]
    if missing:
        raise MissingColumnError(f"census2011_workplace_msoa lacks {missing}; expected ONSvisual msoa11_data.csv")
    df = df.rename(columns={"areacd": "MSOA11CD"})
    df["jobs"] = df["workday"] - df["home"]
    df = df.set_index("MSOA11CD", drop=False)
    df.index.name = None
    return df


def _lsoa21_to_msoa11(lads: tuple[str, ...]) -> pd.DataFrame:
    """Links [LSOA21CD, MSOA11CD, frac, link] for the LSOA 2021 of ``lads`` (see module docstring)."""
    l21 = load_lsoa21(region=lads)
    l11 = load_lsoa11(region=lads)
    m11 = load_msoa11(region=lads)
    name_to_m11 = pd.Series(m11["MSOA11CD"].to_numpy(), index=m11["MSOA11NM"].to_numpy())
    known = l21["LSOA21CD"].isin(l11.index)
    by_code = pd.DataFrame({"LSOA21CD": l21.loc[known, "LSOA21CD"].to_numpy()})
    msoa_name = l11.loc[by_code["LSOA21CD"], "LSOA11NM"].str.slice(0, -1).to_numpy()
    by_code["MSOA11CD"] = pd.Series(msoa_name).map(name_to_m11).to_numpy()
    if by_code["MSOA11CD"].isna().any():
        bad = by_code.loc[by_code["MSOA11CD"].isna(), "LSOA21CD"].head(3).tolist()
        raise LisgeoError(f"cannot find the MSOA 2011 of LSOA(s) {bad} from their 2011 names")
    by_code["frac"] = 1.0
    by_code["link"] = "code"
    new = l21.loc[~known]
    parts = [by_code]
    if len(new):
        tree = shapely.STRtree(m11.geometry.values)
        li, mi = tree.query(new.geometry.values, predicate="intersects")
        inter = shapely.area(shapely.intersection(new.geometry.values[li], m11.geometry.values[mi]))
        frac = inter / shapely.area(new.geometry.values[li])
        sp = pd.DataFrame({"LSOA21CD": new["LSOA21CD"].to_numpy()[li], "MSOA11CD": m11["MSOA11CD"].to_numpy()[mi],
                           "frac": frac})
        sp = sp[sp["frac"] >= _SLIVER]
        sp["frac"] = sp["frac"] / sp.groupby("LSOA21CD")["frac"].transform("sum")
        sp["link"] = "spatial"
        lost = set(new["LSOA21CD"]) - set(sp["LSOA21CD"])
        if lost:
            raise LisgeoError(f"LSOA 2021 {sorted(lost)[:3]} overlap no MSOA 2011 of the districts")
        parts.append(sp)
    return pd.concat(parts, ignore_index=True)


@lru_cache(maxsize=8)
def _jobs_tables(lads: tuple[str, ...]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(MSOA21 table [MSOA21CD, jobs, jobs_method], LSOA21 table [LSOA21CD, MSOA21CD, jobs, jobs_method])."""
    unknown = [c for c in lads if c not in DISTRICTS]
    if unknown:
        raise UnknownNameError("district code", unknown[0], sorted(DISTRICTS),
                               "Jobs need LSOA/MSOA boundaries, which the catalog holds only for these 25 districts.")
    links = _lsoa21_to_msoa11(lads)
    lsoa_pop = read_census2021_population(level="lsoa")
    links["MSOA21CD"] = links["LSOA21CD"].map(lsoa_pop["parent"])
    links["weight"] = links["LSOA21CD"].map(lsoa_pop["pop"]).astype("float64") * links["frac"]
    m11 = load_msoa11(region=lads)
    work = read_workplace_msoa11()
    missing = ~m11["MSOA11CD"].isin(work.index)
    if missing.any():
        raise LisgeoError(f"Census 2011 workplace data lack MSOA(s) {m11.index[missing][:3].tolist()}")
    jobs11 = work.loc[m11["MSOA11CD"], "jobs"]
    jobs21 = apportion(jobs11, links, source="MSOA11CD", target="MSOA21CD", weight="weight")
    method = classify_links(links, source="MSOA11CD", target="MSOA21CD", weight="weight")
    msoa = pd.DataFrame({"MSOA21CD": jobs21.index, "jobs": jobs21.to_numpy(),
                         "jobs_method": method.reindex(jobs21.index).to_numpy()}, index=jobs21.index)
    l = pd.DataFrame({"LSOA21CD": links["LSOA21CD"].unique()})
    l["MSOA21CD"] = l["LSOA21CD"].map(lsoa_pop["parent"])
    l["weight"] = l["LSOA21CD"].map(lsoa_pop["pop"]).astype("float64")
    jl = apportion(msoa["jobs"], l, source="MSOA21CD", target="LSOA21CD", weight="weight")
    l = l.set_index("LSOA21CD", drop=False)
    l.index.name = None
    l["jobs"] = jl.reindex(l.index)
    l["jobs_method"] = l["MSOA21CD"].map(msoa["jobs_method"])
    return msoa, l[["LSOA21CD", "MSOA21CD", "jobs", "jobs_method"]]


def _lads_with_buffer(region, buffer_km: float) -> tuple[tuple[str, ...], tuple[str, ...]]:
    reg = get_region(region)
    lads = tuple(reg.lad_codes)
    if buffer_km and buffer_km > 0:
        ring = region_outline(reg).buffer(float(buffer_km) * 1000)
        others = tuple(c for c in sorted(DISTRICTS) if c not in lads)
        if others:
            d = load_districts(region=others)
            near = tuple(d.index[d.intersects(ring)])
            return lads, tuple(sorted(lads + near))
    return lads, lads


@register_layer("jobs_msoa21", family="jobs",
                description="MSOA 2021 polygons + jobs (Census 2011 workplace population excl. home-workers, "
                            "carried to 2021 MSOAs) and jobs_method",
                datasets=["msoa21_boundaries", *_JOBS_DATASETS])
def load_jobs_msoa21(*, region="d2n2") -> gpd.GeoDataFrame:
    """MSOA 2021 polygons of ``region`` with ``jobs`` (people working there, Census 2011) and ``jobs_method``.

    See the module docstring for what ``jobs`` counts and how it is carried to 2021.
    """
    lads = get_region(region).lad_codes
    msoa, _ = _jobs_tables(tuple(lads))
    gdf = load_msoa21(region=region).copy()
    gdf["jobs"] = gdf["MSOA21CD"].map(msoa["jobs"]).astype("float64")
    gdf["jobs_method"] = gdf["MSOA21CD"].map(msoa["jobs_method"]).astype("string")
    if gdf["jobs"].isna().any():
        raise LisgeoError(f"no jobs for MSOA(s) {gdf.index[gdf['jobs'].isna()][:3].tolist()}")
    geom = gdf.pop("geometry")
    gdf["geometry"] = geom
    gdf = gpd.GeoDataFrame(gdf, geometry="geometry", crs=geom.crs)
    return finish_layer(gdf, name="jobs_msoa21", datasets=["msoa21_boundaries", *_JOBS_DATASETS])


@register_layer("jobs_lsoa21", family="jobs",
                description="LSOA 2021 polygons + jobs (MSOA jobs shared by 2021 population) and jobs_method",
                datasets=_JOBS_DATASETS)
def load_jobs_lsoa21(*, region="d2n2", buffer_km: float = 0) -> gpd.GeoDataFrame:
    """LSOA 2021 polygons with ``jobs`` (people working there, Census 2011, excl. home-workers).

    Columns [LSOA21CD, LSOA21NM, LADCD, LADNM, LEP, MSOA21CD, jobs, jobs_method, in_region,
    geometry]. With ``buffer_km`` > 0 the LSOAs of *neighbouring* districts whose area lies
    within ``buffer_km`` of the region are added (``in_region`` False), but only districts
    for which the catalog holds boundaries: the 25 districts of D2N2 and Leicester and
    Leicestershire. Jobs beyond them (e.g. Sheffield, Stoke, Lincoln) are not available, so
    accessibility near the outer edge of the 25 districts is understated.
    """
    inner, lads = _lads_with_buffer(region, buffer_km)
    _, table = _jobs_tables(lads)
    gdf = load_lsoa21(region=lads).copy()
    for c in ("MSOA21CD", "jobs", "jobs_method"):
        gdf[c] = gdf["LSOA21CD"].map(table[c])
    gdf["jobs"] = gdf["jobs"].astype("float64")
    gdf["jobs_method"] = gdf["jobs_method"].astype("string")
    gdf["in_region"] = gdf["LADCD"].isin(inner)
    gdf = gdf[["LSOA21CD", "LSOA21NM", "LADCD", "LADNM", "LEP", "MSOA21CD", "jobs", "jobs_method", "in_region", "geometry"]]
    return finish_layer(gdf, name="jobs_lsoa21", datasets=_JOBS_DATASETS)


# --------------------------------------------------------------------------- commuting

_OD_COLS = {
    "Lower tier local authorities code": "home_LADCD",
    "Lower tier local authorities label": "home_LADNM",
    "LTLA of workplace code": "work_LADCD",
    "LTLA of workplace label": "work_LADNM",
    "Place of work indicator (4 categories) code": "pow",
    "Count": "flow",
}


def _tidy_commuting(raw: pd.DataFrame) -> pd.DataFrame:
    missing = [c for c in _OD_COLS if c not in raw.columns]
    if missing:
        raise MissingColumnError(f"ODWP01EW table lacks column(s) {missing}; expected the ONS LTLA download")
    df = raw[list(_OD_COLS)].rename(columns=_OD_COLS)
    df["work_LADCD"] = df["work_LADCD"].astype("string")
    df["work_LADNM"] = df["work_LADNM"].astype("string")
    df = df[df["pow"] != -8].copy()  # "Does not apply": not in employment, not a flow
    home = df["pow"] == 1
    df.loc[home, "work_LADCD"] = "HOME"
    df.loc[df["work_LADCD"] == "888888888", "work_LADCD"] = "OFFSHORE"
    df.loc[df["work_LADCD"] == "999999999", "work_LADCD"] = "OUTSIDE_UK"
    special = df["work_LADCD"].isin(list(SPECIAL_WORKPLACES))
    df.loc[special, "work_LADNM"] = df.loc[special, "work_LADCD"].map(SPECIAL_WORKPLACES)
    df["place_of_work"] = np.select(
        [home, df["work_LADCD"] == "OFFSHORE", df["work_LADCD"] == "OUTSIDE_UK"],
        ["home", "offshore", "outside_uk"], default="workplace")
    df["flow"] = df["flow"].astype("int64")
    return df[["home_LADCD", "home_LADNM", "work_LADCD", "work_LADNM", "place_of_work", "flow"]].reset_index(drop=True)


@lru_cache(maxsize=1)
def _commuting() -> pd.DataFrame:
    (path,) = resolve_dataset("census2021_commuting_lad")
    return _tidy_commuting(pd.read_csv(path, dtype={"LTLA of workplace code": str}))


@register_layer("commuting_lad", family="jobs", kind="table",
                description="Census 2021 home→work flows between districts (ODWP01EW): home_LADCD, home_LADNM, "
                            "work_LADCD, work_LADNM, place_of_work, flow",
                datasets=["census2021_commuting_lad"])
def load_commuting_lad(*, region="d2n2", both: bool = False) -> pd.DataFrame:
    """Census 2021 flows of workers (people aged 16+ in employment) from home district to work district.

    Columns [home_LADCD, home_LADNM, work_LADCD, work_LADNM, place_of_work, flow]. Workers
    who mainly work at or from home (or have no fixed place) are kept as
    ``work_LADCD == "HOME"``; offshore installations as ``"OFFSHORE"`` and workplaces outside
    the UK as ``"OUTSIDE_UK"`` (``place_of_work`` is "workplace", "home", "offshore" or
    "outside_uk"). Rows "Does not apply" (people not in employment) are dropped. Census day
    21 March 2021 was in lockdown: home-working is far higher than usual.

    By default flows with home **or** work in ``region`` are kept; ``both=True`` keeps flows
    within the region only (home in the region and work in the region or at home).
    """
    lads = set(get_region(region).lad_codes)
    df = _commuting()
    home_in = df["home_LADCD"].isin(lads)
    work_in = df["work_LADCD"].isin(lads)
    keep = (home_in & (work_in | (df["work_LADCD"] == "HOME"))) if both else (home_in | work_in)
    out = df[keep].reset_index(drop=True)
    check_frame(out, name="commuting_lad", required=["home_LADCD", "work_LADCD", "flow"])
    return finish_layer(out, name="commuting_lad", datasets=["census2021_commuting_lad"])
