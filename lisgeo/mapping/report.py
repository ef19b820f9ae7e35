"""The HTML report: one page with every map embedded, district tables, headline claims, sources.

``render_report(built, region=..., out_dir=..., claims=...)`` returns the page for maps already
written into ``DIR/maps/``: each map in an ``<iframe>`` (its print PNG is shown instead when
printing), its key-figures table, the strategy's headline claims recomputed from data, and the
data sources with their licences and attribution from the catalog. Every text is escaped.

Each map page carries its own table and footer; the report embeds it as ``map.html#embed``, under
which the page shows only the map, and prints the table and the footer line once, beneath it.
:func:`lisgeo.pipeline.maps.write_report` draws the maps, recomputes the claims and writes it.
"""

from __future__ import annotations

import datetime as _dt
import html
from pathlib import Path
from typing import Iterable

import pandas as pd

from ..catalog import get_dataset
from ..errors import UnknownNameError
from ..regions import get_region
from .draw import BuiltMap
from .legend import format_value
from .render import EMBED_HASH, table_caption, table_html

__all__ = ["render_report", "claims_html", "sources_table", "status_html"]

_CSS = """
body { font: 15px/1.5 system-ui, sans-serif; margin: 0 auto; max-width: 1100px; padding: 0 18px 40px; color: #1b1b1b; }
h1 { margin-top: 24px; } h2 { border-top: 1px solid #ccc; padding-top: 18px; }
.subtitle { color: #444; margin-top: -6px; }
iframe.map { width: 100%; height: 640px; border: 1px solid #bbb; }
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
@media print { iframe.map { display: none; } img.print { display: block; } h2 { page-break-before: always; } }
"""


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
                  claims_note: str = "") -> str:
    """The report page (HTML text) for maps written under ``out_dir``; links are relative to it.

    A map that shows a scheme has the scheme's status (live first) under its subtitle, and a map of
    journey times says how close they are (:mod:`lisgeo.mapping.notes`); the page opens with the
    status of every scheme its maps show."""
    reg = get_region(region)
    out = Path(out_dir)
    title = f"Connectivity and the Local Industrial Strategy: {reg.label}"
    parts = [f"<h1>{html.escape(title)}</h1>",
             f'<p class="note">Generated by lisgeo on {_dt.date.today().isoformat()} for region '
             f"{html.escape(str(region))}. Maps open interactively below; printing shows their static versions.</p>"]
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
        if b.html is not None:
            rel_html = b.html.relative_to(out) if b.html.is_relative_to(out) else b.html
            src = rel_html.as_posix() + EMBED_HASH  # the page shows only its map; the table is below, once
            parts.append(f'<iframe class="map" src="{html.escape(src, quote=True)}" '
                         f'title="{html.escape(b.title, quote=True)} (interactive map)" loading="lazy"></iframe>')
            links.append(f'<a href="{html.escape(rel_html.as_posix(), quote=True)}">Open the map</a>')
        if rel_png is not None:
            cls = "print" if b.html is not None else "static"
            parts.append(f'<img class="{cls}" src="{html.escape(rel_png.as_posix(), quote=True)}" '
                         f'alt="{html.escape(b.title, quote=True)}: static map">')
            links.append(f'<a href="{html.escape(rel_png.as_posix(), quote=True)}">PNG for print</a>')
        if links:
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
    page = ("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{html.escape(title)}</title><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<style>{_CSS}</style></head><body>" + "\n".join(parts) + "</body></html>")
    return page
