"""Indices 0–100 from lisgeo's own measures: normalisation, weights, deciles, ``left_behind``.

The configuration (which measures, their weights, the normalisation method and the
``left_behind`` rule) lives in ``layers/indices.toml``; a user's TOML file is merged over it
(:func:`load_index_config`). Unknown keys are rejected. Whether more or less of a measure is
better comes from the column scheme (:mod:`lisgeo.measures.columns`); a ``[direction]`` table
adds it for a user's own columns.

* :func:`normalise_measure` – a measure to 0–100 within the zones given (100 = best).
* :func:`weighted_index` – the weighted mean of normalised measures.
* :func:`connectivity_index`, :func:`accessibility_index` – the two indices.
* :func:`decile` – deciles within the region (1 = lowest 10% of the index).
* :func:`left_behind` – poorly connected AND deprived.
* :func:`add_indices` – all of the above on a scores frame.
"""

from __future__ import annotations

import copy
import math
import os
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import pandas as pd

from ..config import authored_path, read_toml
from ..errors import ConfigError, MissingColumnError, ParameterError
from .columns import direction_of

__all__ = [
    "indices_path",
    "load_index_config",
    "normalise_measure",
    "weighted_index",
    "connectivity_index",
    "accessibility_index",
    "sustainable_index",
    "decile",
    "left_behind",
    "add_indices",
]

def indices_path() -> Path:
    """``layers/indices.toml`` ($LISGEO_LAYERS_DIR if set, else ``layers/`` beside the package)."""
    return authored_path("indices.toml")

_SECTIONS = {"normalisation", "direction", "connectivity", "accessibility", "sustainable", "left_behind"}
#: The indices, each a weighted mean of the measures of its section.
INDICES = ("connectivity", "accessibility", "sustainable")
_METHODS = ("percentile", "minmax")


def _default_config() -> dict:
    return _read_default(str(indices_path()))


@lru_cache(maxsize=4)
def _read_default(path: str) -> dict:
    return read_toml(path, what="index configuration")


def _read_user(weights: str | os.PathLike | Mapping[str, Any]) -> dict:
    if isinstance(weights, Mapping):
        return copy.deepcopy(dict(weights))
    return read_toml(weights, what="weights (a TOML file like layers/indices.toml)")


def load_index_config(weights: str | os.PathLike | Mapping[str, Any] | None = None) -> dict:
    """The index configuration: ``layers/indices.toml`` with ``weights`` (a TOML path or a dict) merged over it.

    A user's ``[connectivity]`` or ``[accessibility]`` table *replaces* the default table
    (so a measure can be dropped by leaving it out); other sections are merged key by key.
    Unknown sections, unknown measures, unknown keys, negative weights or weights that sum
    to 0 raise :class:`~lisgeo.errors.LisgeoError`.
    """
    cfg = copy.deepcopy(_default_config())
    if weights is None:
        return _validate_config(cfg, "layers/indices.toml")
    user = _read_user(weights)
    where = "the weights given" if isinstance(weights, Mapping) else f"{Path(weights).name} merged over layers/indices.toml"
    unknown = sorted(set(user) - _SECTIONS)
    if unknown:
        raise ConfigError(f"unknown section(s) {unknown} in the weights file; valid sections are {sorted(_SECTIONS)}")
    for section, table in user.items():
        if not isinstance(table, Mapping):
            raise ConfigError(f"[{section}] in the weights file must be a table of key = value")
        if section in INDICES:
            cfg[section] = dict(table)
        elif section == "direction":
            cfg[section].update(table)
        else:
            bad = sorted(set(table) - set(cfg[section]))
            if bad:
                raise ConfigError(f"unknown key(s) {bad} in [{section}]; valid keys are {sorted(cfg[section])}")
            cfg[section].update(table)
    return _validate_config(cfg, where)


def _validate_config(cfg: dict, where: str = "layers/indices.toml") -> dict:
    cfg.setdefault("direction", {})
    method = cfg["normalisation"].get("method")
    if method not in _METHODS:
        raise ConfigError(f"[normalisation] method must be one of {list(_METHODS)}, got {method!r}")
    for m, d in cfg["direction"].items():
        if d not in ("higher", "lower"):
            raise ConfigError(f"[direction] {m} must be \"higher\" or \"lower\", got {d!r}")
    for index in INDICES:
        table = cfg.setdefault(index, {})
        if index == "sustainable" and not table:
            continue
        for m in table:
            if m not in cfg["direction"]:
                d = direction_of(m)
                if d is None:
                    raise ConfigError(
                        f"unknown measure {m!r} in [{index}]; use a score column with a direction (docs/scores.md: "
                        "tt_<mode>_<target>, jobs_<mode>_<minutes>, acc_gravity_<mode>, stops_800m ...), or add "
                        f"{m} = \"higher\" or \"lower\" to a [direction] table for a column of your own"
                    )
                cfg["direction"][m] = d
        for m, w in table.items():
            if isinstance(w, bool) or not isinstance(w, (int, float)) or not math.isfinite(w) or w < 0:
                raise ConfigError(f"[{index}] weight of {m} must be a finite number >= 0, got {w!r} ({where}); weights "
                                  "are relative (only their ratios matter), e.g. 1.0 and 0.5")
        if not any(w > 0 for w in table.values()):
            raise ConfigError(f"[{index}] weights must sum to more than 0 but are all 0 ({where}); give at least one "
                              "measure a positive weight")
    lb = cfg["left_behind"]
    for k in ("connectivity_decile_max", "imd_decile_max"):
        v = lb.get(k)
        if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= 10:
            raise ConfigError(f"[left_behind] {k} must be a whole number of deciles 0–10, got {v!r}")
    return cfg


def normalise_measure(
    values: pd.Series,
    *,
    direction: str = "higher",
    method: str = "percentile",
    unreachable_is_worst: bool | None = None,
    reference: pd.Series | None = None,
) -> pd.Series:
    """A measure mapped to 0–100 within the given zones, 100 = best.

    method:
      * ``"percentile"``: ``100 × (rank − 1) / (n − 1)`` with average ranks for ties
        (a constant measure scores 50 everywhere);
      * ``"minmax"``: ``100 × (x − min) / (max − min)`` (constant -> 50).
    direction: ``"higher"`` (more is better) or ``"lower"`` (less is better: reversed).
    unreachable_is_worst: NaN scores 0 (default for ``direction="lower"``, i.e. times, where
        NaN means unreachable); otherwise NaN stays NaN (missing data).
    reference: score ``values`` against the distribution of ``reference`` instead of their own
        (scenario comparisons: a scenario is placed on the base's scale, so a change of index is
        a change in absolute terms). A value is placed where it would rank among the reference
        values (ties and values between reference values interpolate), clipped to 0–100;
        ``reference=values`` gives the same result as no reference.
    """
    if direction not in ("higher", "lower"):
        raise ParameterError(f"direction must be 'higher' or 'lower', got {direction!r}")
    if method not in _METHODS:
        raise ParameterError(f"method must be one of {list(_METHODS)}, got {method!r}")
    x = pd.to_numeric(values, errors="coerce").astype("float64")
    if unreachable_is_worst is None:
        unreachable_is_worst = direction == "lower"
    valid = x.notna()
    sign = 1.0 if direction == "higher" else -1.0
    score = pd.Series(np.nan, index=x.index, dtype="float64", name=values.name)
    if reference is None:
        n = int(valid.sum())
        if n:
            v = sign * x[valid]
            if method == "percentile":
                s = 50.0 if n == 1 else 100.0 * (v.rank(method="average") - 1.0) / (n - 1)
            else:
                lo, hi = v.min(), v.max()
                s = 50.0 if hi == lo else 100.0 * (v - lo) / (hi - lo)
            score[valid] = s
    else:
        ref = sign * pd.to_numeric(reference, errors="coerce").astype("float64").dropna().to_numpy()
        ref.sort()
        n = len(ref)
        if n == 0:
            raise ParameterError(f"reference for {values.name!r} has no values; score the base scenario first")
        v = sign * x[valid].to_numpy()
        if method == "percentile":
            if n == 1:
                s = np.where(v > ref[0], 100.0, np.where(v < ref[0], 0.0, 50.0))
            else:
                lt = np.searchsorted(ref, v, side="left")
                eq = np.searchsorted(ref, v, side="right") - lt
                pos = np.where(eq > 0, lt + (eq - 1) / 2.0, lt - 0.5)
                s = 100.0 * pos / (n - 1)
        else:
            lo, hi = ref[0], ref[-1]
            s = np.full(len(v), 50.0) if hi == lo else 100.0 * (v - lo) / (hi - lo)
        score[valid] = np.clip(s, 0.0, 100.0)
    if unreachable_is_worst:
        score[~valid] = 0.0
    return score


def weighted_index(
    frame: pd.DataFrame,
    weights: Mapping[str, float],
    *,
    directions: Mapping[str, str],
    method: str = "percentile",
    name: str = "index",
    reference: pd.DataFrame | None = None,
) -> pd.Series:
    """Weighted mean of the normalised measures (0–100).

    ``index_i = Σ_k w_k s_ik / Σ_k w_k`` over the measures k with a score for zone i
    (unreachable times score 0; measures with missing data drop out and the other weights
    are re-scaled). Measures with weight 0 are ignored. ``reference``: a frame of the same
    measures to normalise against (see :func:`normalise_measure`).

    Weights are relative: they are divided by the largest before use, so any finite weights
    (1e300 as well as 1) give the index of the same weights scaled down, without overflow.
    A weight that is not a finite number >= 0 raises :class:`~lisgeo.errors.ParameterError`.
    """
    use = _relative_weights(weights, name)
    missing = [m for m in use if m not in frame.columns or (reference is not None and m not in reference.columns)]
    if missing:
        raise MissingColumnError(f"{name}: the scores lack measure column(s) {missing}; compute them first or set their weight to 0")
    num = pd.Series(0.0, index=frame.index)
    den = pd.Series(0.0, index=frame.index)
    for m, w in use.items():
        s = normalise_measure(frame[m], direction=directions[m], method=method, reference=None if reference is None else reference[m])
        ok = s.notna()
        num = num + s.fillna(0.0) * w
        den = den + ok * w
    return (num / den.where(den > 0)).rename(name)


def _relative_weights(weights: Mapping[str, float], name: str) -> dict[str, float]:
    """The positive weights divided by the largest (in (0, 1]; a ratio too small for a float keeps
    the smallest positive one, so its measure still counts where it is the only one)."""
    for m, w in weights.items():
        if isinstance(w, bool) or not isinstance(w, (int, float, np.integer, np.floating)) or not math.isfinite(w) or w < 0:
            raise ParameterError(f"{name}: weight of {m} must be a finite number >= 0, got {w!r}")
    use = {m: float(w) for m, w in weights.items() if w > 0}
    if not use:
        raise ParameterError(f"{name}: no measure has a positive weight")
    top = max(use.values())
    return {m: (w / top) or math.ulp(0.0) for m, w in use.items()}


def connectivity_index(frame: pd.DataFrame, *, config: Mapping | None = None, reference: pd.DataFrame | None = None) -> pd.Series:
    """``connectivity_index`` (0–100) from the ``[connectivity]`` weights of the configuration."""
    cfg = config or load_index_config()
    return weighted_index(frame, cfg["connectivity"], directions=cfg["direction"], method=cfg["normalisation"]["method"],
                          name="connectivity_index", reference=reference)


def accessibility_index(frame: pd.DataFrame, *, config: Mapping | None = None, reference: pd.DataFrame | None = None) -> pd.Series:
    """``accessibility_index`` (0–100) from the ``[accessibility]`` weights of the configuration."""
    cfg = config or load_index_config()
    return weighted_index(frame, cfg["accessibility"], directions=cfg["direction"], method=cfg["normalisation"]["method"],
                          name="accessibility_index", reference=reference)


def sustainable_index(frame: pd.DataFrame, *, config: Mapping | None = None, reference: pd.DataFrame | None = None) -> pd.Series:
    """``sustainable_index`` (0–100): walking, cycling and public transport, from the ``[sustainable]`` weights."""
    cfg = config or load_index_config()
    return weighted_index(frame, cfg["sustainable"], directions=cfg["direction"], method=cfg["normalisation"]["method"],
                          name="sustainable_index", reference=reference)


def decile(values: pd.Series, *, name: str | None = None, reference: pd.Series | None = None) -> pd.Series:
    """Deciles 1–10 of ``values`` among the zones given: 1 = the lowest 10%.

    ``decile = ceil(10 × r / n)`` where r is the zone's rank (1 = lowest; ties broken by the
    order of the zones so every decile holds n/10 zones, ±1). NaN stays missing (Int64).
    ``reference``: use the decile boundaries of another distribution (the base scenario's):
    a value goes in the first decile whose largest reference value is >= it.
    """
    x = pd.to_numeric(values, errors="coerce").astype("float64")
    valid = x.notna()
    out = pd.Series(pd.NA, index=x.index, dtype="Int64", name=name or values.name)
    if reference is not None:
        r = pd.to_numeric(reference, errors="coerce").astype("float64").dropna()
        if r.empty:
            raise ParameterError("decile reference has no values")
        rd = decile(r)
        cuts = np.array([r[rd == k].max() if (rd == k).any() else -np.inf for k in range(1, 10)])
        cuts = np.maximum.accumulate(cuts)
        out[valid] = 1 + np.searchsorted(cuts, x[valid].to_numpy(), side="left")
        return out
    n = int(valid.sum())
    if n:
        r = x[valid].rank(method="first")
        out[valid] = np.ceil(10.0 * r / n).astype("int64")
    return out


def left_behind(connectivity_decile: pd.Series, imd_decile: pd.Series, *, connectivity_decile_max: int = 2, imd_decile_max: int = 2) -> pd.Series:
    """``True`` where the zone is in the region's least connected deciles AND England's most deprived.

    ``connectivity_decile <= connectivity_decile_max`` (1 = least connected 10% of the region)
    and ``imd_decile <= imd_decile_max`` (national IMD 2025, 1 = most deprived 10%).
    A zone with either decile missing is ``False``.
    """
    c = pd.to_numeric(connectivity_decile, errors="coerce")
    d = pd.to_numeric(imd_decile, errors="coerce").reindex(c.index)
    return ((c <= connectivity_decile_max) & (d <= imd_decile_max)).fillna(False).astype(bool).rename("left_behind")


def add_indices(frame: pd.DataFrame, *, config: Mapping | None = None, reference: pd.DataFrame | None = None) -> pd.DataFrame:
    """Add ``connectivity_index``, ``accessibility_index``, ``connectivity_decile`` and ``left_behind``.

    ``frame`` needs the measure columns named in the configuration and ``imd_decile``.
    ``reference``: the base scenario's scores (with its own indices): measures are normalised
    and deciles cut on the base's scale, so that a comparison shows absolute change.
    Returns a new frame (the input is not modified).
    """
    cfg = config or load_index_config()
    if "imd_decile" not in frame.columns:
        raise MissingColumnError("the scores lack imd_decile (national IMD 2025 decile); join the imd2025 layer first")
    if reference is not None and "connectivity_index" not in reference.columns:
        raise MissingColumnError("the reference scores lack connectivity_index; pass the output of score_region")
    out = frame.copy()
    out["connectivity_index"] = connectivity_index(out, config=cfg, reference=reference)
    out["accessibility_index"] = accessibility_index(out, config=cfg, reference=reference)
    if cfg.get("sustainable") and all(m in out.columns for m, w in cfg["sustainable"].items() if w > 0):
        ref = reference if reference is None or all(m in reference.columns for m in cfg["sustainable"]) else None
        out["sustainable_index"] = sustainable_index(out, config=cfg, reference=ref)
    out["connectivity_decile"] = decile(out["connectivity_index"], name="connectivity_decile",
                                        reference=None if reference is None else reference["connectivity_index"])
    lb = cfg["left_behind"]
    out["left_behind"] = left_behind(out["connectivity_decile"], out["imd_decile"], connectivity_decile_max=lb["connectivity_decile_max"], imd_decile_max=lb["imd_decile_max"])
    return out
