"""Maps and reports: TOML map definitions, classes, legends, folium web maps, static PNGs, HTML report.

The usual entry points::

    from lisgeo.mapping import draw_map, write_map
    res = draw_map("maps/3_jobs_access.toml", frames={...})      # folium map + legends + district table
    write_map(res, "jobs.html", inline=True)                     # HTML (works offline) + jobs.png

Loading the data a definition names for a region is a pipeline stage:
``lisgeo.pipeline.make_map("maps/3_jobs_access.toml", region="llep")``.
"""

from .draw import BuiltMap, MapResult, draw_map, write_map
from .classify import Categories, Classification, class_colors, classify_categories, classify_values
from .legend import Legend, format_value, legend_html
from .prepare import PreparedLayer, district_table, prepare_layer, simplify_for_display
from .render import inline_assets, render_map, save_map
from .report import render_report
from .spec import LayerDef, MapSpec, TableDef, column_info, list_specs, parse_spec, read_spec
from .static import render_png

__all__ = [
    "BuiltMap", "MapResult", "draw_map", "write_map",
    "Categories", "Classification", "class_colors", "classify_categories", "classify_values",
    "Legend", "format_value", "legend_html",
    "PreparedLayer", "district_table", "prepare_layer", "simplify_for_display",
    "inline_assets", "render_map", "save_map", "render_report",
    "LayerDef", "MapSpec", "TableDef", "column_info", "list_specs", "parse_spec", "read_spec", "render_png",
]
