"""The disk caches (lisgeo.cache): exact round trips, keys that see every change, corrupt entries
ignored and rewritten, the switch. Scoring is tested with its stages replaced by cheap fakes (the
caching wraps the stages and never looks inside them); one real-data test for the IoD parse."""

from __future__ import annotations

import shutil
from types import SimpleNamespace

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely

from lisgeo import cache


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    d = tmp_path / "cache"
    monkeypatch.setenv("LISGEO_CACHE_DIR", str(d))
    monkeypatch.delenv("LISGEO_NO_CACHE", raising=False)
    return d / "results"


def _tricky_frame() -> gpd.GeoDataFrame:
    idx = pd.Index(["E01000001", "E01000002", "E01000003"])
    df = pd.DataFrame({
        "f": [1.5, np.nan, 3.0],
        "i": np.array([1, 2, 3], dtype="int64"),
        "I": pd.array([1, pd.NA, 3], dtype="Int64"),
        "s": pd.array(["a", pd.NA, "c"], dtype="string"),
        "b": pd.array([True, pd.NA, False], dtype="boolean"),
        "plain_bool": [True, False, True],
        "o": ["x", "y", "z"],
    }, index=idx)
    gdf = gpd.GeoDataFrame(df, geometry=[shapely.box(0, 0, 1, 1), shapely.Point(2, 3), shapely.box(1, 1, 5, 5)], crs="EPSG:27700")
    gdf.attrs = {"scenario": "base", "n": 3, "x": 1.0, "flag": True, "none": None, "nan": float("nan"),
                 "tuple": (1, "a", (2.5,)), "list": [1, [2, 3]], "np": np.float64(0.25), "np_int": np.int64(7),
                 "nested": {"a": {"b": [1, 2]}, "weights": {"tt_rail_london": 1.0}}, "keys": {1: "one"},
                 "timings": {"layers": 1.0, "total": 2.0}}
    return gdf


def test_frame_round_trips_exactly(cache_dir):
    gdf = _tricky_frame()
    assert cache.store_frame("t", "k", gdf) is not None
    back = cache.load_frame("t", "k")
    assert type(back) is gpd.GeoDataFrame and back.crs == gdf.crs
    pd.testing.assert_frame_equal(back, gdf, check_exact=True)
    assert list(back.dtypes) == list(gdf.dtypes) and back.index.equals(gdf.index) and back.index.dtype == gdf.index.dtype
    assert cache._same(back.attrs, gdf.attrs)
    assert type(back.attrs["tuple"]) is tuple and type(back.attrs["np"]) is np.float64 and back.attrs["keys"] == {1: "one"}
    # a plain frame with a nullable-string index
    df = pd.DataFrame({"v": [1.0, 2.0]}, index=pd.Index(["a", "b"], dtype=pd.StringDtype("python")))
    df.attrs = {"attribution": "x"}
    cache.store_frame("t", "plain", df)
    back = cache.load_frame("t", "plain")
    pd.testing.assert_frame_equal(back, df, check_exact=True)
    assert back.index.dtype == df.index.dtype and back.attrs == df.attrs


def test_text_held_as_python_objects_round_trips(cache_dir):
    """Object-dtype text columns and index (as some layers build them) come back as objects, not as
    pandas' string dtype Parquet would give: without it such a layer could never be cached."""
    ix = pd.Index(["E06000015", "E06000018", "E07000032"], dtype=object, name="LADCD")
    gdf = gpd.GeoDataFrame({"LADNM": pd.Series(["Derby", "Nottingham", "Amber Valley"], dtype=object, index=ix),
                            "n": [1, 2, 3], "label": pd.Series(["a", "b", "c"], index=ix)},
                           geometry=gpd.points_from_xy([0, 1, 2], [0, 1, 2]), index=ix, crs="EPSG:27700")
    assert cache.store_frame("t", "objects", gdf) is not None
    back = cache.load_frame("t", "objects")
    pd.testing.assert_frame_equal(back, gdf, check_exact=True)
    assert list(back.dtypes) == list(gdf.dtypes) and back.index.dtype == object and back["LADNM"].dtype == object
    mixed = gdf.assign(LADNM=pd.Series(["Derby", 2, 3.5], dtype=object, index=ix))  # not text: not kept
    assert cache.store_frame("t", "mixed", mixed) is None
    holes = gdf.assign(LADNM=pd.Series(["Derby", None, "Erewash"], dtype=object, index=ix))  # would come back NaN
    assert cache.store_frame("t", "holes", holes) is None and cache.load_frame("t", "holes") is None


def _exact_frames() -> dict[str, pd.DataFrame]:
    """Frames :func:`cache.store_frame` keeps without reading them back: every dtype it trusts,
    with missing values, under each kind of index it trusts."""
    n = 4
    cols = {
        "f": [1.5, np.nan, -0.0, np.inf],
        "i": np.array([1, -2, 3, 2**62], dtype="int64"),
        "b": [True, False, True, False],
        "F": pd.array([1.5, pd.NA, 3.0, np.nan], dtype="Float64"),
        "I": pd.array([1, pd.NA, 3, -4], dtype="Int64"),
        "B": pd.array([True, pd.NA, False, True], dtype="boolean"),
        "t": pd.array(["a", pd.NA, "", "é"], dtype="string"),
        "s": pd.Series(["a", np.nan, "", "é"], dtype="str").array,
        "d": pd.to_datetime(["2021-03-21", None, "1970-01-01", "2026-12-01 08:00:00.000000001"], format="ISO8601").astype("datetime64[ns]"),
    }
    geoms = [shapely.Polygon([(0, 0), (1, 0.1), (1.000000000001, 1), (0, 0)]), None, shapely.Point(), shapely.LineString([(1e6, 2e5), (3.25, 4)])]
    out = {}
    for name, idx in {"range": pd.RangeIndex(n), "int": pd.Index([5, 3, 9, 1], dtype="int64", name="id"),
                      "str": pd.Index(["E01", "E02", "E03", "E04"], dtype="str"),
                      "string": pd.Index(["a", "b", "c", "d"], dtype=pd.StringDtype("python"))}.items():
        df = pd.DataFrame(cols, index=idx)
        df.attrs = {"layer": name, "t": (1, 2)}
        out[name] = df
        g = gpd.GeoDataFrame(df.copy(), geometry=geoms, crs="EPSG:27700")
        g.attrs = dict(df.attrs)
        out[f"geo_{name}"] = g
    return out


def test_frames_trusted_without_reading_back_round_trip_exactly(cache_dir):
    """The dtypes and indexes store_frame trusts come back exactly (checked here by reading back);
    anything else is still read back and compared before it is kept."""
    for name, df in _exact_frames().items():
        assert cache._exact_by_construction(df), name
        assert cache.store_frame("t", name, df) is not None, name
        back = cache.load_frame("t", name)
        assert back is not None and cache._frames_same(back, df), name
        assert list(back.dtypes) == list(df.dtypes) and back.index.dtype == df.index.dtype, name
    df = _exact_frames()["range"]
    for other in (df.assign(o=pd.Series(["x", None, "z", "w"], dtype=object)),  # Python objects
                  df.assign(c=pd.Categorical(["a", "b", "a", "b"])),
                  df.assign(tp=pd.array(["a", pd.NA, "", "é"], dtype=pd.StringDtype("python"))),  # back as pyarrow's
                  df.rename(columns={"f": 0}),  # a label that is not text
                  df.set_axis(pd.MultiIndex.from_arrays([[1, 1, 2, 2], list("abab")]), axis=0),
                  df.set_axis(pd.Index([0.5, 1.5, 2.5, 3.5]), axis=0),
                  df.set_axis(pd.Index(["a", "b", "c", "d"], dtype=object), axis=0)):
        assert not cache._exact_by_construction(other)
    assert not cache._exact_by_construction(df.loc[:, ["f", "f"]].set_axis(["f", "f"], axis=1))


def test_unstorable_attrs_are_not_cached(cache_dir):
    gdf = _tricky_frame()
    gdf.attrs["obj"] = object()
    assert cache.store_frame("t", "k", gdf) is None
    assert cache.load_frame("t", "k") is None and not list(cache_dir.rglob("*.parquet"))


def test_keys():
    base = {"a": 1, "b": [1, 2], "c": {"x": 1.0, "y": (1, 2)}}
    assert cache.make_key(base) == cache.make_key({"c": {"y": [1, 2], "x": 1.0}, "b": (1, 2), "a": 1})
    assert cache.make_key(base) != cache.make_key({**base, "a": 2})
    assert cache.make_key(base) != cache.make_key({**base, "c": {"x": 1.0000001, "y": (1, 2)}})
    assert len(cache.make_key(base)) == 64


def test_switch(monkeypatch):
    monkeypatch.delenv("LISGEO_NO_CACHE", raising=False)
    assert cache.enabled() and cache.enabled(None) and not cache.enabled(False)
    for v in ("1", "true", "yes"):
        monkeypatch.setenv("LISGEO_NO_CACHE", v)
        assert not cache.enabled() and not cache.enabled(True)
    monkeypatch.setenv("LISGEO_NO_CACHE", "0")
    assert cache.enabled()
    with cache.turned_off():  # for a block (load_layer(cache=False))
        assert not cache.enabled() and not cache.enabled(True)
    assert cache.enabled()


def test_corrupt_and_foreign_entries_are_ignored(cache_dir):
    gdf = _tricky_frame()
    path = cache.store_frame("t", "k", gdf)
    path.write_bytes(b"not a parquet file")
    assert cache.load_frame("t", "k") is None and not path.exists()  # ignored and removed
    p = cache.store_pickle("p", "k", nx.MultiDiGraph())
    p.write_bytes(p.read_bytes()[:10])  # truncated
    assert cache.load_pickle("p", "k", nx.MultiDiGraph) is None and not p.exists()
    cache.store_pickle("p", "k", {"not": "a graph"})
    assert cache.load_pickle("p", "k", nx.MultiDiGraph) is None


# ------------------------------------------------------------------ score_region through the cache
@pytest.fixture
def fake_stages(monkeypatch, cache_dir):
    """score_region with its stages replaced: counts the runs that computed."""
    import lisgeo.pipeline.score as score

    runs = []

    def load_inputs(reg):
        runs.append(reg.label)
        jobs = pd.Series([1.0], name="jobs")
        jobs.attrs = {"attribution": "jobs data"}
        return SimpleNamespace(attribution=lambda: ["layers data"], jobs=jobs)

    def score_network(reg, **kw):
        G = nx.MultiDiGraph(name="fake", hs2_scheme="none", assumptions={"road.motorway_kmh": 96.0})
        return G

    def travel_times(G, inputs, **kw):
        return SimpleNamespace(transit_groups=None, dest_jobs=pd.Series([10.0, 5.0]))

    def finish_scores(out, inputs, *, config, reference=None, time_columns=()):
        gdf = _tricky_frame()
        gdf.attrs = {}
        gdf["weight_sum"] = float(sum(config.get("connectivity", {}).values()))
        return gdf

    monkeypatch.setattr(score, "load_inputs", load_inputs)
    monkeypatch.setattr(score, "_cached_inputs", load_inputs)
    monkeypatch.setattr(score, "score_network", score_network)
    monkeypatch.setattr(score, "travel_times", travel_times)
    monkeypatch.setattr(score, "measure_zones", lambda inputs, tt, **kw: pd.DataFrame())
    monkeypatch.setattr(score, "finish_scores", finish_scores)
    return score, runs


def _no_timings(attrs):
    return {k: v for k, v in attrs.items() if k != "timings"}


def test_scores_hit_equals_miss(fake_stages, cache_dir):
    score, runs = fake_stages
    first = score.score_region(region="d2n2")
    assert runs == ["D2N2"] and len(list((cache_dir / "scores").glob("*.parquet"))) == 1
    again = score.score_region(region="d2n2")
    assert runs == ["D2N2"]  # read back, not scored
    pd.testing.assert_frame_equal(again, first, check_exact=True)
    assert type(again) is gpd.GeoDataFrame and again.crs == first.crs and list(again.dtypes) == list(first.dtypes)
    assert cache._same(_no_timings(again.attrs), _no_timings(first.attrs))
    assert set(again.attrs["timings"]) == {"cache", "total"} and "travel times" in first.attrs["timings"]


def test_scores_miss_on_each_change(fake_stages, cache_dir, tmp_path, monkeypatch):
    score, runs = fake_stages
    from lisgeo.config import layers_dir

    score.score_region(region="d2n2")
    n = len(runs)

    def miss(**kw):
        nonlocal n
        score.score_region(**kw)
        assert len(runs) == n + 1, f"no new run for {kw}"
        n += 1
        score.score_region(**kw)
        assert len(runs) == n, f"the same call again is not a hit: {kw}"

    # an assumption override, and another value of it
    miss(region="d2n2", assumptions={"road.motorway_kmh": 90.0})
    miss(region="d2n2", assumptions={"road.motorway_kmh": 91.0})
    # index weights
    miss(region="d2n2", weights={"connectivity": {"tt_rail_leeds": 0.7}})
    # extra sites; another region given as district codes
    miss(region="d2n2", sites=["ema"])
    miss(region=["E06000018", "E07000172"])
    # a reference frame
    ref = _tricky_frame()
    miss(region="d2n2", reference=ref)
    ref2 = ref.copy()
    ref2.loc["E01000001", "f"] = 1.25
    miss(region="d2n2", reference=ref2)
    # a scenario file, then an edit of its bytes
    sc = tmp_path / "my.toml"
    shutil.copy(layers_dir() / "scenarios" / "base.toml", sc)
    miss(region="d2n2", scenario=str(sc))
    sc.write_text(sc.read_text(encoding="utf-8") + "\n# an edit\n", encoding="utf-8")
    miss(region="d2n2", scenario=str(sc))
    # an authored file (sites.csv) in a planner's own layers folder
    own = tmp_path / "layers"
    shutil.copytree(layers_dir(), own)
    monkeypatch.setenv("LISGEO_LAYERS_DIR", str(own))
    score.score_region(region="d2n2")  # same bytes as the default folder: may hit (content keyed)
    n = len(runs)
    with open(own / "sites.csv", "a", encoding="utf-8") as fh:
        fh.write("\n")
    miss(region="d2n2")
    with open(own / "assumptions.toml", "a", encoding="utf-8") as fh:
        fh.write("\n# a comment changes the bytes\n")
    miss(region="d2n2")
    # a dataset's pinned sha256 (a new catalogue version)
    from lisgeo import catalog

    ds = catalog._catalog()["imd2025_lsoa21"]
    changed = catalog.Dataset(ds.name, tuple(catalog.CatalogFile(**{**f.__dict__, "sha256": "0" * 64}) for f in ds.files))
    monkeypatch.setitem(catalog._catalog(), "imd2025_lsoa21", changed)
    miss(region="d2n2")


def test_scores_corrupt_entry_is_rescored_and_rewritten(fake_stages, cache_dir):
    score, runs = fake_stages
    first = score.score_region(region="d2n2")
    (entry,) = (cache_dir / "scores").glob("*.parquet")
    entry.write_bytes(entry.read_bytes()[: entry.stat().st_size // 2])  # truncated
    second = score.score_region(region="d2n2")
    assert len(runs) == 2  # scored again, no error
    pd.testing.assert_frame_equal(second, first, check_exact=True)
    assert entry.is_file() and cache.load_frame("scores", entry.stem) is not None  # rewritten
    score.score_region(region="d2n2")
    assert len(runs) == 2


def test_scores_cache_off(fake_stages, cache_dir, monkeypatch):
    score, runs = fake_stages
    score.score_region(region="d2n2", cache=False)
    score.score_region(region="d2n2", cache=False)
    assert len(runs) == 2 and not (cache_dir / "scores").exists()
    monkeypatch.setenv("LISGEO_NO_CACHE", "1")
    score.score_region(region="d2n2")
    score.score_region(region="d2n2")
    assert len(runs) == 4 and not (cache_dir / "scores").exists()
    monkeypatch.delenv("LISGEO_NO_CACHE")
    score.score_region(region="d2n2", street_graph=nx.MultiDiGraph())  # a street graph: never cached
    assert len(runs) == 5 and not (cache_dir / "scores").exists()


def test_unknown_names_still_raise_before_the_cache(fake_stages):
    from lisgeo.errors import LisgeoError

    score, runs = fake_stages
    with pytest.raises(LisgeoError):
        score.score_region(region="d2n2", scenario="hs3")
    with pytest.raises(LisgeoError):
        score.score_region(region="d2n2", assumptions={"road.no_such_key": 1})
    assert runs == []


# ------------------------------------------------------------------ the network build on disk
@pytest.fixture
def fake_build(monkeypatch, cache_dir):
    import lisgeo.network.graph as graph

    builds = []

    def _build(region, sc, overrides, buffer_km, extra_sites=(), base=None, cif=None):
        builds.append(sc.name)
        G = nx.MultiDiGraph(name="fake", scenario=sc.name, assumptions={"a": 1}, sites=list(extra_sites))
        G.add_node("zone:a", kind="zone", x=0.0, y=0.0)
        G.add_node("road:1", kind="road", x=1.0, y=0.0)
        G.add_edge("zone:a", "road:1", time_min=2.0, mode="access_car")
        G.add_edge("road:1", "zone:a", time_min=2.5, mode="access_car")
        return G

    monkeypatch.setattr(graph, "_build", _build)
    graph._build_cached.cache_clear()
    graph._BUILT_BY_ARGS.clear()
    yield graph, builds
    graph._build_cached.cache_clear()
    graph._BUILT_BY_ARGS.clear()


def test_network_build_is_kept_on_disk(fake_build, cache_dir):
    graph, builds = fake_build
    G1 = graph.build_network(region="d2n2")
    assert builds == ["base"] and len(list((cache_dir / "network").glob("*.pickle"))) == 1
    graph._build_cached.cache_clear()  # as a new process would
    G2 = graph.build_network(region="d2n2")
    assert builds == ["base"] and nx.utils.graphs_equal(G1, G2)
    graph._build_cached.cache_clear()
    graph.build_network(region="d2n2", cache=False)
    assert builds == ["base", "base"]
    graph.build_network(region="d2n2", assumptions={"road.motorway_kmh": 90.0})
    assert builds == ["base", "base", "base"]
    # a corrupt entry is rebuilt and rewritten
    for p in (cache_dir / "network").glob("*.pickle"):
        p.write_bytes(b"garbage")
    graph._build_cached.cache_clear()
    graph.build_network(region="d2n2")
    assert len(builds) == 4
    graph._build_cached.cache_clear()
    graph.build_network(region="d2n2")
    assert len(builds) == 4


def test_network_copy_or_shared(fake_build):
    graph, builds = fake_build
    shared = graph.build_network(region="d2n2", copy=False)
    other = graph.build_network(region="d2n2", copy=False)
    assert nx.is_frozen(shared) and shared is not other
    with pytest.raises(nx.NetworkXError):
        shared.add_edge("zone:a", "zone:b")
    # nodes and edges are the cached build's, not copied; G.graph is each graph's own
    assert shared["zone:a"]["road:1"][0] is other["zone:a"]["road:1"][0]
    shared.graph["assumptions"]["a"] = 2
    shared.graph["extra"] = 1
    assert other.graph["assumptions"]["a"] == 1 and "extra" not in other.graph
    # copy=True: independent and editable; equal to G.copy()
    mine = graph.build_network(region="d2n2")
    assert not nx.is_frozen(mine) and nx.utils.graphs_equal(mine, other.copy())
    mine.add_edge("zone:a", "zone:b", time_min=1.0, mode="local")
    mine["zone:a"]["road:1"][0]["time_min"] = 99.0
    assert "zone:b" not in shared and shared["zone:a"]["road:1"][0]["time_min"] == 2.0
    assert list(mine.pred["road:1"]) == ["zone:a"] and mine._pred["road:1"]["zone:a"] is mine._succ["zone:a"]["road:1"]
    assert builds == ["base"]


def test_copy_graph_equals_networkx_copy():
    from lisgeo.network.graph import _copy_graph

    rng = np.random.default_rng(0)
    G = nx.MultiDiGraph(name="g", assumptions={"x": 1}, sites=["a"])
    for i in range(40):
        G.add_node(f"n{i}", kind="road", x=float(i), y=0.0)
    for _ in range(150):
        a, b = rng.integers(0, 40, 2)
        G.add_edge(f"n{a}", f"n{b}", time_min=float(rng.uniform(1, 5)), mode="road")
    H, ref = _copy_graph(G), G.copy()
    assert nx.utils.graphs_equal(H, ref) and list(H.edges(keys=True, data=True)) == list(ref.edges(keys=True, data=True))
    assert all(list(H.pred[n].items()) == list(ref.pred[n].items()) for n in G)
    H.graph["sites"].append("b")
    next(iter(H.edges(data=True)))[2]["time_min"] = -1.0
    assert G.graph["sites"] == ["a"] and next(iter(G.edges(data=True)))[2]["time_min"] != -1.0


# ------------------------------------------------------------------ the IoD parse (real data)
def test_iod_parse_cached_equals_parse(real_data, cache_dir):
    from lisgeo.layers import deprivation

    fresh = deprivation._read_rda("imd2025_lsoa21_subdomains")
    assert len(list((cache_dir / "rda").glob("*.parquet"))) == 1
    cached = deprivation._read_rda("imd2025_lsoa21_subdomains")
    pd.testing.assert_frame_equal(cached, fresh, check_exact=True)
    assert list(cached.dtypes) == list(fresh.dtypes)


def test_layer_cache_hit_equals_fresh_read(real_data, cache_dir):
    from lisgeo.layers import load_layer

    fresh = load_layer("lsoa21", region="E06000018", cache=False)
    assert not (cache_dir / "layers").exists()
    first = load_layer("lsoa21", region="E06000018")
    assert len(list((cache_dir / "layers").glob("*.parquet"))) == 1
    again = load_layer("lsoa21", region="E06000018")
    for got in (first, again):
        pd.testing.assert_frame_equal(got, fresh, check_exact=True)
        assert got.crs == fresh.crs and got.attrs == fresh.attrs
    # another region is another entry, never the first one's frame
    other = load_layer("lsoa21", region="E06000016")
    assert len(list((cache_dir / "layers").glob("*.parquet"))) == 2 and not other.index.isin(fresh.index).any()


def test_layer_key_refuses_options_it_cannot_hash_safely(cache_dir):
    from lisgeo.layers._registry import LAYERS, _ensure_loaded, _layer_key

    _ensure_loaded()
    spec = LAYERS["lsoa21"]
    assert _layer_key(spec, "d2n2", {}) is not None
    assert _layer_key(spec, "d2n2", {"frame": pd.DataFrame({"a": [1]})}) is None  # a repr is no key
    assert _layer_key(spec, "d2n2", {}) != _layer_key(spec, "llep", {})


def test_claims_cached_on_everything_they_depend_on(monkeypatch, cache_dir):
    from lisgeo.pipeline import claims as mod

    calls = []

    def fake(reg, a, hours, miles):
        calls.append((reg.name, hours, miles, a["claims.off_network_kmh"]))
        return pd.DataFrame({"claim": ["x"], "strategy_figure": [1.0], "computed_value": [float(len(calls))],
                             "unit": ["%"], "method": ["m"], "source": ["s"]})

    monkeypatch.setattr(mod, "_recompute_claims", fake)
    a = mod.recompute_claims("d2n2")
    b = mod.recompute_claims("d2n2")
    assert len(calls) == 1 and a.equals(b)
    mod.recompute_claims("llep")
    mod.recompute_claims("d2n2", miles=10)
    mod.recompute_claims("d2n2", assumptions={"claims.off_network_kmh": 20.0})
    assert len(calls) == 4
    mod.recompute_claims("d2n2", cache=False)
    monkeypatch.setenv("LISGEO_NO_CACHE", "1")
    mod.recompute_claims("d2n2")
    assert len(calls) == 6


def test_region_road_links_equal_matching_the_region_alone(real_data, cache_dir):
    from lisgeo.layers import roads

    roads._national_road_links.cache_clear()
    alone = roads.load_road_links(region="llep")  # nothing at hand: the region's links matched alone
    assert roads._national_road_links.cache_info().currsize == 0
    national = roads._national_road_links()  # England's, matched once
    got = roads.load_road_links(region="llep")  # picked from them
    pd.testing.assert_frame_equal(got, alone, check_exact=True)
    pd.testing.assert_frame_equal(got, national.loc[alone.index], check_exact=True)
    assert got.attrs["hapms_share"] == alone.attrs["hapms_share"]


def test_gc_paused_restores_the_collector_and_nests():
    """Bulk builds pause the cyclic collector (lisgeo._gc); it comes back as it was, also after an
    error, and an inner pause never turns it on inside an outer one."""
    import gc

    from lisgeo._gc import gc_paused

    assert gc.isenabled()
    with gc_paused():
        assert not gc.isenabled()
        with gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(KeyError), gc_paused():
        raise KeyError("x")
    assert gc.isenabled()
    gc.disable()
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()  # off before: left off
    finally:
        gc.enable()


def test_in_the_command_a_kept_back_pickle_is_written_after_it_returns(cache_dir, monkeypatch):
    """``store_pickle(defer=True)``: written at once in a Python session; in the ``lisgeo`` command
    (``defer_writes``) kept back, written first if this process reads it, else by a detached copy
    of the process (``write_deferred``), as an entry like any other (checksummed, checked on read)."""
    import time

    monkeypatch.setattr(cache, "_DEFERRED", None)
    big = {"graph": list(range(50_000))}
    assert cache.store_pickle("network", "session", big, defer=True).is_file()  # a session: at once
    cache.defer_writes()
    path = cache.store_pickle("network", "kept", big, defer=True)
    assert not path.exists()
    assert cache.load_pickle("network", "kept") == big  # read by this process: written first
    later = cache.store_pickle("network", "later", big, defer=True)
    assert not later.exists()
    cache.write_deferred()
    assert cache._DEFERRED is None  # (this process goes on writing at once)
    for _ in range(400):
        if later.exists():
            break
        time.sleep(0.05)
    assert cache.load_pickle("network", "later") == big
    assert later.read_bytes()[: cache._HEADER.size][:8] == cache._MAGIC
    assert not list(later.parent.glob(".*.tmp"))
