"""ATOC CIF rail timetables in: schedules, public calls and timetabled running times between stations.

The Rail Delivery Group publishes the Great Britain national rail timetable as an `ATOC CIF`_
feed: a ``.zip`` holding the schedule file (``*.mca``, fixed-width 80-character records) and the
station file (``*.msn``: TIPLOC, CRS and grid reference of every station), plus files this reader
ignores (``.alf``, ``.flf``, ``.ztr``, ``.tsi``, ``.set``, ``.dat``).

``read_cif(path)`` reads the feed once (the schedule file as bytes, its columns sliced with
numpy: the 31 MB sample in under a second on one core) and returns a :class:`CifTimetable` of
pandas frames (schedules, their public calls in order, stations). ``cif_segments(tt)`` turns the calls into one row per pair
of consecutive public calls with its running time and the dwell before it, and
``segment_times(segments)`` summarises them per ordered pair of stations (CRS codes).

Records read (1-based columns of the CIF end-user specification)
    ``BS`` basic schedule (UID, dates, days, status, category, headcode, power, speed, STP
    indicator), ``BX`` its extra details (the ATOC operator code), ``LO``/``LI``/``LT`` origin,
    intermediate and terminus locations (TIPLOC, working and public times, platform, activity).
    ``HD``, ``TI``/``TA``/``TD``, ``AA``, ``CR``, ``ZZ`` (and ``TN``/``LN`` notes) are checked for
    their record type only: a change en route (``CR``: a train's category or power changing at a
    location) is not applied, the schedule keeps the details of its ``BS``.

Times
    Working (``wtt_``) times are ``HHMM`` plus ``H`` for a half minute (read as ``.5``); public
    times are ``HHMM`` and ``0000`` means *no public time* (the CIF convention: a passing point, a
    stop not advertised to the public, the arrival at a take-up-only stop). Every time is in
    minutes after midnight of the day the schedule starts (the day its origin departs, the
    day ``days`` and ``runs_from`` refer to): along a schedule, a working time earlier on the
    clock than the one before it is on the next day (+24 h, counted in
    ``info["schedules_crossing_midnight"]``); a public time takes the day of the working time of
    the same event (so a working 23:59½ published as 00:00 is 24:00).

What a call is
    A *public* call: an ``LO`` with a public departure, an ``LI`` with a public arrival or a
    public departure, an ``LT`` with a public arrival. Passing points (an ``LI`` with a passing
    time) and stops with neither public time (operational stops, stops not advertised) are not
    calls; they are counted in ``info``.

Which schedules are kept (``passenger_only=True``)
    Schedules with location records (STP cancellations, ``C``, carry none and are counted in
    ``info["cancellations"]``) whose train status is ``P`` or ``1`` (permanent or STP passenger
    and parcels train) and whose train category begins with ``O`` or ``X`` (``OO`` ordinary
    passenger, ``OL`` London Underground/metro, ``OU`` unadvertised ordinary, ``OS`` staff,
    ``OW`` mixed, ``XX`` express, ``XZ`` sleeper, ``XC``/``XD``/``XI`` Channel Tunnel and
    international, ``XR`` motorail, ``XU`` unadvertised express). Dropped: buses (status ``B``/``5``,
    categories ``BR``/``BS``), ships (``S``/``4``, ``SS``), freight (status ``F``/``2``, the freight
    categories ``A*``, ``B0``-``B7``, ``E0``, ``H*``, ``J*``), trips (``T``/``3``), empty coaching
    stock (``EE``/``EL``/``ES``), departmental (``D*``), light engines (``Z*``) and parcels and
    post (``PM``/``PP``/``PV``/``JJ``). Unadvertised and staff trains are kept but usually
    have no public calls. ``passenger_only=False`` keeps every schedule with location records.
    Overlays (``O``) and new STP schedules (``N``) are kept beside the permanent schedule they
    vary (same UID, other dates): nothing is de-duplicated; ``info["uids_in_several_schedules"]``
    says how many UIDs have more than one kept schedule.

Checks (once, at entry; :class:`CIFError`, one line naming the file, the record's line number
and how to fix it)
    a path that is not a ``.zip``, a folder or a ``.mca``/``.cif`` file; a zip or folder with no
    schedule file or with several; a record longer than 80 characters, or shorter than its
    record type's last mandatory field (missing trailing spaces are tolerated: a record is padded
    to 80 characters); an unknown record type; a malformed time, date, days-run field, STP
    indicator or transaction type; a location record before its schedule's ``BS``, an ``LI``/``LT``
    outside a schedule (no open ``LO``), a schedule without an ``LT``; a ``BX`` not after a ``BS``.

Lenient where real feeds need it: no station file (``crs`` is all NA, noted in
``info["station_file"]``); a TIPLOC the station file does not know (``crs`` NA, counted in
``info["unknown_tiplocs"]``); station-file lines other than station (``A``) records are skipped.

.. _ATOC CIF: https://www.raildeliverygroup.com/our-services/rail-data/timetable-data.html
"""

from __future__ import annotations

import os
import zipfile
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping

import numpy as np
import pandas as pd

from ..errors import CIFError, MissingColumnError, ParameterError

__all__ = ["station_dwells", "CIFError", "CifTimetable", "read_cif", "cif_segments", "segment_times", "PASSENGER_STATUSES",
           "PASSENGER_CATEGORY_PREFIXES", "RECORD_LENGTH"]


#: Every CIF record is this many characters (without its line ending).
RECORD_LENGTH = 80
#: Train status codes of passenger (and parcels) trains: permanent and STP.
PASSENGER_STATUSES = ("P", "1")
#: First letters of the passenger train categories (ordinary ``O*`` and express ``X*``).
PASSENGER_CATEGORY_PREFIXES = ("O", "X")

_KNOWN = ("HD", "TI", "TA", "TD", "AA", "BS", "BX", "TN", "LO", "LI", "CR", "LT", "LN", "ZZ")
# the shortest a record may be once its trailing spaces are dropped: the end of its last mandatory field
_MIN_LENGTH = {"BS": 80, "BX": 13, "LO": 19, "LI": 33, "LT": 19}
_SCHEDULE_SUFFIXES = (".mca", ".cif")
_STATION_SUFFIX = ".msn"
_DAY_MIN = 1440.0


def _code(s: str) -> int:
    return ord(s[0]) * 256 + ord(s[1])


_BS, _BX, _LO, _LI, _LT = (_code(s) for s in ("BS", "BX", "LO", "LI", "LT"))


# --------------------------------------------------------------------------------------------
# the result


@dataclass(frozen=True, eq=False)
class CifTimetable:
    """A CIF timetable as pandas frames (see the module docstring).

    Attributes
    ----------
    source : str
        The feed read (``"atoc.zip: example.mca"``).
    schedules : pandas.DataFrame
        One row per kept schedule, in file order: ``schedule`` (int, the number of its ``BS``
        record in the file, 0-based, whatever is filtered), ``uid``, ``stp`` (``P`` permanent,
        ``O`` overlay, ``N`` new STP), ``runs_from``, ``runs_to`` (datetime64[s], whole days; ``runs_to``
        is NaT when open-ended, ``999999``, or blank), ``days``
        (seven ``0``/``1`` characters, Monday first), ``status``, ``category``, ``atoc`` (operator
        code from the ``BX`` record, NA without one), ``power``, ``speed_mph`` (float, NaN when
        blank), ``headcode``.
    calls : pandas.DataFrame
        Every public call of the kept schedules in order: ``schedule``, ``seq`` (0.. within the
        schedule), ``tiploc``, ``crs`` (NA when the station file does not know the TIPLOC),
        ``arr_min``, ``dep_min`` (public times, minutes after midnight of the schedule's first
        day, NaN at the origin's arrival, the terminus's departure and where there is no public
        time), ``wtt_arr_min``, ``wtt_dep_min`` (the working times of the same calls),
        ``activity`` (the activity codes, e.g. ``"T"``, ``"D"``, ``"U"``, ``"TB"``).
    stations : pandas.DataFrame
        The station file's stations: ``tiploc``, ``crs``, ``name``, ``easting``, ``northing``
        (metres, EPSG:27700), ``min_change_min``. Empty without a station file.
    info : Mapping
        Read-only counts: records, schedules read, cancellations, non-passenger schedules
        dropped, calls, passing points and non-public stops skipped, unknown TIPLOCs, ...
    """

    source: str
    schedules: pd.DataFrame
    calls: pd.DataFrame
    stations: pd.DataFrame
    info: Mapping[str, Any]

    def __repr__(self) -> str:
        return (f"CifTimetable({self.source}: {len(self.schedules)} schedules, {len(self.calls)} public calls, "
                f"{len(self.stations)} stations)")


# --------------------------------------------------------------------------------------------
# finding the files


def _locate(path: "str | os.PathLike", msn: "str | os.PathLike | None") -> tuple[str, str, bytes, str | None, bytes | None]:
    """(label, schedule file name, its bytes, station file name or None, its bytes or None)."""
    p = Path(path)
    label = p.name or str(p)
    if not p.exists():
        raise CIFError(f"{label}: no such file or folder ({p}); give an ATOC CIF .zip, a folder holding its .mca "
                       "and .msn files, or a .mca file")
    members: dict[str, Any]
    if p.is_dir():
        members = {q.name: q for q in sorted(p.iterdir()) if q.is_file()}
        read = lambda ref: ref.read_bytes()  # noqa: E731
    elif zipfile.is_zipfile(p):
        try:
            zf = zipfile.ZipFile(p)
            members = {Path(n).name: n for n in zf.namelist() if not n.endswith("/")}
        except (zipfile.BadZipFile, OSError) as exc:
            raise CIFError(f"{label}: cannot be opened as a zip archive ({exc}); download the feed again") from None
        read = zf.read
    elif p.suffix.lower() in _SCHEDULE_SUFFIXES:
        members = {p.name: p}
        read = lambda ref: ref.read_bytes()  # noqa: E731
    else:
        raise CIFError(f"{label}: is neither a zip archive, a folder nor a .mca/.cif schedule file; give the ATOC CIF "
                       "feed's .zip (e.g. ttisNNN.zip), the folder it was unzipped into, or its .mca file")
    sched = [n for n in members if n.lower().endswith(_SCHEDULE_SUFFIXES)]
    if not sched:
        shown = ", ".join(sorted(members)[:6]) or "nothing"
        raise CIFError(f"{label}: holds no schedule file (*.mca or *.cif) but {shown}; is it an ATOC CIF timetable feed?")
    if len(sched) > 1:
        raise CIFError(f"{label}: holds several schedule files ({', '.join(sorted(sched))}); keep one, or give the "
                       ".mca file to read (and its station file with msn=)")
    stations = sorted(n for n in members if n.lower().endswith(_STATION_SUFFIX))
    if msn is not None:
        m = Path(msn)
        if not m.is_file():
            raise CIFError(f"{m.name}: no such station file ({m}); give the feed's .msn file or leave msn=None")
        msn_name, msn_bytes = m.name, m.read_bytes()
    elif len(stations) > 1:
        raise CIFError(f"{label}: holds several station files ({', '.join(stations)}); give the one to use with msn=")
    elif stations:
        msn_name, msn_bytes = stations[0], read(members[stations[0]])
    else:
        msn_name, msn_bytes = None, None
    return label, sched[0], read(members[sched[0]]), msn_name, msn_bytes


# --------------------------------------------------------------------------------------------
# the schedule file as a (records x 80) byte array


def _records(data: bytes, where: str) -> np.ndarray:
    """The records as a uint8 array of shape (n, 80); CIFError on a record of the wrong length."""
    lines = data.splitlines()
    while lines and not lines[-1].strip(b" \x1a"):  # trailing blank lines and an old end-of-file mark
        lines.pop()
    if not lines:
        raise CIFError(f"{where}: is empty; give a CIF schedule file (80-character records from HD to ZZ)")
    lens = np.fromiter(map(len, lines), dtype=np.int64, count=len(lines))
    long = np.flatnonzero(lens > RECORD_LENGTH)
    if long.size:
        i = int(long[0])
        raise CIFError(f"{where}: line {i + 1}: record is {lens[i]} characters long, a CIF record is {RECORD_LENGTH}; "
                       "is this a CIF schedule file, or were two records joined?")
    short = np.flatnonzero(lens < RECORD_LENGTH)
    if short.size:
        kinds = [lines[i][:2].decode("latin-1") for i in short]
        need = np.array([_MIN_LENGTH.get(k, 2) for k in kinds])
        bad = np.flatnonzero(lens[short] < need)
        if bad.size:
            i, j = int(short[bad[0]]), int(bad[0])
            raise CIFError(f"{where}: line {i + 1}: {kinds[j] or 'empty'} record is {lens[i]} characters long, a CIF "
                           f"record is {RECORD_LENGTH} (at least {need[j]} before its trailing spaces); the record is "
                           "truncated: download the feed again")
        for i in short:
            lines[i] = lines[i].ljust(RECORD_LENGTH)
    return np.frombuffer(b"".join(lines), dtype=np.uint8).reshape(len(lines), RECORD_LENGTH)


def _field(arr: np.ndarray, rows: np.ndarray, a: int, b: int) -> np.ndarray:
    """Columns ``a..b`` (1-based, inclusive) of ``rows`` as a numpy bytes array (trailing NULs only stripped)."""
    block = np.ascontiguousarray(arr[rows, a - 1:b])
    return block.view(f"S{b - a + 1}").ravel()


def _text(arr: np.ndarray, rows: np.ndarray, a: int, b: int) -> np.ndarray:
    """Columns ``a..b`` of ``rows`` as stripped str (numpy unicode)."""
    return np.strings.strip(_field(arr, rows, a, b).astype(f"U{b - a + 1}"))


def _as_string(values: np.ndarray, *, empty_na: bool = True) -> pd.arrays.ArrowStringArray:
    out = pd.array(values, dtype="string")
    if empty_na:
        out[values == ""] = pd.NA
    return out


def _fail(where: str, arr: np.ndarray, rows: np.ndarray, bad: np.ndarray, what: str, a: int, b: int, hint: str):
    """Raise for the first ``bad`` row: its line number, the field and its text."""
    r = int(rows[int(np.flatnonzero(bad)[0])])
    text = bytes(arr[r, a - 1:b]).decode("latin-1")
    raise CIFError(f"{where}: line {r + 1}: {what} {text!r} (columns {a}-{b}) {hint}")


def _wtt_time(arr: np.ndarray, rows: np.ndarray, a: int, what: str, where: str) -> np.ndarray:
    """Working time ``HHMM`` + ``H``/space at columns ``a..a+4``: minutes (float, .5 for H), NaN when blank."""
    block = arr[rows, a - 1:a + 4].astype(np.int16)
    blank = (block == 32).all(axis=1)
    d = block[:, :4] - 48
    ok = ((d >= 0) & (d <= 9)).all(axis=1) & ((block[:, 4] == 32) | (block[:, 4] == 72))
    hh, mm = d[:, 0] * 10 + d[:, 1], d[:, 2] * 10 + d[:, 3]
    ok &= (hh < 24) & (mm < 60)
    bad = ~ok & ~blank
    if bad.any():
        _fail(where, arr, rows, bad, what, a, a + 4,
              "is not a time HHMM with an optional H for the half minute (e.g. '0740H'); fix or re-download the feed")
    out = (hh * 60 + mm).astype(np.float64) + np.where(block[:, 4] == 72, 0.5, 0.0)
    out[blank] = np.nan
    return out


def _public_time(arr: np.ndarray, rows: np.ndarray, a: int, what: str, where: str) -> np.ndarray:
    """Public time ``HHMM`` at columns ``a..a+3``: minutes (float), NaN for ``0000`` (no public time) or blank."""
    block = arr[rows, a - 1:a + 3].astype(np.int16)
    d = block - 48
    none = (d == 0).all(axis=1) | (block == 32).all(axis=1)
    ok = ((d >= 0) & (d <= 9)).all(axis=1)
    hh, mm = d[:, 0] * 10 + d[:, 1], d[:, 2] * 10 + d[:, 3]
    ok &= (hh < 24) & (mm < 60)
    bad = ~ok & ~none
    if bad.any():
        _fail(where, arr, rows, bad, what, a, a + 3, "is not a public time HHMM (or '0000' for none); fix or "
              "re-download the feed")
    out = (hh * 60 + mm).astype(np.float64)
    out[none] = np.nan
    return out


def _dates(arr: np.ndarray, rows: np.ndarray, a: int, what: str, where: str, *, blank_ok: bool = False) -> np.ndarray:
    """``yymmdd`` at columns ``a..a+5`` as datetime64[D] (years 60-99 are 19xx); NaT for ``999999`` (open-ended)
    and, when ``blank_ok``, for a blank field."""
    d = arr[rows, a - 1:a + 5].astype(np.int16) - 48
    digits = ((d >= 0) & (d <= 9)).all(axis=1)
    nat = (d == 9).all(axis=1) | ((d == -16).all(axis=1) if blank_ok else False)
    yy, mo, dd = d[:, 0] * 10 + d[:, 1], d[:, 2] * 10 + d[:, 3], d[:, 4] * 10 + d[:, 5]
    year = np.where(yy < 60, 2000, 1900) + yy
    ok = digits & (mo >= 1) & (mo <= 12) & (dd >= 1)
    month = (np.where(ok, year, 1970) - 1970) * 12 + np.where(ok, mo, 1) - 1
    first = month.astype("datetime64[M]").astype("datetime64[D]")
    out = first + (np.where(ok, dd, 1) - 1).astype("timedelta64[D]")
    ok &= out.astype("datetime64[M]") == month.astype("datetime64[M]")  # no 31 April
    bad = ~ok & ~nat
    if bad.any():
        _fail(where, arr, rows, bad, what, a, a + 5, "is not a date yymmdd (e.g. '200321'); fix or re-download the feed")
    out[nat] = np.datetime64("NaT")
    return out


# --------------------------------------------------------------------------------------------
# checks of the record order


def _check_order(rt: np.ndarray, where: str) -> None:
    """Every LO follows a BS, every LI/LT an open LO, every schedule with locations ends with an LT."""
    n = len(rt)
    struct = (rt == _BS) | (rt == _LO) | (rt == _LT)
    last = np.maximum.accumulate(np.where(struct, np.arange(n), -1))
    prev = np.empty(n, dtype=np.int64)
    prev[0] = -1
    prev[1:] = last[:-1]
    prev_rt = np.where(prev >= 0, rt[np.maximum(prev, 0)], 0)

    def first(mask: np.ndarray) -> int | None:
        hit = np.flatnonzero(mask)
        return int(hit[0]) if hit.size else None

    checks = [
        ((rt == _LO) & (prev_rt != _BS), lambda i: (
            "LO (origin) record before its schedule's BS record" if prev_rt[i] != _LO
            else f"LO (origin) record while the schedule of the LO on line {prev[i] + 1} has no LT yet")
         + "; every schedule is BS [BX] LO LI... LT: is the file cut or out of order?"),
        (((rt == _LI) | (rt == _LT)) & (prev_rt != _LO), lambda i: (
            f"{'LI (intermediate)' if rt[i] == _LI else 'LT (terminus)'} record outside a schedule (no "
            f"{'BS and ' if prev_rt[i] != _BS else ''}LO record before it)"
            "; every schedule is BS [BX] LO LI... LT: is the file cut or out of order?")),
        ((rt == _BS) & (prev_rt == _LO), lambda i: (
            f"BS record while the schedule of the LO on line {prev[i] + 1} has no LT (terminus) record; "
            "is the file cut or out of order?")),
        ((rt == _BX) & (prev_rt != _BS), lambda i: (
            "BX record not directly after a BS record; a BX belongs to the BS before it")),
    ]
    hits = [(i, msg) for mask, msg in checks if (i := first(mask)) is not None]
    if hits:
        i, msg = min(hits, key=lambda h: h[0])
        raise CIFError(f"{where}: line {i + 1}: {msg(i)}")
    if n and last[-1] >= 0 and rt[last[-1]] == _LO:
        raise CIFError(f"{where}: line {n}: the file ends inside the schedule whose LO is on line {last[-1] + 1} "
                       "(no LT record); the file is truncated: download the feed again")


# --------------------------------------------------------------------------------------------
# the station file


def _read_msn(data: bytes, where: str) -> tuple[pd.DataFrame, dict[str, int]]:
    rows = []
    skipped = 0
    for raw in data.splitlines():
        line = raw.decode("latin-1")
        if not line.startswith("A") or "FILE-SPEC" in line[:60]:
            continue
        line = line.ljust(RECORD_LENGTH)
        tiploc = line[36:43].strip()
        e, n = line[52:57].strip(), line[58:63].strip()
        if not tiploc or not (e.isdigit() and n.isdigit()):
            skipped += 1
            continue
        mct = line[63:65].strip()
        rows.append((tiploc, line[49:52].strip(), line[5:35].strip(), (int(e) - 10000) * 100.0,
                     (int(n) - 60000) * 100.0, float(mct) if mct.isdigit() else np.nan))
    df = pd.DataFrame(rows, columns=["tiploc", "crs", "name", "easting", "northing", "min_change_min"])
    for c in ("tiploc", "crs", "name"):
        df[c] = _as_string(df[c].to_numpy(dtype=str) if len(df) else np.array([], dtype=str))
    dup = df["tiploc"].duplicated()
    df = df[~dup].reset_index(drop=True)
    return df, {"station_records_skipped": skipped, "station_duplicate_tiplocs": int(dup.sum())}


# --------------------------------------------------------------------------------------------
# reading


def read_cif(path: "str | os.PathLike", *, passenger_only: bool = True,
             msn: "str | os.PathLike | None" = None) -> CifTimetable:
    """Read an ATOC CIF timetable feed: its schedules, their public calls and its stations.

    Parameters
    ----------
    path : str or path-like
        The feed's ``.zip`` (one ``*.mca``/``*.cif`` schedule file, optionally one ``*.msn`` station
        file), the folder it was unzipped into, or a ``.mca``/``.cif`` file.
    passenger_only : bool, default True
        Keep only passenger trains: status ``P`` or ``1`` and a category beginning ``O`` or ``X``
        (the module docstring lists what that keeps and drops). False keeps every schedule with
        location records (buses, ships, freight, empty stock ...).
    msn : str or path-like, optional
        The station file to use instead of the one in ``path`` (needed to get CRS codes when
        ``path`` is a bare ``.mca`` file).

    Returns
    -------
    CifTimetable
        ``schedules``, ``calls``, ``stations`` frames and the read-only ``info`` counts.

    Raises
    ------
    CIFError
        One line naming the file and the record's line number: see the module docstring.
    """
    if not isinstance(passenger_only, (bool, np.bool_)):
        raise ParameterError(f"passenger_only must be True or False, not {passenger_only!r}")
    label, sched_name, data, msn_name, msn_bytes = _locate(path, msn)
    where = f"{label}: {sched_name}" if label != sched_name else label
    arr = _records(data, where)
    del data
    n = len(arr)
    rt = arr[:, 0].astype(np.int64) * 256 + arr[:, 1]

    known = np.isin(rt, [_code(k) for k in _KNOWN])
    if not known.all():
        i = int(np.flatnonzero(~known)[0])
        raise CIFError(f"{where}: line {i + 1}: unknown record type {bytes(arr[i, :2]).decode('latin-1')!r}; CIF records "
                       f"start with {', '.join(_KNOWN)}: is this an ATOC CIF schedule file?")
    _check_order(rt, where)

    # ---- schedules (BS, with the BX after it)
    bs = np.flatnonzero(rt == _BS)
    if not bs.size:
        raise CIFError(f"{where}: has no BS (basic schedule) records; is it an ATOC CIF schedule file?")
    nb = len(bs)
    sched_of = np.cumsum(rt == _BS) - 1  # the schedule (BS number) of every record, -1 before the first
    tx = _field(arr, bs, 3, 3)
    bad = ~np.isin(tx, [b"N", b"D", b"R"])
    if bad.any():
        _fail(where, arr, bs, bad, "BS transaction type", 3, 3, "is not N (new), D (delete) or R (revise)")
    stp = _field(arr, bs, 80, 80)
    bad = ~np.isin(stp, [b"P", b"O", b"N", b"C"])
    if bad.any():
        _fail(where, arr, bs, bad, "BS STP indicator", 80, 80,
              "is not P (permanent), O (overlay), N (new STP) or C (cancellation)")
    days_block = arr[bs, 21:28]
    bad = ~((days_block == 48) | (days_block == 49)).all(axis=1)
    if bad.any():
        _fail(where, arr, bs, bad, "BS days run", 22, 28, "is not seven 0/1 flags, Monday to Sunday")
    runs_from = _dates(arr, bs, 10, "BS date runs from", where)
    runs_to = _dates(arr, bs, 16, "BS date runs to", where, blank_ok=True)

    loc = np.flatnonzero((rt == _LO) | (rt == _LI) | (rt == _LT))
    loc_sched = sched_of[loc]
    n_loc = np.bincount(loc_sched, minlength=nb)
    is_cancel = stp == b"C"
    has_loc = n_loc > 0
    status = _text(arr, bs, 30, 30)
    category = _text(arr, bs, 31, 32)
    passenger = np.isin(status, PASSENGER_STATUSES) & np.isin(np.strings.slice(category, 0, 1),
                                                              PASSENGER_CATEGORY_PREFIXES)
    keep = has_loc & ~is_cancel & (passenger if passenger_only else True)

    atoc = np.full(nb, "", dtype="U2")
    bx = np.flatnonzero(rt == _BX)
    if bx.size:
        atoc[sched_of[bx]] = _text(arr, bx, 12, 13)
    speed_txt = _text(arr, bs, 58, 60)
    speed = np.full(nb, np.nan)
    sd = np.strings.isdigit(speed_txt)
    speed[sd] = speed_txt[sd].astype(float)

    k = np.flatnonzero(keep)
    uid = _text(arr, bs[k], 4, 9)
    schedules = pd.DataFrame({
        "schedule": k.astype(np.int64),
        "uid": _as_string(uid),
        "stp": _as_string(stp[k].astype("U1")),
        "runs_from": runs_from[k].astype("datetime64[s]"),
        "runs_to": runs_to[k].astype("datetime64[s]"),
        "days": _as_string(_field(arr, bs[k], 22, 28).astype("U7")),
        "status": _as_string(status[k]),
        "category": _as_string(category[k]),
        "atoc": _as_string(atoc[k]),
        "power": _as_string(_text(arr, bs[k], 51, 53)),
        "speed_mph": speed[k],
        "headcode": _as_string(_text(arr, bs[k], 33, 36)),
    })

    # ---- location records of the kept schedules
    lk = keep[loc_sched]
    loc, loc_sched = loc[lk], loc_sched[lk]
    lrt = rt[loc]
    m = len(loc)
    w_arr = np.full(m, np.nan)
    w_dep = np.full(m, np.nan)
    w_pass = np.full(m, np.nan)
    p_arr = np.full(m, np.nan)
    p_dep = np.full(m, np.nan)
    act = np.empty(m, dtype="S12")

    o = np.flatnonzero(lrt == _LO)
    w_dep[o] = _wtt_time(arr, loc[o], 11, "LO scheduled departure", where)
    p_dep[o] = _public_time(arr, loc[o], 16, "LO public departure", where)
    act[o] = _field(arr, loc[o], 30, 41)
    i_ = np.flatnonzero(lrt == _LI)
    w_arr[i_] = _wtt_time(arr, loc[i_], 11, "LI scheduled arrival", where)
    w_dep[i_] = _wtt_time(arr, loc[i_], 16, "LI scheduled departure", where)
    w_pass[i_] = _wtt_time(arr, loc[i_], 21, "LI scheduled pass", where)
    p_arr[i_] = _public_time(arr, loc[i_], 26, "LI public arrival", where)
    p_dep[i_] = _public_time(arr, loc[i_], 30, "LI public departure", where)
    act[i_] = _field(arr, loc[i_], 43, 54)
    t = np.flatnonzero(lrt == _LT)
    w_arr[t] = _wtt_time(arr, loc[t], 11, "LT scheduled arrival", where)
    p_arr[t] = _public_time(arr, loc[t], 16, "LT public arrival", where)
    act[t] = _field(arr, loc[t], 26, 37)

    missing = np.zeros(m, dtype=bool)
    missing[o] = np.isnan(w_dep[o])
    missing[t] = np.isnan(w_arr[t])
    li_stop = ~np.isnan(w_arr[i_]) & ~np.isnan(w_dep[i_])
    li_pass = ~np.isnan(w_pass[i_])
    missing[i_] = ~(li_stop ^ li_pass)
    if missing.any():
        j = int(np.flatnonzero(missing)[0])
        kind = {_LO: "LO has no scheduled departure", _LT: "LT has no scheduled arrival"}.get(
            int(lrt[j]), "LI has neither a scheduled pass nor both a scheduled arrival and departure (or has both)")
        raise CIFError(f"{where}: line {loc[j] + 1}: {kind}; fix or re-download the feed")

    # ---- days: along each schedule a working time earlier than the one before is on the next day
    ev = np.stack([np.where(np.isnan(w_pass), w_arr, w_pass), np.where(np.isnan(w_pass), w_dep, w_pass)], axis=1)
    flat = ev.ravel()
    valid = ~np.isnan(flat)
    tv = flat[valid]
    sv = np.repeat(loc_sched, 2)[valid]
    roll = np.zeros(len(tv), dtype=np.int64)
    if len(tv) > 1:
        roll[1:] = (sv[1:] == sv[:-1]) & (tv[1:] < tv[:-1])
    cum = np.cumsum(roll)
    start = np.ones(len(tv), dtype=bool)
    start[1:] = sv[1:] != sv[:-1]
    base = np.maximum.accumulate(np.where(start, np.arange(len(tv)), 0))
    day = cum - cum[base]
    absf = flat.copy()
    absf[valid] = tv + _DAY_MIN * day
    ev_abs = absf.reshape(-1, 2)
    crossing = int(np.unique(sv[day > 0]).size)

    def _abs(clock: np.ndarray, ref_clock: np.ndarray, ref_abs: np.ndarray) -> np.ndarray:
        # the public (or working) clock time on the day of the working event it belongs to
        return ref_abs + (np.mod(clock - ref_clock + 720.0, _DAY_MIN) - 720.0)

    ref_a_clock, ref_d_clock = ev[:, 0], ev[:, 1]
    ref_a_abs, ref_d_abs = ev_abs[:, 0], ev_abs[:, 1]
    # an event without its own working time (never in real feeds) takes the other one of the record
    ra_c = np.where(np.isnan(ref_a_clock), ref_d_clock, ref_a_clock)
    ra_a = np.where(np.isnan(ref_a_abs), ref_d_abs, ref_a_abs)
    rd_c = np.where(np.isnan(ref_d_clock), ref_a_clock, ref_d_clock)
    rd_a = np.where(np.isnan(ref_d_abs), ref_a_abs, ref_d_abs)
    arr_min = _abs(p_arr, ra_c, ra_a)
    dep_min = _abs(p_dep, rd_c, rd_a)
    is_li_pass = np.zeros(m, dtype=bool)
    is_li_pass[i_[li_pass]] = True
    wtt_arr_min = np.where(is_li_pass, np.nan, _abs(w_arr, ra_c, ra_a))
    wtt_dep_min = np.where(is_li_pass, np.nan, _abs(w_dep, rd_c, rd_a))

    public = np.zeros(m, dtype=bool)
    public[o] = ~np.isnan(p_dep[o])
    public[i_] = ~np.isnan(p_arr[i_]) | ~np.isnan(p_dep[i_])
    public[t] = ~np.isnan(p_arr[t])
    arr_min[o] = np.nan
    dep_min[t] = np.nan

    c = np.flatnonzero(public)
    c_sched = loc_sched[c]
    first_call = np.ones(len(c), dtype=bool)
    first_call[1:] = c_sched[1:] != c_sched[:-1]
    seq = np.arange(len(c)) - np.maximum.accumulate(np.where(first_call, np.arange(len(c)), 0))
    tiploc = _text(arr, loc[c], 3, 9)
    activity = np.strings.strip(act[c].astype("U12"))

    # ---- stations and CRS
    info_extra: dict[str, Any] = {}
    if msn_bytes is not None:
        stations, info_extra = _read_msn(msn_bytes, f"{label}: {msn_name}" if label != msn_name else msn_name)
        pos = pd.Index(stations["tiploc"].to_numpy(dtype=object)).get_indexer(tiploc)
        crs_vals = stations["crs"].to_numpy(dtype=object, na_value=None)[np.maximum(pos, 0)] if len(stations) else \
            np.full(len(pos), None, dtype=object)
        crs_arr = pd.array(np.where(pos >= 0, crs_vals, None), dtype="string")
        station_note = msn_name
    else:
        stations = pd.DataFrame({"tiploc": pd.array([], dtype="string"), "crs": pd.array([], dtype="string"),
                                 "name": pd.array([], dtype="string"), "easting": np.array([], dtype=float),
                                 "northing": np.array([], dtype=float), "min_change_min": np.array([], dtype=float)})
        crs_arr = pd.array([pd.NA] * len(c), dtype="string")
        station_note = "none: no .msn station file, so crs is NA throughout (give one with msn=)"

    calls = pd.DataFrame({
        "schedule": c_sched.astype(np.int64),
        "seq": seq.astype(np.int64),
        "tiploc": _as_string(tiploc),
        "crs": crs_arr,
        "arr_min": arr_min[c],
        "dep_min": dep_min[c],
        "wtt_arr_min": wtt_arr_min[c],
        "wtt_dep_min": wtt_dep_min[c],
        "activity": _as_string(activity),
    })

    unknown = calls.loc[calls["crs"].isna(), "tiploc"]
    uid_counts = schedules["uid"].value_counts()
    info = {
        "source": where,
        "records": n,
        "schedules_read": nb,
        "cancellations": int(is_cancel.sum()),
        "schedules_without_locations": int((~has_loc & ~is_cancel).sum()),
        "non_passenger_dropped": int((has_loc & ~passenger).sum()) if passenger_only else 0,
        "schedules": len(schedules),
        "schedules_by_stp": {s: int(v) for s, v in schedules["stp"].value_counts().sort_index().items()},
        "uids_in_several_schedules": int((uid_counts > 1).sum()),
        "schedules_crossing_midnight": crossing,
        "schedules_without_calls": int(len(schedules) - calls["schedule"].nunique()),
        "location_records": m,
        "passing_points_skipped": int(li_pass.sum()),
        "non_public_stops_skipped": int(m - li_pass.sum() - len(c)),
        "calls": len(calls),
        "station_file": station_note,
        "stations": len(stations),
        "unknown_tiplocs": int(unknown.nunique()) if msn_bytes is not None else None,
        "calls_without_crs": int(len(unknown)),
        **info_extra,
    }
    return CifTimetable(source=where, schedules=schedules, calls=calls, stations=stations,
                        info=MappingProxyType(info))


# --------------------------------------------------------------------------------------------
# segments and running times


def cif_segments(tt: CifTimetable, *, by: str = "public") -> pd.DataFrame:
    """Every pair of consecutive public calls of every schedule, with its running time.

    Parameters
    ----------
    tt : CifTimetable
        From :func:`read_cif`.
    by : {"public", "working"}, default "public"
        The times to use: the public timetable's (whole minutes) or the working timetable's
        (half minutes). The calls are the public calls either way.

    Returns
    -------
    pandas.DataFrame
        One row per segment, in schedule and call order: ``schedule``, ``uid``, ``atoc``,
        ``category``, ``from_crs``, ``to_crs``, ``from_tiploc``, ``to_tiploc``, ``dep_min``
        (departure from the from call), ``arr_min`` (arrival at the to call), ``run_min``
        (``arr_min - dep_min``), ``dwell_min`` (departure minus arrival at the from call; NaN at the
        origin), ``seq`` (of the from call), ``n_calls`` (of the schedule), ``first_crs``,
        ``last_crs`` (of the schedule). Dropped, and counted in ``attrs``: pairs without a
        departure time at the from call or an arrival time at the to call (a set-down-only call
        has no public departure, a take-up-only call no public arrival:
        ``attrs["dropped_missing_time"]``), pairs with a running time of zero or less
        (``attrs["dropped_nonpositive"]``), and pairs whose two calls have the same CRS
        (``attrs["dropped_same_crs"]``). Pairs with an unknown CRS are kept
        (``attrs["unknown_crs"]``).
    """
    if not isinstance(tt, CifTimetable):
        raise ParameterError(f"cif_segments needs a CifTimetable from read_cif, not {type(tt).__name__}")
    if by not in ("public", "working"):
        raise ParameterError(f"by must be 'public' or 'working', not {by!r}")
    arr_col, dep_col = ("arr_min", "dep_min") if by == "public" else ("wtt_arr_min", "wtt_dep_min")
    c = tt.calls
    sched = c["schedule"].to_numpy()
    n = len(c)
    same = np.zeros(n, dtype=bool)
    if n > 1:
        same[:-1] = sched[:-1] == sched[1:]
    i = np.flatnonzero(same)
    j = i + 1
    arr = c[arr_col].to_numpy(dtype=float)
    dep = c[dep_col].to_numpy(dtype=float)
    run = arr[j] - dep[i]
    crs = c["crs"]
    tip = c["tiploc"]

    starts = np.ones(n, dtype=bool)
    starts[1:] = sched[1:] != sched[:-1]
    group = np.cumsum(starts) - 1
    first_idx = np.flatnonzero(starts)[group]
    n_calls = np.bincount(group, minlength=int(starts.sum()))[group] if n else np.zeros(0, dtype=np.int64)
    last_idx = first_idx + n_calls - 1

    sch = tt.schedules.set_index("schedule")
    sidx = sch.index.get_indexer(sched[i])
    from_crs = crs.array[i]
    to_crs = crs.array[j]
    seg = pd.DataFrame({
        "schedule": sched[i],
        "uid": sch["uid"].array[sidx],
        "atoc": sch["atoc"].array[sidx],
        "category": sch["category"].array[sidx],
        "from_crs": from_crs,
        "to_crs": to_crs,
        "from_tiploc": tip.array[i],
        "to_tiploc": tip.array[j],
        "dep_min": dep[i],
        "arr_min": arr[j],
        "run_min": run,
        "dwell_min": dep[i] - arr[i],
        "seq": c["seq"].to_numpy()[i],
        "n_calls": n_calls[i],
        "first_crs": crs.array[first_idx[i]],
        "last_crs": crs.array[last_idx[i]],
    })
    missing = np.isnan(run)
    nonpos = ~missing & (run <= 0)
    same_crs = np.asarray((seg["from_crs"] == seg["to_crs"]).fillna(False), dtype=bool) & ~missing & ~nonpos
    keep = ~missing & ~nonpos & ~same_crs
    out = seg[keep].reset_index(drop=True)
    out.attrs.update({
        "by": by, "source": tt.source, "pairs": int(len(seg)), "segments": int(len(out)),
        "dropped_missing_time": int(missing.sum()), "dropped_nonpositive": int(nonpos.sum()),
        "dropped_same_crs": int(same_crs.sum()),
        "unknown_crs": int((out["from_crs"].isna() | out["to_crs"].isna()).sum()),
    })
    return out


_STATS = ("median", "mean", "min", "max")


def segment_times(segments: pd.DataFrame, *, stat: str = "median") -> pd.DataFrame:
    """Running times per ordered pair of stations (A to B and B to A are different rows).

    Parameters
    ----------
    segments : pandas.DataFrame
        From :func:`cif_segments` (``schedule``, ``atoc``, ``from_crs``, ``to_crs``, ``run_min``,
        ``dwell_min`` are used). Segments with an unknown CRS are left out (counted in
        ``attrs["unknown_crs_dropped"]``).
    stat : {"median", "mean", "min", "max"}, default "median"
        How the running times of a pair are summarised in ``run_min``.

    Returns
    -------
    pandas.DataFrame
        One row per (``from_crs``, ``to_crs``), sorted by them: ``run_min`` (the ``stat`` of the
        running times of its segments), ``run_min_min`` (the fastest), ``n`` (the number of
        schedules running it), ``dwell_from_min`` (the median dwell at the from station before
        it, over the segments that have one: NaN when every one starts at its origin),
        ``operators`` (the ATOC operator codes, sorted, joined with ``";"``).
    """
    if stat not in _STATS:
        raise ParameterError(f"stat must be one of {', '.join(_STATS)}, not {stat!r}")
    need = ("schedule", "atoc", "from_crs", "to_crs", "run_min", "dwell_min")
    miss = [c for c in need if c not in segments.columns]
    if miss:
        raise MissingColumnError(f"segments lacks column(s) {', '.join(miss)}; give the frame cif_segments returns")
    known = segments["from_crs"].notna() & segments["to_crs"].notna()
    s = segments.loc[known, list(need)]
    g = s.groupby(["from_crs", "to_crs"], sort=True, observed=True)
    out = pd.DataFrame({
        "run_min": g["run_min"].agg(stat).astype(float),
        "run_min_min": g["run_min"].min().astype(float),
        "n": g["schedule"].nunique().astype(np.int64),
        "dwell_from_min": g["dwell_min"].median().astype(float),
    })
    ops = (s.dropna(subset=["atoc"]).drop_duplicates(["from_crs", "to_crs", "atoc"])
           .sort_values(["from_crs", "to_crs", "atoc"]).groupby(["from_crs", "to_crs"], sort=True)["atoc"]
           .agg(";".join))
    out["operators"] = pd.array(ops.reindex(out.index).to_numpy(dtype=object, na_value=None), dtype="string")
    out["operators"] = out["operators"].fillna("")
    out = out.reset_index()
    out.attrs.update({"stat": stat, "unknown_crs_dropped": int((~known).sum()), "segments": int(known.sum())})
    return out


def station_dwells(segments: pd.DataFrame) -> pd.DataFrame:
    """The mean dwell at each station (CRS) over the schedules that call there and go on (the
    dwell before each segment that does not start at its train's origin).

    The mean, not the median, because dwells add up along a journey: with public times in whole
    minutes many dwells read 0 and some 1 or 2, and only the mean keeps their sum. Returns one
    row per station: ``crs``, ``dwell_min``, ``n`` (calls).
    """
    need = ("from_crs", "dwell_min")
    miss = [c for c in need if c not in segments.columns]
    if miss:
        raise MissingColumnError(f"segments lacks column(s) {', '.join(miss)}; give the frame cif_segments returns")
    s = segments.loc[segments["from_crs"].notna() & segments["dwell_min"].notna(), list(need)]
    g = s.groupby("from_crs", sort=True, observed=True)["dwell_min"]
    out = pd.DataFrame({"dwell_min": g.mean().astype(float), "n": g.size().astype(np.int64)}).reset_index()
    return out.rename(columns={"from_crs": "crs"})
