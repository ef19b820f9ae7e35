"""Whole-region runs: score a region, compare scenarios, recompute the strategy's claims, make maps.

Each run is a sequence of stages (load the layers, build the network, compute the travel times,
compute the measures, record the provenance) that wires the other stages of lisgeo together;
the analysis itself lives in :mod:`lisgeo.layers`, :mod:`lisgeo.network`, :mod:`lisgeo.measures`
and :mod:`lisgeo.mapping`.
"""

from .claims import recompute_claims
from .compare import compare_scenarios, write_comparison
from .maps import MapData, build_region, make_map, make_maps, write_report
from .score import load_inputs, score_network, score_region, travel_times, write_scores

__all__ = [
    "recompute_claims", "compare_scenarios", "write_comparison", "MapData", "build_region", "make_map", "make_maps", "write_report",
    "load_inputs", "score_network", "score_region", "travel_times", "write_scores",
]
