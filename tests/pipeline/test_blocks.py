"""Large regions in blocks (issue 23): the plan, the same scores on Dask's local scheduler and on a
``dask.distributed`` cluster of local worker processes, what a block's edge changes and what it
does not, and the national output (partitioned GeoParquet)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lisgeo.errors import ParameterError
from lisgeo.measures.columns import FIXED_SITES, RAIL_DESTINATIONS
from lisgeo.pipeline.blocks import BlockJob, block_zones, plan_blocks, run_blocks

# columns a zone's block edge cannot change: its own data, times to places every block's network
# holds (the fixed sites, the rail destination groups, the nearest station) and what follows from them
EDGE_FREE = [*FIXED_SITES, "tt_car_nearest_ez", "tt_car_nearest_station", *RAIL_DESTINATIONS, "rail_trains_nearest", "stops_800m",
             "digital_indicator", "imd_decile", "pop", "jobs"]


def _double(job: BlockJob) -> pd.DataFrame:
    """A stand-in block scorer (module level: it travels to worker processes)."""
    return pd.DataFrame({"n": [len(job.districts) * 2]}, index=[",".join(job.districts)])


# ---------------------------------------------------------------- the plan (no network)
def test_block_size_from_the_environment(monkeypatch):
    monkeypatch.delenv("LISGEO_BLOCK_ZONES", raising=False)
    assert block_zones() == 2000 and block_zones(700) == 700
    monkeypatch.setenv("LISGEO_BLOCK_ZONES", "900")
    assert block_zones() == 900
    monkeypatch.setenv("LISGEO_BLOCK_ZONES", "lots")
    with pytest.raises(ParameterError, match="whole number"):
        block_zones()
    with pytest.raises(ParameterError, match="50 to 50,000"):
        block_zones(10)


@pytest.mark.realdata
def test_plan_cuts_districts_whole_within_itl1_regions(real_data):
    from lisgeo.layers.people import load_lsoa21_centroids
    from lisgeo.pipeline.blocks import _itl1_of
    from lisgeo.regions import get_region

    reg = get_region("d2n2_llep")
    zones = load_lsoa21_centroids(region=reg)["LADCD"].astype(str).value_counts()
    assert plan_blocks(reg) == [tuple(sorted(reg.lad_codes))]  # 1,943 zones: one block
    plan = plan_blocks(reg, max_zones=500)
    flat = [d for b in plan for d in b]
    assert sorted(flat) == sorted(reg.lad_codes) and len(flat) == len(set(flat))  # each district once, never split
    for b in plan:
        n = int(zones.reindex(list(b)).sum())
        assert n <= 500 or len(b) == 1  # a block is over the size only when one district is
        assert _itl1_of(b).nunique() == 1  # all East Midlands here; never across ITL1 regions
    assert 4 <= len(plan) <= 8


def test_run_blocks_keeps_the_order_locally(monkeypatch):
    monkeypatch.delenv("LISGEO_SCHEDULER", raising=False)
    jobs = [BlockJob(tuple(f"E0{k}{i}" for i in range(k + 1))) for k in range(4)]
    one = run_blocks(jobs, workers=1, fn=_double)
    two = run_blocks(jobs, workers=2, fn=_double)  # Dask's local process pool
    assert [f["n"].iloc[0] for f in one] == [2, 4, 6, 8]
    assert all(a.equals(b) for a, b in zip(one, two))


def test_an_unreachable_scheduler_says_how_to_fix_it():
    with pytest.raises(ParameterError, match="cannot reach the Dask scheduler.*LISGEO_SCHEDULER"):
        run_blocks([BlockJob(("E06000015",))], scheduler="tcp://127.0.0.1:9", fn=_double)


# ---------------------------------------------------------------- real blocks
@pytest.fixture(scope="module")
def d2n2_blocks(real_data):
    """D2N2 (two counties and two cities: 1,335 LSOAs) in four blocks on the local scheduler."""
    from lisgeo.pipeline.blocks import score_in_blocks

    return score_in_blocks("d2n2", max_zones=450, workers=2)


@pytest.mark.realdata
def test_a_cluster_of_local_workers_gives_the_same_scores(d2n2_blocks):
    """The same code path on a dask.distributed cluster (LocalCluster, 2 worker processes): the same
    scores. A cluster's workers run BLAS on one thread, so sums of jobs may differ in their last bit
    (measured: at most 1e-15 relative); an index made of ranks may then move by a rank between two
    near-equal zones, never more."""
    distributed = pytest.importorskip("distributed")
    from lisgeo.pipeline.blocks import score_in_blocks

    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        remote = score_in_blocks("d2n2", max_zones=450, scheduler=cluster.scheduler_address, cache=False)
    assert len(d2n2_blocks.attrs["blocks"]) == len(remote.attrs["blocks"]) == 4
    a, b = pd.DataFrame(d2n2_blocks.drop(columns="geometry")), pd.DataFrame(remote.drop(columns="geometry"))
    assert list(a.columns) == list(b.columns) and list(a.index) == list(b.index)
    step = 100 / len(a)  # one rank on a 0-100 scale
    for c in a.columns:
        if pd.api.types.is_numeric_dtype(a[c]) and not pd.api.types.is_bool_dtype(a[c]):
            x, y = a[c].astype("float64"), b[c].astype("float64")
            tol = 1.5 * step if c.endswith("_index") else 0.0
            assert np.allclose(x, y, rtol=1e-12, atol=tol, equal_nan=True), c
            if c.endswith("_decile"):
                assert ((x - y).abs() <= 1).all() and (x == y).mean() > 0.99, c
        else:
            assert (a[c].astype("string").fillna("<NA>") == b[c].astype("string").fillna("<NA>")).mean() > 0.99, c


@pytest.mark.realdata
def test_blocks_equal_the_region_where_the_edge_does_not_matter(d2n2_blocks):
    from lisgeo.pipeline import score_region

    whole = score_region(region="d2n2")
    assert list(d2n2_blocks.index) == list(whole.index) and len(whole) == 1335
    for c in EDGE_FREE:
        a, b = d2n2_blocks[c].astype("float64"), whole[c].astype("float64")
        assert np.allclose(a, b, equal_nan=True, rtol=0, atol=1e-9), c
    # a block's halo is reach.blocks_km (90 km) against the region's 30 km: its gravity sees at least the
    # region's jobs, and more beyond (measured: higher for every LSOA); jobs beyond the block are at
    # MSOA centroids (the region's own LSOAs in a whole-region run), so counts within 45 minutes move a little
    # either way (measured median |difference| under 1 %)
    assert (d2n2_blocks["acc_gravity_car"] >= whole["acc_gravity_car"] * (1 - 1e-9)).all()
    assert (d2n2_blocks["acc_gravity_car"] > whole["acc_gravity_car"] * (1 + 1e-6)).mean() > 0.9
    ratio = d2n2_blocks["jobs_car_45"] / whole["jobs_car_45"]
    assert (ratio - 1).abs().median() < 0.02, ratio.median()
    assert d2n2_blocks["connectivity_decile"].between(1, 10).all()


@pytest.mark.realdata
def test_national_output_is_partitioned_geoparquet(d2n2_blocks, tmp_path):
    import geopandas as gpd

    from lisgeo.pipeline.score import write_scores

    paths = write_scores(d2n2_blocks, tmp_path / "out", claims=False)
    assert set(paths) == {"scores.parquet", "scores.csv", "provenance.json"}
    parts = sorted(p.parent.name for p in (tmp_path / "out" / "scores.parquet").rglob("*.parquet"))
    assert parts == ["RGN21CD=E12000004"]  # the East Midlands
    back = gpd.read_parquet(tmp_path / "out" / "scores.parquet")
    assert len(back) == 1335 and back.crs.to_epsg() == 27700 and (back["RGN21CD"] == "E12000004").all()
    assert set(back["LSOA21CD"]) == set(d2n2_blocks.index)
    csv = pd.read_csv(tmp_path / "out" / "scores.csv")
    assert len(csv) == 1335 and "geometry_wkt" not in csv.columns


# ---------------------------------------------------------------- score_region and the command
@pytest.mark.realdata
def test_score_region_sends_a_large_region_to_blocks(real_data, monkeypatch, tmp_path):
    """Over the block size, score_region scores in blocks (the same frame score_in_blocks makes), and
    `lisgeo score` writes partitioned GeoParquet; GTFS for such a region is refused before any work."""
    from lisgeo.cli import main
    from lisgeo.pipeline import score_region
    from lisgeo.pipeline.blocks import score_in_blocks

    monkeypatch.setenv("LISGEO_BLOCK_ZONES", "400")
    monkeypatch.setenv("LISGEO_NO_CACHE", "1")
    g = score_region(region="llep", workers=1)
    assert [b["zones"] for b in g.attrs["blocks"]] == [b["zones"] for b in score_in_blocks("llep", workers=1).attrs["blocks"]]
    assert len(g) == 608 and len(g.attrs["blocks"]) == 2 and g["connectivity_decile"].between(1, 10).all()
    with pytest.raises(ParameterError, match="608 LSOAs.*GTFS"):
        score_region(region="llep", gtfs="no_such_feed.zip", gtfs_date="2024-03-05")
    assert main(["score", "--region", "llep", "--no-claims", "--workers", "1", "-o", str(tmp_path / "out")]) == 0
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["provenance.json", "scores.csv", "scores.parquet"]


@pytest.mark.realdata
def test_a_region_ranked_against_a_reference_region(real_data, tmp_path):
    """--reference: a region's name (scored under the same scenario), the frame itself and a national
    run's output folder give the same scale; a reference that lacks the region's LSOAs, a missing
    path and an unknown name are refused in one line."""
    from lisgeo.errors import DataNotFoundError, UnknownNameError
    from lisgeo.pipeline import score_region, write_scores

    ref = score_region(region="llep")
    own = score_region(region="E06000016")  # Leicester on its own scale
    by_name = score_region(region="E06000016", reference="llep")
    by_frame = score_region(region="E06000016", reference=ref)
    write_scores(ref, tmp_path / "ref", claims=False)
    by_path = score_region(region="E06000016", reference=tmp_path / "ref")
    assert by_name.attrs["index_scale"] == "Leicester and Leicestershire (base)"
    assert by_path.attrs["index_scale"].startswith("reference scores")
    cols = ["connectivity_index", "accessibility_index", "connectivity_decile", "left_behind"]
    pd.testing.assert_frame_equal(pd.DataFrame(by_name[cols]), pd.DataFrame(by_frame[cols]))
    pd.testing.assert_frame_equal(pd.DataFrame(by_path[cols]), pd.DataFrame(by_frame[cols]), check_dtype=False)
    # on its own scale Leicester's deciles run 1-10; on LLEP's the city is mostly in the better-connected half
    assert sorted(own["connectivity_decile"].unique()) == list(range(1, 11))
    assert by_name["connectivity_decile"].median() > own["connectivity_decile"].median()
    # a reference without a measure the region weighs (England's scores have no Enterprise Zone column):
    # left out of the indices, said in attrs, the rest on the reference's scale
    lacking = ref.drop(columns=["tt_car_nearest_ez", "tt_car_nearest_ez_id"])
    ranked = score_region(region="E06000016", reference=lacking)
    assert set(ranked.attrs["not_in_reference"]) == {"tt_car_nearest_ez"}
    assert "tt_car_nearest_ez" not in ranked.attrs["index_config"]["accessibility"]
    assert ranked["accessibility_index"].notna().all() and ranked["tt_car_nearest_ez"].notna().all()
    with pytest.raises(ParameterError, match="lack .* of the region's LSOAs"):
        score_region(region="E06000016", reference="d2n2")
    with pytest.raises(DataNotFoundError, match="do not exist"):
        score_region(region="E06000016", reference=tmp_path / "nothing.parquet")
    with pytest.raises(DataNotFoundError, match="do not exist"):  # a path given as text is a path, not a region's name
        score_region(region="E06000016", reference=str(tmp_path / "no_such_run"))
    with pytest.raises(UnknownNameError):
        score_region(region="E06000016", reference="Leicestershire and Ruttland LEP")
