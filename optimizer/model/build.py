"""The scenario as one sparse MILP, built from arrays (no per-pair Python).

Variables (blocks of `Milp.var_blocks`)
    y[s,t]    1 if type t is open at site s (existing facilities: fixed to 1)
    d[s,t,h]  1 if new type t at s takes host h's co-location factor (h open at s)
    z[i,s,t]  share of unit i assigned to facility t at s (capacitated and distance types,
              on reach pairs only)
    x[i,t]    1 if unit i is covered by type t (continuous; integral at the optimum for
              uncapacitated types; the assigned share for capacitated ones)
    sf[k]     shortfall of target row k (elastic mode only); ex[k] excess over a count max
Rows (blocks of `Milp.row_blocks`), labels cited by the checker and the report:
    (C1a) d[s,t,h] - y[s,h] <= 0                      host must be open
    (C1b) sum_h d[s,t,h] - y[s,t] <= 0                one factor, only if t is opened
    (C2)  x[i,t] - sum_{s in N_t(i)} y[s,t] <= 0      covered only if a facility is in reach
    (C3a) sum_{s in N_t(i)} y[s,t] >= 1               units a 100% coverage target must cover
    (C3)  sum_i m_i x[i,t] + sf >= share * M          coverage share (per zone when asked)
    (C4)  min <= sum_s y[s,t] + sf - ex <= max        counts (per zone, new only when asked)
    (C5)  sum land_t y[s,t] + sf >= per_capita * P    land norm
    (C6)  sum capex y - sum saving d <= budget.capital
    (C7)  sum annual y <= budget.annual
    (C8)  sum_i w_i x[i,t] >= level                   coverage level (lexicographic phases)
    (C9)  sum_k p_k (sf[k] + ex[k]) <= level          shortfall level (lexicographic phases)
    (C10) sum w_i d_is z[i,s,t] <= level              distance level (lexicographic phases)
    (C11) z[i,s,t] - y[s,t] <= 0                      assign only to an open facility
    (C12) sum_s z[i,s,t] <= 1  (= 1 for distance types: every weighted unit is assigned)
    (C13) sum_i q_i z[i,s,t] - cap_s y[s,t] <= 0      capacity, q_i = capacity weight x uptake
    (C2') x[i,t] - sum_s z[i,s,t] <= 0                capacitated coverage: the assigned share
Objectives: `cost_c` (capital + horizon x annual), `coverage_c` (minus weighted coverage),
`shortfall_c` (elastic: sum_k p_k sf_k with p_k = round(10^6 / required_k) / 10^6, at least 10^-6,
so each shortfall counts relative to its requirement and every backend can hold the level exactly).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np
import numpy.typing as npt
import pandas as pd
import scipy.sparse as sp

from optimizer.inputs.geodata import Region, land_need
from optimizer.model.milp import CONTINUOUS, IMPLIED_INTEGER, INTEGER, Block, Milp
from optimizer.model.schedule import Schedule
from optimizer.reach.base import Reach, served_mask
from optimizer.scenario.fields import CountTarget, CoverageTarget, LandTarget
from optimizer.scenario.format import Scenario

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class TargetRows:
    """How one scenario target became rows.

    ``zones[r]`` is the zone of row r (``""`` for a whole-region row); ``shortfall[r]`` the
    index of its shortfall variable (-1 when not elastic).
    """

    index: int
    rows: IntArray
    zones: tuple[str, ...]
    required: FloatArray
    shortfall: IntArray
    excess: IntArray


@dataclass(frozen=True)
class PlanModel:
    """The MILP plus what is needed to decode it and to run lexicographic phases."""

    milp: Milp
    y_site: IntArray
    y_type: IntArray
    x_unit: IntArray
    x_type: IntArray
    cost_c: FloatArray
    coverage_c: FloatArray
    shortfall_c: FloatArray
    targets: tuple[TargetRows, ...]
    capital_row: int
    annual_row: int
    coverage_row: int
    shortfall_row: int
    cover_rows: dict[int, IntArray] = field(default_factory=dict)
    z_var: IntArray = field(default_factory=lambda: np.zeros(0, np.int64))
    z_unit: IntArray = field(default_factory=lambda: np.zeros(0, np.int64))
    z_site: IntArray = field(default_factory=lambda: np.zeros(0, np.int64))
    z_type: IntArray = field(default_factory=lambda: np.zeros(0, np.int64))
    distance_c: FloatArray = field(default_factory=lambda: np.zeros(0))
    distance_row: int = -1
    schedule: Schedule | None = None   # phased models (`optimizer.model.years`): per-year variables
    # `min_radius`: each (unit, type) pair of the reach that the radius counts, as the unit's index
    # times the number of types plus the type (its covering group), the open variable, the distance
    radius_group: IntArray = field(default_factory=lambda: np.zeros(0, np.int64))
    radius_var: IntArray = field(default_factory=lambda: np.zeros(0, np.int64))
    radius_dist: FloatArray = field(default_factory=lambda: np.zeros(0))


class Builder:
    """Accumulates variable blocks and row blocks (each kept as CSR arrays), then stacks them once."""

    def __init__(self) -> None:
        self.lb: list[FloatArray] = []
        self.ub: list[FloatArray] = []
        self.kind: list[npt.NDArray[np.int8]] = []
        self.var_blocks: list[Block] = []
        self.n_vars = 0
        self.indptr: list[IntArray] = []
        self.indices: list[IntArray] = []
        self.data: list[FloatArray] = []
        self.row_lb: list[FloatArray] = []
        self.row_ub: list[FloatArray] = []
        self.row_blocks: list[Block] = []
        self.n_rows = 0

    def add_vars(self, name: str, lb: FloatArray, ub: FloatArray, kind: int | npt.NDArray[np.int8]) -> IntArray:
        n = len(lb)
        self.lb.append(np.asarray(lb, dtype=np.float64))
        self.ub.append(np.asarray(ub, dtype=np.float64))
        self.kind.append(np.broadcast_to(np.asarray(kind, dtype=np.int8), (n,)).copy())
        self.var_blocks.append(Block(name, self.n_vars, self.n_vars + n))
        self.n_vars += n
        return np.arange(self.n_vars - n, self.n_vars, dtype=np.int64)

    def add_rows(self, name: str, rows: IntArray, cols: IntArray, vals: FloatArray,
                 lb: FloatArray, ub: FloatArray) -> IntArray:
        """Rows numbered 0..len(lb)-1 locally, as COO triplets (duplicates summed); returns
        their global indices."""
        block = sp.coo_array((np.asarray(vals, dtype=np.float64), (np.asarray(rows, dtype=np.int64),
                              np.asarray(cols, dtype=np.int64))), shape=(len(lb), self.n_vars)).tocsr()
        block.sum_duplicates()
        return self.add_csr_rows(name, block.indptr, block.indices, block.data, lb, ub)

    def add_csr_rows(self, name: str, indptr: npt.NDArray[np.integer[Any]], indices: npt.NDArray[np.integer[Any]],
                     data: FloatArray, lb: FloatArray, ub: FloatArray) -> IntArray:
        """Rows given as CSR arrays over the variables so far (no duplicate columns in a row);
        returns their global indices."""
        n = len(lb)
        self.indptr.append(np.asarray(indptr, dtype=np.int64))
        self.indices.append(np.asarray(indices, dtype=np.int64))
        self.data.append(np.asarray(data, dtype=np.float64))
        self.row_lb.append(np.asarray(lb, dtype=np.float64))
        self.row_ub.append(np.asarray(ub, dtype=np.float64))
        self.row_blocks.append(Block(name, self.n_rows, self.n_rows + n))
        self.n_rows += n
        return np.arange(self.n_rows - n, self.n_rows, dtype=np.int64)

    def milp(self) -> Milp:
        # blocks are stacked by their CSR arrays: a COO -> CSR pass over the millions of
        # coverage-link entries of a large region would cost a sort
        ends = np.cumsum([0] + [p[-1] for p in self.indptr])
        indptr = np.concatenate([np.zeros(1, np.int64)] + [p[1:] + end for p, end in zip(self.indptr, ends)])
        A = sp.csr_array((cat_arrays(self.data), cat_arrays(self.indices).astype(np.int64, copy=False), indptr),
                         shape=(self.n_rows, self.n_vars))
        A.sum_duplicates()
        A.eliminate_zeros()
        return Milp(np.zeros(self.n_vars), 0.0, cat_arrays(self.lb), cat_arrays(self.ub),
                    np.concatenate(self.kind) if self.kind else np.zeros(0, np.int8), A,
                    cat_arrays(self.row_lb), cat_arrays(self.row_ub),
                    tuple(self.var_blocks), tuple(self.row_blocks))


def cat_arrays(parts: list[npt.NDArray[Any]]) -> npt.NDArray[Any]:
    return np.concatenate(parts) if parts else np.zeros(0)


def build_model(scenario: Scenario, region: Region, reach: Reach) -> PlanModel:
    """Compile a scenario, its region and its reach into a `PlanModel`."""
    b = Builder()
    y = _open_vars(b, region)
    disc = _colocation(b, scenario, region, y)
    z = _assignment(b, scenario, region, reach, y)
    x = _coverage_vars(b, scenario, region, reach, y, z)
    targets, cover_rows = _targets(b, scenario, region, reach, y, x, z)
    capital_row, annual_row = _budget_rows(b, scenario, region, y, disc)
    coverage_row = b.add_rows("C8 coverage level", np.zeros(len(x.var), np.int64), x.var,
                              x.objective_weight, np.array([-np.inf]), np.array([np.inf]))[0]
    penalty_var, penalty = penalties(targets)
    shortfall_row = b.add_rows("C9 shortfall level", np.zeros(len(penalty_var), np.int64), penalty_var,
                               penalty, np.array([-np.inf]), np.array([np.inf]))[0]
    distance_row = b.add_rows("C10 distance level", np.zeros(len(z.var), np.int64), z.var, z.weighted_distance,
                              np.array([-np.inf]), np.array([np.inf]))[0]
    milp = b.milp()
    distance_c = np.zeros(milp.n_vars)
    distance_c[z.var] = z.weighted_distance
    cost_c = np.zeros(milp.n_vars)
    cost_c[y.var] = y.capex_new + scenario.budget.horizon_years * y.annual
    cost_c[disc.var] = -disc.saving
    spec = scenario.min_distance
    if scenario.objective == "min_distance" and spec is not None and spec.yuan_per_unit is not None:
        cost_c += spec.yuan_per_unit * distance_c   # facility location: one money objective
    coverage_c = np.zeros(milp.n_vars)
    coverage_c[x.var] = -x.objective_weight
    shortfall_c = np.zeros(milp.n_vars)
    shortfall_c[penalty_var] = penalty
    return PlanModel(milp.with_objective(cost_c, 0.0), y.site, y.type, x.unit, x.type, cost_c,
                     coverage_c, shortfall_c, tuple(targets), capital_row, annual_row,
                     int(coverage_row), int(shortfall_row), cover_rows,
                     z.var, z.unit, z.site, z.type, distance_c, int(distance_row),
                     None, *_radius_pairs(scenario, region, reach, y))


def radius_types(scenario: Scenario, region: Region) -> npt.NDArray[np.bool_]:
    """``[t]``: type t's distance counts in the `min_radius` objective."""
    return _objective_types(scenario, region, "min_radius")


def _radius_pairs(scenario: Scenario, region: Region, reach: Reach,
                  y: _OpenVars) -> tuple[IntArray, IntArray, FloatArray]:
    """The reach pairs of `min_radius` types over the units each serves (radius_group, radius_var,
    radius_dist fields of `PlanModel`); none for other objectives."""
    n_types = len(region.type_names)
    parts = []
    for t in np.flatnonzero(radius_types(scenario, region)):
        R = reach.by_type[t]
        unit = np.repeat(np.arange(R.shape[0]), np.diff(R.indptr))
        keep = served_mask(scenario.facility_types[region.type_names[t]], region.demand.group)[unit]
        parts.append((unit[keep] * n_types + t, y.index[R.indices[keep], t], R.data[keep].astype(np.float64)))
    if not parts:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
    group, var, dist = (np.concatenate(p) for p in zip(*parts))
    return group.astype(np.int64), var.astype(np.int64), dist.astype(np.float64)


def penalties(targets: list[TargetRows]) -> tuple[IntArray, FloatArray]:
    """Elastic variables and their penalty weights p_k = round(1e6 / required) / 1e6.

    Relative to the requirement, at most 1 (solvers handle the level row better than with
    weights up to 1e6), and decimal, so CP-SAT can scale the level row to integers exactly.
    """
    variables, weights = [], []
    for rows in targets:
        live = rows.shortfall >= 0
        variables.append(rows.shortfall[live])
        weights.append(np.maximum(np.round(1e6 / np.maximum(rows.required[live], 1.0)), 1.0) / 1e6)
        live = rows.excess >= 0
        variables.append(rows.excess[live])
        weights.append(np.full(int(live.sum()), 1.0))
    if not variables:
        return np.zeros(0, np.int64), np.zeros(0)
    return np.concatenate(variables).astype(np.int64), np.concatenate(weights)


@dataclass(frozen=True)
class _OpenVars:
    var: IntArray
    site: IntArray
    type: IntArray
    index: IntArray          # [s, t] -> variable, -1 where type t cannot be at s
    capex_new: FloatArray    # capital cost if opened (0 for existing), after existing hosts
    annual: FloatArray
    land: FloatArray


def _open_vars(b: Builder, region: Region) -> _OpenVars:
    """y[s,t] for every site that may host or already hosts t."""
    sites = region.sites
    site, t = np.nonzero(sites.candidate)
    order = np.lexsort((site, t))          # type-major: one block of sites per type
    site, t = site[order], t[order]
    existing = sites.existing[site, t]
    var = b.add_vars("y", existing.astype(np.float64), np.ones(len(site)), INTEGER)
    index = np.full(sites.candidate.shape, -1, dtype=np.int64)
    index[site, t] = var
    return _OpenVars(var, site, t, index, np.zeros(len(site)), np.zeros(len(site)),
                     np.zeros(len(site)))


def _fill_costs(y: _OpenVars, scenario: Scenario, region: Region,
                base_factor: FloatArray) -> None:
    ftypes = [scenario.facility_types[n] for n in region.type_names]
    new = ~region.sites.existing[y.site, y.type]
    y.capex_new[:] = np.where(new, region.sites.capex_cny[y.site, y.type] * base_factor, 0.0)
    y.annual[:] = np.array([f.annual_cost for f in ftypes])[y.type]
    y.land[:] = np.array([f.land_m2 for f in ftypes])[y.type]


@dataclass(frozen=True)
class _Discounts:
    var: IntArray
    saving: FloatArray


def _colocation(b: Builder, scenario: Scenario, region: Region, y: _OpenVars) -> _Discounts:
    """(C1a, C1b): co-location factors; hosts already existing are folded into the cost."""
    names = region.type_names
    existing = region.sites.existing
    base = np.ones(len(y.var))
    options: list[tuple[IntArray, IntArray, FloatArray]] = []   # (y var of t, y var of h, factor)
    for t, name in enumerate(names):
        rows = y.type == t
        for host, host_factor in scenario.facility_types[name].colocate.items():
            h = names.index(host)
            s = y.site[rows]
            base[rows] = np.where(existing[s, h], np.minimum(base[rows], host_factor), base[rows])
            may = (y.index[s, h] >= 0) & ~existing[s, h] & ~existing[s, t]
            options.append((y.var[rows][may], y.index[s[may], h], np.full(may.sum(), host_factor)))
    _fill_costs(y, scenario, region, base)
    t_var, h_var, factor = (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0))
    if options:
        t_var, h_var, factor = (np.concatenate(part) for part in zip(*options))
    better = factor < base[t_var]
    t_var, h_var = t_var[better].astype(np.int64), h_var[better].astype(np.int64)
    saving = y.capex_new[t_var] * (1.0 - factor[better] / base[t_var])
    var = b.add_vars("d", np.zeros(len(t_var)), np.ones(len(t_var)), IMPLIED_INTEGER)
    n = len(var)
    b.add_rows("C1a host open", np.repeat(np.arange(n), 2), np.column_stack([var, h_var]).ravel(),
               np.tile([1.0, -1.0], n), np.full(n, -np.inf), np.zeros(n))
    owners, row_of = np.unique(t_var, return_inverse=True)
    m = len(owners)
    b.add_rows("C1b one factor", np.concatenate([row_of, np.arange(m)]),
               np.concatenate([var, owners]), np.concatenate([np.ones(n), -np.ones(m)]),
               np.full(m, -np.inf), np.zeros(m))
    return _Discounts(var, saving)


def capacitated_types(region: Region) -> npt.NDArray[np.bool_]:
    """``[t]``: some site gives type t a finite capacity."""
    return cast(npt.NDArray[np.bool_], ~np.isnan(region.sites.capacity).all(axis=0))


def distance_types(scenario: Scenario, region: Region) -> npt.NDArray[np.bool_]:
    """``[t]``: type t's distance counts in the `min_distance` objective."""
    return _objective_types(scenario, region, "min_distance")


def _objective_types(scenario: Scenario, region: Region, objective: str) -> npt.NDArray[np.bool_]:
    """``[t]``: the distance objective `objective` (its spec's `facilities`, default all) counts type t."""
    if scenario.objective != objective:
        return np.zeros(len(region.type_names), dtype=bool)
    spec = scenario.min_distance if objective == "min_distance" else scenario.min_radius
    chosen = spec.facilities if spec is not None and spec.facilities else region.type_names
    return np.isin(np.array(region.type_names, dtype=object), np.array(chosen, dtype=object))


def distance_weight(scenario: Scenario, region: Region) -> FloatArray:
    """w_i of `min_distance`: the chosen weight, else the first named weight, else 1."""
    name = scenario.min_distance.weight if scenario.min_distance is not None else None
    return objective_weight(region) if name is None else measure_of(name, region)


@dataclass(frozen=True)
class _Assign:
    var: IntArray
    unit: IntArray
    site: IntArray
    type: IntArray
    weighted_distance: FloatArray
    capacitated: npt.NDArray[np.bool_]      # [t]
    start: dict[int, int]                   # t -> first z variable (CSR order of reach[t])
    x_kind: npt.NDArray[np.int8]            # [t] kind of coverage variables x[., t]


def _assignment(b: Builder, scenario: Scenario, region: Region, reach: Reach, y: _OpenVars) -> _Assign:
    """z[i,s,t] on every reach pair of capacitated and distance types, with (C11-C13)."""
    names = region.type_names
    cap, dist = capacitated_types(region), distance_types(scenario, region)
    w = distance_weight(scenario, region)
    single = np.array([scenario.facility_types[n].single_source for n in names])
    x_kind = np.where(cap & ~single, CONTINUOUS, IMPLIED_INTEGER).astype(np.int8)
    parts, start = [], {}
    for t in np.flatnonzero(cap | dist):
        R = reach.by_type[t]
        unit = np.repeat(np.arange(R.shape[0]), np.diff(R.indptr))
        kind = INTEGER if cap[t] and single[t] else (CONTINUOUS if cap[t] else IMPLIED_INTEGER)
        var = b.add_vars(f"z {names[t]}", np.zeros(R.nnz), np.ones(R.nnz), kind)
        start[int(t)] = int(var[0]) if len(var) else 0
        weighted = w[unit] * R.data if dist[t] else np.zeros(R.nnz)
        parts.append((var, unit, R.indices.astype(np.int64), np.full(R.nnz, t, np.int64), weighted))
    empty = np.zeros(0, np.int64)
    var, unit, site, t_of, weighted = ((np.concatenate(p) for p in zip(*parts)) if parts
                                       else (empty, empty, empty, empty, np.zeros(0)))
    z = _Assign(var, unit, site, t_of, weighted, cap, start, x_kind)
    _assignment_rows(b, scenario, region, y, z, dist)
    return z


def _assignment_rows(b: Builder, scenario: Scenario, region: Region, y: _OpenVars, z: _Assign,
                     dist: npt.NDArray[np.bool_]) -> None:
    n, m = len(z.var), region.demand.n
    b.add_rows("C11 assign to open", np.repeat(np.arange(n), 2),
               np.column_stack([z.var, y.index[z.site, z.type]]).ravel(), np.tile([1.0, -1.0], n),
               np.full(n, -np.inf), np.zeros(n))
    w = distance_weight(scenario, region)
    must = np.zeros((len(region.type_names), m), dtype=bool)
    for t in np.flatnonzero(dist):
        ftype = scenario.facility_types[region.type_names[t]]
        must[t] = served_mask(ftype, region.demand.group) & (w > 0)
    key = z.type * m + z.unit
    keys = np.union1d(key, np.flatnonzero(must.ravel()))
    row = np.searchsorted(keys, key)
    b.add_rows("C12 assign once", row, z.var, np.ones(n), np.where(must.ravel()[keys], 1.0, -np.inf),
               np.ones(len(keys)))
    _capacity_rows(b, scenario, region, y, z)


def _capacity_rows(b: Builder, scenario: Scenario, region: Region, y: _OpenVars, z: _Assign) -> None:
    """(C13) sum_i q_i z[i,s,t] <= cap_s y[s,t] at every site with a finite capacity."""
    names = region.type_names
    q = np.zeros((len(names), region.demand.n))
    for t in np.flatnonzero(z.capacitated):
        ftype = scenario.facility_types[names[t]]
        base = np.ones(region.demand.n) if ftype.capacity_weight is None else \
            region.demand.weights[ftype.capacity_weight]
        q[t] = base * ftype.uptake
    capacity = region.sites.capacity[z.site, z.type]
    live = np.isfinite(capacity)
    key = z.type[live] * region.sites.n + z.site[live]
    keys, row = np.unique(key, return_inverse=True)
    t_row, s_row = keys // region.sites.n, keys % region.sites.n
    b.add_rows("C13 capacity", np.concatenate([row, np.arange(len(keys))]),
               np.concatenate([z.var[live], y.index[s_row, t_row]]),
               np.concatenate([q[z.type[live], z.unit[live]], -region.sites.capacity[s_row, t_row]]),
               np.full(len(keys), -np.inf), np.zeros(len(keys)))


@dataclass(frozen=True)
class _CoverVars:
    var: IntArray
    unit: IntArray
    type: IntArray
    objective_weight: FloatArray
    index: IntArray        # [i, t] -> x variable, -1 where none


def is_full_cover(target: CoverageTarget, elastic: bool) -> bool:
    """A 100% target without elasticity becomes one covering row per unit (C3a), no x."""
    return target.min_share >= 1.0 and not elastic


def coverage_scope(target: CoverageTarget, scenario: Scenario, region: Region) -> npt.NDArray[np.bool_]:
    """``[i]``: units the target's share is measured over."""
    scope = served_mask(scenario.facility_types[target.facility], region.demand.group)
    if target.group is not None:
        scope &= region.demand.group == target.group
    return scope


def measure_of(name: str, region: Region) -> FloatArray:
    """Per-unit measure: 1 for ``units``, else the named weight."""
    return np.ones(region.demand.n) if name == "units" else region.demand.weights[name]


def objective_weight(region: Region) -> FloatArray:
    """w_i of `max_coverage`: the first named weight, or 1 per unit when none is named."""
    weights = list(region.demand.weights.values())
    return weights[0] if weights else np.ones(region.demand.n)


def _coverage_vars(b: Builder, scenario: Scenario, region: Region, reach: Reach,
                   y: _OpenVars, z: _Assign) -> _CoverVars:
    """x[i,t] where a share target or the objective needs it, with (C2) / (C2') rows."""
    n, names = region.demand.n, region.type_names
    need = np.zeros((n, len(names)), dtype=bool)
    for target in scenario.targets:
        if isinstance(target, CoverageTarget) and not is_full_cover(target, scenario.elastic):
            scope = coverage_scope(target, scenario, region)
            need[:, names.index(target.facility)] |= scope & (measure_of(target.measure, region) > 0)
    w = objective_weight(region)
    if scenario.objective == "max_coverage":
        for t, name in enumerate(names):
            need[:, t] |= served_mask(scenario.facility_types[name], region.demand.group) & (w > 0)
    t_of, unit = np.nonzero(need.T)      # type-major: each type's rows are one run
    var = b.add_vars("x", np.zeros(len(unit)), np.ones(len(unit)), z.x_kind[t_of])
    index = np.full(need.shape, -1, dtype=np.int64)
    index[unit, t_of] = var
    indptr, cols, vals, entries = [np.zeros(1, np.int64)], [], [], 0
    for t in range(len(names)):
        local = np.flatnonzero(t_of == t)
        reach_ptr, reach_cols = _reach_rows(reach, t, unit[local], y, z)
        # each row: its covering columns (-1), then x[i,t] (+1)
        ptr = reach_ptr + np.arange(len(local) + 1)
        row_cols = np.empty(ptr[-1], dtype=np.int64)
        is_x = np.zeros(ptr[-1], dtype=bool)
        is_x[ptr[1:] - 1] = True
        row_cols[is_x] = var[local]
        row_cols[~is_x] = reach_cols
        indptr.append(ptr[1:] + entries)
        entries += int(ptr[-1])
        cols.append(row_cols)
        vals.append(np.where(is_x, 1.0, -1.0))
    b.add_csr_rows("C2 coverage link", np.concatenate(indptr), cat_arrays(cols), cat_arrays(vals),
                   np.full(len(var), -np.inf), np.zeros(len(var)))
    weight = w[unit] if scenario.objective == "max_coverage" else np.zeros(len(unit))
    return _CoverVars(var, unit, t_of.astype(np.int64), weight, index)


def _reach_rows(reach: Reach, t: int, units: IntArray, y: _OpenVars,
                z: _Assign) -> tuple[IntArray, IntArray]:
    """CSR (indptr, columns) of the reach of `units` for type t, one row per unit: the column
    covering each pair is z[i,s,t] for capacitated types (coverage is the assigned share), else
    y[s,t]. scipy's row selection gathers the pairs (much faster than a gather by `np.repeat`)."""
    R = reach.by_type[t]
    # the stored position of each pair travels as its value: z variables are numbered by it
    position = sp.csr_array((np.arange(R.nnz, dtype=np.int64), R.indices, R.indptr), shape=R.shape)
    picked = position[units] if len(units) else sp.csr_array((0, R.shape[1]), dtype=np.int64)
    indptr = np.asarray(picked.indptr, dtype=np.int64)
    if z.capacitated[t]:
        return indptr, z.start[t] + picked.data.astype(np.int64, copy=False)
    return indptr, y.index[picked.indices, t]


def _targets(b: Builder, scenario: Scenario, region: Region, reach: Reach, y: _OpenVars,
             x: _CoverVars, z: _Assign) -> tuple[list[TargetRows], dict[int, IntArray]]:
    out: list[TargetRows] = []
    cover_rows: dict[int, IntArray] = {}
    for k, target in enumerate(scenario.targets):
        if isinstance(target, CoverageTarget) and is_full_cover(target, scenario.elastic):
            cover_rows[k] = _full_cover_rows(b, k, target, scenario, region, reach, y, z)
            continue
        if isinstance(target, CoverageTarget):
            groups = _coverage_groups(target, scenario, region, x)
        elif isinstance(target, CountTarget):
            groups = _count_groups(target, region, y)
        else:
            assert isinstance(target, LandTarget)   # beds targets: the phased model
            groups = _land_groups(target, region, y)
        out.append(_target_rows(b, k, groups, scenario.elastic))
    return out, cover_rows


def _full_cover_rows(b: Builder, k: int, target: CoverageTarget, scenario: Scenario,
                     region: Region, reach: Reach, y: _OpenVars, z: _Assign) -> IntArray:
    """(C3a) one row per unit in scope with a positive measure: some site in reach is open
    (capacitated types: the unit is wholly assigned)."""
    t = region.type_names.index(target.facility)
    scope = coverage_scope(target, scenario, region) & (measure_of(target.measure, region) > 0)
    units = np.flatnonzero(scope)
    indptr, cols = _reach_rows(reach, t, units, y, z)
    b.add_csr_rows(f"C3a full coverage target {k}", indptr, cols, np.ones(len(cols)), np.ones(len(units)),
                   np.full(len(units), np.inf))
    return units


@dataclass(frozen=True)
class RowGroups:
    """Rows of one target before elastic variables: COO over local row ids."""

    family: str
    rows: IntArray
    cols: IntArray
    vals: FloatArray
    lb: FloatArray
    ub: FloatArray
    zones: tuple[str, ...]
    excess_ub: FloatArray


def _zone_rows(zone: npt.NDArray[np.object_], per_zone: bool) -> tuple[IntArray, tuple[str, ...]]:
    if not per_zone:
        return np.zeros(len(zone), dtype=np.int64), ("",)
    names, code = np.unique(zone.astype(str), return_inverse=True)
    return code.astype(np.int64), tuple(str(z) for z in names)


def _coverage_groups(target: CoverageTarget, scenario: Scenario, region: Region,
                     x: _CoverVars) -> RowGroups:
    """(C3) sum_i m_i x[i,t] >= share * M, per zone when asked."""
    t = region.type_names.index(target.facility)
    m = measure_of(target.measure, region)
    units = np.flatnonzero(coverage_scope(target, scenario, region))
    row, zones = _zone_rows(region.demand.zone[units], target.per_zone)
    total = cast(FloatArray, np.bincount(row, weights=m[units], minlength=len(zones)))   # stub: intp, always
    positive = m[units] > 0
    required = target.min_share * total
    return RowGroups("C3 coverage target", row[positive], x.index[units[positive], t],
                      m[units[positive]], required, np.full(len(zones), np.inf), zones,
                      np.zeros(len(zones)))


def _count_groups(target: CountTarget, region: Region, y: _OpenVars) -> RowGroups:
    """(C4) min <= number of open (new) facilities of the type <= max, per zone when asked."""
    t = region.type_names.index(target.facility)
    of_type = y.type == t
    if target.new_only:
        of_type &= ~region.sites.existing[y.site, y.type]
    if target.per_zone:
        zones = tuple(str(z) for z in np.unique(region.demand.zone.astype(str)))
        site_zone = region.sites.zone[y.site[of_type]].astype(str)
        row = pd.Index(zones).get_indexer(site_zone).astype(np.int64)   # -1: a zone without demand
    else:
        zones, row = ("",), np.zeros(int(of_type.sum()), dtype=np.int64)
    keep = row >= 0
    n = len(zones)
    lb = np.full(n, -np.inf if target.min is None else float(target.min))
    ub = np.full(n, np.inf if target.max is None else float(target.max))
    return RowGroups("C4 count target", row[keep], y.var[of_type][keep], np.ones(int(keep.sum())),
                      lb, ub, zones, np.bincount(row[keep], minlength=n).astype(np.float64))


def _land_groups(target: LandTarget, region: Region, y: _OpenVars) -> RowGroups:
    """(C5) sum land_t y[s,t] >= per_capita_m2 * total population."""
    required = float(land_need(target, region.demand.weights).sum())
    has_land = y.land > 0
    return RowGroups("C5 land target", np.zeros(int(has_land.sum()), dtype=np.int64),
                      y.var[has_land], y.land[has_land], np.array([required]),
                      np.array([np.inf]), ("",), np.zeros(1))


def _target_rows(b: Builder, k: int, g: RowGroups, elastic: bool) -> TargetRows:
    """Add one target's rows; round integral rows up; add shortfall/excess when elastic."""
    integral = bool(np.all(g.vals == np.round(g.vals)))
    lb = np.ceil(g.lb - 1e-9 * np.maximum(1.0, np.abs(g.lb))) if integral else g.lb.copy()
    return add_target_rows(b, k, g, lb, integral=integral, elastic=elastic, terms_non_negative=True)


def add_target_rows(b: Builder, k: int, g: RowGroups, lb: FloatArray, *, integral: bool, elastic: bool,
                    terms_non_negative: bool) -> TargetRows:
    """Add one target's rows `g` with lower sides `lb` (already rounded or made strict), and when
    `elastic` a shortfall variable per row with a minimum and an excess one per row with a maximum.

    `terms_non_negative`: the rows' left sides are never negative (coverage, counts, land), so a
    row falls at most `lb` short and one with `lb <= 0` needs no shortfall; otherwise (bed rows,
    whose actions remove beds) every finite minimum gets an unbounded shortfall and the target
    requires at least 0.
    """
    n = len(g.lb)
    rows, cols, vals = [g.rows], [g.cols], [g.vals]
    shortfall = np.full(n, -1, dtype=np.int64)
    excess = np.full(n, -1, dtype=np.int64)
    if elastic:
        kind = IMPLIED_INTEGER if integral else CONTINUOUS
        if terms_non_negative:
            has_min = np.flatnonzero(np.isfinite(lb) & (lb > 0))
            shortfall_ub = lb[has_min]
        else:
            has_min = np.flatnonzero(np.isfinite(lb))
            shortfall_ub = np.full(len(has_min), np.inf)
        shortfall[has_min] = b.add_vars(f"sf target {k}", np.zeros(len(has_min)), shortfall_ub, kind)
        has_max = np.flatnonzero(np.isfinite(g.ub))
        excess[has_max] = b.add_vars(f"ex target {k}", np.zeros(len(has_max)),
                                     np.maximum(g.excess_ub[has_max], 1.0), kind)
        rows += [has_min, has_max]
        cols += [shortfall[has_min], excess[has_max]]
        vals += [np.ones(len(has_min)), -np.ones(len(has_max))]
    global_rows = b.add_rows(f"{g.family} {k}", np.concatenate(rows), np.concatenate(cols),
                             np.concatenate(vals), lb, g.ub)
    required = lb if terms_non_negative else np.maximum(lb, 0.0)
    return TargetRows(k, global_rows, g.zones, required, shortfall, excess)


def _budget_rows(b: Builder, scenario: Scenario, region: Region, y: _OpenVars,
                 disc: _Discounts) -> tuple[int, int]:
    """(C6) capital and (C7) annual budget rows; always present so a sweep can set them."""
    cap = scenario.budget.capital
    capital = b.add_rows("C6 capital budget", np.zeros(len(y.var) + len(disc.var), np.int64),
                         np.concatenate([y.var, disc.var]),
                         np.concatenate([y.capex_new, -disc.saving]), np.array([-np.inf]),
                         np.array([np.inf if cap is None else cap]))
    ann = scenario.budget.annual
    annual = b.add_rows("C7 annual budget", np.zeros(len(y.var), np.int64), y.var, y.annual,
                        np.array([-np.inf]), np.array([np.inf if ann is None else ann]))
    return int(capital[0]), int(annual[0])
