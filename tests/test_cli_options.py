"""A command line that says clearly what is wrong (issue 22): every option checked before any work,
naming the option; short messages for long paths; -q / -v on every command; progress on a terminal.

Failed before this change (commit 0b9b846): --gtfs-date without --gtfs was ignored; --window 100000
failed late with "end '1674:40' is not a clock time"; an over-long -o printed a 5,000-character line
with no fix; --threshold nan, --bands 1e9 or 15,15 and --tif x.png were found after the work, or not
at all; there was no -q or -v; nothing was printed on a terminal before the first stage ended.
"""

from __future__ import annotations

import errno
import logging
import os
import sys

import click
import pytest

from lisgeo import cli as lcli
from lisgeo.cli import cli, main

GTFS = "tests_gtfs_placeholder.zip"


def _commands(group, prefix=()):
    for name, cmd in group.commands.items():
        yield prefix + (name,), cmd
        if isinstance(cmd, click.Group):
            yield from _commands(cmd, prefix + (name,))


@pytest.fixture
def no_work(monkeypatch):
    """Every slow entry point of the commands fails the test if reached."""
    import lisgeo.network as network
    import lisgeo.pipeline as pipeline
    import lisgeo.pipeline.maps as maps

    def never(*a, **k):
        raise AssertionError("the command started its work before checking its options")

    for mod, names in ((pipeline, ("score_region", "compare_scenarios", "write_report", "make_map")),
                       (maps, ("build_region",)), (network, ("build_network",))):
        for n in names:
            monkeypatch.setattr(mod, n, never)


@pytest.fixture
def gtfs(tmp_path):
    """Any existing file stands for a feed: the options are checked before it is read."""
    p = tmp_path / "feed.zip"
    p.write_bytes(b"")
    return str(p)


def _err(capsys) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err


# ------------------------------------------------------------------ lisgeo score's timetable options
def test_gtfs_date_without_gtfs_is_refused_naming_both_options(capsys, no_work, tmp_path):
    """Failed before: --gtfs-date without --gtfs was silently ignored."""
    assert main(["score", "--gtfs-date", "2024-03-05", "-o", str(tmp_path / "o")]) == 2
    err = _err(capsys)
    assert "--gtfs-date" in err and "--gtfs FILE" in err and "no --gtfs was given" in err


@pytest.mark.parametrize("option", [["--departure", "07:30"], ["--window", "30"]])
def test_other_timetable_options_without_gtfs_are_refused(capsys, no_work, tmp_path, option):
    assert main(["score", *option, "-o", str(tmp_path / "o")]) == 2
    assert f"{option[0]} applies to GTFS timetables only" in _err(capsys)


def test_gtfs_without_its_date_is_refused_before_any_work(capsys, no_work, tmp_path, gtfs):
    assert main(["score", "--gtfs", gtfs, "-o", str(tmp_path / "o")]) == 2
    assert "--gtfs needs --gtfs-date" in _err(capsys)


@pytest.mark.parametrize("window", ["100000", "0", "-5", "241"])
def test_window_outside_1_to_240_minutes_is_refused_naming_the_option(capsys, no_work, tmp_path, gtfs, window):
    """Failed before: --window 100000 said "end '1674:40' is not a clock time", after reading the feed."""
    assert main(["score", "--gtfs", gtfs, "--gtfs-date", "2024-03-05", "--window", window, "-o", str(tmp_path / "o")]) == 2
    err = _err(capsys)
    assert "'--window'" in err and f"{window} is not a departure window of 1 to 240 minutes" in err


@pytest.mark.parametrize("departure", ["8am", "8", "08:60", "48:00", "08:00:00", "", "-1:00"])
def test_departure_that_is_not_hh_mm_is_refused_naming_the_option(capsys, no_work, tmp_path, gtfs, departure):
    assert main(["score", "--gtfs", gtfs, "--gtfs-date", "2024-03-05", "--departure", departure, "-o", str(tmp_path / "o")]) == 2
    err = _err(capsys)
    assert "'--departure'" in err and "is not a clock time; give HH:MM" in err


def test_departure_and_window_may_not_run_past_the_end_of_a_service_day(capsys, no_work, tmp_path, gtfs):
    assert main(["score", "--gtfs", gtfs, "--gtfs-date", "2024-03-05", "--departure", "47:00", "--window", "120",
                 "-o", str(tmp_path / "o")]) == 2
    assert "--departure 47:00 with --window 120 runs past 48:00" in _err(capsys)


@pytest.mark.parametrize("day", ["2024-02-30", "5 March", "2024/03/05", "20241305"])
def test_gtfs_date_that_is_not_a_date_is_refused_naming_the_option(capsys, no_work, tmp_path, gtfs, day):
    assert main(["score", "--gtfs", gtfs, "--gtfs-date", day, "-o", str(tmp_path / "o")]) == 2
    err = _err(capsys)
    assert "'--gtfs-date'" in err and "is not a date; give the service day as YYYY-MM-DD" in err


def test_good_timetable_options_reach_the_scoring(monkeypatch, tmp_path, gtfs):
    seen = {}

    class Stop(Exception):
        pass

    def fake(**kw):
        seen.update(kw)
        raise Stop

    import lisgeo.pipeline as pipeline

    monkeypatch.setattr(pipeline, "score_region", fake)
    for day in ("2024-03-05", "20240305"):
        with pytest.raises(Stop):
            main(["score", "--gtfs", gtfs, "--gtfs-date", day, "--departure", "25:30", "--window", "240",
                  "--no-claims", "-o", str(tmp_path / "o")])
        assert seen["gtfs_date"] == day and seen["departure"] == "25:30" and seen["window_min"] == 240


# ------------------------------------------------------------------ other commands' options
@pytest.mark.parametrize("threshold", ["nan", "inf", "-5", "0", "121"])
def test_compare_threshold_must_be_minutes_above_0_up_to_120(capsys, no_work, tmp_path, threshold):
    """Failed before: nan, -5 and 0 were refused only after both scenarios were scored (naming threshold_min);
    inf and 121 were accepted."""
    assert main(["compare", "--scenario", "hs2_2b", "--threshold", threshold, "-o", str(tmp_path / "o")]) == 2
    err = _err(capsys)
    assert "'--threshold'" in err and "is not a number of minutes above 0 and up to 120" in err


@pytest.mark.parametrize("bands, match", [("0,15", "0 is not a number of minutes above 0"),
                                          ("15,-5", "-5 is not a number of minutes above 0"),
                                          ("15,1e9", "1e+09 is not a number of minutes above 0 and up to 600"),
                                          ("15,nan", "nan is not a number"), ("15,15", "15,15 repeats a band"),
                                          (",", "no minutes given"), ("15;30", "comma-separated minutes")])
def test_isochrone_bands_are_checked_before_the_network_is_built(capsys, no_work, tmp_path, bands, match):
    """Failed before: 1e9 and 15,15 were accepted; 0 and -5 were refused after the network was built."""
    assert main(["isochrones", "hs2_toton", "--bands", bands, "-o", str(tmp_path / "i.gpkg")]) == 2
    err = _err(capsys)
    assert match in err and "--bands" in err


def test_isochrones_tif_must_be_a_tif(capsys, no_work, tmp_path):
    """Failed before: --tif x.png wrote a GeoTIFF named x.png."""
    assert main(["isochrones", "hs2_toton", "--tif", str(tmp_path / "x.png"), "-o", str(tmp_path / "i.gpkg")]) == 2
    assert "'--tif'" in _err(capsys)


def test_validate_class_names_the_option(capsys, tmp_path):
    assert main(["validate", "--class", "trams", "-o", str(tmp_path / "v")]) == 2
    err = _err(capsys)
    assert "'--class'" in err and "unknown class(es) 'trams'" in err and "intercity_rail" in err


# ------------------------------------------------------------------ long paths
def _outputs():
    """(command path, its -o target kind) for every command with -o."""
    out = []
    for path, cmd in _commands(cli):
        if any(p.name == "output" for p in cmd.params):
            out.append(path)
    return out


EXTRA_ARGS = {("compare",): ["--scenario", "hs2_2b"], ("map",): ["maps/1_sites.toml"], ("isochrones",): ["hs2_toton"],
              ("layers", "export"): ["lsoa21"]}


@pytest.mark.parametrize("path", _outputs())
@pytest.mark.parametrize("kind", ["long path", "long name"])
def test_an_over_long_output_path_is_refused_in_a_short_line_with_the_fix(capsys, no_work, tmp_path, path, kind):
    """Failed before: `lisgeo score -o <5,000 characters>` printed a 5,000-character line, after the work."""
    long = (str(tmp_path) + "/" + "/".join(["a" * 250] * 20)) if kind == "long path" else str(tmp_path / ("b" * 300))
    assert main([*path, *EXTRA_ARGS.get(path, []), "-o", long + (".gpkg" if path in (("layers", "export"), ("isochrones",),
                                                                                   ("network", "export")) else "")]) == 2
    err = _err(capsys)
    assert len(err) < 400 and "…" in err and "'-o'" in err.replace("'--output' / '-o'", "'-o'")
    assert "choose a shorter folder" in err


def test_an_os_error_with_a_long_path_is_one_short_line_with_the_fix(capsys, monkeypatch):
    long = "/tmp/" + "/".join(["c" * 250] * 20)
    for code, fix in ((errno.ENAMETOOLONG, "choose a shorter"),
                      (errno.ENOSPC, "free some space"), (errno.EACCES, "choose a folder you can write to")):
        def boom(*a, _code=code, **k):
            raise OSError(_code, os.strerror(_code), long)

        monkeypatch.setattr("lisgeo.layers.list_layers", boom)
        assert main(["layers", "list"]) == 1
        err = _err(capsys)
        # lisgeo.io's one line (lisgeo.io.os_error_line): the path, its middle elided, and the fix
        assert err.startswith("lisgeo: error: ") and "/tmp/ccc" in err and fix in err and len(err) < 300 and err.count("\n") == 1


def test_a_long_path_inside_an_error_message_is_elided():
    msg = lcli._shorten("cannot write /x/" + "d" * 5000 + "/out.gpkg: no space;  give another -o folder\n")
    assert len(msg) < 250 and msg.endswith("/out.gpkg: no space; give another -o folder") and "d…d" in msg
    assert lcli._shorten("unknown region 'x'; valid regions are: a, b, c") == "unknown region 'x'; valid regions are: a, b, c"


# ------------------------------------------------------------------ -q / -v
def test_every_command_and_group_takes_q_and_v():
    """Failed before: no command had -v; only `data verify` had -q."""
    for path, cmd in [((), cli), *_commands(cli)]:
        opts = {o for p in cmd.params for o in getattr(p, "opts", [])}
        assert {"-v", "--verbose", "-q", "--quiet"} <= opts, path


@pytest.mark.parametrize("args, level", [([], logging.WARNING), (["-v"], logging.INFO), (["-vv"], logging.DEBUG),
                                         (["-v", "-v"], logging.DEBUG), (["-q"], logging.ERROR),
                                         (["--verbose"], logging.INFO), (["--quiet"], logging.ERROR)])
@pytest.mark.parametrize("where", ["group", "command"])
def test_q_and_v_set_the_lisgeo_log_level_for_the_command_only(monkeypatch, args, level, where):
    seen = {}

    def spy():
        seen["level"] = logging.getLogger("lisgeo").getEffectiveLevel()
        seen["cache"] = logging.getLogger("lisgeo.cache").isEnabledFor(level)
        return []

    monkeypatch.setattr(lcli, "_stderr_is_terminal", lambda: False)
    monkeypatch.setattr("lisgeo.layers.list_layers", spy)
    before = logging.getLogger("lisgeo").level
    argv = [*args, "layers", "list"] if where == "group" else ["layers", "list", *args]
    assert main(argv) == 0
    assert seen["level"] == level and seen["cache"]
    assert logging.getLogger("lisgeo").level == before  # put back after the command


def test_q_and_v_together_are_refused(capsys):
    assert main(["-q", "layers", "list", "-v"]) == 2
    assert "-q (errors only) and -v (more detail) contradict each other" in _err(capsys)


def test_log_records_reach_stderr_at_the_level_asked_for(monkeypatch, capsys):
    def chatty():
        for name in ("lisgeo.cache", "lisgeo.pipeline", "lisgeo.layers.roads"):
            log = logging.getLogger(name)
            log.debug("D %s", name)
            log.info("I %s", name)
            log.warning("W %s", name)
            log.error("E %s", name)
        return []

    monkeypatch.setattr(lcli, "_stderr_is_terminal", lambda: False)
    monkeypatch.setattr("lisgeo.layers.list_layers", chatty)
    expect = {(): "WE", ("-v",): "IWE", ("-vv",): "DIWE", ("-q",): "E"}
    for args, shown in expect.items():
        assert main([*args, "layers", "list"]) == 0
        err = capsys.readouterr().err.splitlines()
        assert err == [f"{x} lisgeo.{n}" for n in ("cache", "pipeline", "layers.roads") for x in shown], args


def test_quiet_silences_warnings_of_the_command_too(monkeypatch, recwarn):
    import warnings

    def warns():
        warnings.warn("a repaired polygon", UserWarning)
        return []

    monkeypatch.setattr("lisgeo.layers.list_layers", warns)
    assert main(["layers", "list"]) == 0 and [str(w.message) for w in recwarn] == ["a repaired polygon"]
    recwarn.clear()
    assert main(["-q", "layers", "list"]) == 0 and len(recwarn) == 0


# ------------------------------------------------------------------ progress
def _score_stops(monkeypatch):
    """score_region replaced by one that logs two stage lines as the real one does, then stops."""
    import lisgeo.pipeline as pipeline
    from lisgeo.errors import ParameterError

    def fake(**kw):
        log = logging.getLogger("lisgeo.pipeline.score")
        log.info("score: network 1.00 s")
        log.info("score: layers 2.00 s")
        raise ParameterError(f"stop (progress={kw['progress']})")

    monkeypatch.setattr(pipeline, "score_region", fake)


def test_a_long_command_on_a_terminal_says_what_it_does_at_once_then_its_stages(monkeypatch, capsys, tmp_path):
    """Failed before: nothing on a terminal until the first stage ended (about 40 s of a cold build)."""
    _score_stops(monkeypatch)
    monkeypatch.setattr(lcli, "_stderr_is_terminal", lambda: True)
    assert main(["score", "--region", "llep", "--no-claims", "-o", str(tmp_path / "o")]) == 2
    assert capsys.readouterr().err.splitlines() == [
        "lisgeo score llep (base): reading layers and building the network…",
        "score: network 1.00 s", "score: layers 2.00 s", "lisgeo: error: stop (progress=True)"]  # (a large region's block bar)


def test_off_a_terminal_nothing_more_is_printed_unless_v_asks(monkeypatch, capsys, tmp_path):
    _score_stops(monkeypatch)
    monkeypatch.setattr(lcli, "_stderr_is_terminal", lambda: False)
    assert main(["score", "--no-claims", "-o", str(tmp_path / "o")]) == 2
    assert capsys.readouterr().err == "lisgeo: error: stop (progress=False)\n"
    assert main(["-v", "score", "--no-claims", "-o", str(tmp_path / "o")]) == 2
    assert capsys.readouterr().err.splitlines() == ["score: network 1.00 s", "score: layers 2.00 s",
                                                    "lisgeo: error: stop (progress=False)"]


def test_quiet_on_a_terminal_prints_no_progress(monkeypatch, capsys, tmp_path):
    _score_stops(monkeypatch)
    monkeypatch.setattr(lcli, "_stderr_is_terminal", lambda: True)
    assert main(["score", "-q", "--no-claims", "-o", str(tmp_path / "o")]) == 2
    assert capsys.readouterr().err == "lisgeo: error: stop (progress=False)\n"
    # -v on a terminal: each stage once
    assert main(["score", "-v", "--no-claims", "-o", str(tmp_path / "o")]) == 2
    assert capsys.readouterr().err.count("score: layers 2.00 s") == 1


@pytest.mark.parametrize("quiet, tty, shown", [(False, True, True), (False, False, False), (True, True, False)])
def test_build_says_what_it_does_at_once_on_a_terminal_and_is_quiet_with_q(monkeypatch, capsys, tmp_path, quiet, tty, shown):
    import lisgeo.pipeline.maps as maps
    from lisgeo.errors import ParameterError

    seen = {}

    def fake(**kw):
        seen.update(kw)
        raise ParameterError("stop")

    monkeypatch.setattr(maps, "build_region", fake)
    monkeypatch.setattr(lcli, "_stderr_is_terminal", lambda: tty)
    assert main([*(["-q"] if quiet else []), "build", "--region", "llep", "-o", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("lisgeo build llep: reading layers") == shown
    assert seen["progress"] is (not quiet)  # the maps' bar as before (also off a terminal), none with -q


def test_a_real_score_on_a_terminal_prints_its_first_line_before_its_stages(real_data, tmp_path):
    """End to end in a pseudo-terminal: the first line, then the scoring stages, then the results."""
    pty = pytest.importorskip("pty")
    import select
    import time

    pid, fd = pty.fork()
    if pid == 0:  # pragma: no cover (the child)
        os.execvpe(sys.executable, [sys.executable, "-m", "lisgeo", "score", "--region", "llep", "--no-claims",
                                    "-o", str(tmp_path / "o")], {**os.environ, "LISGEO_WORKERS": "1"})
    out, t0 = b"", time.time()
    while time.time() - t0 < 600:
        r, _, _ = select.select([fd], [], [], 5)
        if not r:
            continue
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    _, status = os.waitpid(pid, 0)
    text = out.decode("utf-8", "replace").replace("\r", "")
    assert os.waitstatus_to_exitcode(status) == 0, text
    lines = [x for x in text.splitlines() if x.strip()]
    assert lines[0] == "lisgeo score llep (base): reading layers and building the network…", text
    stage = next(i for i, x in enumerate(lines) if x.startswith("score: "))
    done = next(i for i, x in enumerate(lines) if x.startswith("scored 608 LSOAs"))
    assert 0 < stage < done
