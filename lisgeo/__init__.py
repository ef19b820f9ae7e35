"""lisgeo: layers, networks, accessibility scores and maps for Local Industrial Strategies.

The stages, each importing only those to its left::

    catalog -> layers -> network -> measures -> mapping
                                                        pipeline (whole-region runs), cli

``lisgeo.layers``, ``lisgeo.network``, ``lisgeo.measures`` and ``lisgeo.mapping`` hold the API of
each stage and ``lisgeo.pipeline`` the runs that wire them (score a region, compare scenarios,
make maps); the names below are the usual entry points.
"""

from typing import TYPE_CHECKING

from ._lazy import lazy_exports
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

__version__ = "0.1.0"

# Lazy (PEP 562): ``import lisgeo`` (and so the ``lisgeo`` command) does not import pandas and the
# layers until one of these is used: `lisgeo --help` and a refused option answer at once.
_HOMES = {"load_assumptions": "assumptions", "list_layers": "layers", "load_layer": "layers",
          "get_region": "regions", "list_regions": "regions"}

if TYPE_CHECKING:  # pragma: no cover
    from .assumptions import load_assumptions
    from .layers import list_layers, load_layer
    from .regions import get_region, list_regions

__all__ = [
    "ConfigError", "CRSError", "DataFormatError", "DataNotFoundError", "EmptyResultError", "GeometryError", "GTFSError",
    "HashMismatchError", "LisgeoError", "MissingColumnError", "NetworkError", "OutputError", "ParameterError",
    "UnknownNameError", "get_region", "list_layers", "list_regions", "load_assumptions", "load_layer",
]

_export, __dir__ = lazy_exports(__name__, _HOMES, globals(), __all__)
#: The stages and helpers, imported on first use as attributes too (``lisgeo.layers`` after a bare
#: ``import lisgeo``, as when this file imported them).
_SUBMODULES = frozenset({"assumptions", "cache", "catalog", "checks", "config", "io", "layers", "mapping",
                         "measures", "network", "pipeline", "provenance", "regions", "status"})


def __getattr__(name: str):
    if name in _SUBMODULES:
        import importlib

        return importlib.import_module(f".{name}", __name__)
    return _export(name)
