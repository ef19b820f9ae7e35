"""Digital layers: fixed broadband coverage by district (Ofcom) and the IoD 2025 LSOA indicator.

Sources
-------
* **Ofcom Connected Nations, fixed coverage by local authority** – seven files (datasets
  ``ofcom_broadband_2016`` … ``ofcom_broadband_2021`` and ``ofcom_broadband_202105``), whose
  column names change between releases. :data:`OFCOM_COLUMNS` is the single documented map from
  every raw name to a standard ``lower_snake_case`` name; a release that lacks a measure gets
  NaN, never an estimate.

  Harmonisation notes (checked on the files, see tests):

  - ``sfbb_pct`` is *all* premises able to get ≥30 Mbit/s. In the 2016–2019 files the column
    "SFBB availability" counts superfast **but not ultrafast** premises (30 to <300 Mbit/s):
    there ``SFBB + UFBB = 100 − % unable to receive 30 Mbit/s`` (to rounding), whereas from
    2020 ``SFBB = 100 − % unable to receive 30``. So for :data:`SFBB_EXCLUDES_UFBB` releases
    ``sfbb_pct = SFBB + UFBB``; the raw column is kept as ``sfbb_only_pct``.
  - ``ufbb_pct`` is ≥300 Mbit/s; ``ufbb100_pct`` (≥100 Mbit/s) exists from 2021 only.
  - ``fttp_pct`` is full fibre ("FTTP availability" in 2017, "Full Fibre availability" from 2018;
    absent in 2016). ``gigabit_pct`` exists from 2021 only. ``below_uso_pct`` (below the
    10 Mbit/s down / 1 Mbit/s up Universal Service Obligation) from 2018. ``premises`` from 2018.
  - Percentages are of premises, 0–100. 2016 and 2017 are published as whole numbers.
  - Releases and their dates: files are named by year by their re-publisher. Two files carry
    2021 data: ``2021_data.csv`` (379 authorities, i.e. after the April 2020 Buckinghamshire
    merger and before the April 2021 Northamptonshire one; UK premise-weighted full fibre 20%,
    gigabit 37% – consistent with Ofcom's January 2021 data) and Ofcom's own
    ``202105_fixed_laua_coverage_r01.csv`` (May 2021). They are labelled ``release`` "2021" and
    "2021-05"; "one row per district and year" keeps the latest release of each year unless
    ``all_releases=True``.

* **DEFRA Rural-Urban Classification 2011 of local authority districts** (dataset
  ``rural_urban_lad``; despite the ``.xlsx`` name the file is an OpenDocument spreadsheet, read
  here with the standard library). 2011 district codes equal the current ones for all 25
  districts of D2N2 and Leicester & Leicestershire. Joined by code.

* **English Indices of Deprivation 2025, indicators** (dataset ``imd2025_lsoa21_indicators``):
  column ``digital_connectivity_broadband_download_and_upload_speeds`` – "Digital Connectivity
  (Broadband download and upload speeds)", a new IoD 2025 indicator in the Barriers to Housing
  and Services domain. It is a standardised score (England mean 0, s.d. ≈ 0.88, range ≈ −3.9 to
  3.9; no units) and, like every IoD indicator, **higher = more deprived = slower broadband**.
  (Checked: it correlates +0.37 with the Barriers domain score and −0.36 with its rank, where
  rank 1 is most deprived; Derbyshire Dales' LSOAs average far higher than Nottingham's.)
  Exposed as ``digital_indicator`` with ``digital_rank`` (1 = worst in England) and
  ``digital_decile`` (1 = worst 10% of England, as IMD deciles), both over all 33,755 LSOAs.

Coldspots are a *rule*, not a list of places: :func:`flag_coldspots` applies the thresholds in
``layers/digital_coldspots.toml`` (or a rule you pass) to any frame.
"""

from __future__ import annotations

import operator
import os
import zipfile
import xml.etree.ElementTree as ET
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping

import geopandas as gpd
import numpy as np
import pandas as pd

from ..catalog import resolve_dataset
from ..config import authored_path, read_toml
from ..errors import ConfigError, DataFormatError, DataNotFoundError, MissingColumnError, ParameterError, UnknownNameError
from ..regions import get_region
from ..checks import check_frame
from ._registry import finish_layer, register_layer
from .boundaries import load_districts, load_lsoa21

__all__ = [
    "OFCOM_COLUMNS", "OFCOM_RELEASES", "SFBB_EXCLUDES_UFBB", "COVERAGE_COLUMNS", "DEFAULT_RULE_PATH",
    "read_broadband", "read_rural_urban", "read_digital_indicator",
    "load_broadband", "load_digital_lsoa21", "load_coldspot_rule", "flag_coldspots",
]

#: Ofcom raw column name (any release) -> standard column. Units: ``*_pct`` = % of premises
#: (0–100); ``premises`` = count; ``*_mbps`` = Mbit/s. Raw columns not listed are dropped.
OFCOM_COLUMNS: dict[str, str] = {
    # identifiers ("laua_code" in 2016, "laua" afterwards)
    "laua_code": "LADCD",
    "laua": "LADCD",
    "laua_name": "ofcom_name",
    # premises (2018+)
    "All Premises": "premises",
    "All Matched Premises": "premises_matched",
    # coverage
    "SFBB availability (% premises)": "sfbb_pct",  # 2016–2019: 30–<300 only, see SFBB_EXCLUDES_UFBB
    "UFBB availability (% premises)": "ufbb_pct",  # ≥300 Mbit/s
    "UFBB (100Mbit/s) availability (% premises)": "ufbb100_pct",  # 2021+
    "FTTP availability (% premises)": "fttp_pct",  # 2017
    "Full Fibre availability (% premises)": "fttp_pct",  # 2018+
    "Gigabit availability (% premises)": "gigabit_pct",  # 2021+
    "NGA availability (% premises)": "nga_pct",  # 2016
    "% of premises with NGA": "nga_pct",  # 2018+
    "% of premises able to receive decent broadband from FWA": "fwa_decent_pct",  # 2018+
    # premises unable to receive a download speed
    "% of premises unable to receive 2Mbit/s": "below_2mbps_pct",
    "% of premises unable to receive 5Mbit/s": "below_5mbps_pct",
    "% of premises unable to receive 10Mbit/s": "below_10mbps_pct",
    "% of premises unable to receive 30Mbit/s": "below_30mbps_pct",
    "% of premises below the USO": "below_uso_pct",  # 2018+
    # performance of lines in use (2016, 2017 only)
    "Median download speed (Mbit/s)": "median_download_mbps",
    "Average download speed (Mbit/s)": "mean_download_mbps",
}

#: Standard measure columns, in output order (every release gets all of them, NaN if absent).
COVERAGE_COLUMNS: tuple[str, ...] = (
    "premises", "sfbb_pct", "sfbb_only_pct", "ufbb_pct", "ufbb100_pct", "fttp_pct", "gigabit_pct",
    "nga_pct", "below_2mbps_pct", "below_5mbps_pct", "below_10mbps_pct", "below_30mbps_pct",
    "below_uso_pct", "fwa_decent_pct", "median_download_mbps", "mean_download_mbps",
)

#: release label -> (dataset, data year)
OFCOM_RELEASES: dict[str, tuple[str, int]] = {
    "2016": ("ofcom_broadband_2016", 2016),
    "2017": ("ofcom_broadband_2017", 2017),
    "2018": ("ofcom_broadband_2018", 2018),
    "2019": ("ofcom_broadband_2019", 2019),
    "2020": ("ofcom_broadband_2020", 2020),
    "2021": ("ofcom_broadband_2021", 2021),
    "2021-05": ("ofcom_broadband_202105", 2021),
}

#: Releases whose "SFBB availability" excludes ultrafast premises (30 to <300 Mbit/s only).
SFBB_EXCLUDES_UFBB: frozenset[str] = frozenset({"2016", "2017", "2018", "2019"})

#: The authored coldspot rule shipped with the repository.
DEFAULT_RULE_PATH = authored_path("digital_coldspots.toml")

_DIGITAL_RAW = "digital_connectivity_broadband_download_and_upload_speeds"
_OFCOM_DATASETS = sorted({d for d, _ in OFCOM_RELEASES.values()})


# --------------------------------------------------------------------------- Ofcom


@lru_cache(maxsize=8)
def _read_release(release: str) -> pd.DataFrame:
    dataset, year = OFCOM_RELEASES[release]
    raw = pd.read_csv(resolve_dataset(dataset)[0], encoding="utf-8-sig")
    keep = [c for c in raw.columns if c in OFCOM_COLUMNS]
    df = raw[keep].rename(columns=OFCOM_COLUMNS)
    if "LADCD" not in df.columns:
        raise MissingColumnError(f"Ofcom release {release}: no local authority code column among {list(raw.columns)[:3]}")
    if release in SFBB_EXCLUDES_UFBB:
        df["sfbb_only_pct"] = df["sfbb_pct"]
        df["sfbb_pct"] = df["sfbb_only_pct"] + df["ufbb_pct"]
    for col in COVERAGE_COLUMNS:
        if col not in df.columns:
            df[col] = np.nan
        df[col] = df[col].astype("float64")
    df["LADCD"] = df["LADCD"].astype("string").str.strip()
    df["release"] = release
    df["year"] = year
    return df[["LADCD", "ofcom_name", "year", "release", *COVERAGE_COLUMNS]]


def read_broadband(*, releases: "list[str] | None" = None) -> pd.DataFrame:
    """Ofcom fixed coverage of every UK local authority, harmonised, long (one row per release).

    Columns: LADCD, ofcom_name, year (int), release (str), then :data:`COVERAGE_COLUMNS`
    (% of premises 0–100, premises count, Mbit/s). Missing measures are NaN.
    """
    rels = list(OFCOM_RELEASES) if releases is None else list(releases)
    bad = [r for r in rels if r not in OFCOM_RELEASES]
    if bad:
        raise UnknownNameError("Ofcom release", bad[0], list(OFCOM_RELEASES))
    return pd.concat([_read_release(r) for r in rels], ignore_index=True)


_ODS = "{urn:oasis:names:tc:opendocument:xmlns:table:1.0}"
_OFFICE = "{urn:oasis:names:tc:opendocument:xmlns:office:1.0}"


def _ods_rows(path: Path) -> list[list[str]]:
    """Rows of the first sheet of an OpenDocument spreadsheet (values as text, repeats expanded)."""
    root = ET.fromstring(zipfile.ZipFile(path).read("content.xml"))
    table = next(root.iter(_ODS + "table"))
    rows = []
    for r in table.iter(_ODS + "table-row"):
        cells: list[str] = []
        for c in r.findall(_ODS + "table-cell"):
            n = min(int(c.get(_ODS + "number-columns-repeated", "1")), 64)
            val = c.get(_OFFICE + "value")
            cells += [val if val is not None else "".join(c.itertext())] * n
        rows.append(cells)
    return rows


@lru_cache(maxsize=1)
def read_rural_urban() -> pd.DataFrame:
    """DEFRA Rural-Urban Classification 2011 of English districts (2011 codes), indexed by LADCD.

    Columns: ``ruc11`` (int 1–6: 1 Mainly Rural … 6 Urban with Major Conurbation), ``ruc11_label``,
    ``rural_pct`` (% of the 2011 population in rural areas including hub towns).
    """
    path = resolve_dataset("rural_urban_lad")[0]
    try:
        rows = _ods_rows(path)
    except (zipfile.BadZipFile, KeyError, StopIteration) as exc:
        raise DataFormatError(f"cannot read the rural-urban classification {path.name} as a spreadsheet ({exc}); delete it and run `lisgeo data fetch`") from None
    recs = []
    for row in rows:
        if len(row) >= 9 and row[0].startswith("E0") and len(row[0]) == 9:
            recs.append((row[0], row[1], int(float(row[2])), row[3], float(row[8])))
    df = pd.DataFrame(recs, columns=["LADCD", "LAD11NM", "ruc11", "ruc11_label", "rural_pct"])
    return df.set_index("LADCD", drop=False)


@register_layer(
    "broadband_lad", family="digital",
    description="Ofcom fixed broadband coverage by district, 2016–2021 (long: one row per district and year): "
    "sfbb_pct, ufbb_pct, fttp_pct, gigabit_pct, below_10mbps_pct, below_uso_pct, premises, DEFRA ruc11, coldspot",
    datasets=[*_OFCOM_DATASETS, "rural_urban_lad", "lsoa21_boundaries"],
)
def load_broadband(*, region="d2n2", year: "int | None" = None, all_releases: bool = False, rule=None) -> gpd.GeoDataFrame:
    """District polygons of ``region`` with Ofcom fixed coverage and the coldspot flag.

    Parameters
    ----------
    year: a data year (2016–2021) for one row per district (index LADCD); ``None`` for all years,
        long, one row per district and year (index ``"<LADCD>_<release>"``, also column ``row_id``).
    all_releases: with ``year=None`` (or a year with two releases, 2021), keep every release
        instead of only the latest of each year.
    rule: coldspot rule (see :func:`flag_coldspots`); default ``layers/digital_coldspots.toml``.

    Units: ``*_pct`` % of premises (0–100), ``premises`` count, ``*_mbps`` Mbit/s.
    """
    reg = get_region(region)
    bb = read_broadband()
    years = sorted(bb["year"].unique().tolist())
    if year is not None:
        if isinstance(year, bool) or not isinstance(year, (int, np.integer)) or int(year) not in years:
            raise UnknownNameError("broadband year", year, [str(y) for y in years], "Pass year=None for all years.")
        bb = bb[bb["year"] == int(year)]
    if not all_releases:
        order = {r: i for i, r in enumerate(OFCOM_RELEASES)}
        bb = bb.assign(_o=bb["release"].map(order)).sort_values("_o")
        bb = bb.drop_duplicates(["LADCD", "year"], keep="last").drop(columns="_o")
    bb = _with_today_districts(bb, sorted(set(reg.lad_codes) - set(bb["LADCD"])))
    missing = sorted(set(reg.lad_codes) - set(bb["LADCD"]))
    if missing:
        raise UnknownNameError("district code", missing[0], sorted(set(bb["LADCD"])), "Ofcom has no coverage for it.")
    bb = bb[bb["LADCD"].isin(reg.lad_codes)]
    # every district must be in every selected release
    counts = bb.groupby("release")["LADCD"].nunique()
    short = counts[counts < len(reg.lad_codes)]
    if len(short):
        raise DataFormatError(f"Ofcom release(s) {list(short.index)} lack some districts of region {reg.name!r}; pass year= for one year, or all_releases=False")
    ru = read_rural_urban()[["ruc11", "ruc11_label", "rural_pct"]]
    districts = load_districts(region=reg)
    df = districts.drop(columns="LADCD").merge(bb, left_index=True, right_on="LADCD", how="inner")
    df = df.join(ru, on="LADCD")
    df = df.sort_values(["LADCD", "year", "release"])
    df["row_id"] = df["LADCD"] + "_" + df["release"]
    if year is not None and df["LADCD"].is_unique:
        df = df.set_index("LADCD", drop=False)
    else:
        df = df.set_index("row_id", drop=False)
    df.index.name = None
    cols = ["LADCD", "LADNM", "LEP", "year", "release", *COVERAGE_COLUMNS, "ruc11", "ruc11_label", "rural_pct",
            "area_km2", "row_id", "geometry"]
    df = gpd.GeoDataFrame(df[cols], geometry="geometry", crs=districts.crs)
    df = flag_coldspots(df, rule=rule, level="lad")
    df = check_frame(df, name="broadband_lad layer", required=["LADCD", "year", "sfbb_pct"], codes=["LADCD"])
    return finish_layer(df, name="broadband_lad", datasets=[*_OFCOM_DATASETS, "rural_urban_lad", "lsoa21_boundaries"])


def _with_today_districts(bb: pd.DataFrame, wanted: list[str]) -> pd.DataFrame:
    """``bb`` with rows for today's districts ``wanted`` that Ofcom published under their former
    districts (merged or recoded since: Cumbria, North Yorkshire, Somerset, Northamptonshire,
    Buckinghamshire, Dorset, Suffolk, Barnsley, Sheffield ...), one per release: premises added up,
    each percentage the premises-weighted mean of the former districts' (NaN in a release without
    premise counts, 2016–2017, where a merger has more than one part), speeds NaN where there is
    more than one part (medians do not add up); ``ofcom_name`` joins their names with " + "."""
    if not wanted:
        return bb
    from ..regions import successor

    today = bb["LADCD"].astype(str).map(lambda c: successor(c) or c)
    part = bb[today.isin(wanted).to_numpy() & ~bb["LADCD"].isin(wanted).to_numpy()].assign(_today=today)
    if part.empty:
        return bb
    rows = []
    pct = [c for c in COVERAGE_COLUMNS if c.endswith("_pct")]
    for (code, rel), g in part.groupby(["_today", "release"], sort=True):
        row = {"LADCD": code, "ofcom_name": " + ".join(g["ofcom_name"].astype(str)), "year": g["year"].iloc[0], "release": rel}
        w = g["premises"].astype("float64")
        row["premises"] = float(w.sum()) if w.notna().all() else np.nan
        for c in pct:
            v = g[c].astype("float64")
            if len(g) == 1:
                row[c] = float(v.iloc[0])
            else:
                row[c] = float((v * w).sum() / w.sum()) if w.notna().all() and v.notna().all() and w.sum() > 0 else np.nan
        for c in ("median_download_mbps", "mean_download_mbps"):
            row[c] = float(g[c].iloc[0]) if len(g) == 1 else np.nan
        rows.append(row)
    add = pd.DataFrame(rows)
    add["LADCD"] = add["LADCD"].astype("string")
    return pd.concat([bb, add[bb.columns]], ignore_index=True)


# --------------------------------------------------------------------------- IoD 2025 digital


@lru_cache(maxsize=1)
def read_digital_indicator() -> pd.DataFrame:
    """The IoD 2025 digital connectivity indicator for ALL LSOAs of England, indexed by LSOA21CD.

    Columns: ``digital_indicator`` (standardised score, higher = slower broadband = more
    deprived), ``digital_rank`` (1 = worst in England) and ``digital_decile`` (1 = worst 10%).
    """
    from .deprivation import _read_rda

    raw = _read_rda("imd2025_lsoa21_indicators")
    if _DIGITAL_RAW not in raw.columns:
        raise MissingColumnError(f"IoD 2025 indicators lack {_DIGITAL_RAW!r}; columns are {list(raw.columns)}")
    df = pd.DataFrame({
        "LSOA21CD": raw["lsoa21_code"].astype("string").values,
        "digital_indicator": raw[_DIGITAL_RAW].astype("float64").values,
    })
    n = int(df["digital_indicator"].notna().sum())
    rank = df["digital_indicator"].rank(method="first", ascending=False)
    df["digital_rank"] = rank.astype("Int64")
    df["digital_decile"] = np.ceil(rank * 10 / n).astype("Int64")
    return df.set_index("LSOA21CD", drop=False)


@register_layer(
    "digital_lsoa21", family="digital",
    description="IoD 2025 digital connectivity (broadband speeds) indicator on LSOA 2021: digital_indicator "
    "(higher = worse), digital_rank/decile (1 = worst in England), coldspot",
    datasets=["imd2025_lsoa21_indicators", "lsoa21_boundaries"],
)
def load_digital_lsoa21(*, region="d2n2", rule=None) -> gpd.GeoDataFrame:
    """LSOA 2021 polygons of ``region`` with the IoD 2025 digital indicator, joined by code.

    Percentile thresholds of the coldspot rule are computed over all LSOAs of England.
    """
    lsoa = load_lsoa21(region=region)
    eng = read_digital_indicator()
    missing = lsoa.index.difference(eng.index)
    if len(missing):
        raise ParameterError(f"{len(missing)} LSOAs of the region lack the IoD 2025 digital indicator, e.g. {list(missing[:3])}; it covers England only, so choose English districts")
    df = lsoa.join(eng[["digital_indicator", "digital_rank", "digital_decile"]])
    df = flag_coldspots(df, rule=rule, level="lsoa", reference=eng)
    return finish_layer(df, name="digital_lsoa21", datasets=["imd2025_lsoa21_indicators", "lsoa21_boundaries"])


# --------------------------------------------------------------------------- coldspot rule

_OPS = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}
_LEVELS = ("lad", "lsoa")


def load_coldspot_rule(rule: "None | str | os.PathLike | Mapping[str, Any]" = None, *, level: str = "lad") -> dict:
    """Return the validated rule for ``level`` from a TOML path, a dict, or the default file.

    A dict may be the whole file (``{"lad": {...}, "lsoa": {...}}``) or one level's table
    (``{"combine": "any", "conditions": [...]}``).
    """
    if level not in _LEVELS:
        raise UnknownNameError("coldspot level", level, list(_LEVELS))
    if rule is None or isinstance(rule, (str, os.PathLike)):
        path = Path(rule) if rule is not None else authored_path("digital_coldspots.toml")
        if not path.is_file():
            raise DataNotFoundError(f"coldspot rule file {path} not found; pass rule=<path to a TOML file> or a dict")
        data = read_toml(path, what="coldspot rule")
        where = str(path)
    elif isinstance(rule, Mapping):
        data, where = dict(rule), "rule dict"
    else:
        raise ParameterError(f"rule must be None, a path or a dict, not {type(rule).__name__}")
    spec = data[level] if level in data else data
    if "conditions" not in spec:
        raise ConfigError(f"{where}: no conditions for level {level!r}; give a [{level}] table with [[{level}.conditions]]")
    combine = spec.get("combine", "any")
    if combine not in ("any", "all"):
        raise ConfigError(f"{where}: combine must be 'any' (OR) or 'all' (AND), not {combine!r}")
    conds = []
    for i, c in enumerate(spec["conditions"]):
        if "column" not in c or c.get("op") not in _OPS:
            raise ConfigError(f"{where}: condition {i} needs 'column' and 'op' in {list(_OPS)}; got {c}")
        has_v, has_p = "value" in c, "percentile" in c
        if has_v == has_p:
            raise ConfigError(f"{where}: condition {i} ({c['column']}) needs exactly one of 'value' or 'percentile'")
        if has_p and not 0 <= float(c["percentile"]) <= 100:
            raise ConfigError(f"{where}: condition {i} percentile must be within 0–100, not {c['percentile']}")
        conds.append(dict(c))
    return {"combine": combine, "conditions": conds, "description": spec.get("description", "")}


def _fmt(x: float) -> str:
    return f"{x:.3g}" if abs(x) < 1 else f"{x:.4g}"


def flag_coldspots(
    df: pd.DataFrame,
    *,
    rule: "None | str | os.PathLike | Mapping[str, Any]" = None,
    level: str = "lad",
    reference: "pd.DataFrame | None" = None,
) -> pd.DataFrame:
    """Flag rows of ``df`` that breach the coldspot ``rule``; return a copy with three new columns.

    ``coldspot`` (bool), ``coldspot_reason`` (the breached conditions, e.g.
    ``"sfbb_pct 89.9 < 95 (superfast coverage below 95% of premises)"``, joined by ``"; "``; empty
    when none) and ``coldspot_incomplete`` (bool: some rule column was NaN on that row, so the
    verdict may be incomplete).

    rule: None (the repository's ``layers/digital_coldspots.toml``), a TOML path, or a dict.
    level: ``"lad"`` or ``"lsoa"`` – which table of the rule applies.
    reference: the frame over which ``percentile`` thresholds are computed. Default for
        ``level="lsoa"``: every LSOA of England in the IoD 2025 file (never just the region);
        for ``"lad"`` there is no default and percentile conditions need ``reference``.
    """
    spec = load_coldspot_rule(rule, level=level)
    cols = [c["column"] for c in spec["conditions"]]
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise MissingColumnError(
            f"frame to flag lacks column(s) {missing} named by the {level!r} coldspot rule; it has {list(df.columns)}. "
            "Add them or pass a rule on the columns you have."
        )
    out = df.copy()
    n = len(out)
    breached = []
    reasons = [[] for _ in range(n)]
    incomplete = np.zeros(n, dtype=bool)
    for c in spec["conditions"]:
        col = c["column"]
        vals = pd.to_numeric(out[col], errors="coerce").astype("float64").to_numpy()
        if "percentile" in c:
            ref = reference
            if ref is None and level == "lsoa":
                ref = read_digital_indicator()
            if ref is None:
                raise ParameterError(f"condition on {col} uses a percentile: pass reference=<frame of all areas> to flag_coldspots")
            if col not in ref.columns:
                raise MissingColumnError(f"reference frame lacks column {col!r} needed for the percentile threshold")
            rv = pd.to_numeric(ref[col], errors="coerce").astype("float64").to_numpy()
            if not np.isfinite(rv).any():
                raise ParameterError(f"reference column {col!r} has no values; cannot compute a percentile: pass a reference frame with values in it")
            thr = float(np.nanpercentile(rv, float(c["percentile"])))
            thr_txt = f"{_fmt(thr)} (P{float(c['percentile']):g} of reference)"
        else:
            thr = float(c["value"])
            thr_txt = _fmt(thr)
        nan = np.isnan(vals)
        incomplete |= nan
        with np.errstate(invalid="ignore"):
            hit = _OPS[c["op"]](vals, thr) & ~nan
        breached.append(hit)
        label = f" ({c['label']})" if c.get("label") else ""
        for i in np.flatnonzero(hit):
            reasons[i].append(f"{col} {_fmt(vals[i])} {c['op']} {thr_txt}{label}")
    if breached:
        stack = np.vstack(breached)
        flag = stack.any(axis=0) if spec["combine"] == "any" else stack.all(axis=0)
    else:
        flag = np.zeros(n, dtype=bool)
    out["coldspot"] = flag.astype(bool)
    out["coldspot_reason"] = pd.array(["; ".join(r) if f else "" for r, f in zip(reasons, flag)], dtype="string")
    out["coldspot_incomplete"] = incomplete
    return out
