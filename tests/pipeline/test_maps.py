"""The drawn-map disk cache of ``make_maps`` / ``lisgeo build`` (issue 9: a rebuild with nothing
changed copies its maps instead of scoring and drawing them again)."""

from __future__ import annotations

import pytest


MAP = '''title = "Broadband"
subtitle = "Gigabit coverage by district"

[[layers]]
name = "broadband"
layer = "broadband_lad"
options = {{ year = 2021 }}
column = "gigabit_pct"
scheme = "equal_interval"
k = {k}
palette = "BuGn"
tooltip = ["LADNM", "gigabit_pct"]
'''


@pytest.fixture
def counted(monkeypatch, tmp_path):
    from lisgeo.pipeline import maps as mod

    monkeypatch.setenv("LISGEO_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("LISGEO_NO_CACHE", raising=False)
    calls = []
    real = mod.make_map

    def make_map(spec, **kw):
        calls.append(spec.name)
        return real(spec, **kw)

    monkeypatch.setattr(mod, "make_map", make_map)
    folder = tmp_path / "maps"
    folder.mkdir()
    (folder / "bb.toml").write_text(MAP.format(k=4), encoding="utf-8")
    return mod, calls, folder


def _run(mod, folder, out, **kw):
    return mod.make_maps(region="E06000018", out_dir=out, maps_dir=folder, progress=False, **kw)


def test_rebuild_copies_the_drawn_map(real_data, counted, tmp_path):
    mod, calls, folder = counted
    first = _run(mod, folder, tmp_path / "a")
    again = _run(mod, folder, tmp_path / "b")
    assert calls == ["bb"]  # drawn once
    (a,), (b,) = first, again
    assert b.html == tmp_path / "b" / "maps" / "bb.html" and b.png == tmp_path / "b" / "maps" / "bb.png"
    assert b.html.read_bytes() == a.html.read_bytes() and b.png.read_bytes() == a.png.read_bytes()
    assert b.html_bytes == a.html_bytes and (b.title, b.subtitle) == (a.title, a.subtitle)
    # what the report reads comes back too
    assert b.result.table.equals(a.result.table) and b.result.sources == a.result.sources
    assert b.result.provenance.text == a.result.provenance.text
    assert b.result.feature_counts() == a.result.feature_counts() and b.result.map is None


def test_a_changed_input_draws_again(real_data, counted, tmp_path):
    mod, calls, folder = counted
    _run(mod, folder, tmp_path / "a")
    (folder / "bb.toml").write_text(MAP.format(k=3), encoding="utf-8")  # the map definition
    _run(mod, folder, tmp_path / "a")
    _run(mod, folder, tmp_path / "a", png=False)  # the outputs asked for
    _run(mod, folder, tmp_path / "a", inline=False)
    assert calls == ["bb"] * 4
    layers = tmp_path / "layers"  # an authored file (the planner's copy of layers/)
    import shutil

    from lisgeo.config import default_dir

    shutil.copytree(default_dir("layers"), layers)
    with (layers / "assumptions.toml").open("a", encoding="utf-8") as fh:
        fh.write("\n# edited\n")
    mp = pytest.MonkeyPatch()
    mp.setenv("LISGEO_LAYERS_DIR", str(layers))
    try:
        _run(mod, folder, tmp_path / "a", inline=False)
    finally:
        mp.undo()
    assert calls == ["bb"] * 5


def test_no_cache_for_frames_given_or_when_off(real_data, counted, tmp_path, monkeypatch):
    from lisgeo.layers import load_layer

    mod, calls, folder = counted
    frames = {("layer", "broadband_lad", (("year", 2021),)): load_layer("broadband_lad", region="E06000018", year=2021)}
    for _ in range(2):  # a caller's own frames are never cached nor served from the cache
        _run(mod, folder, tmp_path / "a", data=mod.MapData(region="E06000018", frames=frames))
    assert calls == ["bb"] * 2
    monkeypatch.setenv("LISGEO_NO_CACHE", "1")
    _run(mod, folder, tmp_path / "a")
    _run(mod, folder, tmp_path / "a")
    assert calls == ["bb"] * 4


def test_classes_never_import_the_heavy_classification_stack():
    """Neither importing the pipeline's maps module nor computing classes of every scheme may pull
    mapclassify (scipy.stats, scikit-learn, pyplot: about 2.5 s per process)."""
    import subprocess
    import sys

    code = ("import sys, lisgeo.pipeline.maps; print('mapclassify' in sys.modules); "
            "from lisgeo.mapping.classify import classify_values; import numpy as np; "
            "[classify_values(np.arange(20.0), scheme=s, k=4) for s in ('quantiles', 'natural_breaks', 'equal_interval')]; "
            "print('mapclassify' in sys.modules, 'sklearn' in sys.modules, 'scipy.stats' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["False", "False", "False", "False"]
