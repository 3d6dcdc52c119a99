"""Check: every figure of a plan recomputed from the data, without the model.

`plan` checks the open facilities (costs, coverage, targets, budgets) with its own distance
code, `walking` with its own shortest paths on a road network, `assignments` the capacities and
distances of assigned demand; `explain` finds why targets cannot be met, before any solve.

Flow: solvers / search / bounds → **check** → report / export: only checked figures go out.
"""
