"""lisgeo: layers, networks, accessibility scores and maps for Local Industrial Strategies.

The stages, each importing only those to its left::

    catalog -> layers -> network -> measures -> mapping
                                                        pipeline (whole-region runs), cli

``lisgeo.layers``, ``lisgeo.network``, ``lisgeo.measures`` and ``lisgeo.mapping`` hold the API of
each stage and ``lisgeo.pipeline`` the runs that wire them (score a region, compare scenarios,
make maps); the names below are the usual entry points.
"""

from .assumptions import load_assumptions
from .errors import (
    ConfigError,
    CRSError,
    DataFormatError,
    DataNotFoundError,
    EmptyResultError,
    GeometryError,
    GTFSError,
    HashMismatchError,
    LisgeoError,
    MissingColumnError,
    NetworkError,
    OutputError,
    ParameterError,
    UnknownNameError,
)
from .layers import list_layers, load_layer
from .regions import get_region, list_regions

__version__ = "0.1.0"

__all__ = [
    "ConfigError", "CRSError", "DataFormatError", "DataNotFoundError", "EmptyResultError", "GeometryError", "GTFSError",
    "HashMismatchError", "LisgeoError", "MissingColumnError", "NetworkError", "OutputError", "ParameterError",
    "UnknownNameError", "get_region", "list_layers", "list_regions", "load_assumptions", "load_layer",
]
