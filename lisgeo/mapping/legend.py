"""Legends and value formatting: the real class edges with units, in data order, plus no data.

The same :class:`Legend` feeds the web map (an HTML Leaflet control, every text escaped) and
the static PNG (matplotlib patches), so both show identical classes.
"""

from __future__ import annotations

import html
import math

import numpy as np
from dataclasses import dataclass

from branca.element import Template

from ._elements import VerbatimMacroElement

from .classify import NODATA_COLOR, Categories, Classification, category_key

__all__ = ["Legend", "LegendEntry", "format_value", "legend_for_classes", "legend_for_categories", "legend_html",
           "LegendControl", "category_label", "class_note", "FEATURE_WORDS"]


def format_value(value, *, units: str = "", decimals: int = 0) -> str:
    """A number for people: thousands separators, fixed decimals, units (``"12 min"``, ``"45.2%"``, ``"£3.5m"``).

    Missing values read ``"no data"``; text passes through unchanged (escape it before
    placing it in HTML).
    """
    if value is None:
        return "no data"
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, str):
        return value
    try:
        x = float(value)
    except (TypeError, ValueError):
        return str(value)
    if math.isnan(x) or math.isinf(x):
        return "no data"
    if units == "£":
        for size, suffix in ((1e9, "bn"), (1e6, "m"), (1e3, "k")):
            if abs(x) >= size:
                return f"£{x / size:,.1f}{suffix}"
        return f"£{x:,.0f}"
    text = f"{x:,.{decimals}f}"
    if text.startswith("-") and float(text.replace(",", "")) == 0:
        text = text[1:]
    if not units:
        return text
    if units == "%":
        return f"{text}%"
    return f"{text} {units}"


def category_label(value) -> str:
    """Legend/tooltip text for a category value (booleans read yes/no, underscores become spaces)."""
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        value = int(value)
    text = str(value)
    return text.replace("_", " ") if text.islower() or "_" in text else text


@dataclass(frozen=True)
class LegendEntry:
    label: str
    color: str
    count: int
    nodata: bool = False


@dataclass(frozen=True)
class Legend:
    """What one legend shows: a title, units, and entries in data order (no data last)."""

    title: str
    units: str
    entries: tuple[LegendEntry, ...]
    kind: str  # "classes" or "categories"
    shape: str = "box"  # "box" (areas), "circle" (points), "line"
    note: str = ""
    dash: str = ""  # a dashed line's pattern (pixels), e.g. "6 4"; "" solid
    beyond: int = 0  # features of the layer beyond the region (not counted in the entries)

    def beyond_note(self, *, web: bool = True) -> str:
        """What the legend says of the layer's features beyond the region ("" when none)."""
        if not self.beyond:
            return ""
        where = "turn on “Beyond the region” to see them" if web else "not shown"
        return f"{self.beyond:,} more beyond the region ({where})"

    def full_note(self, *, web: bool = True) -> str:
        """The note with the line on features beyond the region."""
        return "; ".join(t for t in (self.note, self.beyond_note(web=web)) if t)

    @property
    def labels(self) -> list[str]:
        return [e.label for e in self.entries]


def _edge_decimals(edges) -> int:
    """Decimals enough to print every fixed class edge exactly (up to 3): ``[0, 15, 30]`` -> 0, ``[0, 2.5]`` -> 1."""
    need = 0
    for e in edges:
        while need < 3 and abs(round(float(e), need) - float(e)) > 1e-9:
            need += 1
    return need


def _range(lo, hi, *, units: str, decimals: int) -> str:
    a, b = format_value(lo, decimals=decimals), format_value(hi, units=units, decimals=decimals)
    if a == format_value(hi, decimals=decimals):
        return b
    sep = " to " if min(lo, hi) < 0 else " – "  # "-30 to -15 min" reads better than "-30 – -15 min"
    return f"{a}{sep}{b}"


_NUMBERS = {1: "One", 2: "Two", 3: "Three", 4: "Four", 5: "Five", 6: "Six", 7: "Seven", 8: "Eight", 9: "Nine", 10: "Ten"}
#: What one feature is called in a legend's note, by the kind of geometry drawn.
FEATURE_WORDS = {"polygon": "areas", "point": "places", "line": "stretches of line"}


def _amount(value: float, units: str) -> str:
    """A class width in words: ``15 minutes``, ``10%``, ``50,000 jobs``."""
    if units == "min":
        v = format_value(value, decimals=_edge_decimals([value]))
        return f"{v} minute" if v == "1" else f"{v} minutes"
    return format_value(value, units=units, decimals=_edge_decimals([value]))


def class_note(cls: Classification, *, units: str = "", features: str = "areas", centred: bool = False) -> str:
    """How the classes were made, in a planner's words (no method names): "Five classes with about the
    same number of areas each"; fixed classes: "Classes of 15 minutes (the last 30 minutes), the same in
    every region and scenario". ``features``: what is classified ("areas", "places"); ``centred``: a
    diverging palette centred on no change (its middle colour says so)."""
    k = cls.k
    n = _NUMBERS.get(k, str(k))
    if cls.fixed:
        edges = [*cls.lower, cls.upper[-1]]
        widths = [b - a for a, b in zip(edges, edges[1:])]
        same = "the same in every region and scenario"
        if len(set(widths)) == 1:
            text = f"Classes of {_amount(widths[0], units)}, {same}"
        elif len(set(widths[:-1])) == 1 and len(widths) > 2:
            text = f"Classes of {_amount(widths[0], units)} (the last {_amount(widths[-1], units)}), {same}"
        else:
            text = f"{n} classes, {same}"
    elif cls.scheme == "quantiles":
        text = f"{n} classes with about the same number of {features} each"
    elif cls.scheme == "natural_breaks":
        text = f"{n} classes, split where the values jump most"
    elif cls.scheme == "equal_interval":
        text = f"{n} classes of equal width, from the lowest value to the highest"
    else:
        text = f"{n} classes"
    if k == 1 and not cls.fixed:
        text = "Every value in one class"
    if centred:
        text += "; the middle colour is little or no change"
    return text


_SINGULAR = {"areas": "area", "places": "place", "stretches of line": "stretch of line", "values": "value"}


def _counted(n: int, features: str) -> str:
    """``1 area is``, ``3 areas are``."""
    return f"{n:,} {_SINGULAR.get(features, features)} is" if n == 1 else f"{n:,} {features} are"


def legend_for_classes(cls: Classification, colors: list[str], *, title: str, units: str = "", decimals: int = 0,
                       nodata_label: str = "No data", shape: str = "box", note: str = "", features: str = "areas") -> Legend:
    """Entries ``"lower – upper units"`` for each class (the real edges), then no data if any.

    Fixed classes (``cls.fixed``: class edges from a map file) are all listed, empty ones too, with
    edges printed exactly; when values lie beyond the outer edges the first class reads "… or less" and
    the last "more than …", and the note says how many values were put there.
    """
    entries = []
    if cls.fixed:
        decimals = _edge_decimals((*cls.lower, *cls.upper))  # the edges as written in the map file
    k = len(cls.upper)
    for i, (lo, hi, col, n) in enumerate(zip(cls.lower, cls.upper, colors, cls.counts)):
        below = cls.fixed and i == 0 and cls.n_below > 0
        above = cls.fixed and i == k - 1 and cls.n_above > 0
        if below and above:
            label = "all values"
        elif below:
            label = f"{format_value(hi, units=units, decimals=decimals)} or less"
        elif above:
            more = "or more" if i == 0 else ""
            label = (f"{format_value(lo, units=units, decimals=decimals)} or more" if more
                     else f"more than {format_value(lo, units=units, decimals=decimals)}")
        else:
            label = _range(lo, hi, units=units, decimals=decimals)
        entries.append(LegendEntry(label, col, n))
    if cls.n_nodata:
        entries.append(LegendEntry(nodata_label, NODATA_COLOR, cls.n_nodata, nodata=True))
    if cls.fixed:
        outside = []
        if cls.n_below:
            edge = format_value(cls.lower[0], units=units, decimals=decimals)
            outside.append(f"{_counted(cls.n_below, features)} under {edge}, shown with the first class")
        if cls.n_above:
            edge = format_value(cls.upper[-1], units=units, decimals=decimals)
            outside.append(f"{_counted(cls.n_above, features)} over {edge}, shown with the last class")
        if outside:
            note = (note + "; " if note else "") + "; ".join(outside)
    return Legend(title, units, tuple(entries), "classes", shape, note)


def legend_for_categories(cats: Categories, colors: list[str], *, title: str, labels: dict | None = None,
                          nodata_label: str = "No data", shape: str = "box", note: str = "") -> Legend:
    """One entry per category in the classification's order, then no data if any."""
    labels = labels or {}
    entries = [LegendEntry(labels.get(category_key(v), category_label(v)), col, n)
               for v, col, n in zip(cats.values, colors, cats.counts)]
    if cats.n_nodata:
        entries.append(LegendEntry(nodata_label, NODATA_COLOR, cats.n_nodata, nodata=True))
    return Legend(title, "", tuple(entries), "categories", shape, note)


def _swatch(color: str, shape: str, dash: str = "") -> str:
    c = html.escape(color, quote=True)
    if shape == "line" and dash:
        d = html.escape(dash, quote=True)
        return (f'<svg class="lisgeo-swatch" width="24" height="12" style="flex:none;margin:3px 4px 0 0" aria-hidden="true">'
                f'<line x1="0" y1="6" x2="24" y2="6" stroke="{c}" stroke-width="3" stroke-dasharray="{d}"/></svg>')
    if shape == "circle":
        style = f"background:{c};border-radius:50%;width:12px;height:12px;margin:2px 5px 0 3px;border:1px solid #333"
    elif shape == "line":
        style = f"background:{c};width:18px;height:4px;margin:7px 4px 0 0"
    else:
        style = f"background:{c};width:18px;height:14px;margin-right:6px;border:1px solid #777"
    return f'<span class="lisgeo-swatch" style="display:inline-block;flex:none;{style}"></span>'


def legend_html(legend: Legend, *, legend_id: str = "") -> str:
    """The legend as an HTML fragment; every text is escaped."""
    rows = []
    for e in legend.entries:
        cls = "lisgeo-legend-entry lisgeo-nodata" if e.nodata else "lisgeo-legend-entry"
        rows.append(
            f'<div class="{cls}" style="display:flex;align-items:flex-start;margin:2px 0">{_swatch(e.color, legend.shape, "" if e.nodata else legend.dash)}'
            f'<span class="lisgeo-legend-label" style="max-width:260px;overflow-wrap:anywhere">{html.escape(e.label)}</span>'
            f'<span class="lisgeo-legend-count" style="color:#666;margin-left:4px">({e.count:,})</span></div>'
        )
    text = legend.full_note(web=True)
    note = f'<div class="lisgeo-legend-note" style="color:#555;font-size:11px;margin-top:3px;max-width:260px">{html.escape(text)}</div>' if text else ""
    ident = f' id="{html.escape(legend_id, quote=True)}"' if legend_id else ""
    return (
        f'<div class="lisgeo-legend"{ident} data-kind="{legend.kind}">'
        f'<div class="lisgeo-legend-title" style="font-weight:bold;margin-bottom:3px;max-width:230px;overflow-wrap:anywhere">{html.escape(legend.title)}</div>'
        + "".join(rows) + note + "</div>"
    )


class LegendControl(VerbatimMacroElement):
    """One Leaflet control holding the legends of a map, each shown only while its layer is on.

    ``sections`` are ``(legend_html, layer_js_name)`` pairs (``layer_js_name`` may be None
    for a legend that always shows). The box scrolls when the legends are taller than the map.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = L.control({position: {{ this.position|tojson }}});
        {{ this.get_name() }}.onAdd = function(map) {
            var div = L.DomUtil.create('div', 'lisgeo-legend-box leaflet-bar');
            div.style.background = 'rgba(255,255,255,0.93)';
            div.style.padding = '6px 8px';
            div.style.font = '12px/1.3 sans-serif';
            div.style.maxHeight = '40vh';
            div.style.overflowY = 'auto';
            div.innerHTML = {{ this.html|tojson }};
            L.DomEvent.disableClickPropagation(div);
            L.DomEvent.disableScrollPropagation(div);
            return div;
        };
        {{ this.get_name() }}.addTo({{ this._parent.get_name() }});
        (function() {
            var map = {{ this._parent.get_name() }}, box = {{ this.get_name() }}.getContainer();
            var pairs = [{% for sid, lyr in this.pairs %}[{{ sid|tojson }}, {{ lyr }}]{{ "," if not loop.last }}{% endfor %}];
            function sync() {
                pairs.forEach(function(p) {
                    var el = box.querySelector('[data-section="' + p[0] + '"]');
                    if (el) { el.style.display = map.hasLayer(p[1]) ? '' : 'none'; }
                });
            }
            sync();
            map.on('overlayadd overlayremove', sync);
        })();
        {% endmacro %}
        """
    )

    def __init__(self, sections: list[tuple[str, str | None]], *, position: str = "bottomright"):
        super().__init__()
        self._name = "LisgeoLegend"
        self.position = position
        parts, self.pairs = [], []
        for i, (frag, layer_js) in enumerate(sections):
            sid = f"s{i}"
            parts.append(f'<div class="lisgeo-legend-section" data-section="{sid}" style="margin-bottom:6px">{frag}</div>')
            if layer_js:
                self.pairs.append((sid, layer_js))
        self.html = "".join(parts)
