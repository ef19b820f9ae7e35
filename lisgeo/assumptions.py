"""The modelling assumptions: one TOML file, every value with its source, validated at load.

Every modelling constant of lisgeo lives here, once: network speeds, circuities, waits and
penalties, how far each layer reaches beyond a region, the decay and catchment of the
accessibility measures, and the constants of the recomputed strategy claims.
``layers/assumptions.toml`` holds sections (``road``, ``access``, ``walk``, ``pt``, ``hs2``,
``destinations``, ``osm``, ``reach``, ``accessibility``, ``claims``) of entries
``key = { value = ..., unit = ..., source|rationale = ... }``.
:func:`load_assumptions` returns an :class:`Assumptions` mapping of ``"section.key" -> value``
that rejects unknown keys (like a geopandas options object) and refuses NaN, negative or zero
speeds with a :class:`~lisgeo.errors.NetworkError` naming the key.
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

__all__ = ["Assumptions", "load_assumptions", "as_assumptions", "assumptions_path", "reach_km", "SCHEMA", "DECAYS"]

# key -> kind. Kinds: pos (float > 0), nonneg (float >= 0), ratio (float >= 1), int (int >= 1),
# real (any finite float), bool, bands (increasing positive floats), speeds (list of positive floats), crs (list of str),
# names (list of str, may be empty), decay (one of DECAYS).
SCHEMA: dict[str, str] = {
    "road.motorway_kmh": "pos", "road.a_dual_kmh": "pos", "road.a_single_kmh": "pos", "road.a_urban_kmh": "pos",
    "road.urban_density_per_km2": "nonneg", "road.default_kmh": "pos", "road.chord_detour_motorway": "ratio", "road.chord_detour_a_road": "ratio",
    "access.circuity": "ratio", "access.urban_kmh": "pos", "access.rural_kmh": "pos",
    "access.urban_density_per_km2": "nonneg", "access.k_junctions": "int", "access.max_junction_km": "pos",
    "access.local_max_km": "nonneg", "access.local_k_nearest": "int0", "access.local_k_max_km": "nonneg",
    "access.local_sectors": "int0", "access.local_sector_max_km": "nonneg",
    "access.site_road_km": "pos",
    "walk.walk_kmh": "pos", "walk.max_walk_km": "nonneg", "bicycle.cycle_kmh": "pos",
    "pt.car_max_km": "nonneg", "pt.car_park_min": "nonneg", "pt.car_egress": "bool",
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
    "reach.jobs_km": "nonneg",
    "accessibility.gravity_half_life_min": "pos", "accessibility.e2sfca_catchment_min": "pos",
    "accessibility.e2sfca_decay": "decay",
    "uncertainty.car_time_pct": "nonneg", "uncertainty.rail_time_pct": "nonneg",
    "uncertainty.intercity_rail_pct": "nonneg", "uncertainty.local_rail_pct": "nonneg",
    "uncertainty.urban_car_pct": "nonneg", "uncertainty.rural_car_pct": "nonneg",
    "claims.off_network_kmh": "pos", "claims.drive_hours": "pos", "claims.miles": "pos",
}

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

    def __init__(self, values: dict[str, Any], sources: dict[str, str], path: str):
        self._values, self._sources, self.path = dict(values), dict(sources), path

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


def load_assumptions(path: str | os.PathLike | None = None, **overrides: Any) -> Assumptions:
    """Read and validate the assumptions file; apply keyword ``overrides``.

    ``path`` defaults to ``layers/assumptions.toml``. Overrides are named ``section__key``
    (``road__motorway_kmh=90``), ``"section.key"`` via ``**{...}``, or by the bare key when it
    is unique (``circuity=1.4``). Unknown keys (in the file or the overrides) raise
    :class:`~lisgeo.errors.UnknownNameError`; missing keys, NaN, negative or zero speeds raise
    :class:`~lisgeo.errors.NetworkError` naming the key.
    """
    p = Path(path) if path is not None else assumptions_path()
    try:
        stamp = p.stat().st_mtime_ns
    except OSError:
        stamp = 0
    values, sources = _read_file(str(p), stamp)
    values, sources = dict(values), dict(sources)
    for name, v in overrides.items():
        key = _resolve_key(name)
        values[key] = _check(key, v)
        sources[key] = "user override"
    return Assumptions(values, sources, str(p))


@lru_cache(maxsize=8)
def _read_file(path: str, stamp: int) -> tuple[dict[str, Any], dict[str, str]]:
    """The validated values and sources of one assumptions file (read once per modification time)."""
    p = Path(path)
    raw = read_toml(p, what="assumptions")
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for section, entries in raw.items():
        if not isinstance(entries, dict):
            raise ConfigError(f"{p.name}: top-level {section!r} must be a [section] table")
        for key, entry in entries.items():
            full = f"{section}.{key}"
            if full not in SCHEMA:
                raise UnknownNameError("assumption", full, sorted(SCHEMA), f"Remove it from {p.name} or fix its spelling.")
            if not isinstance(entry, dict) or "value" not in entry:
                raise ConfigError(f"{p.name}: {full} must be a table {{ value = ..., source = \"...\" }}")
            src = entry.get("source") or entry.get("rationale")
            if not src:
                raise ConfigError(f"{p.name}: {full} has no source or rationale; every assumption must say where it comes from")
            values[full] = _check(full, entry["value"])
            sources[full] = str(src)
    missing = sorted(set(SCHEMA) - set(values))
    if missing:
        raise NetworkError(f"{p.name} lacks assumption(s) {missing}; add them with a value and a source")
    return values, sources


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
