"""Validate the model: every modelled time against an independent published figure, with the error shown.

The validation set is authored in ``layers/validation/journey_times.csv`` (every row with its
source, see ``layers/validation/README.md``); :func:`validate_times` computes the model's time for
each pair on the network of the pair's scenario and :func:`lisgeo.measures.validation.headline_summary`
summarises the errors per class beside a naive crow-fly baseline: the published pairs (quoted or
derived) are the headline, the recalled ones are reported apart. No constant of the model is fitted
on this set (the rail running-time model is fitted on a timetable, with held-out pairs; the road
speeds come from published statistics): every figure is out of sample. ``lisgeo validate`` writes
``validation.csv``, ``summary.csv`` and ``scatter.png``; ``docs/validation.md`` records the figures.

How each class is modelled:

* ``intercity_rail``, ``local_rail``: station to station as a timetable shows it – from boarding a
  train at the origin (no first wait: a timetable time starts at departure) to arriving at the
  destination, with the waits and interchange time of any change of train;
* ``hs2``: the same on the scenario's network, between HS2 platforms and classic stations;
* ``urban_car``, ``rural_car``: door to door by car between the two points, each joined to the
  network as a zone is (:mod:`lisgeo.network.access`);
* ``pt_door_to_door``: bus and coach times between town centres. The strategic model has no buses,
  so these pairs stay unmodelled (status says so) unless a GTFS timetable is given.

:func:`validate_timetable` adds an independent, out-of-sample check: every pair of stations that one
train of a real GTFS rail timetable serves (by default the national rail timetable of Tuesday 5
March 2024 around Newport, South Wales, catalogued as ``gtfs_newport_rail``: Wales, the West and
CrossCountry to Birmingham, Derby and Nottingham), its fastest and typical timetabled time against
the model's. Nothing of it was used to fit the model's constants.

The validation network is the network of both LEPs (``d2n2_llep``) with the strategic roads within
reach of every validation point, so long car pairs (to London, Manchester) run on the same road
model as the scores.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Iterable

import networkx as nx
import numpy as np
import pandas as pd
import shapely

from ..assumptions import as_assumptions
from ..config import authored_path
from ..errors import ConfigError
from ..measures.validation import crowfly_baseline, headline_summary, time_errors

__all__ = ["CLASSES", "validation_path", "gains_path", "read_validation_set", "validation_network", "validate_times",
           "validate_gains", "validate_connectivity", "timetable_pairs", "validate_timetable", "timetable_summary",
           "write_validation"]

#: Classes of the validation set and the model that answers each.
CLASSES: dict[str, str] = {
    "intercity_rail": "rail", "local_rail": "rail", "hs2": "rail",
    "urban_car": "car", "rural_car": "car", "pt_door_to_door": "transit",
}
_COLUMNS = ("pair_id", "class", "mode", "scenario", "origin_ref", "destination_ref", "origin_name", "destination_name",
            "published_min", "time_kind", "timetable", "today_min", "distance_km", "source", "evidence", "note")
_REF = re.compile(r"^(crs:[A-Z]{3}|site:[a-z][a-z0-9_]*|hs2:[a-z][a-z0-9_]*|lonlat:-?\d+(\.\d+)?;-?\d+(\.\d+)?)$")
_REGION = "d2n2_llep"


def validation_path() -> Path:
    """``layers/validation/journey_times.csv`` ($LISGEO_LAYERS_DIR if set)."""
    return authored_path("validation", "journey_times.csv")


def read_validation_set(path: str | os.PathLike | None = None) -> pd.DataFrame:
    """Read and check the validation set: columns, unique ids, known classes, well-formed references,
    positive published minutes, a source on every row. Returns it indexed by ``pair_id``."""
    p = Path(path) if path is not None else validation_path()
    if not p.is_file():
        raise ConfigError(f"validation set {str(p)!r} not found; it ships in layers/validation/ (or set LISGEO_LAYERS_DIR)")
    try:
        df = pd.read_csv(p, dtype={"origin_ref": str, "destination_ref": str}, encoding="utf-8")
    except (UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise ConfigError(f"{p.name} is not a UTF-8 comma-separated table ({str(exc).splitlines()[0]}); save it as CSV UTF-8") from None
    missing = [c for c in _COLUMNS if c not in df.columns]
    if missing:
        raise ConfigError(f"{p.name} lacks column(s) {missing}; see layers/validation/README.md")
    if df["pair_id"].duplicated().any():
        raise ConfigError(f"{p.name}: pair_id repeats {df.loc[df['pair_id'].duplicated(), 'pair_id'].head(3).tolist()}; make each id unique")
    bad = df.loc[~df["class"].isin(list(CLASSES)), "pair_id"]
    if len(bad):
        raise ConfigError(f"{p.name}: unknown class for {bad.head(3).tolist()}; use one of {list(CLASSES)}")
    for col in ("origin_ref", "destination_ref"):
        wrong = df.loc[~df[col].fillna("").str.match(_REF), ["pair_id", col]]
        if len(wrong):
            r = wrong.iloc[0]
            raise ConfigError(f"{p.name}: {col} {r[col]!r} of {r['pair_id']} is not crs:XXX, site:<id>, hs2:<id> or lonlat:<lon>;<lat>")
    pub = pd.to_numeric(df["published_min"], errors="coerce")
    if (~(pub > 0)).any():
        raise ConfigError(f"{p.name}: published_min must be positive minutes; check {df.loc[~(pub > 0), 'pair_id'].head(3).tolist()}")
    if df["source"].fillna("").str.strip().eq("").any():
        raise ConfigError(f"{p.name}: every row needs a source; {df.loc[df['source'].fillna('').str.strip().eq(''), 'pair_id'].head(3).tolist()} have none")
    df["published_min"] = pub.astype("float64")
    return df.set_index("pair_id", drop=False)


# ------------------------------------------------------------------ where each reference is
def _ref_points(refs: Iterable[str], scenario_schemes: Iterable[str]) -> pd.DataFrame:
    """x, y (EPSG:27700) of every reference, from the station list, the sites, the HS2 stations and lon/lat."""
    from pyproj import Transformer

    from ..layers.rail import load_rail_stations
    from ..layers.sites import load_hs2_stations, read_sites_table

    refs = list(dict.fromkeys(refs))
    stations = load_rail_stations(region=None)
    sites = read_sites_table().set_index("site_id")
    hs2 = pd.concat([load_hs2_stations(scheme=s) for s in dict.fromkeys(scenario_schemes)]) if scenario_schemes else None
    tr = Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True)
    rows = []
    for ref in refs:
        kind, code = ref.split(":", 1)
        if kind == "crs":
            if code not in stations.index:
                raise ConfigError(f"validation reference {ref!r}: no station with CRS {code} in the station list")
            g = stations.geometry.loc[code]
            x, y = g.x, g.y
        elif kind == "site":
            if code not in sites.index:
                raise ConfigError(f"validation reference {ref!r}: no site {code!r} in layers/sites.csv")
            x, y = tr.transform(sites.loc[code, "lon"], sites.loc[code, "lat"])
        elif kind == "hs2":
            if hs2 is None or code not in hs2.index:
                raise ConfigError(f"validation reference {ref!r}: no HS2 station {code!r} in the scenarios' schemes")
            g = hs2.geometry.loc[code]
            g = g.iloc[0] if isinstance(g, pd.Series) else g
            x, y = g.x, g.y
        else:
            lon, lat = (float(v) for v in code.split(";"))
            x, y = tr.transform(lon, lat)
        rows.append((ref, kind, code, float(x), float(y)))
    return pd.DataFrame(rows, columns=["ref", "kind", "code", "x", "y"]).set_index("ref")


def _point_urban(xy: np.ndarray) -> np.ndarray:
    """Urban where the 1 km population cell around the point has more people than the urban threshold."""
    from ..assumptions import load_assumptions
    from ..layers.people import read_population_grid

    out = np.zeros(len(xy), dtype=bool)
    thr = load_assumptions()["access.urban_density_per_km2"]
    for i, (x, y) in enumerate(xy):
        arr, _, _ = read_population_grid(bounds=(x - 1.0, y - 1.0, x + 1.0, y + 1.0))
        out[i] = bool(np.nansum(arr) > thr)
    return out


def validation_network(scenario: Any, points: pd.DataFrame, *, assumptions: Any = None, region: Any = _REGION,
                       cif: Any = None) -> nx.MultiDiGraph:
    """The network of ``region`` (default both LEPs) under ``scenario``, its roads reaching every
    validation point, with the sites and ``lonlat:`` points of the set as terminals
    (``site:<id>``, ``site:point_<n>``).

    The graph is the caller's own and nothing else keeps it (``build_network(keep=False)``): with
    roads 175 km beyond the region it holds about 830,000 edges (0.8 GB), which a copy for the
    points' terminals would double and the process's cache of builds would hold to its end; it is
    freed once the caller drops it (and the cycles are collected)."""
    from ..layers.boundaries import region_outline
    from ..network import build_network
    from ..network.access import attach_terminals, terminal_table
    from ..network.schema import NodeRole

    outline = region_outline(region)
    far = max(float(shapely.distance(outline, shapely.Point(x, y))) for x, y in points[["x", "y"]].to_numpy()) / 1000.0
    a = as_assumptions(assumptions)
    buffer_km = float(np.ceil(far + a["access.site_road_km"]))
    sites = points.loc[points["kind"] == "site", "code"].tolist()
    G = build_network(region=region, scenario=scenario, assumptions=assumptions, buffer_km=buffer_km, sites=sites, cif=cif,
                      keep=False)
    extra = points[points["kind"] == "lonlat"]
    if len(extra):
        gdf = pd.DataFrame(extra[["x", "y"]])
        gdf = gdf.assign(geometry=shapely.points(gdf["x"].to_numpy(), gdf["y"].to_numpy()))
        import geopandas as gpd

        gdf = gpd.GeoDataFrame(gdf, geometry="geometry", crs="EPSG:27700")
        terms = terminal_table(gdf, role=NodeRole.SITE, ids=[f"point_{i}" for i in range(len(gdf))],
                               urban=_point_urban(gdf[["x", "y"]].to_numpy()))
        attach_terminals(G, terms, as_assumptions(G.graph["assumptions"]))
    return G


def _point_node(points: pd.DataFrame, ref: str) -> str:
    from ..network.schema import NodeRole, node_id

    kind, code = points.loc[ref, ["kind", "code"]]
    if kind == "site":
        return node_id(NodeRole.SITE, code)
    if kind == "lonlat":
        return node_id(NodeRole.SITE, f"point_{list(points.index[points['kind'] == 'lonlat']).index(ref)}")
    raise ConfigError(f"validation reference {ref!r} is a station; car pairs need site: or lonlat: points")


def _station_code(G: nx.MultiDiGraph, ref: str) -> str:
    """The station code of a ``crs:`` or ``hs2:`` reference in ``G`` (an HS2 station at an existing
    station is that station)."""
    kind, code = ref.split(":", 1)
    return G.graph.get("hs2_station_codes", {}).get(code, code) if kind == "hs2" else code


def _rail_times(G: nx.MultiDiGraph, pairs: pd.DataFrame) -> pd.Series:
    """Station-to-station times as a timetable shows them: the ride of the first train (no first
    wait: a timetable time starts at departure; the fastest pattern's ride for a ``fastest``
    published time, the typical train's ride otherwise), then, for a journey with changes,
    every later wait and interchange as the network times them."""
    from scipy.sparse.csgraph import dijkstra

    from ..network.engine import build_engine
    from ..network.schema import EdgeMode, NodeRole, node_id

    eng = build_engine(G, mode="rail")
    rev = eng.csr.T.tocsr()
    out = pd.Series(np.nan, index=pairs.index, dtype="float64")
    for pid, o, d, kind in pairs[["origin_ref", "destination_ref", "time_kind"]].itertuples():
        src = node_id(NodeRole.STATION, _station_code(G, o))
        dst = node_id(NodeRole.ARRIVAL, _station_code(G, d))
        if src not in G or dst not in eng.index:
            continue
        dist = dijkstra(rev, directed=True, indices=eng.index.get_loc(dst))  # from every node to dst
        best = np.inf
        for _, z, e in G.out_edges(src, data=True):
            if e.get("mode") not in (EdgeMode.RAIL, EdgeMode.HS2) or z not in eng.index:
                continue
            ride = e.get("fastest_min") if kind == "fastest" else e.get("typical_min")
            best = min(best, float(ride) + dist[eng.index.get_loc(z)])
        out.loc[pid] = best if np.isfinite(best) else np.nan
    return out


def _car_times(G: nx.MultiDiGraph, pairs: pd.DataFrame, points: pd.DataFrame) -> pd.Series:
    from ..network.engine import travel_time_matrix

    o = [_point_node(points, r) for r in pairs["origin_ref"]]
    d = [_point_node(points, r) for r in pairs["destination_ref"]]
    tt = travel_time_matrix(G, list(dict.fromkeys(o)), list(dict.fromkeys(d)), mode="car")
    return pd.Series([tt.loc[a, b] for a, b in zip(o, d)], index=pairs.index, dtype="float64")


#: Every file a ``lisgeo validate`` set can hold (a rerun with a check turned off removes the
#: earlier run's file of that check: :func:`lisgeo.io.atomic_set`).
OUTPUT_FILES = ("validation.csv", "summary.csv", "scatter.png", "hs2_gains.csv", "hs2_gains_by_district.csv",
                "timetable.csv", "timetable_summary.csv", "segments_summary.csv", "connectivity_agreement.csv", "provenance.json")

#: Crow-fly bands (km) of the timetable check's summary.
TIMETABLE_BANDS = (0, 10, 20, 40, 80, 160, 1000)


def timetable_pairs(feed: Any, stop_crs: "pd.Series | dict") -> pd.DataFrame:
    """Every (origin, destination) pair of stations a single trip of ``feed`` (a
    :class:`~lisgeo.network.gtfs.TransitFeed`) serves, boarding allowed at the origin and alighting
    at the destination: ``origin_crs``, ``destination_crs``, ``fastest_min`` (the quickest trip),
    ``typical_min`` (the median trip), ``trains`` (trips serving the pair). ``stop_crs`` maps the
    feed's stop ids to CRS codes (GTFS ``stop_code`` of the national rail timetable); stops
    without one are left out."""
    crs = pd.Series(stop_crs, dtype=object)
    code = crs.reindex(pd.Index(feed.stop_id)).to_numpy(dtype=object)
    o_all, d_all, t_all = [], [], []
    ptr = feed.trip_ptr
    for t in range(len(ptr) - 1):
        a, b = ptr[t], ptr[t + 1]
        i, j = np.triu_indices(b - a, k=1)
        keep = feed.st_pickup[a:b][i] & feed.st_dropoff[a:b][j]
        i, j = i[keep], j[keep]
        o_all.append(code[feed.st_stop[a:b][i]])
        d_all.append(code[feed.st_stop[a:b][j]])
        t_all.append((feed.st_arr[a:b][j] - feed.st_dep[a:b][i]) / 60.0)
    if not o_all:
        return pd.DataFrame(columns=["origin_crs", "destination_crs", "fastest_min", "typical_min", "trains"])
    df = pd.DataFrame({"origin_crs": np.concatenate(o_all), "destination_crs": np.concatenate(d_all),
                       "time": np.concatenate(t_all)})
    df = df[df["origin_crs"].notna() & df["destination_crs"].notna() & (df["origin_crs"] != df["destination_crs"])]
    out = df.groupby(["origin_crs", "destination_crs"], sort=True)["time"].agg(
        fastest_min="min", typical_min="median", trains="count").reset_index()
    return out


def _gtfs_stop_codes(path: str | os.PathLike) -> pd.Series:
    """``stop_id`` → ``stop_code`` (CRS) from a GTFS feed's stops (read as :func:`read_gtfs` reads it)."""
    from ..network.gtfs import _open

    label, _, feed = _open(path)
    stops = feed.stops
    if "stop_code" not in stops.columns:
        raise ConfigError(f"{label}: stops.txt has no stop_code column (the stations' CRS codes); the check needs it")
    codes = stops["stop_code"].str.strip().str.upper()
    return pd.Series(codes.where(codes.str.fullmatch(r"[A-Z]{3}", na=False)).to_numpy(), index=stops["stop_id"].to_numpy())


def validate_timetable(*, gtfs: "str | os.PathLike | None" = None, date: str = "2024-03-05", region: Any = _REGION,
                       assumptions: Any = None, cif: Any = None) -> pd.DataFrame:
    """The model's station-to-station rail times against a real timetable (see the module docstring).

    ``gtfs``: a rail GTFS zip or folder whose ``stops.txt`` has CRS codes in ``stop_code`` (default
    the catalogued ``gtfs_newport_rail``, for ``date`` 2024-03-05). One row per pair of stations
    the model has: ``fastest_min`` and ``typical_min`` (timetable), ``model_fastest_min`` and
    ``model_typical_min`` (as :func:`validate_times` times rail pairs: the fastest, or the
    typical, train's ride, then any change), their ``*_error_pct``, ``crow_km``, ``trains``.
    """
    from scipy.sparse.csgraph import dijkstra

    from ..catalog import resolve_dataset
    from ..network import build_network
    from ..network.engine import build_engine
    from ..network.graph import forget_builds, release_graph
    from ..network.gtfs import read_gtfs
    from ..network.schema import EdgeMode, NodeRole, node_id

    if gtfs is None:
        (gtfs,) = resolve_dataset("gtfs_newport_rail")
    feed = read_gtfs(gtfs, date=date, start="00:00", end="23:59", max_time_min=24 * 60)
    pairs = timetable_pairs(feed, _gtfs_stop_codes(gtfs))
    G = build_network(region=region, assumptions=assumptions, copy=False, cif=cif)
    eng = build_engine(G, mode="rail")
    rev = eng.csr.T.tocsr()
    street = pairs["origin_crs"].map(lambda c: node_id(NodeRole.STATION, c))
    arrive = pairs["destination_crs"].map(lambda c: node_id(NodeRole.ARRIVAL, c))
    pairs = pairs[street.map(lambda n: n in G).to_numpy() & arrive.map(lambda n: n in eng.index).to_numpy()].copy()
    legs = {}
    for c in pairs["origin_crs"].unique():
        rows = [(eng.index.get_loc(z), float(e["fastest_min"]), float(e["typical_min"]))
                for _, z, e in G.out_edges(node_id(NodeRole.STATION, c), data=True)
                if e.get("mode") in (EdgeMode.RAIL, EdgeMode.HS2) and z in eng.index]
        legs[c] = np.array(rows, dtype="float64").reshape(-1, 3)
    fast = np.full(len(pairs), np.nan)
    typ = np.full(len(pairs), np.nan)
    pos = pd.Series(np.arange(len(pairs)), index=pairs.index)
    for d, grp in pairs.groupby("destination_crs"):
        dist = dijkstra(rev, directed=True, indices=eng.index.get_loc(node_id(NodeRole.ARRIVAL, d)))
        for idx, o in zip(grp.index, grp["origin_crs"]):
            L = legs[o]
            if len(L):
                rest = dist[L[:, 0].astype(np.int64)]
                fast[pos[idx]], typ[pos[idx]] = np.min(L[:, 1] + rest), np.min(L[:, 2] + rest)
    pairs["model_fastest_min"] = np.where(np.isfinite(fast), fast, np.nan)
    pairs["model_typical_min"] = np.where(np.isfinite(typ), typ, np.nan)
    for k in ("fastest", "typical"):
        pairs[f"{k}_error_pct"] = 100.0 * (pairs[f"model_{k}_min"] - pairs[f"{k}_min"]) / pairs[f"{k}_min"]
    xy = {n: (G.nodes[n]["x"], G.nodes[n]["y"]) for n in set(street[pairs.index]) | {node_id(NodeRole.STATION, c) for c in pairs["destination_crs"]}}
    o_xy = np.array([xy[node_id(NodeRole.STATION, c)] for c in pairs["origin_crs"]], dtype="float64").reshape(-1, 2)
    d_xy = np.array([xy[node_id(NodeRole.STATION, c)] for c in pairs["destination_crs"]], dtype="float64").reshape(-1, 2)
    pairs["crow_km"] = np.hypot(*(o_xy - d_xy).T) / 1000.0
    out = pairs.reset_index(drop=True)
    out.attrs.update({"gtfs": str(gtfs), "date": str(date), "assumptions": dict(G.graph.get("assumptions", {}))})
    release_graph(G)
    del G, eng, rev
    forget_builds()  # the network is not needed again (the connectivity check scores with the sites)
    return out


def timetable_summary(pairs: pd.DataFrame) -> pd.DataFrame:
    """Per crow-fly band (and all): pairs, median |error| and bias (%), share > 25 % off, for the
    typical and the fastest times, beside a naive baseline for the typical times: crow-fly km × the
    timetable's own median minutes per km over all pairs (fitted on the answers themselves, so it
    flatters the baseline)."""
    bands = pd.cut(pairs["crow_km"], list(TIMETABLE_BANDS), right=False)
    rows = []
    for label, sub in [*((f"{b.left:g}-{b.right:g} km", pairs[bands == b]) for b in bands.cat.categories), ("all", pairs)]:
        row = {"band": label, "pairs": int(len(sub))}
        for k in ("typical", "fastest"):
            e = sub[f"{k}_error_pct"].dropna()
            row[f"{k}_median_abs_pct"] = float(e.abs().median()) if len(e) else np.nan
            row[f"{k}_bias_pct"] = float(e.median()) if len(e) else np.nan
            row[f"{k}_share_over_25"] = float((e.abs() > 25).mean() * 100) if len(e) else np.nan
        rows.append(row)
    out = pd.DataFrame(rows)
    per_km = float(np.median(pairs["typical_min"] / pairs["crow_km"].clip(lower=0.1)))
    base = 100.0 * (pairs["crow_km"] * per_km - pairs["typical_min"]) / pairs["typical_min"]
    out["baseline_typical_median_abs_pct"] = [float(base[bands == b].abs().median()) if (bands == b).any() else np.nan
                                              for b in bands.cat.categories] + [float(base.abs().median())]
    return out


def validate_times(*, classes: Iterable[str] | None = None, scenarios: Iterable[str] | None = None, assumptions: Any = None,
                   path: str | os.PathLike | None = None, region: Any = _REGION, progress: bool = False,
                   cif: Any = None) -> pd.DataFrame:
    """Model time of every pair of the validation set against its published time.

    ``classes`` / ``scenarios`` restrict the pairs (default: all). ``region``: whose zones (and
    their local links and station access) the network is built from (default both LEPs, which
    the set covers); every pair is answered whatever the region, the network's roads reaching
    each point. ``cif``: the rail timetable of the network (:func:`lisgeo.network.build_network`;
    ``False``: every rail link modelled). Returns one row per pair with the
    set's columns, ``model_min``, ``error_min``, ``error_pct``, ``abs_pct``, ``crow_km``,
    ``baseline_min`` (the leave-one-out crow-fly baseline) and ``status`` ("ok", or why a pair has no
    model time). ``attrs["assumptions"]`` records the values used.

    One scenario's network at a time (:func:`validation_network`, 0.8 GB each): each is freed
    before the next is built.
    """
    import sys

    from ..network import load_scenario
    from ..network.graph import release_graph

    df = read_validation_set(path)
    if classes is not None:
        classes = list(classes)
        unknown = [c for c in classes if c not in CLASSES]
        if unknown:
            raise ConfigError(f"unknown validation class(es) {unknown}; use {list(CLASSES)}")
        df = df[df["class"].isin(classes)]
    if scenarios is not None:
        df = df[df["scenario"].isin(list(scenarios))]
    schemes = []
    for sc_name in df["scenario"].unique():
        sc = load_scenario(sc_name)
        if sc.hs2_scheme:
            schemes.append(sc.hs2_scheme)
    points = _ref_points(pd.concat([df["origin_ref"], df["destination_ref"]]), schemes)
    model = pd.Series(np.nan, index=df.index, dtype="float64")
    status = pd.Series("ok", index=df.index, dtype=object)
    for sc_name, part in df.groupby("scenario", sort=False):
        if progress:
            print(f"validate: scenario {sc_name} ({len(part)} pairs)", file=sys.stderr, flush=True)
        need = points.loc[list(dict.fromkeys(pd.concat([part["origin_ref"], part["destination_ref"]])))]
        G = validation_network(sc_name, need, assumptions=assumptions, region=region, cif=cif)
        rail = part[part["class"].map(CLASSES) == "rail"]
        car = part[part["class"].map(CLASSES) == "car"]
        if len(rail):
            model.loc[rail.index] = _rail_times(G, rail)
        if len(car):
            model.loc[car.index] = _car_times(G, car, need)
        bus = part.index[part["class"].map(CLASSES) == "transit"]
        status.loc[bus] = "not modelled: bus and coach times need a GTFS timetable (the strategic model has rail only)"
        release_graph(G)  # (no cycle left: freed here, with its engines, kept per graph weakly)
        del G
    status[(status == "ok") & model.isna()] = "unreachable in the model"
    out = df.copy()
    err = time_errors(model, out["published_min"])
    for c in ("model_min", "error_min", "error_pct", "abs_pct"):
        out[c] = err[c]
    o = points.loc[out["origin_ref"], ["x", "y"]].to_numpy()
    d = points.loc[out["destination_ref"], ["x", "y"]].to_numpy()
    out["crow_km"] = np.hypot(*(o - d).T) / 1000.0
    out["baseline_min"] = crowfly_baseline(out["crow_km"], out["published_min"], out["class"])
    out["status"] = status
    out.index.name = None
    out.attrs["assumptions"] = as_assumptions(assumptions).to_dict()
    out.attrs["region"] = region if isinstance(region, str) else list(region)
    return out


def write_validation(results: pd.DataFrame, directory: str | os.PathLike, *,
                     extra: "dict[str, pd.DataFrame] | None" = None) -> dict[str, Path]:
    """Write ``validation.csv`` (one row per pair), ``summary.csv`` (per class: the published pairs,
    the headline, then the recalled ones apart: :func:`lisgeo.measures.validation.headline_summary`), ``scatter.png``
    (model against published, log axes, ±25 % bands) and ``provenance.json`` into ``directory``,
    as one set: all or nothing (:func:`lisgeo.io.atomic_set`).

    ``provenance.json`` (:mod:`lisgeo.provenance`) records the assumptions used, the scenarios of
    the pairs, the network's datasets with their sha256, the validation set's sha256 and the
    sha256 of each file written. ``extra``: more tables of the same run to write in the set, by
    file name (``hs2_gains.csv``, ``connectivity_agreement.csv`` ...).
    """
    from ..io import atomic_set, check_output_dir
    from ..provenance import NETWORK_LAYERS, add_provenance, build_provenance, layer_datasets

    directory = check_output_dir(directory)
    summary = headline_summary(results)
    scenarios = sorted(map(str, results["scenario"].dropna().unique())) if "scenario" in results.columns else []
    prov = build_provenance("validation", attrs=results.attrs, region=results.attrs.get("region", _REGION),
                            datasets=list(results.attrs.get("sources") or layer_datasets(NETWORK_LAYERS)),
                            authored=[validation_path()] + ([gains_path()] if extra and "hs2_gains.csv" in extra else []),
                            details={"scenarios": scenarios, "pairs": len(results)})
    with atomic_set(directory, replaces=OUTPUT_FILES) as out:
        out.write_frame(results, "validation.csv")
        out.write_frame(summary, "summary.csv")
        out.write("scatter.png", lambda tmp: _scatter(results, tmp))
        for name, frame in (extra or {}).items():
            out.write_frame(frame, name)
        add_provenance(out, prov)
    return out.paths


def _scatter(results: pd.DataFrame, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ok = results["model_min"].notna()
    fig, ax = plt.subplots(figsize=(7, 7), dpi=120)
    colours = {"intercity_rail": "#0072B2", "local_rail": "#56B4E9", "hs2": "#CC79A7", "urban_car": "#D55E00",
               "rural_car": "#E69F00", "pt_door_to_door": "#009E73"}
    markers = {"intercity_rail": "o", "local_rail": "s", "hs2": "D", "urban_car": "^", "rural_car": "v", "pt_door_to_door": "P"}
    for cls, g in results[ok].groupby("class"):
        ax.scatter(g["published_min"], g["model_min"], s=26, c=colours.get(cls, "#444"), marker=markers.get(cls, "o"),
                   label=f"{cls.replace('_', ' ')} ({len(g)})", alpha=0.85, edgecolors="white", linewidths=0.5)
    lo, hi = 5, 400
    xs = np.array([lo, hi])
    ax.plot(xs, xs, color="#222", lw=1, label="model = published")
    ax.fill_between(xs, xs * 0.75, xs * 1.25, color="#999", alpha=0.18, label="±25 %")
    ax.set_xscale("log"); ax.set_yscale("log")
    ax.set_xlim(lo, hi); ax.set_ylim(lo, hi)
    ax.set_xlabel("published time (minutes)"); ax.set_ylabel("lisgeo model time (minutes)")
    ax.set_title("lisgeo travel times against published figures", fontsize=11)
    ax.legend(loc="upper left", fontsize=8, frameon=False)
    ax.grid(True, which="both", alpha=0.2)
    fig.tight_layout()
    try:
        fig.savefig(path, format="png")
    finally:
        plt.close(fig)


def gains_path() -> Path:
    """``layers/validation/hs2_gains.csv``: the published (or derived-from-published) HS2 gains."""
    return authored_path("validation", "hs2_gains.csv")


def validate_gains(*, assumptions: Any = None, path: str | os.PathLike | None = None, threshold_min: float = 5.0,
                   region: Any = _REGION, progress: bool = False) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Door-to-door rail gains of each HS2 scenario against the base, checked two ways.

    1. Site gains: for each row of ``hs2_gains.csv`` (a town or city centre, a destination group,
       the range of gains published figures imply, with its source), the model's gain
       ``base − scenario`` from the site to the group, and whether it lies in the range.
    2. Region gains: for every zone of ``region`` (default both LEPs) and every destination group, the gain; per
       scenario, group and district the population-weighted median gain and the share of people
       gaining more than ``threshold_min``. A scheme gains nothing for places it does not serve
       (Leicester under 2b, Leeds under the IRP, the East Midlands under Phase 1): an artefact
       would show here.

    Returns ``(sites, districts)``.

    One network at a time: each scenario's is read (not copied: ``copy=False``) and let go once its
    times are taken (:func:`lisgeo.network.graph.forget_builds`), so the base's and the schemes'
    are never all held at once.
    """
    import sys

    from ..network import destination_nodes, travel_time_matrix
    from ..network.graph import forget_builds, release_graph
    from ..network.schema import NodeRole, node_id

    p = Path(path) if path is not None else gains_path()
    gains = pd.read_csv(p, encoding="utf-8")
    need = {"scenario", "origin_ref", "destination", "gain_low_min", "gain_high_min", "source"}
    if not need <= set(gains.columns):
        raise ConfigError(f"{p.name} lacks column(s) {sorted(need - set(gains.columns))}; see layers/validation/README.md")
    sites = sorted({r.split(":", 1)[1] for r in gains["origin_ref"] if r.startswith("site:")})
    groups = sorted(set(gains["destination"]) | {"london", "birmingham", "leeds"})
    from ..layers.people import load_lsoa21_centroids

    zones = load_lsoa21_centroids(region=region)
    zones = zones.set_index(zones["LSOA21CD"].astype(str), drop=False)

    def times(scenario: str) -> tuple[pd.DataFrame, pd.DataFrame]:
        from ..network import build_network

        if progress:
            print(f"validate: gains, scenario {scenario}", file=sys.stderr, flush=True)
        G = build_network(region=region, scenario=scenario, assumptions=assumptions, sites=sites, copy=False)
        z = pd.DataFrame({g: travel_time_matrix(G, list(zones.index), destination_nodes(G, g), mode="rail").min(axis=1)
                          for g in groups})
        s = pd.DataFrame({g: travel_time_matrix(G, [node_id(NodeRole.SITE, x) for x in sites], destination_nodes(G, g),
                                                mode="rail").min(axis=1) for g in groups})
        s.index = sites
        release_graph(G)
        del G
        forget_builds()  # (a scheme's build then reads the base's back from the disk cache)
        return z, s

    base_z, base_s = times("base")
    site_rows, district_rows = [], []
    for sc in dict.fromkeys(gains["scenario"]):
        z, s = times(sc)
        for r in gains[gains["scenario"] == sc].itertuples(index=False):
            code = r.origin_ref.split(":", 1)[1]
            g = float(base_s.loc[code, r.destination] - s.loc[code, r.destination])
            site_rows.append({"scenario": sc, "origin": r.origin_name, "destination": r.destination,
                              "base_min": float(base_s.loc[code, r.destination]), "scenario_min": float(s.loc[code, r.destination]),
                              "gain_min": g, "published_low": r.gain_low_min, "published_high": r.gain_high_min,
                              "within": bool(r.gain_low_min - 0.5 <= g <= r.gain_high_min + 0.5), "source": r.source})
        gain = base_z - z
        pop = pd.to_numeric(zones["pop"], errors="coerce").astype("float64")
        for lad, idx in zones.groupby("LADNM").groups.items():
            for grp in groups:
                gv, w = gain.loc[idx, grp], pop.loc[idx]
                ok = gv.notna()
                order = np.argsort(gv[ok].to_numpy())
                cw = np.cumsum(w[ok].to_numpy()[order])
                med = float(gv[ok].to_numpy()[order][np.searchsorted(cw, cw[-1] / 2)]) if ok.any() else np.nan
                district_rows.append({"scenario": sc, "destination": grp, "district": lad, "median_gain_min": med,
                                      "share_people_gaining_over_threshold": float(100 * w[ok & (gv > threshold_min)].sum() / w.sum())})
    return pd.DataFrame(site_rows), pd.DataFrame(district_rows)


def validate_connectivity(*, region: Any = _REGION, scores: pd.DataFrame | None = None, progress: bool = False) -> pd.DataFrame:
    """Agreement of every measure and index with the national reference for sustainable-mode
    connectivity, next to naive baselines.

    The reference is the IoD 2025 transport connectivity score of each LSOA (the DfT Transport
    Connectivity Metric: walking, cycling and public transport to services and jobs; higher is
    better). For every score column with a direction, and for three baselines a planner could
    compute with a ruler (residents within 2 km and within 5 km of the zone's centroid, crow-fly;
    residents per km² of the LSOA), the Spearman rank correlation with the reference over the
    region's LSOAs (a "lower is better" column is negated, so higher always means agreement).
    """
    from scipy.spatial import cKDTree
    from scipy.stats import spearmanr

    from ..layers.deprivation import load_imd2025
    from ..measures.columns import direction_of
    from .score import score_region

    if scores is None:
        from ..network.graph import forget_builds

        scores = score_region(region=region, progress=progress)
        forget_builds()  # the scores' network and searches: not needed for the ranks
    imd = load_imd2025(region=region)
    ref = pd.to_numeric(imd.set_index(imd["LSOA21CD"].astype(str))["transport_connectivity_score"], errors="coerce")
    ref = ref.reindex(scores.index)
    from ..layers.people import load_lsoa21_centroids

    cen = load_lsoa21_centroids(region=region)
    cen = cen.set_index(cen["LSOA21CD"].astype(str)).reindex(scores.index)
    xy = np.column_stack([cen.geometry.x.to_numpy(), cen.geometry.y.to_numpy()])
    pop = pd.to_numeric(scores["pop"], errors="coerce").to_numpy(dtype="float64")
    tree = cKDTree(xy)
    base = {}
    for km in (2, 5):
        hits = tree.query_ball_point(xy, km * 1000.0)
        base[f"baseline_pop_within_{km}km"] = np.array([pop[h].sum() for h in hits])
    base["baseline_density"] = pop / (scores.geometry.area.to_numpy() / 1e6)
    rows = []
    for name, values, kind in ([(c, scores[c], "measure") for c in scores.columns if direction_of(c) in ("higher", "lower")]
                               + [(k, pd.Series(v, index=scores.index), "baseline") for k, v in base.items()]):
        v = pd.to_numeric(values, errors="coerce").astype("float64")
        if direction_of(name) == "lower":
            v = -v
        ok = v.notna() & ref.notna()
        if ok.sum() < 10 or v[ok].nunique() < 2:
            continue
        rho = float(spearmanr(v[ok], ref[ok]).statistic)
        rows.append({"column": name, "kind": kind, "spearman": rho, "lsoas": int(ok.sum())})
    out = pd.DataFrame(rows).sort_values("spearman", ascending=False).reset_index(drop=True)
    out.attrs["reference"] = "IoD 2025 transport_connectivity_score (DfT Transport Connectivity Metric)"
    return out
