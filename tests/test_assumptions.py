"""Every modelling constant in one validated file: reaches, accessibility and claim constants, overrides."""

from __future__ import annotations

import pytest

from lisgeo.assumptions import SCHEMA, assumptions_path, load_assumptions, reach_km
from lisgeo.errors import ConfigError, ParameterError, UnknownNameError


def test_every_key_has_a_value_and_a_source():
    a = load_assumptions()
    assert set(a) == set(SCHEMA)
    assert all(a.source(k) for k in a)
    assert a["accessibility.e2sfca_decay"] == "gaussian" and a["claims.off_network_kmh"] == 60.0


def test_reach_defaults_live_in_the_file():
    assert reach_km("network") == load_assumptions()["reach.network_km"] == 30.0
    assert reach_km("stops") == 5.0 and reach_km("sites") == 0.0
    assert reach_km("stops", 2) == 2.0
    with pytest.raises(ParameterError, match="non-negative"):
        reach_km("stops", -1)
    with pytest.raises(UnknownNameError):
        reach_km("nowhere")


def test_bad_values_and_unknown_keys_are_refused(tmp_path):
    with pytest.raises(ConfigError, match="e2sfca_decay"):
        load_assumptions(accessibility__e2sfca_decay="cubic")
    with pytest.raises(UnknownNameError, match="no_such"):
        load_assumptions(no_such=1)
    text = assumptions_path().read_text(encoding="utf-8")
    p = tmp_path / "a.toml"
    p.write_text(text + '\n[reach]\nmoon_km = { value = 1.0, rationale = "x" }\n', encoding="utf-8")
    with pytest.raises(Exception, match="reach"):  # a duplicate table is invalid TOML; an unknown key is refused
        load_assumptions(p)
    p.write_text(text.replace('jobs_km = { value = 0.0,', 'jobs_km = { value = -3.0,'), encoding="utf-8")
    with pytest.raises(Exception, match="reach.jobs_km"):
        load_assumptions(p)


def test_an_edited_file_is_read_again(tmp_path):
    p = tmp_path / "a.toml"
    text = assumptions_path().read_text(encoding="utf-8")
    p.write_text(text, encoding="utf-8")
    assert load_assumptions(p)["claims.miles"] == 20.0
    import os
    import time

    p.write_text(text.replace('miles = { value = 20.0,', 'miles = { value = 25.0,'), encoding="utf-8")
    os.utime(p, ns=(time.time_ns(), time.time_ns() + 10**9))
    assert load_assumptions(p)["claims.miles"] == 25.0


def test_rail_and_access_keys_of_the_current_model():
    a = load_assumptions()
    for k in ("pt.stop_penalty_min", "pt.run_kmh", "pt.run_distance_exponent", "pt.dwell_min",
              "hs2.hub_classic_trains_per_hour", "hs2.reuse_station_m", "road.a_single_kmh", "road.a_urban_kmh",
              "road.chord_detour_a_road", "road.urban_density_per_km2"):
        assert k in SCHEMA and a.source(k)
    assert a["pt.max_wait_min"] == 10.0 and a["pt.min_wait_min"] == 1.0
    assert a["hs2.reuse_station_m"] == 500.0 and a["hs2.trains_per_hour"] == 3.0
    # physically sensible fitted values: a stop costs minutes, expresses outrun stopping trains, A-roads outrun streets
    assert 0.5 < a["pt.stop_penalty_min"] < 3 and 60 < a["pt.run_kmh"] < 120 and 0 < a["pt.run_distance_exponent"] < 0.5
    # streets are slower than A roads, towns slower than the country, single carriageways than duals and motorways
    assert a["access.urban_kmh"] < a["road.a_urban_kmh"] < a["road.a_single_kmh"] < a["road.a_dual_kmh"] < a["road.motorway_kmh"]
    assert a["access.rural_kmh"] < a["road.a_single_kmh"] and 1.0 < a["road.chord_detour_a_road"] < 1.2
    for old in ("pt.line_speed_kmh", "pt.line_speed_band_km", "pt.rail_circuity", "pt.k_car_stations", "access.a_road_kmh",
                "pt.express_kmh", "pt.stopping_kmh", "pt.express_spacing_km", "pt.fast_line_factor",
                "access.a_road_after_km", "road.trunk_kmh", "road.straight_circuity"):
        assert old not in SCHEMA and old not in a.to_dict()
        with pytest.raises(UnknownNameError, match=old.split(".")[1]):
            load_assumptions(**{old: 1})


def test_rail_values_are_checked():
    from lisgeo.errors import NetworkError

    assert load_assumptions(pt__stop_penalty_min=0)["pt.stop_penalty_min"] == 0.0  # may be zero
    for key, bad in (("pt.stop_penalty_min", -1.0), ("pt.run_kmh", 0.0), ("pt.run_distance_exponent", float("nan")),
                     ("hs2.hub_classic_trains_per_hour", 0.0), ("hs2.reuse_station_m", -5.0), ("road.a_urban_kmh", -90.0)):
        with pytest.raises(NetworkError, match=key):
            load_assumptions(**{key: bad})
