"""Social mobility layer: Social Mobility Commission (SMC) composite indices by upper-tier authority.

The values are authored in ``layers/social_mobility.csv`` (the SMC does not publish them as a
catalogued dataset here). They come from the SMC's *State of the Nation 2025* data
(social-mobility.data.gov.uk, "2025 updates", 205 UK areas), as published in the site's source
repository ``ukgov-equality-hub/smc-son``:

=============================  ============================================  ===============
column                         SMC table (table format)                      period (LFS)
=============================  ============================================  ===============
conditions_of_childhood        CI1 2.0 "conditions of childhood"             2018 to 2024
labour_market_opportunities    CI2 2.0 "labour market opportunities for      2018 to 2024
                               young people"
innovation_and_growth          CI3 2.0 "innovation and growth"               2018 to 2024
promising_prospects            CI4 3.0 "promising prospects" (intermediate   2021 to 2024
                               outcome, adjusted for socio-economic
                               background)
=============================  ============================================  ===============

Units: Z-scores against the UK average (0); **higher = more favourable** for mobility. Each
``*_group`` column is the SMC's 7-way banding (Least Favourable, Unfavourable, Lower Middling,
Middling, Upper Middling, Favourable, Most Favourable). No England average is published (the
reference is the UK, at 0). The SMC names its areas its own way ("Leicestershire CC"), so the
CSV keeps the published names and the join to ONS upper-tier names goes through
:func:`match_names`, which normalises explicitly and refuses anything it cannot match.

Polygons: each district's upper-tier authority (UTLA) comes from the ONS lookup (dataset
``lad_lookup``: ``LADCD`` → ``UTLACD``, ``UTLANM``); UTLA polygons are dissolved from the
district polygons of the region, so they nest exactly.
"""

from __future__ import annotations

import os
import re
from functools import lru_cache
from pathlib import Path
from typing import Iterable

import geopandas as gpd
import pandas as pd
import shapely

from ..catalog import resolve_dataset
from ..config import authored_path
from ..errors import ConfigError, DataFormatError, DataNotFoundError, MissingColumnError, UnknownNameError
from ..regions import get_region
from ..checks import check_frame
from ._registry import finish_layer, register_layer
from .boundaries import load_districts

__all__ = ["SMC_INDICES", "SOCIAL_MOBILITY_PATH", "normalise_area_name", "match_names", "read_social_mobility",
           "read_utla_lookup", "load_social_mobility"]

#: Index columns of ``layers/social_mobility.csv`` (each with a ``<name>_group`` banding).
SMC_INDICES: tuple[str, ...] = (
    "conditions_of_childhood", "labour_market_opportunities", "innovation_and_growth", "promising_prospects",
)

SOCIAL_MOBILITY_PATH = authored_path("social_mobility.csv")

_SUFFIXES = ("county council", "city council", "council", "cc", "ua")


def normalise_area_name(name: str) -> str:
    """A key for matching authority names across publishers.

    Lower case; ``&`` → ``and``; "City of" dropped wherever it sits ("Bristol, City of",
    "City of Edinburgh"); a trailing "County Council", "City Council", "Council", "CC" or
    "UA" dropped (the SMC writes "Leicestershire CC"); every other punctuation mark removed
    (hyphens and apostrophes become spaces); whitespace collapsed. "Derby" and "Derbyshire"
    stay different: keys are compared whole, never by prefix.
    """
    s = str(name).lower().replace("&", " and ")
    s = re.sub(r"[’'`]", "", s)
    s = re.sub(r"[^0-9a-z]+", " ", s)
    s = re.sub(r"\bcity of\b", " ", s)
    s = " ".join(s.split())
    for suf in _SUFFIXES:
        if s.endswith(" " + suf):
            s = s[: -len(suf) - 1].strip()
            break
    return s


def match_names(left: Iterable[str], right: Iterable[str], *, kind: str = "upper-tier authority",
                require_all_right: bool = True) -> dict[str, str]:
    """Match two lists of area names through :func:`normalise_area_name`; return ``{left: right}``.

    Every ``left`` name must match exactly one ``right`` name; with ``require_all_right`` every
    ``right`` name must be used too. Otherwise :class:`UnknownNameError` lists the unmatched
    names on either side (and a name that normalises like two others is refused as ambiguous).
    """
    left, right = list(dict.fromkeys(left)), list(dict.fromkeys(right))
    rkeys: dict[str, str] = {}
    for r in right:
        k = normalise_area_name(r)
        if k in rkeys:
            raise DataFormatError(f"{kind} names {rkeys[k]!r} and {r!r} normalise to the same key {k!r}; make them distinct")
        rkeys[k] = r
    out, unmatched_left = {}, []
    for l in left:
        k = normalise_area_name(l)
        if k in rkeys:
            out[l] = rkeys[k]
        else:
            unmatched_left.append(l)
    unmatched_right = [r for r in right if r not in out.values()]
    if unmatched_left or (require_all_right and unmatched_right):
        hint = (f"Unmatched on the left: {unmatched_left}; unmatched on the right: {unmatched_right}. "
                "Names are compared after normalise_area_name (case, '&'/'and', 'City of', 'CC', punctuation); "
                "fix the spelling in the authored CSV")
        raise UnknownNameError(kind, unmatched_left[0] if unmatched_left else unmatched_right[0], right, hint)
    return out


def read_social_mobility(path: "str | os.PathLike | None" = None) -> pd.DataFrame:
    """The authored SMC values (``layers/social_mobility.csv`` unless ``path`` is given)."""
    path = Path(path) if path is not None else SOCIAL_MOBILITY_PATH
    if not path.is_file():
        raise DataNotFoundError(f"social mobility table {path} not found; it ships in the repository's layers/ folder")
    df = pd.read_csv(path)
    need = ["utla_name", *SMC_INDICES, *(f"{c}_group" for c in SMC_INDICES), "source", "vintage"]
    missing = [c for c in need if c not in df.columns]
    if missing:
        raise MissingColumnError(f"{path.name} lacks column(s) {missing}; it has {list(df.columns)}")
    if df["source"].isna().any() or (df["source"].astype("string").str.strip() == "").any():
        raise ConfigError(f"{path.name}: every row needs a source; fill in its source column")
    return df


@lru_cache(maxsize=1)
def read_utla_lookup() -> pd.DataFrame:
    """District → upper-tier authority (ONS, via dataset ``lad_lookup``), indexed by LADCD."""
    df = pd.read_csv(resolve_dataset("lad_lookup")[0], usecols=["LADCD", "UTLACD", "UTLANM"])
    return df.drop_duplicates("LADCD").set_index("LADCD", drop=False)


@register_layer(
    "social_mobility", family="social",
    description="Upper-tier authorities (dissolved from districts) + SMC State of the Nation 2025 composite "
    "indices (Z-scores, higher = more favourable): conditions_of_childhood, labour_market_opportunities, "
    "innovation_and_growth, promising_prospects",
    datasets=["lad_lookup", "lsoa21_boundaries"],
)
def load_social_mobility(*, region="d2n2", path: "str | os.PathLike | None" = None) -> gpd.GeoDataFrame:
    """Upper-tier authority polygons of ``region`` with the SMC composite indices, joined by name.

    Index and column ``UTLACD``; also ``UTLANM`` (ONS name), ``smc_name`` (the published name),
    ``n_districts``, ``area_km2`` and the :data:`SMC_INDICES` with their ``*_group`` bands,
    ``source`` and ``vintage``. The authored values are those of the upper-tier authorities of D2N2
    and Leicester and Leicestershire: elsewhere the indices are NaN (add rows to
    ``layers/social_mobility.csv`` from the SMC's data for other areas).
    """
    reg = get_region(region)
    districts = load_districts(region=reg)
    lut = read_utla_lookup()
    absent = [c for c in districts.index if c not in lut.index]
    if absent:
        raise UnknownNameError("district code", absent[0], sorted(lut.index), "The ONS lookup has no upper-tier authority for it.")
    d = districts[["LADCD", "geometry"]].join(lut[["UTLACD", "UTLANM"]])
    utla = d.dissolve(by="UTLACD", as_index=False, aggfunc={"UTLANM": "first", "LADCD": "count"})
    utla = utla.rename(columns={"LADCD": "n_districts"})
    utla["geometry"] = shapely.make_valid(utla.geometry.values)
    utla["area_km2"] = (utla.area / 1e6).round(1)
    smc = read_social_mobility(path)
    try:
        names = match_names(utla["UTLANM"], smc["utla_name"], require_all_right=False)
    except UnknownNameError:
        # the authored table holds the authorities of D2N2 and Leicester and Leicestershire: others
        # get no values (NaN), unless the table names an authority England does not have (misspelt)
        england = {normalise_area_name(n) for n in lut["UTLANM"]}
        if any(normalise_area_name(r) not in england for r in smc["utla_name"]):
            raise
        keys = {normalise_area_name(r): r for r in smc["utla_name"]}
        names = {l: keys[normalise_area_name(l)] for l in utla["UTLANM"] if normalise_area_name(l) in keys}
    utla["smc_name"] = utla["UTLANM"].map(names).astype(object)
    smc = smc.rename(columns={"utla_name": "smc_name"})
    out = utla.merge(smc, on="smc_name", how="left", validate="many_to_one")  # (NaN: no authored values)
    out = out.set_index("UTLACD", drop=False)
    out.index.name = None
    cols = ["UTLACD", "UTLANM", "smc_name", "n_districts", "area_km2", *SMC_INDICES,
            *(f"{c}_group" for c in SMC_INDICES), "source", "vintage", "geometry"]
    out = gpd.GeoDataFrame(out[cols], geometry="geometry", crs=districts.crs)
    out = check_frame(out, name="social_mobility layer", required=["UTLACD", "UTLANM"],
                      codes={"UTLACD": r"^[EWSN]\d{8}$"}, geom_types=("Polygon", "MultiPolygon"), unique="UTLACD")
    return finish_layer(out, name="social_mobility", datasets=["lad_lookup", "lsoa21_boundaries"],
                        extra_attribution="Social Mobility Commission, State of the Nation 2025 (OGL v3.0)")
