"""The column scheme is the one home of score column names: everything that names a column agrees with it."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from lisgeo.errors import UnknownNameError
from lisgeo.measures.columns import (CONTRACT, DELTA_COLUMNS, EXTRA_COLUMNS, FIXED_SITES, RAIL_DESTINATIONS, TIME_COLUMNS,
                                     column, column_name, direction_of, is_score_column)

ROOT = Path(__file__).resolve().parents[2]


def test_column_name_builds_the_scheme():
    assert column_name("tt", mode="car", target="ema") == "tt_car_ema"
    assert column_name("jobs", mode="rail", minutes=60) == "jobs_rail_60"
    assert column_name("jobs", mode="walk", minutes=7.5) == "jobs_walk_7.5"
    assert column_name("gravity", mode="transit") == "acc_gravity_transit"
    assert column_name("e2sfca", mode="car") == "e2sfca_jobs_car"
    with pytest.raises(UnknownNameError, match="mode"):
        column_name("tt", mode="pt", target="london")
    with pytest.raises(UnknownNameError, match="measure"):
        column_name("speed", mode="car")


def test_column_reads_back_label_unit_direction_and_contract_position():
    c = column("tt_rail_london")
    assert (c.label, c.units, c.direction, c.contract) == ("Time to London by rail", "min", "lower", CONTRACT.index("tt_rail_london"))
    assert column("jobs_car_45").direction == "higher" and column("jobs_car_45").units == "jobs"
    assert column("d_tt_car_ema").label == "Change in time to East Midlands Airport by car"
    assert column("tt_rail_leeds_scenario").label == "Time to Leeds by rail (with the scenario)"
    assert column("tt_car_nearest_ez_id").direction is None  # an id, not a time
    assert column("LADNM").contract == 3 and column("jobs").contract is None
    assert direction_of("not_a_column") is None and not is_score_column("not_a_column")
    with pytest.raises(UnknownNameError, match="tt_<mode>_<target>"):
        column("tt_bus_london")


def test_contract_is_consistent():
    assert len(CONTRACT) == 30 and len(set(CONTRACT)) == 30
    assert set(FIXED_SITES) | set(RAIL_DESTINATIONS) <= set(TIME_COLUMNS)
    assert all(column(c).direction == "lower" for c in TIME_COLUMNS)
    assert all(column(c).direction in ("higher", "lower") for c in DELTA_COLUMNS if c != "connectivity_decile")
    assert not set(EXTRA_COLUMNS) & set(CONTRACT)


def test_index_weights_name_known_measures():
    cfg = tomllib.loads((ROOT / "layers" / "indices.toml").read_text(encoding="utf-8"))
    for index in ("connectivity", "accessibility"):
        for m in cfg[index]:
            assert is_score_column(m) and direction_of(m) in ("higher", "lower"), (index, m)
    assert not cfg.get("direction"), "directions come from lisgeo.measures.columns, not indices.toml"


def _map_columns(spec: dict) -> list[tuple[str, str]]:
    out = []
    for layer in spec.get("layers", []):
        if layer.get("source") not in ("scores", "compare"):
            continue
        for key in ("column",):
            if key in layer:
                out.append((layer["name"], layer[key]))
        for key in ("tooltip", "popup"):
            out += [(layer["name"], c) for c in layer.get(key, [])]
    table = spec.get("table") or {}
    sources = {layer["name"]: layer.get("source", "layer") for layer in spec.get("layers", [])}
    if sources.get(table.get("layer")) in ("scores", "compare"):
        out += [("table", c) for c in (table.get("stats") or {})]
    return out


@pytest.mark.parametrize("path", sorted((ROOT / "maps").glob("*.toml")), ids=lambda p: p.name)
def test_map_definitions_name_known_columns(path):
    spec = tomllib.loads(path.read_text(encoding="utf-8"))
    for layer, col in _map_columns(spec):
        assert is_score_column(col), f"{path.name}: layer {layer} names {col!r}, which is not a score column"


def test_docs_describe_every_column():
    doc = (ROOT / "docs" / "scores.md").read_text(encoding="utf-8")
    named = set(re.findall(r"`([A-Za-z0-9_]+)`", doc))
    missing = [c for c in (*CONTRACT, *EXTRA_COLUMNS) if c not in named]
    assert not missing, f"docs/scores.md does not describe {missing}"
    stale = sorted(c for c in named if re.fullmatch(r"(tt|jobs|acc|e2sfca)_[a-z0-9_]+", c)
                   and not is_score_column(c) and "<" not in c)
    assert not stale, f"docs/scores.md names columns outside the scheme: {stale}"
