"""The command line: help everywhere, one-line errors with exit status 2, real exports."""

from __future__ import annotations

import subprocess
import sys

import geopandas as gpd
import pandas as pd
import pytest

from lisgeo.cli import cli, main


def _commands(group, prefix=()):
    for name, cmd in group.commands.items():
        yield prefix + (name,)
        if hasattr(cmd, "commands"):
            yield from _commands(cmd, prefix + (name,))


@pytest.mark.parametrize("path", [()] + sorted(_commands(cli)))
def test_every_command_has_help(path, capsys):
    assert main([*path, "--help"]) == 0
    out = capsys.readouterr().out
    assert "Usage: lisgeo" in out


def test_user_errors_are_one_line_without_traceback():
    r = subprocess.run([sys.executable, "-m", "lisgeo", "layers", "export", "lsoa21", "--region", "atlantis", "-o", "x.gpkg"],
                       capture_output=True, text=True)
    assert r.returncode == 2
    assert r.stderr.startswith("lisgeo: error: unknown region 'atlantis'")
    assert "Traceback" not in r.stderr and r.stderr.count("\n") == 1


def test_unknown_layer(capsys):
    assert main(["layers", "export", "nope", "-o", "x.csv"]) == 2
    assert "valid layers are" in capsys.readouterr().err


def test_bad_option_is_a_usage_error(capsys):
    assert main(["layers", "export"]) == 2
    assert "Missing argument" in capsys.readouterr().err


def test_data_list_and_verify(real_data, capsys):
    assert main(["data", "list"]) == 0
    out = capsys.readouterr().out
    assert "lsoa21_boundaries" in out and "OGL" in out
    assert main(["data", "verify", "-q"]) == 0
    from lisgeo.catalog import list_datasets

    n = sum(len(d.files) for d in list_datasets())
    assert f"{n} ok, 0 missing, 0 hash mismatch" in capsys.readouterr().out


def test_verify_fails_on_missing_files(isolated_data, capsys):
    assert main(["data", "verify", "-q"]) == 2
    assert "missing" in capsys.readouterr().err


@pytest.mark.parametrize("ext", ["gpkg", "geojson", "parquet", "csv"])
def test_layers_export_formats(real_data, tmp_path, ext):
    out = tmp_path / f"districts.{ext}"
    assert main(["layers", "export", "districts", "--region", "llep", "-o", str(out)]) == 0
    back = pd.read_csv(out) if ext == "csv" else gpd.read_parquet(out) if ext == "parquet" else gpd.read_file(out)
    assert len(back) == 8 and set(back["LADNM"]) >= {"Leicester", "Melton"}
    assert "index" not in back.columns and back["LADCD"].is_unique


def test_layers_list_names_every_family(capsys):
    assert main(["layers", "list"]) == 0
    out = capsys.readouterr().out
    assert "boundaries" in out and "lsoa21" in out


def test_validate_takes_a_region(real_data, tmp_path, capsys):
    """`lisgeo validate --region R`: an unknown region fails before any work; a region builds the
    network from its zones, answers the pairs and records itself in provenance.json."""
    import json

    assert main(["validate", "--region", "atlantis", "-o", str(tmp_path / "no")]) == 2
    assert "unknown region 'atlantis'" in capsys.readouterr().err and not (tmp_path / "no").exists()
    out = tmp_path / "v"
    assert main(["validate", "--region", "d2n2", "--class", "urban_car", "--no-gains", "--no-connectivity", "-o", str(out)]) == 0
    res = pd.read_csv(out / "validation.csv")
    assert len(res) >= 10 and set(res["class"]) == {"urban_car"} and res["model_min"].notna().all()
    assert json.loads((out / "provenance.json").read_text())["region"] == "d2n2"
    tt = pd.read_csv(out / "timetable_summary.csv")  # the out-of-sample timetable check, on by default
    assert tt["band"].iloc[-1] == "all" and tt["pairs"].iloc[-1] > 5000


def test_validate_without_the_timetable_file_fails_before_any_work(isolated_data, tmp_path, capsys):
    """The out-of-sample timetable check is on by default: without its GTFS file `lisgeo validate`
    stops at once, naming the file and --no-timetable, and writes nothing."""
    out = tmp_path / "v"
    assert main(["validate", "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert "rail.zip" in err and "--no-timetable" in err and "Traceback" not in err and not out.exists()


def test_the_command_exits_quickly_yet_runs_the_exit_handlers_and_keeps_its_status_and_output(tmp_path):
    """``lisgeo`` (cli.run) ends with os._exit after main(): exit handlers still run, the output is
    complete even through a pipe, and the status is main()'s."""
    code = ("import atexit, sys\n"
            "atexit.register(lambda: print('handler ran'))\n"
            "from lisgeo.cli import run\n"
            "sys.argv = ['lisgeo'] + sys.argv[1:]\n"
            "run()\n")
    script = tmp_path / "entry.py"
    script.write_text(code)
    ok = subprocess.run([sys.executable, str(script), "layers", "list"], capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0, ok.stderr
    assert "districts" in ok.stdout and ok.stdout.rstrip().endswith("handler ran")
    bad = subprocess.run([sys.executable, str(script), "score", "--region", "atlantis", "-o", str(tmp_path / "o")],
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "unknown region 'atlantis'" in bad.stderr and "handler ran" in bad.stdout
    assert not (tmp_path / "o").exists()


def test_the_command_module_imports_nothing_heavy():
    """Importing the command's module does not import pandas and the stages (``import lisgeo`` is
    lazy): ``lisgeo --help`` and ``--version`` answer at once."""
    import subprocess
    import sys

    code = "import sys, lisgeo.cli; print(sorted(m for m in ('pandas', 'geopandas', 'numpy', 'networkx') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "[]"
