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

The 2011 boundaries in the catalog exist only for the 25 districts of D2N2 and Leicester and
Leicestershire, so the method above (its spatial step) runs for those districts. Every other
district of England takes :func:`national_jobs_msoa21`, which carries jobs to every MSOA 2021 of
England and Wales by code (no polygons), shared among the MSOA's LSOAs by their Census 2021
population (:func:`_national_jobs_tables`: the same jobs, the same ``jobs_method`` of the MSOA);
:func:`load_job_destinations` (layer ``job_destinations``) returns jobs as points: LSOA centroids in
the region and the 25 districts, MSOA centroids within ``buffer_km`` elsewhere.
"""

from __future__ import annotations

from functools import lru_cache

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..catalog import resolve_dataset
from ..errors import DataFormatError, MissingColumnError, ParameterError, UnknownNameError
from ..regions import DISTRICTS, get_region
from ..checks import check_frame, codes_in
from ._registry import finish_layer, register_layer
from ..assumptions import reach_km
from .boundaries import load_districts, load_lsoa21, load_msoa11, load_msoa21, region_reach, small_area_names
from .people import read_census2021_population

__all__ = [
    "load_jobs_msoa21", "load_jobs_lsoa21", "load_commuting_lad", "read_workplace_msoa11",
    "apportion", "classify_links", "SPECIAL_WORKPLACES", "load_job_destinations", "national_jobs_msoa21",
]

_JOBS_DATASETS = ["census2011_workplace_msoa", "census2021_population", "lsoa21_boundaries",
                  "lsoa11_boundaries", "msoa11_boundaries", "lsoa11_centroids", "msoa_lookup"]
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
    positive weight cannot be shared and raises :class:`ParameterError`; links whose source
    has no value are ignored.
    """
    missing = [c for c in (source, target, weight) if c not in links.columns]
    if missing:
        raise MissingColumnError(f"links lacks column(s) {missing}; it has {list(links.columns)}. "
                                 f"Pass source=, target=, weight= naming its columns.")
    w = pd.to_numeric(links[weight], errors="coerce")
    if w.isna().any() or (w < 0).any():
        raise ParameterError(f"link weights must be numbers ≥ 0; column {weight!r} has NaN or negative values")
    df = pd.DataFrame({"s": links[source].to_numpy(), "t": links[target].to_numpy(), "w": w.to_numpy(dtype="float64")})
    df = df[codes_in(df["s"], values.index)]
    tot = df.groupby("s")["w"].sum()
    vals = values.astype("float64")
    orphan = vals.index[(vals != 0).to_numpy() & ~codes_in(vals.index, tot.index[tot > 0])]
    if len(orphan):
        raise ParameterError(f"{len(orphan)} source(s) have a value but no link of positive weight, e.g. "
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
    m11 = load_msoa11(region=lads)
    by_code = _code_links(l21["LSOA21CD"], m11, lads)
    known = codes_in(l21["LSOA21CD"], by_code["LSOA21CD"])
    if by_code["MSOA11CD"].isna().any():
        bad = by_code.loc[by_code["MSOA11CD"].isna(), "LSOA21CD"].head(3).tolist()
        raise DataFormatError(f"cannot find the MSOA 2011 of LSOA(s) {bad} from their 2011 names; run `lisgeo data verify` to check the pinned files")
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
            raise DataFormatError(f"LSOA 2021 {sorted(lost)[:3]} overlap no MSOA 2011 of the districts; run `lisgeo data verify` to check the pinned files")
        parts.append(sp)
    return pd.concat(parts, ignore_index=True)


def _code_links(l21_codes: pd.Series, m11: pd.DataFrame, lads: tuple[str, ...]) -> pd.DataFrame:
    """[LSOA21CD, MSOA11CD] of the LSOA 2021 codes that existed in 2011, in their order: the MSOA
    2011 named by the LSOA's 2011 name. The names come from England and Wales's LSOA 2011 table
    (:func:`_lsoa11_to_msoa11`, read once per process: the job destinations read it too) where it
    names an MSOA 2011 of ``m11`` for every one of them; else from the districts' own LSOA 2011
    file (``small_area_names``: about 20 ms a district). Either gives the same links."""
    nat = _lsoa11_to_msoa11()
    known = codes_in(l21_codes, nat.index)
    codes = l21_codes[known].to_numpy()
    m = nat["MSOA11CD"].reindex(codes)
    if m.notna().all() and codes_in(m, m11["MSOA11CD"]).all():
        by_code = pd.DataFrame({"LSOA21CD": codes})
        by_code["MSOA11CD"] = m.to_numpy(dtype=object)
        return by_code
    l11 = small_area_names("lsoa11", lads)  # only the 2011 names are needed, not the polygons
    name_to_m11 = pd.Series(m11["MSOA11CD"].to_numpy(), index=m11["MSOA11NM"].to_numpy())
    known = codes_in(l21_codes, l11.index)
    by_code = pd.DataFrame({"LSOA21CD": l21_codes[known].to_numpy()})
    msoa_name = l11.loc[by_code["LSOA21CD"], "LSOA11NM"].str.slice(0, -1).to_numpy()
    by_code["MSOA11CD"] = pd.Series(msoa_name).map(name_to_m11).to_numpy()
    return by_code


@lru_cache(maxsize=8)
def _jobs_tables(lads: tuple[str, ...]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(MSOA21 table [MSOA21CD, jobs, jobs_method], LSOA21 table [LSOA21CD, MSOA21CD, jobs, jobs_method]).

    The 25 districts of D2N2 and Leicester and Leicestershire, whose 2011 boundaries are in the
    data, by the method of the module docstring; any other district of England from
    :func:`national_jobs_msoa21` (the same jobs, carried to MSOA 2021 by code), shared among its
    LSOAs by their Census 2021 population (:func:`_national_jobs_tables`)."""
    inner = tuple(c for c in lads if c in DISTRICTS)
    outer = tuple(c for c in lads if c not in DISTRICTS)
    parts = ([_jobs_tables_25(inner)] if inner else []) + ([_national_jobs_tables(outer)] if outer else [])
    if len(parts) == 1:
        return parts[0]
    return pd.concat([p[0] for p in parts]), pd.concat([p[1] for p in parts])


def _national_jobs_tables(lads: tuple[str, ...]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """:func:`_jobs_tables` of districts without 2011 boundaries in the data: each MSOA 2021's jobs
    (:func:`national_jobs_msoa21`, its ``jobs_method``) shared among its LSOAs by their Census 2021
    population."""
    codes = small_area_names("lsoa21", lads)["LSOA21CD"].astype(str)
    lsoa_pop = read_census2021_population(level="lsoa")
    lack = codes[~codes_in(codes, lsoa_pop.index)]
    if len(lack):
        raise DataFormatError(f"Census 2021 TS001 lacks LSOA(s) {lack.head(3).tolist()}; run `lisgeo data verify` to check the pinned files")
    l = pd.DataFrame({"LSOA21CD": codes.to_numpy()})
    l["MSOA21CD"] = l["LSOA21CD"].map(lsoa_pop["parent"])
    l["weight"] = l["LSOA21CD"].map(lsoa_pop["pop"]).astype("float64")
    nat = national_jobs_msoa21()
    m = nat.loc[nat.index.intersection(pd.Index(l["MSOA21CD"].unique()))]
    if len(m) < l["MSOA21CD"].nunique():
        raise DataFormatError("national MSOA 2021 jobs lack some MSOAs of the districts; run `lisgeo data verify` to check the pinned files")
    msoa = pd.DataFrame({"MSOA21CD": m.index, "jobs": m["jobs"].to_numpy(dtype="float64"),
                         "jobs_method": m["jobs_method"].astype("string").to_numpy()}, index=m.index)
    jl = apportion(msoa["jobs"], l, source="MSOA21CD", target="LSOA21CD", weight="weight")
    l = l.set_index("LSOA21CD", drop=False)
    l.index.name = None
    l["jobs"] = jl.reindex(l.index).fillna(0.0)  # (an MSOA without jobs gives its LSOAs none)
    l["jobs_method"] = l["MSOA21CD"].map(msoa["jobs_method"])
    return msoa, l[["LSOA21CD", "MSOA21CD", "jobs", "jobs_method"]]


def _jobs_tables_25(lads: tuple[str, ...]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """:func:`_jobs_tables` of districts of D2N2 and Leicester and Leicestershire (2011 boundaries)."""
    unknown = [c for c in lads if c not in DISTRICTS]
    if unknown:
        raise UnknownNameError("district code", unknown[0], sorted(DISTRICTS),
                               "Jobs by the 2011 boundaries need LSOA/MSOA 2011 boundaries, which the catalog holds only for these 25 districts.")
    links = _lsoa21_to_msoa11(lads)
    lsoa_pop = read_census2021_population(level="lsoa")
    links["MSOA21CD"] = links["LSOA21CD"].map(lsoa_pop["parent"])
    links["weight"] = links["LSOA21CD"].map(lsoa_pop["pop"]).astype("float64") * links["frac"]
    m11 = load_msoa11(region=lads)
    work = read_workplace_msoa11()
    missing = ~codes_in(m11["MSOA11CD"], work.index)
    if missing.any():
        raise DataFormatError(f"Census 2011 workplace data lack MSOA(s) {m11.index[missing][:3].tolist()}; run `lisgeo data verify` to check the pinned files")
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
    buffer_km = reach_km("jobs", buffer_km)
    if buffer_km > 0:
        ring = region_reach(reg, buffer_km)
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
        raise DataFormatError(f"no jobs for MSOA(s) {gdf.index[gdf['jobs'].isna()][:3].tolist()}; run `lisgeo data verify` to check the pinned files")
    geom = gdf.pop("geometry")
    gdf["geometry"] = geom
    gdf = gpd.GeoDataFrame(gdf, geometry="geometry", crs=geom.crs)
    return finish_layer(gdf, name="jobs_msoa21", datasets=["msoa21_boundaries", *_JOBS_DATASETS])


@register_layer("jobs_lsoa21", family="jobs",
                description="LSOA 2021 polygons + jobs (MSOA jobs shared by 2021 population) and jobs_method",
                datasets=_JOBS_DATASETS)
def load_jobs_lsoa21(*, region="d2n2", buffer_km: float | None = None) -> gpd.GeoDataFrame:
    """LSOA 2021 polygons with ``jobs`` (people working there, Census 2011, excl. home-workers).

    Columns [LSOA21CD, LSOA21NM, LADCD, LADNM, LEP, MSOA21CD, jobs, jobs_method, in_region,
    geometry]. Any district of England (the 25 of D2N2 and Leicester and Leicestershire by their
    2011 boundaries, the others through :func:`national_jobs_msoa21`). With ``buffer_km`` > 0 the
    LSOAs of *neighbouring* districts among the 25 whose area lies within ``buffer_km`` of the
    region are added (``in_region`` False); the scores take the jobs beyond the region from
    :func:`load_job_destinations` instead, which reaches every district.
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


# --------------------------------------------------------------------------- destinations beyond the region

_DEST_DATASETS = ["census2011_workplace_msoa", "census2021_population", "msoa_lookup", "lsoa11_centroids",
                  "lsoa21_centroids", "msoa21_centroids", "lsoa21_boundaries", "lsoa11_boundaries",
                  "msoa11_boundaries"]
_DEST_COLS = ["dest_id", "level", "jobs", "jobs_method", "LADCD", "in_region", "geometry"]


@lru_cache(maxsize=1)
def _lsoa11_to_msoa11() -> pd.DataFrame:
    """Every LSOA 2011 of England and Wales: [LSOA11CD, MSOA11CD (<NA> if its name is not found), geometry].

    The MSOA 2011 is found by name ("Sheffield 001A" lies in "Sheffield 001"), matched to the
    MSOA 2011 names of ``msoa_lookup``. That file names MSOAs of districts renamed since 2011
    (e.g. Shepway, Aylesbury Vale) by their current district, so those LSOAs get <NA>.
    """
    (cpath,) = resolve_dataset("lsoa11_centroids")
    c = pd.read_csv(cpath, encoding="utf-8-sig")
    c.columns = [x.strip() for x in c.columns]
    need = [x for x in ("X", "Y", "lsoa11cd", "lsoa11nm") if x not in c.columns]
    if need:
        raise MissingColumnError(f"lsoa11_centroids lacks {need}; expected ONS LSOA 2011 PWC (X=lon, Y=lat)")
    (lpath,) = resolve_dataset("msoa_lookup")
    lk = pd.read_csv(lpath, usecols=["MSOA11CD", "MSOA11NM"]).dropna()
    lk = lk[lk["MSOA11CD"].str.match(r"^[EW]02")]
    name_to_m11 = pd.Series(lk["MSOA11CD"].to_numpy(), index=lk["MSOA11NM"].to_numpy())
    name_to_m11 = name_to_m11[~name_to_m11.index.duplicated(keep=False)]
    geom = gpd.GeoSeries(shapely.points(c["X"].to_numpy(), c["Y"].to_numpy()), crs="EPSG:4326").to_crs("EPSG:27700")
    out = gpd.GeoDataFrame({"LSOA11CD": c["lsoa11cd"].astype("string").to_numpy(),
                            "MSOA11CD": c["lsoa11nm"].str.slice(0, -1).map(name_to_m11).astype("string").to_numpy()},
                           geometry=geom.values, crs="EPSG:27700")
    return out.set_index("LSOA11CD", drop=False).rename_axis(None)


@lru_cache(maxsize=1)
def national_jobs_msoa21() -> pd.DataFrame:
    """Census 2011 jobs carried to every MSOA 2021 of England and Wales, without any polygons.

    Columns [MSOA21CD, LADCD, jobs, jobs_method]; index MSOA21CD; jobs in people
    (``workday − home``, as everywhere in this module).

    ``LADCD`` is the district of Census 2021 (before the mergers of 2023: Allerdale, not Cumberland;
    :func:`lisgeo.regions.successor` gives today's).

    * MSOA 2021 whose code existed in 2011 (7,080 of 7,264): all of that MSOA's jobs, ``"lookup"``.
      ONS kept a code only where the MSOA did not change.
    * The 184 new MSOA 2021 codes were formed from the 121 retired 2011 codes. ``msoa_lookup``
      (``msoa_la.csv``) lists codes of both years but does **not** say which old code became
      which new one, so the link is built from LSOAs: each LSOA 2021 of a new MSOA (its MSOA
      from Census 2021 TS001) whose code existed in 2011 is linked to the MSOA 2011 its 2011
      name gives; LSOAs new in 2021 are linked to the retired-MSOA LSOA 2011 whose
      population-weighted centroid is nearest to theirs (a point step: median ≈ 300 m).
      Links are weighted by the LSOA's 2021 population and each retired MSOA's jobs are
      shared with :func:`apportion`; ``jobs_method`` from :func:`classify_links` ("merged",
      "recoded", "split_population"). Totals are conserved nationally.
    """
    work = read_workplace_msoa11()
    m21 = read_census2021_population(level="msoa")
    l21 = read_census2021_population(level="lsoa")
    same = m21.index[codes_in(m21.index, work.index)]
    new = m21.index[~codes_in(m21.index, work.index)]
    retired = work.index[~codes_in(work.index, m21.index)]
    l11 = _lsoa11_to_msoa11()
    ln = l21[codes_in(l21["parent"], new)]
    known = codes_in(ln.index, l11.index)
    links = [pd.DataFrame({"LSOA21CD": ln.index[known], "MSOA21CD": ln.loc[known, "parent"].to_numpy(),
                           "MSOA11CD": l11.loc[ln.index[known], "MSOA11CD"].to_numpy(),
                           "weight": ln.loc[known, "pop"].to_numpy(dtype="float64")})]
    if (~known).any():
        from .people import _centroids

        pts = _centroids("lsoa21_centroids").reindex(ln.index[~known])
        if pts.isna().any():
            raise DataFormatError(f"lsoa21_centroids lacks LSOA(s) {pts.index[pts.isna()][:3].tolist()}; run `lisgeo data verify` to check the pinned files")
        cand = l11[codes_in(l11["MSOA11CD"], retired)]
        _, j = shapely.STRtree(cand.geometry.values).query_nearest(pts.values, all_matches=False)
        links.append(pd.DataFrame({"LSOA21CD": pts.index, "MSOA21CD": ln.loc[~known, "parent"].to_numpy(),
                                   "MSOA11CD": cand["MSOA11CD"].to_numpy()[j],
                                   "weight": ln.loc[~known, "pop"].to_numpy(dtype="float64")}))
    links = pd.concat(links, ignore_index=True)
    bad = links["MSOA11CD"].isna().to_numpy() | ~codes_in(links["MSOA11CD"], retired)
    if bad.any():
        raise DataFormatError(f"LSOA(s) {links.loc[bad, 'LSOA21CD'].head(3).tolist()} of new MSOA 2021 codes link to "
                              "no retired MSOA 2011; check msoa_lookup and lsoa11_centroids")
    jobs_new = apportion(work.loc[retired, "jobs"], links, source="MSOA11CD", target="MSOA21CD", weight="weight")
    method = classify_links(links, source="MSOA11CD", target="MSOA21CD", weight="weight")
    jobs = pd.concat([work.loc[same, "jobs"].astype("float64"), jobs_new])
    meth = pd.concat([pd.Series("lookup", index=same, dtype="string"), method.astype("string")])
    out = pd.DataFrame({"MSOA21CD": m21.index.astype("string"),
                        "LADCD": m21["parent"].astype("string").to_numpy(),
                        "jobs": jobs.reindex(m21.index).to_numpy(dtype="float64"),
                        "jobs_method": meth.reindex(m21.index).astype("string").to_numpy()}, index=m21.index)
    if out["jobs"].isna().any():
        raise DataFormatError(f"no jobs for MSOA 2021 {out.index[out['jobs'].isna()][:3].tolist()}; run `lisgeo data verify` to check the pinned files")
    out.index.name = None
    return out


@register_layer("job_destinations", family="jobs",
                description="Points carrying jobs for accessibility: LSOA 2021 centroids in the 25 districts, "
                            "MSOA 2021 centroids (Census 2011 jobs) beyond them within buffer_km",
                datasets=_DEST_DATASETS)
def load_job_destinations(*, region="d2n2", buffer_km: float | None = None, beyond_region: bool = False) -> gpd.GeoDataFrame:
    """Job destinations (points, EPSG:27700) for accessibility measures, reaching beyond the region.

    Columns [dest_id, level, jobs, jobs_method, LADCD, in_region, geometry]; index dest_id.
    ``jobs`` are people working there (Census 2011, ``workday − home``, 27 March 2011).

    * ``level == "lsoa21"``: one point per LSOA 2021 (ONS population-weighted centroid) of the
      region (any district of England) and of the 25 districts of D2N2 and Leicester and
      Leicestershire, jobs of :func:`load_jobs_lsoa21`. All LSOAs of ``region`` are included
      (``in_region`` True); LSOAs of the other of the 25 districts are included when their
      centroid lies within ``buffer_km`` of the region's outline, with jobs computed over those
      other districts as one set (totals conserved; for a region with none of the 25, over those
      of them whose outline is within reach).
    * ``level == "msoa21"``: one point per MSOA 2021 outside the region and the 25 districts whose
      population-weighted centroid lies within ``buffer_km`` (km) of the outline (Sheffield,
      Manchester and Stockport, Doncaster, Coventry and Nuneaton, Stoke, Lincoln, ... at
      60 km); jobs from :func:`national_jobs_msoa21` (same definition, carried to 2021 by code,
      changed codes through LSOAs). ``in_region`` False.

    MSOAs and LSOAs both nest in districts, and each district is either one of the 25 (LSOA
    points) or not (MSOA points), so no area is counted twice. ``buffer_km=0`` gives exactly
    the region's LSOAs. Caveats: points outside are coarser (an MSOA holds about 5 LSOAs, so
    travel times to them are less precise); all jobs are 2011 counts on 2021 geography; jobs
    in Scotland are missing (no data), as are jobs beyond ``buffer_km``.

    ``beyond_region=True`` keeps only the destinations beyond the region (``in_region`` False),
    the same rows in the same order, without working out the region's own jobs: what a network
    needs (its zones are the region's LSOAs), about a third of the time.
    """
    from .people import _centroids

    buffer_km = reach_km("job_destinations", buffer_km)
    reg = get_region(region)
    lads = tuple(reg.lad_codes)
    others = tuple(sorted(c for c in DISTRICTS if c not in lads))
    ring = region_reach(reg, buffer_km) if buffer_km > 0 else None
    if others and not set(lads) & set(DISTRICTS):
        # a region beyond the 25 districts: only those of them near enough to hold destinations
        from ..regions import district_outlines

        d = district_outlines()
        near = set(d.loc[d.intersects(ring), "LADCD"]) if ring is not None else set()
        others = tuple(c for c in others if c in near)

    parts = []
    if not beyond_region:
        inner = load_jobs_lsoa21(region=lads)
        parts.append(pd.DataFrame({"dest_id": inner["LSOA21CD"].to_numpy(), "jobs": inner["jobs"].to_numpy(),
                                   "jobs_method": inner["jobs_method"].to_numpy(), "LADCD": inner["LADCD"].to_numpy(),
                                   "level": "lsoa21", "in_region": True}))
    lsoa_pts = _centroids("lsoa21_centroids")
    if ring is not None and others:
        outer = load_jobs_lsoa21(region=others)
        near = lsoa_pts.reindex(outer["LSOA21CD"]).within(ring).to_numpy()
        o = outer[near]
        parts.append(pd.DataFrame({"dest_id": o["LSOA21CD"].to_numpy(), "jobs": o["jobs"].to_numpy(),
                                   "jobs_method": o["jobs_method"].to_numpy(), "LADCD": o["LADCD"].to_numpy(),
                                   "level": "lsoa21", "in_region": False}))
    df = (pd.concat(parts, ignore_index=True) if parts else
          pd.DataFrame({c: pd.Series(dtype=object) for c in ("dest_id", "jobs", "jobs_method", "LADCD", "level", "in_region")}))
    geom = lsoa_pts.reindex(df["dest_id"]).values
    if ring is not None:
        from ..regions import successor

        nat = national_jobs_msoa21()
        today = nat["LADCD"].astype(str).map({c: successor(c) or c for c in pd.unique(nat["LADCD"].astype(str))})
        nat = nat[~today.isin([*DISTRICTS, *lads]).to_numpy()]  # (the region's own jobs are its LSOAs', merged districts too)
        mpts = _centroids("msoa21_centroids").reindex(nat.index)
        if mpts.isna().any():
            raise DataFormatError(f"msoa21_centroids lacks MSOA(s) {mpts.index[mpts.isna()][:3].tolist()}; run `lisgeo data verify` to check the pinned files")
        near = mpts.within(ring).to_numpy()
        m = nat[near]
        mdf = pd.DataFrame({"dest_id": m["MSOA21CD"].to_numpy(), "jobs": m["jobs"].to_numpy(),
                            "jobs_method": m["jobs_method"].to_numpy(), "LADCD": m["LADCD"].to_numpy(),
                            "level": "msoa21", "in_region": False})
        df = pd.concat([df, mdf], ignore_index=True)
        geom = np.concatenate([geom, mpts[near].values])
    for c in ("dest_id", "jobs_method", "LADCD", "level"):
        df[c] = df[c].astype("string")
    df["jobs"] = df["jobs"].astype("float64")
    df["in_region"] = df["in_region"].astype(bool)
    gdf = gpd.GeoDataFrame(df, geometry=geom, crs="EPSG:27700")
    gdf.index = pd.Index(gdf["dest_id"].to_numpy(), dtype="string")
    gdf = gdf[_DEST_COLS]
    gdf = check_frame(gdf, name="job_destinations", required=_DEST_COLS, codes=["LADCD"], geom_types=("Point",),
                      unique="dest_id", allow_empty=beyond_region)  # (nothing lies beyond with buffer_km=0)
    return finish_layer(gdf, name="job_destinations", datasets=_DEST_DATASETS)


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


@lru_cache(maxsize=1)
def _commuting_today() -> pd.DataFrame:
    """:func:`_commuting` with the districts merged or recoded since 2021 (Cumbria, North Yorkshire,
    Somerset, Barnsley, Sheffield) as today's (:func:`lisgeo.regions.successor`), their flows added up:
    the totals are the Census's, and a region of today's districts finds its flows."""
    from ..regions import district_name, successor

    df = _commuting()
    codes = pd.unique(pd.concat([df["home_LADCD"], df["work_LADCD"]]).astype(str))
    moved = {c: successor(c) for c in codes if c[:1] == "E" and successor(c) not in (None, c)}
    if not moved:
        return df
    out = df.copy()
    for side in ("home", "work"):
        hit = out[f"{side}_LADCD"].isin(list(moved))
        out.loc[hit, f"{side}_LADCD"] = out.loc[hit, f"{side}_LADCD"].map(moved)
        out.loc[hit, f"{side}_LADNM"] = out.loc[hit, f"{side}_LADCD"].map(district_name)
    keys = ["home_LADCD", "home_LADNM", "work_LADCD", "work_LADNM", "place_of_work"]
    out = out.groupby(keys, sort=False, as_index=False, dropna=False)["flow"].sum()
    out["flow"] = out["flow"].astype("int64")
    return out[df.columns]


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
    within the region only (home in the region and work in the region or at home). Districts merged
    or recoded since 2021 are today's (their flows added up): Cumberland's are Allerdale's,
    Carlisle's and Copeland's.
    """
    lads = set(get_region(region).lad_codes)
    df = _commuting_today()
    home_in = df["home_LADCD"].isin(lads)
    work_in = df["work_LADCD"].isin(lads)
    keep = (home_in & (work_in | (df["work_LADCD"] == "HOME"))) if both else (home_in | work_in)
    out = df[keep].reset_index(drop=True)
    check_frame(out, name="commuting_lad", required=["home_LADCD", "work_LADCD", "flow"])
    return finish_layer(out, name="commuting_lad", datasets=["census2021_commuting_lad"])
