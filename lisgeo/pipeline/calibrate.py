"""Calibrate the model's constants on data nothing is validated on, with held-out errors.

**Rail running times** (:func:`calibrate_rail_segments`). The rail model
(:mod:`lisgeo.network.rail`) takes a link's running time from a real timetable wherever one runs
trains between the same two stations without a call between them, and models it elsewhere
(:func:`lisgeo.network.rail.run_time_min`)::

    minutes = pt.stop_penalty_min + km / (pt.run_kmh × (km / 10) ^ pt.run_distance_exponent × f) × 60

(``km`` the straight line between the two calls, ``f`` the train operator's ``run_factor`` in
``layers/rail_operators.csv``: the line it runs on, as far as the operator tells it; 1 for an
operator with fewer than :data:`MIN_OPERATOR_SEGMENTS` training segments), plus ``pt.dwell_min``
at every call in between where the station's own dwell is not known. Those constants are fitted here on the timetabled segments
(consecutive public calls) of an ATOC CIF timetable, by default the national sample of 20 March
2020 (``rail_cif_sample``: about 110,000 segments between 6,000 pairs of stations all over Great
Britain), never on the published journey times of ``layers/validation/``:

* a fifth of the pairs of stations (the unordered pair's CRC-32 modulo 5 is 0: fixed, not random)
  is **held out before anything is fitted**: the fit sees only the other four fifths, and the
  held-out segments give the model's error on links it never saw, per class of train (CIF
  category ``OO`` ordinary, stopping and regional trains; ``XX`` express), beside a crow-fly
  baseline (one speed per class, fitted on the same training segments);
* the fit minimises a robust (soft L1) loss of the log error (``scipy.optimize.least_squares``);
  sleeper trains (``XZ``, whose segments run for hours between public calls) are left out;
* ``pt.dwell_min`` is the mean public dwell at intermediate calls of the training schedules.

The fitted values go into ``layers/assumptions.toml`` by hand, with the figures in their source;
``tests/pipeline/test_calibrate.py`` refits and checks the file holds them.

**Car speeds** are not fitted: the speeds of the car network are authored from published
statistics (``layers/assumptions.toml`` ``[road]``), and :func:`osm_a_road_speed` shows how the
single-carriageway A-road speed comes from real speed limits and DfT's free-flow speeds.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..assumptions import as_assumptions

__all__ = ["RailSegmentFit", "rail_segment_table", "calibrate_rail_segments", "operator_table", "osm_a_road_speed"]

#: The constants :func:`calibrate_rail_segments` fits, in the order of its parameter vector.
RAIL_PARAMS = ("pt.stop_penalty_min", "pt.run_kmh", "pt.run_distance_exponent")
#: An operator gets a running-speed factor of its own from this many training segments (else 1).
MIN_OPERATOR_SEGMENTS = 300
#: Train classes of the held-out report: CIF categories starting so (ordinary, express).
RAIL_CLASSES = {"OO": "ordinary (stopping and regional)", "XX": "express"}


def _held_out(a: np.ndarray, b: np.ndarray, folds: int = 5) -> np.ndarray:
    """True for the pairs of stations held out: the CRC-32 of the unordered pair modulo ``folds`` is 0."""
    keys = [("-".join(sorted((x, y)))).encode() for x, y in zip(a, b)]
    return np.fromiter((zlib.crc32(k) % folds == 0 for k in keys), dtype=bool, count=len(keys))


def rail_segment_table(cif: Any = None, *, assumptions: Any = None) -> pd.DataFrame:
    """Every timetabled segment of a CIF timetable (default the catalogued sample) with what the
    model sees: ``from_crs``, ``to_crs``, ``km`` (straight line between the stations of
    ``rail_stations``), ``atoc`` (operator code), ``cls`` ("OO" or "XX"),
    ``run_min``, ``dwell_min``, ``held_out`` (:func:`_held_out`). The segments are those the
    network takes its timetabled times from (:func:`lisgeo.layers.rail.weekday_segments`: Sunday
    schedules only where nothing else runs a link); segments at stations the station list lacks,
    of sleeper trains or shorter than 200 m are left out."""
    from ..catalog import resolve_dataset
    from ..layers.rail import load_rail_stations, weekday_segments
    from ..network.cif import cif_segments, read_cif

    a = as_assumptions(assumptions)
    path = resolve_dataset("rail_cif_sample")[0] if cif is None else cif
    tt = read_cif(path)
    seg = weekday_segments(cif_segments(tt), tt.schedules)
    st = load_rail_stations(region=None)
    codes = st["crs"].astype(str).str.upper() if "crs" in st.columns else st.index.astype(str)
    xy = pd.DataFrame({"x": st.geometry.x.to_numpy(), "y": st.geometry.y.to_numpy()}, index=codes.to_numpy())
    xy = xy[~xy.index.duplicated(keep="last")]
    known = seg["from_crs"].isin(xy.index) & seg["to_crs"].isin(xy.index)
    seg = seg[known & ~seg["category"].astype("string").eq("XZ").fillna(False)].copy()
    p, q = xy.loc[seg["from_crs"].to_numpy()].to_numpy(), xy.loc[seg["to_crs"].to_numpy()].to_numpy()
    seg["km"] = np.hypot(*(p - q).T) / 1000.0
    seg = seg[seg["km"] > 0.2]
    seg["cls"] = np.where(seg["category"].astype("string").str.startswith("X").fillna(False), "XX", "OO")
    seg["held_out"] = _held_out(seg["from_crs"].to_numpy(), seg["to_crs"].to_numpy())
    seg["atoc"] = seg["atoc"].astype("string").fillna("")
    cols = ["schedule", "uid", "atoc", "cls", "from_crs", "to_crs", "km", "run_min", "dwell_min", "held_out"]
    return seg[cols].reset_index(drop=True)


@dataclass
class RailSegmentFit:
    """The fitted running-time constants, the operators' factors, the mean dwell, and the
    held-out segments' errors."""

    params: dict[str, float]
    factors: dict[str, float]    # ATOC code -> run_factor (operators with enough training segments)
    counts: dict[str, int]       # ATOC code -> training segments
    dwell_min: float
    test: pd.DataFrame   # the held-out segments with model_min, baseline_min, error_pct, baseline_error_pct
    n_train: int

    def summary(self) -> pd.DataFrame:
        """Per class of train and all: held-out segments, median |error| and bias (median error) of
        the model and of the crow-fly baseline (%)."""
        rows = []
        for cls, g in [*self.test.groupby("cls"), ("all", self.test)]:
            rows.append({"class": cls, "segments": len(g), "median_abs_pct": float(g["error_pct"].abs().median()),
                         "bias_pct": float(g["error_pct"].median()),
                         "baseline_median_abs_pct": float(g["baseline_error_pct"].abs().median()),
                         "baseline_bias_pct": float(g["baseline_error_pct"].median())})
        return pd.DataFrame(rows)


def _model_min(theta: np.ndarray, km: np.ndarray, factor: np.ndarray) -> np.ndarray:
    a, v, b = theta[:3]
    return a + km / (v * np.power(km / 10.0, b) * factor) * 60.0


def calibrate_rail_segments(cif: Any = None, *, assumptions: Any = None) -> RailSegmentFit:
    """Fit :data:`RAIL_PARAMS` and the operators' running-speed factors on the training four
    fifths of a CIF timetable's segments and report the held-out fifth (see the module docstring)."""
    from scipy.optimize import least_squares

    from ..layers.rail import RUN_FACTOR_RANGE

    seg = rail_segment_table(cif, assumptions=assumptions)
    train, test = seg[~seg["held_out"]], seg[seg["held_out"]].copy()
    counts = train["atoc"].value_counts()
    own = sorted(c for c, n in counts.items() if c and n >= MIN_OPERATOR_SEGMENTS)
    col = pd.Index(own)
    k_train = col.get_indexer(train["atoc"].to_numpy())
    km, run = train["km"].to_numpy(), train["run_min"].to_numpy(dtype="float64")

    def factors(theta: np.ndarray, k: np.ndarray) -> np.ndarray:
        f = np.r_[theta[3:], 1.0]
        return f[np.where(k >= 0, k, len(own))]

    def resid(theta: np.ndarray) -> np.ndarray:
        return np.log(_model_min(theta, km, factors(theta, k_train))) - np.log(run)

    lo, hi = RUN_FACTOR_RANGE
    fit = least_squares(resid, x0=[1.5, 85.0, 0.15] + [1.0] * len(own), loss="soft_l1", f_scale=0.1,
                        bounds=([0.0, 20.0, -1.0] + [lo] * len(own), [10.0, 300.0, 1.0] + [hi] * len(own)))
    dwell = float(train["dwell_min"].dropna().mean())
    k_test = col.get_indexer(test["atoc"].to_numpy())
    test["model_min"] = _model_min(fit.x, test["km"].to_numpy(), factors(fit.x, k_test))
    # the crow-fly baseline: one straight-line speed per class (the median over the training segments)
    speed = train.assign(kmh=train["km"] / train["run_min"] * 60.0).groupby("cls")["kmh"].median()
    test["baseline_min"] = test["km"] / test["cls"].map(speed) * 60.0
    test["error_pct"] = 100.0 * (test["model_min"] / test["run_min"] - 1.0)
    test["baseline_error_pct"] = 100.0 * (test["baseline_min"] / test["run_min"] - 1.0)
    return RailSegmentFit(params=dict(zip(RAIL_PARAMS, (float(x) for x in fit.x[:3]))),
                          factors=dict(zip(own, (float(x) for x in fit.x[3:]))),
                          counts={str(c): int(n) for c, n in counts.items() if c}, dwell_min=dwell, test=test,
                          n_train=int(len(train)))


def operator_table(fit: RailSegmentFit, operators: pd.DataFrame | None = None) -> pd.DataFrame:
    """``layers/rail_operators.csv`` with the fitted ``run_factor`` and ``fit_segments`` of
    ``fit`` (1 and the count for operators with fewer than :data:`MIN_OPERATOR_SEGMENTS`)."""
    from ..layers.rail import read_rail_operators

    ops = read_rail_operators() if operators is None else operators.copy()
    ops["run_factor"] = [round(fit.factors.get(c, 1.0), 3) for c in ops["atoc"]]
    ops["fit_segments"] = [fit.counts.get(c, 0) for c in ops["atoc"]]
    return ops


def osm_a_road_speed(path: Any = None, *, roads: tuple[str, ...] = ("A606", "A6003", "A6121")) -> dict[str, float]:
    """The free-flow car speed (km/h) of A roads from their OpenStreetMap speed limits: the
    length-weighted harmonic mean of DfT's free-flow car speeds by limit (30 mph roads 31 mph,
    national-speed-limit single carriageways 50 mph, 70 mph dual carriageways 69 mph; vehicle
    speed compliance statistics for Great Britain 2019; 20, 40 and 50 mph roads at the limit),
    ways without a limit taken as national speed limit. By default the non-trunk A roads of the
    Rutland extract (``osm_rutland``): the source of ``road.a_single_kmh``. Needs ``pyrosm``."""
    from ..catalog import resolve_dataset
    from ..network.osm import _parse_maxspeed

    try:
        import pyrosm
    except ImportError:  # pragma: no cover - the osm extra
        from ..errors import LisgeoError

        raise LisgeoError("osm_a_road_speed needs pyrosm: pip install 'lisgeo[osm]'") from None
    path = resolve_dataset("osm_rutland")[0] if path is None else path
    net = pyrosm.OSM(str(path)).get_network("driving").to_crs(27700)
    ref = net["ref"].fillna("").astype(str).str.split(";").str[0]
    ways = net[ref.isin(list(roads))]
    mph = np.array([_parse_maxspeed(v) for v in ways["maxspeed"]]) / 1.609344
    free = {20: 20.0, 30: 31.0, 40: 40.0, 50: 50.0, 60: 50.0, 70: 69.0}
    v = np.array([free.get(int(round(m)), 50.0) if np.isfinite(m) else 50.0 for m in mph])
    L = ways.geometry.length.to_numpy() / 1000.0
    kmh = float(L.sum() / np.sum(L / (v * 1.609344)))
    return {"kmh": kmh, "mph": kmh / 1.609344, "km": float(L.sum()), "ways": int(len(ways))}


