"""The ``lisgeo`` command. It only wires stages together; it holds no analysis.

Errors in the user's input (any :class:`~lisgeo.errors.LisgeoError`) print one line,
``lisgeo: error: …``, and exit with status 2; never a traceback. Options are checked before any
work, each message naming the option (``--window``, ``--gtfs-date`` …); a long path in a message
has its middle elided.

How much is said on stderr: ``-q`` / ``-v`` / ``-vv`` on the command or any subcommand
(``lisgeo -v score …`` or ``lisgeo score -v …``) set the level of the ``lisgeo`` logger: errors
only (and no progress, no warnings), warnings (the default), info, debug. On a terminal a long
command says what it is doing at once and then its stages (the scoring stages are the
``lisgeo.pipeline.score`` log's ``score: …`` lines); when stderr is not a terminal nothing more is
printed than before unless ``-v`` asks for it.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import os
import re
import sys
import warnings
from pathlib import Path

import click

from .errors import LisgeoError

REGION_HELP = ("Region: d2n2, llep, d2n2_llep; any English district, county, combined authority, LSIP area, former LEP or "
               "ITL1 region by name or code (`lisgeo regions list`), england, or a comma-separated mix.")
SITES_HELP = ("Your own sites (a CSV with the columns of layers/sites.csv), added to the authored D2N2 and Leicester and "
              "Leicestershire ones for this run (a row with an authored site_id replaces it); checked before any work.")


def _use_sites(ctx: click.Context, param: click.Parameter, value):
    """``--sites FILE``: checked and put in use at once (:func:`lisgeo.layers.sites.use_sites_file`)."""
    if value is None:
        return value
    from .layers.sites import use_sites_file

    use_sites_file(value)
    return value


# ---------------------------------------------------------------- how much is said on stderr
class _Output:
    """The verbosity of this run of the command (-q, -v, -vv), set by the options' callbacks."""

    def __init__(self) -> None:
        self.verbose, self.quiet = 0, False

    @property
    def level(self) -> int:
        if self.quiet:
            return logging.ERROR
        return (logging.WARNING, logging.INFO)[min(self.verbose, 1)] if self.verbose < 2 else logging.DEBUG

    @property
    def progress(self) -> bool:
        """Whether to show progress: stderr is a terminal and -q was not given."""
        return not self.quiet and _stderr_is_terminal()


_OUT = _Output()


def _stderr_is_terminal() -> bool:
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


class _StderrHandler(logging.StreamHandler):
    """Writes log records to whatever ``sys.stderr`` is when a record comes (tests swap it)."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self):  # type: ignore[override]
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:
        pass


def _is_stage_line(record: logging.LogRecord) -> bool:
    """A scoring stage's line (``score: layers 1.23 s``): shown as progress on a terminal."""
    return (record.name == "lisgeo.pipeline.score" and record.levelno == logging.INFO
            and isinstance(record.msg, str) and record.msg.startswith("score: "))


def _show_record(record: logging.LogRecord) -> bool:
    return record.levelno >= _OUT.level or (_OUT.progress and _is_stage_line(record))


def _apply_output() -> None:
    """Set the ``lisgeo`` logger and Python's warnings from :data:`_OUT`."""
    logging.getLogger("lisgeo").setLevel(min(_OUT.level, logging.INFO) if _OUT.progress else _OUT.level)
    if _OUT.quiet:
        warnings.simplefilter("ignore")  # (inside main's catch_warnings: restored after the command)


def _verbosity(ctx: click.Context, param: click.Parameter, value) -> None:
    if not value:
        return
    if param.name == "quiet":
        _OUT.quiet = True
    else:
        _OUT.verbose += int(value)
    if _OUT.quiet and _OUT.verbose:
        raise click.UsageError("-q (errors only) and -v (more detail) contradict each other; give one of them", ctx=ctx)
    _apply_output()


def _verbosity_options(cmd: click.Command, *, quiet: bool = True) -> click.Command:
    """Add -v/--verbose and -q/--quiet to ``cmd`` (they change :data:`_OUT`; not passed to the function)."""
    opts = [click.Option(["-v", "--verbose"], count=True, expose_value=False, callback=_verbosity,
                         help="Say more on stderr: -v what each step does (info), -vv debug.")]
    if quiet:
        opts.append(click.Option(["-q", "--quiet"], is_flag=True, expose_value=False, callback=_verbosity,
                                 help="Errors only on stderr: no progress, no warnings."))
    names = {n for p in cmd.params for n in getattr(p, "opts", [])}
    cmd.params[:0] = [o for o in opts if not set(o.opts) & names]
    return cmd


def _start(text: str) -> None:
    """The first line of a long command, at once, when stderr is a terminal (and not -q)."""
    if _OUT.progress:
        click.echo(f"{text}…", err=True)


def _warn(text: str) -> None:
    """A warning line on stderr, unless -q."""
    if not _OUT.quiet:
        click.echo(f"lisgeo: warning: {text}", err=True)


# ---------------------------------------------------------------- option checks
def _elide(text: str, limit: int = 100, *, count: bool = True) -> str:
    """``text`` with its middle elided when longer than ``limit`` characters (and its length said, with ``count``)."""
    text = str(text)
    if len(text) <= limit:
        return text
    head = limit // 3
    return f"{text[:head]}…{text[-(limit - head - 1):]}" + (f" ({len(text):,} characters)" if count else "")


def _shorten(message: str) -> str:
    """An error message on one line, every very long word (a path) elided in its middle."""
    return re.sub(r"\S{121,}", lambda m: _elide(m.group(0), count=False), " ".join(str(message).split()))


#: The longest name of one file or folder, and the longest path, most file systems take (bytes).
NAME_MAX, PATH_MAX = 255, 4095


def _check_output_path(ctx: click.Context, param: click.Parameter, value):
    """-o: refuse before any work a path the file system cannot take (a name over 255 bytes, a path
    over 4,095), naming the option, with the path's middle elided."""
    if value is None:
        return value
    raw = os.fsencode(os.fspath(value))
    parts = [q for q in raw.split(os.fsencode(os.sep)) if q]
    longest = max(parts, key=len, default=b"")
    if len(longest) > NAME_MAX:
        raise click.BadParameter(f"a name in {_elide(os.fspath(value), 80, count=False)} is {len(longest):,} characters long, more "
                                 f"than the {NAME_MAX} a file system allows; choose a shorter folder or file name",
                                 ctx=ctx, param=param)
    full = os.fsencode(os.path.abspath(os.fspath(value)))
    if len(full) > PATH_MAX:
        raise click.BadParameter(f"the path {_elide(os.fspath(value), 80, count=False)} is {len(full):,} characters long, more than "
                                 f"the {PATH_MAX:,} a file system allows; choose a shorter folder name", ctx=ctx, param=param)
    return value


def _bad(ctx: click.Context | None, option: str, text: str) -> click.BadParameter:
    return click.BadParameter(text, ctx=ctx, param_hint=f"'{option}'")


def _minutes(value: float, option: str, lo: float, hi: float, *, ctx=None, lo_open: bool = False) -> float:
    """A number of minutes from ``lo`` (excluded with ``lo_open``) to ``hi``, else a usage error naming ``option``."""
    ok = math.isfinite(value) and (value > lo if lo_open else value >= lo) and value <= hi
    if not ok:
        raise _bad(ctx, option, f"{value:g} is not a number of minutes {'above' if lo_open else 'from'} {lo:g} "
                                f"{'and up to' if lo_open else 'to'} {hi:g}")
    return value


_CLOCK = re.compile(r"^(\d{1,2}):([0-5]\d)$")
#: The latest clock time a GTFS timetable runs to (hours past midnight of the service day).
MAX_CLOCK_HOURS = 48
#: The longest departure window of ``lisgeo score --gtfs`` (minutes).
MAX_WINDOW_MIN = 240


def _clock_minutes(value: str, option: str, ctx=None) -> int:
    """Minutes after midnight of ``HH:MM`` (hours up to 47, past midnight as GTFS writes them)."""
    m = _CLOCK.match(str(value).strip())
    if not m or int(m.group(1)) >= MAX_CLOCK_HOURS:
        raise _bad(ctx, option, f"{_elide(value, 40)!r} is not a clock time; give HH:MM such as 08:00 "
                                f"(hours past midnight up to {MAX_CLOCK_HOURS - 1}, as in GTFS)")
    return int(m.group(1)) * 60 + int(m.group(2))


def _service_day(value: str, option: str, ctx=None) -> str:
    for fmt in ("%Y-%m-%d", "%Y%m%d"):
        try:
            dt.datetime.strptime(str(value).strip(), fmt)
            return str(value).strip()
        except ValueError:
            pass
    raise _bad(ctx, option, f"{_elide(value, 40)!r} is not a date; give the service day as YYYY-MM-DD, e.g. 2024-03-05")


def _given(ctx: click.Context, name: str) -> bool:
    """Whether option ``name`` was given on the command line (not its default)."""
    from click.core import ParameterSource

    return ctx.get_parameter_source(name) not in (None, ParameterSource.DEFAULT, ParameterSource.DEFAULT_MAP)


def _check_gtfs_options(ctx: click.Context, gtfs: tuple, gtfs_date: str | None, departure: str, window_min: int) -> None:
    """``lisgeo score``'s timetable options, together, before any work."""
    if not gtfs:
        for name, option in (("gtfs_date", "--gtfs-date"), ("departure", "--departure"), ("window_min", "--window")):
            if _given(ctx, name):
                raise click.UsageError(f"{option} applies to GTFS timetables only and no --gtfs was given; add "
                                       f"--gtfs FILE, or drop {option}", ctx=ctx)
        return
    if gtfs_date is None:
        raise click.UsageError("--gtfs needs --gtfs-date, the service day to route, e.g. --gtfs-date 2024-03-05", ctx=ctx)
    _service_day(gtfs_date, "--gtfs-date", ctx)
    start = _clock_minutes(departure, "--departure", ctx)
    if not 1 <= window_min <= MAX_WINDOW_MIN:
        raise _bad(ctx, "--window", f"{window_min} is not a departure window of 1 to {MAX_WINDOW_MIN} minutes")
    if start + window_min > MAX_CLOCK_HOURS * 60:
        raise click.UsageError(f"--departure {departure} with --window {window_min} runs past {MAX_CLOCK_HOURS}:00, the "
                               "end of a GTFS service day; start earlier or give a shorter window", ctx=ctx)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="lisgeo")
def cli() -> None:
    """lisgeo: layers, networks, accessibility scores and maps for Local Industrial Strategies.

    -q / -v / -vv (here or after any command) set how much is said on stderr: errors only, the
    default (warnings), info, debug.
    """


# ---------------------------------------------------------------- data
@cli.group()
def data() -> None:
    """The data catalog: list, verify and fetch the pinned upstream files."""


@data.command("list")
def data_list() -> None:
    """List every catalogued dataset with its publisher, licence and vintage."""
    from .catalog import list_datasets

    for ds in list_datasets():
        size = sum(f.bytes for f in ds.files) / 1e6
        click.echo(f"{ds.name:38s} {len(ds.files):3d} file(s) {size:7.2f} MB  {ds.licence:10s} {ds.vintage}  [{ds.publisher}]")


@data.command("verify")
@click.option("--quiet", "-q", is_flag=True, help="Print only problems and the summary.")
def data_verify(quiet: bool) -> None:
    """Check every file present (LISGEO_DATA_DIR, then the cache) against its pinned sha256."""
    from .catalog import data_dir, verify_files
    from .errors import DataNotFoundError, HashMismatchError

    results = verify_files(progress=_OUT.progress)
    counts = {"ok": 0, "missing": 0, "mismatch": 0}
    for r in results:
        counts[r.status] += 1
        if r.status != "ok" or not quiet:
            click.echo(f"{r.status:8s} {r.dataset:36s} {r.path}")
    click.echo(f"{counts['ok']} ok, {counts['missing']} missing, {counts['mismatch']} hash mismatch (data folder: {data_dir() or 'unset'})")
    if counts["mismatch"]:
        raise HashMismatchError(f"{counts['mismatch']} file(s) do not match their pinned sha256; delete them and run `lisgeo data fetch`")
    if counts["missing"]:
        raise DataNotFoundError(f"{counts['missing']} file(s) missing; run `lisgeo data fetch` or set LISGEO_DATA_DIR")


@data.command("fetch")
@click.option("--dataset", "datasets", multiple=True, help="Only these datasets (repeatable).")
def data_fetch(datasets: tuple[str, ...]) -> None:
    """Download every missing file into the cache, verifying hashes (with a progress bar)."""
    from .catalog import cache_dir, fetch_files, get_dataset

    for d in datasets:
        get_dataset(d)
    paths = fetch_files(datasets or None, progress=not _OUT.quiet)
    click.echo(f"{len(paths)} file(s) present and verified (cache: {cache_dir()})")


# ---------------------------------------------------------------- layers
@cli.group()
def layers() -> None:
    """Layers: list them, export one for a region."""


@layers.command("list")
def layers_list() -> None:
    """List every layer with its family and description."""
    from .layers import list_layers

    for spec in list_layers():
        click.echo(f"{spec.family:12s} {spec.name:24s} {spec.kind:7s} {spec.description}")


@layers.command("export")
@click.argument("name")
@click.option("--region", "-r", default="d2n2", show_default=True, help=REGION_HELP)
@click.option("--output", "-o", required=True, type=click.Path(path_type=Path),
              help="Output file: .gpkg, .geojson, .parquet or .csv; OUT.provenance.json is written beside it.")
def layers_export(name: str, region: str, output: Path) -> None:
    """Export layer NAME for a region; the format follows the file extension.

    Beside the file, OUT.provenance.json (e.g. stops.gpkg.provenance.json) records the lisgeo
    version, the command, the region and the datasets with their sha256; the two are written
    together or not at all.
    """
    from .io import atomic_set, check_output_file
    from .layers import load_layer
    from .provenance import add_provenance, build_provenance, gpkg_metadata

    check_output_file(output)  # before any slow work
    _start(f"lisgeo layers export {name} ({region}): reading the layer")
    df = load_layer(name, region=region)
    prov = build_provenance("layer", attrs=df.attrs, region=region, details={"layer": name, "rows": len(df)})
    with atomic_set(output.parent) as out:
        out.write_frame(df, output.name, layer=name, metadata=gpkg_metadata(prov))
        add_provenance(out, prov, name=f"{output.name}.provenance.json")
    click.echo(f"wrote {len(df)} rows of {name} ({region}) to {output}")


# ---------------------------------------------------------------- scores
@cli.command("score")
@click.option("--region", "-r", default="d2n2", show_default=True, help=REGION_HELP)
@click.option("--scenario", default="base", show_default=True, help="Scenario name in layers/scenarios, or a scenario .toml path.")
@click.option("--weights", default=None, type=click.Path(dir_okay=False, path_type=Path), help="TOML merged over layers/indices.toml (index weights, left_behind rule).")
@click.option("--output", "-o", required=True, type=click.Path(file_okay=False, path_type=Path), help="Output folder: scores.gpkg (layer lsoa), scores.csv, claims.csv.")
@click.option("--no-claims", is_flag=True, help="Skip recomputing the strategy's geography claims.")
@click.option("--gtfs", "gtfs", multiple=True, type=click.Path(exists=True, path_type=Path),
              help="GTFS timetable (zip or folder; repeatable): adds walk + bus + tram + rail (transit) columns.")
@click.option("--gtfs-date", default=None, help="Service day of the GTFS timetables, e.g. 2024-03-05 (needed with --gtfs).")
@click.option("--departure", default="08:00", show_default=True, help="First departure of the transit window (HH:MM).")
@click.option("--window", "window_min", default=60, show_default=True, type=int,
              help="Departure window in minutes, 1 to 240 (median over it).")
@click.option("--cif", default=None, type=click.Path(exists=True, path_type=Path),
              help="Rail timetable in ATOC CIF (the Rail Delivery Group's national feed, a .zip): its running times replace "
                   "the built-in 2020 sample's wherever it runs a link.")
@click.option("--sites", "sites_file", default=None, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              callback=_use_sites, help=SITES_HELP)
@click.option("--reference", default=None, metavar="REGION|PATH",
              help="Rank the indices and deciles against another scale: a region holding this one (england; scored under "
                   "the same scenario, cached) or the output of an earlier `lisgeo score` (its folder or scores.parquet/.gpkg/.csv).")
@click.option("--scheduler", default=None, envvar="LISGEO_SCHEDULER", metavar="ADDRESS",
              help="A dask.distributed scheduler (tcp://host:8786) to score a large region's blocks on "
                   "[env LISGEO_SCHEDULER]; default this machine's processes.")
@click.option("--workers", default=None, type=click.IntRange(1, 256),
              help="Local processes for a large region's blocks (default the machine's cores).")
def score_cmd(region: str, scenario: str, weights: Path | None, output: Path, no_claims: bool, gtfs: tuple[Path, ...],
              gtfs_date: str | None, departure: str, window_min: int, cif: Path | None, sites_file: Path | None,
              reference: str | None, scheduler: str | None, workers: int | None) -> None:
    """Score every LSOA 2021 of a region (times, accessibility, connectivity, indices).

    Without --gtfs the public transport of the scores is the strategic model's rail (the columns
    say rail); with GTFS timetables the transit columns (walk + bus + tram + rail) are added and the
    sustainable-modes index uses them. --gtfs needs --gtfs-date; --gtfs-date, --departure and
    --window apply to the timetables only (1 to 240 minutes from HH:MM).

    A region without sites (the authored ones are the D2N2 and Leicester and Leicestershire
    strategies'; --sites adds yours) scores without the site columns: docs/scores.md, "Sites".

    A region of more than 2,000 LSOAs (LISGEO_BLOCK_ZONES), up to `--region england`, is scored in
    blocks of districts with Dask, on this machine's processes or on --scheduler's cluster, with a
    progress bar; its scores are written as GeoParquet partitioned by region (scores.parquet/) and
    CSV: docs/national.md.
    """
    _check_gtfs_options(click.get_current_context(), gtfs, gtfs_date, departure, window_min)
    _start(f"lisgeo score {region} ({scenario}): reading layers and building the network")
    from .io import check_output_dir

    check_output_dir(output)  # an output folder that cannot be written fails here, before the work
    from .pipeline import recompute_claims, score_region, write_scores

    # the stages' lines come from the scoring log (shown on a terminal, or with -v)
    gdf = score_region(region=region, scenario=scenario, weights=weights, progress=_OUT.progress,
                       gtfs=list(gtfs) or None, gtfs_date=gtfs_date, departure=departure, window_min=window_min,
                       cif=cif, reference=reference, scheduler=scheduler, workers=workers)
    if gdf.attrs.get("index_scale", "own region") != "own region":
        left = ", ".join(gdf.attrs.get("not_in_reference", {}))
        click.echo(f"indices and deciles ranked against: {gdf.attrs['index_scale']}"
                   + (f" (left out of the indices, the reference has no values of them: {left})" if left else ""))
    click.echo(f"public transport: {gdf.attrs['public_transport']}")
    claims = None if no_claims else recompute_claims(region)
    paths = write_scores(gdf, output, claims=claims if claims is not None else False)
    if claims is not None:
        click.echo(claims[["claim", "strategy_figure", "computed_value", "unit"]].to_string(index=False))
    from .status import frame_status

    st = frame_status(gdf)
    click.echo(f"scenario {gdf.attrs['scenario']}: {st.text if st else 'status not recorded'}")
    click.echo(f"scored {len(gdf)} LSOAs of {region} ({gdf.attrs['scenario']}) in {gdf.attrs['timings']['total']:.1f} s; wrote {', '.join(map(str, paths.values()))}")


@cli.command("compare")
@click.option("--region", "-r", default="d2n2", show_default=True, help=REGION_HELP)
@click.option("--base", default="base", show_default=True, help="The reference scenario.")
@click.option("--scenario", required=True, help="The scenario to compare with the base.")
@click.option("--threshold", default=5.0, show_default=True, type=float,
              help="Minutes a journey must change by to make a winner or loser (above 0, up to 120).")
@click.option("--output", "-o", required=True, type=click.Path(file_okay=False, path_type=Path), help="Output folder: compare.gpkg/csv, winners_losers.csv, district_summary.csv.")
@click.option("--sites", "sites_file", default=None, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              callback=_use_sites, help=SITES_HELP)
def compare_cmd(region: str, base: str, scenario: str, threshold: float, output: Path, sites_file: Path | None) -> None:
    """Compare a scenario with a base: per-LSOA deltas, winners and losers, district summary."""
    _minutes(threshold, "--threshold", 0, MAX_THRESHOLD_MIN, lo_open=True)
    _start(f"lisgeo compare {region}: scoring {base} and {scenario}")
    from .io import check_output_dir

    check_output_dir(output)  # before the work
    from .pipeline import compare_scenarios, write_comparison

    cmp = compare_scenarios(region=region, base=base, scenario=scenario, threshold_min=threshold, progress=False)
    paths = write_comparison(cmp, output)
    click.echo(comparison_summary(cmp, region=region))
    click.echo(f"wrote {', '.join(map(str, paths.values()))}")


#: The largest ``lisgeo compare --threshold`` (minutes).
MAX_THRESHOLD_MIN = 120.0


def comparison_summary(cmp, *, region: str) -> str:
    """What ``lisgeo compare`` prints: the two schemes with their status, the outcomes, the
    destinations that made the winners and losers, and the model's error."""
    from .measures.compare import tally

    a = cmp.attrs
    scen = a.get("scenario_status_text") or f"{a.get('scenario')} (status not recorded)"
    base = a.get("base_status_text") or f"{a.get('base')} (status not recorded)"
    counts = cmp["outcome"].value_counts().to_dict()
    sure = int((cmp["n_faster_sure"] > 0).sum())
    unc = ", ".join(f"{m} ±{p:g}%" for m, p in a.get("uncertainty_pct", {}).items())
    lines = [f"{a.get('scenario')} vs {a.get('base')} ({region})",
             f"  scenario: {scen}", f"  base:     {base}",
             "  LSOAs: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))]
    for col, who in (("faster_to", ("winner", "mixed")), ("slower_to", ("loser", "mixed"))):
        if col in cmp.columns:
            t = tally(cmp.loc[cmp["outcome"].isin(who), col])
            if t:
                lines.append(f"  {'faster' if col == 'faster_to' else 'slower'} by {a.get('threshold_min', 5):g}+ min to "
                             f"(LSOAs): {t}")
    lines.append(f"  {sure} LSOAs faster by more than the threshold and the model's error ({unc}, lisgeo validate)")
    return "\n".join(lines)


@cli.command("validate")
@click.option("--output", "-o", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Output folder: validation.csv, summary.csv, scatter.png, hs2_gains.csv, hs2_gains_by_district.csv.")
@click.option("--class", "classes", multiple=True, help="Only these classes (repeatable): intercity_rail, local_rail, hs2, urban_car, rural_car, pt_door_to_door.")
@click.option("--no-gains", is_flag=True, help="Skip the HS2 gains check (it builds a network per scenario).")
@click.option("--connectivity/--no-connectivity", default=True, show_default=True,
              help="Also score the region and rank every measure against the IoD 2025 transport connectivity score.")
@click.option("--timetable/--no-timetable", default=True, show_default=True,
              help="Also check every station pair of a real rail timetable (GTFS, 5 March 2024 around Newport; "
                   "out of sample): timetable.csv, timetable_summary.csv.")
@click.option("--segments/--no-segments", default=True, show_default=True,
              help="Also refit the rail running-time model on four fifths of the rail timetable sample's station pairs "
                   "and report its error on the held-out fifth against a crow-fly baseline: segments_summary.csv.")
@click.option("--region", "-r", default="d2n2_llep", show_default=True,
              help=REGION_HELP + " The network is built from its zones (every pair of the set is answered: the roads "
                   "reach each point); the HS2 gains per district and the connectivity check cover its LSOAs.")
def validate_cmd(output: Path, classes: tuple[str, ...], no_gains: bool, connectivity: bool, timetable: bool,
                 segments: bool, region: str) -> None:
    """Check every modelled time against an independent published figure, with the error shown.

    The published figures are layers/validation/journey_times.csv and hs2_gains.csv, every row with
    its source; docs/validation.md explains the method and records the figures.
    """
    from .measures.validation import headline_summary
    from .pipeline.validate import (timetable_summary, validate_connectivity, validate_gains, validate_timetable,
                                    validate_times, write_validation)

    from .io import check_output_dir
    from .pipeline.validate import CLASSES
    from .regions import get_region

    unknown = [c for c in classes if c not in CLASSES]
    if unknown:
        raise _bad(None, "--class", f"unknown class(es) {', '.join(map(repr, unknown))}; give one of {', '.join(CLASSES)}")
    check_output_dir(output)  # before the work
    get_region(region)  # an unknown name fails here, before any network is built
    if timetable:  # the timetable is read last: a missing or corrupt file fails here, before any work
        from .catalog import resolve_dataset
        from .errors import DataNotFoundError, HashMismatchError

        try:
            resolve_dataset("gtfs_newport_rail")
        except (DataNotFoundError, HashMismatchError) as exc:
            raise type(exc)(f"{exc} (or skip the timetable check with --no-timetable)") from None
    reg = region
    _start(f"lisgeo validate {region}: building the networks the published journeys need")
    res = validate_times(classes=classes or None, region=reg, progress=_OUT.progress)
    summary = headline_summary(res)
    cols = ["class", "pairs", "median_abs_pct", "bias_pct", "share_over_25", "max_abs_pct", "worst_pair", "baseline_median_abs_pct"]
    click.echo("Out of sample (no constant of the model is fitted on these published times), % error against them:")
    click.echo("published times (quoted on the cited page, or derived from it): the headline")
    click.echo(summary.loc[summary["evidence"] == "published", cols].round(1).to_string(index=False))
    if (summary["evidence"] == "recalled").any():
        click.echo("recalled times (the compiler's knowledge, a sanity band; not in the headline)")
        click.echo(summary.loc[summary["evidence"] == "recalled", cols].round(1).to_string(index=False))
    extra = {}
    if not no_gains:
        sites, districts = validate_gains(region=reg, progress=_OUT.progress)
        extra["hs2_gains.csv"], extra["hs2_gains_by_district.csv"] = sites, districts
        click.echo(sites[["scenario", "origin", "destination", "gain_min", "published_low", "published_high", "within"]]
                   .round(1).to_string(index=False))
    if timetable:
        pairs = validate_timetable(region=reg)
        extra["timetable.csv"], extra["timetable_summary.csv"] = pairs, timetable_summary(pairs)
        click.echo(f"timetable check ({len(pairs)} station pairs of {Path(pairs.attrs['gtfs']).name}, {pairs.attrs['date']}):")
        click.echo(extra["timetable_summary.csv"][["band", "pairs", "typical_median_abs_pct", "typical_bias_pct",
                                                  "typical_share_over_25", "baseline_typical_median_abs_pct"]]
                   .round(1).to_string(index=False))
    if segments:
        from .pipeline.calibrate import calibrate_rail_segments

        fit = calibrate_rail_segments()
        extra["segments_summary.csv"] = seg = fit.summary()
        click.echo(f"rail running-time model on the held-out fifth of the timetable sample's station pairs "
                   f"({int(seg.iloc[-1]['segments']):,} segments; fitted on the other {fit.n_train:,}):")
        click.echo(seg.round(1).to_string(index=False))
    if connectivity:
        agree = validate_connectivity(region=reg, progress=False)  # (stage lines: the scoring log)
        extra["connectivity_agreement.csv"] = agree
        click.echo(agree.head(12).round(3).to_string(index=False))
    paths = write_validation(res, output, extra=extra)
    click.echo("wrote " + ", ".join(str(p) for p in paths.values()))


# ---------------------------------------------------------------- maps and report
INLINE_HELP = ("Self-contained pages (the default: Leaflet and its plugins embedded, so they work offline), "
               "or --cdn to link them from CDNs (smaller files that need the internet).")


LINKED_HELP = ("Frame the maps from DIR/maps/ instead of holding them in the report (a smaller report that "
               "works only beside that folder; the default is one file to send on its own).")


@cli.command("map")
@click.argument("spec", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--output", "-o", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="x.html: the web map (and x.png beside it unless --no-png); x.png: only the print map.")
@click.option("--region", "-r", default=None, help=REGION_HELP + " Default: the map file's region.")
@click.option("--scenario", default=None, help="Scenario for score layers. Default: the map file's scenario.")
@click.option("--inline/--cdn", "inline", default=True, show_default=True, help=INLINE_HELP)
@click.option("--no-png", is_flag=True, help="Skip the static PNG beside an .html output.")
def map_cmd(spec: Path, output: Path, region: str | None, scenario: str | None, inline: bool, no_png: bool) -> None:
    """Draw one map definition (maps/*.toml) as an HTML web map and a PNG, or only a PNG."""
    from .errors import OutputError
    from .mapping.draw import output_kind, write_map
    from .pipeline import make_map

    from .io import check_writable

    kind = output_kind(output)  # before any slow work
    check_writable(output)
    if kind == "png" and no_png:
        raise OutputError(f"--no-png with -o {output} would write nothing; drop --no-png or give an .html output")
    _start(f"lisgeo map {spec.stem}: scoring and drawing")
    built = write_map(make_map(spec, region=region, scenario=scenario), output, inline=inline, png=not no_png)
    if built.html is None:
        click.echo(f"wrote {built.png}")
    else:
        click.echo(f"wrote {built.html} ({built.html_bytes / 1e6:.2f} MB)" + (f" and {built.png}" if built.png else ""))


@cli.command("build")
@click.option("--region", "-r", default="d2n2", show_default=True, help=REGION_HELP)
@click.option("--output", "-o", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Output folder: DIR/report.html, DIR/maps/, DIR/scores/.")
@click.option("--maps", "maps_dir", default=None, type=click.Path(file_okay=False, path_type=Path), help="Folder of map definitions (default: maps/).")
@click.option("--scenario", default=None, help="Scenario for score layers (default: each map file's).")
@click.option("--inline/--cdn", "inline", default=True, show_default=True, help=INLINE_HELP)
@click.option("--scores/--no-scores", default=True, show_default=True, help="Also write the scores behind the maps (DIR/scores/).")
@click.option("--linked", is_flag=True, help=LINKED_HELP)
@click.option("--sites", "sites_file", default=None, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              callback=_use_sites, help=SITES_HELP)
def build_cmd(region: str, output: Path, maps_dir: Path | None, scenario: str | None, inline: bool, scores: bool,
              linked: bool, sites_file: Path | None) -> None:
    """Compute the scores the maps need, draw every map definition into DIR/maps/ and write the report.

    The report is DIR/report.html (every map, its district table, the headline claims, the sources):
    one file with its maps inside, to send on its own (--linked: maps framed from DIR/maps/).
    DIR/maps/provenance.json and DIR/provenance.json say what drew the maps and the report.
    The scores of the base scenario (or --scenario) and the recomputed strategy claims are written
    to DIR/scores/ (scores.gpkg, scores.csv, claims.csv), so every map can be traced to its numbers.
    """
    _start(f"lisgeo build {region}: reading layers, building the network and scoring, then every map and the report")
    from .io import check_output_dir

    check_output_dir(output)  # before the work
    from .pipeline.maps import build_region

    res = build_region(region=region, out_dir=output, maps_dir=maps_dir, scenario=scenario, inline=inline,
                       scores=scores, progress=not _OUT.quiet, linked=linked)
    for b in res.maps:
        click.echo(f"{b.name:24s} {b.html_bytes / 1e6:6.2f} MB  {b.html}")
    click.echo(f"{'report':24s} {res.report.stat().st_size / 1e6:6.2f} MB  {res.report}"
               + ("  (maps linked from maps/)" if linked else "  (one file, the maps inside)"))
    for path in (output / "maps" / "provenance.json", output / "provenance.json"):
        if path.is_file():
            click.echo(f"{'provenance.json':24s} {path.stat().st_size / 1e6:6.2f} MB  {path}")
    for name, path in res.scores.items():
        click.echo(f"{name:24s} {path.stat().st_size / 1e6:6.2f} MB  {path}")
    if res.claims_note:
        _warn(res.claims_note)


@cli.command("report")
@click.option("--region", "-r", default="d2n2", show_default=True, help=REGION_HELP)
@click.option("--output", "-o", required=True, type=click.Path(file_okay=False, path_type=Path), help="Output folder: DIR/report.html and DIR/maps/.")
@click.option("--maps", "maps_dir", default=None, type=click.Path(file_okay=False, path_type=Path), help="Folder of map definitions (default: maps/).")
@click.option("--inline/--cdn", "inline", default=True, show_default=True, help=INLINE_HELP)
@click.option("--linked", is_flag=True, help=LINKED_HELP)
def report_cmd(region: str, output: Path, maps_dir: Path | None, inline: bool, linked: bool) -> None:
    """Write one HTML report: every map, district tables, headline claims, sources and licences.

    DIR/report.html holds its maps: one file that works on its own, offline, and can be sent by
    email (--linked: the maps are framed from DIR/maps/ and the report needs that folder beside it).
    The maps are also written to DIR/maps/, with a PNG of each for print; provenance.json beside
    the report and in DIR/maps/ say what drew them.
    """
    from .io import check_output_dir
    from .pipeline import write_report

    check_output_dir(output)  # before the work
    _start(f"lisgeo report {region}: scoring and drawing every map")
    path = write_report(region=region, out_dir=output, maps_dir=maps_dir, inline=inline, progress=not _OUT.quiet,
                        linked=linked)
    click.echo(f"wrote {path} ({path.stat().st_size / 1e6:.2f} MB" + (", maps linked from maps/)" if linked else
                                                                       ", one file with its maps inside)"))


# ---------------------------------------------------------------- network
@cli.command("isochrones")
@click.argument("site")
@click.option("--region", "-r", default="d2n2", show_default=True, help=REGION_HELP)
@click.option("--scenario", default="base", show_default=True, help="Scenario name in layers/scenarios, or a scenario .toml path.")
@click.option("--mode", type=click.Choice(["car", "rail"]), default="car", show_default=True,
              help="car, or rail (the strategic model's trains with walk and park-and-ride access).")
@click.option("--bands", default="15,30,45,60", show_default=True, help="Comma-separated minutes (each above 0, up to 600).")
@click.option("--tif", "tif", default=None, type=click.Path(dir_okay=False, path_type=Path), help="Also write the travel-time surface GeoTIFF (1 km grid).")
@click.option("--output", "-o", required=True, type=click.Path(dir_okay=False, path_type=Path), help="Band polygons: .gpkg, .geojson, .parquet or .csv.")
def isochrones_cmd(site: str, region: str, scenario: str, mode: str, bands: str, tif: Path | None, output: Path) -> None:
    """Isochrones from SITE (a site_id such as hs2_toton) with the population inside each band."""
    from .errors import ParameterError
    from .io import check_output_file, check_writable, write_frame
    from .network import build_network, isochrones, travel_time_surface

    check_output_file(output)  # before the work
    if tif is not None:
        check_writable(tif)
    try:
        b = [float(x) for x in bands.split(",") if x.strip()]
    except ValueError:
        raise ParameterError(f"--bands must be comma-separated minutes such as 15,30,45,60, got {_elide(bands, 60)!r}") from None
    if not b:
        raise _bad(None, "--bands", "no minutes given; give comma-separated minutes such as 15,30,45,60")
    for x in b:
        _minutes(x, "--bands", 0, MAX_BAND_MIN, lo_open=True)
    if len(set(b)) < len(b):
        raise _bad(None, "--bands", f"{bands} repeats a band; give each number of minutes once")
    if tif is not None and tif.suffix.lower() not in (".tif", ".tiff"):
        raise _bad(None, "--tif", f"{_elide(tif, 80)} is written as a GeoTIFF: give it a .tif name")
    _start(f"lisgeo isochrones {site} ({region}, {mode}): building the network")
    G = build_network(region=region, scenario=scenario, sites=[site])
    iso = isochrones(G, site, mode=mode, bands=b)
    write_frame(iso, output, layer="isochrones")
    if tif is not None:
        travel_time_surface(G, site, mode=mode, path=tif)
    for _, r in iso.iterrows():
        click.echo(f"{r['minutes']:5.0f} min  {r['pop']:12,.0f} people  {r['area_km2']:8.0f} km2")
    click.echo(f"wrote {output}" + (f" and {tif}" if tif else ""))


#: The largest isochrone band (minutes).
MAX_BAND_MIN = 600.0


@cli.group()
def network() -> None:
    """The multimodal network: export it, list scenarios."""


@network.command("export")
@click.option("--region", "-r", default="d2n2", show_default=True, help=REGION_HELP)
@click.option("--scenario", default="base", show_default=True, help="Scenario name in layers/scenarios, or a scenario .toml path.")
@click.option("--output", "-o", required=True, type=click.Path(path_type=Path),
              help=".gpkg (layers nodes, edges) or .parquet/.csv/.geojson (OUT_nodes.*, OUT_edges.*); OUT.provenance.json beside.")
def network_export(region: str, scenario: str, output: Path) -> None:
    """Export the graph's nodes and edges (straight lines) with kind, mode and time_min.

    The files and OUT.provenance.json (lisgeo version, command, region, scenario and its status,
    assumptions, datasets with their sha256) are written as one set: all or nothing.
    """
    from .io import atomic_set, check_output_file
    from .network import build_network, graph_summary, load_scenario, network_to_gdfs
    from .provenance import NETWORK_LAYERS, add_provenance, build_provenance, gpkg_metadata, layer_datasets

    check_output_file(output)  # before any slow work
    sc = load_scenario(scenario)
    _start(f"lisgeo network export {region} ({scenario}): building the network")
    G = build_network(region=region, scenario=scenario)
    nodes, edges = network_to_gdfs(G)
    prov = build_provenance("network", attrs=G.graph, region=region, scenario=sc, datasets=layer_datasets(NETWORK_LAYERS),
                            details={"nodes": len(nodes), "edges": len(edges)})
    md = gpkg_metadata(prov)
    with atomic_set(output.parent) as out:  # every file of the export, or none
        if output.suffix.lower() == ".gpkg":
            out.write_layers(output.name, {"nodes": nodes, "edges": edges}, metadata=md)
        else:
            out.write_frame(nodes, f"{output.stem}_nodes{output.suffix}")
            out.write_frame(edges, f"{output.stem}_edges{output.suffix}")
        add_provenance(out, prov, name=f"{output.name}.provenance.json")
    paths = [p for n, p in out.paths.items() if not n.endswith(".provenance.json")]
    summary = graph_summary(G)
    for (n, row) in summary.iterrows():
        click.echo(f"{row['what']:5s} {n:12s} {int(row['count']):7d}")
    click.echo(f"wrote {', '.join(map(str, paths))} (scenario {G.graph['scenario']})")


@network.command("scenarios")
def network_scenarios() -> None:
    """List the scenario files: one line each with its status (state and date, from its [status]
    table), its HS2 scheme, its edits and what it is in plain words, then its description."""
    from .network import list_scenarios, load_scenario
    from .status import scheme_status

    for name in list_scenarios():
        sc = load_scenario(name)
        st = scheme_status(sc)
        state = st.state if st else "unknown"
        date = (st.date if st else "") or "-"
        text = f"{st.text}. " if st else ""
        click.echo(f"{name:18s} {state:18s} {date:10s} hs2={sc.hs2_scheme or 'none':10s} edits={len(sc.edits)}  "
                   f"{text}{sc.description}")


# ---------------------------------------------------------------- regions
@cli.group()
def regions() -> None:
    """Regions: every English district, county, combined authority, LSIP area, former LEP and ITL1 region."""


@regions.command("list")
@click.option("--kind", type=click.Choice(["district", "county", "ca", "lsip", "lep", "itl1"]), default=None,
              help="Only this kind (ca: combined authorities, May 2025; lsip: Local Skills Improvement Plan areas; "
                   "lep: former LEPs, May 2021; itl1: the nine regions). Default: every kind but districts.")
def regions_list(kind: str | None) -> None:
    """List the regions --region takes by name: name, kind, code, number of districts."""
    from .regions import KINDS, REGIONS, list_areas

    if kind is None:
        for reg in REGIONS.values():
            click.echo(f"{reg.name:48s} {'built-in':20s} {'':10s} {len(reg):4d}")
    areas = [a for a in list_areas(kind) if kind is not None or a.kind != "district"]
    for a in sorted(areas, key=lambda a: (list(KINDS).index(a.kind), a.name)):
        click.echo(f"{a.name[:48]:48s} {KINDS[a.kind]:20s} {a.code:10s} {len(a.lad_codes):4d}")
    if kind is None:
        click.echo("(and the 296 districts: `lisgeo regions list --kind district`; `england` is all of them)")


@regions.command("show")
@click.argument("name")
def regions_show(name: str) -> None:
    """List the districts of region NAME (any name or code --region takes)."""
    from .regions import KINDS, district_table, get_region

    reg = get_region(name)
    what = KINDS.get(reg.kind, {"builtin": "built-in region", "mix": "mix", "custom": "districts"}.get(reg.kind, reg.kind))
    click.echo(f"{reg.label}: {what}{' ' + reg.code if reg.code else ''}, {len(reg)} district{'s' if len(reg) != 1 else ''}")
    cols = [("code", "code", 9), ("name", "district", 30), ("county", "upper tier", 24), ("region", "region (ITL1)", 24),
            ("combined_authority", "combined authority", 40), ("lsip", "LSIP area", 34), ("lep", "former LEP", 0)]
    click.echo("  ".join(f"{h:{w}s}" if w else h for _, h, w in cols))
    for r in district_table(reg):
        click.echo("  ".join(f"{r[k][:w]:{w}s}" if w else r[k] for k, _, w in cols))


# ---------------------------------------------------------------- init
@cli.command("init")
@click.argument("folder", type=click.Path(path_type=Path))
@click.option("--force", is_flag=True, help="Write into a non-empty folder, overwriting files of the same names.")
def init_cmd(folder: Path, force: bool) -> None:
    """Copy the default layers/ and maps/ into FOLDER to edit, and print the variables that select them."""
    from .config import env_lines, init_folder

    env = init_folder(folder, force=force)
    click.echo(f"copied the default layers/ and maps/ into {folder.expanduser().absolute()}; to use them, set:")
    for line in env_lines(env):
        click.echo(f"  {line}")


# every command and group takes -q/-v (as well as the top level: `lisgeo score -v` and `lisgeo -v score`),
# and every -o is checked for a path the file system can take before any work
def _check_region(ctx: click.Context, param: click.Parameter, value):
    """``--region``: an unknown name fails here, in one line with the nearest names, before any work."""
    if value is not None:
        from .regions import get_region

        get_region(value)
    return value


def _common_options(group: click.Group) -> None:
    for cmd in group.commands.values():
        # `lisgeo data verify -q` already means "only problems": its own -q is quiet on stderr too
        own = [p for p in cmd.params if "-q" in getattr(p, "opts", ())]
        _verbosity_options(cmd, quiet=not own)
        for param in own:
            param.callback = lambda ctx, prm, value: (_verbosity(ctx, prm, value), value)[1]
        for param in cmd.params:
            if param.name == "region" and isinstance(param, click.Option) and param.callback is None:
                param.callback = _check_region
            if param.name == "output" and isinstance(param, click.Option):
                before = param.callback

                def check(ctx, prm, value, _before=before):
                    value = _check_output_path(ctx, prm, value)
                    return _before(ctx, prm, value) if _before is not None else value

                param.callback = check
        if isinstance(cmd, click.Group):
            _common_options(cmd)


_verbosity_options(cli)
_common_options(cli)


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the CLI, turning LisgeoError into a one-line message and exit status 2.

    The ``lisgeo`` logger writes to stderr for the run at the level -q/-v set (warnings by
    default), and is put back as it was afterwards (the CLI may run inside a Python process)."""
    global _OUT
    _OUT = _Output()
    log = logging.getLogger("lisgeo")
    level_before = log.level
    handler = _StderrHandler()
    handler.setFormatter(logging.Formatter("%(message)s"))
    handler.addFilter(_show_record)
    log.addHandler(handler)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("default")
            _apply_output()
            cli.main(args=argv, prog_name="lisgeo", standalone_mode=False)
    except LisgeoError as exc:
        click.echo(f"lisgeo: error: {_shorten(str(exc))}", err=True)
        return 2
    except click.exceptions.Abort:
        click.echo("lisgeo: aborted", err=True)
        return 130
    except click.exceptions.UsageError as exc:  # a bad option or argument: one line, with the command's --help
        ctx = exc.ctx
        where = f" (see `{ctx.command_path} --help`)" if ctx is not None else ""
        click.echo(f"lisgeo: error: {_shorten(exc.format_message())}{where}", err=True)
        return exc.exit_code
    except click.ClickException as exc:
        click.echo(f"lisgeo: error: {_shorten(exc.format_message())}", err=True)
        return exc.exit_code
    except OSError as exc:  # an output written outside lisgeo.io: one line with the fix all the same
        from .io import os_error_line

        click.echo(f"lisgeo: error: {os_error_line(exc)}", err=True)
        return 1
    finally:
        log.removeHandler(handler)
        log.setLevel(level_before)
    return 0


def run() -> None:
    """The ``lisgeo`` command: :func:`main`, then a quick exit. The exit handlers run and the output
    is flushed, but the interpreter does not free the run's objects one by one, which takes about
    0.8 s after a run that held a region's network. The cyclic garbage collector is off for the run
    (:func:`lisgeo._gc.collect_never`), and a network built for the disk cache is written after the
    command has returned (:func:`lisgeo.cache.write_deferred`). (Call :func:`main` to run the CLI
    inside a Python process.)"""
    import atexit

    from . import cache
    from ._gc import collect_never

    collect_never()
    cache.defer_writes()
    code = main()
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    cache.write_deferred()
    os._exit(code)


if __name__ == "__main__":  # pragma: no cover
    run()
