"""The travel-time engine: equality with networkx's Dijkstra (small random graphs fully, the real
region graph on a sample of origins), NaN for unreachable pairs, cut-offs, bad input."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pandas as pd
import pytest

from lisgeo.errors import LisgeoError, NetworkError, UnknownNameError
from lisgeo.network.engine import build_engine, reachability, travel_time_matrix


def _random_graph(seed: int, n_core: int = 25, n_zone: int = 30, geometric: bool = False) -> nx.MultiDiGraph:
    """Core junctions (road links), zones with access links to 1-3 junctions (some one-way), local
    zone-zone links (so zones are passed through), parallel edges, a stranded zone."""
    rng = np.random.default_rng(seed)
    G = nx.MultiDiGraph()
    for i in range(n_core):
        G.add_node(f"road:{i}", kind="road", x=float(rng.uniform(0, 1e4)), y=float(rng.uniform(0, 1e4)))
    for i in range(n_zone):
        G.add_node(f"zone:{i}", kind="zone", x=float(rng.uniform(0, 1e4)), y=float(rng.uniform(0, 1e4)))
    G.add_node("site:s", kind="site", x=5e3, y=5e3)
    for _ in range(n_core * 3):
        a, b = rng.integers(0, n_core, 2)
        if a != b:
            G.add_edge(f"road:{a}", f"road:{b}", time_min=float(rng.uniform(1, 10)), mode="road")
    for i in range(n_zone - 1):  # the last zone stays stranded
        for j in rng.choice(n_core, size=int(rng.integers(1, 4)), replace=False):
            t = float(rng.uniform(1, 8))
            G.add_edge(f"zone:{i}", f"road:{j}", time_min=t, mode="access_car")
            if rng.random() < 0.8:
                G.add_edge(f"road:{j}", f"zone:{i}", time_min=t, mode="access_car")
    for _ in range(n_zone * 2):
        a, b = rng.integers(0, n_zone - 1, 2)
        if a != b:
            t = float(rng.uniform(0.5, 6))
            if geometric:  # minutes proportional to crow-fly km: the engine's local lower bound bites
                na, nb = G.nodes[f"zone:{a}"], G.nodes[f"zone:{b}"]
                t = float(np.hypot(na["x"] - nb["x"], na["y"] - nb["y"]) / 1000 * rng.uniform(1.5, 3))
            G.add_edge(f"zone:{a}", f"zone:{b}", time_min=t, mode="local")
            G.add_edge(f"zone:{a}", f"zone:{b}", time_min=t + 1, mode="local")  # parallel, slower
    G.add_edge("site:s", "road:0", time_min=2.0, mode="access_car")
    G.add_edge("road:1", "site:s", time_min=3.0, mode="access_car")
    G.add_edge("zone:0", "road:1", time_min=0.7, mode="rail")  # another mode: must be ignored by car
    return G


_TERMINAL_PREFIXES = ("zone:", "site:", "dest:")


def _nx_matrix(G: nx.MultiDiGraph, origins, dests, modes, first_only=None) -> np.ndarray:
    """networkx Dijkstra on the edges whose mode is in ``modes`` (or for which ``modes(u, v, mode)``);
    edges whose mode is in ``first_only`` are used only when they leave the origin (park and ride
    on a rail trip). By default (``first_only=None``) the engine's rule for the mode the edge modes
    say: by car (road edges among them) every edge leaving a terminal is used only when it leaves the
    origin (a place is never passed through); by rail park and ride."""
    keep = modes if callable(modes) else (lambda u, v, m: m in modes)
    if first_only is None:
        car = not callable(modes) and "road" in modes
        first_only = (lambda u, m: str(u).startswith(_TERMINAL_PREFIXES)) if car else (lambda u, m: m == "park_ride")
    elif not callable(first_only):
        fo = set(first_only)
        first_only = lambda u, m, _fo=fo: m in _fo  # noqa: E731
    H = nx.DiGraph()
    H.add_nodes_from(G.nodes)
    first: dict = {}
    for u, v, d in G.edges(data=True):
        if not keep(u, v, d["mode"]):
            continue
        if first_only(u, d["mode"]):
            first.setdefault(u, []).append((v, d["time_min"]))
        elif not H.has_edge(u, v) or H[u][v]["w"] > d["time_min"]:
            H.add_edge(u, v, w=d["time_min"])
    out = np.full((len(origins), len(dests)), np.nan)
    for i, o in enumerate(origins):
        saved = []
        for v, w in first.get(o, []):
            saved.append((v, H[o][v]["w"] if H.has_edge(o, v) else None))
            if not H.has_edge(o, v) or H[o][v]["w"] > w:
                H.add_edge(o, v, w=w)
        dist = nx.single_source_dijkstra_path_length(H, o, weight="w")
        out[i] = [dist.get(d, np.nan) for d in dests]
        for v, w in reversed(saved):
            if w is None:
                H.remove_edge(o, v)
            else:
                H[o][v]["w"] = w
    return out


@pytest.mark.parametrize("geometric", [False, True])
@pytest.mark.parametrize("seed", range(8))
def test_structured_and_dijkstra_equal_networkx_on_random_graphs(seed, geometric):
    G = _random_graph(seed, geometric=geometric)
    terms = [n for n, k in G.nodes(data="kind") if k in ("zone", "site")]
    dests = terms + [f"road:{i}" for i in range(5)]
    ref = _nx_matrix(G, terms, dests, {"road", "local", "access_car"})
    for method in ("structured", "dijkstra"):
        got = travel_time_matrix(G, terms, dests, mode="car", method=method).to_numpy()
        np.testing.assert_array_equal(np.isnan(got), np.isnan(ref))
        np.testing.assert_allclose(got, ref, rtol=0, atol=1e-9)
        cut = travel_time_matrix(G, terms, dests, mode="car", method=method, cutoff_min=10.0).to_numpy()
        np.testing.assert_allclose(cut, np.where(ref <= 10.0, ref, np.nan), rtol=0, atol=1e-9)
    # the stranded zone reaches nothing but itself
    m = travel_time_matrix(G, ["zone:29"], terms, mode="car")
    assert m.loc["zone:29", "zone:29"] == 0.0 and int(m.notna().sum(axis=1).iloc[0]) == 1


def _tiny_graph(nodes, edges) -> nx.MultiDiGraph:
    """A hand-made graph: ``nodes`` as (id, kind, x km), ``edges`` as (u, v, minutes, mode)."""
    G = nx.MultiDiGraph()
    for n, k, x in nodes:
        G.add_node(n, kind=k, x=x * 1000.0, y=0.0)
    for u, v, t, m in edges:
        G.add_edge(u, v, time_min=t, mode=m)
    return G


def _line_graph() -> nx.MultiDiGraph:
    """zone:a -2-> road:1 -10-> road:2 -3-> zone:b ; zone:b -4-> road:2 ; zone:c isolated;
    a local link a -> b of 20 min (slower than the road: 15)."""
    return _tiny_graph(
        [("zone:a", "zone", 0), ("road:1", "road", 1), ("road:2", "road", 2), ("zone:b", "zone", 3), ("zone:c", "zone", 9)],
        [("zone:a", "road:1", 2.0, "access_car"), ("road:1", "road:2", 10.0, "road"), ("road:2", "zone:b", 3.0, "access_car"),
         ("zone:b", "road:2", 4.0, "access_car"), ("zone:a", "zone:b", 20.0, "local")])


def test_hand_computed_times_nan_and_flag():
    G = _line_graph()
    m = travel_time_matrix(G, ["zone:a", "zone:b", "zone:c"], ["zone:a", "zone:b", "zone:c", "road:2"])
    assert m.loc["zone:a", "zone:b"] == 15.0  # 2 + 10 + 3 beats the 20-min local link
    assert m.loc["zone:a", "road:2"] == 12.0
    assert m.loc["zone:b", "road:2"] == 4.0
    assert np.isnan(m.loc["zone:b", "zone:a"])  # no way back
    assert m.loc["zone:c", "zone:c"] == 0.0 and m.loc["zone:c"].isna().sum() == 3
    flag = reachability(m)
    assert flag.dtypes.eq(bool).all() and int(flag.to_numpy().sum()) == 6
    assert m.attrs["units"] == "minutes" and m.attrs["mode"] == "car"


def test_local_link_taken_when_faster():
    G = _line_graph()
    G.add_edge("zone:a", "zone:b", time_min=9.0, mode="local")  # parallel: the fastest one counts
    assert travel_time_matrix(G, ["zone:a"], ["zone:b"]).iloc[0, 0] == 9.0


def test_cutoff():
    G = _line_graph()
    for method in ("structured", "dijkstra"):
        m = travel_time_matrix(G, ["zone:a"], ["road:1", "road:2", "zone:b"], cutoff_min=12.0, method=method)
        assert m.iloc[0].tolist()[:2] == [2.0, 12.0] and np.isnan(m.iloc[0, 2])
    with pytest.raises(LisgeoError, match="cutoff_min"):
        travel_time_matrix(G, ["zone:a"], ["zone:b"], cutoff_min=-1)


def test_bad_input():
    G = _line_graph()
    with pytest.raises(UnknownNameError, match="zone:nope"):
        travel_time_matrix(G, ["zone:nope"], ["zone:b"])
    with pytest.raises(UnknownNameError, match="mode"):
        travel_time_matrix(G, ["zone:a"], ["zone:b"], mode="bike")
    G.add_edge("road:1", "zone:b", time_min=float("nan"), mode="road")
    with pytest.raises(NetworkError, match="NaN"):
        travel_time_matrix(G, ["zone:a"], ["zone:b"])


def test_rail_concourse_interchange_and_structured_core_origin_fallback():
    G = nx.MultiDiGraph()
    for n, k in [("zone:a", "zone"), ("rail:X", "station"), ("arr:X", "station"), ("arr:Y", "station"),
                 ("rail:Y", "station"), ("zone:b", "zone")]:
        G.add_node(n, kind=k, x=0.0, y=0.0)
    G.add_edge("zone:a", "rail:X", time_min=5.0, mode="access_walk")
    G.add_edge("rail:X", "arr:Y", time_min=27.5, mode="rail", wait_min=7.5, ride_min=20.0)  # wait + ride
    for s in ("X", "Y"):
        G.add_edge(f"arr:{s}", f"rail:{s}", time_min=5.0, mode="interchange")
        G.add_edge(f"rail:{s}", f"arr:{s}", time_min=0.0, mode="concourse")
    G.add_edge("arr:Y", "zone:b", time_min=4.0, mode="access_walk")
    for method in ("structured", "dijkstra"):
        m = travel_time_matrix(G, ["zone:a"], ["arr:Y", "rail:Y", "zone:b", "arr:X"], mode="rail", method=method)
        # the street side of Y is reached by the change penalty; X's arrival side by its concourse (0)
        assert m.iloc[0].tolist() == [32.5, 37.5, 36.5, 5.0]
    assert np.isnan(travel_time_matrix(G, ["zone:a"], ["zone:b"], mode="car").iloc[0, 0])
    # a core origin uses plain Dijkstra
    assert travel_time_matrix(G, ["rail:X"], ["zone:b"], mode="rail").iloc[0, 0] == 31.5
    assert travel_time_matrix(G, ["rail:Y"], ["zone:b", "zone:a"], mode="rail").iloc[0].tolist()[0] == 4.0


def test_engine_cached_until_graph_changes():
    G = _line_graph()
    e1 = build_engine(G, mode="car")
    assert build_engine(G, mode="car") is e1
    G.add_edge("zone:b", "zone:a", time_min=1.0, mode="local")
    assert build_engine(G, mode="car") is not e1
    assert travel_time_matrix(G, ["zone:b"], ["zone:a"]).iloc[0, 0] == 1.0


# ------------------------------------------------------------------ real data
@pytest.fixture(scope="session")
def d2n2_graph(real_data):
    from lisgeo.pipeline import score_network

    return score_network("d2n2")


def test_frozen_views_of_one_build_share_engines_and_copies_do_not(d2n2_graph):
    """Every build_network(copy=False) of the same build is a frozen view of it: an engine made for
    one serves the others (labelled with each view's own G.graph); a copy, which may change, makes its own."""
    from lisgeo.network import build_network
    from lisgeo.pipeline import score_network
    from lisgeo.pipeline.score import FIXED_SITES
    from lisgeo.regions import get_region

    H = score_network(get_region("d2n2"))  # another view, its region given as a Region
    assert H is not d2n2_graph and nx.is_frozen(H)
    e1, e2 = build_engine(d2n2_graph, mode="car"), build_engine(H, mode="car")
    assert e2 is not e1 and e2.csr is e1.csr and build_engine(H, mode="car") is e2
    zones = list(e1._zones[:4])
    a, b = travel_time_matrix(d2n2_graph, zones, zones), travel_time_matrix(H, zones, zones)
    np.testing.assert_array_equal(a.to_numpy(), b.to_numpy())
    assert d2n2_graph.graph["region"] != H.graph["region"]  # ("d2n2" and the Region's label)
    assert a.attrs["region"] == d2n2_graph.graph["region"] and b.attrs["region"] == H.graph["region"]
    C = build_network(region="d2n2", sites=list(FIXED_SITES.values()), copy=True)
    assert not nx.is_frozen(C) and build_engine(C, mode="car").csr is not e1.csr


@pytest.mark.parametrize("mode", ["car", "rail"])
def test_real_graph_equals_networkx_for_sampled_origins(d2n2_graph, mode):
    G = d2n2_graph
    zones = sorted(n for n, k in G.nodes(data="kind") if k == "zone")
    sites = sorted(n for n, k in G.nodes(data="kind") if k == "site")
    rng = np.random.default_rng(3)
    origins = list(rng.choice(zones, 12, replace=False)) + ["site:hs2_toton"]
    dests = zones + sites + ["rail:STP", "rail:NOT", "rail:LDS", "arr:STP", "arr:LDS", "arr:LEI"]
    if mode == "car":
        modes = {"road", "local", "access_car", "park_ride"}
    else:  # trains (wait + ride), HS2, changes, concourses, walk access and park and ride
        modes = {"rail", "hs2", "interchange", "concourse", "access_walk", "park_ride"}
    ref = _nx_matrix(G, origins, dests, modes)
    for method in ("structured", "dijkstra", "auto"):
        got = travel_time_matrix(G, origins, dests, mode=mode, method=method).to_numpy()
        np.testing.assert_array_equal(np.isnan(got), np.isnan(ref))
        np.testing.assert_allclose(got, ref, rtol=0, atol=1e-9)
    # all zones as origins: "auto" takes the structured path; rows equal the sampled ones
    full = travel_time_matrix(G, zones, dests, mode=mode)
    np.testing.assert_allclose(full.loc[origins[:12]].to_numpy(), ref[:12], rtol=0, atol=1e-9)
    assert build_engine(G, mode=mode)._prep is not None
    if mode == "car":
        assert np.isfinite(got[:, : len(zones)]).all()  # every zone reaches every zone by car


def test_real_broxtowe_zones_are_minutes_from_toton(d2n2_graph):
    from lisgeo.layers.people import load_lsoa21_centroids

    c = load_lsoa21_centroids(region="E07000172")
    t = travel_time_matrix(d2n2_graph, [f"zone:{z}" for z in c["LSOA21CD"]], ["site:hs2_toton"]).iloc[:, 0]
    assert len(t) == 71 and t.notna().all()
    # Broxtowe is c. 15 km across; Toton lies at its southern edge (the farthest zones, Eastwood way: 20-30 min)
    assert t.median() < 16 and t.mean() < 17 and t.max() < 30


def test_engine_sees_changed_times_and_copies_do_not_share():
    G = _line_graph()
    assert travel_time_matrix(G, ["zone:a"], ["zone:b"]).iloc[0, 0] == 15.0
    H = G.copy()
    G["road:1"]["road:2"][0]["time_min"] = 1.0  # same nodes and edges, new time
    assert travel_time_matrix(G, ["zone:a"], ["zone:b"]).iloc[0, 0] == 6.0
    assert travel_time_matrix(H, ["zone:a"], ["zone:b"]).iloc[0, 0] == 15.0


def test_engine_holds_only_its_modes_nodes_and_other_nodes_are_nan():
    G = nx.MultiDiGraph()
    G.add_node("zone:a", kind="zone", x=0.0, y=0.0)
    G.add_node("zone:b", kind="zone", x=1000.0, y=0.0)
    G.add_node("road:1", kind="road", x=500.0, y=0.0)
    G.add_node("rail:X", kind="station", x=0.0, y=10.0)
    G.add_edge("zone:a", "road:1", time_min=2.0, mode="access_car")
    G.add_edge("road:1", "zone:b", time_min=3.0, mode="access_car")
    G.add_edge("zone:a", "rail:X", time_min=1.0, mode="access_walk")
    eng = build_engine(G, mode="car")
    assert "rail:X" not in eng.index and {"zone:a", "zone:b", "road:1"} <= set(eng.index)
    m = eng.matrix(["zone:a"], ["zone:b", "rail:X"], method="dijkstra")
    assert m.loc["zone:a", "zone:b"] == 5.0 and np.isnan(m.loc["zone:a", "rail:X"])
    with pytest.raises(UnknownNameError):
        eng.matrix(["zone:a"], ["rail:NOPE"])


def test_reverse_method_equals_forward_on_a_small_graph():
    G = nx.MultiDiGraph()
    for i in range(6):
        G.add_node(f"zone:{i}", kind="zone", x=float(i), y=0.0)
    G.add_node("road:r", kind="road", x=0.0, y=0.0)
    times = [3.0, 1.0, 4.0, 1.5, 9.0, 2.6]
    for i, t in enumerate(times):
        G.add_edge(f"zone:{i}", "road:r", time_min=t, mode="access_car")
        G.add_edge("road:r", f"zone:{i}", time_min=2 * t, mode="access_car")
    zones = [f"zone:{i}" for i in range(6)]
    fwd = travel_time_matrix(G, zones, ["zone:1"], mode="car", method="dijkstra")
    rev = travel_time_matrix(G, zones, ["zone:1"], mode="car")  # auto: 1 destination, 6 origins -> reverse
    # zone i -> road (t_i) -> zone:1 (2 x 1.0); zone:1 to itself 0
    assert rev["zone:1"].tolist() == [0.0 if i == 1 else t + 2.0 for i, t in enumerate(times)]
    assert np.allclose(fwd.to_numpy(), rev.to_numpy())
    cut = travel_time_matrix(G, zones, ["zone:1"], mode="car", method="reverse", cutoff_min=5.0)
    assert np.isnan(cut.loc["zone:4", "zone:1"]) and cut.loc["zone:0", "zone:1"] == 5.0


def _park_ride_graph() -> nx.MultiDiGraph:
    """zone:a drives to rail:S (5), trains S -> T (20), walks from T's arrival side to zone:b (3);
    zone:b drives to rail:U (4); trains U -> V (10), walk to zone:c (2). Also zone:a walks to
    rail:U (60). The chain a -> S -> T -> b -> (drive) U -> V -> c would take 44 min, but the car
    was left at S: a rail trip from a to c walks to U instead (60 + 10 + 2 = 72)."""
    return _tiny_graph(
        [(n, k, 0) for n, k in [("zone:a", "zone"), ("zone:b", "zone"), ("zone:c", "zone"), ("rail:S", "station"),
                                ("arr:T", "station"), ("rail:U", "station"), ("arr:V", "station")]],
        [("zone:a", "rail:S", 5.0, "park_ride"), ("rail:S", "arr:T", 20.0, "rail"), ("arr:T", "zone:b", 3.0, "access_walk"),
         ("zone:b", "rail:U", 4.0, "park_ride"), ("zone:a", "rail:U", 60.0, "access_walk"), ("rail:U", "arr:V", 10.0, "rail"),
         ("arr:V", "zone:c", 2.0, "access_walk")])


@pytest.mark.parametrize("method", ["structured", "dijkstra", "reverse", "auto"])
def test_park_and_ride_only_on_the_first_leg_of_a_rail_trip(method):
    G = _park_ride_graph()
    z = ["zone:a", "zone:b", "zone:c"]
    m = travel_time_matrix(G, z, z, mode="rail", method=method)
    assert m.loc["zone:a", "zone:b"] == 28.0  # drive 5 + train 20 + walk 3
    assert m.loc["zone:b", "zone:c"] == 16.0  # b's own first leg is a drive: 4 + 10 + 2
    assert m.loc["zone:a", "zone:c"] == 72.0  # not 28 + 16 = 44: the car is at S
    assert np.isnan(m.loc["zone:c", "zone:a"])
    # by car the same links are one continuous drive, no train
    car = travel_time_matrix(G, ["zone:a", "zone:b"], ["rail:S", "rail:U"], mode="car", method="dijkstra")
    assert car.loc["zone:a", "rail:S"] == 5.0 and np.isnan(car.loc["zone:a", "rail:U"]) and car.loc["zone:b", "rail:U"] == 4.0
    # and networkx with park and ride only from the origin agrees
    ref = _nx_matrix(G, z, z, {"rail", "access_walk", "park_ride"}, first_only={"park_ride"})
    np.testing.assert_allclose(m.to_numpy(), ref, rtol=0, atol=1e-12)


def test_isochrone_rows_use_the_origins_park_and_ride():
    from lisgeo.network.engine import build_engine

    eng = build_engine(_park_ride_graph(), mode="rail")
    row = eng.distances(np.array([eng.index.get_loc("zone:a")]))[0]
    assert row[eng.index.get_loc("zone:b")] == 28.0 and row[eng.index.get_loc("zone:c")] == 72.0


def _sink_graph() -> nx.MultiDiGraph:
    """Four zones on a road (a -3- j1 -10- j2 -4- b; c and d off j1 and j2) and three stations
    that every zone drives to (park and ride, a sink by car): links into sinks are most of the
    car edges, so the engine skips them in its forward searches. By hand: a -> S1 directly 7,
    a -> S3 = min(direct 30, a->b 17 + b->S3 2) = 19; the sinks' links never lead on."""
    nodes = [("zone:a", "zone", 0), ("zone:b", "zone", 17), ("zone:c", "zone", 3), ("zone:d", "zone", 13),
             ("road:j1", "road", 3), ("road:j2", "road", 13),
             ("rail:S1", "station", 1), ("rail:S2", "station", 8), ("rail:S3", "station", 16)]
    edges = [("zone:a", "road:j1", 3.0, "access_car"), ("road:j1", "zone:a", 3.0, "access_car"),
             ("road:j1", "road:j2", 10.0, "road"), ("road:j2", "road:j1", 10.0, "road"),
             ("road:j2", "zone:b", 4.0, "access_car"), ("zone:b", "road:j2", 4.0, "access_car"),
             ("zone:c", "road:j1", 1.0, "access_car"), ("road:j1", "zone:c", 1.0, "access_car"),
             ("zone:d", "road:j2", 1.0, "access_car"), ("road:j2", "zone:d", 1.0, "access_car")]
    times = {"zone:a": (7.0, 12.0, 30.0), "zone:b": (25.0, 11.0, 2.0), "zone:c": (6.0, 9.0, 20.0), "zone:d": (15.0, 6.0, 5.0)}
    for z, ts in times.items():
        for s, t in zip(("rail:S1", "rail:S2", "rail:S3"), ts):
            edges.append((z, s, t, "park_ride"))
            edges.append((z, s, t + 1.0, "park_ride"))  # parallel, slower: the CSR keeps the fastest
    return _tiny_graph(nodes, edges)


def test_links_into_sinks_are_skipped_and_sink_times_searched_backwards():
    G = _sink_graph()
    zones = ["zone:a", "zone:b", "zone:c", "zone:d"]
    dests = zones + ["rail:S1", "rail:S2", "rail:S3"]
    eng = build_engine(G, mode="car")
    is_sink, reduced = eng._sink_split()
    assert sorted(eng.index[is_sink]) == ["rail:S1", "rail:S2", "rail:S3"]
    assert reduced.nnz == eng.csr.nnz - 12  # the 12 links into stations (parallel ones collapsed)
    got = travel_time_matrix(G, zones, dests, mode="car", method="dijkstra")
    assert got.loc["zone:a", "rail:S1"] == 7.0
    # a's own 30 minutes: driving to b (17) and on by b's 2-minute link would pass through a place,
    # which a car trip never does (b's links are b's own trips'; see Engine)
    assert got.loc["zone:a", "rail:S3"] == 30.0
    assert got.loc["zone:a", "zone:b"] == 17.0
    ref = _nx_matrix(G, zones, dests, {"road", "local", "access_car", "park_ride"})
    np.testing.assert_array_equal(got.to_numpy(), ref)
    # a station as an origin goes nowhere but to itself; with a cut-off, the same rule
    st = travel_time_matrix(G, ["rail:S2", "zone:c"], ["rail:S2", "zone:a"], mode="car", method="dijkstra")
    assert st.loc["rail:S2", "rail:S2"] == 0.0 and np.isnan(st.loc["rail:S2", "zone:a"]) and st.loc["zone:c", "zone:a"] == 4.0
    cut = travel_time_matrix(G, zones, dests, mode="car", method="dijkstra", cutoff_min=10.0)
    np.testing.assert_array_equal(cut.to_numpy(), np.where(ref <= 10.0, ref, np.nan))
    # and without the split (too few links into sinks), the same matrix
    eng._sinks = False
    np.testing.assert_array_equal(travel_time_matrix(G, zones, dests, mode="car", method="dijkstra").to_numpy(), ref)


def test_forward_rows_reused_when_a_network_only_gains_sinks(monkeypatch, tmp_path):
    """A station added with park-and-ride links into it (a sink by car, as an HS2 scheme's stations
    are) changes no car path: the forward searches made on the network before are used again in
    this process; the matrix equals networkx. A changed link time searches afresh."""
    import lisgeo.network.engine as E

    monkeypatch.setenv("LISGEO_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(E, "_ROWS", type(E._ROWS)())
    zones = ["zone:a", "zone:b", "zone:c", "zone:d"]
    modes = {"road", "local", "access_car", "park_ride"}

    def with_s4(G):
        G.add_node("rail:S4", kind="station", x=5000.0, y=0.0)
        for z, t in zip(zones, (9.0, 14.0, 8.0, 12.0)):
            G.add_edge(z, "rail:S4", time_min=t, mode="park_ride")
        return G

    calls = []
    real = E.dijkstra
    monkeypatch.setattr(E, "dijkstra", lambda *a, **k: calls.append(list(k["indices"])) or real(*a, **k))
    first = travel_time_matrix(_sink_graph(), zones, zones, mode="car", method="dijkstra")
    assert len(calls) == 1  # the forward searches, one call
    first.iloc[:, :] = -1.0  # (the rows are kept by reference to the engine's own matrix: a caller's frame is not it)
    H = with_s4(_sink_graph())
    calls.clear()
    got = travel_time_matrix(H, zones, zones + ["rail:S4"], mode="car", method="dijkstra")
    assert calls == [[build_engine(H, mode="car").index.get_loc("rail:S4")]]  # only S4's search backwards
    np.testing.assert_array_equal(got.to_numpy(), _nx_matrix(H, zones, zones + ["rail:S4"], modes))
    # a link changed: searched afresh, and right
    K = with_s4(_sink_graph())
    K["road:j1"]["road:j2"][0]["time_min"] = 6.0
    calls.clear()
    changed = travel_time_matrix(K, zones, zones, mode="car", method="dijkstra")
    assert len(calls) == 1 and changed.loc["zone:a", "zone:b"] == 13.0
    np.testing.assert_array_equal(changed.to_numpy(), _nx_matrix(K, zones, zones, modes))


def test_nearest_times_equal_the_row_minimum_of_the_matrix():
    """One search backwards from every destination at once gives each origin's nearest time,
    equal (exactly) to the row minimum of the matrix: by car to sinks (stations), and by rail,
    where an origin's park-and-ride twin counts; unreachable and off-network origins are NaN."""
    G = _sink_graph()
    zones = ["zone:a", "zone:b", "zone:c", "zone:d"]
    stations = ["rail:S1", "rail:S2", "rail:S3"]
    eng = build_engine(G, mode="car")
    full = travel_time_matrix(G, zones, stations, mode="car", method="dijkstra")
    near = eng.nearest_times(zones, stations)
    assert near.tolist() == full.min(axis=1).tolist() == [7.0, 2.0, 6.0, 5.0]
    assert near.index.tolist() == zones
    assert np.isnan(eng.nearest_times(["rail:S1"], ["zone:a"]).iloc[0])  # a sink goes nowhere
    R = _park_ride_graph()
    reng = build_engine(R, mode="rail")
    rz = [n for n in R.nodes if n.startswith("zone:")]
    rfull = travel_time_matrix(R, rz, rz, mode="rail", method="dijkstra")
    for dests in (rz, rz[:1], rz[1:]):
        want = rfull[dests].min(axis=1, skipna=True).to_numpy()
        np.testing.assert_array_equal(reng.nearest_times(rz, dests).to_numpy(), want)


def test_station_times_keep_every_zones_nearest_station_and_its_ties():
    """The scores' car times to stations stop at the farthest zone's nearest station: every zone's
    nearest (and any station as near) keeps the time a full search gives, so the nearest time and
    station, first column on ties, are the same; farther ones are NaN."""
    from lisgeo.measures.accessibility import nearest_time
    from lisgeo.pipeline.score import _station_times

    G = _sink_graph()
    G.add_node("rail:S4", kind="station", x=2.0, y=0.0)  # ties S1 for zone c (6 minutes)
    G.add_edge("zone:c", "rail:S4", time_min=6.0, mode="park_ride")
    zones = ["zone:a", "zone:b", "zone:c", "zone:d"]
    stations = ["rail:S1", "rail:S2", "rail:S3", "rail:S4"]
    eng = build_engine(G, mode="car")
    full = travel_time_matrix(G, zones, stations, mode="car", method="dijkstra")
    got = _station_times(eng, zones, stations)
    assert got.attrs["cutoff_min"] == pytest.approx(7.0)  # zone a's nearest is the farthest: 7 minutes
    np.testing.assert_array_equal(got.to_numpy(), np.where(full.to_numpy() <= 7.0, full.to_numpy(), np.nan))
    a, b = nearest_time(full, name="t"), nearest_time(got, name="t")
    pd.testing.assert_frame_equal(a, b)
    assert b.loc["zone:c", "t_id"] == "rail:S1" and b.loc["zone:c", "t"] == 6.0
