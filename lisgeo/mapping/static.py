"""Static PNG maps for print (matplotlib): the layers shown on opening, with the same classes,
colours and legend entries as the web map, place labels, a 10 km scale bar, title, subtitle (with
the status of each scheme shown and how close the times are), attribution and a footer line
(scenario, data vintage, lisgeo version).
Drawn in British National Grid (metres), so the scale bar is true.

Every text is drawn literally (no mathtext: a ``$`` in a name is a dollar sign), and the legend
is fitted to the page: long titles and labels wrap to the space beside the map, and a legend too
tall for the page gets a smaller type and then a second column.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import matplotlib

matplotlib.use("Agg", force=False)
import geopandas as gpd  # noqa: E402
import numpy as np  # noqa: E402
import shapely  # noqa: E402
import matplotlib.patheffects as pe  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

from .prepare import split_attribution  # noqa: E402

__all__ = ["render_png", "draw_png", "legend_handles", "place_labels"]

#: Right edge of the map axes (figure fraction); the legend uses the space to its right.
MAP_RIGHT = 0.72
#: Most place labels drawn on one map (the smallest districts first: the cities).
MAX_PLACES = 40


def _wrap(text: str, width: int) -> str:
    return "\n".join(textwrap.wrap(text, max(width, 8), break_long_words=True, break_on_hyphens=True)) or text


def legend_handles(layers, *, width: int = 44) -> tuple[list, list[str]]:
    """Matplotlib handles and labels for the legends of ``layers`` (a header per layer, set in bold
    by :func:`draw_png`); titles and labels wrap at ``width`` characters."""
    handles, labels = [], []
    for p in layers:
        lg = p.legend
        if lg is None:
            continue
        handles.append(Patch(visible=False))
        note = lg.full_note(web=False)  # (the print map has no toggle: "… not shown")
        labels.append(_wrap(lg.title + (f" ({note})" if note else ""), width))
        for e in lg.entries:
            if lg.shape == "circle":
                h = Line2D([], [], marker="o", linestyle="", markerfacecolor=e.color, markeredgecolor="#222", markersize=7)
            elif lg.shape == "line" or p.ldef.style == "outline":
                h = Line2D([], [], color=e.color, linewidth=2.5, linestyle=_dashes(p.ldef.dash, 2.5))
            else:
                h = Patch(facecolor=e.color, edgecolor="#777", alpha=_alpha(p.ldef))
            handles.append(h)
            labels.append(_wrap(f"{e.label} ({e.count:,})", width - 3))
    return handles, labels


def _dashes(dash: str | None, linewidth: float):
    """A map file's dash pattern (screen pixels, as the web map draws it) as a matplotlib line style."""
    if not dash:
        return "solid"
    return (0, tuple(float(x) / max(linewidth, 0.5) for x in dash.split()))


def _alpha(ldef) -> float:
    """Print opacity of a filled layer: solid for choropleths (no base map below), the web
    opacity for light overlays (e.g. a National Park tint); the legend uses the same."""
    return 1.0 if ldef.fill_opacity >= 0.5 else ldef.fill_opacity


def _scale_bar(ax, length_m: float | None = None) -> None:
    """A scale bar in the lower left: ``length_m``, or a round 1/2/5 × 10ⁿ km near a fifth of the map's width."""
    ax.apply_aspect()
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    if length_m is None:
        target = (x1 - x0) / 5
        length_m = max((n * 10 ** e for e in range(-1, 4) for n in (1, 2, 5) if n * 10 ** e * 1000 <= target), default=0.1) * 1000
    x = x0 + 0.04 * (x1 - x0)
    y = y0 + 0.04 * (y1 - y0)
    ax.plot([x, x + length_m], [y, y], color="black", linewidth=3, solid_capstyle="butt")
    km = length_m / 1000
    ax.text(x + length_m / 2, y + 0.012 * (y1 - y0), f"{km:g} km", ha="center", va="bottom", fontsize=8)


def place_labels(result) -> gpd.GeoDataFrame:
    """The places a print map names: ``result.places`` if given, else the districts of its own layers
    (a polygon layer with one row per ``LADNM``, or LSOAs dissolved by ``LADNM``), at their polygons'
    representative points; smallest first (the cities), so they win where labels would collide."""
    places = getattr(result, "places", None)
    if places is not None and len(places):
        name = next((c for c in ("name", "LADNM", "NAME") if c in places.columns), None)
        if name is None:
            return gpd.GeoDataFrame({"name": [], "area": []}, geometry=[], crs="EPSG:27700")
        g = places.to_crs("EPSG:27700")
        return gpd.GeoDataFrame({"name": g[name].astype(str).to_numpy(), "area": g.geometry.area.to_numpy()},
                                geometry=g.geometry.representative_point().to_numpy(), crs="EPSG:27700").sort_values("area")
    polys = [p for p in result.layers if p.geom_kind == "polygon" and p.data is not None and "LADNM" in p.data.columns]
    unique = [p for p in polys if p.data["LADNM"].notna().all() and p.data["LADNM"].is_unique]
    if unique:
        d = max(unique, key=lambda p: len(p.data)).data
        g = gpd.GeoDataFrame({"name": d["LADNM"].astype(str).to_numpy()}, geometry=d.geometry.to_numpy(), crs=d.crs)
    elif polys:
        d = max(polys, key=lambda p: p.data["LADNM"].nunique()).data
        g = d[["LADNM", d.geometry.name]].dropna(subset=["LADNM"]).dissolve(by="LADNM").reset_index()
        g = gpd.GeoDataFrame({"name": g["LADNM"].astype(str).to_numpy()}, geometry=g.geometry.to_numpy(), crs=d.crs)
    else:
        return gpd.GeoDataFrame({"name": [], "area": []}, geometry=[], crs="EPSG:27700")
    g = g.to_crs("EPSG:27700")
    out = gpd.GeoDataFrame({"name": g["name"].to_numpy(), "area": g.geometry.area.to_numpy()},
                           geometry=g.geometry.representative_point().to_numpy(), crs="EPSG:27700")
    return out.sort_values("area")


def _draw_places(ax, fig, places: gpd.GeoDataFrame) -> list:
    """Label places at their points, skipping (after four nudges) any label that would overlap another."""
    if places is None or not len(places):
        return []
    ax.apply_aspect()
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    renderer = fig.canvas.get_renderer()
    placed, boxes = [], []
    halo = [pe.withStroke(linewidth=2.6, foreground="white", alpha=0.9)]
    for name, pt in zip(places["name"], places.geometry):
        if len(placed) >= MAX_PLACES or pt is None or pt.is_empty or not (x0 <= pt.x <= x1 and y0 <= pt.y <= y1):
            continue
        text = "\n".join(textwrap.wrap(str(name), 16)) or str(name)
        for dx, dy in ((0, 0), (0, 9), (0, -9), (14, 0), (-14, 0)):
            t = ax.annotate(text, (pt.x, pt.y), xytext=(dx, dy), textcoords="offset points", ha="center", va="center",
                            fontsize=6.8, color="#1b1b1b", zorder=20, path_effects=halo, annotation_clip=True)
            bb = t.get_window_extent(renderer).expanded(1.04, 1.1)
            if not any(bb.overlaps(b) for b in boxes) and ax.get_window_extent(renderer).contains(bb.x0, bb.y0) \
                    and ax.get_window_extent(renderer).contains(bb.x1, bb.y1):
                boxes.append(bb)
                placed.append(t)
                break
            t.remove()
    return placed


def _fit_legend(fig, ax, layers):
    """The legend beside the map, wrapped and sized to stay on the page."""
    renderer = fig.canvas.get_renderer()
    page = fig.bbox
    right_px = page.x1 - 0.015 * page.width
    leg = None
    for fontsize, ncols in ((7.5, 1), (7.0, 1), (6.5, 1), (6.5, 2), (6.0, 2), (5.5, 2), (5.0, 3)):
        avail_pt = ((1.0 - MAP_RIGHT - 0.02) * fig.get_figwidth() * 72) / ncols - 2.4 * fontsize
        width = max(12, int(avail_pt / (fontsize * 0.56)))
        for _ in range(6):
            handles, labels = legend_handles(layers, width=width)
            if not handles:
                return None
            if leg is not None:
                leg.remove()
            leg = ax.legend(handles, labels, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=fontsize, frameon=False,
                            handlelength=1.6, borderaxespad=0.0, ncols=ncols, columnspacing=1.0)
            for text, h in zip(leg.get_texts(), handles):
                if isinstance(h, Patch) and not h.get_visible():
                    text.set_fontweight("bold")
            bb = leg.get_window_extent(renderer)
            if bb.x1 <= right_px:
                break
            width -= 4
        if bb.x1 <= right_px and bb.y0 >= page.y0 + 0.06 * page.height:
            return leg
    return leg


def _no_redraw(*args, **kwargs) -> None:
    return None


def _fill_polygons(ax, geoms, *, facecolor, edgecolor, linewidth: float, alpha: float, zorder: float) -> None:
    """Fill (Multi)Polygons as one collection of paths, one path per geometry (its parts and holes,
    rings normalised so holes stay holes): what geopandas' ``plot`` draws, made from the shapes'
    coordinate arrays at once rather than a patch per shape (about a third of a print map's time)."""
    from matplotlib.collections import PathCollection
    from matplotlib.path import Path as MplPath

    arr = shapely.normalize(np.asarray(geoms, dtype=object))
    keep = ~(shapely.is_missing(arr) | shapely.is_empty(arr))
    faces = np.asarray(facecolor, dtype=object)
    if faces.ndim == 1 and len(faces) == len(arr):
        faces = faces[keep]
    arr = arr[keep]
    if not len(arr):
        return
    kind, coords, offsets = shapely.to_ragged_array(arr)
    if kind == shapely.GeometryType.POLYGON:
        ring_at, geom_rings = offsets
    else:  # MultiPolygon (polygons among them are promoted)
        ring_at, poly_rings, geom_polys = offsets
        geom_rings = poly_rings[geom_polys]
    codes = np.full(len(coords), MplPath.LINETO, dtype=MplPath.code_type)
    codes[ring_at[:-1]] = MplPath.MOVETO
    codes[ring_at[1:] - 1] = MplPath.CLOSEPOLY
    at = ring_at[geom_rings]
    paths = [MplPath(coords[a:b], codes[a:b]) for a, b in zip(at[:-1], at[1:])]
    ax.add_collection(PathCollection(paths, facecolors=list(faces) if faces.ndim else facecolor, edgecolors=edgecolor,
                                     linewidths=linewidth, alpha=alpha, zorder=zorder), autolim=True)
    ax.autoscale_view()


def draw_png(result, *, dpi: int = 150, width_in: float = 11.0, height_in: float = 8.0):
    """The print map as a matplotlib figure (the caller closes it); :func:`render_png` saves it."""
    spec = result.spec
    shown = [p for p in result.layers if p.ldef.show]
    with plt.rc_context({"text.parse_math": False, "text.usetex": False}):
        fig, ax = plt.subplots(figsize=(width_in, height_in), dpi=dpi)
        # geopandas asks the canvas to redraw after every layer it plots; off screen (Agg) that is a
        # full render each time (about 40 % of the drawing): the figure is rendered once, when saved
        fig.canvas.draw_idle = _no_redraw
        try:
            for p in shown:
                g = p.gdf
                ld = p.ldef
                if p.geom_kind == "point":
                    ax.scatter(g.geometry.x, g.geometry.y, s=(ld.radius * 1.6) ** 2 / 2, c=list(g["_color"]),
                               edgecolors="#222222", linewidths=0.6, zorder=5)
                elif p.geom_kind == "line":
                    g.plot(ax=ax, color=list(g["_color"]), linewidth=ld.weight * 0.7, zorder=3,
                           linestyle=_dashes(ld.dash, ld.weight * 0.7))
                elif ld.style == "outline":
                    g.boundary.plot(ax=ax, color=list(g["_color"]), linewidth=ld.weight * 0.6, zorder=4,
                                    linestyle=_dashes(ld.dash, ld.weight * 0.6))
                else:
                    _fill_polygons(ax, g.geometry.values, facecolor=list(g["_color"]), edgecolor="#666666", linewidth=0.1,
                                   alpha=_alpha(ld), zorder=1)
            frame = getattr(result, "frame", None)
            if frame is not None:  # framed on the region, as the web map opens (features beyond it are not drawn)
                x0, y0, x1, y1 = shapely.bounds(frame)
                pad = 0.03 * max(x1 - x0, y1 - y0)
                ax.set_xlim(x0 - pad, x1 + pad)
                ax.set_ylim(y0 - pad, y1 + pad)
            ax.set_aspect("equal")
            ax.set_axis_off()
            ax.set_xticks([])  # no tick labels made later, outside these settings (the axes are off)
            ax.set_yticks([])
            fig.suptitle(spec.title, x=0.02, ha="left", fontsize=15, fontweight="bold")
            # the subtitle, then what is real about each scheme shown and how close the times are
            head = textwrap.wrap(spec.subtitle, 110)
            for line in [*getattr(result, "status_lines", []), *getattr(result, "notes", ())]:
                head += textwrap.wrap(line, 110)
            ax.set_title("\n".join(head), loc="left", fontsize=9, color="#333333")
            attrib = "; ".join(split_attribution(p.attribution for p in result.layers))
            prov = getattr(result, "provenance", None)
            foot = textwrap.wrap(attrib, 200) + (textwrap.wrap(prov.text, 200) if prov is not None else [])
            fig.text(0.02, 0.01, "\n".join(foot), fontsize=6, color="#444444", ha="left", va="bottom", linespacing=1.3)
            bottom = max(0.08, (len(foot) * 6 * 1.3 + 14) / 72 / height_in)
            top = min(0.88, 1.0 - (0.45 + len(head) * 0.15) / height_in)
            fig.subplots_adjust(left=0.02, right=MAP_RIGHT, top=top, bottom=bottom)
            _scale_bar(ax)
            _draw_places(ax, fig, place_labels(result))
            _fit_legend(fig, ax, shown)
        except BaseException:
            plt.close(fig)
            raise
    return fig


def render_png(result, path: str | Path, *, dpi: int = 150, width_in: float = 11.0, height_in: float = 8.0) -> Path:
    """Draw a :class:`~lisgeo.mapping.draw.MapResult` as a PNG (the layers shown on opening)."""
    from ..io import atomic_path

    path = Path(path)
    fig = draw_png(result, dpi=dpi, width_in=width_in, height_in=height_in)
    try:
        # atomic: a full disk leaves no partial PNG, and its OS error is one line with the fix
        with atomic_path(path) as tmp, plt.rc_context({"text.parse_math": False}):
            fig.savefig(tmp, dpi=dpi, format="png")
    finally:
        plt.close(fig)
    return path
