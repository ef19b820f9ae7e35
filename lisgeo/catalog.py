"""The data catalog: every upstream file lisgeo reads, pinned by URL and sha256.

The catalog itself (``lisgeo/data/catalog.csv``) holds metadata only: dataset name, the
file's path in the ``github/<owner>/<repo>/<path>`` layout, its pinned download URL,
sha256, size, publisher, licence, vintage and attribution text. No data is shipped.

A file is found, in order, in

1. the data folder named by ``LISGEO_DATA_DIR`` (laid out as ``github/<owner>/<repo>/<path>``),
2. the user cache (``LISGEO_CACHE_DIR``, default: the platform cache folder, via pooch),
3. a download of the pinned URL into the cache, verified against the sha256 (pooch).

A file whose hash does not match is refused with :class:`HashMismatchError`; it is never
used. Hashes of local files are checked once per process (keyed on path, size and mtime).
"""

from __future__ import annotations

import csv
import hashlib
import os
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Iterable, Iterator

from .errors import DataNotFoundError, HashMismatchError, UnknownNameError

__all__ = [
    "CatalogFile",
    "Dataset",
    "list_datasets",
    "get_dataset",
    "resolve_file",
    "resolve_dataset",
    "data_dir",
    "cache_dir",
    "verify_files",
    "fetch_files",
    "attribution_for",
]

ENV_DATA_DIR = "LISGEO_DATA_DIR"
ENV_CACHE_DIR = "LISGEO_CACHE_DIR"
ENV_OFFLINE = "LISGEO_OFFLINE"


@dataclass(frozen=True)
class CatalogFile:
    dataset: str
    path: str  # github/<owner>/<repo>/<path>
    url: str
    sha256: str
    bytes: int
    publisher: str
    licence: str
    vintage: str
    attribution: str
    description: str


@dataclass(frozen=True)
class Dataset:
    name: str
    files: tuple[CatalogFile, ...]

    @property
    def publisher(self) -> str:
        return self.files[0].publisher

    @property
    def licence(self) -> str:
        return self.files[0].licence

    @property
    def vintage(self) -> str:
        return self.files[0].vintage

    @property
    def attribution(self) -> str:
        return self.files[0].attribution


@cache
def _catalog() -> dict[str, Dataset]:
    text = resources.files("lisgeo").joinpath("data/catalog.csv").read_text(encoding="utf-8")
    groups: dict[str, list[CatalogFile]] = {}
    for row in csv.DictReader(text.splitlines()):
        row["bytes"] = int(row["bytes"])
        groups.setdefault(row["dataset"], []).append(CatalogFile(**row))
    return {k: Dataset(k, tuple(v)) for k, v in groups.items()}


def list_datasets() -> list[Dataset]:
    """All catalogued datasets, sorted by name."""
    return [v for _, v in sorted(_catalog().items())]


def get_dataset(name: str) -> Dataset:
    """The dataset called ``name``; :class:`UnknownNameError` lists the valid names."""
    try:
        return _catalog()[name]
    except KeyError:
        raise UnknownNameError("dataset", name, sorted(_catalog()), "Run `lisgeo data list` to see them.") from None


def _file_entry(path: str) -> CatalogFile:
    for ds in _catalog().values():
        for f in ds.files:
            if f.path == path:
                return f
    raise UnknownNameError("catalog file", path, [f.path for d in list_datasets() for f in d.files][:20])


def data_dir() -> Path | None:
    """The local data folder from ``LISGEO_DATA_DIR``, or None when unset."""
    value = os.environ.get(ENV_DATA_DIR)
    return Path(value).expanduser() if value else None


def cache_dir() -> Path:
    """The download cache (``LISGEO_CACHE_DIR`` or the platform's user cache)."""
    value = os.environ.get(ENV_CACHE_DIR)
    if value:
        return Path(value).expanduser()
    import pooch

    return Path(pooch.os_cache("lisgeo"))


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


_VERIFIED: dict[tuple[str, int, int], str] = {}


def _check_hash(entry: CatalogFile, path: Path) -> Path:
    st = path.stat()
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    digest = _VERIFIED.get(key)
    if digest is None:
        digest = _sha256(path)
        _VERIFIED[key] = digest
    if digest != entry.sha256:
        raise HashMismatchError(
            f"{path} (dataset {entry.dataset!r}) has sha256 {digest[:12]}… but the catalog pins "
            f"{entry.sha256[:12]}…; the file is corrupt or a different version. Delete it and run "
            f"`lisgeo data fetch`, or point {ENV_DATA_DIR} at an unmodified copy."
        )
    return path


def _candidates(entry: CatalogFile) -> Iterator[Path]:
    d = data_dir()
    if d is not None:
        yield d / entry.path
    yield cache_dir() / entry.path


def resolve_file(path: str | CatalogFile, *, download: bool | None = None) -> Path:
    """Local path of one catalogued file, verified against its sha256.

    Looks in ``LISGEO_DATA_DIR``, then the cache, then downloads into the cache (unless
    ``download=False`` or ``LISGEO_OFFLINE`` is set).
    """
    entry = path if isinstance(path, CatalogFile) else _file_entry(path)
    looked = []
    for cand in _candidates(entry):
        looked.append(str(cand))
        if cand.is_file():
            return _check_hash(entry, cand)
    if download is None:
        download = not os.environ.get(ENV_OFFLINE)
    if not download:
        raise DataNotFoundError(_not_found_message(entry, looked, "downloads are switched off"))
    return _download(entry, looked)


def _not_found_message(entry: CatalogFile, looked: list[str], why: str) -> str:
    where = "; ".join(looked)
    return (
        f"dataset {entry.dataset!r}: file {entry.path} not found (looked in: {where}) and {why}. "
        f"Set {ENV_DATA_DIR} to a folder laid out as github/<owner>/<repo>/<path> (such as ../shared/data), "
        f"or run `lisgeo data fetch` on a machine with internet."
    )


def _download(entry: CatalogFile, looked: list[str]) -> Path:
    import pooch

    target = cache_dir() / entry.path
    try:
        got = pooch.retrieve(
            entry.url,
            known_hash=f"sha256:{entry.sha256}",
            fname=target.name,
            path=target.parent,
            progressbar=False,
        )
    except ValueError as exc:
        if "hash" not in str(exc).lower():  # pooch also raises ValueError for unknown protocols
            raise DataNotFoundError(_not_found_message(entry, looked, f"the download failed ({exc})")) from None
        raise HashMismatchError(
            f"download of {entry.url} (dataset {entry.dataset!r}) does not match the pinned sha256: {exc}. "
            "Nothing was kept; try again later or report the changed upstream file."
        ) from None
    except Exception as exc:  # network errors of all kinds
        reason = "no network connection" if "Resolution" in str(exc) or "Connection" in type(exc).__name__ else str(exc)[:120]
        raise DataNotFoundError(_not_found_message(entry, looked, f"the download failed ({type(exc).__name__}: {reason})")) from None
    return Path(got)


def resolve_dataset(name: str, *, download: bool | None = None) -> list[Path]:
    """Local, verified paths of every file of dataset ``name``, in catalog order."""
    return [resolve_file(f, download=download) for f in get_dataset(name).files]


def attribution_for(datasets: Iterable[str]) -> str:
    """De-duplicated attribution text for a set of datasets."""
    seen: list[str] = []
    for name in datasets:
        text = get_dataset(name).attribution
        if text not in seen:
            seen.append(text)
    return " | ".join(seen)


@dataclass(frozen=True)
class FileStatus:
    dataset: str
    path: str
    status: str  # "ok", "missing", "mismatch"
    location: str


def verify_files(datasets: Iterable[str] | None = None, *, progress: bool = False) -> list[FileStatus]:
    """Check every catalogued file present locally against its sha256 (no downloads)."""
    from tqdm import tqdm

    files = [f for d in list_datasets() if datasets is None or d.name in set(datasets) for f in d.files]
    out = []
    for entry in tqdm(files, disable=not progress, desc="verify", unit="file"):
        found = next((c for c in _candidates(entry) if c.is_file()), None)
        if found is None:
            out.append(FileStatus(entry.dataset, entry.path, "missing", ""))
            continue
        try:
            _check_hash(entry, found)
            out.append(FileStatus(entry.dataset, entry.path, "ok", str(found)))
        except HashMismatchError:
            out.append(FileStatus(entry.dataset, entry.path, "mismatch", str(found)))
    return out


def fetch_files(datasets: Iterable[str] | None = None, *, progress: bool = True) -> list[Path]:
    """Download every catalogued file that is not yet present, verifying hashes."""
    from tqdm import tqdm

    files = [f for d in list_datasets() if datasets is None or d.name in set(datasets) for f in d.files]
    out = []
    for entry in tqdm(files, disable=not progress, desc="fetch", unit="file"):
        out.append(resolve_file(entry, download=True))
    return out
