"""Every default map, opened in headless Chromium (Debian's chromium + chromium-driver, Selenium).

Base-map tiles are blocked (as on a machine with no internet): each page must load with no
JavaScript error, show its title, legend and the offline note, draw exactly the features the
map holds, and say so in a screenshot saved under tests/artifacts/. The score columns are
synthetic (deterministic) on the real LSOA 2021 boundaries, so the pages are the real maps'
pages without a scoring run; every other layer is real.

Skipped when Chromium is absent, except in CI (``CI`` set), where that is a failure.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import Point, box

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
XSS = "<script>alert(1)</script>"
XSS_IMG = '<img src=x onerror="window.lisgeoXss = 1">'
JS_COUNTS = ("return Object.fromEntries(Object.entries(window.lisgeoLayers || {}).map("
             "([k, v]) => [k, [v.getLayers().length, window.lisgeoMap.hasLayer(v)]]))")


@pytest.fixture(scope="session")
def driver():
    if not (CHROMIUM and CHROMEDRIVER):
        msg = "chromium and chromedriver are needed (apt-get install chromium chromium-driver)"
        if os.environ.get("CI"):
            pytest.fail(msg)
        pytest.skip(msg)
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.options import Options
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        if os.environ.get("CI"):
            pytest.fail("selenium is not installed (it is in the test extra)")
        pytest.skip("selenium is not installed")
    profile = tempfile.mkdtemp(prefix="lisgeo-chromium-")
    opts = Options()
    opts.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
                "--disable-dev-shm-usage", "--window-size=1280,900", f"--user-data-dir={profile}"):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    drv = webdriver.Chrome(options=opts, service=Service(CHROMEDRIVER))
    drv.execute_cdp_cmd("Network.enable", {})
    # no internet: base-map tiles (and anything else remote) fail, as on an offline laptop
    drv.execute_cdp_cmd("Network.setBlockedURLs", {"urls": ["http://*", "https://*"]})
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    yield drv
    drv.quit()
    shutil.rmtree(profile, ignore_errors=True)


def _open(driver, path: Path) -> list[dict]:
    driver.get_log("browser")  # drop anything from the previous page
    driver.get(path.resolve().as_uri())
    deadline = time.time() + 20
    while time.time() < deadline:
        if driver.execute_script("return document.readyState === 'complete' && !!window.lisgeoMap"):
            break
        time.sleep(0.1)
    time.sleep(0.8)  # let tile errors arrive and the offline note appear
    return driver.get_log("browser")


def _js_errors(logs: list[dict]) -> list[dict]:
    """Console errors other than the blocked network fetches of base-map tiles."""
    return [e for e in logs if e["level"] == "SEVERE" and e.get("source") != "network"]


def _check_page(driver, built, name: str) -> dict:
    logs = _open(driver, built.html)
    assert _js_errors(logs) == [], f"{name}: JavaScript errors {_js_errors(logs)}"
    res = built.result
    assert driver.find_elements("css selector", ".folium-map"), "map div missing"
    title = driver.find_element("css selector", ".lisgeo-title h1").text
    assert title == res.spec.title
    counts = driver.execute_script(JS_COUNTS)
    assert {k: v[0] for k, v in counts.items()} == res.feature_counts()
    shown = {p.ldef.name for p in res.layers if p.ldef.show}
    assert {k for k, v in counts.items() if v[1]} == shown
    paths = driver.execute_script("return document.querySelectorAll('.leaflet-overlay-pane path').length")
    assert paths == sum(n for k, n in res.feature_counts().items() if k in shown)
    legends = driver.find_elements("css selector", ".lisgeo-legend")
    with_legend = [p for p in res.layers if p.legend is not None]
    assert len(legends) == len(with_legend)
    visible = [el for el in legends if el.is_displayed()]
    assert len(visible) == len([p for p in with_legend if p.ldef.show])
    for p in with_legend:
        if p.ldef.show:
            el = driver.find_element("id", f"legend-{p.ldef.name}")
            labels = [x.text for x in el.find_elements("css selector", ".lisgeo-legend-label")]
            assert labels == p.legend.labels  # the real class edges, as computed in Python
    assert driver.find_element("css selector", ".lisgeo-offline").is_displayed()
    assert driver.find_elements("css selector", ".leaflet-control-scale")
    assert driver.find_elements("css selector", ".leaflet-control-layers")
    assert driver.find_elements("css selector", ".leaflet-control-zoom-fullscreen, .fullscreen-icon")
    attribution = driver.find_element("css selector", ".leaflet-control-attribution").text
    assert "OpenStreetMap contributors" in attribution
    assert "Contains OS data © Crown copyright and database right" in attribution
    table = driver.find_element("css selector", ".lisgeo-table table")
    assert len(table.find_elements("css selector", "tbody tr")) == len(res.table)
    # the page names itself, and its footer says what it shows
    assert driver.title == res.spec.title
    assert driver.execute_script("return document.documentElement.lang") == "en"
    footer = driver.find_element("css selector", ".lisgeo-footer")
    assert footer.is_displayed() and footer.text == res.provenance.text
    assert footer.text.startswith("Scenario: ") and " · Data: " in footer.text and "· Made with lisgeo " in footer.text
    assert not driver.find_element("id", "lisgeo-noleaflet").is_displayed()
    driver.save_screenshot(str(ARTIFACTS / f"{name}.png"))
    return counts


def test_every_default_map_in_browser(driver, default_maps):
    assert [b.name for b in default_maps] == ["1_overview", "2_hs2_connectivity", "3_jobs_access", "4_connectivity",
                                              "5_digital", "6_scenario_hs2"]
    for b in default_maps:
        assert b.html_bytes < 3_000_000, f"{b.name}: {b.html_bytes / 1e6:.2f} MB"
        _check_page(driver, b, f"d2n2_{b.name}")


def test_layer_control_toggles_layer_and_legend(driver, default_maps):
    b = next(x for x in default_maps if x.name == "3_jobs_access")
    _open(driver, b.html)
    before = driver.execute_script("return document.querySelectorAll('.leaflet-overlay-pane path').length")
    assert not driver.find_element("id", "legend-jobs_rail_60").is_displayed()
    label = next(el for el in driver.find_elements("css selector", ".leaflet-control-layers-overlays label")
                 if "by rail" in el.text)
    label.find_element("css selector", "input").click()
    time.sleep(0.3)
    after = driver.execute_script("return document.querySelectorAll('.leaflet-overlay-pane path').length")
    assert after - before == b.result.feature_counts()["jobs_rail_60"]
    assert driver.find_element("id", "legend-jobs_rail_60").is_displayed()
    # hovering an area shows its tooltip with a formatted value and units
    driver.execute_script("var l = window.lisgeoLayers['jobs_car_45'].getLayers()[0]; l.openTooltip(l.getBounds().getCenter());")
    tip = driver.find_element("css selector", ".leaflet-tooltip").get_attribute("innerText")
    assert "Jobs within 45 min by car:" in tip and tip.rstrip().endswith("jobs")


def test_script_in_names_renders_as_text(driver, tmp_path):
    from lisgeo.mapping import write_map
    from lisgeo.pipeline import make_map
    from lisgeo.mapping.spec import parse_spec

    x0, y0 = 450_000, 340_000
    lsoa = gpd.GeoDataFrame(
        {"LSOA21CD": ["E01000001", "E01000002"], "LSOA21NM": [XSS, XSS_IMG], "LADNM": [XSS, "Broxtowe"],
         "tt_car_hs2_toton": [10.0, 20.0]},
        geometry=[box(x0, y0, x0 + 1000, y0 + 1000), box(x0 + 1000, y0, x0 + 2000, y0 + 1000)],
        crs="EPSG:27700", index=["E01000001", "E01000002"])
    sites = gpd.GeoDataFrame(
        {"name": [XSS], "category": [XSS_IMG], "LADNM": [XSS], "source": ['javascript:alert(1)" x="']},
        geometry=[Point(x0 + 500, y0 + 500)], crs="EPSG:27700", index=["s1"])
    spec = parse_spec({
        "title": XSS, "subtitle": XSS_IMG,
        "layers": [
            {"name": "tt", "source": "scores", "column": "tt_car_hs2_toton", "k": 2, "tooltip": ["LSOA21NM", "LADNM"]},
            {"name": "sites", "layer": "sites", "style": "points", "column": "category", "scheme": "categorical",
             "tooltip": ["name", "category"], "popup": ["name", "category", "LADNM", "source"]},
        ],
        "table": {"layer": "tt", "stats": {"tt_car_hs2_toton": "median"}},
    }, name="xss")
    built = write_map(make_map(spec, frames={"tt": lsoa, "sites": sites}), tmp_path / "xss.html", inline=True, png=False)
    logs = _open(driver, built.html)
    assert _js_errors(logs) == []
    from selenium.common.exceptions import NoAlertPresentException

    with pytest.raises(NoAlertPresentException):
        driver.switch_to.alert.text  # noqa: B018 - no alert was raised
    # title, legend and table show the names as text
    assert driver.find_element("css selector", ".lisgeo-title h1").text == XSS
    assert driver.find_element("css selector", ".lisgeo-subtitle").text == XSS_IMG
    assert XSS_IMG in driver.find_element("id", "legend-sites").text
    assert XSS in driver.find_element("css selector", ".lisgeo-table").text
    # tooltip and popup too
    driver.execute_script("var l = window.lisgeoLayers['tt'].getLayers()[1]; l.openTooltip(l.getBounds().getCenter());")
    assert XSS_IMG in driver.find_element("css selector", ".leaflet-tooltip").get_attribute("textContent")
    driver.execute_script("window.lisgeoLayers['sites'].getLayers()[0].openPopup();")
    popup = driver.find_element("css selector", ".leaflet-popup-content")
    text = popup.get_attribute("textContent")  # (not .text: the popup may still be fading in)
    assert XSS in text and XSS_IMG in text
    assert popup.find_elements("css selector", "a") == []  # a javascript: source is never a link
    assert driver.find_elements("css selector", ".leaflet-container img[src='x']") == []
    assert driver.execute_script("return window.lisgeoXss === undefined")
    driver.save_screenshot(str(ARTIFACTS / "xss_escaped.png"))


def test_cdn_page_offline_says_why_it_is_empty(driver, default_maps, tmp_path):
    from lisgeo.mapping import write_map
    from lisgeo.mapping.render import NO_LEAFLET_NOTE

    b = next(x for x in default_maps if x.name == "3_jobs_access")
    cdn = write_map(b.result, tmp_path / "cdn.html", inline=False, png=False)
    driver.get_log("browser")
    driver.get(cdn.html.resolve().as_uri())
    time.sleep(1.0)
    note = driver.find_element("id", "lisgeo-noleaflet")
    assert note.is_displayed() and note.text == NO_LEAFLET_NOTE
    assert driver.title == b.title
    driver.save_screenshot(str(ARTIFACTS / "cdn_offline.png"))


def test_report_shows_each_table_once(driver, default_maps, tmp_path):
    import pandas as pd

    from lisgeo.pipeline import write_report

    claims = pd.DataFrame({"claim": ["people within 20 miles"], "strategy_figure": [9e6], "computed_value": [1.2e7],
                           "unit": ["people"], "method": ["1 km grid"], "source": ["UKCEH"]})
    out = default_maps[0].html.parent.parent
    path = write_report(region="d2n2", out_dir=out, built=default_maps, claims=claims)
    driver.get_log("browser")
    driver.get(path.resolve().as_uri())
    time.sleep(0.5)
    assert driver.title.startswith("Connectivity and the Local Industrial Strategy")
    assert driver.execute_script("return document.documentElement.lang") == "en"
    for b in default_maps:
        section = driver.find_element("id", b.name)
        tables = [t for t in section.find_elements("css selector", "table") if t.is_displayed()]
        assert len(tables) == 1, b.name  # one district table per map in the report
        assert len(tables[0].find_elements("css selector", "tbody tr")) == len(b.result.table)
        assert b.result.provenance.text in section.text
    # inside the report's frame the map page shows only its map: no second table, no footer
    frame = driver.find_element("id", default_maps[0].name).find_element("css selector", "iframe.map")
    driver.execute_script("arguments[0].scrollIntoView()", frame)
    driver.switch_to.frame(frame)
    try:
        deadline = time.time() + 20
        while time.time() < deadline and not driver.execute_script("return !!window.lisgeoMap"):
            time.sleep(0.1)
        assert driver.execute_script("return document.documentElement.classList.contains('lisgeo-embed')")
        assert driver.find_elements("css selector", ".lisgeo-table")  # in the page, hidden here
        assert not any(t.is_displayed() for t in driver.find_elements("css selector", ".lisgeo-table, .lisgeo-footer"))
        height = driver.execute_script("return document.querySelector('.folium-map').getBoundingClientRect().height")
        assert height == pytest.approx(driver.execute_script("return window.innerHeight"), abs=2)  # the map fills the frame
    finally:
        driver.switch_to.default_content()
    driver.save_screenshot(str(ARTIFACTS / "report.png"))


def _hostile(field: str) -> str:
    """Text that runs script if it ever reaches the page as HTML (and would template or typeset if misused)."""
    return (f'<img src=x onerror="window.lisgeoXss=\'{field}\'"> <script>window.lisgeoXss=\'{field}\'</script> '
            f'"><svg onload="window.lisgeoXss=\'{field}\'"> {{{{7*7}}}} $\\frac{{1}}{{2}}$ &amp; {field}')


def test_hostile_text_in_every_field_shows_literally(driver, tmp_path):
    from lisgeo.mapping import write_map
    from lisgeo.mapping.spec import parse_spec
    from lisgeo.pipeline import make_map

    H = {f: _hostile(f) for f in ("title", "subtitle", "label", "units", "catlabel", "outline", "caption", "area",
                                  "district", "site", "category", "source", "attribution", "scenario", "name")}
    x0, y0 = 450_000, 340_000
    lsoa = gpd.GeoDataFrame(
        {"LSOA21CD": ["E01000001", "E01000002"], "LSOA21NM": [H["area"], "Beeston 001"], "LADNM": [H["district"], "Broxtowe"],
         "tt_car_hs2_toton": [10.0, 20.0]},
        geometry=[box(x0, y0, x0 + 1000, y0 + 1000), box(x0 + 1000, y0, x0 + 2000, y0 + 1000)],
        crs="EPSG:27700", index=["E01000001", "E01000002"])
    lsoa.attrs.update({"attribution": H["attribution"], "scenario": H["scenario"]})
    sites = gpd.GeoDataFrame(
        {"name": [H["site"]], "category": [H["category"]], "LADNM": [H["district"]], "source": [H["source"]]},
        geometry=[Point(x0 + 500, y0 + 500)], crs="EPSG:27700", index=["s1"])
    spec = parse_spec({
        "title": H["title"], "subtitle": H["subtitle"],
        "layers": [
            {"name": "tt", "source": "scores", "column": "tt_car_hs2_toton", "breaks": [0, 15, 30], "label": H["label"],
             "units": H["units"], "tooltip": ["LSOA21NM", "LADNM"]},
            {"name": "sites", "layer": "sites", "style": "points", "column": "category", "scheme": "categorical",
             "category_labels": {H["category"]: H["catlabel"]}, "tooltip": ["name", "category"],
             "popup": ["name", "category", "LADNM", "source"]},
            {"name": H["name"], "layer": "districts", "style": "outline", "label": H["outline"], "tooltip": ["LADNM"]},
        ],
        "table": {"layer": "tt", "stats": {"tt_car_hs2_toton": "median"}, "caption": H["caption"]},
    }, name="hostile")
    res = make_map(spec, frames={"tt": lsoa, "sites": sites, H["name"]: lsoa})
    built = write_map(res, tmp_path / "hostile.html")  # and the PNG: no mathtext, no crash
    assert built.png.is_file()
    logs = _open(driver, built.html)
    assert _js_errors(logs) == []
    from selenium.common.exceptions import NoAlertPresentException

    with pytest.raises(NoAlertPresentException):
        driver.switch_to.alert.text  # noqa: B018 - no alert was raised
    assert driver.execute_script("return window.lisgeoXss === undefined")
    assert driver.find_elements("css selector", "img[src='x'], svg[onload], body script:not([src]) + img") == []
    norm = " ".join  # Selenium's .text collapses runs of white space
    # every field shows as the text it is
    assert driver.title == H["title"]
    assert driver.find_element("css selector", ".lisgeo-title h1").text == H["title"]
    assert driver.find_element("css selector", ".lisgeo-subtitle").text == H["subtitle"]
    control = [el.text for el in driver.find_elements("css selector", ".leaflet-control-layers-overlays label")]
    assert H["label"] in control and H["outline"] in control and "Category" in control
    assert driver.find_element("css selector", "#legend-tt .lisgeo-legend-title").text == H["label"]
    tt_labels = [el.text for el in driver.find_elements("css selector", "#legend-tt .lisgeo-legend-label")]
    assert tt_labels == [f"0 – 15 {H['units']}", f"15 – 30 {H['units']}"]
    site_labels = [el.text for el in driver.find_elements("css selector", "#legend-sites .lisgeo-legend-label")]
    assert site_labels == [H["catlabel"]]
    outline_legend = driver.execute_script("return document.getElementById(arguments[0])", f"legend-{H['name']}")
    assert outline_legend.find_element("css selector", ".lisgeo-legend-title").text == H["outline"]
    table = driver.find_element("css selector", ".lisgeo-table")
    assert table.find_element("css selector", "caption").text == H["caption"]
    assert H["district"] in [th.text for th in table.find_elements("css selector", "tbody th")]
    attribution = driver.find_element("css selector", ".leaflet-control-attribution").text
    assert H["attribution"].split("; ")[0] in attribution  # (attribution is split into statements at "; ")
    assert driver.find_element("css selector", ".lisgeo-footer").text.startswith(f"Scenario: {H['scenario']} · Data: ")
    assert norm(H["units"].split()) in norm(driver.find_element("css selector", ".lisgeo-table").text.split())
    driver.execute_script("var l = window.lisgeoLayers['tt'].getLayers()[0]; l.openTooltip(l.getBounds().getCenter());")
    tip = driver.find_element("css selector", ".leaflet-tooltip").get_attribute("textContent")
    assert H["area"] in tip and H["district"] in tip and f"{H['label']}: 10 {H['units']}" in tip
    driver.execute_script("window.lisgeoLayers['sites'].getLayers()[0].openPopup();")
    popup = driver.find_element("css selector", ".leaflet-popup-content")
    text = popup.get_attribute("textContent")
    assert H["site"] in text and H["category"] in text and H["district"] in text and H["source"] in text
    assert popup.find_elements("css selector", "a, img, svg, script") == []
    assert driver.execute_script("return window.lisgeoLayers[arguments[0]].getLayers().length", H["name"]) == 2
    assert driver.execute_script("return window.lisgeoXss === undefined")
    driver.save_screenshot(str(ARTIFACTS / "hostile_text_escaped.png"))


def test_llep_overview_in_browser(driver, real_data, tmp_path):
    from lisgeo.mapping import write_map
    from lisgeo.pipeline import make_map
    from lisgeo.mapping.spec import DEFAULT_MAPS_DIR

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = make_map(DEFAULT_MAPS_DIR / "1_overview.toml", region="llep")
    assert "peak_district" in res.skipped  # no National Park meets Leicestershire
    built = write_map(res, tmp_path / "llep_overview.html", inline=True, png=False)
    counts = _check_page(driver, built, "llep_1_overview")
    assert counts["districts"][0] == 8


def test_hs2_map_shows_what_is_live_and_what_was_cancelled(driver, default_maps):
    """Map 6 leads with what is being built (HS2 Phase 1) and shows the strategy's Phase 2b labelled
    cancelled: the status lines are visible in the title box, live first; the note on how close the
    times are shows the assumptions' figures; the 2b layers say "cancelled 2023 — as in the 2020
    strategy" in the layer control and legend; a winner's tooltip names the destinations it is faster to."""
    from lisgeo.assumptions import load_assumptions

    b = next(x for x in default_maps if x.name == "6_scenario_hs2")
    assert _js_errors(_open(driver, b.html)) == []
    lines = [el for el in driver.find_elements("css selector", ".lisgeo-title .lisgeo-status")]
    assert all(el.is_displayed() for el in lines) and len(lines) == 2
    assert lines[0].text == "HS2 Phase 1 (London–Birmingham) — under construction, as of 4 October 2023"
    assert lines[1].text == ("HS2 Phase 2b (East Midlands Hub at Toton) — cancelled 4 October 2023, "
                             "shown as in the 2020 strategy")
    note = driver.find_element("css selector", ".lisgeo-title .lisgeo-note")
    a = load_assumptions()
    assert note.is_displayed() and "rail times" in note.text and "car times" not in note.text
    for key in ("uncertainty.intercity_rail_pct", "uncertainty.local_rail_pct"):
        assert f"±{a[key]:g} %" in note.text
    # what is live is the layer shown on opening; Phase 2b is there, off, and labelled cancelled
    assert driver.find_element("id", "legend-d_london").is_displayed()
    title = driver.find_element("css selector", "#legend-d_london .lisgeo-legend-title").text
    assert title == "HS2 Phase 1: change in rail time to London (under construction)"
    labels = [el.text for el in driver.find_elements("css selector", ".leaflet-control-layers-overlays label")]
    tag = "(cancelled 2023 — as in the 2020 strategy)"
    assert f"HS2 Phase 2b: winners and losers (journeys 5+ minutes faster or slower) {tag}" in labels
    assert f"HS2 Phase 2b stations {tag}" in labels
    label = next(el for el in driver.find_elements("css selector", ".leaflet-control-layers-overlays label")
                 if el.text.startswith("HS2 Phase 2b: winners and losers"))
    label.find_element("css selector", "input").click()
    time.sleep(0.3)
    legend = driver.find_element("id", "legend-outcome_2b")
    assert legend.is_displayed() and legend.find_element("css selector", ".lisgeo-legend-title").text.endswith(tag)
    # a winner's tooltip: the destinations that made it one
    i = int(np.flatnonzero(b.result.layers[[p.ldef.name for p in b.result.layers].index("outcome_2b")]
                           .data["faster_to"].to_numpy() == "Leeds")[0])
    driver.execute_script(f"var l = window.lisgeoLayers['outcome_2b'].getLayers()[{i}]; l.openTooltip(l.getBounds().getCenter());")
    tip = driver.find_element("css selector", ".leaflet-tooltip").get_attribute("innerText")
    assert "faster or slower): winner" in tip and "Faster (5+ min) to: Leeds" in tip
    # the district table heads each figure with its scheme and status
    heads = [th.text for th in driver.find_elements("css selector", ".lisgeo-table thead th")]
    assert any(h.startswith("HS2 Phase 1 (under construction): ") for h in heads)
    assert any(h.startswith(f"HS2 Phase 2b {tag}: Faster (5+ min) to") for h in heads)
    driver.save_screenshot(str(ARTIFACTS / "d2n2_6_scenario_hs2_status.png"))


def _coloured_share(png: bytes, rect: dict, ratio: float) -> float:
    """The share of the pixels in ``rect`` (CSS pixels of the viewport) that are drawn: neither the page's
    white nor the map's blank background (#f2f2ef)."""
    import io

    from PIL import Image

    im = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)
    x0, y0 = int(rect["left"] * ratio), int(max(rect["top"], 0) * ratio)
    x1, y1 = int(rect["right"] * ratio), int(min(rect["bottom"], im.shape[0] / ratio) * ratio)
    area = im[y0:y1, x0:x1]
    if area.size == 0:
        return 0.0
    far = lambda c: np.abs(area - np.array(c)).sum(-1) > 45  # noqa: E731
    return float((far((255, 255, 255)) & far((0xF2, 0xF2, 0xEF))).mean())


def test_report_alone_shows_every_map_offline(driver, d2n2_build, tmp_path):
    """The real D2N2 report.html, copied alone to an empty folder and opened with every address blocked,
    shows all six maps: inside each frame Leaflet runs, the layers draw their features and the frame's
    pixels are mostly map, not blank (a screenshot of each, under tests/artifacts/). Before: the report
    framed maps/*.html, so sent alone its six frames were empty ("file not found")."""
    alone = tmp_path / "alone"
    alone.mkdir()
    shutil.copy(d2n2_build / "report.html", alone / "report.html")
    assert [p.name for p in alone.iterdir()] == ["report.html"]
    logs = _open_report(driver, alone / "report.html")
    assert _js_errors(logs) == []
    frames = driver.find_elements("css selector", "iframe.map")
    assert len(frames) == 6
    ratio = driver.execute_script("return window.devicePixelRatio") or 1
    for i, frame in enumerate(frames):
        driver.execute_script("arguments[0].scrollIntoView({block: 'start'})", frame)
        driver.switch_to.frame(frame)
        try:
            deadline = time.time() + 20
            while time.time() < deadline and not driver.execute_script("return !!window.lisgeoMap"):
                time.sleep(0.1)
            assert driver.execute_script("return !!window.lisgeoMap"), f"map {i + 1}: Leaflet did not start"
            counts = driver.execute_script(JS_COUNTS)
            shown = {k: n for k, (n, on) in counts.items() if on}
            assert shown and all(n > 0 for n in shown.values()), counts
            drawn = driver.execute_script("return document.querySelectorAll('.leaflet-overlay-pane path').length")
            assert drawn >= sum(shown.values()) > 0
            assert not driver.find_element("id", "lisgeo-noleaflet").is_displayed()
            assert driver.execute_script("return document.documentElement.classList.contains('lisgeo-embed')")
        finally:
            driver.switch_to.default_content()
        time.sleep(0.3)
        rect = driver.execute_script("var r = arguments[0].getBoundingClientRect(); "
                                     "return {left: r.left, top: r.top, right: r.right, bottom: r.bottom};", frame)
        png = driver.get_screenshot_as_png()
        (ARTIFACTS / f"report_alone_{i + 1}.png").write_bytes(png)
        share = _coloured_share(png, rect, ratio)
        assert share > 0.10, f"map {i + 1}: only {share:.0%} of its frame is drawn"


def _open_report(driver, path: Path) -> list[dict]:
    driver.get_log("browser")
    driver.get(path.resolve().as_uri())
    deadline = time.time() + 30
    while time.time() < deadline and driver.execute_script("return document.readyState") != "complete":
        time.sleep(0.1)
    time.sleep(0.8)
    return driver.get_log("browser")


def test_beyond_the_region_toggle(driver, default_maps):
    """Map 1 opens on the region (its view ends north of Birmingham) with the stations and HS2 stations
    beyond it hidden; "Beyond the region" shows them with their layers (before: the view ran to
    Birmingham and shrank the region)."""
    b = next(x for x in default_maps if x.name == "1_overview")
    assert _js_errors(_open(driver, b.html)) == []
    south = driver.execute_script("return window.lisgeoMap.getBounds().getSouth()")
    assert south > 52.55  # Birmingham is at 52.48 N
    counts = driver.execute_script(JS_COUNTS)
    assert counts["stations:beyond"][0] > 0 and not counts["stations:beyond"][1]
    label = next(el for el in driver.find_elements("css selector", ".leaflet-control-layers-overlays label")
                 if el.text.strip() == "Beyond the region")
    label.find_element("css selector", "input").click()
    time.sleep(0.3)
    counts = driver.execute_script(JS_COUNTS)
    assert counts["stations:beyond"][1] and counts["hs2:beyond"][1]
    driver.save_screenshot(str(ARTIFACTS / "d2n2_1_overview_beyond.png"))
