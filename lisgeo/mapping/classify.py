"""Choropleth classes (mapclassify) and categories, with an explicit no-data class.

A :class:`Classification` keeps the real class edges: class ``i`` holds values in
``(edges[i-1], edges[i]]`` and the first class starts at the minimum, so the legend can
print exactly what each colour means. Missing or infinite values are class ``-1``
(no data); they are never put in a class of their own numbers.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import mapclassify
import matplotlib
import matplotlib.colors as mcolors
import numpy as np
import pandas as pd

from ..errors import EmptyResultError, UnknownNameError

__all__ = ["Classification", "Categories", "classify_values", "classify_categories", "category_key", "class_colors", "NODATA_COLOR",
           "NATURAL_BREAKS_SAMPLE"]

NODATA_COLOR = "#d4d4d4"
#: Fisher–Jenks is exact up to this many values; beyond it runs on this many evenly spaced quantiles.
NATURAL_BREAKS_SAMPLE = 500


@dataclass(frozen=True)
class Classification:
    """Numeric classes: ``lower``/``upper`` bounds per class, ``classes`` per row (-1 = no data)."""

    scheme: str
    lower: tuple[float, ...]
    upper: tuple[float, ...]
    classes: pd.Series
    counts: tuple[int, ...]
    n_nodata: int

    @property
    def k(self) -> int:
        return len(self.upper)


@dataclass(frozen=True)
class Categories:
    """Categorical classes: ``values`` in legend order, ``classes`` per row (-1 = no data)."""

    values: tuple
    classes: pd.Series
    counts: tuple[int, ...]
    n_nodata: int

    @property
    def k(self) -> int:
        return len(self.values)


def _natural_breaks(y: np.ndarray, k: int) -> np.ndarray:
    sample = np.unique(y)
    if len(sample) > NATURAL_BREAKS_SAMPLE:
        sample = np.unique(np.quantile(y, np.linspace(0, 1, NATURAL_BREAKS_SAMPLE)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bins = np.asarray(mapclassify.FisherJenks(sample, k=min(k, len(np.unique(sample)))).bins, dtype=float)
    if len(sample) < len(y):
        # edges found on the sample: data between an edge and the next sample point join the
        # nearer of the two (so a gap between clusters is never split inside a cluster)
        sample = np.sort(sample)
        for i, b in enumerate(bins[:-1]):
            nxt = sample[sample > b]
            if len(nxt):
                bins[i] = y[y <= (b + nxt[0]) / 2].max()
    bins[-1] = y.max()
    return bins


def classify_values(values: pd.Series, *, scheme: str = "quantiles", k: int = 5) -> Classification:
    """Classify numbers into ``k`` classes by ``scheme`` (quantiles, natural_breaks, equal_interval).

    Fewer classes come back when the data have fewer distinct values than ``k`` (for example
    quantiles of a column that is mostly zero): edges are never repeated.
    """
    s = pd.to_numeric(pd.Series(values), errors="coerce").astype("float64")
    ok = np.isfinite(s.to_numpy())
    y = s.to_numpy()[ok]
    if len(y) == 0:
        raise EmptyResultError("nothing to classify: every value is missing; check the column (is it all NaN?)")
    n_unique = len(np.unique(y))
    k_eff = max(1, min(k, n_unique))
    if n_unique == 1:
        bins = np.array([y[0]])
    elif scheme == "quantiles":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            bins = np.asarray(mapclassify.Quantiles(y, k=k_eff).bins, dtype=float)
    elif scheme == "natural_breaks":
        bins = _natural_breaks(y, k_eff)
    elif scheme == "equal_interval":
        bins = np.asarray(mapclassify.EqualInterval(y, k=k_eff).bins, dtype=float)
    else:
        raise UnknownNameError("numeric classification scheme", scheme, ("quantiles", "natural_breaks", "equal_interval"))
    bins = np.unique(bins)
    bins[-1] = y.max()
    lower = np.concatenate([[y.min()], bins[:-1]])
    idx = np.searchsorted(bins, y, side="left")
    idx = np.minimum(idx, len(bins) - 1)
    classes = np.full(len(s), -1, dtype=int)
    classes[ok] = idx
    counts = tuple(int((idx == i).sum()) for i in range(len(bins)))
    return Classification(scheme, tuple(map(float, lower)), tuple(map(float, bins)),
                          pd.Series(classes, index=s.index), counts, int((~ok).sum()))


def _is_missing(v) -> bool:
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def category_key(value) -> str:
    """The text key of a category value, as written in map files: ``15.0`` -> ``"15"``, ``True`` -> ``"True"``."""
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    if isinstance(value, np.bool_):
        return str(bool(value))
    return str(value)


def classify_categories(values: pd.Series, *, order: tuple | list = ()) -> Categories:
    """One class per distinct value; ``order`` first (in that order), the rest sorted; missing = -1."""
    s = pd.Series(values)
    present = [v for v in pd.unique(s) if not _is_missing(v)]
    as_text = {category_key(v): v for v in present}
    ordered = [as_text[category_key(o)] for o in order if category_key(o) in as_text]
    rest = sorted((v for v in present if v not in ordered), key=lambda v: (str(type(v)), v))
    cats = ordered + rest
    lookup = {category_key(v): i for i, v in enumerate(cats)}
    classes = s.map(lambda v: -1 if _is_missing(v) else lookup[category_key(v)]).astype(int)
    counts = tuple(int((classes == i).sum()) for i in range(len(cats)))
    return Categories(tuple(cats), classes, counts, int((classes == -1).sum()))


def class_colors(k: int, *, palette: str = "YlGnBu", reverse: bool = False) -> list[str]:
    """``k`` hex colours from a matplotlib colormap, light to dark (or reversed).

    Qualitative maps (tab10, Set2, …) give their first ``k`` colours; sequential and
    diverging maps are sampled evenly from 0.12 to 0.95 so the lightest class stays visible.
    """
    cmap = matplotlib.colormaps[palette]
    if isinstance(cmap, mcolors.ListedColormap) and cmap.N <= 20:
        cols = [cmap(i % cmap.N) for i in range(k)]
    else:
        pos = np.linspace(0.12, 0.95, k) if k > 1 else np.array([0.6])
        cols = [cmap(p) for p in pos]
    hexes = [mcolors.to_hex(c) for c in cols]
    return hexes[::-1] if reverse else hexes
