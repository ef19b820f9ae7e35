"""From a layer's GeoDataFrame to what a map draws: classes, colours, escaped tooltips, display geometry.

:func:`prepare_layer` is shared by the web map (:mod:`lisgeo.mapping.render`) and the print
map (:mod:`lisgeo.mapping.static`), so both use the same classes, colours and legend.
Geometry stays in EPSG:27700 here; it is projected to WGS84 only when written into a page
(:mod:`lisgeo.mapping.encode`; :func:`to_display_geojson` for plain GeoJSON), after simplification
for display. :func:`split_beyond` sets apart what lies beyond the region a map is framed on.
"""

from __future__ import annotations

import dataclasses
import hashlib
import html
import json
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..errors import EmptyResultError, MissingColumnError
from ..checks import check_frame
from .classify import (NODATA_COLOR, Categories, Classification, category_key, class_colors, classify_categories,
                       classify_values, is_diverging, zero_position)
from .legend import FEATURE_WORDS, Legend, category_label, class_note, format_value, legend_for_categories, legend_for_classes
from .spec import LayerDef, MapSpec, column_info

__all__ = [
    "PreparedLayer", "prepare_layer", "simplify_for_display", "to_display_geojson", "tooltip_html", "tooltip_values",
    "tooltip_labels", "popup_html", "js_safe", "status_title",
    "district_table", "split_attribution", "DEFAULT_SIMPLIFY_M", "COORD_DECIMALS", "split_beyond", "region_frame",
    "FRAME_MARGIN_M",
]

#: Display simplification tolerance (metres, BNG) for polygons and lines unless a layer sets ``simplify_m``.
DEFAULT_SIMPLIFY_M = 30.0
#: Decimal places kept for WGS84 coordinates in web maps (1e-5 degrees ≈ 1 m).
COORD_DECIMALS = 5


@dataclass
class PreparedLayer:
    """A layer ready to draw: BNG geometry simplified for display plus ``_color``, ``_tip`` (escaped
    tooltip values), ``_pop`` (escaped popup HTML)."""

    ldef: LayerDef
    gdf: gpd.GeoDataFrame
    geom_kind: str  # "polygon", "line", "point"
    legend: Legend | None
    classes: Classification | Categories | None = None
    attribution: str = ""
    sources: list[str] = field(default_factory=list)
    data: gpd.GeoDataFrame | None = None  # the full-resolution rows (for tables)
    tip_labels: list[str] = field(default_factory=list)  # escaped tooltip labels; ``gdf._tip`` holds escaped values
    scenario: str = ""  # the scenario the frame was computed for (``attrs["scenario"]``), "" for plain layers
    base: str = ""  # for a comparison, the scenario it is compared with (``attrs["base"]``)
    status: Any = None  # the scheme it shows (lisgeo.status.SchemeStatus), set by draw_map
    beyond: gpd.GeoDataFrame | None = None  # display rows outside the map's region (drawn on a toggle, off at opening)

    @property
    def n_features(self) -> int:
        return len(self.gdf)

    @property
    def title(self) -> str:
        """The layer's legend and layer-control title: its own, then the status of a scheme that is
        not built ("HS2 Phase 2b stations (cancelled 2023 — as in the 2020 strategy)")."""
        return status_title(self.ldef.title, self.status)


#: How far outside the region's outline a feature may lie and still be drawn with the region (metres).
FRAME_MARGIN_M = 500.0


def split_beyond(p: PreparedLayer, frame: Any, *, margin_m: float = FRAME_MARGIN_M) -> PreparedLayer:
    """Move the display rows of ``p`` that lie wholly outside ``frame`` (the region's outline, BNG,
    grown by ``margin_m``) to ``p.beyond``: the map draws them on a "Beyond the region" toggle, off
    at opening, and frames its view on the region. A feature that reaches into the region stays.
    The full rows (``p.data``, for the tables) are kept as they are."""
    if frame is None or p.gdf is None or not len(p.gdf):
        return p
    zone = shapely.buffer(frame, margin_m) if margin_m > 0 else frame
    shapely.prepare(zone)
    inside = shapely.intersects(zone, np.asarray(p.gdf.geometry.values, dtype=object))
    if inside.all():
        return p
    p.beyond = p.gdf[~inside]
    p.gdf = p.gdf[inside]
    if p.legend is not None:  # the legend counts what the map shows at opening, and says what is beyond
        p.legend = _count_inside(p, inside)
    return p


def _count_inside(p: PreparedLayer, inside: np.ndarray) -> Legend:
    """``p.legend`` with each entry counting the features inside the region (``inside``: a mask over the
    layer's rows, in their order), and the number beyond."""
    lg = p.legend
    n_out = int((~inside).sum())
    if p.classes is None:
        counts = [int(inside.sum())] * len(lg.entries)
    else:
        cls = np.asarray(p.classes.classes.to_numpy())[inside]  # (by position: an index may repeat)
        counts = [int((cls == (-1 if e.nodata else i)).sum()) for i, e in enumerate(lg.entries)]
    entries = tuple(dataclasses.replace(e, count=n) for e, n in zip(lg.entries, counts))
    return dataclasses.replace(lg, entries=entries, beyond=n_out)


def region_frame(layers: Iterable[PreparedLayer]) -> Any:
    """The outline of the region a map shows, from its own layers when nobody gave one: the LEP
    boundary or the districts (both the region's own), else the box around the area layers of
    scores and comparisons (the region's small areas); None when the map has none of these."""
    layers = list(layers)
    for names in (("lep",), ("districts",)):
        for p in layers:
            if p.ldef.source == "layer" and p.ldef.layer in names and p.geom_kind == "polygon":
                geoms = (p.data if p.data is not None else p.gdf).geometry
                return shapely.union_all(np.asarray(geoms.values, dtype=object))
    areas = [p for p in layers if p.ldef.source in ("scores", "compare") and p.geom_kind == "polygon"]
    if areas:
        b = np.array([p.gdf.total_bounds for p in areas])
        return shapely.box(b[:, 0].min(), b[:, 1].min(), b[:, 2].max(), b[:, 3].max())
    return None


def status_title(title: str, status: Any) -> str:
    """``title`` followed by the short status of a scheme that is not built (``status``: a
    :class:`lisgeo.status.SchemeStatus` or None)."""
    if status is None or status.state == "built":
        return title
    return f"{title} ({status.tag})"


def _geom_kind(gdf: gpd.GeoDataFrame) -> str:
    types = set(gdf.geom_type.dropna())
    if types <= {"Point", "MultiPoint"}:
        return "point"
    if types <= {"LineString", "MultiLineString"}:
        return "line"
    if types <= {"Polygon", "MultiPolygon"}:
        return "polygon"
    raise EmptyResultError(f"a map layer must hold one kind of geometry (points, lines or polygons); got {sorted(types)}")


def simplify_for_display(gdf: gpd.GeoDataFrame, *, tolerance_m: float = DEFAULT_SIMPLIFY_M) -> gpd.GeoDataFrame:
    """Simplify geometry (metres, BNG) for display, keeping shared edges shared.

    Polygons that form a valid coverage (no overlaps, e.g. LSOAs, districts) are simplified
    together with ``shapely.coverage_simplify`` so neighbours never gap or overlap; other
    geometry is simplified one by one with ``preserve_topology=True``. Points are unchanged.
    """
    if tolerance_m <= 0 or len(gdf) == 0:
        return gdf
    geoms = gdf.geometry.values
    kind = _geom_kind(gdf)
    if kind == "point":
        return gdf
    arr = np.asarray(geoms, dtype=object)
    # the maps of one build draw the same zones again and again: simplify each set of shapes once
    key = (kind, float(tolerance_m), hashlib.blake2b(b"".join(shapely.to_wkb(arr)), digest_size=16).hexdigest())
    out = _SIMPLIFIED.get(key)
    if out is None:
        out = _simplify(arr, kind, tolerance_m)
        if len(_SIMPLIFIED) >= 16:
            _SIMPLIFIED.pop(next(iter(_SIMPLIFIED)))
        _SIMPLIFIED[key] = out
    res = gdf.copy()
    res[gdf.geometry.name] = gpd.GeoSeries(out, index=gdf.index, crs=gdf.crs)
    return res


#: simplified shapes by (kind, tolerance, digest of the shapes' WKB); shapely geometries are immutable
_SIMPLIFIED: dict[tuple, np.ndarray] = {}


def _simplify(arr: np.ndarray, kind: str, tolerance_m: float) -> np.ndarray:
    if kind == "polygon" and hasattr(shapely, "coverage_simplify"):
        try:
            if bool(shapely.coverage_is_valid(arr)):
                return shapely.coverage_simplify(arr, tolerance_m, simplify_boundary=True)
        except Exception:  # noqa: BLE001 - fall back to per-geometry simplification
            pass
    return shapely.simplify(arr, tolerance_m, preserve_topology=True)


def js_safe(text: str) -> str:
    """JSON text made safe to sit inside <script>: no '<', '>', '&', U+2028/9 literally."""
    return (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def to_display_geojson(gdf: gpd.GeoDataFrame, properties: Iterable[dict[str, Any]], *, decimals: int = COORD_DECIMALS) -> str:
    """A GeoJSON FeatureCollection in EPSG:4326 with coordinates rounded to ``decimals``.

    The text is safe to embed in a ``<script>`` element (``<``, ``>`` and ``&`` are escaped
    as JSON unicode escapes).
    """
    wgs = gdf.geometry.to_crs("EPSG:4326").values
    rounded = shapely.transform(np.asarray(wgs, dtype=object), lambda c: np.round(c, decimals))
    geo = shapely.to_geojson(rounded)
    feats = [
        '{"type":"Feature","geometry":' + g + ',"properties":' + json.dumps(p, ensure_ascii=False, separators=(",", ":")) + "}"
        for g, p in zip(geo, properties)
    ]
    return js_safe('{"type":"FeatureCollection","features":[' + ",".join(feats) + "]}")


def _info(ldef: LayerDef, col: str) -> tuple[str, str, int]:
    ci = column_info(col)
    if col == ldef.column:
        return (ldef.label or ci.label, ldef.units if ldef.units is not None else ci.units,
                ldef.decimals if ldef.decimals is not None else ci.decimals)
    return ci.label, ci.units, ci.decimals


def _fmt(ldef: LayerDef, col: str, value) -> str:
    _, units, dec = _info(ldef, col)
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, str):
        if not value:
            return "none"
        return category_label(value) if col in ("category", "theme", "road_class", "band") else value
    return format_value(value, units=units, decimals=dec)


def tooltip_values(row: Mapping[str, Any], ldef: LayerDef, fields: Iterable[str]) -> list[str]:
    """The formatted, HTML-escaped values of a feature's tooltip fields."""
    return [html.escape(_fmt(ldef, f, row[f])) for f in fields]


def tooltip_labels(ldef: LayerDef, fields: Iterable[str]) -> list[str]:
    """The HTML-escaped labels of a layer's tooltip fields (the first field is the bold heading)."""
    return [html.escape(_info(ldef, f)[0]) for f in fields]


def tooltip_html(values: list[str], labels: list[str]) -> str:
    """Hover text from escaped values and labels: the first value in bold, then ``label: value`` lines.

    (The web map assembles the same text in the browser from the same escaped pieces, so the
    labels are written once per layer rather than once per feature.)
    """
    if not values:
        return ""
    return "<br>".join([f"<b>{values[0]}</b>", *(f"{lab}: {v}" for lab, v in zip(labels[1:], values[1:]))])


def popup_html(row: pd.Series, ldef: LayerDef, fields: Iterable[str]) -> str:
    """Click text for a feature (sites): a title and a table of facts, with the source; all escaped.

    A ``source`` that is an http(s) address becomes a link (its text and address escaped).
    """
    fields = [f for f in fields if f in row.index]
    if not fields:
        return ""
    title_col = "name" if "name" in fields else fields[0]
    rows = []
    for f in fields:
        if f == title_col:
            continue
        v = row[f]
        if v is None or (not isinstance(v, str) and pd.isna(v)):
            continue
        text = _fmt(ldef, f, v)
        if f == "source" and isinstance(v, str) and v.startswith(("http://", "https://")):
            cell = f'<a href="{html.escape(v, quote=True)}" target="_blank" rel="noopener noreferrer">{html.escape(v)}</a>'
        else:
            cell = html.escape(text)
        rows.append(f'<tr><th style="text-align:left;padding-right:6px;vertical-align:top">{html.escape(_info(ldef, f)[0])}</th><td>{cell}</td></tr>')
    return (f'<div class="lisgeo-popup"><b>{html.escape(_fmt(ldef, title_col, row[title_col]))}</b>'
            f'<table style="font-size:12px">{"".join(rows)}</table></div>')


def _apply_where(gdf: gpd.GeoDataFrame, where: dict) -> gpd.GeoDataFrame:
    for col, want in where.items():
        if col not in gdf.columns:
            raise MissingColumnError(f"where: column {col!r} is not in the layer; it has {list(gdf.columns)}")
        if isinstance(want, list):
            gdf = gdf[gdf[col].isin(want)]
        else:
            gdf = gdf[gdf[col] == want]
    return gdf


def prepare_layer(ldef: LayerDef, gdf: gpd.GeoDataFrame, *, status: Any = None) -> PreparedLayer:
    """Classify, colour and label one layer of a map (BNG in, BNG out, index kept). ``status`` (a
    :class:`lisgeo.status.SchemeStatus`): the scheme the layer shows; its legend title says its status."""
    gdf = check_frame(gdf, name=f"map layer {ldef.name!r}", allow_empty=True)
    gdf = _apply_where(gdf, dict(ldef.where))
    if len(gdf) == 0:
        raise EmptyResultError(f"map layer {ldef.name!r} has no features (after where = {dict(ldef.where)}); "
                               "check the region, the filter, or mark the layer optional = true")
    needed = [c for c in (ldef.column, *ldef.tooltip, *ldef.popup) if c]
    missing = [c for c in needed if c not in gdf.columns]
    if missing:
        raise MissingColumnError(
            f"map layer {ldef.name!r} needs column(s) {missing} but the data have {[c for c in gdf.columns if c != 'geometry']}; "
            "fix column/tooltip/popup in the map file"
        )
    attribution = str(gdf.attrs.get("attribution", ""))
    sources = list(gdf.attrs.get("sources", []))
    scenario, base = str(gdf.attrs.get("scenario") or ""), str(gdf.attrs.get("base") or "")
    # what the layer needs of its frame's attrs is read: pandas deep-copies attrs (a score frame's
    # carry its provenance) into every row, column and subset taken below; without them, no copies
    gdf = gdf.copy(deep=False)
    gdf.attrs = {}
    data = gdf
    kind = _geom_kind(gdf)
    legend: Legend | None = None
    classes = None
    shape = {"point": "circle", "line": "line"}.get(kind, "line" if ldef.style == "outline" else "box")
    title = status_title(ldef.title, status)
    if ldef.column is None:
        colors = pd.Series(ldef.color, index=gdf.index)
        if ldef.legend:
            from .legend import LegendEntry

            legend = Legend(title, "", (LegendEntry(title, ldef.color, len(gdf)),), "categories", shape)
    elif ldef.scheme == "categorical":
        classes = classify_categories(gdf[ldef.column], order=ldef.category_order)
        palette = class_colors(classes.k, palette=ldef.palette, reverse=ldef.reverse)
        palette = [ldef.colors.get(category_key(v), palette[i]) for i, v in enumerate(classes.values)]
        colors = classes.classes.map(lambda i: NODATA_COLOR if i < 0 else palette[i])
        _, units, dec = _info(ldef, ldef.column)
        labels = {category_key(v): format_value(v, units=units, decimals=dec) for v in classes.values
                  if units and isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_))}
        labels.update(ldef.category_labels)
        legend = legend_for_categories(classes, palette, title=title, labels=labels, shape=shape)
    else:
        vals = pd.to_numeric(gdf[ldef.column], errors="coerce")
        classes = classify_values(vals, scheme=ldef.scheme, k=ldef.k, breaks=ldef.breaks or None)
        # a diverging palette is centred on zero ("no change") when the classes span it; a map of changes
        # (a comparison, or a d_ column) all on one side of zero shows only that side of the palette
        change = ldef.source == "compare" or ldef.column.startswith("d_")
        center = zero_position(classes, one_sided=change) if is_diverging(ldef.palette) else None
        palette = class_colors(classes.k, palette=ldef.palette, reverse=ldef.reverse, center=center)
        colors = classes.classes.map(lambda i: NODATA_COLOR if i < 0 else palette[i])
        _, units, dec = _info(ldef, ldef.column)
        note = class_note(classes, units=units, features=FEATURE_WORDS[kind], centred=center is not None and center >= 0
                          and center <= classes.k - 1)
        legend = legend_for_classes(classes, palette, title=title, units=units, decimals=dec, shape=shape, note=note,
                                    features=FEATURE_WORDS[kind])
    if not ldef.legend:
        legend = None
    elif legend is not None and shape == "line" and ldef.dash:
        legend = dataclasses.replace(legend, dash=ldef.dash)  # the swatch dashed as the line is
    tip_fields = list(ldef.tooltip) or [c for c in ("LSOA21NM", "LADNM", "name") if c in gdf.columns][:1]
    if ldef.column and ldef.column not in tip_fields:
        tip_fields.append(ldef.column)
    tol = ldef.simplify_m if ldef.simplify_m is not None else DEFAULT_SIMPLIFY_M
    out = simplify_for_display(gdf[[gdf.geometry.name]].copy(), tolerance_m=tol)
    out["_color"] = colors.reindex(gdf.index).astype(object).to_numpy()
    tips = ([tooltip_values(r, ldef, tip_fields) for r in gdf[tip_fields].to_dict("records")] if tip_fields
            else [None] * len(gdf))
    out["_tip"] = pd.Series(tips, index=gdf.index, dtype=object)
    out["_pop"] = [popup_html(r, ldef, ldef.popup) for _, r in gdf.iterrows()] if ldef.popup else ""
    return PreparedLayer(ldef, out, kind, legend, classes, attribution, sources, data,
                         tooltip_labels(ldef, tip_fields) if tip_fields else [],
                         scenario, base, status)


# ------------------------------------------------------------------ text alternative
def _stat(values: pd.Series, stat: str, weights: pd.Series | None = None) -> float | str:
    if stat == "tally":
        from ..measures.compare import tally

        return tally(values) or "none"
    v = pd.to_numeric(values, errors="coerce") if stat != "first" else values
    if stat == "first":
        return v.iloc[0] if len(v) else np.nan
    if stat == "count":
        return float(v.notna().sum())
    if stat == "weighted_mean":
        w = pd.to_numeric(weights, errors="coerce")
        ok = v.notna() & w.notna() & (w > 0)
        return float((v[ok] * w[ok]).sum() / w[ok].sum()) if ok.any() else np.nan
    if v.notna().sum() == 0:
        return np.nan
    return float(getattr(v, stat)())


_STAT_WORD = {"median": "median", "mean": "mean", "weighted_mean": "population-weighted mean", "sum": "total",
              "min": "lowest", "max": "highest", "count": "number with data", "first": "", "tally": "number of areas"}


def district_table(spec: MapSpec, layers: dict[str, PreparedLayer]) -> tuple[pd.DataFrame, dict[str, tuple[str, int]]]:
    """The key figures per district (the map's text alternative) and each column's (units, decimals).

    Rows are the ``by`` values sorted, plus a last row for the whole map area. Figures come from the
    table's layer and from the layers of ``also``; when they show more than one scheme, each heading
    starts with its scheme and status ("HS2 Phase 2b (cancelled 2023 — as in the 2020 strategy): …").
    """
    t = spec.table
    if t is None:
        chosen = next((p for p in layers.values() if p.ldef.column and p.ldef.scheme != "categorical"
                       and "LADNM" in p.data.columns), None)
        if chosen is None:
            return pd.DataFrame(), {}
        stats = {chosen.ldef.column: "median"}
        from .spec import TableDef

        t = TableDef(layer=chosen.ldef.name, by="LADNM", stats=stats)
    base = layers[t.layer]
    df = base.data
    if t.by not in df.columns:
        raise MissingColumnError(f"[table] by = {t.by!r} is not a column of layer {t.layer!r}")
    groups = sorted(df[t.by].dropna().unique(), key=str)
    rows = df.groupby(t.by, sort=False, dropna=True).indices  # each group's row positions, in order
    cols: dict[str, list] = {}
    units: dict[str, tuple[str, int]] = {}
    from ..measures.columns import ID_COLUMNS  # (not at import: the maps module stays light)

    sources = [(t.layer, dict(t.stats)), *((name, dict(more)) for name, more in t.also.items())]
    shown = {(layers[n].status.scenario if layers[n].status is not None else "") for n, _ in sources if n in layers}
    several = len(shown) > 1  # the table shows more than one scheme: each heading names its own
    for lname, stats in sources:
        if lname not in layers:
            continue  # an optional layer left out for this region
        lay = layers[lname]
        ldf = lay.data
        if t.by not in ldf.columns:
            raise MissingColumnError(f"[table] by = {t.by!r} is not a column of layer {lname!r}")
        lrows = rows if lname == t.layer else ldf.groupby(t.by, sort=False, dropna=True).indices
        st = lay.status
        for col, stat in stats.items():
            if col not in ldf.columns:
                where = "stats" if lname == t.layer else f"also.{lname}"
                raise MissingColumnError(f"[table] {where}: column {col!r} is not in layer {lname!r}")
            # a figure that differs by scheme is headed by its scheme ("HS2 Phase 2b (cancelled 2023): …")
            prefix = f"{st.short or st.name} ({st.tag}): " if several and st is not None and col not in ID_COLUMNS else ""
            lab, u, dec = _info(lay.ldef, col) if not prefix else (column_info(col).label, *_info(lay.ldef, col)[1:])
            word = _STAT_WORD[stat]
            if pd.api.types.is_bool_dtype(ldf[col]) and stat == "sum":
                u, word = "areas", ""  # a count of flagged areas
            heading = f"{prefix}{lab} ({word})" if word else f"{prefix}{lab}"
            w = ldf[t.weight] if t.weight and t.weight in ldf.columns else None
            vals = [(_stat(ldf[col].iloc[lrows[g]], stat, None if w is None else w.iloc[lrows[g]]) if g in lrows
                     else (np.nan if stat != "tally" else "none")) for g in groups]
            total = _stat(ldf[col], stat, w) if stat != "first" else ""
            cols[heading] = vals + [total]
            units[heading] = (u if stat not in ("count", "tally") else "", dec if stat not in ("count", "tally") else 0)
    for lname in t.counts:
        if lname not in layers:  # an optional layer with nothing for this region (no sites): none anywhere
            ldef = next((l for l in spec.layers if l.name == lname), None)
            heading = f"{(ldef.label if ldef is not None and ldef.label else lname)}: number"
            cols[heading] = [0] * len(groups) + [0]
            units[heading] = ("", 0)
            continue
        other = layers[lname].data
        heading = f"{layers[lname].title}: number"
        if t.by in other.columns:
            counts = other[t.by].value_counts()
            cols[heading] = [int(counts.get(g, 0)) for g in groups] + [int(len(other))]
        units[heading] = ("", 0)
    table = pd.DataFrame(cols, index=[*map(str, groups), "All areas shown"])
    table.index.name = column_info(t.by).label
    return table, units


def split_attribution(texts: Iterable[str]) -> list[str]:
    """De-duplicated attribution statements from layers' ``attrs['attribution']`` texts."""
    seen: list[str] = []
    for text in texts:
        for part in str(text or "").split(" | "):
            for sentence in part.replace("; ", ". ").split(". "):
                s = sentence.strip().rstrip(".")
                if s and s not in seen:
                    seen.append(s)
    return seen
