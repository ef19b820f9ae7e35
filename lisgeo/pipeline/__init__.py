"""Whole-region runs: score a region, compare scenarios, recompute the strategy's claims, make maps.

Each run is a sequence of stages (load the layers, build the network, compute the travel times,
compute the measures, record the provenance) that wires the other stages of lisgeo together;
the analysis itself lives in :mod:`lisgeo.layers`, :mod:`lisgeo.network`, :mod:`lisgeo.measures`
and :mod:`lisgeo.mapping`.
"""

from typing import TYPE_CHECKING

from .._lazy import lazy_exports

# Lazy (PEP 562): ``lisgeo score`` should not pay for the mapping stack (folium, matplotlib:
# about 2 s) that only the map runs need.
_HOMES = {
    "recompute_claims": "claims",
    "compare_scenarios": "compare", "write_comparison": "compare",
    "MapData": "maps", "build_region": "maps", "make_map": "maps", "make_maps": "maps", "write_report": "maps",
    "load_inputs": "score", "score_network": "score", "score_region": "score", "graph_times": "score", "travel_times": "score",
    "write_scores": "score",
}
__all__ = [
    "recompute_claims", "compare_scenarios", "write_comparison", "MapData", "build_region", "make_map", "make_maps",
    "write_report", "load_inputs", "score_network", "score_region", "graph_times", "travel_times", "write_scores",
]

if TYPE_CHECKING:  # pragma: no cover
    from .claims import recompute_claims
    from .compare import compare_scenarios, write_comparison
    from .maps import MapData, build_region, make_map, make_maps, write_report
    from .score import graph_times, load_inputs, score_network, score_region, travel_times, write_scores


__getattr__, __dir__ = lazy_exports(__name__, _HOMES, globals(), __all__)
