"""Assemble the multimodal strategic network of a region: roads, GB rail, HS2 by scenario, zones and sites.

Node ids and kinds are those of :mod:`lisgeo.network.schema` (zones, sites, job destinations,
road junctions, the street and arrival sides of stations, HS2 stations).
Node attributes: ``kind``, ``x``, ``y`` (BNG metres). Edge attributes: ``time_min`` (minutes,
>= 0; only the station concourse is 0), ``mode`` (an
:class:`~lisgeo.network.schema.EdgeMode`), ``length_km`` where meaningful.

Sites named in ``sites=`` are terminals wherever they lie: a site farther than ``buffer_km`` −
``access.site_road_km`` from the region brings its own strategic roads, those within
``access.site_road_km`` of the site or of the straight line from the site to the region outline
(so the roads join the region's). Each must then reach, and be reached from, the main car
network (else :class:`~lisgeo.errors.NetworkError`).

A scenario's network is built in this order: roads, GB rail, the terminals and their access links,
then its HS2 scheme (the scheme's new stations joined to every terminal by the same rules, after
them), then its edits. A scheme adds, it never changes: so a scenario that only adds a scheme (and
edits) to ``base`` with the same assumptions is built on the base's build when one is at hand, in
this process or in the disk cache, and is the same network as one built from the data (tested).
"""

from __future__ import annotations

import os
import weakref
from functools import lru_cache
from typing import Any, Iterable, Mapping

import networkx as nx
import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from ..assumptions import Assumptions, assumptions_path, load_assumptions, reach_km
from ..errors import LisgeoError, NetworkError, UnknownNameError
from ..regions import get_region
from .access import attach_terminals, knn_links, node_xy, terminal_table, urban_flags
from .rail import _cached_rail_services, add_hs2, add_rail
from .road import add_road_links, join_road_gaps
from .scenario import Scenario, apply_edits, load_scenario
from .schema import MODE_EDGES, TERMINAL_KINDS, NodeKind, NodeRole, TransportMode, forget_edge_log, logged_edge_table, node_id

__all__ = ["build_network", "zone_terminals", "site_terminals", "check_graph", "graph_summary"]


def zone_terminals(zones: pd.DataFrame, assumptions: Assumptions, *, areas_km2: pd.Series | None = None,
                   urban: pd.Series | None = None, id_col: str = "LSOA21CD") -> pd.DataFrame:
    """Terminal table [node, kind, x, y, urban] for zone points (:func:`~lisgeo.network.access.terminal_table`).

    ``urban`` (bool Series on the zones' index) wins; else a zone is urban when ``pop`` /
    ``areas_km2`` > ``access.urban_density_per_km2``; else every zone is urban.
    """
    ids = zones[id_col].astype(str) if id_col in zones.columns else zones.index.astype(str)
    if urban is None:
        if areas_km2 is not None and "pop" in zones.columns:
            urban = pd.Series(urban_flags(zones["pop"], areas_km2.reindex(zones.index), assumptions), index=zones.index)
        else:
            urban = pd.Series(True, index=zones.index)
    return terminal_table(zones, role=NodeRole.ZONE, ids=ids, urban=urban.reindex(zones.index).fillna(False).to_numpy(dtype=bool))


def site_terminals(sites: pd.DataFrame, zones: pd.DataFrame) -> pd.DataFrame:
    """Terminal table for site points; a site takes the urban flag of its nearest zone terminal."""
    ids = sites["site_id"].astype(str) if "site_id" in sites.columns else sites.index.astype(str)
    xy = np.column_stack([sites.geometry.x.to_numpy(), sites.geometry.y.to_numpy()])
    _, j = cKDTree(zones[["x", "y"]].to_numpy()).query(xy, k=1)
    return terminal_table(sites, role=NodeRole.SITE, ids=ids, urban=zones["urban"].to_numpy()[j])


def check_graph(G: nx.MultiDiGraph, *, _table: pd.DataFrame | None = None) -> None:
    """Refuse NaN or negative edge times and unpositioned nodes (NetworkError naming them)."""
    from .engine import _edge_table

    table = _edge_table(G) if _table is None else _table
    t = pd.to_numeric(table["time_min"], errors="coerce").to_numpy(dtype="float64")
    bad = ~np.isfinite(t) | (t < 0)
    if bad.any():
        ex = list(zip(table["u"].to_numpy()[bad][:5], table["v"].to_numpy()[bad][:5]))
        raise NetworkError(f"{int(bad.sum())} edge(s) have a missing, NaN or negative time_min, e.g. {ex}; fix the inputs or the assumptions")
    nopos = [n for n, d in G.nodes(data=True) if "x" not in d or "y" not in d or "kind" not in d]
    if nopos:
        raise NetworkError(f"{len(nopos)} node(s) lack kind/x/y, e.g. {nopos[:5]}")


def _check_zone_reach(G: nx.MultiDiGraph, sites: Iterable[str] = (), *, _table: pd.DataFrame | None = None) -> None:
    """Every zone (and each of ``sites``, node ids) must reach, and be reached from, the main
    strongly connected part of the car network, never passing through another place (by car a
    terminal is left only at the start of a trip: :mod:`lisgeo.network.engine`). The main part is
    the one most of the region's zones join (the Isle of Wight's own roads for the island alone, the
    mainland's for a region with the island in it). Zones that join it nowhere while others do (an
    island, whose ferries are not modelled) are recorded in ``G.graph["road_cut"]`` with a
    :class:`~lisgeo.errors.RoadCutWarning`: their times beyond their own roads are missing and the
    scores' ``data_flags`` say why. No zone joining it, or a site not joining it, is an error."""
    from scipy.sparse import coo_array
    from scipy.sparse.csgraph import connected_components

    from .engine import _edge_table

    table = _edge_table(G) if _table is None else _table
    car_edges = MODE_EDGES[TransportMode.CAR]
    mode = table["mode"].to_numpy()
    car = np.fromiter((m in car_edges for m in mode), dtype=bool, count=len(mode))
    if not car.any():
        raise NetworkError("the car network is empty; the region has no strategic road links within reach")
    kinds = dict(G.nodes(data="kind"))
    u0, v = table["u"].to_numpy()[car], table["v"].to_numpy()[car]
    # a terminal's links leave from its exit side, so no path passes through it
    leaves = np.fromiter((kinds.get(n) in TERMINAL_KINDS for n in u0), dtype=bool, count=len(u0))
    u = np.where(leaves, np.char.add(u0.astype(str), "\0out").astype(object), u0)
    codes, nodes = pd.factorize(np.r_[u, v])
    m = len(u)
    adj = coo_array((np.ones(m), (codes[:m], codes[m:])), shape=(len(nodes), len(nodes))).tocsr()
    _, label = connected_components(adj, directed=True, connection="strong")
    cu, cv = label[codes[:m]], label[codes[m:]]
    zones = [n for n, k in kinds.items() if k == NodeKind.ZONE]
    points = pd.Index(list(dict.fromkeys([*zones, *sites])))
    # (point, part) it drives out into and (point, part) it is reached from: a point joins a part
    # when both hold
    out_pairs = pd.DataFrame({"p": u0[leaves], "c": cv[leaves]})
    in_pairs = pd.DataFrame({"p": v, "c": cu})
    out_pairs = out_pairs[out_pairs["p"].isin(points)].drop_duplicates()
    in_pairs = in_pairs[in_pairs["p"].isin(points)].drop_duplicates()
    both = out_pairs.merge(in_pairs, on=["p", "c"])
    zone_parts = both[both["p"].isin(set(zones))]
    main_label = zone_parts["c"].value_counts().idxmax() if len(zone_parts) else -1
    main = set(both.loc[both["c"] == main_label, "p"])
    known = G.graph.get("road_cut", {})
    cut = [z for z in zones if z not in main and z not in known]
    if cut and len(cut) + len(known) >= len(zones):
        raise NetworkError(f"{len(cut)} zone(s) cannot reach (or be reached from) the road network: {cut[:10]}; "
                           "raise access.k_junctions or the road buffer_km")
    if cut:
        # an island whose roads join the mainland's nowhere (ferries are not modelled): its zones keep
        # their times within the island, the rest are missing, and the scores flag them
        import warnings

        from ..errors import RoadCutWarning

        warnings.warn(f"{len(cut)} zone(s) cannot reach (or be reached from) the main road network (an island?): {cut[:5]}; "
                      "their car times beyond their own roads are missing and data_flags says so", RoadCutWarning, stacklevel=3)
        G.graph["road_cut"] = {**known, **{z: "on roads that join the region's main road network nowhere (an island: "
                                           "ferries are not modelled)" for z in cut}}
    cut = [s for s in sites if s not in main]
    if cut:
        raise NetworkError(f"site(s) {cut} cannot reach (or be reached from) the region's road network; "
                           "raise access.site_road_km so that their own strategic roads join the region's")


def _site_roads(region: Any, buffer_km: float, site_xy: np.ndarray, a: Assumptions) -> tuple[pd.DataFrame, pd.DataFrame] | None:
    """Major road links (motorways and A roads) and junctions that sites lying beyond the region's
    road reach bring with them: within ``access.site_road_km`` of the site or of the straight line from the site
    to the region outline. None when every site lies within reach."""
    import shapely

    from ..layers.boundaries import region_outline

    r_km = float(a["access.site_road_km"])
    outline = region_outline(region)
    pts = shapely.points(site_xy[:, 0], site_xy[:, 1]) if len(site_xy) else np.array([], dtype=object)
    far = [p for p in pts if shapely.distance(outline, p) / 1000.0 > buffer_km - r_km]
    if not far:
        return None
    area = shapely.union_all([shapely.shortest_line(p, outline).buffer(r_km * 1000.0) for p in far])
    from ..layers.roads import load_major_road_nodes, load_major_roads

    links, nodes = load_major_roads(region=None), load_major_road_nodes(region=None)
    links = links[shapely.intersects(links.geometry.values, area)]
    ends = pd.unique(np.r_[links["from_node"].to_numpy(), links["to_node"].to_numpy()])
    return links, nodes[nodes["node_id"].isin(ends)]


def graph_summary(G: nx.MultiDiGraph) -> pd.DataFrame:
    """Counts of nodes by kind and edges by mode (a small table for reports)."""
    kinds = pd.Series([k for _, k in G.nodes(data="kind")]).value_counts()
    modes = pd.Series([m for *_, m in G.edges(data="mode")]).value_counts()
    return pd.concat([kinds.rename("count").to_frame().assign(what="nodes"), modes.rename("count").to_frame().assign(what="edges")])


#: The edge table (:func:`lisgeo.network.engine._edge_table`) of each build made in this process,
#: handed to the engines of the graphs ``build_network`` returns from it (same edges).
_BUILT_TABLES: "weakref.WeakKeyDictionary[nx.MultiDiGraph, pd.DataFrame]" = weakref.WeakKeyDictionary()
#: The engines of each build, shared by its frozen views (lisgeo.network.engine.seed_engines).
_SHARED_ENGINES: "weakref.WeakKeyDictionary[nx.MultiDiGraph, dict]" = weakref.WeakKeyDictionary()


@lru_cache(maxsize=8)
def _build_cached(region_key: tuple[str, ...], scenario_path: str, over_key: tuple, buffer_km: float,
                  stamp: tuple = (), sites: tuple[str, ...] = (), disk_key: str | None = None,
                  cif: str | None = None) -> nx.MultiDiGraph:
    """One build per arguments in this process; across processes on disk (``disk_key``, see
    :func:`_disk_key`; :mod:`lisgeo.cache`, kind ``network``) when caching is on."""
    return _make_build(region_key, scenario_path, over_key, buffer_km, stamp, sites, disk_key, cif, keep=True)


def _make_build(region_key: tuple[str, ...], scenario_path: str, over_key: tuple, buffer_km: float,
                stamp: tuple = (), sites: tuple[str, ...] = (), disk_key: str | None = None,
                cif: str | None = None, *, keep: bool) -> nx.MultiDiGraph:
    """A build read from the disk cache or made from the data. ``keep``: the build stays in this
    process (:func:`_build_cached`, where other calls and scenario builds find it) and its disk
    entry may be written after the command returns; else it is the caller's own, to change: its
    entry is written before it is handed over (a change made afterwards never reaches the cache),
    and nothing else refers to it, so it is freed once the caller drops it."""
    from .. import cache
    from .._gc import gc_paused

    with gc_paused():  # a few hundred thousand long-lived dicts (see gc_paused)
        G = cache.load_pickle("network", disk_key, nx.MultiDiGraph) if disk_key is not None else None
        if G is None:
            sc = load_scenario(scenario_path)
            base = _base_at_hand(region_key, sc, over_key, buffer_km, sites, cif)
            G = _build(get_region(list(region_key)), sc, dict(over_key), buffer_km, sites, base=base, cif=cif)
            if disk_key is not None:  # (kept, in the lisgeo command: written after it returns)
                cache.store_pickle("network", disk_key, G, defer=keep)
    if keep:
        _BUILT_BY_ARGS[(region_key, scenario_path, over_key, buffer_km, stamp, sites, cif)] = G
    return G


def forget_builds() -> None:
    """Let go of every network this process keeps: the builds of :func:`_build_cached` (their disk
    entries that were to be written after the command returns are written now,
    :func:`lisgeo.cache.write_kept_back`; their cached views dropped, :func:`release_graph`, so
    they are freed as they go) and the engines' kept search rows; then one collection, for any
    other cycle still holding a network (a frozen view its caller has dropped: it shares the build's
    dicts), since the ``lisgeo`` command runs with the collector off.

    For a caller that builds one large network after another (``lisgeo validate``: its validation
    networks, each scenario's, the scores') and needs none of them again: each is freed before
    the next is built, rather than all held to the end. Later calls read the builds back from the
    disk cache (or build them again without it). A frozen view the caller still holds
    (``copy=False``) keeps its build's nodes and edges: drop it first."""
    import gc

    from .. import cache
    from .engine import forget_rows

    cache.write_kept_back("network")
    for G in list(_BUILT_BY_ARGS.values()):
        release_graph(G)
    _build_cached.cache_clear()
    forget_rows()
    gc.collect()  # (about 0.25 s once the builds are gone: what is left to scan is mostly alive)


def _stamp(scenario_path: str) -> tuple:
    """When the scenario and assumptions files last changed (edits to them invalidate a build)."""
    return tuple(os.stat(p).st_mtime_ns if os.path.exists(p) else 0 for p in (scenario_path, assumptions_path()))


def assumption_overrides(assumptions: "Assumptions | Mapping[str, Any] | None") -> dict[str, Any]:
    """The overrides ``build_network(assumptions=...)`` applies over the scenario's: a dict as given,
    or the values of an ``Assumptions`` object that differ from the assumptions file (lists as tuples)."""
    if isinstance(assumptions, Assumptions):
        over = {k: v for k, v in assumptions.items() if v != load_assumptions()[k]}
    else:
        over = {} if assumptions is None else {k: v for k, v in dict(assumptions).items()}
    return {k: (tuple(v) if isinstance(v, list) else v) for k, v in over.items()}


def _disk_key(region_key: tuple[str, ...], sc: Scenario, over_key: tuple, buffer_km: float, sites: tuple[str, ...],
              cif: str | None = None) -> str:
    """Everything a build depends on: the arguments, the scenario file's bytes, the authored files'
    bytes, the pinned sha256 of the datasets the network reads (and of a planner's own rail
    timetable, ``cif``), lisgeo's code and the versions of networkx and Python (the entry is a pickle)."""
    import sys

    from .. import cache
    from ..provenance import NETWORK_LAYERS, layer_datasets

    return cache.make_key({
        "kind": "network", "region": list(region_key), "scenario_path": sc.path, "scenario": cache.file_digest(sc.path),
        "overrides": list(over_key), "buffer_km": buffer_km, "sites": list(sites), "assumptions_path": str(assumptions_path()),
        "authored": cache.authored_digests(), "datasets": cache.dataset_digests(layer_datasets(NETWORK_LAYERS)),
        "cif": cif if cif is None or cif is False else cache.file_digest(cif),
        "networkx": nx.__version__, "python": sys.version_info[:2],
    })


def _own_graph_dict(graph: Mapping[str, Any]) -> dict[str, Any]:
    """A graph-attribute dict of its own: containers copied one level, so that changes to the
    returned graph's ``G.graph`` never reach the cached build."""
    return {k: (type(v)(v) if type(v) in (dict, list, set) else v) for k, v in graph.items()}


def _copy_graph(G: nx.MultiDiGraph) -> nx.MultiDiGraph:
    """``G.copy()`` (new node, adjacency and attribute dicts; values shared), about 1.5x faster for
    a plain MultiDiGraph: the dicts are built directly rather than edge by edge."""
    from .._gc import gc_paused

    with gc_paused():
        return _copy_graph_dicts(G)


def _copy_graph_dicts(G: nx.MultiDiGraph) -> nx.MultiDiGraph:
    if type(G) is not nx.MultiDiGraph:
        H = G.copy()
        H.graph = _own_graph_dict(G.graph)
        return H
    H = nx.MultiDiGraph()
    H.graph.update(_own_graph_dict(G.graph))
    H._node.update((n, d.copy()) for n, d in G._node.items())
    succ, pred = H._succ, H._pred
    for n in G._node:
        succ[n] = {}
        pred[n] = {}
    for u, nbrs in G._succ.items():
        su = succ[u]
        for v, kd in nbrs.items():
            nkd = {k: d.copy() for k, d in kd.items()}
            su[v] = nkd
            pred[v][u] = nkd
    return H


def _shared_graph(G: nx.MultiDiGraph) -> nx.MultiDiGraph:
    """A frozen graph (``nx.freeze``: adding or removing nodes or edges raises) that shares ``G``'s
    nodes, edges and their attribute dicts, with a ``G.graph`` of its own: no copying at all."""
    H = G.__class__()
    H._node = G._node
    H._adj = H._succ = G._succ
    H._pred = G._pred
    for name in _CACHED_VIEWS:
        H.__dict__.pop(name, None)  # views cached by networkx before the dicts were swapped
    H.graph = _own_graph_dict(G.graph)
    return nx.freeze(H)


#: The views networkx caches on a graph (``functools.cached_property``: ``G.edges`` ...).
_CACHED_VIEWS = ("nodes", "adj", "succ", "pred", "edges", "out_edges", "in_edges", "degree", "in_degree", "out_degree")


def release_graph(G: nx.Graph) -> None:
    """Drop the views networkx has cached on ``G``: those of its edges and degrees refer back to
    ``G``, so a graph once asked for ``G.edges`` is a reference cycle, which only the cyclic
    collector frees, and the ``lisgeo`` command runs with it off
    (:func:`lisgeo._gc.collect_never`). Without them ``G`` (with its engines, kept per graph
    weakly) is freed the moment its last reference goes, without a collection (a full one costs
    about 0.45 s with a validation network to scan). ``G`` stays usable: a view is made again
    when asked for."""
    for name in _CACHED_VIEWS:
        G.__dict__.pop(name, None)


def _destination_terminals(G: nx.MultiDiGraph, region: Any, buffer_km: float, a: Assumptions) -> pd.DataFrame:
    """Job destinations beyond the region, within ``buffer_km`` of it (``job_destinations`` layer):
    LSOA points of the other built-in LEP and MSOA points elsewhere, as terminals ``dest:<code>``
    (kind ``"dest"``: routed like zones, never origins), with their ``jobs``.

    They carry the jobs that the region's residents can reach across its edge (Sheffield,
    Manchester, Leicester ...). Treated as urban for their local access speed (job centres);
    points beyond ``access.max_junction_km`` of every junction in reach are left out.
    """
    from ..layers import load_layer

    if buffer_km <= 0:
        return pd.DataFrame(columns=["node", "kind", "x", "y", "urban", "jobs"])
    # through the layers cache
    d = load_layer("job_destinations", region=region, buffer_km=float(buffer_km), beyond_region=True)
    xy = np.column_stack([d.geometry.x.to_numpy(), d.geometry.y.to_numpy()])
    junctions = [n for n, k in G.nodes(data="kind") if k == NodeKind.ROAD]
    i, _, _ = knn_links(xy, node_xy(G, junctions), 1, a["access.max_junction_km"] * 1000.0)
    ok = np.zeros(len(d), dtype=bool)
    ok[i] = True
    d = d[ok]
    G.graph["job_destinations"] = int(ok.sum())
    G.graph["job_destinations_jobs"] = float(d["jobs"].to_numpy(dtype="float64").sum())
    out = terminal_table(d, role=NodeRole.DEST, ids=d["dest_id"].astype(str), urban=True)
    return out.assign(jobs=d["jobs"].to_numpy(dtype="float64"))


def _zone_table(region: Any, a: Assumptions) -> pd.DataFrame:
    """The zone terminals (:func:`zone_terminals`) of ``region``'s LSOAs."""
    from ..layers import load_layer
    from ..layers.boundaries import load_lsoa21

    zones = load_layer("lsoa21_centroids", region=region)
    polys = load_lsoa21(region=region)
    areas = pd.Series(polys.geometry.area.to_numpy() / 1e6, index=polys["LSOA21CD"].astype(str).to_numpy())
    return zone_terminals(zones.set_index(zones["LSOA21CD"].astype(str)), a, areas_km2=areas)


def _terminal_sites(region: Any, buffer_km: float, extra: tuple[str, ...]) -> tuple[pd.DataFrame, list[str]]:
    """Sites of the region (within ``buffer_km``) plus the ``extra`` site ids wherever they are."""
    from ..layers.sites import load_sites, read_sites_table

    need = list(dict.fromkeys(extra))
    table = read_sites_table()
    lad = table.set_index(table["site_id"].astype(str))["LADCD"].astype(str)
    unknown = [s for s in need if s not in lad.index]
    if unknown:
        raise UnknownNameError("site", unknown[0], sorted(lad.index), "Site ids come from the sites layer (`lisgeo layers export sites`).")
    sites = load_sites(region=region, buffer_km=buffer_km)
    if need:
        fixed = load_sites(region=sorted(set(lad.loc[need])))
        fixed = fixed[fixed.index.astype(str).isin(need)]
        sites = pd.concat([sites, fixed[~fixed.index.isin(sites.index)]])
    return sites, need


def _build(region: Any, sc: Scenario, overrides: dict[str, Any], buffer_km: float,
           extra_sites: tuple[str, ...] = (), base: nx.MultiDiGraph | None = None, cif: str | None = None) -> nx.MultiDiGraph:
    """Build the network of ``sc``: roads, rail, the terminals and their access links, then the
    scenario's HS2 scheme (its stations joined to the terminals by the same rules), then its edits.
    ``base``: the base scenario's build of the same region and options (:func:`_base_at_hand`, a
    graph of this call's own), which holds everything before the scheme: the result is the same."""
    from ..layers import load_layer
    from ..layers.boundaries import load_lsoa21
    from ..layers.roads import load_major_road_nodes, load_major_roads

    a = load_assumptions(**{**sc.assumptions, **overrides})
    reg = get_region(region)
    if base is None:
        G = nx.MultiDiGraph(name=f"lisgeo {reg.label} {sc.name}")
        # Great Britain's stations, patterns and services first (through the caches: read once for
        # every build of a run, its blocks and later runs): they need nothing of the region
        rail_stations, rail_patterns = load_layer("rail_stations", region=None), load_layer("rail_patterns", region=None)
        # timetabled running times: the catalogued national sample, a planner's own CIF, or none
        if cif is None:
            segments, dwells = load_layer("rail_segments", region=None), load_layer("rail_dwells", region=None)
        elif cif is False:
            segments, dwells = None, None
        else:
            from ..layers.rail import rail_timetable

            segments, dwells = rail_timetable(cif)
        services = _cached_rail_services(rail_stations, rail_patterns, a, segments=segments, dwells=dwells)
        sites, need = _terminal_sites(region, buffer_km, extra_sites)
        links = load_major_roads(region=region, buffer_km=buffer_km)
        nodes = load_major_road_nodes(region=region, buffer_km=buffer_km)
        fixed = sites.loc[sites.index.astype(str).isin(need)]
        extra = _site_roads(region, buffer_km, np.column_stack([fixed.geometry.x, fixed.geometry.y]), a)
        if extra is not None:
            links = pd.concat([links, extra[0][~extra[0]["link_id"].isin(links["link_id"])]])
            nodes = pd.concat([nodes, extra[1][~extra[1]["node_id"].isin(nodes["node_id"])]])
        add_road_links(G, links, a, nodes=nodes, two_way=True)
        join_road_gaps(G, a)
        add_rail(G, rail_stations, rail_patterns, a, services=services)
        zt = _zone_table(region, a)
        # a site is urban or rural by the zones around it, wherever the region's edge lies: the zones of
        # its own district (so a block of a large region gives a site the access a whole region does)
        site_lads = sorted(set(sites["LADCD"].astype(str)) - set(reg.lad_codes)) if "LADCD" in sites.columns else []
        near = pd.concat([zt, _zone_table(get_region(site_lads), a)]) if site_lads else zt
        dt = _destination_terminals(G, region, buffer_km, a)
        terms = pd.concat([zt, site_terminals(sites, near), dt.drop(columns="jobs")], ignore_index=True)
        attach_terminals(G, terms, a)
        nx.set_node_attributes(G, dict(zip(dt["node"], dt["jobs"].astype(float))), "jobs")
        G.graph.update({"crs": "EPSG:27700", "region": reg.label, **_scenario_record(reg, sc, a),
                        "buffer_km": float(buffer_km), "sites": need, "rail_timetable": "rail_cif_sample" if cif is None else ("none (modelled)" if cif is False else str(cif)),
                        "site_road_links": 0 if extra is None else int(len(extra[0]))})
    else:
        G = base
        need = list(G.graph["sites"])
        G.graph.pop("edits", None)  # the base's record of its (no) edits: this scenario's own come below
    if sc.hs2_scheme:
        _add_scheme(G, sc.hs2_scheme, a)
    G.graph.update(_scenario_record(reg, sc, a))  # (on a base's build: this scenario's, in the same places)
    apply_edits(G, sc.edits, where=f"scenario {sc.name}")
    from .engine import _edge_table

    # the edges as written (or, after other changes, one pass over the graph): the checks and,
    # later, the engines read it
    table = logged_edge_table(G)
    forget_edge_log(G)
    if table is None:
        table = _edge_table(G)
    check_graph(G, _table=table)
    _check_zone_reach(G, [node_id(NodeRole.SITE, s) for s in need], _table=table)
    _BUILT_TABLES[G] = table
    return G


def _scenario_record(reg: Any, sc: Scenario, a: Assumptions) -> dict[str, Any]:
    """What a build records of its scenario in ``G.graph``."""
    return {"name": f"lisgeo {reg.label} {sc.name}", "scenario": sc.name, "hs2_scheme": sc.hs2_scheme or "none",
            "assumptions": a.to_dict(), "assumptions_path": a.path, "scenario_path": sc.path}


def _add_scheme(G: nx.MultiDiGraph, scheme: str, a: Assumptions) -> None:
    """Add an HS2 scheme's stations and published times, and join its new stations to every terminal
    (an HS2 station adds links, it never removes or changes one)."""
    from ..layers.sites import load_hs2_links, load_hs2_stations
    from .access import attach_stations, station_nodes

    before = set(station_nodes(G))
    add_hs2(G, load_hs2_stations(scheme=scheme), load_hs2_links(scheme=scheme), a)
    attach_stations(G, [n for n in station_nodes(G) if n not in before], a)


def _base_scenario(sc: Scenario, overrides: Mapping[str, Any]) -> Scenario | None:
    """The base scenario ``sc``'s network can be built on: ``sc`` adds an HS2 scheme (and edits) to
    ``base`` with the same assumptions, and ``base`` itself has no scheme and no edits."""
    if not sc.hs2_scheme:
        return None
    try:
        base = load_scenario("base")
    except LisgeoError:
        return None
    if base.hs2_scheme or base.edits or os.path.abspath(base.path) == os.path.abspath(sc.path or ""):
        return None
    same = load_assumptions(**{**sc.assumptions, **overrides}).to_dict() == load_assumptions(**{**base.assumptions, **overrides}).to_dict()
    return base if same else None


#: Builds made in this process, by their arguments (``_build_cached``'s), while they are alive.
_BUILT_BY_ARGS: "weakref.WeakValueDictionary[tuple, nx.MultiDiGraph]" = weakref.WeakValueDictionary()


def _base_at_hand(region_key: tuple[str, ...], sc: Scenario, over_key: tuple, buffer_km: float,
                  sites: tuple[str, ...], cif: str | None = None) -> nx.MultiDiGraph | None:
    """A graph of the caller's own holding the base build ``sc``'s network starts from, when one is
    at hand: built in this process (copied, about 1.3 s) or in the disk cache (read, about 1.5 s);
    else None (the caller builds from the data: the same network, a few seconds longer)."""
    from .. import cache

    base = _base_scenario(sc, dict(over_key))
    if base is None:
        return None
    built = _BUILT_BY_ARGS.get((region_key, base.path, over_key, buffer_km, _stamp(base.path), sites, cif))
    if built is not None:
        return _copy_graph(built)
    if not cache.enabled(None):
        return None
    return cache.load_pickle("network", _disk_key(region_key, base, over_key, buffer_km, sites, cif), nx.MultiDiGraph)


def _build_args(region: Any, scenario: "str | Scenario", assumptions: Any, buffer_km: float | None,
                sites: Iterable[str]) -> tuple[tuple[str, ...], Scenario, tuple, float, tuple[str, ...]]:
    """What a build is keyed on: (district codes, scenario, sorted overrides, buffer km, extra site ids)."""
    sc = load_scenario(scenario)
    key = tuple(sorted(get_region(region).lad_codes))
    extra = tuple(dict.fromkeys(str(s) for s in ([sites] if isinstance(sites, str) else sites)))
    over_key = tuple(sorted(assumption_overrides(assumptions).items()))
    return key, sc, over_key, float(reach_km("network", buffer_km)), extra


def build_network(*, region: Any = "d2n2", scenario: "str | Scenario" = "base",
                  assumptions: "Assumptions | Mapping[str, Any] | None" = None, buffer_km: float | None = None,
                  sites: Iterable[str] = (), gtfs: "str | os.PathLike | Iterable[str | os.PathLike] | None" = None,
                  gtfs_date: Any = None, departure: str = "08:00", window_min: int = 60, copy: bool = True,
                  cache: bool | None = None, cif: "str | os.PathLike | bool | None" = None,
                  keep: bool = True) -> nx.MultiDiGraph:
    """Build the multimodal network of ``region`` under ``scenario``.

    Parameters
    ----------
    region: "d2n2", "llep", "d2n2_llep" or district codes: its LSOA 2021 zones (population-weighted
        centroids) and sites (within ``buffer_km`` of it) are the terminals.
    scenario: a name in ``layers/scenarios`` (``list_scenarios()``), a path, or a :class:`Scenario`.
    assumptions: None (``layers/assumptions.toml``), a dict of overrides (``{"road.motorway_kmh": 90}``)
        or an :class:`Assumptions` object. The scenario's own ``[assumptions]`` apply first.
    buffer_km: strategic roads, sites and job destinations within this distance (km) of the region
        outline are kept (default: the assumption ``reach.network_km``, 30 km); all GB rail
        stations and service patterns are always kept (times to London, Leeds ... exist).
    sites: site ids (of the ``sites`` layer) to include wherever they lie (each with its own
        roads, see the module docstring); the scores add the four sites of their contract.
        Unknown ids raise :class:`~lisgeo.errors.UnknownNameError`.
    gtfs: GTFS feeds (zips or folders; the Bus Open Data Service publishes them for every English
        region, the national rail timetable as GTFS too) for the service day ``gtfs_date`` and
        departures from ``departure`` over ``window_min`` minutes: the graph then also routes
        ``mode="transit"`` (walk + bus + tram + rail by timetable, the median over the departure
        minutes, :mod:`lisgeo.network.transit`). Without it ``transit`` is refused and the
        strategic model's public transport is ``rail`` only.

    copy: True (default): a new, independent ``networkx.MultiDiGraph`` to edit at will (about 1.3 s
        for a region's 310,000 edges). False: a *frozen* graph (``nx.freeze``) that shares the
        cached build's nodes, edges and attribute dicts (no copying): for reading, as scoring does;
        adding or removing nodes or edges raises, and node or edge attributes must not be changed
        in place (they are the cache's). Its ``G.graph`` is its own either way.
    cif: a rail timetable in ATOC CIF (the Rail Delivery Group's national timetable feed, a
        ``.zip``; a folder or ``.mca`` file too): its timetabled running times and dwells replace
        the default national sample's (``rail_segments``) wherever it runs a link; links it does not
        run stay modelled (:func:`lisgeo.network.rail.run_time_min`). With the full national feed
        every link of the network has its timetabled time. ``False``: no timetable at all, every
        link modelled (to see what the model alone gives).
    cache: False skips the disk cache of builds (:mod:`lisgeo.cache`, kind ``network``; keyed on
        the arguments, the scenario and authored files' bytes, the datasets' pinned sha256 and
        lisgeo's code); None (default) uses it unless ``LISGEO_NO_CACHE`` is set. The build is
        always cached in the process, per arguments, unless ``keep`` is False.
    keep: False: the build is not kept in this process: the graph returned is the build itself (read
        from the disk cache or made; no copy whatever ``copy`` says), the caller's own to change,
        freed once the caller drops it (and the cycles are collected). Its disk entry is written
        before it is returned. For a large network used once (``lisgeo validate``'s, whose roads
        reach 175 km beyond the region: 830,000 edges, about 0.8 GB, which a copy would double).

    Returns a ``networkx.MultiDiGraph`` with ``G.graph["scenario"]``, ``["assumptions"]`` (dict of
    every value used), ``["region"]``.
    """
    key, sc, over_key, buffer_km, extra = _build_args(region, scenario, assumptions, buffer_km, sites)
    load_assumptions(**{**sc.assumptions, **dict(over_key)})  # validate before the (slow) layer reads
    if cif is not None and cif is not False:
        from ..layers.rail import rail_timetable

        cif = os.path.abspath(os.fspath(cif))
        rail_timetable(cif)  # read (and checked) before the build: a bad file fails here, in one line
    reg = get_region(region)
    # edits to the scenario or assumptions file invalidate the cache
    stamp = _stamp(sc.path)
    from .. import cache as _cache

    disk_key = _disk_key(key, sc, over_key, buffer_km, extra, cif) if _cache.enabled(cache) else None
    if keep:
        built = _build_cached(key, sc.path, over_key, buffer_km, stamp, extra, disk_key, cif)
        G = _copy_graph(built) if copy else _shared_graph(built)
    else:
        G = built = _make_build(key, sc.path, over_key, buffer_km, stamp, extra, disk_key, cif, keep=False)
    table = _BUILT_TABLES.get(built)
    # frozen views of one build share their engines (also of a build read back from the disk); a
    # copy, which may change, has its own
    shared = None if copy or not keep else _SHARED_ENGINES.setdefault(built, {})
    if table is not None or shared is not None:
        from .engine import seed_engines

        seed_engines(G, table, shared=shared)
    G.graph["region"] = region if isinstance(region, str) else reg.label
    if gtfs is not None:
        from .gtfs import format_clock, parse_clock, read_gtfs

        if gtfs_date is None:
            from ..errors import ParameterError

            raise ParameterError("gtfs needs gtfs_date, the service day to route (e.g. '2024-03-05')")
        t0 = parse_clock(departure)
        paths = [gtfs] if isinstance(gtfs, (str, os.PathLike)) else list(gtfs)
        G.graph["transit_feed"] = read_gtfs(paths, date=gtfs_date, start=format_clock(t0),
                                            end=format_clock(t0 + 60 * int(window_min)), max_time_min=180)
        G.graph["transit_options"] = {"departure": format_clock(t0), "window_min": int(window_min)}
    return G
