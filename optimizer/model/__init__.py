"""Model: the scenario, its region and its reach compiled into one sparse MILP of arrays.

`build` stacks the variable blocks and the labelled row families (C1-C13) into a `Milp`
(`milp`: the plain arrays every backend receives); `reduce` tightens it by exact reductions
before any solve. `parts`, `components`, `adjacency` and `subsets` give the structure the search
and the bounds read: independent parts, local rows, row inclusions.

Flow: reach → **model** → solvers / search / bounds, which solve and bound the `Milp`.
"""
