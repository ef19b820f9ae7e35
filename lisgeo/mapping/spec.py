"""Map definitions: TOML files in ``maps/`` read into validated, frozen dataclasses.

A map file names a title and a one-line subtitle, a region and scenario (both overridable
from the command line), a base map, its layers (drawn bottom to top) and the table of key
figures per district that sits beneath the map. Unknown keys are refused, with the valid
keys in the message, so a typo never silently drops an option::

    title = "Access to jobs"
    subtitle = "Jobs reachable within 45 minutes by car, LSOA 2021, quantile classes"

    [[layers]]
    name = "jobs_car_45"
    source = "scores"           # "layer" (a registered layer), "scores", "compare", "isochrones"
    column = "jobs_car_45"
    scheme = "quantiles"        # "quantiles", "natural_breaks", "equal_interval", "categorical"
    k = 5
    palette = "YlGnBu"          # colour-blind-safe defaults: YlGnBu (numbers), okabe_ito (categories)
    # breaks = [0, 15, 30, 45, 60]  # fixed class edges instead of a scheme (same classes in every region)
    tooltip = ["LSOA21NM", "LADNM", "jobs_car_45"]

    [table]
    layer = "jobs_car_45"
    by = "LADNM"
    stats = { jobs_car_45 = "median", pop = "sum" }

A map about a scheme names the scenario of each layer, and the map says what is real about it
(built, under construction, cancelled …, from the scenario's ``[status]``; :mod:`lisgeo.status`):
its title box lists the schemes shown with their status and date, live ones first, and the
legend title of each layer of a scheme that is not built ends with its status::

    [[layers]]
    name = "d_london_2b"
    source = "compare"
    scenario = "hs2_2b"         # the scheme compared (default: the map's scenario)
    column = "d_tt_rail_london"
    tooltip = ["LSOA21NM", "outcome", "faster_to", "scenario_status"]

    [[layers]]
    name = "hs2"
    layer = "hs2_stations"
    scenario = "hs2_2b"         # a layer of a scheme's places: loaded for its HS2 scheme, labelled with its status
    tooltip = ["name", "scenario_status"]

    [[layers]]
    name = "tt_toton"
    source = "scores"           # car times on today's network (the map's scenario) …
    column = "tt_car_hs2_toton"
    status_of = "hs2_2b"        # … to the stations of a scheme: labelled with that scheme's status

    [table.also.d_london_2b]    # more figures per district, from another layer (headings name its scheme)
    d_tt_rail_leeds = "weighted_mean"
    faster_to = "tally"         # each destination with the number of areas that hold it

Every layer with a scenario gets a ``scenario_status`` column (the status in plain words) for its
tooltips and popups.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping

import matplotlib
import matplotlib.colors as mcolors

from ..config import default_dir, maps_dir, read_toml
from ..errors import ConfigError, DataNotFoundError, UnknownNameError

__all__ = [
    "LayerDef", "TableDef", "MapSpec", "find_spec", "read_spec", "parse_spec", "list_specs", "column_info", "ColumnInfo",
    "SCHEMES", "STYLES", "SOURCES", "STATS", "DEFAULT_MAPS_DIR", "QUALITATIVE_PALETTES", "is_palette", "is_qualitative",
]

SCHEMES = ("quantiles", "natural_breaks", "equal_interval", "categorical")
STYLES = ("choropleth", "outline", "points", "lines")
SOURCES = ("layer", "scores", "compare", "isochrones")
STATS = ("median", "mean", "weighted_mean", "sum", "min", "max", "count", "first", "tally")
BASEMAPS = ("osm", "none")

#: Colour-blind-safe qualitative palettes (hex colours in order) beside matplotlib's colormaps:
#: Okabe & Ito (2008) "Color Universal Design" and Paul Tol's "bright" and "muted" schemes (Tol 2021).
#: ``okabe_ito`` continues, for maps with more than eight categories, with three darker colours from
#: Tol's schemes and a violet, chosen to stay as far apart from the eight and each other as the
#: eight are among themselves: every two of the twelve at least 21.7 apart in CIEDE2000 (the eight's
#: closest pair), and apart under simulated deuteranopia, protanopia and tritanopia (tests/mapping/test_palettes.py).
QUALITATIVE_PALETTES: dict[str, tuple[str, ...]] = {
    "okabe_ito": ("#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7", "#000000",
                  "#663333", "#332288", "#666633", "#9955FF"),
    "tol_bright": ("#4477AA", "#EE6677", "#228833", "#CCBB44", "#66CCEE", "#AA3377", "#BBBBBB"),
    "tol_muted": ("#CC6677", "#332288", "#DDCC77", "#117733", "#88CCEE", "#882255", "#44AA99", "#999933", "#AA4499"),
}
#: The palette of a layer that names none: sequential YlGnBu for numbers, Okabe–Ito for categories.
DEFAULT_PALETTE = "YlGnBu"
DEFAULT_QUALITATIVE = "okabe_ito"


#: matplotlib's qualitative colormaps (unordered colours, like :data:`QUALITATIVE_PALETTES`).
MPL_QUALITATIVE = frozenset({"tab10", "tab20", "tab20b", "tab20c", "Set1", "Set2", "Set3", "Pastel1", "Pastel2", "Dark2",
                             "Accent", "Paired"})


def is_qualitative(name: str) -> bool:
    """Whether palette ``name`` gives unordered colours (categories to tell apart one by one) rather than a
    ramp read in order (sequential or diverging: deciles, time bands, classes of numbers)."""
    return name in QUALITATIVE_PALETTES or (name[:-2] if name.endswith("_r") else name) in MPL_QUALITATIVE


def is_palette(name: str) -> bool:
    """Whether ``name`` is a palette lisgeo can draw with (a matplotlib colormap or a :data:`QUALITATIVE_PALETTES` name)."""
    return name in QUALITATIVE_PALETTES or name in matplotlib.colormaps


#: The repository's ``maps/`` folder (the default map set), when running from a checkout.
DEFAULT_MAPS_DIR = maps_dir()


@dataclass(frozen=True)
class LayerDef:
    """One layer of a map, as declared in ``[[layers]]``.

    ``style`` is how features are drawn; ``scheme`` (with ``column``) colours them: numeric
    classes (quantiles, natural breaks, equal intervals) or one colour per category. Distances are in metres (BNG),
    ``weight`` and ``radius`` in screen pixels. ``breaks`` (class edges in the column's units,
    increasing) fixes the classes instead of ``scheme``, so a map reads the same in every region
    and scenario; values beyond the outer edges join the first or last class, and the legend says so.
    ``palette`` defaults to a colour-blind-safe one for the scheme (YlGnBu, or okabe_ito for categories).
    ``dash`` draws lines and outlines dashed: dash and gap lengths in screen pixels, e.g. ``"6 4"`` (the
    legend's swatch is dashed the same way), so an outline that marks something (coldspots) never
    looks like a boundary.

    ``scenario``: for a modelled layer (scores, compare, isochrones) the scenario it is computed for
    (default: the map's); for a ``layer`` source the scenario whose scheme the layer shows (a layer
    with a ``scheme`` option, such as ``hs2_stations``, is loaded for the scenario's HS2 scheme unless
    ``options`` names one). ``status_of``: the scenario whose status labels the layer when its data
    come from another (car times on today's roads to the stations of a cancelled scheme). A layer of
    a scheme that is not built has its status after its legend title, and a ``scenario_status`` column.
    """

    name: str
    source: str = "layer"
    layer: str | None = None
    options: Mapping[str, Any] = field(default_factory=dict)
    site: str | None = None
    mode: str = "car"
    bands: tuple[int, ...] = (15, 30, 45, 60)
    base: str = "base"
    scenario: str | None = None
    status_of: str | None = None
    style: str = "choropleth"
    column: str | None = None
    label: str | None = None
    units: str | None = None
    decimals: int | None = None
    scheme: str = "quantiles"
    k: int = 5
    breaks: tuple[float, ...] = ()
    palette: str | None = None
    reverse: bool = False
    colors: Mapping[str, str] = field(default_factory=dict)
    category_labels: Mapping[str, str] = field(default_factory=dict)
    category_order: tuple[str, ...] = ()
    where: Mapping[str, Any] = field(default_factory=dict)
    tooltip: tuple[str, ...] = ()
    popup: tuple[str, ...] = ()
    show: bool = True
    color: str = "#333333"
    weight: float = 1.0
    dash: str | None = None
    radius: float = 6.0
    fill_opacity: float = 0.7
    simplify_m: float | None = None
    legend: bool = True
    optional: bool = False

    def __post_init__(self) -> None:
        if self.palette is None:
            object.__setattr__(self, "palette", DEFAULT_QUALITATIVE if self.scheme == "categorical" else DEFAULT_PALETTE)

    @property
    def title(self) -> str:
        """Layer-control and legend title: ``label`` or the column's label."""
        if self.label:
            return self.label
        if self.column:
            return column_info(self.column).label
        return self.name.replace("_", " ").capitalize()


@dataclass(frozen=True)
class TableDef:
    """The text alternative: key figures per ``by`` (district) from one layer of the map.

    ``also`` adds figures from other layers of the map (``{layer: {column: statistic}}``), e.g. the
    same changes under a second scheme; when the table shows more than one scheme, each heading
    starts with its scheme and status. The ``tally`` statistic lists each item of a text column of
    ``;``-separated items with the number of areas that hold it ("Leeds (60); London (3)").
    """

    layer: str
    by: str = "LADNM"
    stats: Mapping[str, str] = field(default_factory=dict)
    weight: str | None = None
    counts: tuple[str, ...] = ()
    caption: str | None = None
    also: Mapping[str, Mapping[str, str]] = field(default_factory=dict)


@dataclass(frozen=True)
class MapSpec:
    """A whole map: title, subtitle, region, scenario, base map, layers and table."""

    name: str
    title: str
    subtitle: str
    layers: tuple[LayerDef, ...]
    region: str = "d2n2"
    scenario: str = "base"  # today's network; a map about a scheme names it (maps/6_scenario_hs2.toml)
    basemap: str = "osm"
    table: TableDef | None = None
    description: str = ""

    def with_options(self, **changes: Any) -> "MapSpec":
        """A copy with some top-level fields replaced (e.g. ``region="llep"``)."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})

    def layer(self, name: str) -> LayerDef:
        for ld in self.layers:
            if ld.name == name:
                return ld
        raise UnknownNameError("layer of this map", name, [ld.name for ld in self.layers])


# ------------------------------------------------------------------ column labels and units
@dataclass(frozen=True)
class ColumnInfo:
    label: str
    units: str = ""
    decimals: int = 0


#: Labels of layer attributes (score columns are labelled by lisgeo.measures.columns).
_LAYER_COLUMNS: dict[str, ColumnInfo] = {
    "name": ColumnInfo("Name"),
    "category": ColumnInfo("Category"),
    "theme": ColumnInfo("Strategy theme"),
    "source": ColumnInfo("Source"),
    "investment_gbp": ColumnInfo("Investment", "£"),
    "floorspace_sqm": ColumnInfo("Floorspace", "m²"),
    "area_km2": ColumnInfo("Area", "km²", 1),
    "area_in_region_km2": ColumnInfo("Area in region", "km²", 1),
    "daily_trains": ColumnInfo("Trains per weekday", "trains/day"),
    "imd_score": ColumnInfo("IMD 2025 score", "", 1),
    "coldspot": ColumnInfo("Broadband coldspot"),
    "road": ColumnInfo("Road"),
    "road_class": ColumnInfo("Road class"),
    "length_km": ColumnInfo("Length", "km", 1),
    "band": ColumnInfo("Travel time band"),
    "scenario_status": ColumnInfo("Scheme status"),
    "band_min": ColumnInfo("Within", "min"),
    "site": ColumnInfo("From"),
    "scheme": ColumnInfo("Scheme"),
    "iata": ColumnInfo("IATA code"),
    "crs": ColumnInfo("Station code"),
}

_COVERAGE = {"sfbb": "Superfast broadband (30 Mbit/s+) coverage", "ufbb": "Ultrafast broadband (300 Mbit/s+) coverage",
             "fttp": "Full-fibre coverage", "gigabit": "Gigabit-capable coverage",
             "below_uso": "Premises below the broadband USO (10 Mbit/s)"}


@lru_cache(maxsize=4096)
def column_info(column: str) -> ColumnInfo:
    """Label, units and decimals for a column: a score column of lisgeo's naming scheme
    (:func:`lisgeo.measures.columns.column`), a layer attribute, or any other (its name, capitalised)."""
    from ..measures.columns import column as score_column, is_score_column

    if column in _LAYER_COLUMNS:
        return _LAYER_COLUMNS[column]
    if is_score_column(column):
        c = score_column(column)
        return ColumnInfo(c.label, c.units, c.decimals)
    if column.endswith("_pct"):
        what = column[:-4].replace("_", " ")
        return ColumnInfo(_COVERAGE.get(column[:-4], what.capitalize()), "%", 1)
    return ColumnInfo(column.replace("_", " ").capitalize())


# ------------------------------------------------------------------ parsing
def _check_keys(d: Mapping[str, Any], cls, where: str, renamed: Mapping[str, str] = {}) -> None:
    valid = [f.name for f in fields(cls)] + list(renamed)
    for key in d:
        if key not in valid:
            raise UnknownNameError("map-file key", key, sorted(valid), f"Fix the spelling in {where} of the map file.")


def _as_tuple(value: Any, key: str, where: str, item=str) -> tuple:
    if isinstance(value, str) or not isinstance(value, (list, tuple)):
        raise ConfigError(f"{where}: {key} must be a list, e.g. {key} = [\"a\", \"b\"]; got {value!r}")
    try:
        return tuple(item(v) for v in value)
    except (TypeError, ValueError):
        raise ConfigError(f"{where}: {key} holds a value that is not a {item.__name__}: {value!r}") from None


_TYPES = {
    "name": str, "source": str, "layer": str, "site": str, "mode": str, "base": str, "scenario": str, "status_of": str,
    "style": str, "column": str, "label": str, "units": str, "scheme": str, "palette": str, "color": str,
}


def _as_color(value: Any, key: str, where: str) -> str:
    """A colour of a map file as #rrggbb (any matplotlib/CSS colour name or hex is accepted)."""
    if not isinstance(value, str) or not mcolors.is_color_like(value):
        raise ConfigError(f"{where}: {key} must be a colour such as \"#1f78b4\" or \"navy\", got {value!r}")
    return mcolors.to_hex(value)


def _as_breaks(value: Any, where: str) -> tuple[float, ...]:
    """Class edges: 2 to 10 finite numbers, strictly increasing."""
    example = "breaks = [0, 15, 30, 45, 60]"
    if isinstance(value, str) or not isinstance(value, (list, tuple)):
        raise ConfigError(f"{where}: breaks must be a list of class edges, e.g. {example}; got {value!r}")
    if any(isinstance(v, bool) or not isinstance(v, (int, float)) for v in value):
        raise ConfigError(f"{where}: breaks must hold numbers only (the column's units), e.g. {example}; got {list(value)!r}")
    out = tuple(float(v) for v in value)
    if any(v != v or v in (float("inf"), float("-inf")) for v in out):
        raise ConfigError(f"{where}: breaks must be finite numbers, got {list(value)!r}")
    if not 2 <= len(out) <= 10:
        raise ConfigError(f"{where}: breaks needs 2 to 10 edges (1 to 9 classes), e.g. {example}; got {len(out)}")
    if any(b <= a for a, b in zip(out, out[1:])):
        raise ConfigError(f"{where}: breaks must increase from edge to edge, e.g. {example}; got {list(value)!r}")
    return out


def _as_dash(value: Any, where: str) -> str:
    """A dash pattern: 2 to 6 positive numbers (pixels), e.g. \"6 4\"; returned space-separated."""
    parts = str(value).replace(",", " ").split() if isinstance(value, str) else None
    try:
        nums = [float(x) for x in parts] if parts else []
    except ValueError:
        nums = []
    if not 2 <= len(nums) <= 6 or any(not (0 < n <= 100) for n in nums):
        raise ConfigError(f"{where}: dash must be dash and gap lengths in pixels, e.g. dash = \"6 4\"; got {value!r}")
    return " ".join(f"{n:g}" for n in nums)


def _parse_layer(d: Mapping[str, Any], i: int, source: str = "") -> LayerDef:
    where = f"{source}layer {i + 1} ({d.get('name', '?') if isinstance(d, Mapping) else '?'})"
    if not isinstance(d, Mapping):
        raise ConfigError(f"{where}: each [[layers]] entry must be a table")
    _check_keys(d, LayerDef, where)
    if "name" not in d:
        raise ConfigError(f"{where}: every layer needs a name = \"...\"")
    kw: dict[str, Any] = {}
    for key, value in d.items():
        if key == "color":
            kw[key] = _as_color(value, key, where)
        elif key == "dash":
            kw[key] = _as_dash(value, where)
        elif key in _TYPES:
            if not isinstance(value, str):
                raise ConfigError(f"{where}: {key} must be text, got {value!r}")
            kw[key] = value
        elif key == "breaks":
            kw[key] = _as_breaks(value, where)
        elif key in ("tooltip", "popup", "category_order"):
            kw[key] = _as_tuple(value, key, where)
        elif key == "bands":
            kw[key] = _as_tuple(value, key, where, int)
        elif key in ("options", "colors", "where", "category_labels"):
            if not isinstance(value, Mapping):
                raise ConfigError(f"{where}: {key} must be a table, e.g. {key} = {{ a = 1 }}")
            kw[key] = dict(value)
            if key == "colors":
                kw[key] = {str(k): _as_color(v, f"colors.{k}", where) for k, v in value.items()}
            elif key == "category_labels":
                bad = {k: v for k, v in value.items() if not isinstance(v, str)}
                if bad:
                    raise ConfigError(f"{where}: category_labels values must be text, got {bad!r}")
        elif key in ("show", "reverse", "legend", "optional"):
            if not isinstance(value, bool):
                raise ConfigError(f"{where}: {key} must be true or false, got {value!r}")
            kw[key] = value
        elif key in ("k", "decimals"):
            if not isinstance(value, int) or isinstance(value, bool):
                raise ConfigError(f"{where}: {key} must be a whole number, got {value!r}")
            kw[key] = value
        elif key in ("weight", "radius", "fill_opacity", "simplify_m"):
            if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
                raise ConfigError(f"{where}: {key} must be a non-negative number, got {value!r}")
            kw[key] = float(value)
    ld = LayerDef(**kw)
    if ld.source not in SOURCES:
        raise UnknownNameError("layer source", ld.source, SOURCES, f"Fix {where}.")
    if ld.source == "layer" and not ld.layer:
        raise ConfigError(f"{where}: source = \"layer\" needs layer = \"<registered layer name>\" (see `lisgeo layers list`)")
    if ld.source == "isochrones" and not ld.site:
        raise ConfigError(f"{where}: source = \"isochrones\" needs site = \"<site_id>\", e.g. \"hs2_toton\"")
    if ld.style not in STYLES:
        raise UnknownNameError("layer style", ld.style, STYLES, f"Fix {where}.")
    if ld.scheme not in SCHEMES:
        raise UnknownNameError("classification scheme", ld.scheme, SCHEMES, f"Fix {where}.")
    if not 2 <= ld.k <= 9:
        raise ConfigError(f"{where}: k = {ld.k} classes; use 2 to 9 classes (a reader cannot tell more shades apart)")
    if ld.breaks:
        if ld.column is None or ld.scheme == "categorical":
            raise ConfigError(f"{where}: breaks classify the numbers of column = \"...\"; a layer with "
                              + ("scheme = \"categorical\"" if ld.column else "no column") + " cannot use them")
        if "k" in d and d["k"] != len(ld.breaks) - 1:
            raise ConfigError(f"{where}: breaks = {list(ld.breaks)} make {len(ld.breaks) - 1} classes but k = {d['k']}; "
                              "drop k (the breaks set the classes)")
        if "scheme" in d:
            raise ConfigError(f"{where}: give either scheme = {d['scheme']!r} or breaks = [...], not both "
                              "(breaks fix the classes)")
    if not is_palette(ld.palette):
        raise UnknownNameError("palette", ld.palette, [*QUALITATIVE_PALETTES, *sorted(c for c in matplotlib.colormaps if not c.endswith("_r"))[:40]],
                               f"Fix {where}: use a colour-blind-safe palette such as YlGnBu, viridis, PuOr, BrBG or okabe_ito.")
    if ld.mode not in ("car", "pt"):
        raise UnknownNameError("mode", ld.mode, ("car", "pt"), f"Fix {where}.")
    if not 0 <= ld.fill_opacity <= 1:
        raise ConfigError(f"{where}: fill_opacity must be between 0 and 1, got {ld.fill_opacity}")
    if any(b <= 0 for b in ld.bands):
        raise ConfigError(f"{where}: bands must be positive minutes, got {list(ld.bands)}")
    return ld


def parse_spec(data: Mapping[str, Any], *, name: str = "map", path: str | Path | None = None) -> MapSpec:
    """Validate a map definition (the parsed TOML) and return a :class:`MapSpec`.

    ``path`` (the file it came from) starts every error message, so a planner knows which file to fix.
    """
    where = f"map file {str(path)!r}" if path is not None else f"map {name!r}"
    _check_keys(data, MapSpec, where)
    for key in ("title", "subtitle"):
        if not isinstance(data.get(key), str) or not data[key].strip():
            raise ConfigError(f"{where}: {key} = \"...\" is required (a short plain {key})")
    raw_layers = data.get("layers")
    if not isinstance(raw_layers, list) or not raw_layers:
        raise ConfigError(f"{where}: declare at least one [[layers]] table")
    layers = tuple(_parse_layer(d, i, f"{where}: ") for i, d in enumerate(raw_layers))
    names = [ld.name for ld in layers]
    dup = {n for n in names if names.count(n) > 1}
    if dup:
        raise ConfigError(f"{where}: layer names must be unique; {sorted(dup)} repeat")
    table = None
    if "table" in data:
        t = data["table"]
        if not isinstance(t, Mapping):
            raise ConfigError(f"{where}: [table] must be a table")
        _check_keys(t, TableDef, f"{where} [table]")
        if t.get("layer") not in names:
            raise UnknownNameError("table layer", t.get("layer"), names, "[table] layer must name one of the map's layers.")
        stats = dict(t.get("stats", {}))
        for col, st in stats.items():
            if st not in STATS:
                raise UnknownNameError(f"statistic for {col}", st, STATS)
        for key in ("by", "weight", "caption"):
            if key in t and not isinstance(t[key], str):
                raise ConfigError(f"{where} [table]: {key} must be text, got {t[key]!r}")
        counts = _as_tuple(t.get("counts", []), "counts", where)
        for c in counts:
            if c not in names:
                raise UnknownNameError("counted layer", c, names)
        also = t.get("also", {})
        if not isinstance(also, Mapping):
            raise ConfigError(f"{where} [table]: also must be a table of layers, e.g. [table.also.my_layer] with "
                              "column = \"statistic\" lines")
        for lname, more in also.items():
            if lname not in names:
                raise UnknownNameError("layer of [table.also]", lname, names, "Name a layer of the map.")
            if not isinstance(more, Mapping) or not more:
                raise ConfigError(f"{where} [table.also.{lname}] must list column = \"statistic\" lines")
            for col, st in more.items():
                if st not in STATS:
                    raise UnknownNameError(f"statistic for {col} of [table.also.{lname}]", st, STATS)
        table = TableDef(layer=t["layer"], by=t.get("by", "LADNM"), stats=stats, weight=t.get("weight"),
                         counts=counts, caption=t.get("caption"), also={k: dict(v) for k, v in also.items()})
    out = dict(name=str(data.get("name", name)), title=data["title"].strip(), subtitle=data["subtitle"].strip(),
               layers=layers, table=table)
    for key in ("region", "scenario", "basemap", "description"):
        if key in data:
            if not isinstance(data[key], str):
                raise ConfigError(f"{where}: {key} must be text, e.g. {key} = \"...\"")
            out[key] = data[key]
    spec = MapSpec(**out)
    if spec.basemap not in BASEMAPS:
        raise UnknownNameError("basemap", spec.basemap, BASEMAPS)
    return spec


def find_spec(name: str | Path) -> Path:
    """The file of a map definition: ``name`` itself when it is a file, else a bare name (``2_hs2_connectivity``,
    with or without ``.toml``) looked up in the planner's ``LISGEO_MAPS_DIR``, then in the packaged maps.
    An unknown name is an error that lists the valid ones."""
    path = Path(name)
    if path.is_file():
        return path
    folders = list(dict.fromkeys([maps_dir(), default_dir("maps")]))
    if path.name == str(name) and path.name not in ("", ".", ".."):  # a bare name, not a path
        stem = path.name[:-5] if path.name.lower().endswith(".toml") else path.name
        for folder in folders:
            if (folder / f"{stem}.toml").is_file():
                return folder / f"{stem}.toml"
    valid = sorted({f.stem for folder in folders if folder.is_dir() for f in folder.glob("*.toml")})
    where = ", ".join(map(str, folders))
    if path.name != str(name):
        raise DataNotFoundError(f"map definition file {str(name)!r} not found; give the path of a .toml file or the name "
                                f"of a map definition: {', '.join(valid)} (in {where})")
    raise UnknownNameError("map definition", str(name), valid, f"Give one of these names or the path of a .toml file (looked in {where}).")


def read_spec(path: str | Path) -> MapSpec:
    """Read and validate a map definition: a TOML file, or the name of one in ``LISGEO_MAPS_DIR`` or the
    packaged maps (:func:`find_spec`)."""
    path = find_spec(path)
    data = read_toml(path, what="map definition")  # UTF-8 (with or without BOM), else one clear error
    return parse_spec(data, name=path.stem, path=path)


def list_specs(folder: str | Path | None = None) -> list[MapSpec]:
    """Every map definition in ``folder`` (default: the repository's ``maps/``), by file name."""
    folder = Path(folder) if folder is not None else DEFAULT_MAPS_DIR
    files = sorted(folder.glob("*.toml"))
    if not files:
        raise DataNotFoundError(f"no map definitions (*.toml) in {folder}; pass the folder that holds them")
    return [read_spec(f) for f in files]
