"""Packaging: the defaults (layers/, maps/) ship inside the wheel, TOML encodings, ``lisgeo init``.

The authored defaults have one home, ``layers/`` and ``maps/`` at the top of the repository;
``pyproject.toml`` maps them into the wheel as ``lisgeo/_defaults/``. The slow test builds the
real wheel and runs the CLI from it outside the checkout (``.ci/run`` also installs it in a venv).
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

from lisgeo import config
from lisgeo.cli import main
from lisgeo.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ("base", "hs2_2b", "hs2_phase1", "irp", "my_edit_example")
MUST_SHIP = (
    "lisgeo/_defaults/layers/assumptions.toml",
    "lisgeo/_defaults/layers/scenarios/base.toml",
    "lisgeo/_defaults/layers/validation/journey_times.csv",
    "lisgeo/_defaults/layers/sites.csv",
    "lisgeo/_defaults/maps/1_overview.toml",
)


def _authored_files(folder: Path) -> set[str]:
    """Every file a wheel must carry from ``folder`` (hidden files and caches aside), relative."""
    return {
        p.relative_to(folder).as_posix() for p in folder.rglob("*")
        if p.is_file() and not any(part.startswith(".") or part == "__pycache__" for part in p.relative_to(folder).parts)
    }


# ---------------------------------------------------------------- pyproject


def test_pyproject_lists_every_subpackage_and_maps_the_defaults():
    tool = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    listed = set(tool["packages"])
    regular = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "lisgeo").rglob("__init__.py")}
    missing = regular - listed
    assert not missing, f"add these packages to [tool.setuptools] packages in pyproject.toml: {sorted(missing)}"
    assert tool["package-dir"] == {"lisgeo._defaults.layers": "layers", "lisgeo._defaults.maps": "maps"}
    for pkg in listed - set(tool["package-dir"]):
        assert (ROOT / pkg.replace(".", "/")).is_dir(), f"{pkg} is listed in pyproject.toml but has no folder"
    assert not (ROOT / "lisgeo" / "_defaults").exists(), "lisgeo/_defaults is built from layers/ and maps/; commit no copies"


# ---------------------------------------------------------------- where the defaults are read


def test_defaults_are_real_folders_and_overrides_win(tmp_path, monkeypatch):
    monkeypatch.delenv("LISGEO_LAYERS_DIR", raising=False)
    monkeypatch.delenv("LISGEO_MAPS_DIR", raising=False)
    assert (config.layers_dir() / "assumptions.toml").is_file()
    assert (config.maps_dir() / "1_overview.toml").is_file()
    if Path(config.__file__).resolve().parent == ROOT / "lisgeo":  # an editable checkout: the repository's folders
        assert config.layers_dir() == ROOT / "layers" and config.maps_dir() == ROOT / "maps"
    monkeypatch.setenv("LISGEO_LAYERS_DIR", str(tmp_path / "L"))
    monkeypatch.setenv("LISGEO_MAPS_DIR", str(tmp_path / "M"))
    assert config.layers_dir() == tmp_path / "L" and config.maps_dir() == tmp_path / "M"
    assert config.authored_path("scenarios", "base.toml") == tmp_path / "L" / "scenarios" / "base.toml"
    assert config.default_dir("layers") != tmp_path / "L"  # the defaults ignore the environment


# ---------------------------------------------------------------- read_toml and encodings


def _one_line_config_error(path: Path, *patterns: str) -> str:
    with pytest.raises(ConfigError) as info:
        config.read_toml(path, what="scenario")
    msg = str(info.value)
    assert "\n" not in msg and str(path) in msg
    for pat in patterns:
        assert pat in msg, msg
    return msg


def test_utf8_bom_is_accepted(tmp_path):
    p = tmp_path / "bom.toml"
    p.write_bytes(b"\xef\xbb\xbf" + 'description = "Derby caf\u00e9 \u00a3"\n'.encode())
    assert config.read_toml(p, what="scenario") == {"description": "Derby caf\u00e9 \u00a3"}


@pytest.mark.parametrize("text, shown", [('cost = "\u00a35m"\n', "'\u00a3'"), ('name = "Caf\u00e9"\n', "'\u00e9'")])
def test_windows_encoding_is_one_clear_error(tmp_path, text, shown):
    p = tmp_path / "cp1252.toml"
    p.write_bytes(b"# a scenario\n" + text.encode("cp1252"))
    _one_line_config_error(p, "not UTF-8", "line 2", shown, "cp1252", "save it as UTF-8")


def test_utf16_and_binary_files_are_one_clear_error(tmp_path):
    p = tmp_path / "utf16.toml"
    p.write_text('name = "x"\n', encoding="utf-16")
    _one_line_config_error(p, "UTF-16", "save it as UTF-8")
    png = next((ROOT / "lisgeo" / "mapping" / "assets" / "images").glob("*.png"))
    b = tmp_path / "picture.toml"
    b.write_bytes(png.read_bytes())
    _one_line_config_error(b, "binary file", "UTF-8")


def test_cli_reports_a_cp1252_scenario_in_one_line(tmp_path, capsys):
    p = tmp_path / "mine.toml"
    p.write_bytes('description = "\u00a3100m upgrade"\n'.encode("cp1252"))
    assert main(["score", "--scenario", str(p), "-o", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("lisgeo: error: scenario file") and err.count("\n") == 1
    assert "mine.toml" in err and "save it as UTF-8" in err


# ---------------------------------------------------------------- lisgeo init


def test_init_copies_the_defaults_and_prints_the_variables(tmp_path, capsys, monkeypatch):
    dest = tmp_path / "planner"
    assert main(["init", str(dest)]) == 0
    out = capsys.readouterr().out
    assert f"LISGEO_LAYERS_DIR={dest / 'layers'}" in out and f"LISGEO_MAPS_DIR={dest / 'maps'}" in out
    assert _authored_files(dest / "layers") == _authored_files(config.default_dir("layers"))
    assert _authored_files(dest / "maps") == _authored_files(config.default_dir("maps"))
    # the copy is what lisgeo reads once the variables are set
    from lisgeo.network import list_scenarios

    (dest / "layers" / "scenarios" / "mine.toml").write_text(
        (dest / "layers" / "scenarios" / "base.toml").read_text(encoding="utf-8"), encoding="utf-8")
    monkeypatch.setenv("LISGEO_LAYERS_DIR", str(dest / "layers"))
    defaults = {f.stem for f in (config.default_dir("layers") / "scenarios").glob("*.toml")}
    assert set(SCENARIOS) <= defaults and set(list_scenarios()) == defaults | {"mine"}


def test_init_refuses_a_non_empty_folder_unless_forced(tmp_path, capsys):
    dest = tmp_path / "work"
    dest.mkdir()
    (dest / "notes.txt").write_text("mine", encoding="utf-8")
    assert main(["init", str(dest)]) == 2
    err = capsys.readouterr().err
    assert "not empty" in err and "--force" in err and err.count("\n") == 1
    assert sorted(p.name for p in dest.iterdir()) == ["notes.txt"]
    edited = dest / "layers" / "indices.toml"
    edited.parent.mkdir()
    edited.write_text("# my edit\n", encoding="utf-8")
    assert main(["init", str(dest), "--force"]) == 0
    assert (dest / "notes.txt").read_text(encoding="utf-8") == "mine"  # other files are kept
    assert edited.read_text(encoding="utf-8") == (config.default_dir("layers") / "indices.toml").read_text(encoding="utf-8")
    assert (dest / "maps" / "1_overview.toml").is_file()


def test_init_into_an_empty_folder_and_not_onto_a_file(tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["init", str(empty)]) == 0
    assert (empty / "layers" / "scenarios" / "base.toml").is_file()
    f = tmp_path / "file"
    f.write_text("x", encoding="utf-8")
    assert main(["init", str(f)]) == 2
    assert "is a file" in capsys.readouterr().err


# ---------------------------------------------------------------- a plain install


def _requirement_names(reqs: list[str]) -> set[str]:
    import re

    return {re.split(r"[\s<>=!~;\[]", r, maxsplit=1)[0].lower().replace("_", "-") for r in reqs}


def test_explore_works_on_a_plain_install():
    """``lisgeo.load_layer(...).explore()`` needs folium, matplotlib and mapclassify (geopandas imports all
    three in explore()): they are core dependencies, not only in the test extra."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    core = _requirement_names(project["dependencies"])
    missing = {"folium", "matplotlib", "mapclassify", "branca"} - core
    assert not missing, f"add {sorted(missing)} to [project] dependencies in pyproject.toml (explore() imports them)"


def test_explore_a_layer(real_data):
    import folium

    import lisgeo

    districts = lisgeo.load_layer("broadband_lad", region="llep")
    m = districts.explore(column="gigabit_pct", scheme="quantiles", k=4, tooltip=["LADNM", "gigabit_pct"])
    assert isinstance(m, folium.Map)
    page = m.get_root().render()
    assert "Blaby" in page and "gigabit_pct" in page


# ---------------------------------------------------------------- map definitions by name


def test_map_definitions_are_found_by_name(tmp_path, monkeypatch):
    """``lisgeo map 2_hs2_connectivity`` (with or without .toml) finds the packaged definition from any
    folder; the planner's LISGEO_MAPS_DIR comes first; a path still works; an unknown name lists the valid ones."""
    from lisgeo.errors import DataNotFoundError, UnknownNameError
    from lisgeo.mapping.spec import find_spec, read_spec

    monkeypatch.delenv("LISGEO_MAPS_DIR", raising=False)
    monkeypatch.chdir(tmp_path)  # no maps/ here
    packaged = config.default_dir("maps") / "2_hs2_connectivity.toml"
    assert find_spec("2_hs2_connectivity") == packaged == find_spec("2_hs2_connectivity.toml")
    assert read_spec("2_hs2_connectivity").title == read_spec(packaged).title
    # the planner's folder first, the packaged maps for the names it lacks
    mine = tmp_path / "mymaps"
    mine.mkdir()
    (mine / "2_hs2_connectivity.toml").write_text(packaged.read_text(encoding="utf-8").replace(
        'title = "', 'title = "My ', 1), encoding="utf-8")
    (mine / "7_mine.toml").write_text((config.default_dir("maps") / "5_digital.toml").read_text(encoding="utf-8"), encoding="utf-8")
    monkeypatch.setenv("LISGEO_MAPS_DIR", str(mine))
    assert find_spec("2_hs2_connectivity") == mine / "2_hs2_connectivity.toml"
    assert read_spec("2_hs2_connectivity").title.startswith("My ")
    assert find_spec("7_mine") == mine / "7_mine.toml"
    assert find_spec("1_overview") == config.default_dir("maps") / "1_overview.toml"
    # a file given by path wins, even one named like a packaged map
    local = tmp_path / "5_digital.toml"
    local.write_text(packaged.read_text(encoding="utf-8"), encoding="utf-8")
    assert find_spec("5_digital.toml").resolve() == local and find_spec(str(local)) == local
    with pytest.raises(UnknownNameError) as info:
        find_spec("9_nothing")
    msg = str(info.value)
    assert "\n" not in msg and "'9_nothing'" in msg and "1_overview" in msg and "7_mine" in msg and str(mine) in msg
    for bad in ("maps/2_hs2_connectivity.toml", "../2_hs2_connectivity", str(tmp_path / "none.toml")):
        with pytest.raises(DataNotFoundError, match="not found; give the path of a .toml file or the name"):
            find_spec(bad)
    for odd in ("", "..", "."):
        with pytest.raises((UnknownNameError, DataNotFoundError)):
            find_spec(odd)


def test_cli_map_by_name_from_an_empty_folder(real_data, tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("LISGEO_MAPS_DIR", raising=False)
    monkeypatch.chdir(tmp_path)
    assert main(["map", "5_digital", "--region", "E07000035", "-o", "m.html", "--no-png"]) == 0, capsys.readouterr().err
    assert (tmp_path / "m.html").stat().st_size > 10_000
    capsys.readouterr()
    assert main(["map", "2_hs2", "-o", "x.html"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("lisgeo: error: unknown map definition '2_hs2'") and "2_hs2_connectivity" in err and err.count("\n") == 1
    assert not (tmp_path / "x.html").exists()


# ---------------------------------------------------------------- the wheel

_OFFLINE_SIGNS = ("Could not find a version", "No matching distribution", "Failed to establish a new connection",
                  "Temporary failure in name resolution", "Network is unreachable", "ProxyError")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The wheel built from the checkout (sdist, then the wheel from the sdist, as ``.ci/run`` does)."""
    if importlib.util.find_spec("build") is None:
        pytest.skip("the 'build' package is not installed (pip install -e '.[test]')")
    out = tmp_path_factory.mktemp("dist")
    r = subprocess.run([sys.executable, "-m", "build", "-o", str(out), str(ROOT)],
                       check=False, capture_output=True, text=True, timeout=600)
    if r.returncode != 0:
        log = r.stdout + r.stderr
        if any(sign in log for sign in _OFFLINE_SIGNS):
            pytest.skip("cannot build the wheel offline (the build backend could not be installed)")
        pytest.fail(f"building the wheel failed:\n{log[-4000:]}")
    (whl,) = out.glob("lisgeo-*.whl")
    return whl


@pytest.mark.slow
def test_wheel_carries_every_default(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for name in MUST_SHIP:
        assert name in names, f"{name} is not in {wheel.name}"
    for name in SCENARIOS:
        assert f"lisgeo/_defaults/layers/scenarios/{name}.toml" in names
    for folder in ("layers", "maps"):
        shipped = {n.removeprefix(f"lisgeo/_defaults/{folder}/") for n in names if n.startswith(f"lisgeo/_defaults/{folder}/")}
        assert shipped == _authored_files(ROOT / folder), f"{folder}/ and the wheel's copy differ"
    assert not any(n.startswith(("layers/", "maps/", "tests/")) for n in names), "nothing outside the package"


@pytest.mark.slow
def test_wheel_runs_outside_the_checkout(wheel, tmp_path):
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    env = {k: v for k, v in os.environ.items() if k not in ("LISGEO_LAYERS_DIR", "LISGEO_MAPS_DIR")}
    env["PYTHONPATH"] = str(site)  # ahead of the editable checkout
    code = (
        "import sys, lisgeo, lisgeo.config as c\n"
        f"assert lisgeo.__file__.startswith({str(site)!r}), lisgeo.__file__\n"
        f"assert str(c.layers_dir()).startswith({str(site)!r}) and str(c.maps_dir()).startswith({str(site)!r})\n"
        "from lisgeo.mapping.spec import list_specs\n"
        "assert len(list_specs()) >= 6\n"
        "from lisgeo.cli import main\n"
        "rc = main(['network', 'scenarios'])\n"
        "sys.exit(rc or main(['map', '2_hs2_connectivity', '--region', 'E07000035', '-o', 'm.html', '--no-png']))\n"
    )
    r = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, check=False, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    listed = [line.split()[0] for line in r.stdout.splitlines() if line.strip()]
    assert set(SCENARIOS) <= set(listed), r.stdout
    assert (tmp_path / "m.html").stat().st_size > 10_000, r.stdout  # the packaged map, found by name
