"""Web maps: contents, escaping, WGS84 at the edge, rounding, shared geometry, inlining, PNG, size budget."""

from __future__ import annotations

import hashlib
import json
import re
from importlib import resources

import geopandas as gpd
import numpy as np
import pytest
import shapely
from shapely.geometry import Point, box

from lisgeo.errors import EmptyResultError, MissingColumnError
from lisgeo.mapping import write_map
from lisgeo.pipeline import make_map
from lisgeo.mapping.prepare import simplify_for_display, tooltip_html
from lisgeo.mapping.render import ASSET_SHA256, GeometryData, inline_assets, save_map
from lisgeo.mapping.spec import parse_spec
from lisgeo.mapping.static import legend_handles

XSS = "<script>alert(1)</script>"
X0, Y0 = 450_000, 340_000  # near Nottingham, BNG metres


def synthetic_frames() -> dict[str, gpd.GeoDataFrame]:
    codes = ["E01000001", "E01000002", "E01000003", "E01000004"]
    lsoa = gpd.GeoDataFrame(
        {
            "LSOA21CD": codes,
            "LSOA21NM": ["Alpha 001A", XSS, "Gamma 001A", "Delta 001A"],
            "LADCD": ["E06000018", "E06000018", "E07000172", "E07000172"],
            "LADNM": ["Nottingham", "Nottingham", "Broxtowe", "Broxtowe"],
            "pop": [1500, 1600, 1700, 1800],
            "tt_car_hs2_toton": [12.0, 20.0, 31.5, np.nan],
            "jobs_car_45": [100_000, 250_000, 400_000, 550_000],
        },
        geometry=[box(X0, Y0, X0 + 1000, Y0 + 1000), box(X0 + 1000, Y0, X0 + 2000, Y0 + 1000),
                  box(X0, Y0 + 1000, X0 + 1000, Y0 + 2000), box(X0 + 1000, Y0 + 1000, X0 + 2000, Y0 + 2000)],
        crs="EPSG:27700", index=codes,
    )
    lsoa.attrs["attribution"] = "Source: Office for National Statistics licensed under the Open Government Licence v3.0. Contains OS data © Crown copyright and database right"
    lsoa.attrs["sources"] = ["lsoa21_boundaries"]
    districts = lsoa.dissolve(by="LADCD", as_index=False, aggfunc="first")[["LADCD", "LADNM", "geometry"]]
    districts.index = districts["LADCD"].tolist()
    sites = gpd.GeoDataFrame(
        {"site_id": ["s1", "s2"], "name": [XSS, "Toton Hub"], "category": ["energy", "hs2"],
         "LADNM": ["Nottingham", "Broxtowe"], "investment_gbp": [2_500_000, np.nan], "jobs": [300, 11000],
         "source": ["https://example.org/a?b=1&c=2", "D2N2 LIS 2020 <p. 12>"]},
        geometry=[Point(X0 + 500, Y0 + 500), Point(X0 + 1500, Y0 + 1500)], crs="EPSG:27700", index=["s1", "s2"],
    )
    sites.attrs["attribution"] = "National Highways, Open Government Licence v3.0"
    return {"tt": lsoa, "jobs": lsoa, "districts": districts, "sites": sites}


SPEC = {
    "title": "HS2 & jobs <test>",
    "subtitle": "Car time to Toton (minutes), quantiles",
    "layers": [
        {"name": "tt", "source": "scores", "column": "tt_car_hs2_toton", "k": 3, "tooltip": ["LSOA21NM", "LADNM"]},
        {"name": "jobs", "source": "scores", "column": "jobs_car_45", "k": 2, "scheme": "equal_interval", "show": False},
        {"name": "districts", "layer": "districts", "style": "outline", "tooltip": ["LADNM"], "legend": False},
        {"name": "sites", "layer": "sites", "style": "points", "column": "category", "scheme": "categorical",
         "tooltip": ["name", "category"], "popup": ["name", "category", "investment_gbp", "jobs", "source"]},
    ],
    "table": {"layer": "tt", "by": "LADNM", "weight": "pop",
              "stats": {"tt_car_hs2_toton": "median", "jobs_car_45": "weighted_mean", "pop": "sum"}, "counts": ["sites"]},
}


@pytest.fixture(scope="module")
def built():
    return make_map(parse_spec(SPEC, name="synthetic"), frames=synthetic_frames())


@pytest.fixture(scope="module")
def page(built):
    return built.map.get_root().render()


def _children(m, cls):
    return [c for c in m._children.values() if isinstance(c, cls)]


def test_features_legends_and_table(built):
    assert built.feature_counts() == {"tt": 4, "jobs": 4, "districts": 2, "sites": 2}
    tt = built.layers[0]
    assert tt.legend.labels == ["12 – 17 min", "17 – 24 min", "24 – 32 min", "No data"]  # edges 17.33, 23.83
    assert [e.count for e in tt.legend.entries] == [1, 1, 1, 1]
    jobs = built.layers[1]
    assert jobs.legend.labels == ["100,000 – 325,000 jobs", "325,000 – 550,000 jobs"]
    t = built.table
    assert list(t.index) == ["Broxtowe", "Nottingham", "All areas shown"]
    assert t.iloc[:, 0].tolist()[:2] == [31.5, 16.0]  # medians (Broxtowe has one value, one missing)
    # population-weighted mean of jobs: Nottingham (1500*100k + 1600*250k) / 3100
    assert t.iloc[1, 1] == pytest.approx((1500 * 100_000 + 1600 * 250_000) / 3100)
    assert t.iloc[:, 2].tolist() == [3500, 3100, 6600]
    assert t.iloc[:, 3].tolist() == [1, 1, 2]


def test_page_has_controls_title_attribution(page):
    assert "L.control.scale()" in page
    assert "L.control.layers(" in page
    assert "L.control.fullscreen(" in page
    assert "HS2 \\u0026amp; jobs \\u0026lt;test\\u0026gt;" in page  # title: HTML-escaped, then JSON-encoded
    assert "Contains OS data \\u00a9 Crown copyright and database right" in page
    assert "National Highways" in page and "OpenStreetMap" in page
    assert "tileerror" in page and "Base map tiles could not be loaded" in page


def test_every_value_escaped(page, built):
    assert XSS not in page
    assert "\\u0026lt;script\\u0026gt;alert(1)\\u0026lt;/script\\u0026gt;" in page  # escaped, then JSON-encoded
    layers = [c for c in built.map._children.values() if type(c).__name__ == "DataLayer"]
    props = [c.props for c in layers]
    tips = [tooltip_html(p["v"], json.loads(c.labels_json)) for c, layer in zip(layers, props) for p in layer if "v" in p]
    assert any("&lt;script&gt;alert(1)&lt;/script&gt;" in t for t in tips)
    assert not any(XSS in t for t in tips)
    pops = [p["p"] for layer in props for p in layer if "p" in p]
    assert any('href="https://example.org/a?b=1&amp;c=2"' in p for p in pops)
    assert any("D2N2 LIS 2020 &lt;p. 12&gt;" in p for p in pops)
    assert any("£2.5m" in p and "300 jobs" in p for p in pops)
    assert any("12 min" in t for t in tips)


def test_geometry_shared_rounded_and_wgs84(built):
    from lisgeo.mapping.encode import unpack_geometry

    geos = _children(built.map, GeometryData)
    assert len(geos) == 3  # LSOAs (shared by tt and jobs), districts, sites
    data = json.loads(geos[0].data_json)
    assert data["d"] == 5 and len(data["f"]) == 4
    shapes = unpack_geometry(data)
    coords = np.concatenate([np.asarray(g.exterior.coords) for g in shapes])
    assert ((coords[:, 0] > -1.3) & (coords[:, 0] < -1.2)).all()  # longitude near Nottingham
    assert ((coords[:, 1] > 52.9) & (coords[:, 1] < 53.0)).all()
    assert np.allclose(coords, np.round(coords, 5))
    # the same shapes as projected and rounded directly, within the rounding
    wgs = built.layers[0].gdf.geometry.to_crs("EPSG:4326").values
    assert all(a.equals_exact(b, tolerance=1e-5) for a, b in zip(shapes, wgs))


def test_inline_page_fetches_nothing(built, tmp_path):
    cdn = save_map(built.map, tmp_path / "cdn.html", inline=False)
    assert 'src="https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js"' in cdn.read_text()
    inl = save_map(built.map, tmp_path / "inline.html").read_text()  # self-contained by default
    assert not re.search(r"<script[^>]+src=", inl)
    assert not re.search(r"<link[^>]+href=", inl)
    assert "Leaflet 1.9.3" in inl and "leaflet.fullscreen" in inl
    assert "url(data:image/png;base64," in inl and "url(images/" not in inl


def test_vendored_assets_are_pinned():
    for name, digest in ASSET_SHA256.items():
        data = resources.files("lisgeo.mapping").joinpath("assets", name).read_bytes()
        assert hashlib.sha256(data).hexdigest() == digest, name


def test_inline_refuses_unknown_cdn():
    with pytest.raises(Exception, match="no vendored copy"):
        inline_assets('<script src="https://cdn.example.org/other.js"></script>')


def test_png_same_legend(built, tmp_path):
    res = write_map(built, tmp_path / "m.html", png=True)
    assert res.png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and res.png.stat().st_size > 20_000
    handles, labels = legend_handles([p for p in built.layers if p.ldef.show])
    assert labels[0].startswith("Time to HS2 East Midlands Hub (Toton) by car")
    assert labels[1:5] == ["12 – 17 min (1)", "17 – 24 min (1)", "24 – 32 min (1)", "No data (1)"]


def test_bad_inputs():
    frames = synthetic_frames()
    spec = parse_spec({**SPEC, "layers": [{**SPEC["layers"][0], "column": "nope"}], "table": {"layer": "tt"}})
    with pytest.raises(MissingColumnError, match="nope"):
        make_map(spec, frames=frames)
    spec = parse_spec({**SPEC, "layers": [{**SPEC["layers"][0], "where": {"LADNM": "Nowhere"}}], "table": {"layer": "tt"}})
    with pytest.raises(EmptyResultError, match="optional"):
        make_map(spec, frames=frames)
    spec = parse_spec({**SPEC, "layers": [SPEC["layers"][0], {**SPEC["layers"][3], "where": {"category": "x"}, "optional": True}],
                       "table": {"layer": "tt"}})
    res = make_map(spec, frames=frames)
    assert list(res.skipped) == ["sites"] and res.feature_counts() == {"tt": 4}


def test_simplify_keeps_coverage():
    # two neighbours sharing a wiggly edge: simplified together they still share it exactly
    edge = [(0, 0)] + [(i * 10, (i % 2) * 3) for i in range(1, 100)] + [(1000, 0)]
    a = shapely.Polygon(edge + [(1000, 500), (0, 500)])
    b = shapely.Polygon(edge + [(1000, -500), (0, -500)])
    gdf = gpd.GeoDataFrame(geometry=[a, b], crs="EPSG:27700")
    s = simplify_for_display(gdf, tolerance_m=10)
    assert shapely.get_num_coordinates(s.geometry.values).sum() < shapely.get_num_coordinates(gdf.geometry.values).sum()
    assert s.geometry.iloc[0].intersection(s.geometry.iloc[1]).area == pytest.approx(0, abs=1e-6)
    assert s.union_all().area == pytest.approx(1_000_000, rel=1e-3)


def test_lsoa_choropleth_size_budget(real_data, tmp_path):
    from lisgeo.layers.boundaries import load_districts, load_lsoa21

    lsoa = load_lsoa21(region="d2n2")
    rng = np.random.default_rng(0)
    lsoa["tt_car_hs2_toton"] = rng.gamma(3, 10, len(lsoa))
    lsoa["jobs_car_45"] = rng.integers(0, 900_000, len(lsoa))
    lsoa["pop"] = 1500
    spec = parse_spec({**SPEC, "layers": SPEC["layers"][:3], "table": {"layer": "tt", "stats": {"jobs_car_45": "median"}}})
    res = make_map(spec, frames={"tt": lsoa, "jobs": lsoa, "districts": load_districts(region="d2n2")})
    assert res.feature_counts() == {"tt": 1335, "jobs": 1335, "districts": 17}
    size = write_map(res, tmp_path / "d2n2.html", png=False).html_bytes
    inline = write_map(res, tmp_path / "d2n2_inline.html", inline=True, png=False).html_bytes
    assert size < 3_000_000 and inline < 3_000_000
    # display simplification keeps the LSOA coverage: no overlaps, no lost area
    g = res.layers[0].gdf.geometry
    assert g.area.sum() == pytest.approx(lsoa.area.sum(), rel=2e-3)
    assert g.union_all().area == pytest.approx(g.area.sum(), rel=1e-4)


# ------------------------------------------------------------------ offline by default, page title, escaping, footer
def test_pages_are_self_contained_by_default(built, tmp_path):
    res = write_map(built, tmp_path / "m.html", png=False)
    page = res.html.read_text(encoding="utf-8")
    assert not re.search(r"<script[^>]+src=", page) and not re.search(r"<link[^>]+href=", page)
    assert page.startswith('<!DOCTYPE html>\n<html lang="en">')
    assert "<title>HS2 &amp; jobs &lt;test&gt;</title>" in page  # the map title, escaped
    # a --cdn page still names its title and, opened offline, says why it is empty
    cdn = write_map(built, tmp_path / "cdn.html", inline=False, png=False).html.read_text(encoding="utf-8")
    assert 'src="https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js"' in cdn
    assert '<html lang="en">' in cdn and "<title>HS2 &amp; jobs &lt;test&gt;</title>" in cdn
    assert 'id="lisgeo-noleaflet"' in cdn and "typeof L === 'undefined'" in cdn
    assert res.html_bytes < 1_000_000


def test_layer_control_names_are_escaped(tmp_path):
    hostile = '<img src=x onerror="window.lisgeoXss=1">'
    spec = parse_spec({**SPEC, "layers": [{**SPEC["layers"][0], "label": hostile},
                                          {**SPEC["layers"][1], "label": hostile}], "table": {"layer": "tt"}})
    page = make_map(spec, frames=synthetic_frames()).map.get_root().render()
    assert hostile not in page and "<img" not in page
    # Leaflet writes layer names as HTML: they are HTML-escaped (then JSON-encoded), and kept distinct
    assert '"\\u0026lt;img src=x onerror=\\u0026quot;window.lisgeoXss=1\\u0026quot;\\u0026gt;"' in page
    assert '"\\u0026lt;img src=x onerror=\\u0026quot;window.lisgeoXss=1\\u0026quot;\\u0026gt; (2)"' in page


def test_footer_scenario_vintage_version(tmp_path):
    import lisgeo

    frames = synthetic_frames()
    tt = frames["tt"].copy()
    tt.attrs = {**frames["tt"].attrs, "scenario": "hs2_2b", "base": "base"}
    res = make_map(parse_spec(SPEC, name="synthetic"), frames={**frames, "tt": tt})
    # from the frame's attrs, each scenario with its status and date (layers/scenarios/*.toml [status])
    shown = "hs2_2b (cancelled 4 October 2023) compared with base (built, as of January 2019)"
    assert res.provenance.scenario == shown
    assert ("lsoa21_boundaries", "LSOA/MSOA Dec 2021 and Dec 2011, generalised clipped (BGC)") in res.provenance.vintages
    text = res.provenance.text
    assert text.startswith(f"Scenario: {shown} · Data: lsoa21_boundaries (")
    assert text.endswith(f"lisgeo {lisgeo.__version__}")
    page = res.map.get_root().render()
    assert f'<footer class="lisgeo-footer">Scenario: {shown}' in page
    # frames that do not say: a scores layer is the map file's scenario, a plain layer has none
    plain = make_map(parse_spec(SPEC, name="synthetic"), frames=synthetic_frames())
    assert plain.provenance.scenario == "base (built, as of January 2019)"
    only_layers = make_map(parse_spec({**SPEC, "layers": SPEC["layers"][2:], "table": {"layer": "districts"}}),
                           frames=synthetic_frames())
    assert only_layers.provenance.scenario == "none (published data only)"


def test_embed_mode_hides_table_and_footer(page):
    # the report embeds pages as page.html#embed: only the map shows (the report prints table and footer once)
    assert 'if (location.hash === "#embed")' in page
    assert "html.lisgeo-embed .lisgeo-table, html.lisgeo-embed .lisgeo-footer { display: none; }" in page
    assert page.count('class="lisgeo-table"') == 1


# ------------------------------------------------------------------ fixed breaks on the web map and the PNG
BREAKS_SPEC = {**SPEC, "layers": [{"name": "tt", "source": "scores", "column": "tt_car_hs2_toton", "breaks": [0, 15, 30],
                                   "palette": "YlOrRd", "tooltip": ["LSOA21NM"]}], "table": {"layer": "tt"}}


def test_breaks_on_web_map_and_png(tmp_path):
    res = make_map(parse_spec(BREAKS_SPEC, name="breaks"), frames=synthetic_frames())
    tt = res.layers[0]
    # 12, 20 and 31.5 min in classes 0-15, 15-30 and (above 30) the last; the legend says so
    assert tt.legend.labels == ["0 – 15 min", "more than 15 min", "No data"]
    assert [e.count for e in tt.legend.entries] == [1, 2, 1]
    assert tt.legend.note == ("Classes of 15 minutes, the same in every region and scenario; 1 area is over 30 min, "
                              "shown with the last class")
    colours = tt.gdf["_color"].tolist()
    assert colours[0] == tt.legend.entries[0].color and colours[1] == colours[2] == tt.legend.entries[1].color
    # the same classes in another region (other data): all classes listed, empty ones too
    far = synthetic_frames()["tt"].assign(tt_car_hs2_toton=[1.0, 2.0, 3.0, 4.0])
    res2 = make_map(parse_spec(BREAKS_SPEC, name="breaks"), frames={"tt": far})
    assert res2.layers[0].legend.labels == ["0 – 15 min", "15 – 30 min"]
    assert [e.count for e in res2.layers[0].legend.entries] == [4, 0]
    assert res2.layers[0].legend.entries[0].color == tt.legend.entries[0].color
    # the PNG draws the same classes, colours and legend
    handles, labels = legend_handles(res.layers, width=200)
    assert labels[0].startswith("Time to HS2 East Midlands Hub (Toton) by car (Classes of 15 minutes, the same in every")
    assert labels[1:] == ["0 – 15 min (1)", "more than 15 min (2)", "No data (1)"]
    assert [h.get_facecolor() for h in handles[1:]] == [
        tuple(matplotlib_rgba(e.color)) for e in tt.legend.entries]
    assert write_map(res, tmp_path / "b.png").png.is_file()


def matplotlib_rgba(color):
    import matplotlib.colors as mcolors

    return mcolors.to_rgba(color)


# ------------------------------------------------------------------ the PNG: place labels, fitted legend, footer
def test_png_labels_places_wraps_legend_and_has_footer(built):
    import matplotlib.pyplot as plt

    import lisgeo
    from lisgeo.mapping.static import draw_png

    long_title = "A very long legend title that would run off the page " * 4 + "$\\frac{1}{2}$ and 100$ to 200$"
    spec = parse_spec({**SPEC, "title": "Cost in $ and £ $x$", "layers": [{**SPEC["layers"][0], "label": long_title},
                                                                          *SPEC["layers"][1:]]}, name="long")
    frames = synthetic_frames()
    res = make_map(spec, frames=frames)
    fig = draw_png(res)
    try:
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()
        texts = [t.get_text() for t in fig.findobj(lambda a: hasattr(a, "get_text") and hasattr(a, "get_parse_math"))]
        # the districts of the map's own layers are named at their representative points
        assert "Nottingham" in texts and "Broxtowe" in texts
        ax = fig.axes[0]
        leg = ax.get_legend()
        bb = leg.get_window_extent(renderer)
        assert fig.bbox.x0 <= bb.x0 and bb.x1 <= fig.bbox.x1 and fig.bbox.y0 <= bb.y0  # on the page
        title = leg.get_texts()[0].get_text()
        assert "\n" in title and title.replace("\n", " ").startswith("A very long legend title")
        footer = next(t for t in texts if t.count("Scenario:") == 1)
        assert f"lisgeo {lisgeo.__version__}" in footer.replace("\n", " ") and "lsoa21_boundaries (" in footer
        # dollar signs are text, not mathtext
        assert all(not t.get_parse_math() for t in fig.findobj(lambda a: hasattr(a, "get_parse_math")))
    finally:
        plt.close(fig)


def test_png_places_given(built):
    from lisgeo.mapping.static import place_labels

    places = gpd.GeoDataFrame({"name": ["Beeston"]}, geometry=[Point(X0 + 300, Y0 + 300)], crs="EPSG:27700")
    res = make_map(parse_spec(SPEC, name="synthetic"), frames=synthetic_frames())
    res.places = places
    assert place_labels(res)["name"].tolist() == ["Beeston"]
    res.places = None
    assert sorted(place_labels(res)["name"]) == ["Broxtowe", "Nottingham"]


# ------------------------------------------------------------------ output by extension
def test_write_map_by_extension(built, tmp_path):
    from lisgeo.errors import OutputError

    only = write_map(built, tmp_path / "x.png")
    assert only.html is None and only.png == tmp_path / "x.png" and only.png.read_bytes()[:4] == b"\x89PNG"
    assert not (tmp_path / "x.html").exists()
    both = write_map(built, tmp_path / "y.html")
    assert both.html.read_text(encoding="utf-8").startswith("<!DOCTYPE html>") and both.png == tmp_path / "y.png"
    assert write_map(built, tmp_path / "z.HTML", png=False).png is None
    with pytest.raises(OutputError, match=r"give a \.html file .* or a \.png file"):
        write_map(built, tmp_path / "x.pdf")
    assert not (tmp_path / "x.pdf").exists()


def test_text_is_never_evaluated_as_a_template(tmp_path):
    # branca compiles element output as Jinja a second time: "{{ 7*7 }}" in a title, label or value must
    # stay text (or it would run in the process that builds the map), and "{%" must not crash the build
    jinja = "{{ 7*7 }} {% if x %}"
    frames = synthetic_frames()
    tt = frames["tt"].assign(LSOA21NM=[jinja, "b", "c", "d"])
    spec = parse_spec({**SPEC, "title": f"T {jinja}", "subtitle": f"S {jinja}",
                       "layers": [{**SPEC["layers"][0], "label": f"L {jinja}"}, SPEC["layers"][1]],
                       "table": {"layer": "tt", "stats": {"pop": "sum"}, "caption": f"C {jinja}"}}, name="jinja")
    res = make_map(spec, frames={**frames, "tt": tt})
    page = write_map(res, tmp_path / "j.html", png=False).html.read_text(encoding="utf-8")
    assert not re.search(r"[TSLC] 49", page) and "\\u003eT 49" not in page  # nothing was computed
    assert "<title>T {{ 7*7 }} {% if x %}</title>" in page
    assert "<caption>C {{ 7*7 }} {% if x %}</caption>" in page
    assert "T {{ 7*7 }} {% if x %}\\u003c/h1\\u003e" in page  # the title control (JSON-encoded HTML)
    assert "{{ 7*7 }} {% if x %}" in page.split("var lisgeo_columns_")[1][:2000]  # tooltip values
    # the layer control (folium's own template) gets the name with braces as character references
    assert '"L \\u0026#123;\\u0026#123; 7*7 \\u0026#125;\\u0026#125; \\u0026#123;% if x %\\u0026#125;"' in page
