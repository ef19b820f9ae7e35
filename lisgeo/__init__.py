"""lisgeo: layers, networks, accessibility scores and maps for Local Industrial Strategies.

The stages, each importing only those to its left::

    catalog -> layers -> network -> measures -> mapping

``lisgeo.layers``, ``lisgeo.network``, ``lisgeo.measures`` and ``lisgeo.mapping`` hold the API of
each stage; the names below are the usual entry points.
"""

from .errors import (
    CRSError,
    DataNotFoundError,
    EmptyResultError,
    GeometryError,
    HashMismatchError,
    LisgeoError,
    MissingColumnError,
    NetworkError,
    UnknownNameError,
)
from .layers import list_layers, load_layer
from .regions import get_region, list_regions

__version__ = "0.1.0"

__all__ = [
    "CRSError", "DataNotFoundError", "EmptyResultError", "GeometryError", "HashMismatchError", "LisgeoError",
    "MissingColumnError", "NetworkError", "UnknownNameError", "get_region", "list_layers", "list_regions", "load_layer",
]
