"""Regions: named sets of local authority district (LAD) GSS codes.

Built in: ``d2n2`` (17 districts), ``llep`` (Leicester and Leicestershire, 8 districts)
and their union ``d2n2_llep``. Any iterable of district codes (or a comma-separated
string of them) works as a region too. The LEP boundaries (May 2021) are exactly these
districts, and none of these codes changed between 2009 and 2025.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable

from .errors import ParameterError, UnknownNameError

__all__ = ["Region", "REGIONS", "LEPS", "DISTRICTS", "get_region", "list_regions", "lep_of"]

#: district code -> (district name, LEP key)
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

#: LEP key -> (LEP name, LEP GSS code, May 2021)
LEPS: dict[str, tuple[str, str]] = {
    "d2n2": ("D2N2", "E37000045"),
    "llep": ("Leicester and Leicestershire", "E37000021"),
}

_LAD_RE = re.compile(r"^[EWSN]\d{8}$")


@dataclass(frozen=True)
class Region:
    """A region: a name and a sorted tuple of district codes."""

    name: str
    lad_codes: tuple[str, ...]

    def __contains__(self, code: object) -> bool:
        return code in self.lad_codes

    def __len__(self) -> int:
        return len(self.lad_codes)

    @property
    def leps(self) -> tuple[str, ...]:
        """LEP keys that the region's districts belong to (known districts only)."""
        return tuple(sorted({DISTRICTS[c][1] for c in self.lad_codes if c in DISTRICTS}))

    @property
    def label(self) -> str:
        """A human-readable name for titles."""
        if self.name in LEPS:
            return LEPS[self.name][0]
        if self.name == "d2n2_llep":
            return "D2N2 and Leicester & Leicestershire"
        return self.name


REGIONS: dict[str, Region] = {
    "d2n2": Region("d2n2", tuple(sorted(c for c, (_, l) in DISTRICTS.items() if l == "d2n2"))),
    "llep": Region("llep", tuple(sorted(c for c, (_, l) in DISTRICTS.items() if l == "llep"))),
    "d2n2_llep": Region("d2n2_llep", tuple(sorted(DISTRICTS))),
}


def list_regions() -> list[Region]:
    return list(REGIONS.values())


def get_region(region: "str | Region | Iterable[str]") -> Region:
    """Resolve a region name, a comma-separated list of district codes, or an iterable of codes.

    Unknown names and malformed codes raise :class:`UnknownNameError` listing the valid
    choices. Codes outside the 25 built-in districts are accepted only if well formed;
    layers then tell whether they hold data for them.
    """
    if isinstance(region, Region):
        return region
    if isinstance(region, str):
        key = region.strip().lower()
        if key in REGIONS:
            return REGIONS[key]
        if "," in region or _LAD_RE.match(region.strip().upper()):
            codes = [c.strip().upper() for c in region.split(",") if c.strip()]
        else:
            raise UnknownNameError(
                "region", region, sorted(REGIONS),
                "Or give district codes, e.g. 'E06000015,E07000039'.",
            )
    else:
        codes = [str(c).strip().upper() for c in region]
    if not codes:
        raise ParameterError("a region needs at least one district code, e.g. 'E06000015'")
    bad = [c for c in codes if not _LAD_RE.match(c)]
    if bad:
        raise UnknownNameError(
            "district code", bad[0], sorted(DISTRICTS),
            "District codes look like E06000015 (nine characters).",
        )
    codes_t = tuple(sorted(set(codes)))
    for reg in REGIONS.values():
        if reg.lad_codes == codes_t:
            return reg
    return Region(",".join(codes_t) if len(codes_t) <= 3 else f"custom{len(codes_t)}", codes_t)


def lep_of(lad_code: str) -> str | None:
    """LEP name of a district (``None`` outside the built-in districts)."""
    entry = DISTRICTS.get(lad_code)
    return LEPS[entry[1]][0] if entry else None
