"""Social mobility layer: authored SMC values and the explicit name match."""

from __future__ import annotations

import pandas as pd
import pytest

from lisgeo.errors import LisgeoError, UnknownNameError
from lisgeo.layers.social import (
    SMC_INDICES,
    SOCIAL_MOBILITY_PATH,
    match_names,
    normalise_area_name,
    read_social_mobility,
)

GROUPS = {"Least Favourable", "Unfavourable", "Lower Middling", "Middling", "Upper Middling", "Favourable", "Most Favourable"}
ONS_UTLAS = ["Derby", "Derbyshire", "Leicester", "Leicestershire", "Nottingham", "Nottinghamshire"]


@pytest.mark.parametrize(
    "raw, key",
    [
        ("Leicestershire CC", "leicestershire"),
        ("Leicestershire County Council", "leicestershire"),
        ("Bristol, City of", "bristol"),
        ("City of Bristol", "bristol"),
        ("Brighton & Hove", "brighton and hove"),
        ("BRIGHTON AND HOVE", "brighton and hove"),
        ("Stoke-on-Trent", "stoke on trent"),
        ("King's Lynn and West Norfolk", "kings lynn and west norfolk"),
        ("  Derby  ", "derby"),
        ("Derbyshire", "derbyshire"),
    ],
)
def test_normalise_area_name(raw, key):
    assert normalise_area_name(raw) == key


def test_authored_csv_is_complete_and_sourced():
    df = read_social_mobility()
    assert SOCIAL_MOBILITY_PATH.name == "social_mobility.csv"
    assert len(df) == 6
    assert df[list(SMC_INDICES)].notna().all().all()
    assert df[list(SMC_INDICES)].abs().max().max() < 5  # Z-scores
    for c in SMC_INDICES:
        assert set(df[f"{c}_group"]) <= GROUPS
    assert df["source"].str.contains("State of the Nation 2025").all()
    assert df["source"].str.contains("CI4 3.0 promising prospects").all()
    assert df["vintage"].str.startswith("SoN 2025").all()


def test_all_six_utlas_match_the_authored_names():
    df = read_social_mobility()
    m = match_names(ONS_UTLAS, df["utla_name"])
    assert len(m) == 6
    assert m["Leicestershire"] == "Leicestershire CC"
    assert m["Derby"] == "Derby" and m["Derbyshire"] == "Derbyshire"  # never a prefix match


def test_misspelt_name_fails_with_both_sides_listed():
    with pytest.raises(UnknownNameError) as exc:
        match_names(["Derby", "Nottinghamshir"], ["Derby", "Nottinghamshire"])
    msg = str(exc.value)
    assert "Nottinghamshir'" in msg
    assert "Unmatched on the left: ['Nottinghamshir']" in msg
    assert "unmatched on the right: ['Nottinghamshire']" in msg


def test_unused_right_names_fail_only_when_required():
    with pytest.raises(UnknownNameError, match=r"right: \['Leicester'\]"):
        match_names(["Derby"], ["Derby", "Leicester"])
    assert match_names(["Derby"], ["Derby", "Leicester"], require_all_right=False) == {"Derby": "Derby"}


def test_ambiguous_names_are_refused():
    with pytest.raises(LisgeoError, match="same key"):
        match_names(["Bristol"], ["Bristol, City of", "City of Bristol"])


# ----------------------------------------------------------------- real data


def test_social_mobility_layer(real_data):
    from lisgeo.layers.boundaries import load_districts
    from lisgeo.layers.social import load_social_mobility

    s = load_social_mobility(region="d2n2_llep")
    assert s.crs.to_epsg() == 27700
    assert s.index.tolist() == ["E06000015", "E06000016", "E06000018", "E10000007", "E10000018", "E10000024"]
    assert s["UTLANM"].tolist() == ["Derby", "Leicester", "Nottingham", "Derbyshire", "Leicestershire", "Nottinghamshire"]
    assert s["n_districts"].tolist() == [1, 1, 1, 8, 7, 7]
    assert s.loc["E10000018", "smc_name"] == "Leicestershire CC"
    # values as published (SoN 2025 tables)
    assert s.loc["E10000007", "promising_prospects"] == -1.172
    assert s.loc["E10000007", "promising_prospects_group"] == "Unfavourable"
    assert s.loc["E06000016", "conditions_of_childhood"] == -1.801
    assert s[list(SMC_INDICES)].notna().all().all()
    # dissolved from the districts: same total area
    assert s.area.sum() == pytest.approx(load_districts(region="d2n2_llep").area.sum(), rel=1e-9)
    assert "Social Mobility Commission" in s.attrs["attribution"]
    d2n2 = load_social_mobility(region="d2n2")
    assert d2n2["UTLANM"].tolist() == ["Derby", "Nottingham", "Derbyshire", "Nottinghamshire"]


def test_misspelt_csv_name_fails_the_layer(real_data, tmp_path):
    from lisgeo.layers.social import load_social_mobility

    df = pd.read_csv(SOCIAL_MOBILITY_PATH)
    df.loc[df["utla_name"] == "Nottinghamshire", "utla_name"] = "Notinghamshire"
    p = tmp_path / "sm.csv"
    df.to_csv(p, index=False)
    with pytest.raises(UnknownNameError, match=r"unknown upper-tier authority 'Nottinghamshire'.*left: \['Nottinghamshire'\]; unmatched on the right: \[.*'Notinghamshire'\]"):
        load_social_mobility(region="d2n2", path=p)
