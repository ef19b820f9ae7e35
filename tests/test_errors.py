"""The error family: specific subclasses everywhere, and no ``assert`` guarding data."""

from __future__ import annotations

import ast
from collections import Counter
from pathlib import Path

import pytest

import lisgeo
from lisgeo import errors

PACKAGE = Path(lisgeo.__file__).resolve().parent

# The only places allowed to raise the bare base class, as {(file, function): number of raises}.
ALLOWED_BASE_RAISES = {
    # a missing optional package (pyrosm): no subclass describes it
    ("network/osm.py", "graph_from_osm"): 1,
    ("pipeline/calibrate.py", "osm_a_road_speed"): 1,
}


def _sources() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def _raises_base(node: ast.Raise) -> bool:
    exc = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
    if isinstance(exc, ast.Name):
        return exc.id == "LisgeoError"
    return isinstance(exc, ast.Attribute) and exc.attr == "LisgeoError"


def _base_raises() -> Counter:
    """Count ``raise LisgeoError`` by (file relative to the package, innermost function)."""
    found: Counter = Counter()

    def visit(node: ast.AST, rel: str, func: str) -> None:
        for child in ast.iter_child_nodes(node):
            name = child.name if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)) else func
            if isinstance(child, ast.Raise) and child.exc is not None and _raises_base(child):
                found[(rel, func)] += 1
            visit(child, rel, name)

    for path in _sources():
        visit(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)), path.relative_to(PACKAGE).as_posix(),
              "<module>")
    return found


def test_sources_are_found():
    assert len(_sources()) > 20
    assert (PACKAGE / "errors.py").is_file()


def test_base_class_is_raised_only_where_allowed():
    found = _base_raises()
    extra = {k: n for k, n in found.items() if n > ALLOWED_BASE_RAISES.get(k, 0)}
    assert not extra, (
        f"raise a specific subclass from lisgeo.errors instead of LisgeoError at {sorted(extra)} "
        "(or justify the place in ALLOWED_BASE_RAISES)"
    )


def test_allow_list_is_not_stale():
    found = _base_raises()
    stale = {k: n for k, n in ALLOWED_BASE_RAISES.items() if found.get(k, 0) < n}
    assert not stale, f"these allowed places no longer raise LisgeoError; shrink ALLOWED_BASE_RAISES: {stale}"


def test_no_assert_statements():
    where = [
        f"{path.relative_to(PACKAGE).as_posix()}:{node.lineno}"
        for path in _sources()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)))
        if isinstance(node, ast.Assert)
    ]
    assert not where, f"assert is skipped under python -O; raise a lisgeo error instead at {where}"


@pytest.mark.parametrize("name", [n for n in errors.__all__ if not n.endswith("Warning")])
def test_every_error_is_a_lisgeo_value_error(name):
    cls = getattr(errors, name)
    assert isinstance(cls, type)
    assert issubclass(cls, errors.LisgeoError)
    assert issubclass(cls, ValueError)


@pytest.mark.parametrize("name", [n for n in errors.__all__ if n.endswith("Warning")])
def test_every_warning_is_a_user_warning_not_an_error(name):
    cls = getattr(errors, name)
    assert issubclass(cls, UserWarning) and not issubclass(cls, errors.LisgeoError)
