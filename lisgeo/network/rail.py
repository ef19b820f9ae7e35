"""GB rail and HS2 as graph edges, boarding waits, and named destination groups.

Each classic station has two nodes: ``rail:<CRS>`` (street side, where access links and
interchanges attach; kind ``"station"``) and ``plat:<CRS>`` (platform side; kind ``"station"``,
``side="platform"``). Boarding ``rail:X -> plat:X`` costs the headway wait of X (+
``pt.board_penalty_min``), alighting ``plat:X -> rail:X`` costs 0. Rail links run
``plat:A -> plat:B`` with in-vehicle time = straight length × ``pt.rail_circuity`` / line speed
of the link's length band. HS2 stations are ``hs2:<station_id>`` (concourse, kind ``"hs2"``)
and ``hs2p:<station_id>`` (platform); HS2 links run between platforms (or to the platform
``plat:<CRS>`` of an existing station) at their published times, in both directions, and
interchange links ``hs2:X <-> rail:<CRS>`` for each of ``connects_crs`` cost
``pt.interchange_penalty_min`` plus the walk between the two points.
"""

from __future__ import annotations

import networkx as nx
import numpy as np
import pandas as pd

from ..errors import NetworkError, UnknownNameError
from .assumptions import Assumptions

__all__ = ["headway_wait_min", "line_speed_kmh", "rail_link_times", "add_rail", "add_hs2", "destination_nodes",
           "DESTINATION_GROUPS"]

DESTINATION_GROUPS = ("london", "birmingham", "leeds", "sheffield", "manchester", "nottingham", "derby", "leicester")


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


def add_rail(G: nx.MultiDiGraph, stations: pd.DataFrame, links: pd.DataFrame, assumptions: Assumptions) -> nx.MultiDiGraph:
    """Add classic stations (street and platform nodes, board/alight edges) and rail links.

    ``stations``: [crs, daily_trains, geometry POINT]; ``links``: [from_crs, to_crs, daily_trains,
    length_km] (directed). Links with no trains, or to stations not in ``stations``, are skipped.
    """
    crs = stations["crs"].astype(str).str.upper().to_numpy() if "crs" in stations.columns else stations.index.astype(str).to_numpy()
    x, y = stations.geometry.x.to_numpy(), stations.geometry.y.to_numpy()
    wait = headway_wait_min(stations["daily_trains"].to_numpy(dtype="float64"), assumptions) + assumptions["pt.board_penalty_min"]
    nodes, edges = [], []
    for c, xx, yy, w, n in zip(crs, x, y, wait, stations["daily_trains"].to_numpy(dtype="float64")):
        nodes.append((f"rail:{c}", {"kind": "station", "x": float(xx), "y": float(yy), "crs": c, "daily_trains": float(n)}))
        nodes.append((f"plat:{c}", {"kind": "station", "side": "platform", "x": float(xx), "y": float(yy), "crs": c}))
        if np.isfinite(w):
            edges.append((f"rail:{c}", f"plat:{c}", {"time_min": float(w), "mode": "board"}))
            edges.append((f"plat:{c}", f"rail:{c}", {"time_min": 0.0, "mode": "alight"}))
    G.add_nodes_from(nodes)
    known = set(crs)
    fr = links["from_crs"].astype(str).str.upper().to_numpy()
    to = links["to_crs"].astype(str).str.upper().to_numpy()
    L = links["length_km"].to_numpy(dtype="float64")
    trains = links["daily_trains"].to_numpy(dtype="float64") if "daily_trains" in links.columns else np.ones(len(links))
    ok = np.isin(fr, list(known)) & np.isin(to, list(known)) & (fr != to) & np.isfinite(L) & (L > 0) & (trains > 0)
    t = rail_link_times(L, assumptions)
    for f, tt, tm, lk, n in zip(fr[ok], to[ok], t[ok], L[ok], trains[ok]):
        edges.append((f"plat:{f}", f"plat:{tt}", {"time_min": float(tm), "mode": "rail", "length_km": float(lk), "daily_trains": float(n)}))
    G.add_edges_from(edges)
    G.graph.setdefault("skipped_rail_links", 0)
    G.graph["skipped_rail_links"] += int((~ok).sum())
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
        G.add_node(f"hs2:{sid}", kind="hs2", x=float(g.x), y=float(g.y), name=str(name), connects_crs=str(cc))
        G.add_node(f"hs2p:{sid}", kind="hs2", side="platform", x=float(g.x), y=float(g.y))
        edges.append((f"hs2:{sid}", f"hs2p:{sid}", {"time_min": float(wait), "mode": "board"}))
        edges.append((f"hs2p:{sid}", f"hs2:{sid}", {"time_min": 0.0, "mode": "alight"}))
        for c in [s.strip().upper() for s in str(cc).replace(",", ";").split(";") if s.strip()]:
            node = f"rail:{c}"
            if node not in G:
                continue  # an existing station outside the data: the HS2 station still works on its own
            d = max(float(np.hypot(g.x - G.nodes[node]["x"], g.y - G.nodes[node]["y"])), 1.0) / 1000.0
            tm = assumptions["pt.interchange_penalty_min"] + d * circ / walk * 60.0
            edges.append((f"hs2:{sid}", node, {"time_min": tm, "mode": "interchange", "length_km": d * circ}))
            edges.append((node, f"hs2:{sid}", {"time_min": tm, "mode": "interchange", "length_km": d * circ}))
    known = set(ids)

    def endpoint(v: str) -> str:
        v = str(v).strip()
        if v in known:
            return f"hs2p:{v}"
        if f"plat:{v.upper()}" in G:
            return f"plat:{v.upper()}"
        raise NetworkError(f"HS2 link endpoint {v!r} is neither an HS2 station of the scheme ({sorted(known)}) nor a known CRS code; fix hs2_links.csv")

    for f, t, tm in zip(links["from_id"], links["to_id"], pd.to_numeric(links["time_min"], errors="coerce")):
        if not (np.isfinite(tm) and tm > 0):
            raise NetworkError(f"HS2 link {f}->{t} has time_min {tm}; it must be a positive number of minutes")
        a, b = endpoint(f), endpoint(t)
        edges.append((a, b, {"time_min": float(tm), "mode": "hs2"}))
        edges.append((b, a, {"time_min": float(tm), "mode": "hs2"}))
    G.add_edges_from(edges)
    return G


def destination_nodes(G: nx.MultiDiGraph, name: str) -> list[str]:
    """Street-side nodes of a named destination group present in ``G`` (the time to the group is
    the minimum over them): ``rail:<CRS>`` for the group's CRS codes (assumptions
    ``destinations.<name>``) plus ``hs2:<id>`` of HS2 stations whose ``connects_crs`` includes one."""
    groups = {k.split(".", 1)[1]: v for k, v in G.graph.get("assumptions", {}).items() if k.startswith("destinations.")}
    if not groups:
        from .assumptions import load_assumptions

        groups = {k.split(".", 1)[1]: v for k, v in load_assumptions().items() if k.startswith("destinations.")}
    if name not in groups:
        raise UnknownNameError("destination", name, sorted(groups))
    codes = {c.upper() for c in groups[name]}
    out = [f"rail:{c}" for c in sorted(codes) if f"rail:{c}" in G]
    for n, d in G.nodes(data=True):
        if str(n).startswith("hs2:") and d.get("kind") == "hs2":
            cc = {s.strip().upper() for s in str(d.get("connects_crs", "")).replace(",", ";").split(";") if s.strip()}
            if cc & codes:
                out.append(n)
    if not out:
        raise NetworkError(f"none of the stations of destination {name!r} ({sorted(codes)}) is in the graph")
    return out
