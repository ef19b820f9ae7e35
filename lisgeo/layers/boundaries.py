"""Boundary layers: LEP, districts, MSOA 2021, LSOA 2021, LSOA 2011, MSOA 2011, national parks.

Small areas come from ONS generalised clipped (≈20 m) boundaries, one file per district,
so a region only reads its own districts. Districts and LEPs are dissolved from the
LSOA 2021 polygons, so every layer nests exactly.
"""

from __future__ import annotations

import warnings
from functools import lru_cache

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..catalog import get_dataset, resolve_file
from ..errors import ParameterError, UnknownNameError
from ..regions import district_name, get_region, lep_codes, lep_of, leps_of
from ..checks import BNG, GeometryRepairWarning, check_frame
from ._registry import finish_layer, register_layer

__all__ = [
    "load_lsoa21", "load_msoa21", "load_lsoa11", "load_msoa11", "load_districts", "load_lep",
    "load_national_parks", "load_peak_district", "region_outline", "union_coverage", "small_area_names",
]

POLY = ("Polygon", "MultiPolygon")

_SMALL_AREA = {
    # layer key: (dataset, code column, name column)
    "lsoa21": ("lsoa21_boundaries", "LSOA21CD", "LSOA21NM"),
    "msoa21": ("msoa21_boundaries", "MSOA21CD", "MSOA21NM"),
    "lsoa11": ("lsoa11_boundaries", "LSOA11CD", "LSOA11NM"),
    "msoa11": ("msoa11_boundaries", "MSOA11CD", "MSOA11NM"),
}


def _district_file(dataset: str, lad: str):
    for f in get_dataset(dataset).files:
        if f.path.endswith(f"/{lad}.geojson"):
            return f
    have = sorted(f.path.rsplit("/", 1)[1].removesuffix(".geojson") for f in get_dataset(dataset).files)
    name = district_name(lad)
    if name and len(have) < 100:  # an English district that this dataset does not hold (the 2011 boundaries)
        raise ParameterError(f"dataset {dataset!r} holds the {len(have)} districts of D2N2 and Leicester and Leicestershire "
                                f"only, not {lad} ({name}); layers on 2011 small areas (lsoa11, msoa11, imd2019) exist for "
                                "those districts alone, those on 2021 small areas for every district of England")
    raise UnknownNameError("district code", lad, have, f"Dataset {dataset!r} only covers these districts.")


def _small_area_path(key: str, lad: str):
    """The verified local file of district ``lad``'s small areas ``key``."""
    return resolve_file(_district_file(_SMALL_AREA[key][0], lad))


@lru_cache(maxsize=64)
def _read_small_area(key: str, lad: str) -> tuple[str, np.ndarray, np.ndarray, np.ndarray]:
    """District ``lad``'s small areas ``key`` as read from its file: (CRS, WKB geometries, codes,
    names). The frames are made once for all the districts of a region (:func:`_read_small_areas`):
    one table and one reprojection rather than one per file, about 10 ms a district less."""
    import pyogrio

    _, code, nm = _SMALL_AREA[key]
    meta, _, wkb, fields = pyogrio.raw.read(_small_area_path(key, lad), columns=[code, nm])
    cols = dict(zip(meta["fields"], fields))
    return meta["crs"], wkb, cols[code], cols[nm]


@lru_cache(maxsize=64)
def _read_small_area_names(key: str, lad: str) -> pd.DataFrame:
    import pyogrio

    _, code, nm = _SMALL_AREA[key]
    return pyogrio.read_dataframe(_small_area_path(key, lad), columns=[code, nm], read_geometry=False)


def small_area_names(key: str, region) -> pd.DataFrame:
    """Codes and names of the small areas ``key`` ("lsoa21", "msoa21", "lsoa11", "msoa11") of
    ``region``, without their polygons (about half the time of :func:`load_lsoa11` and the like):
    [code, name, LADCD] indexed by code."""
    reg = get_region(region)
    _, code, nm = _SMALL_AREA[key]
    parts = [_read_small_area_names(key, lad).assign(LADCD=lad) for lad in reg.lad_codes]
    df = pd.concat(parts, ignore_index=True)
    df = check_frame(df, name=f"{key} names", required=[code, nm], codes=[code, "LADCD"], unique=code)
    df = df.set_index(code, drop=False)
    df.index.name = None
    return df


def _small_areas(key: str, region) -> gpd.GeoDataFrame:
    """The small areas ``key`` of ``region``, read and checked once per process and region (each
    call gets its own copy: a build and the layers of a score ask for them a dozen times). What the
    check repaired is said on every call, as a fresh read would say it."""
    gdf, notes = _small_areas_of(key, get_region(region).lad_codes)
    for note in notes:
        warnings.warn(note, GeometryRepairWarning, stacklevel=3)
    return gdf.copy()


def _shared_key(kind: str, dataset: str, **parts) -> str | None:
    """The disk-cache key (kind ``boundaries``) of a region's geometry (its reach, its outline): made
    once, read back by later runs and by the blocks of a large region. None: cache off."""
    from .. import cache as disk

    if not disk.enabled():
        return None
    return disk.make_key({"kind": kind, **parts, "datasets": disk.dataset_digests([dataset])})


@lru_cache(maxsize=16)
def _small_areas_of(key: str, lad_codes: tuple[str, ...]) -> tuple[gpd.GeoDataFrame, tuple[str, ...]]:
    """(the frame, the repair warnings its check gave), from the disk when the other process of a
    command has read it already."""
    from .. import cache as disk

    dataset = _SMALL_AREA[key][0]
    shared = _shared_key("small_areas", dataset, key=key, lad_codes=list(lad_codes))
    hit = disk.load_frame("boundaries", shared) if shared is not None else None
    if hit is not None:
        return hit, tuple(hit.attrs.pop("repair_warnings", ()))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        gdf = _read_small_areas(key, lad_codes)
    notes = []
    for w in caught:
        if issubclass(w.category, GeometryRepairWarning):
            notes.append(str(w.message))
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    if shared is not None:
        stored = gdf.copy(deep=False)
        stored.attrs = {**gdf.attrs, "repair_warnings": notes}
        disk.store_frame("boundaries", shared, stored)
    return gdf, tuple(notes)


def _read_small_areas(key: str, lad_codes: tuple[str, ...]) -> gpd.GeoDataFrame:
    dataset, code, nm = _SMALL_AREA[key]
    parts = [_read_small_area(key, lad) for lad in lad_codes]
    crs = {p[0] for p in parts}
    if len(crs) > 1:  # (files of one dataset in different CRS: each reprojected on its own)
        frames = [gpd.GeoDataFrame({code: p[2], nm: p[3], "LADCD": lad}, geometry=shapely.from_wkb(p[1]), crs=p[0]).to_crs(BNG)
                  for lad, p in zip(lad_codes, parts)]
        gdf = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=BNG)
    else:
        gdf = gpd.GeoDataFrame({code: np.concatenate([p[2] for p in parts]), nm: np.concatenate([p[3] for p in parts]),
                                "LADCD": np.repeat(np.asarray(lad_codes, dtype=object), [len(p[1]) for p in parts])},
                               geometry=shapely.from_wkb(np.concatenate([p[1] for p in parts])), crs=crs.pop()).to_crs(BNG)
    names = {c: (district_name(c), lep_of(c)) for c in lad_codes}  # (any district of England: regions' lookups)
    gdf["LADNM"] = gdf["LADCD"].map(lambda c: names[c][0])
    gdf["LEP"] = gdf["LADCD"].map(lambda c: names[c][1])
    gdf = gdf.set_index(code, drop=False)
    gdf.index.name = None
    gdf = gdf[[code, nm, "LADCD", "LADNM", "LEP", "geometry"]]
    gdf = check_frame(gdf, name=f"{key} boundaries", required=[code, nm], codes=[code, "LADCD"], geom_types=POLY, unique=code)
    return finish_layer(gdf, name=key, datasets=[dataset])


@register_layer("lsoa21", family="boundaries", description="LSOA 2021 polygons (ONS BGC ≈20 m): LSOA21CD, LSOA21NM, LADCD, LADNM, LEP", datasets=["lsoa21_boundaries"])
def load_lsoa21(*, region="d2n2") -> gpd.GeoDataFrame:
    """LSOA 2021 boundaries of ``region``, indexed by LSOA21CD."""
    return _small_areas("lsoa21", region)


@register_layer("msoa21", family="boundaries", description="MSOA 2021 polygons (ONS BGC ≈20 m): MSOA21CD, MSOA21NM, LADCD, LADNM, LEP", datasets=["msoa21_boundaries"])
def load_msoa21(*, region="d2n2") -> gpd.GeoDataFrame:
    """MSOA 2021 boundaries of ``region``, indexed by MSOA21CD (E02005824 is repaired, with a warning)."""
    return _small_areas("msoa21", region)


@register_layer("lsoa11", family="boundaries", description="LSOA 2011 polygons (for IMD 2019): LSOA11CD, LSOA11NM, LADCD, LADNM, LEP", datasets=["lsoa11_boundaries"])
def load_lsoa11(*, region="d2n2") -> gpd.GeoDataFrame:
    return _small_areas("lsoa11", region)


@register_layer("msoa11", family="boundaries", description="MSOA 2011 polygons (for Census 2011 jobs): MSOA11CD, MSOA11NM, LADCD, LADNM, LEP", datasets=["msoa11_boundaries"])
def load_msoa11(*, region="d2n2") -> gpd.GeoDataFrame:
    return _small_areas("msoa11", region)


@register_layer("districts", family="boundaries", description="Local authority districts dissolved from LSOA 2021: LADCD, LADNM, LEP, area_km2", datasets=["lsoa21_boundaries"])
def load_districts(*, region="d2n2") -> gpd.GeoDataFrame:
    """District polygons of ``region`` (dissolved from LSOA 2021 so that they nest), indexed by LADCD."""
    return _districts(get_region(region).lad_codes).copy()


def union_coverage(geoms) -> shapely.Geometry:
    """The union of polygons that tile without overlapping (a *coverage*: ONS small areas, the
    districts dissolved from them), by GEOS's coverage union: about 25x faster than a general
    union and equal to it on a coverage. Checked: a result that is invalid or whose area differs
    from the parts' total (the parts overlap) is replaced by the general ``shapely.union_all``."""
    geoms = np.asarray(geoms, dtype=object)
    geoms = geoms[~shapely.is_missing(geoms) & ~shapely.is_empty(geoms)] if len(geoms) else geoms
    if len(geoms) == 0:
        return shapely.MultiPolygon()
    total = float(shapely.area(geoms).sum())
    try:
        out = shapely.coverage_union_all(geoms)
        if out.is_valid and abs(out.area - total) <= 1e-9 * max(total, 1.0):
            return out
    except shapely.errors.GEOSException:
        pass
    return shapely.make_valid(shapely.union_all(geoms))


@lru_cache(maxsize=16)
def _districts(lad_codes: tuple[str, ...]) -> gpd.GeoDataFrame:
    lsoa = load_lsoa21(region=list(lad_codes))
    first = lsoa[["LADCD", "LADNM", "LEP"]].drop_duplicates("LADCD").sort_values("LADCD", ignore_index=True)
    lad = lsoa["LADCD"].to_numpy()
    geoms = [union_coverage(lsoa.geometry.values[lad == c]) for c in first["LADCD"]]
    gdf = gpd.GeoDataFrame(first, geometry=geoms, crs=lsoa.crs)[["LADCD", "geometry", "LADNM", "LEP"]]
    gdf["area_km2"] = (gdf.area / 1e6).round(2)
    gdf = gdf.set_index("LADCD", drop=False)
    gdf.index.name = None
    return finish_layer(gdf, name="districts", datasets=["lsoa21_boundaries"])


@register_layer("lep", family="boundaries", description="LEP outline(s) dissolved from their districts: LEP, LEP21CD, area_km2", datasets=["lsoa21_boundaries"])
def load_lep(*, region="d2n2") -> gpd.GeoDataFrame:
    """Outline of each LEP in ``region`` (dissolved from its districts), indexed by LEP21CD."""
    d = load_districts(region=region)
    # one row per district and LEP: a district of two overlapping LEPs (May 2021) is in both outlines
    pairs = [(i, lep) for i, c in enumerate(d.index) for lep in leps_of(c)]
    d = d.iloc[[i for i, _ in pairs]].assign(LEP=[lep for _, lep in pairs])
    gdf = d[["LEP", "geometry"]].dissolve(by="LEP", as_index=False)
    gdf["LEP21CD"] = gdf["LEP"].map(lep_codes())
    gdf["n_districts"] = gdf["LEP"].map(d["LEP"].value_counts())
    gdf["area_km2"] = (gdf.area / 1e6).round(1)
    gdf = gdf.set_index("LEP21CD", drop=False)
    gdf.index.name = None
    return finish_layer(gdf[["LEP21CD", "LEP", "n_districts", "area_km2", "geometry"]], name="lep", datasets=["lsoa21_boundaries"])


def region_outline(region="d2n2") -> shapely.Geometry:
    """The region's outline as one (multi)polygon in EPSG:27700 (computed once per region)."""
    return _outline(get_region(region).lad_codes)


@lru_cache(maxsize=16)
def _outline(lad_codes: tuple[str, ...]) -> shapely.Geometry:
    out = union_coverage(load_districts(region=list(lad_codes)).geometry.values)
    shapely.prepare(out)
    return out


def region_reach(region="d2n2", buffer_km: float = 0.0) -> shapely.Geometry:
    """The region's outline buffered by ``buffer_km`` (EPSG:27700; computed once per region and distance)."""
    if not buffer_km >= 0:
        raise ParameterError(f"buffer_km must be a non-negative distance in km, got {buffer_km!r}")
    return _reach(get_region(region).lad_codes, float(buffer_km))


@lru_cache(maxsize=32)
def _reach(lad_codes: tuple[str, ...], buffer_km: float) -> shapely.Geometry:
    from .. import cache as disk

    if buffer_km <= 0:
        return _outline(lad_codes)
    shared = _shared_key("reach", "lsoa21_boundaries", lad_codes=list(lad_codes), buffer_km=buffer_km)
    out = disk.load_pickle("boundaries", shared, shapely.Geometry) if shared is not None else None
    if out is None:
        out = buffer_outline(_outline(lad_codes), buffer_km * 1000.0)
        if shared is not None:
            disk.store_pickle("boundaries", shared, out)
    shapely.prepare(out)
    return out


#: An outline with more points than this is buffered in two steps (:func:`_buffer`).
_DETAILED = 5_000
#: The first of the two steps (m).
_FIRST_STEP_M = 100.0


def buffer_outline(outline: shapely.Geometry, d_m: float) -> shapely.Geometry:
    """``outline.buffer(d_m)``; a detailed outline (a coast such as Lincolnshire's or Cornwall's:
    over ``_DETAILED`` points) in two steps, ``buffer(100 m)`` then ``buffer(d_m - 100 m)``: the same
    region (a buffer of a buffer is the buffer of the sum) to within the arcs' approximation (14 m at
    5 km, 75 m at 30 km for Greater Lincolnshire), where GEOS takes 10-15 s on the fine detail of one
    step (0.2 s in two). The outlines of D2N2 and Leicester and Leicestershire (3,100 points) take one."""
    if d_m > 2 * _FIRST_STEP_M and shapely.get_num_coordinates(outline) > _DETAILED:
        return outline.buffer(_FIRST_STEP_M).buffer(d_m - _FIRST_STEP_M)
    return outline.buffer(d_m)


@lru_cache(maxsize=1)
def _national_parks() -> gpd.GeoDataFrame:
    path = resolve_file(get_dataset("national_parks").files[0])
    gdf = gpd.read_file(path)
    return check_frame(gdf, name="national parks", required=["name"], geom_types=POLY)


@register_layer("national_parks", family="boundaries", description="National Parks (ONS Dec 2021, simplified) meeting the region: name, area_km2, area_in_region_km2", datasets=["national_parks"])
def load_national_parks(*, region="d2n2") -> gpd.GeoDataFrame:
    """National Parks that meet ``region`` (whole polygons, with the area inside the region)."""
    outline = region_outline(region)
    gdf = _national_parks()
    gdf = gdf[gdf.intersects(outline)].copy()
    gdf["area_km2"] = (gdf.area / 1e6).round(1)
    gdf["area_in_region_km2"] = (gdf.intersection(outline).area / 1e6).round(1)
    gdf = gdf.set_index("name", drop=False)
    gdf.index.name = None
    return finish_layer(gdf[["name", "area_km2", "area_in_region_km2", "geometry"]], name="national_parks", datasets=["national_parks"])


def load_peak_district() -> gpd.GeoDataFrame:
    """The Peak District National Park polygon."""
    gdf = _national_parks()
    gdf = gdf[gdf["name"].str.contains("Peak District")]
    return finish_layer(gdf.reset_index(drop=True), name="peak_district", datasets=["national_parks"])
