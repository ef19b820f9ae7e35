"""Any set of the districts in the data works end to end (issue 22).

Every one of the 25 districts of D2N2 and Leicester & Leicestershire scores alone, with its claims;
a claim the region's data cannot answer is a row marked ``not applicable`` with the reason, never a
failure of the command; a region without strategy figures says so in ``note``.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest
import shapely

from lisgeo.cli import main
from lisgeo.pipeline import claims as claims_mod
from lisgeo.pipeline.claims import CLAIM_COLUMNS, COMPUTED, NOT_APPLICABLE, recompute_claims
from lisgeo.regions import DISTRICTS, get_region

pytestmark = pytest.mark.realdata
NO_FIGURE = "no strategy figure for this region"


@pytest.mark.slow
def test_every_district_alone_scores_with_its_claims(real_data):
    """All 25 districts, one at a time, in one process (about a minute on 2 busy cores: the layers,
    read once, are shared; each district builds its own network and matrices)."""
    from lisgeo.pipeline import score_region

    took, failed = {}, {}
    for code in sorted(DISTRICTS):
        t0 = time.perf_counter()
        try:
            gdf = score_region(region=code)
            c = recompute_claims(code)
        except Exception as exc:  # collect every district that fails, not only the first
            failed[code] = f"{type(exc).__name__}: {exc}"
            continue
        took[code] = time.perf_counter() - t0
        name = DISTRICTS[code][0]
        assert len(gdf) > 20 and (gdf["LADCD"] == code).all() and (gdf["LADNM"] == name).all(), code
        # the times and counts every district's LSOAs should have: nothing unreachable within England
        for col in ("tt_car_hs2_toton", "tt_car_ema", "tt_car_nearest_station", "tt_rail_london", "connectivity_index"):
            assert gdf[col].notna().all(), f"{name} ({code}): {col} has NaN"
        assert (gdf["jobs_car_45"] > 0).all(), code
        assert gdf["connectivity_decile"].between(1, 10).all(), code
        assert list(c.columns) == list(CLAIM_COLUMNS) and len(c) == 4, code
        assert (c["status"] == COMPUTED).all() and c["computed_value"].notna().all(), (code, c[["status", "note"]])
        assert c["strategy_figure"].isna().all() and c["note"].str.contains(NO_FIGURE).all(), code
    assert not failed, f"districts that do not score alone: {failed}"
    print(f"25 districts scored alone in {sum(took.values()):.0f} s (slowest {max(took, key=took.get)}: {max(took.values()):.1f} s)")


def test_leicester_alone_from_the_command_line(real_data, tmp_path, capsys):
    """``lisgeo score --region E06000016 -o x`` (it used to fail after 27 s on the drive-time claim)."""
    out = tmp_path / "x"
    assert main(["score", "--region", "E06000016", "-o", str(out)]) == 0, capsys.readouterr().err
    assert sorted(p.name for p in out.iterdir()) == ["claims.csv", "provenance.json", "scores.csv", "scores.gpkg"]
    c = pd.read_csv(out / "claims.csv", keep_default_na=False, na_values=[""])
    assert list(c.columns) == list(CLAIM_COLUMNS) and len(c) == 4
    assert set(c["status"]) <= {COMPUTED, NOT_APPLICABLE}
    assert c["note"].str.contains(NO_FIGURE).all()
    assert len(pd.read_csv(out / "scores.csv")) == 200


def test_two_districts_apart_score(real_data):
    """High Peak and Oadby and Wigston (60 km apart, no shared border): one region, one run."""
    from lisgeo.pipeline import score_region

    gdf = score_region(region="E07000037,E07000135")
    assert set(gdf["LADCD"]) == {"E07000037", "E07000135"} and gdf["tt_rail_london"].notna().all()
    c = recompute_claims("E07000135,E07000037")
    assert (c["status"] == COMPUTED).all() and c["note"].str.contains(NO_FIGURE).all()


def test_the_strategy_figures_go_with_the_districts_not_the_name(real_data):
    d2n2 = recompute_claims("d2n2")
    assert (d2n2["status"] == COMPUTED).all() and (d2n2["note"] == "").all()
    assert d2n2["strategy_figure"].tolist() == [9_000_000, 80.0, 87.0, 92.0]
    codes = ",".join(reversed(get_region("d2n2").lad_codes))  # the same 17 districts, listed
    pd.testing.assert_frame_equal(recompute_claims(codes), d2n2)


def test_a_claim_the_region_cannot_answer_is_not_applicable(real_data, monkeypatch):
    """A region with no motorway or A-road junction inside it (here: a 200 m square of the Peak
    District moors stands in for the region's outline) and no commuting flows: the drive-time and
    commuting claims are rows marked not applicable with the reason; the ring count still computes."""
    import lisgeo.layers.boundaries as boundaries
    import lisgeo.layers.jobs as jobs

    moor = shapely.box(410_000, 390_000, 410_200, 390_200)  # on Kinder Scout: no junction inside
    monkeypatch.setattr(boundaries, "region_outline", lambda reg: moor)
    monkeypatch.setattr(jobs, "load_commuting_lad", lambda region: pd.DataFrame(
        {"home_LADCD": pd.Series(dtype=str), "work_LADCD": pd.Series(dtype=str), "place_of_work": pd.Series(dtype=str),
         "flow": pd.Series(dtype=float)}))
    c = recompute_claims("E07000037", cache=False).set_index("claim")
    assert list(c.reset_index().columns) == list(CLAIM_COLUMNS)
    ring = c.iloc[0]
    assert ring["status"] == COMPUTED and ring["computed_value"] > 1e6
    drive = c.filter(like="hours' drive", axis=0).iloc[0]
    assert drive["status"] == NOT_APPLICABLE and np.isnan(drive["computed_value"])
    assert "no motorway or A-road junction lies inside the region" in drive["note"]
    assert drive["method"].startswith("not computed for this region: no motorway or A-road junction")
    commuting = c.filter(like="share of the region", axis=0)
    assert len(commuting) == 2 and (commuting["status"] == NOT_APPLICABLE).all()
    assert commuting["note"].str.contains("no commuting flows found").all()
    assert c["note"].str.contains(NO_FIGURE).all()


def test_a_missing_data_file_still_stops_the_claims(real_data, monkeypatch):
    """Not applicable is for what the region's data cannot answer, not for a broken installation."""
    from lisgeo.errors import DataNotFoundError

    import lisgeo.layers.jobs as jobs

    def missing(region):
        raise DataNotFoundError("dataset 'census21_odwp01' not found")

    monkeypatch.setattr(jobs, "load_commuting_lad", missing)
    with pytest.raises(DataNotFoundError):
        claims_mod.recompute_claims("E07000037", cache=False)
