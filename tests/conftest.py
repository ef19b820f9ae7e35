"""Shared fixtures.

Real-data tests read the pinned public files from ``LISGEO_DATA_DIR`` (default: the
``shared/data`` folder beside the checkout). Outside CI they skip when the folder is
absent; in CI (``CI`` set) a missing folder fails the run instead of skipping silently.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data"

if not os.environ.get("LISGEO_DATA_DIR") and DEFAULT_DATA.is_dir():
    os.environ["LISGEO_DATA_DIR"] = str(DEFAULT_DATA)
# never reach for the network from the tests
os.environ.setdefault("LISGEO_OFFLINE", "1")


def _data_available() -> bool:
    d = os.environ.get("LISGEO_DATA_DIR")
    return bool(d) and (Path(d) / "github").is_dir()


@pytest.fixture(scope="session")
def real_data() -> Path:
    """The public data folder; skips (or fails in CI) when it is absent."""
    if not _data_available():
        if os.environ.get("CI"):
            pytest.fail("LISGEO_DATA_DIR is not set to the shared data folder in CI")
        pytest.skip("public data folder not available (set LISGEO_DATA_DIR)")
    return Path(os.environ["LISGEO_DATA_DIR"])


@pytest.fixture
def isolated_data(tmp_path, monkeypatch):
    """An empty data folder and cache, downloads off: for tests of missing/corrupt files."""
    data = tmp_path / "data"
    cache = tmp_path / "cache"
    data.mkdir()
    cache.mkdir()
    monkeypatch.setenv("LISGEO_DATA_DIR", str(data))
    monkeypatch.setenv("LISGEO_CACHE_DIR", str(cache))
    monkeypatch.setenv("LISGEO_OFFLINE", "1")
    from lisgeo import catalog

    catalog._VERIFIED.clear()
    return data
