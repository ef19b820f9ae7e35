"""GB rail with train identity (Aquius service patterns), HS2, and named destination groups.

Classic stations (``kind="station"``, attribute ``side``):

- ``rail:<CRS>`` (``side="street"``): where a trip *starts* at the station. Access links from
  zones and sites (walk, car) enter it; HS2 interchange links arriving from a concourse enter it.
- ``arr:<CRS>`` (``side="arrival"``): where a train trip *ends*. Alighting enters it at 0 min;
  egress to zones (walk; car only if ``pt.car_egress``) leaves from it; ``rail:X -> arr:X``
  (mode ``"concourse"``, 0 min) lets a traveller who walked in leave again without a train, so
  ``arr:X`` is the node "reached the station by any means" (:func:`destination_nodes` returns it).
- ``arr:X -> rail:X`` (mode ``"interchange"``) costs ``pt.interchange_penalty_min``: every
  boarding after the first pays its wait *and* the penalty, the first boarding only its wait.
  (Leaving to a zone or site and walking back in costs at least the penalty too: links between
  terminals and stations take at least half of it, see :mod:`lisgeo.network.access`.)
- ``svc:<pattern_id>:<CRS>`` (``side="service"``, attribute ``pattern``): a service pattern
  (an ordered list of calling stations with its weekday trains, ``load_rail_patterns``) calling
  at the station; a second call of a looping pattern at the same station is
  ``svc:<pattern_id>:<CRS>:2``. In-vehicle edges ``svc:p:A -> svc:p:B`` (mode ``"rail"``) run
  between consecutive calls at straight length × ``pt.rail_circuity`` / line speed of the
  length band; staying on the train through a station costs nothing extra.
- boarding ``rail:X -> svc:p:X`` (mode ``"board"``) costs the headway wait
  (:func:`headway_wait_min`) of the larger of two train counts: *all* trains leaving X towards the
  pattern's next station, and all trains from X that run on to the pattern's terminus (so two
  routes from Nottingham to St Pancras share one wait: a frequency-based "common lines" approximation;
  the X->next count is ``rail_links.daily_trains``) + ``pt.board_penalty_min``; alighting ``svc:p:Y -> arr:Y``
  (mode ``"alight"``) costs 0. No boarding at a pattern's last call, no alighting at its first.
- ``plat:<CRS>`` (``side="platform"``) is kept for links that carry no train identity: HS2
  links that end at an existing station (``hs2_links.csv`` to_id "YRK", "NOT" ...) and a user's
  ``add_link`` edits. Boarding ``rail:X -> plat:X`` costs the headway wait of every train leaving
  X (``rail_stations.daily_trains``) + ``pt.board_penalty_min``; ``plat:X -> arr:X`` costs 0.
  So a change between such a link and a classic service pays the wait and the penalty too.

HS2 stations are ``hs2:<station_id>`` (concourse, ``kind=NodeKind.HS2``) and ``hs2p:<station_id>``
(platform). HS2 links run between platforms (or to ``plat:<CRS>`` of an existing station) at
their published times, both directions; boarding ``hs2:X -> hs2p:X`` costs the HS2 headway
wait (``hs2.trains_per_hour``), alighting 0. Interchange links for each of ``connects_crs``:
``hs2:X -> rail:<CRS>`` and ``arr:<CRS> -> hs2:X`` cost ``pt.interchange_penalty_min`` plus the
walk between the two points (one penalty per change, as before). Changes between two HS2
services at one HS2 station are not charged a penalty (the HS2 links carry no train identity).
"""

from __future__ import annotations

from typing import Iterable

import networkx as nx
import numpy as np
import pandas as pd

from ..errors import NetworkError, UnknownNameError
from ..assumptions import Assumptions
from .schema import EdgeMode, NodeKind, NodeRole, node_id, node_role, service_node

__all__ = ["headway_wait_min", "line_speed_kmh", "rail_link_times", "add_rail", "add_hs2", "destination_nodes",
           "pattern_stops", "DESTINATION_GROUPS"]

DESTINATION_GROUPS = ("london", "birmingham", "leeds", "sheffield", "manchester", "nottingham", "derby", "leicester")



def _street(crs: str) -> str:
    return node_id(NodeRole.STATION, crs)


def _arrival(crs: str) -> str:
    return node_id(NodeRole.ARRIVAL, crs)


def _platform(crs: str) -> str:
    return node_id(NodeRole.PLATFORM, crs)


def _hs2(sid: str) -> str:
    return node_id(NodeRole.HS2, sid)


def _hs2p(sid: str) -> str:
    return node_id(NodeRole.HS2_PLATFORM, sid)


def headway_wait_min(daily_trains: np.ndarray | pd.Series | float, assumptions: Assumptions) -> np.ndarray:
    """Boarding wait (minutes) = headway / 2, headway = ``pt.service_span_hours`` × 60 / daily trains,
    clipped to [``pt.min_wait_min``, ``pt.max_wait_min``]. NaN where a station has no trains."""
    n = np.asarray(daily_trains, dtype="float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        w = assumptions["pt.service_span_hours"] * 60.0 / n / 2.0
    w = np.clip(w, assumptions["pt.min_wait_min"], assumptions["pt.max_wait_min"])
    return np.where(np.isfinite(n) & (n > 0), w, np.nan)


def line_speed_kmh(length_km: np.ndarray | pd.Series, assumptions: Assumptions) -> np.ndarray:
    """Line speed (km/h) of each link by its straight length band (``pt.line_speed_band_km``)."""
    bands = np.asarray(assumptions["pt.line_speed_band_km"], dtype="float64")
    speeds = np.asarray(assumptions["pt.line_speed_kmh"], dtype="float64")
    return speeds[np.searchsorted(bands, np.asarray(length_km, dtype="float64"), side="left")]


def rail_link_times(length_km: np.ndarray | pd.Series, assumptions: Assumptions) -> np.ndarray:
    """In-vehicle minutes = length_km × ``pt.rail_circuity`` / line speed × 60."""
    L = np.asarray(length_km, dtype="float64")
    return L * assumptions["pt.rail_circuity"] / line_speed_kmh(L, assumptions) * 60.0


def pattern_stops(stops: "str | Iterable[str]") -> list[str]:
    """A pattern's calling stations as a list of upper-case CRS codes (``"NOT;LEI"`` or a sequence)."""
    seq = stops.split(";") if isinstance(stops, str) else list(stops)
    return [str(c).strip().upper() for c in seq if str(c).strip()]


def _pair_trains(seqs: list[tuple[str, list[str], float]], links: pd.DataFrame | None) -> dict[tuple[str, str], float]:
    """Trains per directed consecutive pair: ``links.daily_trains`` where the pair is a link, else
    the sum over the patterns (pid, calls, trains) that run it."""
    out: dict[tuple[str, str], float] = {}
    for _, s, n in seqs:
        for a, b in zip(s[:-1], s[1:]):
            out[(a, b)] = out.get((a, b), 0.0) + float(n)
    if links is not None and len(links):
        fr = links["from_crs"].astype(str).str.upper().to_numpy()
        to = links["to_crs"].astype(str).str.upper().to_numpy()
        tr = links["daily_trains"].to_numpy(dtype="float64")
        for a, b, n in zip(fr, to, tr):
            if (a, b) in out and np.isfinite(n) and n > 0:
                out[(a, b)] = float(n)
    return out


def add_rail(G: nx.MultiDiGraph, stations: pd.DataFrame, patterns: pd.DataFrame, assumptions: Assumptions,
             *, links: pd.DataFrame | None = None) -> nx.MultiDiGraph:
    """Add classic stations and service patterns (see the module docstring for the structure).

    ``stations``: [crs, daily_trains (departures per weekday), geometry POINT] (``rail_stations``).
    ``patterns``: [pattern_id, stops (";"-joined CRS codes or a sequence), daily_trains]
    (``load_rail_patterns``). ``links``: optional ``rail_links`` [from_crs, to_crs, daily_trains]
    whose trains set the boarding waits; pairs missing from it take the patterns' own sum.
    Calls at stations missing from ``stations`` are dropped (the train links the known stations
    either side; counted in ``G.graph["skipped_rail_calls"]``); patterns without trains or with
    fewer than two known calls are skipped (``G.graph["skipped_rail_patterns"]``).
    """
    crs = stations["crs"].astype(str).str.upper().to_numpy() if "crs" in stations.columns else stations.index.astype(str).str.upper().to_numpy()
    x, y = stations.geometry.x.to_numpy(), stations.geometry.y.to_numpy()
    st_trains = stations["daily_trains"].to_numpy(dtype="float64")
    board_pen = float(assumptions["pt.board_penalty_min"])
    wait = headway_wait_min(st_trains, assumptions) + board_pen
    pen = float(assumptions["pt.interchange_penalty_min"])
    nodes, edges = [], []
    pos: dict[str, tuple[float, float]] = {}
    for c, xx, yy, w, n in zip(crs, x, y, wait, st_trains):
        xy = {"x": float(xx), "y": float(yy), "crs": c}
        pos[c] = (float(xx), float(yy))
        nodes.append((_street(c), {"kind": NodeKind.STATION, "side": "street", "daily_trains": float(n), **xy}))
        nodes.append((_arrival(c), {"kind": NodeKind.STATION, "side": "arrival", **xy}))
        nodes.append((_platform(c), {"kind": NodeKind.STATION, "side": "platform", **xy}))
        edges.append((_street(c), _arrival(c), {"time_min": 0.0, "mode": EdgeMode.CONCOURSE}))
        edges.append((_arrival(c), _street(c), {"time_min": pen, "mode": EdgeMode.INTERCHANGE}))
        edges.append((_platform(c), _arrival(c), {"time_min": 0.0, "mode": EdgeMode.ALIGHT}))
        if np.isfinite(w):
            edges.append((_street(c), _platform(c), {"time_min": float(w), "mode": EdgeMode.BOARD}))
    pids = patterns["pattern_id"].astype(str).tolist() if "pattern_id" in patterns.columns else patterns.index.astype(str).tolist()
    skipped_calls = skipped_patterns = 0
    seqs = []
    for pid, stops, n in zip(pids, patterns["stops"], patterns["daily_trains"].to_numpy(dtype="float64")):
        s = pattern_stops(stops)
        known = [c for c in s if c in pos]
        skipped_calls += len(s) - len(known)
        known = [c for i, c in enumerate(known) if i == 0 or c != known[i - 1]]
        if len(known) < 2 or not (np.isfinite(n) and n > 0):
            skipped_patterns += 1
            continue
        seqs.append((pid, known, float(n)))
    pairs = _pair_trains(seqs, links)
    # trains calling at X that run on to the same terminus T (the other half of the "common lines" rule)
    towards: dict[tuple[str, str], float] = {}
    for _, known, n in seqs:
        for c in dict.fromkeys(known[:-1]):
            towards[(c, known[-1])] = towards.get((c, known[-1]), 0.0) + n
    for pid, known, n in seqs:
        seen: dict[str, int] = {}
        ids = []
        for c in known:
            seen[c] = seen.get(c, 0) + 1
            ids.append(service_node(pid, c, seen[c]))
        xy = np.array([pos[c] for c in known])
        L = np.hypot(*np.diff(xy, axis=0).T) / 1000.0
        t = rail_link_times(L, assumptions)
        freq = [max(pairs.get((a, b), n), towards.get((a, known[-1]), n)) for a, b in zip(known[:-1], known[1:])]
        w = headway_wait_min(freq, assumptions) + board_pen
        last = len(known) - 1
        for i, (c, v) in enumerate(zip(known, ids)):
            nodes.append((v, {"kind": NodeKind.STATION, "side": "service", "pattern": pid, "crs": c, "x": pos[c][0], "y": pos[c][1]}))
            if i < last:
                edges.append((_street(c), v, {"time_min": float(w[i]), "mode": EdgeMode.BOARD}))
                edges.append((v, ids[i + 1], {"time_min": float(t[i]), "mode": EdgeMode.RAIL, "length_km": float(L[i]),
                                              "daily_trains": float(n), "pattern": pid}))
            if i > 0:
                edges.append((v, _arrival(c), {"time_min": 0.0, "mode": EdgeMode.ALIGHT}))
    G.add_nodes_from(nodes)
    G.add_edges_from(edges)
    for k, v in (("skipped_rail_calls", skipped_calls), ("skipped_rail_patterns", skipped_patterns)):
        G.graph[k] = int(G.graph.get(k, 0)) + v
    return G


def add_hs2(G: nx.MultiDiGraph, stations: pd.DataFrame, links: pd.DataFrame, assumptions: Assumptions) -> nx.MultiDiGraph:
    """Add HS2 stations (``hs2:<id>`` concourse, ``hs2p:<id>`` platform), HS2 links (both ways)
    and interchange links to the existing stations named in ``connects_crs`` (';'-separated)."""
    ids = stations["station_id"].astype(str).tolist() if "station_id" in stations.columns else stations.index.astype(str).tolist()
    wait = min(assumptions["pt.max_wait_min"], max(assumptions["pt.min_wait_min"], 60.0 / assumptions["hs2.trains_per_hour"] / 2.0))
    wait += assumptions["pt.board_penalty_min"]
    circ, walk = assumptions["access.circuity"], assumptions["walk.walk_kmh"]
    edges = []
    for sid, g, cc, name in zip(ids, stations.geometry, stations.get("connects_crs", pd.Series([""] * len(ids))).fillna(""),
                                stations.get("name", pd.Series(ids))):
        G.add_node(_hs2(sid), kind=NodeKind.HS2, x=float(g.x), y=float(g.y), name=str(name), connects_crs=str(cc))
        G.add_node(_hs2p(sid), kind=NodeKind.HS2, side="platform", x=float(g.x), y=float(g.y))
        edges.append((_hs2(sid), _hs2p(sid), {"time_min": float(wait), "mode": EdgeMode.BOARD}))
        edges.append((_hs2p(sid), _hs2(sid), {"time_min": 0.0, "mode": EdgeMode.ALIGHT}))
        for c in [s.strip().upper() for s in str(cc).replace(",", ";").split(";") if s.strip()]:
            node = _street(c)
            if node not in G:
                continue  # an existing station outside the data: the HS2 station still works on its own
            d = max(float(np.hypot(g.x - G.nodes[node]["x"], g.y - G.nodes[node]["y"])), 1.0) / 1000.0
            tm = assumptions["pt.interchange_penalty_min"] + d * circ / walk * 60.0
            edges.append((_hs2(sid), node, {"time_min": tm, "mode": EdgeMode.INTERCHANGE, "length_km": d * circ}))
            # from the classic side: trips that arrived by train (arr:) or walked in (rail: -> arr: at 0)
            src = _arrival(c) if _arrival(c) in G else node
            edges.append((src, _hs2(sid), {"time_min": tm, "mode": EdgeMode.INTERCHANGE, "length_km": d * circ}))
    known = set(ids)

    def endpoint(v: str) -> str:
        v = str(v).strip()
        if v in known:
            return _hs2p(v)
        if _platform(v.upper()) in G:
            return _platform(v.upper())
        raise NetworkError(f"HS2 link endpoint {v!r} is neither an HS2 station of the scheme ({sorted(known)}) nor a known CRS code; fix hs2_links.csv")

    for f, t, tm in zip(links["from_id"], links["to_id"], pd.to_numeric(links["time_min"], errors="coerce")):
        if not (np.isfinite(tm) and tm > 0):
            raise NetworkError(f"HS2 link {f}->{t} has time_min {tm}; it must be a positive number of minutes")
        a, b = endpoint(f), endpoint(t)
        edges.append((a, b, {"time_min": float(tm), "mode": EdgeMode.HS2}))
        edges.append((b, a, {"time_min": float(tm), "mode": EdgeMode.HS2}))
    G.add_edges_from(edges)
    return G


def destination_nodes(G: nx.MultiDiGraph, name: str) -> list[str]:
    """Nodes of a named destination group present in ``G`` (the time to the group is the minimum
    over them): the arrival side ``arr:<CRS>`` of the group's stations (assumptions
    ``destinations.<name>``; reached by alighting or, on foot, through ``rail:<CRS>``; graphs
    without arrival nodes give ``rail:<CRS>``) plus ``hs2:<id>`` of HS2 stations whose
    ``connects_crs`` includes one of the codes."""
    groups = {k.split(".", 1)[1]: v for k, v in G.graph.get("assumptions", {}).items() if k.startswith("destinations.")}
    if not groups:
        from ..assumptions import load_assumptions

        groups = {k.split(".", 1)[1]: v for k, v in load_assumptions().items() if k.startswith("destinations.")}
    if name not in groups:
        raise UnknownNameError("destination", name, sorted(groups))
    codes = {c.upper() for c in groups[name]}
    out = []
    for c in sorted(codes):
        if _arrival(c) in G:
            out.append(_arrival(c))
        elif _street(c) in G:
            out.append(_street(c))
    for n, d in G.nodes(data=True):
        if node_role(n) is NodeRole.HS2:
            cc = {s.strip().upper() for s in str(d.get("connects_crs", "")).replace(",", ";").split(";") if s.strip()}
            if cc & codes:
                out.append(n)
    if not out:
        raise NetworkError(f"none of the stations of destination {name!r} ({sorted(codes)}) is in the graph")
    return out
