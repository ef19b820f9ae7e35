"""Reading ATOC CIF timetables (lisgeo.network.cif): a tiny hand-written feed with hand-computed
calls, running times and dwells; every bad-input case (a CIFError naming the file and the line);
and the real sample feed (ttisf585, 20 March 2020), checked against values read off the raw file."""

from __future__ import annotations

import time
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lisgeo.errors import DataFormatError, LisgeoError, MissingColumnError, ParameterError
from lisgeo.network.cif import CIFError, CifTimetable, cif_segments, read_cif, segment_times

# --------------------------------------------------------------------------------------------
# a tiny feed: records built field by field at their 1-based CIF columns


def rec(kind: str, *fields: "tuple[int, str]") -> str:
    """An 80-character record: ``kind`` in columns 1-2, each (column, text) placed at its 1-based column."""
    line = [" "] * 80
    line[0:2] = kind
    for col, text in fields:
        line[col - 1:col - 1 + len(text)] = text
    out = "".join(line)
    assert len(out) == 80
    return out


def bs(uid, stp, *, frm="200316", to="200320", days="1111100", status="P", cat="OO", tx="N", head="1A01",
       power="DMU", speed="100"):
    return rec("BS", (3, tx), (4, uid), (10, frm), (16, to), (22, days), (30, status), (31, cat), (33, head),
               (37, "0000"), (51, power), (58, speed), (80, stp))


def bx(atoc):
    return rec("BX", (12, atoc), (14, "Y"))


def lo(tiploc, dep, pub, act="TB"):
    return rec("LO", (3, tiploc), (11, dep), (16, pub), (30, act))


def li(tiploc, arr="", dep="", pas="", parr="0000", pdep="0000", act=""):
    return rec("LI", (3, tiploc), (11, arr), (16, dep), (21, pas), (26, parr), (30, pdep), (43, act))


def lt(tiploc, arr, pub, act="TF"):
    return rec("LT", (3, tiploc), (11, arr), (16, pub), (26, act))


SCHEDULES = [
    rec("HD", (3, "TPS.UCFCATE.PD2003202003202201DFTTISW       FA200320210321")),
    rec("TI", (3, "NTNG   "), (54, "NOT")),
    # 0: permanent, Mon-Fri, EM. Leaves Nottingham 23:50, crosses midnight before Long Eaton.
    bs("A00001", "P"), bx("EM"),
    lo("NTNG", "2350 ", "2350"),
    li("NTNGMJN", pas="2352H"),                                               # passing point: not a call
    li("BEESTON", "2355H", "2356H", parr="2356", pdep="2356", act="T"),       # half minutes (working times)
    li("ATTNBRO", "2358 ", "2359 ", act="N"),                                # stop not advertised: not a call
    rec("CR", (3, "ATTNBRO"), (11, "OO")),                                   # change en route: skipped
    li("LGEATON", "0003 ", "0004H", parr="0003", pdep="0004", act="T"),        # after midnight: +24 h
    lt("DRBY", "0015 ", "0015"),
    # 1: STP cancellation of A00001 on one day: no location records
    bs("A00001", "C", frm="200318", to="200318", days="0010000", status=" ", cat="  ", head="    ", power="   ",
       speed="   "),
    # 2: overlay of A00001 on 19 March: a morning run, set-down only at Long Eaton
    bs("A00001", "O", frm="200319", to="200319", days="0001000"), bx("EM"),
    lo("NTNG", "0800 ", "0800"),
    li("BEESTON", "0806 ", "0807 ", parr="0806", pdep="0807", act="T"),
    li("LGEATON", "0812 ", "0813 ", parr="0812", pdep="0000", act="D"),        # no public departure
    lt("DRBY", "0820 ", "0820"),
    # 3: a bus (status B, category BS): dropped
    bs("A00003", "P", status="B", cat="BS", power="   ", speed="   "), bx("EM"),
    lo("NTNG", "0900 ", "0900"),
    lt("DRBY", "0945 ", "0945"),
    # 4: a CrossCountry train, no speed given
    bs("A00004", "N", frm="200316", to="999999", cat="XX", speed="   "), bx("XC"),
    lo("NTNG", "1000 ", "1000"),
    li("BEESTON", "1005 ", "1006H", parr="1005", pdep="1006", act="T"),
    lt("DRBY", "1018 ", "1018"),
    rec("ZZ"),
]
MCA = "\r\n".join(SCHEDULES) + "\r\n"


def msn_line(name, tiploc, crs, east, north, mct):
    return rec("A ", (6, name), (36, "0"), (37, tiploc), (44, crs), (50, crs), (53, east), (59, north), (64, mct))


MSN = "\r\n".join([
    "A                             FILE-SPEC=05 1.00 20/03/20 18.05.35   590".ljust(80),
    msn_line("NOTTINGHAM", "NTNG", "NOT", "14575", "63393", " 8"),
    msn_line("BEESTON", "BEESTON", "BEE", "14533", "63363", " 3"),
    msn_line("ATTENBOROUGH", "ATTNBRO", "ATB", "14517", "63344", " 3"),
    msn_line("LONG EATON", "LGEATON", "LGE", "14481", "63319", " 3"),
    msn_line("DERBY", "DRBY", "DBY", "14362", "63356", " 6"),
    "L    NOTTINGHAM                    NOTTINGHAM".ljust(80),
    "-1-1-1-1",
]) + "\r\n"


def write_zip(path: Path, files: dict[str, str]) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, text in files.items():
            zf.writestr(name, text)
    return path


@pytest.fixture
def tiny(tmp_path) -> Path:
    return write_zip(tmp_path / "tiny.zip", {"tiny.mca": MCA, "tiny.msn": MSN, "tiny.ztr": "ignored"})


def mca_with(tmp_path: Path, records: list[str], name: str = "bad.mca") -> Path:
    p = tmp_path / name
    p.write_text("\n".join(records) + "\n")
    return p


# --------------------------------------------------------------------------------------------
# the tiny feed


def test_schedules_drop_the_cancellation_and_the_bus_and_keep_the_overlay(tiny):
    tt = read_cif(tiny)
    assert isinstance(tt, CifTimetable) and "tiny.zip: tiny.mca" in repr(tt)
    s = tt.schedules
    # BS records numbered in file order 0..4: 1 is the cancellation, 3 the bus
    assert s["schedule"].tolist() == [0, 2, 4]
    assert s["uid"].tolist() == ["A00001", "A00001", "A00004"]
    assert s["stp"].tolist() == ["P", "O", "N"]
    assert s["atoc"].tolist() == ["EM", "EM", "XC"]
    assert s["category"].tolist() == ["OO", "OO", "XX"]
    assert s["days"].tolist() == ["1111100", "0001000", "1111100"]
    assert s["runs_from"].tolist() == [pd.Timestamp("2020-03-16"), pd.Timestamp("2020-03-19"), pd.Timestamp("2020-03-16")]
    assert s["runs_to"].iloc[0] == pd.Timestamp("2020-03-20") and pd.isna(s["runs_to"].iloc[2])  # 999999: open-ended
    assert s["speed_mph"].iloc[0] == 100.0 and np.isnan(s["speed_mph"].iloc[2])
    assert s["headcode"].iloc[0] == "1A01" and s["power"].iloc[0] == "DMU"
    info = tt.info
    assert (info["schedules_read"], info["cancellations"], info["non_passenger_dropped"], info["schedules"]) == (5, 1, 1, 3)
    assert info["uids_in_several_schedules"] == 1  # A00001: permanent and overlay, not de-duplicated
    assert info["schedules_crossing_midnight"] == 1
    assert (info["passing_points_skipped"], info["non_public_stops_skipped"]) == (1, 1)
    assert info["calls"] == 4 + 4 + 3 and info["unknown_tiplocs"] == 0 and info["station_file"] == "tiny.msn"
    with pytest.raises(TypeError):
        info["calls"] = 0  # read-only


def test_calls_hand_computed(tiny):
    c = read_cif(tiny).calls
    first = c[c["schedule"] == 0]
    # the passing point NTNGMJN and the unadvertised stop ATTNBRO are not calls
    assert first["tiploc"].tolist() == ["NTNG", "BEESTON", "LGEATON", "DRBY"]
    assert first["crs"].tolist() == ["NOT", "BEE", "LGE", "DBY"]
    assert first["seq"].tolist() == [0, 1, 2, 3]
    nan = np.nan
    # public: 23:50 = 1430; 23:56 = 1436; 00:03 and 00:04 the next day = 1443, 1444; 00:15 = 1455
    np.testing.assert_array_equal(first["arr_min"], [nan, 1436, 1443, 1455])
    np.testing.assert_array_equal(first["dep_min"], [1430, 1436, 1444, nan])
    # working: 2355H = 1435.5, 2356H = 1436.5, 0004H the next day = 1444.5
    np.testing.assert_array_equal(first["wtt_arr_min"], [nan, 1435.5, 1443, 1455])
    np.testing.assert_array_equal(first["wtt_dep_min"], [1430, 1436.5, 1444.5, nan])
    assert first["activity"].tolist() == ["TB", "T", "T", "TF"]
    overlay = c[c["schedule"] == 2]
    np.testing.assert_array_equal(overlay["arr_min"], [nan, 486, 492, 500])
    np.testing.assert_array_equal(overlay["dep_min"], [480, 487, nan, nan])  # Long Eaton: set down only
    assert overlay["activity"].tolist()[2] == "D"


def test_segments_hand_computed(tiny):
    tt = read_cif(tiny)
    seg = cif_segments(tt)
    got = seg[["schedule", "from_crs", "to_crs", "dep_min", "arr_min", "run_min", "dwell_min", "seq"]]
    want = pd.DataFrame({
        "schedule": [0, 0, 0, 2, 2, 4, 4],
        "from_crs": ["NOT", "BEE", "LGE", "NOT", "BEE", "NOT", "BEE"],
        "to_crs": ["BEE", "LGE", "DBY", "BEE", "LGE", "BEE", "DBY"],
        "dep_min": [1430, 1436, 1444, 480, 487, 600, 606],
        "arr_min": [1436, 1443, 1455, 486, 492, 605, 618],
        # across midnight: Beeston 23:56 -> Long Eaton 00:03 is 7 minutes
        "run_min": [6, 7, 11, 6, 5, 5, 12],
        "dwell_min": [np.nan, 0, 1, np.nan, 1, np.nan, 1],
        "seq": [0, 1, 2, 0, 1, 0, 1],
    })
    pd.testing.assert_frame_equal(got.astype({c: object for c in ("from_crs", "to_crs")}),
                                  want.astype({c: object for c in ("from_crs", "to_crs")}), check_dtype=False)
    assert seg["n_calls"].tolist() == [4, 4, 4, 4, 4, 3, 3]
    assert seg["first_crs"].tolist() == ["NOT"] * 7 and seg["last_crs"].tolist() == ["DBY"] * 7
    assert seg["uid"].tolist()[-1] == "A00004" and seg["atoc"].tolist()[-1] == "XC"
    assert seg["from_tiploc"].tolist()[0] == "NTNG" and seg["to_tiploc"].tolist()[0] == "BEESTON"
    # the overlay's Long Eaton (set down only) -> Derby has no public departure
    assert seg.attrs["dropped_missing_time"] == 1 and seg.attrs["pairs"] == 8 and seg.attrs["segments"] == 7

    wtt = cif_segments(tt, by="working")
    first = wtt[wtt["schedule"] == 0]
    # 1430 -> 1435.5; dwell 1436.5 - 1435.5 = 1, then 1443 - 1436.5; dwell 1444.5 - 1443 = 1.5, then 1455 - 1444.5
    np.testing.assert_array_equal(first["run_min"], [5.5, 6.5, 10.5])
    np.testing.assert_array_equal(first["dwell_min"], [np.nan, 1.0, 1.5])
    assert len(wtt) == 8 and wtt.attrs["dropped_missing_time"] == 0


def test_segment_times_hand_computed(tiny):
    st = segment_times(cif_segments(read_cif(tiny))).set_index(["from_crs", "to_crs"])
    assert list(st.index) == [("BEE", "DBY"), ("BEE", "LGE"), ("LGE", "DBY"), ("NOT", "BEE")]
    nb = st.loc[("NOT", "BEE")]
    assert (nb["run_min"], nb["run_min_min"], nb["n"], nb["operators"]) == (6.0, 5.0, 3, "EM;XC")  # 6, 6, 5
    assert np.isnan(nb["dwell_from_min"])  # every one leaves from its origin
    bl = st.loc[("BEE", "LGE")]
    assert (bl["run_min"], bl["run_min_min"], bl["n"], bl["dwell_from_min"]) == (6.0, 5.0, 2, 0.5)  # 7, 5; dwells 0, 1
    assert st.loc[("BEE", "DBY"), "run_min"] == 12.0 and st.loc[("BEE", "DBY"), "operators"] == "XC"
    assert ("BEE", "NOT") not in st.index  # direction matters
    mean = segment_times(cif_segments(read_cif(tiny)), stat="mean").set_index(["from_crs", "to_crs"])
    assert mean.loc[("NOT", "BEE"), "run_min"] == pytest.approx(17 / 3)
    mx = segment_times(cif_segments(read_cif(tiny)), stat="max").set_index(["from_crs", "to_crs"])
    assert mx.loc[("BEE", "LGE"), "run_min"] == 7.0


def test_stations_from_the_msn(tiny):
    s = read_cif(tiny).stations
    assert s["tiploc"].tolist() == ["NTNG", "BEESTON", "ATTNBRO", "LGEATON", "DRBY"]  # header and L records skipped
    row = s.iloc[0]
    # easting 14575 -> (14575 - 10000) * 100, northing 63393 -> (63393 - 60000) * 100
    assert (row["crs"], row["name"], row["easting"], row["northing"], row["min_change_min"]) == (
        "NOT", "NOTTINGHAM", 457500.0, 339300.0, 8.0)


def test_all_schedules_and_other_paths(tiny, tmp_path):
    every = read_cif(tiny, passenger_only=False)
    assert every.schedules["uid"].tolist() == ["A00001", "A00001", "A00003", "A00004"]
    assert every.info["non_passenger_dropped"] == 0
    # a folder and a bare .mca (with and without its station file)
    folder = tmp_path / "feed"
    folder.mkdir()
    (folder / "tiny.mca").write_text(MCA)
    (folder / "tiny.msn").write_text(MSN)
    a = read_cif(tiny).calls
    pd.testing.assert_frame_equal(read_cif(folder).calls, a)
    pd.testing.assert_frame_equal(read_cif(folder / "tiny.mca", msn=folder / "tiny.msn").calls, a)
    bare = read_cif(folder / "tiny.mca")
    assert bare.calls["crs"].isna().all() and len(bare.stations) == 0
    assert bare.info["station_file"].startswith("none") and bare.info["unknown_tiplocs"] is None
    pd.testing.assert_frame_equal(bare.calls.drop(columns="crs"), a.drop(columns="crs"))
    # Unix line ends and records with their trailing spaces dropped read the same
    (folder / "tiny.mca").write_text("\n".join(r.rstrip() for r in SCHEDULES) + "\n")
    pd.testing.assert_frame_equal(read_cif(folder).calls, a)


def test_unknown_tiploc_has_na_crs(tmp_path):
    recs = [bs("B00001", "P"), bx("EM"), lo("NTNG", "1000 ", "1000"), lt("NOWHERE", "1010 ", "1010")]
    p = write_zip(tmp_path / "u.zip", {"u.mca": "\n".join(recs), "u.msn": MSN})
    tt = read_cif(p)
    assert tt.calls["crs"].isna().tolist() == [False, True]
    assert tt.info["unknown_tiplocs"] == 1 and tt.info["calls_without_crs"] == 1
    seg = cif_segments(tt)
    assert len(seg) == 1 and seg.attrs["unknown_crs"] == 1
    st = segment_times(seg)
    assert len(st) == 0 and st.attrs["unknown_crs_dropped"] == 1


# --------------------------------------------------------------------------------------------
# bad input: one line naming the file and the line


def test_truncated_record(tmp_path):
    recs = SCHEDULES.copy()
    recs[6] = recs[6][:25]  # LI BEESTON cut inside its public arrival (line 7)
    with pytest.raises(CIFError, match=r"^bad\.mca: line 7: LI record is 25 characters long.*truncated") as e:
        read_cif(mca_with(tmp_path, recs))
    assert "\n" not in str(e.value)
    recs = SCHEDULES.copy()
    recs[6] = recs[6] + "XX"
    with pytest.raises(CIFError, match=r"line 7: record is 82 characters long"):
        read_cif(mca_with(tmp_path, recs))


def test_malformed_time(tmp_path):
    recs = SCHEDULES.copy()
    recs[6] = li("BEESTON", "23x5H", "2356H", parr="2356", pdep="2356", act="T")
    with pytest.raises(CIFError, match=r"^bad\.mca: line 7: LI scheduled arrival '23x5H' \(columns 11-15\) is not a time"):
        read_cif(mca_with(tmp_path, recs))
    recs[6] = li("BEESTON", "2355H", "2356H", parr="2366", pdep="2356", act="T")
    with pytest.raises(CIFError, match=r"line 7: LI public arrival '2366' \(columns 26-29\) is not a public time"):
        read_cif(mca_with(tmp_path, recs))
    recs = SCHEDULES.copy()
    recs[2] = bs("A00001", "P", frm="200231")
    with pytest.raises(CIFError, match=r"line 3: BS date runs from '200231'"):
        read_cif(mca_with(tmp_path, recs))


def test_location_records_out_of_order(tmp_path):
    with pytest.raises(CIFError, match=r"^bad\.mca: line 2: LI \(intermediate\) record outside a schedule \(no BS and LO"):
        read_cif(mca_with(tmp_path, [SCHEDULES[0], li("BEESTON", pas="0800 "), *SCHEDULES[2:]]))
    with pytest.raises(CIFError, match=r"line 2: LO \(origin\) record before its schedule's BS record"):
        read_cif(mca_with(tmp_path, [SCHEDULES[0], lo("NTNG", "0800 ", "0800"), *SCHEDULES[2:]]))
    with pytest.raises(CIFError, match=r"line 4: LT \(terminus\) record outside a schedule \(no LO"):
        read_cif(mca_with(tmp_path, [SCHEDULES[0], bs("A00009", "P"), bx("EM"), lt("DRBY", "0900 ", "0900")]))
    with pytest.raises(CIFError, match=r"line 5: BS record while the schedule of the LO on line 3 has no LT"):
        read_cif(mca_with(tmp_path, [bs("A00009", "P"), bx("EM"), lo("NTNG", "0800 ", "0800"),
                                     li("BEESTON", pas="0804 "), bs("A00010", "P")]))
    with pytest.raises(CIFError, match=r"line 3: the file ends inside the schedule whose LO is on line 3"):
        read_cif(mca_with(tmp_path, [bs("A00009", "P"), bx("EM"), lo("NTNG", "0800 ", "0800")]))


def test_not_a_feed(tmp_path):
    with pytest.raises(CIFError, match=r"^nothing\.zip: no such file or folder"):
        read_cif(tmp_path / "nothing.zip")
    other = tmp_path / "notes.txt"
    other.write_text("hello")
    with pytest.raises(CIFError, match=r"^notes\.txt: is neither a zip archive, a folder nor a \.mca/\.cif"):
        read_cif(other)
    with pytest.raises(CIFError, match=r"^stations\.zip: holds no schedule file \(\*\.mca or \*\.cif\) but stations\.msn"):
        read_cif(write_zip(tmp_path / "stations.zip", {"stations.msn": MSN}))
    with pytest.raises(CIFError, match=r"holds several schedule files \(a\.mca, b\.cif\)"):
        read_cif(write_zip(tmp_path / "two.zip", {"a.mca": MCA, "b.cif": MCA}))
    with pytest.raises(CIFError, match=r"^text\.mca: line 1: unknown record type 'he'"):
        read_cif(mca_with(tmp_path, ["hello world"], "text.mca"))
    with pytest.raises(CIFError, match=r"has no BS \(basic schedule\) records"):
        read_cif(mca_with(tmp_path, [SCHEDULES[0], rec("ZZ")]))
    with pytest.raises(CIFError, match=r"is empty"):
        read_cif(mca_with(tmp_path, [""]))
    # every CIFError is a DataFormatError, and so a LisgeoError and a ValueError
    assert issubclass(CIFError, DataFormatError) and issubclass(CIFError, LisgeoError)


def test_bad_options(tiny):
    tt = read_cif(tiny)
    with pytest.raises(ParameterError, match="by must be 'public' or 'working'"):
        cif_segments(tt, by="wtt")
    with pytest.raises(ParameterError, match="stat must be one of"):
        segment_times(cif_segments(tt), stat="p99")
    with pytest.raises(MissingColumnError, match="run_min"):
        segment_times(cif_segments(tt).drop(columns="run_min"))
    with pytest.raises(ParameterError, match="passenger_only"):
        read_cif(tiny, passenger_only="yes")
    with pytest.raises(ParameterError, match="CifTimetable"):
        cif_segments(tt.calls)


# --------------------------------------------------------------------------------------------
# the real sample: ttisf585 (20 March 2020), the first 20,000 BS records of the national file


@pytest.fixture(scope="module")
def sample(real_data):
    from lisgeo.catalog import resolve_dataset

    path = resolve_dataset("rail_cif_sample")[0]
    t0 = time.perf_counter()
    tt = read_cif(path)
    return tt, time.perf_counter() - t0, path


@pytest.mark.realdata
def test_sample_reads_fast_with_the_counts_of_the_raw_file(sample):
    tt, seconds, path = sample
    # a vectorised read takes well under a second; a row loop would take tens of seconds
    assert seconds < 20
    # `cut -c1-2 example.mca | sort | uniq -c`: 20000 BS, 16019 LO, 16019 LT; `grep ^BS | cut -c80`: 3981 C
    assert (tt.info["records"], tt.info["schedules_read"], tt.info["cancellations"]) == (382577, 20000, 3981)
    every = read_cif(path, passenger_only=False)
    assert len(every.schedules) == 16019 == 20000 - 3981
    # `grep ^BS | cut -c30`: status 5 (STP bus) 5266, B (bus) 42, S (ship) 15; every other is P/1 with OO/XX/XZ
    assert tt.info["non_passenger_dropped"] == 5266 + 42 + 15
    assert len(tt.schedules) == 16019 - 5323 == 10696
    assert tt.info["uids_in_several_schedules"] == 221  # overlays and permanent schedules of the same UID, all kept
    assert len(tt.stations) == 3191 and tt.info["station_duplicate_tiplocs"] == 0
    assert tt.calls.groupby("schedule")["seq"].apply(lambda s: (np.diff(s.to_numpy()) == 1).all()).all()


@pytest.mark.realdata
def test_sample_segments_match_the_raw_file(sample):
    tt, _, _ = sample
    seg = cif_segments(tt)
    assert (seg["run_min"] > 0).all()
    known = seg["from_crs"].notna() & seg["to_crs"].notna()
    assert seg.loc[known, "from_crs"].str.fullmatch("[A-Z]{3}").all()
    assert seg.loc[known, "to_crs"].str.fullmatch("[A-Z]{3}").all()
    # 22 segments touch one of 7 TIPLOCs absent from the station file (junctions such as HETNLJN, ABHLJN)
    assert (~known).sum() == seg.attrs["unknown_crs"] == 22
    # BS line 149195 (UID C64428, overlay, EM, Liverpool - Norwich, 17-20 Mar 2020), raw records:
    #   line 149235  LINTNG    0925 0934      092709341B       T -D
    #   line 149241  LIGTHM    1006 1011H     100610114        T
    # (every LI in between has public times 00000000: passing points). Nottingham: public arrival
    # 09:27, departure 09:34; Grantham public arrival 10:06. Run 10:06 - 09:34 = 32 min; dwell at
    # Nottingham 09:34 - 09:27 = 7 min (working: 09:34 - 09:25 = 9 min; run 10:06 - 09:34 = 32 min).
    one = seg[(seg["uid"] == "C64428") & (seg["from_crs"] == "NOT")]
    assert one[["to_crs", "dep_min", "arr_min", "run_min", "dwell_min"]].values.tolist() == [["GRA", 574, 606, 32, 7]]
    assert (one["atoc"].iloc[0], one["category"].iloc[0]) == ("EM", "XX")
    w = cif_segments(tt, by="working")
    w1 = w[(w["uid"] == "C64428") & (w["from_crs"] == "NOT")]
    assert w1[["run_min", "dwell_min"]].values.tolist() == [[32, 9]]

    st = segment_times(seg).set_index(["from_crs", "to_crs"])
    assert st.reset_index()["from_crs"].str.fullmatch("[A-Z]{3}").all()
    # Medians, minima and counts computed independently off example.mca with awk (passenger status
    # P/1 and category O*/X*, consecutive calls with public times, public arrival at the second minus
    # public departure at the first), e.g. Nottingham -> Grantham: 32 33 31 32 31 30 33 31 30 30.
    want = {("NOT", "GRA"): (31.0, 30.0, 10), ("SHF", "CHD"): (11.0, 11.0, 65), ("CHD", "SHF"): (15.0, 12.0, 64),
            ("LEI", "MHR"): (12.5, 12.0, 34), ("DBY", "LEI"): (20.0, 20.0, 1)}
    for pair, (median, fastest, n) in want.items():
        row = st.loc[pair]
        assert (row["run_min"], row["run_min_min"], row["n"]) == (median, fastest, n), pair
    assert st.loc[("NOT", "GRA"), "operators"] == "EM"
    assert st.loc[("SHF", "CHD"), "operators"] == "EM;XC"
