"""Maps and the report for a region: load (or compute) the data each map definition names, draw, save.

:class:`MapData` loads and caches what map layers draw for one region (layers, scores per
scenario, scenario comparisons, networks and isochrones), so six maps cost one scoring run;
:func:`make_map` draws one definition with it, :func:`make_maps` every definition in ``maps/``
into ``DIR/maps/`` with a progress bar, :func:`write_report` the report page around them, and
:func:`build_region` all of it (maps, report, scores) from one scoring run. Pages are
self-contained (they work offline) unless ``inline=False``.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping

import geopandas as gpd
import pandas as pd

from typing import TYPE_CHECKING

from ..errors import ConfigError, LisgeoError, MissingColumnError, OutputError, ParameterError
from ..mapping.spec import LayerDef, MapSpec, list_specs, read_spec
from ..regions import get_region

if TYPE_CHECKING:  # the drawing stack (folium, matplotlib) is imported when a map is drawn
    from ..mapping.draw import BuiltMap, MapResult

__all__ = ["MapData", "make_map", "make_maps", "write_report", "build_region", "BuildResult", "layer_options",
           "write_maps_provenance"]


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
        self.frames_given = bool(frames)  # frames from the caller: drawn maps are not cached
        self.timings: dict[str, float] = {}
        #: maps not drawn for this region, and why (:class:`MapNotForRegion`, by :func:`make_maps`)
        self.not_drawn: dict[str, str] = {}

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
            from .score import score_region

            return score_region(region=self.region, scenario=scenario)

        return _with_scenario(self._cached(f"scores:{scenario}", run), scenario)

    def scores_against(self, scenario: str, base: str) -> gpd.GeoDataFrame:
        """The scores of ``scenario`` with their indices on ``base``'s scale (as
        :func:`lisgeo.pipeline.compare.compare_scenarios` has them), so index changes are absolute.

        The scenario's cached scores are re-indexed (:func:`lisgeo.measures.indices.add_indices` with the
        base as reference, under the weights they were scored with); nothing is scored again."""
        if scenario == base:
            return self.scores(base)

        def run():
            from ..measures.indices import add_indices, load_index_config

            own, ref = self.scores(scenario), self.scores(base)
            if own.attrs.get("index_scale") == f"reference scenario {ref.attrs.get('scenario', base)}":
                return own
            if set(own.index) != set(ref.index):
                raise ParameterError(f"scores of {scenario!r} and {base!r} cover other LSOAs; score the same region for both")
            out = add_indices(own, config=own.attrs.get("index_config") or load_index_config(), reference=ref.loc[own.index])
            out["connectivity_decile"] = out["connectivity_decile"].astype("Int64")
            out.attrs = {**own.attrs, "index_scale": f"reference scenario {ref.attrs.get('scenario', base)}"}
            return out

        return _with_scenario(self._cached(f"scores:{scenario}:against:{base}", run), scenario)

    def comparison(self, base: str, scenario: str) -> gpd.GeoDataFrame:
        """Per-LSOA changes ``scenario − base`` (the scenario scored on the base's scale, as
        ``lisgeo compare`` does), with boolean ``winner``/``loser`` columns added from ``outcome`` for counting."""

        def run():
            from ..measures.compare import compare_scores

            out = compare_scores(self.scores(base), self.scores_against(scenario, base))
            if "outcome" in out.columns:
                out["winner"] = (out["outcome"] == "winner").fillna(False).astype(bool)
                out["loser"] = (out["outcome"] == "loser").fillna(False).astype(bool)
            return out

        return _with_scenario(self._cached(f"compare:{base}:{scenario}", run), scenario, base)

    def network(self, scenario: str):
        """The network that scoring uses (the contract's fixed sites in it): one build for both."""

        def run():
            from .score import score_network

            return score_network(self.region, scenario=scenario)

        return self._cached(f"network:{scenario}", run)

    def isochrones(self, site: str, *, mode: str, bands: tuple[int, ...], scenario: str) -> gpd.GeoDataFrame:
        def run():
            from ..network.isochrones import isochrones

            out = isochrones(self.network(scenario), site, mode=mode, bands=list(bands))
            if isinstance(out, tuple):
                out = out[0]
            return _band_column(out)

        return _with_scenario(self._cached(("iso", site, mode, tuple(bands), scenario), run), scenario)

    def outline(self):
        """The region's outline (a shapely geometry, EPSG:27700): what its maps are framed on."""
        def run():
            from ..layers.boundaries import region_reach

            return region_reach(self.region, 0.0)

        return self._cached("outline", run)

    def frame_for(self, ldef: LayerDef, spec: MapSpec) -> gpd.GeoDataFrame:
        """The GeoDataFrame that map layer ``ldef`` draws (EPSG:27700)."""
        if ldef.name in self._cache:
            return self._cache[ldef.name]
        scenario = ldef.scenario or spec.scenario
        if ldef.source == "layer":
            return self.layer(ldef.layer, layer_options(ldef))
        if ldef.source == "scores":
            return self.scores(scenario)
        if ldef.source == "compare":
            return self.comparison(ldef.base, scenario)
        return self.isochrones(ldef.site, mode=ldef.mode, bands=ldef.bands, scenario=scenario)


def layer_options(ldef: LayerDef) -> dict[str, Any]:
    """The options a ``layer`` map layer is loaded with: its ``options``, and for a layer of a scheme's
    places (``scenario`` given, e.g. ``hs2_stations``) the scenario's HS2 scheme as ``scheme`` when
    the layer takes one and ``options`` name none."""
    import inspect

    options = dict(ldef.options or {})
    if ldef.source != "layer" or not ldef.scenario or "scheme" in options:
        return options
    from ..layers._registry import LAYERS, _ensure_loaded

    _ensure_loaded()
    spec = LAYERS.get(ldef.layer)
    if spec is None or "scheme" not in inspect.signature(spec.func).parameters:
        return options
    from ..network import load_scenario

    scheme = load_scenario(ldef.scenario).hs2_scheme
    if scheme is None:
        raise ConfigError(f"map layer {ldef.name!r} shows the places of scenario {ldef.scenario!r}, which has no HS2 "
                          f"scheme; give a scenario with one (e.g. hs2_phase1, hs2_2b, irp) or options = {{ scheme = \"...\" }}")
    options["scheme"] = scheme
    return options


def _with_scenario(gdf: gpd.GeoDataFrame, scenario: str, base: str | None = None) -> gpd.GeoDataFrame:
    """Record in ``attrs`` which scenario (and base) a modelled frame is for, when it does not say
    (frames given to :class:`MapData` by hand), so the map's footer can state it."""
    if not gdf.attrs.get("scenario"):
        gdf.attrs["scenario"] = scenario
    if base is not None and not gdf.attrs.get("base"):
        gdf.attrs["base"] = base
    return gdf


def _band_column(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Isochrones with a ``band_min`` column (minutes) whatever the producer called it."""
    if "band_min" not in gdf.columns:
        for c in ("band", "minutes", "time_min", "max_min", "cutoff_min"):
            if c in gdf.columns:
                gdf = gdf.assign(band_min=gdf[c])
                break
    return gdf


def make_map(spec: MapSpec | str | Path, *, region: str | None = None, scenario: str | None = None,
             data: MapData | None = None, frames: Mapping[str, gpd.GeoDataFrame] | None = None) -> MapResult:
    """Load the data a map definition names for ``region`` (through ``data``) and draw it.

    ``frames`` maps a layer name of the definition to a GeoDataFrame to draw instead of loading it.
    The map opens framed on the region's outline (:meth:`MapData.outline`; with ``frames``, on the
    map's own LEP or district layer), with what lies beyond it on a toggle.
    """
    if not isinstance(spec, MapSpec):
        spec = read_spec(spec)
    spec = spec.with_options(region=region, scenario=scenario)
    if data is None:
        data = MapData(region=spec.region)
    from ..mapping.draw import draw_map

    try:
        return draw_map(spec, frames=frames, load=data.frame_for, frame=None if frames else data.outline())
    except MissingColumnError:
        why = None if frames else _absent_for_region(spec, data)
        if why is None:
            raise
        raise MapNotForRegion(f"map {spec.name} is not drawn for {get_region(spec.region).label}: {why}") from None


class MapNotForRegion(LisgeoError):
    """A map about sites the region's scores have no columns for (docs/scores.md, "Sites"): map 2,
    the drive to the HS2 stations, for a region far from them. :func:`make_maps` leaves it out and
    says why; ``lisgeo map`` says it in one line."""


def _absent_for_region(spec: MapSpec, data: MapData) -> str | None:
    """Why ``spec`` cannot be drawn for ``data``'s region: the site columns it shows that the region's
    scores leave out (their ``attrs["absent_columns"]``), or None."""
    absent: dict[str, str] = {}
    for ld in spec.layers:
        if ld.source in ("scores", "compare"):
            scen = (ld.base or "base") if ld.source == "compare" else (ld.scenario or spec.scenario or "base")
            absent.update(data.scores(scen).attrs.get("absent_columns") or {})
    if not absent:
        return None
    named = [c for ld in spec.layers for c in (ld.column, *ld.tooltip, *ld.popup) if c]
    if spec.table is not None:
        named += list(spec.table.stats)
    hit = [c for c in dict.fromkeys(named) if c in absent or c.removeprefix("d_").rsplit("_", 1)[0] in absent]
    if not hit:
        return None
    first = next(c for c in hit if c in absent) if any(c in absent for c in hit) else hit[0]
    return (f"the region's scores have no {', '.join(hit)} (a region far from the sites has no site columns: "
            f"docs/scores.md, \"Sites\"); {first}: {absent.get(first, '')}")


def make_maps(*, region: str = "d2n2", out_dir: str | Path, maps_dir: str | Path | None = None,
               scenario: str | None = None, inline: bool = True, png: bool = True, progress: bool = True,
               data: MapData | None = None) -> list[BuiltMap]:
    """Draw every map definition in ``maps_dir`` (default ``maps/``) for ``region`` into ``out_dir/maps/``:
    self-contained pages (``inline=False``: Leaflet from CDNs) and, with ``png``, print PNGs."""
    from tqdm.auto import tqdm

    from ..mapping.draw import write_map

    specs = list_specs(maps_dir)
    data = data or MapData(region=region)
    if Path(out_dir).exists() and not Path(out_dir).is_dir():
        raise OutputError(f"output {out_dir} exists and is not a folder; give a folder with -o")
    out = Path(out_dir) / "maps"
    out.mkdir(parents=True, exist_ok=True)
    built = []
    bar = tqdm(specs, desc=f"maps ({region})", unit="map", disable=not progress)
    for spec in bar:
        bar.set_postfix_str(spec.name)
        path = out / f"{spec.name}.html"
        key = None if data.frames_given else _map_key(spec, region=region, scenario=scenario, inline=inline, png=png)
        hit = _cached_map(key, path) if key is not None else None
        if hit is not None:
            built.append(hit)
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", category=UserWarning)
            try:
                res = make_map(spec, region=region, scenario=scenario, data=data)
            except MapNotForRegion as exc:  # (e.g. the HS2 map of a region far from HS2): said, and left out
                import logging

                logging.getLogger(__name__).warning(str(exc))
                data.not_drawn[spec.name] = str(exc)
                continue
        b = write_map(res, path, inline=inline, png=png)
        if key is not None:
            _store_map(key, b)
        built.append(b)
    write_maps_provenance(built, out, region=region, maps_dir=maps_dir, scenario=scenario, inline=inline)
    return built


def _scenarios(records: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for r in records:
        for sc in r.get("scenarios", []):
            out.setdefault(sc["name"], sc)
    return list(out.values())


def _definition(maps_dir: str | Path | None, name: str) -> Path:
    from ..mapping.spec import DEFAULT_MAPS_DIR

    return Path(maps_dir if maps_dir is not None else DEFAULT_MAPS_DIR) / f"{name}.toml"


def write_maps_provenance(built: list[BuiltMap], folder: str | Path, *, region: str, maps_dir: str | Path | None = None,
                          scenario: str | None = None, inline: bool = True) -> Path:
    """Write ``provenance.json`` beside the maps in ``folder``: each map with the sha256 of its page and
    PNG, the map file that drew it (and its sha256), its layers, scenarios (with their status) and
    datasets; for the set, the scenarios and datasets of every map and what :mod:`lisgeo.provenance`
    records of every output (lisgeo version, commit, command, time)."""
    from ..io import atomic_set
    from ..mapping.draw import map_record
    from ..provenance import add_provenance, build_provenance

    records = [map_record(b, definition=_definition(maps_dir, b.name)) for b in built]
    datasets = list(dict.fromkeys(d for b in built for d in b.result.sources))
    prov = build_provenance("maps", region=region, datasets=datasets,
                            details={"scenario_option": scenario, "inline": bool(inline), "maps_dir": str(maps_dir or "maps/")})
    prov["scenarios"] = _scenarios(records)
    prov["maps"] = records
    with atomic_set(folder, replaces=("provenance.json",)) as files:
        path = add_provenance(files, prov)
    return path


# ------------------------------------------------------------------ drawn maps on disk
# A drawn map (its page, its PNG, and what the report needs: the district table, provenance,
# sources) is kept in the disk cache (kind ``maps``), keyed on the map definition as read, the
# region, scenario and output options, every authored file under layers/ (scenarios included),
# the pinned sha256 of every dataset in the catalogue and lisgeo's code: a rebuild with nothing
# changed copies the map instead of scoring and drawing it. ``LISGEO_NO_CACHE=1`` turns it off.
def _map_key(spec: MapSpec, *, region: str, scenario: str | None, inline: bool, png: bool) -> str | None:
    import dataclasses

    from .. import cache as disk
    from ..catalog import list_datasets
    from ..config import layers_dir

    if not disk.enabled():
        return None
    reg = get_region(region)
    root = layers_dir()
    authored = {p.relative_to(root).as_posix(): disk.file_digest(p) for p in sorted(root.rglob("*")) if p.is_file()}
    fields = dataclasses.asdict(spec)
    # files named by the map or the scenario argument (e.g. a scenario .toml of the planner's own)
    named = {str(v): disk.file_digest(v) for v in _strings([fields, scenario])
             if v.lower().endswith((".toml", ".csv", ".gpkg", ".geojson", ".parquet")) and Path(v).is_file()}
    return disk.make_key({"kind": "map", "spec": fields, "region": [reg.name, sorted(reg.lad_codes)],
                          "scenario": scenario, "inline": bool(inline), "png": bool(png), "authored": authored,
                          "named_files": named, "datasets": disk.dataset_digests(d.name for d in list_datasets())})


def _strings(obj: Any):
    if isinstance(obj, (str, Path)):
        yield str(obj)
    elif isinstance(obj, Mapping):
        for v in obj.values():
            yield from _strings(v)
    elif isinstance(obj, (list, tuple, set)):
        for v in obj:
            yield from _strings(v)


def _store_map(key: str, b: BuiltMap) -> None:
    """Keep ``b`` (files as bytes; the folium map and the full-resolution rows dropped) under ``key``."""
    from dataclasses import replace

    from .. import cache as disk

    try:
        res = b.result
        light = replace(res, map=None, places=None, layers=[replace(p, data=None) for p in res.layers])
        entry = {"name": b.name, "title": b.title, "subtitle": b.subtitle, "result": light,
                 "html": b.html.read_bytes() if b.html is not None else None,
                 "png": b.png.read_bytes() if b.png is not None else None}
    except Exception as exc:  # a cache entry never makes a run fail
        import logging

        logging.getLogger(__name__).info("lisgeo cache: map %s not kept: %s", b.name, exc)
        return
    disk.store_pickle("maps", key, entry)


def _cached_map(key: str, path: Path) -> BuiltMap | None:
    """The map kept under ``key``, its files written (atomically) to ``path`` and its PNG beside it."""
    from .. import cache as disk
    from ..io import atomic_path
    from ..mapping.draw import BuiltMap

    entry = disk.load_pickle("maps", key, expect=dict)
    if entry is None:
        return None
    png_path = path.with_suffix(".png") if entry["png"] is not None else None
    for p, data in ((path, entry["html"]), (png_path, entry["png"])):
        if p is not None and data is not None:
            with atomic_path(p) as tmp:
                Path(tmp).write_bytes(data)
    return BuiltMap(entry["name"], entry["title"], entry["subtitle"], path if entry["html"] is not None else None,
                    png_path, len(entry["html"] or b""), entry["result"])


def write_report(*, region: str = "d2n2", out_dir: str | Path, built: list[BuiltMap] | None = None,
                 claims: pd.DataFrame | None = None, with_claims: bool = True, inline: bool = True,
                 progress: bool = True, maps_dir: str | Path | None = None, data: MapData | None = None,
                 claims_note: str = "", linked: bool = False, not_drawn: Mapping[str, str] | None = None) -> Path:
    """Write ``out_dir/report.html`` (drawing the maps into ``out_dir/maps/`` unless ``built`` is given):
    every map, its district table (once), the headline claims recomputed, the sources and licences,
    and ``out_dir/provenance.json`` beside it (all or nothing).

    The report holds its maps (one file that works alone and offline, :mod:`lisgeo.mapping.report`)
    unless ``linked``, which frames ``maps/*.html`` beside it instead. ``data`` (a :class:`MapData`)
    lets the report reuse the scores already computed for the maps; ``inline`` is passed to
    :func:`make_maps` when the maps are drawn here.
    """
    from ..io import atomic_set
    from ..mapping.report import render_report
    from ..provenance import add_provenance

    get_region(region)
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise OutputError(f"output {out} exists and is not a folder; give a folder with -o")
    out.mkdir(parents=True, exist_ok=True)
    if built is None:
        data = data or MapData(region=region)
        built = make_maps(region=region, out_dir=out, maps_dir=maps_dir, inline=inline, progress=progress, data=data)
    if claims is None and with_claims and not claims_note:
        claims, claims_note = _claims(region)
    not_drawn = dict(not_drawn or {}) if not_drawn is not None else dict(getattr(data, "not_drawn", None) or {})
    page = render_report(built, region=region, out_dir=out, claims=claims, claims_note=claims_note, linked=linked,
                         not_drawn=not_drawn)
    prov = _report_provenance(built, region=region, claims=claims, linked=linked, maps_dir=maps_dir)
    with atomic_set(out, replaces=("report.html", "provenance.json")) as files:
        files.write_text("report.html", page)
        add_provenance(files, prov)
    return out / "report.html"


def _report_provenance(built: list[BuiltMap], *, region: str, claims: pd.DataFrame | None, linked: bool,
                       maps_dir: str | Path | None) -> dict[str, Any]:
    """The report's provenance: the maps it holds (or links), each with the sha256 of its page and what
    drew it, their scenarios with their status, the datasets (the claims' too) and lisgeo's version."""
    from ..mapping.draw import map_record
    from ..provenance import CLAIMS_LAYERS, build_provenance, layer_datasets

    records = [map_record(b, definition=_definition(maps_dir, b.name)) for b in built]
    datasets = list(dict.fromkeys(d for b in built for d in b.result.sources))
    has_claims = isinstance(claims, pd.DataFrame) and len(claims) > 0
    if has_claims:
        datasets += [d for d in layer_datasets(CLAIMS_LAYERS) if d not in datasets]
    prov = build_provenance("report", region=region, datasets=datasets,
                            details={"maps_inside": not linked, "linked": bool(linked), "claims": has_claims})
    prov["scenarios"] = _scenarios(records)
    prov["maps"] = records
    return prov


def _claims(region: str) -> tuple[pd.DataFrame | None, str]:
    """The headline claims recomputed, or None and why they could not be."""
    try:
        from .claims import recompute_claims

        return recompute_claims(region), ""
    except LisgeoError as exc:
        return None, f"The headline claims could not be recomputed: {exc}"


@dataclass
class BuildResult:
    """What :func:`build_region` wrote: the maps, the report and the scores (name -> path)."""

    maps: list[BuiltMap]
    report: Path
    scores: dict[str, Path]
    claims_note: str = ""


def build_region(*, region: str = "d2n2", out_dir: str | Path, maps_dir: str | Path | None = None,
                 scenario: str | None = None, inline: bool = True, scores: bool = True, progress: bool = True,
                 data: MapData | None = None, linked: bool = False) -> BuildResult:
    """The main job: every map into ``out_dir/maps/``, the report ``out_dir/report.html`` and (with
    ``scores``) the scores behind the maps with the recomputed claims in ``out_dir/scores/``.

    One :class:`MapData` serves the maps, the report and the scores, so the region is scored once
    per scenario; the claims are recomputed once for the report and ``claims.csv``. The report holds
    its maps (one file that can be sent alone) unless ``linked``; ``maps/provenance.json`` and
    ``provenance.json`` beside the report say what drew them.
    """
    from .score import write_scores

    out = Path(out_dir)
    if data is None:
        data = MapData(region=region)
    if scores:
        data.scores(scenario or "base")  # (the scores the maps and DIR/scores/ share)
    built = make_maps(region=region, out_dir=out, maps_dir=maps_dir, scenario=scenario, inline=inline,
                      progress=progress, data=data)
    claims, note = _claims(region)
    report = write_report(region=region, out_dir=out, built=built, claims=claims, claims_note=note, linked=linked,
                          maps_dir=maps_dir, not_drawn=data.not_drawn)
    written: dict[str, Path] = {}
    if scores:
        written = write_scores(data.scores(scenario or "base"), out / "scores",
                               claims=claims if claims is not None else False)
    return BuildResult(built, report, written, note)
