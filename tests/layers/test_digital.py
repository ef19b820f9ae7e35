"""Digital layers: Ofcom broadband by district, IoD 2025 digital indicator, the coldspot rule."""

from __future__ import annotations

import csv
import tomllib
import warnings

import numpy as np
import pandas as pd
import pytest

from lisgeo.errors import LisgeoError, MissingColumnError, UnknownNameError
from lisgeo.layers.digital import (
    DEFAULT_RULE_PATH,
    OFCOM_COLUMNS,
    OFCOM_RELEASES,
    flag_coldspots,
    load_coldspot_rule,
)

NAN = float("nan")


# ----------------------------------------------------------------- the rule, on hand-made frames


def lad_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "LADCD": ["A", "B", "C", "D", "E"],
            "sfbb_pct": [96.0, 90.0, 99.0, 94.0, NAN],
            "gigabit_pct": [50.0, 50.0, 5.0, NAN, 20.0],
        }
    ).set_index("LADCD", drop=False)


def test_shipped_rule_is_a_rule_on_named_columns():
    data = tomllib.loads(DEFAULT_RULE_PATH.read_text())
    lad = {c["column"]: c for c in data["lad"]["conditions"]}
    assert data["lad"]["combine"] == "any"
    assert lad["sfbb_pct"]["op"] == "<" and lad["sfbb_pct"]["value"] == 95.0
    assert lad["gigabit_pct"]["op"] == "<" and lad["gigabit_pct"]["value"] == 10.0
    (lsoa,) = data["lsoa"]["conditions"]
    assert (lsoa["column"], lsoa["op"], lsoa["percentile"]) == ("digital_indicator", ">=", 90.0)


def test_default_lad_rule_by_hand():
    out = flag_coldspots(lad_frame(), level="lad")
    # A: fine; B: sfbb 90 < 95; C: gigabit 5 < 10; D: sfbb 94 < 95 (gigabit missing); E: gigabit 20 ok, sfbb missing
    assert out["coldspot"].tolist() == [False, True, True, True, False]
    assert out["coldspot_incomplete"].tolist() == [False, False, False, True, True]
    assert out.loc["A", "coldspot_reason"] == ""
    assert out.loc["B", "coldspot_reason"].startswith("sfbb_pct 90 < 95")
    assert "gigabit" not in out.loc["B", "coldspot_reason"]
    assert out.loc["C", "coldspot_reason"].startswith("gigabit_pct 5 < 10")
    assert out["coldspot"].dtype == bool
    # input untouched, index kept
    assert "coldspot" not in lad_frame().columns
    assert out.index.tolist() == list("ABCDE")


def test_custom_rule_dict_all_and_other_thresholds():
    rule = {
        "lad": {
            "combine": "all",
            "conditions": [
                {"column": "sfbb_pct", "op": "<=", "value": 96.0},
                {"column": "gigabit_pct", "op": "<", "value": 60.0, "label": "low gigabit"},
            ],
        }
    }
    out = flag_coldspots(lad_frame(), rule=rule, level="lad")
    # A 96<=96 & 50<60 -> True; B True; C 99 > 96 -> False; D gigabit NaN -> False; E sfbb NaN -> False
    assert out["coldspot"].tolist() == [True, True, False, False, False]
    assert out.loc["A", "coldspot_reason"] == "sfbb_pct 96 <= 96; gigabit_pct 50 < 60 (low gigabit)"
    # a single level's table works too
    out2 = flag_coldspots(lad_frame(), rule=rule["lad"], level="lad")
    assert out2["coldspot"].tolist() == out["coldspot"].tolist()


def test_rule_from_toml_path(tmp_path):
    p = tmp_path / "r.toml"
    p.write_text('[lad]\ncombine = "any"\n[[lad.conditions]]\ncolumn = "gigabit_pct"\nop = "<"\nvalue = 25\n')
    out = flag_coldspots(lad_frame(), rule=p, level="lad")
    assert out["coldspot"].tolist() == [False, False, True, False, True]


def test_percentile_threshold_uses_reference_not_the_frame():
    england = pd.DataFrame({"digital_indicator": np.arange(1.0, 11.0)})  # P90 (linear) = 9.1
    region = pd.DataFrame({"digital_indicator": [9.2, 9.5, 1.0, NAN]}, index=["r1", "r2", "r3", "r4"])
    rule = {"conditions": [{"column": "digital_indicator", "op": ">=", "percentile": 90}]}
    out = flag_coldspots(region, rule=rule, level="lsoa", reference=england)
    assert out["coldspot"].tolist() == [True, True, False, False]
    assert out.loc["r1", "coldspot_reason"] == "digital_indicator 9.2 >= 9.1 (P90 of reference)"
    # against the region itself the threshold would be higher and drop r1
    own = flag_coldspots(region, rule=rule, level="lsoa", reference=region)
    assert own["coldspot"].tolist() == [False, True, False, False]


def test_rule_errors_are_helpful():
    with pytest.raises(LisgeoError, match="pass reference"):
        flag_coldspots(lad_frame(), rule={"conditions": [{"column": "sfbb_pct", "op": "<", "percentile": 10}]}, level="lad")
    with pytest.raises(LisgeoError, match="exactly one of 'value' or 'percentile'"):
        load_coldspot_rule({"conditions": [{"column": "x", "op": "<", "value": 1, "percentile": 5}]})
    with pytest.raises(LisgeoError, match="'op'"):
        load_coldspot_rule({"conditions": [{"column": "x", "op": "=<", "value": 1}]})
    with pytest.raises(LisgeoError, match="combine"):
        load_coldspot_rule({"combine": "or", "conditions": []})
    with pytest.raises(MissingColumnError, match="fttp_pct"):
        flag_coldspots(lad_frame(), rule={"conditions": [{"column": "fttp_pct", "op": "<", "value": 1}]})
    with pytest.raises(UnknownNameError, match="lad, lsoa"):
        flag_coldspots(lad_frame(), level="ward")


def test_column_map_is_one_documented_dict():
    # every harmonised name is lower_snake_case or the GSS code column
    assert set(OFCOM_COLUMNS.values()) >= {"LADCD", "sfbb_pct", "ufbb_pct", "fttp_pct", "gigabit_pct",
                                          "below_10mbps_pct", "below_uso_pct", "premises"}
    assert OFCOM_COLUMNS["laua_code"] == OFCOM_COLUMNS["laua"] == "LADCD"
    assert OFCOM_COLUMNS["FTTP availability (% premises)"] == OFCOM_COLUMNS["Full Fibre availability (% premises)"]


# ----------------------------------------------------------------- real data


def _raw_row(release: str, code: str) -> dict[str, str]:
    """Read one authority's row straight from the raw Ofcom CSV (independently of lisgeo's reader)."""
    from lisgeo.catalog import resolve_dataset

    path = resolve_dataset(OFCOM_RELEASES[release][0])[0]
    with open(path, newline="", encoding="utf-8-sig") as fh:
        for row in csv.DictReader(fh):
            if row.get("laua", row.get("laua_code")) == code:
                return row
    raise AssertionError(f"{code} not in {path}")


def test_broadband_years_and_releases(real_data):
    from lisgeo.layers.digital import load_broadband, read_broadband

    nat = read_broadband()
    assert sorted(nat["release"].unique()) == ["2016", "2017", "2018", "2019", "2020", "2021", "2021-05"]
    assert sorted(nat["year"].unique()) == [2016, 2017, 2018, 2019, 2020, 2021]
    assert nat.groupby("release").size().to_dict() == {
        "2016": 391, "2017": 391, "2018": 391, "2019": 382, "2020": 382, "2021": 379, "2021-05": 374}
    g = load_broadband(region="d2n2_llep")
    assert len(g) == 25 * 6 and g.crs.to_epsg() == 27700
    assert g.groupby("LADCD")["year"].nunique().eq(6).all()
    assert set(g.loc[g["year"] == 2021, "release"]) == {"2021-05"}  # latest release of the year
    assert len(load_broadband(region="d2n2_llep", all_releases=True)) == 25 * 7
    assert g.index.is_unique and g.index[0] == "E06000015_2016"


def test_broadband_values_equal_the_raw_csv(real_data):
    from lisgeo.layers.digital import load_broadband

    g21 = load_broadband(region="d2n2", year=2021)
    assert len(g21) == 17 and g21.index.is_unique and "E07000035" in g21.index
    raw = _raw_row("2021-05", "E07000035")  # Derbyshire Dales, May 2021
    dd = g21.loc["E07000035"]
    assert dd["sfbb_pct"] == float(raw["SFBB availability (% premises)"]) == 89.9
    assert dd["gigabit_pct"] == float(raw["Gigabit availability (% premises)"])
    assert dd["below_uso_pct"] == float(raw["% of premises below the USO"])
    assert dd["premises"] == float(raw["All Premises"])
    # 2018: the raw SFBB column excludes ultrafast, so the harmonised sfbb_pct is SFBB + UFBB
    g18 = load_broadband(region="d2n2", year=2018)
    raw = _raw_row("2018", "E06000018")  # Nottingham
    nt = g18.loc["E06000018"]
    assert nt["sfbb_only_pct"] == float(raw["SFBB availability (% premises)"]) == 23.5
    assert nt["sfbb_pct"] == pytest.approx(23.5 + 74.6)
    assert nt["ufbb_pct"] == float(raw["UFBB availability (% premises)"])
    assert nt["fttp_pct"] == float(raw["Full Fibre availability (% premises)"])
    assert nt["premises"] == 140325


def test_sfbb_harmonisation_holds_in_every_release(real_data):
    from lisgeo.layers.digital import read_broadband

    nat = read_broadband()
    gap = (nat["sfbb_pct"] - (100 - nat["below_30mbps_pct"])).abs()
    med = gap.groupby(nat["release"]).median()
    assert (med < 0.6).all(), med.to_dict()


def test_missing_measures_are_nan_not_invented(real_data):
    from lisgeo.layers.digital import load_broadband

    g = load_broadband(region="d2n2")
    by = g.groupby("year")
    assert by["fttp_pct"].apply(lambda s: s.isna().all()).to_dict()[2016]
    assert by["gigabit_pct"].apply(lambda s: s.notna().sum()).to_dict() == {2016: 0, 2017: 0, 2018: 0, 2019: 0, 2020: 0, 2021: 17}
    assert by["premises"].apply(lambda s: s.isna().all()).to_dict() == {
        2016: True, 2017: True, 2018: False, 2019: False, 2020: False, 2021: False}
    assert g["below_10mbps_pct"].notna().all()


def test_unknown_year_lists_valid_years(real_data):
    from lisgeo.layers.digital import load_broadband

    with pytest.raises(UnknownNameError, match="2016, 2017, 2018, 2019, 2020, 2021"):
        load_broadband(region="d2n2", year=2015)


def test_broadband_rural_urban_and_coldspots(real_data):
    from lisgeo.layers.digital import load_broadband

    g = load_broadband(region="d2n2", year=2021)
    assert g.loc["E07000035", "ruc11"] == 1  # Derbyshire Dales: Mainly Rural
    assert g.loc["E06000018", "ruc11"] == 5  # Nottingham: Urban with Minor Conurbation
    assert g.loc["E06000015", "rural_pct"] == 0.0
    dd = g.loc["E07000035"]
    assert dd["coldspot"] and "sfbb_pct 89.9 < 95" in dd["coldspot_reason"] and "gigabit_pct 9 < 10" in dd["coldspot_reason"]
    assert not g.loc["E07000173", "coldspot"]  # Gedling: 98.6% superfast, 37% gigabit
    # by hand from the May 2021 file: superfast < 95 or gigabit < 10
    assert sorted(g.loc[g["coldspot"], "LADNM"]) == [
        "Ashfield", "Bassetlaw", "Bolsover", "Broxtowe", "Derbyshire Dales", "High Peak", "Mansfield",
        "North East Derbyshire", "South Derbyshire"]


def test_digital_lsoa21_all_d2n2_lsoas(real_data):
    import rdata

    from lisgeo.catalog import resolve_dataset
    from lisgeo.layers.digital import load_digital_lsoa21

    d = load_digital_lsoa21(region="d2n2")
    assert len(d) == 1335 and d.index.is_unique and d.crs.to_epsg() == 27700
    assert d["digital_indicator"].notna().all()
    # independent read of the raw R file
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        raw = next(iter(rdata.read_rda(resolve_dataset("imd2025_lsoa21_indicators")[0]).values()))
    col = "digital_connectivity_broadband_download_and_upload_speeds"
    raw = raw.set_index("lsoa21_code")[col]
    assert len(raw) == 33755
    assert (d["digital_indicator"] == raw.reindex(d.index).values).all()
    # coldspots: worst 10% of ENGLAND, not of the region
    p90 = float(np.nanpercentile(raw.values, 90))
    assert int(d["coldspot"].sum()) == int((d["digital_indicator"] >= p90).sum()) == 178
    assert int((d["digital_indicator"] >= d["digital_indicator"].quantile(0.9)).sum()) < 178
    assert int((d["digital_decile"] == 1).sum()) == 178
    # direction: higher = worse; rural High Peak is worse than Nottingham
    mean = d.groupby("LADNM")["digital_indicator"].mean()
    assert mean["High Peak"] > 1.0 > 0 > mean["Nottingham"]
