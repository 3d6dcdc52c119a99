"""Reach: which sites can serve which demand units, per facility type, as sparse matrices.

`build` makes a `Reach` (`base`: one CSR demand x site matrix of distances per type) from
straight lines (`radius_join`, a grid join), a distance table, or walking distance on a road
network (`network` reads and snaps it, `walking` searches it, `cache` keeps the result on
disk). No dense distance matrix is ever built.

Flow: inputs → **reach** → model: coverage and assignment variables exist on reach pairs only.
"""
