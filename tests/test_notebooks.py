"""The two walkthrough notebooks run from top to bottom, say what they should, show a map inline, and
their committed outputs are those of the current code (never stale).

Each notebook is executed in a fresh kernel (nbclient) by ``notebooks/refresh.py``'s own
``execute``; every text output (stdout, and the plain-text form of results and displays) is
compared with the committed one after ``refresh.normalise`` (memory addresses, temporary paths,
timings). A difference fails with the command that refreshes them: ``python notebooks/refresh.py``.
About 15 s (planner) and 30 s (analyst) from an empty cache on 2 busy cores, run side by side by
pytest-xdist; a few seconds each when the cache is warm.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def _refresh():
    spec = importlib.util.spec_from_file_location("lisgeo_notebooks_refresh", NOTEBOOKS / "refresh.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


refresh = _refresh()


def _run(name: str):
    """(committed notebook, freshly executed notebook, the fresh text of every output)."""
    nbformat = pytest.importorskip("nbformat")
    pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    path = NOTEBOOKS / f"{name}.ipynb"
    committed = nbformat.read(path, as_version=4)
    fresh = refresh.execute(path, timeout=300)
    assert not refresh.errors(fresh), f"{name}: {refresh.errors(fresh)}"
    return committed, fresh, "\n".join(t for _, t in refresh.text_outputs(fresh))


def _current_and_inline(name, committed, fresh):
    diff = refresh.differences(committed, fresh, name)
    assert not diff, (f"the committed outputs of notebooks/{name}.ipynb are stale; refresh them with "
                      f"`{refresh.COMMAND} {name}` and commit:\n" + "\n\n".join(diff))
    assert refresh.inline_maps(committed) >= 1 and refresh.inline_maps(fresh) >= 1, f"{name} shows no map inline"
    size = (NOTEBOOKS / f"{name}.ipynb").stat().st_size
    assert size <= refresh.MAX_BYTES, f"{name}.ipynb is {size / 1e6:.2f} MB with its outputs (budget {refresh.MAX_BYTES / 1e6:.1f} MB)"


def test_planner_walkthrough(real_data):
    committed, fresh, out = _run("planner_walkthrough")
    assert "6_scenario_hs2" in out and "What HS2 changes" in out
    assert "{'districts': 8, 'lep': 1" in out
    assert "refused: unknown map-file key 'colour'" in out
    assert "gigabit.html" in out and "MB" in out and " px" in out
    _current_and_inline("planner_walkthrough", committed, fresh)


def test_analyst_walkthrough(real_data):
    committed, fresh, out = _run("analyst_walkthrough")
    assert "608 LSOAs; EPSG:27700" in out
    assert "any journey slower: False" in out
    assert "'scores.gpkg'" in out and "'winners_losers.csv'" in out
    assert "hs2_change.html" in out
    _current_and_inline("analyst_walkthrough", committed, fresh)


# ---------------------------------------------------------------- the staleness check itself


def test_normalise_takes_out_what_changes_between_runs():
    a = "<folium.folium.Map at 0x7f3a2b1c9d90>\nwrote /tmp/lisgeo-analyst-abc123/scores.csv in 3.2 s  \n"
    b = "<folium.folium.Map at 0x7fffe0001230>\nwrote /tmp/lisgeo-analyst-zz9/scores.csv in 12.75 s\n"
    assert refresh.normalise(a) == refresh.normalise(b) == "<folium.folium.Map at 0x…>\nwrote <tmp> in <t> s"
    # but not the numbers a planner reads
    assert refresh.normalise("largest saving to London: 67.7 min") != refresh.normalise("largest saving to London: 27.2 min")
    assert refresh.normalise("17 sites; 3 seconds") == "17 sites; <t> s"


def test_a_stale_output_is_found_and_named():
    nbformat = pytest.importorskip("nbformat")
    committed = nbformat.read(NOTEBOOKS / "analyst_walkthrough.ipynb", as_version=4)
    fresh = nbformat.read(NOTEBOOKS / "analyst_walkthrough.ipynb", as_version=4)
    assert refresh.differences(committed, fresh, "analyst") == []
    cell = next(c for c in committed.cells if c.cell_type == "code" and "largest saving to London" in c.source)
    out = next(o for o in cell.outputs if o.output_type == "stream")
    out.text = out.text.replace("largest saving to London: ", "largest saving to London: 67.7 min … was ")
    (diff,) = refresh.differences(committed, fresh, "analyst")
    assert "analyst cell 3 (committed)" in diff and "67.7 min" in diff
    # outputs cleared before committing are stale too
    for c in committed.cells:
        if c.cell_type == "code":
            c.outputs = []
    assert len(refresh.differences(committed, fresh, "analyst")) == sum(
        bool(t) for _, t in refresh.text_outputs(fresh))


def test_refresh_names_the_notebooks():
    assert [p.stem for p in refresh.notebooks()] == ["analyst_walkthrough", "planner_walkthrough"]
    assert refresh.notebooks(["planner_walkthrough.ipynb"]) == [NOTEBOOKS / "planner_walkthrough.ipynb"]
    with pytest.raises(SystemExit, match="unknown notebook 'nope'; the notebooks are: analyst_walkthrough"):
        refresh.notebooks(["nope"])
