"""Calibrate the rail running-time model on published station-to-station times, with honest out-of-sample errors.

The rail model (:mod:`lisgeo.network.rail`) times each link between consecutive calls of a service
pattern as ``stop_penalty_min + straight km / speed × 60``, the speed ``express_kmh`` for patterns
whose calls are on average ``express_spacing_km`` or more apart, else ``stopping_kmh``, both times
``fast_line_factor`` for the patterns of ``fast_line_operators`` (the 125 mph main lines). Those four
constants are fitted here to the published station-to-station times of the validation set
(``layers/validation/journey_times.csv``, classes ``intercity_rail`` and ``local_rail``, the pairs
with a direct train) by minimising the mean absolute log error (Nelder–Mead):

* a ``typical`` published time is compared with the train-weighted mean ride of every pattern
  serving the pair (the typical train);
* a ``fastest`` published time with the fastest pattern's ride;
* recalled rows (``evidence == "recalled"``) weigh half.

Fitting to the validation set and then reporting the error on the same set would flatter the
model, so :func:`calibrate_rail` also refits leaving each pair out and predicts it (leave-one-out
cross-validation): those out-of-sample errors are the ones ``docs/validation.md`` reports. The
fitted values go into ``layers/assumptions.toml`` by hand, with the run that produced them named in
their rationale; ``tests/pipeline/test_calibrate.py`` checks that refitting reproduces them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import minimize

from ..assumptions import as_assumptions

__all__ = ["RailCalibration", "rail_candidates", "candidate_rides", "calibrate_rail"]

_PARAMS = ("pt.stop_penalty_min", "pt.express_kmh", "pt.stopping_kmh", "pt.fast_line_factor")


@dataclass
class RailCalibration:
    """Fitted parameters, and the per-pair errors in sample and out of sample (leave one out)."""

    params: dict[str, float]
    pairs: pd.DataFrame          # pair_id, published_min, time_kind, fitted_min, loo_min, error_pct, loo_error_pct
    loss: float

    def summary(self) -> dict[str, float]:
        e, lo = self.pairs["error_pct"].abs(), self.pairs["loo_error_pct"].abs()
        return {"pairs": len(self.pairs), "median_abs_pct": float(e.median()), "loo_median_abs_pct": float(lo.median()),
                "loo_share_over_25": float(100 * (lo > 25).mean()), "bias_pct": float(self.pairs["error_pct"].median())}


def rail_candidates(pairs: pd.DataFrame, stations: pd.DataFrame, patterns: pd.DataFrame, *, spacing_km: float,
                    assumptions: Any = None) -> pd.DataFrame:
    """Every pattern that runs directly from each pair's origin to its destination (either
    direction of travel may be published, so the pattern may serve destination→origin).

    ``pairs``: [pair_id, from_crs, to_crs]. Returns [pair_id, links, km_long, km_short, trains, fast]:
    the number of links between the two calls, their straight km (as ``km_long`` for an express
    pattern, whose calls average ``spacing_km`` or more apart, else as ``km_short``), its weekday
    trains, and whether it runs on a fast main line (:func:`lisgeo.network.rail.fast_line_patterns`).
    """
    from ..network.rail import fast_line_patterns, pattern_stops

    pos = dict(zip(stations.index.astype(str), zip(stations.geometry.x.to_numpy(), stations.geometry.y.to_numpy())))
    want: dict[tuple[str, str], list[str]] = {}
    for pid, a, b in pairs[["pair_id", "from_crs", "to_crs"]].itertuples(index=False):
        want.setdefault((a, b), []).append(pid)
    rows = []
    fast_of = fast_line_patterns(patterns, as_assumptions(assumptions))
    for stops, n, fast in zip(patterns["stops"], patterns["daily_trains"].to_numpy(dtype="float64"), fast_of):
        s = [c for c in pattern_stops(stops) if c in pos]
        if len(s) < 2 or not n > 0:
            continue
        xy = np.array([pos[c] for c in s])
        L = np.hypot(*np.diff(xy, axis=0).T) / 1000.0
        express = L.mean() >= spacing_km
        long_ = np.r_[0.0, np.cumsum(L if express else 0.0 * L)]
        short = np.r_[0.0, np.cumsum(0.0 * L if express else L)]
        at: dict[str, list[int]] = {}
        for i, c in enumerate(s):
            at.setdefault(c, []).append(i)
        for (a, b), ids in want.items():
            if a in at and b in at:
                # the shortest ride of the pattern from a to b (a loop may call at either twice)
                ij = [(i, j) for i in at[a] for j in at[b] if i < j]
                if not ij:
                    continue
                i, j = min(ij, key=lambda q: q[1] - q[0])
                for pid in ids:
                    rows.append((pid, j - i, long_[j] - long_[i], short[j] - short[i], n, bool(fast)))
    return pd.DataFrame(rows, columns=["pair_id", "links", "km_long", "km_short", "trains", "fast"])


def candidate_rides(cands: pd.DataFrame, params: dict[str, float], assumptions: Any = None) -> pd.DataFrame:
    """Per pair: the fastest pattern's ride and the train-weighted mean ride of all patterns (the
    network's rail edges' ``fastest_min`` and ``typical_min``) under ``params`` (the fitted constants;
    ``pt.fast_line_factor`` 1 when absent)."""
    from ..network.rail import headway_wait_min

    a = as_assumptions(assumptions)
    factor = np.where(cands["fast"].to_numpy(dtype=bool) if "fast" in cands.columns else False,
                      params.get("pt.fast_line_factor", 1.0), 1.0)
    ride = (cands["links"].to_numpy() * params["pt.stop_penalty_min"]
            + cands["km_long"].to_numpy() / (params["pt.express_kmh"] * factor) * 60.0
            + cands["km_short"].to_numpy() / (params["pt.stopping_kmh"] * factor) * 60.0)
    df = cands[["pair_id", "trains"]].assign(ride=ride).sort_values(["pair_id", "ride"], kind="stable")
    g = df.groupby("pair_id", sort=False)
    F = g["trains"].cumsum().to_numpy()
    FR = (df["trains"] * df["ride"]).groupby(df["pair_id"], sort=False).cumsum().to_numpy()
    e = headway_wait_min(F, a) + FR / F
    df = df.assign(e=e, FR=FR, F=F, fastest=g["ride"].transform("first"))
    last = df.groupby("pair_id", sort=False)[["F", "FR"]].transform("last")
    df["typical"] = last["FR"] / last["F"]
    best = df.loc[df.groupby("pair_id", sort=False)["e"].idxmin()]
    return best.set_index("pair_id")[["fastest", "typical"]]


def _predict(cands, params, kinds, assumptions) -> pd.Series:
    r = candidate_rides(cands, params, assumptions).reindex(kinds.index)
    return pd.Series(np.where(kinds == "fastest", r["fastest"], r["typical"]), index=kinds.index)


def calibrate_rail(*, spacing_km: float | None = None, path: Any = None, assumptions: Any = None,
                   start: tuple[float, float, float] | None = None, loo: bool = True) -> RailCalibration:
    """Fit ``pt.stop_penalty_min``, ``pt.express_kmh``, ``pt.stopping_kmh`` and ``pt.fast_line_factor`` to the validation set's
    direct station-to-station pairs; refit leaving each pair out to predict it (``loo``; see the
    module docstring)."""
    from ..layers.rail import load_rail_patterns, load_rail_stations
    from .validate import read_validation_set

    a = as_assumptions(assumptions)
    spacing = a["pt.express_spacing_km"] if spacing_km is None else float(spacing_km)
    v = read_validation_set(path)
    v = v[v["class"].isin(["intercity_rail", "local_rail"]) & (v["scenario"] == "base")
          & v["origin_ref"].str.startswith("crs:") & v["destination_ref"].str.startswith("crs:")]
    pairs = pd.DataFrame({"pair_id": v["pair_id"], "from_crs": v["origin_ref"].str[4:], "to_crs": v["destination_ref"].str[4:]})
    stations, patterns = load_rail_stations(region=None), load_rail_patterns(region=None)
    fwd = rail_candidates(pairs, stations, patterns, spacing_km=spacing, assumptions=a)
    have = set(fwd["pair_id"])
    back = pairs[~pairs["pair_id"].isin(have)].rename(columns={"from_crs": "to_crs", "to_crs": "from_crs"})
    cands = pd.concat([fwd, rail_candidates(back, stations, patterns, spacing_km=spacing, assumptions=a)], ignore_index=True)
    ids = pd.Index(sorted(set(cands["pair_id"])))
    v = v.loc[ids]
    pub = v["published_min"].astype("float64")
    kinds = v["time_kind"].where(v["time_kind"] == "fastest", "typical")
    w = np.where(v["evidence"] == "recalled", 0.5, 1.0)

    def loss(theta: np.ndarray, mask: np.ndarray) -> float:
        if np.any(theta <= 0):
            return 1e9
        p = dict(zip(_PARAMS, theta))
        m = _predict(cands[cands["pair_id"].isin(ids[mask])], p, kinds[mask], a)
        return float(np.sum(w[mask] * np.abs(np.log(m.to_numpy() / pub[mask].to_numpy()))) / np.sum(w[mask]))

    x0 = np.array(start if start is not None else [a[k] for k in _PARAMS], dtype="float64")
    every = np.ones(len(ids), dtype=bool)
    fit = minimize(loss, x0, args=(every,), method="Nelder-Mead", options={"xatol": 1e-3, "fatol": 1e-7, "maxiter": 4000})
    params = dict(zip(_PARAMS, (float(x) for x in fit.x)))
    fitted = _predict(cands, params, kinds, a)
    loo_min = pd.Series(np.nan, index=ids)
    for i in range(len(ids) if loo else 0):
        mask = every.copy()
        mask[i] = False
        f_i = minimize(loss, fit.x, args=(mask,), method="Nelder-Mead", options={"xatol": 1e-3, "fatol": 1e-7, "maxiter": 4000})
        one = cands[cands["pair_id"] == ids[i]]
        loo_min.iloc[i] = _predict(one, dict(zip(_PARAMS, f_i.x)), kinds.iloc[[i]], a).iloc[0]
    table = pd.DataFrame({"pair_id": ids, "class": v["class"].to_numpy(), "time_kind": kinds.to_numpy(),
                          "evidence": v["evidence"].to_numpy(), "published_min": pub.to_numpy(),
                          "fitted_min": fitted.to_numpy(), "loo_min": loo_min.to_numpy()})
    table["error_pct"] = 100 * (table["fitted_min"] / table["published_min"] - 1)
    table["loo_error_pct"] = 100 * (table["loo_min"] / table["published_min"] - 1)
    return RailCalibration(params=params, pairs=table, loss=float(fit.fun))


_CAR_PARAMS = ("access.urban_kmh", "access.rural_kmh", "access.a_road_kmh")
#: Physical bounds of the fitted speeds (km/h): streets 15-50, rural roads 30-80, A-roads 40-90 (a
#: fit is not allowed to buy accuracy with speeds no car could keep up on such roads).
_CAR_BOUNDS = np.array([[15.0, 50.0], [30.0, 80.0], [40.0, 90.0]])


@dataclass
class CarCalibration:
    """Fitted local road speeds, and the per-pair errors in sample and out of sample (leave one out)."""

    params: dict[str, float]
    pairs: pd.DataFrame
    loss: float

    def summary(self) -> dict[str, float]:
        e, lo = self.pairs["error_pct"].abs(), self.pairs["loo_error_pct"].abs()
        return {"pairs": len(self.pairs), "median_abs_pct": float(e.median()), "loo_median_abs_pct": float(lo.median()),
                "loo_share_over_30": float(100 * (lo > 30).mean()), "bias_pct": float(self.pairs["error_pct"].median())}


def calibrate_car(*, path: Any = None, assumptions: Any = None, loo: bool = True) -> CarCalibration:
    """Fit the local road speeds ``access.urban_kmh``, ``access.rural_kmh`` and ``access.a_road_kmh``
    (the speeds of the access and local links that join zones and sites to the strategic roads and
    to each other, :func:`lisgeo.network.access.drive_minutes`) to
    the published drive times of the validation set (classes ``urban_car``, ``rural_car``), on the
    validation network, by the mean absolute log error; refit leaving each pair out to predict it.

    Only the access and local links change with these speeds, so the network is built once and
    their times are recomputed from their length and the urban flag of their ends.
    """
    from scipy.sparse.csgraph import dijkstra

    from ..network.engine import _csr, mode_edges
    from ..network.schema import EdgeMode
    from .validate import _point_node, _ref_points, read_validation_set, validation_network

    a = as_assumptions(assumptions)
    v = read_validation_set(path)
    v = v[v["class"].isin(["urban_car", "rural_car"]) & (v["scenario"] == "base")]
    points = _ref_points(pd.concat([v["origin_ref"], v["destination_ref"]]), [])
    G = validation_network("base", points, assumptions=a)
    e = mode_edges(G, "car")
    data = [(d.get("mode"), d.get("length_km", np.nan)) for u, w, d in G.edges(data=True)
            if d.get("mode") in (EdgeMode.ROAD, EdgeMode.LOCAL, EdgeMode.ACCESS_CAR, EdgeMode.PARK_RIDE)]
    modes = np.array([m for m, _ in data], dtype=object)
    length = np.array([L for _, L in data], dtype="float64")
    nodes = pd.Index(sorted(set(e["u"]) | set(e["v"])))
    u, w_ = nodes.get_indexer(e["u"]), nodes.get_indexer(e["v"])
    urban = np.array([bool(G.nodes[n].get("urban", False)) for n in nodes])
    term = np.array([G.nodes[n].get("kind") in ("zone", "site", "dest") for n in nodes])
    fixed = e["time_min"].to_numpy(dtype="float64")
    local = (modes == EdgeMode.LOCAL)
    access = (modes == EdgeMode.ACCESS_CAR) | (modes == EdgeMode.PARK_RIDE)
    # the terminal end of an access link sets its speed; a local link runs half at each end's speed
    t_end = np.where(term[u], u, w_)
    park = np.where(modes == EdgeMode.PARK_RIDE, a["pt.car_park_min"], 0.0)
    o_nodes = [_point_node(points, r) for r in v["origin_ref"]]
    d_nodes = [_point_node(points, r) for r in v["destination_ref"]]
    oi, di = nodes.get_indexer(o_nodes), nodes.get_indexer(d_nodes)
    pub = v["published_min"].to_numpy(dtype="float64")
    wt = np.where(v["evidence"] == "recalled", 0.5, 1.0)
    uo = np.unique(oi)

    from ..network.access import drive_minutes

    def times(theta: np.ndarray) -> np.ndarray:
        vu, vr, va = theta
        prof = {"access.a_road_after_km": a["access.a_road_after_km"], "access.a_road_kmh": va}
        sp = lambda i: np.where(urban[i], vu, vr)  # noqa: E731
        w = fixed.copy()
        w[access] = drive_minutes(length[access], sp(t_end[access]), prof) + park[access]
        w[local] = 0.5 * drive_minutes(length[local], sp(u[local]), prof) + 0.5 * drive_minutes(length[local], sp(w_[local]), prof)
        D = dijkstra(_csr(u, w_, w, len(nodes)), directed=True, indices=uo)
        row = {o: k for k, o in enumerate(uo)}
        return np.array([D[row[o], d] for o, d in zip(oi, di)])

    def loss(theta: np.ndarray, mask: np.ndarray) -> float:
        if np.any(theta < _CAR_BOUNDS[:, 0]) or np.any(theta > _CAR_BOUNDS[:, 1]):
            return 1e9
        return float(np.sum(wt[mask] * np.abs(np.log(times(theta)[mask] / pub[mask]))) / np.sum(wt[mask]))

    every = np.ones(len(v), dtype=bool)
    x0 = np.clip(np.array([a[k] for k in _CAR_PARAMS], dtype="float64"), _CAR_BOUNDS[:, 0] + 1, _CAR_BOUNDS[:, 1] - 1)
    opts = {"xatol": 0.05, "fatol": 1e-6, "maxiter": 400}
    fit = minimize(loss, x0, args=(every,), method="Nelder-Mead", options=opts)
    fitted = times(fit.x)
    loo_t = np.full(len(v), np.nan)
    for i in range(len(v) if loo else 0):
        mask = every.copy()
        mask[i] = False
        f_i = minimize(loss, fit.x, args=(mask,), method="Nelder-Mead", options={**opts, "maxiter": 80})  # warm start
        loo_t[i] = times(f_i.x)[i]
    table = pd.DataFrame({"pair_id": v["pair_id"].to_numpy(), "class": v["class"].to_numpy(), "evidence": v["evidence"].to_numpy(),
                          "published_min": pub, "fitted_min": fitted, "loo_min": loo_t})
    table["error_pct"] = 100 * (table["fitted_min"] / table["published_min"] - 1)
    table["loo_error_pct"] = 100 * (table["loo_min"] / table["published_min"] - 1)
    return CarCalibration(params=dict(zip(_CAR_PARAMS, (float(x) for x in fit.x))), pairs=table, loss=float(fit.fun))
