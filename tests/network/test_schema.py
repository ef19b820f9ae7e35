"""The network's vocabulary: node ids round-trip, modes parse, each travel mode has its edges."""

from __future__ import annotations

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
