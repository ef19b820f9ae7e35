"""Web maps with folium: prepared layers in, a self-describing Leaflet page out.

Every map has its title and subtitle on it, a legend per coloured layer (real class edges,
units, no-data entry), tooltips and popups whose every value is HTML-escaped, a layer
control, a scale bar, a full-screen button, the attribution its layers require, and a
table of key figures per district beneath it (the text alternative). Geometry is projected
to WGS84 only here, at the edge.

Base-map tiles need the internet. When they cannot be loaded the data layers still draw on
a blank background and the map says so. ``save_map`` embeds Leaflet and its plugins (vendored
in ``lisgeo/mapping/assets``, see the README there) by default, so a map opened from a file
fetches nothing but tiles; ``inline=False`` links them from CDNs instead (a smaller file that
shows a plain message, not a map, when opened offline).

Every text from a map file or the data (title, subtitle, layer labels in the layer control,
legend titles and entries, table caption and cells, tooltips, popups, the footer) is
HTML-escaped before it reaches the page, and never evaluated as a template (see
:mod:`lisgeo.mapping._elements`). A page opened as ``page.html#embed`` (how the report
embeds it) shows only the map: the report prints the table and footer itself, once.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import html
import json
import re
from importlib import resources
from pathlib import Path
from typing import Iterable

import folium
import pandas as pd
import shapely
from branca.element import Element, Template
from folium.map import Layer
from folium.plugins import Fullscreen

from ..errors import EmptyResultError, HashMismatchError, OutputError
from ._elements import VerbatimMacroElement, template_safe_html
from .legend import LegendControl, format_value, legend_html
from .encode import DECODER_JS, ColumnStore, pack_geometry
from .prepare import COORD_DECIMALS, PreparedLayer, js_safe, split_attribution
from .spec import MapSpec

__all__ = ["render_map", "save_map", "inline_assets", "DataLayer", "GeometryData", "PageColumns", "HtmlControl", "table_html", "table_caption", "footer_html",
           "ASSET_SHA256", "OSM_ATTRIBUTION", "OFFLINE_NOTE", "NO_LEAFLET_NOTE", "EMBED_HASH", "BEYOND_LABEL", "BeyondSwitch",
           "asset_block", "INLINE_ASSETS"]

OSM_ATTRIBUTION = '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors'
OFFLINE_NOTE = ("Base map tiles could not be loaded (no internet connection?): "
                "the data layers are shown on a blank background.")
#: Shown by a page saved with ``inline=False`` (``--cdn``) when Leaflet could not be fetched.
NO_LEAFLET_NOTE = ("This map could not load its map library from the internet (it was saved with --cdn). "
                   "Connect to the internet and reload, or rebuild it without --cdn: lisgeo then embeds "
                   "everything it needs in the page.")
#: The layer-control entry that shows the features beyond the region (off at opening).
BEYOND_LABEL = "Beyond the region"
#: The URL fragment under which a map page shows only the map (the report's iframes use it).
EMBED_HASH = "#embed"

#: The page around a map: folium's, with ``lang="en"`` and the (escaped) map title.
_FIGURE_TEMPLATE = Template(
    "<!DOCTYPE html>\n"
    '<html lang="en">\n'
    "<head>\n"
    "{% if this.title %}<title>{{ this.title }}</title>{% endif %}"
    "    {{ this.header.render(**kwargs) }}\n"
    "</head>\n"
    "<body>\n"
    "    {{ this.html.render(**kwargs) }}\n"
    "</body>\n"
    "<script>\n"
    "    {{ this.script.render(**kwargs) }}\n"
    "</script>\n"
    "</html>\n"
)

#: sha256 of the vendored files (checked by a test and before inlining).
ASSET_SHA256 = {
    "leaflet.js": "5819285cec137b229c94e1ee5ad73e8b6b84345a4367d60f75fe477fe0fb7b03",
    "leaflet.css": "90b693d86392a4779c861b28cf307e7e59c3fb35328c4d8b95f58f814d38c722",
    "Control.FullScreen.js": "3c542b5d5844cc00cff2787dff49504a31f3bed9de3161e5b26e0c0437d6bbb7",
    "Control.FullScreen.css": "31f9593e6e715114e23076ba11628f68a301025b44b85ffb70fca4bc9475214e",
    "icon-fullscreen.svg": "034807095346f7be3b9d5b2add42ba0677af1a89d2f90a0caa5c75ec2780a2a2",
    "images/layers.png": "1dbbe9d028e292f36fcba8f8b3a28d5e8932754fc2215b9ac69e4cdecf5107c6",
    "images/layers-2x.png": "066daca850d8ffbef007af00b06eac0015728dee279c51f3cb6c716df7c42edf",
    "images/marker-icon.png": "574c3a5cca85f4114085b6841596d62f00d7c892c7b03f28cbfa301deb1dc437",
}

#: CDN stylesheets/scripts that folium adds but lisgeo's layers never use: dropped from inline pages.
_UNUSED_CDN = ("bootstrap", "awesome-markers", "fontawesome", "leaflet.awesome.rotate", "jquery")


class GeometryData(VerbatimMacroElement):
    """The features of one or more layers (WGS84, rounded, encoded: :mod:`lisgeo.mapping.encode`) held
    once in a JS variable as a GeoJSON FeatureCollection; layers with the same features (e.g. several
    score columns on LSOAs) share it, so the page carries each geometry only once. Each feature's
    only property is its row number ``i``."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = lisgeoGeo({{ this.data_json }});
        {% endmacro %}
        """
    )

    def __init__(self, gdf, *, decimals: int = COORD_DECIMALS):
        super().__init__()
        self._name = "LisgeoGeometry"
        self.packed = pack_geometry(gdf.geometry.to_crs("EPSG:4326").values, decimals=decimals)
        self.data_json = js_safe(json.dumps(self.packed, ensure_ascii=False, separators=(",", ":")))


class PageColumns(VerbatimMacroElement):
    """The feature properties of every layer of a page (:class:`lisgeo.mapping.encode.ColumnStore`),
    written once before the layers that read them."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = {{ this.store.to_json() }};
        {% endmacro %}
        """
    )

    def __init__(self):
        super().__init__()
        self._name = "LisgeoColumns"
        self.store = ColumnStore()


class DataLayer(Layer, VerbatimMacroElement):
    """A GeoJSON overlay drawn from shared geometry and its own prepared, escaped properties.

    Per feature: ``c`` colour, ``v`` tooltip values, ``p`` popup HTML (all escaped in Python with
    ``html.escape``); the tooltip labels (escaped) are stored once per layer.
    The Leaflet layer is also registered as ``window.lisgeoLayers[<layer name>]``.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = (function() {
            var props = lisgeoProps({{ this.columns_name }}, {{ this.ref_json }});
            var labels = {{ this.labels_json }};
            var base = {{ this.style|tojson }};
            function tip(v) {
                var h = '<b>' + v[0] + '</b>';
                for (var i = 1; i < v.length; i++) { h += '<br>' + labels[i] + ': ' + v[i]; }
                return h;
            }
            function st(f) {
                var s = Object.assign({}, base), c = props[f.properties.i].c;
                if (c) { s[{{ this.color_key|tojson }}] = c; }
                return s;
            }
            return L.geoJSON({{ this.geo_name }}, {
                style: st,
                pointToLayer: function(f, latlng) { return L.circleMarker(latlng, st(f)); },
                onEachFeature: function(f, layer) {
                    var q = props[f.properties.i];
                    if (q.v) { layer.bindTooltip(function() { return tip(q.v); }, {sticky: true}); }
                    if (q.p) { layer.bindPopup(q.p, {maxWidth: 340}); }
                }
            });
        })();
        window.lisgeoLayers = window.lisgeoLayers || {};
        window.lisgeoLayers[{{ this.layer_key|tojson }}] = {{ this.get_name() }};
        {% endmacro %}
        """
    )

    def __init__(self, prepared: PreparedLayer, geometry: GeometryData, *, columns: PageColumns,
                 name: str | None = None, show: bool | None = None, control: bool = True, key: str | None = None):
        ld = prepared.ldef
        super().__init__(name=name or ld.title, overlay=True, control=control, show=ld.show if show is None else show)
        self._name = "LisgeoLayer"
        self.layer_key = key or ld.name
        self.geo_name = geometry.get_name()
        self.columns_name = columns.get_name()
        gdf = prepared.gdf
        pops = gdf["_pop"] if "_pop" in gdf.columns else [""] * len(gdf)
        self.ref = columns.store.layer(list(gdf["_color"]), [t if t else None for t in gdf["_tip"]],
                                       [p or "" for p in pops])
        self.ref_json = json.dumps(self.ref, separators=(",", ":"))
        self.columns = columns
        self.labels_json = js_safe(json.dumps(prepared.tip_labels, ensure_ascii=False))
        kind = prepared.geom_kind
        if kind == "point":
            self.style = {"radius": ld.radius, "color": "#222222", "weight": 1, "fillColor": ld.color, "fillOpacity": 0.9}
            self.color_key = "fillColor"
        elif kind == "line":
            self.style = {"color": ld.color, "weight": ld.weight, "opacity": 0.9}
            self.color_key = "color"
        elif ld.style == "outline":
            self.style = {"color": ld.color, "weight": ld.weight, "fill": False}
            self.color_key = "color"
        else:
            self.style = {"color": "#555555", "weight": ld.weight if ld.weight != 1.0 else 0.3,
                          "fillOpacity": ld.fill_opacity, "fillColor": ld.color}
            self.color_key = "fillColor"
        if ld.dash and kind != "point":
            self.style["dashArray"] = ld.dash


    @property
    def props(self) -> list[dict]:
        """Per feature ``{c, v, p}``: colour, escaped tooltip values, escaped popup HTML (as the page decodes them)."""
        return self.columns.store.props(self.ref)


class BeyondSwitch(Layer, VerbatimMacroElement):
    """The "Beyond the region" entry of the layer control (off at opening): while it is on, each layer's
    features beyond the region show with their layer (``pairs``: the layer, and its part beyond)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = L.layerGroup();
        (function() {
            var map = {{ this._parent.get_name() }}, sw = {{ this.get_name() }};
            var pairs = [{% for a, b in this.pairs %}[{{ a }}, {{ b }}]{{ "," if not loop.last }}{% endfor %}];
            function sync() {
                pairs.forEach(function(p) {
                    var on = map.hasLayer(sw) && map.hasLayer(p[0]);
                    if (on && !map.hasLayer(p[1])) { map.addLayer(p[1]); }
                    if (!on && map.hasLayer(p[1])) { map.removeLayer(p[1]); }
                });
            }
            map.on('overlayadd overlayremove', sync);
        })();
        {% endmacro %}
        """
    )

    def __init__(self, pairs: list, *, name: str = BEYOND_LABEL):
        super().__init__(name=template_safe_html(name), overlay=True, control=True, show=False)
        self._name = "LisgeoBeyond"
        self.pairs = [(a.get_name(), b.get_name()) for a, b in pairs]


def _same_geometry(a, b) -> bool:
    if len(a) != len(b) or not a.index.equals(b.index):
        return False
    return bool(shapely.equals_exact(a.geometry.values, b.geometry.values, tolerance=0).all())


class HtmlControl(VerbatimMacroElement):
    """A Leaflet control showing an HTML fragment (already escaped) in a corner of the map."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = L.control({position: {{ this.position|tojson }}});
        {{ this.get_name() }}.onAdd = function(map) {
            var div = L.DomUtil.create('div', {{ this.css_class|tojson }});
            div.innerHTML = {{ this.html|tojson }};
            L.DomEvent.disableClickPropagation(div);
            return div;
        };
        {{ this.get_name() }}.addTo({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self, html_text: str, *, position: str = "topleft", css_class: str = "lisgeo-control"):
        super().__init__()
        self._name = "LisgeoControl"
        self.html = html_text
        self.position = position
        self.css_class = css_class


class _HtmlAfterMap(VerbatimMacroElement):
    """Static HTML placed in the page right after the map's div (the text alternative)."""

    _template = Template(
        """
        {% macro html(this, kwargs) %}
        {{ this.fragment }}
        {% endmacro %}
        """
    )

    def __init__(self, fragment: str):
        super().__init__()
        self._name = "LisgeoAfterMap"
        self.fragment = fragment


class _MapScript(VerbatimMacroElement):
    """Attribution of the data, and the offline note shown when base-map tiles fail."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function() {
            var map = {{ this._parent.get_name() }};
            {% for a in this.attributions %}
            map.attributionControl.addAttribution({{ a|tojson }});
            {% endfor %}
            {% if this.tiles_name %}
            var shown = false;
            {{ this.tiles_name }}.on('tileerror', function() {
                if (shown) { return; }
                shown = true;
                document.querySelectorAll('.lisgeo-offline').forEach(function(e) { e.style.display = 'block'; });
            });
            {% endif %}
            window.lisgeoMap = map;
        })();
        {% endmacro %}
        """
    )

    def __init__(self, attributions: list[str], tiles_name: str | None):
        super().__init__()
        self._name = "LisgeoMapScript"
        self.attributions = attributions
        self.tiles_name = tiles_name


_PAGE_CSS = """
<style>
.lisgeo-title { background: rgba(255,255,255,0.93); padding: 6px 10px; max-width: 420px; font: 13px/1.35 sans-serif;
  border-radius: 4px; box-shadow: 0 1px 4px rgba(0,0,0,0.3); }
.lisgeo-title h1 { font-size: 17px; margin: 0 0 3px 0; }
.lisgeo-title p { margin: 0; color: #333; }
.lisgeo-title .lisgeo-offline { display: none; color: #8a3b00; margin-top: 4px; }
.lisgeo-title .lisgeo-status { margin-top: 4px; font-weight: bold; color: #1b1b1b; }
.lisgeo-title .lisgeo-note { margin-top: 4px; font-size: 12px; color: #444; }
.lisgeo-table { font: 13px/1.4 sans-serif; padding: 8px 14px 20px 14px; }
.lisgeo-table table { border-collapse: collapse; }
.lisgeo-table th, .lisgeo-table td { border-bottom: 1px solid #ddd; padding: 3px 8px; text-align: right; }
.lisgeo-table th:first-child, .lisgeo-table td:first-child { text-align: left; }
.lisgeo-table caption { text-align: left; font-weight: bold; padding: 4px 0; }
.lisgeo-footer { font: 12px/1.4 sans-serif; color: #444; padding: 4px 14px 16px 14px; }
.lisgeo-noleaflet { display: none; position: fixed; top: 0; left: 0; right: 0; z-index: 10000; padding: 14px 18px;
  background: #fff3cd; color: #5a3e00; font: 15px/1.4 sans-serif; border-bottom: 1px solid #d9b648; }
html.lisgeo-embed .lisgeo-table, html.lisgeo-embed .lisgeo-footer { display: none; }
html.lisgeo-embed .folium-map { height: 100% !important; }
.leaflet-container { background: #f2f2ef; }
.leaflet-control-layers { font-size: 12px; }
.leaflet-control-attribution { font-size: 10px; }
</style>
<script>if (location.hash === "#embed") { document.documentElement.className += " lisgeo-embed"; }</script>
"""


def table_html(table: pd.DataFrame, units: dict[str, tuple[str, int]], *, caption: str) -> str:
    """The key-figures table as escaped HTML (values formatted with units)."""
    if table is None or table.empty:
        return ""
    head = "".join(f'<th scope="col">{html.escape(str(c))}</th>' for c in [table.index.name or "", *table.columns])
    body = []
    for idx, row in table.iterrows():
        cells = [f'<th scope="row">{html.escape(str(idx))}</th>']
        for c in table.columns:
            u, dec = units.get(c, ("", 0))
            cells.append(f"<td>{html.escape(format_value(row[c], units=u, decimals=dec))}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return (f'<section class="lisgeo-table" aria-label="{html.escape(caption, quote=True)}"><table>'
            f"<caption>{html.escape(caption)}</caption><thead><tr>{head}</tr></thead>"
            f"<tbody>{''.join(body)}</tbody></table></section>")


def footer_html(text: str) -> str:
    """The page footer (scenario, data vintage, lisgeo version), escaped."""
    return f'<footer class="lisgeo-footer">{html.escape(text)}</footer>' if text else ""


def table_caption(spec: MapSpec, statuses: Iterable = ()) -> str:
    """The caption of a map's key-figures table (plain text); ``statuses`` (of the schemes the table's
    figures are for, :class:`lisgeo.status.SchemeStatus`): when they are of one scheme that is not
    built, the caption ends with it."""
    text = spec.table.caption if spec.table and spec.table.caption else f"Key figures by district: {spec.title}"
    shown = {s.scenario: s for s in statuses if s is not None}
    if len(shown) == 1:
        (st,) = shown.values()
        if st.state != "built":
            text = f"{text}. Scheme: {st.text}"
    return text


def render_map(
    spec: MapSpec,
    layers: Iterable[PreparedLayer],
    *,
    table: pd.DataFrame | None = None,
    table_units: dict[str, tuple[str, int]] | None = None,
    attributions: Iterable[str] = (),
    height: str = "80%",
    footer: str = "",
    status: Iterable[str] = (),
    notes: Iterable[str] = (),
    caption: str | None = None,
    frame=None,
) -> folium.Map:
    """Draw prepared layers as a folium map with title, legends, controls, attribution, table and footer.

    The page has ``lang="en"`` and the map's title as its ``<title>``; ``footer`` (plain text, e.g.
    scenario, data vintage and lisgeo version) is printed under the table. ``status`` (plain text
    lines: what is real about each scheme shown) and ``notes`` (e.g. how close the times are) are
    printed in the title box, under the subtitle. ``caption``: the table's (default :func:`table_caption`).
    ``frame`` (the region's outline, BNG): the view the map opens on (default: every layer's extent);
    the rows of a layer beyond it (``PreparedLayer.beyond``) are drawn on a "Beyond the region" toggle,
    off at opening, each part shown while its own layer is on too.
    """
    layers = list(layers)
    if not layers:
        raise EmptyResultError(f"map {spec.name!r} has no layers to draw; give at least one layer with data for the region")
    tiles = "OpenStreetMap" if spec.basemap == "osm" else None
    m = folium.Map(tiles=None, control_scale=True, zoom_control="bottomleft", height=height, prefer_canvas=False,
                   font_size="0.8rem", zoomSnap=0.25)
    fig = m.get_root()
    fig._template = _FIGURE_TEMPLATE
    fig.title = html.escape(spec.title)
    tile_layer = None
    if tiles:
        tile_layer = folium.TileLayer("OpenStreetMap", name="OpenStreetMap base map", attr=OSM_ATTRIBUTION, control=True)
        tile_layer.add_to(m)
    m.get_root().header.add_child(Element(_PAGE_CSS), name="lisgeo_css")
    m.get_root().header.add_child(Element(DECODER_JS), name="lisgeo_decoder")
    offline = (f'<p class="lisgeo-offline">{html.escape(OFFLINE_NOTE)}</p>' if tiles else
               '<p class="lisgeo-offline" style="display:block">No base map: data layers on a blank background.</p>')
    title = (f'<h1>{html.escape(spec.title)}</h1><p class="lisgeo-subtitle">{html.escape(spec.subtitle)}</p>'
             + "".join(f'<p class="lisgeo-status">{html.escape(line)}</p>' for line in status if line)
             + "".join(f'<p class="lisgeo-note">{html.escape(line)}</p>' for line in notes if line) + offline)
    HtmlControl(title, position="topleft", css_class="lisgeo-title").add_to(m)
    columns = PageColumns()
    columns.add_to(m)  # before the layers that read it
    drawn: list[DataLayer] = []
    shared: list[tuple[PreparedLayer, GeometryData]] = []
    names: set[str] = set()
    for p in layers:
        geo = next((g for q, g in shared if _same_geometry(q.gdf, p.gdf)), None)
        if geo is None:
            geo = GeometryData(p.gdf)
            geo.add_to(m)
            shared.append((p, geo))
        # Leaflet's layer control writes layer names as HTML: escape them (and keep them distinct,
        # as the control keys layers by name)
        name, n = p.title, 1
        while name in names:
            n += 1
            name = f"{p.title} ({n})"
        names.add(name)
        dl = DataLayer(p, geo, columns=columns, name=template_safe_html(name))
        dl.add_to(m)
        drawn.append(dl)
    outside = []
    for p, dl in zip(layers, drawn):
        if p.beyond is None or not len(p.beyond):
            continue
        part = dataclasses.replace(p, gdf=p.beyond, beyond=None)
        geo = next((g for q, g in shared if _same_geometry(q.gdf, part.gdf)), None)
        if geo is None:
            geo = GeometryData(part.gdf)
            geo.add_to(m)
            shared.append((part, geo))
        far = DataLayer(part, geo, columns=columns, name=f"{dl.layer_name} (beyond the region)", control=False,
                        show=False, key=f"{p.ldef.name}:beyond")
        far.add_to(m)
        outside.append((dl, far))
    if outside:
        BeyondSwitch(outside).add_to(m)
    sections = [(legend_html(p.legend, legend_id=f"legend-{p.ldef.name}"), dl.get_name())
                for p, dl in zip(layers, drawn) if p.legend is not None]
    if sections:
        LegendControl(sections[::-1]).add_to(m)
    folium.LayerControl(collapsed=False, position="topright").add_to(m)
    Fullscreen(position="bottomleft", title="Full screen", title_cancel="Exit full screen").add_to(m)
    texts = split_attribution([*attributions, *(p.attribution for p in layers)])
    _MapScript([html.escape(t) for t in texts], tile_layer.get_name() if tile_layer else None).add_to(m)
    # bounds from every layer (WGS84 only here)
    import geopandas as gpd

    if frame is not None:
        allb = gpd.GeoSeries([shapely.box(*shapely.bounds(frame))], crs="EPSG:27700").to_crs("EPSG:4326").total_bounds
    else:
        allb = gpd.GeoSeries(pd.concat([p.gdf.geometry for p in layers]), crs=layers[0].gdf.crs).to_crs("EPSG:4326").total_bounds
    m.fit_bounds([[float(allb[1]), float(allb[0])], [float(allb[3]), float(allb[2])]])
    after = ""
    if table is not None and not table.empty:
        after += table_html(table, table_units or {}, caption=caption or table_caption(spec))
    after += footer_html(footer)
    after += (f'<div class="lisgeo-noleaflet" id="lisgeo-noleaflet" role="alert">{html.escape(NO_LEAFLET_NOTE)}</div>'
              "<script>if (typeof L === 'undefined') "
              "{ document.getElementById('lisgeo-noleaflet').style.display = 'block'; }</script>")
    _HtmlAfterMap(after).add_to(m)
    m.lisgeo_spec = spec  # type: ignore[attr-defined]
    m.lisgeo_layers = layers  # type: ignore[attr-defined]
    return m


# ------------------------------------------------------------------ saving and inlining
def _asset(name: str) -> bytes:
    data = resources.files("lisgeo.mapping").joinpath("assets", name).read_bytes()
    want = ASSET_SHA256.get(name)
    if want and hashlib.sha256(data).hexdigest() != want:
        raise HashMismatchError(f"vendored asset {name} does not match its pinned sha256; reinstall lisgeo (see lisgeo/mapping/assets/README.md)")
    return data


def _css_with_data_uris(css: str) -> str:
    def repl(mo: re.Match) -> str:
        ref = mo.group(1).strip("'\"")
        if ref.startswith(("data:", "#")):
            return mo.group(0)
        mime = "image/svg+xml" if ref.endswith(".svg") else "image/png"
        return f"url(data:{mime};base64,{base64.b64encode(_asset(ref)).decode()})"

    return re.sub(r"url\(([^)]+)\)", repl, css)


def _vendored_for(url: str) -> str:
    """The vendored file replacing a CDN URL, '' to drop it; unknown URLs are refused."""
    if "/leaflet@" in url:
        return "leaflet.css" if url.endswith(".css") else "leaflet.js"
    if "Control.FullScreen" in url:
        return "Control.FullScreen.css" if url.endswith(".css") else "Control.FullScreen.js"
    if any(k in url for k in _UNUSED_CDN):
        return ""
    raise OutputError(f"cannot inline {url}: lisgeo has no vendored copy; remove that folium plugin or save with inline=False")


def asset_block(target: str) -> str:
    """The inline ``<script>`` or ``<style>`` element that replaces the CDN tag of vendored file ``target``
    (exactly as :func:`inline_assets` writes it)."""
    if target.endswith(".js"):
        js = _asset(target).decode("utf-8").replace("</script", "<\\/script")
        return f"<script>/* {target} (vendored, see lisgeo/mapping/assets) */\n{js}\n</script>"
    return f"<style>/* {target} */\n{_css_with_data_uris(_asset(target).decode('utf-8'))}\n</style>"


#: The vendored files an inline page may hold (what the report shares between its maps).
INLINE_ASSETS = ("leaflet.css", "Control.FullScreen.css", "leaflet.js", "Control.FullScreen.js")


def inline_assets(page: str) -> str:
    """Replace the CDN <script src> and stylesheet <link> tags of a folium page with inline copies."""

    def tag(mo: re.Match) -> str:
        target = _vendored_for(mo.group(1))
        return asset_block(target) if target else ""

    page = re.sub(r'<script src="(https?://[^"]+)"></script>', tag, page)
    page = re.sub(r'<link rel="stylesheet" href="(https?://[^"]+)"\s*/>', tag, page)
    return page


def save_map(m: folium.Map, path: str | Path, *, inline: bool = True) -> Path:
    """Write the map as one HTML file with all JavaScript and CSS embedded (works offline);
    ``inline=False`` links Leaflet and its plugins from CDNs instead."""
    from ..io import write_text

    page = m.get_root().render()
    if inline:
        page = inline_assets(page)
    return write_text(path, page)  # atomic; an OS error is one line with the fix
