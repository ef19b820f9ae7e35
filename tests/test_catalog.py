"""The data catalog: hashes, lookup order, refusal of corrupt files, clear errors."""

from __future__ import annotations

import csv
import http.server
import shutil
import threading
import urllib.parse
from pathlib import Path

import pytest

from lisgeo import catalog
from lisgeo.errors import DataNotFoundError, HashMismatchError, UnknownNameError

SMALL = "github/drkane/geo-lookups/boundaries/readme.md"


def test_every_catalog_entry_is_in_the_shared_manifest(real_data):
    """Every catalogued file is in the data folder's manifest with the same URL and sha256. The
    manifest may hold more (a dataset the catalog does not use yet must not fail CI)."""
    manifest = {r["path"]: r for r in csv.DictReader(open(real_data / "manifest.csv", encoding="utf-8"))}
    ours = {f.path: f for d in catalog.list_datasets() for f in d.files}
    assert ours, "the catalog is empty"
    missing = sorted(set(ours) - set(manifest))
    assert not missing, f"catalogued but not in the manifest: {missing[:5]}"
    for path, f in ours.items():
        assert f.sha256 == manifest[path]["sha256"], path
        assert f.url == manifest[path]["url"], path
        assert int(f.bytes) == int(manifest[path]["bytes"]), path
        assert f.url.startswith("https://raw.githubusercontent.com/") and f.path.split("/", 3)[3] in urllib.parse.unquote(f.url)


def test_the_new_road_rail_and_osm_datasets_are_catalogued():
    """The DfT major roads, the ATOC CIF sample and the Rutland OSM extract (issue 21)."""
    for name, suffix in (("major_roads", ".zip"), ("rail_cif_sample", ".zip"), ("osm_rutland", ".osm.pbf")):
        ds = catalog.get_dataset(name)
        assert len(ds.files) == 1 and ds.files[0].path.endswith(suffix) and ds.licence and ds.attribution


def test_every_dataset_has_licence_and_attribution():
    for ds in catalog.list_datasets():
        assert ds.licence and ds.attribution and ds.vintage, ds.name


def test_all_catalogued_files_verify(real_data):
    """Every catalogued file is found in the data folder and its sha256 matches."""
    results = catalog.verify_files()
    n_catalog = sum(len(d.files) for d in catalog.list_datasets())
    assert len(results) == n_catalog
    assert {r.status for r in results} == {"ok"}, [r for r in results if r.status != "ok"][:3]


def test_resolve_prefers_data_dir(real_data):
    p = catalog.resolve_file(SMALL)
    assert p == real_data / SMALL


def test_unknown_dataset_lists_valid_names():
    with pytest.raises(UnknownNameError, match="valid datasets are: .*lsoa21_boundaries"):
        catalog.get_dataset("lsoa2021")


def test_missing_data_folder_says_where_it_looked(isolated_data):
    with pytest.raises(DataNotFoundError) as exc:
        catalog.resolve_file(SMALL)
    msg = str(exc.value)
    assert "geo_lookups_docs" in msg and str(isolated_data) in msg and "LISGEO_DATA_DIR" in msg


def test_corrupt_file_is_refused_and_named(isolated_data, real_data):
    target = isolated_data / SMALL
    target.parent.mkdir(parents=True)
    shutil.copy(real_data / SMALL, target)
    assert catalog.resolve_file(SMALL) == target  # the good copy is accepted
    with open(target, "ab") as fh:
        fh.write(b"tampered")
    with pytest.raises(HashMismatchError, match="readme.md.*lisgeo data fetch"):
        catalog.resolve_file(SMALL)
    status = {r.path: r.status for r in catalog.verify_files(["geo_lookups_docs"])}
    assert status[SMALL] == "mismatch"


def test_cache_is_used_when_data_dir_lacks_file(isolated_data, real_data, monkeypatch, tmp_path):
    cache = Path(catalog.cache_dir())
    (cache / SMALL).parent.mkdir(parents=True)
    shutil.copy(real_data / SMALL, cache / SMALL)
    assert catalog.resolve_file(SMALL) == cache / SMALL


@pytest.fixture
def served(tmp_path):
    """A loopback HTTP server over a folder, standing in for the pinned URLs."""
    root = tmp_path / "served"
    root.mkdir()
    handler = lambda *a, **k: http.server.SimpleHTTPRequestHandler(*a, directory=str(root), **k)  # noqa: E731
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield root, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_download_hash_mismatch_is_refused(isolated_data, monkeypatch, served):
    """A download whose bytes differ from the pin is refused and nothing is kept."""
    root, base = served
    (root / "readme.md").write_bytes(b"not the real file")
    entry = next(f for f in catalog.get_dataset("geo_lookups_docs").files if f.path == SMALL)
    fake = catalog.CatalogFile(**{**entry.__dict__, "url": f"{base}/readme.md"})
    monkeypatch.delenv("LISGEO_OFFLINE")
    with pytest.raises(HashMismatchError, match="does not match the pinned sha256"):
        catalog.resolve_file(fake)
    assert not (catalog.cache_dir() / entry.path).exists()


def test_download_of_good_file_lands_in_cache(isolated_data, monkeypatch, real_data, served):
    root, base = served
    shutil.copy(real_data / SMALL, root / "readme.md")
    entry = next(f for f in catalog.get_dataset("geo_lookups_docs").files if f.path == SMALL)
    fake = catalog.CatalogFile(**{**entry.__dict__, "url": f"{base}/readme.md"})
    monkeypatch.delenv("LISGEO_OFFLINE")
    got = catalog.resolve_file(fake)
    assert got == catalog.cache_dir() / SMALL and got.read_bytes() == (real_data / SMALL).read_bytes()


def test_attribution_deduplicates():
    text = catalog.attribution_for(["lsoa21_boundaries", "msoa21_boundaries", "naptan_100"])
    assert text.count("Contains OS data") == 1 and "NaPTAN" in text


def test_unreachable_download_is_a_clear_error(isolated_data, monkeypatch, served):
    root, base = served
    entry = next(f for f in catalog.get_dataset("geo_lookups_docs").files if f.path == SMALL)
    fake = catalog.CatalogFile(**{**entry.__dict__, "url": f"{base}/gone.md"})
    monkeypatch.delenv("LISGEO_OFFLINE")
    with pytest.raises(DataNotFoundError, match="download failed.*lisgeo data fetch"):
        catalog.resolve_file(fake)
