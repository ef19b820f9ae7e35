"""The strategy's headline claims recomputed for a region: load the inputs, compute, tabulate.

:func:`recompute_claims` returns one row per claim: ``claim, strategy_figure, computed_value,
unit, status, note, method, source`` (the measures are the pure functions of
:mod:`lisgeo.measures.claims`). Every claim has a row for every region: ``status`` is
``computed``, or ``not applicable`` when the region's data cannot answer it (``computed_value``
NaN; ``note`` says why, e.g. no road junction inside the region for the drive-time claim), so a
region of any districts gets its table and never a failure. ``note`` also says when the region has
no strategy figure to compare with (the figures are the D2N2 strategy's).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd
import shapely

from ..assumptions import Assumptions, as_assumptions
from ..errors import EmptyResultError
from ..measures.claims import (MILE_M, STRATEGY_CLAIMS, GridPoints, commuting_self_containment, grid_points,
                               population_within_distance, population_within_drive)
from ..regions import Region, get_region

__all__ = ["recompute_claims", "uk_grid", "CLAIM_COLUMNS", "COMPUTED", "NOT_APPLICABLE"]

#: The columns of the claims table (``claims.csv``), in order.
CLAIM_COLUMNS = ("claim", "strategy_figure", "computed_value", "unit", "status", "note", "method", "source")
COMPUTED, NOT_APPLICABLE = "computed", "not applicable"
#: The errors that mean "this region's data cannot answer the claim" (nothing to route from, no
#: flows): the claim is reported not applicable. Anything else (a missing or damaged data file, a
#: bad assumption) still stops the run with its message.
_NOT_APPLICABLE_ERRORS = (EmptyResultError,)

_GRID_SOURCE = "UKCEH gridded population 2021, 1 km (Carnell, Tomlinson & Reis 2025), OGL v3"


@lru_cache(maxsize=1)
def uk_grid() -> GridPoints:
    """Every populated cell of the UKCEH 1 km grid with its Great Britain flag (read once)."""
    from ..layers.people import population_grid_points

    return grid_points(*population_grid_points())


def recompute_claims(region: Any = "d2n2", *, drive_hours: float | None = None, miles: float | None = None,
                     assumptions: Any = None, cache: bool = True) -> pd.DataFrame:
    """The strategy's geography claims recomputed: ``claim, strategy_figure, computed_value, unit, status, note, method, source``.

    ``drive_hours`` and ``miles`` default to the assumptions ``claims.drive_hours`` and
    ``claims.miles`` (the strategy's own 4 hours and 20 miles). ``strategy_figure`` is NaN for a
    region whose strategy makes no such claim (``note`` says so). A claim the region's data cannot
    answer has ``status`` "not applicable", a NaN ``computed_value`` and the reason in ``note``.

    cache: the result is kept on disk (:mod:`lisgeo.cache`, kind ``claims``), keyed on the region's
        districts, the hours and miles, every assumption, the authored files, the pinned sha256 of
        the datasets read and lisgeo's code; ``cache=False`` or ``LISGEO_NO_CACHE=1`` recomputes.
    """
    from .. import cache as disk

    reg = get_region(region)
    a = as_assumptions(assumptions)
    hours = a["claims.drive_hours"] if drive_hours is None else drive_hours
    miles = a["claims.miles"] if miles is None else miles
    key = None
    if disk.enabled(cache):
        key = _claims_key(reg, a, hours, miles)
        hit = disk.load_frame("claims", key)
        if hit is not None:
            return hit
    out = _recompute_claims(reg, a, hours, miles)
    if key is not None:
        disk.store_frame("claims", key, out)
    return out


def _claims_key(reg: Region, a: Assumptions, hours: float, miles: float) -> str:
    from .. import cache as disk
    from ..provenance import CLAIMS_LAYERS, layer_datasets

    return disk.make_key({"kind": "claims", "region": reg.name, "districts": sorted(reg.lad_codes),
                          "hours": float(hours), "miles": float(miles), "assumptions": a.to_dict(),
                          "authored": disk.authored_digests(), "datasets": disk.dataset_digests(layer_datasets(CLAIMS_LAYERS))})


def _strategy_figures(reg: Region) -> tuple[dict[str, float], str]:
    """The strategy's figures for ``reg`` (the same districts as a region with figures, however
    named) and the note for a region without them."""
    for name, figs in STRATEGY_CLAIMS.items():
        if set(get_region(name).lad_codes) == set(reg.lad_codes):
            return figs, ""
    owners = " and ".join(get_region(n).label for n in STRATEGY_CLAIMS)
    return {}, f"no strategy figure for this region (the figures are the {owners} strategy's)"


def _not_applicable(claim: str, unit: str, source: str, why: str, figure: float = np.nan) -> dict[str, Any]:
    return dict(claim=claim, strategy_figure=figure, computed_value=np.nan, unit=unit, status=NOT_APPLICABLE,
                note=f"not applicable: {why}", method=f"not computed for this region: {why}", source=source)


def _why(exc: Exception) -> str:
    return str(exc).strip().rstrip(".") or type(exc).__name__


def _recompute_claims(reg: Region, a: Assumptions, hours: float, miles: float) -> pd.DataFrame:
    from ..layers.boundaries import buffer_outline, region_outline
    from ..layers.jobs import load_commuting_lad
    from ..layers.roads import load_major_road_nodes, load_major_roads

    off_kmh = a["claims.off_network_kmh"]
    figs, no_figure = _strategy_figures(reg)
    grid = uk_grid()
    outline = region_outline(reg)
    cov = grid.coverage()
    coverage_note = (
        f"the grid covers the whole UK ({cov['total'] / 1e6:.2f} M people; GB {cov['gb'] / 1e6:.2f} M, NI {cov['ni'] / 1e6:.2f} M)"
        if cov["covers_gb"] else
        f"WARNING: the grid does not cover all of GB ({cov['gb'] / 1e6:.2f} M people found), so this undercounts"
    )
    rows = []
    zone = buffer_outline(outline, miles * MILE_M)  # (once for both counts; a coast in two steps)
    shapely.prepare(zone)
    pw = population_within_distance(grid, outline, miles=miles, zone=zone)
    ring = population_within_distance(grid, outline, miles=miles, include_region=False, zone=zone)
    rows.append(dict(
        claim=f"people living within {miles:g} miles of the region's boundary (outside it)",
        strategy_figure=figs.get("people_within_20_miles", np.nan), computed_value=round(ring), unit="people",
        method=(f"sum of 1 km cells whose centre lies outside the region but inside its outline buffered by {miles:g} miles "
                f"({miles * MILE_M / 1000:.1f} km): 'within 20 miles of its boundary' read as the ring around the region; "
                f"with the region's own residents it is {pw / 1e6:.2f} M; {coverage_note}"),
        source=_GRID_SOURCE,
    ))
    claim = f"share of Great Britain's population within {hours:g} hours' drive of the region"
    unit, source = "% of GB population", f"{_GRID_SOURCE}; DfT major roads link network 2013, National Highways HAPMS (OGL v3)"
    figure = figs.get("gb_share_within_4h_drive", np.nan)
    try:
        dr = population_within_drive(grid, outline, load_major_roads(region=None, assumptions=a),
                                     load_major_road_nodes(region=None, assumptions=a),
                                     hours=hours, off_network_kmh=off_kmh, assumptions=a, two_way=True)
    except _NOT_APPLICABLE_ERRORS as exc:
        rows.append(_not_applicable(claim, unit, source, _why(exc), figure))
    else:
        rows.append(dict(
            claim=claim, strategy_figure=figure, computed_value=round(dr["gb_share"], 1), unit=unit,
            method=(f"drive time from any motorway or A-road junction in the region along every motorway and A road of "
                    f"Great Britain (DfT major roads 2013; link times as in the lisgeo network: motorway "
                    f"{a['road.motorway_kmh']:g} km/h, dual A roads {a['road.a_dual_kmh']:g}, single {a['road.a_single_kmh']:g}, "
                    f"through towns {a['road.a_urban_kmh']:g} km/h, layers/assumptions.toml) then straight-line × "
                    f"{a['access.circuity']:g} at {off_kmh:g} km/h to each 1 km cell; GB = the UK grid less Northern Ireland; "
                    f"UK share {dr['uk_share']:.1f}%; {coverage_note}"),
            source=source,
        ))
    src = "ONS Census 2021 ODWP01EW (home→work flows between districts), OGL v3"
    caveat = ("Census day (21 March 2021) fell in a lockdown, when far more people worked from home than usual; the "
              "strategy's figures come from an earlier source (most likely the 2011 Census), so the two are not a like-for-like trend")
    res_claim, jobs_claim = "share of the region's resident workers who work in the region", "share of the region's jobs filled by its residents"
    try:
        sc = commuting_self_containment(load_commuting_lad(region=reg), reg.lad_codes)
    except _NOT_APPLICABLE_ERRORS as exc:
        rows.append(_not_applicable(res_claim, "%", src, _why(exc), figs.get("residents_working_in_region", np.nan)))
        rows.append(_not_applicable(jobs_claim, "%", src, _why(exc), figs.get("jobs_filled_by_residents", np.nan)))
    else:
        rows.append(dict(
            claim=res_claim,
            strategy_figure=figs.get("residents_working_in_region", np.nan),
            computed_value=round(sc["residents_working_in_region_incl_home"], 1), unit="%",
            method=(f"all resident workers: those working in the region, at or from home, or with no fixed place count as working "
                    f"where they live (the standard reading of ODWP01EW), ÷ all workers living in the region; "
                    f"sensitivity: workers with a fixed workplace only give {sc['residents_working_in_region']:.1f}% "
                    f"({sc['resident_home_workers']:,.0f} home-workers left out); {caveat}"),
            source=src,
        ))
        rows.append(dict(
            claim=jobs_claim,
            strategy_figure=figs.get("jobs_filled_by_residents", np.nan),
            computed_value=round(sc["jobs_filled_by_residents_incl_home"], 1), unit="%",
            method=(f"all workers whose workplace is in the region (home-workers in their home district) who also live there ÷ all "
                    f"of them; sensitivity: fixed workplaces only give {sc['jobs_filled_by_residents']:.1f}% of "
                    f"{sc['jobs_fixed_workplace']:,.0f} jobs; {caveat}"),
            source=src,
        ))
    for r in rows:
        r.setdefault("status", COMPUTED)
        notes = [r.get("note", "")] + ([no_figure] if no_figure else [])
        r["note"] = "; ".join(n for n in notes if n)
    out = pd.DataFrame(rows, columns=list(CLAIM_COLUMNS))
    out["strategy_figure"] = out["strategy_figure"].astype("float64")
    out["computed_value"] = out["computed_value"].astype("float64")
    out.attrs["region"] = reg.label
    out.attrs["attribution"] = "; ".join(dict.fromkeys(out["source"]))
    return out
