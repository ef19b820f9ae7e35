"""Normalisation, weighted indices, deciles and left_behind on hand-made frames."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lisgeo.errors import DataNotFoundError, LisgeoError, MissingColumnError
from lisgeo.measures.indices import (
    add_indices,
    decile,
    left_behind,
    load_index_config,
    normalise_measure,
    weighted_index,
)

NAN = np.nan


def test_default_config_is_valid_and_documented():
    cfg = load_index_config()
    assert cfg["normalisation"]["method"] == "percentile"
    assert cfg["left_behind"] == {"connectivity_decile_max": 2, "imd_decile_max": 2}
    # every weighted measure has a direction; times are "lower", counts "higher"
    for m in list(cfg["connectivity"]) + list(cfg["accessibility"]):
        assert cfg["direction"][m] == ("lower" if m.startswith("tt_") else "higher")
    # the IoD's own connectivity indicator is never an input
    assert not any("connectivity_score" in m or m.startswith("imd") for m in cfg["connectivity"])


def test_normalise_percentile_and_minmax():
    x = pd.Series([10.0, 20.0, 20.0, 50.0], index=list("abcd"))
    # ranks (average ties) 1, 2.5, 2.5, 4 -> 100*(r-1)/3 = 0, 50, 50, 100
    assert normalise_measure(x, direction="higher").tolist() == pytest.approx([0, 50, 50, 100])
    # lower is better: reversed
    assert normalise_measure(x, direction="lower").tolist() == pytest.approx([100, 50, 50, 0])
    # minmax: (x-10)/40*100 = 0, 25, 25, 100
    assert normalise_measure(x, method="minmax").tolist() == pytest.approx([0, 25, 25, 100])
    assert normalise_measure(x, method="minmax", direction="lower").tolist() == pytest.approx([100, 75, 75, 0])
    assert normalise_measure(pd.Series([3.0, 3.0]), method="minmax").tolist() == [50.0, 50.0]
    assert normalise_measure(pd.Series([3.0, 3.0])).tolist() == [50.0, 50.0]


def test_normalise_nan_handling():
    t = pd.Series([5.0, NAN, 15.0])  # minutes: NaN = unreachable -> worst (0)
    assert normalise_measure(t, direction="lower").tolist() == [100.0, 0.0, 0.0]
    j = pd.Series([5.0, NAN, 15.0])  # a count with missing data stays missing
    out = normalise_measure(j, direction="higher")
    assert out[0] == 0 and np.isnan(out[1]) and out[2] == 100


def test_weighted_index_hand_computed():
    f = pd.DataFrame({"t": [10.0, 20.0, 30.0], "n": [0.0, 5.0, NAN]}, index=["a", "b", "c"])
    # t lower-better percentile: a 100, b 50, c 0 ; n higher-better over a, b: a 0, b 100, c missing
    # weights t=1, n=3: a = (100 + 0)/4 = 25 ; b = (50 + 300)/4 = 87.5 ; c = 0 (only t, weight re-scaled) = 0
    out = weighted_index(f, {"t": 1, "n": 3}, directions={"t": "lower", "n": "higher"}, name="x")
    assert out.tolist() == pytest.approx([25.0, 87.5, 0.0])
    assert out.name == "x"
    # zero weights are ignored
    assert weighted_index(f, {"t": 1, "n": 0}, directions={"t": "lower", "n": "higher"}).tolist() == [100, 50, 0]
    with pytest.raises(MissingColumnError):
        weighted_index(f, {"zz": 1}, directions={"zz": "higher"})


def test_decile_and_left_behind():
    v = pd.Series(np.arange(20, dtype=float)[::-1], index=[f"z{i}" for i in range(20)])
    d = decile(v, name="connectivity_decile")
    # 20 zones: ceil(10 r / 20): the two lowest values (0 and 1, zones z19 and z18) are decile 1
    assert d["z19"] == 1 and d["z18"] == 1 and d["z17"] == 2 and d["z0"] == 10
    assert d.value_counts().sort_index().tolist() == [2] * 10
    imd = pd.Series([1] * 10 + [5] * 10, index=v.index)
    lb = left_behind(d, imd)
    # least connected two deciles = z16..z19 (values 0..3) but their IMD decile is 5: none left behind
    assert lb.sum() == 0
    imd2 = pd.Series([5] * 16 + [2, 1, 3, np.nan], index=v.index)
    lb2 = left_behind(d, imd2)
    # z16 (decile 2, imd 2) and z17 (decile 2, imd 1) qualify; z18 has imd 3; z19 has no imd -> False
    assert lb2[lb2].index.tolist() == ["z16", "z17"]
    assert lb2.dtype == bool
    assert left_behind(d, imd2, imd_decile_max=3).sum() == 3


def test_user_weights_override_and_rejections(tmp_path):
    p = tmp_path / "w.toml"
    p.write_text('[connectivity]\nstops_800m = 2\ndigital_score = 0\n[left_behind]\nimd_decile_max = 3\n[normalisation]\nmethod = "minmax"\n')
    cfg = load_index_config(p)
    assert cfg["connectivity"] == {"stops_800m": 2, "digital_score": 0}  # the table is replaced
    assert cfg["accessibility"]["jobs_car_45"] == 1.0  # untouched sections kept
    assert cfg["left_behind"] == {"connectivity_decile_max": 2, "imd_decile_max": 3}
    assert cfg["normalisation"]["method"] == "minmax"
    with pytest.raises(LisgeoError, match="unknown section"):
        load_index_config({"weights": {"a": 1}})
    with pytest.raises(LisgeoError, match="unknown measure"):
        load_index_config({"connectivity": {"imd_connectivity_score": 1}})
    with pytest.raises(LisgeoError, match=">= 0"):
        load_index_config({"accessibility": {"jobs_car_45": -1}})
    with pytest.raises(LisgeoError, match="sum to more than 0"):
        load_index_config({"accessibility": {"jobs_car_45": 0}})
    with pytest.raises(LisgeoError, match="unknown key"):
        load_index_config({"left_behind": {"deprived": 2}})
    with pytest.raises(LisgeoError, match="method"):
        load_index_config({"normalisation": {"method": "zscore"}})
    with pytest.raises(DataNotFoundError):
        load_index_config(tmp_path / "nope.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[connectivity\n")
    with pytest.raises(LisgeoError, match="not valid TOML"):
        load_index_config(bad)


def test_add_indices_on_small_frame():
    cfg = load_index_config({"connectivity": {"stops_800m": 1}, "accessibility": {"jobs_car_45": 1}})
    n = 10
    f = pd.DataFrame({"stops_800m": np.arange(n), "jobs_car_45": np.arange(n)[::-1] * 100.0, "imd_decile": [1] * n}, index=[f"z{i}" for i in range(n)])
    out = add_indices(f, config=cfg)
    # stops 0..9 -> percentile 0, 11.1, ..., 100 ; decile = rank
    assert out["connectivity_index"].tolist() == pytest.approx([100 * i / 9 for i in range(n)])
    assert out["accessibility_index"].tolist() == pytest.approx([100 * (9 - i) / 9 for i in range(n)])
    assert out["connectivity_decile"].tolist() == list(range(1, 11))
    assert out["left_behind"].tolist() == [True, True] + [False] * 8
    assert "connectivity_index" not in f.columns  # input untouched
    with pytest.raises(MissingColumnError, match="imd_decile"):
        add_indices(f.drop(columns="imd_decile"), config=cfg)


def test_normalise_against_a_reference():
    base = pd.Series([10.0, 20.0, 30.0, 40.0, 50.0])
    # against itself: the same as no reference (0, 25, 50, 75, 100)
    assert normalise_measure(base, reference=base).tolist() == normalise_measure(base).tolist()
    # a scenario placed on the base's scale: 30 ranks where base's 30 did (50); 35 lies between
    # 30 (pos 2) and 40 (pos 3): lt=3, no tie -> pos 2.5 -> 62.5; 60 beyond the best -> clipped 100;
    # 5 below the worst -> clipped 0
    scen = pd.Series([30.0, 35.0, 60.0, 5.0])
    assert normalise_measure(scen, reference=base).tolist() == [50.0, 62.5, 100.0, 0.0]
    # times (lower is better): 35 min sits between base's 30 and 40 -> 37.5 ; unreachable -> 0
    t = pd.Series([35.0, np.nan])
    assert normalise_measure(t, direction="lower", reference=base).tolist() == [37.5, 0.0]
    # minmax on the base's range (10..50): 35 -> 62.5
    assert normalise_measure(pd.Series([35.0]), method="minmax", reference=base).tolist() == [62.5]


def test_decile_against_a_reference():
    base = pd.Series(np.arange(1.0, 21.0))  # deciles: 1-2 -> 1, 3-4 -> 2, ..., 19-20 -> 10
    assert decile(base, reference=base).tolist() == decile(base).tolist()
    # 2.5 is above decile 1's largest (2) and below decile 2's (4) -> 2 ; 0 -> 1 ; 25 -> 10
    assert decile(pd.Series([2.5, 0.0, 25.0, 4.0]), reference=base).tolist() == [2, 1, 10, 2]


def test_add_indices_with_reference_shows_absolute_change():
    cfg = load_index_config({"connectivity": {"stops_800m": 1}, "accessibility": {"jobs_car_45": 1}})
    idx = [f"z{i}" for i in range(10)]
    base = pd.DataFrame({"stops_800m": np.arange(10.0), "jobs_car_45": np.arange(10.0), "imd_decile": [1] * 10}, index=idx)
    base = add_indices(base, config=cfg)
    better = base[["stops_800m", "jobs_car_45", "imd_decile"]].copy()
    better["stops_800m"] += 1  # every zone gains one stop
    own = add_indices(better, config=cfg)
    ref = add_indices(better, config=cfg, reference=base)
    # on its own scale nothing changes (ranks are the same) ...
    assert own["connectivity_index"].tolist() == pytest.approx(base["connectivity_index"].tolist())
    # ... on the base's scale every zone but the best (clipped at 100) moves up by 100/9
    d = ref["connectivity_index"] - base["connectivity_index"]
    assert d.iloc[:9].tolist() == pytest.approx([100 / 9] * 9) and d.iloc[9] == 0
    assert (ref["connectivity_decile"] >= base["connectivity_decile"]).all()
    assert ref["left_behind"].sum() == 1  # only z0 (now 1 stop, base decile 2) stays in the bottom two deciles
