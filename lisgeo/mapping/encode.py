"""Compact page data for the web maps: encoded geometry and shared, column-wise feature properties.

A web map carries its data inline so it works offline. As GeoJSON, a D2N2 LSOA map spent about
1.5 MB on the 1,335 LSOA outlines alone (some 20 characters per vertex, ``[-1.23456,52.12345],``)
and as much again on per-feature tooltip text repeated in every layer. Here the page holds:

* **geometry** per feature as ``[type, coordinates]`` where every ring or line is one string in the
  *encoded polyline* format (Google's algorithm, here in x, y order): coordinates in WGS84 rounded
  to ``decimals`` places (5: about 1 m), each vertex stored as the change from the one before, as
  base-64-like characters (two to four per number instead of nine). Rounding happens once per
  coordinate, before the differences are taken, so a vertex that two neighbouring areas share
  decodes to the same point in both: the mosaic keeps no gaps that the display simplification
  (:func:`lisgeo.mapping.prepare.simplify_for_display`) did not make;
* **properties** as columns in one store per page (:class:`ColumnStore`): a column of values that
  repeat (colours, district names, classes) as a dictionary and indices, and a column that two
  layers share (the area names of every LSOA layer) written once.

:data:`DECODER_JS` (placed once in the page's head) turns both back into what Leaflet takes:
``lisgeoGeo(packed)`` a GeoJSON FeatureCollection (each feature's only property its row number
``i``) and ``lisgeoProps(store, layer)`` the per-feature ``{c, v, p}`` (colour, escaped tooltip
values, escaped popup HTML) of a layer. Every text is escaped in Python before it is packed, and
the JSON is made safe to sit inside ``<script>`` (:func:`lisgeo.mapping.prepare.js_safe`).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Iterable, Sequence

import numpy as np
import shapely

__all__ = ["encode_line", "decode_line", "pack_geometry", "unpack_geometry", "pack_column", "ColumnStore",
           "DECODER_JS", "GEOMETRY_TYPES"]

#: Geometry type codes of the packed form.
GEOMETRY_TYPES = {"Point": 0, "MultiPoint": 1, "LineString": 2, "MultiLineString": 3, "Polygon": 4, "MultiPolygon": 5}


def _zigzag_chunks(values: np.ndarray) -> str:
    """Signed integers as encoded-polyline characters (5-bit chunks, low first, 0x20 = more follows)."""
    v = values.astype(np.int64)
    z = np.where(v < 0, ~(v << 1), v << 1)  # zigzag: small magnitudes of either sign stay small
    out: list[str] = []
    for n in z.tolist():
        while n >= 0x20:
            out.append(chr((0x20 | (n & 0x1F)) + 63))
            n >>= 5
        out.append(chr(n + 63))
    return "".join(out)


def encode_line(xy: np.ndarray, decimals: int = 5) -> str:
    """One ring or line (``(n, 2)`` x, y in degrees) as an encoded-polyline string: each coordinate
    rounded to ``decimals`` places, then stored as its difference from the previous vertex."""
    q = np.rint(np.asarray(xy, dtype=float)[:, :2] * 10 ** decimals).astype(np.int64)
    d = np.diff(q, axis=0, prepend=np.zeros((1, 2), dtype=np.int64))
    return _zigzag_chunks(d.reshape(-1))


def decode_line(text: str, decimals: int = 5) -> np.ndarray:
    """The ``(n, 2)`` coordinates of an :func:`encode_line` string (the inverse; used by the tests)."""
    nums, n, shift = [], 0, 0
    for ch in text:
        b = ord(ch) - 63
        n |= (b & 0x1F) << shift
        shift += 5
        if b < 0x20:
            nums.append(~(n >> 1) if n & 1 else n >> 1)
            n, shift = 0, 0
    return np.cumsum(np.asarray(nums, dtype=np.int64).reshape(-1, 2), axis=0) / 10 ** decimals


def _pack_one(g, decimals: int) -> list:
    t = g.geom_type
    if t == "Point":
        return [0, encode_line(np.asarray(g.coords), decimals)]
    if t == "MultiPoint":
        return [1, encode_line(np.asarray([p.coords[0] for p in g.geoms]), decimals)]
    if t == "LineString":
        return [2, encode_line(np.asarray(g.coords), decimals)]
    if t == "MultiLineString":
        return [3, [encode_line(np.asarray(part.coords), decimals) for part in g.geoms]]
    if t == "Polygon":
        return [4, [encode_line(np.asarray(r.coords), decimals) for r in (g.exterior, *g.interiors)]]
    if t == "MultiPolygon":
        return [5, [[encode_line(np.asarray(r.coords), decimals) for r in (p.exterior, *p.interiors)] for p in g.geoms]]
    raise ValueError(f"cannot draw a {t} on a web map")


def pack_geometry(geoms: Iterable[Any], *, decimals: int = 5) -> dict[str, Any]:
    """WGS84 shapely geometries as ``{"d": decimals, "f": [[type code, encoded coordinates], ...]}``
    (None or empty: ``null``)."""
    feats = [None if g is None or g.is_empty else _pack_one(g, decimals) for g in geoms]
    return {"d": int(decimals), "f": feats}


def unpack_geometry(packed: dict[str, Any]) -> list:
    """The shapely geometries of :func:`pack_geometry` output (what the page's decoder draws; for tests)."""
    d = packed["d"]
    out = []
    for f in packed["f"]:
        if f is None:
            out.append(None)
            continue
        t, c = f
        if t == 0:
            out.append(shapely.Point(decode_line(c, d)[0]))
        elif t == 1:
            out.append(shapely.MultiPoint(decode_line(c, d)))
        elif t == 2:
            out.append(shapely.LineString(decode_line(c, d)))
        elif t == 3:
            out.append(shapely.MultiLineString([decode_line(s, d) for s in c]))
        elif t == 4:
            rings = [decode_line(s, d) for s in c]
            out.append(shapely.Polygon(rings[0], rings[1:]))
        else:
            parts = [[decode_line(s, d) for s in p] for p in c]
            out.append(shapely.MultiPolygon([shapely.Polygon(r[0], r[1:]) for r in parts]))
    return out


def pack_column(values: Sequence[Any]) -> Any:
    """A column of JSON values: as a list, or as ``{"d": distinct values, "i": index of each}`` when
    values repeat enough for that to be shorter."""
    values = list(values)
    keys = [json.dumps(v, ensure_ascii=False, separators=(",", ":")) for v in values]
    distinct: dict[str, int] = {}
    for k in keys:
        distinct.setdefault(k, len(distinct))
    if len(distinct) > 0.6 * max(len(values), 1):
        return values
    return {"d": [json.loads(k) for k in distinct], "i": [distinct[k] for k in keys]}


class ColumnStore:
    """The feature properties of one page, as columns, each column written once however many layers use it.

    :meth:`add` returns the column's number in the store; :meth:`to_json` is the store as (script-safe)
    JSON for the page, read by ``lisgeoProps``.
    """

    def __init__(self) -> None:
        self.columns: list[Any] = []
        self._index: dict[str, int] = {}

    def add(self, values: Sequence[Any]) -> int:
        text = json.dumps(list(values), ensure_ascii=False, separators=(",", ":"))
        key = hashlib.blake2b(text.encode("utf-8"), digest_size=16).hexdigest()
        if key not in self._index:
            self._index[key] = len(self.columns)
            self.columns.append(pack_column(list(values)))
        return self._index[key]

    def layer(self, colors: Sequence[str], tips: Sequence[Sequence[str] | None], popups: Sequence[str]) -> dict[str, Any]:
        """Add a layer's per-feature colours, tooltip values (one list per feature, or None) and popup
        HTML ("" for none) and return the layer's reference to them: ``{"n", "c", "v", "p"}``."""
        n = len(colors)
        ref: dict[str, Any] = {"n": n, "c": self.add(list(colors))}
        tips = list(tips)
        if n and tips and tips[0] is not None:
            width = len(tips[0])
            ref["v"] = [self.add([t[j] for t in tips]) for j in range(width)]
        popups = list(popups)
        if any(popups):
            ref["p"] = self.add(popups)
        return ref

    def column(self, k: int) -> list:
        """Column ``k`` as a plain list (dictionary columns expanded)."""
        c = self.columns[k]
        return [c["d"][i] for i in c["i"]] if isinstance(c, dict) else list(c)

    def props(self, ref: dict[str, Any]) -> list[dict[str, Any]]:
        """The per-feature ``{c, v, p}`` of a layer's reference (what ``lisgeoProps`` builds in the page)."""
        c = self.column(ref["c"])
        v = [self.column(k) for k in ref.get("v", [])]
        p = self.column(ref["p"]) if "p" in ref else None
        out = []
        for i in range(ref["n"]):
            q: dict[str, Any] = {"c": c[i]}
            if "v" in ref:
                q["v"] = [col[i] for col in v]
            if p is not None and p[i]:
                q["p"] = p[i]
            out.append(q)
        return out

    def to_json(self) -> str:
        from .prepare import js_safe

        return js_safe(json.dumps(self.columns, ensure_ascii=False, separators=(",", ":")))


#: The page's decoder of packed geometry and properties (plain ES5, no dependencies).
DECODER_JS = r"""
<script>
(function() {
    function line(s, d) {
        var out = [], i = 0, n = s.length, x = 0, y = 0, k = Math.pow(10, d);
        function num() {
            var r = 0, sh = 0, b;
            do { b = s.charCodeAt(i++) - 63; r |= (b & 31) << sh; sh += 5; } while (b >= 32);
            return (r & 1) ? ~(r >> 1) : (r >> 1);
        }
        while (i < n) { x += num(); y += num(); out.push([x / k, y / k]); }
        return out;
    }
    var TYPES = ["Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon"];
    window.lisgeoGeo = function(packed) {
        var d = packed.d, feats = [];
        for (var j = 0; j < packed.f.length; j++) {
            var f = packed.f[j], g = null;
            if (f) {
                var t = f[0], c = f[1], coords;
                if (t === 0) { coords = line(c, d)[0]; }
                else if (t === 1 || t === 2) { coords = line(c, d); }
                else if (t === 3 || t === 4) { coords = c.map(function(s) { return line(s, d); }); }
                else { coords = c.map(function(p) { return p.map(function(s) { return line(s, d); }); }); }
                g = {type: TYPES[t], coordinates: coords};
            }
            feats.push({type: "Feature", geometry: g, properties: {i: j}});
        }
        return {type: "FeatureCollection", features: feats};
    };
    function column(store, k) {
        var c = store[k];
        if (c && !Array.isArray(c)) { store[k] = c = c.i.map(function(i) { return c.d[i]; }); }
        return c;
    }
    window.lisgeoProps = function(store, ref) {
        var out = [], c = column(store, ref.c), v = (ref.v || []).map(function(k) { return column(store, k); });
        var p = ref.p === undefined ? null : column(store, ref.p);
        for (var i = 0; i < ref.n; i++) {
            var q = {c: c[i]};
            if (ref.v) { q.v = v.map(function(col) { return col[i]; }); }
            if (p && p[i]) { q.p = p[i]; }
            out.push(q);
        }
        return out;
    };
})();
</script>
"""
