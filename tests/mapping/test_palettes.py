"""Colour-blind-safe defaults: the default maps' colours stay apart under simulated colour-vision deficiency.

Deficiencies are simulated with the matrices of Machado, Oliveira & Fernandes (2009, severity 1.0) on
linear sRGB; distances are CIELAB ΔE*76. Okabe–Ito's eight colours are at least 16 apart under every
simulation; tab20's pairs (the old overview) fall to 4, and the old red/green winners and losers to 26.
"""

from __future__ import annotations

import itertools

import matplotlib.colors as mcolors
import numpy as np
import pytest

from lisgeo.mapping.classify import class_colors, is_diverging
from lisgeo.mapping.spec import DEFAULT_MAPS_DIR, QUALITATIVE_PALETTES, list_specs

SIMULATIONS = {
    "normal": np.eye(3),
    "deuteranopia": np.array([[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413], [-0.011820, 0.042940, 0.968881]]),
    "protanopia": np.array([[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216], [-0.003882, -0.048116, 1.051998]]),
    "tritanopia": np.array([[1.255528, -0.076749, -0.178779], [-0.078411, 0.930809, 0.147602], [0.004733, 0.691367, 0.303900]]),
}
#: Palettes a default map may colour by: ColorBrewer sequential and colour-blind-safe diverging ones,
#: perceptually uniform maps, and lisgeo's qualitative palettes. (Not tab20, Paired, Set3, RdYlGn, Spectral …)
SAFE = {"YlGnBu", "YlOrRd", "YlOrBr", "OrRd", "PuBu", "PuBuGn", "BuGn", "BuPu", "GnBu", "Blues", "Greens", "Oranges",
        "Purples", "Greys", "PuOr", "BrBG", "RdBu", "RdYlBu", "PRGn", "viridis", "cividis", "magma", "inferno", "plasma",
        *QUALITATIVE_PALETTES}


def _lab(rgb_linear: np.ndarray) -> np.ndarray:
    xyz = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]]) @ np.clip(rgb_linear, 0, 1)
    xyz = xyz / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def delta_e(a: str, b: str, vision: str = "normal") -> float:
    """CIELAB distance between two colours as seen with ``vision``."""
    def lin(c):
        c = np.asarray(mcolors.to_rgb(c))
        return SIMULATIONS[vision] @ np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)

    return float(np.linalg.norm(_lab(lin(a)) - _lab(lin(b))))


def worst(colors) -> float:
    return min(delta_e(a, b, v) for a, b in itertools.combinations(colors, 2) for v in SIMULATIONS)


def test_simulation_tells_old_from_new():
    assert delta_e("#1a9850", "#d73027", "deuteranopia") < 30  # the old red/green winners and losers
    assert delta_e("#0072B2", "#D55E00", "deuteranopia") > 90  # the new blue/vermillion ones
    import matplotlib

    tab20 = [mcolors.to_hex(matplotlib.colormaps["tab20"](i)) for i in range(12)]
    assert worst(tab20) < 6


def test_qualitative_palettes_stay_apart():
    assert worst(QUALITATIVE_PALETTES["okabe_ito"][:8]) > 15
    assert worst(QUALITATIVE_PALETTES["okabe_ito"]) > 15  # the four added colours keep the eight's distance


def test_default_maps_use_safe_palettes_and_colours():
    for spec in list_specs(DEFAULT_MAPS_DIR):
        for ld in spec.layers:
            if ld.column is None:
                continue
            assert ld.palette in SAFE, f"{spec.name}/{ld.name}: palette {ld.palette} is not colour-blind safe"
            if ld.scheme == "categorical" and ld.colors:
                cols = list(dict(ld.colors).values())
                if len(cols) > 1:
                    assert worst(cols) > 15, f"{spec.name}/{ld.name}: colours {cols} collide for colour-blind readers"
            if ld.breaks and min(ld.breaks) < 0 < max(ld.breaks):
                assert is_diverging(ld.palette), f"{spec.name}/{ld.name}: a change map needs a diverging palette"


def test_winners_and_losers_are_told_apart():
    spec = next(s for s in list_specs(DEFAULT_MAPS_DIR) if s.name == "6_scenario_hs2")
    colors = dict(spec.layer("outcome").colors)
    for vision in ("deuteranopia", "protanopia", "tritanopia"):
        assert delta_e(colors["winner"], colors["loser"], vision) > 60, vision
    assert spec.layer("d_london").palette in ("PuOr", "BrBG")


@pytest.mark.parametrize("palette", ["YlGnBu", "YlOrRd", "PuOr", "BrBG"])
def test_class_colours_of_safe_palettes_stay_apart(palette):
    assert worst(class_colors(5, palette=palette)) > 8
