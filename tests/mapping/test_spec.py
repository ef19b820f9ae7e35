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
    (_layer(status_of=2), "status_of must be text"),
    (_with(table={"layer": "j", "also": {"nope": {"pop": "sum"}}}), "layer of \\[table.also\\]"),
    (_with(table={"layer": "j", "also": {"j": {"pop": "mode"}}}), "statistic for pop"),
    (_with(table={"layer": "j", "also": {"j": {}}}), "must list column"),
    (_with(table={"layer": "j", "also": "j"}), "also must be a table"),
])
def test_invalid_values_are_refused(bad, match):
    with pytest.raises(LisgeoError, match=match):
        parse_spec(bad)


def test_scheme_keys_and_the_table_of_several_layers():
    spec = parse_spec(_with(layers=[{**BASE["layers"][0], "status_of": "hs2_2b"},
                                    {"name": "c", "source": "compare", "scenario": "hs2_2b", "column": "d_tt_rail_leeds"},
                                    {"name": "h", "layer": "hs2_stations", "scenario": "hs2_phase1"}],
                            table={"layer": "j", "stats": {"jobs_car_45": "median"},
                                   "also": {"c": {"d_tt_rail_leeds": "weighted_mean", "faster_to": "tally"}}}))
    assert spec.layers[0].status_of == "hs2_2b" and spec.layers[1].scenario == "hs2_2b"
    assert spec.layer("h").scenario == "hs2_phase1" and spec.layer("h").status_of is None
    assert dict(spec.table.also) == {"c": {"d_tt_rail_leeds": "weighted_mean", "faster_to": "tally"}}
    # the default HS2 maps use them
    by_name = {s.name: s for s in list_specs(DEFAULT_MAPS_DIR)}
    six = by_name["6_scenario_hs2"]
    assert six.scenario == "hs2_phase1" and six.layers[0].source == "compare" and six.layers[0].show  # what is live leads
    assert {ld.name for ld in six.layers if ld.scenario == "hs2_2b"} >= {"d_london_2b", "outcome_2b", "hs2"}
    assert not any(ld.show for ld in six.layers if ld.scenario == "hs2_2b")
    assert all(ld.status_of == "hs2_2b" for ld in by_name["2_hs2_connectivity"].layers if ld.source in ("scores", "isochrones"))
    for name in ("1_overview", "2_hs2_connectivity", "6_scenario_hs2"):
        assert by_name[name].layer("hs2").scenario == "hs2_2b", name


def test_status_of_an_unknown_scenario_is_an_error():
    import geopandas as gpd
    from shapely.geometry import box

    from lisgeo.pipeline import make_map

    lsoa = gpd.GeoDataFrame({"LSOA21NM": ["A"], "jobs_car_45": [1.0]}, geometry=[box(0, 0, 1, 1)], crs="EPSG:27700")
    spec = parse_spec(_layer(status_of="hs2_2c", optional=True))
    with pytest.raises(LisgeoError, match="status_of = 'hs2_2c' is not a scenario.*hs2_2b"):
        make_map(spec, frames={"j": lsoa})


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


# ------------------------------------------------------------------ fixed class breaks, colours, default palettes
def test_breaks_parsed_and_default_palettes():
    ld = parse_spec(_layer(breaks=[0, 15, 30.5, 45])).layers[0]
    assert ld.breaks == (0.0, 15.0, 30.5, 45.0)
    assert parse_spec(_layer(breaks=[0, 15, 30, 45], k=3)).layers[0].breaks == (0.0, 15.0, 30.0, 45.0)  # k agrees
    assert parse_spec(BASE).layers[0].palette == "YlGnBu"
    cat = parse_spec(_layer(scheme="categorical")).layers[0]
    assert cat.palette == "okabe_ito"  # colour-blind-safe qualitative default
    assert parse_spec(_layer(palette="tol_muted", scheme="categorical")).layers[0].palette == "tol_muted"


def _toml(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value != value:
        return "nan"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return f'"{value}"' if isinstance(value, str) else repr(value)


def _write_map(path, layer_lines: str) -> None:
    path.write_text('title = "Car time"\nsubtitle = "Minutes to Toton by car"\n\n[[layers]]\nname = "tt"\n'
                    'source = "scores"\ncolumn = "tt_car_hs2_toton"\n' + layer_lines, encoding="utf-8")


@pytest.mark.parametrize("breaks, extra, match", [
    ([0, 30, 15], "", "increase"),
    ([0, 15, 15], "", "increase"),
    ([10], "", "2 to 10 edges"),
    (list(range(12)), "", "2 to 10 edges"),
    (["0", "15"], "", "numbers only"),
    ([0, True], "", "numbers only"),
    ("0, 15, 30", "", "list of class edges"),
    ([0, float("nan")], "", "finite"),
    ([0, 15, 30], "k = 5\n", "make 2 classes but k = 5"),
    ([0, 15, 30], 'scheme = "quantiles"\n', "not both"),
    ([0, 15, 30], 'scheme = "categorical"\n', "categorical"),
])
def test_bad_breaks_name_the_file_and_layer(tmp_path, breaks, extra, match):
    from lisgeo.errors import ConfigError

    path = tmp_path / "my_map.toml"
    _write_map(path, f"breaks = {_toml(breaks)}\n{extra}")
    with pytest.raises(ConfigError, match=match) as exc:
        read_spec(path)
    msg = str(exc.value)
    assert str(path) in msg and "layer 1 (tt)" in msg  # the planner knows which file and layer to fix


def test_breaks_file_round_trip(tmp_path):
    path = tmp_path / "ok.toml"
    _write_map(path, "breaks = [0, 15, 30, 45, 60, 90]\n")
    assert read_spec(path).layers[0].breaks == (0, 15, 30, 45, 60, 90)


@pytest.mark.parametrize("layer, match", [
    (_layer(color="not-a-colour"), "must be a colour"),
    (_layer(color="red; background:url(javascript:alert(1))"), "must be a colour"),
    (_layer(scheme="categorical", colors={"a": "#12"}), "colors.a must be a colour"),
    (_layer(scheme="categorical", category_labels={"a": 1}), "category_labels values must be text"),
    (_with(table={"layer": "j", "caption": 3}), "caption must be text"),
])
def test_colours_and_texts_are_checked(layer, match):
    with pytest.raises(LisgeoError, match=match):
        parse_spec(layer)


def test_colours_are_normalised_to_hex():
    ld = parse_spec(_layer(color="navy", scheme="categorical", colors={"a": "tab:blue"})).layers[0]
    assert ld.color == "#000080" and dict(ld.colors) == {"a": "#1f77b4"}  # CSS-safe for Leaflet


def test_map_file_in_windows_encoding_is_one_clear_error(tmp_path):
    from lisgeo.errors import ConfigError

    path = tmp_path / "caf.toml"
    path.write_bytes('title = "Caf\u00e9s"\nsubtitle = "s"\n'.encode("cp1252"))
    with pytest.raises(ConfigError, match="not UTF-8"):
        read_spec(path)


@pytest.mark.parametrize("dash", ["x", "6", "0 4", "6 -4", "1 2 3 4 5 6 7", 6, ["6", "4"], "500 4"])
def test_a_bad_dash_is_one_clear_error(dash):
    with pytest.raises(LisgeoError, match=r"dash must be dash and gap lengths in pixels, e\.g\. dash = \"6 4\""):
        parse_spec(_layer(style="outline", dash=dash))


def test_dash_is_normalised():
    assert parse_spec(_layer(style="outline", dash="6, 4")).layers[0].dash == "6 4"
    assert parse_spec(_layer(style="outline", dash=" 2.5  1 ")).layers[0].dash == "2.5 1"
    assert parse_spec(BASE).layers[0].dash is None
