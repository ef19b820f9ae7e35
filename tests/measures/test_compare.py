"""A winner is shown with the destinations that made it one; a comparison says what is real about its scheme."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lisgeo.measures.columns import column, destination_labels
from lisgeo.measures.compare import compare_scores, district_summary, tally, winners_losers


def test_faster_to_names_the_destinations_that_made_the_winner(three_lsoa_scores):
    # zone 1: 10 min faster to London and 20 to Leeds; zone 2: faster only to Leeds (as Blaby under
    # Phase 2b: 0.0 min to London); zone 3: Leeds 6 min slower
    base = three_lsoa_scores([100.0, 120.0, 90.0], [80.0, 90.0, 60.0], [10.0, 20.0, 30.0], "base")
    scen = three_lsoa_scores([90.0, 120.0, 90.0], [60.0, 70.0, 66.0], [15.0, 20.0, 25.0], "hs2_2b")
    cmp = compare_scores(base, scen, threshold_min=5)
    assert cmp["outcome"].tolist() == ["winner", "winner", "loser"]
    assert cmp["d_tt_rail_london"].iloc[1] == 0.0
    assert cmp["faster_to"].tolist() == ["Leeds; London", "Leeds", ""]  # the biggest gain first
    assert cmp["slower_to"].tolist() == ["", "", "Leeds"]
    # a bigger threshold: zone 1 wins by Leeds alone (20 min), zone 3 no longer loses
    cmp10 = compare_scores(base, scen, threshold_min=10)
    assert cmp10["faster_to"].tolist() == ["Leeds; London", "Leeds", ""]
    assert compare_scores(base, scen, threshold_min=15)["faster_to"].tolist() == ["Leeds", "Leeds", ""]


def test_newly_reachable_comes_first_and_no_longer_reachable_is_slower(three_lsoa_scores):
    base = three_lsoa_scores([100.0, 120.0, 90.0], [np.nan, 90.0, 60.0], [10.0, 20.0, 30.0], "base")
    scen = three_lsoa_scores([60.0, 120.0, 90.0], [200.0, np.nan, 60.0], [15.0, 20.0, 25.0], "hs2_2b")
    cmp = compare_scores(base, scen, threshold_min=5)
    assert cmp["faster_to"].tolist() == ["Leeds; London", "", ""]
    assert cmp["slower_to"].tolist() == ["", "Leeds", ""]
    assert cmp["outcome"].tolist() == ["winner", "loser", "unchanged"]


def test_district_table_and_long_table_name_the_destinations(three_lsoa_scores):
    base = three_lsoa_scores([100.0, 120.0, 90.0], [80.0, 90.0, 60.0], [10.0, 20.0, 30.0], "base")
    scen = three_lsoa_scores([90.0, 120.0, 90.0], [60.0, 70.0, 66.0], [15.0, 20.0, 25.0], "hs2_2b")
    cmp = compare_scores(base, scen, threshold_min=5)
    ds = district_summary(cmp).set_index("LADNM")
    assert ds.loc["Derby", "faster_to"] == "Leeds (2); London (1)"
    assert ds.loc["Nottingham", "faster_to"] == "" and ds.loc["Nottingham", "slower_to"] == "Leeds (1)"
    wl = winners_losers(cmp)
    assert wl["destination"].tolist() == ["Leeds", "Leeds", "London", "Leeds"]
    assert set(wl["scenario_status"]) == {cmp.attrs["scenario_status_text"]}


def test_tally_and_destination_labels():
    assert tally(["Leeds", "Leeds; Birmingham", "", None, pd.NA, "Birmingham; Leeds"]) == "Leeds (3); Birmingham (2)"
    assert tally([]) == ""
    assert destination_labels(["tt_rail_leeds", "tt_car_ema", "tt_car_hs2_toton"]) == {
        "tt_rail_leeds": "Leeds", "tt_car_ema": "East Midlands Airport", "tt_car_hs2_toton": "HS2 East Midlands Hub (Toton)"}
    # one destination by two modes: named with the mode
    assert destination_labels(["tt_rail_london", "tt_transit_london"]) == {
        "tt_rail_london": "London by rail", "tt_transit_london": "London by public transport"}
    assert column("faster_to").label and column("scenario_status").label == "Scheme status"


def test_comparison_states_the_scheme_status(three_lsoa_scores):
    base = three_lsoa_scores([100.0, 120.0, 90.0], [80.0, 90.0, 60.0], [10.0, 20.0, 30.0], "base")
    scen = three_lsoa_scores([90.0, 120.0, 90.0], [60.0, 70.0, 66.0], [15.0, 20.0, 25.0], "hs2_2b")
    cmp = compare_scores(base, scen)
    # read from the scenario files when the frames do not carry their status
    assert cmp.attrs["scenario_status"]["state"] == "cancelled" and cmp.attrs["scenario_status"]["date"] == "2023-10-04"
    assert cmp.attrs["base_status"]["state"] == "built"
    text = cmp.attrs["scenario_status_text"]
    assert "cancelled 4 October 2023" in text and "2020 strategy" in text and "HS2 Phase 2b" in text
    assert set(cmp["scenario_status"]) == {text}
    assert district_summary(cmp)["scenario_status"].tolist() == [text, text]
    # the status a frame carries (as score_region records it) is the one used
    scen.attrs["scenario_status"] = {"state": "proposed", "date": "2030-01-01", "source": "made up"}
    assert compare_scores(base, scen).attrs["scenario_status_text"].endswith("proposed, as of 1 January 2030")
    # a frame of a made-up scenario has no status: said so, never a crash
    scen.attrs.update(scenario="made_up", scenario_status=None)
    cmp = compare_scores(base, scen)
    assert cmp.attrs["scenario_status"] is None and cmp["scenario_status"].iloc[0].startswith("status not recorded")


@pytest.mark.realdata
def test_real_comparison_blaby_wins_only_by_leeds(real_data):
    """Under Phase 2b every Blaby LSOA 'wins' with no change to London or Birmingham: the win is to Leeds."""
    from lisgeo.pipeline import compare_scenarios

    cmp = compare_scenarios(region="E07000129", scenario="hs2_2b")
    assert (cmp["outcome"] == "winner").all()
    assert (cmp["d_tt_rail_london"].abs() < 5).all() and (cmp["d_tt_rail_birmingham"].abs() < 5).all()
    assert set(cmp["faster_to"]) == {"Leeds"}
    assert district_summary(cmp)["faster_to"].tolist() == [f"Leeds ({len(cmp)})"]
