"""lisgeo: layers, networks, accessibility scores and maps for Local Industrial Strategies."""

from .errors import *  # noqa: F401,F403
from .regions import get_region, list_regions
from .layers import list_layers, load_layer

__version__ = "0.1.0"
