"""Exact reductions of a `PlanModel`, applied before any solver runs.

The reduced model keeps every variable and row index of the original, so that decoders, the
checker, `explain` and the sweep read it the same way; it is only tightened: variables fixed by
their bounds, redundant rows made free (-inf, inf), a merged representative's coefficients summed.
Each reduction keeps the optimum of every phase (shortfall, coverage, distance, cost, and the
capital objective of the sweep's least-budget solve) and at least one optimal plan.

1. Merged units. For a type t without assignment variables (not capacitated, not a
   `min_distance` type), units of one group and zone with the same reach N_t(i) share one coverage
   variable: the representative (lowest index) x[i,t] carries the members' coefficients in every
   row (C3, C8) and in the objectives; the members' x are fixed to 0 and their (C2) rows freed.
   x only ever appears in (C2) and in >= rows and objectives that reward it, so an optimum with
   x[i,t] = x[j,t] = min(1, sum of y in reach) exists: merging loses nothing.
2. Dominated covering rows. A (C3a) row sum_{s in N_t(i)} y[s,t] >= 1 whose open sites include
   those of another (C3a) row of type t is implied by it and freed; of identical rows the lowest
   index stays. So is a row that a site fixed open already satisfies.
3. Dominated sites. y[j,t] is fixed to 0 when some site k (open or not) lies in every live (C2)
   and (C3a) row of type t that j lies in, and costs no more capital, annual or total cost: any
   plan opening j stays feasible and no dearer with k instead. Only for types whose y appears in
   nothing else: no capacities or assignments, no co-location (host or guest), no minimum or
   per-zone count, no land target. Ties (same rows, same costs): the lowest index stays.
4. Singleton rows. A (C3a) row with one site left forces that site open (lb = 1).

2-4 repeat until nothing changes (at most `TUNING.reduce_max_passes` passes). Set algebra is sparse: identical
rows by hashing their sorted index rows (then compared exactly), inclusion by overlap counts
B @ B.T computed in row chunks of bounded size.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any, cast

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from optimizer.inputs.geodata import Region
from optimizer.model.build import PlanModel, capacitated_types, distance_types
from optimizer.model.milp import concat_ranges
from optimizer.model.subsets import subset_pairs
from optimizer.reach.base import Reach
from optimizer.scenario.fields import CountTarget, CoverageTarget, LandTarget
from optimizer.scenario.format import Scenario
from optimizer.tuning import TUNING

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

_KINDS = ("units_merged", "rows_dropped", "rows_satisfied", "sites_dropped", "sites_forced")
_SITE_ROWS = {"C2", "C3a", "C4", "C6", "C7"}


@dataclass(frozen=True)
class Reductions:
    """What `reduce_model` did, per kind and facility type.

    Attributes
    ----------
    units_merged : dict
        Type -> coverage variables x[i,t] merged into a representative (fixed to 0, (C2) freed).
    rows_dropped : dict
        Type -> (C3a) rows freed as duplicates or supersets of another row.
    rows_satisfied : dict
        Type -> (C3a) rows freed because a site in reach is fixed open (existing or forced).
    sites_dropped, sites_forced : dict
        Type -> y[s,t] fixed to 0 (dominated) and to 1 (the only site of a (C3a) row).
    sizes : dict
        Type -> ``{"coverage_vars", "cover_rows", "open_vars"}`` of the model before reduction.
    passes : int
        Passes of reductions 2-4.
    seconds : float
    notes : tuple of str
        Reductions skipped, and why.
    """

    units_merged: dict[str, int]
    rows_dropped: dict[str, int]
    rows_satisfied: dict[str, int]
    sites_dropped: dict[str, int]
    sites_forced: dict[str, int]
    sizes: dict[str, dict[str, int]]
    passes: int
    seconds: float
    notes: tuple[str, ...] = ()

    def total(self, kind: str) -> int:
        """Sum over types of one kind, e.g. ``total("sites_dropped")``."""
        return int(sum(getattr(self, kind).values()))

    def as_dict(self) -> dict[str, Any]:
        """The plan.json ``reductions`` section."""
        return {"applied": True, "seconds": round(self.seconds, 3), "passes": self.passes,
                "totals": {kind: self.total(kind) for kind in _KINDS},
                **{kind: dict(getattr(self, kind)) for kind in _KINDS},
                "sizes": self.sizes, "notes": list(self.notes)}


@dataclass
class _State:
    """The bounds being tightened, and the tallies."""

    lb: FloatArray
    ub: FloatArray
    row_lb: FloatArray
    row_ub: FloatArray
    labels: IntArray                     # [r]: row family, an index into `families`
    families: tuple[str, ...]            # "C2", "C3a", ...
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def add(self, kind: str, name: str, n: int) -> None:
        self.counts.setdefault(kind, {})[name] = self.counts.get(kind, {}).get(name, 0) + int(n)

    def free(self, rows: IntArray) -> None:
        self.row_lb[rows], self.row_ub[rows] = -np.inf, np.inf


@dataclass(frozen=True)
class _TypeRows:
    """Type t's covering structure: (C3a) and live (C2) rows over its y columns (binary CSR)."""

    name: str
    ycols: IntArray          # y variables of type t
    cover_rows: IntArray     # (C3a) rows of type t
    cover: sp.csr_array      # cover_rows x ycols
    link_rows: IntArray      # (C2) rows of x[., t]
    link: sp.csr_array       # link_rows x ycols
    sites_ok: bool           # reduction 3 applies


def reduce_model(pm: PlanModel, scenario: Scenario, region: Region,
                 reach: Reach) -> tuple[PlanModel, Reductions]:
    """`pm` tightened by the exact reductions of the module docstring, and what they did."""
    began = time.perf_counter()
    milp = pm.milp
    state = _State(milp.lb.copy(), milp.ub.copy(), milp.row_lb.copy(), milp.row_ub.copy(), *_row_labels(pm))
    col_map = _merge_units(pm, scenario, region, reach, state)
    types = [_type_rows(pm, scenario, region, t, state) for t in range(len(region.type_names))]
    costs = _site_costs(pm)
    passes = 0
    while passes < TUNING.reduce_max_passes:
        passes += 1
        changed = [_one_pass(rows, costs, state) for rows in types if rows is not None]
        if not any(changed):
            break
    reduced = _apply(pm, col_map, state)
    sizes = _sizes(pm, types, region)
    counts = {kind: {name: state.counts.get(kind, {}).get(name, 0) for name in region.type_names}
              for kind in _KINDS}
    return reduced, Reductions(**counts, sizes=sizes, passes=passes,
                               seconds=time.perf_counter() - began, notes=tuple(state.notes))


def _apply(pm: PlanModel, col_map: IntArray, state: _State) -> PlanModel:
    """The model with merged columns summed into their representatives and the new bounds."""
    milp = pm.milp
    A = milp.A
    if (col_map != np.arange(milp.n_vars)).any():
        coo = A.tocoo()
        A = sp.csr_array((coo.data, (coo.row, col_map[coo.col])), shape=A.shape)
        A.sum_duplicates()
        A.eliminate_zeros()
    merged = {name: _merge_objective(getattr(pm, name), col_map)
              for name in ("cost_c", "coverage_c", "shortfall_c", "distance_c")}
    new = replace(milp, A=A, lb=state.lb, ub=state.ub, row_lb=state.row_lb, row_ub=state.row_ub,
                  c=_merge_objective(milp.c, col_map))
    return replace(pm, milp=new, **merged)  # type: ignore[arg-type]  # mypy matches **merged against every field


def _merge_objective(c: FloatArray, col_map: IntArray) -> FloatArray:
    if len(c) != len(col_map):
        return c
    return np.bincount(col_map, weights=c, minlength=len(c)).astype(np.float64)


# ---------------------------------------------------------------- 1. merged units


def _row_labels(pm: PlanModel) -> tuple[IntArray, tuple[str, ...]]:
    """``[r]``: the family of row r as an index into the families (``"C2"``, ``"C3a"``, ...;
    ``"None"`` for a row outside every block)."""
    families = (*dict.fromkeys(block.name.split()[0] for block in pm.milp.row_blocks), "None")
    labels = np.full(pm.milp.n_rows, len(families) - 1, dtype=np.int64)
    for block in pm.milp.row_blocks:
        labels[block.start:block.stop] = families.index(block.name.split()[0])
    return labels, families


def _labels_touched(pm: PlanModel, state: _State, cols: IntArray) -> set[str]:
    """Row families in which any of the variables `cols` has a coefficient."""
    if len(cols) == 0:
        return set()
    rows = pm.milp.A[:, cols].tocoo().row
    seen = np.zeros(len(state.families), dtype=bool)
    seen[state.labels[rows]] = True
    return {state.families[k] for k in np.flatnonzero(seen)}


def _link_rows(pm: PlanModel, xs: IntArray) -> IntArray:
    """(C2) row of each x variable (local x index `xs`): row k of the block links x variable k."""
    block = pm.milp.row_block("C2 coverage link")
    return (block.start + xs).astype(np.int64)


def _merge_units(pm: PlanModel, scenario: Scenario, region: Region, reach: Reach,
                 state: _State) -> IntArray:
    """Reduction 1; returns the column map (member x -> representative x, else identity)."""
    col_map = np.arange(pm.milp.n_vars, dtype=np.int64)
    if len(pm.x_unit) == 0:
        return col_map
    no_z = ~capacitated_types(region) & ~distance_types(scenario, region)
    x0 = pm.milp.var_block("x").start
    group = np.unique(region.demand.group.astype(str), return_inverse=True)[1]
    zone = np.unique(region.demand.zone.astype(str), return_inverse=True)[1]
    for t, name in enumerate(region.type_names):
        xs = np.flatnonzero(pm.x_type == t)
        if len(xs) == 0:
            continue
        if not no_z[t]:
            state.notes.append(f"assignment variables on '{name}' (capacity or min_distance): "
                               "no unit merging")
            continue
        touched = _labels_touched(pm, state, x0 + xs)
        if not touched <= {"C2", "C3", "C8"}:
            state.notes.append(f"coverage of '{name}' appears in {sorted(touched)}: no unit merging")
            continue
        units = pm.x_unit[xs]
        rep = _identical_rows(_binary(reach.by_type[t][units]), group[units], zone[units])
        members = np.flatnonzero(rep != np.arange(len(xs)))
        col_map[x0 + xs[members]] = x0 + xs[rep[members]]
        state.lb[x0 + xs[members]] = state.ub[x0 + xs[members]] = 0.0
        state.free(_link_rows(pm, xs[members]))
        state.add("units_merged", name, len(members))
    return col_map


# ---------------------------------------------------------------- set algebra


def _binary(M: sp.csr_array | sp.csc_array) -> sp.csr_array:
    """A 0/1 CSR copy of `M`'s pattern with sorted indices (explicit zeros count as entries)."""
    M = sp.csr_array(M)
    out = sp.csr_array((np.ones(len(M.indices)), M.indices.copy(), M.indptr.copy()), shape=M.shape)
    out.sort_indices()
    return out


def _identical_rows(B: sp.csr_array, *keys: IntArray) -> IntArray:
    """``[r]``: the lowest-index row with the same index set as row r (and the same `keys`)."""
    n = B.shape[0]
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    rng = np.random.default_rng(20240808)
    nnz = np.diff(B.indptr).astype(np.int64)
    hashes = [_row_hash(B, rng.integers(1, 2**63, B.shape[1], dtype=np.uint64)) for _ in range(2)]
    table = np.column_stack([nnz.astype(np.uint64), *hashes, *(k.astype(np.uint64) for k in keys)])
    _, first, inverse = np.unique(table, axis=0, return_index=True, return_inverse=True)
    rep = first[inverse.ravel()].astype(np.int64)
    differs = _rows_differ(B, np.arange(n), rep)   # a hash collision: keep the row apart
    rep[differs] = np.flatnonzero(differs)
    return rep


def _row_hash(B: sp.csr_array, salt: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    """Sum of the salts of each row's columns, modulo 2^64."""
    with np.errstate(over="ignore"):
        cum = np.concatenate([np.zeros(1, np.uint64), np.cumsum(salt[B.indices], dtype=np.uint64)])
        return cast(npt.NDArray[np.uint64], cum[B.indptr[1:]] - cum[B.indptr[:-1]])


def _rows_differ(B: sp.csr_array, a: IntArray, b: IntArray) -> BoolArray:
    """``[k]``: rows a[k] and b[k] (same number of entries) hold different columns."""
    counts = np.diff(B.indptr)[a].astype(np.int64)
    pa = concat_ranges(B.indptr[a].astype(np.int64), counts)
    pb = concat_ranges(B.indptr[b].astype(np.int64), counts)
    owner = np.repeat(np.arange(len(a)), counts)
    differs = np.zeros(len(a), dtype=bool)
    differs[owner[B.indices[pa] != B.indices[pb]]] = True
    return differs


def _subset_pairs(B: sp.csr_array) -> Iterator[tuple[IntArray, IntArray]]:
    """Pairs (a, b), a != b, where row a's non-empty column set lies inside row b's
    (`optimizer.model.subsets`: each row against the rows through its rarest column)."""
    yield subset_pairs(B)


# ---------------------------------------------------------------- 2-4. rows and sites


def _type_rows(pm: PlanModel, scenario: Scenario, region: Region, t: int,
               state: _State) -> _TypeRows | None:
    """Type t's rows for reductions 2-4, or None when neither applies (with a note why)."""
    name = region.type_names[t]
    ycols = (pm.milp.var_block("y").start + np.flatnonzero(pm.y_type == t)).astype(np.int64)
    cover_rows = _cover_rows(pm, scenario, name)
    if capacitated_types(region)[t]:
        if len(cover_rows):
            state.notes.append(f"capacities on '{name}': no row dominance, no site dominance")
        return None
    if len(ycols) == 0:
        return None
    A = pm.milp.A
    good = _unit_rows(pm, cover_rows, ycols)
    cover_rows = cover_rows[good]
    xs = np.flatnonzero(pm.x_type == t)
    link_rows = _link_rows(pm, xs)
    sites_ok = _sites_ok(pm, scenario, region, t, ycols, state)
    if len(cover_rows) == 0 and not sites_ok:
        return None
    return _TypeRows(name, ycols, cover_rows, _binary(A[cover_rows][:, ycols]), link_rows,
                     _binary(A[link_rows][:, ycols]), sites_ok)


def _cover_rows(pm: PlanModel, scenario: Scenario, name: str) -> IntArray:
    """(C3a) rows of every 100% target on type `name`."""
    parts = [np.arange(b.start, b.stop) for b in pm.milp.row_blocks
             if b.name.startswith("C3a ")   # a C3a row block belongs to a coverage target
             and cast(CoverageTarget, scenario.targets[int(b.name.split()[-1])]).facility == name]
    return np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, np.int64)


def _unit_rows(pm: PlanModel, rows: IntArray, ycols: IntArray) -> BoolArray:
    """``[k]``: row k is ``sum y >= 1`` over type-t y columns with unit coefficients only."""
    if len(rows) == 0:
        return np.zeros(0, dtype=bool)
    sub = pm.milp.A[rows]
    inside = np.isin(sub.indices, ycols) & (sub.data == 1.0)
    bad = np.zeros(len(rows), dtype=bool)
    bad[np.repeat(np.arange(len(rows)), np.diff(sub.indptr))[~inside]] = True
    return cast(BoolArray, ~bad & (pm.milp.row_lb[rows] == 1.0) & np.isinf(pm.milp.row_ub[rows]))


def _sites_ok(pm: PlanModel, scenario: Scenario, region: Region, t: int, ycols: IntArray,
              state: _State) -> bool:
    """Whether reduction 3 applies to type t; a note says why not."""
    name = region.type_names[t]
    why = _site_blockers(scenario, region, t)
    touched = _labels_touched(pm, state, ycols) - _SITE_ROWS
    if touched:
        why.append(f"its sites appear in rows {sorted(touched)}")
    costs = pm.milp.A[[pm.capital_row, pm.annual_row]][:, ycols].toarray()
    if (costs < 0).any() or (pm.cost_c[ycols] < 0).any():
        why.append("negative costs")
    if why:
        state.notes.append(f"no site dominance on '{name}': " + ", ".join(why))
    return not why


def _site_blockers(scenario: Scenario, region: Region, t: int) -> list[str]:
    name = region.type_names[t]
    why = []
    if distance_types(scenario, region)[t]:
        why.append("min_distance assignments")
    guest = bool(scenario.facility_types[name].colocate)
    host = any(name in f.colocate for f in scenario.facility_types.values())
    if guest or host:
        why.append("co-location " + ("guest" if guest else "host"))
    for target in scenario.targets:
        if isinstance(target, CountTarget) and target.facility == name and (
                target.per_zone or (target.min is not None and target.min > 0)):
            why.append("a per-zone or minimum count target")
        if isinstance(target, LandTarget) and scenario.facility_types[name].land_m2:
            why.append("a land target")
    return sorted(set(why))


@dataclass(frozen=True)
class _Costs:
    capital: FloatArray    # per variable (0 outside y)
    annual: FloatArray
    total: FloatArray


def _site_costs(pm: PlanModel) -> _Costs:
    rows = pm.milp.A[[pm.capital_row, pm.annual_row]].toarray()
    return _Costs(rows[0], rows[1], pm.cost_c)


def _one_pass(rows: _TypeRows, costs: _Costs, state: _State) -> bool:
    """Reductions 2, 4 and 3 once on one type; whether anything changed."""
    changed = _drop_rows(rows, state)
    changed |= _force_singletons(rows, state)
    if rows.sites_ok:
        changed |= _drop_sites(rows, costs, state)
    return changed


def _live(rows: _TypeRows, state: _State, matrix: sp.csr_array, row_ids: IntArray) -> tuple[IntArray, sp.csr_array]:
    """Rows still constraining and their entries on sites not fixed closed."""
    active = np.flatnonzero(np.isfinite(state.row_lb[row_ids]) | np.isfinite(state.row_ub[row_ids]))
    alive = (state.ub[rows.ycols] > 0).astype(np.float64)
    sub = sp.csr_array(matrix[active] @ sp.diags_array(alive))
    sub.eliminate_zeros()
    return active, sub


def _drop_rows(rows: _TypeRows, state: _State) -> bool:
    """Reduction 2: free (C3a) rows already satisfied, duplicated or implied by another."""
    active, B = _live(rows, state, rows.cover, rows.cover_rows)
    if len(active) == 0:
        return False
    opened = (state.lb[rows.ycols] >= 1).astype(np.float64)
    satisfied = (B @ opened) > 0
    state.free(rows.cover_rows[active[satisfied]])
    state.add("rows_satisfied", rows.name, int(satisfied.sum()))
    keep = np.flatnonzero(~satisfied & (np.diff(B.indptr) > 0))   # empty rows: infeasible, left alone
    B = B[keep]
    rep = _identical_rows(B)
    dropped = rep != np.arange(len(keep))
    unique = np.flatnonzero(~dropped)
    for _, b in _subset_pairs(B[unique]):
        dropped[unique[b]] = True
    state.free(rows.cover_rows[active[keep[dropped]]])
    state.add("rows_dropped", rows.name, int(dropped.sum()))
    return bool(satisfied.any() or dropped.any())


def _force_singletons(rows: _TypeRows, state: _State) -> bool:
    """Reduction 4: a (C3a) row with one site left opens it."""
    _, B = _live(rows, state, rows.cover, rows.cover_rows)
    single = np.diff(B.indptr) == 1
    cols = rows.ycols[np.unique(B.indices[B.indptr[:-1][single]])]
    cols = cols[state.lb[cols] < 1]
    state.lb[cols] = 1.0
    state.add("sites_forced", rows.name, len(cols))
    return len(cols) > 0


def _drop_sites(rows: _TypeRows, costs: _Costs, state: _State) -> bool:
    """Reduction 3: close y[j,t] when a site k in all of j's live rows costs no more."""
    _, cover = _live(rows, state, rows.cover, rows.cover_rows)
    _, link = _live(rows, state, rows.link, rows.link_rows)
    P = _binary(sp.vstack([cover, link]).T)          # sites x live rows
    cols = rows.ycols
    free = (state.ub[cols] > 0) & (state.lb[cols] < 1)
    alone = free & (np.diff(P.indptr) == 0)          # in no live row: costs only
    dominated = alone.copy()
    for j, k in _subset_pairs(P):
        keep = free[j] & (state.ub[cols[k]] > 0) & _dominates(cols[k], cols[j], costs, np.diff(P.indptr), k, j)
        dominated[j[keep]] = True
    state.ub[cols[dominated]] = 0.0
    state.add("sites_dropped", rows.name, int(dominated.sum()))
    return bool(dominated.any())


def _dominates(vk: IntArray, vj: IntArray, costs: _Costs, degree: IntArray, k: IntArray,
               j: IntArray) -> BoolArray:
    """Site k (variable vk) may replace j (vj): no dearer; ties broken by the lower index."""
    cheaper = [c[vk] <= c[vj] for c in (costs.capital, costs.annual, costs.total)]
    strictly = [c[vk] < c[vj] for c in (costs.capital, costs.annual, costs.total)]
    tie_ok = (degree[k] > degree[j]) | np.logical_or.reduce(strictly) | (k < j)
    return cast(BoolArray, np.logical_and.reduce(cheaper) & tie_ok)


def _sizes(pm: PlanModel, types: list[_TypeRows | None], region: Region) -> dict[str, dict[str, int]]:
    out = {}
    for t, name in enumerate(region.type_names):
        rows = types[t]
        out[name] = {"coverage_vars": int((pm.x_type == t).sum()),
                     "cover_rows": 0 if rows is None else len(rows.cover_rows),
                     "open_vars": int((pm.y_type == t).sum())}
    return out
