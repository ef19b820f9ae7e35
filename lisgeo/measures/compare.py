"""Compare two scenarios: per-LSOA deltas, winners and losers, a district summary.

``d_<column> = scenario − base`` for every numeric measure of the scores (minutes for times:
negative = faster under the scenario). An LSOA is a **winner** when at least one of the
journey-time columns (:data:`lisgeo.measures.columns.WINNER_COLUMNS`) is at least ``threshold_min`` minutes faster
(or becomes reachable) and none is that much slower (or becomes unreachable); a **loser** the
other way round; **mixed** when both happen; **unchanged** otherwise. ``faster_to`` and
``slower_to`` name the destinations whose journeys made it so ("Leeds; Birmingham"), and
``scenario_status`` says in plain words what is real about the scheme compared (built, under
construction, cancelled …, from the scenario's ``[status]``; :mod:`lisgeo.status`).
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from ..errors import ParameterError
from .columns import DELTA_COLUMNS, ID_COLUMNS, WINNER_COLUMNS, destination_labels

__all__ = ["DEFAULT_THRESHOLD_MIN", "compare_scores", "winners_losers", "district_summary", "tally", "SEPARATOR"]

#: Between the destinations of ``faster_to`` / ``slower_to`` ("Leeds; Birmingham").
SEPARATOR = "; "

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
    ``n_faster_sure`` (faster by more than the threshold plus the uncertainty), ``outcome``,
    ``faster_to`` / ``slower_to`` (the destinations of the journey columns changed by ≥ threshold,
    by their plain names, the biggest change first, ``"; "``-separated; "" for none) and
    ``scenario_status`` (the scheme's status in plain words, :func:`lisgeo.status.frame_status`).

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
    names = destination_labels([c for c in cols if c in WINNER_COLUMNS])
    faster_to: list[list[tuple[float, str]]] = [[] for _ in range(len(out))]
    slower_to: list[list[tuple[float, str]]] = [[] for _ in range(len(out))]
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
            fast = ((d <= -threshold_min) | (b.isna() & s.notna())).to_numpy()
            slow = ((d >= threshold_min) | (b.notna() & s.isna())).to_numpy()
            faster += fast
            slower += slow
            # the biggest change first; becoming (no longer) reachable ranks above any number of minutes
            dv = d.to_numpy()
            for i in np.flatnonzero(fast):
                faster_to[i].append((dv[i] if np.isfinite(dv[i]) else -np.inf, names[c]))
            for i in np.flatnonzero(slow):
                slower_to[i].append((-dv[i] if np.isfinite(dv[i]) else -np.inf, names[c]))
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
    out["faster_to"] = pd.array([SEPARATOR.join(n for _, n in sorted(x, key=lambda t: t[0])) for x in faster_to], dtype="string")
    out["slower_to"] = pd.array([SEPARATOR.join(n for _, n in sorted(x, key=lambda t: t[0])) for x in slower_to], dtype="string")
    from ..status import frame_status

    st_scen, st_base = frame_status(scen), frame_status(base)
    out["scenario_status"] = pd.array([st_scen.text if st_scen else _NO_STATUS] * len(out), dtype="string")
    gdf = gpd.GeoDataFrame(out, geometry=base.geometry.to_numpy(), crs=base.crs)
    gdf.index.name = None
    gdf.attrs.update({
        "base": base.attrs.get("scenario", "base"), "scenario": scen.attrs.get("scenario", "scenario"),
        # what is real about each scheme: its [status] table and the same in plain words
        "scenario_status": st_scen.table if st_scen else None, "base_status": st_base.table if st_base else None,
        "scenario_status_text": st_scen.text if st_scen else "", "base_status_text": st_base.text if st_base else "",
        "region": base.attrs.get("region"), "threshold_min": threshold_min, "uncertainty_pct": dict(uncertainty_pct),
        "attribution": base.attrs.get("attribution", ""),
        "assumptions": dict(scen.attrs.get("assumptions", {})), "index_config": scen.attrs.get("index_config"),
        "scenario_path": scen.attrs.get("scenario_path", ""), "base_path": base.attrs.get("scenario_path", ""),
        "sources": list(base.attrs.get("sources", [])),
    })
    return gdf


_NO_STATUS = "status not recorded (a scenario without a [status] table)"


def tally(values, *, sep: str = SEPARATOR) -> str:
    """Each item of ``sep``-separated texts with the number of texts that hold it, commonest first
    (ties in first-seen order): ``["Leeds", "Leeds; Birmingham", ""]`` -> ``"Leeds (2); Birmingham (1)"``."""
    counts: dict[str, int] = {}
    for v in values:
        if v is None or (not isinstance(v, str) and pd.isna(v)):
            continue
        for item in dict.fromkeys(x.strip() for x in str(v).split(sep.strip())):
            if item:
                counts[item] = counts.get(item, 0) + 1
    return sep.join(f"{k} ({n:,})" for k, n in sorted(counts.items(), key=lambda kv: -kv[1]))


def winners_losers(cmp: pd.DataFrame) -> pd.DataFrame:
    """Long table of the journeys that changed by ≥ the threshold: one row per LSOA and time column.

    Columns: LSOA21CD, LSOA21NM, LADNM, pop, measure, destination (its plain name), base, scenario,
    delta_min, outcome ("faster"/"slower"/"newly reachable"/"no longer reachable") and
    scenario_status (when the comparison has it). Sorted by delta.
    """
    thr = cmp.attrs.get("threshold_min", DEFAULT_THRESHOLD_MIN)
    names = destination_labels([c for c in WINNER_COLUMNS if f"d_{c}" in cmp.columns])
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
                "destination": names[c], "base": b[m].to_numpy(), "scenario": s[m].to_numpy(), "delta_min": d[m].to_numpy(), "outcome": kind[m].to_numpy(),
            }))
    cols = ["LSOA21CD", "LSOA21NM", "LADNM", "pop", "measure", "destination", "base", "scenario", "delta_min", "outcome"]
    if not rows:
        out = pd.DataFrame(columns=cols)
    else:
        out = pd.concat(rows, ignore_index=True)[cols].sort_values(["delta_min", "LSOA21CD"], na_position="last").reset_index(drop=True)
    if "scenario_status" in cmp.columns:
        out["scenario_status"] = cmp.attrs.get("scenario_status_text") or (cmp["scenario_status"].iloc[0] if len(cmp) else "")
    return out


def district_summary(cmp: pd.DataFrame) -> pd.DataFrame:
    """One row per district: LSOAs, people, winners/losers (LSOAs and people), ``faster_to`` and
    ``slower_to`` (each destination with the number of the district's LSOAs whose journey to it
    changed by ≥ the threshold, :func:`tally`), the population-weighted mean of every ``d_<col>``
    (NaN deltas left out of the mean) and ``scenario_status`` (when the comparison has it)."""
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
        for c in ("faster_to", "slower_to"):
            if c in g.columns:
                row[c] = tally(g[c])
        for c in dcols:
            v = pd.to_numeric(g[c], errors="coerce").astype("float64")
            ok = v.notna() & (w > 0)
            row[c] = float((v[ok] * w[ok]).sum() / w[ok].sum()) if ok.any() else np.nan
        if "scenario_status" in g.columns:
            row["scenario_status"] = str(g["scenario_status"].iloc[0])
        out.append(row)
    return pd.DataFrame(out)
