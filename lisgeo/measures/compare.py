"""Compare two scenarios: per-LSOA deltas, winners and losers, a district summary.

``d_<column> = scenario − base`` for every numeric measure of the scores (minutes for times:
negative = faster under the scenario). An LSOA is a **winner** when at least one of the
journey-time columns (:data:`lisgeo.measures.columns.WINNER_COLUMNS`) is at least ``threshold_min`` minutes faster
(or becomes reachable) and none is that much slower (or becomes unreachable); a **loser** the
other way round; **mixed** when both happen; **unchanged** otherwise.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from ..errors import ParameterError
from .columns import DELTA_COLUMNS, ID_COLUMNS, WINNER_COLUMNS

__all__ = ["DEFAULT_THRESHOLD_MIN", "compare_scores", "winners_losers", "district_summary"]

#: A journey must change by at least this many minutes to count (5 min: a change people notice,
#: larger than the rounding of the strategic model's waits and access times).
DEFAULT_THRESHOLD_MIN = 5.0

_KEYS = list(ID_COLUMNS)


def compare_scores(base: gpd.GeoDataFrame, scen: gpd.GeoDataFrame, *, threshold_min: float = DEFAULT_THRESHOLD_MIN,
                   uncertainty_pct: dict[str, float] | None = None) -> gpd.GeoDataFrame:
    """Per-LSOA deltas of two score frames of the same region (``scen − base``).

    Returns a GeoDataFrame with the id columns, ``<col>_base``, ``<col>_scenario``, ``d_<col>`` and
    ``d_<col>_pm`` for the journey times, ``d_<col>`` for the other measures, ``n_faster``,
    ``n_slower`` (journey columns changed by ≥ threshold, becoming reachable counting as faster),
    ``n_faster_sure`` (faster by more than the threshold plus the uncertainty) and ``outcome``.

    ``d_<col>_pm`` (minutes) is the uncertainty of a change: the model's typical relative error for
    the mode of the column (``uncertainty_pct``, by mode "car"/"rail"; default the assumptions
    ``uncertainty.car_time_pct`` and ``uncertainty.rail_time_pct``, the median absolute errors
    measured by ``lisgeo validate``) times the larger of the two times. A change smaller than its
    ``_pm`` is within the model's error.
    """
    if not threshold_min > 0:
        raise ParameterError(f"threshold_min must be a positive number of minutes, got {threshold_min!r}")
    if not base.index.equals(scen.index):
        if set(base.index) != set(scen.index):
            raise ParameterError("the two score frames cover different LSOAs; score the same region for both scenarios")
        scen = scen.loc[base.index]
    cols = [c for c in DELTA_COLUMNS if c in base.columns and c in scen.columns]
    out = pd.DataFrame(base[[c for c in _KEYS if c in base.columns]].copy())
    faster = np.zeros(len(out), dtype=int)
    slower = np.zeros(len(out), dtype=int)
    sure = np.zeros(len(out), dtype=int)
    if uncertainty_pct is None:
        from ..assumptions import load_assumptions

        a = load_assumptions()
        uncertainty_pct = {"car": a["uncertainty.car_time_pct"], "rail": a["uncertainty.rail_time_pct"]}
    for c in cols:
        b = pd.to_numeric(base[c], errors="coerce").astype("float64")
        s = pd.to_numeric(scen[c], errors="coerce").astype("float64")
        if c in WINNER_COLUMNS:
            out[f"{c}_base"] = b
            out[f"{c}_scenario"] = s
            d = s - b
            mode = c.split("_")[1]
            pm = uncertainty_pct.get(mode, np.nan) / 100.0 * np.fmax(b, s)
            faster += ((d <= -threshold_min) | (b.isna() & s.notna())).to_numpy()
            slower += ((d >= threshold_min) | (b.notna() & s.isna())).to_numpy()
            sure += ((d <= -(threshold_min + pm)) | (b.isna() & s.notna())).to_numpy()
            out[f"d_{c}"] = d
            out[f"d_{c}_pm"] = pm
            continue
        out[f"d_{c}"] = s - b
    out["n_faster"] = faster
    out["n_slower"] = slower
    out["n_faster_sure"] = sure
    out["outcome"] = np.select([(faster > 0) & (slower == 0), (slower > 0) & (faster == 0), (faster > 0) & (slower > 0)],
                               ["winner", "loser", "mixed"], default="unchanged")
    out["outcome"] = out["outcome"].astype("string")
    gdf = gpd.GeoDataFrame(out, geometry=base.geometry.to_numpy(), crs=base.crs)
    gdf.index.name = None
    gdf.attrs.update({
        "base": base.attrs.get("scenario", "base"), "scenario": scen.attrs.get("scenario", "scenario"),
        "region": base.attrs.get("region"), "threshold_min": threshold_min, "uncertainty_pct": dict(uncertainty_pct),
        "attribution": base.attrs.get("attribution", ""),
        "assumptions": dict(scen.attrs.get("assumptions", {})), "index_config": scen.attrs.get("index_config"),
        "scenario_path": scen.attrs.get("scenario_path", ""), "base_path": base.attrs.get("scenario_path", ""),
        "sources": list(base.attrs.get("sources", [])),
    })
    return gdf


def winners_losers(cmp: pd.DataFrame) -> pd.DataFrame:
    """Long table of the journeys that changed by ≥ the threshold: one row per LSOA and time column.

    Columns: LSOA21CD, LSOA21NM, LADNM, pop, measure, base, scenario, delta_min, outcome
    ("faster"/"slower"/"newly reachable"/"no longer reachable"). Sorted by delta.
    """
    thr = cmp.attrs.get("threshold_min", DEFAULT_THRESHOLD_MIN)
    rows = []
    for c in WINNER_COLUMNS:
        if f"d_{c}" not in cmp.columns:
            continue
        b, s, d = cmp[f"{c}_base"], cmp[f"{c}_scenario"], cmp[f"d_{c}"]
        kind = pd.Series(pd.NA, index=cmp.index, dtype="string")
        kind[d <= -thr] = "faster"
        kind[d >= thr] = "slower"
        kind[b.isna() & s.notna()] = "newly reachable"
        kind[b.notna() & s.isna()] = "no longer reachable"
        m = kind.notna()
        if m.any():
            rows.append(pd.DataFrame({
                "LSOA21CD": cmp.loc[m, "LSOA21CD"].to_numpy(), "LSOA21NM": cmp.loc[m, "LSOA21NM"].to_numpy(),
                "LADNM": cmp.loc[m, "LADNM"].to_numpy(), "pop": cmp.loc[m, "pop"].to_numpy(), "measure": c,
                "base": b[m].to_numpy(), "scenario": s[m].to_numpy(), "delta_min": d[m].to_numpy(), "outcome": kind[m].to_numpy(),
            }))
    cols = ["LSOA21CD", "LSOA21NM", "LADNM", "pop", "measure", "base", "scenario", "delta_min", "outcome"]
    if not rows:
        return pd.DataFrame(columns=cols)
    return pd.concat(rows, ignore_index=True)[cols].sort_values(["delta_min", "LSOA21CD"], na_position="last").reset_index(drop=True)


def district_summary(cmp: pd.DataFrame) -> pd.DataFrame:
    """One row per district: LSOAs, people, winners/losers (LSOAs and people) and the
    population-weighted mean of every ``d_<col>`` (NaN deltas left out of the mean)."""
    pop = pd.to_numeric(cmp["pop"], errors="coerce").astype("float64")
    dcols = [c for c in cmp.columns if c.startswith("d_")]
    out = []
    for (lad, name), g in cmp.groupby(["LADCD", "LADNM"], sort=True):
        w = pop.loc[g.index]
        row: dict[str, Any] = {"LADCD": lad, "LADNM": name, "n_lsoa": len(g), "pop": float(w.sum())}
        for o in ("winner", "loser", "mixed"):
            m = g["outcome"] == o
            row[f"n_{o}s" if o != "mixed" else "n_mixed"] = int(m.sum())
            row[f"pop_{o}s" if o != "mixed" else "pop_mixed"] = float(w[m.to_numpy()].sum())
        for c in dcols:
            v = pd.to_numeric(g[c], errors="coerce").astype("float64")
            ok = v.notna() & (w > 0)
            row[c] = float((v[ok] * w[ok]).sum() / w[ok].sum()) if ok.any() else np.nan
        out.append(row)
    return pd.DataFrame(out)
