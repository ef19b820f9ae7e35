"""Calibration on data nothing is validated on: the rail running-time model fitted on timetabled
segments with a fifth of the station pairs held out, the operators' factors, and the A-road speed
derived from real speed limits."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lisgeo.assumptions import load_assumptions
from lisgeo.pipeline import calibrate as C


def test_held_out_pairs_are_fixed_and_either_direction():
    a = np.array(["NOT", "LEI", "DBY", "AAA"])
    b = np.array(["LEI", "NOT", "SHF", "BBB"])
    h = C._held_out(a, b)
    assert h[0] == h[1]  # a pair is held out in both directions or in neither
    assert h.tolist() == C._held_out(a, b).tolist()  # fixed, not random
    # about a fifth of many pairs
    codes = np.array([f"{i:03d}" for i in range(300)])
    share = C._held_out(codes[:-1], codes[1:]).mean()
    assert 0.12 < share < 0.28


def test_model_min_hand_computed():
    theta = np.array([2.0, 60.0, 0.0])
    assert C._model_min(theta, np.array([10.0, 40.0]), np.array([1.0, 2.0])).tolist() == pytest.approx([12.0, 22.0])


@pytest.fixture(scope="module")
def fit(real_data):
    return C.calibrate_rail_segments()


def test_real_fit_reproduces_the_file_and_beats_the_baseline_held_out(fit):
    """The constants in layers/assumptions.toml and layers/rail_operators.csv are those of this fit
    (so they cannot drift from it), and on the held-out fifth of the station pairs the model beats a
    crow-fly speed per class of train, without bias."""
    from lisgeo.layers.rail import read_rail_operators

    a = load_assumptions()
    for k in C.RAIL_PARAMS:
        assert fit.params[k] == pytest.approx(a[k], rel=0.01, abs=0.002), k
    assert fit.dwell_min == pytest.approx(a["pt.dwell_min"], abs=0.01)
    ops = read_rail_operators().set_index("atoc")
    for code, f in fit.factors.items():
        assert ops.loc[code, "run_factor"] == pytest.approx(f, abs=0.002), code
        assert ops.loc[code, "fit_segments"] == fit.counts[code] >= C.MIN_OPERATOR_SEGMENTS
    assert (ops.loc[~ops.index.isin(list(fit.factors)), "run_factor"] == 1.0).all()
    s = fit.summary().set_index("class")
    assert set(s.index) == {"OO", "XX", "all"} and s.loc["all", "segments"] > 15000 and fit.n_train > 60000
    for cls in ("OO", "XX", "all"):
        assert s.loc[cls, "median_abs_pct"] < 20 and abs(s.loc[cls, "bias_pct"]) < 5, cls
        assert s.loc[cls, "median_abs_pct"] < 0.6 * s.loc[cls, "baseline_median_abs_pct"], cls
    # nothing held out was fitted on: no held-out pair of stations among the training segments
    seg = C.rail_segment_table()
    key = lambda d: set(map(frozenset, zip(d["from_crs"], d["to_crs"])))  # noqa: E731
    assert not key(seg[seg["held_out"]]) & key(seg[~seg["held_out"]])


def test_real_operator_table_is_the_fit(fit):
    table = C.operator_table(fit)
    from lisgeo.layers.rail import read_rail_operators

    pd.testing.assert_frame_equal(table[["operator", "atoc", "run_factor", "fit_segments"]],
                                  read_rail_operators()[["operator", "atoc", "run_factor", "fit_segments"]], check_dtype=False)
    # the northern and regional operators run slower than the base, the London suburban ones faster
    f = fit.factors
    assert f["NT"] < 1.0 and f["TP"] < 1.0 and f["TL"] > 1.0


def test_real_a_road_speed_from_rutlands_speed_limits(real_data):
    pytest.importorskip("pyrosm")
    out = C.osm_a_road_speed()
    assert 40 < out["km"] < 80 and out["ways"] > 20
    # the harmonic mean of the free-flow speeds by limit over the non-trunk A roads: the source of road.a_single_kmh
    assert 66 < out["kmh"] < 74
    assert load_assumptions()["road.a_single_kmh"] == pytest.approx(round(out["kmh"] / 5) * 5, abs=5)
