"""Deprivation layers: IoD 2025 (LSOA 2021) and IoD 2019 (LSOA 2011)."""

from __future__ import annotations

import gzip
import warnings

import pandas as pd
import pytest

from lisgeo.errors import LisgeoError, MissingColumnError
from lisgeo.layers.deprivation import _tidy_2019_domains, parse_number
from lisgeo.regions import get_region


def test_parse_number_thousands_separators():
    got = parse_number(pd.Series(["29,199", "7", " 1 296 ", "", None, "32,844"], dtype="string"))
    assert got.iloc[:3].tolist() == [29199.0, 7.0, 1296.0]
    assert got.isna().tolist() == [False, False, False, True, True, False]
    assert got.iloc[5] == 32844.0
    assert parse_number(pd.Series([3, 4])).tolist() == [3.0, 4.0]
    with pytest.raises(LisgeoError, match="cannot parse"):
        parse_number(pd.Series(["12a"]))


def test_tidy_2019_domains_hand_made():
    heads = ["LSOA code (2011)"]
    for d in ["Index of Multiple Deprivation (IMD)", "Income", "Employment", "Education, Skills and Training",
              "Health Deprivation and Disability", "Crime", "Barriers to Housing and Services", "Living Environment"]:
        heads += [f"{d} Rank (where 1 is most deprived)", f"{d} Decile (where 1 is most deprived 10% of LSOAs)"]
    row = ["E01000001"] + ["1,234", "1"] * 8
    out = _tidy_2019_domains(pd.DataFrame([row], columns=heads))
    assert out.loc[0, "imd_rank"] == 1234 and out.loc[0, "living_environment_decile"] == 1
    with pytest.raises(MissingColumnError, match="Crime"):
        _tidy_2019_domains(pd.DataFrame([row[:11]], columns=heads[:11]))


def test_imd2025_d2n2(real_data):
    import rdata

    from lisgeo.catalog import resolve_dataset
    from lisgeo.layers.deprivation import DOMAINS, load_imd2025

    g = load_imd2025(region="d2n2")
    assert len(g) == 1335 and g["imd_decile"].notna().all() and g["imd_score"].notna().all()
    for d in ("imd", *DOMAINS):
        for part in ("score", "rank", "decile"):
            assert f"{d}_{part}" in g.columns
    for c in ("transport_connectivity_score", "digital_connectivity", "geographical_barriers_score"):
        assert g[c].notna().all()
    assert g["imd_decile"].between(1, 10).all()
    # independent count of decile-1 LSOAs from the raw R file
    (path,) = resolve_dataset("imd2025_lsoa21")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        raw = next(iter(rdata.read_rda(str(path)).values()))
    raw = raw[raw["lsoa21_code"].isin(set(g.index))]
    assert len(raw) == 1335
    assert int((g["imd_decile"] == 1).sum()) == int((raw["IMD_decile"] == 1).sum()) == 138
    assert g.loc["E01013453", "imd_rank"] == raw.set_index("lsoa21_code").loc["E01013453", "IMD_rank"]


def test_imd2025_llep_all_joined(real_data):
    from lisgeo.layers.deprivation import load_imd2025

    g = load_imd2025(region="llep")
    assert len(g) == 608 and g["imd_rank"].notna().all()


def test_imd2019_against_file1(real_data):
    from lisgeo.catalog import resolve_dataset
    from lisgeo.layers.deprivation import load_imd2019

    g = load_imd2019(region="d2n2")
    assert g["imd_rank"].notna().all() and g["pop_2015"].notna().all()
    # independent: File 1 (ranks with thousands separators), filtered by its district column
    (path,) = resolve_dataset("imd2019_index")
    with gzip.open(path, "rt", encoding="utf-8-sig") as fh:
        raw = pd.read_csv(fh, dtype=str)
    raw = raw[raw["Local Authority District code (2019)"].isin(get_region("d2n2").lad_codes)]
    assert len(g) == len(raw) == 1321
    assert int((g["imd_decile"] == 1).sum()) == int((raw["Index of Multiple Deprivation (IMD) Decile"] == "1").sum()) == 133
    r = raw.set_index("LSOA code (2011)")["Index of Multiple Deprivation (IMD) Rank"].str.replace(",", "").astype(int)
    assert (g["imd_rank"].astype(int) == r.reindex(g.index)).all()
    assert g["road_km_gp"].gt(0).all()


@pytest.mark.parametrize("dataset", ["imd2019_lsoa11", "imd2019_lsoa11_indicators", "imd2025_lsoa21",
                                     "imd2025_lsoa21_indicators", "imd2025_lsoa21_subdomains"])
def test_rda_reader_equals_an_independent_parser(real_data, dataset):
    """lisgeo reads the IoD .rda files with pyreadr (compiled librdata); rdata (pure Python, a
    separate implementation) must give the same frame, value for value."""
    import rdata

    from lisgeo.catalog import resolve_dataset
    from lisgeo.layers.deprivation import read_rda_frame

    (path,) = resolve_dataset(dataset)
    got = read_rda_frame(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        (ref,) = rdata.read_rda(str(path)).values()
    ref = pd.DataFrame(ref).reset_index(drop=True)
    for c in ref.columns:
        if ref[c].dtype == object or isinstance(ref[c].dtype, pd.StringDtype):
            ref[c] = ref[c].astype(pd.StringDtype(na_value=pd.NA))
    pd.testing.assert_frame_equal(got, ref, check_exact=True)


def test_rda_reader_refuses_a_file_that_is_not_r_data(tmp_path):
    from lisgeo.errors import DataFormatError
    from lisgeo.layers.deprivation import read_rda_frame

    bad = tmp_path / "x.rda"
    bad.write_bytes(b"not an R file at all")
    with pytest.raises(DataFormatError, match="x.rda.*R data file"):
        read_rda_frame(bad)
