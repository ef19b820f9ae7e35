"""Scores and scenario comparison: hand-made frames, then the real d2n2 region (scored once)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from lisgeo.errors import LisgeoError, UnknownNameError
from lisgeo.measures.columns import CONTRACT as CONTRACT_COLUMNS, TIME_COLUMNS
from lisgeo.measures.compare import compare_scores, district_summary, winners_losers
from lisgeo.pipeline import score_region, write_comparison, write_scores


# ------------------------------------------------------------------ comparison on hand-made frames
def test_compare_scores_hand_computed(three_lsoa_scores):
    base = three_lsoa_scores([100.0, 120.0, 90.0], [80.0, np.nan, 60.0], [10.0, 20.0, 30.0], "base")
    scen = three_lsoa_scores([90.0, 118.0, 90.0], [80.0, 70.0, 66.0], [15.0, 20.0, 25.0], "hs2")
    cmp = compare_scores(base, scen, threshold_min=5)
    # london deltas: -10, -2, 0 ; leeds: 0, NaN (newly reachable), +6 ; index: +5, 0, -5
    assert cmp["d_tt_rail_london"].tolist() == [-10.0, -2.0, 0.0]
    assert cmp["d_tt_rail_leeds"].iloc[[0, 2]].tolist() == [0.0, 6.0] and np.isnan(cmp["d_tt_rail_leeds"].iloc[1])
    assert cmp["d_connectivity_index"].tolist() == [5.0, 0.0, -5.0]
    # zone 1: 10 min faster -> winner ; zone 2: Leeds becomes reachable -> winner ; zone 3: Leeds 6 min slower -> loser
    assert cmp["outcome"].tolist() == ["winner", "winner", "loser"]
    assert cmp.attrs["base"] == "base" and cmp.attrs["scenario"] == "hs2"
    wl = winners_losers(cmp)
    assert wl[["LSOA21CD", "measure", "outcome"]].values.tolist() == [
        ["E01000001", "tt_rail_london", "faster"], ["E01000003", "tt_rail_leeds", "slower"], ["E01000002", "tt_rail_leeds", "newly reachable"]]
    ds = district_summary(cmp).set_index("LADNM")
    # Derby: pop-weighted mean London delta = (1000*-10 + 3000*-2)/4000 = -4 ; index (1000*5 + 3000*0)/4000 = 1.25
    assert ds.loc["Derby", "d_tt_rail_london"] == pytest.approx(-4.0)
    assert ds.loc["Derby", "d_connectivity_index"] == pytest.approx(1.25)
    # Derby Leeds: only zone 1 has a delta (0) -> 0 ; winners 2 LSOAs, 4,000 people
    assert ds.loc["Derby", "d_tt_rail_leeds"] == 0.0
    assert (ds.loc["Derby", "n_winners"], ds.loc["Derby", "pop_winners"]) == (2, 4000.0)
    assert (ds.loc["Nottingham", "n_losers"], ds.loc["Nottingham", "pop_losers"]) == (1, 2000.0)
    # a bigger threshold leaves zone 1 as the only change
    assert compare_scores(base, scen, threshold_min=7)["outcome"].tolist() == ["winner", "winner", "unchanged"]
    with pytest.raises(LisgeoError, match="different LSOAs"):
        compare_scores(base, scen.iloc[:2])


def test_write_comparison(tmp_path, three_lsoa_scores):
    base = three_lsoa_scores([100.0, 120.0, 90.0], [80.0, 70.0, 60.0], [10.0, 20.0, 30.0], "base")
    scen = three_lsoa_scores([90.0, 118.0, 90.0], [80.0, 70.0, 66.0], [15.0, 20.0, 25.0], "hs2")
    paths = write_comparison(compare_scores(base, scen), tmp_path / "cmp")
    assert sorted(p.name for p in (tmp_path / "cmp").iterdir()) == ["compare.csv", "compare.gpkg", "district_summary.csv", "provenance.json", "winners_losers.csv"]
    back = pd.read_csv(paths["compare.csv"])
    assert back["outcome"].tolist() == ["winner", "unchanged", "loser"]
    assert "index" not in gpd.read_file(paths["compare.gpkg"], layer="compare").columns


# ------------------------------------------------------------------ the real region
@pytest.fixture(scope="session")
def d2n2_scores(real_data):
    return score_region(region="d2n2", scenario="base")


@pytest.fixture(scope="session")
def d2n2_hs2(real_data, d2n2_scores):
    return score_region(region="d2n2", scenario="hs2_2b", reference=d2n2_scores)


@pytest.mark.realdata
def test_contract_columns_and_rows(d2n2_scores):
    g = d2n2_scores
    assert len(g) == 1335
    assert list(g.columns[: len(CONTRACT_COLUMNS)]) == list(CONTRACT_COLUMNS)
    assert g.index.tolist() == g["LSOA21CD"].tolist() and g.index.is_unique
    assert g.crs.to_epsg() == 27700 and g.geom_type.isin(["Polygon", "MultiPolygon"]).all()
    assert g["LADCD"].nunique() == 17 and (g["LEP"] == "D2N2").all()
    assert g["pop"].sum() == 2_204_467  # Census 2021 usual residents of D2N2
    assert g.attrs["scenario"] == "base" and g.attrs["assumptions"]["road.motorway_kmh"] > 0
    assert "Office for National Statistics" in g.attrs["attribution"] or "ONS" in g.attrs["attribution"]
    # cumulative jobs grow with the threshold and never exceed the jobs in the network: the region's
    # plus those beyond its edge (Sheffield, Manchester, Leicester ... as job destinations)
    assert (g["jobs_car_30"] <= g["jobs_car_45"]).all() and (g["jobs_car_45"] <= g["jobs_car_60"]).all()
    assert g.attrs["job_destinations_beyond_region"] > 1000 and g.attrs["jobs_beyond_region"] > 2e6
    assert g["jobs_car_60"].max() <= g["jobs"].sum() + g.attrs["jobs_beyond_region"] + 1e-6
    assert g["jobs_car_60"].max() > g["jobs"].sum()  # someone reaches more jobs than the region holds
    # E2SFCA conserves jobs: Σ pop × jobs-per-resident = jobs reached by anyone (all of them here)
    assert (g["pop"] * g["e2sfca_jobs_car"]).sum() == pytest.approx(g["jobs"].sum(), rel=1e-9)
    # indices are 0–100; deciles ceil(10 r / 1335): bounds 133.5, 267, 400.5 … -> 133, 134, 133, 134 …
    for c in ("connectivity_index", "accessibility_index"):
        assert g[c].between(0, 100).all()
    assert g["connectivity_decile"].value_counts().sort_index().tolist() == [133, 134] * 5
    rule = (g["connectivity_decile"] <= 2) & (g["imd_decile"] <= 2)
    assert g["left_behind"].tolist() == rule.tolist() and g["left_behind"].sum() > 0
    # every zone reaches every destination in the base network: no flags
    assert (g["unreachable_flags"] == "").all()
    for c in TIME_COLUMNS:
        assert g[c].notna().all() and (g[c] >= 0).all()


@pytest.mark.realdata
def test_broxtowe_is_minutes_from_toton(d2n2_scores):
    g = d2n2_scores
    brox = g.loc[g["LADNM"] == "Broxtowe", "tt_car_hs2_toton"]
    assert len(brox) == 71
    assert brox.median() < 16 and brox.max() < 30
    # and High Peak, at the far side of the region, is much farther
    assert g.loc[g["LADNM"] == "High Peak", "tt_car_hs2_toton"].median() > 60


@pytest.mark.realdata
def test_rural_dales_less_connected_than_nottingham(d2n2_scores):
    g = d2n2_scores
    share = g.assign(low=g["connectivity_decile"] == 1).groupby("LADNM")["low"].mean()
    assert share["Derbyshire Dales"] > 0.5 > share["Nottingham"]
    assert share["Nottingham"] == 0.0


@pytest.mark.realdata
def test_hs2_never_slower_to_london(d2n2_scores, d2n2_hs2):
    d = d2n2_hs2["tt_rail_london"] - d2n2_scores["tt_rail_london"]
    assert (d <= 1e-9).all()
    # most LSOAs gain more than 5 minutes (83 %): not High Peak, which looks to Manchester, nor
    # Bassetlaw and most of Newark and Sherwood, whose East Coast Main Line trains to King's Cross
    # (at the fast-line speed) already beat a drive to Toton and HS2
    assert (d < -5).mean() > 0.8
    for c in ("tt_rail_birmingham", "tt_rail_leeds"):
        assert ((d2n2_hs2[c] - d2n2_scores[c]) <= 1e-9).all()
    # car times do not depend on the rail scenario
    assert np.allclose(d2n2_hs2["tt_car_hs2_toton"], d2n2_scores["tt_car_hs2_toton"])
    assert d2n2_hs2.attrs["scenario"] == "hs2_2b" and d2n2_hs2.attrs["index_scale"] == "reference scenario base"
    # on the base's scale, better rail times raise the mean connectivity index
    assert d2n2_hs2["connectivity_index"].mean() > d2n2_scores["connectivity_index"].mean()


@pytest.mark.realdata
def test_write_scores_and_bad_names(d2n2_scores, tmp_path):
    claims = pd.DataFrame({"claim": ["x"], "strategy_figure": [1.0], "computed_value": [2.0], "unit": ["%"], "method": ["m"], "source": ["s"]})
    paths = write_scores(d2n2_scores, tmp_path / "out", claims=claims)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["claims.csv", "provenance.json", "scores.csv", "scores.gpkg"]
    back = gpd.read_file(paths["scores.gpkg"], layer="lsoa")
    assert len(back) == 1335 and list(back.columns[: len(CONTRACT_COLUMNS)]) == list(CONTRACT_COLUMNS)
    csv = pd.read_csv(paths["scores.csv"])
    assert csv["left_behind"].sum() == d2n2_scores["left_behind"].sum()
    with pytest.raises(UnknownNameError, match="scenario"):
        score_region(region="d2n2", scenario="hs3")
    with pytest.raises(UnknownNameError, match="site"):
        score_region(region="d2n2", sites=["atlantis"])
    with pytest.raises(LisgeoError, match="contract"):
        write_scores(d2n2_scores.drop(columns="left_behind"), tmp_path / "bad", claims=False)
    assert not (tmp_path / "bad").exists()


@pytest.mark.realdata
def test_cli_score_unknown_scenario_writes_nothing(real_data, tmp_path, capsys):
    from lisgeo.cli import main

    assert main(["score", "--region", "d2n2", "--scenario", "nowhere", "-o", str(tmp_path / "o")]) == 2
    assert "unknown scenario 'nowhere'" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()
    assert main(["compare", "--region", "d2n2", "--scenario", "nowhere", "-o", str(tmp_path / "c")]) == 2
    assert not (tmp_path / "c").exists()


@pytest.mark.realdata
def test_walking_cycling_and_the_sustainable_index(d2n2_scores):
    from lisgeo.measures.columns import ACTIVE_COLUMNS

    g = d2n2_scores
    assert set(ACTIVE_COLUMNS) <= set(g.columns)
    for mode in ("walk", "bicycle"):
        j15, j30, j45 = (g[f"jobs_{mode}_{m}"] for m in (15, 30, 45))
        assert (j15 <= j30).all() and (j30 <= j45).all() and (j15 >= g["jobs"] - 1e-6).all()  # own zone counts
    assert (g["jobs_bicycle_30"] >= g["jobs_walk_30"]).all()
    assert g["sustainable_index"].between(0, 100).all()
    assert "rail only" in g.attrs["public_transport"] or "rail model only" in g.attrs["public_transport"]
    # central Nottingham reaches far more jobs on foot than rural Derbyshire Dales
    med = g.groupby("LADNM")["jobs_walk_30"].median()
    assert med["Nottingham"] > 3 * med["Derbyshire Dales"]


@pytest.mark.realdata
def test_sustainable_index_beats_the_naive_baseline(d2n2_scores):
    """The evidence of docs/validation.md on D2N2 alone: the sustainable-modes index agrees with the
    IoD 2025 transport connectivity score better than residents within 5 km."""
    from lisgeo.pipeline.validate import validate_connectivity

    t = validate_connectivity(region="d2n2", scores=d2n2_scores).set_index("column")["spearman"]
    assert t["sustainable_index"] > t["baseline_pop_within_5km"] > 0.5
    assert t["sustainable_index"] > t["accessibility_index"]


@pytest.mark.realdata
def test_network_times_made_ahead_equal_the_ones_made_with_the_layers(real_data):
    """graph_times made ahead (travel_times(network=...), for the stations load_inputs keeps): the
    matrices travel_times picks from it equal those it makes itself, and a graph_times made for
    other stations has the missing station columns added rather than left NaN."""
    from lisgeo.pipeline.score import graph_times, load_inputs, score_network, travel_times
    from lisgeo.regions import get_region

    reg = get_region("E07000172")  # Broxtowe: small, with Toton and the Erewash Valley line
    G = score_network(reg)
    inputs = load_inputs(reg)
    own = travel_times(G, inputs)
    for gt in (graph_times(G, stations=inputs.stations.index.astype(str)), graph_times(G, stations=[])):
        got = travel_times(G, inputs, network=gt)
        for name in ("car", "rail_groups", "rail_jobs"):
            pd.testing.assert_frame_equal(getattr(got, name), getattr(own, name), check_exact=True)
        assert got.station_ids == own.station_ids and got.ez_ids == own.ez_ids
    assert own.car.notna().to_numpy().any() and len(own.station_ids) > 0
