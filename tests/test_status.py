"""Scheme status in plain words (lisgeo.status), `lisgeo network scenarios`, and provenance that never loses it."""

from __future__ import annotations

import json

import pytest

from lisgeo.cli import main
from lisgeo.errors import LisgeoError
from lisgeo.status import live_first, readable_date, scenario_labels, scheme_status


def test_readable_dates():
    assert readable_date("2023-10-04") == "4 October 2023"
    assert readable_date("2019-01") == "January 2019"
    assert readable_date("2023") == "2023" and readable_date(None) == "" and readable_date("spring 2024") == "spring 2024"


def test_every_scenario_says_what_is_real():
    s = scheme_status("hs2_2b")
    assert (s.state, s.date, s.live) == ("cancelled", "2023-10-04", False)
    assert s.text == "HS2 Phase 2b (East Midlands Hub at Toton) — cancelled 4 October 2023, shown as in the 2020 strategy"
    assert s.tag == "cancelled 2023 — as in the 2020 strategy"
    assert set(s.table) == {"state", "date", "source", "note"} and "Network North" in s.table["source"]
    p1 = scheme_status("hs2_phase1")
    assert p1.live and p1.text == "HS2 Phase 1 (London–Birmingham) — under construction, as of 4 October 2023"
    irp = scheme_status("irp")
    assert irp.state == "cancelled" and "cancelled 4 October 2023" in irp.text and "Integrated Rail Plan" in irp.text
    assert scheme_status("base").text.startswith("Today's network") and "January 2019" in scheme_status("base").text
    assert scheme_status("my_edit_example").tag == "illustrative only"
    assert scheme_status("no_such_scenario") is None and scheme_status(None) is None
    # what is live comes first
    order = live_first([scheme_status(n) for n in ("hs2_2b", "irp", "hs2_phase1", "base", "hs2_2b", None)])
    assert [s.scenario for s in order] == ["base", "hs2_phase1", "hs2_2b", "irp"]
    assert set(scenario_labels()) == {"base", "hs2_phase1", "hs2_2b", "irp", "my_edit_example"}


def test_a_scenario_file_of_ones_own_and_bad_labels(tmp_path, monkeypatch):
    mine = tmp_path / "mine.toml"
    mine.write_text('name = "mine"\nhs2_scheme = "none"\n[status]\nstate = "proposed"\ndate = "2027-03"\n'
                    'source = "my council"\n', encoding="utf-8")
    s = scheme_status(str(mine))
    assert s.scenario == "mine" and s.text == "mine — proposed, as of March 2027"
    layers = tmp_path / "layers"
    (layers / "scenarios").mkdir(parents=True)
    (layers / "scenario_labels.toml").write_text('[base]\nlabel = "x"\ncolour = "red"\n', encoding="utf-8")
    monkeypatch.setenv("LISGEO_LAYERS_DIR", str(layers))
    with pytest.raises(LisgeoError, match="unknown scenario label key 'colour'.*label, short, shown_as"):
        scenario_labels()
    (layers / "scenario_labels.toml").unlink()
    assert scenario_labels() == {}  # an older copy of layers/ without the file: schemes shown by name


def test_network_scenarios_lists_status_and_date(capsys):
    assert main(["network", "scenarios"]) == 0
    lines = capsys.readouterr().out.splitlines()
    by_name = {line.split()[0]: line for line in lines}
    assert set(by_name) == {"base", "hs2_2b", "hs2_phase1", "irp", "my_edit_example"}  # .ci/run greps "^<name> "
    assert all(line.startswith(f"{name} ") for name, line in by_name.items())
    assert by_name["hs2_2b"].split()[1:3] == ["cancelled", "2023-10-04"]
    assert "cancelled 4 October 2023, shown as in the 2020 strategy" in by_name["hs2_2b"]
    assert by_name["irp"].split()[1:3] == ["cancelled", "2023-10-04"]
    assert by_name["hs2_phase1"].split()[1:3] == ["under_construction", "2023-10-04"]
    assert by_name["base"].split()[1:3] == ["built", "2019-01"]
    assert by_name["my_edit_example"].split()[1] == "illustrative"


def test_compare_provenance_records_both_statuses(tmp_path, three_lsoa_scores):
    """provenance.json of a comparison: scenario.status and base.status are the scenario files' [status]
    tables (never null), with the same in plain words; the CSVs and the GeoPackage say it too."""
    import pyogrio

    from lisgeo.measures.compare import compare_scores
    from lisgeo.network import load_scenario
    from lisgeo.pipeline import write_comparison

    base = three_lsoa_scores([100.0, 120.0, 90.0], [80.0, 90.0, 60.0], [10.0, 20.0, 30.0], "base")
    scen = three_lsoa_scores([90.0, 120.0, 90.0], [60.0, 70.0, 66.0], [15.0, 20.0, 25.0], "hs2_2b")
    paths = write_comparison(compare_scores(base, scen), tmp_path / "cmp")
    prov = json.loads(paths["provenance.json"].read_text(encoding="utf-8"))
    assert prov["scenario"]["status"] == load_scenario("hs2_2b").status
    assert prov["base"]["status"] == load_scenario("base").status
    assert "cancelled 4 October 2023" in prov["scenario"]["status_text"]
    for name in ("compare.csv", "district_summary.csv", "winners_losers.csv", "provenance.json", "compare.gpkg"):
        assert b"cancelled" in paths[name].read_bytes().lower(), name
    meta = pyogrio.read_info(paths["compare.gpkg"])["layer_metadata"]
    assert meta["scenario_status"] == "cancelled" and meta["base_status"] == "built" and "2020 strategy" in meta["scenario_status_text"]
