"""Compare two scenarios of a region: score both, compare, write the tables."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import geopandas as gpd

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
    """Write ``compare.gpkg`` (layer ``compare``), ``compare.csv``, ``winners_losers.csv``,
    ``district_summary.csv`` and ``provenance.json`` into ``directory``, as one set: everything is
    computed first, then the files are swapped into place all or nothing (:func:`lisgeo.io.atomic_set`).

    ``provenance.json`` (:mod:`lisgeo.provenance`) records the base and the scenario, the region,
    the threshold, what the comparison's ``attrs`` hold of the assumptions and index weights, the
    datasets of a scoring run with their sha256, and the sha256 of each file written.
    """
    from ..io import atomic_set, check_output_dir
    from ..provenance import SCORE_LAYERS, add_provenance, build_provenance, gpkg_metadata, layer_datasets
    from .score import scores_to_frame

    directory = check_output_dir(directory)
    wl = winners_losers(cmp)
    ds = district_summary(cmp)
    frame = scores_to_frame(cmp)
    prov = build_provenance("compare", attrs=cmp.attrs, datasets=list(cmp.attrs.get("sources") or layer_datasets(SCORE_LAYERS)),
                            details={"rows": len(frame)})
    with atomic_set(directory) as out:
        out.write_frame(frame, "compare.gpkg", layer="compare", metadata=gpkg_metadata(prov))
        out.write_frame(frame, "compare.csv")
        out.write_frame(wl, "winners_losers.csv")
        out.write_frame(ds, "district_summary.csv")
        add_provenance(out, prov)
    return out.paths
