"""Build maps: load (or compute) the data each map definition names, then draw and save it.

``build_map(spec)`` returns a :class:`MapResult` (the folium map, its prepared layers and the
district table); ``write_map`` saves its HTML (and a print PNG); ``build_maps`` draws every
definition in ``maps/`` for a region into ``DIR/maps/`` with a progress bar. Data are
loaded once per build through a :class:`MapData` cache (layers, scores per scenario,
scenario comparisons, networks and isochrones), so six maps cost one scoring run.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import geopandas as gpd
import pandas as pd

from ..catalog import attribution_for
from ..errors import EmptyResultError, LisgeoError, UnknownNameError
from ..regions import get_region
from .prepare import PreparedLayer, district_table, prepare_layer
from .render import render_map, save_map
from .spec import LayerDef, MapSpec, list_specs, read_spec

__all__ = ["MapData", "MapResult", "BuiltMap", "build_map", "write_map", "build_maps", "SCORE_DATASETS"]

#: Datasets behind the score columns (for attribution when the scores carry none).
SCORE_DATASETS = ("lsoa21_boundaries", "census2021_population", "census2011_workplace_msoa", "srn_graph",
                  "aquius_rail", "naptan_910", "imd2025_lsoa21")


def _freeze(d: Mapping[str, Any]) -> tuple:
    return tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in d.items()))


class MapData:
    """Loads and caches what map layers draw, for one region.

    ``frames`` pre-loads frames by source key (``"scores:<scenario>"``, ``"compare:<base>:<scenario>"``)
    or by map-layer name, e.g. synthetic scores in tests and notebooks.
    """

    def __init__(self, *, region: str = "d2n2", frames: Mapping[str, gpd.GeoDataFrame] | None = None):
        get_region(region)  # validate once
        self.region = region
        self._cache: dict[Any, Any] = dict(frames or {})
        self.timings: dict[str, float] = {}

    def _cached(self, key, func):
        if key not in self._cache:
            t = time.perf_counter()
            self._cache[key] = func()
            self.timings[str(key)] = time.perf_counter() - t
        return self._cache[key]

    def layer(self, name: str, options: Mapping[str, Any] | None = None) -> gpd.GeoDataFrame:
        from ..layers import load_layer

        options = dict(options or {})
        return self._cached(("layer", name, _freeze(options)), lambda: load_layer(name, region=self.region, **options))

    def scores(self, scenario: str) -> gpd.GeoDataFrame:
        def run():
            from ..measures.score import score_region

            return score_region(region=self.region, scenario=scenario)

        return self._cached(f"scores:{scenario}", run)

    def comparison(self, base: str, scenario: str) -> gpd.GeoDataFrame:
        """Per-LSOA changes ``scenario − base`` (from the cached scores of both), with boolean
        ``winner``/``loser`` columns added from ``outcome`` for counting."""

        def run():
            from ..measures.compare import compare_scores

            out = compare_scores(self.scores(base), self.scores(scenario))
            if "outcome" in out.columns:
                out["winner"] = (out["outcome"] == "winner").fillna(False).astype(bool)
                out["loser"] = (out["outcome"] == "loser").fillna(False).astype(bool)
            return out

        return self._cached(f"compare:{base}:{scenario}", run)

    def network(self, scenario: str):
        def run():
            from ..network.build import build_network

            return build_network(region=self.region, scenario=scenario)

        return self._cached(f"network:{scenario}", run)

    def isochrones(self, site: str, *, mode: str, bands: tuple[int, ...], scenario: str) -> gpd.GeoDataFrame:
        def run():
            from ..network.isochrones import isochrones

            out = isochrones(self.network(scenario), site, mode=mode, bands=list(bands))
            if isinstance(out, tuple):
                out = out[0]
            return _band_column(out)

        return self._cached(("iso", site, mode, tuple(bands), scenario), run)

    def frame_for(self, ldef: LayerDef, spec: MapSpec) -> gpd.GeoDataFrame:
        """The GeoDataFrame that map layer ``ldef`` draws (EPSG:27700)."""
        if ldef.name in self._cache:
            return self._cache[ldef.name]
        scenario = ldef.scenario or spec.scenario
        if ldef.source == "layer":
            return self.layer(ldef.layer, ldef.options)
        if ldef.source == "scores":
            return self.scores(scenario)
        if ldef.source == "compare":
            return self.comparison(ldef.base, scenario)
        return self.isochrones(ldef.site, mode=ldef.mode, bands=ldef.bands, scenario=scenario)


def _band_column(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Isochrones with a ``band_min`` column (minutes) whatever the producer called it."""
    if "band_min" not in gdf.columns:
        for c in ("band", "minutes", "time_min", "max_min", "cutoff_min"):
            if c in gdf.columns:
                gdf = gdf.assign(band_min=gdf[c])
                break
    return gdf


@dataclass
class MapResult:
    """A drawn map: the folium map, prepared layers, the district table, skipped layers."""

    spec: MapSpec
    map: Any
    layers: list[PreparedLayer]
    table: pd.DataFrame
    table_units: dict[str, tuple[str, int]]
    skipped: dict[str, str] = field(default_factory=dict)

    @property
    def sources(self) -> list[str]:
        out: list[str] = []
        for p in self.layers:
            for s in p.sources:
                if s not in out:
                    out.append(s)
        return out

    def feature_counts(self) -> dict[str, int]:
        """Features drawn per map layer (what a browser should show)."""
        return {p.ldef.name: p.n_features for p in self.layers}


def build_map(spec: MapSpec | str | Path, *, region: str | None = None, scenario: str | None = None,
              data: MapData | None = None, frames: Mapping[str, gpd.GeoDataFrame] | None = None) -> MapResult:
    """Load the data a map definition names, classify, and draw it with folium.

    ``frames`` maps a layer name of the spec to a GeoDataFrame to draw instead of loading it.
    Layers marked ``optional`` that have no data for the region (empty, or naming a site the
    region's network lacks) are left out and listed in ``MapResult.skipped``; any other
    missing data is an error.
    """
    if not isinstance(spec, MapSpec):
        spec = read_spec(spec)
    spec = spec.with_options(region=region, scenario=scenario)
    if data is None:
        data = MapData(region=spec.region)
    frames = dict(frames or {})
    prepared: dict[str, PreparedLayer] = {}
    skipped: dict[str, str] = {}
    for ldef in spec.layers:
        try:
            gdf = frames[ldef.name] if ldef.name in frames else data.frame_for(ldef, spec)
            if ldef.source in ("scores", "compare") and not gdf.attrs.get("sources"):
                gdf = gdf.copy()
                gdf.attrs["attribution"] = gdf.attrs.get("attribution") or attribution_for(SCORE_DATASETS)
                gdf.attrs["sources"] = list(SCORE_DATASETS)
            prepared[ldef.name] = prepare_layer(ldef, gdf)
        except (EmptyResultError, UnknownNameError) as exc:
            # an optional layer with nothing to draw for this region (e.g. no National Park, a site
            # outside the region's network) is left out and listed; anything else is an error
            if not ldef.optional:
                raise
            skipped[ldef.name] = str(exc)
    if spec.table and spec.table.layer in skipped:
        raise LisgeoError(f"map {spec.name!r}: the table's layer {spec.table.layer!r} has no data: {skipped[spec.table.layer]}")
    table, units = district_table(spec, prepared)
    m = render_map(spec, prepared.values(), table=table, table_units=units)
    return MapResult(spec, m, list(prepared.values()), table, units, skipped)


@dataclass
class BuiltMap:
    """A map written to disk, with its sizes (bytes)."""

    name: str
    title: str
    subtitle: str
    html: Path
    png: Path | None
    html_bytes: int
    result: MapResult


def write_map(result: MapResult, path: str | Path, *, inline: bool = False, png: bool = True) -> BuiltMap:
    """Save a built map as HTML (and a PNG beside it for print)."""
    path = Path(path)
    save_map(result.map, path, inline=inline)
    png_path = None
    if png:
        from .static import render_png

        png_path = render_png(result, path.with_suffix(".png"))
    return BuiltMap(result.spec.name, result.spec.title, result.spec.subtitle, path, png_path, path.stat().st_size, result)


def build_maps(*, region: str = "d2n2", out_dir: str | Path, maps_dir: str | Path | None = None,
               scenario: str | None = None, inline: bool = False, png: bool = True, progress: bool = True,
               data: MapData | None = None) -> list[BuiltMap]:
    """Draw every map definition in ``maps_dir`` (default ``maps/``) for ``region`` into ``out_dir/maps/``."""
    from tqdm.auto import tqdm

    specs = list_specs(maps_dir)
    data = data or MapData(region=region)
    out = Path(out_dir) / "maps"
    out.mkdir(parents=True, exist_ok=True)
    built = []
    bar = tqdm(specs, desc=f"maps ({region})", unit="map", disable=not progress)
    for spec in bar:
        bar.set_postfix_str(spec.name)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", category=UserWarning)
            res = build_map(spec, region=region, scenario=scenario, data=data)
        built.append(write_map(res, out / f"{spec.name}.html", inline=inline, png=png))
    return built
