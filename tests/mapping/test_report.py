"""The report page and the map/build/report commands."""

from __future__ import annotations

import re
import warnings

import geopandas as gpd
import pandas as pd
from shapely.geometry import Point, box

from lisgeo.cli import main
from lisgeo.mapping import write_map
from lisgeo.pipeline import make_map
from lisgeo.mapping.report import sources_table
from lisgeo.pipeline import write_report
from lisgeo.mapping.spec import parse_spec

XSS = "<script>alert(1)</script>"


def _section(page: str, ident: str) -> str:
    """A report section, up to the next one (sections hold the tables' own <section>)."""
    start = page.index(f'<section id="{ident}">')
    nxt = [i for i in (page.find('<section id="', start + 1), page.find("<footer", start + 1)) if i > 0]
    return page[start:min(nxt)]


def _frames():
    x0, y0 = 450_000, 340_000
    lsoa = gpd.GeoDataFrame(
        {"LSOA21CD": ["E01000001", "E01000002"], "LSOA21NM": ["A 001A", "B 001B"], "LADNM": ["Nottingham", XSS],
         "pop": [1000, 3000], "jobs_car_45": [100_000.0, 200_000.0]},
        geometry=[box(x0, y0, x0 + 1000, y0 + 1000), box(x0 + 1000, y0, x0 + 2000, y0 + 1000)],
        crs="EPSG:27700", index=["E01000001", "E01000002"])
    lsoa.attrs["sources"] = ["lsoa21_boundaries", "census2021_population"]
    lsoa.attrs["attribution"] = "Contains OS data © Crown copyright and database right"
    sites = gpd.GeoDataFrame({"name": ["Site"], "category": ["energy"]}, geometry=[Point(x0 + 10, y0 + 10)],
                             crs="EPSG:27700", index=["s"])
    return {"jobs": lsoa, "sites": sites}


SPEC = {"title": "Access to jobs", "subtitle": "Jobs within 45 minutes by car",
        "layers": [{"name": "jobs", "source": "scores", "column": "jobs_car_45", "k": 2},
                   {"name": "sites", "layer": "sites", "style": "points"}],
        "table": {"layer": "jobs", "weight": "pop", "stats": {"jobs_car_45": "weighted_mean", "pop": "sum"}}}


def test_report_page(tmp_path):
    res = make_map(parse_spec(SPEC, name="jobs"), frames=_frames())
    built = [write_map(res, tmp_path / "maps" / "jobs.html")]
    claims = pd.DataFrame({"claim": [f"people within 20 miles {XSS}"], "strategy_figure": [9e6], "computed_value": [12_404_171.0],
                           "unit": ["people"], "method": ["1 km grid"], "source": ["UKCEH"]})
    # --linked: the maps framed from maps/ beside the report, with links and print PNGs
    path = write_report(region="d2n2", out_dir=tmp_path, built=built, claims=claims, linked=True)
    page = path.read_text(encoding="utf-8")
    assert path == tmp_path / "report.html"
    assert '<iframe class="map linked" src="maps/jobs.html#embed"' in page  # the page shows only its map there
    assert '<a href="maps/jobs.html">Open the map</a>' in page
    assert '<img class="print" src="maps/jobs.png"' in page and (tmp_path / "maps" / "jobs.png").is_file()
    assert page.startswith('<!DOCTYPE html><html lang="en">') and "<title>Connectivity and the Local Industrial" in page
    # the default: one file, the maps inside it (the same sections, tables and notes around them)
    alone = write_report(region="d2n2", out_dir=tmp_path, built=built, claims=claims).read_text(encoding="utf-8")
    assert "maps/jobs" not in alone and "<iframe" in alone and 'data-lisgeo-page="lisgeo-page-jobs"' in alone
    assert _section(alone, "jobs").count("<table") == 1 and XSS not in alone
    # one table per map: the report's own (the map page's copy is hidden under #embed)
    section = _section(page, "jobs")
    assert section.count("<table") == 1 and section.count("<caption>") == 1
    map_page = built[0].html.read_text(encoding="utf-8")
    assert map_page.count('class="lisgeo-table"') == 1 and "html.lisgeo-embed .lisgeo-table" in map_page
    # the footer line of the map (scenario, data vintage, lisgeo version) under its table, and the report's own
    import lisgeo

    assert "Scenario: base (built, as of January 2019) · Data: lsoa21_boundaries (" in section and f"lisgeo {lisgeo.__version__}" in section
    assert f"Made with lisgeo {lisgeo.__version__}" in page
    assert "Derby, Derbyshire, Nottingham and Nottinghamshire" in page or "D2N2" in page
    # the district table: population-weighted mean jobs per district and overall
    assert "100,000 jobs" in page and "200,000 jobs" in page and "175,000 jobs" in page
    assert "9,000,000 people" in page and "12,404,171 people" in page
    assert XSS not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    sources = re.search(r'<section id="sources">(.*?)</section>', page, re.S).group(1)
    assert "lsoa21_boundaries" in sources and "census2021_population" in sources and "OGL v3" in sources
    assert "OpenStreetMap contributors" in sources


def test_report_with_png_only_map(tmp_path):
    res = make_map(parse_spec(SPEC, name="jobs"), frames=_frames())
    built = [write_map(res, tmp_path / "maps" / "jobs.png")]
    page = write_report(region="d2n2", out_dir=tmp_path, built=built, with_claims=False).read_text(encoding="utf-8")
    assert "<iframe" not in page and '<img class="static" src="data:image/png;base64,iVBOR' in page  # inside the file
    page = write_report(region="d2n2", out_dir=tmp_path, built=built, with_claims=False, linked=True).read_text(encoding="utf-8")
    assert "<iframe" not in page and '<img class="static" src="maps/jobs.png"' in page


def test_sources_table_from_catalog():
    df = sources_table(["lsoa21_boundaries", "lsoa21_boundaries", "not_a_dataset", "ofcom_broadband_2021"])
    assert df["dataset"].tolist() == ["lsoa21_boundaries", "ofcom_broadband_2021"]
    assert df["licence"].tolist() == ["OGL v3", "OGL v3"]
    assert "Ofcom" in df["attribution"].iloc[1]


def test_cli_map_build_report(real_data, tmp_path, monkeypatch):
    maps = tmp_path / "defs"
    maps.mkdir()
    (maps / "overview.toml").write_text(
        'title = "Sites"\nsubtitle = "Strategy sites by category, with district boundaries"\n'
        '[[layers]]\nname = "districts"\nlayer = "districts"\nstyle = "outline"\ntooltip = ["LADNM"]\n'
        '[[layers]]\nname = "sites"\nlayer = "sites"\nstyle = "points"\ncolumn = "category"\nscheme = "categorical"\n'
        'popup = ["name", "category", "source"]\n'
        '[table]\nlayer = "districts"\nstats = { area_km2 = "sum" }\ncounts = ["sites"]\n', encoding="utf-8")
    (maps / "jobs.toml").write_text(
        'title = "Jobs"\nsubtitle = "Jobs within 45 minutes by car, fixed classes"\n'
        '[[layers]]\nname = "jobs"\nsource = "scores"\ncolumn = "jobs_car_45"\nbreaks = [0, 100000, 300000, 1000000]\n'
        '[table]\nlayer = "jobs"\nweight = "pop"\nstats = { jobs_car_45 = "weighted_mean" }\n', encoding="utf-8")
    import lisgeo.pipeline.score as score_mod

    runs = []
    real_score_region = score_mod.score_region

    def counting_score_region(*args, **kwargs):
        runs.append(kwargs.get("scenario"))
        return real_score_region(*args, **kwargs)

    monkeypatch.setattr(score_mod, "score_region", counting_score_region)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # --inline is the default; the flag is still accepted
        assert main(["map", str(maps / "overview.toml"), "-o", str(tmp_path / "one.html"), "--region", "llep", "--inline"]) == 0
        assert (tmp_path / "one.html").stat().st_size > 200_000 and (tmp_path / "one.png").is_file()
        assert main(["build", "--region", "llep", "-o", str(tmp_path / "b"), "--maps", str(maps)]) == 0
        assert (tmp_path / "b" / "maps" / "overview.html").is_file() and (tmp_path / "b" / "maps" / "overview.png").is_file()
        assert runs == ["base"]  # one scoring run serves the maps, the report and the scores
        # build writes the report the README promises, around the maps it drew
        report = (tmp_path / "b" / "report.html").read_text(encoding="utf-8")
        # one file: the maps inside it (no link to maps/), each section with its table
        assert 'data-lisgeo-page="lisgeo-page-overview"' in report and 'data-lisgeo-page="lisgeo-page-jobs"' in report
        assert "maps/overview" not in report and "maps/jobs" not in report
        for name in ("overview", "jobs"):
            section = _section(report, name)
            assert section.count("<table") == 1
        claims_section = re.search(r'<section id="claims">(.*?)</section>', report, re.S).group(1)
        assert claims_section.count("<tr>") == 1 + 4
        # built pages are self-contained by default
        built_page = (tmp_path / "b" / "maps" / "jobs.html").read_text(encoding="utf-8")
        assert not re.search(r"<script[^>]+src=", built_page) and "<title>Jobs</title>" in built_page
        # the main job also writes the scores behind the maps
        built_scores = pd.read_csv(tmp_path / "b" / "scores" / "scores.csv")
        assert len(built_scores) == 608 and built_scores["pop"].sum() == 1_080_943
        assert len(pd.read_csv(tmp_path / "b" / "scores" / "claims.csv")) == 4
        (maps / "jobs.toml").unlink()
        assert main(["report", "--region", "llep", "-o", str(tmp_path / "r"), "--maps", str(maps), "--cdn", "--linked"]) == 0
        assert 'src="https://cdn.jsdelivr.net' in (tmp_path / "r" / "maps" / "overview.html").read_text(encoding="utf-8")
        # the default report holds its maps with Leaflet inside, even when the maps themselves link the CDN
        assert main(["report", "--region", "llep", "-o", str(tmp_path / "r1"), "--maps", str(maps), "--cdn"]) == 0
        one = (tmp_path / "r1" / "report.html").read_text(encoding="utf-8")
        assert "cdn.jsdelivr.net" not in one and "Leaflet 1.9.3" in one and "maps/overview" not in one
    page = (tmp_path / "r" / "report.html").read_text(encoding="utf-8")
    assert 'src="maps/overview.html#embed"' in page and "Leicester and Leicestershire" in page
    claims = re.search(r'<section id="claims">(.*?)</section>', page, re.S).group(1)
    assert claims.count("<tr>") == 1 + 4 and "within 20 miles" in claims  # recomputed by lisgeo.measures.claims
    # bad input: one line, status 2
    assert main(["map", str(maps / "missing.toml"), "-o", str(tmp_path / "x.html")]) == 2
    (maps / "bad.toml").write_text('title = "t"\nsubtitle = "s"\ncolour = "red"\n[[layers]]\nname = "d"\nlayer = "districts"\n')
    assert main(["map", str(maps / "bad.toml"), "-o", str(tmp_path / "x.html")]) == 2
    assert main(["map", str(maps / "overview.toml"), "-o", str(tmp_path / "x.html"), "--region", "nowhere"]) == 2
    assert not (tmp_path / "x.html").exists()


def test_cli_map_with_real_scores(real_data, tmp_path, capsys):
    from lisgeo.mapping.spec import DEFAULT_MAPS_DIR

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert main(["map", str(DEFAULT_MAPS_DIR / "3_jobs_access.toml"), "-o", str(tmp_path / "jobs.html"), "--region", "llep"]) == 0
    out = capsys.readouterr().out
    assert "jobs.html" in out and "MB" in out
    page = (tmp_path / "jobs.html").read_text(encoding="utf-8")
    assert "Jobs within 45 min by car" in page
    assert (tmp_path / "jobs.html").stat().st_size < 3_000_000


def test_cli_map_output_by_extension(real_data, tmp_path, capsys):
    maps = tmp_path / "defs"
    maps.mkdir()
    spec = maps / "d.toml"
    spec.write_text('title = "Districts"\nsubtitle = "District boundaries of the region"\n'
                    '[[layers]]\nname = "districts"\nlayer = "districts"\nstyle = "outline"\n', encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # -o x.png: only the print map (no HTML written over with a PNG, no HTML at all)
        assert main(["map", str(spec), "-o", str(tmp_path / "x.png"), "--region", "llep"]) == 0
        assert (tmp_path / "x.png").read_bytes()[:4] == b"\x89PNG" and not list(tmp_path.glob("x.htm*"))
        assert capsys.readouterr().out.strip() == f"wrote {tmp_path / 'x.png'}"
        # -o x.html: the page and a PNG beside it, or only the page with --no-png
        assert main(["map", str(spec), "-o", str(tmp_path / "y.html"), "--region", "llep", "--no-png"]) == 0
        assert (tmp_path / "y.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
        assert not (tmp_path / "y.png").exists()
        assert main(["map", str(spec), "-o", str(tmp_path / "z.html"), "--region", "llep", "--cdn"]) == 0
        assert (tmp_path / "z.png").is_file() and "cdn.jsdelivr.net" in (tmp_path / "z.html").read_text(encoding="utf-8")
        capsys.readouterr()
        # anything else: one clear line, status 2, nothing written
        assert main(["map", str(spec), "-o", str(tmp_path / "x.pdf")]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and err.startswith("lisgeo: error: cannot write a map to") and ".png" in err
        assert main(["map", str(spec), "-o", str(tmp_path / "w.png"), "--no-png"]) == 2
        assert not (tmp_path / "x.pdf").exists() and not (tmp_path / "w.png").exists()
