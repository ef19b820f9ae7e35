"""lisgeo.background: work done alongside in a second process whose only effect is the disk cache."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time

import pandas as pd
import pytest

from lisgeo import background, cache
from lisgeo.background import Task
from lisgeo.errors import ParameterError


def started(w, name: str, timeout: float = 60.0) -> None:
    """Wait until the child has started task ``name`` (so the caller waits for it rather than
    taking it over)."""
    import time

    end = time.monotonic() + timeout
    while not w.started(name):
        assert time.monotonic() < end, f"the second process never started {name}"
        time.sleep(0.01)


@pytest.fixture
def fresh_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("LISGEO_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("LISGEO_NO_CACHE", raising=False)
    yield tmp_path / "cache"
    background.stop_all()


def test_workers_setting(monkeypatch):
    monkeypatch.setenv("LISGEO_WORKERS", "3")
    assert background.workers() == 3 and background.workers(1) == 1 and background.workers(0) == 1
    monkeypatch.setenv("LISGEO_WORKERS", "two")
    with pytest.raises(ParameterError, match="LISGEO_WORKERS must be a whole number"):
        background.workers()


def test_one_process_or_no_cache_starts_nothing(fresh_cache, monkeypatch):
    t = Task("layers:x", "warnings:warn", ("never",))
    assert background.start([t], n_workers=1) is None
    monkeypatch.setenv("LISGEO_NO_CACHE", "1")
    assert background.start([t], n_workers=2) is None
    assert not background.pending("layers:x")


def test_tasks_run_in_order_with_their_warnings_and_a_failure_stops_the_rest(fresh_cache):
    tasks = [Task("a:1", "warnings:warn", ("from the second process",)),
             Task("b:2", "lisgeo.layers:load_layer", ("no_such_layer",)),  # UnknownNameError in the child
             Task("c:3", "warnings:warn", ("never reached",))]
    w = background.start(tasks, n_workers=2)
    assert w is not None and all(background.pending(t.name) for t in tasks)
    assert background.start(tasks, n_workers=2) is None  # already pending: no second warmer
    started(w, "a:1")
    with pytest.warns(UserWarning, match="from the second process"):
        assert background.wait_for("a:1") is True
    assert background.wait_for("b:2") is False  # the caller runs it itself and raises there
    assert background.wait_for("c:3") is None  # the warmer is gone: nobody has it
    assert w.status == {"a:1": "done", "b:2": "failed", "c:3": "failed"}
    assert not background._ACTIVE


def test_cache_readers_wait_for_the_entry_being_made(fresh_cache, real_data):
    from lisgeo.layers import load_layer
    from lisgeo.layers._registry import LAYERS, _ensure_loaded, _layer_key

    _ensure_loaded()
    key = _layer_key(LAYERS["districts"], "d2n2", {})
    assert key is not None
    name = f"layers:{key}"
    w = background.start([Task(name, "lisgeo.layers:load_layer", ("districts",), {"region": "d2n2"})], n_workers=2)
    assert w is not None
    started(w, name)
    assert not cache.entry_path("layers", key, ".parquet").is_file() or not background.pending(name)
    got = cache.load_frame("layers", key)  # waits for the child, then reads what it stored
    assert got is not None and not background.pending(name)
    pd.testing.assert_frame_equal(got, load_layer("districts", region="d2n2", cache=False))
    # an entry the cache holds already is not made again
    assert background.start([Task(name, "lisgeo.layers:load_layer", ("districts",), {"region": "d2n2"})], n_workers=2) is None


def test_a_script_without_a_main_guard_runs_once(fresh_cache, tmp_path):
    script = tmp_path / "analysis.py"
    script.write_text(textwrap.dedent("""
        from lisgeo import background
        print("analysis ran")
        import time
        w = background.start([background.Task("a:1", "warnings:warn", ("hi",))], n_workers=2)
        while not w.started("a:1"):
            time.sleep(0.01)
        print("waited:", background.wait_for("a:1"))
    """))
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.count("analysis ran") == 1 and "waited: True" in out.stdout


@pytest.mark.realdata
def test_two_processes_give_the_same_scores_and_claims(real_data, fresh_cache):
    from lisgeo.pipeline import recompute_claims, score_region
    from lisgeo.pipeline.claims import claims_task

    one = score_region(region="d2n2", workers=1, cache=False)
    claims = claims_task("d2n2")
    two = score_region(region="d2n2", workers=2, warm=[claims])
    assert "network (layers alongside)" in two.attrs["timings"]  # the layers were read in the second process
    pd.testing.assert_frame_equal(two, one, check_exact=True)
    assert {k: v for k, v in two.attrs.items() if k != "timings"} == {k: v for k, v in one.attrs.items() if k != "timings"}
    assert background.wait_for(claims.name) in (True, None)  # still running, or done and reported already
    assert any((fresh_cache / "results" / "claims").glob("*.parquet"))  # made by the second process
    from lisgeo.pipeline import score
    from lisgeo.regions import get_region

    assert score._inputs_stored(score._inputs_key(get_region("d2n2")))  # a rerun reads the layers back, no child
    pd.testing.assert_frame_equal(recompute_claims("d2n2"), recompute_claims("d2n2", cache=False), check_exact=True)
    assert not background._ACTIVE


def test_task_names_are_the_entries_the_readers_wait_for(fresh_cache, real_data, monkeypatch):
    """A task named after another key than its reader's would run for nothing (the reader would not
    wait, and build again): network_task and warm_tasks carry build_network's own disk key."""
    import lisgeo.network.graph as graph
    from lisgeo.pipeline.score import FIXED_SITES, network_task, score_network

    seen = {}

    def fake(region_key, scenario_path, over_key, buffer_km, stamp=(), sites=(), disk_key=None, cif=None):
        seen["key"] = disk_key
        raise RuntimeError("stop before building")

    monkeypatch.setattr(graph, "_build_cached", fake)
    for scenario, over in (("hs2_2b", None), ("base", {"road.motorway_kmh": 100.0})):
        with pytest.raises(RuntimeError, match="stop before building"):
            score_network("d2n2", scenario=scenario, assumptions=over)
        assert network_task("d2n2", scenario, assumptions=over).name == f"network:{seen['key']}"
    assert graph.network_cache_name(region="d2n2", sites=list(FIXED_SITES.values())) != network_task("d2n2", "hs2_2b").name


def test_a_kept_back_pickle_is_written_when_the_caller_would_wait(fresh_cache, tmp_path, monkeypatch):
    """store_pickle(defer=True) while a second process works: nothing on disk until this process
    waits for it (or reads the entry, or exits); with no second process, written at once."""
    path = cache.entry_path("network", "k1", ".pickle")
    assert cache.store_pickle("network", "k0", {"at": "once"}, defer=True) is not None
    assert cache.entry_path("network", "k0", ".pickle").is_file()  # no second process: at once
    (tmp_path / "slow_task.py").write_text("import time\n\ndef nap():\n    time.sleep(1.0)\n")
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))  # the child imports the task from there
    w = background.start([Task("a:nap", "slow_task:nap")], n_workers=2, wanted=["network:k3", "network:k4"])
    assert w is not None and background.pending("a:nap")
    cache.store_pickle("network", "k1", {"graph": 1}, defer=True)
    assert not path.is_file()  # kept back while the other process works
    cache.store_pickle("network", "k3", {"graph": 3}, defer=True)
    assert cache.entry_path("network", "k3", ".pickle").is_file()  # the child's tasks read it: at once
    # in the lisgeo command, a forked writer writes it beside this process's work; a reader waits for it
    monkeypatch.setattr(cache, "WRITE_BEHIND", True)
    big = {"graph": list(range(300_000))}
    cache.store_pickle("network", "k4", big, defer=True)
    assert cache.pickle_at_hand("network", "k4") and cache.load_pickle("network", "k4") == big
    for _ in range(200):  # the writer removes its marker right after the entry is in place
        if not cache._marker(cache.entry_path("network", "k4", ".pickle")).exists():
            break
        time.sleep(0.05)
    assert not cache._marker(cache.entry_path("network", "k4", ".pickle")).exists()
    monkeypatch.setattr(cache, "WRITE_BEHIND", False)
    assert cache.load_pickle("network", "k1") == {"graph": 1}  # a read writes it first
    cache.store_pickle("network", "k2", {"graph": 2}, defer=True)
    assert not cache.entry_path("network", "k2", ".pickle").is_file()
    started(w, "a:nap")
    assert background.wait_for("a:nap") is True  # waiting writes what was kept back first
    assert cache.entry_path("network", "k2", ".pickle").is_file() and not cache._DEFERRED


def test_a_child_started_ahead_takes_the_tasks_or_ends_unused(fresh_cache, monkeypatch):
    monkeypatch.setenv("LISGEO_WORKERS", "1")
    background.prestart()
    assert not background._SPARE  # one process: nothing started
    monkeypatch.setenv("LISGEO_WORKERS", "2")
    background.prestart()
    assert len(background._SPARE) == 1
    spare = background._SPARE[0]
    background.prestart()
    assert background._SPARE == [spare]  # one at a time
    w = background.start([Task("a:hi", "warnings:warn", ("hi",))])
    assert w is not None and w._proc is spare and not background._SPARE  # the tasks went to it
    started(w, "a:hi")
    with pytest.warns(UserWarning, match="hi"):
        assert background.wait_for("a:hi") is True
    background.prestart()
    unused = background._SPARE[0]
    background.stop_all()  # an unused child ends with its caller
    assert unused.poll() is not None and not background._SPARE


def test_a_task_not_started_yet_is_taken_over_by_the_caller(fresh_cache, tmp_path, monkeypatch):
    """The caller needs an entry whose task the child has not started (it is busy with the one
    before): the caller takes the task over at once (wait_for is False: run it here; a cache
    reader finds no entry and makes it), the child skips it, and the tasks after it still run there."""
    (tmp_path / "slow_task.py").write_text(textwrap.dedent("""
        import os, time
        from pathlib import Path

        def nap(marker):
            time.sleep(1.5)
            Path(marker).write_text("napped")

        def mark(marker):
            Path(marker).write_text(f"ran in {os.getpid()}")
    """))
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    tasks = [Task("a:nap", "slow_task:nap", (str(tmp_path / "nap"),)),
             Task("frame:k-taken", "slow_task:mark", (str(tmp_path / "taken"),)),
             Task("c:after", "slow_task:mark", (str(tmp_path / "after"),))]
    w = background.start(tasks, n_workers=2)
    assert w is not None
    started(w, "a:nap")
    assert cache.load_frame("frame", "k-taken") is None  # not started there: this process makes it
    assert w.status["frame:k-taken"] == "taken" and not w.started("frame:k-taken")
    assert background.wait_for("frame:k-taken") is None or w.status["frame:k-taken"] == "taken"
    started(w, "c:after")  # the child went on past the task it skipped
    assert background.wait_for("c:after") is True
    assert (tmp_path / "nap").read_text() == "napped" and (tmp_path / "after").is_file()
    assert not (tmp_path / "taken").exists()  # the child never ran the task taken from it
    claims = w._claims
    assert not background._ACTIVE and not __import__("os").path.exists(claims)  # claims removed with the warmer


def test_a_started_task_is_waited_for_not_run_twice(fresh_cache, tmp_path, monkeypatch):
    (tmp_path / "slow_task.py").write_text(textwrap.dedent("""
        import time
        from pathlib import Path

        def nap(marker):
            time.sleep(1.0)
            with open(marker, "a") as f:
                f.write("ran ")
    """))
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    w = background.start([Task("a:nap", "slow_task:nap", (str(tmp_path / "nap"),))], n_workers=2)
    started(w, "a:nap")
    assert not w.take("a:nap")  # the child has it
    assert background.wait_for("a:nap") is True
    assert (tmp_path / "nap").read_text() == "ran "


def test_a_finished_task_is_read_without_writing_what_was_kept_back(fresh_cache, tmp_path, monkeypatch):
    """wait_for a task the child has already reported: no wait, so nothing kept back is written
    then (it is written when this process would wait, or after the command: cache.write_behind)."""
    import time

    (tmp_path / "slow_task.py").write_text(textwrap.dedent("""
        import time

        def quick():
            pass

        def nap():
            time.sleep(3.0)
    """))
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    w = background.start([Task("a:quick", "slow_task:quick"), Task("b:nap", "slow_task:nap")], n_workers=2)
    assert w is not None
    started(w, "b:nap")  # so a:quick has been reported (not yet read here)
    for _ in range(100):
        if w.reported("a:quick"):
            break
        time.sleep(0.05)
    cache.store_pickle("network", "kept", {"graph": 1}, defer=True)
    assert ("network", "kept") in cache._DEFERRED
    assert background.wait_for("a:quick") is True
    assert ("network", "kept") in cache._DEFERRED  # not written: there was no wait
    assert background.wait_for("b:nap") is True  # a real wait: written first
    assert not cache._DEFERRED and cache.entry_path("network", "kept", ".pickle").is_file()


def test_in_the_command_a_wait_hands_what_was_kept_back_to_a_forked_writer(fresh_cache, tmp_path, monkeypatch):
    """In the lisgeo command (cache.WRITE_BEHIND) a real wait does not write the kept-back pickles
    itself (a wait shorter than the writing would end later): a forked writer writes them beside
    it, and a reader waits for that writer's entry."""
    import os
    import time

    (tmp_path / "slow_task.py").write_text("import time\n\ndef nap():\n    time.sleep(1.5)\n")
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    monkeypatch.setattr(cache, "WRITE_BEHIND", True)
    w = background.start([Task("a:nap", "slow_task:nap")], n_workers=2)
    assert w is not None
    big = {"graph": list(range(200_000))}
    cache.store_pickle("network", "kept", big, defer=True)
    assert ("network", "kept") in cache._DEFERRED
    started(w, "a:nap")
    writes = []
    monkeypatch.setattr(cache, "flush_deferred", lambda: writes.append(os.getpid()))  # not called in the command
    assert background.wait_for("a:nap") is True
    assert not writes and not cache._DEFERRED
    assert cache.pickle_at_hand("network", "kept") and cache.load_pickle("network", "kept") == big
    for _ in range(200):
        if not cache._marker(cache.entry_path("network", "kept", ".pickle")).exists():
            break
        time.sleep(0.05)
    assert not cache._marker(cache.entry_path("network", "kept", ".pickle")).exists()


def test_a_child_started_ahead_imports_what_the_caller_names(fresh_cache, tmp_path, monkeypatch):
    """prestart(preload=...): the child imports those modules too before it reads its tasks."""
    (tmp_path / "slow_task.py").write_text(textwrap.dedent("""
        import sys
        from pathlib import Path

        def check(marker):
            Path(marker).write_text(str(sorted(m for m in ("json.tool", "lisgeo.network") if m in sys.modules)))
    """))
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    monkeypatch.setenv("LISGEO_WORKERS", "2")
    background.prestart(preload=("json.tool",))
    w = background.start([Task("a:check", "slow_task:check", (str(tmp_path / "seen"),))])
    assert w is not None and not background._SPARE
    started(w, "a:check")
    assert background.wait_for("a:check") is True
    assert (tmp_path / "seen").read_text() == "['json.tool']"  # named: imported; not named: not
