"""Draw a map definition: classify each layer's frame and render it with folium; save HTML and PNG.

``draw_map(spec, frames=..., load=...)`` draws the layers of a :class:`~lisgeo.mapping.spec.MapSpec`
from frames given by layer name, or from a ``load(layer_def, spec)`` function (the pipeline's
:class:`lisgeo.pipeline.maps.MapData` supplies one), and returns a :class:`MapResult` (the folium
map, its prepared layers and the district table); ``write_map`` saves its HTML (and a print PNG).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

import geopandas as gpd
import pandas as pd

from ..catalog import attribution_for
from ..errors import EmptyResultError, ParameterError, UnknownNameError
from .prepare import PreparedLayer, district_table, prepare_layer
from .render import render_map, save_map
from .spec import LayerDef, MapSpec, read_spec

__all__ = ["MapResult", "BuiltMap", "draw_map", "write_map", "SCORE_DATASETS"]

#: Datasets behind the score columns (for attribution when the scores carry none).
SCORE_DATASETS = ("lsoa21_boundaries", "census2021_population", "census2011_workplace_msoa", "srn_graph",
                  "aquius_rail", "naptan_910", "imd2025_lsoa21")


@dataclass
class MapResult:
    """A drawn map: the folium map, prepared layers, the district table, skipped layers."""

    spec: MapSpec
    map: Any
    layers: list[PreparedLayer]
    table: pd.DataFrame
    table_units: dict[str, tuple[str, int]]
    skipped: dict[str, str] = field(default_factory=dict)

    @property
    def sources(self) -> list[str]:
        out: list[str] = []
        for p in self.layers:
            for s in p.sources:
                if s not in out:
                    out.append(s)
        return out

    def feature_counts(self) -> dict[str, int]:
        """Features drawn per map layer (what a browser should show)."""
        return {p.ldef.name: p.n_features for p in self.layers}


def draw_map(spec: MapSpec | str | Path, *, frames: Mapping[str, gpd.GeoDataFrame] | None = None,
             load: Callable[[LayerDef, MapSpec], gpd.GeoDataFrame] | None = None,
             region: str | None = None, scenario: str | None = None) -> MapResult:
    """Classify and draw the layers of a map definition with folium.

    Each layer's frame comes from ``frames`` (by layer name) or else from ``load(layer_def, spec)``.
    Layers marked ``optional`` that have no data for the region (empty, or naming a site the
    region's network lacks) are left out and listed in ``MapResult.skipped``; any other missing
    data is an error.
    """
    if not isinstance(spec, MapSpec):
        spec = read_spec(spec)
    spec = spec.with_options(region=region, scenario=scenario)
    frames = dict(frames or {})
    prepared: dict[str, PreparedLayer] = {}
    skipped: dict[str, str] = {}
    for ldef in spec.layers:
        try:
            if ldef.name in frames:
                gdf = frames[ldef.name]
            elif load is not None:
                gdf = load(ldef, spec)
            else:
                raise ParameterError(f"map {spec.name!r}: no frame for layer {ldef.name!r}; pass frames= or draw it with "
                                     "lisgeo.pipeline.maps.make_map, which loads the data")
            if ldef.source in ("scores", "compare") and not gdf.attrs.get("sources"):
                gdf = gdf.copy()
                gdf.attrs["attribution"] = gdf.attrs.get("attribution") or attribution_for(SCORE_DATASETS)
                gdf.attrs["sources"] = list(SCORE_DATASETS)
            prepared[ldef.name] = prepare_layer(ldef, gdf)
        except (EmptyResultError, UnknownNameError) as exc:
            # an optional layer with nothing to draw for this region (e.g. no National Park, a site
            # outside the region's network) is left out and listed; anything else is an error
            if not ldef.optional:
                raise
            skipped[ldef.name] = str(exc)
    if spec.table and spec.table.layer in skipped:
        raise EmptyResultError(f"map {spec.name!r}: the table's layer {spec.table.layer!r} has no data: {skipped[spec.table.layer]}; point [table] at another layer or choose another region")
    table, units = district_table(spec, prepared)
    m = render_map(spec, prepared.values(), table=table, table_units=units)
    return MapResult(spec, m, list(prepared.values()), table, units, skipped)


@dataclass
class BuiltMap:
    """A map written to disk, with its sizes (bytes)."""

    name: str
    title: str
    subtitle: str
    html: Path
    png: Path | None
    html_bytes: int
    result: MapResult


def write_map(result: MapResult, path: str | Path, *, inline: bool = False, png: bool = True) -> BuiltMap:
    """Save a built map as HTML (and a PNG beside it for print)."""
    path = Path(path)
    save_map(result.map, path, inline=inline)
    png_path = None
    if png:
        from .static import render_png

        png_path = render_png(result, path.with_suffix(".png"))
    return BuiltMap(result.spec.name, result.spec.title, result.spec.subtitle, path, png_path, path.stat().st_size, result)
