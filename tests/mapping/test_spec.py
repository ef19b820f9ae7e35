"""Map definitions: parsing, validation (unknown keys refused), the default map set."""

from __future__ import annotations

import pytest

from lisgeo.errors import LisgeoError, UnknownNameError
from lisgeo.mapping.spec import DEFAULT_MAPS_DIR, column_info, list_specs, parse_spec, read_spec

BASE = {
    "title": "Access to jobs",
    "subtitle": "Jobs within 45 minutes by car",
    "layers": [{"name": "j", "source": "scores", "column": "jobs_car_45", "tooltip": ["LSOA21NM"]}],
}


def _with(**changes):
    d = {**BASE, **changes}
    return d


def _layer(**changes):
    return _with(layers=[{**BASE["layers"][0], **changes}])


def test_parse_defaults_and_fields():
    spec = parse_spec(_with(region="llep", table={"layer": "j", "stats": {"jobs_car_45": "median"}}), name="jobs")
    assert spec.name == "jobs" and spec.region == "llep" and spec.scenario == "base" and spec.basemap == "osm"
    ld = spec.layers[0]
    assert (ld.scheme, ld.k, ld.palette, ld.show, ld.tooltip) == ("quantiles", 5, "YlGnBu", True, ("LSOA21NM",))
    assert ld.title == "Jobs within 45 min by car"
    assert spec.table.by == "LADNM" and dict(spec.table.stats) == {"jobs_car_45": "median"}


@pytest.mark.parametrize("bad, word", [
    (_with(colour="red"), "colour"),
    (_layer(colour="red"), "colour"),
    (_with(table={"layer": "j", "stat": {}}), "stat"),
])
def test_unknown_keys_are_refused(bad, word):
    with pytest.raises(UnknownNameError, match=word) as exc:
        parse_spec(bad)
    assert "valid" in str(exc.value)


@pytest.mark.parametrize("bad, match", [
    (_layer(scheme="jenks"), "classification scheme"),
    (_layer(palette="NotAPalette"), "palette"),
    (_layer(k=12), "2 to 9"),
    (_layer(k=True), "whole number"),
    (_layer(tooltip="LSOA21NM"), "must be a list"),
    (_layer(source="layer"), "needs layer"),
    (_layer(source="isochrones"), "needs site"),
    (_layer(style="heatmap"), "layer style"),
    (_layer(show="yes"), "true or false"),
    (_layer(fill_opacity=1.5), "between 0 and 1"),
    (_with(title=""), "title"),
    (_with(layers=[]), "at least one"),
    (_with(layers=[BASE["layers"][0], BASE["layers"][0]]), "unique"),
    (_with(table={"layer": "nope"}), "table layer"),
    (_with(table={"layer": "j", "stats": {"jobs_car_45": "mode"}}), "statistic"),
    (_with(basemap="satellite"), "basemap"),
])
def test_invalid_values_are_refused(bad, match):
    with pytest.raises(LisgeoError, match=match):
        parse_spec(bad)


def test_read_spec_errors(tmp_path):
    with pytest.raises(LisgeoError, match="not found"):
        read_spec(tmp_path / "missing.toml")
    p = tmp_path / "broken.toml"
    p.write_text("title = ", encoding="utf-8")
    with pytest.raises(LisgeoError, match="not valid TOML"):
        read_spec(p)


def test_default_map_set():
    specs = list_specs(DEFAULT_MAPS_DIR)
    assert len(specs) == 6
    for s in specs:
        assert s.title and s.subtitle and len(s.subtitle) > 30
        assert s.table is not None, f"{s.name} lacks its text-alternative table"
    sources = {ld.source for s in specs for ld in s.layers}
    assert {"layer", "scores", "isochrones", "compare"} <= sources


def test_column_info_units():
    assert column_info("tt_car_hs2_toton").units == "min"
    assert column_info("tt_car_hs2_toton").label == "Time to HS2 East Midlands Hub (Toton) by car"
    assert column_info("jobs_rail_60").label == "Jobs within 60 min by rail"
    assert column_info("gigabit_pct").units == "%"
    assert column_info("d_tt_rail_london").label == "Change in time to London by rail"
