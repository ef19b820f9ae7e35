"""Validation against published times: the set's checks, the error measures on hand examples, and
the intercity rail pairs on the real network (it must beat a ruler)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lisgeo.errors import ConfigError, MissingColumnError
from lisgeo.measures.validation import crowfly_baseline, error_summary, time_errors
from lisgeo.pipeline.validate import CLASSES, read_validation_set

_COLS = ["pair_id", "class", "mode", "scenario", "origin_ref", "destination_ref", "origin_name", "destination_name",
         "published_min", "time_kind", "timetable", "today_min", "distance_km", "source", "evidence", "note"]


def _row(**over):
    r = {"pair_id": "rail_not_lei", "class": "intercity_rail", "mode": "rail", "scenario": "base", "origin_ref": "crs:NOT",
         "destination_ref": "crs:LEI", "origin_name": "Nottingham", "destination_name": "Leicester", "published_min": 30,
         "time_kind": "typical", "timetable": "2019", "today_min": "", "distance_km": "", "source": "https://example.org/t",
         "evidence": "quoted", "note": ""}
    r.update(over)
    return r


def _csv(tmp_path, rows, drop=()):
    df = pd.DataFrame(rows, columns=_COLS).drop(columns=list(drop))
    p = tmp_path / "journey_times.csv"
    df.to_csv(p, index=False, encoding="utf-8")
    return p


def test_a_good_set_reads(tmp_path):
    rows = [_row(), _row(pair_id="car_1", **{"class": "urban_car"}, mode="car", origin_ref="site:ema",
                         destination_ref="lonlat:-1.1506;52.9536", published_min="25.5", time_kind="typical"),
            _row(pair_id="hs2_1", **{"class": "hs2"}, scenario="hs2_2b", origin_ref="hs2:hs2_toton", destination_ref="crs:EUS")]
    v = read_validation_set(_csv(tmp_path, rows))
    assert list(v.index) == ["rail_not_lei", "car_1", "hs2_1"] and v["published_min"].tolist() == [30.0, 25.5, 30.0]
    assert v["published_min"].dtype == np.float64 and set(CLASSES) >= set(v["class"])


@pytest.mark.parametrize("change, message", [
    ({"class": "teleport"}, "unknown class"),
    ({"origin_ref": "station:NOT"}, "origin_ref 'station:NOT'"),
    ({"destination_ref": "crs:LEIC"}, "destination_ref 'crs:LEIC'"),
    ({"destination_ref": "lonlat:-1.1;north"}, "destination_ref"),
    ({"origin_ref": ""}, "origin_ref"),
    ({"source": ""}, "needs a source"),
    ({"source": "   "}, "needs a source"),
    ({"published_min": 0}, "published_min must be positive"),
    ({"published_min": -5}, "published_min must be positive"),
    ({"published_min": "half an hour"}, "published_min must be positive"),
])
def test_bad_rows_are_refused_naming_the_problem(tmp_path, change, message):
    p = _csv(tmp_path, [_row(pair_id="fine"), _row(pair_id="broken", **change)])
    with pytest.raises(ConfigError, match=message) as e:
        read_validation_set(p)
    assert "broken" in str(e.value) and "fine" not in str(e.value)  # the message names the row at fault


def test_duplicate_ids_missing_columns_and_files(tmp_path):
    with pytest.raises(ConfigError, match="pair_id repeats.*twice"):
        read_validation_set(_csv(tmp_path, [_row(pair_id="twice"), _row(pair_id="twice", published_min=31)]))
    with pytest.raises(ConfigError, match="lacks column.*source"):
        read_validation_set(_csv(tmp_path, [_row()], drop=["source"]))
    with pytest.raises(ConfigError, match="not found"):
        read_validation_set(tmp_path / "nope.csv")
    bad = tmp_path / "latin1.csv"
    bad.write_bytes(",".join(_COLS).encode() + b"\nx,intercity_rail,rail,base,crs:NOT,crs:LEI,N\xf6tt,L,30,typical,,,,s,quoted,\n")
    with pytest.raises(ConfigError, match="UTF-8"):
        read_validation_set(bad)


def test_the_shipped_set_reads():
    v = read_validation_set()
    assert v.index.is_unique and len(v) > 100 and (v["published_min"] > 0).all()
    assert set(v["class"]) == set(CLASSES)


# ------------------------------------------------------------------ the measures
def test_time_errors_hand_computed():
    e = time_errors(pd.Series([110.0, 45.0, np.nan], index=["a", "b", "c"]), pd.Series([100, 50, 20], index=["a", "b", "c"]))
    assert e["error_min"].tolist()[:2] == [10.0, -5.0] and e["error_pct"].tolist()[:2] == [10.0, -10.0]
    assert e["abs_pct"].tolist()[:2] == [10.0, 10.0] and e.loc["c"].drop("published_min").isna().all()
    assert e["published_min"].tolist() == [100.0, 50.0, 20.0]


def test_crowfly_baseline_leave_one_out_hand_computed():
    km = pd.Series([10.0, 20.0, 30.0, 40.0, 5.0, 0.0, 8.0], index=list("abcdefg"))
    pub = pd.Series([10.0, 20.0, 60.0, 30.0, 10.0, 3.0, 4.0], index=list("abcdefg"))
    grp = pd.Series(["r", "r", "r", "c", "c", "c", "solo"], index=list("abcdefg"))
    b = crowfly_baseline(km, pub, grp)
    # group r: speeds 60, 60, 30 km/h. Leaving a out: median(60, 30) = 45 -> 10 km in 13.33 min;
    # b likewise 20 / 45 * 60; leaving c out: median(60, 60) = 60 -> 30 min
    assert b[["a", "b", "c"]].tolist() == pytest.approx([10 / 45 * 60, 20 / 45 * 60, 30.0])
    # group c: speeds 80, 30, 0 km/h. d: median(30, 0) = 15 -> 40 / 15 * 60 = 160; e: median(80, 0) = 40 -> 7.5
    assert b["d"] == pytest.approx(160.0) and b["e"] == pytest.approx(7.5)
    assert np.isnan(b["f"]) and np.isnan(b["g"])  # no distance; alone in its group
    assert b.name == "baseline_min"


def _results():
    return pd.DataFrame({
        "pair_id": ["p1", "p2", "p3", "p4", "p5"], "class": ["rail", "rail", "rail", "car", "car"],
        "published_min": [100.0, 50.0, 20.0, 40.0, 10.0], "error_pct": [10.0, -40.0, np.nan, 5.0, -20.0],
        "abs_pct": [10.0, 40.0, np.nan, 5.0, 20.0], "baseline_min": [80.0, 60.0, 30.0, np.nan, 13.0]})


def test_error_summary_hand_computed():
    s = error_summary(_results()).set_index("class")
    assert list(s.index) == ["car", "rail", "all"]
    r = s.loc["rail"]
    assert (r["pairs"], r["modelled"]) == (3, 2)
    assert r["median_abs_pct"] == 25.0 and r["bias_pct"] == -15.0  # median of 10 and 40; of +10 and -40
    assert r["share_over_25"] == 50.0 and r["share_over_30"] == 50.0
    assert r["worst_pair"] == "p2" and r["worst_pct"] == -40.0
    # baseline errors of the modelled pairs: 20 % and 20 % (p3 has no model time)
    assert r["baseline_median_abs_pct"] == pytest.approx(20.0)
    c = s.loc["car"]
    assert c["median_abs_pct"] == 12.5 and c["share_over_25"] == 0.0 and c["worst_pair"] == "p5"
    assert c["baseline_median_abs_pct"] == pytest.approx(30.0)  # p5 only: 13 vs 10
    a = s.loc["all"]
    assert (a["pairs"], a["modelled"]) == (5, 4) and a["median_abs_pct"] == 15.0 and a["share_over_25"] == 25.0
    assert a["baseline_median_abs_pct"] == pytest.approx(20.0)  # 20, 20, 30
    with pytest.raises(MissingColumnError, match="abs_pct"):
        error_summary(_results().drop(columns="abs_pct"))


# ------------------------------------------------------------------ real data
def test_real_intercity_rail_beats_the_crowfly_baseline(real_data):
    from lisgeo.pipeline.validate import validate_times

    r = validate_times(classes=["intercity_rail"])
    v = read_validation_set()
    want = v[v["class"] == "intercity_rail"]
    assert list(r.index) == list(want.index) and (r["class"] == "intercity_rail").all()
    for c in (*_COLS, "model_min", "error_min", "error_pct", "abs_pct", "crow_km", "baseline_min", "status"):
        assert c in r.columns
    assert (r["status"] == "ok").all() and r["model_min"].notna().all()  # every pair is modelled
    assert np.allclose(r["error_min"], r["model_min"] - r["published_min"])
    assert (r["crow_km"] > 0).all() and r["baseline_min"].notna().all()
    s = error_summary(r).set_index("class").loc["intercity_rail"]
    assert s["pairs"] == s["modelled"] == len(want)
    assert s["median_abs_pct"] < 15 and s["median_abs_pct"] < s["baseline_median_abs_pct"]
    # Nottingham - St Pancras, a fastest published time of 91 min, lands within 10 %
    assert abs(r.loc["rail_not_stp_fastest_2013", "error_pct"]) < 10
    assert r.attrs["assumptions"]["pt.max_wait_min"] == 10.0


def test_real_validation_networks_are_freed(real_data, monkeypatch):
    """Each scenario's validation network (0.8 GB) is freed before the next is built and none is
    left after the call, with the cyclic collector off as in the ``lisgeo`` command."""
    import gc
    import weakref

    from lisgeo.pipeline import validate

    refs = []
    real = validate.validation_network

    def recorded(*a, **k):
        G = real(*a, **k)
        assert all(r() is None for r in refs)  # the last scenario's is gone
        refs.append(weakref.ref(G))
        return G

    monkeypatch.setattr(validate, "validation_network", recorded)
    was = gc.isenabled()
    gc.disable()
    try:
        r = validate.validate_times(scenarios=["base", "hs2_phase1"])
    finally:
        if was:
            gc.enable()
    assert len(refs) == r["scenario"].nunique() >= 2 and all(ref() is None for ref in refs)


# ------------------------------------------------------------------ the targets, held by CI
# Issue 21's targets, out of sample: no constant of the model is fitted on the validation set (the
# rail running-time model is fitted on a timetable with held-out pairs, the road speeds come from
# published statistics), and the headline counts only the published pairs (quoted on the cited page,
# or derived from it); recalled ones are reported apart. A change that makes the model less true fails.
@pytest.fixture(scope="module")
def all_times(real_data):
    from lisgeo.pipeline.validate import validate_times

    return validate_times()


def test_real_validation_targets_hold(all_times):
    from lisgeo.measures.validation import headline_summary

    h = headline_summary(all_times)
    pub = h[h["evidence"] == "published"].set_index("class")
    # regional and local rail: median |error| <= 10 % and no systematic bias beyond 5 % (8.5 %, -0.7 % when written)
    assert pub.loc["local_rail", "median_abs_pct"] <= 10.0 and abs(pub.loc["local_rail", "bias_pct"]) <= 5.0
    # rural car: median <= 15 % and no drive more than 50 % off (12.5 %, largest 49.4 % when written)
    assert pub.loc["rural_car", "median_abs_pct"] <= 15.0 and pub.loc["rural_car", "max_abs_pct"] <= 50.0
    assert pub.loc["rural_car", "pairs"] >= 20
    # intercity rail and urban car no worse than the out-of-sample figures before (7.3 %; 10.6 % leave-one-out)
    assert pub.loc["intercity_rail", "median_abs_pct"] <= 7.3 and pub.loc["urban_car", "median_abs_pct"] <= 10.6
    # held at today's level: the share of rail pairs more than 25 % off, and no car drive more than 50 % off
    assert pub.loc["intercity_rail", "share_over_25"] <= 5.0 and pub.loc["local_rail", "share_over_25"] <= 17.0
    assert pub.loc["urban_car", "max_abs_pct"] <= 50.0
    # every modelled class beats the ruler-and-speed baseline
    for c in ("intercity_rail", "local_rail", "urban_car", "rural_car"):
        assert pub.loc[c, "median_abs_pct"] < pub.loc[c, "baseline_median_abs_pct"], c
    # recalled rows are reported apart, never in the headline
    rec = h[h["evidence"] == "recalled"]
    assert set(rec["class"]) <= {"intercity_rail", "local_rail", "urban_car", "rural_car"} and len(rec)
    n_pub = all_times["evidence"].isin(["quoted", "derived"]) & all_times["class"].isin(["intercity_rail", "local_rail", "urban_car", "rural_car"])
    assert pub.loc["all", "pairs"] == int(n_pub.sum())
    # nothing is silently dropped: every pair of a modelled class has a model time
    modelled = all_times[all_times["class"].isin(["intercity_rail", "local_rail", "urban_car", "rural_car", "hs2"])]
    assert modelled["model_min"].notna().all()


def test_real_hs2_gains_in_the_published_ranges(real_data):
    from lisgeo.pipeline.validate import validate_gains

    sites, districts = validate_gains()
    assert len(sites) == 13 and int(sites["within"].sum()) >= 6  # 6 of 13 when written; the others' reasons in docs/validation.md
    key = sites.set_index(["scenario", "origin", "destination"])
    # to Birmingham: the IRP's gains within their ranges; 2b's Nottingham gain below its range by the
    # change at Toton (a 5-minute interchange and a wait for the HS2 train the station-to-station range leaves out)
    assert bool(key.loc[("irp", "Nottingham city centre", "birmingham"), "within"])
    assert bool(key.loc[("irp", "Derby city centre", "birmingham"), "within"])
    assert 10 <= key.loc[("hs2_2b", "Nottingham city centre", "birmingham"), "gain_min"] <= 38
    # to London: 2b's Nottingham and Derby gains within their ranges; the IRP's 2-11 min above them
    # (the 2020 timetable's Midland Main Line base is about 5 % slower than the published 'today')
    assert bool(key.loc[("hs2_2b", "Nottingham city centre", "london"), "within"])
    assert bool(key.loc[("hs2_2b", "Derby city centre", "london"), "within"])
    for town in ("Nottingham city centre", "Derby city centre", "Chesterfield town centre"):
        g = key.loc[("irp", town, "london")]
        assert g["published_low"] <= g["gain_min"] <= g["published_high"] + 12, town
    # to Leeds under 2b (no published range in the set): Nottingham and Derby gain, as Toton-Leeds 27 min says
    d = districts.set_index(["scenario", "destination", "district"])["median_gain_min"]
    assert 35 <= d[("hs2_2b", "leeds", "Nottingham")] <= 65 and 15 <= d[("hs2_2b", "leeds", "Derby")] <= 35
    # places a scheme does not serve gain nothing
    assert key.loc[("hs2_2b", "Leicester city centre", "london"), "gain_min"] < 1.0
    assert key.loc[("irp", "Nottingham city centre", "leeds"), "gain_min"] < 1.0
    assert key.loc[("hs2_phase1", "Nottingham city centre", "london"), "gain_min"] < 1.0


# ------------------------------------------------------------------ the independent timetable check
def test_timetable_pairs_hand_computed(tmp_path):
    """Every pair one trip serves (boarding and alighting allowed), fastest and median over trips."""
    import zipfile

    from lisgeo.network.gtfs import read_gtfs
    from lisgeo.pipeline.validate import _gtfs_stop_codes, timetable_pairs

    files = {
        "agency.txt": "agency_id,agency_name,agency_url,agency_timezone\nNR,Rail,https://example.org,Europe/London\n",
        "stops.txt": ("stop_id,stop_code,stop_name,stop_lat,stop_lon\nAAA,NWP,Newport,51.5886,-3.0003\n"
                      "BBB,CDF,Cardiff,51.4752,-3.1792\nCCC,,Depot,51.5,-3.1\nDDD,BRI,Bristol,51.4491,-2.5813\n"),
        "routes.txt": "route_id,agency_id,route_short_name,route_type\nR,NR,,2\n",
        "trips.txt": "route_id,service_id,trip_id\nR,WK,T1\nR,WK,T2\nR,WK,T3\n",
        "stop_times.txt": ("trip_id,arrival_time,departure_time,stop_id,stop_sequence,pickup_type,drop_off_type\n"
                           "T1,08:00:00,08:00:00,DDD,1,0,1\nT1,08:20:00,08:21:00,AAA,2,0,0\nT1,08:35:00,08:35:00,BBB,3,1,0\n"
                           "T2,09:00:00,09:00:00,DDD,1,0,1\nT2,09:24:00,09:25:00,AAA,2,0,0\nT2,09:30:00,09:30:00,CCC,3,0,0\n"
                           "T2,09:45:00,09:45:00,BBB,4,1,0\n"
                           "T3,10:00:00,10:00:00,DDD,1,0,1\nT3,10:40:00,10:40:00,BBB,2,1,0\n"),
        "calendar.txt": ("service_id,monday,tuesday,wednesday,thursday,friday,saturday,sunday,start_date,end_date\n"
                         "WK,1,1,1,1,1,0,0,20240101,20241231\n"),
    }
    path = tmp_path / "rail.zip"
    with zipfile.ZipFile(path, "w") as z:
        for name, text in files.items():
            z.writestr(name, text)
    feed = read_gtfs(path, date="2024-03-05", start="00:00", end="23:59", max_time_min=600)
    codes = _gtfs_stop_codes(path)
    assert codes.drop("CCC").to_dict() == {"AAA": "NWP", "BBB": "CDF", "DDD": "BRI"} and pd.isna(codes["CCC"])
    got = timetable_pairs(feed, codes).set_index(["origin_crs", "destination_crs"])
    # BRI->NWP: 20 (T1), 24 (T2) ; BRI->CDF: 35, 45, 40 ; NWP->CDF: 14, 20 ; no pair from CDF (no boarding),
    # none into BRI (no alighting), the depot has no CRS
    assert got.index.tolist() == [("BRI", "CDF"), ("BRI", "NWP"), ("NWP", "CDF")]
    assert got.loc[("BRI", "CDF")].tolist() == [35.0, 40.0, 3]
    assert got.loc[("BRI", "NWP")].tolist() == [20.0, 22.0, 2]
    assert got.loc[("NWP", "CDF")].tolist() == [14.0, 17.0, 2]


@pytest.mark.realdata
def test_real_timetable_check_beats_the_crowfly_baseline(real_data):
    """Out of sample (2024 GTFS around Newport, never used to fit): the model's typical rail times
    are closer to the timetable than crow-fly distance at the timetable's own minutes per km."""
    from lisgeo.pipeline.validate import timetable_summary, validate_timetable

    pairs = validate_timetable(region="d2n2")
    assert len(pairs) > 5000 and pairs["model_typical_min"].notna().mean() > 0.95
    assert {"NOT", "DBY", "BHM"} <= set(pairs["origin_crs"])  # CrossCountry to the East Midlands
    s = timetable_summary(pairs).set_index("band")
    assert s.loc["all", "typical_median_abs_pct"] < 10.0  # 4.6 % when written (12.7 % before the timetabled running times)
    assert abs(s.loc["all", "typical_bias_pct"]) < 5.0
    for band in s.index:  # better than crow-fly in every distance band
        assert s.loc[band, "typical_median_abs_pct"] < s.loc[band, "baseline_typical_median_abs_pct"], band
    mid = pairs[(pairs["crow_km"] >= 20) & (pairs["crow_km"] < 160)]
    assert mid["typical_error_pct"].abs().median() < 8.0  # 4.5 % when written


def test_real_timetable_check_with_the_model_alone(real_data):
    """With no timetable at all (cif=False: every rail link modelled) the running-time model fitted on
    the 2020 sample still beats crow-fly in every band of the 2024 Newport timetable."""
    from lisgeo.pipeline.validate import timetable_summary, validate_timetable

    s = timetable_summary(validate_timetable(region="d2n2", cif=False)).set_index("band")
    assert s.loc["all", "typical_median_abs_pct"] < 12.7  # 10.8 % when written: better than the old model's 12.7 %
    for band in s.index:
        assert s.loc[band, "typical_median_abs_pct"] < s.loc[band, "baseline_typical_median_abs_pct"], band
