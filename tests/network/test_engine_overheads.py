"""Per-call overheads of the engine: the cached engine is found without scanning every edge on a
large graph (and the rule for in-place edits), one pass over the edges serves every mode, and
``method="auto"`` with a cut-off takes the bounded search. No timings here: benchmarks/ times them."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

from lisgeo.network import engine as engine_mod
from lisgeo.network.engine import build_engine, travel_time_matrix
from lisgeo.network.scenario import apply_edits


def _graph(seed: int = 0, n_core: int = 30, n_zone: int = 60) -> nx.MultiDiGraph:
    """Road junctions with classed links, zones with car access, local links, stations with walk access."""
    rng = np.random.default_rng(seed)
    G = nx.MultiDiGraph()
    for i in range(n_core):
        G.add_node(f"road:{i}", kind="road", x=float(rng.uniform(0, 5e4)), y=float(rng.uniform(0, 5e4)))
    for i in range(n_zone):
        G.add_node(f"zone:{i}", kind="zone", x=float(rng.uniform(0, 5e4)), y=float(rng.uniform(0, 5e4)))
    for i in range(n_core):  # a ring, so every junction reaches every other, plus chords
        for a, b in ((i, (i + 1) % n_core), ((i + 1) % n_core, i), tuple(rng.integers(0, n_core, 2))):
            if a != b:
                km = float(rng.uniform(2, 20))
                cls = "motorway" if rng.random() < 0.3 else "trunk"
                G.add_edge(f"road:{a}", f"road:{b}", time_min=km / 90 * 60, length_km=km, road_class=cls, mode="road")
    for i in range(n_zone):
        for j in rng.choice(n_core, size=2, replace=False):
            t = float(rng.uniform(1, 8))
            G.add_edge(f"zone:{i}", f"road:{j}", time_min=t, mode="access_car")
            G.add_edge(f"road:{j}", f"zone:{i}", time_min=t, mode="access_car")
    for _ in range(n_zone):
        a, b = rng.integers(0, n_zone, 2)
        if a != b:
            G.add_edge(f"zone:{a}", f"zone:{b}", time_min=float(rng.uniform(2, 9)), mode="local")
    for s in range(4):
        G.add_node(f"rail:S{s}", kind="station", x=float(rng.uniform(0, 5e4)), y=float(rng.uniform(0, 5e4)))
    for s in range(4):
        G.add_edge(f"rail:S{s}", f"rail:S{(s + 1) % 4}", time_min=12.0, mode="rail")
        for z in rng.choice(n_zone, size=8, replace=False):
            G.add_edge(f"zone:{z}", f"rail:S{s}", time_min=float(rng.uniform(5, 20)), mode="access_walk")
            G.add_edge(f"rail:S{s}", f"zone:{z}", time_min=float(rng.uniform(5, 20)), mode="access_walk")
    return G


def _zones(G):
    return [n for n, k in G.nodes(data="kind") if k == "zone"]


@pytest.fixture
def large(monkeypatch):
    """Treat every graph as large: no fingerprint of the edge times; count any that happens."""
    calls = []
    real = engine_mod._fingerprint
    monkeypatch.setattr(engine_mod, "FULL_CHECK_EDGES", 0)
    monkeypatch.setattr(engine_mod, "_fingerprint", lambda G: calls.append(1) or real(G))
    return calls


def test_cached_engine_found_without_scanning_the_edges(large, monkeypatch):
    G = _graph()
    tables = []
    real_table = engine_mod._edge_table
    monkeypatch.setattr(engine_mod, "_edge_table", lambda G: tables.append(1) or real_table(G))
    car = build_engine(G, mode="car")
    rail = build_engine(G, mode="rail")
    assert tables == [1]  # one pass over the edges serves both modes
    for _ in range(5):
        assert build_engine(G, mode="car") is car and build_engine(G, mode="rail") is rail
        travel_time_matrix(G, _zones(G)[:3], _zones(G)[:4])
    assert large == [] and tables == [1]


def test_small_graphs_still_see_in_place_time_edits():
    G = _graph()
    assert G.number_of_edges() <= engine_mod.FULL_CHECK_EDGES
    z = _zones(G)
    before = travel_time_matrix(G, z, z, mode="car")
    for _, _, d in G.edges(data=True):
        if d["mode"] == "road":
            d["time_min"] *= 2.0
    after = travel_time_matrix(G, z, z, mode="car")
    assert (after.to_numpy() >= before.to_numpy()).all() and (after.to_numpy() > before.to_numpy()).any()


def test_large_graph_rebuilds_on_count_changes_and_edits(large):
    G = _graph()
    z = _zones(G)
    e1 = build_engine(G, mode="car")
    G.add_edge(z[0], z[1], time_min=0.5, mode="local")  # a new edge: counts change
    e2 = build_engine(G, mode="car")
    assert e2 is not e1 and travel_time_matrix(G, [z[0]], [z[1]]).iloc[0, 0] == 0.5
    # apply_edits with a time-only edit (same nodes and edges): seen through G.graph["edits"]
    before = travel_time_matrix(G, z, z).to_numpy()
    apply_edits(G, ({"op": "set_speed", "road_class": "trunk", "kmh": 30.0},))
    e3 = build_engine(G, mode="car")
    assert e3 is not e2
    after = travel_time_matrix(G, z, z).to_numpy()
    assert (after >= before).all() and (after > before).any()
    assert build_engine(G, mode="car") is e3 and large == []


def test_large_graph_in_place_edit_needs_refresh(large):
    """The documented rule: on a large graph, a time changed in place (same nodes and edges) is
    not seen until ``refresh=True``."""
    G = _graph()
    z = _zones(G)
    old = travel_time_matrix(G, z, z, method="dijkstra")
    for _, _, d in G.edges(data=True):
        if d["mode"] == "access_car":
            d["time_min"] += 10.0
    stale = travel_time_matrix(G, z, z, method="dijkstra")
    np.testing.assert_array_equal(stale.to_numpy(), old.to_numpy())
    fresh = travel_time_matrix(G, z, z, method="dijkstra", refresh=True)
    assert (fresh.to_numpy()[~np.eye(len(z), dtype=bool)] > old.to_numpy()[~np.eye(len(z), dtype=bool)]).any()
    eng = build_engine(G, mode="car")
    assert build_engine(G, mode="car", refresh=True) is not eng


def test_copies_do_not_share_engines(large):
    G = _graph()
    H = G.copy()
    assert build_engine(G, mode="car") is not build_engine(H, mode="car")


@pytest.mark.parametrize("mode", ["car", "rail"])
def test_auto_with_cutoff_takes_the_bounded_search_and_agrees(mode):
    G = _graph(seed=3)
    z = _zones(G)
    eng = engine_mod.Engine(G, mode)
    auto = eng.matrix(z, z, cutoff_min=30.0)
    assert eng._prep is None  # no structured precompute: plain Dijkstra bounded by the cut-off
    ref = engine_mod.Engine(G, mode).matrix(z, z, cutoff_min=30.0, method="structured")
    np.testing.assert_array_equal(np.isnan(auto.to_numpy()), np.isnan(ref.to_numpy()))
    np.testing.assert_allclose(auto.to_numpy(), ref.to_numpy(), rtol=0, atol=1e-9)
    # a long cut-off on a graph where the structure pays: the precompute is used
    eng2 = engine_mod.Engine(G, mode)
    if eng2._structure_pays(len(z)):
        eng2.matrix(z, z, cutoff_min=engine_mod.AUTO_BOUNDED_MAX_MIN + 60)
        assert eng2._prep is not None
    # once prepared, auto keeps using the precompute, cut-off or not, with the same answers
    eng.prepare()
    again = eng.matrix(z, z, cutoff_min=30.0)
    np.testing.assert_allclose(again.to_numpy(), ref.to_numpy(), rtol=0, atol=1e-9)


def test_shared_build_gets_its_own_engine_cache():
    """Frozen graphs sharing one build (build_network(copy=False)) each get an engine; both agree."""
    from lisgeo.network.graph import _shared_graph

    G = _graph()
    A, B = _shared_graph(G), _shared_graph(G)
    z = _zones(G)
    a = travel_time_matrix(A, z, z)
    b = travel_time_matrix(B, z, z)
    np.testing.assert_array_equal(a.to_numpy(), b.to_numpy())
    np.testing.assert_array_equal(a.to_numpy(), travel_time_matrix(G, z, z).to_numpy())
