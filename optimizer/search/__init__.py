"""Search: large models planned through the solvers, with heuristics and exact sub-MIPs.

`phases` runs a model through a backend in lexicographic phases and decodes the open
facilities; `backends` names every backend, solvers and strategies alike. The `lagrangian`
strategy and the polish after a branch-and-bound run (`polish`) share one search: the greedy
plan (`greedy`, compiled loops in `greedy_kernels`), core MIPs (`core`), window re-solves
(`windows`) and row weighting for pure set covering (`row_weighting`); `decompose` solves
independent parts one by one.

Flow: model → **search** (beside solvers and bounds) → check.
"""
