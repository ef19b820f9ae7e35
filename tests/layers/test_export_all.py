"""Every registered layer loads for both LEPs and exports to every format its kind allows."""

from __future__ import annotations

import warnings

import geopandas as gpd
import pandas as pd
import pytest

from lisgeo.io import write_frame
from lisgeo.layers import list_layers, load_layer

pytestmark = pytest.mark.usefixtures("real_data")

LAYER_NAMES = [s.name for s in list_layers()]
KIND = {s.name: s.kind for s in list_layers()}


@pytest.mark.parametrize("region", ["d2n2", "llep"])
@pytest.mark.parametrize("name", LAYER_NAMES)
def test_layer_loads_and_exports(name, region, tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        df = load_layer(name, region=region)
    if (name, region) == ("national_parks", "llep"):
        assert len(df) == 0  # no National Park meets Leicester and Leicestershire
    else:
        assert len(df) > 0, f"{name} is empty for {region}"
    assert df.attrs.get("attribution"), f"{name} carries no attribution"
    if KIND[name] == "vector":
        assert isinstance(df, gpd.GeoDataFrame) and df.crs.to_epsg() == 27700
        exts = [".gpkg", ".geojson", ".parquet", ".csv"]
    else:
        exts = [".csv", ".parquet"]
    for ext in exts:
        out = write_frame(df, tmp_path / f"{name}{ext}", layer=name)
        back = pd.read_csv(out) if ext == ".csv" else pd.read_parquet(out) if ext == ".parquet" else gpd.read_file(out)
        assert len(back) == len(df), f"{name}{ext} lost rows"


def test_registry_covers_every_family():
    families = {s.family for s in list_layers()}
    assert families == {"boundaries", "people", "deprivation", "jobs", "transport", "digital", "social", "sites"}
