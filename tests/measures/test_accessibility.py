"""Accessibility measures on small hand-made matrices; the arithmetic is in the comments."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from lisgeo.errors import LisgeoError, MissingColumnError
from lisgeo.measures.accessibility import (
    beta_from_half_life,
    cumulative_opportunities,
    decay_weights,
    e2sfca,
    gravity_access,
    nearest_time,
)

NAN = np.nan


@pytest.fixture
def tt():
    # origins a, b; destinations x, y, z (minutes)
    #        x     y     z
    # a      0    30    50
    # b     40    10    NaN (unreachable)
    return pd.DataFrame({"x": [0.0, 40.0], "y": [30.0, 10.0], "z": [50.0, NAN]}, index=["a", "b"])


@pytest.fixture
def jobs():
    return pd.Series({"x": 100.0, "y": 10.0, "z": 1.0})


def test_cumulative_hand_computed(tt, jobs):
    out = cumulative_opportunities(tt, jobs, thresholds=(30, 45, 60), mode="car")
    assert list(out.columns) == ["jobs_car_30", "jobs_car_45", "jobs_car_60"]
    # a: <=30 -> x(0)+y(30, inclusive) = 100+10 = 110; <=45 same 110; <=60 adds z(50) = 111
    # b: <=30 -> y(10) = 10; <=45 -> y + x(40) = 110; <=60 -> 110 (z unreachable never counts)
    assert out.loc["a"].tolist() == [110.0, 110.0, 111.0]
    assert out.loc["b"].tolist() == [10.0, 110.0, 110.0]
    assert list(out.index) == ["a", "b"]


def test_cumulative_aligns_by_label_and_names_modes(tt):
    # weights given in another order are aligned by label, not position
    jobs = pd.Series({"z": 1.0, "y": 10.0, "x": 100.0, "extra": 5.0})
    out = cumulative_opportunities(tt, jobs, thresholds=(60,), mode="rail")
    assert out["jobs_rail_60"].tolist() == [111.0, 110.0]


def test_cumulative_rejects_missing_or_bad_weights(tt):
    with pytest.raises(MissingColumnError, match="no value"):
        cumulative_opportunities(tt, pd.Series({"x": 1.0, "y": 1.0}))
    with pytest.raises(LisgeoError, match="NaN"):
        cumulative_opportunities(tt, pd.Series({"x": 1.0, "y": NAN, "z": 1.0}))
    with pytest.raises(LisgeoError, match=">= 0"):
        cumulative_opportunities(tt, pd.Series({"x": -1.0, "y": 1.0, "z": 1.0}))
    with pytest.raises(LisgeoError, match="negative"):
        cumulative_opportunities(tt * -1, pd.Series({"x": 1.0, "y": 1.0, "z": 1.0}))
    with pytest.raises(LisgeoError, match="inf"):
        cumulative_opportunities(tt.replace(NAN, np.inf), pd.Series({"x": 1.0, "y": 1.0, "z": 1.0}))


def test_gravity_hand_computed(tt, jobs):
    # half-life 10 min -> beta = ln2/10; weights: t=0 -> 1, 10 -> 1/2, 30 -> 1/8, 40 -> 1/16, 50 -> 1/32
    # a: 100*1 + 10/8 + 1/32 = 101.28125
    # b: 100/16 + 10/2 + 0 (z unreachable) = 6.25 + 5 = 11.25
    out = gravity_access(tt, jobs, half_life_min=10, name="acc_gravity_car")
    assert out.name == "acc_gravity_car"
    assert out["a"] == pytest.approx(101.28125)
    assert out["b"] == pytest.approx(11.25)
    # explicit beta gives the same; a cut-off at 35 min drops x for b and z for a
    same = gravity_access(tt, jobs, beta=math.log(2) / 10)
    assert same.tolist() == pytest.approx(out.tolist())
    cut = gravity_access(tt, jobs, half_life_min=10, max_time_min=35)
    assert cut.tolist() == pytest.approx([101.25, 5.0])


def test_gravity_default_beta_and_errors(tt, jobs):
    assert beta_from_half_life(20) == pytest.approx(0.034657359)
    # default half-life 20 min: a = 100 + 10*2^-1.5 + 2^-2.5
    assert gravity_access(tt, jobs)["a"] == pytest.approx(100 + 10 * 2**-1.5 + 2**-2.5)
    with pytest.raises(LisgeoError, match="either"):
        gravity_access(tt, jobs, beta=0.1, half_life_min=10)
    with pytest.raises(LisgeoError, match="half_life"):
        gravity_access(tt, jobs, half_life_min=0)


def test_decay_weights_shapes():
    t = np.array([0.0, 10.0, 10.5, 20.0, 25.0, 30.0, 31.0, NAN])
    # stepped, catchment 30, sub-zones [0,10], (10,20], (20,30]: 1, 1, .68, .68, .22, .22, 0, 0
    assert decay_weights(t, catchment_min=30, decay="stepped").tolist() == [1, 1, 0.68, 0.68, 0.22, 0.22, 0, 0]
    assert decay_weights(t, catchment_min=30, decay="binary").tolist() == [1, 1, 1, 1, 1, 1, 0, 0]
    g = decay_weights(np.array([0.0, 30.0, 15.0]), catchment_min=30, decay="gaussian")
    # Dai (2010): (exp(-0.5 (15/30)^2) - exp(-0.5)) / (1 - exp(-0.5)) = (0.8824969 - 0.6065307)/0.3934693 = 0.701367
    assert g.tolist() == pytest.approx([1.0, 0.0, 0.701367], abs=1e-5)
    with pytest.raises(LisgeoError, match="unknown decay"):
        decay_weights(t, catchment_min=30, decay="cubic")


def test_e2sfca_hand_computed_binary():
    # two residential zones (a: 100 people, b: 300), two job zones (x: 200 jobs, y: 100 jobs)
    #        x    y
    # a     10   50      catchment 30 min, binary weights
    # b     20   25
    # step 1: R_x = 200 / (100 + 300) = 0.5 ; R_y = 100 / 300 (only b reaches y) = 1/3
    # step 2: A_a = R_x = 0.5 ; A_b = 0.5 + 1/3 = 0.8333…
    # conservation: 100*0.5 + 300*0.8333 = 50 + 250 = 300 = 200 + 100 jobs
    tt = pd.DataFrame({"x": [10.0, 20.0], "y": [50.0, 25.0]}, index=["a", "b"])
    sup = pd.Series({"x": 200.0, "y": 100.0})
    dem = pd.Series({"a": 100.0, "b": 300.0})
    out = e2sfca(tt, sup, dem, catchment_min=30, decay="binary")
    assert out.tolist() == pytest.approx([0.5, 5 / 6])
    assert (out * dem).sum() == pytest.approx(300.0)


def test_e2sfca_hand_computed_stepped():
    # same zones, Luo & Qi stepped weights (catchment 30: [0,10] 1.00, (10,20] 0.68, (20,30] 0.22)
    # W: a-x 10 -> 1.00, a-y 50 -> 0; b-x 20 -> 0.68, b-y 25 -> 0.22
    # step 1: R_x = 200 / (100*1 + 300*0.68) = 200 / 304 = 0.657895 ; R_y = 100 / (300*0.22) = 100/66 = 1.515152
    # step 2: A_a = 1*R_x = 0.657895 ; A_b = 0.68*R_x + 0.22*R_y = 0.447368 + 0.333333 = 0.780702
    # conservation: 100*0.657895 + 300*0.780702 = 65.79 + 234.21 = 300
    tt = pd.DataFrame({"x": [10.0, 20.0], "y": [50.0, 25.0]}, index=["a", "b"])
    sup = pd.Series({"x": 200.0, "y": 100.0})
    dem = pd.Series({"a": 100.0, "b": 300.0})
    out = e2sfca(tt, sup, dem, catchment_min=30, decay="stepped")
    assert out.tolist() == pytest.approx([200 / 304, 0.68 * 200 / 304 + 0.22 * 100 / 66], rel=1e-9)
    assert (out * dem).sum() == pytest.approx(300.0)


def test_e2sfca_unreached_supply_and_isolated_origin():
    # y is reached by nobody (NaN / beyond catchment): its 50 jobs are lost; c reaches nothing -> 0
    #        x     y
    # a      5    NaN
    # c     NaN   90
    # R_x = 10 / 20 = 0.5 ; A_a = 0.5 ; A_c = 0
    tt = pd.DataFrame({"x": [5.0, NAN], "y": [NAN, 90.0]}, index=["a", "c"])
    out = e2sfca(tt, pd.Series({"x": 10.0, "y": 50.0}), pd.Series({"a": 20.0, "c": 7.0}), catchment_min=60, decay="binary")
    assert out.tolist() == [0.5, 0.0]


def test_nearest_time(tt):
    out = nearest_time(tt, name="tt_car_nearest_ez")
    # a: min(0, 30, 50) = 0 at x ; b: min(40, 10) = 10 at y
    assert out["tt_car_nearest_ez"].tolist() == [0.0, 10.0]
    assert out["tt_car_nearest_ez_id"].tolist() == ["x", "y"]
    assert out["tt_car_nearest_ez_unreachable"].tolist() == [False, False]
    iso = pd.DataFrame({"x": [NAN, 7.0], "y": [NAN, 3.0]}, index=["lost", "ok"])
    out = nearest_time(iso, name="t")
    assert np.isnan(out.loc["lost", "t"]) and out.loc["ok", "t"] == 3.0
    assert out["t_unreachable"].tolist() == [True, False]
    assert pd.isna(out.loc["lost", "t_id"]) and out.loc["ok", "t_id"] == "y"
