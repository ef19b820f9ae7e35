from __future__ import annotations

import pytest

from lisgeo.errors import LisgeoError, UnknownNameError
from lisgeo.regions import get_region, lep_of


def test_builtin_regions_have_the_right_sizes():
    assert len(get_region("d2n2")) == 17
    assert len(get_region("llep")) == 8
    u = get_region("D2N2_LLEP")
    assert len(u) == 25 and set(u.lad_codes) == set(get_region("d2n2").lad_codes) | set(get_region("llep").lad_codes)


def test_codes_make_a_region_and_match_builtins():
    r = get_region("E06000015, e07000039")
    assert r.lad_codes == ("E06000015", "E07000039") and r.leps == ("d2n2",)
    assert get_region(list(get_region("llep").lad_codes)).name == "llep"


def test_unknown_region_names_the_nearest_ones(real_data):
    """(Derbyshire is a county now: `tests/test_regions_by_name.py` has the names of all England.)"""
    with pytest.raises(UnknownNameError, match="unknown region 'derbyshir'; did you mean 'Derbyshire' \\(county, 8 districts\\)"):
        get_region("derbyshir")


def test_malformed_code_is_refused():
    with pytest.raises(UnknownNameError, match="E06000015"):
        get_region(["E0600001"])
    with pytest.raises(LisgeoError):
        get_region([])


def test_lep_of(real_data):
    assert lep_of("E07000134") == "Leicester and Leicestershire"
    assert lep_of("E07000172") == "D2N2"
    assert lep_of("E09000001") == "London"  # any English district, from the LEP polygons (May 2021)
    assert lep_of("W06000015") is None
