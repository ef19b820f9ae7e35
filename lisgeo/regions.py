"""Regions: named sets of local authority district (LAD) GSS codes, for any place in England.

A region is a set of today's English districts (the 296 of 2025; every one has its LSOA and MSOA
2021 boundaries in the catalog). :func:`get_region` takes

* the built-in ``d2n2`` (17 districts), ``llep`` (Leicester and Leicestershire, 8) and ``d2n2_llep``;
* district codes or names (``E06000052``, ``Cornwall``);
* a **county** (upper-tier county council: ``Lincolnshire``), a **combined authority** (May 2025:
  ``West Midlands Combined Authority``, ``WMCA``), an **LSIP area** (the 38 Local Skills Improvement
  Plan areas), a **former LEP** (May 2021: ``Greater Lincolnshire``, ``D2N2``), a **region (ITL1)**
  (``East Midlands``), each by name or by its code (``E10000019``, ``E47000007``, ``E69000012``,
  ``E37000017``, ``E12000004``, ``TLF``), or ``england``;
* a ``kind:`` prefix to pick among things of the same name: ``district:``, ``county:``, ``ca:``,
  ``lsip:``, ``lep:``, ``itl1:`` (or ``region:``);
* any comma-separated mix of these (``Derby, Nottingham``; ``lep:D2N2,county:Leicestershire``).

Where the districts come from (all catalogued, :mod:`lisgeo.catalog`): districts, counties and
ITL1 regions from the ONS lookup ``la_all_codes.csv`` (dataset ``lad_lookup``); combined
authorities from the May 2025 lookup (``ca_lookup``); LSIP areas from the DfE lookup
(``lsip_lookup``); former LEPs from their May 2021 polygons (``lep2021_boundaries``): a district
belongs to a LEP when more than half of its area (May 2024 boundaries, ``lad2024_boundaries``)
lies inside the LEP's polygon. In May 2021 three LEPs still overlapped, so Cannock Chase, East
Staffordshire, Lichfield and Tamworth are in both Greater Birmingham and Solihull and
Stoke-on-Trent and Staffordshire, and Bromsgrove, Redditch and Wyre Forest in both Greater
Birmingham and Solihull and Worcestershire; every other district is in exactly one LEP. The
polygons give D2N2 exactly its 17 districts and Leicester and Leicestershire its 8 (tested).

**Names are matched forgivingly**: case, punctuation, "&"/"and", a leading "the", a trailing
", City of" and kind words ("LEP", "Combined Authority", "CA", "County Council", "LSIP", "region")
do not matter, and common abbreviations work (initials with their kind: ``WMCA``, ``GMCA``,
``SYMCA``, ``EMCCA``, ``LLEP``, ``GLLEP``, ``SEMLEP``; ``BCP``, ``Hull``). A name that matches
nothing is refused with the nearest names (:class:`UnknownRegionError`: "unknown region
'Greater Lincolshire'; did you mean 'Greater Lincolnshire' (former LEP, 10 districts)?"), before
any work. A name shared by things with other districts (``Lancashire`` the county, 12 districts,
and the former LEP, LSIP area and combined county authority, 14) takes the first of district,
county, region (ITL1), former LEP, LSIP area, combined authority, and says so once (a warning on
the ``lisgeo.regions`` log) with the prefix that picks another (``lep:Lancashire``). A combined
authority's name is its full name ("West Midlands Combined Authority"): "West Midlands" alone is
the ITL1 region.

**Districts merged or recoded since 2021** (Cumbria, North Yorkshire and Somerset in 2023;
Barnsley, Sheffield, Gateshead and four Hertfordshire and Suffolk districts recoded, and the
2019-2021 mergers): a former code or name stands for the district that took it over, whole (the
small-area files are by today's districts), with a warning saying so. Data keyed on small areas
join on the LSOA codes, which did not change; data keyed on 2021 districts (Ofcom broadband,
Census 2021 commuting) are carried to today's districts through this lookup (:func:`successor`).
"""

from __future__ import annotations

import csv
import difflib
import logging
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable

from .errors import LisgeoError, ParameterError, UnknownNameError

__all__ = ["Region", "Area", "REGIONS", "LEPS", "DISTRICTS", "KINDS", "UnknownRegionError", "get_region",
           "list_regions", "list_areas", "lep_of", "leps_of", "lep_codes", "district_outlines", "district_name", "english_districts", "successor",
           "district_table"]

log = logging.getLogger(__name__)

#: The 25 districts of the built-in regions: district code -> (district name, LEP key). Everything
#: these districts need is in the data folder, 2011 small-area boundaries included (which exist for
#: them only); :func:`english_districts` gives every district of England.
DISTRICTS: dict[str, tuple[str, str]] = {
    "E06000015": ("Derby", "d2n2"),
    "E06000018": ("Nottingham", "d2n2"),
    "E07000032": ("Amber Valley", "d2n2"),
    "E07000033": ("Bolsover", "d2n2"),
    "E07000034": ("Chesterfield", "d2n2"),
    "E07000035": ("Derbyshire Dales", "d2n2"),
    "E07000036": ("Erewash", "d2n2"),
    "E07000037": ("High Peak", "d2n2"),
    "E07000038": ("North East Derbyshire", "d2n2"),
    "E07000039": ("South Derbyshire", "d2n2"),
    "E07000170": ("Ashfield", "d2n2"),
    "E07000171": ("Bassetlaw", "d2n2"),
    "E07000172": ("Broxtowe", "d2n2"),
    "E07000173": ("Gedling", "d2n2"),
    "E07000174": ("Mansfield", "d2n2"),
    "E07000175": ("Newark and Sherwood", "d2n2"),
    "E07000176": ("Rushcliffe", "d2n2"),
    "E06000016": ("Leicester", "llep"),
    "E07000129": ("Blaby", "llep"),
    "E07000130": ("Charnwood", "llep"),
    "E07000131": ("Harborough", "llep"),
    "E07000132": ("Hinckley and Bosworth", "llep"),
    "E07000133": ("Melton", "llep"),
    "E07000134": ("North West Leicestershire", "llep"),
    "E07000135": ("Oadby and Wigston", "llep"),
}

#: LEP key -> (LEP name, LEP GSS code, May 2021), for the built-in regions.
LEPS: dict[str, tuple[str, str]] = {
    "d2n2": ("D2N2", "E37000045"),
    "llep": ("Leicester and Leicestershire", "E37000021"),
}

#: The kinds of named region, as the ``kind:`` prefix spells them -> how they are described.
KINDS: dict[str, str] = {
    "district": "district",
    "county": "county",
    "itl1": "region (ITL1)",
    "lep": "former LEP",
    "lsip": "LSIP area",
    "ca": "combined authority",
}
#: Which kind a name shared by several kinds (with different districts) means: the first here.
_PRIORITY = ("district", "county", "itl1", "lep", "lsip", "ca")
_PREFIXES = {"district": "district", "lad": "district", "county": "county", "ca": "ca", "cauth": "ca",
             "combined": "ca", "lsip": "lsip", "lep": "lep", "itl1": "itl1", "itl": "itl1", "region": "itl1",
             "rgn": "itl1"}

_LAD_RE = re.compile(r"^[EWSN]\d{8}$")
_AREA_CODE_RE = re.compile(r"^(E10|E12|E37|E47|E69)\d{6}$")
#: ITL1 codes of the English regions (RGN code -> ITL1 code).
_ITL1 = {"E12000001": "TLC", "E12000002": "TLD", "E12000003": "TLE", "E12000004": "TLF", "E12000005": "TLG",
         "E12000006": "TLH", "E12000007": "TLI", "E12000008": "TLJ", "E12000009": "TLK"}
#: Combined authorities that are combined *county* authorities (their full names).
_CCA = {"East Midlands", "Greater Lincolnshire", "Devon and Torbay", "Lancashire"}
#: Names people use that neither the lookups nor the initials give: alias -> (kind, code).
_ALIASES: dict[str, tuple[str, str]] = {
    "d2n2": ("lep", "E37000045"),
    "hull": ("district", "E06000010"),
    "durham": ("district", "E06000047"),
    "bcp": ("district", "E06000058"),
    "gla": ("itl1", "E12000007"),
    "greater london": ("itl1", "E12000007"),
    "greater london authority": ("itl1", "E12000007"),
    "yorkshire and humber": ("itl1", "E12000003"),
    "yorkshire": ("itl1", "E12000003"),
    "east": ("itl1", "E12000006"),
    "eastern": ("itl1", "E12000006"),
    "east anglia": ("lep", "E37000040"),
    "symca": ("ca", "E47000002"),
    "sheffield city region": ("lep", "E37000038"),
}
#: Kind words at the end of a name: they are dropped for matching and say which kind is meant.
_SUFFIXES: tuple[tuple[str, str], ...] = (
    ("mayoral combined county authority", "ca"), ("combined county authority", "ca"),
    ("mayoral combined authority", "ca"), ("combined authority", "ca"), ("cca", "ca"), ("mca", "ca"), ("ca", "ca"),
    ("local enterprise partnership", "lep"), ("enterprise partnership", "lep"), ("lep", "lep"),
    ("local skills improvement plan area", "lsip"), ("local skills improvement plan", "lsip"),
    ("lsip area", "lsip"), ("lsip", "lsip"),
    ("county council", "county"), ("cc", "county"),
    ("metropolitan borough council", "district"), ("borough council", "district"), ("district council", "district"),
    ("city council", "district"), ("council", "district"),
    ("itl1 region", "itl1"), ("region", "itl1"),
)
_SMALL_WORDS = {"and", "of", "the", "on", "upon", "in", "with", "le", "next"}


# ------------------------------------------------------------------------------------ regions
@dataclass(frozen=True)
class Region:
    """A region: a name and a sorted tuple of district codes.

    ``kind`` says what it is ("builtin", "district", "county", "itl1", "lep", "lsip", "ca",
    "england", "mix" for a comma-separated mix, "custom" for a list of codes), ``code`` its GSS code
    where it has one, ``title`` its name for people (``label``)."""

    name: str
    lad_codes: tuple[str, ...]
    kind: str = "custom"
    code: str = ""
    title: str = ""

    def __contains__(self, code: object) -> bool:
        return code in self.lad_codes

    def __len__(self) -> int:
        return len(self.lad_codes)

    @property
    def leps(self) -> tuple[str, ...]:
        """LEP keys that the region's districts belong to (the 25 built-in districts only)."""
        return tuple(sorted({DISTRICTS[c][1] for c in self.lad_codes if c in DISTRICTS}))

    @property
    def label(self) -> str:
        """A human-readable name for titles."""
        if self.title:
            return self.title
        if self.name in LEPS:
            return LEPS[self.name][0]
        if self.name == "d2n2_llep":
            return "D2N2 and Leicester & Leicestershire"
        return self.name


REGIONS: dict[str, Region] = {
    "d2n2": Region("d2n2", tuple(sorted(c for c, (_, l) in DISTRICTS.items() if l == "d2n2")), "builtin"),
    "llep": Region("llep", tuple(sorted(c for c, (_, l) in DISTRICTS.items() if l == "llep")), "builtin"),
    "d2n2_llep": Region("d2n2_llep", tuple(sorted(DISTRICTS)), "builtin"),
}


@dataclass(frozen=True)
class Area:
    """A named set of districts from the lookups (a district, county, ITL1 region, former LEP, LSIP
    area or combined authority)."""

    kind: str
    code: str
    name: str
    lad_codes: tuple[str, ...]

    @property
    def description(self) -> str:
        """``'Greater Lincolnshire' (former LEP, 10 districts)``."""
        if self.kind == "district":
            return f"{self.name!r} (district {self.code})"
        n = len(self.lad_codes)
        return f"{self.name!r} ({KINDS[self.kind]}, {n} district{'s' if n != 1 else ''})"

    @property
    def prefixed(self) -> str:
        """The ``kind:name`` spelling that picks this one whatever else shares its name."""
        return f"{self.kind}:{self.name}"

    def region(self) -> Region:
        """The region of this area (the former LEPs D2N2 and Leicester and Leicestershire are the
        built-in ``d2n2`` and ``llep``: the same districts)."""
        if self.kind == "lep":
            for reg in REGIONS.values():
                if reg.lad_codes == self.lad_codes:
                    return reg
        return Region(f"{self.kind}:{self.code}", self.lad_codes, self.kind, self.code, self.name)


class UnknownRegionError(UnknownNameError):
    """A region name or code that matches nothing; the message gives the nearest names."""

    def __init__(self, message: str, *, name: object = "", suggestions: Iterable[str] = ()):
        LisgeoError.__init__(self, message)
        self.kind, self.name, self.valid = "region", name, list(suggestions)


# ------------------------------------------------------------------------------------ the lookups
def _catalog_path(dataset: str):
    from .catalog import resolve_dataset

    return resolve_dataset(dataset)[0]


@dataclass(frozen=True)
class _Districts:
    names: dict[str, str]                    # today's English district code -> name
    utla: dict[str, tuple[str, str]]         # -> (upper-tier code, name)
    rgn: dict[str, tuple[str, str]]          # -> (region code, name)
    former: dict[str, tuple[str, str]]       # former code -> (its name, today's code)


@lru_cache(maxsize=1)
def _districts() -> _Districts:
    names, utla, rgn, former = {}, {}, {}, {}
    with open(_catalog_path("lad_lookup"), encoding="utf-8-sig", newline="") as fh:
        for r in csv.DictReader(fh):
            if r["CTRYNM"] != "England":
                continue
            if r["Current"].strip().upper() == "TRUE":
                names[r["LADCD"]] = r["LADNM"]
                utla[r["LADCD"]] = (r["UTLACD"], r["UTLANM"])
                rgn[r["LADCD"]] = (r["RGNCD"], r["RGNNM"])
            else:
                former[r["LADCD"]] = (r["LADNM"], r["LADCD_ACTIVE"])
    # a former code always leads to a district of today (chains followed)
    for old, (nm, new) in list(former.items()):
        seen = {old}
        while new in former and new not in seen:
            seen.add(new)
            new = former[new][1]
        former[old] = (nm, new)
    return _Districts(names, utla, rgn, former)


def english_districts() -> dict[str, str]:
    """Every district of England today (2025 codes; 296): code -> name."""
    return dict(_districts().names)


def district_name(code: str) -> str:
    """The name of a district of England (a built-in one without reading any file); "" if unknown."""
    if code in DISTRICTS:
        return DISTRICTS[code][0]
    d = _districts()
    return d.names.get(code) or d.former.get(code, ("", ""))[0]


def successor(code: str) -> str | None:
    """Today's code of a district code (itself if current; the district that took a merged or
    recoded one over); None if the code is not an English district of the lookup."""
    if code in DISTRICTS:
        return code
    d = _districts()
    if code in d.names:
        return code
    return d.former[code][1] if code in d.former else None


@lru_cache(maxsize=1)
def _ca_table() -> dict[str, tuple[str, tuple[str, ...]]]:
    """Combined authorities (May 2025): code -> (full name, district codes)."""
    groups: dict[str, tuple[str, list[str]]] = {}
    with open(_catalog_path("ca_lookup"), encoding="utf-8-sig", newline="") as fh:
        for r in csv.DictReader(fh):
            name = r["CAUTH25NM"].strip()
            groups.setdefault(r["CAUTH25CD"].strip(), (name, []))[1].append(r["LAD25CD"].strip())
    out = {}
    for code, (name, lads) in groups.items():
        full = f"{name} Combined County Authority" if name in _CCA else f"{name} Combined Authority"
        out[code] = (full, _today(lads, f"combined authority {name}"))
    return out


@lru_cache(maxsize=1)
def _lsip_table() -> dict[str, tuple[str, tuple[str, ...]]]:
    """LSIP areas (2023): code -> (name, district codes)."""
    import openpyxl

    wb = openpyxl.load_workbook(_catalog_path("lsip_lookup"), read_only=True, data_only=True)
    try:
        rows = list(wb.worksheets[0].iter_rows(values_only=True))
    finally:
        wb.close()
    head = [str(h).strip() if h is not None else "" for h in rows[0]]
    need = ["LAD23CD", "LSIP23CD", "LSIP23NM"]
    if any(h not in head for h in need):
        from .errors import DataFormatError

        raise DataFormatError(f"the LSIP lookup lacks column(s) {[h for h in need if h not in head]}; run `lisgeo data verify`")
    i_lad, i_cd, i_nm = (head.index(h) for h in need)
    groups: dict[str, tuple[str, list[str]]] = {}
    for r in rows[1:]:
        if not r or r[i_cd] is None:
            continue
        groups.setdefault(str(r[i_cd]).strip(), (" ".join(str(r[i_nm]).split()), []))[1].append(str(r[i_lad]).strip())
    return {code: (name, _today(lads, f"LSIP area {name}")) for code, (name, lads) in groups.items()}


@lru_cache(maxsize=1)
def _lep_names() -> dict[str, str]:
    """Former LEPs (May 2021): code -> name (D2N2 by its usual short name), read from the polygons'
    attributes only."""
    import json

    with open(_catalog_path("lep2021_boundaries"), encoding="utf-8") as fh:
        feats = json.load(fh)["features"]
    return {f["properties"]["LEP21CD"]: " ".join(str(f["properties"]["LEP21NM"]).split()) for f in feats}


#: Former LEPs known by another name than the polygons' (code -> name shown; the polygons' name
#: still matches).
_LEP_SHOWN = {"E37000045": "D2N2"}


#: A district is in a LEP when more than this share of its area lies inside the LEP's polygon.
LEP_AREA_SHARE = 0.5


@lru_cache(maxsize=1)
def _lep_table() -> dict[str, tuple[str, tuple[str, ...]]]:
    """Former LEPs (May 2021): code -> (name, district codes), each district in every LEP holding
    more than half its area (see the module docstring). About 0.3 s, once per process."""
    import geopandas as gpd
    import shapely

    leps = gpd.read_file(_catalog_path("lep2021_boundaries"), columns=["LEP21CD"]).to_crs("EPSG:27700")
    lep_f, lep_g = {"LEP21CD": leps["LEP21CD"].to_numpy()}, shapely.make_valid(leps.geometry.to_numpy())
    lads = district_outlines()
    lad_codes, lad_g = lads["LADCD"].to_numpy(), lads.geometry.to_numpy()
    tree = shapely.STRtree(lep_g)
    di, li = tree.query(lad_g, predicate="intersects")
    share = shapely.area(shapely.intersection(lad_g[di], lep_g[li])) / shapely.area(lad_g[di])
    names = _lep_names()
    members: dict[str, list[str]] = {}
    for d, l, s in zip(di, li, share):
        if s > LEP_AREA_SHARE:
            members.setdefault(str(lep_f["LEP21CD"][l]), []).append(str(lad_codes[d]))
    return {code: (_LEP_SHOWN.get(code, name), tuple(sorted(set(members.get(code, ()))))) for code, name in names.items()}


@lru_cache(maxsize=1)
def district_outlines():
    """Today's English districts, ultra generalised (ONS May 2024 BUC, about 500 m; dataset
    ``lad2024_boundaries``), in EPSG:27700, with ``LADCD`` (today's code): to find the districts
    near a place, or in a LEP's polygon; never to measure (the small-area files are for that)."""
    import geopandas as gpd
    import shapely

    gdf = gpd.read_file(_catalog_path("lad2024_boundaries"), columns=["LAD24CD"]).to_crs("EPSG:27700")
    gdf["LADCD"] = [successor(str(c)) for c in gdf["LAD24CD"]]
    gdf = gdf[gdf["LADCD"].notna()].reset_index(drop=True)
    gdf["geometry"] = shapely.make_valid(gdf.geometry.to_numpy())
    missing = sorted(set(_districts().names) - set(gdf["LADCD"]))
    if missing:
        from .errors import DataFormatError

        raise DataFormatError(f"the district boundaries (lad2024_boundaries) lack {missing[:3]}; run `lisgeo data verify`")
    return gdf[["LADCD", "geometry"]]


def _today(codes: Iterable[str], what: str) -> tuple[str, ...]:
    out = set()
    for c in codes:
        s = successor(c)
        if s is None:
            from .errors import DataFormatError

            raise DataFormatError(f"{what} names district {c!r}, which the district lookup (lad_lookup) does not know; "
                                  "run `lisgeo data verify`")
        out.add(s)
    return tuple(sorted(out))


@lru_cache(maxsize=1)
def _static_areas() -> tuple[Area, ...]:
    """Districts, counties, ITL1 regions, combined authorities and LSIP areas (not the LEPs, whose
    districts take an overlay of polygons: :func:`_lep_areas`)."""
    d = _districts()
    out = [Area("district", c, n, (c,)) for c, n in sorted(d.names.items())]
    counties: dict[str, tuple[str, list[str]]] = {}
    regions: dict[str, tuple[str, list[str]]] = {}
    for c in sorted(d.names):
        ucd, unm = d.utla[c]
        if ucd.startswith("E10"):  # county councils (the upper tier of two-tier areas)
            counties.setdefault(ucd, (unm, []))[1].append(c)
        rcd, rnm = d.rgn[c]
        regions.setdefault(rcd, (rnm, []))[1].append(c)
    out += [Area("county", k, n, tuple(v)) for k, (n, v) in sorted(counties.items())]
    out += [Area("itl1", k, n, tuple(v)) for k, (n, v) in sorted(regions.items())]
    out += [Area("ca", k, n, v) for k, (n, v) in sorted(_ca_table().items())]
    out += [Area("lsip", k, n, v) for k, (n, v) in sorted(_lsip_table().items())]
    return tuple(out)


@lru_cache(maxsize=1)
def _lep_areas() -> tuple[Area, ...]:
    return tuple(Area("lep", k, n, v) for k, (n, v) in sorted(_lep_table().items()))


def list_areas(kind: str | None = None) -> list[Area]:
    """Every named region of the lookups (or of one ``kind``: district, county, itl1, lep, lsip, ca)."""
    if kind is not None and kind not in KINDS:
        raise UnknownNameError("region kind", kind, list(KINDS))
    areas = list(_static_areas()) if kind != "lep" else []
    if kind in (None, "lep"):
        areas += list(_lep_areas())
    return [a for a in areas if kind is None or a.kind == kind]


def list_regions() -> list[Region]:
    """The built-in regions (``d2n2``, ``llep``, ``d2n2_llep``); :func:`list_areas` gives the others."""
    return list(REGIONS.values())


def leps_of(lad_code: str) -> tuple[str, ...]:
    """The former LEP(s) of a district (May 2021; two where the LEPs overlapped), by name."""
    if lad_code in DISTRICTS:
        return (LEPS[DISTRICTS[lad_code][1]][0],)
    code = successor(lad_code)
    if code is None:
        return ()
    return tuple(sorted(a.name for a in _lep_areas() if code in a.lad_codes))


def lep_codes() -> dict[str, str]:
    """Former LEPs (May 2021): name (as :func:`lep_of` gives it) -> GSS code."""
    return {**{_LEP_SHOWN.get(c, n): c for c, n in _lep_names().items()}, **{n: c for n, c in LEPS.values()}}


def lep_of(lad_code: str) -> str | None:
    """The former LEP of a district (May 2021) by name; two overlapping ones joined by "; "; None for
    a code that is not an English district. The 25 built-in districts need no file."""
    if lad_code in DISTRICTS:
        return LEPS[DISTRICTS[lad_code][1]][0]
    names = leps_of(lad_code)
    return "; ".join(names) if names else None


def district_table(region) -> list[dict[str, str]]:
    """One row per district of ``region``: code, name, county (upper tier), region (ITL1),
    combined authority, LSIP area and former LEP(s)."""
    reg = get_region(region)
    d = _districts()
    ca = {c: n for n, cs in _ca_table().values() for c in cs}
    lsip = {c: n for n, cs in _lsip_table().values() for c in cs}
    return [{"code": c, "name": district_name(c), "county": d.utla.get(c, ("", ""))[1], "region": d.rgn.get(c, ("", ""))[1],
             "combined_authority": ca.get(c, ""), "lsip": lsip.get(c, ""), "lep": lep_of(c) or ""}
            for c in reg.lad_codes]


# ------------------------------------------------------------------------------------ matching
def _norm(text: str) -> str:
    """Lower case, ASCII, "&" -> "and", punctuation -> spaces, a leading "the" and a trailing
    ", city of" / ", county of" dropped, spaces collapsed."""
    s = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode().lower()
    s = s.replace("&", " and ").replace("+", " and ")
    s = re.sub(r"['`]", "", s)
    s = re.sub(r"[^a-z0-9]+", " ", s).strip()
    s = re.sub(r"^the ", "", s)
    s = re.sub(r" (city|county) of$", "", s)
    return s


def _strip_kind(key: str) -> tuple[str, str | None]:
    """(the name without a trailing kind word, the kind it names or None)."""
    for suffix, kind in _SUFFIXES:
        if key.endswith(" " + suffix) and len(key) > len(suffix) + 1:
            return key[: -len(suffix) - 1].strip(), kind
    return key, None


def _initials(name: str) -> str:
    words = [w for w in _norm(name).split() if w not in _SMALL_WORDS]
    return "".join(w[0] if not w[0].isdigit() else w for w in words)


@dataclass
class _Index:
    exact: dict[str, list[Area]]   # normalised full names
    base: dict[str, list[Area]]    # names without a kind word, initials with their kind, aliases
    by_code: dict[str, Area]


def _add(d: dict[str, list[Area]], key: str, a: Area) -> None:
    if key and a not in d.setdefault(key, []):
        d[key].append(a)


def _build_index(areas: Iterable[Area]) -> _Index:
    exact: dict[str, list[Area]] = {}
    base: dict[str, list[Area]] = {}
    by_code: dict[str, Area] = {}
    for a in areas:
        by_code[f"{a.kind}:{a.code}"] = a
        if a.kind != "district":  # (a district's code alone is a list of district codes)
            by_code.setdefault(a.code, a)
        key = _norm(a.name)
        _add(exact, key, a)
        stripped, _ = _strip_kind(key)
        if stripped != key:
            _add(base, stripped, a)
        ini = _initials(stripped)
        if len(ini) >= 2 and a.kind in ("ca", "lep"):
            suffixes = {"ca": ("ca", "mca", "cca"), "lep": ("lep", "ep")}[a.kind]
            for sfx in suffixes:
                _add(base, ini + sfx, a)
        if a.kind == "itl1" and a.code in _ITL1:
            by_code[_ITL1[a.code]] = by_code[f"itl1:{_ITL1[a.code]}"] = a
    return _Index(exact, base, by_code)


@lru_cache(maxsize=2)
def _index(with_leps: bool) -> _Index:
    """The names of every area. Without ``with_leps`` the former LEPs are there by name and code only
    (their districts, an overlay of polygons, are worked out when a name turns out to be a LEP's)."""
    leps = list(_lep_areas()) if with_leps else [Area("lep", c, _LEP_SHOWN.get(c, n), ()) for c, n in sorted(_lep_names().items())]
    idx = _build_index(list(_static_areas()) + leps)
    for code, name in _lep_names().items():  # the polygons' own name of a LEP shown by another
        if code in _LEP_SHOWN:
            _add(idx.exact, _norm(name), idx.by_code[f"lep:{code}"])
    for alias, (kind, code) in _ALIASES.items():
        a = idx.by_code.get(f"{kind}:{code}")
        if a is not None:
            _add(idx.base, _norm(alias), a)
    return idx


def _full(areas: Iterable[Area]) -> list[Area]:
    """``areas`` with the former LEPs' districts filled in."""
    areas = list(areas)
    if not any(a.kind == "lep" and not a.lad_codes for a in areas):
        return areas
    by_code = _index(True).by_code
    return [by_code[f"{a.kind}:{a.code}"] if a.kind == "lep" else a for a in areas]


def _describe_set(areas: list[Area]) -> str:
    kinds = [KINDS[a.kind] for a in areas]
    n = len(areas[0].lad_codes)
    return f"{' and '.join(dict.fromkeys(kinds))} ({n} district{'s' if n != 1 else ''})"


def _pick(cands: list[Area], text: str, weaker: list[Area] = ()) -> Area:
    """The area a name means among ``cands`` (all matching it equally), by kind; a warning names
    the others whose districts differ and how to pick them."""
    cands = sorted(cands, key=lambda a: _PRIORITY.index(a.kind))
    chosen = cands[0]
    others: dict[tuple[str, ...], list[Area]] = {}
    for a in [*cands[1:], *weaker]:
        if a.lad_codes != chosen.lad_codes:
            others.setdefault(a.lad_codes, []).append(a)
    if others:
        alts = "; ".join(f"the {_describe_set(v)}: write " + " or ".join(f"'{a.prefixed}'" for a in v)
                         for v in others.values())
        _note(f"region {text!r} is taken as the {KINDS[chosen.kind]} {chosen.name} ({len(chosen.lad_codes)} "
              f"district{'s' if len(chosen.lad_codes) != 1 else ''}); the name also fits {alts}")
    return chosen


_NOTED: set[str] = set()


def _note(text: str) -> None:
    """Say ``text`` once per process (a warning on the ``lisgeo.regions`` log)."""
    if text not in _NOTED:
        _NOTED.add(text)
        log.warning(text)


def _suggest(key: str, idx: _Index, kind: str | None = None) -> list[Area]:
    """The areas whose names are nearest ``key`` (at most three; only those about as near as the
    nearest: "Greater Lincolshire" gets Greater Lincolnshire alone)."""
    keys = list(dict.fromkeys([*idx.exact, *idx.base]))
    scored = []
    for k in keys:
        m = difflib.SequenceMatcher(None, key, k)
        if m.real_quick_ratio() >= 0.6 and m.quick_ratio() >= 0.6:
            r = m.ratio()
            if len(key) >= 4 and k.startswith(key):  # the start of a name ("derbys")
                r = max(r, 0.9)
            if r >= 0.6:
                scored.append((r, k))
    if kind is not None:
        scored = [(r, k) for r, k in scored if any(a.kind == kind for a in (idx.exact.get(k) or idx.base.get(k) or []))]
    if not scored:
        return []
    scored.sort(key=lambda t: -t[0])
    out: list[Area] = []
    for r, k in scored:
        if r < scored[0][0] - 0.08 or len(out) == 3:
            break
        group = [a for a in (idx.exact.get(k) or idx.base.get(k) or []) if kind is None or a.kind == kind]
        if not group:
            continue
        best = sorted(group, key=lambda a: _PRIORITY.index(a.kind))[0]
        if best not in out:
            out.append(best)
    try:
        return _full(out)
    except LisgeoError:  # (the LEPs' districts cannot be worked out: name them without)
        return out


def _unknown(text: str, idx: _Index) -> UnknownRegionError:
    if re.fullmatch(r"[EWSNewsn]\d{3,}", text.strip()):
        return UnknownRegionError(f"unknown district code {text.strip()!r}; district codes look like E06000015 (a letter and "
                                  "eight digits): `lisgeo regions list --kind district` lists England's", name=text)
    head = text.split(":", 1)[0].strip().lower() if ":" in text else ""
    kind = _PREFIXES.get(head)
    key = _norm(text.split(":", 1)[1] if kind else text)
    if kind is None and difflib.SequenceMatcher(None, key, "england").ratio() >= 0.8:
        # ("Englnd": not Fenland, the nearest name in the index; england is a region of its own kind)
        return UnknownRegionError(f"unknown region {text!r}; did you mean 'england' (every district of England)?",
                                  name=text, suggestions=["england"])
    sugg = _suggest(key, idx, kind)
    if sugg:
        if len(sugg) == 1:
            hint = f"did you mean {sugg[0].description}?"
        else:
            hint = "did you mean " + ", ".join(a.description for a in sugg[:-1]) + f" or {sugg[-1].description}?"
    else:
        hint = ("give a district, county, combined authority, LSIP area, former LEP or region (ITL1) by name or code, "
                "`england`, or d2n2, llep, d2n2_llep (`lisgeo regions list` shows them)")
    return UnknownRegionError(f"unknown region {text!r}; {hint}", name=text, suggestions=[a.name for a in sugg])


def _find(text: str) -> Area | None:
    """The area one name or code (with an optional ``kind:`` prefix) means, or None."""
    raw = text.strip()
    kind = None
    if ":" in raw:
        head, rest = raw.split(":", 1)
        if head.strip().lower() in _PREFIXES:
            kind, raw = _PREFIXES[head.strip().lower()], rest.strip()
    code = raw.upper()
    if _AREA_CODE_RE.match(code) or code in _ITL1.values() or (kind and _LAD_RE.match(code)):
        by_code = _index(False).by_code
        a = by_code.get(f"{kind}:{code}" if kind else code) or by_code.get(code.lower())
        if a is None and kind == "district" and successor(code):
            if successor(code) != code:
                _say_former(code)
            a = by_code.get(f"district:{successor(code)}")
        return _full([a])[0] if a is not None and (kind is None or a.kind == kind) else None
    key = _norm(raw)
    if not key:
        return None
    idx = _index(False)

    def fits(group):
        return [a for a in group if kind is None or a.kind == kind]

    stripped, hint = _strip_kind(key)
    steps = [(fits(idx.exact.get(key, [])), fits(idx.base.get(key, [])))]
    if hint and kind in (None, hint):
        steps.append(([a for a in idx.exact.get(stripped, []) + idx.base.get(stripped, []) if a.kind == hint], []))
    for strong, weak in steps:
        if strong:
            return _pick(_full(strong), raw, _full(weak))
        if weak:
            return _pick(_full(weak), raw)
    former = _former_by_name().get(key)
    if former and kind in (None, "district"):
        old = next(c for c, (nm, new) in _districts().former.items() if _norm(nm) == key)
        _say_former(old)
        return idx.by_code.get(f"district:{former}")
    return None


@lru_cache(maxsize=1)
def _former_by_name() -> dict[str, str]:
    """Former districts' names -> the code of today's district that took them over (names that are
    also today's names are left to today's districts)."""
    d = _districts()
    today = {_norm(n) for n in d.names.values()}
    out = {}
    for old, (nm, new) in d.former.items():
        if _norm(nm) not in today:
            out[_norm(nm)] = new
    return out


def _say_former(old: str) -> None:
    d = _districts()
    nm, new = d.former[old]
    if nm == d.names.get(new):
        _note(f"district code {old} ({nm}) is {new} today (recoded); the region takes {new}")
    else:
        _note(f"district {old} ({nm}) is part of {d.names.get(new, new)} ({new}) today; the region takes the whole of "
              f"{d.names.get(new, new)} (the small-area files are by today's districts)")


def _codes_region(codes: list[str]) -> Region:
    bad = [c for c in codes if not _LAD_RE.match(c)]
    if bad:
        raise UnknownNameError(
            "district code", bad[0], sorted(DISTRICTS),
            "District codes look like E06000015 (nine characters); `lisgeo regions list --kind district` lists England's.",
        )
    out = []
    for c in codes:
        if c in DISTRICTS:
            out.append(c)
            continue
        s = successor(c)
        if s is None:
            if not c.startswith("E"):
                raise UnknownRegionError(f"district code {c!r} is not in England; lisgeo scores English districts "
                                         "(the deprivation, stop and small-area data are England's)", name=c)
            near = difflib.get_close_matches(c, list(_districts().names), n=3, cutoff=0.8)
            hint = ("did you mean " + " or ".join(f"{n} ({_districts().names[n]})" for n in near) + "?") if near else \
                "`lisgeo regions list --kind district` lists England's districts"
            raise UnknownRegionError(f"unknown district code {c!r}; {hint}", name=c, suggestions=near)
        if s != c:
            _say_former(c)
        out.append(s)
    return _make(sorted(set(out)), None)


def _make(codes: list[str], named: "list[Area] | None") -> Region:
    codes_t = tuple(sorted(set(codes)))
    if named and len(named) == 1:
        return named[0].region()
    for reg in REGIONS.values():
        if reg.lad_codes == codes_t:
            return reg
    if named:
        name = ",".join(f"{a.kind}:{a.code}" for a in named)
        return Region(name, codes_t, "mix", "", " + ".join(a.name for a in named))
    return Region(",".join(codes_t) if len(codes_t) <= 3 else f"custom{len(codes_t)}", codes_t)


@lru_cache(maxsize=256)
def _resolve(text: str) -> Region:
    key = text.strip().lower()
    if key in REGIONS:
        return REGIONS[key]
    if key in ("england", "all of england", "national"):
        codes = tuple(sorted(_districts().names))
        return Region("england", codes, "england", "E92000001", "England")
    parts = [p.strip() for p in text.split(",")]
    if any(parts) and all(_LAD_RE.match(p.upper()) and not _AREA_CODE_RE.match(p.upper()) for p in parts if p):
        return _codes_region([p.upper() for p in parts if p])
    if len([p for p in parts if p]) == 0:
        raise ParameterError("a region needs at least one district code or name, e.g. 'E06000015' or 'Cornwall'")
    whole = _find(text)
    if whole is not None:
        return _make(list(whole.lad_codes), [whole])
    # a comma-separated mix: the longest run of parts that names something, from the left
    found: list[Area] = []
    codes: list[str] = []
    i, n = 0, len(parts)
    while i < n:
        if not parts[i]:
            i += 1
            continue
        for j in range(min(n, i + 4), i, -1):
            piece = ",".join(parts[i:j])
            if j == i + 1 and _LAD_RE.match(piece.strip().upper()) and not _AREA_CODE_RE.match(piece.strip().upper()):
                codes += list(_codes_region([piece.strip().upper()]).lad_codes)
                a = _index(False).by_code.get(f"district:{successor(piece.strip().upper())}")
                if a is not None:
                    found.append(a)
                break
            a = _find(piece)
            if a is not None:
                found.append(a)
                codes += list(a.lad_codes)
                break
        else:
            raise _unknown(parts[i], _index(False))
        i = j
    return _make(codes, found)


def get_region(region: "str | Region | Iterable[str]") -> Region:
    """Resolve a region: a built-in name, a name or code of the lookups (see the module docstring),
    ``england``, a comma-separated mix, or an iterable of district codes.

    Unknown names raise :class:`UnknownRegionError` with the nearest names; malformed or unknown
    district codes raise :class:`~lisgeo.errors.UnknownNameError`. A former district code is taken
    as today's district (said once). Regions equal to a built-in one (the same districts) are the
    built-in one.
    """
    if isinstance(region, Region):
        return region
    if isinstance(region, str):
        return _resolve(region)
    codes = [str(c).strip().upper() for c in region]
    if not codes:
        raise ParameterError("a region needs at least one district code, e.g. 'E06000015'")
    return _codes_region(codes)
