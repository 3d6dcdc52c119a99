"""Beds of a phased plan, recomputed: by site, kind and year, with the rules of a bed action.

Beds of kind k at site s in year p = the site's `sites.beds` field + `beds` of every facility
type newly opened there by p + beds added by actions by p - beds removed by actions by p. An
action takes whole beds, only where one of its `at` types is open in that year, at most
`max_per_site` per site over all years, never removing more beds of a kind than the site has.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from optimizer.inputs.geodata import Region
from optimizer.scenario.format import Scenario

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class BedLedger:
    """Beds and their money by year.

    ``beds[p][s, k]``: beds of kind ``kinds[k]`` at site s in period p; ``capital[p]`` and
    ``annual[p]`` the bed actions' capital spent and annual cost in p; ``annual_added[p]`` the
    annual cost of the beds taken in p (paid from p on); ``actions`` the plan's entries.
    """

    kinds: tuple[str, ...]
    beds: list[FloatArray]
    capital: FloatArray
    annual: FloatArray
    annual_added: FloatArray
    actions: list[dict[str, Any]]


def _kinds(scenario: Scenario) -> tuple[str, ...]:
    kinds = list(scenario.sites.beds)
    for ftype in scenario.facility_types.values():
        kinds += [k for k in ftype.beds if k not in kinds]
    for action in scenario.bed_actions.values():
        kinds += [k for k in (action.adds, action.removes) if k is not None and k not in kinds]
    return tuple(kinds)


def bed_ledger(scenario: Scenario, region: Region, bed_actions: list[tuple[Any, str, int, int | None]],
               is_open: list[BoolArray], violations: list[str]) -> BedLedger:
    """Beds by year from raw data; every broken rule is added to `violations`."""
    kinds = _kinds(scenario)
    years = list(scenario.years or [])
    periods = len(is_open)
    sites, names = region.sites, region.type_names
    base = np.zeros((sites.n, len(kinds)))
    for k, kind in enumerate(kinds):
        base[:, k] = sites.beds.get(kind, 0.0)
    taken = np.zeros((periods, sites.n, len(kinds)))        # change by actions in p
    per_site: dict[tuple[int, str], int] = {}
    capital, annual_added = np.zeros(periods), np.zeros(periods)
    entries = []
    position = {str(site_id): s for s, site_id in enumerate(sites.ids)}
    for site_id, name, beds, year in bed_actions:
        action = scenario.bed_actions.get(name)
        s = position.get(str(site_id))
        if action is None or s is None or (years and year not in years):
            violations.append(f"bed action '{name}' at site '{site_id}' in {year}: unknown action, site or year")
            continue
        p = years.index(year) if years and year is not None else 0
        if beds < 0 or beds != int(beds):
            violations.append(f"bed action '{name}' at site '{site_id}' takes {beds} beds: a whole number >= 0")
        if not any(is_open[p][s, names.index(t)] for t in action.at):
            violations.append(f"bed action '{name}' at site '{site_id}' in {year or 'the plan'}: no "
                              f"{' or '.join(action.at)} is open there")
        per_site[(s, name)] = per_site.get((s, name), 0) + int(beds)
        taken[p, s, kinds.index(action.adds)] += beds
        if action.removes is not None:
            taken[p, s, kinds.index(action.removes)] -= beds
        capital[p] += beds * action.capital_per_bed
        annual_added[p] += beds * action.annual_per_bed
        entries.append({"site": site_id, "action": name, "beds": int(beds)} | ({"year": year} if years else {})
                       | {"capital": beds * action.capital_per_bed, "annual": beds * action.annual_per_bed})
    for (s, name), n in per_site.items():
        if n > scenario.bed_actions[name].max_per_site:
            violations.append(f"bed action '{name}' takes {n} beds at site '{sites.ids[s]}', more than its "
                              f"max_per_site {scenario.bed_actions[name].max_per_site}")
    type_beds = np.array([[scenario.facility_types[t].beds.get(kind, 0) for kind in kinds] for t in names],
                         dtype=np.float64).reshape(len(names), len(kinds))
    beds_by_year = []
    for p in range(periods):
        new_open = is_open[p] & ~sites.existing
        here = base + new_open.astype(np.float64) @ type_beds + taken[:p + 1].sum(axis=0)
        for s, k in zip(*np.nonzero(here < -1e-9)):
            violations.append(f"site '{sites.ids[s]}' would have {here[s, k]:g} '{kinds[k]}' beds in "
                              f"{years[p] if years else 'the plan'}: an action removes more than the site has")
        beds_by_year.append(here)
    return BedLedger(kinds, beds_by_year, capital, np.cumsum(annual_added), annual_added, entries)
