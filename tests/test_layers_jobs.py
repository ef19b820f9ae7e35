"""Jobs layers: apportionment helper, 2011 -> 2021 carry-over, commuting flows."""

from __future__ import annotations

import pandas as pd
import pytest

from lisgeo.errors import LisgeoError, MissingColumnError
from lisgeo.layers.jobs import _tidy_commuting, apportion, classify_links
from lisgeo.regions import get_region


def test_apportion_by_hand():
    values = pd.Series({"A": 100.0, "B": 30.0, "C": 0.0})
    links = pd.DataFrame({
        "source": ["A", "A", "B", "B", "Z"],
        "target": ["x", "y", "y", "y", "x"],  # B -> y twice: weights add
        "weight": [1.0, 3.0, 2.0, 1.0, 5.0],  # Z has no value: ignored
    })
    got = apportion(values, links)
    assert got.to_dict() == {"x": 25.0, "y": 105.0}
    assert got.sum() == values.sum()


def test_apportion_errors():
    values = pd.Series({"A": 10.0})
    with pytest.raises(MissingColumnError, match="weight"):
        apportion(values, pd.DataFrame({"source": ["A"], "target": ["x"]}))
    with pytest.raises(LisgeoError, match="no link of positive weight"):
        apportion(values, pd.DataFrame({"source": ["A"], "target": ["x"], "weight": [0.0]}))
    with pytest.raises(LisgeoError, match="≥ 0"):
        apportion(values, pd.DataFrame({"source": ["A"], "target": ["x"], "weight": [-1.0]}))
    out = apportion(values, pd.DataFrame({"s": ["A"], "t": ["x"], "w": [2]}), source="s", target="t", weight="w")
    assert out.to_dict() == {"x": 10.0}


def test_classify_links_by_hand():
    links = pd.DataFrame({
        "source": ["M1", "M2", "M3", "M4", "M5", "M5", "M6"],
        "target": ["M1", "N1", "N1", "N2", "N3", "N4", "N5"],
        "weight": [5, 1, 2, 4, 1, 3, 7],
    })
    got = classify_links(links).to_dict()
    assert got == {"M1": "lookup", "N1": "merged", "N2": "recoded", "N3": "split_population",
                   "N4": "split_population", "N5": "recoded"}
    with pytest.raises(MissingColumnError):
        classify_links(links.drop(columns="target"))


def _raw_jobs(region: str) -> int:
    """Jobs (workday - home) of the region's MSOA 2011, straight from the raw CSVs."""
    from lisgeo.catalog import resolve_dataset

    (data,) = resolve_dataset("census2011_workplace_msoa")
    (meta,) = resolve_dataset("census2011_workplace_msoa_metadata")
    d = pd.read_csv(data)
    m = pd.read_csv(meta)
    codes = m.loc[m["parentcd"].isin(get_region(region).lad_codes), "areacd"]
    d = d[d["areacd"].isin(codes)]
    return int((d["workday"] - d["home"]).sum())


@pytest.mark.parametrize("region, n_msoa, total", [("d2n2", 267, 774_078), ("llep", 122, 390_073)])
def test_jobs_conserved(real_data, region, n_msoa, total):
    from lisgeo.layers.jobs import load_jobs_lsoa21, load_jobs_msoa21

    assert _raw_jobs(region) == total
    m = load_jobs_msoa21(region=region)
    assert len(m) == n_msoa and m["jobs"].notna().all()
    assert m["jobs"].sum() == pytest.approx(total, abs=1e-6)
    lsoa = load_jobs_lsoa21(region=region)
    assert lsoa["jobs"].sum() == pytest.approx(total, abs=1e-6)
    assert lsoa.groupby("MSOA21CD")["jobs"].sum().sub(m["jobs"]).abs().max() < 1e-6
    assert lsoa["in_region"].all()


def test_jobs_methods(real_data):
    from lisgeo.layers.jobs import load_jobs_msoa21

    d = load_jobs_msoa21(region="d2n2")
    assert d["jobs_method"].value_counts().to_dict() == {"lookup": 265, "merged": 2}
    # Nottingham 027 + 032 (2011) -> Nottingham 041 (2021)
    raw = pd.read_csv(__import__("lisgeo.catalog", fromlist=["x"]).resolve_dataset("census2011_workplace_msoa")[0])
    raw = raw.set_index("areacd")
    want = (raw.loc[["E02002894", "E02002899"], "workday"] - raw.loc[["E02002894", "E02002899"], "home"]).sum()
    assert d.loc["E02007082", "jobs"] == want and d.loc["E02007082", "jobs_method"] == "merged"
    unchanged = d[d["jobs_method"] == "lookup"]
    assert (unchanged["jobs"] == (raw["workday"] - raw["home"]).reindex(unchanged.index)).all()
    l = load_jobs_msoa21(region="llep")
    split = l[l["jobs_method"] == "split_population"]
    assert sorted(split.index) == ["E02006964", "E02006965", "E02006966", "E02006967"]
    # Leicester 009 (2011) split into Leicester 042 + 043
    assert split.loc[["E02006964", "E02006965"], "jobs"].sum() == pytest.approx(
        raw.loc["E02002835", "workday"] - raw.loc["E02002835", "home"])


def test_jobs_buffer_adds_neighbours_with_data(real_data):
    from lisgeo.layers.jobs import load_jobs_lsoa21

    b = load_jobs_lsoa21(region="d2n2", buffer_km=10)
    assert int(b["in_region"].sum()) == 1335
    assert set(b.loc[~b["in_region"], "LADNM"]) == {"Charnwood", "Hinckley and Bosworth", "Melton",
                                                   "North West Leicestershire"}
    assert b["jobs"].notna().all()


def test_tidy_commuting_hand_made():
    raw = pd.DataFrame({
        "Lower tier local authorities code": ["E1", "E1", "E1", "E1", "E1"],
        "Lower tier local authorities label": ["a"] * 5,
        "LTLA of workplace code": ["-8", "888888888", "999999999", "E1", "E2"],
        "LTLA of workplace label": ["Does not apply", "off", "out", "a", "b"],
        "Place of work indicator (4 categories) code": [-8, 2, 2, 1, 3],
        "Count": [50, 1, 2, 3, 4],
    })
    out = _tidy_commuting(raw)
    assert out["work_LADCD"].tolist() == ["OFFSHORE", "OUTSIDE_UK", "HOME", "E2"]
    assert out["place_of_work"].tolist() == ["offshore", "outside_uk", "home", "workplace"]
    assert out["flow"].sum() == 10
    with pytest.raises(MissingColumnError, match="Count"):
        _tidy_commuting(raw.drop(columns="Count"))


def test_commuting_lad_totals(real_data):
    from lisgeo.catalog import resolve_dataset
    from lisgeo.layers.jobs import load_commuting_lad

    (path,) = resolve_dataset("census2021_commuting_lad")
    raw = pd.read_csv(path, dtype=str)
    raw["Count"] = raw["Count"].astype(int)
    lads = set(get_region("d2n2").lad_codes)
    pow_ = raw["Place of work indicator (4 categories) code"]
    home_in = raw["Lower tier local authorities code"].isin(lads)
    work_in = raw["LTLA of workplace code"].isin(lads) & (pow_ == "3")
    c = load_commuting_lad(region="d2n2")
    assert list(c.columns)[:5] == ["home_LADCD", "home_LADNM", "work_LADCD", "work_LADNM", "place_of_work"]
    # workers living in D2N2 (any place of work) + workers commuting in from outside
    want = raw.loc[home_in & (pow_ != "-8"), "Count"].sum() + raw.loc[~home_in & work_in, "Count"].sum()
    assert c["flow"].sum() == want
    assert c.loc[c["work_LADCD"] == "HOME", "flow"].sum() == raw.loc[home_in & (pow_ == "1"), "Count"].sum()
    inner = load_commuting_lad(region="d2n2", both=True)
    assert inner["flow"].sum() == raw.loc[home_in & (work_in | (pow_ == "1")), "Count"].sum()
    assert not inner["work_LADCD"].isin(["OFFSHORE", "OUTSIDE_UK"]).any()
