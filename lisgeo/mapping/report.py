"""The HTML report: one page with every map, district tables, headline claims, sources.

``render_report(built, region=..., out_dir=..., claims=...)`` returns the page for maps already
written into ``DIR/maps/``: each map, its key-figures table, the strategy's headline claims
recomputed from data, and the data sources with their licences and attribution from the catalog.
Every text is escaped.

**One file by default.** The report carries its maps inside it, so it can be sent on its own (by
email, into a document system) and opened offline: each map page is held in the report as a JSON
string (in a ``<script type="application/json">``, every ``<``, ``>`` and ``&`` escaped, so nothing
in it can end the element) and shown in an ``<iframe>`` whose ``srcdoc`` a few lines of script set
when the report opens. What the maps have in common is held once (:func:`embed_pages`): Leaflet and
its plugins, and every geometry two maps share (the LSOAs drawn by five of the six), each map
page naming them by a token the script fills in. The iframe keeps each map's page whole and apart
(its own Leaflet, ids and styles), as when it is opened alone.

``linked=True`` (``lisgeo report --linked``) writes the earlier form instead: each map in an
``<iframe>`` of ``maps/<name>.html#embed`` (the report works only beside its ``maps/`` folder)
with links to the map and its print PNG, shown instead of the map when printing.

A map page shown inside the report shows only its map (``lisgeo-embed``); the report prints the
table and the footer line once, beneath it. :func:`lisgeo.pipeline.maps.write_report` draws the
maps, recomputes the claims and writes the report with its ``provenance.json``.
"""

from __future__ import annotations

import base64
import datetime as _dt
import html
import json
import re
import secrets
from pathlib import Path
from typing import Iterable, Mapping

import pandas as pd

from ..catalog import get_dataset
from ..errors import OutputError, UnknownNameError
from ..regions import get_region
from .draw import BuiltMap
from .legend import format_value
from .prepare import js_safe
from .render import EMBED_HASH, INLINE_ASSETS, asset_block, inline_assets, table_caption, table_html

__all__ = ["render_report", "claims_html", "sources_table", "status_html", "embed_pages", "EMBED_LOADER"]

_CSS = """
body { font: 15px/1.5 system-ui, sans-serif; margin: 0 auto; max-width: 1100px; padding: 0 18px 40px; color: #1b1b1b; }
h1 { margin-top: 24px; } h2 { border-top: 1px solid #ccc; padding-top: 18px; }
.subtitle { color: #444; margin-top: -6px; }
iframe.map { width: 100%; height: 640px; border: 1px solid #bbb; display: block; }
img.print { display: none; width: 100%; }
img.static { width: 100%; }
table { border-collapse: collapse; font-size: 13px; margin: 8px 0; }
th, td { border-bottom: 1px solid #ddd; padding: 3px 8px; text-align: right; vertical-align: top; }
th:first-child, td:first-child { text-align: left; }
td.text, th.text { text-align: left; }
caption { text-align: left; font-weight: bold; padding: 4px 0; }
.lisgeo-table { padding: 0; }
.note { color: #555; font-size: 13px; }
.scheme-status { margin: 6px 0; padding: 6px 10px; border-left: 4px solid #555; background: #f4f4f4; }
.scheme-status p { margin: 2px 0; }
.scheme-status .live { font-weight: bold; }
footer.page { border-top: 1px solid #ccc; margin-top: 30px; padding-top: 8px; }
@media print { iframe.map.linked { display: none; } img.print { display: block; } h2 { page-break-before: always; }
  iframe.map { page-break-inside: avoid; } }
"""

_GEOMETRY = re.compile(r"lisgeoGeo\((\{.*?\})\);", re.S)  # (encoded polylines hold no ")" or ";")


def embed_pages(pages: dict[str, str]) -> tuple[list[str], dict[str, str], str]:
    """Map pages (name -> HTML) ready to ride in one report: ``(pieces, pages, token)``.

    Each page is made self-contained (CDN tags inlined), marked to show only its map, and has every
    vendored library and every geometry literal replaced by ``token`` + its number in ``pieces``, so
    what several maps share is held once. ``token`` (with a random part) occurs nowhere else.
    """
    pages = {name: inline_assets(page) for name, page in pages.items()}
    while True:
        token = f"@@lisgeo-{secrets.token_hex(6)}-"
        if not any(token in page for page in pages.values()):
            break
    pieces: list[str] = []
    index: dict[str, int] = {}

    def piece(text: str) -> str:
        if text not in index:
            index[text] = len(pieces)
            pieces.append(text)
        return f"{token}{index[text]}@@"

    blocks = [asset_block(name) for name in INLINE_ASSETS]
    out = {}
    for name, page in pages.items():
        for blk in blocks:
            if blk in page:
                page = page.replace(blk, piece(blk))
        page = _GEOMETRY.sub(lambda mo: f"lisgeoGeo({piece(mo.group(1))});", page)
        page = page.replace('<html lang="en">', '<html lang="en" class="lisgeo-embed">', 1)
        out[name] = page
    return pieces, out, token


#: The report's script: each map's page, its shared pieces put back, becomes its iframe's ``srcdoc``.
EMBED_LOADER = """<script>
(function() {
    var pieces = JSON.parse(document.getElementById('lisgeo-pieces').textContent);
    var token = document.getElementById('lisgeo-pieces').getAttribute('data-token');
    var re = new RegExp(token + '([0-9]+)@@', 'g');  // (the token holds letters, digits, @ and - only)
    var frames = document.querySelectorAll('iframe[data-lisgeo-page]');
    for (var i = 0; i < frames.length; i++) {
        var src = document.getElementById(frames[i].getAttribute('data-lisgeo-page'));
        var page = JSON.parse(src.textContent).replace(re, function(m, k) { return pieces[+k]; });
        frames[i].srcdoc = page;
    }
})();
</script>"""


def _json_script(ident: str, obj, **attrs) -> str:
    """A ``<script type="application/json">`` holding ``obj`` (nothing in it can end the element)."""
    extra = "".join(f' {k}="{html.escape(str(v), quote=True)}"' for k, v in attrs.items())
    return (f'<script type="application/json" id="{html.escape(ident, quote=True)}"{extra}>'
            f"{js_safe(json.dumps(obj, ensure_ascii=False, separators=(',', ':')))}</script>")


def claims_html(claims: pd.DataFrame) -> str:
    """The headline claims as an escaped table: claim, strategy's figure, recomputed value, method, source."""
    rows = []
    for _, r in claims.iterrows():
        unit = str(r.get("unit", ""))
        u = "%" if unit.startswith("%") else ("people" if unit == "people" else "")
        dec = 1 if u == "%" else 0
        fig = format_value(r.get("strategy_figure"), units=u, decimals=dec)
        val = format_value(r.get("computed_value"), units=u, decimals=dec)
        rows.append(
            "<tr>" + "".join(f'<td class="text">{html.escape(str(x))}</td>' for x in (r.get("claim", ""),))
            + f"<td>{html.escape(fig)}</td><td>{html.escape(val)}</td>"
            + "".join(f'<td class="text">{html.escape(str(r.get(c, "")))}</td>' for c in ("method", "source")) + "</tr>"
        )
    head = "".join(f'<th scope="col" class="text">{h}</th>' for h in ("Claim", "Strategy says", "Recomputed", "How", "Source"))
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def sources_table(datasets: Iterable[str]) -> pd.DataFrame:
    """Publisher, licence, vintage and attribution of each catalogued dataset used."""
    rows = []
    for name in dict.fromkeys(datasets):
        try:
            ds = get_dataset(name)
        except UnknownNameError:
            continue
        rows.append({"dataset": name, "publisher": ds.publisher, "licence": ds.licence, "vintage": ds.vintage,
                     "attribution": ds.attribution})
    return pd.DataFrame(rows, columns=["dataset", "publisher", "licence", "vintage", "attribution"])


def _sources_html(df: pd.DataFrame) -> str:
    head = "".join(f'<th scope="col" class="text">{html.escape(c.capitalize())}</th>' for c in df.columns)
    body = "".join("<tr>" + "".join(f'<td class="text">{html.escape(str(v))}</td>' for v in r) + "</tr>"
                   for r in df.itertuples(index=False))
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def status_html(statuses, *, lead: str = "") -> str:
    """What is real about each scheme (:class:`lisgeo.status.SchemeStatus`, not built ones), live first, escaped:
    "Being built or proposed: …" then "Not being built: …"."""
    from ..status import live_first

    shown = [s for s in live_first(statuses) if s.state != "built"]
    if not shown:
        return ""
    rows = [f'<p class="note">{html.escape(lead)}</p>'] if lead else []
    for s in shown:
        word = "What is live" if s.live else ("Not being built" if s.state == "cancelled" else "Illustration")
        rows.append(f'<p class="{"live" if s.live else "not-live"}">{html.escape(word)}: {html.escape(s.text)}.</p>')
    return f'<div class="scheme-status">{"".join(rows)}</div>'


def render_report(built: list[BuiltMap], *, region: str, out_dir: str | Path, claims: pd.DataFrame | None = None,
                  claims_note: str = "", linked: bool = False, not_drawn: "Mapping[str, str] | None" = None) -> str:
    """The report page (HTML text) for maps written under ``out_dir``.

    By default the page holds its maps (one file, works alone and offline: :func:`embed_pages`);
    ``linked`` frames ``maps/*.html`` beside it instead, with links relative to ``out_dir``.
    A map that shows a scheme has the scheme's status (live first) under its subtitle, and a map of
    journey times says how close they are (:mod:`lisgeo.mapping.notes`); the page opens with the
    status of every scheme its maps show. ``not_drawn``: maps left out for this region, and why (a
    map of sites the region has none of: :class:`lisgeo.pipeline.maps.MapNotForRegion`), said after
    the introduction."""
    reg = get_region(region)
    out = Path(out_dir)
    title = f"Connectivity and the Local Industrial Strategy: {reg.label}"
    how = ("Maps open interactively below; printing shows their static versions." if linked else
           "This report is one file: its maps are inside it, so it can be sent on its own and opened without "
           "the internet (the base map behind the data needs a connection).")
    parts = [f"<h1>{html.escape(title)}</h1>",
             f'<p class="note">Generated by lisgeo on {_dt.date.today().isoformat()} for region '
             f"{html.escape(str(region))}. {html.escape(how)}</p>"]
    for name, why in (not_drawn or {}).items():
        parts.append(f'<p class="note">Not drawn: {html.escape(why)}</p>')
    embedded: dict[str, str] = {}
    if not linked:
        pages = {}
        for b in built:
            if b.html is not None:
                try:
                    pages[b.name] = Path(b.html).read_text(encoding="utf-8")
                except OSError as exc:
                    raise OutputError(f"cannot read the map {b.html} to put it in the report: {exc.strerror or exc}; "
                                      "draw the maps again (lisgeo build) or write a linked report (--linked)") from None
        pieces, embedded, token = embed_pages(pages)
    everything = [st for b in built for st in getattr(b.result, "statuses", ())]
    top = status_html(everything, lead="The schemes these maps show, and what is real about each (from the scenario "
                                        "files' [status]; what is live first):")
    if top:
        parts.append(top)
    toc = "".join(f'<li><a href="#{html.escape(b.name, quote=True)}">{html.escape(b.title)}</a></li>' for b in built)
    parts.append(f"<nav><h2>Contents</h2><ol>{toc}<li><a href=\"#claims\">Headline claims</a></li>"
                 f"<li><a href=\"#sources\">Data sources and licences</a></li></ol></nav>")
    datasets: list[str] = []
    for b in built:
        parts.append(f'<section id="{html.escape(b.name, quote=True)}"><h2>{html.escape(b.title)}</h2>'
                     f'<p class="subtitle">{html.escape(b.subtitle)}</p>')
        parts.append(status_html(getattr(b.result, "statuses", ())))
        parts.extend(f'<p class="note time-error">{html.escape(n)}</p>' for n in getattr(b.result, "notes", ()))
        links = []
        rel_png = None
        if b.png is not None:
            rel_png = b.png.relative_to(out) if b.png.is_relative_to(out) else b.png
        if b.html is not None and not linked:
            ident = f"lisgeo-page-{b.name}"
            parts.append(f'<iframe class="map" data-lisgeo-page="{html.escape(ident, quote=True)}" '
                         f'title="{html.escape(b.title, quote=True)} (interactive map)"></iframe>')
            parts.append(_json_script(ident, embedded[b.name]))
            parts.append('<noscript><p class="note">The interactive map needs JavaScript; its figures are in '
                         "the table below.</p></noscript>")
            rel_png = None  # the report travels alone: no links to files beside it
        elif b.html is not None:
            rel_html = b.html.relative_to(out) if b.html.is_relative_to(out) else b.html
            src = rel_html.as_posix() + EMBED_HASH  # the page shows only its map; the table is below, once
            parts.append(f'<iframe class="map linked" src="{html.escape(src, quote=True)}" '
                         f'title="{html.escape(b.title, quote=True)} (interactive map)" loading="lazy"></iframe>')
            links.append(f'<a href="{html.escape(rel_html.as_posix(), quote=True)}">Open the map</a>')
        if rel_png is not None and not linked and b.html is None:  # a print map only: inside the file too
            data = base64.b64encode(Path(b.png).read_bytes()).decode("ascii")
            parts.append(f'<img class="static" src="data:image/png;base64,{data}" '
                         f'alt="{html.escape(b.title, quote=True)}: static map">')
        elif rel_png is not None:
            cls = "print" if b.html is not None else "static"
            parts.append(f'<img class="{cls}" src="{html.escape(rel_png.as_posix(), quote=True)}" '
                         f'alt="{html.escape(b.title, quote=True)}: static map">')
            links.append(f'<a href="{html.escape(rel_png.as_posix(), quote=True)}">PNG for print</a>')
        if links and linked:
            parts.append(f'<p class="note">{" · ".join(links)}</p>')
        res = b.result
        parts.append(table_html(res.table, res.table_units, caption=getattr(res, "caption", None) or table_caption(res.spec)))
        if res.provenance is not None:
            parts.append(f'<p class="note lisgeo-provenance">{html.escape(res.provenance.text)}</p>')
        if res.skipped:
            parts.append('<p class="note">Not drawn for this region (no data): '
                         + html.escape(", ".join(res.skipped)) + "</p>")
        parts.append("</section>")
        datasets.extend(res.sources)
    parts.append('<section id="claims"><h2>Headline claims, recomputed</h2>')
    if claims is not None and len(claims):
        parts.append(claims_html(claims))
    else:
        parts.append(f'<p class="note">{html.escape(claims_note or "No claims for this region.")}</p>')
    parts.append("</section>")
    parts.append('<section id="sources"><h2>Data sources and licences</h2>')
    parts.append(_sources_html(sources_table(datasets)))
    parts.append('<p class="note">Base maps: © OpenStreetMap contributors (tiles need an internet connection; '
                 "without it the maps draw their data on a blank background).</p></section>")
    from .. import __version__

    parts.append(f'<footer class="page note">Made with lisgeo {html.escape(__version__)} on {_dt.date.today().isoformat()}.</footer>')
    if embedded:
        parts.append(_json_script("lisgeo-pieces", pieces, **{"data-token": token}))
        parts.append(EMBED_LOADER)
    page = ("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{html.escape(title)}</title><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<style>{_CSS}</style></head><body>" + "\n".join(parts) + "</body></html>")
    return page
