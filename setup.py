"""Build hooks only (the project is described in pyproject.toml): the package records its build.

A wheel carries ``lisgeo/_build.json``: the git commit it was built from (and whether the checkout
had uncommitted changes), when the sdist and the wheel were built, and a ``build_id``
("<commit[:12]>-<wheel build time>"); ``lisgeo.provenance.build_info`` reads it, and every
``provenance.json`` records it. ``.ci/run`` builds an sdist, then the wheel from the unpacked sdist,
outside git: the sdist carries the record made from the checkout, and the wheel keeps its commit.
A wheel built from an sdist made without git says so: "unknown (built from an sdist without git)".
An editable install writes nothing (lisgeo then asks git itself); nothing is ever written into the
source tree.
"""

from __future__ import annotations

import datetime
import json
import subprocess
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py as _build_py
from setuptools.command.sdist import sdist as _sdist

ROOT = Path(__file__).resolve().parent
RECORD = ("lisgeo", "_build.json")


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _git(*args: str) -> str | None:
    try:
        r = subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True, timeout=30,
                           stdin=subprocess.DEVNULL)
    except (OSError, subprocess.SubprocessError):
        return None
    return r.stdout.strip() if r.returncode == 0 else None


def _checkout() -> tuple[str, bool] | None:
    """(commit, dirty) when this folder is the top of a git checkout (not an sdist unpacked inside
    another repository), else None."""
    top = _git("rev-parse", "--show-toplevel")
    if not top or Path(top).resolve() != ROOT:
        return None
    head = _git("rev-parse", "HEAD")
    if not head or len(head) != 40:
        return None
    return head, bool(_git("status", "--porcelain", "--untracked-files=no"))


def _record(stage: str, carried: dict | None = None) -> dict:
    """The build record at ``stage`` ("sdist" or "wheel"), from the checkout, else from the record
    ``carried`` by the sdist being built."""
    rec = dict(carried or {})
    git = _checkout()
    if git is not None:
        rec.update(git_commit=git[0], git_dirty=git[1], source="git checkout" if stage == "sdist" or not carried else "sdist")
    elif not rec.get("git_commit"):
        rec["source"] = "sdist without git" if stage == "wheel" else "source without git"
    else:
        rec["source"] = "sdist"
    rec[f"{stage}_built_utc"] = _now()
    commit = rec.get("git_commit")
    stamp = rec[f"{stage}_built_utc"].replace("-", "").replace(":", "")
    if commit:
        rec["build_id"] = f"{commit[:12]}{'+dirty' if rec.get('git_dirty') else ''}-{stamp}"
    else:
        rec["build_id"] = f"unknown (built from an sdist without git) {stamp}" if stage == "wheel" else f"unknown (no git) {stamp}"
    return rec


def _write(path: Path, rec: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists() or path.is_symlink():
        path.unlink()  # (a hard link to the source in a release tree: never write through it)
    path.write_text(json.dumps(rec, indent=2, sort_keys=True) + "\n", encoding="utf-8")


class build_py(_build_py):
    """Adds ``lisgeo/_build.json`` to the built package (kept from the sdist when built from one)."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        carried = None
        source = ROOT.joinpath(*RECORD)
        if source.is_file():
            try:
                carried = json.loads(source.read_text(encoding="utf-8"))
            except ValueError:
                carried = None
        _write(Path(self.build_lib).joinpath(*RECORD), _record("wheel", carried))

    def get_outputs(self, include_bytecode: bool = True) -> list[str]:
        outputs = list(super().get_outputs(include_bytecode))
        if not getattr(self, "editable_mode", False):
            outputs.append(str(Path(self.build_lib).joinpath(*RECORD)))
        return outputs


class sdist(_sdist):
    """Puts ``lisgeo/_build.json`` (made from the checkout) into the sdist."""

    def make_release_tree(self, base_dir: str, files: list[str]) -> None:
        super().make_release_tree(base_dir, files)
        _write(Path(base_dir).joinpath(*RECORD), _record("sdist"))


setup(cmdclass={"build_py": build_py, "sdist": sdist})
