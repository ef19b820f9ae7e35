"""Model against published: errors per pair, summaries per class, and a naive baseline to beat.

Pure functions on frames; :func:`lisgeo.pipeline.validate.validate_times` computes the model
times for the authored validation set (``layers/validation/journey_times.csv``) and calls them.

* :func:`time_errors` – signed and absolute errors of model minutes against published minutes.
* :func:`crowfly_baseline` – the naive model a planner could draw with a ruler: straight-line km at
  one speed per class, the speed fitted on the *other* pairs of the class (leave one out), so the
  baseline is scored out of sample just as a calibrated model must be.
* :func:`error_summary` – per class: pairs, median |error| (%), bias (median signed error, %), the
  share of pairs more than 25 % (and 30 %) off, the worst pair, and the baseline's median |error|.
* :func:`headline_summary` – the figures lisgeo leads with: per class, the pairs whose published
  time was read on a page (``quoted``, ``derived``), then apart the ``recalled`` ones (a sanity
  band, kept out of the headline); every one out of sample, since no constant of the model is
  fitted on the validation set.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import MissingColumnError

__all__ = ["time_errors", "crowfly_baseline", "error_summary", "headline_summary", "HEADLINE_EVIDENCE", "HEADLINE_CLASSES"]

#: Evidence levels that count in the headline: the published figure was read on the cited page
#: (``quoted``) or worked out from figures read there (``derived``); ``recalled`` rows are a
#: sanity band reported apart.
HEADLINE_EVIDENCE = ("quoted", "derived")
#: The classes of the headline's "all" row: the modelled journeys (HS2 rows restate the schemes'
#: published times the scenarios are built from, so their zero error only checks the encoding).
HEADLINE_CLASSES = ("intercity_rail", "local_rail", "urban_car", "rural_car")


def time_errors(model_min: pd.Series, published_min: pd.Series) -> pd.DataFrame:
    """``error_min = model − published``, ``error_pct = 100 × error / published`` and ``abs_pct``,
    indexed like the inputs (NaN where the model has no time)."""
    m = pd.to_numeric(model_min, errors="coerce").astype("float64")
    p = pd.to_numeric(published_min, errors="coerce").astype("float64").reindex(m.index)
    err = m - p
    pct = 100.0 * err / p
    return pd.DataFrame({"model_min": m, "published_min": p, "error_min": err, "error_pct": pct, "abs_pct": pct.abs()})


def crowfly_baseline(crow_km: pd.Series, published_min: pd.Series, groups: pd.Series) -> pd.Series:
    """Minutes by a straight line at one speed per group, the speed (median km/h of the group's
    published pairs) fitted leaving each pair out. NaN for a pair alone in its group."""
    km = pd.to_numeric(crow_km, errors="coerce").astype("float64")
    pub = pd.to_numeric(published_min, errors="coerce").astype("float64").reindex(km.index)
    g = groups.reindex(km.index)
    out = pd.Series(np.nan, index=km.index, dtype="float64", name="baseline_min")
    speed = km / (pub / 60.0)
    for _, idx in g.groupby(g).groups.items():
        s = speed.loc[idx]
        for i in idx:
            others = s.drop(index=i).dropna()
            if len(others) and km.loc[i] > 0:
                out.loc[i] = km.loc[i] / float(others.median()) * 60.0
    return out


def error_summary(df: pd.DataFrame, *, by: str = "class", off_pct: tuple[float, ...] = (25.0, 30.0)) -> pd.DataFrame:
    """One row per ``by`` group (and ``all``): ``pairs``, ``modelled`` (pairs with a model time),
    ``median_abs_pct``, ``bias_pct`` (median signed error), ``share_over_<p>`` (% of modelled pairs
    off by more than p %), ``worst_pair`` and ``worst_pct``, and ``baseline_median_abs_pct`` when
    ``df`` has a ``baseline_min`` column."""
    need = {"pair_id", by, "error_pct", "abs_pct", "published_min"}
    if not need <= set(df.columns):
        raise MissingColumnError(f"validation results need columns {sorted(need)}; got {list(df.columns)}")

    def row(g: pd.DataFrame, name: str) -> dict:
        ok = g["abs_pct"].notna()
        r = {by: name, "pairs": len(g), "modelled": int(ok.sum()),
             "median_abs_pct": float(g.loc[ok, "abs_pct"].median()) if ok.any() else np.nan,
             "bias_pct": float(g.loc[ok, "error_pct"].median()) if ok.any() else np.nan}
        for p in off_pct:
            r[f"share_over_{p:g}"] = float(100.0 * (g.loc[ok, "abs_pct"] > p).mean()) if ok.any() else np.nan
        if ok.any():
            w = g.loc[ok, "abs_pct"].idxmax()
            r["worst_pair"], r["worst_pct"] = g.loc[w, "pair_id"], float(g.loc[w, "error_pct"])
        else:
            r["worst_pair"], r["worst_pct"] = "", np.nan
        if "baseline_min" in g.columns:
            b = (100.0 * (g["baseline_min"] - g["published_min"]) / g["published_min"]).abs()
            both = ok & b.notna()
            r["baseline_median_abs_pct"] = float(b[both].median()) if both.any() else np.nan
        return r

    rows = [row(g, str(k)) for k, g in df.groupby(by, sort=True)]
    rows.append(row(df, "all"))
    return pd.DataFrame(rows)


def headline_summary(df: pd.DataFrame, *, by: str = "class") -> pd.DataFrame:
    """:func:`error_summary` twice per ``by`` group: on the pairs whose evidence is in
    :data:`HEADLINE_EVIDENCE` (``evidence`` = "published": the headline) and on the ``recalled``
    ones (reported apart), with the largest error (``max_abs_pct``) and the share more than 50 %
    off; then "all" published pairs of :data:`HEADLINE_CLASSES`. Classes with no modelled pair
    (bus and coach without a timetable) are left out. Without an ``evidence`` column (a planner's
    own set) every pair counts as published."""
    ev = (df["evidence"].astype("string").fillna("") if "evidence" in df.columns
          else pd.Series("quoted", index=df.index, dtype="string"))
    parts = []
    for label, mask in (("published", ev.isin(list(HEADLINE_EVIDENCE))), ("recalled", ev.eq("recalled"))):
        sub = df[mask.to_numpy()]
        if not len(sub):
            continue
        s = error_summary(sub, by=by, off_pct=(25.0, 50.0))
        s = s[s[by] != "all"]
        s.insert(1, "evidence", label)
        mx = sub.groupby(by)["abs_pct"].max()
        s["max_abs_pct"] = s[by].map(mx).astype("float64")
        parts.append(s)
    head = df[ev.isin(list(HEADLINE_EVIDENCE)).to_numpy() & df[by].isin(list(HEADLINE_CLASSES)).to_numpy()]
    if len(head):
        s = error_summary(head, by=by, off_pct=(25.0, 50.0))
        s = s[s[by] == "all"]
        s.insert(1, "evidence", "published")
        s["max_abs_pct"] = float(head["abs_pct"].max())
        parts.append(s)
    out = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    if len(out):
        out = out[out["modelled"] > 0]
        order = {"published": 0, "recalled": 1}
        out = out.assign(_o=out["evidence"].map(order), _a=(out[by] == "all")).sort_values(["_o", "_a", by]).drop(columns=["_o", "_a"])
    return out.reset_index(drop=True)
