"""The multimodal network: its vocabulary, graph assembly, scenarios, travel-time engine and isochrones.

networkx is the model (``build_network`` returns a ``networkx.MultiDiGraph``); bulk shortest
paths run on compiled code (:mod:`lisgeo.network.engine`) and equal networkx's Dijkstra.
:mod:`.schema` names nodes, edge modes and travel modes; :mod:`.access` joins points to the
network; :mod:`.road`, :mod:`.rail` and :mod:`.osm` build its parts; :mod:`.graph` assembles a
region's network; :mod:`.scenario` edits it.
"""

from ..assumptions import Assumptions, load_assumptions
from .engine import Engine, build_engine, reachability, travel_time_matrix
from .graph import build_network, check_graph, graph_summary
from .isochrones import isochrones, travel_time_surface
from .osm import attach_points, graph_from_osm
from .rail import destination_nodes, headway_wait_min
from .scenario import Scenario, apply_edits, list_scenarios, load_scenario
from .schema import EdgeMode, NodeKind, NodeRole, TransportMode, node_code, node_id

__all__ = [
    "Assumptions", "load_assumptions", "build_network", "check_graph", "graph_summary",
    "destination_nodes", "headway_wait_min", "Scenario", "apply_edits", "list_scenarios", "load_scenario",
    "Engine", "build_engine", "travel_time_matrix", "reachability", "isochrones", "travel_time_surface",
    "graph_from_osm", "attach_points", "network_to_gdfs",
    "EdgeMode", "NodeKind", "NodeRole", "TransportMode", "node_code", "node_id",
]


def network_to_gdfs(G):
    """(nodes, edges) GeoDataFrames of a graph (points; straight-line edges), in ``G.graph["crs"]``."""
    import geopandas as gpd
    import shapely

    crs = G.graph.get("crs", "EPSG:27700")
    nid = list(G.nodes)
    nd = gpd.GeoDataFrame(
        {"node": nid, "kind": [str(G.nodes[n].get("kind")) for n in nid]},
        geometry=gpd.points_from_xy([G.nodes[n]["x"] for n in nid], [G.nodes[n]["y"] for n in nid]), crs=crs,
    ).set_index("node", drop=False)
    nd.index.name = None
    rows = [(u, v, str(d.get("mode")), d.get("time_min"), d.get("length_km")) for u, v, d in G.edges(data=True)]
    xy = {n: (G.nodes[n]["x"], G.nodes[n]["y"]) for n in nid}
    geoms = shapely.linestrings([[xy[u], xy[v]] for u, v, *_ in rows]) if rows else []
    ed = gpd.GeoDataFrame(rows, columns=["u", "v", "mode", "time_min", "length_km"], geometry=geoms, crs=crs)
    return nd, ed
