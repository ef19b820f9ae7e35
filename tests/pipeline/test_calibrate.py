"""Calibration of the rail running-time constants: candidates on a hand example, and the fitted
values of ``layers/assumptions.toml`` reproduced from the validation set."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest

from lisgeo.assumptions import load_assumptions
from lisgeo.pipeline.calibrate import candidate_rides, rail_candidates


def _stations():
    """A 0, B 10, C 20, D 60 km east on a line, indexed by CRS like ``rail_stations``."""
    return gpd.GeoDataFrame({"crs": ["AAA", "BBB", "CCC", "DDD"]}, index=["AAA", "BBB", "CCC", "DDD"],
                            geometry=gpd.points_from_xy([0, 10000, 20000, 60000], [0, 0, 0, 0]), crs="EPSG:27700")


def _patterns():
    # 1 stops every 10 km (stopping); 2 averages (20 + 40) / 2 = 30 km (express); 3 runs C -> A only;
    # 4 has no trains; 5 calls at an unknown station between A and C
    return pd.DataFrame({"pattern_id": [1, 2, 3, 4, 5], "stops": ["AAA;BBB;CCC", "AAA;CCC;DDD", "CCC;BBB;AAA", "AAA;CCC", "AAA;ZZZ;DDD"],
                         "daily_trains": [36.0, 18.0, 10.0, 0.0, 6.0]})


def test_rail_candidates_hand_pair():
    pairs = pd.DataFrame({"pair_id": ["ac", "ac_again", "ca", "bd", "ad"], "from_crs": ["AAA", "AAA", "CCC", "BBB", "AAA"],
                          "to_crs": ["CCC", "CCC", "AAA", "DDD", "DDD"]})
    c = rail_candidates(pairs, _stations(), _patterns(), spacing_km=20.0)
    got = {(r.pair_id, r.links, r.km_long, r.km_short, r.trains) for r in c.itertuples(index=False)}
    assert got == {
        ("ac", 2, 0.0, 20.0, 36.0), ("ac", 1, 20.0, 0.0, 18.0),              # two stopping links; one express link
        ("ac_again", 2, 0.0, 20.0, 36.0), ("ac_again", 1, 20.0, 0.0, 18.0),  # the same pair published twice
        ("ca", 2, 0.0, 20.0, 10.0),                                          # the reverse pattern serves C -> A
        ("ad", 2, 60.0, 0.0, 18.0),                                          # A - C - D, 20 + 40 km express
        ("ad", 1, 60.0, 0.0, 6.0),                                           # ZZZ dropped: one 60 km link
    }  # B -> D: no pattern runs it; the no-train pattern is never a candidate
    # spacing 35 km: pattern 2 (30 km on average) becomes a stopping pattern
    c35 = rail_candidates(pairs[pairs["pair_id"] == "ac"], _stations(), _patterns(), spacing_km=35.0)
    assert sorted(c35["km_short"]) == [20.0, 20.0] and (c35["km_long"] == 0).all()


def test_candidate_rides_fastest_and_typical():
    pairs = pd.DataFrame({"pair_id": ["ac"], "from_crs": ["AAA"], "to_crs": ["CCC"]})
    c = rail_candidates(pairs, _stations(), _patterns(), spacing_km=20.0)
    params = {"pt.stop_penalty_min": 2.0, "pt.express_kmh": 120.0, "pt.stopping_kmh": 60.0}
    r = candidate_rides(c, params).loc["ac"]
    # express 2 + 20 / 120 * 60 = 12 min; stopping 2 x 2 + 20 min = 24; typical train (18 x 12 + 36 x 24) / 54 = 20
    assert r["fastest"] == pytest.approx(12.0) and r["typical"] == pytest.approx(20.0)


# ------------------------------------------------------------------ real data
def test_real_calibration_reproduces_the_file(real_data):
    from lisgeo.pipeline.calibrate import calibrate_rail

    a = load_assumptions()
    fit = calibrate_rail(loo=False)  # Nelder-Mead from the file's values
    for k in ("pt.stop_penalty_min", "pt.express_kmh", "pt.stopping_kmh", "pt.fast_line_factor"):
        assert fit.params[k] == pytest.approx(a[k], rel=0.03), k
    p = fit.pairs
    assert len(p) == 73 and p["pair_id"].is_unique and p["loo_min"].isna().all()  # no leave-one-out asked
    assert set(p["class"]) == {"intercity_rail", "local_rail"} and set(p["time_kind"]) <= {"fastest", "typical"}
    s = fit.summary()
    assert s["pairs"] == 73 and s["median_abs_pct"] < 15 and abs(s["bias_pct"]) < 5 and 0 < fit.loss < 0.2


def test_fast_line_factor_speeds_up_only_its_operators_patterns():
    """Hand case: the fast-line pattern's running time divides by the factor (the stop penalty does
    not), in the calibration's candidates and in the network's rail services alike."""
    from lisgeo.network.rail import fast_line_patterns, rail_services

    a = load_assumptions(pt__fast_line_operators=["Fast Co"], pt__fast_line_factor=2.0, pt__stop_penalty_min=2.0,
                         pt__express_kmh=120.0, pt__stopping_kmh=60.0, pt__min_wait_min=0.0, pt__board_penalty_min=0.0)
    pats = _patterns().assign(operators=["Slow Co", "Fast Co;Other", "Slow Co", "Slow Co", None])
    assert fast_line_patterns(pats, a).tolist() == [False, True, False, False, False]
    pairs = pd.DataFrame({"pair_id": ["ac"], "from_crs": ["AAA"], "to_crs": ["CCC"]})
    c = rail_candidates(pairs, _stations(), pats, spacing_km=20.0, assumptions=a)
    assert sorted(c["fast"].tolist()) == [False, True]
    params = {k: a[k] for k in ("pt.stop_penalty_min", "pt.express_kmh", "pt.stopping_kmh", "pt.fast_line_factor")}
    # express on the fast line: 2 + 20 / (120 x 2) x 60 = 7 min; stopping: 2 x 2 + 20 = 24
    assert candidate_rides(c, params).loc["ac", "fastest"] == pytest.approx(7.0)
    svc = rail_services(_stations(), pats, a).set_index(["from_crs", "to_crs"])
    assert svc.loc[("AAA", "CCC"), "fastest_min"] == pytest.approx(7.0)
    assert svc.loc[("AAA", "BBB"), "fastest_min"] == pytest.approx(12.0)  # a slow pattern keeps its speed
