"""Measures per zone: pure functions on travel-time matrices and frames that keep their index.

:mod:`.columns` names every score column; :mod:`.accessibility` (cumulative, gravity, E2SFCA,
nearest), :mod:`.connectivity` (stops, trains, digital), :mod:`.indices` (0–100 indices,
deciles, left-behind), :mod:`.compare` (scenario deltas, winners and losers) and :mod:`.claims`
(the strategy's headline claims). Whole-region runs that load the data and call these are in
:mod:`lisgeo.pipeline`.
"""

from .accessibility import (
    beta_from_half_life,
    cumulative_opportunities,
    decay_weights,
    e2sfca,
    gravity_access,
    nearest_time,
)
from .claims import commuting_self_containment, population_within_distance, population_within_drive
from .columns import CONTRACT, Column, column, column_name
from .compare import compare_scores, district_summary, winners_losers
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

__all__ = [
    "beta_from_half_life", "cumulative_opportunities", "decay_weights", "e2sfca", "gravity_access", "nearest_time",
    "commuting_self_containment", "population_within_distance", "population_within_drive",
    "CONTRACT", "Column", "column", "column_name",
    "compare_scores", "district_summary", "winners_losers",
    "digital_score", "rail_trains_nearest", "stops_within",
    "accessibility_index", "add_indices", "connectivity_index", "decile", "left_behind", "load_index_config",
    "normalise_measure", "weighted_index",
]
