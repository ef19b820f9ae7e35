"""Maps and reports: TOML map definitions, classes, legends, folium web maps, static PNGs, HTML report.

The usual entry points::

    from lisgeo.mapping import draw_map, write_map
    res = draw_map("maps/3_jobs_access.toml", frames={...})      # folium map + legends + district table
    write_map(res, "jobs.html")                                  # self-contained HTML (works offline) + jobs.png
    write_map(res, "jobs.png")                                   # only the print map
    write_map(res, "jobs.html", inline=False)                    # Leaflet from CDNs (needs the internet)

Every text from a map file or the data is escaped; default palettes are colour-blind safe;
a layer's ``breaks = [...]`` fix its classes across regions and scenarios.

Loading the data a definition names for a region is a pipeline stage:
``lisgeo.pipeline.make_map("maps/3_jobs_access.toml", region="llep")``.
"""

from typing import TYPE_CHECKING

from .._lazy import lazy_exports

# Lazy (PEP 562): reading map definitions (``spec``) does not import folium and the drawing stack,
# so the command's first line and a refused option come about a second and a half sooner.
_HOMES = {
    "BuiltMap": "draw", "MapResult": "draw", "Provenance": "draw", "draw_map": "draw", "output_kind": "draw", "write_map": "draw",
    "Categories": "classify", "Classification": "classify", "class_colors": "classify", "classify_breaks": "classify",
    "classify_categories": "classify", "classify_values": "classify",
    "Legend": "legend", "format_value": "legend", "legend_html": "legend",
    "PreparedLayer": "prepare", "district_table": "prepare", "prepare_layer": "prepare", "simplify_for_display": "prepare",
    "inline_assets": "render", "render_map": "render", "save_map": "render", "render_report": "report",
    "QUALITATIVE_PALETTES": "spec", "LayerDef": "spec", "MapSpec": "spec", "TableDef": "spec", "column_info": "spec",
    "list_specs": "spec", "parse_spec": "spec", "read_spec": "spec",
    "draw_png": "static", "render_png": "static",
}


__getattr__, __dir__ = lazy_exports(__name__, _HOMES, globals())


if TYPE_CHECKING:  # pragma: no cover
    from .classify import Categories, Classification, class_colors, classify_breaks, classify_categories, classify_values
    from .draw import BuiltMap, MapResult, Provenance, draw_map, output_kind, write_map
    from .legend import Legend, format_value, legend_html
    from .prepare import PreparedLayer, district_table, prepare_layer, simplify_for_display
    from .render import inline_assets, render_map, save_map
    from .report import render_report
    from .spec import QUALITATIVE_PALETTES, LayerDef, MapSpec, TableDef, column_info, list_specs, parse_spec, read_spec
    from .static import draw_png, render_png

__all__ = [
    "BuiltMap", "MapResult", "Provenance", "draw_map", "output_kind", "write_map",
    "Categories", "Classification", "class_colors", "classify_breaks", "classify_categories", "classify_values",
    "Legend", "format_value", "legend_html",
    "PreparedLayer", "district_table", "prepare_layer", "simplify_for_display",
    "inline_assets", "render_map", "save_map", "render_report",
    "LayerDef", "MapSpec", "TableDef", "QUALITATIVE_PALETTES", "column_info", "list_specs", "parse_spec", "read_spec",
    "draw_png", "render_png",
]
