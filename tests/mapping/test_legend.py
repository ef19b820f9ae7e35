"""Legends show real class edges with units, in data order, with no data last; values formatted; text escaped."""

from __future__ import annotations

import numpy as np
import pandas as pd

from lisgeo.mapping.classify import NODATA_COLOR, class_colors, classify_categories, classify_values
from lisgeo.mapping.legend import class_note, format_value, legend_for_categories, legend_for_classes, legend_html


def test_format_value():
    assert format_value(12.4, units="min") == "12 min"
    assert format_value(45321, units="jobs") == "45,321 jobs"
    assert format_value(87.46, units="%", decimals=1) == "87.5%"
    assert format_value(3_500_000, units="£") == "£3.5m"
    assert format_value(np.nan, units="min") == "no data"
    assert format_value(None) == "no data"
    assert format_value(-0.01, decimals=1) == "0.0"
    assert format_value(True) == "yes"


def test_legend_real_edges_and_nodata():
    s = pd.Series([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, np.nan])
    c = classify_values(s, scheme="quantiles", k=5)
    lg = legend_for_classes(c, class_colors(5), title="Car time", units="min", decimals=1)
    assert lg.labels == ["1.0 – 2.8 min", "2.8 – 4.6 min", "4.6 – 6.4 min", "6.4 – 8.2 min", "8.2 – 10.0 min", "No data"]
    assert lg.entries[-1].color == NODATA_COLOR and lg.entries[-1].count == 1 and lg.entries[-1].nodata
    assert [e.count for e in lg.entries] == [2, 2, 2, 2, 2, 1]
    no_missing = legend_for_classes(classify_values(s.dropna(), k=2), class_colors(2), title="t")
    assert not any(e.nodata for e in no_missing.entries)


def test_categorical_legend():
    c = classify_categories(pd.Series(["energy", "hs2", "energy", None]), order=["hs2"])
    lg = legend_for_categories(c, ["#111111", "#222222"], title="Sites", shape="circle")
    assert lg.labels == ["hs2", "energy", "No data"]
    assert [e.count for e in lg.entries] == [1, 2, 1]


def test_legend_html_escapes_everything():
    c = classify_categories(pd.Series(["<script>alert(1)</script>", "ok"]))
    lg = legend_for_categories(c, ["#111111", "#222222"], title="<b>T</b>")
    out = legend_html(lg, legend_id='x" onmouseover="y')
    assert "<script>" not in out and "&lt;script&gt;alert(1)&lt;/script&gt;" in out
    assert "&lt;b&gt;T&lt;/b&gt;" in out
    assert 'id="x&quot; onmouseover=&quot;y"' in out


def test_fixed_breaks_legend_is_truthful():
    from lisgeo.mapping.classify import classify_breaks

    c = classify_breaks(pd.Series([-3.0, 0, 5, 15, 15.5, 44, 61, 90, np.nan]), [0, 15, 30, 45, 60])
    note = class_note(c, units="min")
    assert note == "Classes of 15 minutes, the same in every region and scenario"
    lg = legend_for_classes(c, class_colors(4), title="Car time", units="min", note=note)
    # values beyond the outer edges are in the first/last class, and the legend says so, in plain words
    assert lg.labels == ["15 min or less", "15 – 30 min", "30 – 45 min", "more than 45 min", "No data"]
    assert [e.count for e in lg.entries] == [4, 1, 1, 2, 1]
    assert lg.note == ("Classes of 15 minutes, the same in every region and scenario; 1 area is under 0 min, shown with "
                       "the first class; 2 areas are over 60 min, shown with the last class")
    inside = legend_for_classes(classify_breaks(pd.Series([1.0, 59.0]), [0, 15, 30, 45, 60]), class_colors(4), title="t",
                                units="min")
    assert inside.labels == ["0 – 15 min", "15 – 30 min", "30 – 45 min", "45 – 60 min"] and inside.note == ""
    # edges print as written (not rounded to, or padded with, the column's decimals); negative ranges read "to"
    frac = legend_for_classes(classify_breaks(pd.Series([0.2]), [0, 0.5, 2.25]), class_colors(2), title="t", units="%",
                              decimals=0)
    assert legend_for_classes(classify_breaks(pd.Series([1.0]), [0, 15]), ["#000000"], title="t", units="min",
                              decimals=1).labels == ["0 – 15 min"]
    assert frac.labels == ["0.00 – 0.50%", "0.50 – 2.25%"]
    neg = legend_for_classes(classify_breaks(pd.Series([-20.0, 1]), [-30, -5, 5]), class_colors(2), title="t", units="min")
    assert neg.labels == ["-30 to -5 min", "-5 to 5 min"]
