"""Scenarios: which HS2 scheme is on, assumption overrides, and a user's own edits to the graph.

A scenario is a TOML file in ``layers/scenarios/``::

    name = "my_edit_example"
    description = "..."
    hs2_scheme = "none"            # or "hs2_2b", "irp", "hs2_phase1" (lisgeo.layers.sites.list_hs2_schemes())
    [status]                        # what is real: state, date, source
    state = "illustrative"          # built | under_construction | cancelled | proposed | illustrative
    date = "2026-12-01"
    source = "..."
    [assumptions]                   # optional overrides, same keys as layers/assumptions.toml
    "pt.interchange_penalty_min" = 8
    [[edits]]
    op = "add_link"                 # from, to (node ids), time_min > 0, mode, both_ways (default false);
                                    # a new train service: from "rail:<CRS>" (street side) to
                                    # "arr:<CRS>" (arrival side), time_min = its wait + its ride
    [[edits]]
    op = "close_station"            # crs: no boarding, alighting, access or egress there; trains run through
    [[edits]]
    op = "set_speed"                # road_class, kmh: new speed of every road link of that class

Unknown keys or ops are refused; an edit that names a node missing from the graph raises
:class:`~lisgeo.errors.NetworkError` naming it. Every number is checked when the file is read, in
one line naming the file, the key, the value and the range: an ``[assumptions]`` value against the
plausible range ``layers/assumptions.toml`` states for it (:func:`lisgeo.assumptions.check_assumption`),
an edit's ``time_min`` and ``kmh`` against :data:`EDIT_RANGES`.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import networkx as nx

from ..assumptions import SCHEMA, check_assumption
from ..config import authored_path, read_toml
from ..errors import ConfigError, DataNotFoundError, NetworkError, UnknownNameError
from .schema import EdgeMode, NodeRole, forget_edge_log, node_code, node_id, node_role

__all__ = ["Scenario", "scenarios_dir", "list_scenarios", "load_scenario", "apply_edits", "EDGE_MODES", "STATES"]

#: Edge modes a scenario's ``add_link`` may give (every :class:`~lisgeo.network.schema.EdgeMode`).
EDGE_MODES = tuple(m.value for m in EdgeMode)
_EDIT_KEYS = {
    "add_link": {"op", "from", "to", "time_min", "mode", "both_ways", "note"},
    "close_station": {"op", "crs", "note"},
    "set_speed": {"op", "road_class", "kmh", "note"},
}
_TOP_KEYS = {"name", "description", "hs2_scheme", "assumptions", "edits", "source", "status"}
#: The plausible range of an edit's numbers: ``add_link`` ``time_min`` (minutes: from a walk across a
#: station, 0.1 min, to a ten-hour journey) and ``set_speed`` ``kmh`` (a road class's new speed: from a
#: crawl through roadworks, 5 km/h, to 130 km/h, above every British speed limit).
EDIT_RANGES: dict[tuple[str, str], tuple[float, float, str]] = {
    ("add_link", "time_min"): (0.1, 600.0, "min"),
    ("set_speed", "kmh"): (5.0, 130.0, "km/h"),
}
#: What a scenario's ``[status] state`` may say about the scheme it models.
STATES = ("built", "under_construction", "cancelled", "proposed", "illustrative")


@dataclass(frozen=True)
class Scenario:
    """A parsed, validated scenario file."""

    name: str
    description: str = ""
    hs2_scheme: str | None = None
    status: dict[str, str] = field(default_factory=dict)
    assumptions: dict[str, Any] = field(default_factory=dict)
    edits: tuple[dict[str, Any], ...] = ()
    path: str = ""


def scenarios_dir() -> Path:
    """``layers/scenarios`` ($LISGEO_LAYERS_DIR/scenarios if set)."""
    return authored_path("scenarios")


def list_scenarios() -> list[str]:
    """Names of the scenario files in ``layers/scenarios`` (without ``.toml``)."""
    d = scenarios_dir()
    return sorted(p.stem for p in d.glob("*.toml")) if d.is_dir() else []


def _edit(i: int, e: Any, where: str) -> dict[str, Any]:
    if not isinstance(e, dict) or "op" not in e:
        raise ConfigError(f"{where}: edit #{i + 1} must be a table with an 'op' ({', '.join(_EDIT_KEYS)})")
    op = e["op"]
    if op not in _EDIT_KEYS:
        raise UnknownNameError("scenario edit op", op, list(_EDIT_KEYS), f"Fix edit #{i + 1} in {where}.")
    extra = set(e) - _EDIT_KEYS[op]
    if extra:
        raise ConfigError(f"{where}: edit #{i + 1} ({op}) has unknown key(s) {sorted(extra)}; allowed: {sorted(_EDIT_KEYS[op])}")
    need = {"add_link": ("from", "to", "time_min", "mode"), "close_station": ("crs",), "set_speed": ("road_class", "kmh")}[op]
    miss = [k for k in need if k not in e]
    if miss:
        raise ConfigError(f"{where}: edit #{i + 1} ({op}) lacks {miss}")
    e = dict(e)
    for (eop, key), (lo, hi, unit) in EDIT_RANGES.items():
        if op == eop:
            what = f"add_link {e['from']}->{e['to']}" if op == "add_link" else f"set_speed {e['road_class']!r}"
            v = e[key]
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v <= 0:
                raise NetworkError(f"{where}: edit #{i + 1} {what} has {key} {v!r}; give a number of {unit} "
                                   f"from {lo:g} to {hi:g}")
            if not lo <= v <= hi:
                raise NetworkError(f"{where}: edit #{i + 1} {what} has {key} = {v:g} {unit}, outside its plausible range "
                                   f"{lo:g} to {hi:g} {unit}; fix the value")
    if op == "add_link":
        t = e["time_min"]
        if e["mode"] not in EDGE_MODES:
            raise UnknownNameError("edge mode", e["mode"], list(EDGE_MODES), f"Fix edit #{i + 1} in {where}.")
        if str(e["from"]).strip() == str(e["to"]).strip():
            raise ConfigError(f"{where}: edit #{i + 1} add_link goes from {e['from']!r} to itself; give two different node ids")
        e["time_min"] = float(t)
        e["both_ways"] = bool(e.get("both_ways", False))
    if op == "set_speed":
        e["kmh"] = float(e["kmh"])
    if op == "close_station":
        e["crs"] = str(e["crs"]).strip().upper()
    return e


def load_scenario(name_or_path: "str | os.PathLike | Scenario" = "base") -> Scenario:
    """Read and validate a scenario by name (a file in ``layers/scenarios``) or by path."""
    if isinstance(name_or_path, Scenario):
        return name_or_path
    s = str(name_or_path)
    p = Path(s)
    if not (s.endswith(".toml") or os.sep in s or "/" in s):
        p = scenarios_dir() / f"{s}.toml"
        if not p.is_file():
            raise UnknownNameError("scenario", s, list_scenarios(), f"Scenario files live in {scenarios_dir()}.")
    elif not p.is_file():
        raise DataNotFoundError(f"scenario file {s!r} does not exist; check the path")
    raw = read_toml(p, what="scenario")
    extra = set(raw) - _TOP_KEYS
    if extra:
        raise ConfigError(f"scenario {p.name} has unknown key(s) {sorted(extra)}; allowed: {sorted(_TOP_KEYS)}")
    scheme = raw.get("hs2_scheme", "none")
    scheme = None if scheme in (None, "", "none") else str(scheme)
    if scheme is not None:
        from ..layers.sites import list_hs2_schemes

        if scheme not in list_hs2_schemes():
            raise UnknownNameError("HS2 scheme", scheme, ["none", *list_hs2_schemes()], f"Fix hs2_scheme in {p.name}.")
    over = raw.get("assumptions", {}) or {}
    if not isinstance(over, dict):
        raise ConfigError(f"scenario {p.name}: [assumptions] must be a table of overrides")
    for k, v in over.items():
        kk = k.replace("__", ".", 1)
        if kk not in SCHEMA:
            raise UnknownNameError("assumption", k, sorted(SCHEMA), f"Fix [assumptions] in {p.name}.")
        check_assumption(kk, v, where=f"scenario {p.name} [assumptions]")  # its kind and plausible range, at entry
    if over:
        from ..assumptions import load_assumptions

        try:  # keys that must agree with each other (the smallest boarding wait no more than the largest)
            load_assumptions(**{k.replace("__", ".", 1): v for k, v in over.items()})
        except NetworkError as exc:
            raise NetworkError(f"scenario {p.name} [assumptions]: {exc}") from None
    status = raw.get("status") or {"state": "illustrative", "note": "no [status] table in the file"}
    if not isinstance(status, dict) or set(status) - {"state", "date", "source", "note"} or "state" not in status:
        raise ConfigError(f"scenario {p.name}: [status] must be a table with state (one of {list(STATES)}), date, source")
    if status["state"] not in STATES:
        raise ConfigError(f"scenario {p.name}: status state {status['state']!r} is not one of {list(STATES)}")
    if status["state"] != "illustrative" and not (status.get("date") and status.get("source")):
        raise ConfigError(f"scenario {p.name}: a {status['state']} scheme needs a status date and source")
    edits = raw.get("edits", []) or []
    if not isinstance(edits, list):
        raise ConfigError(f"scenario {p.name}: edits must be an array of tables ([[edits]])")
    edits = tuple(_edit(i, e, p.name) for i, e in enumerate(edits))
    return Scenario(name=str(raw.get("name", p.stem)), description=str(raw.get("description", "")), hs2_scheme=scheme,
                    status={k: str(v) for k, v in status.items()},
                    assumptions={k.replace("__", ".", 1): v for k, v in over.items()}, edits=edits, path=str(p))


def _reverse(u: str, v: str) -> tuple[str, str]:
    """The reverse of a link: a train from X's street side to Y's arrival side returns from Y's
    street side to X's arrival side (so changes onto and off it pay the interchange penalty)."""
    if node_role(u) is NodeRole.STATION and node_role(v) is NodeRole.ARRIVAL:
        return node_id(NodeRole.STATION, node_code(v)), node_id(NodeRole.ARRIVAL, node_code(u))
    return v, u


def apply_edits(G: nx.MultiDiGraph, edits: "tuple[dict[str, Any], ...] | list[dict[str, Any]]", *, where: str = "scenario") -> nx.MultiDiGraph:
    """Apply validated edits to ``G`` in place (see the module docstring); returns ``G``."""
    if edits:
        forget_edge_log(G)  # edges change in place: the engines read them from the graph
    for i, e in enumerate(edits):
        op = e["op"]
        if op == "add_link":
            for n in (e["from"], e["to"]):
                if n not in G:
                    raise NetworkError(f"{where}: edit #{i + 1} add_link refers to node {n!r}, which is not in the graph; "
                                       "node ids look like 'road:123', 'rail:NOT' (a station's street side), 'arr:NOT' "
                                       "(its arrival side), 'zone:E01...', 'site:ema'")
            attrs = {"time_min": e["time_min"], "mode": EdgeMode(e["mode"]), "edit": i + 1}
            G.add_edge(e["from"], e["to"], **attrs)
            if e.get("both_ways"):
                a, b = _reverse(e["from"], e["to"])
                G.add_edge(a, b, **dict(attrs))
        elif op == "close_station":
            street, arr = (node_id(r, e["crs"]) for r in (NodeRole.STATION, NodeRole.ARRIVAL))
            if street not in G:
                raise NetworkError(f"{where}: edit #{i + 1} close_station refers to station {e['crs']!r}, which is not in the graph")
            # every edge of the street and arrival sides goes (access, egress, trains from and to
            # it, changes); services between other stations stay, so trains run through
            drop = []
            for n in (street, arr):
                if n in G:
                    drop += list(G.in_edges(n, keys=True)) + list(G.out_edges(n, keys=True))
            G.remove_edges_from(drop)
            for n in (street, arr):
                if n in G:
                    G.nodes[n]["closed"] = True
        elif op == "set_speed":
            rc = str(e["road_class"])
            n = 0
            for _, _, d in G.edges(data=True):
                if d.get("mode") == EdgeMode.ROAD and d.get("road_class") == rc:
                    d["time_min"] = d["length_km"] / e["kmh"] * 60.0
                    n += 1
            if n == 0:
                have = sorted({d.get("road_class") for *_, d in G.edges(data=True) if d.get("mode") == EdgeMode.ROAD})
                raise NetworkError(f"{where}: edit #{i + 1} set_speed: no road links of class {rc!r}; classes in the graph: {have}")
    G.graph.setdefault("edits", [])
    G.graph["edits"] = list(G.graph["edits"]) + [dict(e) for e in edits]
    return G
