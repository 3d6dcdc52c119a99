"""The phased model: a block per planning year, beds, and the sharper targets (zone, strict, year).

Scenarios that use an extension of SCENARIO_FORMAT.md ("Extensions") are compiled here; the rest
by `optimizer.model.build`, whose meaning this model keeps for one planning year.
Variables: y[j,p] (pair j = (s,t) open in period p), d[o,p] (co-location option o taken by a
facility opened in p), b[s,a,p] (`optimizer.model.beds`), x[i,t,p] (coverage in p), sf/ex (elastic).
Rows (labels cited by the checker):
    (Y1)  y[j,p-1] - y[j,p] <= 0                            once open, open for good
    (C1a) d[o,p] - y[h(o),p] <= 0                           host open in the guest's opening year
    (C1b) sum_{o of j} d[o,p] - y[j,p] + y[j,p-1] <= 0      one factor, only in the opening year
    (C2)  x[i,t,p] - sum_{s in N_t(i)} y[(s,t),p] <= 0
    (C3a/C3/C4/C5/BT) targets in their year and every later planning year (last year when undated),
          per zone or in named zones, with that year's grown weights; strict: more than
    (C6)  capital over all years <= budget.capital;  (C6y) capital of year p <= capital_by_year
    (C7)  annual cost of the last year (the largest: nothing closes) <= budget.annual
Capital of year p = sum_j c_j (y[j,p] - y[j,p-1]) - sum_o saving_o d[o,p] + sum c_a b[s,a,p]; annual
cost of a facility opened in p is paid for op_p = max(0, H - (year_p - year_0)) years, H =
`horizon_years`, so y[j,p] carries a_j (op_p - op_{p+1}) in the total cost.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from optimizer.errors import Problem, ScenarioError, raise_if
from optimizer.inputs.geodata import Region, grown_weights, land_need
from optimizer.model.beds import BedVars, OpenPairs, bed_terms, bed_vars
from optimizer.model.build import (
    Builder,
    PlanModel,
    RowGroups,
    TargetRows,
    add_target_rows,
    coverage_scope,
    is_full_cover,
    penalties,
)
from optimizer.model.milp import IMPLIED_INTEGER, INTEGER
from optimizer.model.schedule import Schedule
from optimizer.reach.base import Reach, served_mask
from optimizer.scenario.fields import BedsTarget, CountTarget, CoverageTarget, LandTarget
from optimizer.scenario.format import Scenario

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class _Pairs:
    y: OpenPairs
    capex: FloatArray        # capital if opened (existing: 0), after existing hosts' factors
    annual: FloatArray
    land: FloatArray


@dataclass(frozen=True)
class _Discounts:
    var: IntArray            # [p * n_options + o]
    saving: FloatArray       # [o]
    n: int


@dataclass(frozen=True)
class _Cover:
    start: int
    unit: IntArray
    type: IntArray
    index: IntArray          # [i, t] -> option k, -1 where none; x[k,p] = start + p * n + k

    def var(self, k: IntArray, p: int) -> IntArray:
        return (self.start + p * len(self.unit) + k).astype(np.int64)


def build_phased_model(scenario: Scenario, region: Region, reach: Reach) -> PlanModel:
    """Compile a scenario using years, beds or sharper targets into a `PlanModel` (with a `Schedule`)."""
    raise_if(_unsupported(scenario), ScenarioError)
    years = tuple(scenario.planning_years)
    b = Builder()
    pairs = _open_pairs(b, scenario, region, len(years))
    disc = _colocation(b, scenario, region, pairs)
    beds = bed_vars(b, scenario, region, pairs.y)
    cover = _cover_vars(b, scenario, region, reach, pairs.y)
    weights = [grown_weights(scenario, region.demand, year) for year in years]
    ctx = _Context(scenario, region, reach, pairs, cover, beds, weights)
    targets = [t for k, target in enumerate(scenario.targets) if (t := _target(b, ctx, k, target)) is not None]
    capital_row, year_rows, annual_row = _budget_rows(b, ctx, disc)
    objective_w = _objective_weights(ctx)
    coverage_row = b.add_rows("C8 coverage level", np.zeros(len(objective_w[0]), np.int64), objective_w[0],
                              objective_w[1], np.array([-np.inf]), np.array([np.inf]))[0]
    penalty_var, penalty = penalties(targets)
    shortfall_row = b.add_rows("C9 shortfall level", np.zeros(len(penalty_var), np.int64), penalty_var,
                               penalty, np.array([-np.inf]), np.array([np.inf]))[0]
    milp = b.milp()
    cost_c = _cost(milp.n_vars, ctx, disc)
    coverage_c = np.zeros(milp.n_vars)
    np.add.at(coverage_c, objective_w[0], -objective_w[1])
    shortfall_c = np.zeros(milp.n_vars)
    shortfall_c[penalty_var] = penalty
    y = pairs.y
    schedule = Schedule(years, y.site, y.type, y.start, beds.var, beds.site, beds.action, beds.period,
                        beds.names, year_rows)
    return PlanModel(milp.with_objective(cost_c, 0.0), y.site, y.type, np.tile(cover.unit, len(years)),
                     np.tile(cover.type, len(years)), cost_c, coverage_c, shortfall_c, tuple(targets),
                     capital_row, annual_row, int(coverage_row), int(shortfall_row), {},
                     distance_c=np.zeros(milp.n_vars), schedule=schedule)


def _unsupported(scenario: Scenario) -> list[Problem]:
    problems = [Problem(f"facility_types.{name}.capacity", "capacities are not planned together with years, "
                        "beds or sharper targets yet; drop `capacity` or those fields")
                for name, f in scenario.facility_types.items() if f.capacity is not None]
    if scenario.sites.capacity:
        problems.append(Problem("sites.capacity", "capacities are not planned together with years, beds or "
                                "sharper targets yet"))
    if scenario.objective == "min_distance":
        problems.append(Problem("objective", "`min_distance` is not planned together with years, beds or "
                                "sharper targets yet"))
    return problems


@dataclass(frozen=True)
class _Context:
    scenario: Scenario
    region: Region
    reach: Reach
    pairs: _Pairs
    cover: _Cover
    beds: BedVars
    weights: list[dict[str, FloatArray]]

    @property
    def periods(self) -> int:
        return len(self.weights)


def _open_pairs(b: Builder, scenario: Scenario, region: Region, periods: int) -> _Pairs:
    """y[j,p] for every pair that may be open, with (Y1)."""
    sites = region.sites
    site, t = np.nonzero(sites.candidate)
    order = np.lexsort((site, t))
    site, t = site[order].astype(np.int64), t[order].astype(np.int64)
    existing = sites.existing[site, t]
    n = len(site)
    var = b.add_vars("yp", np.tile(existing.astype(np.float64), periods), np.ones(n * periods), INTEGER)
    index = np.full(sites.candidate.shape, -1, dtype=np.int64)
    index[site, t] = np.arange(n)
    y = OpenPairs(site, t, existing, index, int(var[0]) if n else b.n_vars, periods)
    new = np.flatnonzero(~existing)
    for p in range(1, periods):
        m = len(new)
        b.add_rows("Y1 stays open", np.repeat(np.arange(m), 2),
                   np.column_stack([y.var(new, p - 1), y.var(new, p)]).ravel(), np.tile([1.0, -1.0], m),
                   np.full(m, -np.inf), np.zeros(m))
    ftypes = [scenario.facility_types[name] for name in region.type_names]
    annual = np.array([f.annual_cost for f in ftypes])[t]
    return _Pairs(y, np.where(existing, 0.0, sites.capex_cny[site, t]), annual, sites.land_m2[site, t])


def _colocation(b: Builder, scenario: Scenario, region: Region, pairs: _Pairs) -> _Discounts:
    """(C1a, C1b) per period; hosts that already exist are folded into the capital cost."""
    y, names, existing = pairs.y, region.type_names, region.sites.existing
    base = np.ones(y.n)
    options = []
    for t, name in enumerate(names):
        rows = np.flatnonzero(y.type == t)
        s = y.site[rows]
        for host_name, host_factor in scenario.facility_types[name].colocate.items():
            h = names.index(host_name)
            base[rows] = np.where(existing[s, h], np.minimum(base[rows], host_factor), base[rows])
            may = (y.index[s, h] >= 0) & ~existing[s, h] & ~y.existing[rows]
            options.append((rows[may], y.index[s[may], h], np.full(int(may.sum()), host_factor)))
    pairs.capex[:] = pairs.capex * base
    guest = np.concatenate([o[0] for o in options]).astype(np.int64) if options else np.zeros(0, np.int64)
    host = np.concatenate([o[1] for o in options]).astype(np.int64) if options else np.zeros(0, np.int64)
    factor = np.concatenate([o[2] for o in options]) if options else np.zeros(0)
    better = factor < base[guest]
    guest, host = guest[better], host[better]
    saving = pairs.capex[guest] * (1.0 - factor[better] / base[guest])
    n = len(guest)
    var = b.add_vars("dp", np.zeros(n * y.periods), np.ones(n * y.periods), IMPLIED_INTEGER)
    owners, owner_row = np.unique(guest, return_inverse=True)
    for p in range(y.periods):
        d = var[p * n:(p + 1) * n]
        b.add_rows("C1a host open", np.repeat(np.arange(n), 2), np.column_stack([d, y.var(host, p)]).ravel(),
                   np.tile([1.0, -1.0], n), np.full(n, -np.inf), np.zeros(n))
        m = len(owners)
        row_parts = [owner_row, np.arange(m)] + ([np.arange(m)] if p else [])
        col_parts = [d, y.var(owners, p)] + ([y.var(owners, p - 1)] if p else [])
        val_parts = [np.ones(n), -np.ones(m)] + ([np.ones(m)] if p else [])
        b.add_rows("C1b one factor", np.concatenate(row_parts), np.concatenate(col_parts), np.concatenate(val_parts),
                   np.full(m, -np.inf), np.zeros(m))
    return _Discounts(var, saving, n)


def _cover_vars(b: Builder, scenario: Scenario, region: Region, reach: Reach, y: OpenPairs) -> _Cover:
    """x[i,t,p] where a share target or the objective needs it, with (C2) per period."""
    names = region.type_names
    need = np.zeros((region.demand.n, len(names)), dtype=bool)
    for target in scenario.targets:
        if isinstance(target, CoverageTarget) and not _full(target, scenario):
            need[:, names.index(target.facility)] |= coverage_scope(target, scenario, region)
    if scenario.objective == "max_coverage":
        for t, name in enumerate(names):
            need[:, t] |= served_mask(scenario.facility_types[name], region.demand.group)
    t_of, unit = np.nonzero(need.T)
    t_of, unit = t_of.astype(np.int64), unit.astype(np.int64)
    n = len(unit)
    var = b.add_vars("xp", np.zeros(n * y.periods), np.ones(n * y.periods), IMPLIED_INTEGER)
    index = np.full(need.shape, -1, dtype=np.int64)
    index[unit, t_of] = np.arange(n)
    cover = _Cover(int(var[0]) if n else b.n_vars, unit, t_of, index)
    for p in range(y.periods):
        rows, cols = _reach_pairs(reach, y, unit, t_of, p)
        b.add_rows("C2 coverage link", np.concatenate([np.arange(n), rows]),
                   np.concatenate([cover.var(np.arange(n), p), cols]),
                   np.concatenate([np.ones(n), -np.ones(len(rows))]), np.full(n, -np.inf), np.zeros(n))
    return cover


def _reach_pairs(reach: Reach, y: OpenPairs, unit: IntArray, t_of: IntArray, p: int) -> tuple[IntArray, IntArray]:
    """(row, y column) of every reach pair of rows (unit[r], t_of[r]) in period p."""
    rows, cols = [], []
    for t in np.unique(t_of):
        local = np.flatnonzero(t_of == t)
        picked = reach.by_type[int(t)][unit[local]]
        row = np.repeat(local, np.diff(picked.indptr))
        j = y.index[picked.indices, t]
        rows.append(row[j >= 0])
        cols.append(y.var(j[j >= 0], p))
    empty = np.zeros(0, np.int64)
    return (np.concatenate(rows).astype(np.int64) if rows else empty,
            np.concatenate(cols).astype(np.int64) if cols else empty)


def _full(target: CoverageTarget, scenario: Scenario) -> bool:
    return is_full_cover(target, scenario.elastic) and not target.strict


def target_periods(target: CoverageTarget | CountTarget | LandTarget | BedsTarget, years: list[int]) -> list[int]:
    """Periods a target holds in: its year and every later one; the last year when undated."""
    if target.year is None:
        return [len(years) - 1]
    return [p for p, year in enumerate(years) if year >= target.year]


def zone_codes(target: CoverageTarget | CountTarget | LandTarget | BedsTarget, zone_of: npt.NDArray[np.object_],
               demand_zones: list[str]) -> tuple[IntArray, tuple[str, ...]]:
    """Row of each item (by its zone; -1: outside the target) and the rows' zone names ("" = region)."""
    if target.per_zone:
        names = tuple(demand_zones)
    elif target.zone or target.zones:
        names = tuple([target.zone] if target.zone else list(target.zones or []))
    else:
        return np.zeros(len(zone_of), dtype=np.int64), ("",)
    return pd.Index(names).get_indexer(pd.Index(zone_of.astype(str))).astype(np.int64), names


def _target(b: Builder, ctx: _Context, k: int, target: CoverageTarget | CountTarget | LandTarget | BedsTarget
            ) -> TargetRows | None:
    years = ctx.scenario.planning_years
    groups = []
    for p in target_periods(target, years):
        if isinstance(target, CoverageTarget) and _full(target, ctx.scenario):
            _full_cover_rows(b, ctx, k, target, p)
            continue
        g = (_coverage_group(ctx, target, p) if isinstance(target, CoverageTarget)
             else _count_group(ctx, target, p) if isinstance(target, CountTarget)
             else _land_group(ctx, target, p) if isinstance(target, LandTarget)
             else _beds_group(ctx, target, p))
        label = f"{years[p]}" if ctx.scenario.years else ""
        groups.append(RowGroups(g.family, g.rows, g.cols, g.vals, g.lb, g.ub,
                                tuple(f"{label} {z}".strip() for z in g.zones), g.excess_ub))
    if not groups:
        return None
    return _target_rows(b, k, _stack(groups), elastic=ctx.scenario.elastic, strict=target.strict)


def _stack(groups: list[RowGroups]) -> RowGroups:
    offsets = np.cumsum([0] + [len(g.lb) for g in groups])
    return RowGroups(groups[0].family, np.concatenate([g.rows + o for g, o in zip(groups, offsets)]),
                     np.concatenate([g.cols for g in groups]), np.concatenate([g.vals for g in groups]),
                     np.concatenate([g.lb for g in groups]), np.concatenate([g.ub for g in groups]),
                     tuple(z for g in groups for z in g.zones), np.concatenate([g.excess_ub for g in groups]))


def _measure(ctx: _Context, name: str, p: int) -> FloatArray:
    return np.ones(ctx.region.demand.n) if name == "units" else ctx.weights[p][name]


def _demand_zones(ctx: _Context) -> list[str]:
    return sorted(set(ctx.region.demand.zone.astype(str)))


def _full_cover_rows(b: Builder, ctx: _Context, k: int, target: CoverageTarget, p: int) -> None:
    """(C3a) every unit in scope (and in the target's zones) has an open facility in reach."""
    region = ctx.region
    code, _ = zone_codes(target, region.demand.zone, _demand_zones(ctx))
    units = np.flatnonzero(coverage_scope(target, ctx.scenario, region) & (_measure(ctx, target.measure, p) > 0)
                           & (code >= 0))
    t = region.type_names.index(target.facility)
    rows, cols = _reach_pairs(ctx.reach, ctx.pairs.y, units, np.full(len(units), t, np.int64), p)
    b.add_rows(f"C3a full coverage target {k}", rows, cols, np.ones(len(rows)), np.ones(len(units)),
               np.full(len(units), np.inf))


def _coverage_group(ctx: _Context, target: CoverageTarget, p: int) -> RowGroups:
    """(C3) sum_i m_i x[i,t,p] >= share * M (per zone / in named zones)."""
    region = ctx.region
    t = region.type_names.index(target.facility)
    m = _measure(ctx, target.measure, p)
    units = np.flatnonzero(coverage_scope(target, ctx.scenario, region))
    zones = sorted(set(region.demand.zone[units].astype(str))) if target.per_zone else _demand_zones(ctx)
    code, names = zone_codes(target, region.demand.zone[units], zones)
    inside = code >= 0
    units, code = units[inside], code[inside]
    total = np.bincount(code, weights=m[units], minlength=len(names)).astype(np.float64)
    positive = m[units] > 0
    cols = ctx.cover.var(ctx.cover.index[units[positive], t], p)
    return RowGroups("C3 coverage target", code[positive], cols, m[units[positive]], target.min_share * total,
                     np.full(len(names), np.inf), names, np.zeros(len(names)))


def _count_group(ctx: _Context, target: CountTarget, p: int) -> RowGroups:
    """(C4) min <= open (new) facilities of the type in period p <= max."""
    y = ctx.pairs.y
    j = np.flatnonzero((y.type == ctx.region.type_names.index(target.facility))
                       & (~y.existing if target.new_only else True) & ~_excluded(ctx, target))
    code, names = zone_codes(target, ctx.region.sites.zone[y.site[j]], _demand_zones(ctx))
    keep = code >= 0
    n = len(names)
    lb = np.full(n, -np.inf if target.min is None else float(target.min))
    ub = np.full(n, np.inf if target.max is None else float(target.max))
    return RowGroups("C4 count target", code[keep], y.var(j[keep], p), np.ones(int(keep.sum())), lb, ub, names,
                     np.bincount(code[keep], minlength=n).astype(np.float64))


def _excluded(ctx: _Context, target: CountTarget) -> npt.NDArray[np.bool_]:
    """Per pair: in the scope of a count target `target.exclude` names (its type, its zones, new
    where it is `new_only`), so not counted by `target`."""
    y = ctx.pairs.y
    out = np.zeros(y.n, dtype=bool)
    for other in ctx.scenario.targets:
        if isinstance(other, CountTarget) and other is not target and other.label in (target.exclude or []):
            code, _ = zone_codes(other, ctx.region.sites.zone[y.site], _demand_zones(ctx))
            out |= ((y.type == ctx.region.type_names.index(other.facility)) & (code >= 0)
                    & (~y.existing if other.new_only else True))
    return out


def _land_group(ctx: _Context, target: LandTarget, p: int) -> RowGroups:
    """(C5) sum land y[j,p] over sites in the zone >= the land its units ask for."""
    y, region = ctx.pairs.y, ctx.region
    zones = _demand_zones(ctx)
    unit_code, names = zone_codes(target, region.demand.zone, zones)
    need = land_need(target, ctx.weights[p])
    inside = unit_code >= 0
    required = np.bincount(unit_code[inside], weights=need[inside], minlength=len(names)).astype(np.float64)
    j = np.flatnonzero(ctx.pairs.land > 0)
    code, _ = zone_codes(target, region.sites.zone[y.site[j]], zones)
    keep = code >= 0
    return RowGroups("C5 land target", code[keep], y.var(j[keep], p), ctx.pairs.land[j[keep]], required,
                     np.full(len(names), np.inf), names, np.zeros(len(names)))


def _beds_group(ctx: _Context, target: BedsTarget, p: int) -> RowGroups:
    """(BT) sum_{k in bed} beds >= min, or sum_{k in bed} beds - share sum_{k in of} beds >= 0."""
    beds = ctx.beds
    coef = np.array([float(kind in target.kinds) for kind in beds.kinds])
    if target.min_share is not None:
        coef -= target.min_share * np.array([float(kind in (target.of or [])) for kind in beds.kinds])
    site_row, names = zone_codes(target, ctx.region.sites.zone, _demand_zones(ctx))
    rows, cols, vals, const = bed_terms(ctx.pairs.y, beds, coef, site_row, p)
    need = float(target.min) if target.min is not None else 0.0
    return RowGroups("BT beds target", rows, cols, vals, need - const, np.full(len(names), np.inf), names,
                     np.zeros(len(names)))


def _target_rows(b: Builder, k: int, g: RowGroups, *, elastic: bool, strict: bool) -> TargetRows:
    """One target's rows: integral rows rounded up (strict: floor + 1), others a hair above when strict;
    shortfall and excess variables when elastic (bed rows may have negative terms: `add_target_rows`)."""
    integral = bool(np.all(g.vals == np.round(g.vals)))
    scale = 1e-9 * np.maximum(1.0, np.abs(g.lb))
    if strict:
        lb = np.floor(g.lb + scale) + 1.0 if integral else g.lb + 1e3 * scale
    else:
        lb = np.ceil(g.lb - scale) if integral else g.lb.copy()
    return add_target_rows(b, k, g, lb, integral=integral, elastic=elastic, terms_non_negative=False)


def _op_years(ctx: _Context) -> FloatArray:
    """op_p: years of operation counted for what opens in period p."""
    years = ctx.scenario.planning_years
    horizon = ctx.scenario.budget.horizon_years
    return np.maximum(0.0, horizon - (np.array(years, dtype=np.float64) - years[0]))


def _capital_terms(ctx: _Context, disc: _Discounts, p: int) -> tuple[IntArray, FloatArray]:
    """Columns and coefficients of the capital spent in period p."""
    pairs, y, beds = ctx.pairs, ctx.pairs.y, ctx.beds
    new = np.flatnonzero(~y.existing)
    cols = [y.var(new, p), disc.var[p * disc.n:(p + 1) * disc.n]]
    vals = [pairs.capex[new], -disc.saving]
    if p:
        cols.append(y.var(new, p - 1))
        vals.append(-pairs.capex[new])
    at = beds.period == p
    cols.append(beds.var[at])
    vals.append(beds.capital[beds.action[at]])
    return np.concatenate(cols).astype(np.int64), np.concatenate(vals)


def _budget_rows(b: Builder, ctx: _Context, disc: _Discounts) -> tuple[int, IntArray, int]:
    """(C6) total capital, (C6y) capital per year, (C7) annual cost of the last year."""
    budget, periods = ctx.scenario.budget, ctx.periods
    parts = [_capital_terms(ctx, disc, p) for p in range(periods)]
    cols, vals = np.concatenate([c for c, _ in parts]), np.concatenate([v for _, v in parts])
    cap = np.inf if budget.capital is None else budget.capital
    capital = b.add_rows("C6 capital budget", np.zeros(len(cols), np.int64), cols, vals, np.array([-np.inf]),
                         np.array([cap]))[0]
    by_year = budget.capital_by_year or {}
    years = ctx.scenario.planning_years
    year_rows = np.array([b.add_rows(f"C6y capital budget {years[p]}", np.zeros(len(c), np.int64), c, v,
                                     np.array([-np.inf]), np.array([by_year.get(str(years[p]), np.inf)]))[0]
                          for p, (c, v) in enumerate(parts)], dtype=np.int64) if ctx.scenario.years \
        else np.zeros(0, np.int64)
    y, beds = ctx.pairs.y, ctx.beds
    ann = np.inf if budget.annual is None else budget.annual
    annual = b.add_rows("C7 annual budget", np.zeros(y.n + len(beds.var), np.int64),
                        np.concatenate([y.var(np.arange(y.n), periods - 1), beds.var]),
                        np.concatenate([ctx.pairs.annual, beds.annual[beds.action]]),
                        np.array([-np.inf]), np.array([ann]))[0]
    return int(capital), year_rows, int(annual)


def _cost(n_vars: int, ctx: _Context, disc: _Discounts) -> FloatArray:
    """Total cost: capital once, annual for every year operated."""
    y, pairs, beds = ctx.pairs.y, ctx.pairs, ctx.beds
    op = _op_years(ctx)
    step = op - np.append(op[1:], 0.0)
    c = np.zeros(n_vars)
    j = np.arange(y.n)
    last = ctx.periods - 1
    c[y.var(j, last)] += pairs.capex
    for p in range(ctx.periods):
        c[y.var(j, p)] += pairs.annual * step[p]
    for p in range(ctx.periods):
        c[disc.var[p * disc.n:(p + 1) * disc.n]] -= disc.saving
    c[beds.var] += beds.capital[beds.action] + beds.annual[beds.action] * op[beds.period]
    return c


def _objective_weights(ctx: _Context) -> tuple[IntArray, FloatArray]:
    """(columns, weights) of max_coverage: sum over years of that year's weighted coverage."""
    if ctx.scenario.objective != "max_coverage":
        return np.zeros(0, np.int64), np.zeros(0)
    cover = ctx.cover
    first = next(iter(ctx.scenario.demand.weights), None)
    cols, vals = [], []
    for p in range(ctx.periods):
        w = ctx.weights[p][first] if first is not None else np.ones(ctx.region.demand.n)
        cols.append(cover.var(np.arange(len(cover.unit)), p))
        vals.append(w[cover.unit])
    return np.concatenate(cols), np.concatenate(vals)
