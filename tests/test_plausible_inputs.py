"""Inputs that cannot corrupt a result (issue 22): a plausible range for every assumption and scenario
edit, checked at entry in one line; index weights of any finite size without overflow.

Before this change (commit 0b9b846) a motorway speed of 960 or 1e300 km/h, from the file, an override
or a scenario's [assumptions], was accepted and scored (mean drive time to HS2 Chesterfield 66 -> 20
min, exit 0); scenario edits of 1e6 minutes or 0.001 km/h were accepted; index weights of 1e307 and
more overflowed (every connectivity_index inf or NaN, left_behind False everywhere). The tests marked
"failed before" reproduce those cases.
"""

from __future__ import annotations

import math
import tomllib

import numpy as np
import pandas as pd
import pytest

from lisgeo.assumptions import (RANGES, SCHEMA, assumptions_path, check_assumption, load_assumptions)
from lisgeo.errors import ConfigError, LisgeoError, NetworkError, ParameterError

NUMERIC = [k for k, kind in SCHEMA.items() if kind not in ("bool", "decay", "crs", "names")]


def _copy(tmp_path, edit=lambda text: text, name="assumptions.toml"):
    """A planner's copy of the assumptions file, edited."""
    p = tmp_path / name
    p.write_text(edit(assumptions_path().read_text(encoding="utf-8")), encoding="utf-8")
    return p


def _one_line(exc) -> str:
    msg = str(exc.value)
    assert "\n" not in msg and len(msg) < 400, msg
    return msg


# ------------------------------------------------------------------ the shipped file
def test_the_shipped_file_states_a_range_beside_every_number_and_every_value_lies_inside_it():
    raw = tomllib.loads(assumptions_path().read_text(encoding="utf-8"))
    seen = set()
    for section, entries in raw.items():
        for key, entry in entries.items():
            full = f"{section}.{key}"
            if full in NUMERIC:
                lo, hi = entry["range"]
                assert (lo, hi) == RANGES[full], f"{full}: the file's range differs from lisgeo.assumptions.RANGES"
                assert lo <= entry["value"] <= hi, full
                assert entry.get("unit"), f"{full} has a range but no unit"
                seen.add(full)
            else:
                assert "range" not in entry, f"{full} is not a number and needs no range"
    assert seen == set(NUMERIC) == set(RANGES)
    a = load_assumptions()
    assert all(a.range(k) == RANGES[k] for k in NUMERIC) and a.range("destinations.london") is None
    assert a.unit("road.motorway_kmh") == "km/h"


def test_the_main_ranges_are_physical():
    assert RANGES["road.motorway_kmh"] == (40, 130) and RANGES["walk.walk_kmh"] == (3, 7)
    assert RANGES["bicycle.cycle_kmh"] == (8, 30) and RANGES["access.circuity"] == (1, 2)
    for k in NUMERIC:
        lo, hi = RANGES[k]
        assert lo <= hi and math.isfinite(lo) and math.isfinite(hi)
        if k.endswith("_kmh"):
            assert lo > 0 and hi <= 200, k  # a speed is never zero, and nothing in the model runs faster


# ------------------------------------------------------------------ overrides (failed before)
@pytest.mark.parametrize("bad", [960.0, 1e300, 9.6, 0.001])
def test_an_absurd_motorway_speed_is_refused_in_one_line_naming_key_value_range_and_fix(bad):
    """Failed before: only <= 0 and NaN were refused; 960 and 1e300 km/h were scored."""
    with pytest.raises(NetworkError) as exc:
        load_assumptions(road__motorway_kmh=bad)
    msg = _one_line(exc)
    assert msg.startswith(f"assumption road.motorway_kmh = {bad:g} km/h")
    assert "plausible range 40 to 130 km/h" in msg and "layers/assumptions.toml" in msg
    assert "fix the value, or widen the range" in msg


@pytest.mark.parametrize("key, bad", [("walk.walk_kmh", 48.0), ("bicycle.cycle_kmh", 150.0), ("access.circuity", 13.0),
                                      ("pt.max_wait_min", 600.0), ("pt.interchange_penalty_min", 500.0),
                                      ("accessibility.gravity_half_life_min", 2000.0), ("access.k_junctions", 300),
                                      ("reach.network_km", 3000.0), ("uncertainty.car_time_pct", 960.0),
                                      ("pt.run_distance_exponent", 14.7), ("hs2.trains_per_hour", 300.0),
                                      ("claims.drive_hours", 40.0), ("osm.maxspeed_factor", 8.0)])
def test_every_kind_of_key_is_checked_against_its_range(key, bad):
    with pytest.raises(NetworkError, match=key.replace(".", r"\.") + r" = .*outside its plausible range"):
        load_assumptions(**{key: bad})
    lo, hi = RANGES[key]
    for ok in (lo, hi, (lo + hi) / 2 if SCHEMA[key] not in ("int", "int0") else int(lo)):
        assert load_assumptions(**{key: ok})[key] == ok  # the bounds themselves are plausible


@pytest.mark.parametrize("bad, match", [("96", "must be a number"), (float("inf"), "finite"), (float("nan"), "finite"),
                                        (True, "must be a number"), ([96.0], "must be a number"), (None, "must be a number")])
def test_a_value_that_is_not_a_finite_number_is_refused(bad, match):
    with pytest.raises(NetworkError, match=match):
        load_assumptions(road__motorway_kmh=bad)


def test_the_smallest_boarding_wait_may_not_exceed_the_largest():
    with pytest.raises(NetworkError, match="pt.min_wait_min = 20 min is more than pt.max_wait_min = 10 min"):
        load_assumptions(pt__min_wait_min=20.0)
    assert load_assumptions(pt__min_wait_min=20.0, pt__max_wait_min=30.0)["pt.min_wait_min"] == 20.0


def test_check_assumption_checks_one_value_as_an_override():
    assert check_assumption("road__motorway_kmh", 100) == 100.0
    with pytest.raises(NetworkError, match=r"\(scenario x\.toml \[assumptions\]\)"):
        check_assumption("road.motorway_kmh", 960, where="scenario x.toml [assumptions]")
    with pytest.raises(NetworkError, match=r"must be a number.*\(here\)"):
        check_assumption("road.motorway_kmh", "fast", where="here")


# ------------------------------------------------------------------ the file itself
def test_a_value_outside_its_range_in_the_file_is_refused(tmp_path):
    """Failed before: a motorway speed of 960 in the file was accepted."""
    p = _copy(tmp_path, lambda t: t.replace("motorway_kmh = { value = 96.0,", "motorway_kmh = { value = 960.0,"))
    with pytest.raises(NetworkError) as exc:
        load_assumptions(p)
    msg = _one_line(exc)
    assert "road.motorway_kmh = 960 km/h is outside its plausible range 40 to 130 km/h" in msg
    assert "widen its range in that file" in msg
    where = str(p) if len(str(p)) <= 120 else str(p)[-79:]  # a long path has its middle elided
    assert f"{where}); fix the value" in msg and str(p)[:40] in msg


def test_a_planner_may_widen_a_range_in_their_own_copy_and_overrides_follow_it(tmp_path, monkeypatch):
    p = _copy(tmp_path, lambda t: t.replace('unit = "km/h", range = [40, 130], source = "DfT average speed',
                                            'unit = "km/h", range = [40, 1000], source = "DfT average speed'))
    a = load_assumptions(p, road__motorway_kmh=960)
    assert a["road.motorway_kmh"] == 960.0 and a.range("road.motorway_kmh") == (40, 1000)
    with pytest.raises(NetworkError, match="40 to 1000 km/h"):
        load_assumptions(p, road__motorway_kmh=1e300)
    # the planner's folder (LISGEO_LAYERS_DIR) is what overrides and scenarios are checked against
    layers = tmp_path / "layers"
    layers.mkdir()
    p.rename(layers / "assumptions.toml")
    monkeypatch.setenv("LISGEO_LAYERS_DIR", str(layers))
    assert load_assumptions(road__motorway_kmh=960)["road.motorway_kmh"] == 960.0
    assert check_assumption("road.motorway_kmh", 960, where="scenario") == 960.0


def test_a_number_without_a_range_in_a_planners_copy_takes_the_built_in_range(tmp_path):
    p = _copy(tmp_path, lambda t: t.replace('unit = "km/h", range = [40, 130], source = "DfT average speed',
                                            'unit = "km/h", source = "DfT average speed'))
    assert load_assumptions(p).range("road.motorway_kmh") == RANGES["road.motorway_kmh"]
    assert load_assumptions(p, road__motorway_kmh=120)["road.motorway_kmh"] == 120.0
    with pytest.raises(NetworkError, match="plausible range 40 to 130 km/h"):
        load_assumptions(p, road__motorway_kmh=960)


@pytest.mark.parametrize("rng, match", [("[130, 40]", r"range \[130, 40\] is backwards; write it \[low, high\]: range = \[40, 130\]"),
                                        ('["forty", 130]', "two finite numbers"), ("[40, inf]", "two finite numbers"),
                                        ("[40, nan]", "two finite numbers"), ("[40]", "two finite numbers"),
                                        ("[40, 130, 200]", "two finite numbers"), ("40", "two finite numbers"),
                                        ("[true, 130]", "two finite numbers")])
def test_a_malformed_range_in_the_file_is_refused(tmp_path, rng, match):
    p = _copy(tmp_path, lambda t: t.replace('unit = "km/h", range = [40, 130], source = "DfT average speed',
                                            f'unit = "km/h", range = {rng}, source = "DfT average speed'))
    with pytest.raises(ConfigError, match=r"road\.motorway_kmh.*" + match):
        load_assumptions(p)


def test_a_range_on_a_list_or_a_misspelt_field_is_refused(tmp_path):
    p = _copy(tmp_path, lambda t: t.replace('leeds = { value = ["LDS"], unit = "CRS",', 'leeds = { value = ["LDS"], unit = "CRS", range = [0, 1],'))
    with pytest.raises(ConfigError, match="destinations.leeds has a range but its value is not a number"):
        load_assumptions(p)
    p = _copy(tmp_path, lambda t: t.replace('unit = "km/h", range = [40, 130], source = "DfT average speed',
                                            'unit = "km/h", rnage = [40, 1000], source = "DfT average speed'))
    with pytest.raises(ConfigError, match=r"road.motorway_kmh has unknown field\(s\) \['rnage'\]"):
        load_assumptions(p)


@pytest.mark.parametrize("value", ['"96"', "inf", "nan", "true", "[96.0]"])
def test_a_value_that_is_not_a_finite_number_in_the_file_is_refused(tmp_path, value):
    p = _copy(tmp_path, lambda t: t.replace("motorway_kmh = { value = 96.0,", f"motorway_kmh = {{ value = {value},"))
    with pytest.raises(NetworkError, match="road.motorway_kmh"):
        load_assumptions(p)


# ------------------------------------------------------------------ scenarios
def _scenario(tmp_path, body: str, name="mine.toml"):
    p = tmp_path / name
    p.write_text('name = "mine"\ndescription = "test"\nhs2_scheme = "none"\n[status]\nstate = "illustrative"\n' + body,
                 encoding="utf-8")
    return p


@pytest.mark.parametrize("bad", ["960.0", "1e300", '"fast"'])
def test_a_scenario_with_an_absurd_assumption_is_refused_when_read(tmp_path, bad):
    """Failed before: road.motorway_kmh = 960 in a scenario was scored (drive times fell by two thirds)."""
    from lisgeo.network import load_scenario

    p = _scenario(tmp_path, f'[assumptions]\n"road.motorway_kmh" = {bad}\n')
    with pytest.raises(NetworkError) as exc:
        load_scenario(str(p))
    msg = _one_line(exc)
    assert "road.motorway_kmh" in msg and "scenario mine.toml [assumptions]" in msg


def test_a_scenario_whose_waits_disagree_is_refused_when_read(tmp_path):
    from lisgeo.network import load_scenario

    p = _scenario(tmp_path, '[assumptions]\n"pt.min_wait_min" = 12.0\n')
    with pytest.raises(NetworkError, match=r"scenario mine.toml \[assumptions\]: .*pt.min_wait_min = 12 min is more than"):
        load_scenario(str(p))
    p = _scenario(tmp_path, '[assumptions]\n"pt.min_wait_min" = 12.0\n"pt.max_wait_min" = 20.0\n')
    assert load_scenario(str(p)).assumptions["pt.min_wait_min"] == 12.0


def test_a_scenario_that_overrides_a_key_with_a_plausible_value_still_works(tmp_path):
    from lisgeo.network import load_scenario

    p = _scenario(tmp_path, '[assumptions]\n"road.motorway_kmh" = 110.0\npt__interchange_penalty_min = 8\n')
    sc = load_scenario(str(p))
    a = load_assumptions(**sc.assumptions)
    assert a["road.motorway_kmh"] == 110.0 and a["pt.interchange_penalty_min"] == 8.0
    ex = load_scenario("my_edit_example")  # the shipped example: plausible edits and overrides
    assert len(ex.edits) == 4 and ex.assumptions == {"pt.interchange_penalty_min": 8.0}


@pytest.mark.parametrize("edit, match", [
    ('op = "set_speed"\nroad_class = "trunk"\nkmh = 0.001', r"set_speed 'trunk' has kmh = 0.001 km/h, outside its plausible range 5 to 130 km/h"),
    ('op = "set_speed"\nroad_class = "trunk"\nkmh = 960.0', r"kmh = 960 km/h, outside its plausible range 5 to 130"),
    ('op = "set_speed"\nroad_class = "trunk"\nkmh = inf', r"has kmh inf; give a number of km/h from 5 to 130"),
    ('op = "set_speed"\nroad_class = "trunk"\nkmh = "fast"', r"has kmh 'fast'"),
    ('op = "add_link"\nfrom = "rail:NOT"\nto = "arr:LEI"\nmode = "rail"\ntime_min = 1e6',
     r"add_link rail:NOT->arr:LEI has time_min = 1e\+06 min, outside its plausible range 0.1 to 600 min"),
    ('op = "add_link"\nfrom = "rail:NOT"\nto = "arr:LEI"\nmode = "rail"\ntime_min = 0.001', r"time_min = 0.001 min, outside"),
    ('op = "add_link"\nfrom = "rail:NOT"\nto = "arr:LEI"\nmode = "rail"\ntime_min = -5', r"has time_min -5; give a number of min"),
    ('op = "add_link"\nfrom = "rail:NOT"\nto = "arr:LEI"\nmode = "rail"\ntime_min = nan', r"has time_min nan"),
])
def test_scenario_edits_outside_their_ranges_are_refused_when_read(tmp_path, edit, match):
    """Failed before (the values in range of the kind): a link of 1e6 minutes or a road at 0.001 km/h was applied."""
    from lisgeo.network import load_scenario

    p = _scenario(tmp_path, f"[[edits]]\n{edit}\n")
    with pytest.raises(NetworkError, match=r"mine\.toml: edit #1 .*" + match) as exc:
        load_scenario(str(p))
    _one_line(exc)


def test_scenario_edits_inside_their_ranges_are_kept(tmp_path):
    from lisgeo.network import load_scenario
    from lisgeo.network.scenario import EDIT_RANGES

    p = _scenario(tmp_path, '[[edits]]\nop = "set_speed"\nroad_class = "trunk"\nkmh = 5\n'
                            '[[edits]]\nop = "add_link"\nfrom = "rail:NOT"\nto = "arr:LEI"\nmode = "rail"\ntime_min = 600\n')
    sc = load_scenario(str(p))
    assert sc.edits[0]["kmh"] == 5.0 and sc.edits[1]["time_min"] == 600.0
    assert EDIT_RANGES[("set_speed", "kmh")][:2] == (5.0, 130.0)


def test_score_refuses_an_absurd_scenario_in_one_line_before_any_work(tmp_path, capsys):
    """Failed before: `lisgeo score --scenario fast.toml` with a motorway speed of 960 scored and exited 0."""
    from lisgeo.cli import main

    p = _scenario(tmp_path, '[assumptions]\n"road.motorway_kmh" = 960.0\n', name="fast.toml")
    assert main(["score", "--scenario", str(p), "-o", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("lisgeo: error: assumption road.motorway_kmh = 960 km/h "
                                                    "(scenario fast.toml [assumptions]) is outside its plausible range")
    assert not (tmp_path / "out").exists()


# ------------------------------------------------------------------ index weights
def _frame(n=40, seed=1):
    """A scores frame with every measure of the default indices, and IMD deciles."""
    from lisgeo.measures.indices import load_index_config

    cfg = load_index_config()
    rng = np.random.default_rng(seed)
    cols = {m for t in ("connectivity", "accessibility", "sustainable") for m in cfg[t]}
    f = pd.DataFrame({m: rng.uniform(1, 100, n) for m in sorted(cols)}, index=[f"E01{i:06d}" for i in range(n)])
    f.iloc[::7, 0] = np.nan
    f["imd_decile"] = (np.arange(n) % 10) + 1
    return f, cfg


@pytest.mark.parametrize("scale", [1e300, 1e307, 1.7e308, 1e-300])
def test_huge_or_tiny_weights_give_the_index_of_the_same_weights_scaled_down(scale):
    """Failed before for 1e307 and 1.7e308: every connectivity_index inf or NaN, left_behind False everywhere."""
    from lisgeo.measures.indices import add_indices

    f, cfg = _frame()
    big = {**cfg, **{t: {m: w * scale for m, w in cfg[t].items()} for t in ("connectivity", "accessibility", "sustainable")}}
    ref, out = add_indices(f, config=cfg), add_indices(f, config=big)
    for col in ("connectivity_index", "accessibility_index", "sustainable_index"):
        assert out[col].notna().all() and np.isfinite(out[col]).all()
        assert out[col].to_numpy() == pytest.approx(ref[col].to_numpy(), rel=1e-12, abs=1e-9)
    assert out["left_behind"].equals(ref["left_behind"]) and ref["left_behind"].any()
    assert out["connectivity_decile"].equals(ref["connectivity_decile"])


def test_huge_weights_from_a_weights_file_score_like_small_ones(tmp_path):
    """The --weights path: a TOML file with weights of 1e308 loads and gives the default's index."""
    from lisgeo.measures.indices import add_indices, load_index_config

    f, cfg = _frame()
    p = tmp_path / "w.toml"
    p.write_text("[connectivity]\n" + "".join(f"{m} = {w * 1e308:.17g}\n" for m, w in cfg["connectivity"].items()
                                               if w * 1e308 < 1.79e308), encoding="utf-8")
    mine = load_index_config(p)
    small = load_index_config({"connectivity": {m: cfg["connectivity"][m] for m in mine["connectivity"]}})
    a, b = add_indices(f, config=mine), add_indices(f, config=small)
    assert a["connectivity_index"].to_numpy() == pytest.approx(b["connectivity_index"].to_numpy(), rel=1e-12)


@pytest.mark.parametrize("w, match", [("inf", "finite number >= 0, got inf"), ("nan", "finite number >= 0, got nan"),
                                      ("-1.0", "finite number >= 0, got -1.0"), ('"1"', "finite number >= 0, got '1'"),
                                      ("true", "finite number >= 0, got True")])
def test_weights_that_are_not_finite_non_negative_numbers_are_refused_naming_the_file(tmp_path, w, match):
    from lisgeo.measures.indices import load_index_config

    p = tmp_path / "mine.toml"
    p.write_text(f"[connectivity]\nstops_800m = 1.0\ndigital_score = {w}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"\[connectivity\] weight of digital_score must be a " + match) as exc:
        load_index_config(p)
    assert "mine.toml" in _one_line(exc)


def test_all_zero_weights_are_refused_in_one_line(tmp_path):
    from lisgeo.measures.indices import load_index_config

    p = tmp_path / "zero.toml"
    p.write_text("[accessibility]\njobs_car_45 = 0\njobs_rail_60 = 0.0\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"\[accessibility\] weights must sum to more than 0 but are all 0 \(zero.toml"):
        load_index_config(p)


@pytest.mark.parametrize("weights", [{"a": float("inf"), "b": 1.0}, {"a": float("nan"), "b": 1.0}, {"a": -1.0, "b": 1.0},
                                     {"a": "1", "b": 1.0}, {"a": 0.0, "b": 0.0}])
def test_weighted_index_refuses_bad_weights_given_directly(weights):
    """Before, a NaN or negative weight was dropped silently and an infinite one gave NaN everywhere."""
    from lisgeo.measures.indices import weighted_index

    f = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [3.0, 1.0, 2.0]})
    with pytest.raises(ParameterError, match="weight"):
        weighted_index(f, weights, directions={"a": "higher", "b": "lower"})


def test_a_weight_far_smaller_than_the_others_still_counts_where_it_is_the_only_measure():
    from lisgeo.measures.indices import weighted_index

    f = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [3.0, np.nan, 2.0]})
    out = weighted_index(f, {"a": 1e-320, "b": 1e300}, directions={"a": "higher", "b": "higher"})
    assert out.tolist() == pytest.approx([100.0, 50.0, 0.0])  # the middle zone has only a: its own score


def test_real_scores_with_huge_weights_keep_their_connectivity_index_and_left_behind(real_data):
    """The issue's case on the D2N2 scores: weights x 1e308 gave an empty connectivity_index and no
    left-behind LSOA; now the same as the file's weights."""
    from lisgeo.measures.indices import add_indices, load_index_config
    from lisgeo.pipeline import score_region

    gdf = score_region(region="d2n2")
    cfg = load_index_config()
    big = {**cfg, "connectivity": {m: w * 1e308 for m, w in cfg["connectivity"].items()}}
    base = gdf.drop(columns=["connectivity_index", "accessibility_index", "sustainable_index", "connectivity_decile",
                             "left_behind"], errors="ignore")
    out = add_indices(base, config=big)
    assert out["connectivity_index"].notna().all()
    assert out["connectivity_index"].to_numpy() == pytest.approx(gdf["connectivity_index"].to_numpy(), rel=1e-9)
    assert out["left_behind"].sum() == gdf["left_behind"].sum() > 0
