"""Outputs a planner can send (issue 22): maps within a size budget, legends in plain words, colours a
reader can tell apart, maps framed on the region, the report as one file, provenance beside maps and report.

Each test names what it caught before the change. The browser checks of the report alone (copied to an
empty folder, opened offline) are in test_browser.py.
"""

from __future__ import annotations

import json
import re
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely


#: D2N2 map pages must stay within this (bytes); before: 2.17-2.70 MB each (0.87 MB the overview).
MAP_BUDGET = 1_200_000
#: Words of a developer, not a planner: none may appear in a legend, a note, a title or a layer name.
DEVELOPER_PHRASES = (r"map file", r"fisher", r"jenks", r"quantile", r"interval", r"natural breaks", r"\bbreaks\b",
                     r"toml", r"categorical", r"\bnan\b", r"\bnone\b", r"\bnull\b", r"\btrue\b", r"\bfalse\b", r"_",
                     r"isochrone", r"\bcolumn\b", r"\bspec\b", r"class edges", r"\.md\b", r"docs/", r"\bk\s*=")


def developer_words(text: str) -> list[str]:
    return [p for p in DEVELOPER_PHRASES if re.search(p, text, re.I)]


# ------------------------------------------------------------------ encoded geometry and properties
def test_encoded_lines_round_trip():
    """The encoded-polyline form keeps every vertex to 1e-5 degrees, either sign, any size of step."""
    from lisgeo.mapping.encode import decode_line, encode_line, pack_geometry, unpack_geometry

    rng = np.random.default_rng(3)
    xy = np.column_stack([rng.uniform(-3, 1, 200), rng.uniform(52, 54, 200)])
    xy[5] = xy[4]  # a repeated vertex (a zero step)
    back = decode_line(encode_line(xy))
    assert np.abs(back - np.round(xy, 5)).max() < 1e-9
    assert len(encode_line(xy)) < 200 * 2 * 6  # a few characters per number, not "-1.23456," (9)
    g = [shapely.Point(-1.5, 52.9), shapely.MultiPolygon([shapely.box(0, 0, 1, 1), shapely.box(2, 2, 3, 3)]),
         shapely.Polygon([(0, 0), (4, 0), (4, 4), (0, 4)], [[(1, 1), (2, 1), (2, 2), (1, 1)]]),
         shapely.MultiLineString([[(0, 0), (1, 1)], [(2, 2), (3, 1)]]), None]
    out = unpack_geometry(pack_geometry(g))
    assert out[-1] is None and all(a.equals_exact(b, 1e-9) for a, b in zip(out[:-1], g[:-1]))


def test_column_store_writes_a_shared_column_once():
    from lisgeo.mapping.encode import ColumnStore

    store = ColumnStore()
    names = [f"Area {i:03d}" for i in range(100)]
    a = store.layer(["#fff"] * 100, [[n, "1 min"] for n in names], [""] * 100)
    b = store.layer(["#000"] * 100, [[n, "2 min"] for n in names], [""] * 100)
    assert a["v"][0] == b["v"][0]  # the area names, written once for both layers
    assert store.columns[a["c"]] == {"d": ["#fff"], "i": [0] * 100}  # a repeated value: a dictionary
    assert store.props(b)[7] == {"c": "#000", "v": ["Area 007", "2 min"]}


def test_lsoa_mosaic_stays_gap_free_after_encoding(real_data):
    """Display simplification of the shared topology, then rounding and encoding: neighbouring LSOAs
    still share their edges exactly (a valid coverage, no gaps or overlaps), in the coordinates the
    browser draws."""
    from lisgeo.layers.boundaries import load_lsoa21
    from lisgeo.mapping.encode import pack_geometry, unpack_geometry
    from lisgeo.mapping.prepare import simplify_for_display

    lsoa = load_lsoa21(region="d2n2")
    shown = simplify_for_display(lsoa[["geometry"]])
    drawn = np.asarray(unpack_geometry(pack_geometry(shown.geometry.to_crs("EPSG:4326").values)), dtype=object)
    assert bool(shapely.coverage_is_valid(drawn))
    assert shapely.get_num_coordinates(drawn).sum() < 0.95 * shapely.get_num_coordinates(lsoa.geometry.values).sum()
    # the area drawn is the area of the data (in BNG: the drawn shapes projected back)
    back = gpd.GeoSeries(drawn, crs="EPSG:4326").to_crs("EPSG:27700")
    assert back.area.sum() == pytest.approx(lsoa.area.sum(), rel=2e-3)


# ------------------------------------------------------------------ size budget, on the real D2N2 maps
def test_d2n2_maps_within_budget(d2n2_build):
    """Every default map of a real `lisgeo build --region d2n2` is at most 1.2 MB (before: 2.17-2.70 MB,
    1.9 MB of it inline geometry), and the self-contained report with all six maps inside stays small
    (1.6 MB when written); the whole folder was 19-20 MB."""
    sizes = {p.name: p.stat().st_size for p in sorted((d2n2_build / "maps").glob("*.html"))}
    assert len(sizes) == 6
    over = {n: s for n, s in sizes.items() if s > MAP_BUDGET}
    assert not over, f"maps over {MAP_BUDGET / 1e6} MB: {over}"
    report = (d2n2_build / "report.html").stat().st_size
    assert report < 2_500_000, report
    total = sum(p.stat().st_size for p in d2n2_build.rglob("*") if p.is_file())
    assert total < 15_000_000, total


def test_data_outputs_keep_full_precision(d2n2_build):
    """Display simplification is for the pages only: scores.gpkg holds the LSOAs as published."""
    import pyogrio

    from lisgeo.layers.boundaries import load_lsoa21

    scores = pyogrio.read_dataframe(d2n2_build / "scores" / "scores.gpkg")
    full = load_lsoa21(region="d2n2")
    assert shapely.get_num_coordinates(scores.geometry.values).sum() == shapely.get_num_coordinates(full.geometry.values).sum()


# ------------------------------------------------------------------ legends in plain words
def test_legends_in_plain_words(default_maps):
    """No legend title, entry or note, map title, subtitle, layer name or note holds a developer's phrase
    (before: "Fixed classes set in the map file", "Quantile classes", "Natural breaks (Fisher–Jenks)",
    "Equal-interval classes", "Drive-time isochrones", "docs/validation.md")."""
    import html as _html

    from lisgeo.mapping.legend import legend_html
    from lisgeo.mapping.static import legend_handles

    found = {}
    for b in default_maps:
        res = b.result
        texts = [res.spec.title, res.spec.subtitle, *res.notes, *res.status_lines]
        for p in res.layers:
            texts.append(p.title)
            if p.legend is not None:  # the legend as the web map and the print map show it
                texts.append(_html.unescape(re.sub(r"<[^>]+>", " ", legend_html(p.legend))))
        texts += legend_handles(res.layers)[1]
        for t in texts:
            bad = developer_words(t)
            if bad:
                found.setdefault(b.name, []).append((t, bad))
    assert not found, found


def test_class_notes_say_how_the_classes_were_made(default_maps):
    notes = {(b.name, p.ldef.name): p.legend.note for b in default_maps for p in b.result.layers if p.legend is not None}
    assert notes[("3_jobs_access", "jobs_car_45")] == "Five classes with about the same number of areas each"
    assert notes[("4_connectivity", "connectivity_index")] == "Five classes, split where the values jump most"
    assert notes[("5_digital", "broadband")] == "Five classes of equal width, from the lowest value to the highest"
    assert notes[("2_hs2_connectivity", "tt_toton")].startswith(
        "Classes of 15 minutes (the last 30 minutes), the same in every region and scenario")
    assert notes[("6_scenario_hs2", "d_london")].startswith(
        "Six classes, the same in every region and scenario; the middle colour is little or no change")


# ------------------------------------------------------------------ colours a reader can tell apart
def test_ciede2000_matches_the_published_test_data():
    """Sharma, Wu & Dalal (2005), Table 1: pairs 1, 7, 13, 17, 21, 25, 31 and 34."""
    from lisgeo.mapping.colours import delta_e2000, delta_e2000_lab

    pairs = [((50.0, 2.6772, -79.7751), (50.0, 0.0, -82.7485), 2.0425),
             ((50.0, 0.0, 0.0), (50.0, -1.0, 2.0), 2.3669),
             ((50.0, 2.5, 0.0), (50.0, 3.1736, 0.5854), 1.0),
             ((50.0, 2.5, 0.0), (73.0, 25.0, -18.0), 27.1492),
             ((50.0, 2.5, 0.0), (50.0, 3.2972, 0.0), 1.0),
             ((60.2574, -34.0099, 36.2677), (60.4626, -34.1751, 39.4387), 1.2644),
             ((90.8027, -2.0831, 1.441), (91.1528, -1.6435, 0.0447), 1.4441),
             ((2.0776, 0.0795, -1.135), (0.9033, -0.0636, -0.5514), 0.9082)]
    for a, b, want in pairs:
        assert delta_e2000_lab(a, b) == pytest.approx(want, abs=1e-4)
    assert delta_e2000("#ffffff", "#ffffff") == 0
    assert delta_e2000("#8e0152", "#AA3377") < 10  # the old HS2 stations and "health" sites: nearly one colour


def test_every_map_tells_its_categories_apart(default_maps):
    """On every default map, every two symbols of one kind a reader matches against the legend (each
    single-colour layer, each category of an unordered categorical layer: points with points, lines
    with lines, fills with fills) are at least ΔE00 20 apart (CIEDE2000), and 8 as seen with
    deuteranopia, protanopia or tritanopia. Before: map 1's HS2 stations (#8e0152) and health sites
    (#AA3377) were 9.8 apart, its black visitor-economy sites and dark grey (#444444) railway stations 18.9."""
    from lisgeo.mapping.colours import MIN_DELTA_E, MIN_DELTA_E_CVD, closest_pair, colour_clashes, symbol_groups

    assert MIN_DELTA_E == 20 and MIN_DELTA_E_CVD == 8
    for b in default_maps:
        assert colour_clashes(b.result.layers) == [], b.name
    overview = next(b for b in default_maps if b.name == "1_overview").result
    points = symbol_groups(overview.layers)["point"]
    assert len(points) == 12 + 2  # the twelve site categories, the railway stations and the HS2 stations
    assert closest_pair([c for *_, c in points])[0] >= 21.7  # Okabe–Ito's own closest pair (orange and yellow)


def test_coldspots_unlike_district_boundaries(default_maps):
    """Map 5's coldspot outlines are dashed, in colours far from the solid grey district lines, and
    their legends show a dashed line and say so (before: solid lines, the neighbourhood coldspots in a
    dark red (#67000d) that reads as dark grey on the map, like the district edges)."""
    from lisgeo.mapping.colours import MIN_DELTA_E, MIN_DELTA_E_CVD, VISIONS, delta_e2000

    digital = next(b for b in default_maps if b.name == "5_digital")
    layers = {p.ldef.name: p for p in digital.result.layers}
    page = digital.html.read_text(encoding="utf-8")
    for name in ("coldspots_lsoa", "coldspots_lad"):
        p = layers[name]
        assert p.ldef.dash and p.legend.dash == p.ldef.dash
        assert "dashed" in p.legend.labels[0]
        colour = p.legend.entries[0].color
        for vision in VISIONS:
            assert delta_e2000(colour, layers["districts"].ldef.color, vision) >= MIN_DELTA_E_CVD
        assert delta_e2000(colour, layers["districts"].ldef.color) >= MIN_DELTA_E
        assert f'"dashArray": "{p.ldef.dash}"' in page
    assert 'stroke-dasharray=\\"5 4\\"' in page and 'stroke-dasharray=\\"10 6\\"' in page  # (the legend, as JSON)


# ------------------------------------------------------------------ framed on the region
def test_maps_framed_on_the_region(default_maps, real_data):
    """Maps 1 and 2 open on the region's outline, not on everything their layers reach (before: the
    view ran to Birmingham); what lies wholly beyond the region is on the "Beyond the region" toggle,
    off at opening and left off the print map, and nothing the map is about is lost."""
    from lisgeo.layers.boundaries import region_reach

    outline = region_reach("d2n2", 0.0)
    zone = outline.buffer(500)
    for name in ("1_overview", "2_hs2_connectivity"):
        res = next(b for b in default_maps if b.name == name).result
        assert res.frame is not None and res.frame.equals(outline)
        for p in res.layers:
            assert shapely.intersects(zone, np.asarray(p.gdf.geometry.values, dtype=object)).all(), (name, p.ldef.name)
            if p.beyond is not None and len(p.beyond):
                assert not shapely.intersects(zone, np.asarray(p.beyond.geometry.values, dtype=object)).any()
                assert p.n_features + len(p.beyond) == len(p.data)  # nothing lost
                assert p.legend.beyond == len(p.beyond) and "more beyond the region" in p.legend.full_note()
        counts = res.feature_counts()
        assert counts.get("stations:beyond", 0) > 0 or name != "1_overview"
        assert counts.get("hs2:beyond", 0) > 0  # HS2 stations outside the region: kept, on the toggle
        page = next(b for b in default_maps if b.name == name).html.read_text(encoding="utf-8")
        assert '"Beyond the region" : lisgeo_beyond_' in page
        # the view opens on the region's box (WGS84), not on Birmingham
        fit = re.search(r"\.fitBounds\(\s*\[\[([-\d.]+), ([-\d.]+)\], \[([-\d.]+), ([-\d.]+)\]\]", page)
        s, w, n, e = map(float, fit.groups())
        box = gpd.GeoSeries([shapely.box(*outline.bounds)], crs="EPSG:27700").to_crs("EPSG:4326").total_bounds
        assert (w, s, e, n) == pytest.approx(tuple(box), abs=1e-6)
        assert s > 52.6  # Birmingham (52.48 N) is outside the view


# ------------------------------------------------------------------ the report and provenance
def test_report_is_one_file(d2n2_build):
    """report.html holds every map: no reference to maps/ or to any address but the base-map tiles'
    (before: six iframes of maps/*.html, empty when the report was sent alone)."""
    page = (d2n2_build / "report.html").read_text(encoding="utf-8")
    assert "maps/" not in page and 'src="http' not in page and not re.search(r"<link[^>]+href=", page)
    frames = re.findall(r'<iframe class="map" data-lisgeo-page="([^"]+)"', page)
    assert len(frames) == 6
    uses: dict[str, int] = {}
    for ident in frames:
        m = re.search(rf'<script type="application/json" id="{ident}">(.*?)</script>', page, re.S)
        inner = json.loads(m.group(1))
        assert inner.startswith("<!DOCTYPE html>") and 'class="lisgeo-embed"' in inner
        assert not re.search(r"<script[^>]+src=", inner) and not re.search(r"<link[^>]+href=", inner)
        for k in re.findall(r"lisgeoGeo\(@@lisgeo-[0-9a-f]+-(\d+)@@\)", inner):
            uses[k] = uses.get(k, 0) + 1
    pieces = json.loads(re.search(r'<script type="application/json" id="lisgeo-pieces"[^>]*>(.*?)</script>', page, re.S).group(1))
    assert sum("Leaflet 1.9.3" in p for p in pieces) == 1  # Leaflet once, for all six maps
    assert max(uses.values()) >= 4  # the LSOAs, drawn by most maps, held once


def test_provenance_beside_maps_and_report(d2n2_build):
    """maps/provenance.json lists each map with the sha256 of its page and PNG, the map file that drew
    it, its scenarios with their status and its datasets; provenance.json beside the report records
    the report's sha256, the maps inside it, the scenarios and the lisgeo version (before: neither file)."""
    import lisgeo
    from lisgeo.provenance import file_sha256

    maps = json.loads((d2n2_build / "maps" / "provenance.json").read_text(encoding="utf-8"))
    assert maps["kind"] == "maps" and maps["lisgeo_version"] == lisgeo.__version__ and maps["region"] == "d2n2"
    assert [m["name"] for m in maps["maps"]] == ["1_overview", "2_hs2_connectivity", "3_jobs_access", "4_connectivity",
                                                 "5_digital", "6_scenario_hs2"]
    for m in maps["maps"]:
        for kind in ("html", "png"):
            f = m["files"][kind]
            assert f["sha256"] == file_sha256(d2n2_build / "maps" / f["file"])
        assert m["definition"]["path"].endswith(f"{m['name']}.toml") and len(m["definition"]["sha256"]) == 64
        assert m["datasets"] and all(x["features"] >= 0 for x in m["layers"])
    status = {s["name"]: s for s in maps["scenarios"]}
    assert status["hs2_2b"]["status"]["state"] == "cancelled" and status["hs2_phase1"]["status"]["state"] == "under_construction"
    assert "cancelled 4 October 2023" in status["hs2_2b"]["status_text"]
    assert {d["name"] for d in maps["datasets"]} >= {"lsoa21_boundaries", "ofcom_broadband_2021"}
    report = json.loads((d2n2_build / "provenance.json").read_text(encoding="utf-8"))
    assert report["kind"] == "report" and report["details"]["maps_inside"] is True
    assert report["outputs"]["report.html"]["sha256"] == file_sha256(d2n2_build / "report.html")
    assert [m["name"] for m in report["maps"]] == [m["name"] for m in maps["maps"]]
    assert {s["name"] for s in report["scenarios"]} == {"base", "hs2_2b", "hs2_phase1"}
    from lisgeo.provenance import CLAIMS_LAYERS, layer_datasets

    assert report["details"]["claims"] is True
    assert set(layer_datasets(CLAIMS_LAYERS)) <= {d["name"] for d in report["datasets"]}


def test_linked_report_keeps_the_folder(default_maps, tmp_path):
    """--linked: the earlier report, its maps framed from maps/ (with links and print PNGs)."""
    import shutil

    from lisgeo.pipeline import write_report

    out = tmp_path / "linked"
    (out / "maps").mkdir(parents=True)
    built = []
    from dataclasses import replace

    for b in default_maps[:2]:
        shutil.copy(b.html, out / "maps" / b.html.name)
        built.append(replace(b, html=out / "maps" / b.html.name))
    page = write_report(region="d2n2", out_dir=out, built=built, with_claims=False, linked=True).read_text(encoding="utf-8")
    assert '<iframe class="map linked" src="maps/1_overview.html#embed"' in page and "lisgeo-pieces" not in page
    prov = json.loads((out / "provenance.json").read_text(encoding="utf-8"))
    assert prov["details"]["linked"] is True and prov["details"]["maps_inside"] is False


def test_embedded_pages_come_back_whole_and_cannot_break_out():
    """What the report's script rebuilds is the map page (marked to show only its map), whatever the
    page holds: text like the report's own tokens, "</script>", "<!--" (hostile data values)."""
    from lisgeo.mapping.report import _json_script, embed_pages
    from lisgeo.mapping.render import asset_block

    hostile = '@@lisgeo-000000000000-0@@ </script><script>alert(1)</script> <!-- <script> &amp; \u2028'
    page = ('<!DOCTYPE html>\n<html lang="en">\n<head>' + asset_block("leaflet.js") + "</head><body><p>" + hostile
            + '</p><script>var g = lisgeoGeo({"d":5,"f":[[0,"_ibE_seK"]]});</script></body></html>')
    pieces, pages, token = embed_pages({"a": page, "b": page})
    assert token not in page and len(pieces) == 2  # Leaflet and the geometry, each once for both pages
    rebuilt = re.sub(re.escape(token) + r"([0-9]+)@@", lambda m: pieces[int(m.group(1))], pages["a"])
    assert rebuilt == page.replace('<html lang="en">', '<html lang="en" class="lisgeo-embed">', 1)
    held = _json_script("lisgeo-page-a", pages["a"])
    inner = held[held.index(">") + 1:-len("</script>")]
    assert "<" not in inner and ">" not in inner and json.loads(inner) == pages["a"]
