"""Bounds: proven lower bounds on a `Milp`, and site rankings from the same duals.

Every bound is the Lagrangian dual evaluated exactly (`subgradient`), at multipliers found by
covering dual ascent (`dual_ascent`, `dual_adjust`), block re-solves (`blocks`) or the LP
relaxation (`lp_relaxation`); the search ranks sites by their reduced costs and LP values.

Flow: model → **bounds** (beside solvers and search) → check and report: the gap a plan carries.
"""
