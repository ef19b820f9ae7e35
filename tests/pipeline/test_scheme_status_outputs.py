"""Every output that shows a scheme states its status, on real outputs: `lisgeo build` (maps and the
report) and `lisgeo compare` for one small district (Derbyshire Dales), and the maps' notes on how
close the times are follow the assumptions file."""

from __future__ import annotations

import html
import json
import re
import shutil
import warnings

import pandas as pd
import pytest

from lisgeo.cli import main

REGION = "E07000035"  # Derbyshire Dales: one district, near the strategy's HS2 stations
CANCELLED_2B = "HS2 Phase 2b (East Midlands Hub at Toton) — cancelled 4 October 2023, shown as in the 2020 strategy"
LIVE_P1 = "HS2 Phase 1 (London–Birmingham) — under construction, as of 4 October 2023"

pytestmark = pytest.mark.realdata


@pytest.fixture(scope="module")
def build(real_data, tmp_path_factory):
    out = tmp_path_factory.mktemp("status_build")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert main(["build", "--region", REGION, "-o", str(out)]) == 0
    return out


def _text(path) -> str:
    return path.read_text(encoding="utf-8")


def _title_box(page: str) -> str:
    """The map's title box (HTML), as the page's script writes it."""
    for m in re.finditer(r'div\.innerHTML = (".*?");', page):
        box = json.loads(m.group(1))
        if "<h1>" in box:
            return box
    raise AssertionError("no title box")


def _status_lines(page: str) -> list[str]:
    return [html.unescape(x) for x in re.findall(r'<p class="lisgeo-status">([^<]*)</p>', _title_box(page))]


def _section(page: str, ident: str) -> str:
    start = page.index(f'<section id="{ident}">')
    nxt = [i for i in (page.find('<section id="', start + 1), page.find("<footer", start + 1)) if i > 0]
    return page[start:min(nxt)]


def test_every_hs2_map_and_the_report_say_cancelled(build):
    for name in ("1_overview", "2_hs2_connectivity", "6_scenario_hs2"):
        page = _text(build / "maps" / f"{name}.html")
        assert "cancelled" in page.lower(), name
        assert _status_lines(page)[-1] == CANCELLED_2B, name  # the title box's status line
    assert "cancelled" in _text(build / "report.html").lower()
    # maps of today's network only: no scheme to state beyond the footer's
    assert "cancelled" not in _text(build / "maps" / "3_jobs_access.html").lower()
    assert "Scenario: base (built, as of January 2019)" in _text(build / "maps" / "3_jobs_access.html")


def test_map6_leads_with_what_is_live(build):
    page = _text(build / "maps" / "6_scenario_hs2.html")
    assert _status_lines(page) == [LIVE_P1, CANCELLED_2B]
    # the layer shown on opening is Phase 1's; Phase 2b's layers carry "cancelled 2023 — as in the 2020 strategy"
    controls = [json.loads(f'"{x}"') for x in re.findall(r'^\s*"((?:[^"\\]|\\.)*)" : lisgeo_layer_', page, re.M)]
    assert controls[0] == "HS2 Phase 1: change in rail time to London (under construction)"
    assert "HS2 Phase 2b: winners and losers (journeys 5+ minutes faster or slower) (cancelled 2023 — as in the 2020 strategy)" in controls
    # the footer names each scenario with its status
    assert ("Scenario: hs2_phase1 (under construction, as of 4 October 2023) compared with base (built, as of January 2019), "
            "hs2_2b (cancelled 4 October 2023) compared with base") in page


def test_report_hs2_section_leads_with_what_is_live_and_names_the_destinations(build):
    page = _text(build / "report.html")
    section = _section(page, "6_scenario_hs2")
    live, cancelled = section.index(f"What is live: {LIVE_P1}"), section.index(f"Not being built: {CANCELLED_2B}")
    assert live < cancelled < section.index("<table")
    heads = re.findall(r'<th scope="col">([^<]*)</th>', section)
    assert any(h.startswith("HS2 Phase 1 (under construction): Change in time to London by rail") for h in heads)
    assert "HS2 Phase 2b (cancelled 2023 — as in the 2020 strategy): Faster (5+ min) to (number of areas)" in heads
    # the winners' destinations are in the table: in the Dales, Phase 2b's winners are faster to London
    row = re.search(r'<th scope="row">Derbyshire Dales</th>(.*?)</tr>', section).group(1)
    assert re.search(r"<td>London \(\d+\)", row)
    # the report opens with every scheme's status, live first
    head = page[:page.index("<nav>")]
    assert head.index(LIVE_P1) < head.index(CANCELLED_2B)
    # map 2's table says whose stations those are
    assert f"Scheme: {CANCELLED_2B}" in _section(page, "2_hs2_connectivity")


def test_time_notes_read_the_assumptions(build):
    from lisgeo.assumptions import load_assumptions

    a = load_assumptions()
    car = [f"±{a[k]:g} %" for k in ("uncertainty.urban_car_pct", "uncertainty.rural_car_pct")]
    rail = [f"±{a[k]:g} %" for k in ("uncertainty.intercity_rail_pct", "uncertainty.local_rail_pct")]
    m2, m6 = _text(build / "maps" / "2_hs2_connectivity.html"), _text(build / "maps" / "6_scenario_hs2.html")
    n2, n6 = (html.unescape(re.search(r'<p class="lisgeo-note">([^<]*)</p>', _title_box(m)).group(1)) for m in (m2, m6))
    assert all(x in n2 for x in car) and "How close are these times?" in n2 and "timetables" not in n2
    assert all(x in n6 for x in rail) and "of published timetables" in n6 and "drive times" not in n6
    report = _text(build / "report.html")
    for ident, want in (("2_hs2_connectivity", car), ("6_scenario_hs2", rail)):
        note = re.search(r'<p class="note time-error">([^<]*)</p>', _section(report, ident)).group(1)
        assert all(x in note for x in want), ident
    assert "time-error" not in _section(report, "5_digital")  # no journey times shown there


def test_the_note_follows_the_assumptions_file(tmp_path, monkeypatch):
    """Change the per-class errors in a copy of layers/: the note of a map of car and rail times says the new ones."""
    import geopandas as gpd
    from shapely.geometry import box

    from lisgeo.config import default_dir
    from lisgeo.mapping.spec import parse_spec
    from lisgeo.pipeline import make_map

    layers = tmp_path / "layers"
    shutil.copytree(default_dir("layers"), layers)
    text = (layers / "assumptions.toml").read_text(encoding="utf-8")
    for key, new in (("urban_car_pct", 33.3), ("rural_car_pct", 44.4), ("intercity_rail_pct", 5.5), ("local_rail_pct", 9.25)):
        text, n = re.subn(rf"^{key} = \{{ value = [0-9.]+", f"{key} = {{ value = {new}", text, flags=re.M)
        assert n == 1, key
    (layers / "assumptions.toml").write_text(text, encoding="utf-8")
    monkeypatch.setenv("LISGEO_LAYERS_DIR", str(layers))
    lsoa = gpd.GeoDataFrame({"LSOA21NM": ["A", "B"], "LADNM": ["Derby", "Derby"], "tt_car_ema": [10.0, 20.0],
                             "tt_rail_london": [90.0, 100.0]},
                            geometry=[box(0, 0, 1000, 1000), box(1000, 0, 2000, 1000)], crs="EPSG:27700", index=["a", "b"])
    spec = parse_spec({"title": "t", "subtitle": "s", "layers": [
        {"name": "tt", "source": "scores", "column": "tt_car_ema", "k": 2, "tooltip": ["LSOA21NM", "tt_rail_london"]}]})
    res = make_map(spec, frames={"tt": lsoa})
    (note,) = res.notes
    assert all(x in note for x in ("±33.3 %", "±44.4 %", "±5.5 %", "±9.25 %")), note
    assert "±33.3 %" in html.unescape(_title_box(res.map.get_root().render()))


def test_compare_outputs_state_the_status(real_data, tmp_path, capsys):
    from lisgeo.network import load_scenario

    out = tmp_path / "cmp"
    assert main(["compare", "--region", REGION, "--scenario", "hs2_2b", "-o", str(out)]) == 0
    printed = capsys.readouterr().out
    assert f"scenario: {CANCELLED_2B}" in printed and "base:     Today's network (no HS2) — built" in printed
    assert re.search(r"faster by 5\+ min to \(LSOAs\): London \(\d+\)", printed)
    for name in ("compare.csv", "district_summary.csv", "winners_losers.csv", "provenance.json", "compare.gpkg"):
        assert b"cancelled" in (out / name).read_bytes().lower(), name
    prov = json.loads((out / "provenance.json").read_text(encoding="utf-8"))
    assert prov["scenario"]["status"] == load_scenario("hs2_2b").status and prov["scenario"]["status"] is not None
    assert prov["base"]["status"] == load_scenario("base").status and prov["base"]["path"].endswith("base.toml")
    assert prov["scenario"]["status_text"] == CANCELLED_2B
    cmp = pd.read_csv(out / "compare.csv")
    assert set(cmp["scenario_status"]) == {CANCELLED_2B}
    winners = cmp[cmp["outcome"] == "winner"]
    assert len(winners) and winners["faster_to"].notna().all()
    ds = pd.read_csv(out / "district_summary.csv")
    assert ds["faster_to"].iloc[0].startswith("London (")


def test_a_schemes_places_load_for_its_scenario():
    from lisgeo.errors import ConfigError
    from lisgeo.mapping.spec import LayerDef
    from lisgeo.pipeline.maps import layer_options

    ld = LayerDef(name="h", layer="hs2_stations", scenario="irp", options={"buffer_km": 30})
    assert layer_options(ld) == {"buffer_km": 30, "scheme": "irp"}
    assert layer_options(LayerDef(name="h", layer="hs2_stations", scenario="irp", options={"scheme": "hs2_2b"})) == {"scheme": "hs2_2b"}
    assert layer_options(LayerDef(name="d", layer="districts", scenario="irp")) == {}  # no scheme option: as it is
    assert layer_options(LayerDef(name="h", layer="hs2_stations")) == {}
    with pytest.raises(ConfigError, match="has no HS2 scheme"):
        layer_options(LayerDef(name="h", layer="hs2_stations", scenario="base"))


def test_score_command_states_the_status(real_data, tmp_path, capsys):
    out = tmp_path / "scores"
    assert main(["score", "--region", REGION, "--scenario", "hs2_2b", "--no-claims", "-o", str(out)]) == 0
    assert f"scenario hs2_2b: {CANCELLED_2B}" in capsys.readouterr().out
    prov = json.loads((out / "provenance.json").read_text(encoding="utf-8"))
    assert prov["scenario"]["status"]["state"] == "cancelled" and prov["scenario"]["status_text"] == CANCELLED_2B
