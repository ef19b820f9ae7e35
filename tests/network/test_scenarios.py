"""Scenarios: the files, their validation, edits on a graph, and HS2 never making a journey slower."""

from __future__ import annotations

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest

from lisgeo.errors import ConfigError, LisgeoError, NetworkError, UnknownNameError
from lisgeo.network import (
    apply_edits,
    build_network,
    destination_nodes,
    list_scenarios,
    load_scenario,
    travel_time_matrix,
)

SCENARIOS = ["base", "hs2_2b", "hs2_phase1", "irp", "my_edit_example"]


def test_the_scenario_files():
    assert list_scenarios() == SCENARIOS
    assert load_scenario("base").hs2_scheme is None and load_scenario("hs2_2b").hs2_scheme == "hs2_2b"
    assert load_scenario("irp").hs2_scheme == "irp" and load_scenario("hs2_phase1").hs2_scheme == "hs2_phase1"
    ex = load_scenario("my_edit_example")
    assert [e["op"] for e in ex.edits] == ["add_link", "add_link", "close_station", "set_speed"]
    assert ex.assumptions == {"pt.interchange_penalty_min": 8.0}
    assert ex.edits[0]["from"] == "rail:NOT" and ex.edits[0]["to"] == "arr:LEI" and ex.edits[0]["both_ways"] is False


def test_every_scenario_says_what_is_real():
    states = {s: load_scenario(s).status["state"] for s in SCENARIOS}
    assert states == {"base": "built", "hs2_2b": "cancelled", "hs2_phase1": "under_construction", "irp": "cancelled",
                      "my_edit_example": "illustrative"}
    for s in SCENARIOS:
        st = load_scenario(s).status
        if st["state"] != "illustrative":
            assert st["date"] and st["source"]


def test_unknown_scenario_lists_the_files():
    with pytest.raises(UnknownNameError, match=", ".join(SCENARIOS)):
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
    with pytest.raises(UnknownNameError, match="board"):  # the old boarding edges are gone
        load_scenario(_write(tmp_path, '[[edits]]\nop = "add_link"\nfrom = "a"\nto = "b"\ntime_min = 3\nmode = "board"\n'))
    with pytest.raises(ConfigError, match="itself"):
        load_scenario(_write(tmp_path, '[[edits]]\nop = "add_link"\nfrom = "rail:NOT"\nto = " rail:NOT"\ntime_min = 3\nmode = "rail"\n'))
    with pytest.raises(NetworkError, match="kmh"):
        load_scenario(_write(tmp_path, '[[edits]]\nop = "set_speed"\nroad_class = "trunk"\nkmh = 0\n'))
    with pytest.raises(UnknownNameError, match="nonsense"):
        load_scenario(_write(tmp_path, '[assumptions]\nnonsense = 3\n'))
    with pytest.raises(LisgeoError, match="lacks"):
        load_scenario(_write(tmp_path, '[[edits]]\nop = "close_station"\n'))


def test_scenario_status_validation(tmp_path):
    s = load_scenario(_write(tmp_path, ""))  # no [status]: illustrative, and it says so
    assert s.status["state"] == "illustrative" and "no [status]" in s.status["note"]
    with pytest.raises(ConfigError, match="dreamt"):
        load_scenario(_write(tmp_path, '[status]\nstate = "dreamt"\n'))
    with pytest.raises(ConfigError, match="date and source"):
        load_scenario(_write(tmp_path, '[status]\nstate = "built"\ndate = "2019"\n'))
    with pytest.raises(ConfigError, match=r"\[status\]"):
        load_scenario(_write(tmp_path, '[status]\nstate = "built"\ncolour = "red"\n'))
    ok = load_scenario(_write(tmp_path, '[status]\nstate = "proposed"\ndate = "2030"\nsource = "a plan"\n'))
    assert ok.status == {"state": "proposed", "date": "2030", "source": "a plan"}


def _g():
    G = nx.MultiDiGraph()
    for n, k in [("zone:a", "zone"), ("road:1", "road"), ("road:2", "road"), ("zone:b", "zone"), ("rail:X", "station"),
                 ("arr:X", "station"), ("rail:Y", "station"), ("arr:Y", "station")]:
        G.add_node(n, kind=k, x=0.0, y=0.0)
    G.add_edge("zone:a", "road:1", time_min=2.0, mode="access_car")
    G.add_edge("road:1", "road:2", time_min=6.0, mode="road", road_class="trunk", length_km=8.0)
    G.add_edge("road:2", "zone:b", time_min=3.0, mode="access_car")
    G.add_edge("zone:a", "rail:X", time_min=1.0, mode="access_walk")
    G.add_edge("rail:X", "arr:Y", time_min=20.0, mode="rail")
    G.add_edge("rail:Y", "arr:X", time_min=20.0, mode="rail")
    for s in ("X", "Y"):
        G.add_edge(f"rail:{s}", f"arr:{s}", time_min=0.0, mode="concourse")
        G.add_edge(f"arr:{s}", f"rail:{s}", time_min=5.0, mode="interchange")
    G.add_edge("arr:Y", "zone:b", time_min=1.0, mode="access_walk")
    G.add_edge("arr:X", "zone:a", time_min=1.0, mode="access_walk")
    return G


def load_scenario_edits(body: str):
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "s.toml"
        p.write_text('name = "s"\n' + body)
        return load_scenario(p).edits


def test_closed_station_trains_run_through():
    from lisgeo.network import load_assumptions
    from lisgeo.network.rail import add_rail

    a = load_assumptions()  # 36 trains: wait 540 / 36 = 15 min, capped at 10
    st = gpd.GeoDataFrame({"crs": ["AAA", "XXX", "BBB"], "daily_trains": [36.0, 36.0, 0.0]},
                          geometry=gpd.points_from_xy([0, 10000, 20000], [0, 0, 0]), crs="EPSG:27700")
    G = add_rail(nx.MultiDiGraph(), st, pd.DataFrame({"pattern_id": [1], "stops": ["AAA;XXX;BBB"], "daily_trains": [36.0]}), a)
    G.add_node("zone:a", kind="zone", x=0.0, y=0.0)
    G.add_edge("zone:a", "rail:AAA", time_min=1.0, mode="access_walk")
    link = a["pt.stop_penalty_min"] + 10 / a["pt.run_kmh"] * 60  # 10 km links (the pattern has no operator: factor 1)
    before = travel_time_matrix(G, ["zone:a"], ["arr:XXX", "arr:BBB"], mode="rail").iloc[0]
    assert before.tolist() == pytest.approx([1 + 10 + link, 1 + 10 + 2 * link + a["pt.dwell_min"]])  # a dwell at X
    apply_edits(G, load_scenario_edits('[[edits]]\nop = "close_station"\ncrs = "xxx"\n'))  # any case
    after = travel_time_matrix(G, ["zone:a"], ["arr:XXX", "arr:BBB"], mode="rail").iloc[0]
    # no stop at XXX, but the A -> B service still calls at B in the same time (it still runs through X)
    assert np.isnan(after["arr:XXX"]) and after["arr:BBB"] == before["arr:BBB"]
    assert G.degree("rail:XXX") == 0 and G.degree("arr:XXX") == 0 and G.nodes["arr:XXX"]["closed"]
    assert G.has_edge("rail:AAA", "arr:BBB") and G.number_of_nodes() == 7  # nodes stay, marked closed


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
both_ways = true
[[edits]]
op = "add_link"
from = "rail:X"
to = "arr:Y"
time_min = 12.0
mode = "rail"
[[edits]]
op = "close_station"
crs = "x"
'''))
    G = _g()
    assert travel_time_matrix(G, ["zone:a"], ["zone:b"]).iloc[0, 0] == 11.0
    assert travel_time_matrix(G, ["zone:a"], ["zone:b"], mode="rail").iloc[0, 0] == 22.0  # walk 1, train 20, walk 1
    apply_edits(G, sc.edits[:3])
    assert G["road:1"]["road:2"][0]["time_min"] == 12.0  # 8 km at 40 km/h
    assert travel_time_matrix(G, ["zone:a"], ["zone:b"]).iloc[0, 0] == 9.5  # the new link beats 2 + 12 + 3
    assert travel_time_matrix(G, ["zone:b"], ["zone:a"]).iloc[0, 0] == 9.5  # both ways
    # the new train: street side of X to the arrival side of Y, beside the existing service
    assert [d["time_min"] for d in G["rail:X"]["arr:Y"].values()] == [20.0, 12.0] and G["rail:X"]["arr:Y"][1]["edit"] == 3
    assert not G.has_edge("arr:Y", "rail:X") and G["rail:Y"]["arr:X"][0]["time_min"] == 20.0
    assert travel_time_matrix(G, ["zone:a"], ["zone:b"], mode="rail").iloc[0, 0] == 14.0
    apply_edits(G, sc.edits[3:])
    assert G.degree("rail:X") == 0 and G.degree("arr:X") == 0 and G.nodes["rail:X"]["closed"] and G.nodes["arr:X"]["closed"]
    assert np.isnan(travel_time_matrix(G, ["zone:a"], ["zone:b"], mode="rail").iloc[0, 0])
    assert len(G.graph["edits"]) == 4


def test_edit_naming_a_missing_node(tmp_path):
    sc = load_scenario(_write(tmp_path, '[[edits]]\nop = "add_link"\nfrom = "zone:a"\nto = "road:99"\ntime_min = 1\nmode = "road"\n'))
    with pytest.raises(NetworkError, match="road:99"):
        apply_edits(_g(), sc.edits)
    sc = load_scenario(_write(tmp_path, '[[edits]]\nop = "add_link"\nfrom = "svc:1:X"\nto = "arr:Y"\ntime_min = 1\nmode = "rail"\n'))
    with pytest.raises(NetworkError, match="svc:1:X"):  # old service-pattern ids are not nodes
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


@pytest.mark.parametrize("scheme", ["hs2_2b", "irp", "hs2_phase1"])
def test_hs2_never_makes_a_journey_slower(base, scheme):
    H = build_network(region="d2n2", scenario=scheme)
    assert H.graph["scenario"] == scheme and H.graph["hs2_scheme"] == scheme
    zones = sorted(n for n, k in base.nodes(data="kind") if k == "zone")
    dests = zones + sorted(n for n, k in base.nodes(data="kind") if k == "site")
    for name in ("london", "birmingham", "leeds", "sheffield", "manchester"):
        dests = dests + destination_nodes(base, name)
    # HS2 adds rail links and stations only: beside park-and-ride links into its new stations (where no car edge
    # leaves), the car network is the same edge for edge, so car times cannot change
    from lisgeo.network.engine import mode_edges

    new = {n for n, k in H.nodes(data="kind") if k == "hs2"}
    car_b, car_h = (mode_edges(g, "car") for g in (base, H))
    assert set(car_h.loc[car_h["v"].isin(new), "u"].map(lambda n: n.split(":")[0])) <= {"zone", "site", "dest"}
    assert not car_h["u"].isin(new).any()
    car_b, car_h = (c[~c["v"].isin(new)].sort_values(["u", "v", "time_min"]).reset_index(drop=True) for c in (car_b, car_h))
    pd.testing.assert_frame_equal(car_b, car_h)
    b = travel_time_matrix(base, zones, dests, mode="rail").to_numpy()
    h = travel_time_matrix(H, zones, dests, mode="rail").to_numpy()
    assert not (np.isfinite(b) & ~np.isfinite(h)).any()
    assert (h[np.isfinite(b)] <= b[np.isfinite(b)] + 1e-9).all()
    lon_b = travel_time_matrix(base, zones, destination_nodes(base, "london"), mode="rail").min(axis=1)
    lon_h = travel_time_matrix(H, zones, destination_nodes(H, "london"), mode="rail").min(axis=1)
    assert (lon_h <= lon_b + 1e-9).all() and 100 < lon_b.median() < 130
    if scheme == "hs2_phase1":
        # nothing new east of Birmingham: the East Midlands gain (next to) nothing
        assert lon_h.median() == pytest.approx(lon_b.median(), abs=0.5)
    else:
        # HS2 from Toton (2b) or East Midlands Parkway and the city stations (IRP): half an hour off London
        assert lon_h.median() < lon_b.median() - 20 and (lon_h < lon_b - 10).mean() > 0.5


def test_user_edit_example_applies(base):
    G = build_network(region="d2n2", scenario="my_edit_example")
    assert G.graph["assumptions"]["pt.interchange_penalty_min"] == 8.0
    assert G.degree("rail:LGE") == 0 and G.degree("arr:LGE") == 0 and G.nodes["rail:LGE"]["closed"]
    # the new service, street side of Nottingham to the arrival side of Leicester, beside the existing ones
    new = [d for d in G["rail:NOT"]["arr:LEI"].values() if d.get("edit")]
    assert [(d["time_min"], d["mode"], d["edit"]) for d in new] == [(32.5, "rail", 1)]
    assert [d["time_min"] for d in G["rail:LEI"]["arr:NOT"].values() if d.get("edit")] == [32.5]
    assert len(G["rail:NOT"]["arr:LEI"]) == len(base["rail:NOT"]["arr:LEI"]) + 1
    assert G["arr:NOT"]["rail:NOT"][0]["time_min"] == 8.0  # the scenario's interchange penalty
    # trains still run through Long Eaton: services between its neighbours (Nottingham - Derby, Beeston - Spondon)
    # keep their times
    for u, v in [("NOT", "DBY"), ("BEE", "SPO"), ("DBY", "LEI")]:
        assert G[f"rail:{u}"][f"arr:{v}"][0]["time_min"] == base[f"rail:{u}"][f"arr:{v}"][0]["time_min"]
    trunk = [(u, v) for u, v, d in G.edges(data=True) if d.get("road_class") == "trunk"][0]
    e = G[trunk[0]][trunk[1]][0]
    assert e["time_min"] == pytest.approx(e["length_km"] / 70 * 60)  # every trunk A road now at 70 km/h
    assert e["length_km"] == base[trunk[0]][trunk[1]][0]["length_km"]
