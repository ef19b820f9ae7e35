"""Where the project's authored files live, and reading them.

The authored facts and settings (``layers/``: sites, HS2, assumptions, scenarios, index
weights, the coldspot rule…) and the map definitions (``maps/``) have one home: the top of
the repository. An installed wheel carries them inside the package, as
``lisgeo/_defaults/layers`` and ``lisgeo/_defaults/maps`` (``pyproject.toml`` maps the two
folders there at build time; nothing is copied into the source tree), and they are read with
:mod:`importlib.resources`; an editable checkout reads the repository folders themselves.
``LISGEO_LAYERS_DIR`` and ``LISGEO_MAPS_DIR`` point elsewhere, e.g. at a planner's own copy
made by :func:`init_folder` (``lisgeo init DIR``).
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import importlib.resources
import os
import shlex
import shutil
import tomllib
from pathlib import Path
from typing import Any

from .errors import ConfigError, DataNotFoundError

__all__ = ["authored_path", "default_dir", "env_lines", "init_folder", "layers_dir", "maps_dir", "read_toml"]

_REPO = Path(__file__).resolve().parents[1]
_DEFAULTS = "_defaults"  # where the wheel carries layers/ and maps/ inside the package
_FOLDERS = {"layers": "LISGEO_LAYERS_DIR", "maps": "LISGEO_MAPS_DIR"}


@functools.cache
def default_dir(name: str) -> Path:
    """The default ``layers`` or ``maps`` folder, as a real path, ignoring the environment.

    In an installed wheel: the package resource ``lisgeo/_defaults/<name>`` (extracted to a
    temporary folder for the life of the process if the package is not on disk). In an
    editable checkout, where the package holds no copy: ``<name>/`` at the top of the repository.
    """
    if name not in _FOLDERS:
        raise ValueError(f"unknown default folder {name!r}; use one of {sorted(_FOLDERS)}")
    res = importlib.resources.files(__package__).joinpath(_DEFAULTS, name)
    if res.is_dir():
        if isinstance(res, Path):  # an ordinary installed package: the folder itself
            return res
        stack = contextlib.ExitStack()  # e.g. a zipped package: extract for this process
        atexit.register(stack.close)
        return Path(stack.enter_context(importlib.resources.as_file(res)))
    return _REPO / name


def _folder(name: str) -> Path:
    base = os.environ.get(_FOLDERS[name])
    return Path(base).expanduser() if base else default_dir(name)


def layers_dir() -> Path:
    """The folder of authored files: ``$LISGEO_LAYERS_DIR``, else the default ``layers/``."""
    return _folder("layers")


def maps_dir() -> Path:
    """The folder of map definitions: ``$LISGEO_MAPS_DIR``, else the default ``maps/``."""
    return _folder("maps")


def authored_path(*parts: str) -> Path:
    """Path of an authored file under :func:`layers_dir` (not checked for existence)."""
    return layers_dir().joinpath(*parts)


def _decode(raw: bytes, p: Path, what: str) -> str:
    """The text of a TOML file: UTF-8, with or without a byte-order mark; else one clear error."""
    fix = "save it as UTF-8 (in Excel or Notepad: Save As, encoding UTF-8)"
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ConfigError(f"{what} file {str(p)!r} is saved as UTF-16, not UTF-8; {fix}")
    if b"\x00" in raw:
        raise ConfigError(f"{what} file {str(p)!r} is a binary file, not TOML text; give the path of a .toml file saved as UTF-8")
    try:
        return raw.decode("utf-8-sig")  # a UTF-8 byte-order mark is accepted and dropped
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        bad = raw[exc.start:exc.start + 1]
        try:
            shown = f" ({bad.decode('cp1252')!r} in the Windows encoding cp1252)"
        except UnicodeDecodeError:
            shown = ""
        raise ConfigError(
            f"{what} file {str(p)!r} is not UTF-8: byte 0x{bad.hex()} on line {line}{shown}; {fix}"
        ) from None


def read_toml(path: str | os.PathLike, *, what: str) -> dict[str, Any]:
    """Parse a TOML file; a missing, unreadable, non-UTF-8 or invalid file raises one clear error naming ``what``."""
    p = Path(path)
    if not p.is_file():
        raise DataNotFoundError(
            f"{what} file {str(p)!r} not found; check the path, or set LISGEO_LAYERS_DIR to a folder holding it"
        )
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{what} file {str(p)!r} cannot be read ({exc.strerror or exc}); check its permissions") from None
    try:
        return tomllib.loads(_decode(raw, p, what))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{what} file {p.name} is not valid TOML ({exc}); fix the syntax") from None


def init_folder(dest: str | os.PathLike, *, force: bool = False) -> dict[str, Path]:
    """Copy the default ``layers/`` and ``maps/`` trees into ``dest`` for a planner to edit.

    ``dest`` must be missing or empty unless ``force``, which writes into it and overwrites
    files of the same names (other files are kept). Returns ``{"LISGEO_LAYERS_DIR": dest/layers,
    "LISGEO_MAPS_DIR": dest/maps}``: the environment variables that make lisgeo use the copy.
    The defaults are copied, never ``$LISGEO_LAYERS_DIR`` / ``$LISGEO_MAPS_DIR``.
    """
    d = Path(dest).expanduser().absolute()
    if d.exists() and not d.is_dir():
        raise ConfigError(f"{str(d)!r} is a file, not a folder; choose a new folder name")
    if d.is_dir() and any(d.iterdir()) and not force:
        raise ConfigError(f"folder {str(d)!r} is not empty; choose a new folder, or pass --force to overwrite its layers/ and maps/ files")
    out: dict[str, Path] = {}
    for name, var in _FOLDERS.items():
        src = default_dir(name)
        if not src.is_dir():
            raise DataNotFoundError(f"the default {name}/ folder is missing from this installation ({src}); reinstall lisgeo")
        shutil.copytree(src, d / name, dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "__init__.py", ".*"))
        out[var] = d / name
    return out


def env_lines(env: dict[str, Path]) -> list[str]:
    """Shell lines that set ``env`` (``export`` on POSIX, ``set`` in a Windows console)."""
    if os.name == "nt":
        return [f"set {k}={v}" for k, v in env.items()]
    return [f"export {k}={shlex.quote(str(v))}" for k, v in env.items()]
