"""Beds in the phased model: integer bed actions b[s,a,p], the rows that bound them, and bed sums.

Beds of kind k at site s in period p (SCENARIO_FORMAT.md, "Beds"):
    beds[s,k,p] = E[s,k] + sum_{t new at s} beds_t[k] y[s,t,p]
                  + sum_{a adds k} sum_{q<=p} b[s,a,q] - sum_{a removes k} sum_{q<=p} b[s,a,q]
Rows (labels cited by the checker):
    (B1) sum_{q<=p} b[s,a,q] - max_a sum_{t in at_a} y[s,t,p] <= 0   an `at` type open at s in p
    (B2) sum_q b[s,a,q] <= max_a                                     (several `at` types only)
    (B3) beds[s,k,p] >= 0 for every kind k some action removes       never remove more than there is
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from optimizer.inputs.geodata import Region
from optimizer.model.build import Builder
from optimizer.model.milp import INTEGER
from optimizer.scenario.format import Scenario, bed_kinds

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class OpenPairs:
    """Open variables y[j,p] of the phased model, j over (site, type) pairs that may be open."""

    site: IntArray
    type: IntArray
    existing: npt.NDArray[np.bool_]
    index: IntArray          # [s, t] -> j, -1 where type t cannot be at s
    start: int
    periods: int

    @property
    def n(self) -> int:
        """Number of pairs."""
        return len(self.site)

    def var(self, j: IntArray, p: int | IntArray) -> IntArray:
        """Variable of pair j in period p."""
        return (self.start + np.asarray(p, dtype=np.int64) * self.n + j).astype(np.int64)


@dataclass(frozen=True)
class BedVars:
    """Bed-action variables and the bed data of the region, kinds in `kinds` order."""

    kinds: tuple[str, ...]
    var: IntArray
    site: IntArray
    action: IntArray
    period: IntArray
    adds: IntArray           # [a] kind index
    removes: IntArray        # [a] kind index, -1 for none
    capital: FloatArray      # [a] per bed
    annual: FloatArray       # [a] per bed
    existing: FloatArray     # [s, k]
    type_beds: FloatArray    # [t, k]
    names: tuple[str, ...]


def bed_vars(b: Builder, scenario: Scenario, region: Region, y: OpenPairs) -> BedVars:
    """b[s,a,p] at every site where an `at` type may be open, with rows (B1-B3)."""
    kinds = tuple(bed_kinds(scenario))
    names = region.type_names
    existing = np.zeros((region.sites.n, len(kinds)))
    for k, kind in enumerate(kinds):
        existing[:, k] = region.sites.beds.get(kind, np.zeros(region.sites.n))
    type_beds = np.array([[scenario.facility_types[n].beds.get(kind, 0) for kind in kinds] for n in names],
                         dtype=np.float64).reshape(len(names), len(kinds))
    actions = scenario.bed_actions
    parts = []
    for a, action in enumerate(actions.values()):
        at = [names.index(t) for t in action.at]
        sites = np.flatnonzero((y.index[:, at] >= 0).any(axis=1))
        site, period = np.repeat(sites, y.periods), np.tile(np.arange(y.periods), len(sites))
        var = b.add_vars(f"b {a}", np.zeros(len(site)), np.full(len(site), float(action.max_per_site)), INTEGER)
        parts.append((var, site, np.full(len(site), a, np.int64), period))
    empty = np.zeros(0, np.int64)
    var, site, action_of, period = ((np.concatenate(p).astype(np.int64) for p in zip(*parts)) if parts
                                    else (empty, empty, empty, empty))
    bv = BedVars(kinds, var, site, action_of, period,
                 np.array([kinds.index(a.adds) for a in actions.values()], dtype=np.int64),
                 np.array([kinds.index(a.removes) if a.removes else -1 for a in actions.values()], dtype=np.int64),
                 np.array([a.capital_per_bed for a in actions.values()]),
                 np.array([a.annual_per_bed for a in actions.values()]), existing, type_beds, tuple(actions))
    _action_rows(b, scenario, region, y, bv)
    _removal_rows(b, y, bv)
    return bv


def _action_rows(b: Builder, scenario: Scenario, region: Region, y: OpenPairs, bv: BedVars) -> None:
    """(B1) beds taken so far only where an `at` type is open; (B2) at most max_per_site in all."""
    names = region.type_names
    for a, action in enumerate(scenario.bed_actions.values()):
        mine = np.flatnonzero(bv.action == a)
        at = [names.index(t) for t in action.at]
        # row r = one (site, period) of this action; earlier periods' variables of the site join it
        var, site, period = bv.var[mine], bv.site[mine], bv.period[mine]
        rows, cols = _cumulative(site, period, var)
        vals = [np.ones(len(rows))]
        row_list, col_list = [rows], [cols]
        for t in at:
            j = y.index[site, t]
            live = j >= 0
            row_list.append(np.flatnonzero(live))
            col_list.append(y.var(j[live], period[live]))
            vals.append(np.full(int(live.sum()), -float(action.max_per_site)))
        n = len(mine)
        b.add_rows(f"B1 bed action {action.adds} at open type", np.concatenate(row_list), np.concatenate(col_list),
                   np.concatenate(vals), np.full(n, -np.inf), np.zeros(n))
        if len(at) > 1:
            sites, row = np.unique(site, return_inverse=True)
            b.add_rows("B2 beds per site", row, var, np.ones(n), np.full(len(sites), -np.inf),
                       np.full(len(sites), float(action.max_per_site)))


def _cumulative(site: IntArray, period: IntArray, var: IntArray) -> tuple[IntArray, IntArray]:
    """(row, column) pairs: row r holds every variable of its site with period <= its period."""
    order = np.lexsort((period, site))
    rows_out, cols_out = [], []
    for lag in range(int(period.max(initial=0)) + 1):   # periods are few: one pass per lag
        shifted = order[:len(order) - lag] if lag else order
        later = order[lag:]
        ok = site[later] == site[shifted]
        rows_out.append(later[ok])
        cols_out.append(var[shifted[ok]])
    return np.concatenate(rows_out).astype(np.int64), np.concatenate(cols_out).astype(np.int64)


def bed_terms(y: OpenPairs, bv: BedVars, coef: FloatArray, site_row: IntArray,
              p: int) -> tuple[IntArray, IntArray, FloatArray, FloatArray]:
    """sum_k coef[k] beds[s,k,p] summed by row ``site_row[s]`` (-1: left out), as COO (rows, cols,
    vals) and the constant part per row (existing beds)."""
    n_rows = int(site_row.max(initial=-1)) + 1
    value = bv.type_beds[y.type] @ coef
    j = np.flatnonzero(~y.existing & (value != 0) & (site_row[y.site] >= 0))
    rows, cols, vals = [site_row[y.site[j]]], [y.var(j, p)], [value[j]]
    if len(bv.var):
        per_bed = coef[bv.adds] - np.where(bv.removes >= 0, coef[np.maximum(bv.removes, 0)], 0.0)
        live = np.flatnonzero((bv.period <= p) & (site_row[bv.site] >= 0) & (per_bed[bv.action] != 0))
        rows.append(site_row[bv.site[live]])
        cols.append(bv.var[live])
        vals.append(per_bed[bv.action[live]])
    keep = site_row >= 0
    const = np.bincount(site_row[keep], weights=bv.existing[keep] @ coef, minlength=n_rows)
    return (np.concatenate(rows).astype(np.int64), np.concatenate(cols).astype(np.int64),
            np.concatenate(vals), np.asarray(const, dtype=np.float64))


def _removal_rows(b: Builder, y: OpenPairs, bv: BedVars) -> None:
    """(B3) beds of a removed kind never fall below zero, at every site an action may work, every year."""
    removing = bv.removes[bv.removes >= 0]
    for k in np.unique(removing):
        sites = np.unique(bv.site)
        site_row = np.full(len(bv.existing), -1, np.int64)
        site_row[sites] = np.arange(len(sites))
        coef = np.zeros(len(bv.kinds))
        coef[k] = 1.0
        for p in range(y.periods):
            rows, cols, vals, const = bed_terms(y, bv, coef, site_row, p)
            b.add_rows(f"B3 {bv.kinds[k]} beds left", rows, cols, vals, -const, np.full(len(sites), np.inf))
