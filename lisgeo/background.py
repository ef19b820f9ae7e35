"""Work done alongside, in a second process whose only effect is the disk cache.

A cold ``lisgeo score`` spends about as long reading the region's layers as building its network,
and the two do not depend on each other; ``lisgeo build`` scores two scenarios. On a machine with
two cores a :class:`Warmer` runs such independent steps in a child process (a fresh ``python -m
lisgeo.background``: the same on every platform, from scripts and notebooks) while the caller goes
on with its own.

Each task is a lisgeo function whose result the disk cache (:mod:`lisgeo.cache`) keeps, and is
named after the entry it leaves (``"<kind>:<key>"``). The cache's readers
(:func:`lisgeo.cache.load_frame`, :func:`lisgeo.cache.load_pickle`) wait for a pending task of that
name, then read the entry exactly as on any rerun. A task the child has not started when the caller
needs it is the caller's: each process claims a task before starting it (a file created once,
:func:`_claim`), so the caller takes it over instead of waiting while the child works through the
tasks before it, and the child skips it. Nothing else passes between the processes: a
result comes back through the cache's exact round trip, and a task that fails in the child is
simply run again by the caller, which then raises its error where a run in one process would. The
answers are the same with one process or two; only the time changes (``benchmarks/README.md``).

How many processes: ``workers`` arguments, else ``LISGEO_WORKERS``, else two where the machine has
two cores or more. One process (``LISGEO_WORKERS=1``), the cache turned off (``LISGEO_NO_CACHE=1``)
or a cache folder that cannot be written runs everything in order in the calling process.

The claims folder (``lisgeo-claims-<pid>-*`` in the temporary folder) goes when the warmer stops;
one that a killed run left is removed by a later run (:func:`sweep_temp`, through
:func:`lisgeo.cache.sweep`).
"""

from __future__ import annotations

import atexit
import hashlib
import importlib
import json
import logging
import os
import pickle
import shutil
import subprocess
import sys
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

__all__ = ["Task", "Warmer", "workers", "prestart", "start", "pending", "wanted", "wait_for", "stop_all", "sweep_temp"]

log = logging.getLogger(__name__)

#: Warmers started by this process and not yet finished.
_ACTIVE: list["Warmer"] = []


@dataclass(frozen=True)
class Task:
    """One step for the child: ``target`` (``"module:function"``) called with ``args`` and ``kwargs``.

    ``name`` is what :func:`wait_for` waits for: by convention ``"<cache kind>:<cache key>"``, the
    entry the call leaves in the disk cache."""

    name: str
    target: str
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)


def workers(requested: int | None = None) -> int:
    """The number of processes a run may use: ``requested``, else ``LISGEO_WORKERS``, else
    ``min(2, cores)`` (never below 1)."""
    if requested is None:
        env = os.environ.get("LISGEO_WORKERS", "").strip()
        if env:
            try:
                requested = int(env)
            except ValueError:
                from .errors import ParameterError

                raise ParameterError(f"LISGEO_WORKERS must be a whole number of processes (1 = no second process), got {env!r}") from None
        else:
            requested = min(2, os.cpu_count() or 1)
    return max(1, int(requested))


def _resolve(target: str):
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)


def _claim_file(name: str) -> str:
    return hashlib.sha256(name.encode()).hexdigest()[:32]


def _claim(folder: str | None, name: str) -> bool:
    """Claim task ``name`` for this process: True once, for the first process to ask (the file
    ``folder/<digest of name>`` is created exclusively); True without a folder, or when the folder
    cannot be written (each process then runs what it needs, as before there was a claim)."""
    if folder is None:
        return True
    path = os.path.join(folder, _claim_file(name))
    try:
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    except FileExistsError:
        return False
    except OSError:
        return True
    return True


def _child(tasks: list[Task], out, claims: str | None = None) -> None:
    """The child's loop: each task in order, unless the caller has claimed it (:func:`_claim`:
    reported as taken); one JSON line per task on ``out`` (done, with its warnings; taken; or
    failed, and nothing after it)."""
    os.environ["LISGEO_WORKERS"] = "1"  # no process of its own
    for t in tasks:
        if not _claim(claims, t.name):
            out.write(json.dumps({"status": "taken", "name": t.name, "detail": []}) + "\n")
            out.flush()
            continue
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("default")
            try:
                _resolve(t.target)(*t.args, **t.kwargs)
            except BaseException as exc:  # the caller runs the task again and raises it there
                out.write(json.dumps({"status": "failed", "name": t.name, "detail": f"{type(exc).__name__}: {exc}"}) + "\n")
                out.flush()
                return
        seen: list[list[str]] = []
        for w in caught:
            item = [w.category.__module__, w.category.__qualname__, str(w.message)]
            if item not in seen:
                seen.append(item)
        out.write(json.dumps({"status": "done", "name": t.name, "detail": seen}) + "\n")
        out.flush()


#: What a child imports before it reads its tasks: a process started ahead (:func:`prestart`)
#: spends the time its caller takes to work out the tasks on these.
_PRELOAD = ("lisgeo.pipeline.score", "lisgeo.layers")


def _main() -> None:
    """``python -m lisgeo.background``: the tasks (pickled) on stdin, the reports on stdout; no
    tasks (stdin closed empty) ends it."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the caller's; it ends this process (stop_all)
    from ._gc import collect_never

    collect_never()  # a one-shot process, as the command that starts it
    for module in (*_PRELOAD, *sys.argv[1:]):  # (and what the caller named: prestart(preload=...))
        try:
            importlib.import_module(module)
        except Exception:  # a task that needs it reports the error itself
            pass
    payload = sys.stdin.buffer.read()
    if not payload:
        return
    work = pickle.loads(payload)
    out = sys.stdout
    sys.stdout = sys.stderr  # anything a task prints stays off the report channel
    try:
        _child(work["tasks"], out, work.get("claims"))
    except (BrokenPipeError, OSError):  # the caller is gone: what is stored stays stored
        os._exit(0)


def _warning_class(module: str, qualname: str) -> type[Warning]:
    try:
        obj: Any = importlib.import_module(module)
        for part in qualname.split("."):
            obj = getattr(obj, part)
        if isinstance(obj, type) and issubclass(obj, Warning):
            return obj
    except Exception:
        pass
    return UserWarning


class Warmer:
    """A child process running ``tasks`` in order (see the module docstring); use :func:`start`.

    The child is a fresh ``python -m lisgeo.background`` (not :mod:`multiprocessing`, whose
    ``spawn`` re-runs the caller's script when it has no ``if __name__ == "__main__"`` guard)."""

    def __init__(self, tasks: Iterable[Task], wanted: Iterable[str] = ()):
        self.tasks = list(tasks)
        self.wanted = frozenset(wanted)  # entries the caller makes that the child's tasks read
        self.status: dict[str, str] = {}  # name -> "done" | "failed" | "taken" (run by the caller)
        try:  # where each process claims a task before running it (:func:`_claim`); named after its owner
            self._claims: str | None = tempfile.mkdtemp(prefix=f"{CLAIMS_PREFIX}{os.getpid()}-")
        except OSError:
            self._claims = None
        payload = pickle.dumps({"tasks": self.tasks, "claims": self._claims})
        self._proc = None
        try:
            self._proc = _take_spare() or _spawn()
            self._proc.stdin.write(payload)
            self._proc.stdin.close()
        except OSError:
            self.stop()
            raise
        _ACTIVE.append(self)

    def started(self, name: str) -> bool:
        """Whether the child has claimed task ``name`` (it is running it, or has run it)."""
        if self.status.get(name) == "taken":
            return False
        if name in self.status or self._claims is None:
            return name in self.status
        return os.path.exists(os.path.join(self._claims, _claim_file(name)))

    def take(self, name: str) -> bool:
        """Claim task ``name`` for the caller if the child has not started it: True when the caller
        is to run it now (the child will skip it), False when the child has it (wait for it)."""
        if name in self.status or self._claims is None or not _claim(self._claims, name):
            return False
        self.status[name] = "taken"
        if all(n in self.status for n in self.names()):
            self.stop()
        return True

    def names(self) -> list[str]:
        return [t.name for t in self.tasks]

    def wait_for(self, name: str) -> bool:
        """Wait until task ``name`` has finished in the child; True when it succeeded (its
        warnings are then issued here, as a run in one process would issue them)."""
        while name not in self.status:
            self._read_report()
        if all(n in self.status for n in self.names()):
            self.stop()
        return self.status.get(name) == "done"

    def reported(self, name: str) -> bool:
        """Whether the child has reported task ``name`` (read what it has sent, without waiting)."""
        import select

        out = self._proc.stdout if self._proc is not None else None
        while name not in self.status and out is not None and not out.closed:
            try:
                ready = select.select([out], [], [], 0)[0]
            except (OSError, ValueError):
                break
            if not ready:
                break
            self._read_report()
        return name in self.status

    def _read_report(self) -> None:
        """Read one report line of the child (waiting for it) into :attr:`status`."""
        line = self._proc.stdout.readline() if self._proc is not None and self._proc.stdout is not None else b""
        if not line:  # the child is gone: what it did not report is not done
            for n in self.names():
                self.status.setdefault(n, "failed")
            return
        try:
            msg = json.loads(line)
        except ValueError:
            return
        if msg["status"] == "taken":  # the caller claimed it first
            self.status.setdefault(msg["name"], "taken")
            return
        self.status[msg["name"]] = msg["status"]
        if msg["status"] == "done":
            for module, qualname, message in msg["detail"]:
                warnings.warn(message, _warning_class(module, qualname), stacklevel=4)
        else:  # nothing after it runs
            log.info("lisgeo: %s failed in the second process (%s); running it here", msg["name"], msg["detail"])
            for n in self.names():
                self.status.setdefault(n, "failed")

    def stop(self) -> None:
        """End the child (at once if it is still working) and forget it."""
        if self._proc is not None:
            _end(self._proc)
        if self._claims is not None:
            shutil.rmtree(self._claims, ignore_errors=True)
        if self in _ACTIVE:
            _ACTIVE.remove(self)


#: The claims folders' names in the temporary folder: ``lisgeo-claims-<pid of the caller>-<random>``.
CLAIMS_PREFIX = "lisgeo-claims-"
#: Other folders of lisgeo's in the temporary folder (no owner in the name: only the age rule applies).
_TEMP_PREFIXES = ("lisgeo-map-",)


def _temp_owner(name: str) -> int | None:
    """The process id in a claims folder's name, else None (an older version's name, or another folder)."""
    if name.startswith(CLAIMS_PREFIX):
        pid, sep, _ = name[len(CLAIMS_PREFIX):].partition("-")
        if sep and pid.isdigit():
            return int(pid)
    return None


def _last_touched(path: str) -> float:
    """The latest modification time of a folder and the files right inside it."""
    latest = os.stat(path, follow_symlinks=False).st_mtime
    try:
        with os.scandir(path) as it:
            for e in it:
                try:
                    latest = max(latest, e.stat(follow_symlinks=False).st_mtime)
                except OSError:
                    pass
    except OSError:
        pass
    return latest


def sweep_temp(*, now: float | None = None, folder: str | None = None) -> list[Path]:
    """Remove the claims folders (and ``lisgeo-map-*`` folders) that killed runs left in the
    temporary folder, when stale by :func:`lisgeo.cache.stale`: the process that made a claims folder
    (the pid in its name) no longer runs and the folder has not been touched for
    :data:`lisgeo.cache.STALE_GONE_S`, or any such folder untouched for :data:`lisgeo.cache.STALE_AFTER_S`.
    A live run's folder is never removed within the hour. Returns what was removed."""
    from .cache import stale

    folder = folder or tempfile.gettempdir()
    removed: list[Path] = []
    try:
        entries = [e for e in os.scandir(folder) if e.name.startswith((CLAIMS_PREFIX, *_TEMP_PREFIXES))]
    except OSError:
        return removed
    mine = {w._claims for w in _ACTIVE}
    for e in entries:
        try:
            if e.path in mine or not e.is_dir(follow_symlinks=False):
                continue
            if stale(_last_touched(e.path), _temp_owner(e.name), now=now):
                shutil.rmtree(e.path)
                removed.append(Path(e.path))
        except OSError:  # gone meanwhile, or another user's
            pass
    return removed


#: A child started ahead of its tasks (:func:`prestart`), not yet given any.
_SPARE: list[subprocess.Popen] = []


def _spawn(preload: Iterable[str] = ()) -> subprocess.Popen:
    env = dict(os.environ)
    home = str(Path(__file__).resolve().parents[1])  # lisgeo importable even when not installed
    env["PYTHONPATH"] = os.pathsep.join([home, *([env["PYTHONPATH"]] if env.get("PYTHONPATH") else [])])
    return subprocess.Popen([sys.executable, "-m", "lisgeo.background", *preload], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, env=env, text=False)


def _take_spare() -> subprocess.Popen | None:
    while _SPARE:
        proc = _SPARE.pop()
        if proc.poll() is None:
            return proc
    return None


def _end(proc: subprocess.Popen) -> None:
    """End a child: at once if it is still working."""
    if proc.poll() is None:
        proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    for stream in (proc.stdin, proc.stdout):
        if stream is not None and not stream.closed:
            try:
                stream.close()
            except OSError:
                pass


def prestart(*, n_workers: int | None = None, preload: Iterable[str] = ()) -> None:
    """Start the second process now, before its tasks are known: it imports lisgeo (about 0.8 s)
    while this process works out what to give it. The next :func:`start` hands it the tasks; unused,
    it ends with this process. Nothing happens with one process or the cache off. ``preload``:
    modules it imports too, when its tasks will need them and the caller takes longer to work
    them out (``lisgeo build``: ``lisgeo.network``, about 0.9 s, while the caller keys the maps)."""
    from .config import cache_enabled  # (not lisgeo.cache, which imports pandas: see lisgeo.cli.run)

    if _SPARE or workers(n_workers) < 2 or not cache_enabled(None):
        return
    try:
        _SPARE.append(_spawn(preload))
    except Exception as exc:  # no second process: start() will say so or run in one
        log.info("lisgeo: no second process started ahead (%s: %s)", type(exc).__name__, exc)


def start(tasks: Iterable[Task], *, n_workers: int | None = None, wanted: Iterable[str] = ()) -> Warmer | None:
    """A :class:`Warmer` for the ``tasks`` that neither a running warmer has nor the cache holds
    already, or None (one process, caching off, or nothing left to do). ``wanted``: names of
    entries this process makes that the tasks read (written at once, never kept back: see
    :func:`lisgeo.cache.store_pickle`)."""
    from . import cache

    if workers(n_workers) < 2 or not cache.enabled(None):
        return None
    try:  # a cache that cannot be written would make the child's work lost
        folder = cache.results_dir()
        folder.mkdir(parents=True, exist_ok=True)
        if not os.access(folder, os.W_OK):
            return None
    except OSError:
        return None
    todo = [t for t in tasks if t is not None and not pending(t.name) and not _stored(t.name)]
    if not todo:
        return None
    try:
        return Warmer(todo, wanted)
    except Exception as exc:  # no second process (e.g. not allowed to start one): go on in one
        log.info("lisgeo: no second process (%s: %s); running in one", type(exc).__name__, exc)
        return None


def _stored(name: str) -> bool:
    """Whether the cache already holds the entry a task is named after."""
    from . import cache

    kind, _, key = name.partition(":")
    return cache.entry_path(kind, key, ".parquet").is_file() or cache.pickle_at_hand(kind, key)


def wanted(name: str) -> bool:
    """Whether a running warmer's tasks read the entry ``name`` that this process makes."""
    return any(name in w.wanted for w in _ACTIVE)


def pending(name: str) -> bool:
    """Whether a running warmer has task ``name`` not yet reported."""
    return any(name in w.names() and name not in w.status for w in _ACTIVE)


def wait_for(name: str) -> bool | None:
    """Wait for task ``name`` if a warmer has it: True (done: read the cache), False (run it here:
    it failed there, or the child had not started it and this process has taken it over, see
    :meth:`Warmer.take`), None (no warmer has it). Before waiting, the cache entries this process
    kept back are written (:func:`lisgeo.cache.flush_deferred`), in time it would otherwise spend
    idle; in the ``lisgeo`` command by a forked writer (:func:`lisgeo.cache.write_behind`), so
    that a wait shorter than the writing (D2N2's network: 0.6 s) does not end later for it."""
    for w in list(_ACTIVE):
        if name in w.names():
            if not w.reported(name):
                if w.take(name):
                    return False
                from . import cache

                if not (cache.WRITE_BEHIND and cache.write_behind()):  # only when there is a wait ahead
                    cache.flush_deferred()
            return w.wait_for(name)
    return None


def stop_all() -> None:
    """End every running warmer (what they finished stays in the cache) and an unused child started ahead."""
    for w in list(_ACTIVE):
        w.stop()
    while _SPARE:
        _end(_SPARE.pop())


atexit.register(stop_all)

if __name__ == "__main__":
    _main()
