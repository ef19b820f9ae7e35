"""Large regions in blocks, scheduled with Dask: any set of districts, up to all of England.

A region larger than :data:`BLOCK_ZONES` zones is scored **block by block**: its districts are cut
into blocks of about that many zones (:func:`plan_blocks`: districts of one ITL1 region, in the
order of a space-filling curve through their centres, so a block is compact), and each block is
scored as a region of its own — its own network (the block's zones, the roads, job destinations and
sites within ``reach.blocks_km``, 90 km, of it: wider than a region's ``reach.network_km``, 30 km,
so that a 60-minute drive's jobs are seen whole wherever the block's edge lies), its own travel-time
matrices and measures (:func:`score_block`) — so the memory a block needs is that of a region of its
size, whatever the size of the whole. The blocks are independent: they are scheduled with Dask
(:func:`run_blocks`), by default on the local machine's processes (``workers``, default the
machine's cores), or on an existing ``dask.distributed`` cluster given by its address
(``scheduler=`` / ``LISGEO_SCHEDULER``), which runs the same tasks. A block's measures are kept
in the disk cache, so a run that stops resumes where it stopped. The indices and deciles are then
made over the whole region at once (:func:`lisgeo.pipeline.score.finish_scores`).

What depends on the blocks' edges (measured in docs/national.md): jobs beyond a block are counted
at MSOA centroids (the job destinations; a block's own at its LSOAs), and e2SFCA's competing
residents are the block's own, so the job counts (``jobs_car_*``, ``jobs_rail_60``, cycling),
``acc_gravity_*`` and ``e2sfca_jobs_car`` of a zone near a block's edge can differ from those of a
run whose edge lies elsewhere; times to the fixed sites, rail times to the destination groups, the
nearest station and its trains, stops, IMD and digital columns do not.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Sequence

import numpy as np
import pandas as pd

from ..errors import ParameterError
from ..regions import Region, get_region

__all__ = ["BLOCK_ZONES", "ENV_SCHEDULER", "ENV_BLOCK_ZONES", "BlockJob", "plan_blocks", "score_block", "run_blocks",
           "block_zones", "region_zones", "score_in_blocks"]

log = logging.getLogger(__name__)

#: A region with more zones than this is scored in blocks of about this many zones (a region of the
#: size of D2N2 and Leicester and Leicestershire: 1,943 zones, about 1 GB of memory).
BLOCK_ZONES = 2000
#: The address of a ``dask.distributed`` scheduler to run the blocks on (``tcp://host:8786``).
ENV_SCHEDULER = "LISGEO_SCHEDULER"
#: Overrides :data:`BLOCK_ZONES` (e.g. smaller blocks on a machine with less memory).
ENV_BLOCK_ZONES = "LISGEO_BLOCK_ZONES"


def block_zones(value: int | None = None) -> int:
    """The block size in zones: ``value``, else ``LISGEO_BLOCK_ZONES``, else :data:`BLOCK_ZONES`."""
    if value is None:
        env = os.environ.get(ENV_BLOCK_ZONES, "").strip()
        if env:
            try:
                value = int(env)
            except ValueError:
                raise ParameterError(f"{ENV_BLOCK_ZONES}={env!r} is not a whole number of zones; unset it or give e.g. 2000") from None
        else:
            value = BLOCK_ZONES
    if not 50 <= int(value) <= 50_000:
        raise ParameterError(f"a block of {value} zones is outside 50 to 50,000; give a block size in that range")
    return int(value)


def region_zones(region: Any) -> int:
    """The number of LSOAs 2021 of ``region`` (what decides whether it is scored in blocks)."""
    from ..layers.people import load_lsoa21_centroids

    return len(load_lsoa21_centroids(region=get_region(region)))


def _morton(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The Z-order (Morton) code of points scaled to 16 bits each: near points get near codes."""
    def scale(v: np.ndarray) -> np.ndarray:
        lo, hi = float(np.min(v)), float(np.max(v))
        return np.zeros(len(v), dtype=np.uint64) if hi <= lo else ((v - lo) / (hi - lo) * 65535).astype(np.uint64)

    def spread(v: np.ndarray) -> np.ndarray:
        v = v & np.uint64(0xFFFF)
        v = (v | (v << np.uint64(8))) & np.uint64(0x00FF00FF)
        v = (v | (v << np.uint64(4))) & np.uint64(0x0F0F0F0F)
        v = (v | (v << np.uint64(2))) & np.uint64(0x33333333)
        v = (v | (v << np.uint64(1))) & np.uint64(0x55555555)
        return v

    return spread(scale(np.asarray(x, float))) | (spread(scale(np.asarray(y, float))) << np.uint64(1))


def _district_table(reg: Region) -> pd.DataFrame:
    """The region's districts: zones (LSOAs), the centre of their zones (BNG) and their ITL1 region."""
    from ..layers.people import load_lsoa21_centroids

    zones = load_lsoa21_centroids(region=reg)
    lad = zones["LADCD"].astype(str).to_numpy()
    df = pd.DataFrame({"LADCD": lad, "x": zones.geometry.x.to_numpy(), "y": zones.geometry.y.to_numpy()})
    out = df.groupby("LADCD").agg(zones=("x", "size"), x=("x", "mean"), y=("y", "mean"))
    out["itl1"] = _itl1_of(out.index)
    return out


def _itl1_of(codes: Iterable[str]) -> pd.Series:
    """The ITL1 region (RGNCD) of each district, from the catalogued district lookup ('' where unknown)."""
    from ..catalog import resolve_dataset

    codes = pd.Index(list(codes))
    try:
        (path,) = resolve_dataset("lad_lookup")
        lk = pd.read_csv(path, usecols=["LADCD", "RGNCD"], dtype=str).drop_duplicates("LADCD").set_index("LADCD")["RGNCD"]
        return lk.reindex(codes).fillna("").set_axis(codes)
    except Exception:  # noqa: BLE001 - without the lookup the blocks follow the curve alone
        return pd.Series("", index=codes)


def plan_blocks(region: Any, *, max_zones: int | None = None) -> list[tuple[str, ...]]:
    """The region's districts cut into blocks of about ``max_zones`` zones (:func:`block_zones`):
    per ITL1 region, districts in the order of a Z-order curve through their centres, a new block
    begun when the next district would take the block over the size (a district is never split; one
    larger than the size is a block of its own). A region within the size is one block."""
    reg = get_region(region)
    size = block_zones(max_zones)
    t = _district_table(reg)
    if int(t["zones"].sum()) <= size:
        return [tuple(sorted(reg.lad_codes))]
    t = t.assign(code=_morton(t["x"].to_numpy(), t["y"].to_numpy())).sort_values(["itl1", "code"])
    blocks: list[list[str]] = []
    current: list[str] = []
    n = 0
    itl = None
    for lad, row in t.iterrows():
        if current and (n + int(row["zones"]) > size or row["itl1"] != itl):
            blocks.append(current)
            current, n = [], 0
        current.append(str(lad))
        n += int(row["zones"])
        itl = row["itl1"]
    if current:
        blocks.append(current)
    return [tuple(sorted(b)) for b in blocks]


@dataclass(frozen=True)
class BlockJob:
    """What scoring one block needs (plain values: it travels to a worker process or a cluster)."""

    districts: tuple[str, ...]
    scenario: Any = "base"
    assumptions: Any = None
    sites: tuple[str, ...] = ()
    cif: Any = None
    cache: bool = True


def score_block(job: BlockJob) -> pd.DataFrame:
    """The measures of one block's zones (every column of the scores before the indices), as
    :func:`lisgeo.pipeline.score.score_region` makes them for a region of those districts; kept in
    the disk cache (kind ``blocks``). ``attrs``: the block's districts, its network's record and
    the seconds it took."""
    import time

    from .. import cache as disk
    from .score import block_measures

    key = _block_key(job) if job.cache and disk.enabled() else None
    if key is not None:
        hit = disk.load_frame("blocks", key)
        if hit is not None:
            return hit
    t0 = time.perf_counter()
    out = block_measures(list(job.districts), scenario=job.scenario, assumptions=job.assumptions, sites=list(job.sites),
                         cif=job.cif)
    out.attrs["block_seconds"] = round(time.perf_counter() - t0, 3)
    out.attrs["block_districts"] = list(job.districts)
    if key is not None:
        disk.store_frame("blocks", key, out)
    return out


def _block_key(job: BlockJob) -> str:
    from .. import cache as disk
    from ..assumptions import load_assumptions
    from ..network import load_scenario
    from ..network.graph import assumption_overrides
    from ..provenance import SCORE_LAYERS, layer_datasets

    sc = load_scenario(job.scenario)
    over = assumption_overrides(job.assumptions)
    return disk.make_key({
        "kind": "block", "districts": list(job.districts),
        "scenario": {"name": sc.name, "sha256": disk.file_digest(sc.path) if sc.path else None},
        "assumptions": load_assumptions(**{**sc.assumptions, **over}).to_dict(), "sites": list(job.sites),
        "cif": job.cif if job.cif is None or job.cif is False else [str(job.cif), disk.file_digest(job.cif)],
        "authored": disk.authored_digests(), "datasets": disk.dataset_digests(layer_datasets(SCORE_LAYERS)),
    })


def run_blocks(jobs: Sequence[BlockJob], *, scheduler: str | None = None, workers: int | None = None,
               progress: bool = False, fn: Callable[[BlockJob], pd.DataFrame] = score_block) -> list[pd.DataFrame]:
    """Score every block with Dask and return their frames in the order of ``jobs``.

    ``scheduler``: the address of a ``dask.distributed`` scheduler (default ``LISGEO_SCHEDULER``):
    the blocks run on that cluster's workers (which need lisgeo and the data folder). Else the local
    machine: one block runs here in this process; several run on Dask's local process pool of
    ``workers`` processes (default the machine's cores, at most the number of blocks).
    ``progress``: a progress bar on stderr.
    """
    jobs = list(jobs)
    if not jobs:
        return []
    address = scheduler if scheduler is not None else (os.environ.get(ENV_SCHEDULER) or None)
    if address:
        return _run_distributed(jobs, address, progress=progress, fn=fn)
    n = workers if workers is not None else (os.cpu_count() or 1)
    n = max(1, min(int(n), len(jobs)))
    if n == 1:
        return [fn(j) for j in _progress(jobs, progress)]
    import dask

    tasks = [dask.delayed(fn, pure=True)(j, dask_key_name=f"block-{k}") for k, j in enumerate(jobs)]
    with _BlockBar(len(jobs), jobs, on=progress):
        # one block per dispatch (Dask's process pool sends 6 at a time by default: 20 blocks of England
        # on 2 workers would then finish in batches, one worker idle at the end, and the bar jump)
        return list(dask.compute(*tasks, scheduler="processes", num_workers=n, chunksize=1))


def _run_distributed(jobs: list[BlockJob], address: Any, *, progress: bool, fn: Callable) -> list[pd.DataFrame]:
    """The blocks on a ``dask.distributed`` cluster: ``address`` is a scheduler address or a
    ``distributed.Client`` already connected."""
    try:
        from distributed import Client, as_completed
    except ImportError:  # pragma: no cover - distributed is a dependency
        raise ParameterError("running on a Dask cluster needs the distributed package: pip install distributed") from None
    own = not isinstance(address, Client)
    try:
        client = Client(address, timeout="20s") if own else address
    except OSError as exc:
        raise ParameterError(f"cannot reach the Dask scheduler at {address!r} ({exc}); check the address (tcp://host:8786) "
                             f"or unset {ENV_SCHEDULER} to run on this machine") from None
    try:
        from dask.base import tokenize

        futures = client.map(fn, jobs, pure=True, key=[f"lisgeo-block-{k}-{tokenize(j)}" for k, j in enumerate(jobs)])
        if progress:
            with _tqdm(len(futures), jobs) as bar:
                for _ in as_completed(futures):
                    bar.update(1)
        return client.gather(futures)
    finally:
        if own:
            client.close()


def _tqdm(total: int, jobs: Sequence[BlockJob]):
    """A progress bar on stderr counting blocks and their zones."""
    import sys

    from tqdm import tqdm

    return tqdm(total=total, desc="blocks", unit="block", file=sys.stderr, dynamic_ncols=True,
                postfix={"districts": sum(len(j.districts) for j in jobs)})


def _progress(jobs: list, on: bool):
    if not on:
        yield from jobs
        return
    with _tqdm(len(jobs), jobs) as bar:
        for j in jobs:
            yield j
            bar.update(1)


class _BlockBar:
    """A tqdm bar advanced as Dask's local scheduler finishes each block (a scheduler callback:
    one line that moves, not a line per refresh); nothing when ``on`` is false."""

    def __init__(self, total: int, jobs: Sequence[BlockJob], *, on: bool):
        self.total, self.jobs, self.on = total, jobs, on
        self._cb = self._bar = None

    def __enter__(self) -> "_BlockBar":
        if not self.on:
            return self
        from dask.callbacks import Callback

        self._bar = _tqdm(self.total, self.jobs)
        bar = self._bar

        def posttask(key, result, dsk, state, worker_id):  # noqa: ANN001 - dask's callback signature
            if str(key).startswith("block-"):
                bar.update(1)

        self._cb = Callback(posttask=posttask)
        self._cb.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._cb is not None:
            self._cb.__exit__(*exc)
            self._bar.close()


def score_in_blocks(region: Any, *, scenario: Any = "base", assumptions: Any = None, weights: Any = None,
                    sites: Iterable[str] = (), reference: Any = None, cif: Any = None, scheduler: str | None = None,
                    workers: int | None = None, max_zones: int | None = None, progress: bool = False,
                    cache: bool = True):
    """Score ``region`` block by block (see the module docstring) and make the indices and deciles
    over all of it: the same frame :func:`lisgeo.pipeline.score.score_region` returns, with
    ``attrs["blocks"]`` (the blocks' districts and seconds)."""
    import time
    from types import SimpleNamespace

    from ..layers.boundaries import load_lsoa21
    from ..measures.columns import TIME_COLUMNS, column_name
    from ..measures.indices import load_index_config
    from ..network import load_scenario
    from .score import _by_code, _sites_cover, finish_scores

    t0 = time.perf_counter()
    reg = get_region(region)
    sc = load_scenario(scenario)
    cfg = load_index_config(weights)
    sites = tuple(str(s) for s in sites)
    plan = plan_blocks(reg, max_zones=max_zones)
    jobs = [BlockJob(b, scenario=sc.path or sc.name, assumptions=assumptions, sites=sites, cif=cif, cache=cache) for b in plan]
    log.info("scoring %s in %d block(s) of at most %d zones", reg.label, len(plan), block_zones(max_zones))
    frames = run_blocks(jobs, scheduler=scheduler, workers=workers, progress=progress)
    out = pd.concat(frames)
    if out.index.duplicated().any():
        raise ParameterError("two blocks scored the same LSOA; the region's districts overlap (merged districts given twice?)")
    polygons = _by_code(load_lsoa21(region=reg))
    out = out.loc[[c for c in polygons.index if c in out.index]]
    if not _sites_cover(reg):  # (a block within the sites' districts has the nearest Enterprise Zone; the region has not)
        out = out.drop(columns=[c for c in ("tt_car_nearest_ez", "tt_car_nearest_ez_id") if c in out.columns])
    gdf = finish_scores(out, SimpleNamespace(polygons=polygons, region=reg), config=cfg, reference=reference,
                        time_columns=[*TIME_COLUMNS, *(column_name("tt", mode="car", target=s) for s in sites)])
    first = frames[0].attrs
    gdf.attrs.update({
        "layer": "scores", "region": region if isinstance(region, str) else reg.label, "scenario": sc.name,
        "scenario_path": str(getattr(sc, "path", "")), "scenario_status": dict(sc.status) or None,
        "hs2_scheme": first.get("hs2_scheme", "none"), "assumptions": dict(first.get("assumptions", {})),
        "index_config": cfg, "index_scale": "own region" if reference is None else "reference",
        "public_transport": "the strategic rail model only (walk or park-and-ride to trains; no buses or trams): columns named rail",
        "rail_timetable": first.get("rail_timetable", ""),
        "rail_timetabled_share": float(first.get("rail_timetabled_share", 0.0)),
        "jobs_beyond_region": float(sum(f.attrs.get("jobs_beyond_region", 0.0) for f in frames)),
        "job_destinations_beyond_region": int(sum(f.attrs.get("job_destinations_beyond_region", 0) for f in frames)),
        "attribution": " | ".join(dict.fromkeys(a for f in frames for a in str(f.attrs.get("attribution", "")).split(" | ") if a)),
        "blocks": [{"districts": list(f.attrs.get("block_districts", [])), "zones": len(f),
                    "seconds": f.attrs.get("block_seconds")} for f in frames],
        "timings": {"total": round(time.perf_counter() - t0, 3)},
    })
    return gdf
