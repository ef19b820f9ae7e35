"""Writing outputs atomically, with the format taken from the file extension.

One file: :func:`write_frame` (or :func:`atomic_path` for any writer) writes to a temporary name
beside the target and moves it into place only when it is complete.

A set of files that belong together (``scores.gpkg``, ``scores.csv``, ``claims.csv`` and
``provenance.json``): :func:`atomic_set` collects every file under a temporary name and, only
when all are written, swaps them all into place. If one cannot be replaced (a file held open by
another program, a folder of the same name in the way), the old files are put back and the new
ones removed: the folder holds either the whole old set or the whole new one, never a mix.
"""

from __future__ import annotations

import json
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping

import geopandas as gpd
import pandas as pd

from .errors import OutputError

__all__ = ["atomic_path", "atomic_set", "FileSet", "write_frame", "check_output_file", "check_output_dir", "FORMATS"]

FORMATS = {".gpkg": "GeoPackage", ".geojson": "GeoJSON (WGS84, RFC 7946)", ".parquet": "GeoParquet", ".csv": "CSV"}

_FIX = "close it in the program that holds it, or choose another -o folder"


def _reason(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__


def check_output_file(path: str | os.PathLike) -> Path:
    """Refuse, before any slow work, an output file that cannot be written: an unknown extension,
    an existing folder of that name, or a parent that is a file. Returns the path."""
    path = Path(path)
    if path.is_dir():
        raise OutputError(f"output {path} is a folder; give a file name ending in one of {', '.join(FORMATS)}, e.g. {path / 'layer.gpkg'}")
    ext = path.suffix.lower()
    if ext not in FORMATS:
        raise OutputError(f"cannot write {path}: unknown extension {ext or '(none)'!r}; use one of {', '.join(FORMATS)}")
    _check_parents(path.parent, path)
    return path


def check_output_dir(directory: str | os.PathLike) -> Path:
    """Refuse, before any slow work, an output folder that is a file (or lies under a file). Creates nothing."""
    directory = Path(directory)
    if directory.exists() and not directory.is_dir():
        raise OutputError(f"output {directory} exists and is a file, not a folder; give a folder with -o (a new name, or an existing folder)")
    _check_parents(directory, directory)
    return directory


def _check_parents(directory: Path, target: Path) -> None:
    for p in (directory, *directory.parents):
        if p.exists():
            if not p.is_dir():
                raise OutputError(f"cannot write {target}: {p} is a file, not a folder; choose another -o path")
            return


def _make_dir(directory: Path) -> None:
    _check_parents(directory, directory)
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise OutputError(f"output {directory} exists and is a file, not a folder; choose another -o folder") from None
    except OSError as exc:
        raise OutputError(f"cannot create output folder {directory} ({_reason(exc)}); choose another -o folder") from None


def _reserve(directory: Path, name: str, suffix: str) -> Path:
    """A fresh temporary name beside ``directory/name`` (checked writable, then freed for the writer)."""
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=suffix, dir=directory)
    except OSError as exc:
        raise OutputError(f"cannot write {directory / name}: the folder is not writable ({_reason(exc)}); "
                          "choose another -o folder, or make it writable") from None
    os.close(fd)
    os.unlink(tmp)  # drivers like GPKG refuse to open an existing empty file
    return Path(tmp)


def _remove(tmp: Path) -> None:
    for p in (tmp, *(tmp.with_name(tmp.name + s) for s in ("-journal", "-wal", "-shm"))):
        try:
            if p.is_file() or p.is_symlink():
                p.unlink()
        except OSError:
            pass


@contextmanager
def atomic_path(path: str | os.PathLike, *, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; move it into place only if the block succeeds."""
    path = Path(path)
    _make_dir(path.parent)
    if path.is_dir():
        raise OutputError(f"cannot write {path}: a folder of that name is in the way; remove or rename it, or choose another -o path")
    tmp_path = _reserve(path.parent, path.name, suffix or path.suffix)
    try:
        yield tmp_path
        try:
            os.replace(tmp_path, path)
        except OSError as exc:
            raise OutputError(f"cannot replace {path} ({_reason(exc)}); {_FIX}") from None
    finally:
        _remove(tmp_path)


def _prepare(df: pd.DataFrame, path: Path) -> tuple[pd.DataFrame, str, bool]:
    ext = path.suffix.lower()
    if ext not in FORMATS:
        raise OutputError(f"cannot write {path.name}: unknown extension {ext or '(none)'!r}; use one of {', '.join(FORMATS)}")
    is_geo = isinstance(df, gpd.GeoDataFrame) and df.geometry.name in df.columns
    if not is_geo and ext in (".gpkg", ".geojson"):
        raise OutputError(f"{path.name}: this layer is a table without geometry; write it as .csv or .parquet")
    # a named index that is not already a column becomes one; otherwise the index is not written
    named = df.index.name is not None and df.index.name not in df.columns
    out = df.reset_index() if named else df
    if out.attrs and ext != ".parquet":  # (only Parquet keeps attrs) pandas deep-copies them on every column read
        out = out.copy(deep=False)
        out.attrs = {}
    return out, ext, is_geo


def _write(out: pd.DataFrame, tmp: Path, ext: str, is_geo: bool, layer: str, metadata: Mapping[str, str] | None) -> None:
    if ext == ".gpkg":
        md = {str(k): str(v) for k, v in (metadata or {}).items()} or None
        out.to_file(tmp, driver="GPKG", layer=layer, index=False, dataset_metadata=md, layer_metadata=md)
    elif ext == ".geojson":
        # the layer name becomes the FeatureCollection's "name": never the temporary file's name
        out.to_crs("EPSG:4326").to_file(tmp, driver="GeoJSON", layer=layer, index=False)
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


def write_frame(df: pd.DataFrame, path: str | os.PathLike, *, layer: str | None = None,
                metadata: Mapping[str, str] | None = None) -> Path:
    """Write a (Geo)DataFrame to ``path`` atomically; format from the extension.

    ``.gpkg`` (layer ``layer``; ``metadata``, a dict of strings, goes to the GeoPackage's dataset
    and layer metadata), ``.geojson`` (reprojected to WGS84 as RFC 7946 requires; the collection's
    ``name`` is ``layer`` or the file's stem), ``.parquet`` (GeoParquet, BNG kept) and ``.csv``
    (geometry as WKT in ``geometry_wkt``, with ``easting``/``northing`` for points). The index is
    written as a column when named.
    """
    path = Path(path)
    out, ext, is_geo = _prepare(df, path)
    with atomic_path(path) as tmp:
        _write(out, tmp, ext, is_geo, layer or path.stem, metadata)
    return path


class FileSet:
    """The files of one output set, written under temporary names until :meth:`commit`.

    Use it through :func:`atomic_set`. Each ``write_*`` method (or :meth:`path` for any writer)
    puts one file of the set in a temporary name in the set's folder; nothing is visible under the
    final names until every file is written.
    """

    def __init__(self, directory: str | os.PathLike, *, replaces: Iterable[str] = ()):
        self.directory = Path(directory)
        self._tmp: dict[str, Path] = {}
        self._made = False
        # files of this kind of set that a run may leave out (an option turned off): an earlier
        # run's copy is removed with the swap, so the folder never mixes two runs
        self._replaces = tuple(dict.fromkeys(Path(n).name for n in replaces))

    # ---------------------------------------------------------------- adding files
    def path(self, name: str, *, suffix: str | None = None) -> Path:
        """A temporary path for the set's file ``name`` (a plain file name in the set's folder)."""
        if not name or Path(name).name != name or name in (".", ".."):
            raise ValueError(f"a file of a set is a plain file name, got {name!r}")
        if name in self._tmp:
            raise ValueError(f"{name!r} is already in this set")
        if not self._made:
            _make_dir(self.directory)
            self._made = True
        target = self.directory / name
        if target.is_dir():
            raise OutputError(f"cannot write {target}: a folder of that name is in the way; remove or rename it, or choose another -o folder")
        tmp = _reserve(self.directory, name, suffix or Path(name).suffix)
        self._tmp[name] = tmp
        return tmp

    def write_frame(self, df: pd.DataFrame, name: str, *, layer: str | None = None,
                    metadata: Mapping[str, str] | None = None) -> Path:
        """Add a frame as file ``name`` (as :func:`write_frame`); returns its final path."""
        out, ext, is_geo = _prepare(df, self.directory / name)
        tmp = self.path(name)
        try:
            _write(out, tmp, ext, is_geo, layer or Path(name).stem, metadata)
        except OSError as exc:
            raise OutputError(f"cannot write {self.directory / name} ({_reason(exc)}); free some space or choose another -o folder") from None
        return self.directory / name

    def write_text(self, name: str, text: str) -> Path:
        """Add a UTF-8 text file ``name``; returns its final path."""
        tmp = self.path(name)
        try:
            with open(tmp, "w", encoding="utf-8", newline="\n") as fh:
                fh.write(text)
        except OSError as exc:
            raise OutputError(f"cannot write {self.directory / name} ({_reason(exc)}); free some space or choose another -o folder") from None
        return self.directory / name

    def write_json(self, name: str, obj: Any) -> Path:
        """Add ``obj`` as an indented, key-sorted JSON file ``name``; returns its final path."""
        return self.write_text(name, json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False, default=str) + "\n")

    # ---------------------------------------------------------------- what the set holds
    @property
    def names(self) -> list[str]:
        """The set's file names, in the order they were added."""
        return list(self._tmp)

    @property
    def temporary(self) -> dict[str, Path]:
        """Each file name with the temporary path it is being written to (before :meth:`commit`)."""
        return dict(self._tmp)

    @property
    def paths(self) -> dict[str, Path]:
        """Each file name with its final path."""
        return {n: self.directory / n for n in self._tmp}

    # ---------------------------------------------------------------- all or nothing
    def commit(self) -> dict[str, Path]:
        """Swap every file of the set into place, or none: on any failure the old files are put
        back, the new ones removed, and :class:`~lisgeo.errors.OutputError` names the file."""
        for name, tmp in self._tmp.items():
            if not tmp.is_file():
                raise OutputError(f"{self.directory / name} was not written; nothing of the set was changed")
        backups: list[tuple[Path, Path]] = []
        placed: list[Path] = []
        failed: Path | None = None
        try:
            # 1. move each old file aside (a file held open elsewhere fails here, before any change),
            #    and an earlier run's copy of a file of this kind of set that this run leaves out
            for name in [*self._tmp, *(n for n in self._replaces if n not in self._tmp)]:
                target = self.directory / name
                if target.exists() or target.is_symlink():
                    failed = target
                    bak = _reserve(self.directory, name, ".old")
                    os.replace(target, bak)
                    backups.append((target, bak))
            # 2. move each new file into place
            for name, tmp in self._tmp.items():
                failed = self.directory / name
                os.replace(tmp, failed)
                placed.append(failed)
        except (OSError, OutputError) as exc:
            lost = self._roll_back(placed, backups)
            why = _reason(exc) if isinstance(exc, OSError) else str(exc)
            msg = f"cannot replace {failed} ({why}); {_FIX}. Nothing was changed: the folder keeps its old files"
            if lost:
                msg = f"cannot replace {failed} ({why}); {_FIX}. Could not restore {', '.join(lost)}: rename the .old file(s) back"
            raise OutputError(msg) from None
        # 3. the new set is in place: drop the old files
        for _, bak in backups:
            _remove(bak)
        return self.paths

    def _roll_back(self, placed: list[Path], backups: list[tuple[Path, Path]]) -> list[str]:
        lost = []
        for target in placed:
            _remove(target)
        for target, bak in reversed(backups):
            try:
                os.replace(bak, target)
            except OSError:
                lost.append(f"{target} (kept as {bak.name})")
        return lost

    def discard(self) -> None:
        """Remove every temporary file of the set (the final names are not touched)."""
        for tmp in self._tmp.values():
            _remove(tmp)


@contextmanager
def atomic_set(directory: str | os.PathLike, *, replaces: Iterable[str] = ()) -> Iterator[FileSet]:
    """Write a set of files into ``directory`` all or nothing.

    ``replaces``: the names of every file this kind of set can hold; those that this run does not
    write (an option turned off) are removed from the folder with the swap (and put back if it
    fails), so that the folder never holds files of two runs. Other files are never touched.

    ::

        with atomic_set(out) as files:
            files.write_frame(frame, "scores.gpkg", layer="lsoa")
            files.write_frame(frame, "scores.csv")
            files.write_json("provenance.json", prov)
        files.paths  # {"scores.gpkg": out/scores.gpkg, ...}

    The folder is created when the first file is added. If the block raises, every temporary file
    is removed and no file in ``directory`` changes; when it ends, :meth:`FileSet.commit` swaps the
    whole set into place or, if one file cannot be replaced, restores the old set and raises
    :class:`~lisgeo.errors.OutputError`.
    """
    fs = FileSet(check_output_dir(directory), replaces=replaces)
    try:
        yield fs
        fs.commit()
    finally:
        fs.discard()
