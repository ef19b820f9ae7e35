"""Writing outputs atomically, with the format taken from the file extension."""

from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import geopandas as gpd
import pandas as pd

from .errors import OutputError

__all__ = ["atomic_path", "write_frame", "FORMATS"]

FORMATS = {".gpkg": "GeoPackage", ".geojson": "GeoJSON (WGS84, RFC 7946)", ".parquet": "GeoParquet", ".csv": "CSV"}


@contextmanager
def atomic_path(path: str | os.PathLike, *, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; move it into place only if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix or path.suffix, dir=path.parent)
    os.close(fd)
    os.unlink(tmp)  # drivers like GPKG refuse to open an existing empty file
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.replace(tmp_path, path)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def write_frame(df: pd.DataFrame, path: str | os.PathLike, *, layer: str | None = None) -> Path:
    """Write a (Geo)DataFrame to ``path`` atomically; format from the extension.

    ``.gpkg`` (layer ``layer``), ``.geojson`` (reprojected to WGS84 as RFC 7946 requires),
    ``.parquet`` (GeoParquet, BNG kept) and ``.csv`` (geometry as WKT in ``geometry_wkt``,
    with ``easting``/``northing`` for points). The index is written as a column when named.
    """
    path = Path(path)
    ext = path.suffix.lower()
    if ext not in FORMATS:
        raise OutputError(f"cannot write {path.name}: unknown extension {ext!r}; use one of {', '.join(FORMATS)}")
    is_geo = isinstance(df, gpd.GeoDataFrame) and df.geometry.name in df.columns
    # a named index that is not already a column becomes one; otherwise the index is not written
    named = df.index.name is not None and df.index.name not in df.columns
    out = df.reset_index() if named else df
    if not is_geo and ext in (".gpkg", ".geojson"):
        raise OutputError(f"{path.name}: this layer is a table without geometry; write it as .csv or .parquet")
    with atomic_path(path) as tmp:
        if ext == ".gpkg":
            out.to_file(tmp, driver="GPKG", layer=layer or path.stem, index=False)
        elif ext == ".geojson":
            out.to_crs("EPSG:4326").to_file(tmp, driver="GeoJSON", index=False)
        elif ext == ".parquet":
            out.to_parquet(tmp, index=False)
        else:
            if is_geo:
                g = out.geometry
                flat = pd.DataFrame(out.drop(columns=g.name))
                if (g.geom_type == "Point").all():
                    flat["easting"], flat["northing"] = g.x.round(1), g.y.round(1)
                else:
                    flat["geometry_wkt"] = g.to_wkt(rounding_precision=1)
                out = flat
            out.to_csv(tmp, index=False)
    return path
