"""Deprivation layers: English Indices of Deprivation 2025 (LSOA 2021) and 2019 (LSOA 2011).

Ranks run from 1 = most deprived; deciles from 1 = most deprived 10% of LSOAs in England.

``imd2025`` (LSOA 2021, humaniverse/IMD R data of the MHCLG IoD 2025 files) columns:

* ``imd_score, imd_rank, imd_decile`` and, for each domain, ``<domain>_score/_rank/_decile``
  with domains ``income, employment, education, health, crime, barriers`` (Barriers to
  Housing and Services) and ``living_environment``.
* sub-domains (``<sub>_score/_rank/_decile``): ``children_and_young_people, adult_skills``
  (Education), ``geographical_barriers, wider_barriers`` (Barriers), ``indoors, outdoors``
  (Living Environment).
* indicators, renamed where the published names are long:
  ``transport_connectivity_score`` (IoD 2025 "connectivity score": journey times by public
  transport/walking/cycling/driving to key services, part of the Geographical Barriers
  sub-domain; higher = better connected), ``digital_connectivity`` (broadband download and
  upload speeds indicator, IoD 2025; higher = worse), ``patient_to_gp_ratio`` and the other
  indicators under their published snake_case names (``income_domain_numerator``,
  ``employment_domain_numerator``, ``housing_affordability_indicator``, crime rates ...).
* The supplementary IDACI / IDAOPI *indices* are not in these files (only their numerators
  ``idaci_numerator`` and ``idaopi_numerator``), so they are not provided.

``imd2019`` (LSOA 2011, MHCLG File 2 and File 6 CSVs) has ranks and deciles of the IMD and the
seven domains (no scores in these files), ``pop_2015`` (mid-2015 population denominator) and
four road-distance indicators (km) from the IoD 2019 indicators file.
"""

from __future__ import annotations

import os

import re
from functools import lru_cache

import geopandas as gpd
import pandas as pd

from ..catalog import resolve_dataset
from ..checks import codes_in
from ..errors import DataFormatError, MissingColumnError, ParameterError
from ._registry import finish_layer, register_layer
from .boundaries import load_lsoa11, load_lsoa21

__all__ = ["load_imd2025", "load_imd2025_main", "load_imd2019", "read_imd2025", "read_imd2025_main", "read_imd2019",
           "parse_number", "DOMAINS"]

#: lisgeo domain names (lower_snake_case) of the seven IoD domains
DOMAINS = ("income", "employment", "education", "health", "crime", "barriers", "living_environment")

_DOMAIN_2025 = {"IMD": "imd", "Income": "income", "Employment": "employment", "Education": "education",
                "Health": "health", "Crime": "crime", "Housing_and_Services": "barriers",
                "Environment": "living_environment"}

_INDICATOR_RENAME = {
    "connectivity_score": "transport_connectivity_score",
    "digital_connectivity_broadband_download_and_upload_speeds": "digital_connectivity",
    "income_deprivation_affecting_children_index_idaci_numerator": "idaci_numerator",
    "income_deprivation_affecting_older_people_index_idaopi_numerator": "idaopi_numerator",
}

# IoD 2019 File 2 headings (start of) -> lisgeo domain name
_DOMAIN_2019 = {"Index of Multiple Deprivation": "imd", "Income": "income", "Employment": "employment",
                "Education, Skills and Training": "education", "Health Deprivation and Disability": "health",
                "Crime": "crime", "Barriers to Housing and Services": "barriers",
                "Living Environment": "living_environment"}

_ROAD_2019 = {
    "road_distance_to_a_post_office_indicator_km": "road_km_post_office",
    "road_distance_to_a_primary_school_indicator_km": "road_km_primary_school",
    "road_distance_to_general_store_or_supermarket_indicator_km": "road_km_food_shop",
    "road_distance_to_a_gp_surgery_indicator_km": "road_km_gp",
}


def parse_number(values: pd.Series) -> pd.Series:
    """Parse published numbers such as ``"29,199"`` or ``" 1 296 "`` into float64.

    Thousands separators (commas, spaces) are removed; blanks become NaN; anything else
    that is not a number raises :class:`DataFormatError` naming the offending value.
    """
    if pd.api.types.is_numeric_dtype(values):
        return values.astype("float64")
    text = values.astype("string").str.replace(r"[,\s\u00a0]", "", regex=True)
    text = text.mask(text == "")
    out = pd.to_numeric(text, errors="coerce")
    bad = out.isna() & text.notna()
    if bad.any():
        raise DataFormatError(f"cannot parse {values[bad].head(3).tolist()} as numbers; expected digits with "
                              "optional thousands separators like '29,199'")
    return out.astype("float64")


def _rda_key(dataset: str) -> str:
    """Disk-cache key of a parsed ``.rda``: the catalogue's pinned sha256 of the file (the catalogue
    refuses any other bytes), the parser's and pandas' versions."""
    import hashlib

    import pyreadr

    from ..catalog import get_dataset

    (entry,) = get_dataset(dataset).files
    tag = hashlib.sha256(f"{entry.sha256}|pyreadr {pyreadr.__version__}|pandas {pd.__version__}|2".encode()).hexdigest()
    return f"{dataset}-{entry.sha256[:16]}-{tag[:16]}"


def read_rda_frame(path: str | os.PathLike) -> pd.DataFrame:
    """The one data frame of an ``.rda`` file, read by pyreadr (librdata, compiled): text columns
    as pandas strings with ``pd.NA``, numbers as float64, a plain RangeIndex."""
    import pyreadr

    try:
        objs = pyreadr.read_r(str(path))
    except (pyreadr.custom_errors.PyreadrError, pyreadr.custom_errors.LibrdataError) as exc:
        raise DataFormatError(f"cannot read {os.fspath(path)!r} as an R data file ({exc}); "
                              "is it the catalogued file? Run `lisgeo data verify`") from None
    if len(objs) != 1:
        raise DataFormatError(f"{os.fspath(path)!r} holds {len(objs)} R objects, expected one data frame")
    (df,) = objs.values()
    df = df.reset_index(drop=True)
    for c in df.columns:
        if df[c].dtype == object or isinstance(df[c].dtype, pd.StringDtype):
            df[c] = df[c].astype(pd.StringDtype(na_value=pd.NA))
    return df


def _read_rda(dataset: str) -> pd.DataFrame:
    """The data frame of a catalogued ``.rda`` file, kept on disk as Parquet (:mod:`lisgeo.cache`,
    kind ``rda``), keyed on the file's pinned sha256."""
    from .. import cache

    (path,) = resolve_dataset(dataset)  # found and verified first: a missing file is an error as before
    key = _rda_key(dataset) if cache.enabled() else None
    if key is not None:
        hit = cache.load_frame("rda", key)
        if hit is not None:
            return hit
    df = read_rda_frame(path)
    if key is not None:
        cache.store_frame("rda", key, df)
    return df


def _require(df: pd.DataFrame, cols, what: str) -> None:
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise MissingColumnError(f"{what} lacks column(s) {missing}; has {list(df.columns)[:12]} … "
                                 "Is the catalog pointing at the right file?")


def _tidy_2025_main(df: pd.DataFrame) -> pd.DataFrame:
    _require(df, ["lsoa21_code", "IMD_score", "IMD_rank", "IMD_decile"], "IoD 2025 main file")
    out = pd.DataFrame({"LSOA21CD": df["lsoa21_code"].astype("string")})
    for src, dst in _DOMAIN_2025.items():
        for part in ("score", "rank", "decile"):
            col = f"{src}_{part}"
            _require(df, [col], "IoD 2025 main file")
            vals = df[col].astype("float64")
            out[f"{dst}_{part}"] = vals if part == "score" else vals.astype("Int64")
    return out


@lru_cache(maxsize=1)
def read_imd2025_main() -> pd.DataFrame:
    """IoD 2025 main file for every LSOA 2021 in England: ``LSOA21CD`` and the score, rank and decile
    of the IMD and its seven domains (no sub-domains or indicators: one file of the three)."""
    return _tidy_2025_main(_read_rda("imd2025_lsoa21"))


@lru_cache(maxsize=1)
def read_imd2025() -> pd.DataFrame:
    """IoD 2025 for every LSOA 2021 in England: main indices, sub-domains and indicators.

    Indexed by LSOA21CD (also a column). See the module docstring for the columns.
    """
    main = read_imd2025_main().copy()
    sub = _read_rda("imd2025_lsoa21_subdomains")
    _require(sub, ["lsoa21_code"], "IoD 2025 sub-domains file")
    sub = sub.rename(columns={"lsoa21_code": "LSOA21CD"})
    for c in sub.columns:
        if c.endswith(("_rank", "_decile")):
            sub[c] = sub[c].astype("float64").astype("Int64")
    ind = _read_rda("imd2025_lsoa21_indicators")
    _require(ind, ["lsoa21_code", "connectivity_score", "digital_connectivity_broadband_download_and_upload_speeds"],
             "IoD 2025 indicators file")
    ind = ind.rename(columns={"lsoa21_code": "LSOA21CD", **_INDICATOR_RENAME})
    ind.columns = [re.sub(r"_+", "_", c) for c in ind.columns]
    sub["LSOA21CD"] = sub["LSOA21CD"].astype("string")
    ind["LSOA21CD"] = ind["LSOA21CD"].astype("string")
    df = main.merge(sub, on="LSOA21CD", how="left", validate="1:1").merge(ind, on="LSOA21CD", how="left", validate="1:1")
    df = df.set_index("LSOA21CD", drop=False)
    df.index.name = None
    return df


def _require_codes(codes: pd.Series, table: pd.DataFrame, what: str) -> None:
    """Every code of the region's ``codes`` is in ``table``'s index, or a ParameterError saying which."""
    missing = ~codes_in(codes, table.index)
    if missing.any():
        raise ParameterError(f"{what} has no values for {int(missing.sum())} LSOA(s) of the region, e.g. "
                             f"{codes[missing][:3].tolist()} (Welsh LSOAs are not in the English indices); choose a region of English districts")


def _attach(polys: gpd.GeoDataFrame, table: pd.DataFrame, code: str, what: str) -> gpd.GeoDataFrame:
    cols = [c for c in table.columns if c != code]
    _require_codes(polys[code], table, what)
    out = polys.join(table[cols], how="left")
    geom = out.pop("geometry")
    out["geometry"] = geom
    return gpd.GeoDataFrame(out, geometry="geometry", crs=polys.crs)


@register_layer("imd2025", family="deprivation",
                description="IoD 2025 on LSOA 2021: imd/domain score, rank, decile (1 = most deprived), sub-domains, "
                            "indicators incl. transport_connectivity_score and digital_connectivity",
                datasets=["lsoa21_boundaries", "imd2025_lsoa21", "imd2025_lsoa21_subdomains", "imd2025_lsoa21_indicators"])
def load_imd2025(*, region="d2n2") -> gpd.GeoDataFrame:
    """LSOA 2021 polygons of ``region`` with the English Indices of Deprivation 2025, joined on LSOA21CD.

    Every LSOA of the region must have a value (an English region has all of them).
    """
    gdf = _attach(load_lsoa21(region=region), read_imd2025(), "LSOA21CD", "IoD 2025")
    return finish_layer(gdf, name="imd2025", datasets=["lsoa21_boundaries", "imd2025_lsoa21",
                                                       "imd2025_lsoa21_subdomains", "imd2025_lsoa21_indicators"])


@register_layer("imd2025_main", family="deprivation", kind="table",
                description="IoD 2025 main indices on LSOA 2021, without polygons: imd/domain score, rank, decile "
                            "(1 = most deprived); what the scores use (imd_decile)",
                datasets=["lsoa21_boundaries", "imd2025_lsoa21"])
def load_imd2025_main(*, region="d2n2") -> pd.DataFrame:
    """The IoD 2025 main indices (``LSOA21CD``, ``imd_score/_rank/_decile`` and each domain's) of the
    LSOA 2021 of ``region``, indexed by LSOA21CD: the table the scores read (one ``.rda`` file of
    the three behind :func:`load_imd2025`, no polygons)."""
    codes = load_lsoa21(region=region)["LSOA21CD"].astype(str)
    table = read_imd2025_main()
    table = table.set_index(table["LSOA21CD"].astype(str))
    _require_codes(codes, table, "IoD 2025")
    out = table.loc[codes.to_numpy()]
    out.index.name = None
    return finish_layer(out, name="imd2025_main", datasets=["lsoa21_boundaries", "imd2025_lsoa21"])


def _tidy_2019_domains(df: pd.DataFrame) -> pd.DataFrame:
    df = df.rename(columns=lambda c: str(c).lstrip("\ufeff").strip())
    _require(df, ["LSOA code (2011)"], "IoD 2019 File 2 (domains)")
    out = pd.DataFrame({"LSOA11CD": df["LSOA code (2011)"].astype("string")})
    for head, dst in _DOMAIN_2019.items():
        for part in ("Rank", "Decile"):
            cols = [c for c in df.columns if c.startswith(head) and f" {part}" in c]
            if not cols:
                raise MissingColumnError(f"IoD 2019 File 2 lacks the '{head} … {part}' column; "
                                         "is the catalog pointing at File_2_-_IoD2019_Domains_of_Deprivation?")
            out[f"{dst}_{part.lower()}"] = parse_number(df[cols[0]]).astype("Int64")
    return out


@lru_cache(maxsize=1)
def read_imd2019() -> pd.DataFrame:
    """IoD 2019 for every LSOA 2011 in England: IMD and domain ranks/deciles, ``pop_2015``, road distances (km)."""
    (dom_path,) = resolve_dataset("imd2019_domains")
    dom = _tidy_2019_domains(pd.read_csv(dom_path, dtype=str, encoding="utf-8-sig"))
    (den_path,) = resolve_dataset("imd2019_denominators")
    den = pd.read_csv(den_path, dtype=str, encoding="utf-8-sig")
    pop_col = next((c for c in den.columns if c.startswith("Total population")), "Total population: mid 2015")
    _require(den, ["LSOA code (2011)", pop_col], "IoD 2019 File 6 (population denominators)")
    pop = pd.Series(parse_number(den[pop_col]).values, index=den["LSOA code (2011)"].astype("string"))
    dom["pop_2015"] = dom["LSOA11CD"].map(pop)
    ind = _read_rda("imd2019_lsoa11_indicators")
    _require(ind, ["lsoa11_code", *_ROAD_2019], "IoD 2019 indicators file")
    ind = ind[["lsoa11_code", *_ROAD_2019]].rename(columns={"lsoa11_code": "LSOA11CD", **_ROAD_2019})
    ind["LSOA11CD"] = ind["LSOA11CD"].astype("string")
    df = dom.merge(ind, on="LSOA11CD", how="left", validate="1:1")
    df = df.set_index("LSOA11CD", drop=False)
    df.index.name = None
    return df


@register_layer("imd2019", family="deprivation",
                description="IoD 2019 on LSOA 2011: imd/domain rank, decile (1 = most deprived), pop_2015, road_km_*",
                datasets=["lsoa11_boundaries", "imd2019_domains", "imd2019_denominators", "imd2019_lsoa11_indicators"])
def load_imd2019(*, region="d2n2") -> gpd.GeoDataFrame:
    """LSOA 2011 polygons of ``region`` with the IoD 2019 ranks and deciles, joined on LSOA11CD."""
    gdf = _attach(load_lsoa11(region=region), read_imd2019(), "LSOA11CD", "IoD 2019")
    return finish_layer(gdf, name="imd2019", datasets=["lsoa11_boundaries", "imd2019_domains",
                                                       "imd2019_denominators", "imd2019_lsoa11_indicators"])
