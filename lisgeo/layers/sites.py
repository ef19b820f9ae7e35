"""Strategy sites and HS2: the project's own authored facts, each row with its source.

The facts live in plain CSV files in the repository's ``layers/`` folder (see
``layers/README.md``):

- ``sites.csv``: every site with a place in the D2N2 and Leicester & Leicestershire
  strategies (Enterprise Zone sites, HS2 stations, power stations, the airport and freeport,
  universities, innovation centres, city and town centres ...), as WGS84 longitude/latitude
  points with the district, theme, headline figures and a source;
- ``hs2_stations.csv`` and ``hs2_links.csv``: HS2 stations and published journey times for
  two schemes, ``"hs2_2b"`` (the Phase 2b eastern leg that the D2N2 strategy describes:
  East Midlands Hub at Toton, Chesterfield on the Sheffield spur) and ``"irp"`` (the
  Integrated Rail Plan of November 2021: HS2 to East Midlands Parkway, HS2 trains on to
  Nottingham, Derby, Chesterfield and Sheffield over the Midland Main Line).

The authored files are validated every time they are read; a bad row raises a
:class:`~lisgeo.errors.ConfigError` naming the file, the line and the fix. Users can point
:func:`load_sites` at their own CSV with the same columns (``path=``).
"""

from __future__ import annotations

import contextlib
import os
import re
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Iterator

import geopandas as gpd
import numpy as np
import pandas as pd

from ..errors import ConfigError, DataNotFoundError, EmptyResultError, MissingColumnError, UnknownNameError
from ..regions import DISTRICTS, district_name, get_region, lep_of, successor
from ..assumptions import reach_km
from ..checks import BNG, CODE_PATTERNS, check_frame
from ._registry import finish_layer, register_layer

__all__ = [
    "SITE_CATEGORIES", "HS2_SCHEMES", "authored_path", "read_sites_table", "use_sites_file", "sites_file",
    "sites_cover", "load_sites", "list_hs2_schemes", "load_hs2_stations", "load_hs2_links", "load_hs2",
]

#: Site categories and what they mean. ``enterprise_zone`` is used for every Enterprise
#: Zone site (the nearest-EZ measure relies on it).
SITE_CATEGORIES: dict[str, str] = {
    "enterprise_zone": "a site of a designated Enterprise Zone",
    "hs2": "an HS2 station, HS2-served station or HS2 depot",
    "energy": "a power station or energy site",
    "airport_freeport": "East Midlands Airport and the East Midlands Freeport tax sites",
    "science_park": "a science or innovation park (not in an Enterprise Zone)",
    "university": "a university's main campus",
    "innovation": "an innovation centre, incubator, research facility or test ground",
    "employment_site": "a business park, major employer or employment zone",
    "town_centre": "a town centre named in a strategy",
    "city_centre": "a city centre",
    "visitor_economy": "a visitor attraction or destination",
    "health": "a health or rehabilitation facility",
}

#: HS2 schemes: name -> description.
HS2_SCHEMES: dict[str, str] = {
    "hs2_phase1": "HS2 Phase 1 (being built): London Euston and Old Oak Common to Birmingham Interchange and "
                  "Curzon Street; HS2 trains continue on the West Coast Main Line",
    "hs2_2b": "HS2 Phase 2b eastern leg as in the D2N2 draft LIS (2020): East Midlands Hub at Toton, "
              "Chesterfield and Sheffield on a spur, Leeds",
    "irp": "Integrated Rail Plan (DfT, Nov 2021): HS2 to East Midlands Parkway, HS2 trains on to Nottingham, "
           "Derby, Chesterfield and Sheffield over the upgraded, electrified Midland Main Line",
}

_SITE_REQUIRED = ("site_id", "name", "category", "LADCD", "lon", "lat", "source")
_SITE_OPTIONAL = ("ez_name", "theme", "investment_gbp", "jobs", "floorspace_sqm", "location_note", "fact_source", "fact_note")
_SITE_NUMERIC = ("investment_gbp", "jobs", "floorspace_sqm")
_STATION_REQUIRED = ("scheme", "station_id", "name", "lon", "lat", "connects_crs", "source")
_LINK_REQUIRED = ("scheme", "from_id", "to_id", "time_min", "source")

_ID_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_CRS_RE = re.compile(r"^[A-Z]{3}$")
#: WGS84 bounds of Great Britain (with its islands), degrees.
_GB_LON = (-8.7, 1.9)
_GB_LAT = (49.8, 60.95)

_ATTRIBUTION = "lisgeo authored facts (layers/{file}); sources given per row"


# --------------------------------------------------------------------------- files


def authored_path(filename: str) -> Path:
    """Path of an authored file in the repository's ``layers/`` folder.

    The folder is ``$LISGEO_LAYERS_DIR`` if set, else ``layers/`` beside the package.
    """
    from ..config import layers_dir

    folder = layers_dir()
    path = folder / filename
    if not path.is_file():
        raise DataNotFoundError(
            f"authored file {filename!r} not found in {folder}; set LISGEO_LAYERS_DIR to the lisgeo "
            "repository's layers/ folder, or pass path= to the loader"
        )
    return path


def _read_csv(path: Path, what: str) -> pd.DataFrame:
    if not path.is_file():
        raise DataNotFoundError(f"{what} file {str(path)!r} does not exist; check the path")
    head = path.read_bytes()[:4096]
    try:
        first = head.decode("utf-8-sig").splitlines()[0] if head else ""
    except UnicodeDecodeError:
        raise ConfigError(f"{what} file {path.name} is not UTF-8 text; save it as CSV UTF-8 (comma-separated)") from None
    if first.count(";") > first.count(",") or first.count("\t") > first.count(","):
        sep = "semicolons" if first.count(";") > first.count("\t") else "tabs"
        raise ConfigError(f"{what} file {path.name} separates its columns with {sep}; save it as a comma-separated CSV "
                          "(in Excel: Save As, CSV (Comma delimited))")
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        first_line = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ConfigError(f"{what} file {path.name} is not a readable comma-separated UTF-8 CSV ({first_line}); "
                          "save it as CSV UTF-8") from None
    return df.apply(lambda s: s.str.strip())


def _where(path: Path, i: int, ident: str = "") -> str:
    # i is the 0-based data row; +2 = 1-based line number after the header
    label = f" ({ident})" if ident else ""
    return f"{path.name} line {i + 2}{label}"


def _require(df: pd.DataFrame, cols: Iterable[str], path: Path, what: str) -> None:
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise MissingColumnError(
            f"{what} file {path.name} lacks column(s) {missing}; it has {list(df.columns)}. "
            f"Add the column(s) to the header row (see layers/README.md for the columns and their meaning)"
        )


def _nonempty(df: pd.DataFrame, col: str, path: Path, idcol: str) -> None:
    empty = df[col].eq("")
    if empty.any():
        i = int(np.flatnonzero(empty.to_numpy())[0])
        raise ConfigError(f"{_where(path, i, df[idcol].iloc[i])}: empty {col!r}; every row needs a {col}")


def _coords(df: pd.DataFrame, path: Path, idcol: str) -> tuple[np.ndarray, np.ndarray]:
    lon = pd.to_numeric(df["lon"], errors="coerce").to_numpy(dtype=float)
    lat = pd.to_numeric(df["lat"], errors="coerce").to_numpy(dtype=float)
    for i in range(len(df)):
        where = _where(path, i, df[idcol].iloc[i])
        if np.isnan(lon[i]) or np.isnan(lat[i]):
            raise ConfigError(f"{where}: lon/lat {df['lon'].iloc[i]!r}/{df['lat'].iloc[i]!r} are not numbers; give WGS84 degrees, e.g. lon -1.26300, lat 52.91200")
        in_gb = _GB_LON[0] <= lon[i] <= _GB_LON[1] and _GB_LAT[0] <= lat[i] <= _GB_LAT[1]
        if not in_gb:
            swapped = _GB_LON[0] <= lat[i] <= _GB_LON[1] and _GB_LAT[0] <= lon[i] <= _GB_LAT[1]
            hint = "lon and lat look swapped" if swapped else "is the point in WGS84 degrees (not eastings/northings)?"
            raise ConfigError(
                f"{where}: point lon={lon[i]}, lat={lat[i]} lies outside Great Britain "
                f"(lon {_GB_LON[0]}..{_GB_LON[1]}, lat {_GB_LAT[0]}..{_GB_LAT[1]}); {hint}"
            )
    return lon, lat


# --------------------------------------------------------------------------- sites


def read_sites_table(path: str | os.PathLike | None = None) -> pd.DataFrame:
    """Read and validate a sites CSV (the built-in ``layers/sites.csv`` by default).

    Checks: required columns ``site_id, name, category, LADCD, lon, lat, source``; ``site_id``
    lower_snake_case and unique; ``category`` one of :data:`SITE_CATEGORIES`; ``LADCD`` a
    well-formed district code; lon/lat WGS84 degrees inside Great Britain; a non-empty
    ``source`` on every row; figures (``investment_gbp`` £, ``jobs``, ``floorspace_sqm`` m²)
    blank or non-negative numbers.

    Returns a plain DataFrame (lon/lat and figures as float64, blanks as NaN).
    """
    builtin = path is None
    p = authored_path("sites.csv") if builtin else Path(path)
    df = _read_csv(p, "sites")
    _require(df, _SITE_REQUIRED, p, "sites")
    if len(df) == 0:
        raise EmptyResultError(f"sites file {p.name} has no rows; add at least one site")
    for col in _SITE_OPTIONAL:
        if col not in df.columns:
            df[col] = ""
    _nonempty(df, "site_id", p, "site_id")
    for i, sid in enumerate(df["site_id"]):
        if not _ID_RE.match(sid):
            raise ConfigError(f"{_where(p, i, sid)}: site_id {sid!r} must be lower_snake_case (a-z, 0-9, _), e.g. 'infinity_park'")
    dup = df["site_id"].duplicated()
    if dup.any():
        i = int(np.flatnonzero(dup.to_numpy())[0])
        first = int(np.flatnonzero(df["site_id"].eq(df["site_id"].iloc[i]).to_numpy())[0])
        raise ConfigError(
            f"{_where(p, i, df['site_id'].iloc[i])}: site_id repeats line {first + 2}; "
            "site ids must be unique – rename one of them or merge the rows"
        )
    for col in ("name", "source"):
        _nonempty(df, col, p, "site_id")
    for i, cat in enumerate(df["category"]):
        if cat not in SITE_CATEGORIES:
            raise UnknownNameError(
                "site category", cat, list(SITE_CATEGORIES),
                f"Fix {_where(p, i, df['site_id'].iloc[i])} (use 'enterprise_zone' for every Enterprise Zone site)",
            )
    lad_re = re.compile(CODE_PATTERNS["LADCD"])
    for i, code in enumerate(df["LADCD"]):
        if not lad_re.match(code):
            raise UnknownNameError(
                "district code", code, sorted(DISTRICTS),
                f"Fix {_where(p, i, df['site_id'].iloc[i])}: LADCD is the GSS code of the district the site is in "
                "(`lisgeo regions list --kind district` lists England's)",
            )
        if code not in DISTRICTS and successor(code) is None:
            raise ConfigError(f"{_where(p, i, df['site_id'].iloc[i])}: LADCD {code!r} is not a district of England; give the "
                              "GSS code of the district the site is in (`lisgeo regions list --kind district` lists them)")
    lon, lat = _coords(df, p, "site_id")
    df["lon"], df["lat"] = lon, lat
    for col in _SITE_NUMERIC:
        raw = df[col]
        num = pd.to_numeric(raw.str.replace(",", "", regex=False).replace("", np.nan), errors="coerce")
        bad = (raw.ne("") & num.isna()) | (num < 0)
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise ConfigError(
                f"{_where(p, i, df['site_id'].iloc[i])}: {col} {raw.iloc[i]!r} must be blank or a non-negative number "
                "(plain digits: pounds, jobs or square metres)"
            )
        df[col] = num.astype("float64")
    return df


#: Set by :func:`use_sites_file`: the planner's sites file added to the authored ones (its path).
ENV_SITES_FILE = "LISGEO_SITES_FILE"


def use_sites_file(path: str | os.PathLike) -> Path:
    """Add the sites of the CSV ``path`` (the columns of ``layers/sites.csv``) to the authored ones for
    the rest of this process; a row whose ``site_id`` is an authored one replaces it. Returns the
    folder of authored files now in use.

    The file is checked with the same rules as ``layers/sites.csv`` first (:func:`read_sites_table`:
    an error names the file and the line). The sites of the authored file and of ``path`` are then
    written, as one ``sites.csv``, into a folder that holds the rest of the authored files
    (symbolic links to them: nothing else changes), named by the sha256 of its ``sites.csv`` under the
    download cache (:func:`lisgeo.catalog.cache_dir`), and ``LISGEO_LAYERS_DIR`` points at it: so every
    part of lisgeo that reads the sites (the layer, the network's terminals, the scores, the maps)
    reads these, and every cache key and ``provenance.json`` has their sha256 (``LISGEO_SITES_FILE``
    keeps the planner's path, for the layer's attribution). :func:`sites_file` does the same for a
    ``with`` block."""
    import hashlib
    import tempfile

    from ..catalog import cache_dir
    from ..config import layers_dir

    p = Path(path).expanduser()
    read_sites_table(p)  # the planner's file: its own errors, naming it and the line
    base_dir = layers_dir()
    base = _read_csv(base_dir / "sites.csv", "sites")
    own = _read_csv(p, "sites")
    merged = pd.concat([base[~base["site_id"].isin(own["site_id"])], own], ignore_index=True).fillna("")
    text = merged.to_csv(index=False, lineterminator="\n")
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
    folder = cache_dir() / "sites" / digest
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        folder = Path(tempfile.mkdtemp(prefix="lisgeo-sites-"))
    for entry in base_dir.iterdir():
        if entry.name != "sites.csv" and not (folder / entry.name).exists():
            try:
                (folder / entry.name).symlink_to(entry.resolve(), target_is_directory=entry.is_dir())
            except OSError:  # no symbolic links here: a copy
                import shutil

                (shutil.copytree if entry.is_dir() else shutil.copy2)(entry, folder / entry.name)
    target = folder / "sites.csv"
    if not target.is_file() or target.read_text(encoding="utf-8") != text:
        tmp = folder / f".sites.{os.getpid()}.csv"
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, target)
    read_sites_table(target)  # the two together: ids unique, every row valid
    os.environ["LISGEO_LAYERS_DIR"] = str(folder)
    os.environ[ENV_SITES_FILE] = str(p.resolve())
    return folder


@contextlib.contextmanager
def sites_file(path: str | os.PathLike | None) -> Iterator[Path | None]:
    """``with sites_file("my_sites.csv"): score_region(...)``: :func:`use_sites_file` inside the block
    (``None``: nothing changes); the environment is put back after it."""
    if path is None:
        yield None
        return
    before = {k: os.environ.get(k) for k in ("LISGEO_LAYERS_DIR", ENV_SITES_FILE)}
    try:
        yield use_sites_file(path)
    finally:
        for k, v in before.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def sites_cover(region) -> bool:
    """Whether the sites data cover every district of ``region``: the authored sites are those of the
    D2N2 and Leicester and Leicestershire strategies (their 25 districts), and a sites file of a
    planner's (:func:`use_sites_file`) covers the districts its rows name. Where they do not, the
    nearest Enterprise Zone of the scores would be the nearest of those the data happen to hold, so
    the scores leave it out (``docs/scores.md``)."""
    reg = get_region(region)
    named = set(_sites_frame(None)["LADCD"].map(lambda c: successor(c) or c))
    return all(c in DISTRICTS or c in named for c in reg.lad_codes)


@lru_cache(maxsize=8)
def _sites_cached(path: str | None, mtime: float) -> pd.DataFrame:
    return read_sites_table(path)


def _sites_frame(path) -> pd.DataFrame:
    p = authored_path("sites.csv") if path is None else Path(path)
    mtime = p.stat().st_mtime if p.exists() else 0.0
    return _sites_cached(str(p), mtime).copy()  # (keyed on the file: LISGEO_LAYERS_DIR may change, use_sites_file)


@register_layer(
    "sites", family="sites", kind="vector",
    description="Strategy sites (authored, sourced): site_id, name, category, ez_name, LADCD, LADNM, LEP, theme, investment_gbp, jobs, floorspace_sqm, source",
)
def load_sites(*, region="d2n2", categories: Iterable[str] | str | None = None, buffer_km: float | None = None,
               path: str | os.PathLike | None = None) -> gpd.GeoDataFrame:
    """Sites named in the strategies, as points in EPSG:27700, indexed by ``site_id``.

    Parameters
    ----------
    region: region name or district codes; sites whose ``LADCD`` is in the region are kept.
    categories: keep only these categories (see :data:`SITE_CATEGORIES`), e.g.
        ``["enterprise_zone"]``.
    buffer_km: also keep sites of other districts within this distance (km) of the region's
        outline (e.g. East Midlands Airport, in North West Leicestershire, for ``"d2n2"``).
    path: a CSV of your own with the same columns (WGS84 lon/lat) instead of the built-in
        ``layers/sites.csv``.

    Columns: ``site_id, name, category, ez_name, LADCD, LADNM, LEP, theme, investment_gbp``
    (£), ``jobs``, ``floorspace_sqm`` (m²; figures NaN where no source gives them),
    ``location_note, source, fact_source, fact_note, geometry``.

    A region without sites (the authored ones are those of the D2N2 and Leicester and
    Leicestershire strategies; bring a region's own with :func:`use_sites_file`, ``lisgeo score
    --sites FILE``) gets an empty layer; only a ``categories`` selection that misses the sites the
    region has is an error.
    """
    reg = get_region(region)
    if isinstance(categories, str):
        categories = [categories]
    df = _sites_frame(path)
    if categories is not None:
        categories = list(categories)
        for c in categories:
            if c not in SITE_CATEGORIES:
                raise UnknownNameError("site category", c, list(SITE_CATEGORIES))
    keep = df["LADCD"].isin(reg.lad_codes)
    buffer_km = reach_km("sites", buffer_km)
    if buffer_km > 0:
        from .boundaries import region_reach

        pts = gpd.GeoSeries(gpd.points_from_xy(df["lon"], df["lat"]), crs="EPSG:4326", index=df.index).to_crs(BNG)
        keep |= pts.within(region_reach(reg, buffer_km))
    sel = df[keep]
    if categories is not None:
        have = sorted(sel["category"].unique())
        sel = sel[sel["category"].isin(categories)]
        if sel.empty and have:  # a selection that misses: say what the region has
            raise EmptyResultError(f"no sites in region {reg.label!r} with categories {categories}; the region has sites of "
                                   f"categories {have}")
    sel = sel.copy()
    sel["LADNM"] = sel["LADCD"].map(lambda c: district_name(c) or None)
    sel["LEP"] = sel["LADCD"].map(lep_of)
    cols = ["site_id", "name", "category", "ez_name", "LADCD", "LADNM", "LEP", "theme", "investment_gbp", "jobs",
            "floorspace_sqm", "location_note", "source", "fact_source", "fact_note"]
    gdf = gpd.GeoDataFrame(sel[cols], geometry=gpd.points_from_xy(sel["lon"], sel["lat"]), crs="EPSG:4326")
    gdf = gdf.to_crs(BNG)
    gdf = gdf.set_index("site_id", drop=False)
    gdf.index.name = None
    gdf = check_frame(gdf, name="sites", required=["site_id", "source"], geom_types=("Point",), unique="site_id",
                      allow_empty=True)
    fname = "sites.csv" if path is None else Path(path).name
    extra = os.environ.get(ENV_SITES_FILE) if path is None else None
    text = _ATTRIBUTION.format(file=fname) + (f" and the sites of {Path(extra).name}" if extra else "")
    return finish_layer(gdf, name="sites", extra_attribution=text)


# --------------------------------------------------------------------------- HS2


def list_hs2_schemes() -> list[str]:
    """Names of the HS2 schemes (see :data:`HS2_SCHEMES` for what each one is)."""
    return list(HS2_SCHEMES)


def _check_scheme(scheme: str) -> str:
    if scheme not in HS2_SCHEMES:
        raise UnknownNameError("HS2 scheme", scheme, list(HS2_SCHEMES), "Run lisgeo.layers.sites.list_hs2_schemes().")
    return scheme


def _read_hs2_stations(path: Path) -> pd.DataFrame:
    df = _read_csv(path, "HS2 stations")
    _require(df, _STATION_REQUIRED, path, "HS2 stations")
    if "location_note" not in df.columns:
        df["location_note"] = ""
    for col in ("scheme", "station_id", "name", "source"):
        _nonempty(df, col, path, "station_id")
    for i, (sch, sid) in enumerate(zip(df["scheme"], df["station_id"])):
        if sch not in HS2_SCHEMES:
            raise UnknownNameError("HS2 scheme", sch, list(HS2_SCHEMES), f"Fix {_where(path, i, sid)}")
        if not _ID_RE.match(sid):
            raise ConfigError(f"{_where(path, i, sid)}: station_id must be lower_snake_case, e.g. 'hs2_toton'")
    dup = df.duplicated(["scheme", "station_id"])
    if dup.any():
        i = int(np.flatnonzero(dup.to_numpy())[0])
        raise ConfigError(f"{_where(path, i, df['station_id'].iloc[i])}: station_id repeats within scheme {df['scheme'].iloc[i]!r}; ids must be unique per scheme")
    for i, crs in enumerate(df["connects_crs"]):
        codes = [c for c in crs.split(";") if c]
        bad = [c for c in codes if not _CRS_RE.match(c)]
        if bad:
            raise ConfigError(f"{_where(path, i, df['station_id'].iloc[i])}: connects_crs {crs!r} must be three-letter CRS codes separated by ';' (e.g. 'BMO;BHM') or blank")
    df["lon"], df["lat"] = _coords(df, path, "station_id")
    return df


def _read_hs2_links(path: Path, stations: pd.DataFrame) -> pd.DataFrame:
    df = _read_csv(path, "HS2 links")
    _require(df, _LINK_REQUIRED, path, "HS2 links")
    for col in ("kind", "note"):
        if col not in df.columns:
            df[col] = ""
    for col in ("scheme", "from_id", "to_id", "source"):
        _nonempty(df, col, path, "from_id")
    known = {s: set(g["station_id"]) for s, g in stations.groupby("scheme")}
    t = pd.to_numeric(df["time_min"], errors="coerce")
    for i, row in enumerate(df.itertuples(index=False)):
        where = _where(path, i, f"{row.from_id}->{row.to_id}")
        if row.scheme not in HS2_SCHEMES:
            raise UnknownNameError("HS2 scheme", row.scheme, list(HS2_SCHEMES), f"Fix {where}")
        for end in (row.from_id, row.to_id):
            if end not in known.get(row.scheme, set()) and not _CRS_RE.match(end):
                raise ConfigError(
                    f"{where}: endpoint {end!r} is neither a station_id of scheme {row.scheme!r} "
                    f"({sorted(known.get(row.scheme, set()))}) nor a three-letter CRS code"
                )
        if not (t.iloc[i] > 0):
            raise ConfigError(f"{where}: time_min {df['time_min'].iloc[i]!r} must be a positive number of minutes")
    df["time_min"] = t.astype("float64")
    return df


@lru_cache(maxsize=4)
def _hs2_tables(stations_path: str, links_path: str, mtimes: tuple[float, float]) -> tuple[pd.DataFrame, pd.DataFrame]:
    st = _read_hs2_stations(Path(stations_path))
    return st, _read_hs2_links(Path(links_path), st)


def _hs2(stations_path=None, links_path=None) -> tuple[pd.DataFrame, pd.DataFrame]:
    sp = authored_path("hs2_stations.csv") if stations_path is None else Path(stations_path)
    lp = authored_path("hs2_links.csv") if links_path is None else Path(links_path)
    mt = tuple(p.stat().st_mtime if p.exists() else 0.0 for p in (sp, lp))
    st, ln = _hs2_tables(str(sp), str(lp), mt)
    return st.copy(), ln.copy()


@register_layer(
    "hs2_stations", family="sites", kind="vector",
    description="HS2 stations of a scheme ('hs2_2b' or 'irp'; option scheme=): station_id, name, scheme, connects_crs, source",
)
def load_hs2_stations(*, scheme: str = "hs2_2b", region=None, buffer_km: float | None = None,
                      path: str | os.PathLike | None = None) -> gpd.GeoDataFrame:
    """HS2 stations of ``scheme`` as points in EPSG:27700, indexed by ``station_id``.

    ``region=None`` gives every station of the scheme (London to Leeds); a region keeps the
    stations within its outline buffered by ``buffer_km`` (km). ``connects_crs`` lists the
    existing National Rail station(s) (CRS codes, ';'-separated) for interchange.
    """
    _check_scheme(scheme)
    st, _ = _hs2(path)
    st = st[st["scheme"] == scheme]
    gdf = gpd.GeoDataFrame(
        st[["station_id", "name", "scheme", "connects_crs", "location_note", "source"]],
        geometry=gpd.points_from_xy(st["lon"], st["lat"]), crs="EPSG:4326",
    ).to_crs(BNG)
    if region is not None:
        from .boundaries import region_reach

        buffer_km = reach_km("hs2_stations", buffer_km)
        area = region_reach(region, buffer_km)
        gdf = gdf[gdf.within(area)]
        if gdf.empty:
            raise EmptyResultError(f"no {scheme} HS2 stations within {buffer_km} km of region {get_region(region).label!r}; widen buffer_km or pass region=None")
    gdf = gdf.set_index("station_id", drop=False)
    gdf.index.name = None
    gdf = check_frame(gdf, name=f"HS2 stations ({scheme})", required=["station_id", "source"], geom_types=("Point",), unique="station_id")
    return finish_layer(gdf, name="hs2_stations", extra_attribution=_ATTRIBUTION.format(file="hs2_stations.csv"))


@register_layer(
    "hs2_links", family="sites", kind="table",
    description="HS2 published journey times of a scheme (option scheme=): from_id, to_id, time_min, kind, source",
)
def load_hs2_links(*, scheme: str = "hs2_2b", region=None, path: str | os.PathLike | None = None) -> pd.DataFrame:
    """Published HS2 journey times of ``scheme`` (a table; ``region`` is accepted and ignored).

    Each row is a published point-to-point time in minutes between two HS2 station ids or
    an HS2 station id and an existing station's CRS code (``kind``: ``"hs2"`` for HS2 trains,
    ``"classic"`` for classic trains from the HS2 hub). Times are undirected (the same both
    ways) and are service times including any intermediate stops, not track sections.
    """
    _check_scheme(scheme)
    _, ln = _hs2(None, path)
    ln = ln[ln["scheme"] == scheme].reset_index(drop=True)
    ln = ln[["scheme", "from_id", "to_id", "time_min", "kind", "source", "note"]]
    return finish_layer(ln, name="hs2_links", extra_attribution=_ATTRIBUTION.format(file="hs2_links.csv"))


def load_hs2(*, scheme: str = "hs2_2b") -> dict[str, pd.DataFrame]:
    """Both HS2 tables of ``scheme``: ``{"stations": GeoDataFrame, "links": DataFrame}``."""
    return {"stations": load_hs2_stations(scheme=scheme), "links": load_hs2_links(scheme=scheme)}
