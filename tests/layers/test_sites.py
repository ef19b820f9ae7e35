"""Tests of the authored sites and HS2 facts (layers/*.csv) and their loaders."""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
import pyproj
import pytest

from lisgeo.errors import DataNotFoundError, EmptyResultError, LisgeoError, MissingColumnError, UnknownNameError
from lisgeo.layers import list_layers, load_layer
from lisgeo.layers.sites import (
    HS2_SCHEMES, SITE_CATEGORIES, list_hs2_schemes, load_hs2, load_hs2_links,
    load_hs2_stations, load_sites, read_sites_table,
)
from lisgeo.measures.columns import FIXED_SITES
from lisgeo.regions import DISTRICTS

ROOT = Path(__file__).resolve().parents[2]
SITES_CSV = ROOT / "layers" / "sites.csv"
# read the authored file directly for parametrisation (one test case per site)
_RAW = pd.read_csv(SITES_CSV, dtype=str, keep_default_na=False)
SITE_IDS = _RAW["site_id"].tolist()

TO_BNG = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True)


# --------------------------------------------------------------------------- the authored file


def test_authored_sites_table_is_valid():
    df = read_sites_table()
    assert len(df) == len(_RAW)
    assert df["site_id"].is_unique
    assert set(FIXED_SITES.values()) <= set(df["site_id"])  # the sites the scores' contract names
    assert df["source"].str.len().gt(0).all()
    assert set(df["category"]) <= set(SITE_CATEGORIES)
    assert df["LADCD"].isin(list(DISTRICTS)).all()
    # figures are numbers or NaN, never sentinels
    for col in ("investment_gbp", "jobs", "floorspace_sqm"):
        assert df[col].dtype == "float64"
        assert not (df[col] <= 0).any()


def test_fixed_sites_are_where_they_should_be():
    df = read_sites_table().set_index("site_id")
    assert df.loc["hs2_toton", "LADCD"] == "E07000172"  # Broxtowe
    assert df.loc["ratcliffe", "LADCD"] == "E07000176"  # Rushcliffe
    assert df.loc["ema", "LADCD"] == "E07000134"  # North West Leicestershire
    assert df.loc["hs2_chesterfield", "LADCD"] == "E07000034"  # Chesterfield
    assert {df.loc[s, "category"] for s in ("hs2_toton", "hs2_chesterfield")} == {"hs2"}
    assert df.loc["ema", "category"] == "airport_freeport"
    assert df.loc["ratcliffe", "category"] == "energy"


def test_enterprise_zone_sites_for_both_leps():
    d2n2 = load_sites(region="d2n2", categories="enterprise_zone")
    llep = load_sites(region="llep", categories=["enterprise_zone"])
    assert set(d2n2.index) == {"boots_campus", "medicity", "nottingham_science_park", "beeston_business_park",
                               "infinity_park", "markham_vale"}
    assert set(llep.index) == {"mira_technology_park", "lusep", "charnwood_campus", "space_park_leicester",
                               "leicester_waterside"}
    assert (d2n2["ez_name"].str.len() > 0).all() and (llep["ez_name"].str.len() > 0).all()


# --------------------------------------------------------------------------- real district boundaries


@pytest.fixture(scope="module")
def districts(real_data):
    from lisgeo.layers.boundaries import load_districts

    return load_districts(region="d2n2_llep")


@pytest.mark.parametrize("site_id", SITE_IDS)
def test_site_inside_its_stated_district(site_id, districts):
    import shapely

    row = _RAW.set_index("site_id").loc[site_id]
    x, y = TO_BNG.transform(float(row["lon"]), float(row["lat"]))
    pt = shapely.Point(x, y)
    stated = row["LADCD"]
    assert stated in districts.index, f"{site_id}: stated district {stated} is not a D2N2/LLEP district"
    poly = districts.loc[stated, "geometry"]
    if not poly.contains(pt):
        found = districts[districts.contains(pt)]
        where = f"{found.index[0]} {found['LADNM'].iloc[0]}" if len(found) else "no D2N2/LLEP district"
        pytest.fail(
            f"{site_id} (lon {row['lon']}, lat {row['lat']}) lies in {where}, {poly.distance(pt):.0f} m outside its "
            f"stated district {stated} {DISTRICTS[stated][0]}; fix LADCD or the coordinates in layers/sites.csv"
        )


# --------------------------------------------------------------------------- the sites layer


def test_load_sites_layer(real_data):
    all_ = read_sites_table()
    d2n2 = load_sites()
    llep = load_sites(region="llep")
    n_d2n2 = int(all_["LADCD"].map(lambda c: DISTRICTS[c][1]).eq("d2n2").sum())
    assert len(d2n2) == n_d2n2 and len(llep) == len(all_) - n_d2n2
    assert d2n2.crs.to_epsg() == 27700
    assert list(d2n2.index) == list(d2n2["site_id"])
    for col in ("site_id", "name", "category", "LADCD", "LADNM", "LEP", "theme", "investment_gbp", "jobs",
                "floorspace_sqm", "source", "geometry"):
        assert col in d2n2.columns
    assert "ema" not in d2n2.index and "ema" in llep.index
    assert llep.loc["ema", "LADNM"] == "North West Leicestershire"
    assert llep.loc["ema", "LEP"] == "Leicester and Leicestershire"
    assert d2n2.loc["ratcliffe", "LEP"] == "D2N2"
    x, y = TO_BNG.transform(-1.26300, 52.91200)
    g = d2n2.loc["hs2_toton", "geometry"]
    assert abs(g.x - x) < 0.01 and abs(g.y - y) < 0.01
    assert d2n2.attrs["layer"] == "sites" and "sites.csv" in d2n2.attrs["attribution"]
    # East Midlands Airport is about 3 km outside D2N2: a buffer brings it in
    assert "ema" in load_sites(buffer_km=5).index


def test_sites_figures_from_the_strategy():
    df = read_sites_table().set_index("site_id")
    assert df.loc["buxton_crescent", "investment_gbp"] == 68_000_000
    assert df.loc["buxton_crescent", "jobs"] == 140
    assert df.loc["medicity", "floorspace_sqm"] == pytest.approx(29_800 * 0.09290304, abs=0.1)
    assert pd.isna(df.loc["ratcliffe", "jobs"])


def test_sites_registered():
    names = {s.name for s in list_layers()}
    assert {"sites", "hs2_stations", "hs2_links"} <= names


def test_load_layer_sites_by_name(real_data):
    gdf = load_layer("sites", region="llep", categories=["university"])
    assert set(gdf.index) == {"uol_main", "dmu", "lboro_uni"}


def test_unknown_category_filter():
    with pytest.raises(UnknownNameError, match="enterprise_zone"):
        load_sites(categories=["enterprize_zone"])


def test_empty_selection_says_what_exists():
    with pytest.raises(EmptyResultError, match="hs2"):
        load_sites(region="llep", categories="hs2")


# --------------------------------------------------------------------------- user-supplied / bad files

HEADER = ["site_id", "name", "category", "LADCD", "lon", "lat", "source", "jobs"]
GOOD = [
    ["toton_test", "Toton test", "hs2", "E07000172", "-1.26300", "52.91200", "my notes p.3", "100"],
    ["derby_test", "Derby test", "city_centre", "E06000015", "-1.47650", "52.92250", "my notes p.4", ""],
]


def _write(tmp_path, rows, header=HEADER, name="sites.csv"):
    p = tmp_path / name
    with open(p, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    return p


def test_user_sites_file(tmp_path, real_data):
    p = _write(tmp_path, GOOD)
    gdf = load_sites(path=p)
    assert list(gdf.index) == ["toton_test", "derby_test"]
    assert gdf.loc["toton_test", "jobs"] == 100 and pd.isna(gdf.loc["derby_test", "jobs"])
    assert gdf.loc["derby_test", "LADNM"] == "Derby"
    assert pd.isna(gdf.loc["derby_test", "investment_gbp"])  # optional column absent -> NaN


def test_missing_column(tmp_path):
    p = _write(tmp_path, [r[:-2] + [r[-1]] for r in GOOD], header=[h for h in HEADER if h != "source"])
    with pytest.raises(MissingColumnError, match="source"):
        load_sites(path=p)


def test_duplicate_site_id(tmp_path):
    p = _write(tmp_path, GOOD + [GOOD[0]])
    with pytest.raises(LisgeoError, match=r"line 4 \(toton_test\).*repeats line 2"):
        load_sites(path=p)


def test_point_outside_gb(tmp_path):
    bad = [GOOD[0], ["paris", "Paris", "city_centre", "E06000015", "2.35000", "48.85000", "x", ""]]
    with pytest.raises(LisgeoError, match=r"line 3 \(paris\).*outside Great Britain"):
        load_sites(path=_write(tmp_path, bad))


def test_swapped_lon_lat(tmp_path):
    bad = [["toton_test", "Toton", "hs2", "E07000172", "52.91200", "-1.26300", "x", ""]]
    with pytest.raises(LisgeoError, match="swapped"):
        load_sites(path=_write(tmp_path, bad))


def test_eastings_given_as_lon(tmp_path):
    bad = [["toton_test", "Toton", "hs2", "E07000172", "449659", "335207", "x", ""]]
    with pytest.raises(LisgeoError, match="eastings"):
        load_sites(path=_write(tmp_path, bad))


def test_unknown_category(tmp_path):
    bad = [GOOD[0], ["x_site", "X", "shopping", "E06000015", "-1.4", "52.9", "x", ""]]
    with pytest.raises(UnknownNameError, match=r"shopping.*line 3 \(x_site\)"):
        load_sites(path=_write(tmp_path, bad))


def test_empty_source(tmp_path):
    bad = [GOOD[0], ["x_site", "X", "city_centre", "E06000015", "-1.4", "52.9", "", ""]]
    with pytest.raises(LisgeoError, match=r"line 3 \(x_site\): empty 'source'"):
        load_sites(path=_write(tmp_path, bad))


def test_malformed_district_code(tmp_path):
    bad = [["x_site", "X", "city_centre", "Derby", "-1.4", "52.9", "x", ""]]
    with pytest.raises(UnknownNameError, match="district code 'Derby'"):
        load_sites(path=_write(tmp_path, bad))


def test_bad_figure(tmp_path):
    bad = [["x_site", "X", "city_centre", "E06000015", "-1.4", "52.9", "x", "-5"]]
    with pytest.raises(LisgeoError, match="jobs '-5' must be blank or a non-negative number"):
        load_sites(path=_write(tmp_path, bad))


def test_bad_site_id(tmp_path):
    bad = [["Derby Centre", "X", "city_centre", "E06000015", "-1.4", "52.9", "x", ""]]
    with pytest.raises(LisgeoError, match="lower_snake_case"):
        load_sites(path=_write(tmp_path, bad))


def test_missing_file(tmp_path):
    with pytest.raises(DataNotFoundError):
        load_sites(path=tmp_path / "nope.csv")


# --------------------------------------------------------------------------- HS2


@pytest.fixture(scope="module")
def rail_crs(real_data):
    from lisgeo.catalog import resolve_dataset

    st = pd.read_csv(resolve_dataset("rail_stations")[0], usecols=["crsCode"], dtype=str)
    return set(st["crsCode"].dropna())


def test_list_schemes():
    assert list_hs2_schemes() == ["hs2_phase1", "hs2_2b", "irp"] == list(HS2_SCHEMES)


@pytest.mark.parametrize("scheme", ["hs2_2b", "irp"])
def test_hs2_scheme_loads_and_links_are_known(scheme, rail_crs):
    st = load_hs2_stations(scheme=scheme)
    ln = load_hs2_links(scheme=scheme)
    assert st.crs.to_epsg() == 27700 and st.index.is_unique
    assert (st["scheme"] == scheme).all() and (ln["scheme"] == scheme).all()
    assert st["source"].str.len().gt(0).all() and ln["source"].str.len().gt(0).all()
    assert (ln["time_min"] > 0).all()
    ids = set(st.index)
    for end in pd.concat([ln["from_id"], ln["to_id"]]):
        assert end in ids or end in rail_crs, f"{scheme}: link endpoint {end!r} is neither an HS2 station nor a CRS code"
    for codes in st["connects_crs"]:
        for c in filter(None, codes.split(";")):
            assert c in rail_crs, f"{scheme}: connects_crs {c!r} is not in the rail_stations list"
    assert "hs2_chesterfield" in ids and "hs2_euston" in ids


def test_hs2_2b_published_times():
    ln = load_hs2_links(scheme="hs2_2b")
    t = {(a, b): m for a, b, m in zip(ln["from_id"], ln["to_id"], ln["time_min"])}
    assert t[("hs2_toton", "hs2_euston")] == 52
    assert t[("hs2_toton", "hs2_curzon_street")] == 20
    assert t[("hs2_toton", "hs2_leeds")] == 27
    assert t[("hs2_chesterfield", "hs2_euston")] == 73
    st = load_hs2_stations(scheme="hs2_2b")
    assert st.loc["hs2_toton", "connects_crs"] == "LGE"
    assert "hs2_east_midlands_parkway" not in st.index


def test_irp_published_times():
    ln = load_hs2_links(scheme="irp")
    t = {(a, b): m for a, b, m in zip(ln["from_id"], ln["to_id"], ln["time_min"])}
    assert t[("hs2_nottingham", "hs2_euston")] == 57
    assert t[("hs2_nottingham", "hs2_curzon_street")] == 26
    assert t[("hs2_derby", "hs2_euston")] == 58
    assert t[("hs2_sheffield", "hs2_euston")] == 87
    st = load_hs2_stations(scheme="irp")
    assert "hs2_toton" not in st.index and st.loc["hs2_east_midlands_parkway", "connects_crs"] == "EMD"


def test_hs2_stations_near_their_crs(rail_crs, real_data):
    from lisgeo.catalog import resolve_dataset

    rs = pd.read_csv(resolve_dataset("rail_stations")[0], dtype={"crsCode": str}).dropna(subset=["crsCode"])
    rs = rs.set_index("crsCode")
    for scheme in list_hs2_schemes():
        st = load_hs2_stations(scheme=scheme)
        for sid, codes, g in zip(st.index, st["connects_crs"], st.geometry):
            for c in filter(None, codes.split(";")):
                x, y = TO_BNG.transform(rs.loc[c, "long"], rs.loc[c, "lat"])
                d = ((g.x - x) ** 2 + (g.y - y) ** 2) ** 0.5
                # East Midlands Hub (Toton) is 3.4 km from Long Eaton, its nearest existing station
                assert d < 3500, f"{scheme} {sid} is {d:.0f} m from its interchange station {c}"


def test_hs2_region_filter(real_data):
    st = load_hs2_stations(scheme="hs2_2b", region="d2n2", buffer_km=0)
    assert set(st.index) == {"hs2_toton", "hs2_chesterfield"}
    # the default 30 km reach: Toton is just beyond Leicestershire's boundary, Chesterfield is not
    near = load_hs2_stations(scheme="hs2_2b", region="llep")
    assert "hs2_toton" in near.index and "hs2_chesterfield" not in near.index
    st = load_hs2_stations(scheme="irp", region="d2n2", buffer_km=0)
    assert set(st.index) == {"hs2_east_midlands_parkway", "hs2_nottingham", "hs2_derby", "hs2_chesterfield"}


def test_load_hs2_dict():
    both = load_hs2(scheme="irp")
    assert set(both) == {"stations", "links"} and len(both["stations"]) == 9


def test_unknown_scheme():
    with pytest.raises(UnknownNameError, match="hs2_2b, irp"):
        load_hs2_stations(scheme="phase3")
    with pytest.raises(UnknownNameError, match="hs2_2b, irp"):
        load_hs2_links(scheme="phase3")


def test_bad_hs2_link_endpoint(tmp_path):
    p = tmp_path / "links.csv"
    p.write_text(
        "scheme,from_id,to_id,time_min,source\n"
        "hs2_2b,hs2_toton,hs2_euston,52,x\n"
        "hs2_2b,hs2_toton,hs2_nowhere,10,x\n",
        encoding="utf-8",
    )
    with pytest.raises(LisgeoError, match=r"line 3 \(hs2_toton->hs2_nowhere\).*'hs2_nowhere'"):
        load_hs2_links(path=p)


def test_bad_hs2_link_time(tmp_path):
    p = tmp_path / "links.csv"
    p.write_text("scheme,from_id,to_id,time_min,source\nirp,hs2_derby,hs2_euston,soon,x\n", encoding="utf-8")
    with pytest.raises(LisgeoError, match="positive number of minutes"):
        load_hs2_links(path=p)
