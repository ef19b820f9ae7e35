"""Scenarios: the files, their validation, edits on a graph, and HS2 never making a journey slower."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

from lisgeo.errors import LisgeoError, NetworkError, UnknownNameError
from lisgeo.network import apply_edits, build_network, destination_nodes, list_scenarios, load_scenario, travel_time_matrix


def test_the_four_scenario_files():
    assert list_scenarios() == ["base", "hs2_2b", "irp", "my_edit_example"]
    assert load_scenario("base").hs2_scheme is None and load_scenario("hs2_2b").hs2_scheme == "hs2_2b"
    assert load_scenario("irp").hs2_scheme == "irp"
    ex = load_scenario("my_edit_example")
    assert [e["op"] for e in ex.edits] == ["add_link", "close_station", "set_speed"]
    assert ex.assumptions == {"pt.interchange_penalty_min": 8.0}


def test_unknown_scenario_lists_the_files():
    with pytest.raises(UnknownNameError, match="base, hs2_2b, irp, my_edit_example"):
        load_scenario("hs3")


def _write(tmp_path, body: str):
    p = tmp_path / "s.toml"
    p.write_text('name = "s"\n' + body)
    return p


def test_scenario_validation(tmp_path):
    with pytest.raises(LisgeoError, match="colour"):
        load_scenario(_write(tmp_path, 'colour = "red"\n'))
    with pytest.raises(UnknownNameError, match="hs2_3"):
        load_scenario(_write(tmp_path, 'hs2_scheme = "hs2_3"\n'))
    with pytest.raises(UnknownNameError, match="teleport"):
        load_scenario(_write(tmp_path, '[[edits]]\nop = "teleport"\n'))
    with pytest.raises(NetworkError, match="time_min"):
        load_scenario(_write(tmp_path, '[[edits]]\nop = "add_link"\nfrom = "a"\nto = "b"\ntime_min = -3\nmode = "road"\n'))
    with pytest.raises(NetworkError, match="kmh"):
        load_scenario(_write(tmp_path, '[[edits]]\nop = "set_speed"\nroad_class = "trunk"\nkmh = 0\n'))
    with pytest.raises(UnknownNameError, match="nonsense"):
        load_scenario(_write(tmp_path, '[assumptions]\nnonsense = 3\n'))
    with pytest.raises(LisgeoError, match="lacks"):
        load_scenario(_write(tmp_path, '[[edits]]\nop = "close_station"\n'))


def _g():
    G = nx.MultiDiGraph()
    for n, k in [("zone:a", "zone"), ("road:1", "road"), ("road:2", "road"), ("zone:b", "zone"), ("rail:X", "station"),
                 ("arr:X", "station"), ("plat:X", "station")]:
        G.add_node(n, kind=k, x=0.0, y=0.0)
    G.add_edge("zone:a", "road:1", time_min=2.0, mode="access_car")
    G.add_edge("road:1", "road:2", time_min=6.0, mode="road", road_class="trunk", length_km=8.0)
    G.add_edge("road:2", "zone:b", time_min=3.0, mode="access_car")
    G.add_edge("zone:a", "rail:X", time_min=1.0, mode="access_walk")
    G.add_edge("rail:X", "plat:X", time_min=5.0, mode="board")
    G.add_edge("plat:X", "arr:X", time_min=0.0, mode="alight")
    G.add_edge("arr:X", "zone:a", time_min=1.0, mode="access_walk")
    return G


def test_closed_station_trains_run_through():
    from lisgeo.network import load_assumptions
    from lisgeo.network.rail import add_rail
    import geopandas as gpd
    import pandas as pd

    a = load_assumptions()
    st = gpd.GeoDataFrame({"crs": ["AAA", "XXX", "BBB"], "daily_trains": [36.0, 36.0, 0.0]},
                          geometry=gpd.points_from_xy([0, 10000, 20000], [0, 0, 0]), crs="EPSG:27700")
    G = add_rail(nx.MultiDiGraph(), st, pd.DataFrame({"pattern_id": [1], "stops": ["AAA;XXX;BBB"], "daily_trains": [36.0]}), a)
    G.add_node("zone:a", kind="zone", x=0.0, y=0.0)
    G.add_edge("zone:a", "rail:AAA", time_min=1.0, mode="access_walk")
    before = travel_time_matrix(G, ["zone:a"], ["arr:XXX", "arr:BBB"], mode="rail").iloc[0]
    assert before.tolist() == pytest.approx([1 + 15 + 11.5, 1 + 15 + 23.0])
    apply_edits(G, load_scenario_edits('[[edits]]\nop = "close_station"\ncrs = "XXX"\n'))
    after = travel_time_matrix(G, ["zone:a"], ["arr:XXX", "arr:BBB"], mode="rail").iloc[0]
    assert np.isnan(after["arr:XXX"]) and after["arr:BBB"] == before["arr:BBB"]  # no stop at XXX, trains run through
    assert G.degree("rail:XXX") == 0 and G.degree("arr:XXX") == 0 and G.nodes["arr:XXX"]["closed"]


def load_scenario_edits(body: str):
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "s.toml"
        p.write_text('name = "s"\n' + body)
        return load_scenario(p).edits


def test_edits_on_a_graph(tmp_path):
    sc = load_scenario(_write(tmp_path, '''
[[edits]]
op = "set_speed"
road_class = "trunk"
kmh = 40
[[edits]]
op = "add_link"
from = "zone:a"
to = "zone:b"
time_min = 9.5
mode = "local"
[[edits]]
op = "close_station"
crs = "x"
'''))
    G = _g()
    assert travel_time_matrix(G, ["zone:a"], ["zone:b"]).iloc[0, 0] == 11.0
    apply_edits(G, sc.edits)
    assert G["road:1"]["road:2"][0]["time_min"] == 12.0  # 8 km at 40 km/h
    assert travel_time_matrix(G, ["zone:a"], ["zone:b"]).iloc[0, 0] == 9.5  # the new link beats 2 + 12 + 3
    assert G.degree("rail:X") == 0 and G.degree("arr:X") == 0 and G.nodes["rail:X"]["closed"] and G.nodes["arr:X"]["closed"]
    assert len(G.graph["edits"]) == 3


def test_edit_naming_a_missing_node(tmp_path):
    sc = load_scenario(_write(tmp_path, '[[edits]]\nop = "add_link"\nfrom = "zone:a"\nto = "road:99"\ntime_min = 1\nmode = "road"\n'))
    with pytest.raises(NetworkError, match="road:99"):
        apply_edits(_g(), sc.edits)
    sc = load_scenario(_write(tmp_path, '[[edits]]\nop = "close_station"\ncrs = "QQQ"\n'))
    with pytest.raises(NetworkError, match="QQQ"):
        apply_edits(_g(), sc.edits)
    sc = load_scenario(_write(tmp_path, '[[edits]]\nop = "set_speed"\nroad_class = "motorway"\nkmh = 50\n'))
    with pytest.raises(NetworkError, match="motorway"):
        apply_edits(_g(), sc.edits)


# ------------------------------------------------------------------ real data
@pytest.fixture(scope="session")
def base(real_data):
    return build_network(region="d2n2")


@pytest.mark.parametrize("scheme", ["hs2_2b", "irp"])
def test_hs2_never_makes_a_journey_slower(base, scheme):
    H = build_network(region="d2n2", scenario=scheme)
    assert H.graph["scenario"] == scheme and H.graph["hs2_scheme"] == scheme
    zones = sorted(n for n, k in base.nodes(data="kind") if k == "zone")
    dests = zones + sorted(n for n, k in base.nodes(data="kind") if k == "site")
    for name in ("london", "birmingham", "leeds", "sheffield", "manchester"):
        dests = dests + destination_nodes(base, name)
    for mode in ("car", "rail"):
        b = travel_time_matrix(base, zones, dests, mode=mode).to_numpy()
        h = travel_time_matrix(H, zones, dests, mode=mode).to_numpy()
        assert not (np.isfinite(b) & ~np.isfinite(h)).any()
        assert (h[np.isfinite(b)] <= b[np.isfinite(b)] + 1e-9).all()
        if mode == "rail":
            assert (h[np.isfinite(b)] < b[np.isfinite(b)] - 1).mean() > 0.05  # and it helps somewhere
    lon_b = travel_time_matrix(base, zones, destination_nodes(base, "london"), mode="rail").min(axis=1)
    lon_h = travel_time_matrix(H, zones, destination_nodes(H, "london"), mode="rail").min(axis=1)
    assert (lon_h <= lon_b + 1e-9).all() and lon_h.median() < lon_b.median() - 15


def test_user_edit_example_applies(base):
    G = build_network(region="d2n2", scenario="my_edit_example")
    assert G.graph["assumptions"]["pt.interchange_penalty_min"] == 8.0
    assert G.degree("rail:LGE") == 0 and G.degree("arr:LGE") == 0
    assert G["plat:NOT"]["plat:LEI"][0]["time_min"] == 25.0
    assert G["arr:NOT"]["rail:NOT"][0]["time_min"] == 8.0  # the scenario's interchange penalty
    # the new link boards at Nottingham's all-trains wait and sets down at Leicester's arrival side
    assert G.has_edge("rail:NOT", "plat:NOT") and G.has_edge("plat:LEI", "arr:LEI")
    # trains still run through Long Eaton: its calls keep their in-vehicle edges, without boarding or alighting
    calls = [n for n in G if str(n).startswith("svc:") and n.endswith(":LGE")]
    assert len(calls) > 5
    for n in calls:
        assert {d["mode"] for *_, d in G.in_edges(n, data=True)} <= {"rail"}
        assert {d["mode"] for *_, d in G.out_edges(n, data=True)} <= {"rail"}
    assert sum(G.in_degree(n) for n in calls) > 0 and sum(G.out_degree(n) for n in calls) > 0
    trunk = [(u, v) for u, v, d in G.edges(data=True) if d.get("road_class") == "trunk"][0]
    assert G[trunk[0]][trunk[1]][0]["time_min"] == pytest.approx(base[trunk[0]][trunk[1]][0]["time_min"] * 80 / 70)
