"""A planner's own rail timetable (ATOC CIF) in the network: its running times replace the sample's
where it runs a link; a bad file fails in one line before any work; no timetable at all models
every link."""

from __future__ import annotations

import zipfile

import pytest

from lisgeo.errors import CIFError


def _rec(kind: str, *fields: "tuple[int, str]") -> str:
    line = [" "] * 80
    line[0:2] = kind
    for col, text in fields:
        line[col - 1:col - 1 + len(text)] = text
    return "".join(line)


def _feed(tmp_path, minutes: int):
    """A one-train CIF feed, Monday to Friday: Nottingham 08:00 to Beeston ``minutes`` later, with the
    station file mapping the two TIPLOCs to their CRS codes (Nottingham NTNG, Beeston BESTON)."""
    arr = f"08{minutes:02d}"
    mca = "\n".join([
        _rec("HD", (3, "TPS.UCFCATE.PD2003202003202201DFTTISW       FA200320210321")),
        _rec("BS", (3, "N"), (4, "Z99999"), (10, "200316"), (16, "210320"), (22, "1111100"), (30, "P"), (31, "OO"),
             (33, "2Z99"), (37, "0000"), (51, "DMU"), (58, "075"), (80, "P")),
        _rec("BX", (12, "EM"), (14, "Y")),
        _rec("LO", (3, "NTNG"), (11, "0800 "), (16, "0800"), (30, "TB")),
        _rec("LT", (3, "BESTON"), (11, arr + " "), (16, arr), (26, "TF")),
        _rec("ZZ"),
    ]) + "\n"
    msn = "\n".join([
        "A                             FILE-SPEC=05 1.00 20/03/20 18.05.35   590".ljust(82),
        "A    NOTTINGHAM                    2NTNG   NOT   NOT14575 63393 8".ljust(82),
        "A    BEESTON                       1BESTON BEE   BEE14534 63362 5".ljust(82),
    ]) + "\n"
    path = tmp_path / "mine.zip"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("mine.mca", mca)
        z.writestr("mine.msn", msn)
    return path


def test_a_planners_timetable_replaces_the_samples_times(real_data, tmp_path):
    from lisgeo.layers.rail import rail_timetable
    from lisgeo.network import build_network

    seg, dw = rail_timetable(_feed(tmp_path, 17))
    assert seg[["from_crs", "to_crs", "run_min"]].values.tolist() == [["NOT", "BEE", 17.0]]
    base = build_network(region="E06000018", copy=False, cache=False)
    mine = build_network(region="E06000018", copy=False, cache=False, cif=_feed(tmp_path, 17))
    none = build_network(region="E06000018", copy=False, cache=False, cif=False)
    ride = {name: G["rail:NOT"]["arr:BEE"][0]["fastest_min"] for name, G in (("base", base), ("mine", mine), ("none", none))}
    # the sample's own Nottingham - Beeston (a few minutes), the planner's 17, the model's (about 5 km: 1.33 + ~4)
    assert ride["mine"] == pytest.approx(17.0) and ride["base"] < 10 and ride["none"] < 10 and ride["base"] != ride["none"]
    assert mine.graph["rail_timetable"].endswith("mine.zip") and none.graph["rail_timetable"] == "none (modelled)"
    assert base.graph["rail_timetable"] == "rail_cif_sample" and 0.85 < base.graph["rail_observed_share"] < 0.95
    assert none.graph["rail_observed_share"] == 0.0 and 0 < mine.graph["rail_observed_share"] < 0.01
    # links the planner's timetable does not run stay modelled (the same as with no timetable at all)
    assert mine["rail:DBY"]["arr:NOT"][0]["fastest_min"] == pytest.approx(none["rail:DBY"]["arr:NOT"][0]["fastest_min"])


def test_a_bad_timetable_fails_in_one_line_before_any_work(real_data, tmp_path):
    import subprocess
    import sys

    from lisgeo.network import build_network

    bad = tmp_path / "bad.zip"
    with zipfile.ZipFile(bad, "w") as z:
        z.writestr("readme.txt", "not a timetable")
    with pytest.raises(CIFError, match="bad.zip"):
        build_network(region="E06000018", cif=bad)
    r = subprocess.run([sys.executable, "-m", "lisgeo", "score", "--region", "E06000018", "--cif", str(bad), "-o", str(tmp_path / "out")],
                       capture_output=True, text=True)
    assert r.returncode == 2 and r.stderr.startswith("lisgeo: error:") and "bad.zip" in r.stderr
    assert "Traceback" not in r.stderr and r.stderr.count("\n") == 1
    assert not (tmp_path / "out").exists()
