"""Maps and reports: TOML map definitions, classes, legends, folium web maps, static PNGs, HTML report.

The usual entry points::

    from lisgeo.mapping import build_map, write_map, build_maps, write_report
    res = build_map("maps/3_jobs_access.toml", region="llep")   # folium map + legends + district table
    write_map(res, "jobs.html", inline=True)                     # HTML (works offline) + jobs.png
"""

from .build import BuiltMap, MapData, MapResult, build_map, build_maps, write_map
from .classify import Categories, Classification, class_colors, classify_categories, classify_values
from .legend import Legend, format_value, legend_html
from .prepare import PreparedLayer, district_table, prepare_layer, simplify_for_display
from .render import inline_assets, render_map, save_map
from .report import write_report
from .spec import LayerDef, MapSpec, TableDef, column_info, list_specs, parse_spec, read_spec
from .static import render_png

__all__ = [
    "BuiltMap", "MapData", "MapResult", "build_map", "build_maps", "write_map",
    "Categories", "Classification", "class_colors", "classify_categories", "classify_values",
    "Legend", "format_value", "legend_html",
    "PreparedLayer", "district_table", "prepare_layer", "simplify_for_display",
    "inline_assets", "render_map", "save_map", "write_report",
    "LayerDef", "MapSpec", "TableDef", "column_info", "list_specs", "parse_spec", "read_spec", "render_png",
]
