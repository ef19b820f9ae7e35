"""The layer registry: every named layer, its loader, family and sources.

Each loader is a function ``f(*, region="d2n2", **options) -> GeoDataFrame | DataFrame``
registered with :func:`register_layer`. ``load_layer(name, region=...)`` is the one entry
that the CLI and the rest of lisgeo use; loaders finish with :func:`finish_layer`, which
attaches the catalog's attribution to ``attrs``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterable

import pandas as pd

from ..catalog import attribution_for
from ..errors import UnknownNameError

__all__ = ["LayerSpec", "LAYERS", "register_layer", "load_layer", "list_layers", "finish_layer"]


@dataclass(frozen=True)
class LayerSpec:
    name: str
    func: Callable[..., pd.DataFrame]
    family: str
    description: str
    kind: str = "vector"  # "vector" or "table"
    datasets: tuple[str, ...] = field(default_factory=tuple)


LAYERS: dict[str, LayerSpec] = {}


def register_layer(name: str, *, family: str, description: str, kind: str = "vector", datasets: Iterable[str] = ()):
    """Decorator: register a layer loader under ``name``."""

    def deco(func):
        LAYERS[name] = LayerSpec(name, func, family, description, kind, tuple(datasets))
        return func

    return deco


def _ensure_loaded() -> None:
    # importing the families registers their layers
    from . import boundaries, deprivation, digital, jobs, people, rail, roads, sites, social, stops  # noqa: F401


def list_layers() -> list[LayerSpec]:
    _ensure_loaded()
    return sorted(LAYERS.values(), key=lambda s: (s.family, s.name))


def load_layer(name: str, *, region="d2n2", cache: bool = True, **options) -> pd.DataFrame:
    """Load the layer called ``name`` for ``region`` (a name or district codes).

    cache: the layer is kept on disk (:mod:`lisgeo.cache`, kind ``layers``) when its options are
        plain values, keyed on the layer, the region's districts, the options, the authored files,
        the pinned sha256 of the layer's datasets and lisgeo's code; a layer that does not
        round-trip exactly is not kept. ``cache=False`` or ``LISGEO_NO_CACHE=1`` reads afresh.
    """
    _ensure_loaded()
    try:
        spec = LAYERS[name]
    except KeyError:
        raise UnknownNameError("layer", name, sorted(LAYERS), "Run `lisgeo layers list` to see them.") from None
    key = _layer_key(spec, region, options) if cache else None
    if key is not None:
        from .. import cache as disk

        hit = disk.load_frame("layers", key)
        if hit is not None:
            return hit
    if cache:
        df = spec.func(region=region, **options)
    else:
        from .. import cache as disk

        with disk.turned_off():  # a fresh read all the way down (no shared geometry from the disk either)
            df = spec.func(region=region, **options)
    if key is not None and isinstance(df, pd.DataFrame):
        disk.store_frame("layers", key, df)
    return df


def _plain(v) -> bool:
    if v is None or isinstance(v, (bool, int, float, str)):
        return True
    if isinstance(v, (list, tuple)):
        return all(_plain(x) for x in v)
    return False


def _layer_key(spec: LayerSpec, region, options: dict) -> str | None:
    """The disk-cache key of a layer read, or None when it cannot be keyed safely (options or a
    region that are not plain values, e.g. frames) or the cache is off."""
    from .. import cache as disk
    from ..regions import Region, get_region

    if not disk.enabled() or not spec.datasets or not _plain(list(options.values())):
        return None
    if region is not None and not isinstance(region, Region) and not _plain(region):
        return None
    reg = None if region is None else get_region(region)
    return disk.make_key({"kind": "layer", "layer": spec.name, "region": None if reg is None else [reg.name, sorted(reg.lad_codes)],
                          "options": dict(options), "authored": disk.authored_digests(),
                          "datasets": disk.dataset_digests(spec.datasets)})


def finish_layer(df: pd.DataFrame, *, name: str, datasets: Iterable[str] = (), extra_attribution: str = "") -> pd.DataFrame:
    """Attach provenance to a finished layer: ``attrs['layer']``, ``['sources']``, ``['attribution']``."""
    datasets = tuple(datasets)
    text = attribution_for(datasets) if datasets else ""
    if extra_attribution:
        text = f"{text} | {extra_attribution}" if text else extra_attribution
    df.attrs["layer"] = name
    df.attrs["sources"] = list(datasets)
    df.attrs["attribution"] = text
    return df
