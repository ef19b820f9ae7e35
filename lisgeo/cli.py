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
    from .errors import DataNotFoundError, HashMismatchError

    results = verify_files(progress=sys.stderr.isatty())
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


# ---------------------------------------------------------------- scores
@cli.command("score")
@click.option("--region", "-r", default="d2n2", show_default=True, help=REGION_HELP)
@click.option("--scenario", default="base", show_default=True, help="Scenario name in layers/scenarios, or a scenario .toml path.")
@click.option("--weights", default=None, type=click.Path(dir_okay=False, path_type=Path), help="TOML merged over layers/indices.toml (index weights, left_behind rule).")
@click.option("--output", "-o", required=True, type=click.Path(file_okay=False, path_type=Path), help="Output folder: scores.gpkg (layer lsoa), scores.csv, claims.csv.")
@click.option("--no-claims", is_flag=True, help="Skip recomputing the strategy's geography claims.")
def score_cmd(region: str, scenario: str, weights: Path | None, output: Path, no_claims: bool) -> None:
    """Score every LSOA 2021 of a region (times, accessibility, connectivity, indices)."""
    from .pipeline import recompute_claims, score_region, write_scores

    gdf = score_region(region=region, scenario=scenario, weights=weights, progress=sys.stderr.isatty())
    claims = None if no_claims else recompute_claims(region)
    paths = write_scores(gdf, output, claims=claims if claims is not None else False)
    if claims is not None:
        click.echo(claims[["claim", "strategy_figure", "computed_value", "unit"]].to_string(index=False))
    click.echo(f"scored {len(gdf)} LSOAs of {region} ({gdf.attrs['scenario']}) in {gdf.attrs['timings']['total']:.1f} s; wrote {', '.join(map(str, paths.values()))}")


@cli.command("compare")
@click.option("--region", "-r", default="d2n2", show_default=True, help=REGION_HELP)
@click.option("--base", default="base", show_default=True, help="The reference scenario.")
@click.option("--scenario", required=True, help="The scenario to compare with the base.")
@click.option("--threshold", default=5.0, show_default=True, type=float, help="Minutes a journey must change by to make a winner or loser.")
@click.option("--output", "-o", required=True, type=click.Path(file_okay=False, path_type=Path), help="Output folder: compare.gpkg/csv, winners_losers.csv, district_summary.csv.")
def compare_cmd(region: str, base: str, scenario: str, threshold: float, output: Path) -> None:
    """Compare a scenario with a base: per-LSOA deltas, winners and losers, district summary."""
    from .pipeline import compare_scenarios, write_comparison

    cmp = compare_scenarios(region=region, base=base, scenario=scenario, threshold_min=threshold, progress=sys.stderr.isatty())
    paths = write_comparison(cmp, output)
    counts = cmp["outcome"].value_counts().to_dict()
    click.echo(f"{scenario} vs {base} ({region}): " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) + f"; wrote {', '.join(map(str, paths.values()))}")


# ---------------------------------------------------------------- maps and report
@cli.command("map")
@click.argument("spec", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--output", "-o", required=True, type=click.Path(dir_okay=False, path_type=Path), help="Output .html file (a .png is written beside it).")
@click.option("--region", "-r", default=None, help=REGION_HELP + " Default: the map file's region.")
@click.option("--scenario", default=None, help="Scenario for score layers. Default: the map file's scenario.")
@click.option("--inline", is_flag=True, help="Embed Leaflet's JavaScript and CSS so the map works with no network.")
@click.option("--no-png", is_flag=True, help="Skip the static PNG.")
def map_cmd(spec: Path, output: Path, region: str | None, scenario: str | None, inline: bool, no_png: bool) -> None:
    """Draw one map definition (maps/*.toml) as an HTML web map and a PNG."""
    from .mapping import write_map
    from .pipeline import make_map

    built = write_map(make_map(spec, region=region, scenario=scenario), output, inline=inline, png=not no_png)
    click.echo(f"wrote {built.html} ({built.html_bytes / 1e6:.2f} MB)" + (f" and {built.png}" if built.png else ""))


@cli.command("build")
@click.option("--region", "-r", default="d2n2", show_default=True, help=REGION_HELP)
@click.option("--output", "-o", required=True, type=click.Path(file_okay=False, path_type=Path), help="Output folder; maps go to DIR/maps/.")
@click.option("--maps", "maps_dir", default=None, type=click.Path(file_okay=False, path_type=Path), help="Folder of map definitions (default: maps/).")
@click.option("--scenario", default=None, help="Scenario for score layers (default: each map file's).")
@click.option("--inline", is_flag=True, help="Embed Leaflet's JavaScript and CSS in every map.")
@click.option("--scores/--no-scores", default=True, show_default=True, help="Also write the scores behind the maps (DIR/scores/).")
def build_cmd(region: str, output: Path, maps_dir: Path | None, scenario: str | None, inline: bool, scores: bool) -> None:
    """Compute the scores the maps need and draw every map definition into DIR/maps/.

    The scores of the base scenario (or --scenario) and the recomputed strategy claims are written
    to DIR/scores/ (scores.gpkg, scores.csv, claims.csv), so every map can be traced to its numbers.
    """
    from .pipeline import MapData, make_maps, write_scores

    data = MapData(region=region)
    for b in make_maps(region=region, out_dir=output, maps_dir=maps_dir, scenario=scenario, inline=inline, progress=True, data=data):
        click.echo(f"{b.name:24s} {b.html_bytes / 1e6:6.2f} MB  {b.html}")
    if scores:
        for name, path in write_scores(data.scores(scenario or "base"), output / "scores").items():
            click.echo(f"{name:24s} {path.stat().st_size / 1e6:6.2f} MB  {path}")


@cli.command("report")
@click.option("--region", "-r", default="d2n2", show_default=True, help=REGION_HELP)
@click.option("--output", "-o", required=True, type=click.Path(file_okay=False, path_type=Path), help="Output folder: DIR/report.html and DIR/maps/.")
@click.option("--maps", "maps_dir", default=None, type=click.Path(file_okay=False, path_type=Path), help="Folder of map definitions (default: maps/).")
@click.option("--inline", is_flag=True, help="Embed Leaflet's JavaScript and CSS in every map.")
def report_cmd(region: str, output: Path, maps_dir: Path | None, inline: bool) -> None:
    """Write one HTML report: every map, district tables, headline claims, sources and licences."""
    from .pipeline import write_report

    path = write_report(region=region, out_dir=output, maps_dir=maps_dir, inline=inline, progress=True)
    click.echo(f"wrote {path}")


# ---------------------------------------------------------------- network
@cli.command("isochrones")
@click.argument("site")
@click.option("--region", "-r", default="d2n2", show_default=True, help=REGION_HELP)
@click.option("--scenario", default="base", show_default=True, help="Scenario name in layers/scenarios, or a scenario .toml path.")
@click.option("--mode", type=click.Choice(["car", "rail"]), default="car", show_default=True,
              help="car, or rail (the strategic model's trains with walk and park-and-ride access).")
@click.option("--bands", default="15,30,45,60", show_default=True, help="Comma-separated minutes.")
@click.option("--tif", "tif", default=None, type=click.Path(dir_okay=False, path_type=Path), help="Also write the travel-time surface GeoTIFF (1 km grid).")
@click.option("--output", "-o", required=True, type=click.Path(dir_okay=False, path_type=Path), help="Band polygons: .gpkg, .geojson, .parquet or .csv.")
def isochrones_cmd(site: str, region: str, scenario: str, mode: str, bands: str, tif: Path | None, output: Path) -> None:
    """Isochrones from SITE (a site_id such as hs2_toton) with the population inside each band."""
    from .errors import ParameterError
    from .io import write_frame
    from .network import build_network, isochrones, travel_time_surface

    try:
        b = [float(x) for x in bands.split(",") if x.strip()]
    except ValueError:
        raise ParameterError(f"--bands must be comma-separated minutes such as 15,30,45,60, got {bands!r}") from None
    G = build_network(region=region, scenario=scenario, sites=[site])
    iso = isochrones(G, site, mode=mode, bands=b)
    write_frame(iso, output, layer="isochrones")
    if tif is not None:
        travel_time_surface(G, site, mode=mode, path=tif)
    for _, r in iso.iterrows():
        click.echo(f"{r['minutes']:5.0f} min  {r['pop']:12,.0f} people  {r['area_km2']:8.0f} km2")
    click.echo(f"wrote {output}" + (f" and {tif}" if tif else ""))


@cli.group()
def network() -> None:
    """The multimodal network: export it, list scenarios."""


@network.command("export")
@click.option("--region", "-r", default="d2n2", show_default=True, help=REGION_HELP)
@click.option("--scenario", default="base", show_default=True, help="Scenario name in layers/scenarios, or a scenario .toml path.")
@click.option("--output", "-o", required=True, type=click.Path(dir_okay=False, path_type=Path), help=".gpkg (layers nodes, edges) or .parquet/.csv/.geojson (OUT_nodes.*, OUT_edges.*).")
def network_export(region: str, scenario: str, output: Path) -> None:
    """Export the graph's nodes and edges (straight lines) with kind, mode and time_min."""
    from .io import write_frame
    from .network import build_network, graph_summary, network_to_gdfs

    G = build_network(region=region, scenario=scenario)
    nodes, edges = network_to_gdfs(G)
    if output.suffix.lower() == ".gpkg":
        from .io import atomic_path

        with atomic_path(output) as tmp:  # both layers or nothing
            nodes.to_file(tmp, driver="GPKG", layer="nodes")
            edges.to_file(tmp, driver="GPKG", layer="edges")
        paths = [output]
    else:
        paths = [write_frame(nodes, output.with_name(f"{output.stem}_nodes{output.suffix}")),
                 write_frame(edges, output.with_name(f"{output.stem}_edges{output.suffix}"))]
    summary = graph_summary(G)
    for (n, row) in summary.iterrows():
        click.echo(f"{row['what']:5s} {n:12s} {int(row['count']):7d}")
    click.echo(f"wrote {', '.join(map(str, paths))} (scenario {G.graph['scenario']})")


@network.command("scenarios")
def network_scenarios() -> None:
    """List the scenario files with their HS2 scheme and description."""
    from .network import list_scenarios, load_scenario

    for name in list_scenarios():
        sc = load_scenario(name)
        click.echo(f"{name:18s} hs2={sc.hs2_scheme or 'none':7s} edits={len(sc.edits)}  {sc.description}")


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
