"""The ``lisgeo`` command. It only wires stages together; it holds no analysis.

Errors in the user's input (any :class:`~lisgeo.errors.LisgeoError`) print one line,
``lisgeo: error: …``, and exit with status 2; never a traceback.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import click

from .errors import LisgeoError

REGION_HELP = "Region: d2n2, llep, d2n2_llep, or comma-separated district codes."


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="lisgeo")
def cli() -> None:
    """lisgeo: layers, networks, accessibility scores and maps for Local Industrial Strategies."""


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

    results = verify_files(progress=sys.stderr.isatty())
    counts = {"ok": 0, "missing": 0, "mismatch": 0}
    for r in results:
        counts[r.status] += 1
        if r.status != "ok" or not quiet:
            click.echo(f"{r.status:8s} {r.dataset:36s} {r.path}")
    click.echo(f"{counts['ok']} ok, {counts['missing']} missing, {counts['mismatch']} hash mismatch (data folder: {data_dir() or 'unset'})")
    if counts["mismatch"]:
        raise LisgeoError(f"{counts['mismatch']} file(s) do not match their pinned sha256; delete them and run `lisgeo data fetch`")
    if counts["missing"]:
        raise LisgeoError(f"{counts['missing']} file(s) missing; run `lisgeo data fetch` or set LISGEO_DATA_DIR")


@data.command("fetch")
@click.option("--dataset", "datasets", multiple=True, help="Only these datasets (repeatable).")
def data_fetch(datasets: tuple[str, ...]) -> None:
    """Download every missing file into the cache, verifying hashes (with a progress bar)."""
    from .catalog import cache_dir, fetch_files, get_dataset

    for d in datasets:
        get_dataset(d)
    paths = fetch_files(datasets or None, progress=True)
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
@click.option("--output", "-o", required=True, type=click.Path(dir_okay=False, path_type=Path), help="Output file: .gpkg, .geojson, .parquet or .csv.")
def layers_export(name: str, region: str, output: Path) -> None:
    """Export layer NAME for a region; the format follows the file extension."""
    from .io import write_frame
    from .layers import load_layer

    df = load_layer(name, region=region)
    write_frame(df, output, layer=name)
    click.echo(f"wrote {len(df)} rows of {name} ({region}) to {output}")


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the CLI, turning LisgeoError into a one-line message and exit status 2."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("default")
            cli.main(args=argv, prog_name="lisgeo", standalone_mode=False)
    except LisgeoError as exc:
        click.echo(f"lisgeo: error: {exc}", err=True)
        return 2
    except click.exceptions.Abort:
        click.echo("lisgeo: aborted", err=True)
        return 130
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except OSError as exc:  # unwritable output folder, disk full…
        click.echo(f"lisgeo: error: {exc}", err=True)
        return 1
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
