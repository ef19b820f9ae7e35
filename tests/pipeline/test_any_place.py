"""Any English place scores end to end (issue 23): a district far from the East Midlands, a West
Yorkshire district (whose NaPTAN stops the data lack), a region of several upper-tier authorities, a
region without sites and one that brings its own (``--sites``)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lisgeo.cli import main
from lisgeo.measures.columns import CONTRACT, FIXED_SITES, SITE_COLUMNS

pytestmark = pytest.mark.realdata
NOT_SITES = [c for c in CONTRACT if c not in SITE_COLUMNS]


@pytest.fixture(scope="module")
def cornwall(real_data):
    from lisgeo.pipeline import score_region

    return score_region(region="Cornwall")


def test_a_far_district_scores_without_the_site_columns(cornwall, tmp_path):
    """Cornwall: 336 LSOAs, every measure but the sites'; no road to Toton is built for it."""
    g = cornwall
    assert len(g) == 336 and (g["LADCD"] == "E06000052").all() and (g["LADNM"] == "Cornwall").all()
    assert (g["LEP"] == "Cornwall and Isles of Scilly").all()
    assert list(g.columns[: len(NOT_SITES)]) == NOT_SITES  # the contract, less the site columns, in order
    assert not set(SITE_COLUMNS) & set(g.columns) and "tt_car_nearest_ez_id" not in g.columns
    why = g.attrs["absent_columns"]
    assert set(why) == set(SITE_COLUMNS)
    assert "reach.network_km (30 km)" in why["tt_car_hs2_toton"]
    assert "do not cover" in why["tt_car_nearest_ez"] and "--sites" in why["tt_car_nearest_ez"]
    assert "tt_car_nearest_ez" not in g.attrs["index_config"]["accessibility"]  # the index weighs what the region has
    for c in ("tt_car_nearest_station", "jobs_car_45", "acc_gravity_car", "stops_800m", "digital_score", "connectivity_index",
              "accessibility_index", "sustainable_index", "imd_decile"):
        assert g[c].notna().all(), c
    assert (g["jobs_car_60"] > 0).all() and g["stops_800m"].sum() > 1000
    # around Bude no station with weekday trains lies within the car's 25 km: the drive to the nearest
    # (Gunnislake or Barnstaple, beyond Cornwall) is a straight one, and data_flags says so
    far = (g["rail_nearest_km"] > 25).to_numpy()
    assert 5 <= far.sum() <= 20 and (g["data_flags"] != "").to_numpy().tolist() == far.tolist()
    assert g.loc[far, "data_flags"].str.contains("pt.car_max_km (25 km)", regex=False).all()
    assert g.loc["E01018936", "tt_car_nearest_station_id"] == "GSL" and 60 < g.loc["E01018936", "tt_car_nearest_station"] < 90
    assert g.loc["E01018943", "rail_nearest_crs"] == "BNP"  # Barnstaple, in Devon, 32 km beyond Cornwall's edge
    # the jobs of a district beyond the 25 are the national table's (Census 2011 on MSOA 2021)
    from lisgeo.layers.jobs import national_jobs_msoa21

    nat = national_jobs_msoa21()
    assert g["jobs"].sum() == pytest.approx(nat.loc[nat["LADCD"] == "E06000052", "jobs"].sum(), rel=1e-9)
    assert (g["unreachable_flags"] == "").all()  # every zone reaches every destination group
    from lisgeo.pipeline.score import write_scores

    write_scores(g, tmp_path / "out", claims=False)
    import json

    prov = json.loads((tmp_path / "out" / "provenance.json").read_text(encoding="utf-8"))
    assert set(prov["details"]["absent_columns"]) == set(SITE_COLUMNS)


def test_the_far_network_has_no_fixed_sites(real_data):
    from lisgeo.pipeline.score import fixed_sites, score_network

    assert fixed_sites("Cornwall") == {}
    assert fixed_sites("d2n2") == fixed_sites("E07000131") == FIXED_SITES  # Harborough alone: all four, as always
    G = score_network("Cornwall")
    assert G.graph["sites"] == [] and G.graph["site_road_links"] == 0


def test_the_hs2_map_of_a_far_region_says_why_not(cornwall):
    from lisgeo.pipeline.maps import MapNotForRegion, make_map

    with pytest.raises(MapNotForRegion, match=r"map 2_hs2_connectivity is not drawn for Cornwall: the region's scores have no "
                                              r"tt_car_hs2_toton, tt_car_hs2_chesterfield"):
        make_map("2_hs2_connectivity", region="Cornwall")


def test_a_west_yorkshire_district_has_no_stop_counts_and_says_why(real_data):
    """Calderdale: NaPTAN's West Yorkshire (450) is not in the data: stops_800m NaN with the reason,
    and the indices weigh the other measures."""
    from lisgeo.layers.stops import load_stops
    from lisgeo.pipeline import score_region

    stops = load_stops(region="Calderdale")
    # (Calderdale borders Rochdale and Oldham, of Greater Manchester, which the data lack too)
    assert stops.attrs["missing_areas"] == {"180": "Greater Manchester", "450": "West Yorkshire"}
    assert "E08000033" in stops.attrs["missing_districts"] and "E08000005" in stops.attrs["missing_districts"]
    g = score_region(region="Calderdale")
    assert len(g) == 129 and g["stops_800m"].isna().all()
    wy = "stops_800m: no NaPTAN stops of West Yorkshire (ATCO area 450) in the data"
    assert (g["data_flags"] == wy).all()  # (no LSOA centroid lies within 800 m of the moors' border with Greater Manchester)
    assert g["connectivity_index"].notna().all() and g["sustainable_index"].notna().all()
    assert g["connectivity_index"].between(0, 100).all()
    assert g["tt_rail_leeds"].notna().all() and g["tt_rail_leeds"].median() < 60
    # a measure with no value anywhere is not weighed (nor placed on a base's scale: a comparison works)
    cfg = g.attrs["index_config"]
    assert "stops_800m" not in cfg["connectivity"] and "stops_800m" not in cfg["sustainable"]
    from lisgeo.pipeline import compare_scenarios

    cmp = compare_scenarios(region="Calderdale", scenario="hs2_2b")
    assert len(cmp) == 129 and cmp["d_tt_rail_london"].notna().all()


def test_d2n2_counts_stops_across_its_edge_and_marks_those_near_greater_manchester(real_data):
    """The stops of every ATCO area within reach (Staffordshire, Cheshire East, South Yorkshire ...)
    count; a few High Peak LSOAs within 800 m of Greater Manchester get NaN and the flag."""
    from lisgeo.pipeline import score_region

    g = score_region(region="d2n2")
    flagged = g[g["data_flags"] != ""]
    assert 0 < len(flagged) < 20 and (flagged["LADNM"] == "High Peak").all()
    assert flagged["stops_800m"].isna().all() and g.loc[g["data_flags"] == "", "stops_800m"].notna().all()
    assert flagged["data_flags"].str.contains("Greater Manchester (ATCO area 180)", regex=False).all()
    assert list(g.columns[: len(CONTRACT)]) == list(CONTRACT) and g.attrs["absent_columns"] == {}


def test_a_region_of_several_authorities_from_the_command_line(real_data, tmp_path, capsys):
    """Tees Valley (five unitary authorities, a combined authority and a former LEP of the same districts)."""
    out = tmp_path / "tv"
    assert main(["score", "--region", "Tees Valley", "-o", str(out)]) == 0, capsys.readouterr().err
    s = pd.read_csv(out / "scores.csv", keep_default_na=False, na_values=[""])
    assert s["LADCD"].nunique() == 5 and len(s) > 350
    assert not set(SITE_COLUMNS) & set(s.columns) and s["connectivity_decile"].between(1, 10).all()
    c = pd.read_csv(out / "claims.csv", keep_default_na=False, na_values=[""])
    assert len(c) == 4 and c["note"].str.contains("no strategy figure for this region").all()


def test_a_mix_with_a_strategy_district_keeps_the_fixed_sites(real_data):
    """Rutland and Melton: Melton is in Leicester and Leicestershire, so the four fixed sites are
    timed; the sites data do not cover Rutland, so the nearest Enterprise Zone is left out."""
    from lisgeo.pipeline import score_region

    g = score_region(region="Rutland, Melton")
    assert set(FIXED_SITES) <= set(g.columns) and g[list(FIXED_SITES)].notna().all().all()
    assert "tt_car_nearest_ez" not in g.columns and set(g.attrs["absent_columns"]) == {"tt_car_nearest_ez"}


def test_a_sites_file_brings_the_regions_own_sites(real_data, tmp_path, monkeypatch):
    from lisgeo.layers.sites import load_sites, sites_file
    from lisgeo.pipeline import score_region

    monkeypatch.setenv("LISGEO_CACHE_DIR", str(tmp_path / "cache"))
    p = tmp_path / "cornwall_sites.csv"
    p.write_text("site_id,name,category,LADCD,lon,lat,source\n"
                 "aerohub_ez,Aerohub Enterprise Zone,enterprise_zone,E06000052,-5.0050,50.4400,test row\n"
                 "truro_centre,Truro city centre,city_centre,E06000052,-5.0510,50.2630,test row\n", encoding="utf-8")
    import os

    before = os.environ.get("LISGEO_LAYERS_DIR")
    with sites_file(p) as folder:
        assert os.environ["LISGEO_LAYERS_DIR"] == str(folder)
        s = load_sites(region="Cornwall")
        assert s.index.tolist() == ["aerohub_ez", "truro_centre"] and "cornwall_sites.csv" in s.attrs["attribution"]
        assert len(load_sites(region="d2n2")) > 30  # the authored sites are still there
        g = score_region(region="Cornwall")
    assert os.environ.get("LISGEO_LAYERS_DIR") == before
    assert (g["tt_car_nearest_ez_id"] == "aerohub_ez").all() and g["tt_car_nearest_ez"].notna().all()
    assert g["tt_car_nearest_ez"].min() < 15 and set(g.attrs["absent_columns"]) == set(FIXED_SITES)
    # without the file, as before: no sites, no site columns
    assert load_sites(region="Cornwall").empty


@pytest.mark.parametrize("rows, message", [
    ("aerohub_ez,Aerohub,enterprise_zone,E06000052,50.44,-5.005,src\n", r"bad\.csv line 2 \(aerohub_ez\): point lon=50\.44.*lon and lat look swapped"),
    ("aerohub_ez,Aerohub,enterprise zone,E06000052,-5.005,50.44,src\n", r"unknown site category 'enterprise zone'.*Fix bad\.csv line 2 \(aerohub_ez\)"),
    ("aerohub_ez,Aerohub,enterprise_zone,E06000999,-5.005,50.44,src\n", r"bad\.csv line 2 \(aerohub_ez\): LADCD 'E06000999' is not a district of England"),
    ("a,A,town_centre,E06000052,-5.005,50.44,src\na,B,town_centre,E06000052,-5.0,50.4,src\n", r"bad\.csv line 3 \(a\): site_id repeats line 2"),
])
def test_a_bad_sites_file_is_refused_before_any_work(real_data, tmp_path, capsys, monkeypatch, rows, message):
    import re

    import lisgeo.pipeline.score as score

    import os

    for k in ("LISGEO_LAYERS_DIR", "LISGEO_SITES_FILE", "LISGEO_WORKERS"):  # (put back as they were after the test)
        if k in os.environ:
            monkeypatch.setenv(k, os.environ[k])
        else:
            monkeypatch.delenv(k, raising=False)
    monkeypatch.setattr(score, "score_region", lambda **kw: (_ for _ in ()).throw(AssertionError("the scoring started")))
    bad = tmp_path / "bad.csv"
    bad.write_text("site_id,name,category,LADCD,lon,lat,source\n" + rows, encoding="utf-8")
    out = tmp_path / "out"
    assert main(["score", "--region", "Cornwall", "--sites", str(bad), "-o", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("lisgeo: error: ") and len(err.splitlines()) == 1 and re.search(message, err), err
    assert not out.exists()


def test_every_district_has_its_naptan_areas(real_data):
    from lisgeo.layers.stops import MISSING_AREAS, atco_areas
    from lisgeo.regions import english_districts

    areas = {c: atco_areas(c) for c in english_districts()}
    assert all(areas.values())
    assert areas["E06000052"] == ("080",) and areas["E08000035"] == ("450",) and areas["E09000001"] == ("490",)
    assert areas["E06000063"] == ("090",) and areas["E06000058"] == ("128", "129", "120")
    assert sum(a[0] in MISSING_AREAS for a in areas.values()) == 10 + 5 + 33
