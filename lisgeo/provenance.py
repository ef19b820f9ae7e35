"""What an output was made from: ``provenance.json`` beside every output set, and GeoPackage metadata.

:func:`build_provenance` gathers, for one output set,

* ``lisgeo_version`` and, when lisgeo runs from a git checkout, ``git_commit`` (and ``git_dirty``:
  whether the checkout had uncommitted changes); both are absent otherwise;
* ``created_utc``: the UTC date-time of writing;
* ``command``: the ``lisgeo`` command line (every option, defaults included) when run from the CLI,
  else null;
* ``kind`` (scores, compare, validation, layer, network), ``region``;
* ``scenario`` (name, path, sha256 of the file, ``status``: its ``[status]`` table (state, date,
  source, note), from the frame's ``attrs`` or else read from the scenario file, and
  ``status_text``, the same in plain words, :mod:`lisgeo.status`) and, for comparisons, ``base``
  (the same for the base scenario);
* ``assumptions`` (every modelling value used) with ``assumptions_sha256``, and ``index_config``
  (the index weights) with ``index_config_sha256``;
* ``datasets``: every catalogued dataset read, with publisher, licence, vintage and the pinned
  sha256 of each file (:mod:`lisgeo.catalog`); ``authored_files``: the authored files read
  (sites, HS2, assumptions …) with their sha256 when written;
* ``details``: other facts the frame records (HS2 scheme, index scale, threshold, attribution …);
* ``software`` (:func:`software`): the Python version and implementation, the platform, the
  versions of the main libraries (numpy, pandas, geopandas, shapely, pyogrio, pyproj, pyarrow,
  networkx, scipy, folium, matplotlib, rasterio …) and of the native ones under them (GEOS, GDAL,
  PROJ, SQLite), and lisgeo's ``build`` (:func:`build_info`): the git commit of a checkout, or the
  build record a wheel carries (``lisgeo/_build.json``, written by ``setup.py`` at build time: the
  commit and the build times, kept through an sdist; "unknown (…)" when neither exists).

:func:`add_provenance` adds it to an :func:`lisgeo.io.atomic_set` as ``provenance.json``, with the
sha256 of every other file of the set under ``outputs``; :func:`gpkg_metadata` is the short form
that goes into a GeoPackage's metadata (read it back with ``pyogrio.read_info(path)``);
:func:`write_provenance` writes a record as a file beside outputs written elsewhere (a map, a report).
"""

from __future__ import annotations

import datetime as _dt
import functools
import hashlib
import json
import math
import os
import platform
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any, Iterable, Mapping

from .catalog import get_dataset
from .errors import UnknownNameError

__all__ = ["PROVENANCE_FILE", "NETWORK_LAYERS", "SCORE_LAYERS", "CLAIMS_LAYERS", "MAIN_LIBRARIES", "build_provenance",
           "add_provenance", "write_provenance", "gpkg_metadata", "git_commit", "build_info", "software", "command_line",
           "dataset_records", "layer_datasets", "file_sha256", "json_sha256"]

PROVENANCE_FILE = "provenance.json"

#: Layers :func:`lisgeo.network.build_network` reads for a region's graph.
NETWORK_LAYERS = ("major_roads", "major_road_nodes", "rail_stations", "rail_patterns", "rail_segments", "rail_dwells", "hs2_stations", "hs2_links",
                  "lsoa21_centroids", "lsoa21", "job_destinations", "sites")
#: Layers a scoring run reads (:func:`lisgeo.pipeline.score.load_inputs` and the network).
SCORE_LAYERS = (*NETWORK_LAYERS, "imd2025_main", "jobs_lsoa21", "digital_lsoa21", "stops")
#: Layers :func:`lisgeo.pipeline.claims.recompute_claims` reads.
CLAIMS_LAYERS = ("population_grid", "lsoa21", "major_roads", "major_road_nodes", "commuting_lad")

# the facts a frame's attrs may hold that are worth keeping (beside region, scenario, assumptions, index_config)
_DETAILS = ("layer", "base", "hs2_scheme", "index_scale", "public_transport", "rail_timetable", "rail_timetabled_share",
            "threshold_min", "uncertainty_pct",
            "jobs_beyond_region", "job_destinations_beyond_region", "reference", "attribution")


def _jsonable(obj: Any) -> Any:
    """``obj`` with numpy scalars, paths, sets, tuples and enums turned into JSON types (NaN -> null)."""
    if isinstance(obj, Mapping):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, (set, frozenset)):
        return sorted(_jsonable(v) for v in obj)
    if isinstance(obj, bool) or obj is None or isinstance(obj, (int, str)):
        return obj
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if hasattr(obj, "tolist") and callable(obj.tolist):  # numpy scalars and arrays
        try:
            return _jsonable(obj.tolist())
        except (TypeError, ValueError):
            pass
    if hasattr(obj, "value") and isinstance(getattr(obj, "value"), (str, int)):  # enum
        return obj.value
    if isinstance(obj, os.PathLike):
        return os.fspath(obj)
    return str(obj)


def json_sha256(obj: Any) -> str:
    """sha256 of ``obj`` as canonical JSON (sorted keys, no spaces): equal for equal settings."""
    text = json.dumps(_jsonable(obj), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def file_sha256(path: str | os.PathLike) -> str:
    """sha256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _git(root: Path, *args: str) -> str | None:
    try:
        r = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, timeout=10,
                           stdin=subprocess.DEVNULL)
    except (OSError, subprocess.SubprocessError):
        return None
    return r.stdout.strip() if r.returncode == 0 else None


@functools.cache
def _git_state() -> tuple[str, bool] | None:
    root = Path(__file__).resolve().parents[1]
    if not (root / ".git").exists():  # an installed package, or a checkout inside another repository
        return None
    head = _git(root, "rev-parse", "HEAD")
    if not head or len(head) < 40:
        return None
    status = _git(root, "status", "--porcelain", "--untracked-files=no")
    return head, bool(status)


def git_commit() -> str | None:
    """The commit lisgeo runs from when it runs from a git checkout; None otherwise."""
    state = _git_state()
    return state[0] if state else None


#: The build record a built package carries (written by ``setup.py``; never in a checkout).
BUILD_RECORD = "_build.json"


@functools.cache
def _build_record() -> dict[str, Any] | None:
    path = Path(__file__).with_name(BUILD_RECORD)
    try:
        rec = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return rec if isinstance(rec, dict) and isinstance(rec.get("build_id"), str) else None


def build_info() -> dict[str, Any]:
    """Which build of lisgeo runs: ``build_id`` and what it is made of.

    * From a git checkout (an editable install, or ``PYTHONPATH``): ``source`` "git checkout",
      ``git_commit``, ``git_dirty``; ``build_id`` "<commit[:12]>" (with "+dirty" for uncommitted changes).
    * From a wheel or sdist built by lisgeo's ``setup.py``: its record (``lisgeo/_build.json``):
      ``build_id`` "<commit[:12]>-<wheel build time>", ``git_commit``, ``git_dirty``,
      ``sdist_built_utc``, ``wheel_built_utc``, ``source`` ("git checkout" or "sdist"); a build
      from an sdist made without git says ``build_id`` "unknown (built from an sdist without git)".
    * Otherwise ``build_id`` "unknown (…)"."""
    state = _git_state()
    if state:
        commit, dirty = state
        return {"build_id": commit[:12] + ("+dirty" if dirty else ""), "source": "git checkout",
                "git_commit": commit, "git_dirty": dirty}
    rec = _build_record()
    if rec is not None:
        return dict(rec)
    return {"build_id": "unknown (no build record in the package and not a git checkout)", "source": "unknown"}


#: The libraries whose versions :func:`software` records (distribution name: module name).
MAIN_LIBRARIES = {"numpy": "numpy", "pandas": "pandas", "geopandas": "geopandas", "shapely": "shapely",
                  "pyogrio": "pyogrio", "pyproj": "pyproj", "pyarrow": "pyarrow", "networkx": "networkx",
                  "scipy": "scipy", "folium": "folium", "branca": "branca", "matplotlib": "matplotlib",
                  "mapclassify": "mapclassify", "jenkspy": "jenkspy", "rasterio": "rasterio", "gtfs-kit": "gtfs_kit",
                  "pyreadr": "pyreadr", "openpyxl": "openpyxl", "pooch": "pooch", "click": "click", "igraph": "igraph"}


def _norm(name: str) -> str:
    import re

    return re.sub(r"[-_.]+", "_", name).lower()


@functools.cache
def _dist_versions() -> dict[str, str]:
    """Installed distributions' versions from their ``<name>-<version>.dist-info`` folders on
    ``sys.path`` (the first found wins, as for imports): one folder listing per path entry, a
    millisecond, where a lookup each through importlib.metadata takes about one each."""
    out: dict[str, str] = {}
    for entry in sys.path:
        try:
            names = os.listdir(entry or ".")
        except OSError:
            continue
        for n in names:
            if n.endswith(".dist-info"):
                name, sep, version = n[: -len(".dist-info")].partition("-")
                if sep and version:
                    out.setdefault(_norm(name), version)
    return out


@functools.cache
def _installed(dist: str) -> str | None:
    found = _dist_versions().get(_norm(dist))
    if found is not None:
        return found
    from importlib import metadata

    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def _version(dist: str, module: str) -> str | None:
    """A library's version: from the module when this process has imported it (what ran), else
    the installed distribution's (None: not installed)."""
    mod = sys.modules.get(module)
    v = None
    if mod is not None:
        import warnings

        with warnings.catch_warnings():  # (click deprecates its __version__)
            warnings.simplefilter("ignore")
            v = getattr(mod, "__version__", None)
    return str(v) if v is not None else _installed(dist)


def _native() -> dict[str, str]:
    """The versions of the native libraries under the Python ones (GEOS, GDAL, PROJ, SQLite)."""
    out: dict[str, str] = {}
    for key, module, attr in (("GEOS", "shapely", "geos_version_string"), ("GDAL", "pyogrio", "__gdal_version_string__"),
                              ("PROJ", "pyproj", "proj_version_str"), ("SQLite", "sqlite3", "sqlite_version")):
        try:
            import importlib

            out[key] = str(getattr(importlib.import_module(module), attr))
        except Exception:  # not installed: not recorded
            pass
    return out


def software() -> dict[str, Any]:
    """What software made an output: ``python`` (version), ``implementation``, ``platform``,
    ``lisgeo`` (its version and :func:`build_info`), ``libraries`` (:data:`MAIN_LIBRARIES`: the
    version of each, None when not installed) and ``native`` (GEOS, GDAL, PROJ, SQLite)."""
    from . import __version__

    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": " ".join(x for x in (platform.system(), platform.release(), platform.machine()) if x),
        "lisgeo": {"version": __version__, **build_info()},
        "libraries": {dist: _version(dist, module) for dist, module in MAIN_LIBRARIES.items()},
        "native": _native(),
    }


def command_line() -> str | None:
    """The ``lisgeo`` command being run (with every option's value, defaults included), or None
    outside the command line."""
    try:
        import click
    except ImportError:  # pragma: no cover
        return None
    ctx = click.get_current_context(silent=True)
    if ctx is None:
        return None
    parts = ctx.command_path.split()
    args: list[str] = []
    for p in ctx.command.params:
        if not p.expose_value or p.name not in ctx.params:
            continue
        v = ctx.params[p.name]
        if isinstance(p, click.Argument):
            args += [str(x) for x in (v if isinstance(v, (list, tuple)) else [v]) if x is not None]
            continue
        if v is None or v == () or v == []:
            continue
        opt = max(p.opts, key=len)
        if getattr(p, "is_flag", False):
            if p.secondary_opts:
                parts.append(opt if v else max(p.secondary_opts, key=len))
            elif v:
                parts.append(opt)
            continue
        for x in (v if getattr(p, "multiple", False) else [v]):
            parts += [opt, str(x)]
    return shlex.join(parts + args)


def _combined(files: list[dict[str, Any]]) -> str:
    if len(files) == 1:
        return files[0]["sha256"]
    return hashlib.sha256("\n".join(f"{f['sha256']}  {f['path']}" for f in files).encode()).hexdigest()


def dataset_records(names: Iterable[str]) -> list[dict[str, Any]]:
    """Each catalogued dataset in ``names`` (once, in order): publisher, licence, vintage, the
    pinned sha256 of each file and ``sha256`` (the file's, or for several files the sha256 of their
    ``<sha256>  <path>`` lines)."""
    out = []
    for name in dict.fromkeys(str(n) for n in names):
        try:
            ds = get_dataset(name)
        except UnknownNameError:
            out.append({"name": name, "note": "not in the lisgeo catalog"})
            continue
        files = [{"path": f.path, "sha256": f.sha256, "bytes": f.bytes} for f in ds.files]
        out.append({"name": name, "publisher": ds.publisher, "licence": ds.licence, "vintage": ds.vintage,
                    "sha256": _combined(files), "files": files})
    return out


def layer_datasets(layers: Iterable[str]) -> list[str]:
    """The catalogued datasets behind the named layers (from the layer registry), in order."""
    from .layers._registry import LAYERS, _ensure_loaded

    _ensure_loaded()
    out: list[str] = []
    for name in layers:
        spec = LAYERS.get(name)
        for d in (spec.datasets if spec else ()):
            if d not in out:
                out.append(d)
    return out


def _authored(paths: Iterable[str | os.PathLike]) -> list[dict[str, Any]]:
    out = []
    for p in dict.fromkeys(str(p) for p in paths if p):
        path = Path(p)
        if path.is_file():
            try:
                out.append({"path": str(path), "sha256": file_sha256(path)})
            except OSError:
                out.append({"path": str(path), "sha256": None})
    return out


def _scenario(attrs: Mapping[str, Any], scenario: Any) -> dict[str, Any] | None:
    sc = scenario if scenario is not None else attrs.get("scenario")
    if sc is None:
        return None
    if isinstance(sc, Mapping):
        rec = dict(sc)
    elif hasattr(sc, "name") and hasattr(sc, "path"):  # a lisgeo.network.Scenario
        rec = {"name": sc.name, "path": sc.path, "status": dict(getattr(sc, "status", {}) or {}) or None}
    else:
        rec = {"name": str(sc)}
    rec.setdefault("path", attrs.get("scenario_path") or None)
    status = rec.get("status") or attrs.get("scenario_status") or attrs.get("status")
    st = None
    try:  # the scheme's status: the one recorded, else its scenario file's [status] (by path or name)
        from .status import scheme_status

        if isinstance(status, Mapping) and status.get("state"):
            st = scheme_status(rec.get("name"), status=status)
        else:
            st = scheme_status(rec.get("path") or rec.get("name"))
    except (ValueError, OSError):  # a scenario file that no longer reads: record what the frame says
        st = None
    if st is not None:
        status = dict(status) if isinstance(status, Mapping) and status.get("state") else st.table
        rec["status_text"] = st.text
    rec["status"] = dict(status) if isinstance(status, Mapping) else status
    p = rec.get("path")
    if p and Path(str(p)).is_file():
        try:
            rec["sha256"] = file_sha256(str(p))
        except OSError:
            pass
    return rec


def build_provenance(kind: str, *, attrs: Mapping[str, Any] | None = None, datasets: Iterable[str] = (),
                     region: Any = None, scenario: Any = None, base: Any = None, assumptions: Any = None,
                     index_config: Any = None, authored: Iterable[str | os.PathLike] = (),
                     details: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The provenance record of one output set (see the module docstring).

    ``attrs``: the written frame's ``attrs``; ``region``, ``scenario``, ``assumptions`` and
    ``index_config`` default to theirs (``attrs["region"]``, ``["scenario"]``/``["scenario_path"]``/
    ``["scenario_status"]``, ``["assumptions"]``, ``["index_config"]``). ``datasets``: catalog names
    (default ``attrs["sources"]``). ``authored``: authored files read, hashed now. ``details``:
    anything else to record.
    """
    from . import __version__

    attrs = dict(attrs or {})
    if assumptions is None:
        assumptions = attrs.get("assumptions")
    if hasattr(assumptions, "to_dict"):
        assumptions = assumptions.to_dict()
    if index_config is None:
        index_config = attrs.get("index_config")
    names = list(datasets) or list(attrs.get("sources") or [])
    prov: dict[str, Any] = {"lisgeo_version": __version__}
    state = _git_state()
    if state:
        prov["git_commit"], prov["git_dirty"] = state
    prov.update({
        "created_utc": _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z"),
        "command": command_line(),
        "kind": kind,
        "region": _jsonable(region if region is not None else attrs.get("region")),
        "scenario": _scenario(attrs, scenario),
        "assumptions": _jsonable(assumptions) if assumptions is not None else None,
        "assumptions_sha256": json_sha256(assumptions) if assumptions is not None else None,
        "index_config": _jsonable(index_config) if index_config is not None else None,
        "index_config_sha256": json_sha256(index_config) if index_config is not None else None,
        "datasets": dataset_records(names),
        "authored_files": _authored(authored),
    })
    if base is not None or "base" in attrs:
        prov["base"] = _scenario({"scenario_path": attrs.get("base_path"), "scenario_status": attrs.get("base_status")},
                                 base if base is not None else attrs.get("base"))
    extra = {k: attrs[k] for k in _DETAILS if k in attrs and k != "base"}
    extra.update(details or {})
    prov["details"] = _jsonable(extra)
    prov["software"] = software()
    return _jsonable(prov)


def gpkg_metadata(prov: Mapping[str, Any]) -> dict[str, str]:
    """The short form of ``prov`` for a GeoPackage's metadata (strings only): ``lisgeo_version``,
    ``git_commit``, ``build_id``, ``python``, ``created_utc``, ``region``, ``scenario``, ``scenario_status`` (its state),
    ``scenario_status_text`` (in plain words), ``base`` and ``base_status`` (comparisons),
    ``assumptions_sha256``, ``index_config_sha256``, ``datasets`` (name=sha256, …) and
    ``lisgeo_provenance`` (all of these as one small JSON string)."""
    sc = prov.get("scenario") or {}
    status = sc.get("status") if isinstance(sc, Mapping) else None
    short = {
        "lisgeo_version": prov.get("lisgeo_version"),
        "git_commit": prov.get("git_commit"),
        "build_id": ((prov.get("software") or {}).get("lisgeo") or {}).get("build_id"),
        "python": (prov.get("software") or {}).get("python"),
        "created_utc": prov.get("created_utc"),
        "command": prov.get("command"),
        "kind": prov.get("kind"),
        "region": prov.get("region") if isinstance(prov.get("region"), (str, type(None))) else json.dumps(prov.get("region")),
        "scenario": sc.get("name") if isinstance(sc, Mapping) else None,
        "scenario_status": status.get("state") if isinstance(status, Mapping) else status,
        "scenario_status_text": sc.get("status_text") if isinstance(sc, Mapping) else None,
        "base": (prov.get("base") or {}).get("name") if isinstance(prov.get("base"), Mapping) else None,
        "base_status": ((prov.get("base") or {}).get("status") or {}).get("state")
        if isinstance(prov.get("base"), Mapping) and isinstance(prov["base"].get("status"), Mapping) else None,
        "assumptions_sha256": prov.get("assumptions_sha256"),
        "index_config_sha256": prov.get("index_config_sha256"),
        "datasets": ", ".join(f"{d['name']}={d.get('sha256', '?')}" for d in prov.get("datasets", [])),
    }
    short = {k: str(v) for k, v in short.items() if v not in (None, "")}
    short["lisgeo_provenance"] = json.dumps(short, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return short


def add_provenance(files: Any, prov: Mapping[str, Any], name: str = PROVENANCE_FILE) -> Path:
    """Add ``prov`` to an output set (:class:`lisgeo.io.FileSet`) as ``name``, with the sha256 and
    size of every file already in the set under ``outputs``; returns its final path."""
    outputs = {}
    for n, tmp in files.temporary.items():
        if tmp.is_file():
            outputs[n] = {"sha256": file_sha256(tmp), "bytes": tmp.stat().st_size}
    rec = dict(prov)
    rec["outputs"] = outputs
    return files.write_json(name, rec)


def write_provenance(path: str | os.PathLike, *, kind: str, outputs: Iterable[str | os.PathLike] = (),
                     prov: Mapping[str, Any] | None = None, **fields: Any) -> Path:
    """Write a provenance record as the JSON file ``path`` beside outputs written elsewhere (a
    map, a report): ``prov`` (a record of :func:`build_provenance`) or, without it,
    ``build_provenance(kind, **fields)`` (``attrs=``, ``region=``, ``scenario=``, ``datasets=``,
    ``details=`` …); ``outputs``: files already written, recorded under ``outputs`` with their
    sha256 and size (named relative to the record's folder when inside it). Written atomically,
    an OS error as one line (:mod:`lisgeo.io`); returns ``path``.

    ::

        write_provenance(out / "report.html.provenance.json", kind="report", outputs=[report, *maps],
                         region="d2n2", attrs=scores.attrs, datasets=layer_datasets(SCORE_LAYERS))
    """
    from .io import write_text

    path = Path(path)
    rec = dict(prov) if prov is not None else build_provenance(kind, **fields)
    rec.setdefault("software", software())
    files: dict[str, Any] = {}
    for out in outputs:
        out = Path(out)
        try:
            name = out.resolve().relative_to(path.parent.resolve()).as_posix()
        except ValueError:
            name = str(out)
        files[name] = {"sha256": file_sha256(out), "bytes": out.stat().st_size}
    rec["outputs"] = files
    text = json.dumps(_jsonable(rec), indent=2, sort_keys=True, ensure_ascii=False, default=str) + "\n"
    return write_text(path, text)
