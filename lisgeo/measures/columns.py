"""Every score column: its name, place in the contract, label, unit, decimals and direction.

One naming scheme, built by one function (:func:`column_name`), read back by one function
(:func:`column`), in the way cityseer builds its measure keys:

==================================  ==========================================================
``tt_<mode>_<target>``              minutes by ``mode`` to ``target`` (a site id, ``nearest_ez``,
                                    ``nearest_station``, a rail destination group)
``jobs_<mode>_<minutes>``           jobs reachable by ``mode`` within ``minutes``
``acc_gravity_<mode>``              Hansen gravity accessibility to jobs by ``mode``
``e2sfca_jobs_<mode>``              jobs per competing resident (E2SFCA) by ``mode``
``d_<column>``                      change ``scenario − base`` of a column (comparisons)
``<tt column>_base|_scenario``      a journey time without / with the scenario (comparisons)
``faster_to``, ``slower_to``        the destinations whose journeys changed (comparisons)
==================================  ==========================================================

Modes are the travel modes of :class:`lisgeo.network.schema.TransportMode`: ``car``, ``rail``
(the strategic model's rail with walk and park-and-ride access), ``transit`` (walk + bus + tram
+ rail from GTFS timetables), ``walk`` and ``bicycle``.

:data:`CONTRACT` is the fixed head of the scores (issue 3's contract); the index weights
(``layers/indices.toml``), the map definitions (``maps/*.toml``) and ``docs/scores.md`` are checked
against this module by the tests.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import UnknownNameError

__all__ = [
    "Column", "column", "column_name", "is_score_column", "direction_of", "CONTRACT", "FIXED_SITES", "SITE_COLUMNS",
    "RAIL_DESTINATIONS",
    "TIME_COLUMNS", "EXTRA_COLUMNS", "ACTIVE_COLUMNS", "DELTA_COLUMNS", "WINNER_COLUMNS", "ID_COLUMNS", "MODE_LABELS", "TARGET_LABELS",
    "destination_labels",
]


@dataclass(frozen=True)
class Column:
    """What a column holds and how to show it."""

    name: str
    label: str
    units: str = ""
    decimals: int = 0
    #: "higher" (more is better), "lower" (less is better: times) or None (ids, flags, text)
    direction: str | None = None
    #: position in :data:`CONTRACT` (0-based), None for extra columns
    contract: int | None = None


#: How each travel mode is named in labels.
MODE_LABELS: dict[str, str] = {"car": "car", "rail": "rail", "transit": "public transport", "walk": "walking",
                               "bicycle": "cycling"}

#: How each target of a ``tt_`` column is named in labels.
TARGET_LABELS: dict[str, str] = {
    "hs2_toton": "HS2 East Midlands Hub (Toton)",
    "hs2_chesterfield": "HS2 Chesterfield",
    "ema": "East Midlands Airport",
    "ratcliffe": "Ratcliffe-on-Soar",
    "nearest_ez": "nearest Enterprise Zone",
    "nearest_station": "nearest railway station",
    "london": "London",
    "birmingham": "Birmingham",
    "leeds": "Leeds",
}

#: The car-time columns to the fixed sites of the contract: column -> site_id (of the sites layer).
FIXED_SITES: dict[str, str] = {
    "tt_car_hs2_toton": "hs2_toton",
    "tt_car_hs2_chesterfield": "hs2_chesterfield",
    "tt_car_ema": "ema",
    "tt_car_ratcliffe": "ratcliffe",
}

#: Rail destination groups of the contract: column -> group (``destinations.<group>`` of the assumptions).
RAIL_DESTINATIONS: dict[str, str] = {"tt_rail_london": "london", "tt_rail_birmingham": "birmingham", "tt_rail_leeds": "leeds"}


def column_name(measure: str, *, mode: str | None = None, target: str | None = None, minutes: float | None = None) -> str:
    """The name of a measure's column in lisgeo's scheme.

    ``column_name("tt", mode="car", target="ema") -> "tt_car_ema"``;
    ``column_name("jobs", mode="rail", minutes=60) -> "jobs_rail_60"``;
    ``column_name("gravity", mode="car") -> "acc_gravity_car"``;
    ``column_name("e2sfca", mode="car") -> "e2sfca_jobs_car"``.
    """
    if mode is not None and mode not in MODE_LABELS:
        raise UnknownNameError("mode", mode, list(MODE_LABELS))
    if measure == "tt" and mode and target:
        return f"tt_{mode}_{target}"
    if measure == "jobs" and mode and minutes is not None:
        m = float(minutes)
        return f"jobs_{mode}_{int(m) if m.is_integer() else m}"
    if measure == "gravity" and mode:
        return f"acc_gravity_{mode}"
    if measure == "e2sfca" and mode:
        return f"e2sfca_jobs_{mode}"
    raise UnknownNameError("measure (with its arguments)", measure, ["tt (mode, target)", "jobs (mode, minutes)",
                                                                     "gravity (mode)", "e2sfca (mode)"])


_FIXED: dict[str, Column] = {c.name: c for c in (
    Column("LSOA21CD", "LSOA 2021 code"),
    Column("LSOA21NM", "Area (LSOA 2021)"),
    Column("LADCD", "District code"),
    Column("LADNM", "District"),
    Column("LEP", "LEP"),
    Column("pop", "Residents (2021)", "people"),
    Column("imd_decile", "IMD 2025 decile (1 = most deprived 10%)"),
    Column("stops_800m", "Bus/tram stops within 800 m", "stops", direction="higher"),
    Column("rail_trains_nearest", "Trains per weekday at nearest station", "trains/day", direction="higher"),
    Column("digital_score", "Digital connectivity score", "", 2, direction="higher"),
    Column("digital_coldspot", "Digital coldspot"),
    Column("connectivity_index", "Connectivity index (0–100)", "", 1, direction="higher"),
    Column("accessibility_index", "Accessibility index (0–100)", "", 1, direction="higher"),
    Column("sustainable_index", "Sustainable-modes accessibility index (0–100)", "", 1, direction="higher"),
    Column("connectivity_decile", "Connectivity decile (1 = least connected)"),
    Column("left_behind", "Left-behind area (poorly connected and deprived)"),
    # extra columns
    Column("tt_car_nearest_ez_id", "Nearest Enterprise Zone site"),
    Column("tt_car_nearest_station_id", "Nearest railway station (by car)"),
    Column("rail_nearest_crs", "Nearest station code"),
    Column("rail_nearest_km", "Straight-line distance to that station", "km", 1),
    Column("jobs", "Jobs", "jobs"),
    Column("digital_indicator", "Digital connectivity indicator (IoD 2025)", "", 2),
    Column("unreachable_flags", "Unreachable destinations"),
    Column("data_flags", "Measures missing for want of data"),
    # comparisons
    Column("outcome", "Outcome"),
    Column("n_faster", "Journeys 5+ min faster", "journeys"),
    Column("n_slower", "Journeys 5+ min slower", "journeys"),
    Column("n_faster_sure", "Journeys faster by more than 5 min and the model's error", "journeys"),
    Column("faster_to", "Faster (5+ min) to"),
    Column("slower_to", "Slower (5+ min) to"),
    Column("scenario_status", "Scheme status"),
    Column("winner", "Winning LSOAs (journeys 5+ min faster)"),
    Column("loser", "Losing LSOAs (journeys 5+ min slower)"),
)}

#: The fixed head of the scores, in order (names, order and units are a contract).
CONTRACT: tuple[str, ...] = (
    "LSOA21CD", "LSOA21NM", "LADCD", "LADNM", "LEP", "pop", "imd_decile",
    *FIXED_SITES, "tt_car_nearest_ez", "tt_car_nearest_station", *RAIL_DESTINATIONS,
    "jobs_car_30", "jobs_car_45", "jobs_car_60", "jobs_rail_60", "acc_gravity_car", "e2sfca_jobs_car",
    "stops_800m", "rail_trains_nearest", "digital_score", "digital_coldspot",
    "connectivity_index", "accessibility_index", "connectivity_decile", "left_behind",
)

#: Contract columns a region has only where the sites are there to time: each fixed site's when it
#: lies within reach of the region (or the region has a district of D2N2 or Leicester and
#: Leicestershire, whose strategies name them), the nearest Enterprise Zone's where the sites data
#: cover the region (docs/scores.md, "Sites"). Absent otherwise, never NaN for want of a site.
SITE_COLUMNS: tuple[str, ...] = (*FIXED_SITES, "tt_car_nearest_ez")

#: Time columns of the contract (minutes; NaN = unreachable, listed in ``unreachable_flags``).
TIME_COLUMNS: tuple[str, ...] = tuple(c for c in CONTRACT if c.startswith("tt_"))

#: Columns that follow the contract in every scores frame.
EXTRA_COLUMNS: tuple[str, ...] = ("tt_car_nearest_ez_id", "tt_car_nearest_station_id", "rail_nearest_crs", "rail_nearest_km",
                                  "jobs", "digital_indicator", "sustainable_index", "unreachable_flags", "data_flags")

#: Walking and cycling accessibility (extra columns of every scores frame).
ACTIVE_COLUMNS: tuple[str, ...] = (
    "jobs_walk_15", "jobs_walk_30", "jobs_walk_45", "acc_gravity_walk",
    "jobs_bicycle_15", "jobs_bicycle_30", "jobs_bicycle_45", "acc_gravity_bicycle",
)

#: The identifying columns every derived table keeps.
ID_COLUMNS: tuple[str, ...] = ("LSOA21CD", "LSOA21NM", "LADCD", "LADNM", "LEP", "pop", "imd_decile")

#: Columns whose change a comparison reports as ``d_<column>``: every measure with a direction.
DELTA_COLUMNS: tuple[str, ...] = tuple(c for c in CONTRACT if c not in ID_COLUMNS and c not in ("digital_coldspot", "left_behind"))

#: Journey times that decide winners and losers (minutes).
WINNER_COLUMNS: tuple[str, ...] = TIME_COLUMNS

_TT = re.compile(r"tt_(?P<mode>[a-z]+)_(?P<target>.+)")
_JOBS = re.compile(r"jobs_(?P<mode>[a-z]+)_(?P<min>\d+(?:\.\d+)?)")
_ACC = re.compile(r"acc_gravity_(?P<mode>[a-z]+)")
_E2 = re.compile(r"e2sfca_jobs_(?P<mode>[a-z]+)")


def _pattern_column(name: str) -> Column | None:
    m = _TT.fullmatch(name)
    if m and m["mode"] in MODE_LABELS and not name.endswith("_id"):
        target = TARGET_LABELS.get(m["target"], m["target"].replace("_", " "))
        return Column(name, f"Time to {target} by {MODE_LABELS[m['mode']]}", "min", direction="lower")
    m = _JOBS.fullmatch(name)
    if m and m["mode"] in MODE_LABELS:
        return Column(name, f"Jobs within {m['min']} min by {MODE_LABELS[m['mode']]}", "jobs", direction="higher")
    m = _ACC.fullmatch(name)
    if m and m["mode"] in MODE_LABELS:
        return Column(name, f"Gravity accessibility to jobs by {MODE_LABELS[m['mode']]}", "jobs (weighted)", direction="higher")
    m = _E2.fullmatch(name)
    if m and m["mode"] in MODE_LABELS:
        return Column(name, f"Jobs per competing resident (E2SFCA, {MODE_LABELS[m['mode']]})", "jobs per resident", 2,
                      direction="higher")
    return None


def destination_labels(columns) -> dict[str, str]:
    """The plain name of each journey-time column's destination, for ``faster_to`` / ``slower_to``:
    ``tt_rail_leeds`` -> "Leeds", ``tt_car_ema`` -> "East Midlands Airport"; a destination reached
    by two of the columns' modes is named with its mode ("London by rail", "London by public transport")."""
    columns = list(columns)
    parsed = {c: _TT.fullmatch(c) for c in columns}
    target = {c: TARGET_LABELS.get(m["target"], m["target"].replace("_", " ")) if m else c for c, m in parsed.items()}
    out = {}
    for c in columns:
        m = parsed[c]
        twice = sum(t == target[c] for t in target.values()) > 1
        out[c] = f"{target[c]} by {MODE_LABELS.get(m['mode'], m['mode'])}" if m and twice else target[c]
    return out


def column(name: str) -> Column:
    """The :class:`Column` of any name of the scheme (contract, extra, pattern and comparison columns).

    Unknown names raise :class:`~lisgeo.errors.UnknownNameError` (use :func:`is_score_column` to test).
    """
    m = re.fullmatch(r"d_(tt_.+)_pm", name)
    if m and _pattern_column(m.group(1)):
        inner = column(m.group(1))
        return Column(name, f"Uncertainty (±) of the change in {inner.label[0].lower()}{inner.label[1:]}", inner.units, 1)
    m = re.fullmatch(r"(tt_.+)_(base|scenario)", name)
    if m and name not in _FIXED and _pattern_column(m.group(1)):
        inner = column(m.group(1))
        side = "without" if m.group(2) == "base" else "with"
        return Column(name, f"{inner.label} ({side} the scenario)", inner.units, inner.decimals, direction=inner.direction)
    if name.startswith("d_") and name not in _FIXED:
        inner = column(name[2:])
        return Column(name, f"Change in {inner.label[0].lower()}{inner.label[1:]}", inner.units, max(inner.decimals, 1),
                      direction=inner.direction)
    c = _FIXED.get(name) or _pattern_column(name)
    if c is None:
        raise UnknownNameError("score column", name, list(CONTRACT) + list(EXTRA_COLUMNS),
                               "Columns follow the scheme tt_<mode>_<target>, jobs_<mode>_<minutes>, acc_gravity_<mode>, "
                               "e2sfca_jobs_<mode> (docs/scores.md).")
    pos = CONTRACT.index(name) if name in CONTRACT else None
    return Column(c.name, c.label, c.units, c.decimals, c.direction, pos)


def is_score_column(name: str) -> bool:
    """True if ``name`` belongs to the scheme (see :func:`column`)."""
    try:
        column(name)
    except UnknownNameError:
        return False
    return True


def direction_of(name: str) -> str | None:
    """"higher", "lower" or None (:attr:`Column.direction`) of a column of the scheme; None if unknown."""
    return column(name).direction if is_score_column(name) else None
