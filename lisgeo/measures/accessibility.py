"""Accessibility measures on a travel-time matrix.

Every function here is pure and vectorised. It takes ``tt``, a DataFrame of travel times
in **minutes** with origins as rows and destinations as columns (NaN = unreachable), and
weights as pandas Series aligned by label to ``tt.columns`` (opportunities, supply) or
``tt.index`` (demand). Results keep ``tt.index``.

Conventions
-----------
* A destination counts as reachable within a threshold when ``t <= threshold`` (inclusive).
* Unreachable pairs (NaN) contribute nothing; an origin that reaches nothing gets 0 for the
  counting measures (there is truly nothing within reach) and NaN for times.
* An origin's own zone is counted when it appears as a destination with a finite time
  (usually 0 or its intra-zonal time): jobs in your own LSOA are within reach.

Methods
-------
* :func:`cumulative_opportunities` – the count of opportunities within 30/45/60 minutes.
* :func:`gravity_access` – Hansen (1959) potential accessibility with negative exponential
  decay ``f(t) = exp(-beta t)``; ``beta = ln 2 / half_life`` (see the function; the default
  half-life is the assumption ``accessibility.gravity_half_life_min``).
* :func:`e2sfca` – the enhanced two-step floating catchment area method of Luo & Qi (2009),
  giving opportunities per competing person (jobs per competing worker).
* :func:`nearest_time` – the time to the nearest destination, with an unreachable flag.
"""

from __future__ import annotations

import math
from typing import Callable, Iterable, Sequence

import numpy as np
import pandas as pd

from ..assumptions import load_assumptions
from ..errors import MissingColumnError, ParameterError
from .columns import column_name

__all__ = [
    "cumulative_opportunities",
    "gravity_access",
    "e2sfca",
    "nearest_time",
    "decay_weights",
    "beta_from_half_life",
    "LUO_QI_STEP_WEIGHTS",
]

#: Luo & Qi (2009) stepped weights for three equal sub-zones of the catchment
#: (0–d0/3, d0/3–2d0/3, 2d0/3–d0): 1.00, 0.68, 0.22, from a Gaussian function (their "slow decay").
LUO_QI_STEP_WEIGHTS: tuple[float, float, float] = (1.00, 0.68, 0.22)


# ----------------------------------------------------------------------------- helpers
def _check_tt(tt: pd.DataFrame, *, name: str = "tt") -> np.ndarray:
    if not isinstance(tt, pd.DataFrame):
        raise ParameterError(f"{name} must be a pandas DataFrame of minutes (origins × destinations), got {type(tt).__name__}")
    try:
        arr = tt.to_numpy(dtype="float64", na_value=np.nan)
    except (TypeError, ValueError):
        raise ParameterError(f"{name} must hold numbers (minutes); convert its columns with pd.to_numeric first") from None
    if np.isinf(arr).any():
        raise ParameterError(f"{name} holds infinite times; unreachable pairs must be NaN, not inf (tt.replace(np.inf, np.nan))")
    if (arr < 0).any():
        raise ParameterError(f"{name} holds negative travel times; times are minutes >= 0")
    return arr


def _align(weights: pd.Series | Sequence[float], labels: pd.Index, *, what: str, axis: str) -> np.ndarray:
    """Weights aligned by label to ``labels``; every label must have a finite, non-negative weight."""
    if not isinstance(weights, pd.Series):
        w = np.asarray(weights, dtype="float64")
        if w.shape != (len(labels),):
            raise ParameterError(f"{what} has {w.size} values but tt has {len(labels)} {axis}; pass a Series indexed like tt.{'columns' if axis == 'destinations' else 'index'}")
    else:
        missing = labels.difference(weights.index)
        if len(missing):
            raise MissingColumnError(
                f"{what} has no value for {len(missing)} {axis} of tt (e.g. {list(missing[:3])}); "
                f"index it by the same ids as tt's {axis} (fill absent ones with 0 if that is meant)"
            )
        w = pd.to_numeric(weights.reindex(labels), errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    if np.isnan(w).any():
        bad = list(labels[np.isnan(w)][:3])
        raise ParameterError(f"{what} is NaN (or not a number) for {bad}; fill it (e.g. .fillna(0)) before computing accessibility")
    if (w < 0).any():
        raise ParameterError(f"{what} must be >= 0; negative for {list(labels[w < 0][:3])}")
    return w


def beta_from_half_life(half_life_min: float) -> float:
    """The exponential decay rate (per minute) whose weight halves every ``half_life_min`` minutes."""
    if not (half_life_min > 0 and math.isfinite(half_life_min)):
        raise ParameterError(f"half_life_min must be a positive number of minutes, got {half_life_min!r}")
    return math.log(2.0) / half_life_min


# ----------------------------------------------------------------------------- measures
def cumulative_opportunities(
    tt: pd.DataFrame,
    opportunities: pd.Series,
    *,
    thresholds: Iterable[float] = (30, 45, 60),
    mode: str = "car",
    prefix: str = "jobs",
) -> pd.DataFrame:
    """Opportunities reachable within each threshold (cumulative-opportunity measure).

    Parameters
    ----------
    tt: minutes, origins × destinations, NaN unreachable.
    opportunities: count at each destination (e.g. jobs), indexed like ``tt.columns``.
    thresholds: minutes; a destination counts when ``t <= threshold``.
    mode, prefix: name the output columns ``<prefix>_<mode>_<threshold>`` (e.g. ``jobs_car_30``).

    Returns
    -------
    DataFrame indexed like ``tt`` with one float column per threshold (opportunities).
    """
    arr = _check_tt(tt)
    w = _align(opportunities, tt.columns, what="opportunities", axis="destinations")
    thresholds = [float(t) for t in thresholds]
    if not thresholds or any(not (t >= 0) for t in thresholds):
        raise ParameterError(f"thresholds must be non-negative minutes, got {thresholds}")
    out = {}
    for t in thresholds:
        label = column_name("jobs", mode=mode, minutes=t) if prefix == "jobs" else f"{prefix}_{mode}_{int(t) if float(t).is_integer() else t}"
        out[label] = (arr <= t) @ w  # (NaN <= t is False: an unreachable pair never counts)
    return pd.DataFrame(out, index=tt.index)


def gravity_access(
    tt: pd.DataFrame,
    opportunities: pd.Series,
    *,
    beta: float | None = None,
    half_life_min: float | None = None,
    max_time_min: float | None = None,
    mode: str = "car",
    name: str | None = None,
) -> pd.Series:
    """Hansen (1959) gravity accessibility: ``A_i = Σ_j O_j · exp(-beta · t_ij)``.

    Parameters
    ----------
    beta: decay per minute. Give ``beta`` or ``half_life_min`` (``beta = ln 2 / half_life``);
        with neither, the half-life of the assumptions (``accessibility.gravity_half_life_min``,
        20 min: beta ≈ 0.0347/min).
    max_time_min: optional cut-off; pairs slower than this contribute nothing.
    mode: the travel mode of ``tt``, naming the Series ``acc_gravity_<mode>`` (or give ``name``).

    Returns
    -------
    Series indexed like ``tt``: decay-weighted opportunities (units: opportunities, e.g. jobs).
    Unreachable pairs contribute 0.
    """
    if beta is not None and half_life_min is not None:
        raise ParameterError("give either beta or half_life_min, not both")
    if beta is None:
        if half_life_min is None:
            half_life_min = load_assumptions()["accessibility.gravity_half_life_min"]
        beta = beta_from_half_life(half_life_min)
    if not (beta >= 0 and math.isfinite(beta)):
        raise ParameterError(f"beta must be a non-negative decay rate per minute, got {beta!r}")
    arr = _check_tt(tt)
    w = _align(opportunities, tt.columns, what="opportunities", axis="destinations")
    reach = ~np.isnan(arr)
    if max_time_min is not None:
        reach &= arr <= max_time_min
    if reach.all():
        f = np.exp(-beta * arr)
    else:  # the decay of the pairs that count only (walking and cycling matrices are mostly NaN)
        f = np.zeros_like(arr)
        f[reach] = np.exp(-beta * arr[reach])
    return pd.Series(f @ w, index=tt.index, name=name or column_name("gravity", mode=mode))


def decay_weights(
    t: np.ndarray,
    *,
    catchment_min: float,
    decay: str | Callable[[np.ndarray], np.ndarray] = "gaussian",
    step_weights: Sequence[float] = LUO_QI_STEP_WEIGHTS,
) -> np.ndarray:
    """Catchment weights ``W(t)`` in [0, 1]; 0 beyond the catchment or when ``t`` is NaN.

    decay:
      * ``"gaussian"`` – the normalised Gaussian of Dai (2010) used by most E2SFCA work:
        ``W = (exp(-½ (t/d0)²) - exp(-½)) / (1 - exp(-½))`` for ``t <= d0`` (1 at 0, 0 at d0);
      * ``"stepped"`` – Luo & Qi (2009): the catchment cut in ``len(step_weights)`` equal
        sub-zones with weights ``step_weights`` (default 1.00, 0.68, 0.22); a time exactly on a
        sub-zone edge belongs to the nearer sub-zone;
      * ``"binary"`` – 1 inside the catchment (the original 2SFCA of Luo & Wang 2003);
      * a callable mapping minutes to weights (applied inside the catchment only).
    """
    d0 = float(catchment_min)
    if not d0 > 0:
        raise ParameterError(f"catchment_min must be positive minutes, got {catchment_min!r}")
    t = np.asarray(t, dtype="float64")
    inside = np.nan_to_num(t, nan=np.inf) <= d0
    tz = np.where(inside, t, 0.0)
    if callable(decay):
        w = np.asarray(decay(tz), dtype="float64")
    elif decay == "gaussian":
        e = math.exp(-0.5)
        w = (np.exp(-0.5 * (tz / d0) ** 2) - e) / (1.0 - e)
    elif decay == "stepped":
        sw = np.asarray(step_weights, dtype="float64")
        if sw.ndim != 1 or len(sw) == 0 or (sw < 0).any():
            raise ParameterError("step_weights must be a non-empty list of non-negative weights")
        k = np.clip(np.ceil(tz / d0 * len(sw)) - 1, 0, len(sw) - 1).astype(int)
        w = sw[k]
    elif decay == "binary":
        w = np.ones_like(tz)
    else:
        raise ParameterError(f"unknown decay {decay!r}; use 'gaussian', 'stepped', 'binary' or a function of minutes")
    return np.where(inside, w, 0.0)


def e2sfca(
    tt: pd.DataFrame,
    supply: pd.Series,
    demand: pd.Series,
    *,
    catchment_min: float | None = None,
    decay: str | Callable[[np.ndarray], np.ndarray] | None = None,
    step_weights: Sequence[float] = LUO_QI_STEP_WEIGHTS,
    mode: str = "car",
    name: str | None = None,
) -> pd.Series:
    """Enhanced two-step floating catchment area (Luo & Qi 2009): supply per competing person.

    With ``W(t)`` from :func:`decay_weights`:

    1. for each destination j: ``R_j = S_j / Σ_k P_k W(t_kj)`` (supply per weighted person
       within j's catchment; the sum runs over the origins of ``tt``);
    2. for each origin i: ``A_i = Σ_j R_j W(t_ij)``.

    ``tt`` must cover the competing population: its rows are the demand locations (P),
    its columns the supply locations (S). With jobs as supply and residents (or workers)
    as demand, ``A_i`` is jobs per competing resident (worker). A destination that no
    demand reaches has no ratio and contributes nothing (its supply is "lost"); an origin
    that reaches no supply gets 0. When every supply point is reached,
    ``Σ_i P_i A_i = Σ_j S_j`` (the method conserves supply).

    ``catchment_min`` and ``decay`` default to the assumptions ``accessibility.e2sfca_catchment_min``
    (60 min) and ``accessibility.e2sfca_decay`` ("gaussian"). Returns a Series indexed like ``tt``,
    named ``e2sfca_jobs_<mode>`` (or ``name``).
    """
    if catchment_min is None or decay is None:
        a = load_assumptions()
        catchment_min = a["accessibility.e2sfca_catchment_min"] if catchment_min is None else catchment_min
        decay = a["accessibility.e2sfca_decay"] if decay is None else decay
    arr = _check_tt(tt)
    s = _align(supply, tt.columns, what="supply", axis="destinations")
    p = _align(demand, tt.index, what="demand", axis="origins")
    w = decay_weights(arr, catchment_min=catchment_min, decay=decay, step_weights=step_weights)
    weighted_demand = p @ w  # per destination
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(weighted_demand > 0, s / weighted_demand, 0.0)
    return pd.Series(w @ r, index=tt.index, name=name or column_name("e2sfca", mode=mode))


def nearest_time(tt: pd.DataFrame, *, name: str = "tt_nearest", with_id: bool = True) -> pd.DataFrame:
    """Time to the nearest destination of ``tt`` for each origin.

    Returns a DataFrame indexed like ``tt`` with columns ``<name>`` (minutes, NaN when no
    destination is reachable), ``<name>_unreachable`` (bool) and, if ``with_id``,
    ``<name>_id`` (the nearest destination's id; missing when unreachable; ties go to the
    first column).
    """
    arr = _check_tt(tt)
    unreachable = np.isnan(arr).all(axis=1) if arr.shape[1] else np.ones(arr.shape[0], dtype=bool)
    out = pd.DataFrame(index=tt.index)
    if arr.shape[1]:
        filled = np.where(np.isnan(arr), np.inf, arr)
        j = filled.argmin(axis=1)
        best = filled[np.arange(arr.shape[0]), j]
    else:
        j = np.zeros(arr.shape[0], dtype=int)
        best = np.full(arr.shape[0], np.inf)
    out[name] = np.where(unreachable, np.nan, best)
    out[f"{name}_unreachable"] = unreachable
    if with_id:
        ids = pd.Series(np.asarray(tt.columns, dtype=object)[j] if arr.shape[1] else [None] * arr.shape[0], index=tt.index, dtype="string")
        out[f"{name}_id"] = ids.mask(pd.Series(unreachable, index=tt.index))
    return out
