"""Re-execute the walkthrough notebooks with the current code and save them with their outputs.

    python notebooks/refresh.py                        # every notebook here
    python notebooks/refresh.py analyst_walkthrough    # one
    python notebooks/refresh.py --check                # execute and compare, write nothing; exit 1 if stale

It needs the public data (``LISGEO_DATA_DIR``, default ``../shared/data``) and the test extra
(``pip install -e '.[test]'``: nbclient, nbformat, ipykernel). ``tests/test_notebooks.py`` runs the
same comparison in CI: a committed output that differs from a fresh run (after :func:`normalise`
takes out what changes from run to run: memory addresses, temporary paths, timings) fails the
suite with this command.
"""

from __future__ import annotations

import argparse
import difflib
import os
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
COMMAND = "python notebooks/refresh.py"
#: the largest a notebook may be with its outputs (its inline map included)
MAX_BYTES = 1_000_000

_VOLATILE = [
    (re.compile(r"\bat 0x[0-9a-fA-F]+"), "at 0x…"),  # <folium.folium.Map at 0x7f…>
    (re.compile(r"(?:/tmp|/var/folders|/private/var/folders|[A-Za-z]:\\\S*\\Temp)/?\S*"), "<tmp>"),
    (re.compile(r"\b\d+(?:\.\d+)?\s?(?:s|ms|seconds)\b(?!\w)"), "<t> s"),
]


def normalise(text: str) -> str:
    """``text`` without what changes from run to run (memory addresses, temporary paths, timings),
    trailing spaces and blank lines."""
    for pat, rep in _VOLATILE:
        text = pat.sub(rep, text)
    return "\n".join(line.rstrip() for line in text.strip().splitlines())


def text_outputs(nb) -> list[tuple[int, str]]:
    """(code cell number, its normalised text output) for each code cell: stdout, and the plain-text
    form of results and displays (stderr, e.g. progress bars, is left out)."""
    out = []
    n = 0
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        n += 1
        parts = []
        for o in cell.get("outputs", []):
            kind = o.get("output_type")
            if kind == "stream" and o.get("name") == "stdout":
                parts.append(o.get("text", ""))
            elif kind in ("execute_result", "display_data"):
                parts.append(o.get("data", {}).get("text/plain", ""))
            elif kind == "error":
                parts.append(f"{o.get('ename')}: {o.get('evalue')}")
        out.append((n, normalise("".join(p if isinstance(p, str) else "".join(p) for p in parts))))
    return out


def inline_maps(nb) -> int:
    """How many outputs are maps drawn inline (folium/Leaflet HTML)."""
    return sum(1 for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
               if "leaflet" in str(o.get("data", {}).get("text/html", "")).lower())


def errors(nb) -> list[str]:
    return [f"{o.get('ename')}: {o.get('evalue')}" for c in nb.cells if c.cell_type == "code"
            for o in c.get("outputs", []) if o.get("output_type") == "error"]


def execute(path: Path, timeout: int = 600):
    """The notebook at ``path`` executed from the top in a fresh kernel (its folder as the working directory)."""
    import nbclient
    import nbformat

    os.environ.setdefault("MPLBACKEND", "Agg")
    if not os.environ.get("LISGEO_DATA_DIR") and (ROOT.parent / "shared" / "data").is_dir():
        os.environ["LISGEO_DATA_DIR"] = str(ROOT.parent / "shared" / "data")
    # the kernel imports this checkout's lisgeo, whatever is installed
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
    nb = nbformat.read(path, as_version=4)
    nbclient.NotebookClient(nb, timeout=timeout, kernel_name="python3", record_timing=False, allow_errors=True,
                            resources={"metadata": {"path": str(path.parent)}}).execute()
    return nb


def differences(committed, fresh, name: str) -> list[str]:
    """Where the committed outputs differ from a fresh run, as short unified diffs per cell."""
    old, new = dict(text_outputs(committed)), dict(text_outputs(fresh))
    out = []
    for n in sorted(set(old) | set(new)):
        a, b = old.get(n, ""), new.get(n, "")
        if a != b:
            diff = difflib.unified_diff(a.splitlines(), b.splitlines(), f"{name} cell {n} (committed)",
                                        f"{name} cell {n} (fresh run)", lineterm="", n=1)
            out.append("\n".join(list(diff)[:30]))
    return out


def notebooks(names: list[str] | None = None) -> list[Path]:
    found = sorted(HERE.glob("*.ipynb"))
    if not names:
        return found
    by_name = {p.stem: p for p in found}
    bad = [n for n in names if n.removesuffix(".ipynb") not in by_name]
    if bad:
        raise SystemExit(f"unknown notebook {bad[0]!r}; the notebooks are: {', '.join(by_name)}")
    return [by_name[n.removesuffix(".ipynb")] for n in names]


def main(argv: list[str] | None = None) -> int:
    import nbformat

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("names", nargs="*", help="notebook names (default: all)")
    ap.add_argument("--check", action="store_true", help="execute and compare with the committed outputs; write nothing")
    args = ap.parse_args(argv)
    stale = False
    for path in notebooks(args.names):
        committed = nbformat.read(path, as_version=4)
        fresh = execute(path)
        if errors(fresh):
            print(f"{path.name}: {'; '.join(errors(fresh))}", file=sys.stderr)
            return 1
        diff = differences(committed, fresh, path.stem)
        if args.check:
            stale |= bool(diff)
            print(f"{path.name}: " + ("stale\n" + "\n".join(diff) if diff else "current"))
            continue
        nbformat.write(fresh, path)
        size = path.stat().st_size
        print(f"{path.name}: {'refreshed' if diff else 'unchanged outputs'}, {inline_maps(fresh)} inline map(s), "
              f"{size / 1e6:.2f} MB" + (f" (over the {MAX_BYTES / 1e6:.1f} MB budget)" if size > MAX_BYTES else ""))
    if stale:
        print(f"refresh them with: {COMMAND}", file=sys.stderr)
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
