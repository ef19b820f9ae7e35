"""Static PNG maps for print (matplotlib): the layers shown on opening, with the same classes,
colours and legend entries as the web map, a 10 km scale bar, title, subtitle and attribution.
Drawn in British National Grid (metres), so the scale bar is true.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import matplotlib

matplotlib.use("Agg", force=False)
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

from .prepare import split_attribution  # noqa: E402

__all__ = ["render_png", "legend_handles"]


def legend_handles(layers) -> tuple[list, list[str]]:
    """Matplotlib handles and labels for the legends of ``layers`` (a bold-less header per layer)."""
    handles, labels = [], []
    for p in layers:
        lg = p.legend
        if lg is None:
            continue
        handles.append(Patch(visible=False))
        labels.append("\n".join(textwrap.wrap(lg.title + (f" ({lg.note})" if lg.note else ""), 44)))
        for e in lg.entries:
            if lg.shape == "circle":
                h = Line2D([], [], marker="o", linestyle="", markerfacecolor=e.color, markeredgecolor="#222", markersize=7)
            elif lg.shape == "line" or p.ldef.style == "outline":
                h = Line2D([], [], color=e.color, linewidth=2.5)
            else:
                h = Patch(facecolor=e.color, edgecolor="#777", alpha=_alpha(p.ldef))
            handles.append(h)
            labels.append(f"{e.label} ({e.count:,})")
    return handles, labels


def _alpha(ldef) -> float:
    """Print opacity of a filled layer: solid for choropleths (no base map below), the web
    opacity for light overlays (e.g. a National Park tint); the legend uses the same."""
    return 1.0 if ldef.fill_opacity >= 0.5 else ldef.fill_opacity


def _scale_bar(ax, length_m: float = 10_000) -> None:
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    x = x0 + 0.04 * (x1 - x0)
    y = y0 + 0.04 * (y1 - y0)
    ax.plot([x, x + length_m], [y, y], color="black", linewidth=3, solid_capstyle="butt")
    ax.text(x + length_m / 2, y + 0.012 * (y1 - y0), f"{length_m / 1000:.0f} km", ha="center", va="bottom", fontsize=8)


def render_png(result, path: str | Path, *, dpi: int = 150, width_in: float = 11.0, height_in: float = 8.0) -> Path:
    """Draw a :class:`~lisgeo.mapping.draw.MapResult` as a PNG (the layers shown on opening)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    spec = result.spec
    shown = [p for p in result.layers if p.ldef.show]
    fig, ax = plt.subplots(figsize=(width_in, height_in), dpi=dpi)
    try:
        for p in shown:
            g = p.gdf
            ld = p.ldef
            if p.geom_kind == "point":
                ax.scatter(g.geometry.x, g.geometry.y, s=(ld.radius * 1.6) ** 2 / 2, c=list(g["_color"]),
                           edgecolors="#222222", linewidths=0.6, zorder=5)
            elif p.geom_kind == "line":
                g.plot(ax=ax, color=list(g["_color"]), linewidth=ld.weight * 0.7, zorder=3)
            elif ld.style == "outline":
                g.boundary.plot(ax=ax, color=list(g["_color"]), linewidth=ld.weight * 0.6, zorder=4)
            else:
                g.plot(ax=ax, color=list(g["_color"]), edgecolor="#666666", linewidth=0.1, alpha=_alpha(ld), zorder=1)
        ax.set_aspect("equal")
        ax.set_axis_off()
        _scale_bar(ax)
        handles, labels = legend_handles(shown)
        if handles:
            leg = ax.legend(handles, labels, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7.5, frameon=False,
                            handlelength=1.6, borderaxespad=0.0)
            for text, h in zip(leg.get_texts(), handles):
                if isinstance(h, Patch) and not h.get_visible():
                    text.set_fontweight("bold")
        fig.suptitle(spec.title, x=0.02, ha="left", fontsize=15, fontweight="bold")
        ax.set_title("\n".join(textwrap.wrap(spec.subtitle, 110)), loc="left", fontsize=9, color="#333333")
        attrib = "; ".join(split_attribution(p.attribution for p in result.layers))
        fig.text(0.02, 0.01, "\n".join(textwrap.wrap(attrib, 180)), fontsize=6, color="#444444", ha="left", va="bottom")
        fig.subplots_adjust(left=0.02, right=0.72, top=0.88, bottom=0.08)
        fig.savefig(path, dpi=dpi)
    finally:
        plt.close(fig)
    return path
