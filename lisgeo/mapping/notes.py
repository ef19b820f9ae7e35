"""The notes a map and the report print beside what they show: how close the journey times are.

:func:`time_modes` finds the travel modes of the journey times a map shows (its layers' columns,
tooltips and table: ``tt_<mode>_…`` and their changes ``d_tt_…``, and drive-time isochrones);
:func:`error_note` says, in plain words, how far such times typically are from published ones,
per class, from ``layers/assumptions.toml`` ``[uncertainty]`` as it reads when the map is drawn
(``intercity_rail_pct``, ``local_rail_pct``, ``urban_car_pct``, ``rural_car_pct``; measured by
``lisgeo validate``, docs/validation.md). No figure is written here: the text follows the file.
"""

from __future__ import annotations

import re
from typing import Any, Iterable, Mapping

__all__ = ["time_modes", "shows_changes", "error_note", "time_column_mode", "NOTE_MODES"]

#: The modes whose time errors the assumptions hold, in the order the note names them.
NOTE_MODES = ("car", "rail")
_TT = re.compile(r"(?:d_)?tt_(?P<mode>[a-z]+)_.+?(?:_base|_scenario|_pm)?")


def time_column_mode(column: str | None) -> str | None:
    """The mode of a journey-time column or of its change (``tt_rail_leeds``, ``d_tt_car_ema``,
    ``tt_rail_london_base``, ``d_tt_rail_london_pm``), or None (ids such as ``tt_car_nearest_ez_id`` too)."""
    if not column or column.endswith("_id"):
        return None
    m = _TT.fullmatch(column)
    return m["mode"] if m else None


def time_modes(spec: Any, layers: Iterable[Any]) -> list[str]:
    """The modes (of :data:`NOTE_MODES`) of the journey times that the prepared ``layers`` of map ``spec``
    show: a layer's column and tooltip fields, the district table's figures, drive-time isochrones."""
    found: set[str] = set()
    layers = list(layers)
    for p in layers:
        ld = p.ldef
        if ld.source == "isochrones":
            found.add("car" if ld.mode == "car" else "rail")
        for c in (ld.column, *ld.tooltip, *ld.popup):
            m = time_column_mode(c)
            if m:
                found.add(m)
    t = getattr(spec, "table", None)
    if t is not None:
        cols = [*t.stats, *(c for more in t.also.values() for c in more)]
        found.update(m for m in map(time_column_mode, cols) if m)
    return [m for m in NOTE_MODES if m in found]


def shows_changes(layers: Iterable[Any]) -> bool:
    """Whether a map shows changes between scenarios (a comparison layer or a ``d_`` column)."""
    return any(p.ldef.source == "compare" or (p.ldef.column or "").startswith("d_") for p in layers)


def _pct(a: Mapping[str, Any], key: str) -> str:
    v = float(a[key])
    return f"±{v:g} %"


def error_note(modes: Iterable[str], assumptions: Mapping[str, Any] | None = None, *, changes: bool = False) -> str:
    """One plain sentence on how close the shown times are, per class, read from the assumptions
    (``uncertainty.*_pct``) now: "" when no car or rail time is shown. ``changes``: the map shows
    changes of times (a comparison), and the note says which changes are within the error."""
    modes = [m for m in NOTE_MODES if m in set(modes)]
    if not modes:
        return ""
    if assumptions is None:
        from ..assumptions import load_assumptions

        assumptions = load_assumptions()
    car = (f"{_pct(assumptions, 'uncertainty.urban_car_pct')} (urban) and "
           f"{_pct(assumptions, 'uncertainty.rural_car_pct')} (rural) of published drive times")
    rail = (f"{_pct(assumptions, 'uncertainty.intercity_rail_pct')} (intercity) and "
            f"{_pct(assumptions, 'uncertainty.local_rail_pct')} (local and regional) of published timetables")
    if modes == ["car", "rail"]:
        text = f"car times are typically within {car}, and its rail times within {rail}"
    elif modes == ["car"]:
        text = f"car times are typically within {car}"
    else:
        text = f"rail times are typically within {rail}"
    out = f"How close are these times? The model's {text} (half are closer than that)"
    if changes:
        out += "; a change smaller than that share of a journey is within the model's error"
    return out + "."
