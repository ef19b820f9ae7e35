"""What is real about a scenario's scheme, in plain words: built, under construction, cancelled …

Each scenario file says what is real in its ``[status]`` table (``state``, ``date``, ``source``,
``note``; read by :func:`lisgeo.network.scenario.load_scenario`), and ``layers/scenario_labels.toml``
names the scheme the way a planner does. :func:`scheme_status` joins the two into a
:class:`SchemeStatus`, whose texts every output that shows a scenario prints::

    >>> s = scheme_status("hs2_2b")
    >>> s.text
    'HS2 Phase 2b (East Midlands Hub at Toton) — cancelled 4 October 2023, shown as in the 2020 strategy'
    >>> s.tag            # after a legend title
    'cancelled 2023 — as in the 2020 strategy'
    >>> s.table          # the scenario file's [status] table, as provenance records it
    {'state': 'cancelled', 'date': '2023-10-04', 'source': '...', 'note': '...'}

Used by ``lisgeo network scenarios``, ``lisgeo compare`` (its columns, summary and provenance),
the maps (titles, legends, tooltips) and the report.
"""

from __future__ import annotations

import datetime as _dt
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Mapping

from .config import authored_path, read_toml
from .errors import ConfigError, DataNotFoundError, UnknownNameError

__all__ = ["SchemeStatus", "scheme_status", "frame_status", "live_first", "readable_date", "scenario_labels", "labels_path",
           "STATE_WORDS", "LIVE_STATES"]

#: How each ``[status] state`` is said.
STATE_WORDS: dict[str, str] = {"built": "built", "under_construction": "under construction", "cancelled": "cancelled",
                               "proposed": "proposed", "illustrative": "illustrative only"}
#: States of a scheme that is, or may yet be, real (shown first: what is live leads).
LIVE_STATES = ("built", "under_construction", "proposed")
_ORDER = {s: i for i, s in enumerate(("built", "under_construction", "proposed", "cancelled", "illustrative"))}
_LABEL_KEYS = {"label", "short", "shown_as"}


def labels_path() -> Path:
    """``layers/scenario_labels.toml`` ($LISGEO_LAYERS_DIR if set)."""
    return authored_path("scenario_labels.toml")


def scenario_labels() -> dict[str, dict[str, str]]:
    """``{scenario: {"label": …, "short": …, "shown_as": …}}`` from ``layers/scenario_labels.toml``;
    empty when the file is absent (a planner's older copy of ``layers/``): scenarios are then shown by name."""
    p = labels_path()
    try:
        stamp = p.stat().st_mtime_ns
    except OSError:
        return {}
    return _read_labels(str(p), stamp)


@lru_cache(maxsize=8)
def _read_labels(path: str, stamp: int) -> dict[str, dict[str, str]]:
    raw = read_toml(path, what="scenario labels")
    out: dict[str, dict[str, str]] = {}
    for name, entry in raw.items():
        if not isinstance(entry, dict):
            raise ConfigError(f"{Path(path).name}: [{name}] must be a table with label = \"...\" (and optionally short, shown_as)")
        extra = set(entry) - _LABEL_KEYS
        if extra:
            raise UnknownNameError("scenario label key", sorted(extra)[0], sorted(_LABEL_KEYS), f"Fix [{name}] in {Path(path).name}.")
        bad = [k for k, v in entry.items() if not isinstance(v, str) or not v.strip()]
        if bad:
            raise ConfigError(f"{Path(path).name}: [{name}] {bad[0]} must be non-empty text")
        out[str(name)] = {k: v.strip() for k, v in entry.items()}
    return out


_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December")


def readable_date(value: Any) -> str:
    """``"2023-10-04"`` -> ``"4 October 2023"``, ``"2019-01"`` -> ``"January 2019"``, ``"2023"`` -> ``"2023"``;
    any other text is returned as it is ("" for none)."""
    if value is None:
        return ""
    if isinstance(value, (_dt.date, _dt.datetime)):
        return f"{value.day} {_MONTHS[value.month - 1]} {value.year}"
    s = str(value).strip()
    parts = s.split("-")
    try:
        if len(parts) == 3:
            d = _dt.date(int(parts[0]), int(parts[1]), int(parts[2]))
            return f"{d.day} {_MONTHS[d.month - 1]} {d.year}"
        if len(parts) == 2 and len(parts[0]) == 4 and 1 <= int(parts[1]) <= 12:
            return f"{_MONTHS[int(parts[1]) - 1]} {int(parts[0])}"
    except ValueError:
        return s
    return s


@dataclass(frozen=True)
class SchemeStatus:
    """A scenario's status (its file's ``[status]``) with the scheme's plain name."""

    scenario: str
    state: str
    date: str = ""
    source: str = ""
    note: str = ""
    label: str = ""
    short: str = ""
    shown_as: str = ""

    @property
    def live(self) -> bool:
        """Built, being built or proposed (not cancelled, not an illustration)."""
        return self.state in LIVE_STATES

    @property
    def name(self) -> str:
        """The scheme's plain name (its label, else the scenario's name)."""
        return self.label or self.scenario

    @property
    def when(self) -> str:
        """The status date in words ("4 October 2023")."""
        return readable_date(self.date)

    @property
    def year(self) -> str:
        return str(self.date)[:4] if self.date and str(self.date)[:4].isdigit() else self.when

    @property
    def state_text(self) -> str:
        """The state and its date in words: "cancelled 4 October 2023", "under construction, as of 4 October 2023"."""
        word = STATE_WORDS.get(self.state, self.state.replace("_", " "))
        if not self.when:
            return word
        if self.state == "cancelled":
            return f"{word} {self.when}"
        return f"{word}, as of {self.when}"

    @property
    def brief(self) -> str:
        """The state with the year of a cancellation, for a table heading: "cancelled 2023", "under construction"."""
        word = STATE_WORDS.get(self.state, self.state.replace("_", " "))
        return f"{word} {self.year}" if self.state == "cancelled" and self.year else word

    @property
    def tag(self) -> str:
        """A short status for a legend or a table heading: "cancelled 2023 — as in the 2020 strategy", "under construction"."""
        word = self.brief
        return f"{word} — {self.shown_as}" if self.shown_as and not self.live else word

    @property
    def text(self) -> str:
        """One line for a planner: "HS2 Phase 2b (East Midlands Hub at Toton) — cancelled 4 October 2023, shown as in
        the 2020 strategy"."""
        out = f"{self.name} — {self.state_text}"
        return f"{out}, shown {self.shown_as}" if self.shown_as and not self.live else out

    @property
    def table(self) -> dict[str, str]:
        """The scenario file's ``[status]`` table (the keys it has)."""
        return {k: v for k, v in (("state", self.state), ("date", self.date), ("source", self.source),
                                  ("note", self.note)) if v}


def _from_table(name: str, status: Mapping[str, Any]) -> SchemeStatus:
    lab = scenario_labels().get(name, {})
    return SchemeStatus(scenario=name, state=str(status.get("state", "illustrative")),
                        date=str(status.get("date", "") or ""), source=str(status.get("source", "") or ""),
                        note=str(status.get("note", "") or ""), label=lab.get("label", ""), short=lab.get("short", ""),
                        shown_as=lab.get("shown_as", ""))


def scheme_status(scenario: Any, *, status: Mapping[str, Any] | None = None) -> SchemeStatus | None:
    """The :class:`SchemeStatus` of a scenario (a name in ``layers/scenarios``, a scenario ``.toml`` path or a
    :class:`lisgeo.network.Scenario`); ``status`` gives its ``[status]`` table instead of reading the file.

    None when the scenario is not known (e.g. a hand-made frame's made-up name): the caller shows no status.
    """
    if scenario is None or scenario == "":
        return None
    if isinstance(scenario, SchemeStatus):
        return scenario
    if status is None and hasattr(scenario, "status") and hasattr(scenario, "name"):
        status, scenario = scenario.status, scenario.name
    name = str(scenario)
    if status is None:
        from .network.scenario import load_scenario

        try:
            sc = load_scenario(name)
        except (UnknownNameError, DataNotFoundError):
            return None
        name, status = sc.name, sc.status
    if not isinstance(status, Mapping) or not status.get("state"):
        return None
    key = Path(name).stem if name.endswith(".toml") or os.sep in name or "/" in name else name
    return _from_table(key, status)


def frame_status(frame: Any) -> SchemeStatus | None:
    """The :class:`SchemeStatus` of the scenario a frame was computed for (scores, a comparison): its
    ``attrs["scenario_status"]`` (as :func:`lisgeo.pipeline.score_region` records it), else its scenario
    file read by path or name; None if the frame does not say or the scenario is unknown."""
    attrs = getattr(frame, "attrs", frame) or {}
    name = attrs.get("scenario")
    if not name:
        return None
    status = attrs.get("scenario_status")
    if isinstance(status, Mapping) and status.get("state"):
        return scheme_status(name, status=status)
    return scheme_status(attrs.get("scenario_path") or name)


def live_first(statuses: Iterable[SchemeStatus | None]) -> list[SchemeStatus]:
    """The statuses (once each, Nones dropped) with what is live first: built, under construction, proposed,
    then cancelled and illustrative; in the given order within a state."""
    seen: dict[str, SchemeStatus] = {}
    for s in statuses:
        if s is not None and s.scenario not in seen:
            seen[s.scenario] = s
    return sorted(seen.values(), key=lambda s: _ORDER.get(s.state, len(_ORDER)))
