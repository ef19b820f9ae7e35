"""Every code example in README.md and docs/*.md runs (issue 22).

* ```` ```python ```` blocks run, a file's blocks in order in one fresh namespace (one process per
  file, in an empty folder, with the public data), so what a reader copies works. A block that
  cannot run on CI's data (it needs a planner's own file) starts with the line
  ``# not run: <why>``: such marks must be few and give a reason.
* ``lisgeo …`` commands in ```` ```bash ```` blocks parse: the subcommand exists (its ``--help``
  works), every option named exists, and the arguments parse as click would. Untyped blocks that
  show a command synopsis (``lisgeo score --region d2n2 [--scenario base] …``) have their
  subcommands and option names checked. The cheap commands (:data:`RUN`) actually run.
* README's "Two commands" are exactly two: the main job in a fresh virtual environment, and
  ``bash .ci/run``.
* ```` ```toml ```` blocks are valid TOML.

About a minute and a half on 2 busy cores from an empty cache (the validation example routes
every published journey: about 30 s); a few seconds when the cache is warm.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import textwrap
import tomllib
from dataclasses import dataclass
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from lisgeo.cli import cli

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
NOT_RUN = "# not run:"
#: at most this many example blocks may be marked not run, over all the files
MAX_NOT_RUN = 2
#: subcommands cheap enough to run as written (a few seconds each once the layers are read)
RUN = {("data", "list"), ("data", "verify"), ("data", "fetch"), ("network", "scenarios"), ("layers", "list"),
       ("layers", "export"), ("map",), ("isochrones",)}


@dataclass(frozen=True)
class Block:
    path: Path
    line: int  # of the opening fence, 1-based
    lang: str
    text: str

    @property
    def where(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"


def blocks(path: Path) -> list[Block]:
    """The fenced code blocks of a Markdown file (``` with an optional language)."""
    out, lang, start, body = [], None, 0, []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        m = re.match(r"^(\s*)```\s*([\w+-]*)\s*$", line)
        if lang is None and m:
            lang, start, body, indent = m.group(2).lower(), n, [], len(m.group(1))
        elif lang is not None and m and not m.group(2):
            out.append(Block(path, start, lang, textwrap.dedent("\n".join(body)) + "\n"))
            lang = None
        elif lang is not None:
            body.append(line[indent:] if line[:indent].isspace() else line)
    assert lang is None, f"{path.name}: the code block opened on line {start} is never closed"
    return out


ALL = [b for p in DOCS for b in blocks(p)]
PYTHON = [b for b in ALL if b.lang in ("python", "py")]


def _not_run_reason(b: Block) -> str | None:
    first = b.text.lstrip("\n").splitlines()[0].strip() if b.text.strip() else ""
    return first[len(NOT_RUN):].strip() if first.lower().startswith(NOT_RUN) else None


# ---------------------------------------------------------------- finding the examples


def test_the_examples_are_found():
    langs = {(b.path.name, b.lang) for b in ALL}
    assert {("README.md", "python"), ("README.md", "bash"), ("scores.md", "python"), ("validation.md", "python")} <= langs
    assert len(PYTHON) >= 4 and sum(b.lang == "bash" for b in ALL) >= 6
    # only the languages this test knows how to check (an untyped block is text or a synopsis)
    assert {b.lang for b in ALL} <= {"python", "py", "bash", "sh", "toml", ""}, {b.lang for b in ALL}


def test_not_run_marks_are_few_and_say_why():
    marked = {b.where: _not_run_reason(b) for b in PYTHON if _not_run_reason(b) is not None}
    assert len(marked) <= MAX_NOT_RUN, f"too many examples marked '{NOT_RUN}' (at most {MAX_NOT_RUN}): {sorted(marked)}"
    for where, why in marked.items():
        assert len(why.split()) >= 4, f"{where}: '{NOT_RUN}' must say why in a few words, e.g. '{NOT_RUN} needs your own GTFS file'"
    # the mark is a block's first line, and nothing else in a runnable block looks like one
    for b in PYTHON:
        later = b.text.lower().split("\n", 1)[-1] if _not_run_reason(b) is not None else b.text.lower()
        assert "not run" not in later, f"{b.where}: '{NOT_RUN} <why>' goes on the first line of its own block"


def test_toml_examples_are_valid_toml():
    for b in ALL:
        if b.lang == "toml":
            tomllib.loads(b.text)


# ---------------------------------------------------------------- python

_RUNNER = '''
import sys, traceback, warnings
warnings.simplefilter("ignore")
ns = {"__name__": "__main__"}
for where, code in BLOCKS:
    path, line = where.rsplit(":", 1)
    try:  # padded so that a traceback gives the line in the Markdown file
        exec(compile("\\n" * int(line) + code, path, "exec"), ns)
    except BaseException:
        traceback.print_exc()
        sys.exit(f"the example at {where} failed")
    print("ran", where, flush=True)
'''


def _run_python(blocks_: list[Block], cwd: Path, timeout: int = 600) -> subprocess.CompletedProcess:
    script = cwd / "examples.py"
    script.write_text(f"BLOCKS = {[(b.where, b.text) for b in blocks_]!r}\n" + _RUNNER, encoding="utf-8")
    env = dict(os.environ, MPLBACKEND="Agg", PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    return subprocess.run([sys.executable, str(script)], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


@pytest.mark.slow
@pytest.mark.parametrize("doc", sorted({b.path.relative_to(ROOT).as_posix() for b in PYTHON}))
def test_python_examples_run(doc, real_data, tmp_path):
    runnable = [b for b in PYTHON if b.path.relative_to(ROOT).as_posix() == doc and _not_run_reason(b) is None]
    if not runnable:
        pytest.skip(f"{doc}: every python example is marked not run")
    r = _run_python(runnable, tmp_path)
    assert r.returncode == 0, f"{r.stderr[-4000:]}\n(stdout: {r.stdout[-1000:]})"
    assert r.stdout.count("ran ") == len(runnable)


def test_a_failing_example_names_its_place(tmp_path):
    """The runner itself: a broken block fails with its file and line (what a reader sees in CI)."""
    fake = [Block(ROOT / "docs" / "scores.md", 17, "python", "x = 1\n"),
            Block(ROOT / "docs" / "scores.md", 30, "python", "from lisgeo.measures import score_region\n")]
    r = _run_python(fake, tmp_path, timeout=120)
    assert r.returncode != 0 and "docs/scores.md:30 failed" in r.stderr and "ImportError" in r.stderr
    assert 'File "docs/scores.md", line 31' in r.stderr  # the line in the Markdown file
    assert "ran docs/scores.md:17" in r.stdout


# ---------------------------------------------------------------- the lisgeo command


@dataclass(frozen=True)
class Command:
    block: Block
    args: tuple[str, ...]
    synopsis: bool  # from an untyped block: [optional] parts, placeholders

    def __str__(self) -> str:
        return f"{self.block.where}: lisgeo {' '.join(self.args)}"


def commands(b: Block) -> list[Command]:
    """Every ``lisgeo …`` command of a block: continuation lines joined, comments dropped, split at
    ``&&``, ``||``, ``;`` and ``|``; leading ``VAR=value`` assignments skipped."""
    out = []
    text = re.sub(r"\\\n", " ", b.text)
    for line in text.splitlines():
        if b.lang == "" and not line.lstrip().startswith("lisgeo "):
            continue  # an untyped block: only the lines that are commands
        if b.lang == "":
            line = line.replace("[", " ").replace("]", " ")
        lex = shlex.shlex(line, posix=True, punctuation_chars=";&|")
        lex.whitespace_split, lex.commentars = True, "#"
        part: list[str] = []
        for tok in [*lex, ";"]:
            if tok and set(tok) <= set(";&|"):
                while part and re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", part[0]):
                    part.pop(0)
                if part and part[0] == "lisgeo":
                    out.append(Command(b, tuple(part[1:]), synopsis=b.lang == ""))
                part = []
            else:
                part.append(tok)
    return out


COMMANDS = [c for b in ALL if b.lang in ("bash", "sh", "") for c in commands(b)]


def _resolve(args: tuple[str, ...]) -> tuple[list[str], click.Command, list[str]]:
    """(the subcommand path, its command, the remaining arguments)."""
    cmd, path, rest = cli, [], list(args)
    while isinstance(cmd, click.Group):
        assert rest and not rest[0].startswith("-"), f"'lisgeo {' '.join(path)}' needs a subcommand"
        sub = cmd.commands.get(rest[0])
        assert sub is not None, f"no subcommand 'lisgeo {' '.join(path + rest[:1])}'; lisgeo has: {sorted(cmd.commands)}"
        cmd, path, rest = sub, path + [rest.pop(0)], rest
    return path, cmd, rest


def test_the_commands_are_found():
    shown = {" ".join(_resolve(c.args)[0]) for c in COMMANDS}
    assert {"build", "score", "compare", "map", "data list", "validate"} <= shown, shown


@pytest.mark.parametrize("cmd", COMMANDS, ids=str)
def test_lisgeo_commands_parse(cmd):
    path, command, rest = _resolve(cmd.args)
    r = CliRunner().invoke(cli, [*path, "--help"])
    assert r.exit_code == 0 and "Usage:" in r.output, f"{cmd}: 'lisgeo {' '.join(path)} --help' failed: {r.output}"
    known = {o for p in command.params for o in (*p.opts, *p.secondary_opts)} | {"--help"}
    named = {t.split("=", 1)[0] for t in rest if t.startswith("-") and t != "-"}
    assert named <= known, f"{cmd}: no option {sorted(named - known)} for 'lisgeo {' '.join(path)}'; it has {sorted(known)}"
    if not cmd.synopsis:  # a real command: it parses as click would parse it (no callback is run)
        try:
            ctx = command.make_context(f"lisgeo {' '.join(path)}", list(rest))
        except click.UsageError as exc:
            pytest.fail(f"{cmd}: {exc.format_message()}")
        assert not ctx.args, f"{cmd}: arguments left over: {ctx.args}"


@pytest.mark.slow
def test_the_cheap_commands_run(real_data, tmp_path):
    ran = []
    env = dict(os.environ, MPLBACKEND="Agg", PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    for cmd in COMMANDS:
        if cmd.synopsis or tuple(_resolve(cmd.args)[0]) not in RUN:
            continue
        r = subprocess.run([sys.executable, "-m", "lisgeo", *cmd.args], cwd=tmp_path, env=env, capture_output=True,
                           text=True, timeout=300)
        assert r.returncode == 0, f"{cmd} failed:\n{r.stderr[-3000:]}"
        ran.append(cmd.args[:2])
    assert {("data", "list"), ("network", "scenarios"), ("layers", "list")} <= set(ran) and any(a[0] == "map" for a in ran), ran


# ---------------------------------------------------------------- README's first contact


def test_readme_first_contact_is_two_commands():
    """A fresh Debian/Ubuntu machine: a system Python refuses ``pip install`` (PEP 668), so the first
    command makes and activates a virtual environment; the second is CI's script."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Two commands", 1)[1].split("\n## ", 1)[0]
    (first,) = [b for b in blocks(ROOT / "README.md") if b.lang == "bash" and b.text.strip() and b.text in section]
    lines = [ln for ln in re.sub(r"\\\n", " ", first.text).splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    assert len(lines) == 2, f"README's 'Two commands' block holds {len(lines)} commands: {lines}"
    job, tests = lines
    assert tests.strip() == "bash .ci/run"
    steps = [s.strip() for s in job.split("&&")]
    assert re.match(r"^python3 -m venv \S+$", steps[0]), steps
    assert steps[1].startswith(". ") and steps[1].endswith("/bin/activate"), steps
    assert any(re.match(r"^python -m pip install (-q )?-e \.$", s) for s in steps), steps
    assert re.search(r"lisgeo build --region d2n2 -o \S+$", steps[-1]), steps


def test_the_command_checks_catch_what_they_should():
    """The checker itself, on made-up blocks: chains, comments, variables, continuation lines, synopses."""
    b = Block(ROOT / "README.md", 1, "bash", "python3 -m venv .venv && . .venv/bin/activate && X=1 lisgeo score \\\n"
                                             "  --region d2n2 -o out   # a comment; lisgeo not this\nlisgeo data list | head\n")
    assert [c.args for c in commands(b)] == [("score", "--region", "d2n2", "-o", "out"), ("data", "list")]
    syn = Block(ROOT / "docs" / "scores.md", 1, "", "lisgeo score --region d2n2 [--scenario base] -o out/\nnot a command\n")
    (c,) = commands(syn)
    assert c.synopsis and c.args == ("score", "--region", "d2n2", "--scenario", "base", "-o", "out/")
    for args, why in [(("scroe", "-o", "x"), "no subcommand 'lisgeo scroe'"), (("data",), "needs a subcommand")]:
        with pytest.raises(AssertionError, match=why):
            _resolve(args)
    for bad, why in [("lisgeo score --regoin d2n2 -o x", "no option ['--regoin']"),
                     ("lisgeo score --region d2n2", "Missing option '--output'"),
                     ("lisgeo map 1_overview -o x.html extra", "unexpected extra argument")]:
        (cmd,) = commands(Block(ROOT / "README.md", 1, "bash", bad + "\n"))
        with pytest.raises(BaseException, match=re.escape(why)):
            test_lisgeo_commands_parse(cmd)
