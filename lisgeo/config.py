"""Where the project's authored files live, and reading them.

The authored facts and settings (``layers/``: sites, HS2, assumptions, scenarios, index
weights, the coldspot rule…) and the map definitions (``maps/``) sit at the top of the
repository, beside the package. ``LISGEO_LAYERS_DIR`` and ``LISGEO_MAPS_DIR`` point elsewhere,
e.g. at a planner's own copy.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

from .errors import ConfigError, DataNotFoundError

__all__ = ["layers_dir", "maps_dir", "authored_path", "read_toml"]

_REPO = Path(__file__).resolve().parents[1]


def layers_dir() -> Path:
    """The folder of authored files: ``$LISGEO_LAYERS_DIR`` or ``layers/`` beside the package."""
    base = os.environ.get("LISGEO_LAYERS_DIR")
    return Path(base).expanduser() if base else _REPO / "layers"


def maps_dir() -> Path:
    """The folder of map definitions: ``$LISGEO_MAPS_DIR`` or ``maps/`` beside the package."""
    base = os.environ.get("LISGEO_MAPS_DIR")
    return Path(base).expanduser() if base else _REPO / "maps"


def authored_path(*parts: str) -> Path:
    """Path of an authored file under :func:`layers_dir` (not checked for existence)."""
    return layers_dir().joinpath(*parts)


def read_toml(path: str | os.PathLike, *, what: str) -> dict[str, Any]:
    """Parse a TOML file; a missing file or bad syntax raises an error naming ``what``."""
    p = Path(path)
    if not p.is_file():
        raise DataNotFoundError(
            f"{what} file {str(p)!r} not found; check the path, or set LISGEO_LAYERS_DIR to a folder holding it"
        )
    try:
        return tomllib.loads(p.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{what} file {p.name} is not valid TOML ({exc}); fix the syntax") from None
