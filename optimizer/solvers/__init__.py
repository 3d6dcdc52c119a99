"""Solvers: one backend interface over the MIP solvers HiGHS, CP-SAT and PuLP.

`base` defines `Backend`, `SolveOptions`, `SolveResult`, the statuses and the capabilities;
`highs`, `cpsat` and `pulp` each map their solver's native statuses through an explicit table;
`registry` finds a solver by name and runs it in a worker process where its native library
clashes with one already loaded.

Flow: model → **solvers** (beside search and bounds) → check: a solution vector to decode and check.
"""
