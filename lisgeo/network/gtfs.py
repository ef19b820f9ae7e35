"""GTFS timetables in: read, check and merge feeds into arrays ready for routing.

``read_gtfs(paths, date=..., start="07:00", end="09:00", max_time_min=120)`` reads one or more
GTFS feeds (``.zip`` files or folders of ``.txt`` files) with `gtfs-kit`_, checks them once, and
returns a :class:`TransitFeed`: a small frozen dataclass of numpy arrays (stops with British
National Grid x/y, routes, trips grouped into stop patterns, stop times in seconds since midnight
of the service day) that :mod:`lisgeo.network.transit` routes on.

What is kept
    The trips that run on the service ``date`` (``calendar.txt`` weekday flags and date range,
    plus and minus ``calendar_dates.txt`` exceptions: gtfs-kit's ``get_active_services``), and of
    those, the stop times a departure in ``[start, end]`` can use within ``max_time_min``: stop
    times departing at or after ``start`` and arriving by ``end + max_time_min``. GTFS times
    past 24:00 (a trip that runs after midnight) are read as seconds > 86,400 on the service day;
    trips of the *previous* service day whose times pass 24:00 are kept too, shifted by -24 h
    (``TransitFeed.trip_day == -1``), so a query at 00:30 sees the 24:40 bus of the night before.
    A trip needs two or more kept stop times to be kept.

Several feeds
    Feeds are merged into one timetable. Where two feeds use the same stop, route, trip or
    service id for different things, every id of that kind is prefixed by its feed's name
    (``"rail:CDF"``); ids that do not collide are left as published. Stops of different feeds
    at the same place stay separate stops; the router's walking transfers join them.

Checks (once, at entry; always :class:`~lisgeo.errors.GTFSError`, one line naming the feed, the
file inside it and the field, with a line number or id, and how to fix it)
    a path that is not a zip or folder of GTFS files; a missing required file (``stops.txt``,
    ``routes.txt``, ``trips.txt``, ``stop_times.txt``, and ``calendar.txt`` or
    ``calendar_dates.txt``) or column; an unreadable CSV or a non-numeric value in a numeric
    field; empty or duplicate ids; malformed times (``"8:3"``, ``"24:60:00"``, ``"abc"``) and
    times beyond 48:00:00; stop times naming unknown trips or stops; trips naming unknown routes
    or services; stops used by stop times without coordinates, with coordinates that are not
    longitude/latitude, or outside Great Britain; departure before arrival at a stop or times
    going backwards along a trip; bad calendar dates or flags; and a service day on which the
    feed runs nothing (the message gives the dates the feed covers and the nearest date it runs).

Lenient where GTFS allows: an intermediate stop time with neither arrival nor departure time
(a non-timepoint) is interpolated linearly between the timed stops around it (evenly by stop
order, to the second; the count is in ``info["interpolated_times"]``); a stop time with only one
of the two times uses it for both. ``pickup_type``/``drop_off_type`` 1 (none) forbid boarding or
alighting there; 2 and 3 (phone, ask the driver) are treated as allowed. ``frequencies.txt`` is
expanded into trips by gtfs-kit (``expand_frequencies``); ``transfers.txt``, ``shapes.txt``,
fares and ``block_id`` (staying seated across trips) are not used.

.. _gtfs-kit: https://github.com/mrcagney/gtfs_kit
"""

from __future__ import annotations

import datetime as dt
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
import os
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from ..errors import GTFSError, ParameterError

__all__ = ["TransitFeed", "read_gtfs", "parse_clock", "parse_date", "format_clock", "REQUIRED_COLUMNS",
           "MAX_GTFS_HOURS"]

#: Times beyond this many hours after midnight of the service day are refused as absurd.
MAX_GTFS_HOURS = 48
#: The files routing needs and their required columns (calendar.txt or calendar_dates.txt, or both).
REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    "stops.txt": ("stop_id", "stop_lat", "stop_lon"),
    "routes.txt": ("route_id",),
    "trips.txt": ("route_id", "service_id", "trip_id"),
    "stop_times.txt": ("trip_id", "arrival_time", "departure_time", "stop_id", "stop_sequence"),
    "calendar.txt": ("service_id", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday",
                     "sunday", "start_date", "end_date"),
    "calendar_dates.txt": ("service_id", "date", "exception_type"),
    "frequencies.txt": ("trip_id", "start_time", "end_time", "headway_secs"),
}
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_TIME_RE = r"^\s*(?P<h>\d{1,3}):(?P<m>[0-5]\d):(?P<s>[0-5]\d)\s*$"
# Great Britain in longitude/latitude, generously (Scilly to Shetland, Northern Ireland's east coast included)
_GB_LON = (-8.7, 1.9)
_GB_LAT = (49.8, 60.95)
_DAY = 86400


# --------------------------------------------------------------------------------------------
# the result


@dataclass(frozen=True, eq=False)
class TransitFeed:
    """A service day's timetable as numpy arrays (see the module docstring).

    Stops ``0..n_stops-1``: ``stop_id``, ``stop_name``, ``stop_x``/``stop_y`` (EPSG:27700 metres),
    ``stop_feed`` (index into ``sources``). Routes: ``route_id``, ``route_type``. Trips, sorted by
    pattern then first departure: ``trip_id``, ``trip_route``, ``trip_pattern``, ``trip_day`` (0:
    the service day, -1: the day before, times already shifted). Stop times of trip ``t`` are
    ``trip_ptr[t]:trip_ptr[t+1]`` in stop order: ``st_stop``, ``st_arr``, ``st_dep`` (int32 seconds
    since midnight of the service day, may exceed 86,400), ``st_pickup``, ``st_dropoff`` (bool:
    boarding / alighting allowed). Patterns (trips with the same route and stop sequence):
    stops ``pattern_stops[pattern_ptr[p]:pattern_ptr[p+1]]``, route ``pattern_route[p]``.
    ``start_s``/``end_s``: the departure window read; ``horizon_s``: the last arrival kept
    (``end_s`` + the longest trip time allowed). ``info``: counts per feed and what was ignored.
    """

    sources: tuple[str, ...]
    date: dt.date
    start_s: int
    end_s: int
    horizon_s: int
    stop_id: np.ndarray
    stop_name: np.ndarray
    stop_x: np.ndarray
    stop_y: np.ndarray
    stop_feed: np.ndarray
    route_id: np.ndarray
    route_type: np.ndarray
    trip_id: np.ndarray
    trip_route: np.ndarray
    trip_pattern: np.ndarray
    trip_day: np.ndarray
    trip_ptr: np.ndarray
    st_stop: np.ndarray
    st_arr: np.ndarray
    st_dep: np.ndarray
    st_pickup: np.ndarray
    st_dropoff: np.ndarray
    pattern_ptr: np.ndarray
    pattern_stops: np.ndarray
    pattern_route: np.ndarray
    info: Mapping[str, Any]

    @property
    def n_stops(self) -> int:
        return len(self.stop_id)

    @property
    def n_trips(self) -> int:
        return len(self.trip_id)

    @property
    def n_stop_times(self) -> int:
        return len(self.st_stop)

    @property
    def n_patterns(self) -> int:
        return len(self.pattern_route)

    @property
    def st_trip(self) -> np.ndarray:
        """The trip of every stop time."""
        return np.repeat(np.arange(self.n_trips, dtype=np.int32), np.diff(self.trip_ptr))

    def stops_frame(self):
        """The stops as a GeoDataFrame in EPSG:27700 indexed by ``stop_id``."""
        import geopandas as gpd

        return gpd.GeoDataFrame(
            {"stop_name": self.stop_name, "feed": np.asarray(self.sources, dtype=object)[self.stop_feed]},
            geometry=gpd.points_from_xy(self.stop_x, self.stop_y),
            index=pd.Index(self.stop_id, name="stop_id"), crs="EPSG:27700",
        )

    def stop_times_frame(self) -> pd.DataFrame:
        """The kept stop times as a frame (trip_id, stop_id, arrival_s, departure_s, pickup, dropoff)."""
        tr = self.st_trip
        return pd.DataFrame({"trip_id": self.trip_id[tr], "stop_id": self.stop_id[self.st_stop],
                             "arrival_s": self.st_arr, "departure_s": self.st_dep,
                             "pickup": self.st_pickup, "dropoff": self.st_dropoff})

    def __repr__(self) -> str:
        return (f"TransitFeed({', '.join(self.sources)}; {self.date.isoformat()} departures "
                f"{format_clock(self.start_s)}-{format_clock(self.end_s)}, arrivals to {format_clock(self.horizon_s)}: "
                f"{self.n_stops} stops, {len(self.route_id)} routes, {self.n_patterns} patterns, "
                f"{self.n_trips} trips, {self.n_stop_times} stop times)")


# --------------------------------------------------------------------------------------------
# small parsers shared with the router


def parse_clock(value: "str | int | float | dt.time", *, name: str = "time") -> int:
    """Seconds since midnight from ``"HH:MM"``, ``"HH:MM:SS"`` (hours may exceed 23), a
    :class:`datetime.time` or a number of seconds. Raises a one-line error otherwise."""
    if isinstance(value, dt.time):
        return value.hour * 3600 + value.minute * 60 + value.second
    if isinstance(value, (int, np.integer, float, np.floating)) and not isinstance(value, bool):
        if not np.isfinite(value) or value < 0 or value > MAX_GTFS_HOURS * 3600:
            raise ParameterError(f"{name} {value!r} is not a number of seconds between 0 and {MAX_GTFS_HOURS * 3600}")
        return int(value)
    if isinstance(value, str):
        parts = value.strip().split(":")
        if 2 <= len(parts) <= 3 and all(p.isdigit() for p in parts) and all(len(p) == 2 for p in parts[1:]):
            h, m, s = (int(p) for p in (parts + ["0"])[:3])
            if m < 60 and s < 60 and h <= MAX_GTFS_HOURS:
                return h * 3600 + m * 60 + s
    raise ParameterError(f"{name} {value!r} is not a clock time; give 'HH:MM' or 'HH:MM:SS' such as '08:00'")


def format_clock(seconds: float) -> str:
    """``"HH:MM"`` (or ``"HH:MM:SS"`` when the seconds are not zero) of seconds since midnight."""
    s = int(round(seconds))
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    return f"{h:02d}:{m:02d}" + (f":{sec:02d}" if sec else "")


def parse_date(value: "str | dt.date | dt.datetime", *, name: str = "date") -> dt.date:
    """A :class:`datetime.date` from a date, a datetime, ``"2024-03-05"`` or ``"20240305"``."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        for fmt in ("%Y-%m-%d", "%Y%m%d"):
            try:
                return dt.datetime.strptime(value.strip(), fmt).date()
            except ValueError:
                pass
    raise ParameterError(f"{name} {value!r} is not a date; give 'YYYY-MM-DD' (e.g. '2024-03-05') or a datetime.date")


# --------------------------------------------------------------------------------------------
# reading one feed


def _members(p: Path) -> list[str]:
    if p.is_dir():
        return [q.name for q in p.iterdir() if q.is_file()]
    with zipfile.ZipFile(p) as zf:
        return [Path(n).name for n in zf.namelist() if not n.endswith("/")]


def _open(path: "str | os.PathLike") -> tuple[str, Path, Any]:
    """(label, path, gtfs_kit.Feed); GTFSError for anything that is not a readable GTFS feed."""
    import gtfs_kit as gk

    p = Path(path)
    label = p.name or str(p)
    if not p.exists():
        raise GTFSError(f"{label}: no such file or folder ({p}); give the path of a GTFS .zip or of a folder of GTFS .txt files")
    if p.is_file() and not zipfile.is_zipfile(p):
        raise GTFSError(f"{label}: is not a zip archive; a GTFS feed is a .zip (or a folder) of CSV .txt files such as "
                        "stops.txt and stop_times.txt")
    try:
        names = _members(p)
    except (zipfile.BadZipFile, OSError) as exc:
        raise GTFSError(f"{label}: cannot be opened as a zip archive ({exc}); download the feed again") from None
    tables = {n for n in names if n in REQUIRED_COLUMNS or n.removesuffix(".txt") in gk.constants.DTYPES}
    if not tables:
        shown = ", ".join(sorted(names)[:6]) or "nothing"
        raise GTFSError(f"{label}: holds none of the GTFS files (stops.txt, routes.txt, trips.txt, stop_times.txt, "
                        f"calendar.txt) but {shown}; is it a GTFS feed?")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            feed = gk.read_feed(p, dist_units="km")
    except Exception as exc:  # gtfs-kit / pandas errors become one line naming the file and field
        raise _diagnose(p, label, exc) from None
    return label, p, feed


def _raw_tables(p: Path):
    """Yield (file name, opener) of the GTFS tables in a zip or folder."""
    import gtfs_kit as gk

    if p.is_dir():
        for q in sorted(p.iterdir()):
            if q.suffix == ".txt" and q.stem in gk.constants.DTYPES:
                yield q.name, (lambda q=q: open(q, "rb"))
    else:
        zf = zipfile.ZipFile(p)
        for n in zf.namelist():
            if n.endswith(".txt") and Path(n).stem in gk.constants.DTYPES:
                yield Path(n).name, (lambda n=n: zf.open(n))


def _diagnose(p: Path, label: str, exc: Exception) -> GTFSError:
    """Find the file and field that gtfs-kit could not read."""
    import gtfs_kit as gk

    try:
        for fname, opener in _raw_tables(p):
            dtypes = gk.constants.DTYPES[fname[:-4]]
            try:
                with opener() as fh:
                    raw = pd.read_csv(fh, dtype=str, encoding="utf-8-sig", keep_default_na=False)
            except UnicodeDecodeError:
                return GTFSError(f"{label}: {fname}: is not UTF-8 text; save it as UTF-8 CSV")
            except Exception as e:  # noqa: BLE001 - a CSV the parser cannot read
                return GTFSError(f"{label}: {fname}: cannot be read as CSV ({str(e).strip().splitlines()[-1][:120]}); "
                                 "fix the quoting or the number of fields on that line")
            raw.columns = [c.strip() for c in raw.columns]
            for col, kind in dtypes.items():
                if col not in raw.columns or kind == "string":
                    continue
                v = raw[col].str.strip()
                given = v.ne("") & ~v.str.lower().isin(["nan", "null"])
                num = pd.to_numeric(v.where(given), errors="coerce")
                bad = given & num.isna()
                if kind.startswith("Int"):
                    bits = int(kind[3:])
                    bad |= given & num.notna() & ((num % 1 != 0) | (num.abs() >= 2 ** (bits - 1)))
                if bad.any():
                    i = int(np.flatnonzero(bad.to_numpy())[0])
                    what = "an integer" if kind.startswith("Int") else "a number"
                    if kind.startswith("Int") and pd.notna(num.iloc[i]) and num.iloc[i] % 1 == 0:
                        what = f"an integer below {2 ** (bits - 1)} (gtfs-kit reads {col} as {kind})"
                    return GTFSError(f"{label}: {fname}: {col} {raw[col].iloc[i]!r} on line {i + 2} is not {what}; "
                                     "correct it or leave the field empty")
    except zipfile.BadZipFile as e:
        return GTFSError(f"{label}: the zip archive is damaged ({e}); download the feed again")
    except Exception:  # noqa: BLE001 - fall through to the generic message
        pass
    return GTFSError(f"{label}: cannot be read as GTFS ({type(exc).__name__}: {str(exc)[:160]}); check that it is a "
                     "GTFS zip of UTF-8 CSV files")


def _line(df: pd.DataFrame, mask: "np.ndarray | pd.Series") -> int:
    """The file line number (header = line 1) of the first row where ``mask`` holds."""
    i = int(np.flatnonzero(np.asarray(mask, dtype=bool))[0])
    return int(df.index[i]) + 2


def _require(label: str, feed, name: str) -> pd.DataFrame | None:
    df = getattr(feed, name[:-4])
    if df is None:
        return None
    missing = [c for c in REQUIRED_COLUMNS[name] if c not in df.columns]
    if missing:
        raise GTFSError(f"{label}: {name}: missing required column(s) {', '.join(missing)}; it has "
                        f"{', '.join(map(str, df.columns))}. Add the column(s) (GTFS reference: gtfs.org/schedule/reference)")
    return df


def _ids(label: str, df: pd.DataFrame, name: str, col: str, unique: bool = False) -> np.ndarray:
    v = df[col]
    empty = v.isna() | v.astype("string").str.strip().eq("").fillna(True)
    if empty.any():
        raise GTFSError(f"{label}: {name}: {col} is empty on line {_line(df, empty)}; every row needs a {col}")
    if unique:
        dup = v.duplicated()
        if dup.any():
            raise GTFSError(f"{label}: {name}: {col} {v[dup].iloc[0]!r} on line {_line(df, dup)} repeats an earlier row; "
                            f"{col} must be unique")
    return v.astype(str).to_numpy(dtype=object)


def _parse_times(label: str, df: pd.DataFrame, col: str, name: str) -> np.ndarray:
    """Seconds (float, NaN where empty) of a GTFS time column; GTFSError for malformed or absurd times."""
    import pyarrow as pa
    import pyarrow.compute as pc

    raw = df[col]
    arr = pa.array(raw.to_numpy(dtype=object, na_value=None), type=pa.string())
    arr = pc.if_else(pc.equal(pc.utf8_trim_whitespace(arr), ""), pa.scalar(None, pa.string()), arr)
    m = pc.extract_regex(arr, _TIME_RE)
    bad = np.asarray(pc.and_(pc.is_valid(arr), pc.is_null(m)).to_numpy(zero_copy_only=False))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise GTFSError(f"{label}: {name}: {col} {raw.iloc[i]!r} on line {int(df.index[i]) + 2} is not HH:MM:SS "
                        "(hours may pass 24 for trips after midnight, minutes and seconds 00-59); correct it")
    h, mi, s = (pc.cast(pc.struct_field(m, k), pa.float64()).to_numpy(zero_copy_only=False) for k in ("h", "m", "s"))
    secs = h * 3600 + mi * 60 + s
    absurd = secs > MAX_GTFS_HOURS * 3600
    if absurd.any():
        i = int(np.flatnonzero(absurd)[0])
        raise GTFSError(f"{label}: {name}: {col} {raw.iloc[i]!r} on line {int(df.index[i]) + 2} is more than "
                        f"{MAX_GTFS_HOURS} hours after midnight; a GTFS time counts from noon minus 12 h of the "
                        "service day, so correct the hours")
    return secs


def _fmt(v) -> str:
    """A value for a message: quoted text, plain numbers, 'empty' for a missing value."""
    if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)):
        return "(empty)"
    return repr(v) if isinstance(v, str) else str(v)


def _check_calendar(label: str, cal: pd.DataFrame | None, cd: pd.DataFrame | None) -> None:
    if cal is not None:
        _ids(label, cal, "calendar.txt", "service_id")
        for day in _WEEKDAYS:
            ok = cal[day].isin([0, 1]).fillna(False).to_numpy(dtype=bool)
            if not ok.all():
                raise GTFSError(f"{label}: calendar.txt: {day} {_fmt(cal[day][~ok].iloc[0])} on line {_line(cal, ~ok)} "
                                "must be 0 or 1")
        for col in ("start_date", "end_date"):
            _check_dates(label, cal, col, "calendar.txt")
        back = (cal["end_date"] < cal["start_date"]).fillna(False).to_numpy(dtype=bool)
        if back.any():
            raise GTFSError(f"{label}: calendar.txt: end_date {cal['end_date'][back].iloc[0]} on line {_line(cal, back)} "
                            "is before its start_date; swap or correct them")
    if cd is not None:
        _ids(label, cd, "calendar_dates.txt", "service_id")
        _check_dates(label, cd, "date", "calendar_dates.txt")
        ok = cd["exception_type"].isin([1, 2]).fillna(False).to_numpy(dtype=bool)
        if not ok.all():
            raise GTFSError(f"{label}: calendar_dates.txt: exception_type {_fmt(cd['exception_type'][~ok].iloc[0])} on line "
                            f"{_line(cd, ~ok)} must be 1 (service added) or 2 (service removed)")


def _check_dates(label: str, df: pd.DataFrame, col: str, name: str) -> None:
    v = df[col].astype("string").str.strip()
    parsed = pd.to_datetime(v, format="%Y%m%d", errors="coerce")
    bad = (parsed.isna() | ~v.str.fullmatch(r"\d{8}").fillna(False)).to_numpy(dtype=bool)
    if bad.any():
        raise GTFSError(f"{label}: {name}: {col} {df[col][bad].iloc[0]!r} on line {_line(df, bad)} is not a date "
                        "YYYYMMDD (e.g. 20240305)")
    df[col] = v


@dataclass
class _Raw:
    """One checked feed, before choosing the day."""

    label: str
    feed: Any  # gtfs_kit.Feed (calendar tables)
    stops: pd.DataFrame  # stop_id, stop_name, x, y (used stops only)
    routes: pd.DataFrame  # route_id, route_type
    trips: pd.DataFrame  # trip_id, route_id, service_id
    st: pd.DataFrame  # trip (position in trips), stop_id, arr, dep, pickup, dropoff; sorted by trip, sequence
    interpolated: int
    ignored: list[str]


def _check_feed(label: str, feed) -> _Raw:
    import gtfs_kit as gk

    missing = [n for n in ("stops.txt", "routes.txt", "trips.txt", "stop_times.txt") if getattr(feed, n[:-4]) is None]
    if missing:
        raise GTFSError(f"{label}: {missing[0]}: the file is missing or has no rows; a GTFS feed needs "
                        "stops.txt, routes.txt, trips.txt and stop_times.txt (add it, or re-export the feed)")
    if feed.calendar is None and feed.calendar_dates is None:
        raise GTFSError(f"{label}: calendar.txt: missing or empty, and so is calendar_dates.txt; a feed needs one of "
                        "them to say on which dates its services run")
    stops = _require(label, feed, "stops.txt")
    routes = _require(label, feed, "routes.txt")
    trips = _require(label, feed, "trips.txt")
    st = _require(label, feed, "stop_times.txt")
    cal = _require(label, feed, "calendar.txt")
    cd = _require(label, feed, "calendar_dates.txt")
    _check_calendar(label, cal, cd)
    ignored = [n for n in ("transfers", "fare_attributes", "fare_rules", "shapes") if getattr(feed, n) is not None]
    if feed.frequencies is not None:
        _require(label, feed, "frequencies.txt")
        for col in ("start_time", "end_time"):
            _parse_times(label, feed.frequencies, col, "frequencies.txt")
        try:
            feed = gk.expand_frequencies(feed)
        except Exception as exc:  # noqa: BLE001
            raise GTFSError(f"{label}: frequencies.txt: cannot be expanded into trips ({type(exc).__name__}: "
                            f"{str(exc)[:100]}); check its trip_id, start_time, end_time and headway_secs") from None
        trips, st = feed.trips, feed.stop_times

    stop_ids = _ids(label, stops, "stops.txt", "stop_id", unique=True)
    route_ids = _ids(label, routes, "routes.txt", "route_id", unique=True)
    trip_ids = _ids(label, trips, "trips.txt", "trip_id", unique=True)
    t_route = _ids(label, trips, "trips.txt", "route_id")
    t_service = _ids(label, trips, "trips.txt", "service_id")
    unknown = ~np.isin(t_route, route_ids)
    if unknown.any():
        raise GTFSError(f"{label}: trips.txt: route_id {t_route[unknown][0]!r} (trip {trip_ids[unknown][0]!r}, line "
                        f"{_line(trips, unknown)}) is not in routes.txt; add the route or correct the id")
    services = set()
    if cal is not None:
        services |= set(cal["service_id"].astype(str))
    if cd is not None:
        services |= set(cd["service_id"].astype(str))
    unknown = ~np.isin(t_service, np.array(sorted(services), dtype=object))
    if unknown.any():
        raise GTFSError(f"{label}: trips.txt: service_id {t_service[unknown][0]!r} (trip {trip_ids[unknown][0]!r}, line "
                        f"{_line(trips, unknown)}) is in neither calendar.txt nor calendar_dates.txt; add its dates "
                        "or correct the id")

    # stop times: ids, references, sequence, times
    s_trip = _ids(label, st, "stop_times.txt", "trip_id")
    s_stop = _ids(label, st, "stop_times.txt", "stop_id")
    seq = st["stop_sequence"]
    if seq.isna().any() or (seq < 0).fillna(False).any():
        bad = (seq.isna() | (seq < 0)).fillna(True).to_numpy(dtype=bool)
        raise GTFSError(f"{label}: stop_times.txt: stop_sequence is empty or negative on line {_line(st, bad)}; give "
                        "every stop time a non-negative integer stop_sequence")
    tpos = pd.Index(trip_ids).get_indexer(s_trip)
    if (tpos < 0).any():
        bad = tpos < 0
        raise GTFSError(f"{label}: stop_times.txt: trip_id {s_trip[bad][0]!r} on line {_line(st, bad)} is not in "
                        "trips.txt; add the trip or drop its stop times")
    spos = pd.Index(stop_ids).get_indexer(s_stop)
    if (spos < 0).any():
        bad = spos < 0
        raise GTFSError(f"{label}: stop_times.txt: stop_id {s_stop[bad][0]!r} on line {_line(st, bad)} is not in "
                        "stops.txt; add the stop (with stop_lat/stop_lon) or correct the id")
    seqv = seq.to_numpy(dtype=np.int64)
    order = np.lexsort((seqv, tpos))
    dup = np.zeros(len(order), dtype=bool)
    dup[1:] = (tpos[order][1:] == tpos[order][:-1]) & (seqv[order][1:] == seqv[order][:-1])
    if dup.any():
        i = order[np.flatnonzero(dup)[0]]
        raise GTFSError(f"{label}: stop_times.txt: trip {s_trip[i]!r} repeats stop_sequence {seqv[i]} (line "
                        f"{int(st.index[i]) + 2}); stop_sequence must be unique within a trip")
    arr = _parse_times(label, st, "arrival_time", "stop_times.txt")
    dep = _parse_times(label, st, "departure_time", "stop_times.txt")
    arr, dep = np.where(np.isnan(arr), dep, arr), np.where(np.isnan(dep), arr, dep)
    # in trip order
    arr, dep, tp, sp_, line = arr[order], dep[order], tpos[order], spos[order], st.index.to_numpy()[order] + 2
    first = np.r_[True, tp[1:] != tp[:-1]]
    last = np.r_[tp[1:] != tp[:-1], True]
    hole = np.isnan(arr)
    ends = hole & (first | last)
    if ends.any():
        i = np.flatnonzero(ends)[0]
        which = "first" if first[i] else "last"
        raise GTFSError(f"{label}: stop_times.txt: the {which} stop of trip {trip_ids[tp[i]]!r} (line {line[i]}) has no "
                        "arrival_time or departure_time; the first and last stop of a trip must be timed")
    n_interp = int(hole.sum())
    if n_interp:  # non-timepoints: linear in stop order between the timed stops around them (same trip: ends are timed)
        pos = np.arange(len(arr), dtype="float64")
        filled = np.round(np.interp(pos, pos[~hole], arr[~hole]))
        arr = np.where(hole, filled, arr)
        dep = np.where(hole, filled, dep)
    back = dep < arr
    if back.any():
        i = np.flatnonzero(back)[0]
        raise GTFSError(f"{label}: stop_times.txt: departure_time {format_clock(dep[i])} is before arrival_time "
                        f"{format_clock(arr[i])} on line {line[i]} (trip {trip_ids[tp[i]]!r}); correct the times")
    back = np.zeros(len(arr), dtype=bool)
    back[1:] = (arr[1:] < dep[:-1]) & ~first[1:]
    if back.any():
        i = np.flatnonzero(back)[0]
        raise GTFSError(f"{label}: stop_times.txt: arrival_time {format_clock(arr[i])} on line {line[i]} is before the "
                        f"previous stop's departure_time {format_clock(dep[i - 1])} (trip {trip_ids[tp[i]]!r}); times "
                        "must not go backwards along a trip (check the times or the stop_sequence)")
    flags = {}
    for col in ("pickup_type", "drop_off_type"):
        v = st[col].to_numpy(dtype="float64", na_value=np.nan)[order] if col in st.columns else np.zeros(len(order))
        badv = ~np.isnan(v) & ~np.isin(v, [0, 1, 2, 3])
        if badv.any():
            i = np.flatnonzero(badv)[0]
            raise GTFSError(f"{label}: stop_times.txt: {col} {v[i]:g} on line {line[i]} must be 0, 1, 2 or 3 (or empty)")
        flags[col] = v != 1

    # coordinates of the stops that stop times use
    used = np.unique(sp_)
    sub = stops.iloc[used]
    lat = sub["stop_lat"].to_numpy(dtype="float64", na_value=np.nan)
    lon = sub["stop_lon"].to_numpy(dtype="float64", na_value=np.nan)
    nocoord = np.isnan(lat) | np.isnan(lon)
    if nocoord.any():
        i = np.flatnonzero(nocoord)[0]
        raise GTFSError(f"{label}: stops.txt: stop {stop_ids[used[i]]!r} (line {int(sub.index[i]) + 2}) has no "
                        "stop_lat/stop_lon but stop times use it; give its WGS84 coordinates")
    notll = (np.abs(lat) > 90) | (np.abs(lon) > 180)
    if notll.any():
        i = np.flatnonzero(notll)[0]
        raise GTFSError(f"{label}: stops.txt: stop {stop_ids[used[i]]!r} (line {int(sub.index[i]) + 2}) has stop_lat "
                        f"{lat[i]:g}, stop_lon {lon[i]:g}, which are not latitude/longitude; GTFS coordinates are WGS84 "
                        "degrees (convert eastings/northings first)")
    out = ~((lon >= _GB_LON[0]) & (lon <= _GB_LON[1]) & (lat >= _GB_LAT[0]) & (lat <= _GB_LAT[1]))
    if out.any():
        i = np.flatnonzero(out)[0]
        swapped = _GB_LON[0] <= lat[i] <= _GB_LON[1] and _GB_LAT[0] <= lon[i] <= _GB_LAT[1]
        hint = ("stop_lat and stop_lon look swapped; swap the columns" if swapped else
                "lisgeo routes in British National Grid: drop trips to stops outside Great Britain or correct the coordinates")
        raise GTFSError(f"{label}: stops.txt: stop {stop_ids[used[i]]!r} (line {int(sub.index[i]) + 2}) at stop_lat "
                        f"{lat[i]:g}, stop_lon {lon[i]:g} lies outside Great Britain; {hint}")
    from pyproj import Transformer

    x, y = Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True).transform(lon, lat)
    names = (sub["stop_name"].astype("string").fillna("").to_numpy(dtype=object) if "stop_name" in sub
             else np.full(len(sub), "", dtype=object))
    stops_out = pd.DataFrame({"stop_id": stop_ids[used], "stop_name": names, "x": x, "y": y})
    rtype = (routes["route_type"].to_numpy(dtype="float64", na_value=np.nan) if "route_type" in routes
             else np.full(len(routes), np.nan))
    routes_out = pd.DataFrame({"route_id": route_ids, "route_type": np.nan_to_num(rtype, nan=-1).astype(np.int32)})
    trips_out = pd.DataFrame({"trip_id": trip_ids, "route_id": t_route, "service_id": t_service})
    st_out = pd.DataFrame({"trip": tp.astype(np.int64), "stop_id": stop_ids[sp_], "arr": arr.astype(np.int64),
                           "dep": dep.astype(np.int64), "pickup": flags["pickup_type"], "dropoff": flags["drop_off_type"]})
    return _Raw(label, feed, stops_out, routes_out, trips_out, st_out, n_interp, ignored)


def _coverage(raw: _Raw, date: dt.date) -> str:
    """'the feed covers A to B; it runs on D (nearest)' for the empty-day message."""
    import gtfs_kit as gk

    days = gk.get_dates(raw.feed)
    if not days:
        return "its calendar covers no dates"
    lo, hi = dt.datetime.strptime(days[0], "%Y%m%d").date(), dt.datetime.strptime(days[-1], "%Y%m%d").date()
    text = f"its calendar covers {lo.isoformat()} to {hi.isoformat()}"
    cands = sorted((dt.datetime.strptime(d, "%Y%m%d").date() for d in days), key=lambda d: abs((d - date).days))
    used = set(raw.trips["service_id"])
    for d in cands[:400]:
        if used & set(gk.get_active_services(raw.feed, d.strftime("%Y%m%d"))):
            return f"{text}; the nearest date with service is {d.isoformat()} ({d.strftime('%A')})"
    return text + " but no trips run on any of its dates"


# --------------------------------------------------------------------------------------------
# merging and choosing the day


def read_gtfs(paths: "str | os.PathLike | Sequence[str | os.PathLike]", *, date: "str | dt.date",
              start: "str | int" = "07:00", end: "str | int" = "09:00", max_time_min: float = 120) -> TransitFeed:
    """Read GTFS feeds (zips or folders), keep the service ``date``'s trips that departures in
    ``[start, end]`` can use within ``max_time_min``, and return a :class:`TransitFeed`.

    ``paths``: one path or a list (merged; colliding ids prefixed by the feed's name).
    ``date``: the service day (``"2024-03-05"``, ``"20240305"`` or a ``datetime.date``).
    ``start``/``end``: the first and last departure time a query may use (``"HH:MM"``).
    ``max_time_min``: the longest journey a query may ask for; stop times arriving after
    ``end + max_time_min`` are dropped. Every problem with a feed raises
    :class:`~lisgeo.errors.GTFSError` (see the module docstring).
    """
    import gtfs_kit as gk

    day = parse_date(date)
    start_s, end_s = parse_clock(start, name="start"), parse_clock(end, name="end")
    if end_s < start_s:
        raise ParameterError(f"end {end!r} is before start {start!r}; give a departure window with start <= end")
    if (not isinstance(max_time_min, (int, float, np.integer, np.floating)) or isinstance(max_time_min, bool)
            or not np.isfinite(max_time_min) or max_time_min <= 0):
        raise ParameterError(f"max_time_min {max_time_min!r} must be a positive number of minutes")
    horizon_s = int(end_s + round(max_time_min * 60))
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    paths = list(paths)
    if not paths:
        raise ParameterError("read_gtfs needs at least one GTFS path")

    raws: list[_Raw] = []
    for p in paths:
        label, _, feed = _open(p)
        raws.append(_check_feed(label, feed))
    labels = _unique_labels([r.label for r in raws])

    # prefixes where ids collide between feeds (decided on whole feeds, not on the day)
    kinds = {"stop": lambda r: r.stops["stop_id"], "route": lambda r: r.routes["route_id"],
             "trip": lambda r: r.trips["trip_id"], "service": lambda r: r.trips["service_id"]}
    prefixed = []
    if len(raws) > 1:
        for kind, get in kinds.items():
            seen: set[str] = set()
            clash = False
            for r in raws:
                ids = set(get(r))
                clash |= bool(seen & ids)
                seen |= ids
            if clash:
                prefixed.append(kind)

    stops_l, routes_l, trips_l, st_l, feeds_info = [], [], [], [], []
    trip_base = 0
    for k, (r, lab) in enumerate(zip(raws, labels)):
        def fix(ids: pd.Series, kind: str, pre: str = Path(lab).stem + ":") -> pd.Series:
            return pre + ids.astype(str) if kind in prefixed else ids.astype(str)

        key = day.strftime("%Y%m%d")
        active = set(gk.get_active_services(r.feed, key))
        on_day = r.trips["service_id"].isin(active).to_numpy()
        if not on_day.any():
            raise GTFSError(f"{lab}: calendar.txt/calendar_dates.txt: no trips run on {day.isoformat()} "
                            f"({day.strftime('%A')}); {_coverage(r, day)}. Choose a date the feed covers")
        prev = set(gk.get_active_services(r.feed, (day - dt.timedelta(days=1)).strftime("%Y%m%d")))
        on_prev = r.trips["service_id"].isin(prev).to_numpy()
        parts = []
        for offset, mask in ((0, on_day), (-_DAY, on_prev)):
            st = r.st[mask[r.st["trip"].to_numpy()]]
            a, d_ = st["arr"].to_numpy() + offset, st["dep"].to_numpy() + offset
            keep = (d_ >= start_s) & (a <= horizon_s)
            st = st[keep].assign(arr=a[keep], dep=d_[keep], day=offset // _DAY)
            parts.append(st)
        st = pd.concat(parts, ignore_index=True)
        # a trip needs two kept stop times; trips keep their (trip, day) identity
        tkey = st["trip"].to_numpy() * 2 + (st["day"].to_numpy() + 1)
        cnt = pd.Series(tkey).map(pd.Series(tkey).value_counts()).to_numpy()
        st = st[cnt >= 2]
        tr = r.trips
        tcodes, tuniq = pd.factorize(st["trip"].to_numpy() * 2 + (st["day"].to_numpy() + 1), sort=True)
        t_rows = tuniq // 2
        trips_k = pd.DataFrame({"trip_id": fix(tr["trip_id"].iloc[t_rows].reset_index(drop=True), "trip"),
                                "route_id": fix(tr["route_id"].iloc[t_rows].reset_index(drop=True), "route"),
                                "day": (tuniq % 2 - 1).astype(np.int8)})
        st = st.assign(trip=tcodes + trip_base, stop_id=fix(st["stop_id"], "stop").to_numpy())
        trip_base += len(trips_k)
        stops_k = r.stops.assign(stop_id=fix(r.stops["stop_id"], "stop").to_numpy(), feed=k)
        routes_k = r.routes.assign(route_id=fix(r.routes["route_id"], "route").to_numpy())
        stops_l.append(stops_k)
        routes_l.append(routes_k)
        trips_l.append(trips_k)
        st_l.append(st)
        feeds_info.append({"name": lab, "path": str(paths[k]), "trips_in_feed": len(r.trips),
                           "trips_on_date": int(on_day.sum()), "trips_kept": len(trips_k),
                           "trips_kept_from_day_before": int((trips_k["day"] == -1).sum()),
                           "stop_times_kept": len(st), "interpolated_times": r.interpolated, "ignored_files": r.ignored})
    return _assemble(labels, day, start_s, end_s, horizon_s, stops_l, routes_l, trips_l, st_l, feeds_info, prefixed)


def _unique_labels(labels: list[str]) -> list[str]:
    out: list[str] = []
    for lab in labels:
        new, i = lab, 2
        while new in out:
            p = Path(lab)
            new, i = f"{p.stem}_{i}{p.suffix}", i + 1
        out.append(new)
    return out


def _assemble(labels, day, start_s, end_s, horizon_s, stops_l, routes_l, trips_l, st_l, feeds_info, prefixed) -> TransitFeed:
    stops = pd.concat(stops_l, ignore_index=True)
    routes = pd.concat(routes_l, ignore_index=True).drop_duplicates("route_id")
    trips = pd.concat(trips_l, ignore_index=True)
    st = pd.concat(st_l, ignore_index=True)
    # colliding ids were prefixed, so no id repeats across feeds (a safeguard, not a merge)
    stops = stops.drop_duplicates("stop_id")
    used = pd.unique(st["stop_id"].to_numpy())
    stops = stops[stops["stop_id"].isin(used)].reset_index(drop=True)
    st_stop = pd.Index(stops["stop_id"]).get_indexer(st["stop_id"].to_numpy()).astype(np.int32)
    t_route = pd.Index(routes["route_id"]).get_indexer(trips["route_id"].to_numpy()).astype(np.int32)
    used_r = np.unique(t_route)
    remap = np.full(len(routes), -1, dtype=np.int32)
    remap[used_r] = np.arange(len(used_r), dtype=np.int32)
    routes = routes.iloc[used_r].reset_index(drop=True)
    t_route = remap[t_route]

    # stop times in trip order (stable: rows are in stop order within each trip)
    trip = st["trip"].to_numpy()
    o = np.argsort(trip, kind="stable")
    trip, st_stop = trip[o], st_stop[o]
    arr, dep = st["arr"].to_numpy()[o].astype(np.int32), st["dep"].to_numpy()[o].astype(np.int32)
    pick, drop = st["pickup"].to_numpy(dtype=bool)[o], st["dropoff"].to_numpy(dtype=bool)[o]
    counts = np.bincount(trip, minlength=len(trips))
    ptr = np.r_[0, np.cumsum(counts)]
    # patterns: same route and stop sequence
    keys = [(int(t_route[t]), st_stop[ptr[t]:ptr[t + 1]].tobytes()) for t in range(len(trips))]
    pat, _ = pd.factorize(pd.Series(keys, dtype=object), sort=False) if keys else (np.array([], dtype=np.int64), None)
    first_dep = dep[ptr[:-1]] if len(trips) else np.array([], dtype=np.int32)
    torder = np.lexsort((first_dep, pat)) if len(trips) else np.array([], dtype=np.int64)
    # reorder trips and their stop times
    counts = counts[torder]
    starts = ptr[:-1][torder]
    sidx = np.arange(counts.sum(), dtype=np.int64) + np.repeat(starts - (np.cumsum(counts) - counts), counts)
    ptr = np.r_[0, np.cumsum(counts)].astype(np.int64)
    pat = np.asarray(pat, dtype=np.int64)[torder]
    # renumber patterns in trip order
    pcodes, puniq = pd.factorize(pat, sort=False) if len(pat) else (np.array([], dtype=np.int64), np.array([]))
    p_first_trip = np.flatnonzero(np.r_[True, pcodes[1:] != pcodes[:-1]]) if len(pcodes) else np.array([], dtype=np.int64)
    p_len = counts[p_first_trip] if len(pcodes) else np.array([], dtype=np.int64)
    ordered_stops = st_stop[sidx]
    pattern_stops = (np.concatenate([ordered_stops[ptr[t]:ptr[t + 1]] for t in p_first_trip]) if len(p_first_trip)
                     else np.array([], dtype=np.int32))
    t_route = t_route[torder]
    info = {
        "feeds": tuple(MappingProxyType(f) for f in feeds_info),
        "prefixed_id_kinds": tuple(prefixed),
        "interpolated_times": int(sum(f["interpolated_times"] for f in feeds_info)),
        "ignored_files": tuple(sorted({x for f in feeds_info for x in f["ignored_files"]})),
        "notes": ("transfers.txt, shapes, fares and block_id are not used; pickup/drop_off_type 1 forbid boarding/alighting",),
    }
    return TransitFeed(
        sources=tuple(labels), date=day, start_s=int(start_s), end_s=int(end_s), horizon_s=int(horizon_s),
        stop_id=stops["stop_id"].to_numpy(dtype=object), stop_name=stops["stop_name"].to_numpy(dtype=object),
        stop_x=stops["x"].to_numpy(dtype="float64"), stop_y=stops["y"].to_numpy(dtype="float64"),
        stop_feed=stops["feed"].to_numpy(dtype=np.int16),
        route_id=routes["route_id"].to_numpy(dtype=object), route_type=routes["route_type"].to_numpy(dtype=np.int32),
        trip_id=trips["trip_id"].to_numpy(dtype=object)[torder], trip_route=t_route.astype(np.int32),
        trip_pattern=pcodes.astype(np.int32), trip_day=trips["day"].to_numpy(dtype=np.int8)[torder], trip_ptr=ptr,
        st_stop=st_stop[sidx].astype(np.int32), st_arr=arr[sidx], st_dep=dep[sidx], st_pickup=pick[sidx],
        st_dropoff=drop[sidx],
        pattern_ptr=np.r_[0, np.cumsum(p_len)].astype(np.int64), pattern_stops=pattern_stops.astype(np.int32),
        pattern_route=t_route[p_first_trip].astype(np.int32) if len(p_first_trip) else np.array([], dtype=np.int32),
        info=MappingProxyType(info),
    )
