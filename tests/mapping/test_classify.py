"""Classes: real edges from mapclassify, hand-checked; no data kept apart; categories in order."""

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
    rng = np.random.default_rng(1)
    s = pd.Series(np.concatenate([rng.uniform(0, 1, 700), rng.uniform(100, 101, 700)]))
    c = classify_values(s, scheme="natural_breaks", k=2)
    assert c.counts == (700, 700)
    assert c.upper[1] == s.max()


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
