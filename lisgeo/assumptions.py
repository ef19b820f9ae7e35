"""The modelling assumptions: one TOML file, every value with its source, validated at load.

Every modelling constant of lisgeo lives here, once: network speeds, circuities, waits and
penalties, how far each layer reaches beyond a region, the decay and catchment of the
accessibility measures, and the constants of the recomputed strategy claims.
``layers/assumptions.toml`` holds sections (``road``, ``access``, ``walk``, ``pt``, ``hs2``,
``destinations``, ``osm``, ``reach``, ``accessibility``, ``claims``) of entries
``key = { value = ..., unit = ..., source|rationale = ... }``.
:func:`load_assumptions` returns an :class:`Assumptions` mapping of ``"section.key" -> value``
that rejects unknown keys (like a geopandas options object). Every numeric entry states its
plausible range beside its value (``range = [40, 130]``, in the entry's unit; :data:`RANGES` holds
the built-in ones): a value outside it, NaN, infinite, negative or zero speeds, from the file, from
an override or from a scenario's ``[assumptions]`` (:func:`check_assumption`), are refused with a
one-line :class:`~lisgeo.errors.NetworkError` naming the key, the value, the range and the fix.
"""

from __future__ import annotations

import math
import os
from functools import lru_cache
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Iterator

from .config import authored_path, read_toml
from .errors import ConfigError, NetworkError, ParameterError, UnknownNameError

__all__ = ["Assumptions", "load_assumptions", "as_assumptions", "assumptions_path", "check_assumption", "reach_km",
           "SCHEMA", "RANGES", "DECAYS"]

# key -> kind. Kinds: pos (float > 0), nonneg (float >= 0), ratio (float >= 1), int (int >= 1),
# real (any finite float), bool, bands (increasing positive floats), speeds (list of positive floats), crs (list of str),
# names (list of str, may be empty), decay (one of DECAYS).
SCHEMA: dict[str, str] = {
    "road.motorway_kmh": "pos", "road.a_dual_kmh": "pos", "road.a_single_kmh": "pos", "road.a_urban_kmh": "pos",
    "road.urban_density_per_km2": "nonneg", "road.default_kmh": "pos", "road.chord_detour_motorway": "ratio", "road.chord_detour_a_road": "ratio", "road.join_gap_km": "nonneg",
    "access.circuity": "ratio", "access.urban_kmh": "pos", "access.rural_kmh": "pos",
    "access.urban_density_per_km2": "nonneg", "access.k_junctions": "int", "access.max_junction_km": "pos",
    "access.local_max_km": "nonneg", "access.local_k_nearest": "int0", "access.local_k_max_km": "nonneg",
    "access.local_sectors": "int0", "access.local_sector_max_km": "nonneg",
    "access.site_road_km": "pos",
    "walk.walk_kmh": "pos", "walk.max_walk_km": "nonneg", "bicycle.cycle_kmh": "pos",
    "pt.car_max_km": "nonneg", "pt.car_min_stations": "int0", "pt.car_park_min": "nonneg", "pt.car_egress": "bool",
    "pt.stop_penalty_min": "nonneg", "pt.run_kmh": "pos", "pt.run_distance_exponent": "real", "pt.dwell_min": "nonneg",

    "pt.service_span_hours": "pos", "pt.max_wait_min": "pos", "pt.min_wait_min": "nonneg",
    "pt.interchange_penalty_min": "nonneg", "pt.board_penalty_min": "nonneg",
    "hs2.trains_per_hour": "pos", "hs2.hub_classic_trains_per_hour": "pos", "hs2.reuse_station_m": "nonneg",
    "destinations.london": "crs", "destinations.birmingham": "crs", "destinations.leeds": "crs",
    "destinations.sheffield": "crs", "destinations.manchester": "crs", "destinations.nottingham": "crs",
    "destinations.derby": "crs", "destinations.leicester": "crs",
    "osm.motorway_kmh": "pos", "osm.trunk_kmh": "pos", "osm.primary_kmh": "pos", "osm.secondary_kmh": "pos",
    "osm.tertiary_kmh": "pos", "osm.minor_kmh": "pos", "osm.maxspeed_factor": "pos",
    "reach.network_km": "nonneg", "reach.stations_km": "nonneg", "reach.sites_km": "nonneg", "reach.stops_km": "nonneg",
    "reach.hs2_stations_km": "nonneg", "reach.job_destinations_km": "nonneg", "reach.population_grid_km": "nonneg",
    "reach.jobs_km": "nonneg", "reach.blocks_km": "nonneg",
    "accessibility.gravity_half_life_min": "pos", "accessibility.e2sfca_catchment_min": "pos",
    "accessibility.e2sfca_decay": "decay",
    "uncertainty.car_time_pct": "nonneg", "uncertainty.rail_time_pct": "nonneg",
    "uncertainty.intercity_rail_pct": "nonneg", "uncertainty.local_rail_pct": "nonneg",
    "uncertainty.urban_car_pct": "nonneg", "uncertainty.rural_car_pct": "nonneg",
    "claims.off_network_kmh": "pos", "claims.drive_hours": "pos", "claims.miles": "pos",
}

#: The plausible range of every numeric assumption, in the unit of its entry: the built-in default.
#: ``layers/assumptions.toml`` states each range beside its value (``range = [40, 130]``); a value
#: outside the range of the file it is checked against (the file's own, an override, a scenario's
#: ``[assumptions]``) is refused in one line. A planner's copy of the file (``LISGEO_LAYERS_DIR``) may
#: widen a range on purpose; a numeric entry of such a copy without a range takes the one here.
#: The bounds are physical (a walk of 3-7 km/h, a circuity of 1-2) or, for modelling switches and
#: reaches, generous: they catch a slipped digit, not a judgement.
RANGES: dict[str, tuple[float, float]] = {
    # road speeds (km/h): free-flow and average car speeds on British roads; motorways and A roads at most 70 mph (113 km/h) plus a margin
    "road.motorway_kmh": (40.0, 130.0), "road.a_dual_kmh": (30.0, 120.0), "road.a_single_kmh": (25.0, 110.0),
    "road.a_urban_kmh": (10.0, 70.0), "road.default_kmh": (10.0, 130.0),
    "road.urban_density_per_km2": (0.0, 20000.0),  # 0: every cell urban; 20,000: none (the densest 1 km cells hold about 15,000)
    "road.chord_detour_motorway": (1.0, 1.5), "road.chord_detour_a_road": (1.0, 1.5), "road.join_gap_km": (0.0, 10.0),
    "access.circuity": (1.0, 2.0), "access.urban_kmh": (5.0, 60.0), "access.rural_kmh": (10.0, 90.0),
    "access.urban_density_per_km2": (0.0, 20000.0), "access.k_junctions": (1, 10), "access.max_junction_km": (1.0, 200.0),
    "access.local_max_km": (0.0, 50.0), "access.local_k_nearest": (0, 20), "access.local_k_max_km": (0.0, 50.0),
    "access.local_sectors": (0, 16), "access.local_sector_max_km": (0.0, 50.0), "access.site_road_km": (1.0, 100.0),
    "walk.walk_kmh": (3.0, 7.0), "walk.max_walk_km": (0.0, 5.0), "bicycle.cycle_kmh": (8.0, 30.0),
    "pt.car_max_km": (0.0, 100.0), "pt.car_min_stations": (0, 10), "pt.car_park_min": (0.0, 30.0), "pt.stop_penalty_min": (0.0, 10.0),
    "pt.run_kmh": (20.0, 200.0), "pt.run_distance_exponent": (-1.0, 1.0), "pt.dwell_min": (0.0, 10.0),
    "pt.service_span_hours": (1.0, 24.0), "pt.max_wait_min": (1.0, 120.0), "pt.min_wait_min": (0.0, 30.0),
    "pt.interchange_penalty_min": (0.0, 60.0), "pt.board_penalty_min": (0.0, 60.0),
    "hs2.trains_per_hour": (0.5, 20.0), "hs2.hub_classic_trains_per_hour": (0.5, 20.0), "hs2.reuse_station_m": (0.0, 5000.0),
    "osm.motorway_kmh": (40.0, 130.0), "osm.trunk_kmh": (30.0, 120.0), "osm.primary_kmh": (20.0, 110.0),
    "osm.secondary_kmh": (15.0, 100.0), "osm.tertiary_kmh": (10.0, 100.0), "osm.minor_kmh": (5.0, 80.0),
    "osm.maxspeed_factor": (0.2, 1.2),
    **{f"reach.{k}_km": (0.0, 200.0) for k in ("network", "blocks", "stations", "sites", "stops", "hs2_stations", "job_destinations",
                                                "population_grid", "jobs")},
    "accessibility.gravity_half_life_min": (2.0, 120.0), "accessibility.e2sfca_catchment_min": (5.0, 180.0),
    **{f"uncertainty.{k}_pct": (0.0, 100.0) for k in ("car_time", "rail_time", "intercity_rail", "local_rail", "urban_car", "rural_car")},
    "claims.off_network_kmh": (20.0, 130.0), "claims.drive_hours": (0.5, 12.0), "claims.miles": (1.0, 200.0),
}
#: The kinds of :data:`SCHEMA` that are numbers (and so have a range).
NUMERIC = ("pos", "nonneg", "ratio", "int", "int0", "real", "bands", "speeds")
#: The fields an entry of the file may have.
_FIELDS = {"value", "unit", "source", "rationale", "range"}

#: Decay functions of the E2SFCA catchment (``accessibility.e2sfca_decay``).
DECAYS = ("gaussian", "stepped", "binary")


def assumptions_path() -> Path:
    """``layers/assumptions.toml`` ($LISGEO_LAYERS_DIR if set, else ``layers/`` beside the package)."""
    return authored_path("assumptions.toml")


class Assumptions(Mapping):
    """Read-only mapping ``"section.key" -> value`` with the source of each value.

    ``a["road.motorway_kmh"]`` -> 96.0; ``a.source("road.motorway_kmh")`` -> its citation;
    ``a.to_dict()`` -> plain dict (what graphs record in ``G.graph["assumptions"]``).
    """

    def __init__(self, values: dict[str, Any], sources: dict[str, str], path: str,
                 ranges: dict[str, tuple[float, float]] | None = None, units: dict[str, str] | None = None):
        self._values, self._sources, self.path = dict(values), dict(sources), path
        self._ranges = dict(RANGES if ranges is None else ranges)
        self._units = dict(units or {})

    def __getitem__(self, key: str) -> Any:
        try:
            return self._values[key]
        except KeyError:
            raise UnknownNameError("assumption", key, sorted(self._values)) from None

    def __contains__(self, key: object) -> bool:
        return key in self._values

    def get(self, key: str, default: Any = None) -> Any:
        return self._values.get(key, default)

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def source(self, key: str) -> str:
        self[key]
        return self._sources.get(key, "")

    def range(self, key: str) -> tuple[float, float] | None:
        """The plausible range ``(low, high)`` of a numeric key (the file's, else :data:`RANGES`); None for lists and names."""
        self[key]
        return self._ranges.get(key)

    def unit(self, key: str) -> str:
        """The unit the file gives the key (``"km/h"``, ``"min"`` …), or ``""``."""
        self[key]
        return self._units.get(key, "")

    def to_dict(self) -> dict[str, Any]:
        return {k: (list(v) if isinstance(v, (list, tuple)) else v) for k, v in self._values.items()}

    def __repr__(self) -> str:
        return f"Assumptions({len(self)} values from {self.path})"


def _check(key: str, v: Any) -> Any:
    kind = SCHEMA[key]

    def num(x: Any) -> float:
        if isinstance(x, bool) or not isinstance(x, (int, float)):
            raise NetworkError(f"assumption {key!r} must be a number, got {x!r}; fix it in assumptions.toml or the override")
        x = float(x)
        if math.isnan(x) or math.isinf(x):
            raise NetworkError(f"assumption {key!r} is {x}; give a finite number")
        return x

    if kind == "bool":
        if not isinstance(v, bool):
            raise NetworkError(f"assumption {key!r} must be true or false, got {v!r}")
        return v
    if kind in ("int", "int0"):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or float(v) != int(v) or v < (1 if kind == "int" else 0):
            raise NetworkError(f"assumption {key!r} must be a whole number >= {1 if kind == 'int' else 0}, got {v!r}")
        return int(v)
    if kind == "decay":
        if v not in DECAYS:
            raise ConfigError(f"assumption {key!r} must be one of {list(DECAYS)}, got {v!r}")
        return v
    if kind == "crs":
        if not isinstance(v, (list, tuple)) or not v or not all(isinstance(s, str) for s in v):
            raise NetworkError(f"assumption {key!r} must be a non-empty list of CRS codes, got {v!r}")
        return tuple(s.strip().upper() for s in v)
    if kind == "names":
        if not isinstance(v, (list, tuple)) or not all(isinstance(x, str) and x.strip() for x in v):
            raise NetworkError(f"assumption {key!r} must be a list of names (text), e.g. [\"East Coast\"], got {v!r}")
        return tuple(x.strip() for x in v)
    if kind in ("bands", "speeds"):
        if not isinstance(v, (list, tuple)):
            raise NetworkError(f"assumption {key!r} must be a list of numbers, got {v!r}")
        xs = tuple(num(x) for x in v)
        if any(x <= 0 for x in xs):
            raise NetworkError(f"assumption {key!r} has a zero or negative value {xs}; every {'speed' if kind == 'speeds' else 'band'} must be > 0")
        if kind == "bands" and any(b <= a for a, b in zip(xs, xs[1:])):
            raise NetworkError(f"assumption {key!r} must increase, got {xs}")
        return xs
    x = num(v)
    if kind == "pos" and x <= 0:
        what = "speed" if key.endswith("_kmh") else "value"
        raise NetworkError(f"assumption {key!r} is {x}: a {what} must be > 0; fix it in assumptions.toml or the override")
    if kind == "nonneg" and x < 0:
        raise NetworkError(f"assumption {key!r} is {x}: it must be >= 0")
    if kind == "ratio" and x < 1:
        raise NetworkError(f"assumption {key!r} is {x}: a circuity factor must be >= 1 (network distance >= crow-fly)")
    return x


def _resolve_key(name: str) -> str:
    """Override name -> "section.key": accepts "section.key", "section__key" or a unique bare key."""
    if name in SCHEMA:
        return name
    dotted = name.replace("__", ".", 1)
    if dotted in SCHEMA:
        return dotted
    matches = [k for k in SCHEMA if k.split(".", 1)[1] == name]
    if len(matches) == 1:
        return matches[0]
    if len(matches) > 1:
        raise ConfigError(f"assumption {name!r} is ambiguous ({matches}); write it as section__key, e.g. {matches[0].replace('.', '__')}")
    raise UnknownNameError("assumption", name, sorted(SCHEMA), "Use section__key (e.g. road__motorway_kmh) or a key listed in layers/assumptions.toml.")


def _fmt(x: float) -> str:
    """A number as a planner wrote it: 96, 1.3, 1e+300."""
    return f"{x:g}"


def _with_unit(text: str, unit: str) -> str:
    return f"{text} {unit}" if unit and unit not in ("ratio", "count", "exponent", "function", "bool", "CRS") else text


_DEFAULT_LABEL = "layers/assumptions.toml"


def _file_label(path: str) -> str:
    """How a message names an assumptions file: ``layers/assumptions.toml`` for the built-in one,
    else the path (its middle elided when long)."""
    from .config import default_dir

    try:
        if Path(path).resolve() == (default_dir("layers") / "assumptions.toml").resolve():
            return _DEFAULT_LABEL
    except (OSError, RuntimeError):
        pass
    return path if len(path) <= 120 else f"{path[:40]}…{path[-79:]}"


def _in_range(key: str, x: Any, rng: tuple[float, float] | None, unit: str, *, where: str, file: str) -> None:
    """Refuse a checked value (a number, or each number of a list) outside ``rng``, in one line."""
    if rng is None:
        return
    lo, hi = rng
    for v in (x if isinstance(x, tuple) else (x,)):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or lo <= v <= hi:
            continue
        src = "" if where == "file" else f" ({where})"
        widen = ("widen the range in your copy of the file if you really mean it (lisgeo init DIR, then "
                 "LISGEO_LAYERS_DIR=DIR/layers)") if file == _DEFAULT_LABEL else "widen its range in that file if you really mean it"
        raise NetworkError(
            f"assumption {key} = {_with_unit(_fmt(v), unit)}{src} is outside its plausible range "
            f"{_fmt(lo)} to {_with_unit(_fmt(hi), unit)} ({file}); fix the value, or {widen}")


def _check_together(values: Mapping[str, Any], file: str) -> None:
    """Keys that must agree with each other."""
    lo, hi = values.get("pt.min_wait_min"), values.get("pt.max_wait_min")
    if lo is not None and hi is not None and lo > hi:
        raise NetworkError(f"assumptions pt.min_wait_min = {_fmt(lo)} min is more than pt.max_wait_min = {_fmt(hi)} min "
                           f"({file}): a boarding wait is clipped to [min, max]; make the smallest wait no more than the largest")


def _read_range(key: str, entry: Mapping[str, Any], name: str) -> tuple[float, float] | None:
    """The ``range = [low, high]`` of a file entry, checked; the built-in one where the entry has none."""
    numeric = SCHEMA[key] in NUMERIC
    if "range" not in entry:
        return RANGES.get(key) if numeric else None
    r = entry["range"]
    if not numeric:
        raise ConfigError(f"{name}: {key} has a range but its value is not a number; remove the range")
    if (not isinstance(r, list) or len(r) != 2
            or any(isinstance(b, bool) or not isinstance(b, (int, float)) or not math.isfinite(b) for b in r)):
        raise ConfigError(f"{name}: {key} range must be two finite numbers [low, high] in the entry's unit, "
                          f"e.g. range = [40, 130]; got {r!r}")
    lo, hi = float(r[0]), float(r[1])
    if lo > hi:
        raise ConfigError(f"{name}: {key} range [{_fmt(lo)}, {_fmt(hi)}] is backwards; write it [low, high]: "
                          f"range = [{_fmt(hi)}, {_fmt(lo)}]")
    return lo, hi


def check_assumption(key: str, value: Any, *, where: str = "override", path: str | os.PathLike | None = None) -> Any:
    """One value for ``key`` (``"section.key"`` or ``section__key``) checked as :func:`load_assumptions`
    checks an override: its kind, then the plausible range of the assumptions file (``path``, default
    ``layers/assumptions.toml``). ``where`` says where the value comes from in the message (e.g.
    ``"scenario my.toml [assumptions]"``). Returns the value as the model uses it."""
    key = _resolve_key(key)
    p = Path(path) if path is not None else assumptions_path()
    _, _, ranges, units = _read_file(str(p), _mtime(p))
    try:
        x = _check(key, value)
    except (NetworkError, ConfigError) as exc:
        raise type(exc)(f"{exc} ({where})") from None
    _in_range(key, x, ranges.get(key), units.get(key, ""), where=where, file=_file_label(str(p)))
    return x


def _mtime(p: Path) -> int:
    try:
        return p.stat().st_mtime_ns
    except OSError:
        return 0


def load_assumptions(path: str | os.PathLike | None = None, **overrides: Any) -> Assumptions:
    """Read and validate the assumptions file; apply keyword ``overrides``.

    ``path`` defaults to ``layers/assumptions.toml``. Overrides are named ``section__key``
    (``road__motorway_kmh=90``), ``"section.key"`` via ``**{...}``, or by the bare key when it
    is unique (``circuity=1.4``). Unknown keys (in the file or the overrides) raise
    :class:`~lisgeo.errors.UnknownNameError`; missing keys, NaN, infinite, negative or zero speeds
    and values outside the plausible range the file states for the key (``range = [low, high]``;
    :data:`RANGES` where a planner's copy gives none) raise :class:`~lisgeo.errors.NetworkError`
    naming the key, the value and the range.
    """
    p = Path(path) if path is not None else assumptions_path()
    values, sources, ranges, units = _read_file(str(p), _mtime(p))
    values, sources = dict(values), dict(sources)
    file = _file_label(str(p))
    for name, v in overrides.items():
        key = _resolve_key(name)
        values[key] = _check(key, v)
        _in_range(key, values[key], ranges.get(key), units.get(key, ""), where="override", file=file)
        sources[key] = "user override"
    if overrides:
        _check_together(values, f"with the overrides, {file}")
    return Assumptions(values, sources, str(p), ranges=ranges, units=units)


@lru_cache(maxsize=8)
def _read_file(path: str, stamp: int) -> tuple[dict[str, Any], dict[str, str], dict[str, tuple[float, float]], dict[str, str]]:
    """The validated values, sources, plausible ranges and units of one assumptions file (read once
    per modification time)."""
    p = Path(path)
    raw = read_toml(p, what="assumptions")
    file = _file_label(path)
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    ranges: dict[str, tuple[float, float]] = {}
    units: dict[str, str] = {}
    for section, entries in raw.items():
        if not isinstance(entries, dict):
            raise ConfigError(f"{p.name}: top-level {section!r} must be a [section] table")
        for key, entry in entries.items():
            full = f"{section}.{key}"
            if full not in SCHEMA:
                raise UnknownNameError("assumption", full, sorted(SCHEMA), f"Remove it from {p.name} or fix its spelling.")
            if not isinstance(entry, dict) or "value" not in entry:
                raise ConfigError(f"{p.name}: {full} must be a table {{ value = ..., source = \"...\" }}")
            extra = sorted(set(entry) - _FIELDS)
            if extra:
                raise ConfigError(f"{p.name}: {full} has unknown field(s) {extra}; an entry has value, unit, range and "
                                  "source or rationale")
            src = entry.get("source") or entry.get("rationale")
            if not src:
                raise ConfigError(f"{p.name}: {full} has no source or rationale; every assumption must say where it comes from")
            rng = _read_range(full, entry, p.name)
            if rng is not None:
                ranges[full] = rng
            units[full] = str(entry.get("unit", ""))
            values[full] = _check(full, entry["value"])
            _in_range(full, values[full], rng, units[full], where="file", file=file)
            sources[full] = str(src)
    missing = sorted(set(SCHEMA) - set(values))
    if missing:
        raise NetworkError(f"{p.name} lacks assumption(s) {missing}; add them with a value and a source")
    _check_together(values, file)
    return values, sources, ranges, units


def reach_km(name: str, buffer_km: float | None = None) -> float:
    """``buffer_km`` when given, else the default reach ``reach.<name>_km`` of the assumptions
    ``_km`` (how far beyond a region a layer is taken), checked to be a non-negative distance."""
    if buffer_km is None:
        return float(load_assumptions()[f"reach.{name}_km"])
    if isinstance(buffer_km, bool) or not isinstance(buffer_km, (int, float)) or not math.isfinite(buffer_km) or buffer_km < 0:
        raise ParameterError(f"buffer_km must be a non-negative distance in km, got {buffer_km!r}")
    return float(buffer_km)


def as_assumptions(a: "Assumptions | Mapping[str, Any] | None") -> Assumptions:
    """Accept None (defaults), an :class:`Assumptions`, or a mapping of overrides."""
    if a is None:
        return load_assumptions()
    if isinstance(a, Assumptions):
        return a
    if isinstance(a, Mapping):
        return load_assumptions(**dict(a))
    raise ConfigError(f"assumptions must be None, an Assumptions object or a dict of overrides, got {type(a).__name__}")
