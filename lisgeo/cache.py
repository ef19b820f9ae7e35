"""Disk caches of slow results: a keyed store of files, one setting turns it off.

As OSMnx's cache: a key names one file, and a result is looked up by its key before it is made.
Everything lives under ``lisgeo.catalog.cache_dir()/results/<kind>/<key><suffix>``
(``LISGEO_CACHE_DIR`` moves it); ``LISGEO_NO_CACHE=1`` switches every cache off (:func:`enabled`),
as ``turned_off()`` does for a block and ``score_region(cache=False)`` for one call. The API:
:func:`make_key`; :func:`store_frame` / :func:`load_frame` (a frame with its ``attrs``, exactly);
:func:`store_pickle` / :func:`load_pickle` (any object); :func:`clear`. In the ``lisgeo`` command a
pickle stored with ``defer=True`` (a built network) is written by a detached copy of the command
after it has returned (:func:`defer_writes`, :func:`write_deferred`). Kinds include:

* ``scores/<key>.parquet`` – :func:`lisgeo.pipeline.score.score_region`'s frame (GeoParquet, with
  its ``attrs`` as tagged JSON in the file's metadata, so dtypes, index, CRS and every ``attrs``
  entry round-trip exactly);
* ``network/<key>.pickle`` – :func:`lisgeo.network.build_network`'s graph before its per-call
  additions (a pickle: the cache folder is the user's own, as for any download cache);
* ``rda/<sha256>.parquet`` – the IoD ``.rda`` files parsed (:mod:`lisgeo.layers.deprivation`);
* ``inputs``, ``layers``, ``claims``, ``boundaries``, ``maps`` – the region's layers for scoring,
  layer reads, the recomputed claims, a region's small areas, drawn maps.

A key is the sha256 of a canonical JSON of *everything that can change the result*
(:func:`make_key`): the lisgeo version and a digest of the package's own source (so an edited
checkout never reads results of other code), the inputs given, the bytes of the authored files
read (:func:`authored_digests`) and the catalogue's pinned sha256 of every dataset read
(:func:`dataset_digests`; the catalogue refuses files that do not match them, so no big file is
hashed again). A change to any of them is a miss.

Every entry is one file: a 48-byte header (the magic ``LISGEO\\x00\\x02``, the payload's length and its
sha256) and the payload (the Parquet or pickle bytes), hashed while it is written and moved into
place with ``os.replace`` (atomic: a reader sees the old entry, the new one or none; header and
payload cannot disagree by a crash). Every read checks the magic, the length and the sha256 before
decoding anything, then decodes and checks the type. An entry that fails any of these (a flipped
bit, a truncated or zero-byte file, a file of another format or version, a pickle of another
type, an error while decoding) is a miss: the caller recomputes it as if it were absent, the bad
file is removed (unless another process has replaced it meanwhile) and rewritten by the caller,
and it is reported once, at debug level (logger ``lisgeo.cache``). A cache never makes a run fail
and never changes a result.

Leftovers of killed runs (:func:`sweep`, at a process's first use of the cache, at most once a
minute across processes): the temporary ``.tmp`` file of an entry a killed process was writing is
removed when it is stale: its owner (the process id in its name) no longer runs on this machine and
it has not been touched for :data:`STALE_GONE_S`, or, whoever the owner, it has not been touched
for :data:`STALE_AFTER_S`. A live writer touches its file all the time (the largest entry, D2N2's
network, takes about half a second), so nothing another live process is writing is removed.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import hashlib
import io
import json
import logging
import math
import os
import pickle
import stat
import struct
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping

import numpy as np
import pandas as pd


__all__ = ["ENV_NO_CACHE", "enabled", "turned_off", "results_dir", "entry_path", "make_key", "code_digest", "file_digest",
           "authored_digests", "dataset_digests", "frame_digest", "store_frame", "load_frame", "store_pickle",
           "load_pickle", "defer_writes", "write_deferred", "write_kept_back", "attrs_to_json", "attrs_from_json", "AUTHORED_FILES", "clear",
           "DamagedEntry", "sweep", "stale", "STALE_GONE_S", "STALE_AFTER_S"]

log = logging.getLogger(__name__)

#: Bumped when the layout of an entry changes (2: the checksummed envelope).
FORMAT = 2
#: The authored files (under ``layers/``) whose bytes key the scores and networks.
AUTHORED_FILES = ("sites.csv", "hs2_stations.csv", "hs2_links.csv", "indices.toml", "assumptions.toml",
                  "digital_coldspots.toml", "social_mobility.csv", "rail_operators.csv")
_META = b"lisgeo_cache"
#: The header of every entry file: magic (with the format), payload length, sha256 of the payload.
_HEADER = struct.Struct("<8sQ32s")
_MAGIC = b"LISGEO\x00\x02"
#: A leftover whose owner has gone is removed once untouched this long (s) ...
STALE_GONE_S = 60.0
#: ... and any leftover once untouched this long (s): an older version's, or one whose pid was reused.
STALE_AFTER_S = 3600.0


# ------------------------------------------------------------------ whether and where
#: Set (to anything but "", 0, false, no, off) to turn every disk cache off.
ENV_NO_CACHE = "LISGEO_NO_CACHE"
#: True inside :func:`turned_off`.
_OFF: contextvars.ContextVar[bool] = contextvars.ContextVar("lisgeo_cache_off", default=False)


def enabled(flag: bool | None = True) -> bool:
    """Whether the disk caches are on: ``flag`` (False turns them off for a call), not inside
    :func:`turned_off` and not ``LISGEO_NO_CACHE``."""
    if flag is False or _OFF.get():
        return False
    return os.environ.get(ENV_NO_CACHE, "").strip().lower() in ("", "0", "false", "no", "off")


@contextlib.contextmanager
def turned_off() -> Iterator[None]:
    """No disk cache is read or written inside (e.g. ``load_layer(cache=False)``: a fresh read, all
    the way down)."""
    token = _OFF.set(True)
    try:
        yield
    finally:
        _OFF.reset(token)



def results_dir() -> Path:
    """``lisgeo.catalog.cache_dir()/results`` (``LISGEO_CACHE_DIR`` moves it)."""
    from .catalog import cache_dir

    return cache_dir() / "results"


def entry_path(kind: str, key: str, suffix: str) -> Path:
    return results_dir() / kind / f"{key}{suffix}"


def clear(kind: str | None = None) -> int:
    """Delete the entries of ``kind`` (or of every kind); returns how many files were removed."""
    root = results_dir() if kind is None else results_dir() / kind
    n = 0
    if root.is_dir():
        for p in sorted(root.rglob("*"), reverse=True):
            try:
                p.unlink() if p.is_file() else p.rmdir()
                n += p.suffix != ""
            except OSError:
                pass
    return n


# ------------------------------------------------------------------ keys
def _canonical(obj: Any) -> Any:
    """A JSON-able, order-independent form of ``obj`` for hashing (tuples and lists alike)."""
    if isinstance(obj, Mapping):
        return {"__map__": sorted([json.dumps(_canonical(k), sort_keys=True), _canonical(v)] for k, v in obj.items())}
    if isinstance(obj, (list, tuple)):
        return [_canonical(v) for v in obj]
    if isinstance(obj, (set, frozenset)):
        return {"__set__": sorted(json.dumps(_canonical(v), sort_keys=True) for v in obj)}
    if isinstance(obj, bool) or obj is None or isinstance(obj, (int, str)):
        return obj
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else {"__float__": repr(obj)}
    if isinstance(obj, np.generic):
        return _canonical(obj.item())
    if isinstance(obj, os.PathLike):
        return os.fspath(obj)
    return {"__repr__": f"{type(obj).__name__}:{obj!r}"}


def make_key(parts: Mapping[str, Any]) -> str:
    """The sha256 (hex) of the canonical JSON of ``parts`` plus the format, the lisgeo version and
    :func:`code_digest`."""
    from . import __version__

    full = {"format": FORMAT, "lisgeo": __version__, "code": code_digest(), **parts}
    return hashlib.sha256(json.dumps(_canonical(full), sort_keys=True).encode()).hexdigest()


@functools.cache
def code_digest() -> str:
    """sha256 over lisgeo's own ``*.py`` files and its catalogue (read once per process, a few ms):
    results of other code, e.g. an edited checkout, are never reused."""
    root = Path(__file__).resolve().parent
    h = hashlib.sha256()
    for p in sorted([*root.rglob("*.py"), root / "data" / "catalog.csv"]):
        if "__pycache__" in p.parts or not p.is_file():
            continue
        h.update(p.relative_to(root).as_posix().encode() + b"\0")
        h.update(p.read_bytes())
        h.update(b"\0")
    return h.hexdigest()


def file_digest(path: str | os.PathLike | None) -> str | None:
    """sha256 of a file's bytes (of every file under it, with their names, for a folder); None when absent."""
    if path is None:
        return None
    p = Path(path)
    h = hashlib.sha256()
    if p.is_dir():
        for f in sorted(q for q in p.rglob("*") if q.is_file()):
            h.update(f.relative_to(p).as_posix().encode() + b"\0")
            with open(f, "rb") as fh:
                for chunk in iter(lambda: fh.read(1 << 20), b""):
                    h.update(chunk)
        return h.hexdigest()
    if not p.is_file():
        return None
    with open(p, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def authored_digests(names: Iterable[str] = AUTHORED_FILES) -> dict[str, str | None]:
    """sha256 of the authored files ``names`` as read now (``LISGEO_LAYERS_DIR`` honoured)."""
    from .config import authored_path

    return {n: file_digest(authored_path(n)) for n in names}


def dataset_digests(datasets: Iterable[str]) -> dict[str, list[str]]:
    """The catalogue's pinned sha256 of every file of ``datasets`` (nothing is read or hashed)."""
    from .catalog import get_dataset

    return {d: [f.sha256 for f in get_dataset(d).files] for d in dict.fromkeys(datasets)}


def frame_digest(df: pd.DataFrame, *, ignore_attrs: Iterable[str] = ("timings",)) -> str:
    """sha256 of a frame's index, columns, dtypes and values (geometry as WKB) and ``attrs`` (but
    ``ignore_attrs``: by default the timings, which differ between a fresh and a cached result)."""
    h = hashlib.sha256()
    h.update(json.dumps([list(map(str, df.columns)), [str(t) for t in df.dtypes], str(df.index.dtype)]).encode())
    h.update(pd.util.hash_pandas_object(df.index, index=False).to_numpy().tobytes())
    for c in df.columns:
        s = df[c]
        if getattr(s.dtype, "name", "") == "geometry":
            s = pd.Series(s.to_wkb(), index=s.index)
        h.update(pd.util.hash_pandas_object(s, index=False).to_numpy().tobytes())
    h.update(json.dumps(_canonical({k: v for k, v in df.attrs.items() if k not in set(ignore_attrs)}), sort_keys=True).encode())
    return h.hexdigest()


# ------------------------------------------------------------------ attrs as JSON, exactly
def _tag(obj: Any) -> Any:
    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if isinstance(obj, int) and type(obj) is int:
        return obj
    if type(obj) is float:
        return obj if math.isfinite(obj) else {"__float__": repr(obj)}
    if isinstance(obj, np.generic) and obj.dtype.kind in "biuf":
        return {"__np__": obj.dtype.str, "v": _tag(obj.item())}
    if type(obj) is tuple:
        return {"__tuple__": [_tag(v) for v in obj]}
    if type(obj) is list:
        return [_tag(v) for v in obj]
    if type(obj) is dict:
        if all(type(k) is str for k in obj) and not any(k.startswith("__") for k in obj):
            return {k: _tag(v) for k, v in obj.items()}
        return {"__dict__": [[_tag(k), _tag(v)] for k, v in obj.items()]}
    raise TypeError(f"cannot store {type(obj).__name__} in a cache entry's attrs")


def _untag(obj: Any) -> Any:
    if isinstance(obj, list):
        return [_untag(v) for v in obj]
    if isinstance(obj, dict):
        if "__float__" in obj:
            return float(obj["__float__"])
        if "__np__" in obj:
            return np.dtype(obj["__np__"]).type(_untag(obj["v"]))
        if "__tuple__" in obj:
            return tuple(_untag(v) for v in obj["__tuple__"])
        if "__dict__" in obj:
            return {_untag(k) if not isinstance(k, list) else tuple(_untag(k)): _untag(v) for k, v in obj["__dict__"]}
        return {k: _untag(v) for k, v in obj.items()}
    return obj


def _same(a: Any, b: Any) -> bool:
    """Deep equality with types (1 is not 1.0 nor True) and NaN equal to NaN."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, (float, np.floating)) and np.isnan(a) and np.isnan(b):
        return True
    return bool(a == b)


def attrs_to_json(attrs: Mapping[str, Any]) -> str:
    """``attrs`` as tagged JSON that :func:`attrs_from_json` turns back into an equal dict (tuples,
    numpy scalars, non-string keys and NaN kept); TypeError for anything it cannot keep exactly."""
    text = json.dumps(_tag(dict(attrs)), allow_nan=False)
    if not _same(attrs_from_json(text), dict(attrs)):
        raise TypeError("attrs do not survive JSON exactly")
    return text


def attrs_from_json(text: str) -> dict:
    return _untag(json.loads(text))


# ------------------------------------------------------------------ the entry file: header, payload, checksum
class DamagedEntry(Exception):
    """An entry file that is not a whole, intact entry of this format (a miss, never an error);
    ``stat``: the identity of the file read, when known."""

    def __init__(self, message: str, stat: os.stat_result | None = None):
        super().__init__(message)
        self.stat = stat


class _Hashing:
    """A write-only binary file that passes everything to ``fh`` and hashes and counts it on the way."""

    closed = False

    def __init__(self, fh: Any):
        self._fh = fh
        self.sha = hashlib.sha256()
        self.n = 0

    def write(self, data: Any) -> int:
        view = memoryview(data).cast("B")
        self.sha.update(view)
        self.n += view.nbytes
        self._fh.write(view)
        return view.nbytes

    def tell(self) -> int:
        return self.n

    def flush(self) -> None:
        self._fh.flush()

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def readable(self) -> bool:
        return False


def _tmp_name(path: Path) -> tuple[str, str]:
    """(prefix, suffix) of a temporary file of ``path``: ``.<stem>~<pid>~<random>.tmp``, so that
    :func:`sweep` knows its owner."""
    return f".{path.stem[:16]}~{os.getpid()}~", ".tmp"


#: The kinds of write error reported already in this process (one warning each, then debug records).
_WRITE_FAILED: set[tuple] = set()


def _write_atomic(path: Path, write: Callable[[Any], None]) -> bool:
    """Write the entry ``path``: ``write(fh)`` gives the payload to a binary file, which hashes it
    on the way; the header (magic, length, sha256) is put in front and the whole moved into place
    with ``os.replace``. False (and nothing left behind) on any error."""
    _sweep_once()
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        prefix, suffix = _tmp_name(path)
        fd, name = tempfile.mkstemp(prefix=prefix, suffix=suffix, dir=path.parent)
        tmp = Path(name)
        with open(fd, "wb") as fh:
            fh.write(b"\0" * _HEADER.size)
            out = _Hashing(fh)
            write(out)
            fh.seek(0)
            fh.write(_HEADER.pack(_MAGIC, out.n, out.sha.digest()))
        os.replace(tmp, path)
        return True
    except Exception as exc:  # a cache never makes a run fail
        what = (type(exc).__name__, getattr(exc, "errno", None))  # e.g. a read-only folder: said once, not per entry
        level = logging.DEBUG if what in _WRITE_FAILED else logging.WARNING
        _WRITE_FAILED.add(what)
        log.log(level, "lisgeo cache: could not write %s (%s: %s); going on without it (results are not kept between runs)",
                path, type(exc).__name__, getattr(exc, "strerror", None) or exc)
        return False
    finally:
        if tmp is not None:
            try:
                tmp.unlink()
            except OSError:
                pass


def _read_entry(path: Path) -> tuple[memoryview, os.stat_result] | None:
    """The payload of the entry file ``path`` (checked: magic, length, sha256) and the file's
    identity; None when there is no such file; :class:`DamagedEntry` (or the error met) when it is
    not intact."""
    try:
        fh = open(path, "rb")
    except FileNotFoundError:
        return None
    with fh:
        st = os.fstat(fh.fileno())
        if not stat.S_ISREG(st.st_mode):
            raise DamagedEntry("not a regular file", st)
        data = fh.read()
    if len(data) < _HEADER.size:
        raise DamagedEntry(f"truncated ({len(data)} bytes, shorter than its header)", st)
    magic, n, digest = _HEADER.unpack_from(data)
    if magic != _MAGIC:
        raise DamagedEntry("not a lisgeo cache entry of this format", st)
    if n != len(data) - _HEADER.size:
        raise DamagedEntry(f"truncated or extended ({len(data) - _HEADER.size} payload bytes, the header says {n})", st)
    payload = memoryview(data)[_HEADER.size:]
    if hashlib.sha256(payload).digest() != digest:
        raise DamagedEntry("checksum mismatch (the payload's sha256 differs from the one written with it)", st)
    return payload, st


#: Damaged entries reported already in this process (each once).
_REPORTED: set[str] = set()


def _discard(path: Path, exc: BaseException, st: os.stat_result | None = None) -> None:
    """A damaged entry: report it (once, at debug level) and remove it, unless another process has
    replaced it meanwhile (``st``: the identity of the file that was read)."""
    if str(path) not in _REPORTED:
        _REPORTED.add(str(path))
        log.debug("lisgeo cache: damaged entry %s (%s: %s): a miss; it is recomputed and rewritten",
                  path, type(exc).__name__, exc)
    try:
        now = os.lstat(path)
    except OSError:
        return
    if st is not None and (now.st_dev, now.st_ino, now.st_size, now.st_mtime_ns) != (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns):
        return  # rewritten by another process since it was read: that one is not ours to judge
    try:
        if stat.S_ISDIR(now.st_mode):
            import shutil

            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink()
    except OSError:
        pass


def _entry(path: Path, decode: Callable[[memoryview], Any]) -> Any:
    """``decode(payload)`` of the entry file ``path``; None when it is absent, and when it is
    damaged in any way (then discarded: :func:`_discard`)."""
    _sweep_once()
    st = None
    try:
        got = _read_entry(path)
        if got is None:
            return None
        payload, st = got
        return decode(payload)
    except Exception as exc:  # a cache entry never makes a run fail
        _discard(path, exc, st if st is not None else getattr(exc, "stat", None))
        return None


# ------------------------------------------------------------------ leftovers of killed runs
def _alive(pid: int) -> bool:
    """Whether process ``pid`` runs on this machine (True when it cannot be told: on Windows,
    where a signal 0 is not a question)."""
    if pid <= 0:
        return False
    if pid == os.getpid():
        return True
    if os.name == "nt":
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # (PermissionError: another user's process)
        return True
    return True


def stale(mtime: float, owner: int | None, *, now: float | None = None) -> bool:
    """The rule for leftovers (see the module docstring): untouched for :data:`STALE_GONE_S` with
    its owner ``owner`` gone, or untouched for :data:`STALE_AFTER_S` whoever the owner."""
    age = (time.time() if now is None else now) - mtime
    if age >= STALE_AFTER_S:
        return True
    return owner is not None and age >= STALE_GONE_S and not _alive(owner)


def _tmp_owner(name: str) -> int | None:
    """The process id in a temporary file's name (``.<stem>~<pid>~<random>.tmp``), else None."""
    parts = name.split("~")
    if len(parts) == 3 and parts[1].isdigit():
        return int(parts[1])
    return None


def sweep(*, now: float | None = None) -> list[Path]:
    """Remove the stale leftovers of killed runs (the module docstring's rule): the temporary
    ``.tmp`` files in the cache. Returns what was removed."""
    removed: list[Path] = []
    root = results_dir()
    try:
        kinds = [e for e in os.scandir(root) if e.is_dir(follow_symlinks=False)]
    except OSError:
        kinds = []
    for kind in kinds:
        try:
            entries = list(os.scandir(kind.path))
        except OSError:
            continue
        for e in entries:
            if not (e.name.startswith(".") and e.name.endswith(".tmp")):
                continue
            try:
                if stale(e.stat(follow_symlinks=False).st_mtime, _tmp_owner(e.name), now=now):
                    os.unlink(e.path)
                    removed.append(Path(e.path))
            except OSError:  # gone meanwhile, or not ours to remove
                pass
    if removed:
        log.debug("lisgeo cache: removed %d leftover(s) of killed runs: %s", len(removed), ", ".join(map(str, removed)))
    return removed


_SWEPT = False
#: The file whose time says when the cache was last swept (:func:`_sweep_once`).
_SWEEP_STAMP = ".last-sweep"


def _sweep_once() -> None:
    """:func:`sweep` at this process's first use of the cache, unless a run swept it less than
    :data:`STALE_GONE_S` ago (nothing can have gone stale since: the stamp ``results/.last-sweep``
    says when; a few milliseconds saved on a warm run over a large cache)."""
    global _SWEPT
    if _SWEPT:
        return
    _SWEPT = True
    stamp = results_dir() / _SWEEP_STAMP
    try:
        if time.time() - stamp.stat().st_mtime < STALE_GONE_S:
            return
    except OSError:
        pass
    try:
        stamp.parent.mkdir(parents=True, exist_ok=True)
        stamp.touch()
    except OSError:  # (a read-only cache: swept each time; it can remove nothing anyway)
        pass
    try:
        sweep()
    except Exception as exc:  # tidying up never makes a run fail
        log.debug("lisgeo cache: could not look for leftovers (%s: %s)", type(exc).__name__, exc)


def store_frame(kind: str, key: str, df: pd.DataFrame) -> Path | None:
    """Write ``df`` (a GeoDataFrame as GeoParquet, else Parquet) with its ``attrs`` as the entry
    ``kind/key``; None when it cannot be stored exactly (nothing is written then)."""
    import pyarrow.parquet as pq

    import geopandas as gpd

    try:
        crs = df.crs.to_string() if isinstance(df, gpd.GeoDataFrame) and df.crs is not None else None
        meta = json.dumps({"attrs": attrs_to_json(df.attrs), "geo": isinstance(df, gpd.GeoDataFrame),
                           "crs": crs, "index_string": _string_dtype(df.index.dtype),
                           # text kept as Python objects (Parquet gives it back as pandas' string dtype)
                           "object_columns": [i for i, dt in enumerate(df.dtypes) if dt == object],
                           "object_index": bool(df.index.dtype == object)}).encode()
    except TypeError as exc:
        log.info("lisgeo cache: not storing %s/%s: %s", kind, key, exc)
        return None
    path = entry_path(kind, key, ".parquet")

    def write(fh: Any) -> None:
        plain = df.copy(deep=False)
        plain.attrs = {}
        if isinstance(df, gpd.GeoDataFrame):  # GeoParquet's metadata comes with geopandas' writer
            buf = io.BytesIO()
            plain.to_parquet(buf, index=True)
            table = pq.read_table(io.BytesIO(buf.getvalue()))
        else:  # the table pandas' to_parquet writes, made once
            import pyarrow as pa

            table = pa.Table.from_pandas(plain, preserve_index=True)
        table = table.replace_schema_metadata({**(table.schema.metadata or {}), _META: meta})
        pq.write_table(table, fh)

    if not _write_atomic(path, write):
        return None
    if _exact_by_construction(df):  # (what was written is checked on every read: the checksum)
        return path
    back = load_frame(kind, key)
    if back is None or not _frames_same(back, df):  # what cannot be read back exactly is not kept
        log.info("lisgeo cache: %s/%s does not round-trip exactly; not cached", kind, key)
        try:
            path.unlink()
        except OSError:
            pass
        return None
    return path


#: Column dtypes that Parquet (with pandas' metadata) gives back exactly, missing values included.
_EXACT_DTYPES = frozenset({"float64", "int64", "bool", "Float64", "Int64", "boolean", "datetime64[ns]"})


def _exact_by_construction(df: pd.DataFrame) -> bool:
    """True when ``df`` comes back from :func:`load_frame` equal to itself without reading it back
    (about 1 s of a cold score): a plain (Geo)DataFrame with unique text column labels, a range,
    int64 or text index, columns of the dtypes in :data:`_EXACT_DTYPES`, text (pandas' pyarrow-backed
    string dtypes) and one geometry column (WKB keeps every coordinate). Anything else (Python objects,
    categories, other labels) is read back and compared before it is kept.
    ``tests/test_cache.py`` checks each of these dtypes, with missing values, by reading back."""
    import geopandas as gpd

    if type(df) not in (pd.DataFrame, gpd.GeoDataFrame) or isinstance(df.columns, pd.MultiIndex):
        return False
    if not df.columns.is_unique or not all(type(c) is str for c in df.columns):
        return False
    idx = df.index
    if isinstance(idx, pd.MultiIndex) or not (idx.name is None or type(idx.name) is str):
        return False
    if not (type(idx) is pd.RangeIndex or str(idx.dtype) == "int64" or isinstance(idx.dtype, pd.StringDtype)):
        return False
    geo = [c for c, dt in df.dtypes.items() if str(dt) == "geometry"]
    if geo and not (isinstance(df, gpd.GeoDataFrame) and geo == [df.geometry.name]):
        return False
    # text: pyarrow-backed strings (Parquet gives python-backed ones back as pyarrow-backed)
    return all(str(dt) in _EXACT_DTYPES or (isinstance(dt, pd.StringDtype) and dt.storage == "pyarrow")
               or str(dt) == "geometry" for dt in df.dtypes)


def _string_dtype(dtype: Any) -> list | None:
    """A pandas string dtype's (storage, NA kind), which Parquet keeps for columns but not for an index."""
    if isinstance(dtype, pd.StringDtype):
        return [dtype.storage, "nan" if dtype.na_value is not pd.NA else "NA"]
    return None


def _frames_same(a: pd.DataFrame, b: pd.DataFrame) -> bool:
    try:
        pd.testing.assert_frame_equal(a, b, check_exact=True)
    except AssertionError:
        return False
    # pandas counts None and NaN as equal in object columns; the cache gives back what it was given
    for i, dt in enumerate(a.dtypes):
        if dt == object and not a.iloc[:, i].map(type, na_action=None).equals(b.iloc[:, i].map(type, na_action=None)):
            return False
    return type(a) is type(b) and getattr(a, "crs", None) == getattr(b, "crs", None) and _same(dict(a.attrs), dict(b.attrs))


def _decode_frame(payload: memoryview) -> pd.DataFrame:
    import pyarrow as pa
    import pyarrow.parquet as pq

    buf = pa.py_buffer(payload)
    md = pq.read_schema(pa.BufferReader(buf)).metadata or {}
    meta = json.loads(md[_META])
    if meta["geo"]:
        import geopandas as gpd

        df = gpd.read_parquet(pa.BufferReader(buf))
        if meta.get("crs"):  # GeoParquet keeps PROJJSON; give back the CRS as it was given ("EPSG:27700")
            df = df.set_crs(meta["crs"], allow_override=True)
    else:
        df = pd.read_parquet(pa.BufferReader(buf))
    idx = meta.get("index_string")
    if idx is not None and _string_dtype(df.index.dtype) != idx:
        df.index = df.index.astype(pd.StringDtype(storage=idx[0], na_value=np.nan if idx[1] == "nan" else pd.NA))
    if meta.get("object_index") and df.index.dtype != object:
        df.index = df.index.astype(object)
    for i in meta.get("object_columns", []):
        if df.dtypes.iloc[i] != object:
            df[df.columns[i]] = df.iloc[:, i].astype(object)
    df.attrs = attrs_from_json(meta["attrs"])
    return df


def load_frame(kind: str, key: str, expect: type | tuple[type, ...] = pd.DataFrame) -> pd.DataFrame | None:
    """The frame stored as ``kind/key`` with its ``attrs`` (an instance of ``expect``), or None when
    absent or damaged in any way (see the module docstring: a damaged entry is a miss, and removed)."""

    def decode(payload: memoryview) -> pd.DataFrame:
        df = _decode_frame(payload)
        if not isinstance(df, expect):
            raise DamagedEntry(f"expected {expect}, found {type(df).__name__}")
        return df

    return _entry(entry_path(kind, key, ".parquet"), decode)


#: Pickles kept back by ``store_pickle(defer=True)`` until :func:`write_deferred`; None (the
#: default, and in a caller's Python session): written at once.
_DEFERRED: dict[tuple[str, str], Any] | None = None


def defer_writes() -> None:
    """In the one-shot ``lisgeo`` command: ``store_pickle(..., defer=True)`` keeps its object back
    until :func:`write_deferred`, which writes it after the command's output is out (a cold ``lisgeo
    score`` no longer waits 0.6-0.7 s for D2N2's network to be pickled: ``benchmarks/README.md``).
    Nothing is kept back where the platform cannot fork."""
    global _DEFERRED
    if hasattr(os, "fork"):
        _DEFERRED = {}


def write_deferred() -> None:
    """Write what ``store_pickle(defer=True)`` kept back, in a detached copy of this process (its own
    session, no terminal, nothing to report), so that the command returns first; here when it
    cannot fork. A command started meanwhile that needs such an entry finds none and makes it
    again (never half an entry: each is moved into place whole)."""
    global _DEFERRED
    items, _DEFERRED = list((_DEFERRED or {}).items()), None
    if not items:
        return
    try:
        pid = os.fork()
    except OSError:
        pid = -1
    if pid > 0:
        return
    try:
        if pid == 0:
            os.setsid()
            null = os.open(os.devnull, os.O_RDWR)
            for fd in (0, 1, 2):  # (a caller reading the command's output gets its end at once)
                os.dup2(null, fd)
        for (kind, key), obj in items:
            store_pickle(kind, key, obj)
    finally:
        if pid == 0:
            os._exit(0)


def write_kept_back(kind: str | None = None) -> None:
    """Write now, in this process, what ``store_pickle(defer=True)`` kept back (of ``kind``, or
    all), and let go of it: a command that makes one large network after another and needs none
    of them again (``lisgeo validate``, :func:`lisgeo.network.graph.forget_builds`) can then free
    each before the next, rather than hold every one until it returns (a D2N2 network pickles in
    about 0.3 s)."""
    if not _DEFERRED:
        return
    for k in [k for k in _DEFERRED if kind is None or k[0] == kind]:
        store_pickle(*k, _DEFERRED.pop(k))


def store_pickle(kind: str, key: str, obj: Any, *, defer: bool = False) -> Path | None:
    """Write ``obj`` as the entry ``kind/key``; None when it cannot be stored. ``defer``: in the
    ``lisgeo`` command (:func:`defer_writes`), written after it returns (:func:`write_deferred`);
    ``obj`` must not change meanwhile (the network builds are frozen)."""
    path = entry_path(kind, key, ".pickle")
    if defer and _DEFERRED is not None:
        _DEFERRED[(kind, key)] = obj
        return path

    def write(fh: Any) -> None:
        pickle.dump(obj, fh, protocol=pickle.HIGHEST_PROTOCOL)

    return path if _write_atomic(path, write) else None


def load_pickle(kind: str, key: str, expect: type | tuple[type, ...] = object) -> Any:
    """The object stored as ``kind/key`` (of type ``expect``), or None when absent or damaged in
    any way (see the module docstring: a damaged entry is a miss, and removed)."""
    if _DEFERRED and (kind, key) in _DEFERRED:  # kept back by this process: written now, read as any entry
        store_pickle(kind, key, _DEFERRED.pop((kind, key)))

    def decode(payload: memoryview) -> Any:
        from ._gc import gc_paused

        with gc_paused():  # a network: a few hundred thousand dicts
            obj = pickle.loads(payload)
        if not isinstance(obj, expect):
            raise DamagedEntry(f"expected {expect}, found {type(obj).__name__}")
        return obj

    return _entry(entry_path(kind, key, ".pickle"), decode)
