"""Layers: GeoDataFrames in EPSG:27700 for a region, one module per family."""

from ._registry import LAYERS, LayerSpec, finish_layer, list_layers, load_layer, register_layer

__all__ = ["LAYERS", "LayerSpec", "finish_layer", "list_layers", "load_layer", "register_layer"]
