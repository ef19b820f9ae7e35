"""People layers: Census 2021 usual residents, population-weighted centroids, 1 km population grid.

* ``population``: LSOA 2021 polygons + ``pop`` (Census 2021 TS001 usual residents).
* ``lsoa21_centroids`` / ``msoa21_centroids``: ONS population-weighted centroids (points) + ``pop``.
  These are the zones of the network. About 1.3% of the published centroids fall just outside
  their generalised (≈20 m) polygon, so centroids are joined to areas **by code**, never spatially.
* ``population_grid``: UKCEH 1 km gridded population 2021 as cell polygons (for export/maps);
  :func:`read_population_grid` and :func:`zonal_population` work on the raster itself.

All counts are people (usual residents, Census day 21 March 2021).
"""

from __future__ import annotations

from functools import lru_cache

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..catalog import resolve_dataset
from ..errors import DataFormatError, EmptyResultError, ParameterError, UnknownNameError
from ..regions import get_region
from ..checks import BNG, check_frame, codes_in
from ._registry import finish_layer, register_layer
from ..assumptions import reach_km
from .boundaries import load_lsoa21, load_msoa21, region_outline

__all__ = [
    "load_population", "load_lsoa21_centroids", "load_msoa21_centroids", "load_population_grid",
    "read_census2021_population", "read_population_grid", "zonal_population",
]

POLY = ("Polygon", "MultiPolygon")

# Census 2021 TS001 "Geography area type" values -> short level names
_TS001_LEVELS = {"Output Area": "oa", "LSOA": "lsoa", "MSOA": "msoa", "Local Authority": "lad",
                 "Region": "region", "National": "national"}


@lru_cache(maxsize=1)
def _ts001() -> pd.DataFrame:
    (path,) = resolve_dataset("census2021_population")
    df = pd.read_csv(path, usecols=["Geography code", "Geography label", "Geography area type",
                                    "Parent area code", "Total"])
    df = df.rename(columns={"Geography code": "code", "Geography label": "name",
                            "Geography area type": "level", "Parent area code": "parent", "Total": "pop"})
    df["level"] = df["level"].map(_TS001_LEVELS)
    return df


def read_census2021_population(*, level: str = "lsoa") -> pd.DataFrame:
    """Census 2021 TS001 usual residents for every area of one ``level`` in England and Wales.

    ``level`` is one of "oa", "lsoa", "msoa", "lad", "region", "national". Returns a frame
    indexed by GSS code with columns [code, name, parent (code of the containing area), pop
    (people)]. The parent of an LSOA is its MSOA 2021, of an MSOA its district.
    """
    if level not in _TS001_LEVELS.values():
        raise ParameterError(f"unknown TS001 level {level!r}; use one of {sorted(_TS001_LEVELS.values())}")
    df = _ts001()
    out = df[df["level"] == level].drop(columns="level").set_index("code", drop=False)
    out.index.name = None
    return out


def _lsoa_pop() -> pd.Series:
    return read_census2021_population(level="lsoa")["pop"]


@register_layer("population", family="people",
                description="LSOA 2021 polygons + pop (Census 2021 TS001 usual residents)",
                datasets=["lsoa21_boundaries", "census2021_population"])
def load_population(*, region="d2n2") -> gpd.GeoDataFrame:
    """LSOA 2021 polygons of ``region`` with ``pop`` (Census 2021 usual residents, people), joined on LSOA21CD."""
    lsoa = load_lsoa21(region=region).copy()
    lsoa["pop"] = lsoa["LSOA21CD"].map(_lsoa_pop())
    missing = lsoa["pop"].isna()
    if missing.any():
        raise DataFormatError(f"Census 2021 TS001 lacks {int(missing.sum())} LSOA(s) of the region, e.g. "
                              f"{lsoa.index[missing][:3].tolist()}; check the catalog's census2021_population file")
    lsoa["pop"] = lsoa["pop"].astype("int64")
    lsoa = lsoa[["LSOA21CD", "LSOA21NM", "LADCD", "LADNM", "LEP", "pop", "geometry"]]
    return finish_layer(lsoa, name="population", datasets=["lsoa21_boundaries", "census2021_population"])


@lru_cache(maxsize=2)
def _centroids(dataset: str) -> gpd.GeoSeries:
    """All ONS population-weighted centroids of a dataset (E&W), BNG points indexed by code.

    The files are newline-delimited GeoJSON features (one ``Point`` per line, gzipped), read by
    Arrow's JSON reader (compiled; about 15x faster than ``json.loads`` per line)."""
    import pyarrow as pa
    import pyarrow.json as pa_json

    (path,) = resolve_dataset(dataset)
    try:
        table = pa_json.read_json(path)
        codes = table.column("properties").combine_chunks().field("areacd")
        coords = table.column("geometry").combine_chunks().field("coordinates")
        lengths = pa.compute.list_value_length(coords).to_numpy(zero_copy_only=False)
        if len(codes) == 0 or codes.null_count or coords.null_count or (lengths != 2).any():
            raise ValueError("expected one Point feature with an areacd per line")
        xy = coords.flatten().to_numpy(zero_copy_only=False).reshape(-1, 2)
    except (pa.ArrowException, KeyError, ValueError, OSError, EOFError) as exc:
        raise DataFormatError(f"{dataset}: cannot read the centroids in {path} ({type(exc).__name__}: {exc}); "
                              "run `lisgeo data verify` to check the pinned files") from None
    pts = gpd.GeoSeries(shapely.points(xy), index=pd.Index(codes.to_pylist(), name=None), crs="EPSG:4326")
    return pts.to_crs(BNG)


def _centroid_layer(areas: gpd.GeoDataFrame, *, code: str, name: str, dataset: str, pop: pd.Series,
                    layer: str, datasets: list[str]) -> gpd.GeoDataFrame:
    pts = _centroids(dataset)
    missing = ~codes_in(areas[code], pts.index)
    if missing.any():
        raise DataFormatError(f"{dataset} lacks centroids for {int(missing.sum())} area(s), e.g. "
                              f"{areas.loc[missing, code].head(3).tolist()}; run `lisgeo data verify` to check the pinned files")
    df = pd.DataFrame(areas.drop(columns="geometry"))
    df["pop"] = df[code].map(pop).astype("int64")
    gdf = gpd.GeoDataFrame(df, geometry=pts.reindex(df[code]).values, crs=BNG)
    gdf = gdf[[code, name, "LADCD", "LADNM", "LEP", "pop", "geometry"]]
    gdf = check_frame(gdf, name=layer, required=[code], codes=[code, "LADCD"], geom_types=("Point",), unique=code)
    return finish_layer(gdf, name=layer, datasets=datasets)


@register_layer("lsoa21_centroids", family="people",
                description="LSOA 2021 population-weighted centroids (ONS) + pop: the zones of the network",
                datasets=["lsoa21_centroids", "lsoa21_boundaries", "census2021_population"])
def load_lsoa21_centroids(*, region="d2n2") -> gpd.GeoDataFrame:
    """Population-weighted centroids (points, BNG) of the LSOA 2021 of ``region``.

    Columns [LSOA21CD, LSOA21NM, LADCD, LADNM, LEP, pop, geometry]; index LSOA21CD. The
    centroids are joined to the LSOA list by code (a few lie just outside their generalised
    polygon, so a spatial join would misplace them).
    """
    lsoa = load_lsoa21(region=region)
    return _centroid_layer(lsoa, code="LSOA21CD", name="LSOA21NM", dataset="lsoa21_centroids", pop=_lsoa_pop(),
                           layer="lsoa21_centroids",
                           datasets=["lsoa21_centroids", "lsoa21_boundaries", "census2021_population"])


@register_layer("msoa21_centroids", family="people",
                description="MSOA 2021 population-weighted centroids (ONS) + pop (sum of its LSOAs)",
                datasets=["msoa21_centroids", "msoa21_boundaries", "census2021_population"])
def load_msoa21_centroids(*, region="d2n2") -> gpd.GeoDataFrame:
    """Population-weighted centroids of the MSOA 2021 of ``region``.

    ``pop`` is the sum of the Census 2021 usual residents of the MSOA's LSOAs (TS001 gives
    each LSOA's parent MSOA). It can differ by a few people from TS001's own MSOA row
    (ONS perturbs each published cell); summing LSOAs keeps the layers consistent.
    """
    msoa = load_msoa21(region=region)
    lsoa = read_census2021_population(level="lsoa")
    pop = lsoa.groupby("parent")["pop"].sum()
    return _centroid_layer(msoa, code="MSOA21CD", name="MSOA21NM", dataset="msoa21_centroids", pop=pop,
                           layer="msoa21_centroids",
                           datasets=["msoa21_centroids", "msoa21_boundaries", "census2021_population"])


# --------------------------------------------------------------------------- 1 km raster

def read_population_grid(*, bounds: tuple[float, float, float, float] | None = None):
    """Read the UKCEH 1 km gridded population 2021 (band ``pop_aw``, people per 1 km cell).

    The raster covers the whole UK (Great Britain and Northern Ireland) on the British
    National Grid: 656 × 1210 cells of 1 km, eastings 0–656 km, northings 7–1217 km,
    summing to ≈ 66.94 million people; sea and no-data cells are NaN.

    ``bounds`` = (minx, miny, maxx, maxy) in EPSG:27700 metres reads only the window of
    whole cells that covers them (snapped outwards to the 1 km grid). Returns
    ``(array float64 with NaN nodata, affine.Affine transform of the array, crs)``.
    """
    import rasterio
    from affine import Affine
    from rasterio.windows import Window

    (path,) = resolve_dataset("population_grid_1km")
    with rasterio.open(path) as src:
        if bounds is None:
            arr = src.read(1, masked=False)
            transform = src.transform
        else:
            minx, miny, maxx, maxy = bounds
            if not (minx < maxx and miny < maxy):
                raise ParameterError(f"bounds must be (minx, miny, maxx, maxy) with min < max, got {bounds}")
            t = src.transform
            c0 = max(0, int(np.floor((minx - t.c) / t.a)))
            c1 = min(src.width, int(np.ceil((maxx - t.c) / t.a)))
            r0 = max(0, int(np.floor((maxy - t.f) / t.e)))
            r1 = min(src.height, int(np.ceil((miny - t.f) / t.e)))
            if c1 <= c0 or r1 <= r0:
                raise EmptyResultError(f"bounds {bounds} lie outside the population grid {tuple(src.bounds)}")
            win = Window(c0, r0, c1 - c0, r1 - r0)
            arr = src.read(1, window=win, masked=False)
            transform = t @ Affine.translation(c0, r0)
        arr = arr.astype("float64")
        if src.nodata is not None and not np.isnan(src.nodata):
            arr[arr == src.nodata] = np.nan
        return arr, transform, src.crs


@lru_cache(maxsize=1)
def population_grid_points() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Centres (x, y, EPSG:27700 m) and people of every populated cell of the whole 1 km grid (read once)."""
    arr, transform, _ = read_population_grid()
    rows, cols = np.nonzero(~np.isnan(arr))
    x = transform.c + (cols + 0.5) * transform.a
    y = transform.f + (rows + 0.5) * transform.e
    for a in (x, y):
        a.setflags(write=False)
    pop = arr[rows, cols]
    pop.setflags(write=False)
    return x, y, pop


def _grid_cells(arr: np.ndarray, transform) -> gpd.GeoDataFrame:
    """One square polygon per non-NaN cell: [cell_id, pop, geometry] (cell_id = 'E<km>N<km>' of the SW corner)."""
    rows, cols = np.nonzero(~np.isnan(arr))
    x0 = transform.c + cols * transform.a
    y1 = transform.f + rows * transform.e
    size = abs(transform.a)
    y0 = y1 - size
    geoms = shapely.box(x0, y0, x0 + size, y1)
    ids = [f"E{int(round(x / 1000)):03d}N{int(round(y / 1000)):04d}" for x, y in zip(x0, y0)]
    gdf = gpd.GeoDataFrame({"cell_id": ids, "pop": arr[rows, cols]}, geometry=geoms, crs=BNG)
    gdf.index = pd.Index(ids)
    return gdf


def zonal_population(zones: gpd.GeoDataFrame, *, method: str = "fraction", all_touched: bool = False) -> pd.Series:
    """People of the 1 km UKCEH grid in each zone (polygons); index = ``zones.index``.

    Methods:

    * ``"fraction"`` (default): each cell's people are shared among the zones in proportion
      to the area of the cell they cover (people assumed uniform within a cell). Totals are
      conserved for zones that tile an area; best for zones smaller than a cell (city LSOAs).
    * ``"centre"``: a cell counts wholly in a zone if its centre lies in it
      (``all_touched=False``), or wholly in every zone it touches (``all_touched=True``,
      which double counts along shared edges: an upper bound), as ``rasterio.features.rasterize``
      would burn it.

    Zones are reprojected to EPSG:27700 if needed. Zones with no populated cell get 0.
    """
    if method not in ("fraction", "centre"):
        raise UnknownNameError("method", method, ("fraction", "centre"))
    zones = check_frame(zones, name="zones", geom_types=POLY)
    b = zones.total_bounds
    arr, transform, _ = read_population_grid(bounds=(b[0], b[1], b[2], b[3]))
    cells = _grid_cells(arr, transform)
    zgeom = zones.geometry.values
    tree = shapely.STRtree(cells.geometry.values)
    pop = cells["pop"].to_numpy()
    if method == "fraction":
        zi, ci = tree.query(zgeom, predicate="intersects")
        inter = shapely.area(shapely.intersection(zgeom[zi], cells.geometry.values[ci]))
        share = inter / shapely.area(cells.geometry.values[ci])
        vals = pop[ci] * share
    elif all_touched:
        zi, ci = tree.query(zgeom, predicate="intersects")
        vals = pop[ci]
    else:
        centres = shapely.centroid(cells.geometry.values)
        ctree = shapely.STRtree(centres)
        zi, ci = ctree.query(zgeom, predicate="contains_properly")
        # centres exactly on a boundary are rare; count them in the first zone that touches them
        vals = pop[ci]
    out = np.bincount(zi, weights=vals, minlength=len(zones))
    return pd.Series(out, index=zones.index, name="pop", dtype="float64")


@register_layer("population_grid", family="people",
                description="UKCEH 1 km gridded population 2021 as cell polygons: cell_id, pop (people per km²)",
                datasets=["population_grid_1km"])
def load_population_grid(*, region="d2n2", buffer_km: float | None = None) -> gpd.GeoDataFrame:
    """1 km population cells (polygons, BNG) covering the bounding box of ``region`` plus ``buffer_km``.

    Columns [cell_id ('E<easting km>N<northing km>' of the south-west corner), pop (people in
    the 1 km² cell, UKCEH 2021), geometry]; index cell_id. Cells without data (sea) are left out.
    """
    get_region(region)
    minx, miny, maxx, maxy = region_outline(region).bounds
    d = reach_km("population_grid", buffer_km) * 1000
    arr, transform, _ = read_population_grid(bounds=(minx - d, miny - d, maxx + d, maxy + d))
    cells = _grid_cells(arr, transform)
    cells = check_frame(cells, name="population_grid", required=["cell_id", "pop"], geom_types=("Polygon",), unique="cell_id")
    return finish_layer(cells, name="population_grid", datasets=["population_grid_1km"])
