"""Reading and checking GTFS feeds (lisgeo.network.gtfs): tiny hand-written feeds, every bad-feed
case (a GTFSError naming the feed, the file and the field), and the real Newport feeds."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lisgeo.errors import GTFSError, LisgeoError
from lisgeo.network.gtfs import TransitFeed, format_clock, parse_clock, parse_date, read_gtfs

BASE = {
    "agency.txt": "agency_id,agency_name,agency_url,agency_timezone\nAG,Test Buses,https://example.org,Europe/London\n",
    "stops.txt": "stop_id,stop_name,stop_lat,stop_lon\nA,Alpha,51.5880,-2.9980\nB,Beta,51.5890,-2.9850\nC,Gamma,51.5900,-2.9700\n",
    "routes.txt": "route_id,agency_id,route_short_name,route_type\nR1,AG,1,3\n",
    "trips.txt": "route_id,service_id,trip_id\nR1,WK,T1\nR1,WK,T2\n",
    "stop_times.txt": ("trip_id,arrival_time,departure_time,stop_id,stop_sequence\n"
                       "T1,08:00:00,08:00:00,A,1\nT1,08:10:00,08:11:00,B,2\nT1,08:20:00,08:20:00,C,3\n"
                       "T2,24:10:00,24:10:00,A,1\nT2,24:20:00,24:20:00,B,2\n"),
    "calendar.txt": ("service_id,monday,tuesday,wednesday,thursday,friday,saturday,sunday,start_date,end_date\n"
                     "WK,1,1,1,1,1,0,0,20240101,20241231\n"),
}
TUESDAY = "2024-03-05"


def write_zip(path: Path, files: dict[str, "str | bytes"]) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, text in files.items():
            zf.writestr(name, text)
    return path


def feed_with(tmp_path: Path, name: str = "feed.zip", drop=(), **replace) -> Path:
    files = {k: v for k, v in BASE.items() if k not in drop}
    for k, v in replace.items():
        files[k.replace("__", ".")] = v
    return write_zip(tmp_path / name, files)


def sub(file: str, old: str, new: str) -> dict[str, str]:
    assert old in BASE[file], old
    return {file.replace(".", "__"): BASE[file].replace(old, new, 1)}


def read(path, **kw) -> TransitFeed:
    kw.setdefault("date", TUESDAY)
    kw.setdefault("start", "07:00")
    kw.setdefault("end", "25:00")
    kw.setdefault("max_time_min", 60)
    return read_gtfs(path, **kw)


# ------------------------------------------------------------------------------ good feeds


def test_reads_a_small_feed(tmp_path):
    f = read(feed_with(tmp_path))
    assert isinstance(f, TransitFeed)
    assert f.n_stops == 3 and f.n_trips == 2 and f.n_stop_times == 5
    assert f.sources == ("feed.zip",) and f.date == dt.date(2024, 3, 5)
    t1 = list(f.trip_id).index("T1")
    s = slice(f.trip_ptr[t1], f.trip_ptr[t1 + 1])
    assert f.stop_id[f.st_stop[s]].tolist() == ["A", "B", "C"]
    assert f.st_arr[s].tolist() == [8 * 3600, 8 * 3600 + 600, 8 * 3600 + 1200]
    assert f.st_dep[s].tolist() == [8 * 3600, 8 * 3600 + 660, 8 * 3600 + 1200]
    # x/y in British National Grid (Newport is near 330000, 188000)
    assert np.all((f.stop_x > 320000) & (f.stop_x < 340000) & (f.stop_y > 180000) & (f.stop_y < 195000))
    assert f.n_patterns == 2 and f.pattern_stops.tolist()[:3] == f.st_stop[s].tolist()
    assert "TransitFeed(feed.zip" in repr(f)


def test_times_past_midnight_are_seconds_after_86400(tmp_path):
    f = read(feed_with(tmp_path))
    t2 = list(f.trip_id).index("T2")
    s = slice(f.trip_ptr[t2], f.trip_ptr[t2 + 1])
    assert f.st_dep[s].tolist() == [24 * 3600 + 600, 24 * 3600 + 1200]
    assert f.trip_day[t2] == 0


def test_previous_days_trips_after_midnight_are_kept_shifted(tmp_path):
    # Monday-only service with a trip at 24:10 (= Tuesday 00:10); read for Tuesday early morning
    cal = BASE["calendar.txt"] + "MO,1,0,0,0,0,0,0,20240101,20241231\n"
    trips = BASE["trips.txt"] + "R1,MO,N1\n"
    st = BASE["stop_times.txt"] + "N1,24:10:00,24:10:00,A,1\nN1,24:25:00,24:25:00,C,2\n"
    f = read(feed_with(tmp_path, calendar__txt=cal, trips__txt=trips, stop_times__txt=st), start="00:00", end="01:00")
    # N1 (Mondays) and T2 (weekdays, so also Monday night) run after midnight into Tuesday
    assert sorted(f.trip_id) == ["N1", "T2"]
    assert f.trip_day.tolist() == [-1, -1]
    n1 = list(f.trip_id).index("N1")
    assert f.st_dep[f.trip_ptr[n1]:f.trip_ptr[n1 + 1]].tolist() == [600, 1500]
    assert f.info["feeds"][0]["trips_kept_from_day_before"] == 2


def test_window_keeps_only_usable_stop_times(tmp_path):
    # departures 08:05-08:30 with trips up to 10 min: T1 from B (08:11) to C (08:20); T2 is far later
    f = read(feed_with(tmp_path), start="08:05", end="08:30", max_time_min=10)
    assert f.trip_id.tolist() == ["T1"]
    assert f.stop_id[f.st_stop].tolist() == ["B", "C"]
    assert (f.start_s, f.end_s, f.horizon_s) == (8 * 3600 + 300, 8 * 3600 + 1800, 8 * 3600 + 2400)
    # a trip left with one usable stop time is dropped
    f = read(feed_with(tmp_path), start="08:15", end="08:30", max_time_min=10)
    assert f.n_trips == 0


def test_calendar_dates_add_and_remove_services(tmp_path):
    cd = "service_id,date,exception_type\nWK,20240305,2\nSA,20240305,1\n"
    trips = BASE["trips.txt"] + "R1,SA,S1\n"
    st = BASE["stop_times.txt"] + "S1,08:30:00,08:30:00,A,1\nS1,08:40:00,08:40:00,C,2\n"
    f = read(feed_with(tmp_path, calendar_dates__txt=cd, trips__txt=trips, stop_times__txt=st))
    assert f.trip_id.tolist() == ["S1"]
    # calendar_dates alone is enough
    f = read(feed_with(tmp_path, "b.zip", drop=("calendar.txt",), calendar_dates__txt="service_id,date,exception_type\nWK,20240305,1\n"))
    assert sorted(f.trip_id) == ["T1", "T2"]


def test_pickup_and_drop_off_types(tmp_path):
    st = ("trip_id,arrival_time,departure_time,stop_id,stop_sequence,pickup_type,drop_off_type\n"
          "T1,08:00:00,08:00:00,A,1,0,1\nT1,08:10:00,08:11:00,B,2,1,0\nT1,08:20:00,08:20:00,C,3,,3\n"
          "T2,24:10:00,24:10:00,A,1,0,0\nT2,24:20:00,24:20:00,B,2,2,0\n")
    f = read(feed_with(tmp_path, stop_times__txt=st))
    t1 = list(f.trip_id).index("T1")
    s = slice(f.trip_ptr[t1], f.trip_ptr[t1 + 1])
    assert f.st_pickup[s].tolist() == [True, False, True]
    assert f.st_dropoff[s].tolist() == [False, True, True]


def test_missing_intermediate_times_are_interpolated(tmp_path):
    st = ("trip_id,arrival_time,departure_time,stop_id,stop_sequence\n"
          "T1,08:00:00,08:00:00,A,1\nT1,,,B,2\nT1,08:20:00,08:20:00,C,3\n"
          "T2,24:10:00,24:10:00,A,1\nT2,24:20:00,,B,2\n")
    f = read(feed_with(tmp_path, stop_times__txt=st))
    t1 = list(f.trip_id).index("T1")
    s = slice(f.trip_ptr[t1], f.trip_ptr[t1 + 1])
    assert f.st_arr[s].tolist() == [28800, 29400, 30000] and f.st_dep[s].tolist() == [28800, 29400, 30000]
    assert f.info["interpolated_times"] == 1


def test_folder_feed_equals_zip_feed(tmp_path):
    folder = tmp_path / "folderfeed"
    folder.mkdir()
    for k, v in BASE.items():
        (folder / k).write_text(v)
    a, b = read(folder), read(feed_with(tmp_path))
    for name in ("stop_id", "trip_id", "st_stop", "st_arr", "st_dep", "stop_x", "stop_y"):
        assert np.array_equal(getattr(a, name), getattr(b, name))
    assert a.sources == ("folderfeed",)


def test_merging_feeds_prefixes_only_colliding_ids(tmp_path):
    one = feed_with(tmp_path, "bus.zip")
    # the second feed reuses trip id T1 and route R1 but has its own stops
    stops = "stop_id,stop_name,stop_lat,stop_lon\nX,Station,51.5885,-2.9990\nY,Halt,51.5950,-2.9600\n"
    st = "trip_id,arrival_time,departure_time,stop_id,stop_sequence\nT1,08:05:00,08:05:00,X,1\nT1,08:15:00,08:15:00,Y,2\n"
    two = feed_with(tmp_path, "rail.zip", stops__txt=stops, stop_times__txt=st,
                    trips__txt="route_id,service_id,trip_id\nR1,RS,T1\n",
                    calendar__txt=BASE["calendar.txt"].replace("WK,", "RS,"))
    f = read([one, two])
    assert f.sources == ("bus.zip", "rail.zip")
    assert sorted(f.trip_id) == ["bus:T1", "bus:T2", "rail:T1"]
    assert sorted(f.route_id) == ["bus:R1", "rail:R1"]
    assert sorted(f.stop_id) == ["A", "B", "C", "X", "Y"]  # no collision: ids as published
    assert set(f.info["prefixed_id_kinds"]) == {"route", "trip"}
    assert f.stops_frame().loc["X", "feed"] == "rail.zip"
    # two feeds with the same file name get distinct labels
    (tmp_path / "b").mkdir()
    again = feed_with(tmp_path / "b", "bus.zip")
    assert read([one, again]).sources == ("bus.zip", "bus_2.zip")


def test_frequencies_are_expanded_into_trips(tmp_path):
    freq = "trip_id,start_time,end_time,headway_secs,exact_times\nT1,08:00:00,09:00:00,1200,1\n"
    f = read(feed_with(tmp_path, frequencies__txt=freq))
    deps = sorted(f.st_dep[f.trip_ptr[:-1]][f.trip_day == 0].tolist())
    assert deps[:3] == [8 * 3600, 8 * 3600 + 1200, 8 * 3600 + 2400]


def test_parsers():
    assert parse_clock("08:00") == 28800 and parse_clock("8:00:30") == 28830 and parse_clock("25:10") == 90600
    assert parse_clock(dt.time(7, 30)) == 27000 and parse_clock(600) == 600
    assert format_clock(28800) == "08:00" and format_clock(90630) == "25:10:30"
    assert parse_date("20240305") == parse_date("2024-03-05") == parse_date(dt.datetime(2024, 3, 5, 8)) == dt.date(2024, 3, 5)
    for bad in ("8", "08:60", "ab:cd", "08:0", "", "99:00"):
        with pytest.raises(LisgeoError, match="clock time"):
            parse_clock(bad)
    with pytest.raises(LisgeoError, match="not a date"):
        parse_date("5 March")


def test_bad_arguments(tmp_path):
    p = feed_with(tmp_path)
    with pytest.raises(LisgeoError, match="end '07:00' is before start"):
        read_gtfs(p, date=TUESDAY, start="08:00", end="07:00")
    with pytest.raises(LisgeoError, match="max_time_min"):
        read_gtfs(p, date=TUESDAY, max_time_min=0)
    with pytest.raises(LisgeoError, match="not a date"):
        read_gtfs(p, date="March 5th")


# ------------------------------------------------------------------------------ bad feeds

ST_HEAD = "trip_id,arrival_time,departure_time,stop_id,stop_sequence\n"
CASES = {
    "no stop_times": (dict(drop=("stop_times.txt",)), r"feed\.zip: stop_times\.txt: the file is missing or has no rows"),
    "no stops column": (dict(stops__txt="stop_id,stop_name,stop_lon\nA,Alpha,-2.99\n"),
                        r"feed\.zip: stops\.txt: missing required column\(s\) stop_lat"),
    "no time column": (dict(stop_times__txt="trip_id,arrival_time,stop_id,stop_sequence\nT1,08:00:00,A,1\n"),
                       r"feed\.zip: stop_times\.txt: missing required column\(s\) departure_time"),
    "time 8:3": (sub("stop_times.txt", "T1,08:10:00", "T1,8:3"),
                 r"feed\.zip: stop_times\.txt: arrival_time '8:3' on line 3 is not HH:MM:SS"),
    "time 24:60": (sub("stop_times.txt", "08:11:00", "24:60:00"),
                   r"feed\.zip: stop_times\.txt: departure_time '24:60:00' on line 3 is not HH:MM:SS"),
    "time abc": (sub("stop_times.txt", "T1,08:20:00", "T1,abc"),
                 r"feed\.zip: stop_times\.txt: arrival_time 'abc' on line 4 is not HH:MM:SS"),
    "time > 48h": (sub("stop_times.txt", "24:20:00,24:20:00", "49:20:00,49:20:00"),
                   r"feed\.zip: stop_times\.txt: arrival_time '49:20:00' on line 6 is more than 48 hours"),
    "unknown stop": (sub("stop_times.txt", "08:20:00,C", "08:20:00,Z"),
                     r"feed\.zip: stop_times\.txt: stop_id 'Z' on line 4 is not in stops\.txt"),
    "unknown trip": (sub("stop_times.txt", "T2,24:20", "T9,24:20"),
                     r"feed\.zip: stop_times\.txt: trip_id 'T9' on line 6 is not in trips\.txt"),
    "unknown route": (sub("trips.txt", "R1,WK,T2", "R9,WK,T2"),
                      r"feed\.zip: trips\.txt: route_id 'R9' \(trip 'T2', line 3\) is not in routes\.txt"),
    "unknown service": (sub("trips.txt", "R1,WK,T2", "R1,XX,T2"),
                        r"feed\.zip: trips\.txt: service_id 'XX' \(trip 'T2', line 3\) is in neither calendar\.txt"),
    "no coordinates": (sub("stops.txt", "B,Beta,51.5890,-2.9850", "B,Beta,,"),
                       r"feed\.zip: stops\.txt: stop 'B' \(line 3\) has no stop_lat/stop_lon"),
    "outside GB": (sub("stops.txt", "51.5900,-2.9700", "48.8566,2.3522"),
                   r"feed\.zip: stops\.txt: stop 'C' \(line 4\) at stop_lat 48.8566, stop_lon 2.3522 lies outside Great Britain"),
    "swapped": (sub("stops.txt", "51.5900,-2.9700", "-2.9700,51.5900"), r"stops\.txt: stop 'C' .* look swapped"),
    "eastings": (sub("stops.txt", "51.5900,-2.9700", "188000,331000"),
                 r"feed\.zip: stops\.txt: stop 'C' \(line 4\) has stop_lat 188000, stop_lon 331000, which are not latitude/longitude"),
    "departure before arrival": (sub("stop_times.txt", "08:10:00,08:11:00", "08:11:00,08:10:00"),
                                 r"feed\.zip: stop_times\.txt: departure_time 08:10 is before arrival_time 08:11 on line 3 \(trip 'T1'\)"),
    "backwards": (sub("stop_times.txt", "08:20:00,08:20:00", "08:05:00,08:05:00"),
                  r"feed\.zip: stop_times\.txt: arrival_time 08:05 on line 4 is before the previous stop's departure_time 08:11"),
    "bad number": (sub("stops.txt", "51.5890", "abc"), r"feed\.zip: stops\.txt: stop_lat 'abc' on line 3 is not a number"),
    "bad sequence": (sub("stop_times.txt", "B,2", "B,two"),
                     r"feed\.zip: stop_times\.txt: stop_sequence 'two' on line 3 is not an integer"),
    "duplicate stop": (sub("stops.txt", "C,Gamma", "A,Gamma"), r"feed\.zip: stops\.txt: stop_id 'A' on line 4 repeats"),
    "duplicate sequence": (sub("stop_times.txt", "C,3", "C,2"), r"feed\.zip: stop_times\.txt: trip 'T1' repeats stop_sequence 2"),
    "empty trip id": (sub("trips.txt", "R1,WK,T2", "R1,WK,"), r"feed\.zip: trips\.txt: trip_id is empty on line 3"),
    "no calendar": (dict(drop=("calendar.txt",)), r"feed\.zip: calendar\.txt: missing or empty, and so is calendar_dates\.txt"),
    "calendar date": (sub("calendar.txt", "20240101", "2024-01-01"),
                      r"feed\.zip: calendar\.txt: start_date '2024-01-01' on line 2 is not a date YYYYMMDD"),
    "calendar flag": (sub("calendar.txt", "WK,1,1", "WK,1,2"), r"feed\.zip: calendar\.txt: tuesday 2 on line 2 must be 0 or 1"),
    "calendar order": (sub("calendar.txt", "20240101,20241231", "20241231,20240101"),
                       r"feed\.zip: calendar\.txt: end_date 20240101 on line 2 is before its start_date"),
    "exception type": (dict(calendar_dates__txt="service_id,date,exception_type\nWK,20240305,3\n"),
                       r"feed\.zip: calendar_dates\.txt: exception_type 3 on line 2 must be 1"),
    "ragged csv": (sub("stops.txt", "B,Beta,51.5890,-2.9850", "B,Beta,51.5890,-2.9850,x,y"),
                   r"feed\.zip: stops\.txt: cannot be read as CSV"),
    "untimed first stop": (sub("stop_times.txt", "T1,08:00:00,08:00:00", "T1,,"),
                           r"feed\.zip: stop_times\.txt: the first stop of trip 'T1' \(line 2\) has no arrival_time"),
    "pickup type": (dict(stop_times__txt=ST_HEAD.strip() + ",pickup_type\n" + "".join(
        line + (",7\n" if i == 1 else ",0\n") for i, line in enumerate(BASE["stop_times.txt"].splitlines()[1:]))),
        r"feed\.zip: stop_times\.txt: pickup_type 7 on line 3 must be 0, 1, 2 or 3"),
    "not utf-8": (dict(stops__txt=BASE["stops.txt"].replace("Beta", "B\u00e9ta").encode("latin-1")),
                  r"feed\.zip: stops\.txt: is not UTF-8 text"),
    "frequency time": (dict(frequencies__txt="trip_id,start_time,end_time,headway_secs\nT1,8:00,09:00:00,600\n"),
                       r"feed\.zip: frequencies\.txt: start_time '8:00' on line 2 is not HH:MM:SS"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_feed_raises_one_clear_gtfs_error(tmp_path, case):
    kw, pattern = CASES[case]
    path = feed_with(tmp_path, **kw)
    with pytest.raises(GTFSError, match=pattern) as info:
        read(path)
    msg = str(info.value)
    assert "\n" not in msg and msg.startswith("feed.zip: ")
    assert ".txt" in msg  # names the file inside the feed


def test_empty_service_day_says_which_dates_the_feed_covers(tmp_path):
    with pytest.raises(GTFSError, match=r"feed\.zip: calendar\.txt/calendar_dates\.txt: no trips run on 2024-03-09 "
                                        r"\(Saturday\); its calendar covers 2024-01-01 to 2024-12-31; the nearest date "
                                        r"with service is 2024-03-08 \(Friday\)"):
        read(feed_with(tmp_path), date="2024-03-09")
    with pytest.raises(GTFSError, match=r"no trips run on 2025-06-03 .* covers 2024-01-01 to 2024-12-31"):
        read(feed_with(tmp_path), date="2025-06-03")


def test_not_a_feed_at_all(tmp_path):
    (tmp_path / "notes.zip").write_text("this is not a zip")
    with pytest.raises(GTFSError, match=r"notes\.zip: is not a zip archive"):
        read(tmp_path / "notes.zip")
    other = write_zip(tmp_path / "photos.zip", {"cat.jpg": b"\xff\xd8", "readme.md": "hello"})
    with pytest.raises(GTFSError, match=r"photos\.zip: holds none of the GTFS files .* but cat\.jpg, readme\.md"):
        read(other)
    with pytest.raises(GTFSError, match=r"missing\.zip: no such file or folder"):
        read(tmp_path / "missing.zip")
    with pytest.raises(GTFSError, match=r"feed\.zip: stops\.txt: the file is missing or has no rows"):
        read(feed_with(tmp_path, stops__txt="stop_id,stop_name,stop_lat,stop_lon\n"))


def test_no_other_exception_escapes_on_mangled_feeds(tmp_path):
    """Random cell-level damage to a valid feed: read_gtfs either reads it or raises GTFSError."""
    rng = np.random.default_rng(7)
    junk = ["", "x", "-1", "99:99:99", "1e9", "NaN", '"', "A", "T1", "WK", "25:00:00", "0", "3.5", " "]
    outcomes = {"ok": 0, "GTFSError": 0}
    for k in range(40):
        files = dict(BASE)
        name = rng.choice(sorted(files))
        rows = [r.split(",") for r in files[name].strip().splitlines()]
        r = int(rng.integers(0, len(rows)))
        c = int(rng.integers(0, len(rows[r])))
        rows[r][c] = str(rng.choice(junk))
        files[name] = "\n".join(",".join(x) for x in rows) + "\n"
        path = write_zip(tmp_path / f"m{k}.zip", files)
        try:
            read(path)
            outcomes["ok"] += 1
        except GTFSError as e:
            assert "\n" not in str(e) and str(e).startswith(f"m{k}.zip: ")
            outcomes["GTFSError"] += 1
    assert outcomes["GTFSError"] > 10


# ------------------------------------------------------------------------------ real data

NEWPORT = "github/datasciencecampus/r5py-example/data/gtfs"


def _independent_counts(zpath: Path, date: str, start_s: int, horizon_s: int) -> dict:
    """Trips/stop times/stops kept, counted with plain zipfile + pandas (no gtfs-kit)."""
    with zipfile.ZipFile(zpath) as zf:
        read_ = lambda n: pd.read_csv(io.BytesIO(zf.read(n)), dtype=str, keep_default_na=False)  # noqa: E731
        cal, trips, st = read_("calendar.txt"), read_("trips.txt"), read_("stop_times.txt")
        cd = (read_("calendar_dates.txt") if "calendar_dates.txt" in zf.namelist()
              else pd.DataFrame(columns=["service_id", "date", "exception_type"]))
    day = dt.date.fromisoformat(date)
    ymd = day.strftime("%Y%m%d")
    wd = day.strftime("%A").lower()
    on = set(cal.loc[(cal[wd] == "1") & (cal["start_date"] <= ymd) & (cal["end_date"] >= ymd), "service_id"])
    on |= set(cd.loc[(cd["date"] == ymd) & (cd["exception_type"] == "1"), "service_id"])
    on -= set(cd.loc[(cd["date"] == ymd) & (cd["exception_type"] == "2"), "service_id"])
    tr = trips[trips["service_id"].isin(on)]
    s = st[st["trip_id"].isin(tr["trip_id"])].copy()
    sec = lambda c: s[c].str.split(":", expand=True).astype(int).dot([3600, 60, 1])  # noqa: E731
    s["a"], s["d"] = sec("arrival_time"), sec("departure_time")
    s = s[(s["d"] >= start_s) & (s["a"] <= horizon_s)]
    n = s.groupby("trip_id").size()
    s = s[s["trip_id"].isin(n[n >= 2].index)]
    assert s["a"].max() < 2 * 86400
    return {"trips": int((n >= 2).sum()), "stop_times": len(s), "stops": s["stop_id"].nunique(),
            "trips_on_date": len(tr), "trips_in_feed": len(trips)}


@pytest.fixture(scope="module")
def newport_paths(real_data):
    from lisgeo.catalog import resolve_file

    return resolve_file(f"{NEWPORT}/other_modalities.zip"), resolve_file(f"{NEWPORT}/rail.zip")


def test_reads_the_newport_feeds_with_independently_verified_counts(newport_paths):
    bus, rail = newport_paths
    f = read_gtfs([bus, rail], date="2024-03-05", start="07:00", end="09:00", max_time_min=120)
    start_s, horizon_s = 7 * 3600, 11 * 3600
    got = {info["name"]: info for info in f.info["feeds"]}
    totals = {"trips": 0, "stop_times": 0, "stops": 0}
    for path in (bus, rail):
        want = _independent_counts(path, "2024-03-05", start_s, horizon_s)
        g = got[path.name]
        assert (g["trips_kept"], g["stop_times_kept"], g["trips_on_date"], g["trips_in_feed"]) == (
            want["trips"], want["stop_times"], want["trips_on_date"], want["trips_in_feed"])
        assert g["trips_kept_from_day_before"] == 0  # no times past 31:00 the day before
        for k in totals:
            totals[k] += want[k]
    # the bus and rail feeds share no stop ids, so the stops add up; route ids collide and are prefixed
    assert (f.n_trips, f.n_stop_times, f.n_stops) == (totals["trips"], totals["stop_times"], totals["stops"])
    assert f.info["prefixed_id_kinds"] == ("route",)
    assert f.st_dep.min() >= start_s and f.st_arr.max() <= horizon_s
    # stop times increase along every trip; every stop lies in south Wales / the west of England and beyond
    tr = f.st_trip
    same = tr[1:] == tr[:-1]
    assert (f.st_arr[1:][same] >= f.st_dep[:-1][same]).all() and (f.st_dep >= f.st_arr).all()
    assert 100_000 < f.stop_x.min() and f.stop_x.max() < 700_000
    # one rail feed alone, with its own numbers
    r = read_gtfs(rail, date="2024-03-05")
    want = _independent_counts(rail, "2024-03-05", start_s, horizon_s)
    assert (r.n_trips, r.n_stop_times, r.n_stops) == (want["trips"], want["stop_times"], want["stops"])
    assert set(r.route_type) <= {2, 3}


def test_newport_bus_feed_has_no_service_on_a_date_outside_its_calendar(newport_paths):
    with pytest.raises(GTFSError, match=r"rail\.zip: .*no trips run on 2025-01-07 .* covers 2023-12-11 to 2024-05-31"):
        read_gtfs(newport_paths[1], date="2025-01-07")
