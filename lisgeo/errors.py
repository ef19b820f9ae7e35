"""The lisgeo error family.

Every error is a ``ValueError`` (as in OSMnx), so callers can catch broadly, and every
message says what was wrong *and how to fix it*. The CLI prints the message on one line
and exits non-zero; it never shows a traceback for one of these.
"""

from __future__ import annotations

__all__ = [
    "LisgeoError",
    "RoadCutWarning",
    "DataNotFoundError",
    "HashMismatchError",
    "UnknownNameError",
    "CRSError",
    "GeometryError",
    "MissingColumnError",
    "EmptyResultError",
    "NetworkError",
    "GTFSError",
    "ConfigError",
    "ParameterError",
    "DataFormatError",
    "OutputError",
]


class LisgeoError(ValueError):
    """Base class: bad input that the user can fix."""


class DataNotFoundError(LisgeoError):
    """A catalogued file is neither in the data folder, nor in the cache, nor downloadable."""


class HashMismatchError(LisgeoError):
    """A file's sha256 differs from the one pinned in the catalog: it is refused."""


class UnknownNameError(LisgeoError):
    """An unknown region, layer, dataset, site, scenario or district code."""

    def __init__(self, kind: str, name: object, valid: "list[str] | tuple[str, ...]", hint: str = ""):
        self.kind, self.name, self.valid = kind, name, list(valid)
        shown = ", ".join(map(str, self.valid[:40])) + (" …" if len(self.valid) > 40 else "")
        plural = kind[:-1] + "ies" if kind.endswith("y") and kind[-2:-1] not in "aeiou" else kind + "s"
        msg = f"unknown {kind} {name!r}; valid {plural} are: {shown}"
        if hint:
            msg += f". {hint}"
        super().__init__(msg)


class CRSError(LisgeoError):
    """A layer has no CRS, or one that cannot be transformed to British National Grid."""


class GeometryError(LisgeoError):
    """Missing, empty, invalid or wrongly-typed geometries that could not be repaired."""


class MissingColumnError(LisgeoError):
    """A required column is absent."""


class EmptyResultError(LisgeoError):
    """A query (for example a layer restricted to a region) selected nothing."""


class NetworkError(LisgeoError):
    """A graph, scenario or speed assumption that cannot be used for routing."""


class GTFSError(LisgeoError):
    """A GTFS feed that cannot be used: a missing file or field, a bad time, an unknown id, no service.

    The message names the feed, the file inside it and the field, e.g.
    ``rail.zip: stop_times.txt: departure_time '25:xx:00' on line 12 is not HH:MM:SS``.
    """


class ConfigError(LisgeoError):
    """An authored or user file that cannot be used: assumptions, scenarios, index weights, map
    definitions, site tables (bad syntax, unknown keys, values out of range, missing sources)."""


class ParameterError(LisgeoError):
    """An argument whose value cannot be used (negative minutes, empty bands, a percentile of 120 ...)."""


class DataFormatError(LisgeoError):
    """A data file or table whose content is not what it should be (malformed codes, duplicate ids,
    a file of another format, values that break the data's own rules)."""


class CIFError(DataFormatError):
    """An ATOC CIF rail timetable that cannot be read: not a feed, a record of the wrong length, a
    malformed time, records out of order. The message names the file and the line, e.g.
    ``atoc.zip: example.mca: line 12: LI scheduled arrival '07x0 ' is not HHMM ...``.
    """


class OutputError(LisgeoError):
    """An output that cannot be written where it was asked for (a file where a folder is needed,
    an unknown extension, a locked file)."""


class RoadCutWarning(UserWarning):
    """Some zones of a region join its main road network nowhere (an island: the Isles of Scilly, the
    Isle of Wight in a region with the mainland): their car times beyond their own roads are missing
    and ``data_flags`` says why; the rest of the region scores as usual."""
