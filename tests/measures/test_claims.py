"""The strategy's geography claims: hand-made commuting flows, and the real grid and roads."""

from __future__ import annotations

import pandas as pd
import pytest

from lisgeo.assumptions import load_assumptions
from lisgeo.errors import LisgeoError
from lisgeo.layers.boundaries import region_outline
from lisgeo.layers.roads import load_major_road_nodes, load_major_roads
from lisgeo.measures.claims import commuting_self_containment, population_within_distance, population_within_drive
from lisgeo.pipeline.claims import recompute_claims, uk_grid
from lisgeo.regions import get_region

D2N2 = get_region("d2n2").lad_codes


def _flows():
    # home -> work, with home-workers as work "HOME" (place_of_work "home")
    rows = [
        ("E06000015", "E06000015", "workplace", 600),  # Derby -> Derby
        ("E06000015", "E06000018", "workplace", 100),  # Derby -> Nottingham (inside D2N2)
        ("E06000015", "E07000129", "workplace", 100),  # Derby -> Blaby (outside)
        ("E06000015", "OFFSHORE", "offshore", 10),     # outside the region
        ("E06000015", "HOME", "home", 300),           # home-workers
        ("E07000129", "E06000015", "workplace", 90),   # Blaby -> Derby (in-commuters)
    ]
    return pd.DataFrame(rows, columns=["home_LADCD", "work_LADCD", "place_of_work", "flow"])


def test_self_containment_hand_computed():
    sc = commuting_self_containment(_flows(), D2N2)
    # residents with a fixed workplace: 600 + 100 + 100 + 10 = 810 ; working in D2N2: 700 -> 86.42%
    assert sc["residents_working_in_region"] == pytest.approx(100 * 700 / 810)
    # jobs in D2N2 (fixed workplaces): 600 + 100 + 90 = 790, of which 700 filled by residents -> 88.61%
    assert sc["jobs_filled_by_residents"] == pytest.approx(100 * 700 / 790)
    # with the 300 home-workers counted as working where they live: 1000/1110 and 1000/1090
    assert sc["residents_working_in_region_incl_home"] == pytest.approx(100 * 1000 / 1110)
    assert sc["jobs_filled_by_residents_incl_home"] == pytest.approx(100 * 1000 / 1090)
    assert sc["resident_home_workers"] == 300


def test_self_containment_rejects_empty():
    f = _flows()
    f = f[f["home_LADCD"] == "E07000129"].iloc[:0]
    with pytest.raises(LisgeoError, match="no commuting flows"):
        commuting_self_containment(f, D2N2)


@pytest.mark.realdata
def test_population_claims_real(real_data):
    grid, outline = uk_grid(), region_outline("d2n2")
    inside = population_within_distance(grid, outline, miles=20)
    ring = population_within_distance(grid, outline, miles=20, include_region=False)
    # the region's own residents (≈2.2 M by grid) make the difference
    assert 2.1e6 < inside - ring < 2.35e6
    assert 8e6 < ring < 13e6
    assert population_within_distance(grid, outline, miles=10) < inside
    roads = (load_major_roads(region=None), load_major_road_nodes(region=None))
    a = load_assumptions()
    d4 = population_within_drive(grid, outline, *roads, hours=4, assumptions=a, two_way=True)
    d2 = population_within_drive(grid, outline, *roads, hours=2, assumptions=a, two_way=True)
    assert 30 < d2["gb_share"] < d4["gb_share"] < 100
    assert d4["uk_share"] < d4["gb_share"]  # Northern Ireland is not reachable by car in 4 h
    # slower roads shrink the share
    slow = population_within_drive(grid, outline, *roads, hours=4, two_way=True,
                                   assumptions=load_assumptions(road__motorway_kmh=60.0, road__a_dual_kmh=50.0))
    assert slow["gb_share"] < d4["gb_share"]
    with pytest.raises(LisgeoError, match="off_network_kmh"):
        population_within_drive(grid, outline, *roads, off_network_kmh=0, assumptions=a)


@pytest.mark.realdata
def test_recompute_claims_real(real_data):
    c = recompute_claims("d2n2")
    assert list(c.columns) == ["claim", "strategy_figure", "computed_value", "unit", "status", "note", "method", "source"]
    assert (c["status"] == "computed").all() and (c["note"] == "").all()
    assert len(c) == 4
    assert c["strategy_figure"].tolist() == [9_000_000, 80.0, 87.0, 92.0]
    assert c["computed_value"].notna().all()
    assert "covers the whole UK" in c.loc[0, "method"]
    # Census 2021 (lockdown) self-containment is in the 80s, like the strategy's figures
    assert 75 < c.loc[2, "computed_value"] < 95 and 75 < c.loc[3, "computed_value"] < 95
    llep = recompute_claims("llep")
    assert llep["strategy_figure"].isna().all()


def test_population_within_distance_takes_the_buffer_made_once(real_data):
    """Both counts from one buffer (zone=) equal the counts that buffer it themselves."""
    import shapely

    from lisgeo.layers.boundaries import region_outline
    from lisgeo.measures.claims import MILE_M
    from lisgeo.pipeline.claims import uk_grid

    grid, outline = uk_grid(), region_outline("llep")
    zone = outline.buffer(5 * MILE_M)
    shapely.prepare(zone)
    for include in (True, False):
        own = population_within_distance(grid, outline, miles=5, include_region=include)
        assert population_within_distance(grid, outline, miles=5, include_region=include, zone=zone) == own > 0
    # the zone given is the one counted (a wrong one gives another count)
    assert population_within_distance(grid, outline, miles=5, zone=outline.buffer(1000.0)) < \
        population_within_distance(grid, outline, miles=5)
