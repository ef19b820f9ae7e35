"""Regions by name (issue 23): every English district, county, combined authority, LSIP area,
former LEP and ITL1 region, matched forgivingly, with a suggestion on a miss, before any work."""

from __future__ import annotations

import logging

import pytest

from lisgeo import regions as R
from lisgeo.cli import main
from lisgeo.errors import UnknownNameError
from lisgeo.regions import REGIONS, UnknownRegionError, get_region, list_areas

pytestmark = pytest.mark.realdata


@pytest.fixture
def notes(caplog):
    """The warnings the regions module says (each once per process: forgotten for the test)."""
    R._NOTED.clear()
    R._resolve.cache_clear()
    caplog.set_level(logging.WARNING, logger="lisgeo.regions")
    yield lambda: [r.getMessage() for r in caplog.records if r.name == "lisgeo.regions"]
    R._resolve.cache_clear()


def test_every_kind_is_there(real_data):
    counts = {k: len(list_areas(k)) for k in R.KINDS}
    assert counts == {"district": 296, "county": 21, "itl1": 9, "lep": 38, "lsip": 38, "ca": 15}
    # every district of England today has its small areas in the catalog, and england is all of them
    from lisgeo.catalog import get_dataset

    files = {f.path.rsplit("/", 1)[1].removesuffix(".geojson") for f in get_dataset("lsoa21_boundaries").files}
    assert set(R.english_districts()) <= files
    assert get_region("england").lad_codes == tuple(sorted(R.english_districts())) and len(get_region("England")) == 296
    # every area's districts are districts of today
    for a in list_areas():
        assert a.lad_codes and set(a.lad_codes) <= set(R.english_districts()), a


def test_the_lep_polygons_give_the_builtin_regions_exactly(real_data):
    """A district is in a former LEP where more than half its area lies in the LEP's polygon (May 2021)."""
    lep = {a.code: a for a in list_areas("lep")}
    assert lep["E37000045"].lad_codes == REGIONS["d2n2"].lad_codes and len(lep["E37000045"].lad_codes) == 17
    assert lep["E37000021"].lad_codes == REGIONS["llep"].lad_codes and len(lep["E37000021"].lad_codes) == 8
    for name in ("D2N2", "lep:D2N2", "Derby, Derbyshire, Nottingham and Nottinghamshire", "D2N2 LEP", "E37000045"):
        assert get_region(name) is REGIONS["d2n2"], name
    for name in ("LLEP", "Leicester and Leicestershire LEP", "lep:Leicester & Leicestershire", "E37000021"):
        assert get_region(name) is REGIONS["llep"], name
    assert get_region("lep:D2N2, lep:LLEP") is REGIONS["d2n2_llep"]
    gl = get_region("Greater Lincolnshire")
    assert gl.kind == "lep" and gl.code == "E37000060" and len(gl) == 10 and "E06000017" in gl  # with Rutland
    # in May 2021 Greater Birmingham and Solihull still overlapped its neighbours: 9 districts, 7 shared
    gbs = get_region("GBSLEP")
    assert len(gbs) == 9 and R.leps_of("E07000192") == ("Greater Birmingham and Solihull", "Stoke-on-Trent and Staffordshire")
    assert R.lep_of("E06000052") == "Cornwall and Isles of Scilly" and R.lep_of("E07000172") == "D2N2"


@pytest.mark.parametrize("text, name, n", [
    ("Greater Lincolnshire", "lep:E37000060", 10),
    ("GREATER LINCOLNSHIRE LEP", "lep:E37000060", 10),
    ("greater lincolnshire local enterprise partnership", "lep:E37000060", 10),
    ("GLLEP", "lep:E37000060", 10),
    ("West Midlands Combined Authority", "ca:E47000007", 7),
    ("West Midlands CA", "ca:E47000007", 7),
    ("wmca", "ca:E47000007", 7),
    ("ca:West Midlands", "ca:E47000007", 7),
    ("EMCCA", "ca:E47000013", 17),
    ("SYMCA", "ca:E47000002", 4),
    ("the West of England Combined Authority", "ca:E47000009", 3),
    ("Lincolnshire County Council", "county:E10000019", 7),
    ("county:lincolnshire", "county:E10000019", 7),
    ("Yorkshire & the Humber", "itl1:E12000003", 15),
    ("East Midlands", "itl1:E12000004", 35),
    ("TLF", "itl1:E12000004", 35),
    ("lsip:Greater Lincolnshire", "lsip:E69000012", 10),
    ("Brighton and Hove, East Sussex, West Sussex", "lsip:E69000001", 13),
    ("Cornwall", "district:E06000052", 1),
    ("Bristol, City of", "district:E06000023", 1),
    ("bristol", "district:E06000023", 1),
    ("Kingston upon Hull", "district:E06000010", 1),
    ("Hull", "district:E06000010", 1),
    ("Stoke on Trent", "district:E06000021", 1),
    ("St. Albans", "district:E07000240", 1),
    ("BCP", "district:E06000058", 1),
    ("E10000019", "county:E10000019", 7),
    ("E47000007", "ca:E47000007", 7),
    ("E69000012", "lsip:E69000012", 10),
    ("E12000004", "itl1:E12000004", 35),
])
def test_names_and_codes_are_matched_forgivingly(real_data, text, name, n):
    reg = get_region(text)
    assert (reg.name, len(reg)) == (name, n)


def test_district_codes_and_mixes(real_data):
    assert get_region("E06000052").lad_codes == ("E06000052",)
    mix = get_region("Derby, Nottingham")
    assert mix.lad_codes == ("E06000015", "E06000018") and mix.label == "Derby + Nottingham" and mix.kind == "mix"
    m = get_region("lep:D2N2,county:Leicestershire")
    assert len(m) == 24 and m.label == "D2N2 + Leicestershire"
    assert len(get_region("Cornwall, E06000053")) == 2  # names and codes mixed
    assert get_region("Rutland, South Kesteven, Melton").lad_codes == ("E06000017", "E07000133", "E07000141")


def test_a_miss_gets_a_suggestion(real_data):
    with pytest.raises(UnknownRegionError) as exc:
        get_region("Greater Lincolshire")
    assert str(exc.value) == "unknown region 'Greater Lincolshire'; did you mean 'Greater Lincolnshire' (former LEP, 10 districts)?"
    assert isinstance(exc.value, UnknownNameError)
    with pytest.raises(UnknownRegionError, match=r"did you mean 'Derby' \(district E06000015\) or 'Derbyshire' \(county, 8 districts\)"):
        get_region("Derbys")
    # a kind: prefix suggests that kind
    with pytest.raises(UnknownRegionError, match=r"unknown region 'lep:Lincolnshire'; did you mean 'Greater Lincolnshire' \(former LEP"):
        get_region("lep:Lincolnshire")
    # england is nearest, though no area of the index is named so (Fenland is the nearest name there)
    with pytest.raises(UnknownRegionError, match=r"unknown region 'Englnd'; did you mean 'england' \(every district of England\)\?") as exc:
        get_region("Englnd")
    assert exc.value.valid == ["england"]
    with pytest.raises(UnknownRegionError, match=r"unknown region 'xyzzy'; give a district, county, combined authority.*lisgeo regions list"):
        get_region("xyzzy")
    with pytest.raises(UnknownRegionError, match="unknown region 'Nottingham and Nottinghamshire'"):
        get_region("Derby, Nottingham and Nottinghamshire")  # a mix names the part it cannot read


def test_codes_outside_england_or_unknown(real_data):
    with pytest.raises(UnknownRegionError, match="district code 'W06000015' is not in England"):
        get_region("W06000015")
    with pytest.raises(UnknownRegionError, match="unknown district code 'E06000999'"):
        get_region(["E06000999"])
    with pytest.raises(UnknownNameError, match="unknown district code 'E0600001'; district codes look like E06000015"):
        get_region("E0600001,E06000015")  # malformed


def test_a_shared_name_is_taken_by_kind_and_says_how_to_pick_another(real_data, notes):
    lancs = get_region("Lancashire")
    assert (lancs.kind, len(lancs)) == ("county", 12)
    said = " ".join(notes())
    assert "taken as the county Lancashire (12 districts)" in said and "'lep:Lancashire'" in said and "(14 districts)" in said
    assert len(get_region("lep:Lancashire")) == 14 and len(get_region("ca:Lancashire")) == 14
    assert len(get_region("Dorset")) == 1 and len(get_region("lsip:Dorset")) == 2
    em = get_region("East Midlands")
    assert em.kind == "itl1" and "'ca:East Midlands Combined County Authority'" in " ".join(notes())
    assert get_region("ca:East Midlands Combined County Authority").lad_codes == REGIONS["d2n2"].lad_codes
    gl_ca = get_region("ca:Greater Lincolnshire")
    assert len(gl_ca) == 9 and "E06000017" not in gl_ca  # the combined county authority, without Rutland
    # the same name for the same districts is not a choice: nothing said
    before = len(notes())
    assert len(get_region("Greater Manchester")) == 10 and len(notes()) == before


def test_districts_merged_or_recoded_since_2021(real_data, notes):
    """A former district stands for today's district that took it over, and it is said."""
    assert get_region("Allerdale").lad_codes == ("E06000063",)  # Cumberland, since April 2023
    assert get_region("E07000187").lad_codes == ("E06000066",)  # Mendip: Somerset
    assert get_region("E08000016").lad_codes == ("E08000038",)  # Barnsley, recoded
    said = " ".join(notes())
    assert "Mendip" in said and "whole of Somerset" in said and "E08000038 today (recoded)" in said
    assert R.successor("E07000026") == "E06000063" and R.successor("E06000063") == "E06000063" and R.successor("W06000015") is None
    # the LSIP lookup of 2023 names Barnsley and Sheffield by their former codes: today's are used
    sy = get_region("lsip:South Yorkshire")
    assert {"E08000038", "E08000039"} <= set(sy.lad_codes)


def test_unknown_region_fails_before_any_work(real_data, tmp_path, capsys, monkeypatch):
    import lisgeo.pipeline.score as score

    def never(**kw):
        raise AssertionError("the scoring started")

    monkeypatch.setattr(score, "score_region", never)
    out = tmp_path / "out"
    assert main(["score", "--region", "Greater Lincolshire", "-o", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err == ("lisgeo: error: unknown region 'Greater Lincolshire'; did you mean 'Greater Lincolnshire' "
                   "(former LEP, 10 districts)?")
    assert not out.exists()
    for cmd in (["build", "--region", "Cornwal", "-o", str(out)],
                ["compare", "--region", "Cornwal", "--scenario", "hs2_2b", "-o", str(out)],
                ["layers", "export", "stops", "--region", "Cornwal", "-o", str(out / "s.gpkg")]):
        assert main(cmd) == 2, cmd
        assert "did you mean 'Cornwall' (district E06000052)?" in capsys.readouterr().err
    assert not out.exists()


def test_regions_list_and_show(real_data, capsys):
    assert main(["regions", "list", "--kind", "lep"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 38 and any(l.startswith("Greater Lincolnshire") and l.split()[-1] == "10" for l in lines)
    assert main(["regions", "list"]) == 0
    text = capsys.readouterr().out
    for want in ("d2n2", "West Midlands Combined Authority", "combined authority", "LSIP area", "region (ITL1)", "county"):
        assert want in text
    assert main(["regions", "list", "--kind", "district"]) == 0
    assert len(capsys.readouterr().out.strip().splitlines()) == 296
    assert main(["regions", "show", "WMCA"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "West Midlands Combined Authority: combined authority E47000007, 7 districts"
    assert [l.split()[0] for l in out[2:]] == ["E08000025", "E08000026", "E08000027", "E08000028", "E08000029", "E08000030", "E08000031"]
    assert main(["regions", "show", "Greater Lincolshire"]) == 2
    assert "did you mean 'Greater Lincolnshire'" in capsys.readouterr().err
