"""Compare two scenarios of a region: score both, compare, write the tables."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import geopandas as gpd

from ..errors import OutputError
from ..measures.compare import DEFAULT_THRESHOLD_MIN, compare_scores, district_summary, winners_losers

__all__ = ["compare_scenarios", "write_comparison"]


def compare_scenarios(*, region: Any = "d2n2", base: Any = "base", scenario: Any, assumptions: Any = None, weights: Any = None,
                      threshold_min: float = DEFAULT_THRESHOLD_MIN, progress: bool = False) -> gpd.GeoDataFrame:
    """Score ``region`` under ``base`` and ``scenario`` and compare them (:func:`lisgeo.measures.compare.compare_scores`).

    The scenario is scored with the base as ``reference``: its indices and deciles sit on the
    base's scale, so ``d_connectivity_index`` is an absolute change (not a re-ranking).
    Unknown scenario names raise :class:`~lisgeo.errors.UnknownNameError` before any work.
    """
    from ..network import load_scenario
    from .score import score_region

    load_scenario(base)
    load_scenario(scenario)
    b = score_region(region=region, scenario=base, assumptions=assumptions, weights=weights, progress=progress)
    s = score_region(region=region, scenario=scenario, assumptions=assumptions, weights=weights, reference=b, progress=progress)
    return compare_scores(b, s, threshold_min=threshold_min)


def write_comparison(cmp: gpd.GeoDataFrame, directory: str | os.PathLike) -> dict[str, Path]:
    """Write ``compare.gpkg`` (layer ``compare``), ``compare.csv``, ``winners_losers.csv`` and
    ``district_summary.csv`` into ``directory`` (each atomically; all computed first)."""
    from ..io import write_frame
    from .score import scores_to_frame

    directory = Path(directory)
    if directory.exists() and not directory.is_dir():
        raise OutputError(f"output {directory} exists and is not a folder; give a folder with -o")
    wl = winners_losers(cmp)
    ds = district_summary(cmp)
    frame = scores_to_frame(cmp)
    return {
        "compare.gpkg": write_frame(frame, directory / "compare.gpkg", layer="compare"),
        "compare.csv": write_frame(frame, directory / "compare.csv"),
        "winners_losers.csv": write_frame(wl, directory / "winners_losers.csv"),
        "district_summary.csv": write_frame(ds, directory / "district_summary.csv"),
    }
