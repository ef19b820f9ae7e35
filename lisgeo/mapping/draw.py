"""Draw a map definition: classify each layer's frame and render it with folium; save HTML and PNG.

``draw_map(spec, frames=..., load=...)`` draws the layers of a :class:`~lisgeo.mapping.spec.MapSpec`
from frames given by layer name, or from a ``load(layer_def, spec)`` function (the pipeline's
:class:`lisgeo.pipeline.maps.MapData` supplies one), and returns a :class:`MapResult` (the folium
map, its prepared layers, the district table and its provenance); ``write_map`` saves it: a ``.html``
path gets the self-contained web page (and a print PNG beside it), a ``.png`` path only the PNG.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

import geopandas as gpd
import pandas as pd
import shapely

from ..catalog import attribution_for, get_dataset
from ..errors import ConfigError, EmptyResultError, OutputError, ParameterError, UnknownNameError
from .notes import error_note, shows_changes, time_modes
from .prepare import FRAME_MARGIN_M, PreparedLayer, district_table, prepare_layer, region_frame, split_beyond
from .render import render_map, save_map, table_caption
from .spec import LayerDef, MapSpec, read_spec

__all__ = ["MapResult", "BuiltMap", "Provenance", "draw_map", "write_map", "output_kind", "provenance", "layer_status",
           "SCORE_DATASETS", "map_record", "scenario_record"]

#: Datasets behind the score columns (for attribution when the scores carry none).
SCORE_DATASETS = ("lsoa21_boundaries", "census2021_population", "census2011_workplace_msoa", "major_roads", "hapms",
                  "aquius_rail", "rail_cif_sample", "naptan_910", "imd2025_lsoa21")


@dataclass(frozen=True)
class Provenance:
    """What a map shows, for its footer: the scenario, the data vintages and the lisgeo version."""

    scenario: str
    vintages: tuple[tuple[str, str], ...]  # (dataset, vintage) from the catalog
    version: str

    @property
    def data(self) -> str:
        return "; ".join(f"{name} ({vintage})" for name, vintage in self.vintages) or "see the attribution"

    @property
    def text(self) -> str:
        """One line: ``Scenario: … · Data: dataset (vintage); … · lisgeo 0.1.0``; each scenario with its
        status and date, e.g. ``hs2_2b (cancelled 4 October 2023) compared with base (built, as of January 2019)``."""
        return f"Scenario: {self.scenario} · Data: {self.data} · Made with lisgeo {self.version}"


def provenance(layers: list[PreparedLayer]) -> Provenance:
    """The scenario (from the frames' ``attrs``) with its status, data vintages (catalog) and lisgeo version of a map."""
    from .. import __version__
    from ..status import scheme_status

    pairs: list[tuple[str, str]] = []
    for p in layers:
        if p.scenario:
            pair = (p.base, p.scenario) if p.base else ("", p.scenario)
            if pair not in pairs:
                pairs.append(pair)
    known = {p.scenario: p.status for p in layers if p.scenario and p.status is not None and p.status.scenario == p.scenario}

    def named(s: str) -> str:
        st = known.get(s) or scheme_status(s)
        return f"{s} ({st.state_text})" if st is not None else s

    compared = [f"{named(s)} compared with {named(b)}" for b, s in pairs if b]
    plain = [named(s) for b, s in pairs if not b and not any(s in (bb, ss) for bb, ss in pairs if bb)]
    scenario = ", ".join([*compared, *plain]) or "none (published data only)"
    vintages: list[tuple[str, str]] = []
    for p in layers:
        for name in p.sources:
            try:
                ds = get_dataset(name)
            except UnknownNameError:
                continue
            if (name, ds.vintage) not in vintages:
                vintages.append((name, ds.vintage))
    return Provenance(scenario, tuple(vintages), __version__)


@dataclass
class MapResult:
    """A drawn map: the folium map, prepared layers, the district table, skipped layers, provenance.

    ``places`` (optional) are the points a print map labels, with a ``name`` column; without them
    the PNG labels the districts of the map's own layers. ``statuses`` are the schemes the map shows
    (:class:`lisgeo.status.SchemeStatus`, live first) and ``notes`` what the map says beside them
    (how close its journey times are, :mod:`lisgeo.mapping.notes`).
    """

    spec: MapSpec
    map: Any
    layers: list[PreparedLayer]
    table: pd.DataFrame
    table_units: dict[str, tuple[str, int]]
    skipped: dict[str, str] = field(default_factory=dict)
    provenance: Provenance | None = None
    places: gpd.GeoDataFrame | None = None
    statuses: tuple = ()
    notes: tuple[str, ...] = ()
    caption: str | None = None  # the district table's caption (with the status of the one scheme it shows)
    frame: Any = None  # the region's outline (BNG) the map is framed on; features beyond it are on a toggle

    @property
    def status_lines(self) -> list[str]:
        """What is real about each scheme the map shows that is not built, live first, in plain words
        ("HS2 Phase 2b (East Midlands Hub at Toton) — cancelled 4 October 2023, shown as in the 2020 strategy")."""
        return [s.text for s in self.statuses if s.state != "built"]

    @property
    def sources(self) -> list[str]:
        out: list[str] = []
        for p in self.layers:
            for s in p.sources:
                if s not in out:
                    out.append(s)
        return out

    def feature_counts(self) -> dict[str, int]:
        """Features drawn per map layer (what a browser should show); the features of a layer that lie
        beyond the region, drawn on the "Beyond the region" toggle, under ``"<layer>:beyond"``."""
        out = {}
        for p in self.layers:
            out[p.ldef.name] = p.n_features
            if p.beyond is not None and len(p.beyond):
                out[f"{p.ldef.name}:beyond"] = len(p.beyond)
        return out


def layer_status(ldef: LayerDef, spec: MapSpec, gdf: gpd.GeoDataFrame | None = None):
    """The :class:`lisgeo.status.SchemeStatus` of the scheme a map layer shows, or None: ``status_of``;
    for a ``layer`` source its ``scenario`` (if any); for a modelled layer the scenario of its frame
    (``attrs``, with the status it records) or else of the layer or the map."""
    from ..status import frame_status, scheme_status

    if ldef.status_of:
        st = scheme_status(ldef.status_of)
        if st is None:  # a typo must not drop the status silently (even of an optional layer)
            from ..network import list_scenarios

            raise ConfigError(f"map {spec.name!r}, layer {ldef.name!r}: status_of = {ldef.status_of!r} is not a scenario "
                              f"with a [status]; use one of {', '.join(list_scenarios())} or a scenario .toml path")
        return st
    if ldef.source == "layer":
        return scheme_status(ldef.scenario) if ldef.scenario else None
    if gdf is not None and gdf.attrs.get("scenario"):
        return frame_status(gdf)
    return scheme_status(ldef.scenario or spec.scenario)


def _with_status(ldef: LayerDef, gdf: gpd.GeoDataFrame, st) -> gpd.GeoDataFrame:
    """The layer's frame with a ``scenario_status`` column (its scheme's status in plain words, for
    tooltips and popups; a comparison's own is kept, unless the layer names ``status_of``)."""
    if st is not None and (ldef.status_of or "scenario_status" not in gdf.columns):
        gdf = gdf.assign(scenario_status=st.text)
    return gdf


def draw_map(spec: MapSpec | str | Path, *, frames: Mapping[str, gpd.GeoDataFrame] | None = None,
             load: Callable[[LayerDef, MapSpec], gpd.GeoDataFrame] | None = None,
             region: str | None = None, scenario: str | None = None,
             places: gpd.GeoDataFrame | None = None, frame: Any = None) -> MapResult:
    """Classify and draw the layers of a map definition with folium.

    Each layer's frame comes from ``frames`` (by layer name) or else from ``load(layer_def, spec)``.
    Layers marked ``optional`` that have no data for the region (empty, or naming a site the
    region's network lacks) are left out and listed in ``MapResult.skipped``; any other missing
    data is an error. ``places`` (points or polygons with a ``name`` column) are labelled on the PNG.

    Each scheme the map shows is stated with its status and date (:func:`layer_status`): in the
    title box (live schemes first), after the legend and layer-control title of each layer of a
    scheme that is not built, in a ``scenario_status`` column for tooltips, in the district table
    (its caption, or each heading when it shows several schemes) and in the footer. A map of journey times
    says how close they are, per class, from the assumptions as they read now (:mod:`lisgeo.mapping.notes`).

    The map opens framed on ``frame`` (the region's outline, a shapely geometry in BNG; by default the
    map's own LEP or district layer, :func:`~lisgeo.mapping.prepare.region_frame`); features wholly
    beyond it (stations, roads and places of the wider area) are drawn on a "Beyond the region" toggle,
    off at opening, and left off the print map (:func:`~lisgeo.mapping.prepare.split_beyond`).
    """
    if not isinstance(spec, MapSpec):
        spec = read_spec(spec)
    spec = spec.with_options(region=region, scenario=scenario)
    frames = dict(frames or {})
    prepared: dict[str, PreparedLayer] = {}
    skipped: dict[str, str] = {}
    for ldef in spec.layers:
        try:
            if ldef.name in frames:
                gdf = frames[ldef.name]
            elif load is not None:
                gdf = load(ldef, spec)
            else:
                raise ParameterError(f"map {spec.name!r}: no frame for layer {ldef.name!r}; pass frames= or draw it with "
                                     "lisgeo.pipeline.maps.make_map, which loads the data")
            if ldef.source in ("scores", "compare") and not gdf.attrs.get("sources"):
                gdf = gdf.copy()
                gdf.attrs["attribution"] = gdf.attrs.get("attribution") or attribution_for(SCORE_DATASETS)
                gdf.attrs["sources"] = list(SCORE_DATASETS)
            st = layer_status(ldef, spec, gdf)
            prepared[ldef.name] = p = prepare_layer(ldef, _with_status(ldef, gdf, st), status=st)
            if ldef.source != "layer" and not p.scenario:  # a modelled frame that does not say: the map file's
                p.scenario = ldef.scenario or spec.scenario
                p.base = ldef.base if ldef.source == "compare" else ""
            elif ldef.source == "layer" and ldef.scenario and not p.scenario:  # a scheme's places
                p.scenario = ldef.scenario
        except (EmptyResultError, UnknownNameError) as exc:
            # an optional layer with nothing to draw for this region (e.g. no National Park, a site
            # outside the region's network) is left out and listed; anything else is an error
            if not ldef.optional:
                raise
            skipped[ldef.name] = str(exc)
    if spec.table and spec.table.layer in skipped:
        raise EmptyResultError(f"map {spec.name!r}: the table's layer {spec.table.layer!r} has no data: {skipped[spec.table.layer]}; point [table] at another layer or choose another region")
    table, units = district_table(spec, prepared)
    layers = list(prepared.values())
    if frame is None:
        frame = region_frame(layers)
    if frame is not None:
        zone = shapely.buffer(frame, FRAME_MARGIN_M)  # once for every layer
        layers = [split_beyond(p, zone, margin_m=0) for p in layers]
    prov = provenance(layers)
    statuses = _statuses(layers)
    note = error_note(time_modes(spec, layers), changes=shows_changes(layers))
    notes = (note,) if note else ()
    lines = [s.text for s in statuses if s.state != "built"]
    caption = None
    if spec.table is not None:
        caption = table_caption(spec, [prepared[n].status for n in (spec.table.layer, *spec.table.also) if n in prepared])
    m = render_map(spec, layers, table=table, table_units=units, footer=prov.text, status=lines, notes=notes,
                   caption=caption, frame=frame)
    return MapResult(spec, m, layers, table, units, skipped, prov, places, statuses, notes, caption, frame)


def _statuses(layers: list[PreparedLayer]) -> tuple:
    """The schemes a map shows (each layer's, and the bases of its comparisons), live first."""
    from ..status import live_first, scheme_status

    found = [p.status for p in layers]
    found += [scheme_status(p.base) for p in layers if p.base]
    return tuple(live_first(found))


@dataclass
class BuiltMap:
    """A map written to disk, with its sizes (bytes). ``html`` is None when only a PNG was asked for."""

    name: str
    title: str
    subtitle: str
    html: Path | None
    png: Path | None
    html_bytes: int
    result: MapResult


def scenario_record(name: str) -> dict[str, Any]:
    """A scenario a map shows, for provenance: its name, its ``[status]`` table and the status in words."""
    from ..status import scheme_status

    st = scheme_status(name)
    if st is None:
        return {"name": name, "status": None, "status_text": None}
    return {"name": name, "status": st.table, "status_text": st.text}


def map_record(b: BuiltMap, *, definition: str | Path | None = None) -> dict[str, Any]:
    """What a written map is and what drew it, for ``provenance.json``: its files with their sha256, the
    map file it was drawn from (with its sha256), each layer (source, column, scenario, features
    drawn), the scenarios with their status, the datasets, and the layers left out for the region."""
    from ..provenance import file_sha256

    res = b.result
    files = {}
    for kind, path in (("html", b.html), ("png", b.png)):
        if path is not None and Path(path).is_file():
            files[kind] = {"file": Path(path).name, "sha256": file_sha256(path), "bytes": Path(path).stat().st_size}
    names = []
    for p in res.layers:
        for n in (p.base, p.scenario):
            if n and n not in names:
                names.append(n)
    counts = res.feature_counts()
    layers = [{"name": p.ldef.name, "title": p.title, "source": p.ldef.source, "layer": p.ldef.layer,
               "column": p.ldef.column, "scenario": p.scenario or None, "base": p.base or None,
               "features": counts.get(p.ldef.name, 0), "beyond_region": counts.get(f"{p.ldef.name}:beyond", 0)}
              for p in res.layers]
    rec: dict[str, Any] = {"name": b.name, "title": b.title, "files": files, "layers": layers,
                           "scenarios": [scenario_record(n) for n in names], "datasets": res.sources,
                           "skipped": dict(res.skipped), "footer": res.provenance.text if res.provenance else None}
    if definition is not None and Path(definition).is_file():
        rec["definition"] = {"path": str(definition), "sha256": file_sha256(definition)}
    return rec


def output_kind(path: str | Path) -> str:
    """``"html"`` or ``"png"`` from a map output's extension; anything else is an :class:`OutputError`."""
    suffix = Path(path).suffix.lower()
    if suffix in (".html", ".htm"):
        return "html"
    if suffix == ".png":
        return "png"
    raise OutputError(f"cannot write a map to {str(path)!r}: give a .html file (the web map, with a .png for print "
                      "beside it) or a .png file (the print map only)")


def write_map(result: MapResult, path: str | Path, *, inline: bool = True, png: bool = True) -> BuiltMap:
    """Save a built map by the extension of ``path``.

    ``.html``: the web page, self-contained (Leaflet and its plugins embedded, so it works offline;
    ``inline=False`` links them from CDNs), and with ``png`` a print PNG beside it. ``.png``: only
    the print PNG. Any other extension is an :class:`~lisgeo.errors.OutputError`.
    """
    from .static import render_png

    path = Path(path)
    spec = result.spec
    if output_kind(path) == "png":
        return BuiltMap(spec.name, spec.title, spec.subtitle, None, render_png(result, path), 0, result)
    save_map(result.map, path, inline=inline)
    png_path = render_png(result, path.with_suffix(".png")) if png else None
    return BuiltMap(spec.name, spec.title, spec.subtitle, path, png_path, path.stat().st_size, result)
