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


# --------------------------------------------------------------------------- job destinations beyond the region

def _raw_jobs_by_lad(lad: str) -> tuple[int, int]:
    """(number of MSOA 2011, jobs = workday - home) of a 2011 district, straight from the raw CSVs."""
    from lisgeo.catalog import resolve_dataset

    d = pd.read_csv(resolve_dataset("census2011_workplace_msoa")[0])
    m = pd.read_csv(resolve_dataset("census2011_workplace_msoa_metadata")[0])
    d = d[d["areacd"].isin(m.loc[m["parentcd"] == lad, "areacd"])]
    return len(d), int((d["workday"] - d["home"]).sum())


def test_national_jobs_msoa21_matches_polygon_method_and_raw_total(real_data):
    from lisgeo.catalog import resolve_dataset
    from lisgeo.layers.jobs import load_jobs_msoa21, national_jobs_msoa21

    n = national_jobs_msoa21()
    raw = pd.read_csv(resolve_dataset("census2011_workplace_msoa")[0])
    assert len(n) == 7264 and n["jobs"].notna().all()
    assert n["jobs"].sum() == pytest.approx(int((raw["workday"] - raw["home"]).sum()), abs=1e-6) == 21_625_060
    assert n["jobs_method"].value_counts().to_dict() == {"lookup": 7080, "split_population": 159, "merged": 19,
                                                         "recoded": 6}
    # inside the 25 districts the code/LSOA route gives exactly what the polygon route gives
    for region in ("d2n2", "llep"):
        p = load_jobs_msoa21(region=region)
        x = n.loc[p.index]
        assert (x["jobs_method"] == p["jobs_method"]).all()
        assert (x["jobs"] - p["jobs"]).abs().max() < 1e-6


@pytest.mark.parametrize("lad, name, methods", [
    ("E08000019", "Sheffield", {"lookup"}),
    ("E08000018", "Rotherham", {"lookup", "merged"}),
    ("E08000003", "Manchester", {"lookup", "split_population"}),
    ("E08000007", "Stockport", {"lookup"}),
    ("E07000219", "Nuneaton and Bedworth", {"lookup"}),
])
def test_destinations_conserve_out_of_region_district_totals(real_data, lad, name, methods):
    from lisgeo.layers.jobs import load_job_destinations
    from lisgeo.layers.people import read_census2021_population

    d = load_job_destinations(region="d2n2", buffer_km=60)
    sub = d[d["LADCD"] == lad]
    n21 = int((read_census2021_population(level="msoa")["parent"] == lad).sum())
    _, total = _raw_jobs_by_lad(lad)
    assert len(sub) == n21 > 0  # the whole district lies within 60 km
    assert (sub["level"] == "msoa21").all() and not sub["in_region"].any()
    assert sub["jobs"].sum() == pytest.approx(total, abs=1e-6)
    assert set(sub["jobs_method"]) == methods


def test_destinations_d2n2_60km_levels_and_no_double_count(real_data):
    from lisgeo.layers.jobs import load_job_destinations
    from lisgeo.layers.people import read_census2021_population
    from lisgeo.regions import DISTRICTS

    d = load_job_destinations(region="d2n2", buffer_km=60)
    assert list(d.columns) == ["dest_id", "level", "jobs", "jobs_method", "LADCD", "in_region", "geometry"]
    assert d.crs.to_epsg() == 27700 and (d.geom_type == "Point").all()
    assert d.index.is_unique and (d.index == d["dest_id"]).all()
    assert d["jobs"].notna().all() and (d["jobs"] >= 0).all()
    counts = d.groupby(["level", "in_region"]).size().to_dict()
    assert counts == {("lsoa21", False): 608, ("lsoa21", True): 1335, ("msoa21", False): 2107}
    assert d.loc[d["in_region"], "jobs"].sum() == pytest.approx(774_078, abs=1e-6)
    # Leicester's LSOAs are LSOA points (not in the region), with Leicester's whole total
    leic = d[d["LADCD"] == "E06000016"]
    from lisgeo.layers.boundaries import load_lsoa21

    assert len(leic) == len(load_lsoa21(region="E06000016")) == 200 and (leic["level"] == "lsoa21").all() and not leic["in_region"].any()
    assert leic["jobs"].sum() == pytest.approx(_raw_jobs_by_lad("E06000016")[1], abs=1e-6)
    # no area counted twice: the 25 districts only as LSOAs, and no MSOA point is the parent of an LSOA point
    assert set(d.loc[d["level"] == "msoa21", "LADCD"]).isdisjoint(DISTRICTS)
    assert set(d.loc[d["level"] == "lsoa21", "LADCD"]) <= set(DISTRICTS)
    parent = read_census2021_population(level="lsoa")["parent"]
    lsoa_parents = set(parent.reindex(d.index[d["level"] == "lsoa21"]))
    assert lsoa_parents.isdisjoint(d.index[d["level"] == "msoa21"])
    assert d.loc[d["level"] == "msoa21", "dest_id"].str.match(r"^E02").all()


def test_destinations_buffer_zero_is_the_region(real_data):
    from lisgeo.errors import LisgeoError
    from lisgeo.layers.jobs import load_job_destinations, load_jobs_lsoa21

    for region, n, total in [("d2n2", 1335, 774_078), ("llep", 608, 390_073)]:
        d = load_job_destinations(region=region, buffer_km=0)
        ref = load_jobs_lsoa21(region=region)
        assert len(d) == n and set(d.index) == set(ref.index)
        assert (d["level"] == "lsoa21").all() and d["in_region"].all()
        assert (d["jobs"] - ref["jobs"].reindex(d.index)).abs().max() < 1e-9
        assert d["jobs"].sum() == pytest.approx(total, abs=1e-6) == ref["jobs"].sum()
    with pytest.raises(LisgeoError, match="buffer_km"):
        load_job_destinations(region="d2n2", buffer_km=-1)


@pytest.mark.parametrize("region,buffer_km", [("d2n2", 30.0), ("llep", 60.0), ("d2n2", 0.0)])
def test_destinations_beyond_region_are_the_rows_outside(real_data, monkeypatch, region, buffer_km):
    """``beyond_region=True`` (what a network reads) gives exactly the rows with in_region False, in
    order, without working out the region's own jobs."""
    from lisgeo.layers import jobs

    full = jobs.load_job_destinations(region=region, buffer_km=buffer_km)
    asked = []
    real = jobs._jobs_tables
    monkeypatch.setattr(jobs, "_jobs_tables", lambda lads: asked.append(lads) or real(lads))
    outside = jobs.load_job_destinations(region=region, buffer_km=buffer_km, beyond_region=True)
    pd.testing.assert_frame_equal(outside, full[~full["in_region"]])
    assert outside.attrs == full.attrs
    assert tuple(get_region(region).lad_codes) not in asked  # the region's own jobs were not worked out
    if buffer_km == 0:
        assert outside.empty and not asked
    else:
        assert len(outside) > 100 and not outside["in_region"].any() and asked


@pytest.mark.parametrize("region", ["d2n2", "llep"])
def test_code_links_from_the_national_names_equal_the_districts_own(real_data, monkeypatch, region):
    """The LSOA 2021 -> MSOA 2011 links by code read the names from England and Wales's LSOA 2011
    table; the districts' own LSOA 2011 file (the path taken when that table cannot name them all)
    gives the same links, row for row."""
    import lisgeo.layers.jobs as J
    from lisgeo.layers.boundaries import load_lsoa21, load_msoa11

    lads = tuple(get_region(region).lad_codes)
    l21, m11 = load_lsoa21(region=lads), load_msoa11(region=lads)
    fast = J._code_links(l21["LSOA21CD"], m11, lads)
    read = []
    monkeypatch.setattr(J, "small_area_names", lambda *a: read.append(a) or __import__("lisgeo.layers.boundaries", fromlist=["x"]).small_area_names(*a))
    assert J._code_links(l21["LSOA21CD"], m11, lads) is not None and not read  # the national table named them all
    nat = J._lsoa11_to_msoa11()
    monkeypatch.setattr(J, "_lsoa11_to_msoa11", lambda: nat.assign(MSOA11CD=pd.NA))  # a table that names none of them
    own = J._code_links(l21["LSOA21CD"], m11, lads)
    assert read == [("lsoa11", lads)]
    pd.testing.assert_frame_equal(fast, own, check_exact=True)
    assert 0.9 * len(l21) < len(fast) < len(l21) and fast["MSOA11CD"].notna().all()  # a few LSOAs are new in 2021
