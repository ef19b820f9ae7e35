"""Measures per zone: accessibility, connectivity, indices, the strategy's claims, scores, comparisons.

Pure functions (:mod:`.accessibility`, :mod:`.connectivity`, :mod:`.indices`) work on travel-time
DataFrames and GeoDataFrames; :func:`score_region` and :func:`compare_scenarios` wire them to the
layers and the network. Column contract and methods: ``docs/scores.md``.
"""

from .accessibility import (
    beta_from_half_life,
    cumulative_opportunities,
    decay_weights,
    e2sfca,
    gravity_access,
    nearest_time,
)
from .claims import commuting_self_containment, population_within_distance, population_within_drive, recompute_claims
from .compare import compare_scenarios, compare_scores, district_summary, winners_losers, write_comparison
from .connectivity import digital_score, rail_trains_nearest, stops_within
from .indices import (
    accessibility_index,
    add_indices,
    connectivity_index,
    decile,
    left_behind,
    load_index_config,
    normalise_measure,
    weighted_index,
)
from .score import CONTRACT_COLUMNS, score_region, write_scores

__all__ = [
    "beta_from_half_life", "cumulative_opportunities", "decay_weights", "e2sfca", "gravity_access", "nearest_time",
    "commuting_self_containment", "population_within_distance", "population_within_drive", "recompute_claims",
    "compare_scenarios", "compare_scores", "district_summary", "winners_losers", "write_comparison",
    "digital_score", "rail_trains_nearest", "stops_within",
    "accessibility_index", "add_indices", "connectivity_index", "decile", "left_behind", "load_index_config",
    "normalise_measure", "weighted_index",
    "CONTRACT_COLUMNS", "score_region", "write_scores",
]
