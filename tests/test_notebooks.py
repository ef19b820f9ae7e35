"""The two walkthrough notebooks run from top to bottom (nbclient) and say what they should."""

from __future__ import annotations

from pathlib import Path

import pytest

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def _run(name: str) -> str:
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    nb = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    nbclient.NotebookClient(nb, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(NOTEBOOKS)}}).execute()
    text = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            assert out.get("output_type") != "error", f"{name}: {out.get('ename')}: {out.get('evalue')}"
            text.append(out.get("text", "") or out.get("data", {}).get("text/plain", ""))
    return "\n".join(text)


def test_planner_walkthrough(real_data):
    out = _run("planner_walkthrough")
    assert "6_scenario_hs2" in out and "What HS2 changes" in out
    assert "{'districts': 8, 'lep': 1" in out
    assert "refused: unknown map-file key 'colour'" in out
    assert "gigabit.html" in out and "MB" in out


def test_analyst_walkthrough(real_data):
    out = _run("analyst_walkthrough")
    assert "608 LSOAs; EPSG:27700" in out
    assert "any journey slower: False" in out
    assert "'scores.gpkg'" in out and "'winners_losers.csv'" in out
    assert "hs2_change.html" in out
