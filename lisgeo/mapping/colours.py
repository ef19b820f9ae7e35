"""Colour distance: how different two map colours look, as CIEDE2000 (ΔE00), for people with normal
and with deficient colour vision.

:func:`delta_e2000` is the CIE's 2000 colour-difference formula (CIE 142-2001; the implementation
notes and test data of Sharma, Wu & Dalal 2005, "The CIEDE2000 color-difference formula",
*Color Research & Application* 30(1)), on CIELAB under D65 from sRGB. A ΔE00 of about 1 is just
noticeable side by side; lisgeo's maps keep every two symbols of one kind that a reader must tell
apart (:func:`symbol_groups`) at least :data:`MIN_DELTA_E` apart.

:func:`simulate` shows a colour as seen with protanopia, deuteranopia or tritanopia (the matrices of
Machado, Oliveira & Fernandes 2009, severity 1.0, on linear sRGB).
"""

from __future__ import annotations

import itertools
from typing import Iterable

import matplotlib.colors as mcolors
import numpy as np

__all__ = ["delta_e2000", "delta_e2000_lab", "symbol_groups", "symbol_kind", "colour_clashes", "srgb_to_lab", "simulate", "min_distance", "closest_pair", "MIN_DELTA_E", "MIN_DELTA_E_CVD",
           "VISIONS"]

#: Every two categories a reader must tell apart on one map: at least this far apart (CIEDE2000, normal vision).
MIN_DELTA_E = 20.0
#: … and at least this far apart as seen with each colour-vision deficiency of :data:`VISIONS`.
MIN_DELTA_E_CVD = 8.0

#: Machado, Oliveira & Fernandes (2009), severity 1.0, on linear sRGB.
VISIONS = {
    "normal": np.eye(3),
    "deuteranopia": np.array([[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413], [-0.011820, 0.042940, 0.968881]]),
    "protanopia": np.array([[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216], [-0.003882, -0.048116, 1.051998]]),
    "tritanopia": np.array([[1.255528, -0.076749, -0.178779], [-0.078411, 0.930809, 0.147602], [0.004733, 0.691367, 0.303900]]),
}

_M = np.array([[0.4124564, 0.3575761, 0.1804375], [0.2126729, 0.7151522, 0.0721750], [0.0193339, 0.1191920, 0.9503041]])
_WHITE = np.array([0.95047, 1.0, 1.08883])


def _linear(color) -> np.ndarray:
    c = np.asarray(mcolors.to_rgb(color), dtype=float)
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def simulate(color, vision: str = "normal") -> str:
    """``color`` as seen with ``vision`` (a key of :data:`VISIONS`), as #rrggbb."""
    lin = np.clip(VISIONS[vision] @ _linear(color), 0, 1)
    srgb = np.where(lin <= 0.0031308, 12.92 * lin, 1.055 * lin ** (1 / 2.4) - 0.055)
    return mcolors.to_hex(np.clip(srgb, 0, 1))


def srgb_to_lab(color) -> np.ndarray:
    """CIELAB (D65) of an sRGB colour (any matplotlib colour)."""
    xyz = _M @ _linear(color) / _WHITE
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def delta_e2000_lab(lab1, lab2) -> float:
    """CIEDE2000 difference of two CIELAB colours ``(L*, a*, b*)``."""
    L1, a1, b1 = (float(x) for x in lab1)
    L2, a2, b2 = (float(x) for x in lab2)
    C1, C2 = np.hypot(a1, b1), np.hypot(a2, b2)
    Cm = (C1 + C2) / 2
    G = 0.5 * (1 - np.sqrt(Cm ** 7 / (Cm ** 7 + 25 ** 7)))
    a1p, a2p = (1 + G) * a1, (1 + G) * a2
    C1p, C2p = np.hypot(a1p, b1), np.hypot(a2p, b2)
    h1p = np.degrees(np.arctan2(b1, a1p)) % 360 if C1p else 0.0
    h2p = np.degrees(np.arctan2(b2, a2p)) % 360 if C2p else 0.0
    dLp, dCp = L2 - L1, C2p - C1p
    if C1p * C2p == 0:
        dhp = 0.0
    else:
        dhp = h2p - h1p
        if dhp > 180:
            dhp -= 360
        elif dhp < -180:
            dhp += 360
    dHp = 2 * np.sqrt(C1p * C2p) * np.sin(np.radians(dhp / 2))
    Lpm, Cpm = (L1 + L2) / 2, (C1p + C2p) / 2
    if C1p * C2p == 0:
        hpm = h1p + h2p
    elif abs(h1p - h2p) <= 180:
        hpm = (h1p + h2p) / 2
    else:
        hpm = (h1p + h2p + 360) / 2 if h1p + h2p < 360 else (h1p + h2p - 360) / 2
    T = (1 - 0.17 * np.cos(np.radians(hpm - 30)) + 0.24 * np.cos(np.radians(2 * hpm))
         + 0.32 * np.cos(np.radians(3 * hpm + 6)) - 0.20 * np.cos(np.radians(4 * hpm - 63)))
    dtheta = 30 * np.exp(-(((hpm - 275) / 25) ** 2))
    Rc = 2 * np.sqrt(Cpm ** 7 / (Cpm ** 7 + 25 ** 7))
    Sl = 1 + 0.015 * (Lpm - 50) ** 2 / np.sqrt(20 + (Lpm - 50) ** 2)
    Sc, Sh = 1 + 0.045 * Cpm, 1 + 0.015 * Cpm * T
    Rt = -np.sin(np.radians(2 * dtheta)) * Rc
    return float(np.sqrt((dLp / Sl) ** 2 + (dCp / Sc) ** 2 + (dHp / Sh) ** 2 + Rt * (dCp / Sc) * (dHp / Sh)))


def delta_e2000(a, b, vision: str = "normal") -> float:
    """CIEDE2000 difference of two colours (any matplotlib colours) as seen with ``vision``."""
    if vision != "normal":
        a, b = simulate(a, vision), simulate(b, vision)
    return delta_e2000_lab(srgb_to_lab(a), srgb_to_lab(b))


def closest_pair(colors: Iterable, vision: str = "normal") -> tuple[float, str, str]:
    """The two colours of ``colors`` that look most alike with ``vision``: ``(ΔE00, a, b)``."""
    cols = list(dict.fromkeys(mcolors.to_hex(c) for c in colors))
    if len(cols) < 2:
        return float("inf"), "", ""
    return min((delta_e2000(a, b, vision), a, b) for a, b in itertools.combinations(cols, 2))


def min_distance(colors: Iterable, visions: Iterable[str] = ("normal",)) -> float:
    """The smallest ΔE00 between two of ``colors`` under any of ``visions``."""
    cols = list(colors)
    return min(closest_pair(cols, v)[0] for v in visions)


# ------------------------------------------------------------------ the symbols a reader tells apart on one map
def symbol_kind(p) -> str:
    """How a prepared layer is drawn: ``"point"``, ``"line"`` (lines and outlines) or ``"area"`` (fills)."""
    if p.geom_kind == "point":
        return "point"
    if p.geom_kind == "line" or p.ldef.style == "outline":
        return "line"
    return "area"


def symbol_groups(layers) -> dict[str, list[tuple[str, str, str]]]:
    """The colours a reader matches one by one on a map, by kind of symbol (points, lines, fills):
    ``{kind: [(layer, what, colour), ...]}``. Each layer of one colour is one symbol, and so is each
    category of a layer coloured by unordered categories (a qualitative palette or its own colours);
    classes of numbers and ordered categories (deciles, time bands: a sequential or diverging palette)
    are read along their ramp, not matched, and are left out. Drawn colours are read from the layers
    (``gdf["_color"]``), so categories absent from the data are not counted."""
    from .classify import NODATA_COLOR
    from .spec import is_qualitative

    groups: dict[str, list[tuple[str, str, str]]] = {}
    for p in layers:
        ld = p.ldef
        kind = symbol_kind(p)
        if ld.column is None:
            members = [(ld.name, ld.title, mcolors.to_hex(ld.color))]
        elif ld.scheme == "categorical" and is_qualitative(ld.palette):
            if p.legend is not None:
                members = [(ld.name, e.label, mcolors.to_hex(e.color)) for e in p.legend.entries if not e.nodata]
            else:
                drawn = [c for c in dict.fromkeys(p.gdf["_color"]) if c and c != NODATA_COLOR]
                members = [(ld.name, c, mcolors.to_hex(c)) for c in drawn]
        else:
            continue
        groups.setdefault(kind, []).extend(members)
    return groups


def colour_clashes(layers, *, min_delta_e: float = MIN_DELTA_E, min_cvd: float = MIN_DELTA_E_CVD) -> list[str]:
    """Every two symbols of one kind on a map (:func:`symbol_groups`) whose colours are closer than
    ``min_delta_e`` (CIEDE2000, normal vision) or ``min_cvd`` (as seen with a colour-vision deficiency),
    in words; [] when a reader can tell every two apart."""
    out = []
    for kind, members in symbol_groups(layers).items():
        for (la, wa, ca), (lb, wb, cb) in itertools.combinations(members, 2):
            if ca == cb and (la == lb or wa == wb):
                continue  # one thing shown twice (the same category of two schemes' layers) in one colour
            for vision in VISIONS:
                d = delta_e2000(ca, cb, vision)
                need = min_delta_e if vision == "normal" else min_cvd
                if d < need:
                    out.append(f"{kind}s {la}/{wa!r} {ca} and {lb}/{wb!r} {cb}: ΔE00 {d:.1f} < {need:g} ({vision} vision)")
    return out
