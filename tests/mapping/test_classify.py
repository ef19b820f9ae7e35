"""Classes: real edges, hand-checked and equal to mapclassify's (the peer); no data kept apart; categories in order."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lisgeo.errors import EmptyResultError
from lisgeo.mapping.classify import NODATA_COLOR, class_colors, classify_categories, classify_values


def test_quantiles_hand_computed():
    s = pd.Series([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, np.nan], index=list("abcdefghijk"), dtype="float64")
    c = classify_values(s, scheme="quantiles", k=5)
    assert c.upper == pytest.approx((2.8, 4.6, 6.4, 8.2, 10.0))
    assert c.lower == pytest.approx((1.0, 2.8, 4.6, 6.4, 8.2))
    assert c.counts == (2, 2, 2, 2, 2) and c.n_nodata == 1
    assert c.classes.tolist() == [0, 0, 1, 1, 2, 2, 3, 3, 4, 4, -1]
    assert c.classes.index.tolist() == list("abcdefghijk")


def test_equal_interval_hand_computed():
    c = classify_values(pd.Series([0.0, 1, 4, 5, 6, 10]), scheme="equal_interval", k=2)
    assert c.upper == (5.0, 10.0) and c.counts == (4, 2)


def test_natural_breaks_find_the_gaps():
    s = pd.Series([1, 1, 2, 10, 11, 12, 50, 51], dtype=float)
    c = classify_values(s, scheme="natural_breaks", k=3)
    assert c.upper == (2.0, 12.0, 51.0)
    assert c.counts == (3, 3, 2)


def test_natural_breaks_large_input_is_sampled_but_exact_on_clusters():
    from lisgeo.mapping.classify import NATURAL_BREAKS_SAMPLE

    rng = np.random.default_rng(1)
    n = NATURAL_BREAKS_SAMPLE  # 2n distinct values: Fisher-Jenks runs on a sample of them
    s = pd.Series(np.concatenate([rng.uniform(0, 1, n), rng.uniform(100, 101, n)]))
    c = classify_values(s, scheme="natural_breaks", k=2)
    assert c.counts == (n, n)
    assert c.upper[1] == s.max()


@pytest.mark.parametrize("scheme,peer", [("quantiles", "Quantiles"), ("equal_interval", "EqualInterval"),
                                         ("natural_breaks", "FisherJenks")])
def test_edges_equal_mapclassify(scheme, peer):
    """The same edges as mapclassify's classifier (the field's reference) on skewed, tied, rounded
    and clustered data, for 2 to 7 classes; natural breaks on up to NATURAL_BREAKS_SAMPLE distinct
    values is exact Fisher-Jenks, so equal to mapclassify's FisherJenks of the same values."""
    import warnings

    mapclassify = pytest.importorskip("mapclassify")
    rng = np.random.default_rng(7)
    cases = [rng.lognormal(size=300), np.round(rng.normal(size=200) * 3), rng.integers(0, 4, 60).astype(float),
             np.concatenate([rng.normal(0, 1, 80), rng.normal(30, 2, 40)]), np.arange(11.0), rng.uniform(-5, 5, 25)]
    for y in cases:
        for k in range(2, 8):
            c = classify_values(pd.Series(y), scheme=scheme, k=k)
            ref_y = np.unique(y) if scheme == "natural_breaks" else y
            k_ref = min(k, len(np.unique(y)))
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ref = np.unique(np.asarray(getattr(mapclassify, peer)(ref_y, k=k_ref).bins, dtype=float))
            ref[-1] = y.max()
            assert c.upper == pytest.approx(tuple(ref), rel=1e-12, abs=1e-12), (scheme, k, y[:5])


def test_fewer_distinct_values_than_classes():
    c = classify_values(pd.Series([0, 0, 0, 0, 0, 0, 5, 9], dtype=float), scheme="quantiles", k=5)
    assert len(set(c.upper)) == c.k and c.k < 5
    assert sum(c.counts) == 8
    one = classify_values(pd.Series([3.0, 3.0, np.inf]), scheme="equal_interval", k=4)
    assert one.upper == (3.0,) and one.counts == (2,) and one.n_nodata == 1


def test_all_missing_is_an_error():
    with pytest.raises(EmptyResultError, match="every value is missing"):
        classify_values(pd.Series([np.nan, np.nan]))


def test_categories_in_given_order_then_sorted_and_nodata():
    s = pd.Series(["trunk", "motorway", None, "trunk", "a_road"])
    c = classify_categories(s, order=["motorway", "trunk"])
    assert c.values == ("motorway", "trunk", "a_road")
    assert c.classes.tolist() == [1, 0, -1, 1, 2]
    assert c.counts == (1, 2, 1) and c.n_nodata == 1
    b = classify_categories(pd.Series([True, False, True]))
    assert b.values == (False, True) and b.counts == (1, 2)


def test_class_colors():
    cols = class_colors(5, palette="YlGnBu")
    assert len(cols) == 5 and len(set(cols)) == 5 and all(c.startswith("#") for c in cols)
    assert class_colors(5, palette="YlGnBu", reverse=True) == cols[::-1]
    assert class_colors(3, palette="tab10") == ["#1f77b4", "#ff7f0e", "#2ca02c"]
    assert NODATA_COLOR not in cols


def test_category_keys_match_map_file_text():
    from lisgeo.mapping.classify import category_key

    assert [category_key(v) for v in (15.0, 15, np.True_, "a")] == ["15", "15", "True", "a"]
    c = classify_categories(pd.Series([60.0, 15.0, 30.0, 15.0]), order=["15", "30", "45", "60"])
    assert c.values == (15.0, 30.0, 60.0) and c.counts == (2, 1, 1)


def test_fixed_breaks_hand_computed():
    from lisgeo.mapping.classify import classify_breaks

    s = pd.Series([-3, 0, 5, 15, 15.5, 44, 61, 90, np.nan], index=list("abcdefghi"))
    c = classify_values(s, scheme="quantiles", k=3, breaks=[0, 15, 30, 45, 60])  # breaks win over the scheme
    assert c.fixed and c.scheme == "breaks" and c.k == 4
    assert c.lower == (0, 15, 30, 45) and c.upper == (15, 30, 45, 60)
    # class i holds (edge i, edge i+1]; below the first edge -> first class, above the last -> last class
    assert c.classes.tolist() == [0, 0, 0, 0, 1, 2, 3, 3, -1]
    assert c.counts == (4, 1, 1, 2) and c.n_nodata == 1 and (c.n_below, c.n_above) == (1, 2)
    # the same classes whatever the data: an empty class stays, with count 0
    other = classify_breaks(pd.Series([1.0, 2.0]), [0, 15, 30, 45, 60])
    assert other.upper == c.upper and other.counts == (2, 0, 0, 0) and (other.n_below, other.n_above) == (0, 0)
    with pytest.raises(Exception, match="increasing"):
        classify_breaks(s, [0, 10, 5])


def test_diverging_palette_centred_on_zero():
    from lisgeo.mapping.classify import classify_breaks, is_diverging, zero_position

    c = classify_breaks(pd.Series([-40.0, -20, -10, 0, 10]), [-45, -30, -15, -5, 5, 15, 30])
    assert zero_position(c) == 3  # the class -5..5 holds zero
    cols = class_colors(c.k, palette="PuOr", center=zero_position(c))
    import matplotlib

    assert cols[3] == matplotlib.colors.to_hex(matplotlib.colormaps["PuOr"](0.5))  # neutral on "no change"
    rev = class_colors(c.k, palette="PuOr", center=3, reverse=True)
    assert rev[3] == cols[3] and rev[0] != cols[0]  # reverse swaps the hues, not the neutral class
    assert zero_position(classify_breaks(pd.Series([1.0]), [-10, 0, 10])) == 0.5  # zero on an edge
    assert zero_position(classify_breaks(pd.Series([1.0]), [0, 10, 20])) is None  # nothing below zero
    # a map of changes all on one side of zero shows only that side: no "loss" colour for small gains
    gains = classify_breaks(pd.Series([1.0]), [0, 10, 20])
    assert zero_position(gains, one_sided=True) == -0.5
    assert zero_position(classify_breaks(pd.Series([-1.0]), [-20, -10, 0]), one_sided=True) == 1.5
    one = class_colors(2, palette="PuOr", center=-0.5)
    assert one == [matplotlib.colors.to_hex(matplotlib.colormaps["PuOr"](p)) for p in (0.5 + 0.44 / 3, 0.94)]
    assert is_diverging("PuOr") and is_diverging("BrBG_r") and not is_diverging("YlGnBu")


def test_colour_blind_safe_qualitative_palettes():
    from lisgeo.mapping.spec import QUALITATIVE_PALETTES

    assert class_colors(3, palette="okabe_ito") == ["#e69f00", "#56b4e9", "#009e73"]
    assert len(set(class_colors(12, palette="okabe_ito"))) == 12
    assert all(len(set(p)) == len(p) for p in QUALITATIVE_PALETTES.values())
