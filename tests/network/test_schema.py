"""The network's vocabulary: node ids round-trip, modes parse, each travel mode has its edges."""

from __future__ import annotations

import networkx as nx
import pytest

from lisgeo.errors import UnknownNameError
from lisgeo.network.schema import (
    MODE_EDGES,
    STATION_ROLES,
    EdgeMode,
    NodeKind,
    NodeRole,
    TransportMode,
    codes_of,
    has_role,
    kind_of_role,
    node_code,
    node_id,
    node_ids,
    node_kind,
    node_role,
    parse_mode,
)


def test_node_ids_round_trip():
    for role in NodeRole:
        n = node_id(role, "ABC")
        assert node_role(n) is role and node_code(n) == "ABC" and node_kind(n) is kind_of_role(role)
    assert node_id("zone", "E01013453") == "zone:E01013453"
    assert node_id(NodeRole.STATION, "NOT") == "rail:NOT" and node_id(NodeRole.ARRIVAL, "NOT") == "arr:NOT"
    assert node_id(NodeRole.STATION, "hs2_toton") == "rail:hs2_toton"  # a new HS2 station is a station
    assert node_ids("site", ["ema", "ratcliffe"]) == ["site:ema", "site:ratcliffe"]
    assert node_role("E01013453") is None and node_code("E01013453") == "E01013453"
    assert has_role(["rail:NOT", "arr:NOT", "zone:x"], NodeRole.STATION).tolist() == [True, False, False]
    assert has_role(["rail:NOT", "arr:NOT", "zone:x"], *STATION_ROLES).tolist() == [True, True, False]
    assert list(codes_of(["rail:NOT", "arr:LEI", "plain"])) == ["NOT", "LEI", "plain"]


def test_only_the_six_roles_remain():
    assert {r.value for r in NodeRole} == {"zone", "site", "dest", "road", "station", "arrival"}
    # the old service-pattern, platform and HS2-platform ids are not nodes of any role
    for old in ("svc:12:NOT", "plat:NOT", "hs2p:hs2_toton", "hs2:hs2_toton"):
        assert node_role(old) is None and node_code(old) == old
    assert not hasattr(NodeRole, "SERVICE") and not hasattr(NodeRole, "PLATFORM")


def test_kinds_are_coarser_than_roles():
    assert kind_of_role(NodeRole.STATION) is NodeKind.STATION and kind_of_role(NodeRole.ARRIVAL) is NodeKind.STATION
    assert kind_of_role(NodeRole.ZONE) is NodeKind.ZONE and NodeKind.HS2.value == "hs2"


def test_modes_parse_and_pt_is_explained():
    assert parse_mode("CAR") is TransportMode.CAR and parse_mode(TransportMode.RAIL) is TransportMode.RAIL
    with pytest.raises(UnknownNameError, match="now called 'rail'"):
        parse_mode("pt")
    with pytest.raises(UnknownNameError, match="valid modes are: car, rail"):
        parse_mode("bus")
    assert parse_mode("bus", allowed=TransportMode) is TransportMode.BUS


def test_edge_modes_and_their_travel_modes():
    assert {m.value for m in EdgeMode} == {"road", "local", "access_car", "park_ride", "access_walk", "rail", "hs2",
                                           "interchange", "concourse"}
    used = set().union(*MODE_EDGES.values())
    assert used == set(EdgeMode)  # every edge mode belongs to a travel mode
    assert MODE_EDGES[TransportMode.CAR] == {"road", "local", "access_car", "park_ride"}
    assert MODE_EDGES[TransportMode.RAIL] == {"rail", "hs2", "interchange", "concourse", "access_walk", "park_ride"}
    # park and ride ends a car trip at a station and starts a rail trip there; local links are not rail
    assert EdgeMode.LOCAL not in MODE_EDGES[TransportMode.RAIL]


def test_add_edge_table_equals_add_edges_from():
    """The bulk writer gives the graph add_edges_from gives: keys of parallel edges, order, own dicts."""
    import networkx as nx
    import numpy as np

    from lisgeo.network.schema import add_edge_table

    u = ["a", "b", "a", "c", "a"]
    v = ["b", "a", "b", "a", "c"]
    t = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    G = nx.MultiDiGraph()
    G.add_node("a", kind="zone")
    H = G.copy()
    add_edge_table(G, u, v, {"time_min": t, "mode": "local"})
    H.add_edges_from((a, b, {"time_min": float(x), "mode": "local"}) for a, b, x in zip(u, v, t))
    assert list(G.edges(keys=True, data=True)) == list(H.edges(keys=True, data=True))
    assert list(G.pred["a"]) == list(H.pred["a"]) and dict(G.nodes(data=True)) == dict(H.nodes(data=True))
    assert G["a"]["b"][1] == {"time_min": 3.0, "mode": "local"} and type(G["a"]["b"][1]["time_min"]) is float
    G["a"]["b"][0]["time_min"] = 9.0  # every edge has a dict of its own
    assert G["a"]["b"][1]["time_min"] == 3.0
    with pytest.raises(ValueError, match="3 values for 5 edges"):
        add_edge_table(G, u, v, {"time_min": t[:3]})
    F = nx.freeze(nx.MultiDiGraph())
    with pytest.raises(nx.NetworkXError):
        add_edge_table(F, ["a"], ["b"], {})  # a frozen graph stays frozen


def test_edge_log_gives_the_engines_table_until_edges_change_another_way():
    """logged_edge_table: the edges written by add_edge_table/add_edge_list, the same rows the graph
    holds; None as soon as an edge came another way, or after forget_edge_log (apply_edits)."""
    import networkx as nx

    from lisgeo.network.engine import _edge_table
    from lisgeo.network.schema import add_edge_list, add_edge_table, forget_edge_log, logged_edge_table

    G = nx.MultiDiGraph()
    add_edge_list(G, [("a", "b", {"time_min": 1.0, "mode": "road"}), ("b", "a", {"time_min": 2.0, "mode": "road"})])
    add_edge_table(G, ["a", "c"], ["c", "a"], {"time_min": [3.0, 4.0], "mode": "local"})
    got = logged_edge_table(G)
    rows = lambda df: sorted(map(tuple, df[["u", "v", "mode", "time_min"]].to_numpy().tolist()))
    assert rows(got) == rows(_edge_table(G)) == [("a", "b", "road", 1.0), ("a", "c", "local", 3.0),
                                                 ("b", "a", "road", 2.0), ("c", "a", "local", 4.0)]
    G.add_edge("c", "b", time_min=5.0, mode="local")  # not through the log
    assert logged_edge_table(G) is None
    H = nx.MultiDiGraph()
    H.add_edge("x", "y", time_min=1.0)  # edges before the first logged write: never a log
    add_edge_table(H, ["y"], ["x"], {"time_min": [1.0]})
    assert logged_edge_table(H) is None
    K = nx.MultiDiGraph()
    add_edge_table(K, ["a"], ["b"], {"time_min": [1.0], "mode": "local"})
    forget_edge_log(K)
    assert logged_edge_table(K) is None


@pytest.mark.realdata
def test_built_network_reads_its_edge_table_from_the_log(real_data, monkeypatch):
    """build_network's checks and engines read the logged table: the same edges as one pass over
    the graph; a scenario's edits (apply_edits) drop the log."""
    import lisgeo.network.graph as graph
    from lisgeo.network.engine import _edge_table
    from lisgeo.network.scenario import apply_edits
    from lisgeo.network.schema import add_edge_table, logged_edge_table

    seen = []
    real = graph.logged_edge_table
    monkeypatch.setattr(graph, "logged_edge_table", lambda G: seen.append(real(G)) or seen[-1])
    G = graph.build_network(region=["E06000015"], scenario="base", copy=False, cache=False, buffer_km=5.0)
    assert seen and seen[-1] is not None  # (a first build of these arguments in this process)
    key = lambda df: sorted(zip(df["u"], df["v"], df["mode"].astype(str), df["time_min"].astype(float)))
    assert key(seen[-1]) == key(_edge_table(G))
    H = nx.MultiDiGraph()
    add_edge_table(H, ["rail:DBY"], ["arr:NOT"], {"time_min": [20.0], "mode": "rail"})
    apply_edits(H, [{"op": "add_link", "from": "rail:DBY", "to": "arr:NOT", "time_min": 15.0, "mode": "rail"}])
    assert logged_edge_table(H) is None
