"""Writing outputs atomically, with the format taken from the file extension.

One file: :func:`write_frame` (or :func:`atomic_path` for any writer) writes to a temporary name
beside the target and moves it into place only when it is complete.

A set of files that belong together (``scores.gpkg``, ``scores.csv``, ``claims.csv`` and
``provenance.json``): :func:`atomic_set` collects every file under a temporary name and, only
when all are written, swaps them all into place. If one cannot be replaced (a file held open by
another program, a folder of the same name in the way), the old files are put back and the new
ones removed: the folder holds either the whole old set or the whole new one, never a mix.

Every OS error met on the way (no space left, a disk quota used up, a name too long, no permission,
a read-only disk) becomes one :class:`~lisgeo.errors.OutputError` line naming the file and the fix
(:func:`os_error_message`), and no partial file is left behind. A writer that fails with an error
of its own (GDAL's "no such table: gpkg_contents" when the disk fills under a GeoPackage) is asked
the disk's state: when the folder cannot take 64 KiB more, the line says the disk is full.
:func:`check_output_dir` and :func:`check_output_file` (or :func:`check_writable` for any file) find
an output that cannot be written before any slow work: a name too long, a file in the way, a folder
that cannot be created or written.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping

import geopandas as gpd
import pandas as pd

from .errors import MissingColumnError, OutputError

__all__ = ["atomic_path", "atomic_set", "FileSet", "write_frame", "write_bytes", "write_text", "check_output_file",
           "check_output_dir", "check_writable", "os_error_message", "os_error_line", "verify_gpkg", "IncompleteOutput",
           "FORMATS"]

FORMATS = {".gpkg": "GeoPackage", ".geojson": "GeoJSON (WGS84, RFC 7946)", ".parquet": "GeoParquet", ".csv": "CSV"}

_FIX = "close it in the program that holds it, or choose another -o folder"


def _reason(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__


#: Paths longer than this are shown by their start and end (with their length) in messages.
_SHOWN_MAX = 120


def _shown(path: str | os.PathLike) -> str:
    """``path`` as a message shows it: whole up to :data:`_SHOWN_MAX` characters, else its start
    and its end with its length (an over-long -o never makes a 5,000-character line)."""
    text = os.fspath(path)
    if len(text) <= _SHOWN_MAX:
        return text
    return f"{text[:50]}…{text[-50:]} ({len(text):,} characters)"


def _existing(path: Path) -> Path:
    """The nearest existing folder (or file) at or above ``path`` (absolute)."""
    p = Path(os.path.abspath(path))
    while True:
        try:
            os.lstat(p)
            return p
        except OSError:
            if p.parent == p:
                return p
            p = p.parent


def _disk_of(path: Path) -> str:
    """The mount point of the disk holding ``path`` (for "free some space on ...")."""
    p = _existing(path)
    try:
        while not os.path.ismount(p) and p.parent != p:
            p = p.parent
    except OSError:
        pass
    return str(p)


def os_error_message(exc: OSError, path: str | os.PathLike) -> str:
    """One line for an OS error met while writing ``path``: what went wrong and the fix (free some
    space, choose a shorter folder name, choose a folder you can write to ...)."""
    target = _shown(path)
    code = getattr(exc, "errno", None)
    if code == errno.ENOSPC:
        return (f"cannot write {target}: no space left on the disk; free some space on {_shown(_disk_of(Path(path)))} "
                "or choose an -o folder on another disk")
    if code == getattr(errno, "EDQUOT", None):
        return (f"cannot write {target}: your disk quota is used up; free some space on {_shown(_disk_of(Path(path)))} "
                "or choose an -o folder on another disk")
    if code == errno.ENAMETOOLONG:
        if len(os.fsencode(Path(path).name)) + _NAME_ROOM > 255:
            return f"cannot write {target}: the file name is too long for the file system; choose a shorter file name"
        return f"cannot write {target}: the path is too long for the file system; choose a shorter folder name"
    if code in (errno.EACCES, errno.EPERM):
        return f"cannot write {target}: permission denied; choose a folder you can write to"
    if code == errno.EROFS:
        return f"cannot write {target}: the disk is read-only; choose a folder you can write to"
    if code == errno.ENOTDIR:
        return f"cannot write {target}: a part of the path is a file, not a folder; choose another -o path"
    if code == errno.EISDIR:
        return f"cannot write {target}: a folder of that name is in the way; remove or rename it, or choose another -o path"
    return f"cannot write {target} ({_reason(exc)}); choose another -o folder"


def os_error_line(exc: OSError) -> str:
    """Any OS error as one short line: :func:`os_error_message` for its file when it is one a
    write meets (no space, a quota, a name too long, a read-only disk), else the error with its
    file names shortened (:func:`_shown`)."""
    names = [n for n in (exc.filename, getattr(exc, "filename2", None)) if n is not None]
    if names and exc.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", -1), errno.ENAMETOOLONG, errno.EROFS):
        return os_error_message(exc, names[0])
    shown = ' -> '.join(_shown(os.fsdecode(n) if isinstance(n, bytes) else str(n)) for n in names)
    if names and exc.errno in (errno.EACCES, errno.EPERM):  # a read or a write: the fix for either
        return (f"permission denied: {shown}; check that you may read it (a data file) or write there (an output: "
                "choose a folder you can write to with -o)")
    why = exc.strerror or " ".join(str(exc).split()) or type(exc).__name__
    return f"{why}: {shown}" if names else why[:500]


def _os_error(exc: OSError, path: str | os.PathLike) -> OutputError:
    err = OutputError(os_error_message(exc, path))
    err.errno = getattr(exc, "errno", None)
    return err


#: What a folder must still take (bytes) when a writer fails with an error of its own, for the
#: error to be the writer's and not a full disk (:func:`_diagnose`).
_PROBE_BYTES = 64 * 1024


def _free_bytes(directory: Path) -> int | None:
    try:
        st = os.statvfs(directory)
    except (OSError, AttributeError):
        return None
    blocks = st.f_bfree if hasattr(os, "geteuid") and os.geteuid() == 0 else st.f_bavail
    return blocks * st.f_frsize


def _diagnose(directory: Path, need: Any = None) -> OSError | None:
    """The OS error the folder ``directory`` gives now to a small write (64 KiB, synced), or None
    when it takes it: why a writer that reports an error of its own failed (a full disk makes
    GDAL say "no such table: gpkg_contents", or write a broken file without a word). ``need``: a
    function giving the bytes the file takes (e.g. written in memory), for a writer that gave
    back what it had written when it failed: more than the disk has free is a full disk too."""
    fd = name = None
    try:
        fd, name = tempfile.mkstemp(prefix=".lisgeo-probe-", dir=directory)
        left = memoryview(b"\0" * _PROBE_BYTES)
        while left:  # (a nearly full disk takes part of a write without an error, then refuses the rest)
            left = left[os.write(fd, left):]
        os.fsync(fd)
    except OSError as exc:
        return exc
    finally:
        if fd is not None:
            try:
                os.close(fd)
            except OSError:
                pass
        if name is not None:
            try:
                os.unlink(name)
            except OSError:
                pass
    free = _free_bytes(directory)
    if need is not None and free is not None:
        try:
            n = int(need())
        except Exception:  # no estimate: no verdict
            return None
        if n >= free:
            return OSError(errno.ENOSPC, f"No space left on device (the file takes about {n / 1e6:.1f} MB; "
                                         f"{free / 1e6:.1f} MB free)")
    return None


def _failure(exc: BaseException, path: Path) -> OutputError | None:
    """The one-line error for a writer's failure on ``path`` (an OS error, or an error of the
    writer's own on a disk that is full), or None: not an output problem (raise it as it is)."""
    from .errors import LisgeoError

    if isinstance(exc, LisgeoError) or not isinstance(exc, Exception):
        return None
    if isinstance(exc, OSError) and exc.errno is not None:
        return _os_error(exc, path)
    found = _diagnose(path.parent)
    if found is not None:
        return _os_error(found, path)
    if isinstance(exc, OSError):
        return _os_error(exc, path)
    return None


def _name_max(folder: Path) -> int:
    try:
        return int(os.pathconf(folder, "PC_NAME_MAX"))
    except (OSError, ValueError, AttributeError):
        return 255


def _path_max(folder: Path) -> int:
    try:
        return int(os.pathconf(folder, "PC_PATH_MAX"))
    except (OSError, ValueError, AttributeError):
        return 4096 if os.name != "nt" else 260


#: Room kept in a file name for the temporary names and the files written beside an output
#: (``.NAME.xxxxxxxx.ext``, ``NAME.provenance.json``).
_NAME_ROOM = 32


def check_writable(path: str | os.PathLike, *, folder: bool = False) -> Path:
    """Refuse, before any slow work, an output ``path`` (a file, or a folder with ``folder``) that
    cannot be written, in one line with the fix: a name too long for the file system, a file in
    the way, or a folder that cannot be created or written into (permission, a read-only disk, a
    full disk). Tried by creating and removing a one-byte hidden file in the folder, or in the
    nearest existing folder above it (nothing is created or left behind). Returns the path."""
    path = Path(path)
    target = path if folder else path.parent
    base = _existing(target)
    name_max, full = _name_max(base), os.path.abspath(path)
    parts = Path(full).parts[1:]
    for i, part in enumerate(parts):
        room = _NAME_ROOM if (i == len(parts) - 1 and not folder) else 0
        if len(os.fsencode(part)) + room > name_max:
            what = "file" if (i == len(parts) - 1 and not folder) else "folder"
            raise OutputError(f"cannot write {_shown(path)}: a {what} name is too long ({len(part):,} characters; "
                              f"at most {name_max - room} here); choose a shorter {what} name")
    path_max = _path_max(base)
    if len(os.fsencode(full)) + (_NAME_ROOM + 16 if folder else _NAME_ROOM) > path_max:
        raise OutputError(f"cannot write {_shown(full)}: the path is too long (at most about {path_max - _NAME_ROOM - 16:,} "
                          "characters here); choose a shorter folder name")
    try:
        _check_parents(target, path)
        if folder and path.exists() and not path.is_dir():
            raise OutputError(f"output {_shown(path)} exists and is a file, not a folder; give a folder with -o "
                              "(a new name, or an existing folder)")
        if not folder and path.is_dir():
            raise OutputError(f"cannot write {_shown(path)}: a folder of that name is in the way; remove or rename it, "
                              "or choose another -o path")
    except OSError as exc:
        raise _os_error(exc, path) from None
    fd = name = None
    try:
        fd, name = tempfile.mkstemp(prefix=".lisgeo-probe-", dir=base)
        os.write(fd, b"\0")
    except OSError as exc:
        raise _os_error(exc, path) from None
    finally:
        if fd is not None:
            os.close(fd)
        if name is not None:
            try:
                os.unlink(name)
            except OSError:
                pass
    return path


def check_output_file(path: str | os.PathLike) -> Path:
    """Refuse, before any slow work, an output file that cannot be written: an unknown extension,
    an existing folder of that name, a parent that is a file, or any reason of
    :func:`check_writable` (a name too long, no permission, a read-only or full disk). Returns the path."""
    path = Path(path)
    try:
        is_dir = path.is_dir()
    except OSError:  # (a name too long: check_writable says so)
        is_dir = False
    if is_dir:
        raise OutputError(f"output {_shown(path)} is a folder; give a file name ending in one of {', '.join(FORMATS)}, "
                          f"e.g. {_shown(path / 'layer.gpkg')}")
    ext = path.suffix.lower()
    if ext not in FORMATS:
        raise OutputError(f"cannot write {_shown(path)}: unknown extension {ext or '(none)'!r}; use one of {', '.join(FORMATS)}")
    return check_writable(path)


def check_output_dir(directory: str | os.PathLike) -> Path:
    """Refuse, before any slow work, an output folder that is a file (or lies under a file), or
    that cannot be created or written (:func:`check_writable`). Creates nothing."""
    return check_writable(directory, folder=True)


def _check_parents(directory: Path, target: Path) -> None:
    try:
        for p in (directory, *directory.parents):
            if p.exists():
                if not p.is_dir():
                    raise OutputError(f"cannot write {_shown(target)}: {_shown(p)} is a file, not a folder; choose another -o path")
                return
    except OSError as exc:  # e.g. a name too long
        raise _os_error(exc, target) from None


def _is_dir(path: Path) -> bool:
    try:
        return path.is_dir()
    except OSError as exc:
        raise _os_error(exc, path) from None


def _make_dir(directory: Path) -> None:
    _check_parents(directory, directory)
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise OutputError(f"output {_shown(directory)} exists and is a file, not a folder; choose another -o folder") from None
    except OSError as exc:
        raise _os_error(exc, directory) from None


def _reserve(directory: Path, name: str, suffix: str) -> Path:
    """A fresh temporary name beside ``directory/name`` (checked writable, then freed for the writer)."""
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=suffix, dir=directory)
    except OSError as exc:
        raise _os_error(exc, directory / name) from None
    os.close(fd)
    os.unlink(tmp)  # drivers like GPKG refuse to open an existing empty file
    return Path(tmp)


def _remove(tmp: Path) -> None:
    if tmp.is_dir() and not tmp.is_symlink():  # (a folder of a set: a partitioned dataset)
        shutil.rmtree(tmp, ignore_errors=True)
        return
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
    if _is_dir(path):
        raise OutputError(f"cannot write {_shown(path)}: a folder of that name is in the way; remove or rename it, or choose another -o path")
    tmp_path = _reserve(path.parent, path.name, suffix or path.suffix)
    try:
        try:
            yield tmp_path
        except Exception as exc:  # an OS error (or a full disk under a writer's own error): one line
            err = _failure(exc, path)
            if err is None:
                raise
            raise err from None
        try:
            os.replace(tmp_path, path)
        except OSError as exc:
            if exc.errno in (errno.ENOSPC, errno.EROFS, errno.EACCES, errno.EPERM, errno.ENAMETOOLONG):
                raise _os_error(exc, path) from None
            raise OutputError(f"cannot replace {_shown(path)} ({_reason(exc)}); {_FIX}") from None
    finally:
        _remove(tmp_path)


def write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (:func:`atomic_path`; OS errors as one line)."""
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return path


def write_text(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` (UTF-8, ``\\n`` line ends) to ``path`` atomically (:func:`atomic_path`; OS errors as one line)."""
    path = Path(path)
    with atomic_path(path) as tmp:
        with open(tmp, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
    return path


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


def _gdal_write(out: pd.DataFrame, target: Any, ext: str, layer: str, metadata: Mapping[str, str] | None) -> None:
    if ext == ".gpkg":
        md = {str(k): str(v) for k, v in (metadata or {}).items()} or None
        out.to_file(target, driver="GPKG", layer=layer, index=False, dataset_metadata=md, layer_metadata=md)
    else:
        # the layer name becomes the FeatureCollection's "name": never the temporary file's name
        out.to_crs("EPSG:4326").to_file(target, driver="GeoJSON", layer=layer, index=False)


class IncompleteOutput(OSError):
    """A file a writer (GDAL) reported as written but that reads back incomplete."""


def verify_gpkg(path: str | os.PathLike, layers: Mapping[str, int]) -> None:
    """Check a GeoPackage written by GDAL: SQLite's quick check and the row count of each layer
    (``{layer: rows}``); :class:`IncompleteOutput` when it is not whole. (On a full disk GDAL can
    leave a broken GeoPackage without raising an error.)"""
    import sqlite3

    try:
        con = sqlite3.connect(f"file:{os.fspath(path)}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise IncompleteOutput(errno.EIO, f"the GeoPackage does not open ({exc})") from None
    try:
        check = con.execute("PRAGMA quick_check").fetchone()
        if not check or check[0] != "ok":
            raise IncompleteOutput(errno.EIO, f"the GeoPackage fails SQLite's check ({check and check[0]})")
        for layer, rows in layers.items():
            got = con.execute(f'SELECT COUNT(*) FROM "{layer.replace(chr(34), chr(34) * 2)}"').fetchone()[0]
            if got != rows:
                raise IncompleteOutput(errno.EIO, f"layer {layer!r} of the GeoPackage holds {got} rows of {rows}")
    except sqlite3.Error as exc:
        raise IncompleteOutput(errno.EIO, f"the GeoPackage reads back broken ({exc})") from None
    finally:
        con.close()


def _verify_geojson(path: Path, rows: int) -> None:
    """Check a GeoJSON FeatureCollection written by GDAL: it ends as GDAL ends it and holds every feature."""
    data = path.read_bytes()
    if not data.rstrip().endswith(b"]\n}") or data.count(b'{ "type": "Feature"') != rows:
        raise IncompleteOutput(errno.EIO, "the GeoJSON reads back incomplete")


def _checked(write: Any, tmp: Path) -> None:
    """``write(tmp)`` (a GDAL writer, then its check); on GDAL's own error, or a file it left
    broken, the disk is asked (:func:`_diagnose`, with the size ``write`` gives in memory)."""
    try:
        write(tmp)
    except Exception as exc:
        if isinstance(exc, OSError) and not isinstance(exc, IncompleteOutput):
            raise

        def need() -> int:
            import io as _io

            buf = _io.BytesIO()
            write(buf)
            return len(buf.getbuffer())

        found = _diagnose(tmp.parent, need)
        if found is not None:
            raise found from None
        raise


def _write(out: pd.DataFrame, tmp: Path, ext: str, is_geo: bool, layer: str, metadata: Mapping[str, str] | None) -> None:
    if ext in (".gpkg", ".geojson"):
        def write(target: Any) -> None:
            _gdal_write(out, target, ext, layer, metadata)
            if isinstance(target, Path):
                verify_gpkg(target, {layer: len(out)}) if ext == ".gpkg" else _verify_geojson(target, len(out))

        _checked(write, tmp)
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
        self._made = self._created = False
        self._folders: set[str] = set()
        # files of this kind of set that a run may leave out (an option turned off): an earlier
        # run's copy is removed with the swap, so the folder never mixes two runs
        self._replaces = tuple(dict.fromkeys(Path(n).name for n in replaces))

    # ---------------------------------------------------------------- adding files
    def path(self, name: str, *, suffix: str | None = None, folder: bool = False) -> Path:
        """A temporary path for the set's file ``name`` (a plain file name in the set's folder);
        ``folder``: the set's entry is a folder (a partitioned dataset), written at that path."""
        if not name or Path(name).name != name or name in (".", ".."):
            raise ValueError(f"a file of a set is a plain file name, got {name!r}")
        if name in self._tmp:
            raise ValueError(f"{name!r} is already in this set")
        if not self._made:
            self._created = not self.directory.exists()
            _make_dir(self.directory)
            self._made = True
        target = self.directory / name
        if folder and (target.is_file() or target.is_symlink()):
            raise OutputError(f"cannot write the folder {_shown(target)}: a file of that name is in the way; remove or rename it, "
                              "or choose another -o folder")
        if not folder and _is_dir(target):
            raise OutputError(f"cannot write {_shown(target)}: a folder of that name is in the way; remove or rename it, or choose another -o folder")
        tmp = _reserve(self.directory, name, suffix or Path(name).suffix)
        self._tmp[name] = tmp
        if folder:
            self._folders.add(name)
        return tmp

    def write(self, name: str, writer: Any, *, suffix: str | None = None) -> Path:
        """Add file ``name`` written by ``writer(tmp_path)`` (any writer: a PNG, a raster ...), its
        OS errors as one line (as every ``write_*`` method); returns its final path."""
        self._run(writer, self.path(name, suffix=suffix), name)
        return self.directory / name

    def _run(self, writer: Any, tmp: Path, name: str) -> None:
        """``writer(tmp)``, its OS errors as one line naming ``name``'s final path."""
        try:
            writer(tmp)
        except Exception as exc:
            err = _failure(exc, self.directory / name)
            if err is None:
                raise
            raise err from None

    def write_folder(self, name: str, writer: Any) -> Path:
        """Add the folder ``name`` (e.g. a partitioned GeoParquet dataset) made by ``writer(tmp_path)``
        (which creates the folder and its files), swapped into place with the rest of the set;
        returns its final path."""
        tmp = self.path(name, folder=True)
        self._run(writer, tmp, name)
        if not tmp.is_dir():
            raise OutputError(f"{_shown(self.directory / name)} was not written as a folder; nothing of the set was changed")
        return self.directory / name

    def write_partitioned_parquet(self, df: pd.DataFrame, name: str, *, by: str) -> Path:
        """Add ``df`` as the folder ``name`` of GeoParquet files, one per value of column ``by``
        (Hive layout ``<by>=<value>/part-0.parquet``, the column itself in the folder names:
        ``geopandas.read_parquet(folder)`` or ``dask_geopandas.read_parquet`` reads it back whole,
        ``by`` as a column)."""
        if by not in df.columns:
            raise MissingColumnError(f"cannot partition {name} by {by!r}: no such column")
        keys = df[by].astype(str)
        if keys.str.contains(r"[/\\=]|^\.|^$", regex=True).any():
            raise OutputError(f"cannot partition {name} by {by!r}: a value is empty or holds '/', '\\' or '='")

        def write(tmp: Path) -> None:
            tmp.mkdir()
            part = df.drop(columns=[by])
            for key in sorted(keys.unique()):
                sub = tmp / f"{by}={key}"
                sub.mkdir()
                part[(keys == key).to_numpy()].to_parquet(sub / "part-0.parquet", index=False)

        return self.write_folder(name, write)

    def write_frame(self, df: pd.DataFrame, name: str, *, layer: str | None = None,
                    metadata: Mapping[str, str] | None = None) -> Path:
        """Add a frame as file ``name`` (as :func:`write_frame`); returns its final path."""
        out, ext, is_geo = _prepare(df, self.directory / name)
        return self.write(name, lambda tmp: _write(out, tmp, ext, is_geo, layer or Path(name).stem, metadata))

    def write_layers(self, name: str, layers: Mapping[str, pd.DataFrame], *,
                     metadata: Mapping[str, str] | None = None) -> Path:
        """Add a GeoPackage ``name`` holding several layers (``{layer: frame}``, written as
        GeoPandas writes them; ``metadata`` as the dataset's and each layer's), checked as
        :meth:`write_frame` checks one; returns its final path."""
        md = {str(k): str(v) for k, v in (metadata or {}).items()} or None

        def write(target: Any) -> None:
            for i, (layer, df) in enumerate(layers.items()):
                df.to_file(target, driver="GPKG", layer=layer, layer_metadata=md, **({"dataset_metadata": md} if i == 0 else {}))
            if isinstance(target, Path):
                verify_gpkg(target, {layer: len(df) for layer, df in layers.items()})

        return self.write(name, lambda tmp: _checked(write, tmp))

    def write_text(self, name: str, text: str) -> Path:
        """Add a UTF-8 text file ``name``; returns its final path."""
        def write(tmp: Path) -> None:
            with open(tmp, "w", encoding="utf-8", newline="\n") as fh:
                fh.write(text)

        return self.write(name, write)

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
            if not (tmp.is_dir() if name in self._folders else tmp.is_file()):
                raise OutputError(f"{_shown(self.directory / name)} was not written; nothing of the set was changed")
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
            msg = f"cannot replace {_shown(failed)} ({why}); {_FIX}. Nothing was changed: the folder keeps its old files"
            if lost:
                msg = f"cannot replace {_shown(failed)} ({why}); {_FIX}. Could not restore {', '.join(lost)}: rename the .old file(s) back"
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
        """Remove every temporary file of the set (the final names are not touched), and the
        set's folder when this set created it and it is left empty (a set that failed)."""
        for tmp in self._tmp.values():
            _remove(tmp)
        if self._created:
            try:
                self.directory.rmdir()  # only when empty
            except OSError:
                pass


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
        try:
            yield fs
        except Exception as exc:  # a writer used on fs.path(...) directly: its OS errors as one line too
            err = _failure(exc, Path(directory) / (fs.names[-1] if fs.names else ""))
            if err is None:
                raise
            raise err from None
        fs.commit()
    finally:
        fs.discard()
