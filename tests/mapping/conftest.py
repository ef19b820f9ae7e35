"""Shared fixtures of the mapping tests: the default maps drawn on real boundaries and layers with
synthetic (deterministic) score columns, so they are the real maps' pages without a scoring run."""

from __future__ import annotations

import warnings

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import Point


def synthetic_data(region: str):
    from lisgeo.layers.boundaries import load_lsoa21
    from lisgeo.layers.sites import load_sites
    from lisgeo.pipeline import MapData

    lsoa = load_lsoa21(region=region)
    n = len(lsoa)
    rng = np.random.default_rng(42)
    sc = lsoa.copy()
    sc["pop"] = rng.integers(1000, 3000, n)
    sc["imd_decile"] = rng.integers(1, 11, n)
    sc["tt_car_hs2_toton"] = rng.gamma(3, 10, n)
    sc["tt_car_hs2_chesterfield"] = rng.gamma(3, 12, n)
    sc.iloc[:3, sc.columns.get_loc("tt_car_hs2_chesterfield")] = np.nan  # unreachable: the no-data class
    sc["jobs_car_45"] = rng.integers(10_000, 700_000, n)
    sc["jobs_rail_60"] = rng.integers(0, 300_000, n)
    sc["connectivity_index"] = rng.uniform(0, 100, n)
    sc["left_behind"] = (sc["connectivity_index"] < 20) & (sc["imd_decile"] <= 3)
    cmp = lsoa.copy()
    cmp["pop"] = sc["pop"]
    cmp["tt_rail_london_base"] = rng.uniform(90, 180, n)
    cmp["d_tt_rail_london"] = -rng.uniform(0, 70, n)
    cmp["tt_rail_london_scenario"] = cmp["tt_rail_london_base"] + cmp["d_tt_rail_london"]
    cmp["d_tt_rail_birmingham"] = -rng.uniform(0, 20, n)
    cmp["d_tt_rail_leeds"] = -rng.uniform(0, 40, n)
    cmp["d_connectivity_index"] = rng.normal(0, 5, n)
    cmp["n_faster"] = (cmp["d_tt_rail_london"] <= -5).astype(int) + (cmp["d_tt_rail_leeds"] <= -5)
    cmp["n_slower"] = 0
    cmp["outcome"] = np.where(cmp["n_faster"] > 0, "winner", "unchanged")
    cmp["faster_to"] = [("Leeds; London" if a and b else "Leeds" if a else "London" if b else "")
                        for a, b in zip(cmp["d_tt_rail_leeds"] <= -5, cmp["d_tt_rail_london"] <= -5)]
    cmp["slower_to"] = ""
    cmp["winner"] = cmp["outcome"] == "winner"
    cmp["loser"] = False
    # HS2 Phase 1 (being built) changes nothing in the region; the strategy's Phase 2b (cancelled) does
    live = cmp.copy()
    for c in ("d_tt_rail_london", "d_tt_rail_birmingham", "d_tt_rail_leeds", "d_connectivity_index", "n_faster"):
        live[c] = 0
    live["tt_rail_london_scenario"] = live["tt_rail_london_base"]
    live["outcome"], live["faster_to"], live["winner"] = "unchanged", "", False
    frames = {"scores:base": sc, "compare:base:hs2_2b": cmp, "compare:base:hs2_phase1": live}
    sites = load_sites(region=region, buffer_km=40) if region == "llep" else load_sites(region=region)
    for site in ("hs2_toton", "hs2_chesterfield"):
        p = sites.loc[site].geometry if site in sites.index else Point(452_000, 336_000)
        iso = gpd.GeoDataFrame({"site": site, "mode": "car", "minutes": [15, 30, 45, 60],
                                "pop": [1e5, 4e5, 9e5, 1.6e6], "area_km2": [50.0, 300.0, 900.0, 1800.0]},
                               geometry=[p.buffer(r) for r in (8_000, 20_000, 32_000, 45_000)], crs="EPSG:27700",
                               index=[15, 30, 45, 60])
        frames[("iso", site, "car", (15, 30, 45, 60), "base")] = iso.assign(band_min=iso["minutes"])
    return MapData(region=region, frames=frames)


@pytest.fixture(scope="session")
def default_maps(real_data, tmp_path_factory):
    from lisgeo.pipeline import make_maps

    out = tmp_path_factory.mktemp("browser_maps")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # the defaults: self-contained pages (they must work with every URL blocked)
        return make_maps(region="d2n2", out_dir=out, png=False, progress=False, data=synthetic_data("d2n2"))


@pytest.fixture(scope="session")
def d2n2_build(real_data, tmp_path_factory):
    """``lisgeo build --region d2n2 -o DIR`` on the real data (scores, every default map, the report): DIR."""
    from lisgeo.cli import main

    out = tmp_path_factory.mktemp("d2n2_build")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert main(["build", "--region", "d2n2", "-o", str(out)]) == 0
    return out
