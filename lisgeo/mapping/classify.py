"""Choropleth classes and categories, with an explicit no-data class.

Quantiles and equal intervals follow mapclassify's definitions (linear-interpolated percentiles
at ``100/k`` steps; ``k`` equal widths from the minimum, the last edge the maximum); natural
breaks are Fisher–Jenks, exact, by jenkspy's compiled implementation (the same edges as
mapclassify's ``FisherJenks``, tested, in milliseconds instead of a second and without its
2.5 s import of scipy.stats and scikit-learn).

A :class:`Classification` keeps the real class edges: class ``i`` holds values in
``(edges[i-1], edges[i]]`` and the first class starts at the minimum, so the legend can
print exactly what each colour means. Missing or infinite values are class ``-1``
(no data); they are never put in a class of their own numbers.

Fixed classes (``breaks``, the edges a map file gives) hold in every region and scenario:
class ``i`` holds ``(breaks[i], breaks[i+1]]`` (the first also its lower edge); values below
the first edge join the first class and values above the last edge the last class, counted in
``n_below``/``n_above`` so the legend can say so. Classes may then be empty (count 0).
"""

from __future__ import annotations

from dataclasses import dataclass

import matplotlib
import matplotlib.colors as mcolors
import numpy as np
import pandas as pd

from ..errors import EmptyResultError, ParameterError, UnknownNameError
from .spec import QUALITATIVE_PALETTES

__all__ = ["Classification", "Categories", "classify_values", "classify_breaks", "classify_categories", "category_key", "class_colors", "is_diverging", "zero_position", "NODATA_COLOR",
           "NATURAL_BREAKS_SAMPLE"]

NODATA_COLOR = "#d4d4d4"
#: Fisher–Jenks is exact up to this many distinct values (about 0.1 s; the work grows with the
#: square); beyond it runs on this many evenly spaced quantiles.
NATURAL_BREAKS_SAMPLE = 5000


@dataclass(frozen=True)
class Classification:
    """Numeric classes: ``lower``/``upper`` bounds per class, ``classes`` per row (-1 = no data)."""

    scheme: str
    lower: tuple[float, ...]
    upper: tuple[float, ...]
    classes: pd.Series
    counts: tuple[int, ...]
    n_nodata: int
    n_below: int = 0  # fixed breaks only: values under the first edge, counted in the first class
    n_above: int = 0  # fixed breaks only: values over the last edge, counted in the last class

    @property
    def k(self) -> int:
        return len(self.upper)

    @property
    def fixed(self) -> bool:
        """Whether the classes are fixed edges from a map file (``scheme == "breaks"``)."""
        return self.scheme == "breaks"


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


def _quantile_edges(y: np.ndarray, k: int) -> np.ndarray:
    """Upper edges of ``k`` quantile classes: the ``100/k``, ``200/k``, ... 100th percentiles
    (linear interpolation), as mapclassify's ``Quantiles``."""
    w = 100.0 / k
    p = np.minimum(np.arange(w, 100 + w, w), 100.0)[:k]
    return np.percentile(y, p)


def _equal_interval_edges(y: np.ndarray, k: int) -> np.ndarray:
    """Upper edges of ``k`` classes of equal width from the minimum, the last at the maximum, as
    mapclassify's ``EqualInterval``."""
    lo, hi = float(y.min()), float(y.max())
    edges = lo + (hi - lo) / k * np.arange(1, k + 1)
    edges[-1] = hi
    return edges


def _natural_breaks(y: np.ndarray, k: int) -> np.ndarray:
    """Upper edges of ``k`` Fisher–Jenks classes (the partition with the least sum of squared
    deviations within classes) of the distinct values of ``y``, or of evenly spaced quantiles of
    ``y`` when it has more than :data:`NATURAL_BREAKS_SAMPLE` of them."""
    import jenkspy

    sample = np.unique(y)
    if len(sample) > NATURAL_BREAKS_SAMPLE:
        sample = np.unique(np.quantile(y, np.linspace(0, 1, NATURAL_BREAKS_SAMPLE)))
    k = min(k, len(sample))
    if k < 2:
        return np.array([y.max()])
    bins = np.asarray(jenkspy.jenks_breaks(sample, n_classes=k)[1:], dtype=float)
    if len(sample) < len(np.unique(y)):
        # edges found on the sample: data between an edge and the next sample point join the
        # nearer of the two (so a gap between clusters is never split inside a cluster)
        for i, b in enumerate(bins[:-1]):
            nxt = sample[sample > b]
            if len(nxt):
                bins[i] = y[y <= (b + nxt[0]) / 2].max()
    bins[-1] = y.max()
    return bins


def classify_breaks(values: pd.Series, breaks) -> Classification:
    """Fixed classes from class edges ``breaks`` (increasing): ``len(breaks) - 1`` classes, always all of
    them (empty ones count 0); values outside the edges join the first/last class (``n_below``/``n_above``)."""
    edges = np.asarray(list(breaks), dtype=float)
    if edges.ndim != 1 or len(edges) < 2 or not np.isfinite(edges).all() or (np.diff(edges) <= 0).any():
        raise ParameterError(f"breaks must be 2 or more finite, increasing class edges, got {list(breaks)!r}")
    s = pd.to_numeric(pd.Series(values), errors="coerce").astype("float64")
    ok = np.isfinite(s.to_numpy())
    y = s.to_numpy()[ok]
    upper = edges[1:]
    idx = np.minimum(np.searchsorted(upper, y, side="left"), len(upper) - 1)
    classes = np.full(len(s), -1, dtype=int)
    classes[ok] = idx
    counts = tuple(int((idx == i).sum()) for i in range(len(upper)))
    return Classification("breaks", tuple(map(float, edges[:-1])), tuple(map(float, upper)),
                          pd.Series(classes, index=s.index), counts, int((~ok).sum()),
                          int((y < edges[0]).sum()), int((y > edges[-1]).sum()))


def classify_values(values: pd.Series, *, scheme: str = "quantiles", k: int = 5, breaks=None) -> Classification:
    """Classify numbers into ``k`` classes by ``scheme`` (quantiles, natural_breaks, equal_interval),
    or into the fixed classes of ``breaks`` (class edges; see :func:`classify_breaks`).

    Fewer classes come back when the data have fewer distinct values than ``k`` (for example
    quantiles of a column that is mostly zero): edges are never repeated.
    """
    if breaks is not None and len(breaks):
        return classify_breaks(values, breaks)
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
        bins = _quantile_edges(y, k_eff)
    elif scheme == "natural_breaks":
        bins = _natural_breaks(y, k_eff)
    elif scheme == "equal_interval":
        bins = _equal_interval_edges(y, k_eff)
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


#: Diverging colormaps: sampled symmetrically about their neutral middle.
DIVERGING = frozenset({"PuOr", "BrBG", "RdBu", "RdYlBu", "PRGn", "PiYG", "RdGy", "RdYlGn", "Spectral", "coolwarm", "bwr",
                       "seismic", "berlin", "managua", "vanimo"})


def is_diverging(palette: str) -> bool:
    """Whether ``palette`` is a diverging colormap (two hues about a neutral middle)."""
    return (palette[:-2] if palette.endswith("_r") else palette) in DIVERGING


def zero_position(cls: Classification, *, one_sided: bool = False) -> float | None:
    """Where zero sits among the classes, in class-index units: ``i`` when class ``i`` holds zero inside,
    ``i - 0.5`` when zero is the edge between classes ``i - 1`` and ``i``; None unless the classes
    have values on both sides of zero (so a diverging palette is centred on "no change").

    ``one_sided`` (a map of changes whose values all lie on one side of zero): ``-0.5`` when every
    class is at or above zero, ``k - 0.5`` when every class is at or below it, so the palette shows
    only the side the changes are on.
    """
    lower, upper = np.asarray(cls.lower), np.asarray(cls.upper)
    k = len(upper)
    if k >= 2 and lower[0] < 0 < upper[-1]:
        for i in range(k):
            if lower[i] < 0 < upper[i]:
                return float(i)
            if upper[i] == 0 and i + 1 < k:
                return i + 0.5
    if one_sided and k >= 1:
        if lower[0] >= 0:
            return -0.5
        if upper[-1] <= 0:
            return k - 0.5
    return None


def class_colors(k: int, *, palette: str = "YlGnBu", reverse: bool = False, center: float | None = None) -> list[str]:
    """``k`` hex colours from a palette, light to dark (or reversed).

    Qualitative palettes (lisgeo's colour-blind-safe ``okabe_ito``, ``tol_bright``, ``tol_muted``,
    or matplotlib's tab10, Set2, …) give their first ``k`` colours (repeating only when there are
    more categories than colours); sequential maps are sampled evenly from 0.12 to 0.95 so the
    lightest class stays visible; diverging maps (PuOr, BrBG, …) from 0.06 to 0.94, so an odd
    number of classes puts the neutral colour on the middle class. ``center`` (a class position,
    see :func:`zero_position`) puts a diverging palette's neutral colour there instead, with equal
    steps of colour on both sides; ``reverse`` then swaps the two hues.
    """
    if palette in QUALITATIVE_PALETTES:
        pal = QUALITATIVE_PALETTES[palette]
        hexes = [mcolors.to_hex(pal[i % len(pal)]) for i in range(k)]
        return hexes[::-1] if reverse else hexes
    cmap = matplotlib.colormaps[palette]
    if isinstance(cmap, mcolors.ListedColormap) and cmap.N <= 20:
        cols = [cmap(i % cmap.N) for i in range(k)]
    elif is_diverging(palette):
        if center is not None and k >= 1:
            step = 0.44 / max(center, k - 1 - center, 0.5)
            pos = 0.5 + (np.arange(k) - center) * step
            if reverse:
                return [mcolors.to_hex(cmap(1.0 - p)) for p in pos]
        else:
            pos = np.linspace(0.06, 0.94, k) if k > 1 else np.array([0.5])
        cols = [cmap(p) for p in pos]
    else:
        pos = np.linspace(0.12, 0.95, k) if k > 1 else np.array([0.6])
        cols = [cmap(p) for p in pos]
    hexes = [mcolors.to_hex(c) for c in cols]
    return hexes[::-1] if reverse else hexes
