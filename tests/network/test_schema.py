"""The network's vocabulary: node ids round-trip, modes parse, each travel mode has its edges."""

from __future__ import annotations

import pytest

from lisgeo.errors import UnknownNameError
from lisgeo.network.schema import (MODE_EDGES, EdgeMode, NodeKind, NodeRole, TransportMode, has_role, kind_of_role,
                                   node_code, node_id, node_ids, node_kind, node_role, parse_mode, service_node)


def test_node_ids_round_trip():
    for role in NodeRole:
        n = node_id(role, "ABC")
        assert node_role(n) is role and node_code(n) == "ABC" and node_kind(n) is kind_of_role(role)
    assert node_id("zone", "E01013453") == "zone:E01013453"
    assert node_id(NodeRole.STATION, "NOT") == "rail:NOT" and node_id(NodeRole.ARRIVAL, "NOT") == "arr:NOT"
    assert node_ids("site", ["ema", "ratcliffe"]) == ["site:ema", "site:ratcliffe"]
    assert service_node(12, "NOT") == "svc:12:NOT" and service_node(12, "NOT", 2) == "svc:12:NOT:2"
    assert node_code("svc:12:NOT") == "12:NOT" and node_role("svc:12:NOT") is NodeRole.SERVICE
    assert node_role("E01013453") is None and node_code("E01013453") == "E01013453"
    assert has_role(["rail:NOT", "arr:NOT", "zone:x"], NodeRole.STATION).tolist() == [True, False, False]


def test_kinds_are_coarser_than_roles():
    assert kind_of_role(NodeRole.PLATFORM) is NodeKind.STATION and kind_of_role(NodeRole.HS2_PLATFORM) is NodeKind.HS2


def test_modes_parse_and_pt_is_explained():
    assert parse_mode("CAR") is TransportMode.CAR and parse_mode(TransportMode.RAIL) is TransportMode.RAIL
    with pytest.raises(UnknownNameError, match="now called 'rail'"):
        parse_mode("pt")
    with pytest.raises(UnknownNameError, match="valid modes are: car, rail"):
        parse_mode("bus")
    assert parse_mode("bus", allowed=TransportMode) is TransportMode.BUS


def test_every_edge_mode_belongs_to_a_travel_mode():
    used = set().union(*MODE_EDGES.values())
    assert used == set(EdgeMode)
    # park and ride ends a car trip at a station and starts a rail trip there
    assert EdgeMode.PARK_RIDE in MODE_EDGES[TransportMode.CAR] and EdgeMode.PARK_RIDE in MODE_EDGES[TransportMode.RAIL]
    assert EdgeMode.LOCAL not in MODE_EDGES[TransportMode.RAIL]
