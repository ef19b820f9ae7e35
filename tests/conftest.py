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


@pytest.fixture
def three_lsoa_scores():
    """``make(london, leeds, conn, scenario)``: a hand-made three-LSOA scores frame (two Derby
    LSOAs, one Nottingham) with rail times to London and Leeds and a connectivity index."""
    import geopandas as gpd
    import pandas as pd
    from shapely.geometry import Point

    def make(london, leeds, conn, scenario):
        idx = ["E01000001", "E01000002", "E01000003"]
        df = pd.DataFrame({
            "LSOA21CD": idx, "LSOA21NM": ["A 001A", "A 001B", "B 001A"], "LADCD": ["E06000015", "E06000015", "E06000018"],
            "LADNM": ["Derby", "Derby", "Nottingham"], "LEP": "D2N2", "pop": [1000, 3000, 2000], "imd_decile": [1, 5, 9],
            "tt_rail_london": london, "tt_rail_leeds": leeds, "connectivity_index": conn,
        }, index=idx)
        g = gpd.GeoDataFrame(df, geometry=[Point(0, 0)] * 3, crs="EPSG:27700")
        g.attrs.update({"scenario": scenario, "region": "d2n2"})
        return g

    return make


@pytest.fixture
def read_only_folder():
    """``with read_only_folder(path):`` makes ``path`` read-only for the block, and skips the test
    where the OS lets the user write there anyway (root)."""
    import contextlib

    @contextlib.contextmanager
    def ro(folder: Path):
        folder.chmod(0o555)
        try:
            probe = folder / ".probe"
            try:
                probe.write_text("x")
            except OSError:
                pass
            else:
                probe.unlink()
                pytest.skip("this OS lets the user write into a read-only folder (running as root)")
            yield folder
        finally:
            folder.chmod(0o755)

    return ro


@pytest.fixture
def count_calls(monkeypatch):
    """``count_calls(module, "name")``: replace ``module.name`` by a wrapper that records each call
    (the returned list) and calls the real function."""

    def count(module, name: str) -> list:
        calls: list = []
        real = getattr(module, name)

        def counted(*args, **kwargs):
            calls.append(1)
            return real(*args, **kwargs)

        monkeypatch.setattr(module, name, counted)
        return calls

    return count


@pytest.fixture
def small_disk(tmp_path):
    """``small_disk(size)``: a folder on a real file system of ``size`` (a tmpfs, as root), unmounted
    after the test; the test is skipped where mounting is not allowed."""
    import subprocess

    mounted = []

    def mount(size: str = "2m", name: str = "disk") -> Path:
        folder = tmp_path / name
        folder.mkdir(parents=True, exist_ok=True)
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)], capture_output=True, text=True)
        if r.returncode != 0:
            pytest.skip(f"cannot mount a small file system here ({r.stderr.strip() or r.returncode})")
        mounted.append(folder)
        return folder

    yield mount
    for folder in mounted:
        subprocess.run(["umount", "-l", str(folder)], capture_output=True)
